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

typedef enum br_export_scope { BR_EXPORT_COLLECTION = 0, BR_EXPORT_ITEM } br_export_scope;

typedef struct br_export_options {
    br_export_scope scope;
    const char *id;         /* handle (or UUID) of the collection or item */
    const char *dest;       /* destination folder (must exist) */
    long seq;               /* number of the first item folder (-n, default 1) */
    int migrate;            /* -m */
    int exclude_bitstreams; /* -x */
    const char *zip;        /* -z: write DEST/ZIP instead of folders */
    const char *eperson;
    br_progress_fn progress;
    void *progress_ctx;
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

/* An item as JSON in DSpace REST's shape (malloc'd; caller frees):
 * {"handle","uuid","status",...,"metadata":{"dc.title":[{"value","language","place"}]},
 *  "bitstreams":[...],"relationships":[...]} */
int br_record_to_json(const br_record *rec, char **out, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
