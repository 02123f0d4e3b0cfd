/* Update Set of Research Assets (seed 001): one operation per job, from a table.  Each
 * operation changes the working copy (it->after) and says which parts it changed; the
 * framework writes them with their undo row.  Fields: academic unit =
 * esploro.asset.affiliation, access rights = esploro.asset.accessright, licence =
 * dc.rights.license, asset type = dc.type (codes of data/esploro_asset_types.tsv), portal and
 * profile visibility = esploro.asset.portalvisibility / profilevisibility ("true"/"false"),
 * a researcher's public profile hiding the asset = esploro.asset.hiddenprofile. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/core.h"
#include "formats/esploro_internal.h"
#include "jobs/setjob.h"
#include "model/snapshot.h"

typedef struct upd {
    const struct op *op;
    char sc[64], el[64], q[64]; /* the field the operation works on */
    const char *from, *to, *value;
    char from_b[4100], to_b[4100], value_b[4100];
    regex_t re;
    int use_re;
    int role; /* 0 both, 1 creators, 2 contributors */
    char researcher[256];
    int hide;
    const char *portal, *profile; /* "true", "false" or NULL */
} upd;

typedef int (*op_fn)(sj_item *it, upd *u);

typedef struct op {
    const char *name;
    op_fn fn;
    const char *field; /* the field it works on, NULL: the "field" parameter or none */
    const char *needs; /* parameters it reads that must be given: ",from,to," */
} op;

/* ---- metadata helpers --------------------------------------------------------------------- */

static int is_field(const br_mdv *v, const upd *u)
{
    return !strcmp(v->schema, u->sc) && !strcmp(v->element, u->el) &&
           !strcmp(v->qualifier ? v->qualifier : "", u->q);
}

/* Drops the field's values for which keep() is 0 (all when keep is NULL); the count dropped. */
static size_t md_drop(br_record *r, const upd *u, const char *only)
{
    size_t w = 0, dropped = 0;
    for (size_t i = 0; i < r->n_md; i++) {
        const br_mdv *v = &r->md[i];
        if (is_field(v, u) && (!only || !strcmp(v->value, only)))
            dropped++;
        else
            r->md[w++] = *v;
    }
    r->n_md = w;
    return dropped;
}

static int md_has(const br_record *r, const upd *u, const char *value)
{
    for (size_t i = 0; i < r->n_md; i++)
        if (is_field(&r->md[i], u) && !strcmp(r->md[i].value, value)) return 1;
    return 0;
}

static int md_add(br_record *r, const upd *u, const char *value)
{
    return br_record_add_md(r, u->sc, u->el, u->q[0] ? u->q : NULL, NULL, value) ? 0 : BR_ENOMEM;
}

/* Values keep their order; place is recounted per field after drops. */
static void renumber(br_record *r)
{
    for (size_t i = 0; i < r->n_md; i++) {
        int place = 0;
        for (size_t k = 0; k < i; k++)
            if (!strcmp(r->md[k].schema, r->md[i].schema) &&
                !strcmp(r->md[k].element, r->md[i].element) &&
                !strcmp(r->md[k].qualifier ? r->md[k].qualifier : "",
                        r->md[i].qualifier ? r->md[i].qualifier : ""))
                place++;
        r->md[i].place = place;
    }
}

/* Sets the field to one value (NULL: removes it); 1 when that changed anything. */
static int md_set(sj_item *it, upd *u, const char *value)
{
    if (value && md_has(it->after, u, value)) {
        size_t n = 0;
        for (size_t i = 0; i < it->after->n_md; i++)
            n += is_field(&it->after->md[i], u);
        if (n == 1) return 0;
    }
    size_t dropped = md_drop(it->after, u, NULL);
    if (!value) return dropped ? (it->parts |= BR_PART_METADATA, 1) : 0;
    if (md_add(it->after, u, value)) return BR_ENOMEM;
    it->parts |= BR_PART_METADATA;
    return 1;
}

/* ---- operations --------------------------------------------------------------------------- */

static int role_ok(const upd *u, const br_creator *k)
{
    return u->role == 0 || (u->role == 1) == (k->role == BR_CREATOR);
}

static int op_creator_affiliation(sj_item *it, upd *u)
{
    for (size_t i = 0; i < it->after->n_creators; i++) {
        br_creator *k = &it->after->creators[i];
        if (role_ok(u, k) && k->affiliation && !strcmp(k->affiliation, u->from)) {
            k->affiliation = br_record_str(it->after, u->to);
            it->parts |= BR_PART_CREATORS;
        }
    }
    if (!it->parts) it->skip = "no creator or contributor has that affiliation";
    return 0;
}

