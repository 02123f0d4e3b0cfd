/* Format drivers: the one shape every batch format takes (issue 8).
 *
 * A driver is one const struct: its description (bulkrepo/format.h), a reader
 * that streams records one at a time into the record model, a writer that
 * takes records, and an extract that writes a job's rejected records in the
 * input's own format.  The import pipeline (jobs/pipeline.c), the export and
 * convert loops, the engine, the drop folder, the server and the CLI find a
 * driver in the registry (registry.c) and call it through this table; none of
 * them asks which format it is.  Shaped like curl's Curl_handler: a version
 * field, then data, then function pointers, NULL where the format has no such
 * operation (see caps).
 *
 * Contracts shared by every driver:
 *   - Fallible functions return 0 or a negative br_code and fill err (which
 *     may be NULL).
 *   - Findings about the input go to the diag sink with their place; a reader
 *     never stops on a problem confined to one record.
 *   - A reader's memory does not grow with the number of records: what it
 *     returns is valid until the next call. */
#ifndef BR_FORMATS_FORMAT_H
#define BR_FORMATS_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include "bulkrepo/error.h"
#include "bulkrepo/format.h"
#include "bulkrepo/limits.h"
#include "bulkrepo/record.h"
#include "bulkrepo/repo.h"

#define BR_FORMAT_DRIVER_VERSION 1

/* ---- reading ---------------------------------------------------------------------------- */

typedef struct br_read_options {
    const char *source;  /* absolute path: a folder, a file or a zip, as the format takes */
    const char *scratch; /* an empty folder the reader may unpack into (a zip), or NULL:
                            then a zip input is an error */
    const br_limits *limits;
    br_repo *repo;       /* optional: checks only the repository can answer (org units,
                            identifiers the input names) */
    int files_optional;  /* files an input lists may be absent (--metadata-only) */
    br_diag_sink *diags; /* every finding about the input, with its place */
} br_read_options;

/* What a reader says of the record it just returned. */
/* What the input asks for a record (ONIX's NotificationType, for instance). */
typedef enum br_read_action {
    BR_READ_UPSERT = 0, /* add it, or update what it matches (the match profile) */
    BR_READ_DELETE,     /* delete the stored record it matches (not found: reported) */
    BR_READ_UPDATE,     /* update the stored record it matches (not found: reported, not added) */
    BR_READ_TEST        /* validate only: a test record, never stored */
} br_read_action;

typedef struct br_read_info {
    const char *key; /* the record's key in the input: a SAF folder, a CSV group key */
    int update;      /* the key names a stored record (a handle or UUID) to update */
    size_t errors;   /* errors the reader reported for this record */
    unsigned first_line, last_line; /* the lines (rows) it spans, 0 unknown */
    br_read_action action;
    /* Update overlay for this record alone (formats whose records differ in
     * what they carry, as ONIX products do): the targets it has a field or
     * block for.  The array AND its strings live in the record's arena (the
     * pipeline reads ahead: the reader's own memory has moved on by the time
     * the record is written).  covered NULL: the driver's covers() answers for
     * the whole input. */
    const char *const *covered;
    size_t n_covered;
    /* Version prevention: the record's version (an ISO 8601 date or
     * date-time, e.g. ONIX's SentDateTime), compared with the stored record's
     * value of the driver's info.version_field; an older one is not applied
     * unless the import allows it.  NULL: no version. */
    const char *version;
} br_read_info;

typedef struct br_reader br_reader; /* the driver's own state */

/* ---- writing ---------------------------------------------------------------------------- */

/* What a writer has written so far (br_write_options.stats): the export loop
 * takes each record's share for its journal line, convert its report. */
typedef struct br_write_stats {
    size_t records;  /* records written */
    size_t files;    /* file entries the output lists for them (SAF: contents lines;
                        Esploro CSV: FILE rows) */
    uint64_t bytes;  /* bytes of the files written (copied) */
    size_t lost;     /* values the format cannot hold: each one a note on diags */
    size_t changed;  /* values written changed: each one a warning on diags */
    const char *key; /* the output key of the record last written (a SAF folder, a CSV
                        key); valid until the next write, close or abort */
} br_write_stats;

/* Nothing a writer makes is visible under dest until writer_close: it writes
 * under temporary names next to the output and renames them at close, so a
 * failed or aborted run leaves nothing behind.  The strings and lists are the
 * caller's and must outlive the writer. */
