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
/* Path to a file in tests/data (static buffer; copy it to keep). */
const char *tu_data(const char *rel);
/* The bulkrepo binary under test ($BULKREPO_BIN). */
const char *tu_bin(void);

/* Runs `sh -c CMD` where CMD is formatted from fmt; "$BR" in it stands for the
 * binary.  Captures stdout and stderr (malloc'd into *out / *err when not NULL).
 * Returns the exit status (or 128+signal). */
int tu_run(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Asserts that haystack contains needle, printing both when it does not. */
#define assert_contains(haystack, needle) tu_assert_contains((haystack), (needle), __FILE__, __LINE__)
void tu_assert_contains(const char *haystack, const char *needle, const char *file, int line);
#define assert_not_contains(haystack, needle) tu_assert_not_contains((haystack), (needle), __FILE__, __LINE__)
void tu_assert_not_contains(const char *haystack, const char *needle, const char *file, int line);

#endif
