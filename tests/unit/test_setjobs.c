/* Jobs on sets, revert and the trash (issue 10; seed 001's Update Set and Delete Set of
 * Research Assets), run as users run them: `bulkrepo job run TYPE --set NAME --param ...`,
 * `job revert`, `item restore`, `trash list|purge` (cli_fixture.h), and the REST API
 * (`bulkrepo serve` as a child process, libcurl).  The records come from Esploro CSV
 * imports; what an import cannot give (a contributor, a relation, a reserved or registered
 * DOI) is written through the library as a script would.  Every update operation is checked
 * on the record before and after it. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include "cli_fixture.h"
#include "repo_fixture.h"
#include "serve_fixture.h"

#define U1    "P___U1"
#define U2    "P___U2"
#define U3    "P___U3"
#define ORCID "0000-0002-1825-0097"
#define PAPER "%PDF-1.4 the paper\n"

/* 0 Rowtype, 1 group, 2 title, 3 type, 4 unit, 5 date, 6 keywords, 7 access, 8 licence,
 * 9 DOI, 10 family, 11 given, 12 ORCID, 13 creator's unit, 14 link, 15 link title, 16 file,
 * 17 file name. */
#define HEADER                                                                                     \
    ",group_id,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,ASSET_KEYWORDS,"      \
    "ASSET_ACCESSRIGHT,ASSET_LICENSECODE,ASSET_DOI,CREATOR_FAMNAME,CREATOR_GIVNAME,CREATOR_ORCID," \
    "CREATOR_AFFILIATION,LINK_LINKURL,LINK_LINKTITLE,FILE_FILEURL,FILE_DISPLAY_NAME\n"
#define SEED_CSV                                                                                   \
    HEADER "ASSET,0,First,publication.journalArticle," U1                                          \
           ",2021,fish@@birds,open,CC-BY,10.1234/first,,,,,,,,\n"                                  \
           "CREATOR,0,,,,,,,,,Smith,Jane," ORCID "," U1 ",,,,\n"                                   \
           "CREATOR,0,,,,,,,,,Doe,John,,,,,,\n"                                                    \
           "LINK,0,,,,,,,,,,,,,https://example.org/a,Project page,,\n"                             \
           "FILE,0,,,,,,,,,,,,,,,files/paper.pdf,Paper\n"                                          \
           "ASSET,1,Second,publication.book," U2 ",2022,fish,closed,,,,,,,,,,\n"                   \
           "CREATOR,1,,,,,,,,,Roe,Ann,," U2 ",,,,\n"                                               \
           "ASSET,2,Third,dataset.dataset," U1 ",2023,,,,,,,,,,,,\n"                               \
           "CREATOR,2,,,,,,,,,Poe,Ed,,,,,,\n"

typedef struct seeded {
    char h[3][64];
} seeded;

static void units(fx *f)
{
    RUN(f, 0, "orgunit add " U1 " Library");
    RUN(f, 0, "orgunit add " U2 " Physics");
    RUN(f, 0, "orgunit add " U3 " Chemistry");
}

/* Three assets (First, Second, Third) in set S. */
static void seed(fx *f, seeded *s)
{
    units(f);
    fx_write(f, "in/files/paper.pdf", PAPER);
    fx_write(f, "in/a.csv", SEED_CSV);
    RUN(f, 0, "import --format esploro-csv -s in/a.csv -m a.map");
    for (int i = 0; i < 3; i++) {
        char g[16];
        snprintf(g, sizeof g, "%d", i);
        const char *h = fx_map_handle(f, "a.map", g);
        assert_non_null(h);
        snprintf(s->h[i], sizeof s->h[i], "%s", h);
    }
    RUN(f, 0, "set create S --member %s --member %s --member %s", s->h[0], s->h[1], s->h[2]);
}

/* An item's JSON without the modification time a write moves, and the row's id and creation
 * time (an asset restored from the trash is a new row, made now, with its old UUID, handle,
 * metadata, files and collections). */
static json_t *content(fx *f, const char *h)
{
    json_t *it = fx_show(f, h);
    json_object_del(it, "lastModified");
    json_object_del(it, "id");
    json_object_del(it, "created");
    return it;
}

static int by_item(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "item")),
                  json_string_value(json_object_get(*(json_t *const *)b, "item")));
}

/* An item's "relationships" sorted by the other item. */
static void relations_sorted(json_t *it)
{
    json_t *rels = json_object_get(it, "relationships");
    size_t n = json_array_size(rels);
    json_t **v = calloc(n + 1, sizeof *v), *sorted = json_array();
    for (size_t i = 0; i < n; i++)
        v[i] = json_array_get(rels, i);
    qsort(v, n, sizeof *v, by_item);
    for (size_t i = 0; i < n; i++)
        json_array_append(sorted, v[i]);
    free(v);
    json_object_set_new(it, "relationships", sorted);
}

/* The creator or contributor with this family name in `item show --json`. */
static json_t *creator(json_t *it, const char *family)
{
    json_t *k;
    size_t i;
    json_array_foreach(json_object_get(it, "creators"), i, k)
    {
        if (fx_str(k, "family") && !strcmp(fx_str(k, "family"), family)) return k;
    }
    return NULL;
}

static void assert_same(json_t *a, json_t *b)
{
    if (json_equal(a, b)) return;
    char *x = json_dumps(a, JSON_SORT_KEYS | JSON_INDENT(1)),
         *y = json_dumps(b, JSON_SORT_KEYS | JSON_INDENT(1));
    tu_write("/tmp", "hj_a.json", x);
    tu_write("/tmp", "hj_b.json", y);
    fail_msg("records differ:\n%s\n%s", x, y);
}

/* The values of a field of `item show --json`, joined with " | " (static buffer; "" none). */
static const char *vals(json_t *it, const char *field)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    buf[k][0] = 0;
    for (size_t i = 0; i < md_n(it, field); i++) {
        size_t n = strlen(buf[k]);
        snprintf(buf[k] + n, sizeof buf[k] - n, "%s%s", i ? " | " : "", md(it, field, i));
    }
    return buf[k];
}

static const char *field_of(fx *f, const char *h, const char *field)
{
    json_t *it = fx_show(f, h);
    const char *v = vals(it, field);
    json_decref(it);
    return v;
}

/* `job run TYPE --set SET ARGS --wait` with its exit status; the job's id. */
static long long run_job(fx *f, int want, const char *type, const char *set, const char *args)
{
    RUN(f, want, "job run %s --set '%s' %s --wait", type, set, args);
    long long id = atoll(f->out);
    assert_true(id > 0);
    return id;
}

#define UPDATE(f, args) run_job((f), 0, "update-set", "S", (args))

/* The journal line of the record with this handle in `job show --json --records all`. */
static const char *message_of(fx *f, long long job, const char *handle, const char **outcome)
{
    static char msg[1024];
    RUN(f, 0, "job show %lld --json --records all", job);
    json_t *j = fx_parse(f, "job show");
    json_t *recs = json_object_get(j, "records"), *r;
    size_t i;
    msg[0] = 0;
    int found = 0;
    json_array_foreach(recs, i, r)
    {
        if (!fx_str(r, "handle") || strcmp(fx_str(r, "handle"), handle)) continue;
        found = 1;
        snprintf(msg, sizeof msg, "%s", fx_str(r, "message") ? fx_str(r, "message") : "");
        static char oc[32];
        snprintf(oc, sizeof oc, "%s", fx_str(r, "outcome"));
        if (outcome) *outcome = oc;
    }
    json_decref(j);
    if (!found) fail_msg("job %lld has no record %s", job, handle);
    return msg;
}

/* ---- the library, for what an import does not write ------------------------------------- */

typedef void (*edit_fn)(br_record *r, const void *ctx);