static int names_researcher(const br_record *r, const char *who)
{
    for (size_t i = 0; i < r->n_creators; i++) {
        const br_creator *k = &r->creators[i];
        if ((k->orcid && !strcmp(k->orcid, who)) ||
            (k->researcher_id && !strcmp(k->researcher_id, who)))
            return 1;
    }
    return 0;
}

static int op_profile_display(sj_item *it, upd *u)
{
    if (!names_researcher(it->before, u->researcher)) {
        it->skip = "the researcher is not a creator or contributor of this asset";
        return 0;
    }
    int has = md_has(it->after, u, u->researcher);
    if (u->hide && !has) {
        if (md_add(it->after, u, u->researcher)) return BR_ENOMEM;
        it->parts |= BR_PART_METADATA;
    } else if (!u->hide && has) {
        md_drop(it->after, u, u->researcher);
        it->parts |= BR_PART_METADATA;
    }
    return 0;
}

static int op_add(sj_item *it, upd *u)
{
    const char *v = u->value ? u->value : u->to;
    if (md_has(it->after, u, v)) return 0;
    if (md_add(it->after, u, v)) return BR_ENOMEM;
    it->parts |= BR_PART_METADATA;
    return 0;
}

/* Every value equal to from becomes to, in its place; a field never holds to twice (an asset
 * listing a unit twice means nothing): when to is there already, from just goes. */
static int op_replace_literal(sj_item *it, upd *u)
{
    if (!strcmp(u->from, u->to)) return 0;
    int has_to = md_has(it->after, u, u->to);
    size_t w = 0;
    for (size_t i = 0; i < it->after->n_md; i++) {
        br_mdv v = it->after->md[i];
        if (is_field(&v, u) && !strcmp(v.value, u->from)) {
            it->parts |= BR_PART_METADATA;
            if (has_to) continue;
            if (!(v.value = br_record_str(it->after, u->to))) return BR_ENOMEM;
            has_to = 1;
        }
        it->after->md[w++] = v;
    }
    it->after->n_md = w;
    return 0;
}

/* Every match of the expression in the value replaced by u->to; NULL when none matched. */
static char *regex_replace(upd *u, const char *s, int *oom)
{
    size_t cap = strlen(s) + 1, len = 0;
    char *out = NULL;
    const char *p = s;
    regmatch_t m;
    int matched = 0;
    while (*p && !regexec(&u->re, p, 1, &m, p == s ? 0 : REG_NOTBOL)) {
        size_t need = len + (size_t)m.rm_so + strlen(u->to) + strlen(p) + 1;
        if (need > cap || !out) {
            cap = need * 2;
            char *n = realloc(out, cap);
            if (!n) {
                free(out);
                *oom = 1;
                return NULL;
            }
            out = n;
        }
        memcpy(out + len, p, (size_t)m.rm_so);
        len += (size_t)m.rm_so;
        memcpy(out + len, u->to, strlen(u->to));
        len += strlen(u->to);
        matched = 1;
        if (m.rm_eo == m.rm_so) { /* an empty match: keep one character and go on */
            out[len++] = *(p + m.rm_eo);
            p += m.rm_eo + 1;
        } else {
            p += m.rm_eo;
        }
    }
    if (!matched) return NULL;
    size_t rest = strlen(p);
    if (len + rest + 1 > cap) {
        char *n = realloc(out, len + rest + 1);
        if (!n) {
            free(out);
            *oom = 1;
            return NULL;
        }
        out = n;
    }
    memcpy(out + len, p, rest + 1);
    return out;
}

static int op_replace(sj_item *it, upd *u)
{
    if (!u->use_re) return op_replace_literal(it, u);
    for (size_t i = 0; i < it->after->n_md; i++) {
        br_mdv *v = &it->after->md[i];
        if (!is_field(v, u)) continue;
        int oom = 0;
        char *n = regex_replace(u, v->value, &oom);
        if (oom) return BR_ENOMEM;
        if (!n) continue;
        if (strcmp(n, v->value)) {
            v->value = br_record_str(it->after, n);
            it->parts |= BR_PART_METADATA;
        }
        free(n);
        if (!v->value) return BR_ENOMEM;
    }
    return 0;
}

static int op_remove(sj_item *it, upd *u)
{
    const char *only = u->value && *u->value ? u->value : u->from;
    if (md_drop(it->after, u, only && *only ? only : NULL)) it->parts |= BR_PART_METADATA;
    return 0;
}

static int op_set(sj_item *it, upd *u)
{
    int r = md_set(it, u, u->to);
    return r < 0 ? r : 0;
}

static int op_unset(sj_item *it, upd *u)
{
    int r = md_set(it, u, NULL);
    return r < 0 ? r : 0;
}

