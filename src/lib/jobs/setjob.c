/* Set jobs (setjob.h): the driver table, the member loop, dry runs and the shared writes.
 *
 * A run freezes the set's members into job_member in one transaction (a resumed run finds
 * them there), then works through them in batches of BATCH members, one transaction each:
 * for every member the driver plans (no writes) and applies; the journal line, the undo row
 * and the change commit together, so after a crash the journal says exactly which members
 * are done and a resume starts after the last one.  SQLite's write lock is held for a batch:
 * a second job on an overlapping set changes a record before or after this one, never in
 * between its read and its write (both happen in the same transaction). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bulkrepo/search.h"
#include "bulkrepo/set.h"
#include "bulkrepo/user.h"
#include "core/core.h"
#include "jobs/setjob.h"
#include "model/snapshot.h"
#include "store/store_setjob.h"

enum { BATCH = 200 };

/* ---- the driver table ------------------------------------------------------------------- */

static int index_plan(sj_item *it, br_error *err)
{
    it->parts = 0;
    return 0;
}

static int index_apply(sj_item *it, br_error *err)
{
    return br_search_reindex(it->repo, it->before->id, err);
}

static const sj_driver INDEX = {"index-assets", BR_OUTCOME_UPDATED, NULL,
                                NULL,           index_plan,         index_apply};

static const sj_driver *const DRIVERS[] = {&br_sj_doi,
                                           &br_sj_update,
                                           &br_sj_delete,
                                           &INDEX,
                                           &br_sj_normalize,
                                           &br_sj_affil,
                                           &br_sj_files,
                                           &br_sj_relations_import,
                                           &br_sj_relations_handle,
                                           &br_sj_researchers,
                                           &br_sj_orcid,
                                           &br_sj_users};

/* Drivers with a fetch step or their own closing message (setjob.h). */
static const sj_extra *const EXTRAS[] = {&br_sj_doi_extra, &br_sj_files_extra,
                                         &br_sj_relations_import_extra, &br_sj_orcid_extra,
                                         &br_sj_users_extra};

/* Drivers whose members are not items (setjob.h). */
static const sj_loader *const LOADERS[] = {&br_sj_researchers_loader, &br_sj_orcid_loader,
                                           &br_sj_users_loader};

static sj_load_fn load_of(const sj_driver *d)
{
    for (size_t i = 0; d && i < BR_ARRAY_LEN(LOADERS); i++)
        if (LOADERS[i]->driver == d) return LOADERS[i]->load;
    return NULL;
}

static const sj_extra *extra_of(const sj_driver *d)
{
    static const sj_extra none = {NULL, NULL, 0, NULL};
    for (size_t i = 0; d && i < BR_ARRAY_LEN(EXTRAS); i++)
        if (EXTRAS[i]->driver == d) return EXTRAS[i];
    return &none;
}

const sj_driver *br_sj_driver(const char *type)
{
    for (size_t i = 0; type && i < BR_ARRAY_LEN(DRIVERS); i++)
        if (!strcmp(DRIVERS[i]->type, type)) return DRIVERS[i];
    return NULL;
}

const sj_driver *br_sj_driver_at(size_t i)
{
    return i < BR_ARRAY_LEN(DRIVERS) ? DRIVERS[i] : NULL;
}

int br_job_type_on_set(const char *type)
{
    br_job_type t;
    return !br_job_type_get(type, &t) && t.content[0];
}

/* ---- checks ------------------------------------------------------------------------------ */

/* Parses params and checks them with the set: the parsed object in *out. */
static int check(br_repo *repo, const char *type, const char *params, json_t **out, br_set *set,
                 br_error *err)
{
    *out = NULL;
    br_job_type t;
    if (br_job_type_get(type, &t) || !t.content[0])
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "'%s' is not a job that runs on a set",
                            type ? type : "");
    json_error_t jerr;
    json_t *p = json_loads(params && *params ? params : "{}", 0, &jerr);
    if (!json_is_object(p)) {
        json_decref(p);
        return br_error_set(err, BR_EUSAGE, "params", 0, 0,
                            "the job parameters must be a JSON object");
    }
    const char *name = json_string_value(json_object_get(p, "set"));
    int rc = 0;
    if (!name || !*name)
        rc = br_error_set(err, BR_EUSAGE, "set", 0, 0, "%s runs on a set: name it (\"set\")", type);
    else if (!(rc = br_set_get(repo, name, set, err)) &&
             strcmp(br_set_content_name(set->content), t.content))
        rc = br_error_set(err, BR_EUSAGE, "set", 0, 0, "%s runs on a set of %s; set '%s' holds %s",
                          type, t.content, name, br_set_content_name(set->content));
    if (!rc) rc = br_sj_params_check(repo, type, p, err);
    const sj_driver *d = br_sj_driver(type);
    void *state = NULL;
    if (!rc && d && d->prepare && !(rc = d->prepare(repo, p, &state, err)) && d->release)
        d->release(state);
    if (rc)
        json_decref(p);
    else
        *out = p;
    return rc;
}

