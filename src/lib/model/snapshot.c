/* Record snapshots (snapshot.h).  Layout, every key optional and present only for the parts
 * written:
 *   {"uuid","handle","created","modified",  "status",
 *    "md":[[schema, element, qualifier|null, language|null, value], ...],
 *    "creators":[{...}], "links":[{...}], "ids":[[type, value], ...], "files":[{...}],
 *    "collections":[handle, ...], "relations":[[type, handle, is_left, place], ...]}
 * The string members of creators, links and files are read and written from one table per
 * struct, so a field added to the record model is added here once. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "core/core.h"
#include "model/snapshot.h"

typedef struct sfield {
    const char *name;
    size_t off;
} sfield;

#define S(T, f)                                                                                    \
    {                                                                                              \
#f, offsetof(T, f)                                                                         \
    }
static const sfield CREATOR_S[] = {
    S(br_creator, family),       S(br_creator, given),       S(br_creator, middle),
    S(br_creator, suffix),       S(br_creator, display),     S(br_creator, orcid),
    S(br_creator, email),        S(br_creator, affiliation), S(br_creator, researcher_id),
    S(br_creator, contrib_type), S(br_creator, primary_id),  S(br_creator, brcode),
    S(br_creator, additional)};
static const sfield LINK_S[] = {
    S(br_link, url),   S(br_link, title),   S(br_link, description),
    S(br_link, type),  S(br_link, license), S(br_link, rights),
    S(br_link, owner), S(br_link, order),   S(br_link, display_in_viewer)};
static const sfield FILE_S[] = {
    S(br_bitstream, name),         S(br_bitstream, bundle),        S(br_bitstream, description),
    S(br_bitstream, read_group),   S(br_bitstream, write_group),   S(br_bitstream, iiif_label),
    S(br_bitstream, iiif_toc),     S(br_bitstream, mime),          S(br_bitstream, license),
    S(br_bitstream, rights),       S(br_bitstream, rights_reason), S(br_bitstream, rights_date),
    S(br_bitstream, content_type), S(br_bitstream, supplemental),  S(br_bitstream, order)};
#undef S

#define STR_AT(obj, f) (*(const char **)((char *)(obj) + (f)->off))

typedef struct wctx {
    int rc;
} wctx;

static json_t *jstr(wctx *c, const char *s)
{
    if (!s) return json_null();
    json_t *v = json_string(s);
    if (!v && !c->rc) c->rc = BR_EINVAL; /* jansson refuses text that is not UTF-8 */
    return v;
}

static void set(wctx *c, json_t *o, const char *k, json_t *v)
{
    if (!o || !v || json_object_set_new(o, k, v)) {
        if (!c->rc) c->rc = v ? BR_ENOMEM : BR_EINVAL;
    }
}

static void add(wctx *c, json_t *a, json_t *v)
{
    if (!a || !v || json_array_append_new(a, v)) {
        if (!c->rc) c->rc = v ? BR_ENOMEM : BR_EINVAL;
    }
}

static json_t *strings_obj(wctx *c, const void *obj, const sfield *t, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        if (STR_AT(obj, &t[i])) set(c, o, t[i].name, jstr(c, STR_AT(obj, &t[i])));
    return o;
}

