/* Structured creators <-> DSpace dc.contributor values (br_record_derive_*). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "bulkrepo/record.h"

/* The values of one field, joined with " | " (static buffer). */
static const char *values(const br_record *r, const char *q)
{
    static char buf[2048];
    buf[0] = 0;
    for (size_t i = 0; i < r->n_md; i++) {
        const br_mdv *v = &r->md[i];
        if (strcmp(v->schema, "dc") || strcmp(v->element, "contributor") || !v->qualifier ||
            strcmp(v->qualifier, q))
            continue;
        if (buf[0]) strcat(buf, " | ");
        strcat(buf, v->value);
    }
    return buf;
}

static br_creator *person(br_record *r, br_creator_role role, const char *fam, const char *giv,
                          const char *mid, const char *suf)
{
    br_creator *c = br_record_add_creator(r, role);
    assert_non_null(c);
    c->family = br_record_str(r, fam);
    c->given = br_record_str(r, giv);
    c->middle = br_record_str(r, mid);
    c->suffix = br_record_str(r, suf);
    return c;
}

static void test_authors_in_order(void **state)
{
    (void)state;
    br_record *r = br_record_new();
    person(r, BR_CREATOR, "Smith", "John", "Q", "Jr.");
    br_creator *o = br_record_add_creator(r, BR_CREATOR);
    o->is_organization = 1;
    o->display = br_record_str(r, "CERN Collaboration");
    person(r, BR_CREATOR, "Doe", "Jane", NULL, NULL);
    person(r, BR_CREATOR, "Plato", NULL, NULL, NULL);
    person(r, BR_CREATOR, NULL, "Madonna", NULL, NULL);
    br_creator *c = person(r, BR_CREATOR, "Li", "Wei", NULL, NULL);
    c->orcid = br_record_str(r, "0000-0002-1825-0097");
    assert_int_equal(br_record_derive_contributors(r), 0);
    assert_string_equal(
        values(r, "author"),
        "Smith, John Q, Jr. | CERN Collaboration | Doe, Jane | Plato | Madonna | Li, Wei");
    /* places follow the creators' order */
    for (size_t i = 0; i < r->n_md; i++)
        assert_int_equal(r->md[i].place, (int)i);
    br_record_free(r);
}

static void test_contributor_types(void **state)
{
    (void)state;
    br_record *r = br_record_new();
    br_creator *c = person(r, BR_CONTRIBUTOR, "Adams", "Ann", NULL, NULL);
    c->contrib_type = br_record_str(r, "Editor"); /* case-insensitive */
    c = person(r, BR_CONTRIBUTOR, "Brown", "Bob", NULL, NULL);
    c->contrib_type = br_record_str(r, "advisor");
    c = person(r, BR_CONTRIBUTOR, "Cole", "Cy", NULL, NULL);
    c->contrib_type = br_record_str(r, "translator");        /* not a registry qualifier */
    c = person(r, BR_CONTRIBUTOR, "Dunn", "Di", NULL, NULL); /* no type */
    c = br_record_add_creator(r, BR_CONTRIBUTOR);
    c->is_organization = 1;
    c->display = br_record_str(r, "Studio X");
    c->contrib_type = br_record_str(r, "illustrator");
    c = br_record_add_creator(r, BR_CONTRIBUTOR);
    c->display = br_record_str(r, "Free Form Name"); /* CONT_CONTNAME only */
    c->contrib_type = br_record_str(r, "editor");
    assert_int_equal(br_record_derive_contributors(r), 0);
    assert_string_equal(values(r, "editor"), "Adams, Ann | Free Form Name");
    assert_string_equal(values(r, "advisor"), "Brown, Bob");
    assert_string_equal(values(r, "other"), "Cole, Cy | Dunn, Di");
    assert_string_equal(values(r, "illustrator"), "Studio X");
    assert_string_equal(values(r, "author"), "");
    br_record_free(r);
}

