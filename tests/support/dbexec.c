/* SQL on a test repository's database behind the library's back, whichever store it is on
 * (tests move a token's expiry into the past: they cannot wait 90 days). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include "pg.h"
#include "testutil.h"

int tu_db_address(const char *repo_dir, char *url, size_t size)
{
    url[0] = 0;
    char *conf = NULL;
    FILE *f = fopen(tu_path(repo_dir, "bulkrepo.conf"), "r");
    if (!f) return 0;
    char line[1024];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "store = ", 8)) {
            conf = line + 8;
            conf[strcspn(conf, "\r\n")] = 0;
            snprintf(url, size, "%s", conf);
        }
    fclose(f);
    return url[0] != 0;
}

void tu_db_exec(const char *repo_dir, const char *sql)
{
    char url[1024];
    if (tu_db_address(repo_dir, url, sizeof url)) {
        PGconn *c = PQconnectdb(url);
        if (PQstatus(c) != CONNECTION_OK) fail_msg("%s: %s", url, PQerrorMessage(c));
        PGresult *r = PQexec(c, sql);
        ExecStatusType t = PQresultStatus(r);
        if (t != PGRES_COMMAND_OK && t != PGRES_TUPLES_OK)
            fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(c);
        return;
    }
    sqlite3 *c;
    assert_int_equal(sqlite3_open(tu_path(repo_dir, "bulkrepo.db"), &c), SQLITE_OK);
    sqlite3_busy_timeout(c, 5000);
    char *msg = NULL;
    if (sqlite3_exec(c, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
    sqlite3_close(c);
}

void tu_db_text(const char *repo_dir, const char *sql, char *out, size_t size)
{
    char url[1024];
    out[0] = 0;
    if (tu_db_address(repo_dir, url, sizeof url)) {
        PGconn *c = PQconnectdb(url);
        if (PQstatus(c) != CONNECTION_OK) fail_msg("%s: %s", url, PQerrorMessage(c));
        PGresult *r = PQexec(c, sql);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s: %s", sql, PQresultErrorMessage(r));
        if (PQntuples(r) < 1) fail_msg("%s: no row", sql);
        snprintf(out, size, "%s", PQgetvalue(r, 0, 0));
        PQclear(r);
        PQfinish(c);
        return;
    }
    sqlite3 *c;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(tu_path(repo_dir, "bulkrepo.db"), &c), SQLITE_OK);
    sqlite3_busy_timeout(c, 5000);
    if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(c));
    if (sqlite3_step(st) != SQLITE_ROW) fail_msg("%s: no row", sql);
    const unsigned char *v = sqlite3_column_text(st, 0);
    snprintf(out, size, "%s", v ? (const char *)v : "");
    sqlite3_finalize(st);
    sqlite3_close(c);
}
