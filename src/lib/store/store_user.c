/* Users, roles, API tokens and sessions in the store (user.h).  Secrets are
 * kept only as hashes: passwords as argon2id strings, tokens and session ids
 * as SHA-256 (src/lib/auth/secret.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "auth/auth_internal.h"
#include "store_internal.h"

/* The one message for every failed login: it must not say which part was wrong. */
#define LOGIN_FAILED "wrong username or password"

static int valid_username(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n >= BR_USERNAME_MAX || s[0] == '-' || s[0] == '.') return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '-'))
            return 0;
    }
    return 1;
}

static int check_password(const char *pw, br_error *err)
{
    size_t n = pw ? strlen(pw) : 0;
    if (n < 8)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the password needs at least 8 bytes");
    if (n >= BR_PASSWORD_MAX)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the password is longer than %d bytes",
                            BR_PASSWORD_MAX - 1);
    return 0;
}

static int step_done(br_repo *repo, br_dbst *st, br_error *err, const char *what)
{
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, what);
}

/* The role set of an account from its role codes. */
static int load_roles(br_repo *repo, int64_t id, uint32_t *roles, br_error *err)
{
    *roles = 0;
    br_dbst *st = br_stmt(repo, S_USER_ROLES, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_role r;
        /* A code no longer in data/roles.tsv grants nothing. */
        if (!br_role_find(br_col_text(st, 0), &r)) *roles |= UINT32_C(1) << r.index;
    }
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "user roles");
}

static int store_roles(br_repo *repo, int64_t id, uint32_t roles, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_USER_ROLES_CLEAR, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    int rc = step_done(repo, st, err, "user roles");
    for (unsigned i = 0; i < 32 && !rc; i++) {
        if (!(roles & (UINT32_C(1) << i))) continue;
        br_role r;
        if (br_role_at(i, &r))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no role has bit %u", i);
        if (!(st = br_stmt(repo, S_USER_ROLE_INSERT, err))) return BR_ESTORE;
        br_db_bind_int64(st, 1, id);
        br_bind_text(st, 2, r.code);
        rc = step_done(repo, st, err, "user roles");
    }
    return rc;
}

/* Reads an account row; hash (may be NULL) gets its password hash. */
static int find_user(br_repo *repo, const char *username, br_user *u, char *hash, br_error *err)
{
    memset(u, 0, sizeof *u);
    br_dbst *st = br_stmt(repo, S_USER_GET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, username);
    br_db_bind_int64(st, 2, (int64_t)time(NULL));
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no user '%s'", username);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "user read");
    u->id = br_db_col_int64(st, 0);
    br_strlcpy(u->username, br_col_text(st, 1), sizeof u->username);
    if (hash) br_strlcpy(hash, br_col_text(st, 2), BR_PWHASH_SIZE);
    br_strlcpy(u->created, br_col_text(st, 3), sizeof u->created);
    u->n_tokens = br_db_col_int64(st, 4);
    u->disabled = br_db_col_int64(st, 5);
    br_db_reset(st);
    return load_roles(repo, u->id, &u->roles, err);
}

int br_user_get(br_repo *repo, const char *username, br_user *out, br_error *err)
{
    if (!username || !out)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_user_get: missing argument");
    return find_user(repo, username, out, NULL, err);
}

int br_user_add(br_repo *repo, const char *username, const char *password, uint32_t roles,
                br_error *err)
{
    if (!valid_username(username))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "'%s' is not a valid username (1-%d of A-Z a-z 0-9 . _ @ -, not "
                            "starting with - or .)",
                            username ? username : "", BR_USERNAME_MAX - 1);
    int rc = check_password(password, err);
    if (rc) return rc;
    if (!roles) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a user needs at least one role");
    char hash[BR_PWHASH_SIZE], now[32];
    if (br_password_hash(password, hash))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "cannot hash the password (out of memory)");
    br_now_iso(now);
    if ((rc = br_repo_begin(repo, err))) return rc;
    br_dbst *st = br_stmt(repo, S_USER_INSERT, err);
    if (!st) {
        rc = BR_ESTORE;
        goto done;
    }
    br_bind_text(st, 1, username);
    br_bind_text(st, 2, hash);
    br_bind_text(st, 3, now);
    int s = br_step_guarded(repo, st);
    if (s == BR_DB_UNIQUE) {
        rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "user '%s' already exists", username);
        goto done;
    }
    if (s != BR_DB_DONE) {
        rc = br_store_fail(repo, err, "user insert");
        goto done;
    }
    if ((rc = store_roles(repo, br_db_last_id(repo->db), roles, err))) goto done;
    rc = br_repo_commit(repo, err);
