/* The DataCite Metadata Schema 4.x mapping (docs/doi.md has the table) and its validation
 * against DataCite's kernel-4 XSD.
 *
 * One record in, one <resource> out, written with libxml2's xmlTextWriter (so every text and
 * attribute is escaped by the writer).  The mandatory properties (identifier, creator, title,
 * publisher, publicationYear, resourceTypeGeneral) are checked first: a record that lacks one
 * gets no XML, and the error names every one it lacks.  Field sources are the record model's
 * (DSpace dc.* and the Esploro crosswalk's esploro.* fields, data/esploro_fields.tsv). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlwriter.h>
#include <unistd.h>
#include "core/core.h"
#include "doi/doi_internal.h"

extern const char br_datacite_types_tsv[];
extern const char br_datacite_rights_tsv[];
extern const char br_esploro_asset_types_tsv[];
extern const char br_restype_aliases_tsv[];
extern const char br_language_aliases_tsv[];

#define NS_KERNEL "http://datacite.org/schema/kernel-4"
#define XSD_URL   "https://schema.datacite.org/meta/kernel-4/metadata.xsd"
#define ORCID_URI "https://orcid.org"

/* ---- tables ----------------------------------------------------------------------------- */

/* Column `want` of the first row of a compiled-in table whose column `key` equals s (ignoring
 * case), into out; NULL when none. */
static const char *lookup(const char *table, int key, const char *s, int want, char *out,
                          size_t size)
{
    const char *p = table;
    char buf[1024], *c[4];
    int k;
    while ((k = br_tsv_next(&p, buf, sizeof buf, c, 4)) > 0)
        if (k > key && k > want && !strcasecmp(c[key], s)) {
            br_strlcpy(out, c[want], size);
            return out;
        }
    return NULL;
}

static const char *const GENERAL[] = {"Audiovisual",
                                      "Award",
                                      "Book",
                                      "BookChapter",
                                      "Collection",
                                      "ComputationalNotebook",
                                      "ConferencePaper",
                                      "ConferenceProceeding",
                                      "DataPaper",
                                      "Dataset",
                                      "Dissertation",
                                      "Event",
                                      "Image",
                                      "Instrument",
                                      "InteractiveResource",
                                      "Journal",
                                      "JournalArticle",
                                      "Model",
                                      "OutputManagementPlan",
                                      "PeerReview",
                                      "PhysicalObject",
                                      "Poster",
                                      "Preprint",
                                      "Presentation",
                                      "Project",
                                      "Report",
                                      "Service",
                                      "Software",
                                      "Sound",
                                      "Standard",
                                      "StudyRegistration",
                                      "Text",
                                      "Workflow",
                                      "Other"};

/* The controlled-list entry spelt as s (the table's column), NULL when it is not one. */
static const char *general_of(const char *s)
{
    for (size_t i = 0; s && i < BR_ARRAY_LEN(GENERAL); i++)
        if (!strcasecmp(GENERAL[i], s)) return GENERAL[i];
    return NULL;
}

const char *br_dc_type_general(const char *type, char *label, size_t label_size)
{
    char general[64], code[128];
    if (!type || !*type) return NULL;
    const char *c = type;
    if (!lookup(br_datacite_types_tsv, 0, c, 1, general, sizeof general)) {
        /* a DSpace dc.type label (data/restype_aliases.tsv), an Esploro label, or a DataCite
         * resourceTypeGeneral itself */
        if (!(c = lookup(br_restype_aliases_tsv, 0, type, 1, code, sizeof code)) &&
            !(c = lookup(br_esploro_asset_types_tsv, 1, type, 0, code, sizeof code))) {
            const char *g = general_of(type);
            if (g && label) br_strlcpy(label, g, label_size);
            return g;
        }
        if (!lookup(br_datacite_types_tsv, 0, c, 1, general, sizeof general)) return NULL;
    }
    if (label && !lookup(br_esploro_asset_types_tsv, 0, c, 1, label, label_size))
        br_strlcpy(label, type, label_size);
    return general_of(general);
}

