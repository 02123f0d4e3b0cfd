/* The ONIX for Books reader: ONIX 2.1, 3.0 and 3.1, reference names or short
 * tags, with or without a namespace, streamed one Product at a time with
 * libxml2's xmlTextReader (xmlTextReaderExpand on each Product, then
 * xmlTextReaderNext frees it), so memory does not grow with the feed.
 *
 * Safety: no network, no DTD loaded, no entity substituted by libxml2.  A 2.1
 * DOCTYPE naming EDItEUR's DTD is accepted; the HTML named entities it would
 * declare (&ndash;) come from data/html_entities.tsv.  A DOCTYPE whose internal
 * subset declares any entity (billion laughs, external entities) is refused
 * before any content is read.  Bytes that do not match the declared encoding
 * stop the reading with line:column (libxml2's encoding check).
 *
 * Where each composite goes: onix_internal.h and docs/formats.md.  Composites
 * the reader does not map, or maps only in part (a child it has no place for),
 * are kept whole, verbatim with reference names, in onix.unmapped.<block>. */
#include <libxml/xmlreader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "core/core.h"
#include "formats/onix_internal.h"

struct br_onix_rd {
    br_onix_rd_options opt;
    xmlTextReaderPtr xr;
    int release21;
    int positioned;   /* the reader stands on the node to look at next */
    int pending;      /* xmlTextReaderNext's result when positioned */
    char version[40]; /* the Header's SentDateTime, ISO 8601, or "" */
    size_t ordinal;   /* products read */
    /* the first parser error (fatal, or an error other than an undeclared entity) */
    int failed;
    unsigned fail_line, fail_col;
    char fail_msg[400];
    /* ISBNs seen: (line of the first product << 31) | (compact ISBN + 1); 0 = empty */
    uint64_t *isbns;
    size_t isbn_cap, isbn_n;
    /* the product in hand */
    br_record *rec;
    const char *key;
    size_t errors;
    const char **cov;
    size_t n_cov, cap_cov;
    br_buf text, xml;
    char keybuf[300];
};

/* ---- parser errors ------------------------------------------------------------------------- */

static void on_xml_error(void *ctx, xmlErrorPtr e)
{
    br_onix_rd *r = ctx;
    if (!e || e->level < XML_ERR_ERROR || r->failed) return;
    /* An entity the (unloaded) DTD would declare: resolved from the table, or refused
     * product by product. */
    if (e->code == XML_WAR_UNDECLARED_ENTITY && e->level == XML_ERR_ERROR) return;
    r->failed = 1;
    r->fail_line = e->line > 0 ? (unsigned)e->line : 0;
    r->fail_col = e->int2 > 0 ? (unsigned)e->int2 : 0;
    snprintf(r->fail_msg, sizeof r->fail_msg, "%s", e->message ? e->message : "malformed XML");
    size_t n = strlen(r->fail_msg);
    while (n && (r->fail_msg[n - 1] == '\n' || r->fail_msg[n - 1] == ' '))
        r->fail_msg[--n] = 0;
}

static int failure(br_onix_rd *r, br_error *err)
{
    if (!r->failed) {
        r->failed = 1;
        r->fail_line = (unsigned)xmlTextReaderGetParserLineNumber(r->xr);
        r->fail_col = (unsigned)xmlTextReaderGetParserColumnNumber(r->xr);
        snprintf(r->fail_msg, sizeof r->fail_msg, "malformed XML");
    }
    return br_error_set(err, BR_EINVAL, r->opt.name, r->fail_line, r->fail_col, "%s", r->fail_msg);
}

static int open_xml(br_onix_rd *r, br_error *err)
{
    /* NONET: nothing fetched; no NOENT, DTDLOAD or DTDATTR: no entity substituted, no DTD
     * read; NOCDATA: CDATA is text. */
    r->xr = xmlReaderForFile(r->opt.path, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA);
    if (!r->xr) return br_error_set(err, BR_EIO, r->opt.name, 0, 0, "cannot open the ONIX file");
    xmlTextReaderSetStructuredErrorHandler(r->xr, on_xml_error, r);
    r->positioned = 0;
    r->failed = 0;
    r->ordinal = 0;
    r->version[0] = 0;
    r->isbn_n = 0;
    if (r->isbns) memset(r->isbns, 0, r->isbn_cap * sizeof *r->isbns);
    return 0;
}

int br_onix_rd_open(const br_onix_rd_options *opt, br_onix_rd **out, br_error *err)
{
    *out = NULL;
    if (br_onix_tables()) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_onix_rd *r = calloc(1, sizeof *r);
    if (!r) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    r->opt = *opt;
    int rc = open_xml(r, err);
    if (rc) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int br_onix_rd_rewind(br_onix_rd *r, br_error *err)
{
    xmlFreeTextReader(r->xr);
    r->xr = NULL;
    return open_xml(r, err);
}

void br_onix_rd_close(br_onix_rd *r)
{
    if (!r) return;
    xmlFreeTextReader(r->xr);
    free(r->isbns);
    free(r->cov);
    br_buf_dispose(&r->text);
    br_buf_dispose(&r->xml);
    free(r);
}

/* ---- identifiers ----------------------------------------------------------------------------- */

int br_onix_isbn13(const char *in, int isbn10, char out[14])
{
    char d[16];
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (*p == '-' || *p == ' ') continue;
        if (n == 13) return -1;
        int last10 = isbn10 && n == 9 && (*p == 'X' || *p == 'x');
        if (!(*p >= '0' && *p <= '9') && !last10) return -1;
        d[n++] = last10 ? 'X' : *p;
    }
    d[n] = 0;
    if (isbn10) {
        if (n != 10) return -1;
        int sum = 0;
        for (int i = 0; i < 10; i++)
            sum += (10 - i) * (d[i] == 'X' ? 10 : d[i] - '0');
        if (sum % 11) return -2;
        memcpy(out, "978", 3);
        memcpy(out + 3, d, 9);
    } else {
        if (n != 13) return -1;
        int sum = 0;
        for (int i = 0; i < 13; i++)
            sum += (i % 2 ? 3 : 1) * (d[i] - '0');
        if (sum % 10) return -2;
        memcpy(out, d, 12);
    }
    int sum = 0;
    for (int i = 0; i < 12; i++)
        sum += (i % 2 ? 3 : 1) * (out[i] - '0');
    out[12] = (char)('0' + (10 - sum % 10) % 10);
    out[13] = 0;
    return 0;
}