static void lib_edit(fx *f, const char *h, edit_fn edit, const void *ctx)
{
    br_repo *repo;
    br_error err;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    int64_t id;
    br_record *rec = br_record_new();
    assert_non_null(rec);
    assert_br_ok(br_item_find(repo, h, &id, &err), &err);
    assert_br_ok(br_item_load(repo, id, rec, &err), &err);
    edit(rec, ctx);
    br_item_write w = {0};
    assert_br_ok(br_repo_begin(repo, &err), &err);
    assert_br_ok(br_item_update(repo, rec, &w, &err), &err);
    assert_br_ok(br_repo_commit(repo, &err), &err);
    br_record_free(rec);
    br_repo_free(repo);
}

static void add_contributor(br_record *r, const void *ctx)
{
    br_creator *k = br_record_add_creator(r, BR_CONTRIBUTOR);
    assert_non_null(k);
    k->family = br_record_str(r, "Editor");
    k->given = br_record_str(r, "Ed");
    k->affiliation = br_record_str(r, ctx);
    k->contrib_type = br_record_str(r, "editor");
}

static void add_doi(br_record *r, const void *type)
{
    assert_non_null(br_record_add_identifier(r, type, "10.5555/repo-doi"));
}

static void relate(fx *f, const char *a, const char *b)
{
    br_repo *repo;
    br_error err;
    int64_t x, y;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    assert_br_ok(br_item_find(repo, a, &x, &err), &err);
    assert_br_ok(br_item_find(repo, b, &y, &err), &err);
    assert_br_ok(br_relation_insert(repo, "isSupplementTo", x, y, &err), &err);
    br_repo_free(repo);
}

/* The stored file's bytes for a sha256 (malloc'd) or NULL. */
static char *stored_file(fx *f, const char *sha256)
{
    br_repo *repo;
    br_error err;
    char path[4200];
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    assert_int_equal(br_asset_path(repo, sha256, path, sizeof path), 0);
    br_repo_free(repo);
    return tu_read(path);
}

/* ---- Update Set: every operation, before and after ------------------------------------- */

static void test_creator_affiliation_and_profile_display(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    lib_edit(f, s.h[0], add_contributor, U1);
    /* Creators only: Smith (U1) moves to U3, the contributor keeps U1; Roe (U2) and Poe (no
     * unit) are left with the reason. */
    long long job = UPDATE(f, "--param operation=creator-affiliation-replace --param from=" U1
                              " --param to=" U3 " --param role=creators");
    json_t *it = fx_show(f, s.h[0]);
    assert_int_equal(json_array_size(json_object_get(it, "creators")), 3);
    assert_string_equal(fx_str(creator(it, "Smith"), "affiliation"), U3);
    assert_null(fx_str(creator(it, "Doe"), "affiliation"));
    assert_string_equal(fx_str(creator(it, "Editor"), "role"), "contributor");
    assert_string_equal(fx_str(creator(it, "Editor"), "affiliation"), U1);
    json_decref(it);
    const char *outcome = NULL;
    assert_contains(message_of(f, job, s.h[1], &outcome), "no creator or contributor has that");
    assert_string_equal(outcome, "skipped");
    it = fx_show(f, s.h[1]);
    assert_string_equal(fx_str(json_array_get(json_object_get(it, "creators"), 0), "affiliation"),
                        U2);
    json_decref(it);
    /* Contributors only. */
    UPDATE(f, "--param operation=creator-affiliation-replace --param from=" U1 " --param to=" U2
              " --param role=contributors");
    it = fx_show(f, s.h[0]);
    assert_string_equal(fx_str(creator(it, "Smith"), "affiliation"), U3);
    assert_string_equal(fx_str(creator(it, "Editor"), "affiliation"), U2);
    json_decref(it);
    /* The new unit must be an organisational unit. */
    RUN(f, 2,
        "job run update-set --set S --param operation=creator-affiliation-replace --param from=" U1
        " --param to=P___NOPE");
    assert_contains(f->err, "to: ");
    assert_contains(f->err, "not an organisational unit code");

    /* Profile display: hidden in Smith's profile, then shown again. */
    job = UPDATE(f, "--param operation=profile-display --param researcher=" ORCID
                    " --param display=hide");
    assert_string_equal(field_of(f, s.h[0], "esploro.asset.hiddenprofile"), ORCID);
    assert_string_equal(field_of(f, s.h[1], "esploro.asset.hiddenprofile"), "");
    assert_contains(message_of(f, job, s.h[1], NULL), "not a creator or contributor");
    UPDATE(f,
           "--param operation=profile-display --param researcher=" ORCID " --param display=show");
    assert_string_equal(field_of(f, s.h[0], "esploro.asset.hiddenprofile"), "");
    /* The researcher is required. */
    RUN(f, 2, "job run update-set --set S --param operation=profile-display");
    assert_contains(f->err, "needs the parameter 'researcher'");
}

static void test_units_access_and_licence(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    UPDATE(f, "--param operation=unit-add --param to=" U3);
    assert_string_equal(field_of(f, s.h[0], "esploro.asset.affiliation"), U1 " | " U3);
    assert_string_equal(field_of(f, s.h[1], "esploro.asset.affiliation"), U2 " | " U3);
    /* Replaced in place; a unit the asset lists already is not listed twice. */
    UPDATE(f, "--param operation=unit-replace --param from=" U3 " --param to=" U2);
    assert_string_equal(field_of(f, s.h[0], "esploro.asset.affiliation"), U1 " | " U2);
    assert_string_equal(field_of(f, s.h[1], "esploro.asset.affiliation"), U2);
    assert_string_equal(field_of(f, s.h[2], "esploro.asset.affiliation"), U1 " | " U2);
    UPDATE(f, "--param operation=unit-remove --param from=" U2);
    assert_string_equal(field_of(f, s.h[0], "esploro.asset.affiliation"), U1);
    assert_string_equal(field_of(f, s.h[1], "esploro.asset.affiliation"), "");
    RUN(f, 2, "job run update-set --set S --param operation=unit-add --param to=P___NOPE");
    assert_contains(f->err, "not an organisational unit code");

    UPDATE(f, "--param operation=access-replace --param to=embargoed");
    for (int i = 0; i < 3; i++)
        assert_string_equal(field_of(f, s.h[i], "esploro.asset.accessright"), "embargoed");
    UPDATE(f, "--param operation=access-remove");
    for (int i = 0; i < 3; i++)
        assert_string_equal(field_of(f, s.h[i], "esploro.asset.accessright"), "");

    long long job = UPDATE(f, "--param operation=license-replace --param to=CC0");
    for (int i = 0; i < 3; i++)
        assert_string_equal(field_of(f, s.h[i], "dc.rights.license"), "CC0");
    json_t *j = fx_job(f, job);
    assert_int_equal(fx_counter(j, "updated"), 3);
    json_decref(j);
    job = UPDATE(f, "--param operation=license-remove");
    for (int i = 0; i < 3; i++)
        assert_string_equal(field_of(f, s.h[i], "dc.rights.license"), "");
    /* Nothing left to remove: every record is left as it is, with the reason. */
    job = UPDATE(f, "--param operation=license-remove");
    j = fx_job(f, job);
    assert_int_equal(fx_counter(j, "updated"), 0);
    assert_int_equal(fx_counter(j, "skipped"), 3);
    json_decref(j);
    assert_contains(message_of(f, job, s.h[0], NULL), "nothing to change");
}

