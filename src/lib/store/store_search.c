/* Search (search.h): the item_fts index kept by every write of an item, and the queries of
 * search/query.h run against it.
 *
 * The index has one row per item but templates (rowid = item.id), written by FTS_ROW_SQL
 * from the item's tables in the transaction of the write (store_item.c calls
 * br_search_index_item / br_search_unindex_item).  A query's tree becomes one SQL text
 * made of the fixed fragments below and those of the backend's search SQL (search_sql.h: a
 * full-text node's condition, the ranking query, the handle order, the page), its values bound
 * as parameters; job:ID reads the journal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_internal.h"
#include "search_sql.h"
#include "bulkrepo/search.h"
#include "search/query.h"

/* The kind of each metadata field's values in the index, into temp.item_fts_field (id, kind,
 * label), so that the row statement reads a value's kind with one lookup by id instead of
 * comparing its field's names in every column (a tenth of an import's time):
 *   1 title        dc.title and its qualified forms
 *   2 creator      dc.contributor.*, dc.creator
 *   3 affiliation  esploro.asset.affiliation
 *   4 isbn         dc.identifier.isbn, esploro.asset.eisbn
 *   5 identifier   dc.identifier.* but .citation; Esploro's PMID, PMCID, arXiv, WoS, ARK and
 *                  ProQuest ids (label: its qualifier, "identifier" for dc.identifier)
 *   6 type         dc.type
 *   7 issued       dc.date.issued (its year, and the value in body)
 *   0 body         every other field */
const char br_fts_field_sql[] =
    "INSERT OR REPLACE INTO temp.item_fts_field(id, kind, label) "
    "SELECT f.id, CASE "
    "WHEN s.prefix = 'dc' AND f.element = 'title' THEN 1 "
    "WHEN s.prefix = 'dc' AND f.element IN ('contributor', 'creator') THEN 2 "
    "WHEN s.prefix = 'esploro' AND f.element = 'asset' AND f.qualifier = 'affiliation' THEN 3 "
    "WHEN s.prefix = 'dc' AND f.element = 'identifier' AND f.qualifier = 'isbn' "
    "OR s.prefix = 'esploro' AND f.element = 'asset' AND f.qualifier = 'eisbn' THEN 4 "
    "WHEN s.prefix = 'dc' AND f.element = 'identifier' AND f.qualifier <> 'citation' "
    "OR s.prefix = 'esploro' AND f.element = 'asset' "
    "AND f.qualifier IN ('pmid', 'pmcid', 'arxiv', 'wos', 'ark', 'idpqdt') THEN 5 "
    "WHEN s.prefix = 'dc' AND f.element = 'type' THEN 6 "
    "WHEN s.prefix = 'dc' AND f.element = 'date' AND f.qualifier = 'issued' THEN 7 "
    "ELSE 0 END, CASE WHEN f.qualifier = '' THEN f.element ELSE f.qualifier END "
    "FROM metadata_field f JOIN metadata_schema s ON s.id = f.schema_id";

/* The index's rows of the items with ids in [?1, ?2] (every item: ?1 = 1, ?2 = the largest
 * id), from their tables, in the columns' order after the id:
 *   title        values of kind 1
 *   creator      the creators' names (family, given, middle, display) and values of kind 2
 *   orcid        the creators' ORCID iDs
 *   affiliation  the creators' affiliation codes and values of kind 3
 *   ident        identifiers as "type value": the identifier table's and values of kinds 4
 *                and 5; an ISBN as "isbn" and the ISBN without hyphens and spaces (the form
 *                isbn: searches), then as written
 *   type         values of kind 6
 *   coll         the collections' handles and names
 *   status       the item's status
 *   flags        hasfile (a bitstream outside the LICENSE bundle), hasdoi, haslink
 *   year         y2019 for each value of kind 7 that starts with four digits
 *   body         values of kinds 0 and 7, and of fields the kinds table does not know yet
 * One pass over the item's values (their index by item), a few lookups by index for the
 * rest.  migrations/005.sql inserts what this statement gives for every item: keep the two
 * the same (test_search.c compares an upgraded repository's index with a rebuilt one). */
