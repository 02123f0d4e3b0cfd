/* CLI integration tests for `bulkrepo export` (issue 2), run as users run
 * it: items are imported with `bulkrepo import`, exported, and the package
 * on disk is checked; round trips re-import the export into a fresh
 * repository. */
#define _GNU_SOURCE
#include "cli_fixture.h"

/* Three items: a with a file and a relationship to b, b with a file, c
 * metadata only.  Returns nothing; the handles are in DIR/map. */
static void import_three(fx *f)
{
    fx_write(f, "p/a/dublin_core.xml",
             "<dublin_core>\n  <dcvalue element=\"title\">Alpha</dcvalue>\n"
             "  <dcvalue element=\"date\" qualifier=\"issued\">2001</dcvalue>\n</dublin_core>\n");
    fx_write(f, "p/a/metadata_dcterms.xml",
             "<dublin_core schema=\"dcterms\">\n  <dcvalue element=\"abstract\">About "
             "alpha</dcvalue>\n</dublin_core>\n");
    fx_write(f, "p/a/contents", "alpha.txt\tdescription:Alpha text\n");
    fx_write(f, "p/a/alpha.txt", "alpha content\n");
    fx_write(f, "p/a/relationships", "relation.isAuthorOfPublication folderName:b\n");
    fx_dc(f, "p/b", "Beta");
    fx_write(f, "p/b/contents", "beta.txt\n");
    fx_write(f, "p/b/beta.txt", "beta content\n");
    fx_dc(f, "p/c", "Gamma");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 3);
}

static char *read_chomped(fx *f, const char *rel)
{
    char *s = fx_read(f, rel);
    if (!s) print_error("cannot read %s\n", rel);
    assert_non_null(s);
    fx_chomp(s);
    return s;
}

/* -t ITEM: one folder DEST/1 with the item's files. */
static void test_export_item(void **state)
{
    fx *f = *state;
    import_three(f);
    const char *ha = fx_map_handle(f, "map", "a");
    char hb[256];
    snprintf(hb, sizeof hb, "%s", fx_map_handle(f, "map", "b"));
    SH(f, 0, "mkdir out");
    RUN(f, 0, "export --type ITEM --id %s --dest out", ha);
    assert_contains(f->err, "exported 1 items, 1 files, 14 bytes");
    assert_int_equal(fx_count_entries(f, "out"), 1);
    char *h = read_chomped(f, "out/1/handle");
    assert_string_equal(h, ha);
    free(h);
    char *cols = read_chomped(f, "out/1/collections");
    assert_string_equal(cols, f->coll);
    free(cols);
    char *dc = fx_read(f, "out/1/dublin_core.xml");
    assert_contains(dc, "<dcvalue element=\"title\" qualifier=\"none\">Alpha</dcvalue>");
    assert_contains(dc, "<dcvalue element=\"date\" qualifier=\"issued\">2001</dcvalue>");
    assert_contains(dc, "qualifier=\"accessioned\"");
    free(dc);
    char *dct = fx_read(f, "out/1/metadata_dcterms.xml");
    assert_contains(dct, "<dcvalue element=\"abstract\" qualifier=\"none\">About alpha</dcvalue>");
    free(dct);
    char *contents = fx_read(f, "out/1/contents");
    assert_contains(contents, "alpha.txt\tbundle:ORIGINAL");
    assert_contains(contents, "description:Alpha text");
    free(contents);
    char *file = fx_read(f, "out/1/alpha.txt");
    assert_string_equal(file, "alpha content\n");
    free(file);
    /* b is not in the package: the relationship names its handle */
    char *rel = read_chomped(f, "out/1/relationships");
    char want[300];
    snprintf(want, sizeof want, "relation.isAuthorOfPublication %s", hb);
    assert_string_equal(rel, want);
    free(rel);

    json_t *job = fx_last_job(f);
    assert_string_equal(fx_str(job, "type"), "export-saf");
    assert_string_equal(fx_str(job, "category"), "export");
    assert_string_equal(fx_status_code(job), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(job, "processed"), 1);
    assert_int_equal(fx_counter(job, "bitstreams"), 1);
    json_decref(job);
    /* an unknown item */
    RUN(f, 3, "export -t ITEM -i 123456789/4040 -d out");
}

/* -t COLLECTION: every item, in handle order, DEST/1..3; relationships inside
 * the package use folderName:. */
