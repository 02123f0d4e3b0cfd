/* The SAF package reader, through the public API: DSpace's own test package,
 * a complete committed package (tests/data/saf/basic) and one small broken
 * package per rule, built here with tu_write. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "testutil.h"
#include "repo_fixture.h"
#include "bulkrepo/bulkrepo.h"

typedef struct fixture {
    char *tmp;
    br_record *rec;
    /* every diagnostic, one per line: "source[:line[:col]]: message (hint) [rule severity]" */
    tu_log log;
    br_diag_sink sink;
} fixture;

static void collect(void *ctx, const br_diag *d)
{
    fixture *f = ctx;
    char line[4096];
    int n;
    const char *src = d->source ? d->source : "";
    if (d->line && d->column)
        n = snprintf(line, sizeof line, "%s:%u:%u: ", src, d->line, d->column);
    else if (d->line)
        n = snprintf(line, sizeof line, "%s:%u: ", src, d->line);
    else
        n = snprintf(line, sizeof line, "%s: ", src);
    n += snprintf(line + n, sizeof line - (size_t)n, "%s%s%s%s [%s %s] {%s}\n", d->message,
                  d->hint ? " (" : "", d->hint ? d->hint : "", d->hint ? ")" : "", d->rule,
                  br_severity_name(d->severity), d->item ? d->item : "");
    tu_log_printf(&f->log, "%s", line);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->tmp = tu_tmpdir();
    f->rec = br_record_new();
    tu_log_init(&f->log);
    f->sink.fn = collect;
    f->sink.ctx = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->tmp);
    free(f->tmp);
    tu_log_dispose(&f->log);
    br_record_free(f->rec);
    free(f);
    return 0;
}

static void clear_log(fixture *f)
{
    tu_log_clear(&f->log);
    f->sink.errors = f->sink.warnings = f->sink.notes = 0;
}

/* Opens dir and reads the item in `folder`; returns br_saf_read_item's code. */
static int read_one_opt(fixture *f, const char *dir, const char *folder,
                        const br_saf_read_options *opt)
{
    br_saf_package *pkg = NULL;
    br_error err = {0};
    int rc = br_saf_open(dir, NULL, &f->sink, &pkg, &err);
    if (rc) fail_msg("br_saf_open(%s): %s", dir, tu_errtext(&err));
    long i = br_saf_find(pkg, folder);
    if (i < 0) fail_msg("no folder %s", folder);
    rc = br_saf_read_item(pkg, (size_t)i, opt, f->rec, &f->sink, &err);
    if (rc && rc != BR_EINVAL) fail_msg("br_saf_read_item: %s", tu_errtext(&err));
    br_saf_close(pkg);
    return rc;
}

static int read_one(fixture *f, const char *folder)
{
    return read_one_opt(f, f->tmp, folder, NULL);
}

static const br_mdv *find_md(const br_record *r, const char *schema, const char *element,
                             const char *qualifier, int nth)
{
    for (size_t i = 0; i < r->n_md; i++) {
        const br_mdv *v = &r->md[i];
        if (!strcmp(v->schema, schema) && !strcmp(v->element, element) &&
            (qualifier ? v->qualifier && !strcmp(v->qualifier, qualifier) : !v->qualifier) &&
            nth-- == 0)
            return v;
    }
    return NULL;
}

static const br_bitstream *find_bs(const br_record *r, const char *name)
{
    for (size_t i = 0; i < r->n_bs; i++)
        if (!strcmp(r->bs[i].name, name)) return &r->bs[i];
    return NULL;
}

#define DC_OK "<dublin_core><dcvalue element=\"title\">T</dcvalue></dublin_core>\n"

/* ---- DSpace's own fixture -------------------------------------------------------- */

static void test_dspace_reference_package(void **state)
{
    fixture *f = *state;
    char root[4096];
    br_error err = {0};
    int rc = br_zip_extract(tu_data("saf/saf-bitstreams.zip"), tu_path(f->tmp, "x"), NULL, root,
                            sizeof root, &err);
    if (rc) fail_msg("%s", tu_errtext(&err));
    br_saf_package *pkg = NULL;
    assert_int_equal(br_saf_open(root, NULL, &f->sink, &pkg, &err), 0);
    assert_int_equal(br_saf_count(pkg), 1);
    assert_string_equal(br_saf_folder(pkg, 0), "item_000");
    rc = br_saf_read_item(pkg, 0, NULL, f->rec, &f->sink, &err);
    if (rc) fail_msg("rc %d\n%s", rc, f->log.text);
    assert_int_equal(f->sink.errors, 0);
    assert_int_equal(f->sink.warnings, 0);

    br_record *r = f->rec;
    assert_string_equal(r->key, "item_000");
    assert_string_equal(br_record_first(r, "dc.title"), "A Tale of Two Cities");
    assert_string_equal(br_record_first(r, "dc.date.issued"), "1990");
    const br_mdv *alt = find_md(r, "dc", "title", "alternative", 0);
    assert_non_null(alt);
    assert_string_equal(alt->value, "J'aime les Printemps");
    assert_string_equal(alt->language, "fr");
    assert_null(find_md(r, "dc", "title", NULL, 0)->language);
    assert_string_equal(br_record_first(r, "dcterms.title"), "A Tale of Two Cities");
    assert_string_equal(alt->origin.source, "item_000/dublin_core.xml");
    assert_int_equal(alt->origin.line, 4);

    assert_int_equal(r->n_bs, 1);
    assert_string_equal(r->bs[0].name, "file1.txt");
    assert_string_equal(r->bs[0].bundle, "ORIGINAL");
    char *s = tu_read(r->bs[0].path);
    assert_string_equal(s, "TEST TEST TEST\n");
    free(s);
    assert_string_equal(r->bs[0].origin.source, "item_000/contents");
    assert_int_equal(r->bs[0].origin.line, 1);
    br_saf_close(pkg);
}

/* ---- the complete committed package ------------------------------------------------ */

