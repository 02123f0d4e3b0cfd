/* The Esploro CSV writer: records -> the grouped research-asset CSV
 * (notes/formats.md 1.2-1.7; the crosswalk is data/esploro_fields.tsv).
 *
 *   header:  A1 blank, the key header (RESEARCH_ASSET_ID by default), then the
 *            selected columns in the crosswalk's order;
 *   a group: one ASSET row; a PRTOF row when the record has host-publication
 *            values; CREATOR/OCREATOR rows (the structured creators, or when the
 *            record has none, creators derived from dc.contributor.author);
 *            CONT/OCONT rows; LINK rows; FILE rows.  Every row is padded to the
 *            header's width (as Esploro's own files are).
 *
 * Values are turned back into Esploro's forms: ISO dates -> YYYY[MM[DD]],
 * ranges "a/b" -> "YYYYMMDD - YYYYMMDD", MM/DD/YYYY for ASSET_ACCESSRIGHTDATE,
 * YES/NO/UNKNOWN upper case, several values of a field -> one cell joined with
 * "@@", line breaks -> <p>...</p> paragraphs (E4: raw line breaks break the
 * upload), leading and trailing whitespace trimmed; cells are quoted per RFC 4180.
 *
 * Nothing is dropped silently: a value that has no Esploro column is a note
 * (rule ecsv.write.no-column) with the record's key and the value's origin; a
 * value that had to change is a warning with the cell it was written to.
 * Columns left out by a selection (--fields, --categories) are not reported:
 * leaving them out was asked for.
 *
 * Memory: one row of cells, reused; independent of the number of records.
 * The file is written under a temporary name and renamed by
 * br_ecsv_writer_close, so a failed export never leaves a partial CSV. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "bulkrepo/esploro.h"
#include "core/core.h"
#include "formats/esploro_internal.h"

#define SAMPLE_MAX 60 /* bytes of a value quoted in a message */

/* A part of the structured model: its name in the crosswalk's targets
 * ("@creator.<name>", "@link.<name>", "@file.<name>") and where it is. */
typedef struct part {
    const char *name;
    size_t off;
} part;

#define CP(n, f)                                                                                   \
    {                                                                                              \
        n, offsetof(br_creator, f)                                                                 \
    }
/* Order = the order of checks, not of columns (columns follow the crosswalk). */
static const part CREATOR_PARTS[] = {
    CP("family", family),     CP("given", given),
    CP("middle", middle),     CP("suffix", suffix),
    CP("display", display),   CP("affiliation", affiliation),
    CP("email", email),       CP("researcher_id", researcher_id),
    CP("orcid", orcid),       CP("primary_id", primary_id),
    CP("brcode", brcode),     CP("additional", additional),
    CP("type", contrib_type),
};
#define N_CPARTS      BR_ARRAY_LEN(CREATOR_PARTS)
#define CPART_DISPLAY 4

#define LP(n, f)                                                                                   \
    {                                                                                              \
        n, offsetof(br_link, f)                                                                    \
    }
static const part LINK_PARTS[] = {
    LP("url", url),     LP("title", title),     LP("description", description),
    LP("type", type),   LP("license", license), LP("rights", rights),
    LP("owner", owner), LP("order", order),     LP("display_in_viewer", display_in_viewer),
};
#define N_LPARTS BR_ARRAY_LEN(LINK_PARTS)

/* "url" (path or URL) is computed; the others are strings of br_bitstream. */
#define FP(n, f)                                                                                   \
    {                                                                                              \
        n, offsetof(br_bitstream, f)                                                               \
    }
static const part FILE_PARTS[] = {
    FP("name", name),
    FP("description", description),
    FP("license", license),
    FP("rights", rights),
    FP("rights_reason", rights_reason),
    FP("rights_date", rights_date),
    FP("type", content_type),
    FP("supplemental", supplemental),
    FP("order", order),
    FP("read_group", read_group),
    FP("write_group", write_group),
    FP("iiif_label", iiif_label),
    FP("iiif_toc", iiif_toc),
};
#define N_FPARTS BR_ARRAY_LEN(FILE_PARTS)

/* The Esploro fields every new asset must have (E1 field table, notes 1.5), and what the
 * user gives for each when the input has none (`bulkrepo convert --default`). */
static const struct mandatory {
    const char *column, *value;
} MANDATORY[] = {{"ASSET_TITLE", "TITLE"},
                 {"ASSET_RESTYPE", "CATEGORY.TYPE"},
                 {"ASSET_AFFILIATION", "PREFIX___UNIT"}};
#define DATE_DEFAULT "ASSET_PUBLISHDATE"