static int is_isbn13(const char *g)
{
    return !strncmp(g, "978", 3) || !strncmp(g, "979", 3);
}

/* 0: new; else the line of the product that had it first.  -1: out of memory. */
static long isbn_seen(br_onix_rd *r, const char *isbn, unsigned line)
{
    uint64_t code = (uint64_t)(isbn[2] == '9') << 30;
    uint64_t body = 0;
    for (int i = 3; i < 12; i++)
        body = body * 10 + (uint64_t)(isbn[i] - '0');
    code = (code | body) + 1;
    if ((r->isbn_n + 1) * 2 > r->isbn_cap) {
        size_t cap = r->isbn_cap ? r->isbn_cap * 2 : 1024;
        uint64_t *t = calloc(cap, sizeof *t);
        if (!t) return -1;
        for (size_t i = 0; i < r->isbn_cap; i++) {
            uint64_t e = r->isbns[i];
            if (!e) continue;
            size_t h = (size_t)(((e & 0x7fffffffu) * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
            while (t[h])
                h = (h + 1) & (cap - 1);
            t[h] = e;
        }
        free(r->isbns);
        r->isbns = t;
        r->isbn_cap = cap;
    }
    size_t h = (size_t)((code * 0x9E3779B97F4A7C15ull) >> 20) & (r->isbn_cap - 1);
    while (r->isbns[h]) {
        if ((r->isbns[h] & 0x7fffffffu) == code) return (long)(r->isbns[h] >> 31);
        h = (h + 1) & (r->isbn_cap - 1);
    }
    r->isbns[h] = ((uint64_t)line << 31) | code;
    r->isbn_n++;
    return 0;
}

/* ---- the tree of one product --------------------------------------------------------------- */

static const char *rn(br_onix_rd *r, xmlNodePtr n)
{
    return br_onix_refname(r->release21, (const char *)n->name);
}

static unsigned line_of(xmlNodePtr n)
{
    long l = xmlGetLineNo(n);
    return l > 0 ? (unsigned)l : 0;
}

static void finding(br_onix_rd *r, xmlNodePtr n, const char *rule, const char *hint,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void finding(br_onix_rd *r, xmlNodePtr n, const char *rule, const char *hint,
                    const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->errors++;
    br_diag_emitf(r->opt.diags, BR_SEV_ERROR, r->key, r->opt.name, n ? line_of(n) : 0, 0, rule,
                  hint, "%s", msg);
}

static int utf8_put(br_buf *b, long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    return br_buf_append(b, u, n);
}

/* Appends the text below n; entity references from the HTML table (an unknown one is an
 * error of the product). */
static int gather(br_onix_rd *r, xmlNodePtr n, br_buf *out)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        int rc = 0;
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            if (c->content) rc = br_buf_puts(out, (const char *)c->content);
        } else if (c->type == XML_ENTITY_REF_NODE) {
            long cp = br_onix_entity((const char *)c->name);
            if (cp < 0)
                finding(r, n, "onix.entity.unknown", "use a character reference (&#8211;)",
                        "entity '&%s;' is not an HTML 4 entity ONIX declares", c->name);
            else
                rc = utf8_put(out, cp);
        } else if (c->type == XML_ELEMENT_NODE) {
            rc = gather(r, c, out);
        }
        if (rc) return rc;
    }
    return 0;
}

/* The trimmed text of n, in the record's arena (NULL: out of memory). */
static const char *text(br_onix_rd *r, xmlNodePtr n)
{
    br_buf_clear(&r->text);
    if (gather(r, n, &r->text) || br_buf_append(&r->text, "", 0)) return NULL;
    char *s = r->text.p ? r->text.p : "";
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t len = strlen(s);
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    return br_record_strn(r->rec, s, len);
}

static xmlNodePtr child(br_onix_rd *r, xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp(rn(r, c), name)) return c;
    return NULL;
}

static int count_children(br_onix_rd *r, xmlNodePtr n, const char *name)
{
    int k = 0;
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp(rn(r, c), name)) k++;
    return k;
}

/* The text of n's child name, NULL when absent ("" when empty). */
static const char *child_text(br_onix_rd *r, xmlNodePtr n, const char *name)
{
    xmlNodePtr c = child(r, n, name);
    return c ? text(r, c) : NULL;
}

/* Whether every element child of n is one of the ", "-less comma list names, each at
 * most once (a composite the reader maps whole). */
static int only(br_onix_rd *r, xmlNodePtr n, const char *names)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        const char *name = rn(r, c);
        size_t len = strlen(name);
        const char *p = names;
        int found = 0;
        while (p && *p) {
            const char *e = strchr(p, ',');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            if (l == len && !strncmp(p, name, len)) found = 1;
            p = e ? e + 1 : NULL;
        }
        if (!found || count_children(r, n, name) > 1) return 0;
    }
    return 1;
}

static int is_empty(br_onix_rd *r, xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE || c->type == XML_ENTITY_REF_NODE) return 0;
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
            for (const xmlChar *s = c->content; *s; s++)
                if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return 0;
    }
    return 1;
}