static void test_basic_package(void **state)
{
    fixture *f = *state;
    br_saf_package *pkg = NULL;
    br_error err = {0};
    assert_int_equal(br_saf_open(tu_data("saf/basic"), NULL, &f->sink, &pkg, &err), 0);
    assert_int_equal(br_saf_count(pkg), 3);
    /* natural order */
    assert_string_equal(br_saf_folder(pkg, 0), "item_1");
    assert_string_equal(br_saf_folder(pkg, 1), "item_2");
    assert_string_equal(br_saf_folder(pkg, 2), "item_10");
    assert_int_equal(br_saf_find(pkg, "item_10"), 2);
    assert_int_equal(br_saf_find(pkg, "item_3"), -1);
    assert_non_null(strstr(br_saf_root(pkg), "saf/basic"));
    assert_true(br_saf_root(pkg)[0] == '/');

    int rc = br_saf_read_item(pkg, 0, NULL, f->rec, &f->sink, &err);
    if (rc) fail_msg("rc %d\n%s", rc, f->log.text);
    br_record *r = f->rec;
    assert_string_equal(r->key, "item_1");
    assert_string_equal(br_record_first(r, "dc.title"), "Caf\xc3\xa9 & Cr\xc3\xa8me: a study");
    const br_mdv *alt = find_md(r, "dc", "title", "alternative", 0);
    assert_string_equal(alt->language, "es"); /* trimmed */
    assert_string_equal(find_md(r, "dc", "contributor", "author", 1)->value,
                        "M\xc3\xbcller, J\xc3\xbcrgen");
    assert_int_equal(find_md(r, "dc", "contributor", "author", 1)->place, 1);
    /* CDATA is accepted (DSpace would drop it) */
    assert_string_equal(br_record_first(r, "dc.description.abstract"),
                        "Uses <b>CDATA</b> & friends");
    /* qualifier="" is no qualifier; value trimmed; the empty value skipped with a note */
    assert_string_equal(br_record_first(r, "dc.subject"), "coffee");
    assert_null(find_md(r, "dc", "subject", NULL, 1));
    assert_contains(f->log.text, "item_1/dublin_core.xml:11: dc.subject has an empty value: "
                                 "skipped [saf.xml.empty-value note]");
    assert_string_equal(br_record_first(r, "dcterms.alternative"), "Coffee and cream");
    assert_string_equal(br_record_first(r, "dspace.entity.type"), "Publication");
    /* dublin_core.xml first, then metadata_* by name */
    assert_string_equal(r->md[0].schema, "dc");
    assert_string_equal(r->md[r->n_md - 1].schema, "dspace");

    assert_int_equal(r->n_bs, 4);
    const br_bitstream *b = find_bs(r, "paper.pdf");
    assert_string_equal(b->bundle, "ORIGINAL");
    assert_int_equal(b->primary, 1); /* "primary:true " with a trailing space */
    assert_string_equal(b->description, "Full text");
    assert_string_equal(b->read_group, "Staff Only");
    assert_null(b->write_group);
    assert_int_equal(b->origin.line, 1);
    b = find_bs(r, "fig 2.png");
    assert_string_equal(b->bundle, "THUMBNAIL");
    assert_string_equal(b->description, "Figure 2");
    assert_string_equal(b->write_group, "Admins");
    assert_int_equal(b->primary, 0);
    assert_int_equal(b->origin.line, 3);
    char *s = tu_read(b->path);
    assert_string_equal(s, "png\n");
    free(s);
    b = find_bs(r, "images/p 1.jpg");
    assert_string_equal(b->iiif_label, "Page 1");
    assert_string_equal(b->iiif_toc, "Chapter 1");
    assert_int_equal(b->iiif_width, 1200);
    assert_int_equal(b->iiif_height, 800);
    assert_non_null(b->path);
    b = find_bs(r, "license.txt");
    assert_string_equal(b->bundle, "LICENSE");

    assert_string_equal(r->handle, "123456789/42");
    assert_int_equal(r->n_collections, 2);
    assert_string_equal(r->collections[0], "123456789/1");
    assert_string_equal(r->collections[1], "123456789/2");
    assert_int_equal(r->n_rels, 2);
    assert_string_equal(r->rels[0].type, "isAuthorOfPublication");
    assert_string_equal(r->rels[0].target, "folderName:item_2");
    assert_string_equal(r->rels[1].type, "isOrgUnitOfPublication");
    assert_string_equal(r->rels[1].target, "folderName:item_10"); /* rowName: normalised */
    assert_int_equal(r->rels[1].origin.line, 2);
    assert_string_equal(r->rels[1].origin.source, "item_1/relationships");

    /* item_2: metadata only, no contents */
    assert_int_equal(br_saf_read_item(pkg, 1, NULL, f->rec, &f->sink, &err), 0);
    assert_string_equal(r->key, "item_2");
    assert_int_equal(r->n_bs, 0);
    assert_int_equal(r->n_rels, 1);
    assert_null(r->handle);
    /* item_10: CRLF contents */
    assert_int_equal(br_saf_read_item(pkg, 2, NULL, f->rec, &f->sink, &err), 0);
    assert_int_equal(r->n_bs, 1);
    assert_string_equal(r->bs[0].name, "data.csv");
    assert_int_equal(f->sink.errors, 0);
    assert_int_equal(f->sink.warnings, 0);

    assert_int_equal(br_saf_read_item(pkg, 3, NULL, f->rec, &f->sink, &err), BR_EUSAGE);
    br_saf_close(pkg);
    br_saf_close(NULL);
}

/* ---- opening ------------------------------------------------------------------------ */

static void test_open_skips_hidden_and_macosx(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_10/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_2/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_02/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "__MACOSX/item_2/._dublin_core.xml", "junk");
    tu_write(f->tmp, ".git/config", "junk");
    tu_write(f->tmp, "README.txt", "plain files at the top are ignored");
    br_saf_package *pkg = NULL;
    br_error err = {0};
    assert_int_equal(br_saf_open(f->tmp, NULL, &f->sink, &pkg, &err), 0);
    assert_int_equal(br_saf_count(pkg), 3);
    assert_string_equal(br_saf_folder(pkg, 0), "item_2");
    assert_string_equal(br_saf_folder(pkg, 1), "item_02");
    assert_string_equal(br_saf_folder(pkg, 2), "item_10");
    assert_null(br_saf_folder(pkg, 3));
    assert_int_equal(br_saf_find(pkg, "item_02"), 1);
    assert_contains(f->log.text, "__MACOSX: '__MACOSX' is skipped: macOS archive metadata, not an "
                                 "item [saf.folder.skipped note]");
    assert_contains(f->log.text, "'.git' is skipped: hidden folder");
    assert_int_equal(f->sink.notes, 2);
    assert_int_equal(f->sink.errors, 0);
    br_saf_close(pkg);
}

static void test_open_empty_package(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "README.txt", "no items here");
    tu_write(f->tmp, "__MACOSX/x", "junk");
    br_saf_package *pkg = (br_saf_package *)1;
    br_error err = {0};
    assert_int_equal(br_saf_open(f->tmp, NULL, &f->sink, &pkg, &err), BR_EINVAL);
    assert_null(pkg);
    assert_string_equal(err.message, "the package holds no item folders");

    assert_int_equal(br_saf_open(tu_path(f->tmp, "nope"), NULL, &f->sink, &pkg, &err),
                     BR_ENOTFOUND);
    assert_int_equal(br_saf_open(tu_path(f->tmp, "README.txt"), NULL, &f->sink, &pkg, &err),
                     BR_EINVAL);
}

static void test_open_max_items(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "a/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "b/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "c/dublin_core.xml", DC_OK);
    br_limits lim;
    br_limits_default(&lim);
    lim.max_items = 2;
    br_saf_package *pkg = NULL;
    br_error err = {0};
    assert_int_equal(br_saf_open(f->tmp, &lim, &f->sink, &pkg, &err), BR_ELIMIT);
    assert_contains(err.message, "more than 2 item folders");
    lim.max_items = 3;
    assert_int_equal(br_saf_open(f->tmp, &lim, &f->sink, &pkg, &err), 0);
    br_saf_close(pkg);
}

static void test_symlinked_item_folder(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "outside/real/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "pkg/item_1/dublin_core.xml", DC_OK);
    assert_int_equal(symlink(tu_path(f->tmp, "outside/real"), tu_path(f->tmp, "pkg/item_2")), 0);
    assert_int_equal(read_one_opt(f, tu_path(f->tmp, "pkg"), "item_2", NULL), BR_EINVAL);
    assert_contains(f->log.text,
                    "item_2: 'item_2' is a symbolic link to a folder (links are not followed)");
    assert_contains(f->log.text, "[saf.folder.symlink error]");
    assert_int_equal(f->rec->n_md, 0);
}

