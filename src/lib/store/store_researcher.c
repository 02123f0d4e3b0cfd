/* Researchers, their ORCID works and the ORCID API's configuration in the store (researcher.h;
 * schema v7: researcher, researcher_affiliation, researcher_term, orcid_work; the API in meta).
 * A researcher is written whole: its row, then its affiliations and terms replaced, in one
 * transaction (the caller's when one is open). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/researcher.h"
#include "doi/doi_internal.h"
#include "model/researcher_internal.h"
#include "store_internal.h"

#define META_API   "orcid.api_url"
#define META_TOKEN "orcid.token"

/* ---- lookups -------------------------------------------------------------------------------- */

static int row_of(br_repo *repo, stmt_id id, const char *key, int64_t *row, br_error *err)
{
    br_dbst *st = br_stmt(repo, id, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, key);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        *row = br_db_col_int64(st, 0);
        br_db_reset(st);
        return 0;
    }
    if (rc == BR_DB_DONE) return BR_ENOTFOUND;
    return br_store_fail(repo, err, "researcher lookup");
}

int br_researcher_row(br_repo *repo, const char *id, int64_t *row, br_error *err)
{
    int rc = row_of(repo, S_RES_BY_RID, id, row, err);
    return rc == BR_ENOTFOUND
               ? br_error_set(err, rc, NULL, 0, 0, "no researcher has the id '%s'", id)
               : rc;
}

/* By researcher id, else by ORCID iD. */
static int find(br_repo *repo, const char *key, int64_t *row, br_error *err)
{
    if (!key || !*key) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "which researcher?");
    int rc = row_of(repo, S_RES_BY_RID, key, row, err);
    char bare[20];
    if (rc == BR_ENOTFOUND && br_orcid_bare(key, bare))
        rc = row_of(repo, S_RES_BY_ORCID, bare, row, err);
    return rc == BR_ENOTFOUND
               ? br_error_set(err, rc, NULL, 0, 0, "no researcher has the id or ORCID iD '%s'", key)
               : rc;
}

