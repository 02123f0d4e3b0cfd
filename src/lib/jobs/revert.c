/* Reverting a job from its undo journal (setjob.h), the trash's restore and purge.
 *
 * Every undo row says what the job did to one record and holds the parts it changed as they
 * were; after holds the item's version as the job left it.  A record whose version moved since
 * (or that was deleted, or whose UUID or handle is in use again) is a conflict: left as it is
 * and reported, unless force.  Created records go to the trash (restorable), updated ones get
 * their parts back, deleted ones come back with their UUID and handle.  Each record is one
 * journal line of the revert job and one undo row of its own, so a revert can be reverted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/core.h"
#include "jobs/setjob.h"
#include "model/researcher_internal.h"
#include "model/snapshot.h"
#include "store/store_setjob.h"

enum { PAGE = 200 };

typedef struct rv {
    br_repo *repo;
    int64_t job_id; /* the revert job, 0 in a dry run */
    int force;
    br_record *cur, *snap;
    br_revert_fn fn;
    void *ctx;
    int64_t total, conflicts, seq;
    br_error *err;
    int rc;
} rv;

/* Whether the record changed after the job: 1 conflict, 0 not, negative on failure.  *id gets
 * the item (0 when absent). */
static int conflict_of(rv *c, const br_undo_row *row, int64_t *id, const char **why)
{
    *id = 0;
    int rc = br_item_find(c->repo, row->uuid, id, c->err);
    if (rc && rc != BR_ENOTFOUND) return rc;
    if (!strcmp(row->action, "deleted")) {
        *why = "an item with its UUID exists again";
        return rc == 0;
    }
    if (rc == BR_ENOTFOUND) {
        *id = 0;
        *why = "it was deleted after the job";
        return 1;
    }
    int64_t v;
    if ((rc = br_item_version(c->repo, *id, &v, c->err))) return rc;
    char now[32];
    snprintf(now, sizeof now, "%lld", (long long)v);
    *why = "it changed after the job";
    return row->after && strcmp(row->after, now);
}

/* Puts the parts of the snapshot back on the stored record. */
static int put_back(rv *c, int64_t id, const br_undo_row *row, br_error *err)
{
    unsigned parts = 0;
    int rc = br_item_load(c->repo, id, c->cur, err);
    if (!rc) rc = br_snapshot_read(row->before, c->snap, &parts, err);
    if (rc) return rc;
    /* The record as it is, with the changed parts taken from the snapshot. */
    char *keep = NULL;
    if ((rc = br_snapshot_write(c->cur, BR_PART_ALL & ~parts, &keep, err))) return rc;
    char *back = NULL;
    rc = br_snapshot_write(c->snap, parts, &back, err);
    json_t *a = rc ? NULL : json_loads(keep, 0, NULL), *b = rc ? NULL : json_loads(back, 0, NULL);
    free(keep);
    free(back);
    char *merged = NULL;
    if (!rc && (!a || !b || json_object_update(a, b) ||
                !(merged = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER))))
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    json_decref(a);
    json_decref(b);
    if (!rc) rc = br_snapshot_read(merged, c->snap, NULL, err);
    free(merged);
    if (rc) return rc;
    c->snap->id = id;
    br_item_write w = {(parts & BR_PART_STATUS) ? c->snap->status : NULL, 0, NULL};
    char *before = NULL;
    if (c->job_id && (rc = br_snapshot_write(c->cur, parts, &before, err))) return rc;
    if (!rc) rc = br_item_update(c->repo, c->snap, &w, err);
    /* Relations are not br_item_update's to write (the relation jobs' undo rows hold them). */
    if (!rc && (parts & BR_PART_RELATIONS))
        rc = br_sj_relations_put_back(c->repo, c->job_id, id, c->snap, err);
    int64_t v = 0;
    char after[32];
    if (!rc && c->job_id && !(rc = br_item_version(c->repo, id, &v, err))) {
        snprintf(after, sizeof after, "%lld", (long long)v);
        br_undo_row mine = {row->uuid, "updated", before, after};
        rc = br_undo_put(c->repo, c->job_id, &mine, err);
    }
    free(before);
    return rc;
}

