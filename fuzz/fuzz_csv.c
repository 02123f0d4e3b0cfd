/* core/csv: the input is read as CSV with small caps; every record is written
 * back with the writer and read again, and must come back cell for cell (a
 * record of one empty cell is written as an empty line, which is no record,
 * so it is left out of the comparison). */
#include "fuzz_util.h"
#include "core/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = fz_path("in.csv");
    const char *out = fz_path("out.csv");
    fz_write(in, data, size);
    br_csv_read_options ro = {.max_cell = 4096, .max_record = 65536, .max_columns = 256};
    br_csv_reader *r = NULL;
    br_error err;
    if (br_csv_reader_open(in, &ro, &r, &err)) abort();
    br_csv_writer *w = NULL;
    unlink(out);
    if (br_csv_writer_create(out, NULL, &w, &err)) abort();
    br_csv_record rec;
    int rc;
    size_t written = 0;
    while ((rc = br_csv_next(r, &rec, &err)) == 1) {
        if (rec.n == 0 || rec.line == 0) abort();
        if (rec.n == 1 && rec.cells[0].len == 0) continue;
        /* A first cell starting with a byte-order mark would be skipped on re-reading. */
        if (!written && rec.cells[0].len >= 3 && !memcmp(rec.cells[0].p, "\xEF\xBB\xBF", 3))
            continue;
        for (unsigned i = 0; i < rec.n; i++)
            if (br_csv_write_cell(w, rec.cells[i].p, rec.cells[i].len, 0, &err)) abort();
        if (br_csv_end_record(w, &err)) abort();
        written++;
    }
    br_csv_fault f = br_csv_fault_of(r);
    if (rc < 0 && f.kind == BR_CSV_OK) abort(); /* a failure names its fault */
    br_csv_reader_free(r);
    if (br_csv_writer_close(w, &err)) abort();

    /* Read both again: the written records equal the first read's. */
    br_csv_reader *a = NULL, *b = NULL;
    if (br_csv_reader_open(in, &ro, &a, &err) || br_csv_reader_open(out, &ro, &b, &err)) abort();
    br_csv_record ra, rb;
    size_t seen = 0;
    for (;;) {
        int ka = br_csv_next(a, &ra, &err);
        if (ka != 1) break;
        if (ra.n == 1 && ra.cells[0].len == 0) continue;
        if (!seen && ra.cells[0].len >= 3 && !memcmp(ra.cells[0].p, "\xEF\xBB\xBF", 3)) continue;
        int kb = br_csv_next(b, &rb, &err);
        if (kb != 1) abort();
        if (ra.n != rb.n) abort();
        for (unsigned i = 0; i < ra.n; i++)
            if (ra.cells[i].len != rb.cells[i].len ||
                memcmp(ra.cells[i].p, rb.cells[i].p, ra.cells[i].len))
                abort();
        seen++;
    }
    if (seen != written) abort();
    br_csv_reader_free(a);
    br_csv_reader_free(b);
    return 0;
}
