/* Export as one Esploro research-asset CSV (issue 3, item 3), recorded as a
 * job of type "export-esploro".
 *
 *   1. resolve the scope (a collection, an item, or every item) and list the
 *      item ids in handle order (br_item_list), withdrawn items left out;
 *   2. refuse when the CSV or its files folder exists (nothing is written);
 *   3. stream: load one item, copy its files to "<dest>.files/<handle>/",
 *      write its rows (br_ecsv_write_record), journal it, reuse the record;
 *      memory is one record plus one id per item;
 *   4. close the writer (temporary file renamed into place).
 *
 * Column B is RESEARCH_ASSET_ID = the item's handle: the import resolves it as
 * an existing asset, so an edited export re-imports as an update.  Unlike
 * Esploro's own export (notes/formats.md 1.7) the file carries CREATOR, CONT
 * and FILE rows, so export -> edit -> import loses nothing.
 *
 * On failure the CSV is not written (the writer removes its temporary file)
 * and the files folder is removed; the journal names the assets written
 * before the failure, and the job ends FAILED with the message. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include "bulkrepo/esploro.h"
#include "bulkrepo/export.h"
#include "bulkrepo/job.h"
#include "core/core.h"
#include "jobs/install.h"
#include "jobs/ecsv_files.h"

#define PATH_SIZE           4096
#define JOURNAL_BATCH       500 /* journal lines per transaction */
#define JOURNAL_MAX_SECONDS 2   /* ... or fewer, so `job show` sees progress */

typedef struct ee_done {
    int64_t seq;
    int64_t id;
    int64_t bitstreams;
    int64_t bytes;
    const char *handle; /* in the arena */
} ee_done;

typedef struct ee_state {
    br_repo *repo;
    const br_export_options *opt;
    int64_t job_id;
    int64_t *ids;
    size_t n_ids, cap_ids;
    int list_rc;
    br_arena *arena; /* handles of pending journal lines */
    ee_done pending[JOURNAL_BATCH];
    size_t n_pending;
    struct timespec batch_start;
    char files_dir[PATH_SIZE]; /* "<dest>.files" */
    const char *files_rel;     /* its name relative to the CSV's folder */
    int made_files_dir;
    br_ecsv_xwalk *xw;
    const char **columns; /* -x: the selection without FILE columns (names in xw) */
    size_t n_columns;
} ee_state;

static int collect(void *ctx, const br_item_summary *s)
{
    ee_state *st = ctx;
    if (s->status && !strcmp(s->status, "withdrawn")) return 0;
    if (br_grow((void **)&st->ids, &st->cap_ids, st->n_ids + 1, sizeof *st->ids)) {
        st->list_rc = BR_ENOMEM;
        return 1;
    }
    st->ids[st->n_ids++] = s->id;
    return 0;
}

/* Copies rec's files that have content to <files_dir>/<sub>/<name> and points
 * each bitstream at its copy, relative to the CSV's folder (files_rel/sub/name).
 * A name that is not a safe relative path, or that has bytes FILE_FILEURL
 * cannot hold (spaces, controls: Esploro URLs have none), is copied under a
 * sanitised name "<n>_<name>" (FILE_DISPLAY_NAME keeps the real name).  Files
 * without content get no path. */
int br_ecsv_copy_files(br_record *rec, const char *files_dir, const char *files_rel,
                       const char *sub, int64_t *bytes, br_error *err)
{
    char dir[PATH_SIZE], dst[PATH_SIZE], rel[PATH_SIZE], safe[PATH_SIZE];
    if (br_path_join(dir, sizeof dir, files_dir, sub))
        return br_error_set(err, BR_ELIMIT, files_dir, 0, 0, "path too long");
    int made = 0;
    for (size_t j = 0; j < rec->n_bs; j++) {
        br_bitstream *b = &rec->bs[j];
        if (!b->path) continue;
        const char *name = b->name ? b->name : "";
        int changed = !*name || br_path_unsafe(name) != NULL;
        size_t k = 0;
        for (const char *p = changed ? "file" : name; *p && k + 1 < sizeof safe; p++) {
            int bad = (unsigned char)*p <= 0x20 || *p == 0x7f;
            safe[k++] = bad ? '_' : *p;
            changed |= bad;
        }
        safe[k] = 0;
        if (changed) {
            char tmp[PATH_SIZE];
            snprintf(tmp, sizeof tmp, "%zu_%s", j + 1, safe);
            br_strlcpy(safe, tmp, sizeof safe);
        }
        if (br_path_join(dst, sizeof dst, dir, safe) ||
            snprintf(rel, sizeof rel, "%s/%s/%s", files_rel, sub, safe) >= (int)sizeof rel)
            return br_error_set(err, BR_ELIMIT, dir, 0, 0, "path too long for %s", safe);
        if (!made) {
            int rc = br_mkdir_p(dir, err);
            if (rc) return rc;
            made = 1;
        }
        if (strchr(safe, '/')) {
            char parent[PATH_SIZE];
            br_strlcpy(parent, dst, sizeof parent);
            *strrchr(parent, '/') = 0;
            int rc = br_mkdir_p(parent, err);
            if (rc) return rc;
        }
        int rc = br_copy_file(b->path, dst, err);
        if (rc) return rc;
        if (!(b->path = br_record_str(rec, rel)))
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        if (bytes) {
            struct stat sb;
            *bytes += !stat(dst, &sb) ? (int64_t)sb.st_size : 0;
        }
    }
    return 0;
}

