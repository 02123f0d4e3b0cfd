/* Real S/FTP servers on loopback for the tests of issue 17 (ftp.h configurations, the remote
 * transport net/remote.h, pulling import profiles, export delivery).
 *
 * FTP and FTPS (explicit TLS): tests/support/ftpd.py run with Debian's /usr/bin/python3
 * (python3-pyftpdlib; python3-openssl for TLS).  One user (default "tester" / "secret") whose
 * home is root_dir; passive data connections on loopback; with opts.tls a self-signed
 * certificate for 127.0.0.1 is generated with `openssl req` and its path is s->ca_file (give
 * it as the configuration's --ca-file).
 *
 *   ts_server s;
 *   ftp_server_opts o = {.tls = 1, .drop_name = "big.bin", .drop_after = 4096};
 *   assert_int_equal(ftp_server_start(root, &o, &s), 0);
 *   ... `bulkrepo ftp add src --url s.url --user s.user --password-stdin --ca-file s.ca_file`
 *   ftp_server_stop(&s);
 *
 * s.url is "ftp://127.0.0.1:PORT/" or "ftps://127.0.0.1:PORT/" (the root is the user's home).
 * Misbehaviours: drop_name/drop_after (the first RETR of that file is cut after drop_after
 * bytes with "426 transfer aborted"; the next one, e.g. a resume with REST, behaves),
 * grow_name/grow_total (RETR of that file sends the file and then more bytes until grow_total
 * bytes were sent; listings give the size on disk, SIZE answers 504: a file growing while
 * downloaded),
 * refuse_login (every login answered 530), no_mlsd (MLSD answered 500, as older servers).  A wrong
 * password is also refused, of course.
 *
 * SFTP: /usr/sbin/sshd -D -f CONFIG (openssh-server) on 127.0.0.1, a free high port, with a
 * generated ed25519 host key, `Subsystem sftp internal-sftp`, key authentication only, for the
 * user running the tests (root on CI; PermitRootLogin yes).  s->key_file is the client's private
 * key (OpenSSH PEM, no passphrase: give it as `--key`), s->user the user, s->url
 * "sftp://127.0.0.1:PORT/ROOT_DIR" (SFTP paths are absolute: the URL's path is root_dir
 * itself).  s->host_key_line is the known_hosts line of the host key ("[127.0.0.1]:PORT
 * ssh-ed25519 AAAA...").  To make the host key change, stop and start again with opts.port =
 * the old s.port: a new host key is generated every start.  sshd needs root (it changes to the
 * logged-in user); sftp_server_start returns 1 (and sets s->why) when the tests do not run as
 * root: skip the test then (`if (rc == 1) { print_message("%s\n", s.why); skip(); }`).
 *
 * Both start functions wait (bounded, 15 s) until the server accepts connections, return 0 on
 * success and -1 with s->why on failure; the server runs in its own process group and *_stop
 * kills the group (SIGTERM, then SIGKILL), reaps it and removes the server's own temporary
 * folder (never root_dir).  Stop every server you started, also on a failing test (e.g. in the
 * teardown: stopping a zeroed or already stopped ts_server is a no-op); a server whose test
 * process ends without stopping it gets SIGTERM (PR_SET_PDEATHSIG), but its folder stays. */
#ifndef BR_TEST_FTP_SERVERS_H
#define BR_TEST_FTP_SERVERS_H

#include <sys/types.h>

typedef struct ts_server {
    pid_t pid;           /* the server's process (and process group); 0 when not running */
    int port;            /* on 127.0.0.1 */
    char url[4200];      /* the configuration's URL */
    char user[64];       /* login */
    char password[64];   /* FTP: the user's password ("" for SFTP: key only) */
    char dir[4096];      /* the server's own temporary folder (config, keys, certificate, log) */
    char ca_file[4200];  /* FTPS: the self-signed certificate to trust ("" otherwise) */
    char key_file[4200]; /* SFTP: the client's private key ("" otherwise) */
    char host_key_line[1024]; /* SFTP: known_hosts line of the server's host key */
    char log[4200];           /* the server's log file */
    char why[512];            /* why starting failed or was skipped */
} ts_server;

typedef struct ftp_server_opts {
    const char *user;     /* NULL: "tester" */
    const char *password; /* NULL: "secret" */
    int tls;              /* explicit TLS required on control and data connections */
    const char *drop_name;
    long drop_after;
    const char *grow_name;
    long grow_total;
    int refuse_login;
    int no_mlsd; /* no MLSD (RFC 3659): listings through LIST only */
} ftp_server_opts;

typedef struct sftp_server_opts {
    int port; /* 0: a free one; else this port (restart with a new host key) */
} sftp_server_opts;

/* opts may be NULL (defaults). */
int ftp_server_start(const char *root_dir, const ftp_server_opts *opts, ts_server *s);
void ftp_server_stop(ts_server *s);
int sftp_server_start(const char *root_dir, const sftp_server_opts *opts, ts_server *s);
void sftp_server_stop(ts_server *s);

#endif
