/* Fix author internal affiliation in asset (issue 11 section 5): free-text unit names on
 * creators, contributors and the asset's academic units matched against the organisational
 * units' names ignoring case, spacing and diacritics and replaced by the unit's code;
 * unmatched (and ambiguous) names counted and listed in the asset's journal message; the dry
 * run; revert.  Records are stored through the library (the Esploro import takes codes only,
 * so free text comes from elsewhere: SAF packages, older systems); the job runs through the
 * CLI as staff run it. */
#define _GNU_SOURCE
#include "cli_fixture.h"
#include "bulkrepo/bulkrepo.h"
#include "jobs/normalize.h"

#define PHYS "01X___PHYS"
#define CHEM "01X___CHEM"
#define BIO  "01X___BIO"

static void units(fx *f)
{
    RUN(f, 0, "orgunit add " PHYS " 'D\xC3\xA9partement de Physique'");
    RUN(f, 0, "orgunit add " CHEM " Chemistry --parent " PHYS);
    RUN(f, 0, "orgunit add " BIO " 'Biology'");
    /* Two units whose names fold alike: a name matching both is ambiguous. */
    RUN(f, 0, "orgunit add 01X___LIB1 Library");
    RUN(f, 0, "orgunit add 01X___LIB2 ' LIBRARY '");
}

static br_creator *person(br_record *r, br_creator_role role, const char *family,
                          const char *affiliation)
{
    br_creator *k = br_record_add_creator(r, role);
    assert_non_null(k);
    k->family = br_record_str(r, family);
    k->affiliation = affiliation ? br_record_str(r, affiliation) : NULL;
    return k;
}

static void unit_value(br_record *r, const char *v)
{
    assert_non_null(br_record_add_md(r, "esploro", "asset", "affiliation", NULL, v));
}

/* Stores r in the fixture's collection; its handle (static buffer). */
static const char *insert(fx *f, br_record *r, const char *title)
{
    static char h[8][64];
    static int k;
    assert_non_null(br_record_add_md(r, "dc", "title", NULL, NULL, title));
    br_repo *repo;
    br_error err;
    assert_int_equal(br_repo_open(f->repo, &repo, &err), 0);
    assert_int_equal(br_record_add_collection(r, f->coll), 0);
    if (br_item_insert(repo, r, NULL, &err)) fail_msg("insert: %s", err.message);
    br_repo_free(repo);
    k = (k + 1) % 8;
    snprintf(h[k], sizeof h[k], "%s", r->handle);
    br_record_free(r);
    return h[k];
}

typedef struct items {
    char a[64], b[64], c[64], d[64];
} items;

static void seed(fx *f, items *it)
{
    units(f);
    br_record *r = br_record_new();
    person(r, BR_CREATOR, "Smith", "departement  de PHYSIQUE"); /* no accents, spaces, case */
    person(r, BR_CREATOR, "Doe", "Dept of Physics");            /* no unit has this name */
    person(r, BR_CONTRIBUTOR, "Roe", " chemistry\xE2\x80\x83"); /* an em space after */
    person(r, BR_CREATOR, "Known", BIO);                        /* a code already */
    person(r, BR_CREATOR, "Nobody", NULL);
    unit_value(r, BIO);
    unit_value(r, "BIOLOGY"); /* that unit again: dropped */
    unit_value(r, "D\xC3\xA9pt. X");
    unit_value(r, "Chemistry");
    snprintf(it->a, sizeof it->a, "%s", insert(f, r, "A"));
    r = br_record_new();
    person(r, BR_CREATOR, "Amb", "library");
    snprintf(it->b, sizeof it->b, "%s", insert(f, r, "B"));
    r = br_record_new();
    person(r, BR_CREATOR, "Coded", CHEM);
    unit_value(r, BIO);
    snprintf(it->c, sizeof it->c, "%s", insert(f, r, "C"));
    r = br_record_new();
    /* Decomposed diacritics (e + U+0301) and a contributor. */
    person(r, BR_CONTRIBUTOR, "Dec", "De\xCC\x81partement de physique");
    snprintf(it->d, sizeof it->d, "%s", insert(f, r, "D"));
    RUN(f, 0, "set create aff --member %s --member %s --member %s --member %s", it->a, it->b, it->c,
        it->d);
}

/* n times U+00E9 into buf (2n + 1 bytes). */
static void e_acutes(char *buf, int n)
{
    for (int i = 0; i < n; i++)
        memcpy(buf + 2 * i, "\xC3\xA9", 2);
    buf[2 * n] = 0;
}

static json_t *content(fx *f, const char *h)
{
    json_t *it = fx_show(f, h);
    json_object_del(it, "lastModified");
    return it;
}