typedef struct br_write_options {
    const char *dest;          /* the output, as the format writes it: SAF: an existing folder
                                  that gets DEST/<seq>... (from_input: a new folder);
                                  Esploro CSV: a new file */
    long seq;                  /* SAF: number of the first item folder */
    int migrate;               /* SAF -m */
    int exclude_bitstreams;    /* -x: files listed, not written */
    const char *zip;           /* SAF -z: one zip at DEST/ZIP instead of folders */
    int from_input;            /* convert: records come from another input format, keyed by
                                  their input key (not a stored handle); the writer reports
                                  what its format cannot hold and fills in what it derives */
    const char *const *fields; /* only these columns / categories (a writer that has no
                                  selection refuses them: BR_EUSAGE) */
    size_t n_fields;
    const char *const *categories;
    size_t n_categories;
    /* convert --default: NULL-terminated "COLUMN=VALUE" strings, a value for every record
     * that has none in that column (a writer with columns checks the names and the values,
     * in describe mode too: BR_EUSAGE; a writer without columns ignores them, and convert
     * refuses them for it) */
    const char *const *defaults;
    br_diag_sink *diags;   /* values the format cannot hold (notes), values changed (warnings) */
    br_write_stats *stats; /* optional: the writer adds to it */
    /* Describe mode: when set, writer_open makes nothing and sets *out to
     * NULL; it calls on_column (its strings valid during the call only) for
     * every column the writer can select with
     * fields (and its category), then checks fields and categories as it
     * would for writing (BR_EUSAGE: an unknown name, or a writer without a
     * selection given one).  A writer without a selection calls it never. */
    void (*on_column)(void *ctx, const char *column, const char *category);
    void *column_ctx;
} br_write_options;

typedef struct br_writer br_writer;

/* ---- the unimported download ------------------------------------------------------------ */

/* One finding of a rejected record, as the journal keeps it. */
typedef struct br_finding {
    unsigned line;    /* the input line or row, 0 none */
    const char *text; /* formatted: "source:line: error: message (hint)" */
} br_finding;

typedef struct br_rejected {
    const char *key;
    const char *message; /* the journal's summary line */
    const br_finding *findings;
    size_t n_findings;
} br_rejected;

typedef struct br_extract_options {
    const char *source;  /* the job's input as the reader took it (absolute) */
    const char *scratch; /* an empty folder the driver may use, removed by the caller */
    const br_limits *limits;
    const br_rejected *records; /* the page of rejected records, in input order */
    size_t n_records;
    const char *out_path; /* write here (atomically: a partial file is never left) */
} br_extract_options;

/* ---- the driver ------------------------------------------------------------------------- */

typedef struct br_format {
    int version; /* BR_FORMAT_DRIVER_VERSION */
    br_format_info info;

    /* Reader.  next returns 1 with a record (reset first) and *info filled, 0
     * at the end, negative when reading cannot go on (I/O, a cap, input it
     * cannot read past).  rewind starts again at the first record. */
    int (*open)(const br_read_options *opt, br_reader **out, br_error *err);
    int (*next)(br_reader *r, br_record *rec, br_read_info *info, br_error *err);
    int (*rewind)(br_reader *r, br_error *err);
    void (*close)(br_reader *r);
    /* Update overlay: whether the input has a field for target (a field name
     * "dc.title", or "@creator", "@contributor", "@link", "@file", "@origid").
     * A target the input has replaces the stored values (none = deleted); one
     * it lacks keeps them.  NULL: the input has every field (replace all). */
    int (*covers)(const br_reader *r, const char *target);

    /* Writer.  writer_open refuses options its format does not take with
     * BR_EUSAGE before it makes anything. */
    int (*writer_open)(const br_write_options *opt, br_writer **out, br_error *err);
    /* key: the record's input key on convert (from_input), else NULL.  The
     * writer may change rec (the caller resets it before the next record). */
    int (*write)(br_writer *w, const char *key, br_record *rec, br_error *err);
    /* Finishes the output (the writer is freed). */
    int (*writer_close)(br_writer *w, br_error *err);
    /* Frees the writer and removes what it wrote. */
    void (*writer_abort)(br_writer *w);

    /* The unimported download. */
    int (*extract)(const br_extract_options *opt, br_error *err);
} br_format;

/* The registry (registry.c): the only place that lists the formats. */
const br_format *br_format_find(const char *name);
const br_format *br_format_of_job(const char *job_type);
const br_format *br_format_driver(const br_format_info *info);

/* The drivers. */
extern const br_format br_format_saf;
extern const br_format br_format_esploro_csv;
extern const br_format br_format_xlsx;
extern const br_format br_format_onix;

#endif
