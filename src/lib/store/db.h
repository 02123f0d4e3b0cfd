/* The store's database backends: the one place the store meets a database engine.
 *
 * Shaped like libgit2's git_odb_backend: a versioned const struct of functions, chosen when a
 * repository is opened (br_db_backend_for: a postgresql:// address is PostgreSQL, anything else
 * the embedded SQLite file) and reached only through the inline calls below.  The store's SQL
 * (store.c's statement table and the store_*.c files) is written once, in the SQL the two
 * engines share, with ?N parameters; a backend rewrites what it must (PostgreSQL: ?N -> $N) and
 * the statements whose SQL differs have a backend text of their own (br_db_backend.sql).
 *
 * Contracts every backend keeps:
 *   - one connection per thread; statements belong to their connection;
 *   - several statements of one connection may be mid-result at once (a list callback runs
 *     lookups while its list statement is on a row);
 *   - step: BR_DB_ROW (a row is readable), BR_DB_DONE, or an error code below; the text a
 *     column gives stays valid until the statement's next step, reset or finalize;
 *   - changes and last_id describe the connection's last completed write;
 *   - a backend whose connection can be lost (a server that restarts) makes it again, outside
 *     transactions only: br_db.session counts its sessions, and what the caller keeps about a
 *     session (what a temporary table holds) is void when it changes.
 */
#ifndef BR_STORE_DB_H
#define BR_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#define BR_DB_BACKEND_VERSION 3 /* 2: step_ahead; 3: exec_session, br_db.session */

/* step results and errors */
enum {
    BR_DB_DONE = 0,
    BR_DB_ROW = 1,
    BR_DB_ERROR = -1,      /* any other failure: br_db_errmsg says which */
    BR_DB_CONSTRAINT = -2, /* a NOT NULL, CHECK or foreign-key constraint refused the write */
    BR_DB_UNIQUE = -3,     /* a unique or primary-key constraint refused the write */
    BR_DB_BUSY = -4,       /* another connection holds the lock past the wait */
};

/* A column value's kind (column_type) */
enum { BR_DB_T_NULL, BR_DB_T_INT, BR_DB_T_FLOAT, BR_DB_T_TEXT, BR_DB_T_BLOB };

typedef struct br_db br_db;
typedef struct br_dbst br_dbst;
typedef struct br_db_backend br_db_backend;

/* Every backend's connection and statement structs begin with these. */
struct br_db {
    const br_db_backend *be;
    unsigned session; /* the server session's number: changes when a lost one is made again */
};
struct br_dbst {
    br_db *db;
};

struct br_db_backend {
    unsigned version; /* BR_DB_BACKEND_VERSION */
    const char *name; /* "sqlite", "postgresql" */

