/* The CSV module (core/csv.h): cells, quotes, line ends, physical lines, caps,
 * faults with their line, NUL bytes, seek, and the writer's quoting. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "core/csv.h"

typedef struct fixture {
    char *tmp;
    br_csv_reader *r;
    br_csv_record rec;
    br_error err;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->tmp = tu_tmpdir();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    br_csv_reader_free(f->r);
    tu_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

/* Opens a reader over the n bytes of text. */
static void open_bytes(fixture *f, const char *text, size_t n, const br_csv_read_options *o)
{
    br_csv_reader_free(f->r);
    f->r = NULL;
    tu_write_bytes(f->tmp, "in.csv", text, n);
    assert_int_equal(br_csv_reader_open(tu_path(f->tmp, "in.csv"), o, &f->r, &f->err), 0);
}

static void open_text(fixture *f, const char *text)
{
    open_bytes(f, text, strlen(text), NULL);
}

static int next(fixture *f)
{
    br_error_clear(&f->err);
    return br_csv_next(f->r, &f->rec, &f->err);
}

static void assert_cell(const br_csv_record *r, unsigned i, const char *want, int quoted)
{
    assert_true(i < r->n);
    assert_int_equal(r->cells[i].len, strlen(want));
    assert_memory_equal(r->cells[i].p, want, strlen(want));
    assert_int_equal(r->cells[i].quoted, quoted);
}

static void test_cells_and_quotes(void **state)
{
    fixture *f = *state;
    open_text(f, "a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\n,,\n\"\"\n");
    assert_int_equal(next(f), 1);
    assert_int_equal(f->rec.n, 3);
    assert_cell(&f->rec, 0, "a", 0);
    assert_cell(&f->rec, 2, "c", 0);
    assert_int_equal(f->rec.line, 1);
    assert_int_equal(f->rec.offset, 0);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->rec.n, 3);
    assert_cell(&f->rec, 0, "x, y", 1);
    assert_cell(&f->rec, 1, "say \"hi\"", 1);
    assert_cell(&f->rec, 2, "", 0);
    assert_int_equal(f->rec.offset, 6);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->rec.n, 3); /* ",," is three empty cells */
    assert_int_equal(next(f), 1);
    assert_int_equal(f->rec.n, 1);
    assert_cell(&f->rec, 0, "", 1);
    assert_int_equal(next(f), 0);
    assert_int_equal(next(f), 0);
}

static void test_line_ends_and_lines(void **state)
{
    fixture *f = *state;
    /* CRLF, a quoted cell with a CRLF and a LF inside, blank lines (LF, CRLF, CR),
     * a CR-only record end, and a last record without a line end. */
    open_text(f, "h1,h2\r\n\r\n\"one\r\ntwo\nthree\",x\r\n\n\ra,b\rlast,\"q\"");
    assert_int_equal(next(f), 1);
    assert_int_equal(f->rec.line, 1);
    assert_int_equal(f->rec.cr, 1);
    assert_cell(&f->rec, 1, "h2", 0); /* no CR in the last cell */
    assert_int_equal(next(f), 1);
    assert_int_equal(f->rec.line, 3); /* the blank line 2 counts */
    assert_int_equal(f->rec.lines, 3);
    assert_cell(&f->rec, 0, "one\r\ntwo\nthree", 1); /* kept byte for byte */
    assert_int_equal(f->rec.offset, 9);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->rec.line, 8); /* lines 6 (LF) and 7 (CR) are blank */
    assert_cell(&f->rec, 1, "b", 0);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->rec.line, 9);
    assert_int_equal(f->rec.cr, 0);
    assert_cell(&f->rec, 1, "q", 1);
    assert_int_equal(next(f), 0);
}

/* A CRLF inside a quoted cell split between two reads is one line break. */
static void test_lines_across_reads(void **state)
{
    fixture *f = *state;
    size_t n = 64 * 1024 + 100;
    char *t = malloc(n + 1);
    memset(t, 'x', n);
    t[0] = '"';
    t[64 * 1024 - 1] = '\r';
    t[64 * 1024] = '\n';
    memcpy(t + n - 8, "\"\nnext\n", 8);
    open_bytes(f, t, n - 1, NULL);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->rec.lines, 2);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->rec.line, 3);
    assert_cell(&f->rec, 0, "next", 0);
    free(t);
}