static int cover(br_onix_rd *r, const char *target)
{
    for (size_t i = 0; i < r->n_cov; i++)
        if (!strcmp(r->cov[i], target)) return 0;
    const char *t = br_record_str(r->rec, target);
    if (!t || br_grow((void **)&r->cov, &r->cap_cov, r->n_cov + 1, sizeof *r->cov))
        return BR_ENOMEM;
    r->cov[r->n_cov++] = t;
    return 0;
}

/* Covers each target of a comma-separated list. */
static int cover_list(br_onix_rd *r, const char *list)
{
    char one[128];
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l < sizeof one) {
            memcpy(one, p, l);
            one[l] = 0;
            if (cover(r, one)) return BR_ENOMEM;
        }
        p = e ? e + 1 : NULL;
    }
    return 0;
}

static br_mdv *add(br_onix_rd *r, const char *field, const char *value, xmlNodePtr at)
{
    char s[64], e[64], q[64];
    if (!value || br_field_parse(field, s, e, q)) return NULL;
    br_mdv *v = br_record_add_md(r->rec, s, e, q[0] ? q : NULL, NULL, value);
    if (v && at) {
        v->origin.source = r->opt.name;
        v->origin.line = line_of(at);
    }
    return v;
}

/* Serialises n with reference names (the unmapped composites). */
int br_onix_escape(br_buf *b, const char *s, int attr)
{
    int rc = 0;
    for (const char *p = s; p && *p && !rc; p++) {
        switch (*p) {
        case '&':
            rc = br_buf_puts(b, "&amp;");
            break;
        case '<':
            rc = br_buf_puts(b, "&lt;");
            break;
        case '>':
            rc = br_buf_puts(b, "&gt;");
            break;
        case '"':
            rc = attr ? br_buf_puts(b, "&quot;") : br_buf_append(b, p, 1);
            break;
        default:
            rc = br_buf_append(b, p, 1);
        }
    }
    return rc;
}

static int serialise(br_onix_rd *r, xmlNodePtr n, br_buf *b)
{
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
        return n->content ? br_onix_escape(b, (const char *)n->content, 0) : 0;
    if (n->type == XML_ENTITY_REF_NODE) {
        long cp = br_onix_entity((const char *)n->name);
        return cp < 0 ? 0 : utf8_put(b, cp);
    }
    if (n->type != XML_ELEMENT_NODE) return 0;
    const char *name = rn(r, n);
    if (br_buf_printf(b, "<%s", name)) return BR_ENOMEM;
    for (xmlAttrPtr a = n->properties; a; a = a->next) {
        xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
        int rc = br_buf_printf(b, " %s=\"", (const char *)a->name) ||
                 br_onix_escape(b, v ? (const char *)v : "", 1) || br_buf_puts(b, "\"");
        xmlFree(v);
        if (rc) return BR_ENOMEM;
    }
    if (!n->children) return br_buf_puts(b, "/>");
    if (br_buf_puts(b, ">")) return BR_ENOMEM;
    for (xmlNodePtr c = n->children; c; c = c->next)
        if (serialise(r, c, b)) return BR_ENOMEM;
    return br_buf_printf(b, "</%s>", name);
}

static int keep(br_onix_rd *r, xmlNodePtr n, const char *block)
{
    char field[64], low[40];
    size_t i = 0;
    for (; block[i] && i + 1 < sizeof low; i++)
        low[i] = (char)(block[i] >= 'A' && block[i] <= 'Z' ? block[i] + 32 : block[i]);
    low[i] = 0;
    snprintf(field, sizeof field, "onix.unmapped.%s", low);
    br_buf_clear(&r->xml);
    if (serialise(r, n, &r->xml) || br_buf_append(&r->xml, "", 0)) return BR_ENOMEM;
    return add(r, field, r->xml.p, n) ? 0 : BR_ENOMEM;
}

/* ---- dates ------------------------------------------------------------------------------------
 */

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

/* An ONIX date (YYYYMMDD, YYYYMM, YYYY; dateformat 00, 01, 05) as ISO 8601; 0 or -1. */
static int iso_date(const char *in, const char *format, char out[16])
{
    size_t n = strlen(in);
    if (format && *format && strcmp(format, "00") && strcmp(format, "01") && strcmp(format, "05"))
        return -1;
    if (!digits(in, n) || (n != 8 && n != 6 && n != 4)) return -1;
    if (format && ((!strcmp(format, "00") && n != 8) || (!strcmp(format, "01") && n != 6) ||
                   (!strcmp(format, "05") && n != 4)))
        return -1;
    int m = n >= 6 ? (in[4] - '0') * 10 + in[5] - '0' : 1;
    int d = n == 8 ? (in[6] - '0') * 10 + in[7] - '0' : 1;
    if (m < 1 || m > 12 || d < 1 || d > 31) return -1;
    snprintf(out, 16, "%.4s%s%.2s%s%.2s", in, n >= 6 ? "-" : "", n >= 6 ? in + 4 : "",
             n == 8 ? "-" : "", n == 8 ? in + 6 : "");
    return 0;
}

/* SentDateTime (YYYYMMDD[Thhmm[ss]][Z|+hhmm]) or 2.1 SentDate (YYYYMMDD[HHMM]) as
 * YYYY-MM-DDThh:mm:ss; 0 or -1. */
