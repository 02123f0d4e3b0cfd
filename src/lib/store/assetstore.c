/* The content-addressed assetstore and the integrity check.
 *
 * A file lives at assetstore/ab/<sha256>: one fan-out level (as git does)
 * keeps directory creation rare, which dominates import time on ext4 when
 * every file gets a folder of its own.  It is written to assetstore/tmp/
 * first and renamed into place, so a reader never sees half a file; durability
 * comes from br_repo_commit's one syncfs per batch, before the rows naming the
 * files are committed.
 *
 * A file's MIME type comes from its name's extension through data/mime_types.tsv,
 * as DSpace's bitstream format registry does; libmagic looks at the first 64 KiB
 * (already read for the checksums) only when the extension is unknown or
 * ambiguous. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store_internal.h"

int br_asset_path(const br_repo *repo, const char *sha256, char *out, size_t size)
{
    if (!sha256 || !out || !size) return BR_EUSAGE;
    int n = snprintf(out, size, "%s/assetstore/%.2s/%s", repo->dir, sha256, sha256);
    return (n < 0 || (size_t)n >= size) ? BR_ELIMIT : 0;
}

/* ---- MIME types ------------------------------------------------------------------------------ */

extern const char br_mime_types_tsv[];

/* The extension of the last component of name, lower-cased into ext: 1, or 0
 * when there is none ("README", ".profile", "a.") or it is too long. */
static int name_extension(const char *name, char *ext, size_t size)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base || !dot[1]) return 0;
    size_t n = strlen(dot + 1);
    if (n >= size) return 0;
    for (size_t i = 0; i <= n; i++)
        ext[i] = (char)tolower((unsigned char)dot[1 + i]);
    return 1;
}

/* Copies the field [s, end) into out; 0 when it does not fit. */
static int copy_field(const char *s, const char *end, char *out, size_t size)
{
    size_t n = (size_t)(end - s);
    if (!out) return 1;
    if (n >= size) return 0;
    memcpy(out, s, n);
    out[n] = 0;
    return 1;
}

/* Declared here for test_mime (the store's internal header is another's):
 *   br_mime_by_name   the table's answer for a name's extension: 1 with mime and
 *                     format (DSpace's short description) filled, 0 when the
 *                     extension is not in the table or ambiguous ("*"), or the
 *                     name has none.  mime or format may be NULL.
 *   br_mime_detect    the type to record: the table's, else libmagic's on head
 *                     (the file's first bytes, n of them) when magic is not NULL;
 *                     NULL when neither knows.  The answer is copied to out. */
int br_mime_by_name(const char *name, char *mime, size_t msize, char *format, size_t fsize);
const char *br_mime_detect(const char *name, const void *head, size_t n, magic_t magic, char *out,
                           size_t size);

int br_mime_by_name(const char *name, char *mime, size_t msize, char *format, size_t fsize)
{
    char ext[16];
    if (!name || !name_extension(name, ext, sizeof ext)) return 0;
    size_t elen = strlen(ext);
    /* The table is a few dozen lines: walked in place, no state, thread-safe. */
    for (const char *p = br_mime_types_tsv; *p;) {
        const char *nl = strchr(p, '\n');
        const char *end = nl ? nl : p + strlen(p);
        const char *line = p;
        p = nl ? nl + 1 : end;
        if (line == end || *line == '#') continue;
        const char *t1 = memchr(line, '\t', (size_t)(end - line));
        if (!t1 || (size_t)(t1 - line) != elen || strncmp(line, ext, elen)) continue;
        const char *m = t1 + 1;
        const char *t2 = memchr(m, '\t', (size_t)(end - m));
        const char *mend = t2 ? t2 : end;
        if (mend == m || (mend - m == 1 && *m == '*')) return 0; /* ambiguous */
        if (!copy_field(m, mend, mime, msize)) return 0;
        if (format && !copy_field(t2 ? t2 + 1 : end, end, format, fsize)) return 0;
        return 1;
    }
    return 0;
}

