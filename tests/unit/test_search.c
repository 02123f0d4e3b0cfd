/* Search (search.h, docs/search.md): the query language and the index through the public
 * API (each field, phrases, booleans, dates, has:, prefixes, diacritics, pages, rank, the
 * index kept current by every write, templates never found, every malformed-query rule with
 * its position, the caps), the CLI (`bulkrepo search` after imports, update imports,
 * approvals, replaces and deletes; job:ID) and the REST API (GET /api/items?q=, the record
 * view's jobs, file downloads and who may read what). */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include "cli_fixture.h"
#include "pg.h"
#include "repo_fixture.h"
#include "serve_fixture.h"
#include "bulkrepo/bulkrepo.h"

/* ---- the library: a small repository ------------------------------------------------------- */

/* Items A..D (and a template) in collections Articles (4321/1) and Theses:
 *   A  "Climate change and river ecology", Müller Hans (ORCID, affiliation 01UNI___geo),
 *      2019-05-01, Article, DOI 10.1234/ABC.def, a link, a file; archived
 *   B  "Sediment transport in braided rivers", dc.contributor.author Smith, Jane, 2021,
 *      Thesis, ISBN 978-3-16-148410-0; in Theses; a draft
 *   C  "Urban climate models", esploro.asset.affiliation 01UNI___phys, 2015-01, origid X-1;
 *      in Articles and mapped to Theses; withdrawn
 *   D  "Río Negro water quality", date n.d., only a license file; archived */
typedef struct sfx {
    tu_repo *r;
    char theses[64];
    char handle[4][64];
    int64_t id[4];
} sfx;

static const char *md_or(br_record *r, const char *s, const char *e, const char *q, const char *v)
{
    br_mdv *m = br_record_add_md(r, s, e, q, NULL, v);
    assert_non_null(m);
    return m->value;
}

static void put_file(sfx *f, br_record *r, const char *name, const char *bundle,
                     const char *content)
{
    br_error err;
    tu_write(f->r->dir, name, content);
    br_bitstream *b = br_record_add_bitstream(r, name);
    assert_non_null(b);
    if (bundle) b->bundle = br_record_str(r, bundle);
    assert_br_ok(br_asset_put_file(f->r->repo, tu_path(f->r->dir, name), 0, r, b, &err), &err);
}

static void insert(sfx *f, int k, br_record *r, const char *status)
{
    br_error err;
    br_item_write w = {status, 0, NULL};
    assert_br_ok(br_item_insert(f->r->repo, r, &w, &err), &err);
    snprintf(f->handle[k], sizeof f->handle[k], "%s", r->handle);
    f->id[k] = r->id;
}

static int sfx_setup(void **state)
{
    sfx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->r = tu_repo_new("4321", "Articles");
    br_error err;
    br_container t;
    assert_br_ok(br_container_create(f->r->repo, 0, "Theses", NULL, &t, &err), &err);
    snprintf(f->theses, sizeof f->theses, "%s", t.handle);
    br_repo *repo = f->r->repo;
    br_record *r = br_record_new();
    assert_br_ok(br_repo_begin(repo, &err), &err);

    md_or(r, "dc", "title", NULL, "Climate change and river ecology");
    md_or(r, "dc", "description", "abstract", "We measure sediment in the river.");
    md_or(r, "dc", "subject", NULL, "hydrology");
    md_or(r, "dc", "date", "issued", "2019-05-01");
    md_or(r, "dc", "type", NULL, "Article");
    md_or(r, "dc", "identifier", "doi", "10.1234/ABC.def");
    br_creator *c = br_record_add_creator(r, BR_CREATOR);
    c->family = br_record_str(r, "Müller");
    c->given = br_record_str(r, "Hans");
    c->orcid = br_record_str(r, "0000-0002-1825-0097");
    c->affiliation = br_record_str(r, "01UNI___geo");
    br_link *l = br_record_add_link(r);
    l->url = br_record_str(r, "https://example.org/a");
    put_file(f, r, "data.csv", NULL, "a,b\n1,2\n");
    br_record_add_collection(r, f->r->coll);
    insert(f, 0, r, "archived");

    br_record_reset(r);
    md_or(r, "dc", "title", NULL, "Sediment transport in braided rivers");
    md_or(r, "dc", "contributor", "author", "Smith, Jane");
    md_or(r, "dc", "date", "issued", "2021");
    md_or(r, "dc", "type", NULL, "Thesis");
    md_or(r, "dc", "identifier", "isbn", "978-3-16-148410-0");
    br_record_add_collection(r, f->theses);
    insert(f, 1, r, "draft");

    br_record_reset(r);
    md_or(r, "dc", "title", NULL, "Urban climate models");
    md_or(r, "esploro", "asset", "affiliation", "01UNI___phys");
    md_or(r, "dc", "date", "issued", "2015-01");
    br_record_add_identifier(r, "origid", "X-1");
    br_record_add_collection(r, f->r->coll);
    br_record_add_collection(r, f->theses);
    insert(f, 2, r, "withdrawn");

    br_record_reset(r);
    md_or(r, "dc", "title", NULL, "Río Negro water quality");
    md_or(r, "dc", "date", "issued", "n.d.");
    put_file(f, r, "license.txt", "LICENSE", "the license\n");
    br_record_add_collection(r, f->r->coll);
    insert(f, 3, r, "archived");
    assert_br_ok(br_repo_commit(repo, &err), &err);

    /* A template, which no query finds. */
    br_record_reset(r);
    md_or(r, "dc", "title", NULL, "Climate template");
    assert_br_ok(br_collection_set_template(repo, f->r->coll, r, &err), &err);
    br_record_free(r);
    *state = f;
    return 0;
}

static int sfx_teardown(void **state)
{
    sfx *f = *state;
    tu_repo_free(f->r);
    free(f);
    return 0;
}

typedef struct found {
    const sfx *f;
    char text[512];
} found;

static int collect(void *ctx, const br_item_summary *s)
{
    found *h = ctx;
    const char *name = "?";
    static const char *const NAMES[] = {"A", "B", "C", "D"};
    for (int k = 0; k < 4; k++)
        if (s->handle && !strcmp(s->handle, h->f->handle[k])) name = NAMES[k];
    size_t n = strlen(h->text);
    snprintf(h->text + n, sizeof h->text - n, "%s%s", n ? " " : "", name);
    return 0;
}

