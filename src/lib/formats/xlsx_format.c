/* The XLSX publications driver (docs/xlsx.md): its description and its
 * reader.  One row per publication under a header row of the column set
 * (data/xlsx_columns.tsv); the ISBN (verified, ISBN-10 made ISBN-13) is the
 * record's key and matches stored records (isbn=update).  An empty cell keeps
 * the stored value, "[delete]" deletes it: each record's covered targets are
 * those of its non-empty cells.  The input is a .xlsx, or a zip of one and the
 * files its Files and Cover columns name (an import folder). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "bulkrepo/import.h"
#include "core/core.h"
#include "formats/drivers.h"
#include "formats/xlsx_internal.h"

struct br_reader {
    br_xlsx_book *book;
    br_diag_sink *diags;
    br_limits lim;
    int files_optional;
    char dir[4096]; /* where file names are resolved */
    const char *sheet;
    const br_xlsx_column **map; /* per sheet column: its column of the set, or NULL */
    unsigned n_map;
    unsigned isbn_col;
    br_strmap seen; /* ISBN-13 -> the row it was first seen on */
    char key[32];
    size_t errors;
    const char **covered;
    size_t n_covered, cap_covered;
    br_buf tmp;
};

static void emit(br_reader *r, br_severity sev, unsigned col, unsigned row, const char *rule,
                 const char *hint, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void emit(br_reader *r, br_severity sev, unsigned col, unsigned row, const char *rule,
                 const char *hint, const char *fmt, ...)
{
    char msg[2048], cell[16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    br_xlsx_cell_name(col, row, cell);
    br_diag d = {sev, r->key[0] ? r->key : NULL, r->sheet, row, col + 1, cell, rule, msg, hint};
    if (sev == BR_SEV_ERROR) r->errors++;
    br_diag_emit(r->diags, &d);
}

static int oom(br_error *err)
{
    return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t' || **s == '\n' || **s == '\r')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\n' ||
                  (*s)[*n - 1] == '\r'))
        (*n)--;
}

/* Reads the header row: which sheet column is which column of the set. */
static int read_header(br_reader *r, int report, br_error *err)
{
    br_xlsx_row row;
    int rc = br_xlsx_next_row(r->book, &row, err);
    if (rc < 0) return rc;
    if (rc == 0)
        return br_error_set(err, BR_EINVAL, r->sheet, 0, 0,
                            "the sheet is empty: a header row (ISBN, Title, ...) comes first");
    /* The widest column named, whatever order the cells come in (a sheet
     * need not list them left to right). */
    unsigned width = 1;
    for (size_t i = 0; i < row.n; i++)
        if (row.cells[i].col >= width && row.cells[i].col < 1u << 20) width = row.cells[i].col + 1;
    free(r->map);
    if (!(r->map = calloc(width, sizeof *r->map))) return oom(err);
    r->n_map = width;
    int have_isbn = 0;
    for (size_t i = 0; i < row.n; i++) {
        const br_xlsx_cell *c = &row.cells[i];
        if (c->col >= r->n_map) continue; /* cannot be: width covers every cell */
        const char *h = c->text;
        size_t n = c->len;
        trim(&h, &n);
        if (!n || (n == 5 && !strncasecmp(h, "ERROR", 5))) continue; /* the download's */
        const br_xlsx_column *col = br_xlsx_column_find(h, n);
        if (!col) {
            if (report)
                emit(r, BR_SEV_WARNING, c->col, row.row, "xlsx.header.unknown",
                     "see docs/xlsx.md for the column set",
                     "column '%.*s' is not in the column set; its cells are ignored", (int)n, h);
            continue;
        }
        for (unsigned k = 0; k < width; k++)
            if (r->map[k] == col) {
                char a[16], b[16];
                br_xlsx_cell_name(k, row.row, a);
                br_xlsx_cell_name(c->col, row.row, b);
                return br_error_set(err, BR_EINVAL, r->sheet, row.row, 0,
                                    "%s!%s and %s!%s are both the column %s", r->sheet, a, r->sheet,
                                    b, col->name);
            }
        r->map[c->col] = col;
        if (col->kind == BR_XLSX_ISBN) {
            have_isbn = 1;
            r->isbn_col = c->col;
        }
    }
    if (!have_isbn)
        return br_error_set(err, BR_EINVAL, r->sheet, row.row, 0,
                            "the header row has no ISBN column (the key of every row)");
    return 0;
}

