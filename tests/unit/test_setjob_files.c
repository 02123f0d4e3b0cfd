/* Import Research Assets Files (issue 11, section 2), run as users run it: `bulkrepo job run
 * import-asset-files --set S [--param ...] --wait`, `job revert`, `job resume`, against a web
 * server on loopback (libmicrohttpd in this process) that the repository's fetch-allow.txt lets
 * the fetch policy reach.  Assets come from an Esploro CSV with LINK rows; file:// links (the CSV
 * takes http(s) links only) are added through the library as a script would. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <microhttpd.h>
#include "cli_fixture.h"
#include "repo_fixture.h"

#define UNIT     "P___U1"
#define BIG      (4 * 1024 * 1024)
#define STALL_MS 3000

/* ---- the server ------------------------------------------------------------------------- */

typedef struct srv {
    struct MHD_Daemon *d;
    unsigned short port;
    int requests;
    int flaky[8];
    long big_served; /* bytes of /big handed to the connection */
    char url[8][256];
    int k;
} srv;

static ssize_t big_chunk(void *cls, uint64_t pos, char *buf, size_t max)
{
    srv *s = cls;
    if (pos >= BIG) return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = BIG - (size_t)pos < max ? BIG - (size_t)pos : max;
    memset(buf, 'x', n);
    __atomic_store_n(&s->big_served, (long)(pos + n), __ATOMIC_SEQ_CST);
    return (ssize_t)n;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, const char *body,
                             const char *type, const char *disposition)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (type) MHD_add_response_header(r, "Content-Type", type);
    if (disposition) MHD_add_response_header(r, "Content-Disposition", disposition);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/*   /file/NAME   200 "file NAME\n"          /missing   404
 *   /big         200, BIG bytes, no length   /slow      200 after STALL_MS
 *   /cd          200, Content-Disposition    /page      200 text/html
 *   /flaky/N     503 twice, then 200         /delay/N   200 "delayed N\n" after 150 ms */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)method, (void)version, (void)upload, (void)upload_size, (void)con_cls;
    srv *s = cls;
    __atomic_add_fetch(&s->requests, 1, __ATOMIC_SEQ_CST);
    char body[512];
    if (!strncmp(url, "/file/", 6)) {
        snprintf(body, sizeof body, "file %s\n", url + 6);
        return reply(c, 200, body, "application/octet-stream", NULL);
    }
    if (!strcmp(url, "/big")) {
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, big_chunk, s, NULL);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strcmp(url, "/slow")) {
        sleep_ms(STALL_MS);
        return reply(c, 200, "late\n", NULL, NULL);
    }
    if (!strcmp(url, "/cd"))
        return reply(c, 200, "the CV\n", "application/pdf",
                     "attachment; filename=\"resume.pdf\"; "
                     "filename*=UTF-8''..%2Fr%C3%A9sum%C3%A9%20final.pdf");
    if (!strcmp(url, "/page"))
        return reply(c, 200, "<html><body>a landing page</body></html>", "text/html; charset=utf-8",
                     NULL);
    if (!strncmp(url, "/flaky/", 7)) {
        int i = atoi(url + 7) & 7;
        int n = __atomic_add_fetch(&s->flaky[i], 1, __ATOMIC_SEQ_CST);
        return n % 3 ? reply(c, 503, "busy\n", NULL, NULL)
                     : reply(c, 200, "flaky ok\n", NULL, NULL);
    }
    if (!strncmp(url, "/delay/", 7)) {
        sleep_ms(150);
        snprintf(body, sizeof body, "delayed %s\n", url + 7);
        return reply(c, 200, body, "application/octet-stream", NULL);
    }
    return reply(c, 404, "not found\n", NULL, NULL);
}

static srv *srv_start(void)
{
    srv *s = calloc(1, sizeof *s);
    assert_non_null(s);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                            NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
                            MHD_OPTION_END);
    assert_non_null(s->d);
    s->port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return s;
}

static const char *url_of(srv *s, const char *path)
{
    s->k = (s->k + 1) % 8;
    snprintf(s->url[s->k], sizeof s->url[0], "http://127.0.0.1:%u%s", s->port, path);
    return s->url[s->k];
}

static void srv_stop(srv *s)
{
    MHD_stop_daemon(s->d);
    free(s);
}

