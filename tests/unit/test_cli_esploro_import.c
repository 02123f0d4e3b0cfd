/* CLI tests for `bulkrepo import --format esploro-csv` (issue 3), `item approve`
 * and `orgunit`, run as users run them (see cli_fixture.h).  Remote files come
 * from an in-test libmicrohttpd server on a loopback port (http_fixture.h). */
#define _GNU_SOURCE
#include "cli_fixture.h"
#include "http_fixture.h"
#include <openssl/evp.h>

#define UNIT "01ALLIANCE_UID___n6370"

static void digest_hex(const EVP_MD *md, const char *data, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(data, strlen(data), d, &len, md, NULL), 1);
    tu_hex(d, len, out);
}

static void units(fx *f)
{
    RUN(f, 0, "orgunit add %s Library", UNIT);
}

/* The seed's example shape: one asset with three authors, two links and a
 * file given as a path relative to the CSV. */
#define HEADER                                                                                     \
    ",group_id,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,ASSET_KEYWORDS,"      \
    "ASSET_ORIGASSET_ID,CREATOR_FAMNAME,CREATOR_GIVNAME,CREATOR_ORCID,CREATOR_AFFILIATION,"        \
    "LINK_LINKURL,LINK_LINKTITLE,FILE_FILEURL,FILE_DISPLAY_NAME\n"
#define SEED_CSV                                                                                   \
    HEADER "ASSET,0,Restoring fish habitat,publication.journalArticle," UNIT                       \
           ",20211018,biology@@habitat restoration@@fish,SRC-1,,,,,,,,\n"                          \
           "CREATOR,0,,,,,,,Smith,Jane,0000-0002-1825-0097," UNIT ",,,,\n"                         \
           "CREATOR,0,,,,,,,Doe,John,,,,,,\n"                                                      \
           "CREATOR,0,,,,,,,Roe,Ann,,,,,,\n"                                                       \
           "LINK,0,,,,,,,,,,,https://example.org/a,Project page,,\n"                               \
           "LINK,0,,,,,,,,,,,https://example.org/b,Data,,\n"                                       \
           "FILE,0,,,,,,,,,,,,,files/paper.pdf,Paper\n"
#define PAPER "%PDF-1.4 the paper\n"

static const char *import_seed(fx *f)
{
    units(f);
    fx_write(f, "in/files/paper.pdf", PAPER);
    fx_write(f, "in/a.csv", SEED_CSV);
    RUN(f, 0, "import --format esploro-csv -s in/a.csv -m a.map");
    assert_contains(f->err, "1 imported");
    assert_int_equal(fx_count_lines(f, "a.map"), 1);
    const char *h = fx_map_handle(f, "a.map", "0");
    assert_non_null(h);
    return h;
}

