/* Esploro CSV module internals shared by the crosswalk, the reader's files
 * (esploro_read.c, esploro_header.c, esploro_rows.c, esploro_values.c,
 * esploro_lint.c), the writer and the unimported download (not public API). */
#ifndef BR_ESPLORO_INTERNAL_H
#define BR_ESPLORO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "bulkrepo/esploro.h"
#include "core/core.h"
#include "core/csv.h"

/* The kind's name in data/esploro_fields.tsv ("date", "restype", ...). */
const char *br_ecsv_kind_name(br_ecsv_kind kind);

/* By column header of length n, case-insensitive (the header need not be NUL-terminated). */
const br_ecsv_field *br_ecsv_xwalk_column_n(const br_ecsv_xwalk *x, const char *column, size_t n);

/* The canonical ISO 639-2/B code (data/iso639_2b.tsv) for s[0..n), any case; NULL when unknown. */
const char *br_ecsv_lang_canon(const br_ecsv_xwalk *x, const char *s, size_t n);
/* A compact date YYYY, YYYYMM or YYYYMMDD that exists in the calendar: 1 and its
 * ISO 8601 form in iso, else 0.  The reader's check, shared with the writer so
 * that what it writes lints clean. */
int br_ecsv_compact_date(const char *s, size_t n, char iso[11]);
/* The ISO 639-2/B code for another spelling of a language (data/language_aliases.tsv):
 * an ISO 639-1 code (en), a locale (en_US) or an ISO 639-2/T code (deu); NULL when none. */
const char *br_ecsv_lang_from_alias(const br_ecsv_xwalk *x, const char *s, size_t n);
/* The asset-type code for a DSpace dc.type label ("Article", "doctoral thesis";
 * data/restype_aliases.tsv), any case; NULL when the table has no such label. */
const char *br_ecsv_restype_from_label(const br_ecsv_xwalk *x, const char *s, size_t n);
/* The canonical asset-type code (data/esploro_asset_types.tsv) for s[0..n), any case; NULL when
 * unknown. */
const char *br_ecsv_restype_canon(const br_ecsv_xwalk *x, const char *s, size_t n);
/* The known asset-type code closest to s (for hints), never NULL. */
const char *br_ecsv_restype_suggest(const br_ecsv_xwalk *x, const char *s);

/* The row types of column A, in the order a writer emits them. */
enum {
    BR_ECSV_ROW_ASSET = 0,
    BR_ECSV_ROW_PRTOF,
    BR_ECSV_ROW_CREATOR,
    BR_ECSV_ROW_OCREATOR,
    BR_ECSV_ROW_CONT,
    BR_ECSV_ROW_OCONT,
    BR_ECSV_ROW_LINK,
    BR_ECSV_ROW_FILE,
    BR_ECSV_ROW_COUNT
};
extern const char *const br_ecsv_row_names[BR_ECSV_ROW_COUNT];
/* The row type of s[0..n) (case-insensitive), or -1. */
int br_ecsv_row_type(const char *s, size_t n);

/* Trims s[0..*n) in place: ASCII whitespace and U+00A0 NO-BREAK SPACE at either
 * edge (pasted from web pages and Word).  The reader trims column B's group key
 * with it; whatever matches keys against a file must trim the same way. */
void br_ecsv_trim(const char **s, size_t *n);
/* Whether s[0..n) has whitespace br_ecsv_trim would remove. */
int br_ecsv_has_edge_ws(const char *s, size_t n);

/* ---- value checks (esploro_values.c) ------------------------------------------------------ */

/* The outcome of checking one value. */
typedef struct br_ecsv_vres {
    int bad;          /* an error that cannot be fixed */
    const char *rule; /* for bad, and for fixable */
    const char *hint;
    char why[160]; /* for bad/fixable: what is wrong */
    int fixable;   /* fixed holds the corrected text */
    int warn_only; /* the finding is a warning (accepted as is) */
    char fixed[128];
    char norm[128]; /* normalised value for the record; "" = the value itself */
} br_ecsv_vres;

