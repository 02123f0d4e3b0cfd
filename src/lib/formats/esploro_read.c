/* The Esploro research-asset CSV reader (issue 3; notes/formats.md 1): the
 * group reader of esploro.h (br_ecsv_open/next/seek/has_target/close).
 *
 * Streaming: rows come from the CSV module (core/csv.h) as cell views over one
 * 64 KB read buffer and one reusable record buffer; a cell past limits.max_field
 * or a row past BR_ECSV_MAX_COLUMNS cells stops the read.  The reader holds one
 * group (asset) at a time; the only state that grows with the file is the set
 * of group keys already seen, kept as 64-bit hashes.  Rows are numbered by
 * their physical line (blank lines and line breaks inside quoted cells count),
 * so that a place names the line an editor shows.
 *
 * The reader's concerns live in their own files: esploro_header.c (the header
 * and its column mapping), esploro_rows.c (cells and rows into the record),
 * esploro_values.c (the checks per value kind), esploro_lint.c (br_ecsv_lint
 * and --fix); esploro_internal.h has the state they share.
 *
 * Every rule has a stable id ("ecsv.<area>.<what>"); findings name the A1 cell
 * ("AE2: ... (ASSET row, group 1)"), and carry the row in br_diag.line, the
 * 1-based column in br_diag.column and the group key in br_diag.item. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "bulkrepo/repo.h"
#include "formats/esploro_internal.h"

#define MAX_FINDING_TEXT 200 /* a value quoted in a message is cut here */

const struct br_ecsv_mandatory br_ecsv_mandatory[BR_ECSV_MANDATORY] = {
    {"ASSET_TITLE", "a title"},
    {"ASSET_RESTYPE", "an asset type"},
    {"ASSET_AFFILIATION", "an affiliation"}};

/* ---- small helpers ---------------------------------------------------------------------- */

/* A1 column letters for a 0-based column index: 0 -> "A", 26 -> "AA". */
static void col_letters(unsigned c, char *out, size_t size)
{
    char tmp[16];
    int n = 0;
    c++;
    while (c && n < 15) {
        unsigned m = (c - 1) % 26;
        tmp[n++] = (char)('A' + m);
        c = (c - 1) / 26;
    }
    size_t k = 0;
    while (n && k + 1 < size)
        out[k++] = tmp[--n];
    out[k] = 0;
}

void br_ecsv_cell_name(unsigned col, unsigned row, char out[16])
{
    char l[8]; /* BR_ECSV_MAX_COLUMNS needs 3 letters */
    col_letters(col, l, sizeof l);
    snprintf(out, 16, "%.5s%u", l, row);
}

/* The length of the valid UTF-8 character at s[0..n), 0 when the byte starts none. */
static size_t utf8_char(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) return 1;
    size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    return k && k <= n && !br_utf8_check(s, k, NULL) ? k : 0;
}

/* A view of a value for messages, always valid UTF-8 (findings end up in JSON, which cannot
 * carry anything else): cut on a character boundary, control characters shown as spaces,
 * bytes that are not UTF-8 (columns A and B are quoted before any check) as '?'. */
const char *br_ecsv_shown(br_ecsv_reader *r, const char *s, size_t n)
{
    br_buf *b = &r->scratch2;
    br_buf_clear(b);
    size_t cut = n > MAX_FINDING_TEXT ? MAX_FINDING_TEXT : n, i = 0;
    if (br_buf_reserve(b, cut + 8)) return "";
    while (i < cut) {
        size_t k = utf8_char(s + i, n - i);
        if (i + k > cut) break; /* the cut falls inside this character */
        if (k > 1)
            memcpy(b->p + b->len, s + i, k), b->len += k;
        else
            b->p[b->len++] = !k ? '?' : (unsigned char)s[i] < 0x20 ? ' ' : s[i];
        i += k ? k : 1;
    }
    if (i < n) memcpy(b->p + b->len, "...", 3), b->len += 3;
    b->p[b->len] = 0;
    return b->p;
}

