/* The search query language (query.h, docs/search.md): tokenizer, recursive-descent parser
 * and the FTS5 queries of its terms (br_query_fts5).  Tokens are read one at a time as the
 * parser asks for them, so that the first problem in reading order is the one reported. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "search/query.h"
#include "bulkrepo/search.h"

/* ---- fields --------------------------------------------------------------------------- */

typedef enum fkind { F_TEXT, F_DOI, F_ISBN, F_ORCID, F_STATUS, F_DATE, F_HAS, F_JOB } fkind;

typedef struct field {
    const char *name;
    fkind kind;
    br_qfield column; /* of item_fts (schema.sql) */
} field;

static const field FIELDS[] = {
    {"title", F_TEXT, BR_QF_TITLE},
    {"creator", F_TEXT, BR_QF_CREATOR},
    {"orcid", F_ORCID, BR_QF_ORCID},
    {"type", F_TEXT, BR_QF_TYPE},
    {"collection", F_TEXT, BR_QF_COLL},
    {"status", F_STATUS, BR_QF_STATUS},
    {"affiliation", F_TEXT, BR_QF_AFFILIATION},
    {"identifier", F_TEXT, BR_QF_IDENT},
    {"doi", F_DOI, BR_QF_IDENT},
    {"isbn", F_ISBN, BR_QF_IDENT},
    {"date", F_DATE, BR_QF_YEAR},
    {"has", F_HAS, BR_QF_FLAGS},
    {"job", F_JOB, BR_QF_COUNT}, /* not a full-text term */
};

/* Names people type for a field that has another name here (suggestions only). */
static const struct {
    const char *alias, *field;
} ALIASES[] = {{"author", "creator"},   {"contributor", "creator"}, {"year", "date"},
               {"issued", "date"},      {"coll", "collection"},     {"id", "identifier"},
               {"handle", "identifier"}};

static const char *const STATUSES[] = {"workspace", "workflow", "draft", "archived", "withdrawn"};
static const char *const HAS[][2] = {{"file", "hasfile"}, {"doi", "hasdoi"}, {"link", "haslink"}};

static const field *field_find(const char *name, size_t n)
{
    for (size_t i = 0; i < BR_ARRAY_LEN(FIELDS); i++)
        if (strlen(FIELDS[i].name) == n && !strncasecmp(FIELDS[i].name, name, n)) return &FIELDS[i];
    return NULL;
}

/* The closest of names to word (lower-cased), or NULL when none is plausibly meant. */
static const char *closest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    unsigned bd = 1000;
    for (size_t i = 0; i < n; i++) {
        unsigned d = br_levenshtein(word, names[i]);
        if (d < bd) {
            bd = d;
            best = names[i];
        }
    }
    size_t len = strlen(word);
    return best && bd <= 2 && bd * 3 <= len + 1 ? best : NULL;
}

static const char *suggest_field(const char *word)
{
    for (size_t i = 0; i < BR_ARRAY_LEN(ALIASES); i++)
        if (!strcmp(word, ALIASES[i].alias)) return ALIASES[i].field;
    const char *names[BR_ARRAY_LEN(FIELDS)];
    for (size_t i = 0; i < BR_ARRAY_LEN(FIELDS); i++)
        names[i] = FIELDS[i].name;
    return closest(word, names, BR_ARRAY_LEN(FIELDS));
}

/* ---- tokens ----------------------------------------------------------------------------- */

typedef enum tkind { K_END, K_TERM, K_LPAREN, K_RPAREN, K_AND, K_OR, K_NOT } tkind;

typedef struct tok {
    tkind kind;
    size_t off;         /* where it starts (bytes) */
    const field *field; /* K_TERM: NULL for a free word or phrase */
    const char *val;    /* K_TERM: the word, or a phrase's text without its quotes */
    size_t vlen;
    size_t voff; /* where the value starts */
    int prefix;  /* a word ending in '*' */
} tok;

