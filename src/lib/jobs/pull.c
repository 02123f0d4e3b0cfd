/* Import profiles that pull (profile.h, issue 17; seed 004's "Metadata Import w/FTP"): the
 * fetch job's runner, its start-up recovery and the profiles' schedule.
 *
 * A fetch job lists the profile's remote folder (net/remote.h), keeps the names that match
 * its pattern, and takes each file in name order:
 *   1. a file the profile took before with the same name, size and mtime (fetched_file) is
 *      skipped without a download ("already loaded by job N");
 *   2. else it is downloaded to INBOX/.fetching/NAME (hidden: the drop-folder scanner never
 *      takes it), resuming a partial file a broken earlier attempt left there when it came
 *      from the same listed size and mtime (else it is dropped: never two versions spliced),
 *      under the format's input cap, and its SHA-256 computed; a file whose bytes differ
 *      from the listed size was still being written: failed, not loaded, taken later;
 *   3. the same name, size and checksum taken before: a 'duplicate' row, not loaded;
 *   4. else a 'fetched' row is committed (F), the file renamed to
 *      INBOX/processing/<F as 16 hex digits>-NAME, the load job queued with that path as its
 *      input and parent_job = the fetch job, and the row set 'queued' with the load job;
 *   5. after_fetch is applied on the server (delete, or move into DIR).
 * One journal line per remote file (fetched, skipped, failed) gives the report its counts.
 *
 * Exactly once.  br_job_submit_ext runs its own transaction (files are placed before it),
 * so the row of step 4 and the job cannot be written in one transaction; instead every
 * state between them is recognisable and br_pull_recover finishes it, idempotently:
 *   - row 'fetched', a job whose input is the processing path exists: the submit committed
 *     and the process died before the row was updated: the row becomes 'queued' with it;
 *   - row 'fetched', no such job, the file is in processing/: it is submitted now;
 *   - row 'fetched', the file still in .fetching/ (died between the commit and the rename)
 *     with the row's size and checksum: renamed and submitted now;
 *   - row 'fetched' and the file gone: 'failed' (the next run downloads it again, since
 *     only fetched/queued/duplicate rows count as taken).
 * The processing name carries the row id, so the path is known from the row alone, and it is
 * never reused (ids are not, and the scanner's tokens are times in ns, far larger).
 * Recovery runs at engine start (br_inbox_recover, before the drop-folder recovery, which
 * would otherwise send a claimed file without a job back to the inbox) and at the start of
 * every fetch job of the profile; the job's own lock (INBOX/.fetching/.lock, flock) keeps
 * two fetch jobs of one profile from running at once, so nothing else changes the rows
 * meanwhile.  A crash before step 4's commit leaves at most a partial or whole file in
 * .fetching/ and nothing recorded: the next run resumes or re-downloads it and checks it
 * again; after_fetch runs only once the row says the file is taken, and a file already
 * taken is never queued again (steps 1 and 3), so a crash between 4 and 5 costs one more
 * listing, not a second load. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "bulkrepo/format.h"
#include "bulkrepo/limits.h"
#include "bulkrepo/profile.h"
#include "core/core.h"
#include "cron.h"
#include "engine_internal.h"
#include "net/remote.h"
#include "store/store_fetched.h"

#define FETCH_TYPE   "fetch-profile"
#define GET_ATTEMPTS 3 /* a download cut off mid-way is resumed this many times in a run */
#define LOCK_WAIT_MS 200

typedef struct rfile {
    char *name;
    int64_t size, mtime;
} rfile;

typedef struct pull {
    br_run *r;
    br_profile p;
    br_remote *rem;
    char pattern[256];
    rfile *files;
    size_t n, cap;
    int64_t limit; /* bytes of one file */
    int64_t fetched, skipped, failed;
    int cancelled;
} pull;

/* ---- paths ----------------------------------------------------------------------------- */

static int claimed_path(const br_profile *p, int64_t fid, const char *name, char *out, size_t size)
{
    int n =
        snprintf(out, size, "%s/processing/%016llx-%s", p->inbox, (unsigned long long)fid, name);
    return n < 0 || (size_t)n >= size ? BR_ELIMIT : 0;
}

static int fetching_path(const br_profile *p, const char *name, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/.fetching%s%s", p->inbox, name ? "/" : "", name ? name : "");
    return n < 0 || (size_t)n >= size ? BR_ELIMIT : 0;
}

