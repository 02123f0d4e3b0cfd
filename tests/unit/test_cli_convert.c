/* CLI tests for `bulkrepo convert` (issue 3, item 4): SAF <-> Esploro CSV with a
 * report of every value that has no target field.  Run as users run it; the
 * packages are compared value by value through the library's SAF reader. */
#define _GNU_SOURCE
#include "cli_fixture.h"
#include "bulkrepo/bulkrepo.h"

/* A SAF package whose every value has an Esploro column: two items. */
static void write_clean_package(fx *f, const char *root)
{
    char p[512];
    snprintf(p, sizeof p, "%s/item_1/dublin_core.xml", root);
    fx_write(f, p,
             "<dublin_core>\n"
             "  <dcvalue element=\"title\">Café &amp; crème, \"quoted\"</dcvalue>\n"
             "  <dcvalue element=\"type\">publication.journalArticle</dcvalue>\n"
             "  <dcvalue element=\"date\" qualifier=\"issued\">2021-10-18</dcvalue>\n"
             "  <dcvalue element=\"date\" qualifier=\"copyright\">2021</dcvalue>\n"
             "  <dcvalue element=\"date\" qualifier=\"created\">2023-06-01/2023-06-02</dcvalue>\n"
             "  <dcvalue element=\"subject\">coffee</dcvalue>\n"
             "  <dcvalue element=\"subject\">milk, steamed</dcvalue>\n"
             "  <dcvalue element=\"language\" qualifier=\"iso\">eng</dcvalue>\n"
             "  <dcvalue element=\"language\" qualifier=\"iso\">ger</dcvalue>\n"
             "  <dcvalue element=\"description\" qualifier=\"abstract\">First line.\nSecond "
             "line.</dcvalue>\n"
             "  <dcvalue element=\"contributor\" qualifier=\"author\">Smith, John Q.</dcvalue>\n"
             "  <dcvalue element=\"contributor\" qualifier=\"author\">Plato</dcvalue>\n"
             "  <dcvalue element=\"contributor\" qualifier=\"editor\">Adams, Ann</dcvalue>\n"
             "  <dcvalue element=\"identifier\" qualifier=\"issn\">1234-5678</dcvalue>\n"
             "  <dcvalue element=\"relation\" qualifier=\"ispartof\">Journal of Tests</dcvalue>\n"
             "</dublin_core>\n");
    snprintf(p, sizeof p, "%s/item_1/metadata_esploro.xml", root);
    fx_write(f, p,
             "<dublin_core schema=\"esploro\">\n"
             "  <dcvalue element=\"asset\" qualifier=\"affiliation\">01INST___UNIT_A</dcvalue>\n"
             "  <dcvalue element=\"asset\" qualifier=\"affiliation\">01INST___UNIT_B</dcvalue>\n"
             "  <dcvalue element=\"asset\" qualifier=\"accessrightdate\">2024-02-29</dcvalue>\n"
             "</dublin_core>\n");
    snprintf(p, sizeof p, "%s/item_1/handle", root);
    fx_write(f, p, "123456789/77\n");
    snprintf(p, sizeof p, "%s/item_1/contents", root);
    fx_write(f, p, "paper.pdf\tdescription:Full text\nfig 2.png\n");
    snprintf(p, sizeof p, "%s/item_1/paper.pdf", root);
    fx_write(f, p, "%PDF-1.4 pretend\n");
    snprintf(p, sizeof p, "%s/item_1/fig 2.png", root);
    fx_write(f, p, "not really a png\n");
    snprintf(p, sizeof p, "%s/item_2/dublin_core.xml", root);
    fx_write(f, p,
             "<dublin_core>\n"
             "  <dcvalue element=\"title\">Second</dcvalue>\n"
             "  <dcvalue element=\"type\">dataset.dataset</dcvalue>\n"
             "  <dcvalue element=\"date\" qualifier=\"issued\">2020-05</dcvalue>\n"
             "</dublin_core>\n");
    snprintf(p, sizeof p, "%s/item_2/metadata_esploro.xml", root);
    fx_write(f, p,
             "<dublin_core schema=\"esploro\">\n"
             "  <dcvalue element=\"asset\" qualifier=\"affiliation\">01INST___UNIT_A</dcvalue>\n"
             "</dublin_core>\n");
}

