/* The job engine: submit, worker threads, runners, cancel, resume, rerun,
 * start-up recovery, progress, completion events and the webhook (engine.h).
 *
 * Concurrency: each worker owns one br_repo (one SQLite connection); the only
 * state shared between threads is the br_engine (its flags under its mutex).
 * A job moves out of PENDING in one UPDATE (br_job_claim), so no two workers
 * run the same job.  A cancel is a flag file (see cancel_flag) that the
 * running job's progress callback looks for (at most every 25 ms) at record
 * boundaries. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>
#include "bulkrepo/engine.h"
#include "bulkrepo/export.h"
#include "bulkrepo/format.h"
#include "bulkrepo/import.h"
#include "core/core.h"
#include "engine_internal.h"
#include "jobs/pipeline.h"
#include "jobs/deliver.h"
#include "jobs/setjob.h"
#include "bulkrepo/setjob.h"
#include "bulkrepo/user.h"
#include "net/fetch.h"

/* ---- runners ------------------------------------------------------------------------ */

/* What start-up recovery does with a job a dead process left running. */
enum { ON_CRASH_RESUME, ON_CRASH_RESTART, ON_CRASH_FAIL };

typedef int (*runner_fn)(br_run *r, br_error *err);

static int run_import(br_run *r, br_error *err);
static int run_export(br_run *r, br_error *err);
static int run_set_job(br_run *r, br_error *err);
static int run_revert(br_run *r, br_error *err);

/* A job type's runner, from the format registry (formats/registry.c): each
 * format's import, validate, delete and export job types.  Type names match
 * data/job_types.tsv. */
struct runner {
    const char *type, *category;
    char default_name[64];
    runner_fn fn;
    int on_crash;
    int has_records; /* its journal lines are input records (unimported download) */
};

/* Jobs that are not a format's: the set jobs' drivers (jobs/setjob.c) and revert.  A set
 * job resumes after its last journaled member; a revert is idempotent and runs again. */
static int other_runner(const char *type, struct runner *out)
{
    br_job_type t;
    if (br_job_type_get(type, &t) || !t.implemented) return 0;
    memset(out, 0, sizeof *out);
    out->type = type;
    if (br_sj_driver(type)) {
        out->category = "set";
        out->fn = run_set_job;
        out->on_crash = ON_CRASH_RESUME;
    } else if (!strcmp(type, "revert")) {
        out->category = "revert";
        out->fn = run_revert;
        out->on_crash = ON_CRASH_RESTART;
    } else if (!strcmp(type, "fetch-profile")) {
        /* A pulling profile's fetch (pull.c): runs again, fetched_file keeps it exactly-once. */
        out->category = "import";
        out->fn = br_pull_run;
        out->on_crash = ON_CRASH_RESTART;
    } else {
        return 0;
    }
    br_strlcpy(out->default_name, t.label, sizeof out->default_name);
    return 1;
}

static int runner_of(const char *type, struct runner *out)
{
    const br_format_info *f = br_format_by_job(type);
    if (!f) return other_runner(type, out);
    memset(out, 0, sizeof *out);
    out->type = type;
    out->category = "import";
    out->fn = run_import;
    const char *what = "import";
    if (f->export_job && !strcmp(type, f->export_job)) {
        out->category = "export";
        out->fn = run_export;
        out->on_crash = ON_CRASH_FAIL;
        what = "export";
    } else if (f->import_job && !strcmp(type, f->import_job)) {
        out->on_crash = ON_CRASH_RESUME;
        out->has_records = 1;
    } else if (f->validate_job && !strcmp(type, f->validate_job)) {
        /* Validation writes nothing, a delete is idempotent: both simply run again. */
        out->on_crash = ON_CRASH_RESTART;
        out->has_records = 1;
        what = "validation";
    } else {
        out->on_crash = ON_CRASH_RESTART;
        what = "delete";
    }
    snprintf(out->default_name, sizeof out->default_name, "%s %s", f->short_label, what);
    return 1;
}

/* Every job type a worker can run. */
static size_t runnable_types(const char **types, size_t max)
{
    size_t n = 0, n_sj = 0;
    for (size_t i = 0; i < br_format_count(); i++) {
        const br_format_info *f = br_format_at(i);
        const char *t[] = {f->import_job, f->validate_job, f->delete_job, f->export_job};
        for (size_t k = 0; k < BR_ARRAY_LEN(t); k++)
            if (t[k] && n < max) types[n++] = t[k];
    }
    struct runner rn;
    for (const sj_driver *d; (d = br_sj_driver_at(n_sj)); n_sj++)
        if (n < max && other_runner(d->type, &rn)) types[n++] = d->type;
    if (n < max && other_runner("revert", &rn)) types[n++] = "revert";
    if (n < max && other_runner("fetch-profile", &rn)) types[n++] = "fetch-profile";
    return n;
}

int br_engine_type_has_records(const char *type)
{
    struct runner rn;
    return runner_of(type, &rn) && rn.has_records;
}

/* ---- the engine ----------------------------------------------------------------------- */

struct br_engine {
    char dir[PATH_MAX];
    br_engine_options opt;
    char *webhook_url;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping; /* under mu */
    int started;
    pthread_t *threads;
    size_t n_threads;
    pthread_t inbox_thread;
    int inbox_running;
    unsigned wake_seq;   /* under mu: bumped by br_engine_wake */
    unsigned alive;      /* under mu: workers started and not ended (health) */
    char worker[192];    /* the name this engine claims jobs in (leases) */
    int64_t running[64]; /* under mu: the jobs this engine's workers run now (0 = free) */
    unsigned claiming;   /* under mu: workers between claiming a job and noting it here */
    pthread_t lease_thread;
    int lease_running;
};

const char *br_engine_worker(const br_engine *eng)
{
    return eng->worker;
}

int br_engine_runs(br_engine *eng, int64_t id)
{
    pthread_mutex_lock(&eng->mu);
    int yes = eng->claiming > 0; /* a job being claimed may be this one: not orphaned yet */
    for (size_t i = 0; !yes && i < BR_ARRAY_LEN(eng->running); i++)
        yes = eng->running[i] == id;
    pthread_mutex_unlock(&eng->mu);
    return yes;
}

/* Notes (id > 0) or forgets (id < 0: -id) a job a worker of this engine runs. */
static void note_running(br_engine *eng, int64_t id, int end_claim)
{
    pthread_mutex_lock(&eng->mu);
    int64_t want = id > 0 ? 0 : -id, put = id > 0 ? id : 0;
    for (size_t i = 0; i < BR_ARRAY_LEN(eng->running); i++)
        if (eng->running[i] == want) {
            eng->running[i] = put;
            break;
        }
    if (end_claim) eng->claiming--;
    pthread_mutex_unlock(&eng->mu);
}

