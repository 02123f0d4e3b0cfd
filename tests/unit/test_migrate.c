/* `bulkrepo migrate` (bulkrepo/migrate.h): an embedded repository with real content moved to
 * PostgreSQL and back, read through the CLI before and after each move (items, their JSON,
 * jobs with counters, records and events, users and tokens, sets, the trash, collections,
 * units, fsck), new writes after each move (ids continue), and the refusals and failures that
 * must leave the source the repository.
 *
 * The PostgreSQL cases need a server: BULKREPO_TEST_PG=postgresql://... (sh
 * scripts/pg-cluster.sh start DIR prints one); without it they skip with a message. */
#define _GNU_SOURCE
#include "cli_fixture.h"

#define UNIT "01ALLIANCE_UID___n6370"
#define ESPLORO_CSV                                                                                \
    ",group_id,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,ASSET_KEYWORDS,"      \
    "ASSET_ORIGASSET_ID,CREATOR_FAMNAME,CREATOR_GIVNAME,CREATOR_ORCID,CREATOR_AFFILIATION,"        \
    "LINK_LINKURL,LINK_LINKTITLE,FILE_FILEURL,FILE_DISPLAY_NAME\n"                                 \
    "ASSET,0,Restoring fish habitat,publication.journalArticle," UNIT                              \
    ",20211018,biology@@habitat restoration@@fish,SRC-1,,,,,,,,\n"                                 \
    "CREATOR,0,,,,,,,Smith,Jane,0000-0002-1825-0097," UNIT ",,,,\n"                                \
    "CREATOR,0,,,,,,,Müller,Jörg,,,,,,\n"                                                        \
    "LINK,0,,,,,,,,,,,https://example.org/a,Project page,,\n"                                      \
    "FILE,0,,,,,,,,,,,,,files/paper.pdf,Paper\n"

/* Every test starts from an embedded repository, whatever store the CLI tests use. */
static int setup(void **state)
{
    unsetenv("BULKREPO_TEST_STORE");
    return fx_setup(state);
}

#define MIG_TEST(t) cmocka_unit_test_setup_teardown(t, setup, fx_teardown)

/* A fresh PostgreSQL database's address; without a server the test is skipped (0). */
static int pg_db(char *url, size_t size)
{
    if (!tpg_available()) {
        print_message("[  NOTE    ] BULKREPO_TEST_PG is not set: no PostgreSQL server to move "
                      "to (sh scripts/pg-cluster.sh start DIR)\n");
        skip();
        return 0;
    }
    assert_int_equal(tpg_create_db(url, size), 0);
    return 1;
}

/* ---- the repository's content ------------------------------------------------------------- */

/* SAF with relationships, handles and files; generated items; an import with a rejected
 * record; an Esploro asset with creators, a link and a file; a Delete Set job (trash, undo
 * journal, held files); users with roles and a token; sets. */
static void fill(fx *f)
{
    RUN(f, 0, "import -a -s '%s' -c %s -m basic.map", tu_data("saf/basic"), f->coll);
    fx_gen(f, "gen", 25);
    RUN(f, 0, "import -a -s gen -c %s -m gen.map", f->coll);
    fx_dc(f, "bad/ok1", "Ok one");
    fx_dc(f, "bad/ok2", "Ok two");
    fx_write(f, "bad/broken/dublin_core.xml", "<dublin_core><dcvalue element=\"title\"");
    RUN(f, 1, "import -a -s bad --skip-invalid -c %s -m bad.map", f->coll);
    RUN(f, 0, "orgunit add %s Library", UNIT);
    fx_write(f, "in/files/paper.pdf", "%PDF-1.4 the paper\n");
    fx_write(f, "in/a.csv", ESPLORO_CSV);
    RUN(f, 0, "import --format esploro-csv -s in/a.csv -m a.map");
    RUN(f, 0, "set create Gone --member %s", fx_map_handle(f, "gen.map", "item_000003"));
    RUN(f, 0, "job run delete-set --set Gone --wait");
    RUN(f, 0, "set create S --member %s --member %s --member %s",
        fx_map_handle(f, "basic.map", "item_1"), fx_map_handle(f, "basic.map", "item_2"),
        fx_map_handle(f, "gen.map", "item_000007"));
    SH(f, 0,
       "echo 'secret-password-1' | \"$BR\" --repo r user add alice --role repository-manager "
       "--password-stdin");
    SH(f, 0,
       "echo 'secret-password-2' | \"$BR\" --repo r user add bob --role "
       "'Repository Administrator' --password-stdin");
    RUN(f, 0, "user token alice --name ci");
    RUN(f, 0, "user disable bob");
    RUN(f, 0, "set create Staff --type users --member alice --member bob");
}

