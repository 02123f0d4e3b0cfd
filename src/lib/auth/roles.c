/* Roles and job types, read from the compiled-in tables data/roles.tsv and
 * data/job_types.tsv.  The tables are a few dozen lines: each call walks the
 * text (no parsed copy is kept, so the module has no state). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/user.h"
#include "core/core.h"

extern const char br_roles_tsv[];
extern const char br_job_types_tsv[];

enum { MAX_COLS = 8, LINE_MAX_ = 2048 };

/* Copies the next data line of a table into buf and splits it at tabs.
 * Returns the number of columns, 0 at the end.  Comment and blank lines are
 * skipped; a line longer than the buffer is cut (the tables are ours). */
/* Role names compare ignoring case, with '_', '-' and ' ' alike. */
static int name_equal(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = tolower((unsigned char)*a), y = tolower((unsigned char)*b);
        if (x == '-' || x == ' ') x = '_';
        if (y == '-' || y == ' ') y = '_';
        if (x != y) return 0;
        if (!x) return 1;
    }
}

typedef struct role_query {
    const char *name;
    unsigned index;
    br_role *out;
    int found;
} role_query;

static void roles_walk(br_role_fn fn, void *ctx)
{
    const char *p = br_roles_tsv;
    char buf[LINE_MAX_], *cols[MAX_COLS];
    unsigned index = 0;
    int n;
    while ((n = br_tsv_next(&p, buf, sizeof buf, cols, MAX_COLS)) > 0) {
        if (n < 2 || index >= 32) continue;
        br_role r = {.index = index++};
        br_strlcpy(r.code, cols[0], sizeof r.code);
        br_strlcpy(r.label, cols[1], sizeof r.label);
        if (fn(ctx, &r)) return;
    }
}

void br_role_list(br_role_fn fn, void *ctx)
{
    roles_walk(fn, ctx);
}

static int match_name(void *ctx, const br_role *r)
{
    role_query *q = ctx;
    if (!name_equal(q->name, r->code) && !name_equal(q->name, r->label)) return 0;
    *q->out = *r;
    q->found = 1;
    return 1;
}

int br_role_find(const char *code_or_label, br_role *out)
{
    br_role tmp;
    role_query q = {code_or_label ? code_or_label : "", 0, out ? out : &tmp, 0};
    if (!*q.name) return BR_ENOTFOUND;
    roles_walk(match_name, &q);
    return q.found ? 0 : BR_ENOTFOUND;
}

static int match_index(void *ctx, const br_role *r)
{
    role_query *q = ctx;
    if (r->index != q->index) return 0;
    *q->out = *r;
    q->found = 1;
    return 1;
}

int br_role_at(unsigned index, br_role *out)
{
    br_role tmp;
    role_query q = {NULL, index, out ? out : &tmp, 0};
    roles_walk(match_index, &q);
    return q.found ? 0 : BR_ENOTFOUND;
}

/* ---- job types ---------------------------------------------------------------------------- */

/* A comma-separated list of role codes as a bit set; unknown codes add nothing
 * (test_user checks that the table names only known roles). */
static uint32_t role_bits(const char *list)
{
    uint32_t bits = 0;
    char code[64];
    while (*list) {
        size_t n = strcspn(list, ",");
        if (n < sizeof code) {
            memcpy(code, list, n);
            code[n] = 0;
            br_role r;
            if (!br_role_find(br_trim(code), &r)) bits |= UINT32_C(1) << r.index;
        }
        list += n;
        if (*list == ',') list++;
    }
    return bits;
}

void br_job_type_list(br_job_type_fn fn, void *ctx)
{
    const char *p = br_job_types_tsv;
    char buf[LINE_MAX_], *cols[MAX_COLS];
    int n;
    while ((n = br_tsv_next(&p, buf, sizeof buf, cols, MAX_COLS)) > 0) {
        if (n < 5) continue;
        br_job_type t = {0};
        br_strlcpy(t.type, cols[0], sizeof t.type);
        br_strlcpy(t.category, cols[1], sizeof t.category);
        br_strlcpy(t.label, cols[2], sizeof t.label);
        t.roles = role_bits(cols[3]);
        t.implemented = !strcmp(cols[4], "1");
        if (n > 5 && strcmp(cols[5], "-")) br_strlcpy(t.content, cols[5], sizeof t.content);
        br_strlcpy(t.description, n > 6 ? cols[6] : t.label, sizeof t.description);
        if (fn(ctx, &t)) return;
    }
}

typedef struct type_query {
    const char *type;
    br_job_type *out;
    int found;
} type_query;

static int match_type(void *ctx, const br_job_type *t)
{
    type_query *q = ctx;
    if (strcmp(q->type, t->type)) return 0;
    *q->out = *t;
    q->found = 1;
    return 1;
}

int br_job_type_get(const char *type, br_job_type *out)
{
    br_job_type tmp;
    type_query q = {type ? type : "", out ? out : &tmp, 0};
    br_job_type_list(match_type, &q);
    return q.found ? 0 : BR_ENOTFOUND;
}

int br_job_type_allows(const br_job_type *t, uint32_t roles)
{
    return t && (t->roles & roles) != 0;
}

int br_job_visible(const char *type, uint32_t roles)
{
    if (roles & BR_ROLE_GSA) return 1;
    br_job_type t;
    return !br_job_type_get(type, &t) && br_job_type_allows(&t, roles);
}

/* ---- read access (data/read_access.tsv) ---------------------------------------------------- */

extern const char br_read_access_tsv[];

int br_read_allowed(const char *what, uint32_t roles)
{
    const char *p = br_read_access_tsv;
    char buf[LINE_MAX_], *cols[MAX_COLS];
    int n;
    while (what && (n = br_tsv_next(&p, buf, sizeof buf, cols, MAX_COLS)) > 0)
        if (n >= 2 && !strcmp(cols[0], what)) return (role_bits(cols[1]) & roles) != 0;
    return 0;
}

int br_item_readable(const char *status, uint32_t roles)
{
    int archived = !status || !*status || !strcmp(status, "archived");
    return br_read_allowed(archived ? "items" : "drafts", roles);
}
