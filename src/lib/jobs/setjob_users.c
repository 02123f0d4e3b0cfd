/* Update/Notify Users (issue 11 section 7; seed 001): a set job on a set of users.
 *
 * Per user, in the batch's transaction: roles added (never the roles data/role_params.tsv
 * marks as refused; a role with the "Read Only" parameter added with Read Only not selected),
 * the account type set (external -> internal gives the user a new password of 10 random
 * characters unless no_password), and a letter queued in the mail outbox (mail.h) rendered
 * from the chosen notification type.  The new password exists only in memory until the
 * letter's row seals it: never in the journal, the job's events or JSON, or a log.
 *
 * Members are user names (setjob.h's sj_loader).  The undo row of a user ("user:ID") holds
 * its roles and account type before the job and after it, so that a revert puts them back
 * (br_sj_user_revert, revert.c) unless they changed since; a password is never put back, and
 * a letter is never taken back (a job that only sent letters has nothing to revert).
 *
 * A user who submits the job through the REST API or the web UI (the job's submitter is an
 * account) adds only roles they hold themselves, unless they are a General System
 * Administrator: a User Manager cannot make anyone, themselves included, an administrator. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <jansson.h>
#include "auth/auth_internal.h"
#include "bulkrepo/mail.h"
#include "bulkrepo/user.h"
#include "core/core.h"
#include "jobs/setjob.h"
#include "store/store_mail.h"
#include "store/store_setjob.h"

extern const char br_role_params_tsv[];

#define TYPE         "update-users"
#define PASSWORD_LEN 10
/* Letters and digits a reader cannot confuse: no 0/O/o, 1/l/I/i. */
static const char ALPHABET[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";

enum { MAX_CHANGES = 5, BATCH = 25 /* argon2id per new password: keep the write lock short */ };

/* ---- data/role_params.tsv ------------------------------------------------------------------ */

/* Role names compare as br_role_find does: ignoring case, with '_', '-' and ' ' alike. */
static int name_equal(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = tolower((unsigned char)*a), y = tolower((unsigned char)*b);
        if (x == '-' || x == ' ') x = '_';
        if (y == '-' || y == ' ') y = '_';
        if (x != y) return 0;
        if (!x) return 1;
    }
}

typedef struct role_param {
    char label[64];
    char param[48]; /* "read-only", a scope, or "" none */
    int allowed;    /* the job may add it */
} role_param;

/* The row of a role (by code or label): 1 found, 0 none (no parameter). */
static int role_param_of(const char *name, role_param *out)
{
    const char *p = br_role_params_tsv;
    char buf[512], *c[4];
    int n;
    while ((n = br_tsv_next(&p, buf, sizeof buf, c, 4)) > 0) {
        if (n < 4 || (!name_equal(name, c[0]) && !name_equal(name, c[1]))) continue;
        br_strlcpy(out->label, c[1], sizeof out->label);
        br_strlcpy(out->param, c[2], sizeof out->param);
        out->allowed = !strcmp(c[3], "1");
        return 1;
    }
    memset(out, 0, sizeof *out);
    return 0;
}

/* "Label | Label" of a role set, in table order. */
static void role_labels(uint32_t roles, char *out, size_t size)
{
    out[0] = 0;
    for (unsigned i = 0; i < 32; i++) {
        br_role r;
        if (!(roles & (UINT32_C(1) << i)) || br_role_at(i, &r)) continue;
        size_t k = strlen(out);
        snprintf(out + k, size - k, "%s%s", k ? " | " : "", r.label);
    }
}

/* ---- the job's state --------------------------------------------------------------------------
 */

typedef struct users_state {
    br_repo *repo;
    uint32_t add;        /* roles to add */
    int target;          /* -1 unchanged, 0 internal, 1 external */
    int no_password;     /* external -> internal keeps the password */
    char notify[64];     /* the letter type, "" none */
    br_letter *letter;   /* loaded in prepare: a broken template stops the job before it runs */
    char repo_name[256]; /* {{repository_name}} */
    /* the submitter (job's eperson), read once */
    int granter_read, granter_limited;
    uint32_t granter_roles;
    char granter[BR_USERNAME_MAX];
    /* the member */
    br_account_row acct;
    char address[BR_MAIL_ADDRESS_MAX + 1];
    /* its plan */
    uint32_t new_roles;
    int new_external, gen_password, send;
    br_change c[MAX_CHANGES];
    char text[MAX_CHANGES][2][1024];
    size_t n;
    char note[2048];
} users_state;

