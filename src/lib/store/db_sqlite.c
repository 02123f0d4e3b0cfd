/* The SQLite backend of the store (db.h): the embedded default, one database file in the
 * repository folder.  The store's shared SQL is SQLite's own, so this backend is a thin
 * layer over sqlite3's calls: it adds one indirect call per step, bind and column.
 *
 * Turns at the write lock.  SQLite has one writer at a time, and a connection that finds the
 * lock taken polls for it (the busy handler).  A writer that commits and begins again at once
 * (an import, batch after batch) leaves the lock free for microseconds between its
 * transactions, and a poller almost never catches that moment: another process's write (a
 * second import, `collection create` while a worker imports) waited seconds, and failed as
 * "database is locked" after BR_DB_WAIT_MS behind a long import.  So the writers take turns,
 * through a lock file beside the database (DB-turn) that every connection opens:
 *   - a connection waiting for the write lock holds a shared lock on the file's first byte
 *     (an open-file-description lock: each connection its own, threads of one process too);
 *   - a connection that ends a write transaction takes that byte exclusively, and so waits
 *     until every connection that was waiting has got the write lock (or given up), then
 *     releases it at once and goes on.
 * Without waiters that is two fcntl calls per commit.  A waiter polls every millisecond, so
 * a turn passes in about one.  Where the file cannot be opened (a read-only folder) writers
 * poll as before, without turns. */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "bulkrepo/error.h"
#include "core/core.h"
#include "db.h"

extern const char br_schema_sql[]; /* schema.sql, embedded by the build */

#define TURN_POLL_MS 1    /* a waiter's and a passer's poll */
#define TURN_MAX_MS  2000 /* a passer waits no longer for waiters (one that stopped) */

typedef struct sq_db {
    br_db base;
    sqlite3 *db;
    int turn_fd;       /* DB-turn, or -1: no turns */
    int waiting;       /* this connection holds the shared byte (it waits for the lock) */
    int wait_ms;       /* how long a statement waits for a lock (set_wait) */
    int64_t busy_from; /* when the current wait began (ms, monotonic) */
} sq_db;

typedef struct sq_st {
    br_dbst base;
    sqlite3_stmt *st;
} sq_st;

#define DB(d) (((sq_db *)(d))->db)
#define ST(s) (((sq_st *)(s))->st)

/* SQLite's result codes as the interface's (extended codes are on: a constraint's kind is in
 * the high bits). */
static int code(int rc)
{
    switch (rc) {
    case SQLITE_ROW:
        return BR_DB_ROW;
    case SQLITE_DONE:
    case SQLITE_OK:
        return BR_DB_DONE;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return BR_DB_UNIQUE;
    default:
        break;
    }
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        return BR_DB_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return BR_DB_BUSY;
    default:
        return BR_DB_ERROR;
    }
}

/* ---- turns at the write lock (see the top of the file) ------------------------------------ */

/* Sets (F_RDLCK, F_WRLCK) or clears (F_UNLCK) this connection's lock on the turn byte without
 * waiting: 0 or -1 (another connection's lock is in the way). */
static int turn_lock(sq_db *d, short type)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
    return fcntl(d->turn_fd, F_OFD_SETLK, &fl);
}

/* The busy handler: this connection waits for a lock.  It says so on the turn byte (a passer
 * holding the byte exclusively for a moment makes it try again at the next poll) and polls
 * until wait_ms have gone by. */
static int on_busy(void *arg, int count)
{
    sq_db *d = arg;
    if (!count) d->busy_from = br_mono_ms();
    if (d->turn_fd >= 0 && !d->waiting) d->waiting = turn_lock(d, F_RDLCK) == 0;
    if (br_mono_ms() - d->busy_from >= d->wait_ms) return 0; /* SQLITE_BUSY */
    br_sleep_ms(TURN_POLL_MS);
    return 1;
}

/* After a write transaction ended: the connections that were waiting get the lock first. */
static void pass_turn(sq_db *d)
{
    if (d->turn_fd < 0) return;
    int64_t until = br_mono_ms() + TURN_MAX_MS;
    while (turn_lock(d, F_WRLCK)) {
        if ((errno != EAGAIN && errno != EACCES) || br_mono_ms() >= until) return;
        br_sleep_ms(TURN_POLL_MS);
    }
    turn_lock(d, F_UNLCK);
}

