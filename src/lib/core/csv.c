/* CSV (RFC 4180) reader and writer; contracts in csv.h.
 *
 * The scanner is the one the Esploro linter was measured with (it replaced
 * libcsv, which calls back per cell and copies every cell through its own
 * growing buffer): runs of plain bytes are skipped with a table and copied once
 * into the record buffer, quoted runs are found with memchr.  Line breaks inside
 * quoted cells are counted so that every record knows its physical line. */
#define _GNU_SOURCE
#include "core/csv.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/core.h"

#define READ_BUF          (64 * 1024)
#define WRITE_BUF         (64 * 1024)
#define DEFAULT_MAX_CELL  ((size_t)16 << 20)
#define DEFAULT_MAX_COLS  2048u
#define RECORD_START_SIZE (64 * 1024)

enum scan_state {
    SCAN_START,  /* at the start of a cell */
    SCAN_PLAIN,  /* inside an unquoted cell */
    SCAN_QUOTED, /* inside a quoted cell */
    SCAN_QUOTE,  /* a quote inside a quoted cell: the end, or the first of "" */
};

/* Bytes that end a run of plain cell text (NUL: to flag the record). */
static const unsigned char SPECIAL[256] = {[','] = 1, ['"'] = 1, ['\n'] = 1, ['\r'] = 1, [0] = 1};

struct br_csv_reader {
    int fd, own_fd;
    char *owned_source;
    const char *source;
    size_t max_cell, max_record;
    unsigned max_columns;

    char *buf;
    size_t blen, bpos;
    uint64_t buf_off; /* file offset of buf[0] */
    int eof;
    int at_start; /* the next fill reads offset 0: a BOM may follow */
    int bom;

    int state;
    int skip_lf; /* the last line ended with CR: a following LF belongs to it */
    int prev_cr; /* inside a quoted cell, the last byte was CR */
    unsigned line;
    unsigned quote_line; /* where the open quoted cell began */

    char *row; /* the record buffer: every cell's bytes, one after the other */
    size_t row_cap;
    size_t *coff; /* the cells' offsets while the record buffer moves */
    br_csv_cell *cells;
    unsigned ncells; /* cells of the record that faulted */
    int has_nul;

    br_csv_fault fault;
    int fault_rc;
};

/* ---- reading ------------------------------------------------------------------------------ */

