/* The store and library pieces of the Esploro CSV import, through the API:
 * org units, the Esploro fields of creators/links/files, item update and
 * approve, identifier lookup, and remote files (fetch) against an in-test
 * HTTP server. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bulkrepo/bulkrepo.h"
#include "net/fetch.h"
#include "testutil.h"
#include "repo_fixture.h"
#include "http_fixture.h"

typedef tu_repo fixture;

/* Entries in DIR/tmp (the fetch scratch area). */
static int tmp_entries(fixture *f)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/tmp", f->repo_dir);
    DIR *d = opendir(p);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* ---- org units ----------------------------------------------------------------------------- */

static int count_unit(void *ctx, const br_orgunit *u)
{
    (void)u;
    (*(int *)ctx)++;
    return 0;
}

static void test_orgunit_add_exists_suggest(void **state)
{
    fixture *f = *state;
    br_error err;
    assert_int_equal(br_orgunit_add(f->repo, "01ALLIANCE_UID___n6370", "Library", NULL, &err), 0);
    assert_int_equal(br_orgunit_add(f->repo, "01ALLIANCE_UID___n7000", "Engineering", NULL, &err),
                     0);
    assert_int_equal(br_orgunit_add(f->repo, "01ALLIANCE_UID___n6371", "Archives",
                                    "01ALLIANCE_UID___n6370", &err),
                     0);
    assert_int_equal(br_orgunit_exists(f->repo, "01ALLIANCE_UID___n6370"), 1);
    assert_int_equal(br_orgunit_exists(f->repo, "01ALLIANCE_UID___n6379"), 0);
    /* taken, bad code, unknown parent (with a suggestion), own parent */
    assert_int_equal(br_orgunit_add(f->repo, "01ALLIANCE_UID___n6370", "Again", NULL, &err),
                     BR_EEXISTS);
    assert_int_equal(br_orgunit_add(f->repo, "bad code", "X", NULL, &err), BR_EINVAL);
    assert_int_equal(br_orgunit_add(f->repo, "", "X", NULL, &err), BR_EINVAL);
    assert_int_equal(br_orgunit_add(f->repo, "A___b", "", NULL, &err), BR_EINVAL);
    assert_int_equal(br_orgunit_add(f->repo, "A___b", "X", "01ALLIANCE_UID___n6379", &err),
                     BR_ENOTFOUND);
    assert_contains(err.message, "did you mean 01ALLIANCE_UID___n6370?");
    assert_int_equal(br_orgunit_add(f->repo, "A___b", "X", "A___b", &err), BR_EINVAL);

    char s[256];
    /* a typo in the unit code */
    assert_int_equal(br_orgunit_suggest(f->repo, "01ALLIANCE_UID___n6379", s, sizeof s), 0);
    assert_string_equal(s, "01ALLIANCE_UID___n6370");
    /* the unit code alone, or with another institution prefix */
    assert_int_equal(br_orgunit_suggest(f->repo, "n7000", s, sizeof s), 0);
    assert_string_equal(s, "01ALLIANCE_UID___n7000");
    assert_int_equal(br_orgunit_suggest(f->repo, "01ALLIANCE_WSU___n7000", s, sizeof s), 0);
    assert_string_equal(s, "01ALLIANCE_UID___n7000");
    /* nothing plausible */
    assert_int_equal(br_orgunit_suggest(f->repo, "ZZZZZZZZZZZZ", s, sizeof s), BR_ENOTFOUND);
    assert_string_equal(s, "");
    int n = 0;
    assert_int_equal(br_orgunit_list(f->repo, count_unit, &n, &err), 0);
    assert_int_equal(n, 3);
}

