/* The SAF import pipeline:
 *
 *   package -> records -> validate all (registry, collections, handles,
 *   relationship targets) -> write in journaled batches -> relationships -> report
 *
 * Crash safety (issue 2, and DSpace issue #8978 for what goes wrong otherwise):
 * each batch is one transaction holding the items and their journal lines, and
 * it is committed only after the batch's files are flushed.  The mapfile is
 * written after each commit and rewritten from the journal at the end, so it
 * never names an item that is not stored; --resume trusts the journal, not the
 * mapfile. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "bulkrepo/import.h"
#include "bulkrepo/job.h"
#include "bulkrepo/saf.h"
#include "core/core.h"
#include "jobs/install.h"

#define DEFAULT_BATCH 500

/* A relationship to create after all items exist (DSpace's second pass). */
typedef struct rel_spec {
    size_t item;  /* index of the left item in the package */
    char *type;
    char *target; /* as written */
    unsigned line;
    char *source;
} rel_spec;

typedef struct import_ctx {
    br_repo *repo;
    const br_import_options *opt;
    br_import_result *res;
    br_saf_package *pkg;
    br_record *rec;
    size_t n;
    unsigned char *state;  /* per item: see ST_* */
    char **handles;        /* per item: handle once stored */
    char **messages;       /* per item: first error */
    br_strmap batch_handles; /* handle file values -> item index */
    br_strmap value_refs;    /* "schema.element.qualifier:value" -> item index + 1, or -1 ambiguous */
    rel_spec *rels;
    size_t n_rels, cap_rels;
    br_diag_sink sink; /* wraps opt->diags: remembers each item's first error */
    long current;      /* item being validated, -1 none */
    int64_t job_id;
    char scratch[4096];
    char mapfile[PATH_MAX];
    const char *root;
} import_ctx;

enum { ST_TODO = 0, ST_INVALID = 1, ST_DONE = 2, ST_SKIPPED = 3 };

static void on_diag(void *p, const br_diag *d)
{
    import_ctx *c = p;
    if (d->severity == BR_SEV_ERROR && c->current >= 0 && !c->messages[c->current]) {
        char buf[2048];
        br_diag_format(d, buf, sizeof buf);
        c->messages[c->current] = strdup(buf);
    }
    if (c->opt->diags) br_diag_emit(c->opt->diags, d);
}

static const char *folder(import_ctx *c, size_t i)
{
    return br_saf_folder(c->pkg, i);
}

static int progress(import_ctx *c, const char *phase, size_t done, size_t total)
{
    return c->opt->progress ? c->opt->progress(c->opt->progress_ctx, phase, done, total) : 0;
}

/* ---- parameters --------------------------------------------------------------------- */

static char *params_json(const br_import_options *o, const char *mapfile)
{
    static const char *modes[] = {"add", "replace", "delete"};
    json_t *p = json_object(), *cols = json_array();
    json_object_set_new(p, "mode", json_string(modes[o->mode]));
    json_object_set_new(p, "source", json_string(o->source ? o->source : ""));
    if (o->zip) json_object_set_new(p, "zip", json_string(o->zip));
    json_object_set_new(p, "mapfile", json_string(mapfile));
    for (size_t i = 0; i < o->n_collections; i++) json_array_append_new(cols, json_string(o->collections[i]));
    json_object_set_new(p, "collections", cols);
    json_object_set_new(p, "validate_only", json_boolean(o->validate_only));
    json_object_set_new(p, "resume", json_boolean(o->resume));
    json_object_set_new(p, "workflow", json_boolean(o->workflow));
    json_object_set_new(p, "template", json_boolean(o->apply_template));
    json_object_set_new(p, "skip_invalid", json_boolean(o->skip_invalid));
    json_object_set_new(p, "metadata_only", json_boolean(o->metadata_only));
    char *s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    return s;
}

/* ---- mapfile -------------------------------------------------------------------------- */

typedef int (*map_fn)(void *ctx, const char *folder, const char *handle, unsigned line);

/* DSpace's format: "<folder> <handle-or-uuid>" per line.  Blank lines are
 * skipped (DSpace rejects them); any other line without two fields is an error. */
static int read_mapfile(const char *path, map_fn fn, void *ctx, br_diag_sink *diags, br_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return br_error_set(err, BR_ENOTFOUND, path, 0, 0, "cannot open the mapfile: %s", strerror(errno));
    char line[8192];
    unsigned n = 0;
    int rc = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        br_trim(line);
        if (!*line) continue;
        /* Split at the last blank: a handle has none, a folder name may. */
        char *sp = line + strlen(line);
        while (sp > line && sp[-1] != ' ' && sp[-1] != '\t') sp--;
        if (sp == line) {
            br_diag_emitf(diags, BR_SEV_ERROR, NULL, path, n, 0, "mapfile.line",
                          "each line is '<folder> <handle>'", "bad mapfile line: '%s'", line);
            bad++;
            continue;
        }
        char *end = sp;
        while (end > line && (end[-1] == ' ' || end[-1] == '\t')) end--;
        *end = 0;
        if ((rc = fn(ctx, line, sp, n))) break;
    }
    fclose(f);
    if (!rc && bad) rc = br_error_set(err, BR_EINVAL, path, 0, 0, "the mapfile has %d bad lines", bad);
    return rc;
}

