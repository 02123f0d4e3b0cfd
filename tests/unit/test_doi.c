/* Register DOI for Research Assets (issue 11 section 1): DOI profiles (prefix syntax, suffix
 * patterns that cannot collide, counters per label, the sealed password), the DataCite
 * Metadata Schema 4 mapping of a rich asset validated against DataCite's kernel-4 XSD, the
 * missing mandatory properties named, the local registrar and DataCite's REST API (a loopback
 * server that speaks its JSON:API: POST/PUT /dois, 201/200, 422 with errors, 401, 404, 429,
 * 500 then success, a timeout), and the register-doi set job run as users run it (CLI):
 * reserved -> registered, new DOIs per asset type, registered -> findable, failures recorded on
 * the journal line, no active profile refused, revert refused. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sodium.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include "cli_fixture.h"
#include "http_fixture.h"
#include "repo_fixture.h"
#include "bulkrepo/bulkrepo.h"
#include "doi/doi_internal.h"

#define U1    "P___U1"
#define ORCID "0000-0002-1825-0097"
#define PW    "s3cret-Pa55word!"

/* ---- the kernel-4 XSD -------------------------------------------------------------------- */

/* DataCite's metadata.xsd: $BULKREPO_DATACITE_XSD, data/datacite/kernel-4 in the source tree, or
 * shared/reference/datacite/kernel-4 beside it; NULL when none is there.  Set for the
 * commands the tests run too. */
static const char *xsd(void)
{
    static char path[4096];
    static int done;
    if (done) return path[0] ? path : NULL;
    done = 1;
    const char *env = getenv("BULKREPO_DATACITE_XSD");
    const char *cand[] = {env && *env ? env : NULL,
                          tu_data("../../data/datacite/kernel-4/metadata.xsd"),
                          tu_data("../../../shared/reference/datacite/kernel-4/metadata.xsd"),
                          "/work/shared/reference/datacite/kernel-4/metadata.xsd"};
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++)
        if (cand[i] && tu_exists(cand[i])) {
            char *real = realpath(cand[i], NULL);
            snprintf(path, sizeof path, "%s", real ? real : cand[i]);
            free(real);
            setenv("BULKREPO_DATACITE_XSD", path, 1);
            return path;
        }
    return NULL;
}

