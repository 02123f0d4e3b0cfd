/* The mail outbox and its sender (mail.h): the server's settings, queueing, listing, sending
 * with back-off, and the RFC 5322 form of a message.
 *
 * Exactly once: a message is sent by the sender that claimed it (queued -> sending, one
 * UPDATE that only one sender wins) and marked sent once the server took it.  A sender that
 * dies between the server's "250" and that mark leaves the message "sending"; after the lease
 * another sender takes it over and the recipient may get it twice, with the same Message-ID
 * (what RFC 5322 readers deduplicate on).  Secrets are sealed with the repository's key by
 * doi/seal.c (the one sealing module), unsealed in memory only to send, and wiped after. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "doi/doi_internal.h"
#include "mail/mail_internal.h"
#include "store/store_mail.h"

enum {
    LEASE = 15 * 60,       /* seconds a claim holds: far above one SMTP session (60 s) */
    BACKOFF_FIRST = 60,    /* seconds before the second try, doubled after each */
    BACKOFF_MAX = 3600,    /* at most an hour between tries */
    PAGE = 50,             /* messages read per query of the sender */
    SUBJECT_MAX = 900,     /* bytes of a subject (RFC 5322 lines stop at 998) */
    BODY_MAX = 1024 * 1024 /* bytes of a body */
};

/* ---- addresses ---------------------------------------------------------------------------- */

int br_mail_address_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 3 || n > BR_MAIL_ADDRESS_MAX) return 0;
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@')) return 0;
    if (at[1] == '.' || s[n - 1] == '.' || strstr(at, "..")) return 0;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || strchr("\"<>,;()[]\\:", c)) return 0;
    }
    return 1;
}

/* ---- the server's settings ------------------------------------------------------------------ */

static int no_controls(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 0;
    return 1;
}

/* smtp://host[:port][/ehlo-domain] or smtps://...: a host, no credentials in the URL. */
static int url_ok(const char *u, int *tls)
{
    const char *rest = !strncmp(u, "smtp://", 7)    ? u + 7
                       : !strncmp(u, "smtps://", 8) ? u + 8
                                                    : NULL;
    *tls = rest && u[4] == 's';
    if (!rest || !*rest || *rest == '/' || *rest == ':') return 0;
    size_t auth = strcspn(rest, "/?#");
    if (memchr(rest, '@', auth)) return 0; /* user:password@ would be stored in clear */
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f) return 0;
    return 1;
}

int br_mail_config_set(br_repo *repo, const br_mail_config *cfg, const char *password,
                       br_error *err)
{
    if (!cfg) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no mail settings");
    int tls = 0;
    if (strlen(cfg->smtp) >= sizeof cfg->smtp || !url_ok(cfg->smtp, &tls))
        return br_error_set(err, BR_EUSAGE, "--smtp", 0, 0,
                            "'%.200s' is not an SMTP server: smtp://HOST[:PORT] or "
                            "smtps://HOST[:PORT], without a user or password in it",
                            cfg->smtp);
    if (!br_mail_address_valid(cfg->from))
        return br_error_set(err, BR_EUSAGE, "--from", 0, 0,
                            "'%.200s' is not a mail address (local@domain)", cfg->from);
    if (cfg->starttls && tls)
        return br_error_set(err, BR_EUSAGE, "--starttls", 0, 0,
                            "smtps:// is TLS from the start: STARTTLS is for smtp://");
    if (!no_controls(cfg->user) || !no_controls(cfg->repository_name) ||
        br_utf8_check(cfg->repository_name, strlen(cfg->repository_name), NULL))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "the user and repository name are one line of UTF-8 text");
    if (password && *password && !cfg->user[0])
        return br_error_set(err, BR_EUSAGE, "--password-stdin", 0, 0,
                            "a password goes with a user (--user)");
    if (cfg->user[0] && !tls && !cfg->starttls)
        return br_error_set(err, BR_EUSAGE, "--user", 0, 0,
                            "credentials are sent only over TLS: use smtps:// or --starttls");
    br_mail_config old;
    char sealed[2048] = "";
    int rc = br_mail_settings_get(repo, &old, sealed, sizeof sealed, err);
    if (rc) return rc;
    /* NULL keeps the stored password, for the same user only. */
    if (!password && strcmp(old.user, cfg->user)) sealed[0] = 0;
    if (password && *password) {
        if (!no_controls(password))
            return br_error_set(err, BR_EUSAGE, "--password-stdin", 0, 0,
                                "the password is one line");
        rc = br_doi_seal(br_repo_dir(repo), password, sealed, sizeof sealed, err);
    } else if (password) {
        sealed[0] = 0;
    }
    if (rc) return rc;
    br_mail_config c = *cfg;
    br_now_iso(c.updated);
    return br_mail_settings_put(repo, &c, sealed, err);
}