/* ---- validation -------------------------------------------------------------------------- */

static int add_rel(import_ctx *c, size_t item, const br_relation *r)
{
    if (br_grow((void **)&c->rels, &c->cap_rels, c->n_rels + 1, sizeof *c->rels)) return BR_ENOMEM;
    rel_spec *s = &c->rels[c->n_rels];
    s->item = item;
    s->type = strdup(r->type);
    s->target = strdup(r->target);
    s->source = strdup(r->origin.source ? r->origin.source : "");
    s->line = r->origin.line;
    if (!s->type || !s->target || !s->source) return BR_ENOMEM;
    c->n_rels++;
    return 0;
}

static void item_error(import_ctx *c, size_t i, const char *source, unsigned line, unsigned col,
                       const char *rule, const char *hint, const char *msg)
{
    br_diag_emitf(&c->sink, BR_SEV_ERROR, folder(c, i), source, line, col, rule, hint, "%s", msg);
}

/* Repository checks for one well-formed item: the registry, its collections,
 * its handle, its bitstreams' groups. */
static void check_item(import_ctx *c, size_t i)
{
    br_record *rec = c->rec;
    char msg[1024], hint[300], src[600];
    for (size_t k = 0; k < rec->n_md; k++) {
        const br_mdv *v = &rec->md[k];
        if (br_registry_has(c->repo, v->schema, v->element, v->qualifier)) continue;
        if (!br_registry_has_schema(c->repo, v->schema)) {
            snprintf(msg, sizeof msg, "schema '%s' is not in the metadata registry", v->schema);
            item_error(c, i, v->origin.source, v->origin.line, v->origin.column, "registry.schema",
                       "add it with `bulkrepo registry add`", msg);
            continue;
        }
        char sugg[200];
        hint[0] = 0;
        if (!br_registry_suggest(c->repo, v->schema, v->element, v->qualifier, sugg, sizeof sugg))
            snprintf(hint, sizeof hint, "did you mean %s?", sugg);
        snprintf(msg, sizeof msg, "%s.%s%s%s is not in the metadata registry", v->schema, v->element,
                 v->qualifier ? "." : "", v->qualifier ? v->qualifier : "");
        item_error(c, i, v->origin.source, v->origin.line, v->origin.column, "registry.field",
                   hint[0] ? hint : "register it with `bulkrepo registry add`", msg);
    }
    snprintf(src, sizeof src, "%s/collections", folder(c, i));
    if (c->opt->n_collections == 0) {
        if (rec->n_collections == 0)
            item_error(c, i, folder(c, i), 0, 0, "collection.none", "give -c HANDLE or a collections file",
                       "the item names no collection (no -c option and no collections file)");
        for (size_t k = 0; k < rec->n_collections; k++) {
            int64_t cid;
            int rc = br_collection_resolve(c->repo, rec->collections[k], &cid, NULL);
            if (rc) {
                snprintf(msg, sizeof msg, "%s is %s", rec->collections[k],
                         rc == BR_EINVAL ? "a community, not a collection" : "not a collection of this repository");
                item_error(c, i, src, (unsigned)k + 1, 0, "collection.unknown", "see `bulkrepo collection list`", msg);
            }
        }
    }
    if (rec->handle && c->opt->mode == BR_IMPORT_ADD) {
        snprintf(src, sizeof src, "%s/handle", folder(c, i));
        int64_t other;
        if (br_handle_exists(c->repo, rec->handle) == 1) {
            snprintf(msg, sizeof msg, "handle %s is already in use in this repository", rec->handle);
            item_error(c, i, src, 1, 0, "handle.in-use", "remove the handle file to get a new handle", msg);
        } else if (br_strmap_get(&c->batch_handles, rec->handle, &other)) {
            snprintf(msg, sizeof msg, "handle %s is also claimed by %s", rec->handle, folder(c, (size_t)other));
            item_error(c, i, src, 1, 0, "handle.duplicate", NULL, msg);
        } else {
            br_strmap_put(&c->batch_handles, rec->handle, (int64_t)i);
        }
    }
    for (size_t k = 0; k < rec->n_bs; k++) {
        const br_bitstream *b = &rec->bs[k];
        const char *groups[2] = {b->read_group, b->write_group};
        for (int g = 0; g < 2; g++)
            if (groups[g] && br_group_exists(c->repo, groups[g]) != 1)
                br_diag_emitf(&c->sink, BR_SEV_WARNING, folder(c, i), b->origin.source, b->origin.line, 0,
                              "group.unknown", "create it with `bulkrepo group add`",
                              "group '%s' does not exist; the permission is kept by name", groups[g]);
    }
}

