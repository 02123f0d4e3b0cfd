/* The ONIX driver's tables, compiled in from data/: short tags
 * (onix_shorttags.tsv), the HTML 4 entities 2.1 feeds use (html_entities.tsv),
 * the code lists it maps (onix_codes.tsv) and the composites' update targets
 * (onix_targets.tsv).  Parsed once per process into one hash map; read only
 * afterwards, so every thread may use them. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "formats/onix_internal.h"

extern const char br_onix_shorttags_tsv[];
extern const char br_html_entities_tsv[];
extern const char br_onix_codes_tsv[];
extern const char br_onix_targets_tsv[];

typedef struct row {
    const char *a, *b, *c;
} row;

static struct {
    br_strmap map; /* "s2\tb221", "s3\tb221", "e\tndash", "c\trole\tA01", "v\trole\tauthor",
                      "t\tSubject" -> index into rows */
    char *text[4]; /* the tables' copies, cut into fields */
    row *rows;
    size_t n, cap;
    size_t first_target, n_targets;
    int failed;
} T;

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Cuts a copy of a table into rows of up to three tab-separated fields. */
static int cut(char *s, int table)
{
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl++ = 0;
        if (*line && *line != '#') {
            row r = {line, NULL, NULL};
            char *t = strchr(line, '\t');
            if (t) *t++ = 0, r.b = t;
            if (t && (t = strchr(t, '\t'))) *t++ = 0, r.c = t;
            if (br_grow((void **)&T.rows, &T.cap, T.n + 1, sizeof *T.rows)) return -1;
            T.rows[T.n] = r;
            char key[256];
            int bad = 0;
            switch (table) {
            case 0: /* release short reference */
                if (!r.c) break;
                snprintf(key, sizeof key, "s%c\t%s", r.a[0], r.b);
                bad = br_strmap_put(&T.map, key, (int64_t)T.n);
                break;
            case 1: /* name code point */
                snprintf(key, sizeof key, "e\t%s", r.a);
                bad = br_strmap_put(&T.map, key, (int64_t)T.n);
                break;
            case 2: { /* list code value */
                if (!r.c) break;
                int64_t ignored;
                snprintf(key, sizeof key, "c\t%s\t%s", r.a, r.b);
                bad = br_strmap_put(&T.map, key, (int64_t)T.n);
                snprintf(key, sizeof key, "v\t%s\t%s", r.a, r.c);
                if (!bad && !br_strmap_get(&T.map, key, &ignored))
                    bad = br_strmap_put(&T.map, key, (int64_t)T.n);
                break;
            }
            case 3: { /* composite block targets */
                int64_t ignored;
                if (!r.c) break;
                if (!T.n_targets) T.first_target = T.n;
                T.n_targets = T.n - T.first_target + 1;
                snprintf(key, sizeof key, "t\t%s", r.a);
                if (!br_strmap_get(&T.map, key, &ignored))
                    bad = br_strmap_put(&T.map, key, (int64_t)T.n);
                break;
            }
            }
            if (bad) return -1;
            T.n++;
        }
        line = nl;
    }
    return 0;
}

static void load(void)
{
    const char *src[4] = {br_onix_shorttags_tsv, br_html_entities_tsv, br_onix_codes_tsv,
                          br_onix_targets_tsv};
    for (int i = 0; i < 4 && !T.failed; i++) {
        T.text[i] = strdup(src[i]);
        if (!T.text[i] || cut(T.text[i], i)) T.failed = 1;
    }
}

int br_onix_tables(void)
{
    pthread_once(&once, load);
    return T.failed ? BR_ENOMEM : 0;
}

static const row *find(const char *key)
{
    int64_t i;
    if (br_onix_tables() || !br_strmap_get(&T.map, key, &i)) return NULL;
    return &T.rows[i];
}

const char *br_onix_refname(int release21, const char *local)
{
    char key[160];
    if (snprintf(key, sizeof key, "s%c\t%s", release21 ? '2' : '3', local) >= (int)sizeof key)
        return local;
    const row *r = find(key);
    return r ? r->c : local;
}

long br_onix_entity(const char *name)
{
    char key[64];
    if (snprintf(key, sizeof key, "e\t%s", name) >= (int)sizeof key) return -1;
    const row *r = find(key);
    return r && r->b ? strtol(r->b, NULL, 10) : -1;
}

const char *br_onix_code(const char *list, const char *code)
{
    char key[256];
    if (!code || snprintf(key, sizeof key, "c\t%s\t%s", list, code) >= (int)sizeof key) return NULL;
    const row *r = find(key);
    return r ? r->c : NULL;
}

const char *br_onix_code_of(const char *list, const char *value)
{
    char key[256];
    if (!value || snprintf(key, sizeof key, "v\t%s\t%s", list, value) >= (int)sizeof key)
        return NULL;
    const row *r = find(key);
    return r ? r->b : NULL;
}

const char *br_onix_composite(const char *name, const char **targets)
{
    char key[160];
    *targets = NULL;
    if (snprintf(key, sizeof key, "t\t%s", name) >= (int)sizeof key) return NULL;
    const row *r = find(key);
    if (!r) return NULL;
    *targets = r->c;
    return r->b;
}

const char *br_onix_composite_at(size_t i, const char **block, const char **targets)
{
    if (br_onix_tables() || i >= T.n_targets) return NULL;
    const row *r = &T.rows[T.first_target + i];
    *block = r->b;
    *targets = r->c;
    return r->a;
}
