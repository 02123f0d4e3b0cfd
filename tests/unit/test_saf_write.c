/* The SAF item writer and the JSON view of a record, on hand-built records
 * (no repository needed). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "testutil.h"
#include "bulkrepo/bulkrepo.h"

typedef struct fixture {
    char *tmp;
    br_record *rec;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->tmp = tu_tmpdir();
    f->rec = br_record_new();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->tmp);
    free(f->tmp);
    br_record_free(f->rec);
    free(f);
    return 0;
}

static void write_ok(const char *dir, const br_record *rec, const br_saf_write_options *opt)
{
    br_error err;
    br_error_clear(&err);
    int rc = br_saf_write_item(dir, rec, opt, &err);
    if (rc) fail_msg("br_saf_write_item(%s) = %d: %s: %s", dir, rc, err.place.source, err.message);
}

/* A record shaped as br_item_load returns it. */
static void sample(br_record *r, const char *src_dir)
{
    r->handle = br_record_str(r, "123456789/7");
    r->uuid = br_record_str(r, "0b3e7b5e-1c57-4a4e-9d35-7f3c2f4f0a11");
    r->status = br_record_str(r, "archived");
    r->id = 7;
    br_record_add_md(r, "dc", "title", NULL, NULL, "A Tale of Two Cities");
    br_record_add_md(r, "local", "note", NULL, NULL, "local value");
    br_record_add_md(r, "dc", "date", "issued", NULL, "1990");
    br_record_add_md(r, "dcterms", "abstract", NULL, "en", "An abstract");
    br_record_add_md(r, "dc", "title", "alternative", "fr", "J'aime les Printemps");
    br_record_add_md(r, "dc", "contributor", "author", NULL, "Dickens, Charles");
    br_record_add_md(r, "dc", "contributor", "author", NULL, "Collins, Wilkie");
    br_record_add_collection(r, "123456789/2");
    br_record_add_collection(r, "123456789/3");
    r->owning_collection = r->collections[0];
    if (src_dir) {
        char path[4096];
        br_bitstream *b = br_record_add_bitstream(r, "book.pdf");
        snprintf(path, sizeof path, "%s/src/book.pdf", src_dir);
        b->path = br_record_str(r, path);
        b->primary = 1;
        b->size = 9;
        b = br_record_add_bitstream(r, "license.txt");
        snprintf(path, sizeof path, "%s/src/license.txt", src_dir);
        b->path = br_record_str(r, path);
        b->bundle = br_record_str(r, "LICENSE");
        b->size = 7;
    }
}

static void make_sources(const fixture *f)
{
    tu_write(f->tmp, "src/book.pdf", "%PDF-1.4\n");
    tu_write(f->tmp, "src/license.txt", "license");
    tu_write(f->tmp, "src/page.png", "PNG bytes");
}

/* ---- metadata files --------------------------------------------------------- */

