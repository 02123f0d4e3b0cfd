/* bulkrepo — the job engine (issue 4, section 1) and drop-folder ingest (section 4).
 *
 *   submit -> PENDING row in the store (the queue) -> a worker claims it ->
 *   runner of its type (import-saf, validate-saf, delete-saf, export-saf,
 *   import-esploro, export-esploro) -> terminal status, completion event, webhook
 *
 * The queue is the job table itself: a job survives the process that submitted
 * it.  Each worker thread opens its own br_repo (one SQLite connection per
 * thread, WAL, busy timeout) and claims a job with one UPDATE ... WHERE
 * status = 'PENDING' inside an immediate transaction, so two workers never run
 * the same job.  Any process may submit (the CLI with --submit, the HTTP
 * server); the engine runs in the process that called br_engine_start.
 *
 * Statuses and labels are seed 004's (job.h).  Cancel stops at a record
 * boundary (the import's progress callback is the boundary): the batch in
 * flight is committed, the job ends USER_ABORTED, its journal is consistent and
 * br_job_resume completes exactly the missing records.  A job found RUNNING at
 * start-up (the process died) is resumed from its journal when it is an import,
 * else it is marked FAILED with failure class "interrupted" (rerunnable).
 *
 * The library never prints; events go to the store (job_event) and to the
 * on_event callback.  No globals: all state hangs off br_engine. */
#ifndef BULKREPO_ENGINE_H
#define BULKREPO_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "job.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- submitting ------------------------------------------------------------- */

/* A job to queue.  params is a JSON object; the keys each type reads:
 *   import-saf, validate-saf, import-esploro:
 *     "collections": ["123456789/1", ...] (or "collection": "H"), "skip_invalid",
 *     "workflow", "template", "metadata_only" (booleans), "batch_size" (int),
 *     "source": a folder on this host (SAF) and "zip": a file name in it, or
 *     none of the two when the input is an uploaded file (files below);
 *     "mapfile": where the '<folder> <handle>' lines go (default
 *     <repo>/uploads/<id>/mapfile).
 *   delete-saf: "mapfile" (or the uploaded mapfile as the one input file).
 *   export-saf, export-esploro: "scope": "collection"|"item", "id": handle,
 *     "dest": an existing folder (default <repo>/exports/<id>/), "zip": file
 *     name, "migrate", "exclude_bitstreams" (booleans).
 * Unknown keys are kept (shown in the report) and ignored. */
typedef struct br_job_spec {
    const char *type;         /* required: a type of data/job_types.tsv */
    const char *name;         /* descriptive name; NULL = the type's default */
    const char *eperson;      /* submitted by (a user name); may be NULL */
    const char *params;       /* JSON object text; NULL = "{}" */
    const char *const *files; /* input files, copied to <repo>/uploads/<id>/ (same base name) */
    size_t n_files;
    int move_files; /* rename the files there instead of copying (falls back to copy) */
    /* A folder (on the repository's file system) whose subfolders are moved in
     * beside the files before the job becomes visible to workers: an unpacked
     * upload's "files/" that its CSV names.  NULL: none. */
    const char *folders;
} br_job_spec;

/* Queues a job: one PENDING row (submitted = now, submitted_by = eperson) with
 * its input files in <repo>/uploads/<id>/ and one file-details row per file
 * (name, size, created).  BR_EUSAGE for an unknown type or params that are
 * not a JSON object, BR_ENOTFOUND for a missing input file; on any error no
 * job is left behind.  Workers of a running engine find it within their poll
 * interval (br_engine_wake makes it immediate in the engine's process). */
int br_job_submit(br_repo *repo, const br_job_spec *spec, int64_t *id, br_error *err);

/* Asks a job to stop.  PENDING: ends USER_ABORTED at once.  INITIALIZING,
 * RUNNING, FINALIZING: sets cancel_requested; the worker stops at the next
 * record boundary and the job ends USER_ABORTED (journal consistent).
 * BR_EUSAGE when the job has already ended; BR_ENOTFOUND when there is none. */
int br_job_cancel(br_repo *repo, int64_t id, br_error *err);

/* Queues an aborted or interrupted import again as the SAME job (same id,
 * same journal): the records the journal says are stored are skipped, the
 * rest are imported, so the counters end exactly as one uninterrupted run.
 * Allowed for USER_ABORTED and for FAILED with failure class "interrupted"
 * of an import type; else BR_EUSAGE. */
int br_job_resume(br_repo *repo, int64_t id, br_error *err);

/* Failure classes: BR_FAILURE_* in job.h. */

/* Runs a failed job again with the same input files and parameters as a new
 * job (rerun_of = id), queued PENDING; *new_id gets its id.  Only a job that
 * FAILED for a non-data reason (failure class io, interrupted, timeout,
 * internal) is rerun; a data failure is BR_EINVAL ("fix the file and import it
 * again"), any other status BR_EUSAGE.  An import rerun first carries the old
 * job's stored records into the new journal as "skipped", so nothing the
 * failed run stored is imported twice. */
int br_job_rerun(br_repo *repo, int64_t id, int64_t *new_id, br_error *err);

/* ---- unimported records ------------------------------------------------------- */

/* Seed 004: at most 5,000 unimported records per download. */
#define BR_UNIMPORTED_PAGE_MAX 5000

