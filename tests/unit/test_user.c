/* Users, roles, job types, API tokens and sessions (user.h), through the
 * library and through `bulkrepo user` as staff run it. */
#define _GNU_SOURCE
#include <time.h>
#include <sqlite3.h>
#include "cli_fixture.h"
#include "repo_fixture.h"
#include "bulkrepo/bulkrepo.h"
#include "bulkrepo/user.h"

typedef tu_repo lib;

static uint32_t role(const char *name)
{
    br_role r;
    assert_int_equal(br_role_find(name, &r), 0);
    return UINT32_C(1) << r.index;
}

/* ---- tables ---------------------------------------------------------------------------- */

static int count_role(void *ctx, const br_role *r)
{
    (*(int *)ctx)++;
    assert_true(r->code[0] && r->label[0]);
    return 0;
}

static void test_roles_table(void **state)
{
    (void)state;
    int n = 0;
    br_role_list(count_role, &n);
    assert_int_equal(n, 12); /* the roles the seeds name */
    br_role r;
    assert_int_equal(br_role_at(0, &r), 0);
    assert_string_equal(r.label, "General System Administrator");
    assert_int_equal(UINT32_C(1) << r.index, BR_ROLE_GSA);
    /* Code, label, any case, '-' ' ' '_' alike. */
    assert_int_equal(role("Repository Manager"), role("REPOSITORY_MANAGER"));
    assert_int_equal(role("repository-manager"), role("repository_manager"));
    assert_int_equal(br_role_find("Purchasing Operator", &r), 0);
    assert_string_equal(r.code, "PURCHASING_OPERATOR");
    assert_int_equal(br_role_find("Repository", &r), BR_ENOTFOUND);
    assert_int_equal(br_role_find("", &r), BR_ENOTFOUND);
    assert_int_equal(br_role_at(12, &r), BR_ENOTFOUND);
}

typedef struct jt_check {
    int n, implemented, set_jobs, others;
} jt_check;

static int check_type(void *ctx, const br_job_type *t)
{
    jt_check *c = ctx;
    c->n++;
    /* Every row names at least one known role (unknown codes would add no bit)
     * and one of the three categories. */
    assert_true(t->roles != 0);
    assert_true(!strcmp(t->category, "import") || !strcmp(t->category, "export") ||
                !strcmp(t->category, "set") || !strcmp(t->category, "revert"));
    c->implemented += t->implemented;
    c->set_jobs += !strcmp(t->category, "set");
    /* Jobs that are no format's: the set jobs built so far and revert, each with the set
     * type it runs on (or none for revert) and a description for the Run a Job page. */
    if (t->implemented && !strcmp(t->type, "fetch-profile")) c->others++; /* a profile's fetch */
    if (t->implemented && (!strcmp(t->category, "set") || !strcmp(t->category, "revert"))) {
        c->others++;
        assert_true(!strcmp(t->category, "revert") || !br_set_content_parse(t->content, NULL));
        assert_true(strlen(t->description) > strlen(t->label));
    }
    return 0;
}

static void test_job_types_table(void **state)
{
    (void)state;
    jt_check c = {0};
    br_job_type_list(check_type, &c);
    /* Every job type a format runs is in the table and implemented (the
     * format registry and data/job_types.tsv agree). */
    size_t runnable = 0;
    for (size_t i = 0; i < br_format_count(); i++) {
        const br_format_info *fi = br_format_at(i);
        const char *types[] = {fi->import_job, fi->validate_job, fi->delete_job, fi->export_job};
        for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
            if (!types[k]) continue;
            br_job_type jt;
            assert_int_equal(br_job_type_get(types[k], &jt), 0);
            assert_int_equal(jt.implemented, 1);
            runnable++;
        }
    }
    assert_int_equal(c.implemented, runnable + c.others);
    /* update-set, delete-set, index-assets, revert, normalize-assets, fix-affiliations,
     * register-doi, import-asset-relations, handle-relations, import-asset-files,
     * update-researchers, delete-orcid, update-users; fetch-profile (issue 17) */
    assert_int_equal(c.others, 14);
    assert_true(c.set_jobs >= 3);
    br_job_type t;
    assert_int_equal(br_job_type_get("import-saf", &t), 0);
    assert_int_equal(t.implemented, 1);
    assert_true(br_job_type_allows(&t, role("Repository Administrator")));
    assert_false(br_job_type_allows(&t, role("Purchasing Operator")));
    assert_false(br_job_type_allows(&t, 0));
    /* Seed 001: Update Set of Research Assets is for General System Administrators only. */
    assert_int_equal(br_job_type_get("update-set", &t), 0);
    assert_int_equal(t.implemented, 1);
    assert_int_equal(t.roles, BR_ROLE_GSA);
    assert_string_equal(t.content, "assets");
    assert_int_equal(br_job_type_get("register-doi", &t), 0);
    assert_int_equal(t.implemented, 1); /* issue 11 section 1 */
    assert_int_equal(t.roles, BR_ROLE_GSA);
    assert_int_equal(br_job_type_get("delete-orcid", &t), 0);
    assert_int_equal(t.roles, role("Researcher Manager"));
    assert_int_equal(br_job_type_get("no-such-job", &t), BR_ENOTFOUND);
    /* Visibility: the roles that run a type see it; a GSA sees everything. */
    assert_true(br_job_visible("import-saf", role("Digital Catalog Manager")));
    assert_false(br_job_visible("import-saf", role("Researcher Manager")));
    assert_true(br_job_visible("delete-orcid", BR_ROLE_GSA));
    assert_true(br_job_visible("something-new", BR_ROLE_GSA));
    assert_false(br_job_visible("something-new", role("Repository Manager")));
}

