/* The fetch policy (src/lib/net/fetch.h, issue 12 item 1): no request reaches
 * a loopback, private or otherwise special address unless allowlisted, also
 * after a redirect; the allowlist (fetch-allow.txt, $BULKREPO_FETCH_ALLOW,
 * the option) lets internal sources through; a job may turn fetching off;
 * refusals say nothing of the connection. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bulkrepo/bulkrepo.h"
#include "net/fetch.h"
#include "testutil.h"
#include "repo_fixture.h"
#include "http_fixture.h"

typedef tu_repo fixture;

static const br_fetch_options O = {
    .max_size = 10000, .timeout_ms = 3000, .connect_timeout_ms = 1000, .retries = -1};

static void write_allow(fixture *f, const char *text)
{
    tu_write(f->repo_dir, "fetch-allow.txt", text);
}

static int special(const char *addr)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &in->sin_addr) == 1)
        in->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1)
        in6->sin6_family = AF_INET6;
    else
        fail_msg("bad address in test: %s", addr);
    return br_fetch_addr_special((struct sockaddr *)&ss);
}

static void test_special_addresses(void **state)
{
    (void)state;
    static const char *const refused[] = {"127.0.0.1",
                                          "127.1.2.3",
                                          "0.0.0.0",
                                          "10.0.0.1",
                                          "172.16.5.4",
                                          "172.31.255.255",
                                          "192.168.1.1",
                                          "169.254.169.254",
                                          "100.64.0.1",
                                          "224.0.0.1",
                                          "255.255.255.255",
                                          "198.18.0.1",
                                          "::",
                                          "::1",
                                          "::ffff:127.0.0.1",
                                          "::ffff:10.0.0.1",
                                          "64:ff9b::7f00:1",
                                          "2002:7f00:1::",
                                          "fd00::1",
                                          "fe80::1",
                                          "ff02::1",
                                          "2001:db8::1"};
    static const char *const allowed[] = {"93.184.216.34",   "8.8.8.8",         "172.32.0.1",
                                          "192.169.0.1",     "2606:4700::1111", "::ffff:8.8.8.8",
                                          "64:ff9b::808:808"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (!special(refused[i])) print_error("%s is not refused\n", refused[i]);
        assert_true(special(refused[i]));
    }
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        if (special(allowed[i])) print_error("%s is refused\n", allowed[i]);
        assert_false(special(allowed[i]));
    }
}

/* A loopback server no fetch may reach: it sees no request, by address, by
 * name, or through a redirect from a server that is allowlisted. */
