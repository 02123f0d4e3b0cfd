/* The SAF package reader: item folders, dublin_core.xml / metadata_*.xml,
 * contents, handle, collections and relationships (notes/dspace-saf.md §1).
 *
 * It checks only what the package tells by itself; registry, collections,
 * handle uniqueness and relationship targets are the import pipeline's.
 * Every finding goes to the diag sink with "<folder>/<file>" and a line (and a
 * column where one is known).  Memory stays flat over a package: the per-item
 * buffers live in the package and are reused; the record's arena is reset.
 *
 * Files are reached through the item folder's descriptor with O_NOFOLLOW, one
 * path component at a time, so a symbolic link never takes a read outside the
 * item folder (CVE-2025-53622 is DSpace's version of that problem). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include "bulkrepo/saf.h"
#include "core/core.h"

/* Sub-folders of an item are listed this deep at most (contents may name
 * "images/p1.jpg"; nothing real nests deeper). */
#define MAX_SUBDIR_DEPTH 16

struct folder {
    char *name;
    int symlink; /* a symbolic link to a folder: listed so that the item fails */
};

/* One file below an item folder, from the listing. */
enum { ENT_FILE, ENT_LINK, ENT_OTHER };
struct entry {
    size_t off; /* name offset in pkg->names while listing */
    const char *name;
    int type;
};

/* Open-addressing set of strings (names listed in contents), with the line
 * each was first seen on. */
struct slot {
    const char *key;
    unsigned line;
};

struct br_saf_package {
    char *root;
    struct folder *folders;
    size_t n, cap;
    br_limits lim;
    /* per-item scratch, reused */
    br_buf text;
    br_buf xml;
    br_buf xml8; /* a document not in UTF-8, converted */
    br_buf names;
    struct entry *ents;
    size_t n_ents, cap_ents;
    struct slot *set;
    size_t set_cap, set_n;
};

/* The state of one br_saf_read_item call. */
typedef struct ictx {
    br_saf_package *pkg;
    const br_limits *lim;
    br_record *rec;
    br_diag_sink *diags;
    br_error *err;
    const char *folder;
    int dfd;
    int files_optional;
    int listing_capped;
    size_t errors;
} ictx;

static const char *const META_FILES[] = {"dublin_core.xml", "contents", "handle", "collections",
                                         "relationships"};

/* ---- small helpers ------------------------------------------------------- */

static void emit(ictx *c, br_severity sev, const char *src, unsigned line, unsigned col,
                 const char *rule, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static void emit(ictx *c, br_severity sev, const char *src, unsigned line, unsigned col,
                 const char *rule, const char *hint, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (sev == BR_SEV_ERROR) c->errors++;
    br_diag d = {sev, c->folder, src, line, col, NULL, rule, msg, hint};
    br_diag_emit(c->diags, &d);
}

static int oom(ictx *c)
{
    return br_error_set(c->err, BR_ENOMEM, c->folder, 0, 0, "out of memory");
}

static int has_prefix(const char *s, const char *p)
{
    return !strncmp(s, p, strlen(p));
}

static int is_metadata_xml(const char *name)
{
    /* DSpace's LocalSchemaFilenameFilter: ^metadata_.*.xml$ */
    size_t n = strlen(name);
    return has_prefix(name, "metadata_") && n >= 13 && !strcmp(name + n - 4, ".xml");
}

/* The files DSpace itself reads from an item folder (notes §1.4): they are
 * never bitstreams and never "unlisted". */
static int is_saf_file(const char *name)
{
    for (size_t i = 0; i < BR_ARRAY_LEN(META_FILES); i++)
        if (!strcmp(name, META_FILES[i])) return 1;
    return is_metadata_xml(name);
}

/* Hidden files and macOS archive debris are not part of a package. */
static int is_hidden(const char *name)
{
    return name[0] == '.' || !strcmp(name, "__MACOSX");
}

static int has_space(const char *s)
{
    for (; *s; s++)
        if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' || *s == '\f')
            return 1;
    return 0;
}

static const char *src_of(ictx *c, const char *file, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", c->folder, file);
    return buf;
}

/* ---- string set ------------------------------------------------------------ */

static void set_clear(br_saf_package *p)
{
    /* A huge item must not make every later item pay for clearing its table. */
    if (p->set_cap > 4096) {
        free(p->set);
        p->set = NULL;
        p->set_cap = 0;
    } else if (p->set) {
        memset(p->set, 0, p->set_cap * sizeof *p->set);
    }
    p->set_n = 0;
}

static struct slot *set_find(br_saf_package *p, const char *key)
{
    if (!p->set_cap) return NULL;
    size_t mask = p->set_cap - 1;
    for (size_t i = br_fnv1a_str(key) & mask;; i = (i + 1) & mask) {
        if (!p->set[i].key) return &p->set[i];
        if (!strcmp(p->set[i].key, key)) return &p->set[i];
    }
}

/* Adds key (which must outlive the item); returns the existing slot when it
 * was there already, a new slot otherwise, NULL on out-of-memory. */
static struct slot *set_add(br_saf_package *p, const char *key, unsigned line, int *existed)
{
    if ((p->set_n + 1) * 2 > p->set_cap) {
        size_t cap = p->set_cap ? p->set_cap * 2 : 64;
        struct slot *old = p->set;
        size_t old_cap = p->set_cap;
        p->set = calloc(cap, sizeof *p->set);
        if (!p->set) {
            p->set = old;
            return NULL;
        }
        p->set_cap = cap;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].key) *set_find(p, old[i].key) = old[i];
        free(old);
    }
    struct slot *s = set_find(p, key);
    *existed = s->key != NULL;
    if (!s->key) {
        s->key = key;
        s->line = line;
        p->set_n++;
    }
    return s;
}

/* ---- package ------------------------------------------------------------- */

static int folder_cmp(const void *a, const void *b)
{
    return br_natcmp(((const struct folder *)a)->name, ((const struct folder *)b)->name);
}

void br_saf_close(br_saf_package *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->n; i++)
        free(p->folders[i].name);
    free(p->folders);
    free(p->root);
    br_buf_dispose(&p->text);
    br_buf_dispose(&p->xml);
    br_buf_dispose(&p->xml8);
    br_buf_dispose(&p->names);
    free(p->ents);
    free(p->set);
    free(p);
}

int br_saf_open(const char *dir, const br_limits *lim, br_diag_sink *diags, br_saf_package **out,
                br_error *err)
{
    if (!dir || !out)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_saf_open: missing argument");
    *out = NULL;
    int rc = 0;
    DIR *d = NULL;
    br_saf_package *p = calloc(1, sizeof *p);
    if (!p) return br_error_set(err, BR_ENOMEM, dir, 0, 0, "out of memory");
    if (lim)
        p->lim = *lim;
    else
        br_limits_default(&p->lim);

    p->root = realpath(dir, NULL);
    if (!p->root) {
        rc = br_error_set(err, errno == ENOENT ? BR_ENOTFOUND : BR_EIO, dir, 0, 0,
                          "cannot open the package folder: %s", strerror(errno));
        goto done;
    }
    d = opendir(p->root);
    if (!d) {
        rc = br_error_set(err, errno == ENOTDIR ? BR_EINVAL : BR_EIO, dir, 0, 0,
                          "cannot open the package folder: %s", strerror(errno));
        goto done;
    }
    /* The same sink contract as items: a note per skipped folder. */
    ictx c = {.pkg = p, .diags = diags};
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *name = e->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW)) continue; /* vanished */
        int is_link = S_ISLNK(st.st_mode);
        if (is_link) {
            /* A link to a folder is reported (by read_item), never followed;
             * links to files are plain files: ignored, as DSpace does. */
            if (fstatat(dirfd(d), name, &st, 0) || !S_ISDIR(st.st_mode)) continue;
        } else if (!S_ISDIR(st.st_mode)) {
            continue; /* plain files at the top are not items (notes §1.1) */
        }
        if (is_hidden(name)) {
            c.folder = name;
            emit(&c, BR_SEV_NOTE, name, 0, 0, "saf.folder.skipped", NULL,
                 !strcmp(name, "__MACOSX") ? "'%s' is skipped: macOS archive metadata, not an item"
                                           : "'%s' is skipped: hidden folder, not an item",
                 name);
            continue;
        }
        if (p->n >= p->lim.max_items) {
            rc = br_error_set(err, BR_ELIMIT, dir, 0, 0,
                              "the package holds more than %zu item folders", p->lim.max_items);
            goto done;
        }
        if (br_grow((void **)&p->folders, &p->cap, p->n + 1, sizeof *p->folders)) {
            rc = br_error_set(err, BR_ENOMEM, dir, 0, 0, "out of memory");
            goto done;
        }
        p->folders[p->n].name = strdup(name);
        p->folders[p->n].symlink = is_link;
        if (!p->folders[p->n].name) {
            rc = br_error_set(err, BR_ENOMEM, dir, 0, 0, "out of memory");
            goto done;
        }
        p->n++;
    }
    if (p->n == 0) {
        rc = br_error_set(err, BR_EINVAL, dir, 0, 0, "the package holds no item folders");
        goto done;
    }
    qsort(p->folders, p->n, sizeof *p->folders, folder_cmp);
    /* libxml2 wants its one-time setup done before the first parse. */
    xmlInitParser();
    *out = p;
    p = NULL;
done:
    if (d) closedir(d);
    br_saf_close(p);
    return rc;
}

