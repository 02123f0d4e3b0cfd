/* Download unimported records (seed 004): a job's rejected records in the
 * input's own format, ready to fix and import again, at most 5,000 a page. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bulkrepo/saf.h"
#include "core/core.h"
#include "engine_internal.h"

typedef struct rejected {
    char **keys;
    char **messages;
    size_t n, cap;
    int oom;
} rejected;

static int is_rejected(const char *outcome)
{
    return !strcmp(outcome, BR_OUTCOME_INVALID) || !strcmp(outcome, BR_OUTCOME_FAILED) ||
           !strcmp(outcome, BR_OUTCOME_MULTI_MATCH);
}

static int collect(void *ctx, const br_job_record *r)
{
    rejected *l = ctx;
    if (!is_rejected(r->outcome)) return 0;
    size_t cap = l->cap;
    if (br_grow((void **)&l->keys, &cap, l->n + 1, sizeof *l->keys) ||
        br_grow((void **)&l->messages, &l->cap, l->n + 1, sizeof *l->messages)) {
        l->oom = 1;
        return 1;
    }
    l->keys[l->n] = strdup(r->key);
    l->messages[l->n] = strdup(r->message ? r->message : r->outcome);
    if (!l->keys[l->n] || !l->messages[l->n]) {
        free(l->keys[l->n]);
        free(l->messages[l->n]);
        l->oom = 1;
        return 1;
    }
    l->n++;
    return 0;
}

static void rejected_dispose(rejected *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->keys[i]);
        free(l->messages[i]);
    }
    free(l->keys);
    free(l->messages);
}

static int first_path(void *ctx, const br_job_file *f)
{
    br_strlcpy(ctx, f->path, PATH_MAX);
    return 1;
}

/* ---- SAF: a zip of the rejected item folders plus errors.txt ------------------------------- */

/* Copies the tree at src to dst: folders and regular files only (no links). */
static int copy_tree(const char *src, const char *dst, int depth, br_error *err)
{
    if (depth > 16) return br_error_set(err, BR_ELIMIT, src, 0, 0, "folders nested too deep");
    if (mkdir(dst, 0755) && errno != EEXIST)
        return br_error_set(err, BR_EIO, dst, 0, 0, "cannot create: %s", strerror(errno));
    DIR *d = opendir(src);
    if (!d) return br_error_set(err, BR_EIO, src, 0, 0, "cannot read: %s", strerror(errno));
    int rc = 0;
    struct dirent *e;
    char a[PATH_MAX], b[PATH_MAX];
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        struct stat st;
        if (br_path_join(a, sizeof a, src, e->d_name) ||
            br_path_join(b, sizeof b, dst, e->d_name)) {
            rc = br_error_set(err, BR_ELIMIT, src, 0, 0, "path too long");
            break;
        }
        if (lstat(a, &st)) continue;
        if (S_ISDIR(st.st_mode))
            rc = copy_tree(a, b, depth + 1, err);
        else if (S_ISREG(st.st_mode))
            rc = br_copy_file(a, b, err);
    }
    closedir(d);
    return rc;
}

