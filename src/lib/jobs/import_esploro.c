/* The Esploro research-asset CSV import (issue 3):
 *
 *   CSV -> pass 1: every group through the reader with the repository (org
 *   units, RESEARCH_ASSET_IDs) + registry, update targets and local files
 *   -> nothing written if anything is invalid (unless skip_invalid)
 *   -> pass 2 (seek back): fetch remote files, write groups in journaled
 *   batches -> mapfile rewritten from the journal -> job report
 *
 * Memory is flat in the number of assets: the reader holds one group, this
 * file holds three reusable records and the current batch's mapfile lines;
 * everything per group that must outlive the group (outcomes, handles, first
 * errors) goes to the job journal in the database, which resume and the final
 * mapfile read back.  Crash safety is the SAF import's: a batch is one
 * transaction with its journal lines, committed after its files are flushed.
 *
 * Update mode (formats.md 1.7 item 5): for each target the file has a column
 * for, the item's values are dropped and the file's put in (an empty cell
 * deletes); targets without a column stay; creators, links and files are
 * replaced only when the file has such columns. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "bulkrepo/esploro.h"
#include "bulkrepo/import.h"
#include "bulkrepo/job.h"
#include "core/core.h"
#include "jobs/install.h"
#include "net/fetch.h"

#define DEFAULT_BATCH 500
#define JOB_TYPE      "import-esploro"
#define VIA           "bulkrepo Esploro CSV import"

typedef struct ectx {
    br_repo *repo;
    const br_import_options *opt;
    br_import_result *res;
    br_ecsv_reader *rd;
    br_record *rec; /* the group as read */
    br_record *old; /* update mode: the stored item */
    br_record *out; /* update mode: the merged item */
    int64_t job_id;
    int64_t prior; /* resume: the job whose journal says what is stored */
    const char *collection;
    const char *status; /* of new items */
    char mapfile[PATH_MAX];
    char csv[PATH_MAX];
    br_diag_sink sink; /* wraps opt->diags; keeps the current group's first error */
    int quiet;         /* pass 2: the reader's findings were reported in pass 1 */
    char first_error[1024];
    size_t done, todo;      /* pass 2 progress */
    br_buf batch_map;       /* "<key> <handle>\n" lines of the open batch */
    unsigned char *fetched; /* per bitstream of the group: its path is a temp file */
    size_t cap_fetched;
    int files_replaced; /* an update dropped bitstreams: collect garbage at the end */
    /* Counts of the open batch, added to the result when it commits. */
    size_t b_imported, b_updated, b_failed, b_bitstreams;
    uint64_t b_bytes;
} ectx;

static void on_diag(void *p, const br_diag *d)
{
    ectx *c = p;
    if (d->severity == BR_SEV_ERROR && !c->first_error[0])
        br_diag_format(d, c->first_error, sizeof c->first_error);
    if (!c->quiet && c->opt->diags) br_diag_emit(c->opt->diags, d);
}

static int progress(ectx *c, const char *phase, size_t done, size_t total)
{
    return c->opt->progress ? c->opt->progress(c->opt->progress_ctx, phase, done, total) : 0;
}

static int fetch_cancelled(void *p)
{
    ectx *c = p;
    return progress(c, "import", c->done, c->todo);
}

/* ---- parameters ------------------------------------------------------------------------- */

static char *params_json(const ectx *c)
{
    const br_import_options *o = c->opt;
    json_t *p = json_object();
    json_object_set_new(p, "format", json_string("esploro-csv"));
    json_object_set_new(p, "source", json_string(c->csv));
    json_object_set_new(p, "mapfile", json_string(c->mapfile));
    json_object_set_new(p, "collection", json_string(c->collection));
    json_object_set_new(p, "status", json_string(c->status));
    json_object_set_new(p, "validate_only", json_boolean(o->validate_only));
    json_object_set_new(p, "resume", json_boolean(o->resume));
    json_object_set_new(p, "skip_invalid", json_boolean(o->skip_invalid));
    char *s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    return s;
}

