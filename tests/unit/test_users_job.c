/* Update/Notify Users (issue 11 section 7) and the mail outbox, run as users run them
 * (`bulkrepo job run update-users --set NAME ...`, `bulkrepo mail ...`) and checked through the
 * user API: roles added (the operator roles seed 001 excludes refused by name, the Read Only
 * rule), external -> internal with and without a new password (the user logs in with the one
 * the letter carries), the dry run, revert (roles and account type back, never the password),
 * a submitter who may not grant a role, letters from templates (a template with an unknown
 * placeholder refused at load with its line), and delivery to an SMTP server on loopback (a
 * responder written here with plain sockets: EHLO, MAIL FROM, RCPT TO, DATA, QUIT): the
 * headers and body it received, a server down then up (delivered exactly once), a 5xx refusal
 * and requeue, STARTTLS required but not offered, the engine's periodic sending; the new
 * password and the SMTP password never in the journal, events, job JSON, the outbox listing
 * or the repository's files. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include "cli_fixture.h"
#include "repo_fixture.h"
#include "bulkrepo/bulkrepo.h"
#include "bulkrepo/user.h"
#include "core/core.h"

#define PW      "Old-Passw0rd!"
#define SMTP_PW "smtp-S3cret-pw"

/* ---- a minimal SMTP server on loopback (RFC 5321: enough for libcurl) ----------------------- */

enum { MODE_OK, MODE_REJECT_RCPT, MODE_TEMP_FAIL };

typedef struct smtp_msg {
    char ehlo[2048], from[2048], rcpt[2048];
    char *data; /* the DATA as received, dot-stuffing undone, CRLF line ends */
} smtp_msg;

typedef struct smtp_srv {
    int fd, port, mode;
    pthread_t th;
    pthread_mutex_t mu;
    volatile int stop;
    smtp_msg msgs[16];
    int n, sessions;
} smtp_srv;

typedef struct conn {
    int fd;
    char buf[8192];
    size_t len;
} conn;

static void say(conn *c, const char *s)
{
    size_t n = strlen(s);
    ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
    (void)w;
}

/* One line without its CRLF into out; -1 on close or a 5 s silence. */
static int get_line(conn *c, char *out, size_t size)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            size_t k = n && c->buf[n - 1] == '\r' ? n - 1 : n;
            if (k >= size) k = size - 1;
            memcpy(out, c->buf, k);
            out[k] = 0;
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return 0;
        }
        struct pollfd p = {c->fd, POLLIN, 0};
        if (c->len == sizeof c->buf || poll(&p, 1, 5000) <= 0) return -1;
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (r <= 0) return -1;
        c->len += (size_t)r;
    }
}

static void session(smtp_srv *s, int fd)
{
    conn c = {fd, "", 0};
    smtp_msg m;
    memset(&m, 0, sizeof m);
    char line[2048];
    say(&c, "220 test.invalid ESMTP ready\r\n");
    while (!get_line(&c, line, sizeof line)) {
        if (!strncasecmp(line, "EHLO ", 5) || !strncasecmp(line, "HELO ", 5)) {
            snprintf(m.ehlo, sizeof m.ehlo, "%s", line + 5);
            say(&c, "250-test.invalid\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n");
        } else if (!strncasecmp(line, "MAIL FROM:", 10)) {
            if (s->mode == MODE_TEMP_FAIL) {
                say(&c, "451 4.3.0 try again later\r\n");
                continue;
            }
            snprintf(m.from, sizeof m.from, "%s", line + 10);
            say(&c, "250 2.1.0 ok\r\n");
        } else if (!strncasecmp(line, "RCPT TO:", 8)) {
            if (s->mode == MODE_REJECT_RCPT) {
                say(&c, "550 5.1.1 no such user here\r\n");
                continue;
            }
            snprintf(m.rcpt, sizeof m.rcpt, "%s", line + 8);
            say(&c, "250 2.1.5 ok\r\n");
        } else if (!strcasecmp(line, "DATA")) {
            say(&c, "354 end with <CRLF>.<CRLF>\r\n");
            br_buf b = {0};
            int ok = 0;
            while (!get_line(&c, line, sizeof line)) {
                if (!strcmp(line, ".")) {
                    ok = 1;
                    break;
                }
                const char *l = line[0] == '.' ? line + 1 : line;
                br_buf_puts(&b, l);
                br_buf_puts(&b, "\r\n");
            }
            if (!ok) {
                br_buf_dispose(&b);
                break;
            }
            m.data = b.p ? b.p : strdup("");
            pthread_mutex_lock(&s->mu);
            if (s->n < 16) {
                s->msgs[s->n++] = m;
                m.data = NULL;
            }
            pthread_mutex_unlock(&s->mu);
            free(m.data);
            m.data = NULL;
            say(&c, "250 2.0.0 queued\r\n");
        } else if (!strcasecmp(line, "QUIT")) {
            say(&c, "221 2.0.0 bye\r\n");
            break;
        } else if (!strcasecmp(line, "RSET") || !strcasecmp(line, "NOOP")) {
            say(&c, "250 2.0.0 ok\r\n");
        } else {
            say(&c, "502 5.5.1 not implemented\r\n");
        }
    }
    close(fd);
}

