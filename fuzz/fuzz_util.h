/* Shared helpers of the libFuzzer targets (fuzz/README.md): one scratch folder
 * per process, files written from the input, trees removed between runs.  The
 * targets call the library as its callers do; nothing here is under test. */
#ifndef BR_FUZZ_UTIL_H
#define BR_FUZZ_UTIL_H

#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bulkrepo/bulkrepo.h"
#include "bulkrepo/esploro.h"

#define FZ_UNUSED __attribute__((unused))

/* The process's scratch folder under $TMPDIR (made on first use, removed at exit). */
static char fz_root[512];

FZ_UNUSED static void fz_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st)) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                char sub[4096];
                if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < sizeof sub)
                    fz_rmtree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void fz_cleanup(void)
{
    if (fz_root[0]) fz_rmtree(fz_root);
}

FZ_UNUSED static const char *fz_dir(void)
{
    if (!fz_root[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(fz_root, sizeof fz_root, "%s/bulkrepo-fuzz-XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(fz_root)) abort();
        atexit(fz_cleanup);
    }
    return fz_root;
}

/* "<scratch>/rel" in a static buffer (one of four). */
FZ_UNUSED static const char *fz_path(const char *rel)
{
    static char bufs[4][4096];
    static int k;
    char *b = bufs[k++ & 3];
    snprintf(b, 4096, "%s/%s", fz_dir(), rel);
    return b;
}

FZ_UNUSED static void fz_write(const char *path, const void *data, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) abort();
    const char *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) abort();
        p += w;
        n -= (size_t)w;
    }
    close(fd);
}

/* Splits data at each "\n%%\n" (a line holding %%): part i is *part[i] of
 * *len[i] bytes; returns how many (at most max). */
FZ_UNUSED static size_t fz_split(const uint8_t *data, size_t size, const uint8_t **part,
                                 size_t *len, size_t max)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i + 4 <= size && n + 1 < max; i++) {
        if (!memcmp(data + i, "\n%%\n", 4)) {
            part[n] = data + start;
            len[n++] = i - start;
            start = i + 4;
            i += 3;
        }
    }
    part[n] = data + start;
    len[n++] = size - start;
    return n;
}

/* A sink that only counts (the findings' text is formatted by the library). */
FZ_UNUSED static void fz_diag(void *ctx, const br_diag *d)
{
    (void)ctx;
    /* Touch every field: a dangling pointer shows up under ASan here. */
    volatile size_t n = 0;
    if (d->source) n += strlen(d->source);
    if (d->message) n += strlen(d->message);
    if (d->hint) n += strlen(d->hint);
    if (d->rule) n += strlen(d->rule);
    if (d->item) n += strlen(d->item);
    (void)n;
}

#endif
