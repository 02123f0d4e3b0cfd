/* Loopback FTP/FTPS (pyftpdlib) and SFTP (sshd) servers for the tests: see ftp_servers.h. */
#define _GNU_SOURCE
#include "ftp_servers.h"
#include "servers.h"
#include "testutil.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TS_WAIT_MS 15000

static void ts_why(ts_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ts_why(ts_server *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why, sizeof s->why, fmt, ap);
    va_end(ap);
}

/* Runs argv (NULL-terminated) with stdout and stderr into log; its exit status or -1. */
static int ts_run(const char *log, char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int ts_mkdir(ts_server *s)
{
    const char *base = getenv("TMPDIR");
    snprintf(s->dir, sizeof s->dir, "%s/brsrv.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(s->dir)) {
        ts_why(s, "mkdtemp: %s", strerror(errno));
        s->dir[0] = 0;
        return -1;
    }
    return 0;
}

static void ts_tail_log(ts_server *s, const char *prog, const char *what)
{
    char *log = tu_read(s->log);
    size_t n = log ? strlen(log) : 0;
    ts_why(s, "%s %s; log: %s", prog, what, log ? log + (n > 300 ? n - 300 : 0) : "(none)");
    free(log);
}

int ftp_server_start(const char *root_dir, const ftp_server_opts *opts, ts_server *s)
{
    static const ftp_server_opts none = {0};
    if (!opts) opts = &none;
    memset(s, 0, sizeof *s);
    if (ts_mkdir(s) != 0) return -1;
    snprintf(s->log, sizeof s->log, "%s/ftpd.log", s->dir);
    snprintf(s->user, sizeof s->user, "%s", opts->user ? opts->user : "tester");
    snprintf(s->password, sizeof s->password, "%s", opts->password ? opts->password : "secret");

    char cert[4200], key[4200], portfile[4200], script[4200];
    snprintf(cert, sizeof cert, "%s/cert.pem", s->dir);
    snprintf(key, sizeof key, "%s/key.pem", s->dir);
    snprintf(portfile, sizeof portfile, "%s/port", s->dir);
    snprintf(script, sizeof script, "%s", tu_data("../support/ftpd.py"));
    if (opts->tls) {
        char *argv[] = {"/usr/bin/openssl",
                        "req",
                        "-x509",
                        "-newkey",
                        "rsa:2048",
                        "-nodes",
                        "-keyout",
                        key,
                        "-out",
                        cert,
                        "-days",
                        "2",
                        "-subj",
                        "/CN=127.0.0.1",
                        "-addext",
                        "subjectAltName=IP:127.0.0.1",
                        NULL};
        if (ts_run(s->log, argv) != 0) {
            ts_tail_log(s, "openssl req", "failed");
            return -1;
        }
        snprintf(s->ca_file, sizeof s->ca_file, "%s", cert);
    }

    char drop[600], grow[600];
    char *argv[32];
    int k = 0;
    argv[k++] = "/usr/bin/python3";
    argv[k++] = script;
    argv[k++] = "--root";
    argv[k++] = (char *)root_dir;
    argv[k++] = "--port-file";
    argv[k++] = portfile;
    argv[k++] = "--user";
    argv[k++] = s->user;
    argv[k++] = "--password";
    argv[k++] = s->password;
    if (opts->tls) {
        argv[k++] = "--tls";
        argv[k++] = cert;
        argv[k++] = key;
    }
    if (opts->drop_name) {
        snprintf(drop, sizeof drop, "%s:%ld", opts->drop_name, opts->drop_after);
        argv[k++] = "--drop";
        argv[k++] = drop;
    }
    if (opts->grow_name) {
        snprintf(grow, sizeof grow, "%s:%ld", opts->grow_name, opts->grow_total);
        argv[k++] = "--grow";
        argv[k++] = grow;
    }
    if (opts->refuse_login) argv[k++] = "--refuse-login";
    if (opts->no_mlsd) argv[k++] = "--no-mlsd";
    argv[k] = NULL;

    const char *why;
    if (tsrv_start(s->log, argv, portfile, &s->port, "220", TS_WAIT_MS, &s->pid, &why)) {
        ts_tail_log(s, "ftpd.py", why);
        return -1;
    }
    snprintf(s->url, sizeof s->url, "%s://127.0.0.1:%d/", opts->tls ? "ftps" : "ftp", s->port);
    return 0;
}

void ftp_server_stop(ts_server *s)
{
    if (!s) return;
    tsrv_stop(&s->pid);
    if (s->dir[0]) tu_rmtree(s->dir);
    s->dir[0] = 0;
}

static int ts_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

int sftp_server_start(const char *root_dir, const sftp_server_opts *opts, ts_server *s)
{
    static const sftp_server_opts none = {0};
    if (!opts) opts = &none;
    memset(s, 0, sizeof *s);
    if (geteuid() != 0) {
        ts_why(s, "the SFTP tests need root (sshd changes to the logged-in user): skipped");
        return 1;
    }
    if (access("/usr/sbin/sshd", X_OK) != 0) {
        ts_why(s, "/usr/sbin/sshd is missing (openssh-server)");
        return -1;
    }
    if (ts_mkdir(s) != 0) return -1;
    mkdir("/run/sshd", 0755); /* sshd's privilege separation folder */
    snprintf(s->log, sizeof s->log, "%s/sshd.log", s->dir);
    struct passwd *pw = getpwuid(geteuid());
    snprintf(s->user, sizeof s->user, "%s", pw ? pw->pw_name : "root");

    char hostkey[4200], pub[4300], clientpub[4300], auth[4200], conf[4200];
    snprintf(hostkey, sizeof hostkey, "%s/host_ed25519", s->dir);
    snprintf(s->key_file, sizeof s->key_file, "%s/client_ed25519", s->dir);
    snprintf(auth, sizeof auth, "%s/authorized_keys", s->dir);
    snprintf(conf, sizeof conf, "%s/sshd_config", s->dir);
    char *kh[] = {"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostkey, NULL};
    char *kc[] = {"/usr/bin/ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", s->key_file, NULL};
    if (ts_run(s->log, kh) != 0 || ts_run(s->log, kc) != 0) {
        ts_tail_log(s, "ssh-keygen", "failed");
        return -1;
    }
    snprintf(clientpub, sizeof clientpub, "%s.pub", s->key_file);
    char *cp = tu_read(clientpub);
    if (!cp || ts_write_file(auth, cp) != 0) {
        free(cp);
        ts_why(s, "cannot write %s", auth);
        return -1;
    }
    free(cp);
    chmod(auth, 0600);

    s->port = opts->port > 0 ? opts->port : tsrv_free_port();
    if (s->port <= 0) {
        ts_why(s, "no free port");
        return -1;
    }
    snprintf(pub, sizeof pub, "%s.pub", hostkey);
    char *hp = tu_read(pub);
    if (!hp) {
        ts_why(s, "cannot read %s", pub);
        return -1;
    }
    /* "ssh-ed25519 AAAA... comment" -> "[127.0.0.1]:PORT ssh-ed25519 AAAA..." */
    char type[64] = "", b64[512] = "";
    sscanf(hp, "%63s %511s", type, b64);
    free(hp);
    snprintf(s->host_key_line, sizeof s->host_key_line, "[127.0.0.1]:%d %s %s", s->port, type, b64);

    char text[16384];
    snprintf(text, sizeof text,
             "Port %d\n"
             "ListenAddress 127.0.0.1\n"
             "HostKey %s\n"
             "PidFile none\n"
             "AuthorizedKeysFile %s\n"
             "StrictModes no\n"
             "PermitRootLogin yes\n"
             "PubkeyAuthentication yes\n"
             "PubkeyAcceptedAlgorithms +ssh-rsa\n" /* libssh2 1.10 signs RSA with SHA-1 */
             "PasswordAuthentication no\n"
             "KbdInteractiveAuthentication no\n"
             "UsePAM no\n"
             "AllowUsers %s\n"
             "Subsystem sftp internal-sftp\n"
             "LogLevel VERBOSE\n",
             s->port, hostkey, auth, s->user);
    if (ts_write_file(conf, text) != 0) {
        ts_why(s, "cannot write %s", conf);
        return -1;
    }
    char *argv[] = {"/usr/sbin/sshd", "-D", "-e", "-f", conf, NULL};
    snprintf(s->url, sizeof s->url, "sftp://127.0.0.1:%d%s%s", s->port,
             root_dir[0] == '/' ? "" : "/", root_dir);
    size_t ul = strlen(s->url);
    if (ul + 1 < sizeof s->url && s->url[ul - 1] != '/') {
        s->url[ul] = '/';
        s->url[ul + 1] = 0;
    }

    const char *why;
    if (tsrv_start(s->log, argv, NULL, &s->port, "SSH-", TS_WAIT_MS, &s->pid, &why)) {
        ts_tail_log(s, "sshd", why);
        return -1;
    }
    return 0;
}

void sftp_server_stop(ts_server *s)
{
    ftp_server_stop(s);
}
