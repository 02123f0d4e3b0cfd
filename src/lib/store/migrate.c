/* Schema versions and migrations (repo.h).
 *
 * Migrations are data: src/lib/store/migrations/N.sql takes the schema from
 * version N-1 to N, compiled in by the Makefile (scripts/embed_files.sh) as
 * br_migration_files[], in name order.  The latest version is 1 + the number
 * of files; the files must be named 002.sql, 003.sql, ... with no gap.
 *
 * An upgrade, on a connection of its own:
 *   1. checkpoints the WAL (so the database file alone is the repository);
 *   2. takes the write lock (BEGIN IMMEDIATE) and reads the version again: a
 *      concurrent upgrade that won the lock has nothing left for us to do;
 *   3. copies the database with SQLite's online backup API to
 *      DIR/backups/bulkrepo-v<old>-<stamp>.db (written under a temporary name,
 *      flushed, renamed, folder flushed);
 *   4. runs every statement of every migration in order, then
 *      PRAGMA foreign_key_check, then records the new version, and commits.
 *      foreign_keys is off during the transaction (SQLite's procedure for
 *      migrations that rebuild a table) and checked before the commit.
 * Any failure rolls back: the repository is left at its old version, and the
 * backup just made is removed (it equals the database). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bulkrepo/bulkrepo.h"
#include "store_internal.h"

/* As written by scripts/embed_files.sh. */
typedef struct br_embedded_file {
    const char *name;
    const char *data;
    size_t size;
} br_embedded_file;
extern const br_embedded_file br_migration_files[];

static size_t n_migrations(void)
{
    size_t n = 0;
    while (br_migration_files[n].name)
        n++;
    return n;
}

int br_schema_latest(void)
{
    return 1 + (int)n_migrations();
}

/* The migration to version `to`, NULL when there is none; BR_EINTERNAL-worthy
 * naming mistakes (a gap, a stray name) make it NULL too. */
static const br_embedded_file *migration_to(int to)
{
    if (to < 2 || to > br_schema_latest()) return NULL;
    const br_embedded_file *f = &br_migration_files[to - 2];
    char want[32];
    snprintf(want, sizeof want, "%03d.sql", to);
    return strcmp(f->name, want) ? NULL : f;
}

int br_schema_migration_describe(int to, char *out, size_t size)
{
    if (!out || !size) return BR_EUSAGE;
    out[0] = 0;
    const br_embedded_file *f = migration_to(to);
    if (!f) return BR_ENOTFOUND;
    const char *p = f->data;
    if (!strncmp(p, "--", 2)) p += 2;
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\n");
    if (n >= size) n = size - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return 0;
}

/* Strict decimal, 1..INT_MAX. */
static int parse_version(const char *s, int *v)
{
    if (!s || *s < '1' || *s > '9') return -1;
    char *end = NULL;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || !end || *end || x < 1 || x > INT_MAX) return -1;
    *v = (int)x;
    return 0;
}

int br_store_schema_version(br_repo *repo, int *version, br_error *err)
{
    char text[32];
    int rc = br_store_meta_get(repo, "schema_version", text, sizeof text, err);
    if (rc == BR_ENOTFOUND)
        return br_error_set(err, BR_ESTORE, repo->dir, 0, 0,
                            "the database records no schema version: not a bulkrepo repository");
    if (rc) return rc;
    if (parse_version(text, version))
        return br_error_set(err, BR_ESTORE, repo->dir, 0, 0,
                            "the database records an invalid schema version '%s'", text);
    return 0;
}

int br_store_version_refusal(const char *dir, int version, br_error *err)
{
    int latest = br_schema_latest();
    if (version > latest)
        return br_error_set(err, BR_ESTORE, dir, 0, 0,
                            "this repository has schema version %d, written by a newer bulkrepo; "
                            "this bulkrepo (%s) knows versions up to %d: use the newer bulkrepo "
                            "(the repository was not changed)",
                            version, BULKREPO_VERSION, latest);
    return br_error_set(err, BR_ESTORE, dir, 0, 0,
                        "this repository has schema version %d and this bulkrepo needs %d: run "
                        "`bulkrepo --repo %s upgrade` (it copies the database to %s/backups first)",
                        version, latest, dir, dir);
}

int br_repo_schema_status(const char *dir, br_schema_status *out, br_error *err)
{
    if (!dir || !out)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_repo_schema_status: missing argument");
    memset(out, 0, sizeof *out);
    br_repo *repo = NULL;
    int rc = br_store_connect(dir, NULL, &repo, err);
    if (rc) return rc;
    rc = br_store_schema_version(repo, &out->version, err);
    out->latest = br_schema_latest();
    br_repo_free(repo);
    return rc;
}

/* ---- the backup ---------------------------------------------------------------------------- */

static int sync_path(const char *path, int dir, br_error *err)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0 || fsync(fd)) {
        int e = errno;
        if (fd >= 0) close(fd);
        return br_error_set(err, BR_EIO, path, 0, 0, "cannot flush the backup: %s", strerror(e));
    }
    if (close(fd)) return br_error_set(err, BR_EIO, path, 0, 0, "cannot flush the backup");
    return 0;
}

/* Copies the repository's database to out (a new file) with the backend's snapshot.  The
 * caller holds the write lock and has written nothing yet, so the copy is exactly the
 * database the migrations start from. */
