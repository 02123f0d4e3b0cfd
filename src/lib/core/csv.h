/* CSV (RFC 4180) reading and writing, one module for every CSV the library
 * touches: the Esploro reader and linter, the unimported download, the org-unit
 * import.
 *
 * Reader: a streaming scanner over one fixed read buffer.  A record comes back
 * as an array of cell views into one reusable record buffer (no allocation or
 * copy per cell): each cell has its length (the views are not NUL-terminated,
 * and a NUL byte inside a cell does not cut it) and whether it was quoted.  Quoted
 * cells may hold commas, "" escapes and line breaks; records end with LF, CRLF
 * or CR.  A line with nothing on it is no record, but it is a line: every
 * record carries the physical line it starts on (1-based, blank lines and line
 * breaks inside quoted cells counted) and the byte offset of its first byte.
 * A UTF-8 byte-order mark at the start of the input is skipped (br_csv_had_bom).
 *
 * Faults stop the read: a cell or record past its cap and too many cells
 * (BR_ELIMIT), an unterminated quote or text around a quoted cell (BR_EINVAL).
 * err names the line and the 1-based cell; br_csv_fault says which fault, so a
 * caller can report it in its own words.  After a fault the reader can only
 * be closed (or repositioned with br_csv_seek).
 *
 * Writer: buffered, to an fd, a FILE* or a new file written atomically (a
 * temporary name renamed on close).  A cell is quoted when it needs it (or
 * always, per writer or per cell); records end with CRLF unless the writer is
 * told LF.  Every write's result is checked; the first failure sticks. */
#ifndef BR_CORE_CSV_H
#define BR_CORE_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "bulkrepo/error.h"

/* ---- reading ------------------------------------------------------------------------------ */

typedef struct br_csv_reader br_csv_reader;

typedef struct br_csv_read_options {
    size_t max_cell;      /* bytes of one cell (after unquoting); 0 = 16 MiB; at most 4 GiB - 2 */
    size_t max_record;    /* bytes of one record's cells (unquoted); 0 = max_cell * 4 + 64 KiB */
    unsigned max_columns; /* cells of one record; 0 = 2048 */
} br_csv_read_options;

typedef struct br_csv_cell {
    const char *p; /* len bytes (no terminator); valid until the next call on the reader */
    uint32_t len;  /* 32 bits keep a record's cells dense: max_cell is below 4 GiB */
    int quoted;
} br_csv_cell;

typedef struct br_csv_record {
    const br_csv_cell *cells;
    unsigned n;       /* at least 1: an empty line is no record */
    unsigned line;    /* physical line of the record's first byte, 1-based */
    unsigned lines;   /* physical lines it spans (more than 1 when a quoted cell has breaks) */
    uint64_t offset;  /* byte offset of its first byte (br_csv_seek takes it) */
    const char *data; /* every cell's bytes, one after the other, in order */
    size_t size;      /* bytes at data */
    int has_nul;      /* some cell holds a NUL byte */
    int cr;           /* the record ended with CR or CRLF (not LF alone, not the end) */
} br_csv_record;

/* Why a read stopped (br_csv_fault). */
typedef enum br_csv_fault_kind {
    BR_CSV_OK = 0,
    BR_CSV_CELL_TOO_LARGE,    /* BR_ELIMIT */
    BR_CSV_RECORD_TOO_LARGE,  /* BR_ELIMIT */
    BR_CSV_TOO_MANY_COLUMNS,  /* BR_ELIMIT */
    BR_CSV_UNTERMINATED,      /* BR_EINVAL: a quoted cell still open at the end of the input */
    BR_CSV_TEXT_AFTER_QUOTE,  /* BR_EINVAL: "a"b */
    BR_CSV_QUOTE_INSIDE_CELL, /* BR_EINVAL: a"b */
    BR_CSV_IO,                /* BR_EIO */
    BR_CSV_NOMEM              /* BR_ENOMEM */
} br_csv_fault_kind;