static void test_metadata_files(void **state)
{
    fixture *f = *state;
    sample(f->rec, NULL);
    br_record_add_md(f->rec, "relation", "isAuthorOfPublication", NULL, NULL, "virtual");
    write_ok(tu_path(f->tmp, "1"), f->rec, NULL);
    assert_file_equals(
        tu_path(f->tmp, "1/dublin_core.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<dublin_core schema=\"dc\">\n"
        "  <dcvalue element=\"title\" qualifier=\"none\">A Tale of Two Cities</dcvalue>\n"
        "  <dcvalue element=\"date\" qualifier=\"issued\">1990</dcvalue>\n"
        "  <dcvalue element=\"title\" qualifier=\"alternative\" language=\"fr\">J'aime les "
        "Printemps</dcvalue>\n"
        "  <dcvalue element=\"contributor\" qualifier=\"author\">Dickens, Charles</dcvalue>\n"
        "  <dcvalue element=\"contributor\" qualifier=\"author\">Collins, Wilkie</dcvalue>\n"
        "</dublin_core>\n");
    assert_file_equals(
        tu_path(f->tmp, "1/metadata_dcterms.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<dublin_core schema=\"dcterms\">\n"
        "  <dcvalue element=\"abstract\" qualifier=\"none\" language=\"en\">An abstract</dcvalue>\n"
        "</dublin_core>\n");
    assert_file_equals(tu_path(f->tmp, "1/metadata_local.xml"),
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<dublin_core schema=\"local\">\n"
                       "  <dcvalue element=\"note\" qualifier=\"none\">local value</dcvalue>\n"
                       "</dublin_core>\n");
    /* relation.* is virtual metadata: the relationships file carries relations. */
    assert_false(tu_exists(tu_path(f->tmp, "1/metadata_relation.xml")));
    assert_file_equals(tu_path(f->tmp, "1/collections"), "123456789/2\n123456789/3\n");
    assert_file_equals(tu_path(f->tmp, "1/handle"), "123456789/7\n");
    /* No bitstreams: metadata-only, no contents; no relations: no file. */
    assert_false(tu_exists(tu_path(f->tmp, "1/contents")));
    assert_false(tu_exists(tu_path(f->tmp, "1/relationships")));
}

static void test_dublin_core_always_written(void **state)
{
    fixture *f = *state;
    br_record_add_md(f->rec, "dcterms", "title", NULL, NULL, "Only dcterms");
    write_ok(tu_path(f->tmp, "1"), f->rec, NULL);
    /* DSpace's importer fails without dublin_core.xml. */
    assert_file_equals(tu_path(f->tmp, "1/dublin_core.xml"),
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<dublin_core "
                       "schema=\"dc\">\n</dublin_core>\n");
    assert_true(tu_exists(tu_path(f->tmp, "1/metadata_dcterms.xml")));
    /* No handle, no collections: neither file. */
    assert_false(tu_exists(tu_path(f->tmp, "1/handle")));
    assert_false(tu_exists(tu_path(f->tmp, "1/collections")));
}

static void test_escaping(void **state)
{
    fixture *f = *state;
    br_record_add_md(f->rec, "dc", "title", NULL, NULL,
                     "Tom & Jerry <in> \"quotes\" 'apostrophe' > end");
    br_record_add_md(f->rec, "dc", "description", NULL, "de\"x", "Café, naïve – 日本語");
    br_record_add_md(f->rec, "dc", "description", "abstract", NULL, "line one\nline two\ttab\rcr");
    br_record_add_md(f->rec, "dc", "subject", NULL, NULL, "bell\x01here \xEF\xBF\xBF");
    write_ok(tu_path(f->tmp, "1"), f->rec, NULL);
    assert_file_equals(tu_path(f->tmp, "1/dublin_core.xml"),
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<dublin_core schema=\"dc\">\n"
                       "  <dcvalue element=\"title\" qualifier=\"none\">Tom &amp; Jerry &lt;in&gt; "
                       "&quot;quotes&quot; "
                       "'apostrophe' &gt; end</dcvalue>\n"
                       "  <dcvalue element=\"description\" qualifier=\"none\" "
                       "language=\"de&quot;x\">Café, naïve – "
                       "日本語</dcvalue>\n"
                       "  <dcvalue element=\"description\" qualifier=\"abstract\">line "
                       "one&#10;line two&#9;tab&#13;cr"
                       "</dcvalue>\n"
                       /* Not representable in XML 1.0, even as references. */
                       "  <dcvalue element=\"subject\" qualifier=\"none\">bell\xEF\xBF\xBDhere "
                       "\xEF\xBF\xBD</dcvalue>\n"
                       "</dublin_core>\n");
}

static void test_escaped_xml_parses_back(void **state)
{
    /* The text is XML a strict parser accepts, and gives the values back. */
    fixture *f = *state;
    br_record_add_md(f->rec, "dc", "title", NULL, NULL, "a & b < c > d \" e\nf\tg");
    write_ok(tu_path(f->tmp, "1"), f->rec, NULL);
    char *out = NULL;
    int rc =
        tu_run(&out, NULL,
               "python3 -c 'import sys,xml.dom.minidom as m; d=m.parse(sys.argv[1]); "
               "sys.stdout.write(repr(d.getElementsByTagName(\"dcvalue\")[0].firstChild.data))' %s",
               tu_path(f->tmp, "1/dublin_core.xml"));
    if (rc == 127) {
        free(out);
        skip();
    }
    assert_int_equal(rc, 0);
    assert_string_equal(out, "'a & b < c > d \" e\\nf\\tg'");
    free(out);
}

static void test_invalid_utf8_rejected(void **state)
{
    fixture *f = *state;
    f->rec->handle = br_record_str(f->rec, "123456789/9");
    br_record_add_md(f->rec, "dc", "title", NULL, NULL, "bad \xC3\x28 byte");
    br_error err;
    assert_int_equal(br_saf_write_item(tu_path(f->tmp, "1"), f->rec, NULL, &err), BR_EINVAL);
    assert_contains(err.message, "dc.title");
    assert_contains(err.message, "123456789/9");
    assert_false(tu_exists(tu_path(f->tmp, "1"))); /* the half-written folder is removed */
}

/* ---- contents and files ------------------------------------------------------- */

static void test_contents_and_files(void **state)
{
    fixture *f = *state;
    make_sources(f);
    sample(f->rec, f->tmp);
    br_record *r = f->rec;
    r->bs[0].description = br_record_str(r, "The\tbook\nitself");
    r->bs[0].read_group = br_record_str(r, "Anonymous");
    br_bitstream *b = br_record_add_bitstream(r, "images/page.png");
    b->path = br_record_str(r, tu_path(f->tmp, "src/page.png"));
    b->write_group = br_record_str(r, "Editors");
    b->iiif_label = br_record_str(r, "Page 1");
    b->iiif_toc = br_record_str(r, "Chapter 1");
    b->iiif_width = 800;
    b->iiif_height = 600;
    b = br_record_add_bitstream(r, "both.png");
    b->path = br_record_str(r, tu_path(f->tmp, "src/page.png"));
    b->read_group = br_record_str(r, "Readers");
    b->write_group = br_record_str(r, "Writers");
    write_ok(tu_path(f->tmp, "1"), r, NULL);
    assert_file_equals(
        tu_path(f->tmp, "1/contents"),
        "book.pdf\tbundle:ORIGINAL\tprimary:true\tdescription:The book itself"
        "\tpermissions:-r 'Anonymous'\n"
        "license.txt\tbundle:LICENSE\n"
        "images/page.png\tbundle:ORIGINAL\tpermissions:-w 'Editors'\tiiif-label:Page 1"
        "\tiiif-toc:Chapter 1\tiiif-width:800\tiiif-height:600\n"
        /* One permissions option only: the read group. */
        "both.png\tbundle:ORIGINAL\tpermissions:-r 'Readers'\n");
    assert_file_equals(tu_path(f->tmp, "1/book.pdf"), "%PDF-1.4\n");
    assert_file_equals(tu_path(f->tmp, "1/license.txt"), "license");
    assert_file_equals(tu_path(f->tmp, "1/images/page.png"), "PNG bytes");
    assert_file_equals(tu_path(f->tmp, "1/both.png"), "PNG bytes");
}

static void test_exclude_bitstreams(void **state)
{
    fixture *f = *state;
    make_sources(f);
    sample(f->rec, f->tmp);
    br_saf_write_options opt = {.exclude_bitstreams = 1};
    write_ok(tu_path(f->tmp, "1"), f->rec, &opt);
    assert_file_equals(tu_path(f->tmp, "1/contents"),
                       "book.pdf\tbundle:ORIGINAL\tprimary:true\nlicense.txt\tbundle:LICENSE\n");
    assert_false(tu_exists(tu_path(f->tmp, "1/book.pdf")));
    assert_false(tu_exists(tu_path(f->tmp, "1/license.txt")));
}

static void test_bitstream_without_file_listed(void **state)
{
    /* Imported metadata-only from a -x package: listed, no file, no error. */
    fixture *f = *state;
    br_record_add_md(f->rec, "dc", "title", NULL, NULL, "t");
    br_record_add_bitstream(f->rec, "absent.pdf");
    write_ok(tu_path(f->tmp, "1"), f->rec, NULL);
    assert_file_equals(tu_path(f->tmp, "1/contents"), "absent.pdf\tbundle:ORIGINAL\n");
    assert_false(tu_exists(tu_path(f->tmp, "1/absent.pdf")));
}

static void test_unsafe_names_rejected(void **state)
{
    fixture *f = *state;
    static const char *const bad[] = {"../evil.pdf", "/etc/passwd", "a/../../b", "tab\there", "",
                                      "dir/"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        br_record_reset(f->rec);
        br_record_add_md(f->rec, "dc", "title", NULL, NULL, "t");
        br_record_add_bitstream(f->rec, "good.pdf");
        br_record_add_bitstream(f->rec, bad[i]);
        br_error err;
        assert_int_equal(br_saf_write_item(tu_path(f->tmp, "1"), f->rec, NULL, &err), BR_EINVAL);
        assert_contains(err.message, "bitstream name");
        assert_false(tu_exists(tu_path(f->tmp, "1"))); /* nothing written */
    }
    assert_false(tu_exists(tu_path(f->tmp, "evil.pdf")));
}

static void test_name_clashes_renamed(void **state)
{
    /* As DSpace: a clashing name becomes 1_name, 2_name ... (notes §3.3); here
     * metadata file names and file/folder clashes count too. */
    fixture *f = *state;
    make_sources(f);
    static const char *const names[] = {
        "a.pdf",          "a.pdf", "a.pdf",   "contents", "handle",
        "metadata_x.xml", "x",     "x/y.png", "1_a.pdf",  "dublin_core.xml/z"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        br_bitstream *b = br_record_add_bitstream(f->rec, names[i]);
        b->path = br_record_str(f->rec, tu_path(f->tmp, "src/page.png"));
    }
    write_ok(tu_path(f->tmp, "1"), f->rec, NULL);
    assert_file_equals(tu_path(f->tmp, "1/contents"), "a.pdf\tbundle:ORIGINAL\n"
                                                      "1_a.pdf\tbundle:ORIGINAL\n"
                                                      "2_a.pdf\tbundle:ORIGINAL\n"
                                                      "1_contents\tbundle:ORIGINAL\n"
                                                      "1_handle\tbundle:ORIGINAL\n"
                                                      "1_metadata_x.xml\tbundle:ORIGINAL\n"
                                                      "x\tbundle:ORIGINAL\n"
                                                      "1_x/y.png\tbundle:ORIGINAL\n"
                                                      "1_1_a.pdf\tbundle:ORIGINAL\n"
                                                      "1_dublin_core.xml/z\tbundle:ORIGINAL\n");
    assert_file_equals(tu_path(f->tmp, "1/2_a.pdf"), "PNG bytes");
    assert_file_equals(tu_path(f->tmp, "1/1_x/y.png"), "PNG bytes");
    assert_file_equals(tu_path(f->tmp, "1/1_dublin_core.xml/z"), "PNG bytes");
}

/* ---- migrate, relationships, determinism -------------------------------------- */

static void test_migrate(void **state)
{
    fixture *f = *state;
    br_record *r = f->rec;
    r->handle = br_record_str(r, "123456789/7");
    br_record_add_md(r, "dc", "title", NULL, NULL, "T");
    br_record_add_md(r, "dc", "date", "accessioned", NULL, "2020-01-01T00:00:00Z");
    br_record_add_md(r, "dc", "date", "available", NULL, "2020-01-01T00:00:00Z");
    br_record_add_md(r, "dc", "date", "issued", NULL, "2019");
    br_record_add_md(r, "dc", "description", "provenance", "en", "Made available ...");
    br_record_add_md(r, "dc", "identifier", "uri", NULL, "http://hdl.handle.net/123456789/7");
    br_record_add_md(r, "dc", "identifier", "uri", NULL, "https://hdl.handle.net/123456789/7");
    br_record_add_md(r, "dc", "identifier", "uri", NULL, "https://hdl.handle.net/10.1000/other");
    br_record_add_md(r, "dc", "identifier", "uri", NULL, "https://example.org/paper");
    br_record_add_md(r, "dcterms", "date", "accessioned", NULL, "kept: not dc");
    br_record_add_collection(r, "123456789/2");
    br_saf_write_options opt = {.migrate = 1};
    write_ok(tu_path(f->tmp, "1"), r, &opt);
    assert_file_equals(
        tu_path(f->tmp, "1/dublin_core.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<dublin_core schema=\"dc\">\n"
        "  <dcvalue element=\"title\" qualifier=\"none\">T</dcvalue>\n"
        "  <dcvalue element=\"date\" qualifier=\"issued\">2019</dcvalue>\n"
        "  <dcvalue element=\"identifier\" "
        "qualifier=\"uri\">https://hdl.handle.net/10.1000/other</dcvalue>\n"
        "  <dcvalue element=\"identifier\" qualifier=\"uri\">https://example.org/paper</dcvalue>\n"
        "</dublin_core>\n");
    assert_true(tu_exists(tu_path(f->tmp, "1/metadata_dcterms.xml")));
    assert_false(tu_exists(tu_path(f->tmp, "1/handle")));
    assert_file_equals(tu_path(f->tmp, "1/collections"),
                       "123456789/2\n"); /* still written, as DSpace */

    /* Without -m everything is written. */
    write_ok(tu_path(f->tmp, "2"), r, NULL);
    char *dc = tu_read(tu_path(f->tmp, "2/dublin_core.xml"));
    assert_contains(dc, "accessioned");
    assert_contains(dc, "provenance");
    assert_contains(dc, "http://hdl.handle.net/123456789/7");
    free(dc);
    assert_file_equals(tu_path(f->tmp, "2/handle"), "123456789/7\n");
}

static const char *folder_map(void *ctx, const char *handle)
{
    (void)ctx;
    if (!strcmp(handle, "123456789/8")) return "2";
    if (!strcmp(handle, "123456789/9")) return "3";
    return NULL;
}

static void test_relationships(void **state)
{
    fixture *f = *state;
    br_record *r = f->rec;
    br_record_add_md(r, "dc", "title", NULL, NULL, "T");
    br_record_add_relation(r, "isAuthorOfPublication", "123456789/8");     /* in the package */
    br_record_add_relation(r, "isAuthorOfPublication", "10.5555/outside"); /* not */
    br_relation *right = br_record_add_relation(r, "isProjectOfPublication", "123456789/9");
    right->is_left = 0; /* implied by the left item's file */
    br_record_add_relation(r, "relation.isOrgUnitOfPublication", "123456789/9");
    br_saf_write_options opt = {.folder_of = folder_map};
    write_ok(tu_path(f->tmp, "1"), r, &opt);
    assert_file_equals(tu_path(f->tmp, "1/relationships"),
                       "relation.isAuthorOfPublication folderName:2\n"
                       "relation.isAuthorOfPublication 10.5555/outside\n"
                       "relation.isOrgUnitOfPublication folderName:3\n");

    /* Without a folder map every target is a handle. */
    write_ok(tu_path(f->tmp, "2"), r, NULL);
    assert_file_equals(tu_path(f->tmp, "2/relationships"),
                       "relation.isAuthorOfPublication 123456789/8\n"
                       "relation.isAuthorOfPublication 10.5555/outside\n"
                       "relation.isOrgUnitOfPublication 123456789/9\n");
}

static void test_deterministic(void **state)
{
    fixture *f = *state;
    make_sources(f);
    sample(f->rec, f->tmp);
    br_record_add_relation(f->rec, "isAuthorOfPublication", "123456789/8");
    br_saf_write_options opt = {.folder_of = folder_map};
    write_ok(tu_path(f->tmp, "a"), f->rec, &opt);
    write_ok(tu_path(f->tmp, "b"), f->rec, &opt);
    char *out = NULL;
    int rc = tu_run(&out, NULL, "diff -r %s %s && ls -R %s", tu_path(f->tmp, "a"),
                    tu_path(f->tmp, "b"), tu_path(f->tmp, "a"));
    assert_int_equal(rc, 0);
    assert_contains(out, "dublin_core.xml");
    assert_contains(out, "metadata_dcterms.xml");
    assert_contains(out, "relationships");
    free(out);
}

static void test_existing_folder(void **state)
{
    fixture *f = *state;
    br_record_add_md(f->rec, "dc", "title", NULL, NULL, "T");
    tu_write(f->tmp, "1/keep.txt", "user file");
    br_error err;
    assert_int_equal(br_saf_write_item(tu_path(f->tmp, "1"), f->rec, NULL, &err), BR_EEXISTS);
    assert_file_equals(tu_path(f->tmp, "1/keep.txt"), "user file"); /* left alone */
    assert_false(tu_exists(tu_path(f->tmp, "1/dublin_core.xml")));
}

static void test_bad_schema_name(void **state)
{
    fixture *f = *state;
    br_record_add_md(f->rec, "../x", "title", NULL, NULL, "T");
    br_error err;
    assert_int_equal(br_saf_write_item(tu_path(f->tmp, "1"), f->rec, NULL, &err), BR_EINVAL);
    assert_false(tu_exists(tu_path(f->tmp, "1")));
    assert_false(tu_exists(tu_path(f->tmp, "metadata_..")));
}

/* ---- JSON ----------------------------------------------------------------------- */

static json_t *to_json(const br_record *r)
{
    char *text = NULL;
    br_error err;
    int rc = br_record_to_json(r, &text, &err);
    if (rc) fail_msg("br_record_to_json = %d: %s", rc, err.message);
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j) fail_msg("not JSON (%s):\n%s", jerr.text, text);
    free(text);
    return j;
}

static void test_json_shape(void **state)
{
    fixture *f = *state;
    make_sources(f);
    sample(f->rec, f->tmp);
    br_record *r = f->rec;
    r->created = br_record_str(r, "2024-01-02T03:04:05Z");
    r->modified = br_record_str(r, "2024-02-03T04:05:06Z");
    br_bitstream *b = &r->bs[0];
    b->mime = br_record_str(r, "application/pdf");
    b->description = br_record_str(r, "The book");
    strcpy(b->md5, "0123456789abcdef0123456789abcdef");
    strcpy(b->sha256, "aa");
    b->read_group = br_record_str(r, "Anonymous");
    r->bs[1].iiif_width = 100;
    br_record_add_relation(r, "isAuthorOfPublication", "123456789/8");
    br_record_add_relation(r, "isProjectOfPublication", "123456789/9")->is_left = 0;

    json_t *j = to_json(r);
    assert_int_equal(json_integer_value(json_object_get(j, "id")), 7);
    assert_string_equal(json_string_value(json_object_get(j, "handle")), "123456789/7");
    assert_string_equal(json_string_value(json_object_get(j, "uuid")),
                        "0b3e7b5e-1c57-4a4e-9d35-7f3c2f4f0a11");
    assert_string_equal(json_string_value(json_object_get(j, "name")), "A Tale of Two Cities");
    assert_string_equal(json_string_value(json_object_get(j, "status")), "archived");
    assert_string_equal(json_string_value(json_object_get(j, "owningCollection")), "123456789/2");
    assert_int_equal(json_array_size(json_object_get(j, "collections")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "lastModified")),
                        "2024-02-03T04:05:06Z");

    /* Metadata keyed by field name, in name order. */
    json_t *md = json_object_get(j, "metadata");
    static const char *const keys[] = {"dc.contributor.author", "dc.date.issued",   "dc.title",
                                       "dc.title.alternative",  "dcterms.abstract", "local.note"};
    size_t k = 0;
    const char *key;
    json_t *values;
    json_object_foreach(md, key, values)
    {
        assert_true(k < sizeof keys / sizeof *keys);
        assert_string_equal(key, keys[k++]);
    }
    assert_int_equal(k, sizeof keys / sizeof *keys);
    json_t *title = json_array_get(json_object_get(md, "dc.title"), 0);
    assert_string_equal(json_string_value(json_object_get(title, "value")), "A Tale of Two Cities");
    assert_true(json_is_null(json_object_get(title, "language")));
    assert_true(json_is_null(json_object_get(title, "authority")));
    assert_int_equal(json_integer_value(json_object_get(title, "confidence")), -1);
    assert_int_equal(json_integer_value(json_object_get(title, "place")), 0);
    json_t *alt = json_array_get(json_object_get(md, "dc.title.alternative"), 0);
    assert_string_equal(json_string_value(json_object_get(alt, "language")), "fr");
    json_t *authors = json_object_get(md, "dc.contributor.author");
    assert_int_equal(json_array_size(authors), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(authors, 1), "value")),
                        "Collins, Wilkie");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(authors, 1), "place")), 1);

    json_t *bss = json_object_get(j, "bitstreams");
    assert_int_equal(json_array_size(bss), 2);
    json_t *b0 = json_array_get(bss, 0);
    assert_string_equal(json_string_value(json_object_get(b0, "name")), "book.pdf");
    assert_string_equal(json_string_value(json_object_get(b0, "bundle")), "ORIGINAL");
    assert_int_equal(json_integer_value(json_object_get(b0, "size")), 9);
    assert_string_equal(json_string_value(json_object_get(b0, "md5")),
                        "0123456789abcdef0123456789abcdef");
    assert_string_equal(json_string_value(json_object_get(b0, "sha256")), "aa");
    assert_string_equal(json_string_value(json_object_get(b0, "mime")), "application/pdf");
    assert_true(json_is_true(json_object_get(b0, "primary")));
    assert_string_equal(json_string_value(json_object_get(b0, "description")), "The book");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(b0, "permissions"), "read")),
        "Anonymous");
    assert_true(json_is_null(json_object_get(json_object_get(b0, "permissions"), "write")));
    assert_null(json_object_get(b0, "iiif")); /* only when set */
    json_t *b1 = json_array_get(bss, 1);
    assert_string_equal(json_string_value(json_object_get(b1, "bundle")), "LICENSE");
    assert_true(json_is_false(json_object_get(b1, "primary")));
    assert_true(json_is_null(json_object_get(b1, "md5")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(b1, "iiif"), "width")),
                     100);

    json_t *rels = json_object_get(j, "relationships");
    assert_int_equal(json_array_size(rels), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rels, 0), "type")),
                        "isAuthorOfPublication");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rels, 0), "item")),
                        "123456789/8");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rels, 0), "side")),
                        "left");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rels, 1), "side")),
                        "right");
    json_decref(j);
}