static int backup_to(br_repo *repo, int version, char *out, size_t size, br_error *err)
{
    char dir[4200], tmp[4300], db[4200], base[32];
    out[0] = 0;
    if (br_path_join(db, sizeof db, repo->dir, BR_STORE_DB_NAME) ||
        br_path_join(dir, sizeof dir, repo->dir, "backups"))
        return br_error_set(err, BR_ELIMIT, repo->dir, 0, 0, "repository path too long");
    snprintf(base, sizeof base, "bulkrepo-v%d", version);
    int rc = br_store_backup_name(repo->dir, base, ".db", out, size, err);
    if (rc) return rc;
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    unlink(tmp);
    char msg[512] = "";
    if ((rc = repo->db->be->snapshot(repo->db, db, tmp, msg, sizeof msg))) {
        rc = br_error_set(err, rc, tmp, 0, 0, "%s", msg);
        goto done;
    }
    if ((rc = sync_path(tmp, 0, err))) goto done;
    if (rename(tmp, out)) {
        rc = br_error_set(err, BR_EIO, out, 0, 0, "cannot name the backup: %s", strerror(errno));
        goto done;
    }
    rc = sync_path(dir, 1, err);
    if (rc) unlink(out);
done:
    if (rc) {
        unlink(tmp);
        out[0] = 0;
    }
    return rc;
}

/* ---- the migrations ------------------------------------------------------------------------ */

/* Runs every statement of one migration file, naming the statement that failed. */
static int run_migration(br_repo *repo, const br_embedded_file *f, br_error *err)
{
    char msg[512] = "";
    if (repo->db->be->exec_script(repo->db, f->data, msg, sizeof msg))
        return br_error_set(err, BR_ESTORE, repo->dir, 0, 0, "migration %s failed %s", f->name,
                            msg);
    return 0;
}

/* A migration must leave no dangling reference (where the engine lets one be made). */
static int check_foreign_keys(br_repo *repo, br_error *err)
{
    const char *sql = repo->db->be->fk_check_sql;
    if (!sql) return 0;
    br_dbst *st = NULL;
    if (br_db_prepare(repo->db, sql, -1, &st)) return br_store_fail(repo, err, "foreign key check");
    int s = br_db_step(st);
    int rc = 0;
    if (s == BR_DB_ROW)
        rc = br_error_set(err, BR_ESTORE, repo->dir, 0, 0,
                          "after the migrations a row of table %s names a missing row of %s",
                          br_col_text(st, 0), br_col_text(st, 2));
    else if (s != BR_DB_DONE)
        rc = br_store_fail(repo, err, "foreign key check");
    br_db_finalize(st);
    return rc;
}

int br_repo_upgrade(const char *dir, int dry_run, br_upgrade_report *rep, br_error *err)
{
    br_upgrade_report local;
    if (!rep) rep = &local;
    memset(rep, 0, sizeof *rep);
    int latest = rep->latest = br_schema_latest();
    if (!dir) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_repo_upgrade: no folder");
    for (int v = 2; v <= latest; v++)
        if (!migration_to(v))
            return br_error_set(err, BR_EINTERNAL, NULL, 0, 0,
                                "the migrations compiled in are not 002.sql .. %03d.sql", latest);
    br_repo *repo = NULL;
    int rc = br_store_connect(dir, NULL, &repo, err);
    if (rc) return rc;
    int version = 0;
    if ((rc = br_store_schema_version(repo, &version, err))) goto done;
    rep->from = rep->to = version;
    if (version > latest) {
        rc = br_store_version_refusal(dir, version, err);
        goto done;
    }
    if (version == latest || dry_run) goto done;

    /* Off for the transaction (a table rebuild needs it), checked before the commit. */
    const char *fk_off = repo->db->be->fk_off_sql;
    if (fk_off && (rc = br_store_exec(repo, fk_off, err))) goto done;
    if ((rc = br_repo_begin(repo, err))) goto done;
    /* Another process may have upgraded while we waited for the lock. */
    if ((rc = br_store_schema_version(repo, &version, err))) goto done;
    rep->from = rep->to = version;
    if (version > latest) {
        rc = br_store_version_refusal(dir, version, err);
        goto done;
    }
    if (version == latest) goto done;
    /* A backend without a snapshot (PostgreSQL) is backed up with the engine's own tools
     * (docs/scale.md); its migrations still run in one transaction. */
    if (repo->db->be->snapshot &&
        (rc = backup_to(repo, version, rep->backup, sizeof rep->backup, err)))
        goto done;
    for (int v = version + 1; v <= latest && !rc; v++)
        rc = run_migration(repo, migration_to(v), err);
    if (rc) goto done;
    if ((rc = check_foreign_keys(repo, err))) goto done;
    char text[16];
    snprintf(text, sizeof text, "%d", latest);
    if ((rc = br_store_meta_set(repo, "schema_version", text, err))) goto done;
    if ((rc = br_repo_commit(repo, err))) goto done;
    rep->to = latest;
done:
    if (repo && repo->in_tx) br_repo_rollback(repo);
    if (rc && rep->backup[0]) {
        unlink(rep->backup);
        rep->backup[0] = 0;
    }
    if (rc) rep->to = rep->from;
    br_repo_free(repo);
    return rc;
}
