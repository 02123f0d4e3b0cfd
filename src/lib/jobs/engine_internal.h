/* Internal to the job engine (engine.c, inbox.c, unimported.c): not public API. */
#ifndef BR_ENGINE_INTERNAL_H
#define BR_ENGINE_INTERNAL_H

#include <jansson.h>
#include "bulkrepo/engine.h"

enum { BR_STOP_USER = 1, BR_STOP_ENGINE = 2 };

/* One job being run by a worker. */
typedef struct br_run {
    br_engine *eng; /* NULL when run outside an engine */
    br_repo *repo;  /* the worker's connection */
    br_job job;     /* as claimed */
    json_t *params;
    int resume;
    int validate_only;
    int stop; /* BR_STOP_* once the progress callback asked to stop */
    int64_t records;
    char phase[16];
    double phase_start, last_write, last_check;
    size_t phase_done0, last_done, last_total;
} br_run;

/* What a rerun or a drop-folder pickup adds to a submit. */
typedef struct br_job_submit_extra {
    int64_t rerun_of;
    int resume;
    const char *profile; /* import profile name, or NULL */
    const char *input;   /* shown as the job's input when there are no files, or NULL */
    int64_t parent_job;  /* the fetch job that queued this load job (pull.c), or 0 */
} br_job_submit_extra;

int br_job_submit_ext(br_repo *repo, const br_job_spec *spec, const br_job_submit_extra *x,
                      int64_t *id, br_error *err);
/* Records an event and passes it to the engine's on_event (eng may be NULL). */
int br_engine_event(br_engine *eng, br_repo *repo, int64_t job_id, const char *severity,
                    const char *module, const char *creator, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
int br_engine_stopping(br_engine *eng);
/* Waits up to ms or until woken; returns 1 when the engine is stopping. */
int br_engine_sleep(br_engine *eng, unsigned ms);
/* The same, not woken by br_engine_wake: the inbox's interval between two
 * scans is what tells a finished upload from a growing one. */
int br_engine_sleep_stop_only(br_engine *eng, unsigned ms);
const br_engine_options *br_engine_opts(const br_engine *eng);
const char *br_engine_dir(const br_engine *eng);
/* The name this engine claims jobs in (leases, jobs/lease.c). */
const char *br_engine_worker(const br_engine *eng);
/* 1 when one of this engine's workers runs job id now (or may be claiming it). */
int br_engine_runs(br_engine *eng, int64_t id);
/* Recovers job id, which this engine just took over from worker (dead): requeued to resume
 * or run again, or failed "interrupted", as at start-up after a crash. */
int br_engine_recover_job(br_engine *eng, br_repo *repo, int64_t id, const char *worker);

/* ---- leases (lease.c) ---- */
unsigned br_engine_lease_seconds(const br_engine *eng);
/* "HOST:PID" into out: 0, or -1 when it does not fit. */
int br_worker_default_name(char *out, size_t size);
/* Takes over and recovers the unfinished jobs whose worker died (heartbeat older than the
 * lease, or a process of this host that is gone); *taken (may be NULL) counts them. */
int br_lease_round(br_engine *eng, br_repo *repo, size_t *taken, br_error *err);
/* The lease thread: heartbeats this engine's jobs and runs br_lease_round every quarter
 * lease until the engine stops. */
void *br_lease_main(void *eng);
/* Runs a job this connection claimed (INITIALIZING) to its end. */
int br_engine_run_claimed(br_engine *eng, br_repo *repo, const br_job *claimed);
/* 1 when the type's journal lines are input records (its unimported download). */
int br_engine_type_has_records(const char *type);

/* Drop folders (inbox.c). */
void *br_inbox_main(void *eng);
/* Moves a finished profile job's file from processing/ to done/ or failed/. */
void br_inbox_finish(br_engine *eng, br_repo *repo, const br_job *job);
/* Moves src to INBOX/dir/name, or INBOX/dir/name.<id> when that is taken (a drop folder's
 * done/ and failed/).  0 or BR_EIO (the file stays where it was). */
int br_inbox_move(const char *src, const char *inbox, const char *dir, const char *name,
                  int64_t id);
/* Start-up: finishes or returns files left in processing/ by a dead process. */
int br_inbox_recover(br_repo *repo, br_error *err);
/* Queues the load job of a profile's file already claimed into INBOX/processing/ (path),
 * named as seed 004's "Metadata Import: <profile> (FTP)"; parent_job: the fetch job, or 0. */
struct br_profile;
int br_inbox_submit_load(br_engine *eng, br_repo *repo, const struct br_profile *p,
                         const char *path, const char *name, int64_t parent_job, int64_t *id,
                         br_error *err);

/* Pulling profiles (pull.c): the fetch job's runner; start-up recovery of fetched files
 * whose load job was not queued; the schedule, on the inbox thread's tick. */
int br_pull_run(br_run *r, br_error *err);
int br_pull_recover(br_engine *eng, br_repo *repo, const char *profile, br_error *err);
void br_pull_schedule(br_engine *eng, br_repo *repo, int64_t now);

#endif
