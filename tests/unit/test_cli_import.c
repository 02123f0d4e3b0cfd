/* CLI integration tests for `bulkrepo import` (issue 2), run as users run
 * it: each test has a fresh repository, calls the binary ($BULKREPO_BIN) and
 * checks exit codes, messages and the repository state through the CLI
 * (item list/show --json, job show --json, fsck).
 *
 * Exit codes: 0 ok, 1 completed with errors, 2 usage, 3 invalid input
 * (nothing written), 4 I/O. */
#define _GNU_SOURCE
#include "cli_fixture.h"
#include <openssl/evp.h>

/* One stored item, so "nothing written" compares against a non-empty list. */
static void seed(fx *f)
{
    fx_dc(f, "seed/s1", "Seed item");
    RUN(f, 0, "import -a -s seed -c %s -m seed.map", f->coll);
    assert_int_equal(fx_item_count(f), 1);
}

static const char *seed_handle(fx *f)
{
    return fx_map_handle(f, "seed.map", "s1");
}

static void md5_hex(const void *data, size_t n, char out[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(data, n, d, &len, EVP_md5(), NULL), 1);
    assert_int_equal(len, 16);
    tu_hex(d, len, out);
}

/* ======================================================================================
 * The DSpace reference package
 * ====================================================================================== */

static void test_reference_package_zip(void **state)
{
    fx *f = *state;
    /* -s is the folder holding the zip: the test data folder itself (read only). */
    char src[4096];
    snprintf(src, sizeof src, "%s", tu_data("saf"));
    RUN(f, 0, "import -a -s '%s' -z saf-bitstreams.zip -c %s -m map", src, f->coll);
    assert_contains(f->err, "1 imported");
    assert_int_equal(fx_count_lines(f, "map"), 1);
    const char *h = fx_map_handle(f, "map", "item_000");
    assert_non_null(h);

    json_t *it = fx_show(f, h);
    assert_string_equal(fx_str(it, "handle"), h);
    assert_string_equal(fx_str(it, "owningCollection"), f->coll);
    assert_string_equal(fx_str(it, "status"), "archived");
    assert_int_equal(md_n(it, "dc.title"), 1);
    assert_string_equal(md(it, "dc.title", 0), "A Tale of Two Cities");
    assert_string_equal(md(it, "dc.date.issued", 0), "1990");
    assert_int_equal(md_n(it, "dc.title.alternative"), 1);
    assert_string_equal(md(it, "dc.title.alternative", 0), "J'aime les Printemps");
    assert_string_equal(md_lang(it, "dc.title.alternative", 0), "fr");
    assert_int_equal(md_n(it, "dcterms.title"), 1);
    assert_string_equal(md(it, "dcterms.title", 0), "A Tale of Two Cities");
    /* qualifier="none" means no qualifier, not a field "dc.title.none" */
    assert_int_equal(md_n(it, "dc.title.none"), 0);

    json_t *bs = json_object_get(it, "bitstreams");
    assert_int_equal(json_array_size(bs), 1);
    json_t *b = fx_bitstream(it, "file1.txt");
    assert_non_null(b);
    assert_string_equal(fx_str(b, "bundle"), "ORIGINAL");
    assert_int_equal(json_integer_value(json_object_get(b, "size")), 15);
    char want[33];
    md5_hex("TEST TEST TEST\n", 15, want);
    assert_string_equal(want, "1836ca07cde7108c09eaa376ad153f55");
    assert_string_equal(fx_str(b, "md5"), want);
    json_decref(it);

    /* The zip was extracted in the repository's scratch space and removed. */
    assert_int_equal(fx_count_entries(f, "r/tmp"), 0);
    ASSERT_FSCK_CLEAN(f);

    /* Export back. */
    SH(f, 0, "mkdir out");
    RUN(f, 0, "export -t ITEM -i %s -d out", h);
    char *file = fx_read(f, "out/1/file1.txt");
    assert_non_null(file);
    assert_string_equal(file, "TEST TEST TEST\n");
    free(file);
    char *contents = fx_read(f, "out/1/contents");
    assert_contains(contents, "file1.txt");
    free(contents);
    char *dc = fx_read(f, "out/1/dublin_core.xml");
    assert_contains(dc, "A Tale of Two Cities");
    assert_contains(dc, "J'aime les Printemps");
    assert_contains(dc, "language=\"fr\"");
    assert_contains(dc, "<dcvalue element=\"date\" qualifier=\"issued\">1990</dcvalue>");
    free(dc);
    char *dct = fx_read(f, "out/1/metadata_dcterms.xml");
    assert_contains(dct, "schema=\"dcterms\"");
    assert_contains(dct, "A Tale of Two Cities");
    free(dct);
    char *hf = fx_read(f, "out/1/handle");
    fx_chomp(hf);
    assert_string_equal(hf, h);
    free(hf);
}

/* ======================================================================================
 * Every option
 * ====================================================================================== */

/* -a, -s, -m, -c repeated: the first collection owns, the others map. */
static void test_add_mapped_collections(void **state)
{
    fx *f = *state;
    char y[128];
    snprintf(y, sizeof y, "%s", fx_new_collection(f, "Y"));
    fx_dc(f, "p/a", "Alpha");
    fx_dc(f, "p/b", "Beta");
    RUN(f, 0, "import --add --source p -c %s --collection %s --mapfile map", f->coll, y);
    assert_int_equal(fx_count_lines(f, "map"), 2);
    const char *ha = fx_map_handle(f, "map", "a"), *hb = fx_map_handle(f, "map", "b");
    assert_non_null(ha);
    assert_non_null(hb);
    assert_string_not_equal(ha, hb);

    json_t *it = fx_show(f, ha);
    assert_string_equal(md(it, "dc.title", 0), "Alpha");
    assert_string_equal(fx_str(it, "owningCollection"), f->coll);
    json_t *cols = json_object_get(it, "collections");
    assert_int_equal(json_array_size(cols), 2);
    assert_string_equal(json_string_value(json_array_get(cols, 0)), f->coll);
    assert_string_equal(json_string_value(json_array_get(cols, 1)), y);
    json_decref(it);

    json_t *in_y = fx_json(f, "item list --collection %s --json", y);
    assert_int_equal(json_array_size(in_y), 2);
    json_decref(in_y);
    json_t *colls = fx_json(f, "collection list --json"), *c;
    size_t i;
    int found = 0;
    json_array_foreach(colls, i, c)
    {
        if (!strcmp(fx_str(c, "handle"), y)) {
            assert_int_equal(json_integer_value(json_object_get(c, "items")), 2);
            found = 1;
        }
    }
    assert_true(found);
    json_decref(colls);
    ASSERT_FSCK_CLEAN(f);
}

/* Without -c the collections file decides; -c overrides it. */
static void test_collections_file_and_override(void **state)
{
    fx *f = *state;
    char y[128];
    snprintf(y, sizeof y, "%s", fx_new_collection(f, "Y"));
    fx_dc(f, "p/a", "Alpha");
    char line[256];
    snprintf(line, sizeof line, "%s\n", y);
    fx_write(f, "p/a/collections", line);
    RUN(f, 0, "import -a -s p -m map1");
    json_t *it = fx_show(f, fx_map_handle(f, "map1", "a"));
    assert_string_equal(fx_str(it, "owningCollection"), y);
    json_decref(it);

    RUN(f, 0, "import -a -s p -c %s -m map2", f->coll);
    it = fx_show(f, fx_map_handle(f, "map2", "a"));
    assert_string_equal(fx_str(it, "owningCollection"), f->coll);
    assert_int_equal(json_array_size(json_object_get(it, "collections")), 1);
    json_decref(it);

    /* -c given, the collections file names an unknown handle: a warning with its place. */
    fx_dc(f, "u/a", "Unknown in file");
    fx_write(f, "u/a/collections", "123456789/98765\n");
    RUN(f, 0, "import -a -s u -c %s -m map4", f->coll);
    assert_contains(f->err, "a/collections:1: warning: 123456789/98765 is not a collection");

    /* Neither: the item names no collection. */
    fx_dc(f, "q/a", "Orphan");
    char *before = fx_item_list_text(f);
    RUN(f, 3, "import -a -s q -m map3");
    assert_contains(f->err, "names no collection");
    ASSERT_NOTHING_WRITTEN(f, before, "map3");
    free(before);
}

/* -r: the items in the mapfile are replaced; they keep handles and UUIDs and the
 * new metadata is visible. */
