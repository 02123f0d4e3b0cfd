/* The XLSX publications format through the CLI, as a user runs it: import
 * (validate, --skip-invalid, updates by ISBN where an empty cell keeps and
 * [delete] deletes), an import folder (a zip with the files), the unimported
 * download (an XLSX with an ERROR column), export --format xlsx and its
 * re-import (no change), convert.  Workbooks are written here with
 * libxlsxwriter, as a spreadsheet program writes them (shared strings, an ISBN
 * stored as a number, a date cell). */
#include <xlsxwriter.h>
#include "cli_fixture.h"
#include "bulkrepo/bulkrepo.h"
#include "formats/xlsx_internal.h"

#define NCOL 8
static const char *const HEAD[NCOL] = {
    "ISBN", "Title", "Subtitle", "Contributors", "Publisher", "Publication date", "Files", "Cover"};

/* rows: NCOL cells each; "#N" writes the number N, "@D" a date cell of the ISO date D. */
static void book(fx *f, const char *name, const char *const *rows, size_t n)
{
    lxw_workbook *wb = workbook_new(fx_path(f, name));
    assert_non_null(wb);
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Sheet1");
    lxw_format *date = workbook_add_format(wb);
    format_set_num_format(date, "dd/mm/yyyy");
    for (int c = 0; c < NCOL; c++)
        worksheet_write_string(ws, 0, (lxw_col_t)c, HEAD[c], NULL);
    for (size_t r = 0; r < n; r++)
        for (int c = 0; c < NCOL; c++) {
            const char *v = rows[r * NCOL + (size_t)c];
            lxw_row_t row = (lxw_row_t)(r + 1);
            if (!v || !*v) continue;
            if (v[0] == '#') {
                worksheet_write_number(ws, row, (lxw_col_t)c, strtod(v + 1, NULL), NULL);
            } else if (v[0] == '@') {
                lxw_datetime dt = {0};
                {
                    unsigned mo = 0, d = 0;
                    sscanf(v + 1, "%d-%u-%u", &dt.year, &mo, &d);
                    dt.month = (uint8_t)mo;
                    dt.day = (uint8_t)d;
                }
                worksheet_write_datetime(ws, row, (lxw_col_t)c, &dt, date);
            } else {
                worksheet_write_string(ws, row, (lxw_col_t)c, v, NULL);
            }
        }
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
}

static const char *const ROWS[] = {
    "#9780306406157", "First book",  "A subtitle", "Author: Smith, Ann; Editor: Jones, Bob",
    "Example Press",  "@2021-03-04", NULL,         NULL,
    "0-306-40616-0",  "Second book", NULL,         "Author: Lee, Kim",
    "Other Press",    "2019",        NULL,         NULL,
};

/* Every item's JSON, without the modification time, into the file name. */
static void snapshot(fx *f, const char *name)
{
    SH(f, 0,
       "for h in $(\"$BR\" --repo '%s' item list | cut -f1); do \"$BR\" --repo '%s' item "
       "show \"$h\" --json; done | grep -v lastModified > %s",
       f->repo, f->repo, name);
}

static const char *handle_of(fx *f, const char *isbn)
{
    static char h[128];
    SH(f, 0,
       "for h in $(\"$BR\" --repo '%s' item list | cut -f1); do \"$BR\" --repo '%s' "
       "item show \"$h\" --json | grep -q '%s' && echo \"$h\"; done | head -1",
       f->repo, f->repo, isbn);
    snprintf(h, sizeof h, "%s", f->out);
    fx_chomp(h);
    assert_true(h[0]);
    return h;
}

