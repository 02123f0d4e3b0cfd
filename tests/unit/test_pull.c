/* Import profiles that pull from S/FTP servers (issue 17 parts 2 and 3, docs/profiles.md),
 * through the CLI and the HTTP API as users call them, against real servers on loopback
 * (tests/support/ftp_servers.h): a pulled import over FTP, FTPS and SFTP (records imported,
 * the load job's parent_job is the fetch job, the history lists both); no files; a refused
 * login, then a rerun after the configuration was fixed; a download cut off mid-way
 * (resumed); a file growing past the cap; the same file offered twice, also after a restart;
 * after_fetch delete and move; bad remote names; a listing of thousands of entries; the
 * schedule; every bad profile setting refused by name. */
#define _GNU_SOURCE
#include "cli_fixture.h"
#include "ftp_servers.h"
#include "serve_fixture.h"
#include "bulkrepo/bulkrepo.h"
#include "bulkrepo/ftp.h"
#include "core/core.h"
#include "store/store_fetched.h"

typedef struct px {
    fx f;
    char root[4200]; /* the server's root folder */
    ts_server s;
    int sftp;
    sf_server serve; /* bulkrepo serve, when a test starts it */
} px;

static int px_setup(void **state)
{
    int rc = fx_setup(state);
    fx *f = *state;
    px *p = calloc(1, sizeof *p);
    p->f = *f;
    free(f);
    snprintf(p->root, sizeof p->root, "%s/server", p->f.dir);
    mkdir(p->root, 0755);
    mkdir(fx_path(&p->f, "server/in"), 0755);
    *state = p;
    return rc;
}

static int px_teardown(void **state)
{
    px *p = *state;
    int bad = sf_stop(&p->serve); /* when a test failed with it running */
    if (p->sftp)
        sftp_server_stop(&p->s);
    else
        ftp_server_stop(&p->s);
    fx *f = malloc(sizeof *f);
    *f = p->f;
    free(p);
    *state = f;
    int rc = fx_teardown(state);
    return rc ? rc : bad;
}

/* Adds (or replaces) the S/FTP configuration `conf` for the running server, through the
 * library (ftp.h) as `bulkrepo ftp add` does. */
static void add_conf(px *p, const char *conf, const char *password, const char *key)
{
    br_repo *repo;
    br_error err;
    if (br_repo_open(p->f.repo, &repo, &err)) fail_msg("open: %s", err.message);
    br_ftp_config c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", conf);
    snprintf(c.url, sizeof c.url, "%.500s", p->s.url);
    snprintf(c.user, sizeof c.user, "%s", p->s.user);
    snprintf(c.ca_file, sizeof c.ca_file, "%.1000s", p->s.ca_file);
    c.passive = 1;
    if (br_ftp_set(repo, &c, password, key, &err)) fail_msg("ftp config: %s", err.message);
    br_repo_free(repo);
}

/* Starts an FTP (tls 0/1) server on p->root and adds the configuration `conf` for it. */
static void start_ftp(px *p, const char *conf, const ftp_server_opts *o)
{
    int rc = ftp_server_start(p->root, o, &p->s);
    if (rc) fail_msg("ftp server: %s", p->s.why);
    add_conf(p, conf, p->s.password, NULL);
}

/* The SFTP server; 1 when sshd cannot run here (the test is skipped). */
static int start_sftp(px *p, const char *conf)
{
    int rc = sftp_server_start(p->root, NULL, &p->s);
    if (rc == 1) {
        print_message("%s\n", p->s.why);
        return 1;
    }
    if (rc) fail_msg("sftp server: %s", p->s.why);
    p->sftp = 1;
    char kh[8400];
    snprintf(kh, sizeof kh, "%s\n", p->s.host_key_line);
    tu_write(p->f.repo, "known_hosts", kh);
    char *key = tu_read(p->s.key_file);
    assert_non_null(key);
    add_conf(p, conf, NULL, key);
    free(key);
    return 0;
}

/* A SAF zip of n generated items at server/REL. */
static void saf_zip(px *p, const char *rel, int n)
{
    SH(&p->f, 0, "rm -rf pkg && '%s' pkg %d >/dev/null && (cd pkg && zip -qr ../server/%s .)",
       fx_gen_saf(), n, rel);
}

