/* Export of a collection or an item as a DSpace Simple Archive Format package,
 * recorded as a job (type "export-saf").
 *
 *   1. resolve the scope; list the items in a stable order (br_item_list: by
 *      handle), so two exports of the same content compare equal;
 *   2. give each item its folder DEST/<seq>, <seq+1>, ... (plain numbers as in
 *      DSpace, notes §3.2) and check that none exists before writing anything;
 *   3. stream: load one item, write its folder (br_saf_write_item), journal it,
 *      report progress, reuse the record: memory stays flat, apart from one
 *      (handle, folder) pair per item kept for "folderName:" relationships;
 *   4. with a zip name, the folders go to a scratch folder inside the
 *      repository, are zipped to DEST/ZIP and the scratch folder is removed.
 *
 * Unlike DSpace (§3.2), which exports only archived items ordered by UUID, a
 * collection export takes every item owned by or mapped into the collection
 * that is not withdrawn, in handle order.
 *
 * On failure the folders completed so far stay (as in DSpace) and the journal
 * names exactly those; the item being written when it failed is removed.  With
 * -z nothing stays: the scratch folder is removed and no archive is written
 * (the journal still lists the items that were written before the failure).
 * The job ends FAILED with the message (USER_ABORTED when progress asked to
 * stop).
 */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "bulkrepo/export.h"
#include "bulkrepo/job.h"
#include "bulkrepo/saf.h"
#include "core/core.h"
#include "jobs/install.h"

#define PATH_SIZE 4096
#define JOURNAL_BATCH 500     /* journal lines per transaction */
#define JOURNAL_MAX_SECONDS 2 /* ... or fewer, so `job show` sees progress */

typedef struct exp_item {
    int64_t id;
    const char *handle; /* in the arena */
    const char *folder; /* "<n>", in the arena */
} exp_item;

/* A finished item waiting for its journal line. */
typedef struct exp_done {
    size_t index;
    int64_t bitstreams;
    int64_t bytes;
} exp_done;

typedef struct exp_state {
    br_repo *repo;
    const br_export_options *opt;
    br_arena *arena;
    exp_item *items;
    size_t n_items, cap_items;
    const exp_item **by_handle; /* items with a handle, by strcmp(handle), for folder_of */
    size_t n_by_handle;
    exp_done *pending;
    size_t n_pending;
    struct timespec batch_start;
    int64_t job_id;
    int list_rc;
} exp_state;

/* ---- the item list ---------------------------------------------------------- */

static int add_item(exp_state *st, int64_t id, const char *handle)
{
    if (br_grow((void **)&st->items, &st->cap_items, st->n_items + 1, sizeof *st->items))
        return BR_ENOMEM;
    const char *h = handle ? br_arena_strndup(st->arena, handle, strlen(handle)) : NULL;
    if (handle && !h) return BR_ENOMEM;
    st->items[st->n_items++] = (exp_item){id, h, NULL};
    return 0;
}

static int collect_item(void *ctx, const br_item_summary *s)
{
    exp_state *st = ctx;
    if (s->status && !strcmp(s->status, "withdrawn")) return 0;
    st->list_rc = add_item(st, s->id, s->handle);
    return st->list_rc ? 1 : 0;
}

/* Fills st->items with the items in scope, in export order. */
static int list_items(exp_state *st, br_record *rec, br_error *err)
{
    const br_export_options *opt = st->opt;
    int rc;
    if (opt->scope == BR_EXPORT_ITEM) {
        int64_t id;
        rc = br_item_find(st->repo, opt->id, &id, err);
        if (rc == BR_ENOTFOUND)
            return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "the item cannot be found: %s", opt->id);
        if (rc) return rc;
        /* The handle, for a relation of the item to itself. */
        rc = br_item_load(st->repo, id, rec, err);
        if (!rc && add_item(st, id, rec->handle))
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        br_record_reset(rec);
        return rc;
    }
    br_container c;
    rc = br_container_get(st->repo, opt->id, &c, err);
    if (rc == BR_ENOTFOUND || (!rc && c.is_community))
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "the collection cannot be found: %s%s",
                            opt->id, rc ? "" : " (it is a community)");
    if (rc) return rc;
    br_item_query q = {c.handle, 0, 0};
    st->list_rc = 0;
    rc = br_item_list(st->repo, &q, collect_item, st, err);
    if (st->list_rc) return br_error_set(err, st->list_rc, NULL, 0, 0, "out of memory");
    return rc;
}

static int cmp_item_handle(const void *a, const void *b)
{
    const exp_item *x = *(const exp_item *const *)a, *y = *(const exp_item *const *)b;
    return strcmp(x->handle, y->handle);
}

/* The writer's folder_of: the folder of a handle exported in this run. */
static const char *folder_of(void *ctx, const char *handle)
{
    const exp_state *st = ctx;
    exp_item key = {0, handle, NULL};
    const exp_item *pk = &key;
    const exp_item **hit =
        bsearch(&pk, st->by_handle, st->n_by_handle, sizeof *st->by_handle, cmp_item_handle);
    return hit ? (*hit)->folder : NULL;
}