static int iso_datetime(const char *in, char out[40])
{
    char t[7] = "000000";
    size_t n = strlen(in);
    if (n < 8 || !digits(in, 8)) return -1;
    const char *p = in + 8;
    if (*p == 'T') p++;
    size_t k = 0;
    while (p[k] >= '0' && p[k] <= '9' && k < 6)
        k++;
    if (k != 0 && k != 4 && k != 6) return -1;
    memcpy(t, p, k);
    p += k;
    if (*p && *p != 'Z' && *p != '+' && *p != '-') return -1;
    snprintf(out, 40, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s", in, in + 4, in + 6, t, t + 2, t + 4);
    return 0;
}

/* ---- composites -------------------------------------------------------------------------------
 */

typedef struct product {
    br_onix_rd *r;
    const char *block;
    int isbn_count;
    char isbns[8][14];
} product;

/* A ProductIdentifier (or 2.1 ISBN / EAN13 shortcut): 1 mapped, 0 not, <0 error. */
static int map_identifier(product *p, xmlNodePtr n, const char *type, const char *value)
{
    br_onix_rd *r = p->r;
    char isbn[14];
    if (!value) return 0;
    int isbn10 = !strcmp(type, "02");
    if (!strcmp(type, "02") || !strcmp(type, "15") || !strcmp(type, "03")) {
        const char *what = isbn10 ? "ISBN-10" : !strcmp(type, "15") ? "ISBN-13" : "GTIN-13";
        int rc = br_onix_isbn13(value, isbn10, isbn);
        if (rc) {
            finding(r, n, rc == -2 ? "onix.isbn.check-digit" : "onix.isbn.malformed", NULL,
                    "product '%s': %s (ProductIDType %s) '%s' %s", r->key, rn(r, n), type, value,
                    rc == -2 ? "has a wrong check digit"
                    : isbn10 ? "is not an ISBN-10 (10 digits, X last)"
                             : "is not 13 digits");
            (void)what;
            return 1;
        }
        if (!strcmp(type, "03") && !is_isbn13(isbn))
            return add(r, "onix.identifier.gtin", br_record_str(r->rec, isbn), n) ? 1 : BR_ENOMEM;
        if (!is_isbn13(isbn)) {
            finding(r, n, "onix.isbn.prefix", NULL,
                    "product '%s': ISBN-13 '%s' does not begin with 978 or 979", r->key, value);
            return 1;
        }
        for (int i = 0; i < p->isbn_count; i++)
            if (!strcmp(p->isbns[i], isbn)) return 1; /* the same ISBN twice: once */
        if (p->isbn_count < 8) br_strlcpy(p->isbns[p->isbn_count++], isbn, 14);
        if (!add(r, "dc.identifier.isbn", br_record_str(r->rec, isbn), n) ||
            !br_record_add_identifier(r->rec, "isbn", isbn))
            return BR_ENOMEM;
        return 1;
    }
    if (!strcmp(type, "06")) {
        if (!add(r, "dc.identifier.doi", value, n) ||
            !br_record_add_identifier(r->rec, "doi", value))
            return BR_ENOMEM;
        return 1;
    }
    return 0;
}

static int map_title(product *p, xmlNodePtr n, const char *type, xmlNodePtr el)
{
    br_onix_rd *r = p->r;
    const char *t = child_text(r, el, "TitleText");
    char buf[2048];
    if (!t) {
        const char *pre = child_text(r, el, "TitlePrefix"),
                   *rest = child_text(r, el, "TitleWithoutPrefix");
        if (rest) {
            snprintf(buf, sizeof buf, "%s%s%s", pre ? pre : "", pre && *pre ? " " : "", rest);
            t = br_record_str(r->rec, buf);
        }
    }
    const char *sub = child_text(r, el, "Subtitle");
    int main_title = (!type || !strcmp(type, "01")) && !br_record_has(r->rec, "dc.title");
    if (t && *t && !add(r, main_title ? "dc.title" : "dc.title.alternative", t, n))
        return BR_ENOMEM;
    if (sub && *sub && main_title && !add(r, "onix.title.subtitle", sub, n)) return BR_ENOMEM;
    return 1;
}

static int map_series(product *p, xmlNodePtr n, const char *title, const char *part)
{
    char buf[2048];
    if (!title || !*title) return 1;
    if (part && *part) {
        snprintf(buf, sizeof buf, "%s; %s", title, part);
        title = br_record_str(p->r->rec, buf);
    }
    return add(p->r, "dc.relation.ispartofseries", title, n) ? 1 : BR_ENOMEM;
}

static int map_contributor(product *p, xmlNodePtr n)
{
    br_onix_rd *r = p->r;
    if (!only(r, n,
              "SequenceNumber,ContributorRole,NameIdentifier,PersonName,PersonNameInverted,"
              "NamesBeforeKey,KeyNames,CorporateName,BiographicalNote"))
        return 0;
    xmlNodePtr id = child(r, n, "NameIdentifier");
    const char *orcid = NULL;
    if (id) {
        const char *t = child_text(r, id, "NameIDType");
        if (!only(r, id, "NameIDType,IDValue") || !t || strcmp(t, "21")) return 0;
        orcid = child_text(r, id, "IDValue");
    }
    const char *role = child_text(r, n, "ContributorRole");
    const char *type = role ? br_onix_code("role", role) : NULL;
    if (!type) type = role && *role ? role : "other";
    br_creator *c =
        br_record_add_creator(r->rec, strcmp(type, "author") ? BR_CONTRIBUTOR : BR_CREATOR);
    if (!c) return BR_ENOMEM;
    c->origin.source = r->opt.name;
    c->origin.line = line_of(n);
    if (c->role == BR_CONTRIBUTOR) c->contrib_type = br_record_str(r->rec, type);
    const char *corp = child_text(r, n, "CorporateName");
    if (corp) {
        c->is_organization = 1;
        c->display = corp;
    } else {
        c->display = child_text(r, n, "PersonName");
        c->family = child_text(r, n, "KeyNames");
        c->given = child_text(r, n, "NamesBeforeKey");
        const char *inv = child_text(r, n, "PersonNameInverted");
        if (inv && !c->family) {
            const char *comma = strstr(inv, ", ");
            c->family = comma ? br_record_strn(r->rec, inv, (size_t)(comma - inv)) : inv;
            if (comma && !c->given) c->given = comma + 2;
        }
        if (!c->display && !c->family) c->display = "";
    }
    c->orcid = orcid;
    c->additional = child_text(r, n, "BiographicalNote");
    return 1;
}

static int map_subject(product *p, xmlNodePtr n)
{
    br_onix_rd *r = p->r;
    if (!only(r, n, "SubjectSchemeIdentifier,SubjectCode,SubjectHeadingText")) return 0;
    const char *field = br_onix_code("subject", child_text(r, n, "SubjectSchemeIdentifier"));
    if (!field) return 0;
    const char *code = child_text(r, n, "SubjectCode"),
               *head = child_text(r, n, "SubjectHeadingText");
    char buf[2048];
    if (code && *code)
        snprintf(buf, sizeof buf, "[%s]%s%s", code, head && *head ? " " : "", head ? head : "");
    else if (head && *head)
        snprintf(buf, sizeof buf, "%s", head);
    else
        return 1;
    return add(r, field, br_record_str(r->rec, buf), n) ? 1 : BR_ENOMEM;
}

static int map_text(product *p, xmlNodePtr n, const char *list, const char *type_el)
{
    br_onix_rd *r = p->r;
    if (!only(r, n, list[4] == '3' ? "TextType,ContentAudience,Text" : "TextTypeCode,Text"))
        return 0;
    const char *aud = child_text(r, n, "ContentAudience");
    if (aud && strcmp(aud, "00")) return 0;
    xmlNodePtr t = child(r, n, "Text");
    if (t)
        for (xmlNodePtr c = t->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE) return 0; /* markup: kept verbatim */
    const char *field = br_onix_code(list, child_text(r, n, type_el));
    if (!field) return 0;
    const char *v = t ? text(r, t) : NULL;
    if (v && *v && !add(r, field, v, n)) return BR_ENOMEM;
    return 1;
}

static int map_simple(product *p, xmlNodePtr n, const char *field)
{
    const char *v = text(p->r, n);
    if (!v) return BR_ENOMEM;
    return !*v || add(p->r, field, v, n) ? 1 : BR_ENOMEM;
}

static int map_date(product *p, xmlNodePtr n, const char *value, const char *format)
{
    char iso[16];
    if (!value || !*value) return 1;
    if (iso_date(value, format, iso)) {
        finding(p->r, n, "onix.date", "YYYYMMDD, YYYYMM or YYYY (dateformat 00, 01, 05)",
                "product '%s': %s '%s' is not a date", p->r->key, rn(p->r, n), value);
        return 1;
    }
    return add(p->r, "dc.date.issued", br_record_str(p->r->rec, iso), n) ? 1 : BR_ENOMEM;
}

static int map_related(product *p, xmlNodePtr n)
{
    br_onix_rd *r = p->r;
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        const char *name = rn(r, c);
        if (!strcmp(name, "ProductRelationCode")) continue;
        if (strcmp(name, "ProductIdentifier") || !only(r, c, "ProductIDType,IDValue")) return 0;
        const char *t = child_text(r, c, "ProductIDType");
        if (!t || (strcmp(t, "15") && strcmp(t, "06"))) return 0;
    }
    if (count_children(r, n, "ProductRelationCode") != 1) return 0;
    const char *field = br_onix_code("relation", child_text(r, n, "ProductRelationCode"));
    if (!field) return 0;
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp(rn(r, c), "ProductIdentifier")) continue;
        const char *t = child_text(r, c, "ProductIDType"), *v = child_text(r, c, "IDValue");
        char buf[1024];
        snprintf(buf, sizeof buf, "%s:%s", strcmp(t, "15") ? "doi" : "isbn", v ? v : "");
        if (!add(r, field, br_record_str(r->rec, buf), c)) return BR_ENOMEM;
    }
    return 1;
}