/* "field\tvalue" lines of a record, sorted by field (the order within a field kept). */
static char *md_lines(const br_record *r)
{
    size_t n = r->n_md;
    char **lines = calloc(n + 1, sizeof *lines);
    for (size_t i = 0; i < n; i++) {
        const br_mdv *v = &r->md[i];
        if (asprintf(&lines[i], "%s.%s%s%s\t%03d\t%s\t%s", v->schema, v->element,
                     v->qualifier ? "." : "", v->qualifier ? v->qualifier : "", v->place,
                     v->language ? v->language : "", v->value) < 0)
            fail();
    }
    /* insertion sort: a few dozen lines */
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && strcmp(lines[k - 1], lines[k]) > 0; k--) {
            char *t = lines[k];
            lines[k] = lines[k - 1];
            lines[k - 1] = t;
        }
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(lines[i]) + 1;
    char *out = calloc(1, len);
    assert_non_null(out);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(lines[i]);
        memcpy(out + at, lines[i], k);
        out[at + k] = '\n';
        at += k + 1;
        free(lines[i]);
    }
    free(lines);
    return out;
}

/* Compares two SAF packages item by item: every value, handle, file names and bytes. */
static void assert_same_packages(fx *f, const char *a, const char *b)
{
    br_saf_package *pa, *pb;
    br_error err;
    br_limits lim;
    br_limits_default(&lim);
    assert_int_equal(br_saf_open(fx_path(f, a), &lim, NULL, &pa, &err), 0);
    assert_int_equal(br_saf_open(fx_path(f, b), &lim, NULL, &pb, &err), 0);
    assert_int_equal(br_saf_count(pa), br_saf_count(pb));
    br_record *ra = br_record_new(), *rb = br_record_new();
    br_saf_read_options ro = {0, &lim};
    for (size_t i = 0; i < br_saf_count(pa); i++) {
        assert_string_equal(br_saf_folder(pa, i), br_saf_folder(pb, i));
        assert_int_equal(br_saf_read_item(pa, i, &ro, ra, NULL, &err), 0);
        assert_int_equal(br_saf_read_item(pb, i, &ro, rb, NULL, &err), 0);
        char *ma = md_lines(ra), *mb = md_lines(rb);
        assert_string_equal(ma, mb);
        free(ma);
        free(mb);
        if (ra->handle || rb->handle) assert_string_equal(ra->handle, rb->handle);
        assert_int_equal(ra->n_bs, rb->n_bs);
        for (size_t k = 0; k < ra->n_bs; k++) {
            assert_string_equal(ra->bs[k].name, rb->bs[k].name);
            if (ra->bs[k].description || rb->bs[k].description)
                assert_string_equal(ra->bs[k].description, rb->bs[k].description);
            char *ca = tu_read(ra->bs[k].path), *cb = tu_read(rb->bs[k].path);
            assert_non_null(ca);
            assert_non_null(cb);
            assert_string_equal(ca, cb);
            free(ca);
            free(cb);
        }
    }
    br_record_free(ra);
    br_record_free(rb);
    br_saf_close(pa);
    br_saf_close(pb);
}

