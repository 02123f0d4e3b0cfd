/* The XLSX workbook reader: the first sheet of a .xlsx, row by row.
 *
 * A .xlsx is a zip of XML parts.  Every part is inflated through libzip with
 * the zip caps held while it inflates (bytes per part, and the ratio of bytes
 * inflated to the part's compressed size once past 1 MiB: a sheet that is a zip
 * bomb stops there), and parsed with libxml2's xmlTextReader (streaming, no
 * DTD, no entities, no network).  xl/workbook.xml names the first sheet and its
 * relationship, xl/_rels/workbook.xml.rels its part; xl/sharedStrings.xml is
 * read whole (capped in count and bytes: cells refer to it by index);
 * xl/styles.xml says which cell formats are dates.  The sheet itself streams:
 * one row in memory.  A cell's text is its stored text: a number is the
 * digits as written (an ISBN stored as a number keeps every digit), a date
 * cell (a number whose style is a date format) its ISO date. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <libxml/xmlreader.h>
#include <zip.h>
#include "core/core.h"
#include "formats/xlsx_internal.h"

#define RATIO_MIN_BYTES (1024u * 1024u)

typedef struct part_src {
    zip_file_t *zf;
    uint64_t got, comp, max;
    unsigned max_ratio;
    int over; /* 1: past max, 2: past the ratio */
} part_src;

typedef struct xml_fault {
    int have;
    unsigned line, col;
    char text[256];
} xml_fault;

typedef struct part {
    part_src src;
    xmlTextReaderPtr rd;
    xml_fault fault;
    char name[256];
} part;

struct br_xlsx_book {
    zip_t *za;
    br_limits lim;
    char file[256]; /* the .xlsx's file name, for errors */
    char sheet_name[256];
    char sheet_part[512];
    int date1904;
    /* shared strings: NUL-terminated one after the other */
    br_buf sst;
    size_t *sst_off;
    size_t n_sst, cap_sst;
    /* styles: per cellXfs index, whether it is a date format */
    unsigned char *xf_date;
    size_t n_xf, cap_xf;
    /* the sheet */
    part sheet;
    int open, in_data, done;
    unsigned last_row;
    br_buf cell_text;
    br_xlsx_cell *cells;
    size_t n_cells, cap_cells;
    br_buf tmp;
};

/* ---- parts -------------------------------------------------------------------------------- */

static int part_read(void *ctx, char *buf, int len)
{
    part_src *s = ctx;
    zip_int64_t n = zip_fread(s->zf, buf, (zip_uint64_t)len);
    if (n < 0) return -1;
    s->got += (uint64_t)n;
    if (s->got > s->max) {
        s->over = 1;
        return -1;
    }
    if (s->got > RATIO_MIN_BYTES && s->got / (s->comp ? s->comp : 1) > s->max_ratio) {
        s->over = 2;
        return -1;
    }
    return (int)n;
}

static void on_xml_error(void *ctx, xmlErrorPtr e)
{
    xml_fault *f = ctx;
    if (f->have || !e || e->level == XML_ERR_WARNING) return;
    f->have = 1;
    f->line = e->line > 0 ? (unsigned)e->line : 0;
    f->col = e->int2 > 0 ? (unsigned)e->int2 : 0;
    br_strlcpy(f->text, e->message ? e->message : "malformed XML", sizeof f->text);
    size_t n = strlen(f->text);
    while (n && (f->text[n - 1] == '\n' || f->text[n - 1] == ' '))
        f->text[--n] = 0;
}

static void part_close(part *p)
{
    if (p->rd) xmlFreeTextReader(p->rd);
    if (p->src.zf) zip_fclose(p->src.zf);
    p->rd = NULL;
    p->src.zf = NULL;
}