/* remote_dir/name (or name at the root). */
static int remote_rel(const char *dir, const char *name, char *out, size_t size)
{
    int n = snprintf(out, size, "%s%s%s", dir, *dir ? "/" : "", name);
    return n < 0 || (size_t)n >= size ? BR_ELIMIT : 0;
}

/* The format's cap on one input file (limits.h): an archive's, or one file's. */
static int64_t format_cap(const char *format)
{
    br_limits lim;
    br_limits_default(&lim);
    const br_format_info *f = br_format_info_find(format);
    if (f && f->extensions && strstr(f->extensions, ".zip")) return (int64_t)lim.max_archive_size;
    return (int64_t)lim.max_file_size;
}

/* ---- recovery --------------------------------------------------------------------------- */

/* Queues the load job of row f whose file is at path (processing/); the row becomes queued
 * or failed.  *job gets the load job. */
static int queue_load(br_engine *eng, br_repo *repo, const br_profile *p, const br_fetched *f,
                      const char *path, int64_t fetch_job, int64_t *job, br_error *err)
{
    int rc = br_inbox_submit_load(eng, repo, p, path, f->name, fetch_job, job, err);
    if (rc) {
        br_fetched_set(repo, f->id, "failed", 0, NULL);
        /* To failed/, as the drop folder does; if that fails it stays in processing/. */
        br_inbox_move(path, p->inbox, "failed", f->name, f->id);
        return rc;
    }
    /* If this write is lost, recovery finds the job by its input. */
    br_fetched_set(repo, f->id, "queued", *job, NULL);
    return 0;
}

static int recover_row(br_engine *eng, br_repo *repo, const br_fetched *f)
{
    br_profile p;
    char path[PATH_MAX], partial[PATH_MAX];
    if (br_profile_get(repo, f->profile, &p, NULL) ||
        claimed_path(&p, f->id, f->name, path, sizeof path))
        return br_fetched_set(repo, f->id, "failed", 0, NULL);
    int64_t job;
    br_job_status st;
    int found = br_job_find_by_input(repo, path, &job, &st, NULL);
    if (found < 0) return found;
    if (found) return br_fetched_set(repo, f->id, "queued", job, NULL);
    if (access(path, F_OK) && !fetching_path(&p, f->name, partial, sizeof partial) &&
        !access(partial, F_OK)) {
        char md5[33], sha[65];
        int64_t size = -1;
        if (!br_hash_file(partial, md5, sha, &size, NULL) && size == f->size &&
            !strcmp(sha, f->sha256))
            rename(partial, path);
    }
    if (access(path, F_OK)) return br_fetched_set(repo, f->id, "failed", 0, NULL);
    br_error err;
    if (queue_load(eng, repo, &p, f, path, f->fetch_job, &job, &err)) return 0;
    br_engine_event(eng, repo, f->fetch_job, "warning", "fetch", NULL,
                    "Recovered: %s was fetched but its load job was not queued; queued as job %lld",
                    f->name, (long long)job);
    return 0;
}

int br_pull_recover(br_engine *eng, br_repo *repo, const char *profile, br_error *err)
{
    br_fetched *rows;
    size_t n;
    int rc = br_fetched_pending(repo, profile, &rows, &n, err);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++)
        recover_row(eng, repo, &rows[i]);
    free(rows);
    return 0;
}

/* ---- the fetch job ----------------------------------------------------------------------- */

static int cancel_requested(pull *c)
{
    br_run *r = c->r;
    if (br_engine_stopping(r->eng)) {
        r->stop = BR_STOP_ENGINE;
        return 1;
    }
    char flag[PATH_MAX];
    snprintf(flag, sizeof flag, "%s/run/cancel/%lld", br_repo_dir(r->repo), (long long)r->job.id);
    if (!access(flag, F_OK)) {
        r->stop = BR_STOP_USER;
        return 1;
    }
    return 0;
}

static int on_entry(void *ctx, const br_remote_entry *e)
{
    pull *c = ctx;
    if (fnmatch(c->pattern, e->name, FNM_PERIOD)) return 0;
    if (br_grow((void **)&c->files, &c->cap, c->n + 1, sizeof *c->files)) return 1;
    rfile *f = &c->files[c->n];
    if (!(f->name = strdup(e->name))) return 1;
    f->size = e->size;
    f->mtime = e->mtime;
    c->n++;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const rfile *)a)->name, ((const rfile *)b)->name);
}