static void test_seed_example(void **state)
{
    fx *f = *state;
    const char *h = import_seed(f);
    json_t *it = fx_show(f, h);
    assert_string_equal(fx_str(it, "status"), "draft");
    assert_string_equal(fx_str(it, "owningCollection"), f->coll);
    assert_string_equal(md(it, "dc.title", 0), "Restoring fish habitat");
    assert_string_equal(md(it, "dc.date.issued", 0), "2021-10-18");
    assert_int_equal(md_n(it, "dc.subject"), 3);
    assert_string_equal(md(it, "dc.subject", 1), "habitat restoration");
    /* creators in order, as dc.contributor.author */
    assert_int_equal(md_n(it, "dc.contributor.author"), 3);
    assert_string_equal(md(it, "dc.contributor.author", 0), "Smith, Jane");
    assert_string_equal(md(it, "dc.contributor.author", 1), "Doe, John");
    assert_string_equal(md(it, "dc.contributor.author", 2), "Roe, Ann");
    /* ... and structured, with the ORCID and affiliation, in `item show --json` */
    json_t *cr = json_object_get(it, "creators");
    assert_int_equal(json_array_size(cr), 3);
    assert_string_equal(fx_str(json_array_get(cr, 0), "family"), "Smith");
    assert_string_equal(fx_str(json_array_get(cr, 0), "orcid"), "0000-0002-1825-0097");
    assert_string_equal(fx_str(json_array_get(cr, 0), "affiliation"), UNIT);
    assert_string_equal(fx_str(json_array_get(cr, 2), "given"), "Ann");
    json_t *links = json_object_get(it, "links");
    assert_int_equal(json_array_size(links), 2);
    assert_string_equal(fx_str(json_array_get(links, 1), "url"), "https://example.org/b");
    assert_string_equal(fx_str(json_array_get(links, 1), "title"), "Data");
    json_t *ids = json_object_get(it, "identifiers");
    assert_int_equal(json_array_size(ids), 1);
    assert_string_equal(fx_str(json_array_get(ids, 0), "type"), "origid");
    assert_string_equal(fx_str(json_array_get(ids, 0), "value"), "SRC-1");
    /* a draft has no install values yet */
    assert_int_equal(md_n(it, "dc.date.accessioned"), 0);
    json_t *b = fx_bitstream(it, "Paper");
    assert_non_null(b);
    char md5[33], sha[65];
    digest_hex(EVP_md5(), PAPER, md5);
    digest_hex(EVP_sha256(), PAPER, sha);
    assert_string_equal(fx_str(b, "md5"), md5);
    assert_string_equal(fx_str(b, "sha256"), sha);
    assert_int_equal(json_integer_value(json_object_get(b, "size")), (json_int_t)strlen(PAPER));
    json_decref(it);
    json_t *job = fx_last_job(f);
    assert_string_equal(fx_str(job, "type"), "import-esploro");
    assert_int_equal(fx_counter(job, "imported"), 1);
    json_decref(job);
    assert_int_equal(fx_count_entries(f, "r/tmp"), 0);
    ASSERT_FSCK_CLEAN(f);
}

static void test_approve(void **state)
{
    fx *f = *state;
    char h[128];
    snprintf(h, sizeof h, "%s", import_seed(f));
    RUN(f, 2, "item approve");
    RUN(f, 3, "item approve 123456789/999");
    RUN(f, 0, "item approve %s -e alice", h);
    json_t *it = fx_show(f, h);
    assert_string_equal(fx_str(it, "status"), "archived");
    assert_int_equal(md_n(it, "dc.date.accessioned"), 1);
    assert_int_equal(md_n(it, "dc.date.available"), 1);
    assert_contains(md(it, "dc.description.provenance", 0), "alice");
    /* the rest is untouched */
    assert_int_equal(md_n(it, "dc.contributor.author"), 3);
    assert_non_null(fx_bitstream(it, "Paper"));
    json_decref(it);
    /* not a draft any more */
    RUN(f, 3, "item approve %s", h);
    assert_contains(f->err, "not a draft");
    ASSERT_FSCK_CLEAN(f);
}

static void test_approve_job_and_status_archived(void **state)
{
    fx *f = *state;
    units(f);
    fx_write(f, "b.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE\n"
             "ASSET,g1,One,dataset.dataset," UNIT ",2020\n"
             "ASSET,g2,Two,dataset.dataset," UNIT ",2021\n");
    RUN(f, 0, "import --format esploro-csv -s b.csv -m b.map");
    json_t *job = fx_last_job(f);
    long long id = (long long)json_integer_value(json_object_get(job, "id"));
    json_decref(job);
    RUN(f, 0, "item approve --job %lld", id);
    assert_contains(f->err, "2 items approved");
    json_t *it = fx_show(f, fx_map_handle(f, "b.map", "g2"));
    assert_string_equal(fx_str(it, "status"), "archived");
    json_decref(it);
    RUN(f, 0, "item approve --job %lld", id);
    assert_contains(f->err, "0 items approved");
    /* --status archived: installed at once */
    fx_write(f, "c.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE\n"
             "ASSET,g3,Three,dataset.dataset," UNIT ",2022\n");
    RUN(f, 0, "import --format esploro-csv -s c.csv -m c.map --status archived -c %s", f->coll);
    it = fx_show(f, fx_map_handle(f, "c.map", "g3"));
    assert_string_equal(fx_str(it, "status"), "archived");
    assert_int_equal(md_n(it, "dc.date.accessioned"), 1);
    json_decref(it);
    RUN(f, 2, "import --format esploro-csv -s c.csv -m d.map --status final");
}