static void test_orgunit_import(void **state)
{
    fixture *f = *state;
    br_error err;
    size_t n = 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/ou.csv", f->dir);
    /* BOM, any column order and case, a parent defined later, a quoted name, a blank row */
    tu_write(f->dir, "ou.csv",
             "\xEF\xBB\xBFName,PARENT,code\r\nSub unit,X___top,X___sub\r\n\"Top, "
             "the\",,X___top\r\n,,\r\n");
    assert_int_equal(br_orgunit_import(f->repo, path, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(br_orgunit_exists(f->repo, "X___sub"), 1);
    assert_int_equal(br_orgunit_exists(f->repo, "X___top"), 1);
    /* Re-importing updates. */
    tu_write(f->dir, "ou.csv", "code,name\nX___top,Renamed\n");
    assert_int_equal(br_orgunit_import(f->repo, path, &n, &err), 0);

    static const struct {
        const char *csv, *msg;
        int code;
    } bad[] = {
        {"code,name,parent\nY___a,A,Y___nowhere\n", "names parent Y___nowhere", BR_EINVAL},
        {"code,nam\nY___a,A\n", "unknown column 'nam'", BR_EINVAL},
        {"code\nY___a\n", "must name the columns code and name", BR_EINVAL},
        {"code,name\nY___a,A\nY b,B\n", "row 3", BR_EINVAL},
        {"code,name\nY___a,\"A\n", "unterminated", BR_EINVAL},
        {"code,name\nY___a,\xE9t\xE9\n", "not valid UTF-8", BR_EINVAL},
        {"", "empty", BR_EINVAL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tu_write(f->dir, "ou.csv", bad[i].csv);
        int rc = br_orgunit_import(f->repo, path, &n, &err);
        if (rc != bad[i].code) print_error("case %zu: rc %d (%s)\n", i, rc, err.message);
        assert_int_equal(rc, bad[i].code);
        assert_contains(err.message, bad[i].msg);
        /* all or nothing */
        assert_int_equal(br_orgunit_exists(f->repo, "Y___a"), 0);
    }
    snprintf(path, sizeof path, "%s/none.csv", f->dir);
    assert_int_equal(br_orgunit_import(f->repo, path, &n, &err), BR_ENOTFOUND);
}

/* ---- Esploro fields, update, approve, identifiers ----------------------------------------- */

static int64_t insert_item(fixture *f, const char *status, br_record *r)
{
    br_error err;
    br_record_add_md(r, "dc", "title", NULL, NULL, "Original title");
    br_record_add_md(r, "dc", "subject", NULL, NULL, "keep me");
    br_record_add_collection(r, f->coll);
    br_creator *c = br_record_add_creator(r, BR_CREATOR);
    c->family = br_record_str(r, "Curie");
    c->given = br_record_str(r, "Marie");
    c->primary_id = br_record_str(r, "P123");
    c->brcode = br_record_str(r, "BR9");
    c->additional = br_record_str(r, "extra");
    br_link *l = br_record_add_link(r);
    l->url = br_record_str(r, "https://example.org/a");
    l->order = br_record_str(r, "2");
    l->display_in_viewer = br_record_str(r, "true");
    char src[4200];
    snprintf(src, sizeof src, "%s/paper.txt", f->dir);
    tu_write(f->dir, "paper.txt", "paper body\n");
    br_bitstream *b = br_record_add_bitstream(r, "paper.txt");
    b->license = br_record_str(r, "CCBY_V4.0");
    b->rights = br_record_str(r, "open");
    b->rights_reason = br_record_str(r, "policy");
    b->rights_date = br_record_str(r, "2024-01-02");
    b->content_type = br_record_str(r, "accepted");
    b->supplemental = br_record_str(r, "false");
    b->order = br_record_str(r, "1");
    assert_int_equal(br_asset_put_file(f->repo, src, 0, r, b, &err), 0);
    br_record_add_identifier(r, "origid", "SRC-1");
    br_item_write w = {status, 0, NULL};
    assert_int_equal(br_repo_begin(f->repo, &err), 0);
    assert_int_equal(br_item_insert(f->repo, r, &w, &err), 0);
    assert_int_equal(br_repo_commit(f->repo, &err), 0);
    return r->id;
}

static void test_esploro_fields_round_trip(void **state)
{
    fixture *f = *state;
    br_error err;
    br_record *r = br_record_new(), *back = br_record_new();
    int64_t id = insert_item(f, "draft", r);
    assert_int_equal(br_item_load(f->repo, id, back, &err), 0);
    assert_string_equal(back->status, "draft");
    assert_int_equal(back->n_creators, 1);
    assert_string_equal(back->creators[0].primary_id, "P123");
    assert_string_equal(back->creators[0].brcode, "BR9");
    assert_string_equal(back->creators[0].additional, "extra");
    assert_int_equal(back->n_links, 1);
    assert_string_equal(back->links[0].order, "2");
    assert_string_equal(back->links[0].display_in_viewer, "true");
    assert_int_equal(back->n_bs, 1);
    const br_bitstream *b = &back->bs[0];
    assert_string_equal(b->license, "CCBY_V4.0");
    assert_string_equal(b->rights, "open");
    assert_string_equal(b->rights_reason, "policy");
    assert_string_equal(b->rights_date, "2024-01-02");
    assert_string_equal(b->content_type, "accepted");
    assert_string_equal(b->supplemental, "false");
    assert_string_equal(b->order, "1");

    int64_t found = 0;
    assert_int_equal(br_item_find_by_identifier(f->repo, "origid", "SRC-1", &found, &err), 0);
    assert_int_equal(found, id);
    assert_int_equal(br_item_find_by_identifier(f->repo, "origid", "SRC-2", &found, &err),
                     BR_ENOTFOUND);
    assert_int_equal(br_item_find_by_identifier(f->repo, "doi", "SRC-1", &found, &err),
                     BR_ENOTFOUND);
    br_record_free(r);
    br_record_free(back);
}

static void test_item_update_keeps_identity(void **state)
{
    fixture *f = *state;
    br_error err;
    br_record *r = br_record_new(), *back = br_record_new();
    int64_t id = insert_item(f, "draft", r);
    char handle[64], uuid[64];
    snprintf(handle, sizeof handle, "%s", r->handle);
    snprintf(uuid, sizeof uuid, "%s", r->uuid);
    assert_int_equal(br_item_load(f->repo, id, back, &err), 0);
    /* New values: a title replaced, no creators, the link and file kept. */
    br_record *upd = br_record_new();
    upd->id = id;
    br_record_add_md(upd, "dc", "title", NULL, NULL, "New title");
    br_link *l = br_record_add_link(upd);
    l->url = br_record_str(upd, "https://example.org/b");
    br_bitstream *b = br_record_add_bitstream(upd, back->bs[0].name);
    *b = back->bs[0];
    br_item_write w = {NULL, 0, NULL};
    assert_int_equal(br_repo_begin(f->repo, &err), 0);
    assert_int_equal(br_item_update(f->repo, upd, &w, &err), 0);
    assert_int_equal(br_repo_commit(f->repo, &err), 0);
    assert_int_equal(br_item_load(f->repo, id, back, &err), 0);
    assert_string_equal(back->handle, handle);
    assert_string_equal(back->uuid, uuid);
    assert_string_equal(back->status, "draft");
    assert_string_equal(back->owning_collection, f->coll);
    assert_int_equal(back->n_md, 1);
    assert_string_equal(br_record_first(back, "dc.title"), "New title");
    assert_int_equal(back->n_creators, 0);
    assert_int_equal(back->n_links, 1);
    assert_string_equal(back->links[0].url, "https://example.org/b");
    assert_int_equal(back->n_bs, 1);
    assert_int_equal(back->n_ids, 0);
    upd->id = 999999;
    assert_int_equal(br_item_update(f->repo, upd, &w, &err), BR_ENOTFOUND);
    br_record_free(upd);
    br_record_free(r);
    br_record_free(back);
}

static void test_approve(void **state)
{
    fixture *f = *state;
    br_error err;
    br_record *r1 = br_record_new(), *r2 = br_record_new(), *back = br_record_new();
    int64_t a = insert_item(f, "draft", r1);
    br_record *tmp = br_record_new();
    br_record_add_md(tmp, "dc", "title", NULL, NULL, "Archived one");
    br_record_add_collection(tmp, f->coll);
    assert_int_equal(br_repo_begin(f->repo, &err), 0);
    assert_int_equal(br_item_insert(f->repo, tmp, NULL, &err), 0);
    assert_int_equal(br_repo_commit(f->repo, &err), 0);
    int64_t archived = tmp->id;
    (void)r2;

    /* All or nothing: one of them is not a draft. */
    int64_t both[2] = {a, archived};
    assert_int_equal(br_items_approve(f->repo, both, 2, "alice", &err), BR_EINVAL);
    assert_contains(err.message, "not a draft");
    assert_int_equal(br_item_load(f->repo, a, back, &err), 0);
    assert_string_equal(back->status, "draft");
    assert_false(br_record_has(back, "dc.date.accessioned"));

    assert_int_equal(br_items_approve(f->repo, &a, 1, "alice", &err), 0);
    assert_int_equal(br_item_load(f->repo, a, back, &err), 0);
    assert_string_equal(back->status, "archived");
    assert_true(br_record_has(back, "dc.date.accessioned"));
    assert_true(br_record_has(back, "dc.date.available"));
    assert_contains(br_record_first(back, "dc.description.provenance"), "alice");
    /* Everything else is as it was. */
    assert_string_equal(br_record_first(back, "dc.title"), "Original title");
    assert_int_equal(back->n_creators, 1);
    assert_int_equal(back->n_bs, 1);
    assert_int_equal(back->n_ids, 1);
    /* Approving again is an error. */
    assert_int_equal(br_items_approve(f->repo, &a, 1, "alice", &err), BR_EINVAL);
    size_t n = 5;
    assert_int_equal(br_job_approve(f->repo, 424242, "alice", &n, &err), BR_ENOTFOUND);
    assert_int_equal(n, 0);
    br_record_free(tmp);
    br_record_free(r1);
    br_record_free(r2);
    br_record_free(back);
}

/* ---- fetch -------------------------------------------------------------------------------------
 */

static void test_fetch(void **state)
{
    fixture *f = *state;
    hf_server *s = hf_start();
    assert_non_null(s);
    br_error err;
    char path[4200];
    br_fetch_options o = {
        .max_size = 10000, .timeout_ms = 1000, .connect_timeout_ms = 1000, .backoff_ms = 10};

    assert_int_equal(br_fetch_url(f->repo, hf_url(s, "/ok/a.txt"), &o, path, sizeof path, &err), 0);
    char *body = tu_read(path);
    assert_string_equal(body, "remote file a.txt\n");
    free(body);
    assert_int_equal(unlink(path), 0);

    /* a redirect within http */
    assert_int_equal(br_fetch_url(f->repo, hf_url(s, "/redirect"), &o, path, sizeof path, &err), 0);
    body = tu_read(path);
    assert_string_equal(body, "remote file redirected\n");
    free(body);
    unlink(path);

    /* retried: 503 then 200 */
    assert_int_equal(br_fetch_url(f->repo, hf_url(s, "/flaky"), &o, path, sizeof path, &err), 0);
    body = tu_read(path);
    assert_string_equal(body, "flaky ok\n");
    free(body);
    unlink(path);

    static const struct {
        const char *path;
        int code;
        const char *msg;
    } bad[] = {
        {"/missing", BR_EIO, "HTTP 404"},
        {"/big", BR_ELIMIT, "larger than the 10000 bytes"},
        {"/big-stream", BR_ELIMIT, "larger than the 10000 bytes"},
        {"/slow", BR_EIO, "timed out"},
        {"/redirect-file", BR_EUSAGE, "not http or https"},
        {"/loop", BR_EIO, "download failed"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o.retries = i == 3 ? -1 : 0; /* no retries of the slow one: keep the test short */
        int before = s->requests;
        int rc = br_fetch_url(f->repo, hf_url(s, bad[i].path), &o, path, sizeof path, &err);
        if (rc != bad[i].code) print_error("%s: rc %d (%s)\n", bad[i].path, rc, err.message);
        assert_int_equal(rc, bad[i].code);
        assert_contains(err.message, bad[i].msg);
        assert_string_equal(path, "");
        /* nothing partial remains */
        assert_int_equal(tmp_entries(f), 0);
        /* a 404 is not retried */
        if (i == 0) assert_int_equal(s->requests - before, 1);
    }
    /* not http(s) */
    assert_int_equal(br_fetch_url(f->repo, "file:///etc/passwd", &o, path, sizeof path, &err),
                     BR_EUSAGE);
    assert_int_equal(br_fetch_url(f->repo, "ftp://127.0.0.1/x", &o, path, sizeof path, &err),
                     BR_EUSAGE);
    hf_stop(s);
}

static int stop_now(void *ctx)
{
    (void)ctx;
    return 1;
}

static void test_fetch_cancel_and_retry_limit(void **state)
{
    fixture *f = *state;
    hf_server *s = hf_start();
    assert_non_null(s);
    br_error err;
    char path[4200];
    br_fetch_options o = {.max_size = 10000, .timeout_ms = 5000, .cancelled = stop_now};
    assert_int_equal(br_fetch_url(f->repo, hf_url(s, "/slow"), &o, path, sizeof path, &err),
                     BR_ECANCELLED);
    assert_int_equal(tmp_entries(f), 0);
    /* A server error is retried `retries` times, then reported. */
    br_fetch_options r = {.max_size = 10000, .timeout_ms = 1000, .retries = 2, .backoff_ms = 5};
    int before = s->requests;
    assert_int_equal(br_fetch_url(f->repo, hf_url(s, "/missing"), &r, path, sizeof path, &err),
                     BR_EIO);
    assert_int_equal(s->requests - before, 1);
    hf_stop(s);
}

/* ---- the import pipeline through the API -------------------------------------------------------
 */

#define UNIT "01ALLIANCE_UID___n6370"

static void import_opts(fixture *f, br_import_options *o, const char *csv, const char *map)
{
    static char src[4200], mp[4200];
    memset(o, 0, sizeof *o);
    snprintf(src, sizeof src, "%s/%s", f->dir, csv);
    snprintf(mp, sizeof mp, "%s/%s", f->dir, map);
    o->source = src;
    o->mapfile = mp;
    o->eperson = "tester";
}

static void test_import_structured(void **state)
{
    fixture *f = *state;
    br_error err;
    assert_int_equal(br_orgunit_add(f->repo, UNIT, "Library", NULL, &err), 0);
    tu_write(f->dir, "files/paper.pdf", "%PDF paper\n");
    tu_write(
        f->dir, "a.csv",
        ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,CREATOR_FAMNAME,"
        "CREATOR_GIVNAME,CREATOR_ORCID,CREATOR_AFFILIATION,LINK_LINKURL,LINK_LINKTITLE,LINK_ORDER,"
        "FILE_FILEURL,FILE_DISPLAY_NAME,FILE_CONTENTTYPE\n"
        "ASSET,0,Fish,publication.journalArticle," UNIT ",20211018,,,,,,,,,,\n"
        "CREATOR,0,,,,,Smith,Jane,0000-0002-1825-0097," UNIT ",,,,,,\n"
        "CREATOR,0,,,,,Doe,John,,,,,,,,\n"
        "CREATOR,0,,,,,Roe,Ann,,,,,,,,\n"
        "LINK,0,,,,,,,,,https://example.org/a,Project,1,,,\n"
        "LINK,0,,,,,,,,,https://example.org/b,Data,2,,,\n"
        "FILE,0,,,,,,,,,,,,files/paper.pdf,Paper,accepted\n");
    br_import_options o;
    import_opts(f, &o, "a.csv", "a.map");
    br_import_result res;
    int rc = br_import_esploro(f->repo, &o, &res, &err);
    if (rc) print_error("%s\n", err.message);
    assert_int_equal(rc, 0);
    assert_int_equal(res.imported, 1);
    assert_int_equal(res.bitstreams, 1);
    br_record *r = br_record_new();
    int64_t id;
    char *map = tu_read(o.mapfile);
    char handle[64];
    assert_int_equal(sscanf(map, "0 %63s", handle), 1);
    free(map);
    assert_int_equal(br_item_find(f->repo, handle, &id, &err), 0);
    assert_int_equal(br_item_load(f->repo, id, r, &err), 0);
    assert_int_equal(r->n_creators, 3);
    static const char *const fam[] = {"Smith", "Doe", "Roe"}, *const giv[] = {"Jane", "John",
                                                                              "Ann"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r->creators[i].role, BR_CREATOR);
        assert_int_equal(r->creators[i].place, i);
        assert_string_equal(r->creators[i].family, fam[i]);
        assert_string_equal(r->creators[i].given, giv[i]);
    }
    assert_string_equal(r->creators[0].orcid, "0000-0002-1825-0097");
    assert_string_equal(r->creators[0].affiliation, UNIT);
    assert_int_equal(r->n_links, 2);
    assert_string_equal(r->links[0].url, "https://example.org/a");
    assert_string_equal(r->links[0].title, "Project");
    assert_string_equal(r->links[1].url, "https://example.org/b");
    assert_string_equal(r->links[1].order, "2");
    assert_int_equal(r->n_bs, 1);
    assert_string_equal(r->bs[0].name, "Paper");
    assert_string_equal(r->bs[0].content_type, "accepted");
    assert_int_equal(strlen(r->bs[0].sha256), 64);
    assert_string_equal(r->status, "draft");
    br_record_free(r);
}

/* N groups of one ASSET row each. */
static void write_groups(fixture *f, const char *rel, int n)
{
    size_t cap = 256 + (size_t)n * 128;
    char *csv = malloc(cap);
    size_t len = (size_t)snprintf(
        csv, cap, ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE\n");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(csv + len, cap - len,
                                "ASSET,g%03d,Title %d,dataset.dataset," UNIT ",2020\n", i, i);
    tu_write(f->dir, rel, csv);
    free(csv);
}

typedef struct stop_at {
    size_t at;
    int hard; /* _exit instead of cancel: a crash in the middle of a batch */
} stop_at;

static int stop_progress(void *ctx, const char *phase, size_t done, size_t total)
{
    (void)total;
    stop_at *s = ctx;
    if (strcmp(phase, "writing") || done < s->at) return 0;
    if (s->hard) _exit(9);
    return 1;
}

/* Every group exactly once in the store and in the mapfile. */
static void assert_complete(fixture *f, const char *mapfile, int n)
{
    assert_int_equal(br_item_count(f->repo), n);
    char *map = tu_read(mapfile);
    assert_non_null(map);
    int lines = 0;
    for (char *p = map; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, n);
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "g%03d ", i);
        char *hit = strstr(map, key);
        assert_non_null(hit);
        assert_null(strstr(hit + 1, key));
    }
    free(map);
}

/* An uploaded CSV (files_root set, as the engine does for uploads) may only
 * import files uploaded with it: a file:// URL or an absolute path to the
 * server's own files, and a link leading out, are refused and nothing is written. */
static void count_outside(void *ctx, const br_diag *d)
{
    if (d->rule && !strcmp(d->rule, "file.outside")) (*(int *)ctx)++;
}

static void test_import_files_root(void **state)
{
    fixture *f = *state;
    br_error err;
    assert_int_equal(br_orgunit_add(f->repo, UNIT, "Library", NULL, &err), 0);
    tu_write(f->dir, "up/files/paper.pdf", "%PDF paper\n");
    tu_write(f->dir, "secret.txt", "not for upload\n");
    char link[4200], target[4200];
    snprintf(link, sizeof link, "%s/up/escape.txt", f->dir);
    snprintf(target, sizeof target, "%s/secret.txt", f->dir);
    assert_int_equal(symlink(target, link), 0);
    static const char *const outside[] = {"file:///etc/hostname", "/etc/hostname", "escape.txt"};
    char root[4200];
    snprintf(root, sizeof root, "%s/up", f->dir);
    for (int i = 0; i < 3; i++) {
        char csv[1024];
        snprintf(csv, sizeof csv,
                 ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,"
                 "FILE_FILEURL\n"
                 "ASSET,0,Fish,publication.journalArticle," UNIT ",20211018,\n"
                 "FILE,0,,,,,%s\n",
                 outside[i]);
        tu_write(f->dir, "up/a.csv", csv);
        br_import_options o;
        import_opts(f, &o, "up/a.csv", "a.map");
        o.files_root = root;
        int n_outside = 0;
        br_diag_sink sink = {count_outside, &n_outside, 0, 0, 0};
        o.diags = &sink;
        br_import_result res;
        assert_int_equal(br_import_esploro(f->repo, &o, &res, &err), BR_EINVAL);
        assert_int_equal(n_outside, 1);
        assert_int_equal(res.invalid, 1);
        assert_int_equal(res.imported, 0);
        assert_int_equal(br_item_count(f->repo), 0);
    }
    /* A hard link made in the upload folder to a file outside it is refused. */
    char hard[4200];
    snprintf(hard, sizeof hard, "%s/up/hard.txt", f->dir);
    assert_int_equal(linkat(AT_FDCWD, target, AT_FDCWD, hard, 0), 0);
    tu_write(
        f->dir, "up/a.csv",
        ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,FILE_FILEURL\n"
        "ASSET,0,Fish,publication.journalArticle," UNIT ",20211018,\n"
        "FILE,0,,,,,hard.txt\n");
    {
        br_import_options o;
        import_opts(f, &o, "up/a.csv", "h.map");
        o.files_root = root;
        br_import_result res;
        assert_int_equal(br_import_esploro(f->repo, &o, &res, &err), BR_EINVAL);
        assert_int_equal(res.invalid, 1);
        assert_int_equal(br_item_count(f->repo), 0);
    }
    assert_int_equal(unlink(hard), 0);
    /* A file beside the CSV is inside. */
    tu_write(
        f->dir, "up/a.csv",
        ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,FILE_FILEURL\n"
        "ASSET,0,Fish,publication.journalArticle," UNIT ",20211018,\n"
        "FILE,0,,,,,files/paper.pdf\n");
    br_import_options o;
    import_opts(f, &o, "up/a.csv", "b.map");
    o.files_root = root;
    br_import_result res;
    assert_int_equal(br_import_esploro(f->repo, &o, &res, &err), 0);
    assert_int_equal(res.imported, 1);
    assert_int_equal(res.bitstreams, 1);
}

static void test_import_cancel_and_resume(void **state)
{
    fixture *f = *state;
    br_error err;
    assert_int_equal(br_orgunit_add(f->repo, UNIT, "Library", NULL, &err), 0);
    write_groups(f, "n.csv", 30);
    br_import_options o;
    import_opts(f, &o, "n.csv", "n.map");
    o.batch_size = 4;
    stop_at s = {10, 0};
    o.progress = stop_progress;
    o.progress_ctx = &s;
    br_import_result res;
    assert_int_equal(br_import_esploro(f->repo, &o, &res, &err), BR_ECANCELLED);
    assert_int_equal(res.imported, 10);
    assert_int_equal(br_item_count(f->repo), 10);
    o.progress = NULL;
    /* without -R the mapfile is not overwritten */
    assert_int_equal(br_import_esploro(f->repo, &o, &res, &err), BR_EUSAGE);
    o.resume = 1;
    assert_int_equal(br_import_esploro(f->repo, &o, &res, &err), 0);
    assert_int_equal(res.skipped, 10);
    assert_int_equal(res.imported, 20);
    assert_complete(f, o.mapfile, 30);
    /* once more: nothing to do */
    assert_int_equal(br_import_esploro(f->repo, &o, &res, &err), 0);
    assert_int_equal(res.imported, 0);
    assert_int_equal(res.skipped, 30);
    assert_complete(f, o.mapfile, 30);
}

/* Removes a file once every group is validated, before the write pass. */
static int remove_after_validation(void *ctx, const char *phase, size_t done, size_t total)
{
    (void)total;
    if (!strcmp(phase, "validating") && done == 2) unlink(ctx);
    return 0;
}

/* A local file gone between validation and writing: that group is journaled
 * as failed (it used to be left out silently), the others are stored. */
static void test_import_file_gone_after_validation(void **state)
{
    fixture *f = *state;
    br_error err;
    assert_int_equal(br_orgunit_add(f->repo, UNIT, "Library", NULL, &err), 0);
    tu_write(f->dir, "a.txt", "a\n");
    tu_write(f->dir, "b.txt", "b\n");
    tu_write(
        f->dir, "g.csv",
        ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,FILE_FILEURL\n"
        "ASSET,1,One,dataset.dataset," UNIT ",2020,\n"
        "FILE,1,,,,,a.txt\n"
        "ASSET,2,Two,dataset.dataset," UNIT ",2020,\n"
        "FILE,2,,,,,b.txt\n");
    char gone[4096];
    snprintf(gone, sizeof gone, "%s/b.txt", f->dir);
    br_import_options o;
    import_opts(f, &o, "g.csv", "g.map");
    o.progress = remove_after_validation;
    o.progress_ctx = gone;
    br_import_result res;
    assert_int_equal(br_import_esploro(f->repo, &o, &res, &err), BR_EINVAL);
    assert_int_equal(res.valid, 2);
    assert_int_equal(res.imported, 1);
    assert_int_equal(res.failed, 1);
    assert_int_equal(br_item_count(f->repo), 1);
    char outcome[32], handle[64];
    assert_int_equal(br_job_record_find(f->repo, res.job_id, "2", outcome, sizeof outcome, handle,
                                        sizeof handle, &err),
                     0);
    assert_string_equal(outcome, BR_OUTCOME_FAILED);
}

static void test_import_killed_and_resumed(void **state)
{
    fixture *f = *state;
    br_error err;
    assert_int_equal(br_orgunit_add(f->repo, UNIT, "Library", NULL, &err), 0);
    write_groups(f, "n.csv", 30);
    br_import_options o;
    import_opts(f, &o, "n.csv", "k.map");
    o.batch_size = 4;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child dies in the middle of its fourth batch (13 of 30). */
        br_repo *r;
        if (br_repo_open(f->repo_dir, &r, &err)) _exit(1);
        stop_at s = {13, 1};
        o.progress = stop_progress;
        o.progress_ctx = &s;
        br_import_esploro(r, &o, NULL, &err);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 9);
    /* A fresh connection: this one may still hold a read snapshot from before
     * the child's commits (a statement of the setup left un-reset). */
    br_repo_free(f->repo);
    assert_int_equal(br_repo_open(f->repo_dir, &f->repo, &err), 0);
    /* Three committed batches; the fourth's item is gone with its transaction. */
    assert_int_equal(br_item_count(f->repo), 12);
    o.resume = 1;
    br_import_result res;
    assert_int_equal(br_import_esploro(f->repo, &o, &res, &err), 0);
    assert_int_equal(res.skipped, 12);
    assert_int_equal(res.imported, 18);
    assert_complete(f, o.mapfile, 30);
    br_fsck_report rep;
    br_diag_sink quiet = {0};
    assert_int_equal(br_repo_fsck(f->repo, &quiet, &rep, &err), 0);
    assert_int_equal(quiet.errors, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_orgunit_add_exists_suggest, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_orgunit_import, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_esploro_fields_round_trip, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_item_update_keeps_identity, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_approve, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_fetch, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_fetch_cancel_and_retry_limit, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_import_structured, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_import_files_root, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_import_cancel_and_resume, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_import_file_gone_after_validation, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_import_killed_and_resumed, tu_repo_setup,
                                        tu_repo_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
