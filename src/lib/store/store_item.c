/* Items: insert, delete, load, list, relations and collection templates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_internal.h"

/* Per-item lookup: by handle only (br_container_get also counts the items). */
int br_collection_resolve(br_repo *repo, const char *handle, int64_t *id, br_error *err)
{
    if (!handle || !id)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_collection_resolve: missing argument");
    br_dbst *st = br_stmt(repo, S_CONT_ID, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, handle);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no collection has handle %s", handle);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "collection lookup");
    int community = br_db_col_int(st, 1);
    int64_t found = br_db_col_int64(st, 0);
    br_db_reset(st);
    if (community)
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "%s is a community, not a collection",
                            handle);
    *id = found;
    return 0;
}

static void bind_opt_int(br_dbst *st, int i, int v)
{
    if (v)
        br_db_bind_int64(st, i, v);
    else
        br_db_bind_null(st, i);
}

/* A write's step result as the store's code: 0, BR_EEXISTS for a refusal, else BR_ESTORE. */
static int written(br_repo *repo, int rc, br_error *err, const char *what)
{
    if (rc == BR_DB_DONE) return 0;
    if (br_db_is_constraint(rc))
        return br_error_set(err, BR_EEXISTS, NULL, 0, 0, "%s: %s", what, br_db_errmsg(repo->db));
    return br_store_fail(repo, err, what);
}

static int step(br_repo *repo, br_dbst *st, br_error *err, const char *what)
{
    return written(repo, br_step(repo, st), err, what);
}

/* step for the rows of an item whose answers nothing reads (sent ahead on PostgreSQL). */
static int step_ahead(br_repo *repo, br_dbst *st, br_error *err, const char *what)
{
    return written(repo, br_step_ahead(repo, st), err, what);
}

/* step for an INSERT whose backend text may return the new row's id (RETURNING id, which
 * saves PostgreSQL a round trip to ask for it); otherwise last_id gives it. */
static int step_id(br_repo *repo, br_dbst *st, int64_t *id, br_error *err, const char *what)
{
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        *id = br_db_col_int64(st, 0);
        br_db_reset(st);
        return 0;
    }
    if (rc == BR_DB_DONE) *id = br_db_last_id(repo->db);
    return written(repo, rc, err, what);
}

/* The statement that inserts k metadata values at once (S_MV_INSERT's columns, k rows of
 * six parameters), prepared at its first use and kept for the connection's life. */
static br_dbst *mv_rows_stmt(br_repo *repo, size_t k, br_error *err)
{
    if (repo->mv_rows[k]) return repo->mv_rows[k];
    br_buf b = {0};
    int rc = br_buf_printf(&b, "INSERT INTO metadata_value(item_id, field_id, language, value, "
                               "place, seq) VALUES ");
    for (size_t r = 0; r < k && !rc; r++) {
        size_t p = 6 * r;
        rc = br_buf_printf(&b, "%s(?%zu, ?%zu, ?%zu, ?%zu, ?%zu, ?%zu)", r ? ", " : "", p + 1,
                           p + 2, p + 3, p + 4, p + 5, p + 6);
    }
    br_dbst *st = NULL;
    if (rc)
        br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    else if (repo->db->be->prepare(repo->db, b.p, (int)b.len, 1, &st))
        br_store_fail(repo, err, "prepare");
    br_buf_dispose(&b);
    return repo->mv_rows[k] = st;
}

