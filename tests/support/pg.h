/* PostgreSQL for the tests: a throwaway server (scripts/pg-cluster.sh start DIR) whose admin
 * address is in $BULKREPO_TEST_PG, and a fresh database of it per test. */
#ifndef BR_TEST_PG_H
#define BR_TEST_PG_H

#include <stddef.h>

/* 1 when $BULKREPO_TEST_PG names a server (its admin address, a postgresql:// URI). */
int tpg_available(void);
/* Creates a database of a unique name (bt_<pid>_<n>) on that server and writes its address
 * into url: 0, or -1 (no server, cannot connect, the address does not fit; the reason on
 * stderr).  The databases this process made are dropped when it exits (tpg_drop_all). */
int tpg_create_db(char *url, size_t size);
/* Drops the databases this process made (their open sessions are ended); later calls and a
 * forked child's exit do nothing. */
void tpg_drop_all(void);

/* Ends every session of the database that url (an address tpg_create_db made) names, as a
 * server restart does (each gets FATAL 57P01 and reads it at its next call), and waits until
 * they are gone: the number ended, or -1. */
int tpg_end_sessions(const char *url);
/* Refuses new connections to that database (allow 0), as a server that is down does, or lets
 * them in again (1): 0 or -1. */
int tpg_allow_connections(const char *url, int allow);

/* The PostgreSQL address DIR/bulkrepo.conf names: 1 and url filled, 0 for an embedded
 * repository (dbexec.c). */
int tu_db_address(const char *repo_dir, char *url, size_t size);
/* Runs SQL on the repository's database, whichever store it is on; the test fails when the
 * statement does. */
void tu_db_exec(const char *repo_dir, const char *sql);
/* The first column of the first row sql returns, as text, into out (NULL as ""); the test
 * fails when the statement does or returns no row. */
void tu_db_text(const char *repo_dir, const char *sql, char *out, size_t size);

#endif