typedef struct parser {
    const char *q;
    size_t len, pos;
    tok cur;
    int have; /* cur holds the next token */
    int depth, terms, negated;
    br_arena *arena;
    /* the text terms that are not negated, in order (at most one per term) */
    const br_qnode *ranked[BR_QUERY_MAX_TERMS];
    size_t n_ranked;
    br_error *err;
} parser;

/* The 1-based position in characters of byte offset off. */
static unsigned column_of(const char *q, size_t off)
{
    unsigned col = 1;
    for (size_t i = 0; i < off && q[i]; i++)
        if (((unsigned char)q[i] & 0xC0) != 0x80) col++;
    return col;
}

/* BR_EUSAGE at byte off: "WHAT at COLUMN" and the hint (a suggestion, or NULL) after it. */
static int fail(parser *p, size_t off, const char *what, const char *hint)
{
    unsigned col = column_of(p->q, off);
    return br_error_set(p->err, BR_EUSAGE, NULL, 1, col, "%s at %u%s", what, col, hint ? hint : "");
}

static int is_space(char c)
{
    return c == ' ' || (unsigned char)c < 0x20 || c == 0x7f;
}

static int word_char(char c)
{
    return c && !is_space(c) && c != '(' && c != ')' && c != '"';
}

/* A quoted phrase starting at the quote at q[off]: 0 and *end after the closing quote. */
static int scan_phrase(parser *p, size_t off, size_t *end)
{
    const char *close = memchr(p->q + off + 1, '"', p->len - off - 1);
    if (!close) return fail(p, off, "unclosed quote", NULL);
    *end = (size_t)(close - p->q) + 1;
    return 0;
}

static int lex(parser *p, tok *t)
{
    memset(t, 0, sizeof *t);
    while (p->pos < p->len && is_space(p->q[p->pos]))
        p->pos++;
    t->off = p->pos;
    if (p->pos >= p->len) {
        t->kind = K_END;
        return 0;
    }
    char c = p->q[p->pos];
    if (c == '(' || c == ')') {
        t->kind = c == '(' ? K_LPAREN : K_RPAREN;
        p->pos++;
        return 0;
    }
    t->kind = K_TERM;
    if (c == '"') {
        size_t end;
        int rc = scan_phrase(p, p->pos, &end);
        if (rc) return rc;
        t->val = p->q + p->pos + 1;
        t->vlen = end - p->pos - 2;
        t->voff = p->pos + 1;
        p->pos = end;
        return 0;
    }
    size_t s = p->pos, e = s;
    while (e < p->len && word_char(p->q[e]))
        e++;
    p->pos = e;
    const char *w = p->q + s;
    size_t n = e - s;
    if (n == 3 && !memcmp(w, "AND", 3)) t->kind = K_AND;
    if (n == 2 && !memcmp(w, "OR", 2)) t->kind = K_OR;
    if (n == 3 && !memcmp(w, "NOT", 3)) t->kind = K_NOT;
    if (t->kind != K_TERM) return 0;
    /* field:value when the part before the first ':' is a name (letters, '_') */
    const char *colon = memchr(w, ':', n);
    size_t name_n = colon ? (size_t)(colon - w) : 0;
    int is_name = name_n > 0;
    for (size_t i = 0; i < name_n; i++)
        if (!isalpha((unsigned char)w[i]) && w[i] != '_') is_name = 0;
    if (!is_name) {
        t->val = w;
        t->vlen = n;
        t->voff = s;
    } else {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(name_n < 60 ? name_n : 60), w);
        for (char *k = name; *k; k++)
            *k = (char)tolower((unsigned char)*k);
        t->field = field_find(w, name_n);
        if (!t->field) {
            const char *sug = suggest_field(name);
            char what[160], hint[200];
            snprintf(what, sizeof what, "unknown field '%s'", name);
            if (sug)
                snprintf(hint, sizeof hint, " (did you mean %s:?)", sug);
            else
                snprintf(hint, sizeof hint,
                         " (fields: title, creator, orcid, type, collection, status, affiliation, "
                         "identifier, doi, isbn, date, has, job; put text with a ':' in quotes)");
            return fail(p, s, what, hint);
        }
        t->val = colon + 1;
        t->vlen = n - name_n - 1;
        t->voff = s + name_n + 1;
        if (!t->vlen && e < p->len && p->q[e] == '"') {
            size_t end;
            int rc = scan_phrase(p, e, &end);
            if (rc) return rc;
            t->val = p->q + e + 1;
            t->vlen = end - e - 2;
            t->voff = e + 1;
            p->pos = end;
            return 0;
        }
        if (!t->vlen) {
            char what[160], hint[200];
            snprintf(what, sizeof what, "%s: has no value", t->field->name);
            snprintf(hint, sizeof hint, " (write %s:word or %s:\"a phrase\")", t->field->name,
                     t->field->name);
            return fail(p, s, what, hint);
        }
    }
    if (t->vlen > 1 && t->val[t->vlen - 1] == '*') {
        t->prefix = 1;
        t->vlen--;
    }
    return 0;
}

