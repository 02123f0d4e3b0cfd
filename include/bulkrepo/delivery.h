/* bulkrepo — export delivery and job-end mail (issue 17; docs/delivery.md).
 *
 * Every export job may name a destination in its parameters:
 *   "deliver": "private"      <repo>/exports/users/<submitter>/   (the submitter and admins)
 *              "institution"  <repo>/exports/institution/         (the roles that see exports)
 *              "ftp"          the S/FTP configuration "ftp" (ftp.h), under "subdir" (optional)
 * After the export completed, the engine delivers its output (<repo>/exports/<id>/) there as
 * one file named "<id>-<file>" (an output of one file) or "<id>-export.zip" (a folder output:
 * a SAF package, an Esploro CSV with its .files folder, zipped whole, as the download of
 * GET /api/jobs/ID/output).  Delivery is a step of the job with its own outcome (job.delivery,
 * br_job_delivery): up to BR_DELIVER_ATTEMPTS attempts, 1 s then 2 s apart, an event for each;
 * a delivery that failed makes the job Completed with Errors and the output stays where it
 * was, downloadable.
 *
 * Any job may ask to be told when it ends: "notify": true (`import -n`), or the submitter's
 * setting (br_user_set_notify_jobs).  The mail (letter job-ended) is queued in the outbox once
 * per job. */
#ifndef BULKREPO_DELIVERY_H
#define BULKREPO_DELIVERY_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BR_DELIVER_ATTEMPTS 3

/* Checks a job's delivery parameters before it is queued (br_job_submit does): "deliver" only
 * on an export into the repository (no "dest"), one of private, institution, ftp; "ftp" (a
 * configuration that exists) only with ftp; "subdir" only with ftp, a relative path inside the
 * configuration's root (br_remote_path_check); private needs a submitter whose name is a
 * folder name.  0 (also when there is no "deliver"); BR_EUSAGE naming the parameter;
 * BR_ESTORE. */
int br_deliver_check(br_repo *repo, const char *category, const char *params_json,
                     const char *eperson, br_error *err);

/* Delivers job id's output as its parameters ask (nothing when they name no destination):
 * what the engine does after an export ended; the CLI calls it after an export it ran
 * itself.  Records job.delivery and the events; a failure ends the job Completed with Errors.
 * 0 when there was nothing to deliver or it was delivered; the delivery's error code when it
 * failed (err filled); BR_ENOTFOUND (no such job). */
int br_job_deliver(br_repo *repo, int64_t id, br_error *err);

/* ---- the export folders ---- */

typedef enum br_export_folder {
    BR_EXPORT_FOLDER_PRIVATE = 0, /* exports/users/<user>/ */
    BR_EXPORT_FOLDER_INSTITUTION  /* exports/institution/ */
} br_export_folder;

/* "private" or "institution" -> 0 and *out; BR_EUSAGE otherwise. */
int br_export_folder_parse(const char *name, br_export_folder *out);

typedef struct br_export_file {
    const char *name;     /* "12-export.zip" */
    int64_t size;         /* bytes */
    const char *modified; /* ISO 8601 UTC */
    int64_t job_id;       /* the job that delivered it (from the name), 0 unknown */
} br_export_file;
typedef int (*br_export_file_fn)(void *ctx, const br_export_file *f);

/* The delivered files of a folder (user: whose private folder), by name; files being written
 * (".NAME.part") and anything not a regular file are left out.  A folder nothing was
 * delivered to yet is empty.  A nonzero return of fn stops.  BR_EUSAGE (a user name that
 * is no folder name), BR_EIO. */
int br_export_folder_list(br_repo *repo, br_export_folder folder, const char *user,
                          br_export_file_fn fn, void *ctx, br_error *err);
/* Opens a delivered file for reading: *fd (O_RDONLY, the caller closes) and *size.  name is one
 * file name (no '/', not hidden).  BR_EUSAGE (a bad name), BR_ENOTFOUND. */
int br_export_folder_open(br_repo *repo, br_export_folder folder, const char *user,
                          const char *name, int *fd, int64_t *size, br_error *err);
/* 1 when a user (username, roles) may see the folder: private, their own (or anyone's for a
 * General System Administrator); institution, a role that may see export jobs. */
int br_export_folder_allowed(br_export_folder folder, const char *owner, const char *username,
                             uint32_t roles);

/* ---- the job-end mail ---- */

/* Queues the job-end letter of job id when its parameters say "notify" (or force is set: the
 * CLI's own run of `import -n`) or its submitter's setting is on, and none was queued for it
 * yet (never twice for one job).  A submitter without an address gets no mail: an event
 * says so.  0 (also when nobody is to be told); BR_ESTORE, BR_EINVAL (the letter does not
 * load). */
int br_job_notify_end(br_repo *repo, int64_t id, int force, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
