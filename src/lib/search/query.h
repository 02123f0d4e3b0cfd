/* The search query language of search.h (docs/search.md), internal to the library: a
 * tokenizer and a recursive-descent parser that turn a query into a tree of
 *
 *   full-text terms   what one term asks of the item_fts index (schema.sql): words or a
 *                     phrase in some of its columns (prefix or not), a status, a flag (has:),
 *                     a range of issue years; kept as data (br_qterm), never as a backend's
 *                     syntax: each store renders them its own way (store/search_sql.h), so
 *                     no user text is ever read as FTS5, tsquery or SQL syntax;
 *   job terms         job:ID, answered from the journal by the store;
 *   AND, OR, NOT      (AND and OR with two or more children, NOT with one).
 *
 * The full-text terms among the children of an AND or OR are gathered into one full-text node
 * (one lookup in the index instead of one per term).  br_query_fts5 renders the tree's
 * full-text nodes as FTS5 queries (SQLite's search); the PostgreSQL search renders the terms
 * itself (store/search_pg.c).  No SQL is written here.
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
    BR_Q_FTS = 0, /* full-text: a term, or the AND or OR of full-text nodes (op) */
    BR_Q_JOB,     /* job: items the job's journal names or the job last wrote */
    BR_Q_AND,
    BR_Q_OR,
    BR_Q_NOT
} br_qkind;

/* What a full-text term searches: item_fts's columns (schema.sql). */
typedef enum br_qfield {
    BR_QF_TEXT = 0, /* free words and phrases: every text column (not status, flags, year) */
    BR_QF_TITLE,
    BR_QF_CREATOR,
    BR_QF_ORCID,
    BR_QF_AFFILIATION,
    BR_QF_IDENT, /* identifier:, doi:, isbn: */
    BR_QF_TYPE,
    BR_QF_COLL,
    BR_QF_STATUS, /* status: */
    BR_QF_FLAGS,  /* has: */
    BR_QF_YEAR,   /* date: */
    BR_QF_COUNT
} br_qfield;

typedef struct br_qterm {
    br_qfield field;
    /* BR_QF_TEXT to BR_QF_COLL: the text whose words are searched as a phrase, as the index
     * stores it (doi: "doi 10.1234/x" without a resolver, isbn: "isbn 9783161484100", orcid:
     * without https://orcid.org/); it has a letter or digit (ASCII) or a non-ASCII character.
     * BR_QF_STATUS: the status (lower case); BR_QF_FLAGS: hasfile, hasdoi or haslink. */
    const char *text;
    int prefix;             /* the last word is a prefix (word*) */
    int year_from, year_to; /* BR_QF_YEAR: the issue years, from <= to */
} br_qterm;

typedef struct br_qnode {
    br_qkind kind;
    unsigned column; /* 1-based, in characters, where it starts in the query */
    /* BR_Q_FTS: a term (n_kids 0) or the op (BR_Q_AND, BR_Q_OR) of its kids, each BR_Q_FTS */
    const br_qterm *term;
    br_qkind op;
    const char *match;      /* BR_Q_FTS: its FTS5 query once br_query_fts5 ran, else NULL */
    int64_t job;            /* BR_Q_JOB */
    struct br_qnode **kids; /* BR_Q_AND, BR_Q_OR, a BR_Q_FTS op: two or more; BR_Q_NOT: one */
    size_t n_kids;
} br_qnode;

typedef struct br_qtree {
    br_qnode *root;
    /* The text terms that are not negated (title:, free words, ...; not status:, has:, date:),
     * in the query's order: what the search ranks by (BR_SEARCH_BY_RANK).  None when the query
     * has only job:, date:, has:, status: or negated terms (it ranks by handle). */
    const br_qnode **ranked;
    size_t n_ranked;
    /* The FTS5 query OR-ing the ranked terms once br_query_fts5 ran; NULL when none. */
    const char *rank;
    struct br_arena *arena; /* private: nodes and strings; a renderer may allocate in it */
} br_qtree;

/* Parses q into its tree, without any backend's syntax.  0 and *out (free with
 * br_query_free); BR_EUSAGE with err->place.column the 1-based position (in characters) of
 * the problem and a message naming it; BR_ENOMEM. */
int br_query_read(const char *q, br_qtree **out, br_error *err);
/* Sets the match of every full-text node and the tree's rank to their FTS5 queries, every
 * user text an FTS5 string ("..." with '"' doubled): 0 or BR_ENOMEM. */
int br_query_fts5(br_qtree *t, br_error *err);
/* br_query_read, then br_query_fts5. */
int br_query_parse(const char *q, br_qtree **out, br_error *err);
void br_query_free(br_qtree *t);

#endif
