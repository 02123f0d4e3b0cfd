/* MIME types of stored files (issue 13): by the name's extension through
 * data/mime_types.tsv, as DSpace's bitstream format registry does; libmagic, on
 * the first 64 KiB only, when the extension is unknown or ambiguous.
 *
 * Decided here: the extension is trusted.  A file named .pdf whose bytes are
 * text is application/pdf (DSpace assigns the format from the extension too); a
 * lie in the name is the depositor's, and the checksums still guard the bytes. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <magic.h>
#include "bulkrepo/bulkrepo.h"
#include "testutil.h"
#include "repo_fixture.h"

typedef tu_repo fixture;

/* In src/lib/store/assetstore.c. */
int br_mime_by_name(const char *name, char *mime, size_t msize, char *format, size_t fsize);
const char *br_mime_detect(const char *name, const void *head, size_t n, magic_t magic, char *out,
                           size_t size);
extern const char br_mime_types_tsv[];

static const char *by_name(const char *name)
{
    static char mime[256];
    return br_mime_by_name(name, mime, sizeof mime, NULL, 0) ? mime : NULL;
}

static void test_table_by_extension(void **state)
{
    (void)state;
    char mime[256], format[128];
    assert_int_equal(br_mime_by_name("paper.pdf", mime, sizeof mime, format, sizeof format), 1);
    assert_string_equal(mime, "application/pdf");
    assert_string_equal(format, "Adobe PDF");
    /* the last component's last extension, in any case */
    assert_string_equal(by_name("images/p 1.JPG"), "image/jpeg");
    assert_string_equal(by_name("a.b/Thesis.Final.DOCX"),
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
    assert_string_equal(by_name("data.tar.gz"), "application/gzip");
    assert_string_equal(by_name("table.csv"), "text/csv");
    assert_string_equal(by_name("refs.bib"), "application/x-bibtex");
    assert_int_equal(br_mime_by_name("x.xlsx", NULL, 0, format, sizeof format), 1);
    assert_string_equal(format, "Microsoft Excel XML");
    /* no extension, unknown, ambiguous: the table does not answer */
    assert_null(by_name("README"));
    assert_null(by_name(".profile"));
    assert_null(by_name("dir.d/README"));
    assert_null(by_name("trailing."));
    assert_null(by_name("x.nosuchext"));
    assert_null(by_name("x.verylongextensionname"));
    assert_null(by_name("clip.ogg"));
    assert_null(by_name("blob.bin"));
    assert_null(by_name(NULL));
    /* too small a buffer is no answer, not a cut one */
    assert_int_equal(br_mime_by_name("x.pdf", mime, 5, NULL, 0), 0);
}

/* Every row: extension (lower case, no dot), a type or "*", a description; each
 * extension once; the common formats are there. */
static void test_table_rows(void **state)
{
    (void)state;
    char seen[4096] = " ";
    int rows = 0;
    for (const char *p = br_mime_types_tsv; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        assert_true(n < sizeof line);
        memcpy(line, p, n);
        line[n] = 0;
        p += n + (nl != NULL);
        if (!n || line[0] == '#') continue;
        char *t1 = strchr(line, '\t');
        assert_non_null(t1);
        *t1 = 0;
        char *t2 = strchr(t1 + 1, '\t');
        assert_non_null(t2);
        *t2 = 0;
        assert_null(strchr(t2 + 1, '\t'));
        assert_true(strlen(t2 + 1) > 0);
        for (const char *c = line; *c; c++)
            assert_true(islower((unsigned char)*c) || isdigit((unsigned char)*c));
        assert_true(!strcmp(t1 + 1, "*") || strchr(t1 + 1, '/'));
        char key[520];
        snprintf(key, sizeof key, " %s ", line);
        if (strstr(seen, key)) fail_msg("extension %s is in the table twice", line);
        assert_true(strlen(seen) + strlen(line) + 2 < sizeof seen);
        memcpy(seen + strlen(seen), key + 1, strlen(key + 1) + 1);
        rows++;
    }
    assert_true(rows > 40);
    static const char *const common[] = {
        "pdf",  "txt", "html", "xml", "csv",  "json", "jpg",  "jpeg", "png",  "gif", "tif", "tiff",
        "epub", "zip", "gz",   "doc", "docx", "xls",  "xlsx", "ppt",  "pptx", "odt", "ods", "odp",
        "mp3",  "mp4", "wav",  "rtf", "tex",  "md",   "svg",  "webp", "bib",  "ris"};
    for (size_t i = 0; i < sizeof common / sizeof *common; i++) {
        char name[32];
        snprintf(name, sizeof name, "f.%s", common[i]);
        if (!by_name(name)) fail_msg("%s has no MIME type in data/mime_types.tsv", common[i]);
    }
}

/* A known extension never reaches libmagic: no magic handle is given. */
static void test_detect_without_libmagic(void **state)
{
    (void)state;
    static const char text[] = "This is plain text, not a PDF.\n";
    char out[256];
    assert_string_equal(br_mime_detect("paper.pdf", text, sizeof text - 1, NULL, out, sizeof out),
                        "application/pdf");
    /* unknown and no libmagic: no answer */
    assert_null(br_mime_detect("paper.xyz", text, sizeof text - 1, NULL, out, sizeof out));
}

static const char *store(fixture *f, br_record *r, const char *name, const void *data, size_t n)
{
    tu_write_bytes(f->dir, name, data, n);
    br_bitstream *b = br_record_add_bitstream(r, name);
    br_error err;
    assert_br_ok(br_asset_put_file(f->repo, tu_path(f->dir, name), 0, r, b, &err), &err);
    assert_non_null(b->mime);
    return b->mime;
}

static void test_put_file(void **state)
{
    fixture *f = *state;
    br_record *r = br_record_new();
    static const char text[] = "This is plain text, not a PDF.\n";
    static const char pdf[] =
        "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n";
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0,    0,   0,
                                        13,   'I', 'H', 'D', 'R',  0,    0,    0,    1,    0,   0,
                                        0,    1,   8,   2,   0,    0,    0,    0x90, 0x77, 0x53};
    /* the extension lies: trusted, as DSpace does */
    assert_string_equal(store(f, r, "paper.pdf", text, sizeof text - 1), "application/pdf");
    assert_string_equal(store(f, r, "NOTES.TXT", pdf, sizeof pdf - 1), "text/plain");
    /* unknown extension or none: libmagic, from the bytes */
    assert_string_equal(store(f, r, "scan.xyz", pdf, sizeof pdf - 1), "application/pdf");
    assert_string_equal(store(f, r, "noext", text, sizeof text - 1), "text/plain");
    /* ambiguous extension: libmagic */
    assert_string_equal(store(f, r, "blob.bin", png, sizeof png), "image/png");
    /* empty: the extension's type, else x-empty */
    assert_string_equal(store(f, r, "empty.csv", "", 0), "text/csv");
    assert_string_equal(store(f, r, "empty", "", 0), "application/x-empty");

    /* A file larger than the first read: libmagic is given that block (64 KiB),
     * text, not the NULs after it. */
    size_t n = 96 * 1024;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < 65536; i++)
        big[i] = (char)(i % 64 == 63 ? '\n' : 'a' + (int)(i % 26));
    memset(big + 65536, 0, n - 65536);
    assert_string_equal(store(f, r, "prefix.unknown", big, n), "text/plain");
    free(big);
    br_record_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_by_extension),
        cmocka_unit_test(test_table_rows),
        cmocka_unit_test(test_detect_without_libmagic),
        cmocka_unit_test_setup_teardown(test_put_file, tu_repo_setup, tu_repo_teardown),
    };
    return cmocka_run_group_tests_name("mime", tests, NULL, NULL);
}
