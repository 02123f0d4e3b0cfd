/* A real SMTP server on loopback for the tests of the job-end mail (issue 17): Debian's
 * python3-aiosmtpd run as
 *
 *   /usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c aiosmtpd.handlers.Mailbox MAILDIR
 *
 * which stores every message it accepts as one file in MAILDIR/new (a Maildir).
 *
 *   smtp_server s = {0};
 *   assert_int_equal(smtp_server_start(maildir, 0, &s), 0);   // s.url "smtp://127.0.0.1:PORT"
 *   ... `bulkrepo mail config --smtp s.url --from repo@example.org`, send ...
 *   assert_int_equal(smtp_server_count(&s), 1);
 *   smtp_server_stop(&s);
 *
 * port 0 takes a free high port; give the old s.port to start it again on the same address
 * (the mail server down, then up).  smtp_server_start waits (bounded, 15 s) until the server
 * answers its "220" greeting: 0, or -1 with s->why.  The server runs in its own process group
 * and smtp_server_stop kills the group (SIGTERM, then SIGKILL after 3 s) and reaps it; stopping
 * a zeroed or stopped server is a no-op.  The Maildir is the caller's (never removed). */
#ifndef BR_TEST_SMTP_SERVER_H
#define BR_TEST_SMTP_SERVER_H

#include <sys/types.h>

typedef struct smtp_server {
    pid_t pid; /* the server's process and group; 0 when not running */
    int port;
    char url[64];       /* "smtp://127.0.0.1:PORT" */
    char maildir[4096]; /* messages in maildir/new */
    char log[4200];     /* the server's output (maildir + ".log") */
    char why[512];      /* why starting failed */
} smtp_server;

int smtp_server_start(const char *maildir, int port, smtp_server *s);
void smtp_server_stop(smtp_server *s);
/* Messages received so far (files in maildir/new), -1 when it cannot be read. */
int smtp_server_count(const smtp_server *s);
/* Every message received, concatenated in file-name order (malloc'd; "" none). */
char *smtp_server_messages(const smtp_server *s);
/* Waits (at most ms) until at least n messages arrived: the count then. */
int smtp_server_wait(const smtp_server *s, int n, long ms);

#endif
