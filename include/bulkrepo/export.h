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

/* ALL (every item of the repository) is for formats with BR_FORMAT_ALL_SCOPE. */
typedef enum br_export_scope {
    BR_EXPORT_COLLECTION = 0,
    BR_EXPORT_ITEM,
    BR_EXPORT_ALL,
    BR_EXPORT_SET /* the members of a set of assets (set.h): id is the set's name */
} br_export_scope;

/* The options of an export; each format's writer takes the ones it has and
 * refuses the others (BR_EUSAGE). */
typedef struct br_export_options {
    br_export_scope scope;
    const char *id;         /* handle (or UUID) of the collection or item */
    const char *dest;       /* SAF: destination folder (must exist); Esploro: the CSV file
                               (must not exist) */
    long seq;               /* SAF: number of the first item folder (-n, default 1) */
    int migrate;            /* SAF -m */
    int exclude_bitstreams; /* -x */
    const char *zip;        /* SAF -z: write DEST/ZIP instead of folders */
    const char *eperson;
    int64_t job_id; /* run as this existing job (engine.h); 0 = create one */
    br_progress_fn progress;
    void *progress_ctx;
    /* Esploro CSV: only these columns / categories (NULL = all). */
    const char *const *fields;
    size_t n_fields;
    const char *const *categories;
    size_t n_categories;
    br_diag_sink *diags; /* values the format cannot hold (notes), values changed (warnings) */
    /* A step of the job follows the export (the engine's delivery, jobs/deliver.c): an export
     * that wrote items leaves the job Finalizing with its summary, and that step records the
     * final status, so no reader sees the job ended before its delivery did. */
    int then_finalize;
} br_export_options;

typedef struct br_export_result {
    int64_t job_id;
    size_t items;
    size_t bitstreams; /* file entries written (SAF: listed in contents, -x included) */
    uint64_t bytes;    /* bytes of the files written */
} br_export_result;

/* Exports items (scope COLLECTION, ITEM, or ALL for formats with
 * BR_FORMAT_ALL_SCOPE) in handle order, withdrawn items of a collection or
 * ALL left out, through the writer of `format` (a registry name: "saf",
 * "esploro-csv"), recorded as a job of the format's export type with one
 * journal line per item.  Options the format does not take, and unknown
 * formats, are BR_EUSAGE before any job exists.  On failure or cancel nothing
 * is left at the destination.
 *
 *   saf:          one folder per item, DEST/<seq>, <seq+1>, ... (DEST must exist,
 *                 the folders must not: BR_EEXISTS), or with zip one archive
 *                 DEST/ZIP; -m for another repository; -x lists files in
 *                 contents without writing them.
 *   esploro-csv:  one CSV at dest; column B is RESEARCH_ASSET_ID = the handle, so
 *                 the file re-imports as an update; files copied to
 *                 "<dest>.files/<handle>/<name>" and referenced relative to the
 *                 CSV; -x writes no FILE columns.  Neither dest nor the files
 *                 folder may exist (BR_EEXISTS). */
int br_export(br_repo *repo, const char *format, const br_export_options *opt,
              br_export_result *res, br_error *err);

/* The columns `format`'s writer can select (export --fields), each with its
 * category (--categories), for help texts and messages: fn is called once
 * per column (never: the format has no selection), its strings valid
 * during the call only.  With sel (may be NULL),
 * its fields and categories are checked as the export would: BR_EUSAGE names
 * the first unknown one, or says that the format has no selection.
 * BR_EUSAGE too for an unknown format. */
int br_export_columns(const char *format, const br_export_options *sel,
                      void (*fn)(void *ctx, const char *column, const char *category), void *ctx,
                      br_error *err);

/* br_export(repo, "saf", ...) and br_export(repo, "esploro-csv", ...). */
int br_export_saf(br_repo *repo, const br_export_options *opt, br_export_result *res,
                  br_error *err);
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