static void test_export_collection(void **state)
{
    fx *f = *state;
    import_three(f);
    SH(f, 0, "mkdir out");
    RUN(f, 0, "export -t COLLECTION -i %s -d out", f->coll);
    assert_contains(f->err, "exported 3 items, 2 files");
    assert_int_equal(fx_count_entries(f, "out"), 3);
    const char *folders[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "out/%d/handle", i + 1);
        char *h = read_chomped(f, rel);
        assert_string_equal(h, fx_map_handle(f, "map", folders[i])); /* handle order */
        free(h);
    }
    char *rel = read_chomped(f, "out/1/relationships");
    assert_string_equal(rel, "relation.isAuthorOfPublication folderName:2");
    free(rel);
    assert_false(fx_exists(f, "out/2/relationships")); /* the right side writes none */
    assert_false(fx_exists(f, "out/3/contents"));      /* metadata only */
    char *b = fx_read(f, "out/2/beta.txt");
    assert_string_equal(b, "beta content\n");
    free(b);

    /* a mapped (not owned) item is exported with the collection too */
    char y[128];
    snprintf(y, sizeof y, "%s", fx_new_collection(f, "Y"));
    fx_dc(f, "q/m", "Mapped");
    RUN(f, 0, "import -a -s q -c %s -c %s -m map2", y, f->coll);
    SH(f, 0, "mkdir out2");
    RUN(f, 0, "export -t COLLECTION -i %s -d out2", f->coll);
    assert_int_equal(fx_count_entries(f, "out2"), 4);
    char *cols = fx_read(f, "out2/4/collections");
    char want[300];
    snprintf(want, sizeof want, "%s\n%s\n", y, f->coll);
    assert_string_equal(cols, want);
    free(cols);

    /* an unknown collection */
    SH(f, 0, "mkdir out3");
    RUN(f, 3, "export -t COLLECTION -i 123456789/4040 -d out3");
    assert_int_equal(fx_count_entries(f, "out3"), 0);
}

/* -n 5: folders are numbered from 5. */
static void test_export_numbering(void **state)
{
    fx *f = *state;
    import_three(f);
    SH(f, 0, "mkdir out");
    RUN(f, 0, "export -t COLLECTION -i %s -d out -n 5", f->coll);
    assert_int_equal(fx_count_entries(f, "out"), 3);
    assert_true(fx_exists(f, "out/5/dublin_core.xml"));
    assert_true(fx_exists(f, "out/6/dublin_core.xml"));
    assert_true(fx_exists(f, "out/7/dublin_core.xml"));
    assert_false(fx_exists(f, "out/1"));
    char *rel = read_chomped(f, "out/5/relationships");
    assert_string_equal(rel, "relation.isAuthorOfPublication folderName:6");
    free(rel);
    /* an item export numbered too */
    SH(f, 0, "mkdir one");
    RUN(f, 0, "export -t ITEM -i %s -d one --number 42", fx_map_handle(f, "map", "c"));
    assert_true(fx_exists(f, "one/42/dublin_core.xml"));
    assert_int_equal(fx_count_entries(f, "one"), 1);
    RUN(f, 2, "export -t ITEM -i %s -d one -n abc", fx_map_handle(f, "map", "c"));
}

/* -m: for another repository: no handle file, no accession date or provenance. */
static void test_export_migrate(void **state)
{
    fx *f = *state;
    import_three(f);
    SH(f, 0, "mkdir out");
    RUN(f, 0, "export -t COLLECTION -i %s -d out -m", f->coll);
    for (int i = 1; i <= 3; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "out/%d/handle", i);
        assert_false(fx_exists(f, rel));
        snprintf(rel, sizeof rel, "out/%d/dublin_core.xml", i);
        char *dc = fx_read(f, rel);
        assert_non_null(dc);
        assert_contains(dc, "element=\"title\"");
        assert_not_contains(dc, "accessioned");
        assert_not_contains(dc, "provenance");
        free(dc);
    }
    char *dc = fx_read(f, "out/1/dublin_core.xml");
    assert_contains(dc, ">2001</dcvalue>"); /* dc.date.issued stays */
    free(dc);
    assert_true(fx_exists(f, "out/1/alpha.txt"));

    /* Imported elsewhere, the items get new handles and new accession dates. */
    SH(f, 0, "mkdir r2");
    fx_sh(f, "\"$BR\" --repo r2/repo init --handle-prefix 20.500 && \"$BR\" --repo r2/repo "
             "collection create New");
    fx_expect(f, 0, __FILE__, __LINE__);
    char c2[128];
    snprintf(c2, sizeof c2, "%s", f->out);
    fx_chomp(c2);
    SH(f, 0, "\"$BR\" --repo r2/repo import -a -s out -c %s -m map2", c2);
    const char *h1 = fx_map_handle(f, "map2", "1");
    assert_non_null(h1);
    assert_true(!strncmp(h1, "20.500/", 7));
    SH(f, 0, "\"$BR\" --repo r2/repo item show %s --json", h1);
    json_t *it = fx_parse(f, "item show");
    assert_string_equal(md(it, "dc.title", 0), "Alpha");
    assert_int_equal(md_n(it, "dc.date.accessioned"), 1);
    assert_int_equal(md_n(it, "dc.description.provenance"), 1);
    assert_int_equal(json_array_size(json_object_get(it, "relationships")), 1);
    json_decref(it);
}