/* `profile run NAME --wait --json`: the fetch job's JSON (want: the exit code). */
static json_t *run_profile(px *p, int want, const char *name, const char *extra)
{
    RUN(&p->f, want, "profile run %s --wait --json %s", name, extra ? extra : "");
    json_t *j = fx_parse(&p->f, "profile run");
    long long id = (long long)json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    assert_true(id > 0);
    return fx_job(&p->f, id); /* with its journal */
}

/* A string field of the fetch job's journal line for key (fails the test when absent). */
static const char *rec(json_t *job, const char *key, const char *field)
{
    json_t *r = fx_job_record(job, key);
    if (!r) fail_msg("no journal line for %s", key);
    const char *v = fx_str(r, field);
    if (!v) fail_msg("the journal line of %s has no %s", key, field);
    return v;
}

static json_t *history(px *p, const char *name)
{
    return fx_json(&p->f, "profile history %s --json", name);
}

static long long jint(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* The load jobs (children) of fetch job id. */
static size_t children(px *p, long long id, long long *first)
{
    json_t *j = fx_job(&p->f, id);
    json_t *k = json_object_get(j, "children");
    size_t n = json_array_size(k);
    if (first) *first = n ? (long long)json_integer_value(json_array_get(k, 0)) : 0;
    json_decref(j);
    return n;
}

/* End to end: one zip on the server, fetched, loaded, linked; history lists both; the second
 * run loads nothing again. */
static void pulled_import(px *p)
{
    fx *f = &p->f;
    saf_zip(p, "in/batch.zip", 3);
    RUN(f, 0, "profile add pub --format saf --collection %s --ftp src --remote-dir in", f->coll);
    json_t *pr = fx_json(f, "profile show pub --json");
    assert_string_equal(fx_str(pr, "pattern"), "*.zip");
    assert_string_equal(fx_str(pr, "after_fetch"), "leave");
    char inbox[4400];
    snprintf(inbox, sizeof inbox, "%s/profiles/pub", f->repo);
    assert_string_equal(fx_str(pr, "inbox"), inbox);
    json_decref(pr);
    json_t *j = run_profile(p, 0, "pub", NULL);
    long long fid = jint(j, "id");
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    assert_string_equal(fx_str(j, "name"), "Metadata Import w/FTP: pub");
    assert_string_equal(fx_str(j, "type"), "fetch-profile");
    assert_string_equal(rec(j, "batch.zip", "outcome"), "fetched");
    json_decref(j);
    assert_int_equal(fx_item_count(f), 3);
    long long lid;
    assert_int_equal(children(p, fid, &lid), 1);
    json_t *l = fx_job(f, lid);
    assert_int_equal(jint(l, "parent_job"), fid);
    assert_string_equal(fx_str(l, "name"), "Metadata Import: pub (FTP)");
    assert_string_equal(fx_status_code(l), "COMPLETED_SUCCESS");
    json_decref(l);
    json_t *h = history(p, "pub");
    json_t *jobs = json_object_get(h, "jobs");
    assert_int_equal(json_array_size(jobs), 2);
    assert_int_equal(jint(json_array_get(jobs, 0), "id"), lid); /* newest first */
    assert_int_equal(jint(json_array_get(jobs, 0), "parent_job"), fid);
    assert_int_equal(jint(json_array_get(jobs, 1), "id"), fid);
    assert_true(json_is_null(json_object_get(json_array_get(jobs, 1), "parent_job")));
    json_decref(h);
    /* Offered again: skipped without a download, no load job. */
    j = run_profile(p, 0, "pub", NULL);
    assert_string_equal(fx_status_code(j), "COMPLETED_NO_BULKS");
    assert_string_equal(rec(j, "batch.zip", "outcome"), "skipped");
    assert_contains(rec(j, "batch.zip", "message"), "already loaded by job");
    assert_int_equal(children(p, jint(j, "id"), NULL), 0);
    json_decref(j);
    assert_int_equal(fx_item_count(f), 3);
    assert_true(fx_exists(f, "server/in/batch.zip")); /* leave */
}

static void test_pull_ftp(void **state)
{
    px *p = *state;
    start_ftp(p, "src", NULL);
    pulled_import(p);
    /* The same bytes with a new mtime (a restart in between): downloaded, found to be a
     * duplicate by its checksum, not loaded. */
    SH(&p->f, 0, "touch -d '2020-01-01 00:00' server/in/batch.zip");
    json_t *j = run_profile(p, 0, "pub", NULL);
    assert_string_equal(fx_status_code(j), "COMPLETED_NO_BULKS");
    assert_contains(rec(j, "batch.zip", "message"), "same name, size and checksum");
    json_decref(j);
    assert_int_equal(fx_item_count(&p->f), 3);
}

static void test_pull_ftps(void **state)
{
    px *p = *state;
    ftp_server_opts o = {.tls = 1};
    start_ftp(p, "src", &o);
    pulled_import(p);
}

static void test_pull_sftp(void **state)
{
    px *p = *state;
    if (start_sftp(p, "src")) skip();
    pulled_import(p);
}

/* No files: Completed with No Bulks, no load job; the API's history says so too. */
static void test_no_files(void **state)
{
    px *p = *state;
    fx *f = &p->f;
    start_ftp(p, "src", NULL);
    tu_write(p->root, "in/readme.txt", "not a package\n");
    RUN(f, 0, "profile add empty --format saf --collection %s --ftp src --remote-dir in", f->coll);
    json_t *j = run_profile(p, 0, "empty", NULL);
    assert_string_equal(fx_status_code(j), "COMPLETED_NO_BULKS");
    assert_string_equal(fx_str(j, "message"), "no files on the server");
    assert_int_equal(children(p, jint(j, "id"), NULL), 0);
    json_decref(j);
    json_t *h = history(p, "empty");
    assert_int_equal(jint(h, "total"), 1);
    json_decref(h);
}

/* A refused login fails the job with the reason; after the configuration is fixed, `job
 * rerun` succeeds. */
static void test_refused_then_rerun(void **state)
{
    px *p = *state;
    fx *f = &p->f;
    saf_zip(p, "in/a.zip", 2);
    ftp_server_opts o = {.refuse_login = 1};
    start_ftp(p, "src", &o);
    RUN(f, 0, "profile add pub --format saf --collection %s --ftp src --remote-dir in", f->coll);
    json_t *j = run_profile(p, 1, "pub", NULL);
    long long id = jint(j, "id");
    assert_string_equal(fx_status_code(j), "FAILED");
    assert_contains(fx_str(j, "message"), "src");
    assert_string_equal(fx_str(j, "failure"), "io");
    json_decref(j);
    assert_int_equal(fx_item_count(f), 0);
    ftp_server_stop(&p->s);
    start_ftp(p, "src", NULL); /* the same name: replaced */
    RUN(f, 0, "job rerun %lld", id);
    RUN(f, 0, "job work --once");
    RUN(f, 0, "job work --once");
    json_t *h = history(p, "pub");
    json_t *jobs = json_object_get(h, "jobs");
    assert_int_equal(json_array_size(jobs), 3); /* failed, rerun, its load job */
    assert_string_equal(fx_str(json_array_get(jobs, 0), "status"), "COMPLETED_SUCCESS");
    json_decref(h);
    assert_int_equal(fx_item_count(f), 2);
}

/* A download cut off mid-way is resumed: the content is right and loaded once. */
static void test_drop_resumed(void **state)
{
    px *p = *state;
    fx *f = &p->f;
    saf_zip(p, "in/big.zip", 40);
    struct stat st;
    assert_int_equal(stat(fx_path(f, "server/in/big.zip"), &st), 0);
    assert_true(st.st_size > 8192);
    ftp_server_opts o = {.drop_name = "in/big.zip", .drop_after = 4096};
    start_ftp(p, "src", &o);
    RUN(f, 0, "profile add pub --format saf --collection %s --ftp src --remote-dir in", f->coll);
    json_t *j = run_profile(p, 0, "pub", NULL);
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    json_decref(j);
    assert_int_equal(fx_item_count(f), 40);
    RUN(f, 0, "job events %lld", (long long)1);
    assert_contains(f->out, "resuming");
}

/* A file growing past the cap while downloaded fails alone; the other file is loaded. */
static void test_grows_past_cap(void **state)
{
    px *p = *state;
    fx *f = &p->f;
    saf_zip(p, "in/a.zip", 1);
    saf_zip(p, "in/grow.zip", 1);
    ftp_server_opts o = {.grow_name = "in/grow.zip", .grow_total = 200000};
    start_ftp(p, "src", &o);
    RUN(f, 0, "profile add pub --format saf --collection %s --ftp src --remote-dir in", f->coll);
    json_t *j = run_profile(p, 1, "pub", "--max-size 100000");
    assert_string_equal(fx_status_code(j), "COMPLETED_WITH_ERRORS");
    assert_string_equal(rec(j, "grow.zip", "outcome"), "failed");
    assert_contains(rec(j, "grow.zip", "message"), "cap");
    assert_string_equal(rec(j, "a.zip", "outcome"), "fetched");
    assert_int_equal(children(p, jint(j, "id"), NULL), 1);
    json_decref(j);
    assert_int_equal(fx_item_count(f), 1);
    RUN(f, 2, "profile run pub --max-size 0");
}

/* A file still being written on the server (more bytes come than were listed) is not loaded:
 * what came is not the file that was listed; a later run takes it. */
static void test_changed_while_downloading(void **state)
{
    px *p = *state;
    fx *f = &p->f;
    saf_zip(p, "in/a.zip", 1);
    saf_zip(p, "in/grow.zip", 1);
    struct stat st;
    assert_int_equal(stat(fx_path(f, "server/in/grow.zip"), &st), 0);
    ftp_server_opts o = {.grow_name = "in/grow.zip", .grow_total = (long)st.st_size + 5000};
    start_ftp(p, "src", &o);
    RUN(f, 0, "profile add pub --format saf --collection %s --ftp src --remote-dir in", f->coll);
    json_t *j = run_profile(p, 1, "pub", NULL);
    assert_string_equal(fx_status_code(j), "COMPLETED_WITH_ERRORS");
    assert_string_equal(rec(j, "grow.zip", "outcome"), "failed");
    assert_contains(rec(j, "grow.zip", "message"), "changed while it was downloaded");
    assert_string_equal(rec(j, "a.zip", "outcome"), "fetched");
    assert_int_equal(children(p, jint(j, "id"), NULL), 1);
    json_decref(j);
    assert_int_equal(fx_item_count(f), 1);
}

/* A partial file in .fetching/ that no listing of this version left (the file was replaced on
 * the server since) is dropped, not resumed: the loaded file is whole, never two versions. */
static void test_partial_of_another_version(void **state)
{
    px *p = *state;
    fx *f = &p->f;
    saf_zip(p, "in/a.zip", 2);
    start_ftp(p, "src", NULL);
    RUN(f, 0, "profile add pub --format saf --collection %s --ftp src --remote-dir in", f->coll);
    char dir[4400];
    snprintf(dir, sizeof dir, "%s/profiles/pub/.fetching", f->repo);
    SH(f, 0, "mkdir -p '%s' && head -c 700 /dev/urandom > '%s/a.zip'", dir, dir);
    json_t *j = run_profile(p, 0, "pub", NULL);
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    assert_string_equal(rec(j, "a.zip", "outcome"), "fetched");
    json_decref(j);
    assert_int_equal(fx_item_count(f), 2); /* a spliced zip would not load */
}

/* after_fetch: delete removes the file on the server, move:DIR moves it there. */
static void test_after_fetch(void **state)
{
    px *p = *state;
    fx *f = &p->f;
    saf_zip(p, "in/d.zip", 1);
    mkdir(fx_path(f, "server/in2"), 0755);
    saf_zip(p, "in2/m.zip", 1);
    start_ftp(p, "src", NULL);
    RUN(f, 0,
        "profile add del --format saf --collection %s --ftp src --remote-dir in --after delete",
        f->coll);
    RUN(f, 0,
        "profile add mv --format saf --collection %s --ftp src --remote-dir in2 "
        "--after move:archive/done",
        f->coll);
    json_decref(run_profile(p, 0, "del", NULL));
    assert_false(fx_exists(f, "server/in/d.zip"));
    json_decref(run_profile(p, 0, "mv", NULL));
    assert_false(fx_exists(f, "server/in2/m.zip"));
    assert_true(fx_exists(f, "server/archive/done/m.zip"));
    assert_int_equal(fx_item_count(f), 2);
}

/* Names with control characters are skipped; thousands of entries are listed; only the
 * pattern's files are taken. */
static void test_names_and_many(void **state)
{
    px *p = *state;
    fx *f = &p->f;
    SH(f, 0, "cd server/in && for i in $(seq 1 3000); do : > note$i.txt; done");
    saf_zip(p, "in/one.zip", 1);
    saf_zip(p, "in/two.zip", 1);
    SH(f, 0, "cp server/in/one.zip \"server/in/$(printf 'bad\\001name.zip')\"");
    start_ftp(p, "src", NULL);
    RUN(f, 0, "profile add pub --format saf --collection %s --ftp src --remote-dir in", f->coll);
    json_t *j = run_profile(p, 0, "pub", NULL);
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(j, "processed"), 2);
    long long id = jint(j, "id");
    json_decref(j);
    assert_int_equal(children(p, id, NULL), 2);
    assert_int_equal(fx_item_count(f), 2);
    RUN(f, 0, "job events %lld", id);
    assert_contains(f->out, "skipped");
}

