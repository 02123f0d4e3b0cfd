/* Limits of `bulkrepo serve` under hostile load (issue 12 items 2 and 3):
 * a login flood neither slows other requests nor lets a brute force through;
 * slow clients cannot take the connections; one address is capped.  Each test
 * starts its own server (options differ) on a free loopback port.  All load
 * goes to 127.0.0.1 and is bounded in count and time. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include "cli_fixture.h"

typedef struct server {
    fx f;
    pid_t pid;
    char url[128];
    unsigned port;
    char token[64];
} server;

static void start(server *s, const char *opts)
{
    fx *f = &s->f;
    memset(s, 0, sizeof *s);
    f->dir = tu_tmpdir();
    snprintf(f->repo, sizeof f->repo, "%s/r", f->dir);
    fx_init(f);
    SH(f, 0,
       "printf 'reader-password\\n' | \"$BR\" --repo r user add reader --role 'Repository "
       "Manager' --password-stdin && printf 'victim-password\\n' | \"$BR\" --repo r user add "
       "victim --role 'Repository Manager' --password-stdin && printf 'flood-password\\n' | "
       "\"$BR\" --repo r user add flood --role 'Repository Manager' --password-stdin");
    RUN(f, 0, "user token reader");
    fx_chomp(f->out);
    snprintf(s->token, sizeof s->token, "%s", f->out);
    char out[4400], err[4400], cmd[20000];
    snprintf(out, sizeof out, "%s/serve.out", f->dir);
    snprintf(err, sizeof err, "%s/serve.err", f->dir);
    snprintf(cmd, sizeof cmd, "exec \"%s\" --repo '%s' serve --listen 127.0.0.1:0 %s >'%s' 2>'%s'",
             tu_bin(), f->repo, opts, out, err);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (!s->pid) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) {
        char *t = tu_read(out);
        const char *p = t ? strstr(t, "listening on ") : NULL;
        if (p && strchr(p, '\n')) {
            sscanf(p + 13, "%127s", s->url);
            size_t n = strlen(s->url);
            if (n && s->url[n - 1] == '/') s->url[n - 1] = 0;
            s->port = (unsigned)atoi(strrchr(s->url, ':') + 1);
            free(t);
            return;
        }
        free(t);
        usleep(25000);
    }
    char *e = tu_read(err);
    fail_msg("bulkrepo serve did not start: %s", e ? e : "");
}

static void stop(server *s)
{
    int st = 0;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, &st, 0);
    char path[4400];
    snprintf(path, sizeof path, "%s/serve.err", s->f.dir);
    char *err = tu_read(path);
    int sanitizer = err && (strstr(err, "Sanitizer") || strstr(err, "runtime error:"));
    if (sanitizer) print_error("bulkrepo serve:\n%s\n", err);
    free(err);
    tu_rmtree(s->f.dir);
    free(s->f.dir);
    fx_reset_output(&s->f);
    assert_false(sanitizer);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static size_t keep(char *p, size_t size, size_t n, void *ctx)
{
    char *buf = ctx;
    size_t len = strlen(buf), add = size * n;
    size_t room = 4095 - len;
    memcpy(buf + len, p, add < room ? add : room);
    buf[len + (add < room ? add : room)] = 0;
    return add;
}

/* One request; returns the status (0 when the connection failed); headers
 * and body (4 KB each at most) when wanted; *secs its time. */
static long req(const server *s, const char *method, const char *path, const char *bearer,
                const char *json, char *hdr, char *body, double *secs, long timeout_ms)
{
    CURL *c = curl_easy_init();
    char url[512], auth[128], h_[4096] = "", b_[4096] = "";
    snprintf(url, sizeof url, "%s%s", s->url, path);
    struct curl_slist *h = NULL;
    if (bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
        h = curl_slist_append(h, auth);
    }
    if (json) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body ? body : b_);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, hdr ? hdr : h_);
    if (body) body[0] = 0;
    if (hdr) hdr[0] = 0;
    double t0 = fx_now();
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (secs) *secs = fx_now() - t0;
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static long login(const server *s, const char *user, const char *password, char *hdr)
{
    char json[256];
    snprintf(json, sizeof json, "{\"username\":\"%s\",\"password\":\"%s\"}", user, password);
    return req(s, "POST", "/api/login", NULL, json, hdr, NULL, NULL, 30000);
}