static void test_type_and_visibility(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    UPDATE(f, "--param operation=type-replace --param from=publication.journalArticle "
              "--param to=publication.book");
    assert_string_equal(field_of(f, s.h[0], "dc.type"), "publication.book");
    assert_string_equal(field_of(f, s.h[1], "dc.type"), "publication.book");
    assert_string_equal(field_of(f, s.h[2], "dc.type"), "dataset.dataset");
    /* Codes match in any case and are written in the table's. */
    UPDATE(
        f,
        "--param operation=type-replace --param from=PUBLICATION.BOOK --param to=Dataset.DATASET");
    for (int i = 0; i < 3; i++)
        assert_string_equal(field_of(f, s.h[i], "dc.type"), "dataset.dataset");
    /* Not an asset type: usage error with a suggestion, nothing written. */
    char *before = fx_item_list_text(f);
    RUN(f, 2,
        "job run update-set --set S --param operation=type-replace --param from=dataset.dataset "
        "--param to=publication.jornalArticle --wait");
    assert_contains(f->err, "'publication.jornalArticle' is not an Esploro asset type");
    assert_contains(f->err, "did you mean 'publication.journalArticle'");
    char *after = fx_item_list_text(f);
    assert_string_equal(before, after);
    free(before);
    free(after);

    UPDATE(f, "--param operation=visibility --param portal=hidden");
    for (int i = 0; i < 3; i++) {
        assert_string_equal(field_of(f, s.h[i], "esploro.asset.portalvisibility"), "false");
        assert_string_equal(field_of(f, s.h[i], "esploro.asset.profilevisibility"), "");
    }
    UPDATE(f, "--param operation=visibility --param portal=visible --param profile=visible");
    assert_string_equal(field_of(f, s.h[1], "esploro.asset.portalvisibility"), "true");
    assert_string_equal(field_of(f, s.h[1], "esploro.asset.profilevisibility"), "true");
    RUN(f, 2, "job run update-set --set S --param operation=visibility");
    assert_contains(f->err, "'portal' or 'profile'");
    RUN(f, 2, "job run update-set --set S --param operation=visibility --param portal=shown");
    assert_contains(f->err, "portal: parameter 'portal': 'shown' is not one of");
}

static void test_nonaffiliated_authors_and_links(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    long long job = UPDATE(f, "--param operation=remove-nonaffiliated");
    json_t *it = fx_show(f, s.h[0]);
    json_t *cr = json_object_get(it, "creators");
    assert_int_equal(json_array_size(cr), 1);
    assert_string_equal(fx_str(json_array_get(cr, 0), "family"), "Smith");
    assert_string_equal(vals(it, "dc.contributor.author"), "Smith, Jane");
    json_decref(it);
    it = fx_show(f, s.h[2]);
    assert_int_equal(json_array_size(json_object_get(it, "creators")), 0);
    assert_string_equal(vals(it, "dc.contributor.author"), "");
    json_decref(it);
    assert_contains(message_of(f, job, s.h[1], NULL), "nothing to change");
    it = fx_show(f, s.h[1]);
    assert_int_equal(json_array_size(json_object_get(it, "creators")), 1);
    json_decref(it);

    it = fx_show(f, s.h[0]);
    assert_int_equal(json_array_size(json_object_get(it, "links")), 1);
    json_decref(it);
    UPDATE(f, "--param operation=remove-links");
    it = fx_show(f, s.h[0]);
    assert_int_equal(json_array_size(json_object_get(it, "links")), 0);
    /* The rest of the record is untouched. */
    assert_non_null(fx_bitstream(it, "Paper"));
    assert_string_equal(vals(it, "dc.title"), "First");
    json_decref(it);
}

static void test_generic_fields(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    UPDATE(f, "--param operation=field-add --param field=dc.subject --param value=salmon");
    assert_string_equal(field_of(f, s.h[0], "dc.subject"), "fish | birds | salmon");
    assert_string_equal(field_of(f, s.h[2], "dc.subject"), "salmon");
    /* Literal replace: the whole value. */
    UPDATE(f, "--param operation=field-replace --param field=dc.subject --param from=fish "
              "--param to=Fish");
    assert_string_equal(field_of(f, s.h[0], "dc.subject"), "Fish | birds | salmon");
    assert_string_equal(field_of(f, s.h[1], "dc.subject"), "Fish | salmon");
    /* A regular expression: every match replaced. */
    long long job =
        UPDATE(f, "--param operation=field-replace --param field=dc.title "
                  "--param 'from=^(First|Second)$' --param to=Renamed --param regex=true");
    assert_string_equal(field_of(f, s.h[0], "dc.title"), "Renamed");
    assert_string_equal(field_of(f, s.h[1], "dc.title"), "Renamed");
    assert_string_equal(field_of(f, s.h[2], "dc.title"), "Third");
    assert_contains(message_of(f, job, s.h[2], NULL), "nothing to change");
    UPDATE(f, "--param operation=field-replace --param field=dc.subject --param 'from=[aeiou]' "
              "--param to=_ --param regex=true");
    assert_string_equal(field_of(f, s.h[0], "dc.subject"), "F_sh | b_rds | s_lm_n");
    /* Remove one value, then every value of the field. */
    UPDATE(f, "--param operation=field-remove --param field=dc.subject --param value=b_rds");
    assert_string_equal(field_of(f, s.h[0], "dc.subject"), "F_sh | s_lm_n");
    UPDATE(f, "--param operation=field-remove --param field=dc.subject");
    for (int i = 0; i < 3; i++)
        assert_string_equal(field_of(f, s.h[i], "dc.subject"), "");
}

static void test_bad_parameters(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    char *before = fx_item_list_text(f);
    /* A regular expression that does not compile, and one with a back-reference. */
    RUN(f, 2,
        "job run update-set --set S --param operation=field-replace --param field=dc.title "
        "--param 'from=(First' --param to=x --param regex=true");
    assert_contains(f->err, "from: ");
    assert_contains(f->err, "does not compile");
    RUN(f, 2,
        "job run update-set --set S --param operation=field-replace --param field=dc.title "
        "--param 'from=(F)\\1' --param to=x --param regex=true");
    assert_contains(f->err, "back-references");
    RUN(f, 2,
        "job run update-set --set S --param operation=field-add --param field=dc.title "
        "--param value=x --param regex=true");
    assert_contains(f->err, "regex: parameter 'regex' of update-set applies only when operation "
                            "is one of field-replace (operation is field-add)");
    /* Any parameter the operation would not read is refused the same way, not ignored. */
    RUN(f, 2,
        "job run update-set --set S --param operation=field-add --param field=dc.title "
        "--param value=x --param from=y");
    assert_contains(f->err, "parameter 'from' of update-set applies only when operation");
    /* An unknown parameter, a bad enum value, a field not in the registry, a missing one. */
    RUN(f, 2, "job run update-set --set S --param operation=field-add --param colour=red");
    assert_contains(f->err, "colour: update-set takes no parameter 'colour'");
    RUN(f, 2, "job run update-set --set S --param operation=field-ad");
    assert_contains(f->err, "operation: parameter 'operation': 'field-ad' is not one of");
    RUN(f, 2,
        "job run update-set --set S --param operation=creator-affiliation-replace --param from=" U1
        " --param to=" U2 " --param role=editors");
    assert_contains(f->err, "'editors' is not one of both,creators,contributors");
    RUN(f, 2,
        "job run update-set --set S --param operation=field-add --param field=dc.nosuch "
        "--param value=x");
    assert_contains(f->err, "'dc.nosuch' is not a field of the registry");
    RUN(f, 2, "job run update-set --set S --param operation=field-add --param value=x");
    assert_contains(f->err, "needs the parameter 'field'");
    RUN(f, 2, "job run update-set --set S");
    assert_contains(f->err, "update-set needs the parameter 'operation'");
    RUN(f, 2, "job run delete-set --set S --param keep_days=0");
    assert_contains(f->err, "keep_days: parameter 'keep_days': 0 is outside 1..3650");
    RUN(f, 2, "job run delete-set --set S --param skip_related=maybe");
    assert_contains(f->err, "'maybe' is not true or false");
    /* The command line itself. */
    RUN(f, 2, "job run update-set --param operation=remove-links");
    assert_contains(f->err, "--set NAME");
    RUN(f, 2, "job run update-set --set S --param operation");
    assert_contains(f->err, "NAME=VALUE");
    RUN(f, 2, "job run update-set --set S --param operation=remove-links --param operation=x");
    assert_contains(f->err, "given twice");
    RUN(f, 2, "job run import-saf --set S");
    assert_contains(f->err, "does not run on a set");
    RUN(f, 2, "job run no-such-job --set S");
    assert_contains(f->err, "not a job type");
    /* An unknown set is the input's error (exit 3, as `item show` of an unknown handle); a set
     * of users is not one of assets. */
    RUN(f, 3, "job run update-set --set Nope --param operation=remove-links");
    assert_contains(f->err, "no set named 'Nope'");
    RUN(f, 0, "researcher add r1 --family One");
    RUN(f, 0, "set create People --type researchers --member r1");
    RUN(f, 2, "job run update-set --set People --param operation=remove-links");
    assert_contains(f->err, "runs on a set of assets; set 'People' holds researchers");
    /* Nothing was queued or written. */
    json_t *jobs = fx_json(f, "job list --json");
    assert_int_equal(json_array_size(jobs), 1); /* the seed's import */
    json_decref(jobs);
    char *after = fx_item_list_text(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
    /* --help in the product's words. */
    RUN(f, 0, "job run --help");
    assert_contains(f->out, "--dry-run");
    assert_contains(f->out, "revert");
}

static void test_job_types(void **state)
{
    fx *f = *state;
    json_t *a = fx_json(f, "job types --json"), *t, *upd = NULL, *del = NULL;
    size_t i;
    json_array_foreach(a, i, t)
    {
        if (!strcmp(fx_str(t, "type"), "update-set")) upd = t;
        if (!strcmp(fx_str(t, "type"), "delete-set")) del = t;
    }
    assert_non_null(upd);
    assert_non_null(del);
    assert_string_equal(fx_str(upd, "content"), "assets");
    assert_contains(fx_str(upd, "description"), "academic unit");
    json_t *op = json_array_get(json_object_get(upd, "params"), 0);
    assert_string_equal(fx_str(op, "name"), "operation");
    assert_string_equal(fx_str(op, "kind"), "enum");
    assert_true(json_is_true(json_object_get(op, "required")));
    assert_int_equal(json_array_size(json_object_get(op, "values")), 16);
    json_t *keep = NULL;
    json_array_foreach(json_object_get(del, "params"), i, t)
    {
        if (!strcmp(fx_str(t, "name"), "keep_days")) keep = t;
    }
    assert_non_null(keep);
    assert_int_equal(json_integer_value(json_object_get(keep, "default")), 30);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(keep, "values"), "max")),
                     3650);
    json_decref(a);
    RUN(f, 0, "job types");
    assert_contains(f->out, "update-set\n");
    assert_contains(f->out, "runs on a set of assets");
    assert_contains(f->out, "keep_days");
}

