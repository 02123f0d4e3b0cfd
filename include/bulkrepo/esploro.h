/* bulkrepo — Esploro research-asset CSV (issue 3): the grouped CSV of Ex Libris
 * Esploro's bulk import and "Research assets CSV export".
 *
 *   A1 blank; column A the row type (ASSET, PRTOF, CREATOR, OCREATOR, CONT, OCONT,
 *   LINK, FILE); column B the group key (GROUP_ID: a new asset; RESEARCH_ASSET_ID:
 *   an existing asset to update); the other columns, in any order and possibly
 *   repeated, are named <ROWTYPE>_<FIELD>.
 *
 * The crosswalk between columns and the record model is data:
 * data/esploro_fields.tsv (column, row type, value kind, multi, category, target).
 * A target is "schema.element[.qualifier]" (a metadata value) or "@creator.X",
 * "@contributor.X", "@link.X", "@file.X" (the structured model).
 *
 * Values in a record are normalised: dates are ISO 8601 ("2021", "2021-10",
 * "2021-10-18"; ranges "2021-10-18/2021-10-20"), enums are canonical case, one
 * metadata value per "@@"-separated part.  The writer turns them back.
 *
 * Streaming: the reader holds one group at a time; memory does not depend on the
 * number of rows.  Every finding goes to the diag sink with its A1 cell
 * (br_place.cell, e.g. "AE2"), the row in br_place.line, the CSV file as source. */
#ifndef BULKREPO_ESPLORO_H
#define BULKREPO_ESPLORO_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "limits.h"
#include "record.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the crosswalk ------------------------------------------------------------------ */

typedef enum br_ecsv_kind {
    BR_ECSV_TEXT = 0,
    BR_ECSV_DATE,      /* YYYY, YYYYMM or YYYYMMDD */
    BR_ECSV_DATERANGE, /* a date, or "YYYYMMDD - YYYYMMDD" */
    BR_ECSV_MDY,       /* MM/DD/YYYY (ASSET_ACCESSRIGHTDATE) */
    BR_ECSV_YESNO,     /* YES / NO / UNKNOWN */
    BR_ECSV_BOOL,      /* yes/no/true/false, any case */
    BR_ECSV_LANG,      /* ISO 639-2/B code (data/iso639_2b.tsv) */
    BR_ECSV_RESTYPE,   /* category.type (data/esploro_asset_types.tsv) */
    BR_ECSV_AFFIL,     /* org-unit code: PREFIX___UNIT */
    BR_ECSV_ORCID,     /* 0000-0002-1825-0097, check digit ISO 7064 11,2 */
    BR_ECSV_EMAIL,
    BR_ECSV_URL,
    BR_ECSV_FILEURL, /* http(s)://, file://, or a path relative to the CSV */
    BR_ECSV_INT,
    BR_ECSV_DOI, /* 10.NNNN/... */
    BR_ECSV_KIND_COUNT
} br_ecsv_kind;

typedef struct br_ecsv_field {
    const char *column; /* "ASSET_TITLE" (canonical upper case) */
    const char *row;    /* "ASSET" */
    br_ecsv_kind kind;
    int multi;            /* cell may hold several values joined with "@@" */
    const char *category; /* selective export: identifiers, dates, creators, links, files, ... */
    const char *target;   /* "dc.title", "@creator.family", ... */
} br_ecsv_field;

/* The parsed crosswalk table (immutable once made; share it freely). */
typedef struct br_ecsv_xwalk br_ecsv_xwalk;

int br_ecsv_xwalk_new(br_ecsv_xwalk **out, br_error *err);
void br_ecsv_xwalk_free(br_ecsv_xwalk *x);
size_t br_ecsv_xwalk_count(const br_ecsv_xwalk *x);
const br_ecsv_field *br_ecsv_xwalk_at(const br_ecsv_xwalk *x, size_t i);
/* By column header, case-insensitive; NULL when unknown. */
const br_ecsv_field *br_ecsv_xwalk_column(const br_ecsv_xwalk *x, const char *column);
/* By target ("dc.title", "@link.url"); NULL when no column maps to it. */
const br_ecsv_field *br_ecsv_xwalk_target(const br_ecsv_xwalk *x, const char *target);

/* ---- organisational-unit codes ------------------------------------------------------------ */

/* The one rule for an organisational-unit code, shared by the affiliation columns
 * (ASSET_AFFILIATION, CREATOR_AFFILIATION, CONT_AFFILIATION) and `bulkrepo orgunit
 * add | import`, so that a unit the repository takes is a code lint takes: the
 * institution prefix, three underscores and the unit code, as Esploro writes them
 * ("01ALLIANCE_UID___n6370"; notes/formats.md 1.5); at most 255 bytes of UTF-8 with no
 * whitespace, control character, '@' (the value separator) or ','.  NULL when
 * code[0..n) is one, else what is wrong with it, as a phrase ("is not PREFIX___UNIT ..."). */