typedef struct one_coll {
    int n;
    char handle[64];
} one_coll;

static int count_coll(void *ctx, const br_container *k)
{
    one_coll *o = ctx;
    if (!k->is_community && o->n++ == 0) br_strlcpy(o->handle, k->handle, sizeof o->handle);
    return 0;
}

/* ---- journal helpers ---------------------------------------------------------------------- */

/* Resume: whether the journal of the prior run says the group is stored (and
 * the item is really there); its handle is copied out. */
static int already_stored(ectx *c, const char *key, char *handle, size_t size)
{
    if (!c->prior) return 0;
    char outcome[32];
    if (br_job_record_find(c->repo, c->prior, key, outcome, sizeof outcome, handle, size, NULL))
        return 0;
    if (strcmp(outcome, BR_OUTCOME_IMPORTED) && strcmp(outcome, BR_OUTCOME_UPDATED) &&
        strcmp(outcome, BR_OUTCOME_SKIPPED))
        return 0;
    int64_t id;
    return handle[0] && !br_item_find(c->repo, handle, &id, NULL);
}

static int event(ectx *c, const char *severity, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int event(ectx *c, const char *severity, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    br_job_event ev = {0};
    ev.job_id = c->job_id;
    ev.severity = severity;
    ev.module = "import";
    ev.creator = c->opt->eperson;
    ev.description = msg;
    return br_job_event_add(c->repo, &ev, NULL);
}

/* ---- pass 1: validation --------------------------------------------------------------------- */

static void group_error(ectx *c, const char *key, unsigned row, const char *rule, const char *hint,
                        const char *fmt, const char *a, const char *b)
{
    char msg[1500];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    br_diag_emitf(&c->sink, BR_SEV_ERROR, key, c->opt->source, row, 0, rule, hint, "%s", msg);
}

static void field_name(const br_mdv *v, char *out, size_t size)
{
    snprintf(out, size, "%s.%s%s%s", v->schema, v->element, v->qualifier ? "." : "",
             v->qualifier ? v->qualifier : "");
}

/* Whether path, with every link resolved, lies below root (also resolved).
 * A path that does not resolve (missing) is not below anything. */
static int below_root(const char *root, const char *path)
{
    char r[PATH_MAX], p[PATH_MAX];
    if (!realpath(root, r) || !realpath(path, p)) return 0;
    size_t n = strlen(r);
    return !strncmp(p, r, n) && (p[n] == '/' || (n == 1 && r[0] == '/'));
}

/* What the reader cannot know: the registry, local files, the store. */
static void check_group(ectx *c, const br_ecsv_group *g)
{
    br_record *rec = c->rec;
    char name[256];
    for (size_t k = 0; k < rec->n_md; k++) {
        const br_mdv *v = &rec->md[k];
        if (br_registry_has(c->repo, v->schema, v->element, v->qualifier)) continue;
        field_name(v, name, sizeof name);
        group_error(
            c, g->key, v->origin.line, "registry.field",
            "register it with `bulkrepo registry add` (a repository made before the esploro "
            "schema existed lacks it)",
            "%s is not in the metadata registry", name, NULL);
    }
    for (size_t k = 0; k < rec->n_bs; k++) {
        const br_bitstream *b = &rec->bs[k];
        if (!b->path) continue;
        if (c->opt->files_root && !below_root(c->opt->files_root, b->path)) {
            group_error(
                c, g->key, b->origin.line, "ecsv.file.outside",
                "only files uploaded with the CSV (beside it or below it) can be imported here",
                "FILE_FILEURL '%s' is outside the job's upload folder", b->url ? b->url : b->path,
                NULL);
            continue;
        }
        struct stat st;
        int missing = lstat(b->path, &st) != 0;
        if (missing || !S_ISREG(st.st_mode)) {
            group_error(
                c, g->key, b->origin.line, "ecsv.file.missing",
                "a relative FILE_FILEURL is read from the CSV's folder; links are not followed",
                "FILE_FILEURL '%s': %s", b->url ? b->url : b->path,
                missing               ? "no such file"
                : S_ISLNK(st.st_mode) ? "a symbolic link"
                                      : "not a regular file");
        } else if (c->opt->limits.max_file_size &&
                   (uint64_t)st.st_size > c->opt->limits.max_file_size) {
            char lim[64];
            snprintf(lim, sizeof lim, "%llu", (unsigned long long)c->opt->limits.max_file_size);
            group_error(c, g->key, b->origin.line, "ecsv.file.too-large", "raise --max-file-size",
                        "FILE_FILEURL '%s' is larger than the %s bytes allowed",
                        b->url ? b->url : b->path, lim);
        }
    }
}

/* ---- pass 2: writing --------------------------------------------------------------------------
 */

/* Whether the file has a column for a metadata value's field. */
static int has_field_column(ectx *c, const br_mdv *v)
{
    char name[256];
    field_name(v, name, sizeof name);
    return br_ecsv_has_target(c->rd, name);
}

static int is_derived_contributor(const br_mdv *v)
{
    static const char *const q[] = {"author", "advisor", "editor", "illustrator", "other"};
    if (strcmp(v->schema, "dc") || strcmp(v->element, "contributor") || !v->qualifier) return 0;
    for (size_t i = 0; i < BR_ARRAY_LEN(q); i++)
        if (!strcmp(v->qualifier, q[i])) return 1;
    return 0;
}

/* Update mode: c->out = the stored item overlaid with the file's group. */
static int overlay(ectx *c)
{
    br_record *old = c->old, *in = c->rec, *m = c->out;
    br_record_reset(m);
    m->id = old->id;
    m->handle = old->handle;
    m->uuid = old->uuid;
    m->status = old->status;
    int new_creators = br_ecsv_has_target(c->rd, "@creator");
    int new_contribs = br_ecsv_has_target(c->rd, "@contributor");
    int new_links = br_ecsv_has_target(c->rd, "@link");
    int new_files = br_ecsv_has_target(c->rd, "@file");
    int new_origid = br_ecsv_has_target(c->rd, "esploro.asset.origassetid");
    /* Values: the stored ones without a column in the file, then the file's. */
    for (size_t k = 0; k < old->n_md; k++) {
        const br_mdv *v = &old->md[k];
        if (has_field_column(c, v)) continue;
        /* Names derived from replaced creators are derived again below. */
        if ((new_creators || new_contribs) && is_derived_contributor(v)) continue;
        if (!br_record_add_md(m, v->schema, v->element, v->qualifier, v->language, v->value))
            return BR_ENOMEM;
    }
    for (size_t k = 0; k < in->n_md; k++) {
        const br_mdv *v = &in->md[k];
        br_mdv *n = br_record_add_md(m, v->schema, v->element, v->qualifier, v->language, v->value);
        if (!n) return BR_ENOMEM;
        n->origin = v->origin;
    }
    /* Creators and contributors: each role replaced when the file has its columns. */
    for (int pass = 0; pass < 2; pass++) {
        const br_record *src = pass == 0 ? old : in;
        for (size_t k = 0; k < src->n_creators; k++) {
            const br_creator *s = &src->creators[k];
            int replaced = s->role == BR_CREATOR ? new_creators : new_contribs;
            if ((pass == 0) == (replaced != 0)) continue;
            br_creator *d = br_record_add_creator(m, s->role);
            if (!d) return BR_ENOMEM;
            int place = d->place;
            *d = *s; /* strings stay in src's arena, alive until the item is written */
            d->place = place;
        }
    }
    const br_record *ls = new_links ? in : old;
    for (size_t k = 0; k < ls->n_links; k++) {
        br_link *d = br_record_add_link(m);
        if (!d) return BR_ENOMEM;
        int place = d->place;
        *d = ls->links[k];
        d->place = place;
    }
    const br_record *fs = new_files ? in : old;
    for (size_t k = 0; k < fs->n_bs; k++) {
        br_bitstream *d = br_record_add_bitstream(m, fs->bs[k].name);
        if (!d) return BR_ENOMEM;
        *d = fs->bs[k];
    }
    if (new_files && old->n_bs) c->files_replaced = 1;
    for (int pass = 0; pass < 2; pass++) {
        const br_record *src = pass == 0 ? old : in;
        for (size_t k = 0; k < src->n_ids; k++) {
            const br_identifier *s = &src->ids[k];
            int is_origid = !strcmp(s->type, "origid");
            if (pass == 0 && is_origid && new_origid) continue;
            if (pass == 1 && !is_origid) continue;
            if (pass == 1 && !new_origid) continue;
            if (!br_record_add_identifier(m, s->type, s->value)) return BR_ENOMEM;
        }
    }
    return br_record_derive_contributors(m) ? BR_ENOMEM : 0;
}

/* Remote files first (all of the group's, into temp files), so that a failure
 * leaves nothing: the group is "failed", no row and no stored file. */
static int fetch_group(ectx *c, br_record *rec, unsigned *failed_row, char *why, size_t why_size,
                       br_error *err)
{
    br_fetch_options fo = {0};
    fo.max_size = c->opt->limits.max_file_size;
    fo.timeout_ms = c->opt->fetch_timeout_ms;
    fo.retries = c->opt->fetch_retries;
    fo.cancelled = fetch_cancelled;
    fo.cancel_ctx = c;
    if (br_grow((void **)&c->fetched, &c->cap_fetched, rec->n_bs + 1, 1))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    memset(c->fetched, 0, rec->n_bs + 1);
    for (size_t k = 0; k < rec->n_bs; k++) {
        br_bitstream *b = &rec->bs[k];
        if (b->path || !b->url) continue;
        char tmp[PATH_MAX];
        br_error fe;
        int rc = br_fetch_url(c->repo, b->url, &fo, tmp, sizeof tmp, &fe);
        if (rc == BR_ECANCELLED)
            return br_error_set(err, rc, NULL, 0, 0, "import cancelled; resume with -R");
        if (rc) {
            *failed_row = b->origin.line;
            snprintf(why, why_size, "%s", fe.message);
            event(c, "error", "group %s row %u: FILE_FILEURL %s failed: %s", rec->key,
                  b->origin.line, b->url, fe.message);
            return 1;
        }
        b->path = br_record_str(rec, tmp);
        if (!b->path) {
            unlink(tmp);
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
        c->fetched[k] = 1; /* the path is a temp file in the repository's tmp area */
    }
    return 0;
}

static void remove_fetched(ectx *c, br_record *rec)
{
    for (size_t k = 0; k < rec->n_bs && k < c->cap_fetched; k++)
        if (c->fetched[k]) {
            unlink(rec->bs[k].path);
            rec->bs[k].path = NULL;
            c->fetched[k] = 0;
        }
}

static int store_files(ectx *c, br_record *rec, br_job_record *jr, br_error *err)
{
    for (size_t k = 0; k < rec->n_bs; k++) {
        br_bitstream *b = &rec->bs[k];
        if (!b->path) continue;
        int rc = br_asset_put_file(c->repo, b->path, c->opt->limits.max_file_size, rec, b, err);
        if (k < c->cap_fetched && c->fetched[k]) {
            unlink(b->path);
            c->fetched[k] = 0;
        }
        if (rc) {
            if (!err->place.source[0])
                br_strlcpy(err->place.source, c->csv, sizeof err->place.source);
            err->place.line = b->origin.line;
            return rc;
        }
        jr->bitstreams++;
        jr->bytes += b->size;
        if (b->url)
            event(c, "info", "group %s row %u: FILE_FILEURL %s stored as %s (%lld bytes, md5 %s)",
                  rec->key, b->origin.line, b->url, b->name, (long long)b->size, b->md5);
    }
    return 0;
}

/* Writes one valid group; jr->outcome says what happened. */
static int write_group(ectx *c, const br_ecsv_group *g, br_job_record *jr, br_error *err)
{
    br_record *rec = c->rec;
    int64_t target = 0;
    int rc;
    if (g->by_asset_id) {
        if ((rc = br_item_find(c->repo, g->key, &target, err))) return rc;
    } else {
        for (size_t k = 0; k < rec->n_ids && !target; k++)
            if (!strcmp(rec->ids[k].type, "origid") &&
                (rc = br_item_find_by_identifier(c->repo, "origid", rec->ids[k].value, &target,
                                                 NULL)) &&
                rc != BR_ENOTFOUND)
                return br_error_set(err, rc, NULL, 0, 0, "identifier lookup failed");
    }
    unsigned bad_row = 0;
    char why[1100];
    if ((rc = fetch_group(c, rec, &bad_row, why, sizeof why, err)) < 0) {
        remove_fetched(c, rec);
        return rc;
    }
    if (rc == 1) {
        remove_fetched(c, rec);
        jr->outcome = BR_OUTCOME_FAILED;
        const char *base = strrchr(c->csv, '/');
        snprintf(c->first_error, sizeof c->first_error, "%.200s:%u: FILE row: %.700s",
                 base ? base + 1 : c->csv, bad_row, why);
        jr->message = c->first_error;
        return 0;
    }
    if ((rc = store_files(c, rec, jr, err))) {
        remove_fetched(c, rec);
        return rc;
    }
    int archive = !strcmp(c->status, "archived");
    if (target) {
        if ((rc = br_item_load(c->repo, target, c->old, err))) return rc;
        if ((rc = overlay(c))) return br_error_set(err, rc, NULL, 0, 0, "out of memory");
        const char *st = NULL;
        if (archive && c->opt->status && strcmp(c->old->status, "archived")) {
            st = "archived";
            if (br_install_values(c->out, c->opt->eperson, VIA))
                return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
        br_item_write w = {st, c->job_id, NULL};
        if ((rc = br_item_update(c->repo, c->out, &w, err))) return rc;
        jr->outcome = BR_OUTCOME_UPDATED;
        jr->item_id = target;
        jr->handle = c->out->handle;
        return 0;
    }
    if (br_record_add_collection(rec, c->collection) || br_record_derive_contributors(rec) ||
        (archive && br_install_values(rec, c->opt->eperson, VIA)))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_item_write w = {c->status, c->job_id, NULL};
    if ((rc = br_item_insert(c->repo, rec, &w, err))) return rc;
    jr->outcome = BR_OUTCOME_IMPORTED;
    jr->item_id = rec->id;
    jr->handle = rec->handle;
    return 0;
}

static int append_mapfile(ectx *c)
{
    if (!c->batch_map.len) return 0;
    FILE *f = fopen(c->mapfile, "a");
    if (!f) return BR_EIO;
    size_t n = fwrite(c->batch_map.p, 1, c->batch_map.len, f);
    int rc = fclose(f) || n != c->batch_map.len ? BR_EIO : 0;
    br_buf_clear(&c->batch_map);
    return rc;
}

typedef struct map_writer {
    FILE *f;
    int failed;
} map_writer;

static int map_line(void *ctx, const br_job_record *r)
{
    map_writer *m = ctx;
    if (!r->handle ||
        (strcmp(r->outcome, BR_OUTCOME_IMPORTED) && strcmp(r->outcome, BR_OUTCOME_UPDATED) &&
         strcmp(r->outcome, BR_OUTCOME_SKIPPED)))
        return 0;
    if (fprintf(m->f, "%s %s\n", r->key, r->handle) < 0) m->failed = 1;
    return 0;
}

/* The final mapfile, from the journal (streamed: no per-group memory). */
static int rewrite_mapfile(ectx *c, br_error *err)
{
    char tmp[PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", c->mapfile, (long)getpid());
    map_writer m = {fopen(tmp, "w"), 0};
    if (!m.f)
        return br_error_set(err, BR_EIO, tmp, 0, 0, "cannot write the mapfile: %s",
                            strerror(errno));
    int rc = br_job_records(c->repo, c->job_id, NULL, map_line, &m, err);
    if (fflush(m.f) || fsync(fileno(m.f))) m.failed = 1;
    if (fclose(m.f)) m.failed = 1;
    if (!rc && m.failed) rc = br_error_set(err, BR_EIO, tmp, 0, 0, "cannot write the mapfile");
    if (!rc && rename(tmp, c->mapfile))
        rc = br_error_set(err, BR_EIO, c->mapfile, 0, 0, "cannot write the mapfile: %s",
                          strerror(errno));
    if (rc) unlink(tmp);
    return rc;
}

static void reset_batch(ectx *c)
{
    c->b_imported = c->b_updated = c->b_failed = c->b_bitstreams = 0;
    c->b_bytes = 0;
    br_buf_clear(&c->batch_map);
}

static int commit_batch(ectx *c, br_error *err)
{
    int rc = br_repo_commit(c->repo, err);
    if (rc) return rc;
    c->res->imported += c->b_imported;
    c->res->updated += c->b_updated;
    c->res->failed += c->b_failed;
    c->res->bitstreams += c->b_bitstreams;
    c->res->bytes += c->b_bytes;
    /* The mapfile only ever names committed items. */
    append_mapfile(c);
    reset_batch(c);
    return 0;
}

static int write_all(ectx *c, uint64_t first_offset, br_error *err)
{
    size_t batch = c->opt->batch_size ? c->opt->batch_size : DEFAULT_BATCH;
    size_t in_batch = 0;
    int rc = 0;
    if ((rc = br_ecsv_seek(c->rd, first_offset, err))) return rc;
    c->quiet = 1;
    br_ecsv_group g;
    for (int64_t seq = 0;; seq++) {
        c->first_error[0] = 0;
        rc = br_ecsv_next(c->rd, c->rec, &g, err);
        if (rc < 0) goto fail;
        if (rc == 0) break;
        if (g.errors) continue; /* invalid: journaled in pass 1 */
        char handle[128];
        if (already_stored(c, g.key, handle, sizeof handle)) continue;
        size_t before = c->sink.errors;
        check_group(c, &g);
        if (!in_batch && (rc = br_repo_begin(c->repo, err))) return rc;
        br_job_record jr = {seq, g.key, BR_OUTCOME_IMPORTED, 0, NULL, NULL, 0, 0};
        if (c->sink.errors > before) {
            /* A local file changed since pass 1: this group failed, the others go on. */
            jr.outcome = BR_OUTCOME_FAILED;
            jr.message = c->first_error;
        } else if ((rc = write_group(c, &g, &jr, err))) {
            goto fail;
        }
        if ((rc = br_job_journal(c->repo, c->job_id, &jr, err))) goto fail;
        in_batch++;
        if (!strcmp(jr.outcome, BR_OUTCOME_FAILED)) {
            c->b_failed++;
        } else {
            c->b_imported++;
            c->b_updated += !strcmp(jr.outcome, BR_OUTCOME_UPDATED);
            c->b_bitstreams += (size_t)jr.bitstreams;
            c->b_bytes += (uint64_t)jr.bytes;
            if (br_buf_printf(&c->batch_map, "%s %s\n", g.key, jr.handle)) {
                rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
                goto fail;
            }
        }
        c->done++;
        int stop = progress(c, "import", c->done, c->todo);
        if (in_batch == batch || stop) {
            if ((rc = commit_batch(c, err))) goto fail;
            in_batch = 0;
            if (stop)
                return br_error_set(err, BR_ECANCELLED, NULL, 0, 0,
                                    "import cancelled; resume with -R");
        }
    }
    if (in_batch && (rc = commit_batch(c, err))) goto fail;
    return 0;
fail:
    br_repo_rollback(c->repo);
    reset_batch(c); /* nothing of the rolled-back batch is stored */
    return rc;
}

/* ---- the job ------------------------------------------------------------------------------------
 */

static int validate_all(ectx *c, uint64_t *first_offset, br_error *err)
{
    br_ecsv_group g;
    size_t journaled = 0;
    int rc = 0, in_tx = 0;
    *first_offset = 0;
    for (int64_t seq = 0;; seq++) {
        c->first_error[0] = 0;
        rc = br_ecsv_next(c->rd, c->rec, &g, err);
        if (rc < 0) break;
        if (rc == 0) {
            rc = 0;
            break;
        }
        if (seq == 0) *first_offset = g.offset;
        c->res->total++;
        char handle[128];
        if (c->opt->resume && already_stored(c, g.key, handle, sizeof handle)) {
            c->res->skipped++;
        } else {
            size_t before = c->sink.errors;
            check_group(c, &g);
            int invalid = g.errors || c->sink.errors > before;
            if (invalid)
                c->res->invalid++;
            else
                c->res->valid++;
            /* The report lists every invalid group with its first error; a
             * validation run lists the valid ones too.  Job data only. */
            if (invalid || c->opt->validate_only) {
                if (!in_tx && (rc = br_repo_begin(c->repo, err))) break;
                in_tx = 1;
                br_job_record jr = {
                    seq, g.key, invalid ? BR_OUTCOME_INVALID : BR_OUTCOME_VALID,
                    0,   NULL,  invalid && c->first_error[0] ? c->first_error : NULL,
                    0,   0};
                if ((rc = br_job_journal(c->repo, c->job_id, &jr, err))) break;
                if (++journaled % DEFAULT_BATCH == 0) {
                    if ((rc = br_repo_commit(c->repo, err))) break;
                    in_tx = 0;
                }
            }
        }
        if (progress(c, "validate", (size_t)seq + 1, 0)) {
            rc = br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "validation cancelled");
            break;
        }
    }
    if (in_tx) {
        if (rc)
            br_repo_rollback(c->repo);
        else if ((rc = br_repo_commit(c->repo, err)))
            br_repo_rollback(c->repo);
    }
    return rc;
}

int br_import_esploro(br_repo *repo, const br_import_options *opt_in, br_import_result *res,
                      br_error *err)
{
    br_import_options opt = *opt_in;
    if (!opt.limits.max_file_size) br_limits_default(&opt.limits);
    br_import_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    ectx c = {0};
    c.repo = repo;
    c.opt = &opt;
    c.res = res;
    c.sink.fn = on_diag;
    c.sink.ctx = &c;
    c.status = opt.status && *opt.status ? opt.status : "draft";
    int rc = 0, job_made = 0;
    one_coll oc = {0};
    br_job job = {0};
    uint64_t first = 0;

    if (opt.mode != BR_IMPORT_ADD)
        return br_error_set(
            err, BR_EUSAGE, NULL, 0, 0,
            "an Esploro CSV import adds and updates (by RESEARCH_ASSET_ID or ASSET_ORIGASSET_ID); "
            "-r and -d are SAF options");
    if (strcmp(c.status, "draft") && strcmp(c.status, "archived"))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "--status is draft or archived, not '%s'",
                            c.status);
    if (!opt.mapfile || !*opt.mapfile)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "a map file to hold importing results must be specified (-m)");
    if (!opt.source || !*opt.source)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the CSV file must be given (-s FILE.csv)");
    if (!br_is_file(opt.source))
        return br_error_set(err, BR_ENOTFOUND, opt.source, 0, 0, "no such CSV file");
    if ((rc = br_path_absolute(opt.mapfile, c.mapfile, sizeof c.mapfile, err))) return rc;
    if ((rc = br_path_absolute(opt.source, c.csv, sizeof c.csv, err))) return rc;
    if (!opt.resume && !opt.validate_only && !access(c.mapfile, F_OK))
        return br_error_set(err, BR_EUSAGE, c.mapfile, 0, 0,
                            "the mapfile already exists: delete it, or use --resume to finish an "
                            "interrupted import");
    if (opt.n_collections > 1)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "an Esploro CSV import takes one collection (-c)");
    if (opt.n_collections == 1) {
        int64_t cid;
        if ((rc = br_collection_resolve(repo, opt.collections[0], &cid, err)))
            return br_error_set(err, rc == BR_EINVAL ? BR_EINVAL : BR_ENOTFOUND, NULL, 0, 0,
                                "cannot resolve %s to a collection", opt.collections[0]);
        c.collection = opt.collections[0];
    } else {
        if ((rc = br_container_list(repo, count_coll, &oc, err))) return rc;
        if (oc.n != 1)
            return br_error_set(
                err, BR_EUSAGE, NULL, 0, 0,
                "give the collection of the new assets with -c (the repository has %d collections)",
                oc.n);
        c.collection = oc.handle;
    }
    br_repo_clean_stale(repo);

    /* The job: the engine's, or a resumed import's (found by its mapfile), or a new one. */
    br_strlcpy(job.type, opt.validate_only ? "validate-esploro" : JOB_TYPE, sizeof job.type);
    br_strlcpy(job.category, "import", sizeof job.category);
    br_strlcpy(job.name,
               opt.name            ? opt.name
               : opt.validate_only ? "Esploro CSV validation"
                                   : "Esploro CSV import",
               sizeof job.name);
    br_strlcpy(job.eperson, opt.eperson ? opt.eperson : "", sizeof job.eperson);
    br_strlcpy(job.input, c.csv, sizeof job.input);
    char *p = params_json(&c);
    br_strlcpy(job.params, p ? p : "{}", sizeof job.params);
    free(p);
    if ((rc = br_import_job_begin(repo, &opt, JOB_TYPE, c.mapfile, &job, &c.prior, err))) return rc;
    c.job_id = job.id;
    job_made = 1;
    res->job_id = c.job_id;

    br_ecsv_options ro = {0};
    ro.limits = opt.limits;
    ro.repo = repo;
    ro.diags = &c.sink;
    c.rec = br_record_new();
    c.old = br_record_new();
    c.out = br_record_new();
    if (!c.rec || !c.old || !c.out) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto finish;
    }
    if ((rc = br_ecsv_open(opt.source, &ro, &c.rd, err))) goto finish;
    if ((rc = validate_all(&c, &first, err))) goto finish;
    br_job_set_total(repo, c.job_id, (int64_t)res->total, NULL);
    if (opt.validate_only || (res->invalid && !opt.skip_invalid)) {
        if (res->invalid)
            rc = br_error_set(err, BR_EINVAL, NULL, 0, 0,
                              "%zu of %zu groups are invalid; nothing was imported", res->invalid,
                              res->total);
        goto finish;
    }
    c.todo = res->valid;
    if (res->total && (rc = write_all(&c, first, err))) goto finish;
    if (c.files_replaced) rc = br_asset_gc(repo, NULL, err);
    if (!rc && (res->imported || res->skipped || !access(c.mapfile, F_OK)))
        rc = rewrite_mapfile(&c, err);
    if (!rc && (res->invalid || res->failed))
        rc =
            br_error_set(err, BR_EINVAL, NULL, 0, 0, "%zu invalid groups were left out, %zu failed",
                         res->invalid, res->failed);

finish:
    if (job_made) br_import_job_end(repo, c.job_id, rc, res->imported != 0, res->total == 0, err);
    br_ecsv_close(c.rd);
    br_record_free(c.rec);
    br_record_free(c.old);
    br_record_free(c.out);
    br_buf_dispose(&c.batch_map);
    free(c.fetched);
    return rc;
}