/* Every bad setting is refused by name, nothing stored. */
static void test_bad_settings(void **state)
{
    px *p = *state;
    fx *f = &p->f;
    start_ftp(p, "src", NULL);
    const char *c = f->coll;
    RUN(f, 3, "profile add a --format saf --collection %s --ftp nosuch", c);
    assert_contains(f->err, "nosuch");
    RUN(f, 2, "profile add a --format saf --collection %s --ftp src --remote-dir ../up", c);
    assert_contains(f->err, "..");
    RUN(f, 2, "profile add a --format saf --collection %s --ftp src --remote-dir /abs", c);
    RUN(f, 2, "profile add a --format saf --collection %s --ftp src --after shred", c);
    assert_contains(f->err, "shred");
    RUN(f, 2, "profile add a --format saf --collection %s --ftp src --after move:../x", c);
    RUN(f, 2, "profile add a --format saf --collection %s --ftp src --pattern 'a/*.zip'", c);
    RUN(f, 2, "profile add a --format saf --collection %s --ftp src --schedule '0 24 * * *'", c);
    assert_contains(f->err, "hour (field 2) at position 3");
    RUN(f, 2, "profile add a --format saf --collection %s --ftp src --schedule '* * *'", c);
    assert_contains(f->err, "3 fields, expected 5");
    RUN(f, 2, "profile add a --format saf --collection %s --ftp src --schedule '0 0 30 2 *'", c);
    assert_contains(f->err, "never");
    SH(f, 0, "mkdir drop");
    RUN(f, 2, "profile add a --format saf --collection %s --inbox drop --schedule '* * * * *'", c);
    assert_contains(f->err, "no S/FTP configuration");
    json_t *l = fx_json(f, "profile list --json");
    assert_int_equal(json_array_size(l), 0);
    json_decref(l);
    RUN(f, 0, "profile add d --format saf --collection %s --inbox drop", c);
    RUN(f, 2, "profile run d");
    RUN(f, 3, "profile run nosuch");
    RUN(f, 3, "profile history nosuch");
    RUN(f, 2, "profile history d --limit x");
    RUN(f, 0,
        "profile add s --format esploro-csv --collection %s --ftp src --schedule '*/5 1-3 * * 1,3'",
        c);
    json_t *s = fx_json(f, "profile show s --json");
    assert_string_equal(fx_str(s, "pattern"), "*.csv");
    assert_string_equal(fx_str(s, "schedule"), "*/5 1-3 * * 1,3");
    assert_non_null(fx_str(s, "next_run"));
    assert_contains(fx_str(s, "next_run"), "T0");
    json_decref(s);
    l = fx_json(f, "profile list --json");
    assert_int_equal(json_array_size(l), 2);
    assert_true(json_is_null(json_object_get(json_array_get(l, 0), "ftp"))); /* d */
    assert_string_equal(fx_str(json_array_get(l, 1), "ftp"), "src");
    json_decref(l);
    RUN(f, 0, "profile --help");
    assert_contains(f->out, "--schedule");
    assert_contains(f->out, "history");
}

