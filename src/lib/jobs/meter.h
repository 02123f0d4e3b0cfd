/* Internal to the jobs module: a job's progress, recorded by the job itself
 * (an import or an export), so that a job run inline from the CLI leaves the
 * same report as one run by a worker (issue 15).
 *
 * A job goes through named phases, each with its own done/total and a share of
 * the bar (PHASES in meter.c); the bar reads 100 % only when the job ended
 * successfully; the rate and the time left come from the current phase. */
#ifndef BR_JOBS_METER_H
#define BR_JOBS_METER_H

#include <stddef.h>
#include <stdint.h>
#include "bulkrepo/job.h"

/* The phases, in order. */
#define BR_PHASE_UNPACKING     "unpacking"
#define BR_PHASE_VALIDATING    "validating"
#define BR_PHASE_WRITING       "writing"
#define BR_PHASE_RELATIONSHIPS "relationships"
#define BR_PHASE_FINALIZING    "finalizing"
#define BR_PHASE_EXPORTING     "exporting"

typedef struct br_job_meter {
    br_repo *repo;
    int64_t job_id;
    int whole; /* the phase in hand fills the whole bar (a validation run, an export) */
    char phase[16];
    double phase_start, last_write;
    size_t phase_done0, done, total;
    char records_phase[16]; /* the last phase that counted records (validating, writing, ...) */
    size_t records_total;   /* and its total */
    double records_start;   /* and when it began */
} br_job_meter;

void br_meter_init(br_job_meter *m, br_repo *repo, int64_t job_id, int whole);
/* Records where the job stands: at every change of phase and at most twice a
 * second otherwise.  Failures to record are not the job's failures: ignored. */
void br_meter_update(br_job_meter *m, const char *phase, size_t done, size_t total);
/* At the end: a completed job reads 100 % in the last phase that counted
 * records, done = total; any other stays where it stood, with its phase. */
void br_meter_end(br_job_meter *m, int completed);

#endif
