/* One request to a web API under the fetch policy (api.h). */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "net/api.h"

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    br_api_answer *a = ctx;
    size_t len = size * n, room = BR_API_ANSWER_MAX - a->n;
    size_t k = len < room ? len : room; /* the rest is dropped */
    memcpy(a->body + a->n, p, k);
    a->n += k;
    a->body[a->n] = 0;
    return len;
}

CURLcode br_api_once(const br_api_call *call, br_api_answer *a, br_error *err)
{
    a->http = 0;
    a->n = 0;
    a->body[0] = 0;
    a->refused = 0;
    a->policy_rc = 0;
    a->errbuf[0] = 0;
    CURL *h = curl_easy_init();
    if (!h) return CURLE_OUT_OF_MEMORY;
    struct curl_slist *hdr = NULL;
    CURLcode c = CURLE_OK;
    for (size_t i = 0; call->headers && call->headers[i] && c == CURLE_OK; i++) {
        struct curl_slist *more = curl_slist_append(hdr, call->headers[i]);
        if (!more)
            c = CURLE_OUT_OF_MEMORY;
        else
            hdr = more;
    }
    br_fetch_guard g = {.policy = call->policy};
    if (c == CURLE_OK && (a->policy_rc = br_fetch_guard_url(&g, h, call->url, err)))
        c = CURLE_UNSUPPORTED_PROTOCOL;
#define SET(opt, val)                                                                              \
    if (c == CURLE_OK) c = curl_easy_setopt(h, opt, val)
    SET(CURLOPT_CUSTOMREQUEST, call->method);
    if (call->body) SET(CURLOPT_POSTFIELDS, call->body);
    if (hdr) SET(CURLOPT_HTTPHEADER, hdr);
    if (call->user) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, call->user);
        SET(CURLOPT_PASSWORD, call->password ? call->password : "");
    }
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, call->timeout_ms < 10000 ? call->timeout_ms : 10000L);
    SET(CURLOPT_TIMEOUT_MS, call->timeout_ms);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, a);
    SET(CURLOPT_ERRORBUFFER, a->errbuf);
    SET(CURLOPT_USERAGENT, call->agent);
#undef SET
    if (c == CURLE_OK) c = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->http);
    a->refused = g.refused;
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return c;
}

int br_api_transient(CURLcode c, long http)
{
    if (c == CURLE_OK) return http == 429 || http >= 500;
    return c == CURLE_OPERATION_TIMEDOUT || c == CURLE_COULDNT_CONNECT ||
           c == CURLE_COULDNT_RESOLVE_HOST || c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR ||
           c == CURLE_GOT_NOTHING || c == CURLE_PARTIAL_FILE;
}

int br_api_wait(long ms, int (*cancelled)(void *), void *ctx)
{
    while (ms > 0) {
        if (cancelled && cancelled(ctx)) return 1;
        long step = ms < 100 ? ms : 100;
        struct timespec ts = {0, step * 1000000L};
        while (nanosleep(&ts, &ts) && errno == EINTR) {
        }
        ms -= step;
    }
    return cancelled && cancelled(ctx);
}
