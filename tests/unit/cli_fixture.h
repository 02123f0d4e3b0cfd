/* Shared fixture for the CLI integration tests (test_cli_import.c,
 * test_cli_export.c): every test gets a fresh folder DIR holding a new
 * repository DIR/r with one collection, and runs the bulkrepo binary
 * ($BULKREPO_BIN) exactly as a user would, from DIR.
 *
 *   RUN(f, want, "import -a -s p -c %s -m map", f->coll);
 *
 * runs `cd DIR && "$BR" --repo DIR/r import ...`, keeps stdout and stderr in
 * f->out / f->err and fails the test (printing both) when the exit status is
 * not `want`.  The helpers below read the repository back through the CLI
 * (item list/show, job show, fsck) and parse the JSON with jansson.
 *
 * Any sanitizer report on a command's stderr fails the test (run them with
 * BULKREPO_BIN pointing at an ASan build); BULKREPO_TEST_TIMING=1 prints each
 * test's duration. */
#ifndef BR_CLI_FIXTURE_H
#define BR_CLI_FIXTURE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <zip.h>
#include "testutil.h"
#include "pg.h"

typedef struct fx {
    char *dir;       /* the test's folder: commands run here */
    char repo[4200]; /* DIR/r */
    char coll[128];  /* the collection made by the setup */
    char *out, *err; /* of the last command */
    int rc;
    double t0; /* when the setup started */
} fx;

static inline double fx_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void fx_reset_output(fx *f)
{
    free(f->out);
    free(f->err);
    f->out = f->err = NULL;
}

