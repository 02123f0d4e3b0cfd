/* The HTTP daemon: request life cycle, authentication, CSRF, body caps, the
 * database pool and replies.  Routes are in api.c, uploads in upload.c. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <limits.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "http.h"

#define DEFAULT_LISTEN          "127.0.0.1:8080"
#define DEFAULT_MAX_UPLOAD      (512ull * 1000 * 1000) /* 512M, as `serve --help` says */
#define DEFAULT_MAX_CONNECTIONS 1024
#define DEFAULT_PER_ADDRESS     64
#define DEFAULT_HEAD_TIMEOUT    10
/* Kept for authenticated requests: unauthenticated ones (and request heads
 * not yet complete) may hold at most max_connections minus this. */
#define RESERVE_DIVISOR 16
/* A body over its cap is read and dropped to its end to answer 413, unless it
 * goes on for longer than this or this much past the cap (then cut off). */
#define DISCARD_MAX_BYTES (4ull << 30)
#define DISCARD_MAX_SECS  60.0

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- database pool ------------------------------------------------------------------- */

br_repo *srv_db_get(srv *s, br_error *err)
{
    return srv_db_get_timed(s, 0, err);
}

br_repo *srv_db_get_timed(srv *s, unsigned timeout_ms, br_error *err)
{
    srv_pool *p = &s->pool;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (!p->n_idle && p->n_open >= p->max) {
        if (!timeout_ms) {
            pthread_cond_wait(&p->cv, &p->mu);
        } else if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT) {
            pthread_mutex_unlock(&p->mu);
            br_error_set(err, BR_EIO, NULL, 0, 0, "no database connection is free");
            return NULL;
        }
    }
    if (p->n_idle) {
        br_repo *repo = p->idle[--p->n_idle];
        pthread_mutex_unlock(&p->mu);
        return repo;
    }
    p->n_open++;
    pthread_mutex_unlock(&p->mu);
    br_repo *repo = NULL;
    if (br_repo_open(s->repo_dir, &repo, err)) {
        pthread_mutex_lock(&p->mu);
        p->n_open--;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
        return NULL;
    }
    br_repo_set_write_gate(repo, s->gate);
    return repo;
}

