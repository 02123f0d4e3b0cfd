/* The search query language of search.h (docs/search.md), internal to the library: a
 * tokenizer and a recursive-descent parser that turn a query into a tree of
 *
 *   full-text terms   an FTS5 query string over the item_fts index (schema.sql), built here
 *                     with every user term quoted as an FTS5 string ("..." with '"' doubled),
 *                     so no user text is ever read as FTS5 syntax;
 *   job terms         job:ID, answered from the journal by the store;
 *   AND, OR, NOT      (AND and OR with two or more children, NOT with one).
 *
 * The store (store_search.c) turns the tree into SQL built from fixed fragments with bound
 * parameters: no SQL is written here, and no query text reaches SQL text.
 *
 * Grammar (AND binds tighter than OR; juxtaposition is AND; the operators are the upper-case
 * words AND, OR, NOT: lower-case "and", "or", "not" are searched as words):
 *   query   := or
 *   or      := and { "OR" and }
 *   and     := unary { ["AND"] unary }
 *   unary   := "NOT" unary | primary
 *   primary := "(" or ")" | term
 *   term    := WORD | "PHRASE" | FIELD ":" (WORD | "PHRASE")
 * A WORD ending in '*' (not a lone '*') is a prefix: title:climat* finds climate, climatic. */
#ifndef BR_SEARCH_QUERY_H
#define BR_SEARCH_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include "bulkrepo/error.h"

/* Caps (BR_EUSAGE beyond them, docs/limits.md). */
#define BR_QUERY_MAX_BYTES 4096 /* the query's length */
#define BR_QUERY_MAX_TERMS 64   /* terms: words, phrases, field:value */
#define BR_QUERY_MAX_DEPTH 32   /* parentheses and NOTs inside one another */
#define BR_QUERY_MAX_YEARS 500  /* the width of a date:YYYY..YYYY range */

typedef enum br_qkind {
    BR_Q_FTS = 0, /* match: an FTS5 query over item_fts */
    BR_Q_JOB,     /* job: items the job's journal names or the job last wrote */
    BR_Q_AND,
    BR_Q_OR,
    BR_Q_NOT
} br_qkind;

typedef struct br_qnode {
    br_qkind kind;
    unsigned column;        /* 1-based, in characters, where it starts in the query */
    const char *match;      /* BR_Q_FTS */
    int64_t job;            /* BR_Q_JOB */
    struct br_qnode **kids; /* BR_Q_AND, BR_Q_OR: two or more; BR_Q_NOT: one */
    size_t n_kids;
} br_qnode;

typedef struct br_qtree {
    br_qnode *root;
    /* The text terms that are not negated (title:, free words, ...), OR-ed into one FTS5
     * query: what bm25 ranks by (BR_SEARCH_BY_RANK).  NULL when there are none (a query of
     * only job:, date:, has:, status: or negated terms ranks by handle). */
    const char *rank;
    struct br_arena *arena; /* private: nodes and strings */
} br_qtree;

/* Parses q.  0 and *out (free with br_query_free); BR_EUSAGE with err->place.column the
 * 1-based position (in characters) of the problem and a message naming it; BR_ENOMEM. */
int br_query_parse(const char *q, br_qtree **out, br_error *err);
void br_query_free(br_qtree *t);

#endif
