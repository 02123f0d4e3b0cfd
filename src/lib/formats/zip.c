/* Zip packages (libzip): safe extraction and deterministic creation.
 *
 * Extraction treats the archive as hostile: every entry name is checked
 * before anything is written (no "..", no absolute path, no backslash, no
 * link or special file), files are created only below dest_dir with
 * O_EXCL|O_NOFOLLOW through descriptors opened one component at a time, and
 * the caps are enforced on the bytes actually inflated as they are written
 * (declared sizes are checked first too, but never trusted).  The expansion
 * ratio is held per entry and for the whole archive: the bytes inflated so
 * far against the zip file's own size (a number no header can lie about), so
 * many small entries of zeros are refused like one large one.  A failed
 * extraction removes every file and folder it created.
 * DSpace's counterpart and its root heuristic: notes/dspace-saf.md §2.8. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>
#include "bulkrepo/saf.h"
#include "core/core.h"

/* Entries, and archives, that inflate to less than this are not held to the
 * ratio cap: small text files (an XML of repeated values) legitimately
 * compress 100:1 and more; a bomb needs size to do harm. */
#define RATIO_MIN_BYTES (1024u * 1024u)

/* What an extraction created below dest_dir, in order, so that a failure can
 * take it away again: names (relative to dest_dir) one after the other in
 * `names`, each starting at off[i]; dir[i] says a folder. */
typedef struct created {
    br_buf names;
    size_t *off;
    unsigned char *dir;
    size_t n, cap, cap_dir;
    int failed; /* out of memory while recording: the undo is incomplete */
} created;

static void created_add(created *cr, const char *rel, size_t len, int is_dir)
{
    if (!cr || cr->failed) return;
    size_t at = cr->names.len;
    if (br_grow((void **)&cr->off, &cr->cap, cr->n + 1, sizeof *cr->off) ||
        br_grow((void **)&cr->dir, &cr->cap_dir, cr->n + 1, 1) ||
        br_buf_append(&cr->names, rel, len) || br_buf_append(&cr->names, "", 1)) {
        cr->failed = 1;
        return;
    }
    cr->off[cr->n] = at;
    cr->dir[cr->n] = (unsigned char)is_dir;
    cr->n++;
}

/* Removes what was created, last first (files before their folders). */
static void created_undo(created *cr, int dfd)
{
    for (size_t i = cr->n; i-- > 0;)
        unlinkat(dfd, cr->names.p + cr->off[i], cr->dir[i] ? AT_REMOVEDIR : 0);
}