/* An item's metadata values, rows_per_insert of them per statement (one each on SQLite). */
static int insert_mv(br_repo *repo, const br_record *rec, int64_t item, br_error *err)
{
    size_t per = repo->db->be->rows_per_insert;
    if (per > BR_MV_ROWS_MAX) per = BR_MV_ROWS_MAX;
    for (size_t i = 0; i < rec->n_md;) {
        size_t k = rec->n_md - i;
        if (per < 2 || k < 2)
            k = 1;
        else if (k > per)
            k = per;
        br_dbst *st = k == 1 ? br_stmt(repo, S_MV_INSERT, err) : mv_rows_stmt(repo, k, err);
        if (!st) return BR_ESTORE;
        for (size_t r = 0; r < k; r++) {
            const br_mdv *v = &rec->md[i + r];
            int64_t fid = br_field_id(repo, v->schema, v->element, v->qualifier);
            if (!fid)
                return br_error_set(err, BR_EINVAL, v->origin.source, v->origin.line,
                                    v->origin.column, "%s.%s%s%s is not in the metadata registry",
                                    v->schema, v->element, v->qualifier ? "." : "",
                                    v->qualifier ? v->qualifier : "");
            int p = (int)(6 * r);
            br_db_bind_int64(st, p + 1, item);
            br_db_bind_int64(st, p + 2, fid);
            br_bind_text(st, p + 3, v->language);
            br_bind_text(st, p + 4, v->value);
            br_db_bind_int64(st, p + 5, v->place);
            br_db_bind_int64(st, p + 6, (int)(i + r));
        }
        int rc = step_ahead(repo, st, err, "insert metadata value");
        br_db_reset(st);
        if (rc) return rc;
        i += k;
    }
    return 0;
}

static int insert_values(br_repo *repo, const br_record *rec, int64_t item, br_error *err)
{
    int mv = insert_mv(repo, rec, item, err);
    if (mv) return mv;
    for (size_t i = 0; i < rec->n_bs; i++) {
        const br_bitstream *b = &rec->bs[i];
        if (!b->sha256[0])
            return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "bitstream %s was not stored first",
                                b->name);
        br_dbst *st = br_stmt(repo, S_BS_INSERT, err);
        if (!st) return BR_ESTORE;
        br_db_bind_int64(st, 1, item);
        br_bind_text(st, 2, b->bundle ? b->bundle : "ORIGINAL");
        br_bind_text(st, 3, b->name);
        br_db_bind_int64(st, 4, (int)i);
        br_db_bind_int64(st, 5, b->size);
        br_bind_text(st, 6, b->md5);
        br_bind_text(st, 7, b->sha256);
        br_bind_text(st, 8, b->mime);
        br_bind_text(st, 9, b->description);
        br_db_bind_int64(st, 10, b->primary ? 1 : 0);
        br_bind_text(st, 11, b->read_group);
        br_bind_text(st, 12, b->write_group);
        br_bind_text(st, 13, b->iiif_label);
        br_bind_text(st, 14, b->iiif_toc);
        bind_opt_int(st, 15, b->iiif_width);
        bind_opt_int(st, 16, b->iiif_height);
        const char *ef[] = {b->license,      b->rights,       b->rights_reason, b->rights_date,
                            b->content_type, b->supplemental, b->order};
        for (int k = 0; k < 7; k++)
            br_bind_text(st, 17 + k, ef[k]);
        int rc = step_ahead(repo, st, err, "insert bitstream");
        if (rc) return rc;
    }
    for (size_t i = 0; i < rec->n_creators; i++) {
        const br_creator *c = &rec->creators[i];
        br_dbst *st = br_stmt(repo, S_CREATOR_INSERT, err);
        if (!st) return BR_ESTORE;
        br_db_bind_int64(st, 1, item);
        br_bind_text(st, 2, c->role == BR_CONTRIBUTOR ? "contributor" : "creator");
        br_db_bind_int64(st, 3, c->place);
        br_db_bind_int64(st, 4, c->is_organization ? 1 : 0);
        const char *f[] = {c->family,        c->given,        c->middle,     c->suffix,
                           c->display,       c->orcid,        c->email,      c->affiliation,
                           c->researcher_id, c->contrib_type, c->primary_id, c->brcode,
                           c->additional};
        for (int k = 0; k < 13; k++)
            br_bind_text(st, 5 + k, f[k]);
        int rc = step_ahead(repo, st, err, "insert creator");
        if (rc) return rc;
    }
    for (size_t i = 0; i < rec->n_links; i++) {
        const br_link *l = &rec->links[i];
        br_dbst *st = br_stmt(repo, S_LINK_INSERT, err);
        if (!st) return BR_ESTORE;
        br_db_bind_int64(st, 1, item);
        br_db_bind_int64(st, 2, l->place);
        const char *f[] = {l->url ? l->url : "", l->title,  l->description, l->type,
                           l->license,           l->rights, l->owner,       l->order,
                           l->display_in_viewer};
        for (int k = 0; k < 9; k++)
            br_bind_text(st, 3 + k, f[k]);
        int rc = step_ahead(repo, st, err, "insert link");
        if (rc) return rc;
    }
    for (size_t i = 0; i < rec->n_ids; i++) {
        br_dbst *st = br_stmt(repo, S_ID_INSERT, err);
        if (!st) return BR_ESTORE;
        br_db_bind_int64(st, 1, item);
        br_bind_text(st, 2, rec->ids[i].type);
        br_bind_text(st, 3, rec->ids[i].value);
        int rc = step(repo, st, err, "insert identifier");
        if (rc == BR_EEXISTS)
            return br_error_set(err, BR_EEXISTS, rec->ids[i].origin.source, rec->ids[i].origin.line,
                                0, "identifier %s %s already belongs to another item",
                                rec->ids[i].type, rec->ids[i].value);
        if (rc) return rc;
    }
    /* dc.identifier.doi / .isbn / .uri values are identifiers too, so that
     * matching finds them through the identifier table's index (the values'
     * own index is by field only: a lookup by value scans the field).  The
     * first item to carry a value owns it; another with the same value keeps
     * it as metadata only. */
    for (size_t i = 0; i < rec->n_md; i++) {
        const br_mdv *v = &rec->md[i];
        if (!v->qualifier || strcmp(v->element, "identifier") || strcmp(v->schema, "dc") ||
            (strcmp(v->qualifier, "doi") && strcmp(v->qualifier, "isbn") &&
             strcmp(v->qualifier, "uri")))
            continue;
        br_dbst *st = br_stmt(repo, S_ID_MIRROR, err);
        if (!st) return BR_ESTORE;
        br_db_bind_int64(st, 1, item);
        br_bind_text(st, 2, v->qualifier);
        br_bind_text(st, 3, v->value);
        int rc = step_ahead(repo, st, err, "insert identifier");
        if (rc) return rc;
    }
    return 0;
}