/* Makes s valid UTF-8 in place, as br_ecsv_shown() does without the cut. */
static void repair_text(char *s)
{
    for (size_t i = 0, n = strlen(s); i < n;) {
        size_t k = utf8_char(s + i, n - i);
        if (!k) s[i] = '?';
        if (k == 1 && (unsigned char)s[i] < 0x20) s[i] = ' ';
        i += k ? k : 1;
    }
}

/* Emits a finding about cell (col, row) of the current group. */
void br_ecsv_finding(br_ecsv_reader *r, br_severity sev, int col, unsigned row, const char *rule,
                     const char *hint, const char *fmt, ...)
{
    char cell[16] = "", msg[1200], full[1400];
    if (col >= 0) br_ecsv_cell_name((unsigned)col, row, cell);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *key = r->gkey && r->gkey[0] ? r->gkey : NULL;
    if (key && r->gkey_bad) {
        /* Messages quote the key (it is in msg now, so scratch2 is free again). */
        key = br_ecsv_shown(r, key, strlen(key));
        repair_text(msg);
    }
    int n = 0;
    if (*cell) n = snprintf(full, sizeof full, "%s: ", cell);
    n += snprintf(full + n, sizeof full - (size_t)n, "%s", msg);
    if (row > 1 && (size_t)n < sizeof full) {
        if (r->cur_rowtype && key)
            snprintf(full + n, sizeof full - (size_t)n, " (%s row, group %s)", r->cur_rowtype, key);
        else if (key)
            snprintf(full + n, sizeof full - (size_t)n, " (group %s)", key);
    }
    br_diag d = {sev,  key,  r->source, row, col >= 0 ? (unsigned)col + 1 : 0, *cell ? cell : NULL,
                 rule, full, hint};
    if (sev == BR_SEV_ERROR)
        r->errors++, r->g_errors++;
    else if (sev == BR_SEV_WARNING)
        r->warnings++, r->g_warnings++;
    else if (!strncmp(rule, "ecsv.fix.", 9))
        r->fixes++;
    if (r->diags) br_diag_emit(r->diags, &d);
}

/* ---- the key set: 64-bit hashes, open addressing ------------------------------------------ */

static uint64_t hash64(const char *s, size_t n)
{
    uint64_t h = br_fnv1a(BR_FNV1A_INIT, s, n);
    h ^= h >> 33; /* finaliser (murmur3 fmix64): spread the bits for the low-bit index */
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h ? h : 1;
}

