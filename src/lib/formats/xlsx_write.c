/* The XLSX publications driver's writer (export, convert) and extract (the
 * unimported download), with libxlsxwriter in constant-memory mode (rows are
 * written as they come; strings inline).
 *
 * Writer: a header row of the column set, then one row per record, every
 * cell text (ISBNs and dates too, so nothing is turned into a number): the
 * ISBN, the fields' values (a multi-valued column joins them with "; "), the
 * creators as "Role: Family, Given", the ORIGINAL files in Files and the
 * first THUMBNAIL in Cover.  Files are copied to "<dest>.files/<ISBN>/<name>"
 * and the cells name them relative to the sheet, so the export re-imports
 * with its files (-x: names only, nothing copied).  Values with no column are
 * lost (notes on convert).  Nothing shows before writer_close: the workbook
 * is written under a temporary name and the files into a staging folder;
 * close renames both, abort removes both.
 *
 * Extract: the header and the rejected rows, cell by cell as read, with an
 * ERROR column holding each row's findings. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>
#include "core/core.h"
#include "formats/drivers.h"
#include "formats/xlsx_internal.h"

#define PATH_SIZE 4096

struct br_writer {
    br_write_options opt;
    br_write_stats local, *stats;
    lxw_workbook *wb;
    lxw_worksheet *ws;
    unsigned row;
    char dest[PATH_SIZE], tmp[PATH_SIZE];
    char files_dir[PATH_SIZE]; /* "<dest>.files" */
    char files_rel[PATH_SIZE]; /* its name relative to the sheet's folder */
    char stage[PATH_SIZE];     /* "<dest>.files.tmpXXXXXX" once made */
    char key[64];
    br_buf cell;
};

static int oom(br_error *err)
{
    return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
}

static int lxw_fail(br_error *err, const char *dest, lxw_error e)
{
    return br_error_set(err, BR_EIO, dest, 0, 0, "cannot write the workbook: %s", lxw_strerror(e));
}

static void field_of(const br_mdv *v, char *out, size_t size)
{
    snprintf(out, size, "%s.%s%s%s", v->schema, v->element, v->qualifier ? "." : "",
             v->qualifier ? v->qualifier : "");
}

/* A new workbook at a temporary name beside path. */
static int new_book(const char *path, char *tmp, size_t tmp_size, lxw_workbook **wb,
                    lxw_worksheet **ws, br_error *err)
{
    struct stat st;
    if (!lstat(path, &st)) return br_error_set(err, BR_EEXISTS, path, 0, 0, "already exists");
    int k = snprintf(tmp, tmp_size, "%s.tmpXXXXXX", path);
    if (k < 0 || (size_t)k >= tmp_size)
        return br_error_set(err, BR_ELIMIT, path, 0, 0, "the path is too long");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        tmp[0] = 0;
        return br_error_set(err, BR_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
    }
    close(fd);
    lxw_workbook_options o = {.constant_memory = LXW_TRUE, .tmpdir = NULL, .use_zip64 = LXW_TRUE};
    if (!(*wb = workbook_new_opt(tmp, &o)) || !(*ws = workbook_add_worksheet(*wb, "Publications")))
        return br_error_set(err, BR_ENOMEM, path, 0, 0, "cannot start the workbook");
    return 0;
}

/* Finishes the workbook at tmp and renames it to path. */
static int finish_book(lxw_workbook *wb, const char *tmp, const char *path, br_error *err)
{
    lxw_error e = workbook_close(wb);
    if (e) return lxw_fail(err, path, e);
    if (rename(tmp, path))
        return br_error_set(err, BR_EIO, path, 0, 0, "cannot rename into place: %s",
                            strerror(errno));
    return 0;
}

static int put(lxw_worksheet *ws, unsigned row, unsigned col, const char *s, const char *dest,
               br_error *err)
{
    if (!s || !*s) return 0;
    lxw_error e = worksheet_write_string(ws, row, (lxw_col_t)col, s, NULL);
    return e ? lxw_fail(err, dest, e) : 0;
}

/* ---- the writer -------------------------------------------------------------------------- */

