/* Files of the Esploro CSV export and convert (internal, not public API). */
#ifndef BR_JOBS_ECSV_FILES_H
#define BR_JOBS_ECSV_FILES_H

#include <stdint.h>
#include "bulkrepo/error.h"
#include "bulkrepo/record.h"

/* Copies rec's files that have content (bs->path set) to
 * <files_dir>/<sub>/<name> and points each bitstream at its copy relative to
 * the CSV's folder ("<files_rel>/<sub>/<name>"), as FILE_FILEURL takes it.  A
 * name that is unsafe as a path or has bytes a URL cannot hold (spaces,
 * controls) is copied as "<n>_<name with those bytes as '_'>".  *bytes (may be
 * NULL) grows by the bytes copied. */
int br_ecsv_copy_files(br_record *rec, const char *files_dir, const char *files_rel,
                       const char *sub, int64_t *bytes, br_error *err);

#endif