/* Opens a part; 1 when the archive has no such part (and !required). */
static int part_open(br_xlsx_book *b, part *p, const char *name, uint64_t max, int required,
                     br_error *err)
{
    memset(p, 0, sizeof *p);
    br_strlcpy(p->name, name, sizeof p->name);
    zip_stat_t st;
    zip_int64_t idx = zip_name_locate(b->za, name, 0);
    if (idx < 0 || zip_stat_index(b->za, (zip_uint64_t)idx, 0, &st)) {
        if (!required) return 1;
        return br_error_set(err, BR_EINVAL, b->file, 0, 0, "the workbook has no part %s", name);
    }
    if ((st.valid & ZIP_STAT_SIZE) && st.size > max)
        return br_error_set(err, BR_ELIMIT, b->file, 0, 0,
                            "%s inflates to %llu bytes, more than the %llu allowed", name,
                            (unsigned long long)st.size, (unsigned long long)max);
    p->src.comp = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : 1;
    p->src.max = max;
    p->src.max_ratio = b->lim.max_ratio ? b->lim.max_ratio : 200;
    if ((st.valid & ZIP_STAT_SIZE) && st.size > RATIO_MIN_BYTES &&
        st.size / (p->src.comp ? p->src.comp : 1) > p->src.max_ratio)
        return br_error_set(err, BR_ELIMIT, b->file, 0, 0,
                            "%s is compressed more than %u:1 (a zip bomb?)", name,
                            p->src.max_ratio);
    if (!(p->src.zf = zip_fopen_index(b->za, (zip_uint64_t)idx, 0)))
        return br_error_set(err, BR_EINVAL, b->file, 0, 0, "%s cannot be read: %s", name,
                            zip_strerror(b->za));
    p->rd = xmlReaderForIO(part_read, NULL, &p->src, name, NULL,
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                               XML_PARSE_BIG_LINES | XML_PARSE_COMPACT);
    if (!p->rd) {
        part_close(p);
        return br_error_set(err, BR_ENOMEM, b->file, 0, 0, "%s: cannot start the XML reader", name);
    }
    xmlTextReaderSetStructuredErrorHandler(p->rd, on_xml_error, &p->fault);
    return 0;
}

/* The error of a failed read of p. */
static int part_fault(br_xlsx_book *b, part *p, br_error *err)
{
    if (p->src.over == 1)
        return br_error_set(err, BR_ELIMIT, b->file, 0, 0,
                            "%s inflates to more than the %llu bytes allowed", p->name,
                            (unsigned long long)p->src.max);
    if (p->src.over == 2)
        return br_error_set(err, BR_ELIMIT, b->file, 0, 0,
                            "%s inflates to more than %u times its compressed size (a zip bomb?)",
                            p->name, p->src.max_ratio);
    char src[600];
    snprintf(src, sizeof src, "%s:%s", b->file, p->name);
    return br_error_set(err, BR_EINVAL, src, p->fault.line, p->fault.col, "malformed XML: %s",
                        p->fault.have ? p->fault.text : "the part cannot be parsed");
}

/* The next node: 1, 0 at the end, or an error (a DOCTYPE is one). */
static int part_next(br_xlsx_book *b, part *p, br_error *err)
{
    int r = xmlTextReaderRead(p->rd);
    if (r < 0 || p->src.over) return part_fault(b, p, err);
    if (r == 1 && xmlTextReaderNodeType(p->rd) == XML_READER_TYPE_DOCUMENT_TYPE) {
        char src[600];
        snprintf(src, sizeof src, "%s:%s", b->file, p->name);
        return br_error_set(err, BR_EINVAL, src, (unsigned)xmlTextReaderGetParserLineNumber(p->rd),
                            0, "a DOCTYPE is not allowed");
    }
    return r;
}

static int is_elem(part *p, const char *local)
{
    const xmlChar *n = xmlTextReaderConstLocalName(p->rd);
    return xmlTextReaderNodeType(p->rd) == XML_READER_TYPE_ELEMENT && n &&
           !strcmp((const char *)n, local);
}