static void *serve(void *arg)
{
    smtp_srv *s = arg;
    while (!s->stop) {
        struct pollfd p = {s->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int fd = accept(s->fd, NULL, NULL);
        if (fd < 0) continue;
        pthread_mutex_lock(&s->mu);
        s->sessions++;
        pthread_mutex_unlock(&s->mu);
        session(s, fd);
    }
    return NULL;
}

/* A loopback port nothing listens on (a server "down"). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static smtp_srv *smtp_start(int port, int mode)
{
    smtp_srv *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->mode = mode;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    socklen_t len = sizeof a;
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 8), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
    return s;
}

static void smtp_stop(smtp_srv *s)
{
    s->stop = 1;
    pthread_join(s->th, NULL);
    close(s->fd);
    for (int i = 0; i < s->n; i++)
        free(s->msgs[i].data);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int smtp_count(smtp_srv *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* The value of a header of a received message (static buffer), NULL when absent. */
static const char *header(const char *data, const char *name)
{
    static char out[1024];
    size_t n = strlen(name);
    for (const char *l = data; l && *l && strncmp(l, "\r\n", 2);) {
        const char *e = strstr(l, "\r\n");
        if (!strncasecmp(l, name, n) && l[n] == ':') {
            const char *v = l + n + 1;
            while (*v == ' ')
                v++;
            snprintf(out, sizeof out, "%.*s", (int)(e ? e - v : (ptrdiff_t)strlen(v)), v);
            return out;
        }
        l = e ? e + 2 : NULL;
    }
    return NULL;
}

static const char *body_of(const char *data)
{
    const char *b = strstr(data, "\r\n\r\n");
    return b ? b + 4 : NULL;
}

/* ---- fixtures ----------------------------------------------------------------------------------
 */

static br_repo *open_repo(fx *f)
{
    br_repo *repo;
    br_error err;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    return repo;
}

static uint32_t role_bit(const char *name)
{
    br_role r;
    assert_int_equal(br_role_find(name, &r), 0);
    return UINT32_C(1) << r.index;
}

static void add_user(fx *f, const char *name, const char *role, int external, const char *mail)
{
    br_repo *repo = open_repo(f);
    br_error err;
    assert_br_ok(br_user_add(repo, name, PW, role_bit(role), &err), &err);
    if (external)
        assert_br_ok(br_user_set_account_type(repo, name, BR_ACCOUNT_EXTERNAL, &err), &err);
    if (mail) assert_br_ok(br_user_set_mail(repo, name, mail, &err), &err);
    br_repo_free(repo);
}

static uint32_t roles_of(fx *f, const char *name)
{
    br_repo *repo = open_repo(f);
    br_error err;
    br_user u;
    assert_br_ok(br_user_get(repo, name, &u, &err), &err);
    br_repo_free(repo);
    return u.roles;
}

static br_account_type type_of(fx *f, const char *name)
{
    br_repo *repo = open_repo(f);
    br_error err;
    br_account_type t;
    assert_br_ok(br_user_account_type(repo, name, &t, &err), &err);
    br_repo_free(repo);
    return t;
}

static int can_login(fx *f, const char *name, const char *password)
{
    br_repo *repo = open_repo(f);
    br_error err;
    char session[BR_SECRET_SIZE];
    br_identity id;
    int rc = br_auth_login(repo, name, password, 0, session, &id, &err);
    br_repo_free(repo);
    return rc == 0;
}

/* alice (external, address set), bob@example.org (internal: his name is his address) and
 * carol (no address), in set U. */
static void seed(fx *f)
{
    add_user(f, "alice", "Repository Manager", 1, "alice@example.org");
    add_user(f, "bob@example.org", "Asset Manager", 0, NULL);
    add_user(f, "carol", "Asset Manager", 1, NULL);
    RUN(f, 0, "set create U --type users --member alice --member bob@example.org --member carol");
}

static long long run_job(fx *f, int want, const char *params)
{
    RUN(f, want, "job run update-users --set U %s --wait", params);
    long long id = atoll(f->out);
    assert_true(id > 0);
    return id;
}

/* A journal line of a job: its outcome and message (static buffers). */
static const char *line_of(fx *f, long long job, const char *key, const char **outcome)
{
    static char msg[2048], out[32];
    json_t *j = fx_json(f, "job show %lld --records all --json", job);
    json_t *r = fx_job_record(j, key);
    assert_non_null(r);
    snprintf(out, sizeof out, "%s", fx_str(r, "outcome"));
    snprintf(msg, sizeof msg, "%s", fx_str(r, "message") ? fx_str(r, "message") : "");
    json_decref(j);
    if (outcome) *outcome = out;
    return msg;
}

static void mail_config(fx *f, int port)
{
    RUN(f, 0, "mail config --smtp smtp://127.0.0.1:%d --from repo@example.org", port);
}

/* The new password in a delivered letter (static buffer). */
static const char *password_in(const char *data)
{
    static char pw[64];
    const char *p = strstr(data, "Your new password is: ");
    assert_non_null(p);
    p += strlen("Your new password is: ");
    size_t n = strcspn(p, "\r\n");
    assert_int_equal(n, 10);
    snprintf(pw, sizeof pw, "%.*s", (int)n, p);
    for (const char *c = pw; *c; c++) /* the unambiguous alphabet: no 0 O o 1 l I i */
        assert_null(strchr("0Oo1lIi", *c));
    return pw;
}

/* Fails when text holds needle anywhere. */
static void assert_absent(const char *text, const char *needle)
{
    if (text && needle && *needle && strstr(text, needle)) {
        print_error("a secret leaked: '%s' found in\n%s\n", needle, text);
        fail();
    }
}

/* ---- roles ---------------------------------------------------------------------------------- */

static void test_add_roles(void **state)
{
    fx *f = *state;
    seed(f);
    long long job = run_job(f, 0, "--param 'roles=Researcher Manager, user-manager'");
    assert_int_equal(roles_of(f, "alice"), role_bit("Repository Manager") |
                                               role_bit("Researcher Manager") |
                                               role_bit("User Manager"));
    assert_int_equal(roles_of(f, "carol"), role_bit("Asset Manager") |
                                               role_bit("Researcher Manager") |
                                               role_bit("User Manager"));
    const char *outcome;
    const char *msg = line_of(f, job, "bob@example.org", &outcome);
    assert_string_equal(outcome, "updated");
    assert_contains(msg,
                    "roles: Asset Manager → Researcher Manager | Asset Manager | User Manager");
    /* the account type stays, no letter was asked for */
    assert_int_equal(type_of(f, "alice"), BR_ACCOUNT_EXTERNAL);
    RUN(f, 0, "mail outbox --json");
    assert_string_equal(f->out, "[]\n");

    /* again: everyone has them; a role with the Read Only parameter is added without it */
    job = run_job(f, 0, "--param roles=RESEARCHER_MANAGER");
    line_of(f, job, "alice", &outcome);
    assert_string_equal(outcome, "skipped");
    run_job(f, 0, "--param 'roles=User Administrator'");
    assert_true(roles_of(f, "bob@example.org") & role_bit("User Administrator"));
}

static void test_excluded_and_read_only_roles(void **state)
{
    fx *f = *state;
    seed(f);
    uint32_t before = roles_of(f, "alice");
    /* seed 001: "The roles that cannot be updated by this job are: ..." */
    static const char *const excluded[] = {
        "Circulation Desk Operator",  "Circulation Desk Operator - Limited",
        "Circulation Desk Manager",   "Requests Operator",
        "Work Order Operator",        "Receiving Operator",
        "Receiving Operator Limited", "Fulfillment Services Operator"};
    for (size_t i = 0; i < sizeof excluded / sizeof *excluded; i++) {
        RUN(f, 2, "job run update-users --set U --param 'roles=Researcher Manager,%s' --wait",
            excluded[i]);
        assert_contains(f->err, excluded[i]);
        assert_contains(f->err, "cannot be added by Update/Notify Users");
    }
    /* by code too */
    RUN(f, 2, "job run update-users --set U --param roles=REQUESTS_OPERATOR");
    assert_contains(f->err, "Requests Operator");
    /* Read Only cannot be selected by this job; a role without it has none to select */
    RUN(f, 2, "job run update-users --set U --param 'roles=User Administrator (Read Only)'");
    assert_contains(f->err, "User Administrator cannot be added with Read Only selected");
    RUN(f, 2, "job run update-users --set U --param 'roles=Repository Manager (read only)'");
    assert_contains(f->err, "Repository Manager has no Read Only parameter");
    RUN(f, 2, "job run update-users --set U --param 'roles=User Administrator (Circulation Desk)'");
    assert_contains(f->err, "this job sets no role parameter");
    RUN(f, 2, "job run update-users --set U --param roles=Wizard --dry-run");
    assert_contains(f->err, "no role 'Wizard'");
    /* nothing to do; no_password without account_type; a bad enum */
    RUN(f, 2, "job run update-users --set U");
    assert_contains(f->err, "say what to do");
    RUN(f, 2, "job run update-users --set U --param roles=USER_MANAGER --param no_password=true");
    assert_contains(f->err,
                    "parameter 'no_password' of update-users applies only when account_type");
    RUN(f, 2, "job run update-users --set U --param account_type=guest");
    RUN(f, 2, "job run update-users --set U --param notify=postcard");
    /* a set of assets is not a set of users */
    RUN(f, 0, "set create A");
    RUN(f, 2, "job run update-users --set A --param roles=USER_MANAGER");
    /* no job was made, nothing changed */
    json_t *jobs = fx_json(f, "job list --json");
    assert_int_equal(json_array_size(jobs), 0);
    json_decref(jobs);
    assert_int_equal(roles_of(f, "alice"), before);
}

/* A User Manager who submits the job (REST API, web UI) grants only roles they hold. */
static void test_submitter_grants_own_roles_only(void **state)
{
    fx *f = *state;
    seed(f);
    add_user(f, "mgr", "User Manager", 0, NULL);
    br_repo *repo = open_repo(f);
    br_error err;
    int64_t id;
    br_job_spec spec = {0};
    spec.type = "update-users";
    spec.eperson = "mgr";
    spec.params = "{\"set\":\"U\",\"roles\":\"General System Administrator\"}";
    assert_br_ok(br_job_submit(repo, &spec, &id, &err), &err);
    br_job_spec ok = spec;
    ok.params = "{\"set\":\"U\",\"roles\":\"User Manager\"}";
    int64_t id2;
    assert_br_ok(br_job_submit(repo, &ok, &id2, &err), &err);
    br_repo_free(repo);
    RUN(f, 0, "job work --once");
    const char *outcome;
    const char *msg = line_of(f, id, "alice", &outcome);
    assert_string_equal(outcome, "failed");
    assert_contains(msg, "mgr, who submitted the job, may add only roles of their own: not "
                         "General System Administrator");
    assert_false(roles_of(f, "alice") & BR_ROLE_GSA);
    line_of(f, id2, "alice", &outcome);
    assert_string_equal(outcome, "updated");
    assert_true(roles_of(f, "alice") & role_bit("User Manager"));
}

/* ---- account type, passwords, letters -----------------------------------------------------------
 */

static void test_external_to_internal_with_password(void **state)
{
    fx *f = *state;
    seed(f);
    assert_true(can_login(f, "alice", PW));
    /* a token alice made with her old password stops working with the new one */
    br_repo *repo = open_repo(f);
    br_error err;
    char token[BR_SECRET_SIZE];
    assert_br_ok(br_user_token_new(repo, "alice", token, &err), &err);
    br_repo_free(repo);
    /* the password reaches the user only in a letter that has {{new_password}} */
    RUN(f, 2, "job run update-users --set U --param account_type=internal");
    assert_contains(f->err, "choose notify");
    long long job = run_job(f, 0, "--param account_type=internal --param notify=account-updated");
    char *job_out = strdup(f->out), *job_err = strdup(f->err);
    assert_int_equal(type_of(f, "alice"), BR_ACCOUNT_INTERNAL);
    assert_false(can_login(f, "alice", PW));
    repo = open_repo(f);
    br_identity who;
    assert_int_equal(br_auth_check(repo, token, &who, &err), BR_EAUTH);
    br_repo_free(repo);
    /* bob was internal already: nothing to change but his letter (he has no new password) */
    const char *outcome;
    const char *msg = line_of(f, job, "bob@example.org", &outcome);
    assert_string_equal(outcome, "updated");
    assert_contains(msg, "letter: (none) → account-updated to bob@example.org");
    assert_true(can_login(f, "bob@example.org", PW));
    /* carol has no address: the password would reach nobody, so she is left as she was */
    msg = line_of(f, job, "carol", &outcome);
    assert_string_equal(outcome, "skipped");
    assert_contains(msg, "no mail address for the letter with the new password");
    assert_int_equal(type_of(f, "carol"), BR_ACCOUNT_EXTERNAL);
    assert_true(can_login(f, "carol", PW));
    msg = line_of(f, job, "alice", &outcome);
    assert_contains(msg, "account type: external → internal");
    assert_contains(msg, "password: (none) → new (sent in the letter only)");

    /* the letter waits in the outbox (no server), its password redacted */
    json_t *box = fx_json(f, "mail outbox --json");
    assert_int_equal(json_array_size(box), 2);
    json_t *m = json_array_get(box, 0);
    assert_string_equal(fx_str(m, "to"), "alice@example.org");
    assert_string_equal(fx_str(m, "state"), "queued");
    assert_true(json_is_true(json_object_get(m, "carriedSecret")));
    assert_contains(fx_str(m, "body"), "Your new password is: [redacted]");
    assert_contains(fx_str(m, "body"), "Your account is now an internal account.");
    assert_false(json_is_true(json_object_get(json_array_get(box, 1), "carriedSecret")));
    json_decref(box);
    RUN(f, 0, "mail send");
    assert_contains(f->err, "no mail server configured: 2 messages kept");

    /* delivered: alice logs in with the password of her letter */
    smtp_srv *s = smtp_start(0, MODE_OK);
    mail_config(f, s->port);
    RUN(f, 0, "mail send");
    assert_int_equal(smtp_count(s), 2);
    const char *pw = password_in(s->msgs[0].data);
    assert_true(can_login(f, "alice", pw));
    assert_null(strstr(s->msgs[1].data, "password"));

    /* the password is nowhere else: journal, events, job JSON, outbox, CLI output, files */
    char secret[64];
    snprintf(secret, sizeof secret, "%s", pw);
    assert_absent(job_out, secret);
    assert_absent(job_err, secret);
    RUN(f, 0, "job show %lld --records all --json", job);
    assert_absent(f->out, secret);
    RUN(f, 0, "job events %lld --json", job);
    assert_absent(f->out, secret);
    RUN(f, 0, "job list --json");
    assert_absent(f->out, secret);
    RUN(f, 0, "mail outbox --json");
    assert_absent(f->out, secret);
    assert_contains(f->out, "[redacted]");
    RUN(f, 0, "mail outbox");
    assert_absent(f->out, secret);
    SH(f, 1, "grep -r -a -l -F '%s' r", secret);
    free(job_out);
    free(job_err);
    smtp_stop(s);
}

static void test_no_password_and_internal_to_external(void **state)
{
    fx *f = *state;
    seed(f);
    /* don't generate password: the type changes, the password stays, no letter needed */
    long long job = run_job(f, 0, "--param account_type=internal --param no_password=true");
    assert_int_equal(type_of(f, "alice"), BR_ACCOUNT_INTERNAL);
    assert_int_equal(type_of(f, "carol"), BR_ACCOUNT_INTERNAL);
    assert_true(can_login(f, "alice", PW));
    assert_true(can_login(f, "carol", PW));
    const char *outcome;
    line_of(f, job, "bob@example.org", &outcome);
    assert_string_equal(outcome, "skipped");
    RUN(f, 0, "mail outbox --json");
    assert_string_equal(f->out, "[]\n");
    /* internal -> external never sets a password */
    run_job(f, 0, "--param account_type=external --param notify=welcome");
    assert_int_equal(type_of(f, "bob@example.org"), BR_ACCOUNT_EXTERNAL);
    assert_true(can_login(f, "bob@example.org", PW));
    json_t *box = fx_json(f, "mail outbox --json");
    /* alice and bob get the welcome letter; carol has no address */
    assert_int_equal(json_array_size(box), 2);
    assert_string_equal(fx_str(json_array_get(box, 0), "subject"), "Welcome to bulkrepo");
    assert_null(strstr(fx_str(json_array_get(box, 0), "body"), "password"));
    json_decref(box);
}

static void test_dry_run(void **state)
{
    fx *f = *state;
    seed(f);
    RUN(f, 0,
        "job run update-users --set U --param roles=USER_MANAGER --param account_type=internal "
        "--param notify=account-updated --dry-run");
    assert_contains(f->out, "alice  roles: Repository Manager → Repository Manager | User Manager");
    assert_contains(f->out, "alice  account type: external → internal");
    assert_contains(f->out, "alice  password: (none) → new (sent in the letter only)");
    assert_contains(f->out, "alice  letter: (none) → account-updated to alice@example.org");
    assert_contains(f->out, "bob@example.org  roles: Asset Manager → Asset Manager | User Manager");
    assert_contains(f->out, "carol  skipped: no mail address for the letter with the new password");
    assert_contains(f->err, "3 members; of the 3 looked at, 2 would change and 1 would be left");
    json_t *j = fx_json(f, "job run update-users --set U --param roles=USER_MANAGER --param "
                           "notify=welcome --dry-run --json");
    assert_int_equal(json_integer_value(json_object_get(j, "members")), 3);
    json_t *carol = json_array_get(json_object_get(j, "changes"), 2);
    assert_string_equal(fx_str(carol, "handle"), "carol");
    json_t *ch = json_array_get(json_object_get(carol, "changes"), 1);
    assert_string_equal(fx_str(ch, "field"), "letter");
    assert_string_equal(fx_str(ch, "new"), "none: the user has no mail address");
    json_decref(j);
    /* nothing was written */
    assert_int_equal(roles_of(f, "alice"), role_bit("Repository Manager"));
    assert_int_equal(type_of(f, "alice"), BR_ACCOUNT_EXTERNAL);
    assert_true(can_login(f, "alice", PW));
    RUN(f, 0, "mail outbox --json");
    assert_string_equal(f->out, "[]\n");
    json_t *jobs = fx_json(f, "job list --json");
    assert_int_equal(json_array_size(jobs), 0);
    json_decref(jobs);
}

static void test_revert(void **state)
{
    fx *f = *state;
    seed(f);
    long long job = run_job(f, 0,
                            "--param roles=USER_MANAGER --param account_type=internal "
                            "--param notify=account-updated");
    smtp_srv *s = smtp_start(0, MODE_OK);
    mail_config(f, s->port);
    RUN(f, 0, "mail send");
    const char *pw = password_in(s->msgs[0].data);
    char newpw[16];
    snprintf(newpw, sizeof newpw, "%s", pw);
    /* someone changes bob afterwards: a conflict */
    br_repo *repo = open_repo(f);
    br_error err;
    assert_br_ok(br_user_set_roles(repo, "bob@example.org", role_bit("Asset Manager"), &err), &err);
    br_repo_free(repo);
    RUN(f, 0, "job revert %lld --dry-run", job);
    assert_contains(f->out, "alice");
    assert_contains(f->out, "user:");
    RUN(f, 1, "job revert %lld --wait", job);
    /* alice: roles and account type back; her new password stays (never restored) */
    assert_int_equal(roles_of(f, "alice"), role_bit("Repository Manager"));
    assert_int_equal(type_of(f, "alice"), BR_ACCOUNT_EXTERNAL);
    assert_true(can_login(f, "alice", newpw));
    assert_false(can_login(f, "alice", PW));
    /* bob changed since: left, reported */
    assert_int_equal(roles_of(f, "bob@example.org"), role_bit("Asset Manager"));
    json_t *last = fx_last_job(f);
    assert_string_equal(fx_status_code(last), "COMPLETED_WITH_ERRORS");
    /* the revert's lines are keyed by the undo rows' "user:ID" and name the user */
    json_t *recs = json_object_get(last, "records"), *r, *bob = NULL, *alice = NULL;
    size_t i;
    json_array_foreach(recs, i, r)
    {
        assert_contains(fx_str(r, "key"), "user:");
        if (strstr(fx_str(r, "message"), "user bob@example.org ")) bob = r;
        if (strstr(fx_str(r, "message"), "user alice ")) alice = r;
    }
    assert_non_null(bob);
    assert_string_equal(fx_str(bob, "outcome"), "skipped");
    assert_contains(fx_str(bob, "message"), "its roles or account type changed after the job");
    assert_non_null(alice);
    assert_string_equal(fx_str(alice, "outcome"), "updated");
    assert_string_equal(fx_str(alice, "message"), "user alice put back");
    json_decref(last);
    /* with force, bob gets the roles he had before the job */
    RUN(f, 0, "job revert %lld --force --wait", job);
    assert_int_equal(roles_of(f, "bob@example.org"), role_bit("Asset Manager"));
    /* a job that only sent letters has nothing to revert */
    long long only = run_job(f, 0, "--param notify=welcome");
    RUN(f, 2, "job revert %lld", only);
    assert_contains(f->err, "changed no record");
    smtp_stop(s);
}

/* ---- letters -----------------------------------------------------------------------------------
 */

static void test_letter_templates(void **state)
{
    fx *f = *state;
    seed(f);
    RUN(f, 0, "mail letters");
    assert_contains(f->out, "account-updated");
    assert_contains(f->out, "welcome");
    /* the repository's letter replaces the shipped one, and is checked when the job starts */
    SH(f, 0, "mkdir -p r/letters");
    fx_write(f, "r/letters/welcome.txt",
             "Subject: Hello {{user_name}}\n\nDear {{user_name}},\n\n{{#roles_added}}\n"
             "You may now: {{roles_addded}}\n{{/roles_added}}\n");
    RUN(f, 3, "job run update-users --set U --param notify=welcome");
    assert_contains(f->err, "letters/welcome.txt:6:14: ");
    assert_contains(f->err, "unknown placeholder {{roles_addded}}");
    RUN(f, 0, "mail letters");
    assert_contains(f->out, "INVALID");
    fx_write(f, "r/letters/welcome.txt", "Subject: Hi\n\n{{#roles_added}}\nRoles\n");
    RUN(f, 3, "job run update-users --set U --param notify=welcome");
    assert_contains(f->err, "section {{#roles_added}} is not closed");
    fx_write(f, "r/letters/welcome.txt", "Dear {{user_name}}\n");
    RUN(f, 3, "job run update-users --set U --param notify=welcome");
    assert_contains(f->err, "starts with a \"Subject: \" line");
    /* a letter without {{new_password}} cannot carry a new password */
    fx_write(f, "r/letters/welcome.txt",
             "Subject: Hello {{user_name}}\n\nDear {{user_name}},\n{{#roles_added}}\n"
             "you may now act as {{roles_added}}.\n{{/roles_added}}\n");
    RUN(f, 2, "job run update-users --set U --param account_type=internal --param notify=welcome");
    assert_contains(f->err, "has no {{new_password}}");
    run_job(f, 0, "--param roles=USER_MANAGER --param notify=welcome");
    json_t *box = fx_json(f, "mail outbox --json");
    assert_string_equal(fx_str(json_array_get(box, 0), "subject"), "Hello alice");
    assert_string_equal(fx_str(json_array_get(box, 0), "body"),
                        "Dear alice,\nyou may now act as User Manager.\n");
    json_decref(box);
}

/* ---- delivery -----------------------------------------------------------------------------------
 */

static void test_smtp_delivery_headers_and_body(void **state)
{
    fx *f = *state;
    seed(f);
    smtp_srv *s = smtp_start(0, MODE_OK);
    RUN(f, 0,
        "mail config --smtp smtp://127.0.0.1:%d --from repo@example.org "
        "--repository-name 'Universität Repository'",
        s->port);
    run_job(f, 0, "--param roles=USER_MANAGER --param notify=account-updated");
    RUN(f, 0, "mail send --all");
    RUN(f, 0, "mail send --all --json");
    assert_contains(f->out, "\"sent\": 0");
    assert_int_equal(smtp_count(s), 2); /* alice and bob, once each; carol has no address */
    smtp_msg *m = &s->msgs[0];
    assert_string_equal(m->from, "<repo@example.org>");
    assert_string_equal(m->rcpt, "<alice@example.org>");
    const char *d = m->data;
    assert_string_equal(header(d, "From"), "repo@example.org");
    assert_string_equal(header(d, "To"), "alice@example.org");
    /* "Your account at Universität Repository was updated", RFC 2047 */
    assert_contains(header(d, "Subject"), "=?UTF-8?B?");
    assert_non_null(header(d, "Date"));
    assert_contains(header(d, "Date"), " +0000");
    char mid[256];
    assert_non_null(header(d, "Message-ID"));
    snprintf(mid, sizeof mid, "%s", header(d, "Message-ID"));
    assert_true(mid[0] == '<' && mid[strlen(mid) - 1] == '>' && strstr(mid, "@example.org>"));
    assert_string_equal(header(d, "MIME-Version"), "1.0");
    assert_string_equal(header(d, "Content-Type"), "text/plain; charset=UTF-8");
    /* the body has non-ASCII text (the repository's name): quoted-printable */
    assert_string_equal(header(d, "Content-Transfer-Encoding"), "quoted-printable");
    assert_string_equal(header(d, "Auto-Submitted"), "auto-generated");
    const char *b = body_of(d);
    assert_non_null(b);
    assert_contains(b, "Dear alice,\r\n");
    assert_contains(b, "Roles added: User Manager.\r\n");
    assert_contains(b, "Universit=C3=A4t Repository");
    /* the outbox says sent, once */
    json_t *box = fx_json(f, "mail outbox --json");
    assert_string_equal(fx_str(json_array_get(box, 0), "state"), "sent");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(box, 0), "attempts")), 1);
    assert_string_equal(fx_str(json_array_get(box, 0), "messageId"), mid);
    json_decref(box);
    smtp_stop(s);
}

