/* Normalization rule sets (bulkrepo/normalize.h; the format is docs/normalization.md).
 *
 * Parsing works on one NUL-terminated copy of the file, line by line: a [fields ...] line
 * opens a section, every other non-comment line is one rule of the open section.  Every
 * error names its place (source:line:column; a map file's errors name the map file).
 * Applying works on a copy of the record's metadata (one list of values, in the record's
 * order): each section, in file order, takes the values of each field it names, runs its
 * rules over them (a split or a join changes how many there are) and puts the results back
 * where the field's values were, so values keep their order and language.  The record's
 * metadata is rebuilt only when some value changed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utf8proc.h>
#include "bulkrepo/normalize.h"
#include "core/core.h"
#include "formats/esploro_internal.h"
#include "jobs/normalize.h"
#include "jobs/setjob.h"

/* As written by scripts/embed_files.sh: data/normalization/ (the Makefile). */
typedef struct br_embedded_file {
    const char *name;
    const char *data;
    size_t size;
} br_embedded_file;
extern const br_embedded_file br_normalization_files[];

#define SHIPPED_DIR "data/normalization"

enum rkind { R_TRIM, R_COLLAPSE, R_NFC, R_CASE, R_REPLACE, R_DATE, R_MAP, R_SPLIT, R_JOIN };
enum { CASE_LOWER, CASE_UPPER, CASE_TITLE };
enum { DATE_COMPACT, DATE_ISO };

/* The creator name parts a [fields] line names as creator.PART (bit i = PARTS[i]). */
static const char *const PARTS[] = {"family", "given", "middle", "suffix", "display"};
#define ALL_PARTS ((1u << BR_ARRAY_LEN(PARTS)) - 1)

typedef struct rule {
    int kind, mode;
    int has_re;
    regex_t re;
    char *text; /* replace: the replacement; split, join: the separator */
    size_t map; /* map: index in maps */
    unsigned line;
} rule;

enum { P_ALL, P_SCHEMA, P_ELEMENT, P_EXACT };

typedef struct pattern {
    int kind;
    char sc[64], el[64], q[64];
} pattern;

typedef struct section {
    pattern *pats;
    size_t n_pats;
    size_t first, n; /* its rules: rules[first .. first + n) */
    unsigned line;
    unsigned parts; /* the creator name parts it names */
} section;

typedef struct nmap {
    char name[128];
    br_strmap idx; /* value -> index in vals */
    char **vals;
    unsigned *lines; /* where each value is mapped, for the duplicate message */
    size_t n, cap;
} nmap;

struct br_ruleset {
    section *secs;
    size_t n_secs, cap_secs;
    rule *rules;
    size_t n_rules, cap_rules;
    nmap *maps;
    size_t n_maps;
    /* Expressions are compiled and run in a UTF-8 locale, so that '.' and bracket expressions
     * match characters, not bytes (0 when the C library has none: bytes, and a result that is
     * not UTF-8 is refused). */
    locale_t utf8;
};

/* ---- text helpers ------------------------------------------------------------------------- */

int br_norm_is_space(int cp)
{
    if ((cp >= 9 && cp <= 13) || cp == 0x85) return 1;
    if (cp < 0x20 || cp > 0x10FFFF) return 0;
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

/* The code point at s[i] of a valid UTF-8 string and its length in bytes (1 for a byte
 * that does not decode, which validated text never has). */
static size_t cp_at(const char *s, size_t n, size_t i, utf8proc_int32_t *cp)
{
    utf8proc_ssize_t k =
        utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), cp);
    if (k <= 0) {
        *cp = (unsigned char)s[i];
        return 1;
    }
    return (size_t)k;
}

/* Collapses runs of white space to one ASCII space in place; trims when asked. */
static void collapse(char *s, int trim)
{
    size_t n = strlen(s), w = 0;
    int in_space = 0;
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        size_t k = cp_at(s, n, i, &cp);
        if (br_norm_is_space(cp)) {
            if (!in_space && !(trim && w == 0)) s[w++] = ' ';
            in_space = 1;
        } else {
            memmove(s + w, s + i, k);
            w += k;
            in_space = 0;
        }
        i += k;
    }
    if (trim && w && s[w - 1] == ' ') w--;
    s[w] = 0;
}

char *br_norm_fold(const char *s)
{
    if (!s || br_utf8_check(s, strlen(s), NULL)) return NULL;
    utf8proc_uint8_t *out = NULL;
    int opts = UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD |
               UTF8PROC_STRIPMARK | UTF8PROC_LUMP;
    if (utf8proc_map((const utf8proc_uint8_t *)s, 0, &out, (utf8proc_option_t)opts) < 0) {
        free(out);
        return NULL;
    }
    collapse((char *)out, 1);
    return (char *)out;
}

/* ---- the rule set ------------------------------------------------------------------------- */

void br_ruleset_free(br_ruleset *rs)
{
    if (!rs) return;
    for (size_t i = 0; i < rs->n_rules; i++) {
        if (rs->rules[i].has_re) regfree(&rs->rules[i].re);
        free(rs->rules[i].text);
    }
    for (size_t i = 0; i < rs->n_secs; i++)
        free(rs->secs[i].pats);
    for (size_t i = 0; i < rs->n_maps; i++) {
        nmap *m = &rs->maps[i];
        for (size_t k = 0; k < m->n; k++)
            free(m->vals[k]);
        free(m->vals);
        free(m->lines);
        br_strmap_dispose(&m->idx);
    }
    free(rs->maps);
    if (rs->utf8) freelocale(rs->utf8);
    free(rs->rules);
    free(rs->secs);
    free(rs);
}

size_t br_ruleset_rules(const br_ruleset *rs)
{
    return rs ? rs->n_rules : 0;
}

size_t br_ruleset_sections(const br_ruleset *rs)
{
    return rs ? rs->n_secs : 0;
}

/* ---- parsing ------------------------------------------------------------------------------ */

typedef struct pctx {
    br_ruleset *rs;
    const char *source, *dir;
    const char *line; /* the current line (NUL-terminated) */
    unsigned lineno;
    br_error *err;
} pctx;

/* The 1-based column, in characters, of p on the current line. */
static unsigned col_at(const pctx *c, const char *p)
{
    unsigned col = 1;
    for (const char *s = c->line; s < p && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) col++;
    return col;
}

