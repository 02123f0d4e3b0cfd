/* REST API tests (issue 4 section 3, docs/api.md): `bulkrepo serve` runs as a
 * child process on a free loopback port against a temporary repository whose
 * users are made with the CLI; every route is exercised with libcurl, as a
 * script or the web UI would. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include "cli_fixture.h"
#include "http_fixture.h"
#include "serve_fixture.h"
#include "bulkrepo/user.h"

#define MAX_UPLOAD                                                                                 \
    (8 * 1000 * 1000) /* the server runs with --max-upload 8M (K, M, G: powers of 1000) */

typedef struct api {
    fx f;            /* the repository (f.dir/r) and CLI runner */
    sf_server serve; /* bulkrepo serve */
    char admin_token[64], manager_token[64], buyer_token[64];
} api;

static api *A;

/* The shared client (serve_fixture.h) against this file's server. */
static void http(const char *method, const char *path, const sf_rq *o, sf_resp *out)
{
    sf_http(&A->serve, method, path, o, out);
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static long long jint(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* A header's value (static buffer) or NULL; the name is matched case-insensitively. */
static const char *header(const sf_resp *r, const char *name)
{
    static char v[1024];
    size_t n = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *e = strstr(p, "\r\n");
        if (!e) break;
        if ((size_t)(e - p) > n && !strncasecmp(p, name, n) && p[n] == ':') {
            const char *s = p + n + 1;
            while (*s == ' ')
                s++;
            snprintf(v, sizeof v, "%.*s", (int)(e - s), s);
            return v;
        }
        p = e + 2;
    }
    return NULL;
}

/* ---- the server ------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    A = calloc(1, sizeof *A);
    fx *f = &A->f;
    f->dir = tu_tmpdir();
    snprintf(f->repo, sizeof f->repo, "%s/r", f->dir);
    fx_init(f);
    snprintf(f->coll, sizeof f->coll, "%s", fx_new_collection(f, "Theses"));
    sf_add_user(&A->f, "admin", "General System Administrator", "admin-password");
    sf_add_user(&A->f, "manager", "Repository Manager", "manager-password");
    sf_add_user(&A->f, "buyer", "Purchasing Operator", "buyer-password");
    sf_token(&A->f, "admin", A->admin_token);
    sf_token(&A->f, "manager", A->manager_token);
    sf_token(&A->f, "buyer", A->buyer_token);
    static const char *const args[] = {"--max-upload", "8M", "--workers", "2", NULL};
    sf_start(f, &A->serve, args);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    int bad = sf_stop(&A->serve);
    tu_rmtree(A->f.dir);
    free(A->f.dir);
    fx_reset_output(&A->f);
    free(A);
    curl_global_cleanup();
    /* A clean exit on SIGTERM, and no sanitizer report. */
    return bad;
}

/* ---- helpers over the API ----------------------------------------------------------------- */

typedef struct session {
    char cookie[128];
    char csrf[64];
    char token[64];
} session;

static void login(const char *user, const char *password, session *s)
{
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, password);
    sf_rq o = {.json = body};
    sf_resp r;
    http("POST", "/api/login", &o, &r);
    SF_EXPECT(&r, 200);
    snprintf(s->token, sizeof s->token, "%s", jstr(r.json, "token"));
    snprintf(s->csrf, sizeof s->csrf, "%s", jstr(r.json, "csrf"));
    snprintf(s->cookie, sizeof s->cookie, "bulkrepo_session=%s", s->token);
    sf_resp_free(&r);
}

/* A SAF zip at DIR/rel: items named in ok[] are valid, bad[] list a missing file. */
static void saf_zip(const char *rel, int n_ok, int n_bad)
{
    zent e[64];
    char names[64][64];
    size_t k = 0;
    for (int i = 0; i < n_ok + n_bad && k + 2 < 64; i++) {
        snprintf(names[k], sizeof names[k], "item_%d/dublin_core.xml", i);
        e[k] = (zent){names[k], i < n_ok ? DC_XML("Valid item") : DC_XML("Broken item"), ZE_FILE};
        k++;
        if (i >= n_ok) {
            snprintf(names[k], sizeof names[k], "item_%d/contents", i);
            e[k] = (zent){names[k], "missing.pdf\n", ZE_FILE};
            k++;
        }
    }
    fx_zip(&A->f, rel, e, k);
}

static curl_mime *form(CURL **c, const char *const *kv, const char *file_field,
                       const char *file_path, const char *file_name)
{
    *c = curl_easy_init();
    curl_mime *m = curl_mime_init(*c);
    for (size_t i = 0; kv && kv[i]; i += 2) {
        curl_mimepart *p = curl_mime_addpart(m);
        curl_mime_name(p, kv[i]);
        curl_mime_data(p, kv[i + 1], CURL_ZERO_TERMINATED);
    }
    if (file_path) {
        curl_mimepart *p = curl_mime_addpart(m);
        curl_mime_name(p, file_field);
        curl_mime_filedata(p, file_path);
        if (file_name) curl_mime_filename(p, file_name);
    }
    return m;
}

/* POST /api/jobs with fields and a file; returns the status, *id the new job. */
static long submit(const sf_rq *base, const char *const *kv, const char *file_rel,
                   const char *file_name, long long *id, sf_resp *out)
{
    CURL *c;
    curl_mime *m = form(&c, kv, "file", file_rel ? fx_path(&A->f, file_rel) : NULL, file_name);
    sf_rq o = base ? *base : (sf_rq){0};
    o.mime = m;
    sf_resp r;
    http("POST", "/api/jobs", &o, &r);
    curl_mime_free(m);
    curl_easy_cleanup(c);
    long st = r.status;
    if (id) *id = st == 201 ? jint(r.json, "id") : 0;
    if (out)
        *out = r;
    else
        sf_resp_free(&r);
    return st;
}

static long long job_total(void)
{
    sf_rq o = {.bearer = A->admin_token};
    sf_resp r;
    http("GET", "/api/jobs", &o, &r);
    SF_EXPECT(&r, 200);
    long long n = jint(r.json, "total");
    sf_resp_free(&r);
    return n;
}

/* Polls GET /api/jobs/ID until the job has ended; returns its JSON. */
static json_t *wait_job(long long id, const char *bearer)
{
    char path[64];
    snprintf(path, sizeof path, "/api/jobs/%lld", id);
    for (int i = 0; i < 1200; i++) {
        sf_rq o = {.bearer = bearer};
        sf_resp r;
        http("GET", path, &o, &r);
        SF_EXPECT(&r, 200);
        const char *code = jstr(json_object_get(r.json, "status"), "code");
        if (code && (!strncmp(code, "COMPLETED", 9) || !strcmp(code, "FAILED") ||
                     !strcmp(code, "USER_ABORTED"))) {
            json_t *j = json_incref(r.json);
            sf_resp_free(&r);
            return j;
        }
        sf_resp_free(&r);
        usleep(50000);
    }
    fail_msg("job %lld did not end within 60 s", id);
    return NULL;
}

static const char *status_code(json_t *job)
{
    return jstr(json_object_get(job, "status"), "code");
}

