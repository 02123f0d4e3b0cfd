/* The Esploro research-asset CSV reader and linter (issue 3; notes/formats.md 1).
 *
 * Streaming: the file is read through one 64 KB buffer by an RFC 4180 scanner
 * (quoted cells, "" escapes, LF, CRLF or CR row ends) that appends each cell to
 * one reusable row buffer.  It replaced libcsv here: libcsv calls back per cell
 * and copies every cell through its own growing buffer, which held lint to about
 * 65 MB/s on the template-shaped rows (204 mostly empty cells); the scanner skips
 * runs of plain bytes with a table and copies them once.  A cell that grows past
 * limits.max_field stops the read while it is being accumulated, and a row stops
 * being stored past MAX_COLUMNS cells.  The reader holds one group (asset) at a
 * time; the only state that grows with the file is the set of group keys already
 * seen, kept as 64-bit hashes.
 *
 * Every rule has a stable id ("ecsv.<area>.<what>"); findings name the A1 cell
 * ("AE2: ... (ASSET row, group 1)"), and carry the row in br_diag.line, the
 * 1-based column in br_diag.column and the group key in br_diag.item.
 *
 * Lint (br_ecsv_lint) is one pass of the reader; with fix_path every row is
 * also written out with the fixes applied (to a temporary file, renamed at the
 * end), and each fix is reported as a note with rule "ecsv.fix.*". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "bulkrepo/esploro.h"
#include "bulkrepo/repo.h"
#include "core/core.h"
#include "formats/esploro_internal.h"

#define READ_BUF         (64 * 1024)
#define MAX_COLUMNS      2048 /* the template has 204 */
#define WRITE_BUF        (64 * 1024)
#define RECENT_GROUPS    64  /* remembered (offset, row) pairs for br_ecsv_seek */
#define MAX_FINDING_TEXT 200 /* a value quoted in a message is cut here */

/* One header column. */
typedef struct column {
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
} column;

/* A value of a row after checks and fixes. */
typedef struct fixrec {
    size_t off, len; /* in r->fixbuf */
    int set;
} fixrec;

typedef struct keyset {
    uint64_t *slots; /* 0 = empty (a hash of 0 is stored as 1) */
    size_t cap, n;
} keyset;

typedef struct checkpoint {
    uint64_t offset;
    unsigned row;
} checkpoint;

struct br_ecsv_reader {
    char *path;
    char *dir;          /* the CSV's folder, for relative FILE paths */
    const char *source; /* as given, for messages */
    int fd;
    br_limits lim;
    br_repo *repo;
    br_diag_sink *diags;
    br_ecsv_xwalk *xw;

    int state;         /* scanner state between buffers (enum scan_state) */
    int skip_lf;       /* the last row ended with CR: a following LF belongs to it */
    size_t cell_start; /* row-buffer offset of the cell being scanned */
    char *buf;
    size_t blen, bpos;
    uint64_t buf_off; /* file offset of buf[0] */
    int eof;

    /* the current row */
    char *row;
    size_t row_len, row_cap, row_max;
    uint32_t *coff, *clen;
    unsigned ncells;
    int row_done;
    int saw_cr;          /* a row ended with CR (CRLF files): --fix writes LF */
    unsigned rowno;      /* 1-based row number of the current row */
    uint64_t row_offset; /* byte offset where the current row starts */
    int pending;         /* the current row is read but not yet consumed */

    /* header */
    column *cols;
    unsigned ncols;
    char key_header[64];
    int by_asset_id;
    uint64_t data_offset; /* first data row */
    int link_shift;       /* columns between CREATOR_FAMNAME and LINK_LINKURL, 0 = none */
    int link_first, link_last;
    unsigned char *present; /* per xwalk field: a column maps to it */
    int mandatory_col[3];   /* first column of each MANDATORY field, -1 = absent */
    int asset_date_col;     /* an ASSET column of category "dates" is present */

    /* groups */
    keyset keys;
    uint64_t high_water; /* groups starting below this offset were checked already */
    char *gkey;
    size_t gkey_cap;
    int gkey_bad; /* the key has bytes that are not UTF-8 or control characters */
    checkpoint recent[RECENT_GROUPS];
    unsigned n_recent;
    size_t g_errors, g_warnings;
    const char *cur_rowtype; /* for messages */

    int lint_only; /* br_ecsv_lint: records are not returned */
    /* fixes (lint --fix) */
    int fixing;
    int fd_out;
    char tmp_path[4200];
    const char *fix_path;
    char *wbuf;
    size_t wlen;
    br_buf fixbuf;
    fixrec *fix;
    int row_shifted;
    size_t fixes;

    /* lint counters */
    size_t rows, groups, errors, warnings;
    br_buf scratch, scratch2;
};

/* The fields every asset must have besides a date (notes/formats.md 1.5), with their
 * columns in br_ecsv_reader.mandatory_col. */
static const struct {
    const char *column, *what;
} MANDATORY[] = {{"ASSET_TITLE", "a title"},
                 {"ASSET_RESTYPE", "an asset type"},
                 {"ASSET_AFFILIATION", "an affiliation"}};
_Static_assert(BR_ARRAY_LEN(MANDATORY) == BR_ARRAY_LEN(((br_ecsv_reader *)0)->mandatory_col),
               "one column per mandatory field");

/* ---- small helpers ---------------------------------------------------------------------- */

/* A1 column letters for a 0-based column index: 0 -> "A", 26 -> "AA". */
static void col_letters(unsigned c, char *out, size_t size)
{
    char tmp[16];
    int n = 0;
    c++;
    while (c && n < 15) {
        unsigned m = (c - 1) % 26;
        tmp[n++] = (char)('A' + m);
        c = (c - 1) / 26;
    }
    size_t k = 0;
    while (n && k + 1 < size)
        out[k++] = tmp[--n];
    out[k] = 0;
}

static void cell_name(unsigned col, unsigned row, char out[16])
{
    char l[8]; /* MAX_COLUMNS needs 3 letters */
    col_letters(col, l, sizeof l);
    snprintf(out, 16, "%.5s%u", l, row);
}

static inline int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* The length of the valid UTF-8 character at s[0..n), 0 when the byte starts none. */
static size_t utf8_char(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) return 1;
    size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    return k && k <= n && !br_utf8_check(s, k, NULL) ? k : 0;
}

/* A view of a value for messages, always valid UTF-8 (findings end up in JSON, which cannot
 * carry anything else): cut on a character boundary, control characters shown as spaces,
 * bytes that are not UTF-8 (columns A and B are quoted before any check) as '?'. */
static const char *shown(br_ecsv_reader *r, const char *s, size_t n)
{
    br_buf *b = &r->scratch2;
    br_buf_clear(b);
    size_t cut = n > MAX_FINDING_TEXT ? MAX_FINDING_TEXT : n, i = 0;
    if (br_buf_reserve(b, cut + 8)) return "";
    while (i < cut) {
        size_t k = utf8_char(s + i, n - i);
        if (i + k > cut) break; /* the cut falls inside this character */
        if (k > 1)
            memcpy(b->p + b->len, s + i, k), b->len += k;
        else
            b->p[b->len++] = !k ? '?' : (unsigned char)s[i] < 0x20 ? ' ' : s[i];
        i += k ? k : 1;
    }
    if (i < n) memcpy(b->p + b->len, "...", 3), b->len += 3;
    b->p[b->len] = 0;
    return b->p;
}

/* Makes s valid UTF-8 in place, as shown() does without the cut. */
static void repair_text(char *s)
{
    for (size_t i = 0, n = strlen(s); i < n;) {
        size_t k = utf8_char(s + i, n - i);
        if (!k) s[i] = '?';
        if (k == 1 && (unsigned char)s[i] < 0x20) s[i] = ' ';
        i += k ? k : 1;
    }
}

/* Emits a finding about cell (col, row) of the current group. */
static void finding(br_ecsv_reader *r, br_severity sev, int col, unsigned row, const char *rule,
                    const char *hint, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void finding(br_ecsv_reader *r, br_severity sev, int col, unsigned row, const char *rule,
                    const char *hint, const char *fmt, ...)
{
    char cell[16] = "", msg[1200], full[1400];
    if (col >= 0) cell_name((unsigned)col, row, cell);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *key = r->gkey && r->gkey[0] ? r->gkey : NULL;
    if (key && r->gkey_bad) {
        /* Messages quote the key (it is in msg now, so scratch2 is free again). */
        key = shown(r, key, strlen(key));
        repair_text(msg);
    }
    int n = 0;
    if (*cell) n = snprintf(full, sizeof full, "%s: ", cell);
    n += snprintf(full + n, sizeof full - (size_t)n, "%s", msg);
    if (row > 1 && (size_t)n < sizeof full) {
        if (r->cur_rowtype && key)
            snprintf(full + n, sizeof full - (size_t)n, " (%s row, group %s)", r->cur_rowtype, key);
        else if (key)
            snprintf(full + n, sizeof full - (size_t)n, " (group %s)", key);
    }
    br_diag d = {sev,  key,  r->source, row, col >= 0 ? (unsigned)col + 1 : 0, *cell ? cell : NULL,
                 rule, full, hint};
    if (sev == BR_SEV_ERROR)
        r->errors++, r->g_errors++;
    else if (sev == BR_SEV_WARNING)
        r->warnings++, r->g_warnings++;
    else if (!strncmp(rule, "ecsv.fix.", 9))
        r->fixes++;
    if (r->diags) br_diag_emit(r->diags, &d);
}

/* ---- the key set: 64-bit hashes, open addressing ------------------------------------------ */

static uint64_t hash64(const char *s, size_t n)
{
    uint64_t h = br_fnv1a(BR_FNV1A_INIT, s, n);
    h ^= h >> 33; /* finaliser (murmur3 fmix64): spread the bits for the low-bit index */
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h ? h : 1;
}

/* 1 when h was present, 0 when added, negative on out-of-memory. */
static int keyset_add(keyset *k, uint64_t h)
{
    if ((k->n + 1) * 10 > k->cap * 7) {
        size_t ncap = k->cap ? k->cap * 2 : 1024;
        uint64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns) return BR_ENOMEM;
        for (size_t i = 0; i < k->cap; i++) {
            if (!k->slots[i]) continue;
            size_t j = k->slots[i] & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = k->slots[i];
        }
        free(k->slots);
        k->slots = ns;
        k->cap = ncap;
    }
    size_t j = h & (k->cap - 1);
    while (k->slots[j]) {
        if (k->slots[j] == h) return 1;
        j = (j + 1) & (k->cap - 1);
    }
    k->slots[j] = h;
    k->n++;
    return 0;
}

/* ---- reading rows ------------------------------------------------------------------------- */

static int fill(br_ecsv_reader *r, br_error *err)
{
    r->buf_off += r->blen;
    r->blen = r->bpos = 0;
    for (;;) {
        ssize_t n = read(r->fd, r->buf, READ_BUF);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0)
            return br_error_set(err, BR_EIO, r->source, 0, 0, "cannot read: %s", strerror(errno));
        if (n == 0) r->eof = 1;
        r->blen = (size_t)n;
        return 0;
    }
}

