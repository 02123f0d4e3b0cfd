/* Researchers (researcher.h): the value, its lists, its checks and its JSON form.  The store
 * (store_researcher.c) keeps them; the CSV import (researcher_import.c) and the set jobs on
 * researchers (setjob_researcher.c) build and change them. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "bulkrepo/researcher.h"
#include "core/core.h"
#include "model/researcher_internal.h"

/* ---- names ---------------------------------------------------------------------------------- */

static const char *const STATUS[] = {"affiliated", "non-affiliated", "previously-affiliated"};

const char *br_researcher_status_name(br_researcher_status s)
{
    return (unsigned)s < BR_ARRAY_LEN(STATUS) ? STATUS[s] : "?";
}

int br_researcher_status_parse(const char *name, br_researcher_status *out)
{
    for (size_t i = 0; name && i < BR_ARRAY_LEN(STATUS); i++)
        if (!strcasecmp(name, STATUS[i])) {
            if (out) *out = (br_researcher_status)i;
            return 0;
        }
    return BR_EINVAL;
}

/* In bit order: BR_RF_PROFILE_ACCESS is bit 0. */
static const char *const FLAGS[] = {
    "profile-access",      "active-profile", "auto-match-approval", "smart-harvesting",
    "skip-auto-approvals", "update-orcid",   "manage-externally",   "notifications"};

const char *br_researcher_flag_name(unsigned flag)
{
    for (size_t i = 0; i < BR_ARRAY_LEN(FLAGS); i++)
        if (flag == 1u << i) return FLAGS[i];
    return NULL;
}

int br_researcher_flag_parse(const char *name, unsigned *flag)
{
    for (size_t i = 0; name && i < BR_ARRAY_LEN(FLAGS); i++)
        if (!strcasecmp(name, FLAGS[i])) {
            if (flag) *flag = 1u << i;
            return 0;
        }
    return BR_EINVAL;
}

/* ---- the value ------------------------------------------------------------------------------ */

br_researcher *br_researcher_new(void)
{
    return calloc(1, sizeof(br_researcher));
}

static void free_list(char **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

void br_researcher_clear(br_researcher *r)
{
    if (!r) return;
    free(r->affiliations);
    free_list(r->topics, r->n_topics);
    free_list(r->keywords, r->n_keywords);
    memset(r, 0, sizeof *r);
}

void br_researcher_free(br_researcher *r)
{
    br_researcher_clear(r);
    free(r);
}

int br_researcher_add_affiliation(br_researcher *r, const char *unit, const char *start,
                                  const char *end)
{
    if (r->n_affiliations >= BR_RESEARCHER_LIST_MAX) return BR_ELIMIT;
    br_researcher_affiliation a;
    memset(&a, 0, sizeof a);
    if (!unit || strlen(unit) >= sizeof a.unit || (start && strlen(start) >= sizeof a.start) ||
        (end && strlen(end) >= sizeof a.end))
        return BR_ELIMIT;
    if (br_grow((void **)&r->affiliations, &r->cap_affiliations, r->n_affiliations + 1,
                sizeof *r->affiliations))
        return BR_ENOMEM;
    br_strlcpy(a.unit, unit, sizeof a.unit);
    br_strlcpy(a.start, start ? start : "", sizeof a.start);
    br_strlcpy(a.end, end ? end : "", sizeof a.end);
    r->affiliations[r->n_affiliations++] = a;
    return 0;
}

static int list_add(char ***list, size_t *n, size_t *cap, const char *v)
{
    for (size_t i = 0; i < *n; i++)
        if (br_utf8_loose_equal((*list)[i], v)) return 0;
    if (*n >= BR_RESEARCHER_LIST_MAX) return BR_ELIMIT;
    char *copy = strdup(v);
    if (!copy || br_grow((void **)list, cap, *n + 1, sizeof **list)) {
        free(copy);
        return BR_ENOMEM;
    }
    (*list)[(*n)++] = copy;
    return 1;
}

static size_t list_remove(char **list, size_t *n, const char *v)
{
    size_t k = 0, removed = 0;
    for (size_t i = 0; i < *n; i++) {
        if (br_utf8_loose_equal(list[i], v)) {
            free(list[i]);
            removed++;
        } else {
            list[k++] = list[i];
        }
    }
    *n = k;
    return removed;
}

int br_researcher_add_topic(br_researcher *r, const char *topic)
{
    return list_add(&r->topics, &r->n_topics, &r->cap_topics, topic);
}

int br_researcher_add_keyword(br_researcher *r, const char *keyword)
{
    return list_add(&r->keywords, &r->n_keywords, &r->cap_keywords, keyword);
}

size_t br_researcher_remove_topic(br_researcher *r, const char *topic)
{
    return list_remove(r->topics, &r->n_topics, topic);
}

size_t br_researcher_remove_keyword(br_researcher *r, const char *keyword)
{
    return list_remove(r->keywords, &r->n_keywords, keyword);
}

/* Appends every string of src to a list as it is (no folding of equal ones: a copy is exact). */
static int list_copy(char ***list, size_t *n, size_t *cap, char *const *src, size_t src_n)
{
    for (size_t i = 0; i < src_n; i++) {
        char *copy = strdup(src[i]);
        if (!copy || br_grow((void **)list, cap, *n + 1, sizeof **list)) {
            free(copy);
            return BR_ENOMEM;
        }
        (*list)[(*n)++] = copy;
    }
    return 0;
}

int br_researcher_copy(br_researcher *dst, const br_researcher *src)
{
    if (dst == src) return 0;
    br_researcher_clear(dst);
    *dst = *src;
    dst->affiliations = NULL;
    dst->topics = dst->keywords = NULL;
    dst->n_affiliations = dst->n_topics = dst->n_keywords = 0;
    dst->cap_affiliations = dst->cap_topics = dst->cap_keywords = 0;
    for (size_t i = 0; i < src->n_affiliations; i++)
        if (br_researcher_add_affiliation(dst, src->affiliations[i].unit,
                                          src->affiliations[i].start, src->affiliations[i].end))
            return BR_ENOMEM;
    if (list_copy(&dst->topics, &dst->n_topics, &dst->cap_topics, src->topics, src->n_topics) ||
        list_copy(&dst->keywords, &dst->n_keywords, &dst->cap_keywords, src->keywords,
                  src->n_keywords))
        return BR_ENOMEM;
    return 0;
}

/* ---- checks --------------------------------------------------------------------------------- */

int br_date_ymd_valid(const char *s)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return 0;
    int y = atoi(s), m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || m < 1 || m > 12 || d < 1) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap);
}

