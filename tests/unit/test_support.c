/* The shared test support itself (tests/support, cli_fixture.h): a CLI test
 * without a binary to run fails instead of passing, and the helpers other
 * tests build on do what they say.  The failure cases run this program again
 * as a child (`test_support child CASE`) with a cmocka group of one test, so
 * their exit status is that of a real test binary. */
#define _GNU_SOURCE
#include <limits.h>
#include "cli_fixture.h"
#include "repo_fixture.h"

static char self[PATH_MAX];

/* ---- child cases: each must make its cmocka group fail ---------------------------------- */

static void child_cli_test(void **state)
{
    fx *f = *state;
    RUN(f, 0, "--version");
}

static void child_no_br(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(tu_run(&out, NULL, "echo plain"), 0);
    assert_string_equal(out, "plain\n");
    free(out);
}

static void child_missing_file(void **state)
{
    (void)state;
    assert_file_equals("/nonexistent/brtest", "x");
}

static void child_wrong_content(void **state)
{
    char *dir = tu_tmpdir();
    *state = dir;
    tu_write(dir, "a.txt", "actual\n");
    assert_file_equals(tu_path(dir, "a.txt"), "expected\n");
}

static int child_teardown_dir(void **state)
{
    if (*state) tu_rmtree(*state);
    free(*state);
    return 0;
}

static void child_br_error(void **state)
{
    tu_repo *f = *state;
    br_error err;
    assert_br_ok(br_repo_init(f->repo_dir, NULL, &err), &err); /* already there */
}

static int run_child(const char *name)
{
    const struct CMUnitTest cli[] = {FX_TEST(child_cli_test)};
    const struct CMUnitTest nobr[] = {cmocka_unit_test(child_no_br)};
    const struct CMUnitTest missing[] = {cmocka_unit_test(child_missing_file)};
    const struct CMUnitTest wrong[] = {
        cmocka_unit_test_teardown(child_wrong_content, child_teardown_dir)};
    const struct CMUnitTest brerr[] = {
        cmocka_unit_test_setup_teardown(child_br_error, tu_repo_setup, tu_repo_teardown)};
    if (!strcmp(name, "cli")) return cmocka_run_group_tests(cli, NULL, NULL);
    if (!strcmp(name, "nobr")) return cmocka_run_group_tests(nobr, NULL, NULL);
    if (!strcmp(name, "missing")) return cmocka_run_group_tests(missing, NULL, NULL);
    if (!strcmp(name, "wrong")) return cmocka_run_group_tests(wrong, NULL, NULL);
    if (!strcmp(name, "brerr")) return cmocka_run_group_tests(brerr, NULL, NULL);
    fprintf(stderr, "unknown child case %s\n", name);
    return 2;
}

/* Runs `ENV self child CASE`; returns its exit status, stderr in *err. */
static int child(char **err, const char *env, const char *name)
{
    char *out = NULL;
    int rc = tu_run(&out, err, "%s '%s' child %s", env, self, name);
    free(out);
    return rc;
}

/* ---- BULKREPO_BIN ------------------------------------------------------------------------ */

static void test_cli_test_fails_without_binary(void **state)
{
    (void)state;
    char *err = NULL;
    /* Unset: the test fails and says why (it used to fall back to
     * build/bulkrepo, someone else's binary, or to "not found" per command). */
    assert_int_not_equal(child(&err, "env -u BULKREPO_BIN", "cli"), 0);
    assert_contains(err, "BULKREPO_BIN is not set");
    free(err);
    /* Empty, a folder, a file that does not exist, a file that is not executable. */
    assert_int_not_equal(child(&err, "BULKREPO_BIN=", "cli"), 0);
    assert_contains(err, "BULKREPO_BIN is not set");
    free(err);
    assert_int_not_equal(child(&err, "BULKREPO_BIN=/tmp", "cli"), 0);
    assert_contains(err, "BULKREPO_BIN=/tmp is not an executable file");
    free(err);
    assert_int_not_equal(child(&err, "BULKREPO_BIN=/nonexistent/bulkrepo", "cli"), 0);
    assert_contains(err, "is not an executable file");
    free(err);
    char *dir = tu_tmpdir();
    tu_write(dir, "bulkrepo", "#!/bin/sh\nexit 0\n");
    char env[4400];
    snprintf(env, sizeof env, "BULKREPO_BIN='%s'", tu_path(dir, "bulkrepo"));
    assert_int_not_equal(child(&err, env, "cli"), 0);
    assert_contains(err, "is not an executable file");
    free(err);
    tu_rmtree(dir);
    free(dir);
}

