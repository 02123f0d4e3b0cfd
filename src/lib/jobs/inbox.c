/* Drop-folder ingest (issue 4 section 4, profile.h).
 *
 * Each scan lists every profile's inbox.  A file is taken only when its size
 * and mtime are unchanged since the previous scan (an upload in progress keeps
 * growing).  It is claimed by renaming it to processing/<token>-<name>, where
 * token (16 hex digits: the time in ns) is never reused: that rename is atomic,
 * so no file is taken twice.  The job is then submitted with that path as its
 * input; the job row is the record of the claim.  After the job the file moves
 * to done/ (Completed Successfully, with No Bulks) or failed/ (anything else).
 * At start-up a file left in processing/ is finished by its job's status, or
 * returned to the inbox when no job names it (the process died between the
 * rename and the submit): never lost, never run twice.  A pulling profile's
 * fetched files are settled first (br_pull_recover: a file whose load job was
 * not queued gets it), so that none of those goes back to the inbox.
 *
 * The same thread's tick queues the fetch jobs of pulling profiles whose
 * schedule came due (pull.c) and sends the mail outbox. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "bulkrepo/format.h"
#include "bulkrepo/import.h"
#include "bulkrepo/mail.h"
#include "bulkrepo/profile.h"
#include "core/core.h"
#include "engine_internal.h"

#define TOKEN_LEN 16

/* A file seen in the previous scan. */
typedef struct seen {
    char *path;
    off_t size;
    struct timespec mtime;
    int alive; /* seen in the current scan */
} seen;

typedef struct scanner {
    br_engine *eng;
    br_repo *repo;
    seen *files;
    size_t n, cap;
    unsigned counter;
} scanner;

/* Whether a file dropped in a profile's inbox is an input of its format. */
static int is_input_of(const char *name, const char *format)
{
    const br_format_info *f = br_format_by_file(name);
    return f && !strcmp(f->name, format);
}

int br_inbox_move(const char *src, const char *inbox, const char *dir, const char *name, int64_t id)
{
    char dst[PATH_MAX];
    snprintf(dst, sizeof dst, "%s/%s/%s", inbox, dir, name);
    if (!access(dst, F_OK))
        snprintf(dst, sizeof dst, "%s/%s/%s.%lld", inbox, dir, name, (long long)id);
    return rename(src, dst) ? BR_EIO : 0;
}

static const char *outcome_dir(br_job_status s)
{
    return s == BR_JOB_COMPLETED_SUCCESS || s == BR_JOB_COMPLETED_NO_BULKS ? "done" : "failed";
}

/* processing/<token>-<name> -> name, or NULL when the file is not ours. */
static const char *claimed_name(const char *file)
{
    if (strlen(file) <= TOKEN_LEN + 1 || file[TOKEN_LEN] != '-') return NULL;
    for (int i = 0; i < TOKEN_LEN; i++)
        if (!strchr("0123456789abcdef", file[i])) return NULL;
    return file + TOKEN_LEN + 1;
}

/* Not queued: the file goes to failed/ with the reason beside it. */
static int fail_claimed(const br_profile *p, const char *path, const char *name,
                        const br_error *err)
{
    char why[PATH_MAX], msg[1200];
    size_t n = br_error_format(err, msg, sizeof msg - 1);
    msg[n++] = '\n';
    msg[n] = 0;
    snprintf(why, sizeof why, "%s/failed/%s.error.txt", p->inbox, name);
    br_write_file_atomic(why, msg, n, NULL);
    br_inbox_move(path, p->inbox, "failed", name, 0);
    return -1;
}

int br_inbox_submit_load(br_engine *eng, br_repo *repo, const br_profile *p, const char *path,
                         const char *name, int64_t parent_job, int64_t *id, br_error *err)
{
    char jname[256], *params = NULL;
    const br_format_info *f = br_format_info_find(p->format);
    br_import_options o;
    memset(&o, 0, sizeof o);
    const char *cols[1] = {p->collection};
    o.collections = cols;
    o.n_collections = 1;
    *id = 0;
    if (!f) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "unknown format '%s'", p->format);
    int rc = br_import_params_to_json(f->name, &o, &params, err);
    if (rc) return rc;
    /* Seed 004's name for a profile's FTP job. */
    snprintf(jname, sizeof jname, "Metadata Import: %s (FTP)", p->name);
    const char *files[1] = {path};
    br_job_spec spec = {
        f->import_job, jname, p->eperson[0] ? p->eperson : "inbox", params, files, 1, 0, NULL};
    br_job_submit_extra x = {0, 0, p->name, path, parent_job};
    rc = br_job_submit_ext(repo, &spec, &x, id, err);
    free(params);
    if (rc) return rc;
    if (parent_job)
        br_engine_event(eng, repo, *id, "info", "inbox", spec.eperson,
                        "Fetched %s for profile %s by job %lld", name, p->name,
                        (long long)parent_job);
    else
        br_engine_event(eng, repo, *id, "info", "inbox", spec.eperson,
                        "Picked up %s from the inbox of profile %s", name, p->name);
    br_engine_wake(eng);
    return 0;
}

static int submit_claimed(br_engine *eng, br_repo *repo, const br_profile *p, const char *path,
                          const char *name)
{
    br_error err;
    int64_t id;
    if (br_inbox_submit_load(eng, repo, p, path, name, 0, &id, &err))
        return fail_claimed(p, path, name, &err);
    return 0;
}