/* ---- users ------------------------------------------------------------------------------ */

/* ctx: a char[256] collecting "name;" for each user. */
static int collect_names(void *ctx, const br_user *u)
{
    char *names = ctx;
    size_t n = strlen(names);
    int k = snprintf(names + n, 256 - n, "%s;", u->username);
    assert_true(k > 0 && (size_t)k < 256 - n);
    return 0;
}

static void test_user_add_get_list(void **state)
{
    lib *l = *state;
    br_error err;
    uint32_t roles = role("Repository Manager") | role("Asset Manager");
    assert_int_equal(br_user_add(l->repo, "zoe", "correct horse", roles, &err), 0);
    assert_int_equal(br_user_add(l->repo, "adam", "battery staple", BR_ROLE_GSA, &err), 0);
    br_user u;
    assert_int_equal(br_user_get(l->repo, "zoe", &u, &err), 0);
    assert_string_equal(u.username, "zoe");
    assert_int_equal(u.roles, roles);
    assert_int_equal(u.n_tokens, 0);
    char names[256] = "";
    assert_int_equal(br_user_list(l->repo, collect_names, names, &err), 0);
    assert_string_equal(names, "adam;zoe;");
    /* Taken names, bad names, weak passwords, no roles. */
    assert_int_equal(br_user_add(l->repo, "zoe", "another one", roles, &err), BR_EEXISTS);
    assert_int_equal(br_user_add(l->repo, "../etc", "password1", roles, &err), BR_EUSAGE);
    assert_int_equal(br_user_add(l->repo, "-x", "password1", roles, &err), BR_EUSAGE);
    assert_int_equal(br_user_add(l->repo, "a b", "password1", roles, &err), BR_EUSAGE);
    assert_int_equal(br_user_add(l->repo, "", "password1", roles, &err), BR_EUSAGE);
    char longname[100];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_int_equal(br_user_add(l->repo, longname, "password1", roles, &err), BR_EUSAGE);
    assert_int_equal(br_user_add(l->repo, "eve", "short", roles, &err), BR_EUSAGE);
    assert_int_equal(br_user_add(l->repo, "eve", "long enough", 0, &err), BR_EUSAGE);
    assert_int_equal(br_user_get(l->repo, "eve", &u, &err), BR_ENOTFOUND);
    /* Roles can be changed. */
    assert_int_equal(br_user_set_roles(l->repo, "zoe", role("User Manager"), &err), 0);
    assert_int_equal(br_user_get(l->repo, "zoe", &u, &err), 0);
    assert_int_equal(u.roles, role("User Manager"));
}

