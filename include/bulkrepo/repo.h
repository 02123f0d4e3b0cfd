/* bulkrepo — the repository: a database and a content-addressed assetstore in one directory.
 * The database is embedded (SQLite, WAL) by default, or a PostgreSQL database that
 * DIR/bulkrepo.conf names (br_repo_init_ext); everything below is the same on both.
 *
 *   DIR/bulkrepo.db        the embedded database (all SQL lives in src/lib/store/)
 *   DIR/bulkrepo.conf      "store = postgresql://..." when the database is PostgreSQL
 *   DIR/assetstore/ab/<sha256>   bitstream files, stored once per content
 *   DIR/assetstore/tmp/    files being written (temp file, then rename)
 *   DIR/tmp/               scratch space (extracted zips), inside the repository
 *
 * A br_repo is one connection; use one per thread.  Writes are grouped into
 * transactions by the caller (br_repo_begin/commit) so that a batch of items is
 * one commit; br_repo_commit first makes the assetstore durable (one flush per
 * batch), so a committed row never points at a file that a crash could lose.
 */
#ifndef BULKREPO_REPO_H
#define BULKREPO_REPO_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct br_repo br_repo;

#define BR_DEFAULT_HANDLE_PREFIX "123456789"

/* Creates DIR (or uses an empty existing one) with a new database and
 * assetstore.  BR_EEXISTS when DIR already holds a repository. */
int br_repo_init(const char *dir, const char *handle_prefix, br_error *err);

typedef struct br_init_options {
    const char *handle_prefix; /* NULL: BR_DEFAULT_HANDLE_PREFIX */
    /* Where the records are kept: NULL for the embedded database (DIR/bulkrepo.db), or a
     * PostgreSQL address (postgresql://user@host:port/database?...; an empty database the
     * user may create tables in), which DIR/bulkrepo.conf then remembers.  DIR always holds
     * the assetstore, scratch space and the repository's settings; several machines share
     * one repository by mounting DIR and reaching the same database. */
    const char *store;
} br_init_options;

/* br_repo_init with options (NULL = its defaults).  BR_EEXISTS also when the database
 * already holds a repository. */
int br_repo_init_ext(const char *dir, const br_init_options *opts, br_error *err);
/* The repository's store address ("" for the embedded database) and its backend's name
 * ("sqlite", "postgresql"). */
const char *br_repo_store(const br_repo *repo);
const char *br_repo_backend(const br_repo *repo);
/* How many records of an import one chunk holds by default when workers share its writing
 * (import.h's chunk_size): 0 where the store has one writer at a time (the embedded one). */
unsigned br_repo_chunk_records(const br_repo *repo);
/* 1 where writers run side by side (br_repo_begin_shared), 0 where they take turns. */
int br_repo_concurrent_writers(const br_repo *repo);
/* Opens an existing repository; BR_ENOTFOUND when DIR holds none.  A
 * repository of an older schema version is refused (BR_ESTORE, the message
 * says to run `bulkrepo upgrade`), as is one of a newer version (BR_ESTORE:
 * written by a newer bulkrepo); br_repo_open_ext can upgrade instead. */
int br_repo_open(const char *dir, br_repo **out, br_error *err);

/* ---- schema versions and upgrades ----------------------------------------
 *
 * The database records its schema version (meta.schema_version).  A new
 * repository gets the latest; an older one is brought to the latest by the
 * migrations compiled in (src/lib/store/migrations/N.sql, N-1 -> N), all in
 * one transaction, after a copy of the database is written to
 * DIR/backups/bulkrepo-v<old>-<YYYYMMDDTHHMMSSZ>.db (SQLite's online backup,
 * WAL checkpointed first).  A failed upgrade leaves the repository as it was.
 * A repository newer than the library is never touched. */

typedef struct br_schema_status {
    int version; /* the repository's */
    int latest;  /* the newest this library knows (br_schema_latest) */
} br_schema_status;

typedef struct br_upgrade_report {
    int from;          /* the version found */
    int to;            /* the version now: == from when nothing was done (dry run, current) */
    int latest;        /* this library's */
    char backup[4200]; /* the copy made before the upgrade; "" when none was made */
} br_upgrade_report;

