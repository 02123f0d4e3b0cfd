/* The Esploro research-asset CSV driver's writer: records -> one CSV
 * (br_ecsv_writer_*, esploro_write.c) and its files, for export and convert.
 *
 *   export:   column B is RESEARCH_ASSET_ID = the record's handle, so the file
 *             re-imports as an update; the files go to
 *             "<dest>.files/<handle with '/' as '_'>/<name>".
 *   convert:  (from_input) column B is GROUP_ID = the record's input key; the
 *             handle, if any, goes to ASSET_HANDLE; the files go to
 *             "<dest>.files/<key>/<name>"; the collections, which have no
 *             column, are notes.
 *
 * --default COLUMN=VALUE (convert): a record with no value in an ASSET or PRTOF column
 * gets VALUE there, checked at open as lint checks it, so that values every record
 * needs (the affiliation: SAF has none) make the new assets lint clean.
 *
 * Files are referenced relative to the CSV's folder.  A name that is not a
 * safe relative path, or has bytes FILE_FILEURL cannot hold (spaces,
 * controls: Esploro URLs have none), is copied as "<n>_<name with those bytes
 * as '_'>" (FILE_DISPLAY_NAME keeps the real name).  -x writes no FILE
 * columns and copies nothing.  --fields / --categories select columns.
 *
 * Nothing shows before writer_close: the CSV is written under a temporary
 * name (br_ecsv_writer), the files into "<dest>.files.tmpXXXXXX" (made with
 * the first file); close renames both, abort removes both.  Neither dest nor
 * "<dest>.files" may exist (BR_EEXISTS at open).
 *
 * The writer's findings pass through a sink that counts what they mean:
 * notes of values without a column are lost values, warnings of values
 * trimmed, split, joined or cut are changed values (br_write_stats). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bulkrepo/esploro.h"
#include "core/core.h"
#include "formats/drivers.h"
#include "formats/esploro_internal.h"

#define PATH_SIZE 4096

struct br_writer {
    br_write_options opt;
    br_write_stats local, *stats;
    br_diag_sink sink; /* wraps opt.diags */
    br_ecsv_writer *csv;
    br_ecsv_xwalk *xw;
    const char **columns; /* -x: the selection without FILE columns (names in xw) */
    size_t n_columns;
    char files_dir[PATH_SIZE]; /* "<dest>.files" */
    char files_rel[PATH_SIZE]; /* its name relative to the CSV's folder */
    char stage[PATH_SIZE];     /* "<dest>.files.tmpXXXXXX" once made; "" before */
    char key[512];             /* the last record's key, for stats->key */
    /* --default COLUMN=VALUE: the column's field and the value (in the caller's string) */
    const br_ecsv_field **dflt_field;
    const char **dflt_value;
    size_t n_dflt;
};

static const char *const LOST_RULES[] = {"ecsv.write.no-column", "ecsv.write.no-file",
                                         "convert.no-target"};
static const char *const CHANGED_RULES[] = {"ecsv.write.whitespace", "ecsv.write.multi",
                                            "ecsv.write.separator", "ecsv.write.time-dropped"};

static int rule_in(const char *rule, const char *const *set, size_t n)
{
    for (size_t i = 0; rule && i < n; i++)
        if (!strcmp(rule, set[i])) return 1;
    return 0;
}

static void on_diag(void *ctx, const br_diag *d)
{
    br_writer *w = ctx;
    if (d->severity == BR_SEV_NOTE && rule_in(d->rule, LOST_RULES, BR_ARRAY_LEN(LOST_RULES)))
        w->stats->lost++;
    if (d->severity == BR_SEV_WARNING &&
        rule_in(d->rule, CHANGED_RULES, BR_ARRAY_LEN(CHANGED_RULES)))
        w->stats->changed++;
    br_diag_emit(w->opt.diags, d);
}

static int no_memory(br_error *err)
{
    return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
}

static int path_exists(const char *path)
{
    struct stat sb;
    return !lstat(path, &sb) || errno != ENOENT;
}

static int selected(const br_write_options *opt, const br_ecsv_field *f)
{
    int keep = !opt->n_fields && !opt->n_categories;
    for (size_t k = 0; !keep && k < opt->n_fields; k++)
        keep = opt->fields[k] && !strcasecmp(opt->fields[k], f->column);
    for (size_t k = 0; !keep && k < opt->n_categories; k++)
        keep = opt->categories[k] && !strcasecmp(opt->categories[k], f->category);
    return keep;
}