int br_xlsx_drv_writer_open(const br_write_options *opt, br_writer **out, br_error *err)
{
    *out = NULL;
    if (opt->n_fields || opt->n_categories)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "the XLSX writer writes every column: no --fields or --categories");
    if (opt->zip) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the XLSX writer writes no zip");
    if (opt->on_column) return 0; /* describe mode: no selection */
    if (!br_xlsx_column_count())
        return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "the XLSX column set cannot be read");
    br_writer *w = calloc(1, sizeof *w);
    if (!w) return oom(err);
    w->opt = *opt;
    w->stats = opt->stats ? opt->stats : &w->local;
    int rc = 0;
    if (br_strlcpy(w->dest, opt->dest, sizeof w->dest) >= sizeof w->dest ||
        (size_t)snprintf(w->files_dir, sizeof w->files_dir, "%s.files", opt->dest) >=
            sizeof w->files_dir) {
        rc = br_error_set(err, BR_ELIMIT, opt->dest, 0, 0, "the path is too long");
        goto done;
    }
    const char *base = strrchr(opt->dest, '/') ? strrchr(opt->dest, '/') + 1 : opt->dest;
    snprintf(w->files_rel, sizeof w->files_rel, "%s.files", base);
    struct stat st;
    if (!lstat(w->files_dir, &st)) {
        rc = br_error_set(err, BR_EEXISTS, w->files_dir, 0, 0, "already exists");
        goto done;
    }
    if ((rc = new_book(opt->dest, w->tmp, sizeof w->tmp, &w->wb, &w->ws, err))) goto done;
    lxw_format *text = workbook_add_format(w->wb);
    if (text) format_set_num_format(text, "@");
    for (size_t i = 0; !rc && i < br_xlsx_column_count(); i++) {
        const br_xlsx_column *c = br_xlsx_column_at(i);
        lxw_error e = worksheet_set_column(w->ws, (lxw_col_t)i, (lxw_col_t)i,
                                           c->kind == BR_XLSX_TEXT ? 24 : 18, text);
        if (!e) e = worksheet_write_string(w->ws, 0, (lxw_col_t)i, c->name, NULL);
        if (e) rc = lxw_fail(err, opt->dest, e);
    }
    w->row = 1;
