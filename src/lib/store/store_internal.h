/* Internal to the store module: the connection, its prepared statements and caches. */
#ifndef BR_STORE_INTERNAL_H
#define BR_STORE_INTERNAL_H

#include <magic.h>
#include "bulkrepo/repo.h"
#include "core/core.h"
#include "db.h"

/* Every statement the store runs, prepared once per connection on first use. */
/* clang-format off */
typedef enum stmt_id {
    S_BEGIN, S_COMMIT, S_ROLLBACK,
    S_META_GET, S_META_SET,
    S_CONT_INSERT, S_CONT_BY_HANDLE, S_CONT_ID, S_CONT_LIST, S_CONT_SET_TEMPLATE,
    S_SCHEMA_INSERT, S_SCHEMA_BY_PREFIX, S_FIELD_INSERT, S_FIELD_ALL,
    S_GROUP_INSERT, S_GROUP_BY_NAME,
    S_HANDLE_USED, S_MAX_HANDLE_ITEM, S_MAX_HANDLE_CONT,
    S_ITEM_INSERT, S_ITEM_COLL_INSERT, S_MV_INSERT, S_BS_INSERT, S_CREATOR_INSERT,
    S_LINK_INSERT, S_ID_INSERT,
    S_ID_MIRROR, S_ITEM_DELETE, S_ITEM_BY_HANDLE, S_ITEM_BY_UUID,
    S_ITEM_GET, S_ITEM_MD, S_ITEM_BS, S_ITEM_RELS, S_ITEM_COLLS, S_ITEM_CREATORS,
    S_ITEM_LINKS, S_ITEM_IDS, S_ITEM_SET_STATUS, S_ITEM_BY_VALUE, S_ITEM_COUNT,
    S_LIST_ALL, S_LIST_COLL, S_LIST_JOB,
    S_REL_INSERT, S_REL_MAXPLACE_L, S_REL_MAXPLACE_R,
    S_JOB_INSERT, S_JOB_STATUS, S_JOB_TOTAL, S_JOB_GET, S_JOB_COUNTERS, S_JOB_LIST,
    S_JOB_REC_UPSERT, S_JOB_RECS, S_JOB_RECS_OUTCOME, S_JOB_BY_MAPFILE, S_JOB_EVENT,
    S_JOB_ENQUEUE, S_JOB_CLAIM, S_JOB_HEARTBEAT, S_JOB_STALE, S_JOB_TAKE_OVER, S_JOB_PROGRESS, S_JOB_FAILURE, S_JOB_INPUT, S_JOB_REQUEUE,
    S_JOB_CANCEL_PENDING, S_JOB_CANCEL_RUNNING, S_JOB_CANCEL_GET, S_JOB_UNFINISHED, S_JOB_CARRY,
    S_JOB_FILE_ADD, S_JOB_FILE_UPDATE, S_JOB_FILES, S_JOB_EVENTS, S_JOB_QUERY, S_JOB_BY_INPUT,
    S_PROFILE_ADD, S_PROFILE_GET, S_PROFILE_LIST, S_PROFILE_DEL,
    /* pulling profiles, their fetched files and history (store_profile.c, store_fetched.c) */
    S_PROFILE_FTP_EXISTS, S_PROFILE_HISTORY, S_PROFILE_HISTORY_COUNT, S_PROFILE_ADVANCE,
    S_PROFILE_FETCH_ACTIVE, S_FETCHED_LOADED, S_FETCHED_SHA, S_FETCHED_ADD, S_FETCHED_SET,
    S_FETCHED_PENDING, S_JOB_CHILDREN,
    S_BS_SHA_ALL, S_BS_HAS_SHA,
    S_ORG_INSERT, S_ORG_UPSERT, S_ORG_EXISTS, S_ORG_ALL, S_ORG_BAD_PARENT,
    S_ITEM_BY_IDENT, S_ITEM_UPDATE, S_ITEM_CLEAR_MD, S_ITEM_CLEAR_BS, S_ITEM_CLEAR_CREATORS,
    S_ITEM_CLEAR_LINKS, S_ITEM_CLEAR_IDS, S_JOB_ITEMS_STATUS, S_JOB_REC_GET,
    S_USER_INSERT, S_USER_GET, S_USER_LIST, S_USER_SET_PW, S_USER_ROLES, S_USER_ROLES_CLEAR,
    S_USER_ROLE_INSERT, S_TOKEN_INSERT, S_TOKEN_FIND, S_SESSION_INSERT, S_SESSION_FIND,
    S_SESSION_DELETE, S_SESSION_DELETE_USER, S_SESSION_PURGE,
    S_TOKEN_TOUCH, S_TOKEN_LIST, S_TOKEN_STATE, S_TOKEN_REVOKE, S_TOKEN_REVOKE_USER,
    S_USER_SET_DISABLED,
    S_JM_ADD, S_JM_COUNT, S_JM_RANGE, S_JOB_LAST_SEQ, S_UNDO_PUT, S_UNDO_PAGE, S_UNDO_COUNT,
    S_TRASH_PUT, S_TRASH_GET, S_TRASH_PAGE, S_TRASH_DEL, S_TRASH_EXPIRED, S_HOLD_ADD, S_HOLD_DEL, S_ITEM_VERSION, S_UNDO_EXPIRED, S_UNDO_DROP, S_HOLD_DEL_RANGE,
    S_SET_INSERT, S_SET_GET, S_SET_LIST, S_SET_DELETE, S_SET_NEXT_SEQ, S_SET_MEMBER_ADD,
    S_SET_MEMBER_DEL, S_SET_MEMBERS, S_SET_ITEM_UUID, S_SET_USER_EXISTS,
    S_SET_JOB_EXISTS, S_SET_JOB_MEMBERS,
    S_FTS_ROW, S_FTS_PUT, S_FTS_DELETE, S_FTS_CLEAR, S_FTS_FIELDS, S_FTS_FIELD_COUNT,
    S_ITEM_JOBS,
    /* DOI profiles (store_doi.c) */
    S_DOI_PROFILE_ADD, S_DOI_PROFILE_GET, S_DOI_PROFILE_LIST, S_DOI_PROFILE_ACTIVE,
    S_DOI_PROFILE_SECRET, S_DOI_COUNTER_GET, S_DOI_COUNTER_PUT, S_DOI_TAKEN, S_DOI_UNIT_NAME,
    /* relations between assets (store_relation.c) */
    S_REL_EXISTS, S_REL_DELETE, S_ITEM_IDENT, S_ITEM_TOUCH,
    /* the mail outbox and users' account rows (store_mail.c, store_account.c) */
    S_MAIL_INSERT, S_MAIL_LIST, S_MAIL_COUNT, S_MAIL_DUE, S_MAIL_CLAIM, S_MAIL_GET, S_MAIL_SENT,
    S_MAIL_RETRY, S_MAIL_REQUEUE, S_MAIL_JOB_COUNT, S_ACCT_GET, S_ACCT_BY_ID, S_ACCT_SET_TYPE,
    S_ACCT_SET_EMAIL,
    /* researchers and their ORCID works (store_researcher.c) */
    S_RES_INSERT, S_RES_UPDATE, S_RES_BY_RID, S_RES_BY_ORCID, S_RES_GET, S_RES_AFFS, S_RES_TERMS,
    S_RES_CLEAR_AFFS, S_RES_CLEAR_TERMS, S_RES_AFF_INSERT, S_RES_TERM_INSERT, S_RES_PAGE,
    S_RES_COUNT, S_RES_ASSETS, S_ORCID_WORK_ADD, S_ORCID_WORKS, S_ORCID_WORK_DEL,
    /* export delivery and job-end mail (issue 17: jobs/deliver.c, jobs/notify.c) */
    S_JOB_DELIVERY_SET, S_JOB_DELIVERY_GET, S_MAIL_JOB_KIND_COUNT, S_ACCT_NOTIFY_GET,
    S_ACCT_NOTIFY_SET,
    /* S/FTP configurations (store_ftp.c) */
    S_FTP_UPSERT, S_FTP_GET, S_FTP_LIST, S_FTP_DEL, S_FTP_USED_BY, S_FTP_SECRETS,
    /* chunks of an import written by several workers (store_chunk.c) */
    S_CHUNK_ADD, S_CHUNK_COUNT, S_CHUNK_CLAIM, S_CHUNK_HOLD, S_CHUNK_DONE, S_CHUNK_RELEASE,
    S_CHUNK_BEAT, S_CHUNK_CLEAR, S_CHUNK_JOURNAL, S_KEY_LOCK,
    S_COUNT
} stmt_id;
/* clang-format on */

