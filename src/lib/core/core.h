/* Internal helpers shared by the library's modules (not public API). */
#ifndef BR_CORE_H
#define BR_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include "bulkrepo/error.h"
#include "bulkrepo/limits.h"

#define BR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- arena: bump allocator for per-record strings ------------------------ */
typedef struct br_arena br_arena;
br_arena *br_arena_new(void);
void br_arena_free(br_arena *a);
void br_arena_reset(br_arena *a); /* keeps the first block */
void *br_arena_alloc(br_arena *a, size_t n);
char *br_arena_strndup(br_arena *a, const char *s, size_t n);

/* ---- growable string buffer --------------------------------------------- */
typedef struct br_buf {
    char *p;
    size_t len;
    size_t cap;
} br_buf;
void br_buf_dispose(br_buf *b);
int br_buf_reserve(br_buf *b, size_t extra);
int br_buf_append(br_buf *b, const char *s, size_t n);
int br_buf_puts(br_buf *b, const char *s);
int br_buf_printf(br_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void br_buf_clear(br_buf *b);

/* Milliseconds of the monotonic clock (for intervals and deadlines, not dates). */
int64_t br_mono_ms(void);
/* Sleeps ms milliseconds, through interrupting signals. */
void br_sleep_ms(long ms);

/* Grows *arr (element size elsz) so that it holds at least need elements. */
int br_grow(void **arr, size_t *cap, size_t need, size_t elsz);

/* ---- FNV-1a, for hash tables --------------------------------------------- */
#define BR_FNV1A_INIT 1469598103934665603ull
/* Continues hash h (BR_FNV1A_INIT to start) over n bytes. */
static inline uint64_t br_fnv1a(uint64_t h, const void *p, size_t n)
{
    for (const unsigned char *s = p, *e = s + n; s < e; s++)
        h = (h ^ *s) * 1099511628211ull;
    return h;
}
static inline uint64_t br_fnv1a_str(const char *s)
{
    uint64_t h = BR_FNV1A_INIT;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* ---- string map: key (copied) -> int64 ----------------------------------- */
typedef struct br_strmap {
    char **keys;
    int64_t *vals;
    size_t cap, n;
} br_strmap;
int br_strmap_put(br_strmap *m, const char *key, int64_t val);
/* 1 and *val when present, else 0. */
int br_strmap_get(const br_strmap *m, const char *key, int64_t *val);
void br_strmap_dispose(br_strmap *m);

/* ---- paths and files ----------------------------------------------------- */
/* Joins a and b with one '/'; BR_ELIMIT when it does not fit. */
int br_path_join(char *out, size_t size, const char *a, const char *b);
/* The absolute form of path; its folder must exist, the file need not. */
int br_path_absolute(const char *path, char *out, size_t size, br_error *err);
/* Seconds elapsed since t (CLOCK_MONOTONIC). */
struct timespec;
double br_seconds_since(const struct timespec *t);
/* NULL when rel is a safe relative path (no "..", not absolute, no empty or
 * "." component, no backslash, no control characters); else the reason. */
const char *br_path_unsafe(const char *rel);
int br_mkdir_p(const char *path, br_error *err);
/* Removes a tree that bulkrepo itself created (never follows symlinks). */
int br_rmtree(const char *path);
/* Reads a whole small file (NUL-terminated); BR_ELIMIT when larger than max. */
int br_read_file(const char *path, size_t max, char **out, size_t *len, br_error *err);
/* Writes all n bytes (retrying short writes and EINTR); 0 or -1 with errno. */
int br_write_all(int fd, const void *p, size_t n);
int br_write_file_atomic(const char *path, const char *data, size_t len, br_error *err);
int br_copy_file(const char *src, const char *dst, br_error *err);
int br_is_dir(const char *path);
int br_is_file(const char *path);

/* ---- text ---------------------------------------------------------------- */
/* 0 when s[0..n) is valid UTF-8; else BR_EINVAL and *bad = offset of the first bad byte. */
int br_utf8_check(const char *s, size_t n, size_t *bad);
/* NFC-normalised copy (malloc'd) or NULL; s must be valid UTF-8. */
char *br_utf8_nfc(const char *s);
/* Case-insensitive (simple case folding) comparison of two UTF-8 strings after NFC. */
int br_utf8_loose_equal(const char *a, const char *b);
/* Line and column (1-based, column in characters) of byte offset off in s. */
void br_text_position(const char *s, size_t off, unsigned *line, unsigned *col);
/* Natural order: digit runs compare by value ("item_2" < "item_10"). */
int br_natcmp(const char *a, const char *b);
/* Trims ASCII whitespace in place; returns s. */
char *br_trim(char *s);
int br_streq(const char *a, const char *b); /* NULL-safe */
size_t br_strlcpy(char *dst, const char *src, size_t size);
unsigned br_levenshtein(const char *a, const char *b);

/* 1 when s[0..n) is an ORCID iD as 0000-0002-1825-0097 (four groups of four digits, the last
 * character a digit or X) whose check digit is right (ISO 7064 11,2), else 0 (orcid.c). */
int br_orcid_valid(const char *s, size_t n);

/* ---- time and ids -------------------------------------------------------- */
void br_now_iso(char out[32]); /* 2026-11-21T12:00:00Z */
int br_uuid4(char out[37]);

/* ---- checksums ----------------------------------------------------------- */
typedef struct br_hash {
    EVP_MD_CTX *md5;
    EVP_MD_CTX *sha256;
} br_hash;
int br_hash_init(br_hash *h);
int br_hash_update(br_hash *h, const void *p, size_t n);
/* Writes lowercase hex digests and disposes h. */
int br_hash_final(br_hash *h, char md5[33], char sha256[65]);
void br_hash_dispose(br_hash *h);
/* Hashes a whole file. */
int br_hash_file(const char *path, char md5[33], char sha256[65], int64_t *size, br_error *err);

/* The next data line of a compiled-in TSV table (blank lines and '#' comments skipped) split
 * into at most max_cols columns of buf: the column count, 0 at the end, -1 for a line longer
 * than buf (a bug in the table: callers stop rather than read a cut line). */
int br_tsv_next(const char **p, char *buf, size_t size, char **cols, int max_cols);

#endif
