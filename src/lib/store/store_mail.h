/* The store's side of mail and of users' account rows (schema v8).  Internal: the outbox and
 * sender (src/lib/mail/) and the Update/Notify Users job (src/lib/jobs/setjob_users.c) call
 * these; SQL stays in store_mail.c and store_account.c.  None of them begins a transaction:
 * a write joins the caller's, or commits on its own outside one. */
#ifndef BR_STORE_MAIL_H
#define BR_STORE_MAIL_H

#include <stdint.h>
#include "bulkrepo/error.h"
#include "bulkrepo/mail.h"
#include "bulkrepo/repo.h"
#include "bulkrepo/user.h"

/* ---- the server's settings (meta rows) ---- */
/* out filled ("" where unset); sealed (may be NULL) gets the sealed SMTP password, "" none. */
int br_mail_settings_get(br_repo *repo, br_mail_config *out, char *sealed, size_t size,
                         br_error *err);
/* Writes every setting in one transaction of its own (sealed "" or NULL: no password). */
int br_mail_settings_put(br_repo *repo, const br_mail_config *cfg, const char *sealed,
                         br_error *err);

/* ---- outbox rows (mail_outbox) ---- */
typedef struct br_mail_row {
    const char *created, *kind, *to, *subject, *body;
    const char *secret; /* sealed, NULL none */
    const char *message_id;
    int64_t job_id;
} br_mail_row;
int br_mail_row_insert(br_repo *repo, const br_mail_row *row, int64_t *id, br_error *err);
/* Rows of a state (NULL all) in id order, as br_mail_entry with the body as stored (the mark
 * in place of a secret). */
int br_mail_rows(br_repo *repo, const char *state, br_mail_entry_fn fn, void *ctx, br_error *err);
int br_mail_row_counts(br_repo *repo, int64_t *queued, int64_t *sent, int64_t *failed,
                       br_error *err);
/* Up to max ids greater than after of messages due (queued with next_attempt <= due_before,
 * or claimed before stale_before by a sender that is gone), in id order; *n filled. */
int br_mail_rows_due(br_repo *repo, int64_t due_before, int64_t stale_before, int64_t after,
                     int64_t *ids, size_t max, size_t *n, br_error *err);
/* Claims a due message for this sender at now: 1 claimed, 0 another sender has it or it is no
 * longer due, negative on failure. */
int br_mail_row_claim(br_repo *repo, int64_t id, int64_t now, int64_t stale_before, br_error *err);
/* A message to send; the strings are malloc'd into out (br_mail_row_dispose). */
typedef struct br_mail_full {
    char *created, *to, *subject, *body, *secret, *message_id, *state;
    int64_t attempts;
} br_mail_full;
int br_mail_row_get(br_repo *repo, int64_t id, br_mail_full *out, br_error *err);
void br_mail_row_dispose(br_mail_full *m);
/* Marks a message sent at `sent` (ISO 8601) and forgets its secret. */
int br_mail_row_sent(br_repo *repo, int64_t id, const char *sent, br_error *err);
/* Counts a failed attempt: state "queued" (next try at next_attempt) or "failed". */
int br_mail_row_failed(br_repo *repo, int64_t id, const char *state, const char *error,
                       int64_t next_attempt, br_error *err);
/* queued or failed -> queued, due now: 1 done, 0 the message was sent (or is being sent),
 * BR_ENOTFOUND, BR_ESTORE. */
int br_mail_row_requeue(br_repo *repo, int64_t id, br_error *err);
int br_mail_rows_of_job(br_repo *repo, int64_t job_id, int64_t *n, br_error *err);
/* Messages of kind that job_id queued, in *n. */
int br_mail_rows_of_job_kind(br_repo *repo, int64_t job_id, const char *kind, int64_t *n,
                             br_error *err);
/* The base URL of links in mail (meta mail.base_url): "" when unset. */
int br_mail_base_url_read(br_repo *repo, char *out, size_t size, br_error *err);
int br_mail_base_url_write(br_repo *repo, const char *url, br_error *err);
/* account.notify_jobs of a user: BR_ENOTFOUND when there is no such user. */
int br_account_notify_jobs(br_repo *repo, const char *username, int *on, br_error *err);
int br_account_set_notify_jobs(br_repo *repo, const char *username, int on, br_error *err);

/* ---- users' account rows (account: roles, account type, address) ---- */
typedef struct br_account_row {
    int64_t id;
    char username[BR_USERNAME_MAX];
    uint32_t roles;
    int external;                        /* account_type 'external' */
    char email[BR_MAIL_ADDRESS_MAX + 1]; /* as stored, "" none */
} br_account_row;
/* By name (username non-NULL) or by id.  0; BR_ENOTFOUND; BR_ESTORE. */
int br_account_read(br_repo *repo, const char *username, int64_t id, br_account_row *out,
                    br_error *err);
/* Writes an account's roles (not 0) and type; hash (may be NULL) is a new password hash: then
 * its sessions end and its API tokens are revoked, as br_user_passwd does. */
int br_account_write(br_repo *repo, int64_t id, uint32_t roles, int external, const char *hash,
                     br_error *err);

#endif