static void test_server_down_then_up(void **state)
{
    fx *f = *state;
    seed(f);
    run_job(f, 0, "--param roles=USER_MANAGER --param notify=welcome");
    int port = free_port();
    mail_config(f, port);
    /* down: kept, with the attempt and the error; the second message is not even tried */
    RUN(f, 1, "mail send");
    assert_contains(f->err, "0 sent, 1 left queued");
    json_t *box = fx_json(f, "mail outbox --json");
    json_t *m = json_array_get(box, 0);
    assert_string_equal(fx_str(m, "state"), "queued");
    assert_int_equal(json_integer_value(json_object_get(m, "attempts")), 1);
    assert_non_null(fx_str(m, "lastError"));
    assert_non_null(fx_str(m, "nextAttempt"));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(box, 1), "attempts")), 0);
    json_decref(box);
    /* within its back-off a message waits */
    smtp_srv *s = smtp_start(port, MODE_OK);
    RUN(f, 0, "mail send");
    assert_contains(f->err, "1 sent");
    assert_int_equal(smtp_count(s), 1);
    /* --all takes the waiting one too; after that nothing is sent twice */
    RUN(f, 0, "mail send --all");
    assert_int_equal(smtp_count(s), 2);
    RUN(f, 0, "mail send --all");
    RUN(f, 0, "mail send --all");
    assert_int_equal(smtp_count(s), 2);
    /* bob was due first (alice waited for her next try) */
    assert_string_equal(s->msgs[0].rcpt, "<bob@example.org>");
    assert_string_equal(s->msgs[1].rcpt, "<alice@example.org>");
    box = fx_json(f, "mail outbox --json");
    assert_string_equal(fx_str(json_array_get(box, 0), "state"), "sent");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(box, 0), "attempts")), 2);
    json_decref(box);
    smtp_stop(s);
}

