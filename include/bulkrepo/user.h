/* bulkrepo — staff users, their roles, API tokens and login sessions, and the
 * job-type table that says which roles may run which job (issue 4 section 2).
 *
 * Roles and job types are data (data/roles.tsv, data/job_types.tsv), compiled
 * in.  A user's roles are a bit set: bit i is row i of data/roles.tsv.
 *
 * Secrets are never stored: passwords as argon2id hashes (libsodium's
 * crypto_pwhash_str, verified with crypto_pwhash_str_verify), API tokens and
 * session ids as their SHA-256.  A token or session id is 32 random bytes in
 * base64url, shown once to its owner. */
#ifndef BULKREPO_USER_H
#define BULKREPO_USER_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BR_USERNAME_MAX 64   /* bytes, including the NUL */
#define BR_PASSWORD_MAX 1024 /* bytes */
#define BR_SECRET_SIZE  64   /* room for a token / session id / CSRF token and its NUL */
/* Sessions last this long after login unless the caller gives another TTL. */
#define BR_SESSION_TTL_DEFAULT (8 * 3600)
/* API tokens expire after this many days unless their issuer chose otherwise
 * (never expiring is an explicit choice: br_token_spec.never). */
#define BR_TOKEN_DAYS_DEFAULT 90
#define BR_TOKEN_DAYS_MAX     3650
#define BR_TOKEN_NAME_MAX     128 /* bytes, including the NUL */
/* A token's last-used time is written at most this often (seconds). */
#define BR_TOKEN_TOUCH_INTERVAL 60

/* ---- roles (data/roles.tsv) ---------------------------------------------- */

typedef struct br_role {
    unsigned index; /* bit index in a role set */
    char code[48];  /* GENERAL_SYSTEM_ADMINISTRATOR */
    char label[64]; /* General System Administrator */
} br_role;

/* Bit of the General System Administrator (sees every job in the monitor). */
#define BR_ROLE_GSA (UINT32_C(1) << 0)

typedef int (*br_role_fn)(void *ctx, const br_role *role);

/* Every role in table order; a nonzero return of fn stops. */
void br_role_list(br_role_fn fn, void *ctx);
/* Finds a role by code or label, ignoring case and treating '_', '-' and ' '
 * alike ("repository-manager", "Repository Manager").  0, or BR_ENOTFOUND
 * (the table is compiled in: no other failure). */
int br_role_find(const char *code_or_label, br_role *out);
/* The role with bit index i; BR_ENOTFOUND past the end. */
int br_role_at(unsigned index, br_role *out);

/* ---- job types (data/job_types.tsv) -------------------------------------- */

typedef struct br_job_type {
    char type[32];     /* "import-saf" */
    char category[16]; /* "import", "export", "set" */
    char label[128];
    uint32_t roles;        /* the roles that may run it */
    int implemented;       /* 0: listed for the Run a Job page, not runnable yet */
    char content[16];      /* the set type it runs on ("assets", "researchers", "users"), "" none */
    char description[512]; /* seed 001's description, for the Run a Job page */
} br_job_type;

typedef int (*br_job_type_fn)(void *ctx, const br_job_type *t);

void br_job_type_list(br_job_type_fn fn, void *ctx);
/* 0, or BR_ENOTFOUND (compiled-in table: no other failure). */
int br_job_type_get(const char *type, br_job_type *out);
/* 1 when a user with `roles` may run jobs of type t (and see them). */
int br_job_type_allows(const br_job_type *t, uint32_t roles);
/* 1 when a user with `roles` may see a job of this type in the monitor: a
 * role that may run it, or General System Administrator.  Unknown types are
 * visible to General System Administrators only. */
int br_job_visible(const char *type, uint32_t roles);

/* ---- users ---------------------------------------------------------------- */

typedef struct br_user {
    int64_t id;
    char username[BR_USERNAME_MAX];
    uint32_t roles;
    char created[32];
    int64_t n_tokens; /* API tokens that still work: not revoked, not expired */
    int64_t disabled; /* Unix time the account was disabled; 0 = enabled */
} br_user;

typedef int (*br_user_fn)(void *ctx, const br_user *u);