int br_researcher_load_row(br_repo *repo, int64_t row, br_researcher *r, br_error *err)
{
    br_researcher_clear(r);
    br_dbst *st = br_stmt(repo, S_RES_GET, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, row);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "researcher %lld no longer exists",
                            (long long)row);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "researcher read");
    br_strlcpy(r->id, br_col_text(st, 0), sizeof r->id);
    br_strlcpy(r->family, br_col_text(st, 1), sizeof r->family);
    br_strlcpy(r->given, br_col_text(st, 2) ? br_col_text(st, 2) : "", sizeof r->given);
    br_strlcpy(r->middle, br_col_text(st, 3) ? br_col_text(st, 3) : "", sizeof r->middle);
    br_strlcpy(r->suffix, br_col_text(st, 4) ? br_col_text(st, 4) : "", sizeof r->suffix);
    br_strlcpy(r->orcid, br_col_text(st, 5) ? br_col_text(st, 5) : "", sizeof r->orcid);
    br_researcher_status_parse(br_col_text(st, 6), &r->status); /* the table's CHECK */
    r->flags = (unsigned)br_db_col_int64(st, 7) & BR_RF_ALL;
    br_strlcpy(r->last_harvest, br_col_text(st, 8) ? br_col_text(st, 8) : "",
               sizeof r->last_harvest);
    br_strlcpy(r->created, br_col_text(st, 9), sizeof r->created);
    br_strlcpy(r->modified, br_col_text(st, 10), sizeof r->modified);
    r->version = br_db_col_int64(st, 11);
    br_db_reset(st);
    if (!(st = br_stmt(repo, S_RES_AFFS, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, row);
    int bad = 0;
    while ((rc = br_step(repo, st)) == BR_DB_ROW && !bad)
        bad = br_researcher_add_affiliation(r, br_col_text(st, 0), br_col_text(st, 1),
                                            br_col_text(st, 2));
    br_db_reset(st);
    if (bad) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (rc != BR_DB_DONE && rc != BR_DB_ROW) return br_store_fail(repo, err, "researcher read");
    if (!(st = br_stmt(repo, S_RES_TERMS, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, row);
    while ((rc = br_step(repo, st)) == BR_DB_ROW && bad >= 0) {
        const char *v = br_col_text(st, 1);
        bad = !strcmp(br_col_text(st, 0), "topic") ? br_researcher_add_topic(r, v)
                                                   : br_researcher_add_keyword(r, v);
    }
    br_db_reset(st);
    if (bad < 0) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "researcher read");
}

int br_researcher_get(br_repo *repo, const char *key, br_researcher *r, br_error *err)
{
    if (!repo || !r)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_researcher_get: missing argument");
    int64_t row;
    int rc = find(repo, key, &row, err);
    return rc ? rc : br_researcher_load_row(repo, row, r, err);
}

/* ---- writes --------------------------------------------------------------------------------- */

static int step_write(br_repo *repo, br_dbst *st, br_error *err, const char *what)
{
    int rc = br_step(repo, st);
    br_db_reset(st);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, what);
}

/* The row's columns ?2..?10 of S_RES_INSERT / S_RES_UPDATE (the same order after ?1). */
static void bind_row(br_dbst *st, const br_researcher *r, const char *now)
{
    br_bind_text(st, 2, r->family);
    br_bind_text(st, 3, r->given[0] ? r->given : NULL);
    br_bind_text(st, 4, r->middle[0] ? r->middle : NULL);
    br_bind_text(st, 5, r->suffix[0] ? r->suffix : NULL);
    br_bind_text(st, 6, r->orcid[0] ? r->orcid : NULL);
    br_bind_text(st, 7, br_researcher_status_name(r->status));
    br_db_bind_int64(st, 8, (int64_t)r->flags);
    br_bind_text(st, 9, r->last_harvest[0] ? r->last_harvest : NULL);
    br_bind_text(st, 10, now);
}

static int put_lists(br_repo *repo, int64_t row, const br_researcher *r, br_error *err)
{
    br_dbst *st;
    int rc = 0;
    static const stmt_id CLEAR[] = {S_RES_CLEAR_AFFS, S_RES_CLEAR_TERMS};
    for (size_t k = 0; k < BR_ARRAY_LEN(CLEAR) && !rc; k++) {
        if (!(st = br_stmt(repo, CLEAR[k], err))) return BR_ESTORE;
        br_db_bind_int64(st, 1, row);
        rc = step_write(repo, st, err, "researcher write");
    }
    for (size_t i = 0; i < r->n_affiliations && !rc; i++) {
        const br_researcher_affiliation *a = &r->affiliations[i];
        if (!(st = br_stmt(repo, S_RES_AFF_INSERT, err))) return BR_ESTORE;
        br_db_bind_int64(st, 1, row);
        br_db_bind_int64(st, 2, (int64_t)i);
        br_bind_text(st, 3, a->unit);
        br_bind_text(st, 4, a->start[0] ? a->start : NULL);
        br_bind_text(st, 5, a->end[0] ? a->end : NULL);
        rc = step_write(repo, st, err, "researcher write");
    }
    for (int k = 0; k < 2 && !rc; k++) {
        char *const *list = k ? r->keywords : r->topics;
        size_t n = k ? r->n_keywords : r->n_topics;
        for (size_t i = 0; i < n && !rc; i++) {
            if (!(st = br_stmt(repo, S_RES_TERM_INSERT, err))) return BR_ESTORE;
            br_db_bind_int64(st, 1, row);
            br_bind_text(st, 2, k ? "keyword" : "topic");
            br_db_bind_int64(st, 3, (int64_t)i);
            br_bind_text(st, 4, list[i]);
            rc = step_write(repo, st, err, "researcher write");
        }
    }
    return rc;
}

/* Another researcher with this ORCID iD: BR_EEXISTS naming them; 0 none. */
static int orcid_taken(br_repo *repo, const br_researcher *r, int64_t self, br_error *err)
{
    if (!r->orcid[0]) return 0;
    int64_t other;
    int rc = row_of(repo, S_RES_BY_ORCID, r->orcid, &other, err);
    if (rc == BR_ENOTFOUND || (!rc && other == self)) return 0;
    if (rc) return rc;
    br_researcher *o = br_researcher_new();
    if (o && !br_researcher_load_row(repo, other, o, NULL))
        rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "the ORCID iD %s is researcher %s's",
                          r->orcid, o->id);
    else
        rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "the ORCID iD %s is another researcher's",
                          r->orcid);
    br_researcher_free(o);
    return rc;
}

