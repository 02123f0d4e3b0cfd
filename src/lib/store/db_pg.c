/* The PostgreSQL backend of the store (db.h) over libpq: a repository whose address is a
 * postgresql:// (or postgres://) connection URI.
 *
 * How it meets the interface:
 *   - The store's SQL is SQLite's: its ?N and bare ? parameters become $N here (string
 *     literals, quoted identifiers, comments and dollar-quoted text are left alone), and each
 *     statement is a server-side prepared statement named br_<n> (unique per connection).  A
 *     jsonb ? operator would be taken for a parameter: PostgreSQL texts use jsonb_exists().
 *   - Bound values are kept as text (a blob as a binary parameter) and copied: unlike
 *     SQLite's, the caller's buffer need not outlive the step.  The server infers each
 *     parameter's type from its use; a parameter number the text skips is sent as text.
 *   - The first step after a reset runs the statement and materializes its whole result
 *     (PQexecPrepared); later steps move through its rows.  So several statements of a
 *     connection can be mid-result at once and none holds anything on the server between
 *     steps (release has nothing to do), but a result is held in memory whole: reading a huge
 *     table in pages (key ranges and LIMIT) is the store's job, as it already does.
 *   - An error inside a transaction aborts the transaction on PostgreSQL (SQLite lets it go
 *     on after a failed statement): every later statement fails until ROLLBACK.
 *   - Errors map by SQLSTATE: 23505 unique, other 23xxx constraint, 40001, 40P01 and 55P03
 *     (lock_timeout, which set_wait sets) busy.
 *   - A step after BR_DB_DONE or an error runs the statement again, as SQLite's does.
 *   - A write sent ahead (step_ahead, inside a transaction) goes out in libpq's pipeline mode
 *     without waiting for its answer: an import's rows (values, creators, journal lines) cost
 *     one round trip together instead of one each, which is most of an import's time on
 *     PostgreSQL (docs/scale.md).  Every call that waits for the server first reads the
 *     answers of what was sent ahead (wait_ahead); the first refusal among them becomes that
 *     call's failure, with the refused write's message.  At most PG_AHEAD_MAX go ahead
 *     unanswered: their answers (a few bytes each) then fit the socket's buffers, so the
 *     blocking connection cannot deadlock with a server that waits for us to read.
 *   - A lost connection (PostgreSQL restarted, failed over, or the network dropped) is made
 *     again, so that a worker or server that runs for weeks outlives it: the next call outside
 *     a transaction opens a new session (PQreset), sets it up as the first one was (session
 *     settings, lock_timeout, the texts given to exec_session; br_db.session counts sessions)
 *     and prepares each statement again when it next runs.  Nothing lost is replayed blindly:
 *     a transaction that was open is gone, and its statements fail until the caller's
 *     ROLLBACK, which succeeds; a statement outside a transaction runs once more on the new
 *     session only when running it twice cannot matter: it reads, or the server had ended the
 *     session before reading it (SQLSTATE class 57P: "terminating connection due to
 *     administrator command", a shutdown).  Another write lost on its way fails: whether it
 *     was done is unknown. */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libpq-fe.h>
#include "bulkrepo/error.h"
#include "core/core.h"
#include "store_internal.h" /* stmt_id: the index of the statement texts */

#define PG_MAX_PARAMS 65535 /* the protocol's limit */
#define PG_AHEAD_MAX  256   /* writes sent ahead before their answers are read */
/* PostgreSQL's type oids (catalog/pg_type.h; fixed since 7.x) */
enum {
    PGT_TEXT = 25,
    PGT_BOOL = 16,
    PGT_BYTEA = 17,
    PGT_INT8 = 20,
    PGT_INT2 = 21,
    PGT_INT4 = 23,
    PGT_FLOAT4 = 700,
    PGT_FLOAT8 = 701,
    PGT_NUMERIC = 1700
};

typedef struct pg_db {
    br_db base;
    PGconn *conn;
    unsigned long names; /* prepared statements named so far: the next is br_<names + 1> */
    int64_t changes;     /* rows the last completed INSERT, UPDATE, DELETE or MERGE touched */
    int64_t last_id;     /* lastval() when last_id_known */
    int last_id_known;   /* no statement ran since last_id was read */
    char **stale;        /* statements finalized while they could not be deallocated */
    size_t n_stale, cap_stale;
    unsigned ahead;       /* writes sent ahead whose answers are not read yet */
    int ahead_rc;         /* the first refusal among them, until a caller takes it */
    char ahead_msg[1024]; /* its message */
    char msg[1024];       /* the last error */
    int wait_ms;          /* lock_timeout (set_wait), 0 until set: set again on a new session */
    char **session_sql;   /* the texts given to exec_session, run again on a new session */
    size_t n_session, cap_session;
    int lost; /* the connection was lost inside a transaction: failures until ROLLBACK */
} pg_db;

typedef struct pg_st {
    br_dbst base;
    char name[32];
    int persistent, readonly;
    int rollback; /* a ROLLBACK: it discards a refusal sent ahead instead of reporting it */
    int nparams;
    char **values;          /* nparams bound values (copies), NULL for SQL NULL */
    int *lengths, *formats; /* a blob's length and binary format (1) */
    PGresult *res;          /* the result being read, NULL before the first step and after */
    int row;                /* res's current row */
    int ncols;              /* columns of the result, -1 until known */
    unsigned char **blobs;  /* per column of the current row: its bytea value decoded */
    size_t *blob_lens;
    int nblobs;
    char *text;       /* the statement as PostgreSQL's, and its declared parameter types */
    Oid *types;       /* (NULL: all inferred), to prepare it again on a new session */
    unsigned session; /* the session it is prepared in (br_db.session) */
} pg_st;

#define PGDB(d) ((pg_db *)(d))
#define PGST(s) ((pg_st *)(s))
#define STDB(s) ((pg_db *)((s)->base.db))

/* ---- messages and codes ---------------------------------------------------------------- */

/* Copies m into the message buffer on one line (PostgreSQL's messages end in a newline and
 * may hold several). */
static void set_msg(pg_db *d, const char *m)
{
    size_t o = 0;
    int space = 0;
    for (const char *p = m; *p && o + 1 < sizeof d->msg; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r') {
            space = o > 0;
            continue;
        }
        if (space && o + 2 < sizeof d->msg) d->msg[o++] = ' ';
        space = 0;
        d->msg[o++] = *p;
    }
    d->msg[o] = 0;
}

