/* bulkrepo — the format registry, as the CLI, the server and the web UI see it.
 *
 * Every batch format bulkrepo reads or writes (DSpace SAF, Esploro CSV, ...) is
 * one driver in one registry (src/lib/formats/registry.c; docs/formats.md says
 * how to add one).  Nothing outside the drivers asks which format it handles:
 * callers look a format up by name, by job type or by file extension and read
 * what it can do from this description. */
#ifndef BULKREPO_FORMAT_H
#define BULKREPO_FORMAT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a format can do. */
enum {
    BR_FORMAT_READ = 1 << 0,           /* import, validate, convert from */
    BR_FORMAT_WRITE = 1 << 1,          /* export, convert to */
    BR_FORMAT_REPLACE = 1 << 2,        /* import -r: replace the items a mapfile names */
    BR_FORMAT_DELETE = 1 << 3,         /* import -d: delete the items a mapfile names */
    BR_FORMAT_EXTRACT = 1 << 4,        /* the unimported download in this format */
    BR_FORMAT_ZIP = 1 << 5,            /* the input may come as a zip (-z, uploads) */
    BR_FORMAT_TEMPLATE = 1 << 6,       /* collection templates apply (-p) */
    BR_FORMAT_ALL_SCOPE = 1 << 7,      /* export -t ALL */
    BR_FORMAT_COLLECTIONS = 1 << 8,    /* records name their collections (else: -c, or the
                                           repository's only collection) */
    BR_FORMAT_SELF_CONTAINED = 1 << 9, /* the reader returns only files inside its input
                                          (checked by the reader): no upload-root check */
    BR_FORMAT_READS_STORE = 1 << 10    /* the reader checks records against the repository
                                          (read options' repo): it gets a connection */
};

/* A format as its users see it.  Strings are static. */
typedef struct br_format_info {
    const char *name;          /* "saf", "esploro-csv": the --format value */
    const char *label;         /* "DSpace Simple Archive Format" */
    const char *short_label;   /* "SAF": in job names ("SAF import") */
    const char *unit;          /* what a record is called: "items", "assets" */
    const char *extensions;    /* input files, ", "-separated with dots: ".zip" */
    const char *upload_accept; /* the web form's accept attribute */
    const char *extract_ext;   /* the unimported download's extension: "zip", "csv" */
    const char *extract_mime;  /* and its media type */
    unsigned caps;             /* BR_FORMAT_* */
    const char *import_job;    /* job types; NULL when the format has no such job */
    const char *validate_job;
    const char *delete_job;
    const char *export_job;
    const char *default_status; /* of imported items: "archived", "draft" */
    const char *match;          /* the default match profile of an import (import.h) */
    const char *version_field;  /* the metadata field holding a record's version (version
                                   prevention, format.h br_read_info.version), or NULL */
    const char *export_file;    /* a format written as one file: its name in a job's export
                                   folder ("assets.csv"); NULL: the export is a folder */
} br_format_info;

/* The number of formats and the i-th, in registry order. */
size_t br_format_count(void);
const br_format_info *br_format_at(size_t i);
/* By name; NULL when unknown. */
const br_format_info *br_format_info_find(const char *name);
/* By job type (import, validate, delete or export); NULL when no format runs it. */
const br_format_info *br_format_by_job(const char *job_type);
/* By a file name's extension (case-insensitive), among formats that read; NULL. */
const br_format_info *br_format_by_file(const char *file_name);
/* "saf, esploro-csv": the names of formats with all of caps, for messages and help. */
size_t br_format_names(unsigned caps, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