/* Runs write(repo, r, err) in the caller's transaction, or in its own. */
static int in_tx(br_repo *repo, br_researcher *r,
                 int (*write)(br_repo *, br_researcher *, br_error *), br_error *err)
{
    if (repo->in_tx) return write(repo, r, err);
    int rc = br_repo_begin(repo, err);
    if (rc) return rc;
    rc = write(repo, r, err);
    if (!rc) rc = br_repo_commit(repo, err);
    if (rc) br_repo_rollback(repo);
    return rc;
}

static int insert(br_repo *repo, br_researcher *r, br_error *err)
{
    int64_t row;
    int rc = row_of(repo, S_RES_BY_RID, r->id, &row, err);
    if (!rc)
        return br_error_set(err, BR_EEXISTS, NULL, 0, 0, "a researcher with the id '%s' exists",
                            r->id);
    if (rc != BR_ENOTFOUND || (rc = orcid_taken(repo, r, 0, err))) return rc;
    br_dbst *st = br_stmt(repo, S_RES_INSERT, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    br_bind_text(st, 1, r->id);
    bind_row(st, r, now);
    if ((rc = step_write(repo, st, err, "researcher insert"))) return rc;
    row = br_db_last_id(repo->db);
    if ((rc = put_lists(repo, row, r, err))) return rc;
    br_strlcpy(r->created, now, sizeof r->created);
    br_strlcpy(r->modified, now, sizeof r->modified);
    r->version = 0;
    return 0;
}

static int update(br_repo *repo, br_researcher *r, br_error *err)
{
    int64_t row;
    int rc = br_researcher_row(repo, r->id, &row, err);
    if (rc || (rc = orcid_taken(repo, r, row, err))) return rc;
    br_dbst *st = br_stmt(repo, S_RES_UPDATE, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    br_db_bind_int64(st, 1, row);
    bind_row(st, r, now);
    if ((rc = step_write(repo, st, err, "researcher update")) ||
        (rc = put_lists(repo, row, r, err)))
        return rc;
    br_strlcpy(r->modified, now, sizeof r->modified);
    r->version++;
    return 0;
}

int br_researcher_add(br_repo *repo, br_researcher *r, br_error *err)
{
    if (!repo || !r)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_researcher_add: missing argument");
    int rc = br_researcher_check(repo, r, err);
    return rc ? rc : in_tx(repo, r, insert, err);
}

int br_researcher_update(br_repo *repo, br_researcher *r, br_error *err)
{
    if (!repo || !r)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_researcher_update: missing argument");
    int rc = br_researcher_check(repo, r, err);
    return rc ? rc : in_tx(repo, r, update, err);
}

/* ---- listing -------------------------------------------------------------------------------- */

enum { PAGE = 100 };

int br_researcher_list(br_repo *repo, br_researcher_fn fn, void *ctx, br_error *err)
{
    if (!repo || !fn)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_researcher_list: missing argument");
    /* A page of row ids first, then each loaded whole: fn may use the connection. */
    int64_t rows[PAGE];
    char after[BR_RESEARCHER_ID_MAX + 1] = "";
    br_researcher *r = br_researcher_new();
    if (!r) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int rc = 0, stop = 0;
    for (;;) {
        br_dbst *st = br_stmt(repo, S_RES_PAGE, err);
        if (!st) {
            rc = BR_ESTORE;
            break;
        }
        br_bind_text(st, 1, after);
        br_db_bind_int64(st, 2, PAGE);
        size_t n = 0;
        int s;
        while ((s = br_step(repo, st)) == BR_DB_ROW) {
            rows[n++] = br_db_col_int64(st, 0);
            br_strlcpy(after, br_col_text(st, 1), sizeof after);
        }
        br_db_reset(st);
        if (s != BR_DB_DONE) {
            rc = br_store_fail(repo, err, "researcher list");
            break;
        }
        for (size_t i = 0; i < n && !rc && !stop; i++) {
            rc = br_researcher_load_row(repo, rows[i], r, err);
            if (rc == BR_ENOTFOUND) { /* deleted meanwhile by another connection */
                rc = 0;
                continue;
            }
            if (!rc) stop = fn(ctx, r);
        }
        if (rc || stop || n < PAGE) break;
    }
    br_researcher_free(r);
    return rc;
}

int br_researcher_count(br_repo *repo, int64_t *n, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_RES_COUNT, err);
    if (!st) return BR_ESTORE;
    int rc = br_step(repo, st);
    *n = rc == BR_DB_ROW ? br_db_col_int64(st, 0) : 0;
    br_db_reset(st);
    return rc == BR_DB_ROW ? 0 : br_store_fail(repo, err, "researcher count");
}

int br_researcher_assets(br_repo *repo, const br_researcher *r, br_researcher_asset_fn fn,
                         void *ctx, br_error *err)
{
    if (!repo || !r || !fn)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_researcher_assets: missing argument");
    br_dbst *st = br_stmt(repo, S_RES_ASSETS, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, r->id);
    br_bind_text(st, 2, r->orcid[0] ? r->orcid : NULL);
    br_db_bind_int64(st, 3, br_field_id(repo, "dc", "title", NULL));
    int rc, stop = 0;
    int64_t last = 0;
    while (!stop && (rc = br_step(repo, st)) == BR_DB_ROW) {
        int64_t id = br_db_col_int64(st, 0);
        if (id == last) continue; /* one line per asset: its first creator naming them */
        last = id;
        br_researcher_asset a = {br_col_text(st, 1), br_col_text(st, 2), br_col_text(st, 3),
                                 br_col_text(st, 4), br_col_text(st, 5)};
        stop = BR_YIELD(repo, fn(ctx, &a));
    }
    br_db_reset(st);
    return stop || rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "researcher's assets");
}