/* An attribute by local name (no namespace), copied into out; 0 when absent. */
static int attr(part *p, const char *local, char *out, size_t size)
{
    int found = 0;
    if (xmlTextReaderMoveToFirstAttribute(p->rd) == 1) {
        do {
            const xmlChar *n = xmlTextReaderConstLocalName(p->rd);
            if (n && !strcmp((const char *)n, local)) {
                const xmlChar *v = xmlTextReaderConstValue(p->rd);
                br_strlcpy(out, v ? (const char *)v : "", size);
                found = 1;
                break;
            }
        } while (xmlTextReaderMoveToNextAttribute(p->rd) == 1);
        xmlTextReaderMoveToElement(p->rd);
    }
    if (!found && size) out[0] = 0;
    return found;
}

/* The text of the current element (its text and CDATA nodes, not those of a
 * phonetic <rPh> run), appended to out; the reader ends on its end tag.  More
 * than max bytes: BR_ELIMIT. */
static int element_text(br_xlsx_book *b, part *p, br_buf *out, size_t max, br_error *err)
{
    if (xmlTextReaderIsEmptyElement(p->rd)) return 0;
    int depth = xmlTextReaderDepth(p->rd), skip = -1, rc;
    size_t start = out->len;
    while ((rc = part_next(b, p, err)) == 1) {
        int t = xmlTextReaderNodeType(p->rd), d = xmlTextReaderDepth(p->rd);
        if (t == XML_READER_TYPE_END_ELEMENT && d == depth) return 0;
        if (skip >= 0) {
            if (t == XML_READER_TYPE_END_ELEMENT && d == skip) skip = -1;
            continue;
        }
        if (is_elem(p, "rPh") && !xmlTextReaderIsEmptyElement(p->rd)) {
            skip = d;
            continue;
        }
        if (t == XML_READER_TYPE_TEXT || t == XML_READER_TYPE_CDATA ||
            t == XML_READER_TYPE_SIGNIFICANT_WHITESPACE || t == XML_READER_TYPE_WHITESPACE) {
            const xmlChar *v = xmlTextReaderConstValue(p->rd);
            size_t n = v ? strlen((const char *)v) : 0;
            if (out->len - start + n > max)
                return br_error_set(err, BR_ELIMIT, b->file, 0, 0,
                                    "%s:%d: a value of more than %zu bytes", p->name,
                                    xmlTextReaderGetParserLineNumber(p->rd), max);
            if (n && br_buf_append(out, (const char *)v, n))
                return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
    }
    return rc ? rc : part_fault(b, p, err); /* the part ended inside the element */
}

/* ---- workbook, rels, shared strings, styles ------------------------------------------------ */

/* The first sheet's name and relationship id; date1904. */
static int read_workbook(br_xlsx_book *b, char *rid, size_t rid_size, br_error *err)
{
    part p;
    int rc = part_open(b, &p, "xl/workbook.xml", BR_XLSX_MAX_PART, 1, err);
    if (rc) return rc;
    rid[0] = 0;
    while ((rc = part_next(b, &p, err)) == 1) {
        char v[64];
        if (is_elem(&p, "workbookPr") && attr(&p, "date1904", v, sizeof v))
            b->date1904 = !strcmp(v, "1") || !strcasecmp(v, "true");
        if (is_elem(&p, "sheet") && !rid[0]) {
            attr(&p, "name", b->sheet_name, sizeof b->sheet_name);
            attr(&p, "id", rid, rid_size); /* r:id */
        }
    }
    part_close(&p);
    if (rc) return rc;
    if (!rid[0]) return br_error_set(err, BR_EINVAL, b->file, 0, 0, "the workbook has no sheet");
    return 0;
}

/* The part of relationship rid (xl/_rels/workbook.xml.rels). */
static int read_rels(br_xlsx_book *b, const char *rid, br_error *err)
{
    part p;
    int rc = part_open(b, &p, "xl/_rels/workbook.xml.rels", BR_XLSX_MAX_PART, 1, err);
    if (rc) return rc;
    char target[512] = "";
    while ((rc = part_next(b, &p, err)) == 1) {
        char id[256];
        if (is_elem(&p, "Relationship") && attr(&p, "Id", id, sizeof id) && !strcmp(id, rid))
            attr(&p, "Target", target, sizeof target);
    }
    part_close(&p);
    if (rc) return rc;
    if (!target[0])
        return br_error_set(err, BR_EINVAL, b->file, 0, 0,
                            "the first sheet ('%s') has no part in the workbook", b->sheet_name);
    int k = target[0] == '/' ? snprintf(b->sheet_part, sizeof b->sheet_part, "%s", target + 1)
                             : snprintf(b->sheet_part, sizeof b->sheet_part, "xl/%s", target);
    if (k < 0 || (size_t)k >= sizeof b->sheet_part)
        return br_error_set(err, BR_ELIMIT, b->file, 0, 0, "the sheet's part name is too long");
    return 0;
}

static int read_shared(br_xlsx_book *b, br_error *err)
{
    part p;
    int rc = part_open(b, &p, "xl/sharedStrings.xml", b->lim.max_file_size, 0, err);
    if (rc == 1) return 0; /* no shared strings: every string is inline */
    if (rc) return rc;
    size_t max_cell = b->lim.max_field ? b->lim.max_field : 1024 * 1024;
    while ((rc = part_next(b, &p, err)) == 1) {
        if (!is_elem(&p, "si")) continue;
        if (b->n_sst == BR_XLSX_MAX_SHARED) {
            rc =
                br_error_set(err, BR_ELIMIT, b->file, 0, 0,
                             "xl/sharedStrings.xml holds more than %u strings", BR_XLSX_MAX_SHARED);
            break;
        }
        if (br_grow((void **)&b->sst_off, &b->cap_sst, b->n_sst + 1, sizeof *b->sst_off)) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            break;
        }
        b->sst_off[b->n_sst++] = b->sst.len;
        if ((rc = element_text(b, &p, &b->sst, max_cell, err))) break;
        if (br_buf_append(&b->sst, "", 1)) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
            break;
        }
        if (b->sst.len > BR_XLSX_MAX_SHARED_BYTES) {
            rc = br_error_set(err, BR_ELIMIT, b->file, 0, 0,
                              "xl/sharedStrings.xml holds more than %u bytes of text",
                              BR_XLSX_MAX_SHARED_BYTES);
            break;
        }
    }
    part_close(&p);
    return rc;
}

