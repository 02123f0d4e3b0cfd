/* The job engine through its public API, with real worker threads: the queue
 * (no job runs twice), cancel at a record boundary and resume, crash recovery,
 * rerun rules, the unimported download, drop folders, and the webhook. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <microhttpd.h>
#include <zip.h>
#include "testutil.h"
#include "repo_fixture.h"
#include "bulkrepo/bulkrepo.h"

typedef tu_repo fixture;

/* A SAF package of n items in dir; item numbers in bad[] get an unknown field. */
static int with_files; /* items carry one small file (slower imports) */

static void make_saf(const char *dir, int n, const int *bad, size_t n_bad)
{
    char rel[256], xml[512];
    for (int i = 1; i <= n; i++) {
        int is_bad = 0;
        for (size_t k = 0; k < n_bad; k++)
            is_bad |= bad[k] == i;
        snprintf(rel, sizeof rel, "item_%d/dublin_core.xml", i);
        snprintf(xml, sizeof xml,
                 "<dublin_core><dcvalue element=\"%s\" qualifier=\"none\">Item "
                 "%d</dcvalue></dublin_core>\n",
                 is_bad ? "titel" : "title", i);
        tu_write(dir, rel, xml);
        snprintf(rel, sizeof rel, "item_%d/contents", i);
        tu_write(dir, rel, with_files ? "f.txt\n" : "");
        if (with_files) {
            snprintf(rel, sizeof rel, "item_%d/f.txt", i);
            snprintf(xml, sizeof xml, "file %d\n", i);
            tu_write(dir, rel, xml);
        }
    }
}

static int find_ended_event(void *ctx, const br_job_event *e)
{
    if (!strncmp(e->description, "Job ended", 9)) *(int *)ctx = 1;
    return 0;
}

/* Waits until the job ended and the engine finished its report (the "Job
 * ended" event is the engine's last write before the webhook). */
static void wait_job(fixture *f, int64_t id, br_job *out)
{
    br_error err;
    for (int i = 0; i < 6000; i++) {
        assert_br_ok(br_job_get(f->repo, id, out, &err), &err);
        int done = 0;
        if (br_job_status_ended(out->status))
            assert_br_ok(br_job_events(f->repo, id, find_ended_event, &done, &err), &err);
        if (done) {
            assert_br_ok(br_job_get(f->repo, id, out, &err), &err);
            return;
        }
        usleep(10000);
    }
    fail_msg("job %lld did not end (status %s)", (long long)id, br_job_status_code(out->status));
}

static int64_t submit(fixture *f, const char *type, const char *params, const char *file)
{
    br_error err;
    int64_t id = 0;
    const char *files[1] = {file};
    br_job_spec spec = {type, NULL, "tester", params, file ? files : NULL, file ? 1 : 0, 0, NULL};
    assert_br_ok(br_job_submit(f->repo, &spec, &id, &err), &err);
    assert_true(id > 0);
    return id;
}

static size_t count_items(fixture *f, int64_t job_id);

static br_engine *start_engine(fixture *f, unsigned workers, const char *webhook)
{
    br_engine_options o = {0};
    o.workers = workers;
    o.queue_poll_ms = 20;
    o.inbox_poll_ms = 100;
    o.webhook_url = webhook;
    br_engine *eng = NULL;
    br_error err;
    assert_br_ok(br_engine_new(f->repo_dir, &o, &eng, &err), &err);
    assert_br_ok(br_engine_start(eng, &err), &err);
    return eng;
}

static int count_item(void *ctx, const br_item_summary *s)
{
    (void)s;
    ++*(size_t *)ctx;
    return 0;
}

static size_t count_items(fixture *f, int64_t job_id)
{
    size_t n = 0;
    br_item_query q = {NULL, job_id, 0};
    br_error err;
    assert_br_ok(br_item_list(f->repo, &q, count_item, &n, &err), &err);
    return n;
}

static int count_started(void *ctx, const br_job_event *e)
{
    if (strstr(e->description, "by a worker")) ++*(int *)ctx;
    return 0;
}

/* ---- the queue -------------------------------------------------------------------------- */

static void test_no_job_runs_twice(void **state)
{
    fixture *f = *state;
    enum { N = 20 };
    int64_t ids[N];
    char params[8192], dir[64];
    for (int i = 0; i < N; i++) {
        snprintf(dir, sizeof dir, "pkg%d", i);
        make_saf(tu_path(f->dir, dir), 1, NULL, 0);
        snprintf(params, sizeof params, "{\"source\":\"%s\",\"collections\":[\"%s\"]}",
                 tu_path(f->dir, dir), f->coll);
        ids[i] = submit(f, "import-saf", params, NULL);
    }
    br_engine *eng = start_engine(f, 4, NULL);
    br_error err;
    for (int i = 0; i < N; i++) {
        br_job j;
        wait_job(f, ids[i], &j);
        assert_int_equal(j.status, BR_JOB_COMPLETED_SUCCESS);
        assert_int_equal(j.counters.imported, 1);
        int started = 0;
        assert_br_ok(br_job_events(f->repo, ids[i], count_started, &started, &err), &err);
        assert_int_equal(started, 1);
        assert_int_equal(count_items(f, ids[i]), 1);
        assert_int_equal(j.progress.percent, 100);
        assert_true(j.started[0] && j.ended[0]);
    }
    br_engine_free(eng);
    assert_int_equal(br_item_count(f->repo), N);
}