/* Checks one value of kind `kind` (one @@ part), through the table of checks. */
void br_ecsv_check_value(const br_ecsv_xwalk *x, br_ecsv_kind kind, const char *s, size_t n,
                         br_ecsv_vres *v);

/* ---- the reader's state, shared by its files ---------------------------------------------- */

#define BR_ECSV_MAX_COLUMNS   2048 /* the template has 204 */
#define BR_ECSV_RECENT_GROUPS 64   /* remembered (offset, line) pairs for br_ecsv_seek */

/* One header column. */
typedef struct br_ecsv_column {
    const br_ecsv_field *field; /* NULL: unknown column (values ignored) */
    int row_type;               /* the column's row type, -1 when unknown */
    int long_text;              /* line breaks become <p> paragraphs when fixed */
    /* metadata target, parsed */
    char schema[64], element[64], qualifier[64];
    int structured;                   /* target is @creator.X, @contributor.X, @link.X or @file.X */
    int is_title, is_origid, is_date; /* ASSET_TITLE, ASSET_ORIGASSET_ID, category "dates" */
    const char *attr;                 /* the X of a structured target */
    size_t attr_off; /* its offset in br_creator/br_link/br_bitstream, SIZE_MAX = none */
    int is_url;
} br_ecsv_column;

/* A value of a row after checks and fixes. */
typedef struct br_ecsv_fixrec {
    size_t off, len; /* in r->fixbuf */
    int set;
} br_ecsv_fixrec;

typedef struct br_ecsv_keyset {
    uint64_t *slots; /* 0 = empty (a hash of 0 is stored as 1) */
    size_t cap, n;
} br_ecsv_keyset;

typedef struct br_ecsv_checkpoint {
    uint64_t offset;
    unsigned line;
} br_ecsv_checkpoint;

/* The fields every asset must have besides a date (notes/formats.md 1.5). */
#define BR_ECSV_MANDATORY 3
extern const struct br_ecsv_mandatory {
    const char *column, *what;
} br_ecsv_mandatory[BR_ECSV_MANDATORY];

struct br_ecsv_reader {
    char *path;
    char *dir;          /* the CSV's folder, for relative FILE paths */
    const char *source; /* as given, for messages */
    br_limits lim;
    br_repo *repo;
    br_diag_sink *diags;
    br_ecsv_xwalk *xw;
    /* Affiliation codes the repository knows, asked once per reader: an asset names several
     * and a file the same few thousand, and each lookup is a round trip on PostgreSQL.  Up to
     * BR_ECSV_UNITS_KNOWN codes; a code it does not know is asked each time (it is an error). */
    br_strmap units_known;

    br_csv_reader *csv;
    br_csv_record rec; /* the current row: cells, physical line, offset */
    unsigned ncells;   /* rec.n, 0 when there is no row */
    unsigned rowno;    /* physical line of the current row (blank lines count) */
    int saw_cr;        /* a row ended with CR (CRLF files): --fix writes LF */
    int pending;       /* the current row is read but not yet consumed */

    /* header */
    br_ecsv_column *cols;
    unsigned ncols;
    char key_header[64];
    int by_asset_id;
    uint64_t data_offset; /* first data row */
    unsigned data_line;
    int link_shift; /* columns between CREATOR_FAMNAME and LINK_LINKURL, 0 = none */
    int link_first, link_last;
    unsigned char *present;               /* per xwalk field: a column maps to it */
    int mandatory_col[BR_ECSV_MANDATORY]; /* first column of each, -1 = absent */
    int asset_date_col;                   /* an ASSET column of category "dates" is present */

    /* groups */
    br_ecsv_keyset keys;
    uint64_t high_water; /* groups starting below this offset were checked already */
    char *gkey;
    size_t gkey_len, gkey_cap;
    int gkey_bad; /* the key has bytes that are not UTF-8 or control characters */
    br_ecsv_checkpoint recent[BR_ECSV_RECENT_GROUPS];
    unsigned n_recent;
    size_t g_errors, g_warnings;
    const char *cur_rowtype; /* for messages */