/* Every name in --fields must be a column, every --categories name a category. */
static int check_selection(const br_ecsv_xwalk *x, const br_write_options *opt, br_error *err)
{
    for (size_t i = 0; i < opt->n_fields; i++)
        if (!opt->fields[i] || !br_ecsv_xwalk_column(x, opt->fields[i]))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "unknown Esploro column '%s'",
                                opt->fields[i] ? opt->fields[i] : "");
    for (size_t i = 0; i < opt->n_categories; i++) {
        int found = 0;
        for (size_t k = 0; !found && opt->categories[i] && k < br_ecsv_xwalk_count(x); k++)
            found = !strcasecmp(br_ecsv_xwalk_at(x, k)->category, opt->categories[i]);
        if (!found)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "unknown Esploro category '%s'",
                                opt->categories[i] ? opt->categories[i] : "");
    }
    return 0;
}

/* Checks one part of a --default value against its column's kind. */
static int check_default_value(const br_ecsv_xwalk *x, const br_ecsv_field *f, const char *v,
                               size_t n, br_error *err)
{
    br_ecsv_vres vr;
    if (!n)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "--default %s: an empty value", f->column);
    br_ecsv_check_value(x, f->kind, v, n, &vr);
    if (vr.bad)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "--default %s: '%.*s' %s%s%s%s", f->column,
                            (int)(n < 200 ? n : 200), v, vr.why, vr.hint ? " (" : "",
                            vr.hint ? vr.hint : "", vr.hint ? ")" : "");
    return 0;
}

/* --default COLUMN=VALUE: a column of the ASSET or PRTOF row (the record's metadata; creators,
 * links and files are rows of their own) and a value it takes, as lint would check it. */
static int parse_defaults(br_writer *w, br_error *err)
{
    const char *const *d = w->opt.defaults;
    size_t n = 0;
    while (d && d[n])
        n++;
    if (!n) return 0;
    w->dflt_field = calloc(n, sizeof *w->dflt_field);
    w->dflt_value = calloc(n, sizeof *w->dflt_value);
    if (!w->dflt_field || !w->dflt_value) return no_memory(err);
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(d[i], '=');
        char column[128];
        if (!eq || eq == d[i] || (size_t)(eq - d[i]) >= sizeof column)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "--default takes COLUMN=VALUE, e.g. "
                                "ASSET_AFFILIATION=01EXAMPLE___UNIT (got '%s')",
                                d[i]);
        snprintf(column, sizeof column, "%.*s", (int)(eq - d[i]), d[i]);
        const br_ecsv_field *f = br_ecsv_xwalk_column(w->xw, column);
        if (!f)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "--default: '%s' is not an Esploro column "
                                "(data/esploro_fields.tsv)",
                                column);
        if (f->target[0] == '@')
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "--default: %s is a column of %s rows; defaults are for ASSET "
                                "and PRTOF columns",
                                f->column, f->row);
        for (size_t k = 0; k < i; k++)
            if (w->dflt_field[k] == f)
                return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "--default %s is given twice",
                                    f->column);
        const char *v = eq + 1, *end = v + strlen(v);
        if (!f->multi && strstr(v, "@@"))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "--default %s: the column holds one value, but '%s' has @@",
                                f->column, v);
        int rc;
        for (const char *p = v;; p += 2) {
            const char *q = f->multi ? strstr(p, "@@") : NULL;
            if ((rc = check_default_value(w->xw, f, p, (size_t)((q ? q : end) - p), err)))
                return rc;
            if (!q) break;
            p = q;
        }
        w->dflt_field[i] = f;
        w->dflt_value[i] = v;
    }
    w->n_dflt = n;
    return 0;
}

/* Gives rec the --default values of the columns it has no value in. */
static int apply_defaults(br_writer *w, br_record *rec)
{
    for (size_t i = 0; i < w->n_dflt; i++) {
        const br_ecsv_field *f = w->dflt_field[i];
        if (br_record_has(rec, f->target)) continue;
        char schema[64], element[64], qualifier[64];
        if (br_field_parse(f->target, schema, element, qualifier)) return BR_EINTERNAL;
        const char *v = w->dflt_value[i], *end = v + strlen(v);
        for (const char *p = v;; p += 2) {
            const char *q = f->multi ? strstr(p, "@@") : NULL;
            const char *val = br_record_strn(rec, p, (size_t)((q ? q : end) - p));
            if (!val ||
                !br_record_add_md(rec, schema, element, *qualifier ? qualifier : NULL, NULL, val))
                return BR_ENOMEM;
            if (!q) break;
            p = q;
        }
    }
    return 0;
}

/* -x: the selected columns (all when none were selected) without FILE_*. */
static int columns_without_files(br_writer *w, br_error *err)
{
    size_t n = br_ecsv_xwalk_count(w->xw);
    w->columns = calloc(n + 1, sizeof *w->columns);
    if (!w->columns) return no_memory(err);
    for (size_t i = 0; i < n; i++) {
        const br_ecsv_field *f = br_ecsv_xwalk_at(w->xw, i);
        if (strcmp(f->row, "FILE") && selected(&w->opt, f)) w->columns[w->n_columns++] = f->column;
    }
    if (!w->n_columns)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "-x leaves no column to export: the selection has only FILE columns");
    return 0;
}