/* ---- ORCID works ---------------------------------------------------------------------------- */

static int valid_put_code(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= 20 && strspn(s, "0123456789") == n;
}

/* YYYY-MM-DD, or that and "T..." (an ISO 8601 time of at most 31 bytes). */
static int pushed_ok(const char *s)
{
    char day[11];
    size_t n = strlen(s);
    if (n < 10 || n > 31 || (n > 10 && s[10] != 'T') || strpbrk(s, " \t\r\n")) return 0;
    memcpy(day, s, 10);
    day[10] = 0;
    return br_date_ymd_valid(day);
}

int br_orcid_work_add(br_repo *repo, const char *researcher, const char *put_code,
                      const char *asset, const char *pushed, br_error *err)
{
    if (!valid_put_code(put_code))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "a put-code is what ORCID answered the work's POST with: 1 to 20 "
                            "digits, not '%.40s'",
                            put_code ? put_code : "");
    if (pushed && !pushed_ok(pushed))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "when the work was pushed is a date YYYY-MM-DD or an ISO 8601 time "
                            "(2024-05-01T10:00:00Z), not '%.40s'",
                            pushed);
    int64_t row;
    int rc = find(repo, researcher, &row, err);
    br_researcher *r = rc ? NULL : br_researcher_new();
    if (!rc && !r) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!rc) rc = br_researcher_load_row(repo, row, r, err);
    if (!rc && !r->orcid[0])
        rc = br_error_set(err, BR_EINVAL, NULL, 0, 0,
                          "researcher %s has no ORCID iD: no work can have been pushed", r->id);
    char uuid[64] = "";
    if (!rc && asset && *asset) {
        int64_t item;
        br_dbst *st;
        if ((rc = br_item_find(repo, asset, &item, err)) == BR_ENOTFOUND)
            rc = br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no asset has the handle or UUID %s",
                              asset);
        else if (!rc && !(st = br_stmt(repo, S_SET_ITEM_UUID, err)))
            rc = BR_ESTORE;
        else if (!rc) {
            br_db_bind_int64(st, 1, item);
            if (br_step(repo, st) == BR_DB_ROW) br_strlcpy(uuid, br_col_text(st, 0), sizeof uuid);
            br_db_reset(st);
        }
    }
    br_dbst *st = rc ? NULL : br_stmt(repo, S_ORCID_WORK_ADD, err);
    if (!rc && !st) rc = BR_ESTORE;
    if (!rc) {
        char now[32];
        br_now_iso(now);
        br_db_bind_int64(st, 1, row);
        br_bind_text(st, 2, put_code);
        br_bind_text(st, 3, uuid[0] ? uuid : NULL);
        br_bind_text(st, 4, pushed ? pushed : now);
        int s = br_step_guarded(repo, st);
        br_db_reset(st);
        if (br_db_is_constraint(s))
            rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0,
                              "the work with put-code %s is recorded for %s already", put_code,
                              r->id);
        else if (s != BR_DB_DONE)
            rc = br_store_fail(repo, err, "ORCID work insert");
    }
    br_researcher_free(r);
    return rc;
}