struct br_ecsv_writer {
    br_ecsv_xwalk *xw;
    br_diag_sink *diags;
    char *path;         /* the final name */
    char *tmp;          /* written here first */
    char *base_dir;     /* FILE rows: paths relative to it; NULL = absolute file:// URLs */
    const char *source; /* the output's base name, for messages */
    FILE *f;
    int selective;
    int new_assets;            /* GROUP_ID: rows make new assets, which need the mandatory fields */
    size_t n_fields;           /* crosswalk entries */
    int *out_of;               /* crosswalk index -> output column (2 = C), -1 = not written */
    const br_ecsv_field **col; /* output column -> its field (0 and 1: NULL) */
    int *col_type;             /* output column -> its row type */
    size_t n_cols;
    br_buf *cells; /* one value per output column; [0] row type, [1] key */
    /* Crosswalk index of each structured part, -1 when it has no column. */
    int cpart[2][N_CPARTS]; /* [role] */
    int corg[2];            /* @creator.organization, @contributor.organization */
    int lpart[N_LPARTS];
    int fpart[N_FPARTS];
    int furl;
    int date_cols[64]; /* ASSET date columns written (mandatory: one of them) */
    size_t n_date_cols;
    br_buf val;         /* a converted value */
    br_buf line;        /* a CSV line */
    br_record *scratch; /* creators derived from dc.contributor.* */
    unsigned rows;      /* lines written, header included */
};

/* ---- small helpers ------------------------------------------------------------------------------
 */

static int nonempty(const char *s)
{
    return s && *s;
}

/* "A", ..., "Z", "AA", ... for a 0-based column. */
static void col_letters(size_t col, char *out, size_t size)
{
    char tmp[16];
    size_t n = 0;
    col++;
    while (col && n < sizeof tmp) {
        col--;
        tmp[n++] = (char)('A' + col % 26);
        col /= 26;
    }
    size_t k = 0;
    while (n && k + 1 < size)
        out[k++] = tmp[--n];
    out[k] = 0;
}

/* A short excerpt of a value for messages (no line breaks). */
static const char *sample(const char *v, char *buf, size_t size)
{
    size_t k = 0, i = 0;
    for (; v[i] && k + 4 < size && i < SAMPLE_MAX; i++)
        buf[k++] = v[i] == '\n' || v[i] == '\r' || v[i] == '\t' ? ' ' : v[i];
    /* never cut a UTF-8 sequence */
    while (k && v[i] && ((unsigned char)v[i] & 0xC0) == 0x80)
        k--, i--;
    if (v[i]) buf[k++] = '.', buf[k++] = '.', buf[k++] = '.';
    buf[k] = 0;
    return buf;
}

static void field_name(const br_mdv *v, char *out, size_t size)
{
    snprintf(out, size, "%s.%s%s%s", v->schema, v->element, v->qualifier ? "." : "",
             v->qualifier ? v->qualifier : "");
}

static void note_origin(br_ecsv_writer *w, const char *key, const br_origin *o, const char *rule,
                        const char *fmt, const char *a, const char *b)
{
    char sb[SAMPLE_MAX + 8];
    br_diag_emitf(w->diags, BR_SEV_NOTE, key, o ? o->source : NULL, o ? o->line : 0,
                  o ? o->column : 0, rule, NULL, fmt, a, b ? sample(b, sb, sizeof sb) : "");
}

/* A finding about a value written to a cell (row of the output, column). */
static void cell_warn(br_ecsv_writer *w, const char *key, unsigned row, size_t col,
                      const char *rule, const char *hint, const char *fmt, const char *a,
                      const char *b)
{
    char cell[24], letters[12], msg[600], sb[SAMPLE_MAX + 8];
    col_letters(col, letters, sizeof letters);
    snprintf(cell, sizeof cell, "%s%u", letters, row);
    snprintf(msg, sizeof msg, fmt, a, b ? sample(b, sb, sizeof sb) : "");
    br_diag d = {BR_SEV_WARNING, key, w->source, row, (unsigned)col + 1, cell, rule, msg, hint};
    br_diag_emit(w->diags, &d);
}

/* ---- value conversion ---------------------------------------------------------------------------
 */

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* An ISO 8601 date "YYYY", "YYYY-MM", "YYYY-MM-DD" (or Esploro's YYYY[MM[DD]])
 * of length n -> YYYY[MM[DD]] into out; 0 when it is none of these. */
static int compact_date(const char *s, size_t n, char out[9])
{
    if ((n == 4 || n == 6 || n == 8) && digits(s, n)) {
        memcpy(out, s, n);
        out[n] = 0;
    } else if ((n == 7 || n == 10) && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) &&
               (n == 7 || (s[7] == '-' && digits(s + 8, 2)))) {
        memcpy(out, s, 4);
        memcpy(out + 4, s + 5, 2);
        if (n == 10) memcpy(out + 6, s + 8, 2);
        out[n == 10 ? 8 : 6] = 0;
    } else {
        return 0;
    }
    /* Only a date that exists (not 2021-02-30): what the writer writes lints clean. */
    char iso[11];
    return br_ecsv_compact_date(out, strlen(out), iso);
}

typedef enum conv_issue {
    CONV_OK = 0,
    CONV_NOT_FORMAT, /* written as it is; Esploro will reject it */
    CONV_TIME_DROPPED,
    CONV_LANG_CODE, /* another spelling of a language, written as its ISO 639-2/B code */
    CONV_RESTYPE,   /* a DSpace dc.type label, written as an Esploro asset type */
} conv_issue;