void srv_db_put(srv *s, br_repo *repo)
{
    if (!repo) return;
    srv_pool *p = &s->pool;
    br_repo_reset(repo); /* no read snapshot or transaction outlives the request */
    pthread_mutex_lock(&p->mu);
    p->idle[p->n_idle++] = repo;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- replies ------------------------------------------------------------------------------- */

enum MHD_Result srv_reply(srv_req *r, unsigned status, struct MHD_Response *resp)
{
    if (!resp) return MHD_NO;
    srv_security_headers(resp, 1);
    enum MHD_Result rc = MHD_queue_response(r->con, status, resp);
    MHD_destroy_response(resp);
    r->replied = 1;
    return rc;
}

/* Replaces every "<from>" in text by "<to>" (to no longer than from), in place. */
static void replace_all(char *text, const char *from, const char *to)
{
    size_t nf = strlen(from), nt = strlen(to);
    if (!nf || nt > nf) return;
    char *w = text;
    for (const char *p = text; *p;) {
        if (!strncmp(p, from, nf)) {
            memmove(w, to, nt);
            w += nt;
            p += nf;
        } else {
            *w++ = *p++;
        }
    }
    *w = 0;
}

void srv_relative_paths(const srv *s, char *text)
{
    if (!text) return;
    for (int i = 0; i < 2; i++) {
        const char *prefix = s->repo_json[i];
        if (strlen(prefix) < 2) continue;
        char from[8300];
        /* "<repo>/x" -> "x", a value that is the repository itself -> "." */
        snprintf(from, sizeof from, "%s/", prefix);
        replace_all(text, from, "");
        snprintf(from, sizeof from, "\"%s\"", prefix);
        replace_all(text, from, "\".\"");
    }
}

const char *srv_cookie_attrs(const srv *s)
{
    return s->opt.secure_cookies ? "; HttpOnly; SameSite=Strict; Path=/; Secure"
                                 : "; HttpOnly; SameSite=Strict; Path=/";
}

static struct MHD_Response *text_response(const srv *s, char *body)
{
    if (!body) return NULL;
    srv_relative_paths(s, body);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return NULL;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    return resp;
}

struct MHD_Response *srv_json_response(srv_req *r, json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return text_response(r->s, text);
}

enum MHD_Result srv_reply_text(srv_req *r, unsigned status, char *body)
{
    return srv_reply(r, status, text_response(r->s, body));
}

enum MHD_Result srv_reply_json(srv_req *r, unsigned status, json_t *o)
{
    return srv_reply(r, status, srv_json_response(r, o));
}

json_t *srv_json_of(int rc, char *text)
{
    json_t *o = rc || !text ? NULL : json_loads(text, 0, NULL);
    free(text);
    return o;
}

enum MHD_Result srv_reply_error(srv_req *r, unsigned status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return srv_reply_json(r, status, json_pack("{s:s}", "error", msg));
}

enum MHD_Result srv_reply_br(srv_req *r, const br_error *err)
{
    unsigned status;
    switch (err ? err->code : BR_EINTERNAL) {
    case BR_EUSAGE:
    case BR_EINVAL:
        status = MHD_HTTP_BAD_REQUEST;
        break;
    case BR_ENOTFOUND:
        status = MHD_HTTP_NOT_FOUND;
        break;
    case BR_EEXISTS:
        status = MHD_HTTP_CONFLICT;
        break;
    case BR_EAUTH:
        status = MHD_HTTP_UNAUTHORIZED;
        break;
    case BR_EDENIED:
        status = MHD_HTTP_FORBIDDEN;
        break;
    case BR_ELIMIT:
        status = MHD_HTTP_CONTENT_TOO_LARGE;
        break;
    case BR_ELOST: /* the database is away (restarting): the request may be made again */
        status = MHD_HTTP_SERVICE_UNAVAILABLE;
        break;
    default:
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        break;
    }
    char msg[2048];
    br_error_format(err, msg, sizeof msg);
    if (!msg[0]) snprintf(msg, sizeof msg, "%s", br_code_name(err ? err->code : BR_EINTERNAL));
    return srv_reply_json(r, status, json_pack("{s:s}", "error", msg));
}

/* ---- authentication ----------------------------------------------------------------------- */

/* The secret a request presents: "Authorization: Bearer X" first, else the
 * session cookie.  Returns 0 when there is none. */
static int presented_secret(srv_req *r)
{
    const char *auth = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "Authorization");
    if (auth && !strncasecmp(auth, "Bearer ", 7)) {
        const char *t = auth + 7;
        while (*t == ' ')
            t++;
        size_t n = strlen(t);
        if (n >= sizeof r->secret) return 0;
        memcpy(r->secret, t, n + 1);
        r->via_cookie = 0;
        return 1;
    }
    const char *cookie = MHD_lookup_connection_value(r->con, MHD_COOKIE_KIND, SRV_COOKIE);
    size_t n = cookie ? strlen(cookie) : 0;
    if (n && n < sizeof r->secret) {
        memcpy(r->secret, cookie, n + 1);
        r->via_cookie = 1;
        return 1;
    }
    return 0;
}