/* Numbers the folders and builds the handle index. */
static int assign_folders(exp_state *st, long seq, br_error *err)
{
    if (st->n_items && seq > LONG_MAX - (long)st->n_items)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "-n %ld is too large for %zu items", seq, st->n_items);
    st->by_handle = malloc((st->n_items ? st->n_items : 1) * sizeof *st->by_handle);
    if (!st->by_handle) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    st->n_by_handle = 0;
    for (size_t i = 0; i < st->n_items; i++) {
        char num[32];
        int len = snprintf(num, sizeof num, "%ld", seq + (long)i);
        st->items[i].folder = br_arena_strndup(st->arena, num, (size_t)len);
        if (!st->items[i].folder) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        if (st->items[i].handle) st->by_handle[st->n_by_handle++] = &st->items[i];
    }
    qsort(st->by_handle, st->n_by_handle, sizeof *st->by_handle, cmp_item_handle);
    return 0;
}

/* ---- the journal ------------------------------------------------------------ */

/* Writes the pending journal lines in one transaction. */
static int flush_journal(exp_state *st, br_error *err)
{
    if (!st->n_pending) return 0;
    int rc = br_repo_begin(st->repo, err);
    for (size_t i = 0; !rc && i < st->n_pending; i++) {
        const exp_item *it = &st->items[st->pending[i].index];
        br_job_record r = {(int64_t)st->pending[i].index, it->folder, BR_OUTCOME_EXPORTED, it->id,
                           it->handle, NULL, st->pending[i].bitstreams, st->pending[i].bytes};
        rc = br_job_journal(st->repo, st->job_id, &r, err);
    }
    if (!rc) rc = br_repo_commit(st->repo, err);
    else br_repo_rollback(st->repo);
    st->n_pending = 0;
    clock_gettime(CLOCK_MONOTONIC, &st->batch_start);
    return rc;
}

/* ---- the export ------------------------------------------------------------- */

static int params_json(const br_export_options *opt, long seq, char *out, size_t size, br_error *err)
{
    json_t *p = json_pack("{s:s, s:s, s:s, s:I, s:b, s:b, s:s?}", "scope",
                          opt->scope == BR_EXPORT_ITEM ? "ITEM" : "COLLECTION", "id", opt->id,
                          "dest", opt->dest, "seq", (json_int_t)seq, "migrate", opt->migrate != 0,
                          "exclude", opt->exclude_bitstreams != 0, "zip", opt->zip);
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

static int path_exists(const char *path)
{
    struct stat st;
    return !lstat(path, &st) || errno != ENOENT;
}

/* Everything after the job exists; the caller records the outcome. */
static int run_export(exp_state *st, br_export_result *res, br_error *err)
{
    const br_export_options *opt = st->opt;
    char scratch[PATH_SIZE] = "", zip_path[PATH_SIZE], dir[PATH_SIZE];
    long seq = opt->seq;
    br_record *rec = br_record_new();
    int rc = 0;
    if (!rec) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    struct stat sb;
    if (stat(opt->dest, &sb) || !S_ISDIR(sb.st_mode)) {
        rc = br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "destination folder %s does not exist",
                          opt->dest);
        goto done;
    }
    rc = list_items(st, rec, err);
    if (!rc) rc = assign_folders(st, seq, err);
    if (!rc) rc = br_job_set_total(st->repo, st->job_id, (int64_t)st->n_items, err);
    if (rc) goto done;

    /* Nothing is written when the target is taken (DSpace: "Directory <d>/<n>
     * already exists!", §3.1). */
    if (opt->zip) {
        if (br_path_join(zip_path, sizeof zip_path, opt->dest, opt->zip)) {
            rc = br_error_set(err, BR_ELIMIT, opt->dest, 0, 0, "path too long for %s", opt->zip);
            goto done;
        }
        if (path_exists(zip_path)) {
            rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "%s already exists", zip_path);
            goto done;
        }
    } else {
        for (size_t i = 0; i < st->n_items; i++) {
            if (br_path_join(dir, sizeof dir, opt->dest, st->items[i].folder)) {
                rc = br_error_set(err, BR_ELIMIT, opt->dest, 0, 0, "path too long");
                goto done;
            }
            if (path_exists(dir)) {
                rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0,
                                  "directory %s already exists; choose another -n or destination", dir);
                goto done;
            }
        }
    }
    /* No items: no folders; with -z an empty archive still answers the request. */
    if (!st->n_items && !opt->zip) goto done;
    if (opt->zip) {
        rc = br_repo_mktemp(st->repo, "export", scratch, sizeof scratch, err);
        if (rc) {
            scratch[0] = 0;
            goto done;
        }
    }
    const char *root = opt->zip ? scratch : opt->dest;

    st->pending = malloc(JOURNAL_BATCH * sizeof *st->pending);
    if (!st->pending) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    clock_gettime(CLOCK_MONOTONIC, &st->batch_start);
    br_saf_write_options wopt = {opt->migrate, opt->exclude_bitstreams, folder_of, st};
    for (size_t i = 0; i < st->n_items; i++) {
        const exp_item *it = &st->items[i];
        if (br_path_join(dir, sizeof dir, root, it->folder)) {
            rc = br_error_set(err, BR_ELIMIT, root, 0, 0, "path too long");
            goto done;
        }
        rc = br_item_load(st->repo, it->id, rec, err);
        /* A bitstream stored without content (imported from a -x package with
         * --metadata-only) has no file: listed in contents, not written. */
        for (size_t j = 0; !rc && j < rec->n_bs; j++)
            if (!rec->bs[j].sha256[0]) rec->bs[j].path = NULL;
        if (!rc) rc = br_saf_write_item(dir, rec, &wopt, err);
        if (rc) goto done;
        exp_done *d = &st->pending[st->n_pending++];
        *d = (exp_done){i, (int64_t)rec->n_bs, 0};
        for (size_t j = 0; j < rec->n_bs; j++)
            if (!opt->exclude_bitstreams && rec->bs[j].path) d->bytes += rec->bs[j].size;
        if (res) {
            res->items++;
            res->bitstreams += rec->n_bs;
            res->bytes += (uint64_t)d->bytes;
        }
        br_record_reset(rec);
        if (st->n_pending == JOURNAL_BATCH || br_seconds_since(&st->batch_start) >= JOURNAL_MAX_SECONDS) {
            rc = flush_journal(st, err);
            if (rc) goto done;
        }
        if (opt->progress && opt->progress(opt->progress_ctx, "export", i + 1, st->n_items)) {
            rc = br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "export stopped on request after %zu of %zu items",
                              i + 1, st->n_items);
            goto done;
        }
    }
    rc = flush_journal(st, err);
    if (!rc && opt->zip) rc = br_zip_create(scratch, zip_path, err);
