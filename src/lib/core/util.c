/* Arena, buffers, paths, files, text, time, ids and checksums. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>
#include <utf8proc.h>
#include "core.h"

/* ---- arena ---------------------------------------------------------------- */

#define ARENA_BLOCK 65536

struct block {
    struct block *next;
    size_t size, used;
    char data[];
};

struct br_arena {
    struct block *head;
};

static struct block *block_new(size_t need)
{
    size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;
    struct block *b = malloc(sizeof *b + size);
    if (!b) return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

br_arena *br_arena_new(void)
{
    br_arena *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->head = block_new(ARENA_BLOCK);
    if (!a->head) {
        free(a);
        return NULL;
    }
    return a;
}

void br_arena_free(br_arena *a)
{
    if (!a) return;
    struct block *b = a->head;
    while (b) {
        struct block *n = b->next;
        free(b);
        b = n;
    }
    free(a);
}

void br_arena_reset(br_arena *a)
{
    /* Keep only the last (first-allocated, standard-sized) block. */
    struct block *b = a->head;
    while (b && b->next) {
        struct block *n = b->next;
        free(b);
        b = n;
    }
    a->head = b;
    if (b) b->used = 0;
}

void *br_arena_alloc(br_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (!a->head || a->head->size - a->head->used < n) {
        struct block *b = block_new(n);
        if (!b) return NULL;
        /* New blocks go in front; the oldest (reset survivor) stays at the tail. */
        b->next = a->head;
        a->head = b;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

char *br_arena_strndup(br_arena *a, const char *s, size_t n)
{
    char *p = br_arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

/* ---- buffers ---------------------------------------------------------------- */

void br_buf_dispose(br_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int br_buf_reserve(br_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return BR_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int br_buf_append(br_buf *b, const char *s, size_t n)
{
    if (br_buf_reserve(b, n)) return BR_ENOMEM;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

int br_buf_puts(br_buf *b, const char *s)
{
    return br_buf_append(b, s, strlen(s));
}

int br_buf_printf(br_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || br_buf_reserve(b, (size_t)n)) return BR_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void br_buf_clear(br_buf *b)
{
    b->len = 0;
    if (b->p) b->p[0] = 0;
}

int br_grow(void **arr, size_t *cap, size_t need, size_t elsz)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 8;
    while (c < need)
        c *= 2;
    void *p = realloc(*arr, c * elsz);
    if (!p) return BR_ENOMEM;
    *arr = p;
    *cap = c;
    return 0;
}

/* ---- paths and files ------------------------------------------------------------ */

int br_path_join(char *out, size_t size, const char *a, const char *b)
{
    size_t la = strlen(a);
    while (la > 1 && a[la - 1] == '/')
        la--;
    int n = snprintf(out, size, "%.*s/%s", (int)la, a, b);
    return (n < 0 || (size_t)n >= size) ? BR_ELIMIT : 0;
}

const char *br_path_unsafe(const char *rel)
{
    if (!rel || !*rel) return "the path is empty";
    if (rel[0] == '/') return "the path is absolute";
    if (strchr(rel, '\\')) return "the path contains a backslash";
    if (strlen(rel) > 1024) return "the path is too long";
    for (const unsigned char *p = (const unsigned char *)rel; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return "the path contains a control character";
    const char *p = rel;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0) return "the path has an empty component";
        if (n == 1 && p[0] == '.') return "the path has a '.' component";
        if (n == 2 && p[0] == '.' && p[1] == '.') return "the path leaves its folder ('..')";
        if (!e) break;
        p = e + 1;
        if (!*p) return "the path ends with '/'";
    }
    return NULL;
}

int br_mkdir_p(const char *path, br_error *err)
{
    char tmp[4096];
    if (br_strlcpy(tmp, path, sizeof tmp) >= sizeof tmp)
        return br_error_set(err, BR_ELIMIT, path, 0, 0, "path too long");
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) && errno != EEXIST)
            return br_error_set(err, BR_EIO, tmp, 0, 0, "cannot create folder: %s",
                                strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) && errno != EEXIST)
        return br_error_set(err, BR_EIO, tmp, 0, 0, "cannot create folder: %s", strerror(errno));
    return 0;
}

static int rmtree_at(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return unlinkat(dirfd, name, 0) && errno != ENOENT ? -1 : 0;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (e->d_type == DT_DIR) {
            if (rmtree_at(fd, e->d_name)) rc = -1;
        } else if (unlinkat(fd, e->d_name, 0) && errno != ENOENT) {
            rc = -1;
        }
    }
    closedir(d);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) && errno != ENOENT) rc = -1;
    return rc;
}