/* The schema version this library creates and upgrades to. */
int br_schema_latest(void);
/* One line saying what the migration to version `to` changes (its SQL file's
 * first comment line): 0 and out filled; BR_ENOTFOUND when no migration leads
 * to `to` (1 and anything past br_schema_latest). */
int br_schema_migration_describe(int to, char *out, size_t size);
/* Reads the repository's version without changing anything: 0 and out
 * filled (also when the version is newer than the library's); BR_ENOTFOUND
 * when DIR holds no repository; BR_ESTORE when the database cannot be read or
 * records no valid version. */
int br_repo_schema_status(const char *dir, br_schema_status *out, br_error *err);
/* Upgrades DIR to the latest version (backup first, one transaction).
 * dry_run: only fills rep (from, latest; to == from).  A repository at the
 * latest version is left alone (rep->to == rep->from, no backup).  Safe
 * against a concurrent upgrade (the version is read again under the write
 * lock).  0 and rep filled (rep may be NULL); BR_ESTORE for a newer
 * repository (untouched) or a failed migration (rolled back); BR_EIO when
 * the backup cannot be written (nothing changed); BR_ENOTFOUND. */
int br_repo_upgrade(const char *dir, int dry_run, br_upgrade_report *rep, br_error *err);

typedef void (*br_upgrade_fn)(void *ctx, const br_upgrade_report *rep);

typedef struct br_open_options {
    int upgrade;              /* 1: upgrade an older repository first; 0: refuse it */
    br_upgrade_fn on_upgrade; /* told after an upgrade was made (may be NULL) */
    void *ctx;
} br_open_options;

/* br_repo_open with options (NULL = br_repo_open's defaults). */
int br_repo_open_ext(const char *dir, const br_open_options *opts, br_repo **out, br_error *err);
void br_repo_free(br_repo *repo);
const char *br_repo_dir(const br_repo *repo);
const char *br_repo_handle_prefix(const br_repo *repo);

int br_repo_begin(br_repo *repo, br_error *err);
/* Flushes the assetstore to disk, then commits. */
int br_repo_commit(br_repo *repo, br_error *err);
void br_repo_rollback(br_repo *repo);
/* A write transaction that runs beside other writers where the store allows it (PostgreSQL;
 * on the embedded store this is br_repo_begin): it takes no write lock, so it may only write
 * what no other writer reads and then writes (an import's new items, their journal lines).
 * New handles come from a block of at least `handles` numbers reserved for this connection
 * first (in a short locked transaction of its own: a chunked import's handles may skip the
 * numbers a batch reserved and did not use); journal lines are written at the commit.  A
 * record looked up by a key (an identifier that matches it) takes that key first with
 * br_repo_lock_key. */
int br_repo_begin_shared(br_repo *repo, size_t handles, br_error *err);
/* Takes key for the open transaction, to its end: 1, or 0 when another shared transaction
 * holds it (the caller rolls back and tries again later: never waiting, two writers cannot
 * wait for each other); 1 at once outside a shared transaction. */
int br_repo_lock_key(br_repo *repo, const char *key, br_error *err);
/* Waits until the database has answered every write made so far in the transaction, so that a
 * refusal among them is reported now, by the caller that knows which record they were (on
 * PostgreSQL the rows of an item go ahead of their answers; on SQLite every write is answered
 * as it is made and this returns 0 at once).  0, or BR_ESTORE with the database's reason. */
int br_repo_settle(br_repo *repo, br_error *err);
/* Writers of one process take turns through a gate.  SQLite has one writer at a
 * time; a bulk import on a worker connection commits a batch every few hundred
 * milliseconds and begins the next at once, so a short write on another
 * connection (a login, a job submission) would lose every race for the lock
 * until its busy timeout expired.  Connections sharing a gate count the writers
 * waiting for the lock, and br_repo_begin lets them go first (pausing for at
 * most a second; the gate never blocks a writer itself).  A gate outlives the
 * connections that use it; br_write_gate_free(NULL) is a no-op. */
typedef struct br_write_gate br_write_gate;
br_write_gate *br_write_gate_new(void); /* NULL on out-of-memory */
void br_write_gate_free(br_write_gate *gate);
/* Sets the connection's gate (NULL = none); only between transactions. */
void br_repo_set_write_gate(br_repo *repo, br_write_gate *gate);

