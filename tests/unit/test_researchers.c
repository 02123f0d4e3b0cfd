/* Researchers (issue 11 section 6): `researcher add | import | list | show` (a bad ORCID check
 * digit refused with its cell, every CSV problem by file:row:column and cell, nothing written),
 * the assets whose creators name a researcher by researcher id or ORCID iD, sets of
 * researchers (stored researcher ids only), Update Set of Researchers with every operation of
 * seed 001 (before and after, the dry run's field: old → new, bad parameters, revert), and
 * Delete records from ORCID against a loopback ORCID member API that checks the method, the
 * path and the bearer token (204, 404, 500 then 204, 401), the recorder used when no API is
 * configured, the fetch policy, and the token kept sealed.  Everything runs as staff run it:
 * through the bulkrepo binary. */
#define _GNU_SOURCE
#include <pthread.h>
#include "cli_fixture.h"
#include "http_fixture.h"
#include "repo_fixture.h"
#include "bulkrepo/bulkrepo.h"

#define PHYS   "01X___PHYS"
#define CHEM   "01X___CHEM"
#define ORCID1 "0000-0002-1825-0097"
#define ORCID2 "0000-0001-5109-3700"
#define ORCID3 "0000-0002-1694-233X"
#define TOKEN  "f5af9f51-07e6-4332-8f1a-c0c11c1e3728"

static void units(fx *f)
{
    RUN(f, 0, "orgunit add " PHYS " Physics");
    RUN(f, 0, "orgunit add " CHEM " Chemistry");
}

/* `researcher show ID --json` (the caller frees it). */
static json_t *show(fx *f, const char *id)
{
    return fx_json(f, "researcher show '%s' --json", id);
}

static int has_string(json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (!strcmp(json_string_value(v), s)) return 1;
    return 0;
}

static int has_flag(fx *f, const char *id, const char *flag)
{
    json_t *j = show(f, id);
    int on = has_string(json_object_get(j, "flags"), flag);
    json_decref(j);
    return on;
}

static const char *status_of(fx *f, const char *id)
{
    static char s[64];
    json_t *j = show(f, id);
    snprintf(s, sizeof s, "%s", fx_str(j, "status"));
    json_decref(j);
    return s;
}

static long long version_of(fx *f, const char *id)
{
    json_t *j = show(f, id);
    long long v = (long long)json_integer_value(json_object_get(j, "version"));
    json_decref(j);
    return v;
}

static void today(char out[11])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* The id of the job a `job run ... --wait` printed. */
static long long job_id(fx *f)
{
    long long id = atoll(f->out);
    assert_true(id > 0);
    return id;
}

/* ---- the library's checks -------------------------------------------------------------------- */

static void test_orcid_and_checks(void **state)
{
    (void)state;
    assert_int_equal(br_orcid_check(ORCID1), 1);
    assert_int_equal(br_orcid_check(ORCID2), 1);
    assert_int_equal(br_orcid_check(ORCID3), 1); /* check digit X */
    assert_int_equal(br_orcid_check("0000-0002-1825-0098"), 0);
    assert_int_equal(br_orcid_check("0000-0002-1694-2330"), 0);
    assert_int_equal(br_orcid_check("0000-0002-1825-009"), 0);
    assert_int_equal(br_orcid_check("0000 0002 1825 0097"), 0);
    assert_int_equal(br_orcid_check(NULL), 0);
    br_researcher *r = br_researcher_new();
    assert_non_null(r);
    br_error err;
    snprintf(r->id, sizeof r->id, "R-1");
    assert_int_equal(br_researcher_check(NULL, r, &err), BR_EINVAL); /* no family name */
    assert_contains(err.message, "family");
    snprintf(r->family, sizeof r->family, "Smith");
    assert_br_ok(br_researcher_check(NULL, r, &err), &err);
    snprintf(r->last_harvest, sizeof r->last_harvest, "2021-02-29");
    assert_int_equal(br_researcher_check(NULL, r, &err), BR_EINVAL);
    assert_contains(err.message, "2021-02-29");
    snprintf(r->last_harvest, sizeof r->last_harvest, "2020-02-29");
    assert_br_ok(br_researcher_check(NULL, r, &err), &err);
    assert_int_equal(br_researcher_add_affiliation(r, PHYS, "2020-05-01", "2020-04-30"), 0);
    assert_int_equal(br_researcher_check(NULL, r, &err), BR_EINVAL);
    assert_contains(err.message, "before it starts");
    br_researcher_clear(r);
    snprintf(r->id, sizeof r->id, "has space");
    snprintf(r->family, sizeof r->family, "X");
    assert_int_equal(br_researcher_check(NULL, r, &err), BR_EINVAL);
    /* Topics and keywords: equal ignoring case once. */
    assert_int_equal(br_researcher_add_topic(r, "Optics"), 1);
    assert_int_equal(br_researcher_add_topic(r, "OPTICS"), 0);
    assert_int_equal(br_researcher_remove_topic(r, "optics"), 1);
    assert_int_equal(r->n_topics, 0);
    br_researcher_free(r);
}

/* ---- add, list, show, assets ---------------------------------------------------------------- */

