/* Import Research Assets Relations and Handle Relations for Research Assets (seed 001): relations
 * between assets (bulkrepo/relation.h) written with their undo rows.
 *
 * Undo.  A relation is one row shared by two items, so a change writes an undo row for BOTH
 * items: each holds the item's relations as they were before the job first changed them (the
 * undo journal keeps the first "before" of a record) and its version after.  A revert gives
 * every such item back exactly those relations (br_sj_relations_put_back); the two undo rows of
 * a changed row agree on it, so the order in which the revert meets them does not matter.
 *
 * Import Research Assets Relations reads, per asset, the metadata fields that
 * data/relation_types.tsv lists for each type (dc.relation.*, dcterms.*, datacite.relation.*,
 * Esploro's PRTOF_DOI and PRTOF_ISBN / PRTOF_EISBN: the host an asset is part of), resolves each
 * value to a stored asset and creates the relations that are not there yet.  A value names its
 * target by handle (also hdl: and hdl.handle.net URLs), UUID, DOI (also doi: and doi.org URLs),
 * ISBN (10 or 13, hyphens or not), URI (a dc.identifier.uri), "origid:ID" or a bare origin id
 * (Esploro's ASSET_ORIGASSET_ID).  Text with spaces that is no ISBN (a journal's title in
 * dc.relation.ispartof) names no identifier and is passed over. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "bulkrepo/relation.h"
#include "core/core.h"
#include "jobs/setjob.h"
#include "model/relation_rows.h"
#include "model/snapshot.h"
#include "store/store_relation.h"
#include "store/store_setjob.h"

/* ---- relation rows with their undo rows ------------------------------------------------- */

/* The item's relations now, as an undo row's "before" (malloc'd); uuid gets its UUID. */
static int relations_snapshot(br_repo *repo, int64_t id, br_record *tmp, char uuid[64], char **snap,
                              br_error *err)
{
    int rc = br_item_relations(repo, id, tmp, err);
    if (!rc) br_strlcpy(uuid, tmp->uuid, 64);
    return rc ? rc : br_snapshot_write(tmp, BR_PART_RELATIONS, snap, err);
}

/* Adds (add) or removes one stored row; both items get an undo row of job_id (0: none) and,
 * with bump, a new version. */
static int change_row(br_repo *repo, int64_t job_id, int add, const br_rel_row *row, int bump,
                      br_record *tmp, br_error *err)
{
    int64_t ids[2] = {row->left, row->right};
    char *snap[2] = {NULL, NULL}, uuid[2][64];
    int rc = 0;
    for (int k = 0; k < 2 && job_id && !rc; k++)
        rc = relations_snapshot(repo, ids[k], tmp, uuid[k], &snap[k], err);
    if (!rc)
        rc = add ? br_relation_insert(repo, row->type, row->left, row->right, err)
                 : br_relation_delete(repo, row->type, row->left, row->right, NULL, err);
    for (int k = 0; k < 2 && !rc; k++) {
        if (bump && (rc = br_item_touch(repo, ids[k], err))) break;
        int64_t v;
        char after[32];
        if (!job_id || (rc = br_item_version(repo, ids[k], &v, err))) continue;
        snprintf(after, sizeof after, "%lld", (long long)v);
        br_undo_row u = {uuid[k], "updated", snap[k], after};
        rc = br_undo_put(repo, job_id, &u, err); /* keeps the first before of the job */
    }
    free(snap[0]);
    free(snap[1]);
    return rc;
}

static int same_rel(const br_relation *a, const br_relation *b)
{
    return !strcmp(a->type, b->type) && !strcmp(a->target, b->target) && !a->is_left == !b->is_left;
}

static int has_rel(const br_record *r, const br_relation *x)
{
    for (size_t i = 0; i < r->n_rels; i++)
        if (same_rel(&r->rels[i], x)) return 1;
    return 0;
}

/* The stored row of relation x of item id; 0, or BR_ENOTFOUND when the other item is gone. */
static int row_of(br_repo *repo, int64_t id, const br_relation *x, br_rel_row *row, br_error *err)
{
    int64_t other;
    int rc = br_item_find(repo, x->target, &other, err);
    if (rc) return rc;
    br_strlcpy(row->type, x->type, sizeof row->type);
    row->left = x->is_left ? id : other;
    row->right = x->is_left ? other : id;
    return 0;
}

