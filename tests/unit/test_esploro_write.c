/* The Esploro CSV writer (br_ecsv_writer_*): layout, value conversion, the
 * findings for values that have no column or had to change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "repo_fixture.h"
#include "bulkrepo/bulkrepo.h"
#include "bulkrepo/esploro.h"
#include "core/csv.h"

/* ---- the output, read back with the CSV module ------------------------------------------------
 */

typedef struct csv {
    char ***rows; /* rows[r][c] */
    size_t *ncols;
    size_t nrows;
} csv;

static void csv_load(const char *path, csv *out)
{
    memset(out, 0, sizeof *out);
    br_csv_reader *in = NULL;
    br_csv_record rec;
    br_error err;
    assert_br_ok(br_csv_reader_open(path, NULL, &in, &err), &err);
    int rc;
    while ((rc = br_csv_next(in, &rec, &err)) == 1) {
        out->rows = realloc(out->rows, (out->nrows + 1) * sizeof *out->rows);
        out->ncols = realloc(out->ncols, (out->nrows + 1) * sizeof *out->ncols);
        char **cells = calloc(rec.n, sizeof *cells);
        for (unsigned c = 0; c < rec.n; c++)
            cells[c] = strndup(rec.cells[c].p, rec.cells[c].len);
        out->rows[out->nrows] = cells;
        out->ncols[out->nrows++] = rec.n;
    }
    assert_br_ok(rc, &err); /* the writer's output reads back (no unterminated quote) */
    br_csv_reader_free(in);
}

static void csv_free(csv *c)
{
    for (size_t r = 0; r < c->nrows; r++) {
        for (size_t k = 0; k < c->ncols[r]; k++)
            free(c->rows[r][k]);
        free(c->rows[r]);
    }
    free(c->rows);
    free(c->ncols);
}

/* The cell of row r under header `column` ("" when the column is absent). */
static const char *cell(const csv *c, size_t r, const char *column)
{
    for (size_t k = 0; k < c->ncols[0]; k++)
        if (!strcmp(c->rows[0][k], column)) return k < c->ncols[r] ? c->rows[r][k] : "";
    return "";
}

static int has_column(const csv *c, const char *column)
{
    for (size_t k = 0; k < c->ncols[0]; k++)
        if (!strcmp(c->rows[0][k], column)) return 1;
    return 0;
}

/* ---- findings -----------------------------------------------------------------------------------
 */

typedef struct found {
    char text[16384];
} found;

static void collect(void *ctx, const br_diag *d)
{
    found *f = ctx;
    char line[1200];
    snprintf(line, sizeof line, "%s|%s|%s|%s|%s\n", br_severity_name(d->severity),
             d->rule ? d->rule : "", d->item ? d->item : "", d->cell ? d->cell : "", d->message);
    if (strlen(f->text) + strlen(line) < sizeof f->text) strcat(f->text, line);
}

typedef struct fx {
    char *tmp;
    char out[4096];
    found found;
    br_diag_sink sink;
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->tmp = tu_tmpdir();
    snprintf(f->out, sizeof f->out, "%s/out.csv", f->tmp);
    f->sink.fn = collect;
    f->sink.ctx = &f->found;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    tu_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

/* Writes the records (keys k1, k2, ...) with opt and parses the output. */
static void write_all(fx *f, br_ecsv_write_options *opt, br_record **recs, size_t n, csv *out)
{
    br_ecsv_writer *w;
    br_error err;
    opt->diags = &f->sink;
    assert_br_ok(br_ecsv_writer_open(f->out, opt, &w, &err), &err);
    /* nothing at the final name until close */
    assert_int_equal(access(f->out, F_OK), -1);
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%zu", i + 1);
        assert_br_ok(br_ecsv_write_record(w, key, recs[i], &err), &err);
    }
    assert_br_ok(br_ecsv_writer_close(w, &err), &err);
    csv_load(f->out, out);
}

