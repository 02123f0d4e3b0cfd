/* Conversion between batch formats without a repository (issue 3, item 4):
 * the source format's reader -> the record model -> the target format's
 * writer (formats/format.h).  One loop for every pair of formats; what a
 * format cannot hold or has to change is its writer's business (reported as
 * notes and warnings and counted in its stats), what it unpacks is its
 * reader's.
 *
 *   pass 1: read every record (the reader reports every problem with its
 *           place); files a record names by a local path must exist;
 *   pass 2: only when pass 1 found no error: rewind, read again (the
 *           reader's findings were reported already) and hand each record to
 *           the writer with its input key (from_input); close the writer.
 *
 * So invalid input leaves nothing behind, and neither does a failure while
 * writing: the writer is aborted and removes what it wrote.  A zipped input
 * is unpacked by the reader into a scratch folder made here under $TMPDIR
 * and removed at the end.
 *
 * Findings whose rule ends in ".mandatory" are rules of the source system's
 * own upload (fields it requires of a new record), not of reading: a
 * conversion reports them as warnings and goes on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bulkrepo/convert.h"
#include "core/core.h"
#include "jobs/convert_internal.h"

#define PATH_SIZE 4096

static const char *const ENUM_NAMES[] = {"saf", "esploro-csv"};

int br_convert_format_parse(const char *name, br_convert_format *out)
{
    for (size_t i = 0; name && i < BR_ARRAY_LEN(ENUM_NAMES); i++)
        if (!strcmp(name, ENUM_NAMES[i])) return *out = (br_convert_format)i, 0;
    return BR_EUSAGE;
}

/* The reader's findings: counted, passed on in pass 1, dropped in pass 2. */
typedef struct cv {
    const br_convert_options *opt;
    br_convert_result *res;
    br_diag_sink sink;
    int writing;
} cv;

static int ends_with(const char *s, const char *tail)
{
    size_t n = s ? strlen(s) : 0, t = strlen(tail);
    return n >= t && !strcmp(s + n - t, tail);
}

static void on_read_diag(void *ctx, const br_diag *d)
{
    cv *c = ctx;
    if (c->writing) return;
    br_diag copy = *d;
    if (copy.severity == BR_SEV_ERROR && ends_with(copy.rule, ".mandatory"))
        copy.severity = BR_SEV_WARNING;
    if (copy.severity == BR_SEV_ERROR) c->res->invalid++;
    br_diag_emit(c->opt->diags, &copy);
}

static int path_exists(const char *path)
{
    struct stat sb;
    return !lstat(path, &sb) || errno != ENOENT;
}

static int stop(const br_convert_options *opt, const char *phase, size_t done, size_t total,
                br_error *err)
{
    if (opt->progress && opt->progress(opt->progress_ctx, phase, done, total))
        return br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "stopped on request");
    return 0;
}

static void count_column(void *ctx, const char *column, const char *category)
{
    (*(size_t *)ctx)++;
}

/* --default: the target's writer checks the columns and values in describe mode (nothing is
 * made); a writer that lists no columns has nothing to give them to.  Before any reading. */
static int check_defaults(const br_format *to, const br_convert_options *opt, br_error *err)
{
    if (!opt->defaults || !opt->defaults[0]) return 0;
    size_t columns = 0;
    br_write_options wo = {0};
    wo.from_input = 1;
    wo.defaults = opt->defaults;
    wo.on_column = count_column;
    wo.column_ctx = &columns;
    br_writer *w = NULL;
    int rc = to->writer_open(&wo, &w, err);
    if (rc) return rc;
    if (w) to->writer_abort(w);
    if (!columns)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "--default: %s has no columns to give a value to", to->info.name);
    return 0;
}

