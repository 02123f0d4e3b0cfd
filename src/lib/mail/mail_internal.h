/* Mail inside the library (mail.h is the public side): the SMTP client and the message
 * format. */
#ifndef BR_MAIL_INTERNAL_H
#define BR_MAIL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "bulkrepo/mail.h"
#include "core/core.h"

/* ---- the SMTP client (smtp.c, libcurl) ---- */

typedef struct br_smtp_server {
    const char *url;      /* smtp://host[:port] or smtps://host[:port] */
    const char *user;     /* NULL or "": no AUTH */
    const char *password; /* clear text, only in memory */
    int starttls;         /* smtp://: STARTTLS required (CURLUSESSL_ALL) */
    long timeout_ms;      /* the whole session; 0 = 60 s */
} br_smtp_server;

typedef struct br_smtp_answer {
    long code;         /* the server's last reply code, 0 none (no connection) */
    int permanent;     /* the server refused the message for good (5xx) */
    char message[512]; /* what went wrong, for the outbox's last error */
} br_smtp_answer;

/* One SMTP session that sends one message (an RFC 5322 text with CRLF line ends) from `from`
 * to `to`: 0 when the server took it; BR_EIO (not reachable, a 4xx answer, TLS refused: try
 * again later) or BR_EINVAL (a 5xx answer: the server will not take it), answer filled. */
int br_smtp_send(const br_smtp_server *srv, const char *from, const char *to, const char *msg,
                 size_t len, br_smtp_answer *answer);

/* ---- messages (outbox.c) ---- */

typedef struct br_mail_parts {
    const char *from, *to, *subject, *body; /* body: UTF-8 with \n line ends */
    const char *message_id;                 /* "<...>" */
    const char *created;                    /* ISO 8601 UTC: the Date */
} br_mail_parts;

/* The RFC 5322 message into out (CRLF line ends): Date, From, To, Subject (RFC 2047 encoded
 * when it is not ASCII), Message-ID, MIME-Version, Content-Type text/plain UTF-8,
 * Content-Transfer-Encoding 7bit or quoted-printable (non-ASCII text or a line over 76
 * bytes), Auto-Submitted, then the body.  BR_ENOMEM, BR_EUSAGE (a bad date). */
int br_mail_format(const br_mail_parts *p, br_buf *out, br_error *err);

#endif