/* Files under the repository's scratch folder (uploads in flight). */
static int scratch_entries(void)
{
    return fx_count_entries(&A->f, "r/tmp");
}

/* ---- tests ------------------------------------------------------------------------------------
 */

/* Options of `bulkrepo serve` that make no server: a usage error (2), nothing
 * listens (timeout's 124 if one did). */
static void test_serve_options(void **state)
{
    (void)state;
    static const char *const bad[] = {"--max-upload -1",
                                      "--max-upload 0",
                                      "--max-upload 12X",
                                      "--max-upload 1001G",
                                      "--max-upload 99999999999999999999",
                                      "--max-upload ''",
                                      "--session-ttl 59",
                                      "--session-ttl 31622401",
                                      "--session-ttl 99999999999999999999",
                                      "--session-ttl 1h",
                                      "--workers 0",
                                      "--workers 65",
                                      "--webhook ftp://example.org/",
                                      "--listen nonsense",
                                      "--listen 127.0.0.1:99999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        SH(&A->f, 2, "timeout 10 \"$BR\" --repo r serve --listen 127.0.0.1:0 %s", bad[i]);
        char opt[32];
        snprintf(opt, sizeof opt, "%.*s", (int)strcspn(bad[i], " "), bad[i]);
        assert_contains(A->f.err, opt); /* the message names the option */
    }
    RUN(&A->f, 0, "serve --help");
    assert_contains(A->f.out, "--max-upload");
}

static void test_health_and_static(void **state)
{
    (void)state;
    sf_resp r;
    http("GET", "/api/health", NULL, &r);
    SF_EXPECT(&r, 200);
    assert_string_equal(jstr(r.json, "status"), "ok");
    assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
    sf_resp_free(&r);

    http("GET", "/", NULL, &r);
    SF_EXPECT(&r, 200);
    assert_contains(header(&r, "Content-Type"), "text/html");
    assert_contains(header(&r, "Content-Security-Policy"), "default-src 'self'");
    assert_string_equal(header(&r, "X-Frame-Options"), "DENY");
    assert_string_equal(header(&r, "X-Content-Type-Options"), "nosniff");
    assert_contains(r.body, "<html");
    sf_resp_free(&r);
    /* The UI's script and style sheet, when web/ has them, with their types. */
    http("GET", "/app.js", NULL, &r);
    if (r.status == 200) assert_contains(header(&r, "Content-Type"), "text/javascript");
    sf_resp_free(&r);
    http("GET", "/style.css", NULL, &r);
    if (r.status == 200) assert_contains(header(&r, "Content-Type"), "text/css");
    sf_resp_free(&r);
    http("GET", "/no-such-page.html", NULL, &r);
    SF_EXPECT(&r, 404);
    sf_resp_free(&r);
    http("POST", "/", NULL, &r);
    SF_EXPECT(&r, 405);
    sf_resp_free(&r);
}

static void test_login(void **state)
{
    (void)state;
    sf_rq ok = {.json = "{\"username\":\"manager\",\"password\":\"manager-password\"}"};
    sf_resp r;
    http("POST", "/api/login", &ok, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(strlen(jstr(r.json, "token")), 43);
    assert_int_equal(strlen(jstr(r.json, "csrf")), 43);
    assert_string_equal(jstr(r.json, "username"), "manager");
    assert_string_equal(json_string_value(json_array_get(json_object_get(r.json, "roles"), 0)),
                        "REPOSITORY_MANAGER");
    const char *cookie = header(&r, "Set-Cookie");
    assert_non_null(cookie);
    char want[128];
    snprintf(want, sizeof want, "bulkrepo_session=%s;", jstr(r.json, "token"));
    assert_contains(cookie, want);
    assert_contains(cookie, "HttpOnly");
    assert_contains(cookie, "SameSite=Strict");
    assert_contains(cookie, "Path=/");
    sf_resp_free(&r);

    /* Wrong password and unknown user: the same 401 and the same body. */
    sf_rq wrong = {.json = "{\"username\":\"manager\",\"password\":\"not-the-password\"}"};
    sf_rq unknown = {.json = "{\"username\":\"nobody\",\"password\":\"not-the-password\"}"};
    sf_resp a, b;
    http("POST", "/api/login", &wrong, &a);
    http("POST", "/api/login", &unknown, &b);
    SF_EXPECT(&a, 401);
    SF_EXPECT(&b, 401);
    assert_string_equal(a.body, b.body);
    assert_null(header(&a, "Set-Cookie"));
    assert_not_contains(b.body, "nobody");
    sf_resp_free(&a);
    sf_resp_free(&b);

    /* Malformed bodies: 400 with a message. */
    const char *bad[] = {"{\"username\":", "[1,2]", "{\"username\":\"manager\"}",
                         "{\"username\":1,\"password\":\"x\"}", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_rq o = {.json = bad[i]};
        http("POST", "/api/login", &o, &r);
        SF_EXPECT(&r, 400);
        assert_non_null(jstr(r.json, "error"));
        sf_resp_free(&r);
    }
    /* Not JSON at all (a cross-site form could send this). */
    sf_rq form_body = {.raw = "username=manager&password=manager-password",
                       .raw_len = 42,
                       .ctype = "application/x-www-form-urlencoded"};
    http("POST", "/api/login", &form_body, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    /* Over the 64 KB cap: 413. */
    size_t n = 100 * 1024;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = 0;
    sf_rq o = {.json = big};
    http("POST", "/api/login", &o, &r);
    SF_EXPECT(&r, 413);
    sf_resp_free(&r);
    free(big);
}

static void test_auth_required(void **state)
{
    (void)state;
    static const char *const paths[] = {"/api/jobs",         "/api/me",    "/api/job-types",
                                        "/api/jobs/1",       "/api/items", "/api/collections",
                                        "/api/jobs/1/events"};
    sf_resp r;
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http("GET", paths[i], NULL, &r);
        SF_EXPECT(&r, 401);
        assert_non_null(jstr(r.json, "error"));
        sf_resp_free(&r);
    }
    sf_rq bogus = {.bearer = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    http("GET", "/api/jobs", &bogus, &r);
    SF_EXPECT(&r, 401);
    sf_resp_free(&r);
    sf_rq bogus_cookie = {.cookie = "bulkrepo_session=nope"};
    http("GET", "/api/me", &bogus_cookie, &r);
    SF_EXPECT(&r, 401);
    sf_resp_free(&r);
    /* An upload without credentials is refused before it is read. */
    long long id;
    saf_zip("noauth.zip", 1, 0);
    assert_int_equal(
        submit(NULL, (const char *[]){"type", "import-saf", NULL}, "noauth.zip", NULL, &id, NULL),
        401);

    /* API token (from `bulkrepo user token`). */
    sf_rq tok = {.bearer = A->manager_token};
    http("GET", "/api/me", &tok, &r);
    SF_EXPECT(&r, 200);
    assert_string_equal(jstr(r.json, "username"), "manager");
    assert_true(json_is_null(json_object_get(r.json, "csrf")));
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(r.json, "role_labels"), 0)),
        "Repository Manager");
    sf_resp_free(&r);
    /* Session cookie: /api/me gives the session's CSRF token. */
    session s;
    login("manager", "manager-password", &s);
    sf_rq ck = {.cookie = s.cookie};
    http("GET", "/api/me", &ck, &r);
    SF_EXPECT(&r, 200);
    assert_string_equal(jstr(r.json, "csrf"), s.csrf);
    sf_resp_free(&r);
    /* The login token works as a bearer too. */
    sf_rq lt = {.bearer = s.token};
    http("GET", "/api/jobs", &lt, &r);
    SF_EXPECT(&r, 200);
    sf_resp_free(&r);
}