/* -x: contents lists the files, the files are not written; the package
 * imports with --metadata-only. */
static void test_export_exclude_bitstreams(void **state)
{
    fx *f = *state;
    import_three(f);
    SH(f, 0, "mkdir out");
    RUN(f, 0, "export -t COLLECTION -i %s -d out -x", f->coll);
    char *contents = fx_read(f, "out/1/contents");
    assert_contains(contents, "alpha.txt");
    free(contents);
    assert_false(fx_exists(f, "out/1/alpha.txt"));
    assert_false(fx_exists(f, "out/2/beta.txt"));
    assert_true(fx_exists(f, "out/1/dublin_core.xml"));

    /* Re-import into a fresh repository. */
    SH(f, 0,
       "\"$BR\" --repo r2 init --handle-prefix 20.500 && \"$BR\" --repo r2 collection create New");
    char c2[128];
    snprintf(c2, sizeof c2, "%s", f->out);
    fx_chomp(c2);
    SH(f, 3, "\"$BR\" --repo r2 import -a -s out -c %s -m map2", c2);
    assert_contains(f->err,
                    "1/contents:1: error: 'alpha.txt' is listed but not in the item folder");
    SH(f, 0, "\"$BR\" --repo r2 item list --json");
    assert_string_equal(f->out, "[]\n");
    SH(f, 0, "\"$BR\" --repo r2 import -a --metadata-only -s out -c %s -m map2", c2);
    SH(f, 0, "\"$BR\" --repo r2 item list --json");
    json_t *list = fx_parse(f, "item list");
    assert_int_equal(json_array_size(list), 3);
    json_decref(list);
    /* the export kept the handles; the items have no bitstreams */
    SH(f, 0, "\"$BR\" --repo r2 item show %s --json", fx_map_handle(f, "map", "a"));
    json_t *it = fx_parse(f, "item show");
    assert_string_equal(md(it, "dc.title", 0), "Alpha");
    assert_int_equal(json_array_size(json_object_get(it, "bitstreams")), 0);
    assert_int_equal(json_array_size(json_object_get(it, "relationships")), 1);
    json_decref(it);
    SH(f, 0, "\"$BR\" --repo r2 fsck");
}

/* -z: DEST/NAME is a zip of the folders; nothing else is left in DEST. */
static void test_export_zip(void **state)
{
    fx *f = *state;
    import_three(f);
    SH(f, 0, "mkdir out");
    RUN(f, 0, "export -t COLLECTION -i %s -d out -z pkg.zip", f->coll);
    assert_int_equal(fx_count_entries(f, "out"), 1);
    assert_true(fx_exists(f, "out/pkg.zip"));
    assert_int_equal(fx_count_entries(f, "r/tmp"), 0);
    int zerr = 0;
    zip_t *za = zip_open(fx_path(f, "out/pkg.zip"), ZIP_RDONLY, &zerr);
    assert_non_null(za);
    assert_true(zip_name_locate(za, "1/dublin_core.xml", 0) >= 0);
    assert_true(zip_name_locate(za, "1/alpha.txt", 0) >= 0);
    assert_true(zip_name_locate(za, "2/beta.txt", 0) >= 0);
    assert_true(zip_name_locate(za, "3/dublin_core.xml", 0) >= 0);
    assert_true(zip_name_locate(za, "4/dublin_core.xml", 0) < 0);
    zip_stat_t st;
    assert_int_equal(zip_stat(za, "1/alpha.txt", 0, &st), 0);
    assert_int_equal(st.size, 14);
    zip_close(za);

    /* the same zip name again: refused, the first zip stays */
    RUN(f, 3, "export -t COLLECTION -i %s -d out -z pkg.zip", f->coll);
    assert_contains(f->err, "already exists");
    assert_int_equal(fx_count_entries(f, "out"), 1);

    /* the zip imports (into a fresh repository) */
    SH(f, 0,
       "\"$BR\" --repo r2 init --handle-prefix 20.500 && \"$BR\" --repo r2 collection create New");
    char c2[128];
    snprintf(c2, sizeof c2, "%s", f->out);
    fx_chomp(c2);
    SH(f, 0, "\"$BR\" --repo r2 import -a -s out -z pkg.zip -c %s -m map2", c2);
    assert_int_equal(fx_count_lines(f, "map2"), 3);
    SH(f, 0, "\"$BR\" --repo r2 fsck");
}