static int write_saf(br_repo *repo, const br_job *job, json_t *params, const rejected *l,
                     size_t from, size_t to, const char *out_path, br_error *err)
{
    char file[PATH_MAX] = "", zip[PATH_MAX], root[PATH_MAX], unz[PATH_MAX] = "",
         stage[PATH_MAX] = "";
    int rc = br_job_files(repo, job->id, first_path, file, err);
    if (rc) return rc;
    const char *src = json_string_value(json_object_get(params, "source"));
    const char *zname = json_string_value(json_object_get(params, "zip"));
    if (file[0])
        br_strlcpy(zip, file, sizeof zip);
    else if (src && zname)
        br_path_join(zip, sizeof zip, src, zname);
    else if (src)
        br_strlcpy(root, src, sizeof root);
    else
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "job %lld names no input package",
                            (long long)job->id);
    if (file[0] || zname) {
        br_limits lim;
        br_limits_default(&lim);
        if ((rc = br_repo_mktemp(repo, "unimported-in", unz, sizeof unz, err))) return rc;
        if ((rc = br_zip_extract(zip, unz, &lim, root, sizeof root, err))) goto done;
    }
    if (!br_is_dir(root)) {
        rc = br_error_set(err, BR_ENOTFOUND, root, 0, 0, "the job's input package is gone");
        goto done;
    }
    if ((rc = br_repo_mktemp(repo, "unimported-out", stage, sizeof stage, err))) goto done;
    br_buf errors = {0};
    char a[PATH_MAX], b[PATH_MAX];
    for (size_t i = from; i < to && !rc; i++) {
        br_buf_printf(&errors, "%s: %s\n", l->keys[i], l->messages[i]);
        /* Journal keys are the package's folder names; never follow one out of it. */
        if (br_path_unsafe(l->keys[i]) || strchr(l->keys[i], '/')) continue;
        br_path_join(a, sizeof a, root, l->keys[i]);
        br_path_join(b, sizeof b, stage, l->keys[i]);
        if (br_is_dir(a)) rc = copy_tree(a, b, 0, err);
    }
    if (!rc) {
        br_path_join(a, sizeof a, stage, "errors.txt");
        rc = br_write_file_atomic(a, errors.p ? errors.p : "", errors.len, err);
    }
    br_buf_dispose(&errors);
    if (!rc) {
        snprintf(a, sizeof a, "%s.part", out_path);
        if (!(rc = br_zip_create(stage, a, err)) && rename(a, out_path))
            rc = br_error_set(err, BR_EIO, out_path, 0, 0, "cannot write: %s", strerror(errno));
        if (rc) unlink(a);
    }
done:
    if (unz[0]) br_rmtree(unz);
    if (stage[0]) br_rmtree(stage);
    return rc;
}

/* ---- CSV: the rows of the rejected groups plus an ERROR column ------------------------------- */

/* Reads one CSV record (RFC 4180: quoted fields may hold commas, quotes and
 * line breaks): its raw bytes without the line ending into raw, column B's
 * value into key.  Returns 1 for a record, 0 at the end. */
static int read_record(FILE *f, br_buf *raw, br_buf *key, size_t max)
{
    br_buf_clear(raw);
    br_buf_clear(key);
    int c, quoted = 0, any = 0;
    size_t field = 0;
    while ((c = getc(f)) != EOF) {
        any = 1;
        if (c == '"') {
            quoted = !quoted; /* "" inside quotes toggles twice: a literal quote */
        } else if (c == ',' && !quoted) {
            field++;
        } else if (c == '\n' && !quoted) {
            break;
        } else if (field == 1) {
            char ch = (char)c;
            br_buf_append(key, &ch, 1);
        }
        char ch = (char)c;
        if (raw->len < max) br_buf_append(raw, &ch, 1);
    }
    if (!any) return 0;
    if (raw->len && raw->p[raw->len - 1] == '\r') raw->p[--raw->len] = 0;
    if (key->len && key->p[key->len - 1] == '\r') key->p[--key->len] = 0;
    if (!raw->p) br_buf_puts(raw, "");
    if (!key->p) br_buf_puts(key, "");
    br_trim(key->p);
    return 1;
}