    int lint_only; /* br_ecsv_lint: records are not returned */
    /* fixes (lint --fix) */
    int fixing;
    br_csv_writer *out;
    br_buf fixbuf;
    br_ecsv_fixrec *fix;
    int row_shifted;
    size_t fixes;

    /* lint counters */
    size_t rows, groups, errors, warnings;
    br_buf scratch, scratch2;
};

/* ---- esploro_read.c: places, findings, rows ----------------------------------------------- */

/* Opens the reader; mode 1: lint with fixes, 0: lint, -1: a reader (records filled). */
int br_ecsv_open_mode(const char *path, const br_ecsv_options *opt, int mode, br_ecsv_reader **out,
                      br_error *err);

/* The A1 name of (0-based column, row). */
void br_ecsv_cell_name(unsigned col, unsigned row, char out[16]);
/* A view of a value for messages, always valid UTF-8, cut at a length (r->scratch2). */
const char *br_ecsv_shown(br_ecsv_reader *r, const char *s, size_t n);
/* Emits a finding about cell (col, row) of the current group; col -1: none. */
void br_ecsv_finding(br_ecsv_reader *r, br_severity sev, int col, unsigned row, const char *rule,
                     const char *hint, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Reads the next non-blank row into r->rec: 1, 0 at the end, or negative (a CSV
 * fault is reported as a finding too). */
int br_ecsv_read_row(br_ecsv_reader *r, br_error *err);
/* Whether the current row's bytes are all ASCII (then no cell needs a UTF-8 check). */
int br_ecsv_row_ascii(const br_ecsv_reader *r);
/* Checks cell c for bytes that are no text (invalid UTF-8, NUL); reports and
 * returns -1 when it has some. */
int br_ecsv_cell_bad(br_ecsv_reader *r, unsigned c);

static inline int br_ecsv_is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* ---- esploro_header.c --------------------------------------------------------------------- */

/* Reads and maps the header row (fills cols, present, mandatory_col, link_shift). */
int br_ecsv_parse_header(br_ecsv_reader *r, br_error *err);
/* The offset of attribute name of a structured row type in br_creator, br_link or
 * br_bitstream; SIZE_MAX when the model has none. */
size_t br_ecsv_attr_offset(int row_type, const char *name);

/* ---- esploro_rows.c ----------------------------------------------------------------------- */

/* Per group: what the mandatory-field rule needs. */
typedef struct br_ecsv_gstate {
    int started;
    int asset_seen;
    unsigned asset_row;
    int first_type;
    int has_title, has_restype, has_affil, has_date;
    const char *source; /* in the record's arena */
} br_ecsv_gstate;

/* Checks the current row (of type rt, -1 when unknown) and adds its values to rec. */
int br_ecsv_do_row(br_ecsv_reader *r, br_record *rec, br_ecsv_gstate *gs, int rt);
/* Whether the current row has no value past column B. */
int br_ecsv_row_empty(const br_ecsv_reader *r);

/* ---- esploro_lint.c: fixes ---------------------------------------------------------------- */

/* Starts the fixed copy at path (written atomically by br_ecsv_fix_finish). */
int br_ecsv_fix_begin(br_ecsv_reader *r, const char *path, br_error *err);
int br_ecsv_fix_finish(br_ecsv_reader *r, br_error *err);
/* Records a fix of physical cell c of the current row: its new text. */
void br_ecsv_set_fix(br_ecsv_reader *r, unsigned c, const char *s, size_t n);
/* The note for a fix of cell c by rule ("ecsv.value.x" -> "ecsv.fix.x"). */
void br_ecsv_fix_note(br_ecsv_reader *r, unsigned c, const char *rule, const char *s, size_t n);
/* Forgets the current row's fixes. */
void br_ecsv_fix_clear(br_ecsv_reader *r);
/* Writes the current row with its fixes (and, for a shifted LINK row, its values moved). */
int br_ecsv_out_row(br_ecsv_reader *r, br_error *err);

#endif
