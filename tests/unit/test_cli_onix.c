/* ONIX through the CLI (issue 9): the reference samples give the same record
 * whatever their tags, a full message then a 04 block update, a 03 update with
 * an empty composite and a 05 delete leave exactly what the seed's rules say,
 * export -> re-import changes nothing, version prevention, the unimported
 * download, and every bad-input rule with a file that breaks it. */
#include "cli_fixture.h"

static const char *sample(const char *name)
{
    static char p[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/../../../shared/reference/onix/%s", tu_data(""), name);
    if (!tu_exists(p[k])) snprintf(p[k], sizeof p[k], "/work/shared/reference/onix/%s", name);
    return p[k];
}

/* The item's JSON without what an import sets by itself (times, uuid, provenance). */
static char *stable_json(fx *f, const char *handle)
{
    json_t *it = fx_show(f, handle);
    json_object_del(it, "lastModified");
    json_object_del(it, "created");
    json_object_del(it, "uuid");
    json_object_del(it, "id");
    json_object_del(it, "handle");
    json_t *m = json_object_get(it, "metadata");
    json_object_del(m, "dc.date.accessioned");
    json_object_del(m, "dc.date.available");
    json_object_del(m, "dc.description.provenance");
    char *s = json_dumps(it, JSON_SORT_KEYS | JSON_INDENT(1));
    json_decref(it);
    return s;
}

static void test_samples_same_record(void **state)
{
    fx *f = *state;
    RUN(f, 0, "import --format onix -s '%s' -c %s -m a.map",
        sample("onixcheck__valid_onix3_ref.xml"), f->coll);
    char *ref = stable_json(f, fx_map_handle(f, "a.map", "org.john-doe.some-id"));
    fx_new_collection(f, "Y");
    /* short tags, into a fresh repository so the handle is the same */
    SH(f, 0, "\"$BR\" --repo r2 init >/dev/null && \"$BR\" --repo r2 collection create Z");
    SH(f, 0, "\"$BR\" --repo r2 import --format onix -s '%s' -m b.map",
       sample("onixcheck__valid_onix3_short.xml"));
    SH(f, 0, "\"$BR\" --repo r2 item show $(cut -d' ' -f2 b.map) --json > short.json");
    json_t *it = json_load_file(fx_path(f, "short.json"), 0, NULL);
    assert_non_null(it);
    json_object_del(it, "lastModified");
    json_object_del(it, "created");
    json_object_del(it, "uuid");
    json_object_del(it, "id");
    json_object_del(it, "handle");
    json_t *m = json_object_get(it, "metadata");
    json_object_del(m, "dc.date.accessioned");
    json_object_del(m, "dc.date.available");
    json_object_del(m, "dc.description.provenance");
    json_object_set_new(it, "owningCollection", json_string("x"));
    json_object_set_new(it, "collections", json_array());
    char *shrt = json_dumps(it, JSON_SORT_KEYS | JSON_INDENT(1));
    json_decref(it);
    json_t *r = json_loads(ref, 0, NULL);
    json_object_set_new(r, "owningCollection", json_string("x"));
    json_object_set_new(r, "collections", json_array());
    char *ref2 = json_dumps(r, JSON_SORT_KEYS | JSON_INDENT(1));
    json_decref(r);
    assert_string_equal(ref2, shrt);
    assert_contains(shrt, "9788871184371");
    assert_contains(shrt, "2015-07-17T21:04:09");
    free(ref);
    free(ref2);
    free(shrt);
    /* 2.1 reference names */
    RUN(f, 0, "import --format onix -s '%s' -c %s -m c.map",
        sample("onixcheck__valid_onix2_ref.xml"), f->coll);
    json_t *t = fx_show(f, fx_map_handle(f, "c.map", "9783898694247"));
    assert_string_equal(md(t, "dc.title", 0), "Some Title");
    assert_string_equal(md(t, "dc.publisher", 0), "Some Publisher");
    assert_string_equal(md(t, "dc.identifier.isbn", 0), "9783898694247");
    assert_string_equal(md(t, "onix.message.sentdate", 0), "2014-12-02T00:00:00");
    json_decref(t);
}

static void test_full_update_delete(void **state)
{
    fx *f = *state;
    RUN(f, 0, "import --format onix -s '%s' -c %s -m full.map", tu_data("onix/full.xml"), f->coll);
    const char *a = strdup(fx_map_handle(f, "full.map", "com.example.a"));
    json_t *it = fx_show(f, a);
    assert_string_equal(md(it, "dc.identifier.isbn", 0), "9780306406157"); /* from ISBN-10 */
    assert_string_equal(md(it, "dc.title", 0), "The Book of Examples");
    assert_string_equal(md(it, "onix.title.subtitle", 0), "A Guide");
    assert_string_equal(md(it, "dc.contributor.author", 0), "Smith, Ann");
    assert_string_equal(md(it, "dc.contributor.editor", 0), "Jones, Bob");
    assert_string_equal(md(it, "dc.date.issued", 0), "2023-09-15");
    assert_string_equal(md(it, "dc.relation.ispartofseries", 0), "Studies in Examples; 7");
    assert_string_equal(md(it, "onix.subject.bisac", 0), "[REF000000] Reference / General");
    assert_string_equal(md(it, "dc.description", 0), "A book full of examples.");
    assert_contains(md(it, "onix.unmapped.product", 0), "<PriceAmount>29.95</PriceAmount>");
    json_decref(it);
    /* 04: CollateralDetail present -> replaced (description gone, abstract added); the
     * blocks absent are kept */
    RUN(f, 0, "import --format onix -s '%s' -m u4.map", tu_data("onix/update04.xml"));
    it = fx_show(f, a);
    assert_int_equal(md_n(it, "dc.description"), 0);
    assert_string_equal(md(it, "dc.description.abstract", 0), "The new abstract.");
    assert_string_equal(md(it, "dc.title", 0), "The Book of Examples");
    assert_string_equal(md(it, "dc.subject", 0), "examples");
    assert_string_equal(md(it, "onix.message.sentdate", 0), "2024-02-01T09:00:00");
    json_decref(it);
    /* 03: TitleDetail present -> replaced; <Subject/> -> subjects deleted; Language replaced;
     * composites absent (Contributor, Extent, ProductFormDetail, supply) kept */
    RUN(f, 0, "import --format onix -s '%s' -m u3.map", tu_data("onix/update03.xml"));
    it = fx_show(f, a);
    assert_string_equal(md(it, "dc.title", 0), "The Book of Examples, Revised");
    assert_int_equal(md_n(it, "onix.title.subtitle"), 0);
    assert_int_equal(md_n(it, "dc.subject"), 0);
    assert_int_equal(md_n(it, "onix.subject.bisac"), 0);
    assert_string_equal(md(it, "dc.language.iso", 0), "ger");
    assert_string_equal(md(it, "dc.contributor.author", 0), "Smith, Ann");
    assert_string_equal(md(it, "onix.extent", 0), "00 320 03");
    assert_string_equal(md(it, "onix.unmapped.descriptivedetail", 0),
                        "<ProductFormDetail>B206</ProductFormDetail>");
    assert_int_equal(md_n(it, "onix.unmapped.product"), 1);
    json_decref(it);
    /* 05: the one it matches goes; one that matches nothing is reported, not created */
    assert_int_equal(fx_item_count(f), 2);
    RUN(f, 1, "import --format onix -s '%s' -m d5.map --skip-invalid",
        tu_data("onix/delete05.xml"));
    assert_int_equal(fx_item_count(f), 1);
    json_t *job = fx_last_job(f);
    assert_string_equal(fx_str(fx_job_record(job, "com.example.b"), "outcome"), "deleted");
    assert_contains(fx_str(fx_job_record(job, "com.example.nosuch"), "message"),
                    "no stored record matches");
    json_decref(job);
    /* 04 for a record that does not exist: reported, not created. */
    size_t before = fx_item_count(f);
    RUN(f, 1, "import --format onix -s '%s' -m m4.map --skip-invalid",
        tu_data("onix/update04_missing.xml"));
    assert_int_equal(fx_item_count(f), before);
    job = fx_last_job(f);
    assert_contains(fx_str(fx_job_record(job, "com.example.unknown"), "message"),
                    "to update, but no stored record matches it");
    json_decref(job);
    free((void *)a);
}

static void test_version_prevention(void **state)
{
    fx *f = *state;
    RUN(f, 0, "import --format onix -s '%s' -c %s -m full.map", tu_data("onix/full.xml"), f->coll);
    const char *a = strdup(fx_map_handle(f, "full.map", "com.example.a"));
    RUN(f, 0, "import --format onix -s '%s' -m o.map", tu_data("onix/older.xml"));
    json_t *it = fx_show(f, a);
    assert_string_equal(md(it, "dc.title", 0), "The Book of Examples");
    json_decref(it);
    RUN(f, 0, "import --format onix -s '%s' -m o2.map --allow-older", tu_data("onix/older.xml"));
    it = fx_show(f, a);
    assert_string_equal(md(it, "dc.title", 0), "An Old Title");
    assert_string_equal(md(it, "onix.message.sentdate", 0), "2023-01-01T00:00:00");
    json_decref(it);
    free((void *)a);
}

static void test_export_reimport(void **state)
{
    fx *f = *state;
    RUN(f, 0, "import --format onix -s '%s' -c %s -m full.map", tu_data("onix/full.xml"), f->coll);
    char *a = strdup(fx_map_handle(f, "full.map", "com.example.a"));
    char *b = strdup(fx_map_handle(f, "full.map", "com.example.b"));
    char *a1 = stable_json(f, a), *b1 = stable_json(f, b);
    RUN(f, 0, "export --format onix -t COLLECTION -i %s -d out.xml", f->coll);
    char *x = fx_read(f, "out.xml");
    assert_contains(x, "<ONIXMessage release=\"3.0\"");
    assert_contains(x, "<SentDateTime>20240101T120000</SentDateTime>");
    free(x);
    RUN(f, 0, "import --format onix -s out.xml -m rt.map");
    assert_int_equal(fx_item_count(f), 2);
    char *a2 = stable_json(f, a), *b2 = stable_json(f, b);
    assert_string_equal(a1, a2);
    assert_string_equal(b1, b2);
    /* and convert to SAF (what SAF cannot hold is listed: exit 1) */
    RUN(f, 1, "convert --from onix --to saf '%s' saf", tu_data("onix/full.xml")); /* notes: ORCID */
    assert_true(fx_exists(f, "saf"));
    free(a);
    free(b);
    free(a1);
    free(a2);
    free(b1);
    free(b2);
}

static void test_bad_inputs(void **state)
{
    fx *f = *state;
    RUN(f, 3, "import --format onix -s '%s' -c %s -m m1.map", tu_data("onix/bad_check.xml"),
        f->coll);
    assert_contains(f->err, "bad_check.xml:12:");
    assert_contains(f->err, "product 'bad.check'");
    assert_contains(f->err, "'9780000000000' has a wrong check digit");
    assert_contains(f->err, "'0306406153' has a wrong check digit");
    assert_int_equal(fx_item_count(f), 0);
    RUN(f, 3, "import --format onix -s '%s' -c %s -m m2.map", tu_data("onix/dup_isbn.xml"),
        f->coll);
    assert_contains(f->err, "ISBN 9781111111113 of product 'second.product'");
    assert_contains(f->err, "the product at line 4");
    RUN(f, 3, "import --format onix -s '%s' -c %s -m m3.map", tu_data("onix/no_id.xml"), f->coll);
    assert_contains(f->err, "no ISBN/EAN and no RecordReference");
    RUN(f, 3, "import --format onix -s '%s' -c %s -m m4.map", tu_data("onix/malformed.xml"),
        f->coll);
    assert_contains(f->err, "malformed.xml:6:40:");
    RUN(f, 3, "import --format onix -s '%s' -c %s -m m5.map", tu_data("onix/wrong_encoding.xml"),
        f->coll);
    assert_contains(f->err, "wrong_encoding.xml:8:");
    assert_contains(f->err, "UTF-8");
    RUN(f, 3, "import --format onix -s '%s' -c %s -m m6.map", tu_data("onix/bomb.xml"), f->coll);
    assert_contains(f->err, "bomb.xml:");
    RUN(f, 3, "import --format onix -s '%s' -c %s -m m7.map", tu_data("onix/xxe.xml"), f->coll);
    assert_contains(f->err, "the DOCTYPE declares entities");
    assert_not_contains(f->err, "root:");
    assert_int_equal(fx_item_count(f), 0);
    /* --skip-invalid: the valid one goes in, the unimported download has the others,
     * copied from the input with the Header and their errors in comments */
    RUN(f, 1, "import --format onix -s '%s' -c %s -m m8.map --skip-invalid",
        tu_data("onix/bad_check.xml"), f->coll);
    assert_int_equal(fx_item_count(f), 1);
    json_t *job = fx_last_job(f);
    long long id = (long long)json_integer_value(json_object_get(job, "id"));
    json_decref(job);
    RUN(f, 0, "job unimported %lld -o rejected.xml", id);
    char *x = fx_read(f, "rejected.xml");
    assert_contains(x, "<SentDateTime>20240101</SentDateTime>");
    assert_contains(x, "<!-- bulkrepo: ");
    assert_contains(x, "<RecordReference>bad.check</RecordReference>");
    assert_contains(x, "<RecordReference>bad.isbn10</RecordReference>");
    assert_not_contains(x, "<RecordReference>ok.1</RecordReference>");
    assert_contains(x, "</ONIXMessage>");
    free(x);
    /* and it reads back as ONIX, with the same two errors */
    RUN(f, 3, "import --format onix -s rejected.xml -m m9.map -v");
    assert_contains(f->err, "'9780000000000' has a wrong check digit");
}

static void test_encodings_and_entities(void **state)
{
    fx *f = *state;
    RUN(f, 0, "import --format onix -s '%s' -c %s -m e.map", tu_data("onix/onix21_entities.xml"),
        f->coll);
    json_t *it = fx_show(f, fx_map_handle(f, "e.map", "ent.1"));
    assert_string_equal(md(it, "dc.title", 0), "Caf\xc3\xa9 \xe2\x80\x93 Stories & More");
    assert_string_equal(md(it, "dc.contributor.author", 0), "Dupont, \xc3\x89lise");
    assert_string_equal(md(it, "dc.date.issued", 0), "2020");
    json_decref(it);
    RUN(f, 0, "import --format onix -s '%s' -c %s -m l.map", tu_data("onix/latin1.xml"), f->coll);
    it = fx_show(f, fx_map_handle(f, "l.map", "enc.1"));
    assert_string_equal(md(it, "dc.title", 0), "Caf\xc3\xa9");
    json_decref(it);
    RUN(f, 0, "import --format onix -s '%s' -c %s -m u.map", tu_data("onix/utf16.xml"), f->coll);
    assert_non_null(fx_map_handle(f, "u.map", "com.example.b"));
}

static void test_zip_with_cover(void **state)
{
    fx *f = *state;
    SH(f, 0,
       "mkdir z && sed 's#</CollateralDetail>#<SupportingResource><ResourceContentType>01"
       "</ResourceContentType><ContentAudience>00</ContentAudience><ResourceMode>03"
       "</ResourceMode><ResourceVersion><ResourceForm>02</ResourceForm><ResourceLink>"
       "cover.jpg</ResourceLink></ResourceVersion></SupportingResource>"
       "</CollateralDetail>#' '%s' > z/feed.xml && printf 'JPEGDATA' > z/cover.jpg && "
       "cd z && zip -q ../pkg.zip feed.xml cover.jpg",
       tu_data("onix/full.xml"));
    RUN(f, 0, "import --format onix -s pkg.zip -c %s -m z.map", f->coll);
    json_t *it = fx_show(f, fx_map_handle(f, "z.map", "com.example.a"));
    json_t *b = fx_bitstream(it, "cover.jpg");
    assert_non_null(b);
    assert_string_equal(fx_str(b, "bundle"), "THUMBNAIL");
    json_decref(it);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_samples_same_record), FX_TEST(test_full_update_delete),
        FX_TEST(test_version_prevention),  FX_TEST(test_export_reimport),
        FX_TEST(test_bad_inputs),          FX_TEST(test_encodings_and_entities),
        FX_TEST(test_zip_with_cover),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