int br_set_job_check(br_repo *repo, const char *type, const char *params, br_error *err)
{
    json_t *p;
    br_set set;
    int rc = check(repo, type, params, &p, &set, err);
    json_decref(p);
    return rc;
}

/* ---- shared writes ------------------------------------------------------------------------ */

static int put_undo(br_repo *repo, int64_t job_id, const char *uuid, const char *action,
                    const char *before, int64_t item_id, br_error *err)
{
    char after[32] = "";
    int64_t v;
    int rc = 0;
    if (item_id && (rc = br_item_version(repo, item_id, &v, err))) return rc;
    if (item_id) snprintf(after, sizeof after, "%lld", (long long)v);
    br_undo_row row = {uuid, action, before, item_id ? after : NULL};
    return br_undo_put(repo, job_id, &row, err);
}

int br_undo_created(br_repo *repo, int64_t job_id, const char *uuid, br_error *err)
{
    br_undo_row row = {uuid, "created", NULL, "0"}; /* a new item is at version 0 */
    return job_id ? br_undo_put(repo, job_id, &row, err) : 0;
}

int br_undo_changed(br_repo *repo, int64_t job_id, const char *action, const br_record *before,
                    unsigned parts, int64_t item_id, br_error *err)
{
    if (!job_id) return 0;
    char *snap = NULL;
    int rc = br_snapshot_write(before, parts, &snap, err);
    if (!rc) rc = put_undo(repo, job_id, before->uuid, action, snap, item_id, err);
    free(snap);
    return rc;
}

int br_sj_write_update(sj_item *it, br_error *err)
{
    char *before = NULL;
    int rc = br_snapshot_write(it->before, it->parts, &before, err);
    br_item_write w = {0};
    if (!rc && (it->parts & BR_PART_STATUS)) w.status = it->after->status;
    it->after->id = it->before->id;
    if (!rc) rc = br_item_update(it->repo, it->after, &w, err);
    if (!rc)
        rc = put_undo(it->repo, it->job_id, it->before->uuid, "updated", before, it->before->id,
                      err);
    free(before);
    return rc;
}

int br_sj_trash_item(br_repo *repo, const br_record *rec, int64_t job_id, int keep_days,
                     br_error *err)
{
    char *snap = NULL, now[32];
    int rc = br_snapshot_write(rec, BR_PART_ALL, &snap, err);
    br_now_iso(now);
    br_trash_row row = {rec->uuid, rec->handle, rec->id,
                        job_id,    now,         (int64_t)time(NULL) + (int64_t)keep_days * 86400,
                        snap};
    if (!rc) rc = br_trash_put(repo, &row, err);
    if (!rc && job_id) rc = put_undo(repo, job_id, rec->uuid, "deleted", snap, 0, err);
    if (!rc) rc = br_item_delete(repo, rec->id, err);
    free(snap);
    return rc;
}

/* A trash row copied out of br_trash_get's callback (its strings die with the statement). */
typedef struct trash_copy {
    char uuid[64], handle[64], deleted[32];
    int64_t item_id, job_id, purge_after;
    char *record;
} trash_copy;

static int copy_row(void *ctx, const br_trash_row *row)
{
    trash_copy *c = ctx;
    br_strlcpy(c->uuid, row->uuid, sizeof c->uuid);
    br_strlcpy(c->handle, row->handle ? row->handle : "", sizeof c->handle);
    br_strlcpy(c->deleted, row->deleted ? row->deleted : "", sizeof c->deleted);
    c->item_id = row->item_id;
    c->job_id = row->job_id;
    c->purge_after = row->purge_after;
    c->record = strdup(row->record ? row->record : "");
    return 1;
}

