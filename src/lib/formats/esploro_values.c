/* The Esploro reader's value checks: one function per value kind
 * (br_ecsv_kind), found through the CHECKS table.  A check says whether the
 * value is bad, fixable (with the fixed text) or fine, and gives its
 * normalised form for the record (ISO 8601 dates, canonical codes). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "formats/esploro_internal.h"

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return d[m - 1];
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return n > 0;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* A compact date YYYY, YYYYMM or YYYYMMDD, calendar-valid: ISO 8601 into iso (11 bytes). */
int br_ecsv_compact_date(const char *s, size_t n, char iso[11])
{
    if ((n != 4 && n != 6 && n != 8) || !digits(s, n)) return 0;
    int y = num(s, 4), m = n >= 6 ? num(s + 4, 2) : 0, d = n == 8 ? num(s + 6, 2) : 0;
    if (y < 1000) return 0;
    if (n >= 6 && (m < 1 || m > 12)) return 0;
    if (n == 8 && (d < 1 || d > days_in_month(y, m))) return 0;
    /* y has 4 digits, m and d 2: the ISO form fits in 11 bytes */
    if (n == 4) snprintf(iso, 11, "%04u", (unsigned)y % 10000u);
    if (n == 6) snprintf(iso, 11, "%04u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u);
    if (n == 8)
        snprintf(iso, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
                 (unsigned)d % 100u);
    return 1;
}

/* "2021-10-18", "2021/10/18", "2021.10.18", "2021-10": an unambiguous date with separators;
 * its compact form into fixed (9 bytes). */
static int separated_date(const char *s, size_t n, char fixed[9])
{
    if (n != 7 && n != 10) return 0;
    if (!digits(s, 4) || !digits(s + 5, 2)) return 0;
    char sep = s[4];
    if (sep != '-' && sep != '/' && sep != '.') return 0;
    if (n == 10 && (s[7] != sep || !digits(s + 8, 2))) return 0;
    char c[9];
    memcpy(c, s, 4);
    memcpy(c + 4, s + 5, 2);
    if (n == 10) memcpy(c + 6, s + 8, 2);
    c[n == 10 ? 8 : 6] = 0;
    char iso[11];
    if (!br_ecsv_compact_date(c, strlen(c), iso)) return 0;
    memcpy(fixed, c, strlen(c) + 1);
    return 1;
}

static int ci_prefix(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && !strncasecmp(s, p, k);
}

static void check_date_part(const char *s, size_t n, br_ecsv_vres *v, char compact[9], char iso[11])
{
    if (br_ecsv_compact_date(s, n, iso)) {
        memcpy(compact, s, n);
        compact[n] = 0;
        return;
    }
    char fx[9];
    if (separated_date(s, n, fx)) {
        v->fixable = 1;
        v->rule = "ecsv.value.date-format";
        snprintf(v->why, sizeof v->why, "the date must be written YYYYMMDD (or YYYY, YYYYMM)");
        memcpy(compact, fx, strlen(fx) + 1);
        br_ecsv_compact_date(fx, strlen(fx), iso);
        return;
    }
    v->bad = 1;
    v->rule = "ecsv.value.date";
    v->hint = "write dates as YYYYMMDD, YYYYMM or YYYY, e.g. 20211018";
    snprintf(v->why, sizeof v->why, "is not a valid date (YYYYMMDD, YYYYMM or YYYY)");
}

/* ---- one check per kind (CHECKS below) ------------------------------------------------------ */

/* Any text: the cell-level rules (line breaks, whitespace) are all it has. */
static void check_text(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                       br_ecsv_vres *v)
{
}

static void check_date(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                       br_ecsv_vres *v)
{
    char c[9], iso[11];
    check_date_part(s, n, v, c, iso);
    if (v->bad) return;
    if (v->fixable) snprintf(v->fixed, sizeof v->fixed, "%s", c);
    snprintf(v->norm, sizeof v->norm, "%s", iso);
}

static void check_daterange(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                            br_ecsv_vres *v)
{
    char c1[9], i1[11], c2[9], i2[11];
    br_ecsv_vres a = {0}, b = {0};
    check_date_part(s, n, &a, c1, i1);
    if (!a.bad) {
        *v = a;
        if (v->fixable) snprintf(v->fixed, sizeof v->fixed, "%s", c1);
        snprintf(v->norm, sizeof v->norm, "%s", i1);
        return;
    }
    /* "start - end": the separator is " - "; "start-end", "start/end" and "start–end" (an en
     * dash, as Esploro's own export has it: "2024–2025") are fixable. */
    const char *sep = NULL;
    size_t sl = 0;
    for (size_t i = 1; i + 1 < n && !sep; i++) {
        size_t k = s[i] == '-' || s[i] == '/'                       ? 1
                   : i + 3 < n && !memcmp(s + i, "\xE2\x80\x93", 3) ? 3
                                                                    : 0;
        if (k) {
            size_t l = i, rr = i + k;
            while (l > 0 && s[l - 1] == ' ')
                l--;
            while (rr < n && s[rr] == ' ')
                rr++;
            memset(&a, 0, sizeof a);
            memset(&b, 0, sizeof b);
            check_date_part(s, l, &a, c1, i1);
            check_date_part(s + rr, n - rr, &b, c2, i2);
            if (!a.bad && !b.bad) sep = s + l, sl = rr - l;
        }
    }
    if (!sep) {
        v->bad = 1;
        v->rule = "ecsv.value.date-range";
        v->hint = "write a date (YYYYMMDD) or a range 'YYYYMMDD - YYYYMMDD'";
        snprintf(v->why, sizeof v->why, "is neither a date nor a range YYYYMMDD - YYYYMMDD");
        return;
    }
    if (strcmp(i1, i2) > 0 && strncmp(i1, i2, strlen(i2) < strlen(i1) ? strlen(i2) : strlen(i1))) {
        v->bad = 1;
        v->rule = "ecsv.value.date-range-order";
        v->hint = "the start date comes first";
        snprintf(v->why, sizeof v->why, "ends before it starts");
        return;
    }
    if (a.fixable || b.fixable || sl != 3 || memcmp(sep, " - ", 3)) {
        v->fixable = 1;
        v->rule = "ecsv.value.date-range-format";
        snprintf(v->why, sizeof v->why, "a range must be written 'YYYYMMDD - YYYYMMDD'");
        snprintf(v->fixed, sizeof v->fixed, "%s - %s", c1, c2);
    }
    snprintf(v->norm, sizeof v->norm, "%s/%s", i1, i2);
}

static void check_mdy(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                      br_ecsv_vres *v)
{
    int m = 0, d = 0, y = 0;
    char iso[11], c[9];
    if (n == 10 && digits(s, 2) && s[2] == '/' && digits(s + 3, 2) && s[5] == '/' &&
        digits(s + 6, 4)) {
        m = num(s, 2), d = num(s + 3, 2), y = num(s + 6, 4);
        if (y >= 1000 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m)) {
            snprintf(v->norm, sizeof v->norm, "%04d-%02d-%02d", y, m, d);
            return;
        }
    } else {
        br_ecsv_vres t = {0};
        check_date_part(s, n, &t, c, iso);
        if (!t.bad && strlen(c) == 8) {
            v->fixable = 1;
            v->rule = "ecsv.value.mdy-format";
            snprintf(v->why, sizeof v->why, "this date must be written MM/DD/YYYY");
            snprintf(v->fixed, sizeof v->fixed, "%.2s/%.2s/%.4s", c + 4, c + 6, c);
            snprintf(v->norm, sizeof v->norm, "%s", iso);
            return;
        }
    }
    v->bad = 1;
    v->rule = "ecsv.value.mdy";
    v->hint = "ASSET_ACCESSRIGHTDATE is written MM/DD/YYYY, e.g. 10/18/2021";
    snprintf(v->why, sizeof v->why, "is not a valid date MM/DD/YYYY");
}

