/* The SAF item reader: the input is one item folder, its files separated by
 * lines holding "%%": dublin_core.xml, contents, handle, collections,
 * relationships, metadata_dcterms.xml, then the files a.pdf and b.txt.  An
 * empty part leaves its file out. */
#include "fuzz_util.h"

static const char *const NAMES[] = {"dublin_core.xml", "contents",      "handle",
                                    "collections",     "relationships", "metadata_dcterms.xml",
                                    "a.pdf",           "images/b.txt"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[8];
    size_t len[8];
    size_t n = fz_split(data, size, part, len, 8);
    fz_rmtree(fz_path("pkg"));
    mkdir(fz_path("pkg"), 0755);
    mkdir(fz_path("pkg/item_1"), 0755);
    mkdir(fz_path("pkg/item_1/images"), 0755);
    for (size_t i = 0; i < n; i++) {
        if (!len[i]) continue;
        char rel[128];
        snprintf(rel, sizeof rel, "pkg/item_1/%s", NAMES[i]);
        fz_write(fz_path(rel), part[i], len[i]);
    }
    br_limits lim;
    br_limits_default(&lim);
    lim.max_file_size = 1 << 20;
    br_diag_sink sink = {fz_diag, NULL, 0, 0, 0};
    br_saf_package *pkg = NULL;
    br_error err;
    if (br_saf_open(fz_path("pkg"), &lim, &sink, &pkg, &err)) return 0;
    br_record *rec = br_record_new();
    if (!rec) abort();
    br_saf_read_options opt = {.limits = &lim};
    for (int round = 0; round < 2; round++) { /* the package's buffers are reused */
        opt.files_optional = round;
        int rc = br_saf_read_item(pkg, 0, &opt, rec, &sink, &err);
        if (rc && rc != BR_EINVAL) break;
        for (size_t i = 0; i < rec->n_md; i++)
            if (!rec->md[i].value || !rec->md[i].element) abort();
    }
    br_record_free(rec);
    br_saf_close(pkg);
    return 0;
}