/* Whether a number format code shows a date: a d or y, or an m without h or s
 * (minutes), outside quoted text, [brackets] and \escapes. */
static int code_is_date(const char *c)
{
    int d = 0, m = 0, hs = 0;
    for (; *c; c++) {
        if (*c == '"') {
            while (c[1] && c[1] != '"')
                c++;
            if (c[1]) c++;
        } else if (*c == '[') {
            while (c[1] && c[1] != ']')
                c++;
            if (c[1]) c++;
        } else if (*c == '\\' || *c == '_' || *c == '*') {
            if (c[1]) c++;
        } else {
            char l = (char)(*c | 0x20);
            if (l == 'd' || l == 'y') d = 1;
            if (l == 'm') m = 1;
            if (l == 'h' || l == 's') hs = 1;
        }
    }
    return d || (m && !hs);
}

static int builtin_date(long id)
{
    return (id >= 14 && id <= 17) || id == 22 || (id >= 27 && id <= 36) || (id >= 50 && id <= 58);
}

static int read_styles(br_xlsx_book *b, br_error *err)
{
    part p;
    int rc = part_open(b, &p, "xl/styles.xml", BR_XLSX_MAX_PART, 0, err);
    if (rc == 1) return 0;
    if (rc) return rc;
    long *custom = NULL; /* custom format ids that are dates */
    size_t n_custom = 0, cap_custom = 0;
    int in_xfs = 0;
    while ((rc = part_next(b, &p, err)) == 1) {
        int t = xmlTextReaderNodeType(p.rd);
        const char *n = (const char *)xmlTextReaderConstLocalName(p.rd);
        if (!n) continue;
        if (!strcmp(n, "cellXfs")) {
            in_xfs = t == XML_READER_TYPE_ELEMENT && !xmlTextReaderIsEmptyElement(p.rd);
            continue;
        }
        char v[1024];
        if (is_elem(&p, "numFmt") && attr(&p, "formatCode", v, sizeof v) && code_is_date(v)) {
            char id[32];
            attr(&p, "numFmtId", id, sizeof id);
            if (n_custom < BR_XLSX_MAX_STYLES &&
                !br_grow((void **)&custom, &cap_custom, n_custom + 1, sizeof *custom))
                custom[n_custom++] = strtol(id, NULL, 10);
        } else if (in_xfs && is_elem(&p, "xf")) {
            if (b->n_xf == BR_XLSX_MAX_STYLES) {
                rc =
                    br_error_set(err, BR_ELIMIT, b->file, 0, 0,
                                 "xl/styles.xml has more than %u cell formats", BR_XLSX_MAX_STYLES);
                break;
            }
            if (br_grow((void **)&b->xf_date, &b->cap_xf, b->n_xf + 1, 1)) {
                rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
                break;
            }
            attr(&p, "numFmtId", v, sizeof v);
            long id = strtol(v, NULL, 10);
            int date = builtin_date(id);
            for (size_t k = 0; !date && k < n_custom; k++)
                date = custom[k] == id;
            b->xf_date[b->n_xf++] = (unsigned char)date;
        }
    }
    part_close(&p);
    free(custom);
    return rc;
}