/* A relation of a record being restored whose other item is in the trash is handed to that
 * item's trash copy (the other way round), so that restoring the other one brings it back.
 * Two related records deleted by one job lose the relation otherwise: deleting the first
 * removed it, so the second one's copy never had it.  0 also when the other item is gone
 * for good (purged or deleted outright): the relation goes with it. */
static int hand_over_relation(br_repo *repo, const br_record *rec, const br_relation *x,
                              br_error *err)
{
    trash_copy c;
    memset(&c, 0, sizeof c);
    int rc = br_trash_get(repo, x->target, copy_row, &c, err);
    if (rc == BR_ENOTFOUND) return 0;
    if (!rc && !c.record) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_record *other = rc ? NULL : br_record_new();
    char *snap = NULL;
    if (!rc && !other) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!rc) rc = br_snapshot_read(c.record, other, NULL, err);
    br_relation *back = NULL;
    if (!rc &&
        !(back = br_record_add_relation(other, x->type, rec->handle ? rec->handle : rec->uuid)))
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!rc) {
        back->is_left = !x->is_left;
        rc = br_snapshot_write(other, BR_PART_ALL, &snap, err);
    }
    if (!rc) {
        br_trash_row row = {
            c.uuid, c.handle[0] ? c.handle : NULL, c.item_id, c.job_id, c.deleted, c.purge_after,
            snap};
        rc = br_trash_put(repo, &row, err);
    }
    free(snap);
    free(c.record);
    br_record_free(other);
    return rc;
}

int br_sj_restore_record(br_repo *repo, const br_record *snap, char *handle, br_error *err)
{
    int64_t id;
    int rc = br_item_find(repo, snap->uuid, &id, err);
    if (rc != BR_ENOTFOUND)
        return rc ? rc
                  : br_error_set(err, BR_EEXISTS, snap->handle, 0, 0, "an item with UUID %s exists",
                                 snap->uuid);
    if (snap->handle && (rc = br_handle_exists(repo, snap->handle)))
        return rc < 0 ? rc
                      : br_error_set(err, BR_EEXISTS, snap->handle, 0, 0,
                                     "handle %s is in use again", snap->handle);
    br_item_write w = {snap->status, 0, snap->uuid};
    br_record *rec = (br_record *)snap; /* br_item_insert sets id; nothing else changes */
    if ((rc = br_item_insert(repo, rec, &w, err))) return rc;
    for (size_t i = 0; i < snap->n_rels && !rc; i++) {
        const br_relation *x = &snap->rels[i];
        int64_t other;
        int f = br_item_find(repo, x->target, &other, err);
        if (f == BR_ENOTFOUND) { /* the other item is gone (or waits in the trash) */
            rc = hand_over_relation(repo, rec, x, err);
            continue;
        }
        if (f) return f;
        rc = x->is_left ? br_relation_insert(repo, x->type, rec->id, other, err)
                        : br_relation_insert(repo, x->type, other, rec->id, err);
    }
    if (!rc && handle) br_strlcpy(handle, rec->handle ? rec->handle : "", 64);
    return rc;
}

/* ---- the member loop ---------------------------------------------------------------------- */

typedef struct member {
    int64_t seq, item_id;
    char *member;
} member;

typedef struct page {
    member m[BATCH];
    size_t n;
} page;

static int take(void *ctx, int64_t seq, const char *m, int64_t item_id)
{
    page *p = ctx;
    p->m[p->n] = (member){seq, item_id, strdup(m ? m : "")};
    return !p->m[p->n++].member ? BR_ENOMEM : 0;
}

static void page_clear(page *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->m[i].member);
    p->n = 0;
}

/* Loads a member's record by UUID (it may have been deleted since the set was read). */
static int load_member(br_repo *repo, const char *uuid, br_record *rec, br_error *err)
{
    int64_t id;
    int rc = br_item_find(repo, uuid, &id, err);
    return rc ? rc : br_item_load(repo, id, rec, err);
}

