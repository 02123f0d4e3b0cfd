/* The DSpace Simple Archive Format driver's writer: records -> item folders
 * (br_saf_write_item, saf_write.c), for export and convert.
 *
 *   export:   dest is an existing folder; record i becomes DEST/<seq + i>
 *             (plain numbers, as DSpace: notes §3.2); with -z the folders are
 *             zipped to DEST/ZIP instead.
 *   convert:  (from_input) dest is a new folder; a record becomes the folder
 *             named by its input key when that is a safe folder name, else
 *             asset_<n>.  What SAF cannot hold of the structured model
 *             (creator identifiers, links, file rights, remote files) is a note
 *             (rule convert.no-target / convert.not-fetched); structured
 *             creators become dc.contributor.*; "<p>a</p><p>b</p>" values become
 *             lines again; a handle carried as esploro.asset.handle becomes the
 *             handle file.
 *
 * An export writes its folders into DEST itself and abort (any failure)
 * removes every folder it made, so a failed export leaves nothing; staging
 * them elsewhere and renaming 10,000 folders at the end cost an export on disk
 * several times its time.  A zip (-z) is staged in DEST/.bulkrepo-XXXXXX and
 * zipped at close; convert stages in DEST.tmpXXXXXX and renames that folder.  A folder DEST/<n>
 * that exists already stops the export when its record comes (BR_EEXISTS),
 * with nothing left behind.
 *
 * relationships: "folderName:<folder>" for a related item inside the package,
 * its handle otherwise.  A relation may name an item written later, so the
 * relationships files are written at close.  Memory: per record its folder
 * name and handle, plus a copy of each left relation; nothing else grows
 * with the number of records. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bulkrepo/saf.h"
#include "core/core.h"
#include "formats/drivers.h"

#define PATH_SIZE 4096

typedef struct saf_item {
    const char *folder; /* in the arena */
    const char *handle; /* in the arena, or NULL */
} saf_item;

struct br_writer {
    br_write_options opt;
    br_write_stats local, *stats;
    char stage[PATH_SIZE]; /* the staging folder; "" none */
    int direct;            /* export into DEST itself: folders written in place */
    int closed;            /* closed successfully: abort keeps the output */
    char zip_path[PATH_SIZE];
    br_arena *arena;
    saf_item *items;
    size_t n_items, cap_items;
    br_relation *rels; /* left relations with a target, strings in the arena */
    size_t *rel_item;  /* the item of each */
    size_t n_rels, cap_rels, cap_rel_item;
    const saf_item **by_handle; /* at close: items with a handle, by handle */
    size_t n_by_handle;
};

static int path_exists(const char *path)
{
    struct stat sb;
    return !lstat(path, &sb) || errno != ENOENT;
}

static int no_memory(br_error *err)
{
    return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
}

int br_saf_drv_writer_open(const br_write_options *opt, br_writer **out, br_error *err)
{
    *out = NULL;
    if (opt->on_column && !opt->n_fields && !opt->n_categories) return 0; /* none to list */
    if (opt->n_fields || opt->n_categories)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "a SAF package has no column selection (--fields, --categories)");
    if (!opt->dest || !*opt->dest)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no destination folder given");
    /* seq is taken as given, 0 included (DSpace accepts -n 0). */
    if (opt->seq < 0)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "-n must not be negative (got %ld)",
                            opt->seq);
    if (opt->zip && (opt->from_input || br_path_unsafe(opt->zip) || strchr(opt->zip, '/')))
        return br_error_set(
            err, BR_EUSAGE, NULL, 0, 0,
            "-z '%s' must be a plain file name (it is written into the destination)", opt->zip);
    br_writer *w = calloc(1, sizeof *w);
    if (!w) return no_memory(err);
    int rc = 0;
    w->opt = *opt;
    w->stats = opt->stats ? opt->stats : &w->local;
    if (!(w->arena = br_arena_new())) {
        rc = no_memory(err);
        goto done;
    }
    int n;
    if (opt->from_input) {
        if (path_exists(opt->dest)) {
            rc = br_error_set(err, BR_EEXISTS, opt->dest, 0, 0, "the output already exists");
            goto done;
        }
        n = snprintf(w->stage, sizeof w->stage, "%s.tmpXXXXXX", opt->dest);
    } else {
        if (!br_is_dir(opt->dest)) {
            rc = br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "destination folder %s does not exist",
                              opt->dest);
            goto done;
        }
        if (opt->zip) {
            if (br_path_join(w->zip_path, sizeof w->zip_path, opt->dest, opt->zip)) {
                rc =
                    br_error_set(err, BR_ELIMIT, opt->dest, 0, 0, "path too long for %s", opt->zip);
                goto done;
            }
            if (path_exists(w->zip_path)) {
                rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "%s already exists", w->zip_path);
                goto done;
            }
        }
        n = snprintf(w->stage, sizeof w->stage, "%s/.bulkrepo-XXXXXX", opt->dest);
        if (!opt->zip) { /* folders go straight into DEST; a failure removes them */
            w->direct = 1;
            w->stage[0] = 0;
            goto done;
        }
    }
    if (n < 0 || (size_t)n >= sizeof w->stage) {
        w->stage[0] = 0;
        rc = br_error_set(err, BR_ELIMIT, opt->dest, 0, 0, "path too long");
        goto done;
    }
    if (!mkdtemp(w->stage)) {
        int e = errno;
        w->stage[0] = 0;
        rc = br_error_set(err, BR_EIO, opt->dest, 0, 0, "cannot make a folder next to it: %s",
                          strerror(e));
        goto done;
    }