static void test_refused_failed_and_starttls(void **state)
{
    fx *f = *state;
    seed(f);
    /* (configured after the job: `job run --wait` runs an engine, which may send too) */
    run_job(f, 0, "--param roles=USER_MANAGER --param notify=welcome");
    smtp_srv *s = smtp_start(0, MODE_REJECT_RCPT);
    mail_config(f, s->port);
    RUN(f, 1, "mail send");
    assert_contains(f->err, "2 failed");
    json_t *box = fx_json(f, "mail outbox --json --state failed");
    assert_int_equal(json_array_size(box), 2);
    assert_contains(fx_str(json_array_get(box, 0), "lastError"), "550");
    json_decref(box);
    /* a temporary refusal (451) keeps it queued */
    s->mode = MODE_TEMP_FAIL;
    RUN(f, 0, "mail requeue 1");
    RUN(f, 1, "mail send");
    box = fx_json(f, "mail outbox --json --state queued");
    assert_int_equal(json_array_size(box), 1);
    assert_contains(fx_str(json_array_get(box, 0), "lastError"), "451");
    json_decref(box);
    /* STARTTLS required by the configuration but not offered: nothing is sent in clear */
    s->mode = MODE_OK;
    RUN(f, 0, "mail config --smtp smtp://127.0.0.1:%d --from repo@example.org --starttls", s->port);
    RUN(f, 1, "mail send --all");
    assert_int_equal(smtp_count(s), 0);
    box = fx_json(f, "mail outbox --json --state queued");
    assert_contains(fx_str(json_array_get(box, 0), "lastError"), "STARTTLS");
    json_decref(box);
    mail_config(f, s->port);
    RUN(f, 0, "mail send --all");
    assert_int_equal(smtp_count(s), 1);
    RUN(f, 0, "mail requeue 2");
    RUN(f, 0, "mail send");
    assert_int_equal(smtp_count(s), 2);
    RUN(f, 2, "mail requeue 2"); /* sent: not again */
    assert_contains(f->err, "was sent");
    RUN(f, 3, "mail requeue 99");
    smtp_stop(s);
}

