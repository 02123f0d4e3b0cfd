/* The REST API's routes (docs/api.md): each maps one request onto library
 * calls with a pooled database connection. */
#define _GNU_SOURCE
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bulkrepo/format.h"
#include "http.h"

typedef enum route_id {
    R_HEALTH,
    R_LOGIN,
    R_LOGOUT,
    R_ME,
    R_JOB_TYPES,
    R_FORMATS,
    R_JOBS,
    R_JOB_SUBMIT,
    R_JOB,
    R_JOB_EVENTS,
    R_JOB_RECORDS,
    R_JOB_UNIMPORTED,
    R_JOB_OUTPUT,
    R_JOB_RERUN,
    R_JOB_CANCEL,
    R_JOB_RESUME,
    R_ITEMS,
    R_ITEM_FILE, /* before R_ITEM, whose {handle} takes the rest of any path */
    R_ITEM,
    R_COLLECTIONS,
    R_SETS,
    R_SET_CREATE,
    R_SET,
    R_SET_MEMBERS,
    R_SET_DELETE,
    R_SETJOB_SUBMIT, /* POST /api/jobs with a JSON body (srv_route_find picks it) */
    R_SETJOB_PREVIEW,
    R_JOB_REVERT,
    R_TRASH,
    R_TRASH_RESTORE,
    R_PROFILES, /* import profiles and their history (api_profiles.c) */
    R_PROFILE,
    R_PROFILE_RUN,
    R_ME_SETTINGS, /* export folders, my settings (api_exports.c, issue 17) */
    R_EXPORTS,
    R_EXPORT_FILE,
    R_FTP_LIST, /* S/FTP configurations (api_ftp.c, issue 17) */
    R_FTP_ADD,
    R_FTP_TEST,
    R_FTP_DELETE,
    R_COUNT
} route_id;

/* {id}: a positive job id; {handle}: the rest of the path (handles hold a '/'); {name}: a
 * set's name, the path up to the pattern's literal tail (a name may hold a '/'). */
static const struct {
    const char *method, *pattern;
    int is_public, is_upload, is_json;
} ROUTES[R_COUNT] = {
    [R_HEALTH] = {"GET", "/api/health", 1, 0, 0},
    [R_LOGIN] = {"POST", "/api/login", 1, 0, 1},
    [R_LOGOUT] = {"POST", "/api/logout", 0, 0, 0},
    [R_ME] = {"GET", "/api/me", 0, 0, 0},
    [R_JOB_TYPES] = {"GET", "/api/job-types", 0, 0, 0},
    [R_FORMATS] = {"GET", "/api/formats", 0, 0, 0},
    [R_JOBS] = {"GET", "/api/jobs", 0, 0, 0},
    [R_JOB_SUBMIT] = {"POST", "/api/jobs", 0, 1, 0},
    [R_JOB] = {"GET", "/api/jobs/{id}", 0, 0, 0},
    [R_JOB_EVENTS] = {"GET", "/api/jobs/{id}/events", 0, 0, 0},
    [R_JOB_RECORDS] = {"GET", "/api/jobs/{id}/records", 0, 0, 0},
    [R_JOB_UNIMPORTED] = {"GET", "/api/jobs/{id}/unimported", 0, 0, 0},
    [R_JOB_OUTPUT] = {"GET", "/api/jobs/{id}/output", 0, 0, 0},
    [R_JOB_RERUN] = {"POST", "/api/jobs/{id}/rerun", 0, 0, 0},
    [R_JOB_CANCEL] = {"POST", "/api/jobs/{id}/cancel", 0, 0, 0},
    [R_JOB_RESUME] = {"POST", "/api/jobs/{id}/resume", 0, 0, 0},
    [R_ITEMS] = {"GET", "/api/items", 0, 0, 0},
    [R_ITEM_FILE] = {"GET", "/api/items/{handle}/files/{seq}", 0, 0, 0},
    [R_ITEM] = {"GET", "/api/items/{handle}", 0, 0, 0},
    [R_COLLECTIONS] = {"GET", "/api/collections", 0, 0, 0},
    [R_SETS] = {"GET", "/api/sets", 0, 0, 0},
    [R_SET_CREATE] = {"POST", "/api/sets", 0, 0, 1},
    [R_SET] = {"GET", "/api/sets/{name}", 0, 0, 0},
    [R_SET_MEMBERS] = {"POST", "/api/sets/{name}/members", 0, 0, 1},
    [R_SET_DELETE] = {"POST", "/api/sets/{name}/delete", 0, 0, 0},
    [R_SETJOB_SUBMIT] = {"POST", "/api/jobs", 0, 0, 1},
    [R_SETJOB_PREVIEW] = {"POST", "/api/jobs/preview", 0, 0, 1},
    [R_JOB_REVERT] = {"POST", "/api/jobs/{id}/revert", 0, 0, 1},
    [R_TRASH] = {"GET", "/api/trash", 0, 0, 0},
    [R_TRASH_RESTORE] = {"POST", "/api/trash/{name}/restore", 0, 0, 0},
    [R_FTP_LIST] = {"GET", "/api/ftp", 0, 0, 0},
    [R_FTP_ADD] = {"POST", "/api/ftp", 0, 0, 1},
    [R_FTP_TEST] = {"POST", "/api/ftp/{name}/test", 0, 0, 1},
    [R_FTP_DELETE] = {"DELETE", "/api/ftp/{name}", 0, 0, 0},
    [R_PROFILES] = {"GET", "/api/profiles", 0, 0, 0},
    [R_PROFILE] = {"GET", "/api/profiles/{name}", 0, 0, 0},
    [R_PROFILE_RUN] = {"POST", "/api/profiles/{name}/run", 0, 0, 0},
    [R_ME_SETTINGS] = {"POST", "/api/me/settings", 0, 0, 1},
    [R_EXPORTS] = {"GET", "/api/exports", 0, 0, 0},
    [R_EXPORT_FILE] = {"GET", "/api/exports/{handle}", 0, 0, 0},
};

int srv_route_public(int route)
{
    return route >= 0 && route < R_COUNT && ROUTES[route].is_public;
}