/* ---- open, rows ------------------------------------------------------------------------------ */

int br_xlsx_open(const char *path, const br_limits *lim, br_xlsx_book **out, br_error *err)
{
    *out = NULL;
    int rc = 0;
    br_xlsx_book *b = calloc(1, sizeof *b);
    if (!b) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (lim)
        b->lim = *lim;
    else
        br_limits_default(&b->lim);
    const char *slash = strrchr(path, '/');
    br_strlcpy(b->file, slash ? slash + 1 : path, sizeof b->file);
    struct stat st;
    if (stat(path, &st) || !S_ISREG(st.st_mode)) {
        rc = br_error_set(err, BR_ENOTFOUND, b->file, 0, 0, "no such XLSX file");
        goto done;
    }
    int zerr = 0;
    if (!(b->za = zip_open(path, ZIP_RDONLY, &zerr))) {
        rc = br_error_set(err, BR_EINVAL, b->file, 0, 0,
                          "is not an XLSX workbook (not a zip archive: %d)", zerr);
        goto done;
    }
    zip_int64_t n = zip_get_num_entries(b->za, 0);
    if (n < 0 || (uint64_t)n > b->lim.max_entries) {
        rc = br_error_set(err, BR_ELIMIT, b->file, 0, 0,
                          "the workbook has %lld parts, more than "
                          "the %llu allowed",
                          (long long)n, (unsigned long long)b->lim.max_entries);
        goto done;
    }
    char rid[256];
    if ((rc = read_workbook(b, rid, sizeof rid, err)) || (rc = read_rels(b, rid, err)) ||
        (rc = read_shared(b, err)) || (rc = read_styles(b, err)))
        goto done;
    if (zip_name_locate(b->za, b->sheet_part, 0) < 0) {
        rc = br_error_set(err, BR_EINVAL, b->file, 0, 0,
                          "the first sheet ('%s') is missing: no part %s", b->sheet_name,
                          b->sheet_part);
        goto done;
    }
    rc = br_xlsx_rewind(b, err);
done:
    if (rc) {
        br_xlsx_close(b);
        return rc;
    }
    *out = b;
    return 0;
}

const char *br_xlsx_sheet(const br_xlsx_book *b)
{
    return b->sheet_name[0] ? b->sheet_name : "Sheet1";
}