/* ---- dublin_core.xml and metadata_*.xml ---------------------------------------------------- */

static void test_missing_dublin_core(void **state)
{
    fixture *f = *state;
    tu_write(
        f->tmp, "item_1/metadata_dcterms.xml",
        "<dublin_core schema=\"dcterms\"><dcvalue element=\"title\">T</dcvalue></dublin_core>");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "item_1/dublin_core.xml: 'dublin_core.xml' is missing "
                                 "[saf.dublin_core.missing error] {item_1}");
    /* the other files are still read: every problem in one run */
    assert_string_equal(br_record_first(f->rec, "dcterms.title"), "T");
}

/* BR_EINVAL is an error like any other: err says so and names the item, so a
 * caller reading err->code (import's value-reference pass) sees it, and a
 * NULL err is fine. */
static void test_invalid_item_fills_err(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/contents", "missing.pdf\n");
    tu_write(f->tmp, "item_2/dublin_core.xml", DC_OK);
    br_saf_package *pkg = NULL;
    br_error err;
    assert_br_ok(br_saf_open(f->tmp, NULL, &f->sink, &pkg, &err), &err);
    memset(&err, 0, sizeof err);
    assert_int_equal(br_saf_read_item(pkg, 0, NULL, f->rec, NULL, &err), BR_EINVAL);
    assert_int_equal(err.code, BR_EINVAL);
    assert_string_equal(err.place.source, "item_1");
    assert_contains(err.message, "problem");
    assert_int_equal(br_saf_read_item(pkg, 0, NULL, f->rec, NULL, NULL), BR_EINVAL);
    assert_int_equal(br_saf_read_item(pkg, 1, NULL, f->rec, NULL, NULL), 0);
    assert_int_equal(br_saf_read_item(pkg, 9, NULL, f->rec, NULL, NULL), BR_EUSAGE);
    br_saf_close(pkg);
}

static void test_malformed_xml(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<dublin_core>\n"
             "  <dcvalue element=\"title\">One</dcvalue>\n"
             "  <dcvalue element=\"title\">Two</dcvalu>\n"
             "</dublin_core>\n");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "item_1/dublin_core.xml:3:");
    assert_contains(f->log.text,
                    "malformed XML: Opening and ending tag mismatch: dcvalue line 3 and dcvalu");
    assert_contains(f->log.text, "[saf.xml.malformed error]");
    assert_int_equal(f->rec->n_md, 0);

    clear_log(f);
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<dublin_core>\n<dcvalue element=\"title\">A & B</dcvalue>\n</dublin_core>\n");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "item_1/dublin_core.xml:2:");
    assert_contains(f->log.text, "malformed XML: xmlParseEntityRef: no name");

    clear_log(f);
    tu_write(f->tmp, "item_1/dublin_core.xml", "");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "malformed XML: Document is empty");
}

static void test_doctype_rejected(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<?xml version=\"1.0\"?>\n"
             "<!-- harmless comment -->\n"
             "<!DOCTYPE dublin_core [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
             "<dublin_core><dcvalue element=\"title\">&xxe;</dcvalue></dublin_core>\n");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(
        f->log.text,
        "item_1/dublin_core.xml:3:1: DOCTYPE is not allowed (external entities are never loaded)");
    assert_contains(f->log.text, "[saf.xml.doctype error]");
    assert_int_equal(f->rec->n_md, 0);
    assert_not_contains(f->log.text, "root:");

    /* Without a DOCTYPE the entity is merely undefined: nothing is read either. */
    clear_log(f);
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<dublin_core><dcvalue element=\"title\">&xxe;</dcvalue></dublin_core>\n");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "Entity 'xxe' not defined");
    for (size_t i = 0; i < f->rec->n_md; i++)
        assert_not_contains(f->rec->md[i].value, "root:");

    /* A UTF-16 document: the prolog scan cannot see the DOCTYPE in it, the
     * parser hook stops at it before the internal subset is read. */
    clear_log(f);
    const char *x = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n"
                    "<!DOCTYPE dublin_core [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
                    "<dublin_core><dcvalue element=\"title\">&xxe;</dcvalue></dublin_core>\n";
    size_t n = strlen(x);
    unsigned char *u = malloc(2 * n + 2);
    u[0] = 0xFF;
    u[1] = 0xFE;
    for (size_t i = 0; i < n; i++) {
        u[2 + 2 * i] = (unsigned char)x[i];
        u[3 + 2 * i] = 0;
    }
    tu_write_bytes(f->tmp, "item_1/dublin_core.xml", u, 2 * n + 2);
    free(u);
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "DOCTYPE is not allowed (external entities are never loaded)");
    assert_int_equal(f->rec->n_md, 0);
    for (size_t i = 0; i < f->rec->n_md; i++)
        assert_not_contains(f->rec->md[i].value, "root:");
}

static void test_invalid_utf8_xml(void **state)
{
    fixture *f = *state;
    tu_write(
        f->tmp, "item_1/dublin_core.xml",
        "<dublin_core>\n<dcvalue element=\"title\">Caf\xe9 au lait</dcvalue>\n</dublin_core>\n");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "item_1/dublin_core.xml:2:29: invalid UTF-8 (byte 0xE9)");
    assert_contains(f->log.text, "[saf.utf8 error]");

    /* A NUL byte: the same check as the other text files, with its place. */
    clear_log(f);
    static const char nul[] =
        "<dublin_core>\n<dcvalue element=\"title\">A\0B</dcvalue>\n</dublin_core>\n";
    tu_write_bytes(f->tmp, "item_1/dublin_core.xml", nul, sizeof nul - 1);
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(
        f->log.text,
        "item_1/dublin_core.xml:2:27: the file holds a NUL byte: it is not a text file");

    /* A declared Latin-1 document is converted, not rejected. */
    clear_log(f);
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
             "<dublin_core>\n<dcvalue element=\"title\">Caf\xe9</dcvalue>\n</dublin_core>\n");
    assert_int_equal(read_one(f, "item_1"), 0);
    assert_string_equal(br_record_first(f->rec, "dc.title"), "Caf\xc3\xa9");
}

static void test_xml_values(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<dublin_core schema=\"\">\n"
             "  <dcvalue element=\"title\" qualifier=\"none\" language=\"  "
             "\">Cafe\xcc\x81</dcvalue>\n" /* NFD */
             "  <dcvalue element=\"title.alternative\">Dotted</dcvalue>\n"
             "  <dcvalue qualifier=\"x\">No element</dcvalue>\n"
             "  <dcvalue element=\"subject\" lang=\"en\">With markup <b>bold</b> text</dcvalue>\n"
             "  <note>ignored</note>\n"
             "  <dcvalue element=\"subject\">  <!-- c -->\n  spaced  </dcvalue>\n"
             "</dublin_core>\n");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    br_record *r = f->rec;
    /* empty schema = dc; NFC-normalised; blank language = none */
    const br_mdv *t = find_md(r, "dc", "title", NULL, 0);
    assert_string_equal(t->value, "Caf\xc3\xa9");
    assert_null(t->language);
    assert_int_equal(t->origin.line, 2);
    assert_contains(f->log.text,
                    "item_1/dublin_core.xml:3: element 'title.alternative' contains a '.' (put the "
                    "part after the dot in the qualifier attribute) [saf.xml.attribute error]");
    assert_contains(
        f->log.text,
        "item_1/dublin_core.xml:4: <dcvalue> has no element attribute [saf.xml.attribute error]");
    assert_contains(f->log.text,
                    "item_1/dublin_core.xml:5: unknown attribute 'lang' of <dcvalue> is ignored "
                    "(did you mean 'language'?) [saf.xml.attribute warning]");
    assert_contains(f->log.text,
                    "holds markup (<b>): only its text is used [saf.xml.markup warning]");
    assert_string_equal(find_md(r, "dc", "subject", NULL, 0)->value, "With markup bold text");
    assert_contains(f->log.text, "item_1/dublin_core.xml:6: unknown element <note> is ignored "
                                 "(expected <dcvalue>) [saf.xml.unknown-element warning]");
    assert_string_equal(find_md(r, "dc", "subject", NULL, 1)->value, "spaced");
    assert_int_equal(f->sink.errors, 2);
}

