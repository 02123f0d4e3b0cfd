/* PostgreSQL for the tests: see pg.h.  Only libpq: this file is linked into every test. */
#include "pg.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>

#define MAX_DBS 256

static char made[MAX_DBS][64]; /* the databases this process created */
static int n_made;
static pid_t maker; /* the process that created them (a fork's exit drops none) */

static const char *admin(void)
{
    const char *a = getenv("BULKREPO_TEST_PG");
    return a && *a ? a : NULL;
}

int tpg_available(void)
{
    return admin() != NULL;
}

/* The admin address a with its database replaced by name: a URI's path, else (a key=value
 * string) a dbname at its end, which wins over an earlier one.  0, or -1 when it does not
 * fit. */
static int with_db(const char *a, const char *name, char *url, size_t size)
{
    const char *scheme = strstr(a, "://");
    int n;
    if (!scheme) {
        n = snprintf(url, size, "%s dbname=%s", a, name);
    } else {
        const char *host = scheme + 3;
        size_t h = strcspn(host, "/?");
        const char *query = strchr(host + h, '?');
        n = snprintf(url, size, "%.*s/%s%s", (int)(host + h - a), a, name, query ? query : "");
    }
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void drop_at_exit(void)
{
    tpg_drop_all();
}

int tpg_create_db(char *url, size_t size)
{
    static unsigned counter;
    const char *a = admin();
    if (!a) {
        fprintf(stderr, "tpg_create_db: BULKREPO_TEST_PG is not set\n");
        return -1;
    }
    PGconn *c = PQconnectdb(a);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "tpg_create_db: cannot connect to %s: %s", a,
                c ? PQerrorMessage(c) : "out of memory\n");
        PQfinish(c);
        return -1;
    }
    PQsetNoticeProcessor(c, quiet, NULL);
    int rc = -1;
    char name[64];
    /* a name a crashed earlier process with the same pid left is skipped */
    for (int tries = 0; tries < 100; tries++) {
        snprintf(name, sizeof name, "bt_%ld_%u", (long)getpid(), ++counter);
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
        PGresult *r = PQexec(c, sql);
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        int taken = state && !strcmp(state, "42P04");
        if (!ok && !taken) fprintf(stderr, "tpg_create_db: %s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        if (ok) {
            rc = 0;
            break;
        }
        if (!taken) break;
    }
    PQfinish(c);
    if (rc) return -1;
    if (n_made < MAX_DBS) {
        if (maker != getpid()) {
            maker = getpid();
            n_made = 0;
            atexit(drop_at_exit);
        }
        snprintf(made[n_made++], sizeof made[0], "%s", name);
    }
    if (with_db(a, name, url, size)) {
        fprintf(stderr, "tpg_create_db: the address does not fit in %zu bytes\n", size);
        return -1;
    }
    return 0;
}

void tpg_drop_all(void)
{
    const char *a = admin();
    if (!n_made || maker != getpid() || !a) return;
    PGconn *c = PQconnectdb(a);
    if (c && PQstatus(c) == CONNECTION_OK) {
        PQsetNoticeProcessor(c, quiet, NULL);
        for (int i = 0; i < n_made; i++) {
            char sql[128];
            snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", made[i]);
            PQclear(PQexec(c, sql));
        }
    }
    PQfinish(c);
    n_made = 0;
}

/* The database name at the end of url's path, into name: 0, or -1. */
static int db_of(const char *url, char *name, size_t size)
{
    const char *slash = strrchr(url, '/');
    if (!slash) return -1;
    size_t n = strcspn(slash + 1, "?");
    if (!n || n >= size) return -1;
    memcpy(name, slash + 1, n);
    name[n] = 0;
    for (size_t i = 0; i < n; i++) /* a name tpg_create_db made: no quoting needed */
        if (!(name[i] == '_' || (name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= '0' && name[i] <= '9')))
            return -1;
    return 0;
}

/* Runs sql (one %s: the database's name) on the admin database: the first column of its first
 * row as a number (0 without rows), or -1. */
static long admin_query(const char *url, const char *sql)
{
    char name[64], q[512];
    const char *a = admin();
    if (!a || db_of(url, name, sizeof name)) return -1;
    snprintf(q, sizeof q, sql, name);
    PGconn *c = PQconnectdb(a);
    long v = -1;
    if (c && PQstatus(c) == CONNECTION_OK) {
        PQsetNoticeProcessor(c, quiet, NULL);
        PGresult *r = PQexec(c, q);
        ExecStatusType t = PQresultStatus(r);
        if (t == PGRES_TUPLES_OK)
            v = PQntuples(r) ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : 0;
        else if (t == PGRES_COMMAND_OK)
            v = 0;
        else
            fprintf(stderr, "tpg: %s: %s", q, PQresultErrorMessage(r));
        PQclear(r);
    }
    PQfinish(c);
    return v;
}

int tpg_end_sessions(const char *url)
{
    /* The sessions there now are told to end, then waited for by their pids: a client that
     * connects again at once (a worker) must not be taken for one that did not end. */
    char name[64], q[512], pids[4096] = "";
    const char *a = admin();
    if (!a || db_of(url, name, sizeof name)) return -1;
    PGconn *c = PQconnectdb(a);
    int n = -1;
    if (!c || PQstatus(c) != CONNECTION_OK) goto done;
    PQsetNoticeProcessor(c, quiet, NULL);
    snprintf(q, sizeof q,
             "SELECT coalesce(string_agg(pid::text, ',' ORDER BY pid), ''), "
             "count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '%s'",
             name);
    PGresult *r = PQexec(c, q);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        snprintf(pids, sizeof pids, "%s", PQgetvalue(r, 0, 0));
        n = atoi(PQgetvalue(r, 0, 1));
    } else {
        fprintf(stderr, "tpg_end_sessions: %s", PQresultErrorMessage(r));
    }
    PQclear(r);
    if (n <= 0) goto done;
    snprintf(q, sizeof q, "SELECT count(*) FROM pg_stat_activity WHERE pid IN (%s)", pids);
    for (int i = 0;; i++) { /* a backend ends soon after its signal */
        r = PQexec(c, q);
        long left =
            PQresultStatus(r) == PGRES_TUPLES_OK ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : -1;
        PQclear(r);
        if (!left) break;
        if (left < 0 || i == 500) {
            fprintf(stderr, "tpg_end_sessions: sessions %s of %s still there after 5 s\n", pids,
                    url);
            n = -1;
            break;
        }
        usleep(10000);
    }
done:
    PQfinish(c);
    return n;
}

int tpg_allow_connections(const char *url, int allow)
{
    return admin_query(url, allow ? "ALTER DATABASE %s ALLOW_CONNECTIONS true"
                                  : "ALTER DATABASE %s ALLOW_CONNECTIONS false") < 0
               ? -1
               : 0;
}
