/* The Esploro reader's rows: each cell of a data row checked (line breaks,
 * whitespace, @@ parts, the value's kind), fixed when linting with --fix, and
 * added to the record: a metadata value, or an attribute of the creator,
 * contributor, link or file its row makes; then the per-row FILE and LINK rules. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "formats/esploro_internal.h"

#define BR_ECSV_UNITS_KNOWN 65536

/* With a repository: an affiliation code must name a known organisational unit. */
static int check_orgunit(br_ecsv_reader *r, unsigned c, const br_ecsv_field *f, const char *code)
{
    if (br_strmap_get(&r->units_known, code, NULL)) return 0;
    int k = br_orgunit_exists(r->repo, code);
    if (k < 0) return k;
    if (k) {
        /* a failed put only means the code is asked again */
        if (r->units_known.n < BR_ECSV_UNITS_KNOWN) (void)br_strmap_put(&r->units_known, code, 1);
        return 0;
    }
    char best[256], hint[400];
    if (!br_orgunit_suggest(r->repo, code, best, sizeof best))
        snprintf(hint, sizeof hint, "did you mean %s? (bulkrepo orgunit list)", best);
    else
        snprintf(hint, sizeof hint,
                 "add it with bulkrepo orgunit add CODE NAME, or load the "
                 "units with bulkrepo orgunit import FILE.csv");
    br_ecsv_finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.value.orgunit-unknown", hint,
                    "%s '%s' is not a known organisational unit", f->column, code);
    return 0;
}

/* The record object a structured row fills (created at its first value). */
typedef struct rowobj {
    int kind; /* 0 none, 1 creator, 2 link, 3 file */
    size_t index;
    unsigned url_col;
    int url_bad; /* its URL broke a rule (reported): it names no file to store */
} rowobj;

static void *obj_ptr(br_record *rec, rowobj *o)
{
    if (o->kind == 1) return &rec->creators[o->index];
    if (o->kind == 2) return &rec->links[o->index];
    if (o->kind == 3) return &rec->bs[o->index];
    return NULL;
}

static int add_value(br_ecsv_reader *r, br_record *rec, br_ecsv_gstate *gs, int rt,
                     const br_ecsv_column *col, rowobj *o, const char *v, size_t n, unsigned c)
{
    const br_ecsv_field *f = col->field;
    /* Lint keeps no metadata values: they are checked already and nobody reads them (the
     * structured objects stay, for the per-row FILE and LINK rules). */
    if (r->lint_only && !col->structured) return 0;
    br_origin origin = {gs->source, r->rowno, c + 1};
    char *val = br_arena_strndup(rec->arena, v, n);
    if (!val) return BR_ENOMEM;
    if (!col->structured) {
        br_mdv *m = br_record_add_md(rec, col->schema, col->element,
                                     col->qualifier[0] ? col->qualifier : NULL, NULL, val);
        if (!m) return BR_ENOMEM;
        m->origin = origin;
        if (col->is_origid) {
            br_identifier *id = br_record_add_identifier(rec, "origid", val);
            if (!id) return BR_ENOMEM;
            id->origin = origin;
        }
        return 0;
    }
    if (!o->kind) {
        if (rt == BR_ECSV_ROW_LINK) {
            if (!br_record_add_link(rec)) return BR_ENOMEM;
            o->kind = 2, o->index = rec->n_links - 1;
            rec->links[o->index].origin = (br_origin){gs->source, r->rowno, 1};
        } else if (rt == BR_ECSV_ROW_FILE) {
            if (!br_record_add_bitstream(rec, "")) return BR_ENOMEM;
            o->kind = 3, o->index = rec->n_bs - 1;
            rec->bs[o->index].origin = (br_origin){gs->source, r->rowno, 1};
            rec->bs[o->index].name = NULL;
        } else {
            br_creator_role role =
                rt == BR_ECSV_ROW_CONT || rt == BR_ECSV_ROW_OCONT ? BR_CONTRIBUTOR : BR_CREATOR;
            br_creator *cr = br_record_add_creator(rec, role);
            if (!cr) return BR_ENOMEM;
            cr->is_organization = rt == BR_ECSV_ROW_OCREATOR || rt == BR_ECSV_ROW_OCONT;
            cr->origin = (br_origin){gs->source, r->rowno, 1};
            o->kind = 1, o->index = rec->n_creators - 1;
        }
    }
    /* The column's row type is the row's (checked by the caller): the offset is for o. */
    if (col->attr_off == SIZE_MAX) return 0; /* an attribute the model lacks: ignored */
    const char **slot = (const char **)((char *)obj_ptr(rec, o) + col->attr_off);
    if (*slot && **slot) {
        /* A repeated column (legal) for a single-valued attribute: keep the first. */
        br_ecsv_finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.cell.duplicate-value",
                        "a row holds one value per field; give the other one its own row",
                        "%s already has a value on this row", f->column);
        return 0;
    }
    *slot = val;
    if (o->kind == 3 && col->is_url) o->url_col = c;
    return 0;
}