static void change_add(users_state *s, const char *field, const char *old_value,
                       const char *new_value)
{
    if (s->n >= MAX_CHANGES) return;
    size_t i = s->n++;
    br_strlcpy(s->text[i][0], old_value ? old_value : "", sizeof s->text[i][0]);
    br_strlcpy(s->text[i][1], new_value ? new_value : "", sizeof s->text[i][1]);
    s->c[i] =
        (br_change){field, old_value ? s->text[i][0] : NULL, new_value ? s->text[i][1] : NULL};
    size_t k = strlen(s->note);
    snprintf(s->note + k, sizeof s->note - k, "%s%s: %s → %s", k ? "; " : "", field,
             old_value ? old_value : "(none)", new_value ? new_value : "(none)");
}

/* Reads the "roles" parameter: a comma-separated list of role codes or labels.  A role
 * refused by data/role_params.tsv, a role asked for with "(read only)" and an unknown role
 * are BR_EUSAGE naming the role. */
static int parse_roles(const char *list, uint32_t *add, br_error *err)
{
    *add = 0;
    char buf[4200];
    if (br_strlcpy(buf, list ? list : "", sizeof buf) >= sizeof buf)
        return br_error_set(err, BR_EUSAGE, "roles", 0, 0, "the role list is too long");
    for (char *p = buf; p && *p;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = 0;
        char *name = br_trim(p);
        p = comma ? comma + 1 : NULL;
        if (!*name) continue;
        /* "User Administrator (Read Only)": a role parameter asked for */
        char *paren = NULL;
        size_t n = strlen(name);
        if (n && name[n - 1] == ')' && (paren = strrchr(name, '('))) {
            name[n - 1] = 0;
            *paren = 0;
            br_trim(name);
        }
        role_param rp;
        int listed = role_param_of(name, &rp);
        if (listed && !rp.allowed)
            return br_error_set(err, BR_EUSAGE, "roles", 0, 0,
                                "%s cannot be added by Update/Notify Users: it has a role "
                                "parameter (%s) this job does not set (seed 001)",
                                rp.label, rp.param);
        if (paren) {
            char *what = br_trim(paren + 1);
            br_role r;
            const char *label = listed ? rp.label : !br_role_find(name, &r) ? r.label : name;
            if (!name_equal(what, "read only"))
                return br_error_set(err, BR_EUSAGE, "roles", 0, 0,
                                    "'%.60s (%.60s)': this job sets no role parameter", label,
                                    what);
            if (listed && !strcmp(rp.param, "read-only"))
                return br_error_set(err, BR_EUSAGE, "roles", 0, 0,
                                    "%s cannot be added with Read Only selected by this job (seed "
                                    "001): add it without \"(Read Only)\"",
                                    label);
            return br_error_set(err, BR_EUSAGE, "roles", 0, 0, "%s has no Read Only parameter",
                                label);
        }
        br_role r;
        if (br_role_find(name, &r))
            return br_error_set(err, BR_EUSAGE, "roles", 0, 0,
                                "no role '%.100s' (bulkrepo user roles lists them)", name);
        *add |= UINT32_C(1) << r.index;
    }
    return 0;
}

static void users_release(void *state)
{
    users_state *s = state;
    if (!s) return;
    br_letter_free(s->letter);
    free(s);
}

