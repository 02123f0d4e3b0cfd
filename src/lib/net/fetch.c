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
    char disposition[512], content_type[128]; /* of the answer being received */
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

/* The value of header line p (len bytes) when it is `name` (lowercase, with its colon), cut
 * to size in out; 0 when the line is another header. */
static int header_value(const char *p, size_t len, const char *name, char *out, size_t size)
{
    size_t k = strlen(name);
    if (len < k || strncasecmp(p, name, k)) return 0;
    const char *v = p + k, *e = p + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
        e--;
    size_t m = (size_t)(e - v) < size - 1 ? (size_t)(e - v) : size - 1;
    memcpy(out, v, m);
    out[m] = 0;
    return 1;
}

/* Header lines of the answer: a status line starts the next answer (a redirect's target, a
 * retry), so the values kept are the final answer's. */
static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    sink *s = ctx;
    size_t len = size * n;
    if (len >= 5 && !strncmp(p, "HTTP/", 5)) s->disposition[0] = s->content_type[0] = 0;
    if (!header_value(p, len, "content-disposition:", s->disposition, sizeof s->disposition))
        header_value(p, len, "content-type:", s->content_type, sizeof s->content_type);
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

/* Empties the file for the next answer (a retry, or the body after a redirect). */
static int sink_reset(sink *s)
{
    s->bytes = 0;
    s->too_big = s->write_failed = 0;
    if (ftruncate(s->fd, 0) || lseek(s->fd, 0, SEEK_SET) < 0) {
        s->write_failed = 1;
        s->write_errno = errno;
        return -1;
    }
    return 0;
}

/* What one attempt ended with, beyond libcurl's code. */
typedef struct outcome {
    long http;
    int refused;      /* the policy refused an address */
    int bad_redirect; /* redirected to a URL that is not http(s) */
    int redirects;    /* too many */
    br_error policy;  /* a malformed URL after a redirect, etc. */
    int policy_rc;
} outcome;

/* One attempt into s->fd (emptied first): the URL and each redirect, one
 * request at a time, each under the policy. */
static CURLcode attempt(const char *url, const br_fetch_options *o, const br_fetch_policy *pol,
                        sink *s, outcome *out, char *errbuf)
{
    memset(out, 0, sizeof *out);
    if (sink_reset(s)) return CURLE_WRITE_ERROR;
    CURL *h = curl_easy_init();
    if (!h) return CURLE_OUT_OF_MEMORY;
    char *next = strdup(url);
    if (!next) {
        curl_easy_cleanup(h);
        return CURLE_OUT_OF_MEMORY;
    }
    br_fetch_guard g = {.policy = pol};
    int64_t deadline = br_mono_ms() + o->timeout_ms;
    CURLcode c = CURLE_OK;
    for (int hop = 0;; hop++) {
        if (hop > BR_FETCH_REDIRECTS) {
            out->redirects = 1;
            c = CURLE_TOO_MANY_REDIRECTS;
            break;
        }
        if (sink_reset(s)) {
            c = CURLE_WRITE_ERROR;
            break;
        }
        if ((out->policy_rc = br_fetch_guard_url(&g, h, next, &out->policy))) {
            out->bad_redirect = hop > 0 && out->policy_rc == BR_EUSAGE;
            c = CURLE_UNSUPPORTED_PROTOCOL;
            break;
        }
        long left = (long)(deadline - br_mono_ms()); /* CURLOPT_TIMEOUT_MS takes a long */
        if (left <= 0) {
            c = CURLE_OPERATION_TIMEDOUT;
            break;
        }
        errbuf[0] = 0;
#define SET(opt, val)                                                                              \
    if (c == CURLE_OK) c = curl_easy_setopt(h, opt, val)
        SET(CURLOPT_FAILONERROR, 1L);
        SET(CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
        SET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
        SET(CURLOPT_TIMEOUT_MS, left);
        if (o->max_size) SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_size);
        SET(CURLOPT_WRITEFUNCTION, on_data);
        SET(CURLOPT_WRITEDATA, s);
        SET(CURLOPT_XFERINFOFUNCTION, on_progress);
        SET(CURLOPT_XFERINFODATA, s);
        SET(CURLOPT_HEADERFUNCTION, on_header);
        SET(CURLOPT_HEADERDATA, s);
        SET(CURLOPT_NOPROGRESS, 0L);
        SET(CURLOPT_ERRORBUFFER, errbuf);
        SET(CURLOPT_USERAGENT, "bulkrepo/"
                               "fetch");
#undef SET
        if (c == CURLE_OK) c = curl_easy_perform(h);
        out->http = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->http);
        if (g.refused) {
            out->refused = 1;
            break;
        }
        char *loc = NULL;
        if (c != CURLE_OK || out->http < 300 || out->http > 399 ||
            curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc) != CURLE_OK || !loc)
            break;
        char *copy = strdup(loc);
        if (!copy) {
            c = CURLE_OUT_OF_MEMORY;
            break;
        }
        free(next);
        next = copy;
    }
    free(next);
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
    if (o.disabled)
        return br_error_set(err, BR_EDENIED, url, 0, 0,
                            "remote files are not fetched for this job (fetching is turned off)");

    char path[4200];
    char base[4200];
    if (!repo) return br_error_set(err, BR_EUSAGE, url, 0, 0, "br_fetch_url: no repository");
    int n = snprintf(base, sizeof base, "%s/tmp", br_repo_dir(repo));
    if (n < 0 || (size_t)n >= sizeof base)
        return br_error_set(err, BR_ELIMIT, url, 0, 0, "the repository path is too long");
    br_fetch_policy *pol = NULL;
    int rc = br_fetch_policy_load(br_repo_dir(repo), o.allow, &pol, err);
    if (rc) return rc;
    if ((rc = br_mkdir_p(base, err))) {
        br_fetch_policy_free(pol);
        return rc;
    }
    /* "<tag>-<pid>-XXXXXX": br_repo_clean_stale removes it if this process dies. */
    n = snprintf(path, sizeof path, "%s/fetch-%ld-XXXXXX", base, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof path || (size_t)n >= size) {
        br_fetch_policy_free(pol);
        return br_error_set(err, BR_ELIMIT, base, 0, 0, "path too long");
    }
    sink s = {.fd = mkostemp(path, O_CLOEXEC), .max = o.max_size, .opt = &o};
    if (s.fd < 0) {
        br_fetch_policy_free(pol);
        return br_error_set(err, BR_EIO, base, 0, 0, "cannot create a temporary file: %s",
                            strerror(errno));
    }

    char errbuf[CURL_ERROR_SIZE];
    long wait = o.backoff_ms;
    CURLcode c = CURLE_OK;
    outcome oc;
    for (int k = 0;; k++) {
        c = attempt(url, &o, pol, &s, &oc, errbuf);
        if (c == CURLE_OK || s.cancelled || s.too_big || s.write_failed || oc.refused ||
            oc.policy_rc)
            break;
        if (k >= o.retries || !transient(c, oc.http)) break;
        br_sleep_ms(wait);
        wait = wait * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : wait * 2;
        if (o.cancelled && o.cancelled(o.cancel_ctx)) {
            s.cancelled = 1;
            break;
        }
    }
    long http = oc.http;
    br_fetch_policy_free(pol);
    if (s.cancelled)
        rc = br_error_set(err, BR_ECANCELLED, url, 0, 0, "download cancelled");
    else if (oc.refused)
        /* The host only: no address, port or error text (not a network scanner). */
        rc = br_error_set(
            err, BR_EDENIED, url, 0, 0,
            "not fetched: the host is not allowed (loopback, private and other "
            "special addresses are refused unless the repository's " BR_FETCH_ALLOW_FILE
            " lists the host)");
    else if (oc.bad_redirect)
        rc = br_error_set(err, BR_EUSAGE, url, 0, 0,
                          "redirected to a URL that is not http or https");
    else if (oc.policy_rc) {
        rc = oc.policy_rc;
        if (err) *err = oc.policy;
    } else if (oc.redirects)
        rc = br_error_set(err, BR_EIO, url, 0, 0, "download failed: more than %d redirects",
                          BR_FETCH_REDIRECTS);
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
    if (o.disposition && o.disposition_size)
        br_strlcpy(o.disposition, s.disposition, o.disposition_size);
    if (o.content_type && o.content_type_size)
        br_strlcpy(o.content_type, s.content_type, o.content_type_size);
    return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p, (void)ctx;
    return size * n;
}