/* 1 when h was present, 0 when added, negative on out-of-memory. */
static int keyset_add(br_ecsv_keyset *k, uint64_t h)
{
    if ((k->n + 1) * 10 > k->cap * 7) {
        size_t ncap = k->cap ? k->cap * 2 : 1024;
        uint64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns) return BR_ENOMEM;
        for (size_t i = 0; i < k->cap; i++) {
            if (!k->slots[i]) continue;
            size_t j = k->slots[i] & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = k->slots[i];
        }
        free(k->slots);
        k->slots = ns;
        k->cap = ncap;
    }
    size_t j = h & (k->cap - 1);
    while (k->slots[j]) {
        if (k->slots[j] == h) return 1;
        j = (j + 1) & (k->cap - 1);
    }
    k->slots[j] = h;
    k->n++;
    return 0;
}
int br_ecsv_has_edge_ws(const char *s, size_t n)
{
    if (!n) return 0;
    if (br_ecsv_is_ws((unsigned char)s[0]) || br_ecsv_is_ws((unsigned char)s[n - 1])) return 1;
    /* U+00A0 NO-BREAK SPACE at either edge (pasted from web pages and Word) */
    return (n >= 2 && (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0) ||
           (n >= 2 && (unsigned char)s[n - 2] == 0xC2 && (unsigned char)s[n - 1] == 0xA0);
}

void br_ecsv_trim(const char **s, size_t *n)
{
    for (;;) {
        if (*n && br_ecsv_is_ws((unsigned char)**s))
            (*s)++, (*n)--;
        else if (*n >= 2 && (unsigned char)(*s)[0] == 0xC2 && (unsigned char)(*s)[1] == 0xA0)
            (*s) += 2, (*n) -= 2;
        else
            break;
    }
    for (;;) {
        if (*n && br_ecsv_is_ws((unsigned char)(*s)[*n - 1]))
            (*n)--;
        else if (*n >= 2 && (unsigned char)(*s)[*n - 2] == 0xC2 &&
                 (unsigned char)(*s)[*n - 1] == 0xA0)
            (*n) -= 2;
        else
            break;
    }
}

/* ---- reading rows ------------------------------------------------------------------------- */

/* How each CSV fault is reported: rule, hint and message (row, then the cap). */
static const struct {
    const char *rule, *hint, *fmt;
} FAULTS[] = {
    [BR_CSV_CELL_TOO_LARGE] = {"ecsv.csv.cell-too-large",
                               "split the value, or look for a quote that is never closed",
                               "row %u: a cell is larger than %zu bytes (the cap on one cell)"},
    [BR_CSV_RECORD_TOO_LARGE] = {"ecsv.csv.row-too-large", "split the values over several rows",
                                 "row %u is larger than %zu bytes (the cap on one row)"},
    [BR_CSV_TOO_MANY_COLUMNS] = {"ecsv.csv.too-many-columns",
                                 "an Esploro CSV has about 200 columns; is this the right file?",
                                 "row %u has more than %zu columns"},
    [BR_CSV_UNTERMINATED] =
        {"ecsv.csv.unterminated-quote",
         "close the quote; a quote inside a quoted cell is written twice (\"\")",
         "row %u: a quoted cell is not closed before the end of the file"},
    [BR_CSV_TEXT_AFTER_QUOTE] = {"ecsv.csv.bad-quote",
                                 "a cell with a quote must be quoted as a whole and the quote "
                                 "written twice: \"say \"\"hi\"\"\"",
                                 "row %u: text after the closing quote of a cell"},
    [BR_CSV_QUOTE_INSIDE_CELL] = {"ecsv.csv.bad-quote",
                                  "a cell with a quote must be quoted as a whole and the quote "
                                  "written twice: \"say \"\"hi\"\"\"",
                                  "row %u: a quote in the middle of a cell"},
};

/* A fault that stops the read: a finding at its cell, and err with the same place. */
static int csv_fault(br_ecsv_reader *r, int rc, br_error *err)
{
    br_csv_fault f = br_csv_fault_of(r->csv);
    if ((size_t)f.kind >= BR_ARRAY_LEN(FAULTS) || !FAULTS[f.kind].rule) return rc; /* I/O, memory */
    size_t cap = f.kind == BR_CSV_CELL_TOO_LARGE     ? r->lim.max_field
                 : f.kind == BR_CSV_RECORD_TOO_LARGE ? r->lim.max_field * 4 + 64 * 1024
                                                     : BR_ECSV_MAX_COLUMNS;
    char msg[300];
    snprintf(msg, sizeof msg, FAULTS[f.kind].fmt, f.line, cap);
    unsigned col = f.column < BR_ECSV_MAX_COLUMNS ? f.column : BR_ECSV_MAX_COLUMNS;
    const char *saved = r->cur_rowtype;
    r->cur_rowtype = NULL;
    r->rowno = f.line;
    br_ecsv_finding(r, BR_SEV_ERROR, (int)col, f.line, FAULTS[f.kind].rule, FAULTS[f.kind].hint,
                    "%s", msg);
    r->cur_rowtype = saved;
    br_error_set(err, rc, r->source, f.line, col + 1, "%s", msg);
    br_ecsv_cell_name(col, f.line, err ? err->place.cell : (char[16]){0});
    return rc;
}

int br_ecsv_read_row(br_ecsv_reader *r, br_error *err)
{
    int rc = br_csv_next(r->csv, &r->rec, err);
    if (rc > 0) {
        r->ncells = r->rec.n;
        r->rowno = r->rec.line;
        r->saw_cr |= r->rec.cr;
        return 1;
    }
    r->ncells = 0;
    return rc ? csv_fault(r, rc, err) : 0;
}

int br_ecsv_row_ascii(const br_ecsv_reader *r)
{
    const unsigned char *p = (const unsigned char *)r->rec.data;
    size_t n = r->rec.size, i = 0;
    uint64_t acc = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        acc |= w;
    }
    for (; i < n; i++)
        acc |= p[i];
    return !(acc & 0x8080808080808080ull);
}