/* ---- dry run ------------------------------------------------------------------------------ */

static void test_dry_run_writes_nothing(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    char *before = fx_item_list_text(f);
    json_t *first = fx_show(f, s.h[0]); /* with its modification time */
    RUN(f, 0,
        "job run update-set --set S --param operation=license-replace --param to=CC0 "
        "--dry-run");
    char want[256];
    snprintf(want, sizeof want, "%s  dc.rights.license: CC-BY → CC0\n", s.h[0]);
    assert_contains(f->out, want);
    snprintf(want, sizeof want, "%s  dc.rights.license: (none) → CC0\n", s.h[1]);
    assert_contains(f->out, want);
    assert_contains(f->err, "3 members");
    assert_contains(f->err, "nothing was written");
    RUN(f, 0, "job run update-set --set S --param operation=access-remove --dry-run");
    snprintf(want, sizeof want, "%s  skipped: nothing to change\n", s.h[2]);
    assert_contains(f->out, want);
    snprintf(want, sizeof want, "%s  esploro.asset.accessright: open → (none)\n", s.h[0]);
    assert_contains(f->out, want);
    /* JSON, and the first N members only. */
    json_t *j = fx_json(f, "job run update-set --set S --param operation=remove-nonaffiliated "
                           "--dry-run --json");
    assert_int_equal(json_integer_value(json_object_get(j, "members")), 3);
    assert_false(json_is_true(json_object_get(j, "truncated")));
    json_t *c0 = json_array_get(json_object_get(j, "changes"), 0);
    assert_string_equal(fx_str(c0, "handle"), s.h[0]);
    assert_string_equal(fx_str(c0, "title"), "First");
    assert_true(json_is_null(json_object_get(c0, "skip")));
    json_t *ch = json_object_get(c0, "changes"), *x;
    size_t i;
    int creators = 0, authors = 0;
    json_array_foreach(ch, i, x)
    {
        if (!strcmp(fx_str(x, "field"), "creators")) {
            creators = 1;
            assert_contains(fx_str(x, "old"), "Doe, John");
            assert_not_contains(fx_str(x, "new"), "Doe, John");
        }
        if (!strcmp(fx_str(x, "field"), "dc.contributor.author")) {
            authors = 1;
            assert_string_equal(fx_str(x, "old"), "Smith, Jane | Doe, John");
            assert_string_equal(fx_str(x, "new"), "Smith, Jane");
        }
    }
    assert_true(creators && authors);
    assert_string_equal(fx_str(json_array_get(json_object_get(j, "changes"), 1), "skip"),
                        "nothing to change");
    json_decref(j);
    RUN(f, 0, "job run delete-set --set S --dry-run --param skip_with_file=true");
    snprintf(want, sizeof want, "%s  skipped: it includes a file\n%s  record: deleted\n", s.h[0],
             s.h[1]);
    assert_contains(f->out, want);
    j = fx_json(f, "job run delete-set --set S --dry-run --limit 1 --json");
    assert_int_equal(json_array_size(json_object_get(j, "changes")), 1);
    assert_true(json_is_true(json_object_get(j, "truncated")));
    json_decref(j);
    RUN(f, 2, "job run update-set --set S --param operation=remove-links --limit 2");
    /* Nothing changed, not even a modification time, and no job was queued. */
    char *after = fx_item_list_text(f);
    assert_string_equal(before, after);
    json_t *again = fx_show(f, s.h[0]);
    assert_same(first, again);
    json_t *jobs = fx_json(f, "job list --json");
    assert_int_equal(json_array_size(jobs), 1);
    json_decref(jobs);
    free(before);
    free(after);
    json_decref(first);
    json_decref(again);
}

/* ---- Delete Set, the trash ------------------------------------------------------------------ */

#define DEL_CSV                                                                                    \
    HEADER "ASSET,0,With file,dataset.dataset," U1 ",2021,,,,,,,,,,,,\n"                           \
           "FILE,0,,,,,,,,,,,,,,,files/paper.pdf,Paper\n"                                          \
           "ASSET,1,Related A,dataset.dataset," U1 ",2021,,,,,,,,,,,,\n"                           \
           "ASSET,2,Related B,dataset.dataset," U1 ",2021,,,,,,,,,,,,\n"                           \
           "ASSET,3,Reserved DOI,dataset.dataset," U1 ",2021,,,,,,,,,,,,\n"                        \
           "ASSET,4,Registered DOI,dataset.dataset," U1 ",2021,,,,,,,,,,,,\n"                      \
           "ASSET,5,Plain,dataset.dataset," U1 ",2021,,,,10.1234/publisher,,,,,,,,\n"

