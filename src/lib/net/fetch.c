/* Remote files with libcurl: http and https only, a size cap enforced while
 * streaming, timeouts, retries with exponential backoff on transient failures
 * (timeouts, connection failures, 5xx and 429 answers), and nothing partial left
 * behind.  One easy handle per call: no state is shared between threads. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "core/core.h"
#include "net/fetch.h"

#define MAX_REDIRECTS      5L
#define DEFAULT_CONNECT_MS 10000L
#define DEFAULT_TIMEOUT_MS 300000L
#define DEFAULT_RETRIES    2
#define DEFAULT_BACKOFF_MS 500L
#define MAX_BACKOFF_MS     30000L

typedef struct sink {
    int fd;
    uint64_t bytes, max;
    int too_big;
    int write_failed;
    int write_errno;
    const br_fetch_options *opt;
    int cancelled;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    sink *s = ctx;
    size_t len = size * n;
    /* The cap holds even when the server sends no Content-Length or lies. */
    if (s->max && s->bytes + len > s->max) {
        s->too_big = 1;
        return 0;
    }
    if (br_write_all(s->fd, p, len)) {
        s->write_failed = 1;
        s->write_errno = errno;
        return 0;
    }
    s->bytes += len;
    return len;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    sink *s = ctx;
    if (s->opt->cancelled && s->opt->cancelled(s->opt->cancel_ctx)) {
        s->cancelled = 1;
        return 1;
    }
    return 0;
}

static int is_http_url(const char *url)
{
    return !strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

/* Whether another attempt may succeed. */
static int transient(CURLcode c, long http)
{
    switch (c) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return 1;
    case CURLE_HTTP_RETURNED_ERROR:
        return http >= 500 || http == 429;
    default:
        return 0;
    }
}

/* One attempt into s->fd (emptied first). */
static CURLcode attempt(const char *url, const br_fetch_options *o, sink *s, long *http,
                        char *errbuf)
{
    *http = 0;
    s->bytes = 0;
    s->too_big = s->write_failed = 0;
    if (ftruncate(s->fd, 0) || lseek(s->fd, 0, SEEK_SET) < 0) {
        s->write_failed = 1;
        s->write_errno = errno;
        return CURLE_WRITE_ERROR;
    }
    CURL *h = curl_easy_init();
    if (!h) return CURLE_OUT_OF_MEMORY;
    errbuf[0] = 0;
    CURLcode c = CURLE_OK;
#define SET(opt, val)                                                                              \
    if (c == CURLE_OK) c = curl_easy_setopt(h, opt, val)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, MAX_REDIRECTS);
    SET(CURLOPT_FAILONERROR, 1L);
    SET(CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
    SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, o->timeout_ms);
    if (o->max_size) SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
    SET(CURLOPT_WRITEFUNCTION, on_data);
    SET(CURLOPT_WRITEDATA, s);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, s);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_USERAGENT, "bulkrepo/"
                           "fetch");
#undef SET
    if (c == CURLE_OK) c = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http);
    curl_easy_cleanup(h);
    return c;
}

int br_fetch_url(br_repo *repo, const char *url, const br_fetch_options *opt_in, char *out,
                 size_t size, br_error *err)
{
    br_fetch_options o = opt_in ? *opt_in : (br_fetch_options){0};
    if (!o.connect_timeout_ms) o.connect_timeout_ms = DEFAULT_CONNECT_MS;
    if (!o.timeout_ms) o.timeout_ms = DEFAULT_TIMEOUT_MS;
    if (!o.retries) o.retries = DEFAULT_RETRIES;
    if (o.retries < 0) o.retries = 0;
    if (!o.backoff_ms) o.backoff_ms = DEFAULT_BACKOFF_MS;
    if (!out || !size)
        return br_error_set(err, BR_EUSAGE, url, 0, 0, "br_fetch_url: no room for the path");
    out[0] = 0;
    if (!url || !is_http_url(url))
        return br_error_set(err, BR_EUSAGE, url, 0, 0,
                            "only http:// and https:// URLs are fetched");

    char path[4200];
    char base[4200];
    if (!repo) return br_error_set(err, BR_EUSAGE, url, 0, 0, "br_fetch_url: no repository");
    int n = snprintf(base, sizeof base, "%s/tmp", br_repo_dir(repo));
    if (n < 0 || (size_t)n >= sizeof base)
        return br_error_set(err, BR_ELIMIT, url, 0, 0, "the repository path is too long");
    int rc = br_mkdir_p(base, err);
    if (rc) return rc;
    /* "<tag>-<pid>-XXXXXX": br_repo_clean_stale removes it if this process dies. */
    n = snprintf(path, sizeof path, "%s/fetch-%ld-XXXXXX", base, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof path || (size_t)n >= size)
        return br_error_set(err, BR_ELIMIT, base, 0, 0, "path too long");
    sink s = {.fd = mkostemp(path, O_CLOEXEC), .max = o.max_size, .opt = &o};
    if (s.fd < 0)
        return br_error_set(err, BR_EIO, base, 0, 0, "cannot create a temporary file: %s",
                            strerror(errno));

    char errbuf[CURL_ERROR_SIZE];
    long http = 0, wait = o.backoff_ms;
    CURLcode c = CURLE_OK;
    for (int k = 0;; k++) {
        c = attempt(url, &o, &s, &http, errbuf);
        if (c == CURLE_OK || s.cancelled || s.too_big || s.write_failed) break;
        if (k >= o.retries || !transient(c, http)) break;
        sleep_ms(wait);
        wait = wait * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : wait * 2;
        if (o.cancelled && o.cancelled(o.cancel_ctx)) {
            s.cancelled = 1;
            break;
        }
    }
    if (s.cancelled)
        rc = br_error_set(err, BR_ECANCELLED, url, 0, 0, "download cancelled");
    else if (s.too_big || c == CURLE_FILESIZE_EXCEEDED)
        rc = br_error_set(err, BR_ELIMIT, url, 0, 0,
                          "the file is larger than the %llu bytes allowed",
                          (unsigned long long)o.max_size);
    else if (s.write_failed)
        rc = br_error_set(err, BR_EIO, path, 0, 0, "cannot write the download: %s",
                          strerror(s.write_errno));
    else if (c == CURLE_HTTP_RETURNED_ERROR)
        rc = br_error_set(err, BR_EIO, url, 0, 0, "the server answered HTTP %ld", http);
    else if (c == CURLE_OPERATION_TIMEDOUT)
        rc = br_error_set(err, BR_EIO, url, 0, 0, "timed out (%s)",
                          errbuf[0] ? errbuf : "no answer");
    else if (c == CURLE_UNSUPPORTED_PROTOCOL)
        rc = br_error_set(err, BR_EUSAGE, url, 0, 0,
                          "redirected to a URL that is not http or https");
    else if (c != CURLE_OK)
        rc = br_error_set(err, BR_EIO, url, 0, 0, "download failed: %s",
                          errbuf[0] ? errbuf : curl_easy_strerror(c));
    if (!rc && close(s.fd))
        rc =
            br_error_set(err, BR_EIO, path, 0, 0, "cannot write the download: %s", strerror(errno));
    else if (rc)
        close(s.fd);
    if (rc) {
        unlink(path);
        return rc;
    }
    br_strlcpy(out, path, size);
    return 0;
}
