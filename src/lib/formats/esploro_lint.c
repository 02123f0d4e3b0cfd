/* br_ecsv_lint: one pass of the Esploro reader with every rule, and with
 * opt->fix_path a corrected copy of the file written through the CSV writer
 * (to a temporary name, renamed at the end; LF line ends, no byte-order mark).
 * Each fix is reported as a note with rule "ecsv.fix.*". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "formats/esploro_internal.h"

int br_ecsv_fix_begin(br_ecsv_reader *r, const char *path, br_error *err)
{
    br_csv_write_options wo = {.lf = 1};
    r->fixing = 1;
    return br_csv_writer_create(path, &wo, &r->out, err);
}

int br_ecsv_fix_finish(br_ecsv_reader *r, br_error *err)
{
    br_csv_writer *w = r->out;
    r->out = NULL;
    return br_csv_writer_close(w, err);
}

void br_ecsv_set_fix(br_ecsv_reader *r, unsigned c, const char *s, size_t n)
{
    if (!r->fixing) return;
    size_t off = r->fixbuf.len;
    if (br_buf_append(&r->fixbuf, s, n)) return;
    r->fix[c] = (br_ecsv_fixrec){off, n, 1};
}

void br_ecsv_fix_note(br_ecsv_reader *r, unsigned c, const char *rule, const char *s, size_t n)
{
    if (!r->fixing) return;
    char fr[96];
    snprintf(fr, sizeof fr, "ecsv.fix.%s", strrchr(rule, '.') + 1);
    br_ecsv_finding(r, BR_SEV_NOTE, (int)c, r->rowno, fr, NULL, "fixed: now '%s'",
                    br_ecsv_shown(r, s, n));
}

void br_ecsv_fix_clear(br_ecsv_reader *r)
{
    memset(r->fix, 0, r->ncells * sizeof *r->fix);
    br_buf_clear(&r->fixbuf);
}

/* The current row's value of physical cell c (with its fix). */
static void cell_value(br_ecsv_reader *r, unsigned c, const char **s, size_t *n)
{
    if (r->fix[c].set) {
        *s = r->fixbuf.p + r->fix[c].off;
        *n = r->fix[c].len;
    } else {
        *s = r->rec.cells[c].p;
        *n = r->rec.cells[c].len;
    }
}

int br_ecsv_out_row(br_ecsv_reader *r, br_error *err)
{
    const br_csv_cell *cell = r->rec.cells;
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
            if (cell[c].len && c + (unsigned)r->link_shift + 1 > out_n)
                out_n = c + (unsigned)r->link_shift + 1;
    }
    int rc = 0;
    for (unsigned k = 0; !rc && k < out_n; k++) {
        long src = k;
        if (r->row_shifted && k >= 2) {
            /* k receives the value of k - shift when that one moves; a moved cell is empty. */
            long from = (long)k - r->link_shift;
            if (from >= 2 && (unsigned)from < n && cell[from].len)
                src = from;
            else if (k < n && cell[k].len)
                src = -1;
            else
                src = k < n ? (long)k : -1;
        }
        const char *s = "";
        size_t len = 0;
        if (src >= 0 && (unsigned)src < n) cell_value(r, (unsigned)src, &s, &len);
        rc = br_csv_write_cell(r->out, s, len, 0, err);
    }
    return rc ? rc : br_csv_end_record(r->out, err);
}

int br_ecsv_lint(const char *path, const br_ecsv_options *opt, br_ecsv_summary *sum, br_error *err)
{
    memset(sum, 0, sizeof *sum);
    br_ecsv_reader *r = NULL;
    br_record *rec = br_record_new();
    if (!rec) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int fixing = opt && opt->fix_path;
    int rc = br_ecsv_open_mode(path, opt, fixing, &r, err);
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
        br_ecsv_finding(r, BR_SEV_NOTE, -1, 0, "ecsv.fix.crlf", NULL,
                        "CRLF line ends are written as LF");
    if (!rc && r->fixing) rc = br_ecsv_fix_finish(r, err);
done:
    if (r) {
        sum->bytes = br_csv_tell(r->csv);
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