static void test_submit_rejects_bad_specs(void **state)
{
    fixture *f = *state;
    br_error err;
    int64_t id = 7;
    br_job_spec s1 = {"no-such-type", NULL, NULL, NULL, NULL, 0, 0, NULL};
    assert_int_equal(br_job_submit(f->repo, &s1, &id, &err), BR_EUSAGE);
    assert_int_equal(id, 0);
    br_job_spec s2 = {"import-saf", NULL, NULL, "[1,2]", NULL, 0, 0, NULL};
    assert_int_equal(br_job_submit(f->repo, &s2, &id, &err), BR_EUSAGE);
    br_job_spec s3 = {"import-saf", NULL, NULL, "{\"a\":", NULL, 0, 0, NULL};
    assert_int_equal(br_job_submit(f->repo, &s3, &id, &err), BR_EUSAGE);
    const char *missing[1] = {tu_path(f->dir, "nope.zip")};
    br_job_spec s4 = {"import-saf", NULL, NULL, NULL, missing, 1, 0, NULL};
    assert_int_equal(br_job_submit(f->repo, &s4, &id, &err), BR_ENOTFOUND);
    /* Nothing was queued. */
    br_job j;
    assert_int_equal(br_job_get(f->repo, 1, &j, &err), BR_ENOTFOUND);
}

/* A job parameter of the wrong type fails the job with its name; it is not run with a
 * default the operator did not ask for, and nothing is written. */
static void test_bad_import_params_fail_the_job(void **state)
{
    fixture *f = *state;
    make_saf(tu_path(f->dir, "p"), 2, NULL, 0);
    static const char *const bad[] = {"\"batch_size\":\"1000\"", "\"batch_size\":-1",
                                      "\"limits\":[1]", "\"limits\":{\"max_ratio\":1.5}"};
    enum { N_BAD = sizeof bad / sizeof bad[0] };
    int64_t ids[N_BAD];
    char params[4096];
    for (size_t i = 0; i < N_BAD; i++) {
        snprintf(params, sizeof params, "{\"source\":\"%s\",\"collections\":[\"%s\"],%s}",
                 tu_path(f->dir, "p"), f->coll, bad[i]);
        ids[i] = submit(f, "import-saf", params, NULL);
    }
    br_engine *eng = start_engine(f, 1, NULL);
    for (size_t i = 0; i < N_BAD; i++) {
        br_job j;
        wait_job(f, ids[i], &j);
        assert_int_equal(j.status, BR_JOB_FAILED);
        assert_contains(j.message, i < 2    ? "\"batch_size\" must be a whole number"
                                   : i == 2 ? "\"limits\" must be an object"
                                            : "\"max_ratio\" must be a whole number");
    }
    br_engine_free(eng);
    assert_int_equal(br_item_count(f->repo), 0);
}

static void test_cancel_pending_and_ended(void **state)
{
    fixture *f = *state;
    make_saf(tu_path(f->dir, "p"), 2, NULL, 0);
    char params[4096];
    snprintf(params, sizeof params, "{\"source\":\"%s\",\"collections\":[\"%s\"]}",
             tu_path(f->dir, "p"), f->coll);
    int64_t id = submit(f, "import-saf", params, NULL);
    br_error err;
    assert_br_ok(br_job_cancel(f->repo, id, &err), &err);
    br_job j;
    assert_br_ok(br_job_get(f->repo, id, &j, &err), &err);
    assert_int_equal(j.status, BR_JOB_USER_ABORTED);
    assert_true(j.ended[0] != 0);
    assert_int_equal(br_job_cancel(f->repo, id, &err), BR_EUSAGE);
    assert_int_equal(br_job_cancel(f->repo, 999, &err), BR_ENOTFOUND);
    /* A worker never picks it up. */
    br_engine *eng = start_engine(f, 1, NULL);
    usleep(200000);
    br_engine_free(eng);
    assert_int_equal(br_item_count(f->repo), 0);
}

/* ---- cancel, resume, crash recovery ----------------------------------------------------- */

enum { BIG = 1500 };

/* Submits an import of BIG items in batches of one and waits until it writes. */
static int64_t start_big_import(fixture *f, br_engine **eng)
{
    with_files = 1;
    make_saf(tu_path(f->dir, "big"), BIG, NULL, 0);
    with_files = 0;
    char params[4096];
    snprintf(params, sizeof params, "{\"source\":\"%s\",\"collections\":[\"%s\"],\"batch_size\":1}",
             tu_path(f->dir, "big"), f->coll);
    int64_t id = submit(f, "import-saf", params, NULL);
    *eng = start_engine(f, 1, NULL);
    br_error err;
    br_job j;
    for (int i = 0; i < 6000; i++) {
        assert_br_ok(br_job_get(f->repo, id, &j, &err), &err);
        if (j.counters.imported > 0) return id;
        if (br_job_status_ended(j.status)) break;
        usleep(2000);
    }
    fail_msg("the import did not start writing (status %s)", br_job_status_code(j.status));
    return 0;
}

