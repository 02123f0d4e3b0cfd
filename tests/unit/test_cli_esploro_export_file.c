/* CLI tests for files Esploro wrote (issue 14): an export shaped like Esploro's own
 * "Research assets CSV export" (tests/data/esploro/esploro-export.csv: several abstracts,
 * several ISBNs of a host book, assets without date or affiliation, LINK values 26 columns
 * left of their headers) lints with no error and imports as updates of the assets it names;
 * an update that empties a mandatory field the asset has is refused; orgunit add and lint
 * share one rule for codes.  Run as users run them (cli_fixture.h). */
#define _GNU_SOURCE
#include "cli_fixture.h"

#define GEO "01EXAMPLE_INST___geo"
#define BIO "01EXAMPLE_INST___bio"

/* One SAF item folder: a title, a type and, when given, a date issued. */
static void saf_item(fx *f, const char *folder, const char *title, const char *type,
                     const char *date)
{
    char rel[256], xml[2048], extra[256] = "";
    if (date)
        snprintf(extra, sizeof extra,
                 "  <dcvalue element=\"date\" qualifier=\"issued\">%s</dcvalue>\n", date);
    snprintf(xml, sizeof xml,
             "<dublin_core>\n  <dcvalue element=\"title\">%s</dcvalue>\n"
             "  <dcvalue element=\"type\">%s</dcvalue>\n%s</dublin_core>\n",
             title, type, extra);
    snprintf(rel, sizeof rel, "saf/%s/dublin_core.xml", folder);
    fx_write(f, rel, xml);
    snprintf(rel, sizeof rel, "saf/%s/contents", folder);
    fx_write(f, rel, "");
}

/* The assets the export names: 123456789/2..5, two of them without a date, none with an
 * affiliation yet; and the org units the export's affiliations name. */
static void make_assets(fx *f)
{
    saf_item(f, "item_1", "Soil carbon", "Article", "2021");
    saf_item(f, "item_2", "Floodplain sediments", "Book chapter", NULL);
    saf_item(f, "item_3", "Riparian soil cores", "Dataset", "2023");
    saf_item(f, "item_4", "Carbon talk", "Presentation", NULL);
    RUN(f, 0, "import -a -s saf -c %s -m saf.map -e a@example.org", f->coll);
    static const char *const want[][2] = {{"item_1", "123456789/2"},
                                          {"item_2", "123456789/3"},
                                          {"item_3", "123456789/4"},
                                          {"item_4", "123456789/5"}};
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(fx_map_handle(f, "saf.map", want[i][0]), want[i][1]);
    RUN(f, 0, "orgunit add " GEO " Geography");
    RUN(f, 0, "orgunit add " BIO " Biology");
}

static size_t values(json_t *item, const char *field)
{
    return json_array_size(json_object_get(json_object_get(item, "metadata"), field));
}

static void test_export_lints_clean_and_updates(void **state)
{
    fx *f = *state;
    const char *csv = tu_data("esploro/esploro-export.csv");
    /* No repository: the format rules. */
    SH(f, 0, "\"$BR\" lint '%s'", csv);
    assert_contains(f->out, "8 rows, 4 groups: 0 errors, 2 warnings");
    assert_contains(f->out, "warning ecsv.row.link-shift");
    make_assets(f);
    /* With the repository: the assets exist, nothing is emptied. */
    RUN(f, 0, "lint '%s'", csv);
    assert_contains(f->out, "0 errors");
    /* --fix moves the LINK values under their headers; the copy is clean. */
    SH(f, 0, "\"$BR\" lint '%s' --fix fixed.csv", csv);
    assert_contains(f->out, "2 fixes written to fixed.csv");
    RUN(f, 0, "lint fixed.csv");
    assert_contains(f->out, "0 errors, 0 warnings");
    RUN(f, 0, "import --format esploro-csv -s fixed.csv -m upd.map");
    json_t *job = fx_last_job(f);
    assert_int_equal(fx_counter(job, "updated"), 4);
    assert_int_equal(fx_counter(job, "imported"), 0);
    json_decref(job);
    assert_int_equal(fx_item_count(f), 4);
    json_t *it = fx_show(f, "123456789/2");
    assert_int_equal(values(it, "dc.description.abstract"), 2);
    assert_int_equal(values(it, "esploro.asset.affiliation"), 2);
    assert_int_equal(values(it, "dc.subject"), 3);
    assert_int_equal(json_array_size(json_object_get(it, "links")), 1);
    json_decref(it);
    it = fx_show(f, "123456789/3");
    assert_int_equal(values(it, "esploro.prtof.isbn"), 2);
    assert_int_equal(values(it, "esploro.prtof.eisbn"), 2);
    assert_int_equal(values(it, "dc.date.issued"), 0);
    json_decref(it);
    it = fx_show(f, "123456789/5");
    assert_int_equal(values(it, "esploro.asset.affiliation"), 0);
    assert_int_equal(values(it, "dc.date.issued"), 0);
    json_decref(it);
    /* The export as Esploro wrote it (LINK shift not fixed) imports the same way. */
    RUN(f, 0, "import --format esploro-csv -s '%s' -m upd2.map", csv);
    job = fx_last_job(f);
    assert_int_equal(fx_counter(job, "updated"), 4);
    json_decref(job);
    it = fx_show(f, "123456789/4");
    assert_int_equal(json_array_size(json_object_get(it, "links")), 1);
    json_decref(it);
}