static int list_items(ee_state *st, br_error *err)
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
    rc = br_item_list(st->repo, &q, collect, st, err);
    if (st->list_rc) return br_error_set(err, st->list_rc, NULL, 0, 0, "out of memory");
    return rc;
}

static int flush_journal(ee_state *st, br_error *err)
{
    if (!st->n_pending) return 0;
    int rc = br_repo_begin(st->repo, err);
    for (size_t i = 0; !rc && i < st->n_pending; i++) {
        const ee_done *d = &st->pending[i];
        br_job_record r = {d->seq,    d->handle, BR_OUTCOME_EXPORTED, d->id,
                           d->handle, NULL,      d->bitstreams,       d->bytes};
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

static int copy_files(ee_state *st, br_record *rec, int64_t *bytes, br_error *err)
{
    char sub[256];
    br_strlcpy(sub, rec->handle ? rec->handle : "item", sizeof sub);
    for (char *p = sub; *p; p++)
        if (*p == '/' || *p == '\\') *p = '_';
    return br_ecsv_copy_files(rec, st->files_dir, st->files_rel, sub, bytes, err);
}

static int path_exists(const char *path)
{
    struct stat sb;
    return !lstat(path, &sb) || errno != ENOENT;
}

static int selected(const br_export_options *opt, const br_ecsv_field *f)
{
    int keep = !opt->n_fields && !opt->n_categories;
    for (size_t k = 0; !keep && k < opt->n_fields; k++)
        keep = opt->fields[k] && !strcasecmp(opt->fields[k], f->column);
    for (size_t k = 0; !keep && k < opt->n_categories; k++)
        keep = opt->categories[k] && !strcasecmp(opt->categories[k], f->category);
    return keep;
}

/* -x: the selected columns (all when none were selected) without FILE_*. */
static int columns_without_files(ee_state *st, br_error *err)
{
    size_t n = br_ecsv_xwalk_count(st->xw);
    st->columns = calloc(n + 1, sizeof *st->columns);
    if (!st->columns) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const br_ecsv_field *f = br_ecsv_xwalk_at(st->xw, i);
        if (strcmp(f->row, "FILE") && selected(st->opt, f))
            st->columns[st->n_columns++] = f->column;
    }
    if (!st->n_columns)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "-x leaves no column to export: the selection has only FILE columns");
    return 0;
}

/* Every name in --fields must be a column, every --categories name a category. */
static int check_selection(const br_ecsv_xwalk *x, const br_export_options *opt, br_error *err)
{
    for (size_t i = 0; i < opt->n_fields; i++)
        if (!opt->fields[i] || !br_ecsv_xwalk_column(x, opt->fields[i]))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "unknown Esploro column '%s'",
                                opt->fields[i] ? opt->fields[i] : "");
    for (size_t i = 0; i < opt->n_categories; i++) {
        int found = 0;
        for (size_t k = 0; !found && opt->categories[i] && k < br_ecsv_xwalk_count(x); k++)
            found = !strcasecmp(br_ecsv_xwalk_at(x, k)->category, opt->categories[i]);
        if (!found)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "unknown Esploro field category '%s'",
                                opt->categories[i] ? opt->categories[i] : "");
    }
    return 0;
}