static int peek(parser *p, tok **t)
{
    if (!p->have) {
        int rc = lex(p, &p->cur);
        if (rc) return rc;
        p->have = 1;
    }
    *t = &p->cur;
    return 0;
}

static void take(parser *p)
{
    p->have = 0;
}

/* ---- terms -------------------------------------------------------------------------------- */

static int nomem(parser *p)
{
    return br_error_set(p->err, BR_ENOMEM, NULL, 0, 0, "out of memory");
}

static br_qnode *node(parser *p, br_qkind kind, size_t off)
{
    br_qnode *n = br_arena_alloc(p->arena, sizeof *n);
    if (!n) return NULL;
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->column = column_of(p->q, off);
    return n;
}

/* Appends s as an FTS5 string: in double quotes, each '"' doubled. */
static int fts_quote(br_buf *b, const char *s, size_t n)
{
    if (br_buf_puts(b, "\"")) return -1;
    for (size_t i = 0; i < n; i++)
        if (br_buf_append(b, s + i, 1) || (s[i] == '"' && br_buf_append(b, "\"", 1))) return -1;
    return br_buf_puts(b, "\"");
}

/* Whether FTS5's tokenizer can find a token in s: an ASCII letter or digit, or any
 * non-ASCII character (unicode61 keeps letters and numbers of every script). */
static int has_token(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80) return 1;
    return 0;
}

static int starts_with_ci(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && !strncasecmp(s, prefix, k);
}

/* The value as the index stores it: a DOI without its resolver or "doi:" prefix, an ISBN
 * without hyphens and spaces, an ORCID iD without https://orcid.org/. */
static void normalise(fkind kind, const char **s, size_t *n, char *buf, size_t size)
{
    if (kind == F_DOI) {
        static const char *const pre[] = {"https://doi.org/", "http://doi.org/",
                                          "https://dx.doi.org/", "http://dx.doi.org/", "doi:"};
        for (size_t i = 0; i < BR_ARRAY_LEN(pre); i++)
            if (starts_with_ci(*s, *n, pre[i])) {
                *s += strlen(pre[i]);
                *n -= strlen(pre[i]);
                break;
            }
    } else if (kind == F_ORCID) {
        static const char *const pre[] = {"https://orcid.org/", "http://orcid.org/"};
        for (size_t i = 0; i < BR_ARRAY_LEN(pre); i++)
            if (starts_with_ci(*s, *n, pre[i])) {
                *s += strlen(pre[i]);
                *n -= strlen(pre[i]);
                break;
            }
    } else if (kind == F_ISBN) {
        size_t k = 0;
        for (size_t i = 0; i < *n && k + 1 < size; i++)
            if ((*s)[i] != '-' && (*s)[i] != ' ') buf[k++] = (*s)[i];
        buf[k] = 0;
        *s = buf;
        *n = k;
    }
}