int br_rmtree(const char *path)
{
    return rmtree_at(AT_FDCWD, path) ? BR_EIO : 0;
}

int br_read_file(const char *path, size_t max, char **out, size_t *len, br_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return br_error_set(err, errno == ENOENT ? BR_ENOTFOUND : BR_EIO, path, 0, 0,
                            "cannot open: %s", strerror(errno));
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    if (fstat(fd, &st)) {
        rc = br_error_set(err, BR_EIO, path, 0, 0, "cannot stat: %s", strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = br_error_set(err, BR_EINVAL, path, 0, 0, "not a regular file");
        goto done;
    }
    if ((uint64_t)st.st_size > max) {
        rc = br_error_set(err, BR_ELIMIT, path, 0, 0,
                          "file is %lld bytes, more than the %zu allowed", (long long)st.st_size,
                          max);
        goto done;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf) {
        rc = br_error_set(err, BR_ENOMEM, path, 0, 0, "out of memory");
        goto done;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = br_error_set(err, BR_EIO, path, 0, 0, "read failed: %s", strerror(errno));
            goto done;
        }
        if (n == 0) break;
        got += (size_t)n;
    }
    buf[got] = 0;
    *out = buf;
    buf = NULL;
    if (len) *len = got;
done:
    free(buf);
    close(fd);
    return rc;
}

int br_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Makes a rename or a new file in the folder of path durable. */
static int sync_parent(const char *path)
{
    char dir[4096];
    if (br_strlcpy(dir, path, sizeof dir) >= sizeof dir) return -1;
    char *slash = strrchr(dir, '/');
    if (!slash)
        br_strlcpy(dir, ".", sizeof dir);
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int br_write_file_atomic(const char *path, const char *data, size_t len, br_error *err)
{
    char tmp[4200];
    int k = snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    if (k < 0 || (size_t)k >= sizeof tmp)
        return br_error_set(err, BR_ELIMIT, path, 0, 0, "path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return br_error_set(err, BR_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
    if (br_write_all(fd, data, len) || fsync(fd)) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return br_error_set(err, BR_EIO, path, 0, 0, "cannot write: %s", strerror(e));
    }
    if (close(fd)) {
        int e = errno;
        unlink(tmp);
        return br_error_set(err, BR_EIO, path, 0, 0, "cannot write: %s", strerror(e));
    }
    if (rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return br_error_set(err, BR_EIO, path, 0, 0, "cannot rename into place: %s", strerror(e));
    }
    /* The new name must survive a crash too, not only the bytes. */
    if (sync_parent(path))
        return br_error_set(err, BR_EIO, path, 0, 0, "cannot flush its folder: %s",
                            strerror(errno));
    return 0;
}

int br_copy_file(const char *src, const char *dst, br_error *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) return br_error_set(err, BR_EIO, src, 0, 0, "cannot open: %s", strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        return br_error_set(err, BR_EIO, dst, 0, 0, "cannot create: %s", strerror(e));
    }
    int rc = 0;
    char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = br_error_set(err, BR_EIO, src, 0, 0, "read failed: %s", strerror(errno));
            break;
        }
        if (n == 0) break;
        if (br_write_all(out, buf, (size_t)n)) {
            rc = br_error_set(err, BR_EIO, dst, 0, 0, "write failed: %s", strerror(errno));
            break;
        }
    }
    close(in);
    if (close(out) && !rc)
        rc = br_error_set(err, BR_EIO, dst, 0, 0, "close failed: %s", strerror(errno));
    return rc;
}

int br_is_dir(const char *path)
{
    struct stat st;
    return !lstat(path, &st) && S_ISDIR(st.st_mode);
}

int br_is_file(const char *path)
{
    struct stat st;
    return !lstat(path, &st) && S_ISREG(st.st_mode);
}

/* ---- text ------------------------------------------------------------------------ */

int br_utf8_check(const char *s, size_t n, size_t *bad)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k <= 0) {
            if (bad) *bad = i;
            return BR_EINVAL;
        }
        i += (size_t)k;
    }
    return 0;
}