static void test_xml_root(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<?xml version=\"1.0\"?>\n\n<metadata>\n</metadata>\n");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "item_1/dublin_core.xml:3: the root element is <metadata>, not "
                                 "<dublin_core> [saf.xml.root error]");
}

static void test_metadata_relation_schema(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_1/metadata_relation.xml",
             "<dublin_core schema=\"relation\">\n"
             "<dcvalue "
             "element=\"isAuthorOfPublication\">5dace143-1238-4b4f-affb-ed559f9254bb</dcvalue>\n"
             "</dublin_core>\n");
    assert_int_equal(read_one(f, "item_1"), 0);
    br_record *r = f->rec;
    assert_int_equal(r->n_md, 1);
    assert_int_equal(r->n_rels, 1);
    assert_string_equal(r->rels[0].type, "isAuthorOfPublication");
    assert_string_equal(r->rels[0].target, "5dace143-1238-4b4f-affb-ed559f9254bb");
    assert_string_equal(r->rels[0].origin.source, "item_1/metadata_relation.xml");
    assert_int_equal(r->rels[0].origin.line, 2);
}

/* ---- contents ------------------------------------------------------------------------------- */

static void test_missing_contents_with_other_files(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_1/handle", "123456789/5\n");
    tu_write(f->tmp, "item_1/paper.pdf", "pdf");
    tu_write(f->tmp, "item_1/.DS_Store", "junk");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(
        f->log.text,
        "item_1/contents: no contents file, but the folder holds other files ('paper.pdf')");
    assert_contains(f->log.text, "[saf.contents.missing error]");

    /* only metadata files (and hidden debris): a metadata-only item */
    clear_log(f);
    unlink(tu_path(f->tmp, "item_1/paper.pdf"));
    tu_write(f->tmp, "item_1/metadata_dcterms.xml", "<dublin_core schema=\"dcterms\"/>");
    tu_write(f->tmp, "item_1/collections", "123456789/1\n");
    tu_write(f->tmp, "item_1/relationships", "relation.isAuthorOfPublication 123456789/9\n");
    assert_int_equal(read_one(f, "item_1"), 0);
    assert_int_equal(f->log.len, 0);
}

static void test_missing_listed_file(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_007/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_007/contents", "a.pdf\n\nfig 2.png\tbundle:ORIGINAL\n");
    tu_write(f->tmp, "item_007/a.pdf", "pdf");
    assert_int_equal(read_one(f, "item_007"), BR_EINVAL);
    assert_contains(f->log.text, "item_007/contents:3: 'fig 2.png' is listed but not in the item "
                                 "folder [saf.contents.missing-file error] {item_007}");
    assert_int_equal(f->sink.errors, 1);

    /* files_optional (-x packages): fine, path NULL */
    clear_log(f);
    br_saf_read_options opt = {.files_optional = 1};
    assert_int_equal(read_one_opt(f, f->tmp, "item_007", &opt), 0);
    assert_null(find_bs(f->rec, "fig 2.png")->path);
    assert_non_null(find_bs(f->rec, "a.pdf")->path);

    /* a name with spaces around it */
    clear_log(f);
    tu_write(f->tmp, "item_007/contents", "a.pdf \n");
    assert_int_equal(read_one(f, "item_007"), BR_EINVAL);
    assert_contains(f->log.text, "'a.pdf ' is listed but not in the item folder (a file named "
                                 "'a.pdf' is there: the line has spaces around the name)");
}

static void test_case_and_normalisation_mismatch(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_1/contents", "Figure.PNG\ncaf\xc3\xa9.txt\n");
    tu_write(f->tmp, "item_1/figure.png", "png");
    tu_write(f->tmp, "item_1/cafe\xcc\x81.txt", "nfd name"); /* NFD on disk, NFC in contents */
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(
        f->log.text,
        "item_1/contents:1: 'Figure.PNG' is listed but not in the item folder (a file named "
        "'figure.png' is there: names must match exactly) [saf.contents.case-mismatch error]");
    assert_contains(f->log.text, "item_1/contents:2: 'caf\xc3\xa9.txt' is listed but not in the "
                                 "item folder (a file named 'cafe\xcc\x81.txt' is there: names "
                                 "must match exactly) [saf.contents.case-mismatch error]");
}

static void test_unknown_option_is_a_warning(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_1/contents",
             "a.pdf\tbundel:THUMBNAIL\tbundle:ORIGINAL\tbundle:OTHER\tprimary:yes\n");
    tu_write(f->tmp, "item_1/a.pdf", "pdf");
    assert_int_equal(read_one(f, "item_1"), 0);
    assert_contains(f->log.text,
                    "item_1/contents:1: unknown option 'bundel:' for 'a.pdf' is ignored");
    assert_contains(f->log.text, "[saf.contents.option warning]");
    assert_contains(f->log.text, "option bundle: is given twice for 'a.pdf': the first is used");
    assert_contains(f->log.text, "primary:yes is ignored");
    assert_int_equal(f->sink.warnings, 3);
    assert_string_equal(f->rec->bs[0].bundle, "ORIGINAL");
}

static void test_bad_option_values(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_1/contents",
             "a.pdf\tiiif-width:wide\tiiif-height:-3\n"
             "b.pdf\tpermissions:-x 'Group'\n"
             "c.pdf\tpermissions:-r 'Unclosed\n"
             "d.pdf\tbundle:\n");
    tu_write(f->tmp, "item_1/a.pdf", "x");
    tu_write(f->tmp, "item_1/b.pdf", "x");
    tu_write(f->tmp, "item_1/c.pdf", "x");
    tu_write(f->tmp, "item_1/d.pdf", "x");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "item_1/contents:1: iiif-width:wide: not a positive whole number "
                                 "[saf.contents.option error]");
    assert_contains(f->log.text, "item_1/contents:1: iiif-height:-3: not a positive whole number");
    assert_contains(
        f->log.text,
        "item_1/contents:2: permissions:-x 'Group': the flag must be -r (read) or -w (write)");
    assert_contains(
        f->log.text,
        "item_1/contents:3: permissions:-r 'Unclosed: the group name has no closing quote");
    assert_contains(f->log.text, "item_1/contents:4: bundle:: not a bundle name");
    assert_int_equal(f->sink.errors, 5);
}

