/* Moving a repository's database to another store (bulkrepo/migrate.h): every table's rows
 * copied from the source connection to a new target database through the backend interface
 * (db.h) alone, so that any pair of backends works the same way.
 *
 * The tables and their order come from the target backend's schema text (schema_sql): its
 * CREATE TABLE statements in order, which creates each parent before the tables that refer to
 * it (PostgreSQL refuses a reference to a table not made yet, so schema_pg.sql has that order,
 * and schema.sql has the same).  From each CREATE TABLE the primary key is read too: a table
 * is read in pages of its key (keyset pagination, the same SQL on both engines), because the
 * PostgreSQL backend holds a statement's whole result in memory.  Columns are matched by name
 * (the source's SELECT * names them), so a column added to both schemas needs nothing here.
 *
 * Rows are written in multi-row INSERTs of up to BATCH_ROWS rows, each value bound by the
 * kind the source gives it; each batch runs under a savepoint so that a refused batch can be
 * tried again row by row to name the row the target refuses. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "bulkrepo/job.h"
#include "bulkrepo/migrate.h"
#include "store_internal.h"

#define PAGE_ROWS    1000       /* rows of the source read by one statement */
#define BATCH_PARAMS 4000       /* parameters of one insert at most */
#define BATCH_ROWS   250        /* rows of one insert at most */
#define BATCH_BYTES  (8u << 20) /* text and blob bytes held for one insert (one row more) */
#define MAX_KEYS     8          /* columns of a primary key */
#define NAME_SIZE    64         /* a table's or column's name */
#define EMBEDDED     "embedded"

typedef struct mig mig;
typedef struct tdef tdef;

/* Rebuilds a table that is not copied from the tables that were; sets out->rows. */
typedef int (*rebuild_fn)(mig *m, const tdef *t, br_migrate_table *out, br_error *err);
static int rebuild_search_index(mig *m, const tdef *t, br_migrate_table *out, br_error *err);

/* The tables of the schema that are derived from the others and rebuilt instead of copied:
 * the search index (SQLite: an FTS5 table, whose shadow tables the schema text does not name;
 * PostgreSQL: a table with a tsvector column the engine computes). */
static const struct {
    const char *table;
    rebuild_fn rebuild;
} REBUILT[] = {
    {"item_fts", rebuild_search_index},
};

/* A table of the schema. */
struct tdef {
    char name[NAME_SIZE];
    char keys[MAX_KEYS][NAME_SIZE]; /* its primary key's columns */
    int n_keys;                     /* 0: none found (read with one statement) */
    rebuild_fn rebuild;             /* not copied: rebuilt */
};

/* A value held for a batch or a page's last key; text and blob bytes are at off in an arena
 * (SQLite's binds do not copy: they must stay put until the step). */
typedef struct val {
    int kind; /* BR_DB_T_* */
    int64_t i;
    double d;
    size_t off;
    int len;
} val;