/* ---- reading the record -------------------------------------------------------------------- */

static int is_field(const br_mdv *v, const char *field)
{
    char name[192];
    snprintf(name, sizeof name, "%s.%s%s%s", v->schema, v->element, v->qualifier ? "." : "",
             v->qualifier ? v->qualifier : "");
    return !strcmp(name, field);
}

/* The i-th value of a field (0-based), NULL past the last. */
static const br_mdv *nth(const br_record *r, const char *field, size_t i)
{
    for (size_t k = 0; k < r->n_md; k++)
        if (is_field(&r->md[k], field) && i-- == 0) return &r->md[k];
    return NULL;
}

static const char *first(const br_record *r, const char *field)
{
    const br_mdv *v = nth(r, field, 0);
    return v && v->value && *v->value ? v->value : NULL;
}

static int year_of(const char *date, char out[5])
{
    if (!date || strlen(date) < 4) return 0;
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)date[i])) return 0;
    memcpy(out, date, 4);
    out[4] = 0;
    return 1;
}

static int has_person_creators(const br_record *r)
{
    for (size_t i = 0; i < r->n_creators; i++)
        if (r->creators[i].role == BR_CREATOR &&
            ((r->creators[i].family && *r->creators[i].family) ||
             (r->creators[i].display && *r->creators[i].display)))
            return 1;
    return 0;
}

int br_dc_missing(const br_dc_input *in, char *missing, size_t size)
{
    const br_record *r = in->rec;
    char y[5], label[128];
    const char *what[6];
    int n = 0;
    if (!in->doi || !*in->doi) what[n++] = "identifier";
    if (!has_person_creators(r) && !first(r, "dc.contributor.author")) what[n++] = "creator";
    if (!first(r, "dc.title")) what[n++] = "title";
    if (!first(r, "dc.publisher")) what[n++] = "publisher";
    if (!year_of(first(r, "dc.date.issued"), y)) what[n++] = "publicationYear";
    if (!br_dc_type_general(first(r, "dc.type"), label, sizeof label))
        what[n++] = "resourceTypeGeneral";
    missing[0] = 0;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(missing);
        snprintf(missing + l, size - l, "%s%s", i ? ", " : "", what[i]);
    }
    return n;
}

/* ---- writing -------------------------------------------------------------------------------- */

typedef struct wr {
    xmlTextWriterPtr w;
    int bad;
} wr;

static void start(wr *x, const char *name)
{
    if (!x->bad && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0) x->bad = 1;
}

static void end(wr *x)
{
    if (!x->bad && xmlTextWriterEndElement(x->w) < 0) x->bad = 1;
}