/* Stores an asset whose creators are the given (family, researcher id, ORCID) triples. */
static const char *asset(fx *f, const char *title, const char *const (*people)[3], size_t n)
{
    static char h[4][64];
    static int k;
    br_record *r = br_record_new();
    assert_non_null(br_record_add_md(r, "dc", "title", NULL, NULL, title));
    for (size_t i = 0; i < n; i++) {
        br_creator *c = br_record_add_creator(r, i == n - 1 && n > 2 ? BR_CONTRIBUTOR : BR_CREATOR);
        c->family = br_record_str(r, people[i][0]);
        c->researcher_id = people[i][1] ? br_record_str(r, people[i][1]) : NULL;
        c->orcid = people[i][2] ? br_record_str(r, people[i][2]) : NULL;
    }
    assert_int_equal(br_record_add_collection(r, f->coll), 0);
    br_repo *repo;
    br_error err;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    assert_br_ok(br_item_insert(repo, r, NULL, &err), &err);
    k = (k + 1) % 4;
    snprintf(h[k], sizeof h[k], "%s", r->handle);
    br_repo_free(repo);
    br_record_free(r);
    return h[k];
}

static void test_cli_add_list_show(void **state)
{
    fx *f = *state;
    units(f);
    RUN(f, 0,
        "researcher add R-1 --family Smith --given Ann --middle B. --suffix Jr. --orcid " ORCID1
        " --affiliation '" PHYS "|2019-09-01|' --affiliation '" CHEM "|2015-01-01|2019-08-31' "
        "--topic Optics --topic Lasers --keyword photonics --flag profile-access --flag "
        "update-orcid --last-harvest 2024-03-01");
    assert_string_equal(f->out, "R-1\n");
    /* A bad ORCID check digit is refused, naming it; nothing is written. */
    RUN(f, 3, "researcher add R-2 --family Doe --orcid 0000-0002-1825-0098");
    assert_contains(f->err, "0000-0002-1825-0098 has a wrong check digit (ISO 7064 11,2)");
    RUN(f, 3, "researcher add R-2 --family Doe --orcid 1234");
    assert_contains(f->err, "is not an ORCID iD");
    RUN(f, 3, "researcher show R-2");
    assert_contains(f->err, "no researcher");
    /* Taken: the id, the ORCID iD; unknown unit; a date that is no day; usage errors. */
    RUN(f, 3, "researcher add R-1 --family Again");
    assert_contains(f->err, "exists");
    RUN(f, 3, "researcher add R-2 --family Doe --orcid " ORCID1);
    assert_contains(f->err, "researcher R-1's");
    RUN(f, 3, "researcher add R-2 --family Doe --affiliation '01X___NOPE||'");
    assert_contains(f->err, "01X___NOPE is not an organisational unit");
    RUN(f, 3, "researcher add R-2 --family Doe --last-harvest 2024-02-30");
    assert_contains(f->err, "2024-02-30");
    RUN(f, 2, "researcher add R-2 --family Doe --flag flying");
    assert_contains(f->err, "unknown flag");
    RUN(f, 2, "researcher add R-2 --given Doe");
    assert_contains(f->err, "--family");
    RUN(f, 2, "researcher add R-2 --family Doe --status retired");
    RUN(f, 0,
        "researcher add R-2 --family Doe --orcid https://orcid.org/" ORCID2
        " --status non-affiliated");
    RUN(f, 3, "researcher add R-3 --family Roe --orcid https://orcid.org/" ORCID2);
    RUN(f, 0, "researcher add R-3 --family Roe --orcid " ORCID3);

    RUN(f, 0, "researcher list");
    assert_contains(f->out, "R-1\tSmith, Ann B., Jr.\t" ORCID1 "\taffiliated\t" PHYS "\n");
    assert_contains(f->out, "R-2\tDoe\t" ORCID2 "\tnon-affiliated\t\n");
    json_t *l = fx_json(f, "researcher list --json");
    assert_int_equal(json_array_size(l), 3);
    assert_string_equal(fx_str(json_array_get(l, 2), "id"), "R-3");
    json_decref(l);

    /* Assets link to researchers by researcher id or ORCID iD (bare or as a URL). */
    const char *const a1[][3] = {{"Smith", "R-1", NULL}, {"Doe", NULL, NULL}};
    const char *const a2[][3] = {{"Smith", NULL, "https://orcid.org/" ORCID1},
                                 {"Roe", "R-3", NULL},
                                 {"Smith", "R-1", ORCID1}}; /* twice in one asset: listed once */
    const char *const a3[][3] = {{"Other", "R-9", "0000-0002-9079-593X"}};
    const char *h1 = asset(f, "First", a1, 2), *h2 = asset(f, "Second", a2, 3);
    asset(f, "Third", a3, 1);
    json_t *j = show(f, ORCID1); /* by ORCID iD */
    assert_string_equal(fx_str(j, "id"), "R-1");
    assert_string_equal(fx_str(j, "given"), "Ann");
    assert_string_equal(fx_str(j, "orcid"), ORCID1);
    assert_string_equal(fx_str(j, "last_harvest"), "2024-03-01");
    assert_true(has_string(json_object_get(j, "flags"), "profile-access"));
    assert_true(has_string(json_object_get(j, "flags"), "update-orcid"));
    assert_false(has_string(json_object_get(j, "flags"), "smart-harvesting"));
    json_t *affs = json_object_get(j, "affiliations");
    assert_int_equal(json_array_size(affs), 2);
    assert_true(json_is_true(json_object_get(json_array_get(affs, 0), "current")));
    assert_string_equal(fx_str(json_array_get(affs, 1), "end"), "2019-08-31");
    assert_true(has_string(json_object_get(j, "topics"), "Lasers"));
    json_t *as = json_object_get(j, "assets");
    assert_int_equal(json_array_size(as), 2);
    assert_string_equal(fx_str(json_array_get(as, 0), "handle"), h1);
    assert_string_equal(fx_str(json_array_get(as, 0), "by"), "researcher-id");
    assert_string_equal(fx_str(json_array_get(as, 1), "handle"), h2);
    assert_string_equal(fx_str(json_array_get(as, 1), "by"), "orcid");
    assert_string_equal(fx_str(json_array_get(as, 1), "title"), "Second");
    json_decref(j);
    RUN(f, 0, "researcher show R-3");
    assert_contains(f->out, "ORCID iD:      " ORCID3);
    assert_contains(f->out, h2);
    assert_not_contains(f->out, h1);
    RUN(f, 0, "researcher show R-2");
    assert_contains(f->out, "assets:\n  (0)");
    RUN(f, 0, "researcher --help");
    assert_contains(f->out, "researcher id");
    RUN(f, 2, "researcher");
}