static int works(br_repo *repo, int64_t row, br_orcid_work_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_ORCID_WORKS, err);
    if (!st) return BR_ESTORE;
    if (row) br_db_bind_int64(st, 1, row);
    int rc, stop = 0;
    while (!stop && (rc = br_step(repo, st)) == BR_DB_ROW) {
        br_orcid_work w = {br_col_text(st, 0), br_col_text(st, 1), br_col_text(st, 2),
                           br_col_text(st, 3), br_col_text(st, 4), br_col_text(st, 5)};
        stop = BR_YIELD(repo, fn(ctx, &w));
    }
    br_db_reset(st);
    return stop || rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "ORCID works");
}

int br_orcid_work_list(br_repo *repo, const char *researcher, br_orcid_work_fn fn, void *ctx,
                       br_error *err)
{
    int64_t row = 0;
    int rc = researcher ? find(repo, researcher, &row, err) : 0;
    return rc ? rc : works(repo, row, fn, ctx, err);
}

int br_orcid_work_of(br_repo *repo, int64_t row, br_orcid_work_fn fn, void *ctx, br_error *err)
{
    return works(repo, row, fn, ctx, err);
}

int br_orcid_work_remove(br_repo *repo, int64_t row, const char *put_code, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_ORCID_WORK_DEL, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, row);
    br_bind_text(st, 2, put_code);
    return step_write(repo, st, err, "ORCID work delete");
}

/* ---- the ORCID API's configuration (meta) --------------------------------------------------- */

int br_orcid_config_set(br_repo *repo, const char *api_url, const char *token, br_error *err)
{
    if (!repo || !api_url)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_orcid_config_set: missing argument");
    size_t n = strlen(api_url);
    if (n && ((strncmp(api_url, "https://", 8) && strncmp(api_url, "http://", 7)) || n > 500 ||
              strpbrk(api_url, " \t\r\n")))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "the ORCID API is an http:// or https:// URL of at most 500 bytes "
                            "(https://api.orcid.org), not '%.80s'",
                            api_url);
    if (token) {
        size_t t = strlen(token);
        int bad = !t || t > 1024;
        for (size_t i = 0; i < t && !bad; i++)
            bad = (unsigned char)token[i] <= 0x20 || token[i] == 0x7f;
        if (bad)
            return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                "an ORCID access token is 1 to 1024 characters without spaces or "
                                "control characters");
    }
    char *sealed = NULL;
    int rc = 0;
    if (token && n) {
        size_t size = 4 * strlen(token) + 128;
        if (!(sealed = malloc(size)))
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        rc = br_doi_seal(br_repo_dir(repo), token, sealed, size, err);
    }
    if (!rc) rc = br_store_meta_set(repo, META_API, api_url, err);
    if (!rc && (sealed || !n)) rc = br_store_meta_set(repo, META_TOKEN, sealed ? sealed : "", err);
    free(sealed);
    return rc;
}

int br_orcid_config_get(br_repo *repo, br_orcid_config *out, br_error *err)
{
    memset(out, 0, sizeof *out);
    int rc = br_store_meta_get(repo, META_API, out->api_url, sizeof out->api_url, err);
    if (rc == BR_ENOTFOUND) return 0;
    char sealed[8];
    if (!rc && out->api_url[0]) {
        int t = br_store_meta_get(repo, META_TOKEN, sealed, sizeof sealed, NULL);
        out->has_token = !t && sealed[0];
        if (t && t != BR_ENOTFOUND) rc = br_store_fail(repo, err, "meta read");
    }
    return rc;
}

int br_orcid_config_secret(br_repo *repo, char *api, size_t api_size, char *token,
                           size_t token_size, br_error *err)
{
    api[0] = token[0] = 0;
    int rc = br_store_meta_get(repo, META_API, api, api_size, err);
    if (rc == BR_ENOTFOUND || (!rc && !api[0])) return 0;
    if (rc) return rc;
    size_t size = 4 * 1024 + 128;
    char *sealed = malloc(size);
    if (!sealed) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    rc = br_store_meta_get(repo, META_TOKEN, sealed, size, err);
    if (rc == BR_ENOTFOUND) {
        sealed[0] = 0;
        rc = 0;
    }
    if (!rc && sealed[0] && br_doi_unseal(br_repo_dir(repo), sealed, token, token_size, err))
        rc = br_error_set(err, BR_EINVAL, NULL, 0, 0,
                          "the stored ORCID token does not open with this repository's key "
                          "(secret.key was replaced?): set it again with `bulkrepo orcid config "
                          "--api URL --token-file FILE`");
    free(sealed);
    return rc;
}