int br_engine_stopping(br_engine *eng)
{
    if (!eng) return 0;
    pthread_mutex_lock(&eng->mu);
    int s = eng->stopping;
    pthread_mutex_unlock(&eng->mu);
    return s;
}

static int engine_wait(br_engine *eng, unsigned ms, int wakeable);

int br_engine_sleep(br_engine *eng, unsigned ms)
{
    return engine_wait(eng, ms, 1);
}

int br_engine_sleep_stop_only(br_engine *eng, unsigned ms)
{
    return engine_wait(eng, ms, 0);
}

/* Waits up to ms, or until stopping (or woken, when wakeable); returns stopping. */
static int engine_wait(br_engine *eng, unsigned ms, int wakeable)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&eng->mu);
    unsigned seq = eng->wake_seq;
    while (!eng->stopping && (!wakeable || seq == eng->wake_seq))
        if (pthread_cond_timedwait(&eng->cv, &eng->mu, &ts) == ETIMEDOUT) break;
    int s = eng->stopping;
    pthread_mutex_unlock(&eng->mu);
    return s;
}

const br_engine_options *br_engine_opts(const br_engine *eng)
{
    return &eng->opt;
}

const char *br_engine_dir(const br_engine *eng)
{
    return eng->dir;
}

void br_engine_wake(br_engine *eng)
{
    if (!eng) return;
    pthread_mutex_lock(&eng->mu);
    eng->wake_seq++;
    pthread_cond_broadcast(&eng->cv);
    pthread_mutex_unlock(&eng->mu);
}

/* ---- events --------------------------------------------------------------------------- */

int br_engine_event(br_engine *eng, br_repo *repo, int64_t job_id, const char *severity,
                    const char *module, const char *creator, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    br_job_event ev = {0};
    ev.job_id = job_id;
    ev.severity = severity;
    ev.module = module;
    ev.creator = creator;
    ev.description = text;
    int rc = br_job_event_add(repo, &ev, NULL);
    if (eng && eng->opt.on_event) {
        br_job job;
        char now[32];
        br_now_iso(now);
        ev.at = now;
        ev.status = !br_job_get(repo, job_id, &job, NULL) ? br_job_status_code(job.status) : NULL;
        ev.creator = creator ? creator : "system";
        eng->opt.on_event(eng->opt.event_ctx, &ev);
    }
    return rc;
}

/* ---- submitting ------------------------------------------------------------------------ */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Copies (or, with move, renames) src to dst; a hard link first, as it costs nothing. */
static int place_file(const char *src, const char *dst, int move, br_error *err)
{
    if (move && !rename(src, dst)) return 0;
    if (!link(src, dst)) {
        if (move) unlink(src);
        return 0;
    }
    int rc = br_copy_file(src, dst, err);
    if (!rc && move) unlink(src);
    return rc;
}

static int upload_dir(const char *repo_dir, int64_t id, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/uploads/%lld", repo_dir, (long long)id);
    return n < 0 || (size_t)n >= size ? BR_ELIMIT : 0;
}

/* Moves the subfolders of from into to (both on the repository's file system). */
static int place_folders(const char *from, const char *to, br_error *err)
{
    DIR *d = opendir(from);
    if (!d) return br_error_set(err, BR_EIO, from, 0, 0, "cannot read: %s", strerror(errno));
    int rc = 0;
    struct dirent *e;
    char a[PATH_MAX], b[PATH_MAX];
    while (!rc && (e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
            !S_ISDIR(st.st_mode))
            continue;
        if (br_path_join(a, sizeof a, from, e->d_name) || br_path_join(b, sizeof b, to, e->d_name))
            rc = br_error_set(err, BR_ELIMIT, from, 0, 0, "path too long");
        else if (rename(a, b))
            rc = br_error_set(err, BR_EIO, a, 0, 0, "cannot place the folder: %s", strerror(errno));
    }
    closedir(d);
    return rc;
}

