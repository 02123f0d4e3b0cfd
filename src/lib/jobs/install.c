/* Installing items: the values DSpace's installItem adds, and the approval of
 * drafts (Esploro's "import as draft" profile, seed 000: imported assets wait
 * as drafts until staff approve them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/import.h"
#include "bulkrepo/job.h"
#include "core/core.h"
#include "jobs/install.h"

#define APPROVE_BATCH 500

int br_import_job_begin(br_repo *repo, const br_import_options *opt, const char *type,
                        const char *mapfile, br_job *fresh, int64_t *prior, br_error *err)
{
    *prior = 0;
    if (opt->job_id) {
        br_job queued;
        int rc = br_job_get(repo, opt->job_id, &queued, err);
        if (rc) return rc;
        fresh->id = opt->job_id;
        if (opt->resume) *prior = opt->job_id;
        return br_job_set_status(repo, opt->job_id, BR_JOB_RUNNING, opt->resume ? "resumed" : NULL,
                                 err);
    }
    /* A validation never continues an import: its "valid" lines would
     * overwrite the journal that says what is stored. */
    int64_t id;
    if (opt->resume && !opt->validate_only &&
        !br_job_find_by_mapfile(repo, type, mapfile, &id, NULL)) {
        fresh->id = *prior = id;
        return br_job_set_status(repo, id, BR_JOB_RUNNING, "resumed", err);
    }
    return br_job_create(repo, fresh, err);
}

void br_import_job_end(br_repo *repo, int64_t job_id, int rc, int stored, int empty,
                       const br_error *err)
{
    br_job_status st = rc == BR_ECANCELLED         ? BR_JOB_USER_ABORTED
                       : rc == BR_EINVAL && stored ? BR_JOB_COMPLETED_WITH_ERRORS
                       : rc                        ? BR_JOB_FAILED
                       : empty                     ? BR_JOB_COMPLETED_NO_BULKS
                                                   : BR_JOB_COMPLETED_SUCCESS;
    char msg[1200] = "";
    if (rc && err) br_error_format(err, msg, sizeof msg);
    if (st == BR_JOB_FAILED)
        br_job_fail(repo, job_id, msg[0] ? msg : NULL, br_job_failure_of(rc), NULL);
    else
        br_job_set_status(repo, job_id, st, msg[0] ? msg : NULL, NULL);
}

int br_export_job_end(br_repo *repo, int64_t job_id, int rc, size_t n, const char *summary,
                      int then_finalize, br_error *e)
{
    br_error jerr;
    if (!rc) {
        br_job_status st = !n              ? BR_JOB_COMPLETED_NO_BULKS
                           : then_finalize ? BR_JOB_FINALIZING
                                           : BR_JOB_COMPLETED_SUCCESS;
        int jrc = br_job_set_status(repo, job_id, st, summary, &jerr);
        if (jrc) *e = jerr;
        return jrc;
    }
    char msg[1200];
    br_error_format(e, msg, sizeof msg);
    if (rc == BR_ECANCELLED)
        br_job_set_status(repo, job_id, BR_JOB_USER_ABORTED, msg, &jerr);
    else
        br_job_fail(repo, job_id, msg, br_job_failure_of(rc), &jerr);
    return rc;
}

int br_install_values(br_record *rec, const char *eperson, const char *via)
{
    char now[32], prov[1024];
    br_now_iso(now);
    if (!br_record_has(rec, "dc.date.accessioned") &&
        !br_record_add_md(rec, "dc", "date", "accessioned", NULL, now))
        return BR_ENOMEM;
    if (!br_record_has(rec, "dc.date.available") &&
        !br_record_add_md(rec, "dc", "date", "available", NULL, now))
        return BR_ENOMEM;
    if (!br_record_has(rec, "dc.description.provenance")) {
        snprintf(prov, sizeof prov,
                 "Submitted by %s (%s) on %s. Made available in the repository on %s.",
                 eperson && *eperson ? eperson : "unknown", via, now, now);
        if (!br_record_add_md(rec, "dc", "description", "provenance", "en", prov)) return BR_ENOMEM;
    }
    return 0;
}

/* One draft to archived, inside the caller's transaction. */
static int approve_one(br_repo *repo, int64_t id, const char *eperson, br_record *rec,
                       br_error *err)
{
    int rc = br_item_load(repo, id, rec, err);
    if (rc) return rc;
    if (strcmp(rec->status, "draft"))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "item %s is %s, not a draft", rec->handle,
                            rec->status);
    if (br_install_values(rec, eperson, "bulkrepo item approve"))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_item_write w = {"archived", 0, NULL};
    return br_item_update(repo, rec, &w, err);
}

int br_items_approve(br_repo *repo, const int64_t *ids, size_t n, const char *eperson,
                     br_error *err)
{
    br_record *rec = br_record_new();
    if (!rec) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int rc = br_repo_begin(repo, err);
    for (size_t i = 0; !rc && i < n; i++)
        rc = approve_one(repo, ids[i], eperson, rec, err);
    if (!rc) rc = br_repo_commit(repo, err);
    if (rc) br_repo_rollback(repo);
    br_record_free(rec);
    return rc;
}

int br_job_approve(br_repo *repo, int64_t job_id, const char *eperson, size_t *approved,
                   br_error *err)
{
    if (approved) *approved = 0;
    br_job job;
    int rc = br_job_get(repo, job_id, &job, err);
    if (rc) return rc;
    /* Batches of drafts until none is left: approved items are no longer
     * drafts, so each query returns the next ones; memory stays flat. */
    int64_t ids[APPROVE_BATCH];
    for (;;) {
        size_t n = 0;
        if ((rc = br_job_item_ids(repo, job_id, "draft", ids, APPROVE_BATCH, &n, err))) return rc;
        if (!n) return 0;
        if ((rc = br_items_approve(repo, ids, n, eperson, err))) return rc;
        if (approved) *approved += n;
    }
}