/* What a statement about to run may end: 1 for this connection's write transaction. */
static int ends_write(sq_db *d)
{
    return !sqlite3_get_autocommit(d->db) && sqlite3_txn_state(d->db, NULL) == SQLITE_TXN_WRITE;
}

/* After a statement ran: a wait for the lock is over; a write transaction it ended passes
 * the turn. */
static void after_run(sq_db *d, int was_writing)
{
    if (d->waiting) {
        turn_lock(d, F_UNLCK);
        d->waiting = 0;
    }
    if (was_writing && sqlite3_get_autocommit(d->db)) pass_turn(d);
}

/* DB-turn, made when missing; -1 where it cannot be (no file database, a read-only
 * folder). */
static int open_turn(const char *where)
{
    char path[4200];
    if (!*where || *where == ':' || !strncmp(where, "file:", 5)) return -1;
    int n = snprintf(path, sizeof path, "%s-turn", where);
    if (n < 0 || (size_t)n >= sizeof path) return -1;
    return open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
}

static int sq_open(const char *where, int create, br_db **out, char *msg, size_t size)
{
    *out = NULL;
    sq_db *d = calloc(1, sizeof *d);
    if (!d) {
        br_strlcpy(msg, "out of memory", size);
        return BR_ENOMEM;
    }
    d->base.be = &br_db_sqlite;
    d->turn_fd = -1;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = 0;
    if (sqlite3_open_v2(where, &d->db, flags, NULL) != SQLITE_OK) {
        br_strlcpy(msg, d->db ? sqlite3_errmsg(d->db) : "cannot open", size);
        rc = create ? BR_EIO : BR_ENOTFOUND;
        goto done;
    }
    d->wait_ms = 10000;
    d->turn_fd = open_turn(where);
    sqlite3_busy_handler(d->db, on_busy, d);
    sqlite3_extended_result_codes(d->db, 1);
    /* WAL with synchronous=FULL: each commit is durable (one fsync of the WAL per batch);
     * readers (the monitor, item show) never block the importer. */
    char *err = NULL;
    if (sqlite3_exec(d->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                     "PRAGMA foreign_keys=ON; PRAGMA recursive_triggers=ON; "
                     "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000;",
                     NULL, NULL, &err) != SQLITE_OK) {
        br_strlcpy(msg, err ? err : "cannot set the connection's pragmas", size);
        sqlite3_free(err);
        rc = BR_ESTORE;
        goto done;
    }
    *out = &d->base;
    d = NULL;
done:
    if (d) {
        sqlite3_close(d->db);
        if (d->turn_fd >= 0) close(d->turn_fd);
        free(d);
    }
    return rc;
}

static void sq_close(br_db *db)
{
    if (!db) return;
    sq_db *d = (sq_db *)db;
    sqlite3_close(d->db);
    if (d->turn_fd >= 0) close(d->turn_fd); /* its locks go with it */
    free(d);
}

static int sq_exec(br_db *db, const char *sql)
{
    sq_db *d = (sq_db *)db;
    int writing = ends_write(d);
    int rc = sqlite3_exec(d->db, sql, NULL, NULL, NULL);
    after_run(d, writing);
    return code(rc);
}

static int sq_prepare(br_db *db, const char *sql, int len, int persistent, br_dbst **out)
{
    *out = NULL;
    sq_st *s = calloc(1, sizeof *s);
    if (!s) return BR_DB_ERROR;
    s->base.db = db;
    int rc = sqlite3_prepare_v3(DB(db), sql, len, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
                                &s->st, NULL);
    if (rc != SQLITE_OK || !s->st) {
        sqlite3_finalize(s->st);
        free(s);
        return rc == SQLITE_OK ? BR_DB_ERROR : code(rc);
    }
    *out = &s->base;
    return 0;
}

static void sq_finalize(br_dbst *st)
{
    sqlite3_finalize(ST(st));
    free(st);
}

static int sq_bind_int64(br_dbst *st, int i, int64_t v)
{
    return code(sqlite3_bind_int64(ST(st), i, v));
}

static int sq_bind_double(br_dbst *st, int i, double v)
{
    return code(sqlite3_bind_double(ST(st), i, v));
}

