/* The XLSX publications driver's pieces (docs/xlsx.md): the column set
 * (data/xlsx_columns.tsv), ISBN checks, the streaming workbook reader
 * (xlsx_read.c: libzip + libxml2's xmlTextReader over the first sheet, its
 * shared strings and its styles) and the input lookup (a .xlsx, or a zip
 * holding one and the files it names). */
#ifndef BR_FORMATS_XLSX_INTERNAL_H
#define BR_FORMATS_XLSX_INTERNAL_H

#include <stddef.h>
#include "bulkrepo/error.h"
#include "bulkrepo/limits.h"

/* Fixed caps of the reader (docs/xlsx.md, docs/limits.md). */
#define BR_XLSX_MAX_ROWS         1048576u             /* Excel's own row limit */
#define BR_XLSX_MAX_COLUMNS      16384u               /* Excel's own: column XFD */
#define BR_XLSX_MAX_CELLS        1024u                /* cells of one row that hold a value */
#define BR_XLSX_MAX_SHARED       2000000u             /* shared strings */
#define BR_XLSX_MAX_SHARED_BYTES (256u * 1024 * 1024) /* their total bytes */
#define BR_XLSX_MAX_STYLES       65536u               /* cell formats (cellXfs) */
#define BR_XLSX_MAX_PART         (16u * 1024 * 1024)  /* workbook.xml, its rels, styles.xml */

/* The token that deletes a stored value (an empty cell keeps it). */
#define BR_XLSX_DELETE "[delete]"

/* ---- the column set ------------------------------------------------------------------------- */

typedef enum br_xlsx_kind {
    BR_XLSX_TEXT,
    BR_XLSX_ISBN,
    BR_XLSX_DATE,
    BR_XLSX_CONTRIBUTORS,
    BR_XLSX_FILES,
    BR_XLSX_COVER
} br_xlsx_kind;

typedef struct br_xlsx_column {
    const char *name;    /* the header the writer writes */
    const char *aliases; /* '|'-separated, or "" */
    const char *target;  /* "dc.title", "@creator", "@file" */
    br_xlsx_kind kind;
    int multi; /* values separated by "; " */
} br_xlsx_column;

/* The table, parsed once from br_xlsx_columns_tsv; NULL/0 when it cannot be. */
size_t br_xlsx_column_count(void);
const br_xlsx_column *br_xlsx_column_at(size_t i);
/* The column a header names (case-insensitive, edge spaces trimmed), or NULL. */
const br_xlsx_column *br_xlsx_column_find(const char *header, size_t len);

/* ---- ISBNs ---------------------------------------------------------------------------------- */

/* The ISBN-13 of s (n bytes: 13 or 10 digits, the last of an ISBN-10 may be X,
 * with hyphens or spaces between), into out; numeric: the cell was a number
 * (E notation is expanded, fewer than 10 digits are an ISBN-10 that lost its
 * leading zeros).  0, or -1 with *why. */
int br_xlsx_isbn13(const char *s, size_t n, int numeric, char out[14], const char **why);

/* ---- the workbook ------------------------------------------------------------------------------
 */

typedef enum br_xlsx_type {
    BR_XLSX_CELL_STRING = 0, /* shared, inline or formula string */
    BR_XLSX_CELL_NUMBER,     /* text: the number as stored ("9780306406157") */
    BR_XLSX_CELL_DATE,       /* a number styled as a date: text is its ISO date */
    BR_XLSX_CELL_BOOL,       /* "TRUE" / "FALSE" */
    BR_XLSX_CELL_BAD         /* text: why the cell cannot be read (an error value, a shared
                                string that does not exist) */
} br_xlsx_type;

typedef struct br_xlsx_cell {
    unsigned col; /* 0-based */
    br_xlsx_type type;
    const char *text; /* NUL-terminated, len bytes */
    size_t len;
} br_xlsx_cell;

typedef struct br_xlsx_row {
    unsigned row; /* 1-based */
    const br_xlsx_cell *cells;
    size_t n;
} br_xlsx_row;

typedef struct br_xlsx_book br_xlsx_book;

/* Opens path (a .xlsx): checks its entries against lim (per entry and ratio),
 * finds the first sheet, reads its shared strings and styles.  Errors name the
 * file (and the part: "xl/sharedStrings.xml:3:17"). */
int br_xlsx_open(const char *path, const br_limits *lim, br_xlsx_book **out, br_error *err);
const char *br_xlsx_sheet(const br_xlsx_book *b); /* the first sheet's name */
/* The next row with at least one cell: 1, 0 at the end, or a negative
 * br_code (malformed XML with the part's line:column, a cap).  The row is
 * valid until the next call. */
int br_xlsx_next_row(br_xlsx_book *b, br_xlsx_row *row, br_error *err);
int br_xlsx_rewind(br_xlsx_book *b, br_error *err);
void br_xlsx_close(br_xlsx_book *b);
/* "D17" from a 0-based column and a 1-based row. */
void br_xlsx_cell_name(unsigned col, unsigned row, char out[16]);

/* ---- the input --------------------------------------------------------------------------------
 */

/* source is a .xlsx (xlsx = source, dir = its folder) or a .zip, extracted into
 * scratch with lim (br_zip_extract): xlsx = the one .xlsx inside (at the top
 * or in its one folder), dir = its folder. */
int br_xlsx_input(const char *source, const char *scratch, const br_limits *lim, char *xlsx,
                  size_t xlsx_size, char *dir, size_t dir_size, br_error *err);

#endif