static void attr(wr *x, const char *name, const char *value)
{
    if (value && !x->bad && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
        x->bad = 1;
}

static void text(wr *x, const char *s)
{
    if (!x->bad && xmlTextWriterWriteString(x->w, BAD_CAST(s ? s : "")) < 0) x->bad = 1;
}

static void elem(wr *x, const char *name, const char *value)
{
    start(x, name);
    text(x, value);
    end(x);
}

/* A value's language as xs:language (BCP 47): "en_US" -> "en-US", ISO 639-2/B codes with a
 * two-letter form -> that form (data/language_aliases.tsv); NULL when it is not one. */
static const char *bcp47(const char *lang, char *out, size_t size)
{
    if (!lang || !*lang) return NULL;
    char two[16];
    if (strlen(lang) == 3 && lookup(br_language_aliases_tsv, 1, lang, 0, two, sizeof two) &&
        strlen(two) == 2)
        lang = two;
    if (strlen(lang) >= size) return NULL;
    size_t n = 0, part = 0;
    for (const char *s = lang; *s; s++) {
        char c = *s == '_' ? '-' : *s;
        if (c == '-') {
            if (!part) return NULL;
            part = 0;
        } else if (!isalnum((unsigned char)c) || ++part > 8) {
            return NULL;
        }
        out[n++] = c;
    }
    out[n] = 0;
    size_t f = strcspn(out, "-");
    for (size_t i = 0; i < f; i++)
        if (!isalpha((unsigned char)out[i])) return NULL;
    return part ? out : NULL;
}

static void lang_attr(wr *x, const char *lang)
{
    char b[64];
    const char *l = bcp47(lang, b, sizeof b);
    if (l) attr(x, "xml:lang", l);
}

/* "Family, Given" from the name parts. */
static void person_name(const br_creator *c, char *out, size_t size)
{
    char given[512];
    snprintf(given, sizeof given, "%s%s%s", c->given ? c->given : "",
             c->given && c->middle && *c->middle ? " " : "", c->middle ? c->middle : "");
    snprintf(out, size, "%s%s%s", c->family ? c->family : "", *given ? ", " : "", given);
}

static const char *orcid_id(const char *s)
{
    static const char *const pre[] = {"https://orcid.org/", "http://orcid.org/", "orcid.org/"};
    for (size_t i = 0; s && i < BR_ARRAY_LEN(pre); i++)
        if (!strncasecmp(s, pre[i], strlen(pre[i]))) return s + strlen(pre[i]);
    return s;
}

/* One creator or contributor (kind "creator"/"contributor"). */
static void write_person(wr *x, const br_dc_input *in, const br_creator *c, const char *kind)
{
    char name[1100], tag[32];
    int org = c->is_organization || !c->family || !*c->family;
    start(x, kind);
    if (!strcmp(kind, "contributor")) {
        static const char *const types[][2] = {{"editor", "Editor"},
                                               {"supervisor", "Supervisor"},
                                               {"advisor", "Supervisor"},
                                               {"translator", "Translator"},
                                               {"datacollector", "DataCollector"},
                                               {"datacurator", "DataCurator"},
                                               {"projectleader", "ProjectLeader"},
                                               {"researcher", "Researcher"},
                                               {"contactperson", "ContactPerson"}};
        const char *t = "Other";
        for (size_t i = 0; c->contrib_type && i < BR_ARRAY_LEN(types); i++)
            if (!strcasecmp(c->contrib_type, types[i][0])) t = types[i][1];
        attr(x, "contributorType", t);
    }
    snprintf(tag, sizeof tag, "%sName", kind);
    start(x, tag);
    if (org && c->is_organization) attr(x, "nameType", "Organizational");
    if (!org) attr(x, "nameType", "Personal");
    if (org)
        snprintf(name, sizeof name, "%s", c->display ? c->display : "");
    else
        person_name(c, name, sizeof name);
    text(x, name);
    end(x);
    if (!org) {
        char given[512];
        snprintf(given, sizeof given, "%s%s%s", c->given ? c->given : "",
                 c->given && c->middle && *c->middle ? " " : "", c->middle ? c->middle : "");
        if (*given) elem(x, "givenName", given);
        elem(x, "familyName", c->family);
    }
    if (c->orcid && *c->orcid) {
        start(x, "nameIdentifier");
        attr(x, "nameIdentifierScheme", "ORCID");
        attr(x, "schemeURI", ORCID_URI);
        text(x, orcid_id(c->orcid));
        end(x);
    }
    if (c->affiliation && *c->affiliation) {
        const char *n = in->unit ? in->unit(in->unit_ctx, c->affiliation) : NULL;
        elem(x, "affiliation", n && *n ? n : c->affiliation);
    }
    end(x);
}

static void write_creators(wr *x, const br_dc_input *in)
{
    const br_record *r = in->rec;
    start(x, "creators");
    if (has_person_creators(r)) {
        for (size_t i = 0; i < r->n_creators; i++)
            if (r->creators[i].role == BR_CREATOR) write_person(x, in, &r->creators[i], "creator");
    } else {
        /* dc.contributor.author values ("Family, Given") of a record without name parts */
        const br_mdv *v;
        for (size_t i = 0; (v = nth(r, "dc.contributor.author", i)); i++) {
            const char *comma = strstr(v->value, ", ");
            start(x, "creator");
            start(x, "creatorName");
            if (comma) attr(x, "nameType", "Personal");
            text(x, v->value);
            end(x);
            if (comma) {
                char fam[512];
                snprintf(fam, sizeof fam, "%.*s", (int)(comma - v->value), v->value);
                elem(x, "givenName", comma + 2);
                elem(x, "familyName", fam);
            }
            end(x);
        }
    }
    end(x);
}

static void write_contributors(wr *x, const br_dc_input *in)
{
    const br_record *r = in->rec;
    int any = 0;
    for (size_t i = 0; i < r->n_creators; i++) {
        if (r->creators[i].role != BR_CONTRIBUTOR) continue;
        if (!any++) start(x, "contributors");
        write_person(x, in, &r->creators[i], "contributor");
    }
    if (any) end(x);
}

static void write_titles(wr *x, const br_record *r)
{
    static const char *const kinds[][2] = {{"dc.title", NULL},
                                           {"esploro.asset.subtitle", "Subtitle"},
                                           {"dc.title.alternative", "AlternativeTitle"},
                                           {"esploro.asset.translatti", "TranslatedTitle"}};
    start(x, "titles");
    for (size_t k = 0; k < BR_ARRAY_LEN(kinds); k++) {
        const br_mdv *v;
        for (size_t i = 0; (v = nth(r, kinds[k][0], i)); i++) {
            if (!v->value || !*v->value) continue;
            start(x, "title");
            lang_attr(x, v->language);
            attr(x, "titleType", kinds[k][1]);
            text(x, v->value);
            end(x);
        }
    }
    end(x);
}

/* Esploro dates are YYYY[MM[DD]], DSpace's ISO 8601; a range "A - B" becomes "A/B". */
static void iso_date(const char *s, char *out, size_t size)
{
    const char *dash = strstr(s, " - ");
    if (dash) {
        char a[64], b[64], one[64];
        snprintf(one, sizeof one, "%.*s", (int)(dash - s), s);
        iso_date(one, a, sizeof a);
        iso_date(dash + 3, b, sizeof b);
        snprintf(out, size, "%s/%s", a, b);
        return;
    }
    size_t n = strlen(s);
    if ((n == 8 || n == 6) && strspn(s, "0123456789") == n) {
        if (n == 8)
            snprintf(out, size, "%.4s-%.2s-%.2s", s, s + 4, s + 6);
        else
            snprintf(out, size, "%.4s-%.2s", s, s + 4);
        return;
    }
    snprintf(out, size, "%s", s);
}

static void write_dates(wr *x, const br_record *r)
{
    static const char *const kinds[][2] = {{"dc.date.issued", "Issued"},
                                           {"esploro.asset.acceptdate", "Accepted"},
                                           {"esploro.asset.availdate", "Available"},
                                           {"dc.date.copyright", "Copyrighted"},
                                           {"dc.date.created", "Created"},
                                           {"dc.date.submitted", "Submitted"},
                                           {"dc.date.updated", "Updated"},
                                           {"esploro.asset.datevalid", "Valid"},
                                           {"esploro.asset.datecollect", "Collected"}};
    int any = 0;
    for (size_t k = 0; k < BR_ARRAY_LEN(kinds); k++) {
        const br_mdv *v;
        for (size_t i = 0; (v = nth(r, kinds[k][0], i)); i++) {
            if (!v->value || !*v->value) continue;
            char d[160];
            iso_date(v->value, d, sizeof d);
            if (!any++) start(x, "dates");
            start(x, "date");
            attr(x, "dateType", kinds[k][1]);
            text(x, d);
            end(x);
        }
    }
    if (any) end(x);
}

static void write_simple_list(wr *x, const br_record *r, const char *wrap, const char *tag,
                              const char *const *fields, size_t n)
{
    int any = 0;
    for (size_t k = 0; k < n; k++) {
        const br_mdv *v;
        for (size_t i = 0; (v = nth(r, fields[k], i)); i++) {
            if (!v->value || !*v->value) continue;
            if (!any++) start(x, wrap);
            start(x, tag);
            lang_attr(x, v->language);
            text(x, v->value);
            end(x);
        }
    }
    if (any) end(x);
}

static void write_alternate(wr *x, const br_dc_input *in)
{
    static const char *const kinds[][2] = {{"dc.identifier.isbn", "ISBN"},
                                           {"esploro.asset.eisbn", "ISBN"},
                                           {"esploro.asset.pmid", "PMID"},
                                           {"esploro.asset.arxiv", "arXiv"},
                                           {"dc.identifier.uri", "URL"}};
    const br_record *r = in->rec;
    int any = 0;
    if (r->handle && *r->handle) {
        start(x, "alternateIdentifiers");
        any = 1;
        start(x, "alternateIdentifier");
        attr(x, "alternateIdentifierType", "Handle");
        text(x, r->handle);
        end(x);
    }
    for (size_t k = 0; k < BR_ARRAY_LEN(kinds); k++) {
        const br_mdv *v;
        for (size_t i = 0; (v = nth(r, kinds[k][0], i)); i++) {
            if (!v->value || !*v->value) continue;
            if (!any++) start(x, "alternateIdentifiers");
            start(x, "alternateIdentifier");
            attr(x, "alternateIdentifierType", kinds[k][1]);
            text(x, v->value);
            end(x);
        }
    }
    if (any) end(x);
}

static const char *const RELATIONS[] = {"IsCitedBy",        "Cites",
                                        "IsSupplementTo",   "IsSupplementedBy",
                                        "IsContinuedBy",    "Continues",
                                        "IsDescribedBy",    "Describes",
                                        "HasMetadata",      "IsMetadataFor",
                                        "HasVersion",       "IsVersionOf",
                                        "IsNewVersionOf",   "IsPreviousVersionOf",
                                        "IsPartOf",         "HasPart",
                                        "IsPublishedIn",    "IsReferencedBy",
                                        "References",       "IsDocumentedBy",
                                        "Documents",        "IsCompiledBy",
                                        "Compiles",         "IsVariantFormOf",
                                        "IsOriginalFormOf", "IsIdenticalTo",
                                        "IsReviewedBy",     "Reviews",
                                        "IsDerivedFrom",    "IsSourceOf",
                                        "IsRequiredBy",     "Requires",
                                        "IsObsoletedBy",    "Obsoletes"};

static void related(wr *x, int *any, const char *type, const char *relation, const char *value)
{
    if (!(*any)++) start(x, "relatedIdentifiers");
    start(x, "relatedIdentifier");
    attr(x, "relatedIdentifierType", type);
    attr(x, "relationType", relation);
    text(x, value);
    end(x);
}

static void write_related(wr *x, const br_record *r)
{
    static const char *const kinds[][3] = {{"esploro.prtof.isbn", "ISBN", "IsPartOf"},
                                           {"esploro.prtof.eisbn", "ISBN", "IsPartOf"},
                                           {"esploro.prtof.doi", "DOI", "IsPartOf"},
                                           {"dc.identifier.issn", "ISSN", "IsPublishedIn"},
                                           {"esploro.prtof.eissn", "EISSN", "IsPublishedIn"},
                                           {"dc.relation.uri", "URL", "References"}};
    int any = 0;
    for (size_t k = 0; k < BR_ARRAY_LEN(kinds); k++) {
        const br_mdv *v;
        for (size_t i = 0; (v = nth(r, kinds[k][0], i)); i++)
            if (v->value && *v->value) related(x, &any, kinds[k][1], kinds[k][2], v->value);
    }
    /* Relations between assets, as this asset's side names them (the left item's type). */
    for (size_t i = 0; i < r->n_rels; i++) {
        const br_relation *l = &r->rels[i];
        if (!l->is_left || !l->target || !*l->target || !l->type) continue;
        for (size_t k = 0; k < BR_ARRAY_LEN(RELATIONS); k++)
            if (!strcasecmp(RELATIONS[k], l->type)) {
                related(x, &any, "Handle", RELATIONS[k], l->target);
                break;
            }
    }
    if (any) end(x);
}

/* Licence codes and squeezed forms: "CC BY 4.0" and "cc_by-4.0" are "ccby40". */
static void squeeze(const char *s, char *out, size_t size)
{
    size_t n = 0;
    for (; *s && n + 1 < size; s++)
        if (*s != ' ' && *s != '-' && *s != '_' && *s != '.')
            out[n++] = (char)tolower((unsigned char)*s);
    out[n] = 0;
}

static void write_rights(wr *x, const br_record *r)
{
    int any = 0;
    const br_mdv *v;
    for (size_t i = 0; (v = nth(r, "dc.rights.license", i)); i++) {
        if (!v->value || !*v->value) continue;
        if (!any++) start(x, "rightsList");
        start(x, "rights");
        if (!strncmp(v->value, "http://", 7) || !strncmp(v->value, "https://", 8)) {
            attr(x, "rightsURI", v->value);
            text(x, v->value);
            end(x);
            continue;
        }
        char want[128], got[128], buf[1024], *c[4];
        squeeze(v->value, want, sizeof want);
        const char *p = br_datacite_rights_tsv;
        int k, found = 0;
        while (!found && (k = br_tsv_next(&p, buf, sizeof buf, c, 4)) >= 4) {
            squeeze(c[0], got, sizeof got);
            if (strcmp(got, want)) continue;
            found = 1;
            attr(x, "rightsURI", c[2]);
            attr(x, "rightsIdentifier", c[1]);
            attr(x, "rightsIdentifierScheme", "SPDX");
            attr(x, "schemeURI", "https://spdx.org/licenses/");
            text(x, c[3]);
        }
        if (!found) text(x, v->value);
        end(x);
    }
    for (size_t i = 0; (v = nth(r, "dc.rights.uri", i)); i++) {
        if (!v->value || !*v->value) continue;
        if (!any++) start(x, "rightsList");
        start(x, "rights");
        attr(x, "rightsURI", v->value);
        end(x);
    }
    for (size_t i = 0; (v = nth(r, "dc.rights", i)); i++) {
        if (!v->value || !*v->value) continue;
        if (!any++) start(x, "rightsList");
        start(x, "rights");
        lang_attr(x, v->language);
        text(x, v->value);
        end(x);
    }
    if (any) end(x);
}

static void write_descriptions(wr *x, const br_record *r)
{
    static const char *const kinds[][2] = {{"dc.description.abstract", "Abstract"},
                                           {"dc.description.tableofcontents", "TableOfContents"}};
    int any = 0;
    for (size_t k = 0; k < BR_ARRAY_LEN(kinds); k++) {
        const br_mdv *v;
        for (size_t i = 0; (v = nth(r, kinds[k][0], i)); i++) {
            if (!v->value || !*v->value) continue;
            if (!any++) start(x, "descriptions");
            start(x, "description");
            lang_attr(x, v->language);
            attr(x, "descriptionType", kinds[k][1]);
            text(x, v->value);
            end(x);
        }
    }
    if (any) end(x);
}

/* One fundingReference per funder name (project.funder.name), with the award of the same
 * place (oaire.awardNumber, oaire.awardURI, oaire.awardTitle) and the funder's identifier. */
static void write_funding(wr *x, const br_record *r)
{
    const br_mdv *v;
    int any = 0;
    for (size_t i = 0; (v = nth(r, "project.funder.name", i)); i++) {
        if (!v->value || !*v->value) continue;
        if (!any++) start(x, "fundingReferences");
        start(x, "fundingReference");
        elem(x, "funderName", v->value);
        const br_mdv *id = nth(r, "project.funder.identifier", i);
        if (id && id->value && *id->value) {
            start(x, "funderIdentifier");
            attr(x, "funderIdentifierType",
                 strstr(id->value, "10.13039/") ? "Crossref Funder ID"
                 : strstr(id->value, "ror.org") ? "ROR"
                                                : "Other");
            text(x, id->value);
            end(x);
        }
        const br_mdv *num = nth(r, "oaire.awardNumber", i), *uri = nth(r, "oaire.awardURI", i),
                     *title = nth(r, "oaire.awardTitle", i);
        if (num && num->value && *num->value) {
            start(x, "awardNumber");
            if (uri && uri->value && *uri->value) attr(x, "awardURI", uri->value);
            text(x, num->value);
            end(x);
        }
        if (title && title->value && *title->value) elem(x, "awardTitle", title->value);
        end(x);
    }
    if (any) end(x);
}

int br_dc_xml(const br_dc_input *in, char **xml, size_t *len, br_error *err)
{
    *xml = NULL;
    if (len) *len = 0;
    char missing[256];
    if (br_dc_missing(in, missing, sizeof missing))
        return br_error_set(err, BR_EINVAL, in->rec->handle, 0, 0,
                            "not registered: missing mandatory DataCite properties: %s", missing);
    const br_record *r = in->rec;
    xmlBufferPtr buf = xmlBufferCreate();
    xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
    if (!w) {
        if (buf) xmlBufferFree(buf);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    wr x = {w, 0};
    xmlTextWriterSetIndent(w, 1);
    xmlTextWriterSetIndentString(w, BAD_CAST "  ");
    if (xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) < 0) x.bad = 1;
    start(&x, "resource");
    attr(&x, "xmlns", NS_KERNEL);
    attr(&x, "xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance");
    attr(&x, "xsi:schemaLocation", NS_KERNEL " " XSD_URL);
    start(&x, "identifier");
    attr(&x, "identifierType", "DOI");
    text(&x, in->doi);
    end(&x);
    write_creators(&x, in);
    write_titles(&x, r);
    elem(&x, "publisher", first(r, "dc.publisher"));
    char year[5], label[128];
    year_of(first(r, "dc.date.issued"), year);
    elem(&x, "publicationYear", year);
    const char *general = br_dc_type_general(first(r, "dc.type"), label, sizeof label);
    start(&x, "resourceType");
    attr(&x, "resourceTypeGeneral", general);
    text(&x, label);
    end(&x);
    static const char *const subjects[] = {"dc.subject", "dc.subject.classification"};
    write_simple_list(&x, r, "subjects", "subject", subjects, BR_ARRAY_LEN(subjects));
    write_contributors(&x, in);
    write_dates(&x, r);
    char lang[64];
    if (bcp47(first(r, "dc.language.iso"), lang, sizeof lang)) elem(&x, "language", lang);
    write_alternate(&x, in);
    write_related(&x, r);
    const char *version = first(r, "oaire.version");
    if (version) elem(&x, "version", version);
    write_rights(&x, r);
    write_descriptions(&x, r);
    write_funding(&x, r);
    end(&x);
    if (!x.bad && xmlTextWriterEndDocument(w) < 0) x.bad = 1;
    xmlFreeTextWriter(w);
    int rc = 0;
    if (x.bad) {
        rc = br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "the DataCite XML could not be written");
    } else {
        size_t n = (size_t)xmlBufferLength(buf);
        *xml = malloc(n + 1);
        if (!*xml) {
            rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        } else {
            memcpy(*xml, xmlBufferContent(buf), n);
            (*xml)[n] = 0;
            if (len) *len = n;
        }
    }
    xmlBufferFree(buf);
    return rc;
}

