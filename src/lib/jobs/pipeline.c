/* The import pipeline: one loop for every format (issue 8).
 *
 *   driver reader -> records in the model
 *     -> pass 1: every record read and checked (the reader's findings, then the
 *        registry with suggestions, collections, handles, files and their caps,
 *        the upload root); each invalid record journaled with ALL its findings
 *     -> relationships: targets resolved, invalid targets invalidate their referrers
 *     -> nothing written when anything is invalid (unless skip_invalid)
 *     -> pass 2 (rewind): add, replace or update-overlay in journaled batches
 *     -> relationships written -> mapfile rewritten from the journal -> report
 *
 * Crash safety (issue 2, and DSpace issue #8978 for what goes wrong otherwise):
 * each batch is one transaction holding the items and their journal lines,
 * committed after the batch's files are durable.  The mapfile gets a batch's
 * lines only after its commit and is rewritten from the journal at the end, so
 * it never names an item that is not stored; resume trusts the journal, not the
 * mapfile.
 *
 * Memory: the reader holds one record; this file holds three reusable records,
 * the open batch's mapfile lines and one bit per input record (invalid or not).
 * Inputs with relationships also keep their relationship lines and a key index
 * (the second pass of DSpace's importer needs them). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "bulkrepo/import.h"
#include "bulkrepo/job.h"
#include "core/core.h"
#include "formats/format.h"
#include "jobs/install.h"
#include "jobs/meter.h"
#include "jobs/pipeline.h"
#include "jobs/setjob.h"
#include "model/snapshot.h"

/* What an update or a replace rewrites (br_item_update): the parts a revert puts back. */
#define UNDO_PARTS                                                                                 \
    (BR_PART_METADATA | BR_PART_CREATORS | BR_PART_LINKS | BR_PART_IDENTIFIERS | BR_PART_FILES |   \
     BR_PART_STATUS)
#include "jobs/readahead.h"
#include "net/fetch.h"

#define DEFAULT_BATCH 500

/* A relationship to create once every item exists (DSpace's second pass). */
typedef struct rel_spec {
    size_t item; /* seq of the left record */
    char *type;
    char *target; /* as written */
    char *source;
    unsigned line;
} rel_spec;

/* ---- match profiles ------------------------------------------------------------------
 * Each record is matched against the repository by the rules of a profile,
 * in order (seed 004's import profiles): the first rule that finds stored
 * records decides.  One match: the rule's action (update = overlay, replace,
 * skip, add anyway); several: the record waits for an operator (multi-match,
 * Manual Handling Required); more than MATCH_MAX: not imported (seed 004). */
#define MAX_RULES 8
#define MATCH_MAX 150

typedef enum match_action { ACT_UPDATE, ACT_REPLACE, ACT_SKIP, ACT_ADD } match_action;

typedef struct match_rule {
    char kind[16];    /* key, handle, uuid, origid, doi, isbn, uri, field */
    char field[128];  /* "schema.element[.qualifier]": doi, isbn, uri and field rules */
    char id_type[32]; /* "id:TYPE" rules: an identifier type (onixref, ...) */
    match_action action;
} match_rule;

static const char *const ACTIONS[] = {"update", "replace", "skip", "add"};

typedef struct candidates {
    int64_t ids[MATCH_MAX + 1];
    size_t n;
} candidates;

/* What each kind matches on: the record's metadata field whose values it
 * looks up (NULL: none) and the identifier type they are looked up as (NULL:
 * the stored values of the field, scanned: kind "field").  DOIs, ISBNs and
 * URIs are identifiers in the store too (store_item.c), found by index. */
static const struct match_kind {
    const char *kind, *field, *id_type;
} KINDS[] = {
    {"key", NULL, NULL},
    {"handle", NULL, NULL},
    {"uuid", NULL, NULL},
    {"origid", NULL, "origid"},
    {"doi", "dc.identifier.doi", "doi"},
    {"isbn", "dc.identifier.isbn", "isbn"},
    {"uri", "dc.identifier.uri", "uri"},
    {"field", NULL, NULL},
    {"id", NULL, NULL},
};

/* key -> handle, read from a mapfile (-r, or -R without a journal). */
typedef struct kv_map {
    br_strmap index; /* key -> position in vals */
    char **vals;
    size_t n, cap;
} kv_map;

static int kv_put(kv_map *m, const char *key, const char *val)
{
    int64_t i;
    char *v = strdup(val);
    if (!v) return BR_ENOMEM;
    if (br_strmap_get(&m->index, key, &i)) { /* listed twice: the last line wins (DSpace) */
        free(m->vals[i]);
        m->vals[i] = v;
        return 0;
    }
    if (br_grow((void **)&m->vals, &m->cap, m->n + 1, sizeof *m->vals) ||
        br_strmap_put(&m->index, key, (int64_t)m->n)) {
        free(v);
        return BR_ENOMEM;
    }
    m->vals[m->n++] = v;
    return 0;
}

static const char *kv_get(const kv_map *m, const char *key)
{
    int64_t i;
    return br_strmap_get(&m->index, key, &i) ? m->vals[i] : NULL;
}

static void kv_dispose(kv_map *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->vals[i]);
    free(m->vals);
    br_strmap_dispose(&m->index);
}

typedef struct pl_ctx {
    br_repo *repo;
    const br_format *fmt;
    const br_import_options *opt;
    br_import_result *res;
    br_reader *rd;
    br_read_options ro;
    br_record *rec;               /* the record as read (one of the read-ahead's) */
    br_readahead *ra;             /* the reader, on its own thread */
    br_repo *reader_repo;         /* the reader's own connection (its thread's) */
    const br_read_info *cur_info; /* pass 2: the record in hand's */
    br_job_meter meter;           /* the job's progress, recorded in the job */
    br_record *old;               /* update: the stored item */
    br_record *out;               /* update: the merged item */
    int64_t job_id;
    char source[PATH_MAX];
    char mapfile[PATH_MAX];
    char scratch[PATH_MAX]; /* a zip's unpacked package, removed at the end */
    char collection[64];    /* default collection of formats without collections */
    int need_collection;    /* ... none yet: make one before writing */
    const char *status;     /* of new items */
    char via[96];           /* provenance: "bulkrepo <format> import" */

    /* Findings: every finding goes on to opt->diags (pass 1); the current
     * record's errors are kept for its journal line. */
    br_diag_sink sink;
    int quiet; /* pass 2 and re-reads: the findings were reported in pass 1 */
    int collecting;
    br_buf ftext; /* the texts, NUL-separated */
    size_t *foff; /* their offsets in ftext */
    unsigned *fline;
    size_t n_find, cap_find, cap_fline, dropped;
    br_job_finding *fview;
    size_t cap_fview;

    unsigned char *invalid; /* one bit per record */
    unsigned char *stored;  /* resume: one bit per record already stored */
    size_t cap_stored;
    size_t n, cap_invalid;
    kv_map batch_handles;        /* handles the input asks for -> the key asking */
    match_rule rules[MAX_RULES]; /* the match profile, in order */
    size_t n_rules;
    int match_handles; /* a rule matches on requested handles: in use is a match */
    candidates cands;
    char resolved[128]; /* resume: the operator's choice for the current record, "" none */
    size_t b_skipped, b_invalid, b_multi, b_deleted;
    kv_map replace;  /* -r: key -> handle, from the mapfile */
    kv_map from_map; /* -R without a journal: key -> handle of a DSpace mapfile */
    br_strmap keys;  /* key -> seq, when relationships need it */
    char **seq_keys; /* seq -> key */
    size_t n_seq_keys, cap_seq_keys;
    br_strmap value_refs; /* "schema.element.qualifier:value" -> seq + 1, -1 ambiguous */
    rel_spec *rels;
    size_t n_rels, cap_rels;

    br_buf batch_map; /* "<key> <handle>\n" of the open batch */
    size_t b_imported, b_updated, b_failed, b_bitstreams;
    uint64_t b_bytes;
    size_t done, todo;
    unsigned char *fetched; /* per bitstream of the record: its path is a fetched temp file */
    size_t cap_fetched;
    int files_replaced; /* an update or replace dropped bitstreams: collect garbage */

    /* Chunks (issue 16): the writing cut into ranges of input positions that several
     * workers write (br_job_chunk); write_all writes the chunk in hand only. */
    const br_job_chunk *chunk; /* NULL: every record */
    const char *worker;        /* the name chunks are claimed and held in */
    size_t pos;                /* the input position the reader returns next */
    unsigned char *settled;    /* per position of the chunk: SETTLED_* */
    size_t cap_settled;
    int lost;             /* another worker took the chunk: this one stopped writing it */
    int planned;          /* this run cut the job into chunks: it removes them at its end */
    size_t retried;       /* batches written again: another worker held one of their keys */
    br_job_counters base; /* the journal's counters when the chunks were planned */
} pl_ctx;

/* What the journal holds for a position of the chunk in hand. */
enum { SETTLED_NONE, SETTLED_DONE, SETTLED_ASK };

/* ---- findings ------------------------------------------------------------------------- */

static void keep_finding(pl_ctx *c, const br_diag *d)
{
    if (c->n_find >= BR_JOB_FINDINGS_MAX) {
        c->dropped++;
        return;
    }
    char buf[2048];
    br_diag_format(d, buf, sizeof buf);
    size_t off = c->ftext.len;
    if (br_grow((void **)&c->foff, &c->cap_find, c->n_find + 1, sizeof *c->foff) ||
        br_grow((void **)&c->fline, &c->cap_fline, c->n_find + 1, sizeof *c->fline) ||
        br_buf_append(&c->ftext, buf, strlen(buf) + 1)) {
        c->dropped++; /* counted in the "more" line rather than lost without a word */
        return;
    }
    c->foff[c->n_find] = off;
    c->fline[c->n_find] = d->line;
    c->n_find++;
}

/* Places are named relative to the input's folder ("a.csv:D4",
 * "item_3/contents:2"): the absolute path is the server's business. */
static const char *relative_source(const pl_ctx *c, const char *source)
{
    const char *slash = strrchr(c->source, '/');
    size_t n = slash ? (size_t)(slash - c->source) : 0;
    if (source && n && !strncmp(source, c->source, n) && source[n] == '/') return source + n + 1;
    return source;
}

static void on_diag(void *p, const br_diag *d)
{
    pl_ctx *c = p;
    br_diag copy = *d;
    copy.source = relative_source(c, d->source);
    if (c->collecting && d->severity == BR_SEV_ERROR) keep_finding(c, &copy);
    if (!c->quiet && c->opt->diags) br_diag_emit(c->opt->diags, &copy);
}

static void findings_reset(pl_ctx *c)
{
    br_buf_clear(&c->ftext);
    c->n_find = c->dropped = 0;
}

/* The kept findings as journal findings (views into ftext, valid until the
 * next reset); a last line counts those past the cap. */
static int findings_view(pl_ctx *c, br_job_record *jr, char *more, size_t more_size)
{
    size_t n = c->n_find + (c->dropped ? 1 : 0);
    if (!n) return 0;
    if (br_grow((void **)&c->fview, &c->cap_fview, n, sizeof *c->fview)) return BR_ENOMEM;
    for (size_t i = 0; i < c->n_find; i++) {
        c->fview[i].line = c->fline[i];
        c->fview[i].text = c->ftext.p + c->foff[i];
    }
    if (c->dropped) {
        snprintf(more, more_size, "... and %zu more error%s not kept", c->dropped,
                 c->dropped == 1 ? "" : "s");
        c->fview[c->n_find].line = 0;
        c->fview[c->n_find].text = more;
    }
    jr->findings = c->fview;
    jr->n_findings = n;
    jr->message = c->fview[0].text;
    return 0;
}

/* ---- small helpers -------------------------------------------------------------------- */

/* Where the import stands: recorded in the job (the same for the CLI, the
 * API and the web UI) and told to the caller, whose answer may stop it. */
static int progress(pl_ctx *c, const char *phase, size_t done, size_t total)
{
    br_meter_update(&c->meter, phase, done, total);
    return c->opt->progress ? c->opt->progress(c->opt->progress_ctx, phase, done, total) : 0;
}

/* The next record of the input, in order; c->rec is it. */
static int next_record(pl_ctx *c, br_read_info *info, br_error *err)
{
    return br_readahead_next(c->ra, &c->sink, &c->rec, info, err);
}

/* Back to the first record. */
static int rewind_input(pl_ctx *c, br_error *err)
{
    br_readahead_stop(c->ra);
    int rc = c->fmt->rewind(c->rd, err);
    return rc ? rc : br_readahead_start(c->ra, c->fmt, c->rd, err);
}

/* The format's unit for a count: "1 item", "2 items" (units are plurals in -s). */
static const char *unit(const pl_ctx *c, size_t n, char buf[32])
{
    const char *u = c->fmt->info.unit;
    size_t len = strlen(u);
    if (n != 1 || !len || u[len - 1] != 's') return u;
    snprintf(buf, 32, "%.*s", (int)(len - 1), u);
    return buf;
}

static int oom(br_error *err)
{
    return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
}

static int is_invalid(const pl_ctx *c, size_t seq)
{
    return seq < c->n && (c->invalid[seq / 8] >> (seq % 8)) & 1;
}

static int mark(pl_ctx *c, size_t seq, int invalid)
{
    if (br_grow((void **)&c->invalid, &c->cap_invalid, seq / 8 + 1, 1)) return BR_ENOMEM;
    if (seq >= c->n) {
        for (size_t k = (c->n + 7) / 8; k <= seq / 8; k++)
            c->invalid[k] = 0;
        c->n = seq + 1;
    }
    if (invalid)
        c->invalid[seq / 8] |= (unsigned char)(1u << (seq % 8));
    else
        c->invalid[seq / 8] &= (unsigned char)~(1u << (seq % 8));
    return 0;
}