const char *br_saf_root(const br_saf_package *p)
{
    return p ? p->root : NULL;
}

size_t br_saf_count(const br_saf_package *p)
{
    return p ? p->n : 0;
}

const char *br_saf_folder(const br_saf_package *p, size_t i)
{
    return p && i < p->n ? p->folders[i].name : NULL;
}

long br_saf_find(const br_saf_package *p, const char *folder)
{
    if (!p || !folder) return -1;
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = br_natcmp(p->folders[mid].name, folder);
        if (c == 0) return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* br_natcmp is a total order on distinct names, but be exact regardless. */
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->folders[i].name, folder)) return (long)i;
    return -1;
}

/* ---- item folder listing ------------------------------------------------------ */

static int add_entry(ictx *c, const char *prefix, const char *name, int type)
{
    br_saf_package *p = c->pkg;
    if (br_grow((void **)&p->ents, &p->cap_ents, p->n_ents + 1, sizeof *p->ents)) return oom(c);
    size_t off = p->names.len;
    if ((*prefix && (br_buf_puts(&p->names, prefix) || br_buf_append(&p->names, "/", 1))) ||
        br_buf_append(&p->names, name, strlen(name) + 1))
        return oom(c);
    p->ents[p->n_ents].off = off;
    p->ents[p->n_ents].type = type;
    p->n_ents++;
    return 0;
}

/* Lists every file below the folder open at fd (which it closes), names
 * relative to the item folder; hidden files are left out, links not followed. */
static int list_dir(ictx *c, int fd, const char *prefix, int depth)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return br_error_set(c->err, BR_EIO, c->folder, 0, 0, "cannot list '%s': %s",
                            *prefix ? prefix : c->folder, strerror(errno));
    }
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        const char *name = e->d_name;
        if (!strcmp(name, ".") || !strcmp(name, "..") || is_hidden(name)) continue;
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW)) continue;
        if (c->pkg->n_ents >= c->lim->max_entries) {
            if (!c->listing_capped)
                emit(c, BR_SEV_ERROR, c->folder, 0, 0, "saf.limit", NULL,
                     "the item folder holds more than %llu files",
                     (unsigned long long)c->lim->max_entries);
            c->listing_capped = 1;
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            char sub[PATH_MAX];
            int n = *prefix ? snprintf(sub, sizeof sub, "%s/%s", prefix, name)
                            : snprintf(sub, sizeof sub, "%s", name);
            if (n < 0 || (size_t)n >= sizeof sub || depth >= MAX_SUBDIR_DEPTH) {
                emit(c, BR_SEV_WARNING, c->folder, 0, 0, "saf.folder.depth", NULL,
                     "'%s/%s' nests too deep: not looked at", prefix, name);
                continue;
            }
            int sfd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sfd < 0) continue;
            rc = list_dir(c, sfd, sub, depth + 1);
        } else {
            rc = add_entry(c, prefix, name,
                           S_ISREG(st.st_mode)   ? ENT_FILE
                           : S_ISLNK(st.st_mode) ? ENT_LINK
                                                 : ENT_OTHER);
        }
    }
    closedir(d);
    return rc;
}

