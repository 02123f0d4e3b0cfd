/* Internal to the library: the rows of pulling import profiles (issue 17, jobs/pull.c).
 * fetched_file records every remote file a fetch job took, so that one file is loaded once,
 * across runs and restarts; its state is
 *   'fetched'   downloaded, checksummed and recorded; its load job not yet linked
 *   'queued'    its load job was queued (load_job)
 *   'duplicate' the same name, size and checksum as a file taken before (load_job: that
 *               file's load job): not loaded again
 *   'failed'    recorded but lost before its load job was queued (taken again next run). */
#ifndef BR_STORE_FETCHED_H
#define BR_STORE_FETCHED_H

#include <stddef.h>
#include <stdint.h>
#include "bulkrepo/error.h"
#include "bulkrepo/repo.h"

typedef struct br_fetched {
    int64_t id;
    char profile[64];
    char name[256];
    int64_t size;
    int64_t mtime; /* -1 unknown */
    char sha256[65];
    int64_t fetch_job;
} br_fetched;

/* 1 with *job (its load job, or the fetch job when none) when the profile took a file of this
 * name, size and mtime (mtime >= 0) that is fetched, queued or a duplicate; 0 when not. */
int br_fetched_loaded(br_repo *repo, const char *profile, const char *name, int64_t size,
                      int64_t mtime, int64_t *job, br_error *err);
/* 1 with *job when a file of this name, size and checksum was fetched or queued before. */
int br_fetched_by_sha(br_repo *repo, const char *profile, const char *name, int64_t size,
                      const char *sha256, int64_t *job, br_error *err);
/* Inserts f (fetched = now) with state and load_job (0: NULL); f->id is set. */
int br_fetched_add(br_repo *repo, br_fetched *f, const char *state, int64_t load_job,
                   br_error *err);
/* state := state; load_job := load_job unless 0. */
int br_fetched_set(br_repo *repo, int64_t id, const char *state, int64_t load_job, br_error *err);
/* Rows in state 'fetched' of profile (NULL: every profile), oldest first; *out malloc'd. */
int br_fetched_pending(br_repo *repo, const char *profile, br_fetched **out, size_t *n,
                       br_error *err);
/* 1 with *job when a fetch job of the profile is queued or running; 0 when none. */
int br_profile_fetch_active(br_repo *repo, const char *name, int64_t *job, br_error *err);
/* next_run := to when it is still from (compare-and-set): 1 when this call moved it. */
int br_profile_advance(br_repo *repo, const char *name, int64_t from, int64_t to, br_error *err);

#endif