/* The trash's copy of a record when it is there: it is the undo row's snapshot plus the
 * relations handed to it since (br_sj_restore_record). */
static int trash_record(void *ctx, const br_trash_row *row)
{
    char **out = ctx;
    *out = strdup(row->record ? row->record : "");
    return 1;
}

static int bring_back(rv *c, const br_undo_row *row, br_error *err)
{
    char *kept = NULL;
    int rc = br_trash_get(c->repo, row->uuid, trash_record, &kept, err);
    if (rc == BR_ENOTFOUND) rc = 0;
    if (!rc) rc = br_snapshot_read(kept ? kept : row->before, c->snap, NULL, err);
    free(kept);
    char handle[64];
    if (!rc) rc = br_sj_restore_record(c->repo, c->snap, handle, err);
    if (!rc) { /* it leaves the trash, if the job put it there */
        br_error e;
        br_trash_remove(c->repo, row->uuid, &e);
    }
    if (!rc && c->job_id) {
        br_undo_row mine = {row->uuid, "created", NULL, "0"};
        rc = br_undo_put(c->repo, c->job_id, &mine, err);
    }
    return rc;
}

static int revert_one(rv *c, const br_undo_row *row, int64_t id, br_error *err)
{
    if (!strcmp(row->action, "created")) {
        int rc = br_item_load(c->repo, id, c->cur, err);
        return rc ? rc : br_sj_trash_item(c->repo, c->cur, c->job_id, 30, err);
    }
    if (!strcmp(row->action, "updated")) return put_back(c, id, row, err);
    return bring_back(c, row, err);
}

/* The record's handle before the revert acts (the revert keeps handles): the stored item's
 * (id), else its snapshot's; "" when neither has one. */
static void handle_of(rv *c, const br_undo_row *row, int64_t id, char handle[64])
{
    handle[0] = 0;
    if (id && !br_item_load(c->repo, id, c->cur, NULL) && c->cur->handle)
        br_strlcpy(handle, c->cur->handle, 64);
    else if (row->before && !br_snapshot_read(row->before, c->snap, NULL, NULL) && c->snap->handle)
        br_strlcpy(handle, c->snap->handle, 64);
}

static int journal(rv *c, const br_undo_row *row, int64_t id, const char *handle,
                   const char *outcome, const char *msg, br_error *err)
{
    br_job_record jr = {c->seq++, row->uuid, outcome, id,   handle[0] ? handle : NULL,
                        msg,      0,         0,       NULL, 0};
    return br_job_journal(c->repo, c->job_id, &jr, err);
}

/* An undo row of a record that is not an item: update-researchers' ("researcher:ROW",
 * setjob_researcher.c) or update-users' ("user:ID", setjob_users.c), put back by the driver's
 * revert (`what` names the record in the journal), a conflict (changed since, gone) left
 * unless force. */
typedef int (*other_revert_fn)(br_repo *repo, int64_t job_id, const br_undo_row *row, int apply,
                               int *conflict, const char **why, char *name, size_t size,
                               br_error *err);

static int other_one(rv *c, const br_undo_row *row, other_revert_fn revert, const char *what)
{
    int conflict = 0;
    const char *why = NULL;
    char name[BR_RESEARCHER_ID_MAX + 1], msg[1200];
    br_error e;
    int rc = revert(c->repo, 0, row, 0, &conflict, &why, name, sizeof name, &e);
    if (rc == BR_ESTORE || rc == BR_ENOMEM) {
        if (c->err) *c->err = e;
        return c->rc = rc;
    }
    if (rc) { /* an undo row that does not read: reported, never applied */
        conflict = 1;
        why = e.message;
    }
    c->total++;
    c->conflicts += conflict;
    if (!c->job_id) {
        br_revert_line l = {row->uuid, name[0] ? name : NULL, row->action, conflict};
        return c->fn ? c->fn(c->ctx, &l) : 0;
    }
    if (conflict && (rc || !c->force)) {
        snprintf(msg, sizeof msg, "%s %s not reverted: %s%s", what, name, why,
                 rc ? "" : " (revert with force to overwrite)");
        return c->rc =
                   journal(c, row, 0, "", rc ? BR_OUTCOME_FAILED : BR_OUTCOME_SKIPPED, msg, c->err);
    }
    rc = revert(c->repo, c->job_id, row, 1, &conflict, &why, name, sizeof name, &e);
    if (rc == BR_ESTORE || rc == BR_ENOMEM) {
        if (c->err) *c->err = e;
        return c->rc = rc;
    }
    snprintf(msg, sizeof msg, "%s %s %s%s", what, name, rc ? "not reverted: " : "put back",
             rc ? e.message : "");
    return c->rc = journal(c, row, 0, "", rc ? BR_OUTCOME_FAILED : BR_OUTCOME_UPDATED, msg, c->err);
}

