/* The ONIX writer: one ONIX 3.0 message (reference names, the 3.0 namespace)
 * from records, the reverse of onix_read.c, so that export -> import changes
 * nothing: each field the reader maps is written back where it came from, and
 * the verbatim composites (onix.unmapped.<block>) go back into their block.
 * Files are not written (a SupportingResource kept verbatim still names its
 * file).  The Header's SentDateTime is the newest onix.message.sentdate of
 * the records (their version), or now when none has one; the products are
 * written to DEST.body.tmp first and the message put together at close, under
 * DEST.tmp renamed to DEST, so a failed export leaves nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/core.h"
#include "formats/onix_internal.h"

struct br_writer {
    FILE *body;
    char dest[4096], body_path[4200], tmp_path[4200];
    char newest[40];
    int from_input;
    br_diag_sink *diags;
    br_write_stats local, *stats;
    br_buf b;
    char key[300];
};

/* Text content: escaped as the reader's serialiser does (no quotes needed). */
static int esc(br_buf *b, const char *s)
{
    return br_onix_escape(b, s, 0);
}

/* <name>text</name> on its own line at depth d (text escaped). */
static int el(br_buf *b, int d, const char *name, const char *text)
{
    return br_buf_printf(b, "%*s<%s>", d * 2, "", name) || esc(b, text) ||
           br_buf_printf(b, "</%s>\n", name);
}

static int fname(const br_mdv *v, char *out, size_t size)
{
    return snprintf(out, size, "%s.%s%s%s", v->schema, v->element, v->qualifier ? "." : "",
                    v->qualifier ? v->qualifier : "") >= (int)size;
}

int br_onix_drv_writer_open(const br_write_options *opt, br_writer **out, br_error *err)
{
    *out = NULL;
    if (opt->on_column) {
        if (opt->n_fields || opt->n_categories)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "ONIX has no column selection");
        return 0;
    }
    if (opt->n_fields || opt->n_categories)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "ONIX has no column selection");
    if (opt->defaults && opt->defaults[0])
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "ONIX has no columns for --default");
    if (opt->migrate || opt->zip)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "an ONIX message has no item folders: -m and -z do not apply");
    if (!opt->dest || !*opt->dest)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no destination file given");
    if (br_onix_tables()) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (!access(opt->dest, F_OK))
        return br_error_set(err, BR_EEXISTS, NULL, 0, 0, "%s already exists", opt->dest);
    br_writer *w = calloc(1, sizeof *w);
    if (!w) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    if (snprintf(w->dest, sizeof w->dest, "%s", opt->dest) >= (int)sizeof w->dest) {
        free(w);
        return br_error_set(err, BR_ELIMIT, opt->dest, 0, 0, "path too long");
    }
    snprintf(w->body_path, sizeof w->body_path, "%s.body.tmp", opt->dest);
    snprintf(w->tmp_path, sizeof w->tmp_path, "%s.tmp", opt->dest);
    w->from_input = opt->from_input;
    w->diags = opt->diags;
    w->stats = opt->stats ? opt->stats : &w->local;
    if (!(w->body = fopen(w->body_path, "w+xe"))) {
        int e = errno;
        free(w);
        return br_error_set(err, BR_EIO, opt->dest, 0, 0, "cannot create: %s", strerror(e));
    }
    *out = w;
    return 0;
}

void br_onix_drv_writer_abort(br_writer *w)
{
    if (!w) return;
    if (w->body) fclose(w->body);
    unlink(w->body_path);
    unlink(w->tmp_path);
    br_buf_dispose(&w->b);
    free(w);
}

/* The values of field, in order. */
#define EACH(rec, i, field)                                                                        \
    for (size_t i = 0; i < (rec)->n_md; i++)                                                       \
        if (is_field(&(rec)->md[i], field))

static int is_field(const br_mdv *v, const char *field)
{
    char n[256];
    return !fname(v, n, sizeof n) && !strcmp(n, field);
}

