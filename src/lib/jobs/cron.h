/* Cron-like schedules of import profiles (profile.h): five fields, minute hour day-of-month
 * month day-of-week, each "*", a number, a range "a-b", a step "*\/s" or "a-b/s" or "a/s"
 * (from a to the field's end), or a comma-separated list of those.  Day-of-week 0-7, 0 and 7
 * both Sunday.  As in Vixie cron, when both day-of-month and day-of-week are restricted (not
 * "*"), a day matches when either does.  Times are UTC.  Internal to the library. */
#ifndef BR_JOBS_CRON_H
#define BR_JOBS_CRON_H

#include <stdint.h>
#include "bulkrepo/error.h"

#define BR_CRON_MAX 127 /* bytes of a schedule */

typedef struct br_cron {
    uint64_t minute;        /* bit m: minute m (0-59) */
    uint32_t hour;          /* bit h (0-23) */
    uint32_t dom;           /* bit d (1-31) */
    uint32_t month;         /* bit m (1-12) */
    uint32_t dow;           /* bit d (0-6, Sunday 0) */
    int dom_star, dow_star; /* the field was "*" (or "*\/1") */
} br_cron;

/* Parses s.  BR_EUSAGE with a message naming the field and the position (1-based byte
 * offset in s, also err->place.column): "schedule: hour (field 2) at position 5: 24 is out of
 * range 0-23". */
int br_cron_parse(const char *s, br_cron *out, br_error *err);
/* The first whole minute strictly after `after` (Unix time, UTC) that the schedule matches.
 * BR_ENOTFOUND when none comes within 8 years (e.g. "0 0 30 2 *": February 30). */
int br_cron_next(const br_cron *c, int64_t after, int64_t *next);

#endif
