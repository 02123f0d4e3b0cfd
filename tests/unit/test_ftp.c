/* S/FTP configurations and the transfer transport (issue 17 part 1): `bulkrepo ftp` as users
 * run it, the library's transport (net/remote.h) against real servers on loopback (pyftpdlib
 * for FTP and FTPS with explicit TLS, sshd for SFTP: tests/support/ftp_servers.h), and the
 * HTTP routes of `bulkrepo serve`.  Secrets must never show in output, JSON, API answers or
 * the database file. */
#define _GNU_SOURCE
#include "cli_fixture.h"
#include "repo_fixture.h"
#include "serve_fixture.h"
#include "ftp_servers.h"
#include "bulkrepo/bulkrepo.h"
#include "net/remote.h"
#include <openssl/evp.h>

#define PASSWORD "pw-Zq9-not-in-clear"

typedef struct T {
    fx f;
    char root[4200]; /* the servers' folder */
    ts_server srv;
    br_repo *repo;   /* the library's connection, opened by lib() */
    sf_server serve; /* bulkrepo serve */
} T;

static int t_setup(void **state)
{
    T *t = calloc(1, sizeof *t);
    assert_non_null(t);
    fx *f = &t->f;
    f->dir = tu_tmpdir();
    snprintf(f->repo, sizeof f->repo, "%s/r", f->dir);
    f->t0 = fx_now();
    fx_init(f);
    snprintf(f->coll, sizeof f->coll, "%s", fx_new_collection(f, "X"));
    snprintf(t->root, sizeof t->root, "%s/srv", f->dir);
    mkdir(t->root, 0755);
    *state = t;
    return 0;
}

static int t_teardown(void **state)
{
    T *t = *state;
    if (!t) return 0;
    ftp_server_stop(&t->srv);
    int bad = sf_stop(&t->serve);
    br_repo_free(t->repo);
    tu_rmtree(t->f.dir);
    free(t->f.dir);
    fx_reset_output(&t->f);
    free(t);
    return bad;
}

static br_repo *lib(T *t)
{
    if (!t->repo) {
        br_error err;
        int rc = br_repo_open(t->f.repo, &t->repo, &err);
        if (rc) fail_msg("br_repo_open: %s", err.message);
    }
    return t->repo;
}

static void start_ftp(T *t, const ftp_server_opts *o)
{
    int rc = ftp_server_start(t->root, o, &t->srv);
    if (rc) fail_msg("ftp server: %s", t->srv.why);
}

/* Starts sshd; 0 when the test must be skipped (not root). */
static int start_sftp(T *t, int port)
{
    sftp_server_opts o = {.port = port};
    int rc = sftp_server_start(t->root, &o, &t->srv);
    if (rc == 1) {
        print_message("%s\n", t->srv.why);
        return 0;
    }
    if (rc) fail_msg("sftp server: %s", t->srv.why);
    return 1;
}

/* `ftp add NAME` for the running server: FTP(S) with its password, SFTP with its key. */
static void add_config(T *t, const char *name, const char *password)
{
    ts_server *s = &t->srv;
    if (s->key_file[0])
        RUN(&t->f, 0, "ftp add %s --url '%s' --user %s --key '%s'", name, s->url, s->user,
            s->key_file);
    else
        SH(&t->f, 0,
           "printf '%%s\\n' '%s' | \"$BR\" --repo r ftp add %s --url '%s' --user %s "
           "--password-stdin %s%s%s",
           password ? password : s->password, name, s->url, s->user,
           s->ca_file[0] ? "--ca-file '" : "", s->ca_file, s->ca_file[0] ? "'" : "");
}

static br_remote *open_remote(T *t, const char *name)
{
    br_remote *r = NULL;
    br_error err;
    assert_br_ok(br_remote_open(lib(t), name, &r, &err), &err);
    return r;
}

static void sha_hex(const void *data, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned len = 0;
    EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
    tu_hex(md, 32, out);
}

static void fill(char *buf, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (char)(seed >> 16);
    }
}

/* ---- names and paths -------------------------------------------------------------------- */

/* The server's log once it holds `needle`: the server writes a transfer's line after the client
 * has seen the transfer end, so a test that reads it at once races the server. Waits up to 10 s;
 * the caller frees the result (never NULL). */
