/* `bulkrepo serve` as a child process, for the tests that speak to its HTTP API
 * (test_api.c, test_deliver.c, test_sets.c, test_search.c, test_setjobs.c,
 * test_ftp.c, test_pull.c), with the users and tokens they need.  Include it
 * after cli_fixture.h.
 *
 *   sf_server s = {0};
 *   sf_add_user(f, "admin", "General System Administrator", "a-password-1");
 *   sf_token(f, "admin", token);
 *   const char *const args[] = {"--workers", "1", NULL};
 *   sf_start(f, &s, args);   ... s.url "http://127.0.0.1:PORT" (no trailing '/') ...
 *   assert_int_equal(sf_stop(&s), 0);
 *
 * sf_start runs `$BULKREPO_BIN --repo DIR/r serve --listen 127.0.0.1:0 EXTRA...`
 * with the test's environment, stdout in DIR/serve.out and stderr in
 * DIR/serve.err (tests read them), in a process group of its own, and waits
 * (at most SF_START_WAIT_MS) for its line `listening on URL`.  It fails the
 * test, printing the tail of the server's stderr, when the server exits first
 * or never prints its address (then it is killed, and s->pid is 0).
 *
 * sf_stop sends SIGTERM (a clean shutdown is part of what is tested), waits at
 * most SF_STOP_WAIT_MS, then kills the process group.  It returns 1 when the
 * server did not exit 0 by itself or its stderr holds a sanitizer report (both
 * printed), else 0; a server that was not started (pid 0) is a no-op (0).  It
 * never fails the test itself, so a group teardown can still clean up and
 * return its result.
 *
 * One HTTP client (libcurl) for every test that speaks to the server; the test
 * calls curl_global_init in its setup, as libcurl asks:
 *
 *   sf_rq o = {.bearer = token, .json = "{\"name\":\"x\"}"};
 *   sf_resp r;
 *   sf_http(&s, "POST", "/api/sets", &o, &r);
 *   SF_EXPECT(&r, 201);   ... r.json (NULL when the body is not JSON), r.body ...
 *   sf_resp_free(&r);
 *
 * sf_http sends METHOD s->url PATH (PATH as given: CURLOPT_PATH_AS_IS, so ".."
 * reaches the server) with the options of o (NULL: none), at most one body:
 * o->json (application/json), else o->raw (raw_len bytes as o->ctype, default
 * application/octet-stream; o->chunked: Transfer-Encoding chunked), else
 * o->mime (the caller's, used as it is and still the caller's), else o->form
 * (NULL-terminated name, value pairs sent as multipart/form-data); a POST
 * without any of them sends an empty body.  o->bearer adds "Authorization:
 * Bearer", o->cookie is sent as the Cookie header ("bulkrepo_session=..."),
 * o->csrf as X-CSRF-Token.  It waits at most 60 s; a request that gets no
 * answer (curl's error) is printed and fails the test.  *out is filled anew
 * (never read first): the status, the body and the response's header lines
 * (both NUL-terminated, never NULL, len/hlen without the NUL) and the body
 * parsed as JSON (or NULL); sf_resp_free releases them and zeroes *out. */
#ifndef BR_SERVE_FIXTURE_H
#define BR_SERVE_FIXTURE_H

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include "cli_fixture.h"

#define SF_START_WAIT_MS 10000
#define SF_STOP_WAIT_MS  20000
#define SF_POLL_MS       25

typedef struct sf_server {
    pid_t pid;          /* 0: not running */
    char url[128];      /* e.g. http://127.0.0.1:41234 */
    char out[PATH_MAX]; /* DIR/serve.out */
    char err[PATH_MAX]; /* DIR/serve.err */
} sf_server;

/* The last `max` bytes of the server's stderr (malloc'd, never NULL). */
static inline char *sf_err_tail(const sf_server *s, size_t max)
{
    char *e = tu_read(s->err);
    if (!e) return strdup("(no stderr)");
    size_t n = strlen(e);
    if (n > max) memmove(e, e + n - max, max + 1);
    return e;
}

