/* Schema versions and upgrades (repo.h): the repository written by release
 * ef72367 (tests/data/repos/v1, schema version 1) opened by this library:
 * upgraded once, in one transaction, after a backup, keeping every item,
 * file, job, user and token; the upgraded schema equals a fresh init's; a
 * repository newer than the library is refused and left untouched; the CLI
 * upgrades with a notice, `upgrade --dry-run` shows the plan, serve refuses. */
#define _GNU_SOURCE
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include "cli_fixture.h"
#include "repo_fixture.h"
#include "bulkrepo/bulkrepo.h"
#include "bulkrepo/user.h"

#define V1_TOKEN    "fLMp_Eyi2ILxcP3bYN7YOKaBaI38bYXApGjh0gdKQZQ"
#define V1_PASSWORD "fixture-password-1"

typedef struct up {
    char *dir;
    char repo[4200]; /* DIR/r: a copy of the fixture */
} up;

/* A copy of tests/data/repos/v1 at DIR/r, with the empty folders git does not keep. */
static void copy_fixture(const char *dst)
{
    assert_int_equal(tu_run(NULL, NULL, "cp -R '%s' '%s' && mkdir -p '%s/assetstore/tmp' '%s/tmp'",
                            tu_data("repos/v1"), dst, dst, dst),
                     0);
}

static int up_setup(void **state)
{
    up *u = calloc(1, sizeof *u);
    assert_non_null(u);
    u->dir = tu_tmpdir();
    snprintf(u->repo, sizeof u->repo, "%s/r", u->dir);
    copy_fixture(u->repo);
    *state = u;
    return 0;
}

static int up_teardown(void **state)
{
    up *u = *state;
    tu_rmtree(u->dir);
    free(u->dir);
    free(u);
    return 0;
}

