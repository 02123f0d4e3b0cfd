/* The Esploro CSV crosswalk, reader and linter through the public API (issue 3):
 * the seed's example asset, the official template, and one small file per rule
 * and per bad input, each asserting the cell, the rule and, where fixable, that
 * the fixed copy lints clean. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "testutil.h"
#include "bulkrepo/bulkrepo.h"
#include "bulkrepo/esploro.h"

typedef struct fixture {
    char *tmp;
    br_record *rec;
    tu_log log; /* one finding per line: "CELL SEVERITY RULE {group}: message [hint: ...]" */
    br_diag_sink sink;
    br_ecsv_summary sum;
    br_error err;
} fixture;

static void collect(void *ctx, const br_diag *d)
{
    fixture *f = ctx;
    char line[4096];
    int n = snprintf(line, sizeof line, "%s %s %s {%s}: %s [hint: %s]\n", d->cell ? d->cell : "-",
                     br_severity_name(d->severity), d->rule, d->item ? d->item : "", d->message,
                     d->hint ? d->hint : "");
    if (n < 0) return;
    tu_log_printf(&f->log, "%s", line);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->tmp = tu_tmpdir();
    f->rec = br_record_new();
    tu_log_init(&f->log);
    f->sink.fn = collect;
    f->sink.ctx = f;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tu_rmtree(f->tmp);
    free(f->tmp);
    tu_log_dispose(&f->log);
    br_record_free(f->rec);
    free(f);
    return 0;
}

static void clear_log(fixture *f)
{
    tu_log_clear(&f->log);
    f->sink.errors = f->sink.warnings = f->sink.notes = 0;
}

/* The test header: A blank, B GROUP_ID, then C..Q. */
#define HEADER                                                                                     \
    ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,ASSET_KEYWORDS,"      \
    "ASSET_ABSTRACT,ASSET_LANG,ASSET_ORIGASSET_ID,CREATOR_FAMNAME,CREATOR_GIVNAME,CREATOR_ORCID,"  \
    "LINK_LINKURL,LINK_LINKTITLE,FILE_FILEURL,FILE_DISPLAY_NAME\n"
#define NCOLS 17