done:
    if (rc) br_repo_rollback(repo);
    sodium_memzero(hash, sizeof hash);
    return rc;
}

int br_user_passwd(br_repo *repo, const char *username, const char *password, br_error *err)
{
    int rc = check_password(password, err);
    if (rc) return rc;
    br_user u;
    if ((rc = find_user(repo, username, &u, NULL, err))) return rc;
    char hash[BR_PWHASH_SIZE];
    if (br_password_hash(password, hash))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "cannot hash the password (out of memory)");
    if ((rc = br_repo_begin(repo, err))) return rc;
    br_dbst *st = br_stmt(repo, S_USER_SET_PW, err);
    if (!st) {
        rc = BR_ESTORE;
        goto done;
    }
    br_db_bind_int64(st, 1, u.id);
    br_bind_text(st, 2, hash);
    if ((rc = step_done(repo, st, err, "password update"))) goto done;
    /* A new password ends every session opened with the old one. */
    if (!(st = br_stmt(repo, S_SESSION_DELETE_USER, err))) {
        rc = BR_ESTORE;
        goto done;
    }
    br_db_bind_int64(st, 1, u.id);
    if ((rc = step_done(repo, st, err, "session delete"))) goto done;
    /* ... and every API token issued before: whoever knew the old password
     * may have made one. */
    if (!(st = br_stmt(repo, S_TOKEN_REVOKE_USER, err))) {
        rc = BR_ESTORE;
        goto done;
    }
    br_db_bind_int64(st, 1, u.id);
    br_db_bind_int64(st, 2, (int64_t)time(NULL));
    if ((rc = step_done(repo, st, err, "token revoke"))) goto done;
    rc = br_repo_commit(repo, err);
done:
    if (rc) br_repo_rollback(repo);
    sodium_memzero(hash, sizeof hash);
    return rc;
}

int br_user_set_roles(br_repo *repo, const char *username, uint32_t roles, br_error *err)
{
    if (!roles) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a user needs at least one role");
    br_user u;
    int rc = find_user(repo, username, &u, NULL, err);
    if (rc) return rc;
    if ((rc = br_repo_begin(repo, err))) return rc;
    if (!(rc = store_roles(repo, u.id, roles, err))) rc = br_repo_commit(repo, err);
    if (rc) br_repo_rollback(repo);
    return rc;
}