static sqlite3 *db_open(const char *path)
{
    sqlite3 *c = NULL;
    assert_int_equal(sqlite3_open_v2(path, &c, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(c, 5000);
    return c;
}

static void db_exec(const char *path, const char *sql)
{
    sqlite3 *c = db_open(path);
    char *msg = NULL;
    if (sqlite3_exec(c, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
    sqlite3_close(c);
}

/* Every row of a query, cells separated by '|', rows by '\n', appended to log. */
static void db_dump(sqlite3 *c, const char *sql, tu_log *log)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(c));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            tu_log_printf(log, "%s%s", i ? "|" : "", v ? v : "NULL");
        }
        tu_log_printf(log, "\n");
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
}

static char *meta_version(const char *db)
{
    sqlite3 *c = db_open(db);
    tu_log log;
    tu_log_init(&log);
    db_dump(c, "SELECT value FROM meta WHERE key = 'schema_version'", &log);
    sqlite3_close(c);
    return log.text;
}

/* The schema as SQLite sees it, independent of how the SQL was written:
 * tables (rowid or not, strict), each column (name, type, not null, default,
 * primary key), foreign keys, indexes with their columns, and the text of
 * indexes and triggers with whitespace collapsed. */
static void schema_signature(const char *db, tu_log *log)
{
    sqlite3 *c = db_open(db);
    db_dump(c,
            "SELECT name, type, ncol, wr, strict FROM pragma_table_list "
            "WHERE schema = 'main' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            log);
    db_dump(c,
            "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, p.hidden "
            "FROM sqlite_schema m, pragma_table_xinfo(m.name) p WHERE m.type = 'table' "
            "ORDER BY m.name, p.cid",
            log);
    db_dump(c,
            "SELECT m.name, f.id, f.seq, f.\"table\", f.\"from\", f.\"to\", f.on_update, "
            "f.on_delete FROM sqlite_schema m, pragma_foreign_key_list(m.name) f "
            "WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq",
            log);
    db_dump(
        c,
        "SELECT m.name, l.name, l.\"unique\", l.origin, l.partial, x.seqno, x.name, x.\"desc\", "
        "x.coll, x.key FROM sqlite_schema m, pragma_index_list(m.name) l, "
        "pragma_index_xinfo(l.name) x WHERE m.type = 'table' ORDER BY m.name, l.name, x.seqno",
        log);
    /* Whitespace runs (line breaks, indentation) count as one space. */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(c,
                                        "SELECT type, name, tbl_name, sql FROM sqlite_schema "
                                        "WHERE type IN ('index', 'trigger', 'view') AND sql IS "
                                        "NOT NULL ORDER BY type, name",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *sql = (const char *)sqlite3_column_text(st, 3);
        tu_log_printf(log, "%s|%s|%s|", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
                      sqlite3_column_text(st, 2));
        int space = 0;
        for (const char *p = sql; *p; p++) {
            if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
                space = 1;
                continue;
            }
            if (space) tu_log_printf(log, " ");
            space = 0;
            tu_log_printf(log, "%c", *p);
        }
        tu_log_printf(log, "\n");
    }
    sqlite3_finalize(st);
    sqlite3_close(c);
}

typedef struct notices {
    int n;
    br_upgrade_report last;
} notices;

static void on_upgrade(void *ctx, const br_upgrade_report *rep)
{
    notices *n = ctx;
    n->n++;
    n->last = *rep;
}

typedef struct items {
    int n;
    char handles[8][64];
} items;

static int collect_item(void *ctx, const br_item_summary *s)
{
    items *it = ctx;
    assert_true(it->n < 8);
    snprintf(it->handles[it->n++], 64, "%s", s->handle);
    return 0;
}

/* ---- the library --------------------------------------------------------------------------- */

static void test_fixture_upgrades_keeping_everything(void **state)
{
    up *u = *state;
    br_error err;
    br_schema_status st;
    assert_br_ok(br_repo_schema_status(u->repo, &st, &err), &err);
    assert_int_equal(st.version, 1);
    assert_int_equal(st.latest, br_schema_latest());
    assert_true(st.latest >= 2);

    /* br_repo_open refuses and says what to do; nothing changes. */
    br_repo *repo = NULL;
    assert_int_equal(br_repo_open(u->repo, &repo, &err), BR_ESTORE);
    assert_null(repo);
    assert_contains(err.message, "schema version 1");
    assert_contains(err.message, "upgrade");
    assert_false(tu_exists(tu_path(u->repo, "backups")));

    /* The dry run changes nothing either. */
    br_upgrade_report rep;
    assert_br_ok(br_repo_upgrade(u->repo, 1, &rep, &err), &err);
    assert_int_equal(rep.from, 1);
    assert_int_equal(rep.to, 1);
    assert_int_equal(rep.latest, st.latest);
    assert_string_equal(rep.backup, "");
    char *v = meta_version(tu_path(u->repo, "bulkrepo.db"));
    assert_string_equal(v, "1\n");
    free(v);
    char what[256];
    assert_br_ok(br_schema_migration_describe(2, what, sizeof what), NULL);
    assert_contains(what, "token");
    assert_int_equal(br_schema_migration_describe(1, what, sizeof what), BR_ENOTFOUND);
    assert_int_equal(br_schema_migration_describe(st.latest + 1, what, sizeof what), BR_ENOTFOUND);

    /* Opened with upgrade: one notice, a backup of version 1. */
    notices n = {0};
    br_open_options opts = {.upgrade = 1, .on_upgrade = on_upgrade, .ctx = &n};
    assert_br_ok(br_repo_open_ext(u->repo, &opts, &repo, &err), &err);
    assert_int_equal(n.n, 1);
    assert_int_equal(n.last.from, 1);
    assert_int_equal(n.last.to, br_schema_latest());
    assert_true(tu_exists(n.last.backup));
    assert_contains(n.last.backup, "/backups/bulkrepo-v1-");
    assert_int_equal(tu_count_entries(tu_path(u->repo, "backups")), 1);
    v = meta_version(n.last.backup);
    assert_string_equal(v, "1\n");
    free(v);

    /* Every item, file, job, user and token survived. */
    assert_int_equal(br_item_count(repo), 5);
    items it = {0};
    br_item_query q = {0};
    assert_br_ok(br_item_list(repo, &q, collect_item, &it, &err), &err);
    assert_int_equal(it.n, 5);
    for (int i = 0; i < 5; i++) {
        char want[32];
        snprintf(want, sizeof want, "123456789/%d", i + 2);
        assert_string_equal(it.handles[i], want);
    }
    /* ... and is searchable: migration 005 indexed every item. */
    br_search_query sq = {"riparian creator:okafor", 0, 0, BR_SEARCH_BY_HANDLE};
    items found = {0};
    int64_t hits = 0;
    assert_br_ok(br_search(repo, &sq, collect_item, &found, &hits, &err), &err);
    assert_int_equal(hits, 2);
    assert_string_equal(found.handles[0], "123456789/2");
    assert_string_equal(found.handles[1], "123456789/4");
    int64_t id;
    assert_br_ok(br_item_find(repo, "123456789/2", &id, &err), &err);
    br_record *rec = br_record_new();
    assert_br_ok(br_item_load(repo, id, rec, &err), &err);
    assert_true(rec->n_bs >= 1);
    br_record_free(rec);
    br_fsck_report fr;
    br_diag_sink sink = {0};
    assert_br_ok(br_repo_fsck(repo, &sink, &fr, &err), &err);
    assert_true(fr.db_ok);
    assert_int_equal(fr.items, 5);
    assert_int_equal(fr.bitstreams, 4);
    assert_int_equal(fr.files, 4);
    assert_int_equal(fr.bad_checksums + fr.missing_files + fr.orphan_files + fr.orphan_rows, 0);
    static const char *const types[] = {"import-saf", "import-esploro", "export-saf"};
    for (int j = 1; j <= 3; j++) {
        br_job job;
        assert_br_ok(br_job_get(repo, j, &job, &err), &err);
        assert_string_equal(job.type, types[j - 1]);
        assert_int_equal(job.status, BR_JOB_COMPLETED_SUCCESS);
    }
    br_job job;
    assert_br_ok(br_job_get(repo, 1, &job, &err), &err);
    assert_int_equal(job.counters.imported, 3);
    br_user usr;
    assert_br_ok(br_user_get(repo, "alice", &usr, &err), &err);
    br_role r;
    assert_int_equal(br_role_find("Repository Manager", &r), 0);
    assert_int_equal(usr.roles, UINT32_C(1) << r.index);
    assert_int_equal(usr.n_tokens, 1);
    assert_int_equal(usr.disabled, 0);
    char sid[BR_SECRET_SIZE];
    br_identity who;
    assert_br_ok(br_auth_login(repo, "alice", V1_PASSWORD, 0, sid, &who, &err), &err);
    /* The version-1 token still works, now with a name and the default expiry. */
    int64_t now = (int64_t)time(NULL);
    assert_br_ok(br_auth_check(repo, V1_TOKEN, &who, &err), &err);
    assert_string_equal(who.username, "alice");
    assert_true(who.expires > now + 89 * 86400 && who.expires <= now + 90 * 86400 + 5);
    /* The handle mark came through: the next handle is new. */
    br_container k;
    assert_br_ok(br_container_create(repo, 0, "After the upgrade", NULL, &k, &err), &err);
    assert_string_equal(k.handle, "123456789/7");
    br_repo_free(repo);

    /* Open again: nothing to do, no notice, no second backup. */
    n.n = 0;
    assert_br_ok(br_repo_open_ext(u->repo, &opts, &repo, &err), &err);
    assert_int_equal(n.n, 0);
    br_repo_free(repo);
    assert_br_ok(br_repo_open(u->repo, &repo, &err), &err);
    br_repo_free(repo);
    assert_br_ok(br_repo_upgrade(u->repo, 0, &rep, &err), &err);
    assert_int_equal(rep.from, br_schema_latest());
    assert_int_equal(rep.to, rep.from);
    assert_string_equal(rep.backup, "");
    assert_int_equal(tu_count_entries(tu_path(u->repo, "backups")), 1);
}

static void test_upgraded_schema_equals_fresh_init(void **state)
{
    up *u = *state;
    br_error err;
    assert_br_ok(br_repo_upgrade(u->repo, 0, NULL, &err), &err);
    char fresh[4200];
    snprintf(fresh, sizeof fresh, "%s/fresh", u->dir);
    assert_br_ok(br_repo_init(fresh, NULL, &err), &err);
    tu_log a, b;
    tu_log_init(&a);
    tu_log_init(&b);
    schema_signature(tu_path(u->repo, "bulkrepo.db"), &a);
    schema_signature(tu_path(fresh, "bulkrepo.db"), &b);
    if (strcmp(a.text, b.text)) {
        print_error("upgraded:\n%s\nfresh:\n%s\n", a.text, b.text);
        fail_msg("the upgraded schema differs from a fresh init's");
    }
    assert_contains(a.text, "api_token|4|name|TEXT|1|''|0|0");
    char *v = meta_version(tu_path(fresh, "bulkrepo.db"));
    char want[16];
    snprintf(want, sizeof want, "%d\n", br_schema_latest());
    assert_string_equal(v, want);
    free(v);
    tu_log_dispose(&a);
    tu_log_dispose(&b);
}

/* A migration that fails part-way leaves version 1 exactly, and no backup. */
static void test_failed_migration_rolls_back(void **state)
{
    up *u = *state;
    const char *db = tu_path(u->repo, "bulkrepo.db");
    /* Migration 2 creates this index: here it exists already, so it fails
     * after the ALTER TABLEs before it. */
    db_exec(db, "CREATE INDEX api_token_by_account ON api_token (account_id)");
    br_error err;
    br_upgrade_report rep;
    assert_int_equal(br_repo_upgrade(u->repo, 0, &rep, &err), BR_ESTORE);
    assert_contains(err.message, "002.sql");
    assert_int_equal(rep.to, 1);
    assert_string_equal(rep.backup, "");
    char *v = meta_version(db);
    assert_string_equal(v, "1\n");
    free(v);
    sqlite3 *c = db_open(db);
    tu_log cols;
    tu_log_init(&cols);
    db_dump(c, "SELECT name FROM pragma_table_info('api_token') ORDER BY cid", &cols);
    sqlite3_close(c);
    assert_string_equal(cols.text, "id\naccount_id\nhash\ncreated\n");
    tu_log_dispose(&cols);
    assert_int_equal(tu_count_entries(tu_path(u->repo, "backups")), 0);
    br_repo *repo = NULL;
    br_open_options opts = {.upgrade = 1};
    assert_int_equal(br_repo_open_ext(u->repo, &opts, &repo, &err), BR_ESTORE);
    assert_null(repo);
}

static void test_newer_repository_refused_untouched(void **state)
{
    up *u = *state;
    const char *db = tu_path(u->repo, "bulkrepo.db");
    db_exec(db, "UPDATE meta SET value = '999' WHERE key = 'schema_version'; "
                "PRAGMA wal_checkpoint(TRUNCATE)");
    char *before = NULL;
    assert_int_equal(tu_run(&before, NULL, "sha256sum '%s'", db), 0);
    struct stat s0;
    assert_int_equal(stat(db, &s0), 0);

    br_error err;
    br_repo *repo = NULL;
    assert_int_equal(br_repo_open(u->repo, &repo, &err), BR_ESTORE);
    assert_contains(err.message, "schema version 999");
    assert_contains(err.message, "newer bulkrepo");
    br_open_options opts = {.upgrade = 1};
    assert_int_equal(br_repo_open_ext(u->repo, &opts, &repo, &err), BR_ESTORE);
    assert_contains(err.message, "newer bulkrepo");
    assert_null(repo);
    br_upgrade_report rep;
    assert_int_equal(br_repo_upgrade(u->repo, 0, &rep, &err), BR_ESTORE);
    assert_int_equal(br_repo_upgrade(u->repo, 1, &rep, &err), BR_ESTORE);
    br_schema_status st;
    assert_br_ok(br_repo_schema_status(u->repo, &st, &err), &err);
    assert_int_equal(st.version, 999);
    assert_false(tu_exists(tu_path(u->repo, "backups")));
    char *after = NULL;
    assert_int_equal(tu_run(&after, NULL, "sha256sum '%s'", db), 0);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* A version that is no number is refused the same way. */
    db_exec(db, "UPDATE meta SET value = '2x' WHERE key = 'schema_version'");
    assert_int_equal(br_repo_open(u->repo, &repo, &err), BR_ESTORE);
    assert_contains(err.message, "invalid schema version");
    /* No repository at all: not found. */
    assert_int_equal(br_repo_schema_status(tu_path(u->dir, "none"), &st, &err), BR_ENOTFOUND);
    assert_int_equal(br_repo_upgrade(tu_path(u->dir, "none"), 0, &rep, &err), BR_ENOTFOUND);
}

/* ---- the command line ---------------------------------------------------------------------- */

static void test_cli_upgrade(void **state)
{
    fx *f = *state;
    /* The fixture instead of the setup's fresh repository. */
    SH(f, 0, "rm -rf old && cp -R '%s' old && mkdir -p old/assetstore/tmp old/tmp",
       tu_data("repos/v1"));
    RUN(f, 0, "--repo old upgrade --dry-run");
    assert_contains(f->out, "schema version 1");
    assert_contains(f->out, "1 -> 2");
    assert_contains(f->out, "dry run");
    assert_false(fx_exists(f, "old/backups"));
    json_t *j = fx_json(f, "--repo old upgrade --dry-run --json");
    assert_int_equal(json_integer_value(json_object_get(j, "from")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "to")), 1);
    assert_int_equal(json_array_size(json_object_get(j, "plan")), br_schema_latest() - 1);
    json_decref(j);

    /* serve is upgraded explicitly: it refuses, saying how. */
    SH(f, 4, "timeout 20 \"$BR\" --repo old serve --listen 127.0.0.1:0");
    assert_contains(f->err, "upgrade");
    assert_false(fx_exists(f, "old/backups"));

    /* Any other command upgrades first, with a notice on stderr; once. */
    RUN(f, 0, "--repo old item list");
    assert_contains(f->err, "upgraded the repository");
    assert_contains(f->err, "backups/bulkrepo-v1-");
    assert_int_equal(fx_count_entries(f, "old/backups"), 1);
    assert_contains(f->out, "123456789/6");
    RUN(f, 0, "--repo old item list");
    assert_not_contains(f->err, "upgraded");
    RUN(f, 0, "--repo old fsck");
    assert_contains(f->out, "clean");
    RUN(f, 0, "--repo old upgrade");
    assert_contains(f->out, "nothing to do");
    RUN(f, 0, "--repo old user token list");
    assert_contains(f->out, "token 1");
    assert_int_equal(fx_count_entries(f, "old/backups"), 1);

    /* `upgrade` itself, and two processes upgrading at once: one backup. */
    SH(f, 0, "rm -rf old2 && cp -R '%s' old2 && mkdir -p old2/assetstore/tmp old2/tmp",
       tu_data("repos/v1"));
    SH(f, 0,
       "{ \"$BR\" --repo old2 job list >a.out 2>a.err & \"$BR\" --repo old2 collection list "
       ">b.out 2>b.err; s=$?; wait $! && exit $s; }");
    assert_int_equal(fx_count_entries(f, "old2/backups"), 1);
    SH(f, 0, "rm -rf old3 && cp -R '%s' old3 && mkdir -p old3/assetstore/tmp old3/tmp",
       tu_data("repos/v1"));
    RUN(f, 0, "--repo old3 upgrade");
    assert_contains(f->out, "upgraded from schema version 1");
    assert_contains(f->out, "old3/backups/bulkrepo-v1-");

    /* A newer repository: every command refuses, nothing is written. */
    db_exec(fx_path(f, "old3/bulkrepo.db"),
            "UPDATE meta SET value = '999' WHERE key = 'schema_version'");
    RUN(f, 4, "--repo old3 item list");
    assert_contains(f->err, "newer bulkrepo");
    RUN(f, 4, "--repo old3 upgrade");
    assert_contains(f->err, "newer bulkrepo");
    RUN(f, 4, "--repo old3 upgrade --dry-run");
    assert_int_equal(fx_count_entries(f, "old3/backups"), 1);

    /* A fresh repository is at the latest version: nothing to do. */
    RUN(f, 0, "upgrade");
    assert_contains(f->out, "nothing to do");
    RUN(f, 0, "upgrade --help");
    RUN(f, 2, "upgrade --frobnicate");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fixture_upgrades_keeping_everything, up_setup,
                                        up_teardown),
        cmocka_unit_test_setup_teardown(test_upgraded_schema_equals_fresh_init, up_setup,
                                        up_teardown),
        cmocka_unit_test_setup_teardown(test_failed_migration_rolls_back, up_setup, up_teardown),
        cmocka_unit_test_setup_teardown(test_newer_repository_refused_untouched, up_setup,
                                        up_teardown),
        FX_TEST(test_cli_upgrade),
    };
    return cmocka_run_group_tests_name("schema versions and upgrades", tests, NULL, NULL);
}