static int reader_new(const char *source, const br_csv_read_options *opt, br_csv_reader **out,
                      br_error *err)
{
    *out = NULL;
    br_csv_reader *r = calloc(1, sizeof *r);
    if (!r) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    r->fd = -1;
    r->source = source;
    r->max_cell = opt && opt->max_cell ? opt->max_cell : DEFAULT_MAX_CELL;
    if (r->max_cell > UINT32_MAX - 1) r->max_cell = UINT32_MAX - 1;
    r->max_record = opt && opt->max_record ? opt->max_record : r->max_cell * 4 + 64 * 1024;
    r->max_columns = opt && opt->max_columns ? opt->max_columns : DEFAULT_MAX_COLS;
    r->line = 1;
    r->row_cap = RECORD_START_SIZE < r->max_record ? RECORD_START_SIZE : r->max_record;
    r->buf = malloc(READ_BUF);
    r->row = malloc(r->row_cap);
    r->coff = malloc(r->max_columns * sizeof *r->coff);
    r->cells = malloc(r->max_columns * sizeof *r->cells);
    if (!r->buf || !r->row || !r->coff || !r->cells) {
        br_csv_reader_free(r);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    *out = r;
    return 0;
}

int br_csv_reader_open_fd(int fd, const char *source, const br_csv_read_options *opt,
                          br_csv_reader **out, br_error *err)
{
    int rc = reader_new(source, opt, out, err);
    if (rc) return rc;
    br_csv_reader *r = *out;
    r->fd = fd;
    off_t at = lseek(fd, 0, SEEK_CUR);
    r->buf_off = at > 0 ? (uint64_t)at : 0; /* a pipe cannot tell: 0 */
    r->at_start = r->buf_off == 0;
    return 0;
}

int br_csv_reader_open(const char *path, const br_csv_read_options *opt, br_csv_reader **out,
                       br_error *err)
{
    *out = NULL;
    br_csv_reader *r = NULL;
    int rc = 0, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return br_error_set(err, errno == ENOENT ? BR_ENOTFOUND : BR_EIO, path, 0, 0,
                            "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || S_ISDIR(st.st_mode)) {
        rc = br_error_set(err, BR_EIO, path, 0, 0, "not a readable file");
        goto done;
    }
    if ((rc = br_csv_reader_open_fd(fd, path, opt, &r, err))) goto done;
    r->own_fd = 1;
    if (!(r->owned_source = strdup(path))) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    r->source = r->owned_source;
    *out = r;
    r = NULL;
    fd = -1;
done:
    if (r) r->own_fd = 0; /* fd is closed below */
    br_csv_reader_free(r);
    if (fd >= 0) close(fd);
    return rc;
}

void br_csv_reader_free(br_csv_reader *r)
{
    if (!r) return;
    if (r->own_fd && r->fd >= 0) close(r->fd);
    free(r->owned_source);
    free(r->buf);
    free(r->row);
    free(r->coff);
    free(r->cells);
    free(r);
}

br_csv_fault br_csv_fault_of(const br_csv_reader *r)
{
    return r->fault;
}

uint64_t br_csv_tell(const br_csv_reader *r)
{
    return r->buf_off + r->bpos;
}

unsigned br_csv_line(const br_csv_reader *r)
{
    return r->line;
}

int br_csv_had_bom(const br_csv_reader *r)
{
    return r->bom;
}

static int fill(br_csv_reader *r, br_error *err)
{
    r->buf_off += r->blen;
    r->blen = r->bpos = 0;
    for (;;) {
        ssize_t n = read(r->fd, r->buf, READ_BUF);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            r->fault = (br_csv_fault){BR_CSV_IO, r->line, 0};
            return r->fault_rc = br_error_set(err, BR_EIO, r->source, 0, 0, "cannot read: %s",
                                              strerror(errno));
        }
        if (n == 0) r->eof = 1;
        r->blen = (size_t)n;
        break;
    }
    if (r->at_start) {
        r->at_start = 0;
        if (r->blen >= 3 && !memcmp(r->buf, "\xEF\xBB\xBF", 3)) r->bpos = 3, r->bom = 1;
    }
    return 0;
}

/* Stops the read at a fault in the current record. */
static int fault(br_csv_reader *r, br_csv_fault_kind kind, unsigned line, br_error *err)
{
    static const struct {
        int code;
        const char *what;
    } WHY[] = {
        [BR_CSV_CELL_TOO_LARGE] = {BR_ELIMIT, "a cell is larger than %zu bytes"},
        [BR_CSV_RECORD_TOO_LARGE] = {BR_ELIMIT, "the record is larger than %zu bytes"},
        [BR_CSV_TOO_MANY_COLUMNS] = {BR_ELIMIT, "the record has more than %zu cells"},
        [BR_CSV_UNTERMINATED] = {BR_EINVAL, "a quoted cell is not closed before the end"},
        [BR_CSV_TEXT_AFTER_QUOTE] = {BR_EINVAL, "text after the closing quote of a cell"},
        [BR_CSV_QUOTE_INSIDE_CELL] = {BR_EINVAL, "a quote in the middle of a cell"},
        [BR_CSV_NOMEM] = {BR_ENOMEM, "out of memory"},
    };
    size_t cap = kind == BR_CSV_CELL_TOO_LARGE     ? r->max_cell
                 : kind == BR_CSV_RECORD_TOO_LARGE ? r->max_record
                                                   : r->max_columns;
    char what[120];
    snprintf(what, sizeof what, WHY[kind].what, cap);
    r->fault = (br_csv_fault){kind, line, r->ncells};
    r->fault_rc = WHY[kind].code;
    return br_error_set(err, r->fault_rc, r->source, line, r->ncells + 1, "line %u: %s", line,
                        what);
}

