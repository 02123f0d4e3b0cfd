/* The Esploro CSV crosswalk: data/esploro_fields.tsv (columns, kinds, targets),
 * data/iso639_2b.tsv (ASSET_LANG codes) and data/esploro_asset_types.tsv
 * (ASSET_RESTYPE codes), parsed once into immutable lookup tables.
 *
 * Lookups are case-insensitive (Esploro matches header names and codes that
 * way: notes/formats.md 1.2, 1.5) through open-addressing hash tables, so the
 * reader's per-cell checks cost one hash and one comparison. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/esploro.h"
#include "core/core.h"
#include "formats/esploro_internal.h"

extern const char br_esploro_fields_tsv[];
extern const char br_iso639_2b_tsv[];
extern const char br_language_aliases_tsv[];
extern const char br_restype_aliases_tsv[];
extern const char br_esploro_asset_types_tsv[];

const char *const br_ecsv_row_names[BR_ECSV_ROW_COUNT] = {"ASSET", "PRTOF", "CREATOR", "OCREATOR",
                                                          "CONT",  "OCONT", "LINK",    "FILE"};

static const char *const KIND_NAMES[BR_ECSV_KIND_COUNT] = {
    [BR_ECSV_TEXT] = "text",       [BR_ECSV_DATE] = "date",       [BR_ECSV_DATERANGE] = "daterange",
    [BR_ECSV_MDY] = "mdy",         [BR_ECSV_YESNO] = "yesno",     [BR_ECSV_BOOL] = "bool",
    [BR_ECSV_LANG] = "lang",       [BR_ECSV_RESTYPE] = "restype", [BR_ECSV_AFFIL] = "affil",
    [BR_ECSV_ORCID] = "orcid",     [BR_ECSV_EMAIL] = "email",     [BR_ECSV_URL] = "url",
    [BR_ECSV_FILEURL] = "fileurl", [BR_ECSV_INT] = "int",         [BR_ECSV_DOI] = "doi",
};

const char *br_ecsv_kind_name(br_ecsv_kind kind)
{
    return (unsigned)kind < BR_ECSV_KIND_COUNT ? KIND_NAMES[kind] : "?";
}

static inline unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static int ci_equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
    return 1;
}

int br_ecsv_row_type(const char *s, size_t n)
{
    for (int i = 0; i < BR_ECSV_ROW_COUNT; i++)
        if (strlen(br_ecsv_row_names[i]) == n && ci_equal(s, br_ecsv_row_names[i], n)) return i;
    return -1;
}

/* ---- case-insensitive index: name -> position in an array --------------------------------- */

typedef struct ci_slot {
    const char *key; /* NULL = empty */
    size_t len;
    size_t idx;
} ci_slot;

typedef struct ci_index {
    ci_slot *slots;
    size_t cap; /* a power of two, at least twice the entries */
} ci_index;

static uint64_t ci_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= lower((unsigned char)s[i]);
        h *= 1099511628211ull;
    }
    return h;
}

static int ci_init(ci_index *ix, size_t n)
{
    ix->cap = 16;
    while (ix->cap < 2 * n + 2)
        ix->cap *= 2;
    ix->slots = calloc(ix->cap, sizeof *ix->slots);
    return ix->slots ? 0 : -1;
}

/* 1 when the key was already present (nothing added). */
static int ci_put(ci_index *ix, const char *key, size_t idx)
{
    size_t len = strlen(key);
    for (size_t i = ci_hash(key, len) & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        ci_slot *s = &ix->slots[i];
        if (!s->key) {
            *s = (ci_slot){key, len, idx};
            return 0;
        }
        if (s->len == len && ci_equal(s->key, key, len)) return 1;
    }
}

static const ci_slot *ci_get(const ci_index *ix, const char *key, size_t len)
{
    if (!ix->slots) return NULL;
    for (size_t i = ci_hash(key, len) & (ix->cap - 1);; i = (i + 1) & (ix->cap - 1)) {
        const ci_slot *s = &ix->slots[i];
        if (!s->key) return NULL;
        if (s->len == len && ci_equal(s->key, key, len)) return s;
    }
}

/* ---- the crosswalk -------------------------------------------------------------------------- */

struct br_ecsv_xwalk {
    char *text; /* copies of the three tables, cut into strings in place */
    br_ecsv_field *fields;
    size_t n;
    ci_index by_column, by_target;
    const char **langs;
    size_t n_langs;
    ci_index lang_ix;
    const char **aliases, **alias_to; /* data/language_aliases.tsv: alias -> ISO 639-2/B */
    size_t n_aliases;
    ci_index alias_ix;
    const char **type_labels, **type_label_to; /* data/restype_aliases.tsv: dc.type -> code */
    size_t n_type_labels;
    ci_index type_label_ix;
    const char **types;
    size_t n_types;
    ci_index type_ix;
};

/* Splits a TSV table (comment lines start with '#') in place: calls row() with the cells of
 * every data line.  Returns the number of data lines, or -1 when row() fails. */