/* 0 when authenticated, else the HTTP status to answer. */
static unsigned authenticate(srv_req *r, const char **msg)
{
    *msg = "log in first (POST /api/login) or send Authorization: Bearer TOKEN";
    if (!presented_secret(r)) return MHD_HTTP_UNAUTHORIZED;
    br_error err;
    br_repo *repo = srv_db_get(r->s, &err);
    if (!repo) {
        *msg = "the database cannot be opened";
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    int rc = br_auth_check(repo, r->secret, &r->who, &err);
    srv_db_put(r->s, repo);
    if (rc == BR_EAUTH) {
        *msg = "the session has ended or the token is unknown: log in again";
        return MHD_HTTP_UNAUTHORIZED;
    }
    if (rc == BR_ELOST) {
        *msg = "the database cannot be reached (restarting?): try again shortly";
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    }
    if (rc) {
        *msg = "the database failed";
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    r->authed = 1;
    return 0;
}

/* ---- connections: the head deadline and the reserve ---------------------------------------- */

/* Callers hold conn_mu. */
static void conn_phase(srv *s, srv_conn *c, int phase)
{
    int was_head = c->phase == CONN_HEAD, is_head = phase == CONN_HEAD;
    if (was_head && !is_head) s->n_head--;
    if (!was_head && is_head) s->n_head++;
    c->phase = phase;
    c->started = mono_now();
}

/* Closes a connection from the watchdog or to make room: shutdown() wakes
 * its thread, which closes it (the descriptor stays valid while conn_mu is
 * held: MHD notifies CLOSED, which takes conn_mu, before closing it). */
static void conn_cut(srv_conn *c)
{
    if (c->closing || c->fd < 0) return;
    c->closing = 1;
    shutdown(c->fd, SHUT_RDWR);
}

static unsigned head_cap(const srv *s)
{
    return s->opt.max_connections - s->opt.max_connections / RESERVE_DIVISOR;
}

static void on_connection(void *cls, struct MHD_Connection *con, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    srv *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        srv_conn *c = calloc(1, sizeof *c);
        if (!c) return;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
        c->fd = ci ? ci->connect_fd : -1;
        c->phase = CONN_HEAD;
        c->started = mono_now();
        pthread_mutex_lock(&s->conn_mu);
        c->next = s->conns;
        if (s->conns) s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        s->n_head++;
        /* Heads not yet complete may not take the reserve: the one that has
         * been sending its head the longest makes room. */
        if (s->n_head > head_cap(s)) {
            srv_conn *oldest = NULL;
            for (srv_conn *o = s->conns; o; o = o->next)
                if (o->phase == CONN_HEAD && !o->closing && o != c &&
                    (!oldest || o->started < oldest->started))
                    oldest = o;
            if (oldest) conn_cut(oldest);
        }
        pthread_mutex_unlock(&s->conn_mu);
        *socket_context = c;
        return;
    }
    srv_conn *c = *socket_context;
    if (!c) return;
    pthread_mutex_lock(&s->conn_mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->n_conns--;
    if (c->phase == CONN_HEAD) s->n_head--;
    if (c->unauth) s->n_unauth--;
    pthread_mutex_unlock(&s->conn_mu);
    free(c);
    *socket_context = NULL;
}

/* Cuts connections whose head (or unauthenticated body) is past its deadline:
 * a client that trickles bytes resets libmicrohttpd's idle timeout, not this. */
static void *watchdog(void *arg)
{
    srv *s = arg;
    pthread_mutex_lock(&s->conn_mu);
    while (!s->stopping) {
        double now = mono_now();
        for (srv_conn *c = s->conns; c; c = c->next)
            if (c->phase != CONN_ACTIVE && now - c->started > s->opt.head_timeout) conn_cut(c);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->conn_cv, &s->conn_mu, &until);
    }
    pthread_mutex_unlock(&s->conn_mu);
    return NULL;
}

static srv_conn *conn_of(struct MHD_Connection *con)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* An unauthenticated request may not take the reserve: 1 when this one must
 * be refused (503); else it is counted until its connection's next request. */
static int conn_admit_unauth(srv_req *r)
{
    srv *s = r->s;
    srv_conn *c = r->conn;
    if (!c) return 0;
    pthread_mutex_lock(&s->conn_mu);
    int refuse = 0;
    if (!c->unauth) {
        if (s->n_unauth + 1 > head_cap(s))
            refuse = 1;
        else
            c->unauth = 1, s->n_unauth++;
    }
    pthread_mutex_unlock(&s->conn_mu);
    return refuse;
}

static void conn_set(srv *s, srv_conn *c, int phase)
{
    if (!c) return;
    pthread_mutex_lock(&s->conn_mu);
    conn_phase(s, c, phase);
    if (phase == CONN_HEAD && c->unauth) {
        c->unauth = 0;
        s->n_unauth--;
    }
    pthread_mutex_unlock(&s->conn_mu);
}

/* ---- the request life cycle ---------------------------------------------------------------- */

/* Refuses, before any route or file is looked at, a path with "." or ".."
 * segments, empty segments inside, backslashes or control characters.  The
 * path is already percent-decoded by libmicrohttpd, so "%2e%2e" is caught too. */
static const char *unsafe_path(const char *p)
{
    if (*p != '/') return "the path must start with /";
    for (const unsigned char *c = (const unsigned char *)p; *c; c++)
        if (*c < 0x20 || *c == 0x7f || *c == '\\')
            return "control characters or backslashes in the path";
    for (const char *seg = p + 1;;) {
        size_t n = strcspn(seg, "/");
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return "'.' and '..' are not allowed in paths";
        if (!seg[n]) break;
        seg += n + 1;
    }
    return NULL;
}

static uint64_t content_length(srv_req *r, int *present)
{
    const char *v = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "Content-Length");
    *present = v != NULL;
    return v ? strtoull(v, NULL, 10) : 0;
}

