/* Relation types (data/relation_types.tsv) and relations kept in step from both sides
 * (bulkrepo/relation.h).  The table is read from the compiled-in text on each call (36 rows):
 * no state is kept. */
#include <stdio.h>
#include <string.h>
#include "bulkrepo/relation.h"
#include "core/core.h"
#include "model/relation_rows.h"
#include "store/store_relation.h"
#include "store/store_setjob.h"

extern const char br_relation_types_tsv[];

enum { COLS = 6 };

void br_relation_type_list(br_relation_type_fn fn, void *ctx)
{
    const char *p = br_relation_types_tsv;
    char buf[2048], *c[COLS];
    int n;
    while ((n = br_tsv_next(&p, buf, sizeof buf, c, COLS)) > 0) {
        if (n < 4) continue;
        br_relation_type t;
        memset(&t, 0, sizeof t);
        br_strlcpy(t.code, c[0], sizeof t.code);
        br_strlcpy(t.inverse, c[1], sizeof t.inverse);
        br_strlcpy(t.label, c[2], sizeof t.label);
        br_strlcpy(t.inverse_label, c[3], sizeof t.inverse_label);
        if (fn(ctx, &t)) return;
    }
}

typedef struct find_ctx {
    const char *code;
    br_relation_type *out;
    int inverse, found;
} find_ctx;

static int find_one(void *ctx, const br_relation_type *t)
{
    find_ctx *f = ctx;
    if (!strcmp(t->code, f->code))
        f->inverse = 0;
    else if (!strcmp(t->inverse, f->code))
        f->inverse = 1;
    else
        return 0;
    *f->out = *t;
    return f->found = 1;
}

int br_relation_type_find(const char *code, br_relation_type *out, int *inverse)
{
    br_relation_type t;
    find_ctx f = {code, out ? out : &t, 0, 0};
    if (code) br_relation_type_list(find_one, &f);
    if (!f.found) return BR_ENOTFOUND;
    if (inverse) *inverse = f.inverse;
    return 0;
}

const char *br_relation_view(const br_relation *r, char buf[32])
{
    br_relation_type t;
    int inv;
    buf[0] = 0;
    if (!r || !r->type) return buf;
    /* Stored under either code: read from the right it is the other one. */
    if (br_relation_type_find(r->type, &t, &inv))
        return r->type; /* not the table's: as stored, whatever its length */
    br_strlcpy(buf, (r->is_left != 0) == (inv == 0) ? t.code : t.inverse, 32);
    return buf;
}

int br_relation_rows(const char *code, int64_t a, int64_t b, br_rel_row rows[2])
{
    br_relation_type t;
    int inv;
    if (br_relation_type_find(code, &t, &inv)) return BR_EUSAGE;
    if (a == b) return BR_EUSAGE;
    int64_t l = inv ? b : a, r = inv ? a : b;
    if (!strcmp(t.code, t.inverse) && l > r) { /* symmetric: one stored form */
        int64_t x = l;
        l = r;
        r = x;
    }
    br_strlcpy(rows[0].type, t.code, sizeof rows[0].type);
    rows[0].left = l;
    rows[0].right = r;
    br_strlcpy(rows[1].type, t.inverse, sizeof rows[1].type);
    rows[1].left = r;
    rows[1].right = l;
    return 0;
}

static int bad_code(const char *code, int64_t a, int64_t b, br_error *err)
{
    if (a == b)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "an asset cannot be related to itself");
    return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                        "'%s' is not a relation type (data/relation_types.tsv)", code ? code : "");
}

int br_relation_exists(br_repo *repo, const char *code, int64_t a, int64_t b, br_error *err)
{
    br_rel_row rows[2];
    if (br_relation_rows(code, a, b, rows)) return bad_code(code, a, b, err);
    for (int i = 0; i < 2; i++) {
        int rc = br_relation_row_exists(repo, rows[i].type, rows[i].left, rows[i].right, err);
        if (rc) return rc;
    }
    return 0;
}

int br_relation_add(br_repo *repo, const char *code, int64_t a, int64_t b, int *added,
                    br_error *err)
{
    if (added) *added = 0;
    br_rel_row rows[2];
    if (br_relation_rows(code, a, b, rows)) return bad_code(code, a, b, err);
    int64_t v;
    int rc = br_item_version(repo, a, &v, err);
    if (!rc) rc = br_item_version(repo, b, &v, err);
    if (!rc) rc = br_relation_exists(repo, code, a, b, err);
    if (rc) return rc < 0 ? rc : 0; /* 1: there already */
    if ((rc = br_relation_insert(repo, rows[0].type, rows[0].left, rows[0].right, err)) ||
        (rc = br_item_touch(repo, a, err)) || (rc = br_item_touch(repo, b, err)))
        return rc;
    if (added) *added = 1;
    return 0;
}

int br_relation_remove(br_repo *repo, const char *code, int64_t a, int64_t b, int *removed,
                       br_error *err)
{
    if (removed) *removed = 0;
    br_rel_row rows[2];
    if (br_relation_rows(code, a, b, rows)) return bad_code(code, a, b, err);
    int n = 0;
    for (int i = 0; i < 2; i++) {
        int one;
        int rc = br_relation_delete(repo, rows[i].type, rows[i].left, rows[i].right, &one, err);
        if (rc) return rc;
        n += one;
    }
    if (n) {
        int rc = br_item_touch(repo, a, err);
        if (!rc) rc = br_item_touch(repo, b, err);
        if (rc && rc != BR_ENOTFOUND) return rc;
    }
    if (removed) *removed = n;
    return 0;
}