static void test_present_fields_kept(void **state)
{
    (void)state;
    br_record *r = br_record_new();
    br_record_add_md(r, "dc", "contributor", "author", NULL, "Given, Already");
    person(r, BR_CREATOR, "Smith", "John", NULL, NULL);
    br_creator *c = person(r, BR_CONTRIBUTOR, "Adams", "Ann", NULL, NULL);
    c->contrib_type = br_record_str(r, "editor");
    assert_int_equal(br_record_derive_contributors(r), 0);
    assert_string_equal(values(r, "author"), "Given, Already");
    assert_string_equal(values(r, "editor"), "Adams, Ann");
    /* a second run adds nothing */
    size_t n = r->n_md;
    assert_int_equal(br_record_derive_contributors(r), 0);
    assert_int_equal(r->n_md, n);
    br_record_free(r);
}

static void test_reverse(void **state)
{
    (void)state;
    br_record *r = br_record_new();
    br_record_add_md(r, "dc", "contributor", "author", NULL, "Smith, John Q, Jr.");
    br_record_add_md(r, "dc", "contributor", "author", NULL, "Plato");
    br_record_add_md(r, "dc", "contributor", "author", NULL, "Trailing, ");
    br_record_add_md(r, "dc", "contributor", "author", NULL, ", Leading");
    br_record_add_md(r, "dc", "contributor", "editor", NULL, "Adams, Ann");
    br_record_add_md(r, "dc", "contributor", "advisor", NULL, "Brown, Bob");
    br_record_add_md(r, "dc", "contributor", "translator", NULL, "Not, Mapped");
    br_record_add_md(r, "dc", "contributor", NULL, NULL, "Unqualified");
    br_record_add_md(r, "dc", "title", NULL, NULL, "T");
    br_record *d = br_record_new();
    assert_int_equal(br_record_derive_creators(r, d), 0);
    assert_int_equal(d->n_creators, 6);
    assert_int_equal(d->creators[0].role, BR_CREATOR);
    assert_string_equal(d->creators[0].family, "Smith");
    assert_string_equal(d->creators[0].given, "John Q, Jr.");
    assert_string_equal(d->creators[1].family, "Plato");
    assert_null(d->creators[1].given);
    /* an empty side keeps the whole value as the family name */
    assert_string_equal(d->creators[2].family, "Trailing, ");
    assert_string_equal(d->creators[3].family, ", Leading");
    assert_int_equal(d->creators[4].role, BR_CONTRIBUTOR);
    assert_string_equal(d->creators[4].contrib_type, "editor");
    assert_string_equal(d->creators[4].family, "Adams");
    assert_string_equal(d->creators[5].contrib_type, "advisor");
    /* derived back, every value is the same */
    br_record *back = br_record_new();
    for (size_t i = 0; i < d->n_creators; i++) {
        br_creator *c = br_record_add_creator(back, d->creators[i].role);
        *c = d->creators[i];
    }
    assert_int_equal(br_record_derive_contributors(back), 0);
    assert_string_equal(values(back, "author"),
                        "Smith, John Q, Jr. | Plato | Trailing,  | , Leading");
    assert_string_equal(values(back, "editor"), "Adams, Ann");
    assert_string_equal(values(back, "advisor"), "Brown, Bob");
    /* in place */
    assert_int_equal(br_record_derive_creators(r, r), 0);
    assert_int_equal(r->n_creators, 6);
    assert_string_equal(r->creators[4].given, "Ann");
    br_record_free(back);
    br_record_free(d);
    br_record_free(r);
}

static void test_name_truncation(void **state)
{
    (void)state;
    br_creator c = {0};
    c.family = "Family";
    c.given = "Given";
    char small[8];
    size_t need = br_creator_name(&c, small, sizeof small);
    assert_int_equal(need, strlen("Family, Given"));
    assert_string_equal(small, "Family,");
    /* a long name goes through the heap path */
    br_record *r = br_record_new();
    char longname[2000];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    person(r, BR_CREATOR, longname, "G", NULL, NULL);
    assert_int_equal(br_record_derive_contributors(r), 0);
    assert_int_equal(strlen(r->md[0].value), strlen(longname) + 3);
    br_record_free(r);
}