static int run_export(ee_state *st, br_export_result *res, br_error *err)
{
    const br_export_options *opt = st->opt;
    br_ecsv_writer *w = NULL;
    br_record *rec = br_record_new();
    char base[PATH_SIZE];
    int rc = 0;
    if (!rec) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");

    /* <dest>.files next to the CSV, referenced relative to the CSV's folder. */
    if (snprintf(st->files_dir, sizeof st->files_dir, "%s.files", opt->dest) >=
        (int)sizeof st->files_dir) {
        rc = br_error_set(err, BR_ELIMIT, opt->dest, 0, 0, "path too long");
        goto done;
    }
    const char *slash = strrchr(st->files_dir, '/');
    st->files_rel = slash ? slash + 1 : st->files_dir;
    br_strlcpy(base, opt->dest, sizeof base);
    char *bs = strrchr(base, '/');
    if (bs)
        *bs = 0;
    else
        strcpy(base, ".");

    rc = list_items(st, err);
    if (!rc) rc = br_job_set_total(st->repo, st->job_id, (int64_t)st->n_ids, err);
    if (rc) goto done;
    if (path_exists(opt->dest)) {
        rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "%s already exists", opt->dest);
        goto done;
    }
    if (!opt->exclude_bitstreams && path_exists(st->files_dir)) {
        rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "%s already exists (the files go there)",
                          st->files_dir);
        goto done;
    }
    if (opt->exclude_bitstreams && (rc = columns_without_files(st, err))) goto done;

    br_ecsv_write_options wo = {0};
    wo.key_header = "RESEARCH_ASSET_ID";
    if (opt->exclude_bitstreams) {
        wo.columns = st->columns;
        wo.n_columns = st->n_columns;
    } else {
        wo.columns = opt->fields;
        wo.n_columns = opt->n_fields;
        wo.categories = opt->categories;
        wo.n_categories = opt->n_categories;
    }
    wo.base_dir = base;
    wo.diags = opt->diags;
    rc = br_ecsv_writer_open(opt->dest, &wo, &w, err);
    if (rc) goto done;
    if (!opt->exclude_bitstreams) {
        rc = br_mkdir_p(st->files_dir, err);
        if (rc) goto done;
        st->made_files_dir = 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &st->batch_start);
    for (size_t i = 0; i < st->n_ids; i++) {
        int64_t bytes = 0;
        rc = br_item_load(st->repo, st->ids[i], rec, err);
        /* Files stored without content (a -x package imported --metadata-only). */
        for (size_t j = 0; !rc && j < rec->n_bs; j++)
            if (!rec->bs[j].sha256[0]) rec->bs[j].path = NULL;
        if (!rc && !opt->exclude_bitstreams) rc = copy_files(st, rec, &bytes, err);
        if (!rc && !rec->handle)
            rc = br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "item %lld has no handle",
                              (long long)st->ids[i]);
        if (!rc) rc = br_ecsv_write_record(w, rec->handle, rec, err);
        if (rc) goto done;
        ee_done *d = &st->pending[st->n_pending++];
        *d = (ee_done){(int64_t)i, rec->id, opt->exclude_bitstreams ? 0 : (int64_t)rec->n_bs, bytes,
                       br_arena_strndup(st->arena, rec->handle, strlen(rec->handle))};
        if (!d->handle) {
            st->n_pending--;
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        if (res) {
            res->items++;
            res->bitstreams += (size_t)d->bitstreams;
            res->bytes += (uint64_t)bytes;
        }
        br_record_reset(rec);
        if (st->n_pending == JOURNAL_BATCH ||
            br_seconds_since(&st->batch_start) >= JOURNAL_MAX_SECONDS) {
            rc = flush_journal(st, err);
            if (rc) goto done;
        }
        if (opt->progress && opt->progress(opt->progress_ctx, "export", i + 1, st->n_ids)) {
            rc = br_error_set(err, BR_ECANCELLED, NULL, 0, 0,
                              "export stopped on request after %zu of %zu items", i + 1, st->n_ids);
            goto done;
        }
    }
    rc = br_ecsv_writer_close(w, err);
    w = NULL;
    if (!rc) rc = flush_journal(st, err);
done:
    br_ecsv_writer_abort(w);
    if (rc && st->n_pending) {
        br_error ignored;
        flush_journal(st, &ignored);
    }
    if (rc && st->made_files_dir) br_rmtree(st->files_dir); /* only the folder made here */
    br_record_free(rec);
    return rc;
}

