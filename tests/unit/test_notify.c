/* The job-end mail (issue 17; delivery.h, docs/delivery.md): `import -n` and the per-user
 * "tell me when my jobs end" setting queue one letter per job, sent through a real SMTP
 * server on loopback (python3-aiosmtpd writing a Maildir, tests/support/smtp_server.h) with
 * the job's counters and a link to its report; a mail server that is down delays the letter,
 * never loses it or sends it twice; the SMTP password is never in a job's JSON, its events,
 * the outbox or the commands' output. */
#define _GNU_SOURCE
#include "cli_fixture.h"
#include "smtp_server.h"
#include "bulkrepo/bulkrepo.h"
#include "bulkrepo/delivery.h"
#include "bulkrepo/mail.h"

static smtp_server S; /* stopped by the teardown, also when a test fails */

static int setup(void **state)
{
    memset(&S, 0, sizeof S);
    return fx_setup(state);
}

static int teardown(void **state)
{
    smtp_server_stop(&S);
    return fx_teardown(state);
}

#define NT_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

/* A SAF package of n items (titles "Item K") in DIR/rel. */
static void package(fx *f, const char *rel, int n)
{
    for (int i = 0; i < n; i++) {
        char dir[256], title[64];
        snprintf(dir, sizeof dir, "%s/i%d", rel, i);
        snprintf(title, sizeof title, "Item %d", i);
        fx_dc(f, dir, title);
    }
}

static void start_smtp(fx *f, int port)
{
    int rc = smtp_server_start(fx_path(f, "mail"), port, &S);
    if (rc) print_error("%s\n", S.why);
    assert_int_equal(rc, 0);
}

/* The newest job's id. */
static long long last_id(fx *f)
{
    json_t *j = fx_last_job(f);
    long long id = (long long)json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    return id;
}

/* Messages of kind job-ended in the outbox. */
static size_t outbox_job_ended(fx *f)
{
    json_t *a = fx_json(f, "mail outbox --json");
    size_t n = 0, i;
    json_t *m;
    json_array_foreach(a, i, m) n += !strcmp(fx_str(m, "kind"), "job-ended");
    json_decref(a);
    return n;
}

static void add_user(fx *f, const char *name)
{
    SH(f, 0,
       "printf '%%s\\n' 'a-password-1' | \"$BR\" --repo r user add %s --role 'Repository Manager' "
       "--password-stdin",
       name);
}

/* `import -n`: one mail with the counters and the report's link (the base URL, or the
 * command without one). */