static void test_replace_keeps_handles(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    fx_write(f, "p/a/contents", "a.txt\n");
    fx_write(f, "p/a/a.txt", "alpha\n");
    fx_dc(f, "p/b", "Beta");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    char ha[256], hb[256], ua[64];
    snprintf(ha, sizeof ha, "%s", fx_map_handle(f, "map", "a"));
    snprintf(hb, sizeof hb, "%s", fx_map_handle(f, "map", "b"));
    json_t *it = fx_show(f, ha);
    snprintf(ua, sizeof ua, "%s", fx_str(it, "uuid"));
    json_decref(it);

    fx_write(f, "p/a/dublin_core.xml",
             "<dublin_core>\n  <dcvalue element=\"title\">Alpha, second edition</dcvalue>\n"
             "  <dcvalue element=\"subject\">Replaced</dcvalue>\n</dublin_core>\n");
    fx_dc(f, "p/b", "Beta, second edition");
    RUN(f, 0, "import --replace -s p -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 2);

    it = fx_show(f, ha);
    assert_string_equal(fx_str(it, "handle"), ha);
    assert_string_equal(fx_str(it, "uuid"), ua);
    assert_int_equal(md_n(it, "dc.title"), 1);
    assert_string_equal(md(it, "dc.title", 0), "Alpha, second edition");
    assert_string_equal(md(it, "dc.subject", 0), "Replaced");
    assert_non_null(fx_bitstream(it, "a.txt"));
    json_decref(it);
    it = fx_show(f, hb);
    assert_string_equal(md(it, "dc.title", 0), "Beta, second edition");
    json_decref(it);

    json_t *job = fx_last_job(f);
    assert_string_equal(fx_status_code(job), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(job, "updated"), 2);
    assert_int_equal(fx_counter(job, "imported"), 0);
    assert_string_equal(fx_str(fx_job_record(job, "a"), "outcome"), "updated");
    json_decref(job);
    ASSERT_FSCK_CLEAN(f);

    /* A mapfile naming an item that is not stored: nothing is replaced. */
    fx_write(f, "bad.map", "a 123456789/4040\n");
    char *before = fx_item_list_text(f);
    RUN(f, 3, "import -r -s p -c %s -m bad.map", f->coll);
    assert_contains(f->err, "bad.map:1:");
    assert_contains(f->err, "no item 123456789/4040 to replace");
    ASSERT_NOTHING_WRITTEN(f, before, NULL);
    free(before);
}

static void test_replace_leaves_mapfile_alone(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    fx_dc(f, "p/b", "Beta");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    char *before = fx_read(f, "map");
    RUN(f, 0, "import -r -s p -c %s -m map", f->coll);
    char *after = fx_read(f, "map");
    assert_string_equal(before, after);
    free(before);
    free(after);
    RUN(f, 0, "import -d -m map");
    assert_not_contains(f->err, "cannot locate");
}

static void test_replace_changed_file_fsck_clean(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    fx_write(f, "p/a/contents", "a.txt\n");
    fx_write(f, "p/a/a.txt", "first version\n");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    char ha[256];
    snprintf(ha, sizeof ha, "%s", fx_map_handle(f, "map", "a"));
    fx_write(f, "p/a/a.txt", "second version\n");
    RUN(f, 0, "import -r -s p -c %s -m map", f->coll);
    json_t *it = fx_show(f, ha);
    char want[33];
    md5_hex("second version\n", 15, want);
    assert_string_equal(fx_str(fx_bitstream(it, "a.txt"), "md5"), want);
    json_decref(it);
    /* The first version stays while the replace can be reverted, then goes. */
    assert_int_equal(fx_stored_files(f), 2);
    ASSERT_FSCK_CLEAN(f);
    RUN(f, 0, "trash purge --now %lld", (long long)time(NULL) + 31LL * 86400);
    assert_int_equal(fx_stored_files(f), 1);
    ASSERT_FSCK_CLEAN(f);
}

/* -d: the items in the mapfile are deleted, their files kept for a revert until the undo
 * journal's time passes; fsck stays clean. */
static void test_delete(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    fx_write(f, "p/a/contents", "a.txt\n");
    fx_write(f, "p/a/a.txt", "alpha file\n");
    fx_dc(f, "p/b", "Beta");
    fx_write(f, "p/b/contents", "b.txt\n");
    fx_write(f, "p/b/b.txt", "beta file\n");
    fx_dc(f, "p/c", "Gamma");
    fx_write(f, "p/c/contents", "c.txt\n");
    fx_write(f, "p/c/c.txt", "gamma file\n");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    assert_int_equal(fx_stored_files(f), 3);
    char ha[256], hc[256];
    snprintf(ha, sizeof ha, "%s", fx_map_handle(f, "map", "a"));
    snprintf(hc, sizeof hc, "%s", fx_map_handle(f, "map", "c"));
    SH(f, 0, "grep -v '^c ' map > del.map");
    assert_int_equal(fx_count_lines(f, "del.map"), 2);

    /* A bad line anywhere: reported with its place, nothing deleted, even
     * when the lines before it fill whole batches. */
    SH(f, 0, "cp del.map bad.map && echo lonely >> bad.map");
    RUN(f, 3, "import --delete -m bad.map --batch-size 1");
    assert_contains(f->err, "bad.map:3: error: bad mapfile line: 'lonely'");
    assert_contains(f->err, "0 deleted");
    assert_int_equal(fx_item_count(f), 3);

    RUN(f, 0, "import --delete -m del.map");
    assert_contains(f->err, "2 deleted");
    assert_int_equal(fx_item_count(f), 1);
    RUN(f, 3, "item show %s --json", ha);
    json_t *c = fx_show(f, hc);
    assert_string_equal(md(c, "dc.title", 0), "Gamma");
    json_decref(c);
    /* a.txt and b.txt stay while the delete can be reverted (30 days), then go. */
    assert_int_equal(fx_stored_files(f), 3);
    ASSERT_FSCK_CLEAN(f);
    RUN(f, 0, "trash purge --now %lld", (long long)time(NULL) + 31LL * 86400);
    assert_int_equal(fx_stored_files(f), 1);
    ASSERT_FSCK_CLEAN(f);

    json_t *job = fx_last_job(f);
    assert_string_equal(fx_str(job, "type"), "delete-saf");
    assert_int_equal(fx_counter(job, "deleted"), 2);
    json_decref(job);

    /* Deleting again: nothing left to delete, a warning per line, exit 0. */
    RUN(f, 0, "import -d -m del.map");
    assert_contains(f->err, "cannot locate item");
    assert_int_equal(fx_item_count(f), 1);
    /* -d without a mapfile that exists */
    RUN(f, 3, "import -d -m nosuch.map");
    assert_contains(f->err, "does not exist");
}

static void test_delete_does_not_reuse_handles(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    char ha[256];
    snprintf(ha, sizeof ha, "%s", fx_map_handle(f, "map", "a"));
    RUN(f, 0, "import -d -m map");
    fx_dc(f, "q/z", "Zeta");
    RUN(f, 0, "import -a -s q -c %s -m map2", f->coll);
    assert_string_not_equal(fx_map_handle(f, "map2", "z"), ha);
}

/* -e is recorded in the job, --name names it. */
static void test_eperson_recorded(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    RUN(f, 0, "import -a -s p -c %s -m map -e alice@example.org --name 'Batch 7'", f->coll);
    json_t *job = fx_last_job(f);
    assert_string_equal(fx_str(job, "submitted_by"), "alice@example.org");
    assert_string_equal(fx_str(job, "name"), "Batch 7");
    assert_string_equal(fx_str(job, "type"), "import-saf");
    json_decref(job);
    json_t *list = fx_json(f, "job list --json");
    assert_string_equal(fx_str(json_array_get(list, 0), "submitted_by"), "alice@example.org");
    json_decref(list);
    RUN(f, 0, "job show 1");
    assert_contains(f->out, "alice@example.org");
}

/* -v: validate only; nothing written, the item count is unchanged. */
static void test_validate_only(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    fx_dc(f, "p/a", "Alpha");
    fx_dc(f, "p/b", "Beta");
    RUN(f, 0, "import -a -v -s p -c %s -m map", f->coll);
    assert_contains(f->err, "nothing written");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    json_t *job = fx_last_job(f);
    assert_string_equal(fx_status_code(job), "COMPLETED_SUCCESS");
    assert_string_equal(fx_str(fx_job_record(job, "a"), "outcome"), "valid");
    assert_string_equal(fx_str(fx_job_record(job, "b"), "outcome"), "valid");
    assert_int_equal(fx_counter(job, "imported"), 0);
    json_decref(job);

    /* An invalid package: exit 3, still nothing written. */
    fx_write(f, "p/b/contents", "missing.pdf\n");
    RUN(f, 3, "import -a --validate -s p -c %s -m map", f->coll);
    assert_contains(f->err,
                    "b/contents:1: error: 'missing.pdf' is listed but not in the item folder");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);

    /* Fixed, then imported with the same mapfile (-R, as the mapfile is not there yet). */
    SH(f, 0, "rm p/b/contents");
    RUN(f, 0, "import -a -R -s p -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 3);
    assert_int_equal(fx_count_lines(f, "map"), 2);
}

static void test_resume_after_validation_run(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    fx_dc(f, "p/b", "Beta");
    RUN(f, 0, "import -a -v -s p -c %s -m map", f->coll);
    RUN(f, 0, "import -a -R -s p -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 2);
    json_t *v = fx_job(f, 1);
    assert_string_equal(fx_str(v, "name"), "SAF validation");
    assert_int_equal(fx_counter(v, "imported"), 0);
    json_decref(v);
    json_t *last = fx_last_job(f);
    assert_false(
        json_is_true(json_object_get(json_object_get(last, "parameters"), "validate_only")));
    assert_int_equal(fx_counter(last, "imported"), 2);
    json_decref(last);
}

/* -R with a mapfile naming an item that is NOT in the store (DSpace issue
 * #8978: DSpace trusts the mapfile and skips it forever). */
static void test_resume_mapfile_names_missing_item(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 3);
    /* A mapfile from elsewhere: no job of this repository wrote it. */
    fx_write(f, "map", "item_000001 123456789/777\n");
    RUN(f, 0, "import -a -R -s p -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 3);
    assert_int_equal(fx_count_lines(f, "map"), 3);
    const char *h1 = fx_map_handle(f, "map", "item_000001");
    assert_non_null(h1);
    assert_string_not_equal(h1, "123456789/777");
    json_t *it = fx_show(f, h1);
    assert_string_equal(md(it, "dc.title", 0),
                        "Towards distributed, quantitative and R&D curation — 1");
    json_decref(it);
    assert_non_null(fx_map_handle(f, "map", "item_000000"));
    assert_non_null(fx_map_handle(f, "map", "item_000002"));

    /* Again: everything is stored, nothing is duplicated. */
    RUN(f, 0, "import -a -R -s p -c %s -m map", f->coll);
    assert_contains(f->err, "0 imported, 3 already present");
    assert_int_equal(fx_item_count(f), 3);
    assert_int_equal(fx_count_lines(f, "map"), 3);
    assert_non_null(fx_map_handle(f, "map", "item_000001")); /* listed once */
    ASSERT_FSCK_CLEAN(f);
}

/* -R after an item the journal recorded was deleted: the journal is checked
 * against the store, the missing item is imported again, the others are not. */
static void test_resume_journal_item_deleted(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 3);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    char gone[256];
    snprintf(gone, sizeof gone, "%s", fx_map_handle(f, "map", "item_000001"));
    SH(f, 0, "grep '^item_000001 ' map > del.map");
    RUN(f, 0, "import -d -m del.map");
    assert_int_equal(fx_item_count(f), 2);

    RUN(f, 0, "import -a -R -s p -c %s -m map", f->coll);
    assert_contains(f->err, "1 imported, 2 already present");
    assert_int_equal(fx_item_count(f), 3);
    assert_int_equal(fx_count_lines(f, "map"), 3);
    const char *h1 = fx_map_handle(f, "map", "item_000001");
    assert_non_null(h1);
    assert_string_not_equal(h1, gone);
    RUN(f, 0, "item show %s", h1);
    ASSERT_FSCK_CLEAN(f);
}

/* -R on a package that grew: only the new items are imported. */
static void test_resume_imports_only_missing(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 3);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    char h0[256];
    snprintf(h0, sizeof h0, "%s", fx_map_handle(f, "map", "item_000000"));
    fx_gen(f, "p", 5); /* same first three items, two more */
    /* -R -v validates as a job of its own: the import's journal still says
     * what is stored (it used to be overwritten with "valid" lines, and the
     * next -R imported everything again). */
    RUN(f, 0, "import -a -R -v -s p -c %s -m map", f->coll);
    json_t *v = fx_last_job(f);
    assert_string_equal(fx_str(v, "type"), "validate-saf");
    json_decref(v);
    RUN(f, 0, "import -a --resume -s p -c %s -m map", f->coll);
    assert_contains(f->err, "2 imported, 3 already present");
    assert_int_equal(fx_item_count(f), 5);
    assert_int_equal(fx_count_lines(f, "map"), 5);
    assert_string_equal(fx_map_handle(f, "map", "item_000000"), h0);
    assert_non_null(fx_map_handle(f, "map", "item_000004"));
    assert_int_equal(fx_stored_files(f), 5);
    ASSERT_FSCK_CLEAN(f);
}