/* SAF -> CSV -> SAF: nothing lost, the report says so, the CSV lints clean. */
static void test_round_trip_saf(void **state)
{
    fx *f = *state;
    write_clean_package(f, "p");
    SH(f, 0, "\"$BR\" convert --from saf --to esploro-csv p out.csv");
    assert_contains(f->err, "converted 2 items, 2 files: nothing lost");
    SH(f, 0, "\"$BR\" lint out.csv");
    char *csv = fx_read(f, "out.csv");
    /* dates, ranges, MM/DD/YYYY, multi-values and paragraphs turned back */
    assert_contains(csv, ",20211018,");
    assert_contains(csv, ",20230601 - 20230602,");
    assert_contains(csv, ",02/29/2024,");
    assert_contains(csv, ",\"coffee@@milk, steamed\",");
    assert_contains(csv, ",eng@@ger,");
    assert_contains(csv, ",<p>First line.</p><p>Second line.</p>,");
    assert_contains(csv, "\nCREATOR,item_1,");
    assert_contains(csv, "\nCONT,item_1,");
    assert_contains(csv, "\nPRTOF,item_1,");
    assert_contains(csv, "out.csv.files/item_1/paper.pdf");
    assert_contains(csv, "out.csv.files/item_1/2_fig_2.png"); /* no space in the URL */
    free(csv);
    SH(f, 0, "\"$BR\" convert --from esploro-csv --to saf out.csv back");
    assert_contains(f->err, "converted 2 assets, 2 files: nothing lost");
    assert_same_packages(f, "p", "back");
    /* --json says so too */
    SH(f, 0, "\"$BR\" convert --from saf --to esploro-csv p out2.csv --json");
    json_t *j = fx_parse(f, "convert --json");
    assert_true(json_is_true(json_object_get(j, "nothing_lost")));
    assert_int_equal(json_integer_value(json_object_get(j, "lost")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "records")), 2);
    json_decref(j);
}

/* A zip package converts like its folder. */
static void test_zip_input(void **state)
{
    fx *f = *state;
    write_clean_package(f, "p");
    SH(f, 0,
       "cd p && zip -qr ../p.zip . && cd .. || python3 -c \"import shutil; "
       "shutil.make_archive('p', 'zip', 'p')\"");
    SH(f, 0, "\"$BR\" convert --from saf --to esploro-csv p.zip z.csv");
    assert_contains(f->err, "nothing lost");
    SH(f, 0, "\"$BR\" convert --from saf --to esploro-csv p d.csv");
    SH(f, 0, "sed s/z.csv.files/d.csv.files/g z.csv | cmp - d.csv");
}

/* Values SAF cannot hold are reported, each with its place; exit 1. */
static void test_structured_creators_reported(void **state)
{
    fx *f = *state;
    fx_write(f, "a.txt", "local file\n");
    fx_write(f, "in.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,"
             "CREATOR_FAMNAME,CREATOR_GIVNAME,CREATOR_ORCID,CREATOR_EMAIL,CREATOR_AFFILIATION,"
             "CONT_TYPE,CONT_FAMNAME,OCREATOR_ORGANIZATION,LINK_LINKURL,LINK_LINKTITLE,"
             "FILE_FILEURL,FILE_DISPLAY_NAME,FILE_LICENSE\n"
             "ASSET,g1,Title,publication.book,01I___U,20200101,,,,,,,,,,,,,\n"
             "CREATOR,g1,,,,,Smith,John,0000-0002-1825-0097,js@example.org,01I___U,,,,,,,,\n"
             "OCREATOR,g1,,,,,,,,,,,,CERN,,,,,\n"
             "CONT,g1,,,,,,,,,,translator,Brown,,,,,,\n"
             "LINK,g1,,,,,,,,,,,,,https://example.org/x,Home,,,\n"
             "FILE,g1,,,,,,,,,,,,,,,a.txt,a.txt,CCBY_V4.0\n"
             "FILE,g1,,,,,,,,,,,,,,,https://example.org/b.pdf,b.pdf,\n");
    SH(f, 1, "\"$BR\" convert --from esploro-csv --to saf in.csv out");
    const char *e = f->err;
    assert_contains(e, "in.csv:3:1: note: no SAF field for CREATOR 1");
    assert_contains(e, "no SAF field for CREATOR 1 (Smith, John): ORCID '0000-0002-1825-0097'");
    assert_contains(e, "no SAF field for CREATOR 1 (Smith, John): e-mail 'js@example.org'");
    assert_contains(e, "no SAF field for CREATOR 1 (Smith, John): affiliation '01I___U'");
    assert_contains(e, "no SAF field for CONT 1 (Brown): contributor type 'translator'");
    assert_contains(e, "no SAF field for LINK 1: URL 'https://example.org/x'");
    assert_contains(e, "no SAF field for LINK 1: title 'Home'");
    assert_contains(e, "no SAF field for file 'a.txt': licence 'CCBY_V4.0'");
    assert_contains(e, "file 'b.pdf' is not fetched (https://example.org/b.pdf)");
    assert_contains(e, "8 values with no target field");
    char *dc = fx_read(f, "out/g1/dublin_core.xml");
    assert_non_null(dc);
    assert_contains(dc, "qualifier=\"author\">Smith, John</dcvalue>");
    assert_contains(dc, "qualifier=\"author\">CERN</dcvalue>");
    assert_contains(dc, "qualifier=\"other\">Brown</dcvalue>");
    free(dc);
    char *contents = fx_read(f, "out/g1/contents");
    assert_contains(contents, "a.txt");
    assert_not_contains(contents, "b.pdf");
    free(contents);
    char *copy = fx_read(f, "out/g1/a.txt");
    assert_string_equal(copy, "local file\n");
    free(copy);
    /* the JSON report lists each finding with its group */
    SH(f, 1, "\"$BR\" convert --from esploro-csv --to saf in.csv out2 --json");
    json_t *j = fx_parse(f, "convert --json");
    assert_int_equal(json_integer_value(json_object_get(j, "lost")), 8);
    assert_false(json_is_true(json_object_get(j, "nothing_lost")));
    json_t *fs = json_object_get(j, "findings");
    size_t orcid = 0;
    for (size_t i = 0; i < json_array_size(fs); i++) {
        json_t *x = json_array_get(fs, i);
        if (strstr(fx_str(x, "message"), "ORCID")) {
            orcid++;
            assert_string_equal(fx_str(x, "item"), "g1");
            assert_string_equal(fx_str(x, "rule"), "convert.no-target");
        }
    }
    assert_int_equal(orcid, 1);
    json_decref(j);
}