/* Makes an idle connection current: resets every cached statement (a lookup
 * that stopped at its first row otherwise keeps its read transaction, and
 * with it an old snapshot of the database, open) and rolls back a transaction
 * left open.  For connection pools: call before a connection serves the next
 * request (the HTTP server does). */
void br_repo_reset(br_repo *repo);

/* Removes temp files and scratch folders left by processes that no longer run
 * (a crash); those of live processes are left alone.  0, or BR_EIO when one
 * could not be removed (the others still are; fsck lists what is left). */
int br_repo_clean_stale(br_repo *repo);

/* Creates a fresh private scratch folder under DIR/tmp; out gets its path. */
int br_repo_mktemp(br_repo *repo, const char *tag, char *out, size_t size, br_error *err);

/* ---- communities and collections ---------------------------------------- */

typedef struct br_container {
    int64_t id;
    int is_community;
    char handle[64];
    char name[512];
    char parent[64]; /* parent community handle, "" for none */
    int64_t n_items; /* collections: items owned or mapped */
} br_container;

typedef int (*br_container_fn)(void *ctx, const br_container *c);

int br_container_create(br_repo *repo, int is_community, const char *name,
                        const char *parent_handle, br_container *out, br_error *err);
/* 0 and out filled; BR_ENOTFOUND when no community or collection has the
 * handle; BR_ESTORE when the database failed (never BR_ENOTFOUND then). */
int br_container_get(br_repo *repo, const char *handle, br_container *out, br_error *err);
/* Communities first, then collections, each in handle order. A nonzero return of fn stops. */
int br_container_list(br_repo *repo, br_container_fn fn, void *ctx, br_error *err);

/* A collection's id by handle, cheaply (no item count): 0 and *id set;
 * BR_ENOTFOUND when no container has the handle; BR_EINVAL when it names a
 * community; BR_ESTORE when the database failed. */
int br_collection_resolve(br_repo *repo, const char *handle, int64_t *id, br_error *err);

/* A collection's template item: metadata applied to new items with --template. */
int br_collection_set_template(br_repo *repo, const char *handle, const br_record *tmpl,
                               br_error *err);
/* Appends the template's values to rec (none when the collection has no template). */
int br_collection_apply_template(br_repo *repo, const char *handle, br_record *rec, br_error *err);

/* ---- metadata field registry -------------------------------------------- */

typedef struct br_field {
    const char *schema;
    const char *element;
    const char *qualifier; /* NULL when none */
    const char *scope_note;
} br_field;

typedef int (*br_field_fn)(void *ctx, const br_field *f);

/* field is "schema.element[.qualifier]"; the schema must exist. */
int br_registry_add(br_repo *repo, const char *field, const char *scope_note, br_error *err);
int br_registry_add_schema(br_repo *repo, const char *prefix, const char *ns, br_error *err);
/* 1 when registered, 0 when not (a NULL name is not).  Answered from the
 * registry loaded at br_repo_open: these never fail. */
int br_registry_has(br_repo *repo, const char *schema, const char *element, const char *qualifier);
int br_registry_has_schema(br_repo *repo, const char *schema);
/* The registered field closest to the given one ("dc.title" for "dc.titel"):
 * 0 and out filled; BR_ENOTFOUND when nothing is plausibly meant (out "");
 * BR_EUSAGE for a NULL name or buffer.  From memory: no database failure. */
int br_registry_suggest(br_repo *repo, const char *schema, const char *element,
                        const char *qualifier, char *out, size_t size);
int br_registry_list(br_repo *repo, br_field_fn fn, void *ctx, br_error *err);

/* ---- groups (bitstream permissions name them) --------------------------- */

int br_group_add(br_repo *repo, const char *name, br_error *err);
/* 1 when the group exists, 0 when it does not, BR_ESTORE when the database
 * failed (BR_EUSAGE for a NULL name).  Test `== 1` for "exists" and `< 0` for
 * a failure: a failure is neither. */
int br_group_exists(br_repo *repo, const char *name);

/* ---- organisational units (Esploro affiliation codes) --------------------- */

