/* The ORCID member API client behind one interface (the Delete records from ORCID job):
 * DELETE /v3.0/{orcid}/work/{put-code} with the repository's access token, and an embedded
 * default that sends nothing and records what it would send. */
#ifndef BR_ORCID_INTERNAL_H
#define BR_ORCID_INTERNAL_H

#include <stddef.h>
#include "bulkrepo/researcher.h"

/* What became of one work. */
typedef enum br_orcid_outcome {
    BR_ORCID_DELETED,  /* 204: removed from the ORCID record */
    BR_ORCID_GONE,     /* 404: not on the record any more (removed there, or before) */
    BR_ORCID_RECORDED, /* no API configured: the request is written to orcid/requests.log */
    BR_ORCID_FAILED    /* 401/403, another 4xx, 5xx/429 or timeouts after every try, refused */
} br_orcid_outcome;

typedef struct br_orcid_answer {
    br_orcid_outcome outcome;
    long http;         /* the last HTTP status, 0 none */
    int tries;         /* requests made */
    char message[512]; /* for the journal line */
} br_orcid_answer;

/* Network knobs (zeros: the defaults). */
typedef struct br_orcid_http_opts {
    long timeout_ms;             /* per request; 0 = 30 s */
    int tries;                   /* requests at most, for 429, 5xx and timeouts; 0 = 4 */
    long backoff_ms;             /* wait before the second try, doubled after; 0 = 1 s */
    int (*cancelled)(void *ctx); /* polled between tries: nonzero stops with BR_ECANCELLED */
    void *cancel_ctx;
} br_orcid_http_opts;

/* A client: open (api: the base URL, "https://api.orcid.org"; token in clear), delete one work
 * at a time, close.  delete_work: 0 with the answer filled whatever ORCID said (the outcome says
 * it), or BR_ECANCELLED / BR_ENOMEM / BR_EIO (the log could not be written) for the job. */
typedef struct br_orcid_client {
    const char *name;
    int (*open)(br_repo *repo, const char *api, const char *token, const br_orcid_http_opts *o,
                void **state, br_error *err);
    int (*delete_work)(void *state, const char *orcid, const char *put_code, br_orcid_answer *a,
                       br_error *err);
    void (*close)(void *state);
} br_orcid_client;

/* "record": the embedded default (no ORCID API configured); "member-api": ORCID's member API
 * 3.0 through libcurl under the fetch policy. */
extern const br_orcid_client br_orcid_recorder, br_orcid_member_api;

/* The log the recorder appends to, under the repository. */
#define BR_ORCID_LOG "orcid/requests.log"

#endif
