/* bulkrepo — jobs that run on sets (seed 001, "Manual Jobs and Their Relevant Parameters"),
 * reverting a job, and the trash.
 *
 * A set job is queued like any job (br_job_submit, engine.h) with params
 * {"set": NAME, ...its parameters}; its parameters are data (data/job_params.tsv), listed by
 * br_job_param_list and checked by br_set_job_check before a job exists.  When it starts it
 * freezes the set's members (a logical set is evaluated once), then changes them in journaled
 * batches: one journal line per member (updated, deleted, skipped with the reason, failed), and
 * for every change an undo row holding the parts of the record as they were, so that the job
 * can be reverted.  A cancelled or interrupted set job resumes after its last journaled member. */
#ifndef BULKREPO_SETJOB_H
#define BULKREPO_SETJOB_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum br_param_kind {
    BR_PARAM_BOOL,
    BR_PARAM_INT,
    BR_PARAM_ENUM,
    BR_PARAM_TEXT,
    BR_PARAM_REGEX,
    BR_PARAM_FIELD /* a metadata field of the registry: schema.element[.qualifier] */
} br_param_kind;

const char *br_param_kind_name(br_param_kind k); /* "bool", "int", ... */

typedef struct br_job_param {
    char name[32];
    br_param_kind kind;
    int required;
    char def[64];      /* default as text, "" none */
    char values[1024]; /* enum: comma-separated values; int: "MIN..MAX"; else "" */
    char label[128];
    char help[512];
    char when[256]; /* "PARAM=VALUE,VALUE...": it applies only then (the wizard shows it only
                       then); "" always */
} br_job_param;

typedef int (*br_job_param_fn)(void *ctx, const br_job_param *p);
/* A parameter as JSON text (malloc'd), the shape of GET /api/job-types and `job types --json`:
 * {"name","kind","label","required","default" (typed by kind),"values" (an array for an enum,
 * {"min","max"} for an int, else null),"help","when" ({"PARAM":[VALUE,...]} or null)}.
 * 0 or BR_ENOMEM. */
int br_job_param_json(const br_job_param *p, char **out, br_error *err);
/* The parameters of a job type in table order (none for a type without any). */
void br_job_param_list(const char *type, br_job_param_fn fn, void *ctx);

/* Checks a set job before it is queued: params (a JSON object's text) names a set of the
 * job type's content (data/job_types.tsv), every key is a parameter of the type with a value
 * of its kind (bool: true/false or "true"/"false"; int within its range; enum one of its
 * values; regex compiles and has no back-reference; field is in the registry), every
 * required parameter is given, and what the operation needs is there (update-set's
 * "operation" names the parameters it reads).  0; BR_EUSAGE naming the parameter;
 * BR_ENOTFOUND for an unknown set; BR_ESTORE. */
int br_set_job_check(br_repo *repo, const char *type, const char *params, br_error *err);
/* 1 when the job type runs on a set (data/job_types.tsv's content is set), 0 otherwise. */
int br_job_type_on_set(const char *type);

/* One field a set job changes in a record: values joined with " | ", NULL when none. */
typedef struct br_change {
    const char *field; /* "dc.type", "creators", "links", "status", "record" */
    const char *old_value;
    const char *new_value;
} br_change;

/* What a set job would do to one member (dry run). */
typedef struct br_preview {
    int64_t seq;
    const char *handle; /* NULL: the member's item no longer exists */
    const char *title;
    const br_change *changes;
    size_t n_changes;
    const char *skip; /* why it would be left as it is, or NULL */
} br_preview;

typedef int (*br_preview_fn)(void *ctx, const br_preview *p);
/* Runs the set job's decisions on the set's first `limit` members (0 = all) without writing
 * anything; *members (may be NULL) gets the set's size.  Checks as br_set_job_check. */
int br_set_job_preview(br_repo *repo, const char *type, const char *params, int64_t limit,
                       br_preview_fn fn, void *ctx, int64_t *members, br_error *err);

/* ---- revert --------------------------------------------------------------------------------- */

/* One record of a job's undo journal as a revert sees it. */
typedef struct br_revert_line {
    const char *uuid;
    const char *handle;
    const char *action; /* what the job did: "created", "updated", "deleted" */
    int conflict;       /* the record changed after the job (or was deleted, or its handle
                           was taken): a revert without force leaves it and reports it */
} br_revert_line;

typedef int (*br_revert_fn)(void *ctx, const br_revert_line *l);
/* Dry run of reverting job_id: every record it changed, with conflicts.  *total and
 * *conflicts (may be NULL) counted.  BR_ENOTFOUND for no such job; BR_EUSAGE when the job
 * has nothing to revert or has not ended. */
int br_revert_preview(br_repo *repo, int64_t job_id, br_revert_fn fn, void *ctx, int64_t *total,
                      int64_t *conflicts, br_error *err);
/* 1 when job_id has ended and has an undo journal, 0 when not, or a negative code. */
int br_job_revertible(br_repo *repo, int64_t job_id, br_error *err);
/* A revert is a job of type "revert" with params {"job": ID, "force": bool}. */

/* ---- the trash --------------------------------------------------------------------------------
 */

typedef struct br_trash_entry {
    const char *uuid;
    const char *handle;
    const char *title;
    const char *deleted; /* ISO 8601 UTC */
    int64_t job_id;      /* the Delete Set job, 0 none */
    int64_t purge_after; /* Unix time */
} br_trash_entry;

typedef int (*br_trash_fn)(void *ctx, const br_trash_entry *e);
int br_trash_list(br_repo *repo, br_trash_fn fn, void *ctx, br_error *err);
/* Restores a deleted asset (by UUID or handle) as it was: same UUID and handle, metadata,
 * files, collections, and the relations whose other item still exists.  handle (may be NULL,
 * size >= 64) gets its handle.  0; BR_ENOTFOUND (not in the trash); BR_EEXISTS (its handle
 * or UUID is in use again); BR_ESTORE. */
int br_item_restore(br_repo *repo, const char *uuid_or_handle, char *handle, br_error *err);
/* How long a job that changed records stays revertible after it ended: its undo rows (and
 * the files of the records it deleted or replaced) are kept this long. */
#define BR_UNDO_KEEP_DAYS 30

/* Removes from the trash every asset whose time is past now (Unix time), and the undo rows of
 * jobs that ended more than BR_UNDO_KEEP_DAYS before now, releasing their files for
 * br_asset_gc; *purged (may be NULL) counts the trashed assets removed. */
int br_trash_purge(br_repo *repo, int64_t now, size_t *purged, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