int br_xlsx_rewind(br_xlsx_book *b, br_error *err)
{
    part_close(&b->sheet);
    b->open = b->in_data = b->done = 0;
    b->last_row = 0;
    int rc = part_open(b, &b->sheet, b->sheet_part, b->lim.max_file_size, 1, err);
    if (!rc) b->open = 1;
    return rc;
}

void br_xlsx_close(br_xlsx_book *b)
{
    if (!b) return;
    part_close(&b->sheet);
    if (b->za) zip_discard(b->za);
    br_buf_dispose(&b->sst);
    br_buf_dispose(&b->cell_text);
    br_buf_dispose(&b->tmp);
    free(b->sst_off);
    free(b->xf_date);
    free(b->cells);
    free(b);
}

void br_xlsx_cell_name(unsigned col, unsigned row, char out[16])
{
    char letters[8];
    int n = 0;
    unsigned c = col + 1;
    while (c && n < 7) {
        letters[n++] = (char)('A' + (c - 1) % 26);
        c = (c - 1) / 26;
    }
    char *p = out;
    while (n)
        *p++ = letters[--n];
    snprintf(p, (size_t)(16 - (p - out)), "%u", row);
}

/* "D17" -> column 3 (0-based), row 17; -1 when malformed. */
static int parse_ref(const char *s, unsigned *col, unsigned *row)
{
    unsigned c = 0, r = 0;
    const char *p = s;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) {
        c = c * 26 + (unsigned)((*p | 0x20) - 'a' + 1);
        if (c > BR_XLSX_MAX_COLUMNS) return -1;
        p++;
    }
    if (p == s) return -1;
    const char *digits = p;
    while (*p >= '0' && *p <= '9') {
        r = r * 10 + (unsigned)(*p - '0');
        if (r > BR_XLSX_MAX_ROWS) return -1;
        p++;
    }
    if (*p || (p != digits && !r)) return -1;
    *col = c - 1;
    *row = p == digits ? 0 : r;
    return 0;
}

/* Days since 1970-01-01 -> y, m, d (Howard Hinnant's civil_from_days). */
static void civil(long long z, long long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = (long long)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

/* An Excel date serial as ISO 8601 ("2021-03-04", with "T10:30:00" when it has a
 * time); -1 when it is no date Excel shows. */
static int serial_iso(const char *text, int date1904, char *out, size_t size)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || v < 0 || v > 2958465.0) return -1; /* 9999-12-31 */
    long long days = (long long)v;
    double frac = v - (double)days;
    long long secs = (long long)(frac * 86400.0 + 0.5);
    if (secs >= 86400) {
        days++;
        secs -= 86400;
    }
    long long unix_days;
    if (date1904) {
        unix_days = days - 24107; /* 1904-01-01 is day 0 */
    } else {
        if (days < 1) return -1;
        if (days == 60) return -1; /* 1900-02-29, which did not exist */
        if (days > 60) days--;     /* Lotus's leap year bug */
        unix_days = days - 25568;  /* 1900-01-01 is day 1 */
    }
    long long y;
    unsigned m, d;
    civil(unix_days, &y, &m, &d);
    int k = secs ? snprintf(out, size, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", y, m, d,
                            secs / 3600, secs / 60 % 60, secs % 60)
                 : snprintf(out, size, "%04lld-%02u-%02u", y, m, d);
    return k < 0 || (size_t)k >= size ? -1 : 0;
}

/* Adds a cell to the row being read; its text is b->tmp. */
static int add_cell(br_xlsx_book *b, unsigned col, br_xlsx_type type, br_error *err)
{
    if (b->n_cells == BR_XLSX_MAX_CELLS)
        return br_error_set(err, BR_ELIMIT, b->file, 0, 0,
                            "row %u of sheet '%s' has more than %u cells", b->last_row,
                            br_xlsx_sheet(b), BR_XLSX_MAX_CELLS);
    if (br_grow((void **)&b->cells, &b->cap_cells, b->n_cells + 1, sizeof *b->cells))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_xlsx_cell *c = &b->cells[b->n_cells++];
    c->col = col;
    c->type = type;
    c->len = b->tmp.len;
    c->text = (const char *)(uintptr_t)b->cell_text.len; /* an offset until the row ends */
    if (br_buf_append(&b->cell_text, b->tmp.p ? b->tmp.p : "", b->tmp.len) ||
        br_buf_append(&b->cell_text, "", 1))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    return 0;
}