/* The repository lets the fetch policy reach this server, and only it. */
static void allow(fx *f, srv *s)
{
    char line[64];
    snprintf(line, sizeof line, "# the test's server\n127.0.0.1:%u\n", s->port);
    fx_write(f, "r/fetch-allow.txt", line);
}

/* ---- helpers ---------------------------------------------------------------------------- */

static long long run_job(fx *f, int want, const char *set, const char *args)
{
    RUN(f, want, "job run import-asset-files --set '%s' %s --wait", set, args);
    long long id = atoll(f->out);
    assert_true(id > 0);
    return id;
}

static const char *line_of(fx *f, long long job, const char *handle, const char **outcome)
{
    static char msg[4096], oc[32];
    json_t *j = fx_json(f, "job show %lld --json --records all", job), *r;
    size_t i;
    int found = 0;
    json_array_foreach(json_object_get(j, "records"), i, r)
    {
        if (!fx_str(r, "handle") || strcmp(fx_str(r, "handle"), handle)) continue;
        found = 1;
        snprintf(msg, sizeof msg, "%s", fx_str(r, "message") ? fx_str(r, "message") : "");
        snprintf(oc, sizeof oc, "%s", fx_str(r, "outcome"));
    }
    json_decref(j);
    if (!found) fail_msg("job %lld has no line for %s", job, handle);
    if (outcome) *outcome = oc;
    return msg;
}

static size_t n_of(fx *f, const char *h, const char *key)
{
    json_t *it = fx_show(f, h);
    size_t n = json_array_size(json_object_get(it, key));
    json_decref(it);
    return n;
}

/* The URL of the item's i-th link, in a static buffer ("" none). */
static const char *link_url(fx *f, const char *h, size_t i)
{
    static char buf[512];
    json_t *it = fx_show(f, h);
    const char *u = fx_str(json_array_get(json_object_get(it, "links"), i), "url");
    snprintf(buf, sizeof buf, "%s", u ? u : "");
    json_decref(it);
    return buf;
}

static json_t *content(fx *f, const char *h)
{
    json_t *it = fx_show(f, h);
    json_object_del(it, "lastModified");
    return it;
}

static void assert_same(json_t *a, json_t *b)
{
    if (json_equal(a, b)) return;
    char *x = json_dumps(a, JSON_SORT_KEYS), *y = json_dumps(b, JSON_SORT_KEYS);
    fail_msg("records differ:\n%s\n%s", x, y);
}

static void digest(const EVP_MD *md, const char *data, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(data, strlen(data), d, &len, md, NULL), 1);
    tu_hex(d, len, out);
}

#define HEADER                                                                                     \
    ",group_id,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,LINK_LINKURL,"        \
    "LINK_LINKTITLE,LINK_LINKLCNSE\n"

/* Assets from CSV rows (after HEADER); their handles by group key in h (keys "0".."n-1"), and
 * set S of them all. */
static void assets(fx *f, const char *rows, int n, char (*h)[64])
{
    RUN(f, 0, "orgunit add " UNIT " Library");
    size_t len = strlen(HEADER) + strlen(rows) + 1;
    char *csv = malloc(len);
    assert_non_null(csv);
    snprintf(csv, len, "%s%s", HEADER, rows);
    fx_write(f, "a.csv", csv);
    free(csv);
    RUN(f, 0, "import --format esploro-csv -s a.csv -m a.map -c %s", f->coll);
    char members[4096] = "";
    for (int i = 0; i < n; i++) {
        char g[16];
        snprintf(g, sizeof g, "%d", i);
        const char *x = fx_map_handle(f, "a.map", g);
        assert_non_null(x);
        snprintf(h[i], 64, "%s", x);
        size_t m = strlen(members);
        snprintf(members + m, sizeof members - m, " --member %s", h[i]);
    }
    RUN(f, 0, "set create S%s", members);
}

