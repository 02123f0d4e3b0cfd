/* Process and socket helpers for the loopback servers the tests start (ftp_servers.c,
 * smtp_server.c): a clock, a free port, a readiness probe, a child in its own process group
 * that dies with the test, and stopping that group. */
#ifndef BR_TEST_SERVERS_H
#define BR_TEST_SERVERS_H

#include <sys/types.h>

/* Milliseconds of a monotonic clock; sleeping ms. */
long tsrv_ms(void);
void tsrv_sleep_ms(long ms);
/* A port nobody listens on now on 127.0.0.1 (the kernel's choice), or -1. */
int tsrv_free_port(void);
/* 1 when 127.0.0.1:port accepts a connection and, when banner is not NULL, its first bytes
 * (read for at most 2 s) contain banner. */
int tsrv_probe(int port, const char *banner);
/* Starts argv (NULL-terminated, argv[0] a path) in its own process group with stdin from
 * /dev/null and stdout and stderr appended to log; it gets SIGTERM when the test process ends
 * without stopping it (a failed assertion, a crash).  Its pid, or -1. */
pid_t tsrv_spawn(const char *log, char *const argv[]);
/* 1 while the child pid runs (it has not exited). */
int tsrv_alive(pid_t pid);
/* Stops the child *pid and its process group: TERM, at most 3 s, then KILL; *pid becomes 0.
 * A no-op when *pid is 0. */
void tsrv_stop(pid_t *pid);

/* tsrv_spawn, then waits at most wait_ms until the server accepts connections on *port with
 * banner (tsrv_probe).  With port_file, *port is read from that file (a server that picks its
 * own port writes it there).  0 when ready (*pid set); -1 with *why "cannot fork", "exited" or
 * "did not accept connections in time" (the child stopped; *pid 0). */
int tsrv_start(const char *log, char *const argv[], const char *port_file, int *port,
               const char *banner, long wait_ms, pid_t *pid, const char **why);

#endif