const char *br_mime_detect(const char *name, const void *head, size_t n, magic_t magic, char *out,
                           size_t size)
{
    if (!out || !size) return NULL;
    if (br_mime_by_name(name, out, size, NULL, 0)) return out;
    if (!magic || !head || !n) return NULL;
    const char *m = magic_buffer(magic, head, n);
    if (!m || !*m || strlen(m) >= size) return NULL;
    br_strlcpy(out, m, size);
    return out;
}

/* 1 when the stored file at path has exactly this content, else 0. */
static int same_content(const char *path, int64_t size, const char *sha256)
{
    struct stat st;
    if (stat(path, &st) || !S_ISREG(st.st_mode) || st.st_size != size) return 0;
    char md5[33], sha[65];
    int64_t n;
    if (br_hash_file(path, md5, sha, &n, NULL)) return 0;
    return n == size && !strcmp(sha, sha256);
}

int br_asset_put_file(br_repo *repo, const char *src, uint64_t max_size, br_record *rec,
                      br_bitstream *bs, br_error *err)
{
    int in = -1, out = -1, rc = 0;
    char tmp[4200] = "", final[4200];
    br_hash h = {0};
    if (!src || !rec || !bs)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_asset_put_file: missing argument");
    in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) return br_error_set(err, BR_EIO, src, 0, 0, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(in, &st) || !S_ISREG(st.st_mode)) {
        rc = br_error_set(err, BR_EINVAL, src, 0, 0, "not a regular file");
        goto done;
    }
    if (max_size && (uint64_t)st.st_size > max_size) {
        rc = br_error_set(err, BR_ELIMIT, src, 0, 0,
                          "file is %lld bytes, more than the %llu allowed", (long long)st.st_size,
                          (unsigned long long)max_size);
        goto done;
    }
    snprintf(tmp, sizeof tmp, "%s/assetstore/tmp/%ld-%u", repo->dir, (long)getpid(),
             repo->tmp_counter++);
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        rc = br_error_set(err, BR_EIO, tmp, 0, 0, "cannot create: %s", strerror(errno));
        tmp[0] = 0;
        goto done;
    }
    if ((rc = br_hash_init(&h))) {
        rc = br_error_set(err, rc, src, 0, 0, "cannot start checksums");
        goto done;
    }
    char buf[65536];
    int64_t total = 0;
    /* By the name's extension (bs->name, else the file's own name); the first
     * read decides otherwise. */
    char mime_buf[256];
    const char *mime = NULL;
    if (br_mime_by_name(bs->name ? bs->name : src, mime_buf, sizeof mime_buf, NULL, 0) ||
        (bs->name && br_mime_by_name(src, mime_buf, sizeof mime_buf, NULL, 0)))
        mime = br_record_str(rec, mime_buf);
    int by_name = mime != NULL;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = br_error_set(err, BR_EIO, src, 0, 0, "read failed: %s", strerror(errno));
            goto done;
        }
        if (n == 0) break;
        if (!total && !by_name) {
            /* libmagic on this first block only (at most 64 KiB), not the file */
            const char *m = br_mime_detect(NULL, buf, (size_t)n, br_repo_magic(repo), mime_buf,
                                           sizeof mime_buf);
            if (m) mime = br_record_str(rec, m);
        }
        total += n;
        if (max_size && (uint64_t)total > max_size) {
            rc = br_error_set(err, BR_ELIMIT, src, 0, 0, "file grew past the %llu bytes allowed",
                              (unsigned long long)max_size);
            goto done;
        }
        if ((rc = br_hash_update(&h, buf, (size_t)n))) {
            rc = br_error_set(err, rc, src, 0, 0, "checksum failed");
            goto done;
        }
        if (br_write_all(out, buf, (size_t)n)) {
            rc = br_error_set(err, BR_EIO, tmp, 0, 0, "write failed: %s", strerror(errno));
            goto done;
        }
    }
    if (close(out)) {
        out = -1;
        rc = br_error_set(err, BR_EIO, tmp, 0, 0, "write failed: %s", strerror(errno));
        goto done;
    }
    out = -1;
    if ((rc = br_hash_final(&h, bs->md5, bs->sha256))) {
        rc = br_error_set(err, rc, src, 0, 0, "checksum failed");
        goto done;
    }
    bs->size = total;
    /* An empty file keeps its extension's type (DSpace); with none it is x-empty. */
    bs->mime = mime ? mime : total ? "application/octet-stream" : "application/x-empty";
    if (br_asset_path(repo, bs->sha256, final, sizeof final)) {
        rc = br_error_set(err, BR_ELIMIT, repo->dir, 0, 0, "the assetstore path is too long");
        goto done;
    }
    /* Make the fan-out folder (ab/). */
    char *slash = strrchr(final, '/');
    *slash = 0;
    if (mkdir(final, 0755) && errno != EEXIST) rc = BR_EIO;
    *slash = '/';
    if (rc) {
        rc = br_error_set(err, BR_EIO, final, 0, 0, "cannot create folder: %s", strerror(errno));
        goto done;
    }
    /* Even a file that is already there may not be on disk yet (a crashed run
     * renamed it and never flushed): the batch commit flushes either way. */
    repo->assets_dirty = 1;
    /* Identical content is stored once; an existing file is trusted only after
     * checking it, since a crash may have left a renamed but unflushed file. */
    if (!access(final, F_OK) && same_content(final, total, bs->sha256)) {
        unlink(tmp);
        tmp[0] = 0;
        goto done;
    }
    if (rename(tmp, final)) {
        rc = br_error_set(err, BR_EIO, final, 0, 0, "cannot move into the assetstore: %s",
                          strerror(errno));
        goto done;
    }
    tmp[0] = 0;
