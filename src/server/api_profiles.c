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
#include "bulkrepo/profile.h"
#include "http.h"

#define HISTORY_DEFAULT 50
#define HISTORY_MAX     1000

/* 1 when the user's roles may run (and so see) profile jobs, else replied 403. */
static int allowed(srv_req *r, enum MHD_Result *res)
{
    br_job_type t;
    if (!br_job_type_get("fetch-profile", &t) && br_job_type_allows(&t, r->who.roles)) return 1;
    *res = srv_reply_error(r, MHD_HTTP_FORBIDDEN, "your roles do not allow running imports");
    return 0;
}

/* The profile as br_profile_to_json shapes it; NULL when out of memory. */
static json_t *profile_json(const br_profile *p)
{
    char *text = NULL;
    int rc = br_profile_to_json(p, &text, NULL);
    return srv_json_of(rc, text);
}

typedef struct listing {
    json_t *arr;
    int oom;
} listing;

static int add_profile(void *ctx, const br_profile *p)
{
    listing *l = ctx;
    json_t *o = profile_json(p);
    if (!o || json_array_append_new(l->arr, o)) l->oom = 1;
    return l->oom;
}

enum MHD_Result srv_profiles_list(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, &res)) return res;
    br_error err;
    listing l = {json_array(), 0};
    int rc = l.arr ? br_profile_list(repo, add_profile, &l, &err) : BR_ENOMEM;
    if (!rc && l.oom) rc = BR_ENOMEM;
    if (rc) {
        json_decref(l.arr);
        if (rc == BR_ENOMEM) br_error_set(&err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        return srv_reply_br(r, &err);
    }
    return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "profiles", l.arr));
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
    br_error err;
    char *text = NULL;
    if (br_profile_history_json(repo, r->handle, (size_t)(limit ? limit : HISTORY_DEFAULT),
                                (size_t)offset, &text, &err))
        return srv_reply_br(r, &err);
    json_t *o = srv_json_of(0, text);
    if (!o) return srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    return srv_reply_json(r, MHD_HTTP_OK, o);
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