/* ---- the XSD ---------------------------------------------------------------------------------
 */

const char *br_doi_schema_path(char *buf, size_t size)
{
    const char *env = getenv("BULKREPO_DATACITE_XSD");
    if (env && *env) {
        br_strlcpy(buf, env, size);
        return buf;
    }
    static const char *const where[] = {"data/datacite/kernel-4/metadata.xsd",
                                        "/usr/share/bulkrepo/datacite/kernel-4/metadata.xsd",
                                        "../shared/reference/datacite/kernel-4/metadata.xsd"};
    for (size_t i = 0; i < BR_ARRAY_LEN(where); i++)
        if (br_is_file(where[i])) {
            br_strlcpy(buf, where[i], size);
            return buf;
        }
    return NULL;
}

struct br_dc_schema {
    xmlSchemaPtr schema;
};

typedef struct complaint {
    char text[768];
    int line;
    int n;
} complaint;

static void collect(void *ctx, const xmlError *e)
{
    complaint *c = ctx;
    if (!e || c->n++) return; /* the first complaint is the one to read */
    c->line = e->line;
    snprintf(c->text, sizeof c->text, "%s", e->message ? e->message : "invalid");
    size_t n = strlen(c->text);
    while (n && (c->text[n - 1] == '\n' || c->text[n - 1] == ' '))
        c->text[--n] = 0;
}