static void journal(pull *c, int64_t seq, const char *name, const char *outcome, int64_t bytes,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void journal(pull *c, int64_t seq, const char *name, const char *outcome, int64_t bytes,
                    const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    br_job_record rec;
    memset(&rec, 0, sizeof rec);
    rec.seq = seq;
    rec.key = name;
    rec.outcome = outcome;
    rec.message = msg;
    rec.bytes = bytes > 0 ? bytes : 0;
    br_job_journal(c->r->repo, c->r->job.id, &rec, NULL);
    if (!strcmp(outcome, BR_OUTCOME_FETCHED))
        c->fetched++;
    else if (!strcmp(outcome, BR_OUTCOME_SKIPPED))
        c->skipped++;
    else
        c->failed++;
}

/* after_fetch on the server for a file the profile has taken; a failure is a warning (the
 * file is not taken again: its row says so). */
static void after_fetch(pull *c, const char *rel, const char *name)
{
    const char *a = c->p.after_fetch;
    br_error err;
    br_error_clear(&err);
    int rc = 0;
    char to[BR_REMOTE_PATH_MAX + BR_REMOTE_NAME_MAX + 2];
    if (!strcmp(a, "delete")) {
        rc = br_remote_delete(c->rem, rel, &err);
    } else if (!strncmp(a, "move:", 5)) {
        if (remote_rel(a + 5, name, to, sizeof to))
            rc = br_error_set(&err, BR_ELIMIT, NULL, 0, 0, "path too long");
        else
            rc = br_remote_rename(c->rem, rel, to, &err);
    }
    if (rc)
        br_engine_event(c->r->eng, c->r->repo, c->r->job.id, "warning", "fetch", NULL,
                        "%s: fetched, but '%s' on the server failed: %s", name, a, err.message);
}

/* The fetched_file row of a downloaded file. */
static void fetched_row(const pull *c, const rfile *f, int64_t bytes, const char *sha,
                        br_fetched *row)
{
    memset(row, 0, sizeof *row);
    br_strlcpy(row->profile, c->p.name, sizeof row->profile);
    br_strlcpy(row->name, f->name, sizeof row->name);
    row->size = bytes;
    row->mtime = f->mtime;
    br_strlcpy(row->sha256, sha, sizeof row->sha256);
    row->fetch_job = c->r->job.id;
}

/* A partial download is resumed only when it came from the same listed version of the file
 * (its size and mtime, kept in .fetching/.listed/NAME); any other partial is dropped, so a
 * file replaced on the server between two runs is never spliced from two versions.  Then
 * records the version about to be downloaded.  0 or -errno. */
static int keep_partial_of(const char *local, const char *version, const rfile *f)
{
    char want[64], have[64] = "";
    int n = snprintf(want, sizeof want, "%lld %lld\n", (long long)f->size, (long long)f->mtime);
    FILE *fp = fopen(version, "r");
    if (fp) {
        if (!fgets(have, sizeof have, fp)) have[0] = 0;
        fclose(fp);
    }
    if (strcmp(have, want) && unlink(local) && errno != ENOENT) return -errno;
    if (!strcmp(have, want)) return 0;
    return br_write_file_atomic(version, want, (size_t)n, NULL) ? -EIO : 0;
}

static void take_file(pull *c, int64_t seq, const rfile *f)
{
    br_run *r = c->r;
    br_repo *repo = r->repo;
    br_error err;
    br_error_clear(&err);
    char rel[BR_REMOTE_PATH_MAX + BR_REMOTE_NAME_MAX + 2], local[PATH_MAX], path[PATH_MAX];
    if (remote_rel(c->p.remote_dir, f->name, rel, sizeof rel) ||
        fetching_path(&c->p, f->name, local, sizeof local)) {
        journal(c, seq, f->name, BR_OUTCOME_FAILED, 0, "the path is too long");
        return;
    }
    int64_t job;
    int found = br_fetched_loaded(repo, c->p.name, f->name, f->size, f->mtime, &job, &err);
    if (found > 0) {
        journal(c, seq, f->name, BR_OUTCOME_SKIPPED, 0, "already loaded by job %lld",
                (long long)job);
        after_fetch(c, rel, f->name);
        return;
    }
    if (f->size > c->limit) {
        journal(c, seq, f->name, BR_OUTCOME_FAILED, 0,
                "%lld bytes: larger than the cap of %lld bytes; not downloaded", (long long)f->size,
                (long long)c->limit);
        return;
    }
    char version[PATH_MAX + 16];
    if (fetching_path(&c->p, ".listed", version, PATH_MAX)) {
        journal(c, seq, f->name, BR_OUTCOME_FAILED, 0, "the path is too long");
        return;
    }
    mkdir(version, 0700);
    size_t vn = strlen(version);
    if (snprintf(version + vn, sizeof version - vn, "/%s", f->name) >= (int)(sizeof version - vn)) {
        journal(c, seq, f->name, BR_OUTCOME_FAILED, 0, "the path is too long");
        return;
    }
    int rc = keep_partial_of(local, version, f);
    if (rc) {
        journal(c, seq, f->name, BR_OUTCOME_FAILED, 0, "cannot write in .fetching/: %s",
                strerror(-rc));
        return;
    }
    int64_t bytes = 0;
    char sha[65] = "";
    rc = BR_EIO;
    for (int attempt = 1; attempt <= GET_ATTEMPTS && rc == BR_EIO; attempt++) {
        if (attempt > 1) {
            if (cancel_requested(c)) break;
            br_engine_event(r->eng, repo, r->job.id, "warning", "fetch", NULL,
                            "%s: download broken off (%s); resuming (attempt %d)", f->name,
                            err.message, attempt);
        }
        br_error_clear(&err);
        rc = br_remote_get(c->rem, rel, local, c->limit, &bytes, sha, &err);
    }
    if (!rc) unlink(version);
    if (!rc && f->size >= 0 && bytes != f->size) {
        /* Still being written (or replaced) on the server: what came is not the file that
         * was listed.  Nothing is loaded; a later run takes the whole file. */
        unlink(local);
        journal(c, seq, f->name, BR_OUTCOME_FAILED, 0,
                "the file changed while it was downloaded (listed %lld bytes, received %lld); "
                "a later run takes it",
                (long long)f->size, (long long)bytes);
        return;
    }
    if (rc) {
        /* A partial file stays in .fetching/ for the next run to resume (BR_EIO), with the
         * listing it came from (keep_partial_of). */
        journal(c, seq, f->name, BR_OUTCOME_FAILED, 0, "%s%s",
                rc == BR_ELIMIT ? "grew past the cap while downloading: " : "download failed: ",
                err.message);
        return;
    }
    br_fetched row;
    fetched_row(c, f, bytes, sha, &row);
    if ((found = br_fetched_by_sha(repo, c->p.name, f->name, bytes, sha, &job, &err)) > 0) {
        br_fetched_add(repo, &row, "duplicate", job, NULL);
        unlink(local);
        journal(c, seq, f->name, BR_OUTCOME_SKIPPED, bytes,
                "already loaded by job %lld (same name, size and checksum)", (long long)job);
        br_engine_event(r->eng, repo, r->job.id, "info", "fetch", NULL,
                        "%s: already loaded by job %lld; not loaded again", f->name,
                        (long long)job);
        after_fetch(c, rel, f->name);
        return;
    }
    if (found < 0) {
        journal(c, seq, f->name, BR_OUTCOME_FAILED, 0, "%s", err.message);
        return;
    }
    if ((rc = br_fetched_add(repo, &row, "fetched", 0, &err))) {
        journal(c, seq, f->name, BR_OUTCOME_FAILED, 0, "%s", err.message);
        return;
    }
    if (claimed_path(&c->p, row.id, f->name, path, sizeof path) || rename(local, path)) {
        br_fetched_set(repo, row.id, "failed", 0, NULL);
        journal(c, seq, f->name, BR_OUTCOME_FAILED, 0, "cannot move it into processing/: %s",
                strerror(errno));
        return;
    }
    if ((rc = queue_load(r->eng, repo, &c->p, &row, path, r->job.id, &job, &err))) {
        journal(c, seq, f->name, BR_OUTCOME_FAILED, bytes, "its load job was not queued: %s",
                err.message);
        return;
    }
    journal(c, seq, f->name, BR_OUTCOME_FETCHED, bytes, "%lld bytes, SHA-256 %s; load job %lld",
            (long long)bytes, sha, (long long)job);
    after_fetch(c, rel, f->name);
}

/* Ends the job FAILED (rerunnable: the server or the configuration, not the data). */
static int fail_job(pull *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_job(pull *c, int rc, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    br_job_fail(c->r->repo, c->r->job.id, msg, BR_FAILURE_IO, NULL);
    return rc ? rc : BR_EIO;
}

/* Takes INBOX/.fetching/.lock, waiting while another fetch of the profile runs; -1 when
 * cancelled meanwhile. */
static int take_lock(pull *c, int *fd, br_error *err)
{
    char dir[PATH_MAX], lock[PATH_MAX + 8];
    int rc = fetching_path(&c->p, NULL, dir, sizeof dir);
    if (rc || (rc = br_mkdir_p(dir, err))) return rc ? rc : BR_EIO;
    snprintf(lock, sizeof lock, "%s/.lock", dir);
    *fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0) return br_error_set(err, BR_EIO, lock, 0, 0, "cannot open: %s", strerror(errno));
    int said = 0;
    while (flock(*fd, LOCK_EX | LOCK_NB)) {
        if (!said++)
            br_engine_event(c->r->eng, c->r->repo, c->r->job.id, "info", "fetch", NULL,
                            "Waiting for another fetch of profile %s to end", c->p.name);
        if (cancel_requested(c))
            return br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "cancelled while waiting");
        usleep(LOCK_WAIT_MS * 1000);
    }
    return 0;
}

