/* bulkrepo — job records: every batch run is a job with a status, parameters,
 * per-record outcomes (the journal) and counters derived from those outcomes,
 * so the counters can never drift from what happened.
 *
 * Statuses and labels follow seed 004 (Alma's Monitor and View Import Jobs). */
#ifndef BULKREPO_JOB_H
#define BULKREPO_JOB_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum br_job_status {
    BR_JOB_PENDING = 0,
    BR_JOB_INITIALIZING,
    BR_JOB_RUNNING,
    BR_JOB_FINALIZING,
    BR_JOB_COMPLETED_SUCCESS,
    BR_JOB_COMPLETED_WITH_ERRORS,
    BR_JOB_COMPLETED_NO_BULKS,
    BR_JOB_MANUAL_HANDLING_REQUIRED,
    BR_JOB_FAILED,
    BR_JOB_USER_ABORTED,
    BR_JOB_STATUS_COUNT
} br_job_status;

const char *br_job_status_code(br_job_status s);  /* "COMPLETED_SUCCESS" */
const char *br_job_status_label(br_job_status s); /* "Completed Successfully" */
int br_job_status_parse(const char *code, br_job_status *out);
/* 1 when a job in this status has ended (Manual Handling Required waits for
 * an operator: not ended). */
int br_job_status_ended(br_job_status s);

/* Per-record outcomes in the journal. */
#define BR_OUTCOME_IMPORTED "imported"
#define BR_OUTCOME_UPDATED  "updated"
#define BR_OUTCOME_DELETED  "deleted"
#define BR_OUTCOME_INVALID  "invalid"  /* rejected by validation */
#define BR_OUTCOME_FAILED   "failed"   /* a non-data failure */
#define BR_OUTCOME_SKIPPED  "skipped"  /* already present (resume) */
#define BR_OUTCOME_VALID    "valid"    /* validate-only runs */
#define BR_OUTCOME_EXPORTED "exported" /* export runs: one line per item folder */
/* Matching (import.h, match profiles): a record that matched more than one
 * stored record is not imported; it waits for an operator (seed 004's
 * multi-matches), who resolves it (br_job_resolve: outcome "resolved", the
 * choice in the line) before the job is resumed. */
#define BR_OUTCOME_MULTI_MATCH "multi-match"
#define BR_OUTCOME_RESOLVED    "resolved"
/* A record that matched a stored one under a "skip" rule: left as it is. */
#define BR_OUTCOME_MATCH_SKIPPED "match-skipped"
/* Version prevention (seed 004): the stored record is newer; not applied. */
#define BR_OUTCOME_NEWER "newer-in-repository"
/* A pulling profile's fetch job (profile.h): a remote file downloaded and its load job queued. */
#define BR_OUTCOME_FETCHED "fetched"

/* Seed 004's report counters, all derived from the journal:
 *   processed = every journal line; imported = new records; updated = matched
 *   and overlaid (or replaced); not imported = invalid + failed + multi_matches
 *   (resolved lines waiting for a resume count here too); skipped = already
 *   present on a resume + matched and skipped;
 *   matched = updated + multi_matches + matched and skipped;
 *   newly_added = imported; bitstreams/bytes over every line,
 *   bitstreams_imported over imported and updated lines. */
typedef struct br_job_counters {
    int64_t processed;
    int64_t imported;
    int64_t updated;
    int64_t deleted;
    int64_t invalid;
    int64_t failed;
    int64_t skipped;
    int64_t valid;
    int64_t bitstreams;
    int64_t bytes;
    int64_t multi_matches;
    int64_t matched;
    int64_t newly_added;
    int64_t not_imported;
    int64_t bitstreams_imported;
    int64_t exported;
    int64_t newer; /* records with a newer version in the repository (not applied) */
} br_job_counters;

/* Progress, stored on the job by the engine at most twice a second. */
typedef struct br_job_progress {
    int percent;         /* 0-100 */
    int64_t done;        /* records done in the current phase */
    int64_t total;       /* records in it, 0 = unknown */
    double rate;         /* records per second */
    int64_t eta_seconds; /* time left, -1 = unknown */
    char phase[16];      /* "validate", "import", "export", ... */
} br_job_progress;