int srv_route_upload(int route)
{
    return route >= 0 && route < R_COUNT && ROUTES[route].is_upload;
}

int srv_route_json(int route)
{
    return route >= 0 && route < R_COUNT && ROUTES[route].is_json;
}

/* 1 when path matches pattern (filling r's job id / handle), 0 when not, -1
 * when it matches but {id} is not a positive integer. */
static int match(const char *pattern, const char *path, srv_req *r)
{
    while (*pattern) {
        if (!strncmp(pattern, "{id}", 4)) {
            /* {id} is one segment and only a literal tail follows it. */
            pattern += 4;
            size_t n = strcspn(path, "/");
            if (!n || strcmp(path + n, pattern)) return 0;
            char *end;
            errno = 0;
            long long v = strtoll(path, &end, 10);
            if (end != path + n || v <= 0 || errno || path[0] < '0' || path[0] > '9') return -1;
            r->job_id = v;
            return 1;
        }
        if (!strncmp(pattern, "{name}", 6)) {
            /* Percent-decoded already (libmicrohttpd), so a name's '/' is one too. */
            size_t n = strlen(path), t = strlen(pattern + 6);
            if (n <= t || strcmp(path + n - t, pattern + 6) || n - t >= sizeof r->handle) return 0;
            memcpy(r->handle, path, n - t);
            r->handle[n - t] = 0;
            return 1;
        }
        if (!strcmp(pattern, "{handle}/files/{seq}")) {
            /* The handle (it holds a '/') up to the last "/files/", then a file's sequence
             * number (0, 1, ...): -1 when that is no number. */
            const char *f = NULL;
            for (const char *p = strstr(path, "/files/"); p; p = strstr(p + 1, "/files/"))
                f = p;
            if (!f || f == path || (size_t)(f - path) >= sizeof r->handle) return 0;
            char *end;
            errno = 0;
            long long v = strtoll(f + 7, &end, 10);
            if (f[7] < '0' || f[7] > '9' || *end || errno) return -1;
            memcpy(r->handle, path, (size_t)(f - path));
            r->handle[f - path] = 0;
            r->file_seq = v;
            return 1;
        }
        if (!strcmp(pattern, "{handle}")) {
            size_t n = strlen(path);
            if (!n || n >= sizeof r->handle) return 0;
            memcpy(r->handle, path, n + 1);
            return 1;
        }
        if (*pattern != *path) return 0;
        pattern++;
        path++;
    }
    return *path == 0;
}

/* POST /api/jobs is an upload (multipart) unless its body is JSON: then a set job or a
 * revert (api_setjobs.c). */
static int json_request(srv_req *r)
{
    const char *ct = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "Content-Type");
    return ct && !strncasecmp(ct, "application/json", 16);
}

int srv_route_find(srv_req *r, const char **allowed)
{
    static const char *const ALLOW[] = {"GET, HEAD", "POST", "GET, HEAD, POST"};
    int get = 0, post = 0, bad_id = 0;
    const char *method = strcmp(r->method, "HEAD") ? r->method : "GET";
    for (int i = 0; i < R_COUNT; i++) {
        int m = match(ROUTES[i].pattern, r->path, r);
        if (m < 0) bad_id = 1;
        if (m <= 0) continue;
        if (!strcmp(ROUTES[i].method, method))
            return i == R_JOB_SUBMIT && json_request(r) ? R_SETJOB_SUBMIT : i;
        if (!strcmp(ROUTES[i].method, "GET")) get = 1;
        if (!strcmp(ROUTES[i].method, "POST")) post = 1;
    }
    if (get || post) {
        *allowed = ALLOW[get && post ? 2 : post ? 1 : 0];
        return -2;
    }
    return bad_id ? -3 : -1;
}

/* ---- helpers -------------------------------------------------------------------------- */

static const char *arg(srv_req *r, const char *name)
{
    const char *v = MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, name);
    return v && *v ? v : NULL;
}

/* A non-negative integer query argument; -1 when malformed. */
static long long int_arg(srv_req *r, const char *name, long long dflt, long long max)
{
    const char *v = arg(r, name);
    if (!v) return dflt;
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*end || errno || n < 0) return -1;
    return n > max ? max : n;
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *roles_json(uint32_t roles, int labels)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < 32; i++) {
        br_role role;
        if ((roles & (UINT32_C(1) << i)) && !br_role_at(i, &role))
            json_array_append_new(a, json_string(labels ? role.label : role.code));
    }
    return a;
}

static json_t *job_summary(const br_job *j)
{
    const br_job_counters *k = &j->counters;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(j->id));
    json_object_set_new(o, "name", json_string(j->name));
    json_object_set_new(o, "type", json_string(j->type));
    json_object_set_new(o, "category", json_string(j->category));
    json_object_set_new(o, "status",
                        json_pack("{s:s,s:s}", "code", br_job_status_code(j->status), "label",
                                  br_job_status_label(j->status)));
    json_object_set_new(o, "submitted_by", str_or_null(j->eperson));
    json_object_set_new(o, "submitted", str_or_null(j->submitted));
    json_object_set_new(o, "started", str_or_null(j->started));
    json_object_set_new(o, "ended", str_or_null(j->ended));
    /* As the report (br_job_to_json): an unknown ETA and no phase are null. */
    const br_job_progress *p = &j->progress;
    json_object_set_new(o, "progress",
                        json_pack("{s:i,s:I,s:I,s:f,s:o,s:o}", "percent", p->percent, "done",
                                  (json_int_t)p->done, "total", (json_int_t)p->total, "rate",
                                  p->rate, "eta_seconds",
                                  p->eta_seconds >= 0 ? json_integer(p->eta_seconds) : json_null(),
                                  "phase", str_or_null(p->phase)));
    json_t *c = json_object();
    json_object_set_new(c, "processed", json_integer(k->processed));
    json_object_set_new(c, "imported", json_integer(k->imported));
    json_object_set_new(c, "updated", json_integer(k->updated));
    json_object_set_new(c, "deleted", json_integer(k->deleted));
    json_object_set_new(c, "not_imported", json_integer(k->not_imported));
    json_object_set_new(c, "invalid", json_integer(k->invalid));
    json_object_set_new(c, "failed", json_integer(k->failed));
    json_object_set_new(c, "skipped", json_integer(k->skipped));
    json_object_set_new(c, "valid", json_integer(k->valid));
    json_object_set_new(c, "exported", json_integer(k->exported));
    json_object_set_new(c, "bitstreams", json_integer(k->bitstreams));
    json_object_set_new(o, "counters", c);
    json_object_set_new(o, "failure", str_or_null(j->failure));
    json_object_set_new(o, "rerun_of", j->rerun_of ? json_integer(j->rerun_of) : json_null());
    json_object_set_new(o, "cancel_requested", json_boolean(j->cancel_requested));
    return o;
}