static int fatal_cell(br_ecsv_reader *r, br_error *err, int code, const char *rule,
                      const char *hint, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int fatal_cell(br_ecsv_reader *r, br_error *err, int code, const char *rule,
                      const char *hint, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned col = r->ncells < MAX_COLUMNS ? r->ncells : MAX_COLUMNS;
    const char *saved = r->cur_rowtype;
    r->cur_rowtype = NULL;
    finding(r, BR_SEV_ERROR, (int)col, r->rowno, rule, hint, "%s", msg);
    r->cur_rowtype = saved;
    br_error_set(err, code, r->source, r->rowno, col + 1, "%s", msg);
    cell_name(col, r->rowno, err ? err->place.cell : (char[16]){0});
    return code;
}

enum scan_state {
    SCAN_START,  /* at the start of a cell */
    SCAN_PLAIN,  /* inside an unquoted cell */
    SCAN_QUOTED, /* inside a quoted cell */
    SCAN_QUOTE,  /* a quote inside a quoted cell: the end, or the first of "" */
};

/* Bytes that end a run of plain cell text. */
static const unsigned char SPECIAL[256] = {[','] = 1, ['"'] = 1, ['\n'] = 1, ['\r'] = 1};

/* Appends n bytes to the cell being scanned; -1 when the cell or the row passes its cap. */
static inline int row_append(br_ecsv_reader *r, const char *s, size_t n)
{
    if (r->row_len + n - r->cell_start > r->lim.max_field) return -1;
    if (r->row_len + n + 1 > r->row_cap) {
        size_t cap = r->row_cap;
        while (cap < r->row_len + n + 1)
            cap *= 2;
        if (cap > r->row_max) cap = r->row_max;
        if (r->row_len + n + 1 > cap) return -2;
        char *p = realloc(r->row, cap);
        if (!p) return -3;
        r->row = p;
        r->row_cap = cap;
    }
    memcpy(r->row + r->row_len, s, n);
    r->row_len += n;
    return 0;
}

/* Ends the cell being scanned; -1 past MAX_COLUMNS. */
static inline int end_cell(br_ecsv_reader *r)
{
    if (r->ncells >= MAX_COLUMNS) return -1;
    r->coff[r->ncells] = (uint32_t)r->cell_start;
    r->clen[r->ncells] = (uint32_t)(r->row_len - r->cell_start);
    r->ncells++;
    r->cell_start = r->row_len;
    return 0;
}

static int cap_error(br_ecsv_reader *r, int why, br_error *err)
{
    if (why == -1)
        return fatal_cell(r, err, BR_ELIMIT, "ecsv.csv.cell-too-large",
                          "split the value, or look for a quote that is never closed",
                          "row %u: a cell is larger than %zu bytes (the cap on one cell)", r->rowno,
                          r->lim.max_field);
    if (why == -2)
        return fatal_cell(
            r, err, BR_ELIMIT, "ecsv.csv.row-too-large", "split the values over several rows",
            "row %u is larger than %zu bytes (the cap on one row)", r->rowno, r->row_max);
    return br_error_set(err, BR_ENOMEM, r->source, r->rowno, 0, "out of memory");
}

static int too_many_columns(br_ecsv_reader *r, br_error *err)
{
    return fatal_cell(r, err, BR_ELIMIT, "ecsv.csv.too-many-columns",
                      "an Esploro CSV has about 200 columns; is this the right file?",
                      "row %u has more than %d columns", r->rowno, MAX_COLUMNS);
}

/* Reads the next non-blank row into the row buffer: 1, 0 at the end, or negative. */
static int read_row(br_ecsv_reader *r, br_error *err)
{
    r->ncells = 0;
    r->row_len = r->cell_start = 0;
    r->state = SCAN_START;
    r->rowno++;
    int content = 0; /* a byte of this row was seen (else a blank line is skipped) */
    for (;;) {
        if (r->bpos == r->blen) {
            if (r->eof) {
                if (r->state == SCAN_QUOTED)
                    return fatal_cell(r, err, BR_EINVAL, "ecsv.csv.unterminated-quote",
                                      "close the quote; a quote inside a quoted cell is written "
                                      "twice (\"\")",
                                      "row %u: a quoted cell is not closed before the end of the "
                                      "file",
                                      r->rowno);
                if (!content) {
                    r->rowno--;
                    return 0;
                }
                if (end_cell(r)) return too_many_columns(r, err);
                return 1;
            }
            int rc = fill(r, err);
            if (rc) return rc;
            continue;
        }
        const char *p = r->buf + r->bpos, *end = r->buf + r->blen;
        if (!content) {
            if (r->skip_lf && *p == '\n') {
                r->skip_lf = 0;
                r->bpos++;
                continue;
            }
            r->skip_lf = 0;
            if (*p == '\n' || *p == '\r') { /* a blank line */
                r->skip_lf = *p == '\r';
                r->bpos++;
                continue;
            }
            r->row_offset = r->buf_off + r->bpos;
            content = 1;
        }
        int rc;
        if (r->state == SCAN_QUOTED) {
            const char *q = memchr(p, '"', (size_t)(end - p));
            const char *stop = q ? q : end;
            if ((rc = row_append(r, p, (size_t)(stop - p)))) return cap_error(r, rc, err);
            r->bpos = (size_t)(stop - r->buf) + (q != NULL);
            if (q) r->state = SCAN_QUOTE;
            continue;
        }
        if (r->state == SCAN_QUOTE) {
            if (*p == '"') { /* "" inside a quoted cell */
                if ((rc = row_append(r, p, 1))) return cap_error(r, rc, err);
                r->state = SCAN_QUOTED;
                r->bpos++;
                continue;
            }
            if (*p != ',' && *p != '\n' && *p != '\r')
                return fatal_cell(r, err, BR_EINVAL, "ecsv.csv.bad-quote",
                                  "a cell with a quote must be quoted as a whole and the quote "
                                  "written twice: \"say \"\"hi\"\"\"",
                                  "row %u: text after the closing quote of a cell", r->rowno);
            r->state = SCAN_PLAIN; /* the separator is handled below */
        }
        /* SCAN_START or SCAN_PLAIN: runs of plain bytes and commas (the common case: most
         * cells of a template row are empty), until a quote, a line end or the buffer end. */
        const unsigned char *u = (const unsigned char *)p, *ue = (const unsigned char *)end;
        for (;;) {
            const unsigned char *run = u;
            while (u < ue && !SPECIAL[*u])
                u++;
            if (u > run) {
                if ((rc = row_append(r, (const char *)run, (size_t)(u - run))))
                    return cap_error(r, rc, err);
                r->state = SCAN_PLAIN;
            }
            if (u == ue || *u != ',') break;
            u++;
            if (end_cell(r)) return too_many_columns(r, err);
            r->state = SCAN_START;
        }
        r->bpos = (size_t)((const char *)u - r->buf);
        if (u == ue) continue;
        char c = (char)*u;
        r->bpos++;
        if (c == '"') {
            if (r->state != SCAN_START)
                return fatal_cell(r, err, BR_EINVAL, "ecsv.csv.bad-quote",
                                  "a cell with a quote must be quoted as a whole and the quote "
                                  "written twice: \"say \"\"hi\"\"\"",
                                  "row %u: a quote in the middle of a cell", r->rowno);
            r->state = SCAN_QUOTED;
        } else { /* '\n' or '\r': the row ends */
            if (end_cell(r)) return too_many_columns(r, err);
            if (c == '\r') r->skip_lf = r->saw_cr = 1;
            return 1;
        }
    }
}

/* ---- fixed output ------------------------------------------------------------------------- */

static int out_flush(br_ecsv_reader *r, br_error *err)
{
    if (r->wlen && br_write_all(r->fd_out, r->wbuf, r->wlen))
        return br_error_set(err, BR_EIO, r->tmp_path, 0, 0, "cannot write: %s", strerror(errno));
    r->wlen = 0;
    return 0;
}

static int out_put(br_ecsv_reader *r, const char *s, size_t n, br_error *err)
{
    while (n) {
        if (r->wlen == WRITE_BUF) {
            int rc = out_flush(r, err);
            if (rc) return rc;
        }
        size_t k = WRITE_BUF - r->wlen < n ? WRITE_BUF - r->wlen : n;
        memcpy(r->wbuf + r->wlen, s, k);
        r->wlen += k;
        s += k;
        n -= k;
    }
    return 0;
}

static int out_cell(br_ecsv_reader *r, const char *s, size_t n, br_error *err)
{
    int q = 0;
    for (size_t i = 0; i < n && !q; i++)
        q = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!q) return out_put(r, s, n, err);
    int rc = out_put(r, "\"", 1, err);
    for (size_t i = 0; !rc && i < n; i++)
        rc = s[i] == '"' ? out_put(r, "\"\"", 2, err) : out_put(r, s + i, 1, err);
    return rc ? rc : out_put(r, "\"", 1, err);
}

/* The current row's value of physical cell c (with its fix). */
static void cell_value(br_ecsv_reader *r, unsigned c, const char **s, size_t *n)
{
    if (r->fixing && r->fix[c].set) {
        *s = r->fixbuf.p + r->fix[c].off;
        *n = r->fix[c].len;
    } else {
        *s = r->row + r->coff[c];
        *n = r->clen[c];
    }
}

/* Writes the current row with its fixes (and, for a shifted LINK row, its values moved). */
static int out_row(br_ecsv_reader *r, br_error *err)
{
    unsigned n = r->ncells;
    /* Trailing empty cells past the header are dropped (ecsv.row.too-long). */
    while (n > r->ncols && n > 0) {
        const char *s;
        size_t len;
        cell_value(r, n - 1, &s, &len);
        if (len) break;
        n--;
    }
    unsigned out_n = n;
    if (r->row_shifted) {
        for (unsigned c = 2; c < n; c++)
            if (r->clen[c] && c + (unsigned)r->link_shift + 1 > out_n)
                out_n = c + (unsigned)r->link_shift + 1;
    }
    int rc = 0;
    for (unsigned k = 0; !rc && k < out_n; k++) {
        if (k) rc = out_put(r, ",", 1, err);
        long src = k;
        if (r->row_shifted && k >= 2) {
            /* k receives the value of k - shift when that one moves; a moved cell is empty. */
            long from = (long)k - r->link_shift;
            if (from >= 2 && (unsigned)from < n && r->clen[from])
                src = from;
            else if (k < n && r->clen[k])
                src = -1;
            else
                src = k < n ? (long)k : -1;
        }
        if (src < 0 || (unsigned)src >= n) continue;
        const char *s;
        size_t len;
        cell_value(r, (unsigned)src, &s, &len);
        if (!rc) rc = out_cell(r, s, len, err);
    }
    return rc ? rc : out_put(r, "\n", 1, err);
}

/* Records a fix of physical cell c: the new text, and a note. */
static void set_fix(br_ecsv_reader *r, unsigned c, const char *s, size_t n)
{
    if (!r->fixing) return;
    size_t off = r->fixbuf.len;
    if (br_buf_append(&r->fixbuf, s, n)) return;
    r->fix[c] = (fixrec){off, n, 1};
}