/* A research organisational unit, named by its code with the institution
 * prefix as Esploro writes it: "01ALLIANCE_UID___n6370" (prefix, three
 * underscores, unit code; seed 000, formats.md 1.5). */
typedef struct br_orgunit {
    const char *code;
    const char *name;
    const char *parent; /* parent unit's code, NULL for none */
} br_orgunit;

typedef int (*br_orgunit_fn)(void *ctx, const br_orgunit *u);

/* Adds a unit.  code: no whitespace or control characters, at most 255 bytes;
 * parent, when given, must exist.  BR_EEXISTS when the code is taken. */
int br_orgunit_add(br_repo *repo, const char *code, const char *name, const char *parent,
                   br_error *err);
/* 1 when a unit has exactly this code, 0 when not, negative on a store failure. */
int br_orgunit_exists(br_repo *repo, const char *code);
/* The known code closest to `code` (edit distance on the whole code, and on the
 * unit part after "___" so a code with another or no prefix is found): 0 and
 * out filled, or BR_ENOTFOUND when nothing is plausibly meant. */
int br_orgunit_suggest(br_repo *repo, const char *code, char *out, size_t size);
/* Every unit in code order; a nonzero return of fn stops. */
int br_orgunit_list(br_repo *repo, br_orgunit_fn fn, void *ctx, br_error *err);
/* Loads units from a CSV file with a header row naming the columns code, name
 * and optionally parent (any order, any case).  One transaction: a unit that
 * exists is updated; parents may be defined later in the file but must exist at
 * the end.  Any bad row (with its row number in err) leaves the store unchanged.
 * *count gets the number of rows loaded. */
int br_orgunit_import(br_repo *repo, const char *path, size_t *count, br_error *err);

/* ---- items -------------------------------------------------------------- */

typedef struct br_item_write {
    const char *status; /* "archived" (default), "workflow", "workspace", "draft" */
    int64_t job_id;     /* the job that wrote it, 0 = none */
    const char *uuid;   /* keep this UUID (replace); NULL = new */
} br_item_write;

/* Inserts rec as a new item.  rec->collections name existing collections (the
 * first owns it); rec->handle is kept when set, else a new one is allocated;
 * every bitstream must already be in the assetstore (sha256 set, see
 * br_asset_put_file).  Relations are not inserted (see br_relation_insert).
 * Sets rec->id, rec->handle and rec->uuid. */
int br_item_insert(br_repo *repo, br_record *rec, const br_item_write *w, br_error *err);
/* Deletes an item with its values, bitstream rows and relations (files stay
 * until br_asset_gc).  BR_ENOTFOUND when there is no such item. */
int br_item_delete(br_repo *repo, int64_t id, br_error *err);
/* Finds an item by handle (it has a '/') or UUID: 0 and *id set; BR_ENOTFOUND
 * when there is none; BR_ESTORE when the database failed (never BR_ENOTFOUND
 * then, also with err == NULL: "absent" is exactly BR_ENOTFOUND). */
int br_item_find(br_repo *repo, const char *handle_or_uuid, int64_t *id, br_error *err);
/* Allocates the next free handle (never one used before, even if its item was
 * deleted).  Call inside a transaction; the allocation commits with it. */
int br_handle_next(br_repo *repo, char *out, size_t size, br_error *err);
/* 1 when a handle is used by any object (item, community, collection), 0 when
 * it is free, BR_ESTORE when the database failed (BR_EUSAGE for NULL). */
int br_handle_exists(br_repo *repo, const char *handle);
/* Finds an item by a typed identifier (br_identifier: "origid" for Esploro's
 * ASSET_ORIGASSET_ID, "doi", ...): 0 and *id set; BR_ENOTFOUND when none has
 * it; BR_ESTORE when the database failed. */
int br_item_find_by_identifier(br_repo *repo, const char *type, const char *value, int64_t *id,
                               br_error *err);
/* Rewrites the stored item rec->id from rec: its metadata values, bitstreams,
 * creators, links and identifiers become rec's (bitstreams must be in the
 * assetstore already); id, handle, UUID, collections and relationships stay.
 * w->status, when set, changes the status; w->job_id, when set, records the
 * job.  Call inside a transaction.  BR_ENOTFOUND when there is no such item. */