    /* where: the SQLite file, or the PostgreSQL connection address.  create: make the database
     * when it does not exist (SQLite; PostgreSQL's database must exist).  0, or BR_ENOTFOUND /
     * BR_EIO / BR_ESTORE with the reason in msg. */
    int (*open)(const char *where, int create, br_db **out, char *msg, size_t size);
    void (*close)(br_db *db);
    /* Runs SQL text of one or more statements without results: 0 or an error code. */
    int (*exec)(br_db *db, const char *sql);
    /* persistent: kept for the connection's life (the statement table). */
    int (*prepare)(br_db *db, const char *sql, int len, int persistent, br_dbst **out);
    void (*finalize)(br_dbst *st);
    int (*bind_int64)(br_dbst *st, int i, int64_t v);
    int (*bind_double)(br_dbst *st, int i, double v);
    /* s is used until the next step (not copied by SQLite: it must outlive the step). */
    int (*bind_text)(br_dbst *st, int i, const char *s, int len);
    int (*bind_blob)(br_dbst *st, int i, const void *p, int len);
    int (*bind_null)(br_dbst *st, int i);
    /* Binds parameter i of st to column k of src's current row (a copy). */
    int (*bind_column)(br_dbst *st, int i, br_dbst *src, int k);
    int (*step)(br_dbst *st);
    /* A write whose refusal (BR_DB_UNIQUE, BR_DB_CONSTRAINT) is an answer the caller handles
     * inside its transaction, which stays usable (PostgreSQL ends a transaction at its first
     * error: a savepoint around the statement); NULL where step already leaves it usable. */
    int (*step_guarded)(br_dbst *st);
    /* A write inside a transaction whose answer nobody reads (no rows; changes and last_id are
     * not asked; a refusal is a failure, not an answer): the backend may send it and answer
     * BR_DB_DONE before the server does.  Its refusal then surfaces as the failure of the
     * connection's next call that waits for the server (a step, exec, prepare, the COMMIT;
     * not a ROLLBACK, which runs), as BR_DB_ERROR with the refused write's message; writes keep
     * their order.  NULL: step (SQLite, whose writes cost no round trip). */
    int (*step_ahead)(br_dbst *st);
    /* How many rows the store puts in one INSERT where it writes many of a kind (an item's
     * metadata values): one statement per row costs the server a bind and an execute each,
     * which PostgreSQL pays and SQLite hardly does.  0 or 1: a statement per row. */
    unsigned rows_per_insert;
    /* The records of an import that one chunk holds when workers share its writing (job.h's
     * br_job_chunk), unless the worker says otherwise: 0 where one writer at a time is the
     * store's rule (SQLite: a second writer would only wait for the lock). */
    unsigned chunk_records;
    /* Waits for the answers of the writes sent ahead: 0, or their refusal as BR_DB_ERROR with
     * its message.  NULL where none go ahead. */
    int (*settle)(br_db *db);
    /* Ends the statement's current result; bindings stay. */
    void (*reset)(br_dbst *st);
    void (*clear_bindings)(br_dbst *st);
    int (*column_count)(br_dbst *st);
    int (*column_null)(br_dbst *st, int k);
    /* The kind of column k's value in the current row (BR_DB_T_*): SQLite's is the value's
     * own, PostgreSQL's the column's type (NULL for a null). */
    int (*column_type)(br_dbst *st, int k);
    /* Column k's name in the result (valid while the statement is). */
    const char *(*column_name)(br_dbst *st, int k);
    int64_t (*column_int64)(br_dbst *st, int k);
    double (*column_double)(br_dbst *st, int k);
    const char *(*column_text)(br_dbst *st, int k); /* NULL for NULL */
    const void *(*column_blob)(br_dbst *st, int k);
    int (*column_bytes)(br_dbst *st, int k);
    /* 1 when the statement writes nothing. */
    int (*readonly)(br_dbst *st);
    int64_t (*changes)(br_db *db);
    int64_t (*last_id)(br_db *db);
    const char *(*errmsg)(br_db *db);
    /* 1 inside a transaction the connection began (by any means). */
    int (*in_transaction)(br_db *db);
    /* Ends every statement left mid-result, so that the connection holds no read snapshot
     * between transactions (SQLite; a no-op where a statement holds none). */
    void (*release)(br_db *db);
    /* How long a statement waits for another connection's lock before BR_DB_BUSY. */
    void (*set_wait)(br_db *db, int ms);
    /* 1 when the connection is lost (not made again yet, or it took a transaction that is not
     * rolled back yet): a failure now is the loss's.  NULL: a connection that is never lost. */
    int (*lost)(br_db *db);
    /* exec for SQL that sets the session up (a temporary table): run now, and again on each
     * new session after a lost connection.  NULL: exec (a connection that is never lost). */
    int (*exec_session)(br_db *db, const char *sql);
    /* A query whose rows name the database's integrity problems, "ok" alone when there are
     * none (fsck); NULL when the engine checks itself (PostgreSQL). */
    const char *integrity_sql;
    /* Run after BEGIN: takes the repository's write lock for the transaction, as SQLite's
     * BEGIN IMMEDIATE does, so that writers are serialized as the store expects (the next
     * handle, the job counters); NULL where BEGIN itself takes it. */
    const char *write_lock_sql;
    /* 1 where transactions that take no write lock may write side by side (br_repo_begin_shared:
     * the engine locks rows, not the database); 0 where one writer at a time is the rule. */
    int concurrent_writers;
    /* The full current schema (br_repo_init), one text of statements for exec. */
    const char *schema_sql;
    /* After rows with explicit ids were copied into table %s (column id; each %s stands for
     * the table's name; br_repo_migrate): makes new ids continue after them; NULL where the
     * engine needs nothing (SQLite: a new rowid is the largest + 1). */
    const char *sequence_sync_sql;

