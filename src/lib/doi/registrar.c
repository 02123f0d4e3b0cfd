/* Registrars behind one interface (doi_internal.h): the local registrar, the embedded default
 * that needs nothing outside, and DataCite's REST API (JSON:API over libcurl).
 *
 * local:    <repo>/doi/<prefix>/<suffix>.xml (the suffix percent-encoded where it holds a
 *           character outside [A-Za-z0-9._-]) and one line per registration appended to
 *           <repo>/doi/registrations.log: time, DOI, state, handle, landing URL (tabs).
 * datacite: POST <api>/dois creates a DOI, PUT <api>/dois/<doi> updates one (a reserved DOI;
 *           a 404 falls back to POST), body {"data": {"type": "dois", "attributes": {"doi",
 *           "event": "register"|"publish", "url", "xml": base64}}}, basic auth with the
 *           profile's repository id and password, Content-Type application/vnd.api+json.
 *           429, 5xx, timeouts and connection failures are tried again after a back-off that
 *           doubles (1 s, 2 s, 4 s by default; 4 requests at most); any other 4xx is the
 *           answer.  Every request goes through the fetch policy (net/fetch.h): a loopback or
 *           private API address only when fetch-allow.txt or $BULKREPO_FETCH_ALLOW lists it. */
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
#include "doi/doi_internal.h"
#include "net/api.h"
#include "net/fetch.h"

/* ---- local --------------------------------------------------------------------------------- */

typedef struct local_state {
    char dir[4096];
} local_state;

static int local_open(br_repo *repo, const br_doi_profile *p, const char *password,
                      const br_doi_http_opts *o, void **state, br_error *err)
{
    local_state *s = calloc(1, sizeof *s);
    if (!s) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_strlcpy(s->dir, br_repo_dir(repo), sizeof s->dir);
    *state = s;
    return 0;
}

/* A DOI part as one safe file name: [A-Za-z0-9._-] kept, anything else as %XX, and a leading
 * '.' too (no hidden files, no "." or ".."). */
static int safe_name(const char *s, size_t n, char *out, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || (c == '.' && i);
        if (k + 4 > size) return BR_ELIMIT;
        if (keep)
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, size - k, "%%%02X", c);
    }
    out[k] = 0;
    return k ? 0 : BR_EINVAL;
}

static int local_submit(void *state, const br_doi_request *rq, br_doi_answer *a, br_error *err)
{
    local_state *s = state;
    memset(a, 0, sizeof *a);
    a->tries = 1;
    const char *slash = strchr(rq->doi, '/');
    char pre[64], suf[512], dir[4400], path[5000], log[4400];
    if (!slash || safe_name(rq->doi, (size_t)(slash - rq->doi), pre, sizeof pre) ||
        safe_name(slash + 1, strlen(slash + 1), suf, sizeof suf))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "'%s' is not a DOI this registrar can keep",
                            rq->doi);
    snprintf(dir, sizeof dir, "%s/doi/%s", s->dir, pre);
    snprintf(path, sizeof path, "%s/%s.xml", dir, suf);
    snprintf(log, sizeof log, "%s/doi/registrations.log", s->dir);
    int rc = br_mkdir_p(dir, err);
    if (!rc) rc = br_write_file_atomic(path, rq->xml, rq->xml_len, err);
    if (rc) return rc;
    const char *st = rq->publish ? "findable" : "registered";
    char now[32], line[2048];
    br_now_iso(now);
    int n = snprintf(line, sizeof line, "%s\t%s\t%s\t%s\t%s\n", now, rq->doi, st,
                     rq->handle ? rq->handle : "", rq->url ? rq->url : "");
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || br_write_all(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) ||
        fsync(fd)) {
        int e = errno;
        if (fd >= 0) close(fd);
        return br_error_set(err, BR_EIO, log, 0, 0, "cannot write the registration log: %s",
                            strerror(e));
    }
    close(fd);
    br_strlcpy(a->state, st, sizeof a->state);
    snprintf(a->message, sizeof a->message, "%s %s with the local registrar (doi/%s/%s.xml)", st,
             rq->doi, pre, suf);
    return 0;
}

static void local_close(void *state)
{
    free(state);
}

const br_doi_registrar br_doi_local = {"local", local_open, local_submit, local_close};

/* ---- DataCite REST ------------------------------------------------------------------------- */