static void test_delete_guards_trash_restore_purge(void **state)
{
    fx *f = *state;
    units(f);
    fx_write(f, "in/files/paper.pdf", PAPER);
    fx_write(f, "in/d.csv", DEL_CSV);
    RUN(f, 0, "import --format esploro-csv -s in/d.csv -m d.map");
    char h[6][64];
    for (int i = 0; i < 6; i++) {
        char g[16];
        snprintf(g, sizeof g, "%d", i);
        snprintf(h[i], sizeof h[i], "%s", fx_map_handle(f, "d.map", g));
    }
    relate(f, h[1], h[2]);
    lib_edit(f, h[3], add_doi, "doi-reserved");
    lib_edit(f, h[4], add_doi, "doi-registered");
    json_t *with_file = content(f, h[0]);
    RUN(f, 0,
        "set create D --member %s --member %s --member %s --member %s --member %s --member %s",
        h[0], h[1], h[2], h[3], h[4], h[5]);
    RUN(f, 0, "set create Rel --query 'title:Related'");
    json_t *q = fx_json(f, "set show Rel --json");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(q, "set"), "members")), 2);
    json_decref(q);

    /* Every guard on: only the plain asset goes (its publisher's DOI guards nothing). */
    long long job = run_job(f, 0, "delete-set", "D",
                            "--param skip_related=true --param skip_with_file=true "
                            "--param skip_reserved_doi=true");
    const char *outcome;
    assert_contains(message_of(f, job, h[0], &outcome), "it includes a file");
    assert_string_equal(outcome, "skipped");
    assert_contains(message_of(f, job, h[1], NULL), "it is related to other assets");
    assert_contains(message_of(f, job, h[2], NULL), "it is related to other assets");
    assert_contains(message_of(f, job, h[3], NULL), "it includes a reserved DOI");
    assert_contains(message_of(f, job, h[4], NULL), "registered DOI");
    message_of(f, job, h[5], &outcome);
    assert_string_equal(outcome, "deleted");
    assert_int_equal(fx_item_count(f), 5);

    /* No guards, one day in the trash: all but the registered DOI go. */
    RUN(f, 0, "set create D2 --member %s --member %s --member %s --member %s --member %s", h[0],
        h[1], h[2], h[3], h[4]);
    job = run_job(f, 0, "delete-set", "D2", "--param keep_days=1");
    assert_contains(message_of(f, job, h[4], &outcome),
                    "an asset with a registered DOI is never deleted");
    assert_string_equal(outcome, "skipped");
    assert_int_equal(fx_item_count(f), 1);
    RUN(f, 3, "item show %s", h[0]);
    /* Gone from the listing and from search; in the trash with their job and time. */
    q = fx_json(f, "set show Rel --json");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(q, "set"), "members")), 0);
    json_decref(q);
    json_t *trash = fx_json(f, "trash list --json"), *e;
    assert_int_equal(json_array_size(trash), 5);
    size_t i;
    int seen_file = 0;
    json_array_foreach(trash, i, e)
    {
        if (strcmp(fx_str(e, "handle"), h[0])) continue;
        seen_file = 1;
        assert_string_equal(fx_str(e, "title"), "With file");
        assert_int_equal(json_integer_value(json_object_get(e, "job_id")), job);
        assert_non_null(fx_str(e, "deleted"));
        assert_non_null(fx_str(e, "purge_after"));
    }
    assert_true(seen_file);
    json_decref(trash);
    RUN(f, 0, "trash list");
    assert_contains(f->out, "Reserved DOI");

    /* Restored as it was: same handle, UUID, metadata and file (bytes equal). */
    RUN(f, 0, "item restore %s", h[0]);
    fx_chomp(f->out);
    assert_string_equal(f->out, h[0]);
    json_t *back = content(f, h[0]);
    assert_same(with_file, back);
    char *bytes = stored_file(f, fx_str(fx_bitstream(back, "Paper"), "sha256"));
    assert_non_null(bytes);
    assert_string_equal(bytes, PAPER);
    free(bytes);
    json_decref(back);
    RUN(f, 3, "item restore %s", h[0]);
    assert_contains(f->err, "not in the trash");
    /* Related A comes back alone; its relation returns with Related B. */
    RUN(f, 0, "item restore %s", h[1]);
    json_t *a = fx_show(f, h[1]);
    assert_int_equal(json_array_size(json_object_get(a, "relationships")), 0);
    json_decref(a);
    json_t *uuids = fx_json(f, "trash list --json");
    const char *uuid_b = NULL;
    json_array_foreach(uuids, i, e) if (!strcmp(fx_str(e, "handle"), h[2])) uuid_b =
        fx_str(e, "uuid");
    assert_non_null(uuid_b);
    RUN(f, 0, "item restore %s", uuid_b);
    json_decref(uuids);
    a = fx_show(f, h[1]);
    assert_int_equal(json_array_size(json_object_get(a, "relationships")), 1);
    json_decref(a);

    /* A handle in use again: the asset cannot come back (exit 3), and stays in the trash. */
    fx_write(f, "p/x/dublin_core.xml", DC_XML("Took the handle"));
    fx_write(f, "p/x/contents", "");
    fx_write(f, "p/x/handle", h[3]);
    RUN(f, 0, "import -a -s p -c %s -m p.map", f->coll);
    RUN(f, 3, "item restore %s", h[3]);
    assert_contains(f->err, "in use again");

    /* Purged after its days: no longer restorable; the later purge time is kept. */
    RUN(f, 0, "trash purge --now %lld", (long long)time(NULL) + 2 * 86400);
    assert_contains(f->err, "1 asset purged");
    trash = fx_json(f, "trash list --json");
    assert_int_equal(json_array_size(trash), 1); /* Plain: 30 days */
    assert_string_equal(fx_str(json_array_get(trash, 0), "handle"), h[5]);
    json_decref(trash);
    RUN(f, 3, "item restore %s", h[3]);
    RUN(f, 2, "trash purge --now yesterday");
    RUN(f, 0, "trash --help");
    assert_contains(f->out, "keep_days");
    json_decref(with_file);
    ASSERT_FSCK_CLEAN(f);
}

/* ---- revert ----------------------------------------------------------------------------- */

static void test_revert_update_set(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    json_t *before[3];
    for (int i = 0; i < 3; i++)
        before[i] = content(f, s.h[i]);
    long long job = UPDATE(f, "--param operation=remove-nonaffiliated");
    json_t *job_json = fx_job(f, job);
    assert_int_equal(fx_counter(job_json, "updated"), 2);
    json_decref(job_json);

    /* A record changed after the job is reported and left, unless forced. */
    RUN(f, 0, "set create Only2 --member %s", s.h[2]);
    run_job(f, 0, "update-set", "Only2",
            "--param operation=field-add --param field=dc.subject "
            "--param value=later");
    json_t *dry = fx_json(f, "job revert %lld --dry-run --json", job);
    assert_int_equal(json_integer_value(json_object_get(dry, "total")), 2); /* Second: unchanged */
    assert_int_equal(json_integer_value(json_object_get(dry, "conflicts")), 1);
    json_t *r;
    size_t i;
    json_array_foreach(json_object_get(dry, "records"), i, r)
    {
        assert_string_equal(fx_str(r, "action"), "updated");
        assert_int_equal(json_is_true(json_object_get(r, "conflict")),
                         !strcmp(fx_str(r, "handle"), s.h[2]));
    }
    json_decref(dry);
    RUN(f, 0, "job revert %lld --dry-run", job);
    assert_contains(f->out, s.h[2]);
    assert_contains(f->out, "conflict");
    assert_contains(f->err, "2 records, 1 changed since the job");
    RUN(f, 1, "job revert %lld --wait", job);
    long long rj = atoll(f->out);
    assert_contains(message_of(f, rj, s.h[2], NULL), "not reverted: it changed after the job");
    json_t *it = content(f, s.h[0]);
    assert_same(before[0], it);
    json_decref(it);
    it = fx_show(f, s.h[2]);
    assert_int_equal(json_array_size(json_object_get(it, "creators")), 0); /* left */
    assert_string_equal(vals(it, "dc.subject"), "later");
    json_decref(it);
    RUN(f, 0, "job revert %lld --force --wait", job);
    for (int k = 0; k < 3; k += 2) {
        it = content(f, s.h[k]);
        assert_same(before[k], it);
        json_decref(it);
    }
    for (int k = 0; k < 3; k++)
        json_decref(before[k]);
    /* No such job; not a job id. */
    RUN(f, 3, "job revert 999");
    RUN(f, 2, "job revert abc");
}