int br_sj_relations_put_back(br_repo *repo, int64_t job_id, int64_t id, const br_record *snap,
                             br_error *err)
{
    br_record *cur = br_record_new(), *tmp = br_record_new();
    int rc = cur && tmp ? br_item_relations(repo, id, cur, err)
                        : br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    /* Rows it has now and did not have, then rows it had (the other item still there). */
    for (size_t i = 0; !rc && i < cur->n_rels; i++) {
        br_rel_row row;
        if (has_rel(snap, &cur->rels[i])) continue;
        if (!(rc = row_of(repo, id, &cur->rels[i], &row, err)))
            rc = change_row(repo, job_id, 0, &row, 0, tmp, err);
    }
    for (size_t i = 0; !rc && i < snap->n_rels; i++) {
        br_rel_row row;
        if (has_rel(cur, &snap->rels[i])) continue;
        rc = row_of(repo, id, &snap->rels[i], &row, err);
        if (rc == BR_ENOTFOUND) {
            rc = 0; /* the other item is gone: the relation with it too */
            continue;
        }
        if (!rc) rc = change_row(repo, job_id, 1, &row, 0, tmp, err);
    }
    br_record_free(cur);
    br_record_free(tmp);
    return rc;
}

/* ---- targets ------------------------------------------------------------------------------ */

typedef enum ref_kind { REF_ANY, REF_DOI, REF_ISBN, REF_TARGET /* handle, UUID or DOI */ } ref_kind;

static int ci_prefix(const char *s, const char *p)
{
    return !strncasecmp(s, p, strlen(p));
}

static int is_uuid(const char *s)
{
    if (strlen(s) != 36) return 0;
    for (int i = 0; i < 36; i++)
        if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-'
                                                      : !isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* The ISBN-13 (13 digits) of an ISBN-10 or -13 with its check digit right, else "" (0). */
static int isbn13(const char *s, char out[14])
{
    char d[14];
    size_t n = 0;
    for (; *s; s++) {
        if (*s == '-' || *s == ' ') continue;
        if (n >= 13) return 0;
        if (!isdigit((unsigned char)*s) && !(n == 9 && (*s == 'X' || *s == 'x') && !s[1])) return 0;
        d[n++] = (char)toupper((unsigned char)*s);
    }
    int sum = 0;
    if (n == 10) {
        for (int i = 0; i < 10; i++)
            sum += (10 - i) * (d[i] == 'X' ? 10 : d[i] - '0');
        if (sum % 11) return 0;
        memcpy(out, "978", 3);
        memcpy(out + 3, d, 9);
        sum = 0;
        for (int i = 0; i < 12; i++)
            sum += (i % 2 ? 3 : 1) * (out[i] - '0');
        out[12] = (char)('0' + (10 - sum % 10) % 10);
        out[13] = 0;
        return 1;
    }
    if (n != 13) return 0;
    for (int i = 0; i < 13; i++) {
        if (d[i] == 'X') return 0;
        sum += (i % 2 ? 3 : 1) * (d[i] - '0');
    }
    if (sum % 10) return 0;
    memcpy(out, d, 13);
    out[13] = 0;
    return 1;
}

/* The first of the candidate values that an item has as an identifier of type: 0 and *id,
 * BR_ENOTFOUND, BR_ESTORE. */
static int by_ident(br_repo *repo, const char *type, const char *const *cands, size_t n,
                    int64_t *id, br_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (!cands[i] || !*cands[i]) continue;
        int rc = br_item_find_by_identifier(repo, type, cands[i], id, NULL);
        if (rc != BR_ENOTFOUND)
            return rc ? br_error_set(err, rc, NULL, 0, 0, "identifier lookup failed") : 0;
    }
    return BR_ENOTFOUND;
}

static const char *const DOI_PREFIXES[] = {
    "doi:", "https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/",
    NULL};