static void test_update_by_asset_id(void **state)
{
    fx *f = *state;
    char h[128], csv[1024];
    snprintf(h, sizeof h, "%s", import_seed(f));
    /* title replaced, keywords emptied (deleted), no date/creator/link/file
     * columns (kept) */
    snprintf(csv, sizeof csv,
             ",RESEARCH_ASSET_ID,ASSET_TITLE,ASSET_KEYWORDS\nASSET,%s,New title,\n", h);
    fx_write(f, "u.csv", csv);
    RUN(f, 0, "import --format esploro-csv -s u.csv -m u.map");
    assert_contains(f->err, "1 updated");
    assert_string_equal(fx_map_handle(f, "u.map", h), h);
    json_t *it = fx_show(f, h);
    assert_int_equal(md_n(it, "dc.title"), 1);
    assert_string_equal(md(it, "dc.title", 0), "New title");
    assert_int_equal(md_n(it, "dc.subject"), 0);
    assert_string_equal(md(it, "dc.date.issued", 0), "2021-10-18");
    assert_int_equal(md_n(it, "dc.contributor.author"), 3);
    assert_non_null(fx_bitstream(it, "Paper"));
    assert_string_equal(fx_str(it, "status"), "draft");
    json_decref(it);
    json_t *job = fx_last_job(f);
    assert_int_equal(fx_counter(job, "updated"), 1);
    assert_int_equal(fx_counter(job, "imported"), 0);
    json_decref(job);
    assert_int_equal(fx_item_count(f), 1);
    /* creators replaced when the file has creator columns */
    snprintf(csv, sizeof csv,
             ",RESEARCH_ASSET_ID,ASSET_TITLE,CREATOR_FAMNAME,CREATOR_GIVNAME\n"
             "ASSET,%s,New title,,\nCREATOR,%s,,Lovelace,Ada\n",
             h, h);
    fx_write(f, "u2.csv", csv);
    RUN(f, 0, "import --format esploro-csv -s u2.csv -m u2.map");
    it = fx_show(f, h);
    assert_int_equal(md_n(it, "dc.contributor.author"), 1);
    assert_string_equal(md(it, "dc.contributor.author", 0), "Lovelace, Ada");
    json_decref(it);
    /* an unknown RESEARCH_ASSET_ID is invalid */
    fx_write(f, "u3.csv", ",RESEARCH_ASSET_ID,ASSET_TITLE\nASSET,123456789/999,X\n");
    RUN(f, 3, "import --format esploro-csv -s u3.csv -m u3.map");
    assert_false(fx_exists(f, "u3.map"));
    ASSERT_FSCK_CLEAN(f);
}

static void test_update_by_origasset_id(void **state)
{
    fx *f = *state;
    char h[128];
    snprintf(h, sizeof h, "%s", import_seed(f));
    fx_write(f, "o.csv",
             ",group_id,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,ASSET_"
             "ORIGASSET_ID\n"
             "ASSET,x1,Matched by origin,publication.journalArticle," UNIT ",2022,SRC-1\n"
             "ASSET,x2,A new one,publication.journalArticle," UNIT ",2022,SRC-2\n");
    RUN(f, 0, "import --format esploro-csv -s o.csv -m o.map");
    assert_string_equal(fx_map_handle(f, "o.map", "x1"), h);
    assert_int_equal(fx_item_count(f), 2);
    json_t *it = fx_show(f, h);
    assert_string_equal(md(it, "dc.title", 0), "Matched by origin");
    assert_string_equal(md(it, "dc.date.issued", 0), "2022");
    assert_int_equal(md_n(it, "dc.contributor.author"), 3); /* no creator columns: kept */
    json_decref(it);
    json_t *job = fx_last_job(f);
    assert_int_equal(fx_counter(job, "updated"), 1);
    assert_int_equal(fx_counter(job, "imported"), 1);
    json_decref(job);
}