static int perr(pctx *c, const char *at, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int perr(pctx *c, const char *at, int code, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return br_error_set(c->err, code, c->source, c->lineno, at ? col_at(c, at) : 0, "%s", msg);
}

/* How much of s[0..n) a message quotes: at most max bytes, never half a character. */
static int clip(const char *s, size_t n, size_t max)
{
    if (n <= max) return (int)n;
    while (max && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

/* The length in bytes of the (valid UTF-8) character at p; 0 at the end. */
static int char_len(const char *p)
{
    if (!*p) return 0;
    utf8proc_int32_t cp;
    return (int)cp_at(p, strlen(p), 0, &cp);
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A word: up to the next blank. */
static size_t word_len(const char *p)
{
    size_t n = 0;
    while (p[n] && p[n] != ' ' && p[n] != '\t')
        n++;
    return n;
}

static int word_is(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && !strncmp(p, w, n);
}

/* After a rule's arguments only blanks may follow. */
static int end_of_rule(pctx *c, const char *p, const char *rule_name)
{
    p = skip_ws(p);
    if (!*p) return 0;
    return perr(c, p, BR_EINVAL, "unexpected '%.*s' after the %s rule", clip(p, word_len(p), 60), p,
                rule_name);
}

/* A quoted string: "..." with \" \\ \t \n; *out malloc'd. */
static int parse_quoted(pctx *c, const char **pp, const char *what, char **out)
{
    const char *p = skip_ws(*pp), *open = p;
    if (*p != '"')
        return perr(c, p, BR_EINVAL, "%s: expected a quoted string (\"...\")%s", what,
                    *p ? "" : " at the end of the line");
    br_buf b = {0};
    int rc = 0;
    for (p++; *p && *p != '"' && !rc; p++) {
        char ch = *p;
        if (ch == '\\') {
            char e = p[1];
            ch = e == '"' ? '"' : e == '\\' ? '\\' : e == 't' ? '\t' : e == 'n' ? '\n' : 0;
            if (!ch) {
                rc = perr(c, p, BR_EINVAL,
                          "%s: unknown escape '\\%.*s' in a quoted string (use \\\" \\\\ \\t \\n)",
                          what, char_len(p + 1), p + 1);
                break;
            }
            p++;
        }
        if (br_buf_append(&b, &ch, 1)) rc = br_error_set(c->err, BR_ENOMEM, NULL, 0, 0, "oom");
    }
    if (!rc && *p != '"')
        rc = perr(c, open, BR_EINVAL, "%s: the quoted string is not closed with '\"'", what);
    if (rc) {
        br_buf_dispose(&b);
        return rc;
    }
    if (!b.p && br_buf_append(&b, "", 0)) return br_error_set(c->err, BR_ENOMEM, NULL, 0, 0, "oom");
    *out = b.p;
    *pp = p + 1;
    return 0;
}

/* /REGEX/FLAGS: a bounded POSIX extended expression (br_sj_regex_check's rules, and a bound on
 * what it compiles to). */
static int parse_regex(pctx *c, const char **pp, rule *r)
{
    const char *p = skip_ws(*pp), *open = p;
    if (*p != '/')
        return perr(c, p, BR_EINVAL, "replace: expected /REGEX/ \"REPLACEMENT\"%s",
                    *p ? "" : " after replace");
    br_buf b = {0};
    int rc = 0;
    for (p++; *p && *p != '/' && !rc; p++) {
        if (*p == '\\' && p[1] == '/') { /* \/ is a slash of the expression */
            rc = br_buf_append(&b, "/", 1);
            p++;
        } else if (*p == '\\' && p[1]) {
            rc = br_buf_append(&b, p, 2);
            p++;
        } else {
            rc = br_buf_append(&b, p, 1);
        }
    }
    if (rc) rc = br_error_set(c->err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!rc && *p != '/')
        rc = perr(c, open, BR_EINVAL, "replace: the regular expression is not closed with '/'");
    if (!rc && !b.len) rc = perr(c, open, BR_EINVAL, "replace: the regular expression is empty");
    int flags = REG_EXTENDED;
    if (!rc)
        for (p++; *p && *p != ' ' && *p != '\t' && !rc; p++) {
            if (*p == 'i')
                flags |= REG_ICASE;
            else
                rc = perr(c, p, BR_EINVAL,
                          "replace: unknown flag '%.*s' after the regular expression (i: ignore "
                          "case)",
                          char_len(p), p);
        }
    br_error e;
    if (!rc && br_sj_regex_check(b.p, NULL, &e)) {
        /* Its place is a column of the expression: ours is one past the opening '/'. */
        unsigned col = col_at(c, open) + (e.place.column ? e.place.column : 1);
        rc = br_error_set(c->err, e.code == BR_EUSAGE ? BR_EINVAL : e.code, c->source, c->lineno,
                          col, "replace: %s", e.message);
    }
    if (!rc) {
        br_ruleset *rs = c->rs;
        if (!rs->utf8) rs->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
        locale_t old = rs->utf8 ? uselocale(rs->utf8) : (locale_t)0;
        int k = regcomp(&r->re, b.p, flags);
        if (old) uselocale(old);
        if (k) /* br_sj_regex_check compiled it already: only memory can fail here */
            rc = br_error_set(c->err, BR_ENOMEM, c->source, c->lineno, 0,
                              "the regular expression could not be compiled");
        else
            r->has_re = 1;
    }
    br_buf_dispose(&b);
    if (!rc) *pp = p;
    return rc;
}

/* ---- map files ---- */

static int map_name_ok(const char *s, size_t n)
{
    if (!n || n > 100 || s[0] == '.') return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

static const br_embedded_file *shipped(const char *name)
{
    for (const br_embedded_file *f = br_normalization_files; f->name; f++)
        if (!strcmp(f->name, name)) return f;
    return NULL;
}

/* Reads FROM<TAB>TO lines of text (NUL-terminated, len bytes) into m; errors at src. */
static int parse_map(nmap *m, char *text, size_t len, const char *src, br_error *err)
{
    size_t bad;
    if (br_utf8_check(text, len, &bad)) {
        unsigned l, col;
        br_text_position(text, bad, &l, &col);
        return br_error_set(err, BR_EINVAL, src, l, col, "the map file is not valid UTF-8");
    }
    unsigned lineno = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *next = nl ? nl + 1 : p + n;
        lineno++;
        if (n && p[n - 1] == '\r') n--;
        p[n] = 0;
        if (!n || *p == '#') {
            p = next;
            continue;
        }
        char *tab = strchr(p, '\t');
        if (!tab)
            return br_error_set(err, BR_EINVAL, src, lineno, 0,
                                "expected VALUE<TAB>REPLACEMENT (no tab on this line)");
        *tab = 0;
        if (strchr(tab + 1, '\t')) {
            unsigned col = 1;
            for (const char *s = p; s <= tab; s++)
                col += ((unsigned char)*s & 0xC0) != 0x80;
            return br_error_set(err, BR_EINVAL, src, lineno,
                                col + (unsigned)(strchr(tab + 1, '\t') - tab) - 1,
                                "more than two columns: a map line is VALUE<TAB>REPLACEMENT");
        }
        if (!*p) return br_error_set(err, BR_EINVAL, src, lineno, 1, "the value to map is empty");
        int64_t at;
        if (br_strmap_get(&m->idx, p, &at))
            return br_error_set(err, BR_EINVAL, src, lineno, 1,
                                "'%.*s' is mapped already on line %u", clip(p, strlen(p), 200), p,
                                m->lines[at]);
        if (m->n >= BR_RULES_MAP_ENTRIES)
            return br_error_set(err, BR_ELIMIT, src, lineno, 0,
                                "the map file has more than %d values", BR_RULES_MAP_ENTRIES);
        size_t cap = m->cap;
        if (br_grow((void **)&m->vals, &m->cap, m->n + 1, sizeof *m->vals))
            return br_error_set(err, BR_ENOMEM, src, lineno, 0, "out of memory");
        if (m->cap != cap) {
            unsigned *lines = realloc(m->lines, m->cap * sizeof *lines);
            if (!lines) return br_error_set(err, BR_ENOMEM, src, lineno, 0, "out of memory");
            m->lines = lines;
        }
        if (!(m->vals[m->n] = strdup(tab + 1)))
            return br_error_set(err, BR_ENOMEM, src, lineno, 0, "out of memory");
        m->lines[m->n] = lineno;
        if (br_strmap_put(&m->idx, p, (int64_t)m->n++))
            return br_error_set(err, BR_ENOMEM, src, lineno, 0, "out of memory");
        p = next;
    }
    return 0;
}

/* The map file named at p (n bytes): loaded once per rule set; *index gets it. */
static int load_map(pctx *c, const char *p, size_t n, size_t *index)
{
    if (!map_name_ok(p, n))
        return perr(c, p, BR_EINVAL,
                    "map: '%.*s' is not a map file name (a file next to the rule file: letters, "
                    "digits, '.', '_' and '-', e.g. languages.tsv)",
                    clip(p, n, 100), p);
    br_ruleset *rs = c->rs;
    char name[128];
    memcpy(name, p, n);
    name[n] = 0;
    for (size_t i = 0; i < rs->n_maps; i++)
        if (!strcmp(rs->maps[i].name, name)) {
            *index = i;
            return 0;
        }
    if (rs->n_maps >= BR_RULES_MAPS_MAX)
        return perr(c, p, BR_ELIMIT, "map: a rule set reads at most %d map files",
                    BR_RULES_MAPS_MAX);
    char path[4200], *text = NULL;
    size_t len = 0;
    int rc = 0;
    if (c->dir) {
        if (br_path_join(path, sizeof path, c->dir, name))
            return perr(c, p, BR_ELIMIT, "map: the path of '%s' is too long", name);
        br_error e;
        rc = br_read_file(path, BR_RULES_MAP_MAX, &text, &len, &e);
        if (rc == BR_ENOTFOUND)
            return perr(c, p, BR_EINVAL, "map: there is no map file '%s' in %s", name, c->dir);
        if (rc) {
            if (c->err) *c->err = e;
            return rc;
        }
    } else {
        snprintf(path, sizeof path, SHIPPED_DIR "/%s", name);
        const br_embedded_file *f = shipped(name);
        if (!f)
            return perr(c, p, BR_EINVAL, "map: bulkrepo ships no map file '%s' (%s)", name,
                        SHIPPED_DIR);
        if (f->size > BR_RULES_MAP_MAX)
            return perr(c, p, BR_ELIMIT, "map: '%s' is larger than %d bytes", name,
                        BR_RULES_MAP_MAX);
        if (!(text = strndup(f->data, f->size)))
            return br_error_set(c->err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        len = f->size;
    }
    if (memchr(text, 0, len)) {
        unsigned l, col;
        br_text_position(text, strlen(text), &l, &col);
        free(text);
        return br_error_set(c->err, BR_EINVAL, path, l, col, "the map file holds a NUL byte");
    }
    nmap *maps = realloc(rs->maps, (rs->n_maps + 1) * sizeof *maps);
    if (!maps) {
        free(text);
        return br_error_set(c->err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    rs->maps = maps;
    nmap *m = &maps[rs->n_maps++];
    memset(m, 0, sizeof *m);
    br_strlcpy(m->name, name, sizeof m->name);
    rc = parse_map(m, text, len, path, c->err);
    free(text);
    *index = rs->n_maps - 1;
    return rc;
}

/* ---- [fields ...] ---- */

static int name_part_ok(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* One field of a [fields] line (tok[0..n)) into *pt or the section's creator parts. */
static int parse_field(pctx *c, section *s, const char *tok, size_t n, pattern *pt)
{
    char f[200];
    if (n >= sizeof f)
        return perr(c, tok, BR_EINVAL, "'%.*s...' is too long for a field", clip(tok, n, 40), tok);
    memcpy(f, tok, n);
    f[n] = 0;
    memset(pt, 0, sizeof *pt);
    if (!strcmp(f, "*")) {
        pt->kind = P_ALL;
        return 0;
    }
    if (!strncmp(f, "creator.", 8)) {
        pt->kind = -1; /* not a metadata pattern */
        if (!strcmp(f + 8, "*")) {
            s->parts |= ALL_PARTS;
            return 0;
        }
        for (size_t i = 0; i < BR_ARRAY_LEN(PARTS); i++)
            if (!strcmp(f + 8, PARTS[i])) {
                s->parts |= 1u << i;
                return 0;
            }
        return perr(c, tok, BR_EINVAL,
                    "'%s' is not a creator name part (creator.family, creator.given, "
                    "creator.middle, creator.suffix, creator.display or creator.*)",
                    f);
    }
    /* schema.element[.qualifier]: one or two dots */
    char *part[3] = {f, NULL, NULL};
    int k = 1;
    for (char *d = f; (d = strchr(d, '.')); d++) {
        if (k == 3) {
            k = 4; /* too many parts */
            break;
        }
        *d = 0;
        part[k++] = d + 1;
    }
    int star_last = k >= 2 && k <= 3 && !strcmp(part[k - 1], "*");
    int ok = k >= 2 && k <= 3;
    for (int i = 0; ok && i < k; i++)
        ok = (i == k - 1 && star_last) || (name_part_ok(part[i]) && strlen(part[i]) < 64);
    if (!ok)
        return perr(c, tok, BR_EINVAL,
                    "'%.*s' is not a field: schema.element[.qualifier], schema.*, "
                    "schema.element.*, * or creator.PART",
                    clip(tok, n, 100), tok);
    br_strlcpy(pt->sc, part[0], sizeof pt->sc);
    if (k == 2 && star_last) {
        pt->kind = P_SCHEMA;
        return 0;
    }
    br_strlcpy(pt->el, part[1], sizeof pt->el);
    if (k == 3 && star_last)
        pt->kind = P_ELEMENT;
    else {
        pt->kind = P_EXACT;
        if (k == 3) br_strlcpy(pt->q, part[2], sizeof pt->q);
    }
    return 0;
}

static int section_done(pctx *c)
{
    br_ruleset *rs = c->rs;
    if (rs->n_secs && rs->secs[rs->n_secs - 1].n == 0)
        return br_error_set(c->err, BR_EINVAL, c->source, rs->secs[rs->n_secs - 1].line, 1,
                            "this [fields ...] line has no rules under it");
    return 0;
}

static int parse_fields(pctx *c, const char *p)
{
    const char *open = p;
    if (strncmp(p, "[fields", 7) || (p[7] != ' ' && p[7] != '\t' && p[7] != ']'))
        return perr(c, p, BR_EINVAL,
                    "a section starts with [fields FIELD ...] (the fields its rules apply to)");
    const char *close = strchr(p, ']');
    if (!close) return perr(c, open, BR_EINVAL, "the [fields line is not closed with ']'");
    int rc = end_of_rule(c, close + 1, "[fields ...]");
    if (rc) return rc;
    if ((rc = section_done(c))) return rc;
    br_ruleset *rs = c->rs;
    if (rs->n_secs >= BR_RULES_SECTIONS_MAX)
        return perr(c, open, BR_ELIMIT, "a rule set has at most %d [fields] lines",
                    BR_RULES_SECTIONS_MAX);
    if (br_grow((void **)&rs->secs, &rs->cap_secs, rs->n_secs + 1, sizeof *rs->secs))
        return br_error_set(c->err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    section *s = &rs->secs[rs->n_secs++];
    memset(s, 0, sizeof *s);
    s->line = c->lineno;
    s->first = rs->n_rules;
    for (p = skip_ws(p + 7); p < close; p = skip_ws(p)) {
        size_t n = 0;
        while (p + n < close && p[n] != ' ' && p[n] != '\t')
            n++;
        if (s->n_pats + 1 > BR_RULES_FIELDS_MAX)
            return perr(c, p, BR_ELIMIT, "a [fields] line names at most %d fields",
                        BR_RULES_FIELDS_MAX);
        pattern pt;
        if ((rc = parse_field(c, s, p, n, &pt))) return rc;
        if (pt.kind >= 0) {
            pattern *v = realloc(s->pats, (s->n_pats + 1) * sizeof *v);
            if (!v) return br_error_set(c->err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            s->pats = v;
            s->pats[s->n_pats++] = pt;
        }
        p += n;
    }
    if (!s->n_pats && !s->parts)
        return perr(c, close, BR_EINVAL,
                    "[fields] names no field (schema.element[.qualifier], *, creator.PART)");
    return 0;
}

/* ---- rules ---- */

static int parse_rule(pctx *c, const char *p)
{
    br_ruleset *rs = c->rs;
    size_t n = word_len(p);
    static const char *const NAMES[] = {"trim", "collapse-spaces", "nfc", "case", "replace", "date",
                                        "map",  "split",           "join"};
    int kind = -1;
    for (size_t i = 0; i < BR_ARRAY_LEN(NAMES); i++)
        if (word_is(p, n, NAMES[i])) kind = (int)i;
    if (kind < 0)
        return perr(c, p, BR_EINVAL,
                    "unknown rule '%.*s' (trim, collapse-spaces, nfc, case, replace, date, map, "
                    "split, join)",
                    clip(p, n, 60), p);
    if (!rs->n_secs)
        return perr(c, p, BR_EINVAL,
                    "a rule must follow a [fields ...] line naming the fields it applies to");
    if (rs->n_rules >= BR_RULES_MAX)
        return perr(c, p, BR_ELIMIT, "a rule set has at most %d rules", BR_RULES_MAX);
    section *s = &rs->secs[rs->n_secs - 1];
    if ((kind == R_SPLIT || kind == R_JOIN) && s->parts)
        return perr(c, p, BR_EINVAL,
                    "%s works on the values of metadata fields; the [fields] line on line %u "
                    "names creator name parts (one value each): give them a [fields] line of "
                    "their own",
                    NAMES[kind], s->line);
    if (br_grow((void **)&rs->rules, &rs->cap_rules, rs->n_rules + 1, sizeof *rs->rules))
        return br_error_set(c->err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    rule *r = &rs->rules[rs->n_rules];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->line = c->lineno;
    /* Counted now, so that br_ruleset_free releases what the arguments allocate. */
    rs->n_rules++;
    s->n++;
    const char *a = skip_ws(p + n);
    size_t an = word_len(a);
    int rc = 0;
    switch (kind) {
    case R_CASE:
        r->mode = word_is(a, an, "lower")   ? CASE_LOWER
                  : word_is(a, an, "upper") ? CASE_UPPER
                  : word_is(a, an, "title") ? CASE_TITLE
                                            : -1;
        if (r->mode < 0)
            return perr(c, a, BR_EINVAL, "case takes lower, upper or title%s%.*s%s",
                        an ? ", not '" : "", clip(a, an, 40), a, an ? "'" : "");
        a += an;
        break;
    case R_DATE:
        r->mode = word_is(a, an, "YYYYMMDD")     ? DATE_COMPACT
                  : word_is(a, an, "YYYY-MM-DD") ? DATE_ISO
                                                 : -1;
        if (r->mode < 0)
            return perr(c, a, BR_EINVAL, "date takes YYYYMMDD or YYYY-MM-DD%s%.*s%s",
                        an ? ", not '" : "", clip(a, an, 40), a, an ? "'" : "");
        a += an;
        break;
    case R_MAP:
        if (!an) return perr(c, a, BR_EINVAL, "map takes a file name: map FILE.tsv");
        if ((rc = load_map(c, a, an, &r->map))) return rc;
        a += an;
        break;
    case R_REPLACE:
        if ((rc = parse_regex(c, &a, r)) || (rc = parse_quoted(c, &a, "replace", &r->text)))
            return rc;
        break;
    case R_SPLIT:
    case R_JOIN:
        if ((rc = parse_quoted(c, &a, NAMES[kind], &r->text))) return rc;
        if (kind == R_SPLIT && !*r->text)
            return perr(c, a - 1, BR_EINVAL, "split: the separator is empty");
        break;
    default:
        break;
    }
    return end_of_rule(c, a, NAMES[kind]);
}

static int parse_line(pctx *c, const char *p)
{
    p = skip_ws(p);
    if (!*p || *p == '#') return 0;
    if (*p == '[') return parse_fields(c, p);
    return parse_rule(c, p);
}

int br_ruleset_parse(const char *text, size_t len, const char *source, const char *dir,
                     br_ruleset **out, br_error *err)
{
    *out = NULL;
    if (!source) source = "rules";
    if (len > BR_RULES_FILE_MAX)
        return br_error_set(err, BR_ELIMIT, source, 0, 0,
                            "the rule file is %zu bytes, more than the %d allowed", len,
                            BR_RULES_FILE_MAX);
    char *buf = malloc(len + 1);
    br_ruleset *rs = calloc(1, sizeof *rs);
    int rc = 0;
    if (!buf || !rs) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    memcpy(buf, text, len);
    buf[len] = 0;
    size_t bad;
    unsigned l, col;
    if (memchr(buf, 0, len)) {
        br_text_position(buf, strlen(buf), &l, &col);
        rc = br_error_set(err, BR_EINVAL, source, l, col, "the rule file holds a NUL byte");
        goto done;
    }
    if (br_utf8_check(buf, len, &bad)) {
        br_text_position(buf, bad, &l, &col);
        rc = br_error_set(err, BR_EINVAL, source, l, col, "the rule file is not valid UTF-8");
        goto done;
    }
    pctx c = {rs, source, dir, NULL, 0, err};
    char *p = buf;
    if (!strncmp(p, "\xEF\xBB\xBF", 3)) p += 3; /* a byte-order mark */
    while (*p && !rc) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char *next = nl ? nl + 1 : p + n;
        c.lineno++;
        if (n > BR_RULES_LINE_MAX) {
            rc = br_error_set(err, BR_ELIMIT, source, c.lineno, BR_RULES_LINE_MAX + 1,
                              "the line is longer than %d bytes", BR_RULES_LINE_MAX);
            break;
        }
        if (n && p[n - 1] == '\r') n--;
        p[n] = 0;
        c.line = p;
        rc = parse_line(&c, p);
        p = next;
    }
    if (!rc) rc = section_done(&c);
    if (!rc && !rs->n_rules)
        rc = br_error_set(err, BR_EINVAL, source, 0, 0,
                          "the rule set has no rules: it would change nothing");
done:
    free(buf);
    if (rc)
        br_ruleset_free(rs);
    else
        *out = rs;
    return rc;
}

int br_ruleset_parse_file(const char *path, br_ruleset **out, br_error *err)
{
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = br_read_file(path, BR_RULES_FILE_MAX, &text, &len, err);
    if (rc) return rc;
    char dir[4200];
    const char *slash = strrchr(path, '/');
    if (!slash)
        br_strlcpy(dir, ".", sizeof dir);
    else if (slash == path)
        br_strlcpy(dir, "/", sizeof dir);
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    rc = br_ruleset_parse(text, len, path, dir, out, err);
    free(text);
    return rc;
}

/* ---- applying ----------------------------------------------------------------------------- */

/* A value being normalized: its text (malloc'd), the index of the value it came from and its
 * language. */
typedef struct val {
    char *s;
    size_t origin;
    const char *lang;
} val;

typedef struct vlist {
    val *v;
    size_t n, cap;
} vlist;

static void vlist_clear(vlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].s);
    l->n = 0;
}

static int vlist_push(vlist *l, char *s, size_t origin, const char *lang)
{
    if (br_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v)) return BR_ENOMEM;
    l->v[l->n++] = (val){s, origin, lang};
    return 0;
}

static int put_cp(br_buf *b, utf8proc_int32_t cp)
{
    utf8proc_uint8_t u[4];
    utf8proc_ssize_t k = utf8proc_encode_char(cp, u);
    return br_buf_append(b, (const char *)u, (size_t)k);
}

static int word_char(utf8proc_int32_t cp)
{
    if (cp == '\'' || cp == 0x2019) return 1; /* "Don't", "O'neil" stay one word */
    utf8proc_category_t k = utf8proc_category(cp);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_MN && k <= UTF8PROC_CATEGORY_ME) || k == UTF8PROC_CATEGORY_ND;
}

static int do_case(const char *s, int mode, br_buf *b)
{
    size_t n = strlen(s);
    int in_word = 0;
    for (size_t i = 0; i < n;) {
        utf8proc_int32_t cp;
        i += cp_at(s, n, i, &cp);
        utf8proc_int32_t m = mode == CASE_UPPER   ? utf8proc_toupper(cp)
                             : mode == CASE_LOWER ? utf8proc_tolower(cp)
                             : in_word            ? utf8proc_tolower(cp)
                                                  : utf8proc_totitle(cp);
        if (put_cp(b, m)) return BR_ENOMEM;
        in_word = word_char(cp);
    }
    return 0;
}

static int do_replace(const br_ruleset *rs, const rule *r, const char *s, br_buf *b)
{
    locale_t old = rs->utf8 ? uselocale(rs->utf8) : (locale_t)0;
    const char *p = s;
    size_t rl = strlen(r->text);
    regmatch_t m;
    int rc = 0;
    while (!rc && *p && !regexec(&r->re, p, 1, &m, p == s ? 0 : REG_NOTBOL)) {
        if (br_buf_append(b, p, (size_t)m.rm_so) || br_buf_append(b, r->text, rl)) {
            rc = BR_ENOMEM;
        } else if (b->len > BR_RULES_VALUE_MAX) {
            rc = BR_ELIMIT;
        } else if (m.rm_eo == m.rm_so) { /* an empty match: keep one character and go on */
            utf8proc_int32_t cp;
            size_t k = cp_at(p, strlen(p), (size_t)m.rm_eo, &cp);
            if (br_buf_append(b, p + m.rm_eo, k)) rc = BR_ENOMEM;
            p += m.rm_eo + k;
        } else {
            p += m.rm_eo;
        }
    }
    if (old) uselocale(old);
    if (!rc && br_buf_puts(b, p)) rc = BR_ENOMEM;
    /* Without a UTF-8 locale an expression matches bytes and may cut a character. */
    if (!rc && br_utf8_check(b->p, b->len, NULL)) rc = BR_EINVAL;
    return rc;
}

/* The dates the Esploro CSV import takes (esploro_values.c: YYYYMMDD, YYYYMM, YYYY; with '-',
 * '/' or '.' between the parts; MM/DD/YYYY), checked against the calendar; anything else is
 * left as it is.  A year, or a year and month, keeps what it has: no day is made up. */
static int do_date(const char *s, int mode, br_buf *b)
{
    size_t n = strlen(s);
    br_ecsv_vres v;
    br_ecsv_check_value(NULL, BR_ECSV_DATE, s, n, &v);
    if (v.bad) br_ecsv_check_value(NULL, BR_ECSV_MDY, s, n, &v);
    const char *iso = v.bad ? NULL : v.norm[0] ? v.norm : NULL;
    if (!iso) return br_buf_puts(b, s) ? BR_ENOMEM : 0;
    if (mode == DATE_ISO) return br_buf_puts(b, iso) ? BR_ENOMEM : 0;
    for (const char *p = iso; *p; p++)
        if (*p != '-' && br_buf_append(b, p, 1)) return BR_ENOMEM;
    return 0;
}

/* One value rule on one value: the result in b. */
static int value_rule(const br_ruleset *rs, const rule *r, const char *s, br_buf *b)
{
    size_t n = strlen(s);
    switch (r->kind) {
    case R_TRIM: {
        size_t a = 0, e = n;
        utf8proc_int32_t cp;
        while (a < n) {
            size_t k = cp_at(s, n, a, &cp);
            if (!br_norm_is_space(cp)) break;
            a += k;
        }
        size_t last = a; /* one past the last character that is not white space */
        for (size_t i = a; i < n;) {
            size_t k = cp_at(s, n, i, &cp);
            i += k;
            if (!br_norm_is_space(cp)) last = i;
        }
        e = last;
        return br_buf_append(b, s + a, e - a) ? BR_ENOMEM : 0;
    }
    case R_COLLAPSE:
        if (br_buf_puts(b, s)) return BR_ENOMEM;
        collapse(b->p, 0);
        b->len = strlen(b->p);
        return 0;
    case R_NFC: {
        char *t = br_utf8_nfc(s);
        if (!t) return BR_ENOMEM;
        int rc = br_buf_puts(b, t) ? BR_ENOMEM : 0;
        free(t);
        return rc;
    }
    case R_CASE:
        return do_case(s, r->mode, b);
    case R_REPLACE:
        return do_replace(rs, r, s, b);
    case R_DATE:
        return do_date(s, r->mode, b);
    case R_MAP: {
        const nmap *m = &rs->maps[r->map];
        int64_t at;
        return br_buf_puts(b, br_strmap_get(&m->idx, s, &at) ? m->vals[at] : s) ? BR_ENOMEM : 0;
    }
    }
    return BR_EINTERNAL;
}

/* split: each value cut at every separator (empty pieces dropped), in place of the value. */
static int do_split(const rule *r, vlist *l)
{
    vlist o = {0};
    size_t sl = strlen(r->text);
    int rc = 0;
    for (size_t i = 0; i < l->n && !rc; i++) {
        const char *p = l->v[i].s;
        for (;;) {
            const char *e = strstr(p, r->text);
            size_t k = e ? (size_t)(e - p) : strlen(p);
            if (k) {
                char *piece = strndup(p, k);
                if (!piece || vlist_push(&o, piece, l->v[i].origin, l->v[i].lang)) {
                    free(piece);
                    rc = BR_ENOMEM;
                    break;
                }
            }
            if (!e) break;
            p = e + sl;
        }
    }
    vlist_clear(l);
    free(l->v);
    *l = o;
    if (rc) vlist_clear(l);
    return rc;
}

/* join: the values made one, at the first value's place, with its language. */
static int do_join(const rule *r, vlist *l)
{
    if (l->n < 2) return 0;
    br_buf b = {0};
    for (size_t i = 0; i < l->n; i++)
        if ((i && br_buf_puts(&b, r->text)) || br_buf_puts(&b, l->v[i].s)) {
            br_buf_dispose(&b);
            return BR_ENOMEM;
        }
    if (b.len > BR_RULES_VALUE_MAX) {
        br_buf_dispose(&b);
        return BR_ELIMIT;
    }
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].s);
    l->v[0].s = b.p;
    l->n = 1;
    return 0;
}

/* A section's rules over a list of values (one field's, or one name part). */
static void drop_empty(vlist *l)
{
    size_t w = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (!*l->v[i].s)
            free(l->v[i].s);
        else
            l->v[w++] = l->v[i];
    }
    l->n = w;
}

/* A section's rules over a list of values (one field's, or one name part); a value a rule
 * leaves empty is dropped at once (a join after a trim joins no empty values).  *line gets
 * the line of the rule that failed. */
static int run_rules(const br_ruleset *rs, const section *s, vlist *l, unsigned *line)
{
    br_buf b = {0};
    int rc = 0;
    for (size_t k = s->first; k < s->first + s->n && !rc; k++) {
        const rule *r = &rs->rules[k];
        *line = r->line;
        if (r->kind == R_SPLIT)
            rc = do_split(r, l);
        else if (r->kind == R_JOIN)
            rc = do_join(r, l);
        for (size_t i = 0; r->kind != R_SPLIT && r->kind != R_JOIN && i < l->n && !rc; i++) {
            br_buf_clear(&b);
            rc = value_rule(rs, r, l->v[i].s, &b);
            if (!rc && b.len > BR_RULES_VALUE_MAX) rc = BR_ELIMIT;
            if (!rc && !b.p && br_buf_puts(&b, "")) rc = BR_ENOMEM;
            if (rc) break;
            free(l->v[i].s);
            l->v[i].s = b.p; /* the buffer moves into the value */
            b = (br_buf){0};
        }
        if (!rc) drop_empty(l);
    }
    br_buf_dispose(&b);
    return rc;
}

/* The record's metadata while a rule set works on it. */
typedef struct wmd {
    const char *sc, *el, *q, *lang; /* the record's strings */
    char *s;
} wmd;

typedef struct work {
    wmd *v;
    size_t n, cap;
} work;

static void work_free(work *w)
{
    for (size_t i = 0; i < w->n; i++)
        free(w->v[i].s);
    free(w->v);
    w->v = NULL;
    w->n = w->cap = 0;
}

static int same_field(const wmd *a, const wmd *b)
{
    return !strcmp(a->sc, b->sc) && !strcmp(a->el, b->el) && br_streq(a->q, b->q);
}

static int pattern_matches(const pattern *p, const wmd *v)
{
    switch (p->kind) {
    case P_ALL:
        return 1;
    case P_SCHEMA:
        return !strcmp(p->sc, v->sc);
    case P_ELEMENT:
        return !strcmp(p->sc, v->sc) && !strcmp(p->el, v->el);
    default:
        return !strcmp(p->sc, v->sc) && !strcmp(p->el, v->el) && !strcmp(p->q, v->q ? v->q : "");
    }
}

static int section_matches(const section *s, const wmd *v)
{
    for (size_t i = 0; i < s->n_pats; i++)
        if (pattern_matches(&s->pats[i], v)) return 1;
    return 0;
}

/* One field's values (those of w->v[at]'s field) through the section, put back in place. */
static int run_field(const br_ruleset *rs, const section *s, work *w, size_t at, unsigned *line)
{
    wmd field = w->v[at];
    vlist l = {0};
    int rc = 0;
    for (size_t i = 0; i < w->n && !rc; i++) {
        if (!same_field(&w->v[i], &field)) continue;
        char *copy = strdup(w->v[i].s);
        if (!copy || vlist_push(&l, copy, i, w->v[i].lang)) {
            free(copy);
            rc = BR_ENOMEM;
        }
    }
    if (!rc) rc = run_rules(rs, s, &l, line);
    work o = {0};
    for (size_t i = 0; i < w->n && !rc; i++) {
        if (!same_field(&w->v[i], &field)) {
            if (br_grow((void **)&o.v, &o.cap, o.n + 1, sizeof *o.v)) rc = BR_ENOMEM;
            if (!rc) {
                o.v[o.n++] = w->v[i];
                w->v[i].s = NULL; /* moved */
            }
            continue;
        }
        for (size_t k = 0; k < l.n && !rc; k++) {
            if (l.v[k].origin != i) continue;
            if (br_grow((void **)&o.v, &o.cap, o.n + 1, sizeof *o.v)) {
                rc = BR_ENOMEM;
                break;
            }
            o.v[o.n++] = (wmd){field.sc, field.el, field.q, l.v[k].lang, l.v[k].s};
            l.v[k].s = NULL; /* moved */
        }
    }
    vlist_clear(&l);
    free(l.v);
    if (rc) {
        work_free(&o);
        return rc;
    }
    work_free(w);
    *w = o;
    return 0;
}

static int run_metadata(const br_ruleset *rs, const section *s, work *w, unsigned *line)
{
    /* The fields it names, each once, as they are before the section runs. */
    wmd *fields = NULL;
    size_t nf = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < w->n && !rc; i++) {
        if (!section_matches(s, &w->v[i])) continue;
        int seen = 0;
        for (size_t k = 0; k < nf && !seen; k++)
            seen = same_field(&fields[k], &w->v[i]);
        if (seen) continue;
        if (br_grow((void **)&fields, &cap, nf + 1, sizeof *fields))
            rc = BR_ENOMEM;
        else
            fields[nf++] = w->v[i];
    }
    for (size_t k = 0; k < nf && !rc; k++) {
        size_t at = w->n;
        for (size_t i = 0; i < w->n && at == w->n; i++)
            if (same_field(&w->v[i], &fields[k])) at = i;
        if (at < w->n) rc = run_field(rs, s, w, at, line); /* its values may all be gone */
    }
    free(fields);
    return rc;
}

static const char **part_slot(br_creator *k, size_t part)
{
    const char **slots[] = {&k->family, &k->given, &k->middle, &k->suffix, &k->display};
    return slots[part];
}

static int run_creators(const br_ruleset *rs, const section *s, br_record *rec, unsigned *changed,
                        unsigned *line)
{
    int rc = 0;
    for (size_t i = 0; i < rec->n_creators && !rc; i++)
        for (size_t p = 0; p < BR_ARRAY_LEN(PARTS) && !rc; p++) {
            const char **slot = part_slot(&rec->creators[i], p);
            if (!(s->parts & (1u << p)) || !*slot) continue;
            vlist l = {0};
            char *copy = strdup(*slot);
            if (!copy || vlist_push(&l, copy, 0, NULL)) {
                free(copy);
                return BR_ENOMEM;
            }
            rc = run_rules(rs, s, &l, line);
            const char *now = l.n ? l.v[0].s : NULL;
            if (!rc && !br_streq(now, *slot)) {
                const char *kept = now ? br_record_str(rec, now) : NULL;
                if (now && !kept) rc = BR_ENOMEM;
                *slot = kept;
                *changed |= BR_RULESET_CREATORS;
            }
            vlist_clear(&l);
            free(l.v);
        }
    return rc;
}

static const char *field_label(const wmd *v, char *buf, size_t size)
{
    snprintf(buf, size, "%s.%s%s%s", v->sc, v->el, v->q ? "." : "", v->q ? v->q : "");
    return buf;
}

int br_ruleset_apply(const br_ruleset *rs, br_record *rec, unsigned *changed, br_error *err)
{
    *changed = 0;
    work w = {0};
    int rc = 0;
    char label[200];
    const char *where = rec->handle ? rec->handle : rec->key;
    for (size_t i = 0; i < rec->n_md && !rc; i++) {
        const br_mdv *m = &rec->md[i];
        if (br_grow((void **)&w.v, &w.cap, w.n + 1, sizeof *w.v)) {
            rc = br_error_set(err, BR_ENOMEM, where, 0, 0, "out of memory");
            break;
        }
        wmd *v = &w.v[w.n];
        *v = (wmd){m->schema, m->element, m->qualifier, m->language, strdup(m->value)};
        if (!v->s) {
            rc = br_error_set(err, BR_ENOMEM, where, 0, 0, "out of memory");
            break;
        }
        w.n++;
        if (br_utf8_check(v->s, strlen(v->s), NULL))
            rc = br_error_set(err, BR_EINVAL, where, 0, 0, "a value of %s is not valid UTF-8",
                              field_label(v, label, sizeof label));
    }
    for (size_t i = 0; i < rec->n_creators && !rc; i++)
        for (size_t p = 0; p < BR_ARRAY_LEN(PARTS) && !rc; p++) {
            const char *s = *part_slot(&rec->creators[i], p);
            if (s && br_utf8_check(s, strlen(s), NULL))
                rc = br_error_set(err, BR_EINVAL, where, 0, 0,
                                  "the %s name of creator %zu is not valid UTF-8", PARTS[p], i + 1);
        }
    for (size_t k = 0; k < rs->n_secs && !rc; k++) {
        const section *s = &rs->secs[k];
        unsigned line = s->line;
        if (s->n_pats) rc = run_metadata(rs, s, &w, &line);
        if (!rc && s->parts) rc = run_creators(rs, s, rec, changed, &line);
        if (rc == BR_ELIMIT)
            rc = br_error_set(err, rc, where, 0, 0,
                              "the rule of line %u makes a value longer than %d bytes", line,
                              BR_RULES_VALUE_MAX);
        else if (rc == BR_EINVAL)
            rc = br_error_set(err, rc, where, 0, 0,
                              "the rule of line %u makes a value that is not UTF-8", line);
        else if (rc)
            rc = br_error_set(err, rc, where, 0, 0, "out of memory");
    }
    if (rc) goto done;
    int same = w.n == rec->n_md;
    for (size_t i = 0; same && i < w.n; i++) {
        const br_mdv *m = &rec->md[i];
        same = !strcmp(w.v[i].s, m->value) && !strcmp(w.v[i].sc, m->schema) &&
               !strcmp(w.v[i].el, m->element) && br_streq(w.v[i].q, m->qualifier) &&
               br_streq(w.v[i].lang, m->language);
    }
    if (!same) {
        /* Rebuilt in order: br_record_add_md gives each value its place within its field.  The
         * field and language strings live in rec's arena, which adding does not move. */
        rec->n_md = 0;
        for (size_t i = 0; i < w.n && !rc; i++)
            if (!br_record_add_md(rec, w.v[i].sc, w.v[i].el, w.v[i].q, w.v[i].lang, w.v[i].s))
                rc = br_error_set(err, BR_ENOMEM, where, 0, 0, "out of memory");
        *changed |= BR_RULESET_METADATA;
    }
done:
    work_free(&w);
    return rc;
}

/* ---- rule sets by name -------------------------------------------------------------------- */

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    return n && n <= BR_RULES_NAME_MAX && name_part_ok(s);
}

/* The repository's rule folder into buf; 0, or BR_ELIMIT. */
static int repo_rules_dir(br_repo *repo, char *buf, size_t size)
{
    return br_path_join(buf, size, br_repo_dir(repo), "normalization");
}

/* 1 when path is a regular file (not a symbolic link), 0 when nothing is there, -1 else. */
static int regular(const char *path)
{
    struct stat st;
    if (lstat(path, &st)) return errno == ENOENT ? 0 : -1;
    return S_ISREG(st.st_mode) ? 1 : -1;
}

typedef struct entry {
    char name[BR_RULES_NAME_MAX + 1];
    int repo; /* 1 the repository's, 0 shipped */
} entry;

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : y->repo - x->repo;
}

