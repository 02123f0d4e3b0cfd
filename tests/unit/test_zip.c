/* br_zip_extract and br_zip_create.  Hostile archives are built here with
 * libzip (zip_source_buffer), so no binary fixture is needed except DSpace's
 * own saf-bitstreams.zip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>
#include "testutil.h"
#include "repo_fixture.h"
#include "bulkrepo/bulkrepo.h"

typedef struct fixture {
    char *tmp;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->tmp = tu_tmpdir();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->tmp);
    free(f->tmp);
    free(f);
    return 0;
}

/* One entry of a test archive.  mode: 0 = libzip's default attributes, else
 * a Unix st_mode stored in the external attributes; dir: a folder entry. */
typedef struct zent {
    const char *name;
    const void *data;
    size_t len;
    unsigned mode;
    int dir;
} zent;

static void make_zip(const char *path, const zent *e, size_t n)
{
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(za);
    for (size_t i = 0; i < n; i++) {
        zip_int64_t idx;
        if (e[i].dir) {
            idx = zip_dir_add(za, e[i].name, ZIP_FL_ENC_UTF_8);
        } else {
            zip_source_t *s = zip_source_buffer(za, e[i].data ? e[i].data : "", e[i].len, 0);
            assert_non_null(s);
            idx = zip_file_add(za, e[i].name, s, ZIP_FL_ENC_UTF_8);
            if (idx < 0) zip_source_free(s);
        }
        if (idx < 0) fail_msg("libzip refused entry '%s': %s", e[i].name, zip_strerror(za));
        if (e[i].mode)
            assert_int_equal(zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0,
                                                              ZIP_OPSYS_UNIX,
                                                              (zip_uint32_t)e[i].mode << 16),
                             0);
    }
    if (zip_close(za)) fail_msg("zip_close: %s", zip_strerror(za));
}

#define T(s) s, sizeof(s) - 1

/* ---- the DSpace fixture ----------------------------------------------------- */

static void test_extract_dspace_reference(void **state)
{
    fixture *f = *state;
    char root[4096];
    br_error err = {0};
    int rc = br_zip_extract(tu_data("saf/saf-bitstreams.zip"), tu_path(f->tmp, "x"), NULL, root,
                            sizeof root, &err);
    if (rc) fail_msg("%s", tu_errtext(&err));
    assert_string_equal(root, tu_path(f->tmp, "x/saf"));
    char *s = tu_read(tu_path(f->tmp, "x/saf/item_000/file1.txt"));
    assert_string_equal(s, "TEST TEST TEST\n");
    free(s);
    s = tu_read(tu_path(f->tmp, "x/saf/item_000/contents"));
    assert_contains(s, "file1.txt");
    free(s);
}

/* ---- root detection ------------------------------------------------------------ */

/* Zips e, extracts it to x/ and checks the root found: x/<want>, or x itself
 * when want is "". */
static void expect_root(fixture *f, const zent *e, size_t n, const char *want)
{
    make_zip(tu_path(f->tmp, "r.zip"), e, n);
    char root[4096];
    br_error err = {0};
    int rc = br_zip_extract(tu_path(f->tmp, "r.zip"), tu_path(f->tmp, "x"), NULL, root, sizeof root,
                            &err);
    if (rc) fail_msg("%s", tu_errtext(&err));
    assert_string_equal(root, *want ? tu_path(f->tmp, want) : tu_path(f->tmp, "x"));
}

static void test_root_wrapping_folder(void **state)
{
    fixture *f = *state;
    zent e[] = {{"saf", NULL, 0, 0, 1},
                {"saf/item_000/dublin_core.xml", T("<dublin_core/>"), 0, 0},
                {"saf/item_001/dublin_core.xml", T("<dublin_core/>"), 0, 0}};
    expect_root(f, e, 3, "x/saf");
    assert_true(tu_exists(tu_path(f->tmp, "x/saf/item_001/dublin_core.xml")));
}

static void test_root_items_at_top(void **state)
{
    fixture *f = *state;
    zent e[] = {{"item_000/dublin_core.xml", T("<dublin_core/>"), 0, 0},
                {"item_001/dublin_core.xml", T("<dublin_core/>"), 0, 0}};
    expect_root(f, e, 2, "");
    assert_true(tu_exists(tu_path(f->tmp, "x/item_001/dublin_core.xml")));
}