/* A link added through the library (the CSV takes http(s) links only). */
static void add_link(fx *f, const char *h, const char *url, const char *title)
{
    br_repo *repo;
    br_error err;
    int64_t id;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    br_record *rec = br_record_new();
    assert_br_ok(br_item_find(repo, h, &id, &err), &err);
    assert_br_ok(br_item_load(repo, id, rec, &err), &err);
    br_link *l = br_record_add_link(rec);
    assert_non_null(l);
    l->url = br_record_str(rec, url);
    l->title = br_record_str(rec, title);
    br_item_write w = {0};
    assert_br_ok(br_repo_begin(repo, &err), &err);
    assert_br_ok(br_item_update(repo, rec, &w, &err), &err);
    assert_br_ok(br_repo_commit(repo, &err), &err);
    br_record_free(rec);
    br_repo_free(repo);
}

#define ROW(g, title, url, ltitle)                                                                 \
    "ASSET," g "," title ",publication.journalArticle," UNIT ",2021,,,\n"                          \
    "LINK," g ",,,,," url "," ltitle ",CC-BY\n"

/* ---- tests ------------------------------------------------------------------------------ */

static void test_links_become_files(void **state)
{
    fx *f = *state;
    srv *s = srv_start();
    allow(f, s);
    char rows[8192];
    snprintf(rows, sizeof rows,
             ROW("0", "Paper", "%s", "The paper") "LINK,0,,,,,%s,Gone,\n" /* partial */
             ROW("1", "CV", "%s", "CV")                                   /* a named file */
             ROW("2", "Landing", "%s", "Home")                            /* a web page */
             ROW("3", "Huge", "%s", "Big")                                /* over the cap */
             ROW("4", "Twice", "%s", "One") "LINK,4,,,,,%s,Same again,\n" /* one file twice */
                                            "ASSET,5,No links,dataset.dataset," UNIT
                                            ",2021,,,\n", /* no links */
             url_of(s, "/file/paper.pdf"), url_of(s, "/missing"), url_of(s, "/cd"),
             url_of(s, "/page"), url_of(s, "/big"), url_of(s, "/file/one.txt"),
             url_of(s, "/file/one.txt?again"));
    char h[6][64];
    assets(f, rows, 6, h);
    assert_int_equal(s->requests, 0);

    long long job = run_job(f, 1, "S", "--param max_file_size=1000 --param retries=0");
    const char *oc;
    /* a good file: its bytes and checksums, named after the URL, the link's title as its
     * description; the link that failed stays, the other is gone */
    char url404[256];
    snprintf(url404, sizeof url404, "http://127.0.0.1:%u/missing", s->port);
    char want[600];
    snprintf(want, sizeof want, "1 file uploaded, 1 failed: %s: the server answered HTTP 404",
             url404);
    assert_string_equal(line_of(f, job, h[0], &oc), want);
    assert_string_equal(oc, "updated");
    json_t *it = fx_show(f, h[0]);
    json_t *b = fx_bitstream(it, "paper.pdf");
    assert_non_null(b);
    char md5[33], sha[65];
    digest(EVP_md5(), "file paper.pdf\n", md5);
    digest(EVP_sha256(), "file paper.pdf\n", sha);
    assert_string_equal(fx_str(b, "md5"), md5);
    assert_string_equal(fx_str(b, "sha256"), sha);
    assert_string_equal(fx_str(b, "bundle"), "ORIGINAL");
    assert_string_equal(fx_str(b, "description"), "The paper");
    assert_int_equal(json_array_size(json_object_get(it, "links")), 1);
    assert_string_equal(fx_str(json_array_get(json_object_get(it, "links"), 0), "url"), url404);
    json_decref(it);
    /* Content-Disposition names the file (its path dropped) */
    assert_string_equal(line_of(f, job, h[1], &oc), "1 file uploaded");
    it = fx_show(f, h[1]);
    assert_non_null(fx_bitstream(it, "résumé final.pdf"));
    assert_int_equal(json_array_size(json_object_get(it, "links")), 0);
    json_decref(it);
    /* a web page is not a file: the link stays */
    assert_contains(line_of(f, job, h[2], &oc), "0 files uploaded, 1 left as link");
    assert_string_equal(oc, "skipped");
    assert_int_equal(n_of(f, h[2], "links"), 1);
    assert_int_equal(n_of(f, h[2], "bitstreams"), 0);
    /* over the cap: refused while it downloads, long before the server sent it all */
    assert_contains(line_of(f, job, h[3], &oc), "0 files uploaded, 1 failed: ");
    assert_contains(line_of(f, job, h[3], &oc), "larger than the 1000 bytes allowed");
    assert_string_equal(oc, "failed");
    assert_true(__atomic_load_n(&s->big_served, __ATOMIC_SEQ_CST) < BIG);
    assert_int_equal(n_of(f, h[3], "links"), 1);
    /* the same bytes twice: stored once, the second link skipped */
    assert_string_equal(line_of(f, job, h[4], &oc), "1 file uploaded, 1 skipped (already stored)");
    assert_int_equal(n_of(f, h[4], "bitstreams"), 1);
    assert_int_equal(n_of(f, h[4], "links"), 0);
    assert_string_equal(line_of(f, job, h[5], &oc), "it has no links");

    json_t *j = fx_job(f, job);
    assert_string_equal(fx_status_code(j), "COMPLETED_WITH_ERRORS");
    assert_string_equal(
        fx_str(j, "message"),
        "assets: 2 succeeded, 1 partially succeeded, 1 failed, 2 left as they were; "
        "files: 3 uploaded, 2 failed, 1 skipped (already stored), 1 left as links");
    assert_int_equal(fx_counter(j, "updated"), 3);
    assert_int_equal(fx_counter(j, "failed"), 1);
    assert_int_equal(fx_counter(j, "skipped"), 2);
    assert_int_equal(fx_counter(j, "bitstreams"), 3);
    json_decref(j);
    assert_int_equal(fx_count_entries(f, "r/tmp"), 0);
    assert_int_equal(fx_count_entries(f, "r/assetstore/tmp"), 0);
    ASSERT_FSCK_CLEAN(f);

    /* again: the stored files are not fetched again; the link that failed is tried again */
    int before = s->requests;
    long long again = run_job(f, 1, "S", "--param max_file_size=1000 --param retries=0");
    assert_contains(line_of(f, again, h[0], &oc), "0 files uploaded, 1 failed: ");
    assert_string_equal(oc, "failed");
    assert_string_equal(line_of(f, again, h[1], &oc), "it has no links");
    assert_int_equal(n_of(f, h[0], "bitstreams"), 1);
    assert_int_equal(s->requests - before, 3); /* /missing, /page, /big */
    srv_stop(s);
}

