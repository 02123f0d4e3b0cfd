/* Export delivery (delivery.h, docs/delivery.md): an export's output copied into the
 * submitter's private folder or the institution folder of the repository, or uploaded to an
 * S/FTP configuration (net/remote.h), as a step of the job with its own outcome.
 *
 * What is delivered is what GET /api/jobs/ID/output downloads: the export folder's only file
 * as it is, else the folder zipped whole (a SAF package, an Esploro CSV with its .files
 * folder), so a delivered file is always one complete file, written under a hidden ".part"
 * name and renamed (locally here, remotely by br_remote_put): a reader never sees half of it.
 * The exported output itself is never removed. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "bulkrepo/ftp.h"
#include "bulkrepo/saf.h"
#include "bulkrepo/user.h"
#include "core/core.h"
#include "jobs/deliver.h"
#include "jobs/engine_internal.h"
#include "net/remote.h"

/* The back-off before attempt 2 and 3, in milliseconds. */
static const unsigned BACKOFF_MS[BR_DELIVER_ATTEMPTS] = {0, 1000, 2000};

/* A job's delivery parameters. */
typedef struct dparams {
    const char *dest;   /* "private", "institution", "ftp"; NULL none */
    const char *ftp;    /* the configuration */
    const char *subdir; /* relative to its root; NULL or "" the root */
} dparams;

/* A user name that is one folder name (user.h's names, checked again: a CLI export's
 * submitter is $USER). */
