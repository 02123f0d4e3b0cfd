/* DSpace Simple Archive Format: the item writer (export).
 *
 * Writes one br_record as one SAF item folder, following DSpace's exporter
 * (shared/reference/notes/dspace-saf.md §3.3) where a DSpace importer depends on
 * it, and doing better where the notes list its faults (§7):
 *
 *   dublin_core.xml       always (DSpace's importer requires it, §1.2), with the
 *                         dc values; schema attribute written as DSpace does
 *   metadata_<s>.xml      one per other schema, files in prefix order
 *   contents              one line per bitstream in record order; also
 *                         permissions and IIIF options, which DSpace drops
 *   collections, handle   as DSpace; no handle with -m
 *   relationships         not written by DSpace (issue #7981); here the left
 *                         side of each relation, "folderName:" for items in the
 *                         package, handles for the others
 *   bitstream files       copied unless -x (still listed in contents, §3.5)
 *
 * Output is a pure function of the record and the options: no timestamps, no
 * directory-order dependence, so equal records give byte-identical folders and
 * two exports can be compared with diff.
 */
#define _GNU_SOURCE /* copy_file_range */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bulkrepo/saf.h"
#include "../core/core.h"
#include "formats/drivers.h"

#define PATH_SIZE        4096
#define UTF8_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/* ---- XML text ------------------------------------------------------------- */

/* Length (2..4) of the well-formed UTF-8 sequence at p with its code point in
 * *cp, or 0 when it is not one (overlong, surrogate, beyond U+10FFFF, cut). */