const char *br_ecsv_orgunit_code_problem(const char *code, size_t n);
#define BR_ECSV_ORGUNIT_HINT                                                                       \
    "an organisational-unit code is the institution prefix, three underscores and the unit "       \
    "code, e.g. 01ALLIANCE_UID___n6370"

/* ---- reading and linting --------------------------------------------------------------- */

typedef struct br_ecsv_options {
    br_limits limits;     /* zeroed = br_limits_default(); max_field caps a cell */
    br_repo *repo;        /* optional: check org units and RESEARCH_ASSET_IDs against it */
    br_diag_sink *diags;  /* every finding, with its cell */
    const char *fix_path; /* lint --fix: write a corrected copy here (atomically) */
} br_ecsv_options;

typedef struct br_ecsv_reader br_ecsv_reader;

/* One asset group as read. */
typedef struct br_ecsv_group {
    const char *key;    /* column B value (valid until the next call) */
    int by_asset_id;    /* column B is RESEARCH_ASSET_ID: update an existing asset */
    unsigned first_row; /* 1-based CSV rows (the header is row 1) */
    unsigned last_row;
    size_t errors; /* findings in this group */
    size_t warnings;
    uint64_t offset; /* byte offset of the group's first row, for br_ecsv_seek */
} br_ecsv_group;

int br_ecsv_open(const char *path, const br_ecsv_options *opt, br_ecsv_reader **out, br_error *err);
/* Reads the next group into rec (reset first) and fills g.  Returns 1 when a
 * group was read (check g->errors), 0 at the end of the file, negative on a
 * failure that stops reading (I/O, an unterminated quote, a cap). */
int br_ecsv_next(br_ecsv_reader *r, br_record *rec, br_ecsv_group *g, br_error *err);
/* Repositions at a group's offset (from br_ecsv_group) for a second pass. */
int br_ecsv_seek(br_ecsv_reader *r, uint64_t offset, br_error *err);
/* Whether the file has a column whose target is `target` (update mode: a column
 * present replaces the asset's values, an empty cell deletes them, an absent
 * column leaves them alone).  For structured targets pass "@creator",
 * "@contributor", "@link", "@file" to ask whether any such column is present. */
int br_ecsv_has_target(const br_ecsv_reader *r, const char *target);
/* The key column's header as written ("GROUP_ID", "group_id", "RESEARCH_ASSET_ID"). */
const char *br_ecsv_key_header(const br_ecsv_reader *r);
void br_ecsv_close(br_ecsv_reader *r);

typedef struct br_ecsv_summary {
    uint64_t bytes;
    size_t rows; /* data rows */
    size_t groups;
    size_t errors;
    size_t warnings;
    size_t fixes; /* changes written to fix_path */
} br_ecsv_summary;

/* One streaming pass over the file: every rule, every finding to opt->diags,
 * fixes to opt->fix_path when set.  Returns 0 when the pass completed (look at
 * sum->errors), negative when it could not: I/O, caps (BR_ELIMIT), or input it
 * cannot read on from (BR_EINVAL: an unusable header, an unterminated quote);
 * input problems are reported as findings too and counted in sum->errors. */
int br_ecsv_lint(const char *path, const br_ecsv_options *opt, br_ecsv_summary *sum, br_error *err);

/* ---- writing ------------------------------------------------------------------------------ */

typedef struct br_ecsv_write_options {
    const char *key_header;     /* "RESEARCH_ASSET_ID" (default) or "GROUP_ID" */
    const char *const *columns; /* only these columns (export --fields); NULL = all */
    size_t n_columns;
    const char *const *categories; /* only these categories (export --categories); NULL = all */
    size_t n_categories;
    const char *base_dir; /* FILE rows: bitstream paths are written relative to it */
    br_diag_sink
        *diags; /* a note for every value that has no column (nothing is silently dropped) */
} br_ecsv_write_options;

typedef struct br_ecsv_writer br_ecsv_writer;

int br_ecsv_writer_open(const char *path, const br_ecsv_write_options *opt, br_ecsv_writer **out,
                        br_error *err);
/* Writes the rows of one asset: ASSET, PRTOF, CREATOR/OCREATOR, CONT/OCONT, LINK, FILE. */
int br_ecsv_write_record(br_ecsv_writer *w, const char *key, const br_record *rec, br_error *err);
/* Finishes the file (written to a temporary name, renamed here).  The writer is freed. */
int br_ecsv_writer_close(br_ecsv_writer *w, br_error *err);
/* Frees without finishing: the partial output is removed. */
void br_ecsv_writer_abort(br_ecsv_writer *w);

#ifdef __cplusplus
}
#endif
#endif