static int is_value_ref(const char *t)
{
    /* "schema.element[.qualifier]:value"; folderName:/rowName: are handled first. */
    const char *colon = strchr(t, ':');
    return colon && memchr(t, '.', (size_t)(colon - t)) != NULL;
}

/* Resolves a relationship target: sets *item (package index) or *id (stored item). */
static int resolve_target(import_ctx *c, const rel_spec *r, long *item, int64_t *id, char *why, size_t size)
{
    *item = -1;
    *id = 0;
    const char *t = r->target;
    if (!strncmp(t, "folderName:", 11)) {
        long k = br_saf_find(c->pkg, t + 11);
        if (k < 0) {
            snprintf(why, size, "no item folder '%s' in this package", t + 11);
            return BR_ENOTFOUND;
        }
        *item = k;
        return 0;
    }
    if (is_value_ref(t)) {
        int64_t v;
        if (br_strmap_get(&c->value_refs, t, &v) && v != 0) {
            if (v < 0) {
                snprintf(why, size, "'%s' matches more than one item", t);
                return BR_EINVAL;
            }
            *item = (long)v - 1;
        }
        char field[256], s[64], e[64], q[64];
        const char *colon = strchr(t, ':');
        snprintf(field, sizeof field, "%.*s", (int)(colon - t), t);
        if (br_field_parse(field, s, e, q)) {
            snprintf(why, size, "bad metadata field in reference '%s' (expected schema.element[.qualifier])", t);
            return BR_EINVAL;
        }
        int64_t ids[2];
        size_t n = 0;
        if (br_item_find_by_value(c->repo, s, e, *q ? q : NULL, colon + 1, ids, 2, &n, NULL)) n = 0;
        if (n + (*item >= 0) > 1) {
            snprintf(why, size, "'%s' matches more than one item", t);
            return BR_EINVAL;
        }
        if (n == 1) *id = ids[0];
        if (*item < 0 && !*id) {
            snprintf(why, size, "no item has %s = '%s'", field, colon + 1);
            return BR_ENOTFOUND;
        }
        return 0;
    }
    int64_t k;
    if (br_strmap_get(&c->batch_handles, t, &k)) {
        *item = (long)k;
        return 0;
    }
    if (br_item_find(c->repo, t, id, NULL)) {
        snprintf(why, size, "no item with handle or UUID '%s'", t);
        return BR_ENOTFOUND;
    }
    return 0;
}

/* Value references need the package's own values: one extra read of the
 * items, only when some relationship uses "schema.element:value". */
static int index_value_refs(import_ctx *c, br_error *err)
{
    size_t want = 0;
    for (size_t k = 0; k < c->n_rels; k++)
        if (is_value_ref(c->rels[k].target) && strncmp(c->rels[k].target, "folderName:", 11)) {
            br_strmap_put(&c->value_refs, c->rels[k].target, 0);
            want++;
        }
    if (!want) return 0;
    br_saf_read_options ro = {1, &c->opt->limits};
    for (size_t i = 0; i < c->n; i++) {
        if (c->state[i] == ST_INVALID) continue;
        if (br_saf_read_item(c->pkg, i, &ro, c->rec, NULL, err) < 0 && err && err->code != BR_EINVAL) continue;
        for (size_t k = 0; k < c->rec->n_md; k++) {
            const br_mdv *v = &c->rec->md[k];
            char key[4096];
            snprintf(key, sizeof key, "%s.%s%s%s:%s", v->schema, v->element, v->qualifier ? "." : "",
                     v->qualifier ? v->qualifier : "", v->value);
            int64_t cur;
            if (!br_strmap_get(&c->value_refs, key, &cur)) continue;
            br_strmap_put(&c->value_refs, key, cur == 0 ? (int64_t)i + 1 : -1);
        }
    }
    br_error_clear(err);
    return 0;
}