static uint64_t body_cap(srv_req *r)
{
    if (r->body_kind == BODY_UPLOAD) return r->s->opt.max_upload + SRV_FIELDS_MAX;
    return SRV_JSON_MAX;
}

static enum MHD_Result busy(srv_req *r)
{
    struct MHD_Response *resp = srv_json_response(
        r, json_pack("{s:s}", "error",
                     "the server is busy with other connections; try again in a moment"));
    if (resp) {
        MHD_add_response_header(resp, "Retry-After", "1");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    return srv_reply(r, MHD_HTTP_SERVICE_UNAVAILABLE, resp);
}

static enum MHD_Result begin(srv_req *r, const char *url)
{
    /* The head is complete: its deadline no longer applies. */
    r->conn = conn_of(r->con);
    conn_set(r->s, r->conn, CONN_ACTIVE);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    srv_address_key(ci ? ci->client_addr : NULL, r->address, sizeof r->address);
    size_t n = strlen(url);
    const char *bad = n >= sizeof r->path ? "the path is too long" : unsafe_path(url);
    if (bad) return srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "%s", bad);
    memcpy(r->path, url, n + 1);

    if (strncmp(r->path, "/api/", 5) && strcmp(r->path, "/api")) {
        if (conn_admit_unauth(r)) return busy(r);
        if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD")) {
            struct MHD_Response *resp =
                MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
            if (resp) MHD_add_response_header(resp, "Allow", "GET, HEAD");
            return srv_reply(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
        }
        unsigned status;
        struct MHD_Response *resp = srv_static_response(r->path, &status);
        if (!resp) return srv_reply_error(r, MHD_HTTP_NOT_FOUND, "no such page: %s", r->path);
        enum MHD_Result rc = MHD_queue_response(r->con, status, resp);
        MHD_destroy_response(resp);
        r->replied = 1;
        return rc;
    }

    const char *allowed = NULL;
    r->route = srv_route_find(r, &allowed);
    if (r->route == -1)
        return srv_reply_error(r, MHD_HTTP_NOT_FOUND, "no such route: %s %s", r->method, r->path);
    if (r->route == -2) {
        struct MHD_Response *resp =
            srv_json_response(r, json_pack("{s:s}", "error", "this method is not allowed here"));
        if (resp) MHD_add_response_header(resp, "Allow", allowed);
        return srv_reply(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
    }
    if (r->route == -3)
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "the job id must be a positive integer");

