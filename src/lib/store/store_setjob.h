/* The store's side of set jobs, the undo journal and the trash (schema v4).  Internal: the
 * set-job runners (src/lib/jobs/setjob*.c) and the revert and trash code call these; SQL stays
 * in store_setjob.c. */
#ifndef BR_STORE_SETJOB_H
#define BR_STORE_SETJOB_H

#include <stdint.h>
#include "bulkrepo/error.h"
#include "bulkrepo/repo.h"

/* ---- a set job's frozen members (job_member) ---- */
int br_job_member_add(br_repo *repo, int64_t job_id, int64_t seq, const char *member,
                      int64_t item_id, br_error *err);
int br_job_member_count(br_repo *repo, int64_t job_id, int64_t *n, br_error *err);
typedef int (*br_job_member_fn)(void *ctx, int64_t seq, const char *member, int64_t item_id);
/* Up to limit members from seq on, in order; fn runs during the iteration and may write
 * other tables (not job_member). */
int br_job_members_page(br_repo *repo, int64_t job_id, int64_t from_seq, int64_t limit,
                        br_job_member_fn fn, void *ctx, br_error *err);
/* The highest journal seq of a job, -1 when it has no line. */
int br_job_last_seq(br_repo *repo, int64_t job_id, int64_t *seq, br_error *err);

/* The item's version (bumped by every update and status change): 0; BR_ENOTFOUND; BR_ESTORE. */
int br_item_version(br_repo *repo, int64_t id, int64_t *version, br_error *err);

/* ---- the undo journal (job_undo) ---- */
typedef struct br_undo_row {
    const char *uuid;
    const char *action; /* "created", "updated", "deleted" */
    const char *before; /* snapshot of the parts changed, NULL for created */
    const char *after;  /* the item's version as the job left it, NULL when deleted */
} br_undo_row;
/* Records what a job did to a record; a second call for the same record keeps the first
 * before (the state before the job) and takes the new after.  Files the before names are
 * held in the assetstore (asset_hold) while the row exists. */
int br_undo_put(br_repo *repo, int64_t job_id, const br_undo_row *row, br_error *err);
typedef int (*br_undo_fn)(void *ctx, const br_undo_row *row);
/* Rows with uuid > after_uuid ("" from the start), at most limit, in uuid order; *last gets
 * the last uuid seen ("" none; size 64). */
int br_undo_page(br_repo *repo, int64_t job_id, const char *after_uuid, int64_t limit,
                 br_undo_fn fn, void *ctx, char last[64], br_error *err);
int br_undo_count(br_repo *repo, int64_t job_id, int64_t *n, br_error *err);
/* Up to max jobs with undo rows that ended before ended_before (ISO 8601 UTC): *n filled. */
int br_undo_expired(br_repo *repo, const char *ended_before, int64_t *jobs, size_t max, size_t *n,
                    br_error *err);
/* Drops a job's undo rows and releases the files they held: the job is no longer revertible. */
int br_undo_drop(br_repo *repo, int64_t job_id, br_error *err);

/* ---- the trash ---- */
typedef struct br_trash_row {
    const char *uuid;
    const char *handle;
    int64_t item_id;
    int64_t job_id;
    const char *deleted; /* ISO 8601 UTC */
    int64_t purge_after; /* Unix time */
    const char *record;  /* the record's full snapshot */
} br_trash_row;
/* Puts a record's snapshot into the trash and holds its files. */
int br_trash_put(br_repo *repo, const br_trash_row *row, br_error *err);
/* By UUID or handle: 0 and fn called once; BR_ENOTFOUND; BR_ESTORE. */
int br_trash_get(br_repo *repo, const char *uuid_or_handle, int (*fn)(void *, const br_trash_row *),
                 void *ctx, br_error *err);
int br_trash_page(br_repo *repo, const char *after_uuid, int64_t limit,
                  int (*fn)(void *, const br_trash_row *), void *ctx, char last[64], br_error *err);
/* Removes a row and releases its files (br_asset_gc may then remove them). */
int br_trash_remove(br_repo *repo, const char *uuid, br_error *err);
/* Up to max UUIDs of rows whose time has come (purge_after <= now): *n filled. */
int br_trash_expired(br_repo *repo, int64_t now, char (*uuids)[64], size_t max, size_t *n,
                     br_error *err);

#endif