static void test_bom(void **state)
{
    fixture *f = *state;
    open_text(f, "\xEF\xBB\xBF"
                 "a,b\n");
    assert_int_equal(next(f), 1);
    assert_cell(&f->rec, 0, "a", 0);
    assert_int_equal(f->rec.offset, 3);
    assert_true(br_csv_had_bom(f->r));
}

static void test_nul_in_cell(void **state)
{
    fixture *f = *state;
    static const char t[] = "a,b\x00"
                            "c,d\n\"q\x00r\",x\n";
    open_bytes(f, t, sizeof t - 1, NULL);
    assert_int_equal(next(f), 1);
    assert_true(f->rec.has_nul);
    assert_int_equal(f->rec.cells[1].len, 3); /* not cut at the NUL */
    assert_memory_equal(f->rec.cells[1].p, "b\0c", 3);
    assert_cell(&f->rec, 2, "d", 0);
    assert_int_equal(next(f), 1);
    assert_true(f->rec.has_nul);
    assert_int_equal(f->rec.cells[0].len, 3);
    assert_int_equal(next(f), 0);
}

static void test_faults(void **state)
{
    fixture *f = *state;
    /* An unterminated quote: BR_EINVAL with the line where it opened. */
    open_text(f, "a,b\n\nc,\"open\nmore\n");
    assert_int_equal(next(f), 1);
    assert_int_equal(next(f), BR_EINVAL);
    assert_int_equal(f->err.place.line, 3);
    assert_int_equal(f->err.place.column, 2);
    assert_int_equal(br_csv_fault_of(f->r).kind, BR_CSV_UNTERMINATED);
    assert_int_equal(br_csv_fault_of(f->r).line, 3);
    assert_int_equal(next(f), BR_EINVAL); /* stays stopped */

    open_text(f, "a,\"b\"c\n");
    assert_int_equal(next(f), BR_EINVAL);
    assert_int_equal(br_csv_fault_of(f->r).kind, BR_CSV_TEXT_AFTER_QUOTE);
    open_text(f, "\n\na,b\"c\n");
    assert_int_equal(next(f), BR_EINVAL);
    assert_int_equal(br_csv_fault_of(f->r).kind, BR_CSV_QUOTE_INSIDE_CELL);
    assert_int_equal(f->err.place.line, 3);

    /* Caps: a cell, the cells of a record, a record. */
    br_csv_read_options o = {.max_cell = 4, .max_columns = 3, .max_record = 10};
    open_bytes(f, "abcd,x\n\nabcde\n", 14, &o);
    assert_int_equal(next(f), 1);
    assert_int_equal(next(f), BR_ELIMIT);
    assert_int_equal(br_csv_fault_of(f->r).kind, BR_CSV_CELL_TOO_LARGE);
    assert_int_equal(f->err.place.line, 3);
    open_bytes(f, "a,b,c\na,b,c,d\n", 14, &o);
    assert_int_equal(next(f), 1);
    assert_int_equal(next(f), BR_ELIMIT);
    assert_int_equal(br_csv_fault_of(f->r).kind, BR_CSV_TOO_MANY_COLUMNS);
    assert_int_equal(f->err.place.line, 2);
    assert_int_equal(f->err.place.column, 4);
    open_bytes(f, "abcd,abcd,abcd\n", 15, &o);
    assert_int_equal(next(f), BR_ELIMIT);
    assert_int_equal(br_csv_fault_of(f->r).kind, BR_CSV_RECORD_TOO_LARGE);
    /* A quoted cell is capped while it is read (a quote never closed cannot eat the memory). */
    open_bytes(f, "\"abcdefgh", 9, &o);
    assert_int_equal(next(f), BR_ELIMIT);
}

