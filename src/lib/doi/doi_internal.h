/* DOIs inside the library (doi.h is the public side): the DataCite XML mapping, the registrars
 * behind one interface, the sealed password and the store calls the set job needs. */
#ifndef BR_DOI_INTERNAL_H
#define BR_DOI_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "bulkrepo/doi.h"
#include "bulkrepo/record.h"

/* The DOI types of br_record.ids, in the order of their states. */
#define BR_DOI_RESERVED   "doi-reserved"
#define BR_DOI_REGISTERED "doi-registered"
#define BR_DOI_FINDABLE   "doi-findable"

/* The literal text before a pattern's first placeholder ("" when it starts with one). */
int br_doi_pattern_literal_start(const char *pattern, char *out, size_t size);
/* 1 when the pattern has {type} (one counter per label), else 0. */
int br_doi_pattern_has_type(const char *pattern);

/* ---- the DataCite mapping (datacite.c) ---------------------------------------------------- */

/* Looks up the name of an organisational unit's code (a creator's affiliation); NULL: none. */
typedef const char *(*br_dc_unit_fn)(void *ctx, const char *code);

typedef struct br_dc_input {
    const br_record *rec;
    const char *doi;    /* NULL: the identifier is missing */
    br_dc_unit_fn unit; /* may be NULL: affiliations are written as their codes */
    void *unit_ctx;
} br_dc_input;

/* The mandatory properties the record lacks, comma-separated ("publisher, publicationYear"),
 * into missing (size >= 128); 0 when none is missing, else their count. */
int br_dc_missing(const br_dc_input *in, char *missing, size_t size);
/* The DataCite kernel-4 XML of the record (UTF-8, malloc'd into *xml, *len its length).
 * BR_EINVAL naming the missing mandatory properties; BR_ENOMEM; BR_EINTERNAL (libxml2). */
int br_dc_xml(const br_dc_input *in, char **xml, size_t *len, br_error *err);
/* The resourceTypeGeneral of an Esploro asset type code or label (data/datacite_types.tsv,
 * through data/restype_aliases.tsv for DSpace labels); NULL when unknown. */
const char *br_dc_type_general(const char *type, char *label, size_t label_size);

/* A parsed XSD for many validations (the set job): NULL when the schema is not installed. */
typedef struct br_dc_schema br_dc_schema;
int br_dc_schema_load(const char *xsd_path, br_dc_schema **out, br_error *err);
int br_dc_schema_validate(br_dc_schema *s, const char *xml, size_t len, br_error *err);
void br_dc_schema_free(br_dc_schema *s);

/* ---- registrars (registrar.c) ------------------------------------------------------------- */

typedef struct br_doi_request {
    const char *doi;
    const char *handle;
    const char *url; /* the landing page */
    const char *xml;
    size_t xml_len;
    int exists;  /* the DOI was reserved before (update it: PUT), else new (create it: POST) */
    int publish; /* 1: findable ("publish"), 0: registered ("register") */
} br_doi_request;

typedef struct br_doi_answer {
    long http;          /* the last HTTP status, 0 none */
    int tries;          /* requests made */
    char state[16];     /* "registered", "findable" (the agency's word for it) */
    char message[1024]; /* what happened, for the journal line */
} br_doi_answer;

/* Network knobs of the DataCite registrar (zeros: the defaults). */
typedef struct br_doi_http_opts {
    long timeout_ms; /* per request; 0 = 30 s */
    int tries;       /* requests at most, for 429, 5xx and timeouts; 0 = 4 */
    long backoff_ms; /* wait before the second try, doubled after; 0 = 1 s */
} br_doi_http_opts;

/* One registrar: open with a profile and its password (clear text, from the sealed one), submit
 * one DOI at a time, close.  submit: 0 and answer filled; BR_EINVAL (the agency refused the
 * metadata: 4xx), BR_EAUTH (401/403), BR_EIO (unreachable, 5xx or timeouts after every try),
 * BR_EDENIED (the fetch policy refused the address), with answer->message saying so. */
typedef struct br_doi_registrar {
    const char *agency;
    int (*open)(br_repo *repo, const br_doi_profile *p, const char *password,
                const br_doi_http_opts *o, void **state, br_error *err);
    int (*submit)(void *state, const br_doi_request *rq, br_doi_answer *a, br_error *err);
    void (*close)(void *state);
} br_doi_registrar;

extern const br_doi_registrar br_doi_local, br_doi_datacite;
const br_doi_registrar *br_doi_registrar_for(const char *agency);

/* ---- sealed secrets (seal.c): libsodium secretbox with <repo>/secret.key ------------------ */

/* "sb1:" + base64(nonce | box) into out (size >= 4 * len + 128). */
int br_doi_seal(const char *repo_dir, const char *plain, char *out, size_t size, br_error *err);
int br_doi_unseal(const char *repo_dir, const char *sealed, char *out, size_t size, br_error *err);

/* ---- the store (store_doi.c) -------------------------------------------------------------- */

/* The sealed password of a profile ("" none). */
int br_doi_profile_secret(br_repo *repo, const char *name, char *out, size_t size, br_error *err);
/* 1 when any item holds this DOI in any state (case-insensitive), 0 not, or BR_ESTORE. */
int br_doi_taken(br_repo *repo, const char *doi, br_error *err);
/* The next free DOI of a profile for a label: take = 1 moves the counter past it (inside the
 * caller's transaction), take = 0 only tells.  0; BR_ELIMIT (no free DOI in 10,000 numbers,
 * or the number grew past the pattern's room); BR_ESTORE. */
int br_doi_next(br_repo *repo, const br_doi_profile *p, const char *label, int take, char *doi,
                size_t size, br_error *err);
/* The name of an organisational unit ("" when the code is unknown). */
int br_doi_unit_name(br_repo *repo, const char *code, char *out, size_t size);

#endif