/* The most metadata values one INSERT writes (br_db_backend.rows_per_insert). */
#define BR_MV_ROWS_MAX 32

struct br_repo {
    br_db *db;
    br_dbst *stmts[S_COUNT];
    br_dbst *mv_rows[BR_MV_ROWS_MAX + 1]; /* INSERTs of k values, made at their first use */
    char dir[4096];
    char store[1024]; /* the database's address as shown ("" for the embedded database) */
    char prefix[64];
    int assetdir_fd; /* DIR/assetstore, for syncfs */
    unsigned tmp_counter;
    int64_t next_handle; /* 0 = not loaded for this transaction */
    int in_tx;
    int iterating;       /* > 0 while a list statement hands rows to a caller's callback */
    br_write_gate *gate; /* shared with the process's other connections, or NULL */
    int assets_dirty;    /* files were stored since the last commit */
    br_strmap fields;    /* "schema\x1felement\x1fqualifier" -> field id */
    char **schemas;
    size_t n_schemas;
    magic_t magic;
    int magic_failed;   /* libmagic could not load: not asked again */
    int64_t *fts_dirty; /* items whose search index row is written at the commit */
    size_t fts_n, fts_cap;
    int64_t fts_fields;   /* metadata fields in temp.item_fts_field when filled, 0 = not */
    unsigned fts_session; /* the database session (br_db.session) fts_fields is about */
    /* A shared transaction (br_repo_begin_shared): no write lock; new handles come from the
     * block reserved for this connection; journal lines wait for the commit. */
    int shared_tx;
    int64_t handle_from, handle_end; /* the reserved block's numbers not used yet */
    struct br_deferred_line *deferred;
    size_t n_deferred, cap_deferred;
    br_buf deferred_text; /* their strings, NUL-terminated */
};