int br_job_submit_ext(br_repo *repo, const br_job_spec *spec, const br_job_submit_extra *x,
                      int64_t *id, br_error *err)
{
    *id = 0;
    if (!spec || !spec->type) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a job needs a type");
    struct runner rs, *rn = runner_of(spec->type, &rs) ? &rs : NULL;
    if (!rn)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "job type '%s' cannot be run (yet)",
                            spec->type);
    json_error_t jerr;
    json_t *params = json_loads(spec->params && *spec->params ? spec->params : "{}", 0, &jerr);
    if (!json_is_object(params)) {
        json_decref(params);
        return br_error_set(err, BR_EUSAGE, "params", jerr.line, jerr.column,
                            "the job parameters must be a JSON object%s%s", params ? "" : ": ",
                            params ? "" : jerr.text);
    }
    char *ptext = json_dumps(params, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_t *target = json_object_get(params, "job");
    int64_t revert_of = json_is_integer(target) ? (int64_t)json_integer_value(target) : 0;
    json_decref(params);
    if (!ptext) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    /* A set job or a revert is checked before it exists: a bad parameter, an unknown set or
     * a job with nothing to revert is the caller's error, not a failed job. */
    int bad = rn->fn == run_set_job  ? br_set_job_check(repo, spec->type, ptext, err)
              : rn->fn != run_revert ? 0
              : revert_of <= 0
                  ? br_error_set(err, BR_EUSAGE, "job", 0, 0, "a revert needs \"job\": a job id")
                  : br_job_revertible(repo, revert_of, err);
    /* An export's destination (issue 17): an unknown S/FTP configuration or a sub-directory
     * that leaves its root is the caller's error, before any job exists. */
    if (bad >= 0) {
        int dbad = br_deliver_check(repo, rn->category, ptext, spec->eperson, err);
        if (dbad < 0) bad = dbad;
    }
    if (rn->fn == run_revert && bad == 0)
        bad = br_error_set(err, BR_EUSAGE, "job", 0, 0,
                           "job %lld cannot be reverted: it has not ended or changed no record",
                           (long long)revert_of);
    if (bad < 0) {
        free(ptext);
        return bad;
    }
    br_job job;
    memset(&job, 0, sizeof job);
    if (strlen(ptext) >= sizeof job.params) {
        free(ptext);
        return br_error_set(err, BR_ELIMIT, "params", 0, 0,
                            "the job parameters are too long (%zu bytes at most)",
                            sizeof job.params - 1);
    }
    br_strlcpy(job.params, ptext, sizeof job.params);
    free(ptext);
    for (size_t i = 0; i < spec->n_files; i++) {
        const char *b = base_name(spec->files[i]);
        if (!br_is_file(spec->files[i]))
            return br_error_set(err, BR_ENOTFOUND, spec->files[i], 0, 0, "no such input file");
        if (!*b || br_path_unsafe(b))
            return br_error_set(err, BR_EUSAGE, spec->files[i], 0, 0, "unsafe input file name");
    }
    br_strlcpy(job.type, rn->type, sizeof job.type);
    br_strlcpy(job.category, rn->category, sizeof job.category);
    br_strlcpy(job.name, spec->name && *spec->name ? spec->name : rn->default_name,
               sizeof job.name);
    br_strlcpy(job.eperson, spec->eperson ? spec->eperson : "", sizeof job.eperson);
    if (x) {
        job.rerun_of = x->rerun_of;
        job.resume = x->resume;
        br_strlcpy(job.profile, x->profile ? x->profile : "", sizeof job.profile);
        if (x->input) br_strlcpy(job.input, x->input, sizeof job.input);
        job.parent_job = x->parent_job;
    }

    /* Files go to a private scratch folder first, so the database's write lock
     * is not held while they are copied; the folder becomes uploads/<id> in the
     * transaction that makes the job visible to workers. */
    char scratch[PATH_MAX] = "", dest[PATH_MAX], path[PATH_MAX];
    int rc = 0, in_tx = 0, placed = 0;
    if (spec->n_files) {
        if ((rc = br_repo_mktemp(repo, "upload", scratch, sizeof scratch, err))) return rc;
        for (size_t i = 0; i < spec->n_files && !rc; i++) {
            if (br_path_join(path, sizeof path, scratch, base_name(spec->files[i])))
                rc = br_error_set(err, BR_ELIMIT, spec->files[i], 0, 0, "path too long");
            else
                rc = place_file(spec->files[i], path, spec->move_files, err);
        }
        if (!rc && spec->folders) rc = place_folders(spec->folders, scratch, err);
        if (rc) goto done;
    }
    if ((rc = br_repo_begin(repo, err))) goto done;
    in_tx = 1;
    if ((rc = br_job_enqueue(repo, &job, err))) goto done;
    if (spec->n_files) {
        char uploads[PATH_MAX];
        snprintf(uploads, sizeof uploads, "%s/uploads", br_repo_dir(repo));
        if ((rc = br_mkdir_p(uploads, err))) goto done;
        if ((rc = upload_dir(br_repo_dir(repo), job.id, dest, sizeof dest))) {
            rc = br_error_set(err, rc, NULL, 0, 0, "path too long");
            goto done;
        }
        /* A folder of this id can only be a leftover of a rolled-back submit. */
        if (br_is_dir(dest)) br_rmtree(dest);
        if (rename(scratch, dest)) {
            rc = br_error_set(err, BR_EIO, dest, 0, 0, "cannot place the uploads: %s",
                              strerror(errno));
            goto done;
        }
        placed = 1;
        for (size_t i = 0; i < spec->n_files && !rc; i++) {
            const char *b = base_name(spec->files[i]);
            struct stat sb;
            br_path_join(path, sizeof path, dest, b);
            if (stat(path, &sb)) {
                rc = br_error_set(err, BR_EIO, path, 0, 0, "cannot stat: %s", strerror(errno));
                break;
            }
            char created[32];
            struct tm tm;
            gmtime_r(&sb.st_mtime, &tm);
            strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
            br_job_file f = {b, path, (int64_t)sb.st_size, created, -1, "pending", NULL};
            rc = br_job_file_add(repo, job.id, &f, err);
        }
        if (!rc && !job.input[0]) {
            br_path_join(path, sizeof path, dest, base_name(spec->files[0]));
            rc = br_job_set_input(repo, job.id, path, err);
        }
        if (rc) goto done;
    } else if (!job.input[0]) {
        /* What the job reads, for the monitor: a folder, a zip or the exported object. */
        json_t *p = json_loads(job.params, 0, &jerr);
        const char *src = json_string_value(json_object_get(p, "source"));
        const char *zip = json_string_value(json_object_get(p, "zip"));
        const char *obj = json_string_value(json_object_get(p, "id"));
        const char *map = json_string_value(json_object_get(p, "mapfile"));
        if (!strcmp(rn->category, "export") && obj)
            snprintf(path, sizeof path, "%s", obj);
        else if (src)
            snprintf(path, sizeof path, "%s%s%s", src,
                     zip && strcmp(rn->category, "export") ? "/" : "",
                     zip && strcmp(rn->category, "export") ? zip : "");
        else
            snprintf(path, sizeof path, "%s", map ? map : "");
        json_decref(p);
        if (path[0] && (rc = br_job_set_input(repo, job.id, path, err))) goto done;
    }
    char ev[512];
    snprintf(ev, sizeof ev, "Job submitted (%s)%s", job.type,
             x && x->rerun_of ? " as a rerun" : "");
    br_job_event e = {0, job.id, NULL, "info", NULL, "engine", spec->eperson, ev};
    if ((rc = br_job_event_add(repo, &e, err))) goto done;
    if ((rc = br_repo_commit(repo, err))) goto done;
    in_tx = 0;
    *id = job.id;
done:
    if (in_tx) br_repo_rollback(repo);
    if (rc && placed) br_rmtree(dest);
    if (rc && scratch[0] && br_is_dir(scratch)) br_rmtree(scratch);
    return rc;
}

int br_job_submit(br_repo *repo, const br_job_spec *spec, int64_t *id, br_error *err)
{
    return br_job_submit_ext(repo, spec, NULL, id, err);
}

/* ---- cancel, resume, rerun ---------------------------------------------------------------- */

/* A cancel request reaches the worker as a flag file, <repo>/run/cancel/<id>:
 * a running import holds SQLite's write lock almost all the time, and the
 * request may come from another process (`job cancel` while `serve` runs),
 * which the write gate does not reach.  The worker checks the file, never the
 * row: inside its import transaction the row's cancel_requested would show
 * what it was when the batch began.  The row is set too when the lock is free
 * within a moment, for the monitor and to end a PENDING job at once. */
static int cancel_flag(const char *repo_dir, int64_t id, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/run/cancel/%lld", repo_dir, (long long)id);
    return n < 0 || (size_t)n >= size ? BR_ELIMIT : 0;
}