const char br_fts_row_sql[] =
    "SELECT i.id, "
    "group_concat(CASE WHEN k.kind = 1 THEN v.value END, ' '), "
    "trim(COALESCE((SELECT group_concat(trim(COALESCE(c.family, '') || ' ' || "
    "COALESCE(c.given, '') || ' ' || COALESCE(c.middle, '') || ' ' || COALESCE(c.display, '')), "
    "' ') FROM creator c WHERE c.item_id = i.id), '') || ' ' || "
    "COALESCE(group_concat(CASE WHEN k.kind = 2 THEN v.value END, ' '), '')), "
    "(SELECT group_concat(c.orcid, ' ') FROM creator c WHERE c.item_id = i.id), "
    "trim(COALESCE((SELECT group_concat(c.affiliation, ' ') FROM creator c "
    "WHERE c.item_id = i.id), '') || ' ' || "
    "COALESCE(group_concat(CASE WHEN k.kind = 3 THEN v.value END, ' '), '')), "
    "trim(COALESCE((SELECT group_concat(CASE WHEN d.type LIKE 'isbn%' THEN 'isbn ' || "
    "replace(replace(d.value, '-', ''), ' ', '') || ' ' || d.value ELSE d.type || ' ' || d.value "
    "END, ' ') FROM identifier d WHERE d.item_id = i.id), '') || ' ' || "
    "COALESCE(group_concat(CASE k.kind "
    "WHEN 4 THEN 'isbn ' || replace(replace(v.value, '-', ''), ' ', '') || ' ' || v.value "
    "WHEN 5 THEN k.label || ' ' || v.value END, ' '), '')), "
    "group_concat(CASE WHEN k.kind = 6 THEN v.value END, ' '), "
    "(SELECT group_concat(o.handle || ' ' || o.name, ' ') FROM item_collection ic "
    "JOIN container o ON o.id = ic.collection_id WHERE ic.item_id = i.id), "
    "i.status, "
    "trim(CASE WHEN EXISTS (SELECT 1 FROM bitstream b WHERE b.item_id = i.id "
    "AND b.bundle <> 'LICENSE') THEN 'hasfile ' ELSE '' END || "
    "CASE WHEN EXISTS (SELECT 1 FROM identifier d WHERE d.item_id = i.id AND d.type = 'doi') "
    "OR count(CASE WHEN k.kind = 5 AND k.label = 'doi' THEN 1 END) > 0 THEN 'hasdoi ' "
    "ELSE '' END || "
    "CASE WHEN EXISTS (SELECT 1 FROM link l WHERE l.item_id = i.id) THEN 'haslink' "
    "ELSE '' END), "
    "group_concat(CASE WHEN k.kind = 7 AND substr(v.value, 1, 4) GLOB '[0-9][0-9][0-9][0-9]' "
    "THEN 'y' || substr(v.value, 1, 4) END, ' '), "
    "group_concat(CASE WHEN k.kind IS NULL OR k.kind IN (0, 7) THEN v.value END, ' ') "
    "FROM item i "
    "LEFT JOIN metadata_value v ON v.item_id = i.id "
    "LEFT JOIN temp.item_fts_field k ON k.id = v.field_id "
    "WHERE i.id BETWEEN ?1 AND ?2 AND i.status <> 'template' "
    "GROUP BY i.id";

/* ---- the index ------------------------------------------------------------------------------ */

static int run(br_repo *repo, stmt_id id, int64_t a, int64_t b, int nb, br_error *err,
               const char *what)
{
    br_dbst *st = br_stmt(repo, id, err);
    if (!st) return BR_ESTORE;
    if (nb > 0) br_db_bind_int64(st, 1, a);
    if (nb > 1) br_db_bind_int64(st, 2, b);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, what);
}

/* Fills temp.item_fts_field when the registry has fields it does not know (it only grows;
 * another connection may have added some). */
static int fill_kinds(br_repo *repo, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_FTS_FIELD_COUNT, err);
    if (!st) return BR_ESTORE;
    if (br_step(repo, st) != BR_DB_ROW) return br_store_fail(repo, err, "registry count");
    int64_t n = br_db_col_int64(st, 0);
    br_db_reset(st);
    if (repo->fts_session != repo->db->session) { /* a new session's temporary table is empty */
        repo->fts_session = repo->db->session;
        repo->fts_fields = 0;
    }
    if (n == repo->fts_fields) return 0;
    int rc = run(repo, S_FTS_FIELDS, 0, 0, 0, err, "search index kinds");
    if (!rc) repo->fts_fields = n;
    return rc;
}