/* A profile scheduled "* * * * *" gets a fetch job from the engine's tick (within about a
 * minute), and the HTTP API shows the profile, its jobs and runs it. */
static void test_schedule_and_api(void **state)
{
    px *p = *state;
    fx *f = &p->f;
    saf_zip(p, "in/s.zip", 1);
    start_ftp(p, "src", NULL);
    RUN(f, 0,
        "profile add sched --format saf --collection %s --ftp src --remote-dir in "
        "--schedule '* * * * *'",
        f->coll);
    SH(f, 0,
       "{ \"$BR\" --repo r job work --inbox-poll 200 >/dev/null 2>&1 & pid=$!; "
       "for i in $(seq 1 400); do \"$BR\" --repo r profile history sched --json | "
       "grep -q COMPLETED_SUCCESS && break; sleep 0.25; done; kill -TERM $pid; wait $pid; }");
    json_t *h = history(p, "sched");
    assert_true(jint(h, "total") >= 2);
    json_decref(h);
    assert_int_equal(fx_item_count(f), 1);
    /* The API: a token of an administrator. */
    sf_add_user(f, "adm", "General System Administrator", "pw-admin-1");
    sf_add_user(f, "buy", "Purchasing Operator", "pw-buyer-1");
    char tok[64], tok2[64];
    sf_token(f, "adm", tok);
    sf_token(f, "buy", tok2);
    static const char *const args[] = {"--workers", "1", NULL};
    sf_start(f, &p->serve, args);
    const char *url = p->serve.url;
    SH(f, 0, "curl -sf -H 'Authorization: Bearer %s' %s/api/profiles > a.json", tok, url);
    json_error_t je;
    json_t *a = json_load_file(fx_path(f, "a.json"), 0, &je);
    json_t *pr = json_array_get(json_object_get(a, "profiles"), 0);
    assert_string_equal(fx_str(pr, "name"), "sched");
    assert_string_equal(fx_str(pr, "ftp"), "src");
    assert_string_equal(fx_str(pr, "remote_dir"), "in");
    assert_string_equal(fx_str(pr, "schedule"), "* * * * *");
    assert_non_null(fx_str(pr, "next_run"));
    json_decref(a);
    SH(f, 0, "curl -sf -H 'Authorization: Bearer %s' '%s/api/profiles/sched?limit=1' > b.json", tok,
       url);
    a = json_load_file(fx_path(f, "b.json"), 0, &je);
    assert_string_equal(fx_str(json_object_get(a, "profile"), "name"), "sched");
    assert_int_equal(json_array_size(json_object_get(a, "jobs")), 1);
    assert_true(jint(a, "total") >= 2);
    json_t *j0 = json_array_get(json_object_get(a, "jobs"), 0);
    assert_non_null(fx_str(j0, "status_label"));
    assert_non_null(json_object_get(json_object_get(j0, "counters"), "processed"));
    json_decref(a);
    SH(f, 0,
       "curl -s -o c.json -w '%%{http_code}' -X POST -H 'Authorization: Bearer %s' "
       "%s/api/profiles/sched/run > c.code",
       tok, url);
    char *code = fx_read(f, "c.code");
    assert_string_equal(code, "202");
    free(code);
    a = json_load_file(fx_path(f, "c.json"), 0, &je);
    assert_true(jint(a, "job_id") > 0);
    json_decref(a);
    SH(f, 0,
       "curl -s -o /dev/null -w '%%{http_code}' -X POST -H 'Authorization: Bearer %s' "
       "%s/api/profiles/sched/run > d.code",
       tok2, url);
    code = fx_read(f, "d.code");
    assert_string_equal(code, "403");
    free(code);
    SH(f, 0,
       "curl -s -o /dev/null -w '%%{http_code}' -H 'Authorization: Bearer %s' "
       "%s/api/profiles/nosuch > e.code",
       tok, url);
    code = fx_read(f, "e.code");
    assert_string_equal(code, "404");
    free(code);
    assert_int_equal(sf_stop(&p->serve), 0);
}