int br_orcid_bare(const char *s, char out[20])
{
    static const char *const pre[] = {"https://orcid.org/", "http://orcid.org/", "orcid.org/"};
    if (!s) return 0;
    for (size_t i = 0; i < BR_ARRAY_LEN(pre); i++)
        if (!strncasecmp(s, pre[i], strlen(pre[i]))) {
            s += strlen(pre[i]);
            break;
        }
    if (strlen(s) != 19) return 0;
    memcpy(out, s, 20);
    if (out[18] == 'x') out[18] = 'X';
    return 1;
}

int br_orcid_check(const char *s)
{
    return s && br_orcid_valid(s, strlen(s));
}

/* 1 when s holds a C0 or C1 control character or DEL (s is valid UTF-8). */
static int has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) return 1;
    return 0;
}

typedef struct problems {
    br_researcher_problem_fn fn;
    void *ctx;
    int n;
} problems;

static void say(problems *p, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(problems *p, const char *field, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    p->n++;
    if (p->fn) p->fn(p->ctx, field, msg);
}

/* A text field: valid UTF-8 within its buffer and cap, no control characters. */
static int text_ok(problems *p, const char *field, const char *what, const char *s, size_t size,
                   int required)
{
    size_t n = strnlen(s, size), bad;
    if (n == size || n > BR_RESEARCHER_TEXT_MAX) {
        say(p, field, "the %s has more than %d bytes", what, BR_RESEARCHER_TEXT_MAX);
        return 0;
    }
    if (br_utf8_check(s, n, &bad)) {
        say(p, field, "the %s is not valid UTF-8 (byte %zu)", what, bad + 1);
        return 0;
    }
    if (has_control(s)) {
        say(p, field, "the %s holds a control character", what);
        return 0;
    }
    if (required && !*s) {
        say(p, field, "the %s is required", what);
        return 0;
    }
    return 1;
}

static void list_ok(problems *p, const char *field, const char *what, char *const *list, size_t n)
{
    if (n > BR_RESEARCHER_LIST_MAX)
        say(p, field, "%zu %ss; at most %d are allowed", n, what, BR_RESEARCHER_LIST_MAX);
    for (size_t i = 0; i < n && i < BR_RESEARCHER_LIST_MAX; i++) {
        size_t len = strlen(list[i]);
        if (!len)
            say(p, field, "an empty %s", what);
        else if (len > BR_RESEARCHER_TEXT_MAX)
            say(p, field, "the %s '%.40s...' has more than %d bytes", what, list[i],
                BR_RESEARCHER_TEXT_MAX);
        else
            text_ok(p, field, what, list[i], len + 1, 1);
    }
}

int br_researcher_problems(br_repo *repo, const br_researcher *r, br_researcher_problem_fn fn,
                           void *ctx)
{
    problems p = {fn, ctx, 0};
    size_t n = strnlen(r->id, sizeof r->id), bad;
    if (!n)
        say(&p, "id", "a researcher needs a researcher id");
    else if (n == sizeof r->id)
        say(&p, "id", "the researcher id has more than %d bytes", BR_RESEARCHER_ID_MAX);
    else if (br_utf8_check(r->id, n, &bad))
        say(&p, "id", "the researcher id is not valid UTF-8 (byte %zu)", bad + 1);
    else if (strpbrk(r->id, " \t") || has_control(r->id))
        say(&p, "id", "the researcher id '%s' holds a space or a control character", r->id);
    text_ok(&p, "family", "family name", r->family, sizeof r->family, 1);
    text_ok(&p, "given", "given name", r->given, sizeof r->given, 0);
    text_ok(&p, "middle", "middle name", r->middle, sizeof r->middle, 0);
    text_ok(&p, "suffix", "name suffix", r->suffix, sizeof r->suffix, 0);
    n = strnlen(r->orcid, sizeof r->orcid);
    if (n == sizeof r->orcid)
        say(&p, "orcid", "the ORCID iD is too long");
    else if (n && !br_orcid_valid(r->orcid, n))
        say(&p, "orcid", "%s %s", r->orcid,
            n == 19 && !has_control(r->orcid) && strspn(r->orcid, "0123456789-X") == 19
                ? "has a wrong check digit (ISO 7064 11,2)"
                : "is not an ORCID iD (0000-0002-1825-0097: 16 digits, the last may be X)");
    if ((unsigned)r->status >= BR_ARRAY_LEN(STATUS))
        say(&p, "status", "unknown affiliated status %d", (int)r->status);
    if (r->flags & ~(unsigned)BR_RF_ALL) say(&p, "flags", "unknown flags 0x%x", r->flags);
    if (strnlen(r->last_harvest, sizeof r->last_harvest) == sizeof r->last_harvest ||
        (r->last_harvest[0] && !br_date_ymd_valid(r->last_harvest)))
        say(&p, "last_harvest", "the last smart-harvesting date '%.10s' is not a date YYYY-MM-DD",
            r->last_harvest);
    if (r->n_affiliations > BR_RESEARCHER_LIST_MAX)
        say(&p, "affiliations", "%zu affiliations; at most %d are allowed", r->n_affiliations,
            BR_RESEARCHER_LIST_MAX);
    for (size_t i = 0; i < r->n_affiliations && i < BR_RESEARCHER_LIST_MAX; i++) {
        const br_researcher_affiliation *a = &r->affiliations[i];
        if (!text_ok(&p, "affiliations", "affiliation's unit", a->unit, sizeof a->unit, 1))
            continue;
        if (a->start[0] && !br_date_ymd_valid(a->start))
            say(&p, "affiliations", "%s: the start date '%.10s' is not a date YYYY-MM-DD", a->unit,
                a->start);
        else if (a->end[0] && !br_date_ymd_valid(a->end))
            say(&p, "affiliations", "%s: the end date '%.10s' is not a date YYYY-MM-DD", a->unit,
                a->end);
        else if (a->start[0] && a->end[0] && strcmp(a->end, a->start) < 0)
            say(&p, "affiliations", "%s: ends (%s) before it starts (%s)", a->unit, a->end,
                a->start);
        else if (repo) {
            int e = br_orgunit_exists(repo, a->unit);
            if (e < 0) return e;
            if (!e)
                say(&p, "affiliations",
                    "%s is not an organisational unit (bulkrepo orgunit list shows them)", a->unit);
        }
    }
    list_ok(&p, "topics", "topic", r->topics, r->n_topics);
    list_ok(&p, "keywords", "keyword", r->keywords, r->n_keywords);
    return p.n;
}

typedef struct first_problem {
    char field[32], message[600];
} first_problem;

static void keep_first(void *ctx, const char *field, const char *message)
{
    first_problem *f = ctx;
    if (f->field[0]) return;
    br_strlcpy(f->field, field, sizeof f->field);
    br_strlcpy(f->message, message, sizeof f->message);
}

int br_researcher_check(br_repo *repo, const br_researcher *r, br_error *err)
{
    if (!r) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_researcher_check: no researcher");
    first_problem f = {"", ""};
    int n = br_researcher_problems(repo, r, keep_first, &f);
    if (n < 0) return br_error_set(err, n, NULL, 0, 0, "the organisational units cannot be read");
    if (!n) return 0;
    return br_error_set(err, BR_EINVAL, NULL, 0, 0, "researcher %.130s: %s: %s%s",
                        r->id[0] ? r->id : "(no id)", f.field, f.message,
                        n > 1 ? " (and more)" : "");
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *string_array(char *const *list, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(list[i]));
    return a;
}

json_t *br_researcher_to_jobj(const br_researcher *r)
{
    json_t *flags = json_array(), *affs = json_array();
    for (size_t i = 0; flags && i < BR_ARRAY_LEN(FLAGS); i++)
        if (r->flags & (1u << i)) json_array_append_new(flags, json_string(FLAGS[i]));
    for (size_t i = 0; affs && i < r->n_affiliations; i++) {
        const br_researcher_affiliation *a = &r->affiliations[i];
        json_array_append_new(affs, json_pack("{s:s,s:o,s:o,s:b}", "unit", a->unit, "start",
                                              str_or_null(a->start), "end", str_or_null(a->end),
                                              "current", !a->end[0]));
    }
    return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:I}", "id", r->id,
                     "family", r->family, "given", str_or_null(r->given), "middle",
                     str_or_null(r->middle), "suffix", str_or_null(r->suffix), "orcid",
                     str_or_null(r->orcid), "status", br_researcher_status_name(r->status), "flags",
                     flags ? flags : json_null(), "last_harvest", str_or_null(r->last_harvest),
                     "affiliations", affs ? affs : json_null(), "topics",
                     string_array(r->topics, r->n_topics), "keywords",
                     string_array(r->keywords, r->n_keywords), "created", str_or_null(r->created),
                     "modified", str_or_null(r->modified), "version", (json_int_t)r->version);
}