static int params_json(const br_export_options *opt, char *out, size_t size, br_error *err)
{
    static const char *const SCOPES[] = {"COLLECTION", "ITEM", "ALL"};
    json_t *p = json_pack("{s:s, s:s?, s:s, s:b, s:[], s:[]}", "scope", SCOPES[opt->scope], "id",
                          opt->id, "dest", opt->dest, "exclude", opt->exclude_bitstreams != 0,
                          "fields", "categories");
    for (size_t i = 0; p && i < opt->n_fields; i++)
        json_array_append_new(json_object_get(p, "fields"), json_string(opt->fields[i]));
    for (size_t i = 0; p && i < opt->n_categories; i++)
        json_array_append_new(json_object_get(p, "categories"), json_string(opt->categories[i]));
    char *s = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    int rc = 0;
    if (!s)
        rc = br_error_set(err, BR_EINVAL, NULL, 0, 0, "the export parameters are not valid UTF-8");
    else if (br_strlcpy(out, s, size) >= size)
        rc = br_error_set(err, BR_ELIMIT, NULL, 0, 0, "the export parameters are too long");
    free(s);
    return rc;
}

int br_export_esploro(br_repo *repo, const br_export_options *opt, br_export_result *res,
                      br_error *err)
{
    if (res) memset(res, 0, sizeof *res);
    if (!repo || !opt || !opt->dest || !*opt->dest)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "export needs a destination file (-d)");
    if (opt->scope != BR_EXPORT_COLLECTION && opt->scope != BR_EXPORT_ITEM &&
        opt->scope != BR_EXPORT_ALL)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the type must be COLLECTION, ITEM or ALL");
    if (opt->scope != BR_EXPORT_ALL && (!opt->id || !*opt->id))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "export of a %s needs its handle (-i)",
                            opt->scope == BR_EXPORT_ITEM ? "item" : "collection");
    /* Unknown columns or categories are usage errors before any job exists. */
    br_ecsv_xwalk *x;
    int rc = br_ecsv_xwalk_new(&x, err);
    if (!rc) rc = check_selection(x, opt, err);
    if (rc) {
        br_ecsv_xwalk_free(x);
        return rc;
    }

    br_job job;
    memset(&job, 0, sizeof job);
    br_strlcpy(job.type, "export-esploro", sizeof job.type);
    br_strlcpy(job.category, "export", sizeof job.category);
    if (opt->scope == BR_EXPORT_ALL)
        snprintf(job.name, sizeof job.name, "Research assets CSV export of all items");
    else
        snprintf(job.name, sizeof job.name, "Research assets CSV export of %s %s",
                 opt->scope == BR_EXPORT_ITEM ? "item" : "collection", opt->id);
    br_strlcpy(job.eperson, opt->eperson ? opt->eperson : "", sizeof job.eperson);
    br_strlcpy(job.input, opt->scope == BR_EXPORT_ALL ? "ALL" : opt->id, sizeof job.input);
    rc = params_json(opt, job.params, sizeof job.params, err);
    if (!rc && opt->job_id) {
        /* The engine's queued job (engine.h): run as that one, not a new one. */
        job.id = opt->job_id;
        rc = br_job_set_status(repo, job.id, BR_JOB_RUNNING, NULL, err);
    } else if (!rc) {
        rc = br_job_create(repo, &job, err);
    }
    if (rc) {
        br_ecsv_xwalk_free(x);
        return rc;
    }
    if (res) res->job_id = job.id;

    br_error e;
    br_error_clear(&e);
    ee_state *st = calloc(1, sizeof *st);
    if (st) {
        st->repo = repo;
        st->opt = opt;
        st->job_id = job.id;
        st->arena = br_arena_new();
        st->xw = x;
    }
    if (!st || !st->arena)
        rc = br_error_set(&e, BR_ENOMEM, NULL, 0, 0, "out of memory");
    else
        rc = run_export(st, res, &e);

    char msg[1200];
    size_t n = st ? st->n_ids : 0;
    snprintf(msg, sizeof msg, "exported %zu asset%s to %s", n, n == 1 ? "" : "s", opt->dest);
    rc = br_export_job_end(repo, job.id, rc, n, msg, &e);
    if (rc && err) *err = e;
    br_ecsv_xwalk_free(x);
    if (st) {
        free(st->ids);
        free(st->columns);
        br_arena_free(st->arena);
        free(st);
    }
    return rc;
}