static void test_unknown_orgunit_suggests_and_writes_nothing(void **state)
{
    fx *f = *state;
    units(f);
    char *before = fx_item_list_text(f);
    fx_write(f, "a.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE\n"
             "ASSET,g1,Good,dataset.dataset," UNIT ",2020\n"
             "ASSET,g2,Bad unit,dataset.dataset,01ALLIANCE_UID___n6379,2020\n");
    RUN(f, 3, "import --format esploro-csv -s a.csv -m a.map");
    assert_contains(f->err, "E3");
    assert_contains(f->err, "01ALLIANCE_UID___n6379");
    assert_contains(f->err, "did you mean " UNIT);
    assert_contains(f->err, "nothing was imported");
    ASSERT_NOTHING_WRITTEN(f, before, "a.map");
    /* the report lists the invalid group */
    json_t *job = fx_last_job(f);
    assert_int_equal(fx_counter(job, "invalid"), 1);
    assert_non_null(fx_job_record(job, "g2"));
    json_decref(job);
    /* --skip-invalid: the valid group goes in, exit 1 */
    RUN(f, 1, "import --format esploro-csv -s a.csv -m a.map --skip-invalid");
    assert_int_equal(fx_count_lines(f, "a.map"), 1);
    assert_non_null(fx_map_handle(f, "a.map", "g1"));
    free(before);
}

static void test_failed_validation_leaves_store_unchanged(void **state)
{
    fx *f = *state;
    units(f);
    fx_write(f, "seed.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE\n"
             "ASSET,s,Seed,dataset.dataset," UNIT ",2020\n");
    RUN(f, 0, "import --format esploro-csv -s seed.csv -m seed.map");
    char *before = fx_item_list_text(f);
    static const char *const bad[] = {
        /* a bad date */
        ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE\n"
        "ASSET,g1,T,dataset.dataset," UNIT ",2020\nASSET,g2,T,dataset.dataset," UNIT
        ",18/10/2021\n",
        /* a local file that is not there */
        ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,FILE_FILEURL\n"
        "ASSET,g1,T,dataset.dataset," UNIT ",2020,\nFILE,g1,,,,,nothere.pdf\n",
        /* a mandatory field missing */
        ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE\n"
        "ASSET,g1,,dataset.dataset," UNIT ",2020\n",
        /* a value under another row type's column */
        ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,CREATOR_FAMNAME\n"
        "ASSET,g1,T,dataset.dataset," UNIT ",2020,Smith\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fx_write(f, "bad.csv", bad[i]);
        RUN(f, 3, "import --format esploro-csv -s bad.csv -m bad.map");
        ASSERT_NOTHING_WRITTEN(f, before, "bad.map");
        /* -v: validation only, same verdict */
        RUN(f, 3, "import --format esploro-csv -s bad.csv -m bad.map -v");
    }
    fx_write(f, "bad.csv", bad[1]); /* the missing file is named */
    RUN(f, 3, "import --format esploro-csv -s bad.csv -m bad.map");
    assert_contains(f->err, "nothere.pdf");
    free(before);
}

static void test_usage(void **state)
{
    fx *f = *state;
    fx_write(f, "a.csv", ",GROUP_ID,ASSET_TITLE\n");
    RUN(f, 0, "import --help");
    assert_contains(f->out, "esploro-csv");
    RUN(f, 2, "import --format esploro-csv -s a.csv");
    RUN(f, 2, "import --format esploro-csv -d -s a.csv -m m");
    RUN(f, 2, "import --format frobnicate -s a.csv -m m");
    RUN(f, 3, "import --format esploro-csv -s nothere.csv -m m");
    /* two collections: -c is required */
    fx_new_collection(f, "Second");
    RUN(f, 2, "import --format esploro-csv -s a.csv -m m");
    assert_contains(f->err, "-c");
    RUN(f, 3, "import --format esploro-csv -s a.csv -m m -c 123456789/999");
}