static void test_password_stored_hashed(void **state)
{
    lib *l = *state;
    br_error err;
    assert_int_equal(br_user_add(l->repo, "ann", "plain-text-pw", BR_ROLE_GSA, &err), 0);
    char token[BR_SECRET_SIZE];
    assert_int_equal(br_user_token_new(l->repo, "ann", token, &err), 0);
    /* Neither the password nor the token appears anywhere in the database (its files, or
     * a dump of the PostgreSQL database). */
    char cmd[9000], url[1024], files[8400];
    if (tu_db_address(l->repo_dir, url, sizeof url))
        snprintf(files, sizeof files, "<(pg_dump '%s')", url);
    else
        snprintf(files, sizeof files, "'%s/bulkrepo.db' '%s/bulkrepo.db-wal'", l->repo_dir,
                 l->repo_dir);
    snprintf(cmd, sizeof cmd,
             "bash -c \"grep -c -a -e plain-text-pw -e '%s' %s 2>/dev/null\" | "
             "awk -F: '{s += $NF} END {print s + 0}'",
             token, files);
    char *out = NULL;
    assert_int_equal(tu_run(&out, NULL, "%s", cmd), 0);
    assert_int_equal(atoi(out), 0);
    free(out);
    snprintf(cmd, sizeof cmd,
             "bash -c \"grep -c -a 'argon2id' %s 2>/dev/null\" | "
             "awk -F: '{s += $NF} END {print s + 0}'",
             files);
    assert_int_equal(tu_run(&out, NULL, "%s", cmd), 0);
    assert_true(atoi(out) > 0);
    free(out);
}

/* ---- authentication ----------------------------------------------------------------------- */

static void test_login_and_sessions(void **state)
{
    lib *l = *state;
    br_error err;
    uint32_t roles = role("Repository Administrator");
    assert_int_equal(br_user_add(l->repo, "rita", "s3cret-pass", roles, &err), 0);
    char sid[BR_SECRET_SIZE];
    br_identity id;
    assert_int_equal(br_auth_login(l->repo, "rita", "s3cret-pass", 0, sid, &id, &err), 0);
    assert_int_equal(strlen(sid), 43);
    assert_int_equal(strlen(id.csrf), 43);
    assert_string_not_equal(sid, id.csrf);
    assert_string_equal(id.username, "rita");
    assert_int_equal(id.roles, roles);
    assert_int_equal(id.is_session, 1);
    assert_true(id.expires > (int64_t)time(NULL) + 3600);

    br_identity who;
    assert_int_equal(br_auth_check(l->repo, sid, &who, &err), 0);
    assert_string_equal(who.username, "rita");
    assert_string_equal(who.csrf, id.csrf);
    assert_int_equal(who.roles, roles);
    assert_true(br_secret_equal(who.csrf, id.csrf));
    assert_false(br_secret_equal(who.csrf, "x"));
    assert_false(br_secret_equal("", ""));
    assert_false(br_secret_equal(NULL, who.csrf));

    /* A second login is a second session with its own CSRF token. */
    char sid2[BR_SECRET_SIZE];
    br_identity id2;
    assert_int_equal(br_auth_login(l->repo, "rita", "s3cret-pass", 0, sid2, &id2, &err), 0);
    assert_string_not_equal(sid, sid2);
    assert_string_not_equal(id.csrf, id2.csrf);

    /* Logout ends only that session. */
    assert_int_equal(br_auth_logout(l->repo, sid, &err), 0);
    assert_int_equal(br_auth_check(l->repo, sid, &who, &err), BR_EAUTH);
    assert_int_equal(br_auth_check(l->repo, sid2, &who, &err), 0);
    /* A new password ends the others. */
    assert_int_equal(br_user_passwd(l->repo, "rita", "new-password", &err), 0);
    assert_int_equal(br_auth_check(l->repo, sid2, &who, &err), BR_EAUTH);
    assert_int_equal(br_auth_login(l->repo, "rita", "s3cret-pass", 0, sid, &id, &err), BR_EAUTH);
    assert_int_equal(br_auth_login(l->repo, "rita", "new-password", 0, sid, &id, &err), 0);
    assert_int_equal(br_user_passwd(l->repo, "nobody", "new-password", &err), BR_ENOTFOUND);

    /* Garbage secrets. */
    assert_int_equal(br_auth_check(l->repo, "", &who, &err), BR_EAUTH);
    assert_int_equal(br_auth_check(l->repo, NULL, &who, &err), BR_EAUTH);
    char huge[300];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = 0;
    assert_int_equal(br_auth_check(l->repo, huge, &who, &err), BR_EAUTH);
}