static void check_relations(import_ctx *c)
{
    char why[1024];
    for (size_t k = 0; k < c->n_rels; k++) {
        rel_spec *r = &c->rels[k];
        if (c->state[r->item] == ST_INVALID) continue;
        long item;
        int64_t id;
        c->current = (long)r->item;
        if (resolve_target(c, r, &item, &id, why, sizeof why))
            item_error(c, r->item, r->source, r->line, 0, "relationship.target", NULL, why);
        c->current = -1;
    }
    /* Every bad target is reported first; then its item is invalid, so that
     * the cascade below sees it. */
    for (size_t i = 0; i < c->n; i++)
        if (c->state[i] == ST_TODO && c->messages[i]) c->state[i] = ST_INVALID;
    /* A relationship to an item that will not be imported cannot be made:
     * with --skip-invalid that invalidates the referring item too. */
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t k = 0; k < c->n_rels; k++) {
            rel_spec *r = &c->rels[k];
            long item;
            int64_t id;
            if (c->state[r->item] == ST_INVALID) continue;
            if (resolve_target(c, r, &item, &id, why, sizeof why) || item < 0 || c->state[item] != ST_INVALID)
                continue;
            c->current = (long)r->item;
            snprintf(why, sizeof why, "relationship target %s is invalid and will not be imported", r->target);
            item_error(c, r->item, r->source, r->line, 0, "relationship.target-invalid", NULL, why);
            c->current = -1;
            c->state[r->item] = ST_INVALID;
            changed = 1;
        }
    }
}

static int validate_all(import_ctx *c, br_error *err)
{
    br_saf_read_options ro = {c->opt->metadata_only, &c->opt->limits};
    for (size_t i = 0; i < c->n; i++) {
        if (c->state[i] == ST_SKIPPED) continue;
        c->current = (long)i;
        size_t before = c->sink.errors;
        int rc = br_saf_read_item(c->pkg, i, &ro, c->rec, &c->sink, err);
        if (rc && rc != BR_EINVAL) return rc;
        br_error_clear(err);
        check_item(c, i);
        for (size_t k = 0; k < c->rec->n_rels; k++)
            if (add_rel(c, i, &c->rec->rels[k])) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        if (c->sink.errors > before) c->state[i] = ST_INVALID;
        c->current = -1;
        if (progress(c, "validate", i + 1, c->n))
            return br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "validation cancelled");
    }
    int rc = index_value_refs(c, err);
    if (rc) return rc;
    check_relations(c);
    /* Relationship errors make their items invalid too: count again. */
    c->res->valid = c->res->invalid = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (c->state[i] == ST_TODO && c->messages[i]) c->state[i] = ST_INVALID;
        c->res->valid += c->state[i] == ST_TODO;
        c->res->invalid += c->state[i] == ST_INVALID;
    }
    return 0;
}

/* ---- writing ------------------------------------------------------------------------------- */

static int write_item(import_ctx *c, size_t i, const char *replace_handle, br_job_record *jr, br_error *err)
{
    br_record *rec = c->rec;
    br_saf_read_options ro = {c->opt->metadata_only, &c->opt->limits};
    int rc = br_saf_read_item(c->pkg, i, &ro, rec, NULL, err);
    if (rc) return rc == BR_EINVAL ? br_error_set(err, BR_EIO, folder(c, i), 0, 0,
                                                  "the item changed since it was validated") : rc;
    if (c->opt->n_collections) {
        rec->n_collections = 0;
        for (size_t k = 0; k < c->opt->n_collections; k++)
            if (br_record_add_collection(rec, c->opt->collections[k])) return BR_ENOMEM;
    }
    if (c->opt->apply_template && (rc = br_collection_apply_template(c->repo, rec->collections[0], rec, err)))
        return rc;
    const char *status = c->opt->workflow ? "workflow" : "archived";
    if (!strcmp(status, "archived") && br_install_values(rec, c->opt->eperson, "bulkrepo SAF import"))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    /* Files first (flushed by the batch commit), then the rows naming them.
     * A listed file that is absent (--metadata-only) is not imported. */
    size_t kept = 0;
    for (size_t k = 0; k < rec->n_bs; k++) {
        br_bitstream *b = &rec->bs[k];
        if (!b->path) continue;
        if ((rc = br_asset_put_file(c->repo, b->path, c->opt->limits.max_file_size, rec, b, err))) return rc;
        jr->bitstreams++;
        jr->bytes += b->size;
        if (kept != k) rec->bs[kept] = *b;
        kept++;
    }
    rec->n_bs = kept;
    br_item_write w = {status, c->job_id, NULL};
    int64_t old = 0;
    if (replace_handle) {
        if ((rc = br_item_find(c->repo, replace_handle, &old, err))) return rc;
        br_record *prev = br_record_new();
        if (!prev) return BR_ENOMEM;
        if (!(rc = br_item_load(c->repo, old, prev, err))) {
            /* Replace keeps the handle (DSpace) and, unlike DSpace, the UUID too. */
            w.uuid = br_record_str(rec, prev->uuid);
            rc = br_item_delete(c->repo, old, err);
        }
        br_record_free(prev);
        if (rc) return rc;
        rec->handle = br_record_str(rec, replace_handle);
    }
    while (!rec->handle) {
        char h[128];
        if ((rc = br_handle_next(c->repo, h, sizeof h, err))) return rc;
        if (!br_strmap_get(&c->batch_handles, h, NULL)) rec->handle = br_record_str(rec, h);
    }
    if ((rc = br_item_insert(c->repo, rec, &w, err))) {
        if (!err->place.source[0]) br_strlcpy(err->place.source, folder(c, i), sizeof err->place.source);
        return rc;
    }
    jr->outcome = replace_handle ? BR_OUTCOME_UPDATED : BR_OUTCOME_IMPORTED;
    jr->item_id = rec->id;
    jr->handle = rec->handle;
    free(c->handles[i]);
    c->handles[i] = strdup(rec->handle);
    return c->handles[i] ? 0 : BR_ENOMEM;
}

