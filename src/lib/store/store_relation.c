/* Relations between assets: the SQL of store_relation.h and br_relation_delete. */
#include <string.h>
#include "bulkrepo/relation.h"
#include "store_internal.h"
#include "store_relation.h"

static sqlite3_stmt *row_stmt(br_repo *repo, stmt_id id, const char *type, int64_t left,
                              int64_t right, br_error *err)
{
    sqlite3_stmt *st = br_stmt(repo, id, err);
    if (!st) return NULL;
    br_bind_text(st, 1, type);
    sqlite3_bind_int64(st, 2, left);
    sqlite3_bind_int64(st, 3, right);
    return st;
}

int br_relation_row_exists(br_repo *repo, const char *type, int64_t left, int64_t right,
                           br_error *err)
{
    sqlite3_stmt *st = row_stmt(repo, S_REL_EXISTS, type, left, right, err);
    if (!st) return BR_ESTORE;
    int rc = br_step(repo, st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return 1;
    return rc == SQLITE_DONE ? 0 : br_store_fail(repo, err, "relationship lookup");
}

int br_relation_delete(br_repo *repo, const char *type, int64_t left, int64_t right, int *removed,
                       br_error *err)
{
    if (removed) *removed = 0;
    sqlite3_stmt *st = row_stmt(repo, S_REL_DELETE, type, left, right, err);
    if (!st) return BR_ESTORE;
    int rc = br_step(repo, st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return br_store_fail(repo, err, "delete relationship");
    if (removed) *removed = sqlite3_changes(repo->db) > 0;
    return 0;
}

int br_item_relations(br_repo *repo, int64_t id, br_record *rec, br_error *err)
{
    br_record_reset(rec);
    sqlite3_stmt *st = br_stmt(repo, S_ITEM_IDENT, err);
    if (!st) return BR_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    int rc = br_step(repo, st);
    if (rc == SQLITE_ROW) {
        rec->id = id;
        rec->uuid = br_record_str(rec, br_col_text(st, 0));
        rec->handle = br_record_str(rec, br_col_text(st, 1));
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item with id %lld", (long long)id);
    if (rc != SQLITE_ROW) return br_store_fail(repo, err, "item read");
    if (!rec->uuid) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!(st = br_stmt(repo, S_ITEM_RELS, err))) return BR_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    while ((rc = br_step(repo, st)) == SQLITE_ROW) {
        const char *other = br_col_text(st, 2);
        br_relation *r = br_record_add_relation(rec, br_col_text(st, 0), other ? other : "");
        if (!r) {
            sqlite3_reset(st);
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
        r->is_left = sqlite3_column_int(st, 1);
        r->place = sqlite3_column_int(st, 3);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : br_store_fail(repo, err, "relationship read");
}

int br_item_touch(br_repo *repo, int64_t id, br_error *err)
{
    sqlite3_stmt *st = br_stmt(repo, S_ITEM_TOUCH, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    sqlite3_bind_int64(st, 1, id);
    br_bind_text(st, 2, now);
    int rc = br_step(repo, st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return br_store_fail(repo, err, "item version");
    return sqlite3_changes(repo->db)
               ? 0
               : br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item with id %lld", (long long)id);
}
