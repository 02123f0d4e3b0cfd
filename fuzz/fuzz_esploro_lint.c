/* bulkrepo lint --fix: the input is the CSV file; the linter's one pass runs
 * with a fix file, and the fixed file is linted again: what --fix writes must
 * be readable (a pass that completed on it). */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = fz_path("lint.csv");
    const char *fixed = fz_path("fixed.csv");
    fz_write(in, data, size);
    unlink(fixed);
    br_diag_sink sink = {fz_diag, NULL, 0, 0, 0};
    br_ecsv_options opt;
    memset(&opt, 0, sizeof opt);
    br_limits_default(&opt.limits);
    opt.limits.max_field = 64 * 1024;
    opt.diags = &sink;
    opt.fix_path = fixed;
    br_ecsv_summary sum;
    br_error err;
    int rc = br_ecsv_lint(in, &opt, &sum, &err);
    if (rc) return 0;
    struct stat st;
    if (stat(fixed, &st)) return 0; /* nothing to fix */
    opt.fix_path = NULL;
    br_ecsv_summary again;
    rc = br_ecsv_lint(fixed, &opt, &again, &err);
    if (rc && rc != BR_EINVAL && rc != BR_ELIMIT) abort();
    return 0;
}