static void test_revert_delete_set(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    /* Related records both deleted come back related, whichever comes back first. */
    relate(f, s.h[0], s.h[1]);
    relate(f, s.h[2], s.h[1]);
    json_t *before[3];
    for (int i = 0; i < 3; i++)
        before[i] = content(f, s.h[i]);
    long long job = run_job(f, 0, "delete-set", "S", "");
    assert_int_equal(fx_item_count(f), 0);
    json_t *dry = fx_json(f, "job revert %lld --dry-run --json", job);
    assert_int_equal(json_integer_value(json_object_get(dry, "total")), 3);
    assert_int_equal(json_integer_value(json_object_get(dry, "conflicts")), 0);
    assert_string_equal(fx_str(json_array_get(json_object_get(dry, "records"), 0), "action"),
                        "deleted");
    json_decref(dry);
    assert_int_equal(fx_item_count(f), 0);
    RUN(f, 0, "job revert %lld --wait", job);
    assert_int_equal(fx_item_count(f), 3);
    for (int i = 0; i < 3; i++) {
        json_t *it = content(f, s.h[i]);
        /* Relations come back in the order the records do (their places are not kept). */
        relations_sorted(before[i]);
        relations_sorted(it);
        assert_same(before[i], it);
        json_decref(it);
        json_decref(before[i]);
    }
    json_t *trash = fx_json(f, "trash list --json");
    assert_int_equal(json_array_size(trash), 0);
    json_decref(trash);
    ASSERT_FSCK_CLEAN(f);
}

static void test_empty_set(void **state)
{
    fx *f = *state;
    RUN(f, 0, "set create Empty");
    long long job = run_job(f, 0, "update-set", "Empty", "--param operation=remove-links");
    assert_contains(f->err, "Completed with No Bulks");
    json_t *j = fx_job(f, job);
    assert_string_equal(fx_status_code(j), "COMPLETED_NO_BULKS");
    json_decref(j);
}

/* ---- many records: cancel and resume, overlapping jobs ------------------------------------- */

enum { MANY = 1500 };

/* MANY generated items imported; their handles in order (malloc'd array of MANY). */
static char (*import_many(fx *f))[64]
{
    fx_gen(f, "p", MANY);
    RUN(f, 0, "import -a -s p -c %s -m m.map", f->coll);
    char(*h)[64] = calloc(MANY, sizeof *h);
    assert_non_null(h);
    char *map = fx_read(f, "m.map");
    assert_non_null(map);
    int n = 0;
    for (const char *line = map; *line && n < MANY;) {
        char folder[256];
        assert_int_equal(sscanf(line, "%255s %63s", folder, h[n]), 2);
        n++;
        line += strcspn(line, "\n");
        line += *line == '\n';
    }
    free(map);
    assert_int_equal(n, MANY);
    return h;
}

static void set_of(fx *f, const char *name, char (*h)[64], int from, int to)
{
    char rel[64], *text = calloc((size_t)(to - from) + 1, 65);
    assert_non_null(text);
    size_t len = 0;
    for (int i = from; i < to; i++) {
        size_t n = strlen(h[i]);
        memcpy(text + len, h[i], n);
        text[len + n] = '\n';
        len += n + 1;
    }
    snprintf(rel, sizeof rel, "%s.txt", name);
    fx_write(f, rel, text);
    free(text);
    RUN(f, 0, "set create %s --from-file %s", name, rel);
}

/* The values of dc.subject of every item, through the library: counts of "X" and "Y". */
static void subjects(fx *f, char (*h)[64], int *x, int *y)
{
    br_repo *repo;
    br_error err;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    br_record *rec = br_record_new();
    for (int i = 0; i < MANY; i++) {
        int64_t id;
        assert_br_ok(br_item_find(repo, h[i], &id, &err), &err);
        assert_br_ok(br_item_load(repo, id, rec, &err), &err);
        x[i] = y[i] = 0;
        for (size_t k = 0; k < rec->n_md; k++) {
            const br_mdv *v = &rec->md[k];
            if (strcmp(v->schema, "dc") || strcmp(v->element, "subject") || v->qualifier) continue;
            x[i] += !strcmp(v->value, "X");
            y[i] += !strcmp(v->value, "Y");
        }
    }
    br_record_free(rec);
    br_repo_free(repo);
}

static void test_cancel_then_resume(void **state)
{
    fx *f = *state;
    char(*h)[64] = import_many(f);
    set_of(f, "All", h, 0, MANY);
    RUN(f, 0,
        "job run update-set --set All --param operation=field-add --param field=dc.subject "
        "--param value=X");
    long long job = atoll(f->out);
    /* The engine runs it here; it is cancelled once its first batch is written. */
    br_repo *repo;
    br_error err;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    br_engine_options o = {0};
    o.workers = 1;
    o.queue_poll_ms = 10;
    br_engine *eng = NULL;
    assert_br_ok(br_engine_new(f->repo, &o, &eng, &err), &err);
    assert_br_ok(br_engine_start(eng, &err), &err);
    br_job j;
    for (int i = 0; i < 20000; i++) {
        assert_br_ok(br_job_get(repo, job, &j, &err), &err);
        if (j.counters.updated > 0 || br_job_status_ended(j.status)) break;
        usleep(500);
    }
    assert_br_ok(br_job_cancel(repo, job, &err), &err);
    for (int i = 0; i < 6000 && !br_job_status_ended(j.status); i++) {
        usleep(5000);
        assert_br_ok(br_job_get(repo, job, &j, &err), &err);
    }
    br_engine_free(eng);
    if (j.status != BR_JOB_USER_ABORTED)
        fail_msg("status %s: %s (the job ended before the cancel reached it)",
                 br_job_status_code(j.status), j.message);
    int64_t done = j.counters.updated;
    assert_true(done > 0 && done < MANY);
    int *x = calloc(MANY, sizeof *x), *y = calloc(MANY, sizeof *y);
    subjects(f, h, x, y);
    int with = 0;
    for (int i = 0; i < MANY; i++)
        with += x[i];
    assert_int_equal(with, done); /* the journal says exactly which records are done */
    /* Resumed: the rest, each record once. */
    RUN(f, 0, "job resume %lld", job);
    RUN(f, 0, "job work --once");
    json_t *jj = fx_job(f, job);
    assert_string_equal(fx_status_code(jj), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(jj, "updated"), MANY);
    assert_int_equal(fx_counter(jj, "processed"), MANY);
    json_decref(jj);
    subjects(f, h, x, y);
    for (int i = 0; i < MANY; i++)
        if (x[i] != 1) fail_msg("%s has X %d times", h[i], x[i]);
    br_repo_free(repo);
    free(x);
    free(y);
    free(h);
}

static void test_overlapping_jobs(void **state)
{
    fx *f = *state;
    char(*h)[64] = import_many(f);
    int a_to = MANY * 2 / 3, b_from = MANY / 3;
    set_of(f, "A", h, 0, a_to);
    set_of(f, "B", h, b_from, MANY);
    RUN(f, 0,
        "job run update-set --set A --param operation=field-add --param field=dc.subject "
        "--param value=X");
    long long ja = atoll(f->out);
    RUN(f, 0,
        "job run update-set --set B --param operation=field-add --param field=dc.subject "
        "--param value=Y");
    long long jb = atoll(f->out);
    RUN(f, 0, "job work --workers 2 --once");
    json_t *a = fx_job(f, ja), *b = fx_job(f, jb);
    assert_string_equal(fx_status_code(a), "COMPLETED_SUCCESS");
    assert_string_equal(fx_status_code(b), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(a, "updated"), a_to);
    assert_int_equal(fx_counter(b, "updated"), MANY - b_from);
    json_decref(a);
    json_decref(b);
    int *x = calloc(MANY, sizeof *x), *y = calloc(MANY, sizeof *y);
    subjects(f, h, x, y);
    for (int i = 0; i < MANY; i++) {
        if (x[i] != (i < a_to)) fail_msg("%s (%d) has X %d times", h[i], i, x[i]);
        if (y[i] != (i >= b_from)) fail_msg("%s (%d) has Y %d times", h[i], i, y[i]);
    }
    free(x);
    free(y);
    free(h);
}

/* ---- the REST API --------------------------------------------------------------------------- */

typedef struct api {
    sf_server serve; /* bulkrepo serve */
    char admin[64], manager[64];
} api;

/* METHOD path with a bearer token and, when json is given, that body as application/json
 * (the shared client, serve_fixture.h). */