static void test_import_notify(void **state)
{
    fx *f = *state;
    start_smtp(f, 0);
    RUN(f, 0, "mail config --smtp %s --from repo@example.org", S.url);
    package(f, "p", 3);
    fx_write(f, "p/i2/dublin_core.xml", "<dublin_core><dcvalue element=\"title\">"); /* invalid */
    RUN(f, 1, "import -a -s p -c %s -m map -e me@example.org -n --skip-invalid", f->coll);
    long long id = last_id(f);
    assert_int_equal(outbox_job_ended(f), 1);
    RUN(f, 0, "mail send");
    assert_int_equal(smtp_server_wait(&S, 1, 10000), 1);
    char *m = smtp_server_messages(&S);
    char want[256];
    assert_contains(m, "To: me@example.org");
    snprintf(want, sizeof want, "Subject: Job %lld ended: Completed with Errors", id);
    assert_contains(m, want);
    assert_contains(m, "3 processed, 2 imported, 0 updated, 0 deleted, 1 not imported.");
    snprintf(want, sizeof want, "The report: bulkrepo job show %lld", id);
    assert_contains(m, want);
    free(m);

    /* With the web interface's address: a link to the job's report. */
    RUN(f, 2, "mail config --base-url ftp://nope");
    RUN(f, 0, "mail config --base-url https://repo.example.org/bulkrepo/");
    json_t *cfg = fx_json(f, "mail config --json");
    assert_string_equal(fx_str(cfg, "baseUrl"), "https://repo.example.org/bulkrepo/");
    json_decref(cfg);
    package(f, "q", 1);
    RUN(f, 0, "import -a -s q -c %s -m map2 -e me@example.org --notify", f->coll);
    id = last_id(f);
    RUN(f, 0, "mail send");
    assert_int_equal(smtp_server_wait(&S, 2, 10000), 2);
    m = smtp_server_messages(&S);
    snprintf(want, sizeof want, "The report: https://repo.example.org/bulkrepo/#/jobs/%lld", id);
    assert_contains(m, want);
    assert_contains(m, "1 processed, 1 imported, 0 updated, 0 deleted, 0 not imported.");
    free(m);

    /* Without -n (and no setting): no mail. */
    package(f, "s", 1);
    RUN(f, 0, "import -a -s s -c %s -m map3 -e me@example.org", f->coll);
    assert_int_equal(outbox_job_ended(f), 2);
    RUN(f, 0, "mail send");
    assert_int_equal(smtp_server_wait(&S, 3, 1500), 2);

    /* Queued with -n: "notify" in the job's parameters, told by the engine. */
    RUN(f, 0, "import -a -s s -c %s -m map5 -e me@example.org -n --submit", f->coll);
    json_t *q = fx_last_job(f);
    assert_true(json_is_true(json_object_get(json_object_get(q, "parameters"), "notify")));
    json_decref(q);
    RUN(f, 0, "job work --once");
    assert_int_equal(outbox_job_ended(f), 3);

    /* Nobody to tell: an event says so. */
    package(f, "t", 1);
    RUN(f, 0, "import -a -s t -c %s -m map4 -e nobody -n", f->coll);
    RUN(f, 0, "job events %lld", last_id(f));
    assert_contains(f->out, "Nobody could be told");
    assert_int_equal(outbox_job_ended(f), 3);
}

/* The per-user setting: on, a mail when a job of theirs ends (run here or by the engine);
 * off, none. */
static void test_user_setting(void **state)
{
    fx *f = *state;
    start_smtp(f, 0);
    RUN(f, 0, "mail config --smtp %s --from repo@example.org", S.url);
    add_user(f, "alice");
    RUN(f, 0, "mail address alice alice@example.org");
    RUN(f, 2, "user set alice --notify-jobs maybe");
    RUN(f, 2, "user set alice");
    RUN(f, 3, "user set nobody --notify-jobs on");
    RUN(f, 0, "user set alice --notify-jobs on");
    package(f, "p", 2);
    RUN(f, 0, "import -a -s p -c %s -m map -e alice", f->coll);
    /* Queued by the engine: `import --submit`, run by `job work --once`. */
    package(f, "q", 1);
    RUN(f, 0, "import -a -s q -c %s -m map2 -e alice --submit", f->coll);
    RUN(f, 0, "job work --once");
    assert_int_equal(outbox_job_ended(f), 2);
    RUN(f, 0, "mail send");
    assert_int_equal(smtp_server_wait(&S, 2, 10000), 2);
    char *m = smtp_server_messages(&S);
    assert_contains(m, "To: alice@example.org");
    assert_contains(m, "2 processed, 2 imported");
    assert_contains(m, "1 processed, 1 imported");
    free(m);

    /* A job that ends without running (cancelled while queued) is told too. */
    package(f, "c", 1);
    RUN(f, 0, "import -a -s c -c %s -m mapc -e alice --submit", f->coll);
    RUN(f, 0, "job cancel %lld", last_id(f));
    assert_int_equal(outbox_job_ended(f), 3);
    RUN(f, 0, "mail send");
    assert_int_equal(smtp_server_wait(&S, 3, 10000), 3);
    m = smtp_server_messages(&S);
    assert_contains(m, "ended: Aborted by User");
    free(m);

    RUN(f, 0, "user set alice --notify-jobs off");
    package(f, "s", 1);
    RUN(f, 0, "import -a -s s -c %s -m map3 -e alice", f->coll);
    RUN(f, 0, "import -a -s s -c %s -m map4 -e alice --submit", f->coll);
    RUN(f, 0, "job work --once");
    assert_int_equal(outbox_job_ended(f), 3);
    RUN(f, 0, "mail send");
    assert_int_equal(smtp_server_wait(&S, 4, 1500), 3);
}