static void test_cancel_at_record_boundary_then_resume(void **state)
{
    fixture *f = *state;
    br_engine *eng;
    int64_t id = start_big_import(f, &eng);
    br_error err;
    assert_br_ok(br_job_cancel(f->repo, id, &err), &err);
    br_job j;
    wait_job(f, id, &j);
    if (j.status != BR_JOB_USER_ABORTED)
        fail_msg("status %s: %s", br_job_status_code(j.status), j.message);
    /* Stopped part-way; the journal names exactly the stored items. */
    assert_true(j.counters.imported > 0 && j.counters.imported < BIG);
    assert_int_equal((int64_t)count_items(f, id), j.counters.imported);
    assert_int_equal((int64_t)br_item_count(f->repo), j.counters.imported);
    /* A data-less stop is not a rerun case: resume is. */
    int64_t nid;
    assert_int_equal(br_job_rerun(f->repo, id, &nid, &err), BR_EUSAGE);
    assert_br_ok(br_job_resume(f->repo, id, &err), &err);
    br_engine_wake(eng);
    wait_job(f, id, &j);
    assert_int_equal(j.status, BR_JOB_COMPLETED_SUCCESS);
    assert_int_equal(j.counters.imported, BIG);
    assert_int_equal(br_item_count(f->repo), BIG);
    assert_int_equal(count_items(f, id), BIG);
    br_engine_free(eng);
    /* The mapfile names every item once. */
    char map[4200];
    snprintf(map, sizeof map, "%s/uploads/%lld/mapfile", f->repo_dir, (long long)id);
    char *text = tu_read(map);
    assert_non_null(text);
    size_t lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, BIG);
    free(text);
}

static void test_crash_left_running_is_resumed(void **state)
{
    fixture *f = *state;
    br_engine *eng;
    int64_t id = start_big_import(f, &eng);
    br_error err;
    /* Stop the engine mid-import (the job goes back to the queue), then make
     * the row look like a process died while running it. */
    br_engine_free(eng);
    br_job j;
    assert_br_ok(br_job_get(f->repo, id, &j, &err), &err);
    assert_int_equal(j.status, BR_JOB_PENDING);
    assert_true(j.counters.imported < BIG);
    assert_br_ok(br_job_set_status(f->repo, id, BR_JOB_RUNNING, NULL, &err), &err);
    size_t before = count_items(f, id);
    assert_int_equal((int64_t)before, j.counters.imported);

    eng = start_engine(f, 2, NULL);
    wait_job(f, id, &j);
    br_engine_free(eng);
    assert_int_equal(j.status, BR_JOB_COMPLETED_SUCCESS);
    assert_int_equal(br_item_count(f->repo), BIG);
    assert_int_equal(j.counters.imported, BIG);
    assert_true(j.resume);
}

static void test_crashed_export_fails_and_reruns(void **state)
{
    fixture *f = *state;
    make_saf(tu_path(f->dir, "p"), 3, NULL, 0);
    char params[4096];
    snprintf(params, sizeof params, "{\"source\":\"%s\",\"collections\":[\"%s\"]}",
             tu_path(f->dir, "p"), f->coll);
    br_engine *eng = start_engine(f, 1, NULL);
    br_job j;
    wait_job(f, submit(f, "import-saf", params, NULL), &j);
    br_engine_free(eng);
    assert_int_equal(j.status, BR_JOB_COMPLETED_SUCCESS);

    snprintf(params, sizeof params, "{\"scope\":\"collection\",\"id\":\"%s\",\"zip\":\"out.zip\"}",
             f->coll);
    int64_t id = submit(f, "export-saf", params, NULL);
    /* Claimed by a worker that then died. */
    br_error err;
    const char *types[] = {"export-saf"};
    assert_int_equal(br_job_claim(f->repo, types, 1, &j, &err), 1);
    assert_int_equal(j.id, id);
    assert_int_equal(br_job_claim(f->repo, types, 1, &j, &err), 0);
    size_t n = 0;
    assert_br_ok(br_engine_recover(f->repo, &n, &err), &err);
    assert_int_equal(n, 1);
    assert_br_ok(br_job_get(f->repo, id, &j, &err), &err);
    assert_int_equal(j.status, BR_JOB_FAILED);
    assert_string_equal(j.failure, BR_FAILURE_INTERRUPTED);

    int64_t nid = 0;
    assert_br_ok(br_job_rerun(f->repo, id, &nid, &err), &err);
    assert_true(nid > id);
    eng = start_engine(f, 1, NULL);
    wait_job(f, nid, &j);
    br_engine_free(eng);
    assert_int_equal(j.status, BR_JOB_COMPLETED_SUCCESS);
    assert_int_equal(j.rerun_of, id);
    assert_int_equal(j.counters.exported, 3);
    char zip[4200];
    snprintf(zip, sizeof zip, "%s/exports/%lld/out.zip", f->repo_dir, (long long)nid);
    assert_true(access(zip, F_OK) == 0);
}