static void test_contents_paths(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "other/secret.pdf", "secret");
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_1/contents",
             "../other/secret.pdf\n"
             "/etc/passwd\n"
             "sub\\..\\x.pdf\n"
             "-r -s 1 -f imports/file.pdf\tbundle:ORIGINAL\n"
             "a.pdf\n"
             "a.pdf\tbundle:OTHER\n"
             "sub\n");
    tu_write(f->tmp, "item_1/a.pdf", "x");
    tu_write(f->tmp, "item_1/sub/x.pdf", "x");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "item_1/contents:1: '../other/secret.pdf': the path leaves its "
                                 "folder ('..') [saf.contents.path error]");
    assert_contains(
        f->log.text,
        "item_1/contents:2: '/etc/passwd': the path is absolute [saf.contents.path error]");
    assert_contains(f->log.text,
                    "item_1/contents:3: 'sub\\..\\x.pdf': the path contains a backslash");
    assert_contains(f->log.text,
                    "item_1/contents:4: registered bitstreams (-r -s -f) are not supported: copy "
                    "the file into the item folder [saf.contents.registered error]");
    assert_contains(f->log.text, "item_1/contents:6: 'a.pdf' is listed twice (first on line 5) "
                                 "[saf.contents.duplicate error]");
    assert_contains(
        f->log.text,
        "item_1/contents:7: 'sub' is a folder, not a file [saf.contents.not-file error]");
    assert_contains(
        f->log.text,
        "'sub/x.pdf' is not listed in contents, not imported [saf.contents.unlisted warning]");
    assert_int_equal(f->rec->n_bs, 2); /* a.pdf and sub (both with the problem reported) */
}

static void test_symlinks_in_item_folder(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "outside/dir/x.pdf", "outside");
    tu_write(f->tmp, "pkg/item_1/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "pkg/item_1/contents", "link.pdf\nsub/x.pdf\n");
    assert_int_equal(symlink("/etc/passwd", tu_path(f->tmp, "pkg/item_1/link.pdf")), 0);
    assert_int_equal(symlink(tu_path(f->tmp, "outside/dir"), tu_path(f->tmp, "pkg/item_1/sub")), 0);
    assert_int_equal(read_one_opt(f, tu_path(f->tmp, "pkg"), "item_1", NULL), BR_EINVAL);
    assert_contains(f->log.text,
                    "item_1/contents:1: 'link.pdf' is a symbolic link (links are not followed) "
                    "(copy the file into the item folder) [saf.contents.symlink error]");
    assert_contains(f->log.text, "item_1/contents:2: 'sub/x.pdf' goes through a symbolic link "
                                 "(links are not followed) [saf.contents.symlink error]");
    for (size_t i = 0; i < f->rec->n_bs; i++)
        assert_null(f->rec->bs[i].path);

    /* a linked metadata file is not read either */
    clear_log(f);
    tu_write(f->tmp, "outside/dc.xml", DC_OK);
    unlink(tu_path(f->tmp, "pkg/item_1/dublin_core.xml"));
    assert_int_equal(
        symlink(tu_path(f->tmp, "outside/dc.xml"), tu_path(f->tmp, "pkg/item_1/dublin_core.xml")),
        0);
    assert_int_equal(read_one_opt(f, tu_path(f->tmp, "pkg"), "item_1", NULL), BR_EINVAL);
    assert_contains(f->log.text, "item_1/dublin_core.xml: 'dublin_core.xml' is a symbolic link "
                                 "(links are not followed) [saf.file.symlink error]");
    assert_int_equal(f->rec->n_md, 0);
}

static void test_invalid_utf8_contents(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_1/contents", "a.pdf\nb\xff.pdf\n");
    tu_write(f->tmp, "item_1/a.pdf", "x");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(
        f->log.text,
        "item_1/contents:2:2: invalid UTF-8 (byte 0xFF) (save the file as UTF-8) [saf.utf8 error]");
}

static void test_unlisted_files_warn(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_1/contents",
             "\xef\xbb\xbf"
             "a.pdf\n   \n");
    tu_write(f->tmp, "item_1/a.pdf", "x");
    tu_write(f->tmp, "item_1/extra.pdf", "x");
    tu_write(f->tmp, "item_1/.DS_Store", "x");
    assert_int_equal(read_one(f, "item_1"), 0);
    assert_int_equal(f->rec->n_bs, 1);
    assert_string_equal(f->rec->bs[0].name, "a.pdf"); /* the BOM is not part of the name */
    assert_contains(f->log.text, "item_1/contents: 'extra.pdf' is not listed in contents, not "
                                 "imported [saf.contents.unlisted warning]");
    assert_int_equal(f->sink.warnings, 1);
}

/* ---- handle, collections, relationships ---------------------------------------------------- */

static void test_handle_file(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_1/handle", "\n  123456789/42  \n123456789/7\n");
    assert_int_equal(read_one(f, "item_1"), 0);
    assert_string_equal(f->rec->handle, "123456789/42");

    clear_log(f);
    tu_write(f->tmp, "item_1/handle", "\n12345 6789\n");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "item_1/handle:2: '12345 6789' is not a handle (write the handle "
                                 "as PREFIX/SUFFIX, e.g. 123456789/42) [saf.handle.syntax error]");
    assert_null(f->rec->handle);

    clear_log(f);
    tu_write(f->tmp, "item_1/handle", "123456789/\n");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "item_1/handle:1: '123456789/' is not a handle");
}

static void test_collections_file(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    /* blank lines and a trailing newline are fine (DSpace issue #8592) */
    tu_write(f->tmp, "item_1/collections",
             "\n\n123456789/1\r\n\n 5dace143-1238-4b4f-affb-ed559f9254bb \n123456789/1\n\n");
    assert_int_equal(read_one(f, "item_1"), 0);
    assert_int_equal(f->rec->n_collections, 2);
    assert_string_equal(f->rec->collections[0], "123456789/1");
    assert_string_equal(f->rec->collections[1], "5dace143-1238-4b4f-affb-ed559f9254bb");
    assert_contains(f->log.text, "item_1/collections:6: collection '123456789/1' is listed twice "
                                 "[saf.collections.duplicate warning]");

    clear_log(f);
    tu_write(f->tmp, "item_1/collections", "\n  \n\n");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "item_1/collections: collections file is empty");
    assert_contains(f->log.text, "[saf.collections.empty error]");

    clear_log(f);
    tu_write(f->tmp, "item_1/collections", "123456789/1 123456789/2\n");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(
        f->log.text,
        "item_1/collections:1: '123456789/1 123456789/2' is not a collection handle or UUID");
}