int br_user_list(br_repo *repo, br_user_fn fn, void *ctx, br_error *err)
{
    /* Names first, then each user: the callback may use the connection. */
    br_dbst *st = br_stmt(repo, S_USER_LIST, err);
    if (!st) return BR_ESTORE;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, s;
    while ((s = br_step(repo, st)) == BR_DB_ROW) {
        if (br_grow((void **)&names, &cap, n + 1, sizeof *names) ||
            !(names[n] = strdup(br_col_text(st, 0)))) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            break;
        }
        n++;
    }
    if (!rc && s != BR_DB_DONE) rc = br_store_fail(repo, err, "user list");
    br_db_reset(st);
    for (size_t i = 0; i < n && !rc; i++) {
        br_user u;
        if ((rc = find_user(repo, names[i], &u, NULL, err))) break;
        if (BR_YIELD(repo, fn(ctx, &u))) break;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int br_user_token_new(br_repo *repo, const char *username, char out[BR_SECRET_SIZE], br_error *err)
{
    return br_user_token_create(repo, username, NULL, out, NULL, NULL, err);
}

static int check_token_spec(const br_token_spec *spec, br_error *err)
{
    if (spec->name) {
        size_t n = strlen(spec->name);
        if (!n || n >= BR_TOKEN_NAME_MAX)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a token name has 1 to %d bytes",
                                BR_TOKEN_NAME_MAX - 1);
        for (const unsigned char *p = (const unsigned char *)spec->name; *p; p++)
            if (*p < 0x20 || *p == 0x7f)
                return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                    "a token name has no control characters");
        if (br_utf8_check(spec->name, n, NULL))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a token name must be UTF-8");
    }
    if (spec->never && spec->days)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "a token either expires after some days or never, not both");
    if (spec->days < 0 || spec->days > BR_TOKEN_DAYS_MAX)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "a token expires after 1 to %d days (or never, when asked for)",
                            BR_TOKEN_DAYS_MAX);
    return 0;
}

int br_user_token_create(br_repo *repo, const char *username, const br_token_spec *spec,
                         char out[BR_SECRET_SIZE], int64_t *id, int64_t *expires, br_error *err)
{
    if (!out || !username)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_user_token_create: missing argument");
    out[0] = 0;
    br_token_spec defaults = {0};
    if (!spec) spec = &defaults;
    int rc = check_token_spec(spec, err);
    if (rc) return rc;
    br_user u;
    if ((rc = find_user(repo, username, &u, NULL, err))) return rc;
    if (u.disabled)
        return br_error_set(err, BR_EDENIED, NULL, 0, 0,
                            "user '%s' is disabled: enable it before issuing a token", username);
    char token[BR_SECRET_SIZE], digest[65], now[32];
    if (br_secret_new(token))
        return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "no random source (libsodium)");
    br_secret_digest(token, digest);
    br_now_iso(now);
    int64_t until = spec->never
                        ? 0
                        : (int64_t)time(NULL) +
                              (int64_t)(spec->days ? spec->days : BR_TOKEN_DAYS_DEFAULT) * 86400;
    br_dbst *st = br_stmt(repo, S_TOKEN_INSERT, err);
    if (!st) {
        rc = BR_ESTORE;
        goto done;
    }
    br_db_bind_int64(st, 1, u.id);
    br_bind_text(st, 2, digest);
    br_bind_text(st, 3, now);
    br_bind_text(st, 4, spec->name);
    if (until)
        br_db_bind_int64(st, 5, until);
    else
        br_db_bind_null(st, 5);
    if (br_step(repo, st) != BR_DB_ROW) {
        rc = br_store_fail(repo, err, "token insert");
        goto done;
    }
    int64_t new_id = br_db_col_int64(st, 0);
    /* RETURNING: the insert is complete only when the statement is done. */
    if ((rc = step_done(repo, st, err, "token insert"))) goto done;
    if (id) *id = new_id;
    if (expires) *expires = until;
    memcpy(out, token, BR_SECRET_SIZE);
done:
    sodium_memzero(token, sizeof token);
    return rc;
}

static const char *token_state(int64_t revoked, int64_t expires, int64_t disabled, int64_t now)
{
    if (revoked) return "revoked";
    if (expires && expires <= now) return "expired";
    if (disabled) return "disabled";
    return "active";
}

int br_user_token_list(br_repo *repo, const char *username, br_token_fn fn, void *ctx,
                       br_error *err)
{
    if (!fn) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_user_token_list: no callback");
    if (username) {
        br_user u;
        int rc = find_user(repo, username, &u, NULL, err);
        if (rc) return rc;
    }
    br_dbst *st = br_stmt(repo, S_TOKEN_LIST, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, username);
    int64_t now = (int64_t)time(NULL);
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_token t;
        memset(&t, 0, sizeof t);
        t.id = br_db_col_int64(st, 0);
        br_strlcpy(t.username, br_col_text(st, 1), sizeof t.username);
        br_strlcpy(t.name, br_col_text(st, 2), sizeof t.name);
        br_strlcpy(t.created, br_col_text(st, 3), sizeof t.created);
        t.expires = br_db_col_int64(st, 4);
        t.last_used = br_db_col_int64(st, 5);
        t.revoked = br_db_col_int64(st, 6);
        t.state = token_state(t.revoked, t.expires, br_db_col_int64(st, 7), now);
        if (BR_YIELD(repo, fn(ctx, &t))) return 0;
    }
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "token list");
}