int br_pull_run(br_run *r, br_error *err)
{
    pull c;
    memset(&c, 0, sizeof c);
    c.r = r;
    int rc = 0, lock_fd = -1;
    br_repo *repo = r->repo;
    const char *name = json_string_value(json_object_get(r->params, "profile"));
    if (!name) {
        rc = br_error_set(err, BR_EUSAGE, "profile", 0, 0, "a fetch job needs \"profile\"");
        br_job_fail(repo, r->job.id, err->message, BR_FAILURE_DATA, NULL);
        goto done;
    }
    if ((rc = br_profile_get(repo, name, &c.p, err))) {
        fail_job(&c, rc, "%s", err->message);
        goto done;
    }
    if (!c.p.ftp[0]) {
        rc = fail_job(&c, BR_EUSAGE, "profile %s has no S/FTP configuration", name);
        goto done;
    }
    br_profile_pattern(&c.p, c.pattern, sizeof c.pattern);
    c.limit = format_cap(c.p.format);
    json_t *ms = json_object_get(r->params, "max_size");
    if (json_is_integer(ms) && json_integer_value(ms) > 0 && json_integer_value(ms) < c.limit)
        c.limit = (int64_t)json_integer_value(ms);
    br_job_set_status(repo, r->job.id, BR_JOB_RUNNING, NULL, NULL);
    if ((rc = take_lock(&c, &lock_fd, err))) goto done;
    /* Files an interrupted run recorded but did not queue (see the top of this file). */
    br_pull_recover(r->eng, repo, c.p.name, NULL);

    if ((rc = br_remote_open(repo, c.p.ftp, &c.rem, err))) {
        fail_job(&c, rc, "S/FTP configuration %s: %s", c.p.ftp, err->message);
        goto done;
    }
    int64_t skipped = 0;
    rc = br_remote_list(c.rem, c.p.remote_dir, on_entry, &c, &skipped, err);
    if (rc) {
        fail_job(&c, rc, "cannot list %s%s on %s: %s", c.p.remote_dir[0] ? "" : "the root",
                 c.p.remote_dir, c.p.ftp, err->message);
        goto done;
    }
    if (skipped)
        br_engine_event(r->eng, repo, r->job.id, "warning", "fetch", NULL,
                        "%lld entries of the listing were skipped (folders, links, or names "
                        "with '/', '..' or control characters)",
                        (long long)skipped);
    br_engine_event(r->eng, repo, r->job.id, "info", "fetch", NULL, "%zu files on %s matched %s",
                    c.n, c.p.ftp, c.pattern);
    if (!c.n) {
        br_job_set_status(repo, r->job.id, BR_JOB_COMPLETED_NO_BULKS, "no files on the server",
                          NULL);
        goto done;
    }
    qsort(c.files, c.n, sizeof *c.files, by_name);
    br_job_set_total(repo, r->job.id, (int64_t)c.n, NULL);
    for (size_t i = 0; i < c.n; i++) {
        if (cancel_requested(&c)) {
            rc = br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "cancelled after %zu of %zu files", i,
                              c.n);
            goto done;
        }
        take_file(&c, (int64_t)i + 1, &c.files[i]);
        br_job_progress pg = {0};
        pg.percent = (int)((i + 1) * 100 / c.n);
        pg.done = (int64_t)i + 1;
        pg.total = (int64_t)c.n;
        pg.eta_seconds = -1;
        br_strlcpy(pg.phase, "fetch", sizeof pg.phase);
        br_job_set_progress(repo, r->job.id, &pg, NULL);
    }
    char msg[256];
    snprintf(msg, sizeof msg, "%lld fetched, %lld already loaded, %lld failed",
             (long long)c.fetched, (long long)c.skipped, (long long)c.failed);
    br_job_status st = c.failed    ? BR_JOB_COMPLETED_WITH_ERRORS
                       : c.fetched ? BR_JOB_COMPLETED_SUCCESS
                                   : BR_JOB_COMPLETED_NO_BULKS;
    if (st == BR_JOB_COMPLETED_NO_BULKS)
        snprintf(msg, sizeof msg, "no new files on the server (%lld already loaded)",
                 (long long)c.skipped);
    br_job_set_status(repo, r->job.id, st, msg, NULL);