static void http(api *a, const char *method, const char *path, const char *token, const char *json,
                 sf_resp *out)
{
    sf_http(&a->serve, method, path, &(sf_rq){.bearer = token, .json = json}, out);
}

/* The administrator and a manager with their tokens, then `bulkrepo serve` (2 workers). */
static void serve(fx *f, api *a)
{
    sf_add_user(f, "admin", "General System Administrator", "password-admin");
    sf_token(f, "admin", a->admin);
    sf_add_user(f, "manager", "Repository Manager", "password-manager");
    sf_token(f, "manager", a->manager);
    static const char *const args[] = {"--workers", "2", NULL};
    sf_start(f, &a->serve, args);
}

/* GET /api/jobs/ID until it ended; its JSON (the caller frees). */
static json_t *await_job(api *a, long long id)
{
    char path[64];
    snprintf(path, sizeof path, "/api/jobs/%lld", id);
    for (int i = 0; i < 3000; i++) {
        sf_resp r;
        http(a, "GET", path, a->admin, NULL, &r);
        SF_EXPECT(&r, 200);
        const char *code =
            json_string_value(json_object_get(json_object_get(r.json, "status"), "code"));
        if (strncmp(code, "PENDING", 7) && strncmp(code, "RUNNING", 7) &&
            strncmp(code, "INITIALIZING", 12) && strncmp(code, "FINALIZING", 10)) {
            json_t *j = json_incref(r.json);
            sf_resp_free(&r);
            return j;
        }
        sf_resp_free(&r);
        usleep(20000);
    }
    fail_msg("job %lld did not end", id);
    return NULL;
}

static long long job_total(api *a)
{
    sf_resp r;
    http(a, "GET", "/api/jobs", a->admin, NULL, &r);
    SF_EXPECT(&r, 200);
    long long n = (long long)json_integer_value(json_object_get(r.json, "total"));
    sf_resp_free(&r);
    return n;
}

/* The item's JSON through GET /api/items/HANDLE without its modification time and the jobs
 * that touched it (each job adds itself). */
static json_t *api_item(api *a, const char *h)
{
    char path[256];
    snprintf(path, sizeof path, "/api/items/%s", h);
    sf_resp r;
    http(a, "GET", path, a->admin, NULL, &r);
    SF_EXPECT(&r, 200);
    json_t *it = json_incref(r.json);
    sf_resp_free(&r);
    json_object_del(it, "lastModified");
    json_object_del(it, "jobs");
    return it;
}

/* POSTs a set job; 201 and its id. */
static long long post_job(api *a, const char *body)
{
    sf_resp r;
    http(a, "POST", "/api/jobs", a->admin, body, &r);
    SF_EXPECT(&r, 201);
    json_t *job = json_object_get(r.json, "job");
    long long id = (long long)json_integer_value(json_object_get(job, "id"));
    assert_true(id > 0);
    sf_resp_free(&r);
    return id;
}

static void test_http_job_types_and_preview(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    api a = {0};
    serve(f, &a);
    sf_resp r;
    http(&a, "GET", "/api/job-types", a.admin, NULL, &r);
    SF_EXPECT(&r, 200);
    json_t *t, *upd = NULL, *imp = NULL;
    size_t i;
    json_array_foreach(json_object_get(r.json, "job_types"), i, t)
    {
        if (!strcmp(json_string_value(json_object_get(t, "type")), "update-set")) upd = t;
        if (!strcmp(json_string_value(json_object_get(t, "type")), "import-saf")) imp = t;
    }
    assert_non_null(upd);
    assert_non_null(imp);
    assert_string_equal(fx_str(upd, "content"), "assets");
    assert_contains(fx_str(upd, "description"), "non-affiliated authors");
    assert_true(json_is_null(json_object_get(imp, "content")));
    assert_int_equal(json_array_size(json_object_get(imp, "params")), 0);
    json_t *op = json_array_get(json_object_get(upd, "params"), 0);
    assert_string_equal(fx_str(op, "name"), "operation");
    assert_string_equal(fx_str(op, "label"), "Operation");
    assert_string_equal(json_string_value(json_array_get(json_object_get(op, "values"), 13)),
                        "field-add");
    json_t *regex = json_array_get(json_object_get(upd, "params"), 5);
    assert_string_equal(fx_str(regex, "name"), "regex");
    assert_true(json_is_false(json_object_get(regex, "default")));
    sf_resp_free(&r);

    /* The dry run: field, old and new per record; nothing written, no job. */
    json_t *before = api_item(&a, s.h[0]);
    long long jobs = job_total(&a);
    http(&a, "POST", "/api/jobs/preview", a.admin,
         "{\"type\":\"update-set\",\"set\":\"S\",\"params\":{\"operation\":\"license-replace\","
         "\"to\":\"CC0\"}}",
         &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "members")), 3);
    assert_true(json_is_false(json_object_get(r.json, "truncated")));
    json_t *c0 = json_array_get(json_object_get(r.json, "changes"), 0);
    assert_string_equal(fx_str(c0, "handle"), s.h[0]);
    assert_string_equal(fx_str(c0, "title"), "First");
    assert_true(json_is_null(json_object_get(c0, "skip")));
    json_t *ch = json_array_get(json_object_get(c0, "changes"), 0);
    assert_string_equal(fx_str(ch, "field"), "dc.rights.license");
    assert_string_equal(fx_str(ch, "old"), "CC-BY");
    assert_string_equal(fx_str(ch, "new"), "CC0");
    ch = json_array_get(
        json_object_get(json_array_get(json_object_get(r.json, "changes"), 1), "changes"), 0);
    assert_true(json_is_null(json_object_get(ch, "old")));
    sf_resp_free(&r);
    json_t *after = api_item(&a, s.h[0]);
    assert_same(before, after);
    json_decref(after);
    assert_int_equal(job_total(&a), jobs);
    /* A preview is for those who may run the job. */
    http(&a, "POST", "/api/jobs/preview", a.manager,
         "{\"type\":\"update-set\",\"set\":\"S\",\"params\":{\"operation\":\"remove-links\"}}", &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    http(&a, "POST", "/api/jobs/preview", a.admin,
         "{\"type\":\"update-set\",\"set\":\"S\",\"params\":{\"operation\":\"field-replace\","
         "\"field\":\"dc.title\",\"from\":\"(a\",\"to\":\"b\",\"regex\":true}}",
         &r);
    SF_EXPECT(&r, 400);
    assert_contains(r.body, "does not compile");
    sf_resp_free(&r);
    json_decref(before);
    assert_int_equal(sf_stop(&a.serve), 0); /* clean exit, no sanitizer report */
}

