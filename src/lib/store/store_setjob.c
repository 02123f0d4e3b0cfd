/* Set jobs' members, the undo journal and the trash (store_setjob.h). */
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "store_internal.h"
#include "store_setjob.h"

static int done(br_repo *repo, br_dbst *st, br_error *err, const char *what)
{
    int rc = br_step(repo, st);
    br_db_reset(st);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, what);
}

static int count_of(br_repo *repo, stmt_id id, int64_t key, int64_t *n, br_error *err)
{
    br_dbst *st = br_stmt(repo, id, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, key);
    int rc = br_step(repo, st);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "count");
    *n = br_db_col_int64(st, 0);
    br_db_reset(st);
    return 0;
}

int br_job_member_add(br_repo *repo, int64_t job_id, int64_t seq, const char *member,
                      int64_t item_id, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JM_ADD, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    br_db_bind_int64(st, 2, seq);
    br_bind_text(st, 3, member);
    br_db_bind_int64(st, 4, item_id);
    return done(repo, st, err, "job member");
}

int br_job_member_count(br_repo *repo, int64_t job_id, int64_t *n, br_error *err)
{
    return count_of(repo, S_JM_COUNT, job_id, n, err);
}

int br_job_members_page(br_repo *repo, int64_t job_id, int64_t from_seq, int64_t limit,
                        br_job_member_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JM_RANGE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    br_db_bind_int64(st, 2, from_seq);
    br_db_bind_int64(st, 3, limit);
    int rc, stop = 0;
    while (!stop && (rc = br_step(repo, st)) == BR_DB_ROW)
        stop = BR_YIELD(
            repo, fn(ctx, br_db_col_int64(st, 0), br_col_text(st, 1), br_db_col_int64(st, 2)));
    br_db_reset(st);
    if (stop < 0) return stop;
    return stop || rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job members");
}

int br_job_last_seq(br_repo *repo, int64_t job_id, int64_t *seq, br_error *err)
{
    return count_of(repo, S_JOB_LAST_SEQ, job_id, seq, err);
}

/* ---- holds: files a snapshot names ---------------------------------------------------------- */

static int hold_files(br_repo *repo, const char *snapshot, const char *holder, br_error *err)
{
    if (!snapshot || !strstr(snapshot, "\"files\"")) return 0;
    json_t *root = json_loads(snapshot, 0, NULL);
    json_t *files = json_object_get(root, "files");
    size_t i;
    json_t *f;
    int rc = 0;
    br_dbst *st = br_stmt(repo, S_HOLD_ADD, err);
    if (!st) rc = BR_ESTORE;
    json_array_foreach(files, i, f)
    {
        const char *sha = json_string_value(json_object_get(f, "sha256"));
        if (rc || !sha) continue;
        br_bind_text(st, 1, sha);
        br_bind_text(st, 2, holder);
        rc = done(repo, st, err, "asset hold");
    }
    json_decref(root);
    return rc;
}

static int release(br_repo *repo, const char *holder, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_HOLD_DEL, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, holder);
    return done(repo, st, err, "asset hold");
}

/* ---- the undo journal ------------------------------------------------------------------------ */

int br_undo_put(br_repo *repo, int64_t job_id, const br_undo_row *row, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_UNDO_PUT, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    br_bind_text(st, 2, row->uuid);
    br_bind_text(st, 3, row->action);
    br_bind_text(st, 4, row->before);
    br_bind_text(st, 5, row->after);
    int rc = br_step_ahead(repo, st); /* nothing reads its answer */
    br_db_reset(st);
    rc = rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "undo journal");
    char holder[128];
    snprintf(holder, sizeof holder, "undo:%lld:%s", (long long)job_id, row->uuid);
    return rc ? rc : hold_files(repo, row->before, holder, err);
}

int br_undo_page(br_repo *repo, int64_t job_id, const char *after_uuid, int64_t limit,
                 br_undo_fn fn, void *ctx, char last[64], br_error *err)
{
    last[0] = 0;
    br_dbst *st = br_stmt(repo, S_UNDO_PAGE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    br_bind_text(st, 2, after_uuid ? after_uuid : "");
    br_db_bind_int64(st, 3, limit);
    int rc, stop = 0;
    while (!stop && (rc = br_step(repo, st)) == BR_DB_ROW) {
        br_undo_row row = {br_col_text(st, 0), br_col_text(st, 1), br_col_text(st, 2),
                           br_col_text(st, 3)};
        br_strlcpy(last, row.uuid, 64);
        stop = BR_YIELD(repo, fn(ctx, &row));
    }
    br_db_reset(st);
    if (stop < 0) return stop;
    return stop || rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "undo journal");
}

int br_undo_count(br_repo *repo, int64_t job_id, int64_t *n, br_error *err)
{
    return count_of(repo, S_UNDO_COUNT, job_id, n, err);
}

/* ---- the trash ------------------------------------------------------------------------------- */

