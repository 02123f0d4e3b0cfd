/* The XLSX publications driver's column set (data/xlsx_columns.tsv, parsed
 * once), ISBN checks and the input lookup (a .xlsx, or a zip of one and its
 * files). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "bulkrepo/saf.h"
#include "core/core.h"
#include "formats/xlsx_internal.h"

extern const char br_xlsx_columns_tsv[];

#define MAX_COLUMNS 64

static br_xlsx_column columns[MAX_COLUMNS];
static size_t n_columns;
static char *table; /* the TSV's text, cut into the columns' strings */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const struct {
    const char *name;
    br_xlsx_kind kind;
} KINDS[] = {
    {"text", BR_XLSX_TEXT},   {"isbn", BR_XLSX_ISBN},
    {"date", BR_XLSX_DATE},   {"contributors", BR_XLSX_CONTRIBUTORS},
    {"files", BR_XLSX_FILES}, {"cover", BR_XLSX_COVER},
};

static void load(void)
{
    if (!(table = strdup(br_xlsx_columns_tsv))) return;
    for (char *line = table, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (line[0] == '#' || !line[0]) continue;
        char *f[6] = {0};
        size_t n = 0;
        for (char *p = line; n < 6; n++) {
            f[n] = p;
            char *tab = strchr(p, '\t');
            if (!tab) {
                n++;
                break;
            }
            *tab = 0;
            p = tab + 1;
        }
        if (n < 5 || n_columns == MAX_COLUMNS) continue;
        br_xlsx_column *c = &columns[n_columns];
        c->name = f[0];
        c->aliases = f[1];
        c->target = f[2];
        c->multi = !strcmp(f[4], "1");
        size_t k = 0;
        while (k < BR_ARRAY_LEN(KINDS) && strcmp(KINDS[k].name, f[3]))
            k++;
        if (k == BR_ARRAY_LEN(KINDS)) continue;
        c->kind = KINDS[k].kind;
        n_columns++;
    }
}

size_t br_xlsx_column_count(void)
{
    pthread_once(&once, load);
    return n_columns;
}

const br_xlsx_column *br_xlsx_column_at(size_t i)
{
    return i < br_xlsx_column_count() ? &columns[i] : NULL;
}

static int name_is(const char *name, size_t nlen, const char *h, size_t len)
{
    return nlen == len && !strncasecmp(name, h, len);
}

const br_xlsx_column *br_xlsx_column_find(const char *h, size_t len)
{
    while (len && (*h == ' ' || *h == '\t')) {
        h++;
        len--;
    }
    while (len && (h[len - 1] == ' ' || h[len - 1] == '\t'))
        len--;
    for (size_t i = 0; i < br_xlsx_column_count(); i++) {
        const br_xlsx_column *c = &columns[i];
        if (name_is(c->name, strlen(c->name), h, len)) return c;
        for (const char *a = c->aliases; a && *a;) {
            const char *bar = strchr(a, '|');
            size_t al = bar ? (size_t)(bar - a) : strlen(a);
            if (name_is(a, al, h, len)) return c;
            if (!bar) break;
            a = bar + 1;
        }
    }
    return NULL;
}

/* ---- ISBNs ------------------------------------------------------------------------------- */