int br_item_insert(br_repo *repo, br_record *rec, const br_item_write *w, br_error *err)
{
    static const br_item_write defaults = {"archived", 0, NULL};
    if (!w) w = &defaults;
    const char *status = w->status ? w->status : "archived";
    int is_template = !strcmp(status, "template");
    int64_t owning = 0;
    int rc;
    if (!is_template && rec->n_collections == 0)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "item %s names no collection",
                            rec->key ? rec->key : "");
    if (rec->n_collections && (rc = br_collection_resolve(repo, rec->collections[0], &owning, err)))
        return rc;

    char handle[128] = "", uuid[37], now[32], prefix[64];
    int64_t num = -1;
    if (!is_template) {
        if (rec->handle && *rec->handle) {
            int used = br_handle_exists(repo, rec->handle);
            if (used < 0) return br_store_fail(repo, err, "handle lookup");
            if (used)
                return br_error_set(err, BR_EEXISTS, NULL, 0, 0, "handle %s is already in use",
                                    rec->handle);
            if (br_strlcpy(handle, rec->handle, sizeof handle) >= sizeof handle)
                return br_error_set(err, BR_EINVAL, NULL, 0, 0, "handle %.60s... is too long",
                                    rec->handle);
        } else if ((rc = br_handle_allocate(repo, handle, sizeof handle, err))) {
            return rc;
        }
        br_handle_split(handle, prefix, sizeof prefix, &num);
    }
    if (w->uuid)
        br_strlcpy(uuid, w->uuid, sizeof uuid);
    else if (br_uuid4(uuid))
        return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "no random bytes for a UUID");
    br_now_iso(now);

    br_dbst *st = br_stmt(repo, S_ITEM_INSERT, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, uuid);
    br_bind_text(st, 2, is_template ? NULL : handle);
    br_bind_text(st, 3, is_template ? NULL : prefix);
    if (num >= 0)
        br_db_bind_int64(st, 4, num);
    else
        br_db_bind_null(st, 4);
    if (owning && !is_template)
        br_db_bind_int64(st, 5, owning);
    else
        br_db_bind_null(st, 5);
    br_bind_text(st, 6, status);
    br_bind_text(st, 7, now);
    if (w->job_id)
        br_db_bind_int64(st, 8, w->job_id);
    else
        br_db_bind_null(st, 8);
    int64_t item = 0;
    if ((rc = step_id(repo, st, &item, err, "insert item"))) return rc;
    if (!is_template && (rc = br_handle_note_used(repo, handle, err))) return rc;

    for (size_t i = 0; !is_template && i < rec->n_collections; i++) {
        int64_t cid = owning;
        if (i && (rc = br_collection_resolve(repo, rec->collections[i], &cid, err))) return rc;
        st = br_stmt(repo, S_ITEM_COLL_INSERT, err);
        if (!st) return BR_ESTORE;
        br_db_bind_int64(st, 1, item);
        br_db_bind_int64(st, 2, cid);
        br_db_bind_int64(st, 3, (int)i);
        if ((rc = step_ahead(repo, st, err, "map item to collection"))) return rc;
    }
    if ((rc = insert_values(repo, rec, item, err))) return rc;
    /* Templates are never searchable: they get no row in the search index. */
    if (!is_template && (rc = br_search_index_item(repo, item, err))) return rc;
    const char *h = is_template ? NULL : br_record_str(rec, handle);
    const char *u = br_record_str(rec, uuid), *stat = br_record_str(rec, status);
    if ((!is_template && !h) || !u || !stat)
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    rec->id = item;
    rec->handle = h;
    rec->uuid = u;
    rec->status = stat;
    return 0;
}