struct mig {
    const char *dir;
    br_repo *src, *dst;
    const br_migrate_options *opts;
    /* the table being copied */
    const tdef *t;
    int ncols;
    char (*cols)[NAME_SIZE];
    int key_col[MAX_KEYS]; /* the key's columns in the source's rows */
    int has_id;            /* a column named id */
    /* the batch */
    val *vals;
    size_t vals_cap;
    br_buf bytes;
    int rows;
    int batch_rows; /* rows of a full insert */
    br_dbst *full;  /* the insert of batch_rows rows */
    br_dbst *other; /* the insert of other_rows rows (a table's last batch, a row alone) */
    int other_rows;
    int64_t copied; /* rows of the table inserted */
    /* the last key of a full page */
    val last[MAX_KEYS];
    br_buf last_bytes;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the schema text ------------------------------------------------------------------------- */

static int is_word(int c)
{
    return isalnum(c) || c == '_';
}

static void blank(char *t, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (t[i] != '\n') t[i] = ' ';
}

/* A copy of the SQL text with comments, the insides of string literals and dollar-quoted
 * bodies (PostgreSQL's functions) blanked, so that words are found only where they are SQL. */
static char *clean_sql(const char *s)
{
    char *t = strdup(s);
    if (!t) return NULL;
    size_t n = strlen(t);
    for (size_t i = 0; i < n;) {
        size_t e = i;
        if (t[i] == '-' && i + 1 < n && t[i + 1] == '-') {
            while (e < n && t[e] != '\n')
                e++;
            blank(t, i, e);
        } else if (t[i] == '/' && i + 1 < n && t[i + 1] == '*') {
            e = i + 2;
            while (e + 1 < n && !(t[e] == '*' && t[e + 1] == '/'))
                e++;
            e = e + 2 < n ? e + 2 : n;
            blank(t, i, e);
        } else if (t[i] == '\'') {
            for (e = i + 1; e < n; e++)
                if (t[e] == '\'') {
                    if (e + 1 < n && t[e + 1] == '\'') {
                        e++;
                        continue;
                    }
                    break;
                }
            blank(t, i + 1, e);
            e = e < n ? e + 1 : n;
        } else if (t[i] == '$' && (i == 0 || !is_word((unsigned char)t[i - 1]))) {
            size_t j = i + 1;
            while (j < n && is_word((unsigned char)t[j]) && !isdigit((unsigned char)t[i + 1]))
                j++;
            if (j < n && t[j] == '$') {
                size_t tag = j + 1 - i;
                char *close = memmem(t + j + 1, n - j - 1, t + i, tag);
                e = close ? (size_t)(close - t) + tag : n;
                blank(t, i, e);
            } else {
                e = i + 1;
            }
        } else {
            e = i + 1;
        }
        i = e;
    }
    return t;
}

/* 1 when the word w (any case) is at t[i] and ends there. */
static int word_at(const char *t, size_t i, const char *w)
{
    size_t n = strlen(w);
    return !strncasecmp(t + i, w, n) && !is_word((unsigned char)t[i + n]) &&
           (i == 0 || !is_word((unsigned char)t[i - 1]));
}

static size_t skip_ws(const char *t, size_t i, size_t end)
{
    while (i < end && isspace((unsigned char)t[i]))
        i++;
    return i;
}

/* Reads a name (letters, digits, _) at t[i] into out; returns its end, i when there is none
 * or it does not fit. */
static size_t read_name(const char *t, size_t i, size_t end, char *out, size_t size)
{
    size_t j = i;
    while (j < end && is_word((unsigned char)t[j]))
        j++;
    if (j == i || j - i >= size) return i;
    memcpy(out, t + i, j - i);
    out[j - i] = 0;
    return j;
}

/* The primary key of a table from its definitions t[from, to): a column's PRIMARY KEY, or a
 * PRIMARY KEY (a, b) of the table. */
static void read_keys(const char *t, size_t from, size_t to, tdef *d)
{
    size_t start = from;
    int depth = 0;
    for (size_t i = from; i <= to; i++) {
        if (i < to && t[i] == '(') depth++;
        if (i < to && t[i] == ')') depth--;
        if (i < to && (t[i] != ',' || depth > 0)) continue;
        /* one definition: t[start, i) */
        size_t b = skip_ws(t, start, i);
        start = i + 1;
        if (b >= i || d->n_keys) continue;
        if (word_at(t, b, "PRIMARY")) {
            const char *open = memchr(t + b, '(', i - b);
            if (!open) continue;
            for (size_t k = (size_t)(open - t) + 1; k < i && d->n_keys < MAX_KEYS;) {
                k = skip_ws(t, k, i);
                size_t e = read_name(t, k, i, d->keys[d->n_keys], NAME_SIZE);
                if (e == k) break;
                d->n_keys++;
                k = skip_ws(t, e, i);
                if (k < i && t[k] == ',') k++;
            }
            continue;
        }
        static const char *const constraints[] = {"CONSTRAINT", "UNIQUE", "CHECK", "FOREIGN"};
        int constraint = 0;
        for (size_t k = 0; k < sizeof constraints / sizeof *constraints; k++)
            constraint |= word_at(t, b, constraints[k]);
        if (constraint) continue;
        char col[NAME_SIZE];
        size_t e = read_name(t, b, i, col, sizeof col);
        if (e == b) continue;
        int lvl = 0;
        for (size_t k = e; k < i; k++) {
            if (t[k] == '(') lvl++;
            if (t[k] == ')') lvl--;
            if (!lvl && word_at(t, k, "PRIMARY") && word_at(t, skip_ws(t, k + 7, i), "KEY")) {
                memcpy(d->keys[0], col, sizeof col);
                d->n_keys = 1;
                break;
            }
        }
    }
}

/* A schema text read for the copy: its tables in the order it creates them, and the text cut
 * in two: `tables` makes everything but the triggers, `after` (run once the rows are copied)
 * makes those.  A trigger made after the copy does not re-derive rows the copy brings as they
 * are: job_record's triggers would count every journal line into job_tally again (and on
 * PostgreSQL each count updates the same row, whose versions pile up in the transaction: the
 * time grows with the square of a job's records).  Indexes are made with their tables: made
 * after the copy, SQLite would sort each one in memory (the connection's temp_store). */
typedef struct schema {
    tdef *list;
    size_t n, cap;
    char *tables, *after; /* malloc'd */
} schema;

static void schema_dispose(schema *s)
{
    free(s->list);
    free(s->tables);
    free(s->after);
    memset(s, 0, sizeof *s);
}

/* The end of the statement that starts at t[i] (its ';', or n): a trigger's BEGIN ... END body
 * holds statements of its own (CASE ... END inside it does not end it). */
static size_t statement_end(const char *t, size_t i, size_t n)
{
    int body = 0, cases = 0;
    for (; i < n; i++) {
        if (t[i] == ';' && !body) return i;
        if (!is_word((unsigned char)t[i]) || (i && is_word((unsigned char)t[i - 1]))) continue;
        if (word_at(t, i, "BEGIN"))
            body = 1;
        else if (body && word_at(t, i, "CASE"))
            cases++;
        else if (body && word_at(t, i, "END")) {
            if (cases)
                cases--;
            else
                body = 0;
        }
    }
    return n;
}

/* Reads CREATE TABLE name at t[j] (past CREATE [VIRTUAL] TABLE) into a new entry. */
static int read_table(schema *s, const char *t, size_t j, size_t n, int virtual, size_t *end,
                      const char *dir, br_error *err)
{
    if (word_at(t, j, "IF")) { /* IF NOT EXISTS */
        j = skip_ws(t, j + 2, n);
        j = skip_ws(t, j + (word_at(t, j, "NOT") ? 3 : 0), n);
        j = skip_ws(t, j + (word_at(t, j, "EXISTS") ? 6 : 0), n);
    }
    if (br_grow((void **)&s->list, &s->cap, s->n + 1, sizeof *s->list))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    tdef *d = &s->list[s->n];
    memset(d, 0, sizeof *d);
    size_t e = read_name(t, j, n, d->name, sizeof d->name);
    if (e == j)
        return br_error_set(err, BR_EINTERNAL, dir, 0, 0,
                            "the schema has a CREATE TABLE whose name cannot be read");
    s->n++;
    for (size_t k = 0; k < sizeof REBUILT / sizeof *REBUILT; k++)
        if (!strcmp(d->name, REBUILT[k].table)) d->rebuild = REBUILT[k].rebuild;
    *end = e;
    j = skip_ws(t, e, n);
    if (virtual || j >= n || t[j] != '(') return 0;
    size_t close = j + 1;
    for (int depth = 1; close < n; close++) {
        if (t[close] == '(') depth++;
        if (t[close] == ')' && !--depth) break;
    }
    read_keys(t, j + 1, close, d);
    *end = close;
    return 0;
}

static int parse_schema(const char *dir, const char *sql, schema *s, br_error *err)
{
    memset(s, 0, sizeof *s);
    char *t = clean_sql(sql);
    br_buf after = {0};
    int rc = 0;
    if (!t || !(s->tables = strdup(sql))) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    size_t n = strlen(t);
    for (size_t i = 0; i < n; i++) {
        if (!word_at(t, i, "CREATE")) continue;
        size_t j = skip_ws(t, i + 6, n), end = i + 6;
        int virtual = word_at(t, j, "VIRTUAL");
        if (virtual) j = skip_ws(t, j + 7, n);
        if (word_at(t, j, "TABLE")) {
            if ((rc = read_table(s, t, skip_ws(t, j + 5, n), n, virtual, &end, dir, err)))
                goto done;
        } else if (word_at(t, j, "TRIGGER")) {
            end = statement_end(t, j, n);
            if (br_buf_append(&after, sql + i, end - i) || br_buf_puts(&after, ";\n")) {
                rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
                goto done;
            }
            blank(s->tables, i, end < n ? end + 1 : n);
        }
        i = end;
    }
    s->after = after.p ? after.p : strdup("");
    after.p = NULL;
    if (!s->after) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
done:
    br_buf_dispose(&after);
    free(t);
    if (rc) schema_dispose(s);
    return rc;
}

/* ---- small statements ------------------------------------------------------------------------ */

/* Runs SQL with one integer result on repo's connection. */
static int query_int(br_repo *repo, const char *sql, int64_t *out, br_error *err)
{
    br_dbst *st = NULL;
    if (br_db_prepare(repo->db, sql, -1, &st))
        return br_error_set(err, BR_ESTORE, repo->dir, 0, 0, "%s failed: %s", sql,
                            br_db_errmsg(repo->db));
    int s = br_db_step(st);
    int rc = 0;
    if (s == BR_DB_ROW)
        *out = br_db_col_int64(st, 0);
    else
        rc = br_error_set(err, BR_ESTORE, repo->dir, 0, 0, "%s failed: %s", sql,
                          br_db_errmsg(repo->db));
    br_db_finalize(st);
    return rc;
}

static int count_rows(br_repo *repo, const char *table, int64_t *out, br_error *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    return query_int(repo, sql, out, err);
}

/* 1 when the database holds a repository's tables (as br_repo_init_ext asks). */
static int holds_repository(br_repo *repo)
{
    br_dbst *st = NULL;
    int found = 0;
    if (!br_db_prepare(repo->db, "SELECT 1 FROM meta", -1, &st))
        found = br_db_step(st) == BR_DB_ROW;
    br_db_finalize(st);
    if (repo->db->be->in_transaction(repo->db)) br_db_exec(repo->db, "ROLLBACK");
    return found;
}

/* ---- values ---------------------------------------------------------------------------------- */

/* Column k of src's current row into v, its bytes appended to b. */
static int take(br_dbst *src, int k, val *v, br_buf *b)
{
    memset(v, 0, sizeof *v);
    v->kind = br_db_col_type(src, k);
    switch (v->kind) {
    case BR_DB_T_INT:
        v->i = br_db_col_int64(src, k);
        return 0;
    case BR_DB_T_FLOAT:
        v->d = br_db_col_double(src, k);
        return 0;
    case BR_DB_T_TEXT:
    case BR_DB_T_BLOB: {
        const void *p =
            v->kind == BR_DB_T_TEXT ? (const void *)br_col_text(src, k) : br_db_col_blob(src, k);
        int len = br_db_col_bytes(src, k);
        v->off = b->len;
        v->len = len;
        /* a NUL after each value: an empty one still has an address */
        if (br_buf_append(b, p ? p : "", p ? (size_t)len : 0)) return BR_ENOMEM;
        return br_buf_append(b, "", 1) ? BR_ENOMEM : 0;
    }
    default:
        v->kind = BR_DB_T_NULL;
        return 0;
    }
}

static int bind(br_dbst *st, int i, const val *v, const br_buf *b)
{
    switch (v->kind) {
    case BR_DB_T_INT:
        return br_db_bind_int64(st, i, v->i);
    case BR_DB_T_FLOAT:
        return br_db_bind_double(st, i, v->d);
    case BR_DB_T_TEXT:
        return st->db->be->bind_text(st, i, b->p + v->off, v->len);
    case BR_DB_T_BLOB:
        return br_db_bind_blob(st, i, b->p + v->off, v->len);
    default:
        return br_db_bind_null(st, i);
    }
}

/* "id=42", "job_id=3 key=item_1": row r of the batch by its key, else by its number. */
static void describe_row(const mig *m, int r, char *out, size_t size)
{
    size_t o = 0;
    out[0] = 0;
    for (int k = 0; k < m->t->n_keys && o < size; k++) {
        const val *v = &m->vals[(size_t)r * (size_t)m->ncols + (size_t)m->key_col[k]];
        const char *sep = k ? " " : "";
        int w;
        if (v->kind == BR_DB_T_INT)
            w = snprintf(out + o, size - o, "%s%s=%lld", sep, m->t->keys[k], (long long)v->i);
        else if (v->kind == BR_DB_T_TEXT)
            w = snprintf(out + o, size - o, "%s%s='%.80s'", sep, m->t->keys[k],
                         m->bytes.p + v->off);
        else
            w = snprintf(out + o, size - o, "%s%s=?", sep, m->t->keys[k]);
        if (w < 0) break;
        o += (size_t)w;
    }
    if (!m->t->n_keys) snprintf(out, size, "number %lld", (long long)(m->copied + r + 1));
}

/* ---- inserts --------------------------------------------------------------------------------- */

/* The insert of `rows` rows of the table being copied, prepared once (a full batch) or kept
 * until another count is wanted. */
static br_dbst *insert_for(mig *m, int rows, br_error *err)
{
    if (rows == m->batch_rows && m->full) return m->full;
    if (rows != m->batch_rows && m->other && m->other_rows == rows) return m->other;
    br_buf sql = {0};
    int rc = br_buf_printf(&sql, "INSERT INTO %s(", m->t->name);
    for (int k = 0; k < m->ncols && !rc; k++)
        rc = br_buf_printf(&sql, "%s\"%s\"", k ? ", " : "", m->cols[k]);
    if (!rc) rc = br_buf_puts(&sql, ") VALUES ");
    for (int r = 0, p = 1; r < rows && !rc; r++) {
        rc = br_buf_puts(&sql, r ? ", (" : "(");
        for (int k = 0; k < m->ncols && !rc; k++, p++)
            rc = br_buf_printf(&sql, "%s?%d", k ? ", " : "", p);
        if (!rc) rc = br_buf_puts(&sql, ")");
    }
    br_dbst *st = NULL;
    if (rc)
        br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    else if (br_db_prepare(m->dst->db, sql.p, (int)sql.len, &st))
        br_error_set(err, BR_ESTORE, m->dir, 0, 0, "cannot write table %s in the target: %s",
                     m->t->name, br_db_errmsg(m->dst->db));
    br_buf_dispose(&sql);
    if (!st) return NULL;
    if (rows == m->batch_rows) {
        m->full = st;
    } else {
        br_db_finalize(m->other);
        m->other = st;
        m->other_rows = rows;
    }
    return st;
}

/* Runs an insert of rows [first, first + n) of the batch: BR_DB_DONE or the step's error. */
static int insert_rows(mig *m, br_dbst *st, int first, int n)
{
    int p = 1;
    for (int r = first; r < first + n; r++)
        for (int k = 0; k < m->ncols; k++, p++)
            if (bind(st, p, &m->vals[(size_t)r * (size_t)m->ncols + (size_t)k], &m->bytes))
                return BR_DB_ERROR;
    int s = br_db_step(st);
    br_db_reset(st);
    return s;
}

/* Writes the batch to the target under a savepoint; a batch the target refuses is written
 * again row by row to name the row. */
static int flush(mig *m, br_error *err)
{
    if (!m->rows) return 0;
    br_db *db = m->dst->db;
    br_dbst *st = insert_for(m, m->rows, err);
    if (!st) return BR_ESTORE;
    if (br_db_exec(db, "SAVEPOINT br_copy"))
        return br_error_set(err, BR_ESTORE, m->dir, 0, 0, "savepoint in the target failed: %s",
                            br_db_errmsg(db));
    int s = insert_rows(m, st, 0, m->rows);
    if (s == BR_DB_DONE) {
        if (br_db_exec(db, "RELEASE SAVEPOINT br_copy"))
            return br_error_set(err, BR_ESTORE, m->dir, 0, 0, "savepoint in the target failed: %s",
                                br_db_errmsg(db));
        m->copied += m->rows;
        m->rows = 0;
        br_buf_clear(&m->bytes);
        return 0;
    }
    char why[512];
    br_strlcpy(why, br_db_errmsg(db), sizeof why);
    int rc =
        br_error_set(err, BR_ESTORE, m->dir, 0, 0,
                     "cannot copy rows %lld to %lld of table %s into the target: %s",
                     (long long)m->copied + 1, (long long)(m->copied + m->rows), m->t->name, why);
    if (br_db_exec(db, "ROLLBACK TO SAVEPOINT br_copy")) return rc;
    br_dbst *one = insert_for(m, 1, err);
    if (!one) return BR_ESTORE;
    for (int r = 0; r < m->rows; r++) {
        if (insert_rows(m, one, r, 1) == BR_DB_DONE) continue;
        char row[256];
        describe_row(m, r, row, sizeof row);
        return br_error_set(err, BR_ESTORE, m->dir, 0, 0,
                            "cannot copy row %s of table %s into the target: %s", row, m->t->name,
                            br_db_errmsg(db));
    }
    return rc;
}

/* The source's current row into the batch (written when full). */
static int add_row(mig *m, br_dbst *src, br_error *err)
{
    size_t need = (size_t)(m->rows + 1) * (size_t)m->ncols;
    if (br_grow((void **)&m->vals, &m->vals_cap, need, sizeof *m->vals))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    for (int k = 0; k < m->ncols; k++)
        if (take(src, k, &m->vals[(size_t)m->rows * (size_t)m->ncols + (size_t)k], &m->bytes))
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    m->rows++;
    if (m->rows >= m->batch_rows || m->bytes.len >= BATCH_BYTES) return flush(m, err);
    return 0;
}

/* ---- one table ------------------------------------------------------------------------------- */

/* The columns of the table from the source's first row: names, the key's places, the batch. */
static int learn_columns(mig *m, br_dbst *src, br_error *err)
{
    int n = br_db_column_count(src);
    if (n <= 0)
        return br_error_set(err, BR_ESTORE, m->dir, 0, 0, "table %s has no columns", m->t->name);
    m->cols = calloc((size_t)n, sizeof *m->cols);
    if (!m->cols) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    m->ncols = n;
    for (int k = 0; k < n; k++) {
        const char *name = br_db_col_name(src, k);
        size_t len = name ? strlen(name) : 0;
        int ok = len > 0 && len < NAME_SIZE;
        for (size_t i = 0; ok && i < len; i++)
            ok = is_word((unsigned char)name[i]);
        if (!ok)
            return br_error_set(err, BR_EINTERNAL, m->dir, 0, 0,
                                "table %s has a column whose name cannot be copied: '%.60s'",
                                m->t->name, name ? name : "");
        memcpy(m->cols[k], name, len + 1);
        if (!strcmp(name, "id")) m->has_id = 1;
    }
    for (int k = 0; k < m->t->n_keys; k++) {
        m->key_col[k] = -1;
        for (int c = 0; c < n; c++)
            if (!strcmp(m->cols[c], m->t->keys[k])) m->key_col[k] = c;
        if (m->key_col[k] < 0)
            return br_error_set(err, BR_EINTERNAL, m->dir, 0, 0,
                                "the key column %s of table %s is not in the source's rows",
                                m->t->keys[k], m->t->name);
    }
    m->batch_rows = BATCH_PARAMS / n;
    if (m->batch_rows > BATCH_ROWS) m->batch_rows = BATCH_ROWS;
    if (m->batch_rows < 1) m->batch_rows = 1;
    return 0;
}

/* The page statements of a table: the first page, and the pages after a key. */
static int page_sql(const tdef *t, int after, br_buf *b)
{
    int rc = br_buf_printf(b, "SELECT * FROM %s", t->name);
    if (!t->n_keys) return rc ? BR_ENOMEM : 0;
    if (after) {
        rc |= br_buf_puts(b, " WHERE (");
        for (int k = 0; k < t->n_keys; k++)
            rc |= br_buf_printf(b, "%s%s", k ? ", " : "", t->keys[k]);
        rc |= br_buf_puts(b, ") > (");
        for (int k = 0; k < t->n_keys; k++)
            rc |= br_buf_printf(b, "%s?%d", k ? ", " : "", k + 1);
        rc |= br_buf_puts(b, ")");
    }
    rc |= br_buf_puts(b, " ORDER BY ");
    for (int k = 0; k < t->n_keys; k++)
        rc |= br_buf_printf(b, "%s%s", k ? ", " : "", t->keys[k]);
    rc |= br_buf_printf(b, " LIMIT %d", PAGE_ROWS);
    return rc ? BR_ENOMEM : 0;
}

static void end_table(mig *m)
{
    br_db_finalize(m->full);
    br_db_finalize(m->other);
    m->full = m->other = NULL;
    m->other_rows = 0;
    free(m->cols);
    m->cols = NULL;
    m->ncols = 0;
    m->has_id = 0;
    m->rows = 0;
    m->copied = 0;
    br_buf_clear(&m->bytes);
    br_buf_clear(&m->last_bytes);
}

static void progress(mig *m, const char *table, int64_t done, int64_t total)
{
    if (m->opts->progress) m->opts->progress(m->opts->ctx, table, done, total);
}

/* Copies table t (its source row count: total) into the target. */
static int copy_table(mig *m, const tdef *t, int64_t total, br_error *err)
{
    m->t = t;
    br_dbst *first = NULL, *next = NULL;
    br_buf sql = {0};
    int rc = 0;
    if ((rc = page_sql(t, 0, &sql))) {
        rc = br_error_set(err, rc, NULL, 0, 0, "out of memory");
        goto done;
    }
    if (br_db_prepare(m->src->db, sql.p, -1, &first)) {
        rc = br_error_set(err, BR_ESTORE, m->dir, 0, 0, "cannot read table %s: %s", t->name,
                          br_db_errmsg(m->src->db));
        goto done;
    }
    progress(m, t->name, 0, total);
    int64_t read = 0;
    for (br_dbst *st = first;;) {
        int n = 0, s;
        while ((s = br_db_step(st)) == BR_DB_ROW) {
            if (!m->cols && (rc = learn_columns(m, st, err))) goto done;
            n++;
            if (n == PAGE_ROWS && t->n_keys) { /* where the next page starts */
                br_buf_clear(&m->last_bytes);
                for (int k = 0; k < t->n_keys; k++)
                    if (take(st, m->key_col[k], &m->last[k], &m->last_bytes)) {
                        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
                        goto done;
                    }
            }
            if ((rc = add_row(m, st, err))) goto done;
        }
        br_db_reset(st);
        if (s != BR_DB_DONE) {
            rc = br_error_set(err, BR_ESTORE, m->dir, 0, 0, "cannot read table %s: %s", t->name,
                              br_db_errmsg(m->src->db));
            goto done;
        }
        read += n;
        if (read < total) progress(m, t->name, read, total);
        if (n < PAGE_ROWS || !t->n_keys) break;
        if (!next) {
            br_buf_clear(&sql);
            if ((rc = page_sql(t, 1, &sql))) {
                rc = br_error_set(err, rc, NULL, 0, 0, "out of memory");
                goto done;
            }
            if (br_db_prepare(m->src->db, sql.p, -1, &next)) {
                rc = br_error_set(err, BR_ESTORE, m->dir, 0, 0, "cannot read table %s: %s", t->name,
                                  br_db_errmsg(m->src->db));
                goto done;
            }
        }
        for (int k = 0; k < t->n_keys; k++)
            if (bind(next, k + 1, &m->last[k], &m->last_bytes)) {
                rc = br_error_set(err, BR_ESTORE, m->dir, 0, 0, "cannot read table %s: %s", t->name,
                                  br_db_errmsg(m->src->db));
                goto done;
            }
        st = next;
    }
    if ((rc = flush(m, err))) goto done;
    progress(m, t->name, total, total);
    /* New ids continue after the copied ones where the engine keeps a sequence. */
    const char *sync = m->dst->db->be->sequence_sync_sql;
    if (sync && m->has_id && m->copied) {
        br_buf q = {0};
        for (const char *p = sync; *p && !rc;) {
            const char *hole = strstr(p, "%s");
            size_t len = hole ? (size_t)(hole - p) : strlen(p);
            rc = br_buf_append(&q, p, len);
            if (!rc && hole) rc = br_buf_puts(&q, t->name);
            p += len + (hole ? 2 : 0);
        }
        if (rc)
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        else if (br_db_exec(m->dst->db, q.p))
            rc = br_error_set(err, BR_ESTORE, m->dir, 0, 0,
                              "cannot set the ids of table %s in the target to continue: %s",
                              t->name, br_db_errmsg(m->dst->db));
        br_buf_dispose(&q);
    }
done:
    br_db_finalize(first);
    br_db_finalize(next);
    br_buf_dispose(&sql);
    end_table(m);
    return rc;
}

/* The search index: every item's row written again from the copied tables (store_search.c),
 * noted in pages of ids and written in runs of consecutive ids, so that no statement's result
 * holds more than a run (BR_FTS_PENDING items). */
static int rebuild_search_index(mig *m, const tdef *t, br_migrate_table *out, br_error *err)
{
    int64_t total = 0, want = 0, ids[PAGE_ROWS], last = 0;
    int rc = count_rows(m->dst, "item", &total, err);
    if (rc) return rc;
    progress(m, t->name, 0, total);
    br_dbst *st = NULL;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT id FROM item WHERE id > ?1 ORDER BY id LIMIT %d", PAGE_ROWS);
    if (br_db_prepare(m->dst->db, sql, -1, &st))
        return br_error_set(err, BR_ESTORE, m->dir, 0, 0, "cannot read the items: %s",
                            br_db_errmsg(m->dst->db));
    for (int64_t done = 0;;) {
        int n = 0, s;
        br_db_bind_int64(st, 1, last);
        while ((s = br_db_step(st)) == BR_DB_ROW && n < PAGE_ROWS)
            ids[n++] = br_db_col_int64(st, 0);
        br_db_reset(st);
        if (s != BR_DB_DONE && s != BR_DB_ROW) {
            rc = br_error_set(err, BR_ESTORE, m->dir, 0, 0, "cannot read the items: %s",
                              br_db_errmsg(m->dst->db));
            goto done;
        }
        for (int i = 0; i < n && !rc; i++)
            rc = br_search_index_item(m->dst, ids[i], err);
        if (rc) goto done;
        done += n;
        if (n < PAGE_ROWS) break;
        if (done < total) progress(m, t->name, done, total);
        last = ids[n - 1];
    }
    if ((rc = br_search_flush(m->dst, err))) goto done;
    progress(m, t->name, total, total);
    if ((rc = count_rows(m->dst, t->name, &out->rows, err))) goto done;
    if ((rc =
             query_int(m->dst, "SELECT count(*) FROM item WHERE status <> 'template'", &want, err)))
        goto done;
    if (out->rows != want)
        rc = br_error_set(err, BR_ESTORE, m->dir, 0, 0,
                          "the search index rebuilt on the target has %lld rows for %lld items",
                          (long long)out->rows, (long long)want);
done:
    br_db_finalize(st);
    return rc;
}

/* ---- the repository folder ------------------------------------------------------------------- */

int br_store_backup_name(const char *dir, const char *base, const char *ext, char *out, size_t size,
                         br_error *err)
{
    char folder[4200], stamp[32];
    if (br_path_join(folder, sizeof folder, dir, "backups"))
        return br_error_set(err, BR_ELIMIT, dir, 0, 0, "repository path too long");
    int rc = br_mkdir_p(folder, err);
    if (rc) return rc;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    for (int i = 1;; i++) {
        char suffix[16] = "";
        if (i > 1) snprintf(suffix, sizeof suffix, "-%d", i);
        int n = snprintf(out, size, "%s/%s-%s%s%s", folder, base, stamp, suffix, ext);
        if (n < 0 || (size_t)n >= size)
            return br_error_set(err, BR_ELIMIT, folder, 0, 0, "backup path too long");
        if (access(out, F_OK)) return 0;
        if (i >= 100) return br_error_set(err, BR_EIO, out, 0, 0, "no free backup name");
    }
}

/* Renames an SQLite database file and its -wal and -shm files (those that exist); its -turn
 * file (db_sqlite.c: a lock file, no data) is removed. */
static int move_db(const char *from, const char *to, br_error *err)
{
    if (rename(from, to))
        return br_error_set(err, BR_EIO, from, 0, 0, "cannot move to %s: %s", to, strerror(errno));
    char turn[4300];
    snprintf(turn, sizeof turn, "%s-turn", from);
    unlink(turn);
    static const char *const side[] = {"-wal", "-shm"};
    for (size_t k = 0; k < sizeof side / sizeof *side; k++) {
        char a[4300], b[4300];
        snprintf(a, sizeof a, "%s%s", from, side[k]);
        snprintf(b, sizeof b, "%s%s", to, side[k]);
        if (!access(a, F_OK) && rename(a, b))
            return br_error_set(err, BR_EIO, a, 0, 0, "cannot move to %s: %s", b, strerror(errno));
    }
    return 0;
}

/* Makes a rename in the folder durable (best effort: the rename itself is done). */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)fsync(fd);
    close(fd);
}