/* ---- import ------------------------------------------------------------------------------------
 */

static void test_cli_import(void **state)
{
    fx *f = *state;
    units(f);
    /* Every problem by cell, nothing written. */
    fx_write(f, "bad.csv",
             "id,family,given,orcid,status,flags,affiliations,topics,keywords,last_harvest\n"
             "R-1,Smith,Ann," ORCID1 ",affiliated,profile-access;update-orcid," PHYS
             "|2019-09-01|,Optics;Lasers,photonics,2024-03-01\n"
             "R-2,Doe,,0000-0002-1825-0098,,,,,,\n"
             "R-3,Roe,,,,flying,,,,\n"
             "R-4,Poe,,,,," PHYS "|2020-13-01|,,,\n"
             "R-1,Smith again,,,,,,,,\n"
             "R-5,Loe,,,retired,,01X___NOPE||,,,\n"
             "R-6,,,,,,,,,\n");
    RUN(f, 3, "researcher import bad.csv");
    assert_contains(f->err, "bad.csv:3:4: D3 error researcher.orcid: 0000-0002-1825-0098 has a "
                            "wrong check digit (ISO 7064 11,2)");
    assert_contains(f->err, "bad.csv:4:6: F4 error researcher.flags: unknown flag 'flying'");
    assert_contains(f->err, "bad.csv:5:7: G5 error researcher.affiliations: " PHYS
                            ": the start date '2020-13-01'");
    assert_contains(f->err, "bad.csv:6:1: A6 error researcher.duplicate: researcher R-1 is on "
                            "line 2 already");
    assert_contains(f->err, "bad.csv:7:5: E7 error researcher.status: 'retired'");
    assert_contains(f->err, "bad.csv:8:2: B8 error researcher.family: the family name is required");
    assert_contains(f->err, "6 problems in 7 rows; nothing was written");
    RUN(f, 0, "researcher list");
    assert_string_equal(f->out, "");
    /* The same as JSON; a row's second problem (G7's unit) shows once the first is fixed. */
    json_t *j = NULL;
    fx_br(f, "researcher import bad.csv --json");
    assert_int_equal(f->rc, 3);
    j = fx_parse(f, "import --json");
    json_t *p = json_object_get(j, "problems");
    assert_int_equal(json_array_size(p), 6);
    assert_string_equal(fx_str(json_array_get(p, 0), "cell"), "D3");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(p, 0), "row")), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(p, 0), "column")), 4);
    assert_string_equal(fx_str(json_array_get(p, 0), "rule"), "researcher.orcid");
    json_decref(j);
    /* The header: an unknown column, no family column. */
    fx_write(f, "hdr.csv", "id,surname\nR-1,Smith\n");
    RUN(f, 3, "researcher import hdr.csv");
    assert_contains(f->err, "hdr.csv:1:2: B1 error researcher.header: unknown column 'surname'");
    assert_contains(f->err, "the header must name the columns id and family");
    fx_write(f, "empty.csv", "");
    RUN(f, 3, "researcher import empty.csv");
    assert_contains(f->err, "empty");
    RUN(f, 3, "researcher import missing.csv");

    /* A good file: added; checked only with --dry-run; again with changes: updated. */
    fx_write(f, "good.csv",
             "ID, Family ,given,orcid,flags,affiliations,topics\n"
             "R-1,Smith,Ann,https://orcid.org/" ORCID1 ",smart-harvesting," PHYS
             "|2019-09-01|;" CHEM "|2015-01-01|2019-08-31,Optics; Lasers\n"
             "R-2,Doe,,,,,\n");
    RUN(f, 0, "researcher import good.csv --dry-run");
    assert_contains(f->err, "2 rows checked (dry run, nothing written)");
    RUN(f, 0, "researcher list");
    assert_string_equal(f->out, "");
    RUN(f, 0, "researcher import good.csv");
    assert_contains(f->err, "2 researchers added, 0 updated");
    j = show(f, "R-1");
    assert_string_equal(fx_str(j, "orcid"), ORCID1);
    assert_int_equal(json_array_size(json_object_get(j, "affiliations")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "topics")), 2);
    assert_true(has_string(json_object_get(j, "flags"), "smart-harvesting"));
    char created[64];
    snprintf(created, sizeof created, "%s", fx_str(j, "created"));
    json_decref(j);
    fx_write(f, "again.csv", "id,family,keywords\nR-1,Smith-Jones,optics\nR-3,New,\n");
    RUN(f, 0, "researcher import again.csv");
    assert_contains(f->err, "1 researchers added, 1 updated");
    j = show(f, "R-1");
    assert_string_equal(fx_str(j, "family"), "Smith-Jones");
    assert_true(json_is_null(json_object_get(j, "orcid"))); /* the row's fields replace */
    assert_string_equal(fx_str(j, "created"), created);
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    json_decref(j);
    /* An ORCID iD another stored researcher has is refused by cell. */
    fx_write(f, "taken.csv", "id,family,orcid\nR-2,Doe," ORCID2 "\nR-3,New," ORCID2 "\n");
    RUN(f, 3, "researcher import taken.csv");
    assert_contains(f->err, "taken.csv:3:3: C3 error researcher.duplicate: the ORCID iD " ORCID2
                            " is on line 2 already");
}