/* Fixes line breaks: long text becomes <p>line</p> paragraphs, anything else one line. */
static void fold_breaks(br_buf *out, const char *s, size_t n, int paragraphs)
{
    br_buf_clear(out);
    size_t i = 0;
    int first = 1;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != '\n' && s[j] != '\r')
            j++;
        size_t b = i, e = j;
        while (b < e && br_ecsv_is_ws((unsigned char)s[b]))
            b++;
        while (e > b && br_ecsv_is_ws((unsigned char)s[e - 1]))
            e--;
        if (e > b) {
            if (paragraphs) {
                br_buf_append(out, "<p>", 3);
                br_buf_append(out, s + b, e - b);
                br_buf_append(out, "</p>", 4);
            } else {
                if (!first) br_buf_append(out, " ", 1);
                br_buf_append(out, s + b, e - b);
            }
            first = 0;
        }
        i = j < n ? j + 1 : j;
    }
    br_buf_append(out, "", 0);
    if (!out->p) br_buf_reserve(out, 1);
    if (out->p) out->p[out->len] = 0;
}

/* Checks one non-empty cell (physical column c, header column eff), fixes it, adds its values. */
static int do_cell(br_ecsv_reader *r, br_record *rec, br_ecsv_gstate *gs, int rt, unsigned c,
                   unsigned eff, rowobj *o)
{
    const br_ecsv_column *col = &r->cols[eff];
    const br_ecsv_field *f = col->field;
    const char *s = r->rec.cells[c].p;
    size_t n = r->rec.cells[c].len;
    int changed = 0;
    br_buf *work = &r->scratch;
    if (memchr(s, '\n', n) || memchr(s, '\r', n)) {
        fold_breaks(work, s, n, col->long_text);
        br_ecsv_finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.value.line-break",
                        col->long_text
                            ? "keep paragraphs as <p>...</p>; bulkrepo lint --fix does that"
                            : "write the value on one line; bulkrepo lint --fix joins the lines",
                        "%s has a line break", f->column);
        br_ecsv_fix_note(r, c, "ecsv.value.line-break", work->p, work->len);
        s = work->p, n = work->len, changed = 1;
    }
    if (br_ecsv_has_edge_ws(s, n)) {
        const char *t = s;
        size_t tn = n;
        br_ecsv_trim(&t, &tn);
        br_ecsv_finding(
            r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.value.whitespace",
            "Esploro rejects values with leading or trailing whitespace; bulkrepo lint --fix "
            "trims them",
            "%s has whitespace at the start or end of '%s'", f->column, br_ecsv_shown(r, s, n));
        br_ecsv_fix_note(r, c, "ecsv.value.whitespace", t, tn);
        s = t, n = tn, changed = 1;
    }
    if (!n) {
        if (changed) br_ecsv_set_fix(r, c, "", 0);
        return 0;
    }
    if (!f->multi && memchr(s, '@', n) && memmem(s, n, "@@", 2))
        br_ecsv_finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.value.multi-not-allowed",
                        "only multi-valued fields (ASSET_KEYWORDS, ASSET_AFFILIATION, ...) take @@",
                        "%s holds one value, but '%s' has @@", f->column, br_ecsv_shown(r, s, n));
    /* Each @@ part: check, fix, add.  The fixed cell is assembled in r->scratch2's twin. */
    br_buf out = {0};
    const char *p = s, *end = s + n;
    int rc = 0, nparts = 0;
    while (p <= end) {
        const char *q = f->multi ? memmem(p, (size_t)(end - p), "@@", 2) : NULL;
        const char *pe = q ? q : end;
        const char *v = p;
        size_t vn = (size_t)(pe - p);
        p = q ? q + 2 : end + 1;
        if (f->multi && br_ecsv_has_edge_ws(v, vn)) {
            br_ecsv_trim(&v, &vn);
            br_ecsv_finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.value.whitespace",
                            "no spaces around @@; bulkrepo lint --fix trims them",
                            "%s has whitespace around the value '%s'", f->column,
                            br_ecsv_shown(r, v, vn));
            br_ecsv_fix_note(r, c, "ecsv.value.whitespace", v, vn);
            changed = 1;
        }
        if (!vn) {
            br_ecsv_finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.value.empty-part",
                            "remove the extra @@; bulkrepo lint --fix does",
                            "%s has an empty value between @@ separators", f->column);
            br_ecsv_fix_note(r, c, "ecsv.value.empty-part", "", 0);
            changed = 1;
            continue;
        }
        br_ecsv_vres vr;
        br_ecsv_check_value(r->xw, f->kind, v, vn, &vr);
        const char *keep = v, *norm = v;
        size_t keep_n = vn, norm_n = vn;
        if (vr.bad) {
            br_ecsv_finding(r, BR_SEV_ERROR, (int)c, r->rowno, vr.rule, vr.hint, "%s '%s' %s",
                            f->column, br_ecsv_shown(r, v, vn), vr.why);
            if (col->is_url) o->url_bad = 1;
        } else if (vr.fixable) {
            char hint[300];
            snprintf(hint, sizeof hint, "bulkrepo lint --fix writes it as '%s'", vr.fixed);
            br_ecsv_finding(r, vr.warn_only ? BR_SEV_WARNING : BR_SEV_ERROR, (int)c, r->rowno,
                            vr.rule, hint, "%s '%s': %s", f->column, br_ecsv_shown(r, v, vn),
                            vr.why);
            br_ecsv_fix_note(r, c, vr.rule, vr.fixed, strlen(vr.fixed));
            keep = vr.fixed, keep_n = strlen(vr.fixed), changed = 1;
            norm = keep, norm_n = keep_n;
        }
        if (vr.norm[0]) norm = vr.norm, norm_n = strlen(vr.norm);
        if (r->fixing) {
            if (nparts) br_buf_append(&out, "@@", 2);
            br_buf_append(&out, keep, keep_n);
        }
        nparts++;
        if (rt == BR_ECSV_ROW_ASSET) {
            if (f->kind == BR_ECSV_RESTYPE && !vr.bad) gs->has_restype = 1;
            if (f->kind == BR_ECSV_AFFIL) gs->has_affil = 1;
            if (col->is_title) gs->has_title = 1;
            if (col->is_date && !vr.bad) gs->has_date = 1;
        }
        if (f->kind == BR_ECSV_AFFIL && !vr.bad && r->repo) {
            char code[256];
            snprintf(code, sizeof code, "%.*s", (int)(norm_n < 255 ? norm_n : 255), norm);
            rc = check_orgunit(r, c, f, code);
            if (rc) break;
        }
        rc = add_value(r, rec, gs, rt, col, o, norm, norm_n, c);
        if (rc) break;
    }
    if (changed && r->fixing && !rc) br_ecsv_set_fix(r, c, out.p ? out.p : "", out.len);
    br_buf_dispose(&out);
    return rc;
}