static int is_stored(const pl_ctx *c, size_t seq)
{
    return c->stored && seq / 8 < c->cap_stored && (c->stored[seq / 8] >> (seq % 8)) & 1;
}

static int mark_stored(pl_ctx *c, size_t seq)
{
    size_t had = c->cap_stored;
    if (br_grow((void **)&c->stored, &c->cap_stored, seq / 8 + 1, 1)) return BR_ENOMEM;
    if (c->cap_stored > had) memset(c->stored + had, 0, c->cap_stored - had);
    c->stored[seq / 8] |= (unsigned char)(1u << (seq % 8));
    return 0;
}

static void field_name(const br_mdv *v, char *out, size_t size)
{
    snprintf(out, size, "%s.%s%s%s", v->schema, v->element, v->qualifier ? "." : "",
             v->qualifier ? v->qualifier : "");
}

static int journal(pl_ctx *c, br_job_record *jr, br_error *err)
{
    return br_job_journal(c->repo, c->job_id, jr, err);
}

/* Whether path, every link resolved, lies below root (also resolved). */
static int below_root(const char *root, const char *path)
{
    char r[PATH_MAX], p[PATH_MAX];
    if (!realpath(root, r) || !realpath(path, p)) return 0;
    size_t n = strlen(r);
    return !strncmp(p, r, n) && (p[n] == '/' || (n == 1 && r[0] == '/'));
}

/* ---- the general checks ----------------------------------------------------------------- */

static void check_registry(pl_ctx *c, const char *key)
{
    char name[256], sugg[200];
    for (size_t k = 0; k < c->rec->n_md; k++) {
        const br_mdv *v = &c->rec->md[k];
        if (br_registry_has(c->repo, v->schema, v->element, v->qualifier) == 1) continue;
        if (br_registry_has_schema(c->repo, v->schema) != 1) {
            br_diag_emitf(&c->sink, BR_SEV_ERROR, key, v->origin.source, v->origin.line,
                          v->origin.column, "registry.schema",
                          "add it with `bulkrepo registry add`",
                          "schema '%s' is not in the metadata registry", v->schema);
            continue;
        }
        field_name(v, name, sizeof name);
        char hint[300] = "register it with `bulkrepo registry add`";
        if (!br_registry_suggest(c->repo, v->schema, v->element, v->qualifier, sugg, sizeof sugg))
            snprintf(hint, sizeof hint, "did you mean %s?", sugg);
        br_diag_emitf(&c->sink, BR_SEV_ERROR, key, v->origin.source, v->origin.line,
                      v->origin.column, "registry.field", hint,
                      "%s is not in the metadata registry", name);
    }
}

static int check_collections(pl_ctx *c, const char *key, br_error *err)
{
    const br_record *rec = c->rec;
    if (!(c->fmt->info.caps & BR_FORMAT_COLLECTIONS)) return 0;
    char src[600];
    snprintf(src, sizeof src, "%s/collections", key);
    if (c->opt->n_collections) {
        /* -c overrides the record's own collections: an unknown one there is
         * worth a word, not an error. */
        for (size_t k = 0; k < rec->n_collections; k++) {
            int64_t cid;
            br_error e;
            int rc = br_collection_resolve(c->repo, rec->collections[k], &cid, &e);
            if (rc && rc != BR_EINVAL && rc != BR_ENOTFOUND) {
                if (err) *err = e;
                return rc;
            }
            if (rc)
                br_diag_emitf(&c->sink, BR_SEV_WARNING, key, src, (unsigned)k + 1, 0,
                              "collection.ignored", "see `bulkrepo collection list`",
                              "%s is not a collection of this repository (ignored: -c given)",
                              rec->collections[k]);
        }
        return 0;
    }
    if (rec->n_collections == 0)
        br_diag_emitf(&c->sink, BR_SEV_ERROR, key, key, 0, 0, "collection.none",
                      "give -c HANDLE or a collections file",
                      "the item names no collection (no -c option and no collections file)");
    for (size_t k = 0; k < rec->n_collections; k++) {
        int64_t cid;
        br_error e;
        int rc = br_collection_resolve(c->repo, rec->collections[k], &cid, &e);
        if (!rc) continue;
        if (rc != BR_EINVAL && rc != BR_ENOTFOUND) {
            if (err) *err = e;
            return rc;
        }
        br_diag_emitf(&c->sink, BR_SEV_ERROR, key, src, (unsigned)k + 1, 0, "collection.unknown",
                      "see `bulkrepo collection list`", "%s is %s", rec->collections[k],
                      rc == BR_EINVAL ? "a community, not a collection"
                                      : "not a collection of this repository");
    }
    return 0;
}

static int check_handle(pl_ctx *c, const char *key, size_t seq, br_error *err)
{
    const br_record *rec = c->rec;
    if (!rec->handle || c->opt->mode != BR_IMPORT_ADD) return 0;
    char src[600];
    snprintf(src, sizeof src, "%s/handle", key);
    const char *other;
    int in_use = br_handle_exists(c->repo, rec->handle);
    if (in_use < 0)
        return br_error_set(err, in_use, src, 0, 0, "cannot look up handle %s", rec->handle);
    if (in_use == 1 && c->match_handles) {
        /* An item's handle: the match profile updates that item.  A
         * collection's or community's is an error still. */
        int64_t id;
        br_error e;
        int rc = br_item_find(c->repo, rec->handle, &id, &e);
        if (!rc) return 0;
        if (rc != BR_ENOTFOUND) {
            if (err) *err = e;
            return rc;
        }
        br_diag_emitf(&c->sink, BR_SEV_ERROR, key, src, 1, 0, "handle.in-use",
                      "remove the handle file to get a new handle",
                      "handle %s is already in use in this repository by a collection or community",
                      rec->handle);
    } else if (in_use == 1) {
        br_diag_emitf(&c->sink, BR_SEV_ERROR, key, src, 1, 0, "handle.in-use",
                      "remove the handle file to get a new handle",
                      "handle %s is already in use in this repository", rec->handle);
    } else if ((other = kv_get(&c->batch_handles, rec->handle))) {
        br_diag_emitf(&c->sink, BR_SEV_ERROR, key, src, 1, 0, "handle.duplicate", NULL,
                      "handle %s is also claimed by %s", rec->handle, other);
    } else if (kv_put(&c->batch_handles, rec->handle, key)) {
        return oom(err);
    }
    return 0;
}

static int check_groups(pl_ctx *c, const char *key, br_error *err)
{
    for (size_t k = 0; k < c->rec->n_bs; k++) {
        const br_bitstream *b = &c->rec->bs[k];
        const char *groups[2] = {b->read_group, b->write_group};
        for (int g = 0; g < 2; g++) {
            if (!groups[g]) continue;
            int known = br_group_exists(c->repo, groups[g]);
            if (known < 0)
                return br_error_set(err, known, NULL, 0, 0, "cannot look up group '%s'", groups[g]);
            if (!known)
                br_diag_emitf(&c->sink, BR_SEV_WARNING, key, b->origin.source, b->origin.line, 0,
                              "group.unknown", "create it with `bulkrepo group add`",
                              "group '%s' does not exist; the permission is kept by name",
                              groups[g]);
        }
    }
    return 0;
}

/* Local files: below the upload root (a server upload may only name files that
 * came with it), present, regular, within the cap.  Run again in pass 2: a
 * file that changed since pass 1 fails its record, not the job. */
static void check_files(pl_ctx *c, const char *key)
{
    const br_limits *lim = &c->opt->limits;
    for (size_t k = 0; k < c->rec->n_bs; k++) {
        const br_bitstream *b = &c->rec->bs[k];
        if (!b->path) continue;
        const char *shown = b->url ? b->url : b->name;
        if (c->fmt->info.caps & BR_FORMAT_SELF_CONTAINED) continue; /* the reader checked */
        if (c->opt->files_root && !below_root(c->opt->files_root, b->path)) {
            br_diag_emitf(&c->sink, BR_SEV_ERROR, key, b->origin.source, b->origin.line, 0,
                          "file.outside",
                          "only files uploaded with the input (beside it or below it) can be "
                          "imported here",
                          "file '%s' is outside the job's upload folder", shown);
            continue;
        }
        struct stat st;
        int missing = lstat(b->path, &st) != 0;
        if (!missing && S_ISREG(st.st_mode) && st.st_nlink > 1 && c->opt->files_root) {
            /* An upload may name only files that came with it: a hard link
             * made inside the upload folder could point anywhere. */
            br_diag_emitf(&c->sink, BR_SEV_ERROR, key, b->origin.source, b->origin.line, 0,
                          "file.hardlink", "upload the file itself", "file '%s' is a hard link",
                          shown);
        } else if (missing || !S_ISREG(st.st_mode)) {
            br_diag_emitf(&c->sink, BR_SEV_ERROR, key, b->origin.source, b->origin.line, 0,
                          "file.missing",
                          "a relative file reference is read from the input's folder; links are "
                          "not followed",
                          "file '%s': %s", shown,
                          missing               ? "no such file"
                          : S_ISLNK(st.st_mode) ? "a symbolic link"
                                                : "not a regular file");
        } else if (lim->max_file_size && (uint64_t)st.st_size > lim->max_file_size) {
            br_diag_emitf(&c->sink, BR_SEV_ERROR, key, b->origin.source, b->origin.line, 0,
                          "file.too-large", "raise --max-file-size",
                          "file '%s' is larger than the %llu bytes allowed", shown,
                          (unsigned long long)lim->max_file_size);
        }
    }
}

static int add_rel(pl_ctx *c, size_t seq, const br_relation *r)
{
    if (br_grow((void **)&c->rels, &c->cap_rels, c->n_rels + 1, sizeof *c->rels)) return BR_ENOMEM;
    rel_spec *s = &c->rels[c->n_rels];
    s->item = seq;
    s->type = strdup(r->type);
    s->target = strdup(r->target);
    s->source = strdup(r->origin.source ? r->origin.source : "");
    s->line = r->origin.line;
    c->n_rels++; /* freed at the end even when a copy failed */
    return s->type && s->target && s->source ? 0 : BR_ENOMEM;
}

/* All checks of one record that the reader read; errors go to the sink. */
/* Bitstream names become file names in every export: the rules of SAF's
 * contents file, whatever the input (an Esploro display name
 * '../../../tmp/x' broke a later SAF export). */
static void check_names(pl_ctx *c, const char *key)
{
    for (size_t k = 0; k < c->rec->n_bs; k++) {
        const br_bitstream *b = &c->rec->bs[k];
        const char *why = br_path_unsafe(b->name);
        if (why)
            br_diag_emitf(&c->sink, BR_SEV_ERROR, key, b->origin.source, b->origin.line,
                          b->origin.column, "file.name", "give the file a plain name",
                          "file name '%s': %s", b->name ? b->name : "", why);
    }
}

static int check_record(pl_ctx *c, const br_read_info *info, size_t seq, br_error *err)
{
    int rc;
    check_names(c, info->key);
    check_registry(c, info->key);
    if ((rc = check_collections(c, info->key, err))) return rc;
    if ((rc = check_handle(c, info->key, seq, err))) return rc;
    if ((rc = check_groups(c, info->key, err))) return rc;
    check_files(c, info->key);
    return 0;
}

/* ---- relationships ------------------------------------------------------------------------- */

static int is_value_ref(const char *t)
{
    /* "schema.element[.qualifier]:value"; "folderName:" is a key reference. */
    const char *colon = strchr(t, ':');
    return colon && memchr(t, '.', (size_t)(colon - t)) != NULL;
}

/* Resolves a target: *item (seq of a record of this input) or *id (a stored
 * item).  0, or BR_ENOTFOUND / BR_EINVAL with why; other negatives are
 * failures of the store. */
static int resolve_target(pl_ctx *c, const rel_spec *r, long *item, int64_t *id, char *why,
                          size_t size, br_error *err)
{
    *item = -1;
    *id = 0;
    const char *t = r->target;
    int64_t k;
    int rc;
    if (!strncmp(t, "folderName:", 11)) {
        if (!br_strmap_get(&c->keys, t + 11, &k)) {
            snprintf(why, size, "no item folder '%s' in this package", t + 11);
            return BR_ENOTFOUND;
        }
        *item = (long)k;
        return 0;
    }
    if (is_value_ref(t)) {
        if (br_strmap_get(&c->value_refs, t, &k) && k != 0) {
            if (k < 0) {
                snprintf(why, size, "'%s' matches more than one item", t);
                return BR_EINVAL;
            }
            *item = (long)k - 1;
        }
        char field[256], s[64], e[64], q[64];
        const char *colon = strchr(t, ':');
        snprintf(field, sizeof field, "%.*s", (int)(colon - t), t);
        if (br_field_parse(field, s, e, q)) {
            snprintf(why, size,
                     "bad metadata field in reference '%s' (expected schema.element[.qualifier])",
                     t);
            return BR_EINVAL;
        }
        int64_t ids[2];
        size_t n = 0;
        if ((rc = br_item_find_by_value(c->repo, s, e, *q ? q : NULL, colon + 1, ids, 2, &n, err)))
            return rc == BR_ENOTFOUND || rc == BR_EINVAL ? BR_ESTORE : rc;
        if (n + (*item >= 0) > 1) {
            snprintf(why, size, "'%s' matches more than one item", t);
            return BR_EINVAL;
        }
        if (n == 1) *id = ids[0];
        if (*item < 0 && !*id) {
            snprintf(why, size, "no item has %s = '%s'", field, colon + 1);
            return BR_ENOTFOUND;
        }
        return 0;
    }
    const char *asking = kv_get(&c->batch_handles, t);
    if (asking && br_strmap_get(&c->keys, asking, &k)) {
        *item = (long)k;
        return 0;
    }
    br_error e;
    rc = br_item_find(c->repo, t, id, &e);
    if (rc == BR_ENOTFOUND) {
        snprintf(why, size, "no item with handle or UUID '%s'", t);
        return BR_ENOTFOUND;
    }
    if (rc && err) *err = e;
    return rc;
}

