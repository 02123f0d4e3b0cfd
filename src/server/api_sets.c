/* The REST API's sets (docs/sets.md, docs/api.md "Sets"): the records a set job runs on.
 * Reading needs the roles of data/read_access.tsv's "sets" row, changing them those of its
 * "sets-manage" row (seed 001: the roles that reach the Run a Job page).  The set name is
 * the path segment(s) after /api/sets/, percent-decoded by libmicrohttpd (r->handle). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http.h"

/* At most this many unknown members are listed in a refusal (the message counts all). */
#define UNKNOWN_LISTED 100
/* Members GET /api/sets/NAME shows. */
#define SAMPLE 20

/* 1 when the user's roles allow `what` ("sets" or "sets-manage"), else replied 403. */
static int allowed(srv_req *r, const char *what, enum MHD_Result *res)
{
    if (br_read_allowed(what, r->who.roles)) return 1;
    *res = srv_reply_error(r, MHD_HTTP_FORBIDDEN, "your roles do not allow %s",
                           strcmp(what, "sets") ? "changing sets" : "reading sets");
    return 0;
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* The set's JSON (the library's one shape, br_set_to_json); members: its count. */
static json_t *set_json(const br_set *s, int64_t members)
{
    char *text = NULL;
    int rc = br_set_to_json(s, members, &text, NULL);
    json_t *o = srv_json_of(rc, text);
    return o ? o : json_null();
}

/* The set's JSON with its member count (a logical set evaluated now): NULL and err. */
static json_t *set_json_named(br_repo *repo, const char *name, br_error *err)
{
    br_set s;
    int64_t n = 0;
    if (br_set_get(repo, name, &s, err) || br_set_count(repo, name, &n, err)) return NULL;
    return set_json(&s, n);
}

/* The request's JSON object body, or NULL with a 400 replied. */
static json_t *body_object(srv_req *r, enum MHD_Result *res)
{
    json_error_t je;
    json_t *b = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &je);
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

/* The first key of o not in keys (a space-separated list with spaces around), or NULL. */
static const char *unknown_key(json_t *o, const char *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        char probe[80];
        snprintf(probe, sizeof probe, " %s ", k);
        if (strlen(k) > 60 || !strstr(keys, probe)) return k;
    }
    return NULL;
}

/* o[key] as an array of strings: its strings in a malloc'd array (*n of them; NULL and
 * *n = 0 when the key is absent), or -1 with a 400 replied. */
static int string_array(srv_req *r, json_t *o, const char *key, const char ***out, size_t *n,
                        enum MHD_Result *res)
{
    *out = NULL;
    *n = 0;
    json_t *a = json_object_get(o, key);
    if (!a) return 0;
    if (!json_is_array(a)) {
        *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "%s must be an array of strings", key);
        return -1;
    }
    size_t count = json_array_size(a), i;
    const char **v = calloc(count ? count : 1, sizeof *v);
    if (!v) {
        *res = srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        return -1;
    }
    json_t *e;
    json_array_foreach(a, i, e)
    {
        if (!json_is_string(e)) {
            free(v);
            *res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                   "%s[%zu] must be a string (a handle, UUID, user name or "
                                   "researcher id)",
                                   key, i);
            return -1;
        }
        v[i] = json_string_value(e);
    }
    *out = v;
    *n = count;
    return 0;
}

/* Replies to a refused add: 400 with the library's message and, for unknown members,
 * the list of them (at most UNKNOWN_LISTED) so that a client can show each. */
static enum MHD_Result add_refused(srv_req *r, br_repo *repo, const char *name,
                                   const char *const *members, size_t n, const br_error *err)
{
    if (err->code != BR_EINVAL || !members) return srv_reply_br(r, err);
    br_set s;
    br_error e;
    json_t *list = json_array();
    size_t total = 0;
    if (!br_set_get(repo, name, &s, &e))
        for (size_t i = 0; i < n; i++) {
            int rc = br_set_member_check(repo, s.content, members[i], &e);
            if (rc != BR_ENOTFOUND && rc != BR_EINVAL) continue;
            if (total++ < UNKNOWN_LISTED)
                json_array_append_new(list,
                                      json_pack("{s:s,s:I,s:s}", "member", members[i], "position",
                                                (json_int_t)(i + 1), "why", e.message));
        }
    char msg[2048];
    br_error_format(err, msg, sizeof msg);
    return srv_reply_json(r, MHD_HTTP_BAD_REQUEST,
                          json_pack("{s:s,s:o,s:I}", "error", msg, "unknown", list, "unknown_total",
                                    (json_int_t)total));
}

/* ---- GET /api/sets ------------------------------------------------------------------------- */

typedef struct list_ctx {
    br_repo *repo;
    json_t *arr;
    br_error err;
    int rc;
} list_ctx;

