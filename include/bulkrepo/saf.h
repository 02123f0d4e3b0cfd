/* bulkrepo — DSpace Simple Archive Format: package reader and writer.
 *
 * Package layout, grammar and DSpace's behaviour: seed 003 and
 * shared/reference/notes/dspace-saf.md.  The reader checks what a package can
 * tell by itself (files, XML, contents grammar, paths, UTF-8); checks against
 * a repository (registry, collections, handles, relationship targets) are the
 * import pipeline's (import.h).
 */
#ifndef BULKREPO_SAF_H
#define BULKREPO_SAF_H

#include <stddef.h>
#include "error.h"
#include "limits.h"
#include "record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct br_saf_package br_saf_package;

/* Opens a package directory: lists its item folders in natural order
 * ("item_2" before "item_10"); hidden folders and __MACOSX are skipped with a
 * note; plain files at the top are ignored.  An empty package is BR_EINVAL. */
int br_saf_open(const char *dir, const br_limits *lim, br_diag_sink *diags, br_saf_package **out,
                br_error *err);
void br_saf_close(br_saf_package *pkg);
const char *br_saf_root(const br_saf_package *pkg);
size_t br_saf_count(const br_saf_package *pkg);
const char *br_saf_folder(const br_saf_package *pkg, size_t i);
/* Index of a folder by name, or -1. */
long br_saf_find(const br_saf_package *pkg, const char *folder);

typedef struct br_saf_read_options {
    /* Files listed in contents may be absent (packages written with export -x,
     * imported with --metadata-only): such bitstreams get path NULL. */
    int files_optional;
    const br_limits *limits;
} br_saf_read_options;

/* Reads item i into rec (reset first).  Every problem goes to diags with its
 * place (e.g. "item_007/contents:3").  Returns 0 when the item is well formed,
 * BR_EINVAL when diags got errors for it, other negatives on I/O failure. */
int br_saf_read_item(br_saf_package *pkg, size_t i, const br_saf_read_options *opt, br_record *rec,
                     br_diag_sink *diags, br_error *err);

typedef struct br_saf_write_options {
    int migrate;            /* -m: no handle file, drop values a new repository regenerates */
    int exclude_bitstreams; /* -x: list files in contents, do not write them */
    /* Maps a related item's handle to its folder in this package ("folderName:")
     * or NULL when it is outside the package (then the handle is written). */
    const char *(*folder_of)(void *ctx, const char *handle);
    void *folder_ctx;
} br_saf_write_options;

/* Writes rec as item folder `dir` (created; must not exist): dublin_core.xml,
 * metadata_<schema>.xml, contents, collections, handle, relationships and the
 * bitstream files (copied from bs->path). */
int br_saf_write_item(const char *dir, const br_record *rec, const br_saf_write_options *opt,
                      br_error *err);

/* ---- zip ---------------------------------------------------------------- */

/* Extracts zip_path into dest_dir (an empty folder) under the limits: entries
 * with "..", absolute paths, symlinks or special files are rejected, sizes and
 * ratios are enforced on the bytes actually inflated.  root gets the package
 * root: dest_dir, or its single wrapping folder.  Nothing is written outside
 * dest_dir.  A file that is not a zip is BR_EINVAL. */
int br_zip_extract(const char *zip_path, const char *dest_dir, const br_limits *lim, char *root,
                   size_t root_size, br_error *err);
/* Zips every file below src_dir (entries relative to it, sorted, fixed
 * timestamps so equal trees give equal archives) into zip_path. */
int br_zip_create(const char *src_dir, const char *zip_path, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