typedef struct br_job {
    int64_t id;
    char type[32];     /* "import-saf", "export-saf", ... */
    char category[16]; /* "import", "export", "set" */
    char name[256];
    char eperson[256]; /* submitted by */
    br_job_status status;
    char submitted[32]; /* ISO 8601 UTC */
    char started[32];
    char ended[32];
    char input[1024];   /* the input path as given */
    char params[4096];  /* JSON object of the parameters */
    char message[1024]; /* why it failed, or a summary */
    int64_t total;      /* records in the input, when known */
    br_job_counters counters;
    /* The queue (engine.h). */
    br_job_progress progress;
    int cancel_requested;
    char failure[16];   /* failure class of a FAILED job (BR_FAILURE_*), "" none */
    int64_t rerun_of;   /* the job this one reruns, 0 none */
    int resume;         /* a requeued import: continue from the journal */
    int64_t attempt;    /* how many times a worker claimed it: the run that owns it */
    char profile[64];   /* the import profile of a drop-folder job, "" none */
    int64_t parent_job; /* the fetch job that queued this load job (profile.h), 0 none */
} br_job;

/* Seed 004's file details: one row per input file of a job. */
typedef struct br_job_file {
    const char *name; /* base name as uploaded */
    const char *path; /* where the job reads it */
    int64_t size;
    const char *created;  /* ISO 8601 UTC (the file's mtime when submitted) */
    int64_t records;      /* records found in it, -1 unknown */
    const char *status;   /* "pending", "processed", "rejected" */
    const char *problems; /* a summary of what went wrong, or NULL */
} br_job_file;

/* One event of a job (seed 004's Events report). */
typedef struct br_job_event {
    int64_t id;
    int64_t job_id;
    const char *at;       /* ISO 8601 UTC */
    const char *severity; /* "info", "warning", "error" */
    const char *status;   /* the job's status code when it happened */
    const char *module;   /* "engine", "import", "export", "inbox", "webhook" */
    const char *creator;  /* who caused it: a user name, or "system" */
    const char *description;
} br_job_event;

typedef int (*br_job_file_fn)(void *ctx, const br_job_file *f);
/* Return value ignored when used as the engine's on_event. */
typedef int (*br_job_event_fn)(void *ctx, const br_job_event *ev);

/* Filters of br_job_query; NULL / zero fields match everything. */
typedef struct br_job_filter {
    const char *status;   /* a status code, or "running" (not yet ended) / "ended" */
    const char *category; /* "import", "export", "set" */
    const char *user;     /* submitted by */
    const char *since;    /* submitted at or after (ISO 8601 prefix, e.g. "2024-05-01") */
    const char *type;
    size_t limit; /* 0 = all */
    size_t offset;
} br_job_filter;

/* One finding of a record, as the journal keeps it. */
typedef struct br_job_finding {
    unsigned line;    /* the input line or row it names, 0 none */
    const char *text; /* formatted: "item_3/dublin_core.xml:14:5: error: ... (hint)" */
} br_job_finding;

/* Findings kept per record; past the cap one more line says how many were left out. */
#define BR_JOB_FINDINGS_MAX 100

/* One per-record journal line. */
typedef struct br_job_record {
    int64_t seq;     /* position in the input */
    const char *key; /* folder / group id */
    const char *outcome;
    int64_t item_id; /* 0 when none */
    const char *handle;
    const char *message; /* written: used when there are no findings; read: the first
                            finding's text, or the message written */
    int64_t bitstreams;
    int64_t bytes;
    /* Every finding of the record (written: as given, at most BR_JOB_FINDINGS_MAX + 1;
     * read: as stored, views valid during the callback). */
    const br_job_finding *findings;
    size_t n_findings;
} br_job_record;

typedef int (*br_job_fn)(void *ctx, const br_job *job);
typedef int (*br_job_record_fn)(void *ctx, const br_job_record *rec);