/* One item folder at the top, with a sub-folder of images: the entries are 3
 * deep, but the top folder is an item (it has dublin_core.xml), not a wrapper. */
static void test_root_single_item_with_subfolder(void **state)
{
    fixture *f = *state;
    zent e[] = {{"item_000/dublin_core.xml", T("<dublin_core/>"), 0, 0},
                {"item_000/contents", T("images/p1.jpg\n"), 0, 0},
                {"item_000/images/p1.jpg", T("jpg"), 0, 0}};
    expect_root(f, e, 3, "");
}

/* Two top-level folders: no single wrapper, the extract folder is the root. */
static void test_root_two_top_folders(void **state)
{
    fixture *f = *state;
    zent e[] = {{"a/item_000/dublin_core.xml", T("<dublin_core/>"), 0, 0},
                {"b/item_000/dublin_core.xml", T("<dublin_core/>"), 0, 0}};
    expect_root(f, e, 2, "");
}

/* __MACOSX entries are skipped and do not count as a second top folder
 * (DSpace would even pick __MACOSX as the root when it comes first). */
static void test_macosx_skipped(void **state)
{
    fixture *f = *state;
    zent e[] = {{"__MACOSX/saf/item_000/._dublin_core.xml", T("junk"), 0, 0},
                {"saf/item_000/dublin_core.xml", T("<dublin_core/>"), 0, 0},
                {"saf/.DS_Store", T("junk"), 0, 0}};
    expect_root(f, e, 3, "x/saf");
    assert_false(tu_exists(tu_path(f->tmp, "x/__MACOSX")));
}

/* ---- hostile names and types ------------------------------------------------------ */

static void expect_rejected(fixture *f, const zent *e, size_t n, int code, const char *msg)
{
    make_zip(tu_path(f->tmp, "bad.zip"), e, n);
    char root[4096] = "unchanged";
    br_error err = {0};
    int rc = br_zip_extract(tu_path(f->tmp, "bad.zip"), tu_path(f->tmp, "dest/x"), NULL, root,
                            sizeof root, &err);
    assert_int_equal(rc, code);
    assert_contains(tu_errtext(&err), msg);
    /* nothing next to the extract folder or above it */
    assert_false(tu_exists(tu_path(f->tmp, "dest/evil")));
    assert_false(tu_exists(tu_path(f->tmp, "evil")));
}

static void test_traversal_entry(void **state)
{
    fixture *f = *state;
    zent e[] = {{"item_000/dublin_core.xml", T("<dublin_core/>"), 0, 0},
                {"../evil", T("owned"), 0, 0}};
    expect_rejected(f, e, 2, BR_EINVAL,
                    "bad.zip: entry '../evil': the path leaves its folder ('..')");
    /* rejected before anything is written */
    assert_false(tu_exists(tu_path(f->tmp, "dest/x/item_000/dublin_core.xml")));
}

static void test_traversal_inside_entry(void **state)
{
    fixture *f = *state;
    zent e[] = {{"item_000/../../evil", T("owned"), 0, 0}};
    expect_rejected(f, e, 1, BR_EINVAL, "entry 'item_000/../../evil': the path leaves its folder");
}

static void test_absolute_entry(void **state)
{
    fixture *f = *state;
    char name[4200];
    snprintf(name, sizeof name, "%s", tu_path(f->tmp, "evil"));
    zent e[] = {{name, T("owned"), 0, 0}};
    expect_rejected(f, e, 1, BR_EINVAL, "the path is absolute");
}

static void test_backslash_entry(void **state)
{
    fixture *f = *state;
    zent e[] = {{"..\\evil", T("owned"), 0, 0}};
    expect_rejected(f, e, 1, BR_EINVAL, "entry '..\\evil': the path contains a backslash");
}

static void test_symlink_entry(void **state)
{
    fixture *f = *state;
    zent e[] = {{"item_000/dublin_core.xml", T("/etc/passwd"), S_IFLNK | 0777, 0}};
    expect_rejected(f, e, 1, BR_EINVAL, "entry 'item_000/dublin_core.xml': is a symbolic link");
    assert_false(tu_exists(tu_path(f->tmp, "dest/x/item_000/dublin_core.xml")));
}