int br_item_delete(br_repo *repo, int64_t id, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_ITEM_DELETE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    int rc = step(repo, st, err, "delete item");
    if (rc) return rc;
    if (br_db_changes(repo->db) == 0)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item with id %lld", (long long)id);
    return br_search_unindex_item(repo, id, err);
}

int br_item_find(br_repo *repo, const char *key, int64_t *id, br_error *err)
{
    if (!key || !id)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_item_find: missing argument");
    br_dbst *st = br_stmt(repo, strchr(key, '/') ? S_ITEM_BY_HANDLE : S_ITEM_BY_UUID, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, key);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        *id = br_db_col_int64(st, 0);
        br_db_reset(st);
        return 0;
    }
    if (rc == BR_DB_DONE) return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item %s", key);
    return br_store_fail(repo, err, "item lookup");
}

int br_item_find_by_identifier(br_repo *repo, const char *type, const char *value, int64_t *id,
                               br_error *err)
{
    if (!type || !value || !id)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "br_item_find_by_identifier: missing argument");
    br_dbst *st = br_stmt(repo, S_ITEM_BY_IDENT, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, type);
    br_bind_text(st, 2, value);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        *id = br_db_col_int64(st, 0);
        br_db_reset(st);
        return 0;
    }
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item has %s identifier %s", type,
                            value);
    return br_store_fail(repo, err, "identifier lookup");
}