/* One row of the test header: spec is "C=value|F=value..." (column letter = value). */
static char *row(const char *type, const char *key, const char *spec)
{
    static char out[8][8192];
    static int k;
    char *o = out[k++ & 7];
    char cells[NCOLS][1024] = {{0}};
    snprintf(cells[0], sizeof cells[0], "%s", type);
    snprintf(cells[1], sizeof cells[1], "%s", key);
    char tmp[8192];
    snprintf(tmp, sizeof tmp, "%s", spec ? spec : "");
    char *save = NULL;
    for (char *p = strtok_r(tmp, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
        int c = p[0] - 'A';
        assert_true(c >= 2 && c < NCOLS && p[1] == '=');
        snprintf(cells[c], sizeof cells[c], "%s", p + 2);
    }
    size_t n = 0;
    for (int c = 0; c < NCOLS; c++) {
        if (c) o[n++] = ',';
        int q = strpbrk(cells[c], ",\"\n\r") != NULL;
        if (q) o[n++] = '"';
        for (char *s = cells[c]; *s; s++) {
            if (*s == '"') o[n++] = '"';
            o[n++] = *s;
        }
        if (q) o[n++] = '"';
    }
    o[n++] = '\n';
    o[n] = 0;
    return o;
}

#define ASSET_OK "C=A title|D=publication.journalArticle|E=01ALLIANCE_UID___n6370|F=20211018"

static void write_file(fixture *f, const char *rel, const char *text)
{
    tu_write(f->tmp, rel, text);
}

/* Lints tmp/rel (with a fix copy when fix is given); returns br_ecsv_lint's code. */
static int lint(fixture *f, const char *rel, const char *fix)
{
    clear_log(f);
    br_ecsv_options o = {0};
    o.diags = &f->sink;
    char fixpath[4096];
    if (fix) {
        snprintf(fixpath, sizeof fixpath, "%s", tu_path(f->tmp, fix));
        o.fix_path = fixpath;
    }
    br_error_clear(&f->err);
    return br_ecsv_lint(tu_path(f->tmp, rel), &o, &f->sum, &f->err);
}

static int lint_text(fixture *f, const char *text)
{
    write_file(f, "in.csv", text);
    return lint(f, "in.csv", NULL);
}

/* Fixes in.csv into fixed.csv, then lints fixed.csv: it must have no findings. */
static void assert_fix_clean(fixture *f)
{
    assert_int_equal(lint(f, "in.csv", "fixed.csv"), 0);
    assert_true(f->sum.fixes > 0);
    assert_contains(f->log.text, " note ecsv.fix.");
    assert_int_equal(lint(f, "fixed.csv", NULL), 0);
    if (f->sum.errors || f->sum.warnings) fail_msg("fixed file not clean:\n%s", f->log.text);
}

static void assert_clean(fixture *f)
{
    if (f->sum.errors || f->sum.warnings) fail_msg("expected no findings:\n%s", f->log.text);
}

/* Reads the first group of tmp/rel into f->rec. */
static int read_first(fixture *f, const char *rel, br_ecsv_group *g)
{
    br_ecsv_options o = {0};
    o.diags = &f->sink;
    br_ecsv_reader *r = NULL;
    clear_log(f);
    int rc = br_ecsv_open(tu_path(f->tmp, rel), &o, &r, &f->err);
    if (rc) fail_msg("open: %s", f->err.message);
    rc = br_ecsv_next(r, f->rec, g, &f->err);
    br_ecsv_close(r);
    return rc;
}

static const br_mdv *md(const br_record *r, const char *field, int nth)
{
    char s[64], e[64], q[64];
    assert_int_equal(br_field_parse(field, s, e, q), 0);
    for (size_t i = 0; i < r->n_md; i++) {
        const br_mdv *v = &r->md[i];
        if (!strcmp(v->schema, s) && !strcmp(v->element, e) &&
            (*q ? v->qualifier && !strcmp(v->qualifier, q) : !v->qualifier) && nth-- == 0)
            return v;
    }
    return NULL;
}

static const char *mdv(const br_record *r, const char *field, int nth)
{
    const br_mdv *v = md(r, field, nth);
    return v ? v->value : NULL;
}

/* ---- crosswalk ---------------------------------------------------------------------------- */

static void test_xwalk(void **state)
{
    (void)state;
    br_ecsv_xwalk *x = NULL;
    br_error err;
    assert_int_equal(br_ecsv_xwalk_new(&x, &err), 0);
    /* The 202 template columns after A and B, plus ASSET_SDG and ASSET_OPENACCESSSTATUS. */
    assert_int_equal(br_ecsv_xwalk_count(x), 204);
    const br_ecsv_field *t = br_ecsv_xwalk_column(x, "asset_Title");
    assert_non_null(t);
    assert_string_equal(t->column, "ASSET_TITLE");
    assert_string_equal(t->target, "dc.title");
    assert_ptr_equal(br_ecsv_xwalk_target(x, "dc.title"), t);
    assert_null(br_ecsv_xwalk_column(x, "ASSET_NOPE"));
    assert_null(br_ecsv_xwalk_target(x, "dc.nope"));
    const br_ecsv_field *k = br_ecsv_xwalk_column(x, "ASSET_KEYWORDS");
    assert_int_equal(k->multi, 1);
    assert_int_equal(br_ecsv_xwalk_column(x, "ASSET_LANG")->kind, BR_ECSV_LANG);
    assert_string_equal(br_ecsv_xwalk_target(x, "@link.url")->column, "LINK_LINKURL");
    /* Every target is unique and maps back to its column. */
    for (size_t i = 0; i < br_ecsv_xwalk_count(x); i++) {
        const br_ecsv_field *f = br_ecsv_xwalk_at(x, i);
        assert_ptr_equal(br_ecsv_xwalk_target(x, f->target), f);
        assert_ptr_equal(br_ecsv_xwalk_column(x, f->column), f);
        assert_int_equal(strncmp(f->column, f->row, strlen(f->row)), 0);
    }
    br_ecsv_xwalk_free(x);
    br_ecsv_xwalk_free(NULL);
}

/* ---- the seed's example shape -------------------------------------------------------------- */

static void test_seed_example(void **state)
{
    fixture *f = *state;
    char text[16384];
    snprintf(text, sizeof text, "%s%s%s%s%s%s%s%s", HEADER,
             row("ASSET", "0",
                 ASSET_OK "|G=biology@@habitat restoration@@fish|H=An abstract.|I=eng|J=orig-17"),
             row("CREATOR", "0", "K=Smith|L=Ann|M=0000-0002-1825-0097"),
             row("CREATOR", "0", "K=Doe|L=Bob"), row("CREATOR", "0", "K=Roe|L=Cy"),
             row("LINK", "0", "N=https://example.org/a|O=First"),
             row("LINK", "0", "N=https://example.org/b"),
             row("FILE", "0", "P=files/paper.pdf|Q=Paper"));
    write_file(f, "seed.csv", text);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "seed.csv", &g), 1);
    assert_string_equal(f->log.text, "");
    assert_int_equal(g.errors, 0);
    assert_string_equal(f->rec->key, "0"); /* g.key died with the reader */
    assert_int_equal(g.by_asset_id, 0);
    assert_int_equal(g.first_row, 2);
    assert_int_equal(g.last_row, 8);
    br_record *r = f->rec;
    assert_string_equal(r->key, "0");
    assert_string_equal(mdv(r, "dc.title", 0), "A title");
    assert_string_equal(mdv(r, "dc.date.issued", 0), "2021-10-18");
    assert_string_equal(mdv(r, "dc.type", 0), "publication.journalArticle");
    assert_string_equal(mdv(r, "esploro.asset.affiliation", 0), "01ALLIANCE_UID___n6370");
    assert_string_equal(mdv(r, "dc.subject", 0), "biology");
    assert_string_equal(mdv(r, "dc.subject", 1), "habitat restoration");
    assert_string_equal(mdv(r, "dc.subject", 2), "fish");
    assert_int_equal(md(r, "dc.subject", 2)->place, 2);
    assert_string_equal(mdv(r, "dc.language.iso", 0), "eng");
    /* Origins: the CSV, its row and column. */
    const br_mdv *title = md(r, "dc.title", 0);
    assert_int_equal(title->origin.line, 2);
    assert_int_equal(title->origin.column, 3);
    assert_non_null(strstr(title->origin.source, "seed.csv"));
    /* ASSET_ORIGASSET_ID is also an "origid" identifier. */
    assert_int_equal(r->n_ids, 1);
    assert_string_equal(r->ids[0].type, "origid");
    assert_string_equal(r->ids[0].value, "orig-17");
    /* Three creators in order; no dc.contributor values (the import derives them). */
    assert_int_equal(r->n_creators, 3);
    assert_string_equal(r->creators[0].family, "Smith");
    assert_string_equal(r->creators[0].given, "Ann");
    assert_string_equal(r->creators[0].orcid, "0000-0002-1825-0097");
    assert_string_equal(r->creators[1].family, "Doe");
    assert_string_equal(r->creators[2].family, "Roe");
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r->creators[i].place, i);
        assert_int_equal(r->creators[i].role, BR_CREATOR);
        assert_int_equal(r->creators[i].origin.line, (unsigned)(3 + i));
    }
    assert_null(md(r, "dc.contributor.author", 0));
    assert_int_equal(r->n_links, 2);
    assert_string_equal(r->links[0].url, "https://example.org/a");
    assert_string_equal(r->links[0].title, "First");
    assert_string_equal(r->links[1].url, "https://example.org/b");
    assert_int_equal(r->links[1].place, 1);
    assert_int_equal(r->n_bs, 1);
    assert_string_equal(r->bs[0].name, "Paper");
    assert_string_equal(r->bs[0].url, "files/paper.pdf");
    assert_string_equal(r->bs[0].path, tu_path(f->tmp, "files/paper.pdf"));
    assert_int_equal(r->bs[0].origin.line, 8);

    /* Lint agrees: clean. */
    assert_int_equal(lint(f, "seed.csv", NULL), 0);
    assert_clean(f);
    assert_int_equal(f->sum.rows, 7);
    assert_int_equal(f->sum.groups, 1);
}

static void test_file_names_and_paths(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s%s%s%s", HEADER, row("ASSET", "1", ASSET_OK),
             row("FILE", "1", "P=file:///data/my%20file.pdf"),
             row("FILE", "1", "P=https://x.org/dl/report.pdf?x=1"),
             row("FILE", "1", "P=../outside.pdf"));
    write_file(f, "in.csv", text);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "in.csv", &g), 1);
    assert_int_equal(f->rec->n_bs, 3);
    assert_string_equal(f->rec->bs[0].name, "my%20file.pdf");
    assert_string_equal(f->rec->bs[0].path, "/data/my file.pdf");
    assert_string_equal(f->rec->bs[1].name, "report.pdf");
    assert_null(f->rec->bs[1].path);
    assert_null(f->rec->bs[2].path);
    assert_contains(f->log.text, "P5 error ecsv.file.path-escapes");
    assert_int_equal(g.errors, 1);
}

/* ---- the official template and real-export shapes ------------------------------------------- */

static void test_template_reads_clean(void **state)
{
    fixture *f = *state;
    clear_log(f);
    br_ecsv_options o = {0};
    o.diags = &f->sink;
    assert_int_equal(br_ecsv_lint(tu_data("esploro/new-asset-template.csv"), &o, &f->sum, &f->err),
                     0);
    assert_clean(f);
    assert_int_equal(f->sum.groups, 0); /* its typed rows are empty: no-ops */
    br_ecsv_reader *r = NULL;
    assert_int_equal(br_ecsv_open(tu_data("esploro/new-asset-template.csv"), &o, &r, &f->err), 0);
    assert_string_equal(br_ecsv_key_header(r), "GROUP_ID");
    assert_true(br_ecsv_has_target(r, "dc.title"));
    assert_true(br_ecsv_has_target(r, "@creator"));
    assert_true(br_ecsv_has_target(r, "@file"));
    assert_false(br_ecsv_has_target(r, "esploro.asset.sdg")); /* export-only column */
    assert_int_equal(br_ecsv_next(r, f->rec, &(br_ecsv_group){0}, &f->err), 0);
    br_ecsv_close(r);
}