/* Creates a job from spec (type, category, name, eperson, input, params, total)
 * with status RUNNING and started = now; sets spec->id. */
int br_job_create(br_repo *repo, br_job *spec, br_error *err);
/* Sets the status; terminal statuses also set `ended`. message may be NULL. */
int br_job_set_status(br_repo *repo, int64_t id, br_job_status status, const char *message,
                      br_error *err);
int br_job_set_total(br_repo *repo, int64_t id, int64_t total, br_error *err);
/* Writes a journal line (replacing the job's earlier line for the same key).
 * Call it inside the transaction that writes the record itself. */
int br_job_journal(br_repo *repo, int64_t job_id, const br_job_record *r, br_error *err);
/* The job with its counters (derived from the journal). */
int br_job_get(br_repo *repo, int64_t id, br_job *out, br_error *err);
/* Newest first. */
int br_job_list(br_repo *repo, br_job_fn fn, void *ctx, br_error *err);
/* Newest first, filtered; f may be NULL.  A nonzero return of fn stops. */
int br_job_query(br_repo *repo, const br_job_filter *f, br_job_fn fn, void *ctx, br_error *err);
/* Journal lines in input order; outcome NULL = all. */
int br_job_records(br_repo *repo, int64_t id, const char *outcome, br_job_record_fn fn, void *ctx,
                   br_error *err);
/* Ids of up to max items that the job's journal names and whose status is now
 * `status`, in journal order; *n gets how many were written to ids. */
int br_job_item_ids(br_repo *repo, int64_t job_id, const char *status, int64_t *ids, size_t max,
                    size_t *n, br_error *err);
/* The job's journal line for key: 0 with its outcome and handle ("" when none)
 * copied out, BR_ENOTFOUND when the journal has no line for key. */
int br_job_record_find(br_repo *repo, int64_t job_id, const char *key, char *outcome,
                       size_t outcome_size, char *handle, size_t handle_size, br_error *err);
/* The newest job of `type` whose params have "mapfile" equal to mapfile; BR_ENOTFOUND. */
int br_job_find_by_mapfile(br_repo *repo, const char *type, const char *mapfile, int64_t *id,
                           br_error *err);
/* Resolves a multi-match of job job_id's record key: choice is the handle (or
 * UUID) of the stored item to update, "new" (add it as a new item) or "skip".
 * The journal line becomes "resolved" with the choice; `job resume` applies
 * it.  BR_ENOTFOUND: no such record or item; BR_EUSAGE: the record is not a
 * multi-match (or already resolved), or the choice is not one of its
 * candidates nor new or skip. */
int br_job_resolve(br_repo *repo, int64_t job_id, const char *key, const char *choice,
                   br_error *err);

/* ---- the queue's store (used by engine.c; the engine API is engine.h) ---- */

/* Inserts spec as a PENDING job (submitted = now; started/ended empty); sets
 * spec->id.  rerun_of, resume and profile are taken from spec. */
int br_job_enqueue(br_repo *repo, br_job *spec, br_error *err);
/* Claims the oldest PENDING job whose type is one of types (NULL = any) in one
 * immediate transaction: PENDING -> INITIALIZING, started = now.  Returns 1
 * and fills out when claimed, 0 when none is waiting, negative on error. */
int br_job_claim(br_repo *repo, const char *const *types, size_t n_types, br_job *out,
                 br_error *err);

/* ---- leases: several workers, in one process or on many machines, share the queue ----
 *
 * A worker claims a job in its own name (job.worker) and keeps the job's heartbeat (Unix
 * seconds) fresh while it runs it.  A job whose heartbeat is older than the lease belongs to a
 * worker that died: another worker takes it over (br_job_take_over) and recovers it as after a
 * crash (an import resumes from its journal, exactly the missing records). */

/* br_job_claim in worker's name with heartbeat now (worker may be NULL: no lease). */
int br_job_claim_as(br_repo *repo, const char *const *types, size_t n_types, const char *worker,
                    int64_t now, br_job *out, br_error *err);