int br_ecsv_drv_writer_open(const br_write_options *opt, br_writer **out, br_error *err)
{
    *out = NULL;
    br_writer *w = calloc(1, sizeof *w);
    if (!w) return no_memory(err);
    w->opt = *opt;
    w->stats = opt->stats ? opt->stats : &w->local;
    w->sink = (br_diag_sink){on_diag, w, 0, 0, 0};
    char base[PATH_SIZE];
    int rc = br_ecsv_xwalk_new(&w->xw, err);
    if (rc) goto done;
    if (opt->on_column) {
        for (size_t i = 0, n = br_ecsv_xwalk_count(w->xw); i < n; i++)
            opt->on_column(opt->column_ctx, br_ecsv_xwalk_at(w->xw, i)->column,
                           br_ecsv_xwalk_at(w->xw, i)->category);
        rc = check_selection(w->xw, opt, err);
        if (!rc) rc = parse_defaults(w, err);
        goto done; /* describe mode: nothing made */
    }
    /* Usage first: nothing is looked at on disk for a wrong command line. */
    if (opt->migrate || opt->zip) {
        rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                          "an Esploro CSV has no item folders: -m and -z do not apply");
        goto done;
    }
    if (!opt->dest || !*opt->dest) {
        rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no destination file given");
        goto done;
    }
    if ((rc = check_selection(w->xw, opt, err))) goto done;
    if ((rc = parse_defaults(w, err))) goto done;
    if (opt->exclude_bitstreams && (rc = columns_without_files(w, err))) goto done;

    /* <dest>.files next to the CSV, referenced relative to the CSV's folder. */
    if (snprintf(w->files_dir, sizeof w->files_dir, "%s.files", opt->dest) >=
        (int)sizeof w->files_dir) {
        rc = br_error_set(err, BR_ELIMIT, opt->dest, 0, 0, "path too long");
        goto done;
    }
    const char *slash = strrchr(w->files_dir, '/');
    br_strlcpy(w->files_rel, slash ? slash + 1 : w->files_dir, sizeof w->files_rel);
    br_strlcpy(base, opt->dest, sizeof base);
    char *bs = strrchr(base, '/');
    if (bs)
        *bs = 0;
    else
        br_strlcpy(base, ".", sizeof base);
    if (path_exists(opt->dest)) {
        rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "%s already exists", opt->dest);
        goto done;
    }
    if (!opt->exclude_bitstreams && path_exists(w->files_dir)) {
        rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "%s already exists (the files go there)",
                          w->files_dir);
        goto done;
    }
    br_ecsv_write_options wo = {0};
    wo.key_header = opt->from_input ? "GROUP_ID" : "RESEARCH_ASSET_ID";
    if (opt->exclude_bitstreams) {
        wo.columns = w->columns;
        wo.n_columns = w->n_columns;
    } else {
        wo.columns = opt->fields;
        wo.n_columns = opt->n_fields;
        wo.categories = opt->categories;
        wo.n_categories = opt->n_categories;
    }
    wo.base_dir = base;
    wo.diags = &w->sink;
    rc = br_ecsv_writer_open(opt->dest, &wo, &w->csv, err);