/* ---- sets of researchers ----------------------------------------------------------------------
 */

static void test_researcher_sets(void **state)
{
    fx *f = *state;
    RUN(f, 0, "researcher add R-1 --family One");
    RUN(f, 3, "set create People --type researchers --member R-1 --member R-9");
    assert_contains(f->err, "R-9");
    assert_contains(f->err, "no researcher");
    RUN(f, 0, "set create People --type researchers --member R-1");
    /* A set of researchers is for researcher jobs only, and they for it. */
    RUN(f, 2, "job run update-set --set People --param operation=remove-links");
    RUN(f, 0, "set create Assets --query 'type:article'");
    RUN(f, 2, "job run update-researchers --set Assets --param operation=last-harvest");
    assert_contains(f->err, "runs on a set of researchers");
    RUN(f, 2, "job run delete-orcid --set Assets");
    json_t *t = fx_json(f, "job types --json");
    size_t i, found = 0;
    json_t *x;
    json_array_foreach(t, i, x)
    {
        const char *type = fx_str(x, "type");
        if (strcmp(type, "update-researchers") && strcmp(type, "delete-orcid")) continue;
        found++;
        assert_true(json_is_true(json_object_get(x, "implemented")));
        assert_string_equal(fx_str(x, "content"), "researchers");
    }
    json_decref(t);
    assert_int_equal(found, 2);
}

/* ---- Update Set of Researchers --------------------------------------------------------------- */

static void seed_people(fx *f)
{
    units(f);
    RUN(f, 0,
        "researcher add A --family Able --status affiliated --affiliation '" PHYS "|2019-01-01|' "
        "--topic Optics --keyword photonics");
    RUN(f, 0,
        "researcher add N --family Noaf --status non-affiliated --affiliation '" PHYS
        "|2018-01-01|' --affiliation '" CHEM "|2010-01-01|2012-12-31' --affiliation '" CHEM
        "|2999-01-01|' --flag update-orcid");
    RUN(f, 0, "researcher add P --family Prev --status previously-affiliated");
    RUN(f, 0, "set create All --type researchers --member A --member N --member P");
}

