/* CLI tests for `bulkrepo export --format esploro-csv` (issue 3, item 3), run
 * as users run it: items are imported (Esploro CSV or SAF), exported, linted,
 * and re-imported as an update. */
#define _GNU_SOURCE
#include "cli_fixture.h"

/* The seed's example shape: one asset with three authors, two links and a file. */
static const char SEED_CSV[] =
    ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,ASSET_KEYWORDS,"
    "ASSET_ABSTRACT,ASSET_ACCESSRIGHTDATE,PRTOF_ISSN,CREATOR_FAMNAME,CREATOR_GIVNAME,CREATOR_ORCID,"
    "CREATOR_AFFILIATION,LINK_LINKURL,LINK_LINKTITLE,LINK_CONTENTTYPE,FILE_FILEURL,"
    "FILE_DISPLAY_NAME,FILE_DESCRIPTION\n"
    "ASSET,1,\"Seed asset, with comma\",publication.journalArticle,01UNI___n100,20211018,a@@b,"
    "<p>One</p><p>Two</p>,02/29/2024,,,,,,,,,,,\n"
    "PRTOF,1,,,,,,,,1234-5678,,,,,,,,,,\n"
    "CREATOR,1,,,,,,,,,Smith,John,0000-0002-1825-0097,01UNI___n100,,,,,,\n"
    "CREATOR,1,,,,,,,,,Doe,Jane,,,,,,,,\n"
    "CREATOR,1,,,,,,,,,Roe,Rick,,,,,,,,\n"
    "LINK,1,,,,,,,,,,,,,https://example.org/a,A,published,,,\n"
    "LINK,1,,,,,,,,,,,,,https://example.org/b,B,preprint,,,\n"
    "FILE,1,,,,,,,,,,,,,,,,files/paper.pdf,paper.pdf,The paper\n";

/* Imports the seed example; returns its handle (static buffer). */
static const char *import_seed(fx *f)
{
    static char handle[128];
    RUN(f, 0, "orgunit add 01UNI___n100 Unit");
    fx_write(f, "seed.csv", SEED_CSV);
    fx_write(f, "files/paper.pdf", "%PDF pretend bytes\n");
    RUN(f, 0, "import --format esploro-csv -s seed.csv -m map -c %s", f->coll);
    snprintf(handle, sizeof handle, "%s", fx_map_handle(f, "map", "1"));
    return handle;
}

/* An item's JSON without the modification time. */
static char *item_text(fx *f, const char *handle)
{
    json_t *it = fx_show(f, handle);
    json_object_del(it, "lastModified");
    char *s = json_dumps(it, JSON_SORT_KEYS | JSON_INDENT(1));
    json_decref(it);
    return s;
}

/* Issue 3's done criterion: imported with creators in order, both links and
 * the file with its checksum; exported it lints clean and re-imports as an
 * update with no change. */
static void test_seed_round_trip(void **state)
{
    fx *f = *state;
    const char *h = import_seed(f);
    json_t *it = fx_show(f, h);
    assert_string_equal(md(it, "dc.contributor.author", 0), "Smith, John");
    assert_string_equal(md(it, "dc.contributor.author", 1), "Doe, Jane");
    assert_string_equal(md(it, "dc.contributor.author", 2), "Roe, Rick");
    json_t *b = fx_bitstream(it, "paper.pdf");
    assert_non_null(b);
    assert_true(strlen(fx_str(b, "md5")) == 32);
    json_decref(it);
    char *before = item_text(f, h);

    RUN(f, 0, "export --format esploro-csv -t ITEM -i %s -d out.csv", h);
    SH(f, 0, "\"$BR\" lint out.csv");
    assert_contains(f->out, "0 errors, 0 warnings");
    char *csv = fx_read(f, "out.csv");
    assert_contains(csv, ",RESEARCH_ASSET_ID,ASSET_TITLE,");
    assert_contains(csv, "\"Seed asset, with comma\"");
    assert_contains(csv, ",20211018,");
    assert_contains(csv, ",a@@b,");
    assert_contains(csv, ",02/29/2024,");
    assert_contains(csv, ",0000-0002-1825-0097,");
    assert_contains(csv, "https://example.org/b");
    free(csv);
    /* the file is beside the CSV with the same bytes */
    SH(f, 0, "cmp files/paper.pdf out.csv.files/*/paper.pdf");
    assert_int_equal(fx_count_lines(f, "out.csv"), 1 + 8);

    RUN(f, 0, "import --format esploro-csv -s out.csv -m map2");
    assert_contains(f->err, "1 updated");
    char *after = item_text(f, h);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(fx_item_count(f), 1);
}

