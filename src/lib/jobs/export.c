/* Export: store -> records -> a format's writer, recorded as a job (type: the
 * format's export_job).  The one loop for every format; what a format writes
 * and how (folders, a zip, a CSV and its files, column selection) is its
 * writer's business (formats/format.h).
 *
 *   1. open the format's writer: a usage error (an option the format does not
 *      take, an unknown column) is refused before any job exists; any other
 *      failure (the destination missing or taken) ends the job FAILED;
 *   2. resolve the scope (a collection, an item, or every item for formats
 *      with BR_FORMAT_ALL_SCOPE) and list the item ids in handle order
 *      (br_item_list), so two exports of the same content compare equal.  A
 *      collection or ALL leaves withdrawn items out; an item named by ITEM is
 *      exported whatever its status (as DSpace);
 *   3. stream: load one item, hand it to the writer, journal it (its key in
 *      the output, its files and bytes: the writer's stats), report progress,
 *      reuse the record: memory is one record plus one id per item (and what
 *      the writer keeps: formats/saf_writer.c);
 *   4. close the writer, which puts the output in place.
 *
 * Unlike DSpace (§3.2), which exports only archived items ordered by UUID, a
 * collection export takes every item owned by or mapped into the collection
 * that is not withdrawn, in handle order.
 *
 * On failure or cancel the writer is aborted and removes everything it wrote:
 * nothing is left under the destination.  The journal still names the
 * records written before the failure (the job's record of what happened),
 * and the job ends FAILED with the message (USER_ABORTED when progress asked
 * to stop). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bulkrepo/export.h"
#include "bulkrepo/set.h"
#include "bulkrepo/job.h"
#include "core/core.h"
#include "formats/format.h"
#include "jobs/install.h"
#include "jobs/meter.h"

#define JOURNAL_BATCH       500 /* journal lines per transaction */
#define JOURNAL_MAX_SECONDS 2   /* ... or fewer, so `job show` sees progress */

/* A written record waiting for its journal line (strings in the arena). */
typedef struct exp_done {
    int64_t seq;
    int64_t id;
    int64_t bitstreams;
    int64_t bytes;
    const char *key;
    const char *handle;
} exp_done;

typedef struct exp_state {
    br_repo *repo;
    const br_export_options *opt;
    int64_t job_id;
    int64_t *ids;
    size_t n_ids, cap_ids;
    int list_rc;
    br_arena *arena; /* keys and handles of pending journal lines */
    exp_done pending[JOURNAL_BATCH];
    size_t n_pending;
    struct timespec batch_start;
    br_job_meter meter; /* the job's progress, recorded in the job */
} exp_state;

static const char *const SCOPES[] = {"COLLECTION", "ITEM", "ALL", "SET"};

/* ---- the item list ----------------------------------------------------------------------------
 */

static int collect(void *ctx, const br_item_summary *s)
{
    exp_state *st = ctx;
    if (s->status && !strcmp(s->status, "withdrawn")) return 0;
    if (br_grow((void **)&st->ids, &st->cap_ids, st->n_ids + 1, sizeof *st->ids)) {
        st->list_rc = BR_ENOMEM;
        return 1;
    }
    st->ids[st->n_ids++] = s->id;
    return 0;
}

/* A set's member whose item still exists (a deleted one has nothing to export). */
static int collect_member(void *ctx, const br_set_member *m)
{
    if (!m->item_id) return 0;
    br_item_summary s = {m->item_id, m->handle, m->member, NULL, NULL, NULL, NULL};
    return collect(ctx, &s);
}