done:
    if (h.md5) br_hash_dispose(&h);
    if (in >= 0) close(in);
    if (out >= 0) close(out);
    if (tmp[0]) unlink(tmp);
    return rc;
}

/* Calls fn for every file below assetstore/ab/. */
static int walk_store(br_repo *repo, int (*fn)(void *, const char *name, const char *path),
                      void *ctx)
{
    char base[4200];
    snprintf(base, sizeof base, "%.4096s/assetstore", repo->dir);
    DIR *d1 = opendir(base);
    if (!d1) return BR_EIO;
    struct dirent *a;
    int rc = 0;
    while (!rc && (a = readdir(d1))) {
        if (strlen(a->d_name) != 2 || !strcmp(a->d_name, "..")) continue;
        char p1[4400];
        snprintf(p1, sizeof p1, "%s/%.2s", base, a->d_name);
        DIR *d2 = opendir(p1);
        if (!d2) {
            if (errno == ENOTDIR) continue; /* not a fan-out folder */
            rc = BR_EIO;                    /* its files would go unchecked */
            break;
        }
        struct dirent *b;
        while (!rc && (b = readdir(d2))) {
            if (b->d_name[0] == '.') continue;
            char p2[4700];
            snprintf(p2, sizeof p2, "%s/%s", p1, b->d_name);
            rc = fn(ctx, b->d_name, p2);
        }
        closedir(d2);
    }
    closedir(d1);
    return rc;
}

/* 1 when a bitstream row names the file, 0 when none does, BR_ESTORE. */
static int has_sha(br_repo *repo, const char *sha)
{
    br_dbst *st = br_stmt(repo, S_BS_HAS_SHA, NULL);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, sha);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) br_db_reset(st);
    return rc == BR_DB_ROW ? 1 : rc == BR_DB_DONE ? 0 : BR_ESTORE;
}

struct gc_ctx {
    br_repo *repo;
    size_t removed;
    size_t failed; /* files that could not be removed */
    int errnum;    /* the first removal's errno */
    char first[4700];
};

static int gc_one(void *ctx, const char *name, const char *path)
{
    struct gc_ctx *g = ctx;
    int used = has_sha(g->repo, name);
    if (used < 0) return used;
    if (used) return 0;
    if (!unlink(path)) {
        g->removed++;
    } else if (errno != ENOENT) { /* gone already: nothing to do */
        if (!g->failed++) {
            g->errnum = errno;
            br_strlcpy(g->first, path, sizeof g->first);
        }
    }
    return 0;
}

