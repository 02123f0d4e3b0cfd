/* PostgreSQL's search SQL (search_sql.h) over item_fts as schema_pg.sql has it: the eleven
 * text columns of SQLite's FTS5 table and doc, their words as a tsvector (GIN-indexed) in
 * weight groups
 *   A title   B creator   C orcid, affiliation, ident, type   D coll, body
 * each column's text read through br_fts_text (ASCII punctuation splits words, Latin letters
 * lose their diacritics, lower case: FTS5's unicode61 with remove_diacritics 2).
 *
 * A text term becomes a tsquery made here, in C, from its words: the text is split where
 * br_fts_text splits it (every ASCII character but letters and digits), each word quoted as a
 * tsquery lexeme ('word': no quote or backslash can be left in one), the words of a phrase
 * joined by <-> (next to each other, in order), the last one with :* for a prefix; the folding
 * that br_fts_text does after splitting (diacritics, case) is done by the same SQL on the
 * tsquery's text (TSQ_HEAD, TSQ_TAIL), which it leaves a valid tsquery.  So the words a query
 * names are read as those the index holds, and no user text is tsquery syntax.
 *
 * What FTS5 answers and doc alone cannot, re-checked on the row itself (only on the rows doc's
 * index gives):
 *   - title: and creator: are doc's A and B words (:A, :B on each lexeme): doc alone;
 *   - orcid:, affiliation:, identifier:, doi:, isbn:, type: share C, and collection: shares D
 *     with body: the words in doc, in the group (ts_filter), then in the column's own text;
 *   - a phrase of free words (two words or more, or one with a character PostgreSQL's parser
 *     may split it at) must stand in one column, as FTS5 finds it, not run from the end of one
 *     column into the next, as it can in doc (FREE_PHRASE);
 *   - status:, has: and date: test the status, flags and year columns, which are not in doc.
 * A term whose words PostgreSQL finds none in (only symbols: FTS5's tokenizer has none either)
 * finds nothing, as FTS5's empty phrase: each term is its own @@, never merged into one
 * tsquery (to_tsquery drops an empty operand, which would make "a AND ©" find a).
 *
 * Rank: ts_rank_cd over doc with the weights bm25 has on SQLite (search_sqlite.c: title 10,
 * creator 5, identifier 3, orcid, affiliation, type 2, collection and body 1 -> A 1.0, B 0.5,
 * C 0.25, D 0.1), divided by 1 + the log of the document's length (normalization 1, as bm25
 * weighs a word less in a longer text), and the ranked terms OR-ed (a field's words weighted
 * to its group), higher first.  Of the rankings tried (ts_rank with normalization 0, 1, 2 or
 * 8; this), it agrees most with bm25: on 2,300 generated records and 97 queries, the same best
 * hit for 96 and 98 % of the first 15 the same (ts_rank: 63 and 80 %).  bm25 also weighs a
 * word's rarity, which ts_rank_cd does not, so the order of hits of similar weight may differ
 * from SQLite's.  What is found never does. */
#include <stdio.h>
#include <string.h>
#include <utf8proc.h>
#include "search_sql.h"

/* The tsquery of the text bound at ?N (TSQ_HEAD N TSQ_TAIL): br_fts_text's folding
 * (schema_pg.sql) after its split, which the text's maker did (tsq_words).  A query names one
 * text several times: with the parameter's values known when the statement is planned (a
 * statement is prepared per search), PostgreSQL makes it one constant tsquery. */
#define TSQ_HEAD "to_tsquery('simple', lower(normalize(regexp_replace(normalize(?"
#define TSQ_TAIL                                                                                   \
    "::text COLLATE \"default\", NFD), '([A-Za-z])[\\u0300-\\u036f]+', '\\1', 'g'), NFC)))"

/* item_fts's column of each field (BR_QF_TITLE .. BR_QF_COLL), its weight group in doc (as a
 * tsquery weight and as ts_filter's). */
