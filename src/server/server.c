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
#include <sys/socket.h>
#include "http.h"

#define DEFAULT_LISTEN     "127.0.0.1:8080"
#define DEFAULT_MAX_UPLOAD (512ull * 1000 * 1000) /* 512M, as `serve --help` says */

/* ---- database pool ------------------------------------------------------------------- */

br_repo *srv_db_get(srv *s, br_error *err)
{
    srv_pool *p = &s->pool;
    pthread_mutex_lock(&p->mu);
    while (!p->n_idle && p->n_open >= p->max)
        pthread_cond_wait(&p->cv, &p->mu);
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

static struct MHD_Response *text_response(char *body)
{
    if (!body) return NULL;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return NULL;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    return resp;
}

struct MHD_Response *srv_json_response(json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return text_response(text);
}

enum MHD_Result srv_reply_text(srv_req *r, unsigned status, char *body)
{
    return srv_reply(r, status, text_response(body));
}

enum MHD_Result srv_reply_json(srv_req *r, unsigned status, json_t *o)
{
    return srv_reply(r, status, srv_json_response(o));
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
    if (rc) {
        *msg = "the database failed";
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    r->authed = 1;
    return 0;
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

static enum MHD_Result begin(srv_req *r, const char *url)
{
    size_t n = strlen(url);
    const char *bad = n >= sizeof r->path ? "the path is too long" : unsafe_path(url);
    if (bad) return srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "%s", bad);
    memcpy(r->path, url, n + 1);

    if (strncmp(r->path, "/api/", 5) && strcmp(r->path, "/api")) {
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
            srv_json_response(json_pack("{s:s}", "error", "this method is not allowed here"));
        if (resp) MHD_add_response_header(resp, "Allow", allowed);
        return srv_reply(r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
    }
    if (r->route == -3)
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "the job id must be a positive integer");

    int is_post = !strcmp(r->method, "POST");
    if (!srv_route_public(r->route)) {
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
        const char *msg = NULL;
        unsigned status = srv_upload_begin(r, &msg);
        if (status) return srv_reply_error(r, status, "%s", msg);
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
        /* Past every cap by far: a client that ignores the 413 is cut off. */
        if (r->body_bytes > body_cap(r) + (64u << 20)) return MHD_NO;
        if (r->body_bytes > body_cap(r)) {
            r->body_too_big = 1;
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
                srv_upload_free(r->up);
                r->up = NULL;
                r->body_kind = BODY_DISCARD;
            } else if (status) {
                r->body_kind = BODY_DISCARD; /* srv_upload_submit answers with the reason */
            }
        }
        return MHD_YES;
    }
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
    (void)cls;
    (void)con;
    (void)why;
    srv_req *r = *ctx;
    if (!r) return;
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
    snprintf(s->repo_dir, sizeof s->repo_dir, "%s", opt->repo_dir);
    pthread_mutex_init(&s->pool.mu, NULL);
    pthread_cond_init(&s->pool.cv, NULL);
    pthread_mutex_init(&s->login_mu, NULL);
    pthread_cond_init(&s->login_cv, NULL);
    s->pool.max = s->opt.db_connections;
    int rc = 0;
    if (!(s->pool.idle = calloc(s->pool.max, sizeof *s->pool.idle)) ||
        !(s->gate = br_write_gate_new())) {
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

    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)512, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
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
    free(s);
}
