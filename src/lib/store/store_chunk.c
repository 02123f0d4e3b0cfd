/* Chunks of an import written by several workers (job.h, issue 16; migrations/011.sql). */
#include <string.h>
#include "bulkrepo/job.h"
#include "store_internal.h"

#define CHUNK_JOURNAL_PAGE 2048

/* Steps a bound UPDATE: 1 when it changed a row, 0 when none, BR_ESTORE. */
static int changed_one(br_repo *repo, br_dbst *st, br_error *err, const char *what)
{
    if (br_step(repo, st) != BR_DB_DONE) return br_store_fail(repo, err, what);
    return br_db_changes(repo->db) > 0;
}

static int count_chunks(br_repo *repo, int64_t job_id, int64_t *all, int64_t *done, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_CHUNK_COUNT, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    if (br_step(repo, st) != BR_DB_ROW) return br_store_fail(repo, err, "count chunks");
    *all = br_db_col_int64(st, 0);
    *done = br_db_col_int64(st, 1);
    br_db_reset(st);
    return 0;
}

int br_job_chunks_plan(br_repo *repo, int64_t job_id, int64_t records, int64_t size, int64_t *count,
                       br_error *err)
{
    if (!repo || records < 0 || size <= 0)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_job_chunks_plan: bad arguments");
    int64_t all = 0, done = 0;
    int rc = br_repo_begin(repo, err);
    if (rc) return rc;
    /* Under the write lock: of two runs planning the same job, the second sees the first's. */
    if ((rc = count_chunks(repo, job_id, &all, &done, err))) goto done;
    for (int64_t n = 0; !all && n * size < records && !rc; n++) {
        br_dbst *st = br_stmt(repo, S_CHUNK_ADD, err);
        if (!st) {
            rc = BR_ESTORE;
            break;
        }
        int64_t end = (n + 1) * size < records ? (n + 1) * size : records;
        br_db_bind_int64(st, 1, job_id);
        br_db_bind_int64(st, 2, n);
        br_db_bind_int64(st, 3, n * size);
        br_db_bind_int64(st, 4, end);
        if (br_step_ahead(repo, st) != BR_DB_DONE) rc = br_store_fail(repo, err, "plan chunks");
    }
    if (!rc && !all) rc = count_chunks(repo, job_id, &all, &done, err);
    if (!rc) rc = br_repo_commit(repo, err);
done:
    if (rc) br_repo_rollback(repo);
    if (count) *count = rc ? 0 : all;
    return rc;
}

int br_job_chunks_left(br_repo *repo, int64_t job_id, int64_t *left, br_error *err)
{
    int64_t all = 0, done = 0;
    int rc = count_chunks(repo, job_id, &all, &done, err);
    if (left) *left = rc ? 0 : all - done;
    return rc;
}

int br_job_chunk_claim(br_repo *repo, int64_t job_id, const char *worker, int64_t now,
                       int64_t cutoff, br_job_chunk *out, br_error *err)
{
    if (!repo || !worker || !out)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_job_chunk_claim: bad arguments");
    br_dbst *st = br_stmt(repo, S_CHUNK_CLAIM, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    br_bind_text(st, 2, worker);
    br_db_bind_int64(st, 3, now);
    br_db_bind_int64(st, 4, cutoff);
    /* Autocommit: the UPDATE is its own transaction, as a job's claim. */
    int got = 0, s;
    while ((s = br_step(repo, st)) == BR_DB_ROW) {
        out->job_id = br_db_col_int64(st, 0);
        out->n = br_db_col_int64(st, 1);
        out->first = br_db_col_int64(st, 2);
        out->end = br_db_col_int64(st, 3);
        got = 1;
    }
    if (s != BR_DB_DONE) return br_store_fail(repo, err, "claim chunk");
    return got;
}

/* The statements that name one chunk of one worker: ?1 job, ?2 n, ?3 worker, ?4 now. */
static int chunk_update(br_repo *repo, stmt_id sid, const br_job_chunk *c, const char *worker,
                        int64_t now, br_error *err, const char *what)
{
    if (!repo || !c || !worker)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "%s: bad arguments", what);
    br_dbst *st = br_stmt(repo, sid, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, c->job_id);
    br_db_bind_int64(st, 2, c->n);
    br_bind_text(st, 3, worker);
    if (sid != S_CHUNK_RELEASE) br_db_bind_int64(st, 4, now);
    return changed_one(repo, st, err, what);
}

int br_job_chunk_hold(br_repo *repo, const br_job_chunk *c, const char *worker, int64_t now,
                      br_error *err)
{
    return chunk_update(repo, S_CHUNK_HOLD, c, worker, now, err, "hold chunk");
}

int br_job_chunk_done(br_repo *repo, const br_job_chunk *c, const char *worker, int64_t now,
                      br_error *err)
{
    return chunk_update(repo, S_CHUNK_DONE, c, worker, now, err, "finish chunk");
}

int br_job_chunk_release(br_repo *repo, const br_job_chunk *c, const char *worker, br_error *err)
{
    int rc = chunk_update(repo, S_CHUNK_RELEASE, c, worker, 0, err, "release chunk");
    return rc < 0 ? rc : 0;
}

int br_job_chunk_heartbeat(br_repo *repo, const char *worker, int64_t now, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_CHUNK_BEAT, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, worker);
    br_db_bind_int64(st, 2, now);
    int rc = changed_one(repo, st, err, "chunk heartbeat");
    return rc < 0 ? rc : 0;
}

int br_job_chunks_clear(br_repo *repo, int64_t job_id, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_CHUNK_CLEAR, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    int rc = changed_one(repo, st, err, "remove chunks");
    return rc < 0 ? rc : 0;
}

int br_job_chunk_journal(br_repo *repo, const br_job_chunk *c, br_job_seq_fn fn, void *ctx,
                         br_error *err)
{
    if (!repo || !c || !fn)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_job_chunk_journal: bad arguments");
    /* In pages, as br_job_records: PostgreSQL's client holds a statement's whole result. */
    int64_t from = c->first;
    for (int64_t n = CHUNK_JOURNAL_PAGE; n == CHUNK_JOURNAL_PAGE;) {
        br_dbst *st = br_stmt(repo, S_CHUNK_JOURNAL, err);
        if (!st) return BR_ESTORE;
        br_db_bind_int64(st, 1, c->job_id);
        br_db_bind_int64(st, 2, from);
        br_db_bind_int64(st, 3, c->end);
        br_db_bind_int64(st, 4, CHUNK_JOURNAL_PAGE);
        n = 0;
        int s;
        while ((s = br_step(repo, st)) == BR_DB_ROW) {
            int64_t seq = br_db_col_int64(st, 0);
            const char *outcome = br_col_text(st, 1);
            from = seq + 1;
            n++;
            if (fn(ctx, seq, outcome ? outcome : "")) {
                br_db_reset(st);
                return 0;
            }
        }
        if (s != BR_DB_DONE) return br_store_fail(repo, err, "chunk journal");
    }
    return 0;
}
