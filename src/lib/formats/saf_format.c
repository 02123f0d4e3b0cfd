/* The DSpace Simple Archive Format driver: its description and its reader
 * (a package folder, or a zip unpacked into the caller's scratch folder).
 * Package grammar and DSpace's behaviour: saf.h and
 * shared/reference/notes/dspace-saf.md. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "bulkrepo/saf.h"
#include "bulkrepo/import.h"
#include "core/core.h"
#include "formats/drivers.h"

struct br_reader {
    br_saf_package *pkg;
    br_saf_read_options ro;
    br_diag_sink *diags;
    size_t next;
};

static int is_zip(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && !strcasecmp(path + n - 4, ".zip") && br_is_file(path);
}

int br_saf_drv_open(const br_read_options *opt, br_reader **out, br_error *err)
{
    *out = NULL;
    char root[4096];
    const char *dir = opt->source;
    int rc;
    if (is_zip(opt->source)) {
        if (!opt->scratch)
            return br_error_set(err, BR_EUSAGE, opt->source, 0, 0,
                                "a zipped package needs a folder to unpack into");
        if ((rc = br_zip_extract(opt->source, opt->scratch, opt->limits, root, sizeof root, err)))
            return rc;
        dir = root;
    } else if (!br_is_dir(opt->source)) {
        return br_error_set(err, BR_ENOTFOUND, opt->source, 0, 0, "cannot open source directory");
    }
    br_reader *r = calloc(1, sizeof *r);
    if (!r) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    r->ro.files_optional = opt->files_optional;
    r->ro.limits = opt->limits;
    r->diags = opt->diags;
    if ((rc = br_saf_open(dir, opt->limits, opt->diags, &r->pkg, err))) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int br_saf_drv_next(br_reader *r, br_record *rec, br_read_info *info, br_error *err)
{
    memset(info, 0, sizeof *info);
    if (r->next >= br_saf_count(r->pkg)) return 0;
    size_t i = r->next++;
    size_t before = r->diags ? r->diags->errors : 0;
    br_diag_sink count = {0};
    br_diag_sink *sink = r->diags ? r->diags : &count;
    int rc = br_saf_read_item(r->pkg, i, &r->ro, rec, sink, err);
    if (rc && rc != BR_EINVAL) return rc;
    info->key = br_saf_folder(r->pkg, i);
    info->errors = sink->errors - (r->diags ? before : 0);
    if (rc == BR_EINVAL && !info->errors) info->errors = 1;
    br_error_clear(err);
    return 1;
}

int br_saf_drv_rewind(br_reader *r, br_error *err)
{
    r->next = 0;
    return 0;
}

void br_saf_drv_close(br_reader *r)
{
    if (!r) return;
    br_saf_close(r->pkg);
    free(r);
}

const br_format br_format_saf = {
    BR_FORMAT_DRIVER_VERSION,
    {
        .name = "saf",
        .label = "DSpace Simple Archive Format",
        .short_label = "SAF",
        .unit = "items",
        .extensions = ".zip",
        .upload_accept = ".zip,application/zip",
        .extract_ext = "zip",
        .extract_mime = "application/zip",
        .caps = BR_FORMAT_READ | BR_FORMAT_WRITE | BR_FORMAT_REPLACE | BR_FORMAT_DELETE |
                BR_FORMAT_EXTRACT | BR_FORMAT_ZIP | BR_FORMAT_TEMPLATE | BR_FORMAT_COLLECTIONS |
                BR_FORMAT_SELF_CONTAINED,
        .import_job = "import-saf",
        .validate_job = "validate-saf",
        .delete_job = "delete-saf",
        .export_job = "export-saf",
        .match = "handle=update,doi=skip",
        .default_status = "archived",
    },
    .open = br_saf_drv_open,
    .next = br_saf_drv_next,
    .rewind = br_saf_drv_rewind,
    .close = br_saf_drv_close,
    .covers = NULL,
    .writer_open = br_saf_drv_writer_open,
    .write = br_saf_drv_write,
    .writer_close = br_saf_drv_writer_close,
    .writer_abort = br_saf_drv_writer_abort,
    .extract = br_saf_drv_extract,
};

/* The import of this format by its own name (import.h). */
int br_import_saf(br_repo *repo, const br_import_options *opt, br_import_result *res, br_error *err)
{
    return br_import(repo, "saf", opt, res, err);
}
