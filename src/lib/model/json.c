/* A record as JSON in the shape of DSpace REST's item representation
 * (GET /server/api/core/items/{uuid}): identity fields, then "metadata" as an
 * object keyed by field name whose values are arrays of
 * {"value","language","authority","confidence","place"}, plus the bitstreams
 * and relationships that REST serves as separate links, inlined here so one
 * document describes the whole item. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/export.h"
#include "bulkrepo/relation.h"
#include "../core/core.h"

/* Failure bookkeeping while building: the first failure wins. */
typedef struct jctx {
    int rc;
    char what[256]; /* which string was not UTF-8 (a copy: keys die with their arena) */
} jctx;

/* A string, or null for NULL.  jansson refuses text that is not UTF-8. */
static json_t *jstr(jctx *c, const char *s, const char *what)
{
    if (!s) return json_null();
    json_t *j = json_string(s);
    if (!j && !c->rc) {
        size_t bad;
        c->rc = br_utf8_check(s, strlen(s), &bad) ? BR_EINVAL : BR_ENOMEM;
        br_strlcpy(c->what, what, sizeof c->what);
    }
    return j;
}

/* Takes v (which may be NULL after a failure) in both cases. */
static void put(jctx *c, json_t *obj, const char *key, json_t *v)
{
    if (json_object_set_new(obj, key, v) && !c->rc) c->rc = BR_ENOMEM;
}

static void push(jctx *c, json_t *arr, json_t *v)
{
    if (json_array_append_new(arr, v) && !c->rc) c->rc = BR_ENOMEM;
}

typedef struct md_key {
    const char *key; /* "schema.element[.qualifier]" */
    size_t i;        /* index in rec->md: keeps record order within a field */
} md_key;