done:
    if (rc) {
        br_saf_drv_writer_abort(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* ---- convert: what SAF cannot hold ------------------------------------------------------------
 */

static void lost(br_writer *w, const char *key, const br_origin *o, const char *rule,
                 const char *hint, const char *fmt, const char *a, const char *b)
{
    w->stats->lost++;
    br_diag_emitf(w->opt.diags, BR_SEV_NOTE, key, o ? o->source : NULL, o ? o->line : 0,
                  o ? o->column : 0, rule, hint, fmt, a, b);
}

static int nonempty(const char *s)
{
    return s && *s;
}

/* Reports what the structured model holds that SAF cannot: creator
 * identifiers and affiliations, links, file rights. */
static void report_structured(br_writer *w, const br_record *rec, const char *key)
{
    static const struct {
        const char *label;
        size_t off;
    } CPARTS[] = {
        {"ORCID", offsetof(br_creator, orcid)},
        {"e-mail", offsetof(br_creator, email)},
        {"affiliation", offsetof(br_creator, affiliation)},
        {"researcher id", offsetof(br_creator, researcher_id)},
        {"primary id", offsetof(br_creator, primary_id)},
        {"BR code", offsetof(br_creator, brcode)},
        {"additional", offsetof(br_creator, additional)},
    };
    static const char *const NT = "convert.no-target";
    char who[600], what[700];
    for (size_t i = 0; i < rec->n_creators; i++) {
        const br_creator *cr = &rec->creators[i];
        char name[400];
        br_creator_name(cr, name, sizeof name);
        snprintf(who, sizeof who, "%s %d (%s)",
                 cr->role == BR_CREATOR ? (cr->is_organization ? "OCREATOR" : "CREATOR")
                                        : (cr->is_organization ? "OCONT" : "CONT"),
                 cr->place + 1, name);
        for (size_t k = 0; k < BR_ARRAY_LEN(CPARTS); k++) {
            const char *s = *(const char *const *)((const char *)cr + CPARTS[k].off);
            if (!nonempty(s)) continue;
            snprintf(what, sizeof what, "%s: %s", who, CPARTS[k].label);
            lost(w, key, &cr->origin, NT, NULL, "no SAF field for %s '%s'", what, s);
        }
        char q[64];
        if (cr->role == BR_CONTRIBUTOR && nonempty(cr->contrib_type) &&
            strcasecmp(br_creator_qualifier(cr, q), cr->contrib_type)) {
            snprintf(what, sizeof what, "%s: contributor type", who);
            lost(w, key, &cr->origin, NT, NULL,
                 "no SAF field for %s '%s' (written as dc.contributor.other)", what,
                 cr->contrib_type);
        }
        int named = nonempty(cr->family) || nonempty(cr->given) || nonempty(cr->middle);
        if (!cr->is_organization && named && nonempty(cr->display)) {
            snprintf(what, sizeof what, "%s: display name", who);
            lost(w, key, &cr->origin, NT, NULL, "no SAF field for %s '%s'", what, cr->display);
        }
    }
    static const struct {
        const char *label;
        size_t off;
    } LPARTS[] = {
        {"URL", offsetof(br_link, url)},
        {"title", offsetof(br_link, title)},
        {"description", offsetof(br_link, description)},
        {"type", offsetof(br_link, type)},
        {"licence", offsetof(br_link, license)},
        {"rights", offsetof(br_link, rights)},
        {"owner", offsetof(br_link, owner)},
        {"order", offsetof(br_link, order)},
        {"display in viewer", offsetof(br_link, display_in_viewer)},
    };
    for (size_t i = 0; i < rec->n_links; i++)
        for (size_t k = 0; k < BR_ARRAY_LEN(LPARTS); k++) {
            const char *s = *(const char *const *)((const char *)&rec->links[i] + LPARTS[k].off);
            if (!nonempty(s)) continue;
            snprintf(what, sizeof what, "LINK %zu: %s", i + 1, LPARTS[k].label);
            lost(w, key, &rec->links[i].origin, NT, NULL, "no SAF field for %s '%s'", what, s);
        }
    static const struct {
        const char *label;
        size_t off;
    } FPARTS[] = {
        {"licence", offsetof(br_bitstream, license)},
        {"rights", offsetof(br_bitstream, rights)},
        {"rights reason", offsetof(br_bitstream, rights_reason)},
        {"rights date", offsetof(br_bitstream, rights_date)},
        {"content type", offsetof(br_bitstream, content_type)},
        {"supplemental", offsetof(br_bitstream, supplemental)},
        {"order", offsetof(br_bitstream, order)},
    };
    for (size_t i = 0; i < rec->n_bs; i++)
        for (size_t k = 0; k < BR_ARRAY_LEN(FPARTS); k++) {
            const br_bitstream *b = &rec->bs[i];
            const char *s = *(const char *const *)((const char *)b + FPARTS[k].off);
            if (!nonempty(s)) continue;
            snprintf(what, sizeof what, "file '%.300s': %s", b->name, FPARTS[k].label);
            lost(w, key, &b->origin, NT, NULL, "no SAF field for %s '%s'", what, s);
        }
}

/* "<p>a</p><p>b</p>" -> "a\nb" (the Esploro CSV's paragraphs); other values stay.
 * Known ambiguity: a value that is itself "<p>a</p><p>b</p>" comes back as
 * two lines; the CSV has no way to tell formatting from text. */
static const char *unparagraph(br_record *rec, const char *v)
{
    size_t n = strlen(v);
    if (n < 7 || strncmp(v, "<p>", 3) || strcmp(v + n - 4, "</p>")) return v;
    br_buf b = {0};
    const char *p = v;
    int ok = 1;
    while (ok && *p) {
        if (strncmp(p, "<p>", 3)) {
            ok = 0;
            break;
        }
        p += 3;
        const char *e = strstr(p, "</p>");
        const char *inner = strstr(p, "<p>");
        if (!e || (inner && inner < e)) {
            ok = 0;
            break;
        }
        if ((b.len && br_buf_append(&b, "\n", 1)) || br_buf_append(&b, p, (size_t)(e - p))) ok = 0;
        p = e + 4;
    }
    const char *out = ok && b.p ? br_record_strn(rec, b.p, b.len) : ok ? "" : v;
    br_buf_dispose(&b);
    return out ? out : v;
}

/* A record from another format's input, made ready for SAF. */
static int prepare_input(br_writer *w, br_record *rec, const char *key)
{
    report_structured(w, rec, key);
    /* Files without local content (http(s) URLs) are not fetched: left out. */
    size_t kept = 0;
    for (size_t i = 0; i < rec->n_bs; i++) {
        br_bitstream *b = &rec->bs[i];
        if (!b->path) {
            lost(w, key, &b->origin, "convert.not-fetched",
                 "download it and give its path relative to the input",
                 "file '%s' is not fetched (%s): left out", b->name ? b->name : "",
                 b->url ? b->url : "no URL");
            continue;
        }
        rec->bs[kept] = *b;
        rec->bs[kept].sequence = (int)kept;
        kept++;
    }
    rec->n_bs = kept;
    /* The handle: esploro.asset.handle (where the crosswalk keeps it). */
    size_t out = 0;
    for (size_t i = 0; i < rec->n_md; i++) {
        br_mdv *v = &rec->md[i];
        if (!strcmp(v->schema, "esploro") && !strcmp(v->element, "asset") && v->qualifier &&
            !strcmp(v->qualifier, "handle") && !rec->handle && strchr(v->value, '/')) {
            rec->handle = v->value;
            continue;
        }
        v->value = unparagraph(rec, v->value);
        rec->md[out++] = *v;
    }
    rec->n_md = out;
    return br_record_derive_contributors(rec);
}

/* The folder of a record from another input: its key when that is a safe
 * folder name, else asset_<n>. */
static void folder_for(const char *key, size_t n, char *out, size_t size)
{
    if (key && *key && key[0] != '.' && !strchr(key, '/') && !br_path_unsafe(key) &&
        strlen(key) < size && strlen(key) < 200) {
        int ok = 1;
        for (const char *p = key; *p && ok; p++)
            ok = (unsigned char)*p > 0x20;
        if (ok) {
            br_strlcpy(out, key, size);
            return;
        }
    }
    snprintf(out, size, "asset_%zu", n);
}

/* ---- writing ----------------------------------------------------------------------------------
 */

/* Keeps the item's folder and handle, and its left relations for close. */
static int remember(br_writer *w, const char *folder, const br_record *rec)
{
    if (br_grow((void **)&w->items, &w->cap_items, w->n_items + 1, sizeof *w->items)) return -1;
    saf_item *it = &w->items[w->n_items];
    it->folder = br_arena_strndup(w->arena, folder, strlen(folder));
    it->handle = rec->handle && *rec->handle
                     ? br_arena_strndup(w->arena, rec->handle, strlen(rec->handle))
                     : NULL;
    if (!it->folder || (rec->handle && *rec->handle && !it->handle)) return -1;
    for (size_t i = 0; i < rec->n_rels; i++) {
        const br_relation *r = &rec->rels[i];
        if (!r->is_left || !r->target || !*r->target) continue;
        if (br_grow((void **)&w->rels, &w->cap_rels, w->n_rels + 1, sizeof *w->rels) ||
            br_grow((void **)&w->rel_item, &w->cap_rel_item, w->n_rels + 1, sizeof *w->rel_item))
            return -1;
        br_relation *c = &w->rels[w->n_rels];
        memset(c, 0, sizeof *c);
        c->is_left = 1;
        c->type = r->type ? br_arena_strndup(w->arena, r->type, strlen(r->type)) : NULL;
        c->target = br_arena_strndup(w->arena, r->target, strlen(r->target));
        if ((r->type && !c->type) || !c->target) return -1;
        w->rel_item[w->n_rels++] = w->n_items;
    }
    w->n_items++;
    return 0;
}

int br_saf_drv_write(br_writer *w, const char *key, br_record *rec, br_error *err)
{
    char folder[256], dir[PATH_SIZE];
    size_t n = w->n_items;
    int rc;
    if (w->opt.from_input) {
        if (prepare_input(w, rec, key)) return no_memory(err);
        folder_for(key, n + 1, folder, sizeof folder);
    } else {
        if (w->opt.seq > LONG_MAX - (long)n)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "-n %ld is too large for %zu items",
                                w->opt.seq, n + 1);
        snprintf(folder, sizeof folder, "%ld", w->opt.seq + (long)n);
        /* DSpace: "Directory <d>/<n> already exists!" (§3.1). */
        if (!w->opt.zip) {
            if (br_path_join(dir, sizeof dir, w->opt.dest, folder))
                return br_error_set(err, BR_ELIMIT, w->opt.dest, 0, 0, "path too long");
            if (path_exists(dir))
                return br_error_set(err, BR_EEXISTS, NULL, 0, 0,
                                    "directory %s already exists; choose another -n or destination",
                                    dir);
        }
    }
    if (br_path_join(dir, sizeof dir, w->direct ? w->opt.dest : w->stage, folder))
        return br_error_set(err, BR_ELIMIT, w->opt.dest, 0, 0, "path too long");
    /* The relationships are written at close, when every folder is known. */
    br_record view = *rec;
    view.n_rels = 0;
    br_saf_write_options so = {w->opt.migrate, w->opt.exclude_bitstreams, NULL, NULL};
    if ((rc = br_saf_write_item(dir, &view, &so, err))) {
        if (w->direct) br_rmtree(dir); /* the half-written folder */
        return rc;
    }
    if (remember(w, folder, rec)) return no_memory(err);
    w->stats->records++;
    w->stats->files += rec->n_bs;
    for (size_t j = 0; j < rec->n_bs; j++)
        if (!w->opt.exclude_bitstreams && rec->bs[j].path && rec->bs[j].size > 0)
            w->stats->bytes += (uint64_t)rec->bs[j].size;
    w->stats->key = w->items[n].folder;
    return 0;
}

static int cmp_item_handle(const void *a, const void *b)
{
    const saf_item *x = *(const saf_item *const *)a, *y = *(const saf_item *const *)b;
    return strcmp(x->handle, y->handle);
}

static const char *folder_of(void *ctx, const char *handle)
{
    const br_writer *w = ctx;
    saf_item key = {NULL, handle};
    const saf_item *pk = &key;
    const saf_item **hit =
        bsearch(&pk, w->by_handle, w->n_by_handle, sizeof *w->by_handle, cmp_item_handle);
    return hit ? (*hit)->folder : NULL;
}

/* Every item's relationships file, "folderName:" for the items in the package. */
static int write_relations(br_writer *w, br_error *err)
{
    if (!w->n_rels) return 0;
    w->by_handle = malloc(w->n_items * sizeof *w->by_handle);
    if (!w->by_handle) return no_memory(err);
    for (size_t i = 0; i < w->n_items; i++)
        if (w->items[i].handle) w->by_handle[w->n_by_handle++] = &w->items[i];
    qsort(w->by_handle, w->n_by_handle, sizeof *w->by_handle, cmp_item_handle);
    char dir[PATH_SIZE];
    for (size_t i = 0; i < w->n_rels;) {
        size_t end = i;
        while (end < w->n_rels && w->rel_item[end] == w->rel_item[i])
            end++;
        const saf_item *it = &w->items[w->rel_item[i]];
        if (br_path_join(dir, sizeof dir, w->direct ? w->opt.dest : w->stage, it->folder))
            return br_error_set(err, BR_ELIMIT, w->opt.dest, 0, 0, "path too long");
        int rc =
            br_saf_write_relationships(dir, it->handle, &w->rels[i], end - i, folder_of, w, err);
        if (rc) return rc;
        i = end;
    }
    return 0;
}

int br_saf_drv_writer_close(br_writer *w, br_error *err)
{
    if (!w) return 0;
    int rc = write_relations(w, err);
    if (rc) goto done;
    if (w->opt.zip) {
        /* No records: an empty archive still answers the request. */
        rc = br_zip_create(w->stage, w->zip_path, err);
    } else if (w->opt.from_input) {
        if (path_exists(w->opt.dest))
            rc = br_error_set(err, BR_EEXISTS, w->opt.dest, 0, 0, "the output already exists");
        else if (rename(w->stage, w->opt.dest))
            rc = br_error_set(err, BR_EIO, w->opt.dest, 0, 0, "cannot move into place: %s",
                              strerror(errno));
        else
            w->stage[0] = 0; /* it is the output now */
    }
done:
    if (!rc) w->closed = 1;
    br_saf_drv_writer_abort(w);
    return rc;
}

void br_saf_drv_writer_abort(br_writer *w)
{
    if (!w) return;
    if (w->stage[0]) br_rmtree(w->stage); /* only the folder mkdtemp made here */
    /* Written in place and not finished: the folders this export made go. */
    for (size_t i = 0; w->direct && !w->closed && i < w->n_items; i++) {
        char dir[PATH_SIZE];
        if (!br_path_join(dir, sizeof dir, w->opt.dest, w->items[i].folder)) br_rmtree(dir);
    }
    br_arena_free(w->arena);
    free(w->items);
    free(w->rels);
    free(w->rel_item);
    free(w->by_handle);
    free(w);
}
