/* A format driver's reader under the fuzzer: the input is written as one file
 * named like the format's input, every record is read, the reader is rewound
 * and read again (the import's second pass), then closed.  For the readers
 * that landed with the one pipeline (ONIX, XLSX); the older ones have their
 * own targets. */
#ifndef BR_FUZZ_READER_H
#define BR_FUZZ_READER_H

#include "formats/format.h"
#include "fuzz_util.h"

static int fz_read_all(const br_format *f, br_reader *r, br_record *rec, size_t *n)
{
    br_read_info info;
    br_error err;
    int rc;
    while ((rc = f->next(r, rec, &info, &err)) == 1 && (*n)++ < 20000)
        if (!info.key) abort(); /* every record has a key */
    return rc;
}

static int fz_reader(const br_format *f, const char *name, const uint8_t *data, size_t size)
{
    const char *path = fz_path(name);
    fz_write(path, data, size);
    char scratch[4096];
    snprintf(scratch, sizeof scratch, "%s/scratch", fz_dir());
    fz_rmtree(scratch);
    if (mkdir(scratch, 0700)) abort();
    br_limits lim;
    br_limits_default(&lim);
    lim.max_file_size = 1 << 20;
    lim.max_archive_size = 8 << 20;
    br_diag_sink sink = {fz_diag, NULL, 0, 0, 0};
    br_read_options ro = {path, scratch, &lim, NULL, 1, &sink};
    br_reader *r = NULL;
    br_error err;
    if (f->open(&ro, &r, &err)) return 0;
    br_record *rec = br_record_new();
    if (!rec) abort();
    size_t n = 0;
    if (fz_read_all(f, r, rec, &n) >= 0 && !f->rewind(r, &err)) fz_read_all(f, r, rec, &n);
    br_record_free(rec);
    f->close(r);
    return 0;
}

#endif
