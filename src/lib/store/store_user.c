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

static int step_done(br_repo *repo, sqlite3_stmt *st, br_error *err, const char *what)
{
    return br_step(repo, st) == SQLITE_DONE ? 0 : br_store_fail(repo, err, what);
}

/* The role set of an account from its role codes. */
static int load_roles(br_repo *repo, int64_t id, uint32_t *roles, br_error *err)
{
    *roles = 0;
    sqlite3_stmt *st = br_stmt(repo, S_USER_ROLES, err);
    if (!st) return BR_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    int rc;
    while ((rc = br_step(repo, st)) == SQLITE_ROW) {
        br_role r;
        /* A code no longer in data/roles.tsv grants nothing. */
        if (!br_role_find(br_col_text(st, 0), &r)) *roles |= UINT32_C(1) << r.index;
    }
    return rc == SQLITE_DONE ? 0 : br_store_fail(repo, err, "user roles");
}

static int store_roles(br_repo *repo, int64_t id, uint32_t roles, br_error *err)
{
    sqlite3_stmt *st = br_stmt(repo, S_USER_ROLES_CLEAR, err);
    if (!st) return BR_ESTORE;
    sqlite3_bind_int64(st, 1, id);
    int rc = step_done(repo, st, err, "user roles");
    for (unsigned i = 0; i < 32 && !rc; i++) {
        if (!(roles & (UINT32_C(1) << i))) continue;
        br_role r;
        if (br_role_at(i, &r))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no role has bit %u", i);
        if (!(st = br_stmt(repo, S_USER_ROLE_INSERT, err))) return BR_ESTORE;
        sqlite3_bind_int64(st, 1, id);
        br_bind_text(st, 2, r.code);
        rc = step_done(repo, st, err, "user roles");
    }
    return rc;
}

