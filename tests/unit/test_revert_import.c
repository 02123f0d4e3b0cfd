/* Reverting an import (issue 10 section 4, "Revert a job"): an Esploro import that updated a
 * record and created another is reverted through the engine; the updated record is back
 * exactly as it was (metadata, creators, links, files), the created one leaves for the trash;
 * a record changed after the job is reported and left unless forced; a job that changed
 * nothing cannot be reverted.  Imports run through the CLI; the revert is queued through the
 * public API (br_job_submit) and run by `job work --once`. */
#define _GNU_SOURCE
#include "cli_fixture.h"
#include "bulkrepo/bulkrepo.h"

#define UNIT "01ALLIANCE_UID___n6370"
#define HEADER                                                                                     \
    ",group_id,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,ASSET_KEYWORDS,"      \
    "ASSET_ORIGASSET_ID,CREATOR_FAMNAME,CREATOR_GIVNAME,CREATOR_ORCID,CREATOR_AFFILIATION,"        \
    "LINK_LINKURL,LINK_LINKTITLE,FILE_FILEURL,FILE_DISPLAY_NAME\n"
#define SEED_CSV                                                                                   \
    HEADER "ASSET,0,Restoring fish habitat,publication.journalArticle," UNIT                       \
           ",20211018,biology@@fish,SRC-1,,,,,,,,\n"                                               \
           "CREATOR,0,,,,,,,Smith,Jane,0000-0002-1825-0097," UNIT ",,,,\n"                         \
           "CREATOR,0,,,,,,,Doe,John,,,,,,\n"                                                      \
           "LINK,0,,,,,,,,,,,https://example.org/a,Project page,,\n"                               \
           "FILE,0,,,,,,,,,,,,,files/paper.pdf,Paper\n"
/* Matches SRC-1 (updated: a new title, keywords, one creator, no link) and adds SRC-2. */
#define UPDATE_CSV                                                                                 \
    HEADER "ASSET,x1,A new title,publication.journalArticle," UNIT ",2022,other,SRC-1,,,,,,,,\n"   \
           "CREATOR,x1,,,,,,,Roe,Ann,,,,,,\n"                                                      \
           "ASSET,x2,A new one,publication.journalArticle," UNIT ",2022,,SRC-2,,,,,,,,\n"

static long long last_job_id(fx *f)
{
    json_t *j = fx_last_job(f);
    long long id = (long long)json_integer_value(json_object_get(j, "id"));
    json_decref(j);
    return id;
}

/* The item's JSON without the times a write moves. */
static json_t *content(fx *f, const char *h)
{
    json_t *it = fx_show(f, h);
    json_object_del(it, "lastModified");
    return it;
}

static char *seed(fx *f)
{
    RUN(f, 0, "orgunit add %s Library", UNIT);
    fx_write(f, "in/files/paper.pdf", "%PDF-1.4 the paper\n");
    fx_write(f, "in/a.csv", SEED_CSV);
    RUN(f, 0, "import --format esploro-csv -s in/a.csv -m a.map");
    return strdup(fx_map_handle(f, "a.map", "0"));
}

static long long update(fx *f, const char *csv, const char *name)
{
    fx_write(f, name, csv);
    RUN(f, 0, "import --format esploro-csv -s %s -m %s.map", name, name);
    return last_job_id(f);
}

typedef struct seen {
    int updated, created, deleted, conflicts;
} seen;

static int count_line(void *ctx, const br_revert_line *l)
{
    seen *s = ctx;
    s->updated += !strcmp(l->action, "updated");
    s->created += !strcmp(l->action, "created");
    s->deleted += !strcmp(l->action, "deleted");
    s->conflicts += l->conflict;
    assert_non_null(l->handle);
    return 0;
}

/* Queues a revert of job through the library and runs the queue with the CLI; the revert
 * job's JSON. */
static json_t *revert(fx *f, long long job, int force)
{
    br_repo *repo;
    br_error err;
    assert_int_equal(br_repo_open(f->repo, &repo, &err), 0);
    char params[96];
    snprintf(params, sizeof params, "{\"job\":%lld,\"force\":%s}", job, force ? "true" : "false");
    br_job_spec spec = {"revert", NULL, "tester", params, NULL, 0, 0, NULL};
    int64_t id = 0;
    int rc = br_job_submit(repo, &spec, &id, &err);
    if (rc) fail_msg("revert of %lld not queued: %s", job, err.message);
    br_repo_free(repo);
    RUN(f, 0, "job work --once");
    return fx_job(f, (long long)id);
}