/* Any shell command, run in DIR ("$BR" is the binary). */
static inline int fx_sh(fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int fx_sh(fx *f, const char *fmt, ...)
{
    char cmd[12000];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    fx_reset_output(f);
    f->rc = tu_run(&f->out, &f->err, "cd '%s' && %s", f->dir, cmd);
    /* Under ASan/UBSan, any sanitizer report fails the test. */
    static const char *const san[] = {"runtime error:", "AddressSanitizer", "LeakSanitizer",
                                      "UndefinedBehaviorSanitizer"};
    for (size_t i = 0; i < sizeof san / sizeof san[0]; i++)
        if (f->err && strstr(f->err, san[i])) {
            print_error("sanitizer report from `%s`:\n%s\n", cmd, f->err);
            fail();
        }
    return f->rc;
}

static inline int fx_vbr(fx *f, const char *fmt, va_list ap)
{
    char args[10000];
    int n = vsnprintf(args, sizeof args, fmt, ap);
    assert_true(n >= 0 && (size_t)n < sizeof args);
    return fx_sh(f, "\"$BR\" --repo '%s' %s", f->repo, args);
}

/* bulkrepo --repo DIR/r ARGS */
static inline int fx_br(fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int fx_br(fx *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = fx_vbr(f, fmt, ap);
    va_end(ap);
    return rc;
}

static inline void fx_expect(fx *f, int want, const char *file, int line)
{
    if (f->rc == want) return;
    print_error("%s:%d: exit status %d, expected %d\n--- stdout:\n%s\n--- stderr:\n%s\n", file,
                line, f->rc, want, f->out ? f->out : "", f->err ? f->err : "");
    _fail(file, line);
}

/* Runs bulkrepo and asserts its exit status. */
#define RUN(f, want, ...)                                                                          \
    do {                                                                                           \
        fx_br((f), __VA_ARGS__);                                                                   \
        fx_expect((f), (want), __FILE__, __LINE__);                                                \
    } while (0)
/* Runs a shell command in DIR and asserts its exit status. */
#define SH(f, want, ...)                                                                           \
    do {                                                                                           \
        fx_sh((f), __VA_ARGS__);                                                                   \
        fx_expect((f), (want), __FILE__, __LINE__);                                                \
    } while (0)

/* ---- files ------------------------------------------------------------------------------ */

static inline void fx_write(fx *f, const char *rel, const char *content)
{
    tu_write(f->dir, rel, content);
}

static inline const char *fx_path(fx *f, const char *rel)
{
    return tu_path(f->dir, rel);
}

/* The file's content (malloc'd) or NULL. */
static inline char *fx_read(fx *f, const char *rel)
{
    return tu_read(fx_path(f, rel));
}

static inline int fx_exists(fx *f, const char *rel)
{
    return tu_exists(fx_path(f, rel));
}

/* Entries of a folder (not . and ..), or -1 when it cannot be opened. */
static inline int fx_count_entries(fx *f, const char *rel)
{
    return tu_count_entries(fx_path(f, rel));
}

/* Fails unless DIR/rel holds exactly `expected`. */
#define FX_ASSERT_FILE(f, rel, expected) assert_file_equals(fx_path((f), (rel)), (expected))

/* A minimal dublin_core.xml with one title. */
static inline void fx_dc(fx *f, const char *folder, const char *title)
{
    char rel[1024], xml[2048];
    snprintf(rel, sizeof rel, "%s/dublin_core.xml", folder);
    snprintf(xml, sizeof xml,
             "<dublin_core>\n  <dcvalue element=\"title\" "
             "qualifier=\"none\">%s</dcvalue>\n</dublin_core>\n",
             title);
    fx_write(f, rel, xml);
}

/* Lines of a text file that are not blank. */
static inline int fx_count_lines(fx *f, const char *rel)
{
    char *s = fx_read(f, rel);
    assert_non_null(s);
    int n = 0, in_line = 0;
    for (char *p = s; *p; p++) {
        if (*p == '\n') {
            n += in_line;
            in_line = 0;
        } else if (*p != ' ' && *p != '\r') {
            in_line = 1;
        }
    }
    n += in_line;
    free(s);
    return n;
}

/* The handle a mapfile gives a folder (static buffer), or NULL; fails when the
 * folder is listed more than once. */
static inline const char *fx_map_handle(fx *f, const char *mapfile, const char *folder)
{
    static char handle[8][256];
    static int k;
    char *s = fx_read(f, mapfile);
    assert_non_null(s);
    const char *found = NULL;
    int seen = 0;
    char *save = NULL;
    for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[1024], h[256];
        if (sscanf(line, "%1023s %255s", name, h) != 2) continue;
        if (strcmp(name, folder)) continue;
        seen++;
        k = (k + 1) % 8;
        snprintf(handle[k], sizeof handle[k], "%s", h);
        found = handle[k];
    }
    free(s);
    if (seen > 1) {
        print_error("folder %s is listed %d times in %s\n", folder, seen, mapfile);
        fail();
    }
    return found;
}

/* ---- JSON from the CLI ------------------------------------------------------------------ */

static inline json_t *fx_parse(fx *f, const char *what)
{
    json_error_t je;
    json_t *j = json_loads(f->out ? f->out : "", 0, &je);
    if (!j) print_error("%s: stdout is not JSON (%s):\n%s\n", what, je.text, f->out ? f->out : "");
    assert_non_null(j);
    return j;
}

/* Runs bulkrepo ARGS (which should print JSON), asserts exit 0, returns the JSON. */
static inline json_t *fx_json(fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline json_t *fx_json(fx *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fx_vbr(f, fmt, ap);
    va_end(ap);
    fx_expect(f, 0, __FILE__, __LINE__);
    return fx_parse(f, fmt);
}

/* `item list --json` as text (malloc'd): compare before/after a failed run. */
static inline char *fx_item_list_text(fx *f)
{
    fx_br(f, "item list --json");
    fx_expect(f, 0, __FILE__, __LINE__);
    return strdup(f->out);
}

static inline size_t fx_item_count(fx *f)
{
    json_t *a = fx_json(f, "item list --json");
    assert_true(json_is_array(a));
    size_t n = json_array_size(a);
    json_decref(a);
    return n;
}

static inline json_t *fx_show(fx *f, const char *handle)
{
    assert_non_null(handle);
    return fx_json(f, "item show '%s' --json", handle);
}

static inline json_t *fx_job(fx *f, long long id)
{
    return fx_json(f, "job show %lld --json", id);
}

/* The newest job (job show --json with records). */
static inline json_t *fx_last_job(fx *f)
{
    json_t *a = fx_json(f, "job list --json");
    assert_true(json_array_size(a) > 0);
    long long id = (long long)json_integer_value(json_object_get(json_array_get(a, 0), "id"));
    json_decref(a);
    assert_true(id > 0);
    return fx_job(f, id);
}

static inline long long fx_counter(json_t *job, const char *name)
{
    json_t *v = json_object_get(json_object_get(job, "counters"), name);
    if (!json_is_integer(v)) {
        print_error("job has no counter '%s'\n", name);
        fail();
    }
    return (long long)json_integer_value(v);
}

static inline const char *fx_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static inline const char *fx_status_code(json_t *job)
{
    return fx_str(json_object_get(job, "status"), "code");
}

/* The job record (journal line) for a key, or NULL. */
static inline json_t *fx_job_record(json_t *job, const char *key)
{
    json_t *recs = json_object_get(job, "records"), *r;
    size_t i;
    json_array_foreach(recs, i, r)
    {
        if (!strcmp(fx_str(r, "key") ? fx_str(r, "key") : "", key)) return r;
    }
    return NULL;
}

/* Metadata of an `item show --json` (DSpace REST shape). */
static inline size_t md_n(json_t *item, const char *field)
{
    return json_array_size(json_object_get(json_object_get(item, "metadata"), field));
}

static inline const char *md(json_t *item, const char *field, size_t i)
{
    json_t *v = json_array_get(json_object_get(json_object_get(item, "metadata"), field), i);
    return v ? fx_str(v, "value") : NULL;
}

static inline const char *md_lang(json_t *item, const char *field, size_t i)
{
    json_t *v = json_array_get(json_object_get(json_object_get(item, "metadata"), field), i);
    return v ? fx_str(v, "language") : NULL;
}

static inline json_t *fx_bitstream(json_t *item, const char *name)
{
    json_t *bs = json_object_get(item, "bitstreams"), *b;
    size_t i;
    json_array_foreach(bs, i, b)
    {
        if (fx_str(b, "name") && !strcmp(fx_str(b, "name"), name)) return b;
    }
    return NULL;
}

/* ---- repository state ------------------------------------------------------------------- */

/* fsck exit 0 and "clean". */
#define ASSERT_FSCK_CLEAN(f)                                                                       \
    do {                                                                                           \
        RUN((f), 0, "fsck");                                                                       \
        assert_contains((f)->out, "clean: ");                                                      \
        assert_not_contains((f)->out, "NOT CLEAN");                                                \
    } while (0)

/* After a rejected run: the item list is what it was, no mapfile was written,
 * the repository's scratch folder is empty and fsck is clean. */
#define ASSERT_NOTHING_WRITTEN(f, before, mapfile)                                                 \
    do {                                                                                           \
        char *after_ = fx_item_list_text(f);                                                       \
        assert_string_equal((before), after_);                                                     \
        free(after_);                                                                              \
        if (mapfile) assert_false(fx_exists((f), (mapfile)));                                      \
        assert_int_equal(fx_count_entries((f), "r/tmp"), 0);                                       \
        ASSERT_FSCK_CLEAN(f);                                                                      \
    } while (0)

/* Regular files stored in the assetstore (temp files excluded). */
static inline int fx_stored_files(fx *f)
{
    fx_sh(f, "find r/assetstore -path r/assetstore/tmp -prune -o -type f -print | wc -l");
    fx_expect(f, 0, __FILE__, __LINE__);
    return atoi(f->out);
}

/* ---- setup ------------------------------------------------------------------------------ */

static inline void fx_chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = 0;
}

/* A new collection's handle (static buffer). */
static inline const char *fx_new_collection(fx *f, const char *name)
{
    static char h[4][128];
    static int k;
    RUN(f, 0, "collection create '%s'", name);
    k = (k + 1) % 4;
    snprintf(h[k], sizeof h[k], "%s", f->out);
    fx_chomp(h[k]);
    assert_non_null(strchr(h[k], '/'));
    return h[k];
}

/* Makes the repository f->repo on the store under test: on PostgreSQL
 * (BULKREPO_TEST_STORE=postgresql, make unit-pg) it gets a database of its own, as a user would
 * (bulkrepo init --store); else the embedded one. */
static inline void fx_init(fx *f)
{
    const char *store = getenv("BULKREPO_TEST_STORE");
    if (store && !strcmp(store, "postgresql")) {
        char url[512];
        assert_int_equal(tpg_create_db(url, sizeof url), 0);
        RUN(f, 0, "init --store '%s'", url);
    } else {
        RUN(f, 0, "init");
    }
}

static inline int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = tu_tmpdir();
    snprintf(f->repo, sizeof f->repo, "%s/r", f->dir);
    f->t0 = fx_now();
    fx_init(f);
    snprintf(f->coll, sizeof f->coll, "%s", fx_new_collection(f, "X"));
    *state = f;
    return 0;
}