static void test_rerun_refused_for_data_error(void **state)
{
    fixture *f = *state;
    int bad[] = {2};
    make_saf(tu_path(f->dir, "pkg"), 3, bad, 1);
    br_error err;
    assert_br_ok(br_zip_create(tu_path(f->dir, "pkg"), tu_path(f->dir, "in.zip"), &err), &err);
    char params[256];
    snprintf(params, sizeof params, "{\"collections\":[\"%s\"]}", f->coll);
    int64_t id = submit(f, "import-saf", params, tu_path(f->dir, "in.zip"));
    br_engine *eng = start_engine(f, 1, NULL);
    br_job j;
    wait_job(f, id, &j);
    br_engine_free(eng);
    assert_int_equal(j.status, BR_JOB_FAILED);
    assert_string_equal(j.failure, BR_FAILURE_DATA);
    assert_int_equal(j.counters.invalid, 1);
    assert_int_equal(br_item_count(f->repo), 0);
    int64_t nid = 0;
    assert_int_equal(br_job_rerun(f->repo, id, &nid, &err), BR_EINVAL);
    assert_contains(err.message, "fix the file and import it again");
    assert_int_equal(nid, 0);
}

/* A non-data failure of an import: the rerun imports exactly what the failed
 * run did not store. */
static void test_rerun_import_after_io_failure(void **state)
{
    fixture *f = *state;
    br_engine *eng;
    int64_t id = start_big_import(f, &eng);
    br_error err;
    assert_br_ok(br_job_cancel(f->repo, id, &err), &err);
    br_job j;
    wait_job(f, id, &j);
    br_engine_free(eng);
    /* Record it as an I/O failure (what a full disk leaves). */
    assert_br_ok(br_job_fail(f->repo, id, "disk full", br_job_failure_of(BR_EIO), &err), &err);
    br_job failed;
    assert_br_ok(br_job_get(f->repo, id, &failed, &err), &err);
    assert_int_equal(failed.status, BR_JOB_FAILED);
    assert_string_equal(failed.failure, BR_FAILURE_IO);
    assert_string_equal(failed.message, "disk full");
    assert_true(failed.ended[0] != 0);
    int64_t stored = j.counters.imported;
    int64_t nid = 0;
    assert_br_ok(br_job_rerun(f->repo, id, &nid, &err), &err);
    eng = start_engine(f, 2, NULL);
    wait_job(f, nid, &j);
    br_engine_free(eng);
    assert_int_equal(j.status, BR_JOB_COMPLETED_SUCCESS);
    assert_int_equal(j.counters.skipped, stored);
    assert_int_equal(j.counters.imported, BIG - stored);
    assert_int_equal(br_item_count(f->repo), BIG);
}

/* ---- webhook ------------------------------------------------------------------------------ */

typedef struct hook {
    pthread_mutex_t mu;
    char *body;
    size_t len;
    int posts;
    char ctype[128];
} hook;

static enum MHD_Result hook_cb(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **con_cls)
{
    hook *h = cls;
    (void)url;
    (void)version;
    if (!*con_cls) {
        *con_cls = h;
        return MHD_YES;
    }
    if (*size) {
        pthread_mutex_lock(&h->mu);
        h->body = realloc(h->body, h->len + *size + 1);
        memcpy(h->body + h->len, data, *size);
        h->len += *size;
        h->body[h->len] = 0;
        pthread_mutex_unlock(&h->mu);
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&h->mu);
    if (!strcmp(method, "POST")) h->posts++;
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    snprintf(h->ctype, sizeof h->ctype, "%s", ct ? ct : "");
    pthread_mutex_unlock(&h->mu);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static int count_webhook_warning(void *ctx, const br_job_event *e);

static void test_webhook_posts_completed_job(void **state)
{
    fixture *f = *state;
    hook h = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, ""};
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, hook_cb,
                                            &h, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    assert_non_null(d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/hook", (unsigned)info->port);

    /* A loopback webhook must be allowed by the repository's fetch policy. */
    char allow[4200], line[64];
    snprintf(allow, sizeof allow, "%s/fetch-allow.txt", br_repo_dir(f->repo));
    snprintf(line, sizeof line, "127.0.0.1:%u\n", (unsigned)info->port);
    tu_write(br_repo_dir(f->repo), "fetch-allow.txt", line);

    make_saf(tu_path(f->dir, "p"), 2, NULL, 0);
    char params[4096];
    snprintf(params, sizeof params, "{\"source\":\"%s\",\"collections\":[\"%s\"]}",
             tu_path(f->dir, "p"), f->coll);
    int64_t id = submit(f, "import-saf", params, NULL);
    br_engine *eng = start_engine(f, 1, url);
    br_job j;
    wait_job(f, id, &j);
    /* The POST follows the status change: give it a moment. */
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&h.mu);
        int n = h.posts;
        pthread_mutex_unlock(&h.mu);
        if (n) break;
        usleep(10000);
    }
    br_engine_free(eng);
    assert_int_equal(h.posts, 1);

    /* Not allowed: nothing reaches the server, the job says why. */
    assert_int_equal(unlink(allow), 0);
    make_saf(tu_path(f->dir, "q"), 1, NULL, 0);
    snprintf(params, sizeof params, "{\"source\":\"%s\",\"collections\":[\"%s\"]}",
             tu_path(f->dir, "q"), f->coll);
    int64_t refused = submit(f, "import-saf", params, NULL);
    eng = start_engine(f, 1, url);
    wait_job(f, refused, &j);
    int warned = 0;
    for (int i = 0; i < 500 && !warned; i++) {
        br_error e;
        assert_br_ok(br_job_events(f->repo, refused, count_webhook_warning, &warned, &e), &e);
        if (!warned) usleep(10000);
    }
    br_engine_free(eng);
    MHD_stop_daemon(d);
    assert_true(warned);
    assert_int_equal(h.posts, 1);
    assert_string_equal(h.ctype, "application/json");
    json_error_t jerr;
    json_t *o = json_loads(h.body, 0, &jerr);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "id")), id);
    assert_string_equal(json_string_value(json_object_get(json_object_get(o, "status"), "code")),
                        "COMPLETED_SUCCESS");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(o, "counters"), "imported")), 2);
    json_decref(o);
    free(h.body);
}