/* Writes the journal lines a shared transaction kept for its commit (store_job.c). */
int br_journal_flush(br_repo *repo, br_error *err);
/* Drops them (a rollback). */
void br_journal_forget(br_repo *repo, int dispose);

br_dbst *br_stmt(br_repo *repo, stmt_id id, br_error *err);
/* br_db_step, except that a write outside a transaction counts itself as
 * waiting at the connection's write gate (see br_write_gate in repo.h). */
int br_step(br_repo *repo, br_dbst *st);
/* br_step for a write inside a transaction whose answer nothing reads: no rows, no changes or
 * last_id asked, a refusal a failure of the transaction (the item's rows, the journal line).
 * PostgreSQL sends it without waiting (db.h, step_ahead); its refusal fails the next
 * statement that waits for the server, the COMMIT at the latest. */
int br_step_ahead(br_repo *repo, br_dbst *st);
/* br_step for a write whose refusal (BR_DB_UNIQUE, BR_DB_CONSTRAINT) the caller reads as an
 * answer ("already exists") and goes on in the same transaction. */
int br_step_guarded(br_repo *repo, br_dbst *st);
/* Calls a caller's callback from inside a statement's iteration: store calls the
 * callback makes must not reset the iterating statement (see br_stmt). */
#define BR_YIELD(repo, call) ((repo)->iterating++, br_yield_done((repo), (call)))
static inline int br_yield_done(br_repo *repo, int r)
{
    repo->iterating--;
    return r;
}
/* The code of the database's last failure: BR_ELOST when the connection was lost, else
 * BR_ESTORE. */
int br_store_code(br_repo *repo);
/* Sets err (may be NULL) from the connection's last error; returns its code (br_store_code). */
int br_store_fail(br_repo *repo, br_error *err, const char *what);
/* Binds text or NULL. */
int br_bind_text(br_dbst *st, int i, const char *s);
const char *br_col_text(br_dbst *st, int i);
/* The registry field's id from the cache, 0 when it is not registered (never fails). */
int64_t br_field_id(br_repo *repo, const char *schema, const char *element, const char *qualifier);
/* 0 and out filled, BR_ENOTFOUND when the key is not set, BR_ESTORE. */
int br_store_meta_get(br_repo *repo, const char *key, char *out, size_t size, br_error *err);
int br_store_meta_set(br_repo *repo, const char *key, const char *value, br_error *err);
/* Splits "PREFIX/NUM" so items sort by handle number; num = -1 when not numeric. */
void br_handle_split(const char *handle, char *prefix, size_t size, int64_t *num);
/* The next free handle (see br_handle_next): 0, BR_ELIMIT, BR_ESTORE. */
int br_handle_allocate(br_repo *repo, char *out, size_t size, br_error *err);
/* Raises the high-water mark past handle (a handle kept from the input) and
 * stores it in the transaction: 0 or BR_ESTORE. */