static const char *aff(json_t *item, size_t i)
{
    return fx_str(json_array_get(json_object_get(item, "creators"), i), "affiliation");
}

static json_t *change_of(json_t *preview, size_t member, const char *field)
{
    json_t *ch = json_object_get(json_array_get(json_object_get(preview, "changes"), member),
                                 "changes"),
           *c;
    size_t i;
    json_array_foreach(ch, i, c)
    {
        if (!strcmp(fx_str(c, "field"), field)) return c;
    }
    return NULL;
}

static void test_fold(void **state)
{
    (void)state;
    static const char *const same[][2] = {
        {"  D\xC3\xA9partement\xC2\xA0"
         "de   Physique ",
         "departement de physique"},
        {"De\xCC\x81partement de physique", "D\xC3\xA9PARTEMENT DE PHYSIQUE"},
        {"Chemistry\xE2\x80\x83", "chemistry"},
        {"Stra\xC3\x9F"
         "e",
         "STRASSE"}, /* case folding, not just lower case */
        {"\xC3\x85ngstr\xC3\xB6m\tLab", "angstrom lab"},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        char *x = br_norm_fold(same[i][0]), *y = br_norm_fold(same[i][1]);
        assert_non_null(x);
        assert_non_null(y);
        if (strcmp(x, y))
            fail_msg("'%s' and '%s' fold to '%s' and '%s'", same[i][0], same[i][1], x, y);
        free(x);
        free(y);
    }
    char *x = br_norm_fold("Physics"), *y = br_norm_fold("Physic s");
    assert_string_not_equal(x, y); /* spacing is collapsed, not removed */
    free(x);
    free(y);
    assert_null(br_norm_fold("bad \xC3"));
}

static void test_fix_dry_run_run_revert(void **state)
{
    fx *f = *state;
    items it;
    seed(f, &it);
    json_t *before = content(f, it.a);

    /* Dry run: the changes, the reasons, nothing written. */
    json_t *pv = fx_json(f, "job run fix-affiliations --set aff --dry-run --json");
    assert_int_equal(json_integer_value(json_object_get(pv, "members")), 4);
    json_t *c = change_of(pv, 0, "creators");
    assert_non_null(c);
    /* (stored creators come back contributors first) */
    assert_string_equal(
        fx_str(c, "old"),
        "contributor Roe @ chemistry\xE2\x80\x83 | Smith @departement  de PHYSIQUE | "
        "Doe @Dept of Physics | Known @" BIO " | Nobody");
    assert_string_equal(fx_str(c, "new"), "contributor Roe @" CHEM " | Smith @" PHYS
                                          " | Doe @Dept of Physics | Known @" BIO " | Nobody");
    c = change_of(pv, 0, "esploro.asset.affiliation");
    assert_non_null(c);
    assert_string_equal(fx_str(c, "old"), BIO " | BIOLOGY | D\xC3\xA9pt. X | Chemistry");
    assert_string_equal(fx_str(c, "new"), BIO " | D\xC3\xA9pt. X | " CHEM);
    json_t *m = json_object_get(pv, "changes");
    assert_string_equal(fx_str(json_array_get(m, 1), "skip"),
                        "nothing to fix; unmatched (1): 'library' (several units have this name)");
    assert_string_equal(fx_str(json_array_get(m, 2), "skip"), "nothing to fix");
    c = change_of(pv, 3, "creators");
    assert_string_equal(fx_str(c, "new"), "contributor Dec @" PHYS);
    json_decref(pv);
    json_t *now = content(f, it.a);
    assert_true(json_equal(before, now));
    json_decref(now);

    /* The run. */
    json_t *job = fx_json(f, "job run fix-affiliations --set aff --wait --json");
    long long id = (long long)json_integer_value(json_object_get(job, "id"));
    json_decref(job);
    job = fx_job(f, id);
    assert_string_equal(fx_status_code(job), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(job, "updated"), 2);
    assert_int_equal(fx_counter(job, "skipped"), 2);
    json_t *recs = json_object_get(job, "records");
    assert_string_equal(fx_str(json_array_get(recs, 0), "outcome"), "updated");
    assert_string_equal(fx_str(json_array_get(recs, 0), "message"),
                        "unmatched (2): 'Dept of Physics', 'D\xC3\xA9pt. X'");
    assert_string_equal(fx_str(json_array_get(recs, 1), "outcome"), "skipped");
    assert_string_equal(fx_str(json_array_get(recs, 1), "message"),
                        "nothing to fix; unmatched (1): 'library' (several units have this name)");
    assert_string_equal(fx_str(json_array_get(recs, 2), "message"), "nothing to fix");
    assert_string_equal(fx_str(json_array_get(recs, 3), "outcome"), "updated");
    assert_true(json_is_null(json_object_get(json_array_get(recs, 3), "message")));
    json_decref(job);

    json_t *a = content(f, it.a);
    assert_string_equal(aff(a, 0), CHEM);
    assert_string_equal(aff(a, 1), PHYS);
    assert_string_equal(aff(a, 2), "Dept of Physics");
    assert_string_equal(aff(a, 3), BIO);
    assert_null(aff(a, 4));
    assert_int_equal(md_n(a, "esploro.asset.affiliation"), 3);
    assert_string_equal(md(a, "esploro.asset.affiliation", 0), BIO);
    assert_string_equal(md(a, "esploro.asset.affiliation", 1), "D\xC3\xA9pt. X");
    assert_string_equal(md(a, "esploro.asset.affiliation", 2), CHEM);
    json_decref(a);
    json_t *d = content(f, it.d);
    assert_string_equal(aff(d, 0), PHYS);
    json_decref(d);
    json_t *b = content(f, it.b);
    assert_string_equal(aff(b, 0), "library");
    json_decref(b);

    /* Running it again finds nothing more to fix in the fixed assets. */
    json_t *again = fx_json(f, "job run fix-affiliations --set aff --dry-run --json");
    assert_string_equal(fx_str(json_array_get(json_object_get(again, "changes"), 0), "skip"),
                        "nothing to fix; unmatched (2): 'Dept of Physics', 'D\xC3\xA9pt. X'");
    json_decref(again);

    /* Revert: as before the job. */
    RUN(f, 0, "job revert %lld --wait", id);
    now = content(f, it.a);
    if (!json_equal(before, now)) {
        char *x = json_dumps(before, JSON_INDENT(1)), *y = json_dumps(now, JSON_INDENT(1));
        fail_msg("not reverted:\n%s\n---\n%s", x, y);
    }
    json_decref(now);
    json_decref(before);
    ASSERT_FSCK_CLEAN(f);
}