/* The database refuses a write in the middle of a batch (a trigger here; a full disk or a
 * lost server in life): the import fails saying why, the refused batch is not stored at all
 * (on PostgreSQL the item's rows went ahead of their answers: the refusal must still undo the
 * whole batch), and --resume then stores exactly the records that are missing. */
static void test_refused_write_mid_batch(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 6);
    fx_dc(f, "p/item_000003", "poison");
    char url[1024];
    int pg = tu_db_address(f->repo, url, sizeof url);
    if (pg) {
        tu_db_exec(f->repo, "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ "
                            "BEGIN IF NEW.value = 'poison' THEN RAISE EXCEPTION 'refused by "
                            "test'; END IF; RETURN NEW; END $$");
        tu_db_exec(f->repo, "CREATE TRIGGER refuse BEFORE INSERT ON metadata_value FOR EACH ROW "
                            "EXECUTE FUNCTION refuse()");
    } else {
        tu_db_exec(f->repo, "CREATE TRIGGER refuse BEFORE INSERT ON metadata_value "
                            "WHEN NEW.value = 'poison' BEGIN SELECT RAISE(ABORT, 'refused by "
                            "test'); END");
    }
    /* SQLite names a trigger's refusal a constraint (exit 3), PostgreSQL's late refusal is the
     * store failing (exit 4): either way the job failed and said why */
    int code = fx_br(f, "import -a -s p -c %s -m map --batch-size 2", f->coll);
    assert_int_equal(code, pg ? 4 : 3);
    assert_contains(f->err, "item_000003");
    assert_contains(f->err, "refused by test");
    if (pg) assert_contains(f->err, "sent ahead");
    assert_int_equal(fx_item_count(f), 2); /* the first batch; none of the second */
    tu_db_exec(f->repo, pg ? "DROP TRIGGER refuse ON metadata_value" : "DROP TRIGGER refuse");
    RUN(f, 0, "import -a --resume -s p -c %s -m map --batch-size 2", f->coll);
    assert_contains(f->err, "4 imported, 2 already present");
    assert_int_equal(fx_item_count(f), 6);
    assert_int_equal(fx_count_lines(f, "map"), 6);
    ASSERT_FSCK_CLEAN(f);
}

/* An existing mapfile without -R is a usage error (exit 2), nothing written. */
static void test_mapfile_exists_without_resume(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    char *before = fx_item_list_text(f);
    char *map_before = fx_read(f, "map");
    RUN(f, 2, "import -a -s p -c %s -m map", f->coll);
    assert_contains(f->err, "mapfile already exists");
    char *map_after = fx_read(f, "map");
    assert_string_equal(map_before, map_after);
    ASSERT_NOTHING_WRITTEN(f, before, NULL);
    free(before);
    free(map_before);
    free(map_after);
}

/* -w: workflow status; no accession date (not installed). */
static void test_workflow(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    RUN(f, 0, "import -a -w -s p -c %s -m map", f->coll);
    json_t *list = fx_json(f, "item list --json");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(fx_str(json_array_get(list, 0), "status"), "workflow");
    json_decref(list);
    json_t *it = fx_show(f, fx_map_handle(f, "map", "a"));
    assert_string_equal(fx_str(it, "status"), "workflow");
    assert_int_equal(md_n(it, "dc.date.accessioned"), 0);
    json_decref(it);
    json_t *job = fx_last_job(f);
    assert_true(json_is_true(json_object_get(json_object_get(job, "parameters"), "workflow")));
    json_decref(job);

    /* Without -w: archived, with an accession date. */
    fx_dc(f, "q/b", "Beta");
    RUN(f, 0, "import -a -s q -c %s -m map2", f->coll);
    it = fx_show(f, fx_map_handle(f, "map2", "b"));
    assert_string_equal(fx_str(it, "status"), "archived");
    assert_int_equal(md_n(it, "dc.date.accessioned"), 1);
    json_decref(it);
}

/* -p: the owning collection's template values are added; without -p they are not. */
static void test_template(void **state)
{
    fx *f = *state;
    RUN(f, 0, "collection template %s 'dc.publisher=Template Press' 'dc.rights=CC BY 4.0'",
        f->coll);
    fx_dc(f, "p/a", "Alpha");
    fx_dc(f, "p/b", "Beta");
    RUN(f, 0, "import -a -p -s p -c %s -m map", f->coll);
    const char *folders[] = {"a", "b"};
    for (int i = 0; i < 2; i++) {
        json_t *it = fx_show(f, fx_map_handle(f, "map", folders[i]));
        assert_int_equal(md_n(it, "dc.publisher"), 1);
        assert_string_equal(md(it, "dc.publisher", 0), "Template Press");
        assert_string_equal(md(it, "dc.rights", 0), "CC BY 4.0");
        json_decref(it);
    }
    fx_dc(f, "q/c", "Gamma");
    RUN(f, 0, "import -a -s q -c %s -m map2", f->coll);
    json_t *it = fx_show(f, fx_map_handle(f, "map2", "c"));
    assert_int_equal(md_n(it, "dc.publisher"), 0);
    json_decref(it);

    /* A template field that is not registered is refused. */
    RUN(f, 3, "collection template %s dc.publsher=X", f->coll);
    assert_contains(f->err, "dc.publsher is not in the metadata registry");
}

/* The 3-item package of the validation tests: item_001 valid, item_002 lists a
 * missing file, item_003 has an unknown field on line 3. */
static void write_two_bad_items(fx *f, const char *pkg)
{
    char rel[512];
    snprintf(rel, sizeof rel, "%s/item_001", pkg);
    fx_dc(f, rel, "One");
    snprintf(rel, sizeof rel, "%s/item_002", pkg);
    fx_dc(f, rel, "Two");
    snprintf(rel, sizeof rel, "%s/item_002/contents", pkg);
    fx_write(f, rel, "fig 2.png\n");
    snprintf(rel, sizeof rel, "%s/item_003/dublin_core.xml", pkg);
    fx_write(f, rel,
             "<dublin_core>\n  <dcvalue element=\"title\">Three</dcvalue>\n"
             "  <dcvalue element=\"titel\">typo</dcvalue>\n</dublin_core>\n");
}

/* --skip-invalid: the valid items are imported, the invalid are listed in the
 * job with outcome "invalid", exit 1. */
static void test_skip_invalid(void **state)
{
    fx *f = *state;
    write_two_bad_items(f, "p");
    RUN(f, 1, "import -a --skip-invalid -s p -c %s -m map", f->coll);
    assert_contains(f->err, "item_002/contents:1:");
    assert_contains(f->err, "item_003/dublin_core.xml:3:");
    assert_int_equal(fx_item_count(f), 1);
    assert_int_equal(fx_count_lines(f, "map"), 1);
    const char *h = fx_map_handle(f, "map", "item_001");
    assert_non_null(h);
    json_t *it = fx_show(f, h);
    assert_string_equal(md(it, "dc.title", 0), "One");
    json_decref(it);

    json_t *job = fx_last_job(f);
    assert_string_equal(fx_status_code(job), "COMPLETED_WITH_ERRORS");
    assert_string_equal(fx_str(json_object_get(job, "status"), "label"), "Completed with Errors");
    assert_int_equal(fx_counter(job, "imported"), 1);
    assert_int_equal(fx_counter(job, "invalid"), 2);
    assert_int_equal(fx_counter(job, "not_imported"), 2);
    json_t *r1 = fx_job_record(job, "item_001"), *r2 = fx_job_record(job, "item_002"),
           *r3 = fx_job_record(job, "item_003");
    assert_non_null(r1);
    assert_non_null(r2);
    assert_non_null(r3);
    assert_string_equal(fx_str(r1, "outcome"), "imported");
    assert_string_equal(fx_str(r1, "handle"), h);
    assert_string_equal(fx_str(r2, "outcome"), "invalid");
    assert_contains(fx_str(r2, "message"), "'fig 2.png' is listed but not in the item folder");
    assert_string_equal(fx_str(r3, "outcome"), "invalid");
    assert_contains(fx_str(r3, "message"), "dc.titel is not in the metadata registry");
    json_decref(job);
    ASSERT_FSCK_CLEAN(f);
}

