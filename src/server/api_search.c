/* The REST API's search and record view (docs/api.md, "Search and the record view"):
 *   GET /api/items?q=QUERY&limit=&offset=&order=rank|handle   the items a query finds
 *   GET /api/items/{handle}                                    + "jobs" (srv_item_reply)
 *   GET /api/items/{handle}/files/{sequence}                   a bitstream's bytes
 * Called by api.c's routes with a pooled connection. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "http.h"

/* At most this many jobs in a record's "jobs". */
#define ITEM_JOBS_MAX 50

static const char *arg(srv_req *r, const char *name)
{
    const char *v = MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, name);
    return v && *v ? v : NULL;
}

/* A non-negative integer argument (dflt when absent, at most max); -1 when malformed. */
static long long count_arg(srv_req *r, const char *name, long long dflt, long long max)
{
    const char *v = arg(r, name);
    if (!v) return dflt;
    if (*v < '0' || *v > '9') return -1;
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

/* ---- search ------------------------------------------------------------------------------ */

typedef struct page {
    json_t *arr;
    uint32_t roles;
    int filter;                    /* the user reads archived items only: the rest is skipped */
    long long offset, limit, seen; /* seen: with filter, every readable hit (the total) */
} page;

static int add_hit(void *ctx, const br_item_summary *s)
{
    page *p = ctx;
    if (p->filter) {
        if (!br_item_readable(s->status, p->roles)) return 0;
        p->seen++;
        if (p->seen <= p->offset || (long long)json_array_size(p->arr) >= p->limit) return 0;
    }
    json_t *o = json_object();
    json_object_set_new(o, "handle", str_or_null(s->handle));
    json_object_set_new(o, "uuid", str_or_null(s->uuid));
    json_object_set_new(o, "status", str_or_null(s->status));
    json_object_set_new(o, "title", str_or_null(s->title));
    json_object_set_new(o, "collection", str_or_null(s->owning_collection));
    json_object_set_new(o, "modified", str_or_null(s->modified));
    json_array_append_new(p->arr, o);
    return 0;
}

enum MHD_Result srv_api_search(srv_req *r, br_repo *repo)
{
    if (!br_read_allowed("search", r->who.roles))
        return srv_reply_error(r, MHD_HTTP_FORBIDDEN, "your roles do not allow searching items");
    if (arg(r, "collection") || arg(r, "job"))
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "with q, name the collection or the job in the query "
                               "(collection:HANDLE, job:ID)");
    const char *order = arg(r, "order");
    if (order && strcmp(order, "rank") && strcmp(order, "handle"))
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "order must be rank or handle");
    page p = {.roles = r->who.roles};
    p.offset = count_arg(r, "offset", 0, 1LL << 40);
    p.limit = count_arg(r, "limit", 100, 5000);
    if (p.offset < 0 || p.limit < 0)
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "offset and limit must be non-negative integers");
    br_search_query q = {arg(r, "q"), p.limit, p.offset,
                         order && !strcmp(order, "rank") ? BR_SEARCH_BY_RANK : BR_SEARCH_BY_HANDLE};
    br_error err;
    if (br_search_check(q.q, &err))
        return srv_reply_json(
            r, MHD_HTTP_BAD_REQUEST,
            json_pack("{s:s,s:i}", "error", err.message, "position", (int)err.place.column));
    /* A user who reads archived items only gets those, counted and paged here (as the
     * listing without q does); the others page in the query. */
    p.filter = !br_read_allowed("drafts", r->who.roles);
    if (p.filter)
        q.limit = q.offset = 0;
    else if (!p.limit)
        q.limit = 1; /* limit=0: the total alone (the hit is dropped below) */
    int64_t total = 0;
    p.arr = json_array();
    if (br_search(repo, &q, add_hit, &p, p.filter ? NULL : &total, &err)) {
        json_decref(p.arr);
        return srv_reply_br(r, &err);
    }
    if (p.filter) total = p.seen;
    if (!p.limit) json_array_clear(p.arr);
    return srv_reply_json(r, MHD_HTTP_OK,
                          json_pack("{s:o,s:I}", "items", p.arr, "total", (json_int_t)total));
}

