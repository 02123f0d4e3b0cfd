/* Internal: remote files for the importers (Esploro FILE_FILEURL).
 *
 * Internal rather than public API on purpose: fetching is a step of an import,
 * not a repository operation, and its knobs reach users through
 * br_import_options; keeping it private lets the transport change (proxies,
 * an allow-list of hosts) without breaking library users. */
#ifndef BR_NET_FETCH_H
#define BR_NET_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include "bulkrepo/error.h"
#include "bulkrepo/repo.h"

typedef struct br_fetch_options {
    uint64_t max_size;       /* bytes; 0 = no cap (callers always set one) */
    long connect_timeout_ms; /* 0 = 10 s */
    long timeout_ms;         /* whole transfer, per attempt; 0 = 300 s */
    int retries;             /* further attempts after a timeout, a connection failure or a
                              * 5xx/429 answer; < 0 = none, 0 = default (2) */
    long backoff_ms;         /* wait before the first retry, doubled for each next; 0 = 500 ms */
    /* Polled during the transfer and between attempts: nonzero stops with BR_ECANCELLED. */
    int (*cancelled)(void *ctx);
    void *cancel_ctx;
} br_fetch_options;

/* Downloads an http:// or https:// URL (no other scheme, also after a
 * redirect; at most 5 redirects) into a new file under DIR/tmp of the
 * repository and writes its path to out.  The size cap is enforced while the
 * bytes arrive (Content-Length is checked first when the server sends it).
 * On any failure nothing is left on disk and err says why, naming the URL:
 * BR_ELIMIT (over the cap), BR_ECANCELLED, BR_EUSAGE (not http/https), BR_EIO
 * (network, HTTP status, timeout, local file).  The caller removes the file
 * when done with it. */
int br_fetch_url(br_repo *repo, const char *url, const br_fetch_options *opt, char *out,
                 size_t size, br_error *err);

#endif