static void test_login_failures_look_alike(void **state)
{
    lib *l = *state;
    br_error e1, e2, e3;
    assert_int_equal(br_user_add(l->repo, "sam", "right-password", BR_ROLE_GSA, &e1), 0);
    char sid[BR_SECRET_SIZE];
    br_identity id;
    /* Warm up (first argon2id allocates). */
    br_auth_login(l->repo, "sam", "wrong-password", 0, sid, &id, &e1);
    double t0 = fx_now();
    assert_int_equal(br_auth_login(l->repo, "sam", "wrong-password", 0, sid, &id, &e1), BR_EAUTH);
    double t1 = fx_now();
    assert_int_equal(br_auth_login(l->repo, "nosuchuser", "wrong-password", 0, sid, &id, &e2),
                     BR_EAUTH);
    double t2 = fx_now();
    assert_int_equal(br_auth_login(l->repo, "../../x", "", 0, sid, &id, &e3), BR_EAUTH);
    /* Same message, no hint which part was wrong. */
    assert_string_equal(e1.message, e2.message);
    assert_string_equal(e1.message, e3.message);
    assert_not_contains(e2.message, "nosuchuser");
    assert_string_equal(sid, "");
    /* An unknown user costs one argon2id run like a wrong password: within 3x. */
    double wrong = t1 - t0, unknown = t2 - t1;
    print_message("wrong password %.3f s, unknown user %.3f s\n", wrong, unknown);
    assert_true(unknown > wrong / 3 && unknown < wrong * 3);
}

static void test_api_tokens(void **state)
{
    lib *l = *state;
    br_error err;
    assert_int_equal(br_user_add(l->repo, "bot", "bot-password", role("Asset Manager"), &err), 0);
    char t1[BR_SECRET_SIZE], t2[BR_SECRET_SIZE];
    assert_int_equal(br_user_token_new(l->repo, "bot", t1, &err), 0);
    assert_int_equal(br_user_token_new(l->repo, "bot", t2, &err), 0);
    assert_string_not_equal(t1, t2);
    br_user u;
    assert_int_equal(br_user_get(l->repo, "bot", &u, &err), 0);
    assert_int_equal(u.n_tokens, 2);
    br_identity id;
    assert_int_equal(br_auth_check(l->repo, t1, &id, &err), 0);
    assert_string_equal(id.username, "bot");
    assert_int_equal(id.is_session, 0);
    assert_string_equal(id.csrf, "");
    assert_int_equal(id.roles, role("Asset Manager"));
    t1[5] ^= 1; /* one character off */
    assert_int_equal(br_auth_check(l->repo, t1, &id, &err), BR_EAUTH);
    assert_int_equal(br_user_token_new(l->repo, "ghost", t1, &err), BR_ENOTFOUND);
    assert_string_equal(t1, "");
}

static void test_session_expiry(void **state)
{
    lib *l = *state;
    br_error err;
    assert_int_equal(br_user_add(l->repo, "tim", "tim-password", BR_ROLE_GSA, &err), 0);
    char sid[BR_SECRET_SIZE];
    br_identity id;
    assert_int_equal(br_auth_login(l->repo, "tim", "tim-password", 1, sid, &id, &err), 0);
    assert_int_equal(br_auth_check(l->repo, sid, &id, &err), 0);
    sleep(2);
    assert_int_equal(br_auth_check(l->repo, sid, &id, &err), BR_EAUTH);
    assert_int_equal(br_auth_purge(l->repo, &err), 0);
}

/* ---- token expiry, revocation, disabled users (issue 12 item 4) ------------------------- */

#define db_exec tu_db_exec /* tests/support/dbexec.c */

typedef struct token_rows {
    br_token t[8];
    int n;
} token_rows;

static int collect_token(void *ctx, const br_token *t)
{
    token_rows *r = ctx;
    assert_true(r->n < 8);
    r->t[r->n++] = *t;
    return 0;
}

