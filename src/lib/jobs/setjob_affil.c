/* Fix author internal affiliation in asset (seed 001; issue 11 section 5).  The free-text
 * organisational-unit names of an asset (a creator's or contributor's affiliation, and the
 * asset's esploro.asset.affiliation values, when they are not unit codes) are matched
 * against the names of the organisational units (bulkrepo orgunit), exactly but ignoring
 * case, spacing and diacritics (br_norm_fold), and each match is replaced by the unit's
 * code.  A name no unit has, or that several units share, is left as it is, counted and
 * listed in the asset's journal message.  The units are read once, when the job starts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "jobs/normalize.h"
#include "jobs/setjob.h"
#include "model/snapshot.h"

enum { AMBIGUOUS = -1, LISTED_MAX = 20 };

typedef struct affil {
    br_strmap names; /* folded name -> index in codes, or AMBIGUOUS */
    br_strmap codes; /* unit code -> 1 */
    char **code;
    size_t n, cap;
    int rc; /* out of memory while listing */
    /* The member being planned: its unmatched names, and the journal note. */
    char *unmatched[LISTED_MAX];
    size_t n_unmatched, more;
    br_strmap seen; /* every distinct unmatched name of the member */
    char note[1024];
} affil;

static int add_unit(void *ctx, const br_orgunit *u)
{
    affil *a = ctx;
    if (br_strmap_put(&a->codes, u->code, 1)) goto oom;
    char *f = u->name ? br_norm_fold(u->name) : NULL;
    if (!f || !*f) { /* a unit without a usable name matches nothing */
        free(f);
        return 0;
    }
    int64_t at;
    if (br_strmap_get(&a->names, f, &at)) {
        int bad = br_strmap_put(&a->names, f, AMBIGUOUS);
        free(f);
        if (bad) goto oom;
        return 0;
    }
    char *code = strdup(u->code);
    if (!code || br_grow((void **)&a->code, &a->cap, a->n + 1, sizeof *a->code) ||
        br_strmap_put(&a->names, f, (int64_t)a->n)) {
        free(code);
        free(f);
        goto oom;
    }
    a->code[a->n++] = code;
    free(f);
    return 0;
oom:
    a->rc = BR_ENOMEM;
    return 1;
}

static void release(void *state)
{
    affil *a = state;
    if (!a) return;
    for (size_t i = 0; i < a->n; i++)
        free(a->code[i]);
    for (size_t i = 0; i < a->n_unmatched; i++)
        free(a->unmatched[i]);
    free(a->code);
    br_strmap_dispose(&a->names);
    br_strmap_dispose(&a->codes);
    br_strmap_dispose(&a->seen);
    free(a);
}

static int prepare(br_repo *repo, json_t *p, void **state, br_error *err)
{
    affil *a = calloc(1, sizeof *a);
    if (!a) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int rc = br_orgunit_list(repo, add_unit, a, err);
    if (!rc && a->rc) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!rc && !a->codes.n)
        rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                          "there are no organisational units to match affiliations against: load "
                          "them with bulkrepo orgunit import FILE.csv");
    if (rc) {
        release(a);
        return rc;
    }
    *state = a;
    return 0;
}

static int is_code(const affil *a, const char *s)
{
    int64_t v;
    return br_strmap_get(&a->codes, s, &v);
}

/* Remembers a name no unit matched (each once; the first LISTED_MAX listed). */
static int note_unmatched(affil *a, const char *name, int ambiguous)
{
    int64_t v;
    if (br_strmap_get(&a->seen, name, &v)) return 0;
    if (br_strmap_put(&a->seen, name, 1)) return BR_ENOMEM;
    /* A long name is cut at a character boundary (the message stays UTF-8). */
    size_t n = strlen(name), cut = n > 200 ? 200 : n;
    while (cut < n && cut && ((unsigned char)name[cut] & 0xC0) == 0x80)
        cut--;
    char label[300];
    snprintf(label, sizeof label, "'%.*s%s'%s", (int)cut, name, cut < n ? "..." : "",
             ambiguous ? " (several units have this name)" : "");
    if (a->n_unmatched == LISTED_MAX) {
        a->more++;
        return 0;
    }
    if (!(a->unmatched[a->n_unmatched] = strdup(label))) return BR_ENOMEM;
    a->n_unmatched++;
    return 0;
}