/* Fills st->ids with the items in scope, in export order. */
static int list_items(exp_state *st, br_error *err)
{
    const br_export_options *opt = st->opt;
    int rc;
    if (opt->scope == BR_EXPORT_ITEM) {
        int64_t id;
        rc = br_item_find(st->repo, opt->id, &id, err);
        if (rc == BR_ENOTFOUND)
            return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "the item cannot be found: %s",
                                opt->id);
        if (rc) return rc;
        if (br_grow((void **)&st->ids, &st->cap_ids, 1, sizeof *st->ids))
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        st->ids[st->n_ids++] = id;
        return 0;
    }
    if (opt->scope == BR_EXPORT_SET) {
        st->list_rc = 0;
        rc = br_set_members(st->repo, opt->id, collect_member, st, err);
        if (st->list_rc) return br_error_set(err, st->list_rc, NULL, 0, 0, "out of memory");
        return rc;
    }
    br_item_query q = {NULL, 0, 0};
    br_container c;
    if (opt->scope == BR_EXPORT_COLLECTION) {
        rc = br_container_get(st->repo, opt->id, &c, err);
        if (rc == BR_ENOTFOUND || (!rc && c.is_community))
            return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                                "the collection cannot be found: %s%s", opt->id,
                                rc ? "" : " (it is a community)");
        if (rc) return rc;
        q.collection = c.handle;
    }
    st->list_rc = 0;
    rc = br_item_list(st->repo, &q, collect, st, err);
    if (st->list_rc) return br_error_set(err, st->list_rc, NULL, 0, 0, "out of memory");
    return rc;
}

/* ---- the journal ------------------------------------------------------------------------------
 */

/* Writes the pending journal lines in one transaction. */
static int flush_journal(exp_state *st, br_error *err)
{
    if (!st->n_pending) return 0;
    int rc = br_repo_begin(st->repo, err);
    for (size_t i = 0; !rc && i < st->n_pending; i++) {
        const exp_done *d = &st->pending[i];
        br_job_record r = {.seq = d->seq,
                           .key = d->key,
                           .outcome = BR_OUTCOME_EXPORTED,
                           .item_id = d->id,
                           .handle = d->handle,
                           .bitstreams = d->bitstreams,
                           .bytes = d->bytes};
        rc = br_job_journal(st->repo, st->job_id, &r, err);
    }
    if (!rc)
        rc = br_repo_commit(st->repo, err);
    else
        br_repo_rollback(st->repo);
    st->n_pending = 0;
    br_arena_reset(st->arena);
    clock_gettime(CLOCK_MONOTONIC, &st->batch_start);
    return rc;
}

static const char *arena_str(br_arena *a, const char *s)
{
    return s ? br_arena_strndup(a, s, strlen(s)) : NULL;
}

/* ---- the export -------------------------------------------------------------------------------
 */

/* The job's parameters: the options as given, one shape for every format. */
static int params_json(const char *format, const br_export_options *opt, char *out, size_t size,
                       br_error *err)
{
    json_t *p = json_pack("{s:s, s:s, s:s?, s:s, s:I, s:b, s:b, s:s?, s:[], s:[]}", "format",
                          format, "scope", SCOPES[opt->scope], "id", opt->id, "dest", opt->dest,
                          "seq", (json_int_t)opt->seq, "migrate", opt->migrate != 0, "exclude",
                          opt->exclude_bitstreams != 0, "zip", opt->zip, "fields", "categories");
    for (size_t i = 0; p && i < opt->n_fields; i++)
        json_array_append_new(json_object_get(p, "fields"), json_string(opt->fields[i]));
    for (size_t i = 0; p && i < opt->n_categories; i++)
        json_array_append_new(json_object_get(p, "categories"), json_string(opt->categories[i]));
    char *s = p ? json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(p);
    int rc = 0;
    if (!s)
        rc = br_error_set(err, BR_EINVAL, NULL, 0, 0, "the export parameters are not valid UTF-8");
    else if (br_strlcpy(out, s, size) >= size)
        rc = br_error_set(err, BR_ELIMIT, NULL, 0, 0, "the export parameters are too long");
    free(s);
    return rc;
}