static const struct {
    const char *column, *weight, *group;
} COLS[BR_QF_COUNT] = {
    [BR_QF_TITLE] = {"f.title", "A", "a"}, [BR_QF_CREATOR] = {"f.creator", "B", "b"},
    [BR_QF_ORCID] = {"f.orcid", "C", "c"}, [BR_QF_AFFILIATION] = {"f.affiliation", "C", "c"},
    [BR_QF_IDENT] = {"f.ident", "C", "c"}, [BR_QF_TYPE] = {"f.type", "C", "c"},
    [BR_QF_COLL] = {"f.coll", "D", "d"},
};

static int word_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 0x80;
}

/* Whether the character at s (n bytes left, non-ASCII) may split a word in PostgreSQL's parser:
 * anything but a letter or a number (a mark, a symbol, punctuation; *len: its bytes). */
static int splits(const unsigned char *s, size_t n, size_t *len)
{
    utf8proc_int32_t cp = -1;
    utf8proc_ssize_t k = utf8proc_iterate(s, (utf8proc_ssize_t)n, &cp);
    *len = k > 0 ? (size_t)k : 1;
    if (k <= 0) return 1;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return 0;
    default:
        return 1;
    }
}

/* Appends the tsquery text of a term's words to b ('w1':W <-> 'w2':W:*; with join " | ",
 * any of them), W the weight letter (or ""); *words: how many; *split: 1 when a word has a
 * character that PostgreSQL's parser may split it at (splits).  0 or -1 (memory). */
static int tsq_words(br_buf *b, const br_qterm *q, const char *weight, const char *join, int *words,
                     int *split)
{
    const unsigned char *s = (const unsigned char *)q->text;
    size_t n = strlen(q->text);
    *words = 0;
    *split = 0;
    for (size_t i = 0; i < n;) {
        if (!word_byte(s[i])) {
            i++;
            continue;
        }
        size_t e = i, len;
        while (e < n && word_byte(s[e])) {
            if (s[e] < 0x80)
                e++;
            else {
                *split |= splits(s + e, n - e, &len);
                e += len;
            }
        }
        int last = 1;
        for (size_t k = e; k < n && last; k++)
            if (word_byte(s[k])) last = 0;
        if ((*words && br_buf_puts(b, join)) || br_buf_puts(b, "'") ||
            br_buf_append(b, q->text + i, e - i) ||
            br_buf_printf(b, "'%s%s%s", (last && q->prefix) || *weight ? ":" : "",
                          last && q->prefix ? "*" : "", weight))
            return -1;
        ++*words;
        i = e;
    }
    return 0;
}

/* The tsquery text of a term into the arena (NULL: memory); *words, *split as tsq_words. */
static const char *tsq_text(br_sqlq *s, const br_qterm *q, const char *weight, const char *join,
                            int *words, int *split)
{
    br_buf b = {0};
    int nw = 0, nx = 0;
    const char *t = NULL;
    if (!tsq_words(&b, q, weight, join, &nw, &nx) && nw) t = br_arena_strndup(s->arena, b.p, b.len);
    br_buf_dispose(&b);
    if (words) *words = nw;
    if (split) *split = nx;
    if (!t) s->nomem = 1;
    return t;
}

/* A phrase of free words (@N) in one column: title (A) or creator (B) alone, read from doc;
 * a column of C (short ones) read again as br_fts_doc reads it; in D, when coll (short) has
 * none of its words (@M: any of them), the phrase is in body alone (it cannot begin in coll),
 * else coll or body read again.  FREE_PHRASE_SPLIT: without @M (a word that PostgreSQL's
 * parser splits is a phrase in @M too, not one of its words). */
#define FREE_PHRASE_HEAD                                                                           \
    "f.doc @@ @N AND (ts_filter(f.doc, '{a}') @@ @N OR ts_filter(f.doc, '{b}') @@ @N "             \
    "OR ts_filter(f.doc, '{c}') @@ @N AND EXISTS (SELECT 1 FROM (VALUES (f.orcid), "               \
    "(f.affiliation), (f.ident), (f.type)) c(t) "                                                  \
    "WHERE to_tsvector('simple', br_fts_text(c.t)) @@ @N) OR ts_filter(f.doc, '{d}') @@ @N AND ("