static void test_research_asset_id_and_case(void **state)
{
    fixture *f = *state;
    /* Lower-case headers in another order, RESEARCH_ASSET_ID, export-only columns. */
    assert_int_equal(lint_text(f,
                               ",research_asset_id,asset_restype,Asset_Title,ASSET_SDG,"
                               "ASSET_OPENACCESSSTATUS,ASSET_AFFILIATION,ASSET_PUBLISHDATE\n"
                               "ASSET,991283105600561,dataset.dataset,T,SDG 3,gold,P___U,2022\n"),
                     0);
    assert_clean(f);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "in.csv", &g), 1);
    assert_int_equal(g.by_asset_id, 1);
    assert_string_equal(f->rec->key, "991283105600561");
    assert_string_equal(mdv(f->rec, "dc.date.issued", 0), "2022");
    assert_string_equal(mdv(f->rec, "esploro.asset.sdg", 0), "SDG 3");
}

static void test_update_mode_mandatory_only_present_columns(void **state)
{
    fixture *f = *state;
    /* An update that carries only keywords: title/type/affiliation/date columns are absent. */
    assert_int_equal(lint_text(f, ",RESEARCH_ASSET_ID,ASSET_KEYWORDS\nASSET,99,a@@b\n"), 0);
    assert_clean(f);
    /* ...but an emptied title would delete it: every asset has one. */
    assert_int_equal(lint_text(f, ",RESEARCH_ASSET_ID,ASSET_TITLE,ASSET_KEYWORDS\nASSET,99,,a\n"),
                     0);
    assert_contains(f->log.text, "C2 error ecsv.group.mandatory {99}: C2: ASSET_TITLE is empty: "
                                 "the update would delete the asset's value");
    /* Esploro's own exports hold assets with no affiliation and no date: without a repository
     * the empty cells of an update row are what the asset has, not a deletion. */
    assert_int_equal(lint_text(f, ",RESEARCH_ASSET_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,"
                                  "ASSET_PUBLISHDATE,ASSET_DATEEPUB\n"
                                  "ASSET,99,T,publication.book,,,\n"),
                     0);
    assert_clean(f);
    /* The same row keyed by GROUP_ID makes a new asset: then they are mandatory. */
    assert_int_equal(lint_text(f, ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,"
                                  "ASSET_PUBLISHDATE,ASSET_DATEEPUB\n"
                                  "ASSET,99,T,publication.book,,,\n"),
                     0);
    assert_contains(f->log.text, "E2 error ecsv.group.mandatory {99}: E2: ASSET_AFFILIATION is "
                                 "missing");
    assert_contains(f->log.text, "A2 error ecsv.group.mandatory {99}: A2: the asset has no date");
    assert_int_equal(f->sum.errors, 2);
}

/* tests/data/esploro/esploro-export.csv is shaped like Esploro's "Research assets CSV export"
 * (its 206-column header, RESEARCH_ASSET_ID keys, ASSET/PRTOF/LINK rows only, LINK values 26
 * columns left of their headers): several abstracts, several ISBNs and e-ISBNs of a host book,
 * assets with no date or no affiliation.  It lints with no error; --fix leaves nothing. */
static void test_esploro_export_shape(void **state)
{
    fixture *f = *state;
    br_ecsv_options o = {0};
    o.diags = &f->sink;
    clear_log(f);
    const char *path = tu_data("esploro/esploro-export.csv");
    assert_int_equal(br_ecsv_lint(path, &o, &f->sum, &f->err), 0);
    if (f->sum.errors) fail_msg("Esploro's export shape has errors:\n%s", f->log.text);
    assert_int_equal(f->sum.groups, 4);
    assert_int_equal(f->sum.warnings, 2); /* the two shifted LINK rows */
    assert_contains(f->log.text, "FF4 warning ecsv.row.link-shift");
    assert_not_contains(f->log.text, "multi-not-allowed");
    assert_not_contains(f->log.text, "mandatory");
    char fixed[4096];
    snprintf(fixed, sizeof fixed, "%s", tu_path(f->tmp, "fixed.csv"));
    o.fix_path = fixed;
    clear_log(f);
    assert_int_equal(br_ecsv_lint(path, &o, &f->sum, &f->err), 0);
    assert_int_equal(f->sum.fixes, 2);
    assert_int_equal(lint(f, "fixed.csv", NULL), 0);
    assert_clean(f);
    /* What the reader makes of it. */
    br_ecsv_options ro = {0};
    ro.diags = &f->sink;
    br_ecsv_reader *r = NULL;
    br_ecsv_group g;
    assert_int_equal(br_ecsv_open(path, &ro, &r, &f->err), 0);
    assert_int_equal(br_ecsv_next(r, f->rec, &g, &f->err), 1);
    assert_int_equal(g.by_asset_id, 1);
    assert_string_equal(g.key, "123456789/2");
    assert_non_null(mdv(f->rec, "dc.description.abstract", 1));
    assert_null(mdv(f->rec, "dc.description.abstract", 2));
    assert_string_equal(mdv(f->rec, "esploro.asset.affiliation", 1), "01EXAMPLE_INST___bio");
    assert_int_equal(f->rec->n_links, 1);
    assert_string_equal(f->rec->links[0].url, "https://doi.org/10.5555/example.2021.001");
    assert_int_equal(br_ecsv_next(r, f->rec, &g, &f->err), 1);
    assert_string_equal(mdv(f->rec, "esploro.prtof.isbn", 0), "316148410X");
    assert_string_equal(mdv(f->rec, "esploro.prtof.isbn", 1), "9783161484100");
    assert_string_equal(mdv(f->rec, "esploro.prtof.eisbn", 1), "3161484118");
    assert_null(mdv(f->rec, "dc.date.issued", 0));
    assert_int_equal(br_ecsv_next(r, f->rec, &g, &f->err), 1);
    assert_null(mdv(f->rec, "esploro.asset.affiliation", 0));
    assert_string_equal(mdv(f->rec, "dc.language.iso", 1), "ger");
    assert_int_equal(br_ecsv_next(r, f->rec, &g, &f->err), 1);
    assert_null(mdv(f->rec, "esploro.asset.affiliation", 0));
    assert_null(mdv(f->rec, "dc.date.issued", 0));
    assert_int_equal(br_ecsv_next(r, f->rec, &g, &f->err), 0);
    br_ecsv_close(r);
}

/* Every multi-valued column of the crosswalk says why (the table is refused otherwise). */
static void test_multi_flags_follow_esploro(void **state)
{
    (void)state;
    br_ecsv_xwalk *x = NULL;
    br_error err;
    assert_int_equal(br_ecsv_xwalk_new(&x, &err), 0);
    static const char *const multi[] = {"ASSET_ABSTRACT", "PRTOF_ISBN",        "PRTOF_EISBN",
                                        "ASSET_KEYWORDS", "ASSET_AFFILIATION", "ASSET_SUBJECT"};
    for (size_t i = 0; i < sizeof multi / sizeof *multi; i++)
        assert_int_equal(br_ecsv_xwalk_column(x, multi[i])->multi, 1);
    assert_int_equal(br_ecsv_xwalk_column(x, "ASSET_TITLE")->multi, 0);
    assert_int_equal(br_ecsv_xwalk_column(x, "PRTOF_TITLE")->multi, 0);
    br_ecsv_xwalk_free(x);
}

