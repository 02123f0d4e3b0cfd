/* The Esploro CSV reader: the input is the CSV file; every group is read,
 * then the reader goes back to the first group's offset and reads on, as the
 * import's second pass does. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_path("in.csv");
    fz_write(path, data, size);
    br_diag_sink sink = {fz_diag, NULL, 0, 0, 0};
    br_ecsv_options opt;
    memset(&opt, 0, sizeof opt);
    br_limits_default(&opt.limits);
    opt.limits.max_field = 64 * 1024;
    opt.diags = &sink;
    br_ecsv_reader *r = NULL;
    br_error err;
    if (br_ecsv_open(path, &opt, &r, &err)) return 0;
    br_record *rec = br_record_new();
    if (!rec) abort();
    br_ecsv_group g;
    uint64_t first = 0;
    int have_first = 0, rc;
    size_t groups = 0;
    while ((rc = br_ecsv_next(r, rec, &g, &err)) == 1 && groups++ < 10000) {
        if (!have_first) {
            first = g.offset;
            have_first = 1;
        }
        if (!g.key) abort();
    }
    if (have_first && !br_ecsv_seek(r, first, &err))
        while (br_ecsv_next(r, rec, &g, &err) == 1 && groups++ < 20000)
            ;
    br_record_free(rec);
    br_ecsv_close(r);
    return 0;
}
