/* The cron-like schedules of import profiles (src/lib/jobs/cron.c): the input is a schedule.
 * br_cron_parse answers 0 or BR_EUSAGE with a position inside the schedule (1 to its length
 * + 1) and a message naming the field; an accepted schedule's next time is a whole minute
 * after the start that the schedule matches, found twice in a row in increasing order. */
#include <time.h>
#include "fuzz_util.h"
#include "jobs/cron.h"

static int matches(const br_cron *c, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) return 0;
    int d = (c->dom >> tm.tm_mday) & 1, w = (c->dow >> tm.tm_wday) & 1;
    int day = c->dom_star || c->dow_star ? d && w : d || w;
    return ((c->minute >> tm.tm_min) & 1) && ((c->hour >> tm.tm_hour) & 1) && day &&
           ((c->month >> (tm.tm_mon + 1)) & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256) return 0;
    char s[257];
    memcpy(s, data, size);
    s[size] = 0;
    br_cron c;
    br_error err;
    br_error_clear(&err);
    int rc = br_cron_parse(s, &c, &err);
    if (rc) {
        size_t len = strlen(s);
        if (rc != BR_EUSAGE || err.place.column < 1 || (size_t)err.place.column > len + 1 ||
            !strstr(err.message, "schedule"))
            abort();
        return 0;
    }
    const int64_t start = 1767225600; /* 2026-01-01T00:00:00Z */
    int64_t t1, t2;
    if (br_cron_next(&c, start + 17, &t1)) return 0; /* no such day (February 30) */
    if (t1 <= start + 17 || t1 % 60 || !matches(&c, t1)) abort();
    if (br_cron_next(&c, t1, &t2)) return 0;
    if (t2 <= t1 || t2 % 60 || !matches(&c, t2)) abort();
    return 0;
}