static void put_cell(br_buf *out, const char *s)
{
    br_buf_puts(out, ",\"");
    for (; *s; s++)
        br_buf_append(out, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
    br_buf_puts(out, "\"");
}

static int write_csv(br_repo *repo, const br_job *job, json_t *params, const rejected *l,
                     size_t from, size_t to, const char *out_path, br_error *err)
{
    char file[PATH_MAX] = "";
    int rc = br_job_files(repo, job->id, first_path, file, err);
    if (rc) return rc;
    const char *src = json_string_value(json_object_get(params, "source"));
    if (!file[0] && src) br_strlcpy(file, src, sizeof file);
    FILE *in = file[0] ? fopen(file, "rb") : NULL;
    if (!in) return br_error_set(err, BR_ENOTFOUND, file, 0, 0, "the job's input file is gone");
    br_strmap want = {0};
    for (size_t i = from; i < to; i++)
        br_strmap_put(&want, l->keys[i], (int64_t)i);
    char part[PATH_MAX];
    snprintf(part, sizeof part, "%s.part", out_path);
    FILE *out = fopen(part, "wb");
    if (!out) {
        fclose(in);
        br_strmap_dispose(&want);
        return br_error_set(err, BR_EIO, part, 0, 0, "cannot write: %s", strerror(errno));
    }
    br_buf raw = {0}, key = {0}, line = {0}, group = {0};
    int64_t idx = -1;
    for (int header = 1; read_record(in, &raw, &key, (size_t)1 << 24); header = 0) {
        br_buf_clear(&line);
        br_buf_append(&line, raw.p, raw.len);
        if (header) {
            br_buf_puts(&line, ",ERROR\r\n");
        } else {
            /* A row with an empty column B continues the group above. */
            if (key.p[0]) {
                br_buf_clear(&group);
                br_buf_puts(&group, key.p);
                if (!br_strmap_get(&want, group.p, &idx)) idx = -1;
            }
            if (idx < 0) continue;
            put_cell(&line, l->messages[idx]);
            br_buf_puts(&line, "\r\n");
        }
        if (fwrite(line.p, 1, line.len, out) != line.len) {
            rc = br_error_set(err, BR_EIO, part, 0, 0, "cannot write: %s", strerror(errno));
            break;
        }
    }
    fclose(in);
    if (fclose(out) && !rc)
        rc = br_error_set(err, BR_EIO, part, 0, 0, "cannot write: %s", strerror(errno));
    if (!rc && rename(part, out_path))
        rc = br_error_set(err, BR_EIO, out_path, 0, 0, "cannot write: %s", strerror(errno));
    if (rc) unlink(part);
    br_buf_dispose(&raw);
    br_buf_dispose(&key);
    br_buf_dispose(&line);
    br_buf_dispose(&group);
    br_strmap_dispose(&want);
    return rc;
}

int br_job_unimported(br_repo *repo, int64_t id, const br_unimported_options *opt,
                      const char *out_path, br_unimported_result *res, br_error *err)
{
    br_unimported_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    size_t page = opt && opt->page ? opt->page : 1;
    size_t size = opt && opt->page_size && opt->page_size < BR_UNIMPORTED_PAGE_MAX
                      ? opt->page_size
                      : BR_UNIMPORTED_PAGE_MAX;
    br_job job;
    int rc = br_job_get(repo, id, &job, err);
    if (rc) return rc;
    if (!br_engine_type_has_records(job.type))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "job %lld (%s) has no input records to download", (long long)id,
                            job.type);
    rejected l = {0};
    if ((rc = br_job_records(repo, id, NULL, collect, &l, err))) goto done;
    if (l.oom) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    res->total = l.n;
    res->pages = (l.n + size - 1) / size;
    int csv = !strcmp(job.type, "import-esploro");
    br_strlcpy(res->format, csv ? "csv" : "zip", sizeof res->format);
    if (!l.n) {
        rc = br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "job %lld has no unimported records",
                          (long long)id);
        goto done;
    }
    if (page > res->pages) {
        rc = br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                          "job %lld has %zu page%s of unimported records", (long long)id,
                          res->pages, res->pages == 1 ? "" : "s");
        goto done;
    }
    size_t from = (page - 1) * size, to = from + size < l.n ? from + size : l.n;
    json_error_t jerr;
    json_t *params = json_loads(job.params[0] ? job.params : "{}", 0, &jerr);
    rc = (csv ? write_csv : write_saf)(repo, &job, params, &l, from, to, out_path, err);
    json_decref(params);
    if (!rc) res->records = to - from;
done:
    rejected_dispose(&l);
    return rc;
}
