/* bulkrepo — researchers (issue 11 section 6; seed 001: Update Set of Researchers, Delete
 * records from ORCID) and the ORCID works bulkrepo pushed for them.
 *
 * A researcher is named by a researcher id (its primary identifier: what a set of
 * researchers lists and what an asset's creator names in creator.researcher_id) and may have
 * an ORCID iD (unique; its check digit is verified, ISO 7064 11,2).  Creators of assets link
 * to a researcher by either: a creator whose researcher_id is the researcher's id, or whose
 * ORCID is the researcher's ORCID (bare or as https://orcid.org/ID), is one of theirs.
 *
 * Caps: a researcher id has 1 to BR_RESEARCHER_ID_MAX bytes of UTF-8 without spaces or
 * control characters; a name part, a topic or a keyword at most BR_RESEARCHER_TEXT_MAX bytes
 * of UTF-8 without control characters; at most BR_RESEARCHER_LIST_MAX affiliations, topics
 * and keywords each.  Dates are YYYY-MM-DD. */
#ifndef BULKREPO_RESEARCHER_H
#define BULKREPO_RESEARCHER_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BR_RESEARCHER_ID_MAX   128
#define BR_RESEARCHER_TEXT_MAX 255
#define BR_RESEARCHER_LIST_MAX 200

/* Whether the researcher belongs to the institution (Esploro's affiliated, non-affiliated and
 * previously affiliated researchers). */
typedef enum br_researcher_status {
    BR_RS_AFFILIATED = 0,
    BR_RS_NON_AFFILIATED = 1,
    BR_RS_PREVIOUSLY_AFFILIATED = 2
} br_researcher_status;

/* "affiliated", "non-affiliated", "previously-affiliated"; parse: 0 or BR_EINVAL. */
const char *br_researcher_status_name(br_researcher_status s);
int br_researcher_status_parse(const char *name, br_researcher_status *out);

/* The flags of a researcher (seed 001's Researcher Flags, and the two settings the Update
 * Set of Researchers job turns on and off besides). */
enum {
    BR_RF_PROFILE_ACCESS = 1u << 0,      /* "profile-access": access to the researcher profile */
    BR_RF_ACTIVE_PROFILE = 1u << 1,      /* "active-profile": approved, displayed profile */
    BR_RF_AUTO_MATCH = 1u << 2,          /* "auto-match-approval": automatic requests for
                                            author match approval */
    BR_RF_SMART_HARVEST = 1u << 3,       /* "smart-harvesting": included in Smart Harvesting */
    BR_RF_SKIP_AUTO_APPROVALS = 1u << 4, /* "skip-auto-approvals": during Smart Harvesting */
    BR_RF_UPDATE_ORCID = 1u << 5,        /* "update-orcid": update the ORCID profile */
    BR_RF_MANAGE_EXTERNALLY = 1u << 6,   /* "manage-externally": the researcher loader updates
                                            the fields (else staff changes are kept) */
    BR_RF_NOTIFICATIONS = 1u << 7,       /* "notifications": researcher letters are sent */
    BR_RF_ALL = 0xffu
};
/* The flag's name (one bit), NULL for anything else; parse: 0 and *flag, or BR_EINVAL. */
const char *br_researcher_flag_name(unsigned flag);
int br_researcher_flag_parse(const char *name, unsigned *flag);

typedef struct br_researcher_affiliation {
    char unit[128]; /* an organisational unit's code (bulkrepo orgunit) */
    char start[11]; /* YYYY-MM-DD, "" unknown */
    char end[11];   /* YYYY-MM-DD, "" = current (open) */
} br_researcher_affiliation;