static int count_webhook_warning(void *ctx, const br_job_event *e)
{
    if (!strcmp(e->module, "webhook") && !strcmp(e->severity, "warning")) ++*(int *)ctx;
    return 0;
}

static void test_webhook_failure_is_an_event(void **state)
{
    fixture *f = *state;
    make_saf(tu_path(f->dir, "p"), 1, NULL, 0);
    char params[4096];
    snprintf(params, sizeof params, "{\"source\":\"%s\",\"collections\":[\"%s\"]}",
             tu_path(f->dir, "p"), f->coll);
    int64_t id = submit(f, "import-saf", params, NULL);
    /* Port 1 on loopback: nothing listens there. */
    br_engine *eng = start_engine(f, 1, "http://127.0.0.1:1/hook");
    br_job j;
    wait_job(f, id, &j);
    br_engine_free(eng);
    assert_int_equal(j.status, BR_JOB_COMPLETED_SUCCESS);
    int warnings = 0;
    br_error err;
    assert_br_ok(br_job_events(f->repo, id, count_webhook_warning, &warnings, &err), &err);
    assert_int_equal(warnings, 1);
}

/* ---- unimported records ---------------------------------------------------------------------- */

static int64_t failed_saf_job(fixture *f, int n, const int *bad, size_t n_bad)
{
    make_saf(tu_path(f->dir, "pkg"), n, bad, n_bad);
    br_error err;
    assert_br_ok(br_zip_create(tu_path(f->dir, "pkg"), tu_path(f->dir, "in.zip"), &err), &err);
    char params[256];
    snprintf(params, sizeof params, "{\"collections\":[\"%s\"],\"skip_invalid\":true}", f->coll);
    int64_t id = submit(f, "import-saf", params, tu_path(f->dir, "in.zip"));
    br_engine *eng = start_engine(f, 1, NULL);
    br_job j;
    wait_job(f, id, &j);
    br_engine_free(eng);
    assert_int_equal(j.status, BR_JOB_COMPLETED_WITH_ERRORS);
    assert_int_equal(j.counters.invalid, (int64_t)n_bad);
    return id;
}

static char *zip_entry(const char *zpath, const char *name)
{
    int zerr;
    zip_t *z = zip_open(zpath, ZIP_RDONLY, &zerr);
    if (!z) return NULL;
    zip_stat_t st;
    char *buf = NULL;
    if (!zip_stat(z, name, 0, &st)) {
        zip_file_t *zf = zip_fopen(z, name, 0);
        buf = calloc(1, st.size + 1);
        zip_fread(zf, buf, st.size);
        zip_fclose(zf);
    }
    zip_close(z);
    return buf;
}

static void test_unimported_saf_zip(void **state)
{
    fixture *f = *state;
    int bad[] = {2, 4};
    int64_t id = failed_saf_job(f, 5, bad, 2);
    br_error err;
    br_unimported_result res;
    assert_br_ok(br_job_unimported(f->repo, id, NULL, tu_path(f->dir, "rej.zip"), &res, &err),
                 &err);
    assert_int_equal(res.records, 2);
    assert_int_equal(res.total, 2);
    assert_int_equal(res.pages, 1);
    assert_string_equal(res.format, "zip");
    char *e = zip_entry(tu_path(f->dir, "rej.zip"), "errors.txt");
    assert_non_null(e);
    assert_contains(e, "item_2: ");
    assert_contains(e, "dc.titel");
    assert_contains(e, "item_4: ");
    free(e);
    char *x = zip_entry(tu_path(f->dir, "rej.zip"), "item_2/dublin_core.xml");
    assert_non_null(x);
    assert_contains(x, "titel");
    free(x);
    assert_non_null((x = zip_entry(tu_path(f->dir, "rej.zip"), "item_4/contents")));
    free(x);
    assert_null(zip_entry(tu_path(f->dir, "rej.zip"), "item_1/dublin_core.xml"));
}