static size_t utf8_decode(const unsigned char *p, unsigned *cp)
{
    unsigned c = p[0], min;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, *cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, *cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, *cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0; /* also stops at the terminating NUL */
        *cp = (*cp << 6) | (p[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
    return n;
}

/* Appends s escaped for XML 1.0 text or a double-quoted attribute value:
 * & < > " as entities; TAB, LF and CR as character references (so that
 * attribute normalisation and CR/LF folding by parsers cannot change them, and
 * each value stays on one line); non-ASCII kept as UTF-8.  Characters that XML
 * 1.0 cannot carry at all, not even as references (the other C0 controls,
 * U+FFFE, U+FFFF), become U+FFFD: the format cannot represent them.  Bytes that
 * are not UTF-8 are corrupt data, not a format limit: BR_EINVAL. */
static int xml_escape(br_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *run = p;
    while (*p) {
        const char *rep = NULL;
        size_t adv = 1;
        if (*p < 0x80) {
            switch (*p) {
            case '&':
                rep = "&amp;";
                break;
            case '<':
                rep = "&lt;";
                break;
            case '>':
                rep = "&gt;";
                break;
            case '"':
                rep = "&quot;";
                break;
            case '\t':
                rep = "&#9;";
                break;
            case '\n':
                rep = "&#10;";
                break;
            case '\r':
                rep = "&#13;";
                break;
            default:
                if (*p < 0x20) rep = UTF8_REPLACEMENT;
            }
        } else {
            unsigned cp;
            adv = utf8_decode(p, &cp);
            if (!adv) return BR_EINVAL;
            if (cp == 0xFFFE || cp == 0xFFFF) rep = UTF8_REPLACEMENT;
        }
        if (rep) {
            if (br_buf_append(b, (const char *)run, (size_t)(p - run)) || br_buf_puts(b, rep))
                return BR_ENOMEM;
            run = p + adv;
        }
        p += adv;
    }
    return br_buf_append(b, (const char *)run, (size_t)(p - run)) ? BR_ENOMEM : 0;
}

/* ---- which values are written --------------------------------------------- */

/* Whether v is the item's own handle URI (http[s]://hdl.handle.net/PREFIX/...),
 * which a new repository regenerates for the new handle.  Like DSpace (§3.4) a
 * URI is "local" when it has the item's handle prefix; without a handle every
 * hdl.handle.net URI counts as local. */
static int is_local_handle_uri(const char *value, const char *handle)
{
    static const char *const resolvers[] = {"http://hdl.handle.net/", "https://hdl.handle.net/"};
    for (size_t i = 0; i < BR_ARRAY_LEN(resolvers); i++) {
        size_t n = strlen(resolvers[i]);
        if (strncmp(value, resolvers[i], n)) continue;
        if (!handle) return 1;
        const char *slash = strchr(handle, '/');
        size_t plen = slash ? (size_t)(slash - handle) : strlen(handle);
        return !strncmp(value + n, handle, plen) && value[n + plen] == '/';
    }
    return 0;
}

/* -m drops what the new repository records again on import: dc.date.accessioned,
 * dc.date.available, dc.description.provenance and the local handle URI in
 * dc.identifier.uri.  Narrower than DSpace (§3.4), which also drops
 * date.issued (re-adding one), format.extent and format.mimetype in any schema:
 * those are descriptive values a new repository does not regenerate here. */
static int migrate_drops(const br_mdv *v, const char *handle)
{
    const char *q = v->qualifier;
    if (strcmp(v->schema, "dc") || !q) return 0;
    if (!strcmp(v->element, "date")) return !strcmp(q, "accessioned") || !strcmp(q, "available");
    if (!strcmp(v->element, "description")) return !strcmp(q, "provenance");
    if (!strcmp(v->element, "identifier") && !strcmp(q, "uri"))
        return is_local_handle_uri(v->value, handle);
    return 0;
}

/* Values of the `relation` schema are not written: in DSpace they are virtual
 * metadata of relationships (§3.3), and DSpace's importer turns a
 * metadata_relation.xml into relationships (§1.2) — a second copy of what the
 * relationships file already carries. */
static int schema_written(const char *schema)
{
    return strcmp(schema, "relation") != 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- small files ---------------------------------------------------------- */

/* Writes dir/name with b's bytes; the file must be new.  No fsync: an export is
 * redone, not recovered, after a crash. */
static int write_text(const char *dir, const char *name, const br_buf *b, br_error *err)
{
    char path[PATH_SIZE];
    if (br_path_join(path, sizeof path, dir, name))
        return br_error_set(err, BR_ELIMIT, dir, 0, 0, "path too long for %s", name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return br_error_set(err, BR_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
    int rc = 0;
    if (br_write_all(fd, b->p ? b->p : "", b->len))
        rc = br_error_set(err, BR_EIO, path, 0, 0, "write failed: %s", strerror(errno));
    if (close(fd) && !rc)
        rc = br_error_set(err, BR_EIO, path, 0, 0, "close failed: %s", strerror(errno));
    return rc;
}

/* Copies src to the new file dst: copy_file_range (in-kernel, reflinks where the
 * filesystem has them), falling back to read/write where it is unsupported. */
static int copy_bytes(const char *src, const char *dst, br_error *err)
{
    int in = -1, out = -1, rc = 0, fallback = 0;
    in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        rc = br_error_set(err, BR_EIO, src, 0, 0, "cannot open stored file: %s", strerror(errno));
        goto done;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        rc = br_error_set(err, BR_EIO, dst, 0, 0, "cannot create: %s", strerror(errno));
        goto done;
    }
    int64_t total = 0;
    for (;;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)1 << 30, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && total == 0 &&
            (errno == ENOSYS || errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP ||
             errno == EPERM || errno == EBADF)) {
            fallback = 1;
            break;
        }
        if (n < 0) {
            rc = br_error_set(err, BR_EIO, dst, 0, 0, "copy from %s failed: %s", src,
                              strerror(errno));
            goto done;
        }
        if (n == 0) break;
        total += n;
    }
done:
    if (in >= 0) close(in);
    if (out >= 0 && close(out) && !rc)
        rc = br_error_set(err, BR_EIO, dst, 0, 0, "close failed: %s", strerror(errno));
    if (fallback) {
        unlink(dst);
        rc = br_copy_file(src, dst, err);
    }
    return rc;
}

/* ---- bitstream file names --------------------------------------------------- */

/* The files of the folder, for clash checks: each bitstream name as a file and
 * each of its leading folders as a folder.  Open addressing over (pointer,
 * length) views into names that live as long as the set. */
enum { NAME_FILE = 1, NAME_DIR = 2 };
typedef struct name_entry {
    const char *s;
    size_t len;
    int kind;
} name_entry;
typedef struct name_set {
    name_entry *v;
    size_t cap; /* a power of two, at least twice the entries */
} name_set;

static name_entry *name_slot(name_set *set, const char *s, size_t len)
{
    size_t i = br_fnv1a(BR_FNV1A_INIT, s, len) & (set->cap - 1);
    while (set->v[i].s && !(set->v[i].len == len && !memcmp(set->v[i].s, s, len)))
        i = (i + 1) & (set->cap - 1);
    return &set->v[i];
}

/* The names the writer itself uses at the top of the folder, and any
 * metadata_*.xml, which an importer would read as metadata (§1.2). */
static int reserved_top(const char *s, size_t len)
{
    static const char *const names[] = {"dublin_core.xml", "contents", "collections", "handle",
                                        "relationships"};
    for (size_t i = 0; i < BR_ARRAY_LEN(names); i++)
        if (strlen(names[i]) == len && !memcmp(names[i], s, len)) return 1;
    return len >= 13 && !memcmp(s, "metadata_", 9) && !memcmp(s + len - 4, ".xml", 4);
}

static int name_clashes(name_set *set, const char *name)
{
    const char *slash = strchr(name, '/');
    if (reserved_top(name, slash ? (size_t)(slash - name) : strlen(name))) return 1;
    if (name_slot(set, name, strlen(name))->s) return 1; /* same file, or a folder of that name */
    for (const char *p = slash; p; p = strchr(p + 1, '/')) {
        name_entry *e = name_slot(set, name, (size_t)(p - name));
        if (e->s && e->kind == NAME_FILE) return 1; /* a file where this needs a folder */
    }
    return 0;
}

static void name_add(name_set *set, const char *name)
{
    name_entry *e = name_slot(set, name, strlen(name));
    *e = (name_entry){name, strlen(name), NAME_FILE};
    for (const char *p = strchr(name, '/'); p; p = strchr(p + 1, '/')) {
        e = name_slot(set, name, (size_t)(p - name));
        if (!e->s) *e = (name_entry){name, (size_t)(p - name), NAME_DIR};
    }
}

/* Chooses the file name of every bitstream: its name, or, when that clashes
 * with an earlier bitstream or a metadata file, "1_name", "2_name", ... as
 * DSpace does (§3.3); contents then lists the new name.  Unsafe names ("..",
 * absolute, control characters) are BR_EINVAL.  names[i] live in arena. */
static int choose_names(const br_record *rec, br_arena *arena, const char **names, br_error *err,
                        const char *dir)
{
    size_t entries = 0;
    for (size_t i = 0; i < rec->n_bs; i++) {
        const char *why = br_path_unsafe(rec->bs[i].name);
        if (why)
            return br_error_set(err, BR_EINVAL, dir, 0, 0, "item %s: bitstream name '%s': %s",
                                rec->handle ? rec->handle : "(no handle)",
                                rec->bs[i].name ? rec->bs[i].name : "", why);
        entries++;
        for (const char *p = rec->bs[i].name; (p = strchr(p, '/')); p++)
            entries++;
    }
    name_set set = {NULL, 16};
    while (set.cap < 2 * entries + 16)
        set.cap *= 2;
    set.v = calloc(set.cap, sizeof *set.v);
    if (!set.v) return br_error_set(err, BR_ENOMEM, dir, 0, 0, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < rec->n_bs; i++) {
        const char *name = rec->bs[i].name;
        for (unsigned k = 1; name_clashes(&set, name); k++) {
            size_t n = strlen(rec->bs[i].name) + 16;
            char *alt = br_arena_alloc(arena, n);
            if (!alt) {
                rc = br_error_set(err, BR_ENOMEM, dir, 0, 0, "out of memory");
                goto done;
            }
            snprintf(alt, n, "%u_%s", k, rec->bs[i].name);
            name = alt;
        }
        name_add(&set, name); /* the set grows by at most `entries` in total */
        names[i] = name;
    }
done:
    free(set.v);
    return rc;
}

/* ---- the files -------------------------------------------------------------- */

/* One metadata file: every written value of `schema` in record order. */
static int write_schema(const char *dir, const br_record *rec, const char *schema,
                        const br_saf_write_options *opt, br_buf *b, br_error *err)
{
    char file[PATH_SIZE];
    if (!strcmp(schema, "dc")) {
        snprintf(file, sizeof file, "dublin_core.xml");
    } else {
        /* The prefix becomes part of a file name. */
        if (br_path_unsafe(schema) || strchr(schema, '/'))
            return br_error_set(err, BR_EINVAL, dir, 0, 0,
                                "item %s: schema '%s' cannot name a metadata file",
                                rec->handle ? rec->handle : "(no handle)", schema);
        if (snprintf(file, sizeof file, "metadata_%s.xml", schema) >= (int)sizeof file)
            return br_error_set(err, BR_ELIMIT, dir, 0, 0, "schema name too long: %s", schema);
    }
    br_buf_clear(b);
    int rc = br_buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<dublin_core schema=\"") ||
                     xml_escape(b, schema) || br_buf_puts(b, "\">\n")
                 ? BR_ENOMEM
                 : 0;
    for (size_t i = 0; !rc && i < rec->n_md; i++) {
        const br_mdv *v = &rec->md[i];
        if (strcmp(v->schema, schema)) continue;
        if (opt && opt->migrate && migrate_drops(v, rec->handle)) continue;
        const char *what = "element";
        rc = br_buf_puts(b, "  <dcvalue element=\"");
        if (!rc) rc = xml_escape(b, v->element);
        if (!rc) rc = br_buf_puts(b, "\" qualifier=\"");
        if (!rc) what = "qualifier", rc = xml_escape(b, v->qualifier ? v->qualifier : "none");
        if (!rc && v->language) {
            rc = br_buf_puts(b, "\" language=\"");
            if (!rc) what = "language", rc = xml_escape(b, v->language);
        }
        if (!rc) rc = br_buf_puts(b, "\">");
        if (!rc) what = "value", rc = xml_escape(b, v->value);
        if (!rc) rc = br_buf_puts(b, "</dcvalue>\n");
        if (rc == BR_EINVAL)
            return br_error_set(err, BR_EINVAL, dir, 0, 0,
                                "item %s: %s.%s%s%s: the %s is not valid UTF-8",
                                rec->handle ? rec->handle : "(no handle)", v->schema, v->element,
                                v->qualifier ? "." : "", v->qualifier ? v->qualifier : "", what);
        if (rc) rc = BR_ENOMEM;
    }
    if (!rc && br_buf_puts(b, "</dublin_core>\n")) rc = BR_ENOMEM;
    if (rc) return br_error_set(err, rc, dir, 0, 0, "out of memory");
    return write_text(dir, file, b, err);
}

/* dublin_core.xml always, then metadata_<schema>.xml in prefix order. */
static int write_metadata(const char *dir, const br_record *rec, const br_saf_write_options *opt,
                          br_buf *b, br_error *err)
{
    int rc = write_schema(dir, rec, "dc", opt, b, err);
    if (rc || !rec->n_md) return rc;
    const char **schemas = malloc(rec->n_md * sizeof *schemas);
    if (!schemas) return br_error_set(err, BR_ENOMEM, dir, 0, 0, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < rec->n_md; i++) {
        const char *s = rec->md[i].schema;
        if (!strcmp(s, "dc") || !schema_written(s)) continue;
        size_t j = 0;
        while (j < n && strcmp(schemas[j], s))
            j++;
        if (j == n) schemas[n++] = s;
    }
    qsort(schemas, n, sizeof *schemas, cmp_str);
    for (size_t i = 0; !rc && i < n; i++)
        rc = write_schema(dir, rec, schemas[i], opt, b, err);
    free(schemas);
    return rc;
}

/* Appends an option value; a TAB or line break would end the option or the
 * line (§1.3), so each becomes a space. */
static int put_option(br_buf *b, const char *key, const char *value)
{
    if (br_buf_puts(b, "\t") || br_buf_puts(b, key)) return BR_ENOMEM;
    for (const char *p = value; *p; p++)
        if (br_buf_append(b, (*p == '\t' || *p == '\n' || *p == '\r') ? " " : p, 1))
            return BR_ENOMEM;
    return 0;
}

/* contents: `name\tbundle:B[\tprimary:true][\tdescription:D][\tpermissions:-r|-w 'G']
 * [\tiiif-label:L][\tiiif-toc:T][\tiiif-width:N][\tiiif-height:N]`.  The grammar
 * holds one permissions option (the first wins, §1.3): with both groups set the
 * read group is written. */
static int write_contents(const char *dir, const br_record *rec, const char **names, br_buf *b,
                          br_error *err)
{
    br_buf_clear(b);
    int rc = 0;
    for (size_t i = 0; !rc && i < rec->n_bs; i++) {
        const br_bitstream *bs = &rec->bs[i];
        char num[32];
        rc = br_buf_puts(b, names[i]) ||
             put_option(b, "bundle:", bs->bundle && *bs->bundle ? bs->bundle : "ORIGINAL");
        if (!rc && bs->primary) rc = br_buf_puts(b, "\tprimary:true");
        if (!rc && bs->description && *bs->description)
            rc = put_option(b, "description:", bs->description);
        if (!rc && bs->read_group && *bs->read_group)
            rc = put_option(b, "permissions:-r '", bs->read_group) || br_buf_puts(b, "'");
        else if (!rc && bs->write_group && *bs->write_group)
            rc = put_option(b, "permissions:-w '", bs->write_group) || br_buf_puts(b, "'");
        if (!rc && bs->iiif_label && *bs->iiif_label)
            rc = put_option(b, "iiif-label:", bs->iiif_label);
        if (!rc && bs->iiif_toc && *bs->iiif_toc) rc = put_option(b, "iiif-toc:", bs->iiif_toc);
        if (!rc && bs->iiif_width > 0) {
            snprintf(num, sizeof num, "%d", bs->iiif_width);
            rc = put_option(b, "iiif-width:", num);
        }
        if (!rc && bs->iiif_height > 0) {
            snprintf(num, sizeof num, "%d", bs->iiif_height);
            rc = put_option(b, "iiif-height:", num);
        }
        if (!rc) rc = br_buf_puts(b, "\n");
    }
    if (rc) return br_error_set(err, BR_ENOMEM, dir, 0, 0, "out of memory");
    return write_text(dir, "contents", b, err);
}

/* Appends s and a newline; a value with a line break cannot be one line. */
static int put_line(br_buf *b, const char *s, const char *dir, const char *what, br_error *err)
{
    if (strpbrk(s, "\r\n"))
        return br_error_set(err, BR_EINVAL, dir, 0, 0, "%s '%s' contains a line break", what, s);
    if (br_buf_puts(b, s) || br_buf_puts(b, "\n"))
        return br_error_set(err, BR_ENOMEM, dir, 0, 0, "out of memory");
    return 0;
}

/* relationships: `relation.<type> <ref>` for each relation where this item is
 * the left one, so that importing the package recreates every relation once
 * (its right item's folder does not repeat it). */
int br_saf_write_relationships(const char *dir, const char *item, const br_relation *rels, size_t n,
                               const char *(*folder_of)(void *, const char *), void *ctx,
                               br_error *err)
{
    br_buf b = {0};
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        const br_relation *r = &rels[i];
        if (!r->is_left || !r->target || !*r->target) continue;
        if (!r->type || !*r->type || strpbrk(r->type, " \t\r\n")) {
            rc = br_error_set(err, BR_EINVAL, dir, 0, 0,
                              "item %s: relationship type '%s' cannot be written",
                              item ? item : "(no handle)", r->type ? r->type : "");
            break;
        }
        const char *folder = folder_of ? folder_of(ctx, r->target) : NULL;
        const char *ref = folder ? folder : r->target;
        if (strpbrk(ref, "\r\n")) {
            rc = br_error_set(err, BR_EINVAL, dir, 0, 0,
                              "item %s: relationship target '%s' contains a line break",
                              item ? item : "(no handle)", ref);
            break;
        }
        /* The importer takes the part after the first dot as the type (§1.7). */
        if (br_buf_puts(&b, strncmp(r->type, "relation.", 9) ? "relation." : "") ||
            br_buf_puts(&b, r->type) || br_buf_puts(&b, folder ? " folderName:" : " ") ||
            br_buf_puts(&b, ref) || br_buf_puts(&b, "\n"))
            rc = br_error_set(err, BR_ENOMEM, dir, 0, 0, "out of memory");
    }
    if (!rc && b.len) rc = write_text(dir, "relationships", &b, err);
    br_buf_dispose(&b);
    return rc;
}

