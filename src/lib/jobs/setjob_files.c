/* Import Research Assets Files (seed 001): for each asset of the set, the file at the end of
 * each of its links is fetched into the assetstore (with its checksums) and the link becomes a
 * pointer to the stored file: a bitstream of the ORIGINAL bundle named after the URL's last
 * segment or the answer's Content-Disposition (made a plain file name), the link's title as
 * its description, its licence, rights and content type; the link is removed.
 *
 * Fetching follows the CSV import's rules (net/fetch.h): http and https only, the address
 * policy (no loopback, private or other special address unless the repository's
 * fetch-allow.txt lists it), the size cap while the bytes arrive, a timeout, retries with
 * back-off.  A file:// link is read only below a folder listed in the repository's
 * file-roots.txt (one absolute folder a line, '#' comments): a regular file, no hard link,
 * within the cap.  Links of other schemes, and links whose answer is a web page (text/html),
 * are left as links.
 *
 * Downloads happen before the member's transaction (sj_extra.fetch, one member a batch), so
 * no write lock is held while a server is slow; the files are stored and the record written
 * in the transaction that writes the member's journal line and undo row (parts FILES and
 * LINKS: a revert brings the links back and takes the bitstreams away).  A member is journaled
 * with its change, so a resumed job starts after the last member done and never stores a
 * file twice; a file whose checksum a bitstream of the record has already is skipped (its link
 * goes: the record has the file).
 *
 * Each asset's line says "N files uploaded[, N skipped (already stored)][, N left as links]
 * [, N failed]: URL: why; ..." (files_summary reads the counts back); an asset with failed
 * files and none stored is failed, with some stored it is updated (partly). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/core.h"
#include "jobs/setjob.h"
#include "model/snapshot.h"
#include "net/fetch.h"

#define FILE_ROOTS   "file-roots.txt"
#define MAX_ROOTS    64
#define ROOTS_MAX_SZ (64 * 1024)

/* One link's file, fetched before the member's transaction. */
typedef struct dl {
    char *url;
    char path[PATH_MAX]; /* the download (temp) or the local file (file://) */
    int temp;            /* path is a temp file to remove */
    int rc;              /* 0 fetched, else why it was not */
    int page;            /* the answer is a web page: not a file */
    int used;
    char why[700];
    char name[256]; /* from Content-Disposition, "" none */
} dl;

typedef struct files_state {
    uint64_t max_size;
    long timeout_ms;
    int retries;
    char (*roots)[PATH_MAX];
    size_t n_roots;
    dl *dls;
    size_t n_dls, cap_dls;
    char note[2048];
} files_state;

static void clear_dls(files_state *s)
{
    for (size_t i = 0; i < s->n_dls; i++) {
        if (s->dls[i].temp) unlink(s->dls[i].path);
        free(s->dls[i].url);
    }
    s->n_dls = 0;
}

static void files_release(void *state)
{
    files_state *s = state;
    if (!s) return;
    clear_dls(s);
    free(s->dls);
    free(s->roots);
    free(s);
}

/* <repo>/file-roots.txt: the folders file:// links may name (a missing file: none). */
static int load_roots(br_repo *repo, files_state *s, br_error *err)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/" FILE_ROOTS, br_repo_dir(repo)) >= (int)sizeof path)
        return br_error_set(err, BR_ELIMIT, NULL, 0, 0, "the repository path is too long");
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? 0
                               : br_error_set(err, BR_EIO, FILE_ROOTS, 0, 0, "cannot read it: %s",
                                              strerror(errno));
    s->roots = calloc(MAX_ROOTS, sizeof *s->roots);
    if (!s->roots) {
        fclose(f);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    char line[PATH_MAX + 2];
    unsigned no = 0;
    int rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        no++;
        char *c = strchr(line, '#');
        if (c) *c = 0;
        char *d = br_trim(line);
        if (!*d) continue;
        if (d[0] != '/')
            rc = br_error_set(err, BR_EINVAL, FILE_ROOTS, no, 0, "'%s' is not an absolute folder",
                              d);
        else if (s->n_roots >= MAX_ROOTS)
            rc = br_error_set(err, BR_ELIMIT, FILE_ROOTS, no, 0, "more than %d folders", MAX_ROOTS);
        else if (!realpath(d, s->roots[s->n_roots]) || !br_is_dir(s->roots[s->n_roots]))
            rc = br_error_set(err, BR_EINVAL, FILE_ROOTS, no, 0, "'%s' is not a folder", d);
        else
            s->n_roots++;
    }
    fclose(f);
    return rc;
}