static int ent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static int list_item(ictx *c)
{
    br_saf_package *p = c->pkg;
    p->n_ents = 0;
    br_buf_clear(&p->names);
    int fd = openat(c->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return br_error_set(c->err, BR_EIO, c->folder, 0, 0, "cannot list the item folder: %s",
                            strerror(errno));
    int rc = list_dir(c, fd, "", 0);
    if (rc) return rc;
    for (size_t i = 0; i < p->n_ents; i++)
        p->ents[i].name = p->names.p + p->ents[i].off;
    if (p->n_ents) qsort(p->ents, p->n_ents, sizeof *p->ents, ent_cmp);
    return 0;
}

/* ---- reading small files ------------------------------------------------------- */

/* Whether the item folder's listing has `name`.  When the listing is complete
 * this saves an open() per absent optional file (handle, collections, ...),
 * which is most of a validation's system calls. */
static int listed(const ictx *c, const char *name)
{
    if (c->listing_capped) return 1;
    size_t lo = 0, hi = c->pkg->n_ents;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int d = strcmp(c->pkg->ents[mid].name, name);
        if (!d) return 1;
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* A file with more than one hard link may be a file from outside the package
 * linked in (a link needs no access to its target's folder): it is refused,
 * as symbolic links are.  A package copied with `cp -al` or `ln` is refused
 * too (docs/limits.md): copy it with cp or rsync. */
static void hardlink_error(ictx *c, const char *src, unsigned line, const char *name,
                           const struct stat *st)
{
    emit(c, BR_SEV_ERROR, src, line, 0, "saf.file.hardlink",
         "copy the file into the item folder (cp or rsync, not ln or cp -al)",
         "'%s' has %lu hard links: a file linked from outside the package is not read", name,
         (unsigned long)st->st_nlink);
}

/* Reads the item file `name` (at most max bytes) into out, NUL-terminated.
 * Returns 1 when read, 0 when absent, BR_EINVAL after reporting why it cannot
 * be used, other negatives on I/O failure. */
static int read_member(ictx *c, const char *name, const char *src, uint64_t max, br_buf *out)
{
    if (!listed(c, name)) return 0;
    int fd = openat(c->dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0;
        if (errno == ELOOP) {
            emit(c, BR_SEV_ERROR, src, 0, 0, "saf.file.symlink", NULL,
                 "'%s' is a symbolic link (links are not followed)", name);
            return BR_EINVAL;
        }
        return br_error_set(c->err, BR_EIO, src, 0, 0, "cannot open: %s", strerror(errno));
    }
    int rc = 1;
    struct stat st;
    if (fstat(fd, &st)) {
        rc = br_error_set(c->err, BR_EIO, src, 0, 0, "cannot stat: %s", strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        emit(c, BR_SEV_ERROR, src, 0, 0, "saf.file.type", NULL, "'%s' is %s, not a file", name,
             S_ISDIR(st.st_mode) ? "a folder" : "a special file");
        rc = BR_EINVAL;
        goto done;
    }
    if (st.st_nlink > 1) {
        hardlink_error(c, src, 0, name, &st);
        rc = BR_EINVAL;
        goto done;
    }
    if ((uint64_t)st.st_size > max) {
        emit(c, BR_SEV_ERROR, src, 0, 0, "saf.limit", NULL,
             "'%s' is %lld bytes, more than the %llu allowed", name, (long long)st.st_size,
             (unsigned long long)max);
        rc = BR_EINVAL;
        goto done;
    }
    br_buf_clear(out);
    if (br_buf_reserve(out, (size_t)st.st_size + 1)) {
        rc = oom(c);
        goto done;
    }
    for (;;) {
        if (out->len > max) {
            emit(c, BR_SEV_ERROR, src, 0, 0, "saf.limit", NULL,
                 "'%s' is more than the %llu bytes allowed", name, (unsigned long long)max);
            rc = BR_EINVAL;
            goto done;
        }
        if (br_buf_reserve(out, 65536)) {
            rc = oom(c);
            goto done;
        }
        ssize_t n = read(fd, out->p + out->len, out->cap - out->len - 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = br_error_set(c->err, BR_EIO, src, 0, 0, "read failed: %s", strerror(errno));
            goto done;
        }
        if (n == 0) break;
        out->len += (size_t)n;
    }
    out->p[out->len] = 0;
done:
    close(fd);
    return rc;
}

/* A text file must be UTF-8 without NUL bytes.  Returns 0 or BR_EINVAL. */
static int check_text(ictx *c, const char *src, const char *s, size_t n)
{
    const char *nul = memchr(s, 0, n);
    if (nul) {
        unsigned line, col;
        br_text_position(s, (size_t)(nul - s), &line, &col);
        emit(c, BR_SEV_ERROR, src, line, col, "saf.utf8", NULL,
             "the file holds a NUL byte: it is not a text file");
        return BR_EINVAL;
    }
    size_t bad = 0;
    if (br_utf8_check(s, n, &bad)) {
        unsigned line, col;
        br_text_position(s, bad, &line, &col);
        emit(c, BR_SEV_ERROR, src, line, col, "saf.utf8", "save the file as UTF-8",
             "invalid UTF-8 (byte 0x%02X)", (unsigned char)s[bad]);
        return BR_EINVAL;
    }
    return 0;
}

/* Iterates the lines of a NUL-terminated buffer in place (LF or CRLF). */
typedef struct lines {
    char *p, *end;
    unsigned no;
} lines;

static void lines_init(lines *it, br_buf *b)
{
    it->p = b->p;
    it->end = b->p + b->len;
    it->no = 0;
    /* A UTF-8 byte order mark (Windows editors) is not part of the first line. */
    if (b->len >= 3 && !memcmp(it->p, "\xEF\xBB\xBF", 3)) it->p += 3;
}

static char *next_line(lines *it, size_t *len)
{
    if (it->p >= it->end) return NULL;
    char *s = it->p;
    char *nl = memchr(s, '\n', (size_t)(it->end - s));
    char *e = nl ? nl : it->end;
    it->p = nl ? nl + 1 : it->end;
    if (e > s && e[-1] == '\r') e--;
    *e = 0;
    it->no++;
    *len = (size_t)(e - s);
    return s;
}

/* Reads a small text file and checks its encoding; 1 read, 0 absent, negatives as read_member. */
static int read_text(ictx *c, const char *name, const char *src, br_buf *out)
{
    int rc = read_member(c, name, src, c->lim->max_text_file, out);
    if (rc <= 0) return rc;
    if (check_text(c, src, out->p, out->len)) return BR_EINVAL;
    return 1;
}

/* Line length cap; 1 when the line may be used. */
static int line_ok(ictx *c, const char *src, unsigned no, size_t len)
{
    if (len <= c->lim->max_line) return 1;
    emit(c, BR_SEV_ERROR, src, no, 0, "saf.limit", NULL,
         "the line is %zu bytes, more than the %zu allowed", len, c->lim->max_line);
    return 0;
}

/* Reads the item's text file `name` (src gets "<folder>/<name>") and starts
 * iterating its lines; returns as read_text. */
static int open_lines(ictx *c, const char *name, char src[PATH_MAX], lines *it)
{
    int rc = read_text(c, name, src_of(c, name, src, PATH_MAX), &c->pkg->text);
    if (rc > 0) lines_init(it, &c->pkg->text);
    return rc;
}

/* ---- metadata XML ------------------------------------------------------------ */

/* What libxml2 reports for a parse: the first error (its later ones are
 * mostly consequences) and the next few messages, each with its place; and
 * whether the document tried to declare a DTD.  Nothing libxml2 says is
 * printed: its handlers are ours for the parse (install_xml_handlers). */
#define XML_MAX_MESSAGES 8
typedef struct xml_msg {
    int code;
    int warning;
    unsigned line, col;
    char text[512];
} xml_msg;

typedef struct xml_state {
    int have; /* an error (not a warning) is among msgs */
    xml_msg first;
    xml_msg msgs[XML_MAX_MESSAGES];
    int n_msgs;
    int dropped;
    int doctype;
    int doctype_line;
} xml_state;

static void on_xml_error(void *data, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = data;
    xml_state *st = ctxt ? ctxt->_private : NULL;
    if (!st || !e) return;
    xml_msg m = {.code = e->code, .warning = e->level == XML_ERR_WARNING};
    m.line = e->line > 0 ? (unsigned)e->line : 0;
    m.col = e->int2 > 0 ? (unsigned)e->int2 : 0;
    /* Errors raised without the context (encoding, I/O) carry no place:
     * the parser's position is where it stood. */
    if (!m.line && ctxt->input && ctxt->input->line > 0) {
        m.line = (unsigned)ctxt->input->line;
        m.col = ctxt->input->col > 0 ? (unsigned)ctxt->input->col : 0;
    }
    br_strlcpy(m.text, e->message ? e->message : "parse error", sizeof m.text);
    size_t n = strlen(m.text);
    while (n && (m.text[n - 1] == '\n' || m.text[n - 1] == ' '))
        m.text[--n] = 0;
    if (!m.warning && !st->have) {
        st->have = 1;
        st->first = m;
        return;
    }
    if (st->n_msgs < XML_MAX_MESSAGES)
        st->msgs[st->n_msgs++] = m;
    else
        st->dropped++;
}

/* libxml2 reports some errors (encoding, I/O, memory) without the parser
 * context, through its per-thread handlers, whose default prints to stderr.
 * For the parse those come to on_xml_error (with the context) and the
 * generic channel says nothing; the old handlers are put back after. */
typedef struct xml_handlers {
    xmlStructuredErrorFunc serror;
    void *sctx;
    xmlGenericErrorFunc generic;
    void *gctx;
} xml_handlers;

static void quiet_generic(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static void install_xml_handlers(xml_handlers *old, xmlParserCtxtPtr ctxt)
{
    old->serror = xmlStructuredError;
    old->sctx = xmlStructuredErrorContext;
    old->generic = xmlGenericError;
    old->gctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(ctxt, on_xml_error);
    xmlSetGenericErrorFunc(NULL, quiet_generic);
}

static void restore_xml_handlers(const xml_handlers *old)
{
    xmlSetStructuredErrorFunc(old->sctx, old->serror);
    xmlSetGenericErrorFunc(old->gctx, old->generic);
}

/* Called when the parser meets <!DOCTYPE, before any of the internal subset is
 * read: stop there, so no entity is ever declared, let alone loaded.  The
 * prolog scan catches DOCTYPEs first; this covers encodings it cannot read. */
static void on_doctype(void *data, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
    xmlParserCtxtPtr ctxt = data;
    xml_state *st = ctxt->_private;
    if (st) {
        st->doctype = 1;
        st->doctype_line = ctxt->input ? ctxt->input->line : 0;
    }
    xmlStopParser(ctxt);
}

/* Offset of a "<!DOCTYPE" in the prolog (before the root element), or -1. */
static long find_doctype(const char *s, size_t n)
{
    size_t i = 0;
    if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) i = 3;
    while (i < n) {
        char ch = s[i];
        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            i++;
            continue;
        }
        if (ch != '<' || i + 1 >= n) return -1;
        if (s[i + 1] == '?') {
            const char *e = memmem(s + i + 2, n - i - 2, "?>", 2);
            if (!e) return -1;
            i = (size_t)(e - s) + 2;
        } else if (n - i >= 4 && !memcmp(s + i, "<!--", 4)) {
            const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
            if (!e) return -1;
            i = (size_t)(e - s) + 3;
        } else if (n - i >= 9 && !strncasecmp(s + i, "<!DOCTYPE", 9)) {
            return (long)i;
        } else {
            return -1; /* the root element */
        }
    }
    return -1;
}

/* The encoding of a metadata XML file, found as libxml2 finds it: a
 * byte-order mark, the first bytes, else the declaration's encoding name. */
enum { ENC_UTF8, ENC_UTF16LE, ENC_UTF16BE, ENC_NAMED, ENC_UNREADABLE };

static int is_xml_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* name gets the declared encoding (ENC_NAMED), *at the offset of its name;
 * *skip the bytes of a byte-order mark not to convert. */
static int xml_encoding(const char *s, size_t n, char *name, size_t size, size_t *at, size_t *skip)
{
    const unsigned char *u = (const unsigned char *)s;
    *skip = 0;
    *at = 0;
    name[0] = 0;
    if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) return ENC_UTF8;
    if (n >= 2 && u[0] == 0xFF && u[1] == 0xFE) {
        if (n >= 4 && !u[2] && !u[3]) return ENC_UNREADABLE; /* UCS-4 LE */
        *skip = 2;
        return ENC_UTF16LE;
    }
    if (n >= 2 && u[0] == 0xFE && u[1] == 0xFF) {
        *skip = 2;
        return ENC_UTF16BE;
    }
    if (n >= 4) {
        if (u[0] == '<' && !u[1] && u[2] && !u[3]) return ENC_UTF16LE;
        if (!u[0] && u[1] == '<' && !u[2] && u[3]) return ENC_UTF16BE;
        if ((!u[0] && !u[1]) || (!u[2] && !u[3])) return ENC_UNREADABLE; /* UCS-4 */
        if (u[0] == 0x4C && u[1] == 0x6F && u[2] == 0xA7 && u[3] == 0x94)
            return ENC_UNREADABLE; /* EBCDIC */
    }
    if (n < 6 || memcmp(s, "<?xml", 5) || !is_xml_space(s[5])) return ENC_UTF8;
    const char *e = memmem(s, n, "?>", 2);
    if (!e) return ENC_UTF8;
    size_t dl = (size_t)(e - s);
    const char *enc = memmem(s, dl, "encoding", 8);
    if (!enc) return ENC_UTF8;
    const char *q = enc + 8;
    while (q < e && (is_xml_space(*q) || *q == '='))
        q++;
    if (q >= e || (*q != '"' && *q != '\'')) return ENC_UTF8; /* the parser reports it */
    char quote = *q++;
    const char *qe = memchr(q, quote, (size_t)(e - q));
    if (!qe) return ENC_UTF8;
    size_t len = (size_t)(qe - q);
    *at = (size_t)(q - s);
    if (!len || len >= size) return ENC_UNREADABLE;
    for (size_t i = 0; i < len; i++) {
        char ch = q[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.' || ch == ':'))
            return ENC_UNREADABLE;
    }
    memcpy(name, q, len);
    name[len] = 0;
    if (!strcasecmp(name, "UTF-8") || !strcasecmp(name, "UTF8")) return ENC_UTF8;
    return ENC_NAMED;
}

/* Converts a document that is not in UTF-8 to UTF-8 (into pkg->xml8) with
 * iconv, so that every later check (NUL bytes, the DOCTYPE scan, the
 * attribute pre-scan) and the parse see the characters libxml2 would, and a
 * byte that is not in the encoding is reported at its line and column.
 * *out is the UTF-8 text.  Returns 0, BR_EINVAL after reporting, or a
 * negative code. */
static int xml_to_utf8(ictx *c, const char *src, const br_buf *b, const char **out, size_t *outlen)
{
    char name[48];
    size_t at, skip;
    int kind = xml_encoding(b->p, b->len, name, sizeof name, &at, &skip);
    *out = b->p;
    *outlen = b->len;
    if (kind == ENC_UTF8) return 0;
    if (kind == ENC_UNREADABLE) {
        unsigned line = 1, col = 1;
        if (at) br_text_position(b->p, at, &line, &col);
        emit(c, BR_SEV_ERROR, src, at ? line : 0, at ? col : 0, "saf.xml.encoding",
             "save the file as UTF-8",
             at ? "the encoding name is not one that can be read"
                : "the file is in UCS-4 or EBCDIC, which are not read");
        return BR_EINVAL;
    }
    const char *from = kind == ENC_UTF16LE ? "UTF-16LE" : kind == ENC_UTF16BE ? "UTF-16BE" : name;
    if (kind == ENC_NAMED && !strncasecmp(name, "UTF-16", 6)) {
        /* libxml2: "Document labelled UTF-16 but has UTF-8 content". */
        unsigned line, col;
        br_text_position(b->p, at, &line, &col);
        emit(c, BR_SEV_ERROR, src, line, col, "saf.xml.encoding", "save the file as UTF-8",
             "the declaration says %s, but the file is not in UTF-16 (no byte-order mark)", name);
        return BR_EINVAL;
    }
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1) {
        unsigned line, col;
        br_text_position(b->p, at, &line, &col);
        emit(c, BR_SEV_ERROR, src, line, col, "saf.xml.encoding", "save the file as UTF-8",
             "encoding '%s' is not known", name);
        return BR_EINVAL;
    }
    br_buf *u = &c->pkg->xml8;
    br_buf_clear(u);
    int rc = 0;
    char *in = b->p + skip;
    size_t left = b->len - skip;
    /* 4 bytes of UTF-8 at most per input byte; most need far less. */
    uint64_t max = (uint64_t)c->lim->max_xml_size * 4 + 16;
    while (left) {
        if (br_buf_reserve(u, left * 2 + 64)) {
            rc = oom(c);
            goto done;
        }
        char *o = u->p + u->len;
        size_t room = u->cap - u->len - 1;
        size_t r = iconv(cd, &in, &left, &o, &room);
        u->len = (size_t)(o - u->p);
        if (r != (size_t)-1) break;
        if (errno == E2BIG && u->len < max) continue;
        unsigned line, col;
        u->p[u->len] = 0;
        br_text_position(u->p, u->len, &line, &col);
        if (errno == E2BIG)
            emit(c, BR_SEV_ERROR, src, 0, 0, "saf.limit", NULL,
                 "the file is too large once converted to UTF-8");
        else if (errno == EINVAL)
            emit(c, BR_SEV_ERROR, src, line, col, "saf.xml.encoding", "save the file as UTF-8",
                 "the file ends inside a character (%s)", from);
        else
            emit(c, BR_SEV_ERROR, src, line, col, "saf.xml.encoding", "save the file as UTF-8",
                 "byte 0x%02X is not a character in %s", (unsigned char)*in, from);
        rc = BR_EINVAL;
        goto done;
    }
    if (br_buf_reserve(u, 1)) {
        rc = oom(c);
        goto done;
    }
    u->p[u->len] = 0;
    *out = u->p;
    *outlen = u->len;
done:
    iconv_close(cd);
    return rc;
}

/* Counts the attributes of every start tag and measures their values before
 * libxml2 sees the document (libxml2 2.9 checks an element's attributes
 * against each other: 200,000 of them took 91 s).  One linear pass:
 * comments, CDATA sections, processing instructions and end tags are
 * skipped; what is not well-formed is left for the parser to report.
 * Returns 0, or BR_EINVAL after reporting the first attribute over a cap. */
static int prescan_xml(ictx *c, const char *src, const char *s, size_t n)
{
    unsigned max_attrs = c->lim->max_xml_attributes ? c->lim->max_xml_attributes : 64;
    size_t max_len = c->lim->max_xml_attribute ? c->lim->max_xml_attribute : 4096;
    size_t i = 0;
    while (i < n) {
        const char *lt = memchr(s + i, '<', n - i);
        if (!lt) break;
        i = (size_t)(lt - s) + 1;
        if (i >= n) break;
        const char *stop = NULL, *e = NULL;
        if (s[i] == '!' || s[i] == '?') {
            if (s[i] == '?')
                stop = "?>";
            else if (n - i >= 3 && !memcmp(s + i, "!--", 3))
                stop = "-->";
            else if (n - i >= 8 && !memcmp(s + i, "![CDATA[", 8))
                stop = "]]>";
            else
                stop = ">"; /* <!DOCTYPE: refused before this */
            e = memmem(s + i + 1, n - i - 1, stop, strlen(stop));
            if (!e) break;
            i = (size_t)(e - s) + strlen(stop);
            continue;
        }
        if (s[i] == '/') continue; /* an end tag holds no attributes */
        const char *tag = s + i;
        while (i < n && !is_xml_space(s[i]) && s[i] != '>' && s[i] != '/' && s[i] != '<')
            i++;
        int tag_len = (int)((s + i - tag) > 100 ? 100 : (s + i - tag));
        unsigned count = 0;
        for (;;) {
            while (i < n && is_xml_space(s[i]))
                i++;
            if (i >= n || s[i] == '>' || s[i] == '/' || s[i] == '<') break;
            size_t an = i;
            while (i < n && !is_xml_space(s[i]) && s[i] != '=' && s[i] != '>' && s[i] != '/' &&
                   s[i] != '<')
                i++;
            int an_len = (int)(i - an > 100 ? 100 : i - an);
            while (i < n && is_xml_space(s[i]))
                i++;
            if (i >= n || s[i] != '=') break;
            i++;
            while (i < n && is_xml_space(s[i]))
                i++;
            if (i >= n || (s[i] != '"' && s[i] != '\'')) break;
            char quote = s[i++];
            const char *qe = memchr(s + i, quote, n - i);
            if (!qe) return 0; /* unterminated: the parser says where */
            size_t vlen = (size_t)(qe - (s + i));
            unsigned line, col;
            if (++count > max_attrs) {
                br_text_position(s, an, &line, &col);
                emit(c, BR_SEV_ERROR, src, line, col, "saf.limit", NULL,
                     "<%.*s> has more than %u attributes", tag_len, tag, max_attrs);
                return BR_EINVAL;
            }
            if (vlen > max_len) {
                br_text_position(s, an, &line, &col);
                emit(c, BR_SEV_ERROR, src, line, col, "saf.limit", NULL,
                     "attribute '%.*s' of <%.*s> is %zu bytes, more than the %zu allowed", an_len,
                     s + an, tag_len, tag, vlen, max_len);
                return BR_EINVAL;
            }
            i = (size_t)(qe - s) + 1;
        }
    }
    return 0;
}

static void xml_trim(char *s)
{
    br_trim(s);
}

/* Element, qualifier and schema names: one name, no dots or spaces. */
static const char *bad_name(const char *s)
{
    if (!*s) return "is empty";
    for (const char *p = s; *p; p++) {
        if (*p == '.') return "contains a '.'";
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') return "contains a space";
        if (*p == ':') return "contains a ':'";
    }
    return NULL;
}

/* Copies attribute `name` of node, trimmed, into buf: 1 when copied, 0 when
 * absent, -1 when it does not fit (reported as an error at the node's line:
 * a value is never cut), -2 out of memory. */
static int attr(ictx *c, const char *src, xmlNodePtr node, const char *name, char *buf, size_t size)
{
    buf[0] = 0;
    xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
    if (!v) return 0;
    char *t = br_trim((char *)v);
    size_t len = strlen(t);
    if (len >= size) {
        emit(c, BR_SEV_ERROR, src, (unsigned)xmlGetLineNo(node), 0, "saf.xml.attribute", NULL,
             "the %s attribute of <%s> is %zu bytes, more than the %zu allowed", name,
             (const char *)node->name, len, size - 1);
        xmlFree(v);
        return -1;
    }
    memcpy(buf, t, len + 1);
    xmlFree(v);
    return 1;
}

static int depth_exceeded(xmlNodePtr root, unsigned max, unsigned *line)
{
    unsigned depth = 1;
    xmlNodePtr n = root;
    while (n) {
        if (n->type == XML_ELEMENT_NODE && depth > max) {
            *line = (unsigned)xmlGetLineNo(n);
            return 1;
        }
        if (n->children && n->type == XML_ELEMENT_NODE) {
            n = n->children;
            depth++;
            continue;
        }
        while (n && !n->next && n != root) {
            n = n->parent;
            depth--;
        }
        if (!n || n == root) break;
        n = n->next;
    }
    return 0;
}

/* One <dcvalue>: becomes a metadata value, or a relation for schema "relation". */
static int read_dcvalue(ictx *c, xmlNodePtr node, const char *schema, const char *src,
                        const char *origin_src)
{
    unsigned line = (unsigned)xmlGetLineNo(node);
    char element[256], qualifier[256], language[256];
    int rc = 0;
    char *nfc = NULL;
    xmlChar *content = NULL;

    for (xmlAttrPtr a = node->properties; a; a = a->next) {
        const char *an = (const char *)a->name;
        if (strcmp(an, "element") && strcmp(an, "qualifier") && strcmp(an, "language"))
            emit(c, BR_SEV_WARNING, src, line, 0, "saf.xml.attribute",
                 !strcmp(an, "lang") || !strcmp(an, "xml:lang") ? "did you mean 'language'?" : NULL,
                 "unknown attribute '%s' of <dcvalue> is ignored", an);
    }
    int ra = attr(c, src, node, "element", element, sizeof element);
    if (ra < 0) return 0;
    if (!ra || !element[0]) {
        emit(c, BR_SEV_ERROR, src, line, 0, "saf.xml.attribute", NULL,
             "<dcvalue> has no element attribute");
        return 0;
    }
    const char *why = bad_name(element);
    if (why) {
        emit(c, BR_SEV_ERROR, src, line, 0, "saf.xml.attribute",
             strchr(element, '.') ? "put the part after the dot in the qualifier attribute" : NULL,
             "element '%s' %s", element, why);
        return 0;
    }
    if (attr(c, src, node, "qualifier", qualifier, sizeof qualifier) < 0) return 0;
    /* DSpace: qualifier "none" or empty means no qualifier (notes §1.2). */
    if (!strcmp(qualifier, "none")) qualifier[0] = 0;
    if (qualifier[0] && (why = bad_name(qualifier))) {
        emit(c, BR_SEV_ERROR, src, line, 0, "saf.xml.attribute", NULL, "qualifier '%s' %s",
             qualifier, why);
        return 0;
    }
    if (attr(c, src, node, "language", language, sizeof language) < 0) return 0;

    for (xmlNodePtr k = node->children; k; k = k->next)
        if (k->type == XML_ELEMENT_NODE) {
            emit(c, BR_SEV_WARNING, src, (unsigned)xmlGetLineNo(k), 0, "saf.xml.markup", NULL,
                 "<dcvalue element=\"%s\"> holds markup (<%s>): only its text is used", element,
                 (const char *)k->name);
            break;
        }
    /* All the text, CDATA included (DSpace takes only a first text node). */
    content = xmlNodeGetContent(node);
    if (!content) return oom(c);
    xml_trim((char *)content);
    if (!content[0]) {
        emit(c, BR_SEV_NOTE, src, line, 0, "saf.xml.empty-value", NULL,
             "%s.%s%s%s has an empty value: skipped", schema, element, qualifier[0] ? "." : "",
             qualifier);
        goto done;
    }
    const char *value = (const char *)content;
    const unsigned char *u = content;
    while (*u && *u < 0x80)
        u++;
    if (*u) {
        /* ASCII is already NFC: normalise only what can change. */
        if (!(nfc = br_utf8_nfc(value))) {
            rc = oom(c);
            goto done;
        }
        value = nfc;
    }
    size_t len = strlen(value);
    if (len > c->lim->max_field) {
        emit(c, BR_SEV_ERROR, src, line, 0, "saf.limit", NULL,
             "the value of %s.%s%s%s is %zu bytes, more than the %zu allowed", schema, element,
             qualifier[0] ? "." : "", qualifier, len, c->lim->max_field);
        goto done;
    }
    if (!strcmp(schema, "relation")) {
        /* metadata_relation.xml: DSpace makes a relationship of type `element`
         * to the item VALUE names (notes §1.2), not a metadata value. */
        br_relation *r = br_record_add_relation(c->rec, element, value);
        if (!r) {
            rc = oom(c);
            goto done;
        }
        r->origin = (br_origin){origin_src, line, 0};
    } else {
        br_mdv *v = br_record_add_md(c->rec, schema, element, qualifier, language, value);
        if (!v) {
            rc = oom(c);
            goto done;
        }
        v->origin = (br_origin){origin_src, line, 0};
    }
done:
    free(nfc);
    xmlFree(content);
    return rc;
}

/* Reads one dublin_core.xml / metadata_*.xml.  Returns 0 (problems reported)
 * or a negative code on I/O failure; absent files are the caller's business. */
static int read_xml(ictx *c, const char *name)
{
    char srcbuf[PATH_MAX];
    const char *src = src_of(c, name, srcbuf, sizeof srcbuf);
    br_buf *b = &c->pkg->xml;
    int rc = read_member(c, name, src, c->lim->max_xml_size, b);
    if (rc == 0) {
        emit(c, BR_SEV_ERROR, src, 0, 0, "saf.dublin_core.missing", NULL, "'%s' is missing", name);
        return 0;
    }
    if (rc < 0) return rc == BR_EINVAL ? 0 : rc;
    rc = 0;

    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    xml_state st;
    memset(&st, 0, sizeof st);
    const char *text;
    size_t len;

    if ((rc = xml_to_utf8(c, src, b, &text, &len))) {
        rc = rc == BR_EINVAL ? 0 : rc;
        goto done;
    }
    if (len > INT_MAX) { /* libxml2 takes an int length */
        emit(c, BR_SEV_ERROR, src, 0, 0, "saf.limit", NULL, "'%s' is too large to parse", name);
        goto done;
    }
    if (check_text(c, src, text, len)) goto done;
    long dt = find_doctype(text, len);
    if (dt >= 0) {
        unsigned line, col;
        br_text_position(text, (size_t)dt, &line, &col);
        emit(c, BR_SEV_ERROR, src, line, col, "saf.xml.doctype",
             "remove the <!DOCTYPE ...> declaration",
             "DOCTYPE is not allowed (external entities are never loaded)");
        goto done;
    }
    if (prescan_xml(c, src, text, len)) goto done;

    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        rc = oom(c);
        goto done;
    }
    /* Errors come to us through the context: the SAX structured-error slot
     * gets ctxt->userData, which is the context; those raised without it go
     * to the thread's handlers, ours for the parse. */
    ctxt->_private = &st;
    ctxt->sax->serror = on_xml_error;
    ctxt->sax->internalSubset = on_doctype;
    ctxt->sax->externalSubset = NULL;
    /* No NOENT (no entity substitution), no DTDLOAD, no HUGE, no network.
     * The text is UTF-8 now, whatever the declaration says. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES |
               XML_PARSE_IGNORE_ENC;
    xml_handlers saved;
    install_xml_handlers(&saved, ctxt);
    doc = xmlCtxtReadMemory(ctxt, text, (int)len, NULL, "UTF-8", opts);
    restore_xml_handlers(&saved);
    if (st.doctype || (doc && (doc->intSubset || doc->extSubset))) {
        emit(c, BR_SEV_ERROR, src, (unsigned)st.doctype_line, 0, "saf.xml.doctype",
             "remove the <!DOCTYPE ...> declaration",
             "DOCTYPE is not allowed (external entities are never loaded)");
        goto done;
    }
    int failed = !doc || !ctxt->wellFormed;
    if (failed && !st.have) {
        xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
        if (e && e->level != XML_ERR_WARNING) on_xml_error(ctxt, e);
    }
    if (failed) {
        if (st.first.code == XML_ERR_INVALID_ENCODING)
            emit(c, BR_SEV_ERROR, src, st.first.line, st.first.col, "saf.utf8", NULL,
                 "invalid UTF-8: %s", st.first.text);
        else
            emit(c, BR_SEV_ERROR, src, st.first.line, st.first.col, "saf.xml.malformed", NULL,
                 "malformed XML: %s", st.have ? st.first.text : "the document cannot be parsed");
    } else if (st.have) {
        /* An error libxml2 recovers from (a namespace prefix not declared). */
        emit(c, BR_SEV_WARNING, src, st.first.line, st.first.col, "saf.xml.parser", NULL, "%s",
             st.first.text);
    }
    /* The rest of what libxml2 said: warnings, and what followed the first error. */
    for (int k = 0; k < st.n_msgs; k++)
        emit(c, st.msgs[k].warning || !failed ? BR_SEV_WARNING : BR_SEV_NOTE, src, st.msgs[k].line,
             st.msgs[k].col, "saf.xml.parser", NULL, "%s", st.msgs[k].text);
    if (st.dropped)
        emit(c, BR_SEV_NOTE, src, 0, 0, "saf.xml.parser", NULL, "and %d more parser message%s",
             st.dropped, st.dropped == 1 ? "" : "s");
    if (failed) goto done;

    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "dublin_core")) {
        emit(c, BR_SEV_ERROR, src, root ? (unsigned)xmlGetLineNo(root) : 0, 0, "saf.xml.root", NULL,
             "the root element is <%s>, not <dublin_core>", root ? (const char *)root->name : "");
        goto done;
    }
    unsigned dline = 0, max_depth = c->lim->max_xml_depth ? c->lim->max_xml_depth : 32;
    if (depth_exceeded(root, max_depth, &dline)) {
        emit(c, BR_SEV_ERROR, src, dline, 0, "saf.limit", NULL,
             "elements nest deeper than %u levels", max_depth);
        goto done;
    }
    char schema[256];
    /* Schema from the root's schema attribute, default dc; the file name is
     * not used (notes §1.2, point 4). */
    int ra = attr(c, src, root, "schema", schema, sizeof schema);
    if (ra < 0) goto done;
    if (!ra || !schema[0]) br_strlcpy(schema, "dc", sizeof schema);
    const char *why = bad_name(schema);
    if (why) {
        emit(c, BR_SEV_ERROR, src, (unsigned)xmlGetLineNo(root), 0, "saf.xml.attribute", NULL,
             "schema '%s' %s", schema, why);
        goto done;
    }
    const char *origin_src = br_record_str(c->rec, src);
    if (!origin_src) {
        rc = oom(c);
        goto done;
    }
    for (xmlNodePtr n = root->children; n && !rc; n = n->next) {
        if (n->type == XML_ELEMENT_NODE) {
            if (!strcmp((const char *)n->name, "dcvalue"))
                rc = read_dcvalue(c, n, schema, src, origin_src);
            else
                emit(c, BR_SEV_WARNING, src, (unsigned)xmlGetLineNo(n), 0,
                     "saf.xml.unknown-element", NULL,
                     "unknown element <%s> is ignored (expected <dcvalue>)", (const char *)n->name);
        } else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            const char *t = (const char *)n->content;
            while (t && *t && strchr(" \t\r\n", *t))
                t++;
            if (t && *t)
                emit(c, BR_SEV_WARNING, src, (unsigned)xmlGetLineNo(n), 0,
                     "saf.xml.unknown-element", NULL, "text outside <dcvalue> is ignored");
        }
    }
