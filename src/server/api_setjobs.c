/* The REST API's set jobs, reverts and the trash (docs/api.md "Set jobs, revert and the
 * trash"; docs/sets.md "Jobs on sets").
 *
 *   POST /api/jobs (JSON)          a set job {"type","set","params","name"}, or a revert
 *                                  {"type":"revert","params":{"job":ID,"force":bool}}
 *   POST /api/jobs/preview         a set job's dry run: what it would change, first 100
 *   POST /api/jobs/ID/revert       a revert's dry run, or the revert queued
 *   GET  /api/trash                the deleted assets that can be restored
 *   POST /api/trash/KEY/restore    one of them back (KEY: UUID or handle, r->handle)
 *
 * Roles: a job is queued (or previewed) only when the user's roles may run its type
 * (data/job_types.tsv), checked before anything is written; a revert needs the roles of the
 * "revert" type and to see the job it reverts; the trash is read like items
 * (data/read_access.tsv) and restored with the roles of Delete Set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "http.h"

/* Records a dry run lists: a set job's first members, a revert's first records. */
#define PREVIEW_MAX 100
#define REVERT_MAX  1000

/* ---- helpers -------------------------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The request's JSON object body ({} when empty), or NULL with a 400 replied. */
static json_t *body_object(srv_req *r, enum MHD_Result *res)
{
    if (!r->body_len) return json_object();
    json_error_t je;
    json_t *b = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!b) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "malformed JSON at line %d, column %d: %s",
                               je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(b)) {
        json_decref(b);
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "send a JSON object");
        return NULL;
    }
    return b;
}

/* Replies 400 naming the first key of o that is not in keys (" a b c "); 1 when it did. */
static int unknown_key(srv_req *r, json_t *o, const char *keys, enum MHD_Result *res)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        char probe[80];
        snprintf(probe, sizeof probe, " %s ", k);
        if (strlen(k) > 60 || !strstr(keys, probe)) {
            *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "unknown key \"%.60s\" (this takes:%s)",
                                   k, keys);
            return 1;
        }
    }
    return 0;
}

/* 1 when the user's roles may run jobs of type t, else replied 403. */
static int may_run(srv_req *r, const br_job_type *t, enum MHD_Result *res)
{
    if (br_job_type_allows(t, r->who.roles)) return 1;
    *res =
        srv_reply_error(r, MHD_HTTP_FORBIDDEN, "your roles do not allow running %s jobs", t->type);
    return 0;
}

/* A parameter as JSON: the library's shape (br_job_param_json), shared with the CLI. */
static json_t *param_json(const br_job_param *p)
{
    char *text = NULL;
    int rc = br_job_param_json(p, &text, NULL);
    json_t *o = srv_json_of(rc, text);
    return o ? o : json_null();
}

static int add_param(void *ctx, const br_job_param *p)
{
    json_array_append_new(ctx, param_json(p));
    return 0;
}

void srv_job_type_fields(const br_job_type *t, json_t *o)
{
    json_t *params = json_array();
    br_job_param_list(t->type, add_param, params);
    json_object_set_new(o, "description", json_string(t->description));
    json_object_set_new(o, "content", t->content[0] ? json_string(t->content) : json_null());
    json_object_set_new(o, "params", params);
}

/* Replies 201 {"job": ...} for a job just queued. */
static enum MHD_Result reply_job(srv_req *r, br_repo *repo, int64_t id)
{
    br_job j;
    br_error err;
    json_t *o = NULL;
    if (br_job_get(repo, id, &j, &err) || !(o = srv_job_json(r, repo, &j, &err)))
        return srv_reply_br(r, &err);
    return srv_reply_json(r, MHD_HTTP_CREATED, json_pack("{s:o}", "job", o));
}