/* The address policy and file:// links below the repository's file roots only. */
static void test_refused_addresses_and_local_files(void **state)
{
    fx *f = *state;
    srv *s = srv_start(), *other = srv_start();
    allow(f, s); /* `other` is not listed */
    char rows[4096];
    snprintf(rows, sizeof rows,
             ROW("0", "Elsewhere", "%s", "Private") "ASSET,1,Local,dataset.dataset," UNIT
                                                    ",2021,,,\n",
             url_of(other, "/file/secret.txt"));
    char h[2][64];
    assets(f, rows, 2, h);
    fx_write(f, "share/data.csv", "a,b\n1,2\n");
    fx_write(f, "outside.txt", "not to be read\n");
    char in[4200], out[4200];
    snprintf(in, sizeof in, "file://%s/share/data.csv", f->dir);
    snprintf(out, sizeof out, "file://%s/outside.txt", f->dir);
    add_link(f, h[1], in, "Data");
    add_link(f, h[1], out, "Outside");

    /* no file roots yet: every file:// link is refused, and the other server is never asked */
    long long job = run_job(f, 1, "S", "");
    const char *oc;
    assert_contains(line_of(f, job, h[0], &oc), "0 files uploaded, 1 failed: http://127.0.0.1:");
    assert_contains(line_of(f, job, h[0], &oc), "not fetched: the host is not allowed");
    assert_int_equal(other->requests, 0);
    const char *m = line_of(f, job, h[1], &oc);
    assert_contains(m, "0 files uploaded, 2 failed: ");
    assert_contains(m, "file:// links are read only below a folder listed in the repository's "
                       "file-roots.txt");
    assert_string_equal(oc, "failed");

    /* a root: the file below it is stored, the one outside it is not */
    char roots[4300];
    snprintf(roots, sizeof roots, "# folders file:// links may name\n%s/share\n", f->dir);
    fx_write(f, "r/file-roots.txt", roots);
    job = run_job(f, 1, "S", "");
    m = line_of(f, job, h[1], &oc);
    assert_string_equal(oc, "updated");
    assert_contains(m, "1 file uploaded, 1 failed: ");
    assert_contains(m, "outside.txt: the file is not below a folder listed in the repository's "
                       "file-roots.txt");
    json_t *it = fx_show(f, h[1]);
    assert_non_null(fx_bitstream(it, "data.csv"));
    assert_int_equal(json_array_size(json_object_get(it, "links")), 1);
    json_decref(it);
    assert_string_equal(link_url(f, h[1], 0), out);
    assert_true(fx_exists(f, "share/data.csv")); /* read, not moved */

    /* a file-roots.txt that does not parse: the job is refused with its line */
    fx_write(f, "r/file-roots.txt", "share\n");
    RUN(f, 3, "job run import-asset-files --set S");
    assert_contains(f->err, "file-roots.txt:1");
    assert_contains(f->err, "not an absolute folder");
    srv_stop(s);
    srv_stop(other);
}