int br_handle_note_used(br_repo *repo, const char *handle, br_error *err);

/* ---- connections and schema versions (store.c, migrate.c) ---- */

/* How long a statement waits for another connection's write lock (ms). */
#define BR_DB_WAIT_MS 10000

#define BR_STORE_DB_NAME   "bulkrepo.db" /* in the repository folder */
#define BR_STORE_CONF_NAME "bulkrepo.conf"

/* ---- where the database is (store_conf.c) ---- */

/* The database's address: DIR/bulkrepo.conf's store address, else the path of DIR/bulkrepo.db.
 * 0, BR_ENOTFOUND (DIR holds no repository), BR_EINVAL (a malformed bulkrepo.conf, with its
 * line), BR_ELIMIT, BR_EIO. */
int br_store_locate(const char *dir, char *where, size_t size, br_error *err);
/* Writes DIR/bulkrepo.conf naming the store (owner-only, atomically): 0 or BR_EIO. */
int br_store_conf_write(const char *dir, const char *store, br_error *err);
/* A name DIR/backups/<base>-<YYYYMMDDTHHMMSSZ>[-N]<ext> not taken yet, the folder made
 * (store_copy.c; upgrades and moves between stores): 0, BR_ELIMIT, BR_EIO. */
int br_store_backup_name(const char *dir, const char *base, const char *ext, char *out, size_t size,
                         br_error *err);
/* The address with any password replaced by ***, for messages and listings. */
void br_store_address_shown(const char *where, char *out, size_t size);

/* Opens DIR's database with its backend, and the assetstore; reads nothing.  create: where
 * is the new database's address (the embedded file's path, or a PostgreSQL address), NULL
 * to open DIR's.  BR_ENOTFOUND when there is no database. */
int br_store_connect(const char *dir, const char *create, br_repo **out, br_error *err);
/* Runs a fixed SQL text (pragmas, schema.sql): 0 or BR_ESTORE. */
int br_store_exec(br_repo *repo, const char *sql, br_error *err);
/* meta.schema_version as a number: 0, or BR_ESTORE when it is missing,
 * malformed or unreadable. */
int br_store_schema_version(br_repo *repo, int *version, br_error *err);
/* The error for a repository whose version is not the library's (older:
 * run upgrade; newer: use a newer bulkrepo); returns BR_ESTORE. */
int br_store_version_refusal(const char *dir, int version, br_error *err);

/* ---- the search index (store_search.c) ---- */

/* The statement that reads the search index's rows of the items with ids in [?1, ?2] from
 * the tables (templates have none): S_FTS_ROW, and migrations/005.sql for every item.  It
 * reads each metadata value's kind from temp.item_fts_field, which br_fts_field_sql fills
 * from the registry (a connection's own table, made when it opens). */
extern const char br_fts_row_sql[];
extern const char br_fts_field_sql[];
#define BR_FTS_FIELD_TABLE_SQL                                                                     \
    "CREATE TEMP TABLE IF NOT EXISTS item_fts_field (id INTEGER PRIMARY KEY, "                     \
    "kind INTEGER NOT NULL, label TEXT NOT NULL)"
/* Writes item id's row of the search index again from the tables (removes it for a template
 * or a missing item); called by every store write of an item, in its transaction.
 * 0 or BR_ESTORE. */
int br_search_index_item(br_repo *repo, int64_t id, br_error *err);
/* Removes item id's row of the search index: 0 or BR_ESTORE. */
int br_search_unindex_item(br_repo *repo, int64_t id, br_error *err);
/* Inside a transaction both only note the item; this writes the rows noted (br_repo_commit
 * calls it before COMMIT): 0, BR_ESTORE, BR_ENOMEM. */
int br_search_flush(br_repo *repo, br_error *err);
/* Forgets the items noted (br_repo_rollback); frees the list when dispose is set. */
void br_search_forget(br_repo *repo, int dispose);

/* libmagic, loaded on first use; NULL when it cannot load (the extension
 * table alone then names types). */
magic_t br_repo_magic(br_repo *repo);

#endif