/* ---- value checks --------------------------------------------------------------------------- */

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return d[m - 1];
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return n > 0;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* A compact date YYYY, YYYYMM or YYYYMMDD, calendar-valid: ISO 8601 into iso (11 bytes). */
int br_ecsv_compact_date(const char *s, size_t n, char iso[11])
{
    if ((n != 4 && n != 6 && n != 8) || !digits(s, n)) return 0;
    int y = num(s, 4), m = n >= 6 ? num(s + 4, 2) : 0, d = n == 8 ? num(s + 6, 2) : 0;
    if (y < 1000) return 0;
    if (n >= 6 && (m < 1 || m > 12)) return 0;
    if (n == 8 && (d < 1 || d > days_in_month(y, m))) return 0;
    /* y has 4 digits, m and d 2: the ISO form fits in 11 bytes */
    if (n == 4) snprintf(iso, 11, "%04u", (unsigned)y % 10000u);
    if (n == 6) snprintf(iso, 11, "%04u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u);
    if (n == 8)
        snprintf(iso, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
                 (unsigned)d % 100u);
    return 1;
}

/* "2021-10-18", "2021/10/18", "2021.10.18", "2021-10": an unambiguous date with separators;
 * its compact form into fixed (9 bytes). */
static int separated_date(const char *s, size_t n, char fixed[9])
{
    if (n != 7 && n != 10) return 0;
    if (!digits(s, 4) || !digits(s + 5, 2)) return 0;
    char sep = s[4];
    if (sep != '-' && sep != '/' && sep != '.') return 0;
    if (n == 10 && (s[7] != sep || !digits(s + 8, 2))) return 0;
    char c[9];
    memcpy(c, s, 4);
    memcpy(c + 4, s + 5, 2);
    if (n == 10) memcpy(c + 6, s + 8, 2);
    c[n == 10 ? 8 : 6] = 0;
    char iso[11];
    if (!br_ecsv_compact_date(c, strlen(c), iso)) return 0;
    memcpy(fixed, c, strlen(c) + 1);
    return 1;
}

/* The outcome of checking one value. */
typedef struct vres {
    int bad;          /* an error that cannot be fixed */
    const char *rule; /* for bad, and for fixable */
    const char *hint;
    char why[160]; /* for bad/fixable: what is wrong */
    int fixable;   /* fixed holds the corrected text */
    int warn_only; /* the finding is a warning (accepted as is) */
    char fixed[128];
    char norm[128]; /* normalised value for the record; "" = the value itself */
} vres;

static int orcid_ok(const char *s, size_t n)
{
    if (n != 19) return 0;
    int total = 0, k = 0;
    for (size_t i = 0; i < 19; i++) {
        if (i == 4 || i == 9 || i == 14) {
            if (s[i] != '-') return 0;
            continue;
        }
        if (k == 15) break;
        if (s[i] < '0' || s[i] > '9') return 0;
        total = (total + (s[i] - '0')) * 2;
        k++;
    }
    /* ISO 7064 11,2 */
    int check = (12 - total % 11) % 11;
    char want = check == 10 ? 'X' : (char)('0' + check);
    return s[18] == want;
}

static int ci_prefix(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && !strncasecmp(s, p, k);
}

static void check_date_part(const char *s, size_t n, vres *v, char compact[9], char iso[11])
{
    if (br_ecsv_compact_date(s, n, iso)) {
        memcpy(compact, s, n);
        compact[n] = 0;
        return;
    }
    char fx[9];
    if (separated_date(s, n, fx)) {
        v->fixable = 1;
        v->rule = "ecsv.value.date-format";
        snprintf(v->why, sizeof v->why, "the date must be written YYYYMMDD (or YYYY, YYYYMM)");
        memcpy(compact, fx, strlen(fx) + 1);
        br_ecsv_compact_date(fx, strlen(fx), iso);
        return;
    }
    v->bad = 1;
    v->rule = "ecsv.value.date";
    v->hint = "write dates as YYYYMMDD, YYYYMM or YYYY, e.g. 20211018";
    snprintf(v->why, sizeof v->why, "is not a valid date (YYYYMMDD, YYYYMM or YYYY)");
}

static void check_value(br_ecsv_reader *r, const br_ecsv_field *f, const char *s, size_t n, vres *v)
{
    /* Reset only what callers read (this runs for every value: no memset of the buffers). */
    v->bad = v->fixable = v->warn_only = 0;
    v->rule = v->hint = NULL;
    v->why[0] = v->fixed[0] = v->norm[0] = 0;
    switch (f->kind) {
    case BR_ECSV_TEXT:
        break;
    case BR_ECSV_DATE: {
        char c[9], iso[11];
        check_date_part(s, n, v, c, iso);
        if (v->bad) return;
        if (v->fixable) snprintf(v->fixed, sizeof v->fixed, "%s", c);
        snprintf(v->norm, sizeof v->norm, "%s", iso);
        break;
    }
    case BR_ECSV_DATERANGE: {
        char c1[9], i1[11], c2[9], i2[11];
        vres a = {0}, b = {0};
        check_date_part(s, n, &a, c1, i1);
        if (!a.bad) {
            *v = a;
            if (v->fixable) snprintf(v->fixed, sizeof v->fixed, "%s", c1);
            snprintf(v->norm, sizeof v->norm, "%s", i1);
            return;
        }
        /* "start - end": the separator is " - "; "start-end" and "start/end" are fixable. */
        const char *sep = NULL;
        size_t sl = 0;
        for (size_t i = 1; i + 1 < n && !sep; i++) {
            if (s[i] == '-' || s[i] == '/') {
                size_t l = i, rr = i + 1;
                while (l > 0 && s[l - 1] == ' ')
                    l--;
                while (rr < n && s[rr] == ' ')
                    rr++;
                memset(&a, 0, sizeof a);
                memset(&b, 0, sizeof b);
                check_date_part(s, l, &a, c1, i1);
                check_date_part(s + rr, n - rr, &b, c2, i2);
                if (!a.bad && !b.bad) sep = s + l, sl = rr - l;
            }
        }
        if (!sep) {
            v->bad = 1;
            v->rule = "ecsv.value.date-range";
            v->hint = "write a date (YYYYMMDD) or a range 'YYYYMMDD - YYYYMMDD'";
            snprintf(v->why, sizeof v->why, "is neither a date nor a range YYYYMMDD - YYYYMMDD");
            return;
        }
        if (strcmp(i1, i2) > 0 &&
            strncmp(i1, i2, strlen(i2) < strlen(i1) ? strlen(i2) : strlen(i1))) {
            v->bad = 1;
            v->rule = "ecsv.value.date-range-order";
            v->hint = "the start date comes first";
            snprintf(v->why, sizeof v->why, "ends before it starts");
            return;
        }
        if (a.fixable || b.fixable || sl != 3 || memcmp(sep, " - ", 3)) {
            v->fixable = 1;
            v->rule = "ecsv.value.date-range-format";
            snprintf(v->why, sizeof v->why, "a range must be written 'YYYYMMDD - YYYYMMDD'");
            snprintf(v->fixed, sizeof v->fixed, "%s - %s", c1, c2);
        }
        snprintf(v->norm, sizeof v->norm, "%s/%s", i1, i2);
        break;
    }
    case BR_ECSV_MDY: {
        int m = 0, d = 0, y = 0;
        char iso[11], c[9];
        if (n == 10 && digits(s, 2) && s[2] == '/' && digits(s + 3, 2) && s[5] == '/' &&
            digits(s + 6, 4)) {
            m = num(s, 2), d = num(s + 3, 2), y = num(s + 6, 4);
            if (y >= 1000 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m)) {
                snprintf(v->norm, sizeof v->norm, "%04d-%02d-%02d", y, m, d);
                return;
            }
        } else {
            vres t = {0};
            check_date_part(s, n, &t, c, iso);
            if (!t.bad && strlen(c) == 8) {
                v->fixable = 1;
                v->rule = "ecsv.value.mdy-format";
                snprintf(v->why, sizeof v->why, "this date must be written MM/DD/YYYY");
                snprintf(v->fixed, sizeof v->fixed, "%.2s/%.2s/%.4s", c + 4, c + 6, c);
                snprintf(v->norm, sizeof v->norm, "%s", iso);
                return;
            }
        }
        v->bad = 1;
        v->rule = "ecsv.value.mdy";
        v->hint = "ASSET_ACCESSRIGHTDATE is written MM/DD/YYYY, e.g. 10/18/2021";
        snprintf(v->why, sizeof v->why, "is not a valid date MM/DD/YYYY");
        break;
    }
    case BR_ECSV_YESNO: {
        static const char *const canon[] = {"YES", "NO", "UNKNOWN"};
        for (int i = 0; i < 3; i++)
            if (n == strlen(canon[i]) && !strncasecmp(s, canon[i], n)) {
                if (memcmp(s, canon[i], n)) {
                    v->fixable = v->warn_only = 1;
                    v->rule = "ecsv.value.enum-case";
                    snprintf(v->why, sizeof v->why, "is written %s in Esploro's files", canon[i]);
                    snprintf(v->fixed, sizeof v->fixed, "%s", canon[i]);
                }
                snprintf(v->norm, sizeof v->norm, "%s", canon[i]);
                return;
            }
        v->bad = 1;
        v->rule = "ecsv.value.yesno";
        v->hint = "write YES, NO or UNKNOWN";
        snprintf(v->why, sizeof v->why, "is not YES, NO or UNKNOWN");
        break;
    }
    case BR_ECSV_BOOL:
        if ((n == 3 && !strncasecmp(s, "yes", 3)) || (n == 4 && !strncasecmp(s, "true", 4)))
            snprintf(v->norm, sizeof v->norm, "true");
        else if ((n == 2 && !strncasecmp(s, "no", 2)) || (n == 5 && !strncasecmp(s, "false", 5)))
            snprintf(v->norm, sizeof v->norm, "false");
        else {
            v->bad = 1;
            v->rule = "ecsv.value.bool";
            v->hint = "write true or false (yes/no is accepted too)";
            snprintf(v->why, sizeof v->why, "is not true/false or yes/no");
        }
        break;
    case BR_ECSV_LANG: {
        const char *c = br_ecsv_lang_canon(r->xw, s, n);
        const char *b = c ? NULL : br_ecsv_lang_from_alias(r->xw, s, n);
        if (b) {
            /* Unambiguous, but Esploro rejects it: an error that --fix repairs. */
            v->fixable = 1;
            v->rule = "ecsv.value.lang";
            snprintf(v->why, sizeof v->why, "is not an ISO 639-2/B code (it is %s)", b);
            snprintf(v->fixed, sizeof v->fixed, "%s", b);
        } else if (!c) {
            v->bad = 1;
            v->rule = "ecsv.value.lang";
            v->hint = "use an ISO 639-2/B code such as eng, ger, fre, spa (data/iso639_2b.tsv)";
            snprintf(v->why, sizeof v->why, "is not an ISO 639-2/B language code");
        } else if (memcmp(c, s, n)) {
            v->fixable = v->warn_only = 1;
            v->rule = "ecsv.value.enum-case";
            snprintf(v->why, sizeof v->why, "language codes are written in lower case: %s", c);
            snprintf(v->fixed, sizeof v->fixed, "%s", c);
        }
        break;
    }
    case BR_ECSV_RESTYPE: {
        const char *c = br_ecsv_restype_canon(r->xw, s, n);
        if (!c) {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%.*s", (int)(n < 255 ? n : 255), s);
            v->bad = 1;
            v->rule = "ecsv.value.restype";
            v->hint = "an Esploro asset type category.type (data/esploro_asset_types.tsv)";
            snprintf(v->why, sizeof v->why, "is not an Esploro asset type (did you mean %s?)",
                     br_ecsv_restype_suggest(r->xw, tmp));
        } else if (memcmp(c, s, n)) {
            v->fixable = v->warn_only = 1;
            v->rule = "ecsv.value.restype-case";
            snprintf(v->why, sizeof v->why, "the asset type is written %s", c);
            snprintf(v->fixed, sizeof v->fixed, "%s", c);
        }
        break;
    }
    case BR_ECSV_AFFIL: {
        const char *u = memmem(s, n, "___", 3);
        int ok = u && u > s && (size_t)(u - s) + 3 < n;
        for (size_t i = 0; ok && i < n; i++)
            ok = (unsigned char)s[i] > 0x20 && s[i] != '@' && s[i] != ',';
        if (!ok) {
            v->bad = 1;
            v->rule = "ecsv.value.affiliation";
            v->hint = "an organisational-unit code is the institution prefix, three underscores "
                      "and the unit code, e.g. 01ALLIANCE_UID___n6370";
            snprintf(v->why, sizeof v->why, "is not an organisational-unit code PREFIX___UNIT");
        }
        break;
    }
    case BR_ECSV_ORCID: {
        const char *b = s;
        size_t bn = n;
        static const char *const pre[] = {"https://orcid.org/", "http://orcid.org/", "orcid.org/"};
        for (int i = 0; i < 3; i++)
            if (ci_prefix(s, n, pre[i])) b = s + strlen(pre[i]), bn = n - strlen(pre[i]);
        char t[20] = "";
        if (bn == 19) {
            memcpy(t, b, 19);
            if (t[18] == 'x') t[18] = 'X';
        }
        if (bn == 19 && orcid_ok(t, 19)) {
            if (b != s || t[18] != b[18]) {
                v->fixable = 1;
                v->rule = "ecsv.value.orcid-format";
                snprintf(v->why, sizeof v->why, "an ORCID is written as the bare iD %s", t);
                snprintf(v->fixed, sizeof v->fixed, "%s", t);
            }
            snprintf(v->norm, sizeof v->norm, "%s", t);
            break;
        }
        v->bad = 1;
        v->rule = "ecsv.value.orcid";
        v->hint = "an ORCID iD is 0000-0002-1825-0097: 16 digits (the last may be X) whose last "
                  "is an ISO 7064 11,2 check digit";
        snprintf(v->why, sizeof v->why,
                 bn == 19 ? "has a wrong check digit (ISO 7064 11,2)" : "is not an ORCID iD");
        break;
    }
    case BR_ECSV_EMAIL: {
        const char *at = memchr(s, '@', n);
        int ok = at && at > s && memchr(at + 1, '@', n - (size_t)(at + 1 - s)) == NULL &&
                 memchr(at + 1, '.', n - (size_t)(at + 1 - s)) != NULL && s[n - 1] != '.';
        for (size_t i = 0; ok && i < n; i++)
            ok = (unsigned char)s[i] > 0x20 && s[i] != ',' && s[i] != ';';
        if (!ok) {
            v->bad = 1;
            v->rule = "ecsv.value.email";
            v->hint = "one address such as name@example.org";
            snprintf(v->why, sizeof v->why, "is not an e-mail address");
        }
        break;
    }
    case BR_ECSV_URL:
    case BR_ECSV_FILEURL: {
        size_t pl = ci_prefix(s, n, "https://") ? 8 : ci_prefix(s, n, "http://") ? 7 : 0;
        if (!pl && f->kind == BR_ECSV_FILEURL && ci_prefix(s, n, "file://")) pl = 7;
        int ok = 1;
        for (size_t i = 0; ok && i < n; i++)
            ok = (unsigned char)s[i] > 0x20;
        if (pl && (n == pl || s[pl] == '/') && ci_prefix(s, n, "file://") == 0) ok = 0;
        if (!pl && f->kind == BR_ECSV_URL) ok = 0;
        if (ok && !pl && f->kind == BR_ECSV_FILEURL && memmem(s, n, "://", 3)) ok = 0;
        if (!ok) {
            v->bad = 1;
            v->rule = "ecsv.value.url";
            v->hint = f->kind == BR_ECSV_URL ? "an http:// or https:// URL without spaces"
                                             : "an http(s):// or file:// URL, or a path relative "
                                               "to the CSV file, without spaces";
            snprintf(v->why, sizeof v->why, "is not a valid URL");
            break;
        }
        if (f->kind == BR_ECSV_FILEURL && !pl) {
            /* A relative path must stay inside the CSV's folder. */
            int escapes = 0;
            const char *p = s, *e = s + n;
            while (p < e) {
                const char *q = memchr(p, '/', (size_t)(e - p));
                size_t l = q ? (size_t)(q - p) : (size_t)(e - p);
                if (l == 2 && p[0] == '.' && p[1] == '.') escapes = 1;
                p += l + 1;
            }
            if (escapes) {
                v->bad = 1;
                v->rule = "ecsv.file.path-escapes";
                v->hint = "put the file in the CSV's folder (or below it), or give a file:// URL";
                snprintf(v->why, sizeof v->why,
                         "is a relative path that leaves the CSV's folder ('..')");
            }
        }
        break;
    }
    case BR_ECSV_INT:
        if (!digits(s, n) || n > 9) {
            v->bad = 1;
            v->rule = "ecsv.value.int";
            v->hint = "a whole number such as 1";
            snprintf(v->why, sizeof v->why, "is not a whole number");
        }
        break;
    case BR_ECSV_DOI: {
        static const char *const pre[] = {"https://doi.org/", "http://doi.org/",
                                          "https://dx.doi.org/", "http://dx.doi.org/", "doi:"};
        size_t pl = 0;
        for (int i = 0; i < 5 && !pl; i++)
            if (ci_prefix(s, n, pre[i])) pl = strlen(pre[i]);
        const char *d = s + pl;
        size_t dn = n - pl, k = 3;
        int ok = dn > 3 && !memcmp(d, "10.", 3);
        while (ok && k < dn && d[k] >= '0' && d[k] <= '9')
            k++;
        ok = ok && k >= 7 && k < dn - 1 && d[k] == '/';
        for (size_t i = 0; ok && i < dn; i++)
            ok = (unsigned char)d[i] > 0x20;
        if (!ok) {
            v->bad = 1;
            v->rule = "ecsv.value.doi";
            v->hint = "a DOI such as 10.3390/v13102098 (no https://doi.org/ prefix)";
            snprintf(v->why, sizeof v->why, "is not a DOI (10.NNNN/suffix)");
        } else if (pl) {
            v->fixable = 1;
            v->rule = "ecsv.value.doi-format";
            snprintf(v->why, sizeof v->why, "a DOI is written without the resolver prefix");
            snprintf(v->fixed, sizeof v->fixed, "%.*s", (int)(dn < 120 ? dn : 120), d);
            if (dn >= 120) v->fixable = 0, v->bad = 1, v->rule = "ecsv.value.doi";
        }
        break;
    }
    default:
        break;
    }
}