/* The items q finds, by their letters ("A C"), with the order, limit and offset given. */
static const char *search_page(sfx *f, const char *q, br_search_order order, int64_t limit,
                               int64_t offset, int64_t *total)
{
    static found h;
    memset(&h, 0, sizeof h);
    h.f = f;
    br_search_query sq = {q, limit, offset, order};
    br_error err;
    int rc = br_search(f->r->repo, &sq, collect, &h, total, &err);
    if (rc) fail_msg("search %s: %s", q, tu_errtext(&err));
    return h.text;
}

static const char *hits(sfx *f, const char *q)
{
    int64_t total = -1;
    const char *t = search_page(f, q, BR_SEARCH_BY_HANDLE, 0, 0, &total);
    /* The total counts what was listed. */
    long long n = *t ? 1 : 0;
    for (const char *p = t; *p; p++)
        n += *p == ' ';
    assert_int_equal(total, n);
    return t;
}

#define EXPECT_HITS(f, q, want)                                                                    \
    do {                                                                                           \
        const char *got_ = hits((f), (q));                                                         \
        if (strcmp(got_, (want)))                                                                  \
            fail_msg("query %s found \"%s\", expected \"%s\"", (q), got_, (want));                 \
    } while (0)

static void test_fields(void **state)
{
    sfx *f = *state;
    EXPECT_HITS(f, "climate", "A C"); /* C is withdrawn: found; the template is not */
    EXPECT_HITS(f, "template", "");
    EXPECT_HITS(f, "hydrology", "A");  /* body */
    EXPECT_HITS(f, "2019", "A");       /* the issue date is in body too */
    EXPECT_HITS(f, "sediment", "A B"); /* A's abstract, B's title */
    EXPECT_HITS(f, "title:sediment", "B");
    EXPECT_HITS(f, "Title:Sediment", "B"); /* field names and words without case */
    EXPECT_HITS(f, "creator:muller", "A");
    EXPECT_HITS(f, "creator:Müller", "A");
    EXPECT_HITS(f, "creator:hans", "A");
    EXPECT_HITS(f, "creator:smith", "B"); /* dc.contributor.author */
    EXPECT_HITS(f, "creator:\"muller hans\"", "A");
    EXPECT_HITS(f, "creator:climate", "");
    EXPECT_HITS(f, "orcid:0000-0002-1825-0097", "A");
    EXPECT_HITS(f, "orcid:https://orcid.org/0000-0002-1825-0097", "A");
    EXPECT_HITS(f, "orcid:0000-0002-1825-0098", "");
    EXPECT_HITS(f, "affiliation:01UNI___geo", "A");  /* a creator's */
    EXPECT_HITS(f, "affiliation:01UNI___phys", "C"); /* esploro.asset.affiliation */
    EXPECT_HITS(f, "type:thesis", "B");
    EXPECT_HITS(f, "type:article", "A");
    EXPECT_HITS(f, "collection:Theses", "B C"); /* owned and mapped */
    char q[128];
    snprintf(q, sizeof q, "collection:%s", f->theses);
    EXPECT_HITS(f, q, "B C");
    EXPECT_HITS(f, "status:draft", "B");
    EXPECT_HITS(f, "status:withdrawn", "C");
    EXPECT_HITS(f, "status:archived", "A D");
    EXPECT_HITS(f, "status:ARCHIVED", "A D");
    EXPECT_HITS(f, "identifier:X-1", "C");
    EXPECT_HITS(f, "identifier:x-1", "C");
    EXPECT_HITS(f, "doi:10.1234/abc.def", "A");
    EXPECT_HITS(f, "doi:https://doi.org/10.1234/ABC.DEF", "A");
    EXPECT_HITS(f, "doi:\"10.1234/abc.def\"", "A");
    EXPECT_HITS(f, "doi:10.1234/abc", "A"); /* a phrase: the DOI's first parts */
    EXPECT_HITS(f, "doi:10.1234/abd", "");
    EXPECT_HITS(f, "isbn:9783161484100", "B");
    EXPECT_HITS(f, "isbn:978-3-16-148410-0", "B");
    EXPECT_HITS(f, "doi:9783161484100", ""); /* an ISBN is no DOI */
    EXPECT_HITS(f, "isbn:10.1234/abc.def", "");
    EXPECT_HITS(f, "identifier:9783161484100", "B");
    EXPECT_HITS(f, "date:2019", "A");
    EXPECT_HITS(f, "date:2015..2019", "A C");
    EXPECT_HITS(f, "date:2020..2030", "B");
    EXPECT_HITS(f, "date:2016..2018", "");
    EXPECT_HITS(f, "has:doi", "A");
    EXPECT_HITS(f, "has:link", "A");
    EXPECT_HITS(f, "has:file", "A"); /* D has only a license */
    EXPECT_HITS(f, "has:FILE", "A");
}

static void test_phrases_booleans_prefixes(void **state)
{
    sfx *f = *state;
    EXPECT_HITS(f, "\"climate change\"", "A");
    EXPECT_HITS(f, "\"change climate\"", "");
    EXPECT_HITS(f, "title:\"braided rivers\"", "B");
    EXPECT_HITS(f, "climate river", "A"); /* juxtaposition is AND */
    EXPECT_HITS(f, "climate AND river", "A");
    EXPECT_HITS(f, "climate OR sediment", "A B C");
    EXPECT_HITS(f, "climate AND NOT urban", "A");
    EXPECT_HITS(f, "climate NOT urban", "A");
    EXPECT_HITS(f, "NOT climate", "B D");
    EXPECT_HITS(f, "NOT NOT climate", "A C");
    EXPECT_HITS(f, "(climate OR sediment) status:draft", "B");
    EXPECT_HITS(f, "climate OR sediment status:draft", "A B C"); /* AND binds tighter */
    EXPECT_HITS(f, "(climate OR sediment) AND (date:2019 OR date:2021)", "A B");
    EXPECT_HITS(f, "climate AND (has:file OR status:withdrawn)", "A C");
    EXPECT_HITS(f, "NOT status:withdrawn", "A B D"); /* withdrawn unless status: says */
    EXPECT_HITS(f, "climate and", "A"); /* lower-case "and" is a word: A's title has it */
    EXPECT_HITS(f, "climate or sediment", "");
    EXPECT_HITS(f, "sedim*", "A B");
    EXPECT_HITS(f, "title:sedim*", "B");
    EXPECT_HITS(f, "clim* NOT title:urb*", "A");
    /* Diacritics and case fold both ways. */
    EXPECT_HITS(f, "rio", "D");
    EXPECT_HITS(f, "RIO negro", "D");
    EXPECT_HITS(f, "río", "D");
    EXPECT_HITS(f, "muller", "A");
    /* Text that looks like FTS5 syntax is only words. */
    EXPECT_HITS(f, "\"climate\" \"OR\" \"sediment\"", "");
    EXPECT_HITS(f, "\"NEAR(climate river)\"", "");
    EXPECT_HITS(f, "\"climate*\"", "A C");
    EXPECT_HITS(f, "\"title:sediment\"", ""); /* the words "title sediment" */
    EXPECT_HITS(f, "\"a\"\"b\"", "");
}