static int one(void *ctx, const br_undo_row *row)
{
    rv *c = ctx;
    if (!strncmp(row->uuid, BR_RESEARCHER_UNDO_PREFIX, strlen(BR_RESEARCHER_UNDO_PREFIX)))
        return other_one(c, row, br_sj_researcher_revert, "researcher");
    if (!strncmp(row->uuid, BR_SJ_USER_UNDO_PREFIX, strlen(BR_SJ_USER_UNDO_PREFIX)))
        return other_one(c, row, br_sj_user_revert, "user");
    int64_t id;
    const char *why = NULL;
    int conflict = conflict_of(c, row, &id, &why);
    if (conflict < 0) return c->rc = conflict;
    c->total++;
    c->conflicts += conflict;
    char handle[64];
    handle_of(c, row, id, handle);
    if (!c->job_id) {
        br_revert_line l = {row->uuid, handle[0] ? handle : NULL, row->action, conflict};
        return c->fn ? c->fn(c->ctx, &l) : 0;
    }
    if (conflict && !c->force) {
        char msg[160];
        snprintf(msg, sizeof msg, "not reverted: %s (revert with force to overwrite)", why);
        return c->rc = journal(c, row, id, handle, BR_OUTCOME_SKIPPED, msg, c->err);
    }
    if (conflict && !strcmp(row->action, "deleted")) /* force cannot bring back a UUID in use */
        return c->rc = journal(c, row, id, handle, BR_OUTCOME_FAILED, why, c->err);
    if (conflict && !id) return c->rc = journal(c, row, 0, handle, BR_OUTCOME_FAILED, why, c->err);
    br_error e;
    int rc = revert_one(c, row, id, &e);
    if (rc == BR_ESTORE || rc == BR_ENOMEM || rc == BR_EIO) {
        if (c->err) *c->err = e;
        return c->rc = rc;
    }
    char msg[1100] = "";
    if (rc) br_error_format(&e, msg, sizeof msg);
    const char *outcome = rc                                ? BR_OUTCOME_FAILED
                          : !strcmp(row->action, "created") ? BR_OUTCOME_DELETED
                          : !strcmp(row->action, "deleted") ? BR_OUTCOME_IMPORTED
                                                            : BR_OUTCOME_UPDATED;
    if (!rc && !strcmp(row->action, "deleted") && br_item_find(c->repo, row->uuid, &id, NULL))
        id = 0; /* the item it came back as (a new row) */
    return c->rc = journal(c, row, id, handle, outcome, rc ? msg : NULL, c->err);
}

static int check_job(br_repo *repo, int64_t job_id, br_error *err)
{
    br_job j;
    int rc = br_job_get(repo, job_id, &j, err);
    if (rc) return rc;
    if (!br_job_status_ended(j.status))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "job %lld has not ended",
                            (long long)job_id);
    int64_t n;
    if ((rc = br_undo_count(repo, job_id, &n, err))) return rc;
    return n ? 0
             : br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "job %lld changed no record: there is nothing to revert",
                            (long long)job_id);
}

