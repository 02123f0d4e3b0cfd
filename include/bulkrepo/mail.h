/* bulkrepo — mail to users: letters rendered from templates, an outbox, and a sender
 * (issue 11 section 7: the Update/Notify Users job's notifications; other jobs queue their
 * own mail the same way).
 *
 * A message is queued in the outbox (br_mail_queue) in the caller's transaction, so it exists
 * exactly when the change it tells about was committed.  The sender (br_mail_send: `bulkrepo
 * mail send`, and the engine every few seconds) delivers due messages through the configured
 * SMTP server (libcurl's smtp/smtps, STARTTLS when asked for); with no server configured the
 * messages stay in the outbox.  A server that is down or answers 4xx leaves a message queued
 * with its attempt count, last error and the time of its next try (back-off: 1 minute,
 * doubling, at most an hour); a 5xx answer (the server refused it for good) leaves it
 * "failed", listed, until br_mail_requeue.  A message is claimed before it is sent, so two
 * senders never send it both; it is marked sent once the server took it.
 *
 * Secrets: a message may carry one secret (a new password).  Its body holds a mark where the
 * secret goes and the secret is kept sealed with the repository's key (as DOI passwords,
 * doi/seal.c) until the message is sent, then forgotten: listings show "[redacted]", and the
 * secret is never in the journal, events, job JSON or logs.  The SMTP password is sealed the
 * same way. */
#ifndef BULKREPO_MAIL_H
#define BULKREPO_MAIL_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BR_MAIL_ADDRESS_MAX 254 /* bytes of an address (RFC 5321's path limit) */
/* Where a message's secret goes in its body: replaced by the secret when it is sent, by
 * "[redacted]" when it is shown. */
#define BR_MAIL_SECRET_MARK "\x1esecret\x1e"
#define BR_MAIL_REDACTED    "[redacted]"

/* 1 when s is an address bulkrepo sends to: local@domain, 3 to BR_MAIL_ADDRESS_MAX bytes of
 * printable ASCII without spaces, quotes, '<', '>', ',', ';', '(', ')', '[', ']' or '\'; one
 * '@' with a dot-free or dotted domain. */
int br_mail_address_valid(const char *s);

/* ---- the server (`bulkrepo mail config`) ------------------------------------------------ */

typedef struct br_mail_config {
    char smtp[512]; /* smtp://host[:port] or smtps://host[:port]; "" = none (mail stays queued) */
    char from[BR_MAIL_ADDRESS_MAX + 1];
    char user[256];            /* SMTP AUTH user, "" none */
    int has_password;          /* a password is stored (sealed; never read back by callers) */
    int starttls;              /* smtp:// upgraded with STARTTLS, refused when the server cannot */
    char repository_name[256]; /* {{repository_name}} of letters; "" = "bulkrepo" */
    char updated[32];          /* ISO 8601 UTC, "" never configured */
} br_mail_config;

/* Sets the server: smtp must be smtp:// or smtps:// with a host; from a valid address;
 * starttls only with smtp://; a user and password only over TLS (smtps:// or starttls);
 * password NULL keeps the stored one (when the user stays), "" removes it.  The repository
 * name has no control characters.  0; BR_EUSAGE naming what is wrong; BR_EIO (the key). */
int br_mail_config_set(br_repo *repo, const br_mail_config *cfg, const char *password,
                       br_error *err);
/* 0 and out filled (out->smtp "" when no server is configured); BR_ESTORE. */
int br_mail_config_get(br_repo *repo, br_mail_config *out, br_error *err);
/* Forgets the server (messages then stay queued): 0 or BR_ESTORE. */
int br_mail_config_clear(br_repo *repo, br_error *err);
/* The web interface's address (http:// or https:// with a host, no spaces or control
 * characters, at most 511 bytes) that mail links to a job's report from: the job-end mail
 * (issue 17) links BASE/#/jobs/ID; "" (or NULL) forgets it (the mail then says `bulkrepo job
 * show ID`).  Kept apart from the server's settings: `--off` leaves it.  0; BR_EUSAGE;
 * BR_ESTORE.  get: out "" when unset. */
int br_mail_base_url_set(br_repo *repo, const char *url, br_error *err);
int br_mail_base_url_get(br_repo *repo, char *out, size_t size, br_error *err);

/* ---- the outbox ------------------------------------------------------------------------- */

typedef struct br_mail_message {
    const char *kind;    /* what it is: a letter type ("account-updated"), 1-63 bytes */
    const char *to;      /* the recipient's address */
    const char *subject; /* UTF-8, one line */
    const char *body;    /* UTF-8; holds BR_MAIL_SECRET_MARK once when secret is given */
    const char *secret;  /* NULL none; sealed at rest, sent in place of the mark */
    int64_t job_id;      /* the job that queued it, 0 none */
} br_mail_message;

/* Queues a message (in the caller's transaction when one is open).  Its Message-ID and Date
 * are fixed now.  0 and *id (may be NULL); BR_EUSAGE (a bad address, subject with a line
 * break, body not UTF-8, a secret without its mark or a mark without a secret); BR_EIO (the
 * key); BR_ESTORE. */
