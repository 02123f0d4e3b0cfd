/* The REST API's import profiles (issue 17, docs/profiles.md; the web UI's #/profiles):
 *   GET  /api/profiles              {"profiles":[PROFILE...]}
 *   GET  /api/profiles/{name}       {"profile":PROFILE,"jobs":[JOB...],"total":N}
 *                                   (?limit, default 50, at most 1000; ?offset)
 *   POST /api/profiles/{name}/run   202 {"job_id":N}: a fetch job queued now
 * PROFILE: name, format, collection, inbox, eperson, ftp, remote_dir, pattern (the one in
 * effect), after_fetch, schedule, next_run (ISO 8601 UTC or null), created.  JOB: id, name,
 * type, status (code), status_label, submitted, started, ended, counters, parent_job.
 * A profile's jobs are imports: reading and running need the roles that may run the
 * "fetch-profile" job type (data/job_types.tsv: those of import-saf). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bulkrepo/profile.h"
#include "http.h"

#define HISTORY_DEFAULT 50
#define HISTORY_MAX     1000

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* 1 when the user's roles may run (and so see) profile jobs, else replied 403. */
static int allowed(srv_req *r, enum MHD_Result *res)
{
    br_job_type t;
    if (!br_job_type_get("fetch-profile", &t) && br_job_type_allows(&t, r->who.roles)) return 1;
    *res = srv_reply_error(r, MHD_HTTP_FORBIDDEN, "your roles do not allow running imports");
    return 0;
}

static json_t *profile_json(const br_profile *p)
{
    char next[32] = "", pattern[256] = "";
    if (p->next_run) {
        time_t t = (time_t)p->next_run;
        struct tm tm;
        if (gmtime_r(&t, &tm)) strftime(next, sizeof next, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    if (p->ftp[0]) br_profile_pattern(p, pattern, sizeof pattern);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "format", json_string(p->format));
    json_object_set_new(o, "collection", json_string(p->collection));
    json_object_set_new(o, "inbox", json_string(p->inbox));
    json_object_set_new(o, "eperson", str_or_null(p->eperson));
    json_object_set_new(o, "ftp", str_or_null(p->ftp));
    json_object_set_new(o, "remote_dir", p->ftp[0] ? json_string(p->remote_dir) : json_null());
    json_object_set_new(o, "pattern", str_or_null(pattern));
    json_object_set_new(o, "after_fetch",
                        p->ftp[0] ? json_string(p->after_fetch[0] ? p->after_fetch : "leave")
                                  : json_null());
    json_object_set_new(o, "schedule", str_or_null(p->schedule));
    json_object_set_new(o, "next_run", str_or_null(next));
    json_object_set_new(o, "created", str_or_null(p->created));
    return o;
}

static int add_profile(void *ctx, const br_profile *p)
{
    json_array_append_new(ctx, profile_json(p));
    return 0;
}

enum MHD_Result srv_profiles_list(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, &res)) return res;
    br_error err;
    json_t *a = json_array();
    if (br_profile_list(repo, add_profile, a, &err)) {
        json_decref(a);
        return srv_reply_br(r, &err);
    }
    return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "profiles", a));
}

static int add_job(void *ctx, const br_job *j)
{
    const br_job_counters *k = &j->counters;
    json_t *o = json_object(), *c = json_object();
    json_object_set_new(o, "id", json_integer(j->id));
    json_object_set_new(o, "name", json_string(j->name));
    json_object_set_new(o, "type", json_string(j->type));
    json_object_set_new(o, "status", json_string(br_job_status_code(j->status)));
    json_object_set_new(o, "status_label", json_string(br_job_status_label(j->status)));
    json_object_set_new(o, "submitted", str_or_null(j->submitted));
    json_object_set_new(o, "started", str_or_null(j->started));
    json_object_set_new(o, "ended", str_or_null(j->ended));
    json_object_set_new(c, "processed", json_integer(k->processed));
    json_object_set_new(c, "imported", json_integer(k->imported));
    json_object_set_new(c, "updated", json_integer(k->updated));
    json_object_set_new(c, "deleted", json_integer(k->deleted));
    json_object_set_new(c, "not_imported", json_integer(k->not_imported));
    json_object_set_new(c, "failed", json_integer(k->failed));
    json_object_set_new(c, "skipped", json_integer(k->skipped));
    json_object_set_new(c, "bytes", json_integer(k->bytes));
    json_object_set_new(o, "counters", c);
    json_object_set_new(o, "message", str_or_null(j->message));
    json_object_set_new(o, "parent_job", j->parent_job ? json_integer(j->parent_job) : json_null());
    json_array_append_new(ctx, o);
    return 0;
}

/* A non-negative integer query argument (default dflt, capped at max); -1 when malformed. */
static long long num_arg(srv_req *r, const char *name, long long dflt, long long max)
{
    const char *v = MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, name);
    if (!v || !*v) return dflt;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*end || n < 0 || v[0] < '0' || v[0] > '9') return -1;
    return n > max ? max : n;
}

enum MHD_Result srv_profiles_get(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, &res)) return res;
    long long limit = num_arg(r, "limit", HISTORY_DEFAULT, HISTORY_MAX);
    long long offset = num_arg(r, "offset", 0, 1LL << 40);
    if (limit < 0 || offset < 0)
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "limit and offset are whole numbers");
    br_profile p;
    br_error err;
    if (br_profile_get(repo, r->handle, &p, &err)) return srv_reply_br(r, &err);
    json_t *jobs = json_array();
    int64_t total = 0;
    if (br_profile_history(repo, p.name, (size_t)(limit ? limit : HISTORY_DEFAULT), (size_t)offset,
                           add_job, jobs, &total, &err)) {
        json_decref(jobs);
        return srv_reply_br(r, &err);
    }
    return srv_reply_json(r, MHD_HTTP_OK,
                          json_pack("{s:o,s:o,s:I}", "profile", profile_json(&p), "jobs", jobs,
                                    "total", (json_int_t)total));
}

enum MHD_Result srv_profiles_run(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, &res)) return res;
    br_error err;
    int64_t id;
    if (br_profile_run(repo, r->handle, r->who.username, 0, &id, &err))
        return srv_reply_br(r, &err);
    br_engine_wake(r->s->engine);
    return srv_reply_json(r, MHD_HTTP_ACCEPTED, json_pack("{s:I}", "job_id", (json_int_t)id));
}