typedef struct br_researcher {
    char id[BR_RESEARCHER_ID_MAX + 1];
    char family[BR_RESEARCHER_TEXT_MAX + 1]; /* required */
    char given[BR_RESEARCHER_TEXT_MAX + 1];
    char middle[BR_RESEARCHER_TEXT_MAX + 1];
    char suffix[BR_RESEARCHER_TEXT_MAX + 1];
    char orcid[20]; /* 0000-0002-1825-0097, "" none */
    br_researcher_status status;
    unsigned flags;        /* BR_RF_* */
    char last_harvest[11]; /* the last Smart Harvesting date, YYYY-MM-DD; "" never */
    br_researcher_affiliation *affiliations;
    size_t n_affiliations;
    char **topics;
    size_t n_topics;
    char **keywords;
    size_t n_keywords;
    /* read only, filled by the store */
    char created[32], modified[32]; /* ISO 8601 UTC */
    int64_t version;                /* bumped by every update */
    /* private */
    size_t cap_affiliations, cap_topics, cap_keywords;
} br_researcher;

/* A researcher on the heap, empty (affiliated, no flags); NULL when out of memory. */
br_researcher *br_researcher_new(void);
void br_researcher_free(br_researcher *r);
/* Empties r (lists freed) for reuse. */
void br_researcher_clear(br_researcher *r);
/* Appends an affiliation (start, end: "" or NULL for none).  0; BR_ELIMIT past
 * BR_RESEARCHER_LIST_MAX or a code too long; BR_ENOMEM. */
int br_researcher_add_affiliation(br_researcher *r, const char *unit, const char *start,
                                  const char *end);
/* Appends a topic or a keyword unless one equal to it (ignoring case, after NFC) is there:
 * 1 added, 0 there already, BR_ELIMIT (list full), BR_ENOMEM. */
int br_researcher_add_topic(br_researcher *r, const char *topic);
int br_researcher_add_keyword(br_researcher *r, const char *keyword);
/* Removes every topic or keyword equal to it (ignoring case, after NFC): how many. */
size_t br_researcher_remove_topic(br_researcher *r, const char *topic);
size_t br_researcher_remove_keyword(br_researcher *r, const char *keyword);
/* Copies src into dst (dst's lists replaced): 0 or BR_ENOMEM. */
int br_researcher_copy(br_researcher *dst, const br_researcher *src);

/* Checks a researcher before it is stored: the id, the family name, the ORCID iD's form and
 * check digit, the dates (real calendar days; an affiliation does not end before it starts),
 * the caps, UTF-8; with repo (may be NULL) every affiliation's unit must exist.  0, or
 * BR_EINVAL with the message naming the field and the value. */
int br_researcher_check(br_repo *repo, const br_researcher *r, br_error *err);

/* Adds a researcher (checked as br_researcher_check).  0; BR_EEXISTS (the id, or the ORCID
 * iD that another researcher has); BR_EINVAL; BR_ESTORE. */
int br_researcher_add(br_repo *repo, br_researcher *r, br_error *err);
/* Replaces the stored researcher whose id is r->id with r (checked), bumping its version;
 * r->version and r->modified are updated.  0; BR_ENOTFOUND; BR_EEXISTS (the ORCID iD is
 * another researcher's); BR_EINVAL; BR_ESTORE.  Inside the caller's transaction when one is
 * open, else in its own. */
int br_researcher_update(br_repo *repo, br_researcher *r, br_error *err);
/* By researcher id, else by ORCID iD (bare or https://orcid.org/ID).  0 and r filled;
 * BR_ENOTFOUND; BR_ESTORE. */
int br_researcher_get(br_repo *repo, const char *id_or_orcid, br_researcher *r, br_error *err);

typedef int (*br_researcher_fn)(void *ctx, const br_researcher *r);
/* Every researcher by id, each loaded whole; a nonzero return of fn stops (not an error).
 * fn may use the connection. */
int br_researcher_list(br_repo *repo, br_researcher_fn fn, void *ctx, br_error *err);
/* How many researchers there are. */
int br_researcher_count(br_repo *repo, int64_t *n, br_error *err);

/* The researcher as a JSON object (the shape of `researcher show --json`; malloc'd text). */
int br_researcher_json(const br_researcher *r, char **text, br_error *err);

/* An asset one of whose creators or contributors is the researcher. */
typedef struct br_researcher_asset {
    const char *handle;
    const char *uuid;
    const char *title; /* NULL when it has none */
    const char *role;  /* "creator", "contributor" */
    const char *by;    /* how it links: "researcher-id", "orcid" */
} br_researcher_asset;
typedef int (*br_researcher_asset_fn)(void *ctx, const br_researcher_asset *a);
/* The researcher's assets (by handle; an asset naming them twice is listed once, its first
 * creator's role).  BR_ESTORE. */
