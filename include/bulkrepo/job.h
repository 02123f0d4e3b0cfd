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

/* Per-record outcomes in the journal. */
#define BR_OUTCOME_IMPORTED "imported"
#define BR_OUTCOME_UPDATED "updated"
#define BR_OUTCOME_DELETED "deleted"
#define BR_OUTCOME_INVALID "invalid"  /* rejected by validation */
#define BR_OUTCOME_FAILED "failed"    /* a non-data failure */
#define BR_OUTCOME_SKIPPED "skipped"  /* already present (resume) */
#define BR_OUTCOME_VALID "valid"      /* validate-only runs */
#define BR_OUTCOME_EXPORTED "exported" /* export runs: one line per item folder */

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
} br_job_counters;

typedef struct br_job {
    int64_t id;
    char type[32];     /* "import-saf", "export-saf", ... */
    char category[16]; /* "import", "export", "set" */
    char name[256];
    char eperson[256];
    br_job_status status;
    char submitted[32]; /* ISO 8601 UTC */
    char started[32];
    char ended[32];
    char input[1024];   /* the input path as given */
    char params[4096];  /* JSON object of the parameters */
    char message[1024]; /* why it failed, or a summary */
    int64_t total;      /* records in the input, when known */
    br_job_counters counters;
} br_job;

/* One per-record journal line. */
typedef struct br_job_record {
    int64_t seq;     /* position in the input */
    const char *key; /* folder / group id */
    const char *outcome;
    int64_t item_id; /* 0 when none */
    const char *handle;
    const char *message;
    int64_t bitstreams;
    int64_t bytes;
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
/* Journal lines in input order; outcome NULL = all. */
int br_job_records(br_repo *repo, int64_t id, const char *outcome, br_job_record_fn fn,
                   void *ctx, br_error *err);
/* The newest job of `type` whose params have "mapfile" equal to mapfile; BR_ENOTFOUND. */
int br_job_find_by_mapfile(br_repo *repo, const char *type, const char *mapfile, int64_t *id,
                           br_error *err);

/* JSON text (malloc'd, caller frees) of a job, with its journal when with_records. */
int br_job_to_json(br_repo *repo, int64_t id, int with_records, char **out, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