/* The record being scanned, kept in locals of br_csv_next (stores into the
 * record buffer would otherwise make the compiler reload every field of the
 * reader after each one). */
typedef struct scan {
    char *row;
    size_t len;    /* bytes in row */
    size_t cstart; /* where the current cell starts */
    size_t cap;
    unsigned nc; /* cells ended */
    int quoted;  /* the current cell is quoted */
} scan;

/* Makes room for `need` bytes in the record buffer (row, holding nc cells), within the
 * record's cap; the views of the cells already ended move with it.  Takes and gives
 * the scan's fields by value: its address must not escape, or it leaves the registers. */
static br_csv_fault_kind grow(br_csv_reader *r, char *row, unsigned nc, size_t need)
{
    size_t cap = r->row_cap;
    while (cap < need)
        cap *= 2;
    if (cap > r->max_record) cap = r->max_record;
    if (need > cap) return BR_CSV_RECORD_TOO_LARGE;
    for (unsigned i = 0; i < nc; i++)
        r->coff[i] = (size_t)(r->cells[i].p - row);
    char *p = realloc(row, cap);
    if (!p) return BR_CSV_NOMEM;
    for (unsigned i = 0; i < nc; i++)
        r->cells[i].p = p + r->coff[i];
    r->row = p;
    r->row_cap = cap;
    return BR_CSV_OK;
}

/* grow, then the scan's new buffer. */
#define GROW(r, s, need)                                                                           \
    ((k_ = grow((r), (s)->row, (s)->nc, (need)))                                                   \
         ? k_                                                                                      \
         : ((s)->row = (r)->row, (s)->cap = (r)->row_cap, 0))

/* Appends n bytes to the cell being scanned; 0 or the fault. */
static inline br_csv_fault_kind row_append(br_csv_reader *r, scan *s, const char *p, size_t n)
{
    if (s->len + n - s->cstart > r->max_cell) return BR_CSV_CELL_TOO_LARGE;
    br_csv_fault_kind k_;
    if (s->len + n > s->cap && GROW(r, s, s->len + n)) return k_;
    memcpy(s->row + s->len, p, n);
    s->len += n;
    return BR_CSV_OK;
}

/* Ends the cell being scanned.  Its bytes stay where they are (no terminator is
 * written): ending the many empty cells of a template row is only the view's stores. */
static inline br_csv_fault_kind end_cell(br_csv_reader *r, scan *s)
{
    if (s->nc >= r->max_columns) return BR_CSV_TOO_MANY_COLUMNS;
    br_csv_cell *c = &r->cells[s->nc++];
    c->p = s->row + s->cstart;
    c->len = (uint32_t)(s->len - s->cstart);
    c->quoted = s->quoted;
    s->cstart = s->len;
    s->quoted = 0;
    return BR_CSV_OK;
}

/* Counts the line breaks in s[0..n) of a quoted cell (CRLF once, also when
 * split between two reads). */
static void count_lines(br_csv_reader *r, const char *s, size_t n)
{
    if (!memchr(s, '\r', n)) {
        const char *p = s, *e = s + n;
        if (r->prev_cr && *p == '\n') p++;
        while (p < e && (p = memchr(p, '\n', (size_t)(e - p))))
            r->line++, p++;
    } else {
        for (size_t i = 0; i < n; i++)
            if (s[i] == '\r' || (s[i] == '\n' && !(i ? s[i - 1] == '\r' : r->prev_cr))) r->line++;
    }
    r->prev_cr = s[n - 1] == '\r';
}

static int finish_record(br_csv_reader *r, const scan *s, br_csv_record *rec, uint64_t offset,
                         unsigned line)
{
    rec->cells = r->cells;
    rec->n = s->nc;
    rec->line = line;
    rec->lines = r->line - line + 1;
    rec->offset = offset;
    rec->data = s->row;
    rec->size = s->len;
    rec->has_nul = r->has_nul;
    rec->cr = 0;
    return 1;
}

/* Stops the read at a fault in the record being scanned (cell s->nc). */
static int scan_fault(br_csv_reader *r, const scan *s, br_csv_fault_kind kind, unsigned line,
                      br_error *err)
{
    r->ncells = s->nc;
    return fault(r, kind, line, err);
}