static void test_csrf_and_logout(void **state)
{
    (void)state;
    session s;
    login("admin", "admin-password", &s);
    sf_resp r;
    sf_rq no_header = {.cookie = s.cookie};
    http("POST", "/api/logout", &no_header, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    sf_rq wrong = {.cookie = s.cookie, .csrf = "0123456789012345678901234567890123456789012"};
    http("POST", "/api/logout", &wrong, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    /* Still logged in after the refused attempts. */
    http("GET", "/api/me", &no_header, &r);
    SF_EXPECT(&r, 200);
    sf_resp_free(&r);

    /* A cookie upload without the token creates no job; with the form field it does. */
    saf_zip("csrf.zip", 1, 0);
    long long before = job_total(), id;
    const char *kv[] = {"type", "import-saf", "collection", A->f.coll, NULL};
    assert_int_equal(submit(&no_header, kv, "csrf.zip", NULL, &id, NULL), 403);
    assert_int_equal(job_total(), before);
    assert_int_equal(scratch_entries(), 0);
    const char *kv2[] = {"type", "import-saf", "collection", A->f.coll, "csrf", s.csrf, NULL};
    assert_int_equal(submit(&no_header, kv2, "csrf.zip", NULL, &id, NULL), 201);
    json_decref(wait_job(id, A->admin_token));
    sf_rq hdr = {.cookie = s.cookie, .csrf = s.csrf};
    assert_int_equal(submit(&hdr, kv, "csrf.zip", NULL, &id, NULL), 201);
    json_decref(wait_job(id, A->admin_token));
    /* Bearer requests need no CSRF token. */
    sf_rq bearer = {.bearer = A->admin_token};
    assert_int_equal(submit(&bearer, kv, "csrf.zip", NULL, &id, NULL), 201);
    json_decref(wait_job(id, A->admin_token));

    http("POST", "/api/logout", &hdr, &r);
    SF_EXPECT(&r, 200);
    assert_contains(header(&r, "Set-Cookie"), "Max-Age=0");
    sf_resp_free(&r);
    http("GET", "/api/me", &no_header, &r);
    SF_EXPECT(&r, 401);
    sf_resp_free(&r);
}

/* The first job type the table lists as not implemented. */
static int first_unbuilt(void *ctx, const br_job_type *t)
{
    if (t->implemented) return 0;
    snprintf(ctx, 32, "%s", t->type);
    return 1;
}

static int has_type(json_t *types, const char *type)
{
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t) if (!strcmp(jstr(t, "type"), type)) return 1;
    return 0;
}

static void test_roles(void **state)
{
    (void)state;
    sf_resp r;
    sf_rq buyer = {.bearer = A->buyer_token}, manager = {.bearer = A->manager_token},
          admin = {.bearer = A->admin_token};
    /* A Purchasing Operator may run no job type of this table. */
    http("GET", "/api/job-types", &buyer, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "job_types")), 0);
    sf_resp_free(&r);
    http("GET", "/api/job-types", &manager, &r);
    SF_EXPECT(&r, 200);
    json_t *types = json_object_get(r.json, "job_types");
    assert_true(has_type(types, "import-saf"));
    assert_false(has_type(types, "update-set"));     /* GSA only (seed 001) */
    assert_false(has_type(types, "export-esploro")); /* GSA only (seed 001) */
    sf_resp_free(&r);
    http("GET", "/api/job-types", &admin, &r);
    assert_true(has_type(json_object_get(r.json, "job_types"), "update-set"));
    sf_resp_free(&r);

    /* 403, and no job is created. */
    saf_zip("roles.zip", 1, 0);
    long long before = job_total(), id;
    const char *kv[] = {"type", "import-saf", "collection", A->f.coll, NULL};
    sf_resp out;
    assert_int_equal(submit(&buyer, kv, "roles.zip", NULL, &id, &out), 403);
    assert_contains(jstr(out.json, "error"), "roles");
    sf_resp_free(&out);
    const char *kv_exp[] = {"type", "export-esploro", "collection", A->f.coll, NULL};
    assert_int_equal(submit(&manager, kv_exp, NULL, NULL, &id, NULL), 403);
    assert_int_equal(job_total(), before);
    assert_int_equal(scratch_entries(), 0);
    /* Every job the table lists is built (issue 11), so none answers 501 "not implemented". */
    char unbuilt[32] = "";
    br_job_type_list(first_unbuilt, unbuilt);
    assert_string_equal(unbuilt, "");
    assert_int_equal(job_total(), before);

    /* The buyer sees no job; the manager sees import jobs and can open them. */
    assert_int_equal(submit(&manager, kv, "roles.zip", NULL, &id, NULL), 201);
    json_decref(wait_job(id, A->manager_token));
    http("GET", "/api/jobs", &buyer, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 0);
    sf_resp_free(&r);
    char path[64];
    snprintf(path, sizeof path, "/api/jobs/%lld", id);
    http("GET", path, &buyer, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/jobs/%lld/cancel", id);
    http("POST", path, &buyer, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    http("GET", "/api/jobs?category=import", &manager, &r);
    SF_EXPECT(&r, 200);
    assert_true(json_array_size(json_object_get(r.json, "jobs")) > 0);
    sf_resp_free(&r);
}

static void test_saf_import_flow(void **state)
{
    (void)state;
    saf_zip("three.zip", 3, 0);
    sf_rq admin = {.bearer = A->admin_token};
    long long id;
    const char *kv[] = {"type", "import-saf",   "collection", A->f.coll,
                        "name", "Three theses", NULL};
    sf_resp out;
    assert_int_equal(submit(&admin, kv, "three.zip", NULL, &id, &out), 201);
    sf_resp_free(&out);
    json_t *job = wait_job(id, A->admin_token);
    assert_string_equal(status_code(job), "COMPLETED_SUCCESS");
    assert_string_equal(jstr(job, "name"), "Three theses");
    assert_string_equal(jstr(job, "submitted_by"), "admin");
    assert_int_equal(jint(json_object_get(job, "counters"), "imported"), 3);
    assert_true(json_array_size(json_object_get(job, "files")) == 1);
    assert_string_equal(jstr(json_array_get(json_object_get(job, "files"), 0), "name"),
                        "three.zip");
    json_decref(job);
    assert_int_equal(scratch_entries(), 0); /* the upload moved into the job's folder */

    char path[128];
    sf_resp r;
    snprintf(path, sizeof path, "/api/jobs/%lld/records", id);
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 200);
    json_t *recs = json_object_get(r.json, "records");
    assert_int_equal(json_array_size(recs), 3);
    assert_string_equal(jstr(json_array_get(recs, 0), "outcome"), "imported");
    char handle[64];
    snprintf(handle, sizeof handle, "%s", jstr(json_array_get(recs, 0), "handle"));
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/jobs/%lld/records?outcome=invalid", id);
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 0);
    sf_resp_free(&r);
    /* Every journal outcome is a filter (seed 004's multi-matches included). */
    snprintf(path, sizeof path, "/api/jobs/%lld/records?outcome=multi-match", id);
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 0);
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/jobs/%lld/records?limit=1&offset=2", id);
    http("GET", path, &admin, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 1);
    assert_int_equal(jint(json_array_get(json_object_get(r.json, "records"), 0), "seq") >= 0, 1);
    sf_resp_free(&r);

    snprintf(path, sizeof path, "/api/jobs/%lld/events", id);
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 200);
    json_t *ev = json_object_get(r.json, "events");
    assert_true(json_array_size(ev) >= 2);
    assert_non_null(jstr(json_array_get(ev, 0), "description"));
    sf_resp_free(&r);

    snprintf(path, sizeof path, "/api/items?job=%lld", id);
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 3);
    assert_int_equal(jint(r.json, "total"), 3);
    assert_string_equal(jstr(json_array_get(json_object_get(r.json, "items"), 0), "title"),
                        "Valid item");
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/items/%s", handle); /* the handle's '/' stays */
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 200);
    assert_string_equal(jstr(r.json, "handle"), handle);
    assert_non_null(json_object_get(json_object_get(r.json, "metadata"), "dc.title"));
    sf_resp_free(&r);
    http("GET", "/api/items/123456789/999999", &admin, &r);
    SF_EXPECT(&r, 404);
    sf_resp_free(&r);
    http("GET", "/api/collections", &admin, &r);
    SF_EXPECT(&r, 200);
    json_t *c = json_array_get(json_object_get(r.json, "collections"), 0);
    assert_string_equal(jstr(c, "handle"), A->f.coll);
    assert_string_equal(jstr(c, "type"), "collection");
    assert_true(jint(c, "items") >= 3);
    sf_resp_free(&r);
    /* Filters of the monitor. */
    http("GET", "/api/jobs?status=COMPLETED_SUCCESS&user=admin", &admin, &r);
    SF_EXPECT(&r, 200);
    assert_true(json_array_size(json_object_get(r.json, "jobs")) >= 1);
    json_t *first = json_array_get(json_object_get(r.json, "jobs"), 0);
    assert_string_equal(jstr(json_object_get(first, "status"), "label"), "Completed Successfully");
    sf_resp_free(&r);
    http("GET", "/api/jobs?user=nobody", &admin, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "jobs")), 0);
    sf_resp_free(&r);
    http("GET", "/api/jobs?status=BOGUS", &admin, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
}

