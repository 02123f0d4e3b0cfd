/* SAF export from a repository built through the public API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "repo_fixture.h"
#include "bulkrepo/bulkrepo.h"

/* The repository every test starts from (handle prefix 123456789):
 *   community /1; collections A = /2, B = /3, Empty = /4
 *   /9   "First"  in A           left of isAuthorOfPublication -> /20 and -> /50
 *   /20  "Second" in A, mapped into B; two files; accession values
 *   /100 "Third"  in B, mapped into A
 *   /50  "Outside" in B only
 *   /30  "Gone"   in A, withdrawn
 * Export of A: folders 1 = /9, 2 = /20, 3 = /100 (handle order, numeric). */
typedef struct fixture {
    char *tmp;
    char repo_dir[4096];
    br_repo *repo;
    int64_t id9, id20, id100, id50, id30;
} fixture;

static int64_t add_item(fixture *f, const char *handle, const char *title, const char *owner,
                        const char *mapped, void (*more)(fixture *, br_record *))
{
    br_record *r = br_record_new();
    br_error err;
    r->handle = br_record_str(r, handle);
    br_record_add_md(r, "dc", "title", NULL, NULL, title);
    br_record_add_collection(r, owner);
    if (mapped) br_record_add_collection(r, mapped);
    if (more) more(f, r);
    assert_br_ok(br_repo_begin(f->repo, &err), &err);
    assert_br_ok(br_item_insert(f->repo, r, NULL, &err), &err);
    assert_br_ok(br_repo_commit(f->repo, &err), &err);
    int64_t id = r->id;
    br_record_free(r);
    return id;
}

static void more_first(fixture *f, br_record *r)
{
    (void)f;
    br_record_add_md(r, "dcterms", "abstract", NULL, "en", "About <first> & more");
}

