/* The XLSX publications driver through its table (formats/format.h): the
 * reader's cells (shared and inline strings, numbers as stored, date serials,
 * booleans), the ISBN key and its rules, empty keeps / [delete] deletes,
 * places (Sheet1!D17), bad workbooks (a missing shared string, malformed XML, a
 * missing sheet, a zip bomb), an import folder, the writer and the unimported
 * download.  Workbooks are made here: by hand with libzip (every byte of the
 * XML chosen) or with libxlsxwriter (as a spreadsheet program writes them). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xlsxwriter.h>
#include <zip.h>
#include "testutil.h"
#include "bulkrepo/bulkrepo.h"
#include "formats/format.h"
#include "formats/xlsx_internal.h"

typedef struct fixture {
    char *tmp;
    tu_log log;
    br_diag_sink sink;
    br_limits lim;
    br_reader *rd;
    br_record *rec;
    br_read_info info;
} fixture;

static void on_diag(void *ctx, const br_diag *d)
{
    char buf[2600];
    br_diag_format(d, buf, sizeof buf);
    tu_log_printf(ctx, "%s [%s] {%s}\n", buf, d->rule ? d->rule : "", d->item ? d->item : "");
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->tmp = tu_tmpdir();
    tu_log_init(&f->log);
    f->sink = (br_diag_sink){on_diag, &f->log, 0, 0, 0};
    br_limits_default(&f->lim);
    f->rec = br_record_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    br_format_xlsx.close(f->rd);
    br_record_free(f->rec);
    tu_log_dispose(&f->log);
    tu_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

static void add_part(zip_t *z, const char *name, const char *text)
{
    zip_source_t *s = zip_source_buffer(z, text, strlen(text), 0);
    assert_non_null(s);
    assert_true(zip_file_add(z, name, s, ZIP_FL_OVERWRITE) >= 0);
}

/* A workbook of one sheet (its <sheetData> content), shared strings and styles
 * (NULL: none). */
static const char *make_book(fixture *f, const char *name, const char *rows, const char *sst,
                             const char *styles)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s", tu_path(f->tmp, name));
    char *sheet = NULL;
    assert_true(
        asprintf(&sheet,
                 "<?xml version=\"1.0\"?>\n<worksheet xmlns=\"http://schemas.openxmlformats."
                 "org/spreadsheetml/2006/main\">\n<sheetData>\n%s\n</sheetData>\n"
                 "</worksheet>\n",
                 rows) > 0);
    int e = 0;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &e);
    assert_non_null(z);
    add_part(z, "xl/workbook.xml",
             "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
             "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">"
             "<sheets><sheet name=\"Books\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>");
    add_part(z, "xl/_rels/workbook.xml.rels",
             "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/"
             "relationships\"><Relationship Id=\"rId1\" Type=\"x\" "
             "Target=\"worksheets/sheet1.xml\"/></Relationships>");
    add_part(z, "xl/worksheets/sheet1.xml", sheet);
    if (sst) add_part(z, "xl/sharedStrings.xml", sst);
    if (styles) add_part(z, "xl/styles.xml", styles);
    assert_int_equal(zip_close(z), 0);
    free(sheet);
    return path;
}

static int open_src(fixture *f, const char *path, const char *scratch, br_error *err)
{
    br_read_options o = {0};
    o.source = path;
    o.scratch = scratch;
    o.limits = &f->lim;
    o.diags = &f->sink;
    br_format_xlsx.close(f->rd);
    f->rd = NULL;
    return br_format_xlsx.open(&o, &f->rd, err);
}

static int next(fixture *f)
{
    br_error err;
    return br_format_xlsx.next(f->rd, f->rec, &f->info, &err);
}

static int covered(fixture *f, const char *target)
{
    for (size_t i = 0; i < f->info.n_covered; i++)
        if (!strcmp(f->info.covered[i], target)) return 1;
    return 0;
}

