/* Internal helpers of src/lib/core that the formats and jobs share. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "core/core.h"

static void test_path_absolute(void **state)
{
    (void)state;
    char out[PATH_MAX], cwd[PATH_MAX], want[PATH_MAX + 16];
    br_error err = {0};
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(br_path_absolute("new.map", out, sizeof out, &err), 0);
    snprintf(want, sizeof want, "%s/new.map", cwd);
    assert_string_equal(out, want);
    assert_int_equal(br_path_absolute("/new.map", out, sizeof out, &err), 0);
    assert_string_equal(out, "/new.map");
    assert_int_equal(br_path_absolute("/no/such/folder/x.csv", out, sizeof out, &err), BR_EUSAGE);
    /* A path longer than PATH_MAX is refused, not cut to a shorter one that
     * names another file. */
    size_t n = PATH_MAX + 100;
    char *longp = malloc(n + 1);
    assert_non_null(longp);
    memcpy(longp, "/tmp/", 5);
    memset(longp + 5, 'a', n - 5);
    longp[n] = 0;
    assert_int_equal(br_path_absolute(longp, out, sizeof out, &err), BR_ELIMIT);
    assert_non_null(strstr(err.message, "path too long"));
    free(longp);
}

/* A caller adding context to an error it got passes err's own message and
 * place back in: they survive (they were cleared before being read). */
static void test_error_set_from_itself(void **state)
{
    (void)state;
    br_error err;
    br_error_set(&err, BR_ESTORE, "bulkrepo.db", 3, 0, "disk I/O error");
    assert_int_equal(br_error_set(&err, BR_EIO, err.place.source, err.place.line, 0,
                                  "cannot import: %s", err.message),
                     BR_EIO);
    assert_int_equal(err.code, BR_EIO);
    assert_string_equal(err.message, "cannot import: disk I/O error");
    assert_string_equal(err.place.source, "bulkrepo.db");
    assert_int_equal(err.place.line, 3);
    /* NULL: the code comes back, nothing is written. */
    assert_int_equal(br_error_set(NULL, BR_ENOTFOUND, NULL, 0, 0, "x"), BR_ENOTFOUND);
}

static void test_error_place_and_format(void **state)
{
    (void)state;
    char buf[256] = "junk";
    assert_int_equal(br_error_format(NULL, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    br_error_locate(NULL, "a.xml", 1, 2); /* no crash */
    br_error err;
    br_error_set(&err, BR_EINVAL, NULL, 0, 0, "bad value");
    br_error_locate(&err, "item_1/dublin_core.xml", 4, 7);
    br_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "item_1/dublin_core.xml:4:7: bad value");
    /* A place already known is kept. */
    br_error_locate(&err, "elsewhere", 9, 9);
    assert_string_equal(err.place.source, "item_1/dublin_core.xml");
    assert_int_equal(err.place.line, 4);
    /* Cut to fit, NUL-terminated, length within the buffer. */
    char small[8];
    size_t n = br_error_format(&err, small, sizeof small);
    assert_true(n < sizeof small);
    assert_int_equal(strlen(small), n);
    /* No message: the code's name. */
    br_error_clear(&err);
    err.code = BR_ESTORE;
    br_error_format(&err, buf, sizeof buf);
    assert_string_equal(buf, "database error");
}

/* A path whose temp name does not fit is refused, not written under a cut name. */
static void test_write_file_atomic(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char path[4300];
    br_error err;
    snprintf(path, sizeof path, "%s/a.txt", dir);
    assert_int_equal(br_write_file_atomic(path, "hello", 5, &err), 0);
    assert_file_equals(path, "hello");
    assert_int_equal(tu_count_entries(dir), 1); /* no temp file left */
    size_t n = strlen(dir);
    memcpy(path, dir, n);
    path[n++] = '/';
    for (; n < 4195; n++)
        path[n] = n % 200 ? 'x' : '/';
    path[n] = 0;
    assert_int_equal(br_write_file_atomic(path, "x", 1, NULL), BR_ELIMIT);
    assert_int_equal(br_write_file_atomic(path, "x", 1, &err), BR_ELIMIT);
    assert_int_equal(err.code, BR_ELIMIT);
    assert_int_equal(tu_count_entries(dir), 1);
    tu_rmtree(dir);
    free(dir);
}

/* NFC: text below U+0300 is its own NFC (the fast path); anything else goes
 * through utf8proc, and both agree with it. */
static void test_utf8_nfc(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"plain ASCII", "plain ASCII"},
        {"caf\xc3\xa9 \xc3\x85ngstr\xc3\xb6m \xc3\x9f \xc5\x93",
         "caf\xc3\xa9 \xc3\x85ngstr\xc3\xb6m \xc3\x9f \xc5\x93"},
        {"cafe\xcc\x81", "caf\xc3\xa9"},              /* e + combining acute */
        {"\xe2\x84\xab", "\xc3\x85"},                 /* U+212B ANGSTROM SIGN */
        {"\xe1\x84\x80\xe1\x85\xa1", "\xea\xb0\x80"}, /* Hangul jamo compose */
        {"\xcb\xbf\xcc\x81", "\xcb\xbf\xcc\x81"},     /* U+02FF then a mark: stays */
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *n = br_utf8_nfc(cases[i][0]);
        assert_non_null(n);
        assert_string_equal(n, cases[i][1]);
        free(n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_absolute),         cmocka_unit_test(test_utf8_nfc),
        cmocka_unit_test(test_error_set_from_itself), cmocka_unit_test(test_error_place_and_format),
        cmocka_unit_test(test_write_file_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