int br_trash_put(br_repo *repo, const br_trash_row *row, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_TRASH_PUT, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, row->uuid);
    br_bind_text(st, 2, row->handle);
    br_db_bind_int64(st, 3, row->item_id);
    if (row->job_id)
        br_db_bind_int64(st, 4, row->job_id);
    else
        br_db_bind_null(st, 4);
    br_bind_text(st, 5, row->deleted);
    br_db_bind_int64(st, 6, row->purge_after);
    br_bind_text(st, 7, row->record);
    int rc = done(repo, st, err, "trash");
    char holder[96];
    snprintf(holder, sizeof holder, "trash:%s", row->uuid);
    return rc ? rc : hold_files(repo, row->record, holder, err);
}

static br_trash_row trash_row(br_dbst *st)
{
    return (br_trash_row){br_col_text(st, 0),     br_col_text(st, 1), br_db_col_int64(st, 2),
                          br_db_col_int64(st, 3), br_col_text(st, 4), br_db_col_int64(st, 5),
                          br_col_text(st, 6)};
}

int br_trash_get(br_repo *repo, const char *key, int (*fn)(void *, const br_trash_row *), void *ctx,
                 br_error *err)
{
    br_dbst *st = br_stmt(repo, S_TRASH_GET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, key);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE) {
        br_db_reset(st);
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "'%s' is not in the trash", key);
    }
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "trash");
    br_trash_row row = trash_row(st);
    rc = BR_YIELD(repo, fn(ctx, &row));
    br_db_reset(st);
    return rc < 0 ? rc : 0;
}

int br_trash_page(br_repo *repo, const char *after_uuid, int64_t limit,
                  int (*fn)(void *, const br_trash_row *), void *ctx, char last[64], br_error *err)
{
    last[0] = 0;
    br_dbst *st = br_stmt(repo, S_TRASH_PAGE, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, after_uuid ? after_uuid : "");
    br_db_bind_int64(st, 2, limit);
    int rc, stop = 0;
    while (!stop && (rc = br_step(repo, st)) == BR_DB_ROW) {
        br_trash_row row = trash_row(st);
        br_strlcpy(last, row.uuid, 64);
        stop = BR_YIELD(repo, fn(ctx, &row));
    }
    br_db_reset(st);
    if (stop < 0) return stop;
    return stop || rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "trash");
}

int br_trash_remove(br_repo *repo, const char *uuid, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_TRASH_DEL, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, uuid);
    int rc = done(repo, st, err, "trash");
    char holder[96];
    snprintf(holder, sizeof holder, "trash:%s", uuid);
    return rc ? rc : release(repo, holder, err);
}

int br_trash_expired(br_repo *repo, int64_t now, char (*uuids)[64], size_t max, size_t *n,
                     br_error *err)
{
    *n = 0;
    br_dbst *st = br_stmt(repo, S_TRASH_EXPIRED, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, now);
    br_db_bind_int64(st, 2, (int64_t)max);
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW && *n < max)
        br_strlcpy(uuids[(*n)++], br_col_text(st, 0), 64);
    br_db_reset(st);
    return rc == BR_DB_DONE || rc == BR_DB_ROW ? 0 : br_store_fail(repo, err, "trash");
}

int br_item_version(br_repo *repo, int64_t id, int64_t *version, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_ITEM_VERSION, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) *version = br_db_col_int64(st, 0);
    br_db_reset(st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item with id %lld", (long long)id);
    return rc == BR_DB_ROW ? 0 : br_store_fail(repo, err, "item version");
}

int br_undo_expired(br_repo *repo, const char *ended_before, int64_t *jobs, size_t max, size_t *n,
                    br_error *err)
{
    *n = 0;
    br_dbst *st = br_stmt(repo, S_UNDO_EXPIRED, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, ended_before);
    br_db_bind_int64(st, 2, (int64_t)max);
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW && *n < max)
        jobs[(*n)++] = br_db_col_int64(st, 0);
    br_db_reset(st);
    return rc == BR_DB_DONE || rc == BR_DB_ROW ? 0 : br_store_fail(repo, err, "undo journal");
}

int br_undo_drop(br_repo *repo, int64_t job_id, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_UNDO_DROP, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    int rc = done(repo, st, err, "undo journal");
    /* Its holders are "undo:JOB:UUID": every one sorts between "undo:JOB:" and "undo:JOB;". */
    char lo[48], hi[48];
    snprintf(lo, sizeof lo, "undo:%lld:", (long long)job_id);
    snprintf(hi, sizeof hi, "undo:%lld;", (long long)job_id);
    if (!rc && !(st = br_stmt(repo, S_HOLD_DEL_RANGE, err))) rc = BR_ESTORE;
    if (rc) return rc;
    br_bind_text(st, 1, lo);
    br_bind_text(st, 2, hi);
    return done(repo, st, err, "asset hold");
}