/* A 4-digit year at s: 0 and *y, else -1. */
static int year_of(const char *s, size_t n, int *y)
{
    if (n != 4) return -1;
    for (size_t i = 0; i < 4; i++)
        if (!isdigit((unsigned char)s[i])) return -1;
    *y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    return 0;
}

/* The value as text for a message (cut, and only printable). */
static void shown(const tok *t, char *out, size_t size)
{
    size_t n = t->vlen < 60 ? t->vlen : 60;
    snprintf(out, size, "%.*s%s", (int)n, t->val, t->vlen > 60 ? "..." : "");
}

/* What the token t asks of the index into *q (its strings in the arena); *rankable when it
 * ranks (a text term). */
static int term_of(parser *p, const tok *t, br_qterm *q, int *rankable)
{
    const field *f = t->field;
    fkind kind = f ? f->kind : F_TEXT;
    const char *v = t->val;
    size_t n = t->vlen;
    char val[80];
    shown(t, val, sizeof val);
    *rankable = 0;
    if (kind == F_STATUS) {
        for (size_t i = 0; i < BR_ARRAY_LEN(STATUSES); i++)
            if (strlen(STATUSES[i]) == n && !strncasecmp(STATUSES[i], v, n)) {
                q->field = BR_QF_STATUS;
                q->text = STATUSES[i];
                return 0;
            }
        char low[80], hint[200];
        snprintf(low, sizeof low, "%s", val);
        for (char *k = low; *k; k++)
            *k = (char)tolower((unsigned char)*k);
        const char *sug = closest(low, STATUSES, BR_ARRAY_LEN(STATUSES));
        char what[160];
        snprintf(what, sizeof what, "status:%s is not a status", val);
        snprintf(hint, sizeof hint,
                 " (%s%s%sone of workspace, workflow, draft, archived, withdrawn)",
                 sug ? "did you mean " : "", sug ? sug : "", sug ? "? " : "");
        return fail(p, t->off, what, hint);
    }
    if (kind == F_HAS) {
        for (size_t i = 0; i < BR_ARRAY_LEN(HAS); i++)
            if (strlen(HAS[i][0]) == n && !strncasecmp(HAS[i][0], v, n)) {
                q->field = BR_QF_FLAGS;
                q->text = HAS[i][1];
                return 0;
            }
        char what[160];
        snprintf(what, sizeof what, "has:%s is not something an item has", val);
        return fail(p, t->off, what, " (has:file, has:doi or has:link)");
    }
    if (kind == F_DATE) {
        int from = 0, to = 0, ok;
        size_t dots = 0; /* where "..", 0 when none */
        for (size_t i = 1; i + 1 < n && !dots; i++)
            if (v[i] == '.' && v[i + 1] == '.') dots = i;
        if (!dots)
            ok = !year_of(v, n, &from) && !year_of(v, n, &to);
        else
            ok = !year_of(v, dots, &from) && !year_of(v + dots + 2, n - dots - 2, &to);
        char what[200];
        if (!ok) {
            snprintf(what, sizeof what, "date:%s is not a year or a range of years", val);
            return fail(p, t->off, what, " (write date:2019 or date:2019..2021)");
        }
        if (to < from) {
            snprintf(what, sizeof what, "date:%s: the range ends before it starts", val);
            return fail(p, t->off, what, NULL);
        }
        if (to - from + 1 > BR_QUERY_MAX_YEARS) {
            snprintf(what, sizeof what, "date:%s spans %d years", val, to - from + 1);
            char hint[120];
            snprintf(hint, sizeof hint, " (a range may span at most %d years: split it with OR)",
                     BR_QUERY_MAX_YEARS);
            return fail(p, t->off, what, hint);
        }
        q->field = BR_QF_YEAR;
        q->year_from = from;
        q->year_to = to;
        return 0;
    }
    /* Text: free words and phrases, title:, creator:, ..., doi:, isbn:, orcid:. */
    char norm[BR_QUERY_MAX_BYTES + 1];
    normalise(kind, &v, &n, norm, sizeof norm);
    if (!has_token(v, n)) {
        char what[200];
        if (f)
            snprintf(what, sizeof what, "%s:%s has no letter or digit to search for", f->name, val);
        else
            snprintf(what, sizeof what, "'%s' has no letter or digit to search for", val);
        return fail(p, t->off, what, NULL);
    }
    /* doi: and isbn: are phrases after the identifier's type, as the index stores them
     * ("doi 10.1000/x"), so an ISBN is not found by doi: nor a DOI by isbn:. */
    const char *type = kind == F_DOI ? "doi " : kind == F_ISBN ? "isbn " : "";
    size_t tn = strlen(type);
    char *text = br_arena_alloc(p->arena, tn + n + 1);
    if (!text) return nomem(p);
    memcpy(text, type, tn);
    memcpy(text + tn, v, n);
    text[tn + n] = 0;
    q->field = f ? f->column : BR_QF_TEXT;
    q->text = text;
    q->prefix = t->prefix;
    *rankable = 1;
    return 0;
}