#define HEADER                                                                                     \
    "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>isbn</t></is></c>"                            \
    "<c r=\"B1\" t=\"s\"><v>0</v></c><c r=\"C1\" t=\"inlineStr\"><is><t> Publication Date "        \
    "</t></is></c><c r=\"D1\" t=\"inlineStr\"><is><t>Subtitle</t></is></c>"                        \
    "<c r=\"E1\" t=\"inlineStr\"><is><t>Contributors</t></is></c>"                                 \
    "<c r=\"F1\" t=\"inlineStr\"><is><t>Subjects</t></is></c>"                                     \
    "<c r=\"G1\" t=\"inlineStr\"><is><t>Shelf</t></is></c></row>"

#define SST                                                                                        \
    "<sst><si><t>TITLE</t></si><si><r><rPr><b/></rPr><t>Rich </t></r><r><t>title</t></r>"          \
    "<rPh><t>ignored</t></rPh></si></sst>"

#define STYLES                                                                                     \
    "<styleSheet><numFmts><numFmt numFmtId=\"164\" formatCode=\"yyyy\\-mm\\-dd\"/></numFmts>"      \
    "<cellXfs><xf numFmtId=\"0\"/><xf numFmtId=\"164\"/><xf numFmtId=\"14\"/>"                     \
    "<xf numFmtId=\"20\"/></cellXfs></styleSheet>"

/* Strings shared and inline, an ISBN as a number and in E notation, an ISBN-10
 * that lost its leading zero, date serials (custom and built-in formats), a
 * date as text, contributors, subjects, case-insensitive headers, an unknown
 * column (a warning). */
static void test_cells(void **state)
{
    fixture *f = *state;
    const char *p = make_book(
        f, "a.xlsx",
        HEADER "<row r=\"2\"><c r=\"A2\"><v>9780306406157</v></c><c r=\"B2\" t=\"s\"><v>1</v></c>"
               "<c r=\"C2\" s=\"1\"><v>44000</v></c><c r=\"E2\" t=\"inlineStr\"><is><t>Author: "
               "Smith, Ann; Editor: Jones, Bob; Lee</t></is></c><c r=\"F2\" t=\"inlineStr\"><is>"
               "<t>History ;  Science;</t></is></c><c r=\"G2\" t=\"b\"><v>1</v></c></row>\n"
               "<row r=\"4\"><c r=\"A4\"><v>9.780306406164E+12</v></c><c r=\"C4\" s=\"2\">"
               "<v>60.5</v></c></row>\n"
               "<row r=\"5\"><c r=\"A5\"><v>306406152</v></c><c r=\"C5\" s=\"2\"><v>61</v></c>"
               "</row>\n"
               "<row r=\"6\"><c r=\"A6\" t=\"str\"><f>X</f><v>978-0-306-40615-7</v></c></row>",
        SST, STYLES);
    br_error err;
    assert_int_equal(open_src(f, p, NULL, &err), 0);
    assert_contains(f->log.text, "Books:G1: warning: column 'Shelf' is not in the column set");
    assert_int_equal(next(f), 1);
    assert_string_equal(f->info.key, "9780306406157");
    assert_int_equal(f->info.errors, 0);
    assert_int_equal(f->info.first_line, 2);
    assert_string_equal(br_record_first(f->rec, "dc.identifier.isbn"), "9780306406157");
    assert_string_equal(br_record_first(f->rec, "dc.title"), "Rich title");
    assert_string_equal(br_record_first(f->rec, "dc.date.issued"), "2020-06-18");
    assert_int_equal(f->rec->n_ids, 1);
    assert_string_equal(f->rec->ids[0].type, "isbn");
    assert_int_equal(f->rec->n_creators, 3);
    assert_int_equal(f->rec->creators[0].role, BR_CREATOR);
    assert_string_equal(f->rec->creators[0].family, "Smith");
    assert_string_equal(f->rec->creators[0].given, "Ann");
    assert_int_equal(f->rec->creators[1].role, BR_CONTRIBUTOR);
    assert_string_equal(f->rec->creators[1].contrib_type, "editor");
    assert_string_equal(f->rec->creators[2].family, "Lee");
    size_t subjects = 0;
    for (size_t i = 0; i < f->rec->n_md; i++)
        if (!strcmp(f->rec->md[i].element, "subject")) subjects++;
    assert_int_equal(subjects, 2);
    assert_true(covered(f, "dc.title") && covered(f, "@creator") && covered(f, "@contributor"));
    assert_false(covered(f, "pub.subtitle")); /* no cell: kept */
    /* row 4: E notation keeps every digit; 60.5 styled as a date is not a date (1900-02-29) */
    assert_int_equal(next(f), 1);
    assert_string_equal(f->info.key, "9780306406164");
    assert_int_equal(f->info.errors, 1);
    assert_contains(f->log.text, "Books:C4: error: the date serial 60.5 is not a date");
    /* row 5: an ISBN-10 stored as a number (its leading 0 lost) -> ISBN-13; serial 61 */
    assert_int_equal(next(f), 1);
    assert_int_equal(f->info.errors, 1); /* the same ISBN as row 2 */
    assert_contains(f->log.text, "Books:A5: error: ISBN 9780306406157 is on row 2 and on row 5");
    assert_string_equal(f->info.key, "row-5");
    assert_string_equal(br_record_first(f->rec, "dc.date.issued"), "1900-03-01");
    /* row 6: a formula's cached string */
    assert_int_equal(next(f), 1);
    assert_string_equal(f->info.key, "row-6");
    assert_contains(f->log.text, "Books:A6: error: ISBN 9780306406157 is on row 2 and on row 6");
    assert_int_equal(next(f), 0);
    /* rewind: the same records, the duplicates again */
    assert_int_equal(br_format_xlsx.rewind(f->rd, &err), 0);
    assert_int_equal(next(f), 1);
    assert_string_equal(f->info.key, "9780306406157");
    assert_int_equal(f->info.errors, 0);
}