/* ---- br_record_add_md: place -------------------------------------------------- */

/* The place by its definition: the count of earlier values of the same field. */
static int place_by_scan(const br_record *r, size_t i)
{
    int n = 0;
    const br_mdv *v = &r->md[i];
    for (size_t k = 0; k < i; k++) {
        const br_mdv *w = &r->md[k];
        if (!strcmp(w->schema, v->schema) && !strcmp(w->element, v->element) &&
            (w->qualifier ? v->qualifier && !strcmp(w->qualifier, v->qualifier) : !v->qualifier))
            n++;
    }
    return n;
}

/* Adds n values over `fields` fields in a scrambled order (qualifiers NULL, ""
 * (the same as NULL) or named), checking every value's place and strings. */
static void add_checked(br_record *r, unsigned n, unsigned fields, unsigned seed)
{
    for (unsigned k = 0; k < n; k++) {
        unsigned f = (k * 7919u + seed) % fields;
        char el[32], q[32], val[32];
        snprintf(el, sizeof el, "e%u", f / 3);
        snprintf(q, sizeof q, "q%u", f % 3);
        snprintf(val, sizeof val, "v%u", k);
        const char *qual = f % 3 == 0 ? (k & 1 ? "" : NULL) : q;
        const char *schema = f & 1 ? "dc" : "esploro";
        br_mdv *v = br_record_add_md(r, schema, "x", NULL, NULL, "-");
        assert_non_null(v); /* a second field interleaved with every value */
        assert_int_equal(v->place, place_by_scan(r, r->n_md - 1));
        v = br_record_add_md(r, schema, el, qual, k & 2 ? "en" : "", val);
        assert_non_null(v);
        assert_int_equal(v->place, place_by_scan(r, r->n_md - 1));
        assert_string_equal(v->schema, schema);
        assert_string_equal(v->element, el);
        if (qual && *qual)
            assert_string_equal(v->qualifier, qual);
        else
            assert_null(v->qualifier);
        if (k & 2)
            assert_string_equal(v->language, "en");
        else
            assert_null(v->language);
        assert_string_equal(v->value, val);
    }
}

static void test_md_place(void **state)
{
    (void)state;
    br_record *r = br_record_new();
    assert_non_null(r);
    /* A few fields, then thousands (the count per field grows its table). */
    add_checked(r, 50, 7, 1);
    add_checked(r, 3000, 2500, 2);
    /* Places overwritten (a record loaded from the store) do not matter. */
    for (size_t i = 0; i < r->n_md; i++)
        r->md[i].place = 99;
    add_checked(r, 20, 7, 3);
    /* Values dropped, as a converter does by lowering n_md: counted again. */
    size_t out = 0;
    for (size_t i = 0; i < r->n_md; i++)
        if (i % 3) r->md[out++] = r->md[i];
    r->n_md = out;
    add_checked(r, 200, 40, 4);
    r->n_md = 10;
    add_checked(r, 30, 7, 5);
    /* A new record starts every field at 0. */
    br_record_reset(r);
    add_checked(r, 100, 13, 6);
    assert_int_equal(r->md[0].place, 0);
    assert_int_equal(r->md[1].place, 0);
    br_record_reset(r);
    assert_non_null(br_record_add_md(r, "dc", "title", NULL, NULL, "T"));
    assert_int_equal(br_record_add_md(r, "dc", "title", "", NULL, "U")->place, 1);
    assert_int_equal(br_record_add_md(r, "dc", "title", "alternative", NULL, "V")->place, 0);
    assert_null(br_record_add_md(r, NULL, "title", NULL, NULL, "W"));
    assert_int_equal(r->n_md, 3);
    br_record_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authors_in_order),    cmocka_unit_test(test_contributor_types),
        cmocka_unit_test(test_present_fields_kept), cmocka_unit_test(test_reverse),
        cmocka_unit_test(test_name_truncation),     cmocka_unit_test(test_md_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