static void remove_db(const char *path)
{
    char p[4300];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-turn", path);
    unlink(p);
}

/* ---- the migration --------------------------------------------------------------------------- */

typedef struct running {
    int64_t id;
    char status[32];
} running;

static int note_running(void *ctx, const br_job *j)
{
    running *r = ctx;
    if (!r->id) {
        r->id = j->id;
        br_strlcpy(r->status, br_job_status_code(j->status), sizeof r->status);
    }
    return 0;
}

int br_repo_migrate(const char *dir, const char *to, const br_migrate_options *opts,
                    br_migrate_report *rep, br_error *err)
{
    br_migrate_report local;
    if (!rep) rep = &local;
    memset(rep, 0, sizeof *rep);
    static const br_migrate_options none = {0};
    if (!opts) opts = &none;
    if (!dir) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_repo_migrate: no folder");
    double t0 = now_s();
    int embedded = !to || !*to || !strcmp(to, EMBEDDED);
    if (!embedded && br_db_backend_for(to) == &br_db_sqlite)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "unknown store '%.80s': give a postgresql:// address, or embedded", to);
    mig m = {.dir = dir, .opts = opts};
    schema sc = {0};
    int64_t *counts = NULL;
    char db_path[4200], conf_path[4200], where[4200], tmp_db[4200] = "", tmp_dir[4200] = "";
    char new_conf[4300] = "";
    int rc = 0, switched = 0;
    if (br_path_join(db_path, sizeof db_path, dir, BR_STORE_DB_NAME) ||
        br_path_join(conf_path, sizeof conf_path, dir, BR_STORE_CONF_NAME))
        return br_error_set(err, BR_ELIMIT, dir, 0, 0, "repository path too long");
    if ((rc = br_store_locate(dir, where, sizeof where, err))) return rc;
    if ((rc = br_repo_open(dir, &m.src, err))) return rc;
    int from_embedded = m.src->db->be == &br_db_sqlite;
    br_strlcpy(rep->from, from_embedded ? EMBEDDED : m.src->store, sizeof rep->from);
    if (embedded)
        br_strlcpy(rep->to, EMBEDDED, sizeof rep->to);
    else
        br_store_address_shown(to, rep->to, sizeof rep->to);
    if (embedded && from_embedded) {
        rc = br_error_set(err, BR_EUSAGE, dir, 0, 0,
                          "the repository is on the embedded store already");
        goto done;
    }
    if (!embedded && !from_embedded && !strcmp(to, where)) {
        rc = br_error_set(err, BR_EUSAGE, dir, 0, 0, "the repository is on %s already", rep->to);
        goto done;
    }
    if (embedded && !access(db_path, F_OK) && !opts->replace) {
        rc = br_error_set(err, BR_EEXISTS, db_path, 0, 0,
                          "an embedded database is in the way (left by an earlier migration?); "
                          "replace moves it to %s/backups/ (bulkrepo migrate --replace)",
                          dir);
        goto done;
    }

    /* The source: its write lock for the whole migration, one consistent state read. */
    if ((rc = br_repo_begin(m.src, err))) goto done;
    if (!opts->force) {
        running r = {0};
        if ((rc = br_job_list_unfinished(m.src, note_running, &r, err))) goto done;
        if (r.id) {
            rc = br_error_set(err, BR_EINVAL, dir, 0, 0,
                              "job %lld is being run (%s): wait for it to end, or cancel it; "
                              "force copies it as it is",
                              (long long)r.id, r.status);
            goto done;
        }
    }

    /* The target: a new database file in DIR/tmp, or the PostgreSQL database. */
    if (embedded) {
        char name[64], stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(name, sizeof name, "tmp/migrate-%s-%ld.db", stamp, (long)getpid());
        char scratch[4200];
        br_path_join(scratch, sizeof scratch, dir, "tmp");
        if ((rc = br_mkdir_p(scratch, err))) goto done;
        if (br_path_join(tmp_db, sizeof tmp_db, dir, name)) {
            rc = br_error_set(err, BR_ELIMIT, dir, 0, 0, "repository path too long");
            goto done;
        }
        remove_db(tmp_db);
    }
    if ((rc = br_store_connect(dir, embedded ? tmp_db : to, &m.dst, err))) goto done;
    if (holds_repository(m.dst)) {
        rc = br_error_set(err, BR_EEXISTS, dir, 0, 0,
                          "the database %s already holds a bulkrepo repository", rep->to);
        goto done;
    }
    const br_db_backend *be = m.dst->db->be;
    if ((rc = parse_schema(dir, be->schema_sql, &sc, err))) goto done;
    tdef *tables = sc.list;
    size_t n_tables = sc.n;
    if ((rc = br_repo_begin(m.dst, err))) goto done;
    if ((rc = br_store_exec(m.dst, sc.tables, err))) goto done;

    /* Every table in the schema's order; the triggers; what is rebuilt. */
    if (n_tables > BR_MIGRATE_MAX_TABLES) {
        rc = br_error_set(err, BR_EINTERNAL, dir, 0, 0, "the schema has more than %d tables",
                          BR_MIGRATE_MAX_TABLES);
        goto done;
    }
    if (!(counts = calloc(n_tables ? n_tables : 1, sizeof *counts))) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    rep->n_tables = n_tables;
    for (size_t i = 0; i < n_tables && !rc; i++) {
        br_strlcpy(rep->tables[i].name, tables[i].name, sizeof rep->tables[i].name);
        rep->tables[i].rebuilt = tables[i].rebuild != NULL;
        if (!tables[i].rebuild) rc = count_rows(m.src, tables[i].name, &counts[i], err);
    }
    for (size_t i = 0; i < n_tables && !rc; i++)
        if (!tables[i].rebuild) rc = copy_table(&m, &tables[i], counts[i], err);
    if (!rc) {
        progress(&m, "triggers", 0, 1);
        rc = br_store_exec(m.dst, sc.after, err);
        if (!rc) progress(&m, "triggers", 1, 1);
    }
    for (size_t i = 0; i < n_tables && !rc; i++)
        if (tables[i].rebuild) rc = tables[i].rebuild(&m, &tables[i], &rep->tables[i], err);
    if (rc) goto done;
    /* The verification: the target holds what the source holds. */
    for (size_t i = 0; i < n_tables; i++) {
        if (tables[i].rebuild) continue;
        int64_t there = 0;
        if ((rc = count_rows(m.dst, tables[i].name, &there, err))) goto done;
        if (there != counts[i]) {
            rc = br_error_set(err, BR_ESTORE, dir, 0, 0,
                              "table %s has %lld rows in the source but %lld in the target after "
                              "the copy",
                              tables[i].name, (long long)counts[i], (long long)there);
            goto done;
        }
        rep->tables[i].rows = there;
        rep->rows += there;
    }

    /* A PostgreSQL target's bulkrepo.conf is written beside before the commit, so that the
     * switch after it is one rename. */
    if (!embedded) {
        char name[64];
        snprintf(name, sizeof name, "tmp/migrate-%ld.conf.d", (long)getpid());
        br_path_join(tmp_dir, sizeof tmp_dir, dir, name);
        if ((rc = br_mkdir_p(tmp_dir, err))) goto done;
        if ((rc = br_store_conf_write(tmp_dir, to, err))) goto done;
        snprintf(new_conf, sizeof new_conf, "%s/%s", tmp_dir, BR_STORE_CONF_NAME);
    }
    if ((rc = br_repo_commit(m.dst, err))) goto done;
    br_repo_free(m.dst); /* an embedded target's file complete (its WAL checkpointed) */
    m.dst = NULL;

    /* The switch. */
    if (!embedded) {
        /* PostgreSQL to PostgreSQL: the old bulkrepo.conf is kept (a second name for it). */
        if (!from_embedded && (br_store_backup_name(dir, BR_STORE_CONF_NAME, "", rep->backup,
                                                    sizeof rep->backup, NULL) ||
                               link(conf_path, rep->backup)))
            rep->backup[0] = 0;
        if (rename(new_conf, conf_path)) {
            if (rep->backup[0]) unlink(rep->backup);
            rep->backup[0] = 0;
            rc = br_error_set(err, BR_EIO, conf_path, 0, 0,
                              "cannot write: %s (the repository stays on %s; the database %s "
                              "now holds a copy: empty it before trying again)",
                              strerror(errno), rep->from, rep->to);
            goto done;
        }
    } else {
        /* While DIR/bulkrepo.conf is there it names the repository's database: the new file
         * takes its place first, and the switch is the conf's move. */
        if (!access(db_path, F_OK)) { /* replace: checked above */
            if ((rc = br_store_backup_name(dir, "bulkrepo-replaced", ".db", rep->replaced,
                                           sizeof rep->replaced, err)) ||
                (rc = move_db(db_path, rep->replaced, err)))
                goto done;
        }
        char old_conf[4200];
        if ((rc = move_db(tmp_db, db_path, err)) ||
            (rc = br_store_backup_name(dir, BR_STORE_CONF_NAME, "", old_conf, sizeof old_conf,
                                       err)) ||
            rename(conf_path, old_conf)) {
            if (!rc)
                rc = br_error_set(err, BR_EIO, conf_path, 0, 0, "cannot move to %s: %s", old_conf,
                                  strerror(errno));
            /* the repository stays on PostgreSQL, the folder as it was */
            if (access(tmp_db, F_OK)) remove_db(db_path);
            if (rep->replaced[0] && !move_db(rep->replaced, db_path, NULL)) rep->replaced[0] = 0;
            goto done;
        }
        br_strlcpy(rep->backup, old_conf, sizeof rep->backup);
    }
    sync_dir(dir);
    switched = 1;
    br_repo_rollback(m.src); /* nothing was written: the lock is let go */
    br_repo_free(m.src);
    m.src = NULL;
    /* An embedded source's file goes where nothing opens it by mistake. */
    if (from_embedded) {
        br_error e2;
        if (br_store_backup_name(dir, "bulkrepo", ".db", rep->backup, sizeof rep->backup, &e2) ||
            move_db(db_path, rep->backup, &e2)) {
            snprintf(rep->note, sizeof rep->note,
                     "the embedded database was not moved aside (%.300s): remove %.600s",
                     e2.message, db_path);
            rep->backup[0] = 0;
        }
    }
done:
    if (m.dst) {
        br_repo_rollback(m.dst);
        br_repo_free(m.dst);
    }
    if (m.src) {
        br_repo_rollback(m.src);
        br_repo_free(m.src);
    }
    if (tmp_db[0] && !switched) remove_db(tmp_db);
    if (new_conf[0]) unlink(new_conf);
    if (tmp_dir[0]) rmdir(tmp_dir);
    free(m.vals);
    br_buf_dispose(&m.bytes);
    br_buf_dispose(&m.last_bytes);
    free(counts);
    schema_dispose(&sc);
    rep->seconds = now_s() - t0;
    return rc;
}