static unsigned retry_after(const char *hdr)
{
    const char *p = strcasestr(hdr, "\nRetry-After:");
    return p ? (unsigned)atoi(p + 13) : 0;
}

/* ---- login flood -------------------------------------------------------------------------- */

typedef struct flood_arg {
    const server *s;
    long status;
} flood_arg;

static void *wrong_login(void *p)
{
    flood_arg *a = p;
    a->status = login(a->s, "flood", "wrong-password", NULL);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_login_flood(void **state)
{
    (void)state;
    server s;
    start(&s, "--secure-cookies --max-per-address 0");
    char hdr[4096];
    /* Per account: 5 wrong passwords, then the account is locked for a second:
     * even the right password gets 429 (not checked); after Retry-After it is
     * checked again and clears the failures. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(login(&s, "victim", "wrong-password", NULL), 401);
    assert_int_equal(login(&s, "victim", "victim-password", hdr), 429);
    unsigned wait = retry_after(hdr);
    assert_true(wait >= 1 && wait <= 2);
    usleep(wait * 1000000u + 200000u);
    assert_int_equal(login(&s, "victim", "victim-password", hdr), 200);
    assert_contains(hdr, "Secure");
    assert_contains(hdr, "HttpOnly");
    assert_int_equal(login(&s, "victim", "wrong-password", NULL), 401); /* cleared */

    /* 120 concurrent wrong logins; meanwhile an authenticated GET /api/items.  Its p99 is
     * compared with the same GETs' p99 without the flood, measured first: on a machine busy
     * with other work both are slower, and a flood that queued the GETs behind 120 password
     * checks (tens of ms each) would still add seconds. */
    enum { N = 120, PROBES = 60 };
    double base[PROBES];
    for (int i = 0; i < PROBES; i++) {
        assert_int_equal(req(&s, "GET", "/api/items", s.token, NULL, NULL, NULL, &base[i], 10000),
                         200);
        usleep(5000);
    }
    qsort(base, PROBES, sizeof base[0], cmp_double);
    double base_p99 = base[PROBES * 99 / 100];
    pthread_t th[N];
    flood_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (flood_arg){&s, 0};
        assert_int_equal(pthread_create(&th[i], NULL, wrong_login, &args[i]), 0);
    }
    double t[PROBES];
    for (int i = 0; i < PROBES; i++) {
        assert_int_equal(req(&s, "GET", "/api/items", s.token, NULL, NULL, NULL, &t[i], 10000),
                         200);
        usleep(5000);
    }
    int throttled = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_true(args[i].status == 401 || args[i].status == 429);
        throttled += args[i].status == 429;
    }
    qsort(t, PROBES, sizeof t[0], cmp_double);
    double p99 = t[PROBES * 99 / 100];
    print_message("GET /api/items during 120 wrong logins: p99 %.1f ms (%.1f ms without); "
                  "%d of them 429\n",
                  p99 * 1000, base_p99 * 1000, throttled);
    assert_true(p99 < 0.100 + 3 * base_p99);
    assert_true(throttled > 100);
    /* Up to the 101st wrong password of the account: throttled. */
    for (int i = N; i < 100; i++)
        login(&s, "flood", "wrong-password", NULL);
    assert_int_equal(login(&s, "flood", "wrong-password", hdr), 429);
    assert_true(retry_after(hdr) >= 1);
    assert_int_equal(login(&s, "flood", "flood-password", NULL), 429);

    /* The audit log: failures and lockouts, readable by the owner only. */
    char path[4400];
    snprintf(path, sizeof path, "%s/log/audit.log", s.f.repo);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *log = tu_read(path);
    assert_contains(log, "\"event\":\"login_failed\",\"user\":\"victim\"");
    assert_contains(log, "\"event\":\"login_lockout\",\"scope\":\"account\",\"user\":\"flood\"");
    assert_not_contains(log, "password");
    free(log);
    stop(&s);
}

/* ---- slow clients --------------------------------------------------------------------------- */