done:
    br_remote_free(c.rem);
    for (size_t i = 0; i < c.n; i++)
        free(c.files[i].name);
    free(c.files);
    if (lock_fd >= 0) close(lock_fd);
    return rc;
}

/* ---- on demand and on schedule --------------------------------------------------------------- */

int br_profile_run(br_repo *repo, const char *name, const char *eperson, int64_t max_size,
                   int64_t *job_id, br_error *err)
{
    *job_id = 0;
    br_profile p;
    int rc = br_profile_get(repo, name, &p, err);
    if (rc) return rc;
    if (!p.ftp[0])
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "profile %s has no S/FTP configuration: its drop folder %s is "
                            "watched while the engine runs",
                            name, p.inbox);
    json_t *params = json_object();
    json_object_set_new(params, "profile", json_string(name));
    if (max_size > 0) json_object_set_new(params, "max_size", json_integer(max_size));
    char *ptext = json_dumps(params, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(params);
    if (!ptext) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    char jname[256], input[1200];
    /* Seed 004's name of a profile's fetch job. */
    snprintf(jname, sizeof jname, "Metadata Import w/FTP: %s", name);
    snprintf(input, sizeof input, "%s:/%s", p.ftp, p.remote_dir);
    const char *who = eperson && *eperson ? eperson : p.eperson[0] ? p.eperson : "inbox";
    br_job_spec spec = {FETCH_TYPE, jname, who, ptext, NULL, 0, 0, NULL};
    br_job_submit_extra x = {0, 0, name, input, 0};
    rc = br_job_submit_ext(repo, &spec, &x, job_id, err);
    free(ptext);
    return rc;
}