/* Crash safety (pull.c's header): a file recorded as fetched whose load job was never queued
 * (the process died between the two writes) gets its load job at the next engine start,
 * exactly once; a record whose job exists but was not linked is linked, not queued again. */
static void test_recovery_exactly_once(void **state)
{
    px *p = *state;
    fx *f = &p->f;
    snprintf(p->s.url, sizeof p->s.url, "ftp://127.0.0.1:1/");
    snprintf(p->s.user, sizeof p->s.user, "tester");
    add_conf(p, "gone", "secret", NULL); /* a server that is not there */
    RUN(f, 0, "profile add rec --format saf --collection %s --ftp gone", f->coll);
    RUN(f, 0, "profile run rec"); /* job 1: queued, not run yet */
    saf_zip(p, "late.zip", 2);
    SH(f, 0, "mkdir -p r/profiles/rec/.fetching && mv server/late.zip r/profiles/rec/.fetching/");
    br_repo *repo;
    br_error err;
    assert_int_equal(br_repo_open(f->repo, &repo, &err), 0);
    br_fetched row;
    memset(&row, 0, sizeof row);
    snprintf(row.profile, sizeof row.profile, "rec");
    snprintf(row.name, sizeof row.name, "late.zip");
    char md5[33];
    assert_int_equal(br_hash_file(fx_path(f, "r/profiles/rec/.fetching/late.zip"), md5, row.sha256,
                                  &row.size, &err),
                     0);
    row.mtime = 1000;
    row.fetch_job = 1;
    assert_int_equal(br_fetched_add(repo, &row, "fetched", 0, &err), 0);
    br_repo_free(repo);
    RUN(f, 0, "job work --once"); /* start-up recovery; the fetch job then fails (no server) */
    json_t *h = history(p, "rec");
    json_t *jobs = json_object_get(h, "jobs");
    assert_int_equal(json_array_size(jobs), 2);
    long long lid = jint(json_array_get(jobs, 0), "id");
    assert_int_equal(jint(json_array_get(jobs, 0), "parent_job"), 1);
    assert_string_equal(fx_str(json_array_get(jobs, 0), "status"), "COMPLETED_SUCCESS");
    assert_string_equal(fx_str(json_array_get(jobs, 1), "status"), "FAILED");
    json_decref(h);
    assert_int_equal(fx_item_count(f), 2);
    assert_false(fx_exists(f, "r/profiles/rec/.fetching/late.zip"));
    /* The same record seen again as not linked (the update lost): linked to its job. */
    assert_int_equal(br_repo_open(f->repo, &repo, &err), 0);
    assert_int_equal(br_fetched_set(repo, row.id, "fetched", 0, &err), 0);
    br_repo_free(repo);
    RUN(f, 0, "job work --once");
    RUN(f, 0, "job work --once");
    h = history(p, "rec");
    assert_int_equal(jint(h, "total"), 2);
    json_decref(h);
    assert_int_equal(fx_item_count(f), 2);
    assert_int_equal(br_repo_open(f->repo, &repo, &err), 0);
    int64_t job = 0;
    assert_int_equal(br_fetched_loaded(repo, "rec", "late.zip", row.size, 1000, &job, &err), 1);
    assert_int_equal(job, lid);
    br_fetched *pending = NULL;
    size_t n = 9;
    assert_int_equal(br_fetched_pending(repo, "rec", &pending, &n, &err), 0);
    assert_int_equal(n, 0);
    free(pending);
    br_repo_free(repo);
}

#define PX_TEST(t) cmocka_unit_test_setup_teardown(t, px_setup, px_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        PX_TEST(test_bad_settings),
        PX_TEST(test_pull_ftp),
        PX_TEST(test_pull_ftps),
        PX_TEST(test_pull_sftp),
        PX_TEST(test_no_files),
        PX_TEST(test_refused_then_rerun),
        PX_TEST(test_drop_resumed),
        PX_TEST(test_grows_past_cap),
        PX_TEST(test_after_fetch),
        PX_TEST(test_names_and_many),
        PX_TEST(test_schedule_and_api),
        PX_TEST(test_recovery_exactly_once),
        PX_TEST(test_changed_while_downloading),
        PX_TEST(test_partial_of_another_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
