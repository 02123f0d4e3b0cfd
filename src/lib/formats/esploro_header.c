/* The Esploro reader's header: column B's key column, each column mapped to
 * its crosswalk field and parsed target, the columns the mandatory-field rule
 * and the LINK-shift repair need, and the header's own findings. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "formats/esploro_internal.h"

/* ---- structured targets ------------------------------------------------------------------- */

typedef struct attr {
    const char *name;
    size_t off;
} attr;

#define CR(f)                                                                                      \
    {                                                                                              \
#f, offsetof(br_creator, f)                                                                \
    }
#define LK(f)                                                                                      \
    {                                                                                              \
#f, offsetof(br_link, f)                                                                   \
    }
#define FL(f)                                                                                      \
    {                                                                                              \
#f, offsetof(br_bitstream, f)                                                              \
    }
static const attr CREATOR_ATTRS[] = {CR(family),
                                     CR(given),
                                     CR(middle),
                                     CR(suffix),
                                     CR(affiliation),
                                     CR(email),
                                     CR(researcher_id),
                                     CR(orcid),
                                     CR(primary_id),
                                     CR(brcode),
                                     CR(additional),
                                     CR(display),
                                     {"organization", offsetof(br_creator, display)},
                                     {"type", offsetof(br_creator, contrib_type)}};
static const attr LINK_ATTRS[] = {LK(url),   LK(title),   LK(description),
                                  LK(type),  LK(license), LK(rights),
                                  LK(owner), LK(order),   LK(display_in_viewer)};
static const attr FILE_ATTRS[] = {
    FL(url),           FL(description), FL(name),
    FL(order),         FL(license),     FL(rights),
    FL(rights_reason), FL(rights_date), {"type", offsetof(br_bitstream, content_type)},
    FL(supplemental)};
#undef CR
#undef LK
#undef FL

size_t br_ecsv_attr_offset(int row_type, const char *name)
{
    const attr *t = row_type == BR_ECSV_ROW_LINK   ? LINK_ATTRS
                    : row_type == BR_ECSV_ROW_FILE ? FILE_ATTRS
                                                   : CREATOR_ATTRS;
    size_t n = row_type == BR_ECSV_ROW_LINK   ? BR_ARRAY_LEN(LINK_ATTRS)
               : row_type == BR_ECSV_ROW_FILE ? BR_ARRAY_LEN(FILE_ATTRS)
                                              : BR_ARRAY_LEN(CREATOR_ATTRS);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].name, name)) return t[i].off;
    return SIZE_MAX;
}