typedef struct due {
    br_profile *p;
    size_t n, cap;
} due;

static int collect_due(void *ctx, const br_profile *p)
{
    due *d = ctx;
    if (!p->ftp[0] || !p->schedule[0] || !p->next_run) return 0;
    if (br_grow((void **)&d->p, &d->cap, d->n + 1, sizeof *d->p)) return 1;
    d->p[d->n++] = *p;
    return 0;
}

void br_pull_schedule(br_engine *eng, br_repo *repo, int64_t now)
{
    due d = {0};
    if (br_profile_list(repo, collect_due, &d, NULL)) return;
    for (size_t i = 0; i < d.n; i++) {
        br_profile *p = &d.p[i];
        if (p->next_run > now) continue;
        br_cron c;
        int64_t next = 0, active = 0, id;
        if (br_cron_parse(p->schedule, &c, NULL) || br_cron_next(&c, now, &next)) next = 0;
        /* Advanced first, compare-and-set: of two engines that saw it due, one queues. */
        if (br_profile_advance(repo, p->name, p->next_run, next, NULL) != 1) continue;
        if (br_profile_fetch_active(repo, p->name, &active, NULL) != 0) continue;
        br_error err;
        if (br_profile_run(repo, p->name, NULL, 0, &id, &err)) continue;
        br_engine_event(eng, repo, id, "info", "schedule", NULL,
                        "Queued by the schedule of profile %s (%s UTC)", p->name, p->schedule);
        br_engine_wake(eng);
    }
    free(d.p);
}
