/* Internal to the jobs module, shared by the imports and exports: the job an
 * import runs as, how an import's or an export's job ends, and what DSpace's
 * installItem adds to an item that becomes archived (also used by item approve). */
#ifndef BR_JOBS_INSTALL_H
#define BR_JOBS_INSTALL_H

#include "bulkrepo/import.h"
#include "bulkrepo/job.h"
#include "bulkrepo/record.h"

/* Starts the job an import runs as and sets fresh->id to it: the engine's
 * (opt->job_id), else with -R (not -v) the job of type `type` that wrote
 * mapfile, else *fresh, created.  *prior gets the job whose journal says what
 * is already stored (a resumed run's), or 0. */
int br_import_job_begin(br_repo *repo, const br_import_options *opt, const char *type,
                        const char *mapfile, br_job *fresh, int64_t *prior, br_error *err);

/* Ends it with the status rc gives: cancelled -> aborted by user; BR_EINVAL
 * after some record was stored -> completed with errors; other errors ->
 * failed, with err's message; success -> completed, or "no bulks" when the
 * input was empty. */
void br_import_job_end(br_repo *repo, int64_t job_id, int rc, int stored, int empty,
                       const br_error *err);

/* Ends an export's job: on success (rc 0) completed, or "no bulks" when n is 0,
 * with `summary` as its message; cancelled -> aborted by user; other errors ->
 * failed with *e's message and failure class.  Failing to record the outcome is
 * returned (and put in *e) only when the export itself succeeded, so it never
 * hides the export's own error.  Returns the export's final code. */
int br_export_job_end(br_repo *repo, int64_t job_id, int rc, size_t n, const char *summary,
                      int then_finalize, br_error *e);

/* Adds dc.date.accessioned and dc.date.available (now) and
 * dc.description.provenance "Submitted by EPERSON (VIA) on NOW. Made available
 * in the repository on NOW.", each unless rec already has that field (an
 * exported package keeps its dates and provenance on a round trip).
 * Returns 0 or BR_ENOMEM. */
int br_install_values(br_record *rec, const char *eperson, const char *via);

#endif