/* --skip-invalid: an item whose relationship names an item that will not be
 * imported is left out too (its relationship could not be made). */
static void test_skip_invalid_relationship_target_invalid(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    fx_dc(f, "p/b", "Beta");
    fx_dc(f, "p/c", "Gamma");
    fx_write(f, "p/a/relationships", "relation.isAuthorOfPublication folderName:b\n");
    fx_write(f, "p/b/contents", "x.pdf\n"); /* b is invalid */
    RUN(f, 1, "import -a --skip-invalid -s p -c %s -m map", f->coll);
    assert_contains(f->err, "b/contents:1: error: 'x.pdf' is listed but not in the item folder");
    assert_contains(f->err, "a/relationships:1: error: relationship target folderName:b is invalid "
                            "and will not be imported");
    assert_int_equal(fx_item_count(f), 1);
    assert_int_equal(fx_count_lines(f, "map"), 1);
    assert_non_null(fx_map_handle(f, "map", "c"));
    json_t *job = fx_last_job(f);
    assert_int_equal(fx_counter(job, "invalid"), 2);
    assert_string_equal(fx_str(fx_job_record(job, "a"), "outcome"), "invalid");
    json_decref(job);
}

static void test_skip_invalid_relationship_target_bad_relationship(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    fx_dc(f, "p/b", "Beta");
    fx_dc(f, "p/c", "Gamma");
    fx_write(f, "p/a/relationships", "relation.isAuthorOfPublication folderName:b\n");
    fx_write(f, "p/b/relationships", "relation.isAuthorOfPublication folderName:nope\n");
    RUN(f, 1, "import -a --skip-invalid -s p -c %s -m map", f->coll);
    assert_contains(f->err, "b/relationships:1: error: no item folder 'nope' in this package");
    assert_contains(f->err,
                    "a/relationships:1: error: relationship target folderName:b is invalid");
    assert_null(fx_map_handle(f, "map", "a"));
    assert_int_equal(fx_item_count(f), 1);
}

static void test_skip_invalid_all_invalid_no_mapfile(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    fx_write(f, "p/a/contents", "x.pdf\n");
    RUN(f, 3, "import -a --skip-invalid -s p -c %s -m map", f->coll);
    assert_contains(f->err, "'x.pdf' is listed but not in the item folder");
    assert_int_equal(fx_item_count(f), 0);
    assert_false(fx_exists(f, "map"));
    fx_write(f, "p/a/x.pdf", "pdf");
    RUN(f, 0, "import -a --skip-invalid -s p -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 1);
}

/* --metadata-only: files listed in contents may be absent. */
static void test_metadata_only(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    fx_write(f, "p/a/contents", "paper.pdf\tbundle:ORIGINAL\ndata.csv\n");
    fx_dc(f, "p/b", "Beta");
    fx_write(f, "p/b/contents", "present.txt\nabsent.txt\n");
    fx_write(f, "p/b/present.txt", "here\n");
    char *before = fx_item_list_text(f);
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    assert_contains(f->err,
                    "a/contents:1: error: 'paper.pdf' is listed but not in the item folder");
    assert_contains(f->err, "a/contents:2: error: 'data.csv' is listed but not in the item folder");
    assert_contains(f->err,
                    "b/contents:2: error: 'absent.txt' is listed but not in the item folder");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);

    RUN(f, 0, "import -a --metadata-only -s p -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 2);
    json_t *a = fx_show(f, fx_map_handle(f, "map", "a"));
    assert_string_equal(md(a, "dc.title", 0), "Alpha");
    assert_int_equal(json_array_size(json_object_get(a, "bitstreams")), 0);
    json_decref(a);
    json_t *b = fx_show(f, fx_map_handle(f, "map", "b"));
    assert_int_equal(json_array_size(json_object_get(b, "bitstreams")), 1);
    assert_non_null(fx_bitstream(b, "present.txt"));
    json_decref(b);
    ASSERT_FSCK_CLEAN(f);
}

/* --help on every command exits 0 and prints usage, without a repository. */
static void test_help_every_command(void **state)
{
    fx *f = *state;
    static const char *cmds[] = {"import",
                                 "export",
                                 "item",
                                 "item list",
                                 "item show",
                                 "job",
                                 "job show",
                                 "job list",
                                 "collection",
                                 "collection create",
                                 "collection template",
                                 "collection list",
                                 "registry",
                                 "fsck",
                                 "init",
                                 "community",
                                 "group"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        fx_sh(f, "\"$BR\" --repo '%s/no-repo-here' %s --help", f->dir, cmds[i]);
        if (f->rc != 0) print_error("'%s --help' exited %d\n", cmds[i], f->rc);
        fx_expect(f, 0, __FILE__, __LINE__);
        assert_contains(f->out, "usage: bulkrepo");
    }
    RUN(f, 0, "--help");
    assert_contains(f->out, "usage: bulkrepo");
    RUN(f, 0, "import -h");
    assert_contains(f->out, "--skip-invalid");
    assert_contains(f->out, "--metadata-only");
    assert_false(fx_exists(f, "no-repo-here"));
}

/* Bad command lines exit 2 and point at --help. */
static void test_usage_errors(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    RUN(f, 2, "import -s p -c %s -m map", f->coll);
    assert_contains(f->err, "either add (-a), replace (-r), or delete (-d)");
    assert_contains(f->err, "import --help");
    RUN(f, 2, "import -a -s p -c %s", f->coll);
    assert_contains(f->err, "-m");
    RUN(f, 2, "import -a -c %s -m map", f->coll);
    assert_contains(f->err, "-s");
    RUN(f, 2, "import -r -R -s p -c %s -m map", f->coll);
    assert_contains(f->err, "resume");
    RUN(f, 2, "import -a --no-such-option -s p -m map");
    RUN(f, 2, "import -a -s p -m map extra-argument");
    /* Sizes: no sign (strtoull would wrap -1 to 16 EiB), no junk, no overflow. */
    static const char *const bad_sizes[] = {"-1", "0", "12X", "99999999999999999999",
                                            "20000000000G"};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        RUN(f, 2, "import -a -s p -c %s -m map --max-file-size %s", f->coll, bad_sizes[i]);
        assert_contains(f->err, "is not a size");
    }
    RUN(f, 2, "nosuchcommand");
    assert_int_equal(fx_item_count(f), 0);
    assert_false(fx_exists(f, "map"));
}

/* ======================================================================================
 * Validate all, then write
 * ====================================================================================== */

static void test_validate_all_then_write(void **state)
{
    fx *f = *state;
    write_two_bad_items(f, "p");
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    /* Both problems, each with its place. */
    assert_contains(f->err,
                    "item_002/contents:1: error: 'fig 2.png' is listed but not in the item folder");
    assert_contains(f->err,
                    "item_003/dublin_core.xml:3: error: dc.titel is not in the metadata registry");
    assert_contains(f->err, "did you mean dc.title?");
    assert_contains(f->err, "2 of 3 items are invalid");
    assert_not_contains(f->err, "item_001/");
    json_t *list = fx_json(f, "item list --json");
    assert_true(json_is_array(list));
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    assert_false(fx_exists(f, "map"));
    assert_int_equal(fx_stored_files(f), 0);
    ASSERT_FSCK_CLEAN(f);

    json_t *job = fx_last_job(f);
    assert_string_equal(fx_status_code(job), "FAILED");
    assert_string_equal(fx_str(json_object_get(job, "status"), "label"), "Failed");
    assert_int_equal(fx_counter(job, "imported"), 0);
    assert_int_equal(fx_counter(job, "invalid"), 2);
    assert_int_equal(json_integer_value(json_object_get(job, "total")), 3);
    json_decref(job);
}

/* ======================================================================================
 * Bad input: each breaks the import in one way; nothing is written
 * ====================================================================================== */

static void test_bad_missing_dublin_core(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    fx_write(f, "p/item_1/contents", "a.txt\n");
    fx_write(f, "p/item_1/a.txt", "x\n");
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    assert_contains(f->err, "item_1/dublin_core.xml: error: 'dublin_core.xml' is missing");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);
}

static void test_bad_missing_contents_with_files(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    fx_dc(f, "p/item_1", "One");
    fx_write(f, "p/item_1/paper.pdf", "%PDF-1.4\n");
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    assert_contains(
        f->err,
        "item_1/contents: error: no contents file, but the folder holds other files ('paper.pdf')");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);

    /* Only metadata files and no contents: a metadata-only item, fine. */
    fx_dc(f, "q/item_1", "Metadata only");
    fx_write(f, "q/item_1/handle", "");
    RUN(f, 0, "import -a -s q -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 2);
}