static br_record *full_record(const char *files_dir)
{
    br_record *r = br_record_new();
    br_record_add_md(r, "dc", "title", NULL, NULL, "A title, with \"quotes\"");
    br_record_add_md(r, "dc", "type", NULL, NULL, "publication.journalArticle");
    br_record_add_md(r, "esploro", "asset", "affiliation", NULL, "01INST___UNIT_A");
    br_record_add_md(r, "esploro", "asset", "affiliation", NULL, "01INST___UNIT_B");
    br_record_add_md(r, "dc", "date", "issued", NULL, "2021-10-18");
    br_record_add_md(r, "dc", "date", "copyright", NULL, "2021");
    br_record_add_md(r, "esploro", "asset", "availdate", NULL, "2021-10");
    br_record_add_md(r, "dc", "date", "created", NULL, "2023-06-01/2023-06-02");
    br_record_add_md(r, "esploro", "asset", "accessrightdate", NULL, "2024-02-29");
    br_record_add_md(r, "esploro", "asset", "peereview", NULL, "yes");
    br_record_add_md(r, "dc", "subject", NULL, NULL, "cats");
    br_record_add_md(r, "dc", "subject", NULL, NULL, "dogs");
    br_record_add_md(r, "dc", "language", "iso", NULL, "eng");
    br_record_add_md(r, "dc", "description", "abstract", NULL,
                     "First para.\nSecond para.\r\nThird.");
    br_record_add_md(r, "dc", "identifier", "issn", NULL, "1234-5678");
    br_record_add_md(r, "oaire", "citation", "volume", NULL, "12");
    br_creator *c = br_record_add_creator(r, BR_CREATOR);
    c->family = br_record_str(r, "Smith");
    c->given = br_record_str(r, "John");
    c->orcid = br_record_str(r, "0000-0002-1825-0097");
    c->affiliation = br_record_str(r, "01INST___UNIT_A");
    c = br_record_add_creator(r, BR_CREATOR);
    c->is_organization = 1;
    c->display = br_record_str(r, "CERN");
    c = br_record_add_creator(r, BR_CREATOR);
    c->family = br_record_str(r, "Doe");
    c->given = br_record_str(r, "Jane");
    c = br_record_add_creator(r, BR_CONTRIBUTOR);
    c->family = br_record_str(r, "Adams");
    c->contrib_type = br_record_str(r, "editor");
    br_record_derive_contributors(r); /* as the import stores them */
    br_link *l = br_record_add_link(r);
    l->url = br_record_str(r, "https://example.org/a");
    l->title = br_record_str(r, "Publisher");
    l->type = br_record_str(r, "published");
    br_bitstream *b = br_record_add_bitstream(r, "paper.pdf");
    char path[4096];
    snprintf(path, sizeof path, "%s/k1/paper.pdf", files_dir);
    b->path = br_record_str(r, path);
    b->description = br_record_str(r, "The paper");
    b->license = br_record_str(r, "CCBY_V4.0");
    b->rights_date = br_record_str(r, "2030-01-31");
    b->content_type = br_record_str(r, "accepted");
    b = br_record_add_bitstream(r, "remote.csv");
    b->url = br_record_str(r, "https://example.org/data.csv");
    b = br_record_add_bitstream(r, "odd name.txt");
    b->path = br_record_str(r, "/elsewhere/odd name.txt");
    return r;
}