/* The mail server down, then up: delivered once, never twice; the hook run again for the
 * same job queues nothing more. */
static void test_down_then_up(void **state)
{
    fx *f = *state;
    start_smtp(f, 0);
    int port = S.port;
    smtp_server_stop(&S);
    RUN(f, 0, "mail config --smtp smtp://127.0.0.1:%d --from repo@example.org", port);
    package(f, "p", 1);
    RUN(f, 0, "import -a -s p -c %s -m map -e me@example.org -n", f->coll);
    long long id = last_id(f);
    RUN(f, 1, "mail send");
    json_t *a = fx_json(f, "mail outbox --json");
    assert_int_equal(json_array_size(a), 1);
    assert_string_equal(fx_str(json_array_get(a, 0), "state"), "queued");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "attempts")), 1);
    json_decref(a);

    /* The engine's hook again for the same job (a resumed job ending twice): no second letter. */
    br_repo *repo = NULL;
    br_error err;
    assert_int_equal(br_repo_open(f->repo, &repo, &err), 0);
    assert_int_equal(br_job_notify_end(repo, id, 1, &err), 0);
    assert_int_equal(br_job_notify_end(repo, id, 1, &err), 0);
    br_repo_free(repo);
    assert_int_equal(outbox_job_ended(f), 1);

    start_smtp(f, port);
    RUN(f, 0, "mail send --all");
    assert_int_equal(smtp_server_wait(&S, 1, 10000), 1);
    RUN(f, 0, "mail send --all");
    RUN(f, 0, "mail send --all");
    assert_int_equal(smtp_server_wait(&S, 2, 1500), 1);
    a = fx_json(f, "mail outbox --json");
    assert_string_equal(fx_str(json_array_get(a, 0), "state"), "sent");
    json_decref(a);
}

/* The SMTP password never shows: not in the job's JSON or events, the outbox, the commands'
 * output, nor in clear in the database. */
static void test_no_password_leak(void **state)
{
    fx *f = *state;
    static const char PW[] = "Sup3r-Secret-SMTP-pw";
    start_smtp(f, 0);
    int port = S.port;
    smtp_server_stop(&S); /* nobody listens: the message stays queued */
    SH(f, 0,
       "printf '%%s\\n' '%s' | \"$BR\" --repo r mail config --smtp smtps://127.0.0.1:%d "
       "--from repo@example.org --user repo --password-stdin > cmd.log 2>&1",
       PW, port);
    package(f, "p", 1);
    SH(f, 0, "\"$BR\" --repo r import -a -s p -c %s -m map -e me@example.org -n >> cmd.log 2>&1",
       f->coll);
    long long id = last_id(f);
    SH(f, 1, "\"$BR\" --repo r mail send >> cmd.log 2>&1");
    SH(f, 0,
       "{ \"$BR\" --repo r job show %lld --json; \"$BR\" --repo r job events %lld; "
       "\"$BR\" --repo r mail outbox --json; \"$BR\" --repo r mail config --json; } "
       ">> cmd.log 2>&1",
       id, id);
    char *log = fx_read(f, "cmd.log");
    assert_non_null(log);
    assert_contains(log, "Job-end mail queued");
    assert_contains(log, "\"passwordSet\": true");
    assert_not_contains(log, PW);
    free(log);
    SH(f, 1, "grep -rqa '%s' r", PW); /* nowhere in the repository's files in clear */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        NT_TEST(test_import_notify),
        NT_TEST(test_user_setting),
        NT_TEST(test_down_then_up),
        NT_TEST(test_no_password_leak),
    };
    return cmocka_run_group_tests_name("job-end mail", tests, NULL, NULL);
}