static void check_yesno(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                        br_ecsv_vres *v)
{
    static const char *const canon[] = {"YES", "NO", "UNKNOWN"};
    for (int i = 0; i < 3; i++)
        if (n == strlen(canon[i]) && !strncasecmp(s, canon[i], n)) {
            if (memcmp(s, canon[i], n)) {
                v->fixable = v->warn_only = 1;
                v->rule = "ecsv.value.enum-case";
                snprintf(v->why, sizeof v->why, "is written %s in Esploro's files", canon[i]);
                snprintf(v->fixed, sizeof v->fixed, "%s", canon[i]);
            }
            snprintf(v->norm, sizeof v->norm, "%s", canon[i]);
            return;
        }
    v->bad = 1;
    v->rule = "ecsv.value.yesno";
    v->hint = "write YES, NO or UNKNOWN";
    snprintf(v->why, sizeof v->why, "is not YES, NO or UNKNOWN");
}

static void check_bool(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                       br_ecsv_vres *v)
{
    if ((n == 3 && !strncasecmp(s, "yes", 3)) || (n == 4 && !strncasecmp(s, "true", 4)))
        snprintf(v->norm, sizeof v->norm, "true");
    else if ((n == 2 && !strncasecmp(s, "no", 2)) || (n == 5 && !strncasecmp(s, "false", 5)))
        snprintf(v->norm, sizeof v->norm, "false");
    else {
        v->bad = 1;
        v->rule = "ecsv.value.bool";
        v->hint = "write true or false (yes/no is accepted too)";
        snprintf(v->why, sizeof v->why, "is not true/false or yes/no");
    }
}