/* A server that stalls (timeout), retries with back-off, and the parameters' checks. */
static void test_timeout_retries_and_parameters(void **state)
{
    fx *f = *state;
    srv *s = srv_start();
    allow(f, s);
    char rows[4096];
    snprintf(rows, sizeof rows, ROW("0", "Stall", "%s", "Slow") ROW("1", "Flaky", "%s", "Flaky"),
             url_of(s, "/slow"), url_of(s, "/flaky/1"));
    char h[2][64];
    assets(f, rows, 2, h);
    /* the parameters are checked before the job is queued */
    RUN(f, 2, "job run import-asset-files --set S --param max_file_size=0");
    assert_contains(f->err, "max_file_size");
    RUN(f, 2, "job run import-asset-files --set S --param timeout_ms=50");
    assert_contains(f->err, "timeout_ms");
    RUN(f, 2, "job run import-asset-files --set S --param retries=11");
    assert_contains(f->err, "retries");
    RUN(f, 2, "job run import-asset-files --set S --param timeout=5");
    assert_contains(f->err, "timeout");
    /* a dry run asks no server and writes nothing */
    json_t *a0 = content(f, h[0]);
    RUN(f, 0, "job run import-asset-files --set S --dry-run");
    assert_contains(f->out, h[0]);
    assert_int_equal(s->requests, 0);
    json_t *a1 = content(f, h[0]);
    assert_same(a0, a1);
    json_decref(a0);
    json_decref(a1);

    /* no write lock is held while a server stalls: another writer goes on meanwhile */
    SH(f, 0,
       "\"$BR\" --repo r job run import-asset-files --set S --param timeout_ms=2500 "
       "--param retries=0 --wait >bg.out 2>&1 & sleep 0.6; s=$(date +%%s%%N); "
       "\"$BR\" --repo r set create W --member %s >/dev/null 2>&1; e=$(date +%%s%%N); wait; "
       "echo $(( (e - s) / 1000000 ))",
       h[1]);
    int ms = atoi(f->out);
    if (ms > 1500) fail_msg("a write waited %d ms for the job's fetch", ms);
    char *bg = fx_read(f, "bg.out");
    assert_non_null(bg);
    assert_contains(bg, "Completed with Errors");
    free(bg);
    s->flaky[1] = 0;

    /* no retry: the stall times out, the 503 fails */
    long long job = run_job(f, 1, "S", "--param timeout_ms=300 --param retries=0");
    const char *oc;
    assert_contains(line_of(f, job, h[0], &oc), "timed out");
    assert_string_equal(oc, "failed");
    assert_contains(line_of(f, job, h[1], &oc), "HTTP 503");
    assert_int_equal(s->flaky[1], 1);
    /* one retry: a 503 then, after the back-off, a 200 */
    job = run_job(f, 1, "S", "--param timeout_ms=300 --param retries=1");
    assert_string_equal(line_of(f, job, h[1], &oc), "1 file uploaded");
    assert_string_equal(oc, "updated");
    json_t *it = fx_show(f, h[1]);
    assert_non_null(fx_bitstream(it, "1"));
    json_decref(it);
    assert_int_equal(s->flaky[1], 3);
    srv_stop(s);
}

/* Cancelled mid-set, then resumed: each asset done once, none twice; then the job reverted: the
 * links come back, the files go. */