/* The rows of the items with ids in [from, to] written again: the old ones deleted, then
 * what S_FTS_ROW gives inserted with bound values, one row at a time (an INSERT ... SELECT
 * into FTS5 takes a statement savepoint, at which FTS5 writes its pending terms out). */
static int write_rows(br_repo *repo, int64_t from, int64_t to, br_error *err)
{
    int rc = fill_kinds(repo, err);
    if (rc || (rc = run(repo, S_FTS_DELETE, from, to, 2, err, "search index delete"))) return rc;
    /* The insert first: br_stmt outside a transaction resets busy statements. */
    br_dbst *put = br_stmt(repo, S_FTS_PUT, err);
    br_dbst *row = put ? br_stmt(repo, S_FTS_ROW, err) : NULL;
    if (!row) return BR_ESTORE;
    br_db_bind_int64(row, 1, from);
    br_db_bind_int64(row, 2, to);
    while ((rc = br_step(repo, row)) == BR_DB_ROW) {
        for (int k = 0; k < 12; k++)
            br_db_bind_column(put, k + 1, row, k); /* copied */
        int s = br_step_ahead(repo, put);
        br_db_reset(put);
        if (s != BR_DB_DONE) {
            rc = br_store_fail(repo, err, "search index write");
            br_db_reset(row);
            return rc;
        }
    }
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "search index read");
}

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

void br_search_forget(br_repo *repo, int dispose)
{
    repo->fts_n = 0;
    repo->fts_fields = 0; /* a rollback may have taken the kinds back */
    if (dispose) {
        free(repo->fts_dirty);
        repo->fts_dirty = NULL;
        repo->fts_cap = 0;
    }
}

/* Items noted in a transaction are written at its commit, all at once and in id order:
 * FTS5 keeps the terms of consecutive inserts in memory, but other statements in between
 * (an import writes a record's tables and its journal line) made it write them out item by
 * item, which doubled the time of an import (docs/search.md, "Cost").  A run of
 * consecutive ids (a batch of new items) is one read of the tables. */
int br_search_flush(br_repo *repo, br_error *err)
{
    if (!repo->fts_n) return 0;
    qsort(repo->fts_dirty, repo->fts_n, sizeof *repo->fts_dirty, cmp_id);
    int rc = 0;
    for (size_t i = 0; i < repo->fts_n && !rc;) {
        size_t j = i + 1;
        while (j < repo->fts_n && repo->fts_dirty[j] <= repo->fts_dirty[j - 1] + 1)
            j++;
        rc = write_rows(repo, repo->fts_dirty[i], repo->fts_dirty[j - 1], err);
        i = j;
    }
    repo->fts_n = 0;
    return rc;
}

/* Notes an item for the commit (inside a transaction), else writes its row now.  A long
 * transaction writes what it noted every BR_FTS_PENDING items. */
#define BR_FTS_PENDING 8192
static int note(br_repo *repo, int64_t id, br_error *err)
{
    if (!repo->in_tx) return write_rows(repo, id, id, err);
    if (repo->fts_n == repo->fts_cap &&
        br_grow((void **)&repo->fts_dirty, &repo->fts_cap, repo->fts_n + 1, sizeof(int64_t)))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    repo->fts_dirty[repo->fts_n++] = id;
    return repo->fts_n >= BR_FTS_PENDING ? br_search_flush(repo, err) : 0;
}

int br_search_unindex_item(br_repo *repo, int64_t id, br_error *err)
{
    return note(repo, id, err); /* no item, no row */
}

int br_search_index_item(br_repo *repo, int64_t id, br_error *err)
{
    return note(repo, id, err);
}