int br_ecsv_parse_header(br_ecsv_reader *r, br_error *err)
{
    int rc = br_ecsv_read_row(r, err);
    if (rc < 0) return rc;
    if (rc == 0) {
        br_ecsv_finding(r, BR_SEV_ERROR, -1, 0, "ecsv.header.missing",
                        "the first row names the columns", "the file is empty");
        return br_error_set(err, BR_EINVAL, r->source, 1, 0, "the file is empty: no header row");
    }
    if (r->fixing && br_csv_had_bom(r->csv))
        br_ecsv_finding(r, BR_SEV_NOTE, -1, 1, "ecsv.fix.bom", NULL,
                        "the UTF-8 byte-order mark is dropped");
    r->ncols = r->ncells;
    if (r->ncols < 2) {
        br_ecsv_finding(r, BR_SEV_ERROR, 1, r->rowno, "ecsv.header.key-column",
                        "column B is GROUP_ID (new assets) or RESEARCH_ASSET_ID (updates)",
                        "the header has no column B: B1 must be GROUP_ID or RESEARCH_ASSET_ID");
        return br_error_set(err, BR_EINVAL, r->source, r->rowno, 2,
                            "the header has no column B (GROUP_ID or RESEARCH_ASSET_ID)");
    }
    r->cols = calloc(r->ncols, sizeof *r->cols);
    r->fix = calloc(BR_ECSV_MAX_COLUMNS, sizeof *r->fix);
    r->present = calloc(br_ecsv_xwalk_count(r->xw) + 1, 1);
    if (!r->cols || !r->fix || !r->present)
        return br_error_set(err, BR_ENOMEM, r->source, 0, 0, "out of memory");
    /* Cells with bytes that are no text are reported and skipped. */
    int plain = br_ecsv_row_ascii(r) && !r->rec.has_nul;
    for (unsigned c = 0; c < r->ncols; c++) {
        br_ecsv_column *col = &r->cols[c];
        col->row_type = -1;
        if (!plain && br_ecsv_cell_bad(r, c)) continue;
        const char *s = r->rec.cells[c].p;
        size_t n = r->rec.cells[c].len, b = 0, e = n;
        while (b < e && br_ecsv_is_ws((unsigned char)s[b]))
            b++;
        while (e > b && br_ecsv_is_ws((unsigned char)s[e - 1]))
            e--;
        if (c == 0) {
            if (n) {
                br_ecsv_finding(r, BR_SEV_ERROR, 0, r->rowno, "ecsv.header.a1-not-blank",
                                "cell A1 is left empty; column A holds each row's type",
                                "A1 must be blank, it holds '%s'", br_ecsv_shown(r, s, n));
                if (r->fixing) {
                    br_ecsv_set_fix(r, 0, "", 0);
                    br_ecsv_finding(r, BR_SEV_NOTE, 0, r->rowno, "ecsv.fix.a1-not-blank", NULL,
                                    "A1 emptied");
                }
            }
            continue;
        }
        if (b != 0 || e != n) {
            br_ecsv_finding(r, BR_SEV_WARNING, (int)c, r->rowno, "ecsv.header.whitespace",
                            "bulkrepo lint --fix trims it",
                            "the header '%s' has whitespace at its start or end",
                            br_ecsv_shown(r, s, n));
            if (r->fixing) {
                br_ecsv_set_fix(r, c, s + b, e - b);
                br_ecsv_finding(r, BR_SEV_NOTE, (int)c, r->rowno, "ecsv.fix.header-whitespace",
                                NULL, "header trimmed to '%s'", br_ecsv_shown(r, s + b, e - b));
            }
        }
        if (c == 1) {
            static const char *const keys[] = {"GROUP_ID", "RESEARCH_ASSET_ID"};
            int k = -1;
            for (int i = 0; i < 2; i++)
                if (e - b == strlen(keys[i]) && !strncasecmp(s + b, keys[i], e - b)) k = i;
            if (k < 0) {
                br_ecsv_finding(r, BR_SEV_ERROR, 1, r->rowno, "ecsv.header.key-column",
                                "column B is GROUP_ID (new assets) or RESEARCH_ASSET_ID (updates)",
                                "B1 must be GROUP_ID or RESEARCH_ASSET_ID, it holds '%s'",
                                br_ecsv_shown(r, s, n));
                return br_error_set(err, BR_EINVAL, r->source, r->rowno, 2,
                                    "B1 must be GROUP_ID or RESEARCH_ASSET_ID, not '%s'",
                                    br_ecsv_shown(r, s, n));
            }
            snprintf(r->key_header, sizeof r->key_header, "%.*s", (int)(e - b), s + b);
            r->by_asset_id = k == 1;
            continue;
        }
        if (b == e) {
            br_ecsv_finding(r, BR_SEV_WARNING, (int)c, r->rowno, "ecsv.header.blank-column",
                            "name the column or remove it",
                            "column %u has no header; its values are "
                            "ignored",
                            c + 1);
            continue;
        }
        const br_ecsv_field *f = br_ecsv_xwalk_column_n(r->xw, s + b, e - b);
        if (!f) {
            const char *best = NULL;
            unsigned best_d = 4;
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(e - b < 127 ? e - b : 127), s + b);
            for (char *p = name; *p; p++)
                if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
            for (size_t i = 0; i < br_ecsv_xwalk_count(r->xw); i++) {
                unsigned d = br_levenshtein(name, br_ecsv_xwalk_at(r->xw, i)->column);
                if (d < best_d) best_d = d, best = br_ecsv_xwalk_at(r->xw, i)->column;
            }
            char hint[200];
            if (best)
                snprintf(hint, sizeof hint, "did you mean %s?", best);
            else
                snprintf(hint, sizeof hint, "data/esploro_fields.tsv lists the Esploro columns");
            br_ecsv_finding(r, BR_SEV_WARNING, (int)c, r->rowno, "ecsv.header.unknown-column", hint,
                            "'%s' is not an Esploro column; its values are ignored",
                            br_ecsv_shown(r, s, n));
            continue;
        }
        col->field = f;
        col->row_type = br_ecsv_row_type(f->row, strlen(f->row));
        col->is_title = !strcmp(f->column, "ASSET_TITLE");
        col->is_origid = !strcmp(f->column, "ASSET_ORIGASSET_ID");
        col->is_date = !strcmp(f->category, "dates");
        r->present[f - br_ecsv_xwalk_at(r->xw, 0)] = 1;
        if (f->target[0] == '@') {
            col->structured = 1;
            const char *dot = strchr(f->target, '.');
            col->attr = dot ? dot + 1 : "";
            col->attr_off = br_ecsv_attr_offset(col->row_type, col->attr);
            col->is_url = !strcmp(col->attr, "url");
        } else if (br_field_parse(f->target, col->schema, col->element, col->qualifier)) {
            return br_error_set(err, BR_EINTERNAL, "data/esploro_fields.tsv", 0, 0,
                                "bad target '%s'", f->target);
        }
        /* Long text keeps its paragraphs as <p>: free-text descriptions, not codes or names. */
        size_t cl = strlen(f->column);
        col->long_text =
            f->kind == BR_ECSV_TEXT && (!strcmp(f->category, "description") ||
                                        (cl > 4 && !strcmp(f->column + cl - 4, "DESC")) ||
                                        (cl > 11 && !strcmp(f->column + cl - 11, "DESCRIPTION")));
    }
    /* Real exports put LINK values under the CREATOR_* columns (notes/formats.md 1.7 item 4):
     * the distance between CREATOR_FAMNAME and LINK_LINKURL in this header. */
    int fam = -1, url = -1;
    r->link_first = INT_MAX;
    r->link_last = -1;
    for (size_t i = 0; i < BR_ECSV_MANDATORY; i++)
        r->mandatory_col[i] = -1;
    for (unsigned c = 2; c < r->ncols; c++) {
        const br_ecsv_field *f = r->cols[c].field;
        if (!f) continue;
        for (size_t i = 0; i < BR_ECSV_MANDATORY; i++)
            if (r->mandatory_col[i] < 0 && !strcmp(f->column, br_ecsv_mandatory[i].column))
                r->mandatory_col[i] = (int)c;
        if (r->cols[c].is_date && r->cols[c].row_type == BR_ECSV_ROW_ASSET) r->asset_date_col = 1;
        if (!strcmp(f->column, "CREATOR_FAMNAME") && fam < 0) fam = (int)c;
        if (!strcmp(f->column, "LINK_LINKURL") && url < 0) url = (int)c;
        if (r->cols[c].row_type == BR_ECSV_ROW_LINK) {
            if ((int)c < r->link_first) r->link_first = (int)c;
            if ((int)c > r->link_last) r->link_last = (int)c;
        }
    }
    r->link_shift = fam >= 0 && url > fam ? url - fam : 0;
    r->data_offset = br_csv_tell(r->csv);
    r->data_line = br_csv_line(r->csv);
    r->high_water = r->data_offset;
    if (r->fixing) {
        r->row_shifted = 0;
        rc = br_ecsv_out_row(r, err);
        br_ecsv_fix_clear(r);
        if (rc) return rc;
    }
    return 0;
}