static void test_orgunit_cli(void **state)
{
    fx *f = *state;
    RUN(f, 0, "orgunit --help");
    RUN(f, 0, "orgunit add A___top Top");
    RUN(f, 0, "orgunit add A___sub Sub --parent A___top");
    RUN(f, 3, "orgunit add A___x X --parent A___tpo");
    assert_contains(f->err, "did you mean A___top?");
    RUN(f, 3, "orgunit add A___top Again");
    RUN(f, 2, "orgunit add OnlyCode");
    fx_write(f, "ou.csv", "code,name,parent\nB___1,One,A___top\n");
    RUN(f, 0, "orgunit import ou.csv");
    fx_write(f, "bad.csv", "code,name,parent\nB___2,Two,B___none\n");
    RUN(f, 3, "orgunit import bad.csv");
    json_t *a = fx_json(f, "orgunit list --json");
    assert_int_equal(json_array_size(a), 3);
    assert_string_equal(fx_str(json_array_get(a, 1), "code"), "A___top");
    assert_string_equal(fx_str(json_array_get(a, 2), "parent"), "A___top");
    json_decref(a);
}

/* ---- remote files ---------------------------------------------------------------------------- */

static void test_http_files(void **state)
{
    fx *f = *state;
    units(f);
    hf_server *s = hf_start();
    assert_non_null(s);
    char csv[4096];
    snprintf(
        csv, sizeof csv,
        ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,FILE_FILEURL\n"
        "ASSET,ok,Fetched,dataset.dataset," UNIT ",2020,\nFILE,ok,,,,,%s\n"
        "ASSET,gone,Missing,dataset.dataset," UNIT ",2020,\nFILE,gone,,,,,%s\n"
        "ASSET,big,Too big,dataset.dataset," UNIT ",2020,\nFILE,big,,,,,%s\n"
        "FILE,big,,,,,%s\n"
        "ASSET,slow,Slow,dataset.dataset," UNIT ",2020,\nFILE,slow,,,,,%s\n"
        "ASSET,plain,No file,dataset.dataset," UNIT ",2020,\n",
        hf_url(s, "/ok/data.csv"), hf_url(s, "/missing"), hf_url(s, "/ok/first.txt"),
        hf_url(s, "/big-stream"), hf_url(s, "/slow"));
    fx_write(f, "h.csv", csv);
    RUN(f, 1,
        "import --format esploro-csv -s h.csv -m h.map --max-file-size 10K --fetch-timeout 1");
    assert_contains(f->err, "2 imported");
    assert_contains(f->err, "3 failed");
    assert_int_equal(fx_count_lines(f, "h.map"), 2);
    json_t *it = fx_show(f, fx_map_handle(f, "h.map", "ok"));
    json_t *b = fx_bitstream(it, "data.csv");
    assert_non_null(b);
    char md5[33];
    digest_hex(EVP_md5(), "remote file data.csv\n", md5);
    assert_string_equal(fx_str(b, "md5"), md5);
    json_decref(it);
    assert_null(fx_map_handle(f, "h.map", "gone"));
    json_t *job = fx_last_job(f);
    assert_string_equal(fx_status_code(job), "COMPLETED_WITH_ERRORS");
    assert_int_equal(fx_counter(job, "failed"), 3);
    assert_contains(fx_str(fx_job_record(job, "gone"), "message"), "HTTP 404");
    assert_contains(fx_str(fx_job_record(job, "big"), "message"), "larger than");
    assert_contains(fx_str(fx_job_record(job, "slow"), "message"), "timed out");
    json_decref(job);
    /* no partial bitstream: only the one fetched file is stored (the big group's
     * first file was fetched but the group failed), no temp file remains */
    assert_int_equal(fx_stored_files(f), 1);
    assert_int_equal(fx_count_entries(f, "r/tmp"), 0);
    assert_int_equal(fx_count_entries(f, "r/assetstore/tmp"), 0);
    ASSERT_FSCK_CLEAN(f);
    hf_stop(s);
}

/* Issue 14: export -> re-import as an update changes nothing, after approve
 * (whose provenance note has a language the CSV cannot carry), with files. */
