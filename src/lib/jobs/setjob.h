/* Set jobs inside the library (setjob.h is the public side): the drivers' interface and the
 * helpers they share.  A driver decides per member (plan: no writes) and writes (apply, in
 * the batch's transaction); the framework (setjob.c) freezes the members, runs the batches,
 * writes the journal and the undo rows, reports progress and stops on cancel. */
#ifndef BR_JOBS_SETJOB_H
#define BR_JOBS_SETJOB_H

#include <regex.h>
#include <jansson.h>
#include "bulkrepo/job.h"
#include "bulkrepo/limits.h"
#include "bulkrepo/record.h"
#include "bulkrepo/setjob.h"

/* One member being decided or changed. */
typedef struct sj_item {
    br_repo *repo;
    const char *type;
    json_t *params;
    void *state;       /* the driver's, from prepare */
    int64_t job_id;    /* 0 in a dry run */
    br_record *before; /* as stored */
    br_record *after;  /* update: a copy of before that plan changes */
    unsigned parts;    /* update: the parts plan changed (snapshot.h), 0 = nothing to do */
    const char *skip;  /* plan: why the member is left as it is */
    char skip_buf[256];
    const char *note; /* plan: the journal message of a changed member (NULL: none) */
    /* apply: the files it stored for the member's journal line (counters bitstreams, bytes) */
    int64_t bitstreams, bytes;
    /* Nonzero when the job is being cancelled: for a driver that waits (a download) */
    int (*cancelled)(void *ctx);
    void *cancel_ctx;
    /* plan of a driver with its own apply may list the fields it would change (the dry run
     * shows them; else "record: OUTCOME"); they stay the driver's until its next plan. */
    const br_change *changes;
    size_t n_changes;
    const char *title; /* load: the member's name for the dry run (NULL: the record's title) */
} sj_item;

typedef struct sj_driver {
    const char *type;
    const char *outcome; /* journal outcome of a member it changed */
    /* Checks what the job-param table cannot (an operation's needs) and builds the state. */
    int (*prepare)(br_repo *repo, json_t *params, void **state, br_error *err);
    void (*release)(void *state);
    int (*plan)(sj_item *it, br_error *err);
    /* Writes the member (inside the transaction) and its undo row; NULL: br_sj_write_update. */
    int (*apply)(sj_item *it, br_error *err);
} sj_driver;

const sj_driver *br_sj_driver(const char *type);
const sj_driver *br_sj_driver_at(size_t i); /* NULL past the end */
extern const sj_driver br_sj_update, br_sj_delete;
extern const sj_driver br_sj_doi;                    /* setjob_doi.c: register-doi */
extern const sj_driver br_sj_normalize, br_sj_affil; /* setjob_normalize.c, setjob_affil.c */
/* setjob_files.c, setjob_relations.c */
extern const sj_driver br_sj_files, br_sj_relations_import, br_sj_relations_handle;

/* What a driver may add (setjob.c's EXTRAS lists the drivers that have one). */
typedef struct sj_extra {
    const sj_driver *driver;
    /* fetch: runs for each member of a batch before the batch's transaction begins, so that no
     * write lock is held while it waits on the network; it->before is the member as stored
     * then (plan and apply load it again), what it gets stays in the driver's state.  A failure
     * stops the job (BR_ECANCELLED: cancelled, resumable at this member).  NULL: none. */
    int (*fetch)(sj_item *it, br_error *err);
    size_t batch; /* members per transaction (0: 200; at most 200) */
    /* The job's closing message from its journal, and whether it completed with errors beyond
     * its failed members (NULL: "N of M records changed, ..."). */
    int (*summary)(br_repo *repo, int64_t job_id, char *msg, size_t size, int *errors,
                   br_error *err);
} sj_extra;
extern const sj_extra br_sj_doi_extra; /* setjob_doi.c */
extern const sj_extra br_sj_files_extra, br_sj_relations_import_extra;
/* A driver whose set members are not assets (researchers, users): setjob.c's LOADERS lists it.
 * load reads the member (the set's string: a researcher id, a user name) into the driver's
 * state before plan (and before fetch), and may set it->title; BR_ENOTFOUND when the member no
 * longer exists.  it->before stays an empty record, so such a driver gives apply.  A driver
 * without a loader has items as members: their UUIDs, loaded into it->before. */