    int is_post = !strcmp(r->method, "POST");
    if (srv_route_public(r->route)) {
        if (conn_admit_unauth(r)) return busy(r);
        /* A public body (a login) is read under the head's deadline. */
        if (is_post) conn_set(r->s, r->conn, CONN_PUBLIC_BODY);
    } else {
        const char *msg;
        unsigned status = authenticate(r, &msg);
        if (status) return srv_reply_error(r, status, "%s", msg);
        /* CSRF: a cookie comes with every request the browser makes, so a POST
         * authenticated by it must also prove it read the session's token. */
        if (is_post && r->via_cookie) {
            const char *h = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "X-CSRF-Token");
            if (h && !br_secret_equal(h, r->who.csrf))
                return srv_reply_error(r, MHD_HTTP_FORBIDDEN, "the X-CSRF-Token header is wrong");
            /* Uploads may send it as the form field "csrf" instead (checked at the end). */
            if (!h && !srv_route_upload(r->route))
                return srv_reply_error(r, MHD_HTTP_FORBIDDEN,
                                       "the X-CSRF-Token header is missing (GET /api/me gives it)");
        }
    }

    if (!is_post) return MHD_YES;
    r->body_kind = srv_route_upload(r->route) ? BODY_UPLOAD
                   : srv_route_json(r->route) ? BODY_JSON
                                              : BODY_DISCARD;
    int has_len;
    uint64_t len = content_length(r, &has_len);
    if (has_len && len > body_cap(r))
        return srv_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
                               "the request body has %llu bytes; at most %llu are accepted",
                               (unsigned long long)len, (unsigned long long)body_cap(r));
    if (r->body_kind == BODY_JSON) {
        const char *ct = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "Content-Type");
        /* Requiring JSON also means no plain HTML form can post here cross-site. */
        if (!ct || strncasecmp(ct, "application/json", 16))
            return srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                   "send a JSON body (Content-Type: application/json)");
    } else if (r->body_kind == BODY_UPLOAD) {
        /* The role check comes before the body: from the query or headers
         * when they name the job type, else no upload for a user whose
         * roles allow no job type at all. */
        char why[512];
        unsigned status = srv_upload_precheck(r, why, sizeof why);
        if (status) return srv_reply_error(r, status, "%s", why);
        const char *msg = NULL;
        if ((status = srv_upload_begin(r, &msg))) return srv_reply_error(r, status, "%s", msg);
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **ctx)
{
    (void)version;
    srv_req *r = *ctx;
    if (!r) {
        if (!(r = calloc(1, sizeof *r))) return MHD_NO;
        r->s = cls;
        r->con = con;
        r->method = method;
        *ctx = r;
        return begin(r, url);
    }
    if (*size) {
        size_t n = *size;
        *size = 0;
        if (r->replied) return MHD_YES;
        r->body_bytes += n;
        if (r->body_too_big) {
            /* Read and dropped to its end, to answer 413; a body that goes on
             * and on is cut off. */
            if (r->body_bytes - body_cap(r) > DISCARD_MAX_BYTES ||
                mono_now() - r->over_since > DISCARD_MAX_SECS)
                return MHD_NO;
            return MHD_YES;
        }
        /* A refused upload (its role check failed at the file's first
         * bytes): nothing is stored, and the rest is not read for long. */
        if (r->up && srv_upload_refused(r->up) &&
            r->body_bytes - srv_upload_refused(r->up) > SRV_FIELDS_MAX)
            return MHD_NO;
        if (r->body_bytes > body_cap(r)) {
            r->body_too_big = 1;
            r->over_since = mono_now();
            if (r->up) {
                srv_upload_free(r->up); /* stop writing, remove the partial file */
                r->up = NULL;
            }
            r->body_kind = BODY_DISCARD;
            return MHD_YES;
        }
        if (r->body_kind == BODY_JSON) {
            char *b = realloc(r->body, r->body_len + n + 1);
            if (!b) return MHD_NO;
            memcpy(b + r->body_len, data, n);
            r->body = b;
            r->body_len += n;
            r->body[r->body_len] = 0;
        } else if (r->body_kind == BODY_UPLOAD) {
            unsigned status = srv_upload_feed(r, data, n);
            if (status == MHD_HTTP_CONTENT_TOO_LARGE) {
                r->body_too_big = 1;
                r->over_since = mono_now();
                srv_upload_free(r->up);
                r->up = NULL;
                r->body_kind = BODY_DISCARD;
            } else if (status) {
                r->body_kind = BODY_DISCARD; /* srv_upload_submit answers with the reason */
            }
        }
        return MHD_YES;
    }
    conn_set(r->s, r->conn, CONN_ACTIVE); /* a public body is complete */
    if (r->replied) return MHD_YES;
    if (r->body_too_big)
        return srv_reply_error(r, MHD_HTTP_CONTENT_TOO_LARGE,
                               "the upload is larger than the server accepts (%llu bytes per file)",
                               (unsigned long long)r->s->opt.max_upload);
    enum MHD_Result rc = srv_api_dispatch(r);
    /* The answer goes out once this returns: remove the upload's scratch
     * folder first, so that a client reading it finds nothing left behind. */
    srv_upload_free(r->up);
    r->up = NULL;
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **ctx,
                         enum MHD_RequestTerminationCode why)
{
    (void)con;
    (void)why;
    srv *s = cls;
    srv_req *r = *ctx;
    if (!r) return;
    /* The connection's next request (keep-alive) has its own head deadline. */
    conn_set(s, r->conn, CONN_HEAD);
    srv_upload_free(r->up);
    free(r->body);
    explicit_bzero(r->secret, sizeof r->secret);
    free(r);
    *ctx = NULL;
}