/* The interface's code for a failed result (NULL: out of memory or no connection), its
 * message kept for errmsg: the primary message and its detail ("Key (name)=(x) already
 * exists."). */
static int fail(pg_db *d, const PGresult *res)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (primary) {
        const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
        char m[sizeof d->msg];
        snprintf(m, sizeof m, "%s%s%s", primary, detail ? ": " : "", detail ? detail : "");
        set_msg(d, m);
    } else {
        const char *m = res ? PQresultErrorMessage(res) : "";
        if (!*m) m = PQerrorMessage(d->conn);
        set_msg(d, *m ? m : "PostgreSQL failed without a message");
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state) return BR_DB_ERROR;
    if (!strcmp(state, "23505")) return BR_DB_UNIQUE;
    if (!strncmp(state, "23", 2)) return BR_DB_CONSTRAINT;
    if (!strcmp(state, "40001") || !strcmp(state, "40P01") || !strcmp(state, "55P03"))
        return BR_DB_BUSY;
    return BR_DB_ERROR;
}

static int ok_status(ExecStatusType t)
{
    return t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK || t == PGRES_EMPTY_QUERY;
}

/* Records what a completed statement changed: changes for a write; last_id is read again. */
static void completed(pg_db *d, const PGresult *res)
{
    d->last_id_known = 0;
    const char *tag = PQcmdStatus((PGresult *)res);
    if (!tag) return;
    if (!strncmp(tag, "INSERT ", 7) || !strncmp(tag, "UPDATE ", 7) || !strncmp(tag, "DELETE ", 7) ||
        !strncmp(tag, "MERGE ", 6))
        d->changes = strtoll(PQcmdTuples((PGresult *)res), NULL, 10);
}

/* ---- writes sent ahead ------------------------------------------------------------------- */

/* Reads the answers of the writes sent ahead (ends the pipeline): 0, or the code of the first
 * refusal, which stays pending (ahead_rc, ahead_msg) until take_ahead hands it to a caller.
 * For the calls that cannot report (finalize, set_wait): their next sibling reports it. */
static int wait_ahead(pg_db *d)
{
    if (!d->ahead) return d->ahead_rc;
    d->ahead = 0;
    int rc = 0;
    if (!PQpipelineSync(d->conn)) {
        rc = fail(d, NULL);
    } else {
        for (;;) {
            PGresult *r = PQgetResult(d->conn);
            if (!r) { /* between two writes' answers; a lost connection gives only these */
                if (PQstatus(d->conn) != CONNECTION_OK) {
                    if (!rc) rc = fail(d, NULL);
                    break;
                }
                continue;
            }
            ExecStatusType t = PQresultStatus(r);
            if (t == PGRES_PIPELINE_SYNC) {
                PQclear(r);
                break;
            }
            /* after a refusal the server skips the rest: PGRES_PIPELINE_ABORTED */
            if (t == PGRES_FATAL_ERROR && !rc) rc = fail(d, r);
            PQclear(r);
        }
    }
    if (!PQexitPipelineMode(d->conn) && !rc) rc = fail(d, NULL);
    if (PQstatus(d->conn) != CONNECTION_OK) d->lost = 1; /* writes go ahead only inside one */
    d->last_id_known = 0;
    /* Late, a refusal is a failure, never an answer: a unique violation reported by the
     * statement after it must not read as that statement's "already exists". */
    if (rc && !d->ahead_rc) {
        d->ahead_rc = BR_DB_ERROR;
        snprintf(d->ahead_msg, sizeof d->ahead_msg, "a write sent ahead failed: %.990s", d->msg);
    }
    return d->ahead_rc;
}

/* wait_ahead for a call that reports: a pending refusal becomes its failure (once). */
static int take_ahead(pg_db *d)
{
    int rc = wait_ahead(d);
    if (rc) {
        set_msg(d, d->ahead_msg);
        d->ahead_rc = 0;
    }
    return rc;
}

/* 1 for a ROLLBACK of the whole transaction (not ROLLBACK TO a savepoint). */
static int is_rollback(const char *sql)
{
    while (isspace((unsigned char)*sql))
        sql++;
    if (strncasecmp(sql, "ROLLBACK", 8)) return 0;
    sql += 8;
    while (isspace((unsigned char)*sql))
        sql++;
    return strncasecmp(sql, "TO", 2) != 0 || isalnum((unsigned char)sql[2]) || sql[2] == '_';
}

/* Before a statement that waits for the server: the writes sent ahead are answered; a refusal
 * among them is this statement's failure, except for a ROLLBACK, which takes their
 * transaction back anyway and must not be kept from running by it. */
static int before_wait(pg_db *d, int rollback)
{
    if (!rollback) return take_ahead(d);
    wait_ahead(d);
    d->ahead_rc = 0;
    return 0;
}

/* ---- a lost connection (see the top of the file) ------------------------------------------ */

static int run_command(pg_db *d, const char *sql);

/* 1 when the server ended the session before it read what we sent (class 57P: admin_shutdown,
 * crash_shutdown, cannot_connect_now). */
static int ended_before(const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return state && !strncmp(state, "57P", 3);
}

/* Sets a session up: every commit durable before it returns, whatever the server's default;
 * the lock wait; the session's own objects (exec_session). */
static int set_up(pg_db *d)
{
    int rc = run_command(d, "SET synchronous_commit = on");
    if (!rc && d->wait_ms) {
        char q[64];
        snprintf(q, sizeof q, "SET lock_timeout = %d", d->wait_ms);
        rc = run_command(d, q);
    }
    for (size_t i = 0; !rc && i < d->n_session; i++)
        rc = run_command(d, d->session_sql[i]);
    return rc;
}

/* A new session on a lost connection: what belonged to the old one (writes sent ahead,
 * statements to deallocate) is dropped, and statements are prepared again as they run. */
static int new_session(pg_db *d)
{
    if (d->ahead) PQexitPipelineMode(d->conn);
    d->ahead = 0;
    d->ahead_rc = 0;
    for (size_t i = 0; i < d->n_stale; i++)
        free(d->stale[i]);
    d->n_stale = 0;
    d->lost = 0;
    d->base.session++; /* before anything can fail: no statement is prepared in it yet */
    PQreset(d->conn);
    if (PQstatus(d->conn) != CONNECTION_OK) {
        char m[sizeof d->msg];
        snprintf(m, sizeof m, "the connection to PostgreSQL was lost and cannot be made again: %s",
                 PQerrorMessage(d->conn));
        set_msg(d, m);
        return BR_DB_ERROR;
    }
    return set_up(d);
}