static int user_folder_ok(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    if (!n || n >= BR_USERNAME_MAX || u[0] == '.' || u[0] == '-') return 0;
    for (; *u; u++)
        if (!((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') || (*u >= '0' && *u <= '9') ||
              *u == '.' || *u == '_' || *u == '@' || *u == '-'))
            return 0;
    return 1;
}

/* Reads and checks the parameters: 0 with d filled (d->dest NULL: no delivery asked for), or
 * BR_EUSAGE naming the parameter. */
static int read_params(json_t *p, const char *category, dparams *d, br_error *err)
{
    memset(d, 0, sizeof *d);
    json_t *dv = json_object_get(p, "deliver"), *fv = json_object_get(p, "ftp"),
           *sv = json_object_get(p, "subdir");
    if (!dv || json_is_null(dv) || (json_is_string(dv) && !*json_string_value(dv))) {
        if ((fv && !json_is_null(fv)) || (sv && !json_is_null(sv)))
            return br_error_set(err, BR_EUSAGE, fv ? "ftp" : "subdir", 0, 0,
                                "\"%s\" goes with \"deliver\": \"ftp\"", fv ? "ftp" : "subdir");
        return 0;
    }
    d->dest = json_string_value(dv);
    if (!d->dest ||
        (strcmp(d->dest, "private") && strcmp(d->dest, "institution") && strcmp(d->dest, "ftp")))
        return br_error_set(err, BR_EUSAGE, "deliver", 0, 0,
                            "\"deliver\" is private, institution or ftp%s%s",
                            d->dest ? ", not " : "", d->dest ? d->dest : "");
    if (!category || strcmp(category, "export"))
        return br_error_set(err, BR_EUSAGE, "deliver", 0, 0,
                            "only an export job's output is delivered (\"deliver\")");
    if (json_object_get(p, "dest"))
        return br_error_set(err, BR_EUSAGE, "deliver", 0, 0,
                            "a delivered export is written into the repository first: give no "
                            "destination folder (-d) with --deliver");
    if ((fv && !json_is_null(fv) && !json_is_string(fv)) ||
        (sv && !json_is_null(sv) && !json_is_string(sv)))
        return br_error_set(err, BR_EUSAGE, fv && !json_is_string(fv) ? "ftp" : "subdir", 0, 0,
                            "\"ftp\" and \"subdir\" are text");
    d->ftp = json_string_value(fv);
    d->subdir = json_string_value(sv);
    if (d->subdir && !*d->subdir) d->subdir = NULL;
    if (d->ftp && !*d->ftp) d->ftp = NULL;
    int ftp = !strcmp(d->dest, "ftp");
    if (ftp && !d->ftp)
        return br_error_set(err, BR_EUSAGE, "ftp", 0, 0,
                            "delivery to S/FTP names the configuration (\"ftp\"; bulkrepo ftp "
                            "list)");
    if (!ftp && (d->ftp || d->subdir))
        return br_error_set(err, BR_EUSAGE, d->ftp ? "ftp" : "subdir", 0, 0,
                            "\"%s\" is for a delivery to S/FTP (\"deliver\": \"ftp\"), not to the "
                            "%s folder",
                            d->ftp ? "ftp" : "subdir", d->dest);
    if (d->subdir) {
        int rc = br_remote_path_check(d->subdir, err);
        if (rc) {
            char why[1024];
            br_strlcpy(why, err ? err->message : "", sizeof why);
            return br_error_set(err, BR_EUSAGE, "subdir", 0, 0,
                                "the sub-directory '%.300s' is refused: %s (it must stay inside "
                                "the configuration's folder)",
                                d->subdir, why);
        }
    }
    return 0;
}

int br_deliver_check(br_repo *repo, const char *category, const char *params_json,
                     const char *eperson, br_error *err)
{
    json_t *p = json_loads(params_json && *params_json ? params_json : "{}", 0, NULL);
    if (!json_is_object(p)) {
        json_decref(p);
        return 0; /* the submit itself refuses what is not an object */
    }
    dparams d;
    int rc = read_params(p, category, &d, err);
    if (!rc && d.dest && !strcmp(d.dest, "private") && !user_folder_ok(eperson))
        rc = br_error_set(err, BR_EUSAGE, "deliver", 0, 0,
                          "a private folder belongs to the job's submitter, and '%.100s' is not "
                          "a user name (letters, digits, . _ @ -)",
                          eperson ? eperson : "");
    if (!rc && d.dest && !strcmp(d.dest, "ftp")) {
        /* The configuration's settings only: its secrets are unsealed when it is used. */
        br_ftp_config c;
        br_error e;
        int orc = br_ftp_get(repo, d.ftp, &c, &e);
        if (orc == BR_ENOTFOUND)
            rc =
                br_error_set(err, BR_EUSAGE, "ftp", 0, 0,
                             "no S/FTP configuration is named '%.200s' (bulkrepo ftp list)", d.ftp);
        else if (orc) {
            if (err) *err = e;
            rc = orc;
        }
    }
    json_decref(p);
    return rc;
}

/* ---- the folders ----------------------------------------------------------------------- */

int br_export_folder_parse(const char *name, br_export_folder *out)
{
    if (name && !strcmp(name, "private")) {
        *out = BR_EXPORT_FOLDER_PRIVATE;
        return 0;
    }
    if (name && !strcmp(name, "institution")) {
        *out = BR_EXPORT_FOLDER_INSTITUTION;
        return 0;
    }
    return BR_EUSAGE;
}

/* <repo>/exports/users/<user> or <repo>/exports/institution. */
static int folder_path(br_repo *repo, br_export_folder f, const char *user, char *out, size_t size,
                       br_error *err)
{
    if (f == BR_EXPORT_FOLDER_PRIVATE && !user_folder_ok(user))
        return br_error_set(err, BR_EUSAGE, "user", 0, 0, "'%.100s' is not a user name",
                            user ? user : "");
    int n = f == BR_EXPORT_FOLDER_PRIVATE
                ? snprintf(out, size, "%s/exports/users/%s", br_repo_dir(repo), user)
                : snprintf(out, size, "%s/exports/institution", br_repo_dir(repo));
    if (n < 0 || (size_t)n >= size)
        return br_error_set(err, BR_ELIMIT, br_repo_dir(repo), 0, 0, "path too long");
    return 0;
}

static int64_t job_of_name(const char *name)
{
    char *end;
    long long v = strtoll(name, &end, 10);
    return name[0] >= '1' && name[0] <= '9' && *end == '-' && v > 0 ? (int64_t)v : 0;
}

typedef struct entry {
    char *name;
    int64_t size;
    char modified[32];
} entry;

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

int br_export_folder_list(br_repo *repo, br_export_folder folder, const char *user,
                          br_export_file_fn fn, void *ctx, br_error *err)
{
    char dir[PATH_MAX];
    int rc = folder_path(repo, folder, user, dir, sizeof dir, err);
    if (rc) return rc;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0 && errno == ENOENT) return 0; /* nothing delivered yet */
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0) close(dfd);
        return br_error_set(err, BR_EIO, dir, 0, 0, "cannot read the folder: %s", strerror(errno));
    }
    entry *v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] == '.' || fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
            !S_ISREG(st.st_mode))
            continue;
        if (br_grow((void **)&v, &cap, n + 1, sizeof *v) || !(v[n].name = strdup(e->d_name))) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            break;
        }
        v[n].size = (int64_t)st.st_size;
        struct tm tm;
        gmtime_r(&st.st_mtime, &tm);
        strftime(v[n].modified, sizeof v[n].modified, "%Y-%m-%dT%H:%M:%SZ", &tm);
        n++;
    }
    closedir(d);
    if (!rc && n) qsort(v, n, sizeof *v, entry_cmp);
    for (size_t i = 0; !rc && i < n; i++) {
        br_export_file f = {v[i].name, v[i].size, v[i].modified, job_of_name(v[i].name)};
        if (fn(ctx, &f)) break;
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
    return rc;
}

