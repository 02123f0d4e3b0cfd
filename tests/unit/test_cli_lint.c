/* CLI tests for `bulkrepo lint` (issue 3), run as users run it: output lines by cell,
 * --json, --fix, --quiet, the repository checks with an explicit --repo, exit codes
 * (0 clean or warnings only, 3 errors, 2 usage, 4 I/O). */
#define _GNU_SOURCE
#include "cli_fixture.h"

#define HDR                                                                                        \
    ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,CREATOR_FAMNAME,"     \
    "LINK_LINKURL\n"
#define GOOD "ASSET,1,A title,publication.book,01ALLIANCE_UID___n6370,20211018,,\n"

/* bulkrepo without --repo (lint needs no repository) */
#define LINT(f, want, ...)                                                                         \
    do {                                                                                           \
        char args_[4096];                                                                          \
        snprintf(args_, sizeof args_, __VA_ARGS__);                                                \
        fx_sh((f), "\"$BR\" lint %s", args_);                                                      \
        fx_expect((f), (want), __FILE__, __LINE__);                                                \
    } while (0)

static void test_clean_file(void **state)
{
    fx *f = *state;
    fx_write(f, "in.csv", HDR GOOD "CREATOR,1,,,,,Smith,\n");
    LINT(f, 0, "in.csv");
    assert_contains(f->out, "in.csv: 2 rows, 1 groups: 0 errors, 0 warnings");
    assert_contains(f->out, "MB/s");
}

static void test_errors_by_cell(void **state)
{
    fx *f = *state;
    fx_write(f, "in.csv",
             HDR "ASSET,1,A title,publication.book,01ALLIANCE_UID___n6370,20211018,"
                 "Smith,\n");
    LINT(f, 3, "in.csv");
    assert_contains(f->out, "in.csv:2: G2 [ASSET group 1] error ecsv.cell.row-type-mismatch: "
                            "CREATOR_FAMNAME has a value on an ASSET row (hint: ");
    assert_contains(f->out, "1 error, 0 warnings");
}

static void test_warnings_only_exit_0(void **state)
{
    fx *f = *state;
    fx_write(f, "in.csv", HDR "ASSET,1,A title,PUBLICATION.BOOK,01ALLIANCE_UID___n6370,2021,,\n");
    LINT(f, 0, "in.csv");
    assert_contains(f->out, "D2 [ASSET group 1] warning ecsv.value.restype-case");
    assert_contains(f->out, "0 errors, 1 warning");
}

static void test_json(void **state)
{
    fx *f = *state;
    fx_write(f, "in.csv", HDR "ASSET,g7,A title ,publication.book,01ALLIANCE_UID___n6370,2021,,\n");
    LINT(f, 3, "in.csv --json");
    json_t *j = fx_parse(f, "lint --json");
    assert_string_equal(fx_str(j, "file"), "in.csv");
    json_t *s = json_object_get(j, "summary");
    assert_int_equal(json_integer_value(json_object_get(s, "errors")), 1);
    assert_int_equal(json_integer_value(json_object_get(s, "rows")), 1);
    assert_int_equal(json_integer_value(json_object_get(s, "groups")), 1);
    json_t *x = json_array_get(json_object_get(j, "findings"), 0);
    assert_non_null(x);
    assert_string_equal(fx_str(x, "severity"), "error");
    assert_string_equal(fx_str(x, "rule"), "ecsv.value.whitespace");
    assert_string_equal(fx_str(x, "cell"), "C2");
    assert_int_equal(json_integer_value(json_object_get(x, "row")), 2);
    assert_int_equal(json_integer_value(json_object_get(x, "column")), 3);
    assert_string_equal(fx_str(x, "group"), "g7");
    assert_contains(fx_str(x, "message"), "ASSET_TITLE has whitespace");
    assert_non_null(fx_str(x, "hint"));
    json_decref(j);
}

/* Every finding reaches the JSON, also when the file has bytes that are not UTF-8 in the
 * places findings quote (column A, the group key). */
static void test_json_every_finding(void **state)
{
    fx *f = *state;
    fx_write(f, "in.csv",
             HDR "ASSET,k\xE9,A title,publication.book,01ALLIANCE_UID___n6370,2021,,\n"
                 "\xE9SSET,k\xE9,,,,,,\n");
    LINT(f, 3, "in.csv --json");
    json_t *j = fx_parse(f, "lint --json");
    json_t *s = json_object_get(j, "summary");
    json_t *x = json_object_get(j, "findings");
    assert_int_equal(json_integer_value(json_object_get(s, "errors")), 2);
    assert_int_equal(json_array_size(x), 2);
    assert_string_equal(fx_str(json_array_get(x, 0), "rule"), "ecsv.group.key-invalid");
    assert_string_equal(fx_str(json_array_get(x, 0), "group"), "k?");
    assert_string_equal(fx_str(json_array_get(x, 1), "message"), "'?SSET' is not a row type");
    json_decref(j);
}