int br_csv_next(br_csv_reader *r, br_csv_record *rec, br_error *err)
{
    if (r->fault_rc)
        return br_error_set(err, r->fault_rc, r->source, r->fault.line, 0,
                            "line %u: reading stopped here", r->fault.line);
    scan s = {r->row, 0, 0, r->row_cap, 0, 0};
    r->state = SCAN_START;
    r->has_nul = 0;
    int content = 0; /* a byte of this record was seen (else a blank line is skipped) */
    uint64_t offset = 0;
    unsigned line = r->line;
    br_csv_fault_kind k;
    for (;;) {
        if (r->bpos == r->blen) {
            if (r->eof) {
                if (r->state == SCAN_QUOTED)
                    return scan_fault(r, &s, BR_CSV_UNTERMINATED, r->quote_line, err);
                if (!content) return 0;
                if ((k = end_cell(r, &s))) return scan_fault(r, &s, k, line, err);
                return finish_record(r, &s, rec, offset, line);
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
            if (*p == '\n' || *p == '\r') { /* a blank line: no record, but a line */
                r->skip_lf = *p == '\r';
                r->line++;
                r->bpos++;
                continue;
            }
            offset = r->buf_off + r->bpos;
            line = r->line;
            content = 1;
        }
        if (r->state == SCAN_QUOTED) {
            const char *q = memchr(p, '"', (size_t)(end - p));
            const char *stop = q ? q : end;
            size_t n = (size_t)(stop - p);
            if (n) {
                count_lines(r, p, n);
                if (!r->has_nul && memchr(p, 0, n)) r->has_nul = 1;
                if ((k = row_append(r, &s, p, n))) return scan_fault(r, &s, k, line, err);
            }
            r->bpos = (size_t)(stop - r->buf) + (q != NULL);
            if (q) r->state = SCAN_QUOTE, r->prev_cr = 0;
            continue;
        }
        if (r->state == SCAN_QUOTE) {
            if (*p == '"') { /* "" inside a quoted cell */
                if ((k = row_append(r, &s, p, 1))) return scan_fault(r, &s, k, line, err);
                r->state = SCAN_QUOTED;
                r->bpos++;
                continue;
            }
            if (*p != ',' && *p != '\n' && *p != '\r')
                return scan_fault(r, &s, BR_CSV_TEXT_AFTER_QUOTE, line, err);
            r->state = SCAN_PLAIN; /* the separator is handled below */
        }
        /* SCAN_START or SCAN_PLAIN: runs of plain bytes and commas (the common case: most
         * cells of a template row are empty), until a quote, a line end or the buffer end. */
        const unsigned char *u = (const unsigned char *)p, *ue = (const unsigned char *)end;
        int state = r->state;
        for (;;) {
            const unsigned char *run = u;
            while (u < ue && !SPECIAL[*u])
                u++;
            if (u > run) {
                if ((k = row_append(r, &s, (const char *)run, (size_t)(u - run))))
                    return scan_fault(r, &s, k, line, err);
                state = SCAN_PLAIN;
            }
            if (u == ue) break;
            if (*u == ',') {
                u++;
                if ((k = end_cell(r, &s))) return scan_fault(r, &s, k, line, err);
                state = SCAN_START;
            } else if (!*u) {
                if ((k = row_append(r, &s, "", 1))) return scan_fault(r, &s, k, line, err);
                r->has_nul = 1;
                state = SCAN_PLAIN;
                u++;
            } else {
                break;
            }
        }
        r->state = state;
        r->bpos = (size_t)((const char *)u - r->buf);
        if (u == ue) continue;
        char c = (char)*u;
        r->bpos++;
        if (c == '"') {
            if (r->state != SCAN_START)
                return scan_fault(r, &s, BR_CSV_QUOTE_INSIDE_CELL, line, err);
            r->state = SCAN_QUOTED;
            s.quoted = 1;
            r->quote_line = r->line;
            r->prev_cr = 0;
        } else { /* '\n' or '\r': the record ends */
            if ((k = end_cell(r, &s))) return scan_fault(r, &s, k, line, err);
            finish_record(r, &s, rec, offset, line);
            rec->cr = c == '\r';
            r->line++;
            if (c == '\r') r->skip_lf = 1;
            return 1;
        }
    }
}

int br_csv_seek(br_csv_reader *r, uint64_t offset, unsigned line, br_error *err)
{
    if (lseek(r->fd, (off_t)offset, SEEK_SET) < 0)
        return br_error_set(err, BR_EIO, r->source, 0, 0, "cannot seek: %s", strerror(errno));
    r->buf_off = offset;
    r->blen = r->bpos = 0;
    r->eof = r->at_start = 0;
    r->skip_lf = r->prev_cr = 0;
    r->line = line ? line : 1;
    r->fault = (br_csv_fault){0};
    r->fault_rc = 0;
    return 0;
}

int br_csv_line_at(br_csv_reader *r, uint64_t from, unsigned from_line, uint64_t to, unsigned *line,
                   br_error *err)
{
    int rc = 0;
    char *b = malloc(READ_BUF);
    if (!b) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    unsigned n = from_line;
    int prev_cr = 0;
    for (uint64_t pos = from; pos < to;) {
        size_t want = to - pos < READ_BUF ? (size_t)(to - pos) : READ_BUF;
        ssize_t got = pread(r->fd, b, want, (off_t)pos);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            rc = br_error_set(err, BR_EIO, r->source, 0, 0, "cannot read: %s",
                              got < 0 ? strerror(errno) : "offset past the end of the file");
            goto done;
        }
        for (ssize_t i = 0; i < got; i++) {
            if (b[i] == '\r' || (b[i] == '\n' && !prev_cr)) n++;
            prev_cr = b[i] == '\r';
        }
        pos += (uint64_t)got;
    }
    *line = n;
done:
    free(b);
    return rc;
}

