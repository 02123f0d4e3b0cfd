/* Conversion between DSpace SAF and the Esploro research-asset CSV without a
 * repository (issue 3, item 4), through the record model:
 *
 *   saf -> esploro-csv:  br_saf_open/read_item -> br_ecsv_write_record.  Column
 *     B is GROUP_ID = the item folder; the handle file goes to ASSET_HANDLE;
 *     files are copied to OUT.files/<folder>/ and referenced relative to OUT.
 *   esploro-csv -> saf:  br_ecsv_open/next -> br_saf_write_item.  One folder
 *     per group (the key when it is a safe folder name, else asset_<n>);
 *     structured creators become dc.contributor.* (br_record_derive_contributors);
 *     FILE rows with local files become bitstreams; http(s) files are not
 *     fetched (reported); ASSET_HANDLE (or a RESEARCH_ASSET_ID that is a
 *     handle) becomes the handle file; <p>...</p> paragraphs become lines again.
 *
 * Both directions validate the whole input first (pass 1) and write only when
 * it has no errors (pass 2), so invalid input leaves nothing behind.  Every
 * value with no target is a note: the writer's "ecsv.write.no-column" for the
 * CSV side, "convert.no-target" here for the SAF side (creator identifiers,
 * links, file rights, collections, ...).
 *
 * Known ambiguity: a SAF value that is itself "<p>a</p><p>b</p>" comes back as
 * two lines; Esploro has no way to tell formatting from text. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bulkrepo/convert.h"
#include "bulkrepo/esploro.h"
#include "bulkrepo/saf.h"
#include "core/core.h"
#include "jobs/ecsv_files.h"

#define PATH_SIZE 4096

int br_convert_format_parse(const char *name, br_convert_format *out)
{
    if (name && !strcmp(name, "saf")) return *out = BR_FORMAT_SAF, 0;
    if (name && !strcmp(name, "esploro-csv")) return *out = BR_FORMAT_ESPLORO_CSV, 0;
    return BR_EUSAGE;
}

/* ---- the findings: classified, counted, passed on ------------------------------------------- */

typedef struct cv {
    const br_convert_options *opt;
    br_convert_result *res;
    br_diag_sink sink; /* what the readers and the writer report to */
    br_limits lim;
} cv;

static const char *const LOST_RULES[] = {"ecsv.write.no-column", "ecsv.write.no-file",
                                         "convert.no-target", "convert.not-fetched"};
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
    cv *c = ctx;
    br_diag copy = *d;
    /* Esploro's mandatory fields are an upload rule, not something a
     * conversion needs: reported, not blocking. */
    if (copy.severity == BR_SEV_ERROR && copy.rule && !strcmp(copy.rule, "ecsv.group.mandatory"))
        copy.severity = BR_SEV_WARNING;
    if (copy.severity == BR_SEV_ERROR) c->res->invalid++;
    if (copy.severity == BR_SEV_NOTE && rule_in(copy.rule, LOST_RULES, BR_ARRAY_LEN(LOST_RULES)))
        c->res->lost++;
    if (copy.severity == BR_SEV_WARNING &&
        rule_in(copy.rule, CHANGED_RULES, BR_ARRAY_LEN(CHANGED_RULES)))
        c->res->changed++;
    br_diag_emit(c->opt->diags, &copy);
}

static void lost(cv *c, const char *item, const br_origin *o, const char *fmt, const char *a,
                 const char *b)
{
    br_diag_emitf(&c->sink, BR_SEV_NOTE, item, o ? o->source : NULL, o ? o->line : 0,
                  o ? o->column : 0, "convert.no-target", NULL, fmt, a, b);
}

static int path_exists(const char *path)
{
    struct stat sb;
    return !lstat(path, &sb) || errno != ENOENT;
}

/* ---- SAF -> Esploro CSV ---------------------------------------------------------------------- */