/* Decides one member: 0 with it->parts / it->skip set, BR_ENOTFOUND when it is gone. */
static int plan_member(const sj_driver *d, sj_item *it, const char *uuid, br_error *err)
{
    it->parts = 0;
    it->skip = NULL;
    it->note = NULL;
    it->bitstreams = it->bytes = 0;
    it->changes = NULL;
    it->n_changes = 0;
    it->title = NULL;
    sj_load_fn load = load_of(d);
    int rc = load ? load(it, uuid, err) : load_member(it->repo, uuid, it->before, err);
    if (rc) return rc;
    if (load) return d->plan(it, err); /* not an item: the driver's own apply writes it */
    if (d->apply == NULL) {            /* updates work on a copy */
        char *snap = NULL;
        if ((rc = br_snapshot_write(it->before, BR_PART_ALL, &snap, err)) ||
            (rc = br_snapshot_read(snap, it->after, NULL, err))) {
            free(snap);
            return rc;
        }
        free(snap);
        it->after->id = it->before->id;
    }
    return d->plan(it, err);
}

typedef struct freeze_ctx {
    br_repo *repo;
    int64_t job_id, n;
    br_error *err;
} freeze_ctx;

static int freeze_one(void *ctx, const br_set_member *m)
{
    freeze_ctx *f = ctx;
    return br_job_member_add(f->repo, f->job_id, f->n++, m->member, m->item_id, f->err);
}

static int freeze(br_repo *repo, int64_t job_id, const char *set, int64_t *n, br_error *err)
{
    int rc = br_job_member_count(repo, job_id, n, err);
    if (rc || *n) return rc; /* a resumed run keeps the members it froze */
    freeze_ctx f = {repo, job_id, 0, err};
    if ((rc = br_repo_begin(repo, err))) return rc;
    rc = br_set_members(repo, set, freeze_one, &f, err);
    if (!rc) rc = br_repo_commit(repo, err);
    if (rc) br_repo_rollback(repo);
    *n = rc ? 0 : f.n;
    return rc;
}

typedef struct run_state {
    const sj_driver *d;
    const sj_extra *x;
    sj_item it;
    int64_t total, done, changed, skipped, failed;
    br_progress_fn progress; /* the engine's: nonzero when the job is cancelled */
    void *pctx;
} run_state;

static int journal(br_repo *repo, int64_t job_id, const member *m, const char *outcome,
                   const br_record *rec, const char *message, br_error *err)
{
    br_job_record jr = {m->seq,
                        m->member,
                        outcome,
                        rec && rec->id ? rec->id : m->item_id,
                        rec ? rec->handle : NULL,
                        message,
                        0,
                        0,
                        NULL,
                        0};
    return br_job_journal(repo, job_id, &jr, err);
}

/* One member inside the batch's transaction: a store failure stops the job, anything about
 * the record itself is its journal line. */
static int run_member(run_state *s, const member *m, br_error *err)
{
    br_error e;
    sj_item *it = &s->it;
    int rc = plan_member(s->d, it, m->member, &e);
    if (rc == BR_ENOTFOUND) {
        s->failed++;
        return journal(it->repo, it->job_id, m, BR_OUTCOME_FAILED, NULL,
                       "the record no longer exists", err);
    }
    if (!rc && it->skip) {
        s->skipped++;
        return journal(it->repo, it->job_id, m, BR_OUTCOME_SKIPPED, it->before, it->skip, err);
    }
    if (!rc && s->d->apply == NULL && !it->parts) {
        s->skipped++;
        return journal(it->repo, it->job_id, m, BR_OUTCOME_SKIPPED, it->before, "nothing to change",
                       err);
    }
    if (!rc) rc = s->d->apply ? s->d->apply(it, &e) : br_sj_write_update(it, &e);
    if (rc == BR_ESTORE || rc == BR_ENOMEM || rc == BR_EIO) {
        if (err) *err = e;
        return rc;
    }
    if (rc) {
        s->failed++;
        char msg[1100];
        br_error_format(&e, msg, sizeof msg);
        return journal(it->repo, it->job_id, m, BR_OUTCOME_FAILED, it->before, msg, err);
    }
    if (it->skip) { /* apply may still find nothing to change (a link that led to a web page) */
        s->skipped++;
        return journal(it->repo, it->job_id, m, BR_OUTCOME_SKIPPED, it->before, it->skip, err);
    }
    s->changed++;
    br_job_record jr = {m->seq,   m->member,      s->d->outcome, it->before->id, it->before->handle,
                        it->note, it->bitstreams, it->bytes,     NULL,           0};
    return br_job_journal(it->repo, it->job_id, &jr, err);
}