/* Appends what `bulkrepo ARGS` prints on stdout (exit 0) to s under a heading. */
static void snap_add(fx *f, tu_log *s, const char *args)
{
    fx_br(f, "%s", args);
    fx_expect(f, 0, __FILE__, __LINE__);
    tu_log_printf(s, "==== %s\n%s\n", args, f->out);
}

/* Everything a user reads of the repository, as one text. */
static char *snapshot(fx *f)
{
    tu_log s;
    tu_log_init(&s);
    char args[512];
    json_t *items = fx_json(f, "item list --json"), *v;
    size_t i;
    tu_log_printf(&s, "==== item list\n%s\n", f->out);
    assert_true(json_array_size(items) > 0);
    json_array_foreach(items, i, v)
    {
        snprintf(args, sizeof args, "item show '%s' --json", fx_str(v, "handle"));
        snap_add(f, &s, args);
    }
    json_decref(items);
    json_t *jobs = fx_json(f, "job list --json");
    tu_log_printf(&s, "==== job list\n%s\n", f->out);
    json_array_foreach(jobs, i, v)
    {
        long long id = (long long)json_integer_value(json_object_get(v, "id"));
        snprintf(args, sizeof args, "job show %lld --json --records all", id);
        snap_add(f, &s, args);
        snprintf(args, sizeof args, "job events %lld --json", id);
        snap_add(f, &s, args);
    }
    json_decref(jobs);
    json_t *sets = fx_json(f, "set list --json");
    tu_log_printf(&s, "==== set list\n%s\n", f->out);
    json_array_foreach(sets, i, v)
    {
        snprintf(args, sizeof args, "set members '%s' --json", fx_str(v, "name"));
        snap_add(f, &s, args);
    }
    json_decref(sets);
    snap_add(f, &s, "user list --json");
    snap_add(f, &s, "user token list --json");
    snap_add(f, &s, "trash list --json");
    snap_add(f, &s, "collection list --json");
    snap_add(f, &s, "orgunit list --json");
    ASSERT_FSCK_CLEAN(f);
    tu_log_printf(&s, "==== fsck\n%s\n", f->out);
    return s.text;
}

/* Fails at the first line where the two snapshots differ, showing both. */
static void assert_same(const char *before, const char *after, const char *when)
{
    if (!strcmp(before, after)) return;
    size_t k = 0, line = 1, start = 0;
    for (; before[k] && before[k] == after[k]; k++)
        if (before[k] == '\n') {
            line++;
            start = k + 1;
        }
    print_error("%s: the repository reads differently from line %zu:\n--- before:\n%.400s\n"
                "--- after:\n%.400s\n",
                when, line, before + start, after + start);
    fail();
}

/* What searches find (compared only where search runs on the store: 0 when it does not). */
static char *searches(fx *f)
{
    static const char *const queries[] = {"Muller",          "title:cities",
                                          "has:file",        "fish habitat",
                                          "status:archived", "orcid:0000-0002-1825-0097"};
    tu_log s;
    tu_log_init(&s);
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        fx_br(f, "search '%s' --json", queries[i]);
        if (f->rc != 0) {
            print_message("[  NOTE    ] `search` fails on this store (%s): search results not "
                          "compared\n",
                          f->err ? f->err : "");
            tu_log_dispose(&s);
            return NULL;
        }
        tu_log_printf(&s, "==== %s\n%s\n", queries[i], f->out);
    }
    return s.text;
}

static void assert_embedded(fx *f)
{
    assert_true(fx_exists(f, "r/bulkrepo.db"));
    assert_false(fx_exists(f, "r/bulkrepo.conf"));
}

static void assert_on_pg(fx *f, const char *url)
{
    char *conf = fx_read(f, "r/bulkrepo.conf");
    assert_non_null(conf);
    assert_contains(conf, url);
    free(conf);
    assert_false(fx_exists(f, "r/bulkrepo.db"));
}