static int connect_to(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

typedef struct trickle {
    unsigned port;
    int n;
    double seconds;
    volatile int done;
    int opened, cut;
} trickle;

/* n clients sending a request head a byte at a time, for `seconds`. */
static void *trickler(void *p)
{
    trickle *t = p;
    int *fd = calloc((size_t)t->n, sizeof *fd);
    size_t *pos = calloc((size_t)t->n, sizeof *pos);
    static const char head[] = "GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaa"
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for (int i = 0; i < t->n; i++) {
        fd[i] = connect_to(t->port);
        t->opened += fd[i] >= 0;
        if (i % 50 == 49) usleep(10000);
    }
    double end = fx_now() + t->seconds;
    while (fx_now() < end) {
        for (int i = 0; i < t->n; i++) {
            if (fd[i] < 0) continue;
            char c = head[pos[i] % (sizeof head - 1)];
            ssize_t w = send(fd[i], &c, 1, MSG_NOSIGNAL);
            char buf[256];
            ssize_t r = recv(fd[i], buf, sizeof buf, MSG_DONTWAIT);
            if ((w < 0 && errno != EAGAIN && errno != ENOTCONN) || r == 0 ||
                (r < 0 && errno != EAGAIN)) {
                close(fd[i]);
                fd[i] = -1;
                t->cut++;
                continue;
            }
            if (w == 1) pos[i]++;
        }
        usleep(100000);
    }
    for (int i = 0; i < t->n; i++)
        if (fd[i] >= 0) close(fd[i]);
    free(fd);
    free(pos);
    t->done = 1;
    return NULL;
}

/* A request that must answer while the server is under attack (a refused
 * connection may be retried twice, each within 2 s). */
static long answered(const server *s, const char *path, const char *bearer)
{
    long st = 0;
    for (int k = 0; k < 3 && !st; k++)
        st = req(s, "GET", path, bearer, NULL, NULL, NULL, NULL, 2000);
    return st;
}

static void test_slow_clients(void **state)
{
    (void)state;
    server s;
    start(&s, "--max-per-address 0 --max-connections 256 --head-timeout 2");
    trickle t = {.port = s.port, .n = 600, .seconds = 4.0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, trickler, &t), 0);
    usleep(500000);
    int checks = 0;
    while (!t.done && checks < 40) {
        assert_int_equal(answered(&s, "/api/health", NULL), 200);
        assert_int_equal(answered(&s, "/api/items", s.token), 200);
        checks++;
        usleep(100000);
    }
    pthread_join(th, NULL);
    print_message("%d slow clients (%d cut by the server); %d health and item checks answered\n",
                  t.opened, t.cut, checks);
    assert_true(t.opened >= 590);
    assert_true(t.cut > 300); /* evicted to make room, or past the head deadline */
    assert_true(checks >= 10);
    char body[4096];
    assert_int_equal(req(&s, "GET", "/api/health", NULL, NULL, NULL, body, NULL, 5000), 200);
    assert_contains(body, "\"database\":\"ok\"");
    stop(&s);
}

/* --max-per-address: the connections after the limit are closed at once. */
static void test_per_address_limit(void **state)
{
    (void)state;
    server s;
    start(&s, "--max-per-address 8");
    int fd[8];
    for (int i = 0; i < 8; i++) {
        fd[i] = connect_to(s.port);
        assert_true(fd[i] >= 0);
        struct pollfd p = {fd[i], POLLOUT, 0};
        poll(&p, 1, 1000);
        assert_int_equal(send(fd[i], "GET /api/he", 11, MSG_NOSIGNAL), 11);
    }
    usleep(200000);
    assert_int_equal(req(&s, "GET", "/api/health", NULL, NULL, NULL, NULL, NULL, 2000), 0);
    for (int i = 0; i < 8; i++)
        close(fd[i]);
    usleep(300000);
    assert_int_equal(req(&s, "GET", "/api/health", NULL, NULL, NULL, NULL, NULL, 2000), 200);
    stop(&s);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_flood),
        cmocka_unit_test(test_slow_clients),
        cmocka_unit_test(test_per_address_limit),
    };
    int rc = cmocka_run_group_tests_name("serve limits", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