static void test_revert_import_with_updates(void **state)
{
    fx *f = *state;
    char *h = seed(f);
    json_t *before = content(f, h);
    long long job = update(f, UPDATE_CSV, "u.csv");
    json_t *changed = content(f, h);
    assert_false(json_equal(before, changed)); /* the import did change it */
    assert_string_equal(md(changed, "dc.title", 0), "A new title");
    assert_int_equal(fx_item_count(f), 2);

    /* The dry run names both records and changes nothing. */
    br_repo *repo;
    assert_int_equal(br_repo_open(f->repo, &repo, NULL), 0);
    seen s = {0};
    int64_t total = 0, conflicts = -1;
    assert_int_equal(br_revert_preview(repo, job, count_line, &s, &total, &conflicts, NULL), 0);
    br_repo_free(repo);
    assert_int_equal(total, 2);
    assert_int_equal(conflicts, 0);
    assert_int_equal(s.updated, 1);
    assert_int_equal(s.created, 1);
    assert_int_equal(fx_item_count(f), 2);

    json_t *rj = revert(f, job, 0);
    assert_string_equal(fx_status_code(rj), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(rj, "updated"), 1);
    assert_int_equal(fx_counter(rj, "deleted"), 1);
    json_decref(rj);

    json_t *after = content(f, h);
    if (!json_equal(before, after)) {
        char *a = json_dumps(before, JSON_SORT_KEYS), *b = json_dumps(after, JSON_SORT_KEYS);
        fail_msg("not reverted exactly:\nbefore %s\nafter  %s", a, b);
    }
    /* The file is still there (equal JSON: same name, size and checksums), fsck checks its bytes.
     */
    assert_int_equal(json_array_size(json_object_get(after, "bitstreams")), 1);
    assert_int_equal(fx_item_count(f), 1);
    RUN(f, 0, "fsck");
    json_decref(before);
    json_decref(changed);
    json_decref(after);
    free(h);
}

static void test_revert_leaves_records_changed_since_unless_forced(void **state)
{
    fx *f = *state;
    char *h = seed(f);
    json_t *before = content(f, h);
    long long job = update(f, UPDATE_CSV, "u.csv");
    /* A later import changes the record again. */
    update(f, HEADER "ASSET,y1,Later,publication.journalArticle," UNIT ",2023,,SRC-1,,,,,,,,\n",
           "later.csv");

    br_repo *repo;
    assert_int_equal(br_repo_open(f->repo, &repo, NULL), 0);
    seen s = {0};
    int64_t conflicts = 0;
    assert_int_equal(br_revert_preview(repo, job, count_line, &s, NULL, &conflicts, NULL), 0);
    br_repo_free(repo);
    assert_int_equal(conflicts, 1);

    json_t *rj = revert(f, job, 0);
    assert_string_equal(fx_status_code(rj), "COMPLETED_WITH_ERRORS");
    assert_int_equal(fx_counter(rj, "skipped"), 1);
    assert_int_equal(fx_counter(rj, "deleted"), 1); /* SRC-2 had not changed: removed */
    char *text = json_dumps(rj, 0);
    assert_contains(text, "changed after the job");
    free(text);
    json_decref(rj);
    json_t *it = fx_show(f, h);
    assert_string_equal(md(it, "dc.title", 0), "Later"); /* left as it is */
    json_decref(it);

    /* Forced, the record gets back what it had before the job. */
    rj = revert(f, job, 1);
    assert_int_equal(fx_counter(rj, "updated"), 1);
    json_decref(rj);
    json_t *after = content(f, h);
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
    free(h);
}

static void test_nothing_to_revert(void **state)
{
    fx *f = *state;
    RUN(f, 0, "orgunit add %s Library", UNIT);
    fx_write(f, "v.csv", SEED_CSV);
    fx_write(f, "files/paper.pdf", "x");
    RUN(f, 0, "import --format esploro-csv -s v.csv -v -m v.map");
    long long job = last_job_id(f);
    br_repo *repo;
    assert_int_equal(br_repo_open(f->repo, &repo, NULL), 0);
    char params[64];
    snprintf(params, sizeof params, "{\"job\":%lld}", job);
    br_job_spec spec = {"revert", NULL, NULL, params, NULL, 0, 0, NULL};
    int64_t id = 0;
    br_error err;
    assert_int_equal(br_job_submit(repo, &spec, &id, &err), BR_EUSAGE);
    assert_non_null(strstr(err.message, "cannot be reverted"));
    assert_int_equal(id, 0);
    snprintf(params, sizeof params, "{\"job\":999999}");
    spec.params = params;
    assert_int_equal(br_job_submit(repo, &spec, &id, &err), BR_ENOTFOUND);
    br_repo_free(repo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_revert_import_with_updates),
        FX_TEST(test_revert_leaves_records_changed_since_unless_forced),
        FX_TEST(test_nothing_to_revert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