static json_t *snapshot_json(wctx *c, const br_record *r, unsigned parts)
{
    json_t *root = json_object();
    if (parts & BR_PART_IDENTITY) {
        set(c, root, "uuid", jstr(c, r->uuid));
        set(c, root, "handle", jstr(c, r->handle));
        set(c, root, "created", jstr(c, r->created));
        set(c, root, "modified", jstr(c, r->modified));
    }
    if (parts & BR_PART_STATUS) set(c, root, "status", jstr(c, r->status));
    if (parts & BR_PART_METADATA) {
        json_t *a = json_array();
        set(c, root, "md", a);
        for (size_t i = 0; i < r->n_md && !c->rc; i++) {
            const br_mdv *v = &r->md[i];
            add(c, a,
                json_pack("[o,o,o,o,o]", jstr(c, v->schema), jstr(c, v->element),
                          jstr(c, v->qualifier), jstr(c, v->language), jstr(c, v->value)));
        }
    }
    if (parts & BR_PART_CREATORS) {
        json_t *a = json_array();
        set(c, root, "creators", a);
        for (size_t i = 0; i < r->n_creators && !c->rc; i++) {
            const br_creator *k = &r->creators[i];
            json_t *o = strings_obj(c, k, CREATOR_S, BR_ARRAY_LEN(CREATOR_S));
            set(c, o, "role", json_integer(k->role));
            set(c, o, "org", json_integer(k->is_organization));
            set(c, o, "place", json_integer(k->place));
            add(c, a, o);
        }
    }
    if (parts & BR_PART_LINKS) {
        json_t *a = json_array();
        set(c, root, "links", a);
        for (size_t i = 0; i < r->n_links && !c->rc; i++) {
            json_t *o = strings_obj(c, &r->links[i], LINK_S, BR_ARRAY_LEN(LINK_S));
            set(c, o, "place", json_integer(r->links[i].place));
            add(c, a, o);
        }
    }
    if (parts & BR_PART_IDENTIFIERS) {
        json_t *a = json_array();
        set(c, root, "ids", a);
        for (size_t i = 0; i < r->n_ids && !c->rc; i++)
            add(c, a, json_pack("[o,o]", jstr(c, r->ids[i].type), jstr(c, r->ids[i].value)));
    }
    if (parts & BR_PART_FILES) {
        json_t *a = json_array();
        set(c, root, "files", a);
        for (size_t i = 0; i < r->n_bs && !c->rc; i++) {
            const br_bitstream *b = &r->bs[i];
            json_t *o = strings_obj(c, b, FILE_S, BR_ARRAY_LEN(FILE_S));
            set(c, o, "primary", json_integer(b->primary));
            set(c, o, "iiif_width", json_integer(b->iiif_width));
            set(c, o, "iiif_height", json_integer(b->iiif_height));
            set(c, o, "sequence", json_integer(b->sequence));
            set(c, o, "size", json_integer(b->size));
            set(c, o, "md5", json_string(b->md5));
            set(c, o, "sha256", json_string(b->sha256));
            add(c, a, o);
        }
    }
    if (parts & BR_PART_COLLECTIONS) {
        json_t *a = json_array();
        set(c, root, "collections", a);
        for (size_t i = 0; i < r->n_collections && !c->rc; i++)
            add(c, a, jstr(c, r->collections[i]));
    }
    if (parts & BR_PART_RELATIONS) {
        json_t *a = json_array();
        set(c, root, "relations", a);
        for (size_t i = 0; i < r->n_rels && !c->rc; i++) {
            const br_relation *x = &r->rels[i];
            add(c, a,
                json_pack("[o,o,i,i]", jstr(c, x->type), jstr(c, x->target), x->is_left, x->place));
        }
    }
    return root;
}

int br_snapshot_write(const br_record *rec, unsigned parts, char **out, br_error *err)
{
    if (!rec || !out) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "snapshot needs a record");
    *out = NULL;
    wctx c = {0};
    json_t *root = snapshot_json(&c, rec, parts);
    if (!root && !c.rc) c.rc = BR_ENOMEM;
    if (!c.rc && !(*out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER))) c.rc = BR_ENOMEM;
    json_decref(root);
    if (c.rc == BR_EINVAL)
        return br_error_set(err, BR_EINVAL, rec->handle, 0, 0,
                            "the record holds text that is not UTF-8");
    return c.rc ? br_error_set(err, c.rc, rec->handle, 0, 0, "out of memory") : 0;
}

/* ---- reading -------------------------------------------------------------------------------- */

typedef struct rctx {
    br_record *rec;
    const char *what; /* the member being read, for the error */
    int bad, oom;
} rctx;

static const char *rstr(rctx *c, json_t *v)
{
    if (!v || json_is_null(v)) return NULL;
    if (!json_is_string(v)) {
        c->bad = 1;
        return NULL;
    }
    const char *s = br_record_str(c->rec, json_string_value(v));
    if (!s) c->oom = 1;
    return s;
}

static int jint(rctx *c, json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (v && !json_is_integer(v)) c->bad = 1;
    return v ? (int)json_integer_value(v) : 0;
}

static void read_strings(rctx *c, json_t *o, void *obj, const sfield *t, size_t n)
{
    if (!json_is_object(o)) {
        c->bad = 1;
        return;
    }
    for (size_t i = 0; i < n; i++)
        *(const char **)((char *)obj + t[i].off) = rstr(c, json_object_get(o, t[i].name));
}

static json_t *array_of(rctx *c, json_t *root, const char *k, unsigned bit, unsigned *parts)
{
    json_t *a = json_object_get(root, k);
    if (!a) return NULL;
    c->what = k;
    if (!json_is_array(a)) {
        c->bad = 1;
        return NULL;
    }
    *parts |= bit;
    return a;
}

static void read_md(rctx *c, json_t *a)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_array(v) || json_array_size(v) != 5) {
            c->bad = 1;
            return;
        }
        const char *s = json_string_value(json_array_get(v, 0));
        const char *e = json_string_value(json_array_get(v, 1));
        const char *val = json_string_value(json_array_get(v, 4));
        if (!s || !e || !val) {
            c->bad = 1;
            return;
        }
        if (!br_record_add_md(c->rec, s, e, json_string_value(json_array_get(v, 2)),
                              json_string_value(json_array_get(v, 3)), val))
            c->oom = 1;
    }
}