/* What every job object adds for set jobs and reverts: "set", the set a set job runs on
 * (null for other jobs), and "revertible" (br_job_revertible; false when it cannot be
 * told). */
static void job_set_fields(br_repo *repo, const br_job *j, json_t *o)
{
    json_t *p = json_loads(j->params, 0, NULL);
    const char *set = json_string_value(json_object_get(p, "set"));
    json_object_set_new(o, "set", set ? json_string(set) : json_null());
    json_decref(p);
    if (repo)
        json_object_set_new(o, "revertible",
                            json_boolean(br_job_revertible(repo, j->id, NULL) == 1));
}

/* Loads job r->job_id and checks the user may see it (run: may run its type).
 * Returns 0, or replied (1) with 404/403. */
static int load_job(srv_req *r, br_repo *repo, br_job *j, int run, enum MHD_Result *res)
{
    br_error err;
    if (br_job_get(repo, r->job_id, j, &err)) {
        *res = srv_reply_br(r, &err);
        return 1;
    }
    if (run) {
        br_job_type t;
        if (br_job_type_get(j->type, &t) || !br_job_type_allows(&t, r->who.roles)) {
            *res = srv_reply_error(r, MHD_HTTP_FORBIDDEN,
                                   "your roles do not allow running %s jobs (job %lld)", j->type,
                                   (long long)j->id);
            return 1;
        }
    } else if (!br_job_visible(j->type, r->who.roles)) {
        *res = srv_reply_error(r, MHD_HTTP_FORBIDDEN,
                               "your roles do not allow seeing %s jobs (job %lld)", j->type,
                               (long long)j->id);
        return 1;
    }
    return 0;
}

/* ---- authentication routes ------------------------------------------------------------- */

/* A password-hashing slot: 1 taken, 0 when too many logins already wait. */
static int login_slot_take(srv *s)
{
    pthread_mutex_lock(&s->login_mu);
    if (s->logins >= s->login_slots && s->logins_waiting >= SRV_LOGINS_WAITING) {
        pthread_mutex_unlock(&s->login_mu);
        return 0;
    }
    s->logins_waiting++;
    while (s->logins >= s->login_slots)
        pthread_cond_wait(&s->login_cv, &s->login_mu);
    s->logins_waiting--;
    s->logins++;
    pthread_mutex_unlock(&s->login_mu);
    return 1;
}

static void login_slot_put(srv *s)
{
    pthread_mutex_lock(&s->login_mu);
    s->logins--;
    pthread_cond_signal(&s->login_cv);
    pthread_mutex_unlock(&s->login_mu);
}

static enum MHD_Result too_many(srv_req *r, unsigned seconds)
{
    char ra[16];
    snprintf(ra, sizeof ra, "%u", seconds ? seconds : 1);
    struct MHD_Response *resp = srv_json_response(
        r, json_pack("{s:s,s:I}", "error", "too many login attempts: try again later",
                     "retry_after", (json_int_t)(seconds ? seconds : 1)));
    if (resp) MHD_add_response_header(resp, "Retry-After", ra);
    return srv_reply(r, MHD_HTTP_TOO_MANY_REQUESTS, resp);
}

/* POST /api/login: throttled (throttle.c), then the password is checked in a
 * hashing slot taken before any database connection, so a flood of logins
 * waits for slots without holding the connections other requests need. */
static enum MHD_Result login(srv_req *r)
{
    json_error_t je;
    json_t *body = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!body)
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "malformed JSON at line %d, column %d: %s",
                               je.line, je.column, je.text);
    const char *user = json_string_value(json_object_get(body, "username"));
    const char *pass = json_string_value(json_object_get(body, "password"));
    if (!json_is_object(body) || !user || !pass) {
        json_decref(body);
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "send {\"username\": \"...\", \"password\": \"...\"}");
    }
    srv *s = r->s;
    unsigned wait = srv_throttle_begin(s->throttle, user, r->address);
    if (wait) {
        json_decref(body);
        return too_many(r, wait);
    }
    if (!login_slot_take(s)) {
        /* Not counted against the account: nothing was checked. */
        srv_throttle_end(s->throttle, user, r->address, 1);
        json_decref(body);
        return too_many(r, 1);
    }
    char sid[BR_SECRET_SIZE];
    br_identity id;
    br_error err;
    int rc;
    br_repo *repo = srv_db_get(s, &err);
    if (!repo) {
        rc = err.code ? err.code : BR_ESTORE;
    } else {
        rc = br_auth_login(repo, user, pass, s->opt.session_ttl, sid, &id, &err);
        srv_db_put(s, repo);
    }
    login_slot_put(s);
    /* Only a wrong password or an unknown user counts as a failure. */
    srv_throttle_end(s->throttle, user, r->address, rc != BR_EAUTH);
    json_decref(body);
    if (rc) return srv_reply_br(r, &err); /* BR_EAUTH: 401, one message for both causes */
    char expires[32];
    time_t t = (time_t)id.expires;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(expires, sizeof expires, "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct MHD_Response *resp = srv_json_response(
        r, json_pack("{s:s,s:s,s:s,s:o,s:s}", "token", sid, "csrf", id.csrf, "username",
                     id.username, "roles", roles_json(id.roles, 0), "expires", expires));
    char cookie[256];
    snprintf(cookie, sizeof cookie, SRV_COOKIE "=%s%s; Max-Age=%lld", sid, srv_cookie_attrs(s),
             (long long)s->opt.session_ttl);
    if (resp) MHD_add_response_header(resp, "Set-Cookie", cookie);
    explicit_bzero(cookie, sizeof cookie);
    explicit_bzero(sid, sizeof sid);
    return srv_reply(r, MHD_HTTP_OK, resp);
}

