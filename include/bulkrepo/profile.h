/* bulkrepo — import profiles with a drop folder (issue 4 section 4; the
 * seeds' FTP import).  A profile names an inbox folder, the format of the
 * files dropped there and the collection they go to.  The engine (engine.h)
 * scans each inbox, takes a file once it stopped growing, claims it by an
 * atomic rename into INBOX/processing/, runs the profile's import as a job and
 * moves the file to INBOX/done/ or INBOX/failed/ after.  Any FTP or SFTP
 * server pointed at the folder gives the seeds' FTP upload.
 *
 * A profile that pulls (issue 17, seed 004's "Metadata Import w/FTP") also
 * names an S/FTP configuration (ftp.h), a remote folder and a file pattern:
 * a fetch job (type "fetch-profile"), run on the profile's schedule or on
 * demand (br_profile_run), downloads the new files into the inbox and queues
 * one load job per file, linked to it (job.parent_job).  docs/profiles.md. */
#ifndef BULKREPO_PROFILE_H
#define BULKREPO_PROFILE_H

#include <stdint.h>
#include "error.h"
#include "job.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct br_profile {
    char name[64];       /* letters, digits, '-', '_', '.' */
    char format[16];     /* "saf" (a .zip per package) or "esploro-csv" (a .csv) */
    char collection[64]; /* handle of the collection new records go to */
    char inbox[1024];    /* absolute path of an existing folder */
    char eperson[256];   /* recorded as the jobs' submitter; "" = "inbox" */
    char created[32];
    /* Pulling (all "" for a drop folder only).  With ftp set and inbox "",
     * br_profile_add uses <repo>/profiles/<name>/ (created). */
    char ftp[64];           /* the S/FTP configuration's name */
    char remote_dir[1024];  /* relative to the configuration's root; "" = the root */
    char pattern[256];      /* fnmatch(3) glob of remote file names; "" = "*" + the format's
                               extension (br_profile_pattern) */
    char after_fetch[1040]; /* "leave" ("" too), "delete", or "move:DIR" (DIR relative to
                               the configuration's root) */
    char schedule[128];     /* cron-like, 5 fields, UTC (docs/profiles.md); "" = on demand */
    int64_t next_run;       /* Unix time the schedule is next due; 0 = none */
} br_profile;

typedef int (*br_profile_fn)(void *ctx, const br_profile *p);

/* Checks and stores a profile and creates INBOX/processing, done and failed.
 * BR_EUSAGE for a bad name or format, a relative or missing inbox, a bad
 * remote_dir (br_remote_path_check), pattern, after_fetch or schedule (the
 * message names the cron field and position), or pulling fields without ftp;
 * BR_ENOTFOUND for an unknown collection or S/FTP configuration; BR_EEXISTS
 * when the name or the inbox is taken.  next_run is computed from the
 * schedule (the caller's value is ignored). */
int br_profile_add(br_repo *repo, const br_profile *p, br_error *err);
int br_profile_get(br_repo *repo, const char *name, br_profile *out, br_error *err);
/* By name.  A nonzero return of fn stops. */
int br_profile_list(br_repo *repo, br_profile_fn fn, void *ctx, br_error *err);
/* BR_ENOTFOUND when there is none; the inbox and its files are left alone. */
int br_profile_remove(br_repo *repo, const char *name, br_error *err);

/* The file pattern in effect: p->pattern, or "*.zip" / "*.csv" by the format. */
void br_profile_pattern(const br_profile *p, char *out, size_t size);

/* Queues a fetch job of a pulling profile now ("Metadata Import w/FTP: NAME"),
 * submitted by eperson (NULL: the profile's).  max_size > 0 caps each file
 * below the format's input cap (limits.h).  BR_ENOTFOUND: no such profile;
 * BR_EUSAGE: the profile does not pull (it has no S/FTP configuration). */
int br_profile_run(br_repo *repo, const char *name, const char *eperson, int64_t max_size,
                   int64_t *job_id, br_error *err);

/* The profile's jobs (fetch and load jobs, job.profile = name), newest first,
 * from offset, at most limit (0 = all); *total (may be NULL) gets how many
 * there are.  A nonzero return of fn stops. */
int br_profile_history(br_repo *repo, const char *name, size_t limit, size_t offset, br_job_fn fn,
                       void *ctx, int64_t *total, br_error *err);

/* The profile as JSON (malloc'd; caller frees): {name, format, collection, inbox, eperson, ftp,
 * remote_dir, pattern, after_fetch, schedule, next_run (ISO 8601 UTC), created}, null for what
 * does not apply.  0 or BR_ENOMEM. */
int br_profile_to_json(const br_profile *p, char **out, br_error *err);
/* Its Job History as JSON: {"profile": {...}, "jobs": [{id, name, type, status, status_label,
 * submitted, started, ended, counters, message, parent_job}], "total": N}, newest first, as
 * br_profile_history.  BR_ENOTFOUND (no such profile), BR_ENOMEM, BR_ESTORE. */
int br_profile_history_json(br_repo *repo, const char *name, size_t limit, size_t offset,
                            char **out, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