/* Whether s (valid UTF-8) is in NFC without looking it up: every code point
 * below U+0300 has NFC_Quick_Check=Yes and none of them composes with what
 * precedes it (combining marks start at U+0300), so such text is its own NFC.
 * Most metadata is; utf8proc then costs nothing (it was 10 % of an import). */
static int below_combining(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80) continue;
        /* U+0080..U+02FF are the two-byte sequences C2 80 .. CB BF. */
        if (*p < 0xC2 || *p > 0xCB) return 0;
        if ((p[1] & 0xC0) != 0x80) return 0;
        p++;
    }
    return 1;
}

char *br_utf8_nfc(const char *s)
{
    if (below_combining(s)) return strdup(s);
    return (char *)utf8proc_NFC((const utf8proc_uint8_t *)s);
}

int br_utf8_loose_equal(const char *a, const char *b)
{
    utf8proc_uint8_t *x = NULL, *y = NULL;
    int opts = UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD;
    int eq = 0;
    if (utf8proc_map((const utf8proc_uint8_t *)a, 0, &x, opts) >= 0 &&
        utf8proc_map((const utf8proc_uint8_t *)b, 0, &y, opts) >= 0)
        eq = !strcmp((char *)x, (char *)y);
    free(x);
    free(y);
    return eq;
}

void br_text_position(const char *s, size_t off, unsigned *line, unsigned *col)
{
    unsigned l = 1, c = 1;
    for (size_t i = 0; i < off && s[i]; i++) {
        if (s[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)s[i] & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

int br_natcmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            const char *x = a, *y = b;
            while (*x == '0')
                x++;
            while (*y == '0')
                y++;
            size_t lx = 0, ly = 0;
            while (isdigit((unsigned char)x[lx]))
                lx++;
            while (isdigit((unsigned char)y[ly]))
                ly++;
            if (lx != ly) return lx < ly ? -1 : 1;
            int c = memcmp(x, y, lx);
            if (c) return c;
            /* Equal values: fewer leading zeros first, then go on. */
            size_t ra = (size_t)(x - a) + lx, rb = (size_t)(y - b) + ly;
            if (ra != rb) return ra < rb ? -1 : 1;
            a += ra;
            b += rb;
            continue;
        }
        if (*a != *b) return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

char *br_trim(char *s)
{
    char *p = s;
    while (*p && isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    memmove(s, p, n);
    s[n] = 0;
    return s;
}

int br_streq(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return !strcmp(a, b);
}

size_t br_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t k = n < size - 1 ? n : size - 1;
        memcpy(dst, src, k);
        dst[k] = 0;
    }
    return n;
}

unsigned br_levenshtein(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 255 || lb > 255) return 1000;
    unsigned row[256];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned prev = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned cur = row[j];
            unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
            unsigned v = prev + cost;
            if (row[j] + 1 < v) v = row[j] + 1;
            if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
            row[j] = v;
            prev = cur;
        }
    }
    return row[lb];
}

/* ---- time and ids ---------------------------------------------------------------- */