static void test_bad_listed_file_missing(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    fx_dc(f, "p/item_1", "One");
    fx_write(f, "p/item_1/contents", "fig 1.png\nfig 2.png\n");
    fx_write(f, "p/item_1/fig 1.png", "png");
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    assert_contains(f->err,
                    "item_1/contents:2: error: 'fig 2.png' is listed but not in the item folder");
    assert_not_contains(f->err, "contents:1:");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);
}

static void test_bad_malformed_xml(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    fx_write(f, "p/item_1/dublin_core.xml",
             "<dublin_core>\n  <dcvalue element=\"title\">One</dcvalue>\n"
             "  <dcvalue element=\"date\" qualifier=\"issued\">2020</dcvalu>\n</dublin_core>\n");
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    /* line:column of the mismatched end tag */
    assert_contains(f->err, "item_1/dublin_core.xml:3:");
    assert_contains(f->err, "error: malformed XML");
    char *p = strstr(f->err, "item_1/dublin_core.xml:3:");
    assert_non_null(p);
    p += strlen("item_1/dublin_core.xml:3:");
    assert_true(p[0] >= '1' && p[0] <= '9'); /* a column */
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);
}

static void test_bad_doctype_external_entity(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    /* a: external general entity; b: external DTD; c: entity expansion (billion laughs) */
    fx_write(f, "p/a/dublin_core.xml",
             "<?xml version=\"1.0\"?>\n<!DOCTYPE dublin_core [<!ENTITY x SYSTEM "
             "\"file:///etc/passwd\">]>\n"
             "<dublin_core>\n  <dcvalue element=\"title\">&x;</dcvalue>\n</dublin_core>\n");
    fx_write(f, "p/b/dublin_core.xml",
             "<?xml version=\"1.0\"?>\n<!DOCTYPE dublin_core SYSTEM \"file:///etc/passwd\">\n"
             "<dublin_core>\n  <dcvalue element=\"title\">B</dcvalue>\n</dublin_core>\n");
    fx_write(f, "p/c/dublin_core.xml",
             "<?xml version=\"1.0\"?>\n<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
             "\"&a;&a;&a;&a;&a;&a;&a;&a;\">"
             "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;\">]>\n"
             "<dublin_core>\n  <dcvalue element=\"title\">&d;</dcvalue>\n</dublin_core>\n");
    fx_dc(f, "p/d", "Harmless");
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    assert_contains(f->err, "a/dublin_core.xml:2:");
    assert_contains(f->err, "b/dublin_core.xml:2:");
    assert_contains(f->err, "c/dublin_core.xml:2:");
    assert_contains(f->err, "DOCTYPE is not allowed");
    assert_contains(f->err, "3 of 4 items are invalid");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);

    /* --skip-invalid imports the harmless item only; /etc/passwd never
     * reaches the store (database, files) nor any report. */
    RUN(f, 1, "import -a --skip-invalid -s p -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 2);
    char *passwd = tu_read("/etc/passwd");
    assert_non_null(passwd);
    char first[256];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(passwd, "\n"), passwd);
    free(passwd);
    assert_true(strlen(first) > 8);
    RUN(f, 0, "item list --json");
    assert_not_contains(f->out, first);
    RUN(f, 0, "item show %s --json", fx_map_handle(f, "map", "d"));
    assert_not_contains(f->out, first);
    RUN(f, 0, "job show 2 --json");
    assert_not_contains(f->out, first);
    RUN(f, 0, "job show 3 --json");
    assert_not_contains(f->out, first);
    /* grep exits 1 when no line of /etc/passwd is found anywhere in the repository */
    SH(f, 0, "grep -v '^$' /etc/passwd > passwd.pat");
    SH(f, 1, "grep -r -a -F -q -f passwd.pat r");
}

static void test_bad_unknown_field(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    fx_write(f, "p/item_1/dublin_core.xml",
             "<dublin_core>\n  <dcvalue element=\"date\" qualifier=\"issued\">2020</dcvalue>\n"
             "  <dcvalue element=\"titel\">Typo</dcvalue>\n</dublin_core>\n");
    fx_write(f, "p/item_2/dublin_core.xml", DC_XML("Two"));
    fx_write(
        f, "p/item_2/metadata_nosuch.xml",
        "<dublin_core schema=\"nosuch\">\n  <dcvalue element=\"x\">y</dcvalue>\n</dublin_core>\n");
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    assert_contains(f->err, "item_1/dublin_core.xml:3: error: dc.titel is not in the metadata "
                            "registry (did you mean dc.title?)");
    assert_contains(
        f->err,
        "item_2/metadata_nosuch.xml:2: error: schema 'nosuch' is not in the metadata registry");
    ASSERT_NOTHING_WRITTEN(f, before, "map");

    /* Registered, the same field is accepted. */
    RUN(f, 0, "registry add dc.titel --note 'a test field'");
    RUN(f, 0, "registry add-schema nosuch http://example.org/nosuch");
    RUN(f, 0, "registry add nosuch.x");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 3);
    free(before);
}

static void test_bad_unknown_collection_option(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    fx_dc(f, "p/item_1", "One");
    RUN(f, 3, "import -a -s p -c 123456789/999 -m map");
    assert_contains(f->err, "cannot resolve 123456789/999");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    /* a community is not a collection */
    RUN(f, 0, "community create Top");
    char com[128];
    snprintf(com, sizeof com, "%s", f->out);
    fx_chomp(com);
    RUN(f, 3, "import -a -s p -c %s -m map", com);
    assert_contains(f->err, "cannot resolve");
    /* the second -c is checked too */
    RUN(f, 3, "import -a -s p -c %s -c 123456789/998 -m map", f->coll);
    assert_contains(f->err, "cannot resolve 123456789/998");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);
}

static void test_bad_collections_file_unknown_handle(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    fx_dc(f, "p/item_1", "One");
    char buf[256];
    snprintf(buf, sizeof buf, "%s\n123456789/555\n", f->coll);
    fx_write(f, "p/item_1/collections", buf);
    RUN(f, 3, "import -a -s p -m map");
    assert_contains(
        f->err,
        "item_1/collections:2: error: 123456789/555 is not a collection of this repository");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);
}

static void test_bad_handle_in_use(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    char buf[256];
    fx_dc(f, "p/item_1", "Claims the collection's handle");
    snprintf(buf, sizeof buf, "%s\n", f->coll);
    fx_write(f, "p/item_1/handle", buf);
    fx_dc(f, "p/item_2", "Claims the seed item's handle");
    snprintf(buf, sizeof buf, "%s\n", seed_handle(f));
    fx_write(f, "p/item_2/handle", buf);
    fx_dc(f, "p/item_3", "Claims a free handle");
    fx_write(f, "p/item_3/handle", "123456789/500\n");
    fx_dc(f, "p/item_4", "Claims the same free handle");
    fx_write(f, "p/item_4/handle", "123456789/500\n");
    /* Without matching (--match none) every handle in use is an error. */
    RUN(f, 3, "import -a -s p -c %s -m map --match none", f->coll);
    snprintf(buf, sizeof buf, "item_1/handle:1: error: handle %s is already in use", f->coll);
    assert_contains(f->err, buf);
    snprintf(buf, sizeof buf, "item_2/handle:1: error: handle %s is already in use",
             seed_handle(f));
    assert_contains(f->err, buf);
    assert_contains(f->err,
                    "item_4/handle:1: error: handle 123456789/500 is also claimed by item_3");
    assert_contains(f->err, "3 of 4 items are invalid");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    /* By default an item's handle matches it (an update); a collection's is
     * still an error. */
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    snprintf(buf, sizeof buf, "item_1/handle:1: error: handle %s is already in use", f->coll);
    assert_contains(f->err, buf);
    snprintf(buf, sizeof buf, "item_2/handle:1: error: handle %s", seed_handle(f));
    assert_null(strstr(f->err, buf));
    assert_contains(f->err, "2 of 4 items are invalid");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);

    /* A free handle alone is kept. */
    SH(f, 0, "rm -r p/item_1 p/item_2 p/item_4");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    assert_string_equal(fx_map_handle(f, "map", "item_3"), "123456789/500");
}

static void test_bad_handle_file_next_free_handle(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "No handle file");
    fx_dc(f, "p/b", "Asks for the next handle");
    /* the collection is 123456789/1, so the next free handle is 123456789/2 */
    assert_string_equal(f->coll, "123456789/1");
    fx_write(f, "p/b/handle", "123456789/2\n");
    RUN(f, 0, "import -a -v -s p -c %s -m map", f->coll);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    assert_string_equal(fx_map_handle(f, "map", "b"), "123456789/2");
    assert_string_not_equal(fx_map_handle(f, "map", "a"), "123456789/2");
}

/* ---- zip archives ---------------------------------------------------------------------- */

/* Everything in DIR except the repository, as a listing (malloc'd). */
static char *outside_listing(fx *f)
{
    SH(f, 0,
       "find . -path ./r -prune -o -print | LC_ALL=C sort; ls -A ..  | grep -c brtest-evil || "
       "true");
    return strdup(f->out);
}

static void assert_zip_rejected(fx *f, const char *zipname, const char *message)
{
    char *before = fx_item_list_text(f);
    char *outside = outside_listing(f);
    RUN(f, 3, "import -a -s . -z %s -c %s -m map", zipname, f->coll);
    assert_contains(f->err, message);
    char *outside_after = outside_listing(f);
    assert_string_equal(outside, outside_after);
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    /* nothing anywhere in the repository either */
    SH(f, 0, "find r -name '*evil*' | wc -l");
    assert_int_equal(atoi(f->out), 0);
    free(before);
    free(outside);
    free(outside_after);
}