/* A DOI as the store may hold it: bare, lower case, or as a doi.org URL. */
static int find_doi(br_repo *repo, const char *v, int64_t *id, br_error *err)
{
    const char *bare = v;
    for (size_t i = 0; DOI_PREFIXES[i]; i++)
        if (ci_prefix(v, DOI_PREFIXES[i])) bare = v + strlen(DOI_PREFIXES[i]);
    char lower[512], url[600], pre[520];
    size_t n = br_strlcpy(lower, bare, sizeof lower);
    if (n >= sizeof lower) return BR_ENOTFOUND;
    for (char *c = lower; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    snprintf(url, sizeof url, "https://doi.org/%s", bare);
    snprintf(pre, sizeof pre, "doi:%s", bare);
    const char *cands[] = {v, bare, lower, url, pre};
    return by_ident(repo, "doi", cands, BR_ARRAY_LEN(cands), id, err);
}

static int is_doi(const char *v)
{
    for (size_t i = 0; DOI_PREFIXES[i]; i++)
        if (ci_prefix(v, DOI_PREFIXES[i])) return 1;
    return !strncmp(v, "10.", 3) && strchr(v, '/');
}

/* Resolves a value naming an asset: 0 and *id; BR_ENOTFOUND when no asset has it; 1 when the
 * value names no identifier (free text); BR_ESTORE. */
static int resolve(br_repo *repo, const char *value, ref_kind kind, int64_t *id, br_error *err)
{
    char v[1024];
    br_strlcpy(v, value, sizeof v);
    br_trim(v);
    if (!*v) return 1;
    int rc;
    if (kind == REF_DOI) return find_doi(repo, v, id, err);
    if (kind == REF_ISBN) {
        char i13[14];
        const char *cands[] = {v, isbn13(v, i13) ? i13 : NULL};
        return by_ident(repo, "isbn", cands, BR_ARRAY_LEN(cands), id, err);
    }
    /* a handle (hdl:H, a hdl.handle.net URL, PREFIX/N) or a UUID */
    static const char *const HDL[] = {"hdl:", "https://hdl.handle.net/", "http://hdl.handle.net/"};
    for (size_t i = 0; i < BR_ARRAY_LEN(HDL); i++)
        if (ci_prefix(v, HDL[i])) {
            rc = br_item_find(repo, v + strlen(HDL[i]), id, err);
            return rc == BR_ENOTFOUND ? BR_ENOTFOUND : rc;
        }
    if (is_uuid(v)) return br_item_find(repo, v, id, err);
    if (strchr(v, '/') && !strpbrk(v, " \t") && strncmp(v, "10.", 3) && !strstr(v, "://")) {
        rc = br_item_find(repo, v, id, NULL);
        if (rc != BR_ENOTFOUND) return rc;
    }
    if (is_doi(v) || kind == REF_TARGET) return find_doi(repo, v, id, err);
    char i13[14];
    if (isbn13(v, i13)) {
        const char *cands[] = {v, i13};
        return by_ident(repo, "isbn", cands, BR_ARRAY_LEN(cands), id, err);
    }
    if (ci_prefix(v, "origid:")) {
        const char *cands[] = {br_trim(v + 7)};
        return by_ident(repo, "origid", cands, 1, id, err);
    }
    if (ci_prefix(v, "http://") || ci_prefix(v, "https://")) {
        const char *cands[] = {v};
        return by_ident(repo, "uri", cands, 1, id, err);
    }
    if (strpbrk(v, " \t")) return 1; /* a title, not an identifier */
    const char *cands[] = {v};
    return by_ident(repo, "origid", cands, 1, id, err);
}

/* ---- shared state ------------------------------------------------------------------------- */

/* A metadata field whose values name the other asset of "THIS code OTHER". */
typedef struct rel_field {
    char sc[64], el[64], q[64];
    ref_kind kind;
    char code[32];
} rel_field;

typedef struct pending {
    br_rel_row row;
    char code[32];   /* as the asset reads it */
    char target[64]; /* the other asset's handle */
} pending;

typedef struct rel_state {
    br_record *tmp; /* an item's relations, for the undo rows */
    /* import-asset-relations */
    rel_field *fields;
    size_t n_fields, cap_fields;
    pending *todo;
    size_t n_todo, cap_todo;
    int not_found, already, self;
    char missing[600]; /* the values no asset has, "; "-joined (cut) */
    /* handle-relations */
    int add;
    char code[32];
    int64_t target;
    char target_handle[64];
    char note[1200];
} rel_state;

static void rel_release(void *state)
{
    rel_state *s = state;
    if (!s) return;
    br_record_free(s->tmp);
    free(s->fields);
    free(s->todo);
    free(s);
}

static rel_state *rel_new(br_error *err)
{
    rel_state *s = calloc(1, sizeof *s);
    if (s && !(s->tmp = br_record_new())) {
        free(s);
        s = NULL;
    }
    if (!s) br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    return s;
}

static void append(char *buf, size_t size, const char *sep, const char *text)
{
    size_t n = strlen(buf);
    if (n + 1 >= size) return;
    snprintf(buf + n, size - n, "%s%s", n ? sep : "", text);
}

/* The relation rows' other asset as the member reads them: its handle. */
static void handle_of(br_repo *repo, int64_t id, char out[64])
{
    br_record *r = br_record_new();
    out[0] = 0;
    if (r && !br_item_relations(repo, id, r, NULL) && r->handle) br_strlcpy(out, r->handle, 64);
    br_record_free(r);
}

/* ---- Import Research Assets Relations ------------------------------------------------------ */

static int add_fields(rel_state *s, const char *list, const char *code)
{
    if (!strcmp(list, "-")) return 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        char f[200];
        if (n < sizeof f) {
            memcpy(f, p, n);
            f[n] = 0;
            char *kind = strchr(f, ':');
            if (kind) *kind++ = 0;
            if (br_grow((void **)&s->fields, &s->cap_fields, s->n_fields + 1, sizeof *s->fields))
                return BR_ENOMEM;
            rel_field *x = &s->fields[s->n_fields];
            memset(x, 0, sizeof *x);
            if (!br_field_parse(f, x->sc, x->el, x->q)) {
                x->kind = !kind ? REF_ANY : !strcmp(kind, "doi") ? REF_DOI : REF_ISBN;
                br_strlcpy(x->code, code, sizeof x->code);
                s->n_fields++;
            }
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

extern const char br_relation_types_tsv[];

static int import_prepare(br_repo *repo, json_t *params, void **state, br_error *err)
{
    rel_state *s = rel_new(err);
    if (!s) return BR_ENOMEM;
    /* The fields columns of the table (the public type list does not carry them). */
    const char *p = br_relation_types_tsv;
    char buf[2048], *c[6];
    int n, rc = 0;
    while (!rc && (n = br_tsv_next(&p, buf, sizeof buf, c, 6)) > 0)
        if (n == 6) rc = add_fields(s, c[4], c[0]) ? BR_ENOMEM : add_fields(s, c[5], c[1]);
    if (rc) {
        rel_release(s);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    *state = s;
    return 0;
}

static const rel_field *field_of(const rel_state *s, const br_mdv *v)
{
    for (size_t i = 0; i < s->n_fields; i++) {
        const rel_field *f = &s->fields[i];
        if (!strcmp(f->sc, v->schema) && !strcmp(f->el, v->element) &&
            !strcmp(f->q, v->qualifier ? v->qualifier : ""))
            return f;
    }
    return NULL;
}

/* One value naming a related asset: queued, or counted as found already, missing or self. */
static int import_value(sj_item *it, rel_state *s, const rel_field *f, const char *value,
                        br_error *err)
{
    int64_t other;
    int rc = resolve(it->repo, value, f->kind, &other, err);
    if (rc == 1) return 0;
    if (rc == BR_ENOTFOUND) {
        s->not_found++;
        char shown[300];
        snprintf(shown, sizeof shown, "%s %.250s", f->code, value);
        append(s->missing, sizeof s->missing, "; ", shown);
        return 0;
    }
    if (rc) return rc;
    if (other == it->before->id) {
        s->self++;
        return 0;
    }
    br_rel_row rows[2];
    if (br_relation_rows(f->code, it->before->id, other, rows)) return 0;
    for (size_t i = 0; i < s->n_todo; i++)
        if (!strcmp(s->todo[i].row.type, rows[0].type) && s->todo[i].row.left == rows[0].left &&
            s->todo[i].row.right == rows[0].right)
            return 0; /* named twice (a DOI and a handle of the same host) */
    if ((rc = br_relation_exists(it->repo, f->code, it->before->id, other, err)) < 0) return rc;
    if (rc) {
        s->already++;
        return 0;
    }
    if (br_grow((void **)&s->todo, &s->cap_todo, s->n_todo + 1, sizeof *s->todo))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    pending *x = &s->todo[s->n_todo++];
    x->row = rows[0];
    br_strlcpy(x->code, f->code, sizeof x->code);
    handle_of(it->repo, other, x->target);
    return 0;
}

/* The counts of the asset's line: "N relations created[, N already there][, N targets not
 * found][, N to itself refused]" then ": " and the details (relations_summary reads the
 * counts back). */
static void import_note(rel_state *s, int created)
{
    char *m = s->note;
    size_t z = sizeof s->note;
    snprintf(m, z, "%d relation%s created", created, created == 1 ? "" : "s");
    if (s->already) snprintf(m + strlen(m), z - strlen(m), ", %d already there", s->already);
    if (s->not_found)
        snprintf(m + strlen(m), z - strlen(m), ", %d target%s not found", s->not_found,
                 s->not_found == 1 ? "" : "s");
    if (s->self) snprintf(m + strlen(m), z - strlen(m), ", %d to itself refused", s->self);
    char details[1100] = "";
    for (size_t i = 0; created && i < s->n_todo; i++) {
        char one[128];
        snprintf(one, sizeof one, "%s %s", s->todo[i].code, s->todo[i].target);
        append(details, sizeof details, ", ", one);
    }
    if (s->not_found) {
        char nf[700];
        snprintf(nf, sizeof nf, "not found: %s", s->missing);
        append(details, sizeof details, "; ", nf);
    }
    if (details[0]) snprintf(m + strlen(m), z - strlen(m), ": %s", details);
}

static int import_plan(sj_item *it, br_error *err)
{
    rel_state *s = it->state;
    s->n_todo = 0;
    s->not_found = s->already = s->self = 0;
    s->missing[0] = s->note[0] = 0;
    int named = 0;
    for (size_t i = 0; i < it->before->n_md; i++) {
        const rel_field *f = field_of(s, &it->before->md[i]);
        if (!f) continue;
        named++;
        int rc = import_value(it, s, f, it->before->md[i].value, err);
        if (rc) return rc;
    }
    if (!named || (!s->n_todo && !s->not_found && !s->self && !s->already))
        it->skip = "its metadata names no related asset";
    else if (!s->n_todo && !s->not_found) {
        import_note(s, 0);
        it->skip = s->note;
    } else if (!s->n_todo && !it->job_id) { /* a dry run: apply would fail it */
        import_note(s, 0);
        it->skip = s->note;
    }
    return 0;
}

static int import_apply(sj_item *it, br_error *err)
{
    rel_state *s = it->state;
    if (!s->n_todo) { /* only targets that no asset has: the asset's relations failed */
        import_note(s, 0);
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "%s", s->note);
    }
    for (size_t i = 0; i < s->n_todo; i++) {
        int rc = change_row(it->repo, it->job_id, 1, &s->todo[i].row, 1, s->tmp, err);
        if (rc) return rc;
    }
    import_note(s, (int)s->n_todo);
    it->note = s->note;
    return 0;
}

/* The number before `word` in the counts part of a line ("2 relations created, 1 already
 * there: ..."): the text before the first ':' split at ", ". */
static long count_in(const char *msg, const char *word)
{
    if (!msg) return 0;
    size_t end = strcspn(msg, ":");
    long total = 0;
    for (const char *p = msg; p < msg + end;) {
        size_t n = strcspn(p, ",");
        if (p + n > msg + end) n = (size_t)(msg + end - p);
        char part[200];
        snprintf(part, sizeof part, "%.*s", (int)(n < sizeof part ? n : sizeof part - 1), p);
        char *e;
        long k = strtol(br_trim(part), &e, 10);
        if (e != part && strstr(e, word)) total += k;
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return total;
}

typedef struct tally {
    long changed, failed, skipped, created, already, not_found, self;
} tally;

static int tally_line(void *ctx, const br_job_record *r)
{
    tally *t = ctx;
    if (!strcmp(r->outcome, BR_OUTCOME_UPDATED))
        t->changed++;
    else if (!strcmp(r->outcome, BR_OUTCOME_FAILED))
        t->failed++;
    else
        t->skipped++;
    t->created += count_in(r->message, "created");
    t->already += count_in(r->message, "already there");
    t->not_found += count_in(r->message, "not found");
    t->self += count_in(r->message, "to itself");
    return 0;
}

static int import_summary(br_repo *repo, int64_t job_id, char *msg, size_t size, int *errors,
                          br_error *err)
{
    tally t = {0};
    int rc = br_job_records(repo, job_id, NULL, tally_line, &t, err);
    if (rc) return rc;
    snprintf(msg, size,
             "assets: %ld with relations created, %ld failed, %ld left as they were; relations: "
             "%ld created, %ld already there, %ld targets not found, %ld to itself refused",
             t.changed, t.failed, t.skipped, t.created, t.already, t.not_found, t.self);
    *errors = t.not_found > 0;
    return 0;
}

const sj_driver br_sj_relations_import = {"import-asset-relations",
                                          BR_OUTCOME_UPDATED,
                                          import_prepare,
                                          rel_release,
                                          import_plan,
                                          import_apply};
const sj_extra br_sj_relations_import_extra = {&br_sj_relations_import, NULL, 0, import_summary};

/* ---- Handle Relations for Research Assets ---------------------------------------------------- */

static int handle_prepare(br_repo *repo, json_t *params, void **state, br_error *err)
{
    char buf[64], tb[1100];
    const char *action = br_sj_param(params, "handle-relations", "action", buf, sizeof buf);
    int add = !action || strcmp(action, "remove");
    const char *code = br_sj_param(params, "handle-relations", "relation", buf, sizeof buf);
    if (!code || br_relation_type_find(code, NULL, NULL))
        return br_error_set(err, BR_EUSAGE, "relation", 0, 0,
                            "parameter 'relation': '%s' is not a relation type "
                            "(data/relation_types.tsv)",
                            code ? code : "");
    const char *target = br_sj_param(params, "handle-relations", "target", tb, sizeof tb);
    int64_t id = 0;
    int rc = target && *target ? resolve(repo, target, REF_TARGET, &id, err) : 1;
    if (rc == BR_ENOTFOUND || rc == 1)
        return br_error_set(err, BR_EUSAGE, "target", 0, 0,
                            "parameter 'target': no asset has the handle, UUID or DOI '%s'",
                            target ? target : "");
    if (rc) return rc;
    rel_state *s = rel_new(err);
    if (!s) return BR_ENOMEM;
    s->add = add;
    br_strlcpy(s->code, code, sizeof s->code);
    s->target = id;
    handle_of(repo, id, s->target_handle);
    *state = s;
    return 0;
}

static int handle_plan(sj_item *it, br_error *err)
{
    rel_state *s = it->state;
    if (it->before->id == s->target) {
        it->skip = "it is the target: an asset is not related to itself";
        return 0;
    }
    int rc = br_relation_exists(it->repo, s->code, it->before->id, s->target, err);
    if (rc < 0) return rc;
    if (s->add && rc) {
        snprintf(it->skip_buf, sizeof it->skip_buf, "already related: %s %s", s->code,
                 s->target_handle);
        it->skip = it->skip_buf;
    } else if (!s->add && !rc) {
        snprintf(it->skip_buf, sizeof it->skip_buf, "not related: %s %s", s->code,
                 s->target_handle);
        it->skip = it->skip_buf;
    }
    return 0;
}

static int handle_apply(sj_item *it, br_error *err)
{
    rel_state *s = it->state;
    br_rel_row rows[2];
    if (br_relation_rows(s->code, it->before->id, s->target, rows))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "'%s' is not a relation type", s->code);
    int rc = 0;
    if (s->add) {
        rc = change_row(it->repo, it->job_id, 1, &rows[0], 1, s->tmp, err);
    } else { /* every form it is stored in */
        for (int i = 0; i < 2 && !rc; i++) {
            int there =
                br_relation_row_exists(it->repo, rows[i].type, rows[i].left, rows[i].right, err);
            rc = there < 0 ? there
                 : there   ? change_row(it->repo, it->job_id, 0, &rows[i], 1, s->tmp, err)
                           : 0;
        }
    }
    snprintf(s->note, sizeof s->note, "%s: %s %s", s->add ? "added" : "removed", s->code,
             s->target_handle);
    it->note = s->note;
    return rc;
}

const sj_driver br_sj_relations_handle = {"handle-relations", BR_OUTCOME_UPDATED, handle_prepare,
                                          rel_release,        handle_plan,        handle_apply};