/* ---- structured targets ------------------------------------------------------------------- */

typedef struct attr {
    const char *name;
    size_t off;
} attr;

#define CR(f)                                                                                      \
    {                                                                                              \
#f, offsetof(br_creator, f)                                                                \
    }
#define LK(f)                                                                                      \
    {                                                                                              \
#f, offsetof(br_link, f)                                                                   \
    }
#define FL(f)                                                                                      \
    {                                                                                              \
#f, offsetof(br_bitstream, f)                                                              \
    }
static const attr CREATOR_ATTRS[] = {CR(family),
                                     CR(given),
                                     CR(middle),
                                     CR(suffix),
                                     CR(affiliation),
                                     CR(email),
                                     CR(researcher_id),
                                     CR(orcid),
                                     CR(primary_id),
                                     CR(brcode),
                                     CR(additional),
                                     CR(display),
                                     {"organization", offsetof(br_creator, display)},
                                     {"type", offsetof(br_creator, contrib_type)}};
static const attr LINK_ATTRS[] = {LK(url),   LK(title),   LK(description),
                                  LK(type),  LK(license), LK(rights),
                                  LK(owner), LK(order),   LK(display_in_viewer)};
static const attr FILE_ATTRS[] = {
    FL(url),           FL(description), FL(name),
    FL(order),         FL(license),     FL(rights),
    FL(rights_reason), FL(rights_date), {"type", offsetof(br_bitstream, content_type)},
    FL(supplemental)};
#undef CR
#undef LK
#undef FL

static const attr *find_attr(const attr *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].name, name)) return &t[i];
    return NULL;
}

/* ---- header ------------------------------------------------------------------------------- */

static int utf8_row_ascii(const br_ecsv_reader *r)
{
    const unsigned char *p = (const unsigned char *)r->row;
    size_t n = r->row_len, i = 0;
    uint64_t acc = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= p[i];
    return !(acc & 0x8080808080808080ull);
}

/* Checks a cell's UTF-8; reports and returns -1 when invalid. */
static int cell_utf8(br_ecsv_reader *r, unsigned c)
{
    size_t bad;
    if (!br_utf8_check(r->row + r->coff[c], r->clen[c], &bad)) return 0;
    unsigned char b = (unsigned char)r->row[r->coff[c] + bad];
    finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.encoding.invalid-utf8",
            "save the file as UTF-8 (it looks like Latin-1 or Windows-1252)",
            "row %u, column %u: byte 0x%02X at byte %zu of the cell is not valid UTF-8", r->rowno,
            c + 1, b, bad + 1);
    return -1;
}