static void test_token_expiry_and_names(void **state)
{
    lib *l = *state;
    br_error err;
    assert_br_ok(br_user_add(l->repo, "bot", "bot-password", role("Asset Manager"), &err), &err);
    /* The default: 90 days, named "token ID". */
    char t1[BR_SECRET_SIZE], t2[BR_SECRET_SIZE], t3[BR_SECRET_SIZE];
    int64_t id1 = 0, id2 = 0, id3 = 0, exp1 = 0, exp2 = 0, exp3 = -1;
    int64_t now = (int64_t)time(NULL);
    assert_br_ok(br_user_token_create(l->repo, "bot", NULL, t1, &id1, &exp1, &err), &err);
    assert_true(exp1 >= now + 90 * 86400 && exp1 <= now + 90 * 86400 + 5);
    br_token_spec named = {.name = "nightly export", .days = 7};
    assert_br_ok(br_user_token_create(l->repo, "bot", &named, t2, &id2, &exp2, &err), &err);
    assert_true(exp2 >= now + 7 * 86400 && exp2 <= now + 7 * 86400 + 5);
    /* Never expiring only when asked for. */
    br_token_spec never = {.never = 1};
    assert_br_ok(br_user_token_create(l->repo, "bot", &never, t3, &id3, &exp3, &err), &err);
    assert_int_equal(exp3, 0);
    br_identity id;
    assert_br_ok(br_auth_check(l->repo, t1, &id, &err), &err);
    assert_int_equal(id.token_id, id1);
    assert_int_equal(id.expires, exp1);
    assert_br_ok(br_auth_check(l->repo, t3, &id, &err), &err);
    assert_int_equal(id.expires, 0);

    token_rows rows = {0};
    assert_br_ok(br_user_token_list(l->repo, "bot", collect_token, &rows, &err), &err);
    assert_int_equal(rows.n, 3);
    char want[32];
    snprintf(want, sizeof want, "token %lld", (long long)id1);
    assert_string_equal(rows.t[0].name, want);
    assert_string_equal(rows.t[1].name, "nightly export");
    assert_string_equal(rows.t[0].state, "active");
    assert_true(rows.t[0].last_used >= now); /* the check above used it */
    assert_int_equal(rows.t[1].last_used, 0);

    /* An expired token fails; the others still work. */
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE api_token SET expires = %lld WHERE id = %lld",
             (long long)time(NULL) - 1, (long long)id2);
    db_exec(l->repo_dir, sql);
    assert_int_equal(br_auth_check(l->repo, t2, &id, &err), BR_EAUTH);
    assert_br_ok(br_auth_check(l->repo, t1, &id, &err), &err);
    rows.n = 0;
    assert_br_ok(br_user_token_list(l->repo, NULL, collect_token, &rows, &err), &err);
    assert_string_equal(rows.t[1].state, "expired");
    br_user u;
    assert_br_ok(br_user_get(l->repo, "bot", &u, &err), &err);
    assert_int_equal(u.n_tokens, 2);

    /* Bad specs. */
    char t[BR_SECRET_SIZE];
    br_token_spec bad[] = {{.days = -1}, {.days = BR_TOKEN_DAYS_MAX + 1}, {.never = 1, .days = 3},
                           {.name = ""}, {.name = "tab\there"},           {.name = "\xff\xfe"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(br_user_token_create(l->repo, "bot", &bad[i], t, NULL, NULL, &err),
                         BR_EUSAGE);
    assert_int_equal(br_user_token_create(l->repo, "ghost", NULL, t, NULL, NULL, &err),
                     BR_ENOTFOUND);
    assert_int_equal(br_user_token_list(l->repo, "ghost", collect_token, &rows, &err),
                     BR_ENOTFOUND);
}

static void test_token_last_used_once_a_minute(void **state)
{
    lib *l = *state;
    br_error err;
    assert_br_ok(br_user_add(l->repo, "bot", "bot-password", BR_ROLE_GSA, &err), &err);
    char t1[BR_SECRET_SIZE];
    int64_t id1;
    assert_br_ok(br_user_token_create(l->repo, "bot", NULL, t1, &id1, NULL, &err), &err);
    br_identity id;
    assert_br_ok(br_auth_check(l->repo, t1, &id, &err), &err);
    /* Set last use 30 s back: the next checks within the minute write nothing. */
    char sql[200];
    snprintf(sql, sizeof sql, "UPDATE api_token SET last_used = %lld WHERE id = %lld",
             (long long)time(NULL) - 30, (long long)id1);
    db_exec(l->repo_dir, sql);
    token_rows rows = {0};
    assert_br_ok(br_user_token_list(l->repo, NULL, collect_token, &rows, &err), &err);
    int64_t mark = rows.t[0].last_used;
    for (int i = 0; i < 5; i++)
        assert_br_ok(br_auth_check(l->repo, t1, &id, &err), &err);
    rows.n = 0;
    assert_br_ok(br_user_token_list(l->repo, NULL, collect_token, &rows, &err), &err);
    assert_int_equal(rows.t[0].last_used, mark);
    /* A minute or more: written again. */
    snprintf(sql, sizeof sql, "UPDATE api_token SET last_used = %lld WHERE id = %lld",
             (long long)time(NULL) - 61, (long long)id1);
    db_exec(l->repo_dir, sql);
    assert_br_ok(br_auth_check(l->repo, t1, &id, &err), &err);
    rows.n = 0;
    assert_br_ok(br_user_token_list(l->repo, NULL, collect_token, &rows, &err), &err);
    assert_true(rows.t[0].last_used >= (int64_t)time(NULL) - 2);
}

static void test_token_revoke(void **state)
{
    lib *l = *state;
    br_error err;
    assert_br_ok(br_user_add(l->repo, "bot", "bot-password", BR_ROLE_GSA, &err), &err);
    char t1[BR_SECRET_SIZE], t2[BR_SECRET_SIZE];
    int64_t id1, id2;
    assert_br_ok(br_user_token_create(l->repo, "bot", NULL, t1, &id1, NULL, &err), &err);
    assert_br_ok(br_user_token_create(l->repo, "bot", NULL, t2, &id2, NULL, &err), &err);
    br_identity id;
    assert_br_ok(br_auth_check(l->repo, t1, &id, &err), &err);
    assert_br_ok(br_user_token_revoke(l->repo, id1, &err), &err);
    assert_int_equal(br_auth_check(l->repo, t1, &id, &err), BR_EAUTH);
    assert_br_ok(br_auth_check(l->repo, t2, &id, &err), &err);
    /* Again: no error; an unknown id: not found. */
    assert_br_ok(br_user_token_revoke(l->repo, id1, &err), &err);
    assert_int_equal(br_user_token_revoke(l->repo, 9999, &err), BR_ENOTFOUND);
    token_rows rows = {0};
    assert_br_ok(br_user_token_list(l->repo, "bot", collect_token, &rows, &err), &err);
    assert_int_equal(rows.n, 2);
    assert_string_equal(rows.t[0].state, "revoked");
    assert_true(rows.t[0].revoked > 0);
    br_user u;
    assert_br_ok(br_user_get(l->repo, "bot", &u, &err), &err);
    assert_int_equal(u.n_tokens, 1);
}

static void test_password_change_revokes_tokens(void **state)
{
    lib *l = *state;
    br_error err;
    assert_br_ok(br_user_add(l->repo, "ann", "ann-password", BR_ROLE_GSA, &err), &err);
    assert_br_ok(br_user_add(l->repo, "ben", "ben-password", BR_ROLE_GSA, &err), &err);
    char ta[BR_SECRET_SIZE], tb[BR_SECRET_SIZE], sid[BR_SECRET_SIZE];
    assert_br_ok(br_user_token_new(l->repo, "ann", ta, &err), &err);
    assert_br_ok(br_user_token_new(l->repo, "ben", tb, &err), &err);
    br_identity id;
    assert_br_ok(br_auth_login(l->repo, "ann", "ann-password", 0, sid, &id, &err), &err);
    assert_br_ok(br_user_passwd(l->repo, "ann", "ann-new-password", &err), &err);
    assert_int_equal(br_auth_check(l->repo, ta, &id, &err), BR_EAUTH);
    assert_int_equal(br_auth_check(l->repo, sid, &id, &err), BR_EAUTH);
    /* Only hers. */
    assert_br_ok(br_auth_check(l->repo, tb, &id, &err), &err);
    /* A token made after the change works. */
    assert_br_ok(br_user_token_new(l->repo, "ann", ta, &err), &err);
    assert_br_ok(br_auth_check(l->repo, ta, &id, &err), &err);
}

static void test_disable_user(void **state)
{
    lib *l = *state;
    br_error err;
    assert_br_ok(br_user_add(l->repo, "cy", "cy-password", BR_ROLE_GSA, &err), &err);
    char tok[BR_SECRET_SIZE], sid[BR_SECRET_SIZE];
    assert_br_ok(br_user_token_new(l->repo, "cy", tok, &err), &err);
    br_identity id;
    assert_br_ok(br_auth_login(l->repo, "cy", "cy-password", 0, sid, &id, &err), &err);
    assert_br_ok(br_user_disable(l->repo, "cy", &err), &err);
    br_user u;
    assert_br_ok(br_user_get(l->repo, "cy", &u, &err), &err);
    assert_true(u.disabled > 0);
    /* Token, session and login all refused; the login message is the usual one. */
    assert_int_equal(br_auth_check(l->repo, tok, &id, &err), BR_EAUTH);
    assert_int_equal(br_auth_check(l->repo, sid, &id, &err), BR_EAUTH);
    br_error e1, e2;
    assert_int_equal(br_auth_login(l->repo, "cy", "cy-password", 0, sid, &id, &e1), BR_EAUTH);
    assert_int_equal(br_auth_login(l->repo, "cy", "wrong-password", 0, sid, &id, &e2), BR_EAUTH);
    assert_string_equal(e1.message, e2.message);
    /* No new token for a disabled user. */
    char t2[BR_SECRET_SIZE];
    assert_int_equal(br_user_token_new(l->repo, "cy", t2, &err), BR_EDENIED);
    token_rows rows = {0};
    assert_br_ok(br_user_token_list(l->repo, "cy", collect_token, &rows, &err), &err);
    assert_string_equal(rows.t[0].state, "disabled");
    /* Twice is fine; enabling brings the token back, not the ended session. */
    assert_br_ok(br_user_disable(l->repo, "cy", &err), &err);
    assert_br_ok(br_user_enable(l->repo, "cy", &err), &err);
    assert_br_ok(br_auth_check(l->repo, tok, &id, &err), &err);
    assert_int_equal(br_auth_check(l->repo, sid, &id, &err), BR_EAUTH);
    assert_br_ok(br_auth_login(l->repo, "cy", "cy-password", 0, sid, &id, &err), &err);
    assert_int_equal(br_user_disable(l->repo, "nobody", &err), BR_ENOTFOUND);
    assert_int_equal(br_user_enable(l->repo, "nobody", &err), BR_ENOTFOUND);
}

/* ---- CLI ----------------------------------------------------------------------------------- */

static void test_cli_tokens_and_disable(void **state)
{
    fx *f = *state;
    SH(f, 0,
       "printf 'pw-for-dora\\n' | \"$BR\" --repo r user add dora --role ASSET_MANAGER "
       "--password-stdin");
    RUN(f, 0, "user token dora --name 'harvest script' --expires 30");
    fx_chomp(f->out);
    assert_int_equal(strlen(f->out), 43);
    char tok[64];
    snprintf(tok, sizeof tok, "%s", f->out);
    assert_contains(f->err, "expires");
    RUN(f, 0, "user token dora --expires 0");
    assert_contains(f->err, "never");
    RUN(f, 2, "user token dora --expires 3651");
    RUN(f, 2, "user token dora --expires -1");
    RUN(f, 2, "user token dora --expires soon");
    json_t *a = fx_json(f, "user token list dora --json");
    assert_int_equal(json_array_size(a), 2);
    json_t *t0 = json_array_get(a, 0);
    assert_string_equal(fx_str(t0, "name"), "harvest script");
    assert_string_equal(fx_str(t0, "state"), "active");
    assert_non_null(fx_str(t0, "expires"));
    assert_true(json_is_null(json_object_get(json_array_get(a, 1), "expires")));
    json_int_t id = json_integer_value(json_object_get(t0, "id"));
    json_decref(a);
    RUN(f, 0, "user token list");
    assert_contains(f->out, "harvest script");
    RUN(f, 3, "user token list nobody");

    /* The token authenticates through the library until it is revoked. */
    br_repo *repo;
    br_error err;
    br_identity who;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    assert_br_ok(br_auth_check(repo, tok, &who, &err), &err);
    RUN(f, 0, "user token revoke %lld", (long long)id);
    assert_int_equal(br_auth_check(repo, tok, &who, &err), BR_EAUTH);
    RUN(f, 3, "user token revoke 999");
    RUN(f, 2, "user token revoke");
    RUN(f, 2, "user token revoke abc");
    a = fx_json(f, "user token list --json");
    assert_string_equal(fx_str(json_array_get(a, 0), "state"), "revoked");
    json_decref(a);

    /* disable / enable */
    RUN(f, 0, "user token dora");
    fx_chomp(f->out);
    snprintf(tok, sizeof tok, "%s", f->out);
    RUN(f, 0, "user disable dora");
    assert_int_equal(br_auth_check(repo, tok, &who, &err), BR_EAUTH);
    a = fx_json(f, "user list --json");
    assert_true(json_is_true(json_object_get(json_array_get(a, 0), "disabled")));
    json_decref(a);
    RUN(f, 0, "user list");
    assert_contains(f->out, "(disabled)");
    RUN(f, 4, "user token dora"); /* BR_EDENIED */
    RUN(f, 0, "user enable dora");
    assert_br_ok(br_auth_check(repo, tok, &who, &err), &err);
    RUN(f, 3, "user disable nobody");
    RUN(f, 2, "user disable");

    /* A new password revokes every token. */
    SH(f, 0, "printf 'new-pw-for-dora\\n' | \"$BR\" --repo r user passwd dora --password-stdin");
    assert_int_equal(br_auth_check(repo, tok, &who, &err), BR_EAUTH);
    a = fx_json(f, "user list --json");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "tokens")), 0);
    json_decref(a);
    br_repo_free(repo);
}

