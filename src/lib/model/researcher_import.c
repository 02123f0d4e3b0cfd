/* Researchers from a CSV file (researcher.h, br_researcher_import; docs/researchers.md).
 *
 * Two passes over the file, so that memory does not grow with it: the first reads every row
 * into one reused br_researcher and reports every problem by cell (file:row:column and the
 * spreadsheet cell, "F3"), the second, only when there was none, writes every row in one
 * transaction (a row whose id exists replaces that researcher, the others are added). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "bulkrepo/researcher.h"
#include "core/core.h"
#include "core/csv.h"
#include "model/researcher_internal.h"

#define MAX_FILE (256u * 1024 * 1024) /* bytes of an import file */
#define MAX_CELL (64u * 1024)         /* bytes of one cell */

enum {
    C_ID,
    C_FAMILY,
    C_GIVEN,
    C_MIDDLE,
    C_SUFFIX,
    C_ORCID,
    C_STATUS,
    C_FLAGS,
    C_HARVEST,
    C_AFFILS,
    C_TOPICS,
    C_KEYWORDS,
    C_N
};
/* The column names (also br_researcher_problems' field names). */
static const char *const COLS[C_N] = {"id",           "family",       "given",  "middle",
                                      "suffix",       "orcid",        "status", "flags",
                                      "last_harvest", "affiliations", "topics", "keywords"};

typedef struct imp {
    br_repo *repo;
    const char *path;
    br_diag_sink *sink;
    int col_of[C_N];
    const br_csv_record *rec;
    size_t problems;
    br_error *err;         /* gets the first problem */
    br_strmap ids, orcids; /* pass 1: rows seen, to refuse a second row for one researcher */
} imp;

/* "A", "B", ... "Z", "AA" ... for 0-based column c, then the row. */
static void cell_name(unsigned c, unsigned row, char *out, size_t size)
{
    char col[8];
    int n = 0;
    char rev[8];
    for (unsigned x = c + 1; x && n < 7; x = (x - 1) / 26)
        rev[n++] = (char)('A' + (x - 1) % 26);
    for (int i = 0; i < n; i++)
        col[i] = rev[n - 1 - i];
    col[n] = 0;
    snprintf(out, size, "%s%u", col, row);
}

