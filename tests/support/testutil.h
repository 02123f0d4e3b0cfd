/* Test helpers: temporary folders, files, and running the CLI as users do. */
#ifndef BR_TESTUTIL_H
#define BR_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* A fresh folder under $TMPDIR (malloc'd path); removed by tu_rmtree. */
char *tu_tmpdir(void);
void tu_rmtree(const char *dir);
/* Writes content to dir/rel, creating parent folders. */
void tu_write(const char *dir, const char *rel, const char *content);
void tu_write_bytes(const char *dir, const char *rel, const void *data, size_t n);
/* Reads a whole file (malloc'd, NUL-terminated) or NULL. */
char *tu_read(const char *path);
/* "DIR/REL" in one of eight static buffers (so a call may take several). */
const char *tu_path(const char *dir, const char *rel);
/* 1 when something (a dangling symlink too) is at path. */
int tu_exists(const char *path);
/* Writes n bytes as 2n lowercase hex digits and a NUL into out (2n+1 bytes). */
void tu_hex(const unsigned char *bytes, size_t n, char *out);
/* Entries of a folder other than . and .., or -1 when it cannot be opened. */
int tu_count_entries(const char *dir);
/* Absolute path to a file in tests/data ($BULKREPO_TESTDATA, else ./tests/data;
 * static buffer, copy it to keep), so it stays valid after a `cd`. */
const char *tu_data(const char *rel);
/* The bulkrepo binary under test: $BULKREPO_BIN as an absolute path.  Fails the
 * test when it is unset or not executable: a CLI test must never pass (or skip)
 * without running the binary it was built to test, nor run a stale one found
 * on a default path. */
const char *tu_bin(void);

/* Runs `sh -c CMD` where CMD is formatted from fmt; "$BR" in it stands for the
 * binary (tu_bin, checked only when CMD names $BR).  Captures stdout and stderr
 * (malloc'd into *out / *err when not NULL).  Returns the exit status (or
 * 128+signal). */
int tu_run(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fails unless the file at path exists and holds exactly `expected`; prints both. */
#define assert_file_equals(path, expected) tu_assert_file((path), (expected), __FILE__, __LINE__)
void tu_assert_file(const char *path, const char *expected, const char *file, int line);

/* A growing text buffer, e.g. for the findings a br_diag_sink callback collects:
 * text is always a NUL-terminated string (empty after _init and _clear). */
typedef struct tu_log {
    char *text;
    size_t len, cap;
} tu_log;
void tu_log_init(tu_log *log);
void tu_log_printf(tu_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tu_log_clear(tu_log *log);
void tu_log_dispose(tu_log *log);

/* Asserts that haystack contains needle, printing both when it does not. */
#define assert_contains(haystack, needle)                                                          \
    tu_assert_contains((haystack), (needle), __FILE__, __LINE__)
void tu_assert_contains(const char *haystack, const char *needle, const char *file, int line);
#define assert_not_contains(haystack, needle)                                                      \
    tu_assert_not_contains((haystack), (needle), __FILE__, __LINE__)
void tu_assert_not_contains(const char *haystack, const char *needle, const char *file, int line);

#endif