/* An empty cell keeps (not covered); [delete] deletes (covered, no value). */
static void test_delete_and_keep(void **state)
{
    fixture *f = *state;
    const char *p = make_book(
        f, "d.xlsx",
        HEADER "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>9780306406157</t></is></c>"
               "<c r=\"B2\" t=\"inlineStr\"><is><t>  </t></is></c>"
               "<c r=\"D2\" t=\"inlineStr\"><is><t>[Delete]</t></is></c>"
               "<c r=\"E2\" t=\"inlineStr\"><is><t>[delete]</t></is></c></row>",
        SST, NULL);
    br_error err;
    assert_int_equal(open_src(f, p, NULL, &err), 0);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->info.errors, 0);
    assert_false(covered(f, "dc.title"));
    assert_false(covered(f, "dc.date.issued"));
    assert_true(covered(f, "pub.subtitle"));
    assert_true(covered(f, "@creator"));
    assert_true(covered(f, "@contributor"));
    assert_true(covered(f, "dc.identifier.isbn"));
    assert_null(br_record_first(f->rec, "pub.subtitle"));
    assert_int_equal(f->rec->n_creators, 0);
}

/* Each row rule with a row that breaks it, each named by its sheet and cell. */
static void test_bad_rows(void **state)
{
    fixture *f = *state;
    const char *p = make_book(
        f, "b.xlsx",
        HEADER "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>9780306406158</t></is></c></row>"
               "<row r=\"3\"><c r=\"B3\" t=\"s\"><v>0</v></c></row>"
               "<row r=\"4\"><c r=\"A4\" t=\"inlineStr\"><is><t>0-306-40615-3</t></is></c></row>"
               "<row r=\"5\"><c r=\"A5\" t=\"inlineStr\"><is><t>0306406152</t></is></c>"
               "<c r=\"B5\" t=\"s\"><v>7</v></c><c r=\"C5\" t=\"inlineStr\"><is><t>2021-13-01</t>"
               "</is></c><c r=\"D5\" t=\"e\"><v>#N/A</v></c></row>"
               "<row r=\"6\"><c r=\"G6\" t=\"inlineStr\"><is><t>only an ignored column</t></is>"
               "</c></row>",
        SST, NULL);
    br_error err;
    assert_int_equal(open_src(f, p, NULL, &err), 0);
    assert_int_equal(next(f), 1);
    assert_string_equal(f->info.key, "row-2");
    assert_contains(f->log.text,
                    "Books:A2: error: ISBN '9780306406158' has a wrong ISBN-13 check digit");
    assert_int_equal(next(f), 1);
    assert_string_equal(f->info.key, "row-3");
    assert_contains(f->log.text, "Books:A3: error: row 3 has no ISBN");
    assert_int_equal(next(f), 1);
    assert_contains(f->log.text, "Books:A4: error: ISBN '0-306-40615-3' has a wrong ISBN-10");
    assert_int_equal(next(f), 1);
    assert_string_equal(f->info.key, "9780306406157");
    assert_int_equal(f->info.errors, 3);
    assert_contains(f->log.text, "Books:B5: error: shared string 7 does not exist (the workbook "
                                 "has 2) [xlsx.cell] {9780306406157}");
    assert_contains(f->log.text, "Books:C5: error: Publication date '2021-13-01' is not a date");
    assert_contains(f->log.text, "Books:D5: error: the cell holds the error #N/A");
    assert_int_equal(next(f), 0); /* row 6 has nothing in the set's columns */
}