static void test_layout_and_values(void **state)
{
    fx *f = *state;
    br_record *r = full_record(f->tmp);
    br_ecsv_write_options opt = {0};
    opt.base_dir = f->tmp;
    csv c;
    write_all(f, &opt, &r, 1, &c);
    /* header: A1 blank, key, every crosswalk column in order */
    assert_string_equal(c.rows[0][0], "");
    assert_string_equal(c.rows[0][1], "RESEARCH_ASSET_ID");
    assert_string_equal(c.rows[0][2], "ASSET_TITLE");
    br_ecsv_xwalk *x;
    br_error err;
    assert_br_ok(br_ecsv_xwalk_new(&x, &err), &err);
    assert_int_equal(c.ncols[0], 2 + br_ecsv_xwalk_count(x));
    assert_int_equal(c.ncols[0], 206); /* as Esploro's export: the template's 204 and two more */
    br_ecsv_xwalk_free(x);
    /* rows: ASSET, PRTOF, CREATOR, OCREATOR, CREATOR, CONT, LINK, FILE x3 */
    const char *types[] = {"ASSET", "PRTOF", "CREATOR", "OCREATOR", "CREATOR",
                           "CONT",  "LINK",  "FILE",    "FILE",     "FILE"};
    assert_int_equal(c.nrows, 1 + (sizeof types / sizeof types[0]));
    for (size_t i = 0; i < (sizeof types / sizeof types[0]); i++) {
        assert_string_equal(c.rows[i + 1][0], types[i]);
        assert_string_equal(c.rows[i + 1][1], "k1");
        assert_int_equal(c.ncols[i + 1], c.ncols[0]); /* padded */
    }
    assert_string_equal(cell(&c, 1, "ASSET_TITLE"), "A title, with \"quotes\"");
    assert_string_equal(cell(&c, 1, "ASSET_PUBLISHDATE"), "20211018");
    assert_string_equal(cell(&c, 1, "ASSET_COPYRIGHTDATE"), "2021");
    assert_string_equal(cell(&c, 1, "ASSET_AVAILDATE"), "202110");
    assert_string_equal(cell(&c, 1, "ASSET_CREATEDATE"), "20230601 - 20230602");
    assert_string_equal(cell(&c, 1, "ASSET_ACCESSRIGHTDATE"), "02/29/2024");
    assert_string_equal(cell(&c, 1, "ASSET_PEEREVIEW"), "YES");
    assert_string_equal(cell(&c, 1, "ASSET_KEYWORDS"), "cats@@dogs");
    assert_string_equal(cell(&c, 1, "ASSET_AFFILIATION"), "01INST___UNIT_A@@01INST___UNIT_B");
    assert_string_equal(cell(&c, 1, "ASSET_ABSTRACT"),
                        "<p>First para.</p><p>Second para.</p><p>Third.</p>");
    assert_string_equal(cell(&c, 1, "PRTOF_ISSN"), ""); /* not on the ASSET row */
    assert_string_equal(cell(&c, 2, "PRTOF_ISSN"), "1234-5678");
    assert_string_equal(cell(&c, 2, "PRTOF_VOL"), "12");
    assert_string_equal(cell(&c, 2, "ASSET_TITLE"), "");
    assert_string_equal(cell(&c, 3, "CREATOR_FAMNAME"), "Smith");
    assert_string_equal(cell(&c, 3, "CREATOR_GIVNAME"), "John");
    assert_string_equal(cell(&c, 3, "CREATOR_ORCID"), "0000-0002-1825-0097");
    assert_string_equal(cell(&c, 3, "CREATOR_AFFILIATION"), "01INST___UNIT_A");
    assert_string_equal(cell(&c, 4, "OCREATOR_ORGANIZATION"), "CERN");
    assert_string_equal(cell(&c, 5, "CREATOR_FAMNAME"), "Doe");
    assert_string_equal(cell(&c, 6, "CONT_FAMNAME"), "Adams");
    assert_string_equal(cell(&c, 6, "CONT_TYPE"), "editor");
    assert_string_equal(cell(&c, 7, "LINK_LINKURL"), "https://example.org/a");
    assert_string_equal(cell(&c, 7, "LINK_LINKTITLE"), "Publisher");
    assert_string_equal(cell(&c, 7, "LINK_CONTENTTYPE"), "published");
    assert_string_equal(cell(&c, 8, "FILE_FILEURL"), "k1/paper.pdf");
    assert_string_equal(cell(&c, 8, "FILE_DISPLAY_NAME"), "paper.pdf");
    assert_string_equal(cell(&c, 8, "FILE_DESCRIPTION"), "The paper");
    assert_string_equal(cell(&c, 8, "FILE_LICENSE"), "CCBY_V4.0");
    assert_string_equal(cell(&c, 8, "FILE_RIGHTS_DATE"), "20300131");
    assert_string_equal(cell(&c, 8, "FILE_CONTENTTYPE"), "accepted");
    assert_string_equal(cell(&c, 9, "FILE_FILEURL"), "https://example.org/data.csv");
    assert_string_equal(cell(&c, 10, "FILE_FILEURL"), "file:///elsewhere/odd%20name.txt");
    /* The derived dc.contributor values are the creators: not reported. */
    assert_not_contains(f->found.text, "dc.contributor");
    assert_int_equal(f->sink.warnings, 0);
    assert_int_equal(f->sink.notes, 0);
    csv_free(&c);
    br_record_free(r);
}

