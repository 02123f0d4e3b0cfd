/* How a store backend's SQL searches the item_fts index (db.h: br_db_backend.search): what
 * store_search.c leaves to the backend when it turns a query's tree (search/query.h) into one
 * SQL text.  store_search.c writes the statement's frame (the items, the title, the joins,
 * job:ID, AND, OR, NOT, the handle order, the page) and asks the backend's br_search_sql for
 * the parts whose SQL differs:
 *   - the condition that a full-text node (a term, or the AND or OR of several) finds an item;
 *   - the ranking (r.score: a score for each item the ranked terms find, NULL for the others)
 *     and its best-first order;
 *   - the handle order's keys (NULLs first, as SQLite sorts them) and the page's LIMIT form.
 * Each instance is a table of texts and functions; no code asks which backend it is on.
 *   br_search_sqlite (search_sqlite.c)  FTS5 MATCH with the FTS5 queries of br_query_fts5,
 *                                       bm25 ascending
 *   br_search_pg (search_pg.c)          tsquery over item_fts.doc (schema_pg.sql), the column
 *                                       re-checked where doc's weights do not tell it,
 *                                       ts_rank_cd descending
 * Every user text reaches the database as a bound parameter, never as SQL text. */
#ifndef BR_STORE_SEARCH_SQL_H
#define BR_STORE_SEARCH_SQL_H

#include <stdint.h>
#include "core/core.h"
#include "search/query.h"

/* Parameters of one search statement: store_search.c binds 3 per job term, the title field,
 * the limit and the offset; a backend binds at most 2 per term in match and at most 2 per
 * ranked term and 1 more in rank (a text term, of those, at most 4 in all). */
#define BR_SQLQ_MAX_PARAMS (4 * BR_QUERY_MAX_TERMS + 8)

/* A search statement being built: its SQL text and its parameters, in the order their '?'
 * appear in the text (bare '?': the backend numbers them). */
typedef struct br_sqlq {
    br_buf sql;
    struct br_sqlparam {
        int is_text;
        const char *text; /* lives as long as the statement (the query tree's arena) */
        int64_t num;
    } p[BR_SQLQ_MAX_PARAMS];
    int n;
    br_arena *arena; /* the query tree's: where a backend keeps the texts it binds */
    int nomem;       /* set by any call that failed: the statement is not run */
} br_sqlq;

/* Appends SQL text; a text parameter (kept by reference: it must outlive the statement); a
 * number parameter. */
void br_sqlq_put(br_sqlq *s, const char *fragment);
void br_sqlq_text(br_sqlq *s, const char *text);
void br_sqlq_num(br_sqlq *s, int64_t v);
/* A text parameter that the text after it names as ?N, N the number returned (0 when it
 * failed: s->nomem), as often as it needs; a bare '?' after it is the next one (both engines
 * number a bare '?' one past the largest number so far). */
int br_sqlq_ref(br_sqlq *s, const char *text);

struct br_search_sql {
    /* Readies a query's tree for the calls below (SQLite: br_query_fts5, the FTS5 queries in
     * the tree); NULL when there is nothing to do.  0 or an error code. */
    int (*prepare)(br_qtree *t, br_error *err);
    /* Appends a condition over `item i`, with its parameters: i is found by the full-text
     * node n (a term, or the op of its full-text kids). */
    void (*match)(br_sqlq *s, const br_qnode *n);
    /* The ranking (t->n_ranked > 0), with its parameters: rank_with (NULL: none) appends
     * what comes before the statement's SELECT (a WITH clause), rank_join a join after
     * `FROM item i LEFT JOIN container c ...` that gives r.score, the item's score when one
     * of t's ranked terms finds it, else NULL. */
    void (*rank_with)(br_sqlq *s, const br_qtree *t);
    void (*rank_join)(br_sqlq *s, const br_qtree *t);
    /* The direction of ORDER BY r.score that puts the best match first ("" or " DESC"). */
    const char *best_first;
    /* The ORDER BY keys of handle order over `item i`, as the item list has it. */
    const char *by_handle;
    /* A page: " LIMIT ? OFFSET ?" taking the limit (-1: none) and the offset, in that order. */
    const char *limit;
};

extern const struct br_search_sql br_search_sqlite;
extern const struct br_search_sql br_search_pg;

#endif