done:
    if (doc) xmlFreeDoc(doc);
    if (ctxt) xmlFreeParserCtxt(ctxt);
    return rc;
}

/* ---- contents --------------------------------------------------------------- */

/* Looks at rel below the item folder without following any link: fills st
 * (lstat of the last component).  Returns 0 or an errno value; ELOOP when a
 * folder on the way is a link. */
static int stat_member(int dfd, const char *rel, struct stat *st)
{
    char tmp[PATH_MAX];
    if (br_strlcpy(tmp, rel, sizeof tmp) >= sizeof tmp) return ENAMETOOLONG;
    int fd = dfd;
    char *p = tmp;
    for (;;) {
        char *slash = strchr(p, '/');
        if (!slash) break;
        *slash = 0;
        int nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        if (nfd < 0 && (e == ENOTDIR || e == ELOOP)) {
            /* Linux says ENOTDIR for a link opened with O_DIRECTORY|O_NOFOLLOW. */
            struct stat ls;
            e = !fstatat(fd, p, &ls, AT_SYMLINK_NOFOLLOW) && S_ISLNK(ls.st_mode) ? ELOOP : ENOENT;
        }
        if (fd != dfd) close(fd);
        if (nfd < 0) return e;
        fd = nfd;
        p = slash + 1;
    }
    int r = fstatat(fd, p, st, AT_SYMLINK_NOFOLLOW) ? errno : 0;
    if (fd != dfd) close(fd);
    return r;
}