/* Before a call that reaches the server: a lost connection is made again, unless it was lost
 * inside a transaction that only a ROLLBACK may end. */
static int usable(pg_db *d, int rollback)
{
    if (!d->lost && PQstatus(d->conn) == CONNECTION_OK) return 0;
    if (d->lost && !rollback) {
        set_msg(d, "the connection to PostgreSQL was lost inside a transaction, which is rolled "
                   "back");
        return BR_DB_ERROR;
    }
    return new_session(d);
}

/* After a call that failed, begun with no transaction open (idle) or inside one: 1 when it
 * may run again on a new session, which is then open (harmless: running it twice cannot
 * matter); -1 when that session cannot be had (its message kept); 0 otherwise.  A connection
 * lost inside a transaction is noted for usable. */
static int again(pg_db *d, int idle, int harmless, const PGresult *res)
{
    if (PQstatus(d->conn) == CONNECTION_OK) return 0;
    if (!idle) {
        d->lost = 1;
        return 0;
    }
    if (!harmless && !ended_before(res)) return 0;
    return new_session(d) ? -1 : 1;
}

/* 1 when no transaction is open on the connection (as far as it knows: one lost with an
 * unread answer is seen at the next call). */
static int idle(pg_db *d)
{
    return !d->ahead && PQtransactionStatus(d->conn) == PQTRANS_IDLE;
}

/* 1 for a command that does the same run twice: it opens or ends no work of its own. */
static int harmless_command(const char *sql)
{
    while (isspace((unsigned char)*sql))
        sql++;
    return !strncasecmp(sql, "BEGIN", 5) || !strncasecmp(sql, "SET ", 4) ||
           !strncasecmp(sql, "ROLLBACK", 8);
}

/* ---- commands ---------------------------------------------------------------------------- */

/* Runs one command on the connection as it is: 0 or the error's code (message kept). */
static int run_command(pg_db *d, const char *sql)
{
    PGresult *r = PQexec(d->conn, sql);
    int rc = ok_status(PQresultStatus(r)) ? 0 : fail(d, r);
    if (!rc) completed(d, r);
    PQclear(r);
    return rc;
}

/* Runs one command whose result is not wanted: 0 or the error's code (message kept). */
static int command(pg_db *d, const char *sql)
{
    int rollback = is_rollback(sql);
    int rc = before_wait(d, rollback);
    if (rc || (rc = usable(d, rollback))) return rc;
    int was_idle = idle(d);
    PGresult *r = PQexec(d->conn, sql);
    int retry = ok_status(PQresultStatus(r)) ? 0 : again(d, was_idle, harmless_command(sql), r);
    if (retry > 0) {
        PQclear(r);
        r = PQexec(d->conn, sql);
    }
    rc = ok_status(PQresultStatus(r)) ? 0 : retry < 0 ? BR_DB_ERROR : fail(d, r);
    if (rc && !was_idle) again(d, 0, 0, r);
    if (!rc) completed(d, r);
    PQclear(r);
    return rc;
}

/* The library never prints: the server's notices ("table ... does not exist, skipping") are
 * dropped. */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* ---- the SQL scanner -------------------------------------------------------------------- */

static int word_char(int c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* The end of the string literal, quoted identifier, comment or dollar-quoted text starting
 * at s[i], or i when none starts there.  after_word: s[i - 1] belongs to a word (then '$'
 * continues it).  One left open ends at n. */
static size_t skip_quoted(const char *s, size_t i, size_t n, int after_word)
{
    char c = s[i];
    if (c == '\'' || c == '"') {
        /* E'...' takes backslash escapes; standard '...' does not */
        int esc = c == '\'' && i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
                  (i == 1 || !word_char((unsigned char)s[i - 2]));
        for (size_t j = i + 1; j < n; j++) {
            if (esc && s[j] == '\\') {
                j++;
            } else if (s[j] == c) {
                if (j + 1 < n && s[j + 1] == c) {
                    j++;
                    continue;
                }
                return j + 1;
            }
        }
        return n;
    }
    if (c == '-' && i + 1 < n && s[i + 1] == '-') {
        const char *nl = memchr(s + i, '\n', n - i);
        return nl ? (size_t)(nl - s) + 1 : n;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
        size_t j = i + 2;
        for (int depth = 1; j < n && depth;) {
            if (s[j] == '/' && j + 1 < n && s[j + 1] == '*') {
                depth++;
                j += 2;
            } else if (s[j] == '*' && j + 1 < n && s[j + 1] == '/') {
                depth--;
                j += 2;
            } else {
                j++;
            }
        }
        return j;
    }
    if (c == '$' && !after_word) {
        /* $$...$$ or $tag$...$tag$ (a tag does not start with a digit: $1 is a parameter) */
        size_t j = i + 1;
        if (j < n && (isalpha((unsigned char)s[j]) || s[j] == '_' || (unsigned char)s[j] >= 0x80))
            while (j < n && s[j] != '$' && word_char((unsigned char)s[j]))
                j++;
        if (j < n && s[j] == '$') {
            size_t tag = j + 1 - i;
            for (size_t k = j + 1; k + tag <= n; k++)
                if (!memcmp(s + k, s + i, tag)) return k + tag;
            return n;
        }
    }
    return i;
}

static int word_is(const char *w, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && !strncasecmp(w, *list, n)) return 1;
    return 0;
}

/* The statement text PostgreSQL takes for SQLite's sql[0..n): ?N and bare ? (numbered after
 * the highest so far, as SQLite does) become $N.  *nparams: the highest parameter number;
 * used: a bit per number that occurs.  *readonly: the statement writes nothing, as far as
 * its words tell (an approximation: it begins with SELECT, WITH, VALUES, TABLE or SHOW and
 * names no INSERT, UPDATE, DELETE, MERGE, INTO, nextval or setval; transaction control counts
 * as read-only, as in SQLite; a function that writes is not seen).  0, or BR_DB_ERROR with the
 * message in d. */