static int append_mapfile(import_ctx *c, size_t from, size_t to)
{
    /* -r and -d read the mapfile; only -a writes it. */
    if (c->opt->mode != BR_IMPORT_ADD) return 0;
    FILE *f = fopen(c->mapfile, "a");
    if (!f) return BR_EIO;
    for (size_t i = from; i < to; i++)
        if (c->state[i] == ST_DONE && c->handles[i]) fprintf(f, "%s %s\n", folder(c, i), c->handles[i]);
    return fclose(f) ? BR_EIO : 0;
}

/* The final mapfile: every item of the batch that is stored, in package order. */
static int rewrite_mapfile(import_ctx *c, br_error *err)
{
    if (!c->res->imported && !c->res->skipped && access(c->mapfile, F_OK)) return 0;
    br_buf b = {0};
    for (size_t i = 0; i < c->n; i++)
        if ((c->state[i] == ST_DONE || c->state[i] == ST_SKIPPED) && c->handles[i])
            br_buf_printf(&b, "%s %s\n", folder(c, i), c->handles[i]);
    int rc = br_write_file_atomic(c->mapfile, b.p ? b.p : "", b.len, err);
    br_buf_dispose(&b);
    return rc;
}

static int write_all_items(import_ctx *c, const char **replace_handles, br_error *err)
{
    size_t batch = c->opt->batch_size ? c->opt->batch_size : DEFAULT_BATCH;
    size_t in_batch = 0, batch_start = 0, done = 0, todo = 0;
    int rc = 0;
    for (size_t i = 0; i < c->n; i++) todo += c->state[i] == ST_TODO;
    for (size_t i = 0; i < c->n; i++) {
        if (c->state[i] != ST_TODO) continue;
        if (!in_batch) {
            if ((rc = br_repo_begin(c->repo, err))) return rc;
            batch_start = i;
        }
        br_job_record jr = {(int64_t)i, folder(c, i), BR_OUTCOME_IMPORTED, 0, NULL, NULL, 0, 0};
        if ((rc = write_item(c, i, replace_handles ? replace_handles[i] : NULL, &jr, err))) goto fail;
        if ((rc = br_job_journal(c->repo, c->job_id, &jr, err))) goto fail;
        c->state[i] = ST_DONE;
        c->res->imported++;
        c->res->bitstreams += (size_t)jr.bitstreams;
        c->res->bytes += (uint64_t)jr.bytes;
        done++;
        int stop = progress(c, "import", done, todo);
        if (++in_batch == batch || stop) {
            if ((rc = br_repo_commit(c->repo, err))) goto fail;
            in_batch = 0;
            append_mapfile(c, batch_start, i + 1);
            if (stop) return br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "import cancelled; resume with -R");
        }
        continue;
    fail:
        br_repo_rollback(c->repo);
        /* The rolled-back items are to do again. */
        for (size_t k = batch_start; k <= i; k++)
            if (c->state[k] == ST_DONE) {
                c->state[k] = ST_TODO;
                c->res->imported--;
            }
        if (!err->place.source[0]) br_strlcpy(err->place.source, folder(c, i), sizeof err->place.source);
        return rc;
    }
    if (in_batch) {
        if ((rc = br_repo_commit(c->repo, err))) {
            br_repo_rollback(c->repo);
            return rc;
        }
        append_mapfile(c, batch_start, c->n);
    }
    return 0;
}

static int64_t item_id_of(import_ctx *c, size_t i)
{
    int64_t id = 0;
    if (c->handles[i]) br_item_find(c->repo, c->handles[i], &id, NULL);
    return id;
}

/* Second pass, as DSpace: relationships once every item exists.  INSERT OR
 * IGNORE on (type, left, right) keeps a resumed run from doubling them. */
static int write_relations(import_ctx *c, br_error *err)
{
    if (!c->n_rels) return 0;
    int rc = br_repo_begin(c->repo, err);
    if (rc) return rc;
    char why[1024];
    for (size_t k = 0; k < c->n_rels; k++) {
        rel_spec *r = &c->rels[k];
        if (c->state[r->item] != ST_DONE && c->state[r->item] != ST_SKIPPED) continue;
        long item;
        int64_t right;
        if (resolve_target(c, r, &item, &right, why, sizeof why)) continue;
        if (item >= 0) right = item_id_of(c, (size_t)item);
        int64_t left = item_id_of(c, r->item);
        if (!left || !right) continue;
        if ((rc = br_relation_insert(c->repo, r->type, left, right, err))) {
            br_repo_rollback(c->repo);
            return rc;
        }
    }
    return br_repo_commit(c->repo, err);
}