static int sq_bind_text(br_dbst *st, int i, const char *s, int len)
{
    return code(sqlite3_bind_text(ST(st), i, s, len, SQLITE_STATIC));
}

static int sq_bind_blob(br_dbst *st, int i, const void *p, int len)
{
    return code(sqlite3_bind_blob(ST(st), i, p, len, SQLITE_STATIC));
}

static int sq_bind_null(br_dbst *st, int i)
{
    return code(sqlite3_bind_null(ST(st), i));
}

static int sq_bind_column(br_dbst *st, int i, br_dbst *src, int k)
{
    return code(sqlite3_bind_value(ST(st), i, sqlite3_column_value(ST(src), k)));
}

static int sq_step(br_dbst *st)
{
    sq_db *d = (sq_db *)st->db;
    int writing = ends_write(d);
    int rc = sqlite3_step(ST(st));
    after_run(d, writing);
    return code(rc);
}

static void sq_reset(br_dbst *st)
{
    sqlite3_reset(ST(st));
}

static void sq_clear_bindings(br_dbst *st)
{
    sqlite3_clear_bindings(ST(st));
}

static int sq_column_count(br_dbst *st)
{
    return sqlite3_column_count(ST(st));
}

static int sq_column_null(br_dbst *st, int k)
{
    return sqlite3_column_type(ST(st), k) == SQLITE_NULL;
}

static int sq_column_type(br_dbst *st, int k)
{
    switch (sqlite3_column_type(ST(st), k)) {
    case SQLITE_INTEGER:
        return BR_DB_T_INT;
    case SQLITE_FLOAT:
        return BR_DB_T_FLOAT;
    case SQLITE_TEXT:
        return BR_DB_T_TEXT;
    case SQLITE_BLOB:
        return BR_DB_T_BLOB;
    default:
        return BR_DB_T_NULL;
    }
}

static const char *sq_column_name(br_dbst *st, int k)
{
    return sqlite3_column_name(ST(st), k);
}

static int64_t sq_column_int64(br_dbst *st, int k)
{
    return sqlite3_column_int64(ST(st), k);
}

static double sq_column_double(br_dbst *st, int k)
{
    return sqlite3_column_double(ST(st), k);
}

static const char *sq_column_text(br_dbst *st, int k)
{
    return (const char *)sqlite3_column_text(ST(st), k);
}

static const void *sq_column_blob(br_dbst *st, int k)
{
    return sqlite3_column_blob(ST(st), k);
}

static int sq_column_bytes(br_dbst *st, int k)
{
    return sqlite3_column_bytes(ST(st), k);
}

static int sq_readonly(br_dbst *st)
{
    return sqlite3_stmt_readonly(ST(st));
}

static int64_t sq_changes(br_db *db)
{
    return sqlite3_changes(DB(db));
}

static int64_t sq_last_id(br_db *db)
{
    return sqlite3_last_insert_rowid(DB(db));
}

static const char *sq_errmsg(br_db *db)
{
    return sqlite3_errmsg(DB(db));
}

static int sq_in_transaction(br_db *db)
{
    return !sqlite3_get_autocommit(DB(db));
}

/* Outside a transaction, a statement left mid-result (a lookup that returned its first row)
 * keeps the connection's read snapshot open: later reads would not see other connections'
 * commits (the server watching a worker's progress), a later write could fail with
 * SQLITE_BUSY_SNAPSHOT, and the automatic WAL checkpoint fails after every commit (an import
 * of 200,000 assets grew the WAL to 1.5 GB).  So the store ends them between transactions. */
static void sq_release(br_db *db)
{
    for (sqlite3_stmt *st = sqlite3_next_stmt(DB(db), NULL); st; st = sqlite3_next_stmt(DB(db), st))
        if (sqlite3_stmt_busy(st)) sqlite3_reset(st);
}

static void sq_set_wait(br_db *db, int ms)
{
    ((sq_db *)db)->wait_ms = ms > 0 ? ms : 0;
}

