/* Export delivery (issue 17; delivery.h, docs/delivery.md), as users reach it: exports
 * submitted over HTTP (POST /api/jobs with "deliver") and from the CLI (`export --deliver`)
 * while `bulkrepo serve` runs the engine; the private and institution folders listed and
 * downloaded over HTTP with their role checks; an upload into a sub-directory of a real FTP
 * server (pyftpdlib, tests/support/ftp_servers.h) equal to the job's downloadable output; a
 * sub-directory that leaves the root and an unknown configuration refused before any job
 * exists; a server that is down: 3 attempts, Completed with Errors, the output kept. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "cli_fixture.h"
#include "serve_fixture.h"
#include "ftp_servers.h"
#include "bulkrepo/bulkrepo.h"
#include "bulkrepo/ftp.h"

typedef struct dv {
    fx f;
    sf_server serve; /* bulkrepo serve */
    char admin[64], manager[64], buyer[64];
} dv;

static dv *D;
static ts_server FTP; /* stopped by the teardown, also when a test fails */

/* method path as bearer; json: a JSON body; form: NULL-terminated name, value pairs sent as
 * multipart/form-data (the shared client, serve_fixture.h). */
static void http(const char *method, const char *path, const char *bearer, const char *json,
                 const char *const *form, sf_resp *out)
{
    sf_http(&D->serve, method, path, &(sf_rq){.bearer = bearer, .json = json, .form = form}, out);
}

/* GET path as bearer, expecting want; the JSON (owned). */
static json_t *get_json(const char *path, const char *bearer, long want)
{
    sf_resp r;
    http("GET", path, bearer, NULL, NULL, &r);
    SF_EXPECT(&r, want);
    json_t *j = json_incref(r.json);
    sf_resp_free(&r);
    assert_non_null(j);
    return j;
}

/* Submits an export of the collection as bearer with extra form fields (pairs, NULL end):
 * the HTTP status, the job id in *id. */
static long submit(const char *bearer, const char *const *extra, long long *id)
{
    const char *form[32] = {"type", "export-saf", "collection", D->f.coll};
    size_t n = 4;
    for (size_t i = 0; extra && extra[i] && n < 30; i++)
        form[n++] = extra[i];
    form[n] = NULL;
    sf_resp r;
    http("POST", "/api/jobs", bearer, NULL, form, &r);
    long st = r.status;
    if (id) *id = st == 201 ? (long long)json_integer_value(json_object_get(r.json, "id")) : 0;
    if (st != 201 && st != 400) print_error("POST /api/jobs: HTTP %ld: %s\n", st, r.body);
    sf_resp_free(&r);
    return st;
}

/* Waits (at most 60 s) until job id ended and its delivery step is recorded; its JSON. */
static json_t *wait_job(long long id)
{
    char path[64];
    snprintf(path, sizeof path, "/api/jobs/%lld", id);
    for (int i = 0; i < 600; i++) {
        json_t *j = get_json(path, D->admin, 200);
        const char *code = fx_status_code(j);
        int ended = !strncmp(code, "COMPLETED", 9) || !strcmp(code, "FAILED") ||
                    !strcmp(code, "USER_ABORTED");
        if (ended && !json_is_null(json_object_get(j, "delivery"))) return j;
        json_decref(j);
        usleep(100000);
    }
    fail_msg("job %lld did not end with its delivery recorded", id);
    return NULL;
}

static long long n_jobs(void)
{
    json_t *a = fx_json(&D->f, "job list --json");
    long long n = (long long)json_array_size(a);
    json_decref(a);
    return n;
}

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    D = calloc(1, sizeof *D);
    fx *f = &D->f;
    f->dir = tu_tmpdir();
    snprintf(f->repo, sizeof f->repo, "%s/r", f->dir);
    fx_init(f);
    snprintf(f->coll, sizeof f->coll, "%s", fx_new_collection(f, "Theses"));
    fx_dc(f, "p/a", "Alpha");
    fx_write(f, "p/a/contents", "a.txt\n");
    fx_write(f, "p/a/a.txt", "alpha file\n");
    fx_dc(f, "p/b", "Beta");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    sf_add_user(&D->f, "admin", "General System Administrator", "a-password-1");
    sf_add_user(&D->f, "manager", "Repository Manager", "a-password-1");
    sf_add_user(&D->f, "buyer", "Purchasing Operator", "a-password-1"); /* may not see exports */
    sf_token(&D->f, "admin", D->admin);
    sf_token(&D->f, "manager", D->manager);
    sf_token(&D->f, "buyer", D->buyer);
    static const char *const args[] = {"--workers", "1", NULL};
    sf_start(f, &D->serve, args);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    ftp_server_stop(&FTP);
    int bad = sf_stop(&D->serve);
    tu_rmtree(D->f.dir);
    free(D->f.dir);
    fx_reset_output(&D->f);
    free(D);
    curl_global_cleanup();
    return bad;
}