/* A name that differs from `name` only by case or Unicode normalisation, from
 * the listing; NULL when there is none. */
static const char *loose_match(ictx *c, const char *name)
{
    for (size_t i = 0; i < c->pkg->n_ents; i++) {
        const char *e = c->pkg->ents[i].name;
        if (strcmp(e, name) && br_utf8_loose_equal(e, name)) return e;
    }
    return NULL;
}

/* The value of one option: trimmed copy into the record. */
static const char *opt_value(ictx *c, const char *v)
{
    char *tmp = strdup(v);
    if (!tmp) return NULL;
    const char *s = br_record_str(c->rec, br_trim(tmp));
    free(tmp);
    return s;
}

static int parse_int_opt(const char *v, int *out)
{
    char *end;
    while (*v == ' ')
        v++;
    if (!*v) return -1;
    errno = 0;
    long n = strtol(v, &end, 10);
    while (*end == ' ')
        end++;
    if (errno || *end || n <= 0 || n > INT_MAX) return -1;
    *out = (int)n;
    return 0;
}

/* permissions:-r 'Group name' | -w 'Group name' | -r Group name (notes §1.3). */
static int parse_permissions(ictx *c, br_bitstream *bs, const char *val, const char *src,
                             unsigned line)
{
    char tmp[1024];
    br_strlcpy(tmp, val, sizeof tmp);
    br_trim(tmp);
    char flag = tmp[0] == '-' ? tmp[1] : 0;
    if ((flag != 'r' && flag != 'w') || (tmp[2] != ' ' && tmp[2] != '\'' && tmp[2] != 0)) {
        emit(c, BR_SEV_ERROR, src, line, 0, "saf.contents.option", "write -r 'Group' or -w 'Group'",
             "permissions:%s: the flag must be -r (read) or -w (write)", val);
        return 0;
    }
    char *g = tmp + 2;
    while (*g == ' ')
        g++;
    if (*g == '\'') {
        char *q = strchr(g + 1, '\'');
        if (!q) {
            emit(c, BR_SEV_ERROR, src, line, 0, "saf.contents.option", NULL,
                 "permissions:%s: the group name has no closing quote", val);
            return 0;
        }
        *q = 0;
        g++;
    }
    br_trim(g);
    if (!*g) {
        emit(c, BR_SEV_ERROR, src, line, 0, "saf.contents.option", NULL,
             "permissions:%s: no group is named", val);
        return 0;
    }
    const char *s = br_record_str(c->rec, g);
    if (!s) return oom(c);
    if (flag == 'r')
        bs->read_group = s;
    else
        bs->write_group = s;
    return 0;
}