static int add_set(void *ctx, const br_set *s)
{
    list_ctx *c = ctx;
    int64_t n = s->members;
    if (n < 0 && (c->rc = br_set_count(c->repo, s->name, &n, &c->err))) return 1;
    json_array_append_new(c->arr, set_json(s, n));
    return 0;
}

enum MHD_Result srv_sets_list(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, "sets", &res)) return res;
    list_ctx c = {repo, json_array(), {0}, 0};
    br_error err;
    int rc = br_set_list(repo, add_set, &c, &err);
    if (rc || c.rc) {
        json_decref(c.arr);
        return srv_reply_br(r, rc ? &err : &c.err);
    }
    return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "sets", c.arr));
}

/* ---- POST /api/sets ------------------------------------------------------------------------ */

enum MHD_Result srv_sets_create(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, "sets-manage", &res)) return res;
    json_t *b = body_object(r, &res);
    if (!b) return res;
    const char **members = NULL;
    size_t n = 0;
    br_set s;
    memset(&s, 0, sizeof s);
    const char *bad = unknown_key(b, " name content note query members from_job outcome ");
    json_t *name = json_object_get(b, "name"), *content = json_object_get(b, "content"),
           *note = json_object_get(b, "note"), *query = json_object_get(b, "query"),
           *job = json_object_get(b, "from_job"), *outcome = json_object_get(b, "outcome");
    br_set_content ct = BR_SET_ASSETS;
    if (bad) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                              "unknown field '%.60s' (name, content, note, and one of query, "
                              "members or from_job with outcome)",
                              bad);
    } else if (!json_is_string(name)) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "name must be a string (the set's name)");
    } else if (json_string_length(name) >= sizeof s.name) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "name has more than %d bytes",
                              BR_SET_NAME_MAX);
    } else if (content && (!json_is_string(content) ||
                           br_set_content_parse(json_string_value(content), &ct))) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                              "content must be \"assets\", \"researchers\" or \"users\"");
    } else if (note && (!json_is_string(note) || json_string_length(note) >= sizeof s.note)) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "note must be a string of at most %zu bytes",
                              sizeof s.note - 1);
    } else if (query && (!json_is_string(query) || json_string_length(query) >= sizeof s.query)) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                              "query must be a string of at most %zu bytes (a search query)",
                              sizeof s.query - 1);
    } else if (job && (!json_is_integer(job) || json_integer_value(job) <= 0)) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "from_job must be a positive job id");
    } else if (outcome && (!job || !json_is_string(outcome))) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                              "outcome is a string that goes with from_job (imported, updated, "
                              "deleted or rejected)");
    } else if (string_array(r, b, "members", &members, &n, &res) == 0) {
        if (!!query + !!job + !!json_object_get(b, "members") > 1) {
            res =
                srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "give one of query, members or from_job");
            goto done;
        }
        br_job j;
        br_error err;
        if (job && br_job_get(repo, json_integer_value(job), &j, &err)) {
            res = err.code == BR_ENOTFOUND
                      ? srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "from_job: no job %lld",
                                        (long long)json_integer_value(job))
                      : srv_reply_br(r, &err);
            goto done;
        }
        if (job && !br_job_visible(j.type, r->who.roles)) {
            res = srv_reply_error(r, MHD_HTTP_FORBIDDEN,
                                  "your roles do not allow seeing %s jobs (job %lld)", j.type,
                                  (long long)j.id);
            goto done;
        }
        memcpy(s.name, json_string_value(name), json_string_length(name) + 1);
        s.content = ct;
        if (note) memcpy(s.note, json_string_value(note), json_string_length(note) + 1);
        if (query) memcpy(s.query, json_string_value(query), json_string_length(query) + 1);
        if (strlen(r->who.username) < sizeof s.creator)
            memcpy(s.creator, r->who.username, strlen(r->who.username) + 1);
        if (br_set_create(repo, &s, &err)) {
            res = srv_reply_br(r, &err); /* 409 exists; 400 a bad name or query */
            goto done;
        }
        size_t added = 0, none = 0;
        int rc = 0;
        if (job)
            rc = br_set_add_from_job(repo, s.name, json_integer_value(job),
                                     json_string_value(outcome), &added, &none, &err);
        else if (n)
            rc = br_set_add(repo, s.name, members, n, &added, &err);
        if (rc) {
            /* Refused members are listed while the set still exists; then it goes: a set
             * and its members are made together or not at all. */
            res = add_refused(r, repo, s.name, members, n, &err);
            br_set_delete(repo, s.name, NULL);
            goto done;
        }
        json_t *o = set_json_named(repo, s.name, &err);
        if (!o) {
            res = srv_reply_br(r, &err);
            goto done;
        }
        json_t *reply = json_pack("{s:o,s:I}", "set", o, "added", (json_int_t)added);
        if (job) json_object_set_new(reply, "without_item", json_integer((json_int_t)none));
        res = srv_reply_json(r, MHD_HTTP_CREATED, reply);
    }