/* Relationships name records of the input by key ("folderName:"), by value
 * ("schema.element:value") or by handle: one more read of the input indexes
 * the keys and the values referred to, only when there are relationships. */
static int index_input(pl_ctx *c, br_error *err)
{
    if (!c->n_rels) return 0;
    for (size_t k = 0; k < c->n_rels; k++)
        if (is_value_ref(c->rels[k].target) && strncmp(c->rels[k].target, "folderName:", 11) &&
            br_strmap_put(&c->value_refs, c->rels[k].target, 0))
            return oom(err);
    int rc = rewind_input(c, err);
    if (rc) return rc;
    c->quiet = 1;
    br_read_info info;
    char key[4096], name[256];
    for (size_t seq = 0; (rc = next_record(c, &info, err)) == 1; seq++) {
        int64_t slot;
        if (br_strmap_put(&c->keys, info.key, (int64_t)seq) ||
            br_grow((void **)&c->seq_keys, &c->cap_seq_keys, seq + 1, sizeof *c->seq_keys) ||
            !(c->seq_keys[seq] = strdup(info.key))) {
            rc = oom(err);
            break;
        }
        c->n_seq_keys = seq + 1;
        if (is_invalid(c, seq) || !c->value_refs.n) continue;
        for (size_t k = 0; k < c->rec->n_md; k++) {
            const br_mdv *v = &c->rec->md[k];
            field_name(v, name, sizeof name);
            snprintf(key, sizeof key, "%s:%s", name, v->value);
            if (!br_strmap_get(&c->value_refs, key, &slot)) continue;
            if (br_strmap_put(&c->value_refs, key, slot == 0 ? (int64_t)seq + 1 : -1)) {
                rc = oom(err);
                break;
            }
        }
        if (rc < 0) break;
    }
    c->quiet = 0;
    return rc < 0 ? rc : 0;
}

static const char *key_of(const pl_ctx *c, size_t seq)
{
    return seq < c->n_seq_keys && c->seq_keys[seq] ? c->seq_keys[seq] : "";
}

static int journal_invalid(pl_ctx *c, size_t seq, br_error *err)
{
    br_job_record jr = {
        (int64_t)seq, key_of(c, seq), BR_OUTCOME_INVALID, 0, NULL, NULL, 0, 0, NULL, 0};
    char more[96];
    if (findings_view(c, &jr, more, sizeof more)) return oom(err);
    return journal(c, &jr, err);
}

/* Reports every bad target; an item whose target is invalid is invalid too
 * (with --skip-invalid its relationship could not be made). */
static int check_relations(pl_ctx *c, br_error *err)
{
    if (!c->n_rels) return 0;
    char why[1024];
    int rc = 0;
    /* The findings of one record go to its journal line: sort by record. */
    for (size_t k = 0; k < c->n_rels && !rc; k++) {
        rel_spec *r = &c->rels[k];
        if (is_invalid(c, r->item) || is_stored(c, r->item)) continue; /* checked when stored */
        findings_reset(c);
        c->collecting = 1;
        long item;
        int64_t id;
        size_t j = k;
        /* every relationship of this record */
        for (; j < c->n_rels && c->rels[j].item == r->item; j++) {
            int bad = resolve_target(c, &c->rels[j], &item, &id, why, sizeof why, err);
            if (bad == BR_ENOTFOUND || bad == BR_EINVAL)
                br_diag_emitf(&c->sink, BR_SEV_ERROR, key_of(c, r->item), c->rels[j].source,
                              c->rels[j].line, 0, "relationship.target", NULL, "%s", why);
            else if (bad)
                rc = bad;
        }
        c->collecting = 0;
        if (!rc && c->n_find) {
            if ((rc = mark(c, r->item, 1))) return oom(err);
            rc = journal_invalid(c, r->item, err);
        }
        k = j - 1;
    }
    if (rc) return rc;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t k = 0; k < c->n_rels; k++) {
            rel_spec *r = &c->rels[k];
            long item;
            int64_t id;
            if (is_invalid(c, r->item) || is_stored(c, r->item)) continue;
            if (resolve_target(c, r, &item, &id, why, sizeof why, NULL) || item < 0 ||
                !is_invalid(c, (size_t)item))
                continue;
            findings_reset(c);
            c->collecting = 1;
            br_diag_emitf(&c->sink, BR_SEV_ERROR, key_of(c, r->item), r->source, r->line, 0,
                          "relationship.target-invalid", NULL,
                          "relationship target %s is invalid and will not be imported", r->target);
            c->collecting = 0;
            if (mark(c, r->item, 1)) return oom(err);
            if ((rc = journal_invalid(c, r->item, err))) return rc;
            changed = 1;
        }
    }
    return 0;
}

/* ---- pass 1 -------------------------------------------------------------------------------- */

/* Resume: whether the journal says the record is stored (and the item is
 * really there); its handle is copied out. */
static int already_stored(pl_ctx *c, const char *key, char *handle, size_t size, br_error *err)
{
    char outcome[32];
    c->resolved[0] = 0;
    int64_t id;
    br_error e;
    handle[0] = 0;
    int rc = br_job_record_find(c->repo, c->job_id, key, outcome, sizeof outcome, handle, size, &e);
    if (rc == BR_ENOTFOUND) {
        /* A DSpace mapfile and no journal: its lines name what is stored. */
        const char *h = kv_get(&c->from_map, key);
        if (!h) return 0;
        br_strlcpy(handle, h, size);
        rc = 0;
        snprintf(outcome, sizeof outcome, "%s", BR_OUTCOME_IMPORTED);
    }
    if (rc) {
        if (err) *err = e;
        return rc;
    }
    /* An operator's choice for a multi-match, applied by this run. */
    if (!strcmp(outcome, BR_OUTCOME_RESOLVED)) {
        br_strlcpy(c->resolved, handle, sizeof c->resolved);
        return 0;
    }
    if (!strcmp(outcome, BR_OUTCOME_MATCH_SKIPPED)) return 1;
    if (strcmp(outcome, BR_OUTCOME_IMPORTED) && strcmp(outcome, BR_OUTCOME_UPDATED) &&
        strcmp(outcome, BR_OUTCOME_SKIPPED))
        return 0;
    if (!handle[0]) return 0;
    rc = br_item_find(c->repo, handle, &id, &e);
    if (rc == BR_ENOTFOUND) return 0; /* not really there: import it again */
    if (rc) {
        if (err) *err = e;
        return rc;
    }
    return 1;
}

static int validate_all(pl_ctx *c, br_error *err)
{
    br_read_info info;
    size_t in_tx = 0;
    int rc = 0;
    char handle[128];
    for (size_t seq = 0;; seq++) {
        findings_reset(c);
        c->collecting = 1;
        rc = next_record(c, &info, err);
        if (rc <= 0) break;
        rc = 0;
        if (c->opt->mode == BR_IMPORT_REPLACE && !kv_get(&c->replace, info.key)) {
            c->collecting = 0;
            if ((rc = mark(c, seq, 0))) break;
            continue; /* only the records the mapfile names are replaced (DSpace) */
        }
        c->res->total++;
        if (c->opt->resume && !c->opt->validate_only) {
            int stored = already_stored(c, info.key, handle, sizeof handle, err);
            if (stored < 0) {
                rc = stored;
                break;
            }
            if (stored) {
                c->res->skipped++;
                c->collecting = 0;
                if ((rc = mark(c, seq, 0)) || (rc = mark_stored(c, seq))) break;
                /* Its relationships are made again (INSERT OR IGNORE): a run
                 * killed before the relationship pass made none of them. */
                for (size_t k = 0; k < c->rec->n_rels && !rc; k++)
                    if (add_rel(c, seq, &c->rec->rels[k])) rc = oom(err);
                if (rc) break;
                continue;
            }
        }
        size_t before = c->sink.errors;
        if ((rc = check_record(c, &info, seq, err))) break;
        for (size_t k = 0; k < c->rec->n_rels; k++)
            if (add_rel(c, seq, &c->rec->rels[k])) {
                rc = oom(err);
                break;
            }
        if (rc) break;
        c->collecting = 0;
        int invalid = info.errors || c->sink.errors > before;
        if ((rc = mark(c, seq, invalid))) break;
        c->res->invalid += invalid;
        c->res->valid += !invalid;
        /* Invalid records, with every finding; a validation run lists the valid too. */
        if (invalid || c->opt->validate_only) {
            if (!in_tx && (rc = br_repo_begin(c->repo, err))) break;
            in_tx++;
            br_job_record jr = {(int64_t)seq,
                                info.key,
                                invalid ? BR_OUTCOME_INVALID : BR_OUTCOME_VALID,
                                0,
                                NULL,
                                NULL,
                                0,
                                0,
                                NULL,
                                0};
            char more[96];
            if (invalid && findings_view(c, &jr, more, sizeof more)) {
                rc = oom(err);
                break;
            }
            if ((rc = journal(c, &jr, err))) break;
            if (in_tx == DEFAULT_BATCH) {
                if ((rc = br_repo_commit(c->repo, err))) break;
                in_tx = 0;
            }
        }
        if (progress(c, BR_PHASE_VALIDATING, seq + 1, 0)) {
            rc = br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "validation cancelled");
            break;
        }
    }
    c->collecting = 0;
    if (in_tx) {
        if (rc)
            br_repo_rollback(c->repo);
        else if ((rc = br_repo_commit(c->repo, err)))
            br_repo_rollback(c->repo);
    }
    if (rc) return rc;
    if ((rc = index_input(c, err))) return rc;
    if ((rc = br_repo_begin(c->repo, err))) return rc;
    size_t before = c->res->invalid;
    if ((rc = check_relations(c, err))) {
        br_repo_rollback(c->repo);
        return rc;
    }
    if ((rc = br_repo_commit(c->repo, err))) {
        br_repo_rollback(c->repo);
        return rc;
    }
    /* Relationship errors made records invalid: count again. */
    size_t invalid = 0;
    for (size_t seq = 0; seq < c->n; seq++)
        invalid += is_invalid(c, seq);
    if (invalid != before) {
        c->res->valid -= invalid - before;
        c->res->invalid = invalid;
    }
    return 0;
}

/* ---- pass 2: writing ---------------------------------------------------------------------- */

static int is_derived_contributor(const br_mdv *v)
{
    static const char *const q[] = {"author", "advisor", "editor", "illustrator", "other"};
    if (strcmp(v->schema, "dc") || strcmp(v->element, "contributor") || !v->qualifier) return 0;
    for (size_t i = 0; i < BR_ARRAY_LEN(q); i++)
        if (!strcmp(v->qualifier, q[i])) return 1;
    return 0;
}

/* Whether the record in hand has a field for target: its own list when the
 * reader gives one (per record), else the driver's answer for the input. */
static int covers(pl_ctx *c, const char *target)
{
    const br_read_info *in = c->cur_info;
    if (in && in->covered) {
        for (size_t i = 0; i < in->n_covered; i++)
            if (!strcmp(in->covered[i], target)) return 1;
        return 0;
    }
    return !c->fmt->covers || c->fmt->covers(c->rd, target);
}

/* The language of the stored value of the same field and text, or NULL. */
static const char *kept_language(const br_record *old, const br_mdv *v)
{
    for (size_t k = 0; k < old->n_md; k++) {
        const br_mdv *o = &old->md[k];
        if (o->language && !strcmp(o->value, v->value) && !strcmp(o->element, v->element) &&
            !strcmp(o->schema, v->schema) && br_streq(o->qualifier, v->qualifier))
            return o->language;
    }
    return NULL;
}

/* Whether the update replaces the stored identifiers of this type. */
static int id_type_replaced(pl_ctx *c, const br_record *in, const char *type, int new_origid)
{
    if (!strcmp(type, "origid")) return new_origid;
    for (size_t k = 0; k < in->n_ids; k++)
        if (!strcmp(in->ids[k].type, type)) return 1;
    char field[128];
    snprintf(field, sizeof field, "dc.identifier.%s", type);
    return c->cur_info && c->cur_info->covered && covers(c, field);
}

/* Update: c->out = the stored item overlaid with the input's record.  For each
 * target the input has a field for, the stored values are dropped and the
 * input's put in (none = deleted); the others stay (formats.md 1.7 item 5). */