static void check_lang(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                       br_ecsv_vres *v)
{
    const char *c = br_ecsv_lang_canon(x, s, n);
    const char *b = c ? NULL : br_ecsv_lang_from_alias(x, s, n);
    if (b) {
        /* Unambiguous, but Esploro rejects it: an error that --fix repairs. */
        v->fixable = 1;
        v->rule = "ecsv.value.lang";
        snprintf(v->why, sizeof v->why, "is not an ISO 639-2/B code (it is %s)", b);
        snprintf(v->fixed, sizeof v->fixed, "%s", b);
    } else if (!c) {
        v->bad = 1;
        v->rule = "ecsv.value.lang";
        v->hint = "use an ISO 639-2/B code such as eng, ger, fre, spa (data/iso639_2b.tsv)";
        snprintf(v->why, sizeof v->why, "is not an ISO 639-2/B language code");
    } else if (memcmp(c, s, n)) {
        v->fixable = v->warn_only = 1;
        v->rule = "ecsv.value.enum-case";
        snprintf(v->why, sizeof v->why, "language codes are written in lower case: %s", c);
        snprintf(v->fixed, sizeof v->fixed, "%s", c);
    }
}

static void check_restype(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                          br_ecsv_vres *v)
{
    const char *c = br_ecsv_restype_canon(x, s, n);
    if (!c) {
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(n < 255 ? n : 255), s);
        v->bad = 1;
        v->rule = "ecsv.value.restype";
        v->hint = "an Esploro asset type category.type (data/esploro_asset_types.tsv)";
        snprintf(v->why, sizeof v->why, "is not an Esploro asset type (did you mean %s?)",
                 br_ecsv_restype_suggest(x, tmp));
    } else if (memcmp(c, s, n)) {
        v->fixable = v->warn_only = 1;
        v->rule = "ecsv.value.restype-case";
        snprintf(v->why, sizeof v->why, "the asset type is written %s", c);
        snprintf(v->fixed, sizeof v->fixed, "%s", c);
    }
}

#define ORGUNIT_CODE_MAX 255