static int has_prefix(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

/* Verbatim composites of a block (already XML with reference names). */
static int verbatim(br_buf *b, const br_record *rec, const char *field, int supply)
{
    EACH(rec, i, field)
    {
        const char *v = rec->md[i].value;
        if (!strcmp(field, "onix.unmapped.product") &&
            (has_prefix(v, "<ProductSupply") != 0) != (supply != 0))
            continue;
        if (br_buf_printf(b, "%*s%s\n", supply ? 4 : 6, "", v)) return BR_ENOMEM;
    }
    return 0;
}

static int any(const br_record *rec, const char *const *fields)
{
    for (; *fields; fields++)
        if (br_record_has(rec, *fields)) return 1;
    return 0;
}

static const char *role_code(const br_creator *c, char buf[8])
{
    if (c->role == BR_CREATOR) return "A01";
    const char *t = c->contrib_type ? c->contrib_type : "other";
    const char *code = br_onix_code_of("role", t);
    if (code) return code;
    if (strlen(t) == 3 && t[0] >= 'A' && t[0] <= 'Z' && t[1] >= '0' && t[1] <= '9') {
        br_strlcpy(buf, t, 8);
        return buf;
    }
    return "Z99";
}

static int contributors(br_buf *b, const br_record *rec)
{
    for (size_t i = 0; i < rec->n_creators; i++) {
        const br_creator *c = &rec->creators[i];
        char code[8];
        if (br_buf_puts(b, "      <Contributor>\n") ||
            br_buf_printf(b, "        <SequenceNumber>%zu</SequenceNumber>\n", i + 1) ||
            el(b, 4, "ContributorRole", role_code(c, code)))
            return BR_ENOMEM;
        if (c->orcid && *c->orcid &&
            (br_buf_puts(b, "        <NameIdentifier>\n") || el(b, 5, "NameIDType", "21") ||
             el(b, 5, "IDValue", c->orcid) || br_buf_puts(b, "        </NameIdentifier>\n")))
            return BR_ENOMEM;
        if (c->is_organization) {
            if (el(b, 4, "CorporateName", c->display ? c->display : "")) return BR_ENOMEM;
        } else {
            if (c->display && *c->display && el(b, 4, "PersonName", c->display)) return BR_ENOMEM;
            if (c->given && el(b, 4, "NamesBeforeKey", c->given)) return BR_ENOMEM;
            if (c->family && el(b, 4, "KeyNames", c->family)) return BR_ENOMEM;
            if (!c->family && !c->given && (!c->display || !*c->display) &&
                el(b, 4, "PersonName", ""))
                return BR_ENOMEM;
        }
        if (c->additional && el(b, 4, "BiographicalNote", c->additional)) return BR_ENOMEM;
        if (br_buf_puts(b, "      </Contributor>\n")) return BR_ENOMEM;
    }
    return 0;
}

static int subject(br_buf *b, const char *scheme, const char *v)
{
    const char *code = NULL, *head = v;
    size_t code_len = 0;
    if (v[0] == '[' && strchr(v, ']')) {
        code = v + 1;
        code_len = (size_t)(strchr(v, ']') - code);
        head = code + code_len + 1;
        if (*head == ' ') head++;
    }
    if (br_buf_puts(b, "      <Subject>\n") || el(b, 4, "SubjectSchemeIdentifier", scheme))
        return BR_ENOMEM;
    if (code && (br_buf_puts(b, "        <SubjectCode>") || esc(b, "") ||
                 br_buf_append(b, code, code_len) || br_buf_puts(b, "</SubjectCode>\n")))
        return BR_ENOMEM;
    if (*head && el(b, 4, "SubjectHeadingText", head)) return BR_ENOMEM;
    return br_buf_puts(b, "      </Subject>\n");
}

static void lost(br_writer *w, const char *key, const char *field, const char *value)
{
    w->stats->lost++;
    br_diag_emitf(w->diags, BR_SEV_NOTE, key, NULL, 0, 0, "onix.write.lost", NULL,
                  "%s '%.80s' has no place in ONIX", field, value);
}

static int descriptive(br_writer *w, br_buf *b, const br_record *rec, const char *key)
{
    static const char *const F[] = {"onix.product.composition",
                                    "onix.product.form",
                                    "onix.unmapped.descriptivedetail",
                                    "dc.relation.ispartofseries",
                                    "dc.title",
                                    "dc.title.alternative",
                                    "onix.edition.number",
                                    "onix.edition.statement",
                                    "dc.language.iso",
                                    "onix.extent",
                                    "dc.subject",
                                    "dc.subject.ddc",
                                    "dc.subject.lcc",
                                    "dc.subject.lcsh",
                                    "onix.subject.bisac",
                                    "onix.subject.bic",
                                    "onix.subject.thema",
                                    NULL};
    if (!any(rec, F) && !rec->n_creators) return 0;
    if (br_buf_puts(b, "    <DescriptiveDetail>\n")) return BR_ENOMEM;
    const char *comp = br_record_first(rec, "onix.product.composition"),
               *form = br_record_first(rec, "onix.product.form");
    if (!comp && w->from_input) comp = "00";
    if (!form && w->from_input) form = "00";
    if ((comp && el(b, 3, "ProductComposition", comp)) || (form && el(b, 3, "ProductForm", form)))
        return BR_ENOMEM;
    if (verbatim(b, rec, "onix.unmapped.descriptivedetail", 0)) return BR_ENOMEM;
    EACH(rec, i, "dc.relation.ispartofseries")
    {
        const char *v = rec->md[i].value, *semi = strrchr(v, ';');
        size_t tl = semi && semi[1] == ' ' ? (size_t)(semi - v) : strlen(v);
        if (br_buf_puts(b, "      <Collection>\n") || el(b, 4, "CollectionType", "10") ||
            br_buf_puts(b, "        <TitleDetail>\n") || el(b, 5, "TitleType", "01") ||
            br_buf_puts(b, "          <TitleElement>\n") || el(b, 6, "TitleElementLevel", "02"))
            return BR_ENOMEM;
        if (tl < strlen(v) && el(b, 6, "PartNumber", semi + 2)) return BR_ENOMEM;
        if (br_buf_puts(b, "            <TitleText>")) return BR_ENOMEM;
        char *t = strndup(v, tl);
        int rc = !t || esc(b, t);
        free(t);
        if (rc || br_buf_puts(b, "</TitleText>\n          </TitleElement>\n"
                                 "        </TitleDetail>\n      </Collection>\n"))
            return BR_ENOMEM;
    }
    const char *sub = br_record_first(rec, "onix.title.subtitle");
    int first = 1;
    for (size_t i = 0; i < rec->n_md; i++) {
        int main_title = is_field(&rec->md[i], "dc.title");
        if (!main_title && !is_field(&rec->md[i], "dc.title.alternative")) continue;
        if (br_buf_puts(b, "      <TitleDetail>\n") ||
            el(b, 4, "TitleType", main_title && first ? "01" : "03") ||
            br_buf_puts(b, "        <TitleElement>\n") || el(b, 5, "TitleElementLevel", "01") ||
            el(b, 5, "TitleText", rec->md[i].value))
            return BR_ENOMEM;
        if (main_title && first && sub && el(b, 5, "Subtitle", sub)) return BR_ENOMEM;
        if (br_buf_puts(b, "        </TitleElement>\n      </TitleDetail>\n")) return BR_ENOMEM;
        if (main_title) first = 0;
    }
    (void)key;
    if (contributors(b, rec)) return BR_ENOMEM;
    EACH(rec, i, "onix.edition.number")
    if (el(b, 3, "EditionNumber", rec->md[i].value)) return BR_ENOMEM;
    EACH(rec, i, "onix.edition.statement")
    if (el(b, 3, "EditionStatement", rec->md[i].value)) return BR_ENOMEM;
    EACH(rec, i, "dc.language.iso")
    {
        if (br_buf_puts(b, "      <Language>\n") || el(b, 4, "LanguageRole", "01") ||
            el(b, 4, "LanguageCode", rec->md[i].value) || br_buf_puts(b, "      </Language>\n"))
            return BR_ENOMEM;
    }
    EACH(rec, i, "onix.extent")
    {
        char t[32], v[64], u[32];
        if (sscanf(rec->md[i].value, "%31s %63s %31s", t, v, u) != 3) {
            lost(w, key, "onix.extent", rec->md[i].value);
            continue;
        }
        if (br_buf_puts(b, "      <Extent>\n") || el(b, 4, "ExtentType", t) ||
            el(b, 4, "ExtentValue", v) || el(b, 4, "ExtentUnit", u) ||
            br_buf_puts(b, "      </Extent>\n"))
            return BR_ENOMEM;
    }
    for (size_t i = 0; i < rec->n_md; i++) {
        char n[256];
        if (fname(&rec->md[i], n, sizeof n)) continue;
        const char *scheme = br_onix_code_of("subject", n);
        if (scheme && subject(b, scheme, rec->md[i].value)) return BR_ENOMEM;
    }
    return br_buf_puts(b, "    </DescriptiveDetail>\n");
}

static int block(br_buf *b, const br_record *rec, const char *name, const char *field)
{
    if (!br_record_has(rec, field)) return 0;
    return br_buf_printf(b, "    <%s>\n", name) || verbatim(b, rec, field, 0) ||
           br_buf_printf(b, "    </%s>\n", name);
}

static int collateral(br_buf *b, const br_record *rec)
{
    static const char *const F[] = {"dc.description", "dc.description.abstract",
                                    "dc.description.tableofcontents",
                                    "onix.unmapped.collateraldetail", NULL};
    if (!any(rec, F)) return 0;
    if (br_buf_puts(b, "    <CollateralDetail>\n")) return BR_ENOMEM;
    for (size_t i = 0; i < rec->n_md; i++) {
        char n[256];
        if (fname(&rec->md[i], n, sizeof n)) continue;
        const char *type = br_onix_code_of("text30", n);
        if (!type) continue;
        if (br_buf_puts(b, "      <TextContent>\n") || el(b, 4, "TextType", type) ||
            el(b, 4, "ContentAudience", "00") || el(b, 4, "Text", rec->md[i].value) ||
            br_buf_puts(b, "      </TextContent>\n"))
            return BR_ENOMEM;
    }
    return verbatim(b, rec, "onix.unmapped.collateraldetail", 0) ||
           br_buf_puts(b, "    </CollateralDetail>\n");
}

static int publishing(br_writer *w, br_buf *b, const br_record *rec, const char *key)
{
    static const char *const F[] = {"onix.imprint.name",
                                    "dc.publisher",
                                    "onix.publishing.status",
                                    "dc.date.issued",
                                    "onix.unmapped.publishingdetail",
                                    NULL};
    if (!any(rec, F)) return 0;
    if (br_buf_puts(b, "    <PublishingDetail>\n")) return BR_ENOMEM;
    EACH(rec, i, "onix.imprint.name")
    {
        if (br_buf_puts(b, "      <Imprint>\n") || el(b, 4, "ImprintName", rec->md[i].value) ||
            br_buf_puts(b, "      </Imprint>\n"))
            return BR_ENOMEM;
    }
    EACH(rec, i, "dc.publisher")
    {
        if (br_buf_puts(b, "      <Publisher>\n") || el(b, 4, "PublishingRole", "01") ||
            el(b, 4, "PublisherName", rec->md[i].value) || br_buf_puts(b, "      </Publisher>\n"))
            return BR_ENOMEM;
    }
    EACH(rec, i, "onix.publishing.status")
    if (el(b, 3, "PublishingStatus", rec->md[i].value)) return BR_ENOMEM;
    EACH(rec, i, "dc.date.issued")
    {
        const char *v = rec->md[i].value;
        char d[9];
        size_t n = 0;
        for (const char *p = v; *p && *p != 'T' && n < 8; p++)
            if (*p >= '0' && *p <= '9') d[n++] = *p;
        d[n] = 0;
        const char *fmt = n == 8 ? "00" : n == 6 ? "01" : n == 4 ? "05" : NULL;
        if (!fmt) {
            lost(w, key, "dc.date.issued", v);
            continue;
        }
        if (br_buf_puts(b, "      <PublishingDate>\n") || el(b, 4, "PublishingDateRole", "01") ||
            br_buf_printf(b, "        <Date dateformat=\"%s\">%s</Date>\n", fmt, d) ||
            br_buf_puts(b, "      </PublishingDate>\n"))
            return BR_ENOMEM;
    }
    return verbatim(b, rec, "onix.unmapped.publishingdetail", 0) ||
           br_buf_puts(b, "    </PublishingDetail>\n");
}

static int related(br_writer *w, br_buf *b, const br_record *rec, const char *key)
{
    int open = 0;
    for (size_t i = 0; i < rec->n_md; i++) {
        char n[256];
        if (fname(&rec->md[i], n, sizeof n)) continue;
        const char *code = br_onix_code_of("relation", n);
        if (!code) continue;
        const char *v = rec->md[i].value;
        int isbn = has_prefix(v, "isbn:"), doi = has_prefix(v, "doi:");
        if (!isbn && !doi) {
            lost(w, key, n, v);
            continue;
        }
        if (!open++ && br_buf_puts(b, "    <RelatedMaterial>\n")) return BR_ENOMEM;
        if (br_buf_puts(b, "      <RelatedProduct>\n") || el(b, 4, "ProductRelationCode", code) ||
            br_buf_puts(b, "        <ProductIdentifier>\n") ||
            el(b, 5, "ProductIDType", isbn ? "15" : "06") ||
            el(b, 5, "IDValue", v + (isbn ? 5 : 4)) ||
            br_buf_puts(b, "        </ProductIdentifier>\n      </RelatedProduct>\n"))
            return BR_ENOMEM;
    }
    if (br_record_has(rec, "onix.unmapped.relatedmaterial")) {
        if (!open++ && br_buf_puts(b, "    <RelatedMaterial>\n")) return BR_ENOMEM;
        if (verbatim(b, rec, "onix.unmapped.relatedmaterial", 0)) return BR_ENOMEM;
    }
    return open ? br_buf_puts(b, "    </RelatedMaterial>\n") : 0;
}

/* Fields the writer puts somewhere (the rest is reported on convert). */
static int written(const char *n)
{
    static const char *const W[] = {"onix.",
                                    "dc.identifier.isbn",
                                    "dc.identifier.doi",
                                    "dc.title",
                                    "dc.title.alternative",
                                    "dc.relation.ispartofseries",
                                    "dc.language.iso",
                                    "dc.publisher",
                                    "dc.date.issued",
                                    "dc.contributor.",
                                    NULL};
    for (const char *const *p = W; *p; p++)
        if ((*p)[strlen(*p) - 1] == '.' ? has_prefix(n, *p) : !strcmp(n, *p)) return 1;
    return br_onix_code_of("subject", n) || br_onix_code_of("text30", n) ||
           br_onix_code_of("relation", n);
}

int br_onix_drv_write(br_writer *w, const char *key, br_record *rec, br_error *err)
{
    br_buf *b = &w->b;
    br_buf_clear(b);
    if (!rec->n_creators && br_record_derive_creators(rec, rec)) goto nomem;
    const char *ref = br_record_first(rec, "onix.record.reference");
    if (!ref) ref = key && *key ? key : rec->handle ? rec->handle : "";
    br_strlcpy(w->key, ref, sizeof w->key);
    w->stats->key = w->key;
    const char *ver = br_record_first(rec, "onix.message.sentdate");
    if (ver && strcmp(ver, w->newest) > 0) br_strlcpy(w->newest, ver, sizeof w->newest);
    if (w->from_input)
        for (size_t i = 0; i < rec->n_md; i++) {
            char n[256];
            if (!fname(&rec->md[i], n, sizeof n) && !written(n)) lost(w, ref, n, rec->md[i].value);
        }
    if (br_buf_puts(b, "  <Product>\n") || el(b, 2, "RecordReference", ref) ||
        el(b, 2, "NotificationType", "03"))
        goto nomem;
    EACH(rec, i, "dc.identifier.isbn")
    {
        if (br_buf_puts(b, "    <ProductIdentifier>\n") || el(b, 3, "ProductIDType", "15") ||
            el(b, 3, "IDValue", rec->md[i].value) || br_buf_puts(b, "    </ProductIdentifier>\n"))
            goto nomem;
    }
    EACH(rec, i, "onix.identifier.gtin")
    {
        if (br_buf_puts(b, "    <ProductIdentifier>\n") || el(b, 3, "ProductIDType", "03") ||
            el(b, 3, "IDValue", rec->md[i].value) || br_buf_puts(b, "    </ProductIdentifier>\n"))
            goto nomem;
    }
    EACH(rec, i, "dc.identifier.doi")
    {
        if (br_buf_puts(b, "    <ProductIdentifier>\n") || el(b, 3, "ProductIDType", "06") ||
            el(b, 3, "IDValue", rec->md[i].value) || br_buf_puts(b, "    </ProductIdentifier>\n"))
            goto nomem;
    }
    if (verbatim(b, rec, "onix.unmapped.product", 0) || descriptive(w, b, rec, ref) ||
        collateral(b, rec) || block(b, rec, "PromotionDetail", "onix.unmapped.promotiondetail") ||
        block(b, rec, "ContentDetail", "onix.unmapped.contentdetail") ||
        publishing(w, b, rec, ref) || related(w, b, rec, ref) ||
        block(b, rec, "ProductionDetail", "onix.unmapped.productiondetail") ||
        verbatim(b, rec, "onix.unmapped.product", 1) || br_buf_puts(b, "  </Product>\n"))
        goto nomem;
    if (fwrite(b->p, 1, b->len, w->body) != b->len)
        return br_error_set(err, BR_EIO, w->dest, 0, 0, "cannot write: %s", strerror(errno));
    w->stats->records++;
    return 0;
nomem:
    return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
}

int br_onix_drv_writer_close(br_writer *w, br_error *err)
{
    int rc = 0;
    FILE *out = NULL;
    char sent[32];
    if (w->newest[0]) { /* YYYY-MM-DDThh:mm:ss -> YYYYMMDDThhmmss */
        size_t n = 0;
        for (const char *p = w->newest; *p && n + 1 < sizeof sent; p++)
            if ((*p >= '0' && *p <= '9') || *p == 'T') sent[n++] = *p;
        sent[n] = 0;
    } else {
        char now[32];
        br_now_iso(now);
        size_t n = 0;
        for (const char *p = now; *p && *p != 'Z' && n + 1 < sizeof sent; p++)
            if ((*p >= '0' && *p <= '9') || *p == 'T') sent[n++] = *p;
        sent[n] = 0;
    }
    if (fflush(w->body) || ferror(w->body)) {
        rc = br_error_set(err, BR_EIO, w->dest, 0, 0, "cannot write: %s", strerror(errno));
        goto done;
    }
    rewind(w->body);
    if (!(out = fopen(w->tmp_path, "wxe"))) {
        rc = br_error_set(err, BR_EIO, w->dest, 0, 0, "cannot create: %s", strerror(errno));
        goto done;
    }
    if (fprintf(out,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<ONIXMessage release=\"3.0\" xmlns=\"http://ns.editeur.org/onix/3.0/reference\">\n"
                "  <Header>\n    <Sender>\n      <SenderName>bulkrepo</SenderName>\n"
                "    </Sender>\n    <SentDateTime>%s</SentDateTime>\n  </Header>\n",
                sent) < 0) {
        rc = br_error_set(err, BR_EIO, w->dest, 0, 0, "cannot write: %s", strerror(errno));
        goto done;
    }
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, w->body)) > 0)
        if (fwrite(buf, 1, n, out) != n) break;
    if (ferror(w->body) || ferror(out) || fputs("</ONIXMessage>\n", out) < 0 || fflush(out) ||
        fsync(fileno(out))) {
        rc = br_error_set(err, BR_EIO, w->dest, 0, 0, "cannot write: %s", strerror(errno));
        goto done;
    }
    if (fclose(out)) {
        out = NULL;
        rc = br_error_set(err, BR_EIO, w->dest, 0, 0, "cannot write: %s", strerror(errno));
        goto done;
    }
    out = NULL;
    if (rename(w->tmp_path, w->dest))
        rc = br_error_set(err, BR_EIO, w->dest, 0, 0, "cannot rename: %s", strerror(errno));
done:
    if (out) fclose(out);
    br_onix_drv_writer_abort(w); /* removes the temporary files; dest stays when renamed */
    return rc;
}