static int sq_exec_script(br_db *db, const char *sql, char *msg, size_t size)
{
    while (sql && *sql) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(DB(db), sql, -1, &st, &tail) != SQLITE_OK) {
            snprintf(msg, size, "at \"%.200s\": %s", sql, sqlite3_errmsg(DB(db)));
            return BR_DB_ERROR;
        }
        if (!st) break; /* only comments and blanks were left */
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW)
            ;
        if (s != SQLITE_DONE) {
            snprintf(msg, size, "at \"%.200s\": %s", sqlite3_sql(st), sqlite3_errmsg(DB(db)));
            sqlite3_finalize(st);
            return code(s);
        }
        sqlite3_finalize(st);
        sql = tail;
    }
    return 0;
}

/* SQLite's online backup cannot read through a connection that has a write transaction open
 * (SQLITE_BUSY), so it reads through a second, read-only connection: a WAL reader, which the
 * write lock does not block.  The WAL is checkpointed first so that the copy is the database
 * file alone; a checkpoint that readers keep from finishing is no failure (the backup reads
 * through the WAL). */
static int sq_snapshot(br_db *db, const char *where, const char *to, char *msg, size_t size)
{
    int s = sqlite3_wal_checkpoint_v2(DB(db), NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (s != SQLITE_OK && s != SQLITE_BUSY && s != SQLITE_LOCKED) {
        br_strlcpy(msg, sqlite3_errmsg(DB(db)), size);
        return BR_ESTORE;
    }
    sqlite3 *src = NULL, *dst = NULL;
    sqlite3_backup *b = NULL;
    int rc = 0;
    if (sqlite3_open_v2(where, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        snprintf(msg, size, "cannot read the database for the backup: %s",
                 src ? sqlite3_errmsg(src) : "out of memory");
        rc = BR_ESTORE;
        goto done;
    }
    sqlite3_busy_timeout(src, 10000);
    if (sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        snprintf(msg, size, "cannot create the backup: %s",
                 dst ? sqlite3_errmsg(dst) : "out of memory");
        rc = BR_EIO;
        goto done;
    }
    if (!(b = sqlite3_backup_init(dst, "main", src, "main"))) {
        snprintf(msg, size, "cannot start the backup: %s", sqlite3_errmsg(dst));
        rc = BR_EIO;
        goto done;
    }
    s = sqlite3_backup_step(b, -1);
    int f = sqlite3_backup_finish(b);
    b = NULL;
    if (s != SQLITE_DONE || f != SQLITE_OK) {
        snprintf(msg, size, "the backup failed: %s", sqlite3_errstr(s != SQLITE_DONE ? s : f));
        rc = BR_EIO;
        goto done;
    }
    s = sqlite3_close(dst);
    dst = NULL;
    if (s != SQLITE_OK) {
        br_strlcpy(msg, "cannot close the backup", size);
        rc = BR_EIO;
    }
done:
    if (b) sqlite3_backup_finish(b);
    if (dst) sqlite3_close(dst);
    if (src) sqlite3_close(src);
    return rc;
}

/* How searches run on it (search_sql.h). */
extern const struct br_search_sql br_search_sqlite;

const br_db_backend br_db_sqlite = {
    .version = BR_DB_BACKEND_VERSION,
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .exec = sq_exec,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .bind_int64 = sq_bind_int64,
    .bind_double = sq_bind_double,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .bind_column = sq_bind_column,
    .step = sq_step,
    .reset = sq_reset,
    .clear_bindings = sq_clear_bindings,
    .column_count = sq_column_count,
    .column_null = sq_column_null,
    .column_type = sq_column_type,
    .column_name = sq_column_name,
    .column_int64 = sq_column_int64,
    .column_double = sq_column_double,
    .column_text = sq_column_text,
    .column_blob = sq_column_blob,
    .column_bytes = sq_column_bytes,
    .readonly = sq_readonly,
    .changes = sq_changes,
    .last_id = sq_last_id,
    .errmsg = sq_errmsg,
    .in_transaction = sq_in_transaction,
    .release = sq_release,
    .set_wait = sq_set_wait,
    .integrity_sql = "PRAGMA integrity_check",
    .schema_sql = br_schema_sql,
    .exec_script = sq_exec_script,
    .snapshot = sq_snapshot,
    .fk_off_sql = "PRAGMA foreign_keys=OFF",
    .fk_check_sql = "PRAGMA foreign_key_check",
    .search = &br_search_sqlite,
    .sql = NULL,
    .n_sql = 0,
};