enum { O_BUNDLE, O_PERMS, O_DESC, O_PRIMARY, O_LABEL, O_TOC, O_WIDTH, O_HEIGHT, O_COUNT };
static const char *const OPT_KEYS[O_COUNT] = {"bundle",     "permissions", "description",
                                              "primary",    "iiif-label",  "iiif-toc",
                                              "iiif-width", "iiif-height"};

/* The options after the file name: "\t<key>:<value>" in any order, first
 * occurrence wins (DSpace finds each by substring search). */
static int parse_options(ictx *c, br_bitstream *bs, char *opts, const char *src, unsigned line)
{
    int seen[O_COUNT] = {0};
    char *p = opts;
    while (p) {
        char *tab = strchr(p, '\t');
        if (tab) *tab = 0;
        char *seg = p;
        p = tab ? tab + 1 : NULL;
        if (!*seg || strspn(seg, " ") == strlen(seg)) continue; /* stray tab */
        char *colon = strchr(seg, ':');
        int k = -1;
        if (colon) {
            *colon = 0;
            for (int i = 0; i < O_COUNT; i++)
                if (!strcmp(seg, OPT_KEYS[i])) k = i;
        }
        if (k < 0) {
            emit(c, BR_SEV_WARNING, src, line, 0, "saf.contents.option",
                 "known options: bundle:, permissions:, description:, primary:true, iiif-label:, "
                 "iiif-toc:, iiif-width:, iiif-height:",
                 "unknown option '%s%s' for '%s' is ignored", seg, colon ? ":" : "", bs->name);
            continue;
        }
        const char *val = colon + 1;
        if (seen[k]++) {
            emit(c, BR_SEV_WARNING, src, line, 0, "saf.contents.option", NULL,
                 "option %s: is given twice for '%s': the first is used", OPT_KEYS[k], bs->name);
            continue;
        }
        int rc = 0;
        const char *s;
        switch (k) {
        case O_BUNDLE:
            if (!(s = opt_value(c, val))) return oom(c);
            if (!*s || has_space(s))
                emit(c, BR_SEV_ERROR, src, line, 0, "saf.contents.option", NULL,
                     "bundle:%s: not a bundle name", val);
            else
                bs->bundle = s;
            break;
        case O_PERMS:
            rc = parse_permissions(c, bs, val, src, line);
            break;
        case O_DESC:
            if (!(s = opt_value(c, val))) return oom(c);
            bs->description = *s ? s : NULL;
            break;
        case O_PRIMARY: {
            /* DSpace looks for "\tprimary:true"; a trailing space is tolerated. */
            char tmp[64];
            br_strlcpy(tmp, val, sizeof tmp);
            br_trim(tmp);
            if (!strcmp(tmp, "true"))
                bs->primary = 1;
            else if (strcmp(tmp, "false"))
                emit(c, BR_SEV_WARNING, src, line, 0, "saf.contents.option", NULL,
                     "primary:%s is ignored: only primary:true has a meaning", val);
            break;
        }
        case O_LABEL:
            if (!(s = opt_value(c, val))) return oom(c);
            bs->iiif_label = *s ? s : NULL;
            break;
        case O_TOC:
            if (!(s = opt_value(c, val))) return oom(c);
            bs->iiif_toc = *s ? s : NULL;
            break;
        case O_WIDTH:
        case O_HEIGHT:
            if (parse_int_opt(val, k == O_WIDTH ? &bs->iiif_width : &bs->iiif_height))
                emit(c, BR_SEV_ERROR, src, line, 0, "saf.contents.option", NULL,
                     "%s:%s: not a positive whole number", OPT_KEYS[k], val);
            break;
        }
        if (rc) return rc;
    }
    return 0;
}

/* Checks that the listed file is there as a plain file inside the item folder
 * and sets bs->path. */