int br_researcher_json(const br_researcher *r, char **text, br_error *err)
{
    json_t *j = br_researcher_to_jobj(r);
    *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    return *text ? 0 : br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
}

/* A string member into a buffer: 0, or -1 when it is there but not a string or too long. */
static int get_str(json_t *o, const char *key, char *out, size_t size)
{
    json_t *v = json_object_get(o, key);
    out[0] = 0;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v) || json_string_length(v) >= size) return -1;
    br_strlcpy(out, json_string_value(v), size);
    return 0;
}

int br_researcher_from_json(const char *text, br_researcher *r, br_error *err)
{
    br_researcher_clear(r);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    int bad = !json_is_object(j);
    char status[32] = "";
    bad = bad || get_str(j, "id", r->id, sizeof r->id) ||
          get_str(j, "family", r->family, sizeof r->family) ||
          get_str(j, "given", r->given, sizeof r->given) ||
          get_str(j, "middle", r->middle, sizeof r->middle) ||
          get_str(j, "suffix", r->suffix, sizeof r->suffix) ||
          get_str(j, "orcid", r->orcid, sizeof r->orcid) ||
          get_str(j, "last_harvest", r->last_harvest, sizeof r->last_harvest) ||
          get_str(j, "created", r->created, sizeof r->created) ||
          get_str(j, "modified", r->modified, sizeof r->modified) ||
          get_str(j, "status", status, sizeof status) ||
          br_researcher_status_parse(status, &r->status);
    r->version = bad ? 0 : (int64_t)json_integer_value(json_object_get(j, "version"));
    size_t i;
    json_t *v;
    json_array_foreach(bad ? NULL : json_object_get(j, "flags"), i, v)
    {
        unsigned f;
        if (br_researcher_flag_parse(json_string_value(v), &f))
            bad = 1;
        else
            r->flags |= f;
    }
    int rc = 0;
    json_array_foreach(bad ? NULL : json_object_get(j, "affiliations"), i, v)
    {
        char unit[128], start[11], end[11];
        if (get_str(v, "unit", unit, sizeof unit) || get_str(v, "start", start, sizeof start) ||
            get_str(v, "end", end, sizeof end))
            bad = 1;
        else if (!rc)
            rc = br_researcher_add_affiliation(r, unit, start, end);
    }
    json_array_foreach(bad ? NULL : json_object_get(j, "topics"), i, v)
    {
        const char *s = json_string_value(v);
        if (!s) bad = 1;
        if (s && !rc && list_copy(&r->topics, &r->n_topics, &r->cap_topics, (char **)&s, 1))
            rc = BR_ENOMEM;
    }
    json_array_foreach(bad ? NULL : json_object_get(j, "keywords"), i, v)
    {
        const char *s = json_string_value(v);
        if (!s) bad = 1;
        if (s && !rc && list_copy(&r->keywords, &r->n_keywords, &r->cap_keywords, (char **)&s, 1))
            rc = BR_ENOMEM;
    }
    json_decref(j);
    if (bad) return br_error_set(err, BR_EINVAL, NULL, 0, 0, "not a researcher's JSON");
    if (rc) return br_error_set(err, rc, NULL, 0, 0, "out of memory");
    return 0;
}