int br_export_folder_open(br_repo *repo, br_export_folder folder, const char *user,
                          const char *name, int *fd, int64_t *size, br_error *err)
{
    *fd = -1;
    if (!name || !*name || name[0] == '.' || strchr(name, '/') || br_path_unsafe(name))
        return br_error_set(err, BR_EUSAGE, "name", 0, 0, "'%.200s' is not a delivered file's name",
                            name ? name : "");
    char dir[PATH_MAX];
    int rc = folder_path(repo, folder, user, dir, sizeof dir, err);
    if (rc) return rc;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int f = dfd >= 0 ? openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (dfd >= 0) close(dfd);
    struct stat st;
    if (f < 0 || fstat(f, &st) || !S_ISREG(st.st_mode)) {
        if (f >= 0) close(f);
        return br_error_set(err, BR_ENOTFOUND, name, 0, 0, "no file '%.200s' in the %s folder",
                            name, folder == BR_EXPORT_FOLDER_PRIVATE ? "private" : "institution");
    }
    *fd = f;
    *size = (int64_t)st.st_size;
    return 0;
}

typedef struct vis_ctx {
    uint32_t roles;
    int yes;
} vis_ctx;

static int export_visible(void *ctx, const br_job_type *t)
{
    vis_ctx *c = ctx;
    if (!strcmp(t->category, "export") && br_job_visible(t->type, c->roles)) c->yes = 1;
    return c->yes;
}

int br_export_folder_allowed(br_export_folder folder, const char *owner, const char *username,
                             uint32_t roles)
{
    if (folder == BR_EXPORT_FOLDER_PRIVATE)
        return (roles & BR_ROLE_GSA) || (owner && username && !strcmp(owner, username));
    vis_ctx c = {roles, 0};
    br_job_type_list(export_visible, &c);
    return c.yes;
}

/* ---- delivering ------------------------------------------------------------------------ */

/* The file to deliver: the export folder's only regular file, or the folder zipped into a
 * scratch folder (tmp, removed by the caller).  name: the delivered name. */
static int prepare(br_repo *repo, int64_t id, char *file, size_t fsize, char *name, size_t nsize,
                   char *tmp, size_t tsize, br_error *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/exports/%lld", br_repo_dir(repo), (long long)id);
    tmp[0] = 0;
    DIR *d = opendir(dir);
    if (!d)
        return br_error_set(err, BR_ENOTFOUND, dir, 0, 0,
                            "the export's output is not in the repository");
    int n = 0, single = 0;
    char only[NAME_MAX + 1] = "";
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (++n > 1) break;
        struct stat st;
        br_strlcpy(only, e->d_name, sizeof only);
        single = !fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) && S_ISREG(st.st_mode);
    }
    closedir(d);
    if (!n) return br_error_set(err, BR_ENOTFOUND, dir, 0, 0, "the export wrote nothing");
    int w;
    if (n == 1 && single) {
        w = snprintf(file, fsize, "%s/%s", dir, only);
        if (w > 0 && (size_t)w < fsize) w = snprintf(name, nsize, "%lld-%s", (long long)id, only);
        if (w < 0 || (size_t)w >= nsize)
            return br_error_set(err, BR_ELIMIT, only, 0, 0, "the output's name is too long");
        return 0;
    }
    int rc = br_repo_mktemp(repo, "deliver", tmp, tsize, err);
    if (rc) return rc;
    snprintf(name, nsize, "%lld-export.zip", (long long)id);
    w = snprintf(file, fsize, "%s/%s", tmp, name);
    if (w < 0 || (size_t)w >= fsize)
        return br_error_set(err, BR_ELIMIT, tmp, 0, 0, "path too long");
    return br_zip_create(dir, file, err);
}