static void test_relationships_file(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "item_1/relationships",
             "relation.isAuthorOfPublication folderName:item_2\n"
             "relation.isOrgUnitOfPublication\trowName:item_3\n"
             "\n"
             "isProjectOfPublication   123456789/1123  \n"
             "relation.isProjectOfPublication project.identifier.name:A Name with Spaces\n"
             "relation.isAuthorOfPublication 5dace143-1238-4b4f-affb-ed559f9254bb\n"
             "relation.isAuthorOfPublication\n"
             "relation.isAuthorOfPublication http://hdl.handle.net/1/2\n"
             "relation.isAuthorOfPublication folderName:item_1\n"
             "relation.a.b x\n");
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    br_record *r = f->rec;
    assert_int_equal(r->n_rels, 5);
    assert_string_equal(r->rels[0].type, "isAuthorOfPublication");
    assert_string_equal(r->rels[0].target, "folderName:item_2");
    assert_int_equal(r->rels[0].origin.line, 1);
    assert_string_equal(r->rels[1].type, "isOrgUnitOfPublication");
    assert_string_equal(r->rels[1].target, "folderName:item_3");
    assert_string_equal(r->rels[2].type, "isProjectOfPublication");
    assert_string_equal(r->rels[2].target, "123456789/1123");
    assert_int_equal(r->rels[2].origin.line, 4);
    assert_string_equal(r->rels[3].target, "project.identifier.name:A Name with Spaces");
    assert_string_equal(r->rels[4].target, "5dace143-1238-4b4f-affb-ed559f9254bb");
    assert_contains(
        f->log.text,
        "item_1/relationships:7: 'relation.isAuthorOfPublication' names no related item");
    assert_contains(f->log.text, "[saf.relationships.syntax error]");
    assert_contains(f->log.text, "item_1/relationships:8: bad metadata field in reference: 'http' "
                                 "(expected syntax is schema.element[.qualifier])");
    assert_contains(f->log.text, "item_1/relationships:9: 'folderName:item_1' is this item itself "
                                 "[saf.relationships.self error]");
    assert_contains(f->log.text,
                    "item_1/relationships:10: 'relation.a.b' is not a relationship type");
    assert_int_equal(f->sink.errors, 4);
}

/* ---- caps ----------------------------------------------------------------------------------- */

static void test_limits(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<dublin_core>\n<dcvalue "
             "element=\"title\">0123456789012345678901234567890123456789</dcvalue>\n"
             "<dcvalue element=\"subject\"><a><b><c>deep</c></b></a></dcvalue>\n</dublin_core>\n");
    tu_write(f->tmp, "item_1/contents",
             "a.pdf\nbig.pdf\n0123456789012345678901234567890123456789.pdf\n");
    tu_write(f->tmp, "item_1/a.pdf", "x");
    tu_write(f->tmp, "item_1/big.pdf", "0123456789012345678901234567890123456789");
    tu_write(f->tmp, "item_1/0123456789012345678901234567890123456789.pdf", "x");
    br_limits lim;
    br_limits_default(&lim);
    lim.max_field = 20;
    lim.max_xml_depth = 4;
    lim.max_file_size = 20;
    lim.max_line = 30;
    br_saf_read_options opt = {.limits = &lim};
    assert_int_equal(read_one_opt(f, f->tmp, "item_1", &opt), BR_EINVAL);
    assert_contains(
        f->log.text,
        "item_1/dublin_core.xml:3: elements nest deeper than 4 levels [saf.limit error]");
    lim.max_xml_depth = 8;
    clear_log(f);
    assert_int_equal(read_one_opt(f, f->tmp, "item_1", &opt), BR_EINVAL);
    assert_contains(f->log.text, "item_1/dublin_core.xml:2: the value of dc.title is 40 bytes, "
                                 "more than the 20 allowed [saf.limit error]");
    assert_contains(
        f->log.text,
        "item_1/contents:2: 'big.pdf' is 40 bytes, more than the 20 allowed [saf.limit error]");
    assert_contains(
        f->log.text,
        "item_1/contents:3: the line is 44 bytes, more than the 30 allowed [saf.limit error]");
    assert_int_equal(f->sink.errors, 3);

    clear_log(f);
    lim.max_xml_size = 50;
    lim.max_text_file = 10;
    assert_int_equal(read_one_opt(f, f->tmp, "item_1", &opt), BR_EINVAL);
    assert_contains(
        f->log.text,
        "item_1/dublin_core.xml: 'dublin_core.xml' is 168 bytes, more than the 50 allowed");
    assert_contains(f->log.text,
                    "item_1/contents: 'contents' is 59 bytes, more than the 10 allowed");
}

/* ---- hostile input (issue 12) ----------------------------------------------------------- */

/* Runs read_one with stderr sent to a file; returns what was written to it. */
static char *read_one_stderr(fixture *f, const char *folder, int *rc)
{
    fflush(stderr);
    int saved = dup(2);
    const char *path = tu_path(f->tmp, "stderr.txt");
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    dup2(fileno(fp), 2);
    *rc = read_one(f, folder);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(fp);
    return tu_read(tu_path(f->tmp, "stderr.txt"));
}

/* One element with 200,000 attributes (2.4 MB): libxml2 2.9 took 91 s on it.
 * The pre-scan refuses it at its 65th attribute, in well under a second. */
static void test_attribute_bomb(void **state)
{
    fixture *f = *state;
    size_t cap = 3u * 1024 * 1024, n = 0;
    char *x = malloc(cap);
    n += (size_t)snprintf(x + n, cap - n, "<dublin_core>\n  <dcvalue element=\"title\"");
    for (int i = 0; i < 200000; i++)
        n += (size_t)snprintf(x + n, cap - n, " a%d=\"\"", i);
    n += (size_t)snprintf(x + n, cap - n, ">T</dcvalue>\n</dublin_core>\n");
    assert_true(n > 2000000);
    tu_write_bytes(f->tmp, "item_1/dublin_core.xml", x, n);
    free(x);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double sec = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(sec < 1.0);
    /* " a63" starts at column 24 + 64 attributes before it */
    assert_contains(f->log.text, "item_1/dublin_core.xml:2:");
    assert_contains(f->log.text, "<dcvalue> has more than 64 attributes [saf.limit error]");
    assert_int_equal(f->rec->n_md, 0);

    /* The cap is the table's: 3 attributes pass 3, not 2; the place is exact. */
    clear_log(f);
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<dublin_core>\n<dcvalue element=\"title\" qualifier=\"x\"\n"
             "   language=\"en\">T</dcvalue>\n</dublin_core>\n");
    br_limits lim;
    br_limits_default(&lim);
    lim.max_xml_attributes = 2;
    br_saf_read_options opt = {.limits = &lim};
    assert_int_equal(read_one_opt(f, f->tmp, "item_1", &opt), BR_EINVAL);
    assert_contains(f->log.text, "item_1/dublin_core.xml:3:4: <dcvalue> has more than 2 "
                                 "attributes [saf.limit error]");
    clear_log(f);
    lim.max_xml_attributes = 3;
    assert_int_equal(read_one_opt(f, f->tmp, "item_1", &opt), 0);

    /* Attribute value length, as written, before the parse; also in UTF-16,
     * which is converted first (a byte scan of UTF-16 would see nothing). */
    clear_log(f);
    lim.max_xml_attribute = 10;
    assert_int_equal(read_one_opt(f, f->tmp, "item_1", &opt), 0);
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<dublin_core>\n<dcvalue element='title' qualifier=\"abcdefghijk\">T</dcvalue>\n"
             "</dublin_core>\n");
    assert_int_equal(read_one_opt(f, f->tmp, "item_1", &opt), BR_EINVAL);
    assert_contains(f->log.text,
                    "item_1/dublin_core.xml:2:26: attribute 'qualifier' of <dcvalue> is 11 "
                    "bytes, more than the 10 allowed [saf.limit error]");
    clear_log(f);
    const char *x16 = "<dublin_core>\n<dcvalue element='title' qualifier=\"abcdefghijk\">T"
                      "</dcvalue>\n</dublin_core>\n";
    size_t n16 = strlen(x16);
    unsigned char *u = malloc(2 * n16 + 2);
    u[0] = 0xFE;
    u[1] = 0xFF;
    for (size_t i = 0; i < n16; i++) {
        u[2 + 2 * i] = 0;
        u[3 + 2 * i] = (unsigned char)x16[i];
    }
    tu_write_bytes(f->tmp, "item_1/dublin_core.xml", u, 2 * n16 + 2);
    free(u);
    assert_int_equal(read_one_opt(f, f->tmp, "item_1", &opt), BR_EINVAL);
    assert_contains(f->log.text, "item_1/dublin_core.xml:2:26: attribute 'qualifier' of "
                                 "<dcvalue> is 11 bytes");
    /* and a UTF-16 document within the caps reads */
    clear_log(f);
    lim.max_xml_attribute = 4096;
    assert_int_equal(read_one_opt(f, f->tmp, "item_1", &opt), 0);
    assert_string_equal(br_record_first(f->rec, "dc.title.abcdefghijk"), "T");

    /* Comments, CDATA and processing instructions are not tags. */
    clear_log(f);
    lim.max_xml_attributes = 3;
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<?xml version=\"1.0\"?><?pi a='1' b='2' c='3' d='4'?>\n<!-- <x a='' b='' c='' d=''> "
             "-->\n<dublin_core><dcvalue element=\"title\"><![CDATA[<y a='' b='' c='' d=''>]]>"
             "</dcvalue></dublin_core>\n");
    assert_int_equal(read_one_opt(f, f->tmp, "item_1", &opt), 0);
    assert_string_equal(br_record_first(f->rec, "dc.title"), "<y a='' b='' c='' d=''>");
}