static int parse_term(parser *p, br_qnode **out)
{
    tok *t;
    int rc = peek(p, &t);
    if (rc) return rc;
    tok cur = *t;
    take(p);
    if (p->terms >= BR_QUERY_MAX_TERMS) {
        char what[120];
        snprintf(what, sizeof what, "the query has more than %d terms: the next one is",
                 BR_QUERY_MAX_TERMS);
        return fail(p, cur.off, what, NULL);
    }
    p->terms++;
    if (cur.field && cur.field->kind == F_JOB) {
        char val[80];
        shown(&cur, val, sizeof val);
        int ok = cur.vlen > 0 && cur.vlen <= 18 && !cur.prefix && cur.val[0] != '0';
        long long id = 0;
        for (size_t i = 0; ok && i < cur.vlen; i++) {
            if (!isdigit((unsigned char)cur.val[i])) ok = 0;
            id = id * 10 + (cur.val[i] - '0');
        }
        if (!ok) {
            char what[160];
            snprintf(what, sizeof what, "job:%s is not a job id", val);
            return fail(p, cur.off, what, " (a job's number, as job list shows it)");
        }
        br_qnode *n = node(p, BR_Q_JOB, cur.off);
        if (!n) return nomem(p);
        n->job = id;
        *out = n;
        return 0;
    }
    br_qterm *term = br_arena_alloc(p->arena, sizeof *term);
    if (!term) return nomem(p);
    memset(term, 0, sizeof *term);
    int rankable = 0;
    if ((rc = term_of(p, &cur, term, &rankable))) return rc;
    br_qnode *n = node(p, BR_Q_FTS, cur.off);
    if (!n) return nomem(p);
    n->term = term;
    /* at most one per term: the term cap holds the list's */
    if (rankable && !p->negated && p->n_ranked < BR_ARRAY_LEN(p->ranked))
        p->ranked[p->n_ranked++] = n;
    *out = n;
    return 0;
}

/* ---- the grammar ---------------------------------------------------------------------------- */

static int parse_or(parser *p, br_qnode **out);

static const char *op_name(tkind k)
{
    return k == K_AND ? "AND" : k == K_OR ? "OR" : "NOT";
}

/* A term must follow the operator just read at off. */
static int need_after(parser *p, tkind op, size_t off)
{
    tok *t;
    int rc = peek(p, &t);
    if (rc) return rc;
    if (t->kind == K_END || t->kind == K_RPAREN || t->kind == K_AND || t->kind == K_OR) {
        char what[64];
        snprintf(what, sizeof what, "%s needs a term after it", op_name(op));
        return fail(p, off, what, NULL);
    }
    return 0;
}