static enum MHD_Result logout(srv_req *r, br_repo *repo)
{
    br_error err;
    if (r->who.is_session && br_auth_logout(repo, r->secret, &err)) return srv_reply_br(r, &err);
    struct MHD_Response *resp = srv_json_response(r, json_pack("{s:s}", "status", "ok"));
    char cookie[128];
    snprintf(cookie, sizeof cookie, SRV_COOKIE "=%s; Max-Age=0", srv_cookie_attrs(r->s));
    if (resp) MHD_add_response_header(resp, "Set-Cookie", cookie);
    return srv_reply(r, MHD_HTTP_OK, resp);
}

/* {"notify_jobs", "email"} of the user (api_exports.c). */
json_t *srv_me_extra(br_repo *repo, const char *username);

static enum MHD_Result me(srv_req *r)
{
    json_t *o = json_pack("{s:s,s:o,s:o,s:o}", "username", r->who.username, "roles",
                          roles_json(r->who.roles, 0), "role_labels", roles_json(r->who.roles, 1),
                          "csrf", str_or_null(r->who.csrf));
    /* notify_jobs and email (issue 17): the user's settings. */
    br_error err;
    br_repo *repo = srv_db_get(r->s, &err);
    if (o) json_object_update_new(o, srv_me_extra(repo, r->who.username));
    if (repo) srv_db_put(r->s, repo);
    return srv_reply_json(r, MHD_HTTP_OK, o);
}

typedef struct types_ctx {
    json_t *arr;
    uint32_t roles;
} types_ctx;

static int add_type(void *ctx, const br_job_type *t)
{
    types_ctx *c = ctx;
    if (!br_job_type_allows(t, c->roles)) return 0;
    json_t *o = json_pack("{s:s,s:s,s:s,s:b}", "type", t->type, "category", t->category, "label",
                          t->label, "implemented", t->implemented);
    /* The Run a Job page's columns and parameters (api_setjobs.c). */
    srv_job_type_fields(t, o);
    /* Imports and exports name their format (GET /api/formats describes it). */
    const br_format_info *f = br_format_by_job(t->type);
    if (f) json_object_set_new(o, "format", json_string(f->name));
    json_array_append_new(c->arr, o);
    return 0;
}

static json_t *str_or_null_static(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The format registry, for the web UI's upload form and for scripts. */
static enum MHD_Result formats(srv_req *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < br_format_count(); i++) {
        const br_format_info *f = br_format_at(i);
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(f->name));
        json_object_set_new(o, "label", json_string(f->label));
        json_object_set_new(o, "unit", json_string(f->unit));
        json_object_set_new(o, "extensions", json_string(f->extensions));
        json_object_set_new(o, "accept", json_string(f->upload_accept));
        json_object_set_new(o, "read", json_boolean(f->caps & BR_FORMAT_READ));
        json_object_set_new(o, "write", json_boolean(f->caps & BR_FORMAT_WRITE));
        json_object_set_new(o, "replace", json_boolean(f->caps & BR_FORMAT_REPLACE));
        json_object_set_new(o, "delete", json_boolean(f->caps & BR_FORMAT_DELETE));
        json_object_set_new(o, "unimported", json_string(f->extract_ext));
        json_object_set_new(o, "import_job", str_or_null_static(f->import_job));
        json_object_set_new(o, "validate_job", str_or_null_static(f->validate_job));
        json_object_set_new(o, "delete_job", str_or_null_static(f->delete_job));
        json_object_set_new(o, "export_job", str_or_null_static(f->export_job));
        json_array_append_new(arr, o);
    }
    return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "formats", arr));
}

static enum MHD_Result job_types(srv_req *r)
{
    types_ctx c = {json_array(), r->who.roles};
    br_job_type_list(add_type, &c);
    return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "job_types", c.arr));
}

/* ---- jobs ---------------------------------------------------------------------------------- */

/* A page of a listing (?offset=&limit=): every row counts in seen (the total),
 * the page's rows go into arr. */
typedef struct list_ctx {
    json_t *arr;
    uint32_t roles;
    long long offset, limit, seen;
} list_ctx;

/* Reads offset and limit (default dflt, at most max).  Returns 0, or replied
 * (1) with a 400 when they are malformed. */
static int page_init(srv_req *r, list_ctx *c, long long dflt, long long max, enum MHD_Result *res)
{
    c->offset = int_arg(r, "offset", 0, 1LL << 40);
    c->limit = int_arg(r, "limit", dflt, max);
    c->seen = 0;
    if (c->offset < 0 || c->limit < 0) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "offset and limit must be non-negative integers");
        return 1;
    }
    c->arr = json_array();
    return 0;
}

/* Counts a row; 1 when it belongs on the page. */
static int page_take(list_ctx *c)
{
    c->seen++;
    return c->seen > c->offset && (long long)json_array_size(c->arr) < c->limit;
}

static int add_job(void *ctx, const br_job *j)
{
    list_ctx *c = ctx;
    if (!br_job_visible(j->type, c->roles)) return 0;
    if (!page_take(c)) return 0;
    json_t *o = job_summary(j);
    job_set_fields(NULL, j, o); /* "revertible" once the query is done (jobs) */
    json_array_append_new(c->arr, o);
    return 0;
}