static void test_unimported_paging(void **state)
{
    fixture *f = *state;
    int bad[] = {1, 3, 5};
    int64_t id = failed_saf_job(f, 6, bad, 3);
    br_error err;
    br_unimported_result res;
    br_unimported_options o = {1, 2};
    assert_br_ok(br_job_unimported(f->repo, id, &o, tu_path(f->dir, "p1.zip"), &res, &err), &err);
    assert_int_equal(res.records, 2);
    assert_int_equal(res.pages, 2);
    char *e = zip_entry(tu_path(f->dir, "p1.zip"), "errors.txt");
    assert_contains(e, "item_1: ");
    assert_contains(e, "item_3: ");
    assert_not_contains(e, "item_5: ");
    free(e);
    o.page = 2;
    assert_br_ok(br_job_unimported(f->repo, id, &o, tu_path(f->dir, "p2.zip"), &res, &err), &err);
    assert_int_equal(res.records, 1);
    e = zip_entry(tu_path(f->dir, "p2.zip"), "errors.txt");
    assert_string_equal(e, "item_5: item_5/dublin_core.xml:1: error: dc.titel is not in the "
                           "metadata registry (did you mean dc.title?)\n");
    free(e);
    o.page = 3;
    assert_int_equal(br_job_unimported(f->repo, id, &o, tu_path(f->dir, "p3.zip"), &res, &err),
                     BR_ENOTFOUND);
    assert_true(access(tu_path(f->dir, "p3.zip"), F_OK) != 0);
    /* Above the seed's cap the page is 5,000. */
    o.page = 1;
    o.page_size = 100000;
    assert_br_ok(br_job_unimported(f->repo, id, &o, tu_path(f->dir, "all.zip"), &res, &err), &err);
    assert_int_equal(res.pages, 1);
    assert_int_equal(res.records, 3);
}

static void test_unimported_csv_rows_with_error_column(void **state)
{
    fixture *f = *state;
    /* A CSV job's journal keys are column B's group keys (engine.h). */
    tu_write(f->dir, "in.csv",
             ",GROUP_ID,ASSET_TITLE\r\n"
             "ASSET,G1,\"One, first\"\r\n"
             "ASSET,G2,Two\r\n"
             "CREATOR,,\"multi\r\nline\"\r\n"
             "ASSET,G3,Three\r\n"
             "ASSET,G4,\"Four \"\"quoted\"\"\"\r\n");
    br_error err;
    br_job j;
    memset(&j, 0, sizeof j);
    snprintf(j.type, sizeof j.type, "import-esploro");
    assert_br_ok(br_job_create(f->repo, &j, &err), &err);
    br_job_file jf = {"in.csv", tu_path(f->dir, "in.csv"), 10, NULL, 4, NULL, NULL};
    assert_br_ok(br_job_file_add(f->repo, j.id, &jf, &err), &err);
    br_job_record r2 = {1, "G2", BR_OUTCOME_INVALID, 0, NULL, "AE3: bad \"date\"", 0, 0, NULL, 0};
    br_job_record r1 = {0, "G1", BR_OUTCOME_IMPORTED, 0, NULL, NULL, 0, 0, NULL, 0};
    br_job_record r4 = {3, "G4", BR_OUTCOME_FAILED, 0, NULL, "fetch timed out", 0, 0, NULL, 0};
    assert_br_ok(br_job_journal(f->repo, j.id, &r1, &err), &err);
    assert_br_ok(br_job_journal(f->repo, j.id, &r2, &err), &err);
    assert_br_ok(br_job_journal(f->repo, j.id, &r4, &err), &err);
    br_unimported_result res;
    assert_br_ok(br_job_unimported(f->repo, j.id, NULL, tu_path(f->dir, "rej.csv"), &res, &err),
                 &err);
    assert_string_equal(res.format, "csv");
    assert_int_equal(res.records, 2);
    char *text = tu_read(tu_path(f->dir, "rej.csv"));
    assert_string_equal(text, ",GROUP_ID,ASSET_TITLE,ERROR\r\n"
                              "ASSET,G2,Two,\"AE3: bad \"\"date\"\"\"\r\n"
                              "CREATOR,,\"multi\r\nline\",\"AE3: bad \"\"date\"\"\"\r\n"
                              "ASSET,G4,\"Four \"\"quoted\"\"\",\"fetch timed out\"\r\n");
    free(text);
}