/* Runs update-researchers on set All with the parameters; its job id. */
static long long upd(fx *f, int want, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static long long upd(fx *f, int want, const char *fmt, ...)
{
    char params[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(params, sizeof params, fmt, ap);
    va_end(ap);
    RUN(f, want, "job run update-researchers --set All %s --wait", params);
    return job_id(f);
}

static const char *line_of(fx *f, long long job, const char *key, const char **outcome)
{
    static char msg[2048];
    json_t *j = fx_job(f, job);
    json_t *r = fx_job_record(j, key);
    assert_non_null(r);
    snprintf(msg, sizeof msg, "%s", fx_str(r, "message") ? fx_str(r, "message") : "");
    static char out[32];
    snprintf(out, sizeof out, "%s", fx_str(r, "outcome"));
    if (outcome) *outcome = out;
    json_decref(j);
    return msg;
}

static void test_update_flags_and_terms(void **state)
{
    fx *f = *state;
    seed_people(f);
    /* manage-externally, notifications: on, then off. */
    upd(f, 0, "--param operation=manage-externally");
    assert_true(has_flag(f, "A", "manage-externally") && has_flag(f, "P", "manage-externally"));
    upd(f, 0, "--param operation=manage-externally --param enable=false");
    assert_false(has_flag(f, "A", "manage-externally") || has_flag(f, "N", "manage-externally"));
    long long id = upd(f, 0, "--param operation=notifications --param enable=true");
    assert_true(has_flag(f, "N", "notifications"));
    assert_string_equal(line_of(f, id, "A", NULL), "flag notifications: off → on");
    upd(f, 0, "--param operation=notifications --param enable=false");
    assert_false(has_flag(f, "N", "notifications"));
    /* Each of the six researcher flags on, then off; the others stay. */
    static const char *const flags[] = {"profile-access",      "active-profile",
                                        "auto-match-approval", "smart-harvesting",
                                        "skip-auto-approvals", "update-orcid"};
    for (size_t i = 0; i < 6; i++) {
        upd(f, 0, "--param operation=flag --param flag=%s", flags[i]);
        assert_true(has_flag(f, "A", flags[i]));
        assert_true(has_flag(f, "N", "update-orcid"));
        upd(f, 0, "--param operation=flag --param flag=%s --param enable=false", flags[i]);
        assert_false(has_flag(f, "A", flags[i]));
    }
    /* Turning off what is off changes nothing: every member skipped. */
    id = upd(f, 0, "--param operation=flag --param flag=update-orcid --param enable=false");
    const char *outcome;
    assert_string_equal(line_of(f, id, "N", &outcome), "nothing to change");
    assert_string_equal(outcome, "skipped");

    /* Topics and keywords: add (several, one there already in another case), delete. */
    id = upd(f, 0, "--param operation=topic-add --param 'topics=Lasers; OPTICS ;Quantum'");
    json_t *j = show(f, "A");
    json_t *t = json_object_get(j, "topics");
    assert_int_equal(json_array_size(t), 3);
    assert_string_equal(json_string_value(json_array_get(t, 0)), "Optics");
    assert_string_equal(json_string_value(json_array_get(t, 2)), "Quantum");
    json_decref(j);
    assert_string_equal(line_of(f, id, "A", NULL), "topics: Optics → Optics | Lasers | Quantum");
    upd(f, 0, "--param operation=topic-remove --param 'topics=optics;lasers'");
    j = show(f, "A");
    assert_int_equal(json_array_size(json_object_get(j, "topics")), 1);
    assert_true(has_string(json_object_get(j, "topics"), "Quantum"));
    json_decref(j);
    upd(f, 0, "--param operation=keyword-add --param keywords=metamaterials");
    j = show(f, "P");
    assert_true(has_string(json_object_get(j, "keywords"), "metamaterials"));
    json_decref(j);
    upd(f, 0, "--param operation=keyword-remove --param keywords=Photonics");
    j = show(f, "A");
    assert_int_equal(json_array_size(json_object_get(j, "keywords")), 1);
    assert_true(has_string(json_object_get(j, "keywords"), "metamaterials"));
    json_decref(j);

    /* Bad parameters: refused before a job exists. */
    RUN(f, 2, "job run update-researchers --set All --param operation=flag");
    assert_contains(f->err, "'flag'");
    RUN(f, 2, "job run update-researchers --set All --param operation=flag --param flag=flying");
    RUN(f, 2, "job run update-researchers --set All --param operation=topic-add");
    assert_contains(f->err, "topics");
    RUN(f, 2,
        "job run update-researchers --set All --param operation=topic-add --param 'topics= ; '");
    RUN(f, 2, "job run update-researchers --set All --param operation=fly");
    RUN(f, 2,
        "job run update-researchers --set All --param operation=last-harvest --param "
        "date=2024-02-30");
    assert_contains(f->err, "2024-02-30");
}

static void test_update_affiliation_and_harvest(void **state)
{
    fx *f = *state;
    seed_people(f);
    char day[11];
    today(day);
    /* Close current affiliations: non-affiliated ones only; a closed one stays, one that starts
     * after today ends the day it starts. */
    long long id = upd(f, 0, "--param operation=close-affiliations");
    json_t *j = show(f, "N");
    json_t *affs = json_object_get(j, "affiliations");
    assert_string_equal(fx_str(json_array_get(affs, 0), "end"), day);
    assert_string_equal(fx_str(json_array_get(affs, 1), "end"), "2012-12-31");
    assert_string_equal(fx_str(json_array_get(affs, 2), "end"), "2999-01-01");
    json_decref(j);
    const char *outcome;
    assert_contains(line_of(f, id, "A", &outcome), "affiliated");
    assert_string_equal(outcome, "skipped");
    j = show(f, "A");
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(j, "affiliations"), 0), "end")));
    json_decref(j);
    assert_string_equal(line_of(f, id, "P", &outcome), "nothing to change");

    /* Make non-affiliated: affiliated -> non-affiliated; the others stay. */
    id = upd(f, 0, "--param operation=make-non-affiliated");
    assert_string_equal(status_of(f, "A"), "non-affiliated");
    assert_string_equal(line_of(f, id, "A", NULL), "status: affiliated → non-affiliated");
    assert_string_equal(status_of(f, "P"), "previously-affiliated");
    assert_contains(line_of(f, id, "P", &outcome), "previously affiliated");
    assert_string_equal(outcome, "skipped");
    /* Make previously affiliated: non-affiliated ones; an affiliated one is skipped. */
    RUN(f, 0, "researcher add Z --family Zed");
    RUN(f, 0, "set add All Z");
    id = upd(f, 0, "--param operation=make-previously-affiliated");
    assert_string_equal(status_of(f, "A"), "previously-affiliated");
    assert_string_equal(status_of(f, "N"), "previously-affiliated");
    assert_string_equal(status_of(f, "Z"), "affiliated");
    assert_contains(line_of(f, id, "Z", &outcome), "make them non-affiliated first");
    assert_string_equal(outcome, "skipped");

    /* Last Smart Harvesting date: given, or today. */
    upd(f, 0, "--param operation=last-harvest --param date=2023-11-30");
    j = show(f, "P");
    assert_string_equal(fx_str(j, "last_harvest"), "2023-11-30");
    json_decref(j);
    id = upd(f, 0, "--param operation=last-harvest");
    j = show(f, "Z");
    assert_string_equal(fx_str(j, "last_harvest"), day);
    json_decref(j);
    char want[64];
    snprintf(want, sizeof want, "last_harvest: 2023-11-30 → %s", day);
    assert_string_equal(line_of(f, id, "P", NULL), want);
}