/* SAF values without an Esploro column are reported: exit 1. */
static void test_saf_values_without_column(void **state)
{
    fx *f = *state;
    fx_write(
        f, "p/one/dublin_core.xml",
        "<dublin_core>\n  <dcvalue element=\"title\" language=\"en\">T</dcvalue>\n"
        "  <dcvalue element=\"date\" qualifier=\"accessioned\">2020-01-01T00:00:00Z</dcvalue>\n"
        "  <dcvalue element=\"coverage\" qualifier=\"nowhere\">x</dcvalue>\n</dublin_core>\n");
    fx_write(f, "p/one/collections", "123456789/2\n");
    SH(f, 1, "\"$BR\" convert --from saf --to esploro-csv p out.csv");
    assert_contains(f->err,
                    "one/dublin_core.xml:3: note: no Esploro column for dc.date.accessioned");
    assert_contains(f->err, "no Esploro column for dc.coverage.nowhere (value 'x')");
    assert_contains(f->err, "no Esploro column for the language of dc.title (value 'en')");
    assert_contains(f->err, "no Esploro column for the item's collection (value '123456789/2')");
    assert_contains(f->err, "4 values with no target field");
    assert_true(fx_exists(f, "out.csv"));
}

/* Invalid input: exit 3 and nothing written; usage errors: exit 2. */
static void test_bad_input_and_usage(void **state)
{
    fx *f = *state;
    fx_write(f, "bad.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_PUBLISHDATE\nASSET,g1,T,2021-99-99\n"
             "ASSET,g1,Again,20200101\n");
    SH(f, 3, "\"$BR\" convert --from esploro-csv --to saf bad.csv out");
    assert_false(fx_exists(f, "out"));
    fx_write(f, "p/x/dublin_core.xml", "<dublin_core><dcvalue element=\"title\">T</dcvalue>");
    SH(f, 3, "\"$BR\" convert --from saf --to esploro-csv p out.csv");
    assert_false(fx_exists(f, "out.csv"));
    assert_false(fx_exists(f, "out.csv.files"));
    SH(f, 2, "\"$BR\" convert --from saf --to saf p out");
    SH(f, 2, "\"$BR\" convert --from frobnicate --to saf p out");
    SH(f, 2, "\"$BR\" convert --from saf --to esploro-csv p");
    SH(f, 3, "\"$BR\" convert --from saf --to esploro-csv missing out.csv");
    write_clean_package(f, "q");
    fx_write(f, "taken.csv", "x");
    SH(f, 3, "\"$BR\" convert --from saf --to esploro-csv q taken.csv");
    assert_contains(f->err, "already exists");
    char *t = fx_read(f, "taken.csv");
    assert_string_equal(t, "x");
    free(t);
    SH(f, 0, "\"$BR\" convert --help");
    assert_contains(f->out, "--from esploro-csv --to saf");
}