static int users_prepare(br_repo *repo, json_t *params, void **state, br_error *err)
{
    *state = NULL;
    users_state *s = calloc(1, sizeof *s);
    if (!s) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    s->repo = repo;
    char buf[4200], tbuf[32], nbuf[64];
    const char *roles = br_sj_param(params, TYPE, "roles", buf, sizeof buf);
    const char *type = br_sj_param(params, TYPE, "account_type", tbuf, sizeof tbuf);
    const char *notify = br_sj_param(params, TYPE, "notify", nbuf, sizeof nbuf);
    s->no_password = br_sj_param_bool(params, TYPE, "no_password");
    s->target = !type || !strcmp(type, "unchanged") ? -1 : !strcmp(type, "external");
    br_strlcpy(s->notify, notify && strcmp(notify, "none") ? notify : "", sizeof s->notify);
    int rc = parse_roles(roles, &s->add, err);
    int may_generate = s->target == 0 && !s->no_password;
    if (!rc && !s->add && s->target < 0 && !s->notify[0])
        rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                          "say what to do: roles to add, account_type, or notify");
    /* no_password without account_type: refused by its "applies when" (br_sj_params_check). */
    if (!rc && may_generate && !s->notify[0])
        rc = br_error_set(err, BR_EUSAGE, "notify", 0, 0,
                          "account_type=internal gives external users a new password, which "
                          "reaches them only in their letter: choose notify, or "
                          "no_password=true");
    if (!rc && s->notify[0]) rc = br_letter_load(repo, s->notify, &s->letter, err);
    if (!rc && may_generate && !br_letter_uses(s->letter, "new_password"))
        rc = br_error_set(err, BR_EUSAGE, "notify", 0, 0,
                          "letter '%s' (%s) has no {{new_password}}: a new password would reach "
                          "nobody",
                          s->notify, br_letter_source(s->letter));
    br_mail_config cfg;
    if (!rc && !(rc = br_mail_config_get(repo, &cfg, err)))
        br_strlcpy(s->repo_name, cfg.repository_name[0] ? cfg.repository_name : "bulkrepo",
                   sizeof s->repo_name);
    if (rc) {
        users_release(s);
        return rc;
    }
    *state = s;
    return 0;
}

static int users_load(sj_item *it, const char *member, br_error *err)
{
    users_state *s = it->state;
    int rc = br_account_read(it->repo, member, 0, &s->acct, err);
    if (rc) return rc;
    it->title = s->acct.username;
    /* as br_user_mail: the address set, else the user name when it is one */
    const char *addr = s->acct.email[0]                          ? s->acct.email
                       : br_mail_address_valid(s->acct.username) ? s->acct.username
                                                                 : "";
    br_strlcpy(s->address, addr, sizeof s->address);
    return 0;
}

/* Whether the job's submitter may add the roles (once per job; a dry run has no submitter). */
static int check_granter(users_state *s, int64_t job_id, uint32_t added, br_error *err)
{
    if (!job_id) return 0;
    if (!s->granter_read) {
        br_job j;
        int rc = br_job_get(s->repo, job_id, &j, err);
        if (rc) return rc;
        br_account_row a;
        br_error e;
        rc = br_account_read(s->repo, j.eperson, 0, &a, &e);
        if (rc && rc != BR_ENOTFOUND) {
            if (err) *err = e;
            return rc;
        }
        /* Not an account (the command line's operator): the repository folder's owner. */
        s->granter_limited = !rc && !(a.roles & BR_ROLE_GSA);
        s->granter_roles = rc ? 0 : a.roles;
        br_strlcpy(s->granter, j.eperson, sizeof s->granter);
        s->granter_read = 1;
    }
    uint32_t beyond = s->granter_limited ? added & ~s->granter_roles : 0;
    if (!beyond) return 0;
    char labels[1024];
    role_labels(beyond, labels, sizeof labels);
    return br_error_set(err, BR_EDENIED, NULL, 0, 0,
                        "%s, who submitted the job, may add only roles of their own: not %s",
                        s->granter, labels);
}

static int users_plan(sj_item *it, br_error *err)
{
    users_state *s = it->state;
    s->n = 0;
    s->note[0] = 0;
    s->new_roles = s->acct.roles | s->add;
    s->new_external = s->target < 0 ? s->acct.external : s->target;
    s->gen_password = s->acct.external && s->new_external == 0 && !s->no_password;
    s->send = s->notify[0] && s->address[0];
    uint32_t added = s->new_roles & ~s->acct.roles;
    int changes = added || s->new_external != s->acct.external;
    if (s->gen_password && !s->address[0]) {
        snprintf(it->skip_buf, sizeof it->skip_buf,
                 "no mail address for the letter with the new password (bulkrepo mail address "
                 "%s ADDRESS)",
                 s->acct.username);
        it->skip = it->skip_buf;
        return 0;
    }
    if (!changes && !s->send) {
        it->skip =
            s->notify[0] ? "no mail address, and nothing else to change" : "nothing to change";
        return 0;
    }
    int rc = check_granter(s, it->job_id, added, err);
    if (rc) return rc;
    if (added) {
        char before[1024], after[1024];
        role_labels(s->acct.roles, before, sizeof before);
        role_labels(s->new_roles, after, sizeof after);
        change_add(s, "roles", before, after);
    }
    if (s->new_external != s->acct.external)
        change_add(s, "account type", s->acct.external ? "external" : "internal",
                   s->new_external ? "external" : "internal");
    if (s->gen_password) change_add(s, "password", NULL, "new (sent in the letter only)");
    if (s->send) {
        char to[BR_MAIL_ADDRESS_MAX + 80];
        snprintf(to, sizeof to, "%s to %s", s->notify, s->address);
        change_add(s, "letter", NULL, to);
    } else if (s->notify[0]) {
        change_add(s, "letter", NULL, "none: the user has no mail address");
    }
    it->changes = s->c;
    it->n_changes = s->n;
    it->note = s->note;
    return 0;
}