done:
    if (rc || opt->on_column) {
        br_ecsv_drv_writer_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* Copies rec's files that have content (bs->path set) to <stage>/<sub>/<name>
 * and points each bitstream at its copy relative to the CSV's folder
 * ("<files_rel>/<sub>/<name>"), as FILE_FILEURL takes it. */
static int copy_files(br_writer *w, br_record *rec, const char *sub, br_error *err)
{
    char dir[PATH_SIZE], dst[PATH_SIZE], rel[PATH_SIZE], safe[PATH_SIZE];
    int made = 0;
    for (size_t j = 0; j < rec->n_bs; j++) {
        br_bitstream *b = &rec->bs[j];
        if (!b->path) continue;
        if (!w->stage[0]) {
            if (snprintf(w->stage, sizeof w->stage, "%s.tmpXXXXXX", w->files_dir) >=
                (int)sizeof w->stage) {
                w->stage[0] = 0;
                return br_error_set(err, BR_ELIMIT, w->files_dir, 0, 0, "path too long");
            }
            if (!mkdtemp(w->stage)) {
                int e = errno;
                w->stage[0] = 0;
                return br_error_set(err, BR_EIO, w->files_dir, 0, 0, "cannot make a folder: %s",
                                    strerror(e));
            }
        }
        if (br_path_join(dir, sizeof dir, w->stage, sub))
            return br_error_set(err, BR_ELIMIT, w->files_dir, 0, 0, "path too long");
        const char *name = b->name ? b->name : "";
        int changed = !*name || br_path_unsafe(name) != NULL;
        size_t k = 0;
        for (const char *p = changed ? "file" : name; *p && k + 1 < sizeof safe; p++) {
            int bad = (unsigned char)*p <= 0x20 || *p == 0x7f;
            safe[k++] = bad ? '_' : *p;
            changed |= bad;
        }
        safe[k] = 0;
        if (changed) {
            char tmp[PATH_SIZE + 32]; /* "<n>_" fits before any safe name */
            snprintf(tmp, sizeof tmp, "%zu_%s", j + 1, safe);
            if (br_strlcpy(safe, tmp, sizeof safe) >= sizeof safe)
                return br_error_set(err, BR_ELIMIT, w->files_dir, 0, 0, "file name too long");
        }
        if (br_path_join(dst, sizeof dst, dir, safe) ||
            snprintf(rel, sizeof rel, "%s/%s/%s", w->files_rel, sub, safe) >= (int)sizeof rel)
            return br_error_set(err, BR_ELIMIT, dir, 0, 0, "path too long for %s", safe);
        int rc = 0;
        if (!made) {
            if ((rc = br_mkdir_p(dir, err))) return rc;
            made = 1;
        }
        if (strchr(safe, '/')) {
            char parent[PATH_SIZE];
            br_strlcpy(parent, dst, sizeof parent);
            *strrchr(parent, '/') = 0;
            if ((rc = br_mkdir_p(parent, err))) return rc;
        }
        if ((rc = br_copy_file(b->path, dst, err))) return rc;
        if (!(b->path = br_record_str(rec, rel))) return no_memory(err);
        struct stat sb;
        w->stats->bytes += !stat(dst, &sb) ? (uint64_t)sb.st_size : 0;
    }
    return 0;
}

int br_ecsv_drv_write(br_writer *w, const char *key, br_record *rec, br_error *err)
{
    if (w->opt.from_input) {
        /* The handle has its column; the collections have none. */
        if (rec->handle && !br_record_has(rec, "esploro.asset.handle") &&
            !br_record_add_md(rec, "esploro", "asset", "handle", NULL, rec->handle))
            return no_memory(err);
        for (size_t k = 0; k < rec->n_collections; k++)
            br_diag_emitf(&w->sink, BR_SEV_NOTE, key, NULL, 0, 0, "convert.no-target", NULL,
                          "no Esploro column for the item's collection (value '%s')",
                          rec->collections[k]);
    } else {
        key = rec->handle;
        if (!key)
            return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "item %lld has no handle",
                                (long long)rec->id);
    }
    if (!key || !*key)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a record needs a key (column B)");
    br_strlcpy(w->key, key, sizeof w->key);
    int rc = apply_defaults(w, rec);
    if (rc)
        return rc == BR_ENOMEM ? no_memory(err)
                               : br_error_set(err, rc, NULL, 0, 0, "bad crosswalk target");
    if (!w->opt.exclude_bitstreams) {
        char sub[256];
        br_strlcpy(sub, w->key, sizeof sub);
        for (char *p = sub; *p; p++)
            if (*p == '/' || *p == '\\') *p = '_';
        rc = copy_files(w, rec, sub, err);
    }
    if (!rc) rc = br_ecsv_write_record(w->csv, w->key, rec, err);
    if (rc) return rc;
    w->stats->records++;
    w->stats->files += w->opt.exclude_bitstreams ? 0 : rec->n_bs;
    w->stats->key = w->key;
    return 0;
}

int br_ecsv_drv_writer_close(br_writer *w, br_error *err)
{
    if (!w) return 0;
    int rc = 0, moved = 0;
    if (w->stage[0]) {
        if (path_exists(w->files_dir))
            rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "%s already exists (the files go there)",
                              w->files_dir);
        else if (rename(w->stage, w->files_dir))
            rc = br_error_set(err, BR_EIO, w->files_dir, 0, 0, "cannot move into place: %s",
                              strerror(errno));
        else
            w->stage[0] = 0, moved = 1;
    }
    if (!rc) {
        rc = br_ecsv_writer_close(w->csv, err);
        w->csv = NULL;
        if (rc && moved) br_rmtree(w->files_dir); /* only the folder renamed here */
    }
    br_ecsv_drv_writer_abort(w);
    return rc;
}

void br_ecsv_drv_writer_abort(br_writer *w)
{
    if (!w) return;
    br_ecsv_writer_abort(w->csv);
    if (w->stage[0]) br_rmtree(w->stage); /* only the folder mkdtemp made here */
    br_ecsv_xwalk_free(w->xw);
    free(w->columns);
    free(w->dflt_field);
    free(w->dflt_value);
    free(w);
}