static int deeper(parser *p, size_t off)
{
    if (++p->depth <= BR_QUERY_MAX_DEPTH) return 0;
    char what[120];
    snprintf(what, sizeof what, "the query nests more than %d levels deep", BR_QUERY_MAX_DEPTH);
    return fail(p, off, what, NULL);
}

static int parse_primary(parser *p, br_qnode **out)
{
    tok *t;
    int rc = peek(p, &t);
    if (rc) return rc;
    size_t off = t->off;
    switch (t->kind) {
    case K_LPAREN: {
        take(p);
        if ((rc = deeper(p, off))) return rc;
        if ((rc = peek(p, &t))) return rc;
        if (t->kind == K_RPAREN) return fail(p, off, "'(' has nothing inside", NULL);
        if (t->kind == K_END) return fail(p, off, "'(' is never closed", NULL);
        if ((rc = parse_or(p, out))) return rc;
        if ((rc = peek(p, &t))) return rc;
        if (t->kind != K_RPAREN) return fail(p, off, "'(' is never closed", NULL);
        take(p);
        p->depth--;
        return 0;
    }
    case K_RPAREN:
        return fail(p, off, "')' has no '(' to close", NULL);
    case K_AND:
    case K_OR: {
        char what[64];
        snprintf(what, sizeof what, "%s needs a term before it", op_name(t->kind));
        return fail(p, off, what, NULL);
    }
    case K_END:
        return fail(p, off, "a term is missing", NULL);
    default:
        return parse_term(p, out);
    }
}

static int parse_unary(parser *p, br_qnode **out)
{
    tok *t;
    int rc = peek(p, &t);
    if (rc) return rc;
    if (t->kind != K_NOT) return parse_primary(p, out);
    size_t off = t->off;
    take(p);
    if ((rc = deeper(p, off)) || (rc = need_after(p, K_NOT, off))) return rc;
    br_qnode *kid = NULL;
    p->negated = !p->negated;
    rc = parse_unary(p, &kid);
    p->negated = !p->negated;
    if (rc) return rc;
    p->depth--;
    br_qnode *n = node(p, BR_Q_NOT, off);
    br_qnode **kids = br_arena_alloc(p->arena, sizeof *kids);
    if (!n || !kids) return nomem(p);
    kids[0] = kid;
    n->kids = kids;
    n->n_kids = 1;
    *out = n;
    return 0;
}

/* An AND or OR node of kids (one kid: itself), with its full-text kids gathered into one
 * full-text node of that op, in the place of the first of them (one lookup in the index
 * instead of one per term). */
static int combine(parser *p, br_qkind kind, br_qnode **kids, size_t n, br_qnode **out)
{
    if (n == 1) {
        *out = kids[0];
        return 0;
    }
    br_qnode *merged[BR_QUERY_MAX_TERMS];
    size_t m = 0, fts = 0;
    for (size_t i = 0; i < n; i++)
        fts += kids[i]->kind == BR_Q_FTS;
    br_qnode *group = NULL;
    if (fts >= 2) {
        group = node(p, BR_Q_FTS, 0);
        br_qnode **g = br_arena_alloc(p->arena, fts * sizeof *g);
        if (!group || !g) return nomem(p);
        group->op = kind;
        group->kids = g;
    }
    for (size_t i = 0; i < n; i++) {
        if (kids[i]->kind != BR_Q_FTS || !group) {
            merged[m++] = kids[i];
            continue;
        }
        if (!group->n_kids) {
            group->column = kids[i]->column;
            merged[m++] = group; /* its place in the order */
        }
        group->kids[group->n_kids++] = kids[i];
    }
    if (m == 1) {
        *out = merged[0];
        return 0;
    }
    br_qnode *nd = node(p, kind, 0);
    br_qnode **k = br_arena_alloc(p->arena, m * sizeof *k);
    if (!nd || !k) return nomem(p);
    memcpy(k, merged, m * sizeof *k);
    nd->kids = k;
    nd->n_kids = m;
    nd->column = kids[0]->column;
    *out = nd;
    return 0;
}