static seen *find_seen(scanner *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->files[i].path, path)) return &s->files[i];
    return NULL;
}

static int scan_profile(void *ctx, const br_profile *p)
{
    scanner *s = ctx;
    DIR *d = opendir(p->inbox);
    if (!d) return 0;
    struct dirent *e;
    char path[PATH_MAX];
    while ((e = readdir(d)) && !br_engine_stopping(s->eng)) {
        /* Hidden files are uploads in progress for many FTP servers. */
        if (e->d_name[0] == '.' || !is_input_of(e->d_name, p->format)) continue;
        if (br_path_join(path, sizeof path, p->inbox, e->d_name)) continue;
        struct stat st;
        if (lstat(path, &st) || !S_ISREG(st.st_mode)) continue;
        seen *f = find_seen(s, path);
        if (!f) {
            if (br_grow((void **)&s->files, &s->cap, s->n + 1, sizeof *s->files)) continue;
            f = &s->files[s->n];
            if (!(f->path = strdup(path))) continue;
            s->n++;
            f->size = st.st_size;
            f->mtime = st.st_mtim;
            f->alive = 1;
            continue;
        }
        f->alive = 1;
        if (f->size != st.st_size || f->mtime.tv_sec != st.st_mtim.tv_sec ||
            f->mtime.tv_nsec != st.st_mtim.tv_nsec) {
            f->size = st.st_size; /* still growing */
            f->mtime = st.st_mtim;
            continue;
        }
        /* Stable across two scans: claim it. */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        char claimed[PATH_MAX];
        unsigned long long token = (unsigned long long)now.tv_sec * 1000000000ull +
                                   (unsigned long long)now.tv_nsec + s->counter++;
        snprintf(claimed, sizeof claimed, "%s/processing/%0*llx-%s", p->inbox, TOKEN_LEN, token,
                 e->d_name);
        f->alive = 0; /* forgotten: it left the inbox */
        if (rename(path, claimed)) continue;
        submit_claimed(s->eng, s->repo, p, claimed, e->d_name);
    }
    closedir(d);
    return br_engine_stopping(s->eng);
}

void *br_inbox_main(void *arg)
{
    br_engine *eng = arg;
    scanner s = {eng, NULL, NULL, 0, 0, 0};
    if (br_repo_open(br_engine_dir(eng), &s.repo, NULL)) return NULL;
    br_repo_set_write_gate(s.repo, br_engine_opts(eng)->write_gate);
    unsigned poll = br_engine_opts(eng)->inbox_poll_ms ? br_engine_opts(eng)->inbox_poll_ms : 5000;
    while (!br_engine_stopping(eng)) {
        for (size_t i = 0; i < s.n; i++)
            s.files[i].alive = 0;
        br_profile_list(s.repo, scan_profile, &s, NULL);
        br_pull_schedule(eng, s.repo, (int64_t)time(NULL));
        /* Forget files that left (claimed, deleted, renamed). */
        size_t k = 0;
        for (size_t i = 0; i < s.n; i++) {
            if (s.files[i].alive)
                s.files[k++] = s.files[i];
            else
                free(s.files[i].path);
        }
        s.n = k;
        /* The mail outbox rides on this thread's tick (mail.h): due messages, a few at a time,
         * so that a slow mail server delays the next scan by little. */
        br_mail_send(s.repo, 0, 10, NULL, NULL);
        br_engine_sleep_stop_only(eng, poll);
    }
    for (size_t i = 0; i < s.n; i++)
        free(s.files[i].path);
    free(s.files);
    br_repo_free(s.repo);
    return NULL;
}

void br_inbox_finish(br_engine *eng, br_repo *repo, const br_job *job)
{
    (void)eng;
    br_profile p;
    const char *slash = strrchr(job->input, '/');
    if (!strcmp(job->type, "fetch-profile")) return; /* it claimed no file itself */
    if (br_profile_get(repo, job->profile, &p, NULL) || !slash) return;
    const char *name = claimed_name(slash + 1);
    if (!name || access(job->input, F_OK)) return;
    br_inbox_move(job->input, p.inbox, outcome_dir(job->status), name, job->id);
}

static int recover_profile(void *ctx, const br_profile *p)
{
    br_repo *repo = ctx;
    char dir[PATH_MAX], path[PATH_MAX], back[PATH_MAX];
    if (br_path_join(dir, sizeof dir, p->inbox, "processing")) return 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *name = claimed_name(e->d_name);
        if (!name || br_path_join(path, sizeof path, dir, e->d_name)) continue;
        int64_t id;
        br_job_status st;
        int found = br_job_find_by_input(repo, path, &id, &st, NULL);
        if (found < 0) continue;
        if (!found) {
            /* Claimed, but no job was made: back to the inbox, to be taken again. */
            if (!br_path_join(back, sizeof back, p->inbox, name) && access(back, F_OK))
                rename(path, back);
        } else if (br_job_status_ended(st)) {
            br_inbox_move(path, p->inbox, outcome_dir(st), name, id);
        }
    }
    closedir(d);
    return 0;
}

int br_inbox_recover(br_repo *repo, br_error *err)
{
    int rc = br_pull_recover(NULL, repo, NULL, err);
    return rc ? rc : br_profile_list(repo, recover_profile, repo, err);
}