int br_ecsv_cell_bad(br_ecsv_reader *r, unsigned c)
{
    const char *s = r->rec.cells[c].p;
    size_t n = r->rec.cells[c].len, bad;
    const char *nul = r->rec.has_nul ? memchr(s, 0, n) : NULL;
    if (nul) {
        br_ecsv_finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.encoding.nul",
                        "a NUL byte is no text: remove it (is the file UTF-16, or not text?)",
                        "row %u, column %u: a NUL byte at byte %zu of the cell", r->rowno, c + 1,
                        (size_t)(nul - s) + 1);
        return -1;
    }
    if (!br_utf8_check(s, n, &bad)) return 0;
    br_ecsv_finding(r, BR_SEV_ERROR, (int)c, r->rowno, "ecsv.encoding.invalid-utf8",
                    "save the file as UTF-8 (it looks like Latin-1 or Windows-1252)",
                    "row %u, column %u: byte 0x%02X at byte %zu of the cell is not valid UTF-8",
                    r->rowno, c + 1, (unsigned char)s[bad], bad + 1);
    return -1;
}

/* ---- groups ------------------------------------------------------------------------------- */

static int set_gkey(br_ecsv_reader *r, const char *s, size_t n)
{
    if (n + 1 > r->gkey_cap) {
        char *p = realloc(r->gkey, n + 64);
        if (!p) return BR_ENOMEM;
        r->gkey = p;
        r->gkey_cap = n + 64;
    }
    memcpy(r->gkey, s, n);
    r->gkey[n] = 0;
    r->gkey_len = n;
    return 0;
}

/* Whether the stored asset has a value for target (a metadata field). */
static int stored_has(const br_record *stored, const char *target)
{
    return stored && target[0] != '@' && br_record_has(stored, target);
}

/* Whether the stored asset has an ASSET date this row keeps (present 0: in a column the file
 * lacks, so the update leaves it alone) or deletes (present 1: in a column the file has). */
static int stored_date(const br_ecsv_reader *r, const br_record *stored, int present)
{
    for (size_t i = 0; stored && i < br_ecsv_xwalk_count(r->xw); i++) {
        const br_ecsv_field *f = br_ecsv_xwalk_at(r->xw, i);
        if (strcmp(f->row, "ASSET") || strcmp(f->category, "dates")) continue;
        if (!r->present[i] == !present && stored_has(stored, f->target)) return 1;
    }
    return 0;
}

/* The mandatory fields (notes/formats.md 1.5) are what a NEW asset (GROUP_ID) must have.  A
 * RESEARCH_ASSET_ID row updates an asset that exists, and Esploro's own exports hold assets
 * with no date or no affiliation: such a row is wrong only where it EMPTIES a mandatory field,
 * i.e. its column is present, its cell empty, and the stored asset has a value there that the
 * update would delete (an absent column keeps the stored values).  With the repository the
 * stored asset is looked at (lint --repo, import); without it, a title and an asset type, which
 * every asset has, count as stored, an affiliation and a date, which some lack, do not. */