static int rewrite(pg_db *d, const char *sql, size_t n, char **out, int *nparams,
                   unsigned char *used, int *readonly)
{
    static const char *const reads[] = {"SELECT", "WITH", "VALUES", "TABLE", "SHOW", NULL};
    static const char *const control[] = {"BEGIN",    "START",     "COMMIT",  "END",
                                          "ROLLBACK", "SAVEPOINT", "RELEASE", NULL};
    static const char *const writes[] = {"INSERT", "UPDATE",  "DELETE", "MERGE",
                                         "INTO",   "NEXTVAL", "SETVAL", NULL};
    *out = NULL;
    *nparams = 0;
    *readonly = 0;
    /* a bare ? (1 byte) becomes at most $65535 (6) */
    if (n > (SIZE_MAX - 1) / 6) {
        set_msg(d, "statement too long");
        return BR_DB_ERROR;
    }
    size_t cap = n * 6 + 1, o = 0;
    char *t = malloc(cap);
    if (!t) {
        set_msg(d, "out of memory");
        return BR_DB_ERROR;
    }
    int after_word = 0, first = 0, writing = 0; /* first: 1 read, 2 control, -1 other */
    long max = 0;
    for (size_t i = 0; i < n;) {
        size_t e = skip_quoted(sql, i, n, after_word);
        if (e != i) {
            memcpy(t + o, sql + i, e - i);
            o += e - i;
            i = e;
            after_word = 0;
            continue;
        }
        unsigned char c = (unsigned char)sql[i];
        if (c == '?' ||
            (c == '$' && !after_word && i + 1 < n && isdigit((unsigned char)sql[i + 1]))) {
            size_t j = i + 1;
            long v = 0;
            for (; j < n && isdigit((unsigned char)sql[j]); j++)
                if ((v = v * 10 + (sql[j] - '0')) > PG_MAX_PARAMS) break;
            if (j == i + 1) v = max + 1; /* a bare ? */
            if (v < 1 || v > PG_MAX_PARAMS) {
                set_msg(d, "parameter number out of range (1 to 65535)");
                free(t);
                return BR_DB_ERROR;
            }
            used[v / 8] |= (unsigned char)(1u << (v % 8));
            if (v > max) max = v;
            o += (size_t)snprintf(t + o, cap - o, "$%ld", v);
            i = j;
            after_word = 0;
            continue;
        }
        if (!after_word && (isalpha(c) || c == '_')) {
            size_t j = i;
            while (j < n && word_char((unsigned char)sql[j]))
                j++;
            if (!first)
                first = word_is(sql + i, j - i, reads)     ? 1
                        : word_is(sql + i, j - i, control) ? 2
                                                           : -1;
            if (word_is(sql + i, j - i, writes)) writing = 1;
            memcpy(t + o, sql + i, j - i);
            o += j - i;
            i = j;
            after_word = 1;
            continue;
        }
        t[o++] = (char)c;
        after_word = word_char(c);
        i++;
    }
    t[o] = 0;
    *out = t;
    *nparams = (int)max;
    *readonly = first == 2 || (first == 1 && !writing);
    return 0;
}

/* ---- connections -------------------------------------------------------------------------- */

static int pg_open(const char *where, int create, br_db **out, char *msg, size_t size)
{
    (void)create; /* the database must exist: making one is an administrator's task */
    *out = NULL;
    pg_db *d = calloc(1, sizeof *d);
    if (!d) {
        br_strlcpy(msg, "out of memory", size);
        return BR_ENOMEM;
    }
    d->base.be = &br_db_postgresql;
    d->base.session = 1; /* a statement's 0: prepared in none */
    /* Keywords before dbname are defaults the address may override; client_encoding after it
     * overrides the address's. */
    const char *const keys[] = {"connect_timeout", "fallback_application_name", "dbname",
                                "client_encoding", NULL};
    const char *const vals[] = {"10", "bulkrepo", where, "UTF8", NULL};
    int rc = 0;
    d->conn = PQconnectdbParams(keys, vals, 1);
    if (!d->conn) {
        br_strlcpy(msg, "out of memory", size);
        rc = BR_ENOMEM;
        goto done;
    }
    if (PQstatus(d->conn) != CONNECTION_OK) {
        const char *m = PQerrorMessage(d->conn);
        set_msg(d, *m ? m : "cannot connect to PostgreSQL");
        br_strlcpy(msg, d->msg, size);
        /* The server says so only in words (no SQLSTATE reaches a failed connection); with
         * lc_messages other than English this is BR_ESTORE. */
        rc = strstr(m, "database \"") && strstr(m, "\" does not exist") ? BR_ENOTFOUND : BR_ESTORE;
        goto done;
    }
    PQsetNoticeProcessor(d->conn, quiet, NULL); /* kept by PQreset */
    if (set_up(d)) {
        br_strlcpy(msg, d->msg, size);
        rc = BR_ESTORE;
        goto done;
    }
    *out = &d->base;
    d = NULL;
done:
    if (d) {
        PQfinish(d->conn);
        free(d);
    }
    return rc;
}

/* Statements left unfinalized are the caller's bug (as with SQLite's close): their server
 * side goes with the connection; persistent statements are deallocated only here. */
static void pg_close(br_db *db)
{
    if (!db) return;
    pg_db *d = PGDB(db);
    wait_ahead(d); /* their transaction was never committed: the answers only end the pipeline */
    PQfinish(d->conn);
    for (size_t i = 0; i < d->n_stale; i++)
        free(d->stale[i]);
    free(d->stale);
    for (size_t i = 0; i < d->n_session; i++)
        free(d->session_sql[i]);
    free(d->session_sql);
    free(d);
}

/* Deallocates the statements finalized inside a failed transaction (where the server takes
 * no command but ROLLBACK), now that it has ended. */
static void flush_stale(pg_db *d)
{
    if (!d->n_stale || wait_ahead(d) || PQstatus(d->conn) != CONNECTION_OK ||
        PQtransactionStatus(d->conn) == PQTRANS_INERROR)
        return;
    for (size_t i = 0; i < d->n_stale; i++) {
        char q[64];
        snprintf(q, sizeof q, "DEALLOCATE %s", d->stale[i]);
        PQclear(PQexec(d->conn, q));
        free(d->stale[i]);
    }
    d->n_stale = 0;
}

static int pg_exec(br_db *db, const char *sql)
{
    pg_db *d = PGDB(db);
    flush_stale(d);
    return command(d, sql);
}

