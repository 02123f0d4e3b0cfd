/* POST /api/jobs: a multipart/form-data upload streamed to a scratch folder
 * inside the repository (libmicrohttpd's post processor, 64 KB at a time),
 * under a cap for the whole upload; then the job is submitted through the
 * engine API and the files move into the job's own folder.
 *
 * Several file parts may come (an Esploro CSV and the files it names): the
 * input is the first whose name has the format's extension (the format
 * registry), the others lie beside it.  A zip uploaded for a format that does
 * not read zips itself is unpacked (the readers' caps: no "..", no links, no
 * bombs) and its metadata file found the same way at the package's root; its
 * folders keep their names below the job's upload folder. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bulkrepo/format.h"
#include "bulkrepo/import.h"
#include "bulkrepo/saf.h"
#include "core/core.h"
#include "http.h"

struct srv_upload {
    srv_req *r;          /* the request (outlives the upload) */
    uint64_t refused_at; /* body bytes read when the role check refused the file */
    struct MHD_PostProcessor *pp;
    char dir[4200];
    char path[4400];    /* the file being written */
    char filename[256]; /* its name */
    char **names;       /* every file stored, in the order received */
    size_t n_names, cap_names;
    int fd;
    int have_file;
    uint64_t file_bytes, total_bytes, max_file;
    unsigned fail; /* the HTTP status to answer, 0 = fine */
    char msg[512];
    char type[64], format[32], collection[256], name[256], validate_only[16], skip_invalid[16],
        scope[32], id[256], csrf[BR_SECRET_SIZE];
    char deliver[16], ftp[256], subdir[1100], notify[16]; /* issue 17: delivery.h */
};

/* The form fields kept; others (the UI's "set") are ignored. */
#define FIELD(f)                                                                                   \
    {                                                                                              \
#f, offsetof(struct srv_upload, f), sizeof(((struct srv_upload *)0)->f)                    \
    }
static const struct {
    const char *key;
    size_t off, size;
} FIELDS[] = {FIELD(type),          FIELD(format),       FIELD(collection), FIELD(name),
              FIELD(validate_only), FIELD(skip_invalid), FIELD(scope),      FIELD(id),
              FIELD(csrf),          FIELD(deliver),      FIELD(ftp),        FIELD(subdir),
              FIELD(notify)};

/* Files of one upload, at most. */
#define UPLOAD_FILES_MAX 1000

static void fail(srv_upload *u, unsigned status, const char *fmt, const char *arg)
{
    if (u->fail) return;
    u->fail = status;
    snprintf(u->msg, sizeof u->msg, fmt, arg);
    if (u->fd >= 0) {
        close(u->fd);
        u->fd = -1;
    }
    /* Nothing of a refused upload stays: its scratch folder goes at once. */
    if (u->dir[0]) br_rmtree(u->dir);
    u->dir[0] = 0;
    u->have_file = 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A plain file name: no folders, no "..", nothing hidden, no control bytes. */
static const char *unsafe_name(const char *s)
{
    size_t n = strlen(s);
    if (!n) return "the uploaded file has no name";
    if (n >= 200) return "the uploaded file's name is too long";
    if (s[0] == '.') return "the uploaded file's name starts with '.' (or is a path)";
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '/' || *c == '\\')
            return "the uploaded file's name is a path; send a plain file name";
        if (*c < 0x20 || *c == 0x7f) return "the uploaded file's name has control characters";
    }
    size_t bad;
    if (br_utf8_check(s, n, &bad)) return "the uploaded file's name is not UTF-8";
    return NULL;
}

/* The job type of a form: type, else the format's import (or validation) job.
 * 0 and out filled, or an HTTP status (400) with msg. */