/* An update row that empties a mandatory field the stored asset has is the error; the same
 * empty cells on an asset that has no such value change nothing. */
static void test_update_that_empties_is_refused(void **state)
{
    fx *f = *state;
    make_assets(f);
    RUN(f, 0, "import --format esploro-csv -s '%s' -m upd.map",
        tu_data("esploro/esploro-export.csv"));
    fx_write(f, "empty.csv",
             ",RESEARCH_ASSET_ID,ASSET_TITLE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,ASSET_KEYWORDS\n"
             "ASSET,123456789/2,Soil carbon,,,x\n"
             "ASSET,123456789/5,Carbon talk,,,y\n");
    SH(f, 0, "\"$BR\" lint empty.csv"); /* no repository: cannot know what the assets have */
    RUN(f, 3, "lint empty.csv");
    assert_contains(f->out, "D2 [ASSET group 123456789/2] error ecsv.group.mandatory: "
                            "ASSET_AFFILIATION is empty: the update would delete the asset's "
                            "value");
    assert_contains(f->out, "A2 [ASSET group 123456789/2] error ecsv.group.mandatory: the ASSET "
                            "date cells are empty");
    assert_not_contains(f->out, "group 123456789/5] error");
    assert_contains(f->out, "2 errors");
    RUN(f, 3, "import --format esploro-csv -s empty.csv -m e.map");
    json_t *it = fx_show(f, "123456789/2");
    assert_int_equal(values(it, "esploro.asset.affiliation"), 2);
    json_decref(it);
    /* Leaving the columns out keeps the stored values: the row is fine. */
    fx_write(f, "keep.csv", ",RESEARCH_ASSET_ID,ASSET_KEYWORDS\nASSET,123456789/2,x\n");
    RUN(f, 0, "import --format esploro-csv -s keep.csv -m k.map");
    it = fx_show(f, "123456789/2");
    assert_int_equal(values(it, "esploro.asset.affiliation"), 2);
    assert_int_equal(values(it, "dc.subject"), 1);
    json_decref(it);
}

/* orgunit add and import accept exactly the codes lint accepts. */
static void test_orgunit_codes_one_rule(void **state)
{
    fx *f = *state;
    RUN(f, 3, "orgunit add 01EXAMPLE_GEO Geography");
    assert_contains(f->err, "'01EXAMPLE_GEO' is not an organisational-unit code PREFIX___UNIT");
    assert_contains(f->err, "three underscores");
    RUN(f, 3, "orgunit add 01EXAMPLE___GEO Geography --parent 01EXAMPLE_TOP");
    fx_write(f, "bad.csv", "code,name\n01EXAMPLE___GEO,Geography\n01EXAMPLE_BIO,Biology\n");
    RUN(f, 3, "orgunit import bad.csv");
    assert_contains(f->err, "row 3");
    RUN(f, 0, "orgunit list");
    assert_string_equal(f->out, ""); /* all or nothing */
    RUN(f, 0, "orgunit add 01EXAMPLE___GEO Geography");
    fx_write(f, "a.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE\n"
             "ASSET,1,T,publication.book,01EXAMPLE___GEO,2021\n"
             "ASSET,2,T,publication.book,01EXAMPLE_GEO,2021\n");
    RUN(f, 3, "lint a.csv");
    assert_contains(f->out, "E3 [ASSET group 2] error ecsv.value.affiliation: ASSET_AFFILIATION "
                            "'01EXAMPLE_GEO' is not an organisational-unit code PREFIX___UNIT");
    assert_contains(f->out, "1 error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_export_lints_clean_and_updates),
        FX_TEST(test_update_that_empties_is_refused),
        FX_TEST(test_orgunit_codes_one_rule),
    };
    return cmocka_run_group_tests_name("cli esploro export file", tests, NULL, NULL);
}