typedef struct dc_state {
    char api[256];
    char user[128];
    char password[1100];
    br_doi_http_opts o;
    br_fetch_policy *policy;
} dc_state;

static int dc_open(br_repo *repo, const br_doi_profile *p, const char *password,
                   const br_doi_http_opts *o, void **state, br_error *err)
{
    dc_state *s = calloc(1, sizeof *s);
    if (!s) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_strlcpy(s->api, p->api_url[0] ? p->api_url : BR_DOI_DATACITE_API, sizeof s->api);
    size_t n = strlen(s->api);
    while (n && s->api[n - 1] == '/')
        s->api[--n] = 0;
    br_strlcpy(s->user, p->repository_id, sizeof s->user);
    br_strlcpy(s->password, password ? password : "", sizeof s->password);
    if (o) s->o = *o;
    if (s->o.timeout_ms <= 0) s->o.timeout_ms = 30000;
    if (s->o.tries <= 0) s->o.tries = 4;
    if (s->o.backoff_ms <= 0) s->o.backoff_ms = 1000;
    int rc = br_fetch_policy_load(br_repo_dir(repo), NULL, &s->policy, err);
    if (rc) {
        sodium_memzero(s->password, sizeof s->password);
        free(s);
        return rc;
    }
    *state = s;
    return 0;
}

static void dc_close(void *state)
{
    dc_state *s = state;
    if (!s) return;
    br_fetch_policy_free(s->policy);
    sodium_memzero(s->password, sizeof s->password);
    free(s);
}

/* One request to the DataCite API (net/api.h). */
static CURLcode one_request(dc_state *s, const char *method, const char *url, const char *body,
                            br_api_answer *ans, br_error *err)
{
    static const char *const HEADERS[] = {"Content-Type: application/vnd.api+json",
                                          "Accept: application/vnd.api+json", NULL};
    br_api_call call = {s->policy,   method,          url,
                        body,        HEADERS,         s->user,
                        s->password, s->o.timeout_ms, "bulkrepo-doi/1 (DataCite REST)"};
    return br_api_once(&call, ans, err);
}

/* The JSON:API errors of an answer, "title (source); ..." into out. */
static void api_errors(const char *body, char *out, size_t size)
{
    out[0] = 0;
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    json_t *errs = json_object_get(j, "errors"), *e;
    size_t i;
    json_array_foreach(errs, i, e)
    {
        const char *t = json_string_value(json_object_get(e, "title"));
        const char *src = json_string_value(json_object_get(e, "source"));
        size_t n = strlen(out);
        if (t)
            snprintf(out + n, size - n, "%s%s%s%s%s", n ? "; " : "", t, src ? " (" : "",
                     src ? src : "", src ? ")" : "");
    }
    json_decref(j);
    if (!out[0] && body) snprintf(out, size, "%.200s", body);
}

/* The DOI in a URL path: unreserved characters and '/' as they are, the rest %XX. */
static void path_doi(const char *doi, char *out, size_t size)
{
    size_t k = 0;
    for (const unsigned char *s = (const unsigned char *)doi; *s && k + 4 < size; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            strchr("-._~/", *s))
            out[k++] = (char)*s;
        else
            k += (size_t)snprintf(out + k, size - k, "%%%02X", *s);
    }
    out[k] = 0;
}

