/* Users' account type and mail address (user.h, migration 008) and the account writes of the
 * Update/Notify Users job (store_mail.h).
 *
 * The job writes inside its batch's transaction, so these reuse store_user.c's statements for
 * roles, passwords, sessions and tokens without beginning a transaction of their own. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "store_internal.h"
#include "store_mail.h"

static int done(br_repo *repo, br_dbst *st, br_error *err, const char *what)
{
    int rc = br_step(repo, st);
    br_db_reset(st);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, what);
}

const char *br_account_type_name(br_account_type t)
{
    return t == BR_ACCOUNT_EXTERNAL ? "external" : "internal";
}

int br_account_type_parse(const char *s, br_account_type *out)
{
    if (s && !strcmp(s, "internal")) {
        *out = BR_ACCOUNT_INTERNAL;
        return 0;
    }
    if (s && !strcmp(s, "external")) {
        *out = BR_ACCOUNT_EXTERNAL;
        return 0;
    }
    return BR_EUSAGE;
}

int br_account_read(br_repo *repo, const char *username, int64_t id, br_account_row *out,
                    br_error *err)
{
    memset(out, 0, sizeof *out);
    br_dbst *st = br_stmt(repo, username ? S_ACCT_GET : S_ACCT_BY_ID, err);
    if (!st) return BR_ESTORE;
    if (username)
        br_bind_text(st, 1, username);
    else
        br_db_bind_int64(st, 1, id);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE) {
        br_db_reset(st);
        if (username) return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no user '%s'", username);
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no user has id %lld", (long long)id);
    }
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "user read");
    out->id = br_db_col_int64(st, 0);
    br_strlcpy(out->username, br_col_text(st, 1), sizeof out->username);
    out->external = !strcmp(br_col_text(st, 2) ? br_col_text(st, 2) : "", "external");
    const char *email = br_col_text(st, 3);
    br_strlcpy(out->email, email ? email : "", sizeof out->email);
    br_db_reset(st);
    if (!(st = br_stmt(repo, S_USER_ROLES, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, out->id);
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_role r;
        if (!br_role_find(br_col_text(st, 0), &r)) out->roles |= UINT32_C(1) << r.index;
    }
    br_db_reset(st);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "user roles");
}

int br_account_write(br_repo *repo, int64_t id, uint32_t roles, int external, const char *hash,
                     br_error *err)
{
    if (!roles) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a user needs at least one role");
    br_dbst *st = br_stmt(repo, S_USER_ROLES_CLEAR, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    int rc = done(repo, st, err, "user roles");
    for (unsigned i = 0; i < 32 && !rc; i++) {
        br_role r;
        if (!(roles & (UINT32_C(1) << i))) continue;
        if (br_role_at(i, &r))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no role has bit %u", i);
        if (!(st = br_stmt(repo, S_USER_ROLE_INSERT, err))) return BR_ESTORE;
        br_db_bind_int64(st, 1, id);
        br_bind_text(st, 2, r.code);
        rc = done(repo, st, err, "user roles");
    }
    if (rc || !(st = br_stmt(repo, S_ACCT_SET_TYPE, err))) return rc ? rc : BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, external ? "external" : "internal");
    if ((rc = done(repo, st, err, "account type")) || !hash) return rc;
    /* A new password: as br_user_passwd, every session and API token made before ends. */
    if (!(st = br_stmt(repo, S_USER_SET_PW, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, hash);
    if ((rc = done(repo, st, err, "password update"))) return rc;
    if (!(st = br_stmt(repo, S_SESSION_DELETE_USER, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    if ((rc = done(repo, st, err, "session delete"))) return rc;
    if (!(st = br_stmt(repo, S_TOKEN_REVOKE_USER, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_db_bind_int64(st, 2, (int64_t)time(NULL));
    return done(repo, st, err, "token revoke");
}

/* ---- the public calls (user.h) ------------------------------------------------------------ */

int br_user_account_type(br_repo *repo, const char *username, br_account_type *out, br_error *err)
{
    if (!username || !out)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_user_account_type: missing argument");
    br_account_row a;
    int rc = br_account_read(repo, username, 0, &a, err);
    if (!rc) *out = a.external ? BR_ACCOUNT_EXTERNAL : BR_ACCOUNT_INTERNAL;
    return rc;
}

int br_user_set_account_type(br_repo *repo, const char *username, br_account_type t, br_error *err)
{
    if (!username) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no username");
    br_account_row a;
    int rc = br_account_read(repo, username, 0, &a, err);
    if (rc) return rc;
    br_dbst *st = br_stmt(repo, S_ACCT_SET_TYPE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, a.id);
    br_bind_text(st, 2, br_account_type_name(t));
    return done(repo, st, err, "account type");
}

int br_user_mail(br_repo *repo, const char *username, char *out, size_t size, br_error *err)
{
    if (!username || !out || !size)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_user_mail: missing argument");
    out[0] = 0;
    br_account_row a;
    int rc = br_account_read(repo, username, 0, &a, err);
    if (rc) return rc;
    /* A user name that is an address (Alma's primary identifiers often are) is used when no
     * other address was set. */
    const char *addr = a.email[0] ? a.email : br_mail_address_valid(a.username) ? a.username : "";
    br_strlcpy(out, addr, size);
    return 0;
}

int br_user_set_mail(br_repo *repo, const char *username, const char *address, br_error *err)
{
    if (!username) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no username");
    if (address && *address && !br_mail_address_valid(address))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "'%.300s' is not a mail address bulkrepo sends to (local@domain, no "
                            "spaces, quotes or brackets)",
                            address);
    br_account_row a;
    int rc = br_account_read(repo, username, 0, &a, err);
    if (rc) return rc;
    br_dbst *st = br_stmt(repo, S_ACCT_SET_EMAIL, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, a.id);
    br_bind_text(st, 2, address && *address ? address : NULL);
    return done(repo, st, err, "user address");
}

/* ---- mail me when my jobs end (account.notify_jobs, issue 17) ---------------------------- */

int br_account_notify_jobs(br_repo *repo, const char *username, int *on, br_error *err)
{
    *on = 0;
    br_dbst *st = br_stmt(repo, S_ACCT_NOTIFY_GET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, username);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) *on = br_db_col_int(st, 0) != 0;
    br_db_reset(st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no user '%s'", username);
    return rc == BR_DB_ROW ? 0 : br_store_fail(repo, err, "user notify setting");
}

int br_account_set_notify_jobs(br_repo *repo, const char *username, int on, br_error *err)
{
    int cur;
    int rc = br_account_notify_jobs(repo, username, &cur, err); /* BR_ENOTFOUND named */
    if (rc) return rc;
    br_dbst *st = br_stmt(repo, S_ACCT_NOTIFY_SET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, username);
    br_db_bind_int64(st, 2, on ? 1 : 0);
    return done(repo, st, err, "user notify setting");
}

int br_user_notify_jobs(br_repo *repo, const char *username, int *on, br_error *err)
{
    if (!username || !on)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_user_notify_jobs: missing argument");
    return br_account_notify_jobs(repo, username, on, err);
}

int br_user_set_notify_jobs(br_repo *repo, const char *username, int on, br_error *err)
{
    if (!username) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no username");
    return br_account_set_notify_jobs(repo, username, on, err);
}