/* A driver's fetch for one member, outside any transaction (a member gone is plan's to say). */
static int fetch_member(run_state *s, const member *m, br_error *err)
{
    sj_load_fn load = load_of(s->d);
    int rc =
        load ? load(&s->it, m->member, err) : load_member(s->it.repo, m->member, s->it.before, err);
    if (rc == BR_ENOTFOUND) return 0;
    return rc ? rc : s->x->fetch(&s->it, err);
}

static int sj_cancelled(void *ctx)
{
    run_state *s = ctx;
    return s->progress && s->progress(s->pctx, "update", (size_t)s->done, (size_t)s->total);
}

static int run_batches(run_state *s, int64_t from, br_progress_fn progress, void *pctx,
                       br_error *err)
{
    page *p = calloc(1, sizeof *p);
    if (!p) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_repo *repo = s->it.repo;
    int rc = 0;
    s->done = from;
    for (;;) {
        size_t batch = s->x->batch && s->x->batch < BATCH ? s->x->batch : BATCH;
        if ((rc = br_job_members_page(repo, s->it.job_id, from, (int64_t)batch, take, p, err)) ||
            !p->n)
            break;
        for (size_t i = 0; s->x->fetch && i < p->n && !rc; i++)
            rc = fetch_member(s, &p->m[i], err);
        if (rc || (rc = br_repo_begin(repo, err))) break;
        int stop = 0;
        for (size_t i = 0; i < p->n && !rc && !stop; i++) {
            rc = run_member(s, &p->m[i], err);
            /* settled: a refusal of the member's rows is this member's (br_repo_settle) */
            if (!rc && (rc = br_repo_settle(repo, err)) == BR_ESTORE)
                br_error_locate(err, p->m[i].member, 0, 0);
            s->done = p->m[i].seq + 1;
            if (progress && progress(pctx, "update", (size_t)s->done, (size_t)s->total)) stop = 1;
        }
        if (!rc) rc = br_repo_commit(repo, err);
        if (rc) br_repo_rollback(repo);
        from = s->done;
        page_clear(p);
        if (!rc && stop) rc = br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "cancelled");
        if (rc) break;
    }
    page_clear(p);
    free(p);
    return rc;
}

int br_sj_run(br_repo *repo, const br_job *job, json_t *params, int resume, br_progress_fn progress,
              void *pctx, int64_t *records, br_error *err)
{
    *records = 0;
    run_state s;
    memset(&s, 0, sizeof s);
    s.d = br_sj_driver(job->type);
    s.x = extra_of(s.d);
    char *text = json_dumps(params, JSON_COMPACT);
    json_t *p = NULL;
    br_set set;
    int rc = !s.d    ? br_error_set(err, BR_EUSAGE, NULL, 0, 0, "'%s' is not a set job", job->type)
             : !text ? br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory")
                     : check(repo, job->type, text, &p, &set, err);
    free(text);
    if (rc == BR_ENOTFOUND) /* the set went away after the job was queued */
        return br_job_set_status(repo, job->id, BR_JOB_COMPLETED_NO_BULKS,
                                 "the set no longer exists", err);
    if (rc) return rc;
    s.it = (sj_item){repo,
                     job->type,
                     p,
                     NULL,
                     job->id,
                     br_record_new(),
                     br_record_new(),
                     0,
                     NULL,
                     "",
                     NULL,
                     0,
                     0,
                     NULL,
                     NULL,
                     NULL,
                     0,
                     NULL};
    if (!s.it.before || !s.it.after) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    s.progress = progress;
    s.pctx = pctx;
    s.it.cancelled = sj_cancelled;
    s.it.cancel_ctx = &s;
    if (!rc && s.d->prepare) rc = s.d->prepare(repo, p, &s.it.state, err);
    int64_t from = 0;
    if (!rc) rc = freeze(repo, job->id, set.name, &s.total, err);
    if (!rc && resume && !(rc = br_job_last_seq(repo, job->id, &from, err))) from++;
    if (!rc) rc = br_job_set_total(repo, job->id, s.total, err);
    if (!rc && s.total == 0) {
        rc = br_job_set_status(repo, job->id, BR_JOB_COMPLETED_NO_BULKS, "the set is empty", err);
        goto done;
    }
    if (!rc) rc = run_batches(&s, from, progress, pctx, err);
    *records = s.total;
    if (rc == BR_ECANCELLED) {
        br_job_set_status(repo, job->id, BR_JOB_USER_ABORTED,
                          "cancelled: resume continues after the last record done", NULL);
    } else if (!rc) {
        br_job j;
        if (!(rc = br_job_get(repo, job->id, &j, err))) {
            char msg[512];
            int errors = 0;
            if (s.x->summary)
                rc = s.x->summary(repo, job->id, msg, sizeof msg, &errors, err);
            else
                snprintf(msg, sizeof msg,
                         "%lld of %lld records changed, %lld left as they were, %lld failed",
                         (long long)(j.counters.updated + j.counters.deleted), (long long)s.total,
                         (long long)j.counters.skipped, (long long)j.counters.failed);
            if (!rc)
                rc = br_job_set_status(repo, job->id,
                                       j.counters.failed || errors ? BR_JOB_COMPLETED_WITH_ERRORS
                                                                   : BR_JOB_COMPLETED_SUCCESS,
                                       msg, err);
        }
    }
done:
    if (s.d->release) s.d->release(s.it.state);
    br_record_free(s.it.before);
    br_record_free(s.it.after);
    json_decref(p);
    return rc;
}

