/* bulkrepo — the record model: one research output in memory.
 *
 * Every reader (SAF, Esploro CSV, later ONIX/XLSX) produces br_record values and
 * every writer consumes them; the store saves and loads them.  A record owns its
 * strings in an arena; br_record_reset() empties it but keeps the memory, so a
 * reader can stream a million records through one record with flat memory.
 *
 * Pointers returned by the br_record_add_* functions stay valid only until the
 * next add of the same kind (the arrays grow).  Strings stay valid until reset.
 */
#ifndef BULKREPO_RECORD_H
#define BULKREPO_RECORD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where a value came from, for messages: a file relative to the batch root. */
typedef struct br_origin {
    const char *source;
    unsigned line;
    unsigned column;
} br_origin;

/* A qualified metadata value (DSpace's metadatavalue).  qualifier and language
 * are NULL when absent.  place is the value's position among the values of the
 * same field (0-based), as in DSpace REST. */
typedef struct br_mdv {
    const char *schema;
    const char *element;
    const char *qualifier;
    const char *language;
    const char *value;
    int place;
    br_origin origin;
} br_mdv;

/* A file of the record.  On input, `path` is where the bytes are (absolute, or
 * NULL when the package lists the file without supplying it: `-x` packages) or
 * `url` names a remote file.  After storing (or when loaded from the store)
 * size, md5, sha256 and mime are filled. */
typedef struct br_bitstream {
    const char *name;   /* the bitstream's name; may contain '/' for sub-folders */
    const char *bundle; /* ORIGINAL, LICENSE, THUMBNAIL, ... */
    const char *description;
    int primary;
    const char *read_group;  /* permissions:-r 'group' */
    const char *write_group; /* permissions:-w 'group' */
    const char *iiif_label;
    const char *iiif_toc;
    int iiif_width;  /* 0 = unset */
    int iiif_height; /* 0 = unset */
    const char *path;
    const char *url;
    int sequence;
    int64_t size;
    char md5[33];
    char sha256[65];
    const char *mime;
    /* Esploro FILE row fields (text as written, canonical case; NULL = absent). */
    const char *license;
    const char *rights;
    const char *rights_reason;
    const char *rights_date;  /* ISO 8601 */
    const char *content_type; /* "accepted", "published", ... (Asset File and Link Types) */
    const char *supplemental; /* "true" / "false" */
    const char *order;        /* FILE_ORDER as written */
    br_origin origin;
} br_bitstream;

/* A typed link between two records.  On input `target` is a reference as the
 * SAF `relationships` file writes it: a handle, a UUID, "folderName:<key>" or
 * "schema.element[.qualifier]:value".  Loaded from the store, `target` is the
 * other item's handle and `is_left` says whether this record is the left item. */
typedef struct br_relation {
    const char *type;
    const char *target;
    int is_left;
    int place;
    br_origin origin;
} br_relation;

typedef enum br_creator_role { BR_CREATOR = 0, BR_CONTRIBUTOR = 1 } br_creator_role;

/* An ordered creator or contributor with structured name parts (Esploro CREATOR,
 * CONT, OCREATOR, OCONT rows; DSpace dc.contributor.author is derived from it). */
typedef struct br_creator {
    br_creator_role role;
    int is_organization;
    int place;
    const char *family;
    const char *given;
    const char *middle;
    const char *suffix;
    const char *display; /* organisation name, or a free-form name */
    const char *orcid;
    const char *email;
    const char *affiliation; /* organisational unit code */
    const char *researcher_id;
    const char *contrib_type; /* e.g. "editor" for contributors */
    const char *primary_id;   /* Esploro CREATOR_PRIMARYID / CONT_PRIMARYID */
    const char *brcode;       /* Esploro *_BRCODE */
    const char *additional;   /* Esploro *_ADDITIONAL */
    br_origin origin;
} br_creator;

typedef struct br_link {
    int place;
    const char *url;
    const char *title;
    const char *description;
    const char *type;
    const char *license;
    const char *rights;
    const char *owner;
    const char *order;             /* LINK_ORDER as written (free text in Esploro) */
    const char *display_in_viewer; /* "true" / "false" */
    br_origin origin;
} br_link;

/* A typed identifier used for matching incoming records: doi, isbn13, handle,
 * origid (originating-system id), ...  (type, value) is unique in a repository. */