static inline int fx_teardown(void **state)
{
    fx *f = *state;
    if (!f) return 0;
    if (getenv("BULKREPO_TEST_TIMING")) print_message("[  TIME    ] %.2f s\n", fx_now() - f->t0);
    tu_rmtree(f->dir);
    free(f->dir);
    fx_reset_output(f);
    free(f);
    return 0;
}

/* Stops a `bulkrepo serve` a test started (SIGTERM, then waits): 1 when it did not exit
 * cleanly or its stderr (DIR/serve.err) holds a sanitizer report (printed), else 0. */
static inline int fx_serve_stop(pid_t pid, const char *dir)
{
    int st = 0;
    kill(pid, SIGTERM);
    waitpid(pid, &st, 0);
    char path[4400];
    snprintf(path, sizeof path, "%s/serve.err", dir);
    char *err = tu_read(path);
    int sanitizer = err && (strstr(err, "Sanitizer") || strstr(err, "runtime error:"));
    if (sanitizer) print_error("bulkrepo serve:\n%s\n", err);
    free(err);
    return !(WIFEXITED(st) && WEXITSTATUS(st) == 0) || sanitizer;
}

#define FX_TEST(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

/* The package generator ($GEN_SAF, else tools/gen_saf next to the binary). */
static inline const char *fx_gen_saf(void)
{
    static char path[4096];
    const char *g = getenv("GEN_SAF");
    if (g && *g) return g;
    snprintf(path, sizeof path, "%s", tu_bin());
    char *slash = strrchr(path, '/');
    snprintf(slash ? slash + 1 : path, sizeof path - (size_t)(slash ? slash + 1 - path : 0),
             "tools/gen_saf");
    if (access(path, X_OK)) {
        print_error("GEN_SAF is not set and %s does not exist (make tools)\n", path);
        fail();
    }
    return path;
}