/* ---- CLI ----------------------------------------------------------------------------------- */

static void test_cli_user(void **state)
{
    fx *f = *state;
    SH(f, 0,
       "printf 'pw-for-alice\\n' | \"$BR\" --repo r user add alice --role 'Repository Manager' "
       "--role general_system_administrator --password-stdin");
    SH(f, 0,
       "printf 'pw-for-bob\\n' | \"$BR\" --repo r user add bob --role ASSET_MANAGER "
       "--password-stdin");
    json_t *a = fx_json(f, "user list --json");
    assert_int_equal(json_array_size(a), 2);
    json_t *alice = json_array_get(a, 0);
    assert_string_equal(fx_str(alice, "username"), "alice");
    json_t *roles = json_object_get(alice, "roles");
    assert_int_equal(json_array_size(roles), 2);
    assert_string_equal(json_string_value(json_array_get(roles, 0)),
                        "GENERAL_SYSTEM_ADMINISTRATOR");
    assert_string_equal(json_string_value(json_array_get(roles, 1)), "REPOSITORY_MANAGER");
    json_decref(a);
    RUN(f, 0, "user list");
    assert_contains(f->out, "alice\tGeneral System Administrator, Repository Manager");
    /* Output that cannot be written is a failure (exit 4), not a silent exit 0. */
    RUN(f, 4, "user list >/dev/full");
    assert_contains(f->err, "cannot write the output");
    RUN(f, 4, "user list --json >/dev/full");
    RUN(f, 4, "user roles >/dev/full");
    RUN(f, 4, "--version >/dev/full");

    /* Unknown role: a usage error that lists the roles; nothing added. */
    SH(f, 2,
       "printf 'pw-for-carl\\n' | \"$BR\" --repo r user add carl --role Librarian "
       "--password-stdin");
    assert_contains(f->err, "unknown role 'Librarian'");
    assert_contains(f->err, "Digital Catalog Manager");
    RUN(f, 2, "user add carl --password-stdin </dev/null"); /* no role */
    RUN(f, 2, "user add carl --role Asset_Manager");        /* no --password-stdin */
    assert_contains(f->err, "--password-stdin");
    SH(f, 2,
       "printf 'short\\n' | \"$BR\" --repo r user add carl --role Asset_Manager --password-stdin");
    SH(f, 3,
       "printf 'pw-for-bob2\\n' | \"$BR\" --repo r user add bob --role Asset_Manager "
       "--password-stdin");
    assert_contains(f->err, "already exists");
    RUN(f, 2, "user add carl --role Asset_Manager --password-stdin </dev/null");
    assert_contains(f->err, "no password");
    a = fx_json(f, "user list --json");
    assert_int_equal(json_array_size(a), 2);
    json_decref(a);

    /* Tokens are printed once and counted. */
    RUN(f, 0, "user token bob");
    fx_chomp(f->out);
    assert_int_equal(strlen(f->out), 43);
    RUN(f, 3, "user token nobody");
    a = fx_json(f, "user list --json");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 1), "tokens")), 1);
    json_decref(a);

    SH(f, 0, "printf 'new-pw-for-bob\\n' | \"$BR\" --repo r user passwd bob --password-stdin");
    SH(f, 3, "printf 'new-pw-for-x\\n' | \"$BR\" --repo r user passwd nobody --password-stdin");
    RUN(f, 2, "user frobnicate");
    RUN(f, 0, "user --help");
    assert_contains(f->out, "--password-stdin");
    RUN(f, 0, "user add carl -h"); /* --help anywhere: the usage, nothing added */
    assert_contains(f->out, "--password-stdin");
    RUN(f, 2, "user");
    assert_contains(f->err, "usage:");
    RUN(f, 0, "user roles");
    assert_contains(f->out, "PURCHASING_MANAGER");
    a = fx_json(f, "user roles --json");
    assert_int_equal(json_array_size(a), 12);
    json_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles_table),
        cmocka_unit_test(test_job_types_table),
        cmocka_unit_test_setup_teardown(test_user_add_get_list, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_password_stored_hashed, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_login_and_sessions, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_login_failures_look_alike, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_api_tokens, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_session_expiry, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_token_expiry_and_names, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_token_last_used_once_a_minute, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_token_revoke, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_password_change_revokes_tokens, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_disable_user, tu_repo_setup, tu_repo_teardown),
        FX_TEST(test_cli_user),
        FX_TEST(test_cli_tokens_and_disable),
    };
    return cmocka_run_group_tests_name("users and roles", tests, NULL, NULL);
}