/* Every available rule set (names checked), sorted: *out malloc'd. */
static int entries(br_repo *repo, entry **out, size_t *n, br_error *err)
{
    entry *v = NULL;
    size_t cap = 0;
    *n = 0;
    int rc = 0;
    for (const br_embedded_file *f = br_normalization_files; f->name && !rc; f++) {
        size_t len = strlen(f->name);
        if (len <= 6 || strcmp(f->name + len - 6, ".rules")) continue;
        if (br_grow((void **)&v, &cap, *n + 1, sizeof *v)) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            break;
        }
        snprintf(v[*n].name, sizeof v[*n].name, "%.*s", (int)(len - 6), f->name);
        v[(*n)++].repo = 0;
    }
    char dir[4200];
    DIR *d = NULL;
    if (!rc && repo) {
        if (repo_rules_dir(repo, dir, sizeof dir))
            rc = br_error_set(err, BR_ELIMIT, NULL, 0, 0, "the repository's path is too long");
        else if (!(d = opendir(dir)) && errno != ENOENT)
            rc =
                br_error_set(err, BR_EIO, dir, 0, 0, "cannot read the folder: %s", strerror(errno));
    }
    for (struct dirent *e; d && !rc && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len <= 6 || strcmp(e->d_name + len - 6, ".rules")) continue;
        char stem[256], path[4500];
        snprintf(stem, sizeof stem, "%.*s", (int)(len - 6), e->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (!name_ok(stem) || regular(path) != 1) continue;
        if (br_grow((void **)&v, &cap, *n + 1, sizeof *v)) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            break;
        }
        br_strlcpy(v[*n].name, stem, sizeof v[*n].name);
        v[(*n)++].repo = 1;
    }
    if (d) closedir(d);
    if (rc) {
        free(v);
        *n = 0;
        return rc;
    }
    if (*n) qsort(v, *n, sizeof *v, entry_cmp);
    *out = v;
    return 0;
}

