/* What a set job changes in a record, part by part, for the dry run ("field: old -> new"):
 * metadata per field, creators, links, identifiers, files and status, each list joined with
 * " | ".  Strings live in b's arena (b is the working copy, reset with the next member). */
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "jobs/setjob.h"
#include "model/snapshot.h"

typedef struct buf {
    char *s;
    size_t len, cap;
    int oom;
} buf;

static void put(buf *b, const char *s)
{
    size_t n = strlen(s ? s : "");
    if (b->oom) return;
    if (b->len + n + 4 > b->cap) {
        size_t cap = (b->len + n + 4) * 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    if (b->len) {
        memcpy(b->s + b->len, " | ", 3);
        b->len += 3;
    }
    memcpy(b->s + b->len, s ? s : "", n);
    b->len += n;
    b->s[b->len] = 0;
}

static void field_name(const br_mdv *v, char *out, size_t size)
{
    snprintf(out, size, "%s.%s%s%s", v->schema, v->element, v->qualifier ? "." : "",
             v->qualifier ? v->qualifier : "");
}

static void md_values(const br_record *r, const char *field, buf *b)
{
    char f[200];
    for (size_t i = 0; i < r->n_md; i++) {
        field_name(&r->md[i], f, sizeof f);
        if (!strcmp(f, field)) put(b, r->md[i].value);
    }
}

static void creators(const br_record *r, buf *b)
{
    for (size_t i = 0; i < r->n_creators; i++) {
        const br_creator *k = &r->creators[i];
        char name[512], one[800];
        br_creator_name(k, name, sizeof name);
        snprintf(one, sizeof one, "%s%s%s%s", k->role == BR_CONTRIBUTOR ? "contributor " : "", name,
                 k->affiliation ? " @" : "", k->affiliation ? k->affiliation : "");
        put(b, one);
    }
}

static void list(const br_record *r, unsigned part, buf *b)
{
    for (size_t i = 0; part == BR_PART_LINKS && i < r->n_links; i++)
        put(b, r->links[i].url);
    for (size_t i = 0; part == BR_PART_IDENTIFIERS && i < r->n_ids; i++) {
        char one[600];
        snprintf(one, sizeof one, "%s:%s", r->ids[i].type, r->ids[i].value);
        put(b, one);
    }
    for (size_t i = 0; part == BR_PART_FILES && i < r->n_bs; i++)
        put(b, r->bs[i].name);
    if (part == BR_PART_STATUS) put(b, r->status);
    if (part == BR_PART_CREATORS) creators(r, b);
}

typedef struct out {
    br_change *v;
    size_t n, cap;
    br_record *arena;
    int oom;
} out;

static void add(out *o, const char *field, buf *a, buf *b)
{
    const char *x = a->len ? a->s : NULL, *y = b->len ? b->s : NULL;
    if ((!x && !y) || (x && y && !strcmp(x, y))) return;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        br_change *p = realloc(o->v, cap * sizeof *p);
        if (!p) {
            o->oom = 1;
            return;
        }
        o->v = p;
        o->cap = cap;
    }
    br_change *c = &o->v[o->n++];
    c->field = br_record_str(o->arena, field);
    c->old_value = x ? br_record_str(o->arena, x) : NULL;
    c->new_value = y ? br_record_str(o->arena, y) : NULL;
    if (!c->field || (x && !c->old_value) || (y && !c->new_value)) o->oom = 1;
}

static void reset(buf *a, buf *b)
{
    a->len = b->len = 0;
}

static void diff_metadata(const br_record *a, br_record *b, out *o, buf *x, buf *y)
{
    const br_record *both[2] = {a, b};
    char f[200], g[200];
    for (int side = 0; side < 2; side++)
        for (size_t i = 0; i < both[side]->n_md; i++) {
            field_name(&both[side]->md[i], f, sizeof f);
            int seen = 0; /* each field once: at its first value on the first side holding it */
            for (size_t k = 0; k < i && !seen; k++) {
                field_name(&both[side]->md[k], g, sizeof g);
                seen = !strcmp(f, g);
            }
            if (side == 1 && !seen)
                for (size_t k = 0; k < a->n_md && !seen; k++) {
                    field_name(&a->md[k], g, sizeof g);
                    seen = !strcmp(f, g);
                }
            if (seen) continue;
            reset(x, y);
            md_values(a, f, x);
            md_values(b, f, y);
            add(o, f, x, y);
        }
}

int br_sj_diff(const br_record *a, br_record *b, unsigned parts, br_change **changes, size_t *n,
               br_error *err)
{
    static const struct {
        unsigned part;
        const char *name;
    } LISTS[] = {{BR_PART_CREATORS, "creators"},
                 {BR_PART_LINKS, "links"},
                 {BR_PART_IDENTIFIERS, "identifiers"},
                 {BR_PART_FILES, "files"},
                 {BR_PART_STATUS, "status"}};
    out o = {NULL, 0, 0, b, 0};
    buf x = {0}, y = {0};
    if (parts & BR_PART_METADATA) diff_metadata(a, b, &o, &x, &y);
    for (size_t i = 0; i < BR_ARRAY_LEN(LISTS); i++) {
        if (!(parts & LISTS[i].part)) continue;
        reset(&x, &y);
        list(a, LISTS[i].part, &x);
        list(b, LISTS[i].part, &y);
        add(&o, LISTS[i].name, &x, &y);
    }
    int oom = o.oom || x.oom || y.oom;
    free(x.s);
    free(y.s);
    if (oom) {
        free(o.v);
        *changes = NULL;
        *n = 0;
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    *changes = o.v;
    *n = o.n;
    return 0;
}
