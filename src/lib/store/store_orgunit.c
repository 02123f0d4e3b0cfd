/* Organisational units: the research units that Esploro's affiliation columns
 * (ASSET_AFFILIATION, CREATOR_AFFILIATION, ...) name by code, e.g.
 * "01ALLIANCE_UID___n6370" = institution prefix, three underscores, unit code
 * (seed 000; formats.md 1.5).  The Esploro reader checks codes against them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <csv.h>
#include "store_internal.h"

#define CODE_MAX         255
#define NAME_MAX_BYTES   1024
#define IMPORT_MAX_BYTES (64u << 20) /* an org-unit list is small; cap what is read */

/* NULL when the code is acceptable, else why not. */
static const char *bad_code(const char *code)
{
    if (!code || !*code) return "is empty";
    size_t n = strlen(code), bad;
    if (n > CODE_MAX) return "is longer than 255 bytes";
    for (const unsigned char *p = (const unsigned char *)code; *p; p++)
        if (*p <= ' ' || *p == 0x7f) return "contains whitespace or a control character";
    if (br_utf8_check(code, n, &bad)) return "is not valid UTF-8";
    return NULL;
}

static const char *bad_name(const char *name)
{
    if (!name || !*name) return "is empty";
    size_t n = strlen(name), bad;
    if (n > NAME_MAX_BYTES) return "is longer than 1024 bytes";
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < ' ' || *p == 0x7f) return "contains a control character";
    if (br_utf8_check(name, n, &bad)) return "is not valid UTF-8";
    return NULL;
}

static int check_unit(const char *code, const char *name, const char *parent, br_error *err)
{
    const char *why;
    if ((why = bad_code(code)))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "org-unit code '%s' %s", code ? code : "",
                            why);
    if ((why = bad_name(name)))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "the name of org unit %s %s", code, why);
    if (parent && (why = bad_code(parent)))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "parent code '%s' %s", parent, why);
    if (parent && !strcmp(parent, code))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "org unit %s cannot be its own parent",
                            code);
    return 0;
}

static int put(br_repo *repo, stmt_id id, const char *code, const char *name, const char *parent,
               br_error *err)
{
    sqlite3_stmt *st = br_stmt(repo, id, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, code);
    br_bind_text(st, 2, name);
    br_bind_text(st, 3, parent);
    int rc = br_step(repo, st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return br_error_set(err, BR_EEXISTS, NULL, 0, 0, "org unit %s already exists", code);
    return rc == SQLITE_DONE ? 0 : br_store_fail(repo, err, "insert org unit");
}

int br_orgunit_add(br_repo *repo, const char *code, const char *name, const char *parent,
                   br_error *err)
{
    if (parent && !*parent) parent = NULL;
    int rc = check_unit(code, name, parent, err);
    if (rc) return rc;
    if (parent) {
        int e = br_orgunit_exists(repo, parent);
        if (e < 0) return br_store_fail(repo, err, "org-unit lookup");
        if (!e) {
            char sugg[CODE_MAX + 1];
            if (!br_orgunit_suggest(repo, parent, sugg, sizeof sugg))
                return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                                    "no org unit %s to be the parent (did you mean %s?)", parent,
                                    sugg);
            return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no org unit %s to be the parent",
                                parent);
        }
    }
    return put(repo, S_ORG_INSERT, code, name, parent, err);
}

int br_orgunit_exists(br_repo *repo, const char *code)
{
    if (!code) return 0;
    sqlite3_stmt *st = br_stmt(repo, S_ORG_EXISTS, NULL);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, code);
    int rc = br_step(repo, st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : BR_ESTORE;
}

/* The unit part of "PREFIX___UNIT" (the whole code when there is no "___"). */
static const char *unit_part(const char *code)
{
    const char *u = strstr(code, "___");
    return u && u[3] ? u + 3 : code;
}

/* A plausible typo: at most 3 edits and at most a third of the length. */
static int plausible(unsigned d, const char *want)
{
    return d <= 3 && (size_t)d * 3 <= strlen(want);
}