int br_job_cancel(br_repo *repo, int64_t id, br_error *err)
{
    br_job job;
    int rc = br_job_get(repo, id, &job, err);
    if (rc) return rc;
    if (br_job_status_ended(job.status))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "job %lld has already ended (%s)",
                            (long long)id, br_job_status_label(job.status));
    char flag[PATH_MAX], dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/run/cancel", br_repo_dir(repo));
    if (cancel_flag(br_repo_dir(repo), id, flag, sizeof flag) || br_mkdir_p(dir, err))
        return br_error_set(err, BR_EIO, dir, 0, 0, "cannot record the cancel request");
    if ((rc = br_write_file_atomic(flag, "", 0, err))) return rc;
    br_job_status now;
    if (br_job_request_cancel(repo, id, &now, NULL)) return 0; /* busy: the flag carries it */
    if (now == BR_JOB_USER_ABORTED) unlink(flag); /* it never started: nobody will read it */
    br_job_event e = {0,
                      id,
                      NULL,
                      "warning",
                      NULL,
                      "engine",
                      job.eperson,
                      now == BR_JOB_USER_ABORTED ? "Cancelled by user before it started"
                                                 : "Cancel requested: stopping at the next record"};
    br_job_event_add(repo, &e, NULL);
    /* A job that ends here (it never started) gets its job-end mail here too. */
    if (now == BR_JOB_USER_ABORTED) br_notify_run(NULL, repo, id, 0, NULL);
    return 0;
}

int br_job_resume(br_repo *repo, int64_t id, br_error *err)
{
    br_job job;
    int rc = br_job_get(repo, id, &job, err);
    if (rc) return rc;
    struct runner rs, *rn = runner_of(job.type, &rs) ? &rs : NULL;
    json_error_t jerr;
    json_t *p = json_loads(job.params, 0, &jerr);
    const char *mode = json_string_value(json_object_get(p, "mode"));
    int add = !mode || !strcmp(mode, "add");
    json_decref(p);
    if (!rn || rn->on_crash != ON_CRASH_RESUME || !add)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "job %lld (%s) cannot be resumed; only imports that add records can",
                            (long long)id, job.type);
    if (!(job.status == BR_JOB_USER_ABORTED || job.status == BR_JOB_MANUAL_HANDLING_REQUIRED ||
          (job.status == BR_JOB_FAILED && !strcmp(job.failure, BR_FAILURE_INTERRUPTED))))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "job %lld is %s; only an aborted or interrupted import, or one "
                            "waiting for an operator's choices, is resumed",
                            (long long)id, br_job_status_label(job.status));
    char flag[PATH_MAX];
    if (!cancel_flag(br_repo_dir(repo), id, flag, sizeof flag)) unlink(flag); /* an old request */
    if ((rc = br_job_requeue(repo, id, 1, err))) return rc;
    br_job_event e = {0,    id,       NULL, "info",
                      NULL, "engine", NULL, "Resumed: queued to finish from its journal"};
    return br_job_event_add(repo, &e, err);
}

typedef struct file_list {
    char **paths;
    size_t n, cap;
} file_list;

static int collect_file(void *ctx, const br_job_file *f)
{
    file_list *l = ctx;
    if (br_grow((void **)&l->paths, &l->cap, l->n + 1, sizeof *l->paths)) return 1;
    if (!(l->paths[l->n] = strdup(f->path))) return 1;
    l->n++;
    return 0;
}

int br_job_rerun(br_repo *repo, int64_t id, int64_t *new_id, br_error *err)
{
    *new_id = 0;
    br_job job;
    int rc = br_job_get(repo, id, &job, err);
    if (rc) return rc;
    if (job.status != BR_JOB_FAILED)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "job %lld is %s; only a failed job is rerun", (long long)id,
                            br_job_status_label(job.status));
    if (!job.failure[0] || !strcmp(job.failure, BR_FAILURE_DATA))
        return br_error_set(
            err, BR_EINVAL, NULL, 0, 0,
            "job %lld failed because of its data (%s): fix the file and import it again",
            (long long)id, job.message[0] ? job.message : "invalid input");
    file_list files = {0};
    if ((rc = br_job_files(repo, id, collect_file, &files, err))) goto done;
    for (size_t i = 0; i < files.n; i++)
        if (!br_is_file(files.paths[i])) {
            rc = br_error_set(err, BR_ENOTFOUND, files.paths[i], 0, 0,
                              "the input file of job %lld is gone; submit it again", (long long)id);
            goto done;
        }
    br_job_spec spec = {
        job.type, job.name, job.eperson, job.params, (const char *const *)files.paths,
        files.n,  0,        NULL};
    br_job_submit_extra x = {id, 0, job.profile[0] ? job.profile : NULL, files.n ? NULL : job.input,
                             job.parent_job};
    rc = br_job_submit_ext(repo, &spec, &x, new_id, err);
    if (!rc) {
        char text[128];
        snprintf(text, sizeof text, "Rerun as job %lld", (long long)*new_id);
        br_job_event e = {0, id, NULL, "info", NULL, "engine", NULL, text};
        rc = br_job_event_add(repo, &e, err);
    }
done:
    for (size_t i = 0; i < files.n; i++)
        free(files.paths[i]);
    free(files.paths);
    return rc;
}

/* ---- progress ---------------------------------------------------------------------------------
 */

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The runners' br_progress_fn: looks for the cancel flag file at most every
 * 25 ms; nonzero stops the run at this record boundary.  The runs record
 * their progress in the job themselves (jobs/meter.c). */
static int on_progress(void *ctx, const char *phase, size_t done, size_t total)
{
    br_run *r = ctx;
    double now = mono_now();
    if (strcmp(phase, r->phase)) {
        br_strlcpy(r->phase, phase, sizeof r->phase);
        r->phase_start = now;
        r->phase_done0 = done ? done - 1 : 0;
    }
    if (now - r->last_check >= 0.025) {
        r->last_check = now;
        char flag[PATH_MAX];
        if (br_engine_stopping(r->eng))
            r->stop = BR_STOP_ENGINE;
        else if (!cancel_flag(br_repo_dir(r->repo), r->job.id, flag, sizeof flag) &&
                 !access(flag, F_OK))
            r->stop = BR_STOP_USER;
    }
    r->last_done = done;
    r->last_total = total;
    return r->stop != 0;
}

/* ---- the runners ---------------------------------------------------------------------------- */

static int param_bool(json_t *p, const char *key)
{
    json_t *v = json_object_get(p, key);
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v)) ||
           (json_is_string(v) &&
            (!strcmp(json_string_value(v), "true") || !strcmp(json_string_value(v), "1") ||
             !strcmp(json_string_value(v), "on")));
}

static const char *param_str(json_t *p, const char *key)
{
    return json_string_value(json_object_get(p, key));
}

static int first_file(void *ctx, const br_job_file *f)
{
    br_strlcpy(ctx, f->path, PATH_MAX);
    return 1;
}

/* The buffers an import job's options point into. */
typedef struct import_paths {
    char file[PATH_MAX], root[PATH_MAX], map[PATH_MAX];
} import_paths;