int br_fetch_post(const char *repo_dir, const char *url, const char *content_type, const char *body,
                  long timeout_ms, long *status, br_error *err)
{
    if (status) *status = 0;
    if (!url || !is_http_url(url))
        return br_error_set(err, BR_EUSAGE, url, 0, 0, "only http:// and https:// URLs are used");
    br_fetch_policy *pol = NULL;
    int rc = br_fetch_policy_load(repo_dir, NULL, &pol, err);
    if (rc) return rc;
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    char line[256];
    snprintf(line, sizeof line, "Content-Type: %s",
             content_type ? content_type : "application/octet-stream");
    if (!h || !(hdr = curl_slist_append(NULL, line))) {
        rc = br_error_set(err, BR_ENOMEM, url, 0, 0, "out of memory");
        goto done;
    }
    br_fetch_guard g = {.policy = pol};
    if ((rc = br_fetch_guard_url(&g, h, url, err))) goto done;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode c = CURLE_OK;
#define SET(opt, val)                                                                              \
    if (c == CURLE_OK) c = curl_easy_setopt(h, opt, val)
    SET(CURLOPT_POSTFIELDS, body ? body : "");
    SET(CURLOPT_HTTPHEADER, hdr);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 5000L);
    SET(CURLOPT_WRITEFUNCTION, discard);
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_USERAGENT, "bulkrepo-webhook/1");
#undef SET
    if (c == CURLE_OK) c = curl_easy_perform(h);
    long http = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http);
    if (g.refused)
        rc = br_error_set(err, BR_EDENIED, url, 0, 0,
                          "not sent: the host is not allowed (loopback, private and other "
                          "special addresses are refused unless " BR_FETCH_ALLOW_FILE
                          " lists the host)");
    else if (c != CURLE_OK)
        rc = br_error_set(err, BR_EIO, url, 0, 0, "the request failed: %s",
                          errbuf[0] ? errbuf : curl_easy_strerror(c));
    else if (status)
        *status = http;
done:
    curl_slist_free_all(hdr);
    if (h) curl_easy_cleanup(h);
    br_fetch_policy_free(pol);
    return rc;
}
