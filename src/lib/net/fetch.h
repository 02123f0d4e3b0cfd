/* Internal: remote files for the importers (Esploro FILE_FILEURL) and the
 * fetch policy every outgoing request of the library goes through.
 *
 * Internal rather than public API on purpose: fetching is a step of an import,
 * not a repository operation, and its knobs reach users through
 * br_import_options; keeping it private lets the transport change without
 * breaking library users.
 *
 * The fetch policy (policy.c; docs/api.md "Remote files"):
 *   - http:// and https:// only, on the first request and on every redirect
 *     (redirects are followed here, one request at a time, at most 5);
 *   - the address a connection is actually made to (after name resolution,
 *     checked when the socket is opened and again before each request is
 *     sent, so DNS rebinding cannot swap it) must not be loopback,
 *     link-local, private (RFC 1918, ULA, CGNAT), multicast, unspecified,
 *     documentation, benchmarking or reserved; IPv4 inside IPv6
 *     (::ffff:a.b.c.d, 64:ff9b::/96, 2002::/16) is checked as IPv4;
 *   - unless an allowlist names the host or the address: the repository's
 *     file <repo>/fetch-allow.txt, the environment variable
 *     BULKREPO_FETCH_ALLOW and br_fetch_options.allow, together.  Entries
 *     (separated by newlines, spaces or commas; '#' starts a comment):
 *       files.example.org        that host name, any port (whatever it resolves to)
 *       *.example.org            any name under example.org
 *       files.example.org:8080   that host name on that port only
 *       10.1.2.0/24  fd00::/8    addresses in a range, any port
 *       10.1.2.3  [fd00::1]      one address, any port
 *       10.1.2.3:8080  [::1]:80  one address on one port
 *     A malformed entry fails the fetch (BR_EINVAL naming the entry);
 *   - proxies from the environment are not used (the policy checks the
 *     address connected to, which would be the proxy's);
 *   - a refused address is BR_EDENIED with a message that names the URL's
 *     host and nothing of the connection (no address, port or timing): an
 *     import cannot be used to scan the server's network.
 */
#ifndef BR_NET_FETCH_H
#define BR_NET_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "bulkrepo/error.h"
#include "bulkrepo/repo.h"

#define BR_FETCH_ALLOW_FILE "fetch-allow.txt"
#define BR_FETCH_ALLOW_ENV  "BULKREPO_FETCH_ALLOW"
#define BR_FETCH_REDIRECTS  5

typedef struct br_fetch_options {
    uint64_t max_size;       /* bytes; 0 = no cap (callers always set one) */
    long connect_timeout_ms; /* 0 = 10 s */
    long timeout_ms;         /* whole transfer (all redirects), per attempt; 0 = 300 s */
    int retries;             /* further attempts after a timeout, a connection failure or a
                              * 5xx/429 answer; < 0 = none, 0 = default (2) */
    long backoff_ms;         /* wait before the first retry, doubled for each next; 0 = 500 ms */
    /* Polled during the transfer and between attempts: nonzero stops with BR_ECANCELLED. */
    int (*cancelled)(void *ctx);
    void *cancel_ctx;
    /* 1: remote fetching is turned off (a per-job switch): br_fetch_url fails
     * with BR_EDENIED before any request or name lookup. */
    int disabled;
    /* More allowlist entries, in the syntax of fetch-allow.txt; NULL = none. */
    const char *allow;
    /* Out, when set: the final answer's Content-Disposition and Content-Type header values
     * ("" when it sent none), cut to their sizes; for a caller that names the file it keeps
     * (Import Research Assets Files). */
    char *disposition;
    size_t disposition_size;
    char *content_type;
    size_t content_type_size;
} br_fetch_options;

/* Downloads an http:// or https:// URL under the fetch policy into a new
 * file under the repository's tmp/ and writes its path to out.  The size cap
 * is enforced while the bytes arrive (Content-Length is checked first when
 * the server sends it).  On any failure nothing is left on disk and err says
 * why, naming the URL: BR_ELIMIT (over the cap), BR_ECANCELLED, BR_EUSAGE
 * (not http/https, also after a redirect), BR_EDENIED (fetching is off, or
 * the address is refused by the policy), BR_EINVAL (a malformed allowlist),
 * BR_EIO (network, HTTP status, timeout, local file).  The caller removes
 * the file when done with it. */
int br_fetch_url(br_repo *repo, const char *url, const br_fetch_options *opt, char *out,
                 size_t size, br_error *err);

/* POSTs body (content_type, e.g. "application/json") to url under the fetch
 * policy of the repository at repo_dir (its fetch-allow.txt; may be NULL for
 * the environment's allowlist alone); redirects are not followed.  For the
 * engine's webhook.  0 and *status the HTTP status (any status: the caller
 * decides), or BR_EUSAGE / BR_EDENIED / BR_EINVAL / BR_EIO as br_fetch_url.
 * timeout_ms 0 = 5 s. */
int br_fetch_post(const char *repo_dir, const char *url, const char *content_type, const char *body,
                  long timeout_ms, long *status, br_error *err);

/* ---- the policy, for callers that drive libcurl themselves ---------------------------- */

typedef struct br_fetch_policy br_fetch_policy;

/* Reads the allowlist: <repo_dir>/fetch-allow.txt (repo_dir may be NULL;
 * a missing file is an empty list), $BULKREPO_FETCH_ALLOW and extra (may be
 * NULL).  BR_EINVAL names a malformed entry and where it is. */
int br_fetch_policy_load(const char *repo_dir, const char *extra, br_fetch_policy **out,
                         br_error *err);
void br_fetch_policy_free(br_fetch_policy *p);

/* One request's guard: install it on a libcurl easy handle for each URL
 * requested (again after every redirect). */
typedef struct br_fetch_guard {
    const br_fetch_policy *policy;
    char host[256];  /* the URL's host, lowercase, without IPv6 brackets */
    unsigned port;   /* the URL's port (80/443 by default) */
    int host_listed; /* the allowlist names the host (any address is fine) */
    int refused;     /* set when a connection was refused by the policy */
} br_fetch_guard;

/* Checks the URL's scheme (BR_EUSAGE unless http/https) and sets the URL,
 * the guard's host and the policy's callbacks on the easy handle `curl`
 * (CURLOPT_OPENSOCKETFUNCTION, CURLOPT_PREREQFUNCTION), http(s) only, no
 * redirects followed by libcurl and no proxy.  g->policy must be set. */
int br_fetch_guard_url(br_fetch_guard *g, void *curl, const char *url, br_error *err);

/* 1 when a connection to sa may be made for the guarded URL, else 0. */
int br_fetch_policy_allows(const br_fetch_guard *g, const struct sockaddr *sa);

/* 1 when the address is loopback, private, link-local, multicast or otherwise
 * special (the ranges the policy refuses unless allowlisted). */
int br_fetch_addr_special(const struct sockaddr *sa);

#endif