/* An import job's options from its params and files, as its run and its chunks' workers
 * have them (the mapfile in the job's upload folder unless the job names one). */
static int import_options(br_run *r, br_import_params *ip, import_paths *p, br_error *err)
{
    int rc = br_import_params_from_json(r->job.type, r->params, ip, err);
    if (rc) return rc;
    br_import_options *o = &ip->opt;
    o->eperson = r->job.eperson;
    o->name = r->job.name;
    o->job_id = r->job.id;
    o->resume = r->resume;
    o->progress = on_progress;
    o->progress_ctx = r;
    if (r->eng) {
        unsigned chunk = br_engine_opts(r->eng)->chunk_records;
        o->chunk_size = chunk == UINT_MAX ? 0 : chunk ? chunk : br_repo_chunk_records(r->repo);
        o->worker = br_engine_worker(r->eng);
        o->lease_seconds = br_engine_lease_seconds(r->eng);
    }
    char *file = p->file, *root = p->root, *map = p->map;
    file[0] = 0;
    if ((rc = br_job_files(r->repo, r->job.id, first_file, file, err))) return rc;
    if (file[0] && o->mode == BR_IMPORT_DELETE) {
        o->mapfile = file;
    } else if (file[0]) {
        /* An uploaded input (a zip, a CSV): it may only name files uploaded
         * with it, never the server's own (an input given by path on this
         * host keeps the CLI's trust). */
        o->source = file;
        o->zip = NULL;
        br_strlcpy(root, file, PATH_MAX);
        *strrchr(root, '/') = 0;
        o->files_root = root;
    }
    if (!o->mapfile) {
        if ((rc = upload_dir(br_repo_dir(r->repo), r->job.id, map, PATH_MAX)) ||
            br_mkdir_p(map, err))
            return rc ? br_error_set(err, rc, NULL, 0, 0, "path too long") : BR_EIO;
        size_t n = strlen(map);
        if (br_strlcpy(map + n, "/mapfile", PATH_MAX - n) >= PATH_MAX - n)
            return br_error_set(err, BR_ELIMIT, map, 0, 0, "path too long");
        o->mapfile = map;
    }
    return 0;
}

static int run_import(br_run *r, br_error *err)
{
    br_import_params ip;
    import_paths paths;
    int rc = import_options(r, &ip, &paths, err);
    if (rc) return rc;
    br_import_options *o = &ip.opt;
    const br_format_info *fi = br_format_by_job(r->job.type);
    r->validate_only = o->validate_only;
    const char *map = o->mapfile;
    if (map == paths.map) {
        /* A fresh (not resumed) run writes a new mapfile. */
        if (!o->resume && !o->validate_only && o->mode == BR_IMPORT_ADD && unlink(map) &&
            errno != ENOENT)
            return br_error_set(err, BR_EIO, map, 0, 0, "cannot remove the old mapfile: %s",
                                strerror(errno));
    }
    br_diag_sink sink = {NULL, NULL, 0, 0, 0}; /* counted; the journal keeps every finding */
    o->diags = &sink;
    br_import_result res;
    memset(&res, 0, sizeof res);
    rc = br_import(r->repo, fi->name, o, &res, err);
    r->records = (int64_t)res.total;
    if (sink.errors || sink.warnings)
        br_engine_event(
            r->eng, r->repo, r->job.id, sink.errors ? "error" : "warning", "import", NULL,
            "Validation: %zu error%s, %zu warning%s (see the records of the report)", sink.errors,
            sink.errors == 1 ? "" : "s", sink.warnings, sink.warnings == 1 ? "" : "s");
    return rc;
}

/* An idle worker's share of another worker's import: chunk ch (claimed in this engine's
 * name), then the job's next free ones (import.h's br_import_chunks).  The job's own run
 * records its outcome; a failure here is the job's event, and the chunk goes back. */
static void run_chunks(br_engine *eng, br_repo *repo, const br_job_chunk *ch)
{
    br_run r;
    memset(&r, 0, sizeof r);
    r.eng = eng;
    r.repo = repo;
    r.resume = 1;
    br_error err;
    br_error_clear(&err);
    json_error_t jerr;
    br_import_params ip;
    import_paths paths;
    const br_format_info *fi = NULL;
    int rc = br_job_get(repo, ch->job_id, &r.job, &err);
    if (!rc && !(r.params = json_loads(r.job.params[0] ? r.job.params : "{}", 0, &jerr)))
        rc = br_error_set(&err, BR_EUSAGE, "params", 0, 0, "the job's parameters are not JSON");
    if (!rc && !(fi = br_format_by_job(r.job.type)))
        rc = br_error_set(&err, BR_EUSAGE, NULL, 0, 0, "job type '%s' has no chunks", r.job.type);
    if (!rc) rc = import_options(&r, &ip, &paths, &err);
    if (!rc) {
        br_engine_event(eng, repo, ch->job_id, "info", "engine", NULL,
                        "%s writes chunks of it, from chunk %lld (records %lld to %lld)",
                        eng->worker, (long long)ch->n + 1, (long long)ch->first + 1,
                        (long long)ch->end);
        rc = br_import_chunks(repo, fi->name, &ip.opt, ch, &err);
    } else {
        br_job_chunk_release(repo, ch, eng->worker, NULL);
    }
    if (rc && rc != BR_ECANCELLED) {
        char msg[1200];
        br_error_format(&err, msg, sizeof msg);
        br_engine_event(eng, repo, ch->job_id, "warning", "engine", NULL,
                        "%s stopped writing chunks of it: %s", eng->worker, msg);
    }
    json_decref(r.params);
}