typedef struct br_csv_fault {
    br_csv_fault_kind kind;
    unsigned line;   /* the record's first line (for an unterminated quote: where it opened) */
    unsigned column; /* 0-based cell of the record */
} br_csv_fault;

/* Reads from fd, which stays the caller's (not closed); it is read from its
 * current position, taken as offset 0 and line 1 unless br_csv_seek says
 * otherwise.  source names the input in errors (kept, not copied). */
int br_csv_reader_open_fd(int fd, const char *source, const br_csv_read_options *opt,
                          br_csv_reader **out, br_error *err);
/* Opens path (BR_ENOTFOUND when it does not exist, BR_EIO when it is no readable file). */
int br_csv_reader_open(const char *path, const br_csv_read_options *opt, br_csv_reader **out,
                       br_error *err);
void br_csv_reader_free(br_csv_reader *r);

/* The next record: 1 and *rec filled, 0 at the end, or a negative br_code. */
int br_csv_next(br_csv_reader *r, br_csv_record *rec, br_error *err);
/* The last fault (kind BR_CSV_OK when none). */
br_csv_fault br_csv_fault_of(const br_csv_reader *r);
/* Offset of the first byte not yet read as part of a record: after the last
 * record's line end (and any blank lines before the next record). */
uint64_t br_csv_tell(const br_csv_reader *r);
/* The physical line the next record would start on (at br_csv_tell). */
unsigned br_csv_line(const br_csv_reader *r);
int br_csv_had_bom(const br_csv_reader *r);

/* Repositions at offset, the first byte of a record (a br_csv_record.offset),
 * whose line is `line`; needs a seekable fd. */
int br_csv_seek(br_csv_reader *r, uint64_t offset, unsigned line, br_error *err);
/* The physical line at offset `to`, counted from offset `from` (at line
 * from_line, the start of a record) without moving the reader: every LF, CR
 * and CRLF is one line break, inside quotes or not. */
int br_csv_line_at(br_csv_reader *r, uint64_t from, unsigned from_line, uint64_t to, unsigned *line,
                   br_error *err);

/* ---- writing ------------------------------------------------------------------------------ */

typedef struct br_csv_writer br_csv_writer;

typedef struct br_csv_write_options {
    int always_quote; /* quote every cell (else only those with , " CR LF) */
    int lf;           /* end records with LF (else CRLF, as RFC 4180) */
} br_csv_write_options;

/* Writes to fd (not closed) or f (not closed); br_csv_writer_close flushes. */
int br_csv_writer_open_fd(int fd, const br_csv_write_options *opt, br_csv_writer **out,
                          br_error *err);
int br_csv_writer_open_file(FILE *f, const br_csv_write_options *opt, br_csv_writer **out,
                            br_error *err);
/* Writes a new file at path: to a temporary name beside it, renamed to path by
 * br_csv_writer_close; br_csv_writer_abort (or a failed close) removes it, so a
 * partial file is never left at path. */
int br_csv_writer_create(const char *path, const br_csv_write_options *opt, br_csv_writer **out,
                         br_error *err);

/* One cell of the current record: quoted when it needs it, or when quote is set. */
int br_csv_write_cell(br_csv_writer *w, const char *s, size_t n, int quote, br_error *err);
/* br_csv_write_cell of a C string. */
int br_csv_write_str(br_csv_writer *w, const char *s, int quote, br_error *err);
/* Writes n bytes as they are, outside any cell (a byte-order mark). */
int br_csv_write_raw(br_csv_writer *w, const void *s, size_t n, br_error *err);
/* Ends the current record with the writer's line end. */
int br_csv_end_record(br_csv_writer *w, br_error *err);
/* Flushes, finishes (br_csv_writer_create: syncs and renames into place) and
 * frees w, also on failure (then the created file is removed). */
int br_csv_writer_close(br_csv_writer *w, br_error *err);
/* Frees w without finishing; a created file is removed. */
void br_csv_writer_abort(br_csv_writer *w);

#endif