#define FREE_PHRASE_TAIL                                                                           \
    "to_tsvector('simple', br_fts_text(f.coll)) @@ @N "                                            \
    "OR to_tsvector('simple', br_fts_text(f.body)) @@ @N))"
static const char FREE_PHRASE[] =
    FREE_PHRASE_HEAD "NOT to_tsvector('simple', br_fts_text(f.coll)) @@ @M OR " FREE_PHRASE_TAIL;
static const char FREE_PHRASE_SPLIT[] = FREE_PHRASE_HEAD FREE_PHRASE_TAIL;

/* Appends the k fragments, each "@N" in them written as the tsquery of parameter n, each
 * "@M" as that of parameter m. */
static void put_tsq(br_sqlq *s, int n, int m, const char *const *parts, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        const char *p = parts[i], *at = p;
        for (; *at; at++) {
            if (at[0] != '@' || (at[1] != 'N' && at[1] != 'M')) continue;
            char num[16];
            snprintf(num, sizeof num, "%d", at[1] == 'N' ? n : m);
            if (br_buf_append(&s->sql, p, (size_t)(at - p))) s->nomem = 1;
            br_sqlq_put(s, TSQ_HEAD);
            br_sqlq_put(s, num);
            br_sqlq_put(s, TSQ_TAIL);
            p = ++at + 1;
        }
        br_sqlq_put(s, p);
    }
}

/* A term's condition over the item_fts row f. */
static void term_cond(br_sqlq *s, const br_qterm *q)
{
    char y[16];
    int n, words = 0, split = 0;
    switch (q->field) {
    case BR_QF_STATUS:
        br_sqlq_put(s, "f.status = ?::text");
        br_sqlq_text(s, q->text);
        return;
    case BR_QF_FLAGS:
        br_sqlq_put(s, "?::text = ANY (string_to_array(f.flags, ' '))");
        br_sqlq_text(s, q->text);
        return;
    case BR_QF_YEAR:
        /* y2019 y2021 ...: a year's word sorts as its number (four digits) */
        br_sqlq_put(s, "EXISTS (SELECT 1 FROM unnest(string_to_array(f.year, ' ')) y(w) "
                       "WHERE y.w BETWEEN ?::text AND ?::text)");
        snprintf(y, sizeof y, "y%04d", q->year_from);
        br_sqlq_text(s, br_arena_strndup(s->arena, y, strlen(y)));
        snprintf(y, sizeof y, "y%04d", q->year_to);
        br_sqlq_text(s, br_arena_strndup(s->arena, y, strlen(y)));
        return;
    case BR_QF_TITLE:
    case BR_QF_CREATOR:
        n = br_sqlq_ref(s, tsq_text(s, q, COLS[q->field].weight, " <-> ", NULL, NULL));
        put_tsq(s, n, 0, (const char *const[]){"f.doc @@ @N"}, 1);
        return;
    case BR_QF_ORCID:
    case BR_QF_AFFILIATION:
    case BR_QF_IDENT:
    case BR_QF_TYPE:
    case BR_QF_COLL:
        n = br_sqlq_ref(s, tsq_text(s, q, "", " <-> ", NULL, NULL));
        put_tsq(s, n, 0,
                (const char *const[]){"f.doc @@ @N AND ts_filter(f.doc, '{", COLS[q->field].group,
                                      "}') @@ @N AND to_tsvector('simple', br_fts_text(",
                                      COLS[q->field].column, ")) @@ @N"},
                5);
        return;
    case BR_QF_TEXT:
        n = br_sqlq_ref(s, tsq_text(s, q, "", " <-> ", &words, &split));
        if (words < 2 && !split)
            put_tsq(s, n, 0, (const char *const[]){"f.doc @@ @N"}, 1);
        else if (split)
            put_tsq(s, n, 0, (const char *const[]){FREE_PHRASE_SPLIT}, 1);
        else
            put_tsq(s, n, br_sqlq_ref(s, tsq_text(s, q, "", " | ", NULL, NULL)),
                    (const char *const[]){FREE_PHRASE}, 1);
        return;
    case BR_QF_COUNT:
        break;
    }
    s->nomem = 1; /* not a term */
}