static void more_second(fixture *f, br_record *r)
{
    br_error err;
    br_record_add_md(r, "dc", "contributor", "author", NULL, "Dickens, Charles");
    br_record_add_md(r, "dc", "date", "accessioned", NULL, "2020-01-01T00:00:00Z");
    br_record_add_md(r, "dc", "date", "available", NULL, "2020-01-01T00:00:00Z");
    br_record_add_md(r, "dc", "description", "provenance", "en", "Submitted by someone");
    br_record_add_md(r, "dc", "identifier", "uri", NULL, "http://hdl.handle.net/123456789/20");
    tu_write(f->tmp, "src/book.pdf", "%PDF-1.4 book\n");
    tu_write(f->tmp, "src/license.txt", "the license");
    br_bitstream *b = br_record_add_bitstream(r, "book.pdf");
    b->primary = 1;
    b->description = br_record_str(r, "The book");
    assert_br_ok(br_asset_put_file(f->repo, tu_path(f->tmp, "src/book.pdf"), 0, r, b, &err), &err);
    b = br_record_add_bitstream(r, "license.txt");
    b->bundle = br_record_str(r, "LICENSE");
    assert_br_ok(br_asset_put_file(f->repo, tu_path(f->tmp, "src/license.txt"), 0, r, b, &err),
                 &err);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    br_error err;
    f->tmp = tu_tmpdir();
    snprintf(f->repo_dir, sizeof f->repo_dir, "%s/repo", f->tmp);
    f->repo = tu_repo_create(f->repo_dir, "123456789");
    br_container c;
    assert_br_ok(br_container_create(f->repo, 1, "Community", NULL, &c, &err), &err);
    assert_string_equal(c.handle, "123456789/1");
    assert_br_ok(br_container_create(f->repo, 0, "A", "123456789/1", &c, &err), &err);
    assert_string_equal(c.handle, "123456789/2");
    assert_br_ok(br_container_create(f->repo, 0, "B", "123456789/1", &c, &err), &err);
    assert_br_ok(br_container_create(f->repo, 0, "Empty", "123456789/1", &c, &err), &err);
    assert_string_equal(c.handle, "123456789/4");
    /* Inserted out of handle order on purpose. */
    f->id100 = add_item(f, "123456789/100", "Third", "123456789/3", "123456789/2", NULL);
    f->id20 = add_item(f, "123456789/20", "Second", "123456789/2", "123456789/3", more_second);
    f->id50 = add_item(f, "123456789/50", "Outside", "123456789/3", NULL, NULL);
    f->id30 = add_item(f, "123456789/30", "Gone", "123456789/2", NULL, NULL);
    f->id9 = add_item(f, "123456789/9", "First", "123456789/2", NULL, more_first);
    assert_br_ok(br_item_set_status(f->repo, f->id30, "withdrawn", &err), &err);
    assert_br_ok(br_relation_insert(f->repo, "isAuthorOfPublication", f->id9, f->id20, &err), &err);
    assert_br_ok(br_relation_insert(f->repo, "isAuthorOfPublication", f->id9, f->id50, &err), &err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    br_repo_free(f->repo);
    tu_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

static br_export_options collection_a(const char *dest)
{
    br_export_options o;
    memset(&o, 0, sizeof o);
    o.scope = BR_EXPORT_COLLECTION;
    o.id = "123456789/2";
    o.dest = dest;
    o.seq = 1; /* the CLI's default */
    return o;
}

static void export_ok(fixture *f, const br_export_options *o, br_export_result *res)
{
    br_error err;
    br_error_clear(&err);
    mkdir(o->dest, 0755);
    assert_br_ok(br_export_saf(f->repo, o, res, &err), &err);
}

/* ---- collection export --------------------------------------------------------- */

typedef struct journal {
    char keys[8][16];
    char handles[8][64];
    size_t n;
} journal;

static int collect_journal(void *ctx, const br_job_record *r)
{
    journal *j = ctx;
    assert_string_equal(r->outcome, BR_OUTCOME_EXPORTED);
    if (j->n < 8) {
        snprintf(j->keys[j->n], sizeof j->keys[0], "%s", r->key);
        snprintf(j->handles[j->n], sizeof j->handles[0], "%s", r->handle ? r->handle : "");
    }
    j->n++;
    return 0;
}

static void test_collection_tree(void **state)
{
    fixture *f = *state;
    br_export_options o = collection_a(tu_path(f->tmp, "out"));
    br_export_result res;
    export_ok(f, &o, &res);
    assert_int_equal(res.items, 3);
    assert_int_equal(res.bitstreams, 2);
    assert_int_equal(res.bytes, strlen("%PDF-1.4 book\n") + strlen("the license"));

    /* Handle order (numeric suffix), mapped items included, withdrawn left out. */
    assert_file_equals(tu_path(f->tmp, "out/1/handle"), "123456789/9\n");
    assert_file_equals(tu_path(f->tmp, "out/2/handle"), "123456789/20\n");
    assert_file_equals(tu_path(f->tmp, "out/3/handle"), "123456789/100\n");
    assert_false(tu_exists(tu_path(f->tmp, "out/4")));

    assert_file_equals(tu_path(f->tmp, "out/1/dublin_core.xml"),
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<dublin_core schema=\"dc\">\n"
                       "  <dcvalue element=\"title\" qualifier=\"none\">First</dcvalue>\n"
                       "</dublin_core>\n");
    assert_file_equals(
        tu_path(f->tmp, "out/1/metadata_dcterms.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<dublin_core schema=\"dcterms\">\n"
        "  <dcvalue element=\"abstract\" qualifier=\"none\" language=\"en\">About &lt;first&gt; "
        "&amp; more</dcvalue>\n"
        "</dublin_core>\n");
    /* In the package: its folder; outside: its handle. */
    assert_file_equals(tu_path(f->tmp, "out/1/relationships"),
                       "relation.isAuthorOfPublication folderName:2\n"
                       "relation.isAuthorOfPublication 123456789/50\n");
    assert_false(tu_exists(tu_path(f->tmp, "out/2/relationships"))); /* right side only */
    assert_false(tu_exists(tu_path(f->tmp, "out/1/contents")));      /* metadata-only */

    assert_file_equals(tu_path(f->tmp, "out/2/contents"),
                       "book.pdf\tbundle:ORIGINAL\tprimary:true\tdescription:The book\n"
                       "license.txt\tbundle:LICENSE\n");
    assert_file_equals(tu_path(f->tmp, "out/2/book.pdf"), "%PDF-1.4 book\n");
    assert_file_equals(tu_path(f->tmp, "out/2/license.txt"), "the license");
    assert_file_equals(tu_path(f->tmp, "out/2/collections"), "123456789/2\n123456789/3\n");
    assert_file_equals(tu_path(f->tmp, "out/3/collections"), "123456789/3\n123456789/2\n");
    char *dc = tu_read(tu_path(f->tmp, "out/2/dublin_core.xml"));
    assert_contains(dc, "<dcvalue element=\"date\" qualifier=\"accessioned\">");
    assert_contains(
        dc,
        "<dcvalue element=\"identifier\" qualifier=\"uri\">http://hdl.handle.net/123456789/20<");
    free(dc);

    /* The job and its journal: one line per folder. */
    br_job job;
    br_error err;
    assert_br_ok(br_job_get(f->repo, res.job_id, &job, &err), &err);
    assert_string_equal(job.type, "export-saf");
    assert_string_equal(job.category, "export");
    assert_int_equal(job.status, BR_JOB_COMPLETED_SUCCESS);
    assert_string_equal(job.input, "123456789/2");
    assert_int_equal(job.total, 3);
    assert_int_equal(job.counters.processed, 3);
    assert_int_equal(job.counters.bitstreams, 2);
    assert_contains(job.params, "\"scope\":\"COLLECTION\"");
    assert_contains(job.params, "\"seq\":1");
    journal j = {0};
    assert_br_ok(br_job_records(f->repo, res.job_id, NULL, collect_journal, &j, &err), &err);
    assert_int_equal(j.n, 3);
    assert_string_equal(j.keys[0], "1");
    assert_string_equal(j.handles[0], "123456789/9");
    assert_string_equal(j.keys[2], "3");
    assert_string_equal(j.handles[2], "123456789/100");
}

static void test_sequence_number(void **state)
{
    fixture *f = *state;
    br_export_options o = collection_a(tu_path(f->tmp, "out"));
    o.seq = 10;
    export_ok(f, &o, NULL);
    assert_file_equals(tu_path(f->tmp, "out/10/handle"), "123456789/9\n");
    assert_file_equals(tu_path(f->tmp, "out/12/handle"), "123456789/100\n");
    assert_file_equals(tu_path(f->tmp, "out/10/relationships"),
                       "relation.isAuthorOfPublication folderName:11\n"
                       "relation.isAuthorOfPublication 123456789/50\n");
    assert_false(tu_exists(tu_path(f->tmp, "out/1")));
    assert_false(tu_exists(tu_path(f->tmp, "out/13")));

    /* -n 0 is a folder "0", as in DSpace. */
    o = collection_a(tu_path(f->tmp, "zero"));
    o.seq = 0;
    export_ok(f, &o, NULL);
    assert_file_equals(tu_path(f->tmp, "zero/0/handle"), "123456789/9\n");
    assert_file_equals(tu_path(f->tmp, "zero/2/handle"), "123456789/100\n");
    assert_false(tu_exists(tu_path(f->tmp, "zero/3")));
}

static void test_migrate(void **state)
{
    fixture *f = *state;
    br_export_options o = collection_a(tu_path(f->tmp, "out"));
    o.migrate = 1;
    export_ok(f, &o, NULL);
    assert_file_equals(
        tu_path(f->tmp, "out/2/dublin_core.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<dublin_core schema=\"dc\">\n"
        "  <dcvalue element=\"title\" qualifier=\"none\">Second</dcvalue>\n"
        "  <dcvalue element=\"contributor\" qualifier=\"author\">Dickens, Charles</dcvalue>\n"
        "</dublin_core>\n");
    for (int i = 1; i <= 3; i++) {
        char rel[32];
        snprintf(rel, sizeof rel, "out/%d/handle", i);
        assert_false(tu_exists(tu_path(f->tmp, rel)));
    }
    assert_true(tu_exists(tu_path(f->tmp, "out/2/collections")));
    assert_true(tu_exists(tu_path(f->tmp, "out/2/book.pdf")));
}

static void test_exclude_bitstreams(void **state)
{
    fixture *f = *state;
    br_export_options o = collection_a(tu_path(f->tmp, "out"));
    o.exclude_bitstreams = 1;
    br_export_result res;
    export_ok(f, &o, &res);
    assert_file_equals(tu_path(f->tmp, "out/2/contents"),
                       "book.pdf\tbundle:ORIGINAL\tprimary:true\tdescription:The book\n"
                       "license.txt\tbundle:LICENSE\n");
    assert_false(tu_exists(tu_path(f->tmp, "out/2/book.pdf")));
    assert_false(tu_exists(tu_path(f->tmp, "out/2/license.txt")));
    assert_int_equal(res.bitstreams, 2);
    assert_int_equal(res.bytes, 0);
}

static void test_zip(void **state)
{
    fixture *f = *state;
    br_export_options o = collection_a(tu_path(f->tmp, "zipped"));
    o.zip = "pkg.zip";
    export_ok(f, &o, NULL);
    o = collection_a(tu_path(f->tmp, "plain"));
    export_ok(f, &o, NULL);
    /* Only the zip in the destination; no scratch folder left in the repository. */
    char *out = NULL;
    assert_int_equal(tu_run(&out, NULL, "ls -A %s; ls -A %s/tmp 2>/dev/null",
                            tu_path(f->tmp, "zipped"), f->repo_dir),
                     0);
    assert_string_equal(out, "pkg.zip\n");
    free(out);
    /* Entries without a wrapping folder (1/dublin_core.xml ...), same tree as
     * the folder export. */
    br_limits lim;
    br_limits_default(&lim);
    char root[4096];
    br_error err;
    mkdir(tu_path(f->tmp, "unzipped"), 0755);
    assert_br_ok(br_zip_extract(tu_path(f->tmp, "zipped/pkg.zip"), tu_path(f->tmp, "unzipped"),
                                &lim, root, sizeof root, &err),
                 &err);
    assert_file_equals(tu_path(f->tmp, "unzipped/1/handle"), "123456789/9\n");
    assert_file_equals(tu_path(f->tmp, "unzipped/2/book.pdf"), "%PDF-1.4 book\n");
    assert_int_equal(
        tu_run(NULL, NULL, "diff -r %s %s", tu_path(f->tmp, "plain"), tu_path(f->tmp, "unzipped")),
        0);

    /* An existing zip is not overwritten. */
    o = collection_a(tu_path(f->tmp, "zipped"));
    o.zip = "pkg.zip";
    assert_int_equal(br_export_saf(f->repo, &o, NULL, &err), BR_EEXISTS);
    /* A zip name is a file name in DEST. */
    o.zip = "../escape.zip";
    assert_int_equal(br_export_saf(f->repo, &o, NULL, &err), BR_EUSAGE);
}

static void test_existing_folder(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "out/2/mine.txt", "user data");
    br_export_options o = collection_a(tu_path(f->tmp, "out"));
    br_export_result res;
    br_error err;
    assert_int_equal(br_export_saf(f->repo, &o, &res, &err), BR_EEXISTS);
    assert_contains(err.message, "already exists");
    assert_contains(err.message, "out/2");
    /* Checked before anything was written. */
    assert_false(tu_exists(tu_path(f->tmp, "out/1")));
    assert_false(tu_exists(tu_path(f->tmp, "out/3")));
    assert_file_equals(tu_path(f->tmp, "out/2/mine.txt"), "user data");
    br_job job;
    assert_br_ok(br_job_get(f->repo, res.job_id, &job, &err), &err);
    assert_int_equal(job.status, BR_JOB_FAILED);
    assert_contains(job.message, "already exists");
}

static void test_twice_identical(void **state)
{
    fixture *f = *state;
    br_export_options o = collection_a(tu_path(f->tmp, "a"));
    export_ok(f, &o, NULL);
    o = collection_a(tu_path(f->tmp, "b"));
    export_ok(f, &o, NULL);
    assert_int_equal(
        tu_run(NULL, NULL, "diff -r %s %s", tu_path(f->tmp, "a"), tu_path(f->tmp, "b")), 0);
}

/* ---- item export and errors --------------------------------------------------- */

static void test_item_scope(void **state)
{
    fixture *f = *state;
    br_export_options o = collection_a(tu_path(f->tmp, "out"));
    o.scope = BR_EXPORT_ITEM;
    o.id = "123456789/9";
    br_export_result res;
    export_ok(f, &o, &res);
    assert_int_equal(res.items, 1);
    assert_file_equals(tu_path(f->tmp, "out/1/handle"), "123456789/9\n");
    assert_false(tu_exists(tu_path(f->tmp, "out/2")));
    /* The related item is not in the package: its handle. */
    assert_file_equals(tu_path(f->tmp, "out/1/relationships"),
                       "relation.isAuthorOfPublication 123456789/20\n"
                       "relation.isAuthorOfPublication 123456789/50\n");

    /* A withdrawn item is exported when asked for by name (as DSpace). */
    o.dest = tu_path(f->tmp, "gone");
    o.id = "123456789/30";
    export_ok(f, &o, NULL);
    assert_file_equals(tu_path(f->tmp, "gone/1/handle"), "123456789/30\n");
}

static void test_not_found(void **state)
{
    fixture *f = *state;
    br_error err;
    br_export_options o = collection_a(tu_path(f->tmp, "out"));
    mkdir(o.dest, 0755);
    o.scope = BR_EXPORT_ITEM;
    o.id = "123456789/999";
    assert_int_equal(br_export_saf(f->repo, &o, NULL, &err), BR_ENOTFOUND);
    assert_contains(err.message, "123456789/999");
    o.scope = BR_EXPORT_COLLECTION;
    o.id = "123456789/1"; /* a community */
    assert_int_equal(br_export_saf(f->repo, &o, NULL, &err), BR_ENOTFOUND);
    assert_contains(err.message, "community");
    o.id = "123456789/2";
    o.dest = tu_path(f->tmp, "missing");
    br_export_result res;
    assert_int_equal(br_export_saf(f->repo, &o, &res, &err), BR_ENOTFOUND);
    assert_contains(err.message, "does not exist");
    assert_false(tu_exists(tu_path(f->tmp, "missing")));
    br_job job;
    assert_br_ok(br_job_get(f->repo, res.job_id, &job, &err), &err);
    assert_int_equal(job.status, BR_JOB_FAILED);
    /* Usage errors are refused before a job exists. */
    o.dest = tu_path(f->tmp, "out");
    o.seq = -1;
    assert_int_equal(br_export_saf(f->repo, &o, NULL, &err), BR_EUSAGE);
    /* A NULL error record is allowed; the job still gets the message. */
    o.seq = 1;
    o.id = "123456789/998";
    assert_int_equal(br_export_saf(f->repo, &o, &res, NULL), BR_ENOTFOUND);
    assert_br_ok(br_job_get(f->repo, res.job_id, &job, &err), &err);
    assert_contains(job.message, "123456789/998");
}

static void test_empty_collection(void **state)
{
    fixture *f = *state;
    br_export_options o = collection_a(tu_path(f->tmp, "out"));
    o.id = "123456789/4";
    br_export_result res;
    export_ok(f, &o, &res);
    assert_int_equal(res.items, 0);
    assert_false(tu_exists(tu_path(f->tmp, "out/1")));
    br_job job;
    br_error err;
    assert_br_ok(br_job_get(f->repo, res.job_id, &job, &err), &err);
    assert_int_equal(job.status, BR_JOB_COMPLETED_NO_BULKS);
}

typedef struct progress {
    size_t calls, last_done, last_total;
    size_t stop_after; /* 0 = never */
} progress;

static int on_progress(void *ctx, const char *phase, size_t done, size_t total)
{
    progress *p = ctx;
    assert_string_equal(phase, "exporting");
    p->calls++;
    p->last_done = done;
    p->last_total = total;
    return p->stop_after && done >= p->stop_after;
}

static void test_progress_and_cancel(void **state)
{
    fixture *f = *state;
    progress p = {0};
    br_export_options o = collection_a(tu_path(f->tmp, "out"));
    o.progress = on_progress;
    o.progress_ctx = &p;
    export_ok(f, &o, NULL);
    assert_int_equal(p.calls, 3);
    assert_int_equal(p.last_done, 3);
    assert_int_equal(p.last_total, 3);

    progress stop = {.stop_after = 1};
    o = collection_a(tu_path(f->tmp, "stopped"));
    o.progress = on_progress;
    o.progress_ctx = &stop;
    mkdir(o.dest, 0755);
    br_export_result res;
    br_error err;
    assert_int_equal(br_export_saf(f->repo, &o, &res, &err), BR_ECANCELLED);
    /* A stopped export leaves nothing, not even the folder finished before the stop. */
    assert_int_equal(tu_count_entries(tu_path(f->tmp, "stopped")), 0);
    br_job job;
    assert_br_ok(br_job_get(f->repo, res.job_id, &job, &err), &err);
    assert_int_equal(job.status, BR_JOB_USER_ABORTED);
    assert_int_equal(job.counters.processed, 1); /* the journal names what was written */
}

/* Removes the stored file of item /20's first bitstream: its export fails. */
static void lose_stored_file(fixture *f)
{
    br_record *r = br_record_new();
    br_error err;
    assert_br_ok(br_item_load(f->repo, f->id20, r, &err), &err);
    assert_non_null(r->bs[0].path);
    assert_int_equal(unlink(r->bs[0].path), 0);
    br_record_free(r);
}

/* A failed export leaves nothing at the destination, whatever the format:
 * here the second item's stored file is gone, after the first item was
 * written. */
static void test_failure_leaves_nothing(void **state)
{
    fixture *f = *state;
    lose_stored_file(f);
    br_error err;
    br_export_result res;
    /* SAF folders */
    br_export_options o = collection_a(tu_path(f->tmp, "out"));
    mkdir(o.dest, 0755);
    assert_int_equal(br_export(f->repo, "saf", &o, &res, &err), BR_EIO);
    assert_int_equal(tu_count_entries(tu_path(f->tmp, "out")), 0);
    br_job job;
    assert_br_ok(br_job_get(f->repo, res.job_id, &job, &err), &err);
    assert_int_equal(job.status, BR_JOB_FAILED);
    /* SAF zip */
    o.zip = "pkg.zip";
    assert_int_equal(br_export(f->repo, "saf", &o, &res, &err), BR_EIO);
    assert_int_equal(tu_count_entries(tu_path(f->tmp, "out")), 0);
    /* Esploro CSV and its files */
    o = collection_a(tu_path(f->tmp, "csv/a.csv"));
    mkdir(tu_path(f->tmp, "csv"), 0755);
    assert_int_equal(br_export(f->repo, "esploro-csv", &o, &res, &err), BR_EIO);
    assert_int_equal(tu_count_entries(tu_path(f->tmp, "csv")), 0);
    assert_br_ok(br_job_get(f->repo, res.job_id, &job, &err), &err);
    assert_string_equal(job.type, "export-esploro");
    assert_int_equal(job.status, BR_JOB_FAILED);
    /* An unwritable destination: refused, nothing made. */
    o = collection_a(tu_path(f->tmp, "ro"));
    o.id = "123456789/3"; /* without the lost file */
    mkdir(o.dest, 0555);
    if (access(o.dest, W_OK)) { /* root writes anyway */
        assert_int_equal(br_export(f->repo, "saf", &o, &res, &err), BR_EIO);
        assert_int_equal(tu_count_entries(o.dest), 0);
    }
    chmod(o.dest, 0755);
}

/* One loop, any format: unknown formats and options a format does not take
 * are usage errors before any job exists. */
static void test_format_options(void **state)
{
    fixture *f = *state;
    br_error err;
    br_export_result res;
    br_export_options o = collection_a(tu_path(f->tmp, "out"));
    mkdir(o.dest, 0755);
    assert_int_equal(br_export(f->repo, "frobnicate", &o, &res, &err), BR_EUSAGE);
    assert_contains(err.message, "saf, esploro-csv"); /* the registry's writers, listed */
    o.scope = BR_EXPORT_ALL;
    assert_int_equal(br_export(f->repo, "saf", &o, &res, &err), BR_EUSAGE);
    o = collection_a(tu_path(f->tmp, "out"));
    const char *fields[] = {"ASSET_TITLE"};
    o.fields = fields;
    o.n_fields = 1;
    assert_int_equal(br_export(f->repo, "saf", &o, &res, &err), BR_EUSAGE);
    o = collection_a(tu_path(f->tmp, "x.csv"));
    o.migrate = 1;
    assert_int_equal(br_export(f->repo, "esploro-csv", &o, &res, &err), BR_EUSAGE);
    assert_int_equal(res.job_id, 0);
    assert_false(tu_exists(tu_path(f->tmp, "x.csv")));
    /* ALL: every item but the withdrawn one, one CSV, a journal line each */
    o = collection_a(tu_path(f->tmp, "all.csv"));
    o.scope = BR_EXPORT_ALL;
    o.id = NULL;
    assert_br_ok(br_export(f->repo, "esploro-csv", &o, &res, &err), &err);
    assert_int_equal(res.items, 4);
    assert_int_equal(res.bitstreams, 2);
    char *csv = tu_read(tu_path(f->tmp, "all.csv"));
    assert_contains(csv, ",RESEARCH_ASSET_ID,");
    assert_contains(csv, "\nASSET,123456789/50,");
    assert_not_contains(csv, "123456789/30");
    free(csv);
    assert_file_equals(tu_path(f->tmp, "all.csv.files/123456789_20/book.pdf"), "%PDF-1.4 book\n");
    br_job job;
    assert_br_ok(br_job_get(f->repo, res.job_id, &job, &err), &err);
    assert_contains(job.params, "\"format\":\"esploro-csv\"");
    assert_contains(job.params, "\"scope\":\"ALL\"");
    assert_int_equal(job.counters.processed, 4);
}

static void test_item_json(void **state)
{
    /* item show --json: the loaded record in DSpace REST's shape. */
    fixture *f = *state;
    br_record *r = br_record_new();
    br_error err;
    assert_br_ok(br_item_load(f->repo, f->id20, r, &err), &err);
    char *text = NULL;
    assert_br_ok(br_record_to_json(r, &text, &err), &err);
    assert_contains(text, "\"handle\": \"123456789/20\"");
    assert_contains(text, "\"dc.title\": [");
    assert_contains(text, "\"owningCollection\": \"123456789/2\"");
    assert_contains(text, "\"sha256\": \"");
    assert_contains(text, "\"side\": \"right\"");
    free(text);
    br_record_free(r);
}

/* ---- round trip: export -> import into a fresh repository -> export ------------ */

/* A fresh repository with the same containers (same handles) and the item
 * outside collection A that relationships name by handle. */
static br_repo *fresh_repo(fixture *f, const char *name)
{
    br_error err;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%s", f->tmp, name);
    br_repo *repo = tu_repo_create(dir, "123456789");
    br_container c;
    assert_br_ok(br_container_create(repo, 1, "Community", NULL, &c, &err), &err);
    assert_br_ok(br_container_create(repo, 0, "A", "123456789/1", &c, &err), &err);
    assert_br_ok(br_container_create(repo, 0, "B", "123456789/1", &c, &err), &err);
    assert_br_ok(br_container_create(repo, 0, "Empty", "123456789/1", &c, &err), &err);
    br_record *r = br_record_new();
    r->handle = br_record_str(r, "123456789/50");
    br_record_add_md(r, "dc", "title", NULL, NULL, "Outside");
    br_record_add_collection(r, "123456789/3");
    assert_br_ok(br_item_insert(repo, r, NULL, &err), &err);
    br_record_free(r);
    return repo;
}

static void import_ok(fixture *f, br_repo *repo, const char *package, const char *mapfile)
{
    br_import_options o;
    memset(&o, 0, sizeof o);
    o.mode = BR_IMPORT_ADD;
    o.source = package;
    o.mapfile = mapfile;
    o.eperson = "test@example.org";
    br_diag_sink sink = {0};
    o.diags = &sink;
    br_import_result res;
    br_error err;
    br_error_clear(&err);
    int rc = br_import_saf(repo, &o, &res, &err);
    if (rc)
        fail_msg("br_import_saf(%s) = %d: %s: %s (%zu errors)", package, rc, err.place.source,
                 err.message, sink.errors);
    assert_int_equal(res.imported, 3);
    (void)f;
}

static void export_from(br_repo *repo, const char *dest, int migrate)
{
    br_export_options o = collection_a(dest);
    o.migrate = migrate;
    br_error err;
    mkdir(dest, 0755);
    assert_br_ok(br_export_saf(repo, &o, NULL, &err), &err);
}

static void test_round_trip(void **state)
{
    fixture *f = *state;
    export_from(f->repo, tu_path(f->tmp, "p1"), 0);
    br_repo *r2 = fresh_repo(f, "r2");
    import_ok(f, r2, tu_path(f->tmp, "p1"), tu_path(f->tmp, "map2"));
    export_from(r2, tu_path(f->tmp, "p2"), 0);
    br_repo *r3 = fresh_repo(f, "r3");
    import_ok(f, r3, tu_path(f->tmp, "p2"), tu_path(f->tmp, "map3"));
    export_from(r3, tu_path(f->tmp, "p3"), 0);
    /* Same handles (handle files), relationships by folder recreated once. */
    char *out = NULL;
    int rc = tu_run(&out, NULL, "diff -r %s %s 2>&1", tu_path(f->tmp, "p2"), tu_path(f->tmp, "p3"));
    if (rc) fail_msg("the packages differ:\n%s", out);
    free(out);
    /* An item that has its install values already is identical after one trip
     * (the others got theirs from the first import). */
    rc = tu_run(&out, NULL, "diff -r %s %s 2>&1", tu_path(f->tmp, "p1/2"), tu_path(f->tmp, "p2/2"));
    if (rc) fail_msg("item /20 differs:\n%s", out);
    free(out);
    assert_file_equals(tu_path(f->tmp, "p3/1/relationships"),
                       "relation.isAuthorOfPublication folderName:2\n"
                       "relation.isAuthorOfPublication 123456789/50\n");
    br_repo_free(r2);
    br_repo_free(r3);
}

static void test_round_trip_migrate(void **state)
{
    /* -m: no handle files, so the new repository gives new handles; what it
     * regenerates on import is left out again: the packages are identical. */
    fixture *f = *state;
    export_from(f->repo, tu_path(f->tmp, "p1"), 1);
    br_repo *r2 = fresh_repo(f, "r2");
    import_ok(f, r2, tu_path(f->tmp, "p1"), tu_path(f->tmp, "map2"));
    export_from(r2, tu_path(f->tmp, "p2"), 1);
    char *out = NULL;
    int rc = tu_run(&out, NULL, "diff -r %s %s 2>&1", tu_path(f->tmp, "p1"), tu_path(f->tmp, "p2"));
    if (rc) fail_msg("the packages differ:\n%s", out);
    free(out);
    br_repo_free(r2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_collection_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sequence_number, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exclude_bitstreams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_twice_identical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_item_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_collection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress_and_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_item_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_migrate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