/* The destination must exist; an existing numbered folder stops the export
 * before anything is written. */
static void test_export_destination_errors(void **state)
{
    fx *f = *state;
    import_three(f);
    RUN(f, 3, "export -t COLLECTION -i %s -d nosuch", f->coll);
    assert_contains(f->err, "does not exist");
    assert_false(fx_exists(f, "nosuch"));

    SH(f, 0, "mkdir -p out/2 && echo mine > out/2/keep.txt");
    RUN(f, 3, "export -t COLLECTION -i %s -d out", f->coll);
    assert_contains(f->err, "out/2");
    assert_contains(f->err, "already exists");
    assert_false(fx_exists(f, "out/1")); /* checked up front: nothing written */
    assert_false(fx_exists(f, "out/3"));
    char *keep = fx_read(f, "out/2/keep.txt");
    assert_string_equal(keep, "mine\n");
    free(keep);
    assert_int_equal(fx_count_entries(f, "out/2"), 1);

    SH(f, 0, "mkdir -p one/1");
    RUN(f, 3, "export -t ITEM -i %s -d one", fx_map_handle(f, "map", "a"));
    assert_contains(f->err, "already exists");
    assert_int_equal(fx_count_entries(f, "one/1"), 0);

    /* usage */
    RUN(f, 2, "export -i %s -d out", f->coll);
    assert_contains(f->err, "COLLECTION or ITEM");
    RUN(f, 2, "export -t ITEMS -i %s -d out", f->coll);
    RUN(f, 2, "export -t ITEM -d out");
    RUN(f, 2, "export -t ITEM -i %s", f->coll);
    RUN(f, 2, "export -t COLLECTION -i %s -d out --format csv", f->coll);
    RUN(f, 0, "export --help");
    assert_contains(f->out, "usage: bulkrepo");
}

/* --json prints the export job. */
static void test_export_job_json(void **state)
{
    fx *f = *state;
    import_three(f);
    SH(f, 0, "mkdir out");
    RUN(f, 0, "export -t COLLECTION -i %s -d out --json", f->coll);
    json_t *job = fx_parse(f, "export --json");
    assert_string_equal(fx_str(job, "type"), "export-saf");
    assert_string_equal(fx_status_code(job), "COMPLETED_SUCCESS");
    assert_string_equal(fx_str(json_object_get(job, "status"), "label"), "Completed Successfully");
    assert_int_equal(json_integer_value(json_object_get(job, "total")), 3);
    assert_int_equal(fx_counter(job, "processed"), 3);
    assert_int_equal(fx_counter(job, "bitstreams"), 2);
    assert_int_equal(fx_counter(job, "bytes"), 27);
    json_t *params = json_object_get(job, "parameters");
    assert_string_equal(fx_str(params, "scope"), "COLLECTION");
    assert_string_equal(fx_str(params, "id"), f->coll);
    json_decref(job);
    json_t *list = fx_json(f, "job list --json");
    assert_int_equal(json_array_size(list), 2); /* the import and the export */
    assert_string_equal(fx_str(json_array_get(list, 0), "category"), "export");
    json_decref(list);
    /* a failed export is a failed job */
    RUN(f, 3, "export -t COLLECTION -i %s -d out", f->coll);
    job = fx_last_job(f);
    assert_string_equal(fx_str(job, "type"), "export-saf");
    assert_string_equal(fx_status_code(job), "FAILED");
    json_decref(job);
}

