/* Relations between assets: the SQL of store_relation.h and br_relation_delete. */
#include <string.h>
#include "bulkrepo/relation.h"
#include "store_internal.h"
#include "store_relation.h"

static br_dbst *row_stmt(br_repo *repo, stmt_id id, const char *type, int64_t left, int64_t right,
                         br_error *err)
{
    br_dbst *st = br_stmt(repo, id, err);
    if (!st) return NULL;
    br_bind_text(st, 1, type);
    br_db_bind_int64(st, 2, left);
    br_db_bind_int64(st, 3, right);
    return st;
}

int br_relation_row_exists(br_repo *repo, const char *type, int64_t left, int64_t right,
                           br_error *err)
{
    br_dbst *st = row_stmt(repo, S_REL_EXISTS, type, left, right, err);
    if (!st) return BR_ESTORE;
    int rc = br_step(repo, st);
    br_db_reset(st);
    if (rc == BR_DB_ROW) return 1;
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "relationship lookup");
}

int br_relation_delete(br_repo *repo, const char *type, int64_t left, int64_t right, int *removed,
                       br_error *err)
{
    if (removed) *removed = 0;
    br_dbst *st = row_stmt(repo, S_REL_DELETE, type, left, right, err);
    if (!st) return BR_ESTORE;
    int rc = br_step(repo, st);
    br_db_reset(st);
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "delete relationship");
    if (removed) *removed = br_db_changes(repo->db) > 0;
    return 0;
}

int br_item_relations(br_repo *repo, int64_t id, br_record *rec, br_error *err)
{
    br_record_reset(rec);
    br_dbst *st = br_stmt(repo, S_ITEM_IDENT, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        rec->id = id;
        rec->uuid = br_record_str(rec, br_col_text(st, 0));
        rec->handle = br_record_str(rec, br_col_text(st, 1));
    }
    br_db_reset(st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item with id %lld", (long long)id);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "item read");
    if (!rec->uuid) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!(st = br_stmt(repo, S_ITEM_RELS, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        const char *other = br_col_text(st, 2);
        br_relation *r = br_record_add_relation(rec, br_col_text(st, 0), other ? other : "");
        if (!r) {
            br_db_reset(st);
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
        r->is_left = br_db_col_int(st, 1);
        r->place = br_db_col_int(st, 3);
    }
    br_db_reset(st);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "relationship read");
}

int br_item_touch(br_repo *repo, int64_t id, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_ITEM_TOUCH, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, now);
    int rc = br_step(repo, st);
    br_db_reset(st);
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "item version");
    return br_db_changes(repo->db)
               ? 0
               : br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item with id %lld", (long long)id);
}