static int parse_and(parser *p, br_qnode **out)
{
    br_qnode *kids[BR_QUERY_MAX_TERMS + 1];
    size_t n = 0;
    int rc = parse_unary(p, &kids[n++]);
    for (;;) {
        tok *t;
        if (rc || (rc = peek(p, &t))) return rc;
        if (t->kind == K_END || t->kind == K_RPAREN || t->kind == K_OR) break;
        if (t->kind == K_AND) {
            size_t off = t->off;
            take(p);
            if ((rc = need_after(p, K_AND, off))) return rc;
        }
        /* Each kid holds a term: the 65th fails at the term cap, before the array is full. */
        if (n > BR_QUERY_MAX_TERMS) return br_error_set(p->err, BR_EINTERNAL, NULL, 0, 0, "query");
        rc = parse_unary(p, &kids[n++]);
    }
    return combine(p, BR_Q_AND, kids, n, out);
}

static int parse_or(parser *p, br_qnode **out)
{
    br_qnode *kids[BR_QUERY_MAX_TERMS + 1];
    size_t n = 0;
    int rc = parse_and(p, &kids[n++]);
    for (;;) {
        tok *t;
        if (rc || (rc = peek(p, &t))) return rc;
        if (t->kind != K_OR) break;
        size_t off = t->off;
        take(p);
        if ((rc = need_after(p, K_OR, off))) return rc;
        if (n > BR_QUERY_MAX_TERMS) return br_error_set(p->err, BR_EINTERNAL, NULL, 0, 0, "query");
        rc = parse_and(p, &kids[n++]);
    }
    return combine(p, BR_Q_OR, kids, n, out);
}

void br_query_free(br_qtree *t)
{
    if (!t) return;
    br_arena_free(t->arena);
    free(t);
}