/* ---- writing ------------------------------------------------------------------------------ */

struct br_csv_writer {
    int fd;
    FILE *f;
    char *path; /* br_csv_writer_create: the final name and the temporary one */
    char *tmp;
    char *buf;
    size_t len;
    int always_quote, lf;
    unsigned ncell; /* cells written in the current record */
    int rc;         /* the first failure: every later call returns it */
};

static int writer_new(const br_csv_write_options *opt, br_csv_writer **out, br_error *err)
{
    *out = NULL;
    br_csv_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->buf = malloc(WRITE_BUF))) {
        free(w);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    w->fd = -1;
    w->always_quote = opt && opt->always_quote;
    w->lf = opt && opt->lf;
    *out = w;
    return 0;
}

int br_csv_writer_open_fd(int fd, const br_csv_write_options *opt, br_csv_writer **out,
                          br_error *err)
{
    int rc = writer_new(opt, out, err);
    if (!rc) (*out)->fd = fd;
    return rc;
}

int br_csv_writer_open_file(FILE *f, const br_csv_write_options *opt, br_csv_writer **out,
                            br_error *err)
{
    int rc = writer_new(opt, out, err);
    if (!rc) (*out)->f = f;
    return rc;
}

int br_csv_writer_create(const char *path, const br_csv_write_options *opt, br_csv_writer **out,
                         br_error *err)
{
    br_csv_writer *w = NULL;
    int rc = writer_new(opt, &w, err);
    if (rc) return rc;
    size_t n = strlen(path) + sizeof ".tmp.XXXXXX";
    if (!(w->path = strdup(path)) || !(w->tmp = malloc(n))) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    snprintf(w->tmp, n, "%s.tmp.XXXXXX", path);
    if ((w->fd = mkstemp(w->tmp)) < 0) {
        rc = br_error_set(err, BR_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
        free(w->tmp);
        w->tmp = NULL;
        goto done;
    }
    if (fchmod(w->fd, 0644)) {
        rc = br_error_set(err, BR_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
        goto done;
    }
    *out = w;
    w = NULL;
done:
    br_csv_writer_abort(w);
    return rc;
}

static const char *wname(const br_csv_writer *w)
{
    return w->path ? w->path : "the CSV output";
}

static int flush(br_csv_writer *w, br_error *err)
{
    if (w->rc) return br_error_set(err, w->rc, wname(w), 0, 0, "an earlier write failed");
    if (!w->len) return 0;
    int bad =
        w->f ? fwrite(w->buf, 1, w->len, w->f) != w->len : br_write_all(w->fd, w->buf, w->len);
    w->len = 0;
    if (bad)
        return w->rc = br_error_set(err, BR_EIO, wname(w), 0, 0, "cannot write: %s",
                                    strerror(errno ? errno : EIO));
    return 0;
}

static int put(br_csv_writer *w, const char *s, size_t n, br_error *err)
{
    if (w->rc) return br_error_set(err, w->rc, wname(w), 0, 0, "an earlier write failed");
    while (n) {
        if (w->len == WRITE_BUF) {
            int rc = flush(w, err);
            if (rc) return rc;
        }
        size_t k = WRITE_BUF - w->len < n ? WRITE_BUF - w->len : n;
        memcpy(w->buf + w->len, s, k);
        w->len += k;
        s += k;
        n -= k;
    }
    return 0;
}

/* Bytes that make a cell need quotes. */
static const unsigned char NEEDS_QUOTE[256] = {[','] = 1, ['"'] = 1, ['\n'] = 1, ['\r'] = 1};

int br_csv_write_cell(br_csv_writer *w, const char *s, size_t n, int quote, br_error *err)
{
    int rc = w->ncell++ ? put(w, ",", 1, err) : 0;
    if (rc) return rc;
    int q = quote || w->always_quote;
    for (size_t i = 0; i < n && !q; i++)
        q = NEEDS_QUOTE[(unsigned char)s[i]];
    if (!q) return put(w, s, n, err);
    if ((rc = put(w, "\"", 1, err))) return rc;
    const char *p = s, *e = s + n;
    while (p < e) {
        const char *dq = memchr(p, '"', (size_t)(e - p));
        const char *stop = dq ? dq + 1 : e;
        if ((rc = put(w, p, (size_t)(stop - p), err))) return rc;
        if (dq && (rc = put(w, "\"", 1, err))) return rc; /* "" */
        p = stop;
    }
    return put(w, "\"", 1, err);
}

int br_csv_write_str(br_csv_writer *w, const char *s, int quote, br_error *err)
{
    return br_csv_write_cell(w, s ? s : "", s ? strlen(s) : 0, quote, err);
}

int br_csv_write_raw(br_csv_writer *w, const void *s, size_t n, br_error *err)
{
    return put(w, s, n, err);
}

int br_csv_end_record(br_csv_writer *w, br_error *err)
{
    w->ncell = 0;
    return w->lf ? put(w, "\n", 1, err) : put(w, "\r\n", 2, err);
}

int br_csv_writer_close(br_csv_writer *w, br_error *err)
{
    if (!w) return 0;
    int rc = flush(w, err);
    if (!rc && w->f && fflush(w->f))
        rc = br_error_set(err, BR_EIO, wname(w), 0, 0, "cannot write: %s", strerror(errno));
    if (!rc && w->tmp) {
        int bad = fsync(w->fd);
        bad |= close(w->fd);
        w->fd = -1;
        if (bad)
            rc = br_error_set(err, BR_EIO, w->path, 0, 0, "cannot write: %s", strerror(errno));
        else if (rename(w->tmp, w->path))
            rc = br_error_set(err, BR_EIO, w->path, 0, 0, "cannot rename into place: %s",
                              strerror(errno));
        else {
            free(w->tmp);
            w->tmp = NULL; /* in place: nothing for abort to remove */
        }
    }
    br_csv_writer_abort(w);
    return rc;
}

void br_csv_writer_abort(br_csv_writer *w)
{
    if (!w) return;
    if (w->tmp) {
        if (w->fd >= 0) close(w->fd);
        unlink(w->tmp);
        free(w->tmp);
    }
    free(w->path);
    free(w->buf);
    free(w);
}