static void test_pages_total_and_rank(void **state)
{
    sfx *f = *state;
    int64_t total = -1;
    const char *q = "climate OR sediment OR rio";
    assert_string_equal(search_page(f, q, BR_SEARCH_BY_HANDLE, 0, 0, &total), "A B C D");
    assert_int_equal(total, 4);
    assert_string_equal(search_page(f, q, BR_SEARCH_BY_HANDLE, 2, 1, &total), "B C");
    assert_int_equal(total, 4);
    assert_string_equal(search_page(f, q, BR_SEARCH_BY_HANDLE, 0, 3, &total), "D");
    assert_string_equal(search_page(f, q, BR_SEARCH_BY_HANDLE, 2, 10, &total), "");
    assert_int_equal(total, 4);
    assert_string_equal(search_page(f, q, BR_SEARCH_BY_HANDLE, 1, 0, NULL), "A");
    /* A stop from the callback is not an error. */
    /* By rank: a word in the title counts more than one in the abstract. */
    assert_string_equal(search_page(f, "sediment", BR_SEARCH_BY_HANDLE, 0, 0, NULL), "A B");
    assert_string_equal(search_page(f, "sediment", BR_SEARCH_BY_RANK, 0, 0, NULL), "B A");
    assert_string_equal(search_page(f, "sediment", BR_SEARCH_BY_RANK, 1, 1, &total), "A");
    assert_int_equal(total, 2);
    /* Items no text term finds (status:) come last, in handle order. */
    assert_string_equal(
        search_page(f, "sediment OR status:withdrawn", BR_SEARCH_BY_RANK, 0, 0, &total), "B A C");
    /* Nothing to rank by: handle order. */
    assert_string_equal(search_page(f, "status:archived", BR_SEARCH_BY_RANK, 0, 0, NULL), "A D");
    assert_string_equal(search_page(f, "NOT sediment", BR_SEARCH_BY_RANK, 0, 0, NULL), "C D");
    br_error err;
    br_search_query bad = {"climate", -1, 0, BR_SEARCH_BY_HANDLE};
    found h = {.f = f};
    assert_int_equal(br_search(f->r->repo, &bad, collect, &h, NULL, &err), BR_EUSAGE);
    assert_int_equal(br_search(f->r->repo, NULL, collect, &h, NULL, NULL), BR_EUSAGE);
}

#define INDEX_ROWS                                                                                 \
    "SELECT rowid, title, creator, orcid, affiliation, ident, type, coll, status, flags, year, "   \
    "body FROM item_fts ORDER BY rowid"

/* Every row of the index, in rowid order (the repository's own database, read beside it, on
 * whichever store it is). */
static char *dump_index(const char *repo_dir)
{
    tu_log log;
    tu_log_init(&log);
    char url[1024];
    if (tu_db_address(repo_dir, url, sizeof url)) {
        PGconn *c = PQconnectdb(url);
        if (PQstatus(c) != CONNECTION_OK) fail_msg("%s: %s", url, PQerrorMessage(c));
        PGresult *r = PQexec(c, INDEX_ROWS);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) fail_msg("%s", PQresultErrorMessage(r));
        for (int row = 0; row < PQntuples(r); row++) {
            for (int i = 0; i < 12; i++)
                tu_log_printf(&log, "%s%s", i ? "|" : "",
                              PQgetisnull(r, row, i) ? "NULL" : PQgetvalue(r, row, i));
            tu_log_printf(&log, "\n");
        }
        PQclear(r);
        PQfinish(c);
        return log.text;
    }
    sqlite3 *db = NULL;
    assert_int_equal(
        sqlite3_open_v2(tu_path(repo_dir, "bulkrepo.db"), &db, SQLITE_OPEN_READONLY, NULL),
        SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, INDEX_ROWS, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int i = 0; i < 12; i++) {
            const char *v = (const char *)sqlite3_column_text(st, i);
            tu_log_printf(&log, "%s%s", i ? "|" : "", v ? v : "NULL");
        }
        tu_log_printf(&log, "\n");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return log.text;
}