/* A date value in the column's kind; the result is in w->val. */
static int conv_date(br_ecsv_writer *w, br_ecsv_kind kind, const char *s, size_t n,
                     conv_issue *issue)
{
    char a[9], b[9];
    if (kind == BR_ECSV_MDY) {
        /* ISO full date -> MM/DD/YYYY; MM/DD/YYYY stays */
        if (compact_date(s, n, a) && strlen(a) == 8)
            return br_buf_printf(&w->val, "%.2s/%.2s/%.4s", a + 4, a + 6, a);
        if (n == 10 && digits(s, 2) && s[2] == '/' && digits(s + 3, 2) && s[5] == '/' &&
            digits(s + 6, 4))
            return br_buf_append(&w->val, s, n);
        *issue = CONV_NOT_FORMAT;
        return br_buf_append(&w->val, s, n);
    }
    if (compact_date(s, n, a)) return br_buf_puts(&w->val, a);
    const char *slash = memchr(s, '/', n);
    if (kind == BR_ECSV_DATERANGE && slash && compact_date(s, (size_t)(slash - s), a) &&
        compact_date(slash + 1, n - (size_t)(slash - s) - 1, b))
        return br_buf_printf(&w->val, "%s - %s", a, b);
    /* "YYYYMMDD - YYYYMMDD" already */
    if (kind == BR_ECSV_DATERANGE && n == 19 && !memcmp(s + 8, " - ", 3) && compact_date(s, 8, a) &&
        compact_date(s + 11, 8, b))
        return br_buf_append(&w->val, s, n);
    /* A timestamp (dc.date.issued can be one): its date, the time is reported. */
    if (n > 10 && s[10] == 'T' && compact_date(s, 10, a)) {
        *issue = CONV_TIME_DROPPED;
        return br_buf_puts(&w->val, a);
    }
    *issue = CONV_NOT_FORMAT;
    return br_buf_append(&w->val, s, n);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Converts one value for field f into w->val; *trimmed and *issue tell what changed. */
static int convert(br_ecsv_writer *w, const br_ecsv_field *f, const char *v, int *trimmed,
                   conv_issue *issue)
{
    br_buf_clear(&w->val);
    *trimmed = 0;
    *issue = CONV_OK;
    size_t n = strlen(v);
    const char *s = v;
    while (n && is_space(*s))
        s++, n--;
    while (n && is_space(s[n - 1]))
        n--;
    *trimmed = n != strlen(v);
    if (f->kind == BR_ECSV_DATE || f->kind == BR_ECSV_DATERANGE || f->kind == BR_ECSV_MDY)
        return conv_date(w, f->kind, s, n, issue);
    if (f->kind == BR_ECSV_LANG && !br_ecsv_lang_canon(w->xw, s, n)) {
        /* DSpace writes dc.language.iso as ISO 639-1 (en) or a locale (en_US). */
        const char *b = br_ecsv_lang_from_alias(w->xw, s, n);
        if (b) {
            *issue = CONV_LANG_CODE;
            return br_buf_puts(&w->val, b);
        }
    }
    if (f->kind == BR_ECSV_RESTYPE) {
        /* An asset type as it is; a DSpace dc.type label ("Dataset", "Article") as the type
         * data/restype_aliases.tsv gives it, before a code that differs only in case (the
         * bare category "dataset"); a code in another case in its canonical case. */
        const char *canon = br_ecsv_restype_canon(w->xw, s, n);
        if (!canon || strlen(canon) != n || memcmp(canon, s, n)) {
            const char *code = br_ecsv_restype_from_label(w->xw, s, n);
            if (code || canon) {
                *issue = CONV_RESTYPE;
                return br_buf_puts(&w->val, code ? code : canon);
            }
        }
    }
    if (f->kind == BR_ECSV_YESNO) {
        int rc = br_buf_append(&w->val, s, n);
        for (size_t i = 0; !rc && i < w->val.len; i++)
            if (w->val.p[i] >= 'a' && w->val.p[i] <= 'z') w->val.p[i] = (char)(w->val.p[i] - 32);
        return rc;
    }
    /* Line breaks -> one <p>...</p> per line (E4: keep formatting with <p>). */
    if (!memchr(s, '\n', n) && !memchr(s, '\r', n)) return br_buf_append(&w->val, s, n);
    const char *end = s + n;
    while (s <= end) {
        const char *e = s;
        while (e < end && *e != '\n' && *e != '\r')
            e++;
        int rc = br_buf_puts(&w->val, "<p>");
        if (!rc) rc = br_buf_append(&w->val, s, (size_t)(e - s));
        if (!rc) rc = br_buf_puts(&w->val, "</p>");
        if (rc) return rc;
        if (e == end) break;
        s = e + (e[0] == '\r' && e + 1 < end && e[1] == '\n' ? 2 : 1);
    }
    return 0;
}

static int has_separator(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '@' && s[i + 1] == '@') return 1;
    return 0;
}