/* The one rule for org-unit codes (orgunit add/import use it too: test_esploro_store). */
static void test_orgunit_code_rule(void **state)
{
    fixture *f = *state;
    static const char *const good[] = {"01ALLIANCE_UID___n6370", "A___b", "01EXAMPLE___GEO",
                                       "TR_INTEGRATION_INST___Faculty_of_Engineering"};
    static const char *const bad[] = {"01EXAMPLE_GEO", "___x",      "x___",     "",
                                      "a b___c",       "01X___a@b", "01X___a,b"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_null(br_ecsv_orgunit_code_problem(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_non_null(br_ecsv_orgunit_code_problem(bad[i], strlen(bad[i])));
    char big[300];
    memset(big, 'a', sizeof big);
    memcpy(big + 10, "___", 3);
    assert_non_null(br_ecsv_orgunit_code_problem(big, sizeof big));
    assert_non_null(br_ecsv_orgunit_code_problem("01X___\xff", 7));
    /* lint says the same of the same codes */
    char text[8192];
    snprintf(text, sizeof text, "%s%s%s", HEADER,
             row("ASSET", "1",
                 "C=T|D=publication.journalArticle|E=01EXAMPLE_GEO@@01EXAMPLE___GEO|F=2021"),
             row("CREATOR", "1", "K=Smith"));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text,
                    "E2 error ecsv.value.affiliation {1}: E2: ASSET_AFFILIATION "
                    "'01EXAMPLE_GEO' is not an organisational-unit code PREFIX___UNIT");
    assert_int_equal(f->sum.errors, 1);
}

/* Esploro's export writes some ranges with an en dash ("2024–2025"): fixable. */
static void test_en_dash_range(void **state)
{
    fixture *f = *state;
    assert_int_equal(lint_text(f, ",RESEARCH_ASSET_ID,ASSET_CREATEDATE\nASSET,9,2024\xe2\x80\x93"
                                  "2025\n"),
                     0);
    assert_contains(f->log.text, "C2 error ecsv.value.date-range-format");
    assert_contains(f->log.text, "'2024 - 2025'");
    assert_fix_clean(f);
}

/* ---- encodings and CSV syntax ---------------------------------------------------------------- */

static void test_bom_and_crlf(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "\xEF\xBB\xBF%s%s", HEADER, row("ASSET", "1", ASSET_OK));
    /* CRLF line ends everywhere */
    char crlf[9000];
    size_t n = 0;
    for (char *p = text; *p; p++) {
        if (*p == '\n') crlf[n++] = '\r';
        crlf[n++] = *p;
    }
    crlf[n] = 0;
    write_file(f, "in.csv", crlf);
    assert_int_equal(lint(f, "in.csv", NULL), 0);
    assert_clean(f);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "in.csv", &g), 1);
    assert_string_equal(mdv(f->rec, "dc.date.issued", 0), "2021-10-18");
    /* The last cell of a CRLF row has no CR. */
    assert_string_equal(mdv(f->rec, "dc.title", 0), "A title");
    /* --fix writes no BOM and LF line ends. */
    assert_int_equal(lint(f, "in.csv", "fixed.csv"), 0);
    assert_contains(f->log.text, "note ecsv.fix.bom");
    assert_contains(f->log.text, "note ecsv.fix.crlf");
    char *out = tu_read(tu_path(f->tmp, "fixed.csv"));
    assert_non_null(out);
    assert_int_equal(out[0], ',');
    assert_null(strchr(out, '\r'));
    free(out);
}

static void test_line_break_in_value(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s", HEADER,
             row("ASSET", "1", ASSET_OK "|H=First paragraph.\n\nSecond one.|G=fish\nbirds"));
    write_file(f, "in.csv", text);
    assert_int_equal(lint(f, "in.csv", NULL), 0);
    assert_contains(f->log.text,
                    "H2 error ecsv.value.line-break {1}: H2: ASSET_ABSTRACT has a line break");
    assert_contains(f->log.text, "G2 error ecsv.value.line-break");
    assert_fix_clean(f);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "fixed.csv", &g), 1);
    assert_string_equal(mdv(f->rec, "dc.description.abstract", 0),
                        "<p>First paragraph.</p><p>Second one.</p>");
    assert_string_equal(mdv(f->rec, "dc.subject", 0), "fish birds");
}

static void test_unterminated_quote(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s%s", HEADER, row("ASSET", "1", ASSET_OK),
             "CREATOR,1,,,,,,,,,\"Smith,Ann\n");
    write_file(f, "in.csv", text);
    assert_int_equal(lint(f, "in.csv", NULL), BR_EINVAL); /* reported, the pass stops */
    assert_int_equal(f->sum.errors, 1);
    assert_contains(f->log.text, "error ecsv.csv.unterminated-quote");
    assert_contains(f->log.text, "row 3: a quoted cell is not closed");
    br_ecsv_options o = {0};
    br_ecsv_reader *r = NULL;
    assert_int_equal(br_ecsv_open(tu_path(f->tmp, "in.csv"), &o, &r, &f->err), 0);
    br_ecsv_group g;
    assert_int_equal(br_ecsv_next(r, f->rec, &g, &f->err), BR_EINVAL);
    assert_int_equal(f->err.place.line, 3);
    br_ecsv_close(r);
}

static void test_bad_quote(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%sASSET,1,say \"hi\",x\n", HEADER);
    assert_int_equal(lint_text(f, text), BR_EINVAL);
    assert_contains(f->log.text, "error ecsv.csv.bad-quote");
}

static void test_huge_cell_is_capped(void **state)
{
    fixture *f = *state;
    size_t big = 10u * 1024 * 1024;
    char *text = malloc(big + 4096);
    int n = snprintf(text, 4096, "%sASSET,1,", HEADER);
    memset(text + n, 'x', big);
    snprintf(text + n + big, 4096 - (size_t)n, ",publication.book\n");
    write_file(f, "in.csv", text);
    free(text);
    assert_int_equal(lint(f, "in.csv", NULL), BR_ELIMIT);
    assert_contains(f->log.text, "C2 error ecsv.csv.cell-too-large");
    assert_contains(f->err.message, "larger than 1048576 bytes");
    assert_int_equal(f->err.place.line, 2);
    /* Stopped early: not the whole 10 MB were read. */
    assert_true(f->sum.bytes < 2u * 1024 * 1024);
}

static void test_too_many_columns(void **state)
{
    fixture *f = *state;
    size_t n = 100000;
    size_t cap = n * 3 + 64;
    char *text = malloc(cap);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i) text[k++] = ',';
        k += (size_t)snprintf(text + k, cap - k, "%s", i == 1 ? "GROUP_ID" : i ? "X" : "");
    }
    text[k++] = '\n';
    text[k] = 0;
    write_file(f, "in.csv", text);
    free(text);
    assert_int_equal(lint(f, "in.csv", NULL), BR_ELIMIT);
    assert_contains(f->log.text, "error ecsv.csv.too-many-columns");
    assert_contains(f->err.message, "row 1 has more than 2048 columns");
}