typedef struct br_unimported_options {
    size_t page;      /* 1-based; 0 = 1 */
    size_t page_size; /* records per page; 0 or > BR_UNIMPORTED_PAGE_MAX = the maximum */
} br_unimported_options;

typedef struct br_unimported_result {
    size_t records; /* on this page */
    size_t total;   /* unimported records of the job */
    size_t pages;
    char format[8]; /* "csv" or "zip": the download's type */
} br_unimported_result;

/* Writes the job's rejected records (journal outcome invalid or failed), in
 * input order, in the input's own format, to out_path (replaced atomically):
 *   CSV input (import-esploro): the header and every row of the rejected
 *     groups (a group is the rows sharing column B, the journal key; rows with
 *     an empty column B continue the group above), with an added last column
 *     ERROR holding the group's journal message.
 *   SAF input (a folder or an uploaded zip): a zip of the rejected item
 *     folders plus errors.txt ("<folder>: <message>" per line).
 * Ready to fix and import again.  BR_ENOTFOUND when the job has no unimported
 * records or the page is past the last; BR_EUSAGE for a job type that has no
 * input records (exports). opt may be NULL. */
int br_job_unimported(br_repo *repo, int64_t id, const br_unimported_options *opt,
                      const char *out_path, br_unimported_result *res, br_error *err);

/* ---- the engine ------------------------------------------------------------------- */

typedef struct br_engine br_engine;

typedef struct br_engine_options {
    unsigned workers;            /* worker threads; 0 = 2 */
    unsigned queue_poll_ms;      /* idle workers look for PENDING jobs; 0 = 250 */
    unsigned inbox_poll_ms;      /* drop folders are scanned this often; 0 = 5000 */
    const char *webhook_url;     /* POST the completed job's JSON here; NULL = none */
    unsigned webhook_timeout_ms; /* 0 = 5000 */
    /* Called for every event the engine records (claimed, progress milestones,
     * completed, failed, inbox pickup, webhook failure), from worker threads,
     * concurrently: it must be thread-safe and quick.  May be NULL. */
    br_job_event_fn on_event;
    void *event_ctx;
    /* Shared with the process's other connections (the HTTP server's), so that
     * their short writes are not starved by a running import (repo.h); may be NULL. */
    br_write_gate *write_gate;
    /* Several engines, in this process or on other machines reaching the same store, share
     * the queue (jobs/lease.c): each claims jobs in its worker's name and keeps their
     * heartbeat fresh; a job whose heartbeat is older than lease_seconds (0 = 60) belongs to
     * a dead worker, and another takes it over (resumed or failed, as at start-up after a
     * crash).  worker_name (NULL = "HOST:PID") is shown on the job; a default name also lets
     * a worker of the same host take over at once the jobs of a process that is gone. */
    unsigned lease_seconds;
    const char *worker_name;
    /* One large import, several workers (import.h's chunk_size): a worker that runs an add
     * import cuts the writing of more than chunk_records valid records into chunks of that
     * many, and an idle worker writes any chunk of another's import.  0 = the store's default
     * (br_repo_chunk_records: 10,000 on PostgreSQL, none on the embedded store); UINT_MAX =
     * never cut (chunks of other workers' imports are still written). */
    unsigned chunk_records;
} br_engine_options;

/* Opens the engine over the repository at repo_dir (it opens its own
 * connections: one per worker, one for the inbox scanner).  opt may be NULL. */
int br_engine_new(const char *repo_dir, const br_engine_options *opt, br_engine **out,
                  br_error *err);
/* Recovers the jobs of dead workers (see lease_seconds), then starts the worker threads, the
 * lease thread (heartbeats and take-overs) and the inbox scanner.  Any number of engines may
 * run on one repository. */
int br_engine_start(br_engine *eng, br_error *err);
/* Wakes idle workers (after a submit in this process). */
void br_engine_wake(br_engine *eng);
/* Stops taking jobs, asks running jobs to stop at a record boundary and joins
 * the threads.  An import stopped this way goes back to PENDING (resume
 * semantics: the next engine continues it from its journal); other jobs end
 * FAILED with failure class "interrupted".  Idempotent. */
void br_engine_stop(br_engine *eng);
/* Stops if running and frees; NULL is a no-op. */
void br_engine_free(br_engine *eng);
/* Health: *alive gets the workers running their loop now (one that could not
 * open the repository, or ended, is not), *workers how many were started.
 * Either may be NULL.  BR_EUSAGE for a NULL engine. */
int br_engine_alive(br_engine *eng, unsigned *alive, unsigned *workers);

/* Recovery when no engine runs on the repository (an administrator's repair; br_engine_start
 * recovers only the jobs of dead workers): every job left INITIALIZING, RUNNING or
 * FINALIZING by a dead process is requeued as PENDING with resume semantics
 * when it is an import (SAF: -R from its journal), else marked FAILED with
 * failure class "interrupted" and the reason in its message and events.
 * Drop-folder files left in processing/ are finished: moved to done/ or
 * failed/ when their job ended, returned to the inbox when no job claims
 * them.  *recovered (may be NULL) gets the number of jobs handled. */
int br_engine_recover(br_repo *repo, size_t *recovered, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