static char *server_log_with(T *t, const char *needle)
{
    for (int i = 0;; i++) {
        char *log = tu_read(t->srv.log);
        if ((log && strstr(log, needle)) || i == 1000) return log ? log : strdup("");
        free(log);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void test_path_rules(void **state)
{
    (void)state;
    br_error err;
    assert_int_equal(br_remote_path_check("", &err), 0);
    assert_int_equal(br_remote_path_check("in", &err), 0);
    assert_int_equal(br_remote_path_check("in/2026/a b.zip", &err), 0);
    assert_int_equal(br_remote_path_check("..", &err), BR_EUSAGE);
    assert_contains(err.message, "..");
    /* "~" and "~user" are home folders on some FTP servers: outside the root. */
    assert_int_equal(br_remote_path_check("~/x", &err), BR_EUSAGE);
    assert_contains(err.message, "'~'");
    assert_int_equal(br_remote_path_check("in/~other", &err), BR_EUSAGE);
    assert_int_equal(br_remote_path_check("in/a~b", &err), 0);
    assert_int_equal(br_remote_path_check("in/../../etc", &err), BR_EUSAGE);
    assert_int_equal(br_remote_path_check("in/./x", &err), BR_EUSAGE);
    assert_int_equal(br_remote_path_check("/etc/passwd", &err), BR_EUSAGE);
    assert_contains(err.message, "leading '/'");
    assert_int_equal(br_remote_path_check("in//x", &err), BR_EUSAGE);
    assert_int_equal(br_remote_path_check("in/", &err), BR_EUSAGE);
    assert_int_equal(br_remote_path_check("a\nb", &err), BR_EUSAGE);
    assert_contains(err.message, "control character");
    assert_int_equal(br_remote_path_check("a\x7f", &err), BR_EUSAGE);
    assert_int_equal(br_remote_path_check("a\\..\\b", &err), BR_EUSAGE);
    assert_int_equal(br_remote_path_check("bad\xff", &err), BR_EUSAGE);
    char longname[300];
    memset(longname, 'a', 256);
    longname[256] = 0;
    assert_int_equal(br_remote_path_check(longname, &err), BR_EUSAGE);
    longname[255] = 0;
    assert_int_equal(br_remote_path_check(longname, &err), 0);
    assert_int_equal(br_remote_name_check("x.zip", &err), 0);
    assert_int_equal(br_remote_name_check("in/x.zip", &err), BR_EUSAGE);
    assert_int_equal(br_remote_name_check("..", &err), BR_EUSAGE);
    assert_int_equal(br_remote_name_check("", &err), BR_EUSAGE);
}

/* ---- configurations through the CLI ------------------------------------------------------ */

static void test_config_rules(void **state)
{
    T *t = *state;
    fx *f = &t->f;
    struct {
        const char *url, *extra, *says;
    } bad[] = {
        {"http://h/in/", "--password-stdin", "scheme 'http'"},
        {"file:///etc/", "--password-stdin", "scheme 'file'"},
        {"ftp://alice:pw@h/in/", "--password-stdin", "no user or password in the URL"},
        {"ftp://alice@h/in/", "--password-stdin", "no user or password in the URL"},
        {"ftp:///in/", "--password-stdin", "names no host"},
        {"ftp://h:99999/", "--password-stdin", "port '99999'"},
        {"ftp://h/in/../etc/", "--password-stdin", "'..'"},
        {"ftp://h/in%2f/", "--password-stdin", "%"},
        {"h/in/", "--password-stdin", "give ftp://"},
        {"ftp://h/in/", "--ca-file /etc/hostname --password-stdin", "ftps:// only"},
        {"ftps://h/in/", "--ca-file relative.pem --password-stdin", "absolute path"},
        {"sftp://h/in/", "", "needs a password"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        SH(f, 2, "printf 'pw\\n' | \"$BR\" --repo r ftp add c%zu --url '%s' --user u %s", i,
           bad[i].url, bad[i].extra);
        assert_contains(f->err, bad[i].says);
    }
    /* a key is for SFTP only, and must be a private key */
    fx_write(f, "k.pem",
             "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE "
             "KEY-----\n");
    fx_write(f, "notkey", "hello\n");
    RUN(f, 2, "ftp add c --url ftp://h/ --user u --key k.pem");
    assert_contains(f->err, "sftp:// only");
    RUN(f, 2, "ftp add c --url sftp://h/ --user u --key notkey");
    assert_contains(f->err, "not a PEM or OpenSSH private key");
    RUN(f, 2, "ftp add 'a b' --url sftp://h/ --user u --key k.pem");
    assert_contains(f->err, "name 'a b'");
    RUN(f, 2, "ftp add c --url ftp://h/ --user u --password secret");
    assert_contains(f->err, "--password-stdin");
    RUN(f, 2, "ftp add c --url ftp://h/ --user u --passive --active");
    RUN(f, 0, "ftp list --json");
    json_t *j = fx_parse(f, "list");
    assert_int_equal(json_array_size(json_object_get(j, "configs")), 0); /* nothing was written */
    json_decref(j);

    /* good ones: add, list, show, replace (the secret kept), remove */
    SH(f, 0,
       "printf '%%s\\n' '" PASSWORD "' | \"$BR\" --repo r ftp add pub --url "
       "ftp://ftp.example.org:2121/out/ --user alice --password-stdin --active");
    RUN(f, 0, "ftp add vendor --url sftp://sftp.example.org/~/drop/ --user bob --key k.pem");
    RUN(f, 0, "ftp list");
    assert_contains(f->out, "pub");
    assert_contains(f->out, "ftp://ftp.example.org:2121/out/");
    assert_contains(f->out, "vendor");
    RUN(f, 0, "ftp show pub --json");
    j = fx_parse(f, "show");
    assert_string_equal(fx_str(j, "name"), "pub");
    assert_string_equal(fx_str(j, "url"), "ftp://ftp.example.org:2121/out/");
    assert_string_equal(fx_str(j, "user"), "alice");
    assert_true(json_is_true(json_object_get(j, "has_password")));
    assert_true(json_is_false(json_object_get(j, "has_key")));
    assert_true(json_is_false(json_object_get(j, "passive")));
    assert_null(json_object_get(j, "password"));
    json_decref(j);
    RUN(f, 0, "ftp show vendor --json");
    j = fx_parse(f, "show");
    assert_true(json_is_true(json_object_get(j, "has_key")));
    assert_true(json_is_false(json_object_get(j, "has_password")));
    json_decref(j);
    /* replaced through the library without secrets: kept while server and user stay */
    br_ftp_config c;
    br_error err;
    assert_br_ok(br_ftp_get(lib(t), "pub", &c, &err), &err);
    snprintf(c.url, sizeof c.url, "ftp://ftp.example.org:2121/out2/");
    assert_br_ok(br_ftp_set(lib(t), &c, NULL, NULL, &err), &err);
    assert_br_ok(br_ftp_get(lib(t), "pub", &c, &err), &err);
    assert_true(c.has_password);
    assert_string_equal(c.url, "ftp://ftp.example.org:2121/out2/");
    /* another host, port or user keeps no secret: it is asked for again, nothing written */
    const char *moves[][2] = {{"ftp://evil.example.net:2121/out2/", "alice"},
                              {"ftp://ftp.example.org/out2/", "alice"},
                              {"ftp://ftp.example.org:2121/out2/", "mallory"}};
    for (size_t i = 0; i < 3; i++) {
        br_ftp_config m = c;
        snprintf(m.url, sizeof m.url, "%s", moves[i][0]);
        snprintf(m.user, sizeof m.user, "%s", moves[i][1]);
        assert_int_equal(br_ftp_set(lib(t), &m, NULL, NULL, &err), BR_EUSAGE);
        assert_contains(err.message, "give its password again");
    }
    SH(f, 2, "\"$BR\" --repo r ftp add pub --url ftp://evil.example.net/ --user alice");
    assert_contains(f->err, "give its password again");
    assert_br_ok(br_ftp_get(lib(t), "pub", &c, &err), &err);
    assert_string_equal(c.url, "ftp://ftp.example.org:2121/out2/");
    /* with the secret given again, it moves */
    snprintf(c.url, sizeof c.url, "ftp://ftp.example.org/out2/");
    assert_br_ok(br_ftp_set(lib(t), &c, PASSWORD, NULL, &err), &err);
    assert_br_ok(br_ftp_get(lib(t), "pub", &c, &err), &err);
    assert_true(c.has_password);
    assert_string_equal(c.url, "ftp://ftp.example.org/out2/");
    /* "" removes the password; sftp without any secret is refused */
    assert_br_ok(br_ftp_set(lib(t), &c, "", NULL, &err), &err);
    assert_br_ok(br_ftp_get(lib(t), "pub", &c, &err), &err);
    assert_false(c.has_password);
    assert_br_ok(br_ftp_get(lib(t), "vendor", &c, &err), &err);
    assert_int_equal(br_ftp_set(lib(t), &c, NULL, "", &err), BR_EUSAGE);
    RUN(f, 3, "ftp show nope");
    RUN(f, 3, "ftp show nope --json");
    assert_contains(f->err, "no S/FTP configuration 'nope'");
    RUN(f, 0, "ftp remove vendor");
    RUN(f, 3, "ftp remove vendor");
    RUN(f, 0, "ftp list --json");
    j = fx_parse(f, "list");
    assert_int_equal(json_array_size(json_object_get(j, "configs")), 1);
    json_decref(j);
    /* every command has its help */
    const char *subs[] = {"add", "list", "show", "test", "remove"};
    for (size_t i = 0; i < 5; i++) {
        RUN(f, 0, "ftp %s --help", subs[i]);
        assert_contains(f->out, "usage: bulkrepo ftp ");
        assert_contains(f->out, subs[i]);
    }
    RUN(f, 2, "ftp");
    RUN(f, 2, "ftp frobnicate");
}

/* ---- transfers against each protocol ------------------------------------------------------ */

typedef struct seen {
    int n;
    char names[8][64];
    int64_t sizes[8], mtimes[8];
} seen;

static int collect(void *ctx, const br_remote_entry *e)
{
    seen *s = ctx;
    if (s->n < 8) {
        snprintf(s->names[s->n], sizeof s->names[0], "%s", e->name);
        s->sizes[s->n] = e->size;
        s->mtimes[s->n] = e->mtime;
    }
    s->n++;
    return 0;
}

static int64_t size_of(const seen *s, const char *name)
{
    for (int i = 0; i < s->n && i < 8; i++)
        if (!strcmp(s->names[i], name)) return s->sizes[i];
    return -2;
}

/* List, get, put, rename and delete through one configuration of the running server. */
static void transfers(T *t)
{
    fx *f = &t->f;
    char big[70000], hex[65], want[65];
    fill(big, sizeof big, 7);
    tu_write_bytes(t->root, "in/big.bin", big, sizeof big);
    tu_write(t->root, "in/a.txt", "hello\n");
    tu_write(t->root, "in/sub/deeper.txt", "not listed\n");
    br_remote *r = open_remote(t, "s");
    br_error err;
    seen s = {0};
    int64_t skipped = -1;
    assert_br_ok(br_remote_list(r, "in", collect, &s, &skipped, &err), &err);
    assert_int_equal(s.n, 2); /* the folder sub is not a file */
    assert_int_equal(skipped, 0);
    assert_int_equal(size_of(&s, "big.bin"), (int64_t)sizeof big);
    assert_int_equal(size_of(&s, "a.txt"), 6);
    assert_true(s.mtimes[0] > 1700000000);
    /* a folder that is not there */
    memset(&s, 0, sizeof s);
    assert_int_equal(br_remote_list(r, "nothere", collect, &s, NULL, &err), BR_EIO);
    assert_int_equal(br_remote_list(r, "../etc", collect, &s, NULL, &err), BR_EUSAGE);

    /* get: bytes and checksum */
    int64_t bytes = 0;
    assert_br_ok(br_remote_get(r, "in/big.bin", fx_path(f, "big.bin"), 0, &bytes, hex, &err), &err);
    assert_int_equal(bytes, sizeof big);
    sha_hex(big, sizeof big, want);
    assert_string_equal(hex, want);
    assert_int_equal(br_remote_get(r, "in/none.bin", fx_path(f, "none.bin"), 0, &bytes, hex, &err),
                     BR_ENOTFOUND);
    assert_false(fx_exists(f, "none.bin"));
    assert_int_equal(br_remote_get(r, "/in/a.txt", fx_path(f, "x"), 0, &bytes, hex, &err),
                     BR_EUSAGE);

    /* put into folders that do not exist yet: the final name only once complete */
    fx_write(f, "up.txt", "uploaded content\n");
    assert_br_ok(br_remote_put(r, fx_path(f, "up.txt"), "out/2026/up.txt", &err), &err);
    assert_file_equals(tu_path(t->root, "out/2026/up.txt"), "uploaded content\n");
    assert_false(tu_exists(tu_path(t->root, "out/2026/.up.txt.part")));
    if (!t->srv.key_file[0]) { /* FTP: the data went to the part, renamed after */
        char *log = server_log_with(t, "/out/2026/.up.txt.part completed=1");
        assert_contains(log, "STOR ");
        assert_contains(log, "/out/2026/.up.txt.part completed=1");
        assert_not_contains(log, "/out/2026/up.txt completed");
        free(log);
    }
    assert_int_equal(tu_count_entries(tu_path(t->root, "out/2026")), 1);
    /* never over an existing file */
    fx_write(f, "other.txt", "other\n");
    assert_int_equal(br_remote_put(r, fx_path(f, "other.txt"), "out/2026/up.txt", &err),
                     BR_EEXISTS);
    assert_contains(err.message, "exists already");
    assert_file_equals(tu_path(t->root, "out/2026/up.txt"), "uploaded content\n");
    assert_int_equal(br_remote_put(r, fx_path(f, "other.txt"), "out/../../x.txt", &err), BR_EUSAGE);

    /* rename into a new folder, delete */
    assert_br_ok(br_remote_rename(r, "out/2026/up.txt", "done/x/up.txt", &err), &err);
    assert_false(tu_exists(tu_path(t->root, "out/2026/up.txt")));
    assert_file_equals(tu_path(t->root, "done/x/up.txt"), "uploaded content\n");
    assert_int_equal(br_remote_rename(r, "done/x/up.txt", "../up.txt", &err), BR_EUSAGE);
    assert_br_ok(br_remote_delete(r, "done/x/up.txt", &err), &err);
    assert_false(tu_exists(tu_path(t->root, "done/x/up.txt")));
    assert_int_not_equal(br_remote_delete(r, "done/x/up.txt", &err), 0);
    br_remote_free(r);
    /* the test command counts the root folder's files */
    tu_write(t->root, "top.txt", "x");
    RUN(f, 0, "ftp test s --json");
    json_t *j = fx_parse(f, "test");
    assert_true(json_is_true(json_object_get(j, "ok")));
    assert_int_equal(json_integer_value(json_object_get(j, "files")), 1);
    json_decref(j);
    /* a private key exists in clear only during an operation */
    char *ls = NULL;
    tu_run(&ls, NULL, "ls -a '%s/tmp' 2>/dev/null", f->repo);
    assert_not_contains(ls ? ls : "", "sshkey");
    free(ls);
}

static void test_ftp_transfers(void **state)
{
    T *t = *state;
    start_ftp(t, NULL);
    add_config(t, "s", NULL);
    transfers(t);
    /* active mode: the server connects back for the data */
    SH(&t->f, 0,
       "printf '%%s\\n' '%s' | \"$BR\" --repo r ftp add act --url '%s' --user %s "
       "--password-stdin --active",
       t->srv.password, t->srv.url, t->srv.user);
    RUN(&t->f, 0, "ftp test act");
    assert_contains(t->f.out, "1 file in the folder");
    RUN(&t->f, 0, "ftp show act --json");
    assert_contains(t->f.out, "\"passive\": false");
}

static void test_ftps_transfers(void **state)
{
    T *t = *state;
    ftp_server_opts o = {.tls = 1};
    start_ftp(t, &o);
    add_config(t, "s", NULL);
    transfers(t);
    /* the server requires TLS: proven by its refusal of plain FTP */
    char plain[4400];
    snprintf(plain, sizeof plain, "ftp://127.0.0.1:%d/", t->srv.port);
    SH(&t->f, 0,
       "printf '%%s\\n' '%s' | \"$BR\" --repo r ftp add plain --url '%s' --user %s "
       "--password-stdin",
       t->srv.password, plain, t->srv.user);
    RUN(&t->f, 4, "ftp test plain");
    /* and a certificate not trusted (the system's store) is refused */
    SH(&t->f, 0,
       "printf '%%s\\n' '%s' | \"$BR\" --repo r ftp add untrusted --url '%s' --user %s "
       "--password-stdin",
       t->srv.password, t->srv.url, t->srv.user);
    RUN(&t->f, 4, "ftp test untrusted");
    assert_contains(t->f.err, "certificate");
}

static void test_sftp_transfers(void **state)
{
    T *t = *state;
    if (!start_sftp(t, 0)) skip();
    add_config(t, "s", NULL);
    RUN(&t->f, 0, "ftp test s --accept-host-key");
    transfers(t);
}

/* ---- logins, reachability, host keys -------------------------------------------------------- */

static void test_refused_login(void **state)
{
    T *t = *state;
    fx *f = &t->f;
    start_ftp(t, NULL);
    add_config(t, "wrong", "not-the-password");
    RUN(f, 4, "ftp test wrong");
    assert_contains(f->err, "refused the login");
    assert_not_contains(f->err, "not-the-password");
    RUN(f, 4, "ftp test wrong --json");
    json_t *j = fx_parse(f, "test");
    assert_true(json_is_false(json_object_get(j, "ok")));
    assert_contains(fx_str(j, "error"), "refused the login");
    json_decref(j);
    br_error err;
    int64_t n = 0;
    assert_int_equal(br_ftp_test(lib(t), "wrong", 0, &n, &err), BR_EAUTH);
    ftp_server_stop(&t->srv);
    ftp_server_opts o = {.refuse_login = 1};
    start_ftp(t, &o);
    add_config(t, "refusing", NULL);
    RUN(f, 4, "ftp test refusing");
    assert_contains(f->err, "refused the login");
    /* a server that is not there */
    int port = t->srv.port;
    ftp_server_stop(&t->srv);
    SH(f, 0,
       "printf 'pw\\n' | \"$BR\" --repo r ftp add gone --url ftp://127.0.0.1:%d/ --user u "
       "--password-stdin",
       port);
    RUN(f, 4, "ftp test gone");
    assert_contains(f->err, "cannot reach the server");
    assert_int_equal(br_ftp_test(lib(t), "gone", 0, &n, &err), BR_EIO);
    RUN(f, 3, "ftp test nosuch");
}

static void test_host_keys(void **state)
{
    T *t = *state;
    fx *f = &t->f;
    if (!start_sftp(t, 0)) skip();
    add_config(t, "s", NULL);
    /* unknown: refused, nothing recorded */
    RUN(f, 4, "ftp test s");
    assert_contains(f->err, "unknown host key");
    assert_contains(f->err, "--accept-host-key");
    assert_false(fx_exists(f, "r/known_hosts") && fx_count_lines(f, "r/known_hosts") > 0);
    br_error err;
    int64_t n = 0;
    assert_int_equal(br_ftp_test(lib(t), "s", 0, &n, &err), BR_EDENIED);
    /* accepted: recorded as the server's own line says */
    RUN(f, 0, "ftp test s --accept-host-key");
    char *kh = fx_read(f, "r/known_hosts");
    assert_non_null(kh);
    assert_contains(kh, t->srv.host_key_line);
    free(kh);
    RUN(f, 0, "ftp test s");
    /* a new host key on the same address: refused, even when accepting new keys */
    int port = t->srv.port;
    sftp_server_stop(&t->srv);
    assert_true(start_sftp(t, port));
    RUN(f, 4, "ftp test s");
    assert_contains(f->err, "CHANGED");
    assert_contains(f->err, "known_hosts line 1");
    RUN(f, 4, "ftp test s --accept-host-key");
    assert_contains(f->err, "CHANGED");
    assert_int_equal(br_ftp_test(lib(t), "s", 1, &n, &err), BR_EDENIED);
    kh = fx_read(f, "r/known_hosts");
    assert_int_equal(fx_count_lines(f, "r/known_hosts"), 1);
    assert_not_contains(kh, t->srv.host_key_line);
    free(kh);
    /* nothing was transferred: the key of the client was never offered (sshd's log) */
    char *log = tu_read(t->srv.log);
    assert_not_contains(log ? log : "", "Accepted publickey");
    free(log);
}

/* ---- big listings, resumes, caps ------------------------------------------------------------ */

static int count_entry(void *ctx, const br_remote_entry *e)
{
    (void)e;
    (*(int *)ctx)++;
    return 0;
}

static void listing_3000(T *t)
{
    for (int i = 0; i < 3000; i++) {
        char name[64];
        snprintf(name, sizeof name, "many/file-%04d.csv", i);
        tu_write(t->root, name, "x\n");
    }
    tu_write(t->root, "many/bad\\name.csv", "x\n"); /* a name bulkrepo refuses */
    br_remote *r = open_remote(t, "s");
    br_error err;
    int n = 0;
    int64_t skipped = 0;
    assert_br_ok(br_remote_list(r, "many", count_entry, &n, &skipped, &err), &err);
    assert_int_equal(n, 3000);
    assert_int_equal(skipped, 1);
    br_remote_free(r);
}

static void test_listing_3000(void **state)
{
    T *t = *state;
    start_ftp(t, NULL);
    add_config(t, "s", NULL);
    listing_3000(t);
}

/* A server without MLSD: the listing falls back to LIST's Unix lines, sizes and times kept. */
static void test_listing_without_mlsd(void **state)
{
    T *t = *state;
    ftp_server_opts o = {.no_mlsd = 1};
    tu_write(t->root, "in/a name with spaces.csv", "12345\n");
    tu_write(t->root, "in/b.csv", "1\n");
    tu_write(t->root, "in/folder/c.csv", "1\n");
    start_ftp(t, &o);
    add_config(t, "s", NULL);
    br_remote *r = open_remote(t, "s");
    br_error err;
    seen s = {0};
    assert_br_ok(br_remote_list(r, "in", collect, &s, NULL, &err), &err);
    assert_int_equal(s.n, 2);
    assert_int_equal(size_of(&s, "a name with spaces.csv"), 6);
    assert_int_equal(size_of(&s, "b.csv"), 2);
    int64_t now = (int64_t)time(NULL);
    assert_true(s.mtimes[0] > now - 2 * 86400 && s.mtimes[0] < now + 2 * 86400);
    br_remote_free(r);
}

static void test_listing_3000_sftp(void **state)
{
    T *t = *state;
    if (!start_sftp(t, 0)) skip();
    add_config(t, "s", NULL);
    RUN(&t->f, 0, "ftp test s --accept-host-key");
    listing_3000(t);
}

static void test_resume(void **state)
{
    T *t = *state;
    fx *f = &t->f;
    static char big[300000];
    fill(big, sizeof big, 11);
    tu_write_bytes(t->root, "big.bin", big, sizeof big);
    ftp_server_opts o = {.drop_name = "big.bin", .drop_after = 100000};
    start_ftp(t, &o);
    add_config(t, "s", NULL);
    br_remote *r = open_remote(t, "s");
    br_error err;
    char hex[65], want[65];
    int64_t bytes = 0;
    /* the first download breaks: the bytes received stay for a resume */
    assert_int_equal(br_remote_get(r, "big.bin", fx_path(f, "big.bin"), 0, &bytes, hex, &err),
                     BR_EIO);
    struct stat st;
    assert_int_equal(stat(fx_path(f, "big.bin"), &st), 0);
    assert_true(st.st_size > 0 && st.st_size <= 100000);
    /* the second continues from there (the server sent the rest only) */
    assert_br_ok(br_remote_get(r, "big.bin", fx_path(f, "big.bin"), 0, &bytes, hex, &err), &err);
    assert_int_equal(bytes, sizeof big);
    sha_hex(big, sizeof big, want);
    assert_string_equal(hex, want);
    char rest[64];
    snprintf(rest, sizeof rest, "completed=1 bytes=%lld ", (long long)(sizeof big - st.st_size));
    char *log = server_log_with(t, rest);
    assert_contains(log, rest);
    free(log);
    /* a local part longer than the remote file (it was replaced): downloaded again whole */
    tu_write(t->root, "small.txt", "short\n");
    fx_write(f, "small.txt", "a much longer local leftover\n");
    assert_br_ok(br_remote_get(r, "small.txt", fx_path(f, "small.txt"), 0, &bytes, hex, &err),
                 &err);
    assert_file_equals(fx_path(f, "small.txt"), "short\n");
    br_remote_free(r);
}

static void caps(T *t, int grow)
{
    fx *f = &t->f;
    br_remote *r = open_remote(t, "s");
    br_error err;
    char hex[65];
    int64_t bytes = 0;
    /* larger than the cap: refused before the transfer, nothing left locally */
    assert_int_equal(br_remote_get(r, "big.bin", fx_path(f, "big.bin"), 10000, &bytes, hex, &err),
                     BR_ELIMIT);
    assert_contains(err.message, "larger than the cap of 10000 bytes");
    assert_false(fx_exists(f, "big.bin"));
    assert_br_ok(br_remote_get(r, "big.bin", fx_path(f, "big.bin"), 50000, &bytes, hex, &err),
                 &err);
    if (grow) {
        /* listed small, grows past the cap while downloading: cut off, removed */
        seen s = {0};
        assert_br_ok(br_remote_list(r, "", collect, &s, NULL, &err), &err);
        assert_int_equal(size_of(&s, "grow.log"), 1000);
        assert_int_equal(
            br_remote_get(r, "grow.log", fx_path(f, "grow.log"), 200000, &bytes, hex, &err),
            BR_ELIMIT);
        assert_contains(err.message, "grew past it while downloading");
        assert_false(fx_exists(f, "grow.log"));
    }
    br_remote_free(r);
}

static void test_caps_ftp(void **state)
{
    T *t = *state;
    char big[40000], small[1000];
    fill(big, sizeof big, 3);
    fill(small, sizeof small, 5);
    tu_write_bytes(t->root, "big.bin", big, sizeof big);
    tu_write_bytes(t->root, "grow.log", small, sizeof small);
    ftp_server_opts o = {.grow_name = "grow.log", .grow_total = 3000000};
    start_ftp(t, &o);
    add_config(t, "s", NULL);
    caps(t, 1);
}

static void test_caps_sftp(void **state)
{
    T *t = *state;
    char big[40000];
    fill(big, sizeof big, 3);
    tu_write_bytes(t->root, "big.bin", big, sizeof big);
    if (!start_sftp(t, 0)) skip();
    add_config(t, "s", NULL);
    RUN(&t->f, 0, "ftp test s --accept-host-key");
    caps(t, 0);
}

/* ---- secrets ------------------------------------------------------------------------------ */

/* Fails when needle is in any file under dir (binary-safe, the database and its WAL too). */
static void assert_no_file_holds(const char *dir, const char *needle)
{
    char *out = NULL;
    int rc = tu_run(&out, NULL, "grep -rlaF -e '%s' '%s'", needle, dir);
    if (rc == 0) fail_msg("'%s' is in clear in: %s", needle, out ? out : "");
    free(out);
}

static void test_secrets_never_shown(void **state)
{
    T *t = *state;
    fx *f = &t->f;
    if (!start_sftp(t, 0)) skip();
    add_config(t, "s", NULL);
    RUN(f, 0, "ftp test s --accept-host-key");
    SH(f, 0,
       "printf '%%s\\n' '" PASSWORD "' | \"$BR\" --repo r ftp add p --url ftp://127.0.0.1:1/ "
       "--user u --password-stdin");
    /* a line of the private key's body */
    char *key = tu_read(t->srv.key_file), keyline[80] = "";
    assert_non_null(key);
    sscanf(strchr(key, '\n') + 1, "%60s", keyline);
    free(key);
    assert_true(strlen(keyline) > 40);
    const char *cmds[] = {"ftp list",   "ftp list --json",   "ftp show s", "ftp show s --json",
                          "ftp show p", "ftp show p --json", "ftp test s", "ftp test s --json",
                          "ftp test p", "ftp test p --json"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        fx_br(f, "%s", cmds[i]);
        assert_not_contains(f->out, PASSWORD);
        assert_not_contains(f->err, PASSWORD);
        assert_not_contains(f->out, keyline);
        assert_not_contains(f->err, keyline);
    }
    /* not in clear in the database (nor anywhere else in the repository) */
    br_repo_free(t->repo);
    t->repo = NULL;
    assert_no_file_holds(f->repo, PASSWORD);
    assert_no_file_holds(f->repo, keyline);
    /* a key longer than one sealed piece round-trips (an RSA key) */
    SH(f, 0,
       "ssh-keygen -q -t rsa -b 3072 -N '' -m PEM -f rsa.pem && \"$BR\" --repo r ftp add "
       "rsa --url '%s' --user %s --key rsa.pem",
       t->srv.url, t->srv.user);
    SH(f, 0, "cat rsa.pem.pub >> '%s/authorized_keys'", t->srv.dir);
    RUN(f, 0, "ftp test rsa");
    char *rsa = fx_read(f, "rsa.pem");
    sscanf(strchr(rsa, '\n') + 1, "%60s", keyline);
    free(rsa);
    assert_no_file_holds(f->repo, keyline);
}

/* ---- HTTP --------------------------------------------------------------------------------- */

/* One request with the shared client (serve_fixture.h): the status, and the body in f->out. */
static int http_o(T *t, const char *method, const char *path, const sf_rq *o)
{
    sf_resp r;
    sf_http(&t->serve, method, path, o, &r);
    free(t->f.out);
    t->f.out = r.body;
    r.body = NULL;
    long status = r.status;
    sf_resp_free(&r);
    return (int)status;
}

static int http(T *t, const char *method, const char *path, const char *token, const char *body)
{
    return http_o(t, method, path, &(sf_rq){.bearer = token, .json = body});
}

static void test_http_routes(void **state)
{
    T *t = *state;
    fx *f = &t->f;
    char admin[128], manager[128], repoadmin[128];
    sf_add_user(f, "admin", "General System Administrator", "a-password-1");
    sf_token(f, "admin", admin);
    sf_add_user(f, "repoadmin", "Repository Administrator", "a-password-1");
    sf_token(f, "repoadmin", repoadmin);
    sf_add_user(f, "manager", "Repository Manager", "a-password-1");
    sf_token(f, "manager", manager);
    start_ftp(t, NULL);
    static const char *const args[] = {"--workers", "1", NULL};
    sf_start(f, &t->serve, args);
    char body[8192];

    assert_int_equal(http(t, "GET", "/api/ftp", admin, NULL), 200);
    assert_string_equal(f->out, "{\"configs\":[]}");
    /* add: 201 with the configuration, never the password */
    snprintf(body, sizeof body,
             "{\"name\":\"pub\",\"url\":\"%s\",\"user\":\"%s\",\"password\":\"%s\","
             "\"passive\":true}",
             t->srv.url, t->srv.user, t->srv.password);
    assert_int_equal(http(t, "POST", "/api/ftp", repoadmin, body), 201);
    json_t *j = fx_parse(f, "add");
    assert_string_equal(fx_str(j, "name"), "pub");
    assert_true(json_is_true(json_object_get(j, "has_password")));
    assert_not_contains(f->out, t->srv.password);
    json_decref(j);
    snprintf(body, sizeof body,
             "{\"name\":\"bad\",\"url\":\"http://h/\",\"user\":\"u\",\"password\":\"%s\"}",
             PASSWORD);
    assert_int_equal(http(t, "POST", "/api/ftp", admin, body), 400);
    assert_contains(f->out, "scheme 'http'");
    assert_not_contains(f->out, PASSWORD);
    assert_int_equal(http(t, "POST", "/api/ftp", admin, "{\"name\":\"x\",\"pw\":1}"), 400);
    assert_int_equal(http(t, "POST", "/api/ftp", admin, "[1]"), 400);
    snprintf(body, sizeof body,
             "{\"name\":\"wrong\",\"url\":\"%s\",\"user\":\"%s\",\"password\":\"" PASSWORD "\"}",
             t->srv.url, t->srv.user);
    assert_int_equal(http(t, "POST", "/api/ftp", admin, body), 201);
    assert_not_contains(f->out, PASSWORD);

    /* list */
    assert_int_equal(http(t, "GET", "/api/ftp", admin, NULL), 200);
    j = fx_parse(f, "list");
    json_t *arr = json_object_get(j, "configs");
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(fx_str(json_array_get(arr, 0), "name"), "pub");
    assert_string_equal(fx_str(json_array_get(arr, 0), "url"), t->srv.url);
    assert_non_null(fx_str(json_array_get(arr, 0), "created"));
    json_decref(j);
    assert_not_contains(f->out, PASSWORD);
    assert_not_contains(f->out, t->srv.password);

    /* test: 200 with the files, 502 with the reason */
    tu_write(t->root, "one.csv", "a\n");
    tu_write(t->root, "two.csv", "b\n");
    assert_int_equal(http(t, "POST", "/api/ftp/pub/test", admin, "{}"), 200);
    assert_string_equal(f->out, "{\"ok\":true,\"files\":2}");
    assert_int_equal(http(t, "POST", "/api/ftp/wrong/test", admin, "{\"accept_host_key\":false}"),
                     502);
    assert_contains(f->out, "refused the login");
    assert_not_contains(f->out, PASSWORD);
    assert_int_equal(http(t, "POST", "/api/ftp/nosuch/test", admin, "{}"), 404);

    /* a role without access: 403 on every route, nothing changed */
    assert_int_equal(http(t, "GET", "/api/ftp", manager, NULL), 403);
    assert_int_equal(http(t, "POST", "/api/ftp", manager, body), 403);
    assert_int_equal(http(t, "POST", "/api/ftp/pub/test", manager, "{}"), 403);
    assert_int_equal(http(t, "DELETE", "/api/ftp/pub", manager, NULL), 403);

    /* remove: 409 while a profile uses it, 204, then 404 */
    RUN(f, 0, "profile add pulls --format saf --collection %s --ftp pub", f->coll);
    assert_int_equal(http(t, "DELETE", "/api/ftp/pub", admin, NULL), 409);
    assert_contains(f->out, "import profile 'pulls'");
    RUN(f, 3, "ftp remove pub");
    assert_contains(f->err, "import profile 'pulls'");
    RUN(f, 0, "profile remove pulls");
    /* a browser's session: a DELETE must carry the session's X-CSRF-Token, as POSTs do */
    assert_int_equal(
        http_o(t, "POST", "/api/login",
               &(sf_rq){.json = "{\"username\":\"admin\",\"password\":\"a-password-1\"}"}),
        200);
    j = fx_parse(f, "login");
    char cookie[256], csrf[256];
    snprintf(cookie, sizeof cookie, "bulkrepo_session=%s", fx_str(j, "token"));
    snprintf(csrf, sizeof csrf, "%s", fx_str(j, "csrf"));
    json_decref(j);
    assert_int_equal(http_o(t, "DELETE", "/api/ftp/pub", &(sf_rq){.cookie = cookie}), 403);
    assert_contains(f->out, "X-CSRF-Token");
    assert_int_equal(http_o(t, "GET", "/api/ftp", &(sf_rq){.cookie = cookie}), 200);
    assert_contains(f->out, "\"pub\""); /* still there */
    assert_int_equal(http_o(t, "DELETE", "/api/ftp/pub", &(sf_rq){.cookie = cookie, .csrf = csrf}),
                     204);
    assert_int_equal(http(t, "DELETE", "/api/ftp/pub", admin, NULL), 404);
    assert_int_equal(http(t, "DELETE", "/api/ftp/wrong", admin, NULL), 204);
    assert_int_equal(http(t, "GET", "/api/ftp", admin, NULL), 200);
    assert_string_equal(f->out, "{\"configs\":[]}");
    char *log = fx_read(f, "serve.err");
    assert_not_contains(log ? log : "", PASSWORD);
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_rules),
        cmocka_unit_test_setup_teardown(test_config_rules, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_ftp_transfers, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_ftps_transfers, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_sftp_transfers, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_refused_login, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_host_keys, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_listing_3000, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_listing_3000_sftp, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_listing_without_mlsd, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_resume, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_caps_ftp, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_caps_sftp, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_secrets_never_shown, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_http_routes, t_setup, t_teardown),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT); /* for sf_http, before any thread */
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