static int overlay(pl_ctx *c)
{
    br_record *old = c->old, *in = c->rec, *m = c->out;
    br_record_reset(m);
    m->id = old->id;
    m->handle = old->handle;
    m->uuid = old->uuid;
    m->status = old->status;
    int new_creators = covers(c, "@creator");
    int new_contribs = covers(c, "@contributor");
    int new_links = covers(c, "@link");
    int new_files = covers(c, "@file");
    int new_origid = covers(c, "@origid");
    char name[256];
    for (size_t k = 0; k < old->n_md; k++) {
        const br_mdv *v = &old->md[k];
        field_name(v, name, sizeof name);
        if (covers(c, name)) continue;
        /* Names derived from replaced creators are derived again below. */
        if ((new_creators || new_contribs) && is_derived_contributor(v)) continue;
        if (!br_record_add_md(m, v->schema, v->element, v->qualifier, v->language, v->value))
            return BR_ENOMEM;
    }
    for (size_t k = 0; k < in->n_md; k++) {
        const br_mdv *v = &in->md[k];
        /* A value whose text is unchanged keeps what the input cannot say
         * (its language): an export re-imported as an update changes nothing. */
        const char *lang = v->language ? v->language : kept_language(old, v);
        br_mdv *n = br_record_add_md(m, v->schema, v->element, v->qualifier, lang, v->value);
        if (!n) return BR_ENOMEM;
        n->origin = v->origin;
    }
    for (int pass = 0; pass < 2; pass++) {
        const br_record *src = pass == 0 ? old : in;
        for (size_t k = 0; k < src->n_creators; k++) {
            const br_creator *s = &src->creators[k];
            int replaced = s->role == BR_CREATOR ? new_creators : new_contribs;
            if ((pass == 0) == (replaced != 0)) continue;
            br_creator *d = br_record_add_creator(m, s->role);
            if (!d) return BR_ENOMEM;
            int place = d->place;
            *d = *s; /* strings stay in src's arena, alive until the item is written */
            d->place = place;
        }
    }
    const br_record *ls = new_links ? in : old;
    for (size_t k = 0; k < ls->n_links; k++) {
        br_link *d = br_record_add_link(m);
        if (!d) return BR_ENOMEM;
        int place = d->place;
        *d = ls->links[k];
        d->place = place;
    }
    const br_record *fs = new_files ? in : old;
    for (size_t k = 0; k < fs->n_bs; k++) {
        br_bitstream *d = br_record_add_bitstream(m, fs->bs[k].name);
        if (!d) return BR_ENOMEM;
        *d = fs->bs[k];
    }
    if (new_files && old->n_bs) c->files_replaced = 1;
    /* Identifiers: a type the input carries (or whose dc.identifier field it
     * covers) is replaced by the input's; the others are kept.  The origin id
     * follows its own column ("@origid"). */
    for (int pass = 0; pass < 2; pass++) {
        const br_record *src = pass == 0 ? old : in;
        for (size_t k = 0; k < src->n_ids; k++) {
            const br_identifier *s = &src->ids[k];
            int replaced = id_type_replaced(c, in, s->type, new_origid);
            if (pass == 0 ? replaced : !replaced) continue;
            if (!br_record_add_identifier(m, s->type, s->value)) return BR_ENOMEM;
        }
    }
    return br_record_derive_contributors(m) ? BR_ENOMEM : 0;
}

static int fetch_cancelled(void *p)
{
    pl_ctx *c = p;
    return progress(c, BR_PHASE_WRITING, c->done, c->todo);
}

/* Remote files first (all of the record's, into temp files), so that a
 * failure leaves nothing: the record is "failed", no row and no stored file.
 * Returns 1 with *row and why when a file could not be fetched. */
static int fetch_files(pl_ctx *c, br_record *rec, unsigned *row, char *why, size_t why_size,
                       br_error *err)
{
    br_fetch_options fo = {0};
    fo.max_size = c->opt->limits.max_file_size;
    fo.timeout_ms = c->opt->fetch_timeout_ms;
    fo.retries = c->opt->fetch_retries;
    fo.cancelled = fetch_cancelled;
    fo.cancel_ctx = c;
    fo.disabled = c->opt->no_fetch; /* the job may not reach out */
    if (br_grow((void **)&c->fetched, &c->cap_fetched, rec->n_bs + 1, 1)) return oom(err);
    memset(c->fetched, 0, rec->n_bs + 1);
    for (size_t k = 0; k < rec->n_bs; k++) {
        br_bitstream *b = &rec->bs[k];
        if (b->path || !b->url) continue;
        char tmp[PATH_MAX];
        br_error fe;
        int rc = br_fetch_url(c->repo, b->url, &fo, tmp, sizeof tmp, &fe);
        if (rc == BR_ECANCELLED)
            return br_error_set(err, rc, NULL, 0, 0, "import cancelled; resume with -R");
        if (rc) {
            *row = b->origin.line;
            snprintf(why, why_size, "%s", fe.message);
            br_job_event ev = {0};
            char msg[2048];
            snprintf(msg, sizeof msg, "record %s line %u: file %s failed: %s", rec->key,
                     b->origin.line, b->url, fe.message);
            ev.job_id = c->job_id;
            ev.severity = "error";
            ev.module = "import";
            ev.creator = c->opt->eperson;
            ev.description = msg;
            br_job_event_add(c->repo, &ev, NULL); /* the journal line says it too */
            return 1;
        }
        b->path = br_record_str(rec, tmp);
        if (!b->path) {
            unlink(tmp);
            return oom(err);
        }
        c->fetched[k] = 1; /* the path is a temp file in the repository's tmp area */
    }
    return 0;
}

static void remove_fetched(pl_ctx *c, br_record *rec)
{
    for (size_t k = 0; k < rec->n_bs && k < c->cap_fetched; k++)
        if (c->fetched[k]) {
            unlink(rec->bs[k].path);
            rec->bs[k].path = NULL;
            c->fetched[k] = 0;
        }
}

/* Files into the assetstore (flushed by the batch commit), before the rows
 * naming them.  A listed file without bytes (--metadata-only) is not imported. */
static int store_files(pl_ctx *c, br_record *rec, br_job_record *jr, br_error *err)
{
    size_t kept = 0;
    for (size_t k = 0; k < rec->n_bs; k++) {
        br_bitstream *b = &rec->bs[k];
        if (!b->path) continue;
        int rc = br_asset_put_file(c->repo, b->path, c->opt->limits.max_file_size, rec, b, err);
        if (c->fetched && k < c->cap_fetched && c->fetched[k]) {
            unlink(b->path);
            c->fetched[k] = 0;
        }
        if (rc) return rc;
        jr->bitstreams++;
        jr->bytes += b->size;
        if (b->url) {
            br_job_event ev = {0};
            char msg[2048];
            snprintf(msg, sizeof msg,
                     "record %s line %u: file %s stored as %s (%lld bytes, md5 %s)",
                     rec->key ? rec->key : "", b->origin.line, b->url, b->name, (long long)b->size,
                     b->md5);
            ev.job_id = c->job_id;
            ev.severity = "info";
            ev.module = "import";
            ev.creator = c->opt->eperson;
            ev.description = msg;
            if ((rc = br_job_event_add(c->repo, &ev, err))) return rc;
        }
        if (kept != k) rec->bs[kept] = *b;
        kept++;
    }
    rec->n_bs = kept;
    return 0;
}

/* Parses a profile: "RULE[=ACTION],...", RULE one of KINDS ("field:dc.title"
 * for a metadata field), ACTION update, replace, skip or add (default
 * update); "none" matches nothing. */
static int parse_profile(pl_ctx *c, const char *spec, br_error *err)
{
    c->n_rules = 0;
    if (!spec || !*spec || !strcmp(spec, "none")) return 0;
    char buf[1024];
    if (br_strlcpy(buf, spec, sizeof buf) >= sizeof buf)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the match profile is too long");
    for (char *p = buf; p;) {
        char *next = strchr(p, ',');
        if (next) *next++ = 0;
        if (!*p) /* "doi,,isbn" or "doi,": a slip, not a rule to drop quietly */
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "the match profile '%s' has an empty rule (between commas)", spec);
        if (c->n_rules == MAX_RULES)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "at most %d match rules", MAX_RULES);
        match_rule *r = &c->rules[c->n_rules];
        memset(r, 0, sizeof *r);
        char *eq = strchr(p, '=');
        if (eq) {
            *eq = 0;
            size_t a = 0;
            while (a < BR_ARRAY_LEN(ACTIONS) && strcmp(ACTIONS[a], eq + 1))
                a++;
            if (a == BR_ARRAY_LEN(ACTIONS))
                return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                    "match action '%s': update, replace, skip or add", eq + 1);
            r->action = (match_action)a;
        }
        char *colon = strchr(p, ':');
        if (colon) {
            *colon = 0;
            char s_[64], e_[64], q_[64];
            if (!strcmp(p, "id") && colon[1] && strlen(colon + 1) < sizeof r->id_type &&
                !br_path_unsafe(colon + 1) && !strchr(colon + 1, '/'))
                br_strlcpy(r->id_type, colon + 1, sizeof r->id_type);
            else if (!strcmp(p, "field") && !br_field_parse(colon + 1, s_, e_, q_))
                br_strlcpy(r->field, colon + 1, sizeof r->field);
            else
                return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                    "match rule '%s:%s': use field:schema.element[.qualifier] or "
                                    "id:TYPE",
                                    p, colon + 1);
        }
        size_t k = 0;
        while (k < BR_ARRAY_LEN(KINDS) && strcmp(KINDS[k].kind, p))
            k++;
        if (k == BR_ARRAY_LEN(KINDS) || ((!strcmp(p, "field") || !strcmp(p, "id")) && !colon))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "match rule '%s': key, handle, uuid, origid, doi, isbn, uri, "
                                "field:schema.element or id:TYPE",
                                p);
        br_strlcpy(r->kind, p, sizeof r->kind);
        if (KINDS[k].field) br_strlcpy(r->field, KINDS[k].field, sizeof r->field);
        if (!strcmp(p, "handle")) c->match_handles = 1;
        c->n_rules++;
        p = next;
    }
    return 0;
}

static void add_candidate(candidates *m, int64_t id)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->ids[i] == id) return;
    if (m->n < BR_ARRAY_LEN(m->ids)) m->ids[m->n++] = id;
}

/* A lookup by handle or UUID: found, absent, or a failure passed on. */
static int find_one(pl_ctx *c, const char *ref, candidates *m, br_error *err)
{
    int64_t id;
    br_error e;
    int rc = br_item_find(c->repo, ref, &id, &e);
    if (rc == BR_ENOTFOUND) return 0;
    if (rc) {
        if (err) *err = e;
        return rc;
    }
    add_candidate(m, id);
    return 0;
}

static int find_by_field(pl_ctx *c, const char *field, const char *value, candidates *m,
                         br_error *err)
{
    char s_[64], e_[64], q_[64];
    if (br_field_parse(field, s_, e_, q_)) return 0;
    int64_t ids[MATCH_MAX + 1];
    size_t n = 0;
    int rc = br_item_find_by_value(c->repo, s_, e_, *q_ ? q_ : NULL, value, ids, BR_ARRAY_LEN(ids),
                                   &n, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++)
        add_candidate(m, ids[i]);
    return 0;
}

/* A chunk's writer in a shared transaction (br_repo_begin_shared) takes each key a record may
 * be matched by before anything is looked up or written, and each stored record it matched:
 * a record of another chunk with the same key, or matching the same stored record, waits for
 * this one's commit (BR_EBUSY: its batch is written again), then sees what it wrote, as if
 * the two had been written one after the other. */
static int take_key(pl_ctx *c, const char *kind, const char *value, br_error *err)
{
    if (!c->chunk) return 0;
    char key[1024]; /* a longer value is cut: two cut alike only share a lock */
    snprintf(key, sizeof key, "%s\x1f%s", kind, value);
    int got = br_repo_lock_key(c->repo, key, err);
    if (got < 0) return got;
    return got ? 0
               : br_error_set(err, BR_EBUSY, NULL, 0, 0,
                              "another worker is writing a record with %s %.200s", kind, value);
}

static int find_or_take(pl_ctx *c, const char *kind, const char *ref, candidates *m, int take,
                        br_error *err)
{
    return take ? take_key(c, kind, ref, err) : find_one(c, ref, m, err);
}

/* The stored records rule r finds for the current record; take: only take the keys it would
 * look them up by (take_key). */
static int candidates_of(pl_ctx *c, const match_rule *r, const br_read_info *info, candidates *m,
                         int take, br_error *err)
{
    const br_record *rec = c->rec;
    int rc = 0;
    m->n = 0;
    if (!strcmp(r->kind, "key"))
        return info->update ? find_or_take(c, "key", info->key, m, take, err) : 0;
    if (!strcmp(r->kind, "handle"))
        return rec->handle ? find_or_take(c, "handle", rec->handle, m, take, err) : 0;
    if (!strcmp(r->kind, "uuid"))
        return rec->uuid ? find_or_take(c, "uuid", rec->uuid, m, take, err) : 0;
    const char *id_type = r->id_type[0] ? r->id_type : NULL; /* id:TYPE */
    for (size_t k = 0; !id_type && k < BR_ARRAY_LEN(KINDS); k++)
        if (!strcmp(KINDS[k].kind, r->kind)) id_type = KINDS[k].id_type;
    char name[256];
    for (size_t k = 0; !rc && id_type && k < rec->n_ids + rec->n_md; k++) {
        const char *value = NULL;
        if (k < rec->n_ids) {
            if (!strcmp(rec->ids[k].type, id_type)) value = rec->ids[k].value;
        } else if (r->field[0]) {
            field_name(&rec->md[k - rec->n_ids], name, sizeof name);
            if (!strcmp(name, r->field)) value = rec->md[k - rec->n_ids].value;
        }
        if (!value) continue;
        if (take) {
            rc = take_key(c, id_type, value, err);
            continue;
        }
        int64_t id;
        br_error e;
        rc = br_item_find_by_identifier(c->repo, id_type, value, &id, &e);
        if (rc == BR_ENOTFOUND)
            rc = 0;
        else if (!rc)
            add_candidate(m, id);
        else if (err)
            *err = e;
    }
    for (size_t k = 0; !rc && !id_type && r->field[0] && k < rec->n_md; k++) {
        field_name(&rec->md[k], name, sizeof name);
        if (strcmp(name, r->field)) continue;
        rc = take ? take_key(c, r->field, rec->md[k].value, err)
                  : find_by_field(c, r->field, rec->md[k].value, m, err);
    }
    return rc;
}

/* The rule that decides for the current record (*rule NULL: nothing matched)
 * and its candidates. */