int br_xlsx_drv_open(const br_read_options *opt, br_reader **out, br_error *err)
{
    *out = NULL;
    int rc = 0;
    char xlsx[4096];
    br_reader *r = calloc(1, sizeof *r);
    if (!r) return oom(err);
    if (opt->limits)
        r->lim = *opt->limits;
    else
        br_limits_default(&r->lim);
    r->diags = opt->diags;
    r->files_optional = opt->files_optional;
    if (!br_xlsx_column_count()) {
        rc = br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "the XLSX column set cannot be read");
        goto done;
    }
    if ((rc = br_xlsx_input(opt->source, opt->scratch, &r->lim, xlsx, sizeof xlsx, r->dir,
                            sizeof r->dir, err)) ||
        (rc = br_xlsx_open(xlsx, &r->lim, &r->book, err)))
        goto done;
    r->sheet = br_xlsx_sheet(r->book);
    rc = read_header(r, 1, err);
done:
    if (rc) {
        br_xlsx_drv_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int br_xlsx_drv_rewind(br_reader *r, br_error *err)
{
    br_strmap_dispose(&r->seen);
    memset(&r->seen, 0, sizeof r->seen);
    int rc = br_xlsx_rewind(r->book, err);
    return rc ? rc : read_header(r, 0, err);
}

void br_xlsx_drv_close(br_reader *r)
{
    if (!r) return;
    br_xlsx_close(r->book);
    br_strmap_dispose(&r->seen);
    br_buf_dispose(&r->tmp);
    free(r->map);
    free(r->covered);
    free(r);
}

/* ---- one row -------------------------------------------------------------------------------- */

static int cover(br_reader *r, br_record *rec, const char *target)
{
    for (size_t i = 0; i < r->n_covered; i++)
        if (!strcmp(r->covered[i], target)) return 0;
    const char *s = br_record_str(rec, target);
    if (!s || br_grow((void **)&r->covered, &r->cap_covered, r->n_covered + 1, sizeof *r->covered))
        return BR_ENOMEM;
    r->covered[r->n_covered++] = s;
    return 0;
}

static int valid_date(const char *s, size_t n)
{
    static const unsigned days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (n != 4 && n != 7 && n != 10 && !(n > 10 && s[10] == 'T')) return 0;
    for (size_t i = 0; i < (n < 10 ? n : 10); i++)
        if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9')) return 0;
    if (n >= 7) {
        unsigned m = (unsigned)((s[5] - '0') * 10 + s[6] - '0');
        if (m < 1 || m > 12) return 0;
        if (n >= 10) {
            unsigned d = (unsigned)((s[8] - '0') * 10 + s[9] - '0');
            if (d < 1 || d > days[m - 1]) return 0;
        }
    }
    return 1;
}

/* "Role: Family, Given" (the role defaults to Author). */
static int add_contributor(br_reader *r, br_record *rec, const char *s, size_t n, br_origin o)
{
    const char *colon = memchr(s, ':', n);
    const char *role = "Author", *name = s;
    size_t rl = 6, nl = n;
    if (colon) {
        role = s;
        rl = (size_t)(colon - s);
        name = colon + 1;
        nl = n - rl - 1;
        trim(&role, &rl);
        trim(&name, &nl);
    }
    if (!nl) return 1;
    int author = rl == 6 && !strncasecmp(role, "Author", 6);
    br_creator *c = br_record_add_creator(rec, author ? BR_CREATOR : BR_CONTRIBUTOR);
    if (!c) return BR_ENOMEM;
    const char *comma = memchr(name, ',', nl);
    const char *fam = name, *giv = NULL;
    size_t fl = nl, gl = 0;
    if (comma) {
        fl = (size_t)(comma - name);
        giv = comma + 1;
        gl = nl - fl - 1;
        trim(&fam, &fl);
        trim(&giv, &gl);
    }
    c->family = br_record_strn(rec, fam, fl);
    if (gl) c->given = br_record_strn(rec, giv, gl);
    if (!author) {
        char t[64];
        size_t k = 0;
        for (; k < rl && k < sizeof t - 1; k++)
            t[k] = (char)(role[k] >= 'A' && role[k] <= 'Z' ? role[k] + 32 : role[k]);
        t[k] = 0;
        c->contrib_type = br_record_str(rec, t);
    }
    c->origin = o;
    return c->family ? 0 : BR_ENOMEM;
}

static int add_file(br_reader *r, br_record *rec, const br_xlsx_column *col, const char *s,
                    size_t n, unsigned cc, unsigned row, br_origin o)
{
    char name[1024], path[4096];
    if (n >= sizeof name) {
        emit(r, BR_SEV_ERROR, cc, row, "xlsx.file.name", NULL, "file name is too long");
        return 0;
    }
    memcpy(name, s, n);
    name[n] = 0;
    const char *why = br_path_unsafe(name);
    if (why) {
        emit(r, BR_SEV_ERROR, cc, row, "xlsx.file.unsafe",
             "name a file beside the sheet or below its folder", "file '%s': %s", name, why);
        return 0;
    }
    if (br_path_join(path, sizeof path, r->dir, name)) {
        emit(r, BR_SEV_ERROR, cc, row, "xlsx.file.name", NULL, "file '%s': the path is too long",
             name);
        return 0;
    }
    struct stat st;
    int missing = lstat(path, &st) != 0;
    if (missing && r->files_optional) {
        path[0] = 0;
    } else if (missing || !S_ISREG(st.st_mode)) {
        emit(r, BR_SEV_ERROR, cc, row, "file.missing",
             "files are read from the sheet's folder (or its zip); links are not followed",
             "file '%s': %s", name,
             missing               ? "no such file"
             : S_ISLNK(st.st_mode) ? "a symbolic link"
                                   : "not a regular file");
        return 0;
    } else if (r->lim.max_file_size && (uint64_t)st.st_size > r->lim.max_file_size) {
        emit(r, BR_SEV_ERROR, cc, row, "file.too-large", "raise --max-file-size",
             "file '%s' is larger than the %llu bytes allowed", name,
             (unsigned long long)r->lim.max_file_size);
        return 0;
    }
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    br_bitstream *b = br_record_add_bitstream(rec, base);
    if (!b) return BR_ENOMEM;
    b->bundle = col->kind == BR_XLSX_COVER ? "THUMBNAIL" : "ORIGINAL";
    b->path = path[0] ? br_record_str(rec, path) : NULL;
    b->origin = o;
    return path[0] && !b->path ? BR_ENOMEM : 0;
}

/* One value of a cell into the record: 0, or BR_ENOMEM. */
static int add_value(br_reader *r, br_record *rec, const br_xlsx_column *col, const br_xlsx_cell *c,
                     const char *s, size_t n, unsigned row)
{
    br_origin o = {r->sheet, row, c->col + 1};
    char sch[64], el[64], q[64];
    switch (col->kind) {
    case BR_XLSX_CONTRIBUTORS: {
        int rc = add_contributor(r, rec, s, n, o);
        if (rc == 1)
            emit(r, BR_SEV_ERROR, c->col, row, "xlsx.contributor", "write 'Role: Family, Given'",
                 "contributor '%.*s' has no name", (int)n, s);
        return rc < 0 ? rc : 0;
    }
    case BR_XLSX_FILES:
    case BR_XLSX_COVER:
        return add_file(r, rec, col, s, n, c->col, row, o);
    case BR_XLSX_DATE:
        if (!valid_date(s, n)) {
            emit(r, BR_SEV_ERROR, c->col, row, "xlsx.date",
                 "write YYYY, YYYY-MM or YYYY-MM-DD, or make the cell a date",
                 "%s '%.*s' is not a date", col->name, (int)n, s);
            return 0;
        }
        break;
    default:
        break;
    }
    if (br_field_parse(col->target, sch, el, q)) return 0;
    br_buf_clear(&r->tmp);
    if (br_buf_append(&r->tmp, s, n)) return BR_ENOMEM;
    br_mdv *v = br_record_add_md(rec, sch, el, *q ? q : NULL, NULL, r->tmp.p);
    if (!v) return BR_ENOMEM;
    v->origin = o;
    return 0;
}

/* The ISBN cell: the key, or an error and key "row-N". */
static int read_isbn(br_reader *r, br_record *rec, const br_xlsx_row *row, br_error *err)
{
    const br_xlsx_cell *c = NULL;
    for (size_t i = 0; i < row->n && !c; i++)
        if (row->cells[i].col == r->isbn_col) c = &row->cells[i];
    snprintf(r->key, sizeof r->key, "row-%u", row->row);
    const char *s = c ? c->text : "";
    size_t n = c ? c->len : 0;
    trim(&s, &n);
    const char *why = NULL;
    char isbn[14];
    if (c && c->type == BR_XLSX_CELL_BAD) {
        emit(r, BR_SEV_ERROR, r->isbn_col, row->row, "xlsx.cell", NULL, "%s", c->text);
        return 0;
    }
    if (!n || (n == strlen(BR_XLSX_DELETE) && !strncasecmp(s, BR_XLSX_DELETE, n))) {
        emit(r, BR_SEV_ERROR, r->isbn_col, row->row, "xlsx.isbn.missing",
             "every row is keyed by its ISBN", "row %u has no ISBN", row->row);
        return 0;
    }
    if (br_xlsx_isbn13(s, n, c->type == BR_XLSX_CELL_NUMBER, isbn, &why)) {
        emit(r, BR_SEV_ERROR, r->isbn_col, row->row, "xlsx.isbn.invalid", NULL, "ISBN '%.*s' %s",
             (int)n, s, why);
        return 0;
    }
    int64_t first;
    if (br_strmap_get(&r->seen, isbn, &first)) {
        emit(r, BR_SEV_ERROR, r->isbn_col, row->row, "xlsx.isbn.duplicate",
             "one row per publication", "ISBN %s is on row %lld and on row %u", isbn,
             (long long)first, row->row);
        return 0;
    }
    if (br_strmap_put(&r->seen, isbn, row->row)) return oom(err);
    br_strlcpy(r->key, isbn, sizeof r->key);
    br_mdv *v = br_record_add_md(rec, "dc", "identifier", "isbn", NULL, isbn);
    br_identifier *id = v ? br_record_add_identifier(rec, "isbn", isbn) : NULL;
    if (!id || cover(r, rec, "dc.identifier.isbn")) return oom(err);
    v = &rec->md[rec->n_md - 1];
    v->origin = id->origin = (br_origin){r->sheet, row->row, r->isbn_col + 1};
    return 0;
}

int br_xlsx_drv_next(br_reader *r, br_record *rec, br_read_info *info, br_error *err)
{
    memset(info, 0, sizeof *info);
    br_xlsx_row row;
    int rc;
    for (;;) {
        if ((rc = br_xlsx_next_row(r->book, &row, err)) <= 0) return rc;
        int any = 0;
        for (size_t i = 0; i < row.n && !any; i++) {
            const char *s = row.cells[i].text;
            size_t n = row.cells[i].len;
            trim(&s, &n);
            any = n && row.cells[i].col < r->n_map && r->map[row.cells[i].col];
        }
        if (any) break; /* a row with nothing in the set's columns is no publication */
    }
    br_record_reset(rec);
    r->errors = 0;
    r->n_covered = 0;
    if ((rc = read_isbn(r, rec, &row, err))) return rc;
    for (size_t i = 0; i < row.n; i++) {
        const br_xlsx_cell *c = &row.cells[i];
        const br_xlsx_column *col = c->col < r->n_map ? r->map[c->col] : NULL;
        if (!col || col->kind == BR_XLSX_ISBN) continue;
        const char *s = c->text;
        size_t n = c->len;
        trim(&s, &n);
        if (!n) continue; /* empty: the stored value stays */
        if (c->type == BR_XLSX_CELL_BAD) {
            emit(r, BR_SEV_ERROR, c->col, row.row, "xlsx.cell", NULL, "%s", c->text);
            continue;
        }
        if (cover(r, rec, col->target) ||
            (col->kind == BR_XLSX_CONTRIBUTORS && cover(r, rec, "@contributor")))
            return oom(err);
        if (n == strlen(BR_XLSX_DELETE) && !strncasecmp(s, BR_XLSX_DELETE, n)) continue;
        if (!col->multi) {
            if ((rc = add_value(r, rec, col, c, s, n, row.row))) return oom(err);
            continue;
        }
        while (n) {
            const char *semi = memchr(s, ';', n);
            size_t part = semi ? (size_t)(semi - s) : n;
            const char *v = s;
            size_t vl = part;
            trim(&v, &vl);
            if (vl && (rc = add_value(r, rec, col, c, v, vl, row.row))) return oom(err);
            if (!semi) break;
            s += part + 1;
            n -= part + 1;
        }
    }
    rec->key = br_record_str(rec, r->key);
    info->key = r->key;
    info->errors = r->errors;
    info->first_line = info->last_line = row.row;
    /* The list lives with the record, not the reader: the pipeline reads ahead, so
     * this record is used after the next rows are read. */
    const char **cov = r->n_covered ? br_arena_alloc(rec->arena, r->n_covered * sizeof *cov) : NULL;
    if (r->n_covered && !cov) return oom(err);
    if (cov) memcpy(cov, r->covered, r->n_covered * sizeof *cov);
    info->covered = cov;
    info->n_covered = r->n_covered;
    return rec->key ? 1 : oom(err);
}

const br_format br_format_xlsx = {
    BR_FORMAT_DRIVER_VERSION,
    {
        .name = "xlsx",
        .label = "Publications by ISBN (XLSX)",
        .short_label = "XLSX",
        .unit = "publications",
        .extensions = ".xlsx",
        .upload_accept = ".xlsx,.zip,application/vnd.openxmlformats-officedocument."
                         "spreadsheetml.sheet,application/zip",
        .extract_ext = "xlsx",
        .extract_mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        .caps = BR_FORMAT_READ | BR_FORMAT_WRITE | BR_FORMAT_EXTRACT | BR_FORMAT_ZIP |
                BR_FORMAT_ALL_SCOPE | BR_FORMAT_SELF_CONTAINED,
        .import_job = "import-xlsx",
        .validate_job = "validate-xlsx",
        .delete_job = NULL,
        .export_job = "export-xlsx",
        .default_status = "archived",
        .match = "isbn=update",
        .export_file = "publications.xlsx",
    },
    .open = br_xlsx_drv_open,
    .next = br_xlsx_drv_next,
    .rewind = br_xlsx_drv_rewind,
    .close = br_xlsx_drv_close,
    .covers = NULL,
    .writer_open = br_xlsx_drv_writer_open,
    .write = br_xlsx_drv_write,
    .writer_close = br_xlsx_drv_writer_close,
    .writer_abort = br_xlsx_drv_writer_abort,
    .extract = br_xlsx_drv_extract,
};