static enum MHD_Result jobs(srv_req *r, br_repo *repo)
{
    br_job_filter f = {0};
    f.status = arg(r, "status");
    f.category = arg(r, "category");
    f.user = arg(r, "user");
    f.since = arg(r, "since");
    f.type = arg(r, "type");
    br_job_status st;
    if (f.status && strcmp(f.status, "running") && strcmp(f.status, "ended") &&
        br_job_status_parse(f.status, &st))
        return srv_reply_error(
            r, MHD_HTTP_BAD_REQUEST,
            "status '%s' is not a status code (PENDING, RUNNING, ...), 'running' or 'ended'",
            f.status);
    if (f.category && strcmp(f.category, "import") && strcmp(f.category, "export") &&
        strcmp(f.category, "set") && strcmp(f.category, "revert"))
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "category must be import, export, set or revert");
    list_ctx c = {.roles = r->who.roles};
    enum MHD_Result res;
    if (page_init(r, &c, 500, 5000, &res)) return res;
    br_error err;
    if (br_job_query(repo, &f, add_job, &c, &err)) {
        json_decref(c.arr);
        return srv_reply_br(r, &err);
    }
    size_t i;
    json_t *o;
    json_array_foreach(c.arr, i, o)
    {
        int64_t id = (int64_t)json_integer_value(json_object_get(o, "id"));
        json_object_set_new(o, "revertible", json_boolean(br_job_revertible(repo, id, NULL) == 1));
    }
    return srv_reply_json(r, MHD_HTTP_OK,
                          json_pack("{s:o,s:I}", "jobs", c.arr, "total", (json_int_t)c.seen));
}

/* Absolute paths of the server's disk in a job's JSON: those in the
 * repository become relative to it, others (a CLI import's source folder)
 * their base names. */
static void no_server_paths(srv_req *r, json_t *j)
{
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) no_server_paths(r, v);
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) no_server_paths(r, v);
    } else if (json_is_string(j)) {
        const char *s = json_string_value(j);
        if (s[0] != '/' || strpbrk(s, " \t\n")) return;
        for (int i = 0; i < 2; i++) {
            size_t n = strlen(r->s->repo_json[i]);
            if (n > 1 && !strncmp(s, r->s->repo_json[i], n) && (s[n] == '/' || !s[n])) return;
        }
        const char *base = strrchr(s, '/') + 1;
        json_string_set(j, *base ? base : ".");
    }
}

static json_t *output_json(br_repo *repo, const br_job *j);

json_t *srv_job_json(srv_req *r, br_repo *repo, const br_job *j, br_error *err)
{
    char *text = NULL;
    if (br_job_to_json(repo, j->id, 0, &text, err)) return NULL;
    json_t *o = json_loads(text, JSON_DECODE_ANY, NULL);
    free(text);
    if (!o) {
        br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        return NULL;
    }
    no_server_paths(r, o);
    json_object_set_new(o, "output", output_json(repo, j));
    job_set_fields(repo, j, o);
    return o;
}

static enum MHD_Result job(srv_req *r, br_repo *repo)
{
    br_job j;
    enum MHD_Result res;
    if (load_job(r, repo, &j, 0, &res)) return res;
    br_error err;
    json_t *o = srv_job_json(r, repo, &j, &err);
    if (!o) return srv_reply_br(r, &err);
    return srv_reply_json(r, MHD_HTTP_OK, o); /* the repository's paths made relative */
}

static int add_event(void *ctx, const br_job_event *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(e->id));
    json_object_set_new(o, "at", str_or_null(e->at));
    json_object_set_new(o, "severity", str_or_null(e->severity));
    json_object_set_new(o, "status", str_or_null(e->status));
    json_object_set_new(o, "module", str_or_null(e->module));
    json_object_set_new(o, "creator", str_or_null(e->creator));
    json_object_set_new(o, "description", str_or_null(e->description));
    json_array_append_new(ctx, o);
    return 0;
}

static enum MHD_Result job_events(srv_req *r, br_repo *repo)
{
    br_job j;
    enum MHD_Result res;
    if (load_job(r, repo, &j, 0, &res)) return res;
    json_t *a = json_array();
    br_error err;
    if (br_job_events(repo, j.id, add_event, a, &err)) {
        json_decref(a);
        return srv_reply_br(r, &err);
    }
    return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "events", a));
}

static int add_record(void *ctx, const br_job_record *rec)
{
    list_ctx *c = ctx;
    if (!page_take(c)) return (long long)json_array_size(c->arr) >= c->limit; /* 1: page full */
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer(rec->seq));
    json_object_set_new(o, "key", json_string(rec->key ? rec->key : ""));
    json_object_set_new(o, "outcome", json_string(rec->outcome ? rec->outcome : ""));
    json_object_set_new(o, "handle", str_or_null(rec->handle));
    json_object_set_new(o, "message", str_or_null(rec->message));
    json_t *findings = json_array();
    for (size_t i = 0; i < rec->n_findings; i++)
        json_array_append_new(
            findings,
            json_pack("{s:o,s:s}", "line",
                      rec->findings[i].line ? json_integer(rec->findings[i].line) : json_null(),
                      "text", rec->findings[i].text));
    json_object_set_new(o, "findings", findings);
    json_object_set_new(o, "bitstreams", json_integer(rec->bitstreams));
    json_object_set_new(o, "bytes", json_integer(rec->bytes));
    json_array_append_new(c->arr, o);
    return 0;
}

static enum MHD_Result job_records(srv_req *r, br_repo *repo)
{
    static const char *const OUTCOMES[] = {
        BR_OUTCOME_IMPORTED,    BR_OUTCOME_UPDATED, BR_OUTCOME_DELETED,
        BR_OUTCOME_INVALID,     BR_OUTCOME_FAILED,  BR_OUTCOME_SKIPPED,
        BR_OUTCOME_MULTI_MATCH, BR_OUTCOME_VALID,   BR_OUTCOME_EXPORTED};
    const char *outcome = arg(r, "outcome");
    int known = !outcome;
    for (size_t i = 0; outcome && i < sizeof OUTCOMES / sizeof OUTCOMES[0]; i++)
        if (!strcmp(outcome, OUTCOMES[i])) known = 1;
    if (!known)
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "outcome '%s' is not one of imported, updated, deleted, invalid, "
                               "failed, skipped, multi-match, valid, exported",
                               outcome);
    br_job j;
    enum MHD_Result res;
    if (load_job(r, repo, &j, 0, &res)) return res;
    list_ctx c = {0};
    if (page_init(r, &c, 1000, 10000, &res)) return res;
    br_error err;
    if (br_job_records(repo, j.id, outcome, add_record, &c, &err)) {
        json_decref(c.arr);
        return srv_reply_br(r, &err);
    }
    return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "records", c.arr));
}