/* A file a SupportingResource names (by file name) beside the ONIX file, as a bitstream. */
static int attach(product *p, xmlNodePtr n)
{
    br_onix_rd *r = p->r;
    if (!r->opt.files_dir) return 0;
    const char *bundle = br_onix_code("resource", child_text(r, n, "ResourceContentType"));
    for (xmlNodePtr v = n->children; v; v = v->next) {
        if (v->type != XML_ELEMENT_NODE || strcmp(rn(r, v), "ResourceVersion")) continue;
        const char *link = child_text(r, v, "ResourceLink");
        char path[4096];
        if (!link || !*link || strstr(link, "://") || br_path_unsafe(link)) continue;
        if (br_path_join(path, sizeof path, r->opt.files_dir, link) || !br_is_file(path)) continue;
        const char *slash = strrchr(link, '/');
        br_bitstream *b = br_record_add_bitstream(r->rec, slash ? slash + 1 : link);
        if (!b) return BR_ENOMEM;
        b->path = br_record_str(r->rec, path);
        b->bundle = bundle ? bundle : "ORIGINAL";
        b->origin.source = r->opt.name;
        b->origin.line = line_of(v);
        if (!b->path || cover(r, "@file")) return BR_ENOMEM;
    }
    return 0;
}

/* One child of Product or of a block: 1 mapped, 0 kept verbatim, <0 error. */
static int map_element(product *p, xmlNodePtr n, const char *name)
{
    br_onix_rd *r = p->r;
    if (!strcmp(name, "RecordReference") || !strcmp(name, "NotificationType")) return 1;
    if (!strcmp(name, "ProductIdentifier")) {
        if (!only(r, n, "ProductIDType,IDValue")) return 0;
        const char *t = child_text(r, n, "ProductIDType");
        return t ? map_identifier(p, n, t, child_text(r, n, "IDValue")) : 0;
    }
    if (!strcmp(name, "ISBN")) {
        const char *v = text(r, n);
        return v ? map_identifier(p, n, strlen(v) == 10 ? "02" : "15", v) : BR_ENOMEM;
    }
    if (!strcmp(name, "EAN13")) return map_identifier(p, n, "03", text(r, n));
    if (!strcmp(name, "ProductComposition")) return map_simple(p, n, "onix.product.composition");
    if (!strcmp(name, "ProductForm")) return map_simple(p, n, "onix.product.form");
    if (!strcmp(name, "PublishingStatus")) return map_simple(p, n, "onix.publishing.status");
    if (!strcmp(name, "EditionNumber")) return map_simple(p, n, "onix.edition.number");
    if (!strcmp(name, "EditionStatement")) return map_simple(p, n, "onix.edition.statement");
    if (!strcmp(name, "LanguageOfText")) return map_simple(p, n, "dc.language.iso");
    if (!strcmp(name, "DistinctiveTitle")) return map_simple(p, n, "dc.title");
    if (!strcmp(name, "PublisherName")) return map_simple(p, n, "dc.publisher");
    if (!strcmp(name, "MainDescription")) return map_simple(p, n, "dc.description");
    if (!strcmp(name, "NoEdition") || !strcmp(name, "NoContributor") ||
        !strcmp(name, "NoCollection") || !strcmp(name, "NoSeries"))
        return is_empty(r, n) ? 1 : 0;
    if (!strcmp(name, "TitleDetail")) {
        if (!only(r, n, "TitleType,TitleElement")) return 0;
        xmlNodePtr el = child(r, n, "TitleElement");
        if (!el || !only(r, el,
                         "TitleElementLevel,TitleText,TitlePrefix,TitleWithoutPrefix,"
                         "Subtitle"))
            return 0;
        const char *lvl = child_text(r, el, "TitleElementLevel");
        if (lvl && strcmp(lvl, "01")) return 0;
        return map_title(p, n, child_text(r, n, "TitleType"), el);
    }
    if (!strcmp(name, "Title")) {
        if (!only(r, n, "TitleType,TitleText,TitlePrefix,TitleWithoutPrefix,Subtitle")) return 0;
        return map_title(p, n, child_text(r, n, "TitleType"), n);
    }
    if (!strcmp(name, "Collection")) {
        if (!only(r, n, "CollectionType,TitleDetail")) return 0;
        const char *ct = child_text(r, n, "CollectionType");
        xmlNodePtr td = child(r, n, "TitleDetail");
        xmlNodePtr el = td ? child(r, td, "TitleElement") : NULL;
        if ((ct && strcmp(ct, "10")) || !el || !only(r, td, "TitleType,TitleElement") ||
            !only(r, el, "TitleElementLevel,PartNumber,TitleText"))
            return 0;
        return map_series(p, n, child_text(r, el, "TitleText"), child_text(r, el, "PartNumber"));
    }
    if (!strcmp(name, "Series")) {
        if (!only(r, n, "TitleOfSeries,NumberWithinSeries")) return 0;
        return map_series(p, n, child_text(r, n, "TitleOfSeries"),
                          child_text(r, n, "NumberWithinSeries"));
    }
    if (!strcmp(name, "Contributor")) return map_contributor(p, n);
    if (!strcmp(name, "Language")) {
        const char *role = child_text(r, n, "LanguageRole");
        if (!only(r, n, "LanguageRole,LanguageCode") || !role || strcmp(role, "01")) return 0;
        xmlNodePtr c = child(r, n, "LanguageCode");
        return c ? map_simple(p, c, "dc.language.iso") : 0;
    }
    if (!strcmp(name, "Extent")) {
        if (!only(r, n, "ExtentType,ExtentValue,ExtentUnit")) return 0;
        const char *t = child_text(r, n, "ExtentType"), *v = child_text(r, n, "ExtentValue"),
                   *u = child_text(r, n, "ExtentUnit");
        if (!t || !v || !u || strchr(t, ' ') || strchr(v, ' ') || strchr(u, ' ')) return 0;
        char buf[256];
        snprintf(buf, sizeof buf, "%s %s %s", t, v, u);
        return add(r, "onix.extent", br_record_str(r->rec, buf), n) ? 1 : BR_ENOMEM;
    }
    if (!strcmp(name, "Subject")) return map_subject(p, n);
    if (!strcmp(name, "TextContent")) return map_text(p, n, "text30", "TextType");
    if (!strcmp(name, "OtherText")) return map_text(p, n, "text21", "TextTypeCode");
    if (!strcmp(name, "Publisher")) {
        const char *role = child_text(r, n, "PublishingRole");
        if (!only(r, n, "PublishingRole,PublisherName") || (role && strcmp(role, "01"))) return 0;
        xmlNodePtr c = child(r, n, "PublisherName");
        return c ? map_simple(p, c, "dc.publisher") : 0;
    }
    if (!strcmp(name, "Imprint")) {
        xmlNodePtr c = child(r, n, "ImprintName");
        if (!only(r, n, "ImprintName") || !c) return 0;
        return map_simple(p, c, "onix.imprint.name");
    }
    if (!strcmp(name, "PublishingDate")) {
        const char *role = child_text(r, n, "PublishingDateRole");
        xmlNodePtr d = child(r, n, "Date");
        if (!only(r, n, "PublishingDateRole,DateFormat,Date") || !role || strcmp(role, "01") || !d)
            return 0;
        xmlChar *fmt = xmlGetProp(d, (const xmlChar *)"dateformat");
        const char *f =
            fmt ? br_record_str(r->rec, (const char *)fmt) : child_text(r, n, "DateFormat");
        xmlFree(fmt);
        return map_date(p, d, text(r, d), f);
    }
    if (!strcmp(name, "PublicationDate")) return map_date(p, n, text(r, n), NULL);
    if (!strcmp(name, "RelatedProduct")) return map_related(p, n);
    if (!strcmp(name, "SupportingResource")) return attach(p, n);
    return 0;
}