static void test_latin1(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s", HEADER,
             row("ASSET", "1", "C=Caf\xE9|D=publication.book|E=P___U|F=2020"));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "C2 error ecsv.encoding.invalid-utf8");
    assert_contains(f->log.text, "row 2, column 3: byte 0xE9 at byte 4");
}

static void test_row_longer_than_header(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%.*s,extra\n", HEADER,
             (int)strlen(row("ASSET", "1", ASSET_OK)) - 1, row("ASSET", "1", ASSET_OK));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "R2 error ecsv.row.too-long");
    /* Empty cells past the header (a trailing comma) are harmless. */
    snprintf(text, sizeof text, "%s%.*s,,\n", HEADER, (int)strlen(row("ASSET", "1", ASSET_OK)) - 1,
             row("ASSET", "1", ASSET_OK));
    assert_int_equal(lint_text(f, text), 0);
    assert_clean(f);
}

/* Column B names the asset in the mapfile and the reports: one line of UTF-8.  Findings
 * quote values as valid UTF-8 (JSON carries nothing else), cut on a character boundary. */
static void test_key_and_quoted_values(void **state)
{
    fixture *f = *state;
    char text[8192], long_type[256];
    memset(long_type, 'x', 199);
    snprintf(long_type + 199, sizeof long_type - 199,
             "\xC3\xA9"); /* bytes 199-200: the 200-byte cut falls inside */
    snprintf(text, sizeof text, "%s%s%s%s", HEADER, row("ASSET", "a\nb", ASSET_OK),
             row("ASSET", "k\xE9", ASSET_OK), "\xE9SSET,k\xE9\n");
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text,
                    "B2 error ecsv.group.key-invalid {a b}: B2: the group key 'a b' has");
    /* Rows are physical lines: the key with a line break spans lines 2 and 3. */
    assert_contains(f->log.text,
                    "B4 error ecsv.group.key-invalid {k?}: B4: the group key 'k?' has");
    assert_contains(f->log.text,
                    "A5 error ecsv.row.type-unknown {k?}: A5: '?SSET' is not a row type");
    assert_not_contains(f->log.text, "\xE9");
    assert_int_equal(f->sum.errors, 3);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "in.csv", &g), 1);
    assert_int_equal(g.errors, 1); /* the group is invalid: it is not imported */
    char spec[300];
    snprintf(spec, sizeof spec, "C=T|E=P___U|F=2020|D=%s", long_type);
    snprintf(text, sizeof text, "%s%s", HEADER, row("ASSET", "1", spec));
    assert_int_equal(lint_text(f, text), 0);
    char want[300];
    snprintf(want, sizeof want, "ASSET_RESTYPE '%.199s...' is not an Esploro asset type",
             long_type);
    assert_contains(f->log.text, want);
}

/* ---- header rules -------------------------------------------------------------------------- */

static void test_header_rules(void **state)
{
    fixture *f = *state;
    assert_int_equal(lint_text(f, "x,GROUP_ID,ASSET_TITLE,ASSET_TITEL, ASSET_RESTYPE\n"), 0);
    assert_contains(f->log.text, "A1 error ecsv.header.a1-not-blank");
    assert_contains(f->log.text, "D1 warning ecsv.header.unknown-column");
    assert_contains(f->log.text, "'ASSET_TITEL' is not an Esploro column");
    assert_contains(f->log.text, "did you mean ASSET_TITLE?");
    assert_contains(f->log.text, "E1 warning ecsv.header.whitespace");
    assert_int_equal(lint_text(f, "x,GROUP_ID,ASSET_TITLE, ASSET_RESTYPE\n"), 0);
    assert_fix_clean(f);
    /* Column B must be the key. */
    assert_int_equal(lint_text(f, ",ID,ASSET_TITLE\nASSET,1,T\n"), BR_EINVAL);
    assert_contains(f->log.text, "B1 error ecsv.header.key-column");
    assert_int_equal(f->sum.errors, 1);
    br_ecsv_reader *r = NULL;
    br_ecsv_options o = {0};
    assert_int_equal(br_ecsv_open(tu_path(f->tmp, "in.csv"), &o, &r, &f->err), BR_EINVAL);
    assert_null(r);
    /* A header without column B */
    assert_int_equal(lint_text(f, "\"\"\nASSET,1,T\n"), BR_EINVAL);
    assert_contains(f->log.text, "B1 error ecsv.header.key-column");
    assert_int_equal(f->sum.errors, 1);
    /* Empty file */
    assert_int_equal(lint_text(f, ""), BR_EINVAL);
    assert_contains(f->log.text, "error ecsv.header.missing");
}

static void test_duplicate_headers_add_values(void **state)
{
    fixture *f = *state;
    assert_int_equal(lint_text(f,
                               ",GROUP_ID,ASSET_TITLE,ASSET_KEYWORDS,ASSET_RESTYPE,ASSET_KEYWORDS,"
                               "ASSET_AFFILIATION,ASSET_PUBLISHDATE\n"
                               "ASSET,1,T,a@@b,publication.book,c,P___U,2020\n"),
                     0);
    assert_clean(f);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "in.csv", &g), 1);
    assert_string_equal(mdv(f->rec, "dc.subject", 0), "a");
    assert_string_equal(mdv(f->rec, "dc.subject", 1), "b");
    assert_string_equal(mdv(f->rec, "dc.subject", 2), "c");
}

/* ---- row and group rules ------------------------------------------------------------------- */

static void test_row_type_mismatch(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s", HEADER, row("ASSET", "1", ASSET_OK "|K=Smith"));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text,
                    "K2 error ecsv.cell.row-type-mismatch {1}: K2: CREATOR_FAMNAME has a "
                    "value on an ASSET row (ASSET row, group 1)");
    assert_int_equal(f->sum.errors, 1);
}

static void test_asset_after_other_rows(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s%s", HEADER, row("CREATOR", "1", "K=Smith"),
             row("ASSET", "1", ASSET_OK));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "A3 error ecsv.group.asset-not-first {1}");
    assert_int_equal(f->sum.errors, 1);
}

static void test_two_asset_rows(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s%s", HEADER, row("ASSET", "1", ASSET_OK),
             row("ASSET", "1", ASSET_OK));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "A3 error ecsv.group.asset-duplicate {1}");
    assert_int_equal(f->sum.errors, 1);
}

static void test_missing_asset_row(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s", HEADER, row("CREATOR", "7", "K=Smith"));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "A2 error ecsv.group.asset-missing {7}");
}

static void test_split_group(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s%s%s%s", HEADER, row("ASSET", "1", ASSET_OK),
             row("ASSET", "2", ASSET_OK), row("CREATOR", "1", "K=Late"),
             row("ASSET", "3", ASSET_OK));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "B4 error ecsv.group.split {1}");
    assert_int_equal(f->sum.groups, 4);
}