/* Whether the current LINK row has its values 26 (link_shift) columns left of their headers:
 * every LINK_* cell empty, and every value sits link_shift columns left of a LINK_* column. */
static int link_row_shifted(const br_ecsv_reader *r)
{
    if (!r->link_shift) return 0;
    int any = 0;
    for (unsigned c = 2; c < r->ncells; c++) {
        if (!r->rec.cells[c].len) continue;
        if (c < r->ncols && r->cols[c].row_type == BR_ECSV_ROW_LINK) return 0;
        unsigned t = c + (unsigned)r->link_shift;
        if (t >= r->ncols || r->cols[t].row_type != BR_ECSV_ROW_LINK) return 0;
        any = 1;
    }
    return any;
}

int br_ecsv_row_empty(const br_ecsv_reader *r)
{
    const br_csv_cell *cell = r->rec.cells;
    for (unsigned c = 2, n = r->ncells; c < n; c++)
        if (cell[c].len) return 0;
    return 1;
}

/* Checks the current row (of type rt, -1 when unknown) and adds its values to rec. */
int br_ecsv_do_row(br_ecsv_reader *r, br_record *rec, br_ecsv_gstate *gs, int rt)
{
    int plain = br_ecsv_row_ascii(r) && !r->rec.has_nul;
    r->row_shifted = 0;
    if (rt < 0) return 0;
    if (rt == BR_ECSV_ROW_LINK && link_row_shifted(r)) {
        r->row_shifted = 1;
        unsigned first = 2;
        while (!r->rec.cells[first].len)
            first++;
        char cell[16];
        br_ecsv_cell_name(first + (unsigned)r->link_shift, r->rowno, cell);
        br_ecsv_finding(
            r, BR_SEV_WARNING, (int)first, r->rowno, "ecsv.row.link-shift",
            "Esploro's CSV export writes LINK values under the CREATOR_* columns; bulkrepo "
            "lint --fix moves them under their LINK_* headers",
            "the values of this LINK row sit %d columns left of their headers (%s is read "
            "as %s)",
            r->link_shift, r->cols[first].field ? r->cols[first].field->column : "?", cell);
        if (r->fixing)
            br_ecsv_finding(r, BR_SEV_NOTE, (int)first, r->rowno, "ecsv.fix.link-shift", NULL,
                            "fixed: the LINK values moved %d columns right", r->link_shift);
    }
    rowobj o = {0};
    int extra_reported = 0;
    /* Locals: most cells are empty, and this loop skips them without reloading r. */
    const br_csv_cell *cell = r->rec.cells;
    const unsigned ncells = r->ncells;
    for (unsigned c = 2; c < ncells; c++) {
        if (!cell[c].len) continue;
        if (c >= r->ncols) {
            if (!extra_reported)
                br_ecsv_finding(
                    r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.row.too-long",
                    "every value sits under a header; add the header or remove the value",
                    "row %u has a value in column %u, past the header's last column (%u)", r->rowno,
                    c + 1, r->ncols);
            extra_reported = 1;
            continue;
        }
        if (!plain && br_ecsv_cell_bad(r, c)) continue;
        unsigned eff = r->row_shifted ? c + (unsigned)r->link_shift : c;
        const br_ecsv_column *col = &r->cols[eff];
        if (!col->field) continue; /* unknown column: reported once at the header */
        if (col->row_type != rt) {
            char hint[200];
            snprintf(hint, sizeof hint,
                     "a value goes where row type and column prefix match: move it to a %s row",
                     col->field->row);
            br_ecsv_finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.cell.row-type-mismatch", hint,
                            "%s has a value on an %s row", col->field->column,
                            br_ecsv_row_names[rt]);
            continue;
        }
        int rc = do_cell(r, rec, gs, rt, c, eff, &o);
        if (rc) return rc;
    }
    if (o.kind == 3) {
        br_bitstream *b = &rec->bs[o.index];
        if (!b->url || !*b->url) {
            br_ecsv_finding(r, BR_SEV_ERROR, 0, r->rowno, "ecsv.file.url-missing",
                            "FILE_FILEURL names the file: an http(s):// or file:// URL, or a path "
                            "relative to the CSV",
                            "this FILE row has no FILE_FILEURL");
        } else {
            const char *u = b->url;
            if (o.url_bad) {
                /* reported by check_value (e.g. ecsv.file.path-escapes): no path */
            } else if (!strncasecmp(u, "file://", 7)) {
                /* file:///abs/path, percent-decoded */
                const char *pth = u + 7;
                char *dec = br_arena_alloc(rec->arena, strlen(pth) + 1), *d = dec;
                if (!dec) return BR_ENOMEM;
                for (const char *q = pth; *q; q++) {
                    int hi, lo;
                    if (*q == '%' && q[1] && q[2] && sscanf(q + 1, "%1x%1x", &hi, &lo) == 2)
                        *d++ = (char)(hi * 16 + lo), q += 2;
                    else
                        *d++ = *q;
                }
                *d = 0;
                if (dec[0] != '/')
                    br_ecsv_finding(r, BR_SEV_ERROR, (int)o.url_col, r->rowno, "ecsv.file.url",
                                    "a file URL is file:///absolute/path",
                                    "'%s' is not a local file URL", u);
                else
                    b->path = dec;
            } else if (strncasecmp(u, "http://", 7) && strncasecmp(u, "https://", 8)) {
                if (u[0] == '/') {
                    b->path = u;
                } else {
                    size_t fl = strlen(r->dir) + strlen(u) + 2;
                    char *full = br_arena_alloc(rec->arena, fl);
                    if (!full) return BR_ENOMEM;
                    snprintf(full, fl, "%s/%s", r->dir, u);
                    b->path = full;
                }
            }
            if (!b->name || !*b->name) {
                const char *base = u, *q;
                size_t bl;
                const char *stop = u + strcspn(u, "?#");
                for (q = u; q < stop; q++)
                    if (*q == '/') base = q + 1;
                bl = (size_t)(stop - base);
                b->name = bl ? br_arena_strndup(rec->arena, base, bl) : "file";
                if (!b->name) return BR_ENOMEM;
            }
        }
    } else if (o.kind == 2 && (!rec->links[o.index].url || !*rec->links[o.index].url)) {
        br_ecsv_finding(r, BR_SEV_ERROR, 0, r->rowno, "ecsv.link.url-missing",
                        "LINK_LINKURL holds the link's http(s):// URL",
                        "this LINK row has no LINK_LINKURL");
    }
    return 0;
}
