/* Internal to src/server/: login throttling and the audit log (throttle.c). */
#ifndef BR_SERVER_THROTTLE_H
#define BR_SERVER_THROTTLE_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct srv_throttle srv_throttle;

/* The audit log goes to <repo_dir>/log/audit.log.  NULL when out of memory. */
srv_throttle *srv_throttle_new(const char *repo_dir);
void srv_throttle_free(srv_throttle *t);
/* Before a login attempt of user from addr: 0 to check the password (the
 * attempt now counts as a failure), or the seconds to wait (answer 429 with
 * Retry-After; nothing is counted). */
unsigned srv_throttle_begin(srv_throttle *t, const char *user, const char *addr);
/* After the check: ok uncounts the attempt and clears the account; a failure
 * is logged, with a lockout line when it locks the account or the address. */
void srv_throttle_end(srv_throttle *t, const char *user, const char *addr, int ok);
/* The client address as a throttling key (IPv4, or the /64 of IPv6). */
void srv_address_key(const struct sockaddr *sa, char *out, size_t size);

#endif