static void test_bad_workbooks(void **state)
{
    fixture *f = *state;
    br_error err;
    /* malformed XML: the part, line and column */
    const char *p =
        make_book(f, "m.xlsx", HEADER "\n<row r=\"2\"><c r=\"A2\"><v>1</c></row>", SST, NULL);
    int rc = open_src(f, p, NULL, &err);
    if (!rc) rc = next(f); /* libxml2 may meet it while the header row is read */
    assert_int_equal(rc, BR_EINVAL);
    char msg[2048];
    br_error_format(&err, msg, sizeof msg);
    assert_contains(msg, "m.xlsx:xl/worksheets/sheet1.xml:5:");
    assert_contains(msg, "malformed XML");
    /* no header's ISBN */
    p = make_book(f, "n.xlsx", "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row>", SST, NULL);
    assert_int_equal(open_src(f, p, NULL, &err), BR_EINVAL);
    assert_contains(err.message, "no ISBN column");
    /* a DOCTYPE */
    p = make_book(f, "t.xlsx", HEADER, SST, NULL);
    {
        int e = 0;
        zip_t *z = zip_open(p, 0, &e);
        add_part(z, "xl/sharedStrings.xml",
                 "<!DOCTYPE sst [<!ENTITY a \"aaaa\">]><sst><si><t>&a;</t></si></sst>");
        assert_int_equal(zip_close(z), 0);
    }
    assert_int_equal(open_src(f, p, NULL, &err), BR_EINVAL);
    assert_contains(err.message, "DOCTYPE");
    /* a missing sheet part */
    p = make_book(f, "s.xlsx", HEADER, SST, NULL);
    {
        int e = 0;
        zip_t *z = zip_open(p, 0, &e);
        assert_int_equal(
            zip_delete(z, (zip_uint64_t)zip_name_locate(z, "xl/worksheets/sheet1.xml", 0)), 0);
        assert_int_equal(zip_close(z), 0);
    }
    assert_int_equal(open_src(f, p, NULL, &err), BR_EINVAL);
    assert_contains(err.message, "the first sheet ('Books') is missing");
    /* not a workbook at all */
    tu_write(f->tmp, "x.xlsx", "hello");
    assert_int_equal(open_src(f, tu_path(f->tmp, "x.xlsx"), NULL, &err), BR_EINVAL);
    /* a zip bomb: 4 MB of spaces in the sheet, held to a 10:1 ratio */
    size_t big = 4u * 1024 * 1024;
    char *rows = malloc(big + 1);
    memset(rows, ' ', big);
    rows[big] = 0;
    memcpy(rows, HEADER, strlen(HEADER));
    p = make_book(f, "bomb.xlsx", rows, SST, NULL);
    free(rows);
    f->lim.max_ratio = 10;
    rc = open_src(f, p, NULL, &err);
    if (!rc) {
        while ((rc = next(f)) == 1) {
        }
    }
    assert_int_equal(rc, BR_ELIMIT);
    assert_contains(err.message, "a zip bomb?");
    /* and a sheet larger than the per-file cap */
    br_limits_default(&f->lim);
    f->lim.max_file_size = 1024 * 1024;
    assert_int_equal(open_src(f, p, NULL, &err), BR_ELIMIT);
}