static int check_listed_file(ictx *c, br_bitstream *bs, const char *src, unsigned line)
{
    const char *name = bs->name;
    struct stat st;
    int e = stat_member(c->dfd, name, &st);
    if (e == ENOENT) {
        char hint[1200];
        const char *other = loose_match(c, name);
        char trimmed[1100];
        br_strlcpy(trimmed, name, sizeof trimmed);
        br_trim(trimmed);
        if (other) {
            snprintf(hint, sizeof hint, "a file named '%s' is there: names must match exactly",
                     other);
            emit(c, c->files_optional ? BR_SEV_WARNING : BR_SEV_ERROR, src, line, 0,
                 "saf.contents.case-mismatch", hint, "'%s' is listed but not in the item folder",
                 name);
        } else if (c->files_optional) {
            /* -x packages: listed, not supplied (notes §3.5). */
        } else if (strcmp(trimmed, name) && !stat_member(c->dfd, trimmed, &st)) {
            snprintf(hint, sizeof hint,
                     "a file named '%s' is there: the line has spaces around the name", trimmed);
            emit(c, BR_SEV_ERROR, src, line, 0, "saf.contents.missing-file", hint,
                 "'%s' is listed but not in the item folder", name);
        } else {
            emit(c, BR_SEV_ERROR, src, line, 0, "saf.contents.missing-file", NULL,
                 "'%s' is listed but not in the item folder", name);
        }
        return 0;
    }
    if (e == ELOOP) {
        emit(c, BR_SEV_ERROR, src, line, 0, "saf.contents.symlink", NULL,
             "'%s' goes through a symbolic link (links are not followed)", name);
        return 0;
    }
    if (e == ENAMETOOLONG) {
        emit(c, BR_SEV_ERROR, src, line, 0, "saf.contents.path", NULL, "'%s': the name is too long",
             name);
        return 0;
    }
    if (e)
        return br_error_set(c->err, BR_EIO, src, line, 0, "cannot look at '%s': %s", name,
                            strerror(e));
    if (S_ISLNK(st.st_mode)) {
        emit(c, BR_SEV_ERROR, src, line, 0, "saf.contents.symlink",
             "copy the file into the item folder",
             "'%s' is a symbolic link (links are not followed)", name);
        return 0;
    }
    if (!S_ISREG(st.st_mode)) {
        emit(c, BR_SEV_ERROR, src, line, 0, "saf.contents.not-file", NULL, "'%s' is %s, not a file",
             name, S_ISDIR(st.st_mode) ? "a folder" : "a special file");
        return 0;
    }
    if (st.st_nlink > 1) {
        hardlink_error(c, src, line, name, &st);
        return 0;
    }
    if ((uint64_t)st.st_size > c->lim->max_file_size) {
        emit(c, BR_SEV_ERROR, src, line, 0, "saf.limit", NULL,
             "'%s' is %lld bytes, more than the %llu allowed", name, (long long)st.st_size,
             (unsigned long long)c->lim->max_file_size);
        return 0;
    }
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s/%s", c->pkg->root, c->folder, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        emit(c, BR_SEV_ERROR, src, line, 0, "saf.contents.path", NULL, "'%s': the path is too long",
             name);
        return 0;
    }
    if (!(bs->path = br_record_str(c->rec, path))) return oom(c);
    return 0;
}

static int read_contents(ictx *c, int *present)
{
    char src[PATH_MAX];
    lines it;
    int rc = open_lines(c, "contents", src, &it);
    /* 1: read; -1: there but unusable (reported), so no "unlisted" noise; 0: absent */
    *present = rc == 0 ? 0 : rc == BR_EINVAL ? -1 : 1;
    if (rc <= 0) return rc == BR_EINVAL ? 0 : rc;
    const char *origin_src = br_record_str(c->rec, src);
    if (!origin_src) return oom(c);

    char *s;
    size_t len;
    while ((s = next_line(&it, &len))) {
        if (!line_ok(c, src, it.no, len)) continue;
        char *t = s;
        while (*t == ' ' || *t == '\t')
            t++;
        if (!*t) continue; /* blank lines are skipped (DSpace: trim().isEmpty) */
        if (!strncmp(t, "-r ", 3) || !strcmp(t, "-r")) {
            emit(c, BR_SEV_ERROR, src, it.no, 0, "saf.contents.registered", NULL,
                 "registered bitstreams (-r -s -f) are not supported: copy the file into the item "
                 "folder");
            continue;
        }
        char *tab = strchr(s, '\t');
        if (tab) *tab = 0;
        /* The name is everything before the first TAB, untrimmed (notes §1.3). */
        const char *why = br_path_unsafe(s);
        if (why) {
            emit(c, BR_SEV_ERROR, src, it.no, 0, "saf.contents.path", NULL, "'%s': %s", s, why);
            continue;
        }
        const char *name = br_record_str(c->rec, s);
        if (!name) return oom(c);
        int existed = 0;
        struct slot *sl = set_add(c->pkg, name, it.no, &existed);
        if (!sl) return oom(c);
        if (existed) {
            emit(c, BR_SEV_ERROR, src, it.no, 0, "saf.contents.duplicate", NULL,
                 "'%s' is listed twice (first on line %u)", name, sl->line);
            continue;
        }
        if (is_saf_file(name))
            emit(c, BR_SEV_WARNING, src, it.no, 0, "saf.contents.saf-file", NULL,
                 "'%s' is a SAF control file: it is also stored as a bitstream", name);
        br_bitstream *bs = br_record_add_bitstream(c->rec, name);
        if (!bs) return oom(c);
        bs->name = name;
        /* DSpace's default: ORIGINAL, but license.txt goes to LICENSE. */
        bs->bundle = !strcmp(name, "license.txt") ? "LICENSE" : "ORIGINAL";
        bs->origin = (br_origin){origin_src, it.no, 0};
        if (tab && (rc = parse_options(c, bs, tab + 1, src, it.no))) return rc;
        if ((rc = check_listed_file(c, bs, src, it.no))) return rc;
    }
    return 0;
}

/* With no contents file the item is metadata-only, allowed only when nothing
 * but metadata files is there (notes §1.4). */
static void check_metadata_only(ictx *c)
{
    for (size_t i = 0; i < c->pkg->n_ents; i++) {
        const char *n = c->pkg->ents[i].name;
        if (is_saf_file(n)) continue;
        char srcbuf[PATH_MAX];
        emit(c, BR_SEV_ERROR, src_of(c, "contents", srcbuf, sizeof srcbuf), 0, 0,
             "saf.contents.missing", "list the files in a contents file, one per line",
             "no contents file, but the folder holds other files ('%s')", n);
        return;
    }
}

static void check_unlisted(ictx *c)
{
    char srcbuf[PATH_MAX];
    const char *src = src_of(c, "contents", srcbuf, sizeof srcbuf);
    for (size_t i = 0; i < c->pkg->n_ents; i++) {
        const struct entry *e = &c->pkg->ents[i];
        if (is_saf_file(e->name)) continue;
        struct slot *s = set_find(c->pkg, e->name);
        if (s && s->key) continue;
        emit(c, BR_SEV_WARNING, src, 0, 0, "saf.contents.unlisted", NULL,
             "'%s' is not listed in contents, not imported", e->name);
    }
}

/* ---- handle, collections, relationships --------------------------------------------- */

/* PREFIX/SUFFIX: the prefix is dot-separated runs of letters and digits
 * (123456789, 20.500.12345), the suffix letters, digits and . _ - (not
 * starting with a dot, no ".."): no second slash, space, control character or
 * anything a path or a URL would read differently. */