static int set_tmp(br_xlsx_book *b, const char *s, br_error *err)
{
    br_buf_clear(&b->tmp);
    if (br_buf_puts(&b->tmp, s)) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    return 0;
}

/* Reads the <c> element the reader is on into the row. */
static int read_cell(br_xlsx_book *b, unsigned *next_col, br_error *err)
{
    part *p = &b->sheet;
    char ref[32], t[16], s[32];
    unsigned col = *next_col, row;
    char where[600];
    snprintf(where, sizeof where, "%s:%s", b->file, p->name);
    if (attr(p, "r", ref, sizeof ref) && parse_ref(ref, &col, &row))
        return br_error_set(err, BR_EINVAL, where,
                            (unsigned)xmlTextReaderGetParserLineNumber(p->rd), 0,
                            "cell reference '%s' is not a cell", ref);
    if (col >= BR_XLSX_MAX_COLUMNS)
        return br_error_set(err, BR_ELIMIT, where, 0, 0, "more than %u columns",
                            BR_XLSX_MAX_COLUMNS);
    *next_col = col + 1;
    attr(p, "t", t, sizeof t);
    int has_style = attr(p, "s", s, sizeof s);
    size_t max_cell = b->lim.max_field ? b->lim.max_field : 1024 * 1024;
    br_buf_clear(&b->tmp);
    int have = 0, rc;
    if (!xmlTextReaderIsEmptyElement(p->rd)) {
        int depth = xmlTextReaderDepth(p->rd);
        while ((rc = part_next(b, p, err)) == 1) {
            int nt = xmlTextReaderNodeType(p->rd);
            if (nt == XML_READER_TYPE_END_ELEMENT && xmlTextReaderDepth(p->rd) == depth) break;
            if ((is_elem(p, "v") && strcmp(t, "inlineStr")) ||
                (is_elem(p, "is") && !strcmp(t, "inlineStr"))) {
                if ((rc = element_text(b, p, &b->tmp, max_cell, err))) return rc;
                have = 1;
            } else if (nt == XML_READER_TYPE_ELEMENT && !xmlTextReaderIsEmptyElement(p->rd)) {
                br_buf other = {0}; /* a formula: its cached value is <v> */
                rc = element_text(b, p, &other, max_cell, err);
                br_buf_dispose(&other);
                if (rc) return rc;
            }
        }
        if (rc != 1) return rc ? rc : part_fault(b, p, err);
    }
    if (!have) return 0; /* no value: an empty (styled) cell */
    const char *v = b->tmp.p ? b->tmp.p : "";
    char buf[64];
    if (!strcmp(t, "s")) {
        char *end;
        errno = 0;
        unsigned long long i = strtoull(v, &end, 10);
        if (end == v || *end || errno || i >= b->n_sst) {
            snprintf(buf, sizeof buf, "shared string %.20s does not exist (the workbook has %zu)",
                     v, b->n_sst);
            return set_tmp(b, buf, err) ? BR_ENOMEM : add_cell(b, col, BR_XLSX_CELL_BAD, err);
        }
        const char *str = b->sst.p + b->sst_off[i];
        return set_tmp(b, str, err) ? BR_ENOMEM : add_cell(b, col, BR_XLSX_CELL_STRING, err);
    }
    if (!strcmp(t, "b")) {
        if (set_tmp(b, !strcmp(v, "1") ? "TRUE" : "FALSE", err)) return BR_ENOMEM;
        return add_cell(b, col, BR_XLSX_CELL_BOOL, err);
    }
    if (!strcmp(t, "e")) {
        snprintf(buf, sizeof buf, "the cell holds the error %.20s", v);
        return set_tmp(b, buf, err) ? BR_ENOMEM : add_cell(b, col, BR_XLSX_CELL_BAD, err);
    }
    if (!strcmp(t, "str") || !strcmp(t, "inlineStr") || !strcmp(t, "d"))
        return add_cell(b, col, BR_XLSX_CELL_STRING, err);
    /* a number */
    unsigned long xf = has_style ? strtoul(s, NULL, 10) : 0;
    if (has_style && xf < b->n_xf && b->xf_date[xf]) {
        if (serial_iso(v, b->date1904, buf, sizeof buf)) {
            snprintf(buf, sizeof buf, "the date serial %.20s is not a date", v);
            return set_tmp(b, buf, err) ? BR_ENOMEM : add_cell(b, col, BR_XLSX_CELL_BAD, err);
        }
        return set_tmp(b, buf, err) ? BR_ENOMEM : add_cell(b, col, BR_XLSX_CELL_DATE, err);
    }
    return add_cell(b, col, BR_XLSX_CELL_NUMBER, err);
}