static void test_import_export_round_trip(void **state)
{
    fx *f = *state;
    book(f, "in.xlsx", ROWS, 2);
    RUN(f, 0, "import --format xlsx -s in.xlsx -c %s -m a.map -v", f->coll);
    assert_int_equal(fx_item_count(f), 0);
    RUN(f, 0, "import --format xlsx -s in.xlsx -c %s -m a.map", f->coll);
    assert_int_equal(fx_item_count(f), 2);
    json_t *it = fx_show(f, handle_of(f, "9780306406157"));
    assert_string_equal(md(it, "dc.title", 0), "First book");
    assert_string_equal(md(it, "dc.date.issued", 0), "2021-03-04");
    assert_string_equal(md(it, "dc.contributor.author", 0), "Smith, Ann");
    assert_string_equal(md(it, "dc.contributor.editor", 0), "Jones, Bob");
    assert_string_equal(md(it, "pub.subtitle", 0), "A subtitle");
    json_decref(it);
    it = fx_show(f, handle_of(f, "9780306406164")); /* the ISBN-10, as ISBN-13 */
    assert_string_equal(md(it, "dc.identifier.isbn", 0), "9780306406164");
    json_decref(it);
    snapshot(f, "before.json");
    RUN(f, 0, "export --format xlsx -t COLLECTION -i %s -d out.xlsx", f->coll);
    assert_true(fx_exists(f, "out.xlsx"));
    RUN(f, 0, "import --format xlsx -s out.xlsx -m b.map");
    assert_int_equal(fx_item_count(f), 2);
    snapshot(f, "after.json");
    SH(f, 0, "diff before.json after.json");
    json_t *job = fx_last_job(f);
    assert_int_equal(fx_counter(job, "updated"), 2);
    json_decref(job);
    /* convert to SAF and back to XLSX */
    RUN(f, 0, "convert --from xlsx --to saf in.xlsx saf");
    char *dc = fx_read(f, "saf/9780306406157/dublin_core.xml");
    assert_non_null(dc);
    assert_contains(dc, "First book");
    free(dc);
}

/* An update: a value in the file replaces, an empty cell keeps, [delete] deletes. */
static void test_update_rules(void **state)
{
    fx *f = *state;
    book(f, "in.xlsx", ROWS, 2);
    RUN(f, 0, "import --format xlsx -s in.xlsx -c %s -m a.map", f->coll);
    static const char *const upd[] = {
        "978-0-306-40615-7", "", "[delete]", "[delete]", "New Press", "", NULL, NULL,
    };
    book(f, "upd.xlsx", upd, 1);
    RUN(f, 0, "import --format xlsx -s upd.xlsx -m u.map");
    assert_int_equal(fx_item_count(f), 2);
    json_t *it = fx_show(f, handle_of(f, "9780306406157"));
    assert_string_equal(md(it, "dc.title", 0), "First book");       /* empty: kept */
    assert_string_equal(md(it, "dc.date.issued", 0), "2021-03-04"); /* empty: kept */
    assert_string_equal(md(it, "dc.publisher", 0), "New Press");    /* replaced */
    assert_int_equal(md_n(it, "pub.subtitle"), 0);                  /* deleted */
    assert_int_equal(md_n(it, "dc.contributor.author"), 0);
    json_decref(it);
}

/* Invalid rows: nothing written (3); --skip-invalid imports the rest (1); the
 * unimported download is an XLSX of the rejected rows with an ERROR column. */