static void test_row_type_and_key_rules(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s%s%s%s%s", HEADER, row("ASSET", "1", ASSET_OK),
             row("AUTHOR", "1", "K=Smith"), row("", "1", "K=Smith"), row("CREATOR", "", "K=Smith"),
             row("creator", "1", "K=Jones"));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "A3 error ecsv.row.type-unknown");
    assert_contains(f->log.text, "'AUTHOR' is not a row type");
    assert_contains(f->log.text, "A4 error ecsv.row.type-missing");
    assert_contains(f->log.text, "B5 error ecsv.row.key-missing");
    assert_contains(f->log.text, "A6 warning ecsv.value.enum-case");
    /* Empty typed rows are no-ops (templates emit them). */
    snprintf(text, sizeof text, "%s%s%s%s", HEADER, row("ASSET", "1", ASSET_OK),
             row("CREATOR", "1", NULL), row("LINK", "1", NULL));
    assert_int_equal(lint_text(f, text), 0);
    assert_clean(f);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "in.csv", &g), 1);
    assert_int_equal(f->rec->n_creators, 0);
    assert_int_equal(f->rec->n_links, 0);
}

static void test_mandatory(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s", HEADER, row("ASSET", "1", "G=x"));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "C2 error ecsv.group.mandatory {1}: C2: ASSET_TITLE is missing");
    assert_contains(f->log.text, "D2 error ecsv.group.mandatory {1}: D2: ASSET_RESTYPE is missing");
    assert_contains(f->log.text,
                    "E2 error ecsv.group.mandatory {1}: E2: ASSET_AFFILIATION is missing");
    assert_contains(f->log.text, "A2 error ecsv.group.mandatory {1}: A2: the asset has no date");
    assert_int_equal(f->sum.errors, 4);
}

/* ---- values -------------------------------------------------------------------------------- */

static void test_bad_values(void **state)
{
    fixture *f = *state;
    char text[16384];
    snprintf(text, sizeof text, "%s%s%s%s%s", HEADER,
             row("ASSET", "1",
                 "C=T|D=publication.jurnalArticle|E=01ALLIANCE_UID_n6370|F=20210230|I=english|"
                 "C=T"),
             row("CREATOR", "1", "K=A|M=0000-0002-1825-0098"), row("CREATOR", "1", "K=B|M=1234"),
             row("LINK", "1", "N=www.example.org"));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "D2 error ecsv.value.restype");
    assert_contains(f->log.text, "did you mean publication.journalArticle?");
    assert_contains(f->log.text, "E2 error ecsv.value.affiliation");
    assert_contains(f->log.text,
                    "F2 error ecsv.value.date {1}: F2: ASSET_PUBLISHDATE '20210230' is not "
                    "a valid date");
    assert_contains(f->log.text, "I2 error ecsv.value.lang");
    assert_contains(f->log.text, "M3 error ecsv.value.orcid");
    assert_contains(f->log.text, "wrong check digit");
    assert_contains(f->log.text, "M4 error ecsv.value.orcid");
    assert_contains(f->log.text, "N5 error ecsv.value.url");
    assert_contains(f->log.text, "A2 error ecsv.group.mandatory"); /* no valid date left */
    /* Nothing of this is fixable: the fixed copy keeps the same errors. */
    size_t errors = f->sum.errors;
    assert_int_equal(lint(f, "in.csv", "fixed.csv"), 0);
    assert_int_equal(f->sum.fixes, 0);
    assert_int_equal(lint(f, "fixed.csv", NULL), 0);
    assert_int_equal(f->sum.errors, errors);
}

static void test_multi_not_allowed_and_empty_parts(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s", HEADER,
             row("ASSET", "1", ASSET_OK "|J=a@@b|G=x@@@@y @@ z|H=one@@two"));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "J2 error ecsv.value.multi-not-allowed");
    assert_not_contains(f->log.text, "H2 error"); /* ASSET_ABSTRACT: Esploro writes several */
    assert_contains(f->log.text, "G2 error ecsv.value.empty-part");
    assert_contains(f->log.text, "G2 error ecsv.value.whitespace");
}

static void test_value_kinds(void **state)
{
    fixture *f = *state;
    const char *hdr = ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_CREATEDATE,"
                      "ASSET_ACCESSRIGHTDATE,ASSET_PEEREVIEW,ASSET_PORTAL_VISIBILITY,ASSET_DOI,"
                      "FILE_ORDER,CREATOR_EMAIL,ASSET_DATECOLLECT,FILE_FILEURL\n";
    char text[8192];
    /* Good values, normalised */
    snprintf(
        text, sizeof text,
        "%sASSET,1,T,etd.doctoral,P___U,20230601 - 20230602,10/18/2021,UNKNOWN,TRUE,"
        "10.3390/v13102098,,,202210,\nFILE,1,,,,,,,,,2,,,f.pdf\nCREATOR,1,,,,,,,,,,a@b.org,,\n",
        hdr);
    assert_int_equal(lint_text(f, text), 0);
    assert_clean(f);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "in.csv", &g), 1);
    assert_string_equal(mdv(f->rec, "dc.date.created", 0), "2023-06-01/2023-06-02");
    assert_string_equal(mdv(f->rec, "esploro.asset.accessrightdate", 0), "2021-10-18");
    assert_string_equal(mdv(f->rec, "esploro.asset.portalvisibility", 0), "true");
    assert_string_equal(mdv(f->rec, "esploro.asset.datecollect", 0), "2022-10");
    assert_string_equal(f->rec->bs[0].order, "2");
    assert_string_equal(f->rec->creators[0].email, "a@b.org");
    /* Bad values */
    snprintf(text, sizeof text,
             "%sASSET,1,T,etd.doctoral,P___U,20230602 - 20230601,13/18/2021,maybe,sometimes,"
             "11.1/x,two,,2021 to 2022\nCREATOR,1,,,,,,,,,,a@,\n",
             hdr);
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "F2 error ecsv.value.date-range-order");
    assert_contains(f->log.text, "G2 error ecsv.value.mdy");
    assert_contains(f->log.text, "H2 error ecsv.value.yesno");
    assert_contains(f->log.text, "I2 error ecsv.value.bool");
    assert_contains(f->log.text, "J2 error ecsv.value.doi");
    assert_contains(f->log.text, "M2 error ecsv.value.date-range");
    assert_contains(f->log.text, "L3 error ecsv.value.email");
    assert_contains(f->log.text, "K2 error ecsv.cell.row-type-mismatch"); /* FILE_ORDER on ASSET */
    /* Fixable values */
    snprintf(text, sizeof text,
             "%sASSET,1,T,ETD.DOCTORAL,P___U,2023-06-01/2023-06-02,2021-10-18,yes,no,"
             "https://doi.org/10.3390/v13102098,,,2022/10\n",
             hdr);
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "D2 warning ecsv.value.restype-case");
    assert_contains(f->log.text, "F2 error ecsv.value.date-range-format");
    assert_contains(f->log.text, "G2 error ecsv.value.mdy-format");
    assert_contains(f->log.text, "H2 warning ecsv.value.enum-case");
    assert_contains(f->log.text, "J2 error ecsv.value.doi-format");
    assert_contains(f->log.text, "M2 error ecsv.value.date-format");
    assert_fix_clean(f);
    char *out = tu_read(tu_path(f->tmp, "fixed.csv"));
    assert_contains(out, "ASSET,1,T,etd.doctoral,P___U,20230601 - 20230602,10/18/2021,YES,no,"
                         "10.3390/v13102098,,,202210\n");
    free(out);
}