static void test_update_dry_run_and_revert(void **state)
{
    fx *f = *state;
    seed_people(f);
    long long va = version_of(f, "A"), vn = version_of(f, "N");
    RUN(f, 0,
        "job run update-researchers --set All --param operation=flag --param "
        "flag=update-orcid --dry-run");
    assert_contains(f->out, "A  flag update-orcid: off → on\n");
    assert_contains(f->out, "N  skipped: nothing to change\n");
    assert_contains(f->err, "3 members");
    assert_contains(f->err, "nothing was written");
    json_t *j =
        fx_json(f, "job run update-researchers --set All --param operation=close-affiliations "
                   "--dry-run --json");
    json_t *ch = json_object_get(j, "changes");
    assert_int_equal(json_array_size(ch), 3);
    assert_string_equal(fx_str(json_array_get(ch, 1), "handle"), "N");
    assert_string_equal(fx_str(json_array_get(ch, 1), "title"), "Noaf");
    json_t *c0 = json_array_get(json_object_get(json_array_get(ch, 1), "changes"), 0);
    assert_string_equal(fx_str(c0, "field"), "affiliation");
    assert_string_equal(fx_str(c0, "old"), PHYS " 2018-01-01..");
    assert_contains(fx_str(c0, "new"), PHYS " 2018-01-01..2");
    assert_contains(fx_str(json_array_get(ch, 0), "skip"), "affiliated");
    json_decref(j);
    /* Nothing was written, no job exists. */
    assert_int_equal(version_of(f, "A"), va);
    assert_int_equal(version_of(f, "N"), vn);
    j = fx_json(f, "job list --json");
    assert_int_equal(json_array_size(j), 0);
    json_decref(j);

    /* Revert: the researchers come back as they were; one changed since is left unless forced. */
    long long id = upd(f, 0, "--param operation=topic-add --param topics=Fusion");
    assert_int_equal(version_of(f, "A"), va + 1);
    RUN(f, 0, "set create OnlyP --type researchers --member P");
    RUN(f, 0,
        "job run update-researchers --set OnlyP --param operation=last-harvest --param "
        "date=2020-01-01 --wait");
    RUN(f, 0, "job revert %lld --dry-run", id);
    assert_contains(f->out, "A ");
    assert_contains(f->out, "conflict");
    assert_contains(f->err, "3 records, 1 changed since the job");
    fx_br(f, "job revert %lld --wait", id);
    long long rv = job_id(f);
    j = show(f, "A");
    assert_false(has_string(json_object_get(j, "topics"), "Fusion"));
    assert_true(has_string(json_object_get(j, "topics"), "Optics"));
    json_decref(j);
    j = show(f, "N");
    assert_int_equal(json_array_size(json_object_get(j, "topics")), 0);
    json_decref(j);
    const char *outcome;
    assert_string_equal(line_of(f, rv, "researcher:1", &outcome), "researcher A put back");
    assert_string_equal(outcome, "updated");
    assert_contains(line_of(f, rv, "researcher:3", &outcome),
                    "researcher P not reverted: it changed after the job");
    assert_string_equal(outcome, "skipped");
    j = show(f, "P");
    assert_true(has_string(json_object_get(j, "topics"), "Fusion"));
    assert_string_equal(fx_str(j, "last_harvest"), "2020-01-01");
    json_decref(j);
    /* With force, P is put back as it was before the job (its later change goes too). */
    fx_br(f, "job revert %lld --force --wait", id);
    j = show(f, "P");
    assert_int_equal(json_array_size(json_object_get(j, "topics")), 0);
    assert_true(json_is_null(json_object_get(j, "last_harvest")));
    json_decref(j);
    /* The revert itself can be reverted: A gets Fusion back. */
    RUN(f, 0, "job revert %lld --force --wait", rv);
    j = show(f, "A");
    assert_true(has_string(json_object_get(j, "topics"), "Fusion"));
    json_decref(j);
}

/* ---- Delete records from ORCID: a loopback ORCID member API -----------------------------------
 */

typedef struct orcid_req {
    char method[16], path[256], auth[256];
} orcid_req;

typedef struct orcid_server {
    struct MHD_Daemon *d;
    unsigned short port;
    pthread_mutex_t mu;
    int n;
    orcid_req req[64];
    int tries_103; /* put-code 103 answers 500 the first time */
} orcid_server;