static int available(br_repo *repo, char *buf, size_t size)
{
    entry *v = NULL;
    size_t n = 0;
    buf[0] = 0;
    if (entries(repo, &v, &n, NULL)) return 0;
    for (size_t i = 0; i < n; i++) {
        if (i && !strcmp(v[i].name, v[i - 1].name)) continue;
        size_t l = strlen(buf);
        snprintf(buf + l, size - l, "%s%s", l ? ", " : "", v[i].name);
    }
    free(v);
    return 0;
}

/* The text and origin of rule set e: *text malloc'd. */
static int read_entry(br_repo *repo, const entry *e, char **text, size_t *len, char *path,
                      size_t size, char *dir, size_t dsize, br_error *err)
{
    if (e->repo) {
        if (repo_rules_dir(repo, dir, dsize) ||
            snprintf(path, size, "%s/%s.rules", dir, e->name) >= (int)size)
            return br_error_set(err, BR_ELIMIT, NULL, 0, 0, "the repository's path is too long");
        return br_read_file(path, BR_RULES_FILE_MAX, text, len, err);
    }
    snprintf(path, size, SHIPPED_DIR "/%s.rules", e->name);
    dir[0] = 0;
    char file[BR_RULES_NAME_MAX + 8];
    snprintf(file, sizeof file, "%s.rules", e->name);
    const br_embedded_file *f = shipped(file);
    if (!f) return br_error_set(err, BR_ENOTFOUND, path, 0, 0, "no such shipped rule set");
    if (!(*text = strndup(f->data, f->size)))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    *len = f->size;
    return 0;
}