static void test_http_run_revert_and_roles(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    api a = {0};
    serve(f, &a);
    json_t *before = api_item(&a, s.h[0]);
    long long jobs = job_total(&a);
    sf_resp r;
    /* A user whose roles do not run update-set: 403, no job. */
    const char *body = "{\"type\":\"update-set\",\"set\":\"S\",\"name\":\"Licences to CC0\","
                       "\"params\":{\"operation\":\"license-replace\",\"to\":\"CC0\"}}";
    http(&a, "POST", "/api/jobs", a.manager, body, &r);
    SF_EXPECT(&r, 403);
    assert_contains(r.body, "update-set");
    sf_resp_free(&r);
    assert_int_equal(job_total(&a), jobs);
    /* Bad parameters are named (400), an unknown set is 404; no job either. */
    http(&a, "POST", "/api/jobs", a.admin,
         "{\"type\":\"update-set\",\"set\":\"S\",\"params\":{\"operation\":\"license-replace\","
         "\"colour\":\"red\"}}",
         &r);
    SF_EXPECT(&r, 400);
    assert_contains(r.body, "colour");
    sf_resp_free(&r);
    http(&a, "POST", "/api/jobs", a.admin,
         "{\"type\":\"update-set\",\"set\":\"S\",\"params\":{\"operation\":\"license-change\"}}",
         &r);
    SF_EXPECT(&r, 400);
    assert_contains(r.body, "operation: parameter 'operation': 'license-change' is not one of");
    sf_resp_free(&r);
    http(&a, "POST", "/api/jobs", a.admin,
         "{\"type\":\"update-set\",\"set\":\"S\",\"params\":{\"operation\":\"field-replace\","
         "\"field\":\"dc.title\",\"from\":\"(F)\\\\1\",\"to\":\"b\",\"regex\":true}}",
         &r);
    SF_EXPECT(&r, 400);
    assert_contains(r.body, "back-references");
    sf_resp_free(&r);
    http(&a, "POST", "/api/jobs", a.admin,
         "{\"type\":\"update-set\",\"set\":\"Nope\",\"params\":{\"operation\":\"remove-links\"}}",
         &r);
    SF_EXPECT(&r, 404);
    sf_resp_free(&r);
    http(&a, "POST", "/api/jobs", a.admin, "{\"type\":\"import-saf\",\"set\":\"S\"}", &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    assert_int_equal(job_total(&a), jobs);

    /* The job: 201 with the job object, run by the server's engine. */
    long long id = post_job(&a, body);
    json_t *job = await_job(&a, id);
    assert_string_equal(fx_str(json_object_get(job, "status"), "code"), "COMPLETED_SUCCESS");
    assert_string_equal(fx_str(job, "name"), "Licences to CC0");
    assert_string_equal(fx_str(job, "set"), "S");
    assert_true(json_is_true(json_object_get(job, "revertible")));
    assert_string_equal(fx_str(job, "submitted_by"), "admin");
    json_decref(job);
    json_t *it = api_item(&a, s.h[0]);
    assert_string_equal(vals(it, "dc.rights.license"), "CC0");
    json_decref(it);
    /* Listed with its set. */
    http(&a, "GET", "/api/jobs?category=set", a.admin, NULL, &r);
    SF_EXPECT(&r, 200);
    json_t *listed = json_array_get(json_object_get(r.json, "jobs"), 0);
    assert_int_equal(json_integer_value(json_object_get(listed, "id")), id);
    assert_string_equal(fx_str(listed, "set"), "S");
    assert_true(json_is_true(json_object_get(listed, "revertible")));
    sf_resp_free(&r);

    /* Revert: the dry run, the roles, then the revert. */
    char path[64];
    snprintf(path, sizeof path, "/api/jobs/%lld/revert", id);
    http(&a, "POST", path, a.admin, "{\"dry_run\":true}", &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "total")), 3);
    assert_int_equal(json_integer_value(json_object_get(r.json, "conflicts")), 0);
    json_t *rec = json_array_get(json_object_get(r.json, "records"), 0);
    assert_string_equal(fx_str(rec, "action"), "updated");
    assert_non_null(fx_str(rec, "uuid"));
    assert_true(json_is_false(json_object_get(rec, "conflict")));
    sf_resp_free(&r);
    http(&a, "POST", path, a.manager, "{}", &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    http(&a, "POST", path, a.admin, "{\"force\":\"yes\"}", &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    http(&a, "POST", "/api/jobs/999/revert", a.admin, "{}", &r);
    SF_EXPECT(&r, 404);
    sf_resp_free(&r);
    http(&a, "POST", path, a.admin, "{\"force\":false}", &r);
    SF_EXPECT(&r, 201);
    json_t *rj = json_object_get(r.json, "job");
    assert_string_equal(fx_str(rj, "type"), "revert");
    long long rid = (long long)json_integer_value(json_object_get(rj, "id"));
    sf_resp_free(&r);
    job = await_job(&a, rid);
    assert_string_equal(fx_str(json_object_get(job, "status"), "code"), "COMPLETED_SUCCESS");
    json_decref(job);
    it = api_item(&a, s.h[0]);
    assert_same(before, it);
    json_decref(it);
    json_decref(before);
    /* The same through POST /api/jobs {"type":"revert"}. */
    http(&a, "POST", "/api/jobs", a.admin,
         "{\"type\":\"revert\",\"params\":{\"job\":1,\"force\":true,\"extra\":1}}", &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    snprintf(path, sizeof path, "{\"type\":\"revert\",\"params\":{\"job\":%lld}}", rid);
    id = post_job(&a, path);
    job = await_job(&a, id);
    assert_string_equal(fx_str(json_object_get(job, "status"), "code"), "COMPLETED_SUCCESS");
    json_decref(job);
    it = api_item(&a, s.h[0]);
    assert_string_equal(vals(it, "dc.rights.license"), "CC0"); /* the revert reverted */
    json_decref(it);
    assert_int_equal(sf_stop(&a.serve), 0); /* clean exit, no sanitizer report */
}

static void test_http_trash(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    api a = {0};
    serve(f, &a);
    long long id = post_job(&a, "{\"type\":\"delete-set\",\"set\":\"S\",\"params\":"
                                "{\"skip_with_file\":true,\"keep_days\":\"7\"}}");
    json_t *job = await_job(&a, id);
    assert_int_equal(fx_counter(job, "deleted"), 2);
    assert_int_equal(fx_counter(job, "skipped"), 1);
    json_decref(job);
    sf_resp r;
    http(&a, "GET", "/api/trash", a.admin, NULL, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "total")), 2);
    json_t *e, *items = json_object_get(r.json, "items");
    size_t i;
    int seen = 0;
    json_array_foreach(items, i, e)
    {
        if (strcmp(fx_str(e, "handle"), s.h[1])) continue;
        seen = 1;
        assert_string_equal(fx_str(e, "title"), "Second");
        assert_int_equal(json_integer_value(json_object_get(e, "job_id")), id);
        assert_non_null(fx_str(e, "uuid"));
        assert_non_null(fx_str(e, "deleted"));
        assert_non_null(fx_str(e, "purge_after"));
    }
    assert_true(seen);
    sf_resp_free(&r);
    /* Restoring takes the roles of delete-set. */
    char path[256];
    snprintf(path, sizeof path, "/api/trash/%s/restore", s.h[1]);
    http(&a, "POST", path, a.manager, NULL, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    http(&a, "POST", path, a.admin, NULL, &r);
    SF_EXPECT(&r, 200);
    assert_string_equal(fx_str(json_object_get(r.json, "item"), "handle"), s.h[1]);
    assert_string_equal(fx_str(json_object_get(r.json, "item"), "title"), "Second");
    sf_resp_free(&r);
    http(&a, "POST", path, a.admin, NULL, &r);
    SF_EXPECT(&r, 404);
    sf_resp_free(&r);
    /* 409: the handle is someone else's now. */
    fx_write(f, "p/x/dublin_core.xml", DC_XML("Took the handle"));
    fx_write(f, "p/x/contents", "");
    fx_write(f, "p/x/handle", s.h[2]);
    RUN(f, 0, "import -a -s p -c %s -m p.map", f->coll);
    snprintf(path, sizeof path, "/api/trash/%s/restore", s.h[2]);
    http(&a, "POST", path, a.admin, NULL, &r);
    SF_EXPECT(&r, 409);
    assert_contains(r.body, "in use again");
    sf_resp_free(&r);
    http(&a, "GET", "/api/trash", a.admin, NULL, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "total")), 1);
    sf_resp_free(&r);
    assert_int_equal(sf_stop(&a.serve), 0); /* clean exit, no sanitizer report */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_creator_affiliation_and_profile_display),
        FX_TEST(test_units_access_and_licence),
        FX_TEST(test_type_and_visibility),
        FX_TEST(test_nonaffiliated_authors_and_links),
        FX_TEST(test_generic_fields),
        FX_TEST(test_bad_parameters),
        FX_TEST(test_job_types),
        FX_TEST(test_dry_run_writes_nothing),
        FX_TEST(test_delete_guards_trash_restore_purge),
        FX_TEST(test_revert_update_set),
        FX_TEST(test_revert_delete_set),
        FX_TEST(test_empty_set),
        FX_TEST(test_cancel_then_resume),
        FX_TEST(test_overlapping_jobs),
        FX_TEST(test_http_job_types_and_preview),
        FX_TEST(test_http_run_revert_and_roles),
        FX_TEST(test_http_trash),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
