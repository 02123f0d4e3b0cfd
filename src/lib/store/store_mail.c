/* The mail outbox and the mail server's settings in the store (store_mail.h, mail.h).
 *
 * The settings are meta rows ("mail.smtp", "mail.from", ...): one server per repository, read
 * whole.  The outbox is mail_outbox (migration 008): a row per message with its delivery
 * state; a sender claims a row (queued -> sending) before it talks to the server, so two
 * senders never send one message both, and a claim older than the lease (a sender that died)
 * is taken over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store_internal.h"
#include "store_mail.h"

static int done(br_repo *repo, br_dbst *st, br_error *err, const char *what)
{
    int rc = br_step(repo, st);
    br_db_reset(st);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, what);
}

/* ---- settings ------------------------------------------------------------------------------ */

/* The settings' meta keys; the password is stored sealed. */
static const char *const KEYS[] = {"mail.smtp",     "mail.from",     "mail.user",
                                   "mail.password", "mail.starttls", "mail.repository_name",
                                   "mail.updated"};
enum { K_SMTP, K_FROM, K_USER, K_PASSWORD, K_STARTTLS, K_NAME, K_UPDATED, K_N };

static int meta(br_repo *repo, int k, char *out, size_t size, br_error *err)
{
    br_error e;
    int rc = br_store_meta_get(repo, KEYS[k], out, size, &e);
    if (rc == BR_ENOTFOUND) {
        out[0] = 0;
        return 0;
    }
    if (rc && err) *err = e;
    return rc;
}

int br_mail_settings_get(br_repo *repo, br_mail_config *out, char *sealed, size_t size,
                         br_error *err)
{
    memset(out, 0, sizeof *out);
    char flag[8], pw[2048];
    int rc = meta(repo, K_SMTP, out->smtp, sizeof out->smtp, err);
    if (!rc) rc = meta(repo, K_FROM, out->from, sizeof out->from, err);
    if (!rc) rc = meta(repo, K_USER, out->user, sizeof out->user, err);
    if (!rc) rc = meta(repo, K_PASSWORD, pw, sizeof pw, err);
    if (!rc) rc = meta(repo, K_STARTTLS, flag, sizeof flag, err);
    if (!rc) rc = meta(repo, K_NAME, out->repository_name, sizeof out->repository_name, err);
    if (!rc) rc = meta(repo, K_UPDATED, out->updated, sizeof out->updated, err);
    if (rc) return rc;
    out->starttls = !strcmp(flag, "1");
    out->has_password = pw[0] != 0;
    if (sealed) br_strlcpy(sealed, pw, size);
    return 0;
}

int br_mail_settings_put(br_repo *repo, const br_mail_config *cfg, const char *sealed,
                         br_error *err)
{
    const char *v[K_N] = {cfg->smtp,
                          cfg->from,
                          cfg->user,
                          sealed ? sealed : "",
                          cfg->starttls ? "1" : "0",
                          cfg->repository_name,
                          cfg->updated};
    int rc = br_repo_begin(repo, err);
    for (int k = 0; k < K_N && !rc; k++)
        rc = br_store_meta_set(repo, KEYS[k], v[k], err);
    if (!rc) rc = br_repo_commit(repo, err);
    if (rc) br_repo_rollback(repo);
    return rc;
}

/* ---- outbox rows ---------------------------------------------------------------------------- */

int br_mail_row_insert(br_repo *repo, const br_mail_row *row, int64_t *id, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_MAIL_INSERT, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, row->created);
    br_bind_text(st, 2, row->kind);
    br_bind_text(st, 3, row->to);
    br_bind_text(st, 4, row->subject);
    br_bind_text(st, 5, row->body);
    br_bind_text(st, 6, row->secret);
    br_db_bind_int64(st, 7, row->secret != NULL);
    br_bind_text(st, 8, row->message_id);
    if (row->job_id)
        br_db_bind_int64(st, 9, row->job_id);
    else
        br_db_bind_null(st, 9);
    int rc = done(repo, st, err, "outbox insert");
    if (!rc && id) *id = br_db_last_id(repo->db);
    return rc;
}

int br_mail_rows(br_repo *repo, const char *state, br_mail_entry_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_MAIL_LIST, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, state);
    int rc, stop = 0;
    while (!stop && (rc = br_step(repo, st)) == BR_DB_ROW) {
        br_mail_entry e = {br_db_col_int64(st, 0),  br_col_text(st, 1),      br_col_text(st, 2),
                           br_col_text(st, 3),      br_col_text(st, 4),      br_col_text(st, 5),
                           br_col_text(st, 6),      br_col_text(st, 7),      br_db_col_int64(st, 8),
                           br_col_text(st, 9),      br_db_col_int64(st, 10), br_col_text(st, 11),
                           br_db_col_int64(st, 12), br_db_col_int(st, 13)};
        stop = BR_YIELD(repo, fn(ctx, &e));
    }
    br_db_reset(st);
    if (stop < 0) return stop;
    return stop || rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "outbox list");
}