static int pg_exec_session(br_db *db, const char *sql)
{
    pg_db *d = PGDB(db);
    char *copy = strdup(sql);
    if (!copy || br_grow((void **)&d->session_sql, &d->cap_session, d->n_session + 1,
                         sizeof *d->session_sql)) {
        free(copy);
        set_msg(d, "out of memory");
        return BR_DB_ERROR;
    }
    int rc = pg_exec(db, sql);
    if (rc)
        free(copy);
    else
        d->session_sql[d->n_session++] = copy;
    return rc;
}

/* ---- statements --------------------------------------------------------------------------- */

static void free_blobs(pg_st *s)
{
    for (int k = 0; k < s->nblobs; k++)
        free(s->blobs[k]);
    free(s->blobs);
    free(s->blob_lens);
    s->blobs = NULL;
    s->blob_lens = NULL;
    s->nblobs = 0;
}

static void free_st(pg_st *s)
{
    if (!s) return;
    for (int i = 0; s->values && i < s->nparams; i++)
        free(s->values[i]);
    free(s->values);
    free(s->lengths);
    free(s->formats);
    free_blobs(s);
    PQclear(s->res);
    free(s->text);
    free(s->types);
    free(s);
}

/* Prepares s on the server in the current session, once (a prepare has no effect to repeat
 * if the connection turns out lost). */
static int prepare_in_session(pg_db *d, pg_st *s)
{
    if (s->session == d->base.session) return 0;
    int was_idle = idle(d);
    PGresult *res = PQprepare(d->conn, s->name, s->text, s->nparams, s->types);
    int retry = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : again(d, was_idle, 1, res);
    if (retry > 0) {
        PQclear(res);
        res = PQprepare(d->conn, s->name, s->text, s->nparams, s->types);
    }
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : retry < 0 ? BR_DB_ERROR : fail(d, res);
    if (rc && !was_idle) again(d, 0, 0, res);
    PQclear(res);
    if (!rc) s->session = d->base.session;
    return rc;
}

static int pg_prepare(br_db *db, const char *sql, int len, int persistent, br_dbst **out)
{
    pg_db *d = PGDB(db);
    *out = NULL;
    size_t n = len < 0 ? strlen(sql) : strnlen(sql, (size_t)len);
    char *text = NULL;
    Oid *types = NULL;
    int rc = BR_DB_ERROR;
    unsigned char *used = calloc(PG_MAX_PARAMS / 8 + 1, 1);
    pg_st *s = calloc(1, sizeof *s);
    if (!s || !used) {
        set_msg(d, "out of memory");
        goto done;
    }
    s->base.db = db;
    s->persistent = persistent;
    s->row = -1;
    s->ncols = -1;
    if (rewrite(d, sql, n, &text, &s->nparams, used, &s->readonly)) goto done;
    if (s->nparams) {
        size_t np = (size_t)s->nparams;
        s->values = calloc(np, sizeof *s->values);
        s->lengths = calloc(np, sizeof *s->lengths);
        s->formats = calloc(np, sizeof *s->formats);
        if (!s->values || !s->lengths || !s->formats) {
            set_msg(d, "out of memory");
            goto done;
        }
        /* A number the text skips (?1 and ?3 but no ?2) has no use to infer its type from:
         * it is declared text (the others stay 0, inferred). */
        for (int v = 1; v <= s->nparams; v++) {
            if (used[v / 8] & (1u << (v % 8))) continue;
            if (!types && !(types = calloc(np, sizeof *types))) {
                set_msg(d, "out of memory");
                goto done;
            }
            types[v - 1] = PGT_TEXT;
        }
    }
    s->text = text;
    s->types = types;
    text = NULL;
    s->rollback = is_rollback(s->text);
    /* a ROLLBACK is prepared even on a connection lost inside a transaction: it ends that */
    if ((rc = before_wait(d, s->rollback)) || (rc = usable(d, s->rollback))) goto done;
    flush_stale(d);
    snprintf(s->name, sizeof s->name, "br_%lu", ++d->names);
    if ((rc = prepare_in_session(d, s))) goto done;
    *out = &s->base;
    s = NULL;
done:
    free(text);
    free(used);
    free_st(s);
    return rc;
}

/* A non-persistent statement is deallocated on the server now, or, inside a failed
 * transaction, as soon as the transaction ends (flush_stale). */
static void pg_finalize(br_dbst *st)
{
    pg_st *s = PGST(st);
    pg_db *d = STDB(s);
    if (!s->persistent && PQstatus(d->conn) == CONNECTION_OK && s->session == d->base.session) {
        int done = 0;
        if (!wait_ahead(d) && PQtransactionStatus(d->conn) != PQTRANS_INERROR) {
            char q[64];
            snprintf(q, sizeof q, "DEALLOCATE %s", s->name);
            PGresult *r = PQexec(d->conn, q);
            done = PQresultStatus(r) == PGRES_COMMAND_OK;
            PQclear(r);
        }
        /* when it cannot be kept for later the server keeps it until the connection ends */
        char *name = done ? NULL : strdup(s->name);
        if (name && !br_grow((void **)&d->stale, &d->cap_stale, d->n_stale + 1, sizeof *d->stale))
            d->stale[d->n_stale++] = name;
        else
            free(name);
    }
    free_st(s);
}

/* Binds a copy of p[0..n) (NULL: SQL NULL) to parameter i, as text or binary. */
static int put(pg_st *s, int i, const void *p, size_t n, int binary)
{
    pg_db *d = STDB(s);
    if (i < 1 || i > s->nparams) {
        set_msg(d, "column index out of range");
        return BR_DB_ERROR;
    }
    char *v = NULL;
    if (p) {
        if (n > INT_MAX || !(v = malloc(n + 1))) {
            set_msg(d, n > INT_MAX ? "value too large" : "out of memory");
            return BR_DB_ERROR;
        }
        memcpy(v, p, n);
        v[n] = 0;
    }
    free(s->values[i - 1]);
    s->values[i - 1] = v;
    s->lengths[i - 1] = (int)n;
    s->formats[i - 1] = binary;
    return 0;
}

static int pg_bind_int64(br_dbst *st, int i, int64_t v)
{
    char b[32];
    int n = snprintf(b, sizeof b, "%" PRId64, v);
    return put(PGST(st), i, b, (size_t)n, 0);
}