static enum MHD_Result job_unimported(srv_req *r, br_repo *repo)
{
    long long page = int_arg(r, "page", 1, 1LL << 30);
    if (page <= 0)
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "page must be a positive integer");
    br_job j;
    enum MHD_Result res;
    if (load_job(r, repo, &j, 0, &res)) return res;
    char dir[4200], path[4400];
    br_error err;
    if (br_repo_mktemp(repo, "unimported", dir, sizeof dir, &err)) return srv_reply_br(r, &err);
    snprintf(path, sizeof path, "%s/download", dir);
    br_unimported_options uo = {(size_t)page, 0};
    br_unimported_result ur;
    int rc = br_job_unimported(repo, j.id, &uo, path, &ur, &err);
    int fd = rc ? -1 : open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (!rc && (fd < 0 || fstat(fd, &st)))
        rc = br_error_set(&err, BR_EIO, path, 0, 0, "cannot read the download");
    /* The open descriptor keeps the bytes; nothing stays behind in tmp/. */
    unlink(path);
    rmdir(dir);
    if (rc) {
        if (fd >= 0) close(fd);
        if (rc == BR_ENOTFOUND)
            return srv_reply_error(r, MHD_HTTP_NOT_FOUND, "job %lld has no unimported records%s",
                                   (long long)j.id, page > 1 ? " on that page" : "");
        return srv_reply_br(r, &err);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    const br_format_info *f = br_format_by_job(j.type);
    char cd[160];
    if (page > 1)
        snprintf(cd, sizeof cd, "attachment; filename=\"job-%lld-unimported-p%lld.%s\"",
                 (long long)j.id, page, ur.format);
    else
        snprintf(cd, sizeof cd, "attachment; filename=\"job-%lld-unimported.%s\"", (long long)j.id,
                 ur.format);
    MHD_add_response_header(resp, "Content-Type", f ? f->extract_mime : "application/octet-stream");
    MHD_add_response_header(resp, "Content-Disposition", cd);
    char n[32];
    snprintf(n, sizeof n, "%zu", ur.total);
    MHD_add_response_header(resp, "X-Unimported-Total", n);
    snprintf(n, sizeof n, "%zu", ur.pages);
    MHD_add_response_header(resp, "X-Unimported-Pages", n);
    return srv_reply(r, MHD_HTTP_OK, resp);
}

/* ---- a job's output ---------------------------------------------------------------------- */

/* What an export wrote into the repository (<repo>/exports/<id>/), as one
 * download: the folder's only file as it is (an Esploro CSV without files, a
 * SAF export written with "zip"), else the whole folder zipped (a SAF package,
 * or the CSV with its .files folder, ready to import again). */
typedef struct output_info {
    char dir[4200];  /* the export folder */
    char file[4400]; /* its only file, "" when the folder is zipped */
    char name[300];  /* the download's name */
    const char *type;
    int64_t size; /* the single file's size, -1 when zipped */
} output_info;

/* 0 and o filled; BR_ENOTFOUND with why (a sentence) when the job has no
 * output the server serves (BR_ELIMIT: its path does not fit). */
static int output_find(br_repo *repo, const br_job *j, output_info *o, char *why, size_t size)
{
    memset(o, 0, sizeof *o);
    o->size = -1;
    if (strcmp(j->category, "export")) {
        snprintf(why, size,
                 "job %lld is not an export (an import's rejected records are at "
                 "/api/jobs/%lld/unimported)",
                 (long long)j->id, (long long)j->id);
        return BR_ENOTFOUND;
    }
    if (j->status != BR_JOB_COMPLETED_SUCCESS && j->status != BR_JOB_COMPLETED_WITH_ERRORS) {
        snprintf(why, size, "job %lld has no output: it %s", (long long)j->id,
                 br_job_status_ended(j->status) ? "did not complete" : "has not ended yet");
        return BR_ENOTFOUND;
    }
    json_t *p = json_loads(j->params, 0, NULL);
    int elsewhere = p && json_is_string(json_object_get(p, "dest"));
    json_decref(p);
    if (elsewhere) {
        snprintf(why, size,
                 "job %lld wrote its output to a folder given on the command line; the server "
                 "serves only exports into the repository",
                 (long long)j->id);
        return BR_ENOTFOUND;
    }
    snprintf(o->dir, sizeof o->dir, "%s/exports/%lld", br_repo_dir(repo), (long long)j->id);
    int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0) close(dfd);
        snprintf(why, size, "job %lld's output is no longer on the server", (long long)j->id);
        return BR_ENOTFOUND;
    }
    struct dirent *e;
    int n = 0, single_file = 0;
    char only[256] = "";
    struct stat st = {0};
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (++n > 1) break;
        snprintf(only, sizeof only, "%s", e->d_name);
        single_file = !fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode);
    }
    closedir(d);
    if (n == 0) {
        snprintf(why, size, "job %lld's output is empty", (long long)j->id);
        return BR_ENOTFOUND;
    }
    const char *ext = NULL;
    if (n == 1 && single_file) {
        int w = snprintf(o->file, sizeof o->file, "%s/%s", o->dir, only);
        if (w < 0 || (size_t)w >= sizeof o->file) {
            snprintf(why, size, "job %lld's output path is too long", (long long)j->id);
            return BR_ELIMIT;
        }
        o->size = (int64_t)st.st_size;
        ext = strrchr(only, '.');
        snprintf(o->name, sizeof o->name, "job-%lld-%s", (long long)j->id, only);
    } else {
        snprintf(o->name, sizeof o->name, "job-%lld-export.zip", (long long)j->id);
        ext = ".zip";
    }
    for (char *c = o->name; *c; c++)
        if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20) *c = '_';
    o->type = ext && !strcmp(ext, ".csv")   ? "text/csv; charset=utf-8"
              : ext && !strcmp(ext, ".zip") ? "application/zip"
                                            : "application/octet-stream";
    return 0;
}