/* ---- resume ------------------------------------------------------------------------------------ */

static int resume_from_journal(void *p, const br_job_record *r)
{
    import_ctx *c = p;
    if (strcmp(r->outcome, BR_OUTCOME_IMPORTED) && strcmp(r->outcome, BR_OUTCOME_UPDATED) &&
        strcmp(r->outcome, BR_OUTCOME_SKIPPED))
        return 0;
    long i = br_saf_find(c->pkg, r->key);
    if (i < 0 || !r->handle) return 0;
    /* Trust the journal only for items that are really there. */
    int64_t id;
    if (br_item_find(c->repo, r->handle, &id, NULL)) return 0;
    c->state[i] = ST_SKIPPED;
    free(c->handles[i]);
    c->handles[i] = strdup(r->handle);
    return 0;
}

static int resume_from_mapfile(void *p, const char *f, const char *handle, unsigned line)
{
    import_ctx *c = p;
    long i = br_saf_find(c->pkg, f);
    int64_t id;
    if (i < 0 || br_item_find(c->repo, handle, &id, NULL)) return 0; /* not stored: import it */
    c->state[i] = ST_SKIPPED;
    free(c->handles[i]);
    c->handles[i] = strdup(handle);
    return 0;
}

typedef struct replace_ctx {
    import_ctx *c;
    const char **handles;
} replace_ctx;

static int replace_entry(void *p, const char *f, const char *handle, unsigned line)
{
    replace_ctx *r = p;
    long i = br_saf_find(r->c->pkg, f);
    if (i < 0) {
        br_diag_emitf(&r->c->sink, BR_SEV_ERROR, f, r->c->mapfile, line, 0, "mapfile.folder", NULL,
                      "the mapfile names folder '%s', which is not in the package", f);
        return 0;
    }
    int64_t id;
    if (br_item_find(r->c->repo, handle, &id, NULL)) {
        br_diag_emitf(&r->c->sink, BR_SEV_ERROR, f, r->c->mapfile, line, 0, "mapfile.handle", NULL,
                      "no item %s to replace", handle);
        return 0;
    }
    /* A folder listed twice: the last line wins (DSpace's map semantics). */
    free((char *)r->handles[i]);
    r->handles[i] = strdup(handle);
    return r->handles[i] ? 0 : BR_ENOMEM;
}

/* ---- delete ------------------------------------------------------------------------------------ */

typedef struct delete_ctx {
    import_ctx *c;
    size_t seq, in_batch;
    int rc;
    br_error *err;
} delete_ctx;

static int delete_entry(void *p, const char *f, const char *handle, unsigned line)
{
    delete_ctx *d = p;
    import_ctx *c = d->c;
    int64_t id;
    d->seq++;
    c->res->total++;
    if (br_item_find(c->repo, handle, &id, NULL)) {
        br_diag_emitf(&c->sink, BR_SEV_WARNING, f, c->mapfile, line, 0, "delete.missing", NULL,
                      "cannot locate item %s - already deleted?", handle);
        return 0;
    }
    if (c->opt->validate_only) return 0;
    if (!d->in_batch && (d->rc = br_repo_begin(c->repo, d->err))) return d->rc;
    br_job_record jr = {(int64_t)d->seq, f, BR_OUTCOME_DELETED, 0, handle, NULL, 0, 0};
    if ((d->rc = br_item_delete(c->repo, id, d->err)) || (d->rc = br_job_journal(c->repo, c->job_id, &jr, d->err))) {
        br_repo_rollback(c->repo);
        return d->rc;
    }
    if (++d->in_batch == (c->opt->batch_size ? c->opt->batch_size : DEFAULT_BATCH)) {
        if ((d->rc = br_repo_commit(c->repo, d->err))) return d->rc;
        c->res->deleted += d->in_batch;
        d->in_batch = 0;
    }
    return 0;
}

static int check_entry(void *p, const char *f, const char *handle, unsigned line)
{
    return 0; /* read_mapfile reports the lines without two fields */
}

/* The whole mapfile is checked before the first delete (DSpace reads it into a
 * map first): a bad line leaves the store unchanged. */
static int run_delete(import_ctx *c, br_error *err)
{
    int rc = read_mapfile(c->mapfile, check_entry, NULL, &c->sink, err);
    if (rc) return rc;
    delete_ctx d = {c, 0, 0, 0, err};
    rc = read_mapfile(c->mapfile, delete_entry, &d, &c->sink, err);
    if (!rc && d.in_batch && !(rc = br_repo_commit(c->repo, err))) c->res->deleted += d.in_batch;
    if (rc) br_repo_rollback(c->repo);
    if (!rc && !c->opt->validate_only) rc = br_asset_gc(c->repo, NULL, err);
    return rc;
}