    /* ---- upgrades (src/lib/store/migrate.c) ---- */
    /* Runs a migration file's statements one by one; on failure copies the statement that
     * failed (its first 200 bytes) and the reason into msg.  0 or an error code. */
    int (*exec_script)(br_db *db, const char *sql, char *msg, size_t size);
    /* Writes a consistent copy of the database at where (the file the connection db opened)
     * to the new file to, while db may hold the write lock: 0, or an error code with msg.
     * NULL when the engine's own tools make the copy (pg_dump). */
    int (*snapshot)(br_db *db, const char *where, const char *to, char *msg, size_t size);
    /* Run before a migration's transaction and checked after it (SQLite: foreign keys off for
     * table rebuilds; foreign_key_check returns a row per dangling reference: table, rowid,
     * parent).  NULL where constraints stay on (PostgreSQL). */
    const char *fk_off_sql, *fk_check_sql;
    /* How this backend's SQL searches the index (store_search.c); NULL: search is not
     * available on it. */
    const struct br_search_sql *search;
    /* Statement texts of this backend indexed by the store's stmt_id, NULL where the shared
     * text serves (may itself be NULL: none differ); n entries. */
    const char *const *sql;
    size_t n_sql;
};

extern const br_db_backend br_db_sqlite;
extern const br_db_backend br_db_postgresql;

/* The backend for a store address: PostgreSQL for postgresql:// and postgres://, else SQLite. */
const br_db_backend *br_db_backend_for(const char *where);

/* ---- the calls the store makes (one indirect call each) ---- */

static inline int br_db_exec(br_db *db, const char *sql)
{
    return db->be->exec(db, sql);
}
static inline int br_db_exec_session(br_db *db, const char *sql)
{
    return db->be->exec_session ? db->be->exec_session(db, sql) : db->be->exec(db, sql);
}
static inline int br_db_prepare(br_db *db, const char *sql, int len, br_dbst **out)
{
    return db->be->prepare(db, sql, len, 0, out);
}
static inline void br_db_finalize(br_dbst *st)
{
    if (st) st->db->be->finalize(st);
}
static inline int br_db_bind_int64(br_dbst *st, int i, int64_t v)
{
    return st->db->be->bind_int64(st, i, v);
}
static inline int br_db_bind_double(br_dbst *st, int i, double v)
{
    return st->db->be->bind_double(st, i, v);
}
static inline int br_db_bind_blob(br_dbst *st, int i, const void *p, int len)
{
    return st->db->be->bind_blob(st, i, p, len);
}
static inline int br_db_bind_null(br_dbst *st, int i)
{
    return st->db->be->bind_null(st, i);
}
static inline int br_db_bind_column(br_dbst *st, int i, br_dbst *src, int k)
{
    return st->db->be->bind_column(st, i, src, k);
}
static inline int br_db_step(br_dbst *st)
{
    return st->db->be->step(st);
}
static inline int br_db_step_ahead(br_dbst *st)
{
    const br_db_backend *be = st->db->be;
    return be->step_ahead ? be->step_ahead(st) : be->step(st);
}
static inline int br_db_settle(br_db *db)
{
    return db->be->settle ? db->be->settle(db) : 0;
}
static inline void br_db_reset(br_dbst *st)
{
    st->db->be->reset(st);
}
static inline int br_db_column_count(br_dbst *st)
{
    return st->db->be->column_count(st);
}
static inline int br_db_col_type(br_dbst *st, int k)
{
    return st->db->be->column_type(st, k);
}
static inline const char *br_db_col_name(br_dbst *st, int k)
{
    return st->db->be->column_name(st, k);
}
static inline int br_db_col_null(br_dbst *st, int k)
{
    return st->db->be->column_null(st, k);
}
static inline int64_t br_db_col_int64(br_dbst *st, int k)
{
    return st->db->be->column_int64(st, k);
}
static inline int br_db_col_int(br_dbst *st, int k)
{
    return (int)st->db->be->column_int64(st, k);
}
static inline double br_db_col_double(br_dbst *st, int k)
{
    return st->db->be->column_double(st, k);
}
static inline const void *br_db_col_blob(br_dbst *st, int k)
{
    return st->db->be->column_blob(st, k);
}
static inline int br_db_col_bytes(br_dbst *st, int k)
{
    return st->db->be->column_bytes(st, k);
}
static inline int64_t br_db_changes(br_db *db)
{
    return db->be->changes(db);
}
static inline int64_t br_db_last_id(br_db *db)
{
    return db->be->last_id(db);
}
static inline void br_db_set_wait(br_db *db, int ms)
{
    db->be->set_wait(db, ms);
}
static inline const char *br_db_errmsg(br_db *db)
{
    return db->be->errmsg(db);
}
/* A refused write of either kind. */
static inline int br_db_is_constraint(int rc)
{
    return rc == BR_DB_CONSTRAINT || rc == BR_DB_UNIQUE;
}

#endif
