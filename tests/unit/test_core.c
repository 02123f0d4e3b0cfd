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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_absolute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