int br_researcher_assets(br_repo *repo, const br_researcher *r, br_researcher_asset_fn fn,
                         void *ctx, br_error *err);

/* ---- import from a CSV file ------------------------------------------------------------------
 * The header names the columns, in any order, case-insensitive (docs/researchers.md):
 *   id, family (required), given, middle, suffix, orcid, status, flags ("profile-access;
 *   update-orcid", names of br_researcher_flag_name separated by ';'), last_harvest,
 *   affiliations ("UNIT|START|END" separated by ';'; START and END may be empty), topics and
 *   keywords (separated by ';').
 * A row whose id exists updates that researcher (its fields replaced by the row's), any other
 * row adds one.  All or nothing: every problem is reported by cell (source: the file, line,
 * column, cell "D7") to sink and nothing is written when there is any. */
typedef struct br_researcher_import_result {
    size_t rows, added, updated;
} br_researcher_import_result;
/* 0 (written, or with dry_run checked only); BR_EINVAL when a cell is wrong (the first in
 * err, every one in sink); BR_ENOTFOUND / BR_EIO for the file; BR_ELIMIT (a cell, a row or the
 * file past its cap); BR_ESTORE. */
int br_researcher_import(br_repo *repo, const char *path, int dry_run, br_diag_sink *sink,
                         br_researcher_import_result *res, br_error *err);

/* ---- ORCID ------------------------------------------------------------------------------------
 * The works bulkrepo pushed to researchers' ORCID records, each with its put-code there (what
 * ORCID's member API answers a POST of a work with), and the ORCID member API the Delete
 * records from ORCID job talks to. */

/* 1 when s is an ORCID iD (0000-0002-1825-0097) with a right check digit, else 0. */
int br_orcid_check(const char *s);

typedef struct br_orcid_work {
    const char *researcher; /* researcher id */
    const char *orcid;
    const char *put_code;
    const char *asset_uuid; /* NULL: not recorded */
    const char *handle;     /* the asset's handle, NULL when it no longer exists */
    const char *pushed;     /* ISO 8601 UTC */
} br_orcid_work;
typedef int (*br_orcid_work_fn)(void *ctx, const br_orcid_work *w);
/* Records a work pushed to a researcher's ORCID record: researcher by id or ORCID iD (they
 * must have an ORCID iD), put_code 1 to 20 digits, asset a handle or UUID (NULL: none),
 * pushed ISO 8601 (NULL: now).  0; BR_ENOTFOUND (researcher or asset); BR_EINVAL; BR_EEXISTS
 * (that put-code is recorded for them); BR_ESTORE. */
int br_orcid_work_add(br_repo *repo, const char *researcher, const char *put_code,
                      const char *asset, const char *pushed, br_error *err);
/* The works recorded for a researcher (id or ORCID iD), or for everyone (NULL), by researcher
 * and put-code.  BR_ENOTFOUND (no such researcher); BR_ESTORE. */
int br_orcid_work_list(br_repo *repo, const char *researcher, br_orcid_work_fn fn, void *ctx,
                       br_error *err);

/* The ORCID member API of the repository.  With none configured the Delete records from ORCID
 * job only records what it would send (its journal and <repo>/orcid/requests.log). */
typedef struct br_orcid_config {
    char api_url[512]; /* e.g. https://api.orcid.org (its /v3.0/ is added); "" none */
    int has_token;     /* a token is stored (sealed with the repository's key) */
} br_orcid_config;
/* Sets the API's base URL (http or https) and the access token (an ORCID /activities/update
 * token; kept sealed, never in clear; NULL keeps the one stored).  api_url "" removes the
 * configuration and the token.  0; BR_EINVAL (a URL that is not http(s), a token with spaces
 * or control characters, or longer than 1024 bytes); BR_EIO (the key); BR_ESTORE. */
int br_orcid_config_set(br_repo *repo, const char *api_url, const char *token, br_error *err);
int br_orcid_config_get(br_repo *repo, br_orcid_config *out, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