static void test_fix(void **state)
{
    fx *f = *state;
    fx_write(f, "in.csv",
             "\xEF\xBB\xBF" HDR "ASSET,1,\"A title\r\n\",publication.book, 01ALLIANCE_UID___n6370,"
             "2021-10-18,,\r\n");
    LINT(f, 3, "in.csv --fix out.csv");
    assert_contains(f->out, "C2 [ASSET group 1] note ecsv.fix.line-break");
    assert_contains(f->out, "E2 [ASSET group 1] note ecsv.fix.whitespace");
    assert_contains(f->out, "F2 [ASSET group 1] note ecsv.fix.date-format: fixed: now '20211018'");
    assert_contains(f->out, "fixes written to out.csv");
    char *out = fx_read(f, "out.csv");
    assert_non_null(out);
    assert_string_equal(out, HDR GOOD);
    free(out);
    LINT(f, 0, "out.csv");
    assert_contains(f->out, "0 errors, 0 warnings");
    /* No temporary file is left next to the output. */
    assert_int_equal(fx_count_entries(f, "."), 3); /* r, in.csv, out.csv, and nothing else */
}

static void test_quiet(void **state)
{
    fx *f = *state;
    fx_write(f, "in.csv", HDR "ASSET,1,,publication.book,01ALLIANCE_UID___n6370,2021,,\n");
    LINT(f, 3, "--quiet in.csv");
    assert_not_contains(f->out, "ecsv.group.mandatory");
    assert_contains(f->out, "1 error");
}

static void test_stops_on_bad_input(void **state)
{
    fx *f = *state;
    fx_write(f, "in.csv", HDR GOOD "LINK,1,,,,,,\"https://x.org\n");
    LINT(f, 3, "in.csv");
    assert_contains(f->out, "error ecsv.csv.unterminated-quote");
    assert_contains(f->out, "stopped early");
}

static void test_repository_checks(void **state)
{
    fx *f = *state;
    fx_write(f, "in.csv", HDR "ASSET,1,A title,publication.book,01ALLIANCE_UID___n6371,2021,,\n");
    /* Without --repo: format rules only. */
    LINT(f, 0, "in.csv");
    RUN(f, 0, "orgunit add 01ALLIANCE_UID___n6370 Library");
    RUN(f, 3, "lint in.csv");
    assert_contains(f->out, "E2 [ASSET group 1] error ecsv.value.orgunit-unknown: "
                            "ASSET_AFFILIATION '01ALLIANCE_UID___n6371' is not a known "
                            "organisational unit (hint: did you mean 01ALLIANCE_UID___n6370?");
    fx_write(f, "ok.csv", HDR GOOD);
    RUN(f, 0, "lint ok.csv");
    /* RESEARCH_ASSET_ID must name an existing item. */
    fx_write(f, "upd.csv", ",RESEARCH_ASSET_ID,ASSET_KEYWORDS\nASSET,123456789/999999,x\n");
    LINT(f, 0, "upd.csv");
    RUN(f, 3, "lint upd.csv");
    assert_contains(f->out, "B2 [ASSET group 123456789/999999] error ecsv.group.asset-id-unknown");
}

static void test_usage_and_io(void **state)
{
    fx *f = *state;
    LINT(f, 2, "%s", "");
    LINT(f, 2, "a.csv b.csv");
    LINT(f, 2, "a.csv --bogus");
    LINT(f, 0, "--help");
    assert_contains(f->out, "usage: bulkrepo [--repo DIR] lint [--repo DIR] FILE.csv");
    LINT(f, 4, "missing.csv");
    assert_contains(f->err, "missing.csv");
    fx_write(f, "in.csv", HDR GOOD);
    LINT(f, 2, "in.csv --fix in.csv");
    LINT(f, 4, "in.csv --fix nodir/out.csv");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_clean_file),
        FX_TEST(test_errors_by_cell),
        FX_TEST(test_warnings_only_exit_0),
        FX_TEST(test_json),
        FX_TEST(test_json_every_finding),
        FX_TEST(test_fix),
        FX_TEST(test_quiet),
        FX_TEST(test_stops_on_bad_input),
        FX_TEST(test_repository_checks),
        FX_TEST(test_usage_and_io),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
