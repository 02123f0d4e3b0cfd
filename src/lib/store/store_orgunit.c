/* Organisational units: the research units that Esploro's affiliation columns
 * (ASSET_AFFILIATION, CREATOR_AFFILIATION, ...) name by code, e.g.
 * "01ALLIANCE_UID___n6370" = institution prefix, three underscores, unit code
 * (seed 000; formats.md 1.5).  The Esploro reader checks codes against them, and
 * a code is checked here by the reader's own rule (br_ecsv_orgunit_code_problem). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "bulkrepo/esploro.h"
#include "core/csv.h"
#include "store_internal.h"

#define CODE_MAX         255
#define NAME_MAX_BYTES   1024
#define IMPORT_MAX_BYTES (64u << 20) /* an org-unit list is small; cap what is read */

/* NULL when the code is acceptable, else why not: the Esploro reader's rule for
 * affiliation codes, so that a unit added here is a code lint accepts. */
static const char *bad_code(const char *code)
{
    return br_ecsv_orgunit_code_problem(code, code ? strlen(code) : 0);
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
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "org-unit code '%s' %s (%s)",
                            code ? code : "", why, BR_ECSV_ORGUNIT_HINT);
    if ((why = bad_name(name)))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "the name of org unit %s %s", code, why);
    if (parent && (why = bad_code(parent)))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "parent code '%s' %s (%s)", parent, why,
                            BR_ECSV_ORGUNIT_HINT);
    if (parent && !strcmp(parent, code))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "org unit %s cannot be its own parent",
                            code);
    return 0;
}

static int put(br_repo *repo, stmt_id id, const char *code, const char *name, const char *parent,
               br_error *err)
{
    br_dbst *st = br_stmt(repo, id, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, code);
    br_bind_text(st, 2, name);
    br_bind_text(st, 3, parent);
    int rc = br_step_guarded(repo, st);
    if (rc == BR_DB_UNIQUE)
        return br_error_set(err, BR_EEXISTS, NULL, 0, 0, "org unit %s already exists", code);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "insert org unit");
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
    br_dbst *st = br_stmt(repo, S_ORG_EXISTS, NULL);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, code);
    int rc = br_step(repo, st);
    br_db_reset(st);
    return rc == BR_DB_ROW ? 1 : rc == BR_DB_DONE ? 0 : BR_ESTORE;
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
    br_dbst *st = br_stmt(repo, S_ORG_ALL, NULL);
    if (!st) return BR_ESTORE;
    const char *want_unit = unit_part(code);
    /* Rank: distance on the whole code; a match on the unit part alone (another
     * or a missing institution prefix) ranks after an equal whole-code match. */
    unsigned best = 1000;
    int found = 0;
    while (br_step(repo, st) == BR_DB_ROW) {
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
    br_db_reset(st);
    if (!found && size) out[0] = 0;
    return found ? 0 : BR_ENOTFOUND;
}

int br_orgunit_list(br_repo *repo, br_orgunit_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_ORG_ALL, err);
    if (!st) return BR_ESTORE;
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_orgunit u = {br_col_text(st, 0), br_col_text(st, 1), br_col_text(st, 2)};
        if (BR_YIELD(repo, fn(ctx, &u))) {
            br_db_reset(st);
            return 0;
        }
    }
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "org-unit list");
}

/* ---- CSV import ------------------------------------------------------------------------- */

enum { COL_CODE, COL_NAME, COL_PARENT, COL_N };

/* The columns of the header: col_of[COL_x] = its cell, -1 when absent. */
static int map_header(const char *path, const br_csv_record *rec, int col_of[COL_N], br_error *err)
{
    static const char *const names[COL_N] = {"code", "name", "parent"};
    for (unsigned c = 0; c < rec->n; c++) {
        const br_csv_cell *h = &rec->cells[c];
        int k = COL_N;
        for (int i = 0; i < COL_N && k == COL_N; i++)
            if (h->len == strlen(names[i]) && !strncasecmp(h->p, names[i], h->len)) k = i;
        if (k == COL_N)
            return br_error_set(err, BR_EINVAL, path, rec->line, c + 1,
                                "row %u: unknown column '%.*s' (the header names code, name and "
                                "parent)",
                                rec->line, (int)(h->len < 100 ? h->len : 100), h->p);
        if (col_of[k] >= 0)
            return br_error_set(err, BR_EINVAL, path, rec->line, c + 1,
                                "row %u: column '%s' appears twice in the header", rec->line,
                                names[k]);
        col_of[k] = (int)c;
    }
    if (col_of[COL_CODE] < 0 || col_of[COL_NAME] < 0)
        return br_error_set(err, BR_EINVAL, path, rec->line, 0,
                            "row %u: the header must name the columns code and name (and "
                            "optionally parent)",
                            rec->line);
    return 0;
}