int br_mail_config_get(br_repo *repo, br_mail_config *out, br_error *err)
{
    if (!out) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_mail_config_get: no output");
    return br_mail_settings_get(repo, out, NULL, 0, err);
}

int br_mail_config_clear(br_repo *repo, br_error *err)
{
    br_mail_config c;
    memset(&c, 0, sizeof c);
    br_now_iso(c.updated);
    return br_mail_settings_put(repo, &c, "", err);
}

/* ---- queueing ------------------------------------------------------------------------------- */

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

int br_mail_queue(br_repo *repo, const br_mail_message *m, int64_t *id, br_error *err)
{
    if (!m || !m->kind || !m->to || !m->subject || !m->body)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_mail_queue: missing argument");
    size_t kn = strlen(m->kind), sn = strlen(m->subject), bn = strlen(m->body);
    if (!kn || kn > 63 || !no_controls(m->kind))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a message's kind has 1 to 63 bytes");
    if (!br_mail_address_valid(m->to))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "'%.300s' is not a mail address", m->to);
    if (!sn || sn > SUBJECT_MAX || !no_controls(m->subject) || br_utf8_check(m->subject, sn, NULL))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "a subject is one line of 1 to %d bytes of UTF-8", SUBJECT_MAX);
    if (bn > BODY_MAX || br_utf8_check(m->body, bn, NULL))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "a message body is UTF-8 text of at most %d bytes", BODY_MAX);
    int marks = count_of(m->body, BR_MAIL_SECRET_MARK);
    if (m->secret ? marks != 1 : marks != 0)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            m->secret ? "a message with a secret holds its mark once"
                                      : "a message without a secret holds no mark");
    if (m->secret && (!*m->secret || !no_controls(m->secret) || strlen(m->secret) > 256))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "a message's secret is 1 to 256 bytes of one line");
    char sealed[2048] = "", mid[200], created[32], hex[33];
    unsigned char rnd[16];
    int rc = 0;
    if (m->secret && (rc = br_doi_seal(br_repo_dir(repo), m->secret, sealed, sizeof sealed, err)))
        return rc;
    /* The Message-ID's right part is the sender's domain when one is configured. */
    br_mail_config cfg;
    if ((rc = br_mail_settings_get(repo, &cfg, NULL, 0, err))) return rc;
    const char *at = strchr(cfg.from, '@');
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    br_now_iso(created);
    snprintf(mid, sizeof mid, "<%s.%lld@%s>", hex, (long long)time(NULL),
             at ? at + 1 : "bulkrepo.invalid");
    br_mail_row row = {created, m->kind,  m->to, m->subject, m->body, m->secret ? sealed : NULL,
                       mid,     m->job_id};
    return br_mail_row_insert(repo, &row, id, err);
}

/* ---- listing -------------------------------------------------------------------------------- */

typedef struct list_ctx {
    br_mail_entry_fn fn;
    void *ctx;
    int oom;
} list_ctx;

/* s with every mark replaced by `with` (malloc'd), NULL when out of memory. */
static char *replace_mark(const char *s, const char *with)
{
    br_buf b = {0};
    const char *p = s, *m;
    size_t ml = strlen(BR_MAIL_SECRET_MARK);
    while ((m = strstr(p, BR_MAIL_SECRET_MARK))) {
        if (br_buf_append(&b, p, (size_t)(m - p)) || br_buf_puts(&b, with)) goto oom;
        p = m + ml;
    }
    if (br_buf_puts(&b, p)) goto oom;
    return b.p;
oom:
    br_buf_dispose(&b);
    return NULL;
}

static int list_one(void *ctx, const br_mail_entry *e)
{
    list_ctx *c = ctx;
    char *body = replace_mark(e->body ? e->body : "", BR_MAIL_REDACTED);
    if (!body) {
        c->oom = 1;
        return 1;
    }
    br_mail_entry shown = *e;
    shown.body = body;
    int stop = c->fn(c->ctx, &shown);
    free(body);
    return stop;
}

int br_mail_outbox_list(br_repo *repo, const char *state, br_mail_entry_fn fn, void *ctx,
                        br_error *err)
{
    static const char *const STATES[] = {"queued", "sending", "sent", "failed"};
    int known = !state;
    for (size_t i = 0; state && i < BR_ARRAY_LEN(STATES); i++)
        known |= !strcmp(state, STATES[i]);
    if (!known)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "'%.40s' is not a state: queued, sending, sent or failed", state);
    if (!fn) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_mail_outbox_list: no callback");
    list_ctx c = {fn, ctx, 0};
    int rc = br_mail_rows(repo, state, list_one, &c, err);
    if (!rc && c.oom) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    return rc;
}

int br_mail_outbox_count(br_repo *repo, int64_t *queued, int64_t *sent, int64_t *failed,
                         br_error *err)
{
    return br_mail_row_counts(repo, queued, sent, failed, err);
}