/* Writes N generated items (item_000000 ...) into DIR/rel. */
static inline void fx_gen(fx *f, const char *rel, int n)
{
    SH(f, 0, "'%s' '%s' %d >/dev/null", fx_gen_saf(), rel, n);
}

/* ---- zip archives ----------------------------------------------------------------------- */

enum { ZE_FILE = 0, ZE_DIR, ZE_SYMLINK };
typedef struct zent {
    const char *name;
    const char *data; /* file content, or a symlink's target */
    int kind;
} zent;

/* Writes DIR/rel as a zip holding the entries (built with libzip). */
static inline void fx_zip(fx *f, const char *rel, const zent *e, size_t n)
{
    int zerr = 0;
    zip_t *za = zip_open(fx_path(f, rel), ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(za);
    for (size_t i = 0; i < n; i++) {
        zip_int64_t idx;
        if (e[i].kind == ZE_DIR) {
            idx = zip_dir_add(za, e[i].name, ZIP_FL_ENC_UTF_8);
        } else {
            const char *d = e[i].data ? e[i].data : "";
            zip_source_t *src = zip_source_buffer(za, d, strlen(d), 0);
            assert_non_null(src);
            idx = zip_file_add(za, e[i].name, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
            if (idx < 0) zip_source_free(src);
        }
        if (idx < 0) print_error("zip: cannot add '%s': %s\n", e[i].name, zip_strerror(za));
        assert_true(idx >= 0);
        if (e[i].kind == ZE_SYMLINK)
            assert_int_equal(zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0,
                                                              ZIP_OPSYS_UNIX,
                                                              (zip_uint32_t)(S_IFLNK | 0777) << 16),
                             0);
    }
    if (zip_close(za)) {
        print_error("zip_close: %s\n", zip_strerror(za));
        zip_discard(za);
        fail();
    }
}

#define DC_XML(title)                                                                              \
    "<dublin_core>\n  <dcvalue element=\"title\" qualifier=\"none\">" title                        \
    "</dcvalue>\n</dublin_core>\n"

#endif