/* A full-text node's condition over f: a term's, or "(kid AND kid ...)". */
static void node_cond(br_sqlq *s, const br_qnode *n)
{
    if (n->term) {
        br_sqlq_put(s, "(");
        term_cond(s, n->term);
        br_sqlq_put(s, ")");
        return;
    }
    br_sqlq_put(s, "(");
    for (size_t i = 0; i < n->n_kids; i++) {
        if (i) br_sqlq_put(s, n->op == BR_Q_AND ? " AND " : " OR ");
        node_cond(s, n->kids[i]);
    }
    br_sqlq_put(s, ")");
}

static void pg_match(br_sqlq *s, const br_qnode *n)
{
    br_sqlq_put(s, "i.id IN (SELECT f.rowid FROM item_fts f WHERE ");
    node_cond(s, n);
    br_sqlq_put(s, ")");
}

/* r.score: ts_rank_cd of the item's doc and the ranked terms' words OR-ed (each field's
 * weighted to its group) when one of the ranked terms finds it (its own condition).  A
 * lateral join by rowid, once for each item the query finds: PostgreSQL cannot estimate how
 * many items a re-checked term finds (it guesses 1), and a join of two such guesses to a
 * ranking table (as SQLite's) became a nested loop over both. */
/* Whether every item that n finds is found by leaf too (leaf is n, or below it through ANDs). */
static int required(const br_qnode *n, const br_qnode *leaf)
{
    if (n == leaf) return 1;
    if (n->kind != BR_Q_AND && !(n->kind == BR_Q_FTS && n->op == BR_Q_AND)) return 0;
    for (size_t i = 0; i < n->n_kids; i++)
        if (required(n->kids[i], leaf)) return 1;
    return 0;
}

static void pg_rank_join(br_sqlq *s, const br_qtree *t)
{
    br_buf b = {0};
    for (size_t i = 0; i < t->n_ranked; i++) {
        const br_qterm *q = t->ranked[i]->term;
        int words = 0, split = 0;
        const char *w = q->field == BR_QF_TEXT ? "" : COLS[q->field].weight;
        if ((i && br_buf_puts(&b, " | ")) || br_buf_puts(&b, "(") ||
            tsq_words(&b, q, w, " <-> ", &words, &split) || br_buf_puts(&b, ")") || !words) {
            s->nomem = 1; /* (a term without words is none: query.c needs a letter or digit) */
            break;
        }
    }
    const char *qr = b.len ? br_arena_strndup(s->arena, b.p, b.len) : NULL;
    br_buf_dispose(&b);
    put_tsq(s, br_sqlq_ref(s, qr), 0,
            (const char *const[]){"LEFT JOIN LATERAL (SELECT ts_rank_cd("
                                  "'{0.1, 0.25, 0.5, 1.0}'::float4[], f.doc, @N, 1) AS score "
                                  "FROM item_fts f WHERE f.rowid = i.id AND ("},
            1);
    /* Each item joined is one the query finds: when a ranked term finds every such item, so
     * does one of them (the terms' conditions need not be read again). */
    int every = 0;
    for (size_t i = 0; i < t->n_ranked && !every; i++)
        every = required(t->root, t->ranked[i]);
    for (size_t i = 0; i < t->n_ranked && !every; i++) {
        if (i) br_sqlq_put(s, " OR ");
        node_cond(s, t->ranked[i]);
    }
    br_sqlq_put(s, every ? "true)) r ON true " : ")) r ON true ");
}

const struct br_search_sql br_search_pg = {
    .prepare = NULL,
    .match = pg_match,
    .rank_with = NULL,
    .rank_join = pg_rank_join,
    .best_first = " DESC", /* ts_rank_cd: the higher, the better */
    /* NULLs first, as SQLite sorts them (the item list's order, sql_pg.c) */
    .by_handle = "i.handle_prefix NULLS FIRST, i.handle_num NULLS FIRST, i.handle NULLS FIRST",
    .limit = " LIMIT NULLIF(?::bigint, -1) OFFSET ?::bigint",
};