/* ---- the job ------------------------------------------------------------------------------------- */

static void record_invalid(import_ctx *c)
{
    /* The report lists every rejected item with its first error. */
    br_error e2;
    if (br_repo_begin(c->repo, &e2)) return;
    for (size_t i = 0; i < c->n; i++) {
        if (c->state[i] != ST_INVALID && !(c->opt->validate_only && c->state[i] == ST_TODO)) continue;
        br_job_record jr = {(int64_t)i, folder(c, i),
                            c->state[i] == ST_INVALID ? BR_OUTCOME_INVALID : BR_OUTCOME_VALID, 0, NULL,
                            c->messages[i], 0, 0};
        if (br_job_journal(c->repo, c->job_id, &jr, &e2)) {
            br_repo_rollback(c->repo);
            return;
        }
    }
    if (br_repo_commit(c->repo, &e2)) br_repo_rollback(c->repo);
}

static int open_source(import_ctx *c, br_error *err)
{
    const br_import_options *o = c->opt;
    char zpath[PATH_MAX];
    const char *dir = o->source;
    if (o->zip) {
        if (br_path_join(zpath, sizeof zpath, o->source, o->zip))
            return br_error_set(err, BR_ELIMIT, o->zip, 0, 0, "path too long");
        if (!br_is_file(zpath))
            return br_error_set(err, BR_ENOTFOUND, zpath, 0, 0, "the zip file does not exist");
        int rc = br_repo_mktemp(c->repo, "unzip", c->scratch, sizeof c->scratch, err);
        if (rc) return rc;
        char r[PATH_MAX];
        if ((rc = br_zip_extract(zpath, c->scratch, &o->limits, r, sizeof r, err))) return rc;
        c->root = strdup(r);
        dir = c->root;
    } else if (!br_is_dir(o->source)) {
        return br_error_set(err, BR_ENOTFOUND, o->source, 0, 0, "cannot open source directory");
    }
    return br_saf_open(dir, &o->limits, &c->sink, &c->pkg, err);
}