/* Adds a value to the cell of crosswalk entry fi (written on output row `row`). */
static int put(br_ecsv_writer *w, const char *key, unsigned row, int fi, const char *value)
{
    int col = w->out_of[fi];
    if (col < 0 || !value) return 0;
    const br_ecsv_field *f = w->col[col];
    int trimmed;
    conv_issue issue;
    if (convert(w, f, value, &trimmed, &issue)) return BR_ENOMEM;
    if (!w->val.len) return 0; /* an empty value is no value */
    br_buf *cell = &w->cells[col];
    if (trimmed)
        cell_warn(w, key, row, (size_t)col, "ecsv.write.whitespace",
                  "Esploro rejects values with leading or trailing whitespace",
                  "%s: leading or trailing whitespace of '%s' trimmed", f->column, value);
    if (issue == CONV_LANG_CODE)
        cell_warn(w, key, row, (size_t)col, "ecsv.write.lang",
                  "Esploro takes ISO 639-2/B language codes (data/language_aliases.tsv)",
                  "%s: '%s' written as its ISO 639-2/B code", f->column, value);
    else if (issue == CONV_RESTYPE)
        cell_warn(w, key, row, (size_t)col, "ecsv.write.restype",
                  "ASSET_RESTYPE takes an Esploro asset type (data/restype_aliases.tsv maps "
                  "DSpace's dc.type labels)",
                  "%s: the dc.type '%s' written as an Esploro asset type", f->column, value);
    else if (issue == CONV_TIME_DROPPED)
        cell_warn(w, key, row, (size_t)col, "ecsv.write.time-dropped",
                  "Esploro dates have no time of day", "%s: the time of '%s' left out", f->column,
                  value);
    else if (issue == CONV_NOT_FORMAT)
        cell_warn(w, key, row, (size_t)col, "ecsv.write.format",
                  f->kind == BR_ECSV_MDY ? "Esploro expects MM/DD/YYYY"
                                         : "Esploro expects YYYY, YYYYMM or YYYYMMDD",
                  "%s: '%s' is not a date Esploro accepts; written as it is", f->column, value);
    if (has_separator(w->val.p, w->val.len))
        cell_warn(w, key, row, (size_t)col, "ecsv.write.separator",
                  "\"@@\" separates values in Esploro: the value will read back as several",
                  "%s: the value '%s' contains \"@@\"", f->column, value);
    if (cell->len) {
        if (!f->multi)
            cell_warn(w, key, row, (size_t)col, "ecsv.write.multi",
                      "the column takes one value; they were joined with \"@@\"",
                      "%s: several values for a single-valued column (also '%s')", f->column,
                      value);
        if (br_buf_append(cell, "@@", 2)) return BR_ENOMEM;
    }
    return br_buf_append(cell, w->val.p, w->val.len) ? BR_ENOMEM : 0;
}

/* ---- rows ---------------------------------------------------------------------------------------
 */

static int csv_cell(br_buf *line, const char *s, size_t n)
{
    int quote = 0;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) return br_buf_append(line, s, n);
    if (br_buf_append(line, "\"", 1)) return BR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *q = memchr(s + i, '"', n - i);
        size_t run = q ? (size_t)(q - (s + i)) : n - i;
        if (br_buf_append(line, s + i, run)) return BR_ENOMEM;
        i += run;
        if (q && br_buf_append(line, "\"\"", 2)) return BR_ENOMEM;
    }
    return br_buf_append(line, "\"", 1);
}

static int write_line(br_ecsv_writer *w, br_error *err)
{
    if (br_buf_append(&w->line, "\n", 1))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (fwrite(w->line.p, 1, w->line.len, w->f) != w->line.len)
        return br_error_set(err, BR_EIO, w->path, 0, 0, "cannot write: %s", strerror(errno));
    br_buf_clear(&w->line);
    w->rows++;
    return 0;
}

/* Writes the cells of row type `type` (the ASSET row always; other rows only
 * when one of their cells has a value) and clears them. */
static int emit_row(br_ecsv_writer *w, int type, const char *key, br_error *err)
{
    int any = type == BR_ECSV_ROW_ASSET;
    for (size_t c = 2; c < w->n_cols && !any; c++)
        any = w->cells[c].len && w->col_type[c] == type;
    if (!any) return 0;
    int rc = br_buf_puts(&w->line, br_ecsv_row_names[type]);
    if (!rc) rc = br_buf_append(&w->line, ",", 1);
    if (!rc) rc = csv_cell(&w->line, key, strlen(key));
    for (size_t c = 2; !rc && c < w->n_cols; c++) {
        rc = br_buf_append(&w->line, ",", 1);
        br_buf *cell = &w->cells[c];
        if (rc || !cell->len || w->col_type[c] != type) continue;
        rc = csv_cell(&w->line, cell->p, cell->len);
        br_buf_clear(cell);
    }
    if (rc) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    return write_line(w, err);
}

/* ---- opening ------------------------------------------------------------------------------------
 */