static int match_record(pl_ctx *c, const br_read_info *info, const match_rule **rule, candidates *m,
                        br_error *err)
{
    *rule = NULL;
    m->n = 0;
    int rc = 0;
    /* Every rule's keys first (a chunk's writer): not only the deciding rule's, since another
     * record may be matched by a value this one writes without looking it up. */
    for (size_t i = 0; c->chunk && i < c->n_rules && !rc; i++)
        rc = candidates_of(c, &c->rules[i], info, m, 1, err);
    for (size_t i = 0; i < c->n_rules && !rc; i++) {
        if ((rc = candidates_of(c, &c->rules[i], info, m, 0, err))) break;
        if (m->n) {
            *rule = &c->rules[i];
            break;
        }
    }
    char id[32];
    for (size_t k = 0; !rc && c->chunk && k < m->n; k++) {
        snprintf(id, sizeof id, "%lld", (long long)m->ids[k]);
        rc = take_key(c, "item", id, err);
    }
    return rc;
}

/* "h1 h2 h3 and 4 more": the candidates' handles, for a message. */
static void candidate_list(pl_ctx *c, const candidates *m, char *out, size_t size)
{
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < m->n && i < 10; i++) {
        char h[128] = "?";
        if (!br_item_load(c->repo, m->ids[i], c->old, NULL) && c->old->handle)
            br_strlcpy(h, c->old->handle, sizeof h);
        int w = snprintf(out + len, size - len, "%s%s", i ? " " : "", h);
        if (w < 0 || (size_t)w >= size - len) return;
        len += (size_t)w;
    }
    if (m->n > 10) snprintf(out + len, size - len, " and %zu more", m->n - 10);
}

static int write_update(pl_ctx *c, int64_t target, br_job_record *jr, br_error *err)
{
    int rc = br_item_load(c->repo, target, c->old, err);
    if (rc) return rc;
    /* Version prevention (seed 004): an older record does not overwrite a newer one. */
    const char *vf = c->fmt->info.version_field, *mine = c->cur_info ? c->cur_info->version : NULL;
    const char *stored = vf && mine ? br_record_first(c->old, vf) : NULL;
    if (stored && strcmp(stored, mine) > 0 && !c->opt->allow_older) {
        jr->outcome = BR_OUTCOME_NEWER;
        jr->item_id = target;
        jr->handle = br_record_str(c->rec, c->old->handle);
        jr->message = "the repository has a newer version (--allow-older applies it)";
        return 0;
    }
    if ((rc = overlay(c))) return oom(err);
    const char *st = NULL;
    if (c->opt->status && !strcmp(c->opt->status, "archived") &&
        strcmp(c->old->status, "archived")) {
        st = "archived";
        if (br_install_values(c->out, c->opt->eperson, c->via)) return oom(err);
    }
    br_item_write w = {st, c->job_id, NULL};
    if ((rc = br_item_update(c->repo, c->out, &w, err)) ||
        (rc = br_undo_changed(c->repo, c->job_id, "updated", c->old, UNDO_PARTS, target, err)))
        return rc;
    jr->outcome = BR_OUTCOME_UPDATED;
    jr->item_id = target;
    jr->handle = c->out->handle;
    return 0;
}

static int write_new(pl_ctx *c, const char *replace_handle, br_job_record *jr, br_error *err)
{
    br_record *rec = c->rec;
    int rc;
    if (c->opt->n_collections) {
        rec->n_collections = 0;
        for (size_t k = 0; k < c->opt->n_collections; k++)
            if (br_record_add_collection(rec, c->opt->collections[k])) return oom(err);
    } else if (!rec->n_collections && c->collection[0]) {
        if (br_record_add_collection(rec, c->collection)) return oom(err);
    }
    if (c->opt->apply_template &&
        (rc = br_collection_apply_template(c->repo, rec->collections[0], rec, err)))
        return rc;
    if (br_record_derive_contributors(rec)) return oom(err);
    if (!strcmp(c->status, "archived") && br_install_values(rec, c->opt->eperson, c->via))
        return oom(err);
    br_item_write w = {c->status, c->job_id, NULL};
    if (replace_handle) {
        int64_t old;
        if ((rc = br_item_find(c->repo, replace_handle, &old, err))) return rc;
        if ((rc = br_item_load(c->repo, old, c->old, err))) return rc;
        /* Replace keeps the handle (DSpace) and, unlike DSpace, the UUID too. */
        w.uuid = br_record_str(rec, c->old->uuid);
        rec->handle = br_record_str(rec, replace_handle);
        if (!w.uuid || !rec->handle) return oom(err);
        if ((rc = br_item_delete(c->repo, old, err))) return rc;
        if (c->old->n_bs) c->files_replaced = 1;
    }
    while (!rec->handle) {
        char h[128];
        if ((rc = br_handle_next(c->repo, h, sizeof h, err))) return rc;
        if (!kv_get(&c->batch_handles, h) && !(rec->handle = br_record_str(rec, h)))
            return oom(err);
    }
    if ((rc = br_item_insert(c->repo, rec, &w, err))) return rc;
    /* A replaced record keeps its UUID: reverting puts its old parts back. */
    rc = replace_handle
             ? br_undo_changed(c->repo, c->job_id, "updated", c->old, UNDO_PARTS, rec->id, err)
             : br_undo_created(c->repo, c->job_id, rec->uuid, err);
    if (rc) return rc;
    jr->outcome = replace_handle ? BR_OUTCOME_UPDATED : BR_OUTCOME_IMPORTED;
    jr->item_id = rec->id;
    jr->handle = rec->handle;
    return 0;
}

/* What the profile decides for the current record (add mode): *target the
 * item to update or *replace_handle the one to replace, or an outcome
 * already in jr (skipped, multi-match, too many matches). */
static int decide(pl_ctx *c, const br_read_info *info, const char *resolved, int64_t *target,
                  const char **replace_handle, br_job_record *jr, char *msg, size_t msg_size,
                  br_error *err)
{
    br_record *rec = c->rec;
    int rc;
    if (resolved) { /* an operator's choice for a multi-match */
        if (!strcmp(resolved, "skip")) {
            jr->outcome = BR_OUTCOME_MATCH_SKIPPED;
            jr->message = "left as it is (resolved by an operator)";
            return 0;
        }
        return strcmp(resolved, "new") ? br_item_find(c->repo, resolved, target, err) : 0;
    }
    const match_rule *rule;
    candidates *m = &c->cands;
    if ((rc = match_record(c, info, &rule, m, err)) || !rule) return rc;
    /* "by doi", "by field dc.title" */
    const char *field = !strcmp(rule->kind, "field") ? rule->field
                        : !strcmp(rule->kind, "id")  ? rule->id_type
                                                     : "";
    const char *sp = *field ? " " : "";
    if (m->n > MATCH_MAX) {
        snprintf(msg, msg_size, "matches more than %d stored records by %s%s%s: not imported",
                 MATCH_MAX, rule->kind, sp, field);
        jr->outcome = BR_OUTCOME_INVALID;
        jr->message = msg;
        return 0;
    }
    if (m->n > 1) {
        char list[700];
        candidate_list(c, m, list, sizeof list);
        snprintf(msg, msg_size,
                 "matches %zu stored records by %s%s%s: %s (choose with `bulkrepo job resolve`)",
                 m->n, rule->kind, sp, field, list);
        jr->outcome = BR_OUTCOME_MULTI_MATCH;
        jr->message = msg;
        c->b_multi++;
        return 0;
    }
    switch (rule->action) {
    case ACT_UPDATE:
        *target = m->ids[0];
        return 0;
    case ACT_ADD:
        if (!strcmp(rule->kind, "handle")) rec->handle = NULL; /* it is taken */
        return 0;
    case ACT_REPLACE:
    case ACT_SKIP:
        if ((rc = br_item_load(c->repo, m->ids[0], c->old, err))) return rc;
        if (rule->action == ACT_REPLACE)
            return (*replace_handle = br_record_str(rec, c->old->handle)) ? 0 : oom(err);
        snprintf(msg, msg_size, "matches %s by %s%s%s: left as it is", c->old->handle, rule->kind,
                 sp, field);
        jr->outcome = BR_OUTCOME_MATCH_SKIPPED;
        jr->item_id = m->ids[0];
        jr->message = msg;
        return 0;
    }
    return 0;
}

/* A record the input asks to delete: the one stored record it matches goes. */
static int delete_matched(pl_ctx *c, const br_read_info *info, br_job_record *jr, char *msg,
                          size_t msg_size, br_error *err)
{
    const match_rule *rule;
    candidates *m = &c->cands;
    int rc = match_record(c, info, &rule, m, err);
    if (rc) return rc;
    if (m->n != 1) {
        if (m->n > 1) {
            char list[700];
            candidate_list(c, m, list, sizeof list);
            snprintf(msg, msg_size, "to delete, matches %zu stored records: %s", m->n, list);
        } else {
            snprintf(msg, msg_size, "to delete, but no stored record matches it");
        }
        jr->outcome = BR_OUTCOME_INVALID;
        jr->message = msg;
        return 0;
    }
    if ((rc = br_item_load(c->repo, m->ids[0], c->old, err))) return rc;
    jr->handle = br_record_str(c->rec, c->old->handle);
    if ((rc = br_undo_changed(c->repo, c->job_id, "deleted", c->old, BR_PART_ALL, 0, err)) ||
        (rc = br_item_delete(c->repo, m->ids[0], err)))
        return rc;
    c->files_replaced = 1; /* its files may be no one's now */
    jr->outcome = BR_OUTCOME_DELETED;
    return 0;
}

/* Writes one valid record; jr->outcome says what happened.  resolved: an
 * operator's choice for its multi-match ("new", "skip" or a handle), or NULL. */
static int write_record(pl_ctx *c, const br_read_info *info, const char *resolved,
                        br_job_record *jr, char *msg, size_t msg_size, br_error *err)
{
    br_record *rec = c->rec;
    int64_t target = 0;
    const char *replace_handle = NULL;
    int rc;
    if (info->action == BR_READ_TEST) {
        jr->outcome = BR_OUTCOME_VALID;
        jr->message = "a test record: validated, not stored";
        return 0;
    }
    if (info->action == BR_READ_DELETE) return delete_matched(c, info, jr, msg, msg_size, err);
    if (info->action == BR_READ_UPDATE) { /* update only: nothing matched is reported */
        const match_rule *rule;
        if ((rc = match_record(c, info, &rule, &c->cands, err))) return rc;
        if (!c->cands.n) {
            jr->outcome = BR_OUTCOME_INVALID;
            jr->message = "to update, but no stored record matches it";
            return 0;
        }
    }
    if (c->opt->mode == BR_IMPORT_REPLACE)
        replace_handle = kv_get(&c->replace, info->key);
    else if ((rc = decide(c, info, resolved, &target, &replace_handle, jr, msg, msg_size, err)))
        return rc;
    if (strcmp(jr->outcome, BR_OUTCOME_IMPORTED)) return 0; /* decided: nothing to write */
    rec->key = br_record_str(rec, info->key);
    unsigned row = 0;
    char why[1100];
    rc = fetch_files(c, rec, &row, why, sizeof why, err);
    if (rc < 0) {
        remove_fetched(c, rec);
        return rc;
    }
    if (rc == 1) {
        remove_fetched(c, rec);
        const char *base = strrchr(c->source, '/');
        snprintf(msg, msg_size, "%.200s:%u: file: %.700s", base ? base + 1 : c->source, row, why);
        jr->outcome = BR_OUTCOME_FAILED;
        jr->message = msg;
        return 0;
    }
    if ((rc = store_files(c, rec, jr, err))) {
        remove_fetched(c, rec);
        return rc;
    }
    return target ? write_update(c, target, jr, err) : write_new(c, replace_handle, jr, err);
}

static int append_mapfile(pl_ctx *c, br_error *err)
{
    if (!c->batch_map.len) return 0;
    FILE *f = fopen(c->mapfile, "a");
    if (!f)
        return br_error_set(err, BR_EIO, c->mapfile, 0, 0, "cannot write the mapfile: %s",
                            strerror(errno));
    size_t n = fwrite(c->batch_map.p, 1, c->batch_map.len, f);
    int bad = n != c->batch_map.len;
    if (fclose(f)) bad = 1;
    br_buf_clear(&c->batch_map);
    return bad ? br_error_set(err, BR_EIO, c->mapfile, 0, 0, "cannot write the mapfile") : 0;
}

static void reset_batch(pl_ctx *c)
{
    c->b_imported = c->b_updated = c->b_failed = c->b_bitstreams = c->b_skipped = 0;
    c->b_invalid = c->b_multi = c->b_deleted = 0;
    c->b_bytes = 0;
    br_buf_clear(&c->batch_map);
}

static int commit_batch(pl_ctx *c, br_error *err)
{
    int rc = br_repo_commit(c->repo, err);
    if (rc) return rc;
    c->res->imported += c->b_imported;
    c->res->updated += c->b_updated;
    c->res->failed += c->b_failed;
    c->res->skipped += c->b_skipped;
    c->res->invalid += c->b_invalid;
    c->res->multi += c->b_multi;
    c->res->deleted += c->b_deleted;
    c->res->bitstreams += c->b_bitstreams;
    c->res->bytes += c->b_bytes;
    /* The mapfile only ever names committed items; -r and -d only read it. */
    /* Chunks: several workers, one file; the run's end writes it whole from the journal. */
    rc = c->opt->mode == BR_IMPORT_ADD && !c->chunk ? append_mapfile(c, err) : 0;
    reset_batch(c);
    return rc;
}

/* The chunk's journal lines: which of its positions are written already. */
static int settle_line(void *ctx, int64_t seq, const char *outcome)
{
    pl_ctx *c = ctx;
    size_t i = (size_t)(seq - c->chunk->first);
    /* An operator's choice, a failure or a multi-match is looked at again, as a resume does. */
    c->settled[i] = !strcmp(outcome, BR_OUTCOME_RESOLVED) || !strcmp(outcome, BR_OUTCOME_FAILED) ||
                            !strcmp(outcome, BR_OUTCOME_MULTI_MATCH)
                        ? SETTLED_ASK
                        : SETTLED_DONE;
    return 0;
}

