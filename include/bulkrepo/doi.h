/* bulkrepo — DOIs for research assets (issue 11, seed 001's "Register DOI for Research Assets").
 *
 * A DOI profile says how new DOIs are made and where they are registered: a prefix ("10."
 * then 4 to 9 digits, optionally ".digits" groups: 10.5555, 10.1000.1), a suffix pattern
 * with a per-asset-type label and a zero-padded number ("{type}.{n:06}" -> "article.000042"),
 * the number to start from, the agency ("datacite": DataCite's REST API; "local": the embedded
 * registrar that writes the XML and a registration log under the repository), whether it is
 * active, and whether DOIs are published (findable) or registered only.
 *
 * DOI states are identifier types of the asset (br_record.ids):
 *   doi-reserved    a draft DOI the repository reserved (the Delete Set job may delete it);
 *   doi-registered  registered with the agency (never deleted, never changed);
 *   doi-findable    registered and findable (published; never deleted, never changed);
 *   doi             a DOI the record carries from elsewhere (its publisher's).
 * The store's UNIQUE(type, value) keeps a DOI on one asset per state; a new DOI is also checked
 * against DOIs of every state, whatever their case (DOIs are case-insensitive).
 *
 * New suffixes hold only [a-z0-9._-] (safe in URLs and in DataCite's and Crossref's rules).
 * A profile whose DOIs could collide is refused: a pattern without {n}; {type} next to {n}
 * without a '.' or '_' between them (labels hold neither, so "a1"+"2" and "a"+"12" cannot
 * meet); two profiles with the same prefix whose patterns can give the same suffix. */
#ifndef BULKREPO_DOI_H
#define BULKREPO_DOI_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BR_DOI_DATACITE_API "https://api.datacite.org"
/* Where the asset's landing page is, by default: the handle resolver. */
#define BR_DOI_LANDING_DEFAULT "https://hdl.handle.net/{handle}"

typedef struct br_doi_profile {
    char name[64];          /* 1-63 of [A-Za-z0-9._-] */
    char prefix[32];        /* 10.NNNN[.NNN...] */
    char pattern[128];      /* literal [a-z0-9._-], {type} at most once, {n} or {n:0W} once */
    char labels[1024];      /* "CODE=label,..." per Esploro asset type (data/esploro_asset_types
                               .tsv; a category code such as "dataset" covers its types) */
    char default_label[32]; /* the label of any other type ("asset" when empty) */
    int64_t start;          /* the first number (>= 0) */
    char agency[16];        /* "datacite" or "local" */
    int active;
    int publish;             /* 1: findable (DataCite "publish"), 0: registered ("register") */
    char api_url[256];       /* DataCite REST base URL; "" = BR_DOI_DATACITE_API */
    char repository_id[128]; /* DataCite repository id (basic auth user) */
    char landing[256];       /* landing page URL pattern: {handle} or {uuid}; "" = default */
    int has_password;        /* read only: a password is stored (sealed) */
    char created[32];
} br_doi_profile;

/* Checks a prefix's syntax: 0 or BR_EINVAL naming what is wrong. */
int br_doi_prefix_check(const char *prefix, br_error *err);
/* Checks a suffix pattern (and its labels, "CODE=label,..."): 0 or BR_EINVAL. */
int br_doi_pattern_check(const char *pattern, const char *labels, const char *default_label,
                         br_error *err);
/* The suffix the pattern gives for a label and a number (size >= 64): 0, BR_ELIMIT. */
int br_doi_suffix_format(const char *pattern, const char *label, int64_t n, char *out, size_t size);
/* The label of an asset type under a profile (its labels, the type's category, else its
 * default label). */
const char *br_doi_label_for(const br_doi_profile *p, const char *asset_type, char *buf,
                             size_t size);

/* Adds a profile.  password (may be NULL or "") is the DataCite repository password: it is
 * sealed with the repository's key (<repo>/secret.key, made on first use, mode 0600) and never
 * given back by any call.  p->start is the first number (0 or more; the CLI's default is 1).
 * Collisions are checked against every profile, active or not, so enabling one later is safe.
 * 0; BR_EUSAGE (a bad name, agency, URL or a datacite profile without repository id or
 * password); BR_EINVAL (the prefix's syntax, a pattern that can collide, within itself or with
 * another profile of the same prefix, named); BR_EEXISTS (the name); BR_ESTORE. */
int br_doi_profile_add(br_repo *repo, const br_doi_profile *p, const char *password, br_error *err);
/* 0 and *out; BR_ENOTFOUND; BR_ESTORE. */
int br_doi_profile_get(br_repo *repo, const char *name, br_doi_profile *out, br_error *err);
typedef int (*br_doi_profile_fn)(void *ctx, const br_doi_profile *p);
/* Every profile in name order (active_only: the active ones). */
int br_doi_profile_list(br_repo *repo, int active_only, br_doi_profile_fn fn, void *ctx,
                        br_error *err);
/* Turns a profile on or off: 0; BR_ENOTFOUND; BR_ESTORE. */
int br_doi_profile_set_active(br_repo *repo, const char *name, int active, br_error *err);

/* The DataCite XML (Metadata Schema 4.x) that the asset would be registered with, into *xml
 * (malloc'd): its DOI in any state, else the next DOI of the profile (profile NULL: the first
 * active one) without taking it; *doi (may be NULL, size >= 256) gets the DOI.  The XML is
 * validated against DataCite's kernel-4 XSD when the schema is installed (br_doi_schema_path).
 * 0; BR_EINVAL naming the missing mandatory properties (identifier, creator, title, publisher,
 * publicationYear, resourceTypeGeneral) or the schema's complaint; BR_ENOTFOUND (the item, or
 * no active profile); BR_ESTORE. */
int br_doi_show(br_repo *repo, const char *handle, const char *profile, char **xml, char *doi,
                br_error *err);

/* Where DataCite's kernel-4 metadata.xsd is (with its include/ folder): $BULKREPO_DATACITE_XSD,
 * else the first of data/datacite/kernel-4/metadata.xsd (under the working folder),
 * /usr/share/bulkrepo/datacite/kernel-4/metadata.xsd and
 * ../shared/reference/datacite/kernel-4/metadata.xsd that exists; NULL when none does. */
const char *br_doi_schema_path(char *buf, size_t size);
/* Validates a DataCite XML text against the XSD at xsd_path (NULL: br_doi_schema_path), parsed
 * from local files only (no network, no DTD).  0; BR_EINVAL with the first complaint and its
 * line; BR_ENOTFOUND (no schema installed); BR_EIO (the schema does not load). */
int br_doi_validate(const char *xml, size_t len, const char *xsd_path, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