static int pg_bind_double(br_dbst *st, int i, double v)
{
    char b[40];
    int n = isnan(v)   ? snprintf(b, sizeof b, "NaN")
            : isinf(v) ? snprintf(b, sizeof b, "%sInfinity", v < 0 ? "-" : "")
                       : snprintf(b, sizeof b, "%.17g", v);
    return put(PGST(st), i, b, (size_t)n, 0);
}

static int pg_bind_text(br_dbst *st, int i, const char *s, int len)
{
    if (!s) return put(PGST(st), i, NULL, 0, 0);
    return put(PGST(st), i, s, len < 0 ? strlen(s) : (size_t)len, 0);
}

/* As SQLite's: a NULL pointer binds SQL NULL. */
static int pg_bind_blob(br_dbst *st, int i, const void *p, int len)
{
    return put(PGST(st), i, p, p && len > 0 ? (size_t)len : 0, 1);
}

static int pg_bind_null(br_dbst *st, int i)
{
    return put(PGST(st), i, NULL, 0, 0);
}

/* The value of column k of the current row, NULL for SQL NULL or no such row or column. */
static const char *cell(pg_st *s, int k)
{
    if (!s->res || s->row < 0 || s->row >= PQntuples(s->res) || k < 0 || k >= PQnfields(s->res) ||
        PQgetisnull(s->res, s->row, k))
        return NULL;
    return PQgetvalue(s->res, s->row, k);
}

static int is_bytea(pg_st *s, int k)
{
    return PQftype(s->res, k) == PGT_BYTEA;
}

/* Column k's bytea value decoded (NUL-terminated, kept until the next step or reset), its
 * length in *len; NULL when it is NULL or cannot be decoded (out of memory). */
static const unsigned char *blob(pg_st *s, int k, size_t *len)
{
    *len = 0;
    const char *v = cell(s, k);
    if (!v) return NULL;
    if (!s->blobs) {
        int nf = PQnfields(s->res);
        s->blobs = calloc((size_t)nf, sizeof *s->blobs);
        s->blob_lens = calloc((size_t)nf, sizeof *s->blob_lens);
        if (!s->blobs || !s->blob_lens) {
            free_blobs(s);
            set_msg(STDB(s), "out of memory");
            return NULL;
        }
        s->nblobs = nf;
    }
    if (!s->blobs[k]) {
        size_t n = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)v, &n);
        unsigned char *copy = raw ? malloc(n + 1) : NULL;
        if (!copy) {
            PQfreemem(raw);
            set_msg(STDB(s), "out of memory");
            return NULL;
        }
        memcpy(copy, raw, n);
        copy[n] = 0;
        PQfreemem(raw);
        s->blobs[k] = copy;
        s->blob_lens[k] = n;
    }
    *len = s->blob_lens[k];
    return s->blobs[k];
}

static int pg_bind_column(br_dbst *st, int i, br_dbst *src, int k)
{
    pg_st *from = PGST(src);
    const char *v = cell(from, k);
    if (!v) return put(PGST(st), i, NULL, 0, 0);
    if (is_bytea(from, k)) {
        size_t n;
        const unsigned char *b = blob(from, k, &n);
        return b ? put(PGST(st), i, b, n, 1) : BR_DB_ERROR;
    }
    return put(PGST(st), i, v, (size_t)PQgetlength(from->res, from->row, k), 0);
}

static int pg_step(br_dbst *st)
{
    pg_st *s = PGST(st);
    pg_db *d = STDB(s);
    free_blobs(s);
    if (s->res) {
        if (++s->row < PQntuples(s->res)) return BR_DB_ROW;
        PQclear(s->res);
        s->res = NULL;
        s->row = -1;
        return BR_DB_DONE;
    }
    int rc = before_wait(d, s->rollback);
    if (rc || (rc = usable(d, s->rollback)) || (rc = prepare_in_session(d, s))) return rc;
    int was_idle = idle(d);
    PGresult *res = PQexecPrepared(d->conn, s->name, s->nparams, (const char *const *)s->values,
                                   s->lengths, s->formats, 0);
    ExecStatusType t = PQresultStatus(res);
    int retry = ok_status(t) ? 0 : again(d, was_idle, s->readonly, res);
    if (retry > 0) {
        PQclear(res);
        if ((rc = prepare_in_session(d, s))) return rc;
        res = PQexecPrepared(d->conn, s->name, s->nparams, (const char *const *)s->values,
                             s->lengths, s->formats, 0);
        t = PQresultStatus(res);
    }
    if (!ok_status(t)) {
        rc = retry < 0 ? BR_DB_ERROR : fail(d, res);
        if (!was_idle) again(d, 0, 0, res);
        d->last_id_known = 0;
        PQclear(res);
        return rc;
    }
    completed(d, res);
    if (t == PGRES_TUPLES_OK) {
        s->ncols = PQnfields(res);
        if (PQntuples(res) > 0) {
            s->res = res;
            s->row = 0;
            return BR_DB_ROW;
        }
    }
    PQclear(res);
    return BR_DB_DONE;
}

static int pg_settle(br_db *db)
{
    return take_ahead(PGDB(db));
}

/* Sends the write without waiting for its answer (see the top of the file); outside a
 * transaction, where each write would be a transaction of its own that a later refusal could
 * take back with it, it is a plain step. */
static int pg_step_ahead(br_dbst *st)
{
    pg_st *s = PGST(st);
    pg_db *d = STDB(s);
    if (s->res || (!d->ahead && PQtransactionStatus(d->conn) != PQTRANS_INTRANS))
        return pg_step(st);
    if (d->ahead_rc) return take_ahead(d);
    if (d->lost) return usable(d, 0);
    if (s->session != d->base.session) { /* a new session began since it was last run */
        int rc = take_ahead(d);
        if (rc || (rc = prepare_in_session(d, s))) return rc;
    }
    if (!d->ahead && !PQenterPipelineMode(d->conn)) return fail(d, NULL);
    free_blobs(s);
    if (!PQsendQueryPrepared(d->conn, s->name, s->nparams, (const char *const *)s->values,
                             s->lengths, s->formats, 0)) {
        int rc = fail(d, NULL);
        char msg[sizeof d->msg];
        br_strlcpy(msg, d->msg, sizeof msg);
        d->ahead++;
        wait_ahead(d);
        d->ahead_rc = 0;
        set_msg(d, msg);
        return rc;
    }
    d->last_id_known = 0;
    if (++d->ahead >= PG_AHEAD_MAX) return take_ahead(d);
    return BR_DB_DONE;
}