/* ---- the record view ------------------------------------------------------------------------ */

static int add_job(void *ctx, const br_item_job *j)
{
    json_array_append_new(ctx, json_pack("{s:I,s:o,s:o,s:o,s:o}", "id", (json_int_t)j->id, "type",
                                         str_or_null(j->type), "name", str_or_null(j->name),
                                         "outcome", str_or_null(j->outcome), "submitted",
                                         str_or_null(j->submitted)));
    return 0;
}

enum MHD_Result srv_item_reply(srv_req *r, br_repo *repo, int64_t id, char *record_json)
{
    json_t *o = json_loads(record_json, 0, NULL);
    free(record_json);
    if (!json_is_object(o)) {
        json_decref(o);
        return srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the record");
    }
    json_t *jobs = json_array();
    br_error err;
    if (br_item_jobs(repo, id, ITEM_JOBS_MAX, add_job, jobs, &err)) {
        json_decref(jobs);
        json_decref(o);
        return srv_reply_br(r, &err);
    }
    json_object_set_new(o, "jobs", jobs);
    return srv_reply_json(r, MHD_HTTP_OK, o);
}

/* A file name for Content-Disposition: the ASCII fallback (quotes, backslashes, control and
 * non-ASCII bytes as '_') and the RFC 5987 form of the UTF-8 name. */
static void disposition(const char *name, char *out, size_t size)
{
    char plain[256], enc[1024];
    size_t k = 0, e = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && k + 1 < sizeof plain; p++)
        plain[k++] = *p == '"' || *p == '\\' || *p < 0x20 || *p >= 0x7f ? '_' : (char)*p;
    plain[k] = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p && e + 4 < sizeof enc; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            enc[e++] = (char)*p;
        else
            e += (size_t)snprintf(enc + e, sizeof enc - e, "%%%02X", *p);
    }
    enc[e] = 0;
    snprintf(out, size, "attachment; filename=\"%s\"; filename*=UTF-8''%s", plain, enc);
}

enum MHD_Result srv_api_item_file(srv_req *r, br_repo *repo)
{
    if (!br_read_allowed("items", r->who.roles))
        return srv_reply_error(r, MHD_HTTP_FORBIDDEN, "your roles do not allow reading items");
    br_error err;
    int64_t id;
    if (br_item_find(repo, r->handle, &id, &err)) return srv_reply_br(r, &err);
    br_record *rec = br_record_new();
    if (!rec) return MHD_NO;
    enum MHD_Result res;
    int fd = -1;
    if (br_item_load(repo, id, rec, &err)) {
        res = srv_reply_br(r, &err);
        goto done;
    }
    if (!br_item_readable(rec->status, r->who.roles)) {
        res = srv_reply_error(r, MHD_HTTP_FORBIDDEN,
                              "your roles do not allow reading items that are not archived");
        goto done;
    }
    const br_bitstream *b = NULL;
    for (size_t i = 0; i < rec->n_bs && !b; i++)
        if (rec->bs[i].sequence == r->file_seq) b = &rec->bs[i];
    if (!b) {
        res = srv_reply_error(r, MHD_HTTP_NOT_FOUND, "item %s has no file %lld", r->handle,
                              (long long)r->file_seq);
        goto done;
    }
    struct stat st;
    fd = b->path ? open(b->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        res = srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
                              "file %lld of item %s cannot be read (run bulkrepo fsck)",
                              (long long)r->file_seq, r->handle);
        goto done;
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
    if (!resp) {
        res = MHD_NO;
        goto done;
    }
    fd = -1; /* the response owns it */
    char cd[1400];
    disposition(b->name ? b->name : "file", cd, sizeof cd);
    MHD_add_response_header(resp, "Content-Type",
                            b->mime && *b->mime ? b->mime : "application/octet-stream");
    MHD_add_response_header(resp, "Content-Disposition", cd);
    res = srv_reply(r, MHD_HTTP_OK, resp);
done:
    if (fd >= 0) close(fd);
    br_record_free(rec);
    return res;
}