static void test_no_column_reported(void **state)
{
    fx *f = *state;
    br_record *r = br_record_new();
    br_record_add_md(r, "dc", "title", NULL, "en_US", "Title");
    br_record_add_md(r, "dc", "date", "accessioned", NULL, "2020-01-01T00:00:00Z");
    br_record_add_md(r, "dc", "description", "provenance", NULL, "Made available");
    br_record_add_md(r, "local", "thing", NULL, NULL, "x");
    br_record_add_md(r, "dc", "contributor", "author", NULL, "Smith, John");
    br_record_add_md(r, "dc", "contributor", NULL, NULL, "Unqualified Person");
    br_record_add_relation(r, "isPartOf", "123456789/7");
    br_bitstream *b = br_record_add_bitstream(r, "license.txt");
    b->bundle = "LICENSE";
    b->read_group = br_record_str(r, "Staff");
    b->path = br_record_str(r, "license.txt");
    csv c;
    br_ecsv_write_options opt = {0};
    write_all(f, &opt, &r, 1, &c);
    const char *t = f->found.text;
    assert_contains(t, "note|ecsv.write.no-column|k1||no Esploro column for dc.date.accessioned "
                       "(value '2020-01-01T00:00:00Z')");
    assert_contains(t, "no Esploro column for local.thing (value 'x')");
    assert_contains(t, "no Esploro column for dc.contributor (value 'Unqualified Person')");
    assert_contains(t, "no Esploro column for the language of dc.title (value 'en_US')");
    assert_contains(t, "no Esploro column for the relationship isPartOf (to '123456789/7')");
    assert_contains(t, "no Esploro column for the bundle of file 'license.txt' (value 'LICENSE')");
    assert_contains(t,
                    "no Esploro column for the read_group of file 'license.txt' (value 'Staff')");
    /* mapped: ASSET_PRVNCE */
    assert_not_contains(t, "provenance");
    assert_string_equal(cell(&c, 1, "ASSET_PRVNCE"), "Made available");
    /* no structured creators: derived from dc.contributor.author */
    assert_string_equal(c.rows[2][0], "CREATOR");
    assert_string_equal(cell(&c, 2, "CREATOR_FAMNAME"), "Smith");
    assert_string_equal(cell(&c, 2, "CREATOR_GIVNAME"), "John");
    assert_not_contains(t, "dc.contributor.author");
    assert_int_equal(f->sink.notes, 7);
    /* RESEARCH_ASSET_ID rows update assets that exist: no mandatory fields asked for */
    assert_not_contains(t, "ecsv.write.mandatory");
    csv_free(&c);
    br_record_free(r);
}

/* GROUP_ID rows make new assets: each mandatory field a record lacks is a warning at its
 * cell that names the convert --default giving it; DSpace dc.type labels become asset types
 * (the label before a code that differs only in case: 'Dataset' is dataset.dataset). */
static void test_mandatory_for_new_assets(void **state)
{
    fx *f = *state;
    br_record *r[2] = {br_record_new(), br_record_new()};
    br_record_add_md(r[0], "dc", "title", NULL, NULL, "Cores");
    br_record_add_md(r[0], "dc", "type", NULL, NULL, "Dataset");
    br_record_add_md(r[1], "dc", "title", NULL, NULL, "A book");
    br_record_add_md(r[1], "dc", "type", NULL, NULL, "PUBLICATION.BOOK");
    br_record_add_md(r[1], "dc", "date", "issued", NULL, "2020");
    br_record_add_md(r[1], "esploro", "asset", "affiliation", NULL, "01INST___UNIT_A");
    csv c;
    br_ecsv_write_options opt = {0};
    opt.key_header = "GROUP_ID";
    write_all(f, &opt, r, 2, &c);
    const char *t = f->found.text;
    assert_string_equal(cell(&c, 1, "ASSET_RESTYPE"), "dataset.dataset");
    assert_string_equal(cell(&c, 2, "ASSET_RESTYPE"), "publication.book");
    assert_contains(t, "warning|ecsv.write.restype|k1|");
    assert_contains(t, "|ecsv.write.mandatory|k1|");
    assert_contains(t, "ASSET_AFFILIATION is empty: Esploro requires it of a new asset");
    assert_contains(t, "the asset has no date: Esploro requires one ASSET date of a new asset");
    assert_not_contains(t, "ASSET_RESTYPE is empty");
    assert_not_contains(t, "ecsv.write.mandatory|k2|");
    /* the cell of the missing value: ASSET_AFFILIATION's column on row 2 */
    char want[64] = "";
    for (size_t k = 0; k < c.ncols[0]; k++)
        if (!strcmp(c.rows[0][k], "ASSET_AFFILIATION")) {
            char l[8];
            size_t n = 0, col = k + 1;
            char tmp[8];
            while (col) {
                col--;
                tmp[n++] = (char)('A' + col % 26);
                col /= 26;
            }
            for (size_t i = 0; i < n; i++)
                l[i] = tmp[n - 1 - i];
            l[n] = 0;
            snprintf(want, sizeof want, "|ecsv.write.mandatory|k1|%s2|", l);
        }
    assert_contains(t, want);
    csv_free(&c);
    br_record_free(r[0]);
    br_record_free(r[1]);
}