static int part_index(br_ecsv_writer *w, const char *prefix, const char *name)
{
    char target[64];
    snprintf(target, sizeof target, "@%s.%s", prefix, name);
    const br_ecsv_field *f = br_ecsv_xwalk_target(w->xw, target);
    return f ? (int)(f - br_ecsv_xwalk_at(w->xw, 0)) : -1;
}

static int in_list(const char *const *list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && !strcasecmp(list[i], s)) return 1;
    return 0;
}

/* Checks the selection lists: every name must be a column / a category. */
static int check_selection(br_ecsv_writer *w, const br_ecsv_write_options *opt, br_error *err)
{
    for (size_t i = 0; i < opt->n_columns; i++)
        if (!opt->columns[i] || !br_ecsv_xwalk_column(w->xw, opt->columns[i]))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "unknown Esploro column '%s'",
                                opt->columns[i] ? opt->columns[i] : "");
    for (size_t i = 0; i < opt->n_categories; i++) {
        int found = 0;
        for (size_t k = 0; k < w->n_fields && !found && opt->categories[i]; k++)
            found = !strcasecmp(br_ecsv_xwalk_at(w->xw, k)->category, opt->categories[i]);
        if (!found)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "unknown Esploro field category '%s'",
                                opt->categories[i] ? opt->categories[i] : "");
    }
    return 0;
}

