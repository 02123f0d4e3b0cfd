/* The Esploro CSV driver's unimported download (br_ecsv_drv_extract): the rows
 * of the rejected groups byte for byte, each with its own findings in ERROR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "core/core.h"
#include "formats/drivers.h"

typedef struct fixture {
    char *tmp;
    char src[4096], out[4096];
    br_error err;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->tmp = tu_tmpdir();
    snprintf(f->src, sizeof f->src, "%s", tu_path(f->tmp, "in.csv"));
    snprintf(f->out, sizeof f->out, "%s", tu_path(f->tmp, "rejected.csv"));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

/* Lines: 1 header (with a BOM), 2-3 group a (a quoted cell with a line break), 4 a's
 * CREATOR row (key empty: continues a), 5 blank, 6 group b, 7-8 group c (its key has a
 * leading no-break space and trailing space in the file), 9-10 group d (journaled
 * without findings: its message on every row; the file ends without a line end). */
static const char INPUT[] = "\xEF\xBB\xBF,GROUP_ID,ASSET_TITLE,ASSET_ABSTRACT\r\n"
                            "ASSET,a,\"Title, with comma\",\"two\r\nlines \"\"quoted\"\"\"\r\n"
                            "CREATOR,,x\r\n"
                            "\r\n"
                            "ASSET,b,B title,\r\n"
                            "ASSET,\xC2\xA0"
                            "c ,C title\r\n"
                            "LINK,c,,x\r\n"
                            "ASSET,d,D,\n"
                            "LINK,d,,y";

static int extract(fixture *f, const br_rejected *recs, size_t n)
{
    br_limits lim;
    br_limits_default(&lim);
    br_extract_options o = {0};
    o.source = f->src;
    o.scratch = f->tmp;
    o.limits = &lim;
    o.records = recs;
    o.n_records = n;
    o.out_path = f->out;
    br_error_clear(&f->err);
    return br_ecsv_drv_extract(&o, &f->err);
}

static void test_rows_with_their_findings(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "in.csv", INPUT);
    static const br_finding fa[] = {
        {2, "in.csv:2: error: A"},
        {4, "in.csv:4: error: B"},
        {3, "in.csv:3: error: inside the cell"}, /* no row starts on line 3 */
        {0, "no line"},
        {6, "in.csv:6: error: another group's row"},
    };
    static const br_finding fc[] = {{8, "in.csv:8: error: L8"}, {7, "in.csv:7: error: L7"}};
    br_rejected recs[] = {
        {"a", "2 errors", fa, BR_ARRAY_LEN(fa)},
        {"c", "2 errors", fc, BR_ARRAY_LEN(fc)},
        {"d", "d failed", NULL, 0},
    };
    assert_int_equal(extract(f, recs, BR_ARRAY_LEN(recs)), 0);
    assert_file_equals(f->out, "\xEF\xBB\xBF,GROUP_ID,ASSET_TITLE,ASSET_ABSTRACT,ERROR\r\n"
                               "ASSET,a,\"Title, with comma\",\"two\r\nlines \"\"quoted\"\"\","
                               "\"in.csv:2: error: A\nin.csv:3: error: inside the cell\nno line\n"
                               "in.csv:6: error: another group's row\"\r\n"
                               "CREATOR,,x,,\"in.csv:4: error: B\"\r\n"
                               "ASSET,\xC2\xA0"
                               "c ,C title,,\"in.csv:7: error: L7\"\r\n"
                               "LINK,c,,x,\"in.csv:8: error: L8\"\r\n"
                               "ASSET,d,D,,\"d failed\"\r\n"
                               "LINK,d,,y,\"d failed\"\r\n");
    assert_int_equal(tu_count_entries(f->tmp), 2); /* in.csv, rejected.csv: no temporary */
}

/* A record whose findings have no line (the journal's message read back) says them on
 * every row. */
static void test_unlocated_on_every_row(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "in.csv", INPUT);
    static const br_finding fa[] = {{0, "fetch timed out"}};
    br_rejected recs[] = {{"a", "fetch timed out", fa, 1}};
    assert_int_equal(extract(f, recs, 1), 0);
    assert_file_equals(
        f->out, "\xEF\xBB\xBF,GROUP_ID,ASSET_TITLE,ASSET_ABSTRACT,ERROR\r\n"
                "ASSET,a,\"Title, with comma\",\"two\r\nlines \"\"quoted\"\"\",\"fetch timed "
                "out\"\r\n"
                "CREATOR,,x,,\"fetch timed out\"\r\n");
}

/* A group with findings on other rows only: its first row's ERROR is empty, the
 * message goes nowhere (the findings say it all). */
static void test_findings_on_later_rows(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "in.csv", INPUT);
    static const br_finding fa[] = {{4, "B"}};
    br_rejected recs[] = {{"a", "1 error", fa, 1}};
    assert_int_equal(extract(f, recs, 1), 0);
    assert_file_equals(f->out,
                       "\xEF\xBB\xBF,GROUP_ID,ASSET_TITLE,ASSET_ABSTRACT,ERROR\r\n"
                       "ASSET,a,\"Title, with comma\",\"two\r\nlines \"\"quoted\"\"\",\"\"\r\n"
                       "CREATOR,,x,,\"B\"\r\n");
}

/* Rows wider than the header: the ERROR column comes after the widest row. */
static void test_width(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "in.csv", ",GROUP_ID,ASSET_TITLE\nASSET,k,T,extra\nASSET,m,M\n");
    br_rejected recs[] = {{"k", "too long", NULL, 0}};
    assert_int_equal(extract(f, recs, 1), 0);
    assert_file_equals(f->out, ",GROUP_ID,ASSET_TITLE,,ERROR\r\nASSET,k,T,extra,\"too long\"\r\n");
}

/* Failures leave no file: a missing input, an unterminated quote, an output folder
 * that does not exist. */
static void test_failures_leave_nothing(void **state)
{
    fixture *f = *state;
    br_rejected recs[] = {{"a", "x", NULL, 0}};
    assert_int_equal(extract(f, recs, 1), BR_ENOTFOUND);
    tu_write(f->tmp, "in.csv", ",GROUP_ID\nASSET,a\nASSET,b,\"open\n");
    assert_int_equal(extract(f, recs, 1), BR_EINVAL);
    assert_int_equal(f->err.place.line, 3);
    assert_int_equal(tu_count_entries(f->tmp), 1); /* in.csv */
    tu_write(f->tmp, "in.csv", INPUT);
    snprintf(f->out, sizeof f->out, "%s", tu_path(f->tmp, "no/such/folder.csv"));
    assert_int_equal(extract(f, recs, 1), BR_EIO);
    assert_int_equal(tu_count_entries(f->tmp), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows_with_their_findings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlocated_on_every_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_findings_on_later_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_width, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_leave_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