static void test_changed_values_warned(void **state)
{
    fx *f = *state;
    br_record *r = br_record_new();
    br_record_add_md(r, "dc", "title", NULL, NULL, "  Padded title ");
    br_record_add_md(r, "dc", "title", NULL, NULL, "Second title");
    br_record_add_md(r, "dc", "subject", NULL, NULL, "a@@b");
    br_record_add_md(r, "dc", "date", "issued", NULL, "2021-10-18T12:30:00Z");
    br_record_add_md(r, "dc", "date", "submitted", NULL, "Spring 2020");
    br_record_add_md(r, "esploro", "asset", "accessrightdate", NULL, "2024");
    br_record_add_md(r, "dc", "language", "iso", NULL, "en_US");
    br_record_add_md(r, "dc", "language", "iso", NULL, "deu");
    br_record_add_md(r, "dc", "type", NULL, NULL, "Book chapter");
    br_record_add_md(r, "dc", "date", "copyright", NULL, "2021-02-30");
    csv c;
    br_ecsv_write_options opt = {0};
    write_all(f, &opt, &r, 1, &c);
    const char *t = f->found.text;
    assert_string_equal(cell(&c, 1, "ASSET_TITLE"), "Padded title@@Second title");
    assert_contains(t, "warning|ecsv.write.whitespace|k1|C2|ASSET_TITLE: leading or trailing "
                       "whitespace of '  Padded title ' trimmed");
    assert_contains(t, "warning|ecsv.write.multi|k1|C2|ASSET_TITLE: several values for a "
                       "single-valued column (also 'Second title')");
    assert_contains(t, "ecsv.write.separator|k1|");
    assert_contains(t, "ASSET_KEYWORDS: the value 'a@@b' contains \"@@\"");
    assert_string_equal(cell(&c, 1, "ASSET_PUBLISHDATE"), "20211018");
    assert_contains(t, "ecsv.write.time-dropped");
    assert_string_equal(cell(&c, 1, "ASSET_SUBMITDATE"), "Spring 2020");
    assert_contains(t, "ASSET_SUBMITDATE: 'Spring 2020' is not a date Esploro accepts");
    assert_string_equal(cell(&c, 1, "ASSET_ACCESSRIGHTDATE"), "2024");
    assert_contains(t, "ASSET_ACCESSRIGHTDATE: '2024' is not a date Esploro accepts");
    /* DSpace's ISO 639-1 locale and an ISO 639-2/T code become ISO 639-2/B codes. */
    assert_string_equal(cell(&c, 1, "ASSET_LANG"), "eng@@ger");
    assert_contains(t, "warning|ecsv.write.lang|k1|");
    assert_contains(t, "ASSET_LANG: 'en_US' written as its ISO 639-2/B code");
    assert_string_equal(cell(&c, 1, "ASSET_RESTYPE"), "publication.bookChapter");
    /* A date that does not exist is not turned into one Esploro would reject silently. */
    assert_string_equal(cell(&c, 1, "ASSET_COPYRIGHTDATE"), "2021-02-30");
    assert_contains(t, "ASSET_COPYRIGHTDATE: '2021-02-30' is not a date Esploro accepts");
    assert_contains(t, "warning|ecsv.write.restype|k1|");
    csv_free(&c);
    br_record_free(r);
}

static void test_selective_fields(void **state)
{
    fx *f = *state;
    br_record *r = full_record(f->tmp);
    const char *cols[] = {"asset_title", "CREATOR_ORCID", "LINK_LINKURL"};
    br_ecsv_write_options opt = {0};
    opt.columns = cols;
    opt.n_columns = 3;
    opt.key_header = "GROUP_ID";
    csv c;
    write_all(f, &opt, &r, 1, &c);
    assert_int_equal(c.ncols[0], 5);
    assert_string_equal(c.rows[0][1], "GROUP_ID");
    assert_string_equal(c.rows[0][2], "ASSET_TITLE");
    assert_string_equal(c.rows[0][3], "CREATOR_ORCID");
    assert_string_equal(c.rows[0][4], "LINK_LINKURL");
    /* ASSET; the CREATOR with an ORCID; the LINK.  Nothing else has a value. */
    assert_int_equal(c.nrows, 4);
    assert_string_equal(c.rows[2][0], "CREATOR");
    assert_string_equal(c.rows[2][3], "0000-0002-1825-0097");
    assert_string_equal(c.rows[3][0], "LINK");
    /* left out on request: not reported */
    assert_int_equal(f->sink.notes, 0);
    assert_int_equal(f->sink.warnings, 0);
    csv_free(&c);
    br_record_free(r);
}