static int parse_header(br_ecsv_reader *r, br_error *err)
{
    int rc = read_row(r, err);
    if (rc < 0) return rc;
    if (rc == 0) {
        finding(r, BR_SEV_ERROR, -1, 0, "ecsv.header.missing", "the first row names the columns",
                "the file is empty");
        return br_error_set(err, BR_EINVAL, r->source, 1, 0, "the file is empty: no header row");
    }
    r->ncols = r->ncells;
    if (r->ncols < 2) {
        finding(r, BR_SEV_ERROR, 1, 1, "ecsv.header.key-column",
                "column B is GROUP_ID (new assets) or RESEARCH_ASSET_ID (updates)",
                "the header has no column B: B1 must be GROUP_ID or RESEARCH_ASSET_ID");
        return br_error_set(err, BR_EINVAL, r->source, 1, 2,
                            "the header has no column B (GROUP_ID or RESEARCH_ASSET_ID)");
    }
    r->cols = calloc(r->ncols, sizeof *r->cols);
    r->fix = calloc(MAX_COLUMNS, sizeof *r->fix);
    r->present = calloc(br_ecsv_xwalk_count(r->xw) + 1, 1);
    if (!r->cols || !r->fix || !r->present)
        return br_error_set(err, BR_ENOMEM, r->source, 0, 0, "out of memory");
    int ascii = utf8_row_ascii(r);
    for (unsigned c = 0; c < r->ncols; c++) {
        column *col = &r->cols[c];
        col->row_type = -1;
        if (!ascii && cell_utf8(r, c)) continue;
        const char *s = r->row + r->coff[c];
        size_t n = r->clen[c], b = 0, e = n;
        while (b < e && is_ws((unsigned char)s[b]))
            b++;
        while (e > b && is_ws((unsigned char)s[e - 1]))
            e--;
        if (c == 0) {
            if (n) {
                finding(r, BR_SEV_ERROR, 0, 1, "ecsv.header.a1-not-blank",
                        "cell A1 is left empty; column A holds each row's type",
                        "A1 must be blank, it holds '%s'", shown(r, s, n));
                if (r->fixing) {
                    set_fix(r, 0, "", 0);
                    finding(r, BR_SEV_NOTE, 0, 1, "ecsv.fix.a1-not-blank", NULL, "A1 emptied");
                }
            }
            continue;
        }
        if (b != 0 || e != n) {
            finding(r, BR_SEV_WARNING, (int)c, 1, "ecsv.header.whitespace",
                    "bulkrepo lint --fix trims it",
                    "the header '%s' has whitespace at its start or end", shown(r, s, n));
            if (r->fixing) {
                set_fix(r, c, s + b, e - b);
                finding(r, BR_SEV_NOTE, (int)c, 1, "ecsv.fix.header-whitespace", NULL,
                        "header trimmed to '%s'", shown(r, s + b, e - b));
            }
        }
        if (c == 1) {
            static const char *const keys[] = {"GROUP_ID", "RESEARCH_ASSET_ID"};
            int k = -1;
            for (int i = 0; i < 2; i++)
                if (e - b == strlen(keys[i]) && !strncasecmp(s + b, keys[i], e - b)) k = i;
            if (k < 0) {
                finding(r, BR_SEV_ERROR, 1, 1, "ecsv.header.key-column",
                        "column B is GROUP_ID (new assets) or RESEARCH_ASSET_ID (updates)",
                        "B1 must be GROUP_ID or RESEARCH_ASSET_ID, it holds '%s'", shown(r, s, n));
                return br_error_set(err, BR_EINVAL, r->source, 1, 2,
                                    "B1 must be GROUP_ID or RESEARCH_ASSET_ID, not '%s'",
                                    shown(r, s, n));
            }
            snprintf(r->key_header, sizeof r->key_header, "%.*s", (int)(e - b), s + b);
            r->by_asset_id = k == 1;
            continue;
        }
        if (b == e) {
            finding(r, BR_SEV_WARNING, (int)c, 1, "ecsv.header.blank-column",
                    "name the column or remove it",
                    "column %u has no header; its values are "
                    "ignored",
                    c + 1);
            continue;
        }
        const br_ecsv_field *f = br_ecsv_xwalk_column_n(r->xw, s + b, e - b);
        if (!f) {
            const char *best = NULL;
            unsigned best_d = 4;
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(e - b < 127 ? e - b : 127), s + b);
            for (char *p = name; *p; p++)
                if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
            for (size_t i = 0; i < br_ecsv_xwalk_count(r->xw); i++) {
                unsigned d = br_levenshtein(name, br_ecsv_xwalk_at(r->xw, i)->column);
                if (d < best_d) best_d = d, best = br_ecsv_xwalk_at(r->xw, i)->column;
            }
            char hint[200];
            if (best)
                snprintf(hint, sizeof hint, "did you mean %s?", best);
            else
                snprintf(hint, sizeof hint, "data/esploro_fields.tsv lists the Esploro columns");
            finding(r, BR_SEV_WARNING, (int)c, 1, "ecsv.header.unknown-column", hint,
                    "'%s' is not an Esploro column; its values are ignored", shown(r, s, n));
            continue;
        }
        col->field = f;
        col->row_type = br_ecsv_row_type(f->row, strlen(f->row));
        col->is_title = !strcmp(f->column, "ASSET_TITLE");
        col->is_origid = !strcmp(f->column, "ASSET_ORIGASSET_ID");
        col->is_date = !strcmp(f->category, "dates");
        r->present[f - br_ecsv_xwalk_at(r->xw, 0)] = 1;
        if (f->target[0] == '@') {
            col->structured = 1;
            const char *dot = strchr(f->target, '.');
            col->attr = dot ? dot + 1 : "";
            const attr *a = col->row_type == BR_ECSV_ROW_LINK
                                ? find_attr(LINK_ATTRS, BR_ARRAY_LEN(LINK_ATTRS), col->attr)
                            : col->row_type == BR_ECSV_ROW_FILE
                                ? find_attr(FILE_ATTRS, BR_ARRAY_LEN(FILE_ATTRS), col->attr)
                                : find_attr(CREATOR_ATTRS, BR_ARRAY_LEN(CREATOR_ATTRS), col->attr);
            col->attr_off = a ? a->off : SIZE_MAX;
            col->is_url = !strcmp(col->attr, "url");
        } else if (br_field_parse(f->target, col->schema, col->element, col->qualifier)) {
            return br_error_set(err, BR_EINTERNAL, "data/esploro_fields.tsv", 0, 0,
                                "bad target '%s'", f->target);
        }
        /* Long text keeps its paragraphs as <p>: free-text descriptions, not codes or names. */
        size_t cl = strlen(f->column);
        col->long_text = f->kind == BR_ECSV_TEXT && !f->multi &&
                         (!strcmp(f->category, "description") ||
                          (cl > 4 && !strcmp(f->column + cl - 4, "DESC")) ||
                          (cl > 11 && !strcmp(f->column + cl - 11, "DESCRIPTION")));
    }
    /* Real exports put LINK values under the CREATOR_* columns (notes/formats.md 1.7 item 4):
     * the distance between CREATOR_FAMNAME and LINK_LINKURL in this header. */
    int fam = -1, url = -1;
    r->link_first = INT_MAX;
    r->link_last = -1;
    for (size_t i = 0; i < BR_ARRAY_LEN(MANDATORY); i++)
        r->mandatory_col[i] = -1;
    for (unsigned c = 2; c < r->ncols; c++) {
        const br_ecsv_field *f = r->cols[c].field;
        if (!f) continue;
        for (size_t i = 0; i < BR_ARRAY_LEN(MANDATORY); i++)
            if (r->mandatory_col[i] < 0 && !strcmp(f->column, MANDATORY[i].column))
                r->mandatory_col[i] = (int)c;
        if (r->cols[c].is_date && r->cols[c].row_type == BR_ECSV_ROW_ASSET) r->asset_date_col = 1;
        if (!strcmp(f->column, "CREATOR_FAMNAME") && fam < 0) fam = (int)c;
        if (!strcmp(f->column, "LINK_LINKURL") && url < 0) url = (int)c;
        if (r->cols[c].row_type == BR_ECSV_ROW_LINK) {
            if ((int)c < r->link_first) r->link_first = (int)c;
            if ((int)c > r->link_last) r->link_last = (int)c;
        }
    }
    r->link_shift = fam >= 0 && url > fam ? url - fam : 0;
    r->data_offset = r->buf_off + r->bpos;
    r->high_water = r->data_offset;
    if (r->fixing) {
        r->row_shifted = 0;
        rc = out_row(r, err);
        memset(r->fix, 0, r->ncells * sizeof *r->fix);
        br_buf_clear(&r->fixbuf);
        if (rc) return rc;
    }
    return 0;
}

/* ---- rows --------------------------------------------------------------------------------- */

/* With a repository: an affiliation code must name a known organisational unit. */
static int check_orgunit(br_ecsv_reader *r, unsigned c, const br_ecsv_field *f, const char *code)
{
    int k = br_orgunit_exists(r->repo, code);
    if (k < 0) return k;
    if (k) return 0;
    char best[256], hint[400];
    if (!br_orgunit_suggest(r->repo, code, best, sizeof best))
        snprintf(hint, sizeof hint, "did you mean %s? (bulkrepo orgunit list)", best);
    else
        snprintf(hint, sizeof hint,
                 "add it with bulkrepo orgunit add CODE NAME, or load the "
                 "units with bulkrepo orgunit import FILE.csv");
    finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.value.orgunit-unknown", hint,
            "%s '%s' is not a known organisational unit", f->column, code);
    return 0;
}

/* Per group: what the mandatory-field rule needs. */
typedef struct gstate {
    int started;
    int asset_seen;
    unsigned asset_row;
    int first_type;
    int has_title, has_restype, has_affil, has_date;
    const char *source; /* in the record's arena */
} gstate;

/* The record object a structured row fills (created at its first value). */
typedef struct rowobj {
    int kind; /* 0 none, 1 creator, 2 link, 3 file */
    size_t index;
    unsigned url_col;
    int url_bad; /* its URL broke a rule (reported): it names no file to store */
} rowobj;

static void *obj_ptr(br_record *rec, rowobj *o)
{
    if (o->kind == 1) return &rec->creators[o->index];
    if (o->kind == 2) return &rec->links[o->index];
    if (o->kind == 3) return &rec->bs[o->index];
    return NULL;
}

static int add_value(br_ecsv_reader *r, br_record *rec, gstate *gs, int rt, const column *col,
                     rowobj *o, const char *v, size_t n, unsigned c)
{
    const br_ecsv_field *f = col->field;
    /* Lint keeps no metadata values: they are checked already and nobody reads them (the
     * structured objects stay, for the per-row FILE and LINK rules). */
    if (r->lint_only && !col->structured) return 0;
    br_origin origin = {gs->source, r->rowno, c + 1};
    char *val = br_arena_strndup(rec->arena, v, n);
    if (!val) return BR_ENOMEM;
    if (!col->structured) {
        br_mdv *m = br_record_add_md(rec, col->schema, col->element,
                                     col->qualifier[0] ? col->qualifier : NULL, NULL, val);
        if (!m) return BR_ENOMEM;
        m->origin = origin;
        if (col->is_origid) {
            br_identifier *id = br_record_add_identifier(rec, "origid", val);
            if (!id) return BR_ENOMEM;
            id->origin = origin;
        }
        return 0;
    }
    if (!o->kind) {
        if (rt == BR_ECSV_ROW_LINK) {
            if (!br_record_add_link(rec)) return BR_ENOMEM;
            o->kind = 2, o->index = rec->n_links - 1;
            rec->links[o->index].origin = (br_origin){gs->source, r->rowno, 1};
        } else if (rt == BR_ECSV_ROW_FILE) {
            if (!br_record_add_bitstream(rec, "")) return BR_ENOMEM;
            o->kind = 3, o->index = rec->n_bs - 1;
            rec->bs[o->index].origin = (br_origin){gs->source, r->rowno, 1};
            rec->bs[o->index].name = NULL;
        } else {
            br_creator_role role =
                rt == BR_ECSV_ROW_CONT || rt == BR_ECSV_ROW_OCONT ? BR_CONTRIBUTOR : BR_CREATOR;
            br_creator *cr = br_record_add_creator(rec, role);
            if (!cr) return BR_ENOMEM;
            cr->is_organization = rt == BR_ECSV_ROW_OCREATOR || rt == BR_ECSV_ROW_OCONT;
            cr->origin = (br_origin){gs->source, r->rowno, 1};
            o->kind = 1, o->index = rec->n_creators - 1;
        }
    }
    /* The column's row type is the row's (checked by the caller): the offset is for o. */
    if (col->attr_off == SIZE_MAX) return 0; /* an attribute the model lacks: ignored */
    const char **slot = (const char **)((char *)obj_ptr(rec, o) + col->attr_off);
    if (*slot && **slot) {
        /* A repeated column (legal) for a single-valued attribute: keep the first. */
        finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.cell.duplicate-value",
                "a row holds one value per field; give the other one its own row",
                "%s already has a value on this row", f->column);
        return 0;
    }
    *slot = val;
    if (o->kind == 3 && col->is_url) o->url_col = c;
    return 0;
}