static void test_many_unmatched(void **state)
{
    fx *f = *state;
    units(f);
    br_record *r = br_record_new();
    person(r, BR_CREATOR, "Match", "biology");
    for (int i = 0; i < 25; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%02d", i);
        person(r, BR_CREATOR, "X", name);
        person(r, BR_CREATOR, "Y", name); /* each name is listed once */
    }
    /* A long name is cut at a character boundary. */
    char longname[600];
    e_acutes(longname, 150); /* 300 bytes */
    person(r, BR_CREATOR, "Long", longname);
    const char *h = insert(f, r, "Many");
    RUN(f, 0, "set create many --member %s", h);
    RUN(f, 0, "job run fix-affiliations --set many --wait");
    json_t *job = fx_last_job(f);
    const char *msg = fx_str(json_array_get(json_object_get(job, "records"), 0), "message");
    assert_non_null(msg);
    assert_contains(msg, "unmatched (26): 'n00', 'n01', ");
    assert_contains(msg, "'n19' and 6 more");
    json_decref(job);
}

static void test_long_name_cut(void **state)
{
    fx *f = *state;
    units(f);
    br_record *r = br_record_new();
    char longname[600];
    e_acutes(longname, 150); /* 300 bytes: cut at 200, whole characters */
    person(r, BR_CREATOR, "Long", longname);
    const char *h = insert(f, r, "Long");
    RUN(f, 0, "set create long --member %s", h);
    json_t *pv = fx_json(f, "job run fix-affiliations --set long --dry-run --json");
    const char *skip = fx_str(json_array_get(json_object_get(pv, "changes"), 0), "skip");
    char e[300], want[400];
    e_acutes(e, 100);
    snprintf(want, sizeof want, "nothing to fix; unmatched (1): '%s...'", e);
    assert_string_equal(skip, want);
    json_decref(pv);
}

static void test_no_units(void **state)
{
    fx *f = *state;
    br_record *r = br_record_new();
    person(r, BR_CREATOR, "Smith", "Physics");
    const char *h = insert(f, r, "A");
    RUN(f, 0, "set create s --member %s", h);
    RUN(f, 2, "job run fix-affiliations --set s");
    assert_contains(f->err, "no organisational units to match affiliations against");
    RUN(f, 2, "job run fix-affiliations --set s --param rules=default");
    assert_contains(f->err, "fix-affiliations takes no parameter 'rules'");
    RUN(f, 0, "job list --json");
    assert_string_equal(f->out, "[]\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold),  FX_TEST(test_fix_dry_run_run_revert),
        FX_TEST(test_many_unmatched), FX_TEST(test_long_name_cut),
        FX_TEST(test_no_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
