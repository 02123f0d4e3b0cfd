/* Cron-like schedules (cron.h). */
#define _GNU_SOURCE
#include "cron.h"
#include <stdio.h>
#include <string.h>
#include <time.h>

static const struct field {
    const char *name;
    int lo, hi;
} FIELDS[5] = {{"minute", 0, 59},
               {"hour", 0, 23},
               {"day-of-month", 1, 31},
               {"month", 1, 12},
               {"day-of-week", 0, 7}};

static int bad(br_error *err, const char *s, const char *at, int field, const char *what)
{
    int pos = (int)(at - s) + 1;
    return br_error_set(err, BR_EUSAGE, NULL, 0, pos, "schedule: %s (field %d) at position %d: %s",
                        FIELDS[field].name, field + 1, pos, what);
}

/* A number of at most 3 digits at *p; -1 when there is no digit. */
static int number(const char **p)
{
    const char *q = *p;
    int v = 0, n = 0;
    while (*q >= '0' && *q <= '9') {
        if (++n > 3) return -2;
        v = v * 10 + (*q++ - '0');
    }
    if (!n) return -1;
    *p = q;
    return v;
}

/* One field of length len at s+off into the bit set *bits; *star when it is "*" or "*\/1". */
static int parse_field(const char *s, size_t off, size_t len, int f, uint64_t *bits, int *star,
                       br_error *err)
{
    const struct field *fd = &FIELDS[f];
    const char *p = s + off, *end = s + off + len;
    char msg[128];
    *bits = 0;
    *star = 0;
    for (;;) {
        const char *item = p;
        int lo, hi, step = 1, is_star = 0;
        if (*p == '*') {
            is_star = 1;
            lo = fd->lo;
            hi = fd->hi;
            p++;
        } else {
            lo = number(&p);
            if (lo < 0)
                return bad(err, s, p, f,
                           lo == -2 ? "the number is too long"
                                    : "expected a number, '*' or a range");
            if (lo < fd->lo || lo > fd->hi) {
                snprintf(msg, sizeof msg, "%d is out of range %d-%d", lo, fd->lo, fd->hi);
                return bad(err, s, item, f, msg);
            }
            hi = lo;
            if (p < end && *p == '-') {
                const char *at = ++p;
                hi = number(&p);
                if (hi < 0) return bad(err, s, at, f, "expected the end of the range");
                if (hi < fd->lo || hi > fd->hi) {
                    snprintf(msg, sizeof msg, "%d is out of range %d-%d", hi, fd->lo, fd->hi);
                    return bad(err, s, at, f, msg);
                }
                if (hi < lo) {
                    snprintf(msg, sizeof msg, "the range %d-%d runs backwards", lo, hi);
                    return bad(err, s, item, f, msg);
                }
            }
        }
        if (p < end && *p == '/') {
            const char *at = ++p;
            step = number(&p);
            if (step <= 0 || step > fd->hi) {
                snprintf(msg, sizeof msg, "the step must be a number from 1 to %d", fd->hi);
                return bad(err, s, at, f, msg);
            }
            if (!is_star && hi == lo) hi = fd->hi; /* "a/s": from a to the end */
        }
        if (is_star && step == 1) *star = 1;
        for (int v = lo; v <= hi; v += step)
            *bits |= 1ull << (f == 4 && v == 7 ? 0 : v);
        if (p == end) break;
        if (*p != ',') return bad(err, s, p, f, "expected ',' or the end of the field");
        p++;
        if (p == end) return bad(err, s, p, f, "a list item is missing after ','");
    }
    return 0;
}

int br_cron_parse(const char *s, br_cron *out, br_error *err)
{
    memset(out, 0, sizeof *out);
    if (!s) s = "";
    size_t n = strlen(s);
    if (n > BR_CRON_MAX)
        return br_error_set(err, BR_EUSAGE, NULL, 0, BR_CRON_MAX + 1,
                            "schedule: longer than %d bytes", BR_CRON_MAX);
    size_t off[5], len[5];
    int nf = 0;
    size_t i = 0;
    for (;;) {
        while (s[i] == ' ' || s[i] == '\t')
            i++;
        if (!s[i]) break;
        if (nf == 5)
            return br_error_set(err, BR_EUSAGE, NULL, 0, (int)i + 1,
                                "schedule: at position %d: more than 5 fields (minute hour "
                                "day-of-month month day-of-week)",
                                (int)i + 1);
        off[nf] = i;
        while (s[i] && s[i] != ' ' && s[i] != '\t')
            i++;
        len[nf] = i - off[nf];
        nf++;
    }
    if (nf < 5)
        return br_error_set(err, BR_EUSAGE, NULL, 0, (int)n + 1,
                            "schedule: at position %d: %d field%s, expected 5 (minute hour "
                            "day-of-month month day-of-week)",
                            (int)n + 1, nf, nf == 1 ? "" : "s");
    uint64_t bits[5];
    int star[5];
    for (int f = 0; f < 5; f++) {
        int rc = parse_field(s, off[f], len[f], f, &bits[f], &star[f], err);
        if (rc) return rc;
    }
    out->minute = bits[0];
    out->hour = (uint32_t)bits[1];
    out->dom = (uint32_t)bits[2];
    out->month = (uint32_t)bits[3];
    out->dow = (uint32_t)bits[4];
    out->dom_star = star[2];
    out->dow_star = star[4];
    return 0;
}

static int day_matches(const br_cron *c, const struct tm *tm)
{
    int d = (c->dom >> tm->tm_mday) & 1, w = (c->dow >> tm->tm_wday) & 1;
    if (c->dom_star || c->dow_star) return d && w;
    return d || w;
}

int br_cron_next(const br_cron *c, int64_t after, int64_t *next)
{
    *next = 0;
    if (!c->minute || !c->hour || !c->dom || !c->month || !c->dow) return BR_ENOTFOUND;
    time_t t = (time_t)(after - (after % 60 + 60) % 60 + 60); /* the next whole minute */
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return BR_ENOTFOUND;
    int limit = tm.tm_year + 9;
    /* Each step moves to the start of the next month, day, hour or minute that could match:
     * at most about 8 * (12 + 366 + 24 + 60) steps per year searched. */
    while (tm.tm_year < limit) {
        if (!((c->month >> (tm.tm_mon + 1)) & 1)) {
            tm.tm_mon++;
            tm.tm_mday = 1;
            tm.tm_hour = tm.tm_min = 0;
        } else if (!day_matches(c, &tm)) {
            tm.tm_mday++;
            tm.tm_hour = tm.tm_min = 0;
        } else if (!((c->hour >> tm.tm_hour) & 1)) {
            tm.tm_hour++;
            tm.tm_min = 0;
        } else if (!((c->minute >> tm.tm_min) & 1)) {
            tm.tm_min++;
        } else {
            *next = (int64_t)t;
            return 0;
        }
        tm.tm_sec = 0;
        tm.tm_isdst = 0;
        t = timegm(&tm); /* normalizes the field that ran over */
        if (t == (time_t)-1 || !gmtime_r(&t, &tm)) return BR_ENOTFOUND;
    }
    return BR_ENOTFOUND;
}