int br_xlsx_next_row(br_xlsx_book *b, br_xlsx_row *row, br_error *err)
{
    if (!b->open || b->done) return 0;
    part *p = &b->sheet;
    int rc;
    while ((rc = part_next(b, p, err)) == 1) {
        if (!b->in_data) {
            if (is_elem(p, "sheetData") && !xmlTextReaderIsEmptyElement(p->rd)) b->in_data = 1;
            continue;
        }
        if (xmlTextReaderNodeType(p->rd) == XML_READER_TYPE_END_ELEMENT) {
            const xmlChar *n = xmlTextReaderConstLocalName(p->rd);
            if (n && !strcmp((const char *)n, "sheetData")) {
                b->done = 1;
                return 0;
            }
            continue;
        }
        if (!is_elem(p, "row")) continue;
        char r[32];
        unsigned num = b->last_row + 1;
        if (attr(p, "r", r, sizeof r)) {
            char *end;
            unsigned long v = strtoul(r, &end, 10);
            if (end == r || *end || !v || v > BR_XLSX_MAX_ROWS || v <= b->last_row) {
                char where[600];
                snprintf(where, sizeof where, "%s:%s", b->file, p->name);
                return br_error_set(err, BR_EINVAL, where,
                                    (unsigned)xmlTextReaderGetParserLineNumber(p->rd), 0,
                                    "row number '%s' is not after row %u", r, b->last_row);
            }
            num = (unsigned)v;
        }
        if (num > BR_XLSX_MAX_ROWS)
            return br_error_set(err, BR_ELIMIT, b->file, 0, 0, "more than %u rows",
                                BR_XLSX_MAX_ROWS);
        b->last_row = num;
        b->n_cells = 0;
        br_buf_clear(&b->cell_text);
        if (xmlTextReaderIsEmptyElement(p->rd)) continue;
        int depth = xmlTextReaderDepth(p->rd);
        unsigned next_col = 0;
        while ((rc = part_next(b, p, err)) == 1) {
            if (xmlTextReaderNodeType(p->rd) == XML_READER_TYPE_END_ELEMENT &&
                xmlTextReaderDepth(p->rd) == depth)
                break;
            if (is_elem(p, "c") && (rc = read_cell(b, &next_col, err))) return rc;
        }
        if (rc != 1) return rc ? rc : part_fault(b, p, err);
        if (!b->n_cells) continue;
        for (size_t i = 0; i < b->n_cells; i++)
            b->cells[i].text = b->cell_text.p + (uintptr_t)b->cells[i].text;
        row->row = num;
        row->cells = b->cells;
        row->n = b->n_cells;
        return 1;
    }
    if (rc < 0) return rc;
    if (!b->in_data) {
        char where[600];
        snprintf(where, sizeof where, "%s:%s", b->file, p->name);
        return br_error_set(err, BR_EINVAL, where, 0, 0, "the sheet has no sheetData");
    }
    return part_fault(b, p, err); /* ended inside sheetData */
}