static void test_index_follows_every_write(void **state)
{
    sfx *f = *state;
    br_repo *repo = f->r->repo;
    br_error err;
    /* An update: the old title is gone from the index, the new one is there. */
    br_record *r = br_record_new();
    assert_br_ok(br_item_load(repo, f->id[0], r, &err), &err);
    for (size_t i = 0; i < r->n_md; i++)
        if (!strcmp(r->md[i].element, "title")) r->md[i].value = br_record_str(r, "Glacier melt");
    assert_br_ok(br_repo_begin(repo, &err), &err);
    assert_br_ok(br_item_update(repo, r, NULL, &err), &err);
    assert_br_ok(br_repo_commit(repo, &err), &err);
    EXPECT_HITS(f, "glacier", "A");
    EXPECT_HITS(f, "title:climate", "C");
    EXPECT_HITS(f, "creator:muller has:file", "A"); /* the rest of the record stays */
    /* A status change (outside a transaction: written at once). */
    assert_br_ok(br_item_set_status(repo, f->id[1], "archived", &err), &err);
    EXPECT_HITS(f, "status:draft", "");
    EXPECT_HITS(f, "status:archived", "A B D");
    /* A delete. */
    assert_br_ok(br_repo_begin(repo, &err), &err);
    assert_br_ok(br_item_delete(repo, f->id[2], &err), &err);
    assert_br_ok(br_repo_commit(repo, &err), &err);
    EXPECT_HITS(f, "urban", "");
    EXPECT_HITS(f, "collection:Theses", "B");
    /* Inside a transaction a search finds its writes; a rollback takes them back. */
    assert_br_ok(br_repo_begin(repo, &err), &err);
    br_record_reset(r);
    md_or(r, "dc", "title", NULL, "Volcano survey");
    br_record_add_collection(r, f->r->coll);
    assert_br_ok(br_item_insert(repo, r, NULL, &err), &err);
    EXPECT_HITS(f, "volcano", "?");
    br_repo_rollback(repo);
    EXPECT_HITS(f, "volcano", "");
    /* Many items in one transaction (more than are kept for the commit). */
    assert_br_ok(br_repo_begin(repo, &err), &err);
    for (int i = 0; i < 9000; i++) {
        br_record_reset(r);
        char t[64];
        snprintf(t, sizeof t, "Bulk record %d", i);
        md_or(r, "dc", "title", NULL, t);
        br_record_add_collection(r, f->r->coll);
        assert_br_ok(br_item_insert(repo, r, NULL, &err), &err);
    }
    assert_br_ok(br_repo_commit(repo, &err), &err);
    int64_t total = 0;
    search_page(f, "title:bulk", BR_SEARCH_BY_HANDLE, 1, 0, &total);
    assert_int_equal(total, 9000);
    search_page(f, "title:\"bulk record 8999\"", BR_SEARCH_BY_HANDLE, 0, 0, &total);
    assert_int_equal(total, 1);
    br_record_free(r);

    /* What the writes left equals the index rebuilt from the tables. */
    char *before = dump_index(f->r->repo_dir);
    assert_br_ok(br_search_reindex(repo, 0, &err), &err);
    char *after = dump_index(f->r->repo_dir);
    assert_string_equal(before, after);
    assert_br_ok(br_search_reindex(repo, f->id[0], &err), &err);
    free(after);
    after = dump_index(f->r->repo_dir);
    assert_string_equal(before, after);
    assert_contains(before, "Glacier melt");
    assert_not_contains(before, "Climate template");
    free(before);
    free(after);
    assert_int_equal(br_search_reindex(repo, 999999, &err), BR_ENOTFOUND);
    assert_int_equal(br_search_reindex(repo, -1, &err), BR_ENOTFOUND);
}

static void test_templates_never_match(void **state)
{
    sfx *f = *state;
    br_error err;
    br_record *t = br_record_new();
    md_or(t, "dc", "title", NULL, "Another template");
    md_or(t, "dc", "publisher", NULL, "Example University");
    assert_br_ok(br_collection_set_template(f->r->repo, f->theses, t, &err), &err);
    br_record_free(t);
    EXPECT_HITS(f, "template", "");
    EXPECT_HITS(f, "publisher OR university OR example", "");
    EXPECT_HITS(f, "NOT climate", "B D"); /* templates are not in the complement either */
    /* Rebuilt, the index still has no template. */
    assert_br_ok(br_search_reindex(f->r->repo, 0, &err), &err);
    EXPECT_HITS(f, "template", "");
    EXPECT_HITS(f, "NOT climate", "B D");
}

/* ---- malformed queries ------------------------------------------------------------------- */

typedef struct bad {
    const char *q;
    unsigned column;
    const char *says;
} bad;

static void expect_bad(const char *q, unsigned column, const char *says)
{
    br_error err;
    memset(&err, 0, sizeof err);
    int rc = br_search_check(q, &err);
    if (rc != BR_EUSAGE) fail_msg("query [%s]: %d, expected BR_EUSAGE", q, rc);
    if (err.place.column != column)
        fail_msg("query [%s]: column %u, expected %u (%s)", q, err.place.column, column,
                 err.message);
    assert_int_equal(err.place.line, 1);
    assert_contains(err.message, says);
    char at[32];
    snprintf(at, sizeof at, "at %u", column);
    if (strcmp(says, "the query is empty")) assert_contains(err.message, at);
}

