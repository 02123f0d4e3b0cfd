/* bulkrepo — import profiles with a drop folder (issue 4 section 4; the
 * seeds' FTP import).  A profile names an inbox folder, the format of the
 * files dropped there and the collection they go to.  The engine (engine.h)
 * scans each inbox, takes a file once it stopped growing, claims it by an
 * atomic rename into INBOX/processing/, runs the profile's import as a job and
 * moves the file to INBOX/done/ or INBOX/failed/ after.  Any FTP or SFTP
 * server pointed at the folder gives the seeds' FTP upload. */
#ifndef BULKREPO_PROFILE_H
#define BULKREPO_PROFILE_H

#include "error.h"
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
} br_profile;

typedef int (*br_profile_fn)(void *ctx, const br_profile *p);

/* Checks and stores a profile and creates INBOX/processing, done and failed.
 * BR_EUSAGE for a bad name or format, a relative or missing inbox;
 * BR_ENOTFOUND for an unknown collection; BR_EEXISTS when the name or the
 * inbox is taken. */
int br_profile_add(br_repo *repo, const br_profile *p, br_error *err);
int br_profile_get(br_repo *repo, const char *name, br_profile *out, br_error *err);
/* By name.  A nonzero return of fn stops. */
int br_profile_list(br_repo *repo, br_profile_fn fn, void *ctx, br_error *err);
/* BR_ENOTFOUND when there is none; the inbox and its files are left alone. */
int br_profile_remove(br_repo *repo, const char *name, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