int br_orgunit_suggest(br_repo *repo, const char *code, char *out, size_t size)
{
    if (size) out[0] = 0;
    if (!code || !*code || strlen(code) > CODE_MAX) return BR_ENOTFOUND;
    sqlite3_stmt *st = br_stmt(repo, S_ORG_ALL, NULL);
    if (!st) return BR_ESTORE;
    const char *want_unit = unit_part(code);
    /* Rank: distance on the whole code; a match on the unit part alone (another
     * or a missing institution prefix) ranks after an equal whole-code match. */
    unsigned best = 1000;
    int found = 0;
    while (br_step(repo, st) == SQLITE_ROW) {
        const char *k = br_col_text(st, 0);
        if (!k || !strcmp(k, code)) continue;
        unsigned d = 1000, du;
        unsigned dw = br_levenshtein(code, k);
        if (plausible(dw, code)) d = dw * 2;
        du = br_levenshtein(want_unit, unit_part(k));
        if (plausible(du, want_unit) && du * 2 + 1 < d) d = du * 2 + 1;
        if (d < best || (d == best && found && strcmp(k, out) < 0)) {
            best = d;
            found = 1;
            br_strlcpy(out, k, size);
        }
    }
    sqlite3_reset(st);
    if (!found && size) out[0] = 0;
    return found ? 0 : BR_ENOTFOUND;
}

int br_orgunit_list(br_repo *repo, br_orgunit_fn fn, void *ctx, br_error *err)
{
    sqlite3_stmt *st = br_stmt(repo, S_ORG_ALL, err);
    if (!st) return BR_ESTORE;
    int rc;
    while ((rc = br_step(repo, st)) == SQLITE_ROW) {
        br_orgunit u = {br_col_text(st, 0), br_col_text(st, 1), br_col_text(st, 2)};
        if (BR_YIELD(repo, fn(ctx, &u))) {
            sqlite3_reset(st);
            return 0;
        }
    }
    return rc == SQLITE_DONE ? 0 : br_store_fail(repo, err, "org-unit list");
}

/* ---- CSV import ------------------------------------------------------------------------- */

enum { COL_CODE, COL_NAME, COL_PARENT, COL_N };

typedef struct csv_load {
    br_repo *repo;
    const char *path;
    br_error *err;
    int rc;
    unsigned row;   /* 1-based CSV record number (the header is 1) */
    unsigned field; /* 0-based field in the current record */
    int col_of[COL_N];
    char *cell[COL_N];
    size_t n_loaded;
} csv_load;

static void load_fail(csv_load *l, int code, unsigned col, const char *fmt, const char *a,
                      const char *b)
{
    if (l->rc) return;
    char msg[1100];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    l->rc = br_error_set(l->err, code, l->path, l->row, col, "row %u: %s", l->row, msg);
}