done:
    if (rc) {
        br_xlsx_drv_writer_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

static void lost(br_writer *w, const char *key, const char *what, const char *value)
{
    w->stats->lost++;
    if (w->opt.from_input)
        br_diag_emitf(w->opt.diags, BR_SEV_NOTE, key, NULL, 0, 0, "convert.no-target", NULL,
                      "%s '%.200s' has no XLSX column", what, value);
}

/* Copies a file of the record into the staging folder; its cell text into cell. */
static int copy_file(br_writer *w, const br_bitstream *b, const char *dirkey, br_error *err)
{
    if (w->opt.exclude_bitstreams || !b->path) return br_buf_puts(&w->cell, b->name) ? oom(err) : 0;
    int rc;
    if (!w->stage[0]) {
        if ((size_t)snprintf(w->stage, sizeof w->stage, "%s.tmpXXXXXX", w->files_dir) >=
            sizeof w->stage)
            return br_error_set(err, BR_ELIMIT, w->files_dir, 0, 0, "the path is too long");
        if (!mkdtemp(w->stage)) {
            w->stage[0] = 0;
            return br_error_set(err, BR_EIO, w->files_dir, 0, 0, "cannot create: %s",
                                strerror(errno));
        }
    }
    char dir[PATH_SIZE], path[PATH_SIZE];
    if (br_path_join(dir, sizeof dir, w->stage, dirkey) ||
        br_path_join(path, sizeof path, dir, b->name))
        return br_error_set(err, BR_ELIMIT, b->name, 0, 0, "the path is too long");
    if ((rc = br_mkdir_p(dir, err)) || (rc = br_copy_file(b->path, path, err))) return rc;
    struct stat st;
    if (!stat(path, &st)) w->stats->bytes += (uint64_t)st.st_size;
    return br_buf_printf(&w->cell, "%s/%s/%s", w->files_rel, dirkey, b->name) ? oom(err) : 0;
}

static int is_store_field(const char *f)
{
    static const char *const own[] = {"dc.date.accessioned", "dc.date.available",
                                      "dc.identifier.uri", "dc.description.provenance"};
    for (size_t i = 0; i < BR_ARRAY_LEN(own); i++)
        if (!strcmp(f, own[i])) return 1;
    return 0;
}

static int column_of_field(const char *f)
{
    for (size_t i = 0; i < br_xlsx_column_count(); i++)
        if (!strcmp(br_xlsx_column_at(i)->target, f)) return 1;
    return 0;
}

int br_xlsx_drv_write(br_writer *w, const char *key, br_record *rec, br_error *err)
{
    const char *shown = key ? key : rec->handle ? rec->handle : "";
    int rc = 0;
    if (!rec->n_creators && br_record_derive_creators(rec, rec)) return oom(err);
    /* The ISBN: the first valid one (as ISBN-13), else the first as it is. */
    const char *isbn = NULL;
    char isbn13[14];
    for (size_t i = 0; i < rec->n_md && !isbn; i++) {
        const br_mdv *v = &rec->md[i];
        const char *why;
        if (!strcmp(v->schema, "dc") && !strcmp(v->element, "identifier") && v->qualifier &&
            !strcmp(v->qualifier, "isbn") &&
            !br_xlsx_isbn13(v->value, strlen(v->value), 0, isbn13, &why))
            isbn = isbn13;
    }
    for (size_t i = 0; i < rec->n_ids && !isbn; i++)
        if (!strcmp(rec->ids[i].type, "isbn")) isbn = rec->ids[i].value;
    if (!isbn) isbn = br_record_first(rec, "dc.identifier.isbn");
    if (!isbn)
        br_diag_emitf(w->opt.diags, BR_SEV_WARNING, shown, NULL, 0, 0, "xlsx.write.no-isbn",
                      "add an ISBN before importing it", "the record has no ISBN");
    snprintf(w->key, sizeof w->key, "%s", isbn ? isbn : shown);
    char dirkey[64];
    snprintf(dirkey, sizeof dirkey, "%s", w->key);
    for (char *p = dirkey; *p; p++)
        if (*p == '/' || *p == '.') *p = '_';
    int isbn_done = 0;
    for (size_t ci = 0; !rc && ci < br_xlsx_column_count(); ci++) {
        const br_xlsx_column *c = br_xlsx_column_at(ci);
        br_buf_clear(&w->cell);
        if (c->kind == BR_XLSX_ISBN) {
            if (isbn && br_buf_puts(&w->cell, isbn)) return oom(err);
        } else if (c->kind == BR_XLSX_CONTRIBUTORS) {
            for (size_t k = 0; k < 2 * rec->n_creators; k++) { /* authors first */
                const br_creator *cr = &rec->creators[k % rec->n_creators];
                if ((k < rec->n_creators) != (cr->role == BR_CREATOR)) continue;
                char role[64] = "Author";
                if (cr->role == BR_CONTRIBUTOR) {
                    snprintf(role, sizeof role, "%s",
                             cr->contrib_type && *cr->contrib_type ? cr->contrib_type
                                                                   : "Contributor");
                    if (role[0] >= 'a' && role[0] <= 'z') role[0] = (char)(role[0] - 32);
                }
                const char *fam = cr->family ? cr->family : cr->display ? cr->display : "";
                if (br_buf_printf(&w->cell, "%s%s: %s%s%s", w->cell.len ? "; " : "", role, fam,
                                  cr->given ? ", " : "", cr->given ? cr->given : ""))
                    return oom(err);
            }
        } else if (c->kind == BR_XLSX_FILES || c->kind == BR_XLSX_COVER) {
            int cover = c->kind == BR_XLSX_COVER;
            for (size_t i = 0; !rc && i < rec->n_bs; i++) {
                const br_bitstream *b = &rec->bs[i];
                int thumb = b->bundle && !strcmp(b->bundle, "THUMBNAIL");
                int orig = !b->bundle || !strcmp(b->bundle, "ORIGINAL");
                if (cover ? !thumb : !orig) continue;
                if (cover && w->cell.len) {
                    lost(w, shown, "cover", b->name);
                    continue;
                }
                if (w->cell.len && br_buf_puts(&w->cell, "; ")) return oom(err);
                if (br_path_unsafe(b->name) || strchr(b->name, ';')) {
                    lost(w, shown, "file", b->name);
                    continue;
                }
                rc = copy_file(w, b, dirkey, err);
                w->stats->files++;
            }
            if (cover) /* files of other bundles */
                for (size_t i = 0; i < rec->n_bs; i++)
                    if (rec->bs[i].bundle && strcmp(rec->bs[i].bundle, "THUMBNAIL") &&
                        strcmp(rec->bs[i].bundle, "ORIGINAL"))
                        lost(w, shown, "file", rec->bs[i].name);
        } else {
            for (size_t i = 0; i < rec->n_md; i++) {
                char f[256];
                field_of(&rec->md[i], f, sizeof f);
                if (strcmp(f, c->target)) continue;
                if (w->cell.len && !c->multi) {
                    lost(w, shown, f, rec->md[i].value);
                    continue;
                }
                if (br_buf_printf(&w->cell, "%s%s", w->cell.len ? "; " : "", rec->md[i].value))
                    return oom(err);
            }
        }
        if (!rc) rc = put(w->ws, w->row, (unsigned)ci, w->cell.p, w->dest, err);
        if (c->kind == BR_XLSX_ISBN) isbn_done = 1;
    }
    if (rc) return rc;
    /* Values no column holds. */
    for (size_t i = 0; isbn_done && i < rec->n_md; i++) {
        char f[256];
        field_of(&rec->md[i], f, sizeof f);
        if (column_of_field(f) || is_store_field(f)) continue;
        if (rec->n_creators && !strncmp(f, "dc.contributor.", 15)) continue; /* derived */
        if (!strcmp(f, "dc.identifier.isbn")) continue; /* more ISBNs: one per row */
        lost(w, shown, f, rec->md[i].value);
    }
    w->row++;
    w->stats->records++;
    w->stats->key = w->key;
    return 0;
}

int br_xlsx_drv_writer_close(br_writer *w, br_error *err)
{
    int rc = finish_book(w->wb, w->tmp, w->dest, err);
    w->wb = NULL;
    if (!rc) w->tmp[0] = 0;
    if (!rc && w->stage[0]) {
        if (rename(w->stage, w->files_dir)) {
            rc = br_error_set(err, BR_EIO, w->files_dir, 0, 0, "cannot rename into place: %s",
                              strerror(errno));
            unlink(w->dest);
        } else {
            w->stage[0] = 0;
        }
    }
    br_xlsx_drv_writer_abort(w);
    return rc;
}

void br_xlsx_drv_writer_abort(br_writer *w)
{
    if (!w) return;
    if (w->wb) lxw_workbook_free(w->wb);
    if (w->tmp[0]) unlink(w->tmp);
    if (w->stage[0]) br_rmtree(w->stage);
    br_buf_dispose(&w->cell);
    free(w);
}

/* ---- the unimported download ---------------------------------------------------------------- */

int br_xlsx_drv_extract(const br_extract_options *opt, br_error *err)
{
    br_xlsx_book *book = NULL;
    lxw_workbook *wb = NULL;
    lxw_worksheet *ws = NULL;
    br_strmap want = {0}, seen = {0};
    br_buf text = {0};
    unsigned char *mapped = NULL;
    char xlsx[PATH_SIZE], dir[PATH_SIZE], tmp[PATH_SIZE] = "";
    br_limits lim;
    if (opt->limits)
        lim = *opt->limits;
    else
        br_limits_default(&lim);
    int rc =
        br_xlsx_input(opt->source, opt->scratch, &lim, xlsx, sizeof xlsx, dir, sizeof dir, err);
    if (rc || (rc = br_xlsx_open(xlsx, &lim, &book, err))) goto done;
    for (size_t i = 0; i < opt->n_records; i++) {
        int64_t v;
        if (!br_strmap_get(&want, opt->records[i].key, &v) &&
            br_strmap_put(&want, opt->records[i].key, (int64_t)i)) {
            rc = oom(err);
            goto done;
        }
    }
    br_xlsx_row row;
    if ((rc = br_xlsx_next_row(book, &row, err)) <= 0) {
        if (!rc) rc = br_error_set(err, BR_EINVAL, br_xlsx_sheet(book), 0, 0, "the sheet is empty");
        goto done;
    }
    rc = 0;
    unsigned width = row.cells[row.n - 1].col + 1, isbn_col = 0, error_col = width;
    if (!(mapped = calloc(width, 1))) {
        rc = oom(err);
        goto done;
    }
    if ((rc = new_book(opt->out_path, tmp, sizeof tmp, &wb, &ws, err))) goto done;
    for (size_t i = 0; !rc && i < row.n; i++) {
        const br_xlsx_cell *c = &row.cells[i];
        const br_xlsx_column *col = br_xlsx_column_find(c->text, c->len);
        mapped[c->col] = col != NULL;
        if (col && col->kind == BR_XLSX_ISBN) isbn_col = c->col;
        if (!col && c->len == 5 && !strncasecmp(c->text, "ERROR", 5)) {
            error_col = c->col; /* a download's download: the same column */
            continue;
        }
        rc = put(ws, 0, c->col, c->text, opt->out_path, err);
    }
    if (rc || (rc = put(ws, 0, error_col, "ERROR", opt->out_path, err))) goto done;
    unsigned out_row = 1;
    while ((rc = br_xlsx_next_row(book, &row, err)) == 1) {
        rc = 0;
        int any = 0;
        const br_xlsx_cell *ic = NULL;
        for (size_t i = 0; i < row.n; i++) {
            const br_xlsx_cell *c = &row.cells[i];
            const char *s = c->text;
            size_t n = c->len;
            while (n && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
                s++, n--;
            if (n && c->col < width && mapped[c->col]) any = 1;
            if (c->col == isbn_col) ic = c;
        }
        if (!any) continue;
        /* The record's key, as the reader gives it. */
        char key[32], isbn[14];
        const char *why;
        snprintf(key, sizeof key, "row-%u", row.row);
        int64_t v;
        const char *is = ic ? ic->text : "";
        size_t il = ic ? ic->len : 0;
        while (il && (*is == ' ' || *is == '\t' || *is == '\n' || *is == '\r'))
            is++, il--;
        while (il && (is[il - 1] == ' ' || is[il - 1] == '\t' || is[il - 1] == '\n' ||
                      is[il - 1] == '\r'))
            il--;
        if (ic && ic->type != BR_XLSX_CELL_BAD &&
            !br_xlsx_isbn13(is, il, ic->type == BR_XLSX_CELL_NUMBER, isbn, &why) &&
            !br_strmap_get(&seen, isbn, &v)) {
            if (br_strmap_put(&seen, isbn, row.row)) {
                rc = oom(err);
                goto done;
            }
            br_strlcpy(key, isbn, sizeof key);
        }
        if (!br_strmap_get(&want, key, &v)) continue;
        const br_rejected *rj = &opt->records[v];
        br_buf_clear(&text);
        for (size_t j = 0; j < rj->n_findings; j++)
            if (br_buf_printf(&text, "%s%s", text.len ? "\n" : "",
                              rj->findings[j].text ? rj->findings[j].text : "")) {
                rc = oom(err);
                goto done;
            }
        if (!rj->n_findings && rj->message && br_buf_puts(&text, rj->message)) {
            rc = oom(err);
            goto done;
        }
        for (size_t i = 0; !rc && i < row.n; i++)
            if (row.cells[i].col != error_col && row.cells[i].type != BR_XLSX_CELL_BAD)
                rc = put(ws, out_row, row.cells[i].col, row.cells[i].text, opt->out_path, err);
        if (rc || (rc = put(ws, out_row, error_col, text.p, opt->out_path, err))) goto done;
        out_row++;
    }
    if (rc) goto done;
    rc = finish_book(wb, tmp, opt->out_path, err);
    wb = NULL;
    if (!rc) tmp[0] = 0;
done:
    if (wb) lxw_workbook_free(wb);
    if (tmp[0]) unlink(tmp);
    br_xlsx_close(book);
    br_strmap_dispose(&want);
    br_strmap_dispose(&seen);
    br_buf_dispose(&text);
    free(mapped);
    return rc;
}