static void test_trailing_spaces_fixed(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s%s", HEADER,
             row("ASSET", "1 ", "C=A title |D=publication.book|E=P___U|F=2021|G= a@@b |I=ENG"),
             row("CREATOR", "1", "K=Smith\xC2\xA0|L= Ann"));
    write_file(f, "in.csv", text);
    assert_int_equal(lint(f, "in.csv", NULL), 0);
    assert_contains(f->log.text, "B2 error ecsv.value.whitespace");
    assert_contains(f->log.text, "C2 error ecsv.value.whitespace");
    assert_contains(f->log.text, "G2 error ecsv.value.whitespace");
    assert_contains(f->log.text, "I2 warning ecsv.value.enum-case");
    assert_contains(f->log.text, "K3 error ecsv.value.whitespace");
    assert_contains(f->log.text, "L3 error ecsv.value.whitespace");
    assert_fix_clean(f);
    assert_int_equal(lint(f, "in.csv", "fixed.csv"), 0);
    assert_contains(f->log.text, "C2 note ecsv.fix.whitespace {1}: C2: fixed: now 'A title'");
    br_ecsv_group g;
    assert_int_equal(read_first(f, "fixed.csv", &g), 1);
    assert_string_equal(f->rec->key, "1");
    assert_string_equal(mdv(f->rec, "dc.title", 0), "A title");
    assert_string_equal(mdv(f->rec, "dc.language.iso", 0), "eng");
    assert_string_equal(f->rec->creators[0].family, "Smith");
}

/* DSpace's dc.language.iso spellings (ISO 639-1, locales) and ISO 639-2/T codes are not
 * what Esploro takes, but they name one /B code: an error that --fix repairs. */
static void test_language_aliases(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s%s%s", HEADER, row("ASSET", "1", ASSET_OK "|I=en"),
             row("ASSET", "2", ASSET_OK "|I=deu@@pt_BR"), row("ASSET", "3", ASSET_OK "|I=xx"));
    write_file(f, "in.csv", text);
    assert_int_equal(lint(f, "in.csv", "fixed.csv"), 0);
    assert_contains(f->log.text, "I2 error ecsv.value.lang");
    assert_contains(f->log.text, "(it is eng)");
    assert_contains(f->log.text, "I3 error ecsv.value.lang");
    assert_contains(f->log.text, "(it is ger)");
    assert_contains(f->log.text, "(it is por)");
    /* xx names no language: an error --fix cannot repair. */
    assert_contains(f->log.text, "I4 error ecsv.value.lang");
    assert_int_equal(lint(f, "fixed.csv", NULL), 0);
    assert_int_equal(f->sum.errors, 1);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "fixed.csv", &g), 1);
    assert_string_equal(mdv(f->rec, "dc.language.iso", 0), "eng");
    char *fixed = tu_read(tu_path(f->tmp, "fixed.csv"));
    assert_contains(fixed, ",ger@@por,");
    free(fixed);
}

/* The per-row rules of CREATOR, LINK and FILE rows, and a column without a header. */
static void test_structured_row_rules(void **state)
{
    fixture *f = *state;
    /* A..F the asset, G no header, H and I CREATOR_FAMNAME twice, J..N */
    assert_int_equal(
        lint_text(f, ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,,"
                     "CREATOR_FAMNAME,CREATOR_FAMNAME,CREATOR_ORCID,LINK_LINKURL,LINK_LINKTITLE,"
                     "FILE_FILEURL,FILE_ORDER\n"
                     "ASSET,1,T,publication.book,P___U,2020,,,,,,,,\n"
                     "CREATOR,1,,,,,,Smith,Jones,https://orcid.org/0000-0002-1825-0097,,,,\n"
                     "LINK,1,,,,,,,,,,Title only,,\n"
                     "FILE,1,,,,,,,,,,,,two\n"
                     "FILE,1,,,,,,,,,,,file://host/x.pdf,\n"),
        0);
    assert_contains(f->log.text, "G1 warning ecsv.header.blank-column");
    assert_contains(f->log.text, "I3 error ecsv.cell.duplicate-value");
    assert_contains(f->log.text, "J3 error ecsv.value.orcid-format");
    assert_contains(f->log.text, "A4 error ecsv.link.url-missing");
    assert_contains(f->log.text, "N5 error ecsv.value.int");
    assert_contains(f->log.text, "A5 error ecsv.file.url-missing");
    assert_contains(f->log.text, "M6 error ecsv.file.url");
    assert_int_equal(f->sum.errors, 6);
    assert_int_equal(f->sum.warnings, 1);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "in.csv", &g), 1);
    assert_string_equal(f->rec->creators[0].family, "Smith"); /* the first value stays */
    assert_null(f->rec->bs[1].path);
    /* The ORCID is fixable: the bare iD. */
    assert_int_equal(lint(f, "in.csv", "fixed.csv"), 0);
    assert_contains(f->log.text, "J3 note ecsv.fix.orcid-format");
    char *out = tu_read(tu_path(f->tmp, "fixed.csv"));
    assert_contains(out, "\nCREATOR,1,,,,,,Smith,Jones,0000-0002-1825-0097,");
    free(out);
}

/* A row is capped as a whole too: a few cells at max_field, not the width of the header. */
static void test_huge_row_is_capped(void **state)
{
    fixture *f = *state;
    size_t cells = 700, n = 0;
    size_t cap = strlen(HEADER) + cells * 101 + 16;
    char *text = malloc(cap);
    n = (size_t)snprintf(text, cap, "%sASSET,1", HEADER);
    for (size_t i = 0; i < cells; i++) {
        text[n++] = ',';
        memset(text + n, 'x', 99);
        n += 99;
    }
    text[n++] = '\n';
    text[n] = '\0';
    write_file(f, "in.csv", text);
    free(text);
    clear_log(f);
    br_ecsv_options o = {0};
    br_limits_default(&o.limits);
    o.limits.max_field = 100; /* a row may hold 4 * 100 bytes + 64 KB */
    o.diags = &f->sink;
    assert_int_equal(br_ecsv_lint(tu_path(f->tmp, "in.csv"), &o, &f->sum, &f->err), BR_ELIMIT);
    assert_contains(f->log.text, "error ecsv.csv.row-too-large");
    assert_int_equal(f->err.place.line, 2);
}

/* ---- the LINK shift of real exports ------------------------------------------------------- */