static const char *const BLOCKS[] = {"DescriptiveDetail", "CollateralDetail", "PromotionDetail",
                                     "ContentDetail",     "PublishingDetail", "RelatedMaterial",
                                     "ProductionDetail"};

static int is_block(const char *name)
{
    for (size_t i = 0; i < BR_ARRAY_LEN(BLOCKS); i++)
        if (!strcmp(name, BLOCKS[i])) return 1;
    return 0;
}

static int map_child(product *p, xmlNodePtr n, const char *block)
{
    br_onix_rd *r = p->r;
    const char *name = rn(r, n);
    const char *targets = NULL;
    int known = br_onix_composite(name, &targets) != NULL;
    /* A composite present, even empty, replaces what the store has of its kind
     * (the seed's rules: present but empty deletes; absent keeps). */
    if (known && cover_list(r, targets)) return BR_ENOMEM;
    if (known && is_empty(r, n)) return 0;
    int rc = map_element(p, n, name);
    if (rc < 0) return rc;
    return rc == 0 ? keep(r, n, block) : 0;
}

/* Covers every target of a block (a block update) and its verbatim field. */
static int cover_block(br_onix_rd *r, const char *block)
{
    const char *b, *targets, *name;
    for (size_t i = 0; (name = br_onix_composite_at(i, &b, &targets)); i++)
        if (!strcmp(b, block) && cover_list(r, targets)) return BR_ENOMEM;
    char field[64], low[40];
    size_t i = 0;
    for (; block[i] && i + 1 < sizeof low; i++)
        low[i] = (char)(block[i] >= 'A' && block[i] <= 'Z' ? block[i] + 32 : block[i]);
    low[i] = 0;
    snprintf(field, sizeof field, "onix.unmapped.%s", low);
    return cover(r, field);
}

