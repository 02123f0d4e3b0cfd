/* DOI prefixes and suffix patterns (doi.h): syntax, collisions, formatting, labels.
 *
 * A pattern is literal text of [a-z0-9._-] with placeholders {type} (the asset type's label,
 * at most once) and {n} or {n:0W} (the number, zero-padded to W digits, exactly once).  Labels
 * are [a-z0-9-] (1-31, starting with a letter or digit): no '.' and no '_', so a pattern with
 * a '.' or '_' between {type} and {n} reads back into one label and one number, and two
 * different (label, number) pairs never give the same suffix (the counters are per label).
 * Without {type} one counter serves the whole profile. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "doi/doi_internal.h"

extern const char br_esploro_asset_types_tsv[];

enum { MAX_WIDTH = 18 };

int br_doi_prefix_check(const char *prefix, br_error *err)
{
    const char *s = prefix ? prefix : "";
    if (strncmp(s, "10.", 3))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "DOI prefix '%s' must start with \"10.\" (10.NNNN: 4 to 9 digits, "
                            "then optional .digits groups)",
                            s);
    s += 3;
    size_t d = strspn(s, "0123456789");
    if (d < 4 || d > 9)
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "DOI prefix '%s': the registrant code after \"10.\" takes 4 to 9 "
                            "digits (e.g. 10.5555)",
                            prefix);
    s += d;
    while (*s == '.') {
        size_t g = strspn(s + 1, "0123456789");
        if (!g)
            return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                "DOI prefix '%s': a '.' must be followed by digits", prefix);
        s += 1 + g;
    }
    if (*s)
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "DOI prefix '%s': unexpected '%c' (only digits and '.' groups; the "
                            "suffix is made by the pattern)",
                            prefix, *s);
    if (strlen(prefix) >= 32)
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "DOI prefix '%s' is too long", prefix);
    return 0;
}

/* One parsed pattern: the pieces in order. */
typedef struct piece {
    enum { LIT, TYPE, NUM } kind;
    const char *s; /* LIT: the text (not NUL-terminated) */
    size_t len;
    int width; /* NUM */
} piece;

typedef struct parsed {
    piece p[16];
    size_t n;
    int has_type, has_num;
} parsed;

static int lit_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static int parse(const char *pat, parsed *out, br_error *err)
{
    memset(out, 0, sizeof *out);
    const char *s = pat ? pat : "";
    if (!*s) return br_error_set(err, BR_EINVAL, NULL, 0, 0, "the suffix pattern is empty");
    if (strlen(s) >= 128)
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "the suffix pattern is too long");
    while (*s) {
        if (out->n == 16)
            return br_error_set(err, BR_EINVAL, NULL, 0, 0, "suffix pattern '%s': too many parts",
                                pat);
        piece *x = &out->p[out->n];
        if (*s == '{') {
            const char *e = strchr(s, '}');
            if (!e)
                return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                    "suffix pattern '%s': '{' without '}'", pat);
            size_t n = (size_t)(e - s - 1);
            if (n == 4 && !strncmp(s + 1, "type", 4)) {
                if (out->has_type++)
                    return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                        "suffix pattern '%s': {type} more than once", pat);
                x->kind = TYPE;
            } else if ((n == 1 && s[1] == 'n') || (n >= 2 && !strncmp(s + 1, "n:", 2))) {
                if (out->has_num++)
                    return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                        "suffix pattern '%s': {n} more than once (one number "
                                        "per DOI)",
                                        pat);
                x->kind = NUM;
                if (n > 1) {
                    char w[8] = "";
                    if (n < 4 || s[3] != '0' || n - 3 >= sizeof w ||
                        strspn(s + 4, "0123456789") != n - 3)
                        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                            "suffix pattern '%s': write the padding as {n:0W}, "
                                            "e.g. {n:06}",
                                            pat);
                    memcpy(w, s + 4, n - 3);
                    x->width = atoi(w);
                    if (x->width < 1 || x->width > MAX_WIDTH)
                        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                            "suffix pattern '%s': the padding is 1 to %d digits",
                                            pat, MAX_WIDTH);
                }
            } else {
                return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                    "suffix pattern '%s': unknown placeholder '%.*s' (use {type}, "
                                    "{n} or {n:0W})",
                                    pat, (int)n + 2, s);
            }
            s = e + 1;
        } else {
            x->kind = LIT;
            x->s = s;
            while (*s && *s != '{') {
                if (!lit_char((unsigned char)*s))
                    return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                        "suffix pattern '%s': '%c' is not allowed (new suffixes "
                                        "use a-z, 0-9, '.', '_' and '-': safe in URLs, for "
                                        "DataCite and Crossref)",
                                        pat, *s);
                s++;
            }
            x->len = (size_t)(s - x->s);
        }
        out->n++;
    }
    if (!out->has_num)
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "suffix pattern '%s' has no {n}: every DOI it makes would be the "
                            "same (they must differ by a number)",
                            pat);
    if (out->has_type) {
        /* The literal text between {type} and {n} must hold a '.' or '_' (see the top). */
        size_t a = 0, b = 0;
        for (size_t i = 0; i < out->n; i++) {
            if (out->p[i].kind == TYPE) a = i;
            if (out->p[i].kind == NUM) b = i;
        }
        size_t lo = a < b ? a : b, hi = a < b ? b : a;
        int sep = 0;
        for (size_t i = lo + 1; i < hi; i++)
            if (out->p[i].kind == LIT && (memchr(out->p[i].s, '.', out->p[i].len) ||
                                          memchr(out->p[i].s, '_', out->p[i].len)))
                sep = 1;
        if (!sep)
            return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                "suffix pattern '%s' can give one DOI for two assets: put a '.' "
                                "or '_' between {type} and {n} (e.g. {type}.{n:06}), else "
                                "label \"a1\" with 2 and label \"a\" with 12 meet",
                                pat);
    }
    return 0;
}