static void test_link_shift(void **state)
{
    fixture *f = *state;
    /* The template header; the LINK row's URL sits under CREATOR_FAMNAME (FD), its content
     * type under CREATOR_NAMESUF (FG): 26 columns left of LINK_LINKURL (GD). */
    char *tmpl = tu_read(tu_data("esploro/new-asset-template.csv"));
    assert_non_null(tmpl);
    *strchr(tmpl, '\n') = 0;
    char cells[204][64] = {{0}};
#define CELL(i, v) snprintf(cells[i], sizeof cells[i], "%s", v)
    CELL(0, "ASSET");
    CELL(1, "1");
    CELL(2, "T");                 /* C ASSET_TITLE */
    CELL(12, "2021");             /* M ASSET_PUBLISHDATE */
    CELL(19, "publication.book"); /* T ASSET_RESTYPE */
    CELL(29, "P___U");            /* AD ASSET_AFFILIATION */
    char text[65536];
    size_t n = (size_t)snprintf(text, sizeof text, "%s\n", tmpl);
    for (int rr = 0; rr < 2; rr++) {
        for (int c = 0; c < 204; c++)
            n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", c ? "," : "", cells[c]);
        assert_true(n < sizeof text - 1);
        text[n++] = '\n';
        memset(cells, 0, sizeof cells);
        CELL(0, "LINK");
        CELL(1, "1");
        CELL(159, "https://example.org/x"); /* FD CREATOR_FAMNAME -> LINK_LINKURL */
        CELL(162, "published");             /* FG CREATOR_NAMESUF -> LINK_CONTENTTYPE */
    }
#undef CELL
    text[n] = 0;
    free(tmpl);
    write_file(f, "in.csv", text);
    assert_int_equal(lint(f, "in.csv", NULL), 0);
    assert_contains(f->log.text, "FD3 warning ecsv.row.link-shift");
    assert_contains(f->log.text, "26 columns left");
    assert_int_equal(f->sum.errors, 0);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "in.csv", &g), 1);
    assert_int_equal(f->rec->n_links, 1);
    assert_string_equal(f->rec->links[0].url, "https://example.org/x");
    assert_string_equal(f->rec->links[0].type, "published");
    assert_int_equal(f->rec->n_creators, 0);
    assert_fix_clean(f);
    assert_int_equal(read_first(f, "fixed.csv", &g), 1);
    assert_string_equal(f->rec->links[0].url, "https://example.org/x");
    assert_string_equal(f->rec->links[0].type, "published");
}

/* A blank line is a line: an error on the row after it names that row's real line (it was
 * reported one row too high), and the group's rows are its lines. */
static void test_blank_line_counts(void **state)
{
    fixture *f = *state;
    char text[8192];
    snprintf(text, sizeof text, "%s%s\n\r\n%s", HEADER, row("ASSET", "1", ASSET_OK),
             row("CREATOR", "1", "M=0000-0002-1825-0098"));
    assert_int_equal(lint_text(f, text), 0);
    assert_contains(f->log.text, "M5 error ecsv.value.orcid {1}: M5: CREATOR_ORCID");
    assert_int_equal(f->sum.errors, 1);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "in.csv", &g), 1);
    assert_int_equal(g.first_row, 2);
    assert_int_equal(g.last_row, 5);
    assert_int_equal(f->rec->creators[0].origin.line, 5);
}

/* A NUL byte in a cell is reported at its cell, not cut off silently. */
static void test_nul_in_cell(void **state)
{
    fixture *f = *state;
    char text[8192];
    int n = snprintf(text, sizeof text, "%s%s", HEADER, row("ASSET", "1", ASSET_OK "|G=fish@@X"));
    char *x = strchr(text + strlen(HEADER), 'X');
    *x = 0; /* ASSET_KEYWORDS "fish@@\0" */
    write_file(f, "in.csv", "");
    tu_write_bytes(f->tmp, "in.csv", text, (size_t)n);
    assert_int_equal(lint(f, "in.csv", NULL), 0);
    assert_contains(f->log.text, "G2 error ecsv.encoding.nul {1}: G2: row 2, column 7: a NUL byte "
                                 "at byte 7 of the cell");
    assert_int_equal(f->sum.errors, 1);
    br_ecsv_group g;
    assert_int_equal(read_first(f, "in.csv", &g), 1);
    assert_int_equal(g.errors, 1);
    assert_null(mdv(f->rec, "dc.subject", 0)); /* the cell is not read */
}

/* ---- streaming: seek ----------------------------------------------------------------------- */

static void test_seek(void **state)
{
    fixture *f = *state;
    char text[16384];
    snprintf(text, sizeof text, "%s%s%s\n%s%s%s", HEADER, row("ASSET", "a", ASSET_OK),
             row("CREATOR", "a", "K=X"), row("ASSET", "b", ASSET_OK "|H=two\nlines"),
             row("ASSET", "c", ASSET_OK), row("CREATOR", "c", "K=Y"));
    write_file(f, "in.csv", text);
    br_ecsv_options o = {0};
    o.diags = &f->sink;
    br_ecsv_reader *r = NULL;
    assert_int_equal(br_ecsv_open(tu_path(f->tmp, "in.csv"), &o, &r, &f->err), 0);
    br_ecsv_group g[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(br_ecsv_next(r, f->rec, &g[i], &f->err), 1);
    assert_int_equal(br_ecsv_next(r, f->rec, &(br_ecsv_group){0}, &f->err), 0);
    /* Physical lines: the blank line 4 counts, group b spans lines 5 and 6. */
    assert_int_equal(g[1].first_row, 5);
    assert_int_equal(g[1].last_row, 5);
    assert_int_equal(g[2].first_row, 7);
    assert_string_equal(f->rec->creators[0].family, "Y");
    /* Back to group c, then to group b, then to the start: same groups, same rows, and no
     * "split group" finding for keys seen in the first pass. */
    clear_log(f);
    br_ecsv_group h;
    assert_int_equal(br_ecsv_seek(r, g[2].offset, &f->err), 0);
    assert_int_equal(br_ecsv_next(r, f->rec, &h, &f->err), 1);
    assert_string_equal(h.key, "c");
    assert_int_equal(h.first_row, 7);
    assert_int_equal(br_ecsv_seek(r, g[1].offset, &f->err), 0);
    assert_int_equal(br_ecsv_next(r, f->rec, &h, &f->err), 1);
    assert_string_equal(h.key, "b");
    assert_int_equal(h.first_row, 5);
    assert_int_equal(br_ecsv_seek(r, g[0].offset, &f->err), 0);
    assert_int_equal(br_ecsv_next(r, f->rec, &h, &f->err), 1);
    assert_string_equal(h.key, "a");
    assert_int_equal(h.first_row, 2);
    assert_not_contains(f->log.text, "ecsv.group.split");
    br_ecsv_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
        T(test_xwalk),
        T(test_blank_line_counts),
        T(test_nul_in_cell),
        T(test_seed_example),
        T(test_file_names_and_paths),
        T(test_template_reads_clean),
        T(test_research_asset_id_and_case),
        T(test_update_mode_mandatory_only_present_columns),
        T(test_esploro_export_shape),
        T(test_multi_flags_follow_esploro),
        T(test_orgunit_code_rule),
        T(test_en_dash_range),
        T(test_bom_and_crlf),
        T(test_line_break_in_value),
        T(test_unterminated_quote),
        T(test_bad_quote),
        T(test_huge_cell_is_capped),
        T(test_too_many_columns),
        T(test_latin1),
        T(test_row_longer_than_header),
        T(test_key_and_quoted_values),
        T(test_structured_row_rules),
        T(test_huge_row_is_capped),
        T(test_header_rules),
        T(test_duplicate_headers_add_values),
        T(test_row_type_mismatch),
        T(test_asset_after_other_rows),
        T(test_two_asset_rows),
        T(test_missing_asset_row),
        T(test_split_group),
        T(test_row_type_and_key_rules),
        T(test_mandatory),
        T(test_bad_values),
        T(test_multi_not_allowed_and_empty_parts),
        T(test_value_kinds),
        T(test_trailing_spaces_fixed),
        T(test_language_aliases),
        T(test_link_shift),
        T(test_seek),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