static void test_zip_dotdot_entry(void **state)
{
    fx *f = *state;
    seed(f);
    const zent z1[] = {{"item_1/dublin_core.xml", DC_XML("One"), ZE_FILE},
                       {"../../../brtest-evil.txt", "owned\n", ZE_FILE}};
    fx_zip(f, "dotdot.zip", z1, 2);
    assert_zip_rejected(f, "dotdot.zip",
                        "entry '../../../brtest-evil.txt': the path leaves its folder");
    const zent z2[] = {{"item_1/dublin_core.xml", DC_XML("One"), ZE_FILE},
                       {"item_1/../../../../../brtest-evil.txt", "owned\n", ZE_FILE}};
    fx_zip(f, "dotdot2.zip", z2, 2);
    assert_zip_rejected(f, "dotdot2.zip", "leaves its folder");
}

static void test_zip_absolute_entry(void **state)
{
    fx *f = *state;
    seed(f);
    char abs_name[4400];
    snprintf(abs_name, sizeof abs_name, "%s/brtest-evil-abs.txt", f->dir);
    const zent z[] = {{"item_1/dublin_core.xml", DC_XML("One"), ZE_FILE},
                      {abs_name, "owned\n", ZE_FILE}};
    fx_zip(f, "abs.zip", z, 2);
    assert_zip_rejected(f, "abs.zip", "the path is absolute");
    assert_false(fx_exists(f, "brtest-evil-abs.txt"));
}

static void test_zip_symlink_entry(void **state)
{
    fx *f = *state;
    seed(f);
    const zent z[] = {{"item_1/dublin_core.xml", DC_XML("One"), ZE_FILE},
                      {"item_1/contents", "passwd\n", ZE_FILE},
                      {"item_1/passwd", "/etc/passwd", ZE_SYMLINK}};
    fx_zip(f, "sym.zip", z, 3);
    assert_zip_rejected(f, "sym.zip", "entry 'item_1/passwd': is a symbolic link");
    /* a link to a folder followed by a file "through" it (zip slip via symlink) */
    char target[4400];
    snprintf(target, sizeof target, "%s", f->dir);
    const zent z2[] = {{"item_1/dublin_core.xml", DC_XML("One"), ZE_FILE},
                       {"item_1/up", target, ZE_SYMLINK},
                       {"item_1/up/brtest-evil-link.txt", "owned\n", ZE_FILE}};
    fx_zip(f, "sym2.zip", z2, 3);
    assert_zip_rejected(f, "sym2.zip", "symbolic link");
    assert_false(fx_exists(f, "brtest-evil-link.txt"));
}

/* A zip holding a 151 MB file of zeros (~150 KB compressed): over the default
 * 150 MB per-file cap.  Built from a sparse file. */
static void write_big_zero_zip(fx *f, const char *zipname, off_t size)
{
    int fd = open(fx_path(f, "zeros.bin"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, size), 0);
    close(fd);
    int zerr = 0;
    zip_t *za = zip_open(fx_path(f, zipname), ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(za);
    zip_source_t *dc = zip_source_buffer(za, DC_XML("Bomb"), strlen(DC_XML("Bomb")), 0);
    assert_true(zip_file_add(za, "item_1/dublin_core.xml", dc, 0) >= 0);
    zip_source_t *cs = zip_source_buffer(za, "zeros.bin\n", 10, 0);
    assert_true(zip_file_add(za, "item_1/contents", cs, 0) >= 0);
    zip_source_t *src = zip_source_file(za, fx_path(f, "zeros.bin"), 0, -1);
    assert_non_null(src);
    zip_int64_t idx = zip_file_add(za, "item_1/zeros.bin", src, 0);
    assert_true(idx >= 0);
    assert_int_equal(zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 1), 0);
    assert_int_equal(zip_close(za), 0);
    unlink(fx_path(f, "zeros.bin"));
}

static void test_zip_bomb(void **state)
{
    fx *f = *state;
    seed(f);
    double t0 = fx_now();
    write_big_zero_zip(f, "bomb.zip", (off_t)151 * 1000 * 1000);
    struct stat st;
    assert_int_equal(stat(fx_path(f, "bomb.zip"), &st), 0);
    assert_true(st.st_size < 1000 * 1000); /* it is a bomb: small on disk */
    assert_zip_rejected(f, "bomb.zip", "more than the 150000000 allowed per file");
    double t = fx_now() - t0;
    if (t > 5.0) print_error("zip bomb test took %.1f s\n", t);
    assert_true(t < 5.0);

    /* Under the size cap but compressed more than 200:1. */
    write_big_zero_zip(f, "ratio.zip", (off_t)20 * 1000 * 1000);
    assert_zip_rejected(f, "ratio.zip", "(a zip bomb?)");
}

/* A bomb whose headers understate its size: the cap holds on the bytes
 * actually inflated. */
static void patch_u32(unsigned char *p, uint32_t v)
{
    p[0] = v & 0xff;
    p[1] = (v >> 8) & 0xff;
    p[2] = (v >> 16) & 0xff;
    p[3] = (v >> 24) & 0xff;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_zip_bomb_lying_sizes(void **state)
{
    fx *f = *state;
    seed(f);
    write_big_zero_zip(f, "liar.zip", (off_t)151 * 1000 * 1000);
    /* Rewrite the uncompressed size of zeros.bin to 1000 bytes in its local
     * header and central directory entry. */
    FILE *fp = fopen(fx_path(f, "liar.zip"), "r+b");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    unsigned char *z = malloc((size_t)n);
    fseek(fp, 0, SEEK_SET);
    assert_int_equal(fread(z, 1, (size_t)n, fp), (size_t)n);
    int patched = 0;
    for (long i = 0; i + 46 < n; i++) {
        uint32_t sig = get_u32(z + i);
        if (sig == 0x04034b50) { /* local header */
            unsigned nl = z[i + 26] | z[i + 27] << 8;
            if (nl == 16 && !memcmp(z + i + 30, "item_1/zeros.bin", 16) &&
                get_u32(z + i + 22) > 1000000) {
                patch_u32(z + i + 22, 1000);
                patched++;
            }
        } else if (sig == 0x02014b50) { /* central directory */
            unsigned nl = z[i + 28] | z[i + 29] << 8;
            if (nl == 16 && !memcmp(z + i + 46, "item_1/zeros.bin", 16) &&
                get_u32(z + i + 24) > 1000000) {
                patch_u32(z + i + 24, 1000);
                patched++;
            }
        }
    }
    assert_int_equal(patched, 2);
    fseek(fp, 0, SEEK_SET);
    assert_int_equal(fwrite(z, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    free(z);
    double t0 = fx_now();
    char *before = fx_item_list_text(f);
    RUN(f, 3, "import -a -s . -z liar.zip -c %s -m map", f->coll);
    assert_contains(f->err, "liar.zip");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);
    assert_true(fx_now() - t0 < 5.0);
}

static void test_zip_not_a_zip(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    fx_write(f, "notzip.zip", "this is plain text, not a zip archive\n");
    RUN(f, 3, "import -a -s . -z notzip.zip -c %s -m map", f->coll);
    assert_contains(f->err, "notzip.zip: is not a zip archive");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    RUN(f, 3, "import -a -s . -z nosuch.zip -c %s -m map", f->coll);
    assert_contains(f->err, "does not exist");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);
}

/* A zip with one wrapping folder and a __MACOSX folder imports. */
static void test_zip_wrapped_with_macosx(void **state)
{
    fx *f = *state;
    const zent z[] = {{"pkg/", NULL, ZE_DIR},
                      {"pkg/item_1/dublin_core.xml", DC_XML("Zipped one"), ZE_FILE},
                      {"pkg/item_1/contents", "a b.txt\n", ZE_FILE},
                      {"pkg/item_1/a b.txt", "content\n", ZE_FILE},
                      {"pkg/item_2/dublin_core.xml", DC_XML("Zipped two"), ZE_FILE},
                      {"__MACOSX/pkg/item_1/._dublin_core.xml", "junk", ZE_FILE}};
    fx_zip(f, "good.zip", z, 6);
    RUN(f, 0, "import -a -s . -z good.zip -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 2);
    json_t *it = fx_show(f, fx_map_handle(f, "map", "item_1"));
    assert_string_equal(md(it, "dc.title", 0), "Zipped one");
    assert_non_null(fx_bitstream(it, "a b.txt"));
    json_decref(it);
    assert_int_equal(fx_count_entries(f, "r/tmp"), 0);
    ASSERT_FSCK_CLEAN(f);
}

/* ---- text and names ---------------------------------------------------------------------- */

static void test_bad_invalid_utf8(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    /* "Café" in Latin-1 */
    fx_write(f, "p/item_1/dublin_core.xml",
             "<dublin_core>\n  <dcvalue element=\"title\">Caf\xe9</dcvalue>\n</dublin_core>\n");
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    assert_contains(f->err, "item_1/dublin_core.xml:2:");
    assert_contains(f->err, "invalid UTF-8 (byte 0xE9)");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);
}

static void test_file_names_with_spaces(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/item 1", "Spaces");
    fx_write(f, "p/item 1/contents", "my paper.pdf\tdescription:Full text\nimages/p 1.jpg\n");
    fx_write(f, "p/item 1/my paper.pdf", "%PDF-1.4 paper\n");
    fx_write(f, "p/item 1/images/p 1.jpg", "jpeg\n");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    char *map = fx_read(f, "map");
    assert_contains(map, "item 1 ");
    free(map);
    json_t *list = fx_json(f, "item list --json");
    assert_int_equal(json_array_size(list), 1);
    json_t *it = fx_show(f, fx_str(json_array_get(list, 0), "handle"));
    json_decref(list);
    json_t *b = fx_bitstream(it, "my paper.pdf");
    assert_non_null(b);
    assert_string_equal(fx_str(b, "description"), "Full text");
    assert_non_null(fx_bitstream(it, "images/p 1.jpg"));
    json_decref(it);
    ASSERT_FSCK_CLEAN(f);
}

static void test_mapfile_folder_with_space(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/item 1", "Spaces");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    fx_dc(f, "p/item 1", "Spaces, replaced");
    RUN(f, 0, "import -r -s p -c %s -m map", f->coll);
    json_t *list = fx_json(f, "item list --json");
    assert_string_equal(fx_str(json_array_get(list, 0), "title"), "Spaces, replaced");
    json_decref(list);
    RUN(f, 0, "import -d -m map");
    assert_int_equal(fx_item_count(f), 0);
}

static void test_bad_nfd_vs_nfc(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    fx_dc(f, "p/item_1", "Unicode");
    fx_write(f, "p/item_1/contents", "re\xcc\x81sume\xcc\x81.pdf\n"); /* NFD: e + U+0301 */
    fx_write(f, "p/item_1/r\xc3\xa9sum\xc3\xa9.pdf", "x");            /* NFC: U+00E9 */
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    assert_contains(f->err, "item_1/contents:1: error: 're\xcc\x81sume\xcc\x81.pdf' is listed but "
                            "not in the item folder");
    assert_contains(f->err,
                    "a file named 'r\xc3\xa9sum\xc3\xa9.pdf' is there: names must match exactly");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);
}