typedef int (*tsv_row_fn)(void *ctx, char **cells, int n, unsigned line);
static long tsv_each(char *text, int max_cells, tsv_row_fn row, void *ctx)
{
    long count = 0;
    unsigned lineno = 0;
    char *p = text;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        lineno++;
        if (*p && *p != '#') {
            char *cells[8];
            int n = 0;
            char *c = p;
            while (n < max_cells) {
                cells[n++] = c;
                char *t = strchr(c, '\t');
                if (!t) break;
                *t = 0;
                c = t + 1;
            }
            if (row && row(ctx, cells, n, lineno)) return -1;
            count++;
        }
        if (!nl) break;
        p = nl + 1;
    }
    return count;
}

typedef struct load_ctx {
    br_ecsv_xwalk *x;
    br_error *err;
    const char *source;
} load_ctx;

static int field_row(void *ctx, char **c, int n, unsigned line)
{
    load_ctx *l = ctx;
    br_ecsv_xwalk *x = l->x;
    /* A 7th cell says why a multi-valued column is one (required there, nowhere else). */
    if (n != 6 && n != 7)
        return br_error_set(l->err, BR_EINTERNAL, l->source, line, 0,
                            "expected 6 or 7 tab-separated cells, found %d", n);
    br_ecsv_field *f = &x->fields[x->n];
    f->column = c[0];
    f->row = c[1];
    f->kind = BR_ECSV_KIND_COUNT;
    for (int k = 0; k < BR_ECSV_KIND_COUNT; k++)
        if (!strcmp(c[2], KIND_NAMES[k])) f->kind = (br_ecsv_kind)k;
    f->multi = !strcmp(c[3], "1");
    f->category = c[4];
    f->target = c[5];
    size_t rl = strlen(f->row);
    if (f->kind == BR_ECSV_KIND_COUNT || br_ecsv_row_type(f->row, rl) < 0 ||
        strncmp(f->column, f->row, rl) || f->column[rl] != '_' ||
        (strcmp(c[3], "0") && strcmp(c[3], "1")) || !*f->target || (f->multi != (n == 7 && *c[6])))
        return br_error_set(l->err, BR_EINTERNAL, l->source, line, 0,
                            "malformed crosswalk entry for '%s' (a multi-valued column, and only "
                            "one, gives its reason in a 7th cell)",
                            f->column);
    if (ci_put(&x->by_column, f->column, x->n))
        return br_error_set(l->err, BR_EINTERNAL, l->source, line, 0, "column '%s' is listed twice",
                            f->column);
    if (ci_put(&x->by_target, f->target, x->n))
        return br_error_set(l->err, BR_EINTERNAL, l->source, line, 0,
                            "target '%s' has two columns (targets must be unique)", f->target);
    x->n++;
    return 0;
}

typedef struct code_ctx {
    const char **codes;
    const char **values; /* column 2 per code, or NULL when not kept */
    size_t *n;
    ci_index *ix;
    br_error *err;
    const char *source;
} code_ctx;

static int code_row(void *ctx, char **c, int n, unsigned line)
{
    code_ctx *k = ctx;
    if (n < 2 || !*c[0])
        return br_error_set(k->err, BR_EINTERNAL, k->source, line, 0, "malformed code line");
    if (ci_put(k->ix, c[0], *k->n))
        return br_error_set(k->err, BR_EINTERNAL, k->source, line, 0, "code '%s' listed twice",
                            c[0]);
    if (k->values) k->values[*k->n] = c[1];
    k->codes[(*k->n)++] = c[0];
    return 0;
}

static int load_codes(char *text, const char *source, const char ***codes, const char ***values,
                      size_t *n, ci_index *ix, br_error *err)
{
    /* Count on a scratch copy first: the table sizes the index. */
    char *scratch = strdup(text);
    if (!scratch) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    long count = tsv_each(scratch, 2, NULL, NULL);
    free(scratch);
    *codes = calloc((size_t)count + 1, sizeof **codes);
    if (values) *values = calloc((size_t)count + 1, sizeof **values);
    if (!*codes || (values && !*values) || ci_init(ix, (size_t)count))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    code_ctx k = {*codes, values ? *values : NULL, n, ix, err, source};
    return tsv_each(text, 2, code_row, &k) < 0 ? BR_EINTERNAL : 0;
}