static int saf_to_csv(cv *c, const char *root, br_error *err)
{
    const br_convert_options *opt = c->opt;
    br_saf_package *pkg = NULL;
    br_ecsv_writer *w = NULL;
    br_record *rec = br_record_new();
    char files_dir[PATH_SIZE], base[PATH_SIZE];
    int made_files = 0, rc = 0;
    if (!rec) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    rc = br_saf_open(root, &c->lim, &c->sink, &pkg, err);
    if (rc) goto done;
    br_saf_read_options ro = {0, &c->lim};
    size_t n = br_saf_count(pkg);
    /* pass 1: every item must read cleanly */
    for (size_t i = 0; i < n; i++) {
        rc = br_saf_read_item(pkg, i, &ro, rec, &c->sink, err);
        if (rc && rc != BR_EINVAL) goto done;
        rc = 0;
        if (opt->progress && opt->progress(opt->progress_ctx, "validate", i + 1, n)) {
            rc = br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "stopped on request");
            goto done;
        }
    }
    if (c->res->invalid) {
        rc = br_error_set(err, BR_EINVAL, opt->in, 0, 0,
                          "the package has %zu error%s; nothing written", c->res->invalid,
                          c->res->invalid == 1 ? "" : "s");
        goto done;
    }
    /* pass 2 */
    if (snprintf(files_dir, sizeof files_dir, "%s.files", opt->out) >= (int)sizeof files_dir) {
        rc = br_error_set(err, BR_ELIMIT, opt->out, 0, 0, "path too long");
        goto done;
    }
    if (path_exists(files_dir)) {
        rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "%s already exists (the files go there)",
                          files_dir);
        goto done;
    }
    const char *slash = strrchr(files_dir, '/');
    br_strlcpy(base, opt->out, sizeof base);
    char *bs = strrchr(base, '/');
    if (bs)
        *bs = 0;
    else
        strcpy(base, ".");
    br_ecsv_write_options wo = {0};
    wo.key_header = "GROUP_ID";
    wo.base_dir = base;
    wo.diags = &c->sink;
    rc = br_ecsv_writer_open(opt->out, &wo, &w, err);
    if (rc) goto done;
    for (size_t i = 0; i < n; i++) {
        const char *folder = br_saf_folder(pkg, i);
        rc = br_saf_read_item(pkg, i, &ro, rec, NULL, err);
        if (rc) goto done;
        if (rec->handle && !br_record_has(rec, "esploro.asset.handle") &&
            !br_record_add_md(rec, "esploro", "asset", "handle", NULL, rec->handle)) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        for (size_t k = 0; k < rec->n_collections; k++)
            lost(c, folder, NULL, "no Esploro column for the item's collection (value '%s')%s",
                 rec->collections[k], "");
        int any_file = 0;
        for (size_t k = 0; k < rec->n_bs; k++)
            any_file |= rec->bs[k].path != NULL;
        if (any_file && !made_files) {
            rc = br_mkdir_p(files_dir, err);
            if (rc) goto done;
            made_files = 1;
        }
        int64_t bytes = 0;
        rc = br_ecsv_copy_files(rec, files_dir, slash ? slash + 1 : files_dir, folder, &bytes, err);
        if (!rc) rc = br_ecsv_write_record(w, folder, rec, err);
        if (rc) goto done;
        for (size_t k = 0; k < rec->n_bs; k++)
            c->res->files += rec->bs[k].path != NULL;
        c->res->records++;
        if (opt->progress && opt->progress(opt->progress_ctx, "convert", i + 1, n)) {
            rc = br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "stopped on request");
            goto done;
        }
    }
    rc = br_ecsv_writer_close(w, err);
    w = NULL;
done:
    br_ecsv_writer_abort(w);
    if (rc && made_files) br_rmtree(files_dir);
    br_saf_close(pkg);
    br_record_free(rec);
    return rc;
}

/* ---- Esploro CSV -> SAF ---------------------------------------------------------------------- */