/* An import folder: the workbook and its files in one zip. */
static void test_import_folder(void **state)
{
    fixture *f = *state;
    mkdir(tu_path(f->tmp, "folder"), 0755);
    make_book(f, "folder/books.xlsx",
              "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>ISBN</t></is></c><c r=\"B1\" "
              "t=\"inlineStr\"><is><t>Files</t></is></c><c r=\"C1\" t=\"inlineStr\"><is><t>Cover"
              "</t></is></c></row><row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>9780306406157"
              "</t></is></c><c r=\"B2\" t=\"inlineStr\"><is><t>book.epub; files/book.pdf</t>"
              "</is></c><c r=\"C2\" t=\"inlineStr\"><is><t>cover.jpg</t></is></c></row>"
              "<row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t>9780306406164</t></is></c>"
              "<c r=\"B3\" t=\"inlineStr\"><is><t>../etc/passwd; gone.pdf</t></is></c></row>",
              NULL, NULL);
    tu_write(f->tmp, "folder/book.epub", "epub bytes");
    tu_write(f->tmp, "folder/files/book.pdf", "%PDF-1.4 bytes");
    tu_write(f->tmp, "folder/cover.jpg", "jpeg bytes");
    br_error err;
    assert_int_equal(br_zip_create(tu_path(f->tmp, "folder"), tu_path(f->tmp, "in.zip"), &err), 0);
    mkdir(tu_path(f->tmp, "scratch"), 0755);
    char zip[4096], scratch[4096];
    snprintf(zip, sizeof zip, "%s", tu_path(f->tmp, "in.zip"));
    snprintf(scratch, sizeof scratch, "%s", tu_path(f->tmp, "scratch/u"));
    assert_int_equal(open_src(f, zip, scratch, &err), 0);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->info.errors, 0);
    assert_int_equal(f->rec->n_bs, 3);
    assert_string_equal(f->rec->bs[0].name, "book.epub");
    assert_string_equal(f->rec->bs[0].bundle, "ORIGINAL");
    assert_string_equal(f->rec->bs[1].name, "book.pdf");
    assert_string_equal(f->rec->bs[2].bundle, "THUMBNAIL");
    assert_non_null(strstr(f->rec->bs[2].path, "/scratch/u/"));
    assert_true(covered(f, "@file"));
    assert_int_equal(next(f), 1);
    assert_int_equal(f->info.errors, 2);
    assert_contains(f->log.text, "Books:B3: error: file '../etc/passwd'");
    assert_contains(f->log.text, "Books:B3: error: file 'gone.pdf': no such file");
    /* a zip without a workbook */
    tu_write(f->tmp, "nobook/a.pdf", "x");
    assert_int_equal(br_zip_create(tu_path(f->tmp, "nobook"), tu_path(f->tmp, "nb.zip"), &err), 0);
    snprintf(zip, sizeof zip, "%s", tu_path(f->tmp, "nb.zip"));
    snprintf(scratch, sizeof scratch, "%s", tu_path(f->tmp, "scratch/v"));
    assert_int_equal(open_src(f, zip, scratch, &err), BR_EINVAL);
    assert_contains(err.message, "holds no .xlsx");
}