#define NEED_XSD()                                                                                 \
    do {                                                                                           \
        if (!xsd()) {                                                                              \
            print_message(                                                                         \
                "[  SKIP    ] DataCite's kernel-4 XSD is not installed (docs/doi.md)\n");          \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- prefixes and patterns ----------------------------------------------------------------- */

static void test_prefix_syntax(void **state)
{
    br_error err;
    const char *good[] = {"10.1234", "10.123456789", "10.5555.1", "10.1000.10.2"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_br_ok(br_doi_prefix_check(good[i], &err), &err);
    const char *bad[][2] = {{"", "must start"},
                            {"11.1234", "must start"},
                            {"10.123", "4 to 9 digits"},
                            {"10.1234567890", "4 to 9 digits"},
                            {"10.1234.", "followed by digits"},
                            {"10.1234/x", "unexpected '/'"},
                            {"10.12a4", "4 to 9 digits"},
                            {"10.1234.5x", "unexpected 'x'"},
                            {"doi:10.1234", "must start"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(br_doi_prefix_check(bad[i][0], &err), BR_EINVAL);
        assert_contains(err.message, bad[i][1]);
    }
}

static void test_pattern_rules(void **state)
{
    br_error err;
    assert_br_ok(br_doi_pattern_check("{type}.{n:06}",
                                      "publication.journalArticle=article,"
                                      "dataset=data",
                                      "asset", &err),
                 &err);
    assert_br_ok(br_doi_pattern_check("bulk-{n}", "", "", &err), &err);
    assert_br_ok(br_doi_pattern_check("{n:08}_{type}", "", "x", &err), &err);
    const char *bad[][2] = {
        {"{type}.", "has no {n}"},
        {"fixed", "has no {n}"},
        {"{type}{n}", "can give one DOI for two assets"},
        {"{type}-{n:04}", "can give one DOI for two assets"},
        {"{n}{type}", "can give one DOI for two assets"},
        {"{n}.{n}", "more than once"},
        {"{type}.{type}.{n}", "more than once"},
        {"{n:6}", "{n:0W}"},
        {"{n:0}", "{n:0W}"},
        {"{n:00}", "1 to 18"},
        {"{n:019}", "1 to 18"},
        {"Art.{n}", "'A' is not allowed"},
        {"a/{n}", "'/' is not allowed"},
        {"a b{n}", "' ' is not allowed"},
        {"{year}.{n}", "unknown placeholder"},
        {"{n", "without '}'"},
        {"", "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = br_doi_pattern_check(bad[i][0], "", "", &err);
        if (rc != BR_EINVAL) fail_msg("pattern '%s' was accepted", bad[i][0]);
        assert_contains(err.message, bad[i][1]);
    }
    /* labels: a known Esploro asset type, a label of a-z 0-9 '-' */
    assert_int_equal(br_doi_pattern_check("{type}.{n}", "journal=art", "", &err), BR_EINVAL);
    assert_contains(err.message, "not an Esploro asset type");
    assert_int_equal(br_doi_pattern_check("{type}.{n}", "dataset=Data", "", &err), BR_EINVAL);
    assert_int_equal(br_doi_pattern_check("{type}.{n}", "dataset=da.ta", "", &err), BR_EINVAL);
    assert_int_equal(br_doi_pattern_check("{type}.{n}", "dataset", "", &err), BR_EINVAL);
    assert_contains(err.message, "CODE=label");
    assert_int_equal(br_doi_pattern_check("{type}.{n}", "", "a_b", &err), BR_EINVAL);

    char s[128];
    assert_int_equal(br_doi_suffix_format("{type}.{n:06}", "article", 42, s, sizeof s), 0);
    assert_string_equal(s, "article.000042");
    assert_int_equal(br_doi_suffix_format("{type}.{n:06}", "article", 1234567, s, sizeof s), 0);
    assert_string_equal(s, "article.1234567");
    assert_int_equal(br_doi_suffix_format("bulk-{n}", NULL, 7, s, sizeof s), 0);
    assert_string_equal(s, "bulk-7");
    assert_int_equal(br_doi_suffix_format("{type}.{n:06}", "article", 1, s, 8), BR_ELIMIT);

    br_doi_profile p;
    memset(&p, 0, sizeof p);
    snprintf(p.labels, sizeof p.labels,
             "publication.journalArticle=article,dataset=data,"
             "publication=pub");
    snprintf(p.default_label, sizeof p.default_label, "other");
    char l[64];
    assert_string_equal(br_doi_label_for(&p, "publication.journalArticle", l, sizeof l), "article");
    assert_string_equal(br_doi_label_for(&p, "PUBLICATION.JOURNALARTICLE", l, sizeof l), "article");
    assert_string_equal(br_doi_label_for(&p, "dataset.dataset", l, sizeof l), "data");
    assert_string_equal(br_doi_label_for(&p, "publication.book", l, sizeof l), "pub");
    assert_string_equal(br_doi_label_for(&p, "software.code", l, sizeof l), "other");
    p.default_label[0] = 0;
    assert_string_equal(br_doi_label_for(&p, NULL, l, sizeof l), "asset");
}

static br_doi_profile local_profile(const char *name, const char *prefix, const char *pattern)
{
    br_doi_profile p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    snprintf(p.prefix, sizeof p.prefix, "%s", prefix);
    snprintf(p.pattern, sizeof p.pattern, "%s", pattern);
    snprintf(p.agency, sizeof p.agency, "local");
    p.start = 1;
    p.active = 1;
    return p;
}

/* An item with identifiers, written through the library. */
static int64_t item_with_ids(tu_repo *t, const char *title, const char *type1, const char *v1)
{
    br_record *r = br_record_new();
    assert_non_null(br_record_add_md(r, "dc", "title", NULL, NULL, title));
    assert_int_equal(br_record_add_collection(r, t->coll), 0);
    if (type1) assert_non_null(br_record_add_identifier(r, type1, v1));
    br_error err;
    assert_br_ok(br_item_insert(t->repo, r, NULL, &err), &err);
    int64_t id = r->id;
    br_record_free(r);
    return id;
}

static void test_profiles_and_counters(void **state)
{
    tu_repo *t = tu_repo_new("4321", "Articles");
    br_error err;
    br_doi_profile a = local_profile("articles", "10.5555", "{type}.{n:06}");
    snprintf(a.labels, sizeof a.labels, "publication.journalArticle=article,dataset=data");
    assert_br_ok(br_doi_profile_add(t->repo, &a, NULL, &err), &err);

    /* the same name; a second profile of the prefix whose pattern can meet the first's */
    assert_int_equal(br_doi_profile_add(t->repo, &a, NULL, &err), BR_EEXISTS);
    br_doi_profile b = local_profile("b", "10.5555", "x{n}");
    assert_int_equal(br_doi_profile_add(t->repo, &b, NULL, &err), BR_EINVAL);
    assert_contains(err.message, "can give the same DOI as profile 'articles'");
    br_doi_profile c1 = local_profile("c1", "10.7000", "art-{n}");
    assert_br_ok(br_doi_profile_add(t->repo, &c1, NULL, &err), &err);
    br_doi_profile c2 = local_profile("c2", "10.7000", "art-x{n}");
    assert_int_equal(br_doi_profile_add(t->repo, &c2, NULL, &err), BR_EINVAL);
    br_doi_profile c3 = local_profile("c3", "10.7000", "data-{n}");
    assert_br_ok(br_doi_profile_add(t->repo, &c3, NULL, &err), &err);
    br_doi_profile d = local_profile("other-prefix", "10.6666", "{n}");
    assert_br_ok(br_doi_profile_add(t->repo, &d, NULL, &err), &err);
    br_doi_profile e = local_profile("bad prefix", "10.5555", "{n}");
    assert_int_equal(br_doi_profile_add(t->repo, &e, NULL, &err), BR_EUSAGE);
    e = local_profile("e", "10.55", "z{n}");
    assert_int_equal(br_doi_profile_add(t->repo, &e, NULL, &err), BR_EINVAL);
    e = local_profile("e", "10.7777", "z{n}");
    snprintf(e.agency, sizeof e.agency, "crossref");
    assert_int_equal(br_doi_profile_add(t->repo, &e, NULL, &err), BR_EUSAGE);
    snprintf(e.agency, sizeof e.agency, "datacite"); /* without repository id and password */
    assert_int_equal(br_doi_profile_add(t->repo, &e, NULL, &err), BR_EUSAGE);
    assert_contains(err.message, "repository id");

    /* one counter per label; DOIs taken already (in any state and case) are passed over */
    item_with_ids(t, "Imported", "doi", "10.5555/ARTICLE.000002");
    item_with_ids(t, "Reserved", "doi-reserved", "10.5555/article.000003");
    char doi[256];
    assert_br_ok(br_doi_next(t->repo, &a, "article", 0, doi, sizeof doi, &err), &err);
    assert_string_equal(doi, "10.5555/article.000001");
    assert_br_ok(br_doi_next(t->repo, &a, "article", 1, doi, sizeof doi, &err), &err);
    assert_string_equal(doi, "10.5555/article.000001");
    assert_br_ok(br_doi_next(t->repo, &a, "article", 1, doi, sizeof doi, &err), &err);
    assert_string_equal(doi, "10.5555/article.000004");
    assert_br_ok(br_doi_next(t->repo, &a, "data", 1, doi, sizeof doi, &err), &err);
    assert_string_equal(doi, "10.5555/data.000001");
    /* without {type} the whole profile counts once */
    assert_br_ok(br_doi_next(t->repo, &c1, "article", 1, doi, sizeof doi, &err), &err);
    assert_string_equal(doi, "10.7000/art-1");
    assert_br_ok(br_doi_next(t->repo, &c1, "data", 1, doi, sizeof doi, &err), &err);
    assert_string_equal(doi, "10.7000/art-2");

    /* enable / disable; the list in name order */
    assert_br_ok(br_doi_profile_set_active(t->repo, "c3", 0, &err), &err);
    assert_int_equal(br_doi_profile_set_active(t->repo, "nope", 0, &err), BR_ENOTFOUND);
    br_doi_profile got;
    assert_br_ok(br_doi_profile_get(t->repo, "c3", &got, &err), &err);
    assert_int_equal(got.active, 0);
    assert_string_equal(got.pattern, "data-{n}");
    assert_int_equal(br_doi_profile_get(t->repo, "nope", &got, &err), BR_ENOTFOUND);
    tu_repo_free(t);
}

/* ---- the DataCite XML ---------------------------------------------------------------------- */

static br_record *rich_record(void)
{
    br_record *r = br_record_new();
    r->handle = br_record_str(r, "4321/7");
    struct {
        const char *s, *e, *q, *lang, *v;
    } md[] = {
        {"dc", "title", NULL, "en", "Fish & birds: a <study>"},
        {"esploro", "asset", "subtitle", NULL, "Second thoughts"},
        {"dc", "title", "alternative", NULL, "Fish and birds"},
        {"esploro", "asset", "translatti", "ger", "Fische und Vögel"},
        {"dc", "publisher", NULL, NULL, "Acme University Press"},
        {"dc", "date", "issued", NULL, "20210315"},
        {"esploro", "asset", "acceptdate", NULL, "20210101"},
        {"esploro", "asset", "availdate", NULL, "2021-04-01"},
        {"dc", "date", "created", NULL, "2019 - 2020"},
        {"dc", "type", NULL, NULL, "publication.journalArticle"},
        {"dc", "subject", NULL, NULL, "fish"},
        {"dc", "subject", NULL, NULL, "birds"},
        {"dc", "language", "iso", NULL, "eng"},
        {"dc", "identifier", "isbn", NULL, "9780387286679"},
        {"esploro", "asset", "pmid", NULL, "12345678"},
        {"esploro", "asset", "arxiv", NULL, "2101.00001"},
        {"dc", "identifier", "issn", NULL, "1234-5679"},
        {"esploro", "prtof", "isbn", NULL, "0387286675"},
        {"dc", "rights", "license", NULL, "CC BY 4.0"},
        {"dc", "description", "abstract", "en", "We count fish and birds."},
        {"project", "funder", "name", NULL, "European Commission"},
        {"project", "funder", "identifier", NULL, "https://doi.org/10.13039/501100000780"},
        {"oaire", "awardNumber", NULL, NULL, "101000001"},
        {"oaire", "awardURI", NULL, NULL, "https://cordis.europa.eu/project/id/101000001"},
        {"oaire", "awardTitle", NULL, NULL, "Counting Things"},
        {"oaire", "version", NULL, NULL, "2"},
    };
    for (size_t i = 0; i < sizeof md / sizeof md[0]; i++)
        assert_non_null(br_record_add_md(r, md[i].s, md[i].e, md[i].q, md[i].lang, md[i].v));
    br_creator *c = br_record_add_creator(r, BR_CREATOR);
    c->family = br_record_str(r, "Smith");
    c->given = br_record_str(r, "Jane");
    c->middle = br_record_str(r, "Q.");
    c->orcid = br_record_str(r, "https://orcid.org/" ORCID);
    c->affiliation = br_record_str(r, U1);
    c = br_record_add_creator(r, BR_CREATOR);
    c->is_organization = 1;
    c->display = br_record_str(r, "The Fish Consortium");
    c = br_record_add_creator(r, BR_CONTRIBUTOR);
    c->family = br_record_str(r, "Editor");
    c->given = br_record_str(r, "Ed");
    c->contrib_type = br_record_str(r, "editor");
    br_relation *rel = br_record_add_relation(r, "isSupplementTo", "4321/8");
    rel->is_left = 1;
    return r;
}

static const char *unit_name(void *ctx, const char *code)
{
    return !strcmp(code, U1) ? "Library of Fish" : NULL;
}

static void test_datacite_xml_rich(void **state)
{
    br_record *r = rich_record();
    br_dc_input in = {r, "10.5555/article.000042", unit_name, NULL};
    char *xml = NULL;
    size_t len = 0;
    br_error err;
    assert_br_ok(br_dc_xml(&in, &xml, &len, &err), &err);
    assert_int_equal(strlen(xml), len);
    const char *want[] = {
        "<resource xmlns=\"http://datacite.org/schema/kernel-4\"",
        "<identifier identifierType=\"DOI\">10.5555/article.000042</identifier>",
        "<creatorName nameType=\"Personal\">Smith, Jane Q.</creatorName>",
        "<givenName>Jane Q.</givenName>",
        "<familyName>Smith</familyName>",
        "<nameIdentifier nameIdentifierScheme=\"ORCID\" schemeURI=\"https://orcid.org\">" ORCID
        "</nameIdentifier>",
        "<affiliation>Library of Fish</affiliation>",
        "<creatorName nameType=\"Organizational\">The Fish Consortium</creatorName>",
        "<title xml:lang=\"en\">Fish &amp; birds: a &lt;study&gt;</title>",
        "<title titleType=\"Subtitle\">Second thoughts</title>",
        "<title titleType=\"AlternativeTitle\">Fish and birds</title>",
        "<title xml:lang=\"de\" titleType=\"TranslatedTitle\">Fische und Vögel</title>",
        "<publisher>Acme University Press</publisher>",
        "<publicationYear>2021</publicationYear>",
        "<resourceType resourceTypeGeneral=\"JournalArticle\">Journal article</resourceType>",
        "<subject>fish</subject>",
        "<contributor contributorType=\"Editor\">",
        "<date dateType=\"Issued\">2021-03-15</date>",
        "<date dateType=\"Accepted\">2021-01-01</date>",
        "<date dateType=\"Available\">2021-04-01</date>",
        "<date dateType=\"Created\">2019/2020</date>",
        "<language>en</language>",
        "<alternateIdentifier alternateIdentifierType=\"Handle\">4321/7</alternateIdentifier>",
        "<alternateIdentifier alternateIdentifierType=\"ISBN\">9780387286679</alternateIdentifier>",
        "<alternateIdentifier alternateIdentifierType=\"PMID\">12345678</alternateIdentifier>",
        "<relatedIdentifier relatedIdentifierType=\"ISBN\" relationType=\"IsPartOf\">0387286675",
        "<relatedIdentifier relatedIdentifierType=\"ISSN\" relationType=\"IsPublishedIn\">",
        "<relatedIdentifier relatedIdentifierType=\"Handle\" relationType=\"IsSupplementTo\">"
        "4321/8",
        "rightsURI=\"https://creativecommons.org/licenses/by/4.0/legalcode\" "
        "rightsIdentifier=\"CC-BY-4.0\" rightsIdentifierScheme=\"SPDX\"",
        "<description xml:lang=\"en\" descriptionType=\"Abstract\">We count fish and birds.",
        "<funderName>European Commission</funderName>",
        "funderIdentifierType=\"Crossref Funder ID\"",
        "<awardNumber awardURI=\"https://cordis.europa.eu/project/id/101000001\">101000001",
        "<awardTitle>Counting Things</awardTitle>",
        "<version>2</version>",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_contains(xml, want[i]);
    free(xml);
    br_record_free(r);
}

static void test_rich_xml_validates(void **state)
{
    NEED_XSD();
    br_record *r = rich_record();
    br_dc_input in = {r, "10.5555/article.000042", unit_name, NULL};
    char *xml = NULL;
    size_t len = 0;
    br_error err;
    assert_br_ok(br_dc_xml(&in, &xml, &len, &err), &err);
    assert_br_ok(br_doi_validate(xml, len, xsd(), &err), &err);
    /* the schema is really read: a resourceTypeGeneral outside its list, a missing publisher */
    char *bad = strdup(xml);
    char *at = strstr(bad, "\"JournalArticle\"");
    memcpy(at + 1, "JournalArtikle", 14);
    assert_int_equal(br_doi_validate(bad, strlen(bad), xsd(), &err), BR_EINVAL);
    assert_contains(err.message, "JournalArtikle");
    assert_true(err.place.line > 0);
    free(bad);
    bad = strdup(xml);
    at = strstr(bad, "<publisher>");
    memcpy(at, "<!--", 4);
    at = strstr(bad, "</publisher>");
    memcpy(at + strlen("</publisher>") - 3, "-->", 3);
    assert_int_equal(br_doi_validate(bad, strlen(bad), xsd(), &err), BR_EINVAL);
    free(bad);
    /* a minimal asset validates too */
    br_record *m = br_record_new();
    br_record_add_md(m, "dc", "title", NULL, NULL, "Only this");
    br_record_add_md(m, "dc", "publisher", NULL, NULL, "P");
    br_record_add_md(m, "dc", "date", "issued", NULL, "1999");
    br_record_add_md(m, "dc", "type", NULL, NULL, "Dataset");
    br_record_add_md(m, "dc", "contributor", "author", NULL, "Doe, John");
    br_dc_input in2 = {m, "10.5555/x.1", NULL, NULL};
    char *x2 = NULL;
    assert_br_ok(br_dc_xml(&in2, &x2, &len, &err), &err);
    assert_contains(x2, "<familyName>Doe</familyName>");
    assert_contains(x2, "resourceTypeGeneral=\"Dataset\"");
    assert_br_ok(br_doi_validate(x2, len, xsd(), &err), &err);
    /* no schema there: told so, never "valid" */
    assert_int_equal(br_doi_validate(x2, len, "/nonexistent/metadata.xsd", &err), BR_ENOTFOUND);
    free(x2);
    br_record_free(m);
    free(xml);
    br_record_free(r);
}

static void test_missing_mandatory_properties(void **state)
{
    br_record *r = br_record_new();
    br_error err;
    char *xml = NULL, missing[256];
    br_dc_input in = {r, NULL, NULL, NULL};
    assert_int_equal(br_dc_missing(&in, missing, sizeof missing), 6);
    assert_string_equal(missing, "identifier, creator, title, publisher, publicationYear, "
                                 "resourceTypeGeneral");
    br_record_add_md(r, "dc", "title", NULL, NULL, "T");
    br_record_add_md(r, "dc", "contributor", "author", NULL, "A, B");
    br_record_add_md(r, "dc", "type", NULL, NULL, "Article");  /* a DSpace label */
    br_record_add_md(r, "dc", "date", "issued", NULL, "n.d."); /* no year in it */
    in.doi = "10.5555/1";
    assert_int_equal(br_dc_xml(&in, &xml, NULL, &err), BR_EINVAL);
    assert_null(xml);
    assert_contains(err.message, "missing mandatory DataCite properties: publisher, "
                                 "publicationYear");
    br_record_add_md(r, "dc", "type", NULL, NULL, "x");
    char label[64];
    assert_null(br_dc_type_general("no such type", label, sizeof label));
    assert_string_equal(br_dc_type_general("Article", label, sizeof label), "JournalArticle");
    assert_string_equal(br_dc_type_general("dataset.dataset", label, sizeof label), "Dataset");
    assert_string_equal(br_dc_type_general("etd.doctoral", label, sizeof label), "Dissertation");
    br_record_free(r);
}

/* ---- sealed password ------------------------------------------------------------------------ */

static void test_password_sealed(void **state)
{
    fx *f = *state;
    f->rc = 0;
    fx_write(f, "pw.txt", PW "\n");
    RUN(f, 2,
        "doi profile add dc --prefix 10.5555 --pattern 'x{n}' --repository-id ACME.REPO "
        "--password " PW);
    assert_contains(f->err, "never given on the command line");
    RUN(f, 2, "doi profile add dc --prefix 10.5555 --pattern 'x{n}'"); /* no password */
    assert_contains(f->err, "repository id and its password");
    RUN(f, 0,
        "doi profile add dc --prefix 10.5555 --pattern 'x{n}' --repository-id ACME.REPO "
        "--password-file pw.txt");
    RUN(f, 0, "doi profile list --json");
    assert_not_contains(f->out, PW);
    json_t *j = fx_parse(f, "doi profile list");
    json_t *p = json_array_get(j, 0);
    assert_true(json_is_true(json_object_get(p, "passwordSet")));
    assert_string_equal(fx_str(p, "repositoryId"), "ACME.REPO");
    assert_string_equal(fx_str(p, "apiUrl"), "https://api.datacite.org");
    json_decref(j);
    /* nowhere in clear: not in the database, its journal, the job params (on PostgreSQL:
     * not in a dump of its database) */
    char *db = NULL;
    char path[4300], url[1024];
    if (tu_db_address(f->repo, url, sizeof url))
        SH(f, 0, "pg_dump --data-only '%s' > all.bin", url);
    else
        SH(f, 0, "cat '%s'/bulkrepo.db* > all.bin", f->repo);
    snprintf(path, sizeof path, "%s/all.bin", f->dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    size_t n = (size_t)st.st_size;
    assert_true(n > 0);
    db = fx_read(f, "all.bin");
    assert_null(memmem(db, n, PW, strlen(PW)));
    /* the dump holds the profile itself, so the search above looked where the secret is */
    assert_non_null(memmem(db, n, "ACME.REPO", 9));
    free(db);
    snprintf(path, sizeof path, "%s/secret.key", f->repo);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* and it opens again with the key */
    br_repo *repo;
    br_error err;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    char sealed[4400], clear[1100];
    assert_br_ok(br_doi_profile_secret(repo, "dc", sealed, sizeof sealed, &err), &err);
    assert_true(!strncmp(sealed, "sb1:", 4));
    assert_br_ok(br_doi_unseal(f->repo, sealed, clear, sizeof clear, &err), &err);
    assert_string_equal(clear, PW);
    sealed[10] ^= 1; /* tampered with */
    assert_int_not_equal(br_doi_unseal(f->repo, sealed, clear, sizeof clear, &err), 0);
    br_repo_free(repo);
}

/* ---- the CLI: profiles and doi show -------------------------------------------------------- */

#define HEADER                                                                                     \
    ",group_id,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,ASSET_PUBLISHER,"     \
    "ASSET_KEYWORDS,ASSET_LICENSECODE,ASSET_ABSTRACT,ASSET_ACCEPTDATE,CREATOR_FAMNAME,"            \
    "CREATOR_GIVNAME,CREATOR_ORCID,CREATOR_AFFILIATION\n"
#define CSV                                                                                        \
    HEADER "ASSET,0,First,publication.journalArticle," U1 ",20210315,Acme Press,fish@@birds,"      \
           "CC-BY,Fish are counted.,,,,,\n"                                                        \
           "CREATOR,0,,,,,,,,,,Smith,Jane," ORCID "," U1 "\n"                                      \
           "ASSET,1,Second,dataset.dataset," U1 ",2022,Acme Data,,,,,,,,\n"                        \
           "CREATOR,1,,,,,,,,,,Roe,Ann,,\n"                                                        \
           "ASSET,2,Third,publication.book," U1 ",,,,,,20200101,,,,\n"                             \
           "CREATOR,2,,,,,,,,,,Poe,Ed,,\n"                                                         \
           "ASSET,3,Fourth,publication.journalArticle," U1 ",2023,Acme Press,,,,,,,,\n"            \
           "CREATOR,3,,,,,,,,,,Doe,Jo,,\n"

typedef struct seeded {
    char h[4][64];
} seeded;

static void seed(fx *f, seeded *s)
{
    RUN(f, 0, "orgunit add " U1 " 'Library of Fish'");
    fx_write(f, "in/a.csv", CSV);
    RUN(f, 0, "import --format esploro-csv -s in/a.csv -m a.map");
    for (int i = 0; i < 4; i++) {
        char g[16];
        snprintf(g, sizeof g, "%d", i);
        const char *h = fx_map_handle(f, "a.map", g);
        assert_non_null(h);
        snprintf(s->h[i], sizeof s->h[i], "%s", h);
    }
}

static void set_id(fx *f, const char *h, const char *type, const char *value)
{
    br_repo *repo;
    br_error err;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    int64_t id;
    br_record *rec = br_record_new();
    assert_br_ok(br_item_find(repo, h, &id, &err), &err);
    assert_br_ok(br_item_load(repo, id, rec, &err), &err);
    assert_non_null(br_record_add_identifier(rec, type, value));
    br_item_write w = {0};
    assert_br_ok(br_repo_begin(repo, &err), &err);
    assert_br_ok(br_item_update(repo, rec, &w, &err), &err);
    assert_br_ok(br_repo_commit(repo, &err), &err);
    br_record_free(rec);
    br_repo_free(repo);
}

/* "type value | type value" of an item's DOI identifiers (doi*), from the store. */
static const char *dois_of(fx *f, const char *h)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    buf[k][0] = 0;
    br_repo *repo;
    br_error err;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    int64_t id;
    br_record *rec = br_record_new();
    assert_br_ok(br_item_find(repo, h, &id, &err), &err);
    assert_br_ok(br_item_load(repo, id, rec, &err), &err);
    for (size_t i = 0; i < rec->n_ids; i++) {
        if (strncmp(rec->ids[i].type, "doi", 3)) continue;
        size_t n = strlen(buf[k]);
        snprintf(buf[k] + n, sizeof buf[k] - n, "%s%s %s", n ? " | " : "", rec->ids[i].type,
                 rec->ids[i].value);
    }
    br_record_free(rec);
    br_repo_free(repo);
    return buf[k];
}

static const char *message_of(fx *f, long long job, const char *handle, const char **outcome)
{
    static char msg[2048], oc[32];
    RUN(f, 0, "job show %lld --json --records all", job);
    json_t *j = fx_parse(f, "job show");
    json_t *recs = json_object_get(j, "records"), *r;
    size_t i;
    int found = 0;
    msg[0] = 0;
    json_array_foreach(recs, i, r)
    {
        if (!fx_str(r, "handle") || strcmp(fx_str(r, "handle"), handle)) continue;
        found = 1;
        snprintf(msg, sizeof msg, "%s", fx_str(r, "message") ? fx_str(r, "message") : "");
        snprintf(oc, sizeof oc, "%s", fx_str(r, "outcome"));
    }
    json_decref(j);
    if (!found) fail_msg("job %lld has no record %s", job, handle);
    if (outcome) *outcome = oc;
    return msg;
}

static void test_cli_profiles_and_show(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    RUN(f, 0, "doi --help");
    assert_contains(f->out, "doi profile add NAME --prefix 10.NNNN --pattern PATTERN");
    RUN(f, 2, "doi");
    RUN(f, 2, "doi profile frobnicate");
    RUN(f, 3, "doi profile add p --prefix 10.12 --pattern '{n}' --agency local");
    assert_contains(f->err, "4 to 9 digits");
    RUN(f, 3, "doi profile add p --prefix 10.5555 --pattern '{type}' --agency local");
    assert_contains(f->err, "has no {n}");
    RUN(f, 3, "doi profile add p --prefix 10.5555 --pattern '{type}{n}' --agency local");
    RUN(f, 2, "doi profile add p --prefix 10.5555 --agency local");
    RUN(f, 2, "doi profile add p --prefix 10.5555 --pattern '{n}' --agency local --start -1");
    /* no profile yet: show says so (exit 3 is for the asset's data; this is "not found") */
    RUN(f, 3, "doi show %s", s.h[0]);
    assert_contains(f->err, "no DOI profile is active");
    RUN(f, 0,
        "doi profile add arts --prefix 10.5555 --pattern '{type}.{n:06}' --agency local "
        "--label publication.journalArticle=article --label dataset=data --start 42");
    RUN(f, 3, "doi profile add arts2 --prefix 10.5555 --pattern '{n}' --agency local");
    assert_contains(f->err, "can give the same DOI as profile 'arts'");
    RUN(f, 0, "doi profile list");
    assert_contains(f->out, "arts");
    assert_contains(f->out, "active");
    assert_contains(f->out, "publication.journalArticle=article,dataset=data");
    RUN(f, 0, "doi profile disable arts");
    RUN(f, 0, "doi profile list --json");
    json_t *j = fx_parse(f, "list");
    assert_int_equal(json_array_size(j), 1);
    json_t *p = json_array_get(j, 0);
    assert_false(json_is_true(json_object_get(p, "active")));
    assert_int_equal(json_integer_value(json_object_get(p, "start")), 42);
    assert_string_equal(fx_str(p, "agency"), "local");
    json_decref(j);
    RUN(f, 3, "doi profile enable nope");
    RUN(f, 0, "doi profile enable arts");

    /* doi show: the next DOI (not taken), the mapping, the missing properties */
    RUN(f, 0, "doi show %s", s.h[0]);
    assert_contains(f->out, "<identifier identifierType=\"DOI\">10.5555/article.000042<");
    assert_contains(f->out, "<affiliation>Library of Fish</affiliation>");
    assert_contains(f->out, "<publisher>Acme Press</publisher>");
    assert_contains(f->out, "<date dateType=\"Issued\">2021-03-15</date>");
    assert_contains(f->out, "<alternateIdentifier alternateIdentifierType=\"Handle\">");
    assert_contains(f->out, "descriptionType=\"Abstract\">Fish are counted.");
    RUN(f, 0, "doi show %s", s.h[0]); /* still the same: show takes nothing */
    assert_contains(f->out, "10.5555/article.000042<");
    RUN(f, 0, "doi show %s", s.h[1]);
    assert_contains(f->out, "10.5555/data.000042<");
    assert_contains(f->out, "resourceTypeGeneral=\"Dataset\"");
    RUN(f, 3, "doi show %s", s.h[2]);
    assert_contains(f->err, "missing mandatory DataCite properties: publisher, publicationYear");
    assert_int_equal(strlen(f->out), 0);
    RUN(f, 3, "doi show 4321/999999");
    RUN(f, 2, "doi show");
    /* a reserved DOI is the one shown */
    set_id(f, s.h[3], "doi-reserved", "10.5555/article.000900");
    RUN(f, 0, "doi show %s", s.h[3]);
    assert_contains(f->out, ">10.5555/article.000900<");
    if (xsd()) { /* what show prints validates */
        fx_write(f, "show.xml", f->out);
        char *x = fx_read(f, "show.xml");
        br_error err;
        assert_br_ok(br_doi_validate(x, strlen(x), NULL, &err), &err);
        free(x);
    }
}

/* ---- the register-doi job with the local registrar -------------------------------------------
 */

static long long run_job(fx *f, int want, const char *args)
{
    RUN(f, want, "job run register-doi --set S %s --wait", args);
    long long id = atoll(f->out);
    assert_true(id > 0);
    return id;
}

static void test_job_needs_an_active_profile(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    RUN(f, 0, "set create S --member %s", s.h[0]);
    RUN(f, 2, "job run register-doi --set S --wait");
    assert_contains(f->err, "needs at least one active DOI profile");
    RUN(f, 0, "doi profile add p --prefix 10.5555 --pattern 'x{n}' --agency local --inactive");
    RUN(f, 2, "job run register-doi --set S --wait");
    assert_contains(f->err, "needs at least one active DOI profile");
    RUN(f, 2, "job run register-doi --set S --param profile=p --wait");
    RUN(f, 0, "doi profile enable p");
    RUN(f, 2, "job run register-doi --set S --param profile=nope --wait");
    assert_contains(f->err, "no DOI profile 'nope'");
    RUN(f, 2, "job run register-doi --set S --param publish=maybe --wait");
    RUN(f, 0, "job types --json");
    assert_contains(f->out, "register-doi");
    /* nothing was registered by the refusals */
    assert_string_equal(dois_of(f, s.h[0]), "");
}

static void test_job_local_registrar(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    xsd();
    RUN(f, 0,
        "doi profile add arts --prefix 10.5555 --pattern '{type}.{n:06}' --agency local "
        "--label publication.journalArticle=article --label dataset=data");
    set_id(f, s.h[1], "doi-reserved", "10.5555/data.000777");
    /* s.h[3] carries its publisher's DOI: it gets no second one */
    set_id(f, s.h[3], "doi", "10.1000/publisher.1");
    RUN(f, 0, "set create S --member %s --member %s --member %s --member %s", s.h[0], s.h[1],
        s.h[2], s.h[3]);
    /* dry run: nothing written */
    RUN(f, 0, "job run register-doi --set S --dry-run");
    assert_string_equal(dois_of(f, s.h[0]), "");
    long long job = run_job(f, 1, "");
    const char *oc;
    const char *m = message_of(f, job, s.h[0], &oc);
    assert_string_equal(oc, "updated");
    assert_contains(m, "registered 10.5555/article.000001 with the local registrar");
    assert_string_equal(dois_of(f, s.h[0]),
                        "doi-registered 10.5555/article.000001 | doi 10.5555/article.000001");
    m = message_of(f, job, s.h[1], &oc);
    assert_string_equal(oc, "updated");
    assert_contains(m, "10.5555/data.000777");
    assert_string_equal(dois_of(f, s.h[1]),
                        "doi-registered 10.5555/data.000777 | doi 10.5555/data.000777");
    m = message_of(f, job, s.h[2], &oc);
    assert_string_equal(oc, "failed");
    assert_contains(m, "missing mandatory DataCite properties: publisher, publicationYear");
    assert_string_equal(dois_of(f, s.h[2]), ""); /* no DOI taken for it */
    m = message_of(f, job, s.h[3], &oc);
    assert_string_equal(oc, "skipped");
    assert_contains(m, "DOI from elsewhere (10.1000/publisher.1)");
    assert_string_equal(dois_of(f, s.h[3]), "doi 10.1000/publisher.1");
    /* the item's metadata carries it; the XML and the log are under the repository */
    json_t *it = fx_show(f, s.h[0]);
    assert_string_equal(md(it, "dc.identifier.doi", 0), "10.5555/article.000001");
    json_decref(it);
    char rel[4400];
    snprintf(rel, sizeof rel, "r/doi/10.5555/article.000001.xml");
    char *x = fx_read(f, rel);
    assert_non_null(x);
    assert_contains(x, "<identifier identifierType=\"DOI\">10.5555/article.000001</identifier>");
    if (xsd()) {
        br_error err;
        assert_br_ok(br_doi_validate(x, strlen(x), NULL, &err), &err);
    }
    free(x);
    char *log = fx_read(f, "r/doi/registrations.log");
    assert_contains(log, "\t10.5555/article.000001\tregistered\t");
    assert_contains(log, "\t10.5555/data.000777\tregistered\t");
    assert_contains(log, "https://hdl.handle.net/");
    free(log);

    /* again: registered DOIs are left; publish=true makes them findable */
    job = run_job(f, 1, "");
    m = message_of(f, job, s.h[0], &oc);
    assert_string_equal(oc, "skipped");
    assert_contains(m, "is registered already");
    job = run_job(f, 1, "--param publish=true");
    m = message_of(f, job, s.h[0], &oc);
    assert_string_equal(oc, "updated");
    assert_contains(m, "findable 10.5555/article.000001");
    assert_string_equal(dois_of(f, s.h[0]),
                        "doi-findable 10.5555/article.000001 | doi 10.5555/article.000001");
    /* the counter moved on: a new asset gets the next number */
    job = run_job(f, 1, "--param publish=true");
    m = message_of(f, job, s.h[0], &oc);
    assert_contains(m, "findable already");

    /* a registered DOI is never deleted: Delete Set skips it */
    RUN(f, 0, "job run delete-set --set S --wait");
    long long del = atoll(f->out);
    m = message_of(f, del, s.h[0], &oc);
    assert_string_equal(oc, "skipped");
    assert_contains(m, "registered DOI");
    /* registering is not undone: a revert is refused */
    RUN(f, 2, "job revert %lld", job);
    assert_contains(f->err, "changed no record");
}

/* The local registrar keeps a DOI of any form as one safe file name. */
static void test_local_registrar_files(void **state)
{
    tu_repo *t = tu_repo_new("4321", "Articles");
    br_doi_profile p = local_profile("l", "10.5555", "x{n}");
    void *st = NULL;
    br_error err;
    assert_br_ok(br_doi_local.open(t->repo, &p, NULL, NULL, &st, &err), &err);
    const char *xml = "<resource/>";
    br_doi_request rq = {
        "10.5555/Odd/..Name:1", "4321/9", "https://example.org/x", xml, strlen(xml), 1, 0};
    br_doi_answer a;
    assert_br_ok(br_doi_local.submit(st, &rq, &a, &err), &err);
    assert_string_equal(a.state, "registered");
    char path[4400];
    snprintf(path, sizeof path, "%s/doi/10.5555/Odd%%2F..Name%%3A1.xml", t->repo_dir);
    char *got = tu_read(path);
    assert_non_null(got);
    assert_string_equal(got, xml);
    free(got);
    snprintf(path, sizeof path, "%s/doi/registrations.log", t->repo_dir);
    got = tu_read(path);
    assert_contains(got, "\t10.5555/Odd/..Name:1\tregistered\t4321/9\thttps://example.org/x\n");
    free(got);
    rq.doi = "10.5555/.hidden";
    assert_br_ok(br_doi_local.submit(st, &rq, &a, &err), &err);
    snprintf(path, sizeof path, "%s/doi/10.5555/%%2Ehidden.xml", t->repo_dir);
    assert_true(tu_exists(path));
    rq.doi = "no-slash";
    assert_int_equal(br_doi_local.submit(st, &rq, &a, &err), BR_EINVAL);
    br_doi_local.close(st);
    tu_repo_free(t);
}

/* ---- DataCite's REST API on loopback --------------------------------------------------------
 */

enum mode { DC_OK, DC_422, DC_500_THEN_OK, DC_429_THEN_OK, DC_SLOW, DC_404_PUT, DC_500 };

typedef struct dc_req {
    char method[8];
    char path[256];
    char auth[256];
    char ctype[128];
    char *body;
} dc_req;

typedef struct dc_server {
    struct MHD_Daemon *d;
    unsigned short port;
    enum mode mode;
    int n; /* requests answered */
    dc_req req[16];
    long slow_ms;
    pthread_mutex_t mu;
} dc_server;

typedef struct conn_body {
    char *p;
    size_t n;
} conn_body;

static enum MHD_Result dc_reply(struct MHD_Connection *c, unsigned code, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "application/vnd.api+json");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static char *expected_auth(void)
{
    static char want[256];
    char raw[128];
    snprintf(raw, sizeof raw, "ACME.REPO:%s", PW);
    char b64[200];
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)raw, strlen(raw),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(want, sizeof want, "Basic %s", b64);
    return want;
}

static enum MHD_Result dc_handler(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    dc_server *s = cls;
    conn_body *b = *con_cls;
    if (!b) {
        *con_cls = calloc(1, sizeof *b);
        return MHD_YES;
    }
    if (*upload_size) {
        b->p = realloc(b->p, b->n + *upload_size + 1);
        memcpy(b->p + b->n, upload, *upload_size);
        b->n += *upload_size;
        b->p[b->n] = 0;
        *upload_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&s->mu);
    int k = s->n++;
    if (k < 16) {
        dc_req *r = &s->req[k];
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        snprintf(r->auth, sizeof r->auth, "%s", a ? a : "");
        const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        snprintf(r->ctype, sizeof r->ctype, "%s", t ? t : "");
        r->body = b->p ? strdup(b->p) : NULL;
    }
    enum mode mode = s->mode;
    pthread_mutex_unlock(&s->mu);
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!a || strcmp(a, expected_auth()))
        return dc_reply(c, 401,
                        "{\"errors\":[{\"status\":\"401\",\"title\":\"Bad credentials.\"}]}");
    if (mode == DC_SLOW) {
        struct timespec ts = {s->slow_ms / 1000, (s->slow_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (mode == DC_500 || (mode == DC_500_THEN_OK && k == 0))
        return dc_reply(c, 500, "{\"errors\":[{\"status\":\"500\",\"title\":\"Internal\"}]}");
    if (mode == DC_429_THEN_OK && k == 0)
        return dc_reply(c, 429, "{\"errors\":[{\"status\":\"429\",\"title\":\"Slow down\"}]}");
    if (mode == DC_422)
        return dc_reply(c, 422,
                        "{\"errors\":[{\"source\":\"xml\",\"title\":\"Missing child element(s). "
                        "Expected is ( {http://datacite.org/schema/kernel-4}publisher ).\"}]}");
    int put = !strcmp(method, "PUT");
    if (put && mode == DC_404_PUT)
        return dc_reply(c, 404,
                        "{\"errors\":[{\"status\":\"404\",\"title\":\"The resource you "
                        "are looking for doesn't exist.\"}]}");
    if ((!put && strcmp(url, "/dois")) || (put && strncmp(url, "/dois/", 6)) ||
        (!put && strcmp(method, "POST")))
        return dc_reply(c, 404, "{\"errors\":[{\"title\":\"no route\"}]}");
    json_t *j = b->p ? json_loads(b->p, 0, NULL) : NULL;
    json_t *attrs = json_object_get(json_object_get(j, "data"), "attributes");
    const char *doi = json_string_value(json_object_get(attrs, "doi"));
    const char *event = json_string_value(json_object_get(attrs, "event"));
    const char *xml = json_string_value(json_object_get(attrs, "xml"));
    if (!doi || !xml || !event) {
        json_decref(j);
        return dc_reply(c, 422, "{\"errors\":[{\"title\":\"Can't be blank\"}]}");
    }
    char body[1024];
    snprintf(body, sizeof body,
             "{\"data\":{\"id\":\"%s\",\"type\":\"dois\",\"attributes\":{\"doi\":\"%s\","
             "\"state\":\"%s\"}}}",
             doi, doi, !strcmp(event, "publish") ? "findable" : "registered");
    json_decref(j);
    return dc_reply(c, put ? 200 : 201, body);
}

static void dc_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    conn_body *b = *con_cls;
    if (b) free(b->p);
    free(b);
    *con_cls = NULL;
}

static dc_server *dc_start(int allow)
{
    dc_server *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                            NULL, NULL, dc_handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
                            MHD_OPTION_NOTIFY_COMPLETED, dc_done, s, MHD_OPTION_END);
    assert_non_null(s->d);
    s->port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
    if (allow) {
        char v[64];
        snprintf(v, sizeof v, "127.0.0.1:%u", s->port);
        setenv("BULKREPO_FETCH_ALLOW", v, 1);
    }
    return s;
}

static void dc_reset(dc_server *s, enum mode m)
{
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < 16 && i < s->n; i++)
        free(s->req[i].body);
    memset(s->req, 0, sizeof s->req);
    s->n = 0;
    s->mode = m;
    pthread_mutex_unlock(&s->mu);
}

static void dc_stop(dc_server *s)
{
    MHD_stop_daemon(s->d);
    dc_reset(s, DC_OK);
    unsetenv("BULKREPO_FETCH_ALLOW");
    free(s);
}

/* The XML a request carried (base64 in data.attributes.xml), malloc'd. */
static char *sent_xml(const dc_req *r, const char **event, const char **url)
{
    static char ev[32], u[512];
    json_t *j = json_loads(r->body, 0, NULL);
    assert_non_null(j);
    json_t *data = json_object_get(j, "data");
    assert_string_equal(json_string_value(json_object_get(data, "type")), "dois");
    json_t *attrs = json_object_get(data, "attributes");
    const char *b64 = json_string_value(json_object_get(attrs, "xml"));
    assert_non_null(b64);
    snprintf(ev, sizeof ev, "%s", json_string_value(json_object_get(attrs, "event")));
    const char *uu = json_string_value(json_object_get(attrs, "url"));
    snprintf(u, sizeof u, "%s", uu ? uu : "");
    if (event) *event = ev;
    if (url) *url = u;
    size_t n = strlen(b64), len = 0;
    char *xml = calloc(1, n + 1);
    assert_int_equal(sodium_base642bin((unsigned char *)xml, n, b64, n, NULL, &len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    xml[len] = 0;
    json_decref(j);
    return xml;
}

static br_doi_profile dc_profile(dc_server *s)
{
    br_doi_profile p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "dc");
    snprintf(p.prefix, sizeof p.prefix, "10.5555");
    snprintf(p.pattern, sizeof p.pattern, "x{n}");
    snprintf(p.agency, sizeof p.agency, "datacite");
    snprintf(p.api_url, sizeof p.api_url, "http://127.0.0.1:%u/", s->port);
    snprintf(p.repository_id, sizeof p.repository_id, "ACME.REPO");
    p.active = 1;
    return p;
}

static void test_datacite_client(void **state)
{
    tu_repo *t = tu_repo_new("4321", "Articles");
    dc_server *s = dc_start(1);
    br_doi_profile p = dc_profile(s);
    br_doi_http_opts o = {300, 2, 50};
    void *st = NULL;
    br_error err;
    assert_br_ok(br_doi_datacite.open(t->repo, &p, PW, &o, &st, &err), &err);
    const char *xml = "<?xml version=\"1.0\"?><resource/>";
    br_doi_request rq = {
        "10.5555/x1", "4321/5", "https://hdl.handle.net/4321/5", xml, strlen(xml), 0, 1};
    br_doi_answer a;

    /* a new DOI: POST /dois, findable */
    dc_reset(s, DC_OK);
    assert_br_ok(br_doi_datacite.submit(st, &rq, &a, &err), &err);
    assert_int_equal(a.http, 201);
    assert_string_equal(a.state, "findable");
    assert_int_equal(s->n, 1);
    assert_string_equal(s->req[0].method, "POST");
    assert_string_equal(s->req[0].path, "/dois");
    assert_string_equal(s->req[0].auth, expected_auth());
    assert_string_equal(s->req[0].ctype, "application/vnd.api+json");
    const char *event, *url;
    char *got = sent_xml(&s->req[0], &event, &url);
    assert_string_equal(got, xml);
    assert_string_equal(event, "publish");
    assert_string_equal(url, "https://hdl.handle.net/4321/5");
    free(got);
    assert_contains(a.message, "findable 10.5555/x1 at DataCite (POST: 201)");

    /* a reserved one: PUT /dois/10.5555/x1, registered */
    dc_reset(s, DC_OK);
    rq.exists = 1;
    rq.publish = 0;
    assert_br_ok(br_doi_datacite.submit(st, &rq, &a, &err), &err);
    assert_int_equal(a.http, 200);
    assert_string_equal(a.state, "registered");
    assert_string_equal(s->req[0].method, "PUT");
    assert_string_equal(s->req[0].path, "/dois/10.5555/x1");
    got = sent_xml(&s->req[0], &event, NULL);
    assert_string_equal(event, "register");
    free(got);
    json_t *body = json_loads(s->req[0].body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(json_object_get(body, "data"), "id")),
                        "10.5555/x1");
    json_decref(body);

    /* reserved here, unknown there: PUT 404, then POST */
    dc_reset(s, DC_404_PUT);
    assert_br_ok(br_doi_datacite.submit(st, &rq, &a, &err), &err);
    assert_int_equal(s->n, 2);
    assert_string_equal(s->req[1].method, "POST");

    /* 422 with a JSON:API errors body: the answer, not tried again */
    dc_reset(s, DC_422);
    assert_int_equal(br_doi_datacite.submit(st, &rq, &a, &err), BR_EINVAL);
    assert_int_equal(s->n, 1);
    assert_int_equal(a.http, 422);
    assert_contains(a.message, "DataCite answered 422: Missing child element(s)");
    assert_contains(a.message, "(xml)");

    /* 500 then success; 429 then success */
    dc_reset(s, DC_500_THEN_OK);
    assert_br_ok(br_doi_datacite.submit(st, &rq, &a, &err), &err);
    assert_int_equal(s->n, 2);
    assert_int_equal(a.tries, 2);
    assert_contains(a.message, "2 tries, the one before: 500");
    dc_reset(s, DC_429_THEN_OK);
    assert_br_ok(br_doi_datacite.submit(st, &rq, &a, &err), &err);
    assert_int_equal(s->n, 2);
    /* 500 every time: tries exhausted */
    dc_reset(s, DC_500);
    assert_int_equal(br_doi_datacite.submit(st, &rq, &a, &err), BR_EIO);
    assert_int_equal(s->n, 2);
    assert_contains(a.message, "2 tries, the last one: 500");

    /* a timeout: tried again, then given up */
    dc_reset(s, DC_SLOW);
    s->slow_ms = 1200;
    assert_int_equal(br_doi_datacite.submit(st, &rq, &a, &err), BR_EIO);
    assert_int_equal(a.tries, 2);
    assert_contains(a.message, "the last one: ");
    br_doi_datacite.close(st);

    /* a wrong password: 401, not tried again */
    dc_reset(s, DC_OK);
    assert_br_ok(br_doi_datacite.open(t->repo, &p, "wrong", &o, &st, &err), &err);
    assert_int_equal(br_doi_datacite.submit(st, &rq, &a, &err), BR_EAUTH);
    assert_int_equal(s->n, 1);
    assert_contains(a.message, "refused the credentials (401)");
    br_doi_datacite.close(st);

    /* the fetch policy: a loopback API that no allowlist names gets no request */
    unsetenv("BULKREPO_FETCH_ALLOW");
    dc_reset(s, DC_OK);
    assert_br_ok(br_doi_datacite.open(t->repo, &p, PW, &o, &st, &err), &err);
    assert_int_equal(br_doi_datacite.submit(st, &rq, &a, &err), BR_EDENIED);
    assert_int_equal(s->n, 0);
    br_doi_datacite.close(st);
    dc_stop(s);
    tu_repo_free(t);
}

static void test_job_datacite(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    xsd();
    dc_server *srv = dc_start(1);
    setenv("BULKREPO_DATACITE_BACKOFF_MS", "50", 1);
    fx_write(f, "pw", PW "\n");
    RUN(f, 0,
        "doi profile add dc --prefix 10.5555 --pattern '{type}.{n:04}' --label "
        "publication.journalArticle=article --api-url http://127.0.0.1:%u --repository-id "
        "ACME.REPO --password-file pw --publish",
        srv->port);
    RUN(f, 0, "set create S --member %s --member %s", s.h[0], s.h[2]);
    /* params and the journal never hold the password */
    dc_reset(srv, DC_OK);
    long long job = run_job(f, 1, "");
    const char *oc;
    const char *m = message_of(f, job, s.h[0], &oc);
    assert_string_equal(oc, "updated");
    assert_contains(m, "findable 10.5555/article.0001 at DataCite (POST: 201)");
    assert_string_equal(dois_of(f, s.h[0]),
                        "doi-findable 10.5555/article.0001 | doi 10.5555/article.0001");
    m = message_of(f, job, s.h[2], &oc);
    assert_string_equal(oc, "failed");
    assert_contains(m, "publisher, publicationYear");
    assert_int_equal(srv->n, 1); /* the incomplete asset was never sent */
    assert_string_equal(srv->req[0].auth, expected_auth());
    char *x = sent_xml(&srv->req[0], NULL, NULL);
    assert_contains(x, "<identifier identifierType=\"DOI\">10.5555/article.0001</identifier>");
    assert_contains(x, "<nameIdentifier nameIdentifierScheme=\"ORCID\"");
    free(x);
    RUN(f, 0, "job show %lld --json --records all", job);
    assert_not_contains(f->out, PW);

    /* DataCite refuses an asset: failed with its answer; the new DOI stays reserved, and the
     * next run registers that one (PUT), not another */
    RUN(f, 0, "set create T --member %s", s.h[1]);
    dc_reset(srv, DC_422);
    RUN(f, 1, "job run register-doi --set T --wait");
    job = atoll(f->out);
    m = message_of(f, job, s.h[1], &oc);
    assert_string_equal(oc, "failed");
    assert_contains(m, "DataCite answered 422: Missing child element(s)");
    assert_contains(m, "10.5555/asset.0001 is kept reserved for the next run");
    assert_string_equal(dois_of(f, s.h[1]), "doi-reserved 10.5555/asset.0001");
    dc_reset(srv, DC_500_THEN_OK);
    RUN(f, 0, "job run register-doi --set T --wait");
    job = atoll(f->out);
    m = message_of(f, job, s.h[1], &oc);
    assert_string_equal(oc, "updated");
    assert_contains(m, "2 tries, the one before: 500");
    assert_int_equal(srv->n, 2);
    assert_string_equal(srv->req[1].method, "PUT");
    assert_string_equal(srv->req[1].path, "/dois/10.5555/asset.0001");
    assert_string_equal(dois_of(f, s.h[1]),
                        "doi-findable 10.5555/asset.0001 | doi 10.5555/asset.0001");

    /* DataCite unreachable (timeouts): each asset fails with it, the job completes */
    RUN(f, 0, "set create U --member %s", s.h[3]);
    setenv("BULKREPO_DATACITE_TIMEOUT_MS", "300", 1);
    dc_reset(srv, DC_SLOW);
    srv->slow_ms = 1000;
    RUN(f, 1, "job run register-doi --set U --wait");
    job = atoll(f->out);
    m = message_of(f, job, s.h[3], &oc);
    assert_string_equal(oc, "failed");
    assert_contains(m, "4 tries, the last one:");
    /* reserved before it was sent: a request that timed out may have reached DataCite */
    assert_string_equal(dois_of(f, s.h[3]), "doi-reserved 10.5555/article.0002");
    assert_contains(m, "10.5555/article.0002 is kept reserved for the next run");
    unsetenv("BULKREPO_DATACITE_TIMEOUT_MS");
    unsetenv("BULKREPO_DATACITE_BACKOFF_MS");
    dc_stop(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_syntax),
        cmocka_unit_test(test_pattern_rules),
        cmocka_unit_test(test_profiles_and_counters),
        cmocka_unit_test(test_datacite_xml_rich),
        cmocka_unit_test(test_rich_xml_validates),
        cmocka_unit_test(test_missing_mandatory_properties),
        FX_TEST(test_password_sealed),
        FX_TEST(test_cli_profiles_and_show),
        FX_TEST(test_job_needs_an_active_profile),
        FX_TEST(test_job_local_registrar),
        cmocka_unit_test(test_local_registrar_files),
        cmocka_unit_test(test_datacite_client),
        FX_TEST(test_job_datacite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
