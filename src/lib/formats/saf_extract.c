/* The SAF driver's unimported download: a zip of the rejected item folders,
 * copied from the job's input (a package folder or a zip), plus errors.txt
 * with every finding of every rejected item ("<folder>: <finding>" a line). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bulkrepo/saf.h"
#include "core/core.h"
#include "formats/drivers.h"

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

static int errors_txt(const br_extract_options *opt, br_buf *out)
{
    for (size_t i = 0; i < opt->n_records; i++) {
        const br_rejected *r = &opt->records[i];
        if (!r->n_findings && br_buf_printf(out, "%s: %s\n", r->key, r->message ? r->message : ""))
            return BR_ENOMEM;
        for (size_t k = 0; k < r->n_findings; k++)
            if (br_buf_printf(out, "%s: %s\n", r->key, r->findings[k].text)) return BR_ENOMEM;
    }
    return 0;
}

int br_saf_drv_extract(const br_extract_options *opt, br_error *err)
{
    char root[PATH_MAX], in[PATH_MAX], stage[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
    br_buf errors = {0};
    int rc = 0;
    size_t n = strlen(opt->source);
    if (n > 4 && !strcasecmp(opt->source + n - 4, ".zip")) {
        if (!br_is_file(opt->source))
            return br_error_set(err, BR_ENOTFOUND, opt->source, 0, 0,
                                "the job's input package is gone");
        if (br_path_join(in, sizeof in, opt->scratch, "in") || mkdir(in, 0700))
            return br_error_set(err, BR_EIO, opt->scratch, 0, 0, "cannot unpack the input");
        if ((rc = br_zip_extract(opt->source, in, opt->limits, root, sizeof root, err))) return rc;
    } else {
        br_strlcpy(root, opt->source, sizeof root);
    }
    if (!br_is_dir(root))
        return br_error_set(err, BR_ENOTFOUND, root, 0, 0, "the job's input package is gone");
    if (br_path_join(stage, sizeof stage, opt->scratch, "out") || mkdir(stage, 0700))
        return br_error_set(err, BR_EIO, opt->scratch, 0, 0, "cannot stage the download");
    for (size_t i = 0; i < opt->n_records && !rc; i++) {
        const char *key = opt->records[i].key;
        /* Journal keys are the package's folder names; never follow one out of it. */
        if (br_path_unsafe(key) || strchr(key, '/')) continue;
        if (br_path_join(a, sizeof a, root, key) || br_path_join(b, sizeof b, stage, key))
            return br_error_set(err, BR_ELIMIT, key, 0, 0, "path too long");
        if (br_is_dir(a)) rc = copy_tree(a, b, 0, err);
    }
    if (rc) return rc;
    if (errors_txt(opt, &errors)) {
        br_buf_dispose(&errors);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    if (br_path_join(a, sizeof a, stage, "errors.txt")) rc = BR_ELIMIT;
    if (!rc) rc = br_write_file_atomic(a, errors.p ? errors.p : "", errors.len, err);
    br_buf_dispose(&errors);
    if (rc) return rc;
    if (snprintf(a, sizeof a, "%s.part", opt->out_path) >= (int)sizeof a)
        return br_error_set(err, BR_ELIMIT, opt->out_path, 0, 0, "path too long");
    if (!(rc = br_zip_create(stage, a, err)) && rename(a, opt->out_path))
        rc = br_error_set(err, BR_EIO, opt->out_path, 0, 0, "cannot write: %s", strerror(errno));
    if (rc) unlink(a);
    return rc;
}