static void test_malformed_queries(void **state)
{
    (void)state;
    static const bad CASES[] = {
        {"climate \"change", 9, "unclosed quote"},
        {"title:\"climate", 7, "unclosed quote"},
        {"titel:x", 1, "unknown field 'titel' at 1 (did you mean title:?)"},
        {"a titel:x", 3, "did you mean title:"},
        {"author:x", 1, "did you mean creator:"},
        {"frobnicate:x", 1, "fields: title, creator"},
        {"http://example.org", 1, "put text with a ':' in quotes"},
        {"title:", 1, "title: has no value"},
        {"a title: b", 3, "title: has no value"},
        {"climate AND", 9, "AND needs a term after it"},
        {"climate AND )", 9, "AND needs a term after it"},
        {"x AND OR y", 3, "AND needs a term after it"},
        {"OR climate", 1, "OR needs a term before it"},
        {"AND climate", 1, "AND needs a term before it"},
        {"climate OR", 9, "OR needs a term after it"},
        {"a OR OR b", 3, "OR needs a term after it"},
        {"climate NOT", 9, "NOT needs a term after it"},
        {"NOT", 1, "NOT needs a term after it"},
        {"(climate", 1, "'(' is never closed"},
        {"((a) OR (b)", 1, "'(' is never closed"},
        {"(", 1, "'(' is never closed"},
        {"climate)", 8, "')' has no '(' to close"},
        {")", 1, "')' has no '(' to close"},
        {"(a))", 4, "')' has no '(' to close"},
        {"()", 1, "'(' has nothing inside"},
        {"a ( ) b", 3, "'(' has nothing inside"},
        {"date:2021..2019", 1, "the range ends before it starts"},
        {"date:19", 1, "is not a year"},
        {"date:2019-05", 1, "is not a year"},
        {"date:2019..", 1, "is not a year"},
        {"date:..2019", 1, "is not a year"},
        {"date:abcd..2019", 1, "is not a year"},
        {"x date:1500..2000", 3, "spans 501 years"},
        {"job:abc", 1, "is not a job id"},
        {"job:0", 1, "is not a job id"},
        {"job:-3", 1, "is not a job id"},
        {"job:007", 1, "is not a job id"},
        {"job:12*", 1, "is not a job id"},
        {"job:99999999999999999999", 1, "is not a job id"},
        {"has:pdf", 1, "has:pdf is not something an item has"},
        {"status:archive", 1, "did you mean archived?"},
        {"status:template", 1, "is not a status"},
        {"", 1, "the query is empty"},
        {"   ", 1, "the query is empty"},
        {"title:\"!!\"", 1, "has no letter or digit"},
        {"a ---", 3, "has no letter or digit"},
        {"\"\"", 1, "has no letter or digit"},
        {"é (x", 3, "'(' is never closed"}, /* columns count characters, not bytes */
        {"ab\xff", 3, "not UTF-8"},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        expect_bad(CASES[i].q, CASES[i].column, CASES[i].says);
    /* br_search says the same, without touching a repository. */
    br_error err;
    assert_int_equal(br_search_check(NULL, &err), BR_EUSAGE);
    assert_int_equal(br_search_check("title:", NULL), BR_EUSAGE);
}

static void test_caps(void **state)
{
    (void)state;
    static const char *const GOOD[] = {
        "date:1501..2000", "job:12",          "\"a (b\"", "title:\"(x\"",   "10.1234:x",
        "NOT (a OR b)",    "date:2019..2019", "has:link", "\"AND\" \"OR\"", "status:WITHDRAWN"};
    br_error err;
    for (size_t i = 0; i < sizeof GOOD / sizeof GOOD[0]; i++)
        assert_br_ok(br_search_check(GOOD[i], &err), &err);
    /* Length: 4096 bytes pass, 4097 do not. */
    char *q = malloc(5000);
    assert_non_null(q);
    memset(q, 'a', 4096);
    q[4096] = 0;
    assert_br_ok(br_search_check(q, &err), &err);
    q[4096] = 'a';
    q[4097] = 0;
    expect_bad(q, 4097, "longer than 4096 bytes");
    /* Terms: 64 pass, the 65th is named. */
    size_t n = 0;
    for (int i = 1; i <= 64; i++)
        n += (size_t)snprintf(q + n, 5000 - n, "%st%d", i > 1 ? " " : "", i);
    assert_br_ok(br_search_check(q, &err), &err);
    unsigned col = (unsigned)n + 2;
    snprintf(q + n, 5000 - n, " t65");
    expect_bad(q, col, "more than 64 terms");
    /* The same with operators and fields between them. */
    n = 0;
    for (int i = 1; i <= 65; i++)
        n += (size_t)snprintf(q + n, 5000 - n, "%stitle:t%d", i > 1 ? " OR " : "", i);
    assert_int_equal(br_search_check(q, &err), BR_EUSAGE);
    assert_contains(err.message, "more than 64 terms");
    /* Depth: 32 parentheses pass, 33 do not; NOT counts as a level. */
    n = 0;
    for (int i = 0; i < 32; i++)
        q[n++] = '(';
    q[n++] = 'x';
    for (int i = 0; i < 32; i++)
        q[n++] = ')';
    q[n] = 0;
    assert_br_ok(br_search_check(q, &err), &err);
    memmove(q + 1, q, n + 1);
    q[0] = '(';
    n = strlen(q);
    q[n] = ')';
    q[n + 1] = 0;
    expect_bad(q, 33, "nests more than 32 levels");
    n = 0;
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(q + n, 5000 - n, "NOT ");
    snprintf(q + n, 5000 - n, "x");
    expect_bad(q, 129, "nests more than 32 levels");
    /* A range of years: 500 pass, 501 do not (above). */
    free(q);
}

/* ---- the upgrade: a version-1 repository is indexed as a new one would be ------------------ */

static void test_upgraded_index_equals_rebuilt(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char repo_dir[4200];
    snprintf(repo_dir, sizeof repo_dir, "%s/r", dir);
    assert_int_equal(tu_run(NULL, NULL, "cp -R '%s' '%s' && mkdir -p '%s/assetstore/tmp' '%s/tmp'",
                            tu_data("repos/v1"), repo_dir, repo_dir, repo_dir),
                     0);
    br_error err;
    br_repo *repo = NULL;
    br_open_options opts = {.upgrade = 1};
    assert_br_ok(br_repo_open_ext(repo_dir, &opts, &repo, &err), &err);
    char *migrated = dump_index(repo_dir);
    int rows = 0;
    for (const char *p = migrated; *p; p++)
        rows += *p == '\n';
    assert_int_equal(rows, 5);
    assert_contains(migrated, "Soil carbon under restored riparian buffers");
    assert_br_ok(br_search_reindex(repo, 0, &err), &err);
    char *rebuilt = dump_index(repo_dir);
    if (strcmp(migrated, rebuilt)) {
        print_error("migration 005:\n%s\nrebuilt:\n%s\n", migrated, rebuilt);
        fail_msg("the upgraded repository's index differs from the index rebuilt from its tables");
    }
    br_search_query q = {"creator:hakan date:2024", 0, 0, BR_SEARCH_BY_HANDLE};
    int64_t total = 0;
    found h = {0};
    sfx none = {0};
    h.f = &none;
    assert_br_ok(br_search(repo, &q, collect, &h, &total, &err), &err);
    assert_int_equal(total, 1);
    free(migrated);
    free(rebuilt);
    br_repo_free(repo);
    tu_rmtree(dir);
    free(dir);
}

/* ---- the command line ------------------------------------------------------------------------ */

#define UNIT "01ALLIANCE_UID___n6370"

/* `search QUERY --json` (exit 0): the total, and the handles in *handles (space-separated). */
static long long cli_search(fx *f, const char *q, char *handles, size_t size)
{
    json_t *j = fx_json(f, "search '%s' --json", q);
    long long total = (long long)json_integer_value(json_object_get(j, "total"));
    json_t *items = json_object_get(j, "items"), *it;
    size_t i, n = 0;
    if (handles) handles[0] = 0;
    json_array_foreach(items, i, it)
    {
        if (handles)
            n += (size_t)snprintf(handles + n, size > n ? size - n : 0, "%s%s", i ? " " : "",
                                  fx_str(it, "handle"));
        assert_non_null(fx_str(it, "uuid"));
        assert_non_null(fx_str(it, "status"));
        assert_non_null(fx_str(it, "modified"));
    }
    json_decref(j);
    return total;
}

static long long cli_total(fx *f, const char *q)
{
    return cli_search(f, q, NULL, 0);
}

static void test_cli_search_follows_imports(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Glacier survey one");
    fx_write(f, "p/a/contents", "paper.txt\n");
    fx_write(f, "p/a/paper.txt", "the paper\n");
    fx_dc(f, "p/b", "Glacier survey two");
    fx_dc(f, "p/c", "Coral reef study");
    RUN(f, 0, "import -a -s p -c %s -m a.map", f->coll); /* job 1 */
    char ha[128], hb[128], hc[128], got[1024], want[512];
    snprintf(ha, sizeof ha, "%s", fx_map_handle(f, "a.map", "a"));
    snprintf(hb, sizeof hb, "%s", fx_map_handle(f, "a.map", "b"));
    snprintf(hc, sizeof hc, "%s", fx_map_handle(f, "a.map", "c"));
    assert_int_equal(cli_search(f, "job:1", got, sizeof got), 3);
    snprintf(want, sizeof want, "%s %s %s", ha, hb, hc);
    assert_string_equal(got, want);
    assert_int_equal(cli_search(f, "glacier", got, sizeof got), 2);
    assert_int_equal(cli_search(f, "has:file", got, sizeof got), 1);
    assert_string_equal(got, ha);
    assert_int_equal(cli_total(f, "job:2"), 0);

    /* An update import (the package names a's handle: SAF's default profile updates). */
    fx_dc(f, "u/a", "Ice sheet survey one");
    fx_write(f, "u/a/handle", ha);
    RUN(f, 0, "import -a -s u -c %s -m u.map", f->coll); /* job 2 */
    assert_contains(f->err, "1 updated");
    assert_int_equal(cli_search(f, "\"ice sheet\"", got, sizeof got), 1);
    assert_string_equal(got, ha);
    assert_int_equal(cli_search(f, "glacier", got, sizeof got), 1);
    assert_string_equal(got, hb);
    assert_int_equal(cli_search(f, "job:2", got, sizeof got), 1);
    assert_string_equal(got, ha);
    assert_int_equal(cli_total(f, "job:1"), 3); /* the first job's records are still there */
    assert_int_equal(cli_total(f, "job:1 NOT job:2"), 2);

    /* A replace (-r): new items under the same handles; the index follows, and job:1 still
     * names them (the journal is matched by handle). */
    fx_dc(f, "p/c", "Kelp forest study");
    RUN(f, 0, "import -r -s p -c %s -m a.map", f->coll); /* job 3 */
    assert_int_equal(cli_total(f, "coral"), 0);
    assert_int_equal(cli_search(f, "kelp", got, sizeof got), 1);
    assert_string_equal(got, hc);
    assert_int_equal(cli_total(f, "job:1"), 3);
    assert_int_equal(cli_total(f, "job:3"), 3);

    /* A delete: gone from the index. */
    RUN(f, 0, "import -d -m a.map"); /* job 4 */
    assert_int_equal(cli_total(f, "kelp OR glacier OR \"ice sheet\""), 0);
    assert_int_equal(cli_total(f, "job:1"), 0);
    assert_int_equal(cli_total(f, "job:4"), 0);

    /* An Esploro draft, approved: status: follows. */
    RUN(f, 0, "orgunit add %s Library", UNIT);
    fx_write(f, "e.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE\n"
             "ASSET,g1,Müller's salmon ladders,dataset.dataset," UNIT ",20200317\n");
    RUN(f, 0, "import --format esploro-csv -s e.csv -m e.map"); /* job 5 */
    char he[128];
    snprintf(he, sizeof he, "%s", fx_map_handle(f, "e.map", "g1"));
    assert_int_equal(cli_search(f, "status:draft", got, sizeof got), 1);
    assert_string_equal(got, he);
    assert_int_equal(cli_total(f, "muller salmon date:2020 affiliation:" UNIT), 1);
    RUN(f, 0, "item approve --job 5");
    assert_int_equal(cli_total(f, "status:draft"), 0);
    assert_int_equal(cli_search(f, "status:archived salmon", got, sizeof got), 1);
    assert_string_equal(got, he);
    assert_int_equal(cli_total(f, "job:5"), 1);
}

static void test_cli_output_and_errors(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "Alpha glacier");
    fx_dc(f, "p/b", "Beta glacier");
    fx_dc(f, "p/c", "Gamma glacier");
    RUN(f, 0, "import -a -s p -c %s -m a.map", f->coll);
    const char *ha = fx_map_handle(f, "a.map", "a");
    char line[256];
    RUN(f, 0, "search glacier");
    snprintf(line, sizeof line, "%s\tarchived\tAlpha glacier\n", ha);
    assert_contains(f->out, line);
    assert_contains(f->out, "\n3 items\n");
    RUN(f, 0, "search glacier --limit 1 --offset 1");
    assert_contains(f->out, "Beta glacier");
    assert_not_contains(f->out, "Alpha");
    assert_contains(f->out, "2-2 of 3 items");
    RUN(f, 0, "search glacier --offset 5");
    assert_contains(f->out, "none of 3 items after the first 5");
    RUN(f, 0, "search beta glacier"); /* several arguments: one query */
    assert_contains(f->out, "\n1 item\n");
    RUN(f, 0, "search title:gamma OR title:beta --rank --limit 1 --json");
    json_t *j = fx_parse(f, "search");
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 2);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
    RUN(f, 0, "search nothinghere");
    assert_string_equal(f->out, "0 items\n");

    /* A malformed query: exit 2, the message with its position, the query and a caret. */
    RUN(f, 2, "search 'glacier AND'");
    assert_contains(f->err, "AND needs a term after it at 9");
    assert_contains(f->err, "\n  glacier AND\n          ^\n");
    RUN(f, 2, "search 'titel:x'");
    assert_contains(f->err, "did you mean title:?");
    assert_contains(f->err, "  titel:x\n  ^\n");
    RUN(f, 2, "search 'date:2021..2019'");
    assert_contains(f->err, "ends before it starts");
    /* Told before any repository is opened. */
    RUN(f, 2, "--repo '%s/none' search '(a'", f->dir);
    assert_contains(f->err, "never closed");
    RUN(f, 3, "--repo '%s/none' search a", f->dir); /* no repository, as every command */
    /* Usage. */
    RUN(f, 2, "search");
    RUN(f, 2, "search x --limit ten");
    RUN(f, 2, "search x --offset -1");
    RUN(f, 2, "search x --frobnicate");
    RUN(f, 0, "search --help");
    assert_contains(f->out, "date:2019..2021");
    assert_contains(f->out, "--rank");
    RUN(f, 0, "--help");
    assert_contains(f->out, "search");
}