static void test_unimported_refusals(void **state)
{
    fixture *f = *state;
    make_saf(tu_path(f->dir, "p"), 1, NULL, 0);
    char params[4096];
    snprintf(params, sizeof params, "{\"source\":\"%s\",\"collections\":[\"%s\"]}",
             tu_path(f->dir, "p"), f->coll);
    int64_t id = submit(f, "import-saf", params, NULL);
    br_engine *eng = start_engine(f, 1, NULL);
    br_job j;
    wait_job(f, id, &j);
    snprintf(params, sizeof params, "{\"scope\":\"collection\",\"id\":\"%s\"}", f->coll);
    int64_t ex = submit(f, "export-saf", params, NULL);
    wait_job(f, ex, &j);
    br_engine_free(eng);
    br_error err;
    assert_int_equal(br_job_unimported(f->repo, id, NULL, tu_path(f->dir, "x.zip"), NULL, &err),
                     BR_ENOTFOUND);
    assert_contains(err.message, "no unimported records");
    assert_int_equal(br_job_unimported(f->repo, ex, NULL, tu_path(f->dir, "x.zip"), NULL, &err),
                     BR_EUSAGE);
    assert_int_equal(br_job_unimported(f->repo, 999, NULL, tu_path(f->dir, "x.zip"), NULL, &err),
                     BR_ENOTFOUND);
}

/* ---- drop folders ------------------------------------------------------------------------------
 */

static int count_jobs_cb(void *ctx, const br_job *j)
{
    (void)j;
    ++*(size_t *)ctx;
    return 0;
}

static size_t count_jobs(fixture *f)
{
    size_t n = 0;
    br_error err;
    assert_br_ok(br_job_list(f->repo, count_jobs_cb, &n, &err), &err);
    return n;
}

static void add_profile(fixture *f, const char *inbox)
{
    br_profile p = {0};
    snprintf(p.name, sizeof p.name, "ftp");
    snprintf(p.format, sizeof p.format, "saf");
    snprintf(p.collection, sizeof p.collection, "%s", f->coll);
    snprintf(p.inbox, sizeof p.inbox, "%s", inbox);
    br_error err;
    assert_br_ok(br_profile_add(f->repo, &p, &err), &err);
}

static int wait_file(const char *path, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (!access(path, F_OK)) return 1;
        usleep(10000);
    }
    return 0;
}

static void test_profile_rules(void **state)
{
    fixture *f = *state;
    tu_write(tu_path(f->dir, "in"), ".keep", "");
    br_profile p = {.name = "ftp", .format = "saf"};
    snprintf(p.collection, sizeof p.collection, "%s", f->coll);
    snprintf(p.inbox, sizeof p.inbox, "%s", tu_path(f->dir, "in"));
    br_error err;
    br_profile bad = p;
    snprintf(bad.name, sizeof bad.name, "a/b");
    assert_int_equal(br_profile_add(f->repo, &bad, &err), BR_EUSAGE);
    bad = p;
    snprintf(bad.format, sizeof bad.format, "marc");
    assert_int_equal(br_profile_add(f->repo, &bad, &err), BR_EUSAGE);
    bad = p;
    snprintf(bad.inbox, sizeof bad.inbox, "relative/in");
    assert_int_equal(br_profile_add(f->repo, &bad, &err), BR_EUSAGE);
    bad = p;
    snprintf(bad.inbox, sizeof bad.inbox, "%s", tu_path(f->dir, "missing"));
    assert_int_equal(br_profile_add(f->repo, &bad, &err), BR_EUSAGE);
    bad = p;
    snprintf(bad.collection, sizeof bad.collection, "123456789/999");
    assert_int_equal(br_profile_add(f->repo, &bad, &err), BR_ENOTFOUND);
    assert_br_ok(br_profile_add(f->repo, &p, &err), &err);
    assert_int_equal(br_profile_add(f->repo, &p, &err), BR_EEXISTS);
    assert_true(access(tu_path(f->dir, "in/processing"), F_OK) == 0);
    br_profile got;
    assert_br_ok(br_profile_get(f->repo, "ftp", &got, &err), &err);
    assert_string_equal(got.inbox, tu_path(f->dir, "in"));
    assert_br_ok(br_profile_remove(f->repo, "ftp", &err), &err);
    assert_int_equal(br_profile_remove(f->repo, "ftp", &err), BR_ENOTFOUND);
}

static void test_inbox_pickup_done_and_failed(void **state)
{
    fixture *f = *state;
    tu_write(tu_path(f->dir, "in"), ".keep", "");
    add_profile(f, tu_path(f->dir, "in"));
    make_saf(tu_path(f->dir, "pkg"), 3, NULL, 0);
    br_error err;
    assert_br_ok(br_zip_create(tu_path(f->dir, "pkg"), tu_path(f->dir, "good.zip"), &err), &err);
    br_engine *eng = start_engine(f, 1, NULL);
    /* Arrives by rename, as an FTP server finishing an upload does. */
    assert_int_equal(rename(tu_path(f->dir, "good.zip"), tu_path(f->dir, "in/good.zip")), 0);
    tu_write(tu_path(f->dir, "in"), "broken.zip", "not a zip at all");
    tu_write(tu_path(f->dir, "in"), "notes.txt", "ignored: not this profile's format");
    assert_true(wait_file(tu_path(f->dir, "in/done/good.zip"), 20000));
    assert_true(wait_file(tu_path(f->dir, "in/failed/broken.zip"), 20000));
    br_engine_free(eng);
    assert_int_equal(br_item_count(f->repo), 3);
    assert_int_equal(count_jobs(f), 2);
    assert_true(access(tu_path(f->dir, "in/notes.txt"), F_OK) == 0);
    assert_true(access(tu_path(f->dir, "in/good.zip"), F_OK) != 0);
    br_job j;
    assert_br_ok(br_job_get(f->repo, 1, &j, &err), &err);
    assert_string_equal(j.profile, "ftp");
    assert_string_equal(j.name, "Metadata Import: ftp (FTP)");
}