static void test_special_file_entry(void **state)
{
    fixture *f = *state;
    zent e[] = {{"item_000/fifo", T(""), S_IFIFO | 0644, 0}};
    expect_rejected(f, e, 1, BR_EINVAL, "entry 'item_000/fifo': is a special file");
}

/* A folder in dest_dir that is a link to somewhere else is never followed. */
static void test_existing_symlink_not_followed(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkdir(tu_path(f->tmp, "outside"), 0755), 0);
    assert_int_equal(mkdir(tu_path(f->tmp, "dest"), 0755), 0);
    assert_int_equal(symlink(tu_path(f->tmp, "outside"), tu_path(f->tmp, "dest/saf")), 0);
    zent e[] = {{"saf/item_000/dublin_core.xml", T("<dublin_core/>"), 0, 0}};
    make_zip(tu_path(f->tmp, "l.zip"), e, 1);
    br_error err = {0};
    int rc = br_zip_extract(tu_path(f->tmp, "l.zip"), tu_path(f->tmp, "dest"), NULL, NULL, 0, &err);
    assert_int_equal(rc, BR_EINVAL);
    assert_contains(tu_errtext(&err), "entry 'saf/item_000/dublin_core.xml'");
    assert_false(tu_exists(tu_path(f->tmp, "outside/item_000")));
}

/* ---- not a zip --------------------------------------------------------------- */

static void test_not_a_zip(void **state)
{
    fixture *f = *state;
    tu_write(f->tmp, "notes.zip", "this is a text file, not an archive\n");
    br_error err = {0};
    int rc =
        br_zip_extract(tu_path(f->tmp, "notes.zip"), tu_path(f->tmp, "x"), NULL, NULL, 0, &err);
    assert_int_equal(rc, BR_EINVAL);
    assert_contains(tu_errtext(&err), "notes.zip: is not a zip archive");
    assert_false(tu_exists(tu_path(f->tmp, "x")));

    rc = br_zip_extract(tu_path(f->tmp, "missing.zip"), tu_path(f->tmp, "x"), NULL, NULL, 0, &err);
    assert_int_equal(rc, BR_ENOTFOUND);
}

/* ---- caps ------------------------------------------------------------------------- */

static void small_limits(br_limits *lim)
{
    br_limits_default(lim);
    lim->max_file_size = 1024 * 1024;
    lim->max_archive_size = 4 * 1024 * 1024;
}

/* 5 MB of zeros compress to a few kB: refused on its declared size. */
static void test_bomb_declared_size(void **state)
{
    fixture *f = *state;
    size_t n = 5u * 1024 * 1024;
    char *zeros = calloc(1, n);
    zent e[] = {{"saf/item_000/bomb.bin", zeros, n, 0, 0}};
    make_zip(tu_path(f->tmp, "bomb.zip"), e, 1);
    free(zeros);
    br_limits lim;
    small_limits(&lim);
    br_error err = {0};
    int rc = br_zip_extract(tu_path(f->tmp, "bomb.zip"), tu_path(f->tmp, "x"), &lim, NULL, 0, &err);
    assert_int_equal(rc, BR_ELIMIT);
    assert_contains(tu_errtext(&err), "entry 'saf/item_000/bomb.bin'");
    assert_false(tu_exists(tu_path(f->tmp, "x/saf/item_000/bomb.bin")));
}

/* Patches the uncompressed size of every entry (local and central headers) to
 * `size`: an archive that lies about what it inflates to. */