int br_query_read(const char *q, br_qtree **out, br_error *err)
{
    if (!out) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_query_read: no result");
    *out = NULL;
    if (!q) return br_error_set(err, BR_EUSAGE, NULL, 1, 1, "no query given");
    size_t len = strlen(q);
    if (len > BR_QUERY_MAX_BYTES) {
        unsigned col = column_of(q, BR_QUERY_MAX_BYTES);
        return br_error_set(err, BR_EUSAGE, NULL, 1, col,
                            "the query is longer than %d bytes (cut at %u)", BR_QUERY_MAX_BYTES,
                            col);
    }
    size_t bad;
    if (br_utf8_check(q, len, &bad)) {
        unsigned col = column_of(q, bad);
        return br_error_set(err, BR_EUSAGE, NULL, 1, col, "the query is not UTF-8 at %u", col);
    }
    parser p = {.q = q, .len = len, .err = err};
    br_qtree *t = calloc(1, sizeof *t);
    if (!t || !(t->arena = br_arena_new())) {
        free(t);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    p.arena = t->arena;
    tok *k;
    int rc = peek(&p, &k);
    if (!rc && k->kind == K_END)
        rc = br_error_set(err, BR_EUSAGE, NULL, 1, 1, "the query is empty");
    if (!rc) rc = parse_or(&p, &t->root);
    if (!rc && !(rc = peek(&p, &k)) && k->kind != K_END)
        rc = fail(&p, k->off, "')' has no '(' to close", NULL); /* the only token left */
    if (!rc && p.n_ranked) {
        const br_qnode **r = br_arena_alloc(t->arena, p.n_ranked * sizeof *r);
        if (!r)
            rc = nomem(&p);
        else {
            memcpy(r, p.ranked, p.n_ranked * sizeof *r);
            t->ranked = r;
            t->n_ranked = p.n_ranked;
        }
    }
    if (rc) {
        br_query_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* ---- FTS5 (SQLite's search) ------------------------------------------------------------------ */

/* The columns of item_fts (schema.sql) each field searches, as an FTS5 column filter. */
static const char *const FTS5_COLUMNS[BR_QF_COUNT] = {
    [BR_QF_TEXT] = "{title creator orcid affiliation ident type coll body}",
    [BR_QF_TITLE] = "title",
    [BR_QF_CREATOR] = "creator",
    [BR_QF_ORCID] = "orcid",
    [BR_QF_AFFILIATION] = "affiliation",
    [BR_QF_IDENT] = "ident",
    [BR_QF_TYPE] = "type",
    [BR_QF_COLL] = "coll",
    [BR_QF_STATUS] = "status",
    [BR_QF_FLAGS] = "flags",
    [BR_QF_YEAR] = "year",
};

/* Appends the FTS5 query of a term: "COLUMNS : " and its text as an FTS5 string. */
static int fts5_term(br_buf *b, const br_qterm *q)
{
    if (br_buf_puts(b, FTS5_COLUMNS[q->field]) || br_buf_puts(b, " : ")) return -1;
    if (q->field == BR_QF_YEAR) {
        int from = q->year_from, to = q->year_to;
        if (from != to && br_buf_puts(b, "(")) return -1;
        for (int y = from; y <= to; y++)
            if (br_buf_printf(b, "%s\"y%04d\"", y > from ? " OR " : "", y)) return -1;
        return from != to ? br_buf_puts(b, ")") : 0;
    }
    if (fts_quote(b, q->text, strlen(q->text))) return -1;
    return q->prefix ? br_buf_puts(b, " *") : 0;
}

/* Sets n's match (a term's, or "(kid) AND (kid)" of its kids') and those of the full-text
 * nodes below it. */
static int fts5_node(br_arena *a, br_qnode *n, br_buf *b)
{
    if (n->kind != BR_Q_FTS) {
        for (size_t i = 0; i < n->n_kids; i++)
            if (fts5_node(a, n->kids[i], b)) return -1;
        return 0;
    }
    for (size_t i = 0; i < n->n_kids; i++)
        if (fts5_node(a, n->kids[i], b)) return -1;
    br_buf_clear(b);
    if (n->term && fts5_term(b, n->term)) return -1;
    for (size_t i = 0; i < n->n_kids; i++)
        if (br_buf_printf(b, "%s(%s)",
                          !i                  ? ""
                          : n->op == BR_Q_AND ? " AND "
                                              : " OR ",
                          n->kids[i]->match))
            return -1;
    return (n->match = br_arena_strndup(a, b->p, b->len)) ? 0 : -1;
}

int br_query_fts5(br_qtree *t, br_error *err)
{
    if (!t) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_query_fts5: no query");
    br_buf b = {0};
    int rc = fts5_node(t->arena, t->root, &b);
    /* The ranked terms OR-ed (their own matches: each is a term). */
    br_buf_clear(&b);
    for (size_t i = 0; !rc && i < t->n_ranked; i++)
        rc = br_buf_printf(&b, "%s(%s)", i ? " OR " : "", t->ranked[i]->match);
    if (!rc && t->n_ranked && !(t->rank = br_arena_strndup(t->arena, b.p, b.len))) rc = -1;
    br_buf_dispose(&b);
    return rc ? br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory") : 0;
}

int br_query_parse(const char *q, br_qtree **out, br_error *err)
{
    int rc = br_query_read(q, out, err);
    if (!rc && (rc = br_query_fts5(*out, err))) {
        br_query_free(*out);
        *out = NULL;
    }
    return rc;
}

int br_search_check(const char *q, br_error *err)
{
    br_qtree *t = NULL;
    int rc = br_query_read(q, &t, err);
    br_query_free(t);
    return rc;
}