static void test_bad_case_mismatch(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    fx_dc(f, "p/item_1", "Case");
    fx_write(f, "p/item_1/contents", "Paper.PDF\n");
    fx_write(f, "p/item_1/paper.pdf", "x");
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    assert_contains(f->err,
                    "item_1/contents:1: error: 'Paper.PDF' is listed but not in the item folder");
    assert_contains(f->err, "a file named 'paper.pdf' is there: names must match exactly");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);
}

static void test_bad_empty_package(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    SH(f, 0, "mkdir empty && touch empty/README.txt");
    RUN(f, 3, "import -a -s empty -c %s -m map", f->coll);
    assert_contains(f->err, "the package holds no item folders");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    /* a zip holding only macOS debris is empty too */
    const zent z[] = {{"__MACOSX/._item_1", "junk", ZE_FILE}, {".DS_Store", "junk", ZE_FILE}};
    fx_zip(f, "empty.zip", z, 2);
    RUN(f, 3, "import -a -s . -z empty.zip -c %s -m map", f->coll);
    assert_contains(f->err, "no item folders");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    /* a source folder that does not exist */
    RUN(f, 3, "import -a -s nosuch -c %s -m map", f->coll);
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);
}

static void test_macosx_folder_skipped(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/item_1", "Real item");
    fx_write(f, "p/__MACOSX/item_1/._dublin_core.xml", "resource fork junk");
    fx_write(f, "p/.hidden/dublin_core.xml", "not an item");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    assert_contains(f->err, "__MACOSX: note: '__MACOSX' is skipped");
    assert_int_equal(fx_item_count(f), 1);
    assert_int_equal(fx_count_lines(f, "map"), 1);
    assert_non_null(fx_map_handle(f, "map", "item_1"));
}

/* ---- relationships -------------------------------------------------------------------------- */

static void test_bad_relationship_targets(void **state)
{
    fx *f = *state;
    seed(f);
    char *before = fx_item_list_text(f);
    fx_dc(f, "p/a", "Alpha");
    fx_dc(f, "p/b", "Beta");
    fx_write(f, "p/a/relationships",
             "relation.isAuthorOfPublication folderName:nope\n"
             "relation.isAuthorOfPublication dc.title:No Such Title\n"
             "relation.isAuthorOfPublication 123456789/4040\n");
    RUN(f, 3, "import -a -s p -c %s -m map", f->coll);
    assert_contains(f->err, "a/relationships:1: error: no item folder 'nope' in this package");
    assert_contains(f->err, "a/relationships:2: error: no item has dc.title = 'No Such Title'");
    assert_contains(f->err,
                    "a/relationships:3: error: no item with handle or UUID '123456789/4040'");
    ASSERT_NOTHING_WRITTEN(f, before, "map");
    free(before);
}

static void test_relationships_in_batch(void **state)
{
    fx *f = *state;
    seed(f);
    char buf[512];
    fx_dc(f, "p/a", "Alpha");
    fx_dc(f, "p/b", "Beta");
    fx_dc(f, "p/c", "Gamma");
    fx_write(f, "p/a/relationships", "relation.isAuthorOfPublication folderName:b\n");
    /* to stored items: by handle, and by a unique metadata value */
    snprintf(buf, sizeof buf,
             "relation.isAuthorOfPublication %s\nrelation.isReferencedBy dc.title:Seed item\n",
             seed_handle(f));
    fx_write(f, "p/c/relationships", buf);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    char ha[256], hb[256], hc[256];
    snprintf(ha, sizeof ha, "%s", fx_map_handle(f, "map", "a"));
    snprintf(hb, sizeof hb, "%s", fx_map_handle(f, "map", "b"));
    snprintf(hc, sizeof hc, "%s", fx_map_handle(f, "map", "c"));

    json_t *a = fx_show(f, ha);
    json_t *rels = json_object_get(a, "relationships");
    assert_int_equal(json_array_size(rels), 1);
    assert_string_equal(fx_str(json_array_get(rels, 0), "type"), "isAuthorOfPublication");
    assert_string_equal(fx_str(json_array_get(rels, 0), "item"), hb);
    assert_string_equal(fx_str(json_array_get(rels, 0), "side"), "left");
    json_decref(a);
    json_t *b = fx_show(f, hb);
    rels = json_object_get(b, "relationships");
    assert_int_equal(json_array_size(rels), 1);
    assert_string_equal(fx_str(json_array_get(rels, 0), "item"), ha);
    assert_string_equal(fx_str(json_array_get(rels, 0), "side"), "right");
    json_decref(b);
    json_t *c = fx_show(f, hc);
    assert_int_equal(json_array_size(json_object_get(c, "relationships")), 2);
    json_decref(c);

    /* -R: everything is there; no relationship is made twice. */
    RUN(f, 0, "import -a -R -s p -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 4);
    a = fx_show(f, ha);
    assert_int_equal(json_array_size(json_object_get(a, "relationships")), 1);
    json_decref(a);
    c = fx_show(f, hc);
    assert_int_equal(json_array_size(json_object_get(c, "relationships")), 2);
    json_decref(c);
    ASSERT_FSCK_CLEAN(f);
}

/* ======================================================================================
 * Jobs
 * ====================================================================================== */

static void test_job_json(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/ok", "Fine");
    fx_dc(f, "p/bad", "Broken");
    fx_write(f, "p/bad/contents", "nothere.pdf\n");
    /* --json prints the job report on stdout */
    RUN(f, 1, "import -a --skip-invalid --json -s p -c %s -m map", f->coll);
    json_t *rep = fx_parse(f, "import --json");
    long long id = (long long)json_integer_value(json_object_get(rep, "id"));
    assert_true(id > 0);
    assert_string_equal(fx_status_code(rep), "COMPLETED_WITH_ERRORS");
    assert_int_equal(fx_counter(rep, "imported"), 1);
    assert_int_equal(fx_counter(rep, "invalid"), 1);
    json_decref(rep);

    json_t *job = fx_job(f, id);
    assert_string_equal(fx_str(job, "type"), "import-saf");
    assert_string_equal(fx_str(job, "category"), "import");
    assert_int_equal(json_integer_value(json_object_get(job, "total")), 2);
    assert_int_equal(fx_counter(job, "processed"), 2);
    assert_int_equal(fx_counter(job, "imported"), 1);
    assert_int_equal(fx_counter(job, "invalid"), 1);
    assert_int_equal(fx_counter(job, "bitstreams"), 0);
    json_t *params = json_object_get(job, "parameters");
    assert_string_equal(fx_str(params, "mode"), "add");
    assert_true(json_is_true(json_object_get(params, "skip_invalid")));
    assert_int_equal(json_array_size(json_object_get(job, "records")), 2);
    assert_string_equal(fx_str(fx_job_record(job, "bad"), "outcome"), "invalid");
    assert_string_equal(fx_str(fx_job_record(job, "ok"), "outcome"), "imported");
    json_decref(job);

    /* A clean run */
    fx_dc(f, "q/x", "X");
    fx_write(f, "q/x/contents", "x.txt\n");
    fx_write(f, "q/x/x.txt", "12345");
    RUN(f, 0, "import -a -s q -c %s -m map2", f->coll);
    json_t *list = fx_json(f, "job list --json");
    assert_int_equal(json_array_size(list), 2);
    json_t *newest = json_array_get(list, 0), *older = json_array_get(list, 1);
    assert_string_equal(fx_status_code(newest), "COMPLETED_SUCCESS");
    assert_string_equal(fx_str(json_object_get(newest, "status"), "label"),
                        "Completed Successfully");
    assert_int_equal(fx_counter(newest, "imported"), 1);
    assert_int_equal(fx_counter(newest, "not_imported"), 0);
    assert_string_equal(fx_status_code(older), "COMPLETED_WITH_ERRORS");
    assert_int_equal(fx_counter(older, "imported"), 1);
    assert_int_equal(fx_counter(older, "not_imported"), 1);
    long long id2 = (long long)json_integer_value(json_object_get(newest, "id"));
    json_decref(list);
    job = fx_job(f, id2);
    assert_int_equal(fx_counter(job, "bitstreams"), 1);
    assert_int_equal(fx_counter(job, "bytes"), 5);
    json_decref(job);

    /* text forms */
    RUN(f, 0, "job show %lld", id);
    assert_contains(f->out, "Completed with Errors");
    assert_contains(f->out, "nothere.pdf");
    RUN(f, 0, "job list");
    assert_contains(f->out, "Completed Successfully");
    /* unknown job, bad id */
    RUN(f, 3, "job show 999 --json");
    RUN(f, 2, "job show abc");
}

/* ======================================================================================
 * Matching (issue 14): records that already exist are matched, not added again
 * ====================================================================================== */

/* A folder with a title and a DOI. */
static void dc_doi(fx *f, const char *folder, const char *title, const char *doi)
{
    char rel[1024], xml[2048];
    snprintf(rel, sizeof rel, "%s/dublin_core.xml", folder);
    snprintf(xml, sizeof xml,
             "<dublin_core>\n  <dcvalue element=\"title\">%s</dcvalue>\n"
             "  <dcvalue element=\"identifier\" qualifier=\"doi\">%s</dcvalue>\n</dublin_core>\n",
             title, doi);
    fx_write(f, rel, xml);
}

static long long last_job_id(fx *f)
{
    json_t *j = fx_last_job(f);
    long long id = (long long)json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    return id;
}

/* An exported package imported again: its handle files name the items, which
 * are updated (the default profile), not added a second time. */
static void test_match_exported_package_updates(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 3);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    SH(f, 0, "mkdir out");
    RUN(f, 0, "export -t COLLECTION -i %s -d out -n 1", f->coll);
    RUN(f, 0, "import -a -s out -c %s -m again.map", f->coll);
    assert_int_equal(fx_item_count(f), 3);
    json_t *j = fx_last_job(f);
    assert_int_equal(fx_counter(j, "matched"), 3);
    assert_int_equal(fx_counter(j, "updated"), 3);
    assert_int_equal(fx_counter(j, "newly_added"), 0);
    json_decref(j);
    ASSERT_FSCK_CLEAN(f);
}