static int handle_ok(const char *s)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/')) return 0;
    int prev_dot = 1;
    for (const char *p = s; p < slash; p++) {
        int alnum =
            (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z');
        if (*p == '.' && !prev_dot)
            prev_dot = 1;
        else if (alnum)
            prev_dot = 0;
        else
            return 0;
    }
    if (prev_dot) return 0;
    const char *sfx = slash + 1;
    if (sfx[0] == '.' || strstr(sfx, "..")) return 0;
    for (const char *p = sfx; *p; p++) {
        int ok = (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                 *p == '.' || *p == '_' || *p == '-';
        if (!ok) return 0;
    }
    return 1;
}

static int read_handle(ictx *c)
{
    char src[PATH_MAX];
    lines it;
    int rc = open_lines(c, "handle", src, &it);
    if (rc <= 0) return rc == BR_EINVAL ? 0 : rc;
    char *s;
    size_t len;
    while ((s = next_line(&it, &len))) {
        if (!line_ok(c, src, it.no, len)) return 0;
        br_trim(s);
        if (!*s) continue;
        /* Only the first line counts: DSpace's replace appends the old handle. */
        if (!handle_ok(s)) {
            emit(c, BR_SEV_ERROR, src, it.no, 0, "saf.handle.syntax",
                 "write the handle as PREFIX/SUFFIX, e.g. 123456789/42", "'%s' is not a handle", s);
            return 0;
        }
        if (!(c->rec->handle = br_record_str(c->rec, s))) return oom(c);
        return 0;
    }
    emit(c, BR_SEV_WARNING, src, 0, 0, "saf.handle.empty", NULL,
         "the handle file is empty: a new handle will be assigned");
    return 0;
}

static int read_collections(ictx *c)
{
    char src[PATH_MAX];
    lines it;
    int rc = open_lines(c, "collections", src, &it);
    if (rc <= 0) return rc == BR_EINVAL ? 0 : rc;
    char *s;
    size_t len;
    size_t before = c->rec->n_collections;
    int any = 0;
    while ((s = next_line(&it, &len))) {
        if (!line_ok(c, src, it.no, len)) {
            any = 1;
            continue;
        }
        /* Trimmed, blank lines skipped: DSpace issue #8592. */
        br_trim(s);
        if (!*s) continue;
        any = 1;
        if (has_space(s)) {
            emit(c, BR_SEV_ERROR, src, it.no, 0, "saf.collections.syntax",
                 "one collection handle or UUID per line",
                 "'%s' is not a collection handle or UUID", s);
            continue;
        }
        int dup = 0;
        for (size_t i = before; i < c->rec->n_collections; i++)
            if (!strcmp(c->rec->collections[i], s)) dup = 1;
        if (dup) {
            emit(c, BR_SEV_WARNING, src, it.no, 0, "saf.collections.duplicate", NULL,
                 "collection '%s' is listed twice", s);
            continue;
        }
        if (br_record_add_collection(c->rec, s)) return oom(c);
    }
    if (!any)
        emit(c, BR_SEV_ERROR, src, 0, 0, "saf.collections.empty",
             "name the owning collection's handle on the first line, or remove the file",
             "collections file is empty");
    return 0;
}

static int read_relationships(ictx *c)
{
    char src[PATH_MAX];
    lines it;
    int rc = open_lines(c, "relationships", src, &it);
    if (rc <= 0) return rc == BR_EINVAL ? 0 : rc;
    const char *origin_src = br_record_str(c->rec, src);
    if (!origin_src) return oom(c);
    char *s;
    size_t len;
    br_buf target = {0}, keyb = {0}; /* keyb: "type\037target", the duplicate check's key */
    size_t max_rels = c->lim->max_relationships ? c->lim->max_relationships : 10000;
    size_t dups = 0;
    rc = 0;
    /* The contents set is done with: it now holds "type\037target" keys. */
    set_clear(c->pkg);
    while ((s = next_line(&it, &len))) {
        if (!line_ok(c, src, it.no, len)) continue;
        br_trim(s);
        if (!*s) continue;
        /* relation.<type> <identifier> (notes §1.7). */
        char *type = s;
        char *sp = type + strcspn(type, " \t");
        char *id = sp;
        if (*sp) {
            *sp = 0;
            id = sp + 1;
            br_trim(id);
        }
        if (!*id) {
            emit(c, BR_SEV_ERROR, src, it.no, 0, "saf.relationships.syntax",
                 "write 'relation.<type> <handle|uuid|folderName:item|schema.element:value>'",
                 "'%s' names no related item", s);
            continue;
        }
        if (has_prefix(type, "relation.")) type += strlen("relation.");
        if (!*type || strchr(type, '.')) {
            emit(c, BR_SEV_ERROR, src, it.no, 0, "saf.relationships.syntax",
                 "write 'relation.<type> <item>', e.g. relation.isAuthorOfPublication "
                 "folderName:item_001",
                 "'%s' is not a relationship type", s);
            continue;
        }
        br_buf_clear(&target);
        if (has_prefix(id, "rowName:") || has_prefix(id, "folderName:")) {
            /* rowName: (CSV batch edit's word) is an alias of folderName:. */
            const char *f = strchr(id, ':') + 1;
            if (!*f) {
                emit(c, BR_SEV_ERROR, src, it.no, 0, "saf.relationships.syntax", NULL,
                     "'%s' names no folder", id);
                continue;
            }
            if (!strcmp(f, c->folder)) {
                emit(c, BR_SEV_ERROR, src, it.no, 0, "saf.relationships.self", NULL,
                     "'%s' is this item itself", id);
                continue;
            }
            if (br_buf_puts(&target, "folderName:") || br_buf_puts(&target, f)) {
                rc = oom(c);
                goto done;
            }
        } else {
            const char *colon = strchr(id, ':');
            if (colon) {
                /* schema.element[.qualifier]:value, the other reference with ':'. */
                char field[256], sc[64], el[64], q[64];
                size_t fl = (size_t)(colon - id);
                if (fl >= sizeof field) fl = sizeof field - 1;
                memcpy(field, id, fl);
                field[fl] = 0;
                if (br_field_parse(field, sc, el, q)) {
                    emit(c, BR_SEV_ERROR, src, it.no, 0, "saf.relationships.syntax",
                         "references are a handle, a UUID, folderName:<folder> or "
                         "schema.element[.qualifier]:value",
                         "bad metadata field in reference: '%s' (expected syntax is "
                         "schema.element[.qualifier])",
                         field);
                    continue;
                }
                const char *v = colon + 1;
                while (*v == ' ')
                    v++;
                if (!*v) {
                    emit(c, BR_SEV_ERROR, src, it.no, 0, "saf.relationships.syntax", NULL,
                         "'%s' has no value after the field", id);
                    continue;
                }
            }
            if (br_buf_puts(&target, id)) {
                rc = oom(c);
                goto done;
            }
        }
        /* The same relationship twice is one relationship: a warning, not a
         * second row (a file of 50,000 copies of one line stays one). */
        br_buf_clear(&keyb);
        if (br_buf_puts(&keyb, type) || br_buf_append(&keyb, "\037", 1) ||
            br_buf_puts(&keyb, target.p)) {
            rc = oom(c);
            goto done;
        }
        struct slot *seen = set_find(c->pkg, keyb.p);
        if (seen && seen->key) {
            if (dups++ < 10)
                emit(c, BR_SEV_WARNING, src, it.no, 0, "saf.relationships.duplicate", NULL,
                     "relation.%s %s is listed twice (first on line %u): read once", type, target.p,
                     seen->line);
            continue;
        }
        const char *key = br_record_str(c->rec, keyb.p);
        int existed = 0;
        if (!key || !set_add(c->pkg, key, it.no, &existed)) {
            rc = oom(c);
            goto done;
        }
        if (c->rec->n_rels >= max_rels) {
            emit(c, BR_SEV_ERROR, src, it.no, 0, "saf.limit", NULL,
                 "the item has more than %zu relationships", max_rels);
            break;
        }
        br_relation *r = br_record_add_relation(c->rec, type, target.p);
        if (!r) {
            rc = oom(c);
            goto done;
        }
        r->origin = (br_origin){origin_src, it.no, 0};
    }
    if (dups > 10)
        emit(c, BR_SEV_WARNING, src, 0, 0, "saf.relationships.duplicate", NULL,
             "%zu more duplicate lines: each read once", dups - 10);
    rc = 0;
done:
    br_buf_dispose(&target);
    br_buf_dispose(&keyb);
    return rc;
}

/* ---- the item ---------------------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int read_item(ictx *c)
{
    br_saf_package *p = c->pkg;
    int rc;
    if ((rc = list_item(c))) return rc;

    if ((rc = read_xml(c, "dublin_core.xml"))) return rc;
    /* metadata_*.xml in name order (DSpace: File.listFiles order, unspecified). */
    size_t n_meta = 0;
    for (size_t i = 0; i < p->n_ents; i++)
        if (!strchr(p->ents[i].name, '/') && is_metadata_xml(p->ents[i].name)) n_meta++;
    if (n_meta) {
        const char **meta = malloc(n_meta * sizeof *meta);
        if (!meta) return oom(c);
        size_t k = 0;
        for (size_t i = 0; i < p->n_ents; i++)
            if (!strchr(p->ents[i].name, '/') && is_metadata_xml(p->ents[i].name))
                meta[k++] = p->ents[i].name;
        qsort(meta, n_meta, sizeof *meta, name_cmp);
        for (size_t i = 0; i < n_meta && !rc; i++)
            rc = read_xml(c, meta[i]);
        free(meta);
        if (rc) return rc;
    }

    int have_contents = 0;
    if ((rc = read_contents(c, &have_contents))) return rc;
    if (have_contents == 0)
        check_metadata_only(c);
    else if (have_contents > 0 && !c->listing_capped)
        check_unlisted(c);
    if ((rc = read_handle(c))) return rc;
    if ((rc = read_collections(c))) return rc;
    if ((rc = read_relationships(c))) return rc;
    return 0;
}

int br_saf_read_item(br_saf_package *p, size_t i, const br_saf_read_options *opt, br_record *rec,
                     br_diag_sink *diags, br_error *err)
{
    if (!p || !rec || i >= p->n)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_saf_read_item: bad arguments");
    br_record_reset(rec);
    const char *folder = p->folders[i].name;
    ictx c = {.pkg = p,
              .lim = opt && opt->limits ? opt->limits : &p->lim,
              .rec = rec,
              .diags = diags,
              .err = err,
              .folder = folder,
              .dfd = -1,
              .files_optional = opt ? opt->files_optional : 0};
    set_clear(p);
    int rc = 0;
    if (!(rec->key = br_record_str(rec, folder))) return oom(&c);

    size_t bad;
    if (br_utf8_check(folder, strlen(folder), &bad)) {
        emit(&c, BR_SEV_ERROR, folder, 0, 0, "saf.utf8", "rename the folder",
             "the folder name is not valid UTF-8 (byte 0x%02X)", (unsigned char)folder[bad]);
        goto done;
    }
    const char *why = br_path_unsafe(folder);
    if (why) {
        emit(&c, BR_SEV_ERROR, folder, 0, 0, "saf.folder.name", "rename the folder",
             "the folder name is not usable: %s", why);
        goto done;
    }
    if (p->folders[i].symlink) {
        emit(&c, BR_SEV_ERROR, folder, 0, 0, "saf.folder.symlink",
             "copy the item folder into the package",
             "'%s' is a symbolic link to a folder (links are not followed)", folder);
        goto done;
    }
    char path[PATH_MAX];
    if (br_path_join(path, sizeof path, p->root, folder)) {
        emit(&c, BR_SEV_ERROR, folder, 0, 0, "saf.folder.name", NULL,
             "the folder's path is too long");
        goto done;
    }
    c.dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (c.dfd < 0) {
        if (errno == ELOOP || errno == ENOTDIR) {
            emit(&c, BR_SEV_ERROR, folder, 0, 0, "saf.folder.symlink", NULL,
                 "'%s' is not a folder (links are not followed)", folder);
            goto done;
        }
        rc = br_error_set(err, errno == ENOENT ? BR_ENOTFOUND : BR_EIO, folder, 0, 0,
                          "cannot open the item folder: %s", strerror(errno));
        goto done;
    }
    rc = read_item(&c);
done:
    if (c.dfd >= 0) close(c.dfd);
    set_clear(p);
    if (rc) return rc;
    if (c.errors)
        return br_error_set(err, BR_EINVAL, folder, 0, 0,
                            "the item has %zu problem%s (see the findings)", c.errors,
                            c.errors == 1 ? "" : "s");
    return 0;
}