done:
    if (rc && st->n_pending) {
        /* Journal the folders that were completed before the failure. */
        br_error ignored;
        flush_journal(st, &ignored);
    }
    if (scratch[0]) br_rmtree(scratch); /* only the folder br_repo_mktemp made */
    br_record_free(rec);
    return rc;
}

int br_export_saf(br_repo *repo, const br_export_options *opt, br_export_result *res, br_error *err)
{
    if (res) memset(res, 0, sizeof *res);
    if (!repo || !opt || !opt->id || !*opt->id || !opt->dest || !*opt->dest)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "export needs an id (-i) and a destination (-d)");
    if (opt->scope != BR_EXPORT_COLLECTION && opt->scope != BR_EXPORT_ITEM)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the type must be either COLLECTION or ITEM");
    /* seq is taken as given, 0 included (DSpace accepts -n 0); the CLI's
     * default is 1. */
    if (opt->seq < 0)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "-n must not be negative (got %ld)", opt->seq);
    if (opt->zip && (br_path_unsafe(opt->zip) || strchr(opt->zip, '/')))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "-z '%s' must be a plain file name (it is written into the destination)",
                            opt->zip);

    br_job job;
    memset(&job, 0, sizeof job);
    br_strlcpy(job.type, "export-saf", sizeof job.type);
    br_strlcpy(job.category, "export", sizeof job.category);
    snprintf(job.name, sizeof job.name, "Export %s %s",
             opt->scope == BR_EXPORT_ITEM ? "item" : "collection", opt->id);
    br_strlcpy(job.eperson, opt->eperson ? opt->eperson : "", sizeof job.eperson);
    br_strlcpy(job.input, opt->id, sizeof job.input);
    int rc = params_json(opt, opt->seq, job.params, sizeof job.params, err);
    if (!rc && opt->job_id) {
        job.id = opt->job_id;
        rc = br_job_set_status(repo, job.id, BR_JOB_RUNNING, NULL, err);
    } else if (!rc) {
        rc = br_job_create(repo, &job, err);
    }
    if (rc) return rc;
    if (res) res->job_id = job.id;

    /* A local record, so that the job gets the message even when err is NULL. */
    br_error e;
    br_error_clear(&e);
    exp_state st;
    memset(&st, 0, sizeof st);
    st.repo = repo;
    st.opt = opt;
    st.job_id = job.id;
    st.arena = br_arena_new();
    if (!st.arena)
        rc = br_error_set(&e, BR_ENOMEM, NULL, 0, 0, "out of memory");
    else
        rc = run_export(&st, res, &e);

    /* The job's outcome; failing to record it is reported only when the export
     * itself succeeded, so it never hides the export's own error. */
    char msg[1200];
    snprintf(msg, sizeof msg, "exported %zu item%s to %s%s%s", st.n_items, st.n_items == 1 ? "" : "s",
             opt->dest, opt->zip ? "/" : "", opt->zip ? opt->zip : "");
    rc = br_export_job_end(repo, job.id, rc, st.n_items, msg, &e);
    if (rc && err) *err = e;
    free(st.items);
    free(st.by_handle);
    free(st.pending);
    br_arena_free(st.arena);
    return rc;
}