int br_item_update(br_repo *repo, const br_record *rec, const br_item_write *w, br_error *err);
/* Items whose field has exactly value (at most max ids; *n gets the full count,
 * 0 when none, also for a field not in the registry).  0, or BR_ESTORE when
 * the database failed (*n is then meaningless). */
int br_item_find_by_value(br_repo *repo, const char *schema, const char *element,
                          const char *qualifier, const char *value, int64_t *ids, size_t max,
                          size_t *n, br_error *err);
/* Loads a whole item into rec (reset first): metadata in stored order,
 * bitstreams with their stored path (DIR/assetstore/...), relations, collections.
 * 0; BR_ENOTFOUND when there is no such item; BR_ESTORE, BR_ENOMEM. */
int br_item_load(br_repo *repo, int64_t id, br_record *rec, br_error *err);
int br_item_set_status(br_repo *repo, int64_t id, const char *status, br_error *err);

int br_relation_insert(br_repo *repo, const char *type, int64_t left, int64_t right, br_error *err);

typedef struct br_item_summary {
    int64_t id;
    const char *handle;
    const char *uuid;
    const char *status;
    const char *title;
    const char *owning_collection;
    const char *modified;
} br_item_summary;

typedef struct br_item_query {
    const char *collection; /* owned or mapped; NULL = all */
    int64_t job_id;         /* written by this job; 0 = any */
    int include_withdrawn;
} br_item_query;

typedef int (*br_item_fn)(void *ctx, const br_item_summary *s);

/* Items in a stable order: by handle prefix, then numerically by suffix. */
int br_item_list(br_repo *repo, const br_item_query *q, br_item_fn fn, void *ctx, br_error *err);
/* The number of items (templates not counted), or BR_ESTORE (negative) when
 * the database failed. */
int64_t br_item_count(br_repo *repo);

/* A job that touched an item (br_item_jobs); strings valid during the callback only. */
typedef struct br_item_job {
    int64_t id;
    const char *type; /* "import-saf", ... */
    const char *name;
    const char *outcome;   /* the journal's ("imported", "updated", ...); NULL: none names it */
    const char *submitted; /* ISO 8601 UTC */
} br_item_job;

typedef int (*br_item_job_fn)(void *ctx, const br_item_job *j);

/* The jobs whose journal names item id (by its handle: a replaced item keeps it) and the job
 * that last wrote it (item.job_id), newest first, at most max (0 = all); fn returns non-zero
 * to stop.  0 (also for an id no item has: no jobs); BR_ESTORE. */
int br_item_jobs(br_repo *repo, int64_t id, size_t max, br_item_job_fn fn, void *ctx,
                 br_error *err);

/* ---- assetstore --------------------------------------------------------- */

/* Copies the file at src into the assetstore (hashing it on the way), fills
 * bs->size, md5, sha256 and mime (mime from libmagic; rec provides the string
 * storage).  Larger than max_size: BR_ELIMIT, nothing stored.  Identical
 * content is stored once.  Durable after the next br_repo_commit. */
int br_asset_put_file(br_repo *repo, const char *src, uint64_t max_size, br_record *rec,
                      br_bitstream *bs, br_error *err);
/* The stored file's path for a sha256: 0, BR_ELIMIT when it does not fit. */
int br_asset_path(const br_repo *repo, const char *sha256, char *out, size_t size);
/* Removes stored files that no bitstream row names any more; *removed gets
 * how many.  BR_ESTORE, or BR_EIO when the assetstore cannot be listed or a
 * file cannot be removed (the others still are). */
int br_asset_gc(br_repo *repo, size_t *removed, br_error *err);

/* ---- integrity ---------------------------------------------------------- */

typedef struct br_fsck_report {
    int db_ok;
    size_t items;
    size_t bitstreams;
    size_t files;
    size_t bad_checksums;
    size_t missing_files;
    size_t orphan_files;
    size_t temp_files;
    size_t orphan_rows;
} br_fsck_report;

/* Checks SQLite integrity, re-verifies every stored file's SHA-256 and MD5,
 * and reports orphan files and rows, each as a diagnostic.  Returns 0 when the
 * checks ran (clean or not: see the report), negative when they could not. */
int br_repo_fsck(br_repo *repo, br_diag_sink *diags, br_fsck_report *rep, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
