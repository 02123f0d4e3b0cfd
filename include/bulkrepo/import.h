/* bulkrepo — the import pipeline:
 *
 *   reader -> records -> validate all (every problem with its place)
 *          -> write in journaled batches -> job report
 *
 * Validate-all-then-write: when any record is invalid nothing is written
 * (BR_EINVAL) unless skip_invalid is set.  Crash safety: each batch of records
 * is one transaction holding the items and their journal lines, committed only
 * after the batch's files are durable; resume skips exactly the records the
 * journal (not the mapfile) says are stored. */
#ifndef BULKREPO_IMPORT_H
#define BULKREPO_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "limits.h"
#include "job.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum br_import_mode {
    BR_IMPORT_ADD = 0,
    BR_IMPORT_REPLACE,
    BR_IMPORT_DELETE
} br_import_mode;

typedef struct br_import_options {
    br_import_mode mode;
    const char *source;       /* package directory, or the folder holding the zip */
    const char *zip;          /* zip file name inside source, or NULL */
    const char *mapfile;      /* required */
    const char *eperson;      /* who runs it (recorded) */
    const char **collections; /* -c, first owns; overrides the collections files */
    size_t n_collections;
    int validate_only;  /* -v: validate, write nothing */
    int resume;         /* -R */
    int workflow;       /* -w: status workflow instead of archived */
    int apply_template; /* -p */
    int skip_invalid;   /* import the valid items, report the invalid */
    int allow_older;    /* apply records older than the stored version (version prevention) */
    int no_fetch;       /* remote files are not fetched: a record naming one fails */
    int metadata_only;  /* files listed in contents may be absent */
    /* Add mode: how each record is matched against the repository, a profile
     * "RULE[=ACTION],...": RULE key (the input's key names a stored item),
     * handle, uuid, origid, doi, isbn, uri or field:schema.element[.qualifier];
     * ACTION update (overlay, the default), replace, skip or add.  The first
     * rule that finds stored records decides; several found: the record waits
     * for an operator (br_job_resolve).  NULL: the format's default
     * (br_format_info.match); "none": every record is new. */
    const char *match;
    const char *name;  /* job name, or NULL for the default */
    int64_t job_id;    /* run as this existing job (the engine's queue, engine.h) instead
                          of creating one; with resume, that job's journal says what is
                          already stored */
    size_t batch_size; /* items per transaction; 0 = default (500) */
    /* Esploro CSV (br_import_esploro): source is the CSV file, collections[0] the
     * collection of new assets (optional when the repository has exactly one). */
    const char *status;     /* new assets: "draft" (default) or "archived" */
    long fetch_timeout_ms;  /* per remote file (FILE_FILEURL http/https); 0 = 300 s */
    int fetch_retries;      /* further attempts on transient failures; 0 = 2, < 0 = none */
    const char *files_root; /* when set, local FILE_FILEURL files (file:// URLs and paths)
                               must resolve below this folder: the engine sets it to a
                               job's upload folder so that an uploaded CSV cannot import
                               the server's own files.  NULL = the CLI's trust in its user. */
    br_limits limits;       /* br_limits_default() when zeroed */
    br_diag_sink *diags;    /* every finding, with its place */
    br_progress_fn progress;
    void *progress_ctx;
    /* Several workers, one import (issue 16): an add run as a job (job_id) with more valid
     * records than chunk_size cuts its writing into chunks of chunk_size records (job.h's
     * br_job_chunk) that it writes with any other worker that claims one (br_import_chunks),
     * then waits for the last.  0: this run writes every record.  worker: the name chunks
     * are claimed in (required with chunk_size); lease_seconds: a chunk whose worker has not
     * beaten for that long is taken over (0 = 60).  A caller that chunks keeps its chunks'
     * heartbeat fresh (br_job_chunk_heartbeat) as it does its jobs'. */
    size_t chunk_size;
    const char *worker;
    unsigned lease_seconds;
} br_import_options;

typedef struct br_import_result {
    int64_t job_id;
    size_t total; /* records in the input */
    size_t valid;
    size_t invalid;
    size_t imported; /* added or replaced in this run */
    size_t updated;  /* Esploro: existing assets overlaid in this run (also in imported) */
    size_t failed;   /* Esploro: groups not stored because a file could not be fetched */
    size_t deleted;
    size_t skipped; /* already stored (resume), or matched and left as they are */
    size_t multi;   /* matched several stored records: waiting for an operator */
    size_t bitstreams;
    uint64_t bytes;
} br_import_result;

