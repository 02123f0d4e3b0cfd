/* Relations between research assets (issue 11, section 3): the relation types with their inverses
 * (data/relation_types.tsv, bulkrepo/relation.h), the inverse kept in step from both sides, and
 * the two set jobs Import Research Assets Relations and Handle Relations for Research Assets run
 * as users run them (`bulkrepo job run ... --wait`, `job revert`), on assets imported from an
 * Esploro CSV (identifiers, the host's DOI and ISBN) and a SAF package (dc.relation.* values).
 * What an import cannot write (a relation that exists before the job) is written through the
 * library as a script would. */
#define _GNU_SOURCE
#include "cli_fixture.h"
#include "repo_fixture.h"

#define UNIT "P___U1"

/* ---- helpers ---------------------------------------------------------------------------- */

static long long run_job(fx *f, int want, const char *type, const char *set, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static long long run_job(fx *f, int want, const char *type, const char *set, const char *fmt, ...)
{
    char args[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    RUN(f, want, "job run %s --set '%s' %s --wait", type, set, args);
    long long id = atoll(f->out);
    assert_true(id > 0);
    return id;
}

/* The relations of `item show --json` as "RELATION HANDLE" lines (the view from this item),
 * sorted, in a static buffer ("" none). */
static const char *rels_of(fx *f, const char *h)
{
    static char buf[4][2048];
    static int k;
    k = (k + 1) % 4;
    char lines[32][128];
    size_t n = 0;
    json_t *it = fx_show(f, h), *r;
    size_t i;
    json_array_foreach(json_object_get(it, "relationships"), i, r)
    {
        if (n < 32)
            snprintf(lines[n++], sizeof lines[0], "%s %s", fx_str(r, "relation"),
                     fx_str(r, "item"));
    }
    json_decref(it);
    qsort(lines, n, sizeof lines[0], (int (*)(const void *, const void *))strcmp);
    buf[k][0] = 0;
    for (size_t j = 0; j < n; j++) {
        size_t m = strlen(buf[k]);
        snprintf(buf[k] + m, sizeof buf[k] - m, "%s%s", j ? "\n" : "", lines[j]);
    }
    return buf[k];
}

static const char *line_of(fx *f, long long job, const char *handle, const char **outcome)
{
    static char msg[2048], oc[32];
    json_t *j = fx_json(f, "job show %lld --json --records all", job), *r;
    size_t i;
    int found = 0;
    json_array_foreach(json_object_get(j, "records"), i, r)
    {
        if (!fx_str(r, "handle") || strcmp(fx_str(r, "handle"), handle)) continue;
        found = 1;
        snprintf(msg, sizeof msg, "%s", fx_str(r, "message") ? fx_str(r, "message") : "");
        snprintf(oc, sizeof oc, "%s", fx_str(r, "outcome"));
    }
    json_decref(j);
    if (!found) fail_msg("job %lld has no line for %s", job, handle);
    if (outcome) *outcome = oc;
    return msg;
}

static json_t *content(fx *f, const char *h)
{
    json_t *it = fx_show(f, h);
    json_object_del(it, "lastModified");
    return it;
}

static void assert_same(json_t *a, json_t *b)
{
    if (json_equal(a, b)) return;
    char *x = json_dumps(a, JSON_SORT_KEYS), *y = json_dumps(b, JSON_SORT_KEYS);
    fail_msg("records differ:\n%s\n%s", x, y);
}

/* ---- the table and the library ---------------------------------------------------------- */

/* Esploro's RelationType enumeration (esploro_record.xsd; notes/formats.md 1.6, E8). */
static const char *const ESPLORO[] = {"requires",
                                      "isbasedon",
                                      "ispartof",
                                      "iscommenton",
                                      "ismanifestationof",
                                      "isretractionof",
                                      "iscompiledby",
                                      "retraction",
                                      "references",
                                      "isdescribedby",
                                      "haspreprint",
                                      "isversionof",
                                      "iscorrectionof",
                                      "hasversion",
                                      "hastranslation",
                                      "cites",
                                      "is_supplemented_by",
                                      "reviews",
                                      "hasmanifestation",
                                      "isreviewedby",
                                      "cited_by",
                                      "isrequiredby",
                                      "isbasisfor",
                                      "isexpressionof",
                                      "isoriginalformof",
                                      "ispreprintof",
                                      "hasformat",
                                      "isidenticalto",
                                      "describes",
                                      "iscontinuedby",
                                      "hascomment",
                                      "hasexpression",
                                      "isdocumentedby",
                                      "hasreply",
                                      "hasrelatedmaterial",
                                      "conformsto",
                                      "continues",
                                      "isformatof",
                                      "istranslationof",
                                      "ispublicationof",
                                      "issupplementto",
                                      "isreplacedby",
                                      "haspart",
                                      "documents",
                                      "isderivedfrom",
                                      "isvariantformof",
                                      "hasmetadata",
                                      "isrelatedmaterial",
                                      "hasaccepted",
                                      "replaces",
                                      "ismetadatafor",
                                      "isrelatedto",
                                      "isnewversionof",
                                      "ispreviousversionof",
                                      "isreferencedby",
                                      "isdataof",
                                      "compiles",
                                      "isreplyto",
                                      "correction",
                                      "issameas",
                                      "issourceof",
                                      "isacceptedof",
                                      "iscodeof",
                                      "isprerequisiteof",
                                      "hasprerequisite"};

typedef struct codes {
    char list[2048];
    int n, symmetric;
} codes;

static int collect(void *ctx, const br_relation_type *t)
{
    codes *c = ctx;
    size_t m = strlen(c->list);
    snprintf(c->list + m, sizeof c->list - m, "%s%s", m ? "," : "", t->code);
    c->n++;
    if (strcmp(t->code, t->inverse)) {
        m = strlen(c->list);
        snprintf(c->list + m, sizeof c->list - m, ",%s", t->inverse);
        c->n++;
    } else {
        c->symmetric++;
    }
    /* each side finds the row, and says which side it is */
    br_relation_type x;
    int inv = -1;
    assert_int_equal(br_relation_type_find(t->code, &x, &inv), 0);
    assert_string_equal(x.code, t->code);
    assert_int_equal(inv, 0);
    assert_int_equal(br_relation_type_find(t->inverse, &x, &inv), 0);
    assert_int_equal(inv, strcmp(t->code, t->inverse) != 0);
    assert_true(strlen(t->label) > 0 && strlen(t->inverse_label) > 0);
    return 0;
}

static int param_values(void *ctx, const br_job_param *p)
{
    if (!strcmp(p->name, "relation")) snprintf(ctx, 2048, "%s", p->values);
    return 0;
}

static void test_types_table(void **state)
{
    (void)state;
    codes c = {"", 0, 0};
    br_relation_type_list(collect, &c);
    /* every Esploro code is a side of one row, once */
    for (size_t i = 0; i < sizeof ESPLORO / sizeof *ESPLORO; i++) {
        br_relation_type t;
        if (br_relation_type_find(ESPLORO[i], &t, NULL))
            fail_msg("%s is not in the table", ESPLORO[i]);
    }
    assert_int_equal(sizeof ESPLORO / sizeof *ESPLORO, 65);
    assert_int_equal(c.n, 69); /* 65 + the 4 inverses Esploro has no name for */
    assert_int_equal(c.symmetric, 3);
    /* the pairs of the issue */
    static const char *const PAIRS[][2] = {{"ispartof", "haspart"},
                                           {"isversionof", "hasversion"},
                                           {"references", "isreferencedby"},
                                           {"issupplementto", "is_supplemented_by"},
                                           {"cites", "cited_by"},
                                           {"ispreprintof", "haspreprint"},
                                           {"iscontinuedby", "continues"},
                                           {"isderivedfrom", "issourceof"},
                                           {"isdocumentedby", "documents"},
                                           {"isidenticalto", "isidenticalto"}};
    for (size_t i = 0; i < sizeof PAIRS / sizeof *PAIRS; i++) {
        br_relation_type t;
        assert_int_equal(br_relation_type_find(PAIRS[i][1], &t, NULL), 0);
        assert_string_equal(t.code, PAIRS[i][0]);
        assert_string_equal(t.inverse, PAIRS[i][1]);
    }
    br_relation_type t;
    assert_int_equal(br_relation_type_find("isPartOf", &t, NULL), BR_ENOTFOUND);
    assert_int_equal(br_relation_type_find("nonsense", &t, NULL), BR_ENOTFOUND);
    assert_int_equal(br_relation_type_find(NULL, &t, NULL), BR_ENOTFOUND);
    /* the job's "relation" parameter offers exactly the table's codes */
    char values[2048] = "";
    br_job_param_list("handle-relations", param_values, values);
    assert_string_equal(values, c.list);
}

static void test_library_inverse_in_step(void **state)
{
    (void)state;
    tu_repo *f = tu_repo_new(NULL, "C");
    br_error err;
    int64_t id[3];
    br_record *r = br_record_new();
    for (int i = 0; i < 3; i++) {
        br_record_reset(r);
        assert_non_null(br_record_add_md(r, "dc", "title", NULL, NULL, "T"));
        assert_int_equal(br_record_add_collection(r, f->coll), 0);
        assert_br_ok(br_repo_begin(f->repo, &err), &err);
        assert_br_ok(br_item_insert(f->repo, r, NULL, &err), &err);
        assert_br_ok(br_repo_commit(f->repo, &err), &err);
        id[i] = r->id;
    }
    int added = -1, removed = -1;
    assert_br_ok(br_repo_begin(f->repo, &err), &err);
    /* "0 haspart 1" is stored as "1 ispartof 0" */
    assert_br_ok(br_relation_add(f->repo, "haspart", id[0], id[1], &added, &err), &err);
    assert_int_equal(added, 1);
    /* the same relation from the other side adds nothing */
    assert_br_ok(br_relation_add(f->repo, "ispartof", id[1], id[0], &added, &err), &err);
    assert_int_equal(added, 0);
    assert_int_equal(br_relation_exists(f->repo, "ispartof", id[1], id[0], &err), 1);
    assert_int_equal(br_relation_exists(f->repo, "haspart", id[0], id[1], &err), 1);
    assert_int_equal(br_relation_exists(f->repo, "haspart", id[1], id[0], &err), 0);
    /* symmetric: one row whichever side adds it */
    assert_br_ok(br_relation_add(f->repo, "isidenticalto", id[2], id[0], &added, &err), &err);
    assert_int_equal(added, 1);
    assert_br_ok(br_relation_add(f->repo, "isidenticalto", id[0], id[2], &added, &err), &err);
    assert_int_equal(added, 0);
    /* refused: itself, an unknown type */
    assert_int_equal(br_relation_add(f->repo, "cites", id[0], id[0], &added, &err), BR_EUSAGE);
    assert_contains(err.message, "itself");
    assert_int_equal(br_relation_add(f->repo, "isAuthorOf", id[0], id[1], &added, &err), BR_EUSAGE);
    assert_contains(err.message, "'isAuthorOf' is not a relation type");
    assert_int_equal(br_relation_add(f->repo, "cites", id[0], 99999, &added, &err), BR_ENOTFOUND);
    assert_br_ok(br_repo_commit(f->repo, &err), &err);

    /* each side reads its own code */
    assert_br_ok(br_item_load(f->repo, id[1], r, &err), &err);
    assert_int_equal(r->n_rels, 1);
    char view[32];
    assert_string_equal(br_relation_view(&r->rels[0], view), "ispartof");
    assert_int_equal(r->rels[0].is_left, 1);
    assert_br_ok(br_item_load(f->repo, id[0], r, &err), &err);
    assert_int_equal(r->n_rels, 2);
    int seen = 0;
    for (size_t i = 0; i < r->n_rels; i++) {
        br_relation_view(&r->rels[i], view);
        seen += !strcmp(view, "haspart") + 2 * !strcmp(view, "isidenticalto");
    }
    assert_int_equal(seen, 3);
    /* a row written as its inverse (an SAF relationships file) reads the same and is found */
    assert_br_ok(br_repo_begin(f->repo, &err), &err);
    assert_br_ok(br_relation_insert(f->repo, "hasversion", id[2], id[1], &err), &err);
    assert_int_equal(br_relation_exists(f->repo, "isversionof", id[1], id[2], &err), 1);
    assert_br_ok(br_relation_add(f->repo, "isversionof", id[1], id[2], &added, &err), &err);
    assert_int_equal(added, 0);
    assert_br_ok(br_repo_commit(f->repo, &err), &err);
    assert_br_ok(br_item_load(f->repo, id[1], r, &err), &err);
    seen = 0;
    for (size_t i = 0; i < r->n_rels; i++)
        seen += !strcmp(br_relation_view(&r->rels[i], view), "isversionof");
    assert_int_equal(seen, 1);
    /* removing from the other side removes both views, in whichever form it is stored */
    assert_br_ok(br_repo_begin(f->repo, &err), &err);
    assert_br_ok(br_relation_remove(f->repo, "ispartof", id[1], id[0], &removed, &err), &err);
    assert_int_equal(removed, 1);
    assert_br_ok(br_relation_remove(f->repo, "hasversion", id[2], id[1], &removed, &err), &err);
    assert_int_equal(removed, 1);
    assert_br_ok(br_relation_remove(f->repo, "cites", id[2], id[1], &removed, &err), &err);
    assert_int_equal(removed, 0);
    assert_br_ok(br_repo_commit(f->repo, &err), &err);
    assert_br_ok(br_item_load(f->repo, id[1], r, &err), &err);
    assert_int_equal(r->n_rels, 0);
    assert_br_ok(br_item_load(f->repo, id[0], r, &err), &err);
    assert_int_equal(r->n_rels, 1); /* isidenticalto stays */
    /* a type the table does not know is read as stored, however long */
    static const char LONG[] = "isAuthorOfPublicationInAVeryLongRelationshipTypeName";
    assert_br_ok(br_repo_begin(f->repo, &err), &err);
    assert_br_ok(br_relation_insert(f->repo, LONG, id[2], id[1], &err), &err);
    assert_br_ok(br_repo_commit(f->repo, &err), &err);
    assert_br_ok(br_item_load(f->repo, id[1], r, &err), &err);
    assert_int_equal(r->n_rels, 1);
    assert_string_equal(br_relation_view(&r->rels[0], view), LONG);
    br_record_free(r);
    tu_repo_free(f);
}

/* ---- the assets ------------------------------------------------------------------------ */

typedef struct seeded {
    char book[64], chapter[64], issue[64], article[64], orphan[64], self[64], rel[64], plain[64];
} seeded;

/* An Esploro CSV (identifiers, the host's ISBN and DOI) and a SAF package (dc.relation.*). */
static void seed(fx *f, seeded *s)
{
    RUN(f, 0, "orgunit add " UNIT " Library");
    fx_write(f, "a.csv",
             ",group_id,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,ASSET_DOI,"
             "ASSET_ISBN,ASSET_ORIGASSET_ID,PRTOF_ISBN,PRTOF_DOI\n"
             "ASSET,book,The Book,publication.book," UNIT ",2020,,9783161484100,OLD-1,,\n"
             "ASSET,chapter,A Chapter,publication.bookChapter," UNIT ",2020,,,,,\n"
             "PRTOF,chapter,,,,,,,,3-16-148410-X,\n"
             "ASSET,issue,The Issue,publication.journalIssue," UNIT ",2021,10.5555/issue-1,,,,\n"
             "ASSET,article,An Article,publication.journalArticle," UNIT ",2021,,,,,\n"
             "PRTOF,article,,,,,,,,,10.5555/ISSUE-1\n"
             "ASSET,orphan,Orphan,publication.journalArticle," UNIT ",2021,,,,,\n"
             "PRTOF,orphan,,,,,,,,,10.9999/nowhere\n"
             "ASSET,self,Self,publication.journalArticle," UNIT ",2021,10.5555/self,,,,\n"
             "PRTOF,self,,,,,,,,,10.5555/self\n"
             "ASSET,plain,Plain,dataset.dataset," UNIT ",2022,,,,,\n");
    RUN(f, 0, "import --format esploro-csv -s a.csv -m a.map -c %s", f->coll);
    const char *keys[] = {"book", "chapter", "issue", "article", "orphan", "self", "plain"};
    char *dst[] = {s->book, s->chapter, s->issue, s->article, s->orphan, s->self, s->plain};
    for (int i = 0; i < 7; i++) {
        const char *h = fx_map_handle(f, "a.map", keys[i]);
        assert_non_null(h);
        snprintf(dst[i], 64, "%s", h);
    }
    fx_write(f, "p/rel/dublin_core.xml",
             "<dublin_core>\n  <dcvalue element=\"title\">Related</dcvalue>\n"
             "  <dcvalue element=\"relation\" qualifier=\"isversionof\">origid:OLD-1</dcvalue>\n"
             "  <dcvalue element=\"relation\" qualifier=\"uri\">https://doi.org/10.5555/issue-1"
             "</dcvalue>\n"
             "  <dcvalue element=\"relation\" qualifier=\"ispartof\">Journal of Stuff</dcvalue>\n"
             "  <dcvalue element=\"relation\" qualifier=\"isreferencedby\">hdl:123456789/999"
             "</dcvalue>\n</dublin_core>\n");
    /* an author item related the DSpace way (a type the table does not know) */
    fx_dc(f, "p/author", "An Author");
    fx_write(f, "p/author/relationships", "relation.isAuthorOfPublication folderName:rel\n");
    RUN(f, 0, "import -a -s p -c %s -m p.map", f->coll);
    snprintf(s->rel, sizeof s->rel, "%s", fx_map_handle(f, "p.map", "rel"));
    RUN(f, 0,
        "set create S --member %s --member %s --member %s --member %s --member %s --member "
        "%s --member %s --member %s",
        s->book, s->chapter, s->issue, s->article, s->orphan, s->self, s->rel, s->plain);
}

static void test_import_relations(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    json_t *plain0 = content(f, s.plain);
    /* dry run: nothing written */
    RUN(f, 0, "job run import-asset-relations --set S --dry-run");
    assert_contains(f->out, s.chapter);
    assert_string_equal(rels_of(f, s.chapter), "");

    long long job = run_job(f, 1, "import-asset-relations", "S", "%s", "");
    char want[256];
    /* the chapter is part of the book (PRTOF_ISBN as ISBN-10), the book reads it as haspart */
    snprintf(want, sizeof want, "ispartof %s", s.book);
    assert_string_equal(rels_of(f, s.chapter), want);
    /* the article is part of the issue (PRTOF_DOI in upper case) */
    snprintf(want, sizeof want, "ispartof %s", s.issue);
    assert_string_equal(rels_of(f, s.article), want);
    /* SAF dc.relation values: an origin id and a DOI URL; a title is no identifier */
    char want2[256];
    snprintf(want2, sizeof want2, "isAuthorOfPublication %s\nisrelatedto %s\nisversionof %s",
             fx_map_handle(f, "p.map", "author"), s.issue, s.book);
    assert_string_equal(rels_of(f, s.rel), want2);
    snprintf(want, sizeof want, "haspart %s\nhasversion %s", s.chapter, s.rel);
    assert_string_equal(rels_of(f, s.book), want);
    snprintf(want, sizeof want, "haspart %s\nisrelatedto %s", s.article, s.rel);
    assert_string_equal(rels_of(f, s.issue), want);

    const char *oc;
    assert_contains(line_of(f, job, s.chapter, &oc), "1 relation created: ispartof");
    assert_string_equal(oc, "updated");
    const char *m = line_of(f, job, s.rel, &oc);
    assert_string_equal(oc, "updated");
    assert_contains(m, "2 relations created, 1 target not found");
    assert_contains(m, "not found: isreferencedby hdl:123456789/999");
    assert_not_contains(m, "Journal of Stuff");
    /* only a target no asset has: failed, named on its line */
    m = line_of(f, job, s.orphan, &oc);
    assert_string_equal(oc, "failed");
    assert_contains(m,
                    "0 relations created, 1 target not found: not found: ispartof 10.9999/nowhere");
    /* a relation to itself is refused */
    m = line_of(f, job, s.self, &oc);
    assert_string_equal(oc, "skipped");
    assert_contains(m, "1 to itself refused");
    assert_string_equal(rels_of(f, s.self), "");
    assert_contains(line_of(f, job, s.plain, &oc), "names no related asset");
    /* a relation of a type the table does not know reads as stored from both sides */
    RUN(f, 0, "item show %s", fx_map_handle(f, "p.map", "author"));
    snprintf(want, sizeof want, "isAuthorOfPublication -> %s\n", s.rel);
    assert_contains(f->out, want); /* the line ends there: no "(other code)" */
    RUN(f, 0, "item show %s --json", s.rel);
    assert_contains(f->out, "\"relation\": \"isAuthorOfPublication\"");
    /* the book names nothing itself; the issue neither */
    assert_string_equal(oc, "skipped");
    json_t *j = fx_job(f, job);
    assert_string_equal(fx_status_code(j), "COMPLETED_WITH_ERRORS");
    assert_int_equal(fx_counter(j, "updated"), 3);
    assert_int_equal(fx_counter(j, "failed"), 1);
    assert_int_equal(fx_counter(j, "skipped"), 4);
    assert_contains(fx_str(j, "message"),
                    "assets: 3 with relations created, 1 failed, 4 left as they were; relations: 4 "
                    "created, 0 already there, 2 targets not found, 1 to itself refused");
    json_decref(j);
    json_t *plain1 = content(f, s.plain);
    assert_same(plain0, plain1);
    json_decref(plain0);
    json_decref(plain1);

    /* again: nothing new, nothing twice */
    long long again = run_job(f, 1, "import-asset-relations", "S", "%s", "");
    assert_contains(line_of(f, again, s.chapter, &oc), "0 relations created, 1 already there");
    assert_string_equal(oc, "skipped");
    snprintf(want, sizeof want, "haspart %s\nhasversion %s", s.chapter, s.rel);
    assert_string_equal(rels_of(f, s.book), want);
    ASSERT_FSCK_CLEAN(f);
}

/* A relation that was there before the job, between two members, stays through a revert; the
 * ones the job made go from both sides, whatever order the revert meets the records in. */
static void test_import_revert(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    {
        br_repo *repo;
        br_error err;
        int64_t a, b;
        assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
        assert_br_ok(br_item_find(repo, s.book, &a, &err), &err);
        assert_br_ok(br_item_find(repo, s.issue, &b, &err), &err);
        assert_br_ok(br_repo_begin(repo, &err), &err);
        assert_br_ok(br_relation_add(repo, "cites", a, b, NULL, &err), &err);
        assert_br_ok(br_repo_commit(repo, &err), &err);
        br_repo_free(repo);
    }
    const char *hs[] = {s.book, s.chapter, s.issue, s.article, s.rel};
    json_t *before[5];
    for (int i = 0; i < 5; i++)
        before[i] = content(f, hs[i]);
    long long job = run_job(f, 1, "import-asset-relations", "S", "%s", "");
    assert_contains(rels_of(f, s.book), "haspart");
    json_t *dry = fx_json(f, "job revert %lld --dry-run --json", job);
    json_decref(dry);
    RUN(f, 0, "job revert %lld --wait", job);
    for (int i = 0; i < 5; i++) {
        json_t *now = content(f, hs[i]);
        assert_same(before[i], now);
        json_decref(now);
        json_decref(before[i]);
    }
    char want[128];
    snprintf(want, sizeof want, "cites %s", s.issue);
    assert_string_equal(rels_of(f, s.book), want);
    ASSERT_FSCK_CLEAN(f);
}

/* ---- Handle Relations for Research Assets ------------------------------------------------- */

static void test_handle_relations(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    RUN(f, 0, "set create T --member %s --member %s --member %s", s.chapter, s.article, s.issue);
    /* every asset of T "cites" the issue, named by its DOI; the issue itself is skipped */
    long long job =
        run_job(f, 0, "handle-relations", "T",
                "--param action=add --param relation=cites --param target=10.5555/issue-1");
    const char *oc;
    char want[256];
    snprintf(want, sizeof want, "added: cites %s", s.issue);
    assert_string_equal(line_of(f, job, s.chapter, &oc), want);
    assert_string_equal(oc, "updated");
    assert_contains(line_of(f, job, s.issue, &oc), "an asset is not related to itself");
    assert_string_equal(oc, "skipped");
    snprintf(want, sizeof want, "cited_by %s\ncited_by %s", s.article, s.chapter);
    if (strcmp(s.article, s.chapter) > 0)
        snprintf(want, sizeof want, "cited_by %s\ncited_by %s", s.chapter, s.article);
    assert_string_equal(rels_of(f, s.issue), want);
    snprintf(want, sizeof want, "cites %s", s.issue);
    assert_string_equal(rels_of(f, s.chapter), want);
    RUN(f, 0, "item show %s", s.issue);
    assert_contains(f->out, "cites <- ");
    assert_contains(f->out, "(cited_by)");

    /* again: already related */
    long long again =
        run_job(f, 0, "handle-relations", "T",
                "--param action=add --param relation=cites --param target=10.5555/issue-1");
    snprintf(want, sizeof want, "already related: cites %s", s.issue);
    assert_string_equal(line_of(f, again, s.chapter, &oc), want);
    assert_string_equal(oc, "skipped");

    /* the inverse from the target's side: the book "haspart" the chapter, by the book's handle;
     * it is the chapter's "ispartof" */
    RUN(f, 0, "set create B --member %s", s.book);
    run_job(f, 0, "handle-relations", "B",
            "--param action=add --param relation=haspart --param target=%s", s.chapter);
    /* (the target is given by handle here) */
    RUN(f, 0, "set create C --member %s", s.chapter);
    long long rm =
        run_job(f, 0, "handle-relations", "C",
                "--param action=remove --param relation=ispartof --param target=%s", s.book);
    snprintf(want, sizeof want, "removed: ispartof %s", s.book);
    assert_string_equal(line_of(f, rm, s.chapter, &oc), want);
    snprintf(want, sizeof want, "cites %s", s.issue);
    assert_string_equal(rels_of(f, s.chapter), want);
    assert_string_equal(rels_of(f, s.book), "");
    /* removing what is not there */
    long long none =
        run_job(f, 0, "handle-relations", "C",
                "--param action=remove --param relation=ispartof --param target=%s", s.book);
    assert_contains(line_of(f, none, s.chapter, &oc), "not related: ispartof");

    /* revert of the remove: the relation is back on both sides */
    RUN(f, 0, "job revert %lld --wait", rm);
    snprintf(want, sizeof want, "haspart %s", s.chapter);
    assert_string_equal(rels_of(f, s.book), want);
    /* revert of the add: the chapter changed since (its ispartof), so its line is left and
     * reported; the rows the job made go with the issue's and the article's undo rows (a row is
     * shared by its two assets), the chapter keeps its later relation */
    RUN(f, 1, "job revert %lld --wait", job);
    json_t *ch = fx_show(f, s.chapter), *rj = fx_last_job(f);
    json_t *line = fx_job_record(rj, fx_str(ch, "uuid"));
    assert_non_null(line);
    assert_contains(fx_str(line, "message"), "not reverted: it changed after the job");
    json_decref(rj);
    json_decref(ch);
    assert_string_equal(rels_of(f, s.issue), "");
    assert_string_equal(rels_of(f, s.article), "");
    snprintf(want, sizeof want, "ispartof %s", s.book);
    assert_string_equal(rels_of(f, s.chapter), want);
    ASSERT_FSCK_CLEAN(f);
}

/* Bad input: the target and the relation are checked before the job is queued. */
static void test_handle_relations_bad_input(void **state)
{
    fx *f = *state;
    seeded s;
    seed(f, &s);
    RUN(f, 2,
        "job run handle-relations --set S --param action=add --param relation=cites "
        "--param target=10.1/none");
    assert_contains(f->err, "parameter 'target': no asset has the handle, UUID or DOI '10.1/none'");
    RUN(f, 2,
        "job run handle-relations --set S --param action=add --param relation=cites "
        "--param target=123456789/9999");
    assert_contains(f->err, "'123456789/9999'");
    RUN(f, 2,
        "job run handle-relations --set S --param action=add --param relation=isPartOf "
        "--param target=%s",
        s.book);
    assert_contains(f->err, "relation");
    RUN(f, 2,
        "job run handle-relations --set S --param action=link --param relation=cites "
        "--param target=%s",
        s.book);
    assert_contains(f->err, "action");
    RUN(f, 2, "job run handle-relations --set S --param relation=cites --param target=%s", s.book);
    assert_contains(f->err, "action");
    RUN(f, 0, "job list --json");
    json_t *jobs = fx_parse(f, "job list");
    size_t n = json_array_size(jobs);
    json_decref(jobs);
    assert_int_equal(n, 2); /* the two imports: nothing was queued */
    RUN(f, 0, "job types");
    assert_contains(f->out, "handle-relations");
    assert_not_contains(f->out, "handle-relations  (not runnable yet)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_types_table), cmocka_unit_test(test_library_inverse_in_step),
        FX_TEST(test_import_relations),     FX_TEST(test_import_revert),
        FX_TEST(test_handle_relations),     FX_TEST(test_handle_relations_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
