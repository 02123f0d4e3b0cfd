/* A loopback SMTP server (python3-aiosmtpd, a Maildir) for the tests: see smtp_server.h. */
#define _GNU_SOURCE
#include "smtp_server.h"
#include "servers.h"
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
    s->port = port ? port : tsrv_free_port();
    if (s->port <= 0) {
        snprintf(s->why, sizeof s->why, "no free port: %s", strerror(errno));
        return -1;
    }
    snprintf(s->url, sizeof s->url, "smtp://127.0.0.1:%d", s->port);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s->port);
    char *argv[] = {"/usr/bin/python3",          "-m",       "aiosmtpd", "-n", "-l", listen, "-c",
                    "aiosmtpd.handlers.Mailbox", s->maildir, NULL};
    const char *why;
    if (tsrv_start(s->log, argv, NULL, &s->port, "220", SMTP_WAIT_MS, &s->pid, &why)) {
        snprintf(s->why, sizeof s->why, "aiosmtpd %s on port %d (see %.400s)", why, s->port,
                 s->log);
        return -1;
    }
    return 0;
}

void smtp_server_stop(smtp_server *s)
{
    if (s) tsrv_stop(&s->pid);
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
    long t0 = tsrv_ms();
    int k;
    while ((k = smtp_server_count(s)) < n && tsrv_ms() - t0 < ms)
        tsrv_sleep_ms(50);
    return k;
}