int br_mail_row_counts(br_repo *repo, int64_t *queued, int64_t *sent, int64_t *failed,
                       br_error *err)
{
    br_dbst *st = br_stmt(repo, S_MAIL_COUNT, err);
    if (!st) return BR_ESTORE;
    if (br_step(repo, st) != BR_DB_ROW) return br_store_fail(repo, err, "outbox count");
    if (queued) *queued = br_db_col_int64(st, 0);
    if (sent) *sent = br_db_col_int64(st, 1);
    if (failed) *failed = br_db_col_int64(st, 2);
    br_db_reset(st);
    return 0;
}

int br_mail_rows_due(br_repo *repo, int64_t due_before, int64_t stale_before, int64_t after,
                     int64_t *ids, size_t max, size_t *n, br_error *err)
{
    *n = 0;
    br_dbst *st = br_stmt(repo, S_MAIL_DUE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, due_before);
    br_db_bind_int64(st, 2, stale_before);
    br_db_bind_int64(st, 3, (int64_t)max);
    br_db_bind_int64(st, 4, after);
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW && *n < max)
        ids[(*n)++] = br_db_col_int64(st, 0);
    br_db_reset(st);
    return rc == BR_DB_DONE || rc == BR_DB_ROW ? 0 : br_store_fail(repo, err, "outbox due");
}

int br_mail_row_claim(br_repo *repo, int64_t id, int64_t now, int64_t stale_before, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_MAIL_CLAIM, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_db_bind_int64(st, 2, now);
    br_db_bind_int64(st, 3, stale_before);
    int rc = done(repo, st, err, "outbox claim");
    return rc ? rc : br_db_changes(repo->db) == 1;
}

static char *dup_col(br_dbst *st, int i, int *oom)
{
    const char *s = br_col_text(st, i);
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) *oom = 1;
    return d;
}

int br_mail_row_get(br_repo *repo, int64_t id, br_mail_full *out, br_error *err)
{
    memset(out, 0, sizeof *out);
    br_dbst *st = br_stmt(repo, S_MAIL_GET, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE) {
        br_db_reset(st);
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no message %lld in the outbox",
                            (long long)id);
    }
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "outbox read");
    int oom = 0;
    out->created = dup_col(st, 0, &oom);
    out->to = dup_col(st, 1, &oom);
    out->subject = dup_col(st, 2, &oom);
    out->body = dup_col(st, 3, &oom);
    out->secret = dup_col(st, 4, &oom);
    out->message_id = dup_col(st, 5, &oom);
    out->state = dup_col(st, 6, &oom);
    out->attempts = br_db_col_int64(st, 7);
    br_db_reset(st);
    if (oom) {
        br_mail_row_dispose(out);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    return 0;
}

void br_mail_row_dispose(br_mail_full *m)
{
    free(m->created);
    free(m->to);
    free(m->subject);
    free(m->body);
    free(m->secret);
    free(m->message_id);
    free(m->state);
    memset(m, 0, sizeof *m);
}

int br_mail_row_sent(br_repo *repo, int64_t id, const char *sent, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_MAIL_SENT, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, sent);
    return done(repo, st, err, "outbox update");
}

int br_mail_row_failed(br_repo *repo, int64_t id, const char *state, const char *error,
                       int64_t next_attempt, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_MAIL_RETRY, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, state);
    br_bind_text(st, 3, error);
    br_db_bind_int64(st, 4, next_attempt);
    return done(repo, st, err, "outbox update");
}

int br_mail_row_requeue(br_repo *repo, int64_t id, br_error *err)
{
    br_mail_full m;
    int rc = br_mail_row_get(repo, id, &m, err);
    if (rc) return rc;
    br_mail_row_dispose(&m);
    br_dbst *st = br_stmt(repo, S_MAIL_REQUEUE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    if ((rc = done(repo, st, err, "outbox update"))) return rc;
    return br_db_changes(repo->db) == 1;
}

int br_mail_rows_of_job(br_repo *repo, int64_t job_id, int64_t *n, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_MAIL_JOB_COUNT, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    if (br_step(repo, st) != BR_DB_ROW) return br_store_fail(repo, err, "outbox count");
    *n = br_db_col_int64(st, 0);
    br_db_reset(st);
    return 0;
}

/* Messages of one kind a job queued (the job-end mail is queued once per job: issue 17). */
int br_mail_rows_of_job_kind(br_repo *repo, int64_t job_id, const char *kind, int64_t *n,
                             br_error *err)
{
    br_dbst *st = br_stmt(repo, S_MAIL_JOB_KIND_COUNT, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    br_bind_text(st, 2, kind);
    if (br_step(repo, st) != BR_DB_ROW) return br_store_fail(repo, err, "outbox count");
    *n = br_db_col_int64(st, 0);
    br_db_reset(st);
    return 0;
}

/* The web interface's address for links in mail (meta "mail.base_url", issue 17): kept apart
 * from the server's settings, so `mail config --off` does not forget it. */
int br_mail_base_url_read(br_repo *repo, char *out, size_t size, br_error *err)
{
    br_error e;
    int rc = br_store_meta_get(repo, "mail.base_url", out, size, &e);
    if (rc == BR_ENOTFOUND) {
        out[0] = 0;
        return 0;
    }
    if (rc && err) *err = e;
    return rc;
}

int br_mail_base_url_write(br_repo *repo, const char *url, br_error *err)
{
    return br_store_meta_set(repo, "mail.base_url", url ? url : "", err);
}