int br_item_update(br_repo *repo, const br_record *rec, const br_item_write *w, br_error *err)
{
    if (!rec || !rec->id)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the record names no stored item");
    static const stmt_id clear[] = {S_ITEM_CLEAR_MD, S_ITEM_CLEAR_BS, S_ITEM_CLEAR_CREATORS,
                                    S_ITEM_CLEAR_LINKS, S_ITEM_CLEAR_IDS};
    char now[32];
    br_now_iso(now);
    br_dbst *st = br_stmt(repo, S_ITEM_UPDATE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, rec->id);
    br_bind_text(st, 2, w ? w->status : NULL);
    br_bind_text(st, 3, now);
    if (w && w->job_id)
        br_db_bind_int64(st, 4, w->job_id);
    else
        br_db_bind_null(st, 4);
    int rc = step(repo, st, err, "update item");
    if (rc) return rc;
    if (br_db_changes(repo->db) == 0)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item with id %lld",
                            (long long)rec->id);
    for (size_t i = 0; i < BR_ARRAY_LEN(clear); i++) {
        if (!(st = br_stmt(repo, clear[i], err))) return BR_ESTORE;
        br_db_bind_int64(st, 1, rec->id);
        if ((rc = step(repo, st, err, "update item"))) return rc;
    }
    if ((rc = insert_values(repo, rec, rec->id, err))) return rc;
    return br_search_index_item(repo, rec->id, err);
}

int br_item_find_by_value(br_repo *repo, const char *schema, const char *element,
                          const char *qualifier, const char *value, int64_t *ids, size_t max,
                          size_t *n, br_error *err)
{
    if (!n || (max && !ids) || !schema || !element || !value)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_item_find_by_value: missing argument");
    *n = 0;
    int64_t fid = br_field_id(repo, schema, element, qualifier);
    if (!fid) return 0; /* a field not in the registry has no values */
    br_dbst *st = br_stmt(repo, S_ITEM_BY_VALUE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, fid);
    br_bind_text(st, 2, value);
    br_db_bind_int64(st, 3, (int64_t)max + 1);
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        if (*n < max) ids[*n] = br_db_col_int64(st, 0);
        (*n)++;
    }
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "value lookup");
}

static const char *dup_col(br_record *rec, br_dbst *st, int i)
{
    return br_record_str(rec, br_col_text(st, i));
}