/* The job: type export-esploro, one journal line per asset. */
static void test_job_and_scopes(void **state)
{
    fx *f = *state;
    char src[4096];
    snprintf(src, sizeof src, "%s", tu_data("saf/basic"));
    RUN(f, 0, "import -a -s '%s' -c %s -m smap", src, f->coll);
    RUN(f, 0, "export --format esploro-csv -t COLLECTION -i %s -d c.csv --json", f->coll);
    json_t *job = fx_parse(f, "export --json");
    assert_string_equal(fx_str(job, "type"), "export-esploro");
    assert_string_equal(fx_status_code(job), "COMPLETED_SUCCESS");
    json_decref(job);
    job = fx_last_job(f);
    assert_int_equal(fx_counter(job, "processed"), 3);
    json_decref(job);
    /* values with no column are reported with the item's handle */
    RUN(f, 0, "export --format esploro-csv -t ALL -d all.csv");
    assert_contains(f->err, "no Esploro column for dc.date.accessioned");
    assert_contains(f->err, "notes (values the Esploro CSV cannot hold)");
    assert_contains(f->err, "exported 3 assets, 5 files");
    SH(f, 0, "sed s/all.csv.files/c.csv.files/g all.csv | cmp - c.csv");
    /* every file's bytes, under a name a URL can hold */
    SH(f, 0, "cmp '%s/item_1/fig 2.png' c.csv.files/*/2_fig_2.png", src);
    SH(f, 0, "cmp '%s/item_1/paper.pdf' c.csv.files/*/paper.pdf", src);
    char *csv = fx_read(f, "c.csv");
    assert_contains(csv, ",fig 2.png,"); /* FILE_DISPLAY_NAME keeps the real name */
    free(csv);
    /* -t ITEM */
    RUN(f, 0, "export --format esploro-csv -t ITEM -i %s -d one.csv",
        fx_map_handle(f, "smap", "item_2"));
    assert_int_equal(fx_count_lines(f, "one.csv"), 2);
    /* -x: no FILE columns, no files folder */
    RUN(f, 0, "export --format esploro-csv -t ALL -d nofiles.csv -x");
    char *nf = fx_read(f, "nofiles.csv");
    assert_not_contains(nf, ",FILE_");
    assert_not_contains(nf, "\nFILE,");
    free(nf);
    assert_false(fx_exists(f, "nofiles.csv.files"));
}

static void test_selective(void **state)
{
    fx *f = *state;
    const char *h = import_seed(f);
    RUN(f, 0,
        "export --format esploro-csv -t ITEM -i %s -d f.csv --fields asset_title,CREATOR_ORCID", h);
    char *s = fx_read(f, "f.csv");
    assert_true(!strncmp(s, ",RESEARCH_ASSET_ID,ASSET_TITLE,CREATOR_ORCID\n", 45));
    assert_contains(s, "\nCREATOR,");
    assert_not_contains(s, "LINK");
    assert_int_equal(fx_count_lines(f, "f.csv"), 3); /* header, ASSET, the CREATOR with an ORCID */
    free(s);
    SH(f, 0, "\"$BR\" lint f.csv"); /* a selective export is not a new asset: lints clean */
    RUN(f, 0, "export --format esploro-csv -t ITEM -i %s -d c.csv --categories links,dates", h);
    s = fx_read(f, "c.csv");
    assert_contains(s, "ASSET_PUBLISHDATE");
    assert_contains(s, "LINK_LINKURL");
    assert_not_contains(s, "ASSET_TITLE");
    assert_not_contains(s, "CREATOR_");
    assert_contains(s, "\nLINK,");
    free(s);
    /* unknown names: usage errors naming them and listing the valid ones */
    RUN(f, 2, "export --format esploro-csv -t ITEM -i %s -d x.csv --fields ASSET_TITEL", h);
    assert_contains(f->err, "unknown Esploro column 'ASSET_TITEL'");
    assert_contains(f->err, "ASSET_TITLE");
    assert_contains(f->err, "FILE_SUPPLEMENTAL");
    RUN(f, 2, "export --format esploro-csv -t ITEM -i %s -d x.csv --categories authors", h);
    assert_contains(f->err, "unknown Esploro category 'authors'");
    assert_contains(f->err, "creators");
    assert_false(fx_exists(f, "x.csv"));
}

/* --submit: the worker runs the export as the queued job (its journal and
 * total), and makes no second job. */
static void test_submit(void **state)
{
    fx *f = *state;
    import_seed(f);
    RUN(f, 0, "export --format esploro-csv -t ALL -d q.csv --submit");
    long long id = strtoll(f->out, NULL, 10);
    assert_true(id > 0);
    RUN(f, 0, "job work --once");
    json_t *jobs = fx_json(f, "job list --json");
    assert_int_equal(json_array_size(jobs), 2); /* the seed's import and the export */
    json_decref(jobs);
    json_t *job = fx_job(f, id);
    assert_string_equal(fx_str(job, "type"), "export-esploro");
    assert_string_equal(fx_status_code(job), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(job, "processed"), 1);
    json_decref(job);
    assert_int_equal(fx_count_lines(f, "q.csv"), 1 + 8);
}

static void test_errors(void **state)
{
    fx *f = *state;
    const char *h = import_seed(f);
    RUN(f, 2, "export --format esploro-csv -t ALL -i %s -d x.csv", h);
    RUN(f, 2, "export --format esploro-csv -t ITEM -d x.csv");
    RUN(f, 2, "export --format esploro-csv -t ALL");
    RUN(f, 2, "export --format esploro-csv -t ALL -d x.csv -z a.zip");
    RUN(f, 2, "export --format esploro-csv -t ALL -d x.csv --fields A --categories B");
    RUN(f, 2, "export -t COLLECTION -i %s -d out --fields ASSET_TITLE", f->coll);
    RUN(f, 2, "export --format frobnicate -t ALL -d x.csv");
    RUN(f, 3, "export --format esploro-csv -t ITEM -i 123456789/999 -d x.csv");
    assert_false(fx_exists(f, "x.csv"));
    fx_write(f, "taken.csv", "keep");
    RUN(f, 3, "export --format esploro-csv -t ALL -d taken.csv");
    char *t = fx_read(f, "taken.csv");
    assert_string_equal(t, "keep");
    free(t);
    assert_false(fx_exists(f, "taken.csv.files"));
    RUN(f, 0, "export --help");
    assert_contains(f->out, "--format esploro-csv");
    assert_contains(f->out, "identifiers");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_seed_round_trip), FX_TEST(test_job_and_scopes), FX_TEST(test_selective),
        FX_TEST(test_submit),          FX_TEST(test_errors),
    };
    return cmocka_run_group_tests_name("cli export esploro", tests, NULL, NULL);
}