static void test_selective_categories(void **state)
{
    fx *f = *state;
    br_record *r = full_record(f->tmp);
    const char *cats[] = {"dates", "Files"};
    br_ecsv_write_options opt = {0};
    opt.categories = cats;
    opt.n_categories = 2;
    csv c;
    write_all(f, &opt, &r, 1, &c);
    for (size_t k = 2; k < c.ncols[0]; k++) {
        const char *h = c.rows[0][k];
        assert_true(!strncmp(h, "FILE_", 5) || strstr(h, "DATE") || strstr(h, "DAT"));
    }
    assert_true(has_column(&c, "ASSET_PUBLISHDATE"));
    assert_true(has_column(&c, "FILE_FILEURL"));
    assert_false(has_column(&c, "ASSET_TITLE"));
    assert_false(has_column(&c, "CREATOR_FAMNAME"));
    assert_string_equal(cell(&c, 1, "ASSET_PUBLISHDATE"), "20211018");
    assert_int_equal(c.nrows, 1 + 1 + 3); /* ASSET and three FILE rows */
    assert_string_equal(c.rows[2][0], "FILE");
    csv_free(&c);
    br_record_free(r);
}

static void test_bad_options(void **state)
{
    fx *f = *state;
    br_ecsv_writer *w = NULL;
    br_error err;
    const char *cols[] = {"ASSET_TITEL"};
    br_ecsv_write_options opt = {0};
    opt.columns = cols;
    opt.n_columns = 1;
    assert_int_equal(br_ecsv_writer_open(f->out, &opt, &w, &err), BR_EUSAGE);
    assert_contains(err.message, "unknown Esploro column 'ASSET_TITEL'");
    const char *cats[] = {"nonsense"};
    opt = (br_ecsv_write_options){0};
    opt.categories = cats;
    opt.n_categories = 1;
    assert_int_equal(br_ecsv_writer_open(f->out, &opt, &w, &err), BR_EUSAGE);
    assert_contains(err.message, "unknown Esploro field category 'nonsense'");
    opt = (br_ecsv_write_options){0};
    opt.key_header = "ID";
    assert_int_equal(br_ecsv_writer_open(f->out, &opt, &w, &err), BR_EUSAGE);
    assert_null(w);
    /* a folder that does not exist */
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/missing/out.csv", f->tmp);
    assert_int_equal(br_ecsv_writer_open(bad, NULL, &w, &err), BR_EIO);
    /* bad keys */
    assert_br_ok(br_ecsv_writer_open(f->out, NULL, &w, &err), &err);
    br_record *r = br_record_new();
    assert_int_equal(br_ecsv_write_record(w, "", r, &err), BR_EUSAGE);
    assert_int_equal(br_ecsv_write_record(w, " k", r, &err), BR_EUSAGE);
    assert_int_equal(br_ecsv_write_record(w, "a\nb", r, &err), BR_EUSAGE);
    br_record_free(r);
    br_ecsv_writer_abort(w);
    /* abort leaves nothing behind */
    char *ls = NULL;
    tu_run(&ls, NULL, "ls -A '%s'", f->tmp);
    assert_string_equal(ls, "");
    free(ls);
}

static void test_many_records_streaming(void **state)
{
    fx *f = *state;
    br_ecsv_writer *w;
    br_error err;
    assert_br_ok(br_ecsv_writer_open(f->out, NULL, &w, &err), &err);
    br_record *r = br_record_new();
    for (int i = 0; i < 500; i++) {
        br_record_reset(r);
        char t[32], key[32];
        snprintf(t, sizeof t, "Title %d", i);
        snprintf(key, sizeof key, "123456789/%d", i);
        br_record_add_md(r, "dc", "title", NULL, NULL, t);
        br_record_add_md(r, "dc", "contributor", "author", NULL, "Doe, Jane");
        assert_br_ok(br_ecsv_write_record(w, key, r, &err), &err);
    }
    assert_br_ok(br_ecsv_writer_close(w, &err), &err);
    csv c;
    csv_load(f->out, &c);
    assert_int_equal(c.nrows, 1 + 1000);
    assert_string_equal(c.rows[997][0], "ASSET");
    assert_string_equal(c.rows[997][1], "123456789/498");
    assert_string_equal(cell(&c, 1000, "CREATOR_GIVNAME"), "Jane");
    csv_free(&c);
    br_record_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout_and_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_column_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mandatory_for_new_assets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changed_values_warned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selective_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selective_categories, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_records_streaming, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