static unsigned resolve_type(const char *type, const char *format, int validate, char *out,
                             size_t size, const br_format_info **fmt, char *msg, size_t msg_size)
{
    /* The format by its registry name, or by the suffix of its import job type
     * ("esploro" for import-esploro, as earlier releases' forms sent it). */
    const br_format_info *fi = NULL;
    if (format && format[0] && !(fi = br_format_info_find(format))) {
        char alias[96];
        snprintf(alias, sizeof alias, "import-%s", format);
        fi = br_format_by_job(alias);
        if (!fi) {
            snprintf(msg, msg_size, "'%s' is not a format (GET /api/formats lists them)", format);
            return MHD_HTTP_BAD_REQUEST;
        }
    }
    if (type && type[0]) {
        snprintf(out, size, "%s", type);
    } else if (fi && fi->import_job) {
        snprintf(out, size, "%s", fi->import_job);
    } else {
        snprintf(msg, msg_size, "give the job type (field type) or the format of an import");
        return MHD_HTTP_BAD_REQUEST;
    }
    const br_format_info *of_type = br_format_by_job(out);
    if (fi && of_type && fi != of_type) {
        snprintf(msg, msg_size, "format '%s' does not match job type %s", format, out);
        return MHD_HTTP_BAD_REQUEST;
    }
    /* A validation is its format's own job type where it has one. */
    if (validate > 0 && of_type && of_type->import_job && of_type->validate_job &&
        !strcmp(out, of_type->import_job))
        snprintf(out, size, "%s", of_type->validate_job);
    br_job_type t;
    if (br_job_type_get(out, &t)) {
        snprintf(msg, msg_size, "'%s' is not a job type (GET /api/job-types lists them)", out);
        return MHD_HTTP_BAD_REQUEST;
    }
    if (fmt) *fmt = of_type;
    return 0;
}

typedef struct any_ctx {
    uint32_t roles;
    int any;
} any_ctx;

static int allows_any(void *ctx, const br_job_type *t)
{
    any_ctx *c = ctx;
    if (t->implemented && br_job_type_allows(t, c->roles)) c->any = 1;
    return c->any;
}

unsigned srv_upload_precheck(srv_req *r, char *buf, size_t size)
{
    any_ctx c = {r->who.roles, 0};
    br_job_type_list(allows_any, &c);
    if (!c.any) {
        snprintf(buf, size, "your roles do not allow running any job");
        return MHD_HTTP_FORBIDDEN;
    }
    const char *type = MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, "type");
    const char *format = MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, "format");
    if (!type) type = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "X-Job-Type");
    if ((!type || !*type) && (!format || !*format)) return 0; /* the form's fields say */
    char t[80];
    unsigned st = resolve_type(type, format, 0, t, sizeof t, NULL, buf, size);
    br_job_type jt;
    if (!st && (br_job_type_get(t, &jt) || !br_job_type_allows(&jt, r->who.roles))) {
        snprintf(buf, size, "your roles do not allow running %s jobs", t);
        st = MHD_HTTP_FORBIDDEN;
    }
    return st;
}

uint64_t srv_upload_refused(const srv_upload *u)
{
    return u ? u->refused_at : 0;
}

/* When the file's part begins: the fields before it must name a job type the
 * user may run (nothing is written otherwise), then the scratch folder. */