int br_ecsv_writer_open(const char *path, const br_ecsv_write_options *opt, br_ecsv_writer **out,
                        br_error *err)
{
    static const br_ecsv_write_options defaults;
    if (!opt) opt = &defaults;
    *out = NULL;
    if (!path || !*path) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no output file given");
    const char *key_header = opt->key_header ? opt->key_header : "RESEARCH_ASSET_ID";
    if (strcasecmp(key_header, "RESEARCH_ASSET_ID") && strcasecmp(key_header, "GROUP_ID"))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "the key column must be RESEARCH_ASSET_ID or GROUP_ID, not '%s'",
                            key_header);
    int rc = 0, fd = -1;
    br_ecsv_writer *w = calloc(1, sizeof *w);
    if (!w) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    w->diags = opt->diags;
    w->new_assets = !strcasecmp(key_header, "GROUP_ID");
    if ((rc = br_ecsv_xwalk_new(&w->xw, err))) goto done;
    w->n_fields = br_ecsv_xwalk_count(w->xw);
    if ((rc = check_selection(w, opt, err))) goto done;
    w->path = strdup(path);
    w->tmp = malloc(strlen(path) + 32);
    w->base_dir = opt->base_dir ? strdup(opt->base_dir) : NULL;
    w->out_of = malloc(w->n_fields * sizeof *w->out_of);
    w->col = calloc(w->n_fields + 2, sizeof *w->col);
    w->col_type = calloc(w->n_fields + 2, sizeof *w->col_type);
    w->cells = calloc(w->n_fields + 2, sizeof *w->cells);
    w->scratch = br_record_new();
    if (!w->path || !w->tmp || (opt->base_dir && !w->base_dir) || !w->out_of || !w->col ||
        !w->col_type || !w->cells || !w->scratch) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    const char *slash = strrchr(w->path, '/');
    w->source = slash ? slash + 1 : w->path;

    /* The columns, in the crosswalk's order. */
    w->selective = opt->n_columns || opt->n_categories;
    w->n_cols = 2;
    for (size_t i = 0; i < w->n_fields; i++) {
        const br_ecsv_field *f = br_ecsv_xwalk_at(w->xw, i);
        int keep = !w->selective || in_list(opt->columns, opt->n_columns, f->column) ||
                   in_list(opt->categories, opt->n_categories, f->category);
        w->out_of[i] = keep ? (int)w->n_cols : -1;
        if (!keep) continue;
        w->col_type[w->n_cols] = br_ecsv_row_type(f->row, strlen(f->row));
        w->col[w->n_cols++] = f;
        if (!strcmp(f->row, "ASSET") && (f->kind == BR_ECSV_DATE || f->kind == BR_ECSV_DATERANGE) &&
            w->n_date_cols < BR_ARRAY_LEN(w->date_cols))
            w->date_cols[w->n_date_cols++] = (int)i;
    }
    for (int role = 0; role < 2; role++) {
        const char *prefix = role == BR_CREATOR ? "creator" : "contributor";
        for (size_t k = 0; k < N_CPARTS; k++)
            w->cpart[role][k] = part_index(w, prefix, CREATOR_PARTS[k].name);
        w->corg[role] = part_index(w, prefix, "organization");
    }
    for (size_t k = 0; k < N_LPARTS; k++)
        w->lpart[k] = part_index(w, "link", LINK_PARTS[k].name);
    for (size_t k = 0; k < N_FPARTS; k++)
        w->fpart[k] = part_index(w, "file", FILE_PARTS[k].name);
    w->furl = part_index(w, "file", "url");

    snprintf(w->tmp, strlen(path) + 32, "%s.tmp%ld", path, (long)getpid());
    fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = br_error_set(err, BR_EIO, path, 0, 0, "cannot create %s: %s", w->tmp, strerror(errno));
        w->tmp[0] = 0;
        goto done;
    }
    if (!(w->f = fdopen(fd, "w"))) {
        rc = br_error_set(err, BR_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
        close(fd);
        goto done;
    }
    /* The header: A1 blank, the key, the columns. */
    rc = br_buf_append(&w->line, ",", 1);
    if (!rc) rc = br_buf_puts(&w->line, key_header);
    for (size_t c = 2; !rc && c < w->n_cols; c++) {
        rc = br_buf_append(&w->line, ",", 1);
        if (!rc) rc = br_buf_puts(&w->line, w->col[c]->column);
    }
    if (rc) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    rc = write_line(w, err);
done:
    if (rc) {
        br_ecsv_writer_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* ---- one record -------------------------------------------------------------------------------
 */

static const char *part_str(const void *base, const part *p)
{
    return *(const char *const *)((const char *)base + p->off);
}

/* The dc.contributor values that the creators stand for. */
static int is_contributor_field(const br_mdv *v)
{
    if (strcmp(v->schema, "dc") || strcmp(v->element, "contributor") || !v->qualifier) return 0;
    br_creator c = {0};
    char q[64];
    if (!strcmp(v->qualifier, "author")) return 1;
    c.role = BR_CONTRIBUTOR;
    c.contrib_type = v->qualifier;
    return !strcmp(br_creator_qualifier(&c, q), v->qualifier);
}

/* Whether a creator of rec gives exactly this dc.contributor value. */
static int creator_gives(const br_record *rec, const br_mdv *v)
{
    char name[1024], q[64];
    for (size_t i = 0; i < rec->n_creators; i++) {
        const br_creator *c = &rec->creators[i];
        if (strcmp(br_creator_qualifier(c, q), v->qualifier)) continue;
        size_t n = br_creator_name(c, name, sizeof name);
        if (n < sizeof name && !strcmp(name, v->value)) return 1;
    }
    return 0;
}

/* The metadata values: ASSET and PRTOF cells; the rest is reported. */
static int put_metadata(br_ecsv_writer *w, const char *key, const br_record *rec, int structured)
{
    char field[200];
    for (size_t i = 0; i < rec->n_md; i++) {
        const br_mdv *v = &rec->md[i];
        if (is_contributor_field(v) && (!structured || creator_gives(rec, v))) {
            /* written as a CREATOR/CONT row; its language has no place there */
            if (v->language) {
                field_name(v, field, sizeof field);
                note_origin(w, key, &v->origin, "ecsv.write.no-column",
                            "no Esploro column for the language of %s (value '%s')", field,
                            v->language);
            }
            continue;
        }
        field_name(v, field, sizeof field);
        const br_ecsv_field *f = br_ecsv_xwalk_target(w->xw, field);
        if (!f) {
            note_origin(w, key, &v->origin, "ecsv.write.no-column",
                        "no Esploro column for %s (value '%s')", field, v->value);
            continue;
        }
        int fi = (int)(f - br_ecsv_xwalk_at(w->xw, 0));
        if (w->out_of[fi] < 0) continue; /* not selected */
        if (v->language)
            note_origin(w, key, &v->origin, "ecsv.write.no-column",
                        "no Esploro column for the language of %s (value '%s')", field,
                        v->language);
        unsigned row = w->rows + (strcmp(f->row, "PRTOF") ? 1 : 2);
        if (put(w, key, row, fi, v->value)) return BR_ENOMEM;
    }
    return 0;
}

static int write_creators(br_ecsv_writer *w, const char *key, const br_record *rec,
                          br_creator_role role, br_error *err)
{
    char what[128];
    for (size_t i = 0; i < rec->n_creators; i++) {
        const br_creator *c = &rec->creators[i];
        if (c->role != role) continue;
        int person = !c->is_organization;
        int type = role == BR_CREATOR ? (person ? BR_ECSV_ROW_CREATOR : BR_ECSV_ROW_OCREATOR)
                                      : (person ? BR_ECSV_ROW_CONT : BR_ECSV_ROW_OCONT);
        int any_name = nonempty(c->family) || nonempty(c->given) || nonempty(c->middle);
        unsigned row = w->rows + 1;
        for (size_t k = 0; k < N_CPARTS; k++) {
            const char *s = part_str(c, &CREATOR_PARTS[k]);
            if (!nonempty(s)) continue;
            int fi = person ? w->cpart[role][k] : (k == CPART_DISPLAY ? w->corg[role] : -1);
            if (person && k == CPART_DISPLAY && fi < 0) {
                if (any_name) continue; /* the name parts carry it */
                /* a person known only by one free-form name: it is the family name */
                fi = w->cpart[role][0];
            }
            if (fi < 0) {
                snprintf(what, sizeof what, "%s %zu: %s", br_ecsv_row_names[type],
                         (size_t)c->place + 1, CREATOR_PARTS[k].name);
                note_origin(w, key, &c->origin, "ecsv.write.no-column",
                            "no Esploro column for %s (value '%s')", what, s);
                continue;
            }
            if (put(w, key, row, fi, s))
                return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
        int rc = emit_row(w, type, key, err);
        if (rc) return rc;
    }
    return 0;
}

static int write_links(br_ecsv_writer *w, const char *key, const br_record *rec, br_error *err)
{
    for (size_t i = 0; i < rec->n_links; i++) {
        const br_link *l = &rec->links[i];
        for (size_t k = 0; k < N_LPARTS; k++) {
            const char *s = part_str(l, &LINK_PARTS[k]);
            if (nonempty(s) && w->lpart[k] >= 0 && put(w, key, w->rows + 1, w->lpart[k], s))
                return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
        int rc = emit_row(w, BR_ECSV_ROW_LINK, key, err);
        if (rc) return rc;
    }
    return 0;
}

/* A percent-encoded file:// URL of an absolute path (RFC 8089, RFC 3986 path characters). */
static int file_url(br_buf *b, const char *path)
{
    static const char *const hex = "0123456789ABCDEF";
    if (br_buf_puts(b, "file://")) return BR_ENOMEM;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/-._~!$&'()*+,;=:@", *p)) {
            if (br_buf_append(b, (const char *)p, 1)) return BR_ENOMEM;
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            if (br_buf_append(b, e, 3)) return BR_ENOMEM;
        }
    }
    return 0;
}

static int write_files(br_ecsv_writer *w, const char *key, const br_record *rec, br_error *err)
{
    char what[600];
    br_buf url = {0};
    int rc = 0;
    for (size_t i = 0; i < rec->n_bs && !rc; i++) {
        const br_bitstream *b = &rec->bs[i];
        unsigned row = w->rows + 1;
        /* FILE_FILEURL: the file relative to the CSV, else file://, else its URL. */
        br_buf_clear(&url);
        if (b->path) {
            size_t bl = w->base_dir ? strlen(w->base_dir) : 0;
            if (b->path[0] != '/')
                rc = br_buf_puts(&url, b->path);
            else if (bl && !strncmp(b->path, w->base_dir, bl) && b->path[bl] == '/')
                rc = br_buf_puts(&url, b->path + bl + 1);
            else
                rc = file_url(&url, b->path);
        } else if (b->url) {
            rc = br_buf_puts(&url, b->url);
        }
        if (!rc && url.len && w->furl >= 0) rc = put(w, key, row, w->furl, url.p);
        for (size_t k = 0; !rc && k < N_FPARTS; k++) {
            const char *s = part_str(b, &FILE_PARTS[k]);
            if (!nonempty(s)) continue;
            if (w->fpart[k] >= 0) {
                rc = put(w, key, row, w->fpart[k], s);
                continue;
            }
            snprintf(what, sizeof what, "%.300s of file '%.200s'", FILE_PARTS[k].name, b->name);
            note_origin(w, key, &b->origin, "ecsv.write.no-column",
                        "no Esploro column for the %s (value '%s')", what, s);
        }
        if (rc) break;
        /* Model properties that are not strings. */
        if (b->bundle && strcmp(b->bundle, "ORIGINAL")) {
            snprintf(what, sizeof what, "the bundle of file '%.300s'", b->name);
            note_origin(w, key, &b->origin, "ecsv.write.no-column",
                        "no Esploro column for %s (value '%s')", what, b->bundle);
        }
        if (b->primary) {
            snprintf(what, sizeof what, "file '%.300s'", b->name);
            note_origin(w, key, &b->origin, "ecsv.write.no-column",
                        "no Esploro column for the primary flag of %s%s", what, NULL);
        }
        if (b->iiif_width || b->iiif_height) {
            snprintf(what, sizeof what, "file '%.300s'", b->name);
            note_origin(w, key, &b->origin, "ecsv.write.no-column",
                        "no Esploro column for the IIIF width and height of %s%s", what, NULL);
        }
        if (!b->path && !b->url) {
            snprintf(what, sizeof what, "'%.300s'", b->name);
            note_origin(w, key, &b->origin, "ecsv.write.no-file",
                        "file %s has no content to point FILE_FILEURL at%s", what, NULL);
        }
        rc = emit_row(w, BR_ECSV_ROW_FILE, key, err);
    }
    if (rc == BR_ENOMEM) br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_buf_dispose(&url);
    return rc;
}

static void mandatory_warn(br_ecsv_writer *w, const char *key, unsigned row, int col,
                           const char *msg, const char *column, const char *value)
{
    char cell[24], letters[12], hint[400];
    col_letters(col > 0 ? (size_t)col : 0, letters, sizeof letters);
    snprintf(cell, sizeof cell, "%s%u", letters, row);
    snprintf(hint, sizeof hint,
             "add it to the input, or give every record that has none one value with bulkrepo "
             "convert --default %s=%s",
             column, value);
    br_diag d = {
        BR_SEV_WARNING,         key, w->source, row, (unsigned)(col > 0 ? col : 0) + 1, cell,
        "ecsv.write.mandatory", msg, hint};
    br_diag_emit(w->diags, &d);
}

/* The mandatory Esploro fields a new asset's written ASSET row lacks: one warning per field,
 * at its cell, naming the --default that fills it (lint rejects the row without them).  Rows
 * keyed by RESEARCH_ASSET_ID update assets that exist: there the fields are not asked for. */
static void check_mandatory(br_ecsv_writer *w, const char *key, unsigned row)
{
    if (w->selective || !w->new_assets) return;
    char msg[300];
    for (size_t k = 0; k < BR_ARRAY_LEN(MANDATORY); k++) {
        const br_ecsv_field *f = br_ecsv_xwalk_column(w->xw, MANDATORY[k].column);
        int fi = f ? (int)(f - br_ecsv_xwalk_at(w->xw, 0)) : -1;
        if (fi < 0 || w->out_of[fi] < 0 || w->cells[w->out_of[fi]].len) continue;
        snprintf(msg, sizeof msg, "%s is empty: Esploro requires it of a new asset",
                 MANDATORY[k].column);
        mandatory_warn(w, key, row, w->out_of[fi], msg, MANDATORY[k].column, MANDATORY[k].value);
    }
    int dated = !w->n_date_cols;
    for (size_t k = 0; k < w->n_date_cols && !dated; k++)
        dated = w->cells[w->out_of[w->date_cols[k]]].len != 0;
    if (dated) return;
    const br_ecsv_field *f = br_ecsv_xwalk_column(w->xw, DATE_DEFAULT);
    int fi = f ? (int)(f - br_ecsv_xwalk_at(w->xw, 0)) : -1;
    mandatory_warn(w, key, row, fi >= 0 ? w->out_of[fi] : 0,
                   "the asset has no date: Esploro requires one ASSET date of a new asset",
                   DATE_DEFAULT, "YYYYMMDD");
}

int br_ecsv_write_record(br_ecsv_writer *w, const char *key, const br_record *rec, br_error *err)
{
    if (!w || !rec || !key || !*key)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a record needs a key (column B)");
    for (const char *p = key; *p; p++)
        if (*p == '\n' || *p == '\r')
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the key '%s' contains a line break",
                                key);
    if (is_space(key[0]) || is_space(key[strlen(key) - 1]))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "the key '%s' has leading or trailing whitespace", key);
    /* Creators: the structured ones, else those dc.contributor.* stand for. */
    const br_record *cre = rec;
    int structured = rec->n_creators > 0;
    if (!structured) {
        br_record_reset(w->scratch);
        if (br_record_derive_creators(rec, w->scratch))
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        cre = w->scratch;
    }
    if (put_metadata(w, key, rec, structured))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    check_mandatory(w, key, w->rows + 1);
    int rc = emit_row(w, BR_ECSV_ROW_ASSET, key, err);
    if (!rc) rc = emit_row(w, BR_ECSV_ROW_PRTOF, key, err);
    if (!rc) rc = write_creators(w, key, cre, BR_CREATOR, err);
    if (!rc) rc = write_creators(w, key, cre, BR_CONTRIBUTOR, err);
    if (!rc) rc = write_links(w, key, rec, err);
    if (!rc) rc = write_files(w, key, rec, err);
    for (size_t i = 0; i < rec->n_rels; i++) {
        char what[300];
        snprintf(what, sizeof what, "the relationship %.200s", rec->rels[i].type);
        note_origin(w, key, &rec->rels[i].origin, "ecsv.write.no-column",
                    "no Esploro column for %s (to '%s')", what, rec->rels[i].target);
    }
    return rc;
}