/* New records after a move: an import (new handles continue), a user, a set. */
static void write_more(fx *f, const char *tag)
{
    char rel[64], title[64];
    snprintf(rel, sizeof rel, "more-%s/a", tag);
    snprintf(title, sizeof title, "Written after the move %s", tag);
    fx_dc(f, rel, title);
    RUN(f, 0, "import -a -s more-%s -c %s -m more-%s.map", tag, f->coll, tag);
    assert_contains(f->err, "1 imported");
    SH(f, 0,
       "echo 'secret-password-3' | \"$BR\" --repo r user add user-%s --role repository-manager "
       "--password-stdin",
       tag);
    RUN(f, 0, "set create Set-%s --member %s", tag, fx_map_handle(f, "basic.map", "item_10"));
    RUN(f, 0, "user token alice --name after-%s", tag);
}

/* ---- the round trip ----------------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    fx *f = *state;
    char url[512];
    if (!pg_db(url, sizeof url)) return;
    fill(f);
    int files = fx_stored_files(f);
    char *before = snapshot(f);
    char *found = searches(f); /* NULL while search is not available on the embedded store */

    RUN(f, 0, "migrate --to '%s'", url);
    assert_contains(f->out, "moved from embedded to postgresql://");
    assert_contains(f->out, "the embedded database as it was: ");
    assert_contains(f->err, "migrate: job_record: ");
    assert_contains(f->err, "migrate: search index: ");
    assert_on_pg(f, url);
    assert_int_equal(fx_count_entries(f, "r/backups"), 1);
    assert_int_equal(fx_count_entries(f, "r/tmp"), 0);
    assert_int_equal(fx_stored_files(f), files); /* the files stay where they are */
    char *after = snapshot(f);
    assert_same(before, after, "after the move to PostgreSQL");
    free(after);
    char *found_pg = searches(f);
    if (found && found_pg) assert_same(found, found_pg, "search after the move to PostgreSQL");
    free(found_pg);

    /* New writes continue the ids (a copied id given again would be a duplicate key). */
    json_t *last = fx_last_job(f);
    long long last_job = (long long)json_integer_value(json_object_get(last, "id"));
    json_decref(last);
    write_more(f, "pg");
    last = fx_last_job(f);
    assert_int_equal(json_integer_value(json_object_get(last, "id")), last_job + 1);
    assert_int_equal(fx_counter(last, "imported"), 1); /* job_record's triggers are there */
    json_decref(last);
    assert_non_null(fx_map_handle(f, "more-pg.map", "a"));

    /* And back. */
    char *on_pg = snapshot(f);
    RUN(f, 0, "migrate --to embedded --json");
    json_t *rep = fx_parse(f, "migrate --json");
    assert_string_equal(fx_str(rep, "to"), "embedded");
    assert_contains(fx_str(rep, "from"), "postgresql://");
    assert_non_null(fx_str(rep, "backup")); /* the old bulkrepo.conf */
    assert_true(json_integer_value(json_object_get(rep, "rows")) > 1000);
    json_decref(rep);
    assert_embedded(f);
    assert_int_equal(fx_count_entries(f, "r/backups"), 2);
    assert_int_equal(fx_count_entries(f, "r/tmp"), 0);
    after = snapshot(f);
    assert_same(on_pg, after, "after the move back to the embedded store");
    free(after);
    free(on_pg);
    write_more(f, "embedded");
    assert_non_null(fx_map_handle(f, "more-embedded.map", "a"));
    /* The index rebuilt on the embedded store finds what was written on PostgreSQL. */
    fx_br(f, "search 'Written after the move' --json");
    if (found && f->rc == 0) {
        json_t *hits = fx_parse(f, "search");
        assert_int_equal(json_integer_value(json_object_get(hits, "total")), 2);
        json_decref(hits);
        char *again = searches(f);
        assert_non_null(again);
        free(again);
    }
    ASSERT_FSCK_CLEAN(f);
    free(before);
    free(found);
}

/* ---- refusals ----------------------------------------------------------------------------- */

static void test_usage(void **state)
{
    fx *f = *state;
    RUN(f, 0, "migrate --help");
    assert_contains(f->out, "usage: bulkrepo [--repo DIR] migrate --to ADDRESS|embedded");
    RUN(f, 2, "migrate");
    assert_contains(f->err, "--to");
    RUN(f, 2, "migrate --to mysql://db/x");
    assert_contains(f->err, "unknown store");
    RUN(f, 2, "migrate --to embedded");
    assert_contains(f->err, "on the embedded store already");
    RUN(f, 2, "migrate --to embedded extra");
    assert_embedded(f);
    fx_sh(f, "\"$BR\" --repo '%s/none' migrate --to embedded", f->dir);
    fx_expect(f, 3, __FILE__, __LINE__);
    assert_false(fx_exists(f, "none"));
}