const char *br_ecsv_orgunit_code_problem(const char *code, size_t n)
{
    if (!code || !n) return "is empty";
    if (n > ORGUNIT_CODE_MAX) return "is longer than 255 bytes";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)code[i];
        if (c <= 0x20 || c == 0x7f) return "contains whitespace or a control character";
        if (c == '@' || c == ',') return "contains '@' or ',' (Esploro's separators)";
    }
    if (br_utf8_check(code, n, NULL)) return "is not valid UTF-8";
    const char *u = memmem(code, n, "___", 3);
    if (!u || u == code || (size_t)(u - code) + 3 >= n)
        return "is not an organisational-unit code PREFIX___UNIT";
    return NULL;
}

static void check_affil(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                        br_ecsv_vres *v)
{
    const char *why = br_ecsv_orgunit_code_problem(s, n);
    if (why) {
        v->bad = 1;
        v->rule = "ecsv.value.affiliation";
        v->hint = BR_ECSV_ORGUNIT_HINT;
        snprintf(v->why, sizeof v->why, "%s", why);
    }
}

static void check_orcid(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                        br_ecsv_vres *v)
{
    const char *b = s;
    size_t bn = n;
    static const char *const pre[] = {"https://orcid.org/", "http://orcid.org/", "orcid.org/"};
    for (int i = 0; i < 3; i++)
        if (ci_prefix(s, n, pre[i])) b = s + strlen(pre[i]), bn = n - strlen(pre[i]);
    char t[20] = "";
    if (bn == 19) {
        memcpy(t, b, 19);
        if (t[18] == 'x') t[18] = 'X';
    }
    if (bn == 19 && br_orcid_valid(t, 19)) {
        if (b != s || t[18] != b[18]) {
            v->fixable = 1;
            v->rule = "ecsv.value.orcid-format";
            snprintf(v->why, sizeof v->why, "an ORCID is written as the bare iD %s", t);
            snprintf(v->fixed, sizeof v->fixed, "%s", t);
        }
        snprintf(v->norm, sizeof v->norm, "%s", t);
        return;
    }
    v->bad = 1;
    v->rule = "ecsv.value.orcid";
    v->hint = "an ORCID iD is 0000-0002-1825-0097: 16 digits (the last may be X) whose last "
              "is an ISO 7064 11,2 check digit";
    snprintf(v->why, sizeof v->why,
             bn == 19 ? "has a wrong check digit (ISO 7064 11,2)" : "is not an ORCID iD");
}

static void check_email(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                        br_ecsv_vres *v)
{
    const char *at = memchr(s, '@', n);
    int ok = at && at > s && memchr(at + 1, '@', n - (size_t)(at + 1 - s)) == NULL &&
             memchr(at + 1, '.', n - (size_t)(at + 1 - s)) != NULL && s[n - 1] != '.';
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)s[i] > 0x20 && s[i] != ',' && s[i] != ';';
    if (!ok) {
        v->bad = 1;
        v->rule = "ecsv.value.email";
        v->hint = "one address such as name@example.org";
        snprintf(v->why, sizeof v->why, "is not an e-mail address");
    }
}

static void check_url(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                      br_ecsv_vres *v)
{
    size_t pl = ci_prefix(s, n, "https://") ? 8 : ci_prefix(s, n, "http://") ? 7 : 0;
    if (!pl && kind == BR_ECSV_FILEURL && ci_prefix(s, n, "file://")) pl = 7;
    int ok = 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)s[i] > 0x20;
    if (pl && (n == pl || s[pl] == '/') && ci_prefix(s, n, "file://") == 0) ok = 0;
    if (!pl && kind == BR_ECSV_URL) ok = 0;
    if (ok && !pl && kind == BR_ECSV_FILEURL && memmem(s, n, "://", 3)) ok = 0;
    if (!ok) {
        v->bad = 1;
        v->rule = "ecsv.value.url";
        v->hint = kind == BR_ECSV_URL ? "an http:// or https:// URL without spaces"
                                      : "an http(s):// or file:// URL, or a path relative "
                                        "to the CSV file, without spaces";
        snprintf(v->why, sizeof v->why, "is not a valid URL");
        return;
    }
    if (kind == BR_ECSV_FILEURL && !pl) {
        /* A relative path must stay inside the CSV's folder. */
        int escapes = 0;
        const char *p = s, *e = s + n;
        while (p < e) {
            const char *q = memchr(p, '/', (size_t)(e - p));
            size_t l = q ? (size_t)(q - p) : (size_t)(e - p);
            if (l == 2 && p[0] == '.' && p[1] == '.') escapes = 1;
            p += l + 1;
        }
        if (escapes) {
            v->bad = 1;
            v->rule = "ecsv.file.path-escapes";
            v->hint = "put the file in the CSV's folder (or below it), or give a file:// URL";
            snprintf(v->why, sizeof v->why,
                     "is a relative path that leaves the CSV's folder ('..')");
        }
    }
}