int br_convert_with(const br_format *from, const br_format *to, const br_convert_options *opt,
                    br_convert_result *res, br_error *err)
{
    br_convert_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    char names[256];
    if (!opt || !opt->in || !*opt->in || !opt->out || !*opt->out)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "convert needs an input and an output");
    if (!from || !(from->info.caps & BR_FORMAT_READ) || !from->open) {
        br_format_names(BR_FORMAT_READ, names, sizeof names);
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "convert reads %s", names);
    }
    if (!to || !(to->info.caps & BR_FORMAT_WRITE) || !to->writer_open) {
        br_format_names(BR_FORMAT_WRITE, names, sizeof names);
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "convert writes %s", names);
    }
    if (from == to)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "--from and --to are the same format");
    int rc = check_defaults(to, opt, err);
    if (rc) return rc;
    if (!path_exists(opt->in))
        return br_error_set(err, BR_ENOTFOUND, opt->in, 0, 0, "the input does not exist");
    if (path_exists(opt->out))
        return br_error_set(err, BR_EEXISTS, opt->out, 0, 0,
                            "the output already exists; give a new name");

    cv c = {opt, res, {on_read_diag, NULL, 0, 0, 0}, 0};
    c.sink.ctx = &c;
    br_limits lim = opt->limits;
    if (!lim.max_file_size) br_limits_default(&lim);
    char scratch[PATH_SIZE];
    br_reader *r = NULL;
    br_writer *w = NULL;
    br_record *rec = br_record_new();
    br_write_stats ws = {0};
    if (!rec) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/bulkrepo-convert-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(scratch)) {
        int e = errno;
        scratch[0] = 0;
        rc = br_error_set(err, BR_EIO, NULL, 0, 0, "cannot make a scratch folder: %s", strerror(e));
        goto done;
    }

    /* pass 1: every rule; local files must exist */
    br_read_options ro = {0};
    ro.source = opt->in;
    ro.scratch = scratch;
    ro.limits = &lim;
    ro.diags = &c.sink;
    if ((rc = from->open(&ro, &r, err))) goto done;
    br_read_info info;
    size_t n = 0;
    while ((rc = from->next(r, rec, &info, err)) == 1) {
        n++;
        for (size_t i = 0; i < rec->n_bs; i++) {
            const br_bitstream *b = &rec->bs[i];
            if (b->path && !br_is_file(b->path))
                br_diag_emitf(&c.sink, BR_SEV_ERROR, info.key, b->origin.source, b->origin.line,
                              b->origin.column, "convert.file-missing",
                              "a file's path is taken relative to the input's folder",
                              "file '%s' does not exist", b->path);
        }
        if ((rc = stop(opt, "validate", n, 0, err))) goto done;
    }
    if (rc < 0) goto done;
    if (res->invalid) {
        rc = br_error_set(err, BR_EINVAL, opt->in, 0, 0,
                          "the input has %zu error%s; nothing written", res->invalid,
                          res->invalid == 1 ? "" : "s");
        goto done;
    }

    /* pass 2 */
    br_write_options wo = {0};
    wo.dest = opt->out;
    wo.seq = 1;
    wo.from_input = 1;
    wo.defaults = opt->defaults;
    wo.diags = opt->diags;
    wo.stats = &ws;
    if ((rc = to->writer_open(&wo, &w, err))) goto done;
    c.writing = 1;
    if ((rc = from->rewind(r, err))) goto done;
    size_t i = 0;
    char key[1024];
    while ((rc = from->next(r, rec, &info, err)) == 1) {
        br_strlcpy(key, info.key ? info.key : "", sizeof key);
        /* A key that names a stored record by its handle is the record's handle. */
        if (info.update && !rec->handle && strchr(key, '/') &&
            !(rec->handle = br_record_str(rec, key))) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        if ((rc = to->write(w, key, rec, err))) goto done;
        if ((rc = stop(opt, "convert", ++i, n, err))) goto done;
    }
    if (rc < 0) goto done;
    rc = to->writer_close(w, err);
    w = NULL;
done:
    if (w) to->writer_abort(w);
    if (r) from->close(r);
    if (scratch[0]) br_rmtree(scratch); /* only the folder mkdtemp made here */
    br_record_free(rec);
    res->records = rc ? 0 : ws.records;
    res->files = rc ? 0 : ws.files;
    res->lost = ws.lost;
    res->changed = ws.changed;
    return rc < 0 ? rc : 0;
}

int br_convert(const br_convert_options *opt, br_convert_result *res, br_error *err)
{
    if (!opt) return br_convert_with(NULL, NULL, opt, res, err);
    const char *from = opt->from_name, *to = opt->to_name;
    if (!from && (unsigned)opt->from < BR_ARRAY_LEN(ENUM_NAMES)) from = ENUM_NAMES[opt->from];
    if (!to && (unsigned)opt->to < BR_ARRAY_LEN(ENUM_NAMES)) to = ENUM_NAMES[opt->to];
    return br_convert_with(br_format_find(from), br_format_find(to), opt, res, err);
}