static int run_export(br_run *r, br_error *err)
{
    json_t *p = r->params;
    const br_format_info *fi = br_format_by_job(r->job.type);
    br_export_options o;
    memset(&o, 0, sizeof o);
    const char *scope = param_str(p, "scope");
    o.scope = scope && !strcmp(scope, "item")  ? BR_EXPORT_ITEM
              : scope && !strcmp(scope, "all") ? BR_EXPORT_ALL
                                               : BR_EXPORT_COLLECTION;
    o.id = param_str(p, "id");
    if (param_str(p, "set")) { /* a set job's export (Run a Job): the set's members */
        o.scope = BR_EXPORT_SET;
        o.id = param_str(p, "set");
    }
    if (!o.id && o.scope != BR_EXPORT_ALL)
        return br_error_set(err, BR_EUSAGE, "params", 0, 0,
                            "an export needs \"id\": the handle to export");
    char dest[PATH_MAX];
    o.dest = param_str(p, "dest");
    if (!o.dest) {
        snprintf(dest, sizeof dest, "%s/exports/%lld", br_repo_dir(r->repo), (long long)r->job.id);
        if (br_mkdir_p(dest, err)) return BR_EIO;
        /* A format written as one file goes into that folder under the
         * format's own name (it must not exist yet). */
        if (fi->export_file) {
            size_t n = strlen(dest);
            snprintf(dest + n, sizeof dest - n, "/%s", fi->export_file);
        }
        o.dest = dest;
    }
    json_t *seq = json_object_get(p, "seq");
    o.seq = json_is_integer(seq) ? (long)json_integer_value(seq) : 1;
    o.migrate = param_bool(p, "migrate");
    o.exclude_bitstreams = param_bool(p, "exclude_bitstreams");
    /* Selective export (seed 000): "fields" as a comma-separated list or an array. */
    char fields_buf[4096];
    const char *fv[256];
    json_t *fl = json_object_get(p, "fields");
    if (json_is_string(fl) && *json_string_value(fl)) {
        br_strlcpy(fields_buf, json_string_value(fl), sizeof fields_buf);
        for (char *s = fields_buf, *e; s && *s && o.n_fields < BR_ARRAY_LEN(fv); s = e) {
            e = strchr(s, ',');
            if (e) *e++ = 0;
            fv[o.n_fields++] = br_trim(s);
        }
        o.fields = fv;
    }
    o.zip = param_str(p, "zip");
    o.eperson = r->job.eperson;
    o.job_id = r->job.id;
    o.progress = on_progress;
    o.progress_ctx = r;
    o.then_finalize = param_str(p, "deliver") != NULL; /* the delivery step ends the job */
    br_export_result res;
    memset(&res, 0, sizeof res);
    int rc = br_export(r->repo, fi->name, &o, &res, err);
    r->records = (int64_t)res.items;
    /* The delivery step records its own outcome and the job's final status (jobs/deliver.c);
     * its error counts only when it could not record them (the job then ends Failed here). */
    if (!rc) rc = br_deliver_run(r->eng, r->repo, r->job.id, err);
    return rc;
}

static int run_set_job(br_run *r, br_error *err)
{
    return br_sj_run(r->repo, &r->job, r->params, r->resume, on_progress, r, &r->records, err);
}

static int run_revert(br_run *r, br_error *err)
{
    return br_revert_run(r->repo, &r->job, r->params, on_progress, r, &r->records, err);
}

/* ---- running a claimed job ------------------------------------------------------------------- */

/* POSTs the job's JSON to the webhook; failures become a warning event. */
static void post_webhook(br_engine *eng, br_repo *repo, int64_t id)
{
    if (!eng || !eng->webhook_url) return;
    char *body = NULL;
    if (br_job_to_json(repo, id, 0, &body, NULL)) return;
    /* Through the fetch policy: no loopback or private address unless the
     * repository allows it (fetch-allow.txt), checked on every hop. */
    long status = 0;
    br_error err;
    int rc = br_fetch_post(eng->dir, eng->webhook_url, "application/json", body,
                           (long)(eng->opt.webhook_timeout_ms ? eng->opt.webhook_timeout_ms : 5000),
                           &status, &err);
    free(body);
    if (rc || status < 200 || status >= 300)
        br_engine_event(eng, repo, id, "warning", "webhook", NULL, "Webhook POST to %s failed: %s",
                        eng->webhook_url, rc ? err.message : "non-2xx answer");
}

static int update_file(void *ctx, const br_job_file *f)
{
    br_run *r = ctx;
    br_job *j = &r->job;
    const char *status = j->status == BR_JOB_COMPLETED_SUCCESS ||
                                 j->status == BR_JOB_COMPLETED_WITH_ERRORS ||
                                 j->status == BR_JOB_COMPLETED_NO_BULKS
                             ? "processed"
                             : "rejected";
    char problems[1200] = "";
    if (j->message[0] && j->status != BR_JOB_COMPLETED_SUCCESS)
        snprintf(problems, sizeof problems, "%s", j->message);
    else if (j->counters.not_imported)
        snprintf(problems, sizeof problems, "%lld records not imported",
                 (long long)j->counters.not_imported);
    br_job_file_update(r->repo, j->id, f->name, j->total ? j->total : r->records, status,
                       problems[0] ? problems : NULL, NULL);
    return 0;
}