static int op_type_replace(sj_item *it, upd *u)
{
    for (size_t i = 0; i < it->after->n_md; i++) {
        br_mdv *v = &it->after->md[i];
        if (is_field(v, u) && !strcasecmp(v->value, u->from)) {
            v->value = br_record_str(it->after, u->to);
            it->parts |= BR_PART_METADATA;
        }
    }
    return 0;
}

static int op_visibility(sj_item *it, upd *u)
{
    static const char *const F[] = {"portalvisibility", "profilevisibility"};
    const char *want[] = {u->portal, u->profile};
    for (size_t k = 0; k < 2; k++) {
        if (!want[k]) continue;
        upd f = *u;
        br_strlcpy(f.sc, "esploro", sizeof f.sc);
        br_strlcpy(f.el, "asset", sizeof f.el);
        br_strlcpy(f.q, F[k], sizeof f.q);
        int r = md_set(it, &f, want[k]);
        if (r < 0) return r;
    }
    return 0;
}

static int affiliated(br_repo *repo, const br_creator *k)
{
    return k->affiliation && *k->affiliation && br_orgunit_exists(repo, k->affiliation) == 1;
}

static int op_remove_nonaffiliated(sj_item *it, upd *u)
{
    br_record *r = it->after;
    size_t w = 0;
    upd author = *u;
    br_strlcpy(author.sc, "dc", sizeof author.sc);
    br_strlcpy(author.el, "contributor", sizeof author.el);
    br_strlcpy(author.q, "author", sizeof author.q);
    for (size_t i = 0; i < r->n_creators; i++) {
        br_creator *k = &r->creators[i];
        if (role_ok(u, k) && !k->is_organization && !affiliated(it->repo, k)) {
            /* Its dc.contributor.author value (derived from it at import) goes with it. */
            char name[512];
            br_creator_name(k, name, sizeof name);
            if (k->role == BR_CREATOR && md_drop(r, &author, name)) it->parts |= BR_PART_METADATA;
            it->parts |= BR_PART_CREATORS;
            continue;
        }
        r->creators[w++] = *k;
    }
    r->n_creators = w;
    int place[2] = {0, 0};
    for (size_t i = 0; i < r->n_creators; i++)
        r->creators[i].place = place[r->creators[i].role == BR_CONTRIBUTOR]++;
    return 0;
}

static int op_remove_links(sj_item *it, upd *u)
{
    if (it->after->n_links) it->parts |= BR_PART_LINKS;
    it->after->n_links = 0;
    return 0;
}

static const op OPS[] = {
    {"creator-affiliation-replace", op_creator_affiliation, NULL, ",from,to,"},
    {"profile-display", op_profile_display, "esploro.asset.hiddenprofile", ",researcher,"},
    {"unit-add", op_add, "esploro.asset.affiliation", ",to,"},
    {"unit-replace", op_replace_literal, "esploro.asset.affiliation", ",from,to,"},
    {"unit-remove", op_remove, "esploro.asset.affiliation", ",from,"},
    {"access-replace", op_set, "esploro.asset.accessright", ",to,"},
    {"access-remove", op_unset, "esploro.asset.accessright", ","},
    {"license-replace", op_set, "dc.rights.license", ",to,"},
    {"license-remove", op_unset, "dc.rights.license", ","},
    {"type-replace", op_type_replace, "dc.type", ",from,to,"},
    {"visibility", op_visibility, NULL, ","},
    {"remove-nonaffiliated", op_remove_nonaffiliated, NULL, ","},
    {"remove-links", op_remove_links, NULL, ","},
    {"field-add", op_add, NULL, ",field,value,"},
    {"field-replace", op_replace, NULL, ",field,from,to,"},
    {"field-remove", op_remove, NULL, ",field,"},
};

/* ---- prepare ------------------------------------------------------------------------------ */

static const char *text(json_t *p, const char *name, char *buf, size_t size)
{
    return br_sj_param(p, "update-set", name, buf, size);
}