/* {"user":..., "roles":[codes], "account_type":...} (malloc'd), NULL when out of memory. */
static char *state_json(const char *user, uint32_t roles, int external)
{
    json_t *codes = json_array();
    for (unsigned i = 0; i < 32; i++) {
        br_role r;
        if ((roles & (UINT32_C(1) << i)) && !br_role_at(i, &r))
            json_array_append_new(codes, json_string(r.code));
    }
    json_t *o = json_pack("{s:s,s:o,s:s}", "user", user, "roles", codes, "account_type",
                          external ? "external" : "internal");
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return text;
}

static void new_password(char out[PASSWORD_LEN + 1])
{
    for (int i = 0; i < PASSWORD_LEN; i++)
        out[i] = ALPHABET[randombytes_uniform((uint32_t)(sizeof ALPHABET - 1))];
    out[PASSWORD_LEN] = 0;
}

/* Renders the member's letter (password: the new one, or NULL) into subject and body (malloc'd):
 * before anything is written, so that a letter that cannot be made leaves the user as it was. */
static int render_letter(sj_item *it, const char *password, char **subject, char **body,
                         br_error *err)
{
    users_state *s = it->state;
    char labels[1024] = "", job[32];
    role_labels(s->new_roles & ~s->acct.roles, labels, sizeof labels);
    for (char *p = labels; (p = strstr(p, " | "));) { /* a letter reads "A, B" */
        p[0] = ',';
        memmove(p + 1, p + 2, strlen(p + 2) + 1);
    }
    snprintf(job, sizeof job, "%lld", (long long)it->job_id);
    br_letter_vars v = {
        s->acct.username,
        labels[0] ? labels : NULL,
        s->new_external != s->acct.external ? (s->new_external ? "external" : "internal") : NULL,
        password,
        job,
        s->repo_name,
        NULL,
        NULL,
        NULL,
        NULL,
        NULL,
        NULL}; /* the job-end letter's values: none here */
    return br_letter_render(s->letter, &v, subject, body, err);
}

static int users_apply(sj_item *it, br_error *err)
{
    users_state *s = it->state;
    char password[PASSWORD_LEN + 1] = "", hash[BR_PWHASH_SIZE] = "";
    char *before = NULL, *after = NULL, *subject = NULL, *body = NULL;
    int rc = 0;
    int changes = s->new_roles != s->acct.roles || s->new_external != s->acct.external;
    if (s->gen_password) {
        new_password(password);
        if (br_password_hash(password, hash))
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "cannot hash the password (memory)");
    }
    if (!rc && s->send)
        rc = render_letter(it, s->gen_password ? password : NULL, &subject, &body, err);
    if (!rc && changes)
        rc = br_account_write(it->repo, s->acct.id, s->new_roles, s->new_external,
                              s->gen_password ? hash : NULL, err);
    if (!rc && changes && it->job_id) {
        before = state_json(s->acct.username, s->acct.roles, s->acct.external);
        after = state_json(s->acct.username, s->new_roles, s->new_external);
        char key[48];
        snprintf(key, sizeof key, "%s%lld", BR_SJ_USER_UNDO_PREFIX, (long long)s->acct.id);
        br_undo_row row = {key, "updated", before, after};
        rc = !before || !after ? br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory")
                               : br_undo_put(it->repo, it->job_id, &row, err);
    }
    int64_t id = 0;
    if (!rc && s->send) {
        br_mail_message m = {
            s->notify, s->address, subject, body, s->gen_password ? password : NULL, it->job_id};
        rc = br_mail_queue(it->repo, &m, &id, err);
    }
    if (!rc && id) {
        size_t k = strlen(s->note);
        snprintf(s->note + k, sizeof s->note - k, " (outbox message %lld)", (long long)id);
    }
    sodium_memzero(password, sizeof password);
    sodium_memzero(hash, sizeof hash);
    if (body) sodium_memzero(body, strlen(body));
    free(subject);
    free(body);
    free(before);
    free(after);
    return rc;
}