static void on_field(void *s, size_t len, void *ctx)
{
    csv_load *l = ctx;
    unsigned f = l->field++;
    if (l->rc) return;
    const char *v = s ? s : "";
    size_t bad;
    if (len > NAME_MAX_BYTES) {
        load_fail(l, BR_ELIMIT, f + 1, "a cell is longer than 1024 bytes", NULL, NULL);
        return;
    }
    if (br_utf8_check(v, len, &bad) || memchr(v, 0, len)) {
        load_fail(l, BR_EINVAL, f + 1, "a cell is not valid UTF-8 text", NULL, NULL);
        return;
    }
    if (l->row == 1) {
        static const char *const names[COL_N] = {"code", "name", "parent"};
        const char *h = v;
        if (f == 0 && !strncmp(h, "\xEF\xBB\xBF", 3)) h += 3; /* a UTF-8 BOM */
        for (int k = 0; k < COL_N; k++)
            if (!strcasecmp(h, names[k])) {
                if (l->col_of[k] >= 0) {
                    load_fail(l, BR_EINVAL, f + 1, "column '%s' appears twice in the header", h,
                              NULL);
                    return;
                }
                l->col_of[k] = (int)f;
                return;
            }
        load_fail(l, BR_EINVAL, f + 1,
                  "unknown column '%s' (the header names code, name and parent)", h, NULL);
        return;
    }
    for (int k = 0; k < COL_N; k++)
        if (l->col_of[k] == (int)f) {
            free(l->cell[k]);
            l->cell[k] = len ? strndup(v, len) : NULL;
            if (len && !l->cell[k])
                l->rc = br_error_set(l->err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
}

static void on_row(int term, void *ctx)
{
    csv_load *l = ctx;
    (void)term;
    if (!l->rc && l->row == 1) {
        if (l->col_of[COL_CODE] < 0 || l->col_of[COL_NAME] < 0)
            load_fail(l, BR_EINVAL, 0,
                      "the header must name the columns code and name (and optionally parent)",
                      NULL, NULL);
    } else if (!l->rc) {
        int blank = 1;
        for (int k = 0; k < COL_N; k++)
            blank &= l->cell[k] == NULL;
        if (!blank) {
            br_error e;
            int rc = check_unit(l->cell[COL_CODE], l->cell[COL_NAME], l->cell[COL_PARENT], &e);
            if (!rc)
                rc = put(l->repo, S_ORG_UPSERT, l->cell[COL_CODE], l->cell[COL_NAME],
                         l->cell[COL_PARENT], &e);
            if (rc)
                load_fail(l, rc, 0, "%s", e.message, NULL);
            else
                l->n_loaded++;
        }
    }
    for (int k = 0; k < COL_N; k++) {
        free(l->cell[k]);
        l->cell[k] = NULL;
    }
    l->row++;
    l->field = 0;
}

int br_orgunit_import(br_repo *repo, const char *path, size_t *count, br_error *err)
{
    if (count) *count = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return br_error_set(err, BR_ENOTFOUND, path, 0, 0, "cannot open: %s", strerror(errno));
    struct csv_parser p;
    int rc = 0, began = 0;
    csv_load l = {repo, path, err, 0, 1, 0, {-1, -1, -1}, {0}, 0};
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)) {
        fclose(fp);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    if ((rc = br_repo_begin(repo, err))) goto done;
    began = 1;
    char buf[65536];
    size_t n, total = 0;
    while (!l.rc && (n = fread(buf, 1, sizeof buf, fp)) > 0) {
        total += n;
        if (total > IMPORT_MAX_BYTES) {
            rc = br_error_set(err, BR_ELIMIT, path, 0, 0, "the file is larger than %u bytes",
                              IMPORT_MAX_BYTES);
            goto done;
        }
        if (csv_parse(&p, buf, n, on_field, on_row, &l) != n && !l.rc) {
            rc = br_error_set(err, BR_EINVAL, path, l.row, 0, "row %u: %s", l.row,
                              csv_strerror(csv_error(&p)));
            goto done;
        }
    }
    if (ferror(fp)) {
        rc = br_error_set(err, BR_EIO, path, 0, 0, "read failed");
        goto done;
    }
    if (!l.rc && csv_fini(&p, on_field, on_row, &l)) {
        rc = br_error_set(err, BR_EINVAL, path, l.row, 0, "row %u: unterminated quoted field",
                          l.row);
        goto done;
    }
    if ((rc = l.rc)) goto done;
    if (l.row == 1) {
        rc = br_error_set(err, BR_EINVAL, path, 0, 0,
                          "the file is empty (expected a header: code,name,parent)");
        goto done;
    }
    /* Parents may come later in the file; all must exist once it is read. */
    sqlite3_stmt *st = br_stmt(repo, S_ORG_BAD_PARENT, err);
    if (!st) {
        rc = BR_ESTORE;
        goto done;
    }
    int s = br_step(repo, st);
    if (s == SQLITE_ROW) {
        rc = br_error_set(err, BR_EINVAL, path, 0, 0,
                          "org unit %s names parent %s, which does not exist", br_col_text(st, 0),
                          br_col_text(st, 1));
        sqlite3_reset(st);
        goto done;
    }
    if (s != SQLITE_DONE) {
        rc = br_store_fail(repo, err, "org-unit parent check");
        goto done;
    }
    if ((rc = br_repo_commit(repo, err))) goto done;
    began = 0;
    if (count) *count = l.n_loaded;
done:
    if (began) br_repo_rollback(repo);
    for (int k = 0; k < COL_N; k++)
        free(l.cell[k]);
    csv_free(&p);
    fclose(fp);
    return rc;
}