static void test_loopback_refused(void **state)
{
    fixture *f = *state;
    unsetenv(BR_FETCH_ALLOW_ENV);
    hf_server *hidden = hf_start_unlisted();
    assert_non_null(hidden);
    char path[4200], url[256];
    br_error err;
    const char *urls[4];
    urls[0] = hf_url(hidden, "/ok/secret.txt");
    snprintf(url, sizeof url, "http://localhost:%u/ok/secret.txt", hidden->port);
    urls[1] = url;
    char v6[256];
    snprintf(v6, sizeof v6, "http://[::ffff:127.0.0.1]:%u/ok/secret.txt", hidden->port);
    urls[2] = v6;
    char dec[256];
    snprintf(dec, sizeof dec, "http://2130706433:%u/ok/secret.txt", hidden->port);
    urls[3] = dec;
    for (size_t i = 0; i < 4; i++) {
        int rc = br_fetch_url(f->repo, urls[i], &O, path, sizeof path, &err);
        if (rc != BR_EDENIED) print_error("%s: %d %s\n", urls[i], rc, err.message);
        assert_int_equal(rc, BR_EDENIED);
        assert_contains(err.message, "not allowed");
        /* nothing of the connection: no port, no address, no timing */
        char port[16];
        snprintf(port, sizeof port, "%u", hidden->port);
        assert_not_contains(err.message, port);
        assert_not_contains(err.message, "127.0.0.1");
        assert_not_contains(err.message, " ms");
        assert_string_equal(path, "");
    }
    assert_int_equal(hidden->requests, 0);

    /* A redirect from an allowlisted server to the hidden one. */
    hf_server *open = hf_start_unlisted();
    char allow[128];
    snprintf(allow, sizeof allow, "# the public side\n127.0.0.1:%u\n", open->port);
    write_allow(f, allow);
    char to[128];
    snprintf(to, sizeof to, "/to/%u/ok/secret.txt", hidden->port);
    assert_int_equal(br_fetch_url(f->repo, hf_url(open, to), &O, path, sizeof path, &err),
                     BR_EDENIED);
    assert_int_equal(hidden->requests, 0);
    assert_int_equal(open->requests, 1);
    /* The allowlisted one itself works, and redirects within it. */
    assert_int_equal(br_fetch_url(f->repo, hf_url(open, "/ok/a.txt"), &O, path, sizeof path, &err),
                     0);
    unlink(path);
    assert_int_equal(br_fetch_url(f->repo, hf_url(open, "/redirect"), &O, path, sizeof path, &err),
                     0);
    char *body = tu_read(path);
    assert_string_equal(body, "remote file redirected\n");
    free(body);
    unlink(path);
    /* The hidden one is reachable once listed, by the option or the environment. */
    snprintf(allow, sizeof allow, "127.0.0.1:%u", hidden->port);
    br_fetch_options o = O;
    o.allow = allow;
    assert_int_equal(br_fetch_url(f->repo, hf_url(open, to), &o, path, sizeof path, &err), 0);
    unlink(path);
    assert_int_equal(hidden->requests, 1);
    setenv(BR_FETCH_ALLOW_ENV, "127.0.0.0/8", 1);
    assert_int_equal(
        br_fetch_url(f->repo, hf_url(hidden, "/ok/b.txt"), &O, path, sizeof path, &err), 0);
    unlink(path);
    unsetenv(BR_FETCH_ALLOW_ENV);
    /* A host name entry: "localhost" on that port. */
    snprintf(allow, sizeof allow, "localhost:%u", hidden->port);
    write_allow(f, allow);
    snprintf(url, sizeof url, "http://localhost:%u/ok/c.txt", hidden->port);
    int rc = br_fetch_url(f->repo, url, &O, path, sizeof path, &err);
    if (rc) print_error("%s\n", err.message);
    assert_int_equal(rc, 0);
    unlink(path);
    /* ...but not another port of it. */
    snprintf(url, sizeof url, "http://localhost:%u/ok/c.txt", open->port);
    assert_int_equal(br_fetch_url(f->repo, url, &O, path, sizeof path, &err), BR_EDENIED);
    hf_stop(open);
    hf_stop(hidden);
}

static void test_switch_and_bad_allowlist(void **state)
{
    fixture *f = *state;
    unsetenv(BR_FETCH_ALLOW_ENV);
    hf_server *s = hf_start_unlisted();
    char allow[64], path[4200];
    snprintf(allow, sizeof allow, "127.0.0.1:%u", s->port);
    write_allow(f, allow);
    br_error err;
    br_fetch_options o = O;
    o.disabled = 1;
    assert_int_equal(br_fetch_url(f->repo, hf_url(s, "/ok/a.txt"), &o, path, sizeof path, &err),
                     BR_EDENIED);
    assert_contains(err.message, "turned off");
    assert_int_equal(s->requests, 0);
    /* A malformed entry fails closed, naming the entry and its line. */
    write_allow(f, "files.example.org\n10.0.0.0/33\n");
    assert_int_equal(br_fetch_url(f->repo, hf_url(s, "/ok/a.txt"), &O, path, sizeof path, &err),
                     BR_EINVAL);
    assert_contains(err.message, "10.0.0.0/33");
    assert_int_equal(err.place.line, 2);
    assert_int_equal(s->requests, 0);
    static const char *const bad[] = {"a b/c", "[::1", "host:0", "host:99999", "*foo", "1.2.3.4/x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        br_fetch_policy *p = NULL;
        assert_int_equal(br_fetch_policy_load(NULL, bad[i], &p, &err), BR_EINVAL);
        assert_null(p);
    }
    br_fetch_policy *p = NULL;
    assert_int_equal(
        br_fetch_policy_load(NULL, "*.example.org, [::1]:8080 fd00::/8 10.1.2.3", &p, &err), 0);
    br_fetch_policy_free(p);
    /* The webhook's POST goes through the same policy. */
    write_allow(f, "");
    long status = 0;
    assert_int_equal(br_fetch_post(f->repo_dir, hf_url(s, "/ok/hook"), "application/json", "{}",
                                   2000, &status, &err),
                     BR_EDENIED);
    assert_int_equal(s->requests, 0);
    write_allow(f, allow);
    assert_int_equal(br_fetch_post(f->repo_dir, hf_url(s, "/ok/hook"), "application/json", "{}",
                                   2000, &status, &err),
                     0);
    assert_int_equal(status, 200);
    assert_int_equal(s->requests, 1);
    hf_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_special_addresses),
        cmocka_unit_test_setup_teardown(test_loopback_refused, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_switch_and_bad_allowlist, tu_repo_setup,
                                        tu_repo_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