static int file_allowed(srv_upload *u)
{
    char type[80], msg[512];
    int validate = u->validate_only[0] && strcasecmp(u->validate_only, "false") &&
                   strcmp(u->validate_only, "0");
    unsigned st = 0;
    if (!u->type[0] && !u->format[0]) {
        snprintf(msg, sizeof msg,
                 "send the fields (type or format) before the file, or the type in the query "
                 "(POST /api/jobs?type=...)");
        st = MHD_HTTP_BAD_REQUEST;
    } else {
        st = resolve_type(u->type, u->format, validate, type, sizeof type, NULL, msg, sizeof msg);
    }
    br_job_type jt;
    if (!st && (br_job_type_get(type, &jt) || !br_job_type_allows(&jt, u->r->who.roles))) {
        snprintf(msg, sizeof msg, "your roles do not allow running %s jobs", type);
        st = MHD_HTTP_FORBIDDEN;
    }
    if (st) {
        u->refused_at = u->r->body_bytes ? u->r->body_bytes : 1;
        fail(u, st, "%s", msg);
        return 0;
    }
    br_error err;
    br_repo *repo = srv_db_get(u->r->s, &err);
    int rc = repo ? br_repo_mktemp(repo, "upload", u->dir, sizeof u->dir, &err) : -1;
    srv_db_put(u->r->s, repo);
    if (rc) {
        u->dir[0] = 0;
        fail(u, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s",
             "cannot make a scratch folder for the upload");
        return 0;
    }
    return 1;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    srv_upload *u = cls;
    if (u->fail) return MHD_YES; /* keep reading: the answer comes at the end */
    if (filename) {
        if (strcmp(key, "file") && strcmp(key, "files")) {
            fail(u, MHD_HTTP_BAD_REQUEST, "send the files in the form field 'file' (got '%s')",
                 key);
            return MHD_YES;
        }
        /* A new part: the first chunk (offset 0) of another file name, or of
         * the same name once bytes were written (a duplicate, refused below). */
        if (off == 0 && (u->fd < 0 || u->file_bytes > 0 || strcmp(filename, u->filename))) {
            if (u->fd >= 0 && close(u->fd)) {
                u->fd = -1;
                fail(u, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot store the upload: %s",
                     strerror(errno));
                return MHD_YES;
            }
            u->fd = -1;
            const char *why = unsafe_name(filename);
            if (why) {
                fail(u, MHD_HTTP_BAD_REQUEST, "%s", why);
                return MHD_YES;
            }
            if (u->n_names >= UPLOAD_FILES_MAX) {
                fail(u, MHD_HTTP_BAD_REQUEST, "send at most %s files per job (zip them)", "1000");
                return MHD_YES;
            }
            if (!u->have_file && !file_allowed(u)) return MHD_YES;
            u->have_file = 1;
            snprintf(u->filename, sizeof u->filename, "%s", filename);
            snprintf(u->path, sizeof u->path, "%s/%s", u->dir, filename);
            u->file_bytes = 0;
            u->fd = open(u->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
            if (u->fd < 0) {
                fail(u, errno == EEXIST ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_INTERNAL_SERVER_ERROR,
                     errno == EEXIST ? "two files are named '%s': send each name once"
                                     : "cannot store the upload: %s",
                     errno == EEXIST ? filename : strerror(errno));
                return MHD_YES;
            }
            char *copy = strdup(filename);
            if (!copy ||
                br_grow((void **)&u->names, &u->cap_names, u->n_names + 1, sizeof *u->names)) {
                free(copy);
                fail(u, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", "out of memory");
                return MHD_YES;
            }
            u->names[u->n_names++] = copy;
        }
        /* The cap, on the whole upload: stop writing at once and drop what was written. */
        if (u->total_bytes + size > u->max_file) {
            fail(u, MHD_HTTP_CONTENT_TOO_LARGE, "%s",
                 "the upload is larger than the server accepts");
            return MHD_YES;
        }
        if (size && (u->fd < 0 || write_all(u->fd, data, size))) {
            fail(u, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot store the upload: %s", strerror(errno));
            return MHD_YES;
        }
        u->file_bytes += size;
        u->total_bytes += size;
        return MHD_YES;
    }
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++) {
        if (strcmp(key, FIELDS[i].key)) continue;
        char *dst = (char *)u + FIELDS[i].off;
        if (off + size >= FIELDS[i].size) {
            fail(u, MHD_HTTP_BAD_REQUEST, "the form field '%s' is too long", key);
            return MHD_YES;
        }
        memcpy(dst + off, data, size);
        dst[off + size] = 0;
    }
    return MHD_YES;
}

unsigned srv_upload_begin(srv_req *r, const char **msg)
{
    const char *ct = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "Content-Type");
    if (!ct || strncasecmp(ct, "multipart/form-data", 19)) {
        *msg = "send multipart/form-data (fields type, collection, ... and the file)";
        return MHD_HTTP_BAD_REQUEST;
    }
    srv_upload *u = calloc(1, sizeof *u);
    if (!u) {
        *msg = "out of memory";
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    u->fd = -1;
    u->r = r;
    u->max_file = r->s->opt.max_upload;
    r->up = u;
    /* The type or format from the query (or X-Job-Type); fields may follow. */
    const char *type = MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, "type");
    const char *format = MHD_lookup_connection_value(r->con, MHD_GET_ARGUMENT_KIND, "format");
    if (!type) type = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "X-Job-Type");
    if (type) snprintf(u->type, sizeof u->type, "%s", type);
    if (format) snprintf(u->format, sizeof u->format, "%s", format);
    u->pp = MHD_create_post_processor(r->con, 64 * 1024, on_part, u);
    if (!u->pp) {
        /* Gone before the 400 goes out (the scratch folder included). */
        srv_upload_free(u);
        r->up = NULL;
        *msg = "malformed multipart/form-data (no boundary?)";
        return MHD_HTTP_BAD_REQUEST;
    }
    return 0;
}