/* One attempt into a local folder: copied as .NAME.part, then renamed. */
static int put_local(const char *file, const char *dir, const char *name, br_error *err)
{
    char part[PATH_MAX], dst[PATH_MAX];
    int rc = br_mkdir_p(dir, err);
    if (rc) return rc;
    int a = snprintf(part, sizeof part, "%s/.%s.part", dir, name),
        b = snprintf(dst, sizeof dst, "%s/%s", dir, name);
    if (a < 0 || b < 0 || (size_t)a >= sizeof part || (size_t)b >= sizeof dst)
        return br_error_set(err, BR_ELIMIT, dir, 0, 0, "path too long");
    unlink(part);
    if ((rc = br_copy_file(file, part, err))) {
        unlink(part);
        return rc;
    }
    if (rename(part, dst)) {
        rc = br_error_set(err, BR_EIO, dst, 0, 0, "cannot place the file: %s", strerror(errno));
        unlink(part);
    }
    return rc;
}

/* One attempt to an S/FTP configuration. */
static int put_remote(br_repo *repo, const dparams *d, const char *file, const char *rel,
                      br_error *err)
{
    br_remote *r = NULL;
    int rc = br_remote_open(repo, d->ftp, &r, err);
    if (!rc) rc = br_remote_put(r, file, rel, err);
    br_remote_free(r);
    return rc;
}

static void pause_ms(br_engine *eng, unsigned ms)
{
    if (eng) {
        br_engine_sleep_stop_only(eng, ms);
        return;
    }
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}

/* Where it goes, for events and the mail: "the private folder of bob", "S/FTP 'x', sub-directory
 * 'a/b'". */
static void where_of(const dparams *d, const char *eperson, char *out, size_t size)
{
    if (!strcmp(d->dest, "private"))
        snprintf(out, size, "the private folder of %s", eperson);
    else if (!strcmp(d->dest, "institution"))
        snprintf(out, size, "the institution folder");
    else if (d->subdir)
        snprintf(out, size, "S/FTP configuration '%s', sub-directory '%s'", d->ftp, d->subdir);
    else
        snprintf(out, size, "S/FTP configuration '%s'", d->ftp);
}

static int save(br_repo *repo, int64_t id, const dparams *d, const char *state, int attempts,
                const char *error, const char *path, br_error *err)
{
    char now[32];
    br_now_iso(now);
    json_t *o = json_pack("{s:s,s:o,s:o,s:s,s:i,s:o,s:o,s:s}", "destination", d->dest, "ftp",
                          d->ftp ? json_string(d->ftp) : json_null(), "subdir",
                          d->subdir ? json_string(d->subdir) : json_null(), "state", state,
                          "attempts", attempts, "error", error ? json_string(error) : json_null(),
                          "path", path ? json_string(path) : json_null(), "at", now);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int rc = br_job_set_delivery(repo, id, text, err);
    free(text);
    return rc;
}

/* A failure retrying cannot mend. */
static int permanent(int rc, int attempt)
{
    return rc == BR_ENOTFOUND || rc == BR_EUSAGE || rc == BR_EDENIED || rc == BR_ELIMIT ||
           (rc == BR_EEXISTS && attempt == 1);
}