/* A job being run is refused before any target is reached; --force goes on (here to a
 * server that is not there: exit 4, nothing changed). */
static void test_refuses_running_job(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha");
    RUN(f, 0, "import -a -s p -c %s -m a.map", f->coll);
    tu_db_exec(f->repo, "UPDATE job SET status = 'RUNNING', ended = NULL WHERE id = 1");
    char *before = fx_item_list_text(f);
    RUN(f, 3, "migrate --to postgresql://nobody@127.0.0.1:1/none");
    assert_contains(f->err, "job 1 is being run (RUNNING)");
    assert_contains(f->err, "the repository stays where it was");
    RUN(f, 4, "migrate --to 'postgresql://nobody@127.0.0.1:1/none' --force");
    assert_contains(f->err, "cannot create the repository's database");
    assert_embedded(f);
    assert_false(fx_exists(f, "r/backups"));
    assert_int_equal(fx_count_entries(f, "r/tmp"), 0);
    char *after = fx_item_list_text(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* A database that holds a repository is never written. */
static void test_refuses_target_with_repository(void **state)
{
    fx *f = *state;
    char url[512];
    if (!pg_db(url, sizeof url)) return;
    SH(f, 0, "\"$BR\" --repo other init --store '%s'", url);
    RUN(f, 3, "migrate --to '%s'", url);
    assert_contains(f->err, "already holds a bulkrepo repository");
    assert_embedded(f);
    assert_false(fx_exists(f, "r/backups"));
    /* the other repository is as it was */
    SH(f, 0, "\"$BR\" --repo other collection list --json");
    assert_string_equal(f->out, "[]\n");
}

/* A row the target refuses (SQLite kept text in an integer column; PostgreSQL does not)
 * fails the move naming the table and row; the source stays the repository, the target
 * empty (the move succeeds there once the row is fixed). */
static void test_failure_mid_copy_changes_nothing(void **state)
{
    fx *f = *state;
    char url[512];
    if (!pg_db(url, sizeof url)) return;
    fx_gen(f, "gen", 12);
    RUN(f, 0, "import -a -s gen -c %s -m gen.map", f->coll);
    tu_db_exec(f->repo, "UPDATE item SET handle_num = 'not a number' WHERE id = 7");
    char *before = snapshot(f);
    RUN(f, 4, "migrate --to '%s'", url);
    assert_contains(f->err, "cannot copy row id=7 of table item into the target");
    assert_contains(f->err, "the repository stays where it was (embedded)");
    assert_embedded(f);
    assert_false(fx_exists(f, "r/backups"));
    assert_int_equal(fx_count_entries(f, "r/tmp"), 0);
    char *after = snapshot(f);
    assert_same(before, after, "after the failed move");
    free(before);
    free(after);
    tu_db_exec(f->repo, "UPDATE item SET handle_num = 7 WHERE id = 7");
    RUN(f, 0, "migrate --to '%s'", url);
    assert_on_pg(f, url);
}

/* Back to embedded where a DIR/bulkrepo.db is in the way: refused, or moved aside with
 * --replace. */
static void test_replace(void **state)
{
    fx *f = *state;
    char url[512];
    if (!pg_db(url, sizeof url)) return;
    fx_dc(f, "p/a", "Alpha");
    RUN(f, 0, "import -a -s p -c %s -m a.map", f->coll);
    RUN(f, 0, "migrate --to '%s'", url);
    SH(f, 0, "cp r/backups/bulkrepo-*.db r/bulkrepo.db");
    char *before = snapshot(f);
    RUN(f, 3, "migrate --to embedded");
    assert_contains(f->err, "--replace");
    assert_true(fx_exists(f, "r/bulkrepo.conf")); /* still on PostgreSQL */
    RUN(f, 0, "migrate --to embedded --replace");
    assert_contains(f->out, "the embedded database that was in the way: ");
    assert_embedded(f);
    assert_int_equal(fx_count_entries(f, "r/backups"), 3);
    char *after = snapshot(f);
    assert_same(before, after, "after the move back over an old file");
    free(before);
    free(after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        MIG_TEST(test_usage),
        MIG_TEST(test_refuses_running_job),
        MIG_TEST(test_round_trip),
        MIG_TEST(test_refuses_target_with_repository),
        MIG_TEST(test_failure_mid_copy_changes_nothing),
        MIG_TEST(test_replace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