/* Fixes line breaks: long text becomes <p>line</p> paragraphs, anything else one line. */
static void fold_breaks(br_buf *out, const char *s, size_t n, int paragraphs)
{
    br_buf_clear(out);
    size_t i = 0;
    int first = 1;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '\n' && s[j] != '\r')
            j++;
        size_t b = i, e = j;
        while (b < e && is_ws((unsigned char)s[b]))
            b++;
        while (e > b && is_ws((unsigned char)s[e - 1]))
            e--;
        if (e > b) {
            if (paragraphs) {
                br_buf_append(out, "<p>", 3);
                br_buf_append(out, s + b, e - b);
                br_buf_append(out, "</p>", 4);
            } else {
                if (!first) br_buf_append(out, " ", 1);
                br_buf_append(out, s + b, e - b);
            }
            first = 0;
        }
        i = j < n ? j + 1 : j;
    }
    br_buf_append(out, "", 0);
    if (!out->p) br_buf_reserve(out, 1);
    if (out->p) out->p[out->len] = 0;
}

static void fix_note(br_ecsv_reader *r, unsigned c, const char *rule, const char *s, size_t n)
{
    if (!r->fixing) return;
    char fr[96];
    snprintf(fr, sizeof fr, "ecsv.fix.%s", strrchr(rule, '.') + 1);
    finding(r, BR_SEV_NOTE, (int)c, r->rowno, fr, NULL, "fixed: now '%s'", shown(r, s, n));
}

static int has_edge_ws(const char *s, size_t n)
{
    if (!n) return 0;
    if (is_ws((unsigned char)s[0]) || is_ws((unsigned char)s[n - 1])) return 1;
    /* U+00A0 NO-BREAK SPACE at either edge (pasted from web pages and Word) */
    return (n >= 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0) ||
           (n >= 2 && (unsigned char)s[n - 2] == 0xC2 && (unsigned char)s[n - 1] == 0xA0);
}

static void trim_edges(const char **s, size_t *n)
{
    for (;;) {
        if (*n && is_ws((unsigned char)**s))
            (*s)++, (*n)--;
        else if (*n >= 2 && (unsigned char)(*s)[0] == 0xC2 && (unsigned char)(*s)[1] == 0xA0)
            (*s) += 2, (*n) -= 2;
        else
            break;
    }
    for (;;) {
        if (*n && is_ws((unsigned char)(*s)[*n - 1]))
            (*n)--;
        else if (*n >= 2 && (unsigned char)(*s)[*n - 2] == 0xC2 &&
                 (unsigned char)(*s)[*n - 1] == 0xA0)
            (*n) -= 2;
        else
            break;
    }
}

/* Checks one non-empty cell (physical column c, header column eff), fixes it, adds its values. */
static int do_cell(br_ecsv_reader *r, br_record *rec, gstate *gs, int rt, unsigned c, unsigned eff,
                   rowobj *o)
{
    const column *col = &r->cols[eff];
    const br_ecsv_field *f = col->field;
    const char *s = r->row + r->coff[c];
    size_t n = r->clen[c];
    int changed = 0;
    br_buf *work = &r->scratch;
    if (memchr(s, '\n', n) || memchr(s, '\r', n)) {
        fold_breaks(work, s, n, col->long_text);
        finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.value.line-break",
                col->long_text ? "keep paragraphs as <p>...</p>; bulkrepo lint --fix does that"
                               : "write the value on one line; bulkrepo lint --fix joins the lines",
                "%s has a line break", f->column);
        fix_note(r, c, "ecsv.value.line-break", work->p, work->len);
        s = work->p, n = work->len, changed = 1;
    }
    if (has_edge_ws(s, n)) {
        const char *t = s;
        size_t tn = n;
        trim_edges(&t, &tn);
        finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.value.whitespace",
                "Esploro rejects values with leading or trailing whitespace; bulkrepo lint --fix "
                "trims them",
                "%s has whitespace at the start or end of '%s'", f->column, shown(r, s, n));
        fix_note(r, c, "ecsv.value.whitespace", t, tn);
        s = t, n = tn, changed = 1;
    }
    if (!n) {
        if (changed) set_fix(r, c, "", 0);
        return 0;
    }
    if (!f->multi && memchr(s, '@', n) && memmem(s, n, "@@", 2))
        finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.value.multi-not-allowed",
                "only multi-valued fields (ASSET_KEYWORDS, ASSET_AFFILIATION, ...) take @@",
                "%s holds one value, but '%s' has @@", f->column, shown(r, s, n));
    /* Each @@ part: check, fix, add.  The fixed cell is assembled in r->scratch2's twin. */
    br_buf out = {0};
    const char *p = s, *end = s + n;
    int rc = 0, nparts = 0;
    while (p <= end) {
        const char *q = f->multi ? memmem(p, (size_t)(end - p), "@@", 2) : NULL;
        const char *pe = q ? q : end;
        const char *v = p;
        size_t vn = (size_t)(pe - p);
        p = q ? q + 2 : end + 1;
        if (f->multi && has_edge_ws(v, vn)) {
            trim_edges(&v, &vn);
            finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.value.whitespace",
                    "no spaces around @@; bulkrepo lint --fix trims them",
                    "%s has whitespace around the value '%s'", f->column, shown(r, v, vn));
            fix_note(r, c, "ecsv.value.whitespace", v, vn);
            changed = 1;
        }
        if (!vn) {
            finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.value.empty-part",
                    "remove the extra @@; bulkrepo lint --fix does",
                    "%s has an empty value between @@ separators", f->column);
            fix_note(r, c, "ecsv.value.empty-part", "", 0);
            changed = 1;
            continue;
        }
        vres vr;
        check_value(r, f, v, vn, &vr);
        const char *keep = v, *norm = v;
        size_t keep_n = vn, norm_n = vn;
        if (vr.bad) {
            finding(r, BR_SEV_ERROR, (int)c, r->rowno, vr.rule, vr.hint, "%s '%s' %s", f->column,
                    shown(r, v, vn), vr.why);
            if (col->is_url) o->url_bad = 1;
        } else if (vr.fixable) {
            char hint[300];
            snprintf(hint, sizeof hint, "bulkrepo lint --fix writes it as '%s'", vr.fixed);
            finding(r, vr.warn_only ? BR_SEV_WARNING : BR_SEV_ERROR, (int)c, r->rowno, vr.rule,
                    hint, "%s '%s': %s", f->column, shown(r, v, vn), vr.why);
            fix_note(r, c, vr.rule, vr.fixed, strlen(vr.fixed));
            keep = vr.fixed, keep_n = strlen(vr.fixed), changed = 1;
            norm = keep, norm_n = keep_n;
        }
        if (vr.norm[0]) norm = vr.norm, norm_n = strlen(vr.norm);
        if (r->fixing) {
            if (nparts) br_buf_append(&out, "@@", 2);
            br_buf_append(&out, keep, keep_n);
        }
        nparts++;
        if (rt == BR_ECSV_ROW_ASSET) {
            if (f->kind == BR_ECSV_RESTYPE && !vr.bad) gs->has_restype = 1;
            if (f->kind == BR_ECSV_AFFIL) gs->has_affil = 1;
            if (col->is_title) gs->has_title = 1;
            if (col->is_date && !vr.bad) gs->has_date = 1;
        }
        if (f->kind == BR_ECSV_AFFIL && !vr.bad && r->repo) {
            char code[256];
            snprintf(code, sizeof code, "%.*s", (int)(norm_n < 255 ? norm_n : 255), norm);
            rc = check_orgunit(r, c, f, code);
            if (rc) break;
        }
        rc = add_value(r, rec, gs, rt, col, o, norm, norm_n, c);
        if (rc) break;
    }
    if (changed && r->fixing && !rc) set_fix(r, c, out.p ? out.p : "", out.len);
    br_buf_dispose(&out);
    return rc;
}

/* Whether the current LINK row has its values 26 (link_shift) columns left of their headers:
 * every LINK_* cell empty, and every value sits link_shift columns left of a LINK_* column. */
static int link_row_shifted(const br_ecsv_reader *r)
{
    if (!r->link_shift) return 0;
    int any = 0;
    for (unsigned c = 2; c < r->ncells; c++) {
        if (!r->clen[c]) continue;
        if (c < r->ncols && r->cols[c].row_type == BR_ECSV_ROW_LINK) return 0;
        unsigned t = c + (unsigned)r->link_shift;
        if (t >= r->ncols || r->cols[t].row_type != BR_ECSV_ROW_LINK) return 0;
        any = 1;
    }
    return any;
}

static int cell_is_empty_row(const br_ecsv_reader *r)
{
    for (unsigned c = 2; c < r->ncells; c++)
        if (r->clen[c]) return 0;
    return 1;
}