/* PostgreSQL ends a transaction at its first error: a savepoint around the statement lets its
 * refusal be an answer and the transaction go on (one round trip more each side; the store
 * guards only the writes whose refusal it reads). */
static int pg_step_guarded(br_dbst *st)
{
    pg_db *d = STDB(PGST(st));
    int rc = command(d, "SAVEPOINT br_guard");
    if (rc) return rc;
    rc = pg_step(st);
    int64_t changes = d->changes;
    if (rc < 0) {
        char msg[sizeof d->msg];
        br_strlcpy(msg, d->msg, sizeof msg);
        int undo = command(d, "ROLLBACK TO SAVEPOINT br_guard");
        if (!undo) undo = command(d, "RELEASE SAVEPOINT br_guard");
        if (undo) return undo; /* the transaction is lost after all: say why */
        set_msg(d, msg);
        return rc;
    }
    int rel = command(d, "RELEASE SAVEPOINT br_guard");
    d->changes = changes;
    return rel ? rel : rc;
}

static void pg_reset(br_dbst *st)
{
    pg_st *s = PGST(st);
    free_blobs(s);
    PQclear(s->res);
    s->res = NULL;
    s->row = -1;
}

static void pg_clear_bindings(br_dbst *st)
{
    pg_st *s = PGST(st);
    for (int i = 0; i < s->nparams; i++) {
        free(s->values[i]);
        s->values[i] = NULL;
        s->lengths[i] = 0;
        s->formats[i] = 0;
    }
}

/* Before the first step the server describes the statement (once). */
static int pg_column_count(br_dbst *st)
{
    pg_st *s = PGST(st);
    if (s->res) return PQnfields(s->res);
    if (s->ncols < 0) {
        pg_db *d = STDB(s);
        PGresult *r = PQdescribePrepared(d->conn, s->name);
        if (PQresultStatus(r) == PGRES_COMMAND_OK)
            s->ncols = PQnfields(r);
        else
            fail(d, r);
        PQclear(r);
    }
    return s->ncols < 0 ? 0 : s->ncols;
}

static int pg_column_null(br_dbst *st, int k)
{
    return cell(PGST(st), k) == NULL;
}

static int pg_column_type(br_dbst *st, int k)
{
    pg_st *s = PGST(st);
    if (!s->res || cell(s, k) == NULL) return BR_DB_T_NULL;
    switch (PQftype(s->res, k)) {
    case PGT_BOOL:
    case PGT_INT2:
    case PGT_INT4:
    case PGT_INT8:
        return BR_DB_T_INT;
    case PGT_FLOAT4:
    case PGT_FLOAT8:
    case PGT_NUMERIC:
        return BR_DB_T_FLOAT;
    case PGT_BYTEA:
        return BR_DB_T_BLOB;
    default:
        return BR_DB_T_TEXT;
    }
}

static const char *pg_column_name(br_dbst *st, int k)
{
    pg_st *s = PGST(st);
    return s->res ? PQfname(s->res, k) : NULL;
}

static double to_double(const char *v)
{
    if (!strcmp(v, "t")) return 1;
    if (!strcmp(v, "f")) return 0;
    return strtod(v, NULL);
}

/* Integers as text; booleans 't'/'f' as 1/0; a decimal or float is truncated, as SQLite
 * does. */
static int64_t pg_column_int64(br_dbst *st, int k)
{
    const char *v = cell(PGST(st), k);
    if (!v) return 0;
    if (!strcmp(v, "t")) return 1;
    if (!strcmp(v, "f")) return 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end == '.' || *end == 'e' || *end == 'E' || (end == v && *v)) {
        double f = strtod(v, NULL);
        if (isnan(f)) return 0;
        if (f >= 9223372036854775807.0) return INT64_MAX;
        if (f <= -9223372036854775808.0) return INT64_MIN;
        return (int64_t)f;
    }
    return (int64_t)x;
}

static double pg_column_double(br_dbst *st, int k)
{
    const char *v = cell(PGST(st), k);
    return v ? to_double(v) : 0;
}

/* A bytea column's text is its bytes (as SQLite gives a blob's), not PostgreSQL's hex. */
static const char *pg_column_text(br_dbst *st, int k)
{
    pg_st *s = PGST(st);
    const char *v = cell(s, k);
    if (v && is_bytea(s, k)) {
        size_t n;
        return (const char *)blob(s, k, &n);
    }
    return v;
}

static const void *pg_column_blob(br_dbst *st, int k)
{
    return pg_column_text(st, k);
}

static int pg_column_bytes(br_dbst *st, int k)
{
    pg_st *s = PGST(st);
    if (!cell(s, k)) return 0;
    if (is_bytea(s, k)) {
        size_t n;
        blob(s, k, &n);
        return n > INT_MAX ? INT_MAX : (int)n;
    }
    return PQgetlength(s->res, s->row, k);
}

static int pg_readonly(br_dbst *st)
{
    return PGST(st)->readonly;
}

static int64_t pg_changes(br_db *db)
{
    return PGDB(db)->changes;
}

/* lastval(): the value the session's last nextval() gave, which an identity column's insert
 * takes (an insert into a table without one, or a trigger's insert elsewhere, is not seen as
 * SQLite's rowid would be).  0 before any.  Inside a transaction it runs in a savepoint: its
 * error ("not yet defined in this session") must not abort the caller's transaction. */
static int64_t pg_last_id(br_db *db)
{
    pg_db *d = PGDB(db);
    if (d->last_id_known) return d->last_id;
    if (wait_ahead(d)) return 0; /* the transaction failed: the next call says why */
    int64_t id = 0;
    PGTransactionStatusType ts = PQtransactionStatus(d->conn);
    if (ts == PQTRANS_IDLE) {
        PGresult *r = PQexec(d->conn, "SELECT lastval()");
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        PQclear(r);
    } else if (ts == PQTRANS_INTRANS) {
        if (!PQsendQuery(d->conn, "SAVEPOINT br_last_id; SELECT lastval(); "
                                  "RELEASE SAVEPOINT br_last_id"))
            return 0;
        int failed = 0;
        for (PGresult *r; (r = PQgetResult(d->conn)); PQclear(r)) {
            ExecStatusType t = PQresultStatus(r);
            if (t == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 1)
                id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
            else if (t != PGRES_COMMAND_OK)
                failed = 1;
        }
        if (failed) {
            id = 0;
            PQclear(PQexec(d->conn, "ROLLBACK TO SAVEPOINT br_last_id; "
                                    "RELEASE SAVEPOINT br_last_id"));
        }
    } else {
        return 0; /* a failed transaction: nothing runs until it ends */
    }
    d->last_id = id;
    d->last_id_known = 1;
    return id;
}

