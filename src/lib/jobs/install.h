/* Internal to the jobs module: what DSpace's installItem adds to an item that
 * becomes archived (shared by the SAF and Esploro imports and item approve). */
#ifndef BR_JOBS_INSTALL_H
#define BR_JOBS_INSTALL_H

#include "bulkrepo/record.h"

/* Adds dc.date.accessioned and dc.date.available (now) and
 * dc.description.provenance "Submitted by EPERSON (VIA) on NOW. Made available
 * in the repository on NOW.", each unless rec already has that field (an
 * exported package keeps its dates and provenance on a round trip).
 * Returns 0 or BR_ENOMEM. */
int br_install_values(br_record *rec, const char *eperson, const char *via);

#endif