static void test_inbox_waits_for_growing_file(void **state)
{
    fixture *f = *state;
    tu_write(tu_path(f->dir, "in"), ".keep", "");
    add_profile(f, tu_path(f->dir, "in"));
    br_engine *eng = start_engine(f, 1, NULL);
    /* Keeps growing across many scans (100 ms apart): never taken. */
    FILE *fp = fopen(tu_path(f->dir, "in/slow.zip"), "w");
    assert_non_null(fp);
    for (int i = 0; i < 40; i++) {
        fputs("partial upload ", fp);
        fflush(fp);
        usleep(25000);
        assert_int_equal(count_jobs(f), 0);
    }
    fclose(fp);
    /* Then it stops growing and is taken (and fails: it is no zip). */
    assert_true(wait_file(tu_path(f->dir, "in/failed/slow.zip"), 20000));
    br_engine_free(eng);
    assert_int_equal(count_jobs(f), 1);
}

static void test_inbox_restart_never_duplicates(void **state)
{
    fixture *f = *state;
    tu_write(tu_path(f->dir, "in"), ".keep", "");
    add_profile(f, tu_path(f->dir, "in"));
    make_saf(tu_path(f->dir, "pkg"), 2, NULL, 0);
    br_error err;
    /* A crash right after the claim, before the job was made: the file is
     * returned to the inbox and taken once. */
    assert_br_ok(br_zip_create(tu_path(f->dir, "pkg"),
                               tu_path(f->dir, "in/processing/00000000000000ff-lost.zip"), &err),
                 &err);
    /* A crash after the job ended, before the move: moved, not run again. */
    assert_br_ok(br_zip_create(tu_path(f->dir, "pkg"),
                               tu_path(f->dir, "in/processing/0000000000000100-ran.zip"), &err),
                 &err);
    char params[256];
    snprintf(params, sizeof params, "{\"collections\":[\"%s\"]}", f->coll);
    int64_t id = submit(f, "validate-saf", params,
                        tu_path(f->dir, "in/processing/0000000000000100-ran.zip"));
    assert_br_ok(br_job_set_input(f->repo, id,
                                  tu_path(f->dir, "in/processing/0000000000000100-ran.zip"), &err),
                 &err);
    assert_br_ok(br_job_set_status(f->repo, id, BR_JOB_COMPLETED_SUCCESS, NULL, &err), &err);
    br_engine *eng = start_engine(f, 1, NULL);
    assert_true(wait_file(tu_path(f->dir, "in/done/ran.zip"), 20000));
    assert_true(wait_file(tu_path(f->dir, "in/done/lost.zip"), 20000));
    br_engine_free(eng);
    /* The validation job plus one import of lost.zip. */
    assert_int_equal(count_jobs(f), 2);
    assert_int_equal(br_item_count(f->repo), 2);
    /* Another restart finds nothing to do. */
    eng = start_engine(f, 1, NULL);
    usleep(300000);
    br_engine_free(eng);
    assert_int_equal(count_jobs(f), 2);
}

/* Health: the workers that are alive, not just configured. */
static void test_engine_alive(void **state)
{
    fixture *f = *state;
    br_engine *eng = start_engine(f, 2, NULL);
    unsigned alive = 99, workers = 99;
    assert_int_equal(br_engine_alive(eng, &alive, &workers), 0);
    assert_int_equal(workers, 2);
    assert_int_equal(alive, 2);
    br_engine_stop(eng);
    assert_int_equal(br_engine_alive(eng, &alive, NULL), 0);
    assert_int_equal(alive, 0);
    br_engine_free(eng);
    assert_int_equal(br_engine_alive(NULL, &alive, NULL), BR_EUSAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_engine_alive, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_no_job_runs_twice, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_submit_rejects_bad_specs, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_bad_import_params_fail_the_job, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_pending_and_ended, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_at_record_boundary_then_resume, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_crash_left_running_is_resumed, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_crashed_export_fails_and_reruns, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_rerun_refused_for_data_error, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_rerun_import_after_io_failure, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_webhook_posts_completed_job, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_webhook_failure_is_an_event, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_unimported_saf_zip, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_unimported_paging, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_unimported_csv_rows_with_error_column, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_unimported_refusals, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_profile_rules, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_inbox_pickup_done_and_failed, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_inbox_waits_for_growing_file, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_inbox_restart_never_duplicates, tu_repo_setup,
                                        tu_repo_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