static int check_mandatory(br_ecsv_reader *r, br_ecsv_gstate *gs, const br_ecsv_group *g,
                           int64_t item, br_error *err)
{
    const int have[BR_ECSV_MANDATORY] = {gs->has_title, gs->has_restype, gs->has_affil};
    int emptied = 0, rc = 0;
    for (size_t i = 0; i < BR_ECSV_MANDATORY; i++)
        emptied |= !have[i] && r->mandatory_col[i] >= 0;
    emptied |= !gs->has_date && r->asset_date_col;
    br_record *stored = NULL;
    if (g->by_asset_id && emptied && r->repo && item > 0) {
        br_error e;
        if (!(stored = br_record_new()))
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        if ((rc = br_item_load(r->repo, item, stored, &e))) {
            if (err) *err = e;
            goto done;
        }
    }
    for (size_t i = 0; i < BR_ECSV_MANDATORY; i++) {
        int col = r->mandatory_col[i];
        const char *column = br_ecsv_mandatory[i].column;
        if (have[i]) continue;
        if (!g->by_asset_id) {
            br_ecsv_finding(
                r, BR_SEV_ERROR, col >= 0 ? col : 0, gs->asset_row, "ecsv.group.mandatory",
                "a new asset (GROUP_ID) needs ASSET_TITLE, ASSET_RESTYPE, "
                "ASSET_AFFILIATION and one ASSET date",
                "%s is missing: every asset needs %s", column, br_ecsv_mandatory[i].what);
            continue;
        }
        if (col < 0) continue; /* update: an absent column keeps the stored values */
        const br_ecsv_field *f = br_ecsv_xwalk_column(r->xw, column);
        int had = r->repo ? stored_has(stored, f->target) : i < 2; /* title, type: every asset */
        if (!had) continue; /* the asset has none: the empty cell changes nothing */
        br_ecsv_finding(r, BR_SEV_ERROR, col, gs->asset_row, "ecsv.group.mandatory",
                        "give the asset's value in this cell, or remove the column to leave it "
                        "as it is",
                        "%s is empty: the update would delete the asset's value, and every "
                        "asset needs %s",
                        column, br_ecsv_mandatory[i].what);
    }
    if (!gs->has_date) {
        if (!g->by_asset_id)
            br_ecsv_finding(r, BR_SEV_ERROR, 0, gs->asset_row, "ecsv.group.mandatory",
                            "give at least one ASSET date, e.g. ASSET_PUBLISHDATE as YYYYMMDD",
                            "the asset has no date: at least one ASSET date column is mandatory");
        else if (r->asset_date_col && stored_date(r, stored, 1) && !stored_date(r, stored, 0))
            br_ecsv_finding(r, BR_SEV_ERROR, 0, gs->asset_row, "ecsv.group.mandatory",
                            "give the asset's date in its column, or remove the empty date "
                            "columns to leave them as they are",
                            "the ASSET date cells are empty: the update would delete every date "
                            "the asset has, and every asset needs one");
    }
done:
    br_record_free(stored);
    return rc;
}

/* End of a group: the rules that need all its rows. */
static int close_group(br_ecsv_reader *r, br_ecsv_gstate *gs, br_ecsv_group *g, br_error *err)
{
    unsigned save = r->rowno;
    int rc = 0;
    int64_t item = 0;
    r->cur_rowtype = "ASSET";
    if (r->repo && g->by_asset_id) {
        br_error e;
        rc = br_item_find(r->repo, r->gkey, &item, &e);
        if (rc == BR_ENOTFOUND) {
            br_ecsv_finding(
                r, BR_SEV_ERROR, 1, g->first_row, "ecsv.group.asset-id-unknown",
                "RESEARCH_ASSET_ID names an existing item by handle or UUID; use GROUP_ID "
                "for new assets",
                "RESEARCH_ASSET_ID '%s' is not an item of the repository", r->gkey);
            item = 0, rc = 0;
        } else if (rc) {
            if (err) *err = e;
            goto done;
        }
    }
    if (!gs->asset_seen) {
        r->cur_rowtype = NULL;
        br_ecsv_finding(r, BR_SEV_ERROR, 0, g->first_row, "ecsv.group.asset-missing",
                        "every group has exactly one ASSET row, its first row",
                        "group %s has no ASSET row", r->gkey);
    } else {
        rc = check_mandatory(r, gs, g, item, err);
    }
done:
    r->cur_rowtype = NULL;
    r->rowno = save;
    return rc;
}

