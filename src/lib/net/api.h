/* One request to a web API (DataCite's REST API, ORCID's member API) under the fetch policy
 * (fetch.h: no loopback, private or special address unless the repository allows it, checked
 * on every connection): the transport the registrar and the ORCID client share.  The retry
 * loop stays with each client (what to retry and how to report it is theirs). */
#ifndef BR_NET_API_H
#define BR_NET_API_H

#include <curl/curl.h>
#include "bulkrepo/error.h"
#include "net/fetch.h"

#define BR_API_ANSWER_MAX (1024 * 1024) /* the body kept of an answer; the rest is dropped */

typedef struct br_api_call {
    br_fetch_policy *policy;
    const char *method; /* "POST", "PUT", "DELETE", ... */
    const char *url;
    const char *body;            /* NULL: none */
    const char *const *headers;  /* NULL-terminated "Name: value" lines, or NULL */
    const char *user, *password; /* basic auth when user is set */
    long timeout_ms;
    const char *agent;
} br_api_call;

/* About 1 MB: allocate it (malloc), do not put it on the stack. */
typedef struct br_api_answer {
    long http; /* the status, 0 when there was no answer */
    char body[BR_API_ANSWER_MAX + 1];
    size_t n;
    int refused;   /* the policy refused an address while connecting */
    int policy_rc; /* the policy refused the URL itself (err filled) */
    char errbuf[CURL_ERROR_SIZE];
} br_api_answer;

/* Sends one request: CURLE_OK with a->http (any status) and the body, or a libcurl failure
 * (a->refused / a->policy_rc say when the policy stopped it). */
CURLcode br_api_once(const br_api_call *call, br_api_answer *a, br_error *err);
/* 1 when trying again later may help: 429, 5xx, a timeout or a broken connection. */
int br_api_transient(CURLcode c, long http);
/* Waits ms in steps of at most 100 ms; 1 when cancelled() (may be NULL) says stop. */
int br_api_wait(long ms, int (*cancelled)(void *), void *ctx);

#endif
