/* Cron-like schedules of import profiles (src/lib/jobs/cron.c, issue 17): the five fields with
 * "*", lists, ranges and steps, day-of-month OR day-of-week when both are restricted, the next
 * time in UTC, and every bad schedule refused naming its field and position. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bulkrepo/bulkrepo.h"
#include "jobs/cron.h"
#include "testutil.h"

static int64_t utc(int y, int mo, int d, int h, int mi)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm);
}

static int64_t next_of(const char *sched, int64_t after)
{
    br_cron c;
    br_error err;
    if (br_cron_parse(sched, &c, &err)) fail_msg("%s: %s", sched, err.message);
    int64_t t = 0;
    int rc = br_cron_next(&c, after, &t);
    return rc ? rc : t;
}

static void test_next(void **state)
{
    (void)state;
    int64_t t0 = utc(2026, 12, 3, 22, 41) + 17; /* Thursday */
    assert_int_equal(next_of("* * * * *", t0), utc(2026, 12, 3, 22, 42));
    /* strictly after: a whole minute goes to the next one */
    assert_int_equal(next_of("* * * * *", utc(2026, 12, 3, 22, 42)), utc(2026, 12, 3, 22, 43));
    assert_int_equal(next_of("*/15 * * * *", t0), utc(2026, 12, 3, 22, 45));
    assert_int_equal(next_of("0 3 * * *", t0), utc(2026, 12, 4, 3, 0));
    assert_int_equal(next_of("30 8 * * 1-5", t0), utc(2026, 12, 4, 8, 30)); /* Friday */
    assert_int_equal(next_of("30 8 * * 1", t0), utc(2026, 12, 7, 8, 30));   /* Monday */
    assert_int_equal(next_of("0 0 * * 7", t0), utc(2026, 12, 6, 0, 0));     /* 7 = Sunday */
    assert_int_equal(next_of("0 0 * * 0", t0), utc(2026, 12, 6, 0, 0));
    assert_int_equal(next_of("0 0 1 1 *", t0), utc(2027, 1, 1, 0, 0));
    assert_int_equal(next_of("5,10,50 22 3 12 *", t0), utc(2026, 12, 3, 22, 50));
    assert_int_equal(next_of("0 12 1-3/2 * *", t0), utc(2027, 1, 1, 12, 0));
    assert_int_equal(next_of("10/20 23 * * *", t0), utc(2026, 12, 3, 23, 10)); /* 10,30,50 */
    assert_int_equal(next_of("0 0 29 2 *", t0), utc(2028, 2, 29, 0, 0));       /* leap day */
    /* both day fields restricted: either matches (the 15th, or the next Monday) */
    assert_int_equal(next_of("0 0 15 * 1", t0), utc(2026, 12, 7, 0, 0));
    assert_int_equal(next_of("0 0 4 * 1", t0), utc(2026, 12, 4, 0, 0));
    /* month steps and ranges */
    assert_int_equal(next_of("0 0 1 */3 *", t0), utc(2027, 1, 1, 0, 0)); /* 1,4,7,10 */
    assert_int_equal(next_of("0 0 1 2-3 *", t0), utc(2027, 2, 1, 0, 0));
    /* a day that never comes */
    assert_int_equal(next_of("0 0 30 2 *", t0), BR_ENOTFOUND);
    assert_int_equal(next_of("0 0 31 4,6,9,11 *", t0), BR_ENOTFOUND);
    /* tabs and extra spaces separate fields too */
    assert_int_equal(next_of("  0\t3  * *   * ", t0), utc(2026, 12, 4, 3, 0));
}

static void bad(const char *sched, unsigned pos, const char *words)
{
    br_cron c;
    br_error err;
    br_error_clear(&err);
    int rc = br_cron_parse(sched, &c, &err);
    if (rc != BR_EUSAGE) fail_msg("'%s' accepted (rc %d)", sched, rc);
    if (err.place.column != pos)
        fail_msg("'%s': position %u, expected %u (%s)", sched, err.place.column, pos, err.message);
    if (!strstr(err.message, words)) fail_msg("'%s': '%s' lacks '%s'", sched, err.message, words);
}

static void test_bad(void **state)
{
    (void)state;
    bad("", 1, "0 fields, expected 5");
    bad("* * * *", 8, "4 fields, expected 5");
    bad("* * * * * *", 11, "more than 5 fields");
    bad("60 * * * *", 1, "minute (field 1) at position 1: 60 is out of range 0-59");
    bad("0 24 * * *", 3, "hour (field 2) at position 3: 24 is out of range 0-23");
    bad("0 0 0 * *", 5, "day-of-month (field 3) at position 5: 0 is out of range 1-31");
    bad("0 0 * 13 *", 7, "month (field 4) at position 7: 13 is out of range 1-12");
    bad("0 0 * * 8", 9, "day-of-week (field 5) at position 9: 8 is out of range 0-7");
    bad("0 5-2 * * *", 3, "hour (field 2) at position 3: the range 5-2 runs backwards");
    bad("0 1-30 * * *", 5, "hour (field 2) at position 5: 30 is out of range");
    bad("*/0 * * * *", 3, "minute (field 1) at position 3: the step must be");
    bad("*/ * * * *", 3, "the step must be");
    bad("1,,2 * * * *", 3, "expected a number");
    bad("1, * * * *", 3, "a list item is missing");
    bad("0 0 * jan *", 7, "month (field 4) at position 7: expected a number");
    bad("0 0 * * mon", 9, "day-of-week (field 5) at position 9: expected a number");
    bad("0 0 * * 1-", 11, "expected the end of the range");
    bad("1x * * * *", 2, "expected ',' or the end of the field");
    bad("0001 * * * *", 1, "the number is too long");
    bad("* * * * -1", 9, "day-of-week (field 5) at position 9");
    char longs[200];
    memset(longs, '1', sizeof longs - 1);
    longs[sizeof longs - 1] = 0;
    bad(longs, BR_CRON_MAX + 1, "longer than");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