int br_mail_queue(br_repo *repo, const br_mail_message *m, int64_t *id, br_error *err);

typedef struct br_mail_entry {
    int64_t id;
    const char *created; /* ISO 8601 UTC: the message's Date */
    const char *kind;
    const char *to;
    const char *subject;
    const char *body; /* the secret shown as BR_MAIL_REDACTED */
    const char *message_id;
    const char *state; /* "queued", "sending", "sent", "failed" */
    int64_t attempts;
    const char *last_error; /* NULL none */
    int64_t next_attempt;   /* Unix time of the next try (queued) */
    const char *sent;       /* ISO 8601 UTC, NULL until sent */
    int64_t job_id;         /* 0 none */
    int has_secret;         /* it carried a secret (still sealed while not sent) */
} br_mail_entry;

typedef int (*br_mail_entry_fn)(void *ctx, const br_mail_entry *e);
/* The messages in id order, those of one state (NULL: all); a nonzero return of fn stops.
 * BR_EUSAGE for an unknown state; BR_ESTORE. */
int br_mail_outbox_list(br_repo *repo, const char *state, br_mail_entry_fn fn, void *ctx,
                        br_error *err);
/* The outbox's messages by state (any pointer may be NULL). */
int br_mail_outbox_count(br_repo *repo, int64_t *queued, int64_t *sent, int64_t *failed,
                         br_error *err);

typedef struct br_mail_send_report {
    int configured;      /* a server is configured */
    int64_t sent;        /* delivered by this call */
    int64_t retry_later; /* tried and left queued (the server was down or answered 4xx) */
    int64_t failed;      /* refused for good by the server (5xx): state failed */
    int64_t waiting;     /* queued, not yet due (back-off), or kept (no server) */
} br_mail_send_report;

#define BR_MAIL_SEND_ALL 1u /* also the messages waiting for their next try */

/* Sends due messages, at most max (0 = every one), one SMTP session each; with no server
 * configured sends nothing (report->configured 0).  A message's own failure is its row's
 * (attempts, last error, next try): 0 then, with the report counting.  BR_ESTORE, BR_EIO
 * (the key cannot be read: nothing sent). */
int br_mail_send(br_repo *repo, unsigned flags, size_t max, br_mail_send_report *report,
                 br_error *err);
/* Puts a failed (or queued) message back in the queue, due now.  BR_ENOTFOUND; BR_EUSAGE when
 * it was sent. */
int br_mail_requeue(br_repo *repo, int64_t id, br_error *err);

/* ---- letters (data/letters/TYPE.txt, or the repository's letters/TYPE.txt) ---------------- */

/* A letter is a "Subject: " line, a blank line and the body.  Placeholders are {{name}};
 * {{#name}} and {{/name}} (alone on their lines) keep the lines between them only when name has
 * a value.  Names: user_name, roles_added, account_type, new_password, job_id,
 * repository_name, job_name, job_status, job_message, counters, report, delivery.  An unknown name,
 * an unclosed section or a missing Subject is an error at load time naming it with its line. */
typedef struct br_letter br_letter;

typedef struct br_letter_vars {
    const char *user_name;
    const char *roles_added;  /* labels, ", " between; NULL none */
    const char *account_type; /* "internal" or "external" when it changed; NULL none */
    const char *new_password; /* NULL none */
    const char *job_id;
    const char *repository_name;
    /* The job-end letter (job-ended, issue 17); one line each. */
    const char *job_name;
    const char *job_status;  /* "Completed Successfully" */
    const char *job_message; /* why it failed, or a summary; NULL none */
    const char *counters;    /* "12 processed, 10 imported, ..." */
    const char *report;      /* a link to the report, or the command that shows it */
    const char *delivery;    /* what became of an export's delivery; NULL none */
} br_letter_vars;

/* Loads letter type (1-63 bytes of a-z 0-9 '-'): the repository's letters/TYPE.txt when repo is
 * given and it exists, else the shipped one.  BR_ENOTFOUND (no such type), BR_EINVAL (the
 * template is wrong: file, line and column), BR_ENOMEM. */
int br_letter_load(br_repo *repo, const char *type, br_letter **out, br_error *err);
void br_letter_free(br_letter *l);
/* 1 when the letter uses placeholder name (in its subject or body). */
int br_letter_uses(const br_letter *l, const char *name);
/* Where the letter was read from: "shipped" or the repository file's path. */
const char *br_letter_source(const br_letter *l);
/* Renders the letter (malloc'd subject and body; free both).  new_password, when given, is
 * written as BR_MAIL_SECRET_MARK (br_mail_queue puts the password there when it sends). */
int br_letter_render(const br_letter *l, const br_letter_vars *v, char **subject, char **body,
                     br_error *err);

typedef int (*br_letter_fn)(void *ctx, const char *type, const char *source,
                            const br_error *problem);
/* Every letter type (shipped, and the repository's when repo is given), by name: source
 * "shipped" or the file; problem NULL when it loads.  A nonzero return of fn stops. */
int br_letter_list(br_repo *repo, br_letter_fn fn, void *ctx, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