/* Runs an import of the format named `format` (bulkrepo/format.h: "saf",
 * "esploro-csv", ...) as a job, through the one pipeline every format shares:
 * every record is read and checked first (the format's own rules, then the
 * registry, collections, handles, files and the upload root), each invalid
 * record is journaled with all its findings, nothing is written when any
 * record is invalid unless skip_invalid, then the records are written in
 * journaled batches (add, replace by mapfile, or update: a record whose key
 * names a stored item, or whose origin id matches one, overlays it), the
 * relationships are made, and the mapfile is rewritten from the journal.
 * Returns 0 when every record was handled; BR_EINVAL when validation failed
 * and nothing was written, or when some records were left out (invalid or
 * failed: res says how many); other negatives for usage, I/O and store
 * failures. */
int br_import(br_repo *repo, const char *format, const br_import_options *opt,
              br_import_result *res, br_error *err);

/* A worker's share of another run's import: writes chunk `first` (claimed in opt->worker's
 * name), then every further chunk of the job it can claim, as the job's run writes its own.
 * opt: the job's options as its run has them (the job's params), with job_id and worker
 * set; the job's run records the findings, progress and outcome.  0 when no chunk is left to
 * claim (or another worker took the one in hand); an error otherwise (the chunk in hand is
 * given back; BR_ECANCELLED when opt->progress asked to stop). */
int br_import_chunks(br_repo *repo, const char *format, const br_import_options *opt,
                     const br_job_chunk *first, br_error *err);

/* The import's input as an absolute path: source, or source/zip. */
int br_import_source_path(const br_import_options *opt, char *out, size_t size, br_error *err);

/* The job parameters of an import (the engine's params, engine.h) as JSON
 * text (malloc'd; the caller frees): every path absolute, so the job runs the
 * same from any working directory. */
int br_import_params_to_json(const char *format, const br_import_options *opt, char **out,
                             br_error *err);

/* Runs a SAF import as a job (br_import with "saf").  Returns 0 when every record was handled,
 * BR_EINVAL when validation failed and nothing was written (or, with
 * skip_invalid, when some records were left out: result->invalid > 0),
 * other negatives for usage, I/O and store failures. */
int br_import_saf(br_repo *repo, const br_import_options *opt, br_import_result *res,
                  br_error *err);

/* br_import with "esploro-csv".  Runs an Esploro research-asset CSV import (issue 3) as a job of
 * type "import-esploro", with the guarantees of br_import_saf: the whole file is validated first
 * (format rules, org units, RESEARCH_ASSET_IDs, the registry, local files); nothing is written when
 * any group is invalid unless skip_invalid; groups are written in journaled batches; resume trusts
 * the journal; the mapfile ("<group key> <handle>") is rewritten from the journal. A group keyed by
 * RESEARCH_ASSET_ID (a handle or UUID), or whose ASSET_ORIGASSET_ID matches a stored item, updates
 * that item: each target the file has a column for is replaced (an empty cell deletes), the others
 * stay. A group whose file cannot be fetched is "failed"; the others go on. Returns as
 * br_import_saf; BR_EINVAL also when groups failed. */
int br_import_esploro(br_repo *repo, const br_import_options *opt, br_import_result *res,
                      br_error *err);

/* ---- approving drafts ------------------------------------------------------------------ */

/* Moves draft items (an Esploro import's default status) to archived and adds
 * what DSpace's installItem adds: dc.date.accessioned, dc.date.available and
 * dc.description.provenance, each unless present.  All or nothing, in one
 * transaction: BR_EINVAL when one of them is not a draft. */
int br_items_approve(br_repo *repo, const int64_t *ids, size_t n, const char *eperson,
                     br_error *err);
/* Approves every item that job's journal names and that is still a draft, in
 * batches; *approved gets the count.  BR_ENOTFOUND when there is no such job. */
int br_job_approve(br_repo *repo, int64_t job_id, const char *eperson, size_t *approved,
                   br_error *err);

#ifdef __cplusplus
}
#endif
#endif
