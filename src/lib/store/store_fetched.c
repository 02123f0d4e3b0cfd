/* Fetched files of pulling import profiles and the schedule's compare-and-set
 * (store_fetched.h). */
#include <stdlib.h>
#include <string.h>
#include "store_fetched.h"
#include "store_internal.h"

static int find_job(br_repo *repo, br_dbst *st, int64_t *job, br_error *err, const char *what)
{
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        *job = br_db_col_int64(st, 0);
        br_db_reset(st);
        return 1;
    }
    br_db_reset(st);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, what);
}

int br_fetched_loaded(br_repo *repo, const char *profile, const char *name, int64_t size,
                      int64_t mtime, int64_t *job, br_error *err)
{
    *job = 0;
    if (mtime < 0) return 0;
    br_dbst *st = br_stmt(repo, S_FETCHED_LOADED, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, profile);
    br_bind_text(st, 2, name);
    br_db_bind_int64(st, 3, size);
    br_db_bind_int64(st, 4, mtime);
    return find_job(repo, st, job, err, "fetched file read");
}

int br_fetched_by_sha(br_repo *repo, const char *profile, const char *name, int64_t size,
                      const char *sha256, int64_t *job, br_error *err)
{
    *job = 0;
    br_dbst *st = br_stmt(repo, S_FETCHED_SHA, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, profile);
    br_bind_text(st, 2, name);
    br_db_bind_int64(st, 3, size);
    br_bind_text(st, 4, sha256);
    return find_job(repo, st, job, err, "fetched file read");
}

int br_fetched_add(br_repo *repo, br_fetched *f, const char *state, int64_t load_job, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_FETCHED_ADD, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    br_bind_text(st, 1, f->profile);
    br_bind_text(st, 2, f->name);
    br_db_bind_int64(st, 3, f->size);
    if (f->mtime >= 0)
        br_db_bind_int64(st, 4, f->mtime);
    else
        br_db_bind_null(st, 4);
    br_bind_text(st, 5, f->sha256[0] ? f->sha256 : NULL);
    br_bind_text(st, 6, state);
    br_db_bind_int64(st, 7, f->fetch_job);
    if (load_job)
        br_db_bind_int64(st, 8, load_job);
    else
        br_db_bind_null(st, 8);
    br_bind_text(st, 9, now);
    if (br_step(repo, st) != BR_DB_DONE) return br_store_fail(repo, err, "fetched file add");
    f->id = br_db_last_id(repo->db);
    return 0;
}

int br_fetched_set(br_repo *repo, int64_t id, const char *state, int64_t load_job, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_FETCHED_SET, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, state);
    if (load_job)
        br_db_bind_int64(st, 3, load_job);
    else
        br_db_bind_null(st, 3);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "fetched file update");
}

static void copy_text(char *dst, size_t size, br_dbst *st, int col)
{
    const char *s = br_col_text(st, col);
    br_strlcpy(dst, s ? s : "", size);
}

int br_fetched_pending(br_repo *repo, const char *profile, br_fetched **out, size_t *n,
                       br_error *err)
{
    *out = NULL;
    *n = 0;
    br_dbst *st = br_stmt(repo, S_FETCHED_PENDING, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, profile);
    size_t cap = 0;
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        if (br_grow((void **)out, &cap, *n + 1, sizeof **out)) {
            br_db_reset(st);
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
        br_fetched *f = &(*out)[(*n)++];
        memset(f, 0, sizeof *f);
        f->id = br_db_col_int64(st, 0);
        copy_text(f->profile, sizeof f->profile, st, 1);
        copy_text(f->name, sizeof f->name, st, 2);
        f->size = br_db_col_int64(st, 3);
        f->mtime = br_db_col_null(st, 4) ? -1 : br_db_col_int64(st, 4);
        copy_text(f->sha256, sizeof f->sha256, st, 5);
        f->fetch_job = br_db_col_int64(st, 6);
    }
    br_db_reset(st);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "fetched file list");
}

int br_profile_fetch_active(br_repo *repo, const char *name, int64_t *job, br_error *err)
{
    *job = 0;
    br_dbst *st = br_stmt(repo, S_PROFILE_FETCH_ACTIVE, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    return find_job(repo, st, job, err, "profile job read");
}

int br_profile_advance(br_repo *repo, const char *name, int64_t from, int64_t to, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_PROFILE_ADVANCE, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    if (from)
        br_db_bind_int64(st, 2, from);
    else
        br_db_bind_null(st, 2);
    if (to)
        br_db_bind_int64(st, 3, to);
    else
        br_db_bind_null(st, 3);
    if (br_step(repo, st) != BR_DB_DONE) return br_store_fail(repo, err, "profile schedule");
    return br_db_changes(repo->db) > 0;
}