/* Attribute values were cut at 255 bytes: element="title" + 300 spaces +
 * "EVIL" was read as dc.title, a 5,000-character language kept 255. */
static void test_long_attribute_is_an_error(void **state)
{
    fixture *f = *state;
    char x[8192];
    char pad[301];
    memset(pad, ' ', 300);
    pad[300] = 0;
    snprintf(x, sizeof x,
             "<dublin_core>\n<dcvalue element=\"title%sEVIL\">Owned</dcvalue>\n</dublin_core>\n",
             pad);
    tu_write(f->tmp, "item_1/dublin_core.xml", x);
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "item_1/dublin_core.xml:2: the element attribute of <dcvalue> "
                                 "is 309 bytes, more than the 255 allowed [saf.xml.attribute "
                                 "error]");
    assert_int_equal(f->rec->n_md, 0);

    clear_log(f);
    char lang[5001];
    memset(lang, 'e', 5000);
    lang[5000] = 0;
    char *y = malloc(6000);
    snprintf(y, 6000,
             "<dublin_core>\n<dcvalue element=\"title\">A</dcvalue>\n"
             "<dcvalue element=\"title\" qualifier=\"alternative\" language=\"%s\">B</dcvalue>\n"
             "</dublin_core>\n",
             lang);
    tu_write(f->tmp, "item_1/dublin_core.xml", y);
    free(y);
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    /* over the pre-scan's 4096 bytes: refused before the parse, with its column */
    assert_contains(f->log.text, "item_1/dublin_core.xml:3:50: attribute 'language' of "
                                 "<dcvalue> is 5000 bytes, more than the 4096 allowed");
    /* between 255 and 4096: after the parse, at its line, never cut */
    clear_log(f);
    lang[300] = 0;
    char *z = malloc(6000);
    snprintf(z, 6000,
             "<dublin_core schema=\"dcterms\">\n<dcvalue element=\"title\">A</dcvalue>\n"
             "<dcvalue element=\"title\" language=\"%s\">B</dcvalue>\n</dublin_core>\n",
             lang);
    tu_write(f->tmp, "item_1/dublin_core.xml", z);
    free(z);
    assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
    assert_contains(f->log.text, "item_1/dublin_core.xml:3: the language attribute of <dcvalue> "
                                 "is 300 bytes, more than the 255 allowed");
    for (size_t i = 0; i < f->rec->n_md; i++)
        assert_true(!f->rec->md[i].language || strlen(f->rec->md[i].language) < 255);
}

/* libxml2 printed encoding errors on stderr, with no place, and reported
 * "Premature end of data".  Now: the byte, its line and column; stderr empty. */
static void test_encoding_errors_have_places(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<dublin_core>\n"
             "<dcvalue element=\"title\">Caf\x81 au lait</dcvalue>\n</dublin_core>\n");
    int rc;
    char *err = read_one_stderr(f, "item_1", &rc);
    assert_int_equal(rc, BR_EINVAL);
    assert_string_equal(err, "");
    free(err);
    assert_contains(f->log.text, "item_1/dublin_core.xml:3:29: byte 0x81 is not a character in "
                                 "windows-1252 (save the file as UTF-8) [saf.xml.encoding error]");
    assert_not_contains(f->log.text, "Premature end of data");

    clear_log(f);
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<?xml version=\"1.0\" encoding=\"US-ASCII\"?>\n<dublin_core>\n"
             "<dcvalue element=\"title\">Caf\xe9</dcvalue>\n</dublin_core>\n");
    err = read_one_stderr(f, "item_1", &rc);
    assert_int_equal(rc, BR_EINVAL);
    assert_string_equal(err, "");
    free(err);
    assert_contains(f->log.text, "item_1/dublin_core.xml:3:29: byte 0xE9 is not a character in "
                                 "US-ASCII");

    /* Invalid UTF-8 inside an element: its line and column, nothing printed. */
    clear_log(f);
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<dublin_core>\n<dcvalue element=\"title\">Caf\xc3\x28</dcvalue>\n</dublin_core>\n");
    err = read_one_stderr(f, "item_1", &rc);
    assert_int_equal(rc, BR_EINVAL);
    assert_string_equal(err, "");
    free(err);
    assert_contains(f->log.text, "item_1/dublin_core.xml:2:29: invalid UTF-8 (byte 0xC3)");

    /* An encoding that is not known, and one that names no encoding. */
    clear_log(f);
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<?xml version=\"1.0\" encoding=\"x-no-such\"?>\n<dublin_core/>\n");
    err = read_one_stderr(f, "item_1", &rc);
    assert_int_equal(rc, BR_EINVAL);
    assert_string_equal(err, "");
    free(err);
    assert_contains(f->log.text, "item_1/dublin_core.xml:1:31: encoding 'x-no-such' is not known");

    /* A UTF-7 document would hide its tags from a byte scan: it is converted
     * first, so the pre-scan sees them (+ADw- is '<'). */
    clear_log(f);
    tu_write(
        f->tmp, "item_1/dublin_core.xml",
        "<?xml version=\"1.0\" encoding=\"UTF-7\"?>\n<dublin_core>\n"
        "+ADw-dcvalue element=\"title\" a=\"\" b=\"\" c=\"\">x+ADw-/dcvalue>\n</dublin_core>\n");
    br_limits lim;
    br_limits_default(&lim);
    lim.max_xml_attributes = 3;
    br_saf_read_options opt = {.limits = &lim};
    assert_int_equal(read_one_opt(f, f->tmp, "item_1", &opt), BR_EINVAL);
    assert_contains(f->log.text, "<dcvalue> has more than 3 attributes");

    /* Every libxml2 message is a finding with its place: a namespace error
     * the parser recovers from is a warning, not printed. */
    clear_log(f);
    tu_write(f->tmp, "item_1/dublin_core.xml",
             "<dublin_core>\n<dcvalue element=\"title\">T</dcvalue>\n<x:y/>\n</dublin_core>\n");
    err = read_one_stderr(f, "item_1", &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(err, "");
    free(err);
    assert_contains(f->log.text, "item_1/dublin_core.xml:3:");
    assert_contains(f->log.text, "Namespace prefix x on y is not defined [saf.xml.parser warning]");
}