int br_deliver_run(br_engine *eng, br_repo *repo, int64_t id, br_error *err)
{
    br_job j;
    int rc = br_job_get(repo, id, &j, err);
    if (rc) return rc;
    json_t *p = json_loads(j.params[0] ? j.params : "{}", 0, NULL);
    dparams d;
    br_error e;
    br_error_clear(&e);
    if (!p || read_params(p, j.category, &d, &e) || !d.dest) {
        /* No delivery asked for (a bad one was refused when it was submitted). */
        json_decref(p);
        return 0;
    }
    char where[1400];
    where_of(&d, j.eperson, where, sizeof where);
    /* An export run with then_finalize (the engine's) waits in Finalizing for this step. */
    if (j.status == BR_JOB_FINALIZING) j.status = BR_JOB_COMPLETED_SUCCESS;
    if (j.status != BR_JOB_COMPLETED_SUCCESS && j.status != BR_JOB_COMPLETED_WITH_ERRORS) {
        /* Nothing to deliver: an empty export (No Bulks) or one that failed or was cancelled. */
        const char *why = j.status == BR_JOB_COMPLETED_NO_BULKS ? "nothing was exported"
                                                                : "the export did not complete";
        rc = save(repo, id, &d, "skipped", 0, why, NULL, err);
        br_engine_event(eng, repo, id, "info", "delivery", NULL, "Not delivered to %s: %s", where,
                        why);
        json_decref(p);
        return rc;
    }
    br_job_status final = j.status;
    if ((rc = br_job_set_status(repo, id, BR_JOB_FINALIZING, NULL, err))) {
        json_decref(p);
        return rc;
    }
    char file[PATH_MAX], name[NAME_MAX + 1], tmp[PATH_MAX] = "", path[2 * PATH_MAX] = "";
    char local_dir[PATH_MAX] = "";
    int attempt = 0;
    rc = prepare(repo, id, file, sizeof file, name, sizeof name, tmp, sizeof tmp, &e);
    if (!rc && strcmp(d.dest, "ftp")) {
        br_export_folder f =
            !strcmp(d.dest, "private") ? BR_EXPORT_FOLDER_PRIVATE : BR_EXPORT_FOLDER_INSTITUTION;
        rc = folder_path(repo, f, j.eperson, local_dir, sizeof local_dir, &e);
        if (!rc)
            snprintf(path, sizeof path, "exports/%s%s/%s",
                     f == BR_EXPORT_FOLDER_PRIVATE ? "users/" : "institution",
                     f == BR_EXPORT_FOLDER_PRIVATE ? j.eperson : "", name);
    } else if (!rc) {
        snprintf(path, sizeof path, "%s%s%s", d.subdir ? d.subdir : "", d.subdir ? "/" : "", name);
        if (strlen(path) > BR_REMOTE_PATH_MAX)
            rc = br_error_set(&e, BR_ELIMIT, "subdir", 0, 0, "the remote path is too long");
    }
    /* prepare's failure (rc already set) is not retried: nothing was sent. */
    for (int k = 1; !rc && k <= BR_DELIVER_ATTEMPTS; k++) {
        if (k > 1) pause_ms(eng, BACKOFF_MS[k - 1]);
        attempt = k;
        br_error_clear(&e);
        int arc = local_dir[0] ? put_local(file, local_dir, name, &e)
                               : put_remote(repo, &d, file, path, &e);
        if (arc == BR_EEXISTS && k > 1) {
            /* An earlier attempt's upload landed though its answer was lost. */
            br_engine_event(eng, repo, id, "warning", "delivery", NULL,
                            "Attempt %d of %d: %s already holds %s (taken as delivered by the "
                            "attempt before)",
                            k, BR_DELIVER_ATTEMPTS, where, path);
            arc = 0;
        }
        char amsg[1200] = "";
        if (arc) br_error_format(&e, amsg, sizeof amsg);
        br_engine_event(eng, repo, id, arc ? "warning" : "info", "delivery", NULL,
                        "Delivery attempt %d of %d to %s: %s%s", k, BR_DELIVER_ATTEMPTS, where,
                        arc ? "failed: " : "delivered as ", arc ? amsg : path);
        if (!arc) break;
        if (permanent(arc, k) || k == BR_DELIVER_ATTEMPTS) rc = arc;
    }
    if (tmp[0]) br_rmtree(tmp);
    char msg[1200] = "";
    if (rc) br_error_format(&e, msg, sizeof msg);
    int src = save(repo, id, &d, rc ? "failed" : "delivered", attempt, rc ? msg : NULL,
                   rc ? NULL : path, err);
    /* The job's final status; a failure to write it (or the outcome) is returned first, so the
     * engine ends the job Failed rather than leave it Finalizing or call it a success. */
    char text[1024] = "";
    if (rc)
        snprintf(text, sizeof text,
                 "%.300s%sdelivery to %.300s failed after %d attempt%s: %.300s (the output stays "
                 "downloadable)",
                 j.message, j.message[0] ? "; " : "", where, attempt, attempt == 1 ? "" : "s", msg);
    if (!src)
        src = br_job_set_status(repo, id, rc ? BR_JOB_COMPLETED_WITH_ERRORS : final,
                                rc ? text : NULL, err);
    if (rc) {
        br_engine_event(eng, repo, id, "error", "delivery", NULL,
                        "Delivery failed after %d attempt%s: %s; the output stays downloadable",
                        attempt, attempt == 1 ? "" : "s", msg);
        if (err && !src) *err = e;
    }
    json_decref(p);
    return src ? src : rc;
}

int br_job_deliver(br_repo *repo, int64_t id, br_error *err)
{
    return br_deliver_run(NULL, repo, id, err);
}
