/* An import profile and its Job History as JSON (profile.h): the one shape of
 * `bulkrepo profile show|list|history --json` and GET /api/profiles[/NAME]. */
#include <stdlib.h>
#include <time.h>
#include <jansson.h>
#include "bulkrepo/profile.h"

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *profile_obj(const br_profile *p)
{
    char next[32] = "", pattern[256] = "";
    if (p->next_run) {
        time_t t = (time_t)p->next_run;
        struct tm tm;
        if (gmtime_r(&t, &tm)) strftime(next, sizeof next, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    int pulls = p->ftp[0] != 0;
    if (pulls) br_profile_pattern(p, pattern, sizeof pattern);
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "name", p->name, "format", p->format,
        "collection", p->collection, "inbox", p->inbox, "eperson", str_or_null(p->eperson), "ftp",
        str_or_null(p->ftp), "remote_dir", pulls ? json_string(p->remote_dir) : json_null(),
        "pattern", str_or_null(pattern), "after_fetch",
        pulls ? json_string(p->after_fetch[0] ? p->after_fetch : "leave") : json_null(), "schedule",
        str_or_null(p->schedule), "next_run", str_or_null(next), "created",
        str_or_null(p->created));
}

static int dump(json_t *o, char **out, br_error *err)
{
    *out = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return *out ? 0 : br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory (or text not UTF-8)");
}

int br_profile_to_json(const br_profile *p, char **out, br_error *err)
{
    return dump(profile_obj(p), out, err);
}

typedef struct rows {
    json_t *jobs;
    int oom; /* a row could not be made: the history is refused, not cut short */
} rows;

/* One job of the history: what a Job History row shows. */
static int add_job(void *ctx, const br_job *j)
{
    rows *r = ctx;
    const br_job_counters *k = &j->counters;
    json_t *c = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "processed",
                          (json_int_t)k->processed, "imported", (json_int_t)k->imported, "updated",
                          (json_int_t)k->updated, "deleted", (json_int_t)k->deleted, "not_imported",
                          (json_int_t)k->not_imported, "failed", (json_int_t)k->failed, "skipped",
                          (json_int_t)k->skipped, "bytes", (json_int_t)k->bytes);
    json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)j->id,
                          "name", j->name, "type", j->type, "status", br_job_status_code(j->status),
                          "status_label", br_job_status_label(j->status), "submitted",
                          str_or_null(j->submitted), "started", str_or_null(j->started), "ended",
                          str_or_null(j->ended), "counters", c, "message", str_or_null(j->message),
                          "parent_job", j->parent_job ? json_integer(j->parent_job) : json_null());
    if (!o || json_array_append_new(r->jobs, o)) r->oom = 1;
    return r->oom;
}

int br_profile_history_json(br_repo *repo, const char *name, size_t limit, size_t offset,
                            char **out, br_error *err)
{
    *out = NULL;
    br_profile p;
    int rc = br_profile_get(repo, name, &p, err);
    if (rc) return rc;
    rows r = {json_array(), 0};
    int64_t total = 0;
    if (!r.jobs) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    rc = br_profile_history(repo, p.name, limit, offset, add_job, &r, &total, err);
    if (!rc && r.oom) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (rc) {
        json_decref(r.jobs);
        return rc;
    }
    return dump(json_pack("{s:o,s:o,s:I}", "profile", profile_obj(&p), "jobs", r.jobs, "total",
                          (json_int_t)total),
                out, err);
}