int br_ecsv_writer_close(br_ecsv_writer *w, br_error *err)
{
    if (!w) return 0;
    int rc = 0;
    if (fflush(w->f) || fsync(fileno(w->f)))
        rc = br_error_set(err, BR_EIO, w->path, 0, 0, "cannot write: %s", strerror(errno));
    if (fclose(w->f) && !rc)
        rc = br_error_set(err, BR_EIO, w->path, 0, 0, "cannot write: %s", strerror(errno));
    w->f = NULL;
    if (!rc && rename(w->tmp, w->path))
        rc = br_error_set(err, BR_EIO, w->path, 0, 0, "cannot rename into place: %s",
                          strerror(errno));
    if (!rc) w->tmp[0] = 0; /* renamed: nothing to remove */
    br_ecsv_writer_abort(w);
    return rc;
}

void br_ecsv_writer_abort(br_ecsv_writer *w)
{
    if (!w) return;
    if (w->f) fclose(w->f);
    if (w->tmp && w->tmp[0]) unlink(w->tmp);
    for (size_t c = 0; w->cells && c < w->n_fields + 2; c++)
        br_buf_dispose(&w->cells[c]);
    br_buf_dispose(&w->val);
    br_buf_dispose(&w->line);
    br_record_free(w->scratch);
    br_ecsv_xwalk_free(w->xw);
    free(w->cells);
    free(w->col);
    free(w->col_type);
    free(w->out_of);
    free(w->base_dir);
    free(w->tmp);
    free(w->path);
    free(w);
}