static void patch_sizes(const char *path, uint32_t size)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    unsigned char *b = malloc((size_t)len);
    fseek(fp, 0, SEEK_SET);
    assert_int_equal(fread(b, 1, (size_t)len, fp), (size_t)len);
    unsigned char le[4] = {size & 0xff, (size >> 8) & 0xff, (size >> 16) & 0xff, size >> 24};
    int patched = 0;
    for (long i = 0; i + 46 <= len; i++) {
        if (!memcmp(b + i, "PK\3\4", 4)) {
            memcpy(b + i + 22, le, 4);
            patched++;
        } else if (!memcmp(b + i, "PK\1\2", 4)) {
            memcpy(b + i + 24, le, 4);
            patched++;
        }
    }
    assert_int_equal(patched, 2);
    fseek(fp, 0, SEEK_SET);
    assert_int_equal(fwrite(b, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    free(b);
}

/* The declared size says 1000 bytes: the cap still holds on what is inflated. */
static void test_bomb_lying_size(void **state)
{
    fixture *f = *state;
    size_t n = 3u * 1024 * 1024;
    char *zeros = calloc(1, n);
    zent e[] = {{"bomb.bin", zeros, n, 0, 0}};
    make_zip(tu_path(f->tmp, "liar.zip"), e, 1);
    free(zeros);
    patch_sizes(tu_path(f->tmp, "liar.zip"), 1000);
    br_limits lim;
    small_limits(&lim);
    lim.max_ratio = 1000000; /* only the size cap is under test */
    br_error err = {0};
    int rc = br_zip_extract(tu_path(f->tmp, "liar.zip"), tu_path(f->tmp, "x"), &lim, NULL, 0, &err);
    assert_int_equal(rc, BR_ELIMIT);
    assert_contains(tu_errtext(&err),
                    "entry 'bomb.bin': inflates to more than the 1048576 bytes allowed");
    struct stat st;
    if (!lstat(tu_path(f->tmp, "x/bomb.bin"), &st))
        assert_true((uint64_t)st.st_size <= lim.max_file_size);
}

static void test_bomb_ratio(void **state)
{
    fixture *f = *state;
    size_t n = 3u * 1024 * 1024;
    char *zeros = calloc(1, n);
    zent e[] = {{"zeros.bin", zeros, n, 0, 0}};
    make_zip(tu_path(f->tmp, "ratio.zip"), e, 1);
    br_limits lim;
    br_limits_default(&lim);
    lim.max_ratio = 100;
    br_error err = {0};
    int rc =
        br_zip_extract(tu_path(f->tmp, "ratio.zip"), tu_path(f->tmp, "x"), &lim, NULL, 0, &err);
    assert_int_equal(rc, BR_ELIMIT);
    assert_contains(tu_errtext(&err), "entry 'zeros.bin': compressed more than 100:1");

    /* The same with lying sizes: caught while inflating. */
    patch_sizes(tu_path(f->tmp, "ratio.zip"), 1000);
    tu_rmtree(tu_path(f->tmp, "x"));
    rc = br_zip_extract(tu_path(f->tmp, "ratio.zip"), tu_path(f->tmp, "x"), &lim, NULL, 0, &err);
    assert_int_equal(rc, BR_ELIMIT);
    assert_contains(tu_errtext(&err), "compressed more than 100:1");

    /* Small, very compressible files are fine under the default ratio. */
    memset(zeros, 'a', 64 * 1024);
    zent ok[] = {{"item_000/dublin_core.xml", zeros, 64 * 1024, 0, 0}};
    make_zip(tu_path(f->tmp, "small.zip"), ok, 1);
    br_limits_default(&lim);
    assert_int_equal(
        br_zip_extract(tu_path(f->tmp, "small.zip"), tu_path(f->tmp, "y"), &lim, NULL, 0, &err), 0);
    free(zeros);
}

static void test_archive_total_and_entries(void **state)
{
    fixture *f = *state;
    size_t n = 900u * 1024;
    char *data = malloc(n);
    /* incompressible-ish bytes so the ratio cap stays out of the way */
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (char)(x >> 24);
    }
    zent e[] = {{"a.bin", data, n, 0, 0}, {"b.bin", data, n, 0, 0}, {"c.bin", data, n, 0, 0}};
    make_zip(tu_path(f->tmp, "big.zip"), e, 3);
    br_limits lim;
    small_limits(&lim);
    lim.max_archive_size = 2u * 1024 * 1024;
    br_error err = {0};
    assert_int_equal(
        br_zip_extract(tu_path(f->tmp, "big.zip"), tu_path(f->tmp, "x"), &lim, NULL, 0, &err),
        BR_ELIMIT);
    assert_contains(tu_errtext(&err), "more than the 2097152 bytes allowed");

    small_limits(&lim);
    lim.max_entries = 2;
    assert_int_equal(
        br_zip_extract(tu_path(f->tmp, "big.zip"), tu_path(f->tmp, "y"), &lim, NULL, 0, &err),
        BR_ELIMIT);
    assert_contains(tu_errtext(&err), "3 entries, more than the 2 allowed");

    small_limits(&lim);
    assert_int_equal(
        br_zip_extract(tu_path(f->tmp, "big.zip"), tu_path(f->tmp, "z"), &lim, NULL, 0, &err), 0);
    free(data);
}