/* ---- the REST API ---------------------------------------------------------------------------- */

typedef struct api {
    fx f;            /* the repository (f.dir/r) and CLI runner */
    sf_server serve; /* bulkrepo serve */
    char admin[64], reader[64], usermgr[64];
    char saf_a[128], saf_b[128], draft[128];
} api;

static api *A;

/* GET path with a bearer token (NULL: none), with the shared client (serve_fixture.h). */
static void get(const char *path, const char *token, sf_resp *out)
{
    sf_http(&A->serve, "GET", path, &(sf_rq){.bearer = token}, out);
}

static long long jint(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* A query string's value, percent-encoded (static buffer). */
static const char *enc(const char *s)
{
    static char out[2048];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 4 < sizeof out; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
            out[n++] = (char)*p;
        else
            n += (size_t)snprintf(out + n, sizeof out - n, "%%%02X", *p);
    }
    out[n] = 0;
    return out;
}

static int api_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    A = calloc(1, sizeof *A);
    fx *f = &A->f;
    f->dir = tu_tmpdir();
    snprintf(f->repo, sizeof f->repo, "%s/r", f->dir);
    fx_init(f);
    snprintf(f->coll, sizeof f->coll, "%s", fx_new_collection(f, "Theses"));
    sf_add_user(f, "admin", "General System Administrator", "pw-admin-123456");
    sf_token(f, "admin", A->admin);
    sf_add_user(f, "reader", "Researcher Manager", "pw-reader-123456"); /* archived items only */
    sf_token(f, "reader", A->reader);
    sf_add_user(f, "usermgr", "User Manager", "pw-usermgr-123456"); /* no items */
    sf_token(f, "usermgr", A->usermgr);
    /* Two archived items (a has a file), then a draft with a file. */
    fx_dc(f, "p/a", "Glacier survey one");
    fx_write(f, "p/a/contents", "paper.txt\n");
    fx_write(f, "p/a/paper.txt", "the paper's bytes\n");
    fx_dc(f, "p/b", "Glacier survey two");
    RUN(f, 0, "import -a -s p -c %s -m a.map", f->coll); /* job 1 */
    snprintf(A->saf_a, sizeof A->saf_a, "%s", fx_map_handle(f, "a.map", "a"));
    snprintf(A->saf_b, sizeof A->saf_b, "%s", fx_map_handle(f, "a.map", "b"));
    RUN(f, 0, "orgunit add %s Library", UNIT);
    fx_write(f, "in/files/draft.txt", "draft bytes\n");
    fx_write(f, "in/e.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,"
             "FILE_FILEURL,FILE_DISPLAY_NAME\n"
             "ASSET,g1,Glacier draft,dataset.dataset," UNIT ",2020,,\n"
             "FILE,g1,,,,,files/draft.txt,Draft\n");
    RUN(f, 0, "import --format esploro-csv -s in/e.csv -m e.map"); /* job 2 */
    snprintf(A->draft, sizeof A->draft, "%s", fx_map_handle(f, "e.map", "g1"));
    /* An update of a: job 3. */
    fx_dc(f, "u/a", "Glacier survey one, revised");
    fx_write(f, "u/a/handle", A->saf_a);
    fx_write(f, "u/a/contents", "paper.txt\n");
    fx_write(f, "u/a/paper.txt", "the paper's bytes\n");
    RUN(f, 0, "import -a -s u -c %s -m u.map", f->coll);

    static const char *const args[] = {"--workers", "1", NULL};
    sf_start(f, &A->serve, args);
    return 0;
}