int br_ecsv_next(br_ecsv_reader *r, br_record *rec, br_ecsv_group *g, br_error *err)
{
    br_record_reset(rec);
    memset(g, 0, sizeof *g);
    br_ecsv_gstate gs = {0};
    gs.first_type = -1;
    r->g_errors = r->g_warnings = 0;
    int rc;
    for (;;) {
        if (!r->pending) {
            rc = br_ecsv_read_row(r, err);
            if (rc < 0) return rc;
            if (rc == 0) break;
            r->pending = 1;
        }
        if (r->fixing) br_ecsv_fix_clear(r);
        const char *ts = r->rec.cells[0].p, *ks = r->ncells > 1 ? r->rec.cells[1].p : "";
        size_t tn = r->rec.cells[0].len, kn = r->ncells > 1 ? r->rec.cells[1].len : 0;
        const char *kt = ks;
        size_t ktn = kn;
        br_ecsv_trim(&kt, &ktn);
        if (!gs.started && ktn) {
            /* A new group. */
            if ((rc = set_gkey(r, kt, ktn)))
                return br_error_set(err, rc, NULL, 0, 0, "out of memory");
            gs.started = 1;
            /* The key names the asset in the mapfile ("<key> <handle>" per line), the job
             * journal and JSON reports: one line of UTF-8. */
            r->gkey_bad = br_utf8_check(kt, ktn, NULL) != 0;
            for (size_t i = 0; i < ktn && !r->gkey_bad; i++)
                r->gkey_bad = (unsigned char)kt[i] < 0x20 || kt[i] == 0x7f;
            if (r->gkey_bad)
                br_ecsv_finding(
                    r, BR_SEV_ERROR, 1, r->rowno, "ecsv.group.key-invalid",
                    "a group key is one line of UTF-8 text without control characters",
                    "the group key '%s' has a line break, a control character or bytes that "
                    "are not UTF-8",
                    br_ecsv_shown(r, kt, ktn));
            gs.source = br_record_str(rec, r->source);
            rec->key = br_record_str(rec, r->gkey);
            g->key = r->gkey;
            g->by_asset_id = r->by_asset_id;
            g->first_row = r->rowno;
            g->offset = r->rec.offset;
            if (r->n_recent < BR_ECSV_RECENT_GROUPS)
                r->recent[r->n_recent++] = (br_ecsv_checkpoint){r->rec.offset, r->rowno};
            else
                r->recent[(r->groups) % BR_ECSV_RECENT_GROUPS] =
                    (br_ecsv_checkpoint){r->rec.offset, r->rowno};
            if (r->rec.offset >= r->high_water) {
                int seen = keyset_add(&r->keys, hash64(kt, ktn));
                if (seen < 0) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
                if (seen)
                    br_ecsv_finding(
                        r, BR_SEV_ERROR, 1, r->rowno, "ecsv.group.split",
                        "keep the rows of a group together; two assets cannot share a key",
                        "group %s appeared earlier in the file", r->gkey);
            }
        } else if (gs.started && ktn && (ktn != r->gkey_len || memcmp(kt, r->gkey, ktn))) {
            break; /* the row starts the next group: it stays pending */
        }
        r->pending = 0;
        r->rows++;
        /* The row's type. */
        int rt = br_ecsv_row_type(ts, tn);
        r->cur_rowtype = rt >= 0 ? br_ecsv_row_names[rt] : NULL;
        if (!ktn) {
            /* Templates emit typed rows with no key and no values: no-ops. */
            if (!br_ecsv_row_empty(r))
                br_ecsv_finding(r, BR_SEV_ERROR, 1, r->rowno, "ecsv.row.key-missing",
                                "column B holds the group key of every row",
                                "row %u has no group key in column B", r->rowno);
            rt = -1;
        } else if (rt < 0) {
            if (tn)
                br_ecsv_finding(
                    r, BR_SEV_ERROR, 0, r->rowno, "ecsv.row.type-unknown",
                    "column A is ASSET, PRTOF, CREATOR, OCREATOR, CONT, OCONT, LINK or FILE",
                    "'%s' is not a row type", br_ecsv_shown(r, ts, tn));
            else if (!br_ecsv_row_empty(r))
                br_ecsv_finding(
                    r, BR_SEV_ERROR, 0, r->rowno, "ecsv.row.type-missing",
                    "column A is ASSET, PRTOF, CREATOR, OCREATOR, CONT, OCONT, LINK or FILE",
                    "the row has values but no row type in column A");
        } else {
            if (memcmp(ts, br_ecsv_row_names[rt], tn)) {
                char hint[120];
                snprintf(hint, sizeof hint, "bulkrepo lint --fix writes it as %s",
                         br_ecsv_row_names[rt]);
                br_ecsv_finding(r, BR_SEV_WARNING, 0, r->rowno, "ecsv.value.enum-case", hint,
                                "the row type '%s' is written %s", br_ecsv_shown(r, ts, tn),
                                br_ecsv_row_names[rt]);
                br_ecsv_set_fix(r, 0, br_ecsv_row_names[rt], strlen(br_ecsv_row_names[rt]));
                br_ecsv_fix_note(r, 0, "ecsv.value.enum-case", br_ecsv_row_names[rt],
                                 strlen(br_ecsv_row_names[rt]));
            }
            if (kt != ks || ktn != kn) {
                br_ecsv_finding(r, BR_SEV_ERROR, 1, r->rowno, "ecsv.value.whitespace",
                                "bulkrepo lint --fix trims it",
                                "the group key '%s' has whitespace at its start or end",
                                br_ecsv_shown(r, ks, kn));
                br_ecsv_set_fix(r, 1, kt, ktn);
                br_ecsv_fix_note(r, 1, "ecsv.value.whitespace", kt, ktn);
            }
            if (gs.first_type < 0) gs.first_type = rt;
            if (rt == BR_ECSV_ROW_ASSET) {
                if (gs.asset_seen) {
                    br_ecsv_finding(r, BR_SEV_ERROR, 0, r->rowno, "ecsv.group.asset-duplicate",
                                    "one ASSET row per group; two assets cannot share a key",
                                    "group %s already has an ASSET row (row %u)", r->gkey,
                                    gs.asset_row);
                    rt = -1; /* its values are not read */
                } else {
                    gs.asset_seen = 1;
                    gs.asset_row = r->rowno;
                    if (gs.first_type != BR_ECSV_ROW_ASSET)
                        br_ecsv_finding(
                            r, BR_SEV_ERROR, 0, r->rowno, "ecsv.group.asset-not-first",
                            "the ASSET row is the first row of its group",
                            "the ASSET row of group %s comes after the group's other rows",
                            r->gkey);
                }
            }
        }
        rc = br_ecsv_do_row(r, rec, &gs, rt);
        if (rc) return br_error_set(err, rc, r->source, r->rowno, 0, "out of memory");
        if (r->fixing && (rc = br_ecsv_out_row(r, err))) return rc;
        r->cur_rowtype = NULL;
        if (!gs.started) {
            /* A row without a key before any group: nothing to return yet. */
            continue;
        }
        g->last_row = r->rowno;
    }
    if (!gs.started) return 0;
    r->groups++;
    if ((rc = close_group(r, &gs, g, err))) return rc;
    if (r->rec.offset > r->high_water) r->high_water = r->rec.offset;
    if (!r->pending) r->high_water = UINT64_MAX;
    g->errors = r->g_errors;
    g->warnings = r->g_warnings;
    return 1;
}