/* The writer: libxlsxwriter's output read back by the reader gives the record. */
static void test_writer_reads_back(void **state)
{
    fixture *f = *state;
    br_record *r = br_record_new();
    br_record_add_md(r, "dc", "identifier", "isbn", NULL, "0-306-40615-2");
    br_record_add_md(r, "dc", "title", NULL, NULL, "A title");
    br_record_add_md(r, "dc", "date", "issued", NULL, "2020-06-19");
    br_record_add_md(r, "dc", "subject", NULL, NULL, "One");
    br_record_add_md(r, "dc", "subject", NULL, NULL, "Two");
    br_record_add_md(r, "dc", "contributor", "author", NULL, "Smith, Ann");
    br_record_add_md(r, "dc", "rights", NULL, NULL, "no column");
    br_write_stats st = {0};
    br_write_options o = {0};
    char dest[4096];
    snprintf(dest, sizeof dest, "%s", tu_path(f->tmp, "w.xlsx"));
    o.dest = dest;
    o.from_input = 1;
    o.diags = &f->sink;
    o.stats = &st;
    br_writer *w = NULL;
    br_error err;
    assert_int_equal(br_format_xlsx.writer_open(&o, &w, &err), 0);
    assert_int_equal(br_format_xlsx.write(w, "k1", r, &err), 0);
    assert_int_equal(br_format_xlsx.writer_close(w, &err), 0);
    assert_int_equal(st.records, 1);
    assert_int_equal(st.lost, 1);
    assert_contains(f->log.text, "dc.rights 'no column' has no XLSX column");
    br_record_free(r);
    assert_int_equal(open_src(f, dest, NULL, &err), 0);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->info.errors, 0);
    assert_string_equal(f->info.key, "9780306406157");
    assert_string_equal(br_record_first(f->rec, "dc.date.issued"), "2020-06-19");
    assert_string_equal(f->rec->creators[0].family, "Smith");
    assert_int_equal(next(f), 0);
    /* the destination exists: refused, nothing changed */
    assert_int_equal(br_format_xlsx.writer_open(&o, &w, &err), BR_EEXISTS);
}

/* A spreadsheet program's workbook: shared strings, a number ISBN, a date cell. */
static void test_libxlsxwriter_book(void **state)
{
    fixture *f = *state;
    char path[4096];
    snprintf(path, sizeof path, "%s", tu_path(f->tmp, "lx.xlsx"));
    lxw_workbook *wb = workbook_new(path);
    lxw_worksheet *ws = workbook_add_worksheet(wb, "Sheet1");
    lxw_format *date = workbook_add_format(wb);
    format_set_num_format(date, "d mmm yyyy");
    worksheet_write_string(ws, 0, 0, "ISBN", NULL);
    worksheet_write_string(ws, 0, 1, "Title", NULL);
    worksheet_write_string(ws, 0, 2, "Date", NULL);
    worksheet_write_number(ws, 1, 0, 9780306406157.0, NULL);
    worksheet_write_string(ws, 1, 1, "Shared", NULL);
    lxw_datetime dt = {2021, 3, 4, 0, 0, 0};
    worksheet_write_datetime(ws, 1, 2, &dt, date);
    worksheet_write_number(ws, 2, 0, 9780306406164.0, NULL);
    worksheet_write_string(ws, 2, 1, "Shared", NULL);
    worksheet_write_number(ws, 2, 2, 2019, NULL);
    assert_int_equal(workbook_close(wb), LXW_NO_ERROR);
    br_error err;
    assert_int_equal(open_src(f, path, NULL, &err), 0);
    assert_int_equal(next(f), 1);
    assert_string_equal(f->info.key, "9780306406157");
    assert_string_equal(br_record_first(f->rec, "dc.date.issued"), "2021-03-04");
    assert_string_equal(br_record_first(f->rec, "dc.title"), "Shared");
    assert_int_equal(next(f), 1);
    assert_string_equal(f->info.key, "9780306406164");
    assert_string_equal(br_record_first(f->rec, "dc.date.issued"), "2019");
    assert_int_equal(next(f), 0);
}