/* The code for a free-text name: 1 and *code, 0 when none (noted), or BR_ENOMEM. */
static int match(affil *a, const char *name, const char **code)
{
    char *f = br_norm_fold(name);
    int64_t at = 0;
    int found = f && *f && br_strmap_get(&a->names, f, &at);
    free(f);
    if (found && at != AMBIGUOUS) {
        *code = a->code[at];
        return 1;
    }
    int rc = note_unmatched(a, name, found);
    return rc ? rc : 0;
}

static int fix_creators(sj_item *it, affil *a)
{
    br_record *r = it->after;
    for (size_t i = 0; i < r->n_creators; i++) {
        br_creator *k = &r->creators[i];
        if (!k->affiliation || !*k->affiliation || is_code(a, k->affiliation)) continue;
        const char *code;
        int m = match(a, k->affiliation, &code);
        if (m < 0) return m;
        if (!m) continue;
        if (!(k->affiliation = br_record_str(r, code))) return BR_ENOMEM;
        it->parts |= BR_PART_CREATORS;
    }
    return 0;
}

static int is_unit_field(const br_mdv *v)
{
    return !strcmp(v->schema, "esploro") && !strcmp(v->element, "asset") && v->qualifier &&
           !strcmp(v->qualifier, "affiliation");
}

static int has_value(const br_record *r, const char *code)
{
    for (size_t i = 0; i < r->n_md; i++)
        if (is_unit_field(&r->md[i]) && !strcmp(r->md[i].value, code)) return 1;
    return 0;
}

/* The asset's academic units: a matched name becomes its code, or goes when the asset has
 * that code already; the values are added again in order so that places stay 0, 1, ... */
static int fix_units(sj_item *it, affil *a)
{
    br_record *r = it->after;
    br_mdv *keep = malloc((r->n_md ? r->n_md : 1) * sizeof *keep);
    if (!keep) return BR_ENOMEM;
    size_t n = 0;
    int rc = 0, changed = 0;
    for (size_t i = 0; i < r->n_md && !rc; i++) {
        br_mdv v = r->md[i];
        keep[n] = v;
        if (is_unit_field(&v) && *v.value && !is_code(a, v.value)) {
            const char *code;
            int m = match(a, v.value, &code);
            if (m < 0) {
                rc = m;
                break;
            }
            if (m) {
                changed = 1;
                if (has_value(r, code)) continue; /* a duplicate of a unit it has: dropped */
                keep[n].value = code;
                /* keeps the same field as the value before it: has_value sees it from now on */
                r->md[i].value = br_record_str(r, code);
                if (!r->md[i].value) rc = BR_ENOMEM;
            }
        }
        n++;
    }
    if (!rc && changed) {
        r->n_md = 0;
        for (size_t i = 0; i < n && !rc; i++)
            if (!br_record_add_md(r, keep[i].schema, keep[i].element, keep[i].qualifier,
                                  keep[i].language, keep[i].value))
                rc = BR_ENOMEM;
        it->parts |= BR_PART_METADATA;
    }
    free(keep);
    return rc;
}

/* "[prefix]unmatched (N): 'A', 'B'[ and K more]" into a->note (whole names only). */
static const char *unmatched_text(affil *a, const char *prefix)
{
    size_t total = a->n_unmatched + a->more, shown = 0;
    int n = snprintf(a->note, sizeof a->note, "%sunmatched (%zu): ", prefix, total);
    size_t len = n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < a->n_unmatched; i++) {
        if (len + strlen(a->unmatched[i]) + 40 >= sizeof a->note) break;
        len += (size_t)snprintf(a->note + len, sizeof a->note - len, "%s%s", i ? ", " : "",
                                a->unmatched[i]);
        shown++;
    }
    if (shown < total)
        snprintf(a->note + len, sizeof a->note - len, "%s%zu more", shown ? " and " : "",
                 total - shown);
    return a->note;
}

static int plan(sj_item *it, br_error *err)
{
    affil *a = it->state;
    for (size_t i = 0; i < a->n_unmatched; i++)
        free(a->unmatched[i]);
    a->n_unmatched = a->more = 0;
    br_strmap_dispose(&a->seen);
    int rc = fix_creators(it, a);
    if (!rc) rc = fix_units(it, a);
    if (rc) return br_error_set(err, rc, it->before->handle, 0, 0, "out of memory");
    if (!it->parts)
        it->skip = a->n_unmatched ? unmatched_text(a, "nothing to fix; ") : "nothing to fix";
    else if (a->n_unmatched)
        it->note = unmatched_text(a, "");
    return 0;
}

const sj_driver br_sj_affil = {.type = "fix-affiliations",
                               .outcome = BR_OUTCOME_UPDATED,
                               .prepare = prepare,
                               .release = release,
                               .plan = plan};