void br_now_iso(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int br_uuid4(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) return BR_EINTERNAL;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

/* ---- checksums ------------------------------------------------------------------- */

int br_hash_init(br_hash *h)
{
    h->md5 = EVP_MD_CTX_new();
    h->sha256 = EVP_MD_CTX_new();
    if (!h->md5 || !h->sha256 || EVP_DigestInit_ex(h->md5, EVP_md5(), NULL) != 1 ||
        EVP_DigestInit_ex(h->sha256, EVP_sha256(), NULL) != 1) {
        br_hash_dispose(h);
        return BR_EINTERNAL;
    }
    return 0;
}

int br_hash_update(br_hash *h, const void *p, size_t n)
{
    if (EVP_DigestUpdate(h->md5, p, n) != 1 || EVP_DigestUpdate(h->sha256, p, n) != 1)
        return BR_EINTERNAL;
    return 0;
}

static void hex(const unsigned char *d, unsigned n, char *out)
{
    static const char x[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = x[d[i] >> 4];
        out[2 * i + 1] = x[d[i] & 15];
    }
    out[2 * n] = 0;
}

int br_hash_final(br_hash *h, char md5[33], char sha256[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    int rc = 0;
    if (EVP_DigestFinal_ex(h->md5, d, &n) != 1)
        rc = BR_EINTERNAL;
    else
        hex(d, n, md5);
    if (!rc && EVP_DigestFinal_ex(h->sha256, d, &n) != 1)
        rc = BR_EINTERNAL;
    else if (!rc)
        hex(d, n, sha256);
    br_hash_dispose(h);
    return rc;
}

void br_hash_dispose(br_hash *h)
{
    EVP_MD_CTX_free(h->md5);
    EVP_MD_CTX_free(h->sha256);
    h->md5 = h->sha256 = NULL;
}

int br_hash_file(const char *path, char md5[33], char sha256[65], int64_t *size, br_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return br_error_set(err, BR_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    br_hash h;
    int rc = br_hash_init(&h);
    if (rc) {
        close(fd);
        return br_error_set(err, rc, path, 0, 0, "cannot start checksums");
    }
    char buf[65536];
    int64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = br_error_set(err, BR_EIO, path, 0, 0, "read failed: %s", strerror(errno));
            break;
        }
        if (n == 0) break;
        if ((rc = br_hash_update(&h, buf, (size_t)n))) {
            rc = br_error_set(err, rc, path, 0, 0, "checksum failed");
            break;
        }
        total += n;
    }
    close(fd);
    if (rc) {
        br_hash_dispose(&h);
        return rc;
    }
    if (size) *size = total;
    if ((rc = br_hash_final(&h, md5, sha256)))
        return br_error_set(err, rc, path, 0, 0, "checksum failed");
    return 0;
}

void br_limits_default(br_limits *lim)
{
    lim->max_file_size = 150ull * 1000 * 1000;    /* seed 002: no file above 150 MB */
    lim->max_archive_size = 500ull * 1000 * 1000; /* seed 002: no archive above 500 MB */
    /* An item is a few files: 100,000 entries is a package of thousands of
     * items; a larger batch is split (docs/limits.md). */
    lim->max_entries = 100000;
    lim->max_ratio = 200;
    lim->max_xml_size = 16u * 1024 * 1024;
    lim->max_xml_depth = 32;
    /* <dcvalue> has 3 attributes and <dublin_core> 1; libxml2 2.9 checks an
     * element's attributes in quadratic time. */
    lim->max_xml_attributes = 64;
    lim->max_xml_attribute = 4096;
    lim->max_line = 64 * 1024;
    lim->max_text_file = 4u * 1024 * 1024;
    lim->max_items = 10000000;
    lim->max_field = 1u * 1024 * 1024;
    /* Papers with thousands of authors exist; 50,000 lines of one relation do not. */
    lim->max_relationships = 10000;
}

/* The absolute form of path, whose file may not exist yet (its folder must):
 * job records and resumes name files by absolute path. */
int br_path_absolute(const char *path, char *out, size_t size, br_error *err)
{
    char dir[PATH_MAX], real[PATH_MAX];
    if (br_strlcpy(dir, path, sizeof dir) >= sizeof dir)
        return br_error_set(err, BR_ELIMIT, NULL, 0, 0, "path too long: %.200s...", path);
    char *slash = strrchr(dir, '/');
    const char *base = path;
    if (slash) {
        *slash = 0;
        base = path + (slash - dir) + 1; /* not in dir: "/x" makes dir "/" */
        if (!*dir) br_strlcpy(dir, "/", sizeof dir);
    } else {
        br_strlcpy(dir, ".", sizeof dir);
    }
    if (!realpath(dir, real))
        return br_error_set(err, BR_EUSAGE, path, 0, 0, "the folder of %s does not exist", path);
    int n = snprintf(out, size, "%s/%s", strcmp(real, "/") ? real : "", base);
    return (n < 0 || (size_t)n >= size) ? br_error_set(err, BR_ELIMIT, path, 0, 0, "path too long")
                                        : 0;
}

double br_seconds_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

int br_tsv_next(const char **p, char *buf, size_t size, char **cols, int max_cols)
{
    while (**p) {
        const char *s = *p, *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        *p = nl ? nl + 1 : s + n;
        if (!n || *s == '#') continue;
        if (n >= size) return -1;
        memcpy(buf, s, n);
        buf[n] = 0;
        int k = 0;
        char *c = buf;
        while (k < max_cols) {
            cols[k++] = c;
            char *t = strchr(c, '\t');
            if (!t) break;
            *t = 0;
            c = t + 1;
        }
        return k;
    }
    return 0;
}

int64_t br_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void br_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}
