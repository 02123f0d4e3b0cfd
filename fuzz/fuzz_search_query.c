/* The search query language (src/lib/search/query.c): the input is a query.  br_search_check
 * answers 0 or BR_EUSAGE with a position inside the query and a message; a query it accepts
 * parses into a tree whose every full-text term, and the ranking query, FTS5 accepts as a
 * MATCH over a table with the index's columns (an FTS5 syntax error there would be a failed
 * search, and a sign that user text reached FTS5 as syntax). */
#include <sqlite3.h>
#include "fuzz_util.h"
#include "bulkrepo/search.h"
#include "search/query.h"

static sqlite3 *db;
static sqlite3_stmt *match;

static void fz_open(void)
{
    if (db) return;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
        sqlite3_exec(db,
                     "CREATE VIRTUAL TABLE item_fts USING fts5(title, creator, orcid, "
                     "affiliation, ident, type, coll, status, flags, year, body, "
                     "tokenize = 'unicode61 remove_diacritics 2');"
                     "INSERT INTO item_fts(rowid, title, body, year, flags) VALUES "
                     "(1, 'Climate change', 'river \"and\" NEAR OR', 'y2019', 'hasfile');",
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT count(*) FROM item_fts WHERE item_fts MATCH ?1", -1, &match,
                           NULL) != SQLITE_OK)
        abort();
}

static void check_match(const char *m)
{
    if (!m || !*m) abort();
    sqlite3_reset(match);
    sqlite3_bind_text(match, 1, m, -1, SQLITE_STATIC);
    if (sqlite3_step(match) != SQLITE_ROW) {
        fprintf(stderr, "FTS5 refused [%s]: %s\n", m, sqlite3_errmsg(db));
        abort();
    }
    sqlite3_reset(match);
}

static size_t walk(const br_qnode *n, int depth)
{
    if (!n || depth > 3 * BR_QUERY_MAX_DEPTH + 4) abort(); /* parentheses and NOTs are capped */
    size_t terms = 0;
    switch (n->kind) {
    case BR_Q_FTS:
        check_match(n->match);
        return 1;
    case BR_Q_JOB:
        if (n->job <= 0) abort();
        return 1;
    case BR_Q_NOT:
        if (n->n_kids != 1) abort();
        return walk(n->kids[0], depth + 1);
    case BR_Q_AND:
    case BR_Q_OR:
        if (n->n_kids < 2) abort();
        for (size_t i = 0; i < n->n_kids; i++)
            terms += walk(n->kids[i], depth + 1);
        return terms;
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_open();
    char *q = malloc(size + 1);
    if (!q) return 0;
    memcpy(q, data, size);
    q[size] = 0; /* an input with a NUL is the query before it */
    size_t chars = 0;
    for (const char *p = q; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    br_error err;
    memset(&err, 0, sizeof err);
    int rc = br_search_check(q, &err);
    if (rc) {
        /* A refusal is a usage error at a place in the query, with a message. */
        if (rc != BR_EUSAGE || err.code != BR_EUSAGE) abort();
        if (err.place.column < 1 || err.place.column > chars + 1 || err.place.line != 1) abort();
        if (!err.message[0]) abort();
    } else {
        br_qtree *t = NULL;
        if (br_query_parse(q, &t, &err)) abort(); /* the same answer twice */
        if (walk(t->root, 0) > BR_QUERY_MAX_TERMS) abort();
        if (t->rank) check_match(t->rank);
        br_query_free(t);
    }
    free(q);
    return 0;
}