/* Everything after the job exists; the caller records the outcome. */
static int run_export(exp_state *st, const br_format *f, br_writer **wp, br_write_stats *ws,
                      br_export_result *res, br_error *err)
{
    br_writer *w = *wp;
    const br_export_options *opt = st->opt;
    br_record *rec = br_record_new();
    int rc = 0;
    if (!rec) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    rc = list_items(st, err);
    if (!rc) rc = br_job_set_total(st->repo, st->job_id, (int64_t)st->n_ids, err);
    if (rc) goto done;
    clock_gettime(CLOCK_MONOTONIC, &st->batch_start);
    for (size_t i = 0; i < st->n_ids; i++) {
        rc = br_item_load(st->repo, st->ids[i], rec, err);
        /* A bitstream stored without content (imported from a -x package with
         * --metadata-only) has no file: the writer lists it without one. */
        for (size_t j = 0; !rc && j < rec->n_bs; j++)
            if (!rec->bs[j].sha256[0]) rec->bs[j].path = NULL;
        size_t files = ws->files;
        uint64_t bytes = ws->bytes;
        if (!rc) rc = f->write(w, NULL, rec, err);
        if (rc) goto done;
        exp_done *d = &st->pending[st->n_pending++];
        *d = (exp_done){(int64_t)i,
                        rec->id,
                        (int64_t)(ws->files - files),
                        (int64_t)(ws->bytes - bytes),
                        arena_str(st->arena, ws->key),
                        arena_str(st->arena, rec->handle)};
        if ((ws->key && !d->key) || (rec->handle && !d->handle)) {
            st->n_pending--;
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        if (res) {
            res->items++;
            res->bitstreams += (size_t)d->bitstreams;
            res->bytes += (uint64_t)d->bytes;
        }
        br_record_reset(rec);
        if (st->n_pending == JOURNAL_BATCH ||
            br_seconds_since(&st->batch_start) >= JOURNAL_MAX_SECONDS) {
            rc = flush_journal(st, err);
            if (rc) goto done;
        }
        br_meter_update(&st->meter, BR_PHASE_EXPORTING, i + 1, st->n_ids);
        if (opt->progress &&
            opt->progress(opt->progress_ctx, BR_PHASE_EXPORTING, i + 1, st->n_ids)) {
            rc = br_error_set(err, BR_ECANCELLED, NULL, 0, 0,
                              "export stopped on request after %zu of %zu %s", i + 1, st->n_ids,
                              f->info.unit);
            goto done;
        }
    }
    *wp = NULL; /* closed (and freed) whatever the outcome */
    rc = f->writer_close(w, err);
done:
    if (rc && st->n_pending) {
        /* Journal the records written before the failure. */
        br_error ignored;
        flush_journal(st, &ignored);
    }
    if (!rc) rc = flush_journal(st, err);
    br_record_free(rec);
    return rc;
}

int br_export(br_repo *repo, const char *format, const br_export_options *opt,
              br_export_result *res, br_error *err)
{
    if (res) memset(res, 0, sizeof *res);
    const br_format *f = br_format_find(format);
    if (!f || !(f->info.caps & BR_FORMAT_WRITE) || !f->writer_open) {
        char names[256];
        br_format_names(BR_FORMAT_WRITE, names, sizeof names);
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "unsupported export format '%s' (supported: %s)", format ? format : "",
                            names);
    }
    int all = f->info.caps & BR_FORMAT_ALL_SCOPE;
    if (!repo || !opt || !opt->dest || !*opt->dest)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "export needs a destination (-d)");
    if (opt->scope != BR_EXPORT_COLLECTION && opt->scope != BR_EXPORT_ITEM &&
        opt->scope != BR_EXPORT_SET && (opt->scope != BR_EXPORT_ALL || !all))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the type must be %s",
                            all ? "COLLECTION, ITEM or ALL" : "either COLLECTION or ITEM");
    if (opt->scope != BR_EXPORT_ALL && (!opt->id || !*opt->id))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "export of a %s needs its %s",
                            opt->scope == BR_EXPORT_ITEM  ? "item"
                            : opt->scope == BR_EXPORT_SET ? "set"
                                                          : "collection",
                            opt->scope == BR_EXPORT_SET ? "name" : "handle (-i)");

    /* The writer first: its usage errors come before any job exists. */
    br_write_stats ws = {0};
    br_write_options wo = {0};
    wo.dest = opt->dest;
    wo.seq = opt->seq;
    wo.migrate = opt->migrate;
    wo.exclude_bitstreams = opt->exclude_bitstreams;
    wo.zip = opt->zip;
    wo.fields = opt->fields;
    wo.n_fields = opt->n_fields;
    wo.categories = opt->categories;
    wo.n_categories = opt->n_categories;
    wo.diags = opt->diags;
    wo.stats = &ws;
    br_writer *w = NULL;
    br_error e; /* local, so that the job gets the message even when err is NULL */
    br_error_clear(&e);
    int open_rc = f->writer_open(&wo, &w, &e);
    if (open_rc == BR_EUSAGE) {
        if (err) *err = e;
        return open_rc;
    }

    br_job job;
    memset(&job, 0, sizeof job);
    br_strlcpy(job.type, f->info.export_job, sizeof job.type);
    br_strlcpy(job.category, "export", sizeof job.category);
    if (opt->scope == BR_EXPORT_ALL)
        snprintf(job.name, sizeof job.name, "%s export of all items", f->info.short_label);
    else
        snprintf(job.name, sizeof job.name, "%s export of %s %s", f->info.short_label,
                 opt->scope == BR_EXPORT_ITEM  ? "item"
                 : opt->scope == BR_EXPORT_SET ? "set"
                                               : "collection",
                 opt->id);
    br_strlcpy(job.eperson, opt->eperson ? opt->eperson : "", sizeof job.eperson);
    br_strlcpy(job.input, opt->scope == BR_EXPORT_ALL ? "ALL" : opt->id, sizeof job.input);
    br_error jerr;
    int rc = params_json(f->info.name, opt, job.params, sizeof job.params, &jerr);
    if (!rc && opt->job_id) {
        /* The engine's queued job (engine.h): run as that one, not a new one. */
        job.id = opt->job_id;
        rc = br_job_set_status(repo, job.id, BR_JOB_RUNNING, NULL, &jerr);
    } else if (!rc) {
        rc = br_job_create(repo, &job, &jerr);
    }
    if (rc) {
        f->writer_abort(w);
        if (err) *err = jerr;
        return rc;
    }
    if (res) res->job_id = job.id;

    exp_state *st = calloc(1, sizeof *st);
    if (st) {
        st->repo = repo;
        st->opt = opt;
        st->job_id = job.id;
        st->arena = br_arena_new();
        br_meter_init(&st->meter, repo, job.id, 1);
    }
    if (open_rc)
        rc = open_rc; /* e has the writer's message */
    else if (!st || !st->arena)
        rc = br_error_set(&e, BR_ENOMEM, NULL, 0, 0, "out of memory");
    else
        rc = run_export(st, f, &w, &ws, res, &e);
    f->writer_abort(w); /* NULL once closed */

    /* The job's outcome; failing to record it is reported only when the export
     * itself succeeded, so it never hides the export's own error. */
    char msg[1200];
    size_t n = st ? st->n_ids : 0;
    /* "1 item", "2 items": units are plurals in -s. */
    size_t ul = strlen(f->info.unit);
    int cut = n == 1 && ul && f->info.unit[ul - 1] == 's';
    snprintf(msg, sizeof msg, "exported %zu %.*s to %s%s%s", n, (int)(ul - (size_t)cut),
             f->info.unit, opt->dest, opt->zip ? "/" : "", opt->zip ? opt->zip : "");
    rc = br_export_job_end(repo, job.id, rc, n, msg, opt->then_finalize, &e);
    if (st) br_meter_end(&st->meter, !rc);
    if (rc && err) *err = e;
    if (st) {
        free(st->ids);
        br_arena_free(st->arena);
        free(st);
    }
    return rc;
}

int br_export_saf(br_repo *repo, const br_export_options *opt, br_export_result *res, br_error *err)
{
    return br_export(repo, "saf", opt, res, err);
}

int br_export_esploro(br_repo *repo, const br_export_options *opt, br_export_result *res,
                      br_error *err)
{
    return br_export(repo, "esploro-csv", opt, res, err);
}

int br_export_columns(const char *format, const br_export_options *sel,
                      void (*fn)(void *ctx, const char *column, const char *category), void *ctx,
                      br_error *err)
{
    const br_format *f = br_format_find(format);
    if (!f || !(f->info.caps & BR_FORMAT_WRITE) || !f->writer_open || !fn)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "unsupported export format '%s'",
                            format ? format : "");
    br_write_options wo = {0};
    if (sel) {
        wo.fields = sel->fields;
        wo.n_fields = sel->n_fields;
        wo.categories = sel->categories;
        wo.n_categories = sel->n_categories;
    }
    wo.on_column = fn;
    wo.column_ctx = ctx;
    br_writer *w = NULL;
    int rc = f->writer_open(&wo, &w, err);
    f->writer_abort(w); /* describe mode makes none; in case a driver did */
    return rc;
}