static int load_settled(pl_ctx *c, br_error *err)
{
    size_t n = (size_t)(c->chunk->end - c->chunk->first);
    if (br_grow((void **)&c->settled, &c->cap_settled, n ? n : 1, 1)) return oom(err);
    memset(c->settled, SETTLED_NONE, n);
    return br_job_chunk_journal(c->repo, c->chunk, settle_line, c, err);
}

/* Whether the record at seq is to be written by this run: not before the chunk nor written
 * already; *ask: look at the journal first (a resume). */
static int to_write(pl_ctx *c, size_t seq, int *ask)
{
    if (is_invalid(c, seq)) return 0; /* journaled in pass 1 */
    if (!c->chunk) {
        *ask = c->opt->resume;
        return 1;
    }
    if (seq < (size_t)c->chunk->first) return 0;
    int s = c->settled[seq - (size_t)c->chunk->first];
    *ask = s == SETTLED_ASK;
    return s != SETTLED_DONE;
}

/* Opens a write transaction; a chunk's first statement holds it (job.h): 0 and c->lost when
 * another worker took it. */
static int begin_batch(pl_ctx *c, size_t batch, br_error *err)
{
    /* A chunk's batch runs beside other workers' where the store allows it. */
    int rc = c->chunk ? br_repo_begin_shared(c->repo, batch, err) : br_repo_begin(c->repo, err);
    if (rc || !c->chunk) return rc;
    rc = br_job_chunk_hold(c->repo, c->chunk, c->worker, (int64_t)time(NULL), err);
    if (rc == 1) return 0;
    br_repo_rollback(c->repo);
    if (rc == 0) c->lost = 1;
    return rc;
}

/* A chunk's writer on a store whose writers take turns (SQLite) leaves the lock free for a
 * moment after each commit: another process's claim or batch waits in SQLite's busy handler,
 * which would otherwise find the lock taken again at every try. */