int br_asset_gc(br_repo *repo, size_t *removed, br_error *err)
{
    struct gc_ctx g = {repo, 0, 0, 0, ""};
    int rc = walk_store(repo, gc_one, &g);
    if (removed) *removed = g.removed;
    if (rc == BR_ESTORE) return br_store_fail(repo, err, "assetstore cleanup");
    if (rc) return br_error_set(err, rc, repo->dir, 0, 0, "cannot list the assetstore");
    if (g.failed)
        return br_error_set(err, BR_EIO, g.first, 0, 0,
                            "cannot remove %zu unused stored file%s (first: %s)", g.failed,
                            g.failed == 1 ? "" : "s", strerror(g.errnum));
    return 0;
}

/* Removes temp files and scratch folders left by processes that are gone
 * (a crash); files of a live process are left alone. */
int br_repo_clean_stale(br_repo *repo)
{
    int rc = 0;
    const char *dirs[2] = {"assetstore/tmp", "tmp"};
    for (int k = 0; k < 2; k++) {
        char base[4200];
        snprintf(base, sizeof base, "%s/%s", repo->dir, dirs[k]);
        DIR *d = opendir(base);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            /* Names: "<pid>-<n>" (files) or "<tag>-<pid>-XXXXXX" (folders). */
            const char *p = e->d_name;
            long pid = 0;
            if (k == 1) {
                p = strchr(p, '-');
                if (!p) continue;
                p++;
            }
            pid = strtol(p, NULL, 10);
            if (pid <= 0 || pid == (long)getpid()) continue;
            if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
            char path[4500];
            snprintf(path, sizeof path, "%s/%s", base, e->d_name);
            if (br_rmtree(path)) rc = BR_EIO;
        }
        closedir(d);
    }
    return rc;
}

/* ---- fsck ----------------------------------------------------------------------------------- */

struct fsck_ctx {
    br_repo *repo;
    br_diag_sink *diags;
    br_fsck_report *rep;
};

static int fsck_file(void *ctx, const char *name, const char *path)
{
    struct fsck_ctx *f = ctx;
    f->rep->files++;
    int used = has_sha(f->repo, name);
    if (used < 0) return used;
    if (!used) {
        f->rep->orphan_files++;
        br_diag_emitf(f->diags, BR_SEV_ERROR, NULL, path, 0, 0, "fsck.orphan-file",
                      "remove it with `bulkrepo fsck --repair`",
                      "stored file is named by no bitstream");
    }
    return 0;
}

static int count_query(br_repo *repo, const char *sql, int64_t *out, br_error *err)
{
    br_dbst *st;
    if (br_db_prepare(repo->db, sql, -1, &st)) return br_store_fail(repo, err, "prepare");
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) *out = br_db_col_int64(st, 0);
    br_db_finalize(st);
    return rc == BR_DB_ROW ? 0 : br_store_fail(repo, err, "count");
}