static int label_ok(const char *s, size_t n)
{
    if (!n || n > 31) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || (s[i] == '-' && i)))
            return 0;
    return 1;
}

/* 1 when code is an Esploro asset type (or category) code, ignoring case. */
static int asset_type_known(const char *code, size_t n)
{
    const char *p = br_esploro_asset_types_tsv;
    char buf[512], *c[2];
    int k;
    while ((k = br_tsv_next(&p, buf, sizeof buf, c, 2)) > 0)
        if (strlen(c[0]) == n && !strncasecmp(c[0], code, n)) return 1;
    return 0;
}

int br_doi_pattern_check(const char *pattern, const char *labels, const char *default_label,
                         br_error *err)
{
    parsed ps;
    int rc = parse(pattern, &ps, err);
    if (rc) return rc;
    if (default_label && *default_label && !label_ok(default_label, strlen(default_label)))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "label '%s': use 1 to 31 of a-z, 0-9 and '-' (not first)",
                            default_label);
    for (const char *s = labels ? labels : ""; *s;) {
        const char *e = strchr(s, ','), *end = e ? e : s + strlen(s);
        const char *eq = memchr(s, '=', (size_t)(end - s));
        if (!eq)
            return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                "label '%.*s': write CODE=label (an Esploro asset type, e.g. "
                                "publication.journalArticle=article)",
                                (int)(end - s), s);
        if (!asset_type_known(s, (size_t)(eq - s)))
            return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                "label '%.*s': '%.*s' is not an Esploro asset type "
                                "(data/esploro_asset_types.tsv)",
                                (int)(end - s), s, (int)(eq - s), s);
        if (!label_ok(eq + 1, (size_t)(end - eq - 1)))
            return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                "label '%.*s': use 1 to 31 of a-z, 0-9 and '-' (not first)",
                                (int)(end - eq - 1), eq + 1);
        s = e ? e + 1 : end;
    }
    return 0;
}

int br_doi_suffix_format(const char *pattern, const char *label, int64_t n, char *out, size_t size)
{
    parsed ps;
    if (parse(pattern, &ps, NULL) || n < 0) return BR_EINVAL;
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < ps.n; i++) {
        const piece *x = &ps.p[i];
        int w;
        if (x->kind == LIT)
            w = snprintf(out + len, size - len, "%.*s", (int)x->len, x->s);
        else if (x->kind == TYPE)
            w = snprintf(out + len, size - len, "%s", label && *label ? label : "asset");
        else
            w = snprintf(out + len, size - len, "%0*lld", x->width, (long long)n);
        if (w < 0 || (size_t)w >= size - len) return BR_ELIMIT;
        len += (size_t)w;
    }
    return 0;
}

int br_doi_pattern_literal_start(const char *pattern, char *out, size_t size)
{
    parsed ps;
    int rc = parse(pattern, &ps, NULL);
    if (rc) return rc;
    out[0] = 0;
    if (ps.p[0].kind == LIT) snprintf(out, size, "%.*s", (int)ps.p[0].len, ps.p[0].s);
    return 0;
}

int br_doi_pattern_has_type(const char *pattern)
{
    parsed ps;
    return !parse(pattern, &ps, NULL) && ps.has_type;
}

const char *br_doi_label_for(const br_doi_profile *p, const char *asset_type, char *buf,
                             size_t size)
{
    const char *t = asset_type ? asset_type : "";
    size_t cat = strcspn(t, ".");
    const char *best = NULL;
    size_t best_len = 0;
    int best_exact = 0;
    for (const char *s = p->labels; *s;) {
        const char *e = strchr(s, ','), *end = e ? e : s + strlen(s);
        const char *eq = memchr(s, '=', (size_t)(end - s));
        if (eq) {
            size_t n = (size_t)(eq - s);
            int exact = n == strlen(t) && !strncasecmp(s, t, n);
            int category = !exact && n == cat && cat && !strncasecmp(s, t, n);
            if (exact || (category && !best_exact)) {
                best = eq + 1;
                best_len = (size_t)(end - eq - 1);
                best_exact = exact;
            }
        }
        s = e ? e + 1 : end;
    }
    if (best)
        snprintf(buf, size, "%.*s", (int)best_len, best);
    else
        snprintf(buf, size, "%s", p->default_label[0] ? p->default_label : "asset");
    return buf;
}