/* The bundled SAF example converted to Esploro CSV: its own lint passes once --default gives
 * the affiliation SAF has no field for; without it the report names exactly that option.
 * 'Dataset' (a dc.type label) becomes the asset type dataset.dataset. */
static void test_defaults_make_output_lint_clean(void **state)
{
    fx *f = *state;
    const char *saf = tu_data("../../examples/saf");
    SH(f, 1, "\"$BR\" convert --from saf --to esploro-csv '%s' plain.csv", saf);
    assert_contains(f->err, "ASSET_AFFILIATION is empty: Esploro requires it of a new asset");
    assert_contains(f->err, "3 records lack a value the target requires: add it to the input, or "
                            "give it with --default ASSET_AFFILIATION=PREFIX___UNIT");
    SH(f, 3, "\"$BR\" lint plain.csv");
    assert_contains(f->out, "ecsv.group.mandatory");
    assert_not_contains(f->out, "restype-case"); /* 'Dataset' was written as its asset type */
    SH(f, 1,
       "\"$BR\" convert --from saf --to esploro-csv '%s' out.csv --default "
       "ASSET_AFFILIATION=01EXAMPLE___UNIT --default ASSET_PUBLISHER='Example University'",
       saf);
    assert_not_contains(f->err, "ecsv.write.mandatory");
    assert_not_contains(f->err, "lack a value");
    SH(f, 0, "\"$BR\" lint out.csv");
    assert_contains(f->out, "0 errors, 0 warnings");
    char *t = fx_read(f, "out.csv");
    assert_contains(t, ",dataset.dataset,");
    assert_contains(t, "01EXAMPLE___UNIT");
    assert_contains(t, "Example University");
    free(t);
    /* wrong defaults are usage errors, found before anything is read or written */
    SH(f, 2,
       "\"$BR\" convert --from saf --to esploro-csv '%s' o2.csv --default "
       "ASSET_AFFILIATION=01EXAMPLE_UNIT",
       saf);
    assert_contains(f->err, "is not an organisational-unit code PREFIX___UNIT");
    SH(f, 2, "\"$BR\" convert --from saf --to esploro-csv '%s' o2.csv --default ASSET_NOPE=1", saf);
    SH(f, 2, "\"$BR\" convert --from saf --to esploro-csv '%s' o2.csv --default CREATOR_FAMNAME=x",
       saf);
    SH(f, 2, "\"$BR\" convert --from saf --to esploro-csv '%s' o2.csv --default ASSET_TITLE", saf);
    SH(f, 2, "\"$BR\" convert --from saf --to esploro-csv '%s' o2.csv --default ASSET_TITLE=a@@b",
       saf);
    SH(f, 2,
       "\"$BR\" convert --from saf --to esploro-csv '%s' o2.csv --default "
       "ASSET_PUBLISHDATE=2021-02-30",
       saf);
    assert_false(fx_exists(f, "o2.csv"));
    SH(f, 2, "\"$BR\" convert --from esploro-csv --to saf out.csv s --default ASSET_TITLE=x");
    assert_contains(f->err, "saf has no columns");
    assert_false(fx_exists(f, "s"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_round_trip_saf),
        FX_TEST(test_zip_input),
        FX_TEST(test_structured_creators_reported),
        FX_TEST(test_saf_values_without_column),
        FX_TEST(test_bad_input_and_usage),
        FX_TEST(test_defaults_make_output_lint_clean),
    };
    return cmocka_run_group_tests_name("cli convert", tests, NULL, NULL);
}