int br_repo_fsck(br_repo *repo, br_diag_sink *diags, br_fsck_report *rep, br_error *err)
{
    if (!rep) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_repo_fsck: no report");
    memset(rep, 0, sizeof *rep);
    rep->db_ok = 1;
    const char *check = repo->db->be->integrity_sql; /* NULL: the engine checks itself */
    br_dbst *st = NULL;
    if (check && br_db_prepare(repo->db, check, -1, &st))
        return br_store_fail(repo, err, "prepare");
    int rc = BR_DB_DONE;
    while (st && (rc = br_step(repo, st)) == BR_DB_ROW) {
        const char *msg = br_col_text(st, 0);
        if (msg && strcmp(msg, "ok")) {
            rep->db_ok = 0;
            br_diag_emitf(diags, BR_SEV_ERROR, NULL, "bulkrepo.db", 0, 0, "fsck.sqlite", NULL, "%s",
                          msg);
        }
    }
    if (st && rc != BR_DB_DONE) { /* a check that could not finish passed nothing */
        rep->db_ok = 0;
        br_diag_emitf(diags, BR_SEV_ERROR, NULL, "bulkrepo.db", 0, 0, "fsck.sqlite", NULL,
                      "the integrity check stopped: %s", br_db_errmsg(repo->db));
    }
    br_db_finalize(st);

    /* Orphan rows: foreign keys should make these impossible; check anyway. */
    static const struct {
        const char *what, *sql;
    } orphans[] = {
        {"metadata values", "SELECT count(*) FROM metadata_value v WHERE NOT EXISTS "
                            "(SELECT 1 FROM item i WHERE i.id = v.item_id)"},
        {"bitstreams", "SELECT count(*) FROM bitstream b WHERE NOT EXISTS "
                       "(SELECT 1 FROM item i WHERE i.id = b.item_id)"},
        {"collection mappings", "SELECT count(*) FROM item_collection m WHERE NOT EXISTS "
                                "(SELECT 1 FROM item i WHERE i.id = m.item_id)"},
        {"relationships", "SELECT count(*) FROM relationship r WHERE NOT EXISTS "
                          "(SELECT 1 FROM item i WHERE i.id = r.left_item) OR NOT EXISTS "
                          "(SELECT 1 FROM item i WHERE i.id = r.right_item)"},
        {"items without a collection", "SELECT count(*) FROM item i WHERE i.status <> 'template' "
                                       "AND NOT EXISTS (SELECT 1 FROM item_collection m "
                                       "WHERE m.item_id = i.id)"},
    };
    for (size_t i = 0; i < BR_ARRAY_LEN(orphans); i++) {
        int64_t n = 0;
        rc = count_query(repo, orphans[i].sql, &n, err);
        if (rc) return rc;
        if (n) {
            rep->orphan_rows += (size_t)n;
            br_diag_emitf(diags, BR_SEV_ERROR, NULL, "bulkrepo.db", 0, 0, "fsck.orphan-row", NULL,
                          "%lld orphan %s", (long long)n, orphans[i].what);
        }
    }
    int64_t n = 0;
    rc = count_query(repo, "SELECT count(*) FROM item WHERE status <> 'template'", &n, err);
    if (rc) return rc;
    rep->items = (size_t)n;
    if ((rc = count_query(repo, "SELECT count(*) FROM bitstream", &n, err))) return rc;
    rep->bitstreams = (size_t)n;

    /* Every stored file re-verified against the checksums recorded at import. */
    if (!(st = br_stmt(repo, S_BS_SHA_ALL, err))) return BR_ESTORE;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        const char *sha = br_col_text(st, 0), *md5 = br_col_text(st, 1);
        int64_t size = br_db_col_int64(st, 2);
        char path[4200], m[33], s[65];
        int64_t got = 0;
        br_asset_path(repo, sha, path, sizeof path);
        if (access(path, F_OK)) {
            rep->missing_files++;
            br_diag_emitf(diags, BR_SEV_ERROR, NULL, path, 0, 0, "fsck.missing-file", NULL,
                          "stored file is missing (%lld bitstream rows name it)",
                          (long long)br_db_col_int64(st, 3));
        } else if (br_hash_file(path, m, s, &got, NULL) || strcmp(s, sha) || strcmp(m, md5) ||
                   got != size) {
            rep->bad_checksums++;
            br_diag_emitf(diags, BR_SEV_ERROR, NULL, path, 0, 0, "fsck.checksum", NULL,
                          "content does not match its recorded SHA-256/MD5/size");
        }
    }
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "bitstream scan");

    struct fsck_ctx f = {repo, diags, rep};
    if ((rc = walk_store(repo, fsck_file, &f)))
        return rc == BR_ESTORE
                   ? br_store_fail(repo, err, "assetstore scan")
                   : br_error_set(err, rc, repo->dir, 0, 0, "cannot scan the assetstore");
    char tmpdir[4200];
    snprintf(tmpdir, sizeof tmpdir, "%s/assetstore/tmp", repo->dir);
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.') rep->temp_files++;
        closedir(d);
        if (rep->temp_files)
            br_diag_emitf(diags, BR_SEV_WARNING, NULL, tmpdir, 0, 0, "fsck.temp-files", NULL,
                          "%zu temporary files (an import is running, or one was interrupted)",
                          rep->temp_files);
    }
    return 0;
}