/* Usernames: 1-63 bytes of [A-Za-z0-9._@-], not starting with '-' or '.'.
 * Passwords: 8 to BR_PASSWORD_MAX-1 bytes.  roles must not be 0.
 * BR_EUSAGE on a bad name or password, BR_EEXISTS when the name is taken. */
int br_user_add(br_repo *repo, const char *username, const char *password, uint32_t roles,
                br_error *err);
/* Sets a new password, ends the user's sessions and revokes the user's API
 * tokens (all in one transaction).  BR_ENOTFOUND. */
int br_user_passwd(br_repo *repo, const char *username, const char *password, br_error *err);
int br_user_set_roles(br_repo *repo, const char *username, uint32_t roles, br_error *err);
/* 0 and out filled; BR_ENOTFOUND when there is no such user; BR_ESTORE when
 * the database failed. */
int br_user_get(br_repo *repo, const char *username, br_user *out, br_error *err);
/* In username order. */
int br_user_list(br_repo *repo, br_user_fn fn, void *ctx, br_error *err);
/* Issues a new API token for the user: out gets the token, which is stored only
 * as its SHA-256 and cannot be shown again.  It expires after
 * BR_TOKEN_DAYS_DEFAULT days and is named "token ID" (br_user_token_create
 * chooses). */
int br_user_token_new(br_repo *repo, const char *username, char out[BR_SECRET_SIZE], br_error *err);

/* How a token is issued.  All zero: the defaults (BR_TOKEN_DAYS_DEFAULT days,
 * named "token ID"). */
typedef struct br_token_spec {
    const char *name; /* a label, 1 to BR_TOKEN_NAME_MAX-1 bytes, no control
                       * characters; NULL = "token ID" */
    int days;         /* 1..BR_TOKEN_DAYS_MAX; 0 = BR_TOKEN_DAYS_DEFAULT */
    int never;        /* 1: never expires (days must be 0) */
} br_token_spec;

/* br_user_token_new with a spec (NULL = defaults): *id (may be NULL) gets the
 * token's id (for br_user_token_revoke), *expires (may be NULL) its expiry
 * (Unix time, 0 = never).  BR_EUSAGE for a bad name or days, BR_ENOTFOUND,
 * BR_EDENIED when the user is disabled. */
int br_user_token_create(br_repo *repo, const char *username, const br_token_spec *spec,
                         char out[BR_SECRET_SIZE], int64_t *id, int64_t *expires, br_error *err);

typedef struct br_token {
    int64_t id;
    char username[BR_USERNAME_MAX];
    char name[BR_TOKEN_NAME_MAX];
    char created[32];  /* ISO 8601 */
    int64_t expires;   /* Unix time; 0 = never */
    int64_t last_used; /* Unix time, to the minute (BR_TOKEN_TOUCH_INTERVAL); 0 = never */
    int64_t revoked;   /* Unix time; 0 = not revoked */
    /* "active", "revoked", "expired" or "disabled" (its user is): only an
     * active token authenticates. */
    const char *state;
} br_token;

typedef int (*br_token_fn)(void *ctx, const br_token *t);

/* Every token (username NULL) or a user's, revoked and expired ones too, in
 * id order; a nonzero return of fn stops.  BR_ENOTFOUND for an unknown user. */
int br_user_token_list(br_repo *repo, const char *username, br_token_fn fn, void *ctx,
                       br_error *err);
/* Revokes a token at once (its row stays, listed as revoked).  0 (also when
 * it was revoked already), BR_ENOTFOUND when no token has this id. */
int br_user_token_revoke(br_repo *repo, int64_t id, br_error *err);
/* A disabled user cannot log in, and neither their sessions (ended) nor
 * their API tokens (kept, refused while disabled) authenticate; enabling
 * gives back the tokens that have not expired or been revoked.  Both are
 * no-ops when the user already is so.  BR_ENOTFOUND. */
int br_user_disable(br_repo *repo, const char *username, br_error *err);
int br_user_enable(br_repo *repo, const char *username, br_error *err);

/* ---- account type and mail address (schema v8; src/lib/store/store_account.c) ---- */

/* Seed 001's account types: internal (bulkrepo keeps the password) or external (another
 * system manages the account).  New users are internal; the Update/Notify Users job moves
 * users between them (external -> internal gives them a new password).  Login does not read
 * the type. */