int br_engine_run_claimed(br_engine *eng, br_repo *repo, const br_job *claimed)
{
    br_run r;
    memset(&r, 0, sizeof r);
    r.eng = eng;
    r.repo = repo;
    r.job = *claimed;
    r.resume = claimed->resume;
    struct runner rs, *rn = runner_of(claimed->type, &rs) ? &rs : NULL;
    br_error err;
    br_error_clear(&err);
    int rc;
    json_error_t jerr;
    r.params = json_loads(claimed->params[0] ? claimed->params : "{}", 0, &jerr);
    br_engine_event(eng, repo, claimed->id, "info", "engine", NULL, "%s by a worker%s",
                    r.resume ? "Resumed" : "Started", r.resume ? " from its journal" : "");
    /* A rerun of an import first carries what the failed run stored. */
    if (rn && rn->on_crash == ON_CRASH_RESUME && claimed->rerun_of && !claimed->resume) {
        if (!(rc = br_job_journal_carry(repo, claimed->rerun_of, claimed->id, &err))) r.resume = 1;
    }
    char flag[PATH_MAX];
    int cancelled =
        !cancel_flag(br_repo_dir(repo), claimed->id, flag, sizeof flag) && !access(flag, F_OK);
    if (cancelled)
        rc = br_error_set(&err, BR_ECANCELLED, NULL, 0, 0, "cancelled before it started");
    else if (!rn)
        rc =
            br_error_set(&err, BR_EUSAGE, NULL, 0, 0, "job type '%s' cannot be run", claimed->type);
    else if (!r.params)
        rc = br_error_set(&err, BR_EUSAGE, "params", 0, 0, "the job's parameters are not JSON");
    else
        rc = rn->fn(&r, &err);

    br_job j;
    char msg[1200] = "";
    if (rc) {
        br_error_format(&err, msg, sizeof msg);
        br_repo_reset(repo); /* a transaction the failure left open (one a lost connection took) */
    }
    if (br_job_get(repo, claimed->id, &j, NULL)) goto out;
    /* The runner records the job's outcome itself; once that status is visible
     * a user may resume the job (an import cancelled by the user), which puts
     * it back in the queue, and another worker may already have claimed it
     * (attempt counts the claims).  Then it belongs to that run: writing our
     * outcome now would overwrite the resumed run's status. */
    if (j.status == BR_JOB_PENDING || j.attempt != claimed->attempt) goto out;
    /* Stopped with the engine, or cut off from the database (PostgreSQL restarted): as after
     * a crash, the job continues in its next run, here or on another worker. */
    int lost = rc == BR_ELOST || err.code == BR_ELOST;
    if (r.stop == BR_STOP_ENGINE || lost) {
        const char *why =
            lost ? "The connection to the database was lost" : "Stopped with the engine";
        if (rn && rn->on_crash != ON_CRASH_FAIL) {
            br_job_requeue(repo, j.id, rn->on_crash == ON_CRASH_RESUME, NULL);
            br_engine_event(eng, repo, j.id, "warning", "engine", NULL, "%s%s%s; queued to %s", why,
                            lost ? ": " : "", lost ? msg : "",
                            rn->on_crash == ON_CRASH_RESUME ? "resume" : "run again");
        } else {
            br_job_fail(repo, j.id,
                        lost ? "interrupted: the connection to the database was lost"
                             : "interrupted: the engine stopped",
                        BR_FAILURE_INTERRUPTED, NULL);
            br_engine_event(eng, repo, j.id, "error", "engine", NULL, "Interrupted: %s%s%s",
                            lost ? "the connection to the database was lost" : "the engine stopped",
                            lost ? ": " : "", lost ? msg : "");
        }
        goto out;
    }
    if (!br_job_status_ended(j.status) ||
        (rc == BR_ECANCELLED && j.status != BR_JOB_USER_ABORTED)) {
        /* The runner failed before it could record an outcome. */
        br_job_status st = rc == BR_ECANCELLED ? BR_JOB_USER_ABORTED
                           : rc                ? BR_JOB_FAILED
                                               : BR_JOB_COMPLETED_SUCCESS;
        if (st == BR_JOB_FAILED)
            br_job_fail(repo, j.id, msg[0] ? msg : NULL, br_job_failure_of(rc), NULL);
        else
            br_job_set_status(repo, j.id, st, msg[0] ? msg : NULL, NULL);
    }
    br_job_get(repo, claimed->id, &j, NULL);
    r.job = j;
    br_job_files(repo, j.id, update_file, &r, NULL);
    unlink(flag);
    const br_job_counters *k = &j.counters;
    const char *sev = j.status == BR_JOB_COMPLETED_SUCCESS || j.status == BR_JOB_COMPLETED_NO_BULKS
                          ? "info"
                      : j.status == BR_JOB_FAILED ? "error"
                                                  : "warning";
    br_engine_event(
        eng, repo, j.id, sev, "engine", NULL,
        "Job ended: %s. %lld processed, %lld imported, %lld updated, %lld deleted, %lld not "
        "imported%s%s",
        br_job_status_label(j.status), (long long)k->processed, (long long)k->imported,
        (long long)k->updated, (long long)k->deleted, (long long)k->not_imported,
        j.message[0] && j.status != BR_JOB_COMPLETED_SUCCESS ? ". " : "",
        j.message[0] && j.status != BR_JOB_COMPLETED_SUCCESS ? j.message : "");
    post_webhook(eng, repo, j.id);
    br_notify_run(eng, repo, j.id, 0, NULL); /* the job-end mail (jobs/notify.c) */
    if (j.profile[0]) br_inbox_finish(eng, repo, &j);
out:
    json_decref(r.params);
    return rc;
}

/* ---- recovery
 * ------------------------------------------------------------------------------------ */

typedef struct recover_ctx {
    br_repo *repo;
    size_t n;
} recover_ctx;

static int recover_one(void *ctx, const br_job *j)
{
    recover_ctx *c = ctx;
    struct runner rs, *rn = runner_of(j->type, &rs) ? &rs : NULL;
    json_error_t jerr;
    json_t *p = json_loads(j->params, 0, &jerr);
    const char *mode = json_string_value(json_object_get(p, "mode"));
    int on_crash = rn ? rn->on_crash : ON_CRASH_FAIL;
    if (on_crash == ON_CRASH_RESUME && mode && strcmp(mode, "add")) on_crash = ON_CRASH_FAIL;
    json_decref(p);
    br_job_event e = {0, j->id, NULL, "warning", NULL, "engine", NULL, NULL};
    if (on_crash == ON_CRASH_FAIL) {
        br_job_fail(c->repo, j->id,
                    "interrupted: the process running it stopped (found at start-up)",
                    BR_FAILURE_INTERRUPTED, NULL);
        br_notify_run(NULL, c->repo, j->id, 0, NULL); /* it ends here: its job-end mail */
        e.severity = "error";
        e.description = "Interrupted: the process running it stopped; marked failed (rerun it)";
    } else {
        br_job_requeue(c->repo, j->id, on_crash == ON_CRASH_RESUME, NULL);
        e.description = on_crash == ON_CRASH_RESUME
                            ? "Interrupted: queued to resume from its journal"
                            : "Interrupted: queued to run again";
    }
    br_job_event_add(c->repo, &e, NULL);
    c->n++;
    return 0;
}

int br_engine_recover_job(br_engine *eng, br_repo *repo, int64_t id, const char *worker)
{
    br_job j;
    if (br_job_get(repo, id, &j, NULL)) return BR_ESTORE;
    recover_ctx c = {repo, 0};
    br_engine_event(eng, repo, id, "warning", "engine", NULL,
                    "Taken over by %s: its worker %s stopped", br_engine_worker(eng),
                    worker ? worker : "(unnamed)");
    return recover_one(&c, &j);
}

int br_engine_recover(br_repo *repo, size_t *recovered, br_error *err)
{
    recover_ctx c = {repo, 0};
    int rc = br_job_list_unfinished(repo, recover_one, &c, err);
    if (!rc) rc = br_inbox_recover(repo, err);
    /* Start-up is also when the trash's time comes (seed 001's deleted assets, kept for their
     * delete job's keep_days); a Delete Set job purges too. */
    if (!rc) rc = br_trash_purge(repo, (int64_t)time(NULL), NULL, err);
    if (recovered) *recovered = c.n;
    return rc;
}