static void problem_at(imp *m, unsigned col, const char *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem_at(imp *m, unsigned col, const char *rule, const char *fmt, ...)
{
    char msg[700], cell[24];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned line = m->rec ? m->rec->line : 1;
    cell_name(col, line, cell, sizeof cell);
    if (!m->problems++)
        br_error_set(m->err, BR_EINVAL, m->path, line, col + 1, "%s: %s", cell, msg);
    br_diag d = {BR_SEV_ERROR, NULL, m->path, line, col + 1, cell, rule, msg, NULL};
    br_diag_emit(m->sink, &d);
}

/* ---- the header ------------------------------------------------------------------------------ */

static int map_header(imp *m, const br_csv_record *rec)
{
    for (int k = 0; k < C_N; k++)
        m->col_of[k] = -1;
    m->rec = rec;
    for (unsigned c = 0; c < rec->n; c++) {
        const br_csv_cell *h = &rec->cells[c];
        const char *p = h->p;
        size_t n = h->len;
        while (n && (*p == ' ' || *p == '\t'))
            p++, n--;
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        int k = C_N;
        for (int i = 0; i < C_N && k == C_N; i++)
            if (n == strlen(COLS[i]) && !strncasecmp(p, COLS[i], n)) k = i;
        if (k == C_N)
            problem_at(m, c, "researcher.header",
                       "unknown column '%.*s' (the header names id, family, given, middle, "
                       "suffix, orcid, status, flags, last_harvest, affiliations, topics, "
                       "keywords)",
                       (int)(n < 80 ? n : 80), p);
        else if (m->col_of[k] >= 0)
            problem_at(m, c, "researcher.header", "column '%s' appears twice in the header",
                       COLS[k]);
        else
            m->col_of[k] = (int)c;
    }
    if (m->col_of[C_ID] < 0 || m->col_of[C_FAMILY] < 0)
        problem_at(m, 0, "researcher.header",
                   "the header must name the columns id and family (docs/researchers.md)");
    return m->problems ? BR_EINVAL : 0;
}

/* ---- a row ----------------------------------------------------------------------------------- */

/* The cell of column k, trimmed, as a C string in buf (size > MAX_CELL); NULL when the row has
 * no such cell.  A cell that is not UTF-8 or holds a NUL is a problem (and NULL). */
static const char *cell(imp *m, int k, char *buf)
{
    int c = m->col_of[k];
    if (c < 0 || (unsigned)c >= m->rec->n) return NULL;
    const br_csv_cell *x = &m->rec->cells[c];
    size_t bad;
    if (br_utf8_check(x->p, x->len, &bad)) {
        problem_at(m, (unsigned)c, "researcher.utf8", "not valid UTF-8 (byte %zu)", bad + 1);
        return NULL;
    }
    if (memchr(x->p, 0, x->len)) {
        problem_at(m, (unsigned)c, "researcher.utf8", "a NUL byte in the cell");
        return NULL;
    }
    memcpy(buf, x->p, x->len);
    buf[x->len] = 0;
    return br_trim(buf);
}

/* A text cell into out (size bytes at most, less one). */
static void text(imp *m, int k, const char *v, char *out, size_t size, const char *what)
{
    if (!v) return;
    if (strlen(v) >= size) {
        problem_at(m, (unsigned)m->col_of[k], "researcher.length", "the %s has more than %zu bytes",
                   what, size - 1);
        return;
    }
    br_strlcpy(out, v, size);
}

/* The next piece of a list cell separated by sep, trimmed, in place; NULL at the end. */
static char *piece(char **s, char sep)
{
    if (!*s) return NULL;
    char *p = *s, *e = strchr(p, sep);
    if (e) {
        *e = 0;
        *s = e + 1;
    } else {
        *s = NULL;
    }
    return br_trim(p);
}

static void affiliations(imp *m, br_researcher *r, char *v)
{
    unsigned col = (unsigned)m->col_of[C_AFFILS];
    for (char *a; (a = piece(&v, ';'));) {
        if (!*a) continue;
        char *rest = a, *unit = piece(&rest, '|'), *start = piece(&rest, '|'),
             *end = piece(&rest, '|');
        if (rest || !unit || !*unit) {
            problem_at(m, col, "researcher.affiliation",
                       "'%.80s' is not UNIT|START|END (dates YYYY-MM-DD, either may be empty)", a);
            continue;
        }
        int rc = br_researcher_add_affiliation(r, unit, start, end);
        if (rc == BR_ENOMEM) {
            problem_at(m, col, "researcher.memory", "out of memory");
            return;
        }
        if (rc)
            problem_at(m, col, "researcher.affiliation",
                       "'%.80s': a unit code of at most 127 bytes and dates YYYY-MM-DD", a);
    }
}

static void terms(imp *m, int k, br_researcher *r, char *v)
{
    unsigned col = (unsigned)m->col_of[k];
    for (char *t; (t = piece(&v, ';'));) {
        if (!*t) continue;
        if (strlen(t) > BR_RESEARCHER_TEXT_MAX) {
            problem_at(m, col, "researcher.length", "'%.40s...' has more than %d bytes", t,
                       BR_RESEARCHER_TEXT_MAX);
            continue;
        }
        int rc = k == C_TOPICS ? br_researcher_add_topic(r, t) : br_researcher_add_keyword(r, t);
        if (rc == BR_ELIMIT)
            problem_at(m, col, "researcher.length", "more than %d %s", BR_RESEARCHER_LIST_MAX,
                       COLS[k]);
        else if (rc < 0)
            problem_at(m, col, "researcher.memory", "out of memory");
    }
}

static void problem_of_field(void *ctx, const char *field, const char *message)
{
    imp *m = ctx;
    int k = C_ID;
    for (int i = 0; i < C_N; i++)
        if (!strcmp(field, COLS[i])) k = i;
    int col = m->col_of[k] >= 0 ? m->col_of[k] : m->col_of[C_ID];
    char rule[64];
    snprintf(rule, sizeof rule, "researcher.%s", field);
    problem_at(m, (unsigned)col, rule, "%s", message);
}

/* Reads the row into r (cleared); every problem reported.  0 when the row is fine. */
static int read_row(imp *m, br_researcher *r, char *buf)
{
    size_t before = m->problems;
    br_researcher_clear(r);
    const char *v;
    text(m, C_ID, cell(m, C_ID, buf), r->id, sizeof r->id, "researcher id");
    text(m, C_FAMILY, cell(m, C_FAMILY, buf), r->family, sizeof r->family, "family name");
    text(m, C_GIVEN, cell(m, C_GIVEN, buf), r->given, sizeof r->given, "given name");
    text(m, C_MIDDLE, cell(m, C_MIDDLE, buf), r->middle, sizeof r->middle, "middle name");
    text(m, C_SUFFIX, cell(m, C_SUFFIX, buf), r->suffix, sizeof r->suffix, "name suffix");
    if ((v = cell(m, C_ORCID, buf)) && *v && !br_orcid_bare(v, r->orcid))
        problem_at(m, (unsigned)m->col_of[C_ORCID], "researcher.orcid",
                   "'%.60s' is not an ORCID iD (0000-0002-1825-0097: 16 digits, the last may "
                   "be X)",
                   v);
    if ((v = cell(m, C_STATUS, buf)) && *v && br_researcher_status_parse(v, &r->status))
        problem_at(m, (unsigned)m->col_of[C_STATUS], "researcher.status",
                   "'%.60s' is not affiliated, non-affiliated or previously-affiliated", v);
    if ((v = cell(m, C_FLAGS, buf))) {
        char *s = (char *)v;
        for (char *f; (f = piece(&s, ';'));) {
            unsigned bit;
            if (!*f) continue;
            if (br_researcher_flag_parse(f, &bit))
                problem_at(m, (unsigned)m->col_of[C_FLAGS], "researcher.flags",
                           "unknown flag '%.60s' (profile-access, active-profile, "
                           "auto-match-approval, smart-harvesting, skip-auto-approvals, "
                           "update-orcid, manage-externally, notifications)",
                           f);
            else
                r->flags |= bit;
        }
    }
    text(m, C_HARVEST, cell(m, C_HARVEST, buf), r->last_harvest, sizeof r->last_harvest,
         "last smart-harvesting date");
    if ((v = cell(m, C_AFFILS, buf))) affiliations(m, r, (char *)v);
    if ((v = cell(m, C_TOPICS, buf))) terms(m, C_TOPICS, r, (char *)v);
    if ((v = cell(m, C_KEYWORDS, buf))) terms(m, C_KEYWORDS, r, (char *)v);
    if (m->problems == before) {
        int n = br_researcher_problems(m->repo, r, problem_of_field, m);
        if (n < 0) return br_error_set(m->err, n, m->path, 0, 0, "the database failed");
    }
    return m->problems == before ? 0 : BR_EINVAL;
}

/* Pass 1's checks across rows: one row per researcher id and per ORCID iD, and an ORCID iD
 * that another stored researcher has. */
static int across_rows(imp *m, br_researcher *r)
{
    int64_t first;
    if (br_strmap_get(&m->ids, r->id, &first)) {
        problem_at(m, (unsigned)m->col_of[C_ID], "researcher.duplicate",
                   "researcher %s is on line %lld already", r->id, (long long)first);
        return 0;
    }
    if (br_strmap_put(&m->ids, r->id, (int64_t)m->rec->line)) return BR_ENOMEM;
    if (!r->orcid[0]) return 0;
    if (br_strmap_get(&m->orcids, r->orcid, &first)) {
        problem_at(m, (unsigned)m->col_of[C_ORCID], "researcher.duplicate",
                   "the ORCID iD %s is on line %lld already", r->orcid, (long long)first);
        return 0;
    }
    if (br_strmap_put(&m->orcids, r->orcid, (int64_t)m->rec->line)) return BR_ENOMEM;
    br_researcher *other = br_researcher_new();
    if (!other) return BR_ENOMEM;
    br_error e;
    int rc = br_researcher_get(m->repo, r->orcid, other, &e);
    if (!rc && strcmp(other->id, r->id))
        problem_at(m, (unsigned)m->col_of[C_ORCID], "researcher.duplicate",
                   "the ORCID iD %s is researcher %s's", r->orcid, other->id);
    br_researcher_free(other);
    return rc == BR_ESTORE ? rc : 0;
}

/* The CSV reader's failure in this importer's words. */
static int read_failed(br_csv_reader *in, const char *path, int rc, br_error *err)
{
    br_csv_fault f = br_csv_fault_of(in);
    if (f.kind == BR_CSV_CELL_TOO_LARGE)
        return br_error_set(err, BR_ELIMIT, path, f.line, f.column + 1,
                            "a cell is longer than %u bytes", MAX_CELL);
    if (f.kind == BR_CSV_UNTERMINATED)
        return br_error_set(err, BR_EINVAL, path, f.line, f.column + 1,
                            "a quoted cell is not closed");
    return rc; /* err says it already, with its line */
}

/* One pass: write = 0 checks every row, 1 writes them (pass 1 found nothing wrong). */
static int pass(imp *m, int write, br_researcher_import_result *res, br_error *err)
{
    br_csv_read_options ro = {MAX_CELL, 0, 64};
    br_csv_reader *in = NULL;
    br_csv_record rec;
    br_researcher *r = br_researcher_new();
    char *buf = malloc(MAX_CELL + 1);
    int rc = !r || !buf ? br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory")
                        : br_csv_reader_open(m->path, &ro, &in, err);
    int header = 1;
    while (!rc && (rc = br_csv_next(in, &rec, err)) == 1) {
        rc = 0;
        if (br_csv_tell(in) > MAX_FILE) {
            rc = br_error_set(err, BR_ELIMIT, m->path, rec.line, 0,
                              "the file is larger than %u bytes", MAX_FILE);
            break;
        }
        if (header) {
            header = 0;
            if (!write && (rc = map_header(m, &rec))) break;
            continue;
        }
        m->rec = &rec;
        if (!write) {
            res->rows++;
            if (!read_row(m, r, buf)) rc = across_rows(m, r);
            if (rc == BR_ENOMEM) rc = br_error_set(err, rc, NULL, 0, 0, "out of memory");
            continue;
        }
        if ((rc = read_row(m, r, buf))) break; /* pass 1 said it is fine: the file changed */
        int64_t row;
        br_error e;
        int exists = br_researcher_row(m->repo, r->id, &row, &e);
        if (exists && exists != BR_ENOTFOUND) {
            if (err) *err = e;
            rc = exists;
            break;
        }
        if (!exists) {
            br_researcher *old = br_researcher_new();
            rc = old ? br_researcher_load_row(m->repo, row, old, &e) : BR_ENOMEM;
            if (!rc) {
                br_strlcpy(r->created, old->created, sizeof r->created);
                rc = br_researcher_update(m->repo, r, &e);
            }
            br_researcher_free(old);
            res->updated += !rc;
        } else {
            rc = br_researcher_add(m->repo, r, &e);
            res->added += !rc;
        }
        if (rc) {
            char cellref[24];
            cell_name((unsigned)m->col_of[C_ID], rec.line, cellref, sizeof cellref);
            rc = br_error_set(err, rc, m->path, rec.line, (unsigned)m->col_of[C_ID] + 1, "%s: %s",
                              cellref, e.message);
        }
    }
    if (rc < 0 && in && br_csv_fault_of(in).kind != BR_CSV_OK)
        rc = read_failed(in, m->path, rc, err);
    if (!rc && header)
        rc = br_error_set(err, BR_EINVAL, m->path, 0, 0,
                          "the file is empty (expected a header: id,family,given,...)");
    if (!rc && !write && m->problems) rc = BR_EINVAL;
    br_csv_reader_free(in);
    br_researcher_free(r);
    free(buf);
    return rc;
}

int br_researcher_import(br_repo *repo, const char *path, int dry_run, br_diag_sink *sink,
                         br_researcher_import_result *res, br_error *err)
{
    br_researcher_import_result none;
    if (!res) res = &none;
    memset(res, 0, sizeof *res);
    if (!repo || !path)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_researcher_import: missing argument");
    imp m;
    memset(&m, 0, sizeof m);
    m.repo = repo;
    m.path = path;
    m.sink = sink;
    m.err = err;
    int rc = pass(&m, 0, res, err);
    br_strmap_dispose(&m.ids);
    br_strmap_dispose(&m.orcids);
    if (rc || dry_run) return rc;
    if ((rc = br_repo_begin(repo, err))) return rc;
    rc = pass(&m, 1, res, err);
    if (!rc) rc = br_repo_commit(repo, err);
    if (rc) {
        br_repo_rollback(repo);
        res->added = res->updated = 0;
    }
    return rc;
}