/* Reads an account row; hash (may be NULL) gets its password hash. */
static int find_user(br_repo *repo, const char *username, br_user *u, char *hash, br_error *err)
{
    memset(u, 0, sizeof *u);
    sqlite3_stmt *st = br_stmt(repo, S_USER_GET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, username);
    int rc = br_step(repo, st);
    if (rc == SQLITE_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no user '%s'", username);
    if (rc != SQLITE_ROW) return br_store_fail(repo, err, "user read");
    u->id = sqlite3_column_int64(st, 0);
    br_strlcpy(u->username, br_col_text(st, 1), sizeof u->username);
    if (hash) br_strlcpy(hash, br_col_text(st, 2), BR_PWHASH_SIZE);
    br_strlcpy(u->created, br_col_text(st, 3), sizeof u->created);
    u->n_tokens = sqlite3_column_int64(st, 4);
    sqlite3_reset(st);
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
    sqlite3_stmt *st = br_stmt(repo, S_USER_INSERT, err);
    if (!st) {
        rc = BR_ESTORE;
        goto done;
    }
    br_bind_text(st, 1, username);
    br_bind_text(st, 2, hash);
    br_bind_text(st, 3, now);
    int s = br_step(repo, st);
    if (s == SQLITE_CONSTRAINT_UNIQUE) {
        rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "user '%s' already exists", username);
        goto done;
    }
    if (s != SQLITE_DONE) {
        rc = br_store_fail(repo, err, "user insert");
        goto done;
    }
    if ((rc = store_roles(repo, sqlite3_last_insert_rowid(repo->db), roles, err))) goto done;
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
    sqlite3_stmt *st = br_stmt(repo, S_USER_SET_PW, err);
    if (!st) {
        rc = BR_ESTORE;
        goto done;
    }
    sqlite3_bind_int64(st, 1, u.id);
    br_bind_text(st, 2, hash);
    if ((rc = step_done(repo, st, err, "password update"))) goto done;
    /* A new password ends every session opened with the old one. */
    if (!(st = br_stmt(repo, S_SESSION_DELETE_USER, err))) {
        rc = BR_ESTORE;
        goto done;
    }
    sqlite3_bind_int64(st, 1, u.id);
    if ((rc = step_done(repo, st, err, "session delete"))) goto done;
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
    sqlite3_stmt *st = br_stmt(repo, S_USER_LIST, err);
    if (!st) return BR_ESTORE;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, s;
    while ((s = br_step(repo, st)) == SQLITE_ROW) {
        if (br_grow((void **)&names, &cap, n + 1, sizeof *names) ||
            !(names[n] = strdup(br_col_text(st, 0)))) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            break;
        }
        n++;
    }
    if (!rc && s != SQLITE_DONE) rc = br_store_fail(repo, err, "user list");
    sqlite3_reset(st);
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
    if (!out) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_user_token_new: no output");
    out[0] = 0;
    br_user u;
    int rc = find_user(repo, username, &u, NULL, err);
    if (rc) return rc;
    char token[BR_SECRET_SIZE], digest[65], now[32];
    if (br_secret_new(token))
        return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "no random source (libsodium)");
    br_secret_digest(token, digest);
    br_now_iso(now);
    sqlite3_stmt *st = br_stmt(repo, S_TOKEN_INSERT, err);
    if (!st) return BR_ESTORE;
    sqlite3_bind_int64(st, 1, u.id);
    br_bind_text(st, 2, digest);
    br_bind_text(st, 3, now);
    if ((rc = step_done(repo, st, err, "token insert"))) return rc;
    memcpy(out, token, BR_SECRET_SIZE);
    sodium_memzero(token, sizeof token);
    return 0;
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
        ok = br_password_verify(hash, password);
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
    sqlite3_stmt *st = br_stmt(repo, S_SESSION_INSERT, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, digest);
    sqlite3_bind_int64(st, 2, u.id);
    br_bind_text(st, 3, id->csrf);
    br_bind_text(st, 4, now);
    sqlite3_bind_int64(st, 5, (int64_t)time(NULL) + ttl);
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
    sqlite3_stmt *st = br_stmt(repo, S_SESSION_FIND, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, digest);
    sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
    int rc = br_step(repo, st);
    if (rc == SQLITE_ROW) {
        id->user_id = sqlite3_column_int64(st, 0);
        br_strlcpy(id->username, br_col_text(st, 1), sizeof id->username);
        br_strlcpy(id->csrf, br_col_text(st, 2), sizeof id->csrf);
        id->expires = sqlite3_column_int64(st, 3);
        id->is_session = 1;
        sqlite3_reset(st);
        return load_roles(repo, id->user_id, &id->roles, err);
    }
    if (rc != SQLITE_DONE) return br_store_fail(repo, err, "session read");
    if (!(st = br_stmt(repo, S_TOKEN_FIND, err))) return BR_ESTORE;
    br_bind_text(st, 1, digest);
    rc = br_step(repo, st);
    if (rc == SQLITE_ROW) {
        id->user_id = sqlite3_column_int64(st, 0);
        br_strlcpy(id->username, br_col_text(st, 1), sizeof id->username);
        sqlite3_reset(st);
        return load_roles(repo, id->user_id, &id->roles, err);
    }
    if (rc != SQLITE_DONE) return br_store_fail(repo, err, "token read");
    return br_error_set(err, BR_EAUTH, NULL, 0, 0, "unknown or expired credentials");
}

int br_auth_logout(br_repo *repo, const char *session, br_error *err)
{
    if (!session || !*session || strlen(session) >= BR_SECRET_SIZE) return 0;
    char digest[65];
    br_secret_digest(session, digest);
    sqlite3_stmt *st = br_stmt(repo, S_SESSION_DELETE, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, digest);
    return step_done(repo, st, err, "session delete");
}

int br_auth_purge(br_repo *repo, br_error *err)
{
    sqlite3_stmt *st = br_stmt(repo, S_SESSION_PURGE, err);
    if (!st) return BR_ESTORE;
    sqlite3_bind_int64(st, 1, (int64_t)time(NULL));
    return step_done(repo, st, err, "session purge");
}
