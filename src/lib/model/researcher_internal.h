/* Researchers inside the library (researcher.h is the public side): the JSON form the undo
 * journal keeps, the checks by field for the CSV import, and the store's own calls. */
#ifndef BR_MODEL_RESEARCHER_INTERNAL_H
#define BR_MODEL_RESEARCHER_INTERNAL_H

#include <jansson.h>
#include "bulkrepo/researcher.h"

/* The undo journal's key of a researcher (job_undo.uuid): "researcher:" + the row id, short
 * enough for the undo pages' 64-byte cursor whatever the researcher id is. */
#define BR_RESEARCHER_UNDO_PREFIX "researcher:"

/* The JSON object of br_researcher_json (NULL when out of memory). */
json_t *br_researcher_to_jobj(const br_researcher *r);
/* Reads br_researcher_to_jobj's text into r (cleared first): 0; BR_EINVAL (not that shape);
 * BR_ENOMEM.  created, modified and version are read as they are. */
int br_researcher_from_json(const char *text, br_researcher *r, br_error *err);

/* Every problem of a researcher, each with the field it is in: "id", "family", "given",
 * "middle", "suffix", "orcid", "status", "flags", "last_harvest", "affiliations", "topics",
 * "keywords" (the import's column names).  With repo (may be NULL) affiliation units must
 * exist.  Returns how many (0: fine) or BR_ESTORE. */
typedef void (*br_researcher_problem_fn)(void *ctx, const char *field, const char *message);
int br_researcher_problems(br_repo *repo, const br_researcher *r, br_researcher_problem_fn fn,
                           void *ctx);
/* 1 when s is a calendar date YYYY-MM-DD, else 0. */
int br_date_ymd_valid(const char *s);
/* The bare ORCID iD of s (bare, or after https://orcid.org/, http://orcid.org/ or orcid.org/,
 * any case; a final x read as X) into out (size >= 20): 1, or 0 when s is no such iD form
 * (the check digit is not checked here). */
int br_orcid_bare(const char *s, char out[20]);

/* ---- the store (store_researcher.c) ---- */
/* The row id of a researcher by researcher id: 0 and *row; BR_ENOTFOUND; BR_ESTORE. */
int br_researcher_row(br_repo *repo, const char *id, int64_t *row, br_error *err);
/* Loads by row id (an undo row's key). */
int br_researcher_load_row(br_repo *repo, int64_t row, br_researcher *r, br_error *err);
/* The works recorded for researcher row `row` (any order by put-code), for the ORCID job. */
int br_orcid_work_of(br_repo *repo, int64_t row, br_orcid_work_fn fn, void *ctx, br_error *err);
/* Forgets a work (ORCID confirmed it is gone): 0 also when it was not recorded; BR_ESTORE. */
int br_orcid_work_remove(br_repo *repo, int64_t row, const char *put_code, br_error *err);
/* The configured API URL and the token in clear (both "" when none). */
int br_orcid_config_secret(br_repo *repo, char *api, size_t api_size, char *token,
                           size_t token_size, br_error *err);

#endif