/* ---- open, seek, close -------------------------------------------------------------------- */

int br_ecsv_open_mode(const char *path, const br_ecsv_options *opt, int mode, br_ecsv_reader **out,
                      br_error *err)
{
    *out = NULL;
    int rc = 0;
    br_ecsv_reader *r = calloc(1, sizeof *r);
    if (!r) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    r->source = path;
    if (opt && opt->limits.max_field)
        r->lim = opt->limits;
    else
        br_limits_default(&r->lim);
    r->repo = opt ? opt->repo : NULL;
    r->diags = opt ? opt->diags : NULL;
    r->path = strdup(path);
    if (!r->path) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    char *slash = strrchr(r->path, '/');
    r->dir = slash ? strndup(r->path, (size_t)(slash - r->path)) : strdup(".");
    if (!r->dir || (slash && !*r->dir && (free(r->dir), !(r->dir = strdup("/"))))) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    if ((rc = br_ecsv_xwalk_new(&r->xw, err))) goto done;
    /* A row holds at most a few cells at the cap: enough for real rows, bounded for bad ones. */
    br_csv_read_options co = {r->lim.max_field, r->lim.max_field * 4 + 64 * 1024,
                              BR_ECSV_MAX_COLUMNS};
    if ((rc = br_csv_reader_open(path, &co, &r->csv, err))) goto done;
    r->lint_only = mode >= 0;
    if (mode > 0 && (rc = br_ecsv_fix_begin(r, opt->fix_path, err))) goto done;
    if ((rc = br_ecsv_parse_header(r, err))) goto done;
    *out = r;
    r = NULL;
done:
    br_ecsv_close(r);
    return rc;
}

