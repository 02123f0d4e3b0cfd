/* Internal to the job engine: the delivery step of an export job and the job-end mail
 * (deliver.c, notify.c; the public side is bulkrepo/delivery.h). */
#ifndef BR_JOBS_DELIVER_H
#define BR_JOBS_DELIVER_H

#include "bulkrepo/delivery.h"
#include "bulkrepo/engine.h"
#include "bulkrepo/job.h"

/* br_job_deliver with the engine's events (eng may be NULL): called by run_export once the
 * export ended.  While it delivers, the job is Finalizing; then it gets its final status
 * back, or Completed with Errors when the delivery failed. */
int br_deliver_run(br_engine *eng, br_repo *repo, int64_t id, br_error *err);

/* br_job_notify_end with the engine's events (eng may be NULL): the engine calls it for every
 * job that ended (next to the webhook). */
int br_notify_run(br_engine *eng, br_repo *repo, int64_t id, int force, br_error *err);

#endif