int br_user_token_revoke(br_repo *repo, int64_t id, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_TOKEN_STATE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no API token has id %lld",
                            (long long)id);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "token read");
    br_db_reset(st);
    if (!(st = br_stmt(repo, S_TOKEN_REVOKE, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_db_bind_int64(st, 2, (int64_t)time(NULL));
    return step_done(repo, st, err, "token revoke");
}

static int set_disabled(br_repo *repo, const char *username, int disable, br_error *err)
{
    if (!username) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no username");
    br_user u;
    int rc = find_user(repo, username, &u, NULL, err);
    if (rc) return rc;
    if (!!u.disabled == !!disable) return 0;
    if ((rc = br_repo_begin(repo, err))) return rc;
    br_dbst *st = br_stmt(repo, S_USER_SET_DISABLED, err);
    if (!st) {
        rc = BR_ESTORE;
        goto done;
    }
    br_db_bind_int64(st, 1, u.id);
    if (disable)
        br_db_bind_int64(st, 2, (int64_t)time(NULL));
    else
        br_db_bind_null(st, 2);
    if ((rc = step_done(repo, st, err, "user update"))) goto done;
    if (disable) {
        /* Sessions end now; tokens stay, refused while the user is disabled. */
        if (!(st = br_stmt(repo, S_SESSION_DELETE_USER, err))) {
            rc = BR_ESTORE;
            goto done;
        }
        br_db_bind_int64(st, 1, u.id);
        if ((rc = step_done(repo, st, err, "session delete"))) goto done;
    }
    rc = br_repo_commit(repo, err);
done:
    if (rc) br_repo_rollback(repo);
    return rc;
}

int br_user_disable(br_repo *repo, const char *username, br_error *err)
{
    return set_disabled(repo, username, 1, err);
}

int br_user_enable(br_repo *repo, const char *username, br_error *err)
{
    return set_disabled(repo, username, 0, err);
}

/* ---- authentication -------------------------------------------------------------------- */

int br_auth_login(br_repo *repo, const char *username, const char *password, int64_t ttl,
                  char session[BR_SECRET_SIZE], br_identity *id, br_error *err)
{
    if (!session || !id)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_auth_login: missing argument");
    session[0] = 0;
    memset(id, 0, sizeof *id);
    if (ttl <= 0) ttl = BR_SESSION_TTL_DEFAULT;
    br_user u = {0};
    char hash[BR_PWHASH_SIZE] = "";
    size_t plen = password ? strlen(password) : 0;
    int known = username && password && plen < BR_PASSWORD_MAX && valid_username(username);
    if (known) {
        int rc = find_user(repo, username, &u, hash, err);
        if (rc == BR_ENOTFOUND)
            known = 0;
        else if (rc)
            return rc;
    }
    int ok;
    if (known) {
        /* A disabled user still costs the verification, and gets the one message. */
        ok = br_password_verify(hash, password) && !u.disabled;
    } else {
        /* No such user: spend one argon2id computation with the same
         * parameters, so the answer takes as long as a wrong password. */
        char dummy[BR_PWHASH_SIZE];
        br_password_hash(password && plen < BR_PASSWORD_MAX ? password : "", dummy);
        ok = 0;
    }
    sodium_memzero(hash, sizeof hash);
    if (!ok) return br_error_set(err, BR_EAUTH, NULL, 0, 0, LOGIN_FAILED);

    char sid[BR_SECRET_SIZE], digest[65], now[32];
    if (br_secret_new(sid) || br_secret_new(id->csrf))
        return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "no random source (libsodium)");
    br_secret_digest(sid, digest);
    br_now_iso(now);
    br_dbst *st = br_stmt(repo, S_SESSION_INSERT, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, digest);
    br_db_bind_int64(st, 2, u.id);
    br_bind_text(st, 3, id->csrf);
    br_bind_text(st, 4, now);
    br_db_bind_int64(st, 5, (int64_t)time(NULL) + ttl);
    int rc = step_done(repo, st, err, "session insert");
    if (rc) return rc;
    id->user_id = u.id;
    br_strlcpy(id->username, u.username, sizeof id->username);
    id->roles = u.roles;
    id->is_session = 1;
    id->expires = (int64_t)time(NULL) + ttl;
    memcpy(session, sid, BR_SECRET_SIZE);
    sodium_memzero(sid, sizeof sid);
    return 0;
}

int br_auth_check(br_repo *repo, const char *secret, br_identity *id, br_error *err)
{
    if (!id) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_auth_check: no identity");
    memset(id, 0, sizeof *id);
    /* Every secret we issue is 43 base64url characters; anything else is unknown. */
    if (!secret || strlen(secret) >= BR_SECRET_SIZE || !*secret)
        return br_error_set(err, BR_EAUTH, NULL, 0, 0, "unknown or expired credentials");
    char digest[65];
    br_secret_digest(secret, digest);
    /* Lookups are by digest: their timing says nothing about the secret. */
    br_dbst *st = br_stmt(repo, S_SESSION_FIND, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, digest);
    br_db_bind_int64(st, 2, (int64_t)time(NULL));
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        id->user_id = br_db_col_int64(st, 0);
        br_strlcpy(id->username, br_col_text(st, 1), sizeof id->username);
        br_strlcpy(id->csrf, br_col_text(st, 2), sizeof id->csrf);
        id->expires = br_db_col_int64(st, 3);
        id->is_session = 1;
        br_db_reset(st);
        return load_roles(repo, id->user_id, &id->roles, err);
    }
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "session read");
    if (!(st = br_stmt(repo, S_TOKEN_FIND, err))) return BR_ESTORE;
    br_bind_text(st, 1, digest);
    int64_t now = (int64_t)time(NULL);
    br_db_bind_int64(st, 2, now);
    rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        id->user_id = br_db_col_int64(st, 0);
        br_strlcpy(id->username, br_col_text(st, 1), sizeof id->username);
        id->token_id = br_db_col_int64(st, 2);
        id->expires = br_db_col_int64(st, 3);
        int64_t last = br_db_col_int64(st, 4);
        br_db_reset(st);
        if ((rc = load_roles(repo, id->user_id, &id->roles, err))) return rc;
        /* Last use, to the minute: a script's every request must not be a write. */
        if (now - last >= BR_TOKEN_TOUCH_INTERVAL && (st = br_stmt(repo, S_TOKEN_TOUCH, NULL))) {
            br_db_bind_int64(st, 1, id->token_id);
            br_db_bind_int64(st, 2, now);
            /* Advisory: a busy database skips this minute's mark, it never
             * refuses a valid token. */
            if (br_step(repo, st) != BR_DB_DONE) br_db_reset(st);
        }
        return 0;
    }
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "token read");
    return br_error_set(err, BR_EAUTH, NULL, 0, 0, "unknown or expired credentials");
}

int br_auth_logout(br_repo *repo, const char *session, br_error *err)
{
    if (!session || !*session || strlen(session) >= BR_SECRET_SIZE) return 0;
    char digest[65];
    br_secret_digest(session, digest);
    br_dbst *st = br_stmt(repo, S_SESSION_DELETE, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, digest);
    return step_done(repo, st, err, "session delete");
}

int br_auth_purge(br_repo *repo, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_SESSION_PURGE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, (int64_t)time(NULL));
    return step_done(repo, st, err, "session purge");
}