static void test_unimported_and_rerun(void **state)
{
    (void)state;
    sf_rq admin = {.bearer = A->admin_token};
    saf_zip("mixed.zip", 2, 2);
    long long id;
    const char *kv[] = {"type",         "import-saf", "collection", A->f.coll,
                        "skip_invalid", "true",       NULL};
    assert_int_equal(submit(&admin, kv, "mixed.zip", NULL, &id, NULL), 201);
    json_t *job = wait_job(id, A->admin_token);
    assert_string_equal(status_code(job), "COMPLETED_WITH_ERRORS");
    assert_int_equal(jint(json_object_get(job, "counters"), "not_imported"), 2);

    /* The monitor's list shows the report's counters (one derivation, the library's). */
    char path[128];
    sf_resp r;
    snprintf(path, sizeof path, "/api/jobs?limit=5000");
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 200);
    json_t *listed = NULL, *j;
    size_t i;
    json_array_foreach(json_object_get(r.json, "jobs"), i, j) if (jint(j, "id") == id) listed = j;
    assert_non_null(listed);
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(listed, "counters"), key, v)
    {
        json_t *want = json_object_get(json_object_get(job, "counters"), key);
        if (!json_equal(v, want)) print_error("counter %s differs from the report\n", key);
        assert_true(json_equal(v, want));
    }
    static const char *const progress[] = {"percent", "done", "total", "eta_seconds", "phase"};
    for (i = 0; i < sizeof progress / sizeof progress[0]; i++) {
        v = json_object_get(json_object_get(listed, "progress"), progress[i]);
        json_t *want = json_object_get(json_object_get(job, "progress"), progress[i]);
        if (!json_equal(v, want)) print_error("progress.%s differs from the report\n", progress[i]);
        assert_true(json_equal(v, want));
    }
    sf_resp_free(&r);
    json_decref(job);

    snprintf(path, sizeof path, "/api/jobs/%lld/unimported", id);
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 200);
    char want[128];
    snprintf(want, sizeof want, "attachment; filename=\"job-%lld-unimported.zip\"", id);
    assert_string_equal(header(&r, "Content-Disposition"), want);
    assert_string_equal(header(&r, "Content-Type"), "application/zip");
    assert_true(r.len > 4 && !memcmp(r.body, "PK", 2));
    tu_write_bytes(A->f.dir, "unimported.zip", r.body, r.len);
    sf_resp_free(&r);
    SH(&A->f, 0, "unzip -l unimported.zip");
    assert_contains(A->f.out, "item_2/");
    assert_contains(A->f.out, "item_3/");
    assert_not_contains(A->f.out, "item_0/");
    assert_contains(A->f.out, "errors.txt");
    assert_int_equal(scratch_entries(), 0); /* the download left nothing behind */
    snprintf(path, sizeof path, "/api/jobs/%lld/unimported?page=2", id);
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 404);
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/jobs/%lld/unimported?page=x", id);
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);

    /* Rerun is for non-data failures only; cancel only for jobs not ended. */
    snprintf(path, sizeof path, "/api/jobs/%lld/rerun", id);
    http("POST", path, &admin, &r);
    SF_EXPECT(&r, 409);
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/jobs/%lld/cancel", id);
    http("POST", path, &admin, &r);
    SF_EXPECT(&r, 409);
    sf_resp_free(&r);

    /* An all-invalid batch without skip_invalid fails as a data error: not rerun. */
    const char *kv2[] = {"type", "import-saf", "collection", A->f.coll, NULL};
    assert_int_equal(submit(&admin, kv2, "mixed.zip", NULL, &id, NULL), 201);
    job = wait_job(id, A->admin_token);
    assert_string_equal(status_code(job), "FAILED");
    assert_string_equal(jstr(job, "failure"), "data");
    json_decref(job);
    snprintf(path, sizeof path, "/api/jobs/%lld/rerun", id);
    http("POST", path, &admin, &r);
    SF_EXPECT(&r, 409);
    assert_contains(jstr(r.json, "error"), "fix");
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/jobs/%lld/unimported", id);
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 200);
    sf_resp_free(&r);
}