static int map_product(br_onix_rd *r, xmlNodePtr prod, br_record *rec, br_read_info *info)
{
    product p = {0};
    p.r = r;
    int rc = 0;
    const char *ref = child_text(r, prod, "RecordReference");
    const char *nt = child_text(r, prod, "NotificationType");
    r->ordinal++;
    snprintf(r->keybuf, sizeof r->keybuf, "%s", ref && *ref ? ref : "");
    r->key = r->keybuf;
    if (!*r->keybuf) { /* the ISBN, else the product's number */
        for (xmlNodePtr c = prod->children; c && !*r->keybuf; c = c->next) {
            char isbn[14];
            if (c->type != XML_ELEMENT_NODE) continue;
            const char *name = rn(r, c), *t = NULL, *v = NULL;
            if (!strcmp(name, "ProductIdentifier"))
                t = child_text(r, c, "ProductIDType"), v = child_text(r, c, "IDValue");
            else if (!strcmp(name, "ISBN") || !strcmp(name, "EAN13"))
                t = "15", v = text(r, c);
            if (t && v && (!strcmp(t, "02") || !strcmp(t, "03") || !strcmp(t, "15")) &&
                !br_onix_isbn13(v, !strcmp(t, "02") || strlen(v) == 10, isbn))
                snprintf(r->keybuf, sizeof r->keybuf, "%s", isbn);
        }
        if (!*r->keybuf) snprintf(r->keybuf, sizeof r->keybuf, "product %zu", r->ordinal);
    }
    info->key = r->key;
    info->first_line = line_of(prod);
    info->action = BR_READ_UPSERT;
    int block_update = 0;
    if (!nt || !*nt) {
        finding(r, prod, "onix.notification.missing",
                "01-03 new or updated, 04 block update, 05 "
                "delete, 88/89 test",
                "product '%s' has no NotificationType", r->key);
    } else if (!strcmp(nt, "05")) {
        info->action = BR_READ_DELETE;
    } else if (!strcmp(nt, "88") || !strcmp(nt, "89")) {
        info->action = BR_READ_TEST;
    } else if (!strcmp(nt, "04")) {
        block_update = !r->release21;
        info->action = BR_READ_UPDATE; /* a block update of a record that must exist */
    } else if (strcmp(nt, "01") && strcmp(nt, "02") && strcmp(nt, "03") && strcmp(nt, "08") &&
               strcmp(nt, "09") && strcmp(nt, "12") && strcmp(nt, "13") && strcmp(nt, "14")) {
        finding(r, prod, "onix.notification.unknown", NULL,
                "product '%s': NotificationType '%s' is not in ONIX code list 1", r->key, nt);
    }
    if (ref && *ref) {
        if (!add(r, "onix.record.reference", ref, prod) ||
            !br_record_add_identifier(rec, "onixref", ref))
            return BR_ENOMEM;
    }
    for (xmlNodePtr c = prod->children; c && !rc; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        const char *name = rn(r, c);
        if (!r->release21 && is_block(name)) {
            if (block_update && (rc = cover_block(r, name))) break;
            for (xmlNodePtr cc = c->children; cc && !rc; cc = cc->next)
                if (cc->type == XML_ELEMENT_NODE) rc = map_child(&p, cc, name);
            continue;
        }
        if (!strcmp(name, "ProductSupply") && block_update &&
            (rc = cover(r, "onix.unmapped.product")))
            break;
        rc = map_child(&p, c, "Product");
    }
    if (rc) return rc;
    if ((!ref || !*ref) && !p.isbn_count)
        finding(r, prod, "onix.product.no-identifier", "give it a RecordReference or an ISBN",
                "a product with no ISBN/EAN and no RecordReference (product %zu)", r->ordinal);
    for (int i = 0; i < p.isbn_count; i++) {
        long first = isbn_seen(r, p.isbns[i], info->first_line);
        if (first < 0) return BR_ENOMEM;
        if (first)
            finding(r, prod, "onix.isbn.duplicate", "one product per ISBN in a message",
                    "ISBN %s of product '%s' (line %u) is also the ISBN of the product at "
                    "line %ld",
                    p.isbns[i], r->key, info->first_line, first);
    }
    if (r->version[0]) {
        if (!add(r, "onix.message.sentdate", r->version, NULL)) return BR_ENOMEM;
        info->version = br_record_str(rec, r->version);
    }
    if (br_record_derive_contributors(rec)) return BR_ENOMEM;
    /* Targets: every field the product has a value for, and its creators. */
    char name[256];
    for (size_t i = 0; i < rec->n_md; i++) {
        const br_mdv *v = &rec->md[i];
        snprintf(name, sizeof name, "%s.%s%s%s", v->schema, v->element, v->qualifier ? "." : "",
                 v->qualifier ? v->qualifier : "");
        if (cover(r, name)) return BR_ENOMEM;
    }
    for (size_t i = 0; i < rec->n_creators; i++)
        if (cover(r, rec->creators[i].role == BR_CREATOR ? "@creator" : "@contributor"))
            return BR_ENOMEM;
    /* The list lives in the record's arena (8-byte aligned), not in the reader: the
     * pipeline reads ahead, so this record is used after the next one is read. */
    const void *list =
        r->n_cov ? br_record_strn(rec, (const char *)r->cov, r->n_cov * sizeof *r->cov) : NULL;
    if (r->n_cov && !list) return BR_ENOMEM;
    info->covered = (const char *const *)list;
    info->n_covered = r->n_cov;
    return 0;
}