int br_xlsx_isbn13(const char *s, size_t n, int numeric, char out[14], const char **why)
{
    char d[32];
    size_t k = 0;
    char num[64];
    if (numeric && n < sizeof num && (memchr(s, 'E', n) || memchr(s, 'e', n))) {
        /* 9.780306406157E+12: the digits of an integral number below 2^53 */
        memcpy(num, s, n);
        num[n] = 0;
        char *end;
        errno = 0;
        double v = strtod(num, &end);
        if (*end || errno || v < 0 || v >= 9007199254740992.0 || v != (double)(long long)v) {
            *why = "is a number that is not a whole ISBN";
            return -1;
        }
        snprintf(num, sizeof num, "%lld", (long long)v);
        s = num;
        n = strlen(num);
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (k == sizeof d - 1) break;
            d[k++] = c;
        } else if ((c == 'X' || c == 'x') && k == 9 && i + 1 == n) {
            d[k++] = 'X';
        } else if (c == '-' || c == ' ') {
            continue;
        } else if (numeric && c == '.' && i + 2 == n && s[i + 1] == '0') {
            break; /* "9780306406157.0" */
        } else {
            *why = "has characters other than digits, hyphens and a final X";
            return -1;
        }
    }
    if (numeric && k >= 7 && k < 10) { /* an ISBN-10 stored as a number lost its leading 0s */
        memmove(d + (10 - k), d, k);
        memset(d, '0', 10 - k);
        k = 10;
    }
    if (k == 10) {
        unsigned sum = 0;
        for (int i = 0; i < 10; i++) {
            unsigned v = d[i] == 'X' ? 10 : (unsigned)(d[i] - '0');
            if (d[i] == 'X' && i != 9) {
                *why = "has an X before its last digit";
                return -1;
            }
            sum += v * (unsigned)(10 - i);
        }
        if (sum % 11) {
            *why = "has a wrong ISBN-10 check digit";
            return -1;
        }
        memcpy(out, "978", 3);
        memcpy(out + 3, d, 9);
        sum = 0;
        for (int i = 0; i < 12; i++)
            sum += (unsigned)(out[i] - '0') * (i % 2 ? 3u : 1u);
        out[12] = (char)('0' + (10 - sum % 10) % 10);
        out[13] = 0;
        return 0;
    }
    if (k != 13) {
        *why = "is neither 13 nor 10 digits long";
        return -1;
    }
    if (memchr(d, 'X', 13)) {
        *why = "has an X (only an ISBN-10 ends in X)";
        return -1;
    }
    if (memcmp(d, "978", 3) && memcmp(d, "979", 3)) {
        *why = "does not begin with 978 or 979";
        return -1;
    }
    unsigned sum = 0;
    for (int i = 0; i < 13; i++)
        sum += (unsigned)(d[i] - '0') * (i % 2 ? 3u : 1u);
    if (sum % 10) {
        *why = "has a wrong ISBN-13 check digit";
        return -1;
    }
    memcpy(out, d, 13);
    out[13] = 0;
    return 0;
}

/* ---- the input ----------------------------------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && !strcasecmp(s + n - m, suffix);
}

/* The one .xlsx in dir (not hidden), into name; 0 found, 1 none, <0 several. */
static int find_xlsx(const char *dir, char *name, size_t size, char *sub, size_t sub_size,
                     int *n_dirs)
{
    DIR *d = opendir(dir);
    if (!d) return 1;
    int found = 0;
    *n_dirs = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "__MACOSX")) continue;
        char p[4096];
        if (br_path_join(p, sizeof p, dir, e->d_name)) continue;
        if (br_is_dir(p)) {
            (*n_dirs)++;
            br_strlcpy(sub, p, sub_size);
        } else if (ends_with(e->d_name, ".xlsx")) {
            if (found++) break;
            br_strlcpy(name, p, size);
        }
    }
    closedir(d);
    return found == 1 ? 0 : found ? -1 : 1;
}

int br_xlsx_input(const char *source, const char *scratch, const br_limits *lim, char *xlsx,
                  size_t xlsx_size, char *dir, size_t dir_size, br_error *err)
{
    if (!ends_with(source, ".zip")) {
        if (!br_is_file(source))
            return br_error_set(err, BR_ENOTFOUND, source, 0, 0, "no such XLSX file");
        br_strlcpy(xlsx, source, xlsx_size);
        br_strlcpy(dir, source, dir_size);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
            *slash = 0;
        else
            br_strlcpy(dir, slash ? "/" : ".", dir_size);
        return 0;
    }
    if (!scratch)
        return br_error_set(err, BR_EUSAGE, source, 0, 0,
                            "a zipped import folder needs a folder to unpack into");
    char root[4096], sub[4096] = "";
    int rc = br_zip_extract(source, scratch, lim, root, sizeof root, err);
    if (rc) return rc;
    int n_dirs = 0;
    rc = find_xlsx(root, xlsx, xlsx_size, sub, sizeof sub, &n_dirs);
    if (rc == 1 && n_dirs == 1) {
        br_strlcpy(root, sub, sizeof root);
        rc = find_xlsx(root, xlsx, xlsx_size, sub, sizeof sub, &n_dirs);
    }
    const char *zname = strrchr(source, '/') ? strrchr(source, '/') + 1 : source;
    if (rc == 1) return br_error_set(err, BR_EINVAL, zname, 0, 0, "the zip holds no .xlsx file");
    if (rc < 0)
        return br_error_set(err, BR_EINVAL, zname, 0, 0,
                            "the zip holds more than one .xlsx file (an import folder has one)");
    br_strlcpy(dir, root, dir_size);
    return 0;
}
