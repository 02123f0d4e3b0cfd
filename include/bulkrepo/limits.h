/* bulkrepo — caps every reader enforces, and progress reporting. */
#ifndef BULKREPO_LIMITS_H
#define BULKREPO_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Caps on untrusted input.  Defaults (br_limits_default) follow seed 002:
 * 150 MB per file, 500 MB per archive.  docs/limits.md is the one table of
 * every cap: its default, its option, what it protects and where it is
 * checked; a new cap goes there too. */
typedef struct br_limits {
    uint64_t max_file_size;      /* one bitstream, or one entry of an archive */
    uint64_t max_archive_size;   /* total uncompressed bytes of an archive */
    uint64_t max_entries;        /* entries in an archive; files in one SAF item folder */
    unsigned max_ratio;          /* uncompressed/compressed ratio of an archive entry, and of
                                    the whole archive (inflated bytes / the zip file's size) */
    uint64_t max_xml_size;       /* one metadata XML file */
    unsigned max_xml_depth;      /* element nesting */
    unsigned max_xml_attributes; /* attributes (namespace declarations included) of one
                                    XML start tag, counted before libxml2 parses it */
    size_t max_xml_attribute;    /* bytes of one XML attribute value, as written */
    size_t max_line;             /* one line of a text file (contents, collections, ...) */
    size_t max_text_file;        /* one small text file (contents, handle, ...) */
    size_t max_items;            /* items in one batch */
    size_t max_field;            /* one metadata value / CSV cell, bytes */
    size_t max_relationships;    /* relationships of one SAF item */
} br_limits;

void br_limits_default(br_limits *lim);

/* Progress of a long operation.  phase is "unpacking", "validating", "writing",
 * "relationships", "finalizing" (imports) or "exporting"; a job records the
 * same in its progress (job.h).
 * total is 0 when unknown.  Returning nonzero asks the operation to stop at the
 * next record boundary (it then fails with BR_ECANCELLED, journal consistent). */
typedef int (*br_progress_fn)(void *ctx, const char *phase, size_t done, size_t total);

#ifdef __cplusplus
}
#endif
#endif