done:
    free(members);
    json_decref(b);
    return res;
}

/* ---- GET /api/sets/NAME --------------------------------------------------------------------- */

typedef struct sample_ctx {
    br_repo *repo;
    br_set_content content;
    uint32_t roles;
    json_t *arr;
    br_record *rec;
    br_error err;
    int rc;
} sample_ctx;

static int add_sample(void *ctx, const br_set_member *m)
{
    sample_ctx *c = ctx;
    if (json_array_size(c->arr) >= SAMPLE) return 1;
    if (c->content != BR_SET_ASSETS) {
        json_array_append_new(c->arr, json_pack("{s:s}", "member", m->member));
        return 0;
    }
    json_t *status = json_string("missing"), *title = json_null();
    if (m->item_id) {
        if ((c->rc = br_item_load(c->repo, m->item_id, c->rec, &c->err))) {
            json_decref(status);
            return 1;
        }
        json_decref(status);
        status = json_string(c->rec->status);
        /* The title of an item the user may not read (a draft) is not shown. */
        if (br_item_readable(c->rec->status, c->roles))
            title = str_or_null(br_record_first(c->rec, "dc.title"));
    }
    json_array_append_new(c->arr, json_pack("{s:o,s:s,s:o,s:o}", "handle", str_or_null(m->handle),
                                            "uuid", m->member, "status", status, "title", title));
    return 0;
}

enum MHD_Result srv_sets_get(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, "sets", &res)) return res;
    br_error err;
    br_set s;
    if (br_set_get(repo, r->handle, &s, &err)) return srv_reply_br(r, &err);
    json_t *o = set_json_named(repo, r->handle, &err);
    if (!o) return srv_reply_br(r, &err);
    sample_ctx c = {repo, s.content, r->who.roles, json_array(), br_record_new(), {0}, 0};
    int rc = c.rec ? br_set_members(repo, r->handle, add_sample, &c, &err)
                   : br_error_set(&err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_record_free(c.rec);
    if (rc || c.rc) {
        json_decref(o);
        json_decref(c.arr);
        return srv_reply_br(r, rc ? &err : &c.err);
    }
    return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:o,s:o}", "set", o, "sample", c.arr));
}

/* ---- POST /api/sets/NAME/members, POST /api/sets/NAME/delete -------------------------------- */

enum MHD_Result srv_sets_members(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, "sets-manage", &res)) return res;
    json_t *b = body_object(r, &res);
    if (!b) return res;
    const char **add = NULL, **remove = NULL;
    size_t n_add = 0, n_remove = 0, added = 0, removed = 0;
    const char *bad = unknown_key(b, " add remove ");
    br_error err;
    br_set s;
    if (bad) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "unknown field '%.60s' (add, remove)", bad);
    } else if (string_array(r, b, "add", &add, &n_add, &res) ||
               string_array(r, b, "remove", &remove, &n_remove, &res)) {
        /* replied */
    } else if (!json_object_get(b, "add") && !json_object_get(b, "remove")) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                              "send {\"add\": [...]} and/or {\"remove\": [...]}");
    } else if (br_set_get(repo, r->handle, &s, &err)) {
        res = srv_reply_br(r, &err);
    } else if (n_add && br_set_add(repo, r->handle, add, n_add, &added, &err)) {
        res = add_refused(r, repo, r->handle, add, n_add, &err);
    } else if (n_remove && br_set_remove(repo, r->handle, remove, n_remove, &removed, &err)) {
        /* Added first (all or nothing), then removed: a failure here leaves the additions. */
        res = srv_reply_br(r, &err);
    } else if (s.query[0]) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                              "set '%s' is logical: its members are its query's hits", s.name);
    } else {
        json_t *o = set_json_named(repo, r->handle, &err);
        res = o ? srv_reply_json(r, MHD_HTTP_OK,
                                 json_pack("{s:o,s:I,s:I}", "set", o, "added", (json_int_t)added,
                                           "removed", (json_int_t)removed))
                : srv_reply_br(r, &err);
    }
    free(add);
    free(remove);
    json_decref(b);
    return res;
}

enum MHD_Result srv_sets_delete(srv_req *r, br_repo *repo)
{
    enum MHD_Result res;
    if (!allowed(r, "sets-manage", &res)) return res;
    br_error err;
    if (br_set_delete(repo, r->handle, &err)) return srv_reply_br(r, &err);
    return srv_reply_json(r, MHD_HTTP_OK, json_pack("{s:s}", "deleted", r->handle));
}