static int cmp_md_key(const void *a, const void *b)
{
    const md_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* "metadata": fields in name order, values of a field in record order. */
static json_t *metadata_json(jctx *c, const br_record *rec)
{
    json_t *md = json_object();
    br_arena *arena = br_arena_new();
    md_key *keys = malloc((rec->n_md ? rec->n_md : 1) * sizeof *keys);
    if (!md || !arena || !keys) {
        c->rc = BR_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < rec->n_md; i++) {
        const br_mdv *v = &rec->md[i];
        size_t n =
            strlen(v->schema) + strlen(v->element) + (v->qualifier ? strlen(v->qualifier) : 0) + 3;
        char *k = br_arena_alloc(arena, n);
        if (!k) {
            c->rc = BR_ENOMEM;
            goto done;
        }
        snprintf(k, n, "%s.%s%s%s", v->schema, v->element, v->qualifier ? "." : "",
                 v->qualifier ? v->qualifier : "");
        keys[i] = (md_key){k, i};
    }
    qsort(keys, rec->n_md, sizeof *keys, cmp_md_key);
    json_t *values = NULL;
    for (size_t j = 0; j < rec->n_md && !c->rc; j++) {
        const br_mdv *v = &rec->md[keys[j].i];
        if (j == 0 || strcmp(keys[j].key, keys[j - 1].key)) {
            values = json_array();
            put(c, md, keys[j].key, values);
            if (c->rc) break;
        }
        json_t *o = json_object();
        if (!o) {
            c->rc = BR_ENOMEM;
            break;
        }
        put(c, o, "value", jstr(c, v->value, keys[j].key));
        put(c, o, "language", jstr(c, v->language, keys[j].key));
        put(c, o, "authority", json_null());
        put(c, o, "confidence", json_integer(-1));
        put(c, o, "place", json_integer(v->place));
        push(c, values, o);
    }
done:
    free(keys);
    br_arena_free(arena);
    return md;
}

/* Puts each named value that is set (absent parts are left out, as in DSpace REST). */
static void put_set(jctx *c, json_t *o, const char *const *names, const char *const *values,
                    size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (values[i]) put(c, o, names[i], jstr(c, values[i], names[i]));
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static json_t *creator_json(jctx *c, const br_creator *k)
{
    static const char *const names[] = {
        "family",      "given",        "middle", "suffix",    "display", "orcid",     "email",
        "affiliation", "researcherId", "type",   "primaryId", "brcode",  "additional"};
    const char *const values[] = {k->family,        k->given,        k->middle,     k->suffix,
                                  k->display,       k->orcid,        k->email,      k->affiliation,
                                  k->researcher_id, k->contrib_type, k->primary_id, k->brcode,
                                  k->additional};
    json_t *o = json_object();
    if (!o) {
        c->rc = BR_ENOMEM;
        return NULL;
    }
    put(c, o, "role", json_string(k->role == BR_CONTRIBUTOR ? "contributor" : "creator"));
    put(c, o, "place", json_integer(k->place));
    put(c, o, "organization", json_boolean(k->is_organization));
    put_set(c, o, names, values, COUNT(names));
    return o;
}

static json_t *link_json(jctx *c, const br_link *l)
{
    static const char *const names[] = {"url",   "title",   "description",
                                        "type",  "license", "rights",
                                        "owner", "order",   "displayInViewer"};
    const char *const values[] = {l->url,   l->title,   l->description,
                                  l->type,  l->license, l->rights,
                                  l->owner, l->order,   l->display_in_viewer};
    json_t *o = json_object();
    if (!o) {
        c->rc = BR_ENOMEM;
        return NULL;
    }
    put(c, o, "place", json_integer(l->place));
    put_set(c, o, names, values, COUNT(names));
    return o;
}

static json_t *bitstream_json(jctx *c, const br_bitstream *bs)
{
    json_t *o = json_object();
    if (!o) {
        c->rc = BR_ENOMEM;
        return NULL;
    }
    put(c, o, "name", jstr(c, bs->name, "bitstream name"));
    put(c, o, "bundle", jstr(c, bs->bundle ? bs->bundle : "ORIGINAL", "bundle"));
    put(c, o, "size", json_integer(bs->size));
    put(c, o, "md5", bs->md5[0] ? json_string(bs->md5) : json_null());
    put(c, o, "sha256", bs->sha256[0] ? json_string(bs->sha256) : json_null());
    put(c, o, "mime", jstr(c, bs->mime, "mime type"));
    put(c, o, "primary", json_boolean(bs->primary));
    put(c, o, "description", jstr(c, bs->description, "bitstream description"));
    put(c, o, "sequence", json_integer(bs->sequence));
    json_t *perm = json_object();
    put(c, o, "permissions", perm);
    if (perm) {
        put(c, perm, "read", jstr(c, bs->read_group, "read group"));
        put(c, perm, "write", jstr(c, bs->write_group, "write group"));
    }
    /* Esploro FILE row fields, when the file came from one. */
    static const char *const enames[] = {
        "license", "rights", "rightsReason", "rightsDate", "contentType", "supplemental", "order"};
    const char *const evalues[] = {bs->license,     bs->rights,       bs->rights_reason,
                                   bs->rights_date, bs->content_type, bs->supplemental,
                                   bs->order};
    put_set(c, o, enames, evalues, COUNT(enames));
    if (bs->iiif_label || bs->iiif_toc || bs->iiif_width > 0 || bs->iiif_height > 0) {
        json_t *iiif = json_object();
        put(c, o, "iiif", iiif);
        if (iiif) {
            put(c, iiif, "label", jstr(c, bs->iiif_label, "iiif label"));
            put(c, iiif, "toc", jstr(c, bs->iiif_toc, "iiif toc"));
            put(c, iiif, "width", bs->iiif_width > 0 ? json_integer(bs->iiif_width) : json_null());
            put(c, iiif, "height",
                bs->iiif_height > 0 ? json_integer(bs->iiif_height) : json_null());
        }
    }
    return o;
}

int br_record_to_json(const br_record *rec, char **out, br_error *err)
{
    if (!out) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_record_to_json needs an output");
    *out = NULL;
    if (!rec) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_record_to_json needs a record");
    jctx c = {0, ""};
    json_t *root = json_object();
    if (!root) return br_error_set(err, BR_ENOMEM, rec->handle, 0, 0, "out of memory");

    if (rec->id) put(&c, root, "id", json_integer(rec->id));
    put(&c, root, "uuid", jstr(&c, rec->uuid, "uuid"));
    put(&c, root, "handle", jstr(&c, rec->handle, "handle"));
    put(&c, root, "name", jstr(&c, br_record_first(rec, "dc.title"), "dc.title"));
    put(&c, root, "status", jstr(&c, rec->status, "status"));
    const char *owner = rec->owning_collection ? rec->owning_collection
                        : rec->n_collections   ? rec->collections[0]
                                               : NULL;
    put(&c, root, "owningCollection", jstr(&c, owner, "owning collection"));
    json_t *colls = json_array();
    put(&c, root, "collections", colls);
    for (size_t i = 0; colls && i < rec->n_collections; i++)
        push(&c, colls, jstr(&c, rec->collections[i], "collection"));
    put(&c, root, "created", jstr(&c, rec->created, "created"));
    put(&c, root, "lastModified", jstr(&c, rec->modified, "lastModified"));
    put(&c, root, "metadata", metadata_json(&c, rec));

    json_t *bss = json_array();
    put(&c, root, "bitstreams", bss);
    for (size_t i = 0; bss && i < rec->n_bs; i++)
        push(&c, bss, bitstream_json(&c, &rec->bs[i]));

    json_t *rels = json_array();
    put(&c, root, "relationships", rels);
    for (size_t i = 0; rels && i < rec->n_rels; i++) {
        const br_relation *r = &rec->rels[i];
        json_t *o = json_object();
        push(&c, rels, o);
        if (!o) break;
        put(&c, o, "type", jstr(&c, r->type, "relationship type"));
        put(&c, o, "item", jstr(&c, r->target, "relationship target"));
        put(&c, o, "side", json_string(r->is_left ? "left" : "right"));
        char view[32]; /* the relation as this record reads it (relation.h) */
        put(&c, o, "relation", json_string(br_relation_view(r, view)));
    }

    json_t *creators = json_array();
    put(&c, root, "creators", creators);
    for (size_t i = 0; creators && i < rec->n_creators; i++)
        push(&c, creators, creator_json(&c, &rec->creators[i]));
    json_t *links = json_array();
    put(&c, root, "links", links);
    for (size_t i = 0; links && i < rec->n_links; i++)
        push(&c, links, link_json(&c, &rec->links[i]));
    json_t *ids = json_array();
    put(&c, root, "identifiers", ids);
    for (size_t i = 0; ids && i < rec->n_ids; i++) {
        json_t *o = json_object();
        push(&c, ids, o);
        if (!o) break;
        put(&c, o, "type", jstr(&c, rec->ids[i].type, "identifier type"));
        put(&c, o, "value", jstr(&c, rec->ids[i].value, "identifier"));
    }

    int rc = c.rc;
    if (rc == BR_EINVAL) {
        rc = br_error_set(err, BR_EINVAL, rec->handle, 0, 0, "%s: the text is not valid UTF-8",
                          c.what);
    } else if (rc) {
        rc = br_error_set(err, BR_ENOMEM, rec->handle, 0, 0, "out of memory");
    } else {
        *out = json_dumps(root, JSON_INDENT(2));
        if (!*out) rc = br_error_set(err, BR_ENOMEM, rec->handle, 0, 0, "out of memory");
    }
    json_decref(root);
    return rc;
}