/* Imports one data row; a row with no code, name and parent is skipped. */
static int import_row(br_repo *repo, const char *path, const br_csv_record *rec,
                      const int col_of[COL_N], size_t *loaded, br_error *err)
{
    char cell[COL_N][NAME_MAX_BYTES + 1];
    const char *v[COL_N];
    int blank = 1;
    for (int k = 0; k < COL_N; k++) {
        v[k] = NULL;
        if (col_of[k] < 0 || (unsigned)col_of[k] >= rec->n) continue;
        const br_csv_cell *c = &rec->cells[col_of[k]];
        size_t bad;
        if (br_utf8_check(c->p, c->len, &bad) || memchr(c->p, 0, c->len))
            return br_error_set(err, BR_EINVAL, path, rec->line, (unsigned)col_of[k] + 1,
                                "row %u: a cell is not valid UTF-8 text", rec->line);
        if (!c->len) continue;
        memcpy(cell[k], c->p, c->len); /* the reader caps a cell at NAME_MAX_BYTES */
        cell[k][c->len] = 0;
        v[k] = cell[k];
        blank = 0;
    }
    if (blank) return 0;
    br_error e;
    int rc = check_unit(v[COL_CODE], v[COL_NAME], v[COL_PARENT], &e);
    if (!rc) rc = put(repo, S_ORG_UPSERT, v[COL_CODE], v[COL_NAME], v[COL_PARENT], &e);
    if (rc) return br_error_set(err, rc, path, rec->line, 0, "row %u: %s", rec->line, e.message);
    (*loaded)++;
    return 0;
}

/* The CSV reader's failure in this importer's words. */
static int read_failed(br_csv_reader *in, const char *path, int rc, br_error *err)
{
    br_csv_fault f = br_csv_fault_of(in);
    if (f.kind == BR_CSV_CELL_TOO_LARGE)
        return br_error_set(err, BR_ELIMIT, path, f.line, f.column + 1,
                            "row %u: a cell is longer than %u bytes", f.line, NAME_MAX_BYTES);
    if (f.kind == BR_CSV_UNTERMINATED)
        return br_error_set(err, BR_EINVAL, path, f.line, f.column + 1,
                            "row %u: unterminated quoted field", f.line);
    return rc; /* err says it already, with its line */
}

int br_orgunit_import(br_repo *repo, const char *path, size_t *count, br_error *err)
{
    if (count) *count = 0;
    br_csv_read_options ro = {NAME_MAX_BYTES, 0, 0};
    br_csv_reader *in = NULL;
    br_csv_record rec;
    int rc = br_csv_reader_open(path, &ro, &in, err), began = 0;
    if (rc) return rc;
    int col_of[COL_N] = {-1, -1, -1};
    size_t loaded = 0;
    if ((rc = br_repo_begin(repo, err))) goto done;
    began = 1;
    int header = 1;
    while ((rc = br_csv_next(in, &rec, err)) == 1) {
        if (br_csv_tell(in) > IMPORT_MAX_BYTES) {
            rc = br_error_set(err, BR_ELIMIT, path, 0, 0, "the file is larger than %u bytes",
                              IMPORT_MAX_BYTES);
            goto done;
        }
        rc = header ? map_header(path, &rec, col_of, err)
                    : import_row(repo, path, &rec, col_of, &loaded, err);
        if (rc) goto done;
        header = 0;
    }
    if (rc) {
        rc = read_failed(in, path, rc, err);
        goto done;
    }
    if (header) {
        rc = br_error_set(err, BR_EINVAL, path, 0, 0,
                          "the file is empty (expected a header: code,name,parent)");
        goto done;
    }
    /* Parents may come later in the file; all must exist once it is read. */
    br_dbst *st = br_stmt(repo, S_ORG_BAD_PARENT, err);
    if (!st) {
        rc = BR_ESTORE;
        goto done;
    }
    int s = br_step(repo, st);
    if (s == BR_DB_ROW) {
        rc = br_error_set(err, BR_EINVAL, path, 0, 0,
                          "org unit %s names parent %s, which does not exist", br_col_text(st, 0),
                          br_col_text(st, 1));
        br_db_reset(st);
        goto done;
    }
    if (s != BR_DB_DONE) {
        rc = br_store_fail(repo, err, "org-unit parent check");
        goto done;
    }
    if ((rc = br_repo_commit(repo, err))) goto done;
    began = 0;
    if (count) *count = loaded;
done:
    if (began) br_repo_rollback(repo);
    br_csv_reader_free(in);
    return rc;
}