int br_import_saf(br_repo *repo, const br_import_options *opt_in, br_import_result *res, br_error *err)
{
    br_import_options opt = *opt_in;
    if (!opt.limits.max_file_size) br_limits_default(&opt.limits);
    br_import_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    import_ctx c = {0};
    c.repo = repo;
    c.opt = &opt;
    c.res = res;
    c.current = -1;
    c.sink.fn = on_diag;
    c.sink.ctx = &c;
    br_job job = {0};
    const char **replace_handles = NULL;
    int rc = 0, job_made = 0;

    if (!opt.mapfile || !*opt.mapfile)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a map file to hold importing results must be specified (-m)");
    if ((rc = br_path_absolute(opt.mapfile, c.mapfile, sizeof c.mapfile, err))) return rc;
    if (opt.resume && opt.mode != BR_IMPORT_ADD)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "resume option only works with the --add command");
    if (opt.mode != BR_IMPORT_DELETE && (!opt.source || !*opt.source))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a source directory containing items must be set (-s)");
    if (opt.mode == BR_IMPORT_ADD && !opt.resume && !opt.validate_only && !access(c.mapfile, F_OK))
        return br_error_set(err, BR_EUSAGE, c.mapfile, 0, 0,
                            "the mapfile already exists: delete it, or use --resume to finish an interrupted import");
    if (opt.mode != BR_IMPORT_ADD && access(c.mapfile, R_OK))
        return br_error_set(err, BR_ENOTFOUND, c.mapfile, 0, 0, "the mapfile does not exist");
    for (size_t k = 0; k < opt.n_collections; k++) {
        br_container ct;
        if ((rc = br_container_get(repo, opt.collections[k], &ct, err)) || ct.is_community)
            return br_error_set(err, rc == BR_ENOTFOUND || !rc ? BR_ENOTFOUND : rc, NULL, 0, 0,
                                "cannot resolve %s to a collection", opt.collections[k]);
    }
    br_repo_clean_stale(repo);

    /* The job: a resumed import continues the job that wrote the mapfile. */
    static const char *types[] = {"import-saf", "import-saf", "delete-saf"};
    int64_t prior = 0;
    br_strlcpy(job.type, opt.validate_only ? "validate-saf" : types[opt.mode], sizeof job.type);
    br_strlcpy(job.category, "import", sizeof job.category);
    br_strlcpy(job.name,
               opt.name                       ? opt.name
               : opt.validate_only            ? "SAF validation"
               : opt.mode == BR_IMPORT_DELETE ? "SAF delete"
               : opt.mode == BR_IMPORT_REPLACE ? "SAF replace"
                                               : "SAF import",
               sizeof job.name);
    br_strlcpy(job.eperson, opt.eperson ? opt.eperson : "", sizeof job.eperson);
    if (opt.mode == BR_IMPORT_DELETE)
        br_strlcpy(job.input, c.mapfile, sizeof job.input);
    else
        snprintf(job.input, sizeof job.input, "%s%s%s", opt.source, opt.zip ? "/" : "", opt.zip ? opt.zip : "");
    char *p = params_json(&opt, c.mapfile);
    br_strlcpy(job.params, p ? p : "{}", sizeof job.params);
    free(p);
    if ((rc = br_import_job_begin(repo, &opt, "import-saf", c.mapfile, &job, &prior, err))) return rc;
    c.job_id = job.id;
    job_made = 1;
    res->job_id = c.job_id;

    if (opt.mode == BR_IMPORT_DELETE) {
        rc = run_delete(&c, err);
        goto finish;
    }
    if ((rc = open_source(&c, err))) goto finish;
    c.n = br_saf_count(c.pkg);
    res->total = c.n;
    br_job_set_total(repo, c.job_id, (int64_t)c.n, NULL);
    c.rec = br_record_new();
    c.state = calloc(c.n ? c.n : 1, 1);
    c.handles = calloc(c.n ? c.n : 1, sizeof *c.handles);
    c.messages = calloc(c.n ? c.n : 1, sizeof *c.messages);
    if (!c.rec || !c.state || !c.handles || !c.messages) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto finish;
    }
    if (opt.mode == BR_IMPORT_REPLACE) {
        replace_ctx r = {&c, calloc(c.n, sizeof(char *))};
        replace_handles = r.handles;
        if (!r.handles) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            goto finish;
        }
        size_t before = c.sink.errors;
        if ((rc = read_mapfile(c.mapfile, replace_entry, &r, &c.sink, err))) goto finish;
        /* Only the folders the mapfile names are replaced (DSpace). */
        for (size_t i = 0; i < c.n; i++)
            if (!replace_handles[i]) c.state[i] = ST_SKIPPED;
        if (c.sink.errors > before) {
            rc = br_error_set(err, BR_EINVAL, c.mapfile, 0, 0, "the mapfile does not match the package");
            goto finish;
        }
    }
    if (opt.resume && !opt.validate_only) {
        if (prior)
            rc = br_job_records(repo, prior, NULL, resume_from_journal, &c, err);
        else if (!access(c.mapfile, R_OK))
            rc = read_mapfile(c.mapfile, resume_from_mapfile, &c, &c.sink, err);
        if (rc) goto finish;
        for (size_t i = 0; i < c.n; i++) res->skipped += c.state[i] == ST_SKIPPED;
    }

    if ((rc = validate_all(&c, err))) goto finish;
    if (opt.validate_only || (res->invalid && !opt.skip_invalid)) {
        record_invalid(&c);
        if (res->invalid)
            rc = br_error_set(err, BR_EINVAL, NULL, 0, 0,
                              "%zu of %zu items are invalid; nothing was imported", res->invalid, c.n);
        goto finish;
    }
    if (res->invalid) record_invalid(&c);
    if ((rc = write_all_items(&c, replace_handles, err))) goto finish;
    if ((rc = write_relations(&c, err))) goto finish;
    if (opt.mode == BR_IMPORT_REPLACE && res->imported) rc = br_asset_gc(repo, NULL, err);
    if (!rc && opt.mode == BR_IMPORT_ADD) rc = rewrite_mapfile(&c, err);
    if (!rc && res->invalid)
        rc = br_error_set(err, BR_EINVAL, NULL, 0, 0, "%zu invalid items were left out", res->invalid);

finish:
    /* The scratch folder goes before the job ends: whoever sees the job ended
     * (a monitor, a test, the next run) sees no leftover of it. */
    br_saf_close(c.pkg);
    c.pkg = NULL;
    if (c.scratch[0]) br_rmtree(c.scratch); /* only the folder this run made */
    if (job_made)
        br_import_job_end(repo, c.job_id, rc, res->imported || res->deleted,
                          opt.mode != BR_IMPORT_DELETE && c.n == 0, err);
    br_record_free(c.rec);
    for (size_t i = 0; i < c.n; i++) {
        if (c.handles) free(c.handles[i]);
        if (c.messages) free(c.messages[i]);
        if (replace_handles) free((char *)replace_handles[i]);
    }
    free(replace_handles);
    free(c.state);
    free(c.handles);
    free(c.messages);
    for (size_t k = 0; k < c.n_rels; k++) {
        free(c.rels[k].type);
        free(c.rels[k].target);
        free(c.rels[k].source);
    }
    free(c.rels);
    free((char *)c.root);
    br_strmap_dispose(&c.batch_handles);
    br_strmap_dispose(&c.value_refs);
    return rc;
}