/* Queues a job of the user's; replies 201 with it, or the error. */
static enum MHD_Result submit(srv_req *r, br_repo *repo, const char *type, const char *name,
                              const char *params)
{
    br_job_spec spec = {0};
    spec.type = type;
    spec.name = name && *name ? name : NULL;
    spec.eperson = r->who.username;
    spec.params = params;
    int64_t id = 0;
    br_error err;
    if (br_job_submit(repo, &spec, &id, &err)) {
        /* A revert of a job that has not ended or changed nothing: the job's state. */
        if (!strcmp(type, "revert") && err.code == BR_EUSAGE)
            return srv_reply_error(r, MHD_HTTP_CONFLICT, "%s", err.message);
        return srv_reply_br(r, &err);
    }
    br_engine_wake(r->s->engine);
    return reply_job(r, repo, id);
}

/* Loads the job r->job_id, which the user must see: 0, or replied (1) with 404/403. */
static int visible_job(srv_req *r, br_repo *repo, br_job *j, enum MHD_Result *res)
{
    br_error err;
    if (br_job_get(repo, r->job_id, j, &err)) {
        *res = srv_reply_br(r, &err);
        return 1;
    }
    if (br_job_visible(j->type, r->who.roles)) return 0;
    *res =
        srv_reply_error(r, MHD_HTTP_FORBIDDEN, "your roles do not allow seeing %s jobs (job %lld)",
                        j->type, (long long)j->id);
    return 1;
}

/* ---- set jobs ------------------------------------------------------------------------------- */

/* The set job a body describes ({"type","set","params"[,"name"]}): its type (t) and its
 * parameters as the engine takes them ({"set": NAME, ...}, text in *params, malloc'd),
 * checked with br_set_job_check.  0, or replied (1): 400 for a malformed body, a type that
 * is not a set job or a bad parameter (named), 403 for a type the user may not run, 404 for
 * an unknown set. */
static int set_job_of(srv_req *r, br_repo *repo, json_t *b, br_job_type *t, char **params,
                      enum MHD_Result *res)
{
    *params = NULL;
    const char *type = json_string_value(json_object_get(b, "type"));
    json_t *set = json_object_get(b, "set"), *p = json_object_get(b, "params");
    if (!type) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "give the job's \"type\" (GET /api/job-types lists them)");
        return 1;
    }
    if (br_job_type_get(type, t)) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "'%s' is not a job type (GET /api/job-types lists them)", type);
        return 1;
    }
    if (!br_job_type_on_set(type)) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "%s does not run on a set (imports are uploaded: POST /api/jobs "
                               "with multipart/form-data; a revert is POST /api/jobs/ID/revert)",
                               type);
        return 1;
    }
    if (!may_run(r, t, res)) return 1;
    if (set && !json_is_string(set)) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "\"set\" is the set's name (a string)");
        return 1;
    }
    if (p && !json_is_null(p) && !json_is_object(p)) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "\"params\" is an object of the job's parameters");
        return 1;
    }
    if (json_object_get(p, "set")) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "the set is given as \"set\" beside \"params\", not in them");
        return 1;
    }
    json_t *all = json_is_object(p) ? json_deep_copy(p) : json_object();
    if (set) json_object_set(all, "set", set);
    *params = json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(all);
    br_error err;
    if (!*params) {
        *res = srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return 1;
    }
    if (br_set_job_check(repo, type, *params, &err)) {
        free(*params);
        *params = NULL;
        *res = srv_reply_br(r, &err); /* 400 naming the parameter, 404 for an unknown set */
        return 1;
    }
    return 0;
}

/* {"type":"revert","params":{"job":ID,"force":bool}}: the parameters, checked; 0 or replied. */
static int revert_of(srv_req *r, br_repo *repo, json_t *b, char **params, enum MHD_Result *res)
{
    *params = NULL;
    json_t *p = json_object_get(b, "params");
    if (json_object_get(b, "set")) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "a revert takes no set");
        return 1;
    }
    if (!json_is_object(p)) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "a revert needs \"params\": {\"job\": ID, \"force\": false}");
        return 1;
    }
    if (unknown_key(r, p, " job force ", res)) return 1;
    json_t *job = json_object_get(p, "job"), *force = json_object_get(p, "force");
    if (!json_is_integer(job) || json_integer_value(job) <= 0) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "job: the job to revert is a positive integer (its id)");
        return 1;
    }
    if (force && !json_is_boolean(force)) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "force: true or false");
        return 1;
    }
    r->job_id = (int64_t)json_integer_value(job);
    br_job target;
    if (visible_job(r, repo, &target, res)) return 1;
    *params = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!*params) {
        *res = srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return 1;
    }
    return 0;
}