int br_ruleset_load(br_repo *repo, const char *name, br_ruleset **out, br_error *err)
{
    *out = NULL;
    char list[1024];
    if (!name || !name_ok(name))
        return br_error_set(err, BR_EUSAGE, "rules", 0, 0,
                            "'%.*s' is not a rule set name (letters, digits, '-' and '_', at "
                            "most %d bytes)",
                            name ? clip(name, strlen(name), 80) : 0, name ? name : "",
                            BR_RULES_NAME_MAX);
    entry e;
    br_strlcpy(e.name, name, sizeof e.name);
    e.repo = 0;
    char dir[4200], path[4500];
    if (repo && !repo_rules_dir(repo, dir, sizeof dir)) {
        snprintf(path, sizeof path, "%s/%s.rules", dir, name);
        int k = regular(path);
        if (k < 0)
            return br_error_set(err, BR_EINVAL, path, 0, 0,
                                "the rule set is not a regular file (a link or a folder)");
        e.repo = k;
    }
    char file[BR_RULES_NAME_MAX + 8];
    snprintf(file, sizeof file, "%s.rules", name);
    if (!e.repo && !shipped(file)) {
        available(repo, list, sizeof list);
        return br_error_set(err, BR_EUSAGE, "rules", 0, 0,
                            "there is no rule set '%s' (available: %s; bulkrepo normalize list)",
                            name, list[0] ? list : "none");
    }
    char *text = NULL;
    size_t len = 0;
    int rc = read_entry(repo, &e, &text, &len, path, sizeof path, dir, sizeof dir, err);
    if (!rc) rc = br_ruleset_parse(text, len, path, e.repo ? dir : NULL, out, err);
    free(text);
    return rc;
}