int br_search_reindex(br_repo *repo, int64_t id, br_error *err)
{
    if (!repo) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_search_reindex: no repository");
    if (id < 0)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item with id %lld", (long long)id);
    int own = !repo->in_tx, rc;
    if (own && (rc = br_repo_begin(repo, err))) return rc;
    if (id > 0) {
        br_dbst *st = br_stmt(repo, S_ITEM_GET, err);
        if (!st) {
            rc = BR_ESTORE;
            goto done;
        }
        br_db_bind_int64(st, 1, id);
        int s = br_step(repo, st);
        br_db_reset(st);
        if (s == BR_DB_DONE)
            rc = br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item with id %lld", (long long)id);
        else if (s != BR_DB_ROW)
            rc = br_store_fail(repo, err, "item read");
        else
            rc = write_rows(repo, id, id, err);
    } else {
        /* Every row again, in id order: what was noted is part of it. */
        br_search_forget(repo, 0);
        if (!(rc = run(repo, S_FTS_CLEAR, 0, 0, 0, err, "search index clear")))
            rc = write_rows(repo, 1, INT64_MAX, err);
    }
    if (!rc && own) rc = br_repo_commit(repo, err);
done:
    if (rc && own) br_repo_rollback(repo);
    return rc;
}

/* ---- the record view's jobs ---------------------------------------------------------------- */

int br_item_jobs(br_repo *repo, int64_t id, size_t max, br_item_job_fn fn, void *ctx, br_error *err)
{
    if (!repo || !fn)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_item_jobs: missing argument");
    br_dbst *st = br_stmt(repo, S_ITEM_JOBS, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_db_bind_int64(st, 2, max ? (int64_t)max : -1);
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_item_job j = {br_db_col_int64(st, 0), br_col_text(st, 1), br_col_text(st, 2),
                         br_col_text(st, 3), br_col_text(st, 4)};
        if (BR_YIELD(repo, fn(ctx, &j))) {
            br_db_reset(st);
            return 0;
        }
    }
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "item jobs");
}

/* ---- queries ----------------------------------------------------------------------------------
 */

void br_sqlq_put(br_sqlq *s, const char *fragment)
{
    if (br_buf_puts(&s->sql, fragment)) s->nomem = 1;
}

void br_sqlq_text(br_sqlq *s, const char *t)
{
    if (!t || s->n >= (int)BR_ARRAY_LEN(s->p)) {
        s->nomem = 1;
        return;
    }
    s->p[s->n++] = (struct br_sqlparam){1, t, 0};
}

int br_sqlq_ref(br_sqlq *s, const char *t)
{
    br_sqlq_text(s, t);
    return s->nomem ? 0 : s->n;
}

void br_sqlq_num(br_sqlq *s, int64_t v)
{
    if (s->n >= (int)BR_ARRAY_LEN(s->p)) {
        s->nomem = 1;
        return;
    }
    s->p[s->n++] = (struct br_sqlparam){0, NULL, v};
}

/* The WHERE condition of a query's tree, over `item i`.  Recursion is as deep as the tree:
 * query.c caps it (BR_QUERY_MAX_DEPTH). */
static void where(br_sqlq *s, const struct br_search_sql *d, const br_qnode *n)
{
    switch (n->kind) {
    case BR_Q_FTS:
        d->match(s, n);
        return;
    case BR_Q_JOB:
        /* The items the journal names: by handle (a replaced item has a new id and the same
         * handle; an id may have been taken by another item since), by id on a line without
         * a handle; and the items the job wrote last. */
        br_sqlq_put(s, "i.id IN (SELECT x.id FROM job_record r JOIN item x ON x.handle = r.handle "
                       "WHERE r.job_id = ? UNION SELECT r.item_id FROM job_record r "
                       "WHERE r.job_id = ? AND r.handle IS NULL UNION SELECT x.id FROM item x "
                       "WHERE x.job_id = ?)");
        br_sqlq_num(s, n->job);
        br_sqlq_num(s, n->job);
        br_sqlq_num(s, n->job);
        return;
    case BR_Q_NOT:
        br_sqlq_put(s, "NOT (");
        where(s, d, n->kids[0]);
        br_sqlq_put(s, ")");
        return;
    case BR_Q_AND:
    case BR_Q_OR:
        br_sqlq_put(s, "(");
        for (size_t i = 0; i < n->n_kids; i++) {
            if (i) br_sqlq_put(s, n->kind == BR_Q_AND ? " AND " : " OR ");
            where(s, d, n->kids[i]);
        }
        br_sqlq_put(s, ")");
        return;
    }
}

static int bind_all(br_repo *repo, br_dbst *st, const br_sqlq *s, br_error *err)
{
    for (int i = 0; i < s->n; i++) {
        int rc = s->p[i].is_text ? br_bind_text(st, i + 1, s->p[i].text)
                                 : br_db_bind_int64(st, i + 1, s->p[i].num);
        if (rc) return br_store_fail(repo, err, "search bind");
    }
    return 0;
}

