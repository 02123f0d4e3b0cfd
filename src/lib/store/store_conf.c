/* Where a repository's database is: DIR/bulkrepo.db (embedded), or the PostgreSQL address that
 * DIR/bulkrepo.conf names.  The file is the repository's own settings, "key = value" lines:
 *
 *   # written by bulkrepo init --store
 *   store = postgresql://bulkrepo@db.example.org/repo
 *
 * It may hold a password (in the address): it is written readable by its owner only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store_internal.h"

#define CONF_MAX 8192 /* the file is a few lines; anything longer is not ours */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

/* Reads DIR/bulkrepo.conf's store address into out ("" when the file has none).
 * 0, BR_ENOTFOUND (no file), BR_EINVAL (a line it does not know, with its place), BR_EIO. */
static int read_conf(const char *path, char *out, size_t size, br_error *err)
{
    out[0] = 0;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT) return BR_ENOTFOUND;
        return br_error_set(err, BR_EIO, path, 0, 0, "cannot read: %s", strerror(errno));
    }
    char buf[CONF_MAX];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int rc = ferror(f) ? br_error_set(err, BR_EIO, path, 0, 0, "cannot read") : 0;
    if (!rc && !feof(f))
        rc = br_error_set(err, BR_ELIMIT, path, 0, 0, "longer than %d bytes", CONF_MAX - 1);
    fclose(f);
    if (rc) return rc;
    buf[n] = 0;
    unsigned lineno = 0;
    for (char *line = buf, *next; line && *line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : NULL;
        if (nl) *nl = 0;
        lineno++;
        char *t = trim(line);
        if (!*t || *t == '#') continue;
        char *eq = strchr(t, '=');
        if (eq) *eq = 0;
        char *key = trim(t), *value = eq ? trim(eq + 1) : NULL;
        if (!value || strcmp(key, "store"))
            return br_error_set(err, BR_EINVAL, path, lineno, 1,
                                "expected \"store = ADDRESS\", found \"%.60s\"", key);
        if (br_strlcpy(out, value, size) >= size)
            return br_error_set(err, BR_ELIMIT, path, lineno, 1, "the store address is too long");
    }
    return 0;
}

int br_store_locate(const char *dir, char *where, size_t size, br_error *err)
{
    char path[4200];
    if (br_path_join(path, sizeof path, dir, BR_STORE_CONF_NAME))
        return br_error_set(err, BR_ELIMIT, dir, 0, 0, "repository path too long");
    int rc = read_conf(path, where, size, err);
    if (rc && rc != BR_ENOTFOUND) return rc;
    if (!rc && where[0]) return 0;
    if (br_path_join(where, size, dir, BR_STORE_DB_NAME))
        return br_error_set(err, BR_ELIMIT, dir, 0, 0, "repository path too long");
    if (access(where, F_OK))
        return br_error_set(
            err, BR_ENOTFOUND, dir, 0, 0,
            "no bulkrepo repository here; create one with `bulkrepo --repo %s init`", dir);
    return 0;
}

int br_store_conf_write(const char *dir, const char *store, br_error *err)
{
    char path[4200], tmp[4300];
    if (br_path_join(path, sizeof path, dir, BR_STORE_CONF_NAME))
        return br_error_set(err, BR_ELIMIT, dir, 0, 0, "repository path too long");
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return br_error_set(err, BR_EIO, tmp, 0, 0, "cannot write: %s", strerror(errno));
    char text[2048];
    int n = snprintf(text, sizeof text,
                     "# The repository's database (bulkrepo init --store); the assetstore and\n"
                     "# settings stay in this folder.\nstore = %s\n",
                     store);
    int rc = 0;
    if (n < 0 || (size_t)n >= sizeof text)
        rc = br_error_set(err, BR_ELIMIT, NULL, 0, 0, "the store address is too long");
    else if (write(fd, text, (size_t)n) != n || fsync(fd))
        rc = br_error_set(err, BR_EIO, tmp, 0, 0, "cannot write: %s", strerror(errno));
    if (close(fd) && !rc) rc = br_error_set(err, BR_EIO, tmp, 0, 0, "cannot write");
    if (!rc && rename(tmp, path))
        rc = br_error_set(err, BR_EIO, path, 0, 0, "cannot write: %s", strerror(errno));
    if (rc) unlink(tmp);
    return rc;
}

void br_store_address_shown(const char *where, char *out, size_t size)
{
    /* scheme://user:password@host... -> scheme://user:***@host... */
    const char *scheme = strstr(where, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
    if (!colon) {
        br_strlcpy(out, where, size);
        return;
    }
    snprintf(out, size, "%.*s:***%s", (int)(colon - where), where, at);
}