/* The engine (bulkrepo serve, job work) sends due messages on its inbox thread's tick. */
static void test_engine_sends(void **state)
{
    fx *f = *state;
    seed(f);
    run_job(f, 0, "--param roles=USER_MANAGER --param notify=welcome");
    smtp_srv *s = smtp_start(0, MODE_OK);
    mail_config(f, s->port);
    assert_int_equal(smtp_count(s), 0);
    br_engine_options o = {0};
    o.workers = 1;
    o.inbox_poll_ms = 100;
    br_engine *eng;
    br_error err;
    assert_br_ok(br_engine_new(f->repo, &o, &eng, &err), &err);
    assert_br_ok(br_engine_start(eng, &err), &err);
    for (int i = 0; i < 100 && smtp_count(s) < 2; i++)
        usleep(50000);
    br_engine_free(eng);
    assert_int_equal(smtp_count(s), 2);
    RUN(f, 0, "mail outbox");
    assert_contains(f->out, "sent");
    assert_not_contains(f->out, "queued");
    smtp_stop(s);
}

static void test_mail_config(void **state)
{
    fx *f = *state;
    RUN(f, 0, "mail config --json");
    assert_contains(f->out, "\"smtp\": null");
    RUN(f, 2, "mail config --smtp http://mail.example.org --from a@example.org");
    RUN(f, 2, "mail config --smtp smtp://user:pw@mail.example.org --from a@example.org");
    RUN(f, 2, "mail config --smtp smtp://mail.example.org --from 'not an address'");
    RUN(f, 2, "mail config --smtp smtps://mail.example.org --from a@example.org --starttls");
    RUN(f, 2, "mail config --smtp smtp://mail.example.org");
    SH(f, 2,
       "echo '%s' | \"$BR\" --repo r mail config --smtp smtp://mail.example.org "
       "--from a@example.org --user u --password-stdin",
       SMTP_PW);
    assert_contains(f->err, "only over TLS");
    RUN(f, 2,
        "mail config --smtp smtps://mail.example.org --from a@example.org --user u "
        "--password " SMTP_PW);
    assert_contains(f->err, "never given on the command line");
    SH(f, 0,
       "echo '%s' | \"$BR\" --repo r mail config --smtp smtps://mail.example.org:465 "
       "--from a@example.org --user u --password-stdin",
       SMTP_PW);
    json_t *c = fx_json(f, "mail config --json");
    assert_string_equal(fx_str(c, "smtp"), "smtps://mail.example.org:465");
    assert_true(json_is_true(json_object_get(c, "passwordSet")));
    json_decref(c);
    RUN(f, 0, "mail config");
    assert_contains(f->out, "(password set)");
    assert_absent(f->out, SMTP_PW);
    /* the SMTP password is sealed: not in the database or any file in clear */
    SH(f, 1, "grep -r -a -l -F '%s' r", SMTP_PW);
    /* a user address */
    add_user(f, "dora", "Asset Manager", 0, NULL);
    RUN(f, 0, "mail address dora");
    assert_contains(f->err, "has no mail address");
    RUN(f, 2, "mail address dora 'dora at example'");
    RUN(f, 0, "mail address dora dora@example.org");
    assert_string_equal(f->out, "dora@example.org\n");
    RUN(f, 0, "mail address dora --clear");
    RUN(f, 3, "mail address nobody x@example.org");
    RUN(f, 0, "mail config --off");
    c = fx_json(f, "mail config --json");
    assert_true(json_is_null(json_object_get(c, "smtp")));
    json_decref(c);
    RUN(f, 0, "mail --help");
    assert_contains(f->out, "bulkrepo mail config --smtp URL");
    RUN(f, 2, "mail nonsense");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_add_roles),
        FX_TEST(test_excluded_and_read_only_roles),
        FX_TEST(test_submitter_grants_own_roles_only),
        FX_TEST(test_external_to_internal_with_password),
        FX_TEST(test_no_password_and_internal_to_external),
        FX_TEST(test_dry_run),
        FX_TEST(test_revert),
        FX_TEST(test_letter_templates),
        FX_TEST(test_smtp_delivery_headers_and_body),
        FX_TEST(test_server_down_then_up),
        FX_TEST(test_refused_failed_and_starttls),
        FX_TEST(test_engine_sends),
        FX_TEST(test_mail_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