/* ---- workers
 * --------------------------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
    br_engine *eng = arg;
    br_repo *repo = NULL;
    if (br_repo_open(eng->dir, &repo, NULL)) { /* a dead worker: health says so */
        pthread_mutex_lock(&eng->mu);
        eng->alive--;
        pthread_mutex_unlock(&eng->mu);
        return NULL;
    }
    br_repo_set_write_gate(repo, eng->opt.write_gate);
    const char *types[64];
    size_t n_types = runnable_types(types, BR_ARRAY_LEN(types));
    unsigned poll = eng->opt.queue_poll_ms ? eng->opt.queue_poll_ms : 250;
    while (!br_engine_stopping(eng)) {
        br_job job;
        pthread_mutex_lock(&eng->mu);
        eng->claiming++;
        pthread_mutex_unlock(&eng->mu);
        int got =
            br_job_claim_as(repo, types, n_types, eng->worker, (int64_t)time(NULL), &job, NULL);
        if (got == 1) {
            note_running(eng, job.id, 1);
            br_engine_run_claimed(eng, repo, &job);
            note_running(eng, -job.id, 0);
            br_repo_reset(repo); /* no transaction outlives its job (a failed one, a lost one) */
            continue;
        }
        note_running(eng, 0, 1); /* nothing claimed: only ends the claim */
        /* No job waits: a chunk of another worker's import may. */
        br_job_chunk ch;
        int64_t now = (int64_t)time(NULL);
        if (br_job_chunk_claim(repo, 0, eng->worker, now,
                               now - (int64_t)br_engine_lease_seconds(eng), &ch, NULL) == 1) {
            run_chunks(eng, repo, &ch);
            br_repo_reset(repo);
            continue;
        }
        br_engine_sleep(eng, poll);
    }
    pthread_mutex_lock(&eng->mu);
    eng->alive--;
    pthread_mutex_unlock(&eng->mu);
    br_repo_free(repo);
    return NULL;
}

int br_engine_alive(br_engine *eng, unsigned *alive, unsigned *workers)
{
    if (!eng) return BR_EUSAGE;
    pthread_mutex_lock(&eng->mu);
    if (alive) *alive = eng->alive;
    if (workers) *workers = (unsigned)eng->n_threads;
    pthread_mutex_unlock(&eng->mu);
    return 0;
}

int br_engine_new(const char *repo_dir, const br_engine_options *opt, br_engine **out,
                  br_error *err)
{
    *out = NULL;
    br_engine *eng = calloc(1, sizeof *eng);
    if (!eng) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (br_strlcpy(eng->dir, repo_dir, sizeof eng->dir) >= sizeof eng->dir) {
        free(eng);
        return br_error_set(err, BR_ELIMIT, repo_dir, 0, 0, "path too long");
    }
    if (opt) eng->opt = *opt;
    if (eng->opt.worker_name && *eng->opt.worker_name) {
        if (br_strlcpy(eng->worker, eng->opt.worker_name, sizeof eng->worker) >=
            sizeof eng->worker) {
            free(eng);
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the worker name is too long");
        }
    } else if (br_worker_default_name(eng->worker, sizeof eng->worker)) {
        free(eng);
        return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "cannot name the worker");
    }
    eng->opt.worker_name = NULL; /* the caller's string is not kept */
    if (!eng->opt.workers) eng->opt.workers = 2;
    if (eng->opt.workers > 64) eng->opt.workers = 64;
    if (eng->opt.webhook_url && *eng->opt.webhook_url) {
        if (strncmp(eng->opt.webhook_url, "http://", 7) &&
            strncmp(eng->opt.webhook_url, "https://", 8)) {
            free(eng);
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "the webhook URL must be http:// or https://");
        }
        eng->webhook_url = strdup(eng->opt.webhook_url);
    }
    eng->opt.webhook_url = NULL; /* the caller's string is not kept */
    pthread_mutex_init(&eng->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&eng->cv, &ca);
    pthread_condattr_destroy(&ca);
    /* Refcounted inside libcurl; paired with curl_global_cleanup in br_engine_free. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    br_repo *repo;
    int rc = br_repo_open(eng->dir, &repo, err);
    br_repo_free(repo);
    if (rc) {
        br_engine_free(eng);
        return rc;
    }
    *out = eng;
    return 0;
}

int br_engine_start(br_engine *eng, br_error *err)
{
    if (eng->started) return 0;
    br_repo *repo;
    int rc;
    if ((rc = br_repo_open(eng->dir, &repo, err))) return rc;
    /* The jobs of dead workers (a crash of this host's last engine is found at once by its
     * process being gone; other workers' by their lease), then the drop folders and trash. */
    rc = br_lease_round(eng, repo, NULL, err);
    if (!rc) rc = br_inbox_recover(repo, err);
    if (!rc) rc = br_trash_purge(repo, (int64_t)time(NULL), NULL, err);
    br_repo_free(repo);
    if (rc) {
        br_engine_stop(eng);
        return rc;
    }
    eng->threads = calloc(eng->opt.workers, sizeof *eng->threads);
    if (!eng->threads) {
        br_engine_stop(eng);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    pthread_mutex_lock(&eng->mu);
    eng->stopping = 0;
    pthread_mutex_unlock(&eng->mu);
    for (unsigned i = 0; i < eng->opt.workers; i++) {
        pthread_mutex_lock(&eng->mu);
        eng->alive++; /* before the thread could end and count itself out */
        pthread_mutex_unlock(&eng->mu);
        if (pthread_create(&eng->threads[i], NULL, worker_main, eng)) {
            pthread_mutex_lock(&eng->mu);
            eng->alive--;
            pthread_mutex_unlock(&eng->mu);
            br_engine_stop(eng);
            return br_error_set(err, BR_EIO, NULL, 0, 0, "cannot start a worker thread");
        }
        eng->n_threads++;
    }
    eng->started = 1;
    if (pthread_create(&eng->inbox_thread, NULL, br_inbox_main, eng) == 0) eng->inbox_running = 1;
    if (pthread_create(&eng->lease_thread, NULL, br_lease_main, eng)) {
        br_engine_stop(eng);
        return br_error_set(err, BR_EIO, NULL, 0, 0, "cannot start the lease thread");
    }
    eng->lease_running = 1;
    return 0;
}

void br_engine_stop(br_engine *eng)
{
    if (!eng) return;
    pthread_mutex_lock(&eng->mu);
    eng->stopping = 1;
    pthread_cond_broadcast(&eng->cv);
    pthread_mutex_unlock(&eng->mu);
    for (size_t i = 0; i < eng->n_threads; i++)
        pthread_join(eng->threads[i], NULL);
    if (eng->inbox_running) pthread_join(eng->inbox_thread, NULL);
    eng->inbox_running = 0;
    if (eng->lease_running) pthread_join(eng->lease_thread, NULL);
    eng->lease_running = 0;
    free(eng->threads);
    eng->threads = NULL;
    eng->n_threads = 0;
    eng->started = 0;
}

void br_engine_free(br_engine *eng)
{
    if (!eng) return;
    br_engine_stop(eng);
    pthread_cond_destroy(&eng->cv);
    pthread_mutex_destroy(&eng->mu);
    free(eng->webhook_url);
    curl_global_cleanup();
    free(eng);
}

const char *br_engine_webhook(const br_engine *eng)
{
    return eng->webhook_url;
}