/* Waits up to ms for the child to end: 1 with *st set, else 0. */
static inline int sf_wait(pid_t pid, int *st, int ms)
{
    for (int waited = 0;; waited += SF_POLL_MS) {
        pid_t r = waitpid(pid, st, WNOHANG);
        if (r == pid) return 1;
        if (r < 0) { /* not our child any more: nothing left to wait for */
            *st = 0;
            return 1;
        }
        if (waited >= ms) return 0;
        usleep(SF_POLL_MS * 1000);
    }
}

/* Kills the process group and reaps the server. */
static inline void sf_kill(sf_server *s)
{
    int st;
    kill(-s->pid, SIGKILL);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &st, 0);
    s->pid = 0;
}

static inline void sf_start(fx *f, sf_server *s, const char *const *extra_args)
{
    const char *argv[64];
    size_t n = 0;
    argv[n++] = tu_bin();
    argv[n++] = "--repo";
    argv[n++] = f->repo;
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    for (size_t i = 0; extra_args && extra_args[i]; i++) {
        assert_true(n < sizeof argv / sizeof argv[0] - 1);
        argv[n++] = extra_args[i];
    }
    argv[n] = NULL;
    int w1 = snprintf(s->out, sizeof s->out, "%s/serve.out", f->dir);
    int w2 = snprintf(s->err, sizeof s->err, "%s/serve.err", f->dir);
    assert_true(w1 > 0 && (size_t)w1 < sizeof s->out && w2 > 0 && (size_t)w2 < sizeof s->err);
    s->url[0] = 0;
    /* Opened (and emptied) here, before the fork: an earlier server's `listening on` line
     * in the same folder cannot be taken for this one's. */
    int ofd = open(s->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644),
        efd = open(s->err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(ofd >= 0 && efd >= 0);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (!s->pid) {
        setpgid(0, 0); /* sf_stop can kill whatever it starts, too */
        dup2(ofd, 1);
        dup2(efd, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(ofd);
    close(efd);
    setpgid(s->pid, s->pid); /* also here: no race with an early sf_stop */
    for (int waited = 0; waited < SF_START_WAIT_MS; waited += SF_POLL_MS) {
        char *out = tu_read(s->out);
        const char *p = out ? strstr(out, "listening on ") : NULL;
        if (p && strchr(p, '\n')) {
            sscanf(p + 13, "%127s", s->url);
            size_t len = strlen(s->url);
            if (len && s->url[len - 1] == '/') s->url[len - 1] = 0;
            free(out);
            return;
        }
        free(out);
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            char *e = sf_err_tail(s, 2000);
            print_error("bulkrepo serve exited (status %d) before printing its address:\n%s\n",
                        WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), e);
            free(e);
            fail();
        }
        usleep(SF_POLL_MS * 1000);
    }
    sf_kill(s);
    char *e = sf_err_tail(s, 2000);
    print_error("bulkrepo serve did not print its address within %d ms:\n%s\n", SF_START_WAIT_MS,
                e);
    free(e);
    fail();
}

static inline int sf_stop(sf_server *s)
{
    if (!s || s->pid <= 0) return 0;
    int st = 0, bad = 0;
    kill(s->pid, SIGTERM);
    if (!sf_wait(s->pid, &st, SF_STOP_WAIT_MS)) {
        print_error("bulkrepo serve did not stop within %d ms of SIGTERM: killed\n",
                    SF_STOP_WAIT_MS);
        sf_kill(s);
        bad = 1;
    } else {
        s->pid = 0;
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            print_error("bulkrepo serve exited with status %d on SIGTERM\n",
                        WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
            bad = 1;
        }
    }
    char *err = tu_read(s->err);
    if (err && (strstr(err, "Sanitizer") || strstr(err, "runtime error:"))) {
        print_error("bulkrepo serve:\n%s\n", err);
        bad = 1;
    }
    free(err);
    return bad;
}

/* `bulkrepo user add NAME --role ROLE --password-stdin` with that password. */
static inline void sf_add_user(fx *f, const char *name, const char *role, const char *password)
{
    SH(f, 0, "printf '%%s\\n' '%s' | \"$BR\" --repo '%s' user add %s --role '%s' --password-stdin",
       password, f->repo, name, role);
}

/* The API token of a user (`bulkrepo user token NAME`), into out. */
static inline void sf_token(fx *f, const char *name, char out[64])
{
    RUN(f, 0, "user token %s", name);
    fx_chomp(f->out);
    assert_true(f->out[0] && strlen(f->out) < 64);
    snprintf(out, 64, "%s", f->out);
}

/* ---- the HTTP client (contract at the top) ---------------------------------------------- */

typedef struct sf_resp {
    long status;
    char *body; /* NUL-terminated, never NULL */
    size_t len;
    char *headers; /* the response's header lines, NUL-terminated, never NULL */
    size_t hlen;
    json_t *json; /* body as JSON, or NULL */
} sf_resp;

/* Options of one request (all may be 0/NULL). */
typedef struct sf_rq {
    const char *bearer; /* Authorization: Bearer */
    const char *cookie; /* "bulkrepo_session=..." */
    const char *csrf;   /* X-CSRF-Token */
    const char *json;   /* a body sent as application/json */
    const char *raw;    /* a body of raw_len bytes sent as ctype */
    size_t raw_len;
    const char *ctype;
    curl_mime *mime;         /* a multipart body (the caller's) */
    const char *const *form; /* NULL-terminated name, value pairs sent as multipart */
    int chunked;             /* send raw with chunked encoding (no Content-Length) */
} sf_rq;

typedef struct sf_sink {
    char *p;
    size_t len;
} sf_sink;

static inline size_t sf_on_data(char *p, size_t size, size_t n, void *ctx)
{
    sf_sink *s = ctx;
    size_t add = size * n;
    char *b = realloc(s->p, s->len + add + 1);
    assert_non_null(b);
    memcpy(b + s->len, p, add);
    s->len += add;
    b[s->len] = 0;
    s->p = b;
    return add;
}

static inline void sf_resp_free(sf_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

static inline void sf_http(const sf_server *s, const char *method, const char *path, const sf_rq *o,
                           sf_resp *out)
{
    static const sf_rq none = {0};
    if (!o) o = &none;
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[4096], line[512];
    snprintf(url, sizeof url, "%s%s", s->url, path);
    struct curl_slist *h = NULL;
    if (o->bearer) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", o->bearer);
        h = curl_slist_append(h, line);
    }
    if (o->csrf) {
        snprintf(line, sizeof line, "X-CSRF-Token: %s", o->csrf);
        h = curl_slist_append(h, line);
    }
    if (o->cookie) curl_easy_setopt(c, CURLOPT_COOKIE, o->cookie);
    curl_mime *form = NULL;
    if (o->json) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->json);
    } else if (o->raw) {
        snprintf(line, sizeof line, "Content-Type: %s",
                 o->ctype ? o->ctype : "application/octet-stream");
        h = curl_slist_append(h, line);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->raw);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->raw_len);
        if (o->chunked) h = curl_slist_append(h, "Transfer-Encoding: chunked");
    } else if (o->mime) {
        curl_easy_setopt(c, CURLOPT_MIMEPOST, o->mime);
    } else if (o->form) {
        form = curl_mime_init(c);
        for (size_t i = 0; o->form[i]; i += 2) {
            curl_mimepart *p = curl_mime_addpart(form);
            curl_mime_name(p, o->form[i]);
            curl_mime_data(p, o->form[i + 1], CURL_ZERO_TERMINATED);
        }
        curl_easy_setopt(c, CURLOPT_MIMEPOST, form);
    } else if (!strcmp(method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send "..", do not let curl clean it */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    sf_sink body = {0}, hdr = {0};
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sf_on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, sf_on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) print_error("%s %s: %s\n", method, path, curl_easy_strerror(rc));
    assert_int_equal(rc, CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_cleanup(c);
    curl_mime_free(form);
    curl_slist_free_all(h);
    out->body = body.p ? body.p : strdup("");
    out->len = body.len;
    out->headers = hdr.p ? hdr.p : strdup("");
    out->hlen = hdr.len;
    assert_true(out->body && out->headers);
    out->json = json_loadb(out->body, out->len, 0, NULL);
}

/* Fails the test, printing the status and the body, unless r's status is want. */
#define SF_EXPECT(r, want)                                                                         \
    do {                                                                                           \
        if ((r)->status != (long)(want))                                                           \
            print_error("HTTP %ld, expected %ld: %s\n", (r)->status, (long)(want), (r)->body);     \
        assert_int_equal((r)->status, (want));                                                     \
    } while (0)

#endif
