/* Process and socket helpers for the tests' loopback servers: see servers.h. */
#define _GNU_SOURCE
#include "servers.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long tsrv_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void tsrv_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int tsrv_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int tsrv_probe(int port, const char *banner)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (ok && banner) {
        struct timeval tv = {2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[256];
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
        ok = n > 0;
        if (ok) {
            buf[n] = 0;
            ok = strstr(buf, banner) != NULL;
        }
    }
    close(fd);
    return ok;
}

pid_t tsrv_spawn(const char *log, char *const argv[])
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(0); /* the test ended before prctl */
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
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
        execv(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid); /* also from here: no race with a kill of the group */
    return pid;
}

int tsrv_alive(pid_t pid)
{
    int st;
    return waitpid(pid, &st, WNOHANG) == 0;
}

void tsrv_stop(pid_t *pid)
{
    if (!pid || *pid <= 0) return;
    pid_t p = *pid;
    kill(-p, SIGTERM);
    kill(p, SIGTERM);
    long t0 = tsrv_ms();
    int st;
    while (waitpid(p, &st, WNOHANG) == 0) {
        if (tsrv_ms() - t0 > 3000) {
            kill(-p, SIGKILL);
            kill(p, SIGKILL);
            waitpid(p, &st, 0);
            break;
        }
        tsrv_sleep_ms(20);
    }
    kill(-p, SIGKILL); /* anything left in the group (sshd's session processes) */
    *pid = 0;
}

/* The port a server wrote into path, or 0 while there is none. */
static int port_in(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char buf[32] = "";
    if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
    fclose(f);
    return atoi(buf);
}

int tsrv_start(const char *log, char *const argv[], const char *port_file, int *port,
               const char *banner, long wait_ms, pid_t *pid, const char **why)
{
    *pid = tsrv_spawn(log, argv);
    if (*pid < 0) {
        *pid = 0;
        *why = "cannot fork";
        return -1;
    }
    for (long t0 = tsrv_ms(); tsrv_ms() - t0 < wait_ms; tsrv_sleep_ms(50)) {
        if (!tsrv_alive(*pid)) {
            *pid = 0;
            *why = "exited";
            return -1;
        }
        if (port_file) *port = port_in(port_file);
        if (*port > 0 && tsrv_probe(*port, banner)) return 0;
    }
    tsrv_stop(pid);
    *why = "did not accept connections in time";
    return -1;
}