/* "<p>a</p><p>b</p>" -> "a\nb" (the writer's paragraphs); other values stay. */
static const char *unparagraph(br_record *rec, const char *v)
{
    size_t n = strlen(v);
    if (n < 7 || strncmp(v, "<p>", 3) || strcmp(v + n - 4, "</p>")) return v;
    br_buf b = {0};
    const char *p = v;
    int ok = 1;
    while (ok && *p) {
        if (strncmp(p, "<p>", 3)) {
            ok = 0;
            break;
        }
        p += 3;
        const char *e = strstr(p, "</p>");
        const char *inner = strstr(p, "<p>");
        if (!e || (inner && inner < e)) {
            ok = 0;
            break;
        }
        if ((b.len && br_buf_append(&b, "\n", 1)) || br_buf_append(&b, p, (size_t)(e - p))) ok = 0;
        p = e + 4;
    }
    const char *out = ok && b.p ? br_record_strn(rec, b.p, b.len) : ok ? "" : v;
    br_buf_dispose(&b);
    return out ? out : v;
}

static int nonempty(const char *s)
{
    return s && *s;
}

/* Reports what the structured model holds that SAF cannot: creator
 * identifiers and affiliations, links, file rights, remote files. */
static void report_structured(cv *c, br_record *rec, const char *key)
{
    static const struct {
        const char *label;
        size_t off;
    } CPARTS[] = {
        {"ORCID", offsetof(br_creator, orcid)},
        {"e-mail", offsetof(br_creator, email)},
        {"affiliation", offsetof(br_creator, affiliation)},
        {"researcher id", offsetof(br_creator, researcher_id)},
        {"primary id", offsetof(br_creator, primary_id)},
        {"BR code", offsetof(br_creator, brcode)},
        {"additional", offsetof(br_creator, additional)},
    };
    char who[600], what[700];
    for (size_t i = 0; i < rec->n_creators; i++) {
        const br_creator *cr = &rec->creators[i];
        char name[400];
        br_creator_name(cr, name, sizeof name);
        snprintf(who, sizeof who, "%s %d (%s)",
                 cr->role == BR_CREATOR ? (cr->is_organization ? "OCREATOR" : "CREATOR")
                                        : (cr->is_organization ? "OCONT" : "CONT"),
                 cr->place + 1, name);
        for (size_t k = 0; k < BR_ARRAY_LEN(CPARTS); k++) {
            const char *s = *(const char *const *)((const char *)cr + CPARTS[k].off);
            if (!nonempty(s)) continue;
            snprintf(what, sizeof what, "%s: %s", who, CPARTS[k].label);
            lost(c, key, &cr->origin, "no SAF field for %s '%s'", what, s);
        }
        char q[64];
        if (cr->role == BR_CONTRIBUTOR && nonempty(cr->contrib_type) &&
            strcasecmp(br_creator_qualifier(cr, q), cr->contrib_type)) {
            snprintf(what, sizeof what, "%s: contributor type", who);
            lost(c, key, &cr->origin, "no SAF field for %s '%s' (written as dc.contributor.other)",
                 what, cr->contrib_type);
        }
        int named = nonempty(cr->family) || nonempty(cr->given) || nonempty(cr->middle);
        if (!cr->is_organization && named && nonempty(cr->display)) {
            snprintf(what, sizeof what, "%s: display name", who);
            lost(c, key, &cr->origin, "no SAF field for %s '%s'", what, cr->display);
        }
    }
    static const struct {
        const char *label;
        size_t off;
    } LPARTS[] = {
        {"URL", offsetof(br_link, url)},
        {"title", offsetof(br_link, title)},
        {"description", offsetof(br_link, description)},
        {"type", offsetof(br_link, type)},
        {"licence", offsetof(br_link, license)},
        {"rights", offsetof(br_link, rights)},
        {"owner", offsetof(br_link, owner)},
        {"order", offsetof(br_link, order)},
        {"display in viewer", offsetof(br_link, display_in_viewer)},
    };
    for (size_t i = 0; i < rec->n_links; i++)
        for (size_t k = 0; k < BR_ARRAY_LEN(LPARTS); k++) {
            const char *s = *(const char *const *)((const char *)&rec->links[i] + LPARTS[k].off);
            if (!nonempty(s)) continue;
            snprintf(what, sizeof what, "LINK %zu: %s", i + 1, LPARTS[k].label);
            lost(c, key, &rec->links[i].origin, "no SAF field for %s '%s'", what, s);
        }
    static const struct {
        const char *label;
        size_t off;
    } FPARTS[] = {
        {"licence", offsetof(br_bitstream, license)},
        {"rights", offsetof(br_bitstream, rights)},
        {"rights reason", offsetof(br_bitstream, rights_reason)},
        {"rights date", offsetof(br_bitstream, rights_date)},
        {"content type", offsetof(br_bitstream, content_type)},
        {"supplemental", offsetof(br_bitstream, supplemental)},
        {"order", offsetof(br_bitstream, order)},
    };
    for (size_t i = 0; i < rec->n_bs; i++)
        for (size_t k = 0; k < BR_ARRAY_LEN(FPARTS); k++) {
            const br_bitstream *b = &rec->bs[i];
            const char *s = *(const char *const *)((const char *)b + FPARTS[k].off);
            if (!nonempty(s)) continue;
            snprintf(what, sizeof what, "file '%.300s': %s", b->name, FPARTS[k].label);
            lost(c, key, &b->origin, "no SAF field for %s '%s'", what, s);
        }
}