static enum MHD_Result o_reply(struct MHD_Connection *c, unsigned code, const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (*body) MHD_add_response_header(r, "Content-Type", "application/vnd.orcid+json");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* DELETE /v3.0/{orcid}/work/{put-code} with "Authorization: Bearer TOKEN". */
static enum MHD_Result o_handler(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)version, (void)upload, (void)upload_size, (void)con_cls;
    orcid_server *s = cls;
    const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    pthread_mutex_lock(&s->mu);
    int k = s->n++;
    if (k < 64) {
        snprintf(s->req[k].method, sizeof s->req[k].method, "%s", method);
        snprintf(s->req[k].path, sizeof s->req[k].path, "%s", url);
        snprintf(s->req[k].auth, sizeof s->req[k].auth, "%s", a ? a : "");
    }
    pthread_mutex_unlock(&s->mu);
    if (!a || strcmp(a, "Bearer " TOKEN))
        return o_reply(c, 401,
                       "{\"error\":\"invalid_token\",\"error_description\":\"Invalid "
                       "access token\"}");
    char orcid[32];
    unsigned long put = 0;
    int n = 0;
    if (strcmp(method, "DELETE") ||
        sscanf(url, "/v3.0/%19[0-9X-]/work/%lu%n", orcid, &put, &n) != 2 || url[n] ||
        !br_orcid_check(orcid))
        return o_reply(c, 405, "{\"developer-message\":\"not a work deletion\"}");
    switch (put) {
    case 101:
    case 202:
        return o_reply(c, 204, "");
    case 102:
        return o_reply(c, 404,
                       "{\"response-code\":404,\"developer-message\":\"No entity found "
                       "with id: 102\",\"user-message\":\"The resource was not found.\"}");
    case 103:
        if (__atomic_fetch_add(&s->tries_103, 1, __ATOMIC_SEQ_CST) == 0)
            return o_reply(c, 500, "{\"developer-message\":\"Internal Server Error\"}");
        return o_reply(c, 204, "");
    case 201:
        return o_reply(c, 401,
                       "{\"error\":\"access_denied\",\"error_description\":\"The token "
                       "was revoked by the record holder\"}");
    default:
        return o_reply(c, 404, "{\"developer-message\":\"No entity found\"}");
    }
}

static orcid_server *o_start(void)
{
    orcid_server *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                            NULL, NULL, o_handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
                            MHD_OPTION_END);
    assert_non_null(s->d);
    s->port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return s;
}

static void o_stop(orcid_server *s)
{
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* How many requests the server saw for a path (method and token checked for each). */
static int o_count(orcid_server *s, const char *path)
{
    int n = 0;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->n && i < 64; i++)
        if (!strcmp(s->req[i].path, path)) {
            assert_string_equal(s->req[i].method, "DELETE");
            n++;
        }
    pthread_mutex_unlock(&s->mu);
    return n;
}

static size_t works_of(fx *f, const char *who)
{
    json_t *w = fx_json(f, "orcid works %s --json", who);
    size_t n = json_array_size(w);
    json_decref(w);
    return n;
}

static void orcid_seed(fx *f)
{
    RUN(f, 0, "researcher add R-1 --family One --orcid " ORCID1);
    RUN(f, 0, "researcher add R-2 --family Two --orcid " ORCID3);
    RUN(f, 0, "researcher add R-3 --family Three"); /* no ORCID iD */
    const char *const a1[][3] = {{"One", "R-1", NULL}};
    const char *h = asset(f, "Pushed", a1, 1);
    RUN(f, 0, "orcid record R-1 101 --asset %s --pushed 2024-05-01T10:00:00Z", h);
    RUN(f, 0, "orcid record " ORCID1 " 102");
    RUN(f, 0, "orcid record R-1 103");
    RUN(f, 0, "orcid record R-2 201");
    RUN(f, 0, "orcid record R-2 202");
    RUN(f, 3, "orcid record R-3 301");
    assert_contains(f->err, "no ORCID iD");
    RUN(f, 3, "orcid record R-1 12a");
    assert_contains(f->err, "put-code");
    RUN(f, 3, "orcid record R-1 101");
    assert_contains(f->err, "already");
    RUN(f, 3, "orcid record R-1 104 --asset 123456789/999");
    RUN(f, 0, "set create People --type researchers --member R-1 --member R-2 --member R-3");
}

static void test_delete_orcid_recorder(void **state)
{
    fx *f = *state;
    orcid_seed(f);
    RUN(f, 0, "orcid config");
    assert_contains(f->out, "no ORCID API configured");
    /* The dry run lists the works; nothing is sent or written. */
    RUN(f, 0, "job run delete-orcid --set People --dry-run");
    assert_contains(f->out, "R-1  ORCID work: put-code 101 (");
    assert_contains(f->out, "R-2  ORCID work: put-code 202 → (none)");
    assert_contains(f->out, "R-3  skipped: no ORCID iD");
    assert_false(fx_exists(f, "r/orcid/requests.log"));
    /* No API: each request recorded in orcid/requests.log, the works stay. */
    RUN(f, 0, "job run delete-orcid --set People --wait");
    long long id = job_id(f);
    const char *outcome;
    const char *m = line_of(f, id, "R-1", &outcome);
    assert_string_equal(outcome, "skipped");
    assert_contains(m, "no ORCID API is configured");
    assert_contains(m, "put-code 103: not sent");
    char *log = fx_read(f, "r/orcid/requests.log");
    assert_non_null(log);
    assert_contains(log, "DELETE /v3.0/" ORCID1 "/work/101 (not sent");
    assert_contains(log, "DELETE /v3.0/" ORCID3 "/work/202 (not sent");
    free(log);
    assert_int_equal(works_of(f, "R-1"), 3);
    /* No undo rows: nothing to revert. */
    RUN(f, 2, "job revert %lld --dry-run", id);
    assert_contains(f->err, "nothing to revert");
}