enum MHD_Result srv_setjobs_submit(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    json_t *b = body_object(r, &res);
    if (!b) return res;
    char *params = NULL;
    const char *type = json_string_value(json_object_get(b, "type"));
    json_t *name = json_object_get(b, "name");
    br_job_type t;
    if (unknown_key(r, b, " type set params name ", &res)) goto done;
    if (name && !json_is_null(name) && !json_is_string(name)) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "\"name\" is the job's name (a string)");
        goto done;
    }
    if (type && !strcmp(type, "revert")) {
        if (br_job_type_get(type, &t)) {
            res = srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "no revert job type");
            goto done;
        }
        if (!may_run(r, &t, &res) || revert_of(r, repo, b, &params, &res)) goto done;
    } else if (set_job_of(r, repo, b, &t, &params, &res)) {
        goto done;
    }
    res = submit(r, repo, t.type, json_string_value(name), params);
done:
    free(params);
    json_decref(b);
    return res;
}

typedef struct preview_ctx {
    json_t *arr;
    int64_t shown;
} preview_ctx;

static int add_preview(void *ctx, const br_preview *p)
{
    preview_ctx *c = ctx;
    c->shown++;
    json_t *changes = json_array();
    for (size_t i = 0; i < p->n_changes; i++)
        json_array_append_new(changes, json_pack("{s:s,s:o,s:o}", "field", p->changes[i].field,
                                                 "old", str_or_null(p->changes[i].old_value), "new",
                                                 str_or_null(p->changes[i].new_value)));
    json_array_append_new(c->arr, json_pack("{s:o,s:o,s:o,s:o}", "handle", str_or_null(p->handle),
                                            "title", str_or_null(p->title), "changes", changes,
                                            "skip", str_or_null(p->skip)));
    return 0;
}

enum MHD_Result srv_setjobs_preview(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    json_t *b = body_object(r, &res);
    if (!b) return res;
    char *params = NULL;
    br_job_type t;
    preview_ctx c = {NULL, 0};
    if (unknown_key(r, b, " type set params name ", &res) ||
        set_job_of(r, repo, b, &t, &params, &res))
        goto done;
    br_error err;
    int64_t members = 0;
    c.arr = json_array();
    if (br_set_job_preview(repo, t.type, params, PREVIEW_MAX, add_preview, &c, &members, &err)) {
        res = srv_reply_br(r, &err);
        goto done;
    }
    res = srv_reply_json(r, MHD_HTTP_OK,
                         json_pack("{s:I,s:O,s:b}", "members", (json_int_t)members, "changes",
                                   c.arr, "truncated", c.shown < members));
done:
    json_decref(c.arr);
    free(params);
    json_decref(b);
    return res;
}

/* ---- revert --------------------------------------------------------------------------------- */

static int add_revert_line(void *ctx, const br_revert_line *l)
{
    if (json_array_size(ctx) < REVERT_MAX)
        json_array_append_new(ctx, json_pack("{s:o,s:s,s:s,s:b}", "handle", str_or_null(l->handle),
                                             "uuid", l->uuid, "action", l->action, "conflict",
                                             l->conflict));
    return 0;
}