/* Prepares a record read from the CSV for the SAF writer. */
static int csv_record_to_saf(cv *c, br_record *rec, const char *key, int by_asset_id)
{
    report_structured(c, rec, key);
    /* http(s) files are not fetched: the bitstream is left out. */
    size_t kept = 0;
    for (size_t i = 0; i < rec->n_bs; i++) {
        br_bitstream *b = &rec->bs[i];
        if (!b->path) {
            br_diag_emitf(&c->sink, BR_SEV_NOTE, key, b->origin.source, b->origin.line,
                          b->origin.column, "convert.not-fetched",
                          "download it and give FILE_FILEURL as a path relative to the CSV",
                          "file '%s' is not fetched (%s): left out", b->name ? b->name : "",
                          b->url ? b->url : "no URL");
            continue;
        }
        rec->bs[kept] = *b;
        rec->bs[kept].sequence = (int)kept;
        kept++;
    }
    rec->n_bs = kept;
    /* The handle: ASSET_HANDLE, else a RESEARCH_ASSET_ID that is a handle. */
    size_t out = 0;
    for (size_t i = 0; i < rec->n_md; i++) {
        br_mdv *v = &rec->md[i];
        if (!strcmp(v->schema, "esploro") && !strcmp(v->element, "asset") && v->qualifier &&
            !strcmp(v->qualifier, "handle") && !rec->handle && strchr(v->value, '/')) {
            rec->handle = v->value;
            continue;
        }
        v->value = unparagraph(rec, v->value);
        rec->md[out++] = *v;
    }
    rec->n_md = out;
    if (!rec->handle && by_asset_id && strchr(key, '/') && !(rec->handle = br_record_str(rec, key)))
        return BR_ENOMEM;
    return br_record_derive_contributors(rec);
}

/* The SAF folder of a group: its key when that is a safe folder name. */
static void folder_for(const char *key, size_t n, char *out, size_t size)
{
    if (key && *key && key[0] != '.' && !strchr(key, '/') && !br_path_unsafe(key) &&
        strlen(key) < size && strlen(key) < 200) {
        int ok = 1;
        for (const char *p = key; *p && ok; p++)
            ok = (unsigned char)*p > 0x20;
        if (ok) {
            br_strlcpy(out, key, size);
            return;
        }
    }
    snprintf(out, size, "asset_%zu", n);
}

