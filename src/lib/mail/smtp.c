/* The SMTP client (mail_internal.h): libcurl's smtp and smtps.
 *
 * One session per message: EHLO, STARTTLS when required, AUTH when a user is configured,
 * MAIL FROM, RCPT TO, DATA with the message (libcurl escapes lines that start with a dot and
 * ends the data), QUIT.  The server's address is the administrator's (`bulkrepo mail
 * config`), not something a record or an upload names, so the fetch policy's address rules
 * (net/policy.c) do not apply: a local relay on 127.0.0.1:25 is the usual set-up. */
#include <stdio.h>
#include <string.h>
#include <curl/curl.h>
#include "mail/mail_internal.h"

typedef struct upload {
    const char *p;
    size_t left;
} upload;

static size_t read_cb(char *buf, size_t size, size_t n, void *ctx)
{
    upload *u = ctx;
    size_t want = size * n;
    if (want > u->left) want = u->left;
    memcpy(buf, u->p, want);
    u->p += want;
    u->left -= want;
    return want;
}

/* "<addr>" for MAIL FROM and RCPT TO. */
static int angle(char *out, size_t size, const char *addr)
{
    int n = snprintf(out, size, "<%s>", addr);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int br_smtp_send(const br_smtp_server *srv, const char *from, const char *to, const char *msg,
                 size_t len, br_smtp_answer *answer)
{
    memset(answer, 0, sizeof *answer);
    char mfrom[BR_MAIL_ADDRESS_MAX + 3], rcpt[BR_MAIL_ADDRESS_MAX + 3], errbuf[CURL_ERROR_SIZE];
    errbuf[0] = 0;
    if (angle(mfrom, sizeof mfrom, from) || angle(rcpt, sizeof rcpt, to)) {
        snprintf(answer->message, sizeof answer->message, "address too long");
        answer->permanent = 1;
        return BR_EINVAL;
    }
    CURL *h = curl_easy_init();
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    if (!h || !rcpts) {
        curl_slist_free_all(rcpts);
        curl_easy_cleanup(h);
        snprintf(answer->message, sizeof answer->message, "out of memory");
        return BR_EIO;
    }
    upload u = {msg, len};
    long timeout = srv->timeout_ms > 0 ? srv->timeout_ms : 60000;
    curl_easy_setopt(h, CURLOPT_URL, srv->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, mfrom);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, &u);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout < 10000 ? timeout : 10000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    /* STARTTLS is required, not tried: a server that does not offer it gets nothing. */
    if (srv->starttls) curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (srv->user && *srv->user) {
        curl_easy_setopt(h, CURLOPT_USERNAME, srv->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, srv->password ? srv->password : "");
    }
    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer->code);
    int rc = 0;
    if (cc != CURLE_OK) {
        /* A 5xx reply is the server's final word on this message; anything else (no
         * connection, a timeout, 4xx, TLS) may go better later. */
        answer->permanent = answer->code >= 500 && answer->code < 600;
        snprintf(answer->message, sizeof answer->message, "%s%s%s%s", curl_easy_strerror(cc),
                 errbuf[0] ? ": " : "", errbuf,
                 cc == CURLE_USE_SSL_FAILED ? " (the server does not offer STARTTLS)" : "");
        if (answer->code)
            snprintf(answer->message + strlen(answer->message),
                     sizeof answer->message - strlen(answer->message), " (reply %ld)",
                     answer->code);
        rc = answer->permanent ? BR_EINVAL : BR_EIO;
    }
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(h);
    return rc;
}