/* An S/FTP configuration, through the library (ftp.h). */
static void ftp_config(const char *name, const char *url, const char *user, const char *pw)
{
    br_repo *repo = NULL;
    br_error err;
    assert_int_equal(br_repo_open(D->f.repo, &repo, &err), 0);
    br_ftp_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    snprintf(c.url, sizeof c.url, "%s", url);
    snprintf(c.user, sizeof c.user, "%s", user);
    c.passive = 1;
    int rc = br_ftp_set(repo, &c, pw, NULL, &err);
    if (rc) print_error("br_ftp_set: %s\n", err.message);
    assert_int_equal(rc, 0);
    br_repo_free(repo);
}

/* The file's bytes and size (malloc'd). */
static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return b;
}

/* The single file of a folder listing's JSON named name, or NULL. */
static json_t *listed(json_t *list, const char *name)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(list, "files"), i,
                       e) if (!strcmp(fx_str(e, "name"), name)) return e;
    return NULL;
}

/* Private and institution folders: delivered, listed, downloaded by who may, 403 for others. */
static void test_folders(void **state)
{
    (void)state;
    fx *f = &D->f;
    long long id;
    const char *priv[] = {"deliver", "private", NULL};
    assert_int_equal(submit(D->manager, priv, &id), 201);
    json_t *j = wait_job(id);
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    json_t *d = json_object_get(j, "delivery");
    char name[128], path[512];
    snprintf(name, sizeof name, "%lld-export.zip", id);
    snprintf(path, sizeof path, "exports/users/manager/%s", name);
    assert_string_equal(fx_str(d, "destination"), "private");
    assert_string_equal(fx_str(d, "state"), "delivered");
    assert_string_equal(fx_str(d, "path"), path);
    assert_int_equal(json_integer_value(json_object_get(d, "attempts")), 1);
    assert_true(json_is_null(json_object_get(d, "error")));
    json_decref(j);

    /* Listed for the owner, with its job; downloadable, byte for byte the delivered file. */
    json_t *l = get_json("/api/exports?folder=private", D->manager, 200);
    json_t *e = listed(l, name);
    assert_non_null(e);
    assert_int_equal(json_integer_value(json_object_get(e, "job_id")), id);
    size_t len = 0;
    char disk[4400];
    snprintf(disk, sizeof disk, "%s/r/%s", f->dir, path);
    char *bytes = slurp(disk, &len);
    assert_non_null(bytes);
    assert_int_equal(json_integer_value(json_object_get(e, "size")), (json_int_t)len);
    json_decref(l);
    char url[512];
    snprintf(url, sizeof url, "/api/exports/private/%s", name);
    sf_resp r;
    http("GET", url, D->manager, NULL, NULL, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.body, bytes, len);
    sf_resp_free(&r);
    free(bytes);
    /* Another user's private folder: not theirs (403), not in their own (404); an
     * administrator may look. */
    l = get_json("/api/exports?folder=private&user=manager", D->buyer, 403);
    json_decref(l);
    snprintf(url, sizeof url, "/api/exports/private/%s?user=manager", name);
    http("GET", url, D->buyer, NULL, NULL, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    snprintf(url, sizeof url, "/api/exports/private/%s", name);
    http("GET", url, D->buyer, NULL, NULL, &r);
    SF_EXPECT(&r, 404);
    sf_resp_free(&r);
    l = get_json("/api/exports?folder=private", D->buyer, 200);
    assert_int_equal(json_array_size(json_object_get(l, "files")), 0);
    json_decref(l);
    l = get_json("/api/exports?folder=private&user=manager", D->admin, 200);
    assert_non_null(listed(l, name));
    json_decref(l);

    /* The institution folder: the roles that see exports. */
    const char *inst[] = {"deliver", "institution", NULL};
    assert_int_equal(submit(D->manager, inst, &id), 201);
    j = wait_job(id);
    assert_string_equal(fx_str(json_object_get(j, "delivery"), "state"), "delivered");
    json_decref(j);
    snprintf(name, sizeof name, "%lld-export.zip", id);
    l = get_json("/api/exports?folder=institution", D->admin, 200);
    assert_non_null(listed(l, name));
    json_decref(l);
    l = get_json("/api/exports?folder=institution", D->buyer, 403);
    json_decref(l);
    snprintf(url, sizeof url, "/api/exports/institution/%s", name);
    http("GET", url, D->buyer, NULL, NULL, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    http("GET", url, D->manager, NULL, NULL, &r);
    SF_EXPECT(&r, 200);
    assert_true(r.len > 0 && !memcmp(r.body, "PK", 2));
    sf_resp_free(&r);
    l = get_json("/api/exports?folder=elsewhere", D->admin, 400);
    json_decref(l);
    http("GET", "/api/exports/institution/..%2Fsecret.key", D->admin, NULL, NULL, &r);
    SF_EXPECT(&r, 400); /* the server refuses ".." in any path */
    sf_resp_free(&r);
    http("GET", "/api/exports/institution/.hidden.part", D->admin, NULL, NULL, &r);
    SF_EXPECT(&r, 404); /* a file being written is not served */
    sf_resp_free(&r);
    http("GET", "/api/exports/elsewhere/x.zip", D->admin, NULL, NULL, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);

    /* The CLI: lists both folders; runs an export with --deliver here while serve holds the
     * engine (it waits for that one). */
    json_t *a = fx_json(f, "export files --user manager --json");
    assert_int_equal(json_array_size(a), 1);
    json_decref(a);
    a = fx_json(f, "export files --institution --json");
    assert_int_equal(json_array_size(a), 1);
    assert_string_equal(fx_str(json_array_get(a, 0), "name"), name);
    json_decref(a);
    SH(f, 0, "USER=clerk \"$BR\" --repo r export -t COLLECTION -i %s --deliver private", f->coll);
    a = fx_json(f, "export files --user clerk --json");
    assert_int_equal(json_array_size(a), 1);
    json_decref(a);
    RUN(f, 2, "export -t COLLECTION -i %s --deliver private -d out", f->coll);
    RUN(f, 2, "export -t COLLECTION -i %s --deliver somewhere", f->coll);
    RUN(f, 2, "export files --institution --user x");

    /* My settings (POST /api/me/settings) and GET /api/me. */
    j = get_json("/api/me", D->manager, 200);
    assert_true(json_is_false(json_object_get(j, "notify_jobs")));
    json_decref(j);
    http("POST", "/api/me/settings", D->manager, "{\"notify_jobs\": true}", NULL, &r);
    SF_EXPECT(&r, 200);
    sf_resp_free(&r);
    http("POST", "/api/me/settings", D->manager, "{\"notify_jobs\": \"yes\"}", NULL, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    http("POST", "/api/me/settings", D->manager, "{\"colour\": true}", NULL, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    j = get_json("/api/me", D->manager, 200);
    assert_true(json_is_true(json_object_get(j, "notify_jobs")));
    json_decref(j);
    j = get_json("/api/me", D->buyer, 200);
    assert_true(json_is_false(json_object_get(j, "notify_jobs")));
    json_decref(j);
}

/* Into a sub-directory of a real FTP server: the same bytes as the job's download. */
static void test_ftp_subdir(void **state)
{
    (void)state;
    fx *f = &D->f;
    SH(f, 0, "mkdir -p ftproot");
    int rc = ftp_server_start(fx_path(f, "ftproot"), NULL, &FTP);
    if (rc) print_error("%s\n", FTP.why);
    assert_int_equal(rc, 0);
    ftp_config("up", FTP.url, FTP.user, FTP.password);
    /* A SAF package written as one zip (-z): delivered as it is. */
    SH(f, 0,
       "USER=manager \"$BR\" --repo r export -t COLLECTION -i %s -z pkg.zip --deliver ftp:up "
       "--subdir in/box",
       f->coll);
    json_t *j = fx_last_job(f);
    long long id = (long long)json_integer_value(json_object_get(j, "id"));
    json_t *d = json_object_get(j, "delivery");
    char rel[256];
    snprintf(rel, sizeof rel, "in/box/%lld-pkg.zip", id);
    assert_string_equal(fx_str(d, "state"), "delivered");
    assert_string_equal(fx_str(d, "ftp"), "up");
    assert_string_equal(fx_str(d, "subdir"), "in/box");
    assert_string_equal(fx_str(d, "path"), rel);
    json_decref(j);
    char path[4400];
    snprintf(path, sizeof path, "%s/ftproot/%s", f->dir, rel);
    size_t len = 0;
    char *bytes = slurp(path, &len);
    assert_non_null(bytes);
    char url[128];
    snprintf(url, sizeof url, "/api/jobs/%lld/output", id);
    sf_resp r;
    http("GET", url, D->manager, NULL, NULL, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(r.len, len);
    assert_memory_equal(r.body, bytes, len);
    sf_resp_free(&r);
    free(bytes);
    assert_int_equal(fx_count_entries(f, "ftproot/in/box"), 1); /* no .part left behind */

    /* Over HTTP, into the root. */
    const char *root[] = {"deliver", "ftp", "ftp", "up", NULL};
    assert_int_equal(submit(D->manager, root, &id), 201);
    j = wait_job(id);
    assert_string_equal(fx_str(json_object_get(j, "delivery"), "state"), "delivered");
    json_decref(j);
    char name[128];
    snprintf(name, sizeof name, "ftproot/%lld-export.zip", id);
    assert_true(fx_exists(f, name));

    /* Refused before any job exists: a sub-directory that leaves the root, an unknown
     * configuration, options that do not go together. */
    long long before = n_jobs();
    RUN(f, 2, "export -t COLLECTION -i %s --deliver ftp:up --subdir ../x", f->coll);
    assert_contains(f->err, "subdir");
    RUN(f, 2, "export -t COLLECTION -i %s --deliver ftp:up --subdir in/../../x --submit", f->coll);
    RUN(f, 2, "export -t COLLECTION -i %s --deliver ftp:nope", f->coll);
    assert_contains(f->err, "nope");
    RUN(f, 2, "export -t COLLECTION -i %s --deliver private --subdir a", f->coll);
    RUN(f, 2, "export -t COLLECTION -i %s --deliver ftp:", f->coll);
    const char *esc[] = {"deliver", "ftp", "ftp", "up", "subdir", "../x", NULL};
    assert_int_equal(submit(D->manager, esc, NULL), 400);
    const char *abs[] = {"deliver", "ftp", "ftp", "up", "subdir", "/etc", NULL};
    assert_int_equal(submit(D->manager, abs, NULL), 400);
    const char *unk[] = {"deliver", "ftp", "ftp", "nope", NULL};
    assert_int_equal(submit(D->manager, unk, NULL), 400);
    const char *noname[] = {"deliver", "ftp", NULL};
    assert_int_equal(submit(D->manager, noname, NULL), 400);
    const char *bad[] = {"deliver", "mars", NULL};
    assert_int_equal(submit(D->manager, bad, NULL), 400);
    assert_int_equal(n_jobs(), before);
}

/* The server down: three attempts, Completed with Errors, the output still downloadable. */
static void test_ftp_down(void **state)
{
    (void)state;
    fx *f = &D->f;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd); /* nobody listens there */
    char url[128];
    snprintf(url, sizeof url, "ftp://127.0.0.1:%d/", ntohs(a.sin_port));
    ftp_config("down", url, "tester", "secret");
    long long id;
    const char *down[] = {"deliver", "ftp", "ftp", "down", "subdir", "x", NULL};
    assert_int_equal(submit(D->manager, down, &id), 201);
    json_t *j = wait_job(id);
    assert_string_equal(fx_status_code(j), "COMPLETED_WITH_ERRORS");
    assert_contains(fx_str(j, "message"), "delivery");
    assert_contains(fx_str(j, "message"), "downloadable");
    json_t *d = json_object_get(j, "delivery");
    assert_string_equal(fx_str(d, "state"), "failed");
    assert_int_equal(json_integer_value(json_object_get(d, "attempts")), 3);
    assert_non_null(fx_str(d, "error"));
    assert_true(json_is_null(json_object_get(d, "path")));
    json_decref(j);
    RUN(f, 0, "job events %lld", id);
    int attempts = 0;
    for (const char *p = f->out; (p = strstr(p, "Delivery attempt ")); p++)
        attempts++;
    assert_int_equal(attempts, 3);
    assert_contains(f->out, "Delivery attempt 3 of 3");
    char path[128];
    snprintf(path, sizeof path, "/api/jobs/%lld/output", id);
    sf_resp r;
    http("GET", path, D->manager, NULL, NULL, &r);
    SF_EXPECT(&r, 200);
    assert_true(r.len > 0 && !memcmp(r.body, "PK", 2));
    sf_resp_free(&r);

    /* The CLI says so with exit 1. */
    SH(f, 1, "USER=manager \"$BR\" --repo r export -t COLLECTION -i %s --deliver ftp:down",
       f->coll);
    assert_contains(f->err, "Completed with Errors");
}

/* SFTP (sshd on loopback, key login, the host key accepted as `ftp test --accept-host-key`
 * does): into a sub-directory, the same bytes as the job's download.  Skipped when the tests
 * cannot start sshd (not root). */
static void test_sftp_subdir(void **state)
{
    (void)state;
    fx *f = &D->f;
    static ts_server SSH;
    SH(f, 0, "mkdir -p sftproot");
    int rc = sftp_server_start(fx_path(f, "sftproot"), NULL, &SSH);
    if (rc == 1) {
        print_message("%s\n", SSH.why);
        skip();
    }
    if (rc) print_error("%s\n", SSH.why);
    assert_int_equal(rc, 0);
    char *key = tu_read(SSH.key_file);
    assert_non_null(key);
    br_repo *repo = NULL;
    br_error err;
    assert_int_equal(br_repo_open(D->f.repo, &repo, &err), 0);
    br_ftp_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "sec");
    snprintf(c.url, sizeof c.url, "%.500s", SSH.url);
    snprintf(c.user, sizeof c.user, "%s", SSH.user);
    c.passive = 1;
    rc = br_ftp_set(repo, &c, NULL, key, &err);
    if (!rc) rc = br_ftp_test(repo, "sec", 1, NULL, &err);
    if (rc) print_error("sftp configuration: %s\n", err.message);
    br_repo_free(repo);
    free(key);
    if (rc) sftp_server_stop(&SSH);
    assert_int_equal(rc, 0);
    long long id;
    const char *sec[] = {"deliver", "ftp", "ftp", "sec", "subdir", "out/saf", NULL};
    assert_int_equal(submit(D->manager, sec, &id), 201);
    json_t *j = wait_job(id);
    sftp_server_stop(&SSH);
    json_t *d = json_object_get(j, "delivery");
    if (strcmp(fx_str(d, "state"), "delivered")) print_error("%s\n", fx_str(d, "error"));
    assert_string_equal(fx_str(d, "state"), "delivered");
    json_decref(j);
    char rel[256];
    snprintf(rel, sizeof rel, "sftproot/out/saf/%lld-export.zip", id);
    size_t len = 0;
    char *bytes = slurp(fx_path(f, rel), &len);
    assert_non_null(bytes);
    char url[128];
    snprintf(url, sizeof url, "/api/jobs/%lld/output", id);
    sf_resp r;
    http("GET", url, D->manager, NULL, NULL, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(r.len, len); /* the folder zipped as the download zips it */
    assert_memory_equal(r.body, bytes, len);
    sf_resp_free(&r);
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folders),
        cmocka_unit_test(test_ftp_subdir),
        cmocka_unit_test(test_ftp_down),
        cmocka_unit_test(test_sftp_subdir),
    };
    return cmocka_run_group_tests_name("export delivery", tests, group_setup, group_teardown);
}