enum MHD_Result srv_setjobs_revert(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    br_job_type t;
    br_job j;
    if (br_job_type_get("revert", &t))
        return srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "no revert job type");
    if (!may_run(r, &t, &res)) return res;
    if (visible_job(r, repo, &j, &res)) return res;
    json_t *b = body_object(r, &res);
    if (!b) return res;
    json_t *dry = json_object_get(b, "dry_run"), *force = json_object_get(b, "force");
    if (unknown_key(r, b, " dry_run force ", &res)) goto done;
    if ((dry && !json_is_boolean(dry)) || (force && !json_is_boolean(force))) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "dry_run and force are true or false");
        goto done;
    }
    br_error err;
    if (json_is_true(dry)) {
        json_t *a = json_array();
        int64_t total = 0, conflicts = 0;
        if (br_revert_preview(repo, j.id, add_revert_line, a, &total, &conflicts, &err)) {
            json_decref(a);
            res = err.code == BR_EUSAGE ? srv_reply_error(r, MHD_HTTP_CONFLICT, "%s", err.message)
                                        : srv_reply_br(r, &err);
            goto done;
        }
        res = srv_reply_json(r, MHD_HTTP_OK,
                             json_pack("{s:o,s:I,s:I}", "records", a, "total", (json_int_t)total,
                                       "conflicts", (json_int_t)conflicts));
        goto done;
    }
    char params[96];
    snprintf(params, sizeof params, "{\"job\":%lld,\"force\":%s}", (long long)j.id,
             json_is_true(force) ? "true" : "false");
    res = submit(r, repo, "revert", NULL, params);
done:
    json_decref(b);
    return res;
}

/* ---- the trash ------------------------------------------------------------------------------ */

typedef struct trash_ctx {
    json_t *arr;
    long long offset, limit, seen;
} trash_ctx;

static void iso(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "%lld", (long long)t);
}

static int add_trash(void *ctx, const br_trash_entry *e)
{
    trash_ctx *c = ctx;
    if (++c->seen <= c->offset || (long long)json_array_size(c->arr) >= c->limit) return 0;
    char purge[32];
    iso(e->purge_after, purge);
    json_array_append_new(c->arr, json_pack("{s:s,s:o,s:o,s:s,s:o,s:s}", "uuid", e->uuid, "handle",
                                            str_or_null(e->handle), "title", str_or_null(e->title),
                                            "deleted", e->deleted, "job_id",
                                            e->job_id ? json_integer(e->job_id) : json_null(),
                                            "purge_after", purge));
    return 0;
}

/* A non-negative integer query argument (dflt when absent, capped at max); -1 malformed. */
static long long int_arg(srv_req *r, const char *name, long long dflt, long long max)
{
    const char *v = MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, name);
    if (!v || !*v) return dflt;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*end || n < 0) return -1;
    return n > max ? max : n;
}

enum MHD_Result srv_trash_list(srv_req *r, br_repo *repo)
{
    if (!br_read_allowed("items", r->who.roles))
        return srv_reply_error(r, MHD_HTTP_FORBIDDEN, "your roles do not allow reading items");
    trash_ctx c = {NULL, int_arg(r, "offset", 0, 1LL << 40), int_arg(r, "limit", 500, 5000), 0};
    if (c.offset < 0 || c.limit < 0)
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "offset and limit must be non-negative integers");
    c.arr = json_array();
    br_error err;
    if (br_trash_list(repo, add_trash, &c, &err)) {
        json_decref(c.arr);
        return srv_reply_br(r, &err);
    }
    return srv_reply_json(r, MHD_HTTP_OK,
                          json_pack("{s:o,s:I}", "items", c.arr, "total", (json_int_t)c.seen));
}

enum MHD_Result srv_trash_restore(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    br_job_type t;
    if (br_job_type_get("delete-set", &t) || !br_job_type_allows(&t, r->who.roles))
        return srv_reply_error(r, MHD_HTTP_FORBIDDEN,
                               "your roles do not allow restoring deleted assets (those of "
                               "delete-set jobs do)");
    br_error err;
    char handle[64] = "";
    if (br_item_restore(repo, r->handle, handle, &err)) return srv_reply_br(r, &err);
    /* 404: not in the trash; 409: its handle or UUID is in use again. */
    int64_t id;
    br_record *rec = br_record_new();
    if (!rec) return srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    if (br_item_find(repo, handle[0] ? handle : r->handle, &id, &err) ||
        br_item_load(repo, id, rec, &err))
        res = srv_reply_br(r, &err);
    else
        res = srv_reply_json(r, MHD_HTTP_OK,
                             json_pack("{s:{s:o,s:s,s:s,s:o}}", "item", "handle",
                                       str_or_null(rec->handle), "uuid", rec->uuid, "status",
                                       rec->status, "title",
                                       str_or_null(br_record_first(rec, "dc.title"))));
    br_record_free(rec);
    return res;
}