/* Checks the current row (of type rt, -1 when unknown) and adds its values to rec. */
static int do_row(br_ecsv_reader *r, br_record *rec, gstate *gs, int rt)
{
    int ascii = utf8_row_ascii(r);
    r->row_shifted = 0;
    if (rt < 0) return 0;
    if (rt == BR_ECSV_ROW_LINK && link_row_shifted(r)) {
        r->row_shifted = 1;
        unsigned first = 2;
        while (!r->clen[first])
            first++;
        char cell[16];
        cell_name(first + (unsigned)r->link_shift, r->rowno, cell);
        finding(r, BR_SEV_WARNING, (int)first, r->rowno, "ecsv.row.link-shift",
                "Esploro's CSV export writes LINK values under the CREATOR_* columns; bulkrepo "
                "lint --fix moves them under their LINK_* headers",
                "the values of this LINK row sit %d columns left of their headers (%s is read "
                "as %s)",
                r->link_shift, r->cols[first].field ? r->cols[first].field->column : "?", cell);
        if (r->fixing)
            finding(r, BR_SEV_NOTE, (int)first, r->rowno, "ecsv.fix.link-shift", NULL,
                    "fixed: the LINK values moved %d columns right", r->link_shift);
    }
    rowobj o = {0};
    int extra_reported = 0;
    for (unsigned c = 2; c < r->ncells; c++) {
        if (!r->clen[c]) continue;
        if (c >= r->ncols) {
            if (!extra_reported)
                finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.row.too-long",
                        "every value sits under a header; add the header or remove the value",
                        "row %u has a value in column %u, past the header's last column (%u)",
                        r->rowno, c + 1, r->ncols);
            extra_reported = 1;
            continue;
        }
        if (!ascii && cell_utf8(r, c)) continue;
        unsigned eff = r->row_shifted ? c + (unsigned)r->link_shift : c;
        const column *col = &r->cols[eff];
        if (!col->field) continue; /* unknown column: reported once at the header */
        if (col->row_type != rt) {
            char hint[200];
            snprintf(hint, sizeof hint,
                     "a value goes where row type and column prefix match: move it to a %s row",
                     col->field->row);
            finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.cell.row-type-mismatch", hint,
                    "%s has a value on an %s row", col->field->column, br_ecsv_row_names[rt]);
            continue;
        }
        int rc = do_cell(r, rec, gs, rt, c, eff, &o);
        if (rc) return rc;
    }
    if (o.kind == 3) {
        br_bitstream *b = &rec->bs[o.index];
        if (!b->url || !*b->url) {
            finding(r, BR_SEV_ERROR, 0, r->rowno, "ecsv.file.url-missing",
                    "FILE_FILEURL names the file: an http(s):// or file:// URL, or a path "
                    "relative to the CSV",
                    "this FILE row has no FILE_FILEURL");
        } else {
            const char *u = b->url;
            if (o.url_bad) {
                /* reported by check_value (e.g. ecsv.file.path-escapes): no path */
            } else if (!strncasecmp(u, "file://", 7)) {
                /* file:///abs/path, percent-decoded */
                const char *pth = u + 7;
                char *dec = br_arena_alloc(rec->arena, strlen(pth) + 1), *d = dec;
                if (!dec) return BR_ENOMEM;
                for (const char *q = pth; *q; q++) {
                    int hi, lo;
                    if (*q == '%' && q[1] && q[2] && sscanf(q + 1, "%1x%1x", &hi, &lo) == 2)
                        *d++ = (char)(hi * 16 + lo), q += 2;
                    else
                        *d++ = *q;
                }
                *d = 0;
                if (dec[0] != '/')
                    finding(r, BR_SEV_ERROR, (int)o.url_col, r->rowno, "ecsv.file.url",
                            "a file URL is file:///absolute/path", "'%s' is not a local file URL",
                            u);
                else
                    b->path = dec;
            } else if (strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8)) {
                if (u[0] == '/') {
                    b->path = u;
                } else {
                    char *full = br_arena_alloc(rec->arena, strlen(r->dir) + strlen(u) + 2);
                    if (!full) return BR_ENOMEM;
                    sprintf(full, "%s/%s", r->dir, u);
                    b->path = full;
                }
            }
            if (!b->name || !*b->name) {
                const char *base = u, *q;
                size_t bl;
                const char *stop = u + strcspn(u, "?#");
                for (q = u; q < stop; q++)
                    if (*q == '/') base = q + 1;
                bl = (size_t)(stop - base);
                b->name = bl ? br_arena_strndup(rec->arena, base, bl) : "file";
                if (!b->name) return BR_ENOMEM;
            }
        }
    } else if (o.kind == 2 && (!rec->links[o.index].url || !*rec->links[o.index].url)) {
        finding(r, BR_SEV_ERROR, 0, r->rowno, "ecsv.link.url-missing",
                "LINK_LINKURL holds the link's http(s):// URL",
                "this LINK row has no LINK_LINKURL");
    }
    return 0;
}

/* ---- groups ------------------------------------------------------------------------------- */

static int set_gkey(br_ecsv_reader *r, const char *s, size_t n)
{
    if (n + 1 > r->gkey_cap) {
        char *p = realloc(r->gkey, n + 64);
        if (!p) return BR_ENOMEM;
        r->gkey = p;
        r->gkey_cap = n + 64;
    }
    memcpy(r->gkey, s, n);
    r->gkey[n] = 0;
    return 0;
}

/* End of a group: the rules that need all its rows. */
static int close_group(br_ecsv_reader *r, gstate *gs, br_ecsv_group *g, br_error *err)
{
    unsigned save = r->rowno;
    r->cur_rowtype = "ASSET";
    if (!gs->asset_seen) {
        r->cur_rowtype = NULL;
        finding(r, BR_SEV_ERROR, 0, g->first_row, "ecsv.group.asset-missing",
                "every group has exactly one ASSET row, its first row", "group %s has no ASSET row",
                r->gkey);
    } else {
        const int have[BR_ARRAY_LEN(MANDATORY)] = {gs->has_title, gs->has_restype, gs->has_affil};
        for (size_t i = 0; i < BR_ARRAY_LEN(MANDATORY); i++) {
            int col = r->mandatory_col[i];
            if (have[i] || (g->by_asset_id && col < 0)) continue; /* update: absent is kept */
            finding(r, BR_SEV_ERROR, col >= 0 ? col : 0, gs->asset_row, "ecsv.group.mandatory",
                    "ASSET_TITLE, ASSET_RESTYPE, ASSET_AFFILIATION and one ASSET date are "
                    "mandatory",
                    "%s is missing: every asset needs %s", MANDATORY[i].column, MANDATORY[i].what);
        }
        if (!gs->has_date && !(g->by_asset_id && !r->asset_date_col))
            finding(r, BR_SEV_ERROR, 0, gs->asset_row, "ecsv.group.mandatory",
                    "give at least one ASSET date, e.g. ASSET_PUBLISHDATE as YYYYMMDD",
                    "the asset has no date: at least one ASSET date column is mandatory");
    }
    if (r->repo && g->by_asset_id) {
        int64_t id;
        br_error e;
        int rc = br_item_find(r->repo, r->gkey, &id, &e);
        if (rc == BR_ENOTFOUND)
            finding(r, BR_SEV_ERROR, 1, g->first_row, "ecsv.group.asset-id-unknown",
                    "RESEARCH_ASSET_ID names an existing item by handle or UUID; use GROUP_ID "
                    "for new assets",
                    "RESEARCH_ASSET_ID '%s' is not an item of the repository", r->gkey);
        else if (rc) {
            if (err) *err = e;
            return rc;
        }
    }
    r->cur_rowtype = NULL;
    r->rowno = save;
    return 0;
}

int br_ecsv_next(br_ecsv_reader *r, br_record *rec, br_ecsv_group *g, br_error *err)
{
    br_record_reset(rec);
    memset(g, 0, sizeof *g);
    gstate gs = {0};
    gs.first_type = -1;
    r->g_errors = r->g_warnings = 0;
    int rc;
    for (;;) {
        if (!r->pending) {
            rc = read_row(r, err);
            if (rc < 0) return rc;
            if (rc == 0) break;
            r->pending = 1;
        }
        if (r->fixing) {
            memset(r->fix, 0, r->ncells * sizeof *r->fix);
            br_buf_clear(&r->fixbuf);
        }
        const char *ts = r->row + r->coff[0], *ks = r->ncells > 1 ? r->row + r->coff[1] : "";
        size_t tn = r->clen[0], kn = r->ncells > 1 ? r->clen[1] : 0;
        const char *kt = ks;
        size_t ktn = kn;
        trim_edges(&kt, &ktn);
        if (!gs.started && ktn) {
            /* A new group. */
            if ((rc = set_gkey(r, kt, ktn)))
                return br_error_set(err, rc, NULL, 0, 0, "out of memory");
            gs.started = 1;
            /* The key names the asset in the mapfile ("<key> <handle>" per line), the job
             * journal and JSON reports: one line of UTF-8. */
            r->gkey_bad = br_utf8_check(kt, ktn, NULL) != 0;
            for (size_t i = 0; i < ktn && !r->gkey_bad; i++)
                r->gkey_bad = (unsigned char)kt[i] < 0x20 || kt[i] == 0x7f;
            if (r->gkey_bad)
                finding(r, BR_SEV_ERROR, 1, r->rowno, "ecsv.group.key-invalid",
                        "a group key is one line of UTF-8 text without control characters",
                        "the group key '%s' has a line break, a control character or bytes that "
                        "are not UTF-8",
                        shown(r, kt, ktn));
            gs.source = br_record_str(rec, r->source);
            rec->key = br_record_str(rec, r->gkey);
            g->key = r->gkey;
            g->by_asset_id = r->by_asset_id;
            g->first_row = r->rowno;
            g->offset = r->row_offset;
            if (r->n_recent < RECENT_GROUPS)
                r->recent[r->n_recent++] = (checkpoint){r->row_offset, r->rowno};
            else
                r->recent[(r->groups) % RECENT_GROUPS] = (checkpoint){r->row_offset, r->rowno};
            if (r->row_offset >= r->high_water) {
                int seen = keyset_add(&r->keys, hash64(kt, ktn));
                if (seen < 0) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
                if (seen)
                    finding(r, BR_SEV_ERROR, 1, r->rowno, "ecsv.group.split",
                            "keep the rows of a group together; two assets cannot share a key",
                            "group %s appeared earlier in the file", r->gkey);
            }
        } else if (gs.started && ktn && (ktn != strlen(r->gkey) || memcmp(kt, r->gkey, ktn))) {
            break; /* the row starts the next group: it stays pending */
        }
        r->pending = 0;
        r->rows++;
        /* The row's type. */
        int rt = br_ecsv_row_type(ts, tn);
        r->cur_rowtype = rt >= 0 ? br_ecsv_row_names[rt] : NULL;
        if (!ktn) {
            /* Templates emit typed rows with no key and no values: no-ops. */
            if (!cell_is_empty_row(r))
                finding(r, BR_SEV_ERROR, 1, r->rowno, "ecsv.row.key-missing",
                        "column B holds the group key of every row",
                        "row %u has no group key in column B", r->rowno);
            rt = -1;
        } else if (rt < 0) {
            if (tn)
                finding(r, BR_SEV_ERROR, 0, r->rowno, "ecsv.row.type-unknown",
                        "column A is ASSET, PRTOF, CREATOR, OCREATOR, CONT, OCONT, LINK or FILE",
                        "'%s' is not a row type", shown(r, ts, tn));
            else if (!cell_is_empty_row(r))
                finding(r, BR_SEV_ERROR, 0, r->rowno, "ecsv.row.type-missing",
                        "column A is ASSET, PRTOF, CREATOR, OCREATOR, CONT, OCONT, LINK or FILE",
                        "the row has values but no row type in column A");
        } else {
            if (memcmp(ts, br_ecsv_row_names[rt], tn)) {
                char hint[120];
                snprintf(hint, sizeof hint, "bulkrepo lint --fix writes it as %s",
                         br_ecsv_row_names[rt]);
                finding(r, BR_SEV_WARNING, 0, r->rowno, "ecsv.value.enum-case", hint,
                        "the row type '%s' is written %s", shown(r, ts, tn), br_ecsv_row_names[rt]);
                set_fix(r, 0, br_ecsv_row_names[rt], strlen(br_ecsv_row_names[rt]));
                fix_note(r, 0, "ecsv.value.enum-case", br_ecsv_row_names[rt],
                         strlen(br_ecsv_row_names[rt]));
            }
            if (kt != ks || ktn != kn) {
                finding(r, BR_SEV_ERROR, 1, r->rowno, "ecsv.value.whitespace",
                        "bulkrepo lint --fix trims it",
                        "the group key '%s' has whitespace at its start or end", shown(r, ks, kn));
                set_fix(r, 1, kt, ktn);
                fix_note(r, 1, "ecsv.value.whitespace", kt, ktn);
            }
            if (gs.first_type < 0) gs.first_type = rt;
            if (rt == BR_ECSV_ROW_ASSET) {
                if (gs.asset_seen) {
                    finding(r, BR_SEV_ERROR, 0, r->rowno, "ecsv.group.asset-duplicate",
                            "one ASSET row per group; two assets cannot share a key",
                            "group %s already has an ASSET row (row %u)", r->gkey, gs.asset_row);
                    rt = -1; /* its values are not read */
                } else {
                    gs.asset_seen = 1;
                    gs.asset_row = r->rowno;
                    if (gs.first_type != BR_ECSV_ROW_ASSET)
                        finding(r, BR_SEV_ERROR, 0, r->rowno, "ecsv.group.asset-not-first",
                                "the ASSET row is the first row of its group",
                                "the ASSET row of group %s comes after the group's other rows",
                                r->gkey);
                }
            }
        }
        rc = do_row(r, rec, &gs, rt);
        if (rc) return br_error_set(err, rc, r->source, r->rowno, 0, "out of memory");
        if (r->fixing && (rc = out_row(r, err))) return rc;
        r->cur_rowtype = NULL;
        if (!gs.started) {
            /* A row without a key before any group: nothing to return yet. */
            continue;
        }
        g->last_row = r->rowno;
    }
    if (!gs.started) return 0;
    r->groups++;
    if ((rc = close_group(r, &gs, g, err))) return rc;
    if (r->row_offset > r->high_water) r->high_water = r->row_offset;
    if (!r->pending) r->high_water = UINT64_MAX;
    g->errors = r->g_errors;
    g->warnings = r->g_warnings;
    return 1;
}

