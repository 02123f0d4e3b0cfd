/* Shared fixture for the tests that drive the library directly (no binary):
 * a fresh temporary folder DIR holding a new, open repository DIR/repo with one
 * collection, and assertions that print a br_error when a call fails.
 *
 *   typedef tu_repo fixture;
 *   ...  cmocka_unit_test_setup_teardown(test_x, tu_repo_setup, tu_repo_teardown)
 *
 *   assert_br_ok(br_item_insert(f->repo, rec, NULL, &err), &err);
 *
 * Header-only (static inline), so it needs no build rule; tests link
 * libbulkrepo.a anyway. */
#ifndef BR_REPO_FIXTURE_H
#define BR_REPO_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "pg.h"
#include "bulkrepo/bulkrepo.h"

/* "source:line:column: message" of err, in one of four static buffers. */
static inline const char *tu_errtext(const br_error *err)
{
    static char buf[4][2048];
    static unsigned k;
    char *b = buf[k++ % 4];
    br_error_format(err, b, sizeof buf[0]);
    return b;
}

static inline void tu_br_ok(int rc, const br_error *err, const char *call, const char *file,
                            int line)
{
    if (rc == 0) return;
    print_error("%s:%d: %s = %d (%s): %s\n", file, line, call, rc, br_code_name(rc),
                tu_errtext(err));
    _fail(file, line);
}

/* Fails unless the call returns 0, printing the call, its code and err. */
#define assert_br_ok(call, err) tu_br_ok((call), (err), #call, __FILE__, __LINE__)

/* 1 when the run's repositories are on PostgreSQL: BULKREPO_TEST_STORE=postgresql with a
 * throwaway server's admin address in BULKREPO_TEST_PG (make test-pg).  Tests of what only
 * the embedded database has (its write gate, WAL, integrity check) skip themselves then. */
static inline int tu_on_pg(void)
{
    const char *s = getenv("BULKREPO_TEST_STORE");
    return s && !strcmp(s, "postgresql");
}

/* For a test of what only the embedded database has: skipped, saying why, on PostgreSQL. */
#define TU_SQLITE_ONLY(why)                                                                        \
    do {                                                                                           \
        if (tu_on_pg()) {                                                                          \
            print_message("skipped on PostgreSQL: %s\n", why);                                     \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* A new repository in dir (br_repo_init with prefix, NULL = the default; on a database of
 * its own when tu_on_pg), opened; the test fails on any error. */
static inline br_repo *tu_repo_create(const char *dir, const char *prefix)
{
    br_error err;
    br_repo *repo = NULL;
    char store[512] = "";
    if (tu_on_pg()) assert_int_equal(tpg_create_db(store, sizeof store), 0);
    br_init_options io = {.handle_prefix = prefix, .store = store[0] ? store : NULL};
    assert_br_ok(br_repo_init_ext(dir, &io, &err), &err);
    assert_br_ok(br_repo_open(dir, &repo, &err), &err);
    return repo;
}

typedef struct tu_repo {
    char *dir;           /* a fresh temporary folder, removed by tu_repo_free */
    char repo_dir[4096]; /* DIR/repo: initialised and open as repo */
    br_repo *repo;
    char coll[64]; /* the handle of the collection tu_repo_new made ("" when none) */
} tu_repo;

/* A fresh folder and repository (handle prefix `prefix`, NULL = the default),
 * with a top-level collection named `collection` unless it is NULL. */
static inline tu_repo *tu_repo_new(const char *prefix, const char *collection)
{
    tu_repo *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = tu_tmpdir();
    snprintf(f->repo_dir, sizeof f->repo_dir, "%s/repo", f->dir);
    f->repo = tu_repo_create(f->repo_dir, prefix);
    if (collection) {
        br_error err;
        br_container c;
        assert_br_ok(br_container_create(f->repo, 0, collection, NULL, &c, &err), &err);
        snprintf(f->coll, sizeof f->coll, "%s", c.handle);
    }
    return f;
}

static inline void tu_repo_free(tu_repo *f)
{
    if (!f) return;
    br_repo_free(f->repo);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
}

/* cmocka setup/teardown: prefix 4321 and a collection "Articles" (4321/1). */
static inline int tu_repo_setup(void **state)
{
    *state = tu_repo_new("4321", "Articles");
    return 0;
}

static inline int tu_repo_teardown(void **state)
{
    tu_repo_free(*state);
    return 0;
}

#endif