static void test_delete_orcid_api(void **state)
{
    fx *f = *state;
    orcid_seed(f);
    orcid_server *s = o_start();
    char api[64], allow[64];
    snprintf(api, sizeof api, "http://127.0.0.1:%u", s->port);
    snprintf(allow, sizeof allow, "127.0.0.1:%u", s->port);
    fx_write(f, "token.txt", TOKEN "\n");
    RUN(f, 2, "orcid config --api %s", api); /* no token yet */
    RUN(f, 3, "orcid config --api ftp://x --token-file token.txt");
    RUN(f, 0, "orcid config --api %s/ --token-file token.txt", api);
    json_t *c = fx_json(f, "orcid config --json");
    assert_true(json_is_true(json_object_get(c, "token")));
    json_decref(c);
    /* The token is stored sealed, never in clear. */
    char sealed[2048];
    tu_db_text(f->repo, "SELECT value FROM meta WHERE key = 'orcid.token'", sealed, sizeof sealed);
    assert_true(!strncmp(sealed, "sb1:", 4));
    assert_null(strstr(sealed, TOKEN));

    /* Loopback is refused unless fetch-allow.txt lists it: every work failed, none sent. */
    RUN(f, 1, "job run delete-orcid --set People --wait");
    const char *outcome;
    assert_contains(line_of(f, job_id(f), "R-1", &outcome), "not allowed");
    assert_string_equal(outcome, "failed");
    assert_int_equal(s->n, 0);
    assert_int_equal(works_of(f, "R-1"), 3);

    /* Allowed: 204 deleted, 404 already gone, 500 then 204; 401 failed (the work stays). */
    fx_write(f, "r/fetch-allow.txt", allow);
    RUN(f, 1, "job run delete-orcid --set People --wait");
    long long id = job_id(f);
    const char *m = line_of(f, id, "R-1", &outcome);
    assert_string_equal(outcome, "deleted");
    assert_contains(m, "put-code 101 (");
    assert_contains(m, "): deleted from ORCID (204)");
    assert_contains(m, "put-code 102: already gone from ORCID (404)");
    assert_contains(m, "put-code 103: deleted from ORCID (204; the try before: 500)");
    m = line_of(f, id, "R-2", &outcome);
    assert_string_equal(outcome, "failed");
    assert_contains(m, "1 of 2 ORCID works not deleted");
    assert_contains(m, "put-code 201: ORCID refused the access token (401");
    assert_contains(m, "put-code 202: deleted from ORCID (204)");
    assert_string_equal(line_of(f, id, "R-3", &outcome), "no ORCID iD");
    assert_string_equal(outcome, "skipped");
    json_t *j = fx_job(f, id);
    assert_string_equal(fx_status_code(j), "COMPLETED_WITH_ERRORS");
    json_decref(j);
    /* What the server saw: DELETE on each work's path with the bearer token. */
    assert_int_equal(o_count(s, "/v3.0/" ORCID1 "/work/101"), 1);
    assert_int_equal(o_count(s, "/v3.0/" ORCID1 "/work/102"), 1);
    assert_int_equal(o_count(s, "/v3.0/" ORCID1 "/work/103"), 2);
    assert_int_equal(o_count(s, "/v3.0/" ORCID3 "/work/201"), 1);
    assert_int_equal(o_count(s, "/v3.0/" ORCID3 "/work/202"), 1);
    for (int i = 0; i < s->n; i++)
        assert_string_equal(s->req[i].auth, "Bearer " TOKEN);
    /* The works ORCID no longer has are forgotten; the failed one stays for the next run. */
    assert_int_equal(works_of(f, "R-1"), 0);
    json_t *w = fx_json(f, "orcid works R-2 --json");
    assert_int_equal(json_array_size(w), 1);
    assert_string_equal(fx_str(json_array_get(w, 0), "put_code"), "201");
    json_decref(w);
    RUN(f, 0, "researcher show R-2");
    assert_contains(f->out, "201");

    /* A wrong token: ORCID answers 401 for every work. */
    fx_write(f, "bad.txt", "not-the-token");
    RUN(f, 0, "orcid config --api %s --token-file bad.txt", api);
    RUN(f, 1, "job run delete-orcid --set People --wait");
    id = job_id(f);
    m = line_of(f, id, "R-2", &outcome);
    assert_string_equal(outcome, "failed");
    assert_contains(m, "invalid_token");
    assert_string_equal(line_of(f, id, "R-1", &outcome),
                        "no work bulkrepo pushed to ORCID is recorded");
    RUN(f, 0, "orcid config --clear");
    RUN(f, 0, "orcid config");
    assert_contains(f->out, "no ORCID API configured");
    o_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orcid_and_checks),
        FX_TEST(test_cli_add_list_show),
        FX_TEST(test_cli_import),
        FX_TEST(test_researcher_sets),
        FX_TEST(test_update_flags_and_terms),
        FX_TEST(test_update_affiliation_and_harvest),
        FX_TEST(test_update_dry_run_and_revert),
        FX_TEST(test_delete_orcid_recorder),
        FX_TEST(test_delete_orcid_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