int br_mail_requeue(br_repo *repo, int64_t id, br_error *err)
{
    int rc = br_mail_row_requeue(repo, id, err);
    if (rc < 0) return rc;
    return rc ? 0
              : br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                             "message %lld was sent (or is being sent): it is not queued again",
                             (long long)id);
}

/* ---- the RFC 5322 form ---------------------------------------------------------------------- */

static int ascii_printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p >= 0x7f) return 0;
    return 1;
}

/* "Tue, 03 Dec 2024 20:00:00 +0000" from "2024-12-03T20:00:00Z" (no locale involved). */
static int rfc5322_date(const char *iso, char *out, size_t size)
{
    static const char *const DAYS[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!iso ||
        sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6 ||
        tm.tm_mon < 1 || tm.tm_mon > 12)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    struct tm g;
    if (t == (time_t)-1 || !gmtime_r(&t, &g)) return -1;
    snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", DAYS[g.tm_wday], g.tm_mday,
             MONTHS[g.tm_mon], g.tm_year + 1900, g.tm_hour, g.tm_min, g.tm_sec);
    return 0;
}

/* A header value that is not ASCII as RFC 2047 encoded words (base64, at most 45 bytes of
 * text each, never a character cut), folded onto continuation lines. */
static int encoded_words(br_buf *b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = n - i > 45 ? 45 : n - i;
        while (i + k < n && k > 1 && ((unsigned char)s[i + k] & 0xc0) == 0x80)
            k--; /* never start the next word inside a character */
        char enc[sodium_base64_ENCODED_LEN(45, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(enc, sizeof enc, (const unsigned char *)s + i, k,
                          sodium_base64_VARIANT_ORIGINAL);
        if (br_buf_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", enc)) return BR_ENOMEM;
        i += k;
    }
    return 0;
}

/* The body with CRLF line ends, quoted-printable (RFC 2045) when qp. */
static int body_text(br_buf *b, const char *body, int qp)
{
    static const char HEX[] = "0123456789ABCDEF";
    for (const char *line = body; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n && line[n - 1] == '\r') n--;
        if (!qp) {
            if (br_buf_append(b, line, n)) return BR_ENOMEM;
        } else {
            size_t col = 0;
            for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)line[i];
                int last = i + 1 == n;
                int plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
                char enc[4] = {'=', HEX[c >> 4], HEX[c & 15], 0};
                size_t w = plain ? 1 : 3;
                if (col + w > 75) { /* a soft break keeps lines within 76 */
                    if (br_buf_append(b, "=\r\n", 3)) return BR_ENOMEM;
                    col = 0;
                }
                if (plain ? br_buf_append(b, (const char *)&line[i], 1) : br_buf_append(b, enc, 3))
                    return BR_ENOMEM;
                col += w;
            }
        }
        if (br_buf_append(b, "\r\n", 2)) return BR_ENOMEM;
        line += (nl ? (size_t)(nl - line) + 1 : strlen(line));
    }
    return 0;
}

static int needs_qp(const char *body)
{
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)body; *p; p++) {
        if (*p == '\n') {
            col = 0;
            continue;
        }
        if (*p >= 0x80 || (*p < 0x20 && *p != '\t' && *p != '\r') || ++col > 76) return 1;
    }
    return 0;
}

int br_mail_format(const br_mail_parts *p, br_buf *out, br_error *err)
{
    char date[64];
    if (rfc5322_date(p->created, date, sizeof date))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a message's date is not ISO 8601 UTC");
    int qp = needs_qp(p->body);
    int rc =
        br_buf_printf(out, "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: ", date, p->from, p->to);
    if (!rc)
        rc = ascii_printable(p->subject) ? br_buf_puts(out, p->subject)
                                         : encoded_words(out, p->subject);
    if (!rc)
        rc =
            br_buf_printf(out,
                          "\r\nMessage-ID: %s\r\nMIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=UTF-8\r\n"
                          "Content-Transfer-Encoding: %s\r\nAuto-Submitted: auto-generated\r\n\r\n",
                          p->message_id, qp ? "quoted-printable" : "7bit");
    if (!rc) rc = body_text(out, p->body, qp);
    return rc ? br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory") : 0;
}

/* ---- sending -------------------------------------------------------------------------------- */

/* "Name" <addr> when the name is plain ASCII without quotes, else the address. */
static void from_header(const br_mail_config *cfg, char *out, size_t size)
{
    const char *name = cfg->repository_name;
    if (*name && ascii_printable(name) && !strpbrk(name, "\"\\"))
        snprintf(out, size, "\"%s\" <%s>", name, cfg->from);
    else
        snprintf(out, size, "%s", cfg->from);
}

