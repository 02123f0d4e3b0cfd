/* bulkrepo — export: store -> records -> writer. */
#ifndef BULKREPO_EXPORT_H
#define BULKREPO_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "limits.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ALL (every item of the repository) is for the Esploro CSV export only. */
typedef enum br_export_scope {
    BR_EXPORT_COLLECTION = 0,
    BR_EXPORT_ITEM,
    BR_EXPORT_ALL
} br_export_scope;

typedef struct br_export_options {
    br_export_scope scope;
    const char *id;         /* handle (or UUID) of the collection or item */
    const char *dest;       /* SAF: destination folder (must exist); Esploro: the CSV file */
    long seq;               /* number of the first item folder (-n, default 1) */
    int migrate;            /* -m */
    int exclude_bitstreams; /* -x */
    const char *zip;        /* -z: write DEST/ZIP instead of folders */
    const char *eperson;
    int64_t job_id;         /* run as this existing job (engine.h); 0 = create one */
    br_progress_fn progress;
    void *progress_ctx;
    /* Esploro CSV (br_export_esploro): only these columns / categories (NULL = all). */
    const char *const *fields;
    size_t n_fields;
    const char *const *categories;
    size_t n_categories;
    br_diag_sink *diags; /* Esploro CSV: values without a column, values changed */
} br_export_options;

typedef struct br_export_result {
    int64_t job_id;
    size_t items;
    size_t bitstreams;
    uint64_t bytes;
} br_export_result;

/* Exports items in a stable order (by handle) as a SAF package, recorded as a job. */
int br_export_saf(br_repo *repo, const br_export_options *opt, br_export_result *res,
                  br_error *err);

/* Exports items (scope COLLECTION, ITEM or ALL, in handle order, withdrawn
 * items left out) as one Esploro research-asset CSV at opt->dest, recorded as a
 * job of type "export-esploro" with one journal line per asset.  Column B is
 * RESEARCH_ASSET_ID = the item's handle, so the file re-imports as an update.
 * The files are copied to "<dest>.files/<handle>/<name>" and referenced by a
 * path relative to the CSV; -x (exclude_bitstreams) writes no FILE columns, so
 * a re-import leaves the files alone.  Neither dest nor the files folder may
 * exist (BR_EEXISTS, nothing written); on failure neither is left behind. */
int br_export_esploro(br_repo *repo, const br_export_options *opt, br_export_result *res,
                      br_error *err);

/* An item as JSON in DSpace REST's shape (malloc'd; caller frees):
 * {"handle","uuid","status",...,"metadata":{"dc.title":[{"value","language","place"}]},
 *  "bitstreams":[...],"relationships":[...]} */
int br_record_to_json(const br_record *rec, char **out, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