/* The "output" object of a job's JSON: {"name", "type", "size", "url"} or null. */
static json_t *output_json(br_repo *repo, const br_job *j)
{
    output_info o;
    char why[512];
    if (output_find(repo, j, &o, why, sizeof why)) return json_null();
    char url[96];
    snprintf(url, sizeof url, "/api/jobs/%lld/output", (long long)j->id);
    return json_pack("{s:s,s:s,s:o,s:s}", "name", o.name, "type", o.type, "size",
                     o.size >= 0 ? json_integer(o.size) : json_null(), "url", url);
}

static enum MHD_Result job_output(srv_req *r, br_repo *repo)
{
    br_job j;
    enum MHD_Result res;
    if (load_job(r, repo, &j, 0, &res)) return res;
    if (!strcmp(j.category, "import")) return job_unimported(r, repo);
    output_info o;
    char why[512];
    if (output_find(repo, &j, &o, why, sizeof why))
        return srv_reply_error(r, MHD_HTTP_NOT_FOUND, "%s", why);
    int fd = -1;
    br_error err;
    if (o.file[0]) {
        fd = open(o.file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    } else {
        /* Zipped into the repository's tmp/, streamed from the open descriptor. */
        char dir[4200], path[4600];
        if (br_repo_mktemp(repo, "output", dir, sizeof dir, &err)) return srv_reply_br(r, &err);
        snprintf(path, sizeof path, "%s/%s", dir, o.name);
        if (br_zip_create(o.dir, path, &err)) {
            unlink(path);
            rmdir(dir);
            return srv_reply_br(r, &err);
        }
        fd = open(path, O_RDONLY | O_CLOEXEC);
        unlink(path);
        rmdir(dir);
    }
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        if (fd >= 0) close(fd);
        return srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read job %lld's output",
                               (long long)j.id);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    char cd[400];
    snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", o.name);
    MHD_add_response_header(resp, "Content-Type", o.type);
    MHD_add_response_header(resp, "Content-Disposition", cd);
    return srv_reply(r, MHD_HTTP_OK, resp);
}

/* Library errors of rerun/cancel/resume that mean "not in this state". */
static enum MHD_Result reply_state(srv_req *r, const br_error *err)
{
    if (err->code == BR_EUSAGE || err->code == BR_EINVAL)
        return srv_reply_error(r, MHD_HTTP_CONFLICT, "%s", err->message);
    return srv_reply_br(r, err);
}

static enum MHD_Result job_action(srv_req *r, br_repo *repo)
{
    br_job j;
    enum MHD_Result res;
    if (load_job(r, repo, &j, 1, &res)) return res;
    br_error err;
    if (r->route == R_JOB_RERUN) {
        int64_t id = 0;
        if (br_job_rerun(repo, j.id, &id, &err)) return reply_state(r, &err);
        br_engine_wake(r->s->engine);
        return srv_reply_json(r, MHD_HTTP_CREATED, json_pack("{s:I}", "id", (json_int_t)id));
    }
    if (r->route == R_JOB_RESUME) {
        if (br_job_resume(repo, j.id, &err)) return reply_state(r, &err);
        br_engine_wake(r->s->engine);
        return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:I}", "id", (json_int_t)j.id));
    }
    if (br_job_cancel(repo, j.id, &err)) return reply_state(r, &err);
    if (br_job_get(repo, j.id, &j, &err)) return srv_reply_br(r, &err);
    return srv_reply_json(r, MHD_HTTP_OK,
                          json_pack("{s:I,s:{s:s,s:s},s:b}", "id", (json_int_t)j.id, "status",
                                    "code", br_job_status_code(j.status), "label",
                                    br_job_status_label(j.status), "cancel_requested",
                                    j.cancel_requested));
}

/* ---- items and collections ----------------------------------------------------------------- */

static int add_item(void *ctx, const br_item_summary *s)
{
    list_ctx *c = ctx;
    if (!br_item_readable(s->status, c->roles)) return 0; /* drafts: not counted either */
    if (!page_take(c)) return 0;                          /* counted for the total */
    json_t *o = json_object();
    json_object_set_new(o, "handle", str_or_null(s->handle));
    json_object_set_new(o, "uuid", str_or_null(s->uuid));
    json_object_set_new(o, "status", str_or_null(s->status));
    json_object_set_new(o, "title", str_or_null(s->title));
    json_object_set_new(o, "collection", str_or_null(s->owning_collection));
    json_object_set_new(o, "modified", str_or_null(s->modified));
    json_array_append_new(c->arr, o);
    return 0;
}

/* 403 unless the user's roles may read `what` (data/read_access.tsv). */
static int may_read(srv_req *r, const char *what, enum MHD_Result *res)
{
    if (br_read_allowed(what, r->who.roles)) return 1;
    *res = srv_reply_error(r, MHD_HTTP_FORBIDDEN, "your roles do not allow reading %s", what);
    return 0;
}

static enum MHD_Result items(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!may_read(r, "items", &res)) return res;
    if (arg(r, "q")) return srv_api_search(r, repo); /* api_search.c */
    br_item_query q = {0};
    q.collection = arg(r, "collection");
    br_error err;
    if (arg(r, "job")) {
        long long id = int_arg(r, "job", 0, 1LL << 62);
        if (id <= 0)
            return srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "job must be a positive integer");
        r->job_id = id;
        br_job j;
        if (load_job(r, repo, &j, 0, &res)) return res;
        q.job_id = id;
    }
    if (q.collection) {
        br_container k;
        if (br_container_get(repo, q.collection, &k, &err)) return srv_reply_br(r, &err);
    }
    list_ctx c = {.roles = r->who.roles};
    if (page_init(r, &c, 100, 5000, &res)) return res;
    if (br_item_list(repo, &q, add_item, &c, &err)) {
        json_decref(c.arr);
        return srv_reply_br(r, &err);
    }
    return srv_reply_json(r, MHD_HTTP_OK,
                          json_pack("{s:o,s:I}", "items", c.arr, "total", (json_int_t)c.seen));
}