static void read_lists(rctx *c, json_t *root, unsigned *parts)
{
    br_record *r = c->rec;
    size_t i;
    json_t *v, *a;
    if ((a = array_of(c, root, "md", BR_PART_METADATA, parts))) read_md(c, a);
    if ((a = array_of(c, root, "creators", BR_PART_CREATORS, parts))) json_array_foreach(a, i, v)
        {
            br_creator *k =
                br_record_add_creator(r, jint(c, v, "role") ? BR_CONTRIBUTOR : BR_CREATOR);
            if (!k) {
                c->oom = 1;
                break;
            }
            read_strings(c, v, k, CREATOR_S, BR_ARRAY_LEN(CREATOR_S));
            k->is_organization = jint(c, v, "org");
            k->place = jint(c, v, "place");
        }
    if ((a = array_of(c, root, "links", BR_PART_LINKS, parts))) json_array_foreach(a, i, v)
        {
            br_link *l = br_record_add_link(r);
            if (!l) {
                c->oom = 1;
                break;
            }
            read_strings(c, v, l, LINK_S, BR_ARRAY_LEN(LINK_S));
            l->place = jint(c, v, "place");
        }
    if ((a = array_of(c, root, "ids", BR_PART_IDENTIFIERS, parts))) json_array_foreach(a, i, v)
        {
            const char *t = json_string_value(json_array_get(v, 0));
            const char *val = json_string_value(json_array_get(v, 1));
            if (!t || !val)
                c->bad = 1;
            else if (!br_record_add_identifier(r, t, val))
                c->oom = 1;
        }
    if ((a = array_of(c, root, "files", BR_PART_FILES, parts))) json_array_foreach(a, i, v)
        {
            const char *name = json_string_value(json_object_get(v, "name"));
            const char *md5 = json_string_value(json_object_get(v, "md5"));
            const char *sha = json_string_value(json_object_get(v, "sha256"));
            if (!name || !md5 || !sha || strlen(md5) != 32 || strlen(sha) != 64) {
                c->bad = 1;
                break;
            }
            br_bitstream *b = br_record_add_bitstream(r, name);
            if (!b) {
                c->oom = 1;
                break;
            }
            read_strings(c, v, b, FILE_S, BR_ARRAY_LEN(FILE_S));
            b->primary = jint(c, v, "primary");
            b->iiif_width = jint(c, v, "iiif_width");
            b->iiif_height = jint(c, v, "iiif_height");
            b->sequence = jint(c, v, "sequence");
            json_t *sz = json_object_get(v, "size");
            b->size = json_is_integer(sz) ? (int64_t)json_integer_value(sz) : 0;
            memcpy(b->md5, md5, 33);
            memcpy(b->sha256, sha, 65);
        }
    if ((a = array_of(c, root, "collections", BR_PART_COLLECTIONS, parts)))
        json_array_foreach(a, i, v)
        {
            if (!json_is_string(v))
                c->bad = 1;
            else if (br_record_add_collection(r, json_string_value(v)))
                c->oom = 1;
        }
    if ((a = array_of(c, root, "relations", BR_PART_RELATIONS, parts))) json_array_foreach(a, i, v)
        {
            const char *t = json_string_value(json_array_get(v, 0));
            const char *target = json_string_value(json_array_get(v, 1));
            if (!t || !target) {
                c->bad = 1;
                break;
            }
            br_relation *x = br_record_add_relation(r, t, target);
            if (!x) {
                c->oom = 1;
                break;
            }
            x->is_left = (int)json_integer_value(json_array_get(v, 2));
            x->place = (int)json_integer_value(json_array_get(v, 3));
        }
}

int br_snapshot_read(const char *text, br_record *rec, unsigned *parts, br_error *err)
{
    if (!text || !rec) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "snapshot needs a record");
    br_record_reset(rec);
    unsigned got = 0;
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return br_error_set(err, BR_EINVAL, "snapshot", 1, (unsigned)jerr.column,
                            "not a record snapshot: %s", root ? "not an object" : jerr.text);
    }
    rctx c = {rec, "identity", 0, 0};
    if (json_object_get(root, "uuid")) {
        got |= BR_PART_IDENTITY;
        rec->uuid = rstr(&c, json_object_get(root, "uuid"));
        rec->handle = rstr(&c, json_object_get(root, "handle"));
        rec->created = rstr(&c, json_object_get(root, "created"));
        rec->modified = rstr(&c, json_object_get(root, "modified"));
    }
    if (json_object_get(root, "status")) {
        got |= BR_PART_STATUS;
        c.what = "status";
        rec->status = rstr(&c, json_object_get(root, "status"));
    }
    read_lists(&c, root, &got);
    json_decref(root);
    if (parts) *parts = got;
    if (c.bad)
        return br_error_set(err, BR_EINVAL, "snapshot", 0, 0,
                            "not a record snapshot: \"%s\" is malformed", c.what);
    if (c.oom) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    return 0;
}