/* 490 entries of 1 MB of zeros: each entry is under the per-entry floor, the
 * archive (about 535 KB) inflates to 490 MB.  Refused by the archive's ratio,
 * before anything is written; with lying sizes, while inflating, and what was
 * written is removed. */
static void make_many_zeros(const char *path, size_t n_entries)
{
    size_t n = 1000u * 1000;
    char *zeros = calloc(1, n);
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(za);
    for (size_t i = 0; i < n_entries; i++) {
        char name[64];
        snprintf(name, sizeof name, "saf/item_%03zu/zeros.bin", i);
        zip_source_t *src = zip_source_buffer(za, zeros, n, 0);
        assert_non_null(src);
        assert_true(zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8) >= 0);
    }
    if (zip_close(za)) fail_msg("zip_close: %s", zip_strerror(za));
    free(zeros);
}

static void test_bomb_many_entries(void **state)
{
    fixture *f = *state;
    make_many_zeros(tu_path(f->tmp, "many.zip"), 490);
    struct stat zs;
    assert_int_equal(stat(tu_path(f->tmp, "many.zip"), &zs), 0);
    assert_true(zs.st_size < 1000 * 1000);
    br_error err = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = br_zip_extract(tu_path(f->tmp, "many.zip"), tu_path(f->tmp, "x"), NULL, NULL, 0, &err);
    assert_int_equal(rc, BR_ELIMIT);
    assert_contains(tu_errtext(&err), "many.zip: the archive inflates to more than 200 times its "
                                      "size (490000000 bytes from");
    assert_false(tu_exists(tu_path(f->tmp, "x")));

    /* The headers lie (1000 bytes each): caught on the bytes inflated, and
     * every file and folder written so far is removed. */
    FILE *fp = fopen(tu_path(f->tmp, "many.zip"), "r+b");
    assert_non_null(fp);
    unsigned char *b = malloc((size_t)zs.st_size);
    assert_int_equal(fread(b, 1, (size_t)zs.st_size, fp), (size_t)zs.st_size);
    int patched = 0;
    for (long i = 0; i + 46 <= zs.st_size; i++) {
        static const unsigned char le[4] = {0xe8, 0x03, 0, 0};
        if (!memcmp(b + i, "PK\3\4", 4)) {
            memcpy(b + i + 22, le, 4);
            patched++;
        } else if (!memcmp(b + i, "PK\1\2", 4)) {
            memcpy(b + i + 24, le, 4);
            patched++;
        }
    }
    assert_int_equal(patched, 2 * 490);
    fseek(fp, 0, SEEK_SET);
    assert_int_equal(fwrite(b, 1, (size_t)zs.st_size, fp), (size_t)zs.st_size);
    fclose(fp);
    free(b);
    assert_int_equal(mkdir(tu_path(f->tmp, "y"), 0755), 0);
    tu_write(f->tmp, "y/keep.txt", "the caller's");
    rc = br_zip_extract(tu_path(f->tmp, "many.zip"), tu_path(f->tmp, "y"), NULL, NULL, 0, &err);
    assert_int_equal(rc, BR_ELIMIT);
    assert_contains(tu_errtext(&err), "the archive inflates to more than 200 times its size");
    assert_int_equal(tu_count_entries(tu_path(f->tmp, "y")), 1); /* only what was there */
    assert_true(tu_exists(tu_path(f->tmp, "y/keep.txt")));
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 20);

    /* A higher --max-ratio lets an honest, compressible archive through. */
    make_many_zeros(tu_path(f->tmp, "few.zip"), 3);
    br_limits lim;
    br_limits_default(&lim);
    assert_int_equal(
        br_zip_extract(tu_path(f->tmp, "few.zip"), tu_path(f->tmp, "z"), &lim, NULL, 0, &err),
        BR_ELIMIT);
    lim.max_ratio = 2000;
    assert_int_equal(
        br_zip_extract(tu_path(f->tmp, "few.zip"), tu_path(f->tmp, "z"), &lim, NULL, 0, &err), 0);
}