static int prepare(br_repo *repo, const br_sqlq *s, br_dbst **st, br_error *err)
{
    *st = NULL;
    if (s->nomem) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (br_db_prepare(repo->db, s->sql.p, (int)s->sql.len, st))
        return br_store_fail(repo, err, "search prepare");
    int rc = bind_all(repo, *st, s, err);
    if (rc) {
        br_db_finalize(*st);
        *st = NULL;
    }
    return rc;
}

static int count_hits(br_repo *repo, const struct br_search_sql *d, const br_qtree *t,
                      int64_t *total, br_error *err)
{
    br_sqlq s = {.arena = t->arena};
    br_sqlq_put(&s, "SELECT count(*) FROM item i WHERE i.status <> 'template' AND ");
    where(&s, d, t->root);
    br_dbst *st;
    int rc = prepare(repo, &s, &st, err);
    br_buf_dispose(&s.sql);
    if (rc) return rc;
    if (br_step(repo, st) == BR_DB_ROW)
        *total = br_db_col_int64(st, 0);
    else
        rc = br_store_fail(repo, err, "search count");
    br_db_finalize(st);
    return rc;
}

int br_search(br_repo *repo, const br_search_query *q, br_item_fn fn, void *ctx, int64_t *total,
              br_error *err)
{
    if (!repo || !q || !fn)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_search: missing argument");
    if (q->limit < 0 || q->offset < 0)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "limit and offset must not be negative");
    const struct br_search_sql *d = repo->db->be->search;
    br_qtree *t = NULL;
    int rc = br_query_read(q->q, &t, err);
    if (rc) return rc;
    br_sqlq s = {.arena = t->arena};
    if (!d) {
        rc = br_error_set(err, BR_ESTORE, NULL, 0, 0, "search is not available on the %s store",
                          repo->db->be->name);
        goto done;
    }
    if (d->prepare && (rc = d->prepare(t, err))) goto done;
    /* Inside a transaction: its own writes are found too. */
    if (repo->in_tx && (rc = br_search_flush(repo, err))) goto done;
    if (total && (rc = count_hits(repo, d, t, total, err))) goto done;
    int rank = q->order == BR_SEARCH_BY_RANK && t->n_ranked;
    if (rank && d->rank_with) d->rank_with(&s, t);
    br_sqlq_put(&s,
                "SELECT i.id, i.handle, i.uuid, i.status, (SELECT v.value FROM metadata_value v "
                "WHERE v.item_id = i.id AND v.field_id = ? ORDER BY v.seq LIMIT 1), c.handle, "
                "i.modified FROM item i LEFT JOIN container c ON c.id = i.owning_collection ");
    br_sqlq_num(&s, br_field_id(repo, "dc", "title", NULL));
    if (rank) d->rank_join(&s, t);
    br_sqlq_put(&s, "WHERE i.status <> 'template' AND ");
    where(&s, d, t->root);
    /* Items the ranking query does not find (matched by job:, status:, a negation) last. */
    br_sqlq_put(&s, " ORDER BY ");
    if (rank) {
        br_sqlq_put(&s, "r.score IS NULL, r.score");
        br_sqlq_put(&s, d->best_first);
        br_sqlq_put(&s, ", ");
    }
    br_sqlq_put(&s, d->by_handle);
    if (q->limit || q->offset) {
        br_sqlq_put(&s, d->limit);
        br_sqlq_num(&s, q->limit ? q->limit : -1);
        br_sqlq_num(&s, q->offset);
    }
    br_dbst *st = NULL;
    if (!(rc = prepare(repo, &s, &st, err))) {
        int r;
        while ((r = br_step(repo, st)) == BR_DB_ROW) {
            br_item_summary sum = {br_db_col_int64(st, 0), br_col_text(st, 1), br_col_text(st, 2),
                                   br_col_text(st, 3),     br_col_text(st, 4), br_col_text(st, 5),
                                   br_col_text(st, 6)};
            if (BR_YIELD(repo, fn(ctx, &sum))) break;
        }
        if (r != BR_DB_ROW && r != BR_DB_DONE) rc = br_store_fail(repo, err, "search");
    }
    br_db_finalize(st);
done:
    br_buf_dispose(&s.sql);
    br_query_free(t);
    return rc;
}