static int users_summary(br_repo *repo, int64_t job_id, char *msg, size_t size, int *errors,
                         br_error *err)
{
    *errors = 0;
    br_job j;
    int64_t letters = 0;
    int rc = br_job_get(repo, job_id, &j, err);
    if (!rc) rc = br_mail_rows_of_job(repo, job_id, &letters, err);
    if (rc) return rc;
    snprintf(msg, size,
             "%lld of %lld users updated, %lld left as they were, %lld failed; letters "
             "queued: %lld (bulkrepo mail outbox)",
             (long long)j.counters.updated, (long long)j.total, (long long)j.counters.skipped,
             (long long)j.counters.failed, (long long)letters);
    return 0;
}

const sj_driver br_sj_users = {TYPE,          BR_OUTCOME_UPDATED, users_prepare,
                               users_release, users_plan,         users_apply};
const sj_loader br_sj_users_loader = {&br_sj_users, users_load};
const sj_extra br_sj_users_extra = {&br_sj_users, NULL, BATCH, users_summary};

/* ---- revert ---------------------------------------------------------------------------------- */

/* The roles and type of a state_json text; the user name into name. */
static int read_state(const char *text, uint32_t *roles, int *external, char *name, size_t size,
                      br_error *err)
{
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    json_t *codes = json_object_get(o, "roles");
    const char *type = json_string_value(json_object_get(o, "account_type"));
    const char *user = json_string_value(json_object_get(o, "user"));
    int rc = 0;
    if (!json_is_array(codes) || !type || !user)
        rc = br_error_set(err, BR_EINVAL, NULL, 0, 0, "an undo row of a user that does not read");
    *roles = 0;
    size_t i;
    json_t *c;
    json_array_foreach(codes, i, c)
    {
        br_role r; /* a role no longer in data/roles.tsv is not put back */
        if (!br_role_find(json_string_value(c), &r)) *roles |= UINT32_C(1) << r.index;
    }
    *external = type && !strcmp(type, "external");
    if (name) br_strlcpy(name, user ? user : "", size);
    json_decref(o);
    return rc;
}

int br_sj_user_revert(br_repo *repo, int64_t job_id, const br_undo_row *row, int apply,
                      int *conflict, const char **why, char *name, size_t size, br_error *err)
{
    *conflict = 0;
    *why = NULL;
    name[0] = 0;
    char *end = NULL;
    long long id = strtoll(row->uuid + strlen(BR_SJ_USER_UNDO_PREFIX), &end, 10);
    if (!end || *end || id <= 0 || strcmp(row->action, "updated"))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "an undo row of a user that is not an update: %s %s", row->uuid,
                            row->action);
    uint32_t roles, after_roles;
    int external, after_external;
    char after_name[BR_USERNAME_MAX];
    int rc = read_state(row->before, &roles, &external, name, size, err);
    if (!rc && row->after)
        rc = read_state(row->after, &after_roles, &after_external, after_name, sizeof after_name,
                        err);
    if (rc) return rc;
    br_account_row cur;
    br_error e;
    int found = br_account_read(repo, NULL, id, &cur, &e);
    if (found == BR_ENOTFOUND) {
        *conflict = 1;
        *why = "the user no longer exists";
    } else if (found) {
        if (err) *err = e;
        return found;
    } else if (strcmp(cur.username, name)) {
        *conflict = 1;
        *why = "its account has another user name now";
    } else if (row->after && (cur.roles != after_roles || cur.external != after_external)) {
        *conflict = 1;
        *why = "its roles or account type changed after the job";
    }
    /* A user gone, or renamed, is never written over, force or not. */
    if (!apply || found || strcmp(cur.username, name)) return 0;
    if (!roles)
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "the roles it had are no longer roles of bulkrepo");
    char *before = job_id ? state_json(cur.username, cur.roles, cur.external) : NULL;
    char *back = job_id ? state_json(cur.username, roles, external) : NULL;
    if (job_id && (!before || !back))
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    /* Roles and type as they were; the password stays as it is now. */
    if (!rc) rc = br_account_write(repo, cur.id, roles, external, NULL, err);
    if (!rc && job_id) { /* the revert's own undo row: a revert can be reverted */
        br_undo_row mine = {row->uuid, "updated", before, back};
        rc = br_undo_put(repo, job_id, &mine, err);
    }
    free(before);
    free(back);
    return rc;
}