static int files_prepare(br_repo *repo, json_t *p, void **state, br_error *err)
{
    files_state *s = calloc(1, sizeof *s);
    if (!s) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    char buf[64];
    const char *v = br_sj_param(p, "import-asset-files", "max_file_size", buf, sizeof buf);
    s->max_size = v ? strtoull(v, NULL, 10) : 0;
    v = br_sj_param(p, "import-asset-files", "timeout_ms", buf, sizeof buf);
    s->timeout_ms = v ? strtol(v, NULL, 10) : 0;
    v = br_sj_param(p, "import-asset-files", "retries", buf, sizeof buf);
    s->retries = v ? atoi(v) : 0;
    int rc = load_roots(repo, s, err);
    if (rc) {
        files_release(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* ---- names ---------------------------------------------------------------------------------- */

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes s[0..n) into out (cut to size). */
static void pct_decode(const char *s, size_t n, char *out, size_t size)
{
    size_t w = 0;
    for (size_t i = 0; i < n && w + 1 < size; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
            (lo = hexval(s[i + 2])) >= 0) {
            out[w++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[w++] = s[i];
        }
    }
    out[w] = 0;
}

/* The file name a Content-Disposition value gives: filename* (RFC 5987, UTF-8) first, else
 * filename (quoted or a token); "" when none. */
static void disposition_name(const char *v, char *out, size_t size)
{
    out[0] = 0;
    char plain[512] = "";
    for (const char *p = v; *p;) {
        while (*p == ';' || *p == ' ' || *p == '\t')
            p++;
        const char *eq = strchr(p, '=');
        size_t stop = strcspn(p, ";");
        if (!eq || (size_t)(eq - p) > stop) {
            p += stop;
            continue;
        }
        size_t nlen = (size_t)(eq - p);
        while (nlen && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
            nlen--;
        const char *val = eq + 1;
        while (*val == ' ' || *val == '\t')
            val++;
        if (nlen == 9 && !strncasecmp(p, "filename*", 9)) {
            /* charset'language'percent-encoded value */
            size_t n = strcspn(val, ";"), m = n;
            while (m && (val[m - 1] == ' ' || val[m - 1] == '\t'))
                m--;
            const char *q1 = memchr(val, '\'', m);
            const char *q2 = q1 ? memchr(q1 + 1, '\'', m - (size_t)(q1 + 1 - val)) : NULL;
            if (q2 && (!strncasecmp(val, "utf-8'", 6) || !strncasecmp(val, "us-ascii'", 9)))
                pct_decode(q2 + 1, m - (size_t)(q2 + 1 - val), out, size);
            p = val + n;
        } else if (nlen == 8 && !strncasecmp(p, "filename", 8)) {
            size_t w = 0;
            if (*val == '"') {
                for (val++; *val && *val != '"'; val++) {
                    if (*val == '\\' && val[1]) val++;
                    if (w + 1 < sizeof plain) plain[w++] = *val;
                }
                if (*val == '"') val++;
            } else {
                for (; *val && *val != ';'; val++)
                    if (w + 1 < sizeof plain) plain[w++] = *val;
                while (w && plain[w - 1] == ' ')
                    w--;
            }
            plain[w] = 0;
            p = val;
        } else {
            p += stop;
        }
    }
    if (!out[0]) br_strlcpy(out, plain, size);
    /* A name, not a path: what follows the last separator. */
    const char *base = out;
    for (const char *c = out; *c; c++)
        if (*c == '/' || *c == '\\') base = c + 1;
    if (base != out) memmove(out, base, strlen(base) + 1);
}

/* A plain file name (br_path_unsafe's rules for one component, valid UTF-8, at most 200
 * bytes): separators and control characters become '_', "." and ".." and "" become "file". */
static void sanitize(char *name)
{
    for (unsigned char *c = (unsigned char *)name; *c; c++)
        if (*c < 0x20 || *c == 0x7f || *c == '/' || *c == '\\') *c = '_';
    size_t bad, n = strlen(name);
    while (n && br_utf8_check(name, n, &bad)) /* a cut or invalid sequence: '_' for its bytes */
        name[bad] = '_';
    if (n > 200) {
        n = 200;
        while (n && ((unsigned char)name[n] & 0xc0) == 0x80)
            n--;
        name[n] = 0;
    }
    char *t = br_trim(name);
    if (t != name) memmove(name, t, strlen(t) + 1);
    if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) br_strlcpy(name, "file", 6);
}

/* The name of a link's file: Content-Disposition's, else the URL's last path segment. */
static void file_name(const dl *d, char *out, size_t size)
{
    if (d->name[0]) {
        br_strlcpy(out, d->name, size);
    } else {
        const char *u = d->url, *rest = strstr(u, "://");
        rest = rest ? rest + 3 : u;
        rest += strcspn(rest, "/"); /* the path, after the host */
        size_t end = strcspn(rest, "?#");
        const char *base = rest;
        for (size_t i = 0; i < end; i++)
            if (rest[i] == '/' && i + 1 < end) base = rest + i + 1;
        size_t n = (size_t)(rest + end - base);
        if (n && base[n - 1] == '/') n--;
        pct_decode(base, n, out, size);
    }
    sanitize(out);
}

/* A name no other bitstream of the record has: "x.pdf", "x-2.pdf", ... */
static void unique_name(const br_record *r, char *name, size_t size)
{
    char base[256], ext[64] = "";
    br_strlcpy(base, name, sizeof base);
    char *dot = strrchr(base, '.');
    if (dot && dot != base && strlen(dot) < sizeof ext) {
        br_strlcpy(ext, dot, sizeof ext);
        *dot = 0;
    }
    for (int k = 2;; k++) {
        int taken = 0;
        for (size_t i = 0; i < r->n_bs && !taken; i++)
            taken = r->bs[i].name && !strcmp(r->bs[i].name, name);
        if (!taken || k > 9999) return;
        char next[400];
        snprintf(next, sizeof next, "%s-%d%s", base, k, ext);
        br_strlcpy(name, next, size);
    }
}

/* ---- fetching (outside the transaction) ------------------------------------------------------ */

static int is_http(const char *u)
{
    return !strncasecmp(u, "http://", 7) || !strncasecmp(u, "https://", 8);
}

static int is_file(const char *u)
{
    return !strncasecmp(u, "file://", 7);
}

static int fetchable(const br_link *l)
{
    return l->url && (is_http(l->url) || is_file(l->url));
}

/* A file:// link: below a root, a regular file without other links, within the cap. */
static void local_file(files_state *s, dl *d)
{
    const char *p = d->url + 7;
    if (!strncasecmp(p, "localhost/", 10)) p += 9;
    char dec[PATH_MAX], real[PATH_MAX];
    pct_decode(p, strlen(p), dec, sizeof dec);
    d->rc = BR_EDENIED;
    struct stat st;
    if (dec[0] != '/') {
        snprintf(d->why, sizeof d->why, "a file link is file:///absolute/path");
        d->rc = BR_EUSAGE;
    } else if (!s->n_roots) {
        snprintf(d->why, sizeof d->why,
                 "file:// links are read only below a folder listed in the repository's "
                 "%s (it lists none)",
                 FILE_ROOTS);
    } else if (!realpath(dec, real)) {
        snprintf(d->why, sizeof d->why, "no such file");
        d->rc = BR_ENOTFOUND;
    } else {
        int below = 0;
        for (size_t i = 0; i < s->n_roots && !below; i++) {
            size_t n = strlen(s->roots[i]);
            below = !strncmp(real, s->roots[i], n) && (real[n] == '/' || !strcmp(s->roots[i], "/"));
        }
        if (!below)
            snprintf(d->why, sizeof d->why,
                     "the file is not below a folder listed in the repository's %s", FILE_ROOTS);
        else if (lstat(real, &st) || !S_ISREG(st.st_mode))
            snprintf(d->why, sizeof d->why, "not a regular file");
        else if (st.st_nlink > 1)
            snprintf(d->why, sizeof d->why, "the file is a hard link");
        else if (s->max_size && (uint64_t)st.st_size > s->max_size) {
            snprintf(d->why, sizeof d->why, "the file is larger than the %llu bytes allowed",
                     (unsigned long long)s->max_size);
            d->rc = BR_ELIMIT;
        } else {
            br_strlcpy(d->path, real, sizeof d->path);
            d->rc = 0;
            const char *b = strrchr(real, '/');
            br_strlcpy(d->name, b ? b + 1 : real, sizeof d->name);
        }
    }
}

static int files_fetch(sj_item *it, br_error *err)
{
    files_state *s = it->state;
    clear_dls(s);
    for (size_t i = 0; i < it->before->n_links; i++) {
        const br_link *l = &it->before->links[i];
        if (!fetchable(l)) continue;
        if (br_grow((void **)&s->dls, &s->cap_dls, s->n_dls + 1, sizeof *s->dls))
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        dl *d = &s->dls[s->n_dls];
        memset(d, 0, sizeof *d);
        if (!(d->url = strdup(l->url)))
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        s->n_dls++;
        if (is_file(l->url)) {
            local_file(s, d);
            continue;
        }
        char disp[512] = "", ctype[128] = "";
        br_fetch_options fo = {0};
        fo.max_size = s->max_size;
        fo.timeout_ms = s->timeout_ms;
        fo.retries = s->retries > 0 ? s->retries : -1;
        fo.cancelled = it->cancelled;
        fo.cancel_ctx = it->cancel_ctx;
        fo.disposition = disp;
        fo.disposition_size = sizeof disp;
        fo.content_type = ctype;
        fo.content_type_size = sizeof ctype;
        br_error fe;
        int rc = br_fetch_url(it->repo, l->url, &fo, d->path, sizeof d->path, &fe);
        if (rc == BR_ECANCELLED) {
            if (err) *err = fe;
            return rc;
        }
        if (rc) {
            d->rc = rc;
            br_strlcpy(d->why, fe.message, sizeof d->why);
            continue;
        }
        d->temp = 1;
        disposition_name(disp, d->name, sizeof d->name);
        d->page =
            !strncasecmp(ctype, "text/html", 9) || !strncasecmp(ctype, "application/xhtml", 17);
    }
    return 0;
}

/* ---- deciding and writing (inside the transaction) ----------------------------------------- */

static int files_plan(sj_item *it, br_error *err)
{
    for (size_t i = 0; i < it->before->n_links; i++)
        if (fetchable(&it->before->links[i])) return 0;
    it->skip =
        it->before->n_links ? "its links are not http, https or file links" : "it has no links";
    return 0;
}

static dl *dl_for(files_state *s, const char *url)
{
    for (size_t i = 0; i < s->n_dls; i++)
        if (!s->dls[i].used && !strcmp(s->dls[i].url, url)) {
            s->dls[i].used = 1;
            return &s->dls[i];
        }
    return NULL;
}

static int has_sha(const br_record *r, size_t n, const char *sha)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(r->bs[i].sha256, sha)) return 1;
    return 0;
}

typedef struct counts {
    int uploaded, skipped, left, failed;
    char failures[1400];
} counts;

/* "2 files uploaded, 1 skipped (already stored), 1 failed: URL: why; URL: why" */
static void note_of(const counts *c, char *m, size_t z)
{
    snprintf(m, z, "%d file%s uploaded", c->uploaded, c->uploaded == 1 ? "" : "s");
    if (c->skipped)
        snprintf(m + strlen(m), z - strlen(m), ", %d skipped (already stored)", c->skipped);
    if (c->left)
        snprintf(m + strlen(m), z - strlen(m), ", %d left as link%s (a web page or not fetched)",
                 c->left, c->left == 1 ? "" : "s");
    if (c->failed)
        snprintf(m + strlen(m), z - strlen(m), ", %d failed: %s", c->failed, c->failures);
}

/* Stores one link's file into after: 0 stored (or skipped, *dup), 1 failed (why in c),
 * or a store failure. */
static int store_one(sj_item *it, files_state *s, const br_link *l, dl *d, int *dup, br_error *err)
{
    br_record *r = it->after;
    char name[256];
    file_name(d, name, sizeof name);
    unique_name(r, name, sizeof name);
    int seq = 0;
    for (size_t i = 0; i < r->n_bs; i++)
        if (r->bs[i].sequence >= seq) seq = r->bs[i].sequence + 1;
    size_t before_n = r->n_bs;
    br_bitstream *b = br_record_add_bitstream(r, name);
    if (!b) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    b->sequence = seq;
    b->description = br_record_str(r, l->title ? l->title : l->description);
    b->license = br_record_str(r, l->license);
    b->rights = br_record_str(r, l->rights);
    b->content_type = br_record_str(r, l->type);
    br_error fe;
    int rc = br_asset_put_file(it->repo, d->path, s->max_size, r, b, &fe);
    if (rc == BR_ELIMIT || rc == BR_EINVAL) { /* grew past the cap, or not a regular file */
        r->n_bs = before_n;
        d->rc = rc;
        br_strlcpy(d->why, fe.message, sizeof d->why);
        return 1;
    }
    if (rc) {
        if (err) *err = fe;
        return rc;
    }
    *dup = has_sha(r, before_n, b->sha256);
    if (*dup) {
        r->n_bs = before_n;
    } else {
        it->bitstreams++;
        it->bytes += b->size;
    }
    return 0;
}

static int files_apply(sj_item *it, br_error *err)
{
    files_state *s = it->state;
    char *snap = NULL;
    int rc = br_snapshot_write(it->before, BR_PART_ALL, &snap, err);
    if (!rc) rc = br_snapshot_read(snap, it->after, NULL, err);
    free(snap);
    if (rc) return rc;
    it->after->id = it->before->id;
    for (size_t i = 0; i < s->n_dls; i++)
        s->dls[i].used = 0;
    counts c;
    memset(&c, 0, sizeof c);
    br_record *r = it->after;
    size_t w = 0;
    for (size_t i = 0; i < r->n_links; i++) {
        br_link l = r->links[i];
        dl *d = fetchable(&l) ? dl_for(s, l.url) : NULL;
        int keep = 1, dup = 0;
        if (!d || d->page) {
            c.left++;
        } else if (!d->rc && (rc = store_one(it, s, &l, d, &dup, err)) < 0) {
            return rc;
        } else if (d->rc || rc == 1) {
            c.failed++;
            char one[900];
            snprintf(one, sizeof one, "%s: %s", d->url, d->why);
            size_t n = strlen(c.failures);
            snprintf(c.failures + n, sizeof c.failures - n, "%s%s", n ? "; " : "", one);
        } else {
            keep = 0;
            if (dup)
                c.skipped++;
            else
                c.uploaded++;
        }
        rc = 0;
        if (keep) r->links[w++] = l;
    }
    r->n_links = w;
    for (size_t i = 0; i < r->n_links; i++)
        r->links[i].place = (int)i;
    note_of(&c, s->note, sizeof s->note);
    if (!c.uploaded && !c.skipped) {
        if (c.failed) return br_error_set(err, BR_EINVAL, NULL, 0, 0, "%s", s->note);
        it->skip = s->note; /* web pages only: nothing to change */
        return 0;
    }
    it->parts = BR_PART_FILES | BR_PART_LINKS;
    it->note = s->note;
    return br_sj_write_update(it, err);
}

/* ---- the closing message ---------------------------------------------------------------- */

/* The number before `word` in a line's counts (the text before the first ':'). */
static long count_in(const char *msg, const char *word)
{
    long total = 0;
    size_t end = msg ? strcspn(msg, ":") : 0;
    for (const char *p = msg; p && p < msg + end;) {
        char *e;
        long k = strtol(p, &e, 10);
        size_t n = strcspn(p, ",");
        if (p + n > msg + end) n = (size_t)(msg + end - p);
        if (e != p) {
            char part[128];
            snprintf(part, sizeof part, "%.*s", (int)(n < sizeof part ? n : sizeof part - 1), p);
            if (strstr(part, word)) total += k;
        }
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return total;
}

typedef struct tally {
    long ok, partly, failed, skipped, uploaded, files_failed, files_skipped, left;
} tally;

static int tally_line(void *ctx, const br_job_record *r)
{
    tally *t = ctx;
    long failed = count_in(r->message, "failed");
    if (!strcmp(r->outcome, BR_OUTCOME_UPDATED))
        failed ? t->partly++ : t->ok++;
    else if (!strcmp(r->outcome, BR_OUTCOME_FAILED))
        t->failed++;
    else
        t->skipped++;
    t->uploaded += count_in(r->message, "uploaded");
    t->files_failed += failed;
    t->files_skipped += count_in(r->message, "skipped");
    t->left += count_in(r->message, "left as link");
    return 0;
}

static int files_summary(br_repo *repo, int64_t job_id, char *msg, size_t size, int *errors,
                         br_error *err)
{
    tally t = {0};
    int rc = br_job_records(repo, job_id, NULL, tally_line, &t, err);
    if (rc) return rc;
    snprintf(msg, size,
             "assets: %ld succeeded, %ld partially succeeded, %ld failed, %ld left as they were; "
             "files: %ld uploaded, %ld failed, %ld skipped (already stored), %ld left as links",
             t.ok, t.partly, t.failed, t.skipped, t.uploaded, t.files_failed, t.files_skipped,
             t.left);
    *errors = t.files_failed > 0;
    return 0;
}

const sj_driver br_sj_files = {"import-asset-files", BR_OUTCOME_UPDATED, files_prepare,
                               files_release,        files_plan,         files_apply};
const sj_extra br_sj_files_extra = {&br_sj_files, files_fetch, 1, files_summary};