/* ---- dry run -------------------------------------------------------------------------------- */

typedef struct preview_ctx {
    run_state *s;
    int64_t limit, n;
    br_preview_fn fn;
    void *ctx;
    br_error *err;
    int rc;
} preview_ctx;

static int preview_one(void *ctx, const br_set_member *m)
{
    preview_ctx *c = ctx;
    if (c->limit && c->n >= c->limit) return 1;
    c->n++;
    sj_item *it = &c->s->it;
    br_preview pv = {m->seq, m->handle, NULL, NULL, 0, NULL};
    br_change whole = {"record", c->s->d->outcome, NULL}; /* a delete or a reindex */
    br_change *changes = NULL;
    br_error e;
    /* A member that is not an item (a researcher, a user) is named by itself. */
    int by_name = load_of(c->s->d) != NULL;
    if (by_name) pv.handle = m->member;
    int rc = m->item_id || by_name ? plan_member(c->s->d, it, m->member, &e) : BR_ENOTFOUND;
    if (rc == BR_ENOTFOUND) {
        pv.skip = "the record no longer exists";
    } else if (rc) {
        if (c->err) *c->err = e;
        c->rc = rc;
        return 1;
    } else {
        pv.title = it->title ? it->title : br_record_first(it->before, "dc.title");
        pv.skip = it->skip;
        if (!pv.skip && c->s->d->apply == NULL) {
            if (!it->parts)
                pv.skip = "nothing to change";
            else if ((c->rc = br_sj_diff(it->before, it->after, it->parts, &changes, &pv.n_changes,
                                         c->err)))
                return 1;
        } else if (!pv.skip && it->n_changes) { /* the fields the driver's plan listed */
            pv.changes = it->changes;
            pv.n_changes = it->n_changes;
        } else if (!pv.skip) {
            pv.changes = &whole;
            pv.n_changes = 1;
        }
    }
    if (changes) pv.changes = changes;
    int stop = c->fn ? c->fn(c->ctx, &pv) : 0;
    free(changes);
    return stop;
}

int br_set_job_preview(br_repo *repo, const char *type, const char *params, int64_t limit,
                       br_preview_fn fn, void *ctx, int64_t *members, br_error *err)
{
    run_state s;
    memset(&s, 0, sizeof s);
    json_t *p = NULL;
    br_set set;
    int rc = check(repo, type, params, &p, &set, err);
    if (rc) return rc;
    s.d = br_sj_driver(type);
    if (!s.d) {
        json_decref(p);
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "%s has no dry run", type);
    }
    s.it = (sj_item){
        repo, type, p,    NULL, 0,   br_record_new(), br_record_new(), 0, NULL, "", NULL, 0, 0,
        NULL, NULL, NULL, 0,    NULL};
    if (!s.it.before || !s.it.after) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!rc && s.d->prepare) rc = s.d->prepare(repo, p, &s.it.state, err);
    preview_ctx c = {&s, limit, 0, fn, ctx, err, 0};
    if (!rc) rc = br_set_members(repo, set.name, preview_one, &c, err);
    if (!rc) rc = c.rc;
    if (!rc && members) rc = br_set_count(repo, set.name, members, err);
    if (s.d->release) s.d->release(s.it.state);
    br_record_free(s.it.before);
    br_record_free(s.it.after);
    json_decref(p);
    return rc;
}
