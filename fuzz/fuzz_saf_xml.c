/* The metadata XML reader (dublin_core.xml and metadata_*.xml): the input is
 * the document, read as an item's dublin_core.xml with small caps, so that
 * the pre-scan, the encoding conversion and libxml2 all see it. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int made;
    if (!made) {
        mkdir(fz_path("pkg"), 0755);
        mkdir(fz_path("pkg/item_1"), 0755);
        made = 1;
    }
    fz_write(fz_path("pkg/item_1/dublin_core.xml"), data, size);
    br_limits lim;
    br_limits_default(&lim);
    br_diag_sink sink = {fz_diag, NULL, 0, 0, 0};
    br_saf_package *pkg = NULL;
    br_error err;
    if (br_saf_open(fz_path("pkg"), &lim, &sink, &pkg, &err)) abort();
    br_record *rec = br_record_new();
    if (!rec) abort();
    int rc = br_saf_read_item(pkg, 0, NULL, rec, &sink, &err);
    if (rc && rc != BR_EINVAL) abort(); /* no I/O can fail here: any other code is a bug */
    for (size_t i = 0; i < rec->n_md; i++) {
        const br_mdv *v = &rec->md[i];
        if (!v->value || !*v->value || !v->element || !*v->element) abort();
        if (v->language && strlen(v->language) > 255) abort(); /* never cut, never longer */
    }
    br_record_free(rec);
    br_saf_close(pkg);
    return 0;
}