static void test_cancel_and_resume(void **state)
{
    (void)state;
    /* A batch large enough to be cancelled while it runs. */
    fx_gen(&A->f, "big", 1000);
    SH(&A->f, 0, "cd big && zip -qr ../big.zip . && cd .. && rm -rf big");
    sf_rq admin = {.bearer = A->admin_token};
    long long id;
    const char *kv[] = {"type", "import-saf", "collection", A->f.coll, NULL};
    assert_int_equal(submit(&admin, kv, "big.zip", NULL, &id, NULL), 201);
    char path[128];
    sf_resp r;
    snprintf(path, sizeof path, "/api/jobs/%lld/cancel", id);
    http("POST", path, &admin, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(jint(r.json, "id"), id);
    sf_resp_free(&r);
    json_t *job = wait_job(id, A->admin_token);
    assert_string_equal(status_code(job), "USER_ABORTED");
    long long imported = jint(json_object_get(job, "counters"), "imported");
    json_decref(job);
    assert_true(imported < 1000);
    /* Resume completes exactly the missing records (same job). */
    snprintf(path, sizeof path, "/api/jobs/%lld/resume", id);
    http("POST", path, &admin, &r);
    SF_EXPECT(&r, 200);
    sf_resp_free(&r);
    job = wait_job(id, A->admin_token);
    if (strcmp(status_code(job), "COMPLETED_SUCCESS")) {
        char *dump = json_dumps(job, JSON_INDENT(1));
        print_error("%s\n", dump);
        free(dump);
        snprintf(path, sizeof path, "/api/jobs/%lld/events", id);
        http("GET", path, &admin, &r);
        print_error("%s\n", r.body);
    }
    assert_string_equal(status_code(job), "COMPLETED_SUCCESS");
    json_t *c = json_object_get(job, "counters");
    assert_int_equal(jint(c, "imported") + jint(c, "skipped"), 1000);
    json_decref(job);
}

static void test_answers_while_importing(void **state)
{
    (void)state;
    fx_gen(&A->f, "busy", 1200);
    SH(&A->f, 0, "cd busy && zip -qr ../busy.zip . && cd .. && rm -rf busy");
    sf_rq admin = {.bearer = A->admin_token};
    long long id;
    const char *kv[] = {"type", "import-saf", "collection", A->f.coll, NULL};
    assert_int_equal(submit(&admin, kv, "busy.zip", NULL, &id, NULL), 201);
    double worst = 0;
    int running_seen = 0;
    char path[64];
    snprintf(path, sizeof path, "/api/jobs/%lld", id);
    for (int i = 0; i < 2000; i++) {
        double t0 = fx_now();
        sf_resp r;
        http("GET", "/api/jobs?limit=50", &admin, &r);
        SF_EXPECT(&r, 200);
        sf_resp_free(&r);
        http("GET", path, &admin, &r);
        SF_EXPECT(&r, 200);
        double dt = fx_now() - t0;
        if (dt > worst) worst = dt;
        const char *code = status_code(r.json);
        if (!strcmp(code, "RUNNING")) running_seen++;
        int ended = !strncmp(code, "COMPLETED", 9) || !strcmp(code, "FAILED");
        sf_resp_free(&r);
        if (ended) break;
        usleep(20000);
    }
    print_message("slowest pair of requests during the import: %.3f s (%d while RUNNING)\n", worst,
                  running_seen);
    assert_true(running_seen > 0);
    assert_true(worst < 2.0);
    json_decref(wait_job(id, A->admin_token));
}

static void test_oversized_upload(void **state)
{
    (void)state;
    sf_rq admin = {.bearer = A->admin_token};
    size_t n = 3 * MAX_UPLOAD;
    char *big = malloc(n);
    memset(big, 'x', n);
    tu_write_bytes(A->f.dir, "big.bin", big, n);
    long long before = job_total(), id;
    /* With a Content-Length: refused before the body is read. */
    const char *kv[] = {"type", "import-saf", "collection", A->f.coll, NULL};
    sf_resp out;
    assert_int_equal(submit(&admin, kv, "big.bin", "big.zip", &id, &out), 413);
    assert_non_null(jstr(out.json, "error"));
    sf_resp_free(&out);
    /* Chunked (no Content-Length): writing stops at the cap, the partial file goes. */
    static const char head[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nimport-saf\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.zip\"\r\n"
        "Content-Type: application/zip\r\n\r\n";
    size_t hl = strlen(head);
    char *body = malloc(hl + n + 16);
    memcpy(body, head, hl);
    memcpy(body + hl, big, n);
    memcpy(body + hl + n, "\r\n--XyZ--\r\n", 11);
    sf_rq chunked = {.bearer = A->admin_token,
                     .raw = body,
                     .raw_len = hl + n + 11,
                     .ctype = "multipart/form-data; boundary=XyZ",
                     .chunked = 1};
    sf_resp r;
    http("POST", "/api/jobs", &chunked, &r);
    SF_EXPECT(&r, 413);
    sf_resp_free(&r);
    free(body);
    free(big);
    assert_int_equal(job_total(), before);
    assert_int_equal(scratch_entries(), 0);
    /* Just under the cap is fine (and fails later as a bad zip, as a job). */
    char *small = malloc(MAX_UPLOAD - 1000);
    memset(small, 'y', MAX_UPLOAD - 1000);
    tu_write_bytes(A->f.dir, "small.bin", small, MAX_UPLOAD - 1000);
    free(small);
    assert_int_equal(submit(&admin, kv, "small.bin", "small.zip", &id, NULL), 201);
    json_t *job = wait_job(id, A->admin_token);
    assert_string_equal(status_code(job), "FAILED");
    json_decref(job);
}

static void test_malformed_requests(void **state)
{
    (void)state;
    sf_rq admin = {.bearer = A->admin_token};
    sf_resp r;
    long long before = job_total();
    /* Multipart without a boundary, and a body that is not multipart. */
    sf_rq nob = {
        .bearer = A->admin_token, .raw = "abc", .raw_len = 3, .ctype = "multipart/form-data"};
    http("POST", "/api/jobs", &nob, &r);
    SF_EXPECT(&r, 400);
    assert_non_null(jstr(r.json, "error"));
    sf_resp_free(&r);
    sf_rq garbage = {.bearer = A->admin_token,
                     .raw = "this is not multipart at all",
                     .raw_len = 28,
                     .ctype = "multipart/form-data; boundary=XyZ"};
    http("POST", "/api/jobs", &garbage, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    sf_rq json = {.bearer = A->admin_token, .json = "{\"type\":\"import-saf\"}"};
    http("POST", "/api/jobs", &json, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    /* Fields that make no job. */
    long long id;
    saf_zip("m.zip", 1, 0);
    const char *no_type[] = {"collection", A->f.coll, NULL};
    assert_int_equal(submit(&admin, no_type, "m.zip", NULL, &id, NULL), 400);
    const char *bad_type[] = {"type", "import-nonsense", NULL};
    assert_int_equal(submit(&admin, bad_type, "m.zip", NULL, &id, NULL), 400);
    const char *no_file[] = {"type", "import-saf", NULL};
    assert_int_equal(submit(&admin, no_file, NULL, NULL, &id, NULL), 400);
    const char *bad_coll[] = {"type", "import-saf", "collection", "123456789/999", NULL};
    assert_int_equal(submit(&admin, bad_coll, "m.zip", NULL, &id, NULL), 400);
    const char *bad_bool[] = {"type", "import-saf", "skip_invalid", "perhaps", NULL};
    assert_int_equal(submit(&admin, bad_bool, "m.zip", NULL, &id, NULL), 400);
    const char *mismatch[] = {"type", "import-saf", "format", "esploro", NULL};
    assert_int_equal(submit(&admin, mismatch, "m.zip", NULL, &id, NULL), 400);
    assert_int_equal(job_total(), before);
    assert_int_equal(scratch_entries(), 0);

    /* Routes, ids, methods, query arguments. */
    http("GET", "/api/nothing-here", &admin, &r);
    SF_EXPECT(&r, 404);
    assert_non_null(jstr(r.json, "error"));
    sf_resp_free(&r);
    http("GET", "/api/jobs/abc", &admin, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    http("GET", "/api/jobs/0/events", &admin, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    http("GET", "/api/jobs/999999", &admin, &r);
    SF_EXPECT(&r, 404);
    sf_resp_free(&r);
    http("DELETE", "/api/jobs", &admin, &r);
    SF_EXPECT(&r, 405);
    assert_contains(header(&r, "Allow"), "POST");
    sf_resp_free(&r);
    http("GET", "/api/jobs/1/records?outcome=eaten", &admin, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    http("GET", "/api/jobs?limit=-1", &admin, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    http("GET", "/api/items?offset=ten", &admin, &r); /* every listing's paging */
    SF_EXPECT(&r, 400);
    assert_contains(jstr(r.json, "error"), "offset");
    sf_resp_free(&r);
    http("GET", "/api/items?job=zero", &admin, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    http("GET", "/api/items?collection=123456789/999", &admin, &r);
    SF_EXPECT(&r, 404);
    sf_resp_free(&r);
}

static void test_path_traversal(void **state)
{
    (void)state;
    sf_rq admin = {.bearer = A->admin_token};
    static const char *const paths[] = {"/../../etc/passwd",
                                        "/api/../../etc/passwd",
                                        "/%2e%2e/%2e%2e/etc/passwd",
                                        "/api/items/..%2f..%2fetc%2fpasswd",
                                        "/api/items/123456789/../../x",
                                        "/app.js/..",
                                        "/./index.html",
                                        "/api/jobs/1/..",
                                        "/..\\..\\etc\\passwd",
                                        "/api/items/a%00b"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        sf_resp r;
        http("GET", paths[i], &admin, &r);
        if (r.status != 400 && r.status != 404) print_error("%s -> %ld\n", paths[i], r.status);
        assert_true(r.status == 400 || r.status == 404);
        assert_not_contains(r.body, "root:");
        sf_resp_free(&r);
    }
    /* Upload file names that are paths. */
    saf_zip("t.zip", 1, 0);
    long long before = job_total(), id;
    const char *kv[] = {"type", "import-saf", "collection", A->f.coll, NULL};
    static const char *const names[] = {"../evil.zip", "../../../../tmp/evil.zip",
                                        "a/b.zip",     "..\\evil.zip",
                                        ".hidden.zip", "/etc/evil.zip"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        sf_resp out;
        assert_int_equal(submit(&admin, kv, "t.zip", names[i], &id, &out), 400);
        assert_contains(jstr(out.json, "error"), "name");
        sf_resp_free(&out);
    }
    assert_int_equal(job_total(), before);
    assert_false(fx_exists(&A->f, "r/evil.zip"));
    assert_false(fx_exists(&A->f, "evil.zip"));
    assert_int_equal(scratch_entries(), 0);
}

#define ECSV_UNIT "01BR_INST___lib"
#define ECSV_HEADER                                                                                \
    ",group_id,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,CREATOR_FAMNAME,"     \
    "CREATOR_GIVNAME\n"

static void test_esploro_upload(void **state)
{
    (void)state;
    sf_rq admin = {.bearer = A->admin_token};
    sf_resp r;
    http("GET", "/api/job-types", &admin, &r);
    json_t *types = json_object_get(r.json, "job_types"), *t;
    size_t i;
    int implemented = 0;
    json_array_foreach(types, i, t) if (!strcmp(jstr(t, "type"), "import-esploro")) implemented =
        json_is_true(json_object_get(t, "implemented"));
    sf_resp_free(&r);
    assert_true(implemented);
    /* ASSET_AFFILIATION is mandatory and must name a known organisational unit. */
    RUN(&A->f, 0, "orgunit add " ECSV_UNIT " Library");
    fx_write(&A->f, "assets.csv",
             ECSV_HEADER "ASSET,a1,Restoring fish habitat,publication.journalArticle," ECSV_UNIT
                         ",20211018,,\n"
                         "CREATOR,a1,,,,,Smith,Jane\n"
                         "ASSET,a2,Counting birds,publication.journalArticle," ECSV_UNIT ",2020,,\n"
                         "CREATOR,a2,,,,,Doe,John\n");
    long long id;
    const char *kv[] = {"format", "esploro", "collection", A->f.coll, NULL};
    sf_resp out;
    long st = submit(&admin, kv, "assets.csv", NULL, &id, &out);
    if (st != 201) print_error("%s\n", out.body);
    sf_resp_free(&out);
    assert_int_equal(st, 201);
    json_t *job = wait_job(id, A->admin_token);
    if (strcmp(status_code(job), "COMPLETED_SUCCESS")) {
        char *s = json_dumps(job, JSON_INDENT(2));
        print_error("%s\n", s);
        free(s);
    }
    assert_string_equal(jstr(job, "type"), "import-esploro");
    assert_string_equal(status_code(job), "COMPLETED_SUCCESS");
    assert_int_equal(jint(json_object_get(job, "counters"), "imported"), 2);
    json_decref(job);
    char path[64];
    snprintf(path, sizeof path, "/api/items?job=%lld", id);
    http("GET", path, &admin, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    sf_resp_free(&r);
}

/* ---- issue 12: hostile input and access ------------------------------------------------------ */

#define SSRF_UNIT "01BR_INST___ssrf"

/* An Esploro import naming a loopback server: the server sees no request,
 * neither directly nor through a redirect from an allowlisted one; an
 * allowlisted server (the repository's fetch-allow.txt) still works. */
static void test_ssrf(void **state)
{
    (void)state;
    sf_rq admin = {.bearer = A->admin_token};
    RUN(&A->f, 0, "orgunit add " SSRF_UNIT " SSRF");
    hf_server *hidden = hf_start_unlisted(), *open = hf_start_unlisted();
    assert_non_null(hidden);
    assert_non_null(open);
    char to[64], csv[4096];
    snprintf(to, sizeof to, "/to/%u/ok/secret.txt", hidden->port);
    snprintf(
        csv, sizeof csv,
        ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,FILE_FILEURL\n"
        "ASSET,direct,Direct,dataset.dataset," SSRF_UNIT ",2020,\nFILE,direct,,,,,%s\n"
        "ASSET,byname,By name,dataset.dataset," SSRF_UNIT
        ",2020,\nFILE,byname,,,,,http://localhost:%u/ok/secret.txt\n"
        "ASSET,redirected,Redirected,dataset.dataset," SSRF_UNIT ",2020,\nFILE,redirected,,,,,%s\n"
        "ASSET,allowed,Allowed,dataset.dataset," SSRF_UNIT ",2020,\nFILE,allowed,,,,,%s\n",
        hf_url(hidden, "/ok/secret.txt"), hidden->port, hf_url(open, to),
        hf_url(open, "/ok/public.txt"));
    fx_write(&A->f, "ssrf.csv", csv);
    char allow[64];
    snprintf(allow, sizeof allow, "127.0.0.1:%u\n", open->port);
    fx_write(&A->f, "r/fetch-allow.txt", allow);
    long long id;
    const char *kv[] = {"format", "esploro", "collection", A->f.coll, "skip_invalid", "true", NULL};
    sf_resp out;
    long st = submit(&admin, kv, "ssrf.csv", NULL, &id, &out);
    if (st != 201) print_error("%s\n", out.body);
    sf_resp_free(&out);
    assert_int_equal(st, 201);
    json_t *job = wait_job(id, A->admin_token);
    json_t *c = json_object_get(job, "counters");
    assert_int_equal(jint(c, "imported"), 1);
    assert_int_equal(jint(c, "failed"), 3);
    json_decref(job);
    assert_int_equal(hidden->requests, 0);
    assert_int_equal(open->requests, 2); /* the allowed file and the redirect */
    char path[128];
    snprintf(path, sizeof path, "/api/jobs/%lld/records?outcome=failed", id);
    sf_resp r;
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 200);
    json_t *recs = json_object_get(r.json, "records"), *rec;
    size_t i;
    char port[16];
    snprintf(port, sizeof port, ":%u", hidden->port);
    json_array_foreach(recs, i, rec)
    {
        const char *msg = jstr(rec, "message");
        assert_contains(msg, "not allowed");
        assert_not_contains(msg, "Connection refused");
    }
    assert_int_equal(json_array_size(recs), 3);
    sf_resp_free(&r);
    /* The job's events name no address or port of the refused connection. */
    snprintf(path, sizeof path, "/api/jobs/%lld/events", id);
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 200);
    assert_not_contains(r.body, "Connection refused");
    assert_not_contains(r.body, "Failed to connect");
    sf_resp_free(&r);
    unlink(fx_path(&A->f, "r/fetch-allow.txt"));
    hf_stop(open);
    hf_stop(hidden);
}

/* Files under the repository's tmp/ and uploads/. */
static int disk_entries(void)
{
    SH(&A->f, 0, "find r/tmp r/uploads -mindepth 1 2>/dev/null | wc -l");
    return atoi(A->f.out);
}

/* Reading items and collections needs a role of data/read_access.tsv; drafts
 * only for the roles that manage them; a refused upload writes nothing. */
static void test_read_access(void **state)
{
    (void)state;
    char um_token[64], rm_token[64];
    sf_add_user(&A->f, "usermgr", "User Manager", "usermgr-password");
    sf_add_user(&A->f, "researchers", "Researcher Manager", "researchers-password");
    sf_token(&A->f, "usermgr", um_token);
    sf_token(&A->f, "researchers", rm_token);
    sf_rq um = {.bearer = um_token}, rm = {.bearer = rm_token}, admin = {.bearer = A->admin_token};
    sf_resp r;
    static const char *const reads[] = {"/api/items", "/api/collections", "/api/items/123456789/1"};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        http("GET", reads[i], &um, &r);
        SF_EXPECT(&r, 403);
        assert_contains(jstr(r.json, "error"), "roles");
        sf_resp_free(&r);
    }
    /* The Esploro import of test_esploro_upload made drafts: listed for the
     * administrator, not for a Researcher Manager (who reads archived items). */
    http("GET", "/api/items?limit=5000", &admin, &r);
    SF_EXPECT(&r, 200);
    json_t *items = json_object_get(r.json, "items"), *it;
    size_t i, drafts = 0;
    char draft[64] = "";
    json_array_foreach(items, i, it) if (strcmp(jstr(it, "status"), "archived"))
    {
        drafts++;
        snprintf(draft, sizeof draft, "%s", jstr(it, "handle"));
    }
    long long total = jint(r.json, "total");
    sf_resp_free(&r);
    assert_true(drafts > 0);
    http("GET", "/api/items?limit=5000", &rm, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(jint(r.json, "total"), total - (long long)drafts);
    json_array_foreach(json_object_get(r.json, "items"), i, it)
        assert_string_equal(jstr(it, "status"), "archived");
    sf_resp_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/api/items/%s", draft);
    http("GET", path, &rm, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    http("GET", path, &admin, &r);
    SF_EXPECT(&r, 200);
    sf_resp_free(&r);
    http("GET", "/api/collections", &rm, &r);
    SF_EXPECT(&r, 200);
    sf_resp_free(&r);

    /* Uploads refused by role: 403 and nothing on disk. */
    saf_zip("refused.zip", 2, 0);
    long long before = job_total(), id;
    int files = disk_entries();
    const char *kv[] = {"type", "import-saf", "collection", A->f.coll, NULL};
    sf_resp out;
    assert_int_equal(submit(&um, kv, "refused.zip", NULL, &id, &out), 403);
    sf_resp_free(&out);
    sf_rq mgr = {.bearer = A->manager_token};
    const char *del[] = {"type", "delete-saf", NULL}; /* not a Repository Manager's */
    assert_int_equal(submit(&mgr, del, "refused.zip", NULL, &id, &out), 403);
    assert_contains(jstr(out.json, "error"), "delete-saf");
    sf_resp_free(&out);
    sf_rq mgr_q = mgr;
    CURL *c;
    curl_mime *m = form(&c, (const char *[]){"collection", A->f.coll, NULL}, "file",
                        fx_path(&A->f, "refused.zip"), NULL);
    mgr_q.mime = m;
    http("POST", "/api/jobs?type=delete-saf", &mgr_q, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    curl_mime_free(m);
    curl_easy_cleanup(c);
    /* The file before the fields that name the job: 400, nothing written. */
    m = form(&c, NULL, "file", fx_path(&A->f, "refused.zip"), NULL);
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, "type");
    curl_mime_data(p, "import-saf", CURL_ZERO_TERMINATED);
    sf_rq file_first = {.bearer = A->admin_token, .mime = m};
    http("POST", "/api/jobs", &file_first, &r);
    SF_EXPECT(&r, 400);
    assert_contains(jstr(r.json, "error"), "before the file");
    sf_resp_free(&r);
    curl_mime_free(m);
    curl_easy_cleanup(c);
    /* A file name that is not UTF-8. */
    assert_int_equal(submit(&admin, kv, "refused.zip", "caf\xe9.zip", &id, &out), 400);
    assert_contains(jstr(out.json, "error"), "UTF-8");
    sf_resp_free(&out);
    assert_int_equal(job_total(), before);
    assert_int_equal(disk_entries(), files);
    /* The query's type lets a permitted upload through as before. */
    m = form(&c, (const char *[]){"collection", A->f.coll, NULL}, "file",
             fx_path(&A->f, "refused.zip"), NULL);
    sf_rq ok = {.bearer = A->manager_token, .mime = m};
    http("POST", "/api/jobs?type=import-saf", &ok, &r);
    SF_EXPECT(&r, 201);
    json_decref(wait_job(jint(r.json, "id"), A->admin_token));
    sf_resp_free(&r);
    curl_mime_free(m);
    curl_easy_cleanup(c);
}

/* No absolute path of the server's disk in the API's answers about jobs. */
static void test_no_server_paths(void **state)
{
    (void)state;
    sf_rq admin = {.bearer = A->admin_token};
    /* A job run from the CLI, with a source folder outside the repository. */
    fx_gen(&A->f, "cli_saf", 2);
    RUN(&A->f, 0, "import -a -s cli_saf -c %s -m cli.map", A->f.coll);
    sf_resp r;
    http("GET", "/api/jobs?limit=5000", &admin, &r);
    SF_EXPECT(&r, 200);
    json_t *jobs = json_incref(json_object_get(r.json, "jobs")), *j;
    sf_resp_free(&r);
    size_t i;
    assert_true(json_array_size(jobs) > 3);
    json_array_foreach(jobs, i, j)
    {
        static const char *const tails[] = {"", "/events", "/records"};
        for (size_t k = 0; k < 3; k++) {
            char path[128];
            snprintf(path, sizeof path, "/api/jobs/%lld%s", jint(j, "id"), tails[k]);
            http("GET", path, &admin, &r);
            SF_EXPECT(&r, 200);
            if (strstr(r.body, A->f.dir)) print_error("%s: %s\n", path, r.body);
            assert_not_contains(r.body, A->f.dir);
            sf_resp_free(&r);
        }
    }
    json_decref(jobs);
}

/* A chunked body far over the cap: 413, not a reset. */
typedef struct feed {
    size_t left;
    int head_sent;
} feed;

static size_t feed_body(char *buf, size_t size, size_t n, void *ctx)
{
    feed *f = ctx;
    static const char head[] =
        "--XyZ\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\nimport-saf\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"huge.zip\"\r\n\r\n";
    size_t room = size * n;
    if (!f->head_sent) {
        f->head_sent = 1;
        memcpy(buf, head, sizeof head - 1);
        return sizeof head - 1;
    }
    size_t k = f->left < room ? f->left : room;
    memset(buf, 'z', k);
    f->left -= k;
    return k;
}

static void test_chunked_over_cap(void **state)
{
    (void)state;
    CURL *c = curl_easy_init();
    char url[256];
    snprintf(url, sizeof url, "%s/api/jobs", A->serve.url);
    struct curl_slist *h = NULL;
    char auth[128];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", A->admin_token);
    h = curl_slist_append(h, auth);
    h = curl_slist_append(h, "Content-Type: multipart/form-data; boundary=XyZ");
    h = curl_slist_append(h, "Transfer-Encoding: chunked");
    h = curl_slist_append(h, "Expect:");
    feed f = {(size_t)100 * 1000 * 1000, 0}; /* 100 MB against an 8 MB cap */
    sf_sink body = {0};
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, feed_body);
    curl_easy_setopt(c, CURLOPT_READDATA, &f);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sf_on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) print_error("curl: %s\n", curl_easy_strerror(rc));
    assert_int_equal(rc, CURLE_OK);
    assert_int_equal(status, 413);
    free(body.p);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    assert_int_equal(scratch_entries(), 0);
}

/* A second server on the same address fails clearly (exit 4), not silently
 * sharing the port. */
static void test_exclusive_listen(void **state)
{
    (void)state;
    SH(&A->f, 0, "\"$BR\" --repo r2 init");
    const char *hostport = A->serve.url + strlen("http://");
    SH(&A->f, 4, "timeout 20 \"$BR\" --repo r2 serve --listen %s", hostport);
    assert_contains(A->f.err, "cannot listen");
    sf_resp r;
    http("GET", "/api/health", NULL, &r);
    SF_EXPECT(&r, 200);
    assert_string_equal(jstr(r.json, "database"), "ok");
    sf_resp_free(&r);
}

/* PostgreSQL restarts under the server (every session ended): the next requests are answered
 * as before; while the database refuses connections, 503 with the reason, and the health
 * check says so; once it is back, 200 again, without restarting the server.  (The embedded
 * database has no server to lose: skipped there.) */
static void test_database_restart(void **state)
{
    (void)state;
    char url[1024];
    if (!tu_db_address(A->f.repo, url, sizeof url)) {
        print_message("[  SKIPPED ] the embedded database has no connection to lose\n");
        skip();
    }
    sf_rq o = {.bearer = A->admin_token};
    sf_resp r;
    assert_true(tpg_end_sessions(url) >= 1);
    http("GET", "/api/jobs", &o, &r);
    SF_EXPECT(&r, 200);
    sf_resp_free(&r);
    assert_int_equal(tpg_allow_connections(url, 0), 0);
    assert_true(tpg_end_sessions(url) >= 1);
    http("GET", "/api/jobs", &o, &r);
    int down = r.status;
    char body[256];
    snprintf(body, sizeof body, "%s", r.body ? r.body : "");
    sf_resp_free(&r);
    http("GET", "/api/health", NULL, &r);
    int health = r.status;
    sf_resp_free(&r);
    assert_int_equal(tpg_allow_connections(url, 1), 0); /* before any assertion can fail */
    assert_int_equal(down, 503);
    assert_contains(body, "cannot be reached");
    assert_int_equal(health, 503);
    http("GET", "/api/jobs", &o, &r);
    SF_EXPECT(&r, 200);
    sf_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serve_options),
        cmocka_unit_test(test_health_and_static),
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_auth_required),
        cmocka_unit_test(test_csrf_and_logout),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_saf_import_flow),
        cmocka_unit_test(test_unimported_and_rerun),
        cmocka_unit_test(test_oversized_upload),
        cmocka_unit_test(test_malformed_requests),
        cmocka_unit_test(test_path_traversal),
        cmocka_unit_test(test_esploro_upload),
        cmocka_unit_test(test_ssrf),
        cmocka_unit_test(test_read_access),
        cmocka_unit_test(test_no_server_paths),
        cmocka_unit_test(test_chunked_over_cap),
        cmocka_unit_test(test_exclusive_listen),
        cmocka_unit_test(test_cancel_and_resume),
        cmocka_unit_test(test_answers_while_importing),
        cmocka_unit_test(test_database_restart),
    };
    return cmocka_run_group_tests_name("REST API", tests, group_setup, group_teardown);
}
