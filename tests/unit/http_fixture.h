/* An HTTP server for the fetch tests (libmicrohttpd, loopback, a free port
 * chosen by the kernel), serving fixed paths:
 *
 *   /ok/NAME        200, "remote file NAME\n"
 *   /missing        404
 *   /big            200, HF_BIG bytes with a Content-Length
 *   /big-stream     200, HF_BIG bytes without a Content-Length (chunked)
 *   /slow           200 after HF_SLOW_MS (a timeout)
 *   /flaky          503 on every odd request, 200 "flaky ok\n" on every even one
 *   /redirect       302 to /ok/redirected
 *   /redirect-file  302 to file:///etc/passwd (a scheme that must be refused)
 *   /loop           302 to /loop (more than 5 redirects)
 *   /to/PORT/PATH   302 to http://127.0.0.1:PORT/PATH (another server)
 *
 *   hf_server *s = hf_start();  ... hf_url(s, "/ok/a.txt") ...  hf_stop(s);
 *
 * The fetch policy (src/lib/net/fetch.h) refuses loopback addresses: hf_start
 * adds the server's 127.0.0.1:PORT to $BULKREPO_FETCH_ALLOW (inherited by the
 * commands a test runs), hf_start_unlisted does not (a server that no fetch
 * may reach). */
#ifndef BR_HTTP_FIXTURE_H
#define BR_HTTP_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>

#define HF_BIG     (64 * 1024)
#define HF_SLOW_MS 3000

typedef struct hf_server {
    struct MHD_Daemon *d;
    unsigned short port;
    int flaky_count;
    int requests;
    char url[8][256];
    int k;
} hf_server;

static ssize_t hf_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)cls;
    if (pos >= HF_BIG) return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = HF_BIG - (size_t)pos < max ? HF_BIG - (size_t)pos : max;
    if (n > 1000) n = 1000;
    memset(buf, 'x', n);
    return (ssize_t)n;
}

static enum MHD_Result hf_reply(struct MHD_Connection *c, unsigned code, const char *body,
                                const char *location)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (location) MHD_add_response_header(r, "Location", location);
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result hf_handler(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)method, (void)version, (void)upload, (void)upload_size, (void)con_cls;
    hf_server *s = cls;
    __atomic_add_fetch(&s->requests, 1, __ATOMIC_SEQ_CST);
    char body[512];
    if (!strncmp(url, "/ok/", 4)) {
        snprintf(body, sizeof body, "remote file %s\n", url + 4);
        return hf_reply(c, 200, body, NULL);
    }
    if (!strcmp(url, "/big")) {
        char *big = malloc(HF_BIG);
        memset(big, 'x', HF_BIG);
        struct MHD_Response *r =
            MHD_create_response_from_buffer(HF_BIG, big, MHD_RESPMEM_MUST_FREE);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strcmp(url, "/big-stream")) {
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1000, hf_stream, NULL, NULL);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (!strcmp(url, "/slow")) {
        struct timespec ts = {HF_SLOW_MS / 1000, (HF_SLOW_MS % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return hf_reply(c, 200, "late\n", NULL);
    }
    if (!strcmp(url, "/flaky")) {
        int n = __atomic_add_fetch(&s->flaky_count, 1, __ATOMIC_SEQ_CST);
        return n % 2 ? hf_reply(c, 503, "busy\n", NULL) : hf_reply(c, 200, "flaky ok\n", NULL);
    }
    if (!strcmp(url, "/redirect")) {
        snprintf(body, sizeof body, "http://127.0.0.1:%u/ok/redirected", s->port);
        return hf_reply(c, 302, "", body);
    }
    if (!strcmp(url, "/redirect-file")) return hf_reply(c, 302, "", "file:///etc/passwd");
    if (!strcmp(url, "/loop")) return hf_reply(c, 302, "", "/loop");
    if (!strncmp(url, "/to/", 4)) {
        unsigned port = (unsigned)strtoul(url + 4, NULL, 10);
        const char *rest = strchr(url + 4, '/');
        snprintf(body, sizeof body, "http://127.0.0.1:%u%s", port, rest ? rest : "/");
        return hf_reply(c, 302, "", body);
    }
    return hf_reply(c, 404, "not found\n", NULL);
}

static inline hf_server *hf_start_unlisted(void)
{
    hf_server *s = calloc(1, sizeof *s);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = 0; /* the kernel picks a free port */
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                            NULL, NULL, hf_handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
                            MHD_OPTION_END);
    if (!s->d) {
        free(s);
        return NULL;
    }
    s->port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return s;
}

/* Started and allowlisted for fetches (appended to $BULKREPO_FETCH_ALLOW). */
static inline hf_server *hf_start(void)
{
    hf_server *s = hf_start_unlisted();
    if (!s) return NULL;
    const char *old = getenv("BULKREPO_FETCH_ALLOW");
    char allow[4096];
    snprintf(allow, sizeof allow, "%s%s127.0.0.1:%u", old ? old : "", old && *old ? "," : "",
             s->port);
    setenv("BULKREPO_FETCH_ALLOW", allow, 1);
    return s;
}

/* "http://127.0.0.1:PORT/path" (one of 8 rotating buffers). */
static inline const char *hf_url(hf_server *s, const char *path)
{
    s->k = (s->k + 1) % 8;
    snprintf(s->url[s->k], sizeof s->url[s->k], "http://127.0.0.1:%u%s", s->port, path);
    return s->url[s->k];
}

static inline void hf_stop(hf_server *s)
{
    if (!s) return;
    MHD_stop_daemon(s->d);
    free(s);
}

#endif