/* ---- open, seek, close -------------------------------------------------------------------- */

/* fixing: 1 lint with fixes, 0 lint, -1 a reader (records filled). */
static int open_reader(const char *path, const br_ecsv_options *opt, int fixing,
                       br_ecsv_reader **out, br_error *err)
{
    *out = NULL;
    int rc = 0;
    br_ecsv_reader *r = calloc(1, sizeof *r);
    if (!r) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    r->fd = r->fd_out = -1;
    r->source = path;
    if (opt && opt->limits.max_field)
        r->lim = opt->limits;
    else
        br_limits_default(&r->lim);
    r->repo = opt ? opt->repo : NULL;
    r->diags = opt ? opt->diags : NULL;
    r->row_cap = 64 * 1024;
    /* A row holds at most a few cells at the cap: enough for real rows, bounded for bad ones. */
    r->row_max = r->lim.max_field * 4 + 64 * 1024;
    r->path = strdup(path);
    r->buf = malloc(READ_BUF);
    r->row = malloc(r->row_cap);
    r->coff = malloc(MAX_COLUMNS * sizeof *r->coff);
    r->clen = malloc(MAX_COLUMNS * sizeof *r->clen);
    if (!r->path || !r->buf || !r->row || !r->coff || !r->clen) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    char *slash = strrchr(r->path, '/');
    r->dir = slash ? strndup(r->path, (size_t)(slash - r->path)) : strdup(".");
    if (!r->dir || (slash && !*r->dir && (free(r->dir), !(r->dir = strdup("/"))))) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    if ((rc = br_ecsv_xwalk_new(&r->xw, err))) goto done;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        rc = br_error_set(err, errno == ENOENT ? BR_ENOTFOUND : BR_EIO, path, 0, 0,
                          "cannot open: %s", strerror(errno));
        goto done;
    }
    struct stat st;
    if (fstat(r->fd, &st) || S_ISDIR(st.st_mode)) {
        rc = br_error_set(err, BR_EIO, path, 0, 0, "not a readable file");
        goto done;
    }
    r->lint_only = fixing >= 0;
    if (fixing > 0) {
        r->fixing = 1;
        r->fix_path = opt->fix_path;
        int n = snprintf(r->tmp_path, sizeof r->tmp_path, "%s.tmp.XXXXXX", opt->fix_path);
        if (n < 0 || (size_t)n >= sizeof r->tmp_path) {
            rc = br_error_set(err, BR_ELIMIT, opt->fix_path, 0, 0, "path too long");
            goto done;
        }
        r->fd_out = mkstemp(r->tmp_path);
        if (r->fd_out < 0) {
            rc = br_error_set(err, BR_EIO, opt->fix_path, 0, 0, "cannot create: %s",
                              strerror(errno));
            r->tmp_path[0] = 0;
            goto done;
        }
        fchmod(r->fd_out, 0644);
        if (!(r->wbuf = malloc(WRITE_BUF))) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
    }
    if ((rc = fill(r, err))) goto done;
    /* A UTF-8 byte-order mark (Excel writes one) is accepted and not part of A1. */
    if (r->blen >= 3 && !memcmp(r->buf, "\xEF\xBB\xBF", 3)) {
        r->bpos = 3;
        if (r->fixing)
            finding(r, BR_SEV_NOTE, -1, 1, "ecsv.fix.bom", NULL,
                    "the UTF-8 byte-order mark is dropped");
    }
    if ((rc = parse_header(r, err))) goto done;
    *out = r;
    r = NULL;
done:
    br_ecsv_close(r);
    return rc;
}

int br_ecsv_open(const char *path, const br_ecsv_options *opt, br_ecsv_reader **out, br_error *err)
{
    /* Only br_ecsv_lint writes fixes: a reader never writes. */
    return open_reader(path, opt, -1, out, err);
}

/* The row number at `offset`: counted forward from the closest known row start before it,
 * quote-aware, as read_row splits rows (a line of nothing but a line end is no row). */
static int row_at(br_ecsv_reader *r, uint64_t offset, unsigned *row, br_error *err)
{
    checkpoint best = {r->data_offset, 2};
    for (unsigned i = 0; i < r->n_recent; i++)
        if (r->recent[i].offset <= offset && r->recent[i].offset >= best.offset)
            best = r->recent[i];
    uint64_t pos = best.offset;
    unsigned n = best.row;
    int inq = 0, content = 0;
    while (pos < offset) {
        size_t want = offset - pos < READ_BUF ? (size_t)(offset - pos) : READ_BUF;
        ssize_t got = pread(r->fd, r->buf, want, (off_t)pos);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0)
            return br_error_set(err, BR_EIO, r->source, 0, 0, "cannot read: %s",
                                got < 0 ? strerror(errno) : "offset past the end of the file");
        for (ssize_t i = 0; i < got; i++) {
            char ch = r->buf[i];
            if (ch == '"') inq = !inq;
            if (inq) {
                content = 1;
            } else if (ch == '\n' || ch == '\r') {
                n += content;
                content = 0;
            } else {
                content = 1;
            }
        }
        pos += (uint64_t)got;
    }
    *row = n;
    return 0;
}

int br_ecsv_seek(br_ecsv_reader *r, uint64_t offset, br_error *err)
{
    if (r->fixing) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a linting reader cannot seek");
    if (offset < r->data_offset)
        return br_error_set(err, BR_EUSAGE, r->source, 0, 0, "offset %llu is inside the header",
                            (unsigned long long)offset);
    unsigned row = 2;
    int rc = row_at(r, offset, &row, err);
    if (rc) return rc;
    if (lseek(r->fd, (off_t)offset, SEEK_SET) < 0)
        return br_error_set(err, BR_EIO, r->source, 0, 0, "cannot seek: %s", strerror(errno));
    r->buf_off = offset;
    r->blen = r->bpos = 0;
    r->eof = 0;
    r->skip_lf = 0;
    r->pending = 0;
    r->rowno = row - 1;
    return 0;
}

int br_ecsv_has_target(const br_ecsv_reader *r, const char *target)
{
    if (!r || !target) return 0;
    size_t tl = strlen(target);
    for (size_t i = 0; i < br_ecsv_xwalk_count(r->xw); i++) {
        if (!r->present[i]) continue;
        const char *t = br_ecsv_xwalk_at(r->xw, i)->target;
        if (!strcmp(t, target)) return 1;
        if (target[0] == '@' && !strchr(target, '.') && !strncmp(t, target, tl) && t[tl] == '.')
            return 1;
    }
    return 0;
}

const char *br_ecsv_key_header(const br_ecsv_reader *r)
{
    return r ? r->key_header : NULL;
}

void br_ecsv_close(br_ecsv_reader *r)
{
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    if (r->fd_out >= 0) close(r->fd_out);
    if (r->tmp_path[0]) unlink(r->tmp_path); /* not renamed: the partial output goes */
    br_ecsv_xwalk_free(r->xw);
    free(r->path);
    free(r->dir);
    free(r->buf);
    free(r->row);
    free(r->coff);
    free(r->clen);
    free(r->cols);
    free(r->fix);
    free(r->present);
    free(r->keys.slots);
    free(r->gkey);
    free(r->wbuf);
    br_buf_dispose(&r->fixbuf);
    br_buf_dispose(&r->scratch);
    br_buf_dispose(&r->scratch2);
    free(r);
}

/* ---- lint --------------------------------------------------------------------------------- */

static int finish_fix(br_ecsv_reader *r, br_error *err)
{
    int rc = out_flush(r, err);
    if (rc) return rc;
    if (fsync(r->fd_out) || close(r->fd_out)) {
        r->fd_out = -1;
        return br_error_set(err, BR_EIO, r->fix_path, 0, 0, "cannot write: %s", strerror(errno));
    }
    r->fd_out = -1;
    if (rename(r->tmp_path, r->fix_path))
        return br_error_set(err, BR_EIO, r->fix_path, 0, 0, "cannot rename into place: %s",
                            strerror(errno));
    r->tmp_path[0] = 0;
    return 0;
}

int br_ecsv_lint(const char *path, const br_ecsv_options *opt, br_ecsv_summary *sum, br_error *err)
{
    memset(sum, 0, sizeof *sum);
    br_ecsv_reader *r = NULL;
    br_record *rec = br_record_new();
    if (!rec) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int fixing = opt && opt->fix_path;
    int rc = open_reader(path, opt, fixing, &r, err);
    if (rc == BR_EINVAL) {
        /* The header is unusable: the finding is out, the pass stops. */
        sum->errors = 1;
        goto done;
    }
    if (rc) goto done;
    br_ecsv_group g;
    while ((rc = br_ecsv_next(r, rec, &g, err)) == 1)
        ;
    /* A malformed row (unterminated quote...) or a cap stops the pass: reported as a finding. */
    if (!rc && r->fixing && r->saw_cr)
        finding(r, BR_SEV_NOTE, -1, 0, "ecsv.fix.crlf", NULL, "CRLF line ends are written as LF");
    if (!rc && r->fixing) rc = finish_fix(r, err);
done:
    if (r) {
        sum->bytes = r->buf_off + r->bpos;
        sum->rows = r->rows;
        sum->groups = r->groups;
        sum->errors += r->errors;
        sum->warnings = r->warnings;
        sum->fixes = r->fixes;
    }
    br_ecsv_close(r);
    br_record_free(rec);
    return rc;
}