static int csv_to_saf(cv *c, br_error *err)
{
    const br_convert_options *opt = c->opt;
    br_ecsv_reader *r = NULL;
    br_record *rec = br_record_new();
    br_ecsv_group g;
    int rc = 0, made_out = 0;
    if (!rec) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_ecsv_options eo = {0};
    eo.limits = c->lim;
    eo.diags = &c->sink;
    /* pass 1: every rule; local files must exist */
    rc = br_ecsv_open(opt->in, &eo, &r, err);
    if (rc) goto done;
    size_t groups = 0;
    while ((rc = br_ecsv_next(r, rec, &g, err)) == 1) {
        groups++;
        for (size_t i = 0; i < rec->n_bs; i++) {
            const br_bitstream *b = &rec->bs[i];
            if (b->path && !br_is_file(b->path))
                br_diag_emitf(&c->sink, BR_SEV_ERROR, g.key, b->origin.source, b->origin.line,
                              b->origin.column, "convert.file-missing",
                              "FILE_FILEURL paths are relative to the CSV's folder",
                              "file '%s' does not exist", b->path);
        }
    }
    br_ecsv_close(r);
    r = NULL;
    if (rc < 0) goto done;
    rc = 0;
    if (c->res->invalid) {
        rc = br_error_set(err, BR_EINVAL, opt->in, 0, 0, "the CSV has %zu error%s; nothing written",
                          c->res->invalid, c->res->invalid == 1 ? "" : "s");
        goto done;
    }
    /* pass 2: the reader's findings were reported in pass 1 */
    eo.diags = NULL;
    rc = br_ecsv_open(opt->in, &eo, &r, err);
    if (rc) goto done;
    rc = br_mkdir_p(opt->out, err);
    if (rc) goto done;
    made_out = 1;
    size_t n = 0;
    br_saf_write_options wo = {0};
    while ((rc = br_ecsv_next(r, rec, &g, err)) == 1) {
        char folder[256], dir[PATH_SIZE];
        char key[512];
        br_strlcpy(key, g.key, sizeof key);
        folder_for(key, ++n, folder, sizeof folder);
        if ((rc = csv_record_to_saf(c, rec, key, g.by_asset_id))) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        if (br_path_join(dir, sizeof dir, opt->out, folder)) {
            rc = br_error_set(err, BR_ELIMIT, opt->out, 0, 0, "path too long");
            goto done;
        }
        rc = br_saf_write_item(dir, rec, &wo, err);
        if (rc) goto done;
        c->res->records++;
        c->res->files += rec->n_bs;
        if (opt->progress && opt->progress(opt->progress_ctx, "convert", n, groups)) {
            rc = br_error_set(err, BR_ECANCELLED, NULL, 0, 0, "stopped on request");
            goto done;
        }
    }
done:
    br_ecsv_close(r);
    if (rc < 0 && made_out) br_rmtree(opt->out); /* only the folder made here */
    br_record_free(rec);
    return rc < 0 ? rc : 0;
}

/* ---- entry ----------------------------------------------------------------------------------- */

int br_convert(const br_convert_options *opt, br_convert_result *res, br_error *err)
{
    br_convert_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    if (!opt || !opt->in || !*opt->in || !opt->out || !*opt->out)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "convert needs an input and an output");
    if (opt->from == opt->to ||
        (opt->from != BR_FORMAT_SAF && opt->from != BR_FORMAT_ESPLORO_CSV) ||
        (opt->to != BR_FORMAT_SAF && opt->to != BR_FORMAT_ESPLORO_CSV))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "convert goes from saf to esploro-csv or from esploro-csv to saf");
    if (!path_exists(opt->in))
        return br_error_set(err, BR_ENOTFOUND, opt->in, 0, 0, "the input does not exist");
    if (path_exists(opt->out))
        return br_error_set(err, BR_EEXISTS, opt->out, 0, 0,
                            "the output already exists; give a new name");
    cv c = {opt, res, {on_diag, NULL, 0, 0, 0}, {0}};
    c.sink.ctx = &c;
    c.lim = opt->limits;
    if (!c.lim.max_file_size) br_limits_default(&c.lim);
    if (opt->from == BR_FORMAT_ESPLORO_CSV) return csv_to_saf(&c, err);

    /* A zip is extracted to a private scratch folder first. */
    char scratch[PATH_SIZE] = "", root[PATH_SIZE];
    int rc = 0;
    if (br_is_dir(opt->in)) {
        br_strlcpy(root, opt->in, sizeof root);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/bulkrepo-convert-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(scratch)) {
            int e = errno;
            scratch[0] = 0;
            return br_error_set(err, BR_EIO, NULL, 0, 0, "cannot make a scratch folder: %s",
                                strerror(e));
        }
        rc = br_zip_extract(opt->in, scratch, &c.lim, root, sizeof root, err);
    }
    if (!rc) rc = saf_to_csv(&c, root, err);
    if (scratch[0]) br_rmtree(scratch);
    return rc;
}