static void yield_writer(const pl_ctx *c)
{
    if (!c->chunk || br_repo_concurrent_writers(c->repo)) return;
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static int write_all(pl_ctx *c, br_error *err)
{
    size_t batch = c->opt->batch_size ? c->opt->batch_size : DEFAULT_BATCH;
    size_t in_batch = 0;
    size_t end = c->chunk ? (size_t)c->chunk->end : SIZE_MAX;
    int rc = 0;
    /* A chunk after the reader's position reads on; any other run reads from the start. */
    if (!c->chunk || c->pos > (size_t)c->chunk->first) {
        if ((rc = rewind_input(c, err))) return rc;
        c->pos = 0;
    }
    if (c->chunk && (rc = load_settled(c, err))) return rc;
    c->quiet = 1;
    br_read_info info;
    char handle[128], msg[1100];
    while (c->pos < end) {
        size_t seq = c->pos;
        rc = next_record(c, &info, err);
        if (rc < 0) goto fail;
        if (rc == 0) break;
        c->pos++;
        if (c->opt->mode == BR_IMPORT_REPLACE && !kv_get(&c->replace, info.key)) continue;
        int ask = 0;
        if (!to_write(c, seq, &ask)) continue;
        c->resolved[0] = 0;
        if (ask) {
            int stored = already_stored(c, info.key, handle, sizeof handle, err);
            if (stored < 0) {
                rc = stored;
                goto fail;
            }
            if (stored) continue;
        }
        if (!in_batch && (rc = begin_batch(c, batch, err))) return rc;
        if (c->lost) break;
        br_job_record jr = {(int64_t)seq, info.key, BR_OUTCOME_IMPORTED, 0, NULL, NULL, 0, 0,
                            NULL,         0};
        findings_reset(c);
        c->collecting = 1; /* kept for the journal, not reported again (quiet) */
        size_t before = c->sink.errors;
        if (!info.errors) check_files(c, info.key);
        c->collecting = 0;
        if (info.errors || c->sink.errors > before) {
            /* The input changed since pass 1: this record failed, the others go on. */
            jr.outcome = BR_OUTCOME_FAILED;
            if (!c->n_find)
                jr.message = "the record changed since it was validated";
            else if (findings_view(c, &jr, msg, sizeof msg)) {
                rc = oom(err);
                goto fail;
            }
        } else if ((c->cur_info = &info),
                   (rc = write_record(c, &info, c->resolved[0] ? c->resolved : NULL, &jr, msg,
                                      sizeof msg, err)) ||
                       (rc = br_repo_settle(c->repo, err))) {
            /* settled: a refusal of the record's rows is this record's, not the next one's */
            br_error_locate(err, info.key, 0, 0);
            goto fail;
        }
        if ((rc = journal(c, &jr, err))) goto fail;
        in_batch++;
        if (!strcmp(jr.outcome, BR_OUTCOME_FAILED)) {
            c->b_failed++;
        } else if (!strcmp(jr.outcome, BR_OUTCOME_MATCH_SKIPPED) ||
                   !strcmp(jr.outcome, BR_OUTCOME_NEWER) || !strcmp(jr.outcome, BR_OUTCOME_VALID) ||
                   !strcmp(jr.outcome, BR_OUTCOME_DELETED)) {
            c->b_skipped += strcmp(jr.outcome, BR_OUTCOME_DELETED) != 0;
            c->b_deleted += !strcmp(jr.outcome, BR_OUTCOME_DELETED);
        } else if (!strcmp(jr.outcome, BR_OUTCOME_INVALID)) {
            c->b_invalid++;
        } else if (strcmp(jr.outcome, BR_OUTCOME_MULTI_MATCH)) {
            c->b_imported++;
            c->b_updated += !strcmp(jr.outcome, BR_OUTCOME_UPDATED);
            c->b_bitstreams += (size_t)jr.bitstreams;
            c->b_bytes += (uint64_t)jr.bytes;
            if (br_buf_printf(&c->batch_map, "%s %s\n", info.key, jr.handle)) {
                rc = oom(err);
                goto fail;
            }
        }
        c->done++;
        int stop = progress(c, BR_PHASE_WRITING, c->done, c->todo);
        if (in_batch == batch || stop) {
            if ((rc = commit_batch(c, err))) goto fail;
            in_batch = 0;
            yield_writer(c);
            if (stop)
                return br_error_set(err, BR_ECANCELLED, NULL, 0, 0,
                                    "import cancelled; resume with -R");
        }
    }
    if (c->lost) {
        c->quiet = 0;
        return 0;
    }
    if (in_batch && (rc = commit_batch(c, err))) goto fail;
    c->quiet = 0;
    return 0;
fail:
    br_repo_rollback(c->repo);
    reset_batch(c); /* nothing of the rolled-back batch is stored */
    c->done = c->done >= in_batch ? c->done - in_batch : 0;
    c->quiet = 0;
    return rc;
}

/* ---- chunks: one import written by several workers (issue 16) ---------------------------- */

static void add_event(pl_ctx *c, const char *severity, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* How often a chunk's batch is written again when other workers hold its keys. */
#define CHUNK_TRIES 100

static unsigned lease_of(const pl_ctx *c)
{
    return c->opt->lease_seconds ? c->opt->lease_seconds : 60;
}

/* Writes the chunk claimed in c->worker's name and marks it done; one another worker took
 * is left to it. */
static int write_chunk(pl_ctx *c, const br_job_chunk *ch, br_error *err)
{
    c->chunk = ch;
    c->lost = 0;
    int rc;
    for (unsigned tries = 1;; tries++) {
        rc = write_all(c, err);
        if (rc != BR_EBUSY || tries == CHUNK_TRIES) break;
        /* Another worker holds a key of a record of the batch (take_key): the batch was rolled
         * back; written again from the journal once that worker has committed. */
        struct timespec ts = {0, (long)(20 + (tries * 37) % 180) * 1000 * 1000};
        nanosleep(&ts, NULL);
        c->pos = SIZE_MAX; /* the reader starts again */
        c->retried++;
    }
    if (!rc && !c->lost)
        rc = br_job_chunk_done(c->repo, ch, c->worker, (int64_t)time(NULL), err);
    else if (rc) /* cancelled, stopped or failed: another run may take it from the journal */
        br_job_chunk_release(c->repo, ch, c->worker, NULL);
    c->chunk = NULL;
    return rc < 0 ? rc : 0;
}

/* How often this worker wrote a batch again, in the job's events (none: nothing said). */
static void note_retries(pl_ctx *c)
{
    if (c->retried)
        add_event(c, "info", "import",
                  "%s wrote %zu batch%s again: another worker was writing a record with the same "
                  "key",
                  c->worker, c->retried, c->retried == 1 ? "" : "es");
}

/* Claims the next free chunk of the job (a dead worker's too): 1, 0 none, or an error. */
static int claim_chunk(pl_ctx *c, br_job_chunk *ch, br_error *err)
{
    int64_t now = (int64_t)time(NULL);
    return br_job_chunk_claim(c->repo, c->job_id, c->worker, now, now - (int64_t)lease_of(c), ch,
                              err);
}

/* The records written so far by every worker: the journal's lines since the plan. */
static void chunks_progress(pl_ctx *c)
{
    br_job j;
    if (br_job_get(c->repo, c->job_id, &j, NULL)) return;
    int64_t n = j.counters.processed - c->base.processed;
    if (n > 0 && (size_t)n > c->done) c->done = (size_t)n;
}

/* Whether this run cuts its writing into chunks: an add run as a job with a chunk size, of
 * more records than one chunk, none of which asks for its own handle (the handles a new item
 * may not take are known only to the run that read every record). */
static int chunked(const pl_ctx *c)
{
    return c->opt->chunk_size && c->job_id && c->opt->job_id && c->opt->mode == BR_IMPORT_ADD &&
           !c->opt->validate_only && c->res->valid > c->opt->chunk_size && !c->batch_handles.n;
}

/* The job's run: plans the chunks, writes them with any other worker that claims one, waits
 * for the last, then counts this run's outcome from the journal (every worker's lines). */
static int write_chunks(pl_ctx *c, br_error *err)
{
    int64_t count = 0;
    br_job j;
    int rc = br_job_get(c->repo, c->job_id, &j, err);
    if (rc) return rc;
    c->base = j.counters;
    size_t skipped = c->res->skipped; /* by pass 1 (a resume); the chunks' from the journal */
    if ((rc = br_job_chunks_plan(c->repo, c->job_id, (int64_t)c->n, (int64_t)c->opt->chunk_size,
                                 &count, err)))
        return rc;
    c->planned = 1;
    add_event(c, "info", "import",
              "Writing in %lld chunks of up to %zu records: any worker may take one",
              (long long)count, c->opt->chunk_size);
    c->pos = SIZE_MAX; /* pass 1 left the reader at the end */
    for (;;) {
        br_job_chunk ch;
        int got = claim_chunk(c, &ch, err);
        if (got < 0) return got;
        if (got) {
            if ((rc = write_chunk(c, &ch, err))) return rc;
            chunks_progress(c);
            continue;
        }
        int64_t left = 0;
        if ((rc = br_job_chunks_left(c->repo, c->job_id, &left, err))) return rc;
        if (!left) break;
        /* Others write the rest: wait, keeping the bar true and the job cancellable. */
        chunks_progress(c);
        if (progress(c, BR_PHASE_WRITING, c->done, c->todo))
            return br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "import cancelled; resume with -R");
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if ((rc = br_job_get(c->repo, c->job_id, &j, err))) return rc;
    const br_job_counters *now = &j.counters, *b = &c->base;
    c->res->imported = (size_t)((now->imported + now->updated) - (b->imported + b->updated));
    c->res->updated = (size_t)(now->updated - b->updated);
    c->res->failed = (size_t)(now->failed - b->failed);
    c->res->multi = (size_t)(now->multi_matches - b->multi_matches);
    c->res->skipped = skipped + (size_t)(now->skipped - b->skipped);
    c->res->bitstreams = (size_t)(now->bitstreams_imported - b->bitstreams_imported);
    c->res->bytes = (uint64_t)(now->bytes - b->bytes);
    note_retries(c);
    return 0;
}

/* The stored item of record seq, from the journal; 0 when it is not stored. */
static int item_of(pl_ctx *c, size_t seq, int64_t *id, br_error *err)
{
    *id = 0;
    const char *key = key_of(c, seq);
    if (!*key) return 0;
    char outcome[32], handle[128];
    br_error e;
    int rc = br_job_record_find(c->repo, c->job_id, key, outcome, sizeof outcome, handle,
                                sizeof handle, &e);
    if (rc == BR_ENOTFOUND || (!rc && !handle[0])) return 0;
    if (!rc) rc = br_item_find(c->repo, handle, id, &e);
    if (rc == BR_ENOTFOUND) return *id = 0, 0;
    if (rc && err) *err = e;
    return rc;
}

/* Second pass, as DSpace: relationships once every item exists.  INSERT OR
 * IGNORE on (type, left, right) keeps a resumed run from doubling them. */
static int write_relations(pl_ctx *c, br_error *err)
{
    if (!c->n_rels) return 0;
    progress(c, BR_PHASE_RELATIONSHIPS, 0, c->n_rels);
    int rc = br_repo_begin(c->repo, err);
    if (rc) return rc;
    char why[1024];
    for (size_t k = 0; k < c->n_rels && !rc; k++) {
        rel_spec *r = &c->rels[k];
        if (is_invalid(c, r->item)) continue;
        long item;
        int64_t left, right;
        if (resolve_target(c, r, &item, &right, why, sizeof why, NULL)) continue;
        if (item >= 0 && (rc = item_of(c, (size_t)item, &right, err))) break;
        if ((rc = item_of(c, r->item, &left, err))) break;
        if (!left || !right) continue;
        rc = br_relation_insert(c->repo, r->type, left, right, err);
    }
    if (!rc) rc = br_repo_commit(c->repo, err);
    if (rc) br_repo_rollback(c->repo);
    return rc;
}

typedef struct map_writer {
    FILE *f;
    int failed;
} map_writer;

static int map_line(void *ctx, const br_job_record *r)
{
    map_writer *m = ctx;
    if (!r->handle ||
        (strcmp(r->outcome, BR_OUTCOME_IMPORTED) && strcmp(r->outcome, BR_OUTCOME_UPDATED) &&
         strcmp(r->outcome, BR_OUTCOME_SKIPPED)))
        return 0;
    if (fprintf(m->f, "%s %s\n", r->key, r->handle) < 0) m->failed = 1;
    return 0;
}

/* The final mapfile, from the journal, in input order (streamed). */
static int rewrite_mapfile(pl_ctx *c, br_error *err)
{
    br_meter_update(&c->meter, BR_PHASE_FINALIZING, 0, 0);
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp%lld", c->mapfile, (long long)c->job_id);
    map_writer m = {fopen(tmp, "w"), 0};
    if (!m.f)
        return br_error_set(err, BR_EIO, tmp, 0, 0, "cannot write the mapfile: %s",
                            strerror(errno));
    int rc = br_job_records(c->repo, c->job_id, NULL, map_line, &m, err);
    if (fflush(m.f) || fsync(fileno(m.f))) m.failed = 1;
    if (fclose(m.f)) m.failed = 1;
    if (!rc && m.failed) rc = br_error_set(err, BR_EIO, tmp, 0, 0, "cannot write the mapfile");
    if (!rc && rename(tmp, c->mapfile))
        rc = br_error_set(err, BR_EIO, c->mapfile, 0, 0, "cannot write the mapfile: %s",
                          strerror(errno));
    if (rc) unlink(tmp);
    return rc;
}

/* ---- the mapfile as input: -r, -d and a resume without a journal ------------------------- */

typedef int (*map_fn)(void *ctx, const char *key, const char *handle, unsigned line);

/* DSpace's format: "<folder> <handle-or-uuid>" per line.  Blank lines are
 * skipped (DSpace rejects them); any other line without two fields is an error. */
static int read_mapfile(pl_ctx *c, map_fn fn, void *ctx, br_error *err)
{
    FILE *f = fopen(c->mapfile, "r");
    if (!f)
        return br_error_set(err, BR_ENOTFOUND, c->mapfile, 0, 0, "cannot open the mapfile: %s",
                            strerror(errno));
    char line[8192];
    unsigned n = 0;
    int rc = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        br_trim(line);
        if (!*line) continue;
        /* Split at the last blank: a handle has none, a folder name may. */
        char *sp = line + strlen(line);
        while (sp > line && sp[-1] != ' ' && sp[-1] != '\t')
            sp--;
        if (sp == line) {
            br_diag_emitf(&c->sink, BR_SEV_ERROR, NULL, c->mapfile, n, 0, "mapfile.line",
                          "each line is '<folder> <handle>'", "bad mapfile line: '%s'", line);
            bad++;
            continue;
        }
        char *end = sp;
        while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        *end = 0;
        if ((rc = fn(ctx, line, sp, n))) break;
    }
    if (!rc && ferror(f))
        rc = br_error_set(err, BR_EIO, c->mapfile, n, 0, "cannot read the mapfile");
    fclose(f);
    if (!rc && bad)
        rc = br_error_set(err, BR_EINVAL, c->mapfile, 0, 0, "the mapfile has %d bad lines", bad);
    return rc;
}

typedef struct map_ctx {
    pl_ctx *c;
    kv_map *into;
    int check_items; /* -r: each handle must name a stored item */
    br_error *err;
    int rc;
} map_ctx;

static int map_entry(void *p, const char *key, const char *handle, unsigned line)
{
    map_ctx *m = p;
    if (m->check_items) {
        int64_t id;
        br_error e;
        int rc = br_item_find(m->c->repo, handle, &id, &e);
        if (rc == BR_ENOTFOUND) {
            br_diag_emitf(&m->c->sink, BR_SEV_ERROR, key, m->c->mapfile, line, 0, "mapfile.handle",
                          NULL, "no item %s to replace", handle);
            return 0;
        }
        if (rc) {
            if (m->err) *m->err = e;
            return m->rc = rc;
        }
    }
    return kv_put(m->into, key, handle) ? (m->rc = oom(m->err)) : 0;
}

/* ---- delete -------------------------------------------------------------------------------- */

typedef struct delete_ctx {
    pl_ctx *c;
    size_t seq, in_batch;
    int rc;
    br_error *err;
} delete_ctx;

static int check_entry(void *p, const char *key, const char *handle, unsigned line)
{
    return 0; /* read_mapfile reports the lines without two fields */
}

static int delete_entry(void *p, const char *key, const char *handle, unsigned line)
{
    delete_ctx *d = p;
    pl_ctx *c = d->c;
    int64_t id;
    br_error e;
    d->seq++;
    c->res->total++;
    int rc = br_item_find(c->repo, handle, &id, &e);
    if (rc == BR_ENOTFOUND) {
        br_diag_emitf(&c->sink, BR_SEV_WARNING, key, c->mapfile, line, 0, "delete.missing", NULL,
                      "cannot locate item %s - already deleted?", handle);
        return 0;
    }
    if (rc) {
        if (d->err) *d->err = e;
        return d->rc = rc;
    }
    if (c->opt->validate_only) return 0;
    if (!d->in_batch && (d->rc = br_repo_begin(c->repo, d->err))) return d->rc;
    br_job_record jr = {(int64_t)d->seq, key, BR_OUTCOME_DELETED, 0, handle, NULL, 0, 0, NULL, 0};
    if ((d->rc = br_item_load(c->repo, id, c->old, d->err)) ||
        (d->rc = br_undo_changed(c->repo, c->job_id, "deleted", c->old, BR_PART_ALL, 0, d->err)) ||
        (d->rc = br_item_delete(c->repo, id, d->err)) || (d->rc = journal(c, &jr, d->err))) {
        br_repo_rollback(c->repo);
        d->in_batch = 0;
        return d->rc;
    }
    if (++d->in_batch == (c->opt->batch_size ? c->opt->batch_size : DEFAULT_BATCH)) {
        if ((d->rc = br_repo_commit(c->repo, d->err))) {
            br_repo_rollback(c->repo);
            d->in_batch = 0;
            return d->rc;
        }
        c->res->deleted += d->in_batch;
        d->in_batch = 0;
    }
    return 0;
}

/* The whole mapfile is checked before the first delete (DSpace reads it into a
 * map first): a bad line leaves the store unchanged. */
static int run_delete(pl_ctx *c, br_error *err)
{
    int rc = read_mapfile(c, check_entry, NULL, err);
    if (rc) return rc;
    delete_ctx d = {c, 0, 0, 0, err};
    rc = read_mapfile(c, delete_entry, &d, err);
    if (!rc && d.rc) rc = d.rc;
    if (!rc && d.in_batch) {
        if ((rc = br_repo_commit(c->repo, err)))
            br_repo_rollback(c->repo);
        else
            c->res->deleted += d.in_batch;
    } else if (rc && d.in_batch) {
        br_repo_rollback(c->repo);
    }
    if (!rc && !c->opt->validate_only) rc = br_asset_gc(c->repo, NULL, err);
    return rc;
}

/* ---- the job ------------------------------------------------------------------------------- */

static void add_event(pl_ctx *c, const char *severity, const char *module, const char *fmt, ...)
{
    char msg[1500];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    br_job_event ev = {0};
    ev.job_id = c->job_id;
    ev.severity = severity;
    ev.module = module;
    ev.creator = c->opt->eperson;
    ev.description = msg;
    br_job_event_add(c->repo, &ev, NULL); /* the job's outcome is recorded already */
}

/* The events of a job run inline, as the engine writes them for its own. */
static void inline_events(pl_ctx *c)
{
    br_job j;
    if (br_job_get(c->repo, c->job_id, &j, NULL)) return;
    add_event(c, "info", "import", "Run from the command line by %s",
              c->opt->eperson && *c->opt->eperson ? c->opt->eperson : "an unknown user");
    if (c->sink.errors || c->sink.warnings)
        add_event(c, c->sink.errors ? "error" : "warning", "import",
                  "Validation: %zu error%s, %zu warning%s (see the records of the report)",
                  c->sink.errors, c->sink.errors == 1 ? "" : "s", c->sink.warnings,
                  c->sink.warnings == 1 ? "" : "s");
    const br_job_counters *k = &j.counters;
    int ok = j.status == BR_JOB_COMPLETED_SUCCESS || j.status == BR_JOB_COMPLETED_NO_BULKS;
    add_event(c,
              ok                          ? "info"
              : j.status == BR_JOB_FAILED ? "error"
                                          : "warning",
              "import",
              "Job ended: %s. %lld processed, %lld imported, %lld updated, %lld deleted, %lld not "
              "imported%s%s",
              br_job_status_label(j.status), (long long)k->processed, (long long)k->imported,
              (long long)k->updated, (long long)k->deleted, (long long)k->not_imported,
              j.message[0] && !ok ? ". " : "", j.message[0] && !ok ? j.message : "");
}

typedef struct one_coll {
    int n;
    char handle[64];
} one_coll;

static int count_coll(void *ctx, const br_container *k)
{
    one_coll *o = ctx;
    if (!k->is_community && o->n++ == 0) br_strlcpy(o->handle, k->handle, sizeof o->handle);
    return 0;
}

/* A repository with no collection takes records that name none into a new
 * collection ("Imported assets"), made only once the input is known to be
 * valid and named in the job's events and report. */
static int make_collection(pl_ctx *c, br_error *err)
{
    if (!c->need_collection) return 0;
    char name[96];
    snprintf(name, sizeof name, "Imported %s", c->fmt->info.unit);
    br_container ct;
    int rc = br_container_create(c->repo, 0, name, NULL, &ct, err);
    if (rc) return rc;
    br_strlcpy(c->collection, ct.handle, sizeof c->collection);
    char msg[256];
    snprintf(msg, sizeof msg, "The repository had no collection: made %s (%s) for the new %s",
             ct.handle, name, c->fmt->info.unit);
    br_job_event ev = {0};
    ev.job_id = c->job_id;
    ev.severity = "info";
    ev.module = "import";
    ev.creator = c->opt->eperson;
    ev.description = msg;
    return br_job_event_add(c->repo, &ev, err);
}

/* What can be refused before a job exists: usage, the source, the mapfile,
 * the collections. */
static int check_options(pl_ctx *c, br_error *err)
{
    const br_import_options *o = c->opt;
    const br_format_info *fi = &c->fmt->info;
    int rc;
    if (!(fi->caps & BR_FORMAT_READ) || !c->fmt->open)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "%s cannot be imported", fi->name);
    if (o->mode == BR_IMPORT_REPLACE && !(fi->caps & BR_FORMAT_REPLACE))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "%s imports add and update; -r is not %s",
                            fi->label, "available for it");
    if (o->mode == BR_IMPORT_DELETE && !(fi->caps & BR_FORMAT_DELETE))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "%s imports add and update; -d is not %s",
                            fi->label, "available for it");
    if (c->status && strcmp(c->status, "draft") && strcmp(c->status, "archived") &&
        strcmp(c->status, "workflow"))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "--status is draft or archived, not '%s'",
                            c->status);
    if (!o->mapfile || !*o->mapfile)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "a map file to hold importing results must be specified (-m)");
    if ((rc = br_path_absolute(o->mapfile, c->mapfile, sizeof c->mapfile, err))) return rc;
    if (o->resume && o->mode != BR_IMPORT_ADD)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "resume option only works with the --add command");
    if (o->mode != BR_IMPORT_DELETE) {
        if (!o->source || !*o->source)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the input must be given (-s): %s",
                                "a package folder or a file");
        if ((rc = br_import_source_path(o, c->source, sizeof c->source, err))) return rc;
    }
    if (o->mode == BR_IMPORT_ADD && !o->resume && !o->validate_only && !access(c->mapfile, F_OK))
        return br_error_set(err, BR_EUSAGE, c->mapfile, 0, 0,
                            "the mapfile already exists: delete it, or use --resume to finish an "
                            "interrupted import");
    if (o->mode != BR_IMPORT_ADD && access(c->mapfile, R_OK))
        return br_error_set(err, BR_ENOTFOUND, c->mapfile, 0, 0, "the mapfile does not exist");
    for (size_t k = 0; k < o->n_collections; k++) {
        br_container ct;
        br_error e;
        rc = br_container_get(c->repo, o->collections[k], &ct, &e);
        if (rc && rc != BR_ENOTFOUND) {
            if (err) *err = e;
            return rc;
        }
        if (rc || ct.is_community)
            return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "cannot resolve %s to a collection",
                                o->collections[k]);
    }
    if (o->mode == BR_IMPORT_ADD && (rc = parse_profile(c, o->match ? o->match : fi->match, err)))
        return rc;
    if (o->mode != BR_IMPORT_DELETE && !o->n_collections && !(fi->caps & BR_FORMAT_COLLECTIONS)) {
        one_coll oc = {0};
        if ((rc = br_container_list(c->repo, count_coll, &oc, err))) return rc;
        if (oc.n == 0) {
            c->need_collection = 1; /* made once the input is valid (make_collection) */
            return 0;
        }
        if (oc.n != 1)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "give the collection of the new %s with -c (the repository has "
                                "%d collections)",
                                fi->unit, oc.n);
        br_strlcpy(c->collection, oc.handle, sizeof c->collection);
    }
    return 0;
}