static void created_dispose(created *cr)
{
    br_buf_dispose(&cr->names);
    free(cr->off);
    free(cr->dir);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The entry's name without a trailing '/', copied into out; 1 when it is a
 * folder entry. */
static int entry_path(const char *name, char *out, size_t size)
{
    br_strlcpy(out, name, size);
    size_t n = strlen(out);
    int dir = 0;
    while (n && out[n - 1] == '/') {
        out[--n] = 0;
        dir = 1;
    }
    return dir;
}

static int is_skipped(const char *path)
{
    /* macOS archive metadata (resource forks), never part of a package. */
    return !strcmp(path, "__MACOSX") || !strncmp(path, "__MACOSX/", 9);
}

/* Opens (creating as needed, recorded in cr) the folders of rel's parent
 * below dfd, never following a link; returns a descriptor (or dfd itself for
 * a top-level name) and sets *leaf to rel's last component, or -1 with errno. */
static int open_parent(int dfd, char *rel, char **leaf, created *cr)
{
    int fd = dfd;
    char *p = rel;
    for (;;) {
        char *slash = strchr(p, '/');
        if (!slash) break;
        *slash = 0;
        if (mkdirat(fd, p, 0755)) {
            if (errno != EEXIST) {
                int e = errno;
                if (fd != dfd) close(fd);
                *slash = '/';
                errno = e;
                return -1;
            }
        } else {
            created_add(cr, rel, (size_t)(slash - rel), 1);
        }
        int nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        if (fd != dfd) close(fd);
        *slash = '/';
        if (nfd < 0) {
            errno = e;
            return -1;
        }
        fd = nfd;
        p = slash + 1;
    }
    *leaf = p;
    return fd;
}

/* The folder the previous entry was written to: entries of one item folder are
 * consecutive in an archive, so reusing its descriptor saves a mkdirat and an
 * openat per entry (about 2 of the 5 syscalls per file on a 25,000-file zip). */
typedef struct parent_cache {
    char rel[PATH_MAX]; /* the parent's path below dfd; "" = dfd itself */
    int fd;             /* -1 = none */
} parent_cache;

/* Like open_parent, but the descriptor belongs to the cache (or is dfd):
 * callers do not close it. */
static int cached_parent(parent_cache *pc, int dfd, char *rel, char **leaf, created *cr)
{
    char *slash = strrchr(rel, '/');
    size_t plen = slash ? (size_t)(slash - rel) : 0;
    if (!slash) {
        *leaf = rel;
        return dfd;
    }
    if (pc->fd >= 0 && strlen(pc->rel) == plen && !memcmp(pc->rel, rel, plen)) {
        *leaf = slash + 1;
        return pc->fd;
    }
    int fd = open_parent(dfd, rel, leaf, cr);
    if (fd < 0) return -1;
    if (pc->fd >= 0) close(pc->fd);
    pc->fd = fd;
    memcpy(pc->rel, rel, plen); /* plen < PATH_MAX: rel is an entry path buffer */
    pc->rel[plen] = 0;
    return fd;
}

/* What the first pass learns for the root heuristic. */
typedef struct root_scan {
    char top[256]; /* the one top-level folder, if there is one */
    int single;    /* every kept entry is below top */
    int any;
    int deep;        /* some entry has 3 or more components */
    int top_is_item; /* top/dublin_core.xml exists: top is an item folder */
} root_scan;

static void scan_root(root_scan *rs, const char *path, int is_dir)
{
    const char *slash = strchr(path, '/');
    size_t tl = slash ? (size_t)(slash - path) : strlen(path);
    if (!slash && !is_dir) {
        /* A plain file at the top: no wrapping folder, unless it is hidden
         * debris (.DS_Store). */
        if (path[0] != '.') rs->single = 0;
        return;
    }
    if (!rs->any) {
        rs->any = 1;
        rs->single = 1;
        if (tl >= sizeof rs->top) tl = sizeof rs->top - 1;
        memcpy(rs->top, path, tl);
        rs->top[tl] = 0;
    } else if (strlen(rs->top) != tl || strncmp(rs->top, path, tl)) {
        rs->single = 0;
    }
    if (slash) {
        const char *s2 = strchr(slash + 1, '/');
        if (s2)
            rs->deep = 1;
        else if (!strcmp(slash + 1, "dublin_core.xml"))
            rs->top_is_item = 1;
    }
}

static int ratio_error(br_error *err, const char *zname, uint64_t inflated, uint64_t zsize,
                       unsigned max_ratio)
{
    return br_error_set(err, BR_ELIMIT, zname, 0, 0,
                        "the archive inflates to more than %u times its size (%llu bytes from "
                        "%llu: a zip bomb?)",
                        max_ratio, (unsigned long long)inflated, (unsigned long long)zsize);
}

int br_zip_extract(const char *zip_path, const char *dest_dir, const br_limits *lim, char *root,
                   size_t root_size, br_error *err)
{
    if (!zip_path || !dest_dir)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_zip_extract: missing argument");
    br_limits deflim;
    if (!lim) {
        br_limits_default(&deflim);
        lim = &deflim;
    }
    const char *zname = base_name(zip_path);
    int rc = 0, dfd = -1, out = -1;
    parent_cache pc = {"", -1};
    zip_t *za = NULL;
    zip_file_t *zf = NULL;
    char *buf = NULL;
    root_scan rs;
    memset(&rs, 0, sizeof rs);
    created cr;
    memset(&cr, 0, sizeof cr);
    int made_dest = 0;

    struct stat zst;
    if (stat(zip_path, &zst))
        return br_error_set(err, errno == ENOENT ? BR_ENOTFOUND : BR_EIO, zname, 0, 0,
                            "cannot open: %s", strerror(errno));
    if (!S_ISREG(zst.st_mode))
        return br_error_set(err, BR_EINVAL, zname, 0, 0, "is not a zip archive");
    /* The denominator of the archive's ratio: its size on disk. */
    uint64_t zsize = zst.st_size > 0 ? (uint64_t)zst.st_size : 1;

    int zerr = 0;
    za = zip_open(zip_path, ZIP_RDONLY, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        if (zerr == ZIP_ER_NOZIP)
            rc = br_error_set(err, BR_EINVAL, zname, 0, 0, "is not a zip archive");
        else if (zerr == ZIP_ER_INCONS)
            rc = br_error_set(err, BR_EINVAL, zname, 0, 0, "the zip archive is damaged: %s",
                              zip_error_strerror(&ze));
        else
            rc = br_error_set(err, BR_EIO, zname, 0, 0, "cannot open the zip archive: %s",
                              zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return rc;
    }
    zip_int64_t n = zip_get_num_entries(za, 0);
    if (n <= 0) {
        rc = br_error_set(err, BR_EINVAL, zname, 0, 0, "the zip archive holds no files");
        goto done;
    }
    if ((uint64_t)n > lim->max_entries) {
        rc = br_error_set(err, BR_ELIMIT, zname, 0, 0,
                          "the zip archive has %lld entries, more than the %llu allowed",
                          (long long)n, (unsigned long long)lim->max_entries);
        goto done;
    }

    /* Pass 1: names, types and declared sizes, before anything is written. */
    uint64_t declared = 0;
    char path[PATH_MAX];
    for (zip_uint64_t i = 0; i < (zip_uint64_t)n; i++) {
        zip_stat_t st;
        if (zip_stat_index(za, i, 0, &st) || !(st.valid & ZIP_STAT_NAME)) {
            rc = br_error_set(err, BR_EINVAL, zname, 0, 0, "entry %llu cannot be read: %s",
                              (unsigned long long)i, zip_strerror(za));
            goto done;
        }
        const char *name = st.name;
        if (strlen(name) >= sizeof path) {
            rc = br_error_set(err, BR_EINVAL, zname, 0, 0,
                              "entry '%.200s...': the name is too long", name);
            goto done;
        }
        int is_dir = entry_path(name, path, sizeof path);
        size_t bad;
        if (br_utf8_check(path, strlen(path), &bad)) {
            rc = br_error_set(err, BR_EINVAL, zname, 0, 0,
                              "entry '%s': the name is not valid UTF-8", name);
            goto done;
        }
        const char *why = br_path_unsafe(path);
        if (why) {
            rc = br_error_set(err, BR_EINVAL, zname, 0, 0, "entry '%s': %s", name, why);
            goto done;
        }
        if (is_skipped(path)) continue;
        zip_uint8_t opsys;
        zip_uint32_t attr;
        if (zip_file_get_external_attributes(za, i, 0, &opsys, &attr) == 0 &&
            opsys == ZIP_OPSYS_UNIX) {
            unsigned mode = attr >> 16;
            unsigned type = mode & S_IFMT;
            if (type == S_IFLNK) {
                rc = br_error_set(err, BR_EINVAL, zname, 0, 0,
                                  "entry '%s': is a symbolic link (not allowed)", name);
                goto done;
            }
            if (type && type != S_IFREG && type != S_IFDIR) {
                rc = br_error_set(err, BR_EINVAL, zname, 0, 0,
                                  "entry '%s': is a special file (not allowed)", name);
                goto done;
            }
            if (type == S_IFDIR) is_dir = 1;
        }
        if (!is_dir) {
            if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
                rc = br_error_set(err, BR_EINVAL, zname, 0, 0, "entry '%s': is encrypted", name);
                goto done;
            }
            if ((st.valid & ZIP_STAT_COMP_METHOD) &&
                !zip_compression_method_supported((zip_int32_t)st.comp_method, 0)) {
                rc = br_error_set(err, BR_EINVAL, zname, 0, 0,
                                  "entry '%s': compression method %u is not supported", name,
                                  (unsigned)st.comp_method);
                goto done;
            }
            uint64_t size = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
            if (size > lim->max_file_size) {
                rc = br_error_set(err, BR_ELIMIT, zname, 0, 0,
                                  "entry '%s': %llu bytes, more than the %llu allowed per file",
                                  name, (unsigned long long)size,
                                  (unsigned long long)lim->max_file_size);
                goto done;
            }
            declared += size;
            if (declared > lim->max_archive_size) {
                rc = br_error_set(err, BR_ELIMIT, zname, 0, 0,
                                  "the files inflate to more than the %llu bytes allowed",
                                  (unsigned long long)lim->max_archive_size);
                goto done;
            }
            if ((st.valid & ZIP_STAT_COMP_SIZE) && size > RATIO_MIN_BYTES &&
                size / (st.comp_size ? st.comp_size : 1) > lim->max_ratio) {
                rc = br_error_set(err, BR_ELIMIT, zname, 0, 0,
                                  "entry '%s': compressed more than %u:1 (a zip bomb?)", name,
                                  lim->max_ratio);
                goto done;
            }
        }
        scan_root(&rs, path, is_dir);
    }
    if (declared > RATIO_MIN_BYTES && declared / zsize > lim->max_ratio) {
        rc = ratio_error(err, zname, declared, zsize, lim->max_ratio);
        goto done;
    }

    /* Pass 2: write.  dest_dir is the caller's (possibly new) folder. */
    struct stat dst;
    made_dest = stat(dest_dir, &dst) != 0;
    if ((rc = br_mkdir_p(dest_dir, err))) {
        made_dest = 0;
        goto done;
    }
    dfd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        rc = br_error_set(err, BR_EIO, dest_dir, 0, 0, "cannot open: %s", strerror(errno));
        goto done;
    }
    buf = malloc(65536);
    if (!buf) {
        rc = br_error_set(err, BR_ENOMEM, zname, 0, 0, "out of memory");
        goto done;
    }
    uint64_t total = 0;
    for (zip_uint64_t i = 0; i < (zip_uint64_t)n; i++) {
        zip_stat_t st;
        if (zip_stat_index(za, i, 0, &st)) {
            rc = br_error_set(err, BR_EINVAL, zname, 0, 0, "entry %llu cannot be read: %s",
                              (unsigned long long)i, zip_strerror(za));
            goto done;
        }
        const char *name = st.name;
        int is_dir = entry_path(name, path, sizeof path);
        if (is_skipped(path)) continue;
        zip_uint8_t opsys;
        zip_uint32_t attr;
        if (zip_file_get_external_attributes(za, i, 0, &opsys, &attr) == 0 &&
            opsys == ZIP_OPSYS_UNIX && ((attr >> 16) & S_IFMT) == S_IFDIR)
            is_dir = 1;
        char *leaf = NULL;
        int pfd = cached_parent(&pc, dfd, path, &leaf, &cr);
        if (pfd < 0) {
            rc = br_error_set(
                err, errno == ELOOP || errno == ENOTDIR || errno == EEXIST ? BR_EINVAL : BR_EIO,
                zname, 0, 0, "entry '%s': cannot create its folder: %s", name, strerror(errno));
            goto done;
        }
        if (is_dir) {
            int e = 0;
            if (mkdirat(pfd, leaf, 0755)) {
                if (errno != EEXIST) e = errno;
            } else {
                created_add(&cr, path, strlen(path), 1);
            }
            if (!e) {
                struct stat ds;
                if (fstatat(pfd, leaf, &ds, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(ds.st_mode))
                    e = EEXIST;
            }
            if (e) {
                rc = br_error_set(err, e == EEXIST ? BR_EINVAL : BR_EIO, zname, 0, 0,
                                  "entry '%s': cannot create the folder: %s", name,
                                  e == EEXIST ? "a file of that name exists" : strerror(e));
                goto done;
            }
            continue;
        }
        out = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        int oe = errno;
        if (out < 0) {
            rc = br_error_set(err, oe == EEXIST ? BR_EINVAL : BR_EIO, zname, 0, 0, "entry '%s': %s",
                              name, oe == EEXIST ? "appears twice in the archive" : strerror(oe));
            goto done;
        }
        created_add(&cr, path, strlen(path), 0);
        zf = zip_fopen_index(za, i, 0);
        if (!zf) {
            rc = br_error_set(err, BR_EINVAL, zname, 0, 0, "entry '%s': cannot be read: %s", name,
                              zip_strerror(za));
            goto done;
        }
        uint64_t comp = (st.valid & ZIP_STAT_COMP_SIZE) && st.comp_size ? st.comp_size : 1;
        uint64_t got = 0;
        for (;;) {
            zip_int64_t r = zip_fread(zf, buf, 65536);
            if (r < 0) {
                rc = br_error_set(err, BR_EINVAL, zname, 0, 0, "entry '%s': cannot be inflated: %s",
                                  name, zip_file_strerror(zf));
                goto done;
            }
            if (r == 0) break;
            got += (uint64_t)r;
            total += (uint64_t)r;
            if (got > lim->max_file_size) {
                rc = br_error_set(
                    err, BR_ELIMIT, zname, 0, 0,
                    "entry '%s': inflates to more than the %llu bytes allowed per file", name,
                    (unsigned long long)lim->max_file_size);
                goto done;
            }
            if (total > lim->max_archive_size) {
                rc = br_error_set(err, BR_ELIMIT, zname, 0, 0,
                                  "the files inflate to more than the %llu bytes allowed",
                                  (unsigned long long)lim->max_archive_size);
                goto done;
            }
            if (got > RATIO_MIN_BYTES && got / comp > lim->max_ratio) {
                rc = br_error_set(err, BR_ELIMIT, zname, 0, 0,
                                  "entry '%s': compressed more than %u:1 (a zip bomb?)", name,
                                  lim->max_ratio);
                goto done;
            }
            if (total > RATIO_MIN_BYTES && total / zsize > lim->max_ratio) {
                rc = ratio_error(err, zname, total, zsize, lim->max_ratio);
                goto done;
            }
            if (br_write_all(out, buf, (size_t)r)) {
                rc = br_error_set(err, BR_EIO, dest_dir, 0, 0, "entry '%s': write failed: %s", name,
                                  strerror(errno));
                goto done;
            }
        }
        zip_fclose(zf);
        zf = NULL;
        if (close(out)) {
            out = -1;
            rc = br_error_set(err, BR_EIO, dest_dir, 0, 0, "entry '%s': write failed: %s", name,
                              strerror(errno));
            goto done;
        }
        out = -1;
    }

    if (root && root_size) {
        /* One wrapping folder holding item folders (PR #579 / DS-2071). */
        int wrapped = rs.any && rs.single && rs.deep && !rs.top_is_item;
        int k = wrapped ? snprintf(root, root_size, "%s/%s", dest_dir, rs.top)
                        : snprintf(root, root_size, "%s", dest_dir);
        if (k < 0 || (size_t)k >= root_size)
            rc = br_error_set(err, BR_ELIMIT, dest_dir, 0, 0, "the root path does not fit");
    }
done:
    if (zf) zip_fclose(zf);
    if (out >= 0) close(out);
    if (pc.fd >= 0) close(pc.fd);
    if (rc) {
        /* Nothing of a refused archive stays behind. */
        if (dfd >= 0) created_undo(&cr, dfd);
        if (made_dest) rmdir(dest_dir);
    }
    if (dfd >= 0) close(dfd);
    if (za) zip_discard(za);
    created_dispose(&cr);
    free(buf);
    return rc;
}

/* ---- creation --------------------------------------------------------------- */

typedef struct file_list {
    char **v;
    size_t n, cap;
} file_list;

static void file_list_free(file_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static int walk(const char *root, const char *rel, file_list *l, br_error *err)
{
    char dir[PATH_MAX];
    int too_long = *rel ? br_path_join(dir, sizeof dir, root, rel) != 0
                        : br_strlcpy(dir, root, sizeof dir) >= sizeof dir;
    if (too_long) return br_error_set(err, BR_ELIMIT, root, 0, 0, "path too long: %s", rel);
    DIR *d = opendir(dir);
    if (!d) return br_error_set(err, BR_EIO, dir, 0, 0, "cannot list: %s", strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char sub[PATH_MAX];
        int k = *rel ? snprintf(sub, sizeof sub, "%s/%s", rel, e->d_name)
                     : snprintf(sub, sizeof sub, "%s", e->d_name);
        if (k < 0 || (size_t)k >= sizeof sub) {
            rc = br_error_set(err, BR_ELIMIT, dir, 0, 0, "path too long: %s", e->d_name);
            break;
        }
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW)) {
            rc = br_error_set(err, BR_EIO, sub, 0, 0, "cannot stat: %s", strerror(errno));
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = walk(root, sub, l, err);
        } else if (S_ISREG(st.st_mode)) {
            if (br_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) ||
                !(l->v[l->n] = strdup(sub))) {
                rc = br_error_set(err, BR_ENOMEM, sub, 0, 0, "out of memory");
                break;
            }
            l->n++;
        } else {
            rc = br_error_set(err, BR_EINVAL, sub, 0, 0,
                              "is %s: only files and folders can be zipped",
                              S_ISLNK(st.st_mode) ? "a symbolic link" : "a special file");
        }
    }
    closedir(d);
    return rc;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int br_zip_create(const char *src_dir, const char *zip_path, br_error *err)
{
    if (!src_dir || !zip_path)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_zip_create: missing argument");
    file_list l = {0};
    zip_t *za = NULL;
    char tmp[PATH_MAX];
    int rc = 0, tmp_made = 0;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", zip_path) >= sizeof tmp)
        return br_error_set(err, BR_ELIMIT, zip_path, 0, 0, "path too long");
    if ((rc = walk(src_dir, "", &l, err))) goto done;
    if (l.n) qsort(l.v, l.n, sizeof *l.v, str_cmp);

    unlink(tmp);
    tmp_made = 1;
    if (l.n == 0) {
        /* libzip writes no file for an empty archive: the bare end record. */
        static const char eocd[22] = {'P', 'K', 5, 6};
        if ((rc = br_write_file_atomic(tmp, eocd, sizeof eocd, err))) goto done;
    } else {
        int zerr = 0;
        za = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
        if (!za) {
            zip_error_t ze;
            zip_error_init_with_code(&ze, zerr);
            rc = br_error_set(err, BR_EIO, zip_path, 0, 0, "cannot create: %s",
                              zip_error_strerror(&ze));
            zip_error_fini(&ze);
            goto done;
        }
        /* 1980-01-01 12:00 local time (libzip stores local DOS time): the
         * same fields in any time zone, so equal trees give equal archives. */
        struct tm tm = {.tm_year = 80, .tm_mon = 0, .tm_mday = 1, .tm_hour = 12, .tm_isdst = -1};
        time_t fixed = mktime(&tm);
        for (size_t i = 0; i < l.n; i++) {
            char abs[PATH_MAX];
            if (br_path_join(abs, sizeof abs, src_dir, l.v[i])) {
                rc = br_error_set(err, BR_ELIMIT, l.v[i], 0, 0, "path too long");
                goto done;
            }
            zip_source_t *zs = zip_source_file(za, abs, 0, 0);
            if (!zs) {
                rc = br_error_set(err, BR_EIO, abs, 0, 0, "cannot read: %s", zip_strerror(za));
                goto done;
            }
            zip_int64_t idx = zip_file_add(za, l.v[i], zs, ZIP_FL_ENC_UTF_8);
            if (idx < 0) {
                zip_source_free(zs);
                rc = br_error_set(err, BR_EIO, zip_path, 0, 0, "cannot add '%s': %s", l.v[i],
                                  zip_strerror(za));
                goto done;
            }
            if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 0) ||
                zip_file_set_mtime(za, (zip_uint64_t)idx, fixed, 0) ||
                zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                                 (zip_uint32_t)(S_IFREG | 0644) << 16)) {
                rc = br_error_set(err, BR_EIO, zip_path, 0, 0, "cannot set up '%s': %s", l.v[i],
                                  zip_strerror(za));
                goto done;
            }
        }
        if (zip_close(za)) {
            rc = br_error_set(err, BR_EIO, zip_path, 0, 0, "cannot write: %s", zip_strerror(za));
            goto done;
        }
        za = NULL;
    }
    if (rename(tmp, zip_path)) {
        rc = br_error_set(err, BR_EIO, zip_path, 0, 0, "cannot rename into place: %s",
                          strerror(errno));
        goto done;
    }
    tmp_made = 0;
done:
    if (za) zip_discard(za);
    if (rc && tmp_made) unlink(tmp);
    file_list_free(&l);
    return rc;
}