typedef int (*sj_load_fn)(sj_item *it, const char *member, br_error *err);
typedef struct sj_loader {
    const sj_driver *driver;
    sj_load_fn load;
} sj_loader;
extern const sj_loader br_sj_researchers_loader, br_sj_orcid_loader; /* setjob_researcher.c */
extern const sj_driver br_sj_researchers, br_sj_orcid;
extern const sj_extra br_sj_orcid_extra;
/* revert.c's side of an update-researchers undo row ("researcher:ROW", setjob_researcher.c):
 * *conflict when the researcher changed after the job or is gone (*why says which); name gets
 * the researcher id.  With apply, the researcher is put back as the row's snapshot (a conflict
 * of a changed researcher is written over: the caller asked with force) with an undo row of
 * job_id (0: none); a researcher gone is BR_EINVAL.  0; BR_EINVAL; BR_ENOMEM; BR_ESTORE. */
struct br_undo_row;
int br_sj_researcher_revert(br_repo *repo, int64_t job_id, const struct br_undo_row *row, int apply,
                            int *conflict, const char **why, char *name, size_t size,
                            br_error *err);
/* setjob_users.c: update-users, on a set of users (its members are user names). */
extern const sj_driver br_sj_users;
extern const sj_loader br_sj_users_loader;
extern const sj_extra br_sj_users_extra;
/* revert.c's side of an update-users undo row ("user:ACCOUNT_ID"): as br_sj_researcher_revert,
 * for a user's roles and account type (a password is never put back; a user gone or renamed
 * is never written over); name gets the user name. */
#define BR_SJ_USER_UNDO_PREFIX "user:"
int br_sj_user_revert(br_repo *repo, int64_t job_id, const struct br_undo_row *row, int apply,
                      int *conflict, const char **why, char *name, size_t size, br_error *err);
/* A revert's put-back of an item's relations (parts BR_PART_RELATIONS of an undo row): item id's
 * relations become snap's (those whose other item still exists), each row changed with an undo
 * row of the revert job (job_id) for both items; the other items' versions stay, so that their
 * own undo rows of the reverted job do not read as changed since (setjob_relations.c). */
int br_sj_relations_put_back(br_repo *repo, int64_t job_id, int64_t id, const br_record *snap,
                             br_error *err);

/* Undo rows for writers outside set jobs (the import pipeline); job_id 0 writes nothing.
 * changed: action "updated" (item_id: the item, written already) or "deleted" (item_id 0),
 * before the record as it was, parts the parts the write replaced. */
int br_undo_created(br_repo *repo, int64_t job_id, const char *uuid, br_error *err);
int br_undo_changed(br_repo *repo, int64_t job_id, const char *action, const br_record *before,
                    unsigned parts, int64_t item_id, br_error *err);
/* The framework's update write: the changed parts, an undo row, the new version. */
int br_sj_write_update(sj_item *it, br_error *err);
/* Moves a stored record into the trash for keep_days and deletes it (files held). */
int br_sj_trash_item(br_repo *repo, const br_record *rec, int64_t job_id, int keep_days,
                     br_error *err);
/* Inserts a record from a full snapshot (same UUID and handle; relations whose other item
 * exists).  handle (may be NULL) gets the handle. */
int br_sj_restore_record(br_repo *repo, const br_record *snap, char *handle, br_error *err);
/* The changes between two records, part by part (for the dry run); strings in `arena`. */
int br_sj_diff(const br_record *a, br_record *b, unsigned parts, br_change **out, size_t *n,
               br_error *err);

/* Runs a set job claimed by the engine (status already RUNNING), to its outcome. */
int br_sj_run(br_repo *repo, const br_job *job, json_t *params, int resume, br_progress_fn progress,
              void *pctx, int64_t *records, br_error *err);
/* Runs a revert job. */
int br_revert_run(br_repo *repo, const br_job *job, json_t *params, br_progress_fn progress,
                  void *pctx, int64_t *records, br_error *err);

/* ---- parameters (setjob_params.c) ---- */
int br_sj_params_check(br_repo *repo, const char *type, json_t *params, br_error *err);
int br_sj_param_find(const char *type, const char *name, br_job_param *out, char *names,
                     size_t size);
/* A parameter's value as text (its default when absent), NULL when neither. */
const char *br_sj_param(json_t *params, const char *type, const char *name, char *buf, size_t size);
int br_sj_param_bool(json_t *params, const char *type, const char *name);
const char *br_sj_value_text(json_t *v, char *buf, size_t size);
/* Compiles (re may be NULL: only checks) a bounded POSIX extended regular expression. */
int br_sj_regex_check(const char *pattern, regex_t *re, br_error *err);

#endif