static char *request_body(const br_doi_request *rq, int with_id)
{
    size_t n = sodium_base64_ENCODED_LEN(rq->xml_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(n);
    if (!b64) return NULL;
    sodium_bin2base64(b64, n, (const unsigned char *)rq->xml, rq->xml_len,
                      sodium_base64_VARIANT_ORIGINAL);
    json_t *attrs = json_pack("{s:s,s:s,s:s?,s:s}", "doi", rq->doi, "event",
                              rq->publish ? "publish" : "register", "url", rq->url, "xml", b64);
    free(b64);
    json_t *data = attrs ? json_pack("{s:s,s:o}", "type", "dois", "attributes", attrs) : NULL;
    if (data && with_id) json_object_set_new(data, "id", json_string(rq->doi));
    json_t *doc = data ? json_pack("{s:o}", "data", data) : NULL;
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

/* One try's outcome: 0 registered, 1 try again (why filled), else the failure (a->message). */
static int dc_try(dc_state *s, const br_doi_request *rq, br_doi_answer *a, int *put,
                  br_api_answer *ans, char *why, size_t why_size, br_error *err)
{
    char url[1024], enc[600];
    path_doi(rq->doi, enc, sizeof enc);
    if (*put)
        snprintf(url, sizeof url, "%s/dois/%s", s->api, enc);
    else
        snprintf(url, sizeof url, "%s/dois", s->api);
    char *body = request_body(rq, *put);
    if (!body) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_error pe;
    CURLcode c = one_request(s, *put ? "PUT" : "POST", url, body, ans, &pe);
    free(body);
    long http = ans->http;
    a->tries++;
    a->http = c == CURLE_OK ? http : 0;
    if (ans->policy_rc) {
        if (err) *err = pe;
        snprintf(a->message, sizeof a->message, "not sent: %.900s", pe.message);
        return ans->policy_rc;
    }
    if (ans->refused) {
        snprintf(a->message, sizeof a->message,
                 "not sent: the DataCite API's host is not allowed (loopback, private and "
                 "other special addresses are refused unless " BR_FETCH_ALLOW_FILE " lists it)");
        return br_error_set(err, BR_EDENIED, url, 0, 0, "%s", a->message);
    }
    if (c == CURLE_OK && *put && http == 404) { /* reserved here, unknown there: create it */
        *put = 0;
        return dc_try(s, rq, a, put, ans, why, why_size, err);
    }
    if (c == CURLE_OK && (http == 200 || http == 201)) {
        json_t *j = json_loads(ans->body, 0, NULL);
        const char *st = json_string_value(
            json_object_get(json_object_get(json_object_get(j, "data"), "attributes"), "state"));
        br_strlcpy(a->state, st ? st : (rq->publish ? "findable" : "registered"), sizeof a->state);
        json_decref(j);
        char tries[400] = "";
        if (a->tries > 1)
            snprintf(tries, sizeof tries, "; %d tries, the one before: %.300s", a->tries, why);
        snprintf(a->message, sizeof a->message, "%s %s at DataCite (%s: %ld%s)", a->state, rq->doi,
                 *put ? "PUT" : "POST", http, tries);
        return 0;
    }
    if (c == CURLE_OK && !br_api_transient(c, http)) {
        char detail[700];
        api_errors(ans->body, detail, sizeof detail);
        int rc;
        if (http == 401 || http == 403) {
            snprintf(a->message, sizeof a->message,
                     "DataCite refused the credentials (%ld): check the profile's repository "
                     "id and password",
                     http);
            rc = BR_EAUTH;
        } else {
            snprintf(a->message, sizeof a->message, "DataCite answered %ld: %s", http,
                     detail[0] ? detail : "(no details)");
            rc = BR_EINVAL;
        }
        return br_error_set(err, rc, NULL, 0, 0, "%s", a->message);
    }
    /* 429, 5xx, a timeout or a broken connection: again after the back-off */
    if (c == CURLE_OK)
        snprintf(why, why_size, "%ld%s", http, http == 429 ? " Too Many Requests" : "");
    else
        snprintf(why, why_size, "%s", ans->errbuf[0] ? ans->errbuf : curl_easy_strerror(c));
    return 1;
}

static int dc_submit(void *state, const br_doi_request *rq, br_doi_answer *a, br_error *err)
{
    dc_state *s = state;
    memset(a, 0, sizeof *a);
    int put = rq->exists, rc;
    char why[600] = "";
    long wait = s->o.backoff_ms;
    br_api_answer *ans = malloc(sizeof *ans);
    if (!ans) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    while ((rc = dc_try(s, rq, a, &put, ans, why, sizeof why, err)) == 1) {
        if (a->tries >= s->o.tries) {
            snprintf(a->message, sizeof a->message,
                     "DataCite did not register %s: %d tries, the last one: %s", rq->doi, a->tries,
                     why);
            rc = br_error_set(err, BR_EIO, NULL, 0, 0, "%s", a->message);
            break;
        }
        br_api_wait(wait, NULL, NULL);
        wait *= 2;
    }
    free(ans);
    return rc;
}

const br_doi_registrar br_doi_datacite = {"datacite", dc_open, dc_submit, dc_close};

const br_doi_registrar *br_doi_registrar_for(const char *agency)
{
    if (agency && !strcmp(agency, "datacite")) return &br_doi_datacite;
    if (agency && !strcmp(agency, "local")) return &br_doi_local;
    return NULL;
}