/* Every unfinished job of worker gets heartbeat now: 0 or BR_ESTORE. */
int br_job_heartbeat(br_repo *repo, const char *worker, int64_t now, br_error *err);
/* Calls fn for each unfinished job whose heartbeat is before cutoff (or that has none), with
 * job.id and its worker filled (the rest is not). */
typedef int (*br_job_stale_fn)(void *ctx, int64_t id, const char *worker);
int br_job_list_stale(br_repo *repo, int64_t cutoff, br_job_stale_fn fn, void *ctx, br_error *err);
/* Makes the unfinished job id worker's (heartbeat now) when its heartbeat is still before
 * cutoff or its worker is dead_worker (NULL: none): 1 taken, 0 not (it came alive, ended, or
 * another worker took it first), BR_ESTORE. */
int br_job_take_over(br_repo *repo, int64_t id, const char *worker, int64_t now, int64_t cutoff,
                     const char *dead_worker, br_error *err);
int br_job_set_progress(br_repo *repo, int64_t id, const br_job_progress *p, br_error *err);

/* ---- chunks: one large import written by several workers (issue 16) ----
 *
 * After validation a large import's records (input positions 0 .. records-1, the journal's
 * seq) are cut into chunks.  Any worker claims a chunk in its name, as it claims a job, keeps
 * it with a heartbeat (br_job_chunk_heartbeat, and br_job_chunk_hold in each write
 * transaction), writes the records the journal does not hold yet and marks it done.  A chunk
 * whose heartbeat is older than the lease belongs to a worker that died: the next claim takes
 * it, and the journal says which of its records are stored.  A worker whose hold fails lost
 * the chunk: it rolls back and writes no more of it. */
typedef struct br_job_chunk {
    int64_t job_id;
    int64_t n;          /* 0, 1, ... in input order */
    int64_t first, end; /* the input positions it covers: first .. end-1 */
} br_job_chunk;

/* Cuts positions 0 .. records-1 of job_id into chunks of size, in one transaction, unless the
 * job has chunks already (a resumed run keeps them); *count (may be NULL) gets how many the
 * job has.  0 or an error. */
int br_job_chunks_plan(br_repo *repo, int64_t job_id, int64_t records, int64_t size, int64_t *count,
                       br_error *err);
/* *left gets the job's chunks not done yet. */
int br_job_chunks_left(br_repo *repo, int64_t job_id, int64_t *left, br_error *err);
/* Claims in worker's name (heartbeat now) the first chunk not done whose worker is none or
 * beat before cutoff, of job_id (0: of any RUNNING job): 1 and *out filled, 0 none free, or
 * an error. */
int br_job_chunk_claim(br_repo *repo, int64_t job_id, const char *worker, int64_t now,
                       int64_t cutoff, br_job_chunk *out, br_error *err);
/* Still worker's and not done: heartbeat now and 1; 0 when another worker took it or it is
 * gone (the job ended).  Run first in a transaction that writes the chunk's records: the row
 * stays locked to the commit (on SQLite the whole store does). */
int br_job_chunk_hold(br_repo *repo, const br_job_chunk *c, const char *worker, int64_t now,
                      br_error *err);
/* Marks worker's chunk done: 1, or 0 when it was not worker's any more. */
int br_job_chunk_done(br_repo *repo, const br_job_chunk *c, const char *worker, int64_t now,
                      br_error *err);
/* Gives worker's chunk back (an engine stopping, a cancelled run): any worker may claim it. */
int br_job_chunk_release(br_repo *repo, const br_job_chunk *c, const char *worker, br_error *err);
/* Every chunk of worker not done gets heartbeat now. */
int br_job_chunk_heartbeat(br_repo *repo, const char *worker, int64_t now, br_error *err);
/* Removes the job's chunks (its run ended). */
int br_job_chunks_clear(br_repo *repo, int64_t job_id, br_error *err);
/* Calls fn with the seq and outcome of each journal line of the chunk's positions, in seq
 * order; a nonzero return stops. */