int br_ecsv_xwalk_new(br_ecsv_xwalk **out, br_error *err)
{
    int rc = 0;
    *out = NULL;
    br_ecsv_xwalk *x = calloc(1, sizeof *x);
    size_t lf = strlen(br_esploro_fields_tsv), ll = strlen(br_iso639_2b_tsv),
           lt = strlen(br_esploro_asset_types_tsv), la = strlen(br_language_aliases_tsv),
           lr = strlen(br_restype_aliases_tsv);
    if (!x || !(x->text = malloc(lf + ll + lt + la + lr + 5))) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    char *tf = x->text, *tl = tf + lf + 1, *tt = tl + ll + 1;
    memcpy(tf, br_esploro_fields_tsv, lf + 1);
    memcpy(tl, br_iso639_2b_tsv, ll + 1);
    memcpy(tt, br_esploro_asset_types_tsv, lt + 1);
    char *ta = tt + lt + 1;
    memcpy(ta, br_language_aliases_tsv, la + 1);
    char *tr = ta + la + 1;
    memcpy(tr, br_restype_aliases_tsv, lr + 1);

    /* Count lines for the sizes: a data line per field. */
    size_t lines = 1;
    for (const char *p = tf; *p; p++)
        lines += *p == '\n';
    x->fields = calloc(lines, sizeof *x->fields);
    if (!x->fields || ci_init(&x->by_column, lines) || ci_init(&x->by_target, lines)) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    load_ctx l = {x, err, "data/esploro_fields.tsv"};
    if (tsv_each(tf, 7, field_row, &l) < 0) {
        rc = BR_EINTERNAL;
        goto done;
    }
    if ((rc = load_codes(tl, "data/iso639_2b.tsv", &x->langs, NULL, &x->n_langs, &x->lang_ix, err)))
        goto done;
    if ((rc = load_codes(tt, "data/esploro_asset_types.tsv", &x->types, NULL, &x->n_types,
                         &x->type_ix, err)))
        goto done;
    if ((rc = load_codes(ta, "data/language_aliases.tsv", &x->aliases, &x->alias_to, &x->n_aliases,
                         &x->alias_ix, err)))
        goto done;
    if ((rc = load_codes(tr, "data/restype_aliases.tsv", &x->type_labels, &x->type_label_to,
                         &x->n_type_labels, &x->type_label_ix, err)))
        goto done;
    *out = x;
    x = NULL;
done:
    br_ecsv_xwalk_free(x);
    return rc;
}

void br_ecsv_xwalk_free(br_ecsv_xwalk *x)
{
    if (!x) return;
    free(x->fields);
    free(x->by_column.slots);
    free(x->by_target.slots);
    free(x->langs);
    free(x->lang_ix.slots);
    free(x->aliases);
    free(x->alias_to);
    free(x->alias_ix.slots);
    free(x->type_labels);
    free(x->type_label_to);
    free(x->type_label_ix.slots);
    free(x->types);
    free(x->type_ix.slots);
    free(x->text);
    free(x);
}

size_t br_ecsv_xwalk_count(const br_ecsv_xwalk *x)
{
    return x ? x->n : 0;
}

const br_ecsv_field *br_ecsv_xwalk_at(const br_ecsv_xwalk *x, size_t i)
{
    return x && i < x->n ? &x->fields[i] : NULL;
}

const br_ecsv_field *br_ecsv_xwalk_column_n(const br_ecsv_xwalk *x, const char *column, size_t n)
{
    const ci_slot *s = x ? ci_get(&x->by_column, column, n) : NULL;
    return s ? &x->fields[s->idx] : NULL;
}

const br_ecsv_field *br_ecsv_xwalk_column(const br_ecsv_xwalk *x, const char *column)
{
    return column ? br_ecsv_xwalk_column_n(x, column, strlen(column)) : NULL;
}

const br_ecsv_field *br_ecsv_xwalk_target(const br_ecsv_xwalk *x, const char *target)
{
    if (!x || !target) return NULL;
    const ci_slot *s = ci_get(&x->by_target, target, strlen(target));
    /* Targets are case-sensitive (oaire.citation.conferencePlace): the index only narrows. */
    return s && !strcmp(s->key, target) ? &x->fields[s->idx] : NULL;
}

const char *br_ecsv_lang_canon(const br_ecsv_xwalk *x, const char *s, size_t n)
{
    const ci_slot *e = ci_get(&x->lang_ix, s, n);
    return e ? e->key : NULL;
}

const char *br_ecsv_lang_from_alias(const br_ecsv_xwalk *x, const char *s, size_t n)
{
    /* A locale (en_US, pt-BR) names its language by the first two letters. */
    if (n > 3 && (s[2] == '_' || s[2] == '-')) n = 2;
    const ci_slot *e = ci_get(&x->alias_ix, s, n);
    return e ? x->alias_to[e->idx] : NULL;
}

const char *br_ecsv_restype_from_label(const br_ecsv_xwalk *x, const char *s, size_t n)
{
    const ci_slot *e = ci_get(&x->type_label_ix, s, n);
    return e ? x->type_label_to[e->idx] : NULL;
}

const char *br_ecsv_restype_canon(const br_ecsv_xwalk *x, const char *s, size_t n)
{
    const ci_slot *e = ci_get(&x->type_ix, s, n);
    return e ? e->key : NULL;
}

const char *br_ecsv_restype_suggest(const br_ecsv_xwalk *x, const char *s)
{
    const char *best = "publication.journalArticle";
    unsigned best_d = ~0u;
    for (size_t i = 0; i < x->n_types; i++) {
        unsigned d = br_levenshtein(s, x->types[i]);
        if (d < best_d) best_d = d, best = x->types[i];
    }
    return best;
}