static void test_json_minimal_and_non_ascii(void **state)
{
    fixture *f = *state;
    br_record_add_md(f->rec, "dc", "title", NULL, "ja", "日本語 & \"quotes\"\n");
    json_t *j = to_json(f->rec);
    assert_null(json_object_get(j, "id")); /* id 0: not stored */
    assert_true(json_is_null(json_object_get(j, "handle")));
    assert_true(json_is_null(json_object_get(j, "owningCollection")));
    assert_int_equal(json_array_size(json_object_get(j, "bitstreams")), 0);
    assert_int_equal(json_array_size(json_object_get(j, "relationships")), 0);
    json_t *t = json_array_get(json_object_get(json_object_get(j, "metadata"), "dc.title"), 0);
    assert_string_equal(json_string_value(json_object_get(t, "value")), "日本語 & \"quotes\"\n");
    assert_string_equal(json_string_value(json_object_get(t, "language")), "ja");
    json_decref(j);

    /* Not UTF-8: an error naming the field, no output. */
    br_record_add_md(f->rec, "dc", "subject", NULL, NULL, "\xFF");
    char *text = (char *)"untouched";
    br_error err;
    assert_int_equal(br_record_to_json(f->rec, &text, &err), BR_EINVAL);
    assert_null(text);
    assert_contains(err.message, "dc.subject");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metadata_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dublin_core_always_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escaped_xml_parses_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contents_and_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exclude_bitstreams, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bitstream_without_file_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_names_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_clashes_renamed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relationships, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_schema_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_minimal_and_non_ascii, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