/* The unimported download: the header, the rejected rows as read, an ERROR column. */
static void test_extract(void **state)
{
    fixture *f = *state;
    const char *p = make_book(
        f, "e.xlsx",
        HEADER "<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>9780306406157</t></is></c>"
               "<c r=\"B2\" t=\"s\"><v>0</v></c></row>"
               "<row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t>bad</t></is></c>"
               "<c r=\"B3\" t=\"s\"><v>1</v></c></row>"
               "<row r=\"4\"><c r=\"A4\"><v>9780306406164</v></c><c r=\"C4\" t=\"inlineStr\"><is>"
               "<t>soon</t></is></c></row>",
        SST, NULL);
    char src[4096], out[4096];
    snprintf(src, sizeof src, "%s", p);
    snprintf(out, sizeof out, "%s", tu_path(f->tmp, "rejected.xlsx"));
    br_finding f3[] = {{3, "Books:A3: error: ISBN 'bad' ..."}};
    br_finding f4[] = {{4, "Books:C4: error: one"}, {4, "Books:C4: error: two"}};
    br_rejected rj[] = {{"row-3", "invalid", f3, 1}, {"9780306406164", "invalid", f4, 2}};
    br_extract_options o = {0};
    o.source = src;
    o.limits = &f->lim;
    o.records = rj;
    o.n_records = 2;
    o.out_path = out;
    br_error err;
    assert_int_equal(br_format_xlsx.extract(&o, &err), 0);
    br_xlsx_book *b = NULL;
    assert_int_equal(br_xlsx_open(out, NULL, &b, &err), 0);
    br_xlsx_row row;
    assert_int_equal(br_xlsx_next_row(b, &row, &err), 1);
    assert_int_equal(row.n, 8);
    assert_string_equal(row.cells[7].text, "ERROR");
    assert_int_equal(br_xlsx_next_row(b, &row, &err), 1);
    assert_string_equal(row.cells[0].text, "bad");
    assert_string_equal(row.cells[1].text, "Rich title");
    assert_string_equal(row.cells[row.n - 1].text, "Books:A3: error: ISBN 'bad' ...");
    assert_int_equal(br_xlsx_next_row(b, &row, &err), 1);
    assert_string_equal(row.cells[0].text, "9780306406164"); /* as text now */
    assert_string_equal(row.cells[row.n - 1].text, "Books:C4: error: one\nBooks:C4: error: two");
    assert_int_equal(br_xlsx_next_row(b, &row, &err), 0);
    br_xlsx_close(b);
}

static void test_isbn(void **state)
{
    char out[14];
    const char *why;
    assert_int_equal(br_xlsx_isbn13("080442957X", 10, 0, out, &why), 0);
    assert_string_equal(out, "9780804429573");
    assert_int_equal(br_xlsx_isbn13("979-10-90636-07-1", 17, 0, out, &why), 0);
    assert_int_equal(br_xlsx_isbn13("9771234567003", 13, 0, out, &why), -1); /* an ISSN EAN */
    assert_int_equal(br_xlsx_isbn13("9780306406157.0", 15, 1, out, &why), 0);
    assert_int_equal(br_xlsx_isbn13("9.78E+12", 8, 1, out, &why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cells, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_and_keep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_workbooks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_reads_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_libxlsxwriter_book, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extract, setup, teardown),
        cmocka_unit_test(test_isbn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