static int begin_job(pl_ctx *c, int64_t *prior, br_error *err)
{
    const br_import_options *o = c->opt;
    const br_format_info *fi = &c->fmt->info;
    br_job job;
    memset(&job, 0, sizeof job);
    const char *type = o->mode == BR_IMPORT_DELETE            ? fi->delete_job
                       : o->validate_only && fi->validate_job ? fi->validate_job
                                                              : fi->import_job;
    br_strlcpy(job.type, type, sizeof job.type);
    br_strlcpy(job.category, "import", sizeof job.category);
    if (o->name)
        br_strlcpy(job.name, o->name, sizeof job.name);
    else
        snprintf(job.name, sizeof job.name, "%s %s", fi->short_label,
                 o->validate_only               ? "validation"
                 : o->mode == BR_IMPORT_DELETE  ? "delete"
                 : o->mode == BR_IMPORT_REPLACE ? "replace"
                                                : "import");
    br_strlcpy(job.eperson, o->eperson ? o->eperson : "", sizeof job.eperson);
    br_strlcpy(job.input, o->mode == BR_IMPORT_DELETE ? c->mapfile : c->source, sizeof job.input);
    char *p = NULL;
    int rc = br_import_params_to_json(fi->name, o, &p, err);
    if (rc) return rc;
    br_strlcpy(job.params, p, sizeof job.params);
    free(p);
    if ((rc = br_import_job_begin(c->repo, o, fi->import_job, c->mapfile, &job, prior, err)))
        return rc;
    c->job_id = job.id;
    return 0;
}

static int open_reader(pl_ctx *c, br_error *err)
{
    int rc;
    /* A format whose input may come zipped gets a folder to unpack a file into. */
    if ((c->fmt->info.caps & BR_FORMAT_ZIP) && br_is_file(c->source) &&
        (rc = br_repo_mktemp(c->repo, "unzip", c->scratch, sizeof c->scratch, err)))
        return rc;
    /* The reader runs on its own thread with its own connection (a
     * connection belongs to one thread), its findings captured there and
     * replayed here in input order. */
    br_diag_sink *capture;
    if (c->scratch[0]) br_meter_update(&c->meter, BR_PHASE_UNPACKING, 0, 0);
    if ((rc = br_readahead_new(0, &c->sink, &capture, &c->ra, err))) return rc;
    if ((c->fmt->info.caps & BR_FORMAT_READS_STORE) &&
        (rc = br_repo_open(br_repo_dir(c->repo), &c->reader_repo, err)))
        return rc;
    c->ro.source = c->source;
    c->ro.scratch = c->scratch[0] ? c->scratch : NULL;
    c->ro.limits = &c->opt->limits;
    c->ro.repo = c->reader_repo;
    c->ro.files_optional = c->opt->metadata_only;
    c->ro.diags = capture;
    if ((rc = c->fmt->open(&c->ro, &c->rd, err))) return rc;
    return br_readahead_start(c->ra, c->fmt, c->rd, err);
}

/* The reader's thread first: it uses the reader and its connection. */
static void close_reader(pl_ctx *c)
{
    br_readahead_free(c->ra);
    c->ra = NULL;
    if (c->rd) c->fmt->close(c->rd);
    c->rd = NULL;
    br_repo_free(c->reader_repo);
    c->reader_repo = NULL;
}

static void pipe_dispose(pl_ctx *c)
{
    close_reader(c);
    br_record_free(c->old);
    br_record_free(c->out);
    br_buf_dispose(&c->ftext);
    free(c->foff);
    free(c->fline);
    free(c->fview);
    free(c->invalid);
    free(c->stored);
    free(c->fetched);
    free(c->settled);
    br_buf_dispose(&c->batch_map);
    kv_dispose(&c->batch_handles);
    kv_dispose(&c->replace);
    kv_dispose(&c->from_map);
    br_strmap_dispose(&c->keys);
    for (size_t i = 0; i < c->n_seq_keys; i++)
        free(c->seq_keys[i]);
    free(c->seq_keys);
    br_strmap_dispose(&c->value_refs);
    for (size_t k = 0; k < c->n_rels; k++) {
        free(c->rels[k].type);
        free(c->rels[k].target);
        free(c->rels[k].source);
    }
    free(c->rels);
}

int br_import(br_repo *repo, const char *format, const br_import_options *opt_in,
              br_import_result *res, br_error *err)
{
    br_import_options opt = *opt_in;
    if (!opt.limits.max_file_size) br_limits_default(&opt.limits);
    br_import_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    pl_ctx c;
    memset(&c, 0, sizeof c);
    c.repo = repo;
    c.opt = &opt;
    c.res = res;
    c.sink.fn = on_diag;
    c.sink.ctx = &c;
    c.fmt = br_format_find(format);
    int rc = 0, job_made = 0;
    int64_t prior = 0;
    if (!c.fmt) {
        char names[256];
        br_format_names(BR_FORMAT_READ, names, sizeof names);
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "unknown format '%s' (supported: %s)",
                            format ? format : "", names);
    }
    c.status = opt.status && *opt.status ? opt.status
               : opt.workflow            ? "workflow"
                                         : c.fmt->info.default_status;
    snprintf(c.via, sizeof c.via, "bulkrepo %s import", c.fmt->info.short_label);
    if ((rc = check_options(&c, err))) return rc;
    br_repo_clean_stale(repo);
    if ((rc = begin_job(&c, &prior, err))) return rc;
    job_made = 1;
    res->job_id = c.job_id;
    br_meter_init(&c.meter, repo, c.job_id, opt.validate_only || opt.mode == BR_IMPORT_DELETE);

    c.old = br_record_new();
    c.out = br_record_new();
    if (!c.old || !c.out) {
        rc = oom(err);
        goto finish;
    }
    if (opt.mode == BR_IMPORT_DELETE) { /* c.old keeps each deleted record for its undo row */
        rc = run_delete(&c, err);
        goto finish;
    }
    if (opt.mode == BR_IMPORT_REPLACE) {
        map_ctx m = {&c, &c.replace, 1, err, 0};
        size_t before = c.sink.errors;
        if ((rc = read_mapfile(&c, map_entry, &m, err)) || (rc = m.rc)) goto finish;
        if (c.sink.errors > before) {
            rc = br_error_set(err, BR_EINVAL, c.mapfile, 0, 0,
                              "the mapfile does not match the input");
            goto finish;
        }
    } else if (opt.resume && !opt.validate_only && !prior && !access(c.mapfile, R_OK)) {
        map_ctx m = {&c, &c.from_map, 0, err, 0};
        if ((rc = read_mapfile(&c, map_entry, &m, err)) || (rc = m.rc)) goto finish;
    }
    if ((rc = open_reader(&c, err))) goto finish;
    if ((rc = validate_all(&c, err))) goto finish;
    br_job_set_total(repo, c.job_id, (int64_t)res->total, NULL);
    if (opt.validate_only || (res->invalid && !opt.skip_invalid)) {
        char u[32];
        if (res->invalid)
            rc =
                br_error_set(err, BR_EINVAL, NULL, 0, 0,
                             "%zu of %zu %s %s invalid; nothing was imported", res->invalid,
                             res->total, unit(&c, res->total, u), res->invalid == 1 ? "is" : "are");
        goto finish;
    }
    c.todo = res->valid;
    c.worker = opt.worker;
    if ((rc = make_collection(&c, err))) goto finish;
    if (chunked(&c)) {
        rc = write_chunks(&c, err);
    } else {
        /* A resumed job that wrote in chunks before: a worker still writing one of them stops
         * at its next batch (the DELETE waits for the batch in hand), so that its records and
         * this run's never cross. */
        if (opt.resume && opt.job_id && (rc = br_job_chunks_clear(repo, c.job_id, err)))
            goto finish;
        rc = write_all(&c, err);
    }
    if (rc) goto finish;
    if ((rc = write_relations(&c, err))) goto finish;
    if (c.files_replaced && (rc = br_asset_gc(repo, NULL, err))) goto finish;
    if (opt.mode == BR_IMPORT_ADD && (res->imported || res->skipped || !access(c.mapfile, F_OK)) &&
        (rc = rewrite_mapfile(&c, err)))
        goto finish;
    char u1[32], u2[32];
    if (res->invalid || res->failed)
        rc = br_error_set(err, BR_EINVAL, NULL, 0, 0, "%zu invalid %s left out, %zu %s failed",
                          res->invalid, unit(&c, res->invalid, u1), res->failed,
                          unit(&c, res->failed, u2));
    else if (res->multi)
        rc = br_error_set(err, BR_EINVAL, NULL, 0, 0,
                          "%zu %s %s several stored records: choose with `bulkrepo job "
                          "resolve %lld KEY HANDLE|new|skip`, then `bulkrepo job resume %lld`",
                          res->multi, unit(&c, res->multi, u1),
                          res->multi == 1 ? "matches" : "match", (long long)c.job_id,
                          (long long)c.job_id);

finish:
    /* Its chunks go before its end, under the write lock: a worker still writing one finds it
     * gone at its next transaction and stops. */
    if (c.planned) br_job_chunks_clear(repo, c.job_id, NULL);
    /* The scratch folder goes before the job ends: whoever sees the job ended
     * (a monitor, a test, the next run) sees no leftover of it. */
    close_reader(&c);
    if (c.scratch[0]) br_rmtree(c.scratch); /* only the folder this run made */
    if (job_made && res->multi && (!rc || rc == BR_EINVAL) && !res->invalid && !res->failed) {
        char msg[1200];
        br_error_format(err, msg, sizeof msg);
        br_job_set_status(repo, c.job_id, BR_JOB_MANUAL_HANDLING_REQUIRED, msg, NULL);
    } else if (job_made) {
        br_import_job_end(repo, c.job_id, rc, res->imported || res->deleted,
                          opt.mode != BR_IMPORT_DELETE && res->total == 0, err);
    }
    if (job_made)
        br_meter_end(&c.meter,
                     !rc || (rc == BR_EINVAL && (res->imported || res->deleted) && !res->multi));
    /* A job the engine runs gets its events from the engine; one run here (the
     * CLI) records the same story itself. */
    if (job_made && !opt.job_id) inline_events(&c);
    pipe_dispose(&c);
    return rc;
}

/* ---- another run's chunks ------------------------------------------------------------------ */

int br_import_chunks(br_repo *repo, const char *format, const br_import_options *opt_in,
                     const br_job_chunk *first, br_error *err)
{
    if (!repo || !opt_in || !first || !opt_in->worker || !opt_in->job_id)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_import_chunks: bad arguments");
    br_import_options opt = *opt_in;
    if (!opt.limits.max_file_size) br_limits_default(&opt.limits);
    opt.resume = 1; /* the job's run checked the mapfile; the journal says what is written */
    br_import_result res;
    memset(&res, 0, sizeof res);
    pl_ctx c;
    memset(&c, 0, sizeof c);
    c.repo = repo;
    c.opt = &opt;
    c.res = &res;
    c.sink.fn = on_diag;
    c.sink.ctx = &c;
    c.fmt = br_format_find(format);
    c.job_id = opt.job_id;
    c.worker = opt.worker;
    br_job_chunk ch = *first;
    int rc = 0;
    if (!c.fmt) {
        rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0, "unknown format '%s'", format ? format : "");
        goto done;
    }
    c.status = opt.status && *opt.status ? opt.status
               : opt.workflow            ? "workflow"
                                         : c.fmt->info.default_status;
    snprintf(c.via, sizeof c.via, "bulkrepo %s import", c.fmt->info.short_label);
    /* The job's run records the progress (the meter stays unset) and every finding. */
    c.quiet = 1;
    if ((rc = check_options(&c, err))) goto done;
    c.old = br_record_new();
    c.out = br_record_new();
    if (!c.old || !c.out) {
        rc = oom(err);
        goto done;
    }
    if ((rc = open_reader(&c, err))) goto done;
    c.pos = 0;
    for (int got = 1; got == 1 && !rc;) {
        if ((rc = write_chunk(&c, &ch, err))) break;
        got = claim_chunk(&c, &ch, err);
        if (got < 0) rc = got;
    }
done:
    if (rc) br_job_chunk_release(repo, &ch, opt.worker, NULL); /* a no-op once done */
    note_retries(&c);
    close_reader(&c);
    if (c.scratch[0]) br_rmtree(c.scratch);
    pipe_dispose(&c);
    return rc;
}

/* ---- an operator's choice for a multi-match -------------------------------------------- */

typedef struct find_line {
    const char *key;
    int64_t seq;
    int hit;
} find_line;

static int find_key(void *ctx, const br_job_record *r)
{
    find_line *f = ctx;
    if (strcmp(r->key, f->key)) return 0;
    f->seq = r->seq; /* the line's strings die with the callback */
    f->hit = 1;
    return 1;
}

int br_job_resolve(br_repo *repo, int64_t job_id, const char *key, const char *choice,
                   br_error *err)
{
    if (!key || !choice)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "give the record's key and a choice");
    find_line f = {key, 0, 0};
    int rc = br_job_records(repo, job_id, BR_OUTCOME_MULTI_MATCH, find_key, &f, err);
    if (rc) return rc;
    if (!f.hit)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "job %lld has no record '%s' waiting for a choice (a multi-match)",
                            (long long)job_id, key);
    int64_t id;
    const char *handle = choice;
    if (strcmp(choice, "new") && strcmp(choice, "skip") &&
        (rc = br_item_find(repo, choice, &id, err)))
        return rc == BR_ENOTFOUND ? br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                                                 "no item %s: give a handle, new or skip", choice)
                                  : rc;
    br_job_record jr = {0};
    jr.seq = f.seq;
    jr.key = key;
    jr.outcome = BR_OUTCOME_RESOLVED;
    jr.handle = handle; /* the choice: a handle, "new" or "skip" */
    char msg[1200];
    snprintf(msg, sizeof msg, "resolved: %s (applied by `job resume`)", choice);
    jr.message = msg;
    if ((rc = br_repo_begin(repo, err))) return rc;
    if ((rc = br_job_journal(repo, job_id, &jr, err)) || (rc = br_repo_commit(repo, err))) {
        br_repo_rollback(repo);
        return rc;
    }
    return 0;
}
