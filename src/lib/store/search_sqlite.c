/* SQLite's search SQL (search_sql.h): item_fts is an FTS5 table (schema.sql, migration 005);
 * a full-text node is one MATCH with the FTS5 query br_query_fts5 made of it (every user text
 * an FTS5 string), the ranking query bm25 over the ranked terms OR-ed, best first ascending. */
#include "search_sql.h"

static void sq_match(br_sqlq *s, const br_qnode *n)
{
    br_sqlq_put(s, "i.id IN (SELECT rowid FROM item_fts WHERE item_fts MATCH ?)");
    br_sqlq_text(s, n->match);
}

/* bm25 weights by column (title, creator, orcid, affiliation, ident, type, coll, status,
 * flags, year, body): a word in the title counts most; status, flags and years not at all. */
#define RANK_WEIGHTS "10.0, 5.0, 2.0, 2.0, 3.0, 2.0, 1.0, 0.0, 0.0, 0.0, 1.0"

/* Materialized: the ranking query runs once, not once per item it is joined to. */
static void sq_rank_with(br_sqlq *s, const br_qtree *t)
{
    br_sqlq_put(s, "WITH r AS MATERIALIZED (SELECT rowid AS rid, bm25(item_fts, " RANK_WEIGHTS
                   ") AS score FROM item_fts WHERE item_fts MATCH ?) ");
    br_sqlq_text(s, t->rank);
}

static void sq_rank_join(br_sqlq *s, const br_qtree *t)
{
    (void)t;
    br_sqlq_put(s, "LEFT JOIN r ON r.rid = i.id ");
}

const struct br_search_sql br_search_sqlite = {
    .prepare = br_query_fts5,
    .match = sq_match,
    .rank_with = sq_rank_with,
    .rank_join = sq_rank_join,
    .best_first = "", /* bm25: the lower, the better */
    .by_handle = "i.handle_prefix, i.handle_num, i.handle",
    .limit = " LIMIT ? OFFSET ?",
};