static enum MHD_Result item(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!may_read(r, "items", &res)) return res;
    br_error err;
    int64_t id;
    if (br_item_find(repo, r->handle, &id, &err)) return srv_reply_br(r, &err);
    br_record *rec = br_record_new();
    if (!rec) return MHD_NO;
    char *text = NULL;
    int rc = br_item_load(repo, id, rec, &err);
    int readable = rc || br_item_readable(rec->status, r->who.roles);
    if (!rc && readable) rc = br_record_to_json(rec, &text, &err);
    br_record_free(rec);
    if (rc) return srv_reply_br(r, &err);
    if (!readable)
        return srv_reply_error(r, MHD_HTTP_FORBIDDEN,
                               "your roles do not allow reading items that are not archived");
    return srv_item_reply(r, repo, id, text); /* with its jobs (api_search.c) */
}

static int add_container(void *ctx, const br_container *k)
{
    json_t *o = json_object();
    json_object_set_new(o, "handle", json_string(k->handle));
    json_object_set_new(o, "name", json_string(k->name));
    json_object_set_new(o, "type", json_string(k->is_community ? "community" : "collection"));
    json_object_set_new(o, "parent", str_or_null(k->parent));
    json_object_set_new(o, "items", json_integer(k->n_items));
    json_array_append_new(ctx, o);
    return 0;
}

static enum MHD_Result collections(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!may_read(r, "collections", &res)) return res;
    json_t *a = json_array();
    br_error err;
    if (br_container_list(repo, add_container, a, &err)) {
        json_decref(a);
        return srv_reply_br(r, &err);
    }
    return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "collections", a));
}

/* ---- health ------------------------------------------------------------------------------------
 */

/* The server's real state: a database connection within 2 s that answers a
 * query, and the engine running.  503 when either is not so. */
static enum MHD_Result health(srv_req *r)
{
    br_error err;
    const char *db = "ok";
    br_repo *repo = srv_db_get_timed(r->s, 2000, &err);
    if (!repo)
        db = "unreachable";
    else if (br_item_count(repo) < 0)
        db = "failing";
    srv_db_put(r->s, repo);
    /* Workers alive, not just configured: one that could not open the
     * repository or ended makes the server unhealthy. */
    unsigned alive = 0, workers = 0;
    if (r->s->engine) br_engine_alive(r->s->engine, &alive, &workers);
    const char *engine = !r->s->engine ? "stopped" : alive < workers ? "degraded" : "running";
    int ok = !strcmp(db, "ok") && r->s->engine && alive == workers;
    return srv_reply_json(r, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                          json_pack("{s:s,s:s,s:s,s:i,s:i}", "status", ok ? "ok" : "unavailable",
                                    "database", db, "engine", engine, "workers", (int)workers,
                                    "workers_alive", (int)alive));
}

/* ---- dispatch -------------------------------------------------------------------------------- */

enum MHD_Result srv_api_dispatch(srv_req *r)
{
    if (r->route == R_HEALTH) return health(r);
    if (r->route == R_LOGIN) return login(r);
    if (r->route == R_ME) return me(r);
    if (r->route == R_JOB_TYPES) return job_types(r);
    if (r->route == R_FORMATS) return formats(r);
    if (r->route == R_JOB_SUBMIT) return srv_upload_submit(r);
    br_error err;
    br_repo *repo = srv_db_get(r->s, &err);
    if (!repo) return srv_reply_br(r, &err);
    enum MHD_Result res;
    switch ((route_id)r->route) {
    case R_LOGOUT:
        res = logout(r, repo);
        break;
    case R_JOBS:
        res = jobs(r, repo);
        break;
    case R_JOB:
        res = job(r, repo);
        break;
    case R_JOB_EVENTS:
        res = job_events(r, repo);
        break;
    case R_JOB_RECORDS:
        res = job_records(r, repo);
        break;
    case R_JOB_UNIMPORTED:
        res = job_unimported(r, repo);
        break;
    case R_JOB_OUTPUT:
        res = job_output(r, repo);
        break;
    case R_JOB_RERUN:
    case R_JOB_CANCEL:
    case R_JOB_RESUME:
        res = job_action(r, repo);
        break;
    case R_ITEMS:
        res = items(r, repo);
        break;
    case R_ITEM_FILE:
        res = srv_api_item_file(r, repo);
        break;
    case R_ITEM:
        res = item(r, repo);
        break;
    case R_COLLECTIONS:
        res = collections(r, repo);
        break;
    case R_SETS:
        res = srv_sets_list(r, repo);
        break;
    case R_SET_CREATE:
        res = srv_sets_create(r, repo);
        break;
    case R_SET:
        res = srv_sets_get(r, repo);
        break;
    case R_SET_MEMBERS:
        res = srv_sets_members(r, repo);
        break;
    case R_SET_DELETE:
        res = srv_sets_delete(r, repo);
        break;
    case R_SETJOB_SUBMIT:
        res = srv_setjobs_submit(r, repo);
        break;
    case R_SETJOB_PREVIEW:
        res = srv_setjobs_preview(r, repo);
        break;
    case R_JOB_REVERT:
        res = srv_setjobs_revert(r, repo);
        break;
    case R_TRASH:
        res = srv_trash_list(r, repo);
        break;
    case R_TRASH_RESTORE:
        res = srv_trash_restore(r, repo);
        break;
    case R_FTP_LIST:
        res = srv_ftp_list(r, repo);
        break;
    case R_FTP_ADD:
        res = srv_ftp_add(r, repo);
        break;
    case R_FTP_TEST:
        res = srv_ftp_test(r, repo);
        break;
    case R_FTP_DELETE:
        res = srv_ftp_delete(r, repo);
        break;
    case R_PROFILES:
        res = srv_profiles_list(r, repo);
        break;
    case R_PROFILE:
        res = srv_profiles_get(r, repo);
        break;
    case R_PROFILE_RUN:
        res = srv_profiles_run(r, repo);
        break;
    case R_ME_SETTINGS:
        res = srv_me_settings(r, repo);
        break;
    case R_EXPORTS:
        res = srv_exports_list(r, repo);
        break;
    case R_EXPORT_FILE:
        res = srv_exports_file(r, repo);
        break;
    default:
        res = srv_reply_error(r, MHD_HTTP_NOT_FOUND, "no such route");
        break;
    }
    srv_db_put(r->s, repo);
    return res;
}