int br_dc_schema_load(const char *xsd_path, br_dc_schema **out, br_error *err)
{
    *out = NULL;
    char buf[4096];
    const char *path = xsd_path ? xsd_path : br_doi_schema_path(buf, sizeof buf);
    if (!path || !br_is_file(path))
        return br_error_set(err, BR_ENOTFOUND, path, 0, 0,
                            "DataCite's kernel-4 XSD is not installed (docs/doi.md: set "
                            "BULKREPO_DATACITE_XSD to its metadata.xsd)");
    /* The schema document is read from the local file with the network off and no DTD; its
     * includes are the relative include/ files beside it. */
    complaint c = {"", 0, 0};
    xmlDocPtr doc =
        xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlSchemaParserCtxtPtr pc = doc ? xmlSchemaNewDocParserCtxt(doc) : NULL;
    xmlSchemaPtr s = NULL;
    if (pc) {
        xmlSchemaSetParserStructuredErrors(pc, (xmlStructuredErrorFunc)collect, &c);
        s = xmlSchemaParse(pc);
        xmlSchemaFreeParserCtxt(pc);
    }
    xmlFreeDoc(doc);
    if (!s)
        return br_error_set(err, BR_EIO, path, (unsigned)c.line, 0,
                            "DataCite's XSD does not load: %s",
                            c.text[0] ? c.text : "not a schema");
    br_dc_schema *sc = malloc(sizeof *sc);
    if (!sc) {
        xmlSchemaFree(s);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    sc->schema = s;
    *out = sc;
    return 0;
}

int br_dc_schema_validate(br_dc_schema *s, const char *xml, size_t len, br_error *err)
{
    complaint c = {"", 0, 0};
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, "datacite.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return br_error_set(err, BR_EINVAL, "datacite.xml", 0, 0, "the DataCite XML is not XML");
    xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(s->schema);
    int rc = 0;
    if (!vc) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    } else {
        xmlSchemaSetValidStructuredErrors(vc, (xmlStructuredErrorFunc)collect, &c);
        if (xmlSchemaValidateDoc(vc, doc) != 0)
            rc = br_error_set(err, BR_EINVAL, "datacite.xml", (unsigned)c.line, 0,
                              "the DataCite XML does not validate against kernel-4: %s",
                              c.text[0] ? c.text : "invalid");
        xmlSchemaFreeValidCtxt(vc);
    }
    xmlFreeDoc(doc);
    return rc;
}

void br_dc_schema_free(br_dc_schema *s)
{
    if (!s) return;
    xmlSchemaFree(s->schema);
    free(s);
}

int br_doi_validate(const char *xml, size_t len, const char *xsd_path, br_error *err)
{
    br_dc_schema *s;
    int rc = br_dc_schema_load(xsd_path, &s, err);
    if (rc) return rc;
    rc = br_dc_schema_validate(s, xml, len, err);
    br_dc_schema_free(s);
    return rc;
}
