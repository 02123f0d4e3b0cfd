/* A loopback SMTP server (python3-aiosmtpd, a Maildir) for the tests: see smtp_server.h. */
#define _GNU_SOURCE
#include "smtp_server.h"
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SMTP_WAIT_MS 15000

static long smtp_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void smtp_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A port the kernel has free now (bound to 0, read, closed); 0 on failure. */
static int smtp_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (!bind(fd, (struct sockaddr *)&a, sizeof a) && !getsockname(fd, (struct sockaddr *)&a, &len))
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* 1 when 127.0.0.1:port greets with "220". */
static int smtp_probe(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (ok) {
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[256];
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        ok = n >= 3 && !memcmp(buf, "220", 3);
        if (ok) {
            static const char quit[] = "QUIT\r\n";
            if (send(fd, quit, sizeof quit - 1, MSG_NOSIGNAL) < 0) ok = 1;
        }
    }
    close(fd);
    return ok;
}

int smtp_server_start(const char *maildir, int port, smtp_server *s)
{
    memset(s, 0, sizeof *s);
    if (!maildir || strlen(maildir) >= sizeof s->maildir) {
        snprintf(s->why, sizeof s->why, "no Maildir, or its path is too long");
        return -1;
    }
    snprintf(s->maildir, sizeof s->maildir, "%s", maildir);
    snprintf(s->log, sizeof s->log, "%s.log", maildir);
    if (access("/usr/bin/python3", X_OK)) {
        snprintf(s->why, sizeof s->why, "/usr/bin/python3 is missing (python3-aiosmtpd)");
        return -1;
    }
    s->port = port ? port : smtp_free_port();
    if (!s->port) {
        snprintf(s->why, sizeof s->why, "no free port: %s", strerror(errno));
        return -1;
    }
    snprintf(s->url, sizeof s->url, "smtp://127.0.0.1:%d", s->port);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s->port);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(s->why, sizeof s->why, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) {
            dup2(nul, 0);
            close(nul);
        }
        execl("/usr/bin/python3", "/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", listen, "-c",
              "aiosmtpd.handlers.Mailbox", s->maildir, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    s->pid = pid;
    long t0 = smtp_ms();
    while (smtp_ms() - t0 < SMTP_WAIT_MS) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            snprintf(s->why, sizeof s->why, "aiosmtpd exited (see %.400s)", s->log);
            return -1;
        }
        if (smtp_probe(s->port)) return 0;
        smtp_sleep_ms(50);
    }
    smtp_server_stop(s);
    snprintf(s->why, sizeof s->why, "aiosmtpd did not answer on port %d within %d ms (see %.400s)",
             s->port, SMTP_WAIT_MS, s->log);
    return -1;
}

void smtp_server_stop(smtp_server *s)
{
    if (!s || s->pid <= 0) return;
    kill(-s->pid, SIGTERM);
    long t0 = smtp_ms();
    int st;
    while (waitpid(s->pid, &st, WNOHANG) == 0) {
        if (smtp_ms() - t0 > 3000) {
            kill(-s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            break;
        }
        smtp_sleep_ms(20);
    }
    kill(-s->pid, SIGKILL);
    s->pid = 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file names in maildir/new, sorted (malloc'd array of malloc'd names); -1 on failure. */
static int smtp_names(const smtp_server *s, char ***out)
{
    *out = NULL;
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/new", s->maildir);
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    char **v = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char **nv = realloc(v, (size_t)(n + 1) * sizeof *v);
        if (!nv) break;
        v = nv;
        v[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(v, (size_t)n, sizeof *v, name_cmp);
    *out = v;
    return n;
}

int smtp_server_count(const smtp_server *s)
{
    char **v;
    int n = smtp_names(s, &v);
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return n;
}

char *smtp_server_messages(const smtp_server *s)
{
    char **v;
    int n = smtp_names(s, &v);
    size_t len = 0;
    char *all = calloc(1, 1);
    for (int i = 0; i < n && all; i++) {
        char path[8400];
        snprintf(path, sizeof path, "%s/new/%s", s->maildir, v[i]);
        FILE *f = fopen(path, "rb");
        if (f) {
            char buf[4096];
            size_t k;
            while ((k = fread(buf, 1, sizeof buf, f)) > 0) {
                char *na = realloc(all, len + k + 1);
                if (!na) break;
                all = na;
                memcpy(all + len, buf, k);
                len += k;
                all[len] = 0;
            }
            fclose(f);
        }
        free(v[i]);
    }
    free(v);
    return all;
}

int smtp_server_wait(const smtp_server *s, int n, long ms)
{
    long t0 = smtp_ms();
    int k;
    while ((k = smtp_server_count(s)) < n && smtp_ms() - t0 < ms)
        smtp_sleep_ms(50);
    return k;
}