/* A hard link in a folder package to a file outside it was imported. */
static void test_hardlink_refused(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "outside/secret.txt", "not for the repository");
    tu_write(f->tmp, "pkg/item_1/dublin_core.xml", DC_OK);
    tu_write(f->tmp, "pkg/item_1/contents", "secret.txt\n");
    assert_int_equal(
        link(tu_path(f->tmp, "outside/secret.txt"), tu_path(f->tmp, "pkg/item_1/secret.txt")), 0);
    assert_int_equal(read_one_opt(f, tu_path(f->tmp, "pkg"), "item_1", NULL), BR_EINVAL);
    assert_contains(f->log.text,
                    "item_1/contents:1: 'secret.txt' has 2 hard links: a file linked from outside "
                    "the package is not read (copy the file into the item folder (cp or rsync, "
                    "not ln or cp -al)) [saf.file.hardlink error]");
    assert_null(f->rec->bs[0].path);

    /* A metadata file too. */
    clear_log(f);
    tu_write(f->tmp, "outside/dc.xml", DC_OK);
    tu_write(f->tmp, "pkg/item_2/contents", "");
    assert_int_equal(
        link(tu_path(f->tmp, "outside/dc.xml"), tu_path(f->tmp, "pkg/item_2/dublin_core.xml")), 0);
    assert_int_equal(read_one_opt(f, tu_path(f->tmp, "pkg"), "item_2", NULL), BR_EINVAL);
    assert_contains(f->log.text, "item_2/dublin_core.xml: 'dublin_core.xml' has 2 hard links");
    assert_int_equal(f->rec->n_md, 0);
}

static void test_handle_grammar(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    static const char *const bad[] = {
        "999/../../x", "123456789/42/7",    "123456789/..",    "123456789/.hidden",
        "/42",         "12..3/4",           "123456789/4\x01", "123456789/a%2F..",
        "1234\\5/6",   "123456789/\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        clear_log(f);
        char line[128];
        snprintf(line, sizeof line, "%s\n", bad[i]);
        tu_write(f->tmp, "item_1/handle", line);
        assert_int_equal(read_one(f, "item_1"), BR_EINVAL);
        if (!strchr(bad[i], '\x01')) {
            char want[256];
            snprintf(want, sizeof want, "item_1/handle:1: '%s' is not a handle", bad[i]);
            assert_contains(f->log.text, want);
        }
        assert_contains(f->log.text, "[saf.handle.syntax error]");
        assert_null(f->rec->handle);
    }
    static const char *const good[] = {"123456789/42", "20.500.12345/abc-1_2.v3", "10.1000/xyz"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        clear_log(f);
        tu_write(f->tmp, "item_1/handle", good[i]);
        assert_int_equal(read_one(f, "item_1"), 0);
        assert_string_equal(f->rec->handle, good[i]);
    }
}

/* 50,000 copies of one relationship line were 50,000 relationships. */
static void test_relationship_duplicates_and_cap(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "item_1/dublin_core.xml", DC_OK);
    size_t cap = 50000u * 48 + 64, n = 0;
    char *x = malloc(cap);
    for (int i = 0; i < 50000; i++)
        n += (size_t)snprintf(x + n, cap - n, "relation.isAuthorOfPublication 123456789/7\n");
    n += (size_t)snprintf(x + n, cap - n, "relation.isAuthorOfPublication 123456789/8\n");
    tu_write_bytes(f->tmp, "item_1/relationships", x, n);
    free(x);
    assert_int_equal(read_one(f, "item_1"), 0);
    assert_int_equal(f->rec->n_rels, 2);
    assert_string_equal(f->rec->rels[1].target, "123456789/8");
    assert_int_equal(f->rec->rels[1].origin.line, 50001);
    assert_contains(f->log.text, "item_1/relationships:2: relation.isAuthorOfPublication "
                                 "123456789/7 is listed twice (first on line 1): read once "
                                 "[saf.relationships.duplicate warning]");
    assert_contains(f->log.text,
                    "item_1/relationships: 49989 more duplicate lines: each read once");
    assert_int_equal(f->sink.warnings, 11);

    /* the cap on distinct relationships */
    clear_log(f);
    tu_write(f->tmp, "item_1/relationships",
             "relation.isAuthorOfPublication 123456789/1\n"
             "relation.isAuthorOfPublication 123456789/2\n"
             "relation.isAuthorOfPublication 123456789/1\n"
             "relation.isAuthorOfPublication 123456789/3\n");
    br_limits lim;
    br_limits_default(&lim);
    lim.max_relationships = 2;
    br_saf_read_options opt = {.limits = &lim};
    assert_int_equal(read_one_opt(f, f->tmp, "item_1", &opt), BR_EINVAL);
    assert_contains(f->log.text, "item_1/relationships:4: the item has more than 2 "
                                 "relationships [saf.limit error]");
    assert_int_equal(f->rec->n_rels, 2);
}

/* One record streamed through many items: the record is reset each time. */
static void test_record_reset_between_items(void **state)
{
    fixture *f = *state;
    char rel[64];
    for (int i = 0; i < 30; i++) {
        snprintf(rel, sizeof rel, "item_%d/dublin_core.xml", i);
        tu_write(f->tmp, rel, DC_OK);
        snprintf(rel, sizeof rel, "item_%d/contents", i);
        tu_write(f->tmp, rel, "a.pdf\n");
        snprintf(rel, sizeof rel, "item_%d/a.pdf", i);
        tu_write(f->tmp, rel, "x");
    }
    br_saf_package *pkg = NULL;
    br_error err = {0};
    assert_int_equal(br_saf_open(f->tmp, NULL, &f->sink, &pkg, &err), 0);
    assert_int_equal(br_saf_count(pkg), 30);
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < br_saf_count(pkg); i++) {
            assert_int_equal(br_saf_read_item(pkg, i, NULL, f->rec, NULL, &err), 0);
            assert_int_equal(f->rec->n_md, 1);
            assert_int_equal(f->rec->n_bs, 1);
            assert_string_equal(f->rec->key, br_saf_folder(pkg, i));
        }
    assert_string_equal(br_saf_folder(pkg, 29), "item_29");
    br_saf_close(pkg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dspace_reference_package, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic_package, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_skips_hidden_and_macosx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_empty_package, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_max_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinked_item_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_dublin_core, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_xml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_item_fills_err, setup, teardown),
        cmocka_unit_test_setup_teardown(test_doctype_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_xml, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xml_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xml_root, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata_relation_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_contents_with_other_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_listed_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_and_normalisation_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_option_is_a_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_option_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contents_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_in_item_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_contents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlisted_files_warn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handle_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collections_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relationships_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_reset_between_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attribute_bomb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_attribute_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encoding_errors_have_places, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hardlink_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handle_grammar, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relationship_duplicates_and_cap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