/* ---- the stream -------------------------------------------------------------------------------
 */

static int read_header(br_onix_rd *r, xmlNodePtr h)
{
    for (xmlNodePtr c = h->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        const char *name = rn(r, c);
        if (strcmp(name, "SentDateTime") && strcmp(name, "SentDate")) continue;
        br_buf_clear(&r->text);
        if (gather(r, c, &r->text) || br_buf_append(&r->text, "", 0)) return BR_ENOMEM;
        char *s = br_trim(r->text.p ? r->text.p : "");
        if (iso_datetime(s, r->version)) {
            r->version[0] = 0;
            br_diag_emitf(r->opt.diags, BR_SEV_WARNING, NULL, r->opt.name, line_of(c), 0,
                          "onix.header.date", "YYYYMMDDThhmmss",
                          "%s '%s' is not an ONIX date: the products have no version", name, s);
        }
    }
    return 0;
}

static int check_doctype(br_onix_rd *r, br_error *err)
{
    /* The DTD node itself (xmlTextReaderCurrentDoc would make the reader keep every node
     * it reads from then on). */
    xmlNodePtr node = xmlTextReaderCurrentNode(r->xr);
    xmlDtdPtr dtd = node && node->type == XML_DTD_NODE ? (xmlDtdPtr)node : NULL;
    int declares = dtd && (dtd->entities || dtd->pentities);
    for (xmlNodePtr c = dtd ? dtd->children : NULL; c && !declares; c = c->next)
        if (c->type == XML_ENTITY_DECL) declares = 1;
    if (!declares) return 0;
    return br_error_set(err, BR_EINVAL, r->opt.name,
                        (unsigned)xmlTextReaderGetParserLineNumber(r->xr),
                        (unsigned)xmlTextReaderGetParserColumnNumber(r->xr),
                        "the DOCTYPE declares entities: refused (entity expansion and external "
                        "entities are not read; ONIX's HTML entities need no declaration)");
}

int br_onix_rd_next(br_onix_rd *r, br_record *rec, br_read_info *info, br_error *err)
{
    memset(info, 0, sizeof *info);
    for (;;) {
        int rc;
        if (r->positioned) {
            rc = r->pending;
            r->positioned = 0;
        } else {
            rc = xmlTextReaderRead(r->xr);
        }
        if (r->failed || rc < 0) return failure(r, err);
        if (rc == 0) return 0;
        int type = xmlTextReaderNodeType(r->xr), depth = xmlTextReaderDepth(r->xr);
        if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
            if ((rc = check_doctype(r, err))) return rc;
            continue;
        }
        if (type != XML_READER_TYPE_ELEMENT) continue;
        const char *local = (const char *)xmlTextReaderConstLocalName(r->xr);
        if (depth == 0) {
            if (strcmp(local, "ONIXMessage") && strcmp(local, "ONIXmessage"))
                return br_error_set(err, BR_EINVAL, r->opt.name,
                                    (unsigned)xmlTextReaderGetParserLineNumber(r->xr), 0,
                                    "<%s> is not an ONIX message (ONIXMessage)", local);
            xmlChar *rel = xmlTextReaderGetAttribute(r->xr, (const xmlChar *)"release");
            const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r->xr);
            r->release21 = rel ? !strncmp((const char *)rel, "2.", 2) : !(ns && strstr(ns, "/3."));
            xmlFree(rel);
            continue;
        }
        if (depth != 1) continue;
        const char *name = br_onix_refname(r->release21, local);
        int is_product = !strcmp(name, "Product");
        if (!is_product && strcmp(name, "Header")) continue;
        xmlNodePtr n = xmlTextReaderExpand(r->xr);
        if (!n || r->failed) return failure(r, err);
        if (!is_product) {
            if ((rc = read_header(r, n))) return br_error_set(err, rc, NULL, 0, 0, "out of memory");
        } else {
            br_record_reset(rec);
            r->rec = rec;
            r->errors = 0;
            r->n_cov = 0;
            rc = map_product(r, n, rec, info);
            if (rc) return br_error_set(err, rc, NULL, 0, 0, "out of memory");
            info->errors = r->errors;
        }
        r->pending = xmlTextReaderNext(r->xr);
        r->positioned = 1;
        if (is_product) {
            info->last_line = (unsigned)xmlTextReaderGetParserLineNumber(r->xr);
            return 1;
        }
    }
}
