/* ORCID clients (orcid_internal.h).
 *
 * The member API 3.0 removes a work from a record with
 *     DELETE {api}/v3.0/{orcid}/work/{put-code}
 *     Authorization: Bearer {token}        (a token with the /activities/update scope)
 *     Accept: application/vnd.orcid+json
 * answering 204 No Content when it is removed and 404 when the record has no such work (it is
 * gone already: the outcome the job wants as well).  401 and 403 (a token that is wrong,
 * expired, or not the record owner's grant) and other 4xx are final; 429 and 5xx, timeouts and
 * broken connections are tried again after a back-off that doubles.  Requests go through the
 * fetch policy (src/lib/net/fetch.h): a loopback or private API address must be allowed in the
 * repository's fetch-allow.txt. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include "core/core.h"
#include "net/api.h"
#include "net/fetch.h"
#include "orcid/orcid_internal.h"

/* ---- the recorder: nothing is sent ----------------------------------------------------------- */

typedef struct rec_state {
    char path[4200];
} rec_state;

static int rec_open(br_repo *repo, const char *api, const char *token, const br_orcid_http_opts *o,
                    void **state, br_error *err)
{
    rec_state *s = calloc(1, sizeof *s);
    if (!s) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    char dir[4200];
    int rc = br_path_join(dir, sizeof dir, br_repo_dir(repo), "orcid") ||
                     br_path_join(s->path, sizeof s->path, br_repo_dir(repo), BR_ORCID_LOG)
                 ? br_error_set(err, BR_ELIMIT, br_repo_dir(repo), 0, 0, "path too long")
                 : br_mkdir_p(dir, err);
    if (rc) {
        free(s);
        return rc;
    }
    *state = s;
    return 0;
}

static int rec_delete(void *state, const char *orcid, const char *put_code, br_orcid_answer *a,
                      br_error *err)
{
    rec_state *s = state;
    memset(a, 0, sizeof *a);
    char now[32], line[256];
    br_now_iso(now);
    int n = snprintf(line, sizeof line,
                     "%s DELETE /v3.0/%s/work/%s (not sent: no ORCID API "
                     "configured)\n",
                     now, orcid, put_code);
    int fd = open(s->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0 || n < 0 || br_write_all(fd, line, (size_t)n)) {
        int e = errno;
        if (fd >= 0) close(fd);
        return br_error_set(err, BR_EIO, s->path, 0, 0, "cannot write the ORCID request log: %s",
                            strerror(e));
    }
    close(fd);
    a->outcome = BR_ORCID_RECORDED;
    snprintf(
        a->message, sizeof a->message,
        "not sent (no ORCID API configured): DELETE /v3.0/%s/work/%s recorded in " BR_ORCID_LOG,
        orcid, put_code);
    return 0;
}

static void rec_close(void *state)
{
    free(state);
}

const br_orcid_client br_orcid_recorder = {"record", rec_open, rec_delete, rec_close};

/* ---- the member API -------------------------------------------------------------------------- */

typedef struct api_state {
    char api[512];
    char auth[1100]; /* "Authorization: Bearer TOKEN" */
    br_orcid_http_opts o;
    br_fetch_policy *policy;
} api_state;

static int api_open(br_repo *repo, const char *api, const char *token, const br_orcid_http_opts *o,
                    void **state, br_error *err)
{
    if (!api || !*api || !token || !*token)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "the ORCID member API needs its URL and an access token "
                            "(bulkrepo orcid config --api URL --token-file FILE)");
    api_state *s = calloc(1, sizeof *s);
    if (!s) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_strlcpy(s->api, api, sizeof s->api);
    size_t n = strlen(s->api);
    while (n && s->api[n - 1] == '/')
        s->api[--n] = 0;
    snprintf(s->auth, sizeof s->auth, "Authorization: Bearer %s", token);
    if (o) s->o = *o;
    if (s->o.timeout_ms <= 0) s->o.timeout_ms = 30000;
    if (s->o.tries <= 0) s->o.tries = 4;
    if (s->o.backoff_ms <= 0) s->o.backoff_ms = 1000;
    int rc = br_fetch_policy_load(br_repo_dir(repo), NULL, &s->policy, err);
    if (rc) {
        sodium_memzero(s->auth, sizeof s->auth);
        free(s);
        return rc;
    }
    *state = s;
    return 0;
}