static int api_teardown(void **state)
{
    (void)state;
    int unclean = sf_stop(&A->serve);
    tu_rmtree(A->f.dir);
    free(A->f.dir);
    fx_reset_output(&A->f);
    free(A);
    curl_global_cleanup();
    return unclean;
}

/* GET /api/items?q=Q&EXTRA as token: the answer (status 200 asserted). */
static json_t *api_search(const char *q, const char *extra, const char *token, long long *total)
{
    char path[2400];
    snprintf(path, sizeof path, "/api/items?q=%s%s%s", enc(q), extra ? "&" : "",
             extra ? extra : "");
    sf_resp r;
    get(path, token, &r);
    SF_EXPECT(&r, 200);
    json_t *items = json_incref(json_object_get(r.json, "items"));
    *total = jint(r.json, "total");
    assert_true(json_is_array(items));
    sf_resp_free(&r);
    return items;
}

static void test_api_search(void **state)
{
    (void)state;
    long long total;
    json_t *items = api_search("glacier", NULL, A->admin, &total);
    assert_int_equal(total, 3);
    assert_int_equal(json_array_size(items), 3);
    json_t *first = json_array_get(items, 0);
    assert_string_equal(json_string_value(json_object_get(first, "handle")), A->saf_a);
    assert_string_equal(json_string_value(json_object_get(first, "title")),
                        "Glacier survey one, revised");
    assert_non_null(json_object_get(first, "uuid"));
    assert_string_equal(json_string_value(json_object_get(first, "collection")), A->f.coll);
    assert_non_null(json_object_get(first, "modified"));
    assert_string_equal(json_string_value(json_object_get(first, "status")), "archived");
    json_decref(items);
    /* Pages and the total. */
    items = api_search("glacier", "limit=1&offset=1", A->admin, &total);
    assert_int_equal(total, 3);
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "handle")),
                        A->saf_b);
    json_decref(items);
    items = api_search("glacier", "limit=0", A->admin, &total);
    assert_int_equal(total, 3);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);
    /* Rank: a's title has both words, b's one. */
    items = api_search("survey OR revised", "order=rank", A->admin, &total);
    assert_int_equal(total, 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "handle")),
                        A->saf_a);
    json_decref(items);
    items = api_search("job:3", NULL, A->admin, &total);
    assert_int_equal(total, 1);
    json_decref(items);
    /* A reader of archived items only: the draft is neither listed nor counted. */
    items = api_search("glacier", NULL, A->reader, &total);
    assert_int_equal(total, 2);
    json_decref(items);
    items = api_search("status:draft", NULL, A->reader, &total);
    assert_int_equal(total, 0);
    json_decref(items);
    items = api_search("glacier", "limit=1&offset=1", A->reader, &total);
    assert_int_equal(total, 2);
    assert_int_equal(json_array_size(items), 1);
    json_decref(items);
    items = api_search("status:draft", NULL, A->admin, &total);
    assert_int_equal(total, 1);
    json_decref(items);

    /* Malformed: 400 with the message and the position. */
    sf_resp r;
    char path[512];
    snprintf(path, sizeof path, "/api/items?q=%s", enc("glacier AND"));
    get(path, A->admin, &r);
    SF_EXPECT(&r, 400);
    assert_contains(json_string_value(json_object_get(r.json, "error")), "AND needs a term");
    assert_int_equal(jint(r.json, "position"), 9);
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/items?q=%s", enc("titel:x"));
    get(path, A->admin, &r);
    SF_EXPECT(&r, 400);
    assert_contains(json_string_value(json_object_get(r.json, "error")), "did you mean title:");
    assert_int_equal(jint(r.json, "position"), 1);
    sf_resp_free(&r);
    get("/api/items?q=glacier&order=best", A->admin, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    get("/api/items?q=glacier&limit=x", A->admin, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/items?q=glacier&collection=%s", enc(A->f.coll));
    get(path, A->admin, &r);
    SF_EXPECT(&r, 400);
    assert_contains(json_string_value(json_object_get(r.json, "error")), "collection:");
    sf_resp_free(&r);
    get("/api/items?q=glacier", A->usermgr, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    get("/api/items?q=glacier", NULL, &r);
    SF_EXPECT(&r, 401);
    sf_resp_free(&r);
    /* Without q the listing is as it was. */
    get("/api/items", A->admin, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(jint(r.json, "total"), 3);
    sf_resp_free(&r);
}

static json_t *item_jobs(const char *handle, const char *token)
{
    char path[512];
    snprintf(path, sizeof path, "/api/items/%s", handle);
    sf_resp r;
    get(path, token, &r);
    SF_EXPECT(&r, 200);
    json_t *jobs = json_incref(json_object_get(r.json, "jobs"));
    assert_non_null(json_object_get(r.json, "metadata")); /* the record as before */
    sf_resp_free(&r);
    assert_true(json_is_array(jobs));
    return jobs;
}

static void test_api_record_view(void **state)
{
    (void)state;
    /* a: imported by job 1, updated by job 3; newest first. */
    json_t *jobs = item_jobs(A->saf_a, A->admin);
    assert_int_equal(json_array_size(jobs), 2);
    json_t *j3 = json_array_get(jobs, 0), *j1 = json_array_get(jobs, 1);
    assert_int_equal(jint(j3, "id"), 3);
    assert_string_equal(json_string_value(json_object_get(j3, "outcome")), "updated");
    assert_string_equal(json_string_value(json_object_get(j3, "type")), "import-saf");
    assert_non_null(json_string_value(json_object_get(j3, "name")));
    assert_non_null(json_string_value(json_object_get(j3, "submitted")));
    assert_int_equal(jint(j1, "id"), 1);
    assert_string_equal(json_string_value(json_object_get(j1, "outcome")), "imported");
    json_decref(jobs);
    jobs = item_jobs(A->saf_b, A->admin);
    assert_int_equal(json_array_size(jobs), 1);
    assert_int_equal(jint(json_array_get(jobs, 0), "id"), 1);
    json_decref(jobs);
    jobs = item_jobs(A->draft, A->admin);
    assert_int_equal(json_array_size(jobs), 1);
    assert_int_equal(jint(json_array_get(jobs, 0), "id"), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(jobs, 0), "type")),
                        "import-esploro");
    json_decref(jobs);

    /* Files: the bytes, with the name and type. */
    char path[512];
    sf_resp r;
    snprintf(path, sizeof path, "/api/items/%s", A->saf_a);
    get(path, A->admin, &r);
    json_t *bs = json_array_get(json_object_get(r.json, "bitstreams"), 0);
    assert_string_equal(json_string_value(json_object_get(bs, "name")), "paper.txt");
    long long seq = jint(bs, "sequence");
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/items/%s/files/%lld", A->saf_a, seq);
    get(path, A->admin, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(r.len, strlen("the paper's bytes\n"));
    assert_memory_equal(r.body, "the paper's bytes\n", r.len);
    assert_contains(r.headers, "attachment; filename=\"paper.txt\"");
    assert_contains(r.headers, "text/plain");
    sf_resp_free(&r);
    get(path, A->reader, &r); /* archived: the reader may */
    SF_EXPECT(&r, 200);
    sf_resp_free(&r);
    get(path, A->usermgr, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    get(path, NULL, &r);
    SF_EXPECT(&r, 401);
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/items/%s/files/%lld", A->saf_a, seq + 7);
    get(path, A->admin, &r);
    SF_EXPECT(&r, 404);
    assert_contains(json_string_value(json_object_get(r.json, "error")), "has no file");
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/items/%s/files/x", A->saf_a);
    get(path, A->admin, &r);
    SF_EXPECT(&r, 404);
    sf_resp_free(&r);
    snprintf(path, sizeof path, "/api/items/%s/files/0", A->saf_b); /* no files */
    get(path, A->admin, &r);
    SF_EXPECT(&r, 404);
    sf_resp_free(&r);
    get("/api/items/123456789/999/files/0", A->admin, &r);
    SF_EXPECT(&r, 404);
    sf_resp_free(&r);
    /* The draft's file: the administrator, not the reader of archived items. */
    snprintf(path, sizeof path, "/api/items/%s/files/0", A->draft);
    get(path, A->admin, &r);
    SF_EXPECT(&r, 200);
    assert_int_equal(r.len, strlen("draft bytes\n"));
    assert_memory_equal(r.body, "draft bytes\n", r.len);
    sf_resp_free(&r);
    get(path, A->reader, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest lib[] = {
        cmocka_unit_test_setup_teardown(test_fields, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_phrases_booleans_prefixes, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_pages_total_and_rank, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_index_follows_every_write, sfx_setup, sfx_teardown),
        cmocka_unit_test_setup_teardown(test_templates_never_match, sfx_setup, sfx_teardown),
        cmocka_unit_test(test_malformed_queries),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_upgraded_index_equals_rebuilt),
        FX_TEST(test_cli_search_follows_imports),
        FX_TEST(test_cli_output_and_errors),
    };
    const struct CMUnitTest http[] = {
        cmocka_unit_test(test_api_search),
        cmocka_unit_test(test_api_record_view),
    };
    int failed = cmocka_run_group_tests_name("search", lib, NULL, NULL);
    failed += cmocka_run_group_tests_name("search over HTTP", http, api_setup, api_teardown);
    return failed;
}