static const char *pg_errmsg(br_db *db)
{
    pg_db *d = PGDB(db);
    if (d->msg[0]) return d->msg;
    if (PQstatus(d->conn) != CONNECTION_OK) return "the PostgreSQL connection is closed";
    return "not an error";
}

static int pg_lost(br_db *db)
{
    pg_db *d = PGDB(db);
    return d->lost || PQstatus(d->conn) != CONNECTION_OK;
}

static int pg_in_transaction(br_db *db)
{
    pg_db *d = PGDB(db);
    if (d->lost || d->ahead) return 1;
    /* a connection lost between transactions (PQTRANS_UNKNOWN) holds none */
    PGTransactionStatusType t = PQtransactionStatus(d->conn);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/* Results are materialized: a statement mid-result holds nothing on the server. */
static void pg_release(br_db *db)
{
    (void)db;
}

/* lock_timeout: a statement waiting longer for a row or table lock fails with 55P03
 * (BR_DB_BUSY).  0 means wait forever to PostgreSQL and no wait to SQLite: it becomes 1 ms.
 * Like any SET, one made inside a transaction that rolls back is undone. */
static void pg_set_wait(br_db *db, int ms)
{
    pg_db *d = PGDB(db);
    d->wait_ms = ms > 0 ? ms : 1; /* set again on a new session */
    if (wait_ahead(d) || PQstatus(d->conn) != CONNECTION_OK ||
        PQtransactionStatus(d->conn) == PQTRANS_INERROR)
        return;
    char q[64];
    snprintf(q, sizeof q, "SET lock_timeout = %d", d->wait_ms);
    PQclear(PQexec(d->conn, q));
}

/* The statements of a script one by one (split at the semicolons outside literals, comments
 * and dollar-quoted bodies; a BEGIN ATOMIC ... END body is not supported), so that the one
 * that failed can be named. */
static int pg_exec_script(br_db *db, const char *sql, char *msg, size_t size)
{
    pg_db *d = PGDB(db);
    size_t n = sql ? strlen(sql) : 0;
    int ahead = take_ahead(d);
    if (ahead) {
        snprintf(msg, size, "%s", d->msg);
        return ahead;
    }
    flush_stale(d);
    for (size_t start = 0; start < n;) {
        size_t i = start;
        int after_word = 0;
        while (i < n && sql[i] != ';') {
            size_t e = skip_quoted(sql, i, n, after_word);
            if (e != i) {
                i = e;
                after_word = 0;
            } else {
                after_word = word_char((unsigned char)sql[i]);
                i++;
            }
        }
        /* the statement's first word, past blanks and comments: none means nothing to run */
        size_t b = start;
        for (;;) {
            while (b < i && isspace((unsigned char)sql[b]))
                b++;
            size_t e = b < i && sql[b] != '\'' && sql[b] != '"' && sql[b] != '$'
                           ? skip_quoted(sql, b, i, 0)
                           : b;
            if (e == b) break;
            b = e;
        }
        if (b < i) {
            char *one = strndup(sql + b, i - b);
            if (!one) {
                br_strlcpy(msg, "out of memory", size);
                return BR_DB_ERROR;
            }
            int rc = command(d, one);
            if (rc) snprintf(msg, size, "at \"%.200s\": %s", one, d->msg);
            free(one);
            if (rc) return rc;
        }
        start = i + 1;
    }
    return 0;
}

/* The statements whose PostgreSQL text differs (sql_pg.c) and the schema (schema_pg.sql,
 * embedded by the build). */
extern const char *const br_pg_sql[S_COUNT];
extern const char br_schema_pg_sql[];

/* How searches run on it (search_sql.h). */
extern const struct br_search_sql br_search_pg;

const br_db_backend br_db_postgresql = {
    .version = BR_DB_BACKEND_VERSION,
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .exec = pg_exec,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .bind_column = pg_bind_column,
    .step = pg_step,
    .step_guarded = pg_step_guarded,
    .step_ahead = pg_step_ahead,
    .settle = pg_settle,
    .rows_per_insert = 32,
    .chunk_records = 10000,
    .reset = pg_reset,
    .clear_bindings = pg_clear_bindings,
    .column_count = pg_column_count,
    .column_null = pg_column_null,
    .column_type = pg_column_type,
    .column_name = pg_column_name,
    .column_int64 = pg_column_int64,
    .column_double = pg_column_double,
    .column_text = pg_column_text,
    .column_blob = pg_column_blob,
    .column_bytes = pg_column_bytes,
    .readonly = pg_readonly,
    .changes = pg_changes,
    .last_id = pg_last_id,
    .errmsg = pg_errmsg,
    .in_transaction = pg_in_transaction,
    .release = pg_release,
    .set_wait = pg_set_wait,
    .exec_session = pg_exec_session,
    .lost = pg_lost,
    .integrity_sql = NULL, /* the engine checks itself */
    /* One writer at a time, as on SQLite: the store's transactions read and then write (the
     * next handle, counters) and rely on it.  A transaction-scoped advisory lock, released at
     * COMMIT or ROLLBACK; the key is "bulk" in ASCII. */
    .write_lock_sql = "SELECT pg_advisory_xact_lock(1651862635)",
    .concurrent_writers = 1,
    .exec_script = pg_exec_script,
    .snapshot = NULL, /* pg_dump makes the copy */
    .fk_off_sql = NULL,
    .fk_check_sql = NULL,
    .search = &br_search_pg,
    .schema_sql = br_schema_pg_sql,
    .sequence_sync_sql = "SELECT setval(pg_get_serial_sequence('%s', 'id'), "
                         "COALESCE(max(id), 0) + 1, false) FROM %s",
    .sql = br_pg_sql,
    .n_sql = S_COUNT,
};