typedef int (*br_job_seq_fn)(void *ctx, int64_t seq, const char *outcome);
int br_job_chunk_journal(br_repo *repo, const br_job_chunk *c, br_job_seq_fn fn, void *ctx,
                         br_error *err);
/* Failure classes recorded on a FAILED job (br_job.failure). */
#define BR_FAILURE_DATA        "data"        /* the input is invalid: fix the file */
#define BR_FAILURE_IO          "io"          /* I/O, disk full, database busy/failed */
#define BR_FAILURE_INTERRUPTED "interrupted" /* the process died or was killed */
#define BR_FAILURE_TIMEOUT     "timeout"     /* a fetch timed out */
#define BR_FAILURE_INTERNAL    "internal"    /* a bug */

/* The failure class of a job that ended with error code rc: data for invalid
 * input (not rerun: fix the file), io, or internal. */
const char *br_job_failure_of(int rc);
/* Ends a job FAILED with its message and failure class in one write, so that
 * nobody sees a failed job without knowing whether it may be rerun.  message
 * may be NULL (the job's message is kept). */
int br_job_fail(br_repo *repo, int64_t id, const char *message, const char *failure_class,
                br_error *err);
int br_job_set_input(br_repo *repo, int64_t id, const char *input, br_error *err);
/* Requeues a job (PENDING, ended cleared, cancel cleared) with resume set. */
int br_job_requeue(br_repo *repo, int64_t id, int resume, br_error *err);
/* cancel_requested := 1 when the job is not yet ended; PENDING jobs end
 * USER_ABORTED at once.  *status gets the status found.  The row's half of
 * br_job_cancel (engine.h): a running job's worker stops on the flag file
 * br_job_cancel writes first, not on this column. */
int br_job_request_cancel(br_repo *repo, int64_t id, br_job_status *status, br_error *err);
/* The newest job whose input is exactly `input` (a drop-folder file's path):
 * 1 with *id and *status, 0 when there is none, negative on error. */
int br_job_find_by_input(br_repo *repo, const char *input, int64_t *id, br_job_status *status,
                         br_error *err);
/* Jobs not ended (INITIALIZING, RUNNING, FINALIZING) in id order: for recovery. */
int br_job_list_unfinished(br_repo *repo, br_job_fn fn, void *ctx, br_error *err);
/* Journal lines of `from` with outcome imported, updated or skipped are copied
 * into `to` as skipped (a rerun does not store them twice). */
int br_job_journal_carry(br_repo *repo, int64_t from, int64_t to, br_error *err);

int br_job_file_add(br_repo *repo, int64_t job_id, const br_job_file *f, br_error *err);
/* Updates records, status and problems of the job's file `name`. */
int br_job_file_update(br_repo *repo, int64_t job_id, const char *name, int64_t records,
                       const char *status, const char *problems, br_error *err);
int br_job_files(br_repo *repo, int64_t job_id, br_job_file_fn fn, void *ctx, br_error *err);

/* Appends an event (at = now, status = the job's current status); ev->id,
 * job_id, at and status are filled in.  creator NULL = "system". */
int br_job_event_add(br_repo *repo, br_job_event *ev, br_error *err);
/* Oldest first. */
int br_job_events(br_repo *repo, int64_t job_id, br_job_event_fn fn, void *ctx, br_error *err);

/* An export's delivery step (issue 17, jobs/deliver.c): the JSON object {destination, ftp,
 * subdir, state, attempts, error, path, at} as text, stored whole (set) or read (*out
 * malloc'd, NULL when the job has none).  BR_ENOTFOUND (get: no such job), BR_ESTORE. */
int br_job_set_delivery(br_repo *repo, int64_t id, const char *json, br_error *err);
int br_job_delivery(br_repo *repo, int64_t id, char **out, br_error *err);

/* JSON text (malloc'd, caller frees) of a job, with its journal when with_records.
 * Always with "progress", "counters", "files", "failure", "rerun_of",
 * "cancel_requested" (the shape of GET /api/jobs/ID). */
int br_job_to_json(br_repo *repo, int64_t id, int with_records, char **out, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