/* An archive refused half-way (an entry name repeated) leaves nothing. */
static void test_failed_extract_leaves_nothing(void **state)
{
    fixture *f = *state;
    zent e[] = {{"saf/item_000/dublin_core.xml", T("<dublin_core/>"), 0, 0},
                {"saf/item_001/a/b/c.txt", T("x"), 0, 0},
                {"saf/item_001/d/", NULL, 0, 0, 1},
                {"saf/item_001/a/b/c.txt", T("again"), 0, 0}};
    int zerr = 0;
    zip_t *za = zip_open(tu_path(f->tmp, "dup.zip"), ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(za);
    for (size_t i = 0; i < 4; i++) {
        zip_int64_t idx;
        if (e[i].dir) {
            idx = zip_dir_add(za, e[i].name, ZIP_FL_ENC_UTF_8);
        } else {
            zip_source_t *src = zip_source_buffer(za, e[i].data, e[i].len, 0);
            /* libzip refuses a repeated name unless told to overwrite: write
             * the second under another name and rename it after. */
            idx = zip_file_add(za, i == 3 ? "saf/item_001/a/b/c.tmp" : e[i].name, src,
                               ZIP_FL_ENC_UTF_8);
        }
        assert_true(idx >= 0);
    }
    if (zip_close(za)) fail_msg("zip_close: %s", zip_strerror(za));
    /* same length names: patch the bytes */
    char *b;
    size_t len;
    FILE *fp = fopen(tu_path(f->tmp, "dup.zip"), "r+b");
    fseek(fp, 0, SEEK_END);
    len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    b = malloc(len);
    assert_int_equal(fread(b, 1, len, fp), len);
    for (size_t i = 0; i + 22 <= len; i++)
        if (!memcmp(b + i, "saf/item_001/a/b/c.tmp", 22))
            memcpy(b + i, "saf/item_001/a/b/c.txt", 22);
    fseek(fp, 0, SEEK_SET);
    assert_int_equal(fwrite(b, 1, len, fp), len);
    fclose(fp);
    free(b);
    br_error err = {0};
    int rc =
        br_zip_extract(tu_path(f->tmp, "dup.zip"), tu_path(f->tmp, "out/x"), NULL, NULL, 0, &err);
    assert_int_equal(rc, BR_EINVAL);
    assert_contains(tu_errtext(&err), "appears twice in the archive");
    assert_false(tu_exists(tu_path(f->tmp, "out/x")));
}

/* The defaults are the documented ones (docs/limits.md). */
static void test_default_caps(void **state)
{
    (void)state;
    br_limits lim;
    br_limits_default(&lim);
    assert_int_equal(lim.max_entries, 100000);
    assert_int_equal(lim.max_ratio, 200);
    assert_int_equal(lim.max_xml_attributes, 64);
    assert_int_equal(lim.max_xml_attribute, 4096);
    assert_int_equal(lim.max_relationships, 10000);
}

/* ---- creation ------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc(*len + 1);
    assert_int_equal(fread(b, 1, *len, fp), *len);
    fclose(fp);
    return b;
}

static void make_tree(fixture *f, const char *dir)
{
    char d[4096];
    snprintf(d, sizeof d, "%s/%s", f->tmp, dir);
    tu_write(d, "item_1/dublin_core.xml",
             "<dublin_core><dcvalue element=\"title\">T</dcvalue></dublin_core>\n");
    tu_write(d, "item_1/contents", "file 1.pdf\n");
    tu_write(d, "item_1/file 1.pdf", "%PDF-1.4 fake\n");
    tu_write(d, "item_0/dublin_core.xml", "<dublin_core/>\n");
    tu_write(d, "item_0/sub/deep.txt", "deep\n");
}

static void test_create_deterministic(void **state)
{
    fixture *f = *state;
    make_tree(f, "src");
    br_error err = {0};
    assert_int_equal(br_zip_create(tu_path(f->tmp, "src"), tu_path(f->tmp, "a.zip"), &err), 0);
    assert_false(tu_exists(tu_path(f->tmp, "a.zip.tmp")));

    /* Different mtimes and another time zone: the same bytes. */
    sleep(1);
    tu_write(tu_path(f->tmp, "src"), "item_1/contents", "file 1.pdf\n");
    const char *tz = getenv("TZ");
    char *saved = tz ? strdup(tz) : NULL;
    setenv("TZ", "Pacific/Auckland", 1);
    tzset();
    assert_int_equal(br_zip_create(tu_path(f->tmp, "src"), tu_path(f->tmp, "b.zip"), &err), 0);
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
    size_t la, lb;
    char *a = slurp(tu_path(f->tmp, "a.zip"), &la), *b = slurp(tu_path(f->tmp, "b.zip"), &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);

    /* Sorted entries, no wrapping folder, deflated. */
    int zerr = 0;
    zip_t *za = zip_open(tu_path(f->tmp, "a.zip"), ZIP_RDONLY, &zerr);
    assert_non_null(za);
    assert_int_equal(zip_get_num_entries(za, 0), 5);
    const char *want[] = {"item_0/dublin_core.xml", "item_0/sub/deep.txt", "item_1/contents",
                          "item_1/dublin_core.xml", "item_1/file 1.pdf"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(zip_get_name(za, (zip_uint64_t)i, 0), want[i]);
        zip_stat_t st;
        assert_int_equal(zip_stat_index(za, (zip_uint64_t)i, 0, &st), 0);
        assert_int_equal(st.comp_method, ZIP_CM_DEFLATE);
    }
    zip_discard(za);

    /* And it reads back as the same package. */
    char root[4096];
    assert_int_equal(br_zip_extract(tu_path(f->tmp, "a.zip"), tu_path(f->tmp, "back"), NULL, root,
                                    sizeof root, &err),
                     0);
    assert_string_equal(root, tu_path(f->tmp, "back"));
    char *s = tu_read(tu_path(f->tmp, "back/item_1/file 1.pdf"));
    assert_string_equal(s, "%PDF-1.4 fake\n");
    free(s);
}