typedef enum br_account_type { BR_ACCOUNT_INTERNAL = 0, BR_ACCOUNT_EXTERNAL = 1 } br_account_type;
const char *br_account_type_name(br_account_type t);            /* "internal", "external" */
int br_account_type_parse(const char *s, br_account_type *out); /* 0 or BR_EUSAGE */
/* 0; BR_ENOTFOUND; BR_ESTORE. */
int br_user_account_type(br_repo *repo, const char *username, br_account_type *out, br_error *err);
int br_user_set_account_type(br_repo *repo, const char *username, br_account_type t, br_error *err);
/* The address letters to the user go to (mail.h): the one set, else the user name when it is
 * an address, else "" (no letters).  0; BR_ENOTFOUND; BR_ESTORE. */
int br_user_mail(br_repo *repo, const char *username, char *out, size_t size, br_error *err);
/* Sets (NULL or "" clears) a user's address: BR_EUSAGE when it is not one
 * (br_mail_address_valid), BR_ENOTFOUND. */
int br_user_set_mail(br_repo *repo, const char *username, const char *address, br_error *err);
/* "Tell me when my jobs end" (issue 17): with it on, every job the user submitted queues a
 * short mail when it ends (jobs/notify.c).  0; BR_ENOTFOUND; BR_ESTORE. */
int br_user_notify_jobs(br_repo *repo, const char *username, int *on, br_error *err);
int br_user_set_notify_jobs(br_repo *repo, const char *username, int on, br_error *err);

/* ---- authentication -------------------------------------------------------- */

/* Who a request is: filled by br_auth_login and br_auth_check. */
typedef struct br_identity {
    int64_t user_id;
    char username[BR_USERNAME_MAX];
    uint32_t roles;
    int is_session;            /* 1: a login session; 0: an API token */
    char csrf[BR_SECRET_SIZE]; /* the session's CSRF token; "" for API tokens */
    int64_t expires;           /* session end, or the API token's expiry (Unix time; 0 = never) */
    int64_t token_id;          /* the API token's id; 0 for sessions */
} br_identity;

/* Checks the password and opens a session of ttl seconds (0 = default).  A
 * disabled user is refused like a wrong password (BR_EAUTH, same message):
 * session gets the new session id, id the identity with its CSRF token.
 * An unknown user and a wrong password both give BR_EAUTH with the same
 * message and cost the same time (an unknown user still runs one argon2id
 * computation); password checks are constant-time (libsodium). */
int br_auth_login(br_repo *repo, const char *username, const char *password, int64_t ttl,
                  char session[BR_SECRET_SIZE], br_identity *id, br_error *err);
/* Resolves a session id or an API token (the secret a client presents):
 * 0 and id filled; BR_EAUTH when it is unknown, expired or revoked, or its
 * user is disabled; BR_ESTORE when the database failed (never BR_EAUTH then).
 * A token's last-used time is written at most once per
 * BR_TOKEN_TOUCH_INTERVAL (a write that fails, e.g. busy, is skipped: it
 * never fails the check). */
int br_auth_check(br_repo *repo, const char *secret, br_identity *id, br_error *err);
/* Ends a session (no error when it does not exist). */
int br_auth_logout(br_repo *repo, const char *session, br_error *err);
/* Deletes expired sessions. */
int br_auth_purge(br_repo *repo, br_error *err);

/* 1 when a and b (NUL-terminated) are equal, in time independent of where they
 * differ (for CSRF tokens). */
int br_secret_equal(const char *a, const char *b);

/* ---- read access (data/read_access.tsv) ---------------------------------- */

/* 1 when a user with `roles` may read `what`: "items" (archived items),
 * "drafts" (items in any other status), "collections" or "search"; 0 for
 * any other name (compiled-in table: no failure). */
int br_read_allowed(const char *what, uint32_t roles);
/* 1 when a user with `roles` may read an item of this status ("archived",
 * or NULL/"" for archived, needs "items"; any other status "drafts"). */
int br_item_readable(const char *status, uint32_t roles);

#ifdef __cplusplus
}
#endif
#endif