static void test_resume_and_revert(void **state)
{
    fx *f = *state;
    srv *s = srv_start();
    allow(f, s);
    enum { N = 8 };
    char rows[8192] = "";
    for (int i = 0; i < N; i++) {
        char g[16], path[32], r[600];
        snprintf(g, sizeof g, "%d", i);
        snprintf(path, sizeof path, "/delay/%d.bin", i);
        snprintf(r, sizeof r,
                 "ASSET,%s,Asset %s,dataset.dataset," UNIT ",2021,,,\nLINK,%s,,,,,%s,File %s,\n", g,
                 g, g, url_of(s, path), g);
        size_t n = strlen(rows);
        snprintf(rows + n, sizeof rows - n, "%s", r);
    }
    char h[N][64];
    assets(f, rows, N, h);
    json_t *before[N];
    for (int i = 0; i < N; i++)
        before[i] = content(f, h[i]);
    RUN(f, 0, "job run import-asset-files --set S");
    long long job = atoll(f->out);
    /* the engine runs it here; it is cancelled once its first asset is done */
    br_repo *repo;
    br_error err;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    br_engine_options o = {0};
    o.workers = 1;
    o.queue_poll_ms = 10;
    br_engine *eng = NULL;
    assert_br_ok(br_engine_new(f->repo, &o, &eng, &err), &err);
    assert_br_ok(br_engine_start(eng, &err), &err);
    br_job j;
    for (int i = 0; i < 20000; i++) {
        assert_br_ok(br_job_get(repo, job, &j, &err), &err);
        if (j.counters.updated > 0 || br_job_status_ended(j.status)) break;
        usleep(500);
    }
    assert_br_ok(br_job_cancel(repo, job, &err), &err);
    for (int i = 0; i < 6000 && !br_job_status_ended(j.status); i++) {
        usleep(5000);
        assert_br_ok(br_job_get(repo, job, &j, &err), &err);
    }
    br_engine_free(eng);
    if (j.status != BR_JOB_USER_ABORTED)
        fail_msg("status %s: %s (the job ended before the cancel reached it)",
                 br_job_status_code(j.status), j.message);
    int64_t done = j.counters.updated;
    assert_true(done > 0 && done < N);
    /* the journal says exactly which assets are done */
    int with = 0;
    for (int i = 0; i < N; i++) {
        size_t bs = n_of(f, h[i], "bitstreams"), ln = n_of(f, h[i], "links");
        assert_int_equal(bs + ln, 1);
        with += (int)bs;
    }
    assert_int_equal(with, done);
    /* resumed: the rest, each once */
    RUN(f, 0, "job resume %lld", job);
    RUN(f, 0, "job work --once");
    json_t *jj = fx_job(f, job);
    assert_string_equal(fx_status_code(jj), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(jj, "updated"), N);
    assert_int_equal(fx_counter(jj, "processed"), N);
    assert_contains(fx_str(jj, "message"), "assets: 8 succeeded");
    json_decref(jj);
    for (int i = 0; i < N; i++) {
        json_t *it = fx_show(f, h[i]);
        char name[32], bytes[32], md5[33];
        snprintf(name, sizeof name, "%d.bin", i);
        snprintf(bytes, sizeof bytes, "delayed %d.bin\n", i);
        digest(EVP_md5(), bytes, md5);
        json_t *b = fx_bitstream(it, name);
        assert_non_null(b);
        assert_string_equal(fx_str(b, "md5"), md5);
        assert_int_equal(json_array_size(json_object_get(it, "bitstreams")), 1);
        assert_int_equal(json_array_size(json_object_get(it, "links")), 0);
        json_decref(it);
    }
    assert_int_equal(fx_stored_files(f), N);

    /* revert: every asset as it was (the link back, no file) */
    RUN(f, 0, "job revert %lld --wait", job);
    for (int i = 0; i < N; i++) {
        json_t *now = content(f, h[i]);
        assert_same(before[i], now);
        json_decref(now);
        json_decref(before[i]);
    }
    ASSERT_FSCK_CLEAN(f);
    br_repo_free(repo);
    srv_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_links_become_files),
        FX_TEST(test_refused_addresses_and_local_files),
        FX_TEST(test_timeout_retries_and_parameters),
        FX_TEST(test_resume_and_revert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