unsigned srv_upload_feed(srv_req *r, const char *data, size_t size)
{
    srv_upload *u = r->up;
    if (!u) return 0;
    if (!u->fail && u->pp && MHD_post_process(u->pp, data, size) != MHD_YES)
        fail(u, MHD_HTTP_BAD_REQUEST, "%s", "the multipart body is malformed");
    return u->fail;
}

void srv_upload_free(srv_upload *u)
{
    if (!u) return;
    if (u->pp) MHD_destroy_post_processor(u->pp);
    if (u->fd >= 0) close(u->fd);
    /* Whatever the job did not take goes: the files, then the folder. */
    if (u->dir[0]) br_rmtree(u->dir);
    for (size_t i = 0; i < u->n_names; i++)
        free(u->names[i]);
    free(u->names);
    free(u);
}

/* "x.csv" has one of the format's extensions. */
static int of_format(const char *name, const br_format_info *fmt)
{
    return fmt && br_format_by_file(name) == fmt;
}

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && !strcasecmp(name + n - e, ext);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The job's input files, the input first: absolute paths into files (u->n_names
 * + the zip's entries, malloc'd, freed by the caller with each string), and the
 * unpacked package's root in pkg ("" when no zip was unpacked): its folders go
 * below the job's upload folder after the submit.  0, or an HTTP status with msg. */
static unsigned arrange_files(srv_upload *u, const br_format_info *fmt, int by_name, char ***files,
                              size_t *n, char *pkg, size_t pkg_size, char *msg, size_t msg_size)
{
    *files = NULL;
    *n = 0;
    pkg[0] = 0;
    char **v = NULL;
    size_t cap = 0, k = 0;
    /* A zip for a format that reads no zips: unpacked, its root's files are the candidates. */
    int unpack = by_name && fmt && !(fmt->caps & BR_FORMAT_ZIP) && u->n_names >= 1;
    size_t zips = 0;
    for (size_t i = 0; unpack && i < u->n_names; i++)
        zips += has_ext(u->names[i], ".zip");
    if (!zips) unpack = 0;
    if (unpack && u->n_names > 1) {
        snprintf(msg, msg_size, "send the zip alone (it holds the %s file and the files it names)",
                 fmt->label);
        return MHD_HTTP_BAD_REQUEST;
    }
    if (unpack) {
        char zip[4600], dest[4400];
        snprintf(zip, sizeof zip, "%s/%s", u->dir, u->names[0]);
        snprintf(dest, sizeof dest, "%s/.package", u->dir);
        br_limits lim;
        br_limits_default(&lim);
        br_error err;
        br_error_clear(&err);
        int made = !mkdir(dest, 0700);
        if (!made || br_zip_extract(zip, dest, &lim, pkg, pkg_size, &err)) {
            snprintf(msg, msg_size, "the zip cannot be unpacked: %.400s",
                     made ? err.message : strerror(errno));
            pkg[0] = 0;
            return MHD_HTTP_BAD_REQUEST;
        }
        unlink(zip);
        DIR *d = opendir(pkg);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            struct stat st;
            if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
                !S_ISREG(st.st_mode))
                continue;
            if (br_grow((void **)&v, &cap, k + 1, sizeof *v) ||
                !(v[k] = malloc(strlen(pkg) + strlen(e->d_name) + 2))) {
                closedir(d);
                goto nomem;
            }
            snprintf(v[k], strlen(pkg) + strlen(e->d_name) + 2, "%s/%s", pkg, e->d_name);
            k++;
        }
        if (d) closedir(d);
        if (k) qsort(v, k, sizeof *v, name_cmp);
    } else {
        for (size_t i = 0; i < u->n_names; i++) {
            size_t len = strlen(u->dir) + strlen(u->names[i]) + 2;
            if (br_grow((void **)&v, &cap, k + 1, sizeof *v) || !(v[k] = malloc(len))) goto nomem;
            snprintf(v[k], len, "%s/%s", u->dir, u->names[i]);
            k++;
        }
    }
    /* The input: the first file with the format's extension (by_name), else the first. */
    size_t in = 0, found = 0;
    for (size_t i = 0; by_name && i < k; i++) {
        if (!of_format(strrchr(v[i], '/') + 1, fmt)) continue;
        if (!found++) in = i;
    }
    unsigned st = 0;
    if (!k) {
        snprintf(msg, msg_size, "%s", unpack ? "the zip holds no file at its root" : "no file");
        st = MHD_HTTP_BAD_REQUEST;
    } else if (by_name && !found && (k > 1 || unpack)) {
        snprintf(msg, msg_size, "none of the files is a %s file (%s)", fmt->label, fmt->extensions);
        st = MHD_HTTP_BAD_REQUEST;
    } else if (unpack && found > 1) {
        snprintf(msg, msg_size,
                 "the zip holds %zu %s files at its root: keep the one to import there (put "
                 "others in a folder)",
                 found, fmt->extensions);
        st = MHD_HTTP_BAD_REQUEST;
    }
    if (st) {
        for (size_t i = 0; i < k; i++)
            free(v[i]);
        free(v);
        return st;
    }
    char *first = v[in];
    memmove(v + 1, v, in * sizeof *v);
    v[0] = first;
    *files = v;
    *n = k;
    return 0;