/* ---- start and stop ----------------------------------------------------------------------- */

/* "HOST:PORT" or "[V6]:PORT" into an address. */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
                        br_error *err)
{
    char host[256], port[16];
    const char *colon;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':')
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "--listen '%s': expected [ADDRESS]:PORT", spec);
        snprintf(host, sizeof host, "%.*s", (int)(close - spec - 1), spec + 1);
        colon = close + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "--listen '%s': expected HOST:PORT",
                                spec);
        snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
    }
    snprintf(port, sizeof port, "%s", colon + 1);
    char *end;
    long p = strtol(port, &end, 10);
    if (!*port || *end || p < 0 || p > 65535)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "--listen '%s': bad port", spec);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    int g = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
    if (g || !ai)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "--listen '%s': %s", spec, gai_strerror(g));
    memcpy(ss, ai->ai_addr, ai->ai_addrlen);
    *len = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

int srv_start(const srv_options *opt, srv **out, br_error *err)
{
    *out = NULL;
    srv *s = calloc(1, sizeof *s);
    if (!s) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    s->opt = *opt;
    if (!s->opt.listen) s->opt.listen = DEFAULT_LISTEN;
    if (!s->opt.max_upload) s->opt.max_upload = DEFAULT_MAX_UPLOAD;
    if (s->opt.session_ttl <= 0) s->opt.session_ttl = BR_SESSION_TTL_DEFAULT;
    if (!s->opt.db_connections) s->opt.db_connections = 16;
    if (!s->opt.max_connections) s->opt.max_connections = DEFAULT_MAX_CONNECTIONS;
    if (s->opt.max_connections < 16) s->opt.max_connections = 16;
    if (!s->opt.max_per_address) s->opt.max_per_address = DEFAULT_PER_ADDRESS;
    if (!s->opt.head_timeout) s->opt.head_timeout = DEFAULT_HEAD_TIMEOUT;
    snprintf(s->repo_dir, sizeof s->repo_dir, "%s", opt->repo_dir);
    /* Answers name the repository's files relative to it (given and resolved). */
    char real[PATH_MAX];
    const char *forms[2] = {s->repo_dir, realpath(s->repo_dir, real) ? real : ""};
    for (int i = 0; i < 2; i++) {
        json_t *js = json_string(forms[i]);
        char *text = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;
        json_decref(js);
        size_t n = text ? strlen(text) : 0;
        if (n >= 2 && n - 2 < sizeof s->repo_json[i] && forms[i][0] == '/')
            snprintf(s->repo_json[i], sizeof s->repo_json[i], "%.*s", (int)(n - 2), text + 1);
        free(text);
    }
    pthread_mutex_init(&s->conn_mu, NULL);
    pthread_cond_init(&s->conn_cv, NULL);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    s->login_slots = cpus >= 2 * SRV_LOGINS_MAX ? SRV_LOGINS_MAX
                     : cpus >= 2                ? (unsigned)cpus / 2
                                                : 1;
    pthread_mutex_init(&s->pool.mu, NULL);
    pthread_cond_init(&s->pool.cv, NULL);
    pthread_mutex_init(&s->login_mu, NULL);
    pthread_cond_init(&s->login_cv, NULL);
    s->pool.max = s->opt.db_connections;
    int rc = 0;
    if (!(s->pool.idle = calloc(s->pool.max, sizeof *s->pool.idle)) ||
        !(s->gate = br_write_gate_new()) || !(s->throttle = srv_throttle_new(s->repo_dir))) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    /* Fail early (and clean expired sessions) when the repository is unusable. */
    br_error e;
    br_repo *repo = srv_db_get(s, &e);
    if (!repo) {
        rc = e.code;
        if (err) *err = e;
        goto done;
    }
    /* Housekeeping, best effort: what stays is disk space and rows that
     * br_auth_check refuses anyway (expired); a busy database must not keep
     * the server from starting. */
    br_repo_clean_stale(repo);
    br_auth_purge(repo, NULL);
    srv_db_put(s, repo);

    struct sockaddr_storage ss;
    socklen_t sslen;
    if ((rc = parse_listen(s->opt.listen, &ss, &sslen, err))) goto done;

    br_engine_options eo = {0};
    eo.workers = s->opt.workers;
    eo.webhook_url = s->opt.webhook;
    eo.write_gate = s->gate;
    if ((rc = br_engine_new(s->repo_dir, &eo, &s->engine, err))) goto done;
    if ((rc = br_engine_start(s->engine, err))) goto done;

    if (pthread_create(&s->watchdog, NULL, watchdog, s)) {
        rc = br_error_set(err, BR_EIO, NULL, 0, 0, "cannot start a thread");
        goto done;
    }
    s->watchdog_started = 1;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    /* No MHD_OPTION_LISTENING_ADDRESS_REUSE: the address is this server's
     * alone (a second server on it fails instead of sharing its requests). */
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_LIMIT,
        s->opt.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        s->opt.max_per_address == SRV_UNLIMITED ? 0u : s->opt.max_per_address, MHD_OPTION_END);
    if (!s->daemon) {
        rc = br_error_set(err, BR_EIO, NULL, 0, 0,
                          "cannot listen on %s (in use, or not an address of this host)",
                          s->opt.listen);
        goto done;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : 0;
    char host[INET6_ADDRSTRLEN] = "";
    if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof host);
        snprintf(s->url, sizeof s->url, "http://[%s]:%u/", host, port);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof host);
        snprintf(s->url, sizeof s->url, "http://%s:%u/", host, port);
    }
    *out = s;
    s = NULL;
done:
    if (s) srv_stop(s);
    return rc;
}

const char *srv_url(const srv *s)
{
    return s->url;
}

void srv_stop(srv *s)
{
    if (!s) return;
    if (s->watchdog_started) {
        pthread_mutex_lock(&s->conn_mu);
        s->stopping = 1;
        pthread_cond_signal(&s->conn_cv);
        pthread_mutex_unlock(&s->conn_mu);
        pthread_join(s->watchdog, NULL);
    }
    if (s->daemon) MHD_stop_daemon(s->daemon);
    br_engine_free(s->engine); /* stops the workers: imports go back to the queue */
    for (size_t i = 0; i < s->pool.n_idle; i++)
        br_repo_free(s->pool.idle[i]);
    free(s->pool.idle);
    br_write_gate_free(s->gate); /* after every connection using it is gone */
    pthread_mutex_destroy(&s->pool.mu);
    pthread_cond_destroy(&s->pool.cv);
    pthread_mutex_destroy(&s->login_mu);
    pthread_cond_destroy(&s->login_cv);
    pthread_mutex_destroy(&s->conn_mu);
    pthread_cond_destroy(&s->conn_cv);
    srv_throttle_free(s->throttle);
    free(s);
}