int br_item_load(br_repo *repo, int64_t id, br_record *rec, br_error *err)
{
    if (!rec) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_item_load: no record");
    br_record_reset(rec);
    br_dbst *st = br_stmt(repo, S_ITEM_GET, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item with id %lld", (long long)id);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "item read");
    rec->id = br_db_col_int64(st, 0);
    rec->uuid = dup_col(rec, st, 1);
    rec->handle = dup_col(rec, st, 2);
    rec->key = rec->handle;
    rec->status = dup_col(rec, st, 3);
    rec->created = dup_col(rec, st, 4);
    rec->modified = dup_col(rec, st, 5);
    rec->owning_collection = dup_col(rec, st, 6);
    if (!rec->uuid || !rec->status)
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");

    if (!(st = br_stmt(repo, S_ITEM_MD, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_mdv *v = br_record_add_md(rec, br_col_text(st, 0), br_col_text(st, 1),
                                     br_col_text(st, 2), br_col_text(st, 3), br_col_text(st, 4));
        if (!v) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        v->place = br_db_col_int(st, 5);
    }
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "metadata read");

    if (!(st = br_stmt(repo, S_ITEM_BS, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_bitstream *b = br_record_add_bitstream(rec, br_col_text(st, 0));
        if (!b) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        b->bundle = dup_col(rec, st, 1);
        b->sequence = br_db_col_int(st, 2);
        b->size = br_db_col_int64(st, 3);
        br_strlcpy(b->md5, br_col_text(st, 4), sizeof b->md5);
        br_strlcpy(b->sha256, br_col_text(st, 5), sizeof b->sha256);
        b->mime = dup_col(rec, st, 6);
        b->description = dup_col(rec, st, 7);
        b->primary = br_db_col_int(st, 8);
        b->read_group = dup_col(rec, st, 9);
        b->write_group = dup_col(rec, st, 10);
        b->iiif_label = dup_col(rec, st, 11);
        b->iiif_toc = dup_col(rec, st, 12);
        b->iiif_width = br_db_col_int(st, 13);
        b->iiif_height = br_db_col_int(st, 14);
        const char **ef[] = {&b->license,      &b->rights,       &b->rights_reason, &b->rights_date,
                             &b->content_type, &b->supplemental, &b->order};
        for (int k = 0; k < 7; k++)
            *ef[k] = dup_col(rec, st, 15 + k);
        char path[4200];
        if (br_asset_path(repo, b->sha256, path, sizeof path))
            return br_error_set(err, BR_ELIMIT, repo->dir, 0, 0,
                                "a stored file's path is too long");
        if (!(b->path = br_record_str(rec, path)))
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "bitstream read");

    if (!(st = br_stmt(repo, S_ITEM_RELS, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        const char *other = br_col_text(st, 2);
        br_relation *r = br_record_add_relation(rec, br_col_text(st, 0), other ? other : "");
        if (!r) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        r->is_left = br_db_col_int(st, 1);
        r->place = br_db_col_int(st, 3);
    }
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "relationship read");

    if (!(st = br_stmt(repo, S_ITEM_COLLS, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    while ((rc = br_step(repo, st)) == BR_DB_ROW)
        if (br_record_add_collection(rec, br_col_text(st, 0)))
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "collection read");

    if (!(st = br_stmt(repo, S_ITEM_CREATORS, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_creator *c = br_record_add_creator(
            rec, !strcmp(br_col_text(st, 0), "contributor") ? BR_CONTRIBUTOR : BR_CREATOR);
        if (!c) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        c->place = br_db_col_int(st, 1);
        c->is_organization = br_db_col_int(st, 2);
        const char **f[] = {&c->family,        &c->given,        &c->middle,     &c->suffix,
                            &c->display,       &c->orcid,        &c->email,      &c->affiliation,
                            &c->researcher_id, &c->contrib_type, &c->primary_id, &c->brcode,
                            &c->additional};
        for (int k = 0; k < 13; k++)
            *f[k] = dup_col(rec, st, 3 + k);
    }
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "creator read");

    if (!(st = br_stmt(repo, S_ITEM_LINKS, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_link *l = br_record_add_link(rec);
        if (!l) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        l->place = br_db_col_int(st, 0);
        const char **f[] = {&l->url,   &l->title,   &l->description,
                            &l->type,  &l->license, &l->rights,
                            &l->owner, &l->order,   &l->display_in_viewer};
        for (int k = 0; k < 9; k++)
            *f[k] = dup_col(rec, st, 1 + k);
    }
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "link read");

    if (!(st = br_stmt(repo, S_ITEM_IDS, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    while ((rc = br_step(repo, st)) == BR_DB_ROW)
        if (!br_record_add_identifier(rec, br_col_text(st, 0), br_col_text(st, 1)))
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "identifier read");
    return 0;
}

int br_item_set_status(br_repo *repo, int64_t id, const char *status, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_ITEM_SET_STATUS, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, status);
    br_bind_text(st, 3, now);
    int rc = step(repo, st, err, "set item status");
    if (!rc && br_db_changes(repo->db) == 0)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item with id %lld", (long long)id);
    return rc ? rc : br_search_index_item(repo, id, err);
}

static int next_place(br_repo *repo, stmt_id id, int64_t item, const char *type, int *place,
                      br_error *err)
{
    br_dbst *st = br_stmt(repo, id, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, item);
    br_bind_text(st, 2, type);
    if (br_step(repo, st) != BR_DB_ROW) return br_store_fail(repo, err, "relationship place");
    *place = br_db_col_int(st, 0);
    return 0;
}

int br_relation_insert(br_repo *repo, const char *type, int64_t left, int64_t right, br_error *err)
{
    int lp, rp, rc;
    if ((rc = next_place(repo, S_REL_MAXPLACE_L, left, type, &lp, err))) return rc;
    if ((rc = next_place(repo, S_REL_MAXPLACE_R, right, type, &rp, err))) return rc;
    br_dbst *st = br_stmt(repo, S_REL_INSERT, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, type);
    br_db_bind_int64(st, 2, left);
    br_db_bind_int64(st, 3, right);
    br_db_bind_int64(st, 4, lp);
    br_db_bind_int64(st, 5, rp);
    return step(repo, st, err, "insert relationship");
}

int br_item_list(br_repo *repo, const br_item_query *q, br_item_fn fn, void *ctx, br_error *err)
{
    br_item_query none = {0};
    if (!q) q = &none;
    stmt_id id = q->collection ? S_LIST_COLL : q->job_id ? S_LIST_JOB : S_LIST_ALL;
    br_dbst *st = br_stmt(repo, id, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, br_field_id(repo, "dc", "title", NULL));
    br_db_bind_int64(st, 2, q->include_withdrawn ? 1 : 0);
    if (q->collection)
        br_bind_text(st, 3, q->collection);
    else if (q->job_id)
        br_db_bind_int64(st, 3, q->job_id);
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_item_summary s = {br_db_col_int64(st, 0), br_col_text(st, 1), br_col_text(st, 2),
                             br_col_text(st, 3),     br_col_text(st, 4), br_col_text(st, 5),
                             br_col_text(st, 6)};
        if (BR_YIELD(repo, fn(ctx, &s))) {
            br_db_reset(st);
            return 0;
        }
    }
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "item list");
    return 0;
}

int64_t br_item_count(br_repo *repo)
{
    br_dbst *st = br_stmt(repo, S_ITEM_COUNT, NULL);
    if (!st || br_step(repo, st) != BR_DB_ROW) return BR_ESTORE;
    int64_t n = br_db_col_int64(st, 0);
    br_db_reset(st);
    return n;
}

/* ---- templates ------------------------------------------------------------------------------ */

static int template_id(br_repo *repo, const char *handle, int64_t *coll, int64_t *tmpl,
                       br_error *err)
{
    if (!handle) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no collection handle given");
    br_dbst *st = br_stmt(repo, S_CONT_BY_HANDLE, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, handle);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no collection has handle %s", handle);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "collection lookup");
    if (br_db_col_int(st, 1))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "%s is a community, not a collection",
                            handle);
    *coll = br_db_col_int64(st, 0);
    *tmpl = br_db_col_null(st, 6) ? 0 : br_db_col_int64(st, 6);
    br_db_reset(st);
    return 0;
}

int br_collection_set_template(br_repo *repo, const char *handle, const br_record *tmpl,
                               br_error *err)
{
    if (!tmpl) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no template record given");
    int64_t coll, old;
    int rc = template_id(repo, handle, &coll, &old, err);
    if (rc) return rc;
    br_record *copy = br_record_new();
    if (!copy) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if ((rc = br_repo_begin(repo, err))) goto done;
    if (old && (rc = br_item_delete(repo, old, err)) && rc != BR_ENOTFOUND) goto done;
    for (size_t i = 0; i < tmpl->n_md; i++) {
        const br_mdv *v = &tmpl->md[i];
        if (!br_record_add_md(copy, v->schema, v->element, v->qualifier, v->language, v->value)) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
    }
    br_item_write w = {"template", 0, NULL};
    if ((rc = br_item_insert(repo, copy, &w, err))) goto done;
    br_dbst *st = br_stmt(repo, S_CONT_SET_TEMPLATE, err);
    if (!st) {
        rc = BR_ESTORE;
        goto done;
    }
    br_db_bind_int64(st, 1, coll);
    br_db_bind_int64(st, 2, copy->id);
    if ((rc = step(repo, st, err, "set template"))) goto done;
    rc = br_repo_commit(repo, err);
done:
    if (rc) br_repo_rollback(repo);
    br_record_free(copy);
    return rc;
}

int br_collection_apply_template(br_repo *repo, const char *handle, br_record *rec, br_error *err)
{
    int64_t coll, tmpl;
    int rc = template_id(repo, handle, &coll, &tmpl, err);
    if (rc || !tmpl) return rc;
    br_record *t = br_record_new();
    if (!t) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!(rc = br_item_load(repo, tmpl, t, err))) {
        for (size_t i = 0; i < t->n_md; i++) {
            const br_mdv *v = &t->md[i];
            if (!br_record_add_md(rec, v->schema, v->element, v->qualifier, v->language,
                                  v->value)) {
                rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
                break;
            }
        }
    }
    br_record_free(t);
    return rc;
}