int br_job_revertible(br_repo *repo, int64_t job_id, br_error *err)
{
    br_error e;
    int rc = check_job(repo, job_id, &e);
    if (rc == BR_EUSAGE) return 0;
    if (rc && err) *err = e;
    return rc ? rc : 1;
}

static int walk(rv *c, int64_t job_id, br_progress_fn progress, void *pctx)
{
    char after[64] = "", last[64];
    int64_t n = 0;
    int rc = br_undo_count(c->repo, job_id, &n, c->err);
    for (int64_t done = 0; !rc;) {
        if (c->job_id && (rc = br_repo_begin(c->repo, c->err))) break;
        rc = br_undo_page(c->repo, job_id, after, PAGE, one, c, last, c->err);
        if (!rc) rc = c->rc;
        if (c->job_id) {
            if (!rc) rc = br_repo_commit(c->repo, c->err);
            if (rc) br_repo_rollback(c->repo);
        }
        if (rc || !last[0]) break;
        br_strlcpy(after, last, sizeof after);
        done = c->total;
        if (progress && progress(pctx, "revert", (size_t)done, (size_t)n))
            rc = br_error_set(c->err, BR_ECANCELLED, NULL, 0, 0, "cancelled");
    }
    return rc > 0 ? 0 : rc;
}

int br_revert_preview(br_repo *repo, int64_t job_id, br_revert_fn fn, void *ctx, int64_t *total,
                      int64_t *conflicts, br_error *err)
{
    int rc = check_job(repo, job_id, err);
    if (rc) return rc;
    rv c = {repo, 0, 0, br_record_new(), br_record_new(), fn, ctx, 0, 0, 0, err, 0};
    if (!c.cur || !c.snap) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!rc) rc = walk(&c, job_id, NULL, NULL);
    if (total) *total = c.total;
    if (conflicts) *conflicts = c.conflicts;
    br_record_free(c.cur);
    br_record_free(c.snap);
    return rc;
}

int br_revert_run(br_repo *repo, const br_job *job, json_t *params, br_progress_fn progress,
                  void *pctx, int64_t *records, br_error *err)
{
    json_t *j = json_object_get(params, "job");
    int64_t target = json_is_integer(j)  ? (int64_t)json_integer_value(j)
                     : json_is_string(j) ? strtoll(json_string_value(j), NULL, 10)
                                         : 0;
    char buf[16];
    const char *f = br_sj_value_text(json_object_get(params, "force"), buf, sizeof buf);
    int rc = target > 0 ? check_job(repo, target, err)
                        : br_error_set(err, BR_EUSAGE, "job", 0, 0,
                                       "a revert needs \"job\": the job's id");
    if (rc) return rc;
    rv c = {repo,
            job->id,
            f && !strcmp(f, "true"),
            br_record_new(),
            br_record_new(),
            NULL,
            NULL,
            0,
            0,
            0,
            err,
            0};
    if (!c.cur || !c.snap) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    /* A rerun after a crash starts again: lines already written are replaced. */
    if (!rc) rc = walk(&c, target, progress, pctx);
    *records = c.total;
    br_record_free(c.cur);
    br_record_free(c.snap);
    if (rc == BR_ECANCELLED)
        return br_job_set_status(repo, job->id, BR_JOB_USER_ABORTED, "cancelled", NULL), rc;
    if (rc) return rc;
    br_job me;
    if ((rc = br_job_get(repo, job->id, &me, err))) return rc;
    char msg[256];
    snprintf(msg, sizeof msg,
             "job %lld reverted: %lld records, %lld left as they were (changed since), %lld failed",
             (long long)target, (long long)c.total, (long long)me.counters.skipped,
             (long long)me.counters.failed);
    return br_job_set_status(repo, job->id,
                             me.counters.failed || me.counters.skipped
                                 ? BR_JOB_COMPLETED_WITH_ERRORS
                                 : BR_JOB_COMPLETED_SUCCESS,
                             msg, err);
}

/* ---- the trash ---------------------------------------------------------------------------- */

typedef struct list_ctx {
    br_trash_fn fn;
    void *ctx;
    br_record *rec;
    int stop;
} list_ctx;