/* The text of the first comment line, cut to size. */
static void summary_of(const char *text, size_t len, char *out, size_t size)
{
    out[0] = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *s = p;
        while (s < p + n && (*s == ' ' || *s == '\t'))
            s++;
        if (s < p + n && *s == '#') {
            s++;
            while (s < p + n && (*s == ' ' || *s == '\t' || *s == '#'))
                s++;
            size_t k = (size_t)(p + n - s);
            while (k && (s[k - 1] == '\r' || s[k - 1] == ' '))
                k--;
            snprintf(out, size, "%.*s", (int)k, s);
            /* never end inside a UTF-8 sequence */
            size_t l = strlen(out);
            while (l && ((unsigned char)out[l - 1] & 0xC0) == 0x80)
                l--;
            if (l && ((unsigned char)out[l - 1] & 0x80) &&
                br_utf8_check(out + l - 1, strlen(out + l - 1), NULL))
                out[l - 1] = 0;
            return;
        }
        if (s < p + n) return; /* a rule before any comment: no summary */
        p += n + 1;
    }
}

int br_ruleset_list(br_repo *repo, br_ruleset_fn fn, void *ctx, br_error *err)
{
    entry *v = NULL;
    size_t n = 0;
    int rc = entries(repo, &v, &n, err);
    for (size_t i = 0; i < n && !rc; i++) {
        char path[4500], dir[4200], summary[256], problem[1200];
        char *text = NULL;
        size_t len = 0;
        br_error e;
        br_ruleset_info info;
        memset(&info, 0, sizeof info);
        info.name = v[i].name;
        info.origin = v[i].repo ? "repository" : "shipped";
        info.shadowed = !v[i].repo && i && !strcmp(v[i - 1].name, v[i].name);
        info.summary = "";
        problem[0] = 0;
        int k = read_entry(repo, &v[i], &text, &len, path, sizeof path, dir, sizeof dir, &e);
        br_ruleset *rs = NULL;
        if (!k) {
            summary_of(text, len, summary, sizeof summary);
            info.summary = summary;
            k = br_ruleset_parse(text, len, path, v[i].repo ? dir : NULL, &rs, &e);
        }
        if (k == BR_ENOMEM) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        if (k) br_error_format(&e, problem, sizeof problem);
        info.path = path;
        info.valid = !k;
        info.problem = k ? problem : NULL;
        info.rules = br_ruleset_rules(rs);
        info.sections = br_ruleset_sections(rs);
        br_ruleset_free(rs);
        free(text);
        if (!rc && fn(ctx, &info)) break;
    }
    free(v);
    return rc;
}
