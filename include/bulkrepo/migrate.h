/* bulkrepo — moving a repository's database to another store: from the embedded database
 * (DIR/bulkrepo.db, SQLite) to a PostgreSQL database, back, or from one PostgreSQL database
 * to another (docs/stores.md).
 *
 * What moves: every row of every table of the schema (records, their files' rows, containers,
 * the registry, jobs with their journals, events, files and undo journal, users, roles,
 * tokens, sessions, sets, the trash, DOI profiles, researchers, the mail outbox, S/FTP
 * configurations, settings kept in the database), with its ids.  What stays: the folder DIR
 * and everything in it, the assetstore's files above all; both stores share DIR (several
 * machines may mount it), so no file is copied.
 *
 * How:
 *   1. The source is opened as the repository (it must be at this library's schema version:
 *      run br_repo_upgrade first) and its write lock taken for the whole migration
 *      (br_repo_begin): the store's writers wait, and what is read is one consistent state
 *      (on PostgreSQL, a write the store makes outside a transaction, such as a token's last
 *      use, does not wait for the lock).  A job being run (INITIALIZING, RUNNING, FINALIZING)
 *      is refused unless opts->force.
 *   2. The target must hold no repository (BR_EEXISTS).  It gets its backend's schema but the
 *      triggers, then the rows of every table in one transaction, tables in the order of the
 *      schema's CREATE TABLE statements (parents before the tables that refer to them),
 *      each read in pages of its primary key (WHERE key > last ORDER BY key LIMIT n: memory
 *      stays flat whatever the size, on either engine) and written by column name in
 *      multi-row inserts.  A row that refers to a later row of its own table (a collection
 *      whose parent was made after it) is refused by the target's foreign key: the error
 *      names it.
 *   3. Derived data: the triggers are made after the rows are copied, so that what they
 *      derive is copied as it is (job_tally, the job counters kept by job_record's triggers,
 *      ends exactly as the source's); the search index (item_fts) is not copied but rebuilt
 *      on the target from the copied records.  Each identity column's sequence (PostgreSQL)
 *      is set past the largest id copied, so new records continue the ids.
 *   4. Verified before the commit: every table holds as many rows as the source's, the index
 *      one row per item but templates.
 *   5. The switch, the last step: to PostgreSQL, DIR/bulkrepo.conf names the target (written
 *      whole, then renamed over the old one, which a PostgreSQL source keeps as
 *      DIR/backups/bulkrepo.conf-<TIME>); to the embedded store, the new database is written
 *      as DIR/tmp/migrate-*.db, renamed DIR/bulkrepo.db, and DIR/bulkrepo.conf is moved to
 *      DIR/backups/bulkrepo.conf-<TIME>.  The source is never written: an embedded source's
 *      file is then moved to DIR/backups/bulkrepo-<TIME>.db (so that nothing opens it by
 *      mistake); a PostgreSQL source database is left as it was (drop it when you no longer
 *      want it).
 * Any failure before the switch leaves the source the repository and the target as it was
 * (its transaction rolled back; an embedded target's file removed); the error names the
 * table, and the row when one was refused.
 *
 * Other processes using the repository (`bulkrepo serve`, `job work`) must be stopped first:
 * one that has the source open keeps writing to it after the switch. */
#ifndef BULKREPO_MIGRATE_H
#define BULKREPO_MIGRATE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Told as the copy goes: at the start of each table (done = 0), after each page of rows it
 * read, and once at its end (done == total).  table "triggers" (total 1) is the target's
 * triggers being made after the rows are copied, "item_fts" the search index being rebuilt
 * (total: the items). */
typedef void (*br_migrate_progress_fn)(void *ctx, const char *table, int64_t done, int64_t total);

typedef struct br_migrate_options {
    int force;   /* 1: go on although a job is being run (it is copied as it is now) */
    int replace; /* 1: an embedded target's DIR/bulkrepo.db that exists already (left by
                  * an earlier migration to PostgreSQL, or an older repository) is moved
                  * to DIR/backups/ at the switch; 0: it is refused (BR_EEXISTS) */
    br_migrate_progress_fn progress; /* may be NULL */
    void *ctx;
} br_migrate_options;

#define BR_MIGRATE_MAX_TABLES 96

typedef struct br_migrate_table {
    char name[64];
    int64_t rows; /* copied: the source's rows, and the target's after the copy */
    int rebuilt;  /* 1: not copied but rebuilt from the other tables (the search index);
                   * rows: the target's */
} br_migrate_table;

typedef struct br_migrate_report {
    char from[1024]; /* the source: "embedded" or its address (a password shown as ***) */
    char to[1024];   /* the target, likewise */
    size_t n_tables;
    br_migrate_table tables[BR_MIGRATE_MAX_TABLES]; /* in the order copied */
    int64_t rows;                                   /* copied, all tables */
    double seconds;
    char backup[4200];   /* where the embedded source's file was moved, or where the old
                          * DIR/bulkrepo.conf is kept (a PostgreSQL source); "" when none */
    char replaced[4200]; /* where a DIR/bulkrepo.db that was in the way went (replace) */
    char note[1024];     /* a problem after the switch that did not undo it (the old file
                          * could not be moved aside); "" when none */
} br_migrate_report;

/* Moves DIR's database to the store `to`: a PostgreSQL address (postgresql://USER@HOST/DB,
 * an empty database USER may create tables in), or "embedded" (NULL or "" too) for
 * DIR/bulkrepo.db.  opts may be NULL (no force, no replace, no progress); rep may be NULL.
 * 0 when DIR's repository is now the target; else nothing was switched:
 *   BR_EUSAGE     `to` is not a store address, or names the store DIR already uses
 *   BR_ENOTFOUND  DIR holds no repository
 *   BR_EEXISTS    the target holds a repository (or DIR/bulkrepo.db exists, no replace)
 *   BR_EINVAL     a job is being run (no force)
 *   BR_ESTORE     a database failed (the table and row named), the verification failed,
 *                 the source is not at this library's schema version, or the lock waited
 *                 too long
 *   BR_EIO, BR_ENOMEM, BR_ELIMIT, BR_EINTERNAL */
int br_repo_migrate(const char *dir, const char *to, const br_migrate_options *opts,
                    br_migrate_report *rep, br_error *err);

#ifdef __cplusplus
}
#endif

#endif