typedef struct br_identifier {
    const char *type;
    const char *value;
    br_origin origin;
} br_identifier;

typedef struct br_record {
    /* Identity. On input: key is the SAF folder or CSV group; handle is the
     * requested handle or NULL.  Loaded from the store all are set. */
    const char *key;
    const char *handle;
    const char *uuid;
    const char *status; /* "workspace", "workflow", "draft", "archived", "withdrawn" */
    const char *created;
    const char *modified;
    int64_t id;
    const char *owning_collection; /* handle */

    br_mdv *md;
    size_t n_md, cap_md;
    br_bitstream *bs;
    size_t n_bs, cap_bs;
    br_relation *rels;
    size_t n_rels, cap_rels;
    const char **collections; /* handles; the first owns the item */
    size_t n_collections, cap_collections;
    br_creator *creators;
    size_t n_creators, cap_creators;
    br_link *links;
    size_t n_links, cap_links;
    br_identifier *ids;
    size_t n_ids, cap_ids;

    struct br_arena *arena;       /* private */
    struct br_md_index *md_index; /* private: br_record_add_md's values per field */
} br_record;

br_record *br_record_new(void);
void br_record_free(br_record *rec);
/* Empties the record and keeps its memory for the next one. */
void br_record_reset(br_record *rec);

/* Copies s into the record's arena; NULL in, NULL out. NULL on out-of-memory too. */
const char *br_record_str(br_record *rec, const char *s);
const char *br_record_strn(br_record *rec, const char *s, size_t n);

/* Each add copies its string arguments; returns NULL on out-of-memory.
 * br_record_add_md sets place to the count of earlier values of the same field
 * (values may be dropped from md, lowering n_md, but not reordered, nor their
 * schema, element or qualifier changed in place: the record keeps a count per
 * field).  Values of one field may share those strings. */
br_mdv *br_record_add_md(br_record *rec, const char *schema, const char *element,
                         const char *qualifier, const char *language, const char *value);
br_bitstream *br_record_add_bitstream(br_record *rec, const char *name);
br_relation *br_record_add_relation(br_record *rec, const char *type, const char *target);
int br_record_add_collection(br_record *rec, const char *handle);
br_creator *br_record_add_creator(br_record *rec, br_creator_role role);
br_link *br_record_add_link(br_record *rec);
br_identifier *br_record_add_identifier(br_record *rec, const char *type, const char *value);

/* The first value of a field named "schema.element[.qualifier]", or NULL. */
const char *br_record_first(const br_record *rec, const char *field);
/* Whether the record has any value of that field. */
int br_record_has(const br_record *rec, const char *field);

/* DSpace values from the structured creators (Esploro CREATOR, OCREATOR, CONT,
 * OCONT rows), each dc.contributor field only when the record has no value of
 * it yet: creators in order -> dc.contributor.author ("Family, Given Middle[,
 * Suffix]" for a person, the name for an organisation); contributors ->
 * dc.contributor.<type> when the type is a qualifier of DSpace's default
 * registry (advisor, editor, illustrator, other), else dc.contributor.other.
 * Returns 0 or BR_ENOMEM. */
int br_record_derive_contributors(br_record *rec);
/* The reverse, for records without structured creators (a SAF item): appends
 * to dst a person creator for each dc.contributor.author of src ("Family,
 * Given": split at the first ", "; no comma: family only) and a contributor
 * with contrib_type = qualifier for each dc.contributor.{advisor, editor,
 * illustrator, other}.  dst may be src.  Returns 0 or BR_ENOMEM. */
int br_record_derive_creators(const br_record *src, br_record *dst);
/* The dc.contributor value of a creator as br_record_derive_contributors writes
 * it, into buf (truncated to size); returns the length it needs. */
size_t br_creator_name(const br_creator *c, char *buf, size_t size);
/* The dc.contributor qualifier a creator maps to, written to q and returned:
 * "author", or the contributor's type (lower case) when it is a registry
 * qualifier, else "other". */
const char *br_creator_qualifier(const br_creator *c, char q[64]);

/* Splits "schema.element[.qualifier]" into its parts (each at most 63 bytes).
 * Returns 0, or BR_EINVAL when the name is malformed. */
int br_field_parse(const char *field, char schema[64], char element[64], char qualifier[64]);

#ifdef __cplusplus
}
#endif
#endif