/* An Esploro asset type code in its canonical case, or a usage error naming the parameter. */
static int asset_type(const char *name, const char *v, char *out, size_t size, br_error *err)
{
    br_ecsv_xwalk *x = NULL;
    int rc = br_ecsv_xwalk_new(&x, err);
    if (rc) return rc;
    const char *c = br_ecsv_restype_canon(x, v, strlen(v));
    if (c)
        br_strlcpy(out, c, size);
    else {
        const char *s = br_ecsv_restype_suggest(x, v);
        rc = br_error_set(err, BR_EUSAGE, name, 0, 0,
                          "parameter '%s': '%s' is not an Esploro asset type%s%s%s", name, v,
                          s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
    }
    br_ecsv_xwalk_free(x);
    return rc;
}

static int needs(const op *o, json_t *p, br_error *err)
{
    static const char *const ALL[] = {"field", "from", "to", "value", "researcher"};
    for (size_t i = 0; i < BR_ARRAY_LEN(ALL); i++) {
        char key[32], buf[64];
        snprintf(key, sizeof key, ",%s,", ALL[i]);
        if (!strstr(o->needs, key)) continue;
        const char *v = text(p, ALL[i], buf, sizeof buf);
        if (!v || !*v)
            return br_error_set(err, BR_EUSAGE, ALL[i], 0, 0,
                                "operation %s needs the parameter '%s'", o->name, ALL[i]);
    }
    return 0;
}

static int prepare(br_repo *repo, json_t *p, void **state, br_error *err)
{
    upd *u = calloc(1, sizeof *u);
    if (!u) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    char buf[64];
    const char *name = text(p, "operation", buf, sizeof buf);
    int rc = 0;
    for (size_t i = 0; name && i < BR_ARRAY_LEN(OPS); i++)
        if (!strcmp(OPS[i].name, name)) u->op = &OPS[i];
    if (!u->op)
        rc = br_error_set(err, BR_EUSAGE, "operation", 0, 0, "update-set needs an operation");
    if (!rc) rc = needs(u->op, p, err);
    if (rc) goto done;
    u->from = text(p, "from", u->from_b, sizeof u->from_b);
    u->to = text(p, "to", u->to_b, sizeof u->to_b);
    u->value = text(p, "value", u->value_b, sizeof u->value_b);
    char fb[200];
    const char *field = u->op->field ? u->op->field : text(p, "field", fb, sizeof fb);
    if (field && br_field_parse(field, u->sc, u->el, u->q))
        rc = br_error_set(err, BR_EUSAGE, "field", 0, 0, "'%s' is not a field name", field);
    const char *role = text(p, "role", buf, sizeof buf);
    u->role = role && !strcmp(role, "creators") ? 1 : role && !strcmp(role, "contributors") ? 2 : 0;
    char rb[256];
    const char *who = text(p, "researcher", rb, sizeof rb);
    br_strlcpy(u->researcher, who ? who : "", sizeof u->researcher);
    u->hide = (who = text(p, "display", rb, sizeof rb)) && !strcmp(who, "hide");
    static const char *const VIS[] = {"portal", "profile"};
    const char **dst[] = {&u->portal, &u->profile};
    for (size_t k = 0; k < 2; k++) {
        const char *v = text(p, VIS[k], rb, sizeof rb);
        *dst[k] = v && !strcmp(v, "visible") ? "true" : v && !strcmp(v, "hidden") ? "false" : NULL;
    }
    if (!rc && !strcmp(u->op->name, "visibility") && !u->portal && !u->profile)
        rc = br_error_set(
            err, BR_EUSAGE, "portal", 0, 0,
            "operation visibility needs 'portal' or 'profile' to be visible or hidden");
    if (!rc && !strncmp(u->op->name, "unit-", 5) && u->to && *u->to &&
        br_orgunit_exists(repo, u->to) != 1)
        rc = br_error_set(err, BR_EUSAGE, "to", 0, 0,
                          "'%s' is not an organisational unit code (bulkrepo orgunit list)", u->to);
    if (!rc && !strcmp(u->op->name, "creator-affiliation-replace") &&
        br_orgunit_exists(repo, u->to) != 1)
        rc = br_error_set(err, BR_EUSAGE, "to", 0, 0,
                          "'%s' is not an organisational unit code (bulkrepo orgunit list)", u->to);
    if (!rc && !strcmp(u->op->name, "type-replace") &&
        !(rc = asset_type("from", u->from, u->from_b, sizeof u->from_b, err)))
        rc = asset_type("to", u->to, u->to_b, sizeof u->to_b, err);
    if (!rc && !strcmp(u->op->name, "type-replace")) {
        u->from = u->from_b;
        u->to = u->to_b;
    }
    /* data/job_params.tsv says regex applies to field-replace only (br_sj_params_check). */
    if (!rc && br_sj_param_bool(p, "update-set", "regex") &&
        !(rc = br_sj_regex_check(u->from, &u->re, err)))
        u->use_re = 1;
done:
    if (rc) {
        free(u);
        return rc;
    }
    *state = u;
    return 0;
}

static void release(void *state)
{
    upd *u = state;
    if (u && u->use_re) regfree(&u->re);
    free(u);
}

static int plan(sj_item *it, br_error *err)
{
    upd *u = it->state;
    int rc = u->op->fn(it, u);
    if (rc) return br_error_set(err, rc, it->before->handle, 0, 0, "out of memory");
    if (it->parts & BR_PART_METADATA) renumber(it->after);
    return 0;
}

const sj_driver br_sj_update = {"update-set", BR_OUTCOME_UPDATED, prepare, release, plan, NULL};