static void test_invalid_and_unimported(void **state)
{
    fx *f = *state;
    static const char *const rows[] = {
        "9780306406157", "Good",  NULL, NULL, NULL, NULL,         NULL, NULL,
        "9780306406158", "Bad",   NULL, NULL, NULL, "2021-02-30", NULL, NULL,
        "9780306406157", "Twice", NULL, NULL, NULL, NULL,         NULL, NULL,
    };
    book(f, "in.xlsx", rows, 3);
    RUN(f, 3, "import --format xlsx -s in.xlsx -c %s -m a.map", f->coll);
    assert_contains(f->err, "Sheet1:A3: error: ISBN '9780306406158' has a wrong ISBN-13 check");
    assert_contains(f->err, "Sheet1:F3: error: Publication date '2021-02-30' is not a date");
    assert_contains(f->err, "Sheet1:A4: error: ISBN 9780306406157 is on row 2 and on row 4");
    assert_int_equal(fx_item_count(f), 0);
    RUN(f, 1, "import --format xlsx -s in.xlsx -c %s -m a.map --skip-invalid", f->coll);
    assert_int_equal(fx_item_count(f), 1);
    json_t *job = fx_last_job(f);
    long long id = (long long)json_integer_value(json_object_get(job, "id"));
    json_decref(job);
    RUN(f, 0, "job unimported %lld -o rejected.xlsx", id);
    br_xlsx_book *b = NULL;
    br_error err;
    assert_int_equal(br_xlsx_open(fx_path(f, "rejected.xlsx"), NULL, &b, &err), 0);
    br_xlsx_row row;
    assert_int_equal(br_xlsx_next_row(b, &row, &err), 1);
    assert_string_equal(row.cells[row.n - 1].text, "ERROR");
    assert_int_equal(br_xlsx_next_row(b, &row, &err), 1);
    assert_string_equal(row.cells[1].text, "Bad");
    assert_contains(row.cells[row.n - 1].text, "wrong ISBN-13 check digit");
    assert_contains(row.cells[row.n - 1].text, "is not a date");
    assert_int_equal(br_xlsx_next_row(b, &row, &err), 1);
    assert_string_equal(row.cells[1].text, "Twice");
    assert_contains(row.cells[row.n - 1].text, "on row 2 and on row 4");
    assert_int_equal(br_xlsx_next_row(b, &row, &err), 0);
    br_xlsx_close(b);
    /* fixed and imported again (the ERROR column is ignored) */
    RUN(f, 1, "import --format xlsx -s rejected.xlsx -m c.map --skip-invalid");
    assert_int_equal(fx_item_count(f), 1);
}

/* An import folder: the workbook and its files zipped; the cover in THUMBNAIL. */
static void test_import_folder(void **state)
{
    fx *f = *state;
    static const char *const rows[] = {
        "9780306406157", "With files", NULL, NULL, NULL, NULL, "book.epub; book.pdf", "cover.jpg",
    };
    SH(f, 0, "mkdir -p pkg");
    book(f, "pkg/pubs.xlsx", rows, 1);
    fx_write(f, "pkg/book.epub", "PK epub bytes");
    fx_write(f, "pkg/book.pdf", "%PDF-1.4 bytes");
    fx_write(f, "pkg/cover.jpg", "jpeg bytes");
    SH(f, 0, "cd pkg && zip -q ../pkg.zip pubs.xlsx book.epub book.pdf cover.jpg");
    RUN(f, 0, "import --format xlsx -s pkg.zip -c %s -m a.map", f->coll);
    json_t *it = fx_show(f, handle_of(f, "9780306406157"));
    json_t *cover = fx_bitstream(it, "cover.jpg");
    assert_non_null(cover);
    assert_string_equal(fx_str(cover, "bundle"), "THUMBNAIL");
    assert_non_null(fx_bitstream(it, "book.epub"));
    json_decref(it);
    /* exported with its files, re-imported: no change */
    snapshot(f, "before.json");
    RUN(f, 0, "export --format xlsx -t COLLECTION -i %s -d out.xlsx", f->coll);
    assert_true(fx_exists(f, "out.xlsx.files/9780306406157/cover.jpg"));
    RUN(f, 0, "import --format xlsx -s out.xlsx -m b.map");
    snapshot(f, "after.json");
    SH(f, 0, "diff before.json after.json");
    /* a file the sheet names that the zip lacks */
    SH(f, 0, "cd pkg && zip -q ../short.zip pubs.xlsx book.epub");
    RUN(f, 3, "import --format xlsx -s short.zip -c %s -m c.map", f->coll);
    assert_contains(f->err, "Sheet1:G2: error: file 'book.pdf': no such file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_import_export_round_trip, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_update_rules, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_and_unimported, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_import_folder, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