static int list_one(void *ctx, const br_trash_row *row)
{
    list_ctx *c = ctx;
    const char *title = NULL;
    if (!br_snapshot_read(row->record, c->rec, NULL, NULL))
        title = br_record_first(c->rec, "dc.title");
    br_trash_entry e = {row->uuid, row->handle, title, row->deleted, row->job_id, row->purge_after};
    return c->stop = c->fn(c->ctx, &e);
}

int br_trash_list(br_repo *repo, br_trash_fn fn, void *ctx, br_error *err)
{
    list_ctx c = {fn, ctx, br_record_new(), 0};
    if (!c.rec) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    char after[64] = "", last[64];
    int rc;
    while (!(rc = br_trash_page(repo, after, PAGE, list_one, &c, last, err)) && last[0] && !c.stop)
        br_strlcpy(after, last, sizeof after);
    br_record_free(c.rec);
    return rc;
}

typedef struct restore_ctx {
    br_repo *repo;
    char uuid[64];
    char *handle;
    br_error *err;
    int rc;
} restore_ctx;

static int restore_one(void *ctx, const br_trash_row *row)
{
    restore_ctx *c = ctx;
    br_record *rec = br_record_new();
    if (!rec) return c->rc = br_error_set(c->err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_strlcpy(c->uuid, row->uuid, sizeof c->uuid);
    c->rc = br_snapshot_read(row->record, rec, NULL, c->err);
    if (!c->rc) c->rc = br_sj_restore_record(c->repo, rec, c->handle, c->err);
    br_record_free(rec);
    return 1;
}

int br_item_restore(br_repo *repo, const char *key, char *handle, br_error *err)
{
    if (!key || !*key)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "restore what? (UUID or handle)");
    restore_ctx c = {repo, "", handle, err, 0};
    int rc = br_repo_begin(repo, err);
    if (!rc) rc = br_trash_get(repo, key, restore_one, &c, err);
    if (!rc) rc = c.rc;
    if (!rc) rc = br_trash_remove(repo, c.uuid, err);
    if (!rc) rc = br_repo_commit(repo, err);
    if (rc) br_repo_rollback(repo);
    return rc;
}

/* A job stays revertible BR_UNDO_KEEP_DAYS after it ended: then its undo rows go, and the
 * files only they kept (a deleted or replaced record's) are left to br_asset_gc. */
static int purge_undo(br_repo *repo, int64_t now, br_error *err)
{
    time_t cut = (time_t)(now - (int64_t)BR_UNDO_KEEP_DAYS * 86400);
    struct tm tm;
    char before[32];
    if (!gmtime_r(&cut, &tm) || !strftime(before, sizeof before, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "cannot format the undo cut-off");
    int64_t jobs[PAGE];
    int rc = 0;
    for (size_t n = PAGE; !rc && n == PAGE;) {
        if ((rc = br_undo_expired(repo, before, jobs, PAGE, &n, err)) || !n) break;
        if ((rc = br_repo_begin(repo, err))) break;
        for (size_t i = 0; i < n && !rc; i++)
            rc = br_undo_drop(repo, jobs[i], err);
        if (!rc) rc = br_repo_commit(repo, err);
        if (rc) br_repo_rollback(repo);
    }
    return rc;
}

int br_trash_purge(br_repo *repo, int64_t now, size_t *purged, br_error *err)
{
    if (purged) *purged = 0;
    char(*uuids)[64] = malloc(PAGE * sizeof *uuids);
    if (!uuids) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int rc = 0;
    for (size_t n = PAGE; !rc && n == PAGE;) {
        if ((rc = br_trash_expired(repo, now, uuids, PAGE, &n, err))) break;
        if ((rc = br_repo_begin(repo, err))) break;
        for (size_t i = 0; i < n && !rc; i++)
            rc = br_trash_remove(repo, uuids[i], err);
        if (!rc) rc = br_repo_commit(repo, err);
        if (rc) br_repo_rollback(repo);
        if (!rc && purged) *purged += n;
    }
    free(uuids);
    return rc ? rc : purge_undo(repo, now, err);
}