static void test_round_trip_changes_nothing(void **state)
{
    fx *f = *state;
    const char *h0 = import_seed(f);
    char h[64];
    snprintf(h, sizeof h, "%s", h0);
    RUN(f, 0, "item approve %s", h);
    RUN(f, 0, "item show %s --json", h);
    json_t *before = fx_parse(f, "item show");
    RUN(f, 0, "export --format esploro-csv -t ALL -d out.csv");
    RUN(f, 0, "import --format esploro-csv -s out.csv -m upd.map");
    assert_contains(f->err, "1 imported (1 updated)");
    RUN(f, 0, "item show %s --json", h);
    json_t *after = fx_parse(f, "item show");
    json_object_del(before, "modified");
    json_object_del(after, "modified");
    json_object_del(before, "lastModified");
    json_object_del(after, "lastModified");
    char *a = json_dumps(before, JSON_SORT_KEYS | JSON_INDENT(1));
    char *b = json_dumps(after, JSON_SORT_KEYS | JSON_INDENT(1));
    if (strcmp(a, b)) print_error("before:\n%s\nafter:\n%s\n", a, b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    json_decref(before);
    json_decref(after);
    ASSERT_FSCK_CLEAN(f);
}

/* Issue 14: a fresh repository (no collection) takes an Esploro file with no
 * -c: a collection is made for it and named in the job's events. */
static void test_fresh_repository_no_collection(void **state)
{
    fx *f = *state;
    SH(f, 0, "\"$BR\" --repo fresh init");
    SH(f, 0, "\"$BR\" --repo fresh orgunit add %s Library", UNIT);
    fx_write(f, "b.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE\n"
             "ASSET,g1,One,dataset.dataset," UNIT ",2020\n");
    /* Invalid first: nothing is made, not even the collection. */
    fx_write(f, "bad.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE\n"
             "ASSET,g1,One,dataset.nonsense," UNIT ",2020\n");
    SH(f, 3, "\"$BR\" --repo fresh import --format esploro-csv -s bad.csv -m bad.map");
    SH(f, 0, "\"$BR\" --repo fresh collection list");
    assert_null(strstr(f->out, "Imported"));
    SH(f, 0, "\"$BR\" --repo fresh import --format esploro-csv -s b.csv -m b.map");
    assert_contains(f->err, "1 imported");
    SH(f, 0, "\"$BR\" --repo fresh collection list");
    assert_contains(f->out, "Imported assets");
    SH(f, 0, "\"$BR\" --repo fresh job events 2");
    assert_contains(f->out, "had no collection");
}

/* Issue 12: a FILE row's display name becomes a file name in every export:
 * one that leaves its folder is refused at import, with its place. */
static void test_bad_file_display_name(void **state)
{
    fx *f = *state;
    units(f);
    fx_write(f, "in/files/paper.pdf", PAPER);
    fx_write(f, "in/a.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,"
             "FILE_FILEURL,FILE_DISPLAY_NAME\n"
             "ASSET,0,Fish,publication.journalArticle," UNIT ",20211018,,\n"
             "FILE,0,,,,,files/paper.pdf,../../../../tmp/x\n");
    RUN(f, 3, "import --format esploro-csv -s in/a.csv -m a.map");
    assert_contains(f->err, "a.csv:3");
    assert_contains(f->err, "file name '../../../../tmp/x'");
    assert_int_equal(fx_item_count(f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_bad_file_display_name),
        FX_TEST(test_fresh_repository_no_collection),
        FX_TEST(test_round_trip_changes_nothing),
        FX_TEST(test_seed_example),
        FX_TEST(test_approve),
        FX_TEST(test_approve_job_and_status_archived),
        FX_TEST(test_update_by_asset_id),
        FX_TEST(test_update_by_origasset_id),
        FX_TEST(test_unknown_orgunit_suggests_and_writes_nothing),
        FX_TEST(test_failed_validation_leaves_store_unchanged),
        FX_TEST(test_usage),
        FX_TEST(test_orgunit_cli),
        FX_TEST(test_http_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