/* Round trip: import a generated package, export, import the export into a
 * fresh repository (new collection), export again: the two exports are
 * byte-identical except the collections files. */
static void test_round_trip(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 6);
    /* plus an item with a relationship inside the package */
    fx_dc(f, "p/item_zrel", "Related");
    fx_write(f, "p/item_zrel/relationships",
             "relation.isAuthorOfPublication folderName:item_000002\n");
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    assert_int_equal(fx_item_count(f), 7);
    SH(f, 0, "mkdir e1 e2");
    RUN(f, 0, "export -t COLLECTION -i %s -d e1", f->coll);
    assert_int_equal(fx_count_entries(f, "e1"), 7);

    SH(f, 0,
       "\"$BR\" --repo r2 init --handle-prefix 20.500 && \"$BR\" --repo r2 collection create Other"
       " && \"$BR\" --repo r2 collection create New");
    /* stdout: the two collections' handles, one a line; the second is ours */
    char c2[128];
    fx_chomp(f->out);
    const char *last = strrchr(f->out, '\n');
    snprintf(c2, sizeof c2, "%s", last ? last + 1 : f->out);
    assert_string_equal(c2, "20.500/2");
    SH(f, 0, "\"$BR\" --repo r2 import -a -s e1 -c %s -m map2", c2);
    assert_int_equal(fx_count_lines(f, "map2"), 7);
    SH(f, 0, "\"$BR\" --repo r2 export -t COLLECTION -i %s -d e2", c2);

    SH(f, 0, "diff -r -x collections e1 e2");
    /* the collections files do differ: the items live in the new collection */
    SH(f, 1, "diff -r e1 e2 >/dev/null");
    char *cols = read_chomped(f, "e2/1/collections");
    assert_string_equal(cols, c2);
    free(cols);
    /* the relationship survived as folderName: */
    SH(f, 0, "grep -l 'relation.isAuthorOfPublication folderName:' e2/*/relationships | wc -l");
    assert_int_equal(atoi(f->out), 1);
    SH(f, 0, "\"$BR\" --repo r2 fsck");
}

/* Export -> import round trip through a zip, with the DSpace reference package. */
static void test_round_trip_reference_zip(void **state)
{
    fx *f = *state;
    char src[4096];
    snprintf(src, sizeof src, "%s", tu_data("saf"));
    RUN(f, 0, "import -a -s '%s' -z saf-bitstreams.zip -c %s -m map", src, f->coll);
    SH(f, 0, "mkdir out");
    RUN(f, 0, "export -t COLLECTION -i %s -d out -z ref.zip -m", f->coll);
    SH(f, 0, "\"$BR\" --repo r2 init && \"$BR\" --repo r2 collection create New");
    char c2[128];
    snprintf(c2, sizeof c2, "%s", f->out);
    fx_chomp(c2);
    SH(f, 0, "\"$BR\" --repo r2 import -a -s out -z ref.zip -c %s -m map2", c2);
    SH(f, 0, "\"$BR\" --repo r2 item show %s --json", fx_map_handle(f, "map2", "1"));
    json_t *it = fx_parse(f, "item show");
    assert_string_equal(md(it, "dc.title", 0), "A Tale of Two Cities");
    assert_string_equal(md(it, "dc.title.alternative", 0), "J'aime les Printemps");
    assert_string_equal(md_lang(it, "dc.title.alternative", 0), "fr");
    assert_string_equal(md(it, "dcterms.title", 0), "A Tale of Two Cities");
    json_t *b = fx_bitstream(it, "file1.txt");
    assert_non_null(b);
    assert_string_equal(fx_str(b, "md5"), "1836ca07cde7108c09eaa376ad153f55");
    json_decref(it);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_export_item),
        FX_TEST(test_export_collection),
        FX_TEST(test_export_numbering),
        FX_TEST(test_export_migrate),
        FX_TEST(test_export_exclude_bitstreams),
        FX_TEST(test_export_zip),
        FX_TEST(test_export_destination_errors),
        FX_TEST(test_export_job_json),
        FX_TEST(test_round_trip),
        FX_TEST(test_round_trip_reference_zip),
    };
    return cmocka_run_group_tests_name("cli export", tests, NULL, NULL);
}
