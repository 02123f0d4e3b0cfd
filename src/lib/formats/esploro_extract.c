/* The Esploro CSV driver's unimported download: the rows of a job's rejected
 * groups, as the input had them, with an ERROR column, ready to fix and import
 * again.
 *
 * The input is read with the CSV module and written with its writer, a cell
 * quoted where the input quoted it, so values with commas, quotes and line
 * breaks come out byte for byte (records end with CRLF; a byte-order mark is
 * kept).  A row with an empty column B continues the group above, as the
 * reader takes it; keys are trimmed as the reader trims them (br_ecsv_trim),
 * so the journal's key finds a group whose key had edge whitespace in the file.
 *
 * Each row's ERROR cell (always quoted, as the download always wrote it) holds
 * that row's own findings (those whose line is the row's first physical line),
 * one per line; the group's first row also takes the findings that name no row
 * of the group (line 0, the header, a line inside a multi-line cell).  A record
 * whose findings have no line at all (a failure of the whole record), or that has
 * no findings (then its message), says it on every row, as the download did.
 * Which findings name a row is known only once every row of the group is seen,
 * so the file is read twice: memory stays one flag per finding. */
#include <stdlib.h>
#include <string.h>
#include "formats/drivers.h"
#include "formats/esploro_internal.h"

typedef struct extract {
    const br_extract_options *opt;
    br_csv_read_options ro;
    br_strmap want;         /* trimmed key -> index in opt->records */
    size_t *first;          /* per record: its first finding's index in matched */
    unsigned char *matched; /* per finding: its line is a row of its group */
    unsigned char *started; /* per record: its first row is written */
    br_buf key, text;
    unsigned header_cells, width; /* cells of the header; of the widest row written */
    int bom;
} extract;

/* The record the row continues or starts: its index, -1 when it is not wanted.
 * *cur carries the group of the rows above. */
static int row_group(extract *x, const br_csv_record *rec, long *cur)
{
    const char *k = rec->n > 1 ? rec->cells[1].p : "";
    size_t kn = rec->n > 1 ? rec->cells[1].len : 0;
    br_ecsv_trim(&k, &kn);
    if (!kn) return 0; /* continues the group above */
    br_buf_clear(&x->key);
    if (br_buf_append(&x->key, k, kn)) return BR_ENOMEM;
    int64_t idx;
    *cur = br_strmap_get(&x->want, x->key.p, &idx) ? (long)idx : -1;
    return 0;
}

/* Pass 1: which findings name a row of their group, and how wide the output is. */
static int mark_rows(extract *x, br_error *err)
{
    br_csv_reader *in = NULL;
    br_csv_record rec;
    long cur = -1;
    int rc = br_csv_reader_open(x->opt->source, &x->ro, &in, err);
    if (rc) return rc;
    if ((rc = br_csv_next(in, &rec, err)) <= 0) {
        if (!rc) rc = br_error_set(err, BR_EINVAL, x->opt->source, 1, 0, "the file is empty");
        goto done;
    }
    x->header_cells = x->width = rec.n;
    x->bom = br_csv_had_bom(in);
    while ((rc = br_csv_next(in, &rec, err)) == 1) {
        if ((rc = row_group(x, &rec, &cur))) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        if (cur < 0) continue;
        if (rec.n > x->width) x->width = rec.n;
        const br_rejected *rj = &x->opt->records[cur];
        for (size_t j = 0; j < rj->n_findings; j++)
            if (rj->findings[j].line == rec.line) x->matched[x->first[cur] + j] = 1;
    }
done:
    br_csv_reader_free(in);
    return rc;
}

/* The ERROR cell of a row of record i at line (first: the group's first row). */
static int error_text(extract *x, size_t i, unsigned line, int first)
{
    const br_rejected *rj = &x->opt->records[i];
    br_buf_clear(&x->text);
    /* A record none of whose findings has a line (a journal message read back as one
     * finding of line 0, a failure of the whole record) says it on every row. */
    int located = 0;
    for (size_t j = 0; j < rj->n_findings && !located; j++)
        located = rj->findings[j].line != 0;
    int rc = 0;
    for (size_t j = 0; !rc && j < rj->n_findings; j++) {
        const br_finding *f = &rj->findings[j];
        if (located && f->line != line && !(first && !x->matched[x->first[i] + j])) continue;
        if (x->text.len) rc = br_buf_append(&x->text, "\n", 1);
        if (!rc) rc = br_buf_puts(&x->text, f->text ? f->text : "");
    }
    if (!rc && !rj->n_findings && rj->message) rc = br_buf_puts(&x->text, rj->message);
    return rc ? BR_ENOMEM : 0;
}