static void api_close(void *state)
{
    api_state *s = state;
    if (!s) return;
    br_fetch_policy_free(s->policy);
    sodium_memzero(s->auth, sizeof s->auth);
    free(s);
}

/* One DELETE to the member API (net/api.h). */
static CURLcode one_request(api_state *s, const char *url, br_api_answer *b, br_error *perr)
{
    const char *const headers[] = {s->auth, "Accept: application/vnd.orcid+json", NULL};
    br_api_call call = {s->policy, "DELETE",        url,
                        NULL,      headers,         NULL,
                        NULL,      s->o.timeout_ms, "bulkrepo-orcid/1 (ORCID member API 3.0)"};
    return br_api_once(&call, b, perr);
}

/* ORCID's error answer: its developer-message (or user-message), else the start of the body. */
static void error_text(const br_api_answer *b, char *out, size_t size)
{
    out[0] = 0;
    json_t *j = b->n ? json_loads(b->body, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(j, "developer-message"));
    if (!m) m = json_string_value(json_object_get(j, "user-message"));
    if (m)
        snprintf(out, size, "%.300s", m);
    else if (b->n)
        snprintf(out, size, "%.200s", b->body);
    json_decref(j);
}

static int api_delete(void *state, const char *orcid, const char *put_code, br_orcid_answer *a,
                      br_error *err)
{
    api_state *s = state;
    memset(a, 0, sizeof *a);
    br_api_answer *b = malloc(sizeof *b);
    if (!b) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    char url[800], why[300] = "", detail[400];
    snprintf(url, sizeof url, "%s/v3.0/%s/work/%s", s->api, orcid, put_code);
    long wait = s->o.backoff_ms;
    int rc = 0;
    a->outcome = BR_ORCID_FAILED;
    for (;;) {
        br_error pe;
        CURLcode c = one_request(s, url, b, &pe);
        long http = b->http;
        int refused = b->refused, policy_rc = b->policy_rc;
        const char *errbuf = b->errbuf;
        a->tries++;
        a->http = c == CURLE_OK ? http : 0;
        if (policy_rc) {
            snprintf(a->message, sizeof a->message, "not sent: %.400s", pe.message);
            break;
        }
        if (refused) {
            snprintf(a->message, sizeof a->message,
                     "not sent: the ORCID API's host is not allowed (loopback, private and other "
                     "special addresses are refused unless " BR_FETCH_ALLOW_FILE " lists it)");
            break;
        }
        if (c == CURLE_OK && (http == 204 || http == 200)) {
            a->outcome = BR_ORCID_DELETED;
            snprintf(a->message, sizeof a->message, "deleted from ORCID (%ld%s%s)", http,
                     a->tries > 1 ? "; the try before: " : "", a->tries > 1 ? why : "");
            break;
        }
        if (c == CURLE_OK && http == 404) {
            a->outcome = BR_ORCID_GONE;
            snprintf(a->message, sizeof a->message, "already gone from ORCID (404)");
            break;
        }
        if (c == CURLE_OK && !br_api_transient(c, http)) {
            error_text(b, detail, sizeof detail);
            if (http == 401 || http == 403)
                snprintf(a->message, sizeof a->message,
                         "ORCID refused the access token (%ld%s%s): check it (bulkrepo orcid "
                         "config) and the researcher's grant",
                         http, detail[0] ? ": " : "", detail);
            else
                snprintf(a->message, sizeof a->message, "ORCID answered %ld: %s", http,
                         detail[0] ? detail : "(no details)");
            break;
        }
        /* 429, 5xx, a timeout or a broken connection: again after the back-off */
        if (c == CURLE_OK)
            snprintf(why, sizeof why, "%ld%s", http, http == 429 ? " Too Many Requests" : "");
        else
            snprintf(why, sizeof why, "%.250s", errbuf[0] ? errbuf : curl_easy_strerror(c));
        if (a->tries >= s->o.tries) {
            snprintf(a->message, sizeof a->message, "not deleted: %d tries, the last one: %s",
                     a->tries, why);
            break;
        }
        if (br_api_wait(wait, s->o.cancelled, s->o.cancel_ctx)) {
            rc = br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "cancelled");
            break;
        }
        wait *= 2;
    }
    free(b);
    return rc;
}

const br_orcid_client br_orcid_member_api = {"member-api", api_open, api_delete, api_close};