static void test_create_rejects_symlink(void **state)
{
    fixture *f = *state;
    make_tree(f, "src");
    assert_int_equal(symlink("/etc/passwd", tu_path(f->tmp, "src/item_0/passwd")), 0);
    br_error err = {0};
    assert_int_equal(br_zip_create(tu_path(f->tmp, "src"), tu_path(f->tmp, "a.zip"), &err),
                     BR_EINVAL);
    assert_contains(tu_errtext(&err), "symbolic link");
    assert_false(tu_exists(tu_path(f->tmp, "a.zip")));
    assert_false(tu_exists(tu_path(f->tmp, "a.zip.tmp")));
}

static void test_create_empty(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkdir(tu_path(f->tmp, "empty"), 0755), 0);
    br_error err = {0};
    assert_int_equal(br_zip_create(tu_path(f->tmp, "empty"), tu_path(f->tmp, "e.zip"), &err), 0);
    int zerr = 0;
    zip_t *za = zip_open(tu_path(f->tmp, "e.zip"), ZIP_RDONLY, &zerr);
    assert_non_null(za);
    assert_int_equal(zip_get_num_entries(za, 0), 0);
    zip_discard(za);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_extract_dspace_reference, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_wrapping_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_items_at_top, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_single_item_with_subfolder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_two_top_folders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_macosx_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traversal_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traversal_inside_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absolute_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backslash_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlink_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_special_file_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_symlink_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_zip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bomb_declared_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bomb_lying_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bomb_ratio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_archive_total_and_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bomb_many_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_extract_leaves_nothing, setup, teardown),
        cmocka_unit_test(test_default_caps),
        cmocka_unit_test_setup_teardown(test_create_deterministic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_rejects_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_empty, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