/* Writes rec's cells as the input had them, padded to width cells. */
static int copy_row(extract *x, br_csv_writer *out, const br_csv_record *rec, br_error *err)
{
    int rc = 0;
    for (unsigned c = 0; !rc && c < rec->n; c++)
        rc = br_csv_write_cell(out, rec->cells[c].p, rec->cells[c].len, rec->cells[c].quoted, err);
    for (unsigned c = rec->n; !rc && c < x->width; c++)
        rc = br_csv_write_cell(out, "", 0, 0, err);
    return rc;
}

/* Pass 2: the header, then the rows of the wanted groups. */
static int write_rows(extract *x, br_csv_writer *out, br_error *err)
{
    br_csv_reader *in = NULL;
    br_csv_record rec;
    long cur = -1;
    int rc = br_csv_reader_open(x->opt->source, &x->ro, &in, err);
    if (rc) return rc;
    if ((rc = br_csv_next(in, &rec, err)) <= 0) {
        if (!rc) rc = br_error_set(err, BR_EINVAL, x->opt->source, 1, 0, "the file is empty");
        goto done;
    }
    if (x->bom && (rc = br_csv_write_raw(out, "\xEF\xBB\xBF", 3, err))) goto done;
    if ((rc = copy_row(x, out, &rec, err)) || (rc = br_csv_write_str(out, "ERROR", 0, err)) ||
        (rc = br_csv_end_record(out, err)))
        goto done;
    while ((rc = br_csv_next(in, &rec, err)) == 1) {
        if ((rc = row_group(x, &rec, &cur))) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        if (cur < 0) continue;
        int first = !x->started[cur];
        x->started[cur] = 1;
        if (error_text(x, (size_t)cur, rec.line, first)) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        if ((rc = copy_row(x, out, &rec, err)) ||
            (rc = br_csv_write_cell(out, x->text.p ? x->text.p : "", x->text.len, 1, err)) ||
            (rc = br_csv_end_record(out, err)))
            goto done;
    }
done:
    br_csv_reader_free(in);
    return rc;
}

int br_ecsv_drv_extract(const br_extract_options *opt, br_error *err)
{
    extract x = {0};
    br_csv_writer *out = NULL;
    int rc = 0;
    x.opt = opt;
    x.ro.max_cell = opt->limits ? opt->limits->max_field : 0;
    x.ro.max_columns = BR_ECSV_MAX_COLUMNS;
    size_t total = 0;
    x.first = calloc(opt->n_records + 1, sizeof *x.first);
    x.started = calloc(opt->n_records + 1, 1);
    for (size_t i = 0; x.first && i < opt->n_records; i++) {
        x.first[i] = total;
        total += opt->records[i].n_findings;
    }
    x.matched = calloc(total + 1, 1);
    if (!x.first || !x.started || !x.matched) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < opt->n_records; i++) {
        int64_t seen;
        if (br_strmap_get(&x.want, opt->records[i].key, &seen)) continue; /* the first one */
        if (br_strmap_put(&x.want, opt->records[i].key, (int64_t)i)) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
    }
    if ((rc = mark_rows(&x, err))) goto done;
    if ((rc = br_csv_writer_create(opt->out_path, NULL, &out, err))) goto done;
    if ((rc = write_rows(&x, out, err))) goto done;
    rc = br_csv_writer_close(out, err);
    out = NULL;
done:
    br_csv_writer_abort(out); /* a failed download leaves no file */
    br_strmap_dispose(&x.want);
    br_buf_dispose(&x.key);
    br_buf_dispose(&x.text);
    free(x.first);
    free(x.matched);
    free(x.started);
    return rc;
}