nomem:
    for (size_t i = 0; i < k; i++)
        free(v[i]);
    free(v);
    snprintf(msg, msg_size, "out of memory");
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* "true"/"false" and friends; -1 when neither. */
static int parse_bool(const char *s)
{
    static const char *const YES[] = {"true", "1", "on", "yes"}, *const NO[] = {"", "false", "0",
                                                                                "off", "no"};
    for (size_t i = 0; i < sizeof YES / sizeof YES[0]; i++)
        if (!strcasecmp(s, YES[i])) return 1;
    for (size_t i = 0; i < sizeof NO / sizeof NO[0]; i++)
        if (!strcasecmp(s, NO[i])) return 0;
    return -1;
}

enum MHD_Result srv_upload_submit(srv_req *r)
{
    srv_upload *u = r->up;
    if (!u) return srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "the upload was lost");
    if (u->pp) {
        if (MHD_destroy_post_processor(u->pp) != MHD_YES)
            fail(u, MHD_HTTP_BAD_REQUEST, "%s", "the multipart body is malformed or incomplete");
        u->pp = NULL;
    }
    if (u->fd >= 0) {
        if (close(u->fd))
            fail(u, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot store the upload: %s", strerror(errno));
        u->fd = -1;
    }
    if (u->fail) return srv_reply_error(r, u->fail, "%s", u->msg);
    /* A cookie-authenticated upload without the header proves CSRF with the field. */
    if (r->via_cookie && !MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "X-CSRF-Token") &&
        !br_secret_equal(u->csrf, r->who.csrf))
        return srv_reply_error(
            r, MHD_HTTP_FORBIDDEN,
            "the CSRF token is missing or wrong (header X-CSRF-Token or field csrf)");

    int validate = parse_bool(u->validate_only), skip = parse_bool(u->skip_invalid);
    if (validate < 0 || skip < 0)
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "validate_only and skip_invalid are true or false");
    char type[80], why[512];
    const br_format_info *of_type = NULL;
    unsigned st =
        resolve_type(u->type, u->format, validate, type, sizeof type, &of_type, why, sizeof why);
    if (st) return srv_reply_error(r, st, "%s", why);
    br_job_type t;
    if (br_job_type_get(type, &t))
        return srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                               "'%s' is not a job type (GET /api/job-types lists them)", type);
    if (!br_job_type_allows(&t, r->who.roles))
        return srv_reply_error(r, MHD_HTTP_FORBIDDEN, "your roles do not allow running %s jobs",
                               type);
    if (!t.implemented)
        return srv_reply_error(r, MHD_HTTP_NOT_IMPLEMENTED, "%s jobs are not implemented yet",
                               type);
    int is_delete = of_type && of_type->delete_job && !strcmp(type, of_type->delete_job);

    json_t *params = json_object();
    br_error err;
    br_repo *repo = NULL;
    enum MHD_Result res;
    if (!strcmp(t.category, "import")) {
        if (!u->have_file) {
            res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                  "upload the file to %s (form field 'file')",
                                  is_delete ? "delete (the mapfile)" : "import");
            goto done;
        }
        br_import_options o;
        memset(&o, 0, sizeof o);
        const char *cols[1] = {u->collection};
        o.collections = cols;
        o.n_collections = u->collection[0] ? 1 : 0;
        o.skip_invalid = skip;
        o.validate_only = validate;
        char *text = NULL;
        json_error_t jerr;
        if (!of_type || br_import_params_to_json(of_type->name, &o, &text, &err)) {
            res = of_type ? srv_reply_br(r, &err)
                          : srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "%s has no format", type);
            goto done;
        }
        json_decref(params);
        params = json_loads(text, 0, &jerr);
        free(text);
        if (!params) {
            res = srv_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
            goto done;
        }
    } else if (!strcmp(t.category, "export")) {
        const char *id = u->id[0] ? u->id : u->collection;
        if (!*id) {
            res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                  "give the collection (or scope and id) to export");
            goto done;
        }
        json_object_set_new(params, "scope", json_string(u->scope[0] ? u->scope : "collection"));
        json_object_set_new(params, "id", json_string(id));
    }
    /* Delivery of an export and the job-end mail (delivery.h): checked when submitted. */
    if (u->deliver[0]) json_object_set_new(params, "deliver", json_string(u->deliver));
    if (u->ftp[0]) json_object_set_new(params, "ftp", json_string(u->ftp));
    if (u->subdir[0]) json_object_set_new(params, "subdir", json_string(u->subdir));
    int notify = parse_bool(u->notify);
    if (notify < 0) {
        res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "notify is true or false");
        goto done;
    }
    if (notify) json_object_set_new(params, "notify", json_true());
    if (!(repo = srv_db_get(r->s, &err))) {
        res = srv_reply_br(r, &err);
        goto done;
    }
    if (u->collection[0] && !strcmp(t.category, "import")) {
        int64_t cid;
        if (br_collection_resolve(repo, u->collection, &cid, &err)) {
            res = srv_reply_error(r, MHD_HTTP_BAD_REQUEST, "collection %s: %s", u->collection,
                                  err.message);
            goto done;
        }
    }
    char **files = NULL, pkg[4400] = "", why2[512];
    size_t n_files = 0;
    if (u->have_file) {
        /* Imports find their input by the format's extension; others take the first file. */
        int by_name = !strcmp(t.category, "import") && !is_delete;
        unsigned fst = arrange_files(u, of_type, by_name, &files, &n_files, pkg, sizeof pkg, why2,
                                     sizeof why2);
        if (fst) {
            res = srv_reply_error(r, fst, "%s", why2);
            goto done;
        }
    }
    char *ptext = json_dumps(params, JSON_COMPACT);
    br_job_spec spec = {0};
    spec.type = type;
    spec.name = u->name[0] ? u->name : NULL;
    spec.eperson = r->who.username;
    spec.params = ptext;
    spec.files = (const char *const *)files;
    spec.n_files = n_files;
    spec.move_files = 1;
    /* The package's folders (a zip's "files/") travel with the files: in
     * place before any worker can claim the job. */
    spec.folders = pkg[0] ? pkg : NULL;
    int64_t id = 0;
    int rc = br_job_submit(repo, &spec, &id, &err);
    free(ptext);
    for (size_t i = 0; i < n_files; i++)
        free(files[i]);
    free(files);
    if (rc) {
        res = srv_reply_br(r, &err);
        goto done;
    }
    br_engine_wake(r->s->engine);
    res = srv_reply_json(r, MHD_HTTP_CREATED, json_pack("{s:I}", "id", (json_int_t)id));
done:
    srv_db_put(r->s, repo);
    json_decref(params);
    return res;
}
