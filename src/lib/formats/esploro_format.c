/* The Esploro research-asset CSV driver: its description and its reader, the
 * streaming group reader of esploro.h.  A group keyed by RESEARCH_ASSET_ID
 * updates the asset it names; the columns present say which of its values the
 * file replaces (covers). */
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/esploro.h"
#include "bulkrepo/import.h"
#include "core/core.h"
#include "formats/drivers.h"

struct br_reader {
    br_ecsv_reader *rd;
    br_diag_sink *diags; /* the caller's */
    br_diag_sink names;  /* passes findings on with the file's name, not its path */
    const char *path, *name;
    uint64_t first; /* offset of the first group, for rewind */
    int started;
};

/* Places name the CSV by its file name ("assets.csv:D17"): the reader was
 * given the absolute path, which is the server's business, not the user's. */
static void rename_source(void *ctx, const br_diag *d)
{
    br_reader *r = ctx;
    br_diag copy = *d;
    if (copy.source && !strcmp(copy.source, r->path)) copy.source = r->name;
    br_diag_emit(r->diags, &copy);
}

int br_ecsv_drv_open(const br_read_options *opt, br_reader **out, br_error *err)
{
    *out = NULL;
    if (!br_is_file(opt->source))
        return br_error_set(err, BR_ENOTFOUND, opt->source, 0, 0, "no such CSV file");
    br_reader *r = calloc(1, sizeof *r);
    if (!r) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_ecsv_options ro = {0};
    ro.limits = *opt->limits;
    ro.repo = opt->repo;
    r->diags = opt->diags;
    r->path = opt->source;
    const char *slash = strrchr(opt->source, '/');
    r->name = slash ? slash + 1 : opt->source;
    r->names.fn = rename_source;
    r->names.ctx = r;
    ro.diags = opt->diags ? &r->names : NULL;
    int rc = br_ecsv_open(opt->source, &ro, &r->rd, err);
    if (rc) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int br_ecsv_drv_next(br_reader *r, br_record *rec, br_read_info *info, br_error *err)
{
    memset(info, 0, sizeof *info);
    br_ecsv_group g;
    int rc = br_ecsv_next(r->rd, rec, &g, err);
    if (rc <= 0) return rc;
    if (!r->started) {
        r->first = g.offset;
        r->started = 1;
    }
    info->key = g.key;
    info->update = g.by_asset_id;
    info->errors = g.errors;
    info->first_line = g.first_row;
    info->last_line = g.last_row;
    return 1;
}

int br_ecsv_drv_rewind(br_reader *r, br_error *err)
{
    if (!r->started) return 0; /* nothing read yet: already at the first group */
    return br_ecsv_seek(r->rd, r->first, err);
}

void br_ecsv_drv_close(br_reader *r)
{
    if (!r) return;
    br_ecsv_close(r->rd);
    free(r);
}

int br_ecsv_drv_covers(const br_reader *r, const char *target)
{
    if (!strcmp(target, "@origid")) target = "esploro.asset.origassetid";
    return br_ecsv_has_target(r->rd, target);
}

const br_format br_format_esploro_csv = {
    BR_FORMAT_DRIVER_VERSION,
    {
        .name = "esploro-csv",
        .label = "Esploro research assets (CSV)",
        .short_label = "Esploro CSV",
        .unit = "assets",
        .extensions = ".csv",
        .upload_accept = ".csv,text/csv",
        .extract_ext = "csv",
        .extract_mime = "text/csv; charset=utf-8",
        .caps = BR_FORMAT_READ | BR_FORMAT_WRITE | BR_FORMAT_EXTRACT | BR_FORMAT_ALL_SCOPE |
                BR_FORMAT_READS_STORE,
        .import_job = "import-esploro",
        .validate_job = "validate-esploro",
        .delete_job = NULL,
        .export_job = "export-esploro",
        .match = "key=update,origid=update,doi=skip",
        .default_status = "draft",
        .export_file = "assets.csv",
    },
    .open = br_ecsv_drv_open,
    .next = br_ecsv_drv_next,
    .rewind = br_ecsv_drv_rewind,
    .close = br_ecsv_drv_close,
    .covers = br_ecsv_drv_covers,
    .writer_open = br_ecsv_drv_writer_open,
    .write = br_ecsv_drv_write,
    .writer_close = br_ecsv_drv_writer_close,
    .writer_abort = br_ecsv_drv_writer_abort,
    .extract = br_ecsv_drv_extract,
};

/* The import of this format by its own name (import.h). */
int br_import_esploro(br_repo *repo, const br_import_options *opt, br_import_result *res,
                      br_error *err)
{
    return br_import(repo, "esploro-csv", opt, res, err);
}