static void test_seek(void **state)
{
    fixture *f = *state;
    open_text(f, "h\n\"a\nb\"\n\nc\nd\n");
    br_csv_record recs[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(next(f), 1);
        recs[i] = f->rec;
    }
    assert_int_equal(recs[2].line, 5);
    assert_int_equal(recs[3].line, 6);
    unsigned line = 0;
    assert_int_equal(
        br_csv_line_at(f->r, recs[1].offset, recs[1].line, recs[3].offset, &line, &f->err), 0);
    assert_int_equal(line, 6);
    assert_int_equal(br_csv_seek(f->r, recs[2].offset, recs[2].line, &f->err), 0);
    assert_int_equal(next(f), 1);
    assert_cell(&f->rec, 0, "c", 0);
    assert_int_equal(f->rec.line, 5);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->rec.line, 6);
    assert_int_equal(next(f), 0);
    assert_int_equal(br_csv_tell(f->r), 13);
}

static void test_writer(void **state)
{
    fixture *f = *state;
    const char *path = tu_path(f->tmp, "out.csv");
    br_csv_writer *w;
    assert_int_equal(br_csv_writer_create(path, NULL, &w, &f->err), 0);
    assert_int_equal(br_csv_write_str(w, "plain", 0, &f->err), 0);
    assert_int_equal(br_csv_write_str(w, "a,b", 0, &f->err), 0);
    assert_int_equal(br_csv_write_str(w, "say \"hi\"", 0, &f->err), 0);
    assert_int_equal(br_csv_write_str(w, "two\r\nlines", 0, &f->err), 0);
    assert_int_equal(br_csv_write_str(w, "", 0, &f->err), 0);
    assert_int_equal(br_csv_write_str(w, "q", 1, &f->err), 0);
    assert_int_equal(br_csv_write_cell(w, "n\0l", 3, 0, &f->err), 0);
    assert_int_equal(br_csv_end_record(w, &f->err), 0);
    assert_int_equal(br_csv_write_str(w, "", 0, &f->err), 0);
    assert_int_equal(br_csv_end_record(w, &f->err), 0);
    assert_false(tu_exists(path)); /* not before close */
    assert_int_equal(br_csv_writer_close(w, &f->err), 0);
    static const char want[] =
        "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\",,\"q\",n\0l\r\n\r\n";
    char *got = tu_read(path);
    assert_memory_equal(got, want, sizeof want - 1);
    free(got);
    assert_int_equal(tu_count_entries(f->tmp), 1); /* out.csv, no temporary file */

    /* Read back: the same cells. */
    br_csv_reader_free(f->r);
    assert_int_equal(br_csv_reader_open(path, NULL, &f->r, &f->err), 0);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->rec.n, 7);
    assert_cell(&f->rec, 2, "say \"hi\"", 1);
    assert_cell(&f->rec, 3, "two\r\nlines", 1);

    /* Always quote, LF ends, to a FILE*. */
    FILE *fp = fopen(tu_path(f->tmp, "lf.csv"), "wb");
    br_csv_write_options o = {.always_quote = 1, .lf = 1};
    assert_int_equal(br_csv_writer_open_file(fp, &o, &w, &f->err), 0);
    assert_int_equal(br_csv_write_str(w, "a", 0, &f->err), 0);
    assert_int_equal(br_csv_write_str(w, "", 0, &f->err), 0);
    assert_int_equal(br_csv_end_record(w, &f->err), 0);
    assert_int_equal(br_csv_writer_close(w, &f->err), 0);
    fclose(fp);
    assert_file_equals(tu_path(f->tmp, "lf.csv"), "\"a\",\"\"\n");

    /* Abort leaves nothing; a write to a bad fd fails and stays failed. */
    assert_int_equal(br_csv_writer_create(tu_path(f->tmp, "gone.csv"), NULL, &w, &f->err), 0);
    assert_int_equal(br_csv_write_str(w, "x", 0, &f->err), 0);
    br_csv_writer_abort(w);
    assert_int_equal(tu_count_entries(f->tmp), 2);
    int fd = open("/dev/null", O_RDONLY);
    assert_int_equal(br_csv_writer_open_fd(fd, NULL, &w, &f->err), 0);
    assert_int_equal(br_csv_write_str(w, "x", 0, &f->err), 0);
    assert_int_equal(br_csv_writer_close(w, &f->err), BR_EIO);
    close(fd);
    /* Into a folder that does not exist: no file. */
    assert_int_equal(br_csv_writer_create(tu_path(f->tmp, "no/x.csv"), NULL, &w, &f->err), BR_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cells_and_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_ends_and_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_across_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_in_cell, setup, teardown),
        cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seek, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