typedef struct sender {
    br_repo *repo;
    br_mail_config cfg;
    char password[1100];
    char from[600];
    br_mail_send_report *rep;
    int unreachable; /* the server did not answer: the round ends */
} sender;

/* Sends one claimed message: its row tells how it went. */
static int send_one(sender *s, int64_t id, br_error *err)
{
    br_mail_full m;
    int rc = br_mail_row_get(s->repo, id, &m, err);
    if (rc) return rc;
    char secret[300] = "";
    br_buf msg = {0};
    br_smtp_answer ans;
    memset(&ans, 0, sizeof ans);
    char *body = NULL;
    br_error e;
    int sent = -1;
    if (m.secret && br_doi_unseal(br_repo_dir(s->repo), m.secret, secret, sizeof secret, &e)) {
        /* The key changed: this message cannot carry its password any more. */
        snprintf(ans.message, sizeof ans.message, "%.500s", e.message);
        ans.permanent = 1;
    } else if (!(body = replace_mark(m.body, secret))) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    } else {
        br_mail_parts parts = {s->from, m.to, m.subject, body, m.message_id, m.created};
        if ((rc = br_mail_format(&parts, &msg, &e)) == BR_ENOMEM) {
            if (err) *err = e;
        } else if (rc) {
            snprintf(ans.message, sizeof ans.message, "%.500s", e.message);
            ans.permanent = 1;
            rc = 0;
        } else {
            br_smtp_server srv = {s->cfg.smtp, s->cfg.user, s->password, s->cfg.starttls, 0};
            sent = br_smtp_send(&srv, s->cfg.from, m.to, msg.p, msg.len, &ans);
        }
    }
    if (body) {
        sodium_memzero(body, strlen(body));
        free(body);
    }
    if (msg.p) sodium_memzero(msg.p, msg.len);
    br_buf_dispose(&msg);
    sodium_memzero(secret, sizeof secret);
    if (!rc && sent == 0) {
        char now[32];
        br_now_iso(now);
        rc = br_mail_row_sent(s->repo, id, now, err);
        s->rep->sent++;
    } else if (!rc) {
        int64_t wait = BACKOFF_FIRST;
        for (int64_t i = 0; i < m.attempts && wait < BACKOFF_MAX; i++)
            wait *= 2;
        if (wait > BACKOFF_MAX) wait = BACKOFF_MAX;
        rc = br_mail_row_failed(s->repo, id, ans.permanent ? "failed" : "queued", ans.message,
                                (int64_t)time(NULL) + wait, err);
        if (ans.permanent)
            s->rep->failed++;
        else
            s->rep->retry_later++;
        s->unreachable = !ans.code && sent != -1;
    }
    br_mail_row_dispose(&m);
    return rc;
}

int br_mail_send(br_repo *repo, unsigned flags, size_t max, br_mail_send_report *report,
                 br_error *err)
{
    br_mail_send_report local;
    if (!report) report = &local;
    memset(report, 0, sizeof *report);
    sender *s = calloc(1, sizeof *s);
    if (!s) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    s->repo = repo;
    s->rep = report;
    char sealed[2048];
    int rc = br_mail_settings_get(repo, &s->cfg, sealed, sizeof sealed, err);
    if (!rc && s->cfg.smtp[0] && sealed[0])
        rc = br_doi_unseal(br_repo_dir(repo), sealed, s->password, sizeof s->password, err);
    report->configured = !rc && s->cfg.smtp[0];
    from_header(&s->cfg, s->from, sizeof s->from);
    int64_t ids[PAGE], after = 0;
    /* Each message is tried at most once per call: ids only grow within it. */
    while (!rc && report->configured &&
           (!max || (size_t)(report->sent + report->failed + report->retry_later) < max)) {
        int64_t now = (int64_t)time(NULL);
        size_t n = 0;
        rc = br_mail_rows_due(repo, (flags & BR_MAIL_SEND_ALL) ? INT64_MAX : now, now - LEASE,
                              after, ids, PAGE, &n, err);
        if (rc || !n) break;
        for (size_t i = 0; i < n && !rc; i++) {
            after = ids[i];
            if (max && (size_t)(report->sent + report->failed + report->retry_later) >= max) break;
            int got = br_mail_row_claim(repo, ids[i], now, now - LEASE, err);
            if (got < 0) rc = got;
            if (got == 1) rc = send_one(s, ids[i], err);
            if (s->unreachable) break;
        }
        if (s->unreachable) break; /* the other messages wait for the next round, untried */
    }
    int64_t queued = 0;
    if (!rc && !(rc = br_mail_row_counts(repo, &queued, NULL, NULL, err)))
        report->waiting = queued - report->retry_later;
    if (report->waiting < 0) report->waiting = 0;
    sodium_memzero(s->password, sizeof s->password);
    free(s);
    return rc;
}