/* Copies every bitstream that has a stored file.  A bitstream without one
 * (path NULL: imported from a -x package with --metadata-only) stays listed in
 * contents without a file, which is the package it came from. */
static int write_bitstreams(const char *dir, const br_record *rec, const char **names,
                            br_error *err)
{
    char dst[PATH_SIZE];
    for (size_t i = 0; i < rec->n_bs; i++) {
        const br_bitstream *bs = &rec->bs[i];
        if (!bs->path) continue;
        if (br_path_join(dst, sizeof dst, dir, names[i]))
            return br_error_set(err, BR_ELIMIT, dir, 0, 0, "path too long for %s", names[i]);
        char *slash = strrchr(dst, '/');
        if (strchr(names[i], '/')) {
            *slash = 0;
            int rc = br_mkdir_p(dst, err);
            *slash = '/';
            if (rc) return rc;
        }
        int rc = copy_bytes(bs->path, dst, err);
        if (rc) return rc;
    }
    return 0;
}

int br_saf_write_item(const char *dir, const br_record *rec, const br_saf_write_options *opt,
                      br_error *err)
{
    if (!dir || !*dir || !rec)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "br_saf_write_item needs a folder and a record");
    br_buf b = {0};
    br_arena *arena = br_arena_new();
    const char **names = calloc(rec->n_bs ? rec->n_bs : 1, sizeof *names);
    int created = 0, rc = 0;
    if (!arena || !names) {
        rc = br_error_set(err, BR_ENOMEM, dir, 0, 0, "out of memory");
        goto done;
    }
    /* Names first, so that an unsafe one leaves nothing behind. */
    rc = choose_names(rec, arena, names, err, dir);
    if (rc) goto done;
    if (mkdir(dir, 0755)) {
        rc = br_error_set(err, errno == EEXIST ? BR_EEXISTS : BR_EIO, dir, 0, 0,
                          errno == EEXIST ? "folder already exists" : "cannot create folder: %s",
                          strerror(errno));
        goto done;
    }
    created = 1;
    rc = write_metadata(dir, rec, opt, &b, err);
    /* No contents for an item without bitstreams: DSpace imports such a folder
     * as metadata-only (§1.4). */
    if (!rc && rec->n_bs) rc = write_contents(dir, rec, names, &b, err);
    if (!rc && rec->n_collections) {
        br_buf_clear(&b);
        for (size_t i = 0; !rc && i < rec->n_collections; i++)
            rc = put_line(&b, rec->collections[i], dir, "collection", err);
        if (!rc) rc = write_text(dir, "collections", &b, err);
    }
    if (!rc && rec->handle && *rec->handle && !(opt && opt->migrate)) {
        br_buf_clear(&b);
        rc = put_line(&b, rec->handle, dir, "handle", err);
        if (!rc) rc = write_text(dir, "handle", &b, err);
    }
    if (!rc)
        rc = br_saf_write_relationships(dir, rec->handle, rec->rels, rec->n_rels,
                                        opt ? opt->folder_of : NULL, opt ? opt->folder_ctx : NULL,
                                        err);
    if (!rc && !(opt && opt->exclude_bitstreams)) rc = write_bitstreams(dir, rec, names, err);
done:
    /* A half-written item folder is removed: only the folder made here. */
    if (rc && created) br_rmtree(dir);
    br_buf_dispose(&b);
    free(names);
    br_arena_free(arena);
    return rc;
}
