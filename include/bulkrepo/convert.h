/* bulkrepo — convert between batch formats without a repository (issue 3):
 * any format that reads to any other that writes (DSpace Simple Archive
 * Format <-> Esploro research-asset CSV), through the record model: the
 * source format's reader, then the target format's writer.
 *
 * Nothing is dropped silently: every value that has no field in the target
 * format is a note with its place (item or group, field), every value that
 * had to change is a warning; the result counts both.  Input is validated
 * whole before anything is written (BR_EINVAL: nothing written). */
#ifndef BULKREPO_CONVERT_H
#define BULKREPO_CONVERT_H

#include <stddef.h>
#include "error.h"
#include "limits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The formats of the registry (bulkrepo/format.h) by name; this enum is the
 * older way to name the first two and stays for existing callers. */
typedef enum br_convert_format { BR_FORMAT_SAF = 0, BR_FORMAT_ESPLORO_CSV } br_convert_format;

/* Parses "saf" / "esploro-csv"; BR_EUSAGE when unknown. */
int br_convert_format_parse(const char *name, br_convert_format *out);

typedef struct br_convert_options {
    br_convert_format from, to; /* used when from_name / to_name are NULL */
    const char *from_name;      /* a registry name: "saf", "esploro-csv", ... */
    const char *to_name;
    const char *in;   /* as the source format reads it: SAF: a package folder or zip;
                         Esploro: the CSV */
    const char *out;  /* new, as the target format writes it: SAF: a folder; Esploro: a
                         CSV (files in OUT.files/) */
    br_limits limits; /* zeroed = br_limits_default() */
    /* --default: NULL-terminated "COLUMN=VALUE" strings (a column of the target format,
     * e.g. "ASSET_AFFILIATION=01EXAMPLE___UNIT"): the value of that column for every record
     * that has none; checked before the input is read (BR_EUSAGE: an unknown column, a
     * value the column does not take, a target format without columns) */
    const char *const *defaults;
    /* Every finding: input problems (errors), values with no target field
     * (notes, rule *.no-column / convert.no-target / convert.not-fetched),
     * values changed on the way (warnings). */
    br_diag_sink *diags;
    br_progress_fn progress;
    void *progress_ctx;
} br_convert_options;

typedef struct br_convert_result {
    size_t records; /* items / assets converted */
    size_t files;   /* files copied */
    size_t lost;    /* values with no target field (each reported) */
    size_t changed; /* values written changed (each reported) */
    size_t invalid; /* input errors (then nothing was written) */
} br_convert_result;

/* Converts opt->in to opt->out.  0 when written (look at res->lost and
 * res->changed); BR_EINVAL when the input has errors (res->invalid, nothing
 * written); BR_EEXISTS when the output exists; other negatives on I/O. */
int br_convert(const br_convert_options *opt, br_convert_result *res, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