/* A package whose DOIs are already present is reported, not duplicated. */
static void test_match_doi_skips(void **state)
{
    fx *f = *state;
    dc_doi(f, "a/x", "First", "10.1234/abc");
    RUN(f, 0, "import -a -s a -c %s -m a.map", f->coll);
    dc_doi(f, "b/y", "Same work, another package", "10.1234/abc");
    fx_dc(f, "b/z", "A new one");
    RUN(f, 0, "import -a -s b -c %s -m b.map", f->coll);
    assert_int_equal(fx_item_count(f), 2);
    json_t *j = fx_last_job(f);
    assert_int_equal(fx_counter(j, "matched"), 1);
    assert_int_equal(fx_counter(j, "skipped"), 1);
    assert_int_equal(fx_counter(j, "newly_added"), 1);
    json_t *r = fx_job_record(j, "y");
    assert_string_equal(fx_str(r, "outcome"), "match-skipped");
    assert_contains(fx_str(r, "message"), "by doi");
    json_decref(j);
    /* --match doi=update overlays it instead; add makes a second item. */
    RUN(f, 0, "import -a -s b -c %s -m c.map --match doi=update", f->coll);
    assert_int_equal(fx_item_count(f), 3); /* z is new again */
    RUN(f, 0, "item show %s --json", fx_map_handle(f, "a.map", "x"));
    json_t *it = fx_parse(f, "item");
    assert_string_equal(md(it, "dc.title", 0), "Same work, another package");
    json_decref(it);
    RUN(f, 0, "import -a -s b -c %s -m d.map --match doi=add", f->coll);
    assert_int_equal(fx_item_count(f), 5);
    RUN(f, 2, "import -a -s b -c %s -m e.map --match doi=merge", f->coll);
    RUN(f, 2, "import -a -s b -c %s -m e.map --match title", f->coll);
    RUN(f, 2, "import -a -s b -c %s -m e.map --match doi,", f->coll);
    assert_contains(f->err, "has an empty rule");
    RUN(f, 2, "import -a -s b -c %s -m e.map --match doi,,isbn", f->coll);
    assert_contains(f->err, "has an empty rule");
}

/* Several matches: the record waits for an operator (Manual Handling
 * Required); resolved and resumed, the chosen item is updated. */
static void test_match_several_then_resolve(void **state)
{
    fx *f = *state;
    dc_doi(f, "a/x1", "One", "10.1234/dup");
    dc_doi(f, "a/x2", "Two", "10.1234/dup");
    RUN(f, 0, "import -a -s a -c %s -m a.map --match none", f->coll);
    dc_doi(f, "b/y", "Which one?", "10.1234/dup");
    /* (By DOI the first item owns the identifier; a field rule sees both values.) */
    RUN(f, 1, "import -a -s b -c %s -m b.map --match field:dc.identifier.doi=update", f->coll);
    assert_contains(f->err, "job resolve");
    long long id = last_job_id(f);
    json_t *j = fx_job(f, id);
    assert_string_equal(fx_status_code(j), "MANUAL_HANDLING_REQUIRED");
    assert_int_equal(fx_counter(j, "multi_matches"), 1);
    json_t *r = fx_job_record(j, "y");
    assert_string_equal(fx_str(r, "outcome"), "multi-match");
    char x2[128];
    snprintf(x2, sizeof x2, "%s", fx_map_handle(f, "a.map", "x2"));
    assert_contains(fx_str(r, "message"), x2);
    json_decref(j);
    assert_int_equal(fx_item_count(f), 2);

    RUN(f, 2, "job resolve %lld y", id);
    RUN(f, 2, "job resolve %lld nosuchkey new", id);
    RUN(f, 3, "job resolve %lld y 123456789/99999", id);
    RUN(f, 0, "job resolve %lld y %s", id, x2);
    RUN(f, 0, "job resume %lld", id);
    RUN(f, 0, "job work --once");
    j = fx_job(f, id);
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(j, "updated"), 1);
    json_decref(j);
    RUN(f, 0, "item show %s --json", x2);
    json_t *it = fx_parse(f, "item");
    assert_string_equal(md(it, "dc.title", 0), "Which one?");
    json_decref(it);
    assert_int_equal(fx_item_count(f), 2);
}

/* More than 150 matches: not imported (seed 004). */
static void test_match_too_many(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 151; i++) {
        char folder[64];
        snprintf(folder, sizeof folder, "a/i%03d", i);
        fx_dc(f, folder, "Untitled");
    }
    RUN(f, 0, "import -a -s a -c %s -m a.map", f->coll);
    fx_dc(f, "b/y", "Untitled");
    RUN(f, 1, "import -a -s b -c %s -m b.map --skip-invalid --match field:dc.title", f->coll);
    json_t *j = fx_last_job(f);
    json_t *r = fx_job_record(j, "y");
    assert_string_equal(fx_str(r, "outcome"), "invalid");
    assert_contains(fx_str(r, "message"), "more than 150");
    json_decref(j);
    assert_int_equal(fx_item_count(f), 151);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_match_exported_package_updates),
        FX_TEST(test_match_doi_skips),
        FX_TEST(test_match_several_then_resolve),
        FX_TEST(test_match_too_many),
        FX_TEST(test_reference_package_zip),
        FX_TEST(test_add_mapped_collections),
        FX_TEST(test_collections_file_and_override),
        FX_TEST(test_replace_keeps_handles),
        FX_TEST(test_replace_leaves_mapfile_alone),
        FX_TEST(test_replace_changed_file_fsck_clean),
        FX_TEST(test_delete),
        FX_TEST(test_delete_does_not_reuse_handles),
        FX_TEST(test_eperson_recorded),
        FX_TEST(test_validate_only),
        FX_TEST(test_resume_mapfile_names_missing_item),
        FX_TEST(test_resume_journal_item_deleted),
        FX_TEST(test_resume_imports_only_missing),
        FX_TEST(test_refused_write_mid_batch),
        FX_TEST(test_resume_after_validation_run),
        FX_TEST(test_mapfile_exists_without_resume),
        FX_TEST(test_workflow),
        FX_TEST(test_template),
        FX_TEST(test_skip_invalid),
        FX_TEST(test_skip_invalid_relationship_target_invalid),
        FX_TEST(test_skip_invalid_relationship_target_bad_relationship),
        FX_TEST(test_skip_invalid_all_invalid_no_mapfile),
        FX_TEST(test_metadata_only),
        FX_TEST(test_help_every_command),
        FX_TEST(test_usage_errors),
        FX_TEST(test_validate_all_then_write),
        FX_TEST(test_bad_missing_dublin_core),
        FX_TEST(test_bad_missing_contents_with_files),
        FX_TEST(test_bad_listed_file_missing),
        FX_TEST(test_bad_malformed_xml),
        FX_TEST(test_bad_doctype_external_entity),
        FX_TEST(test_bad_unknown_field),
        FX_TEST(test_bad_unknown_collection_option),
        FX_TEST(test_bad_collections_file_unknown_handle),
        FX_TEST(test_bad_handle_in_use),
        FX_TEST(test_bad_handle_file_next_free_handle),
        FX_TEST(test_zip_dotdot_entry),
        FX_TEST(test_zip_absolute_entry),
        FX_TEST(test_zip_symlink_entry),
        FX_TEST(test_zip_bomb),
        FX_TEST(test_zip_bomb_lying_sizes),
        FX_TEST(test_zip_not_a_zip),
        FX_TEST(test_zip_wrapped_with_macosx),
        FX_TEST(test_bad_invalid_utf8),
        FX_TEST(test_file_names_with_spaces),
        FX_TEST(test_mapfile_folder_with_space),
        FX_TEST(test_bad_nfd_vs_nfc),
        FX_TEST(test_bad_case_mismatch),
        FX_TEST(test_bad_empty_package),
        FX_TEST(test_macosx_folder_skipped),
        FX_TEST(test_bad_relationship_targets),
        FX_TEST(test_relationships_in_batch),
        FX_TEST(test_job_json),
    };
    return cmocka_run_group_tests_name("cli import", tests, NULL, NULL);
}