static void check_int(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                      br_ecsv_vres *v)
{
    if (!digits(s, n) || n > 9) {
        v->bad = 1;
        v->rule = "ecsv.value.int";
        v->hint = "a whole number such as 1";
        snprintf(v->why, sizeof v->why, "is not a whole number");
    }
}

static void check_doi(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                      br_ecsv_vres *v)
{
    static const char *const pre[] = {"https://doi.org/", "http://doi.org/", "https://dx.doi.org/",
                                      "http://dx.doi.org/", "doi:"};
    size_t pl = 0;
    for (int i = 0; i < 5 && !pl; i++)
        if (ci_prefix(s, n, pre[i])) pl = strlen(pre[i]);
    const char *d = s + pl;
    size_t dn = n - pl, k = 3;
    int ok = dn > 3 && !memcmp(d, "10.", 3);
    while (ok && k < dn && d[k] >= '0' && d[k] <= '9')
        k++;
    ok = ok && k >= 7 && k < dn - 1 && d[k] == '/';
    for (size_t i = 0; ok && i < dn; i++)
        ok = (unsigned char)d[i] > 0x20;
    if (!ok) {
        v->bad = 1;
        v->rule = "ecsv.value.doi";
        v->hint = "a DOI such as 10.3390/v13102098 (no https://doi.org/ prefix)";
        snprintf(v->why, sizeof v->why, "is not a DOI (10.NNNN/suffix)");
    } else if (pl) {
        v->fixable = 1;
        v->rule = "ecsv.value.doi-format";
        snprintf(v->why, sizeof v->why, "a DOI is written without the resolver prefix");
        snprintf(v->fixed, sizeof v->fixed, "%.*s", (int)(dn < 120 ? dn : 120), d);
        if (dn >= 120) v->fixable = 0, v->bad = 1, v->rule = "ecsv.value.doi";
    }
}

typedef void (*check_fn)(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                         br_ecsv_vres *v);

static const check_fn CHECKS[BR_ECSV_KIND_COUNT] = {
    [BR_ECSV_TEXT] = check_text,
    [BR_ECSV_DATE] = check_date,
    [BR_ECSV_DATERANGE] = check_daterange,
    [BR_ECSV_MDY] = check_mdy,
    [BR_ECSV_YESNO] = check_yesno,
    [BR_ECSV_BOOL] = check_bool,
    [BR_ECSV_LANG] = check_lang,
    [BR_ECSV_RESTYPE] = check_restype,
    [BR_ECSV_AFFIL] = check_affil,
    [BR_ECSV_ORCID] = check_orcid,
    [BR_ECSV_EMAIL] = check_email,
    [BR_ECSV_URL] = check_url,
    [BR_ECSV_FILEURL] = check_url,
    [BR_ECSV_INT] = check_int,
    [BR_ECSV_DOI] = check_doi,
};

void br_ecsv_check_value(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                         br_ecsv_vres *v)
{
    /* Reset only what callers read (this runs for every value: no memset of the buffers). */
    v->bad = v->fixable = v->warn_only = 0;
    v->rule = v->hint = NULL;
    v->why[0] = v->fixed[0] = v->norm[0] = 0;
    if ((unsigned)kind < BR_ECSV_KIND_COUNT && CHECKS[kind]) CHECKS[kind](x, kind, s, n, v);
}