int br_ecsv_open(const char *path, const br_ecsv_options *opt, br_ecsv_reader **out, br_error *err)
{
    /* Only br_ecsv_lint writes fixes: a reader never writes. */
    return br_ecsv_open_mode(path, opt, -1, out, err);
}

int br_ecsv_seek(br_ecsv_reader *r, uint64_t offset, br_error *err)
{
    if (r->fixing) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a linting reader cannot seek");
    if (offset < r->data_offset)
        return br_error_set(err, BR_EUSAGE, r->source, 0, 0, "offset %llu is inside the header",
                            (unsigned long long)offset);
    /* The line at offset: counted from the closest group start known before it. */
    br_ecsv_checkpoint best = {r->data_offset, r->data_line};
    for (unsigned i = 0; i < r->n_recent; i++)
        if (r->recent[i].offset <= offset && r->recent[i].offset >= best.offset)
            best = r->recent[i];
    unsigned line;
    int rc = br_csv_line_at(r->csv, best.offset, best.line, offset, &line, err);
    if (!rc) rc = br_csv_seek(r->csv, offset, line, err);
    if (rc) return rc;
    r->pending = 0;
    r->ncells = 0;
    return 0;
}

int br_ecsv_has_target(const br_ecsv_reader *r, const char *target)
{
    if (!r || !target) return 0;
    size_t tl = strlen(target);
    for (size_t i = 0; i < br_ecsv_xwalk_count(r->xw); i++) {
        if (!r->present[i]) continue;
        const char *t = br_ecsv_xwalk_at(r->xw, i)->target;
        if (!strcmp(t, target)) return 1;
        if (target[0] == '@' && !strchr(target, '.') && !strncmp(t, target, tl) && t[tl] == '.')
            return 1;
    }
    return 0;
}

const char *br_ecsv_key_header(const br_ecsv_reader *r)
{
    return r ? r->key_header : NULL;
}

void br_ecsv_close(br_ecsv_reader *r)
{
    if (!r) return;
    br_csv_reader_free(r->csv);
    br_csv_writer_abort(r->out); /* not finished: the partial output goes */
    br_ecsv_xwalk_free(r->xw);
    free(r->path);
    free(r->dir);
    free(r->cols);
    free(r->fix);
    free(r->present);
    free(r->keys.slots);
    free(r->gkey);
    br_strmap_dispose(&r->units_known);
    br_buf_dispose(&r->fixbuf);
    br_buf_dispose(&r->scratch);
    br_buf_dispose(&r->scratch2);
    free(r);
}