static void test_cli_test_passes_with_binary(void **state)
{
    (void)state;
    char *err = NULL;
    /* The control: the same child passes with the binary under test, also
     * when it is given relative to the folder the tests run from. */
    assert_int_equal(child(&err, "", "cli"), 0);
    free(err);
    const char *bin = tu_bin();
    char cwd[PATH_MAX], env[PATH_MAX + 64];
    assert_non_null(getcwd(cwd, sizeof cwd));
    size_t n = strlen(cwd);
    if (!strncmp(bin, cwd, n) && bin[n] == '/') {
        snprintf(env, sizeof env, "BULKREPO_BIN='%s'", bin + n + 1);
        assert_int_equal(child(&err, env, "cli"), 0);
        free(err);
    }
}

/* A command that does not name $BR needs no binary (tests of the library use
 * tu_run for diff and the like); one that does gets it as an absolute path. */
static void test_run_and_br(void **state)
{
    (void)state;
    char *out = NULL, *err = NULL;
    assert_int_equal(child(&err, "env -u BULKREPO_BIN", "nobr"), 0);
    free(err);
    assert_int_equal(tu_run(&out, NULL, "printenv BR"), 1);
    assert_string_equal(out, "");
    free(out);
    assert_int_equal(tu_run(&out, NULL, "cd / && echo \"$BR\""), 0);
    char want[PATH_MAX + 2];
    snprintf(want, sizeof want, "%s\n", tu_bin());
    assert_string_equal(out, want);
    assert_true(out[0] == '/');
    free(out);
}

/* ---- files ------------------------------------------------------------------------------- */

static void test_assert_file_fails(void **state)
{
    (void)state;
    char *err = NULL;
    assert_int_not_equal(child(&err, "", "missing"), 0);
    assert_contains(err, "missing file /nonexistent/brtest");
    free(err);
    assert_int_not_equal(child(&err, "", "wrong"), 0);
    assert_contains(err, "--- got ---\nactual\n");
    assert_contains(err, "--- expected ---\nexpected\n");
    free(err);
}

static void test_files_and_paths(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    const char *a = tu_path(dir, "a"), *b = tu_path(dir, "sub/b");
    assert_string_not_equal(a, b); /* several at once */
    assert_false(tu_exists(a));
    assert_int_equal(tu_count_entries(a), -1);
    tu_write(dir, "sub/b", "bee");
    assert_true(tu_exists(b));
    assert_int_equal(tu_count_entries(tu_path(dir, "sub")), 1);
    assert_int_equal(tu_count_entries(dir), 1);
    assert_file_equals(b, "bee");
    assert_int_equal(symlink("nowhere", a), 0);
    assert_true(tu_exists(a)); /* a dangling link is something */
    assert_int_equal(tu_count_entries(dir), 2);
    assert_true(tu_data("saf/basic")[0] == '/');
    assert_true(tu_exists(tu_data("saf/basic")));
    tu_rmtree(dir);
    assert_false(tu_exists(dir));
    free(dir);
}

static void test_log(void **state)
{
    (void)state;
    tu_log log;
    tu_log_init(&log);
    assert_string_equal(log.text, "");
    for (int i = 0; i < 1000; i++)
        tu_log_printf(&log, "line %d\n", i);
    assert_int_equal(log.len, strlen(log.text));
    assert_true(!strncmp(log.text, "line 0\nline 1\n", 14));
    assert_contains(log.text, "\nline 999\n");
    tu_log_clear(&log);
    assert_string_equal(log.text, "");
    tu_log_printf(&log, "%s", "again");
    assert_string_equal(log.text, "again");
    tu_log_dispose(&log);
    assert_null(log.text);
}

/* ---- the repository fixture -------------------------------------------------------------- */

static void test_repo_fixture(void **state)
{
    tu_repo *f = *state;
    assert_string_equal(f->coll, "4321/1");
    assert_true(tu_exists(tu_path(f->repo_dir, tu_on_pg() ? "bulkrepo.conf" : "bulkrepo.db")));
    br_container c;
    br_error err;
    assert_br_ok(br_container_get(f->repo, f->coll, &c, &err), &err);
    assert_string_equal(c.name, "Articles");
    tu_repo *g = tu_repo_new(NULL, NULL);
    assert_string_equal(g->coll, "");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", g->dir);
    tu_repo_free(g);
    assert_false(tu_exists(dir)); /* removed */
    tu_repo_free(NULL);
}

static void test_br_ok_prints_the_error(void **state)
{
    (void)state;
    char *err = NULL;
    assert_int_not_equal(child(&err, "", "brerr"), 0);
    assert_contains(err, "br_repo_init(f->repo_dir, NULL, &err) = -4 (");
    free(err);
}

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = 0;
    if (argc == 3 && !strcmp(argv[1], "child")) return run_child(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_test_fails_without_binary),
        cmocka_unit_test(test_cli_test_passes_with_binary),
        cmocka_unit_test(test_run_and_br),
        cmocka_unit_test(test_assert_file_fails),
        cmocka_unit_test(test_files_and_paths),
        cmocka_unit_test(test_log),
        cmocka_unit_test_setup_teardown(test_repo_fixture, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test(test_br_ok_prints_the_error),
    };
    return cmocka_run_group_tests_name("test support", tests, NULL, NULL);
}
