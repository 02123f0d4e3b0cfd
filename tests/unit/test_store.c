/* The store through the public API: repository, containers, registry, items,
 * assetstore, jobs and fsck. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include "bulkrepo/bulkrepo.h"
#include "bulkrepo/user.h"
#include "testutil.h"
#include "repo_fixture.h"

typedef tu_repo fixture;

static void test_init_twice_and_open_missing(void **state)
{
    fixture *f = *state;
    br_error err;
    assert_int_equal(br_repo_init(f->repo_dir, NULL, &err), BR_EEXISTS);
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/nothing", f->dir);
    br_repo *r = NULL;
    assert_int_equal(br_repo_open(missing, &r, &err), BR_ENOTFOUND);
    assert_null(r);
    assert_contains(err.message, "init`");
    assert_int_equal(br_repo_init(f->repo_dir, "bad/prefix", &err), BR_EUSAGE);
}

static void test_containers_and_handles(void **state)
{
    fixture *f = *state;
    br_error err;
    br_container com, sub, got;
    assert_string_equal(f->coll, "4321/1");
    assert_int_equal(br_container_create(f->repo, 1, "Faculty of Science", NULL, &com, &err), 0);
    assert_string_equal(com.handle, "4321/2");
    assert_int_equal(br_container_create(f->repo, 0, "Theses", com.handle, &sub, &err), 0);
    assert_string_equal(sub.parent, com.handle);
    /* Only a community can hold others. */
    assert_int_equal(br_container_create(f->repo, 0, "Nested", f->coll, &got, &err), BR_EINVAL);
    assert_int_equal(br_container_create(f->repo, 0, "Orphan", "4321/999", &got, &err),
                     BR_ENOTFOUND);
    assert_int_equal(br_container_get(f->repo, "4321/3", &got, &err), 0);
    assert_string_equal(got.name, "Theses");
    assert_int_equal(br_handle_exists(f->repo, "4321/2"), 1);
    assert_int_equal(br_handle_exists(f->repo, "4321/77"), 0);
}

static void test_registry(void **state)
{
    fixture *f = *state;
    br_error err;
    assert_true(br_registry_has(f->repo, "dc", "title", NULL));
    assert_true(br_registry_has(f->repo, "dc", "title", "alternative"));
    assert_true(br_registry_has(f->repo, "dcterms", "title", NULL));
    assert_true(br_registry_has(f->repo, "dspace", "entity", "type"));
    assert_true(br_registry_has_schema(f->repo, "local"));
    assert_true(br_registry_has_schema(f->repo, "relation"));
    assert_false(br_registry_has(f->repo, "dc", "titel", NULL));
    char s[128];
    assert_int_equal(br_registry_suggest(f->repo, "dc", "titel", NULL, s, sizeof s), 0);
    assert_string_equal(s, "dc.title");
    assert_int_equal(br_registry_add(f->repo, "local.note.internal", "staff only", &err), 0);
    assert_true(br_registry_has(f->repo, "local", "note", "internal"));
    assert_int_equal(br_registry_add(f->repo, "local.note.internal", NULL, &err), BR_EEXISTS);
    assert_int_equal(br_registry_add(f->repo, "nosuch.x", NULL, &err), BR_ENOTFOUND);
    assert_int_equal(br_registry_add(f->repo, "dc", NULL, &err), BR_EUSAGE);
    /* The cache survives a reopen. */
    br_repo *r2;
    assert_int_equal(br_repo_open(f->repo_dir, &r2, &err), 0);
    assert_true(br_registry_has(r2, "local", "note", "internal"));
    br_repo_free(r2);
}

static br_record *sample(fixture *f, const char *title)
{
    br_record *r = br_record_new();
    br_record_add_collection(r, f->coll);
    br_record_add_md(r, "dc", "title", NULL, NULL, title);
    br_record_add_md(r, "dc", "contributor", "author", NULL, "Doe, Jane");
    br_record_add_md(r, "dc", "contributor", "author", NULL, "Roe, Rick");
    br_record_add_md(r, "dc", "title", "alternative", "fr", "Le titre");
    br_creator *c = br_record_add_creator(r, BR_CREATOR);
    c->family = br_record_str(r, "Doe");
    c->given = br_record_str(r, "Jane");
    c->orcid = br_record_str(r, "0000-0002-1825-0097");
    br_link *l = br_record_add_link(r);
    l->url = br_record_str(r, "https://example.org/data");
    l->type = br_record_str(r, "dataset");
    br_record_add_identifier(r, "doi", title);
    return r;
}

static void put_file(fixture *f, br_record *r, const char *name, const char *content)
{
    tu_write(f->dir, name, content);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    br_bitstream *b = br_record_add_bitstream(r, name);
    br_error err;
    assert_int_equal(br_asset_put_file(f->repo, path, 0, r, b, &err), 0);
}

static void test_item_round_trip(void **state)
{
    fixture *f = *state;
    br_error err;
    br_record *r = sample(f, "Rivers");
    put_file(f, r, "a.txt", "TEST TEST TEST\n");
    assert_string_equal(r->bs[0].md5, "1836ca07cde7108c09eaa376ad153f55");
    assert_int_equal(br_repo_begin(f->repo, &err), 0);
    assert_int_equal(br_item_insert(f->repo, r, NULL, &err), 0);
    assert_int_equal(br_repo_commit(f->repo, &err), 0);
    assert_string_equal(r->handle, "4321/2");
    br_record *back = br_record_new();
    assert_int_equal(br_item_load(f->repo, r->id, back, &err), 0);
    assert_int_equal(back->n_md, 4);
    assert_string_equal(back->md[0].value, "Rivers");
    assert_string_equal(back->md[2].value, "Roe, Rick");
    assert_int_equal(back->md[2].place, 1);
    assert_string_equal(back->md[3].language, "fr");
    assert_int_equal(back->n_bs, 1);
    assert_string_equal(back->bs[0].bundle, "ORIGINAL");
    assert_int_equal(back->bs[0].size, 15);
    assert_string_equal(back->bs[0].mime, "text/plain");
    assert_true(access(back->bs[0].path, R_OK) == 0);
    assert_int_equal(back->n_creators, 1);
    assert_string_equal(back->creators[0].orcid, "0000-0002-1825-0097");
    assert_int_equal(back->n_links, 1);
    assert_string_equal(back->n_ids ? back->ids[0].type : "", "doi");
    assert_string_equal(back->collections[0], f->coll);
    assert_string_equal(back->status, "archived");
    /* Typed identifiers are unique: a second item with the same DOI is refused. */
    br_record *dup = sample(f, "Rivers");
    assert_int_equal(br_repo_begin(f->repo, &err), 0);
    assert_int_equal(br_item_insert(f->repo, dup, NULL, &err), BR_EEXISTS);
    br_repo_rollback(f->repo);
    assert_int_equal(br_item_count(f->repo), 1);
    br_record_free(dup);
    br_record_free(back);
    br_record_free(r);
}

/* An item with more values than one INSERT of many rows takes on PostgreSQL (32: three
 * statements, the last of 6), and 1 and 33 values: every value back in its order, with its
 * language and place; an unregistered field refuses the item and nothing is stored. */
static void test_many_values_round_trip(void **state)
{
    fixture *f = *state;
    br_error err;
    const size_t counts[] = {1, 33, 70};
    for (size_t c = 0; c < 3; c++) {
        br_record *r = br_record_new();
        br_record_add_collection(r, f->coll);
        for (size_t i = 0; i < counts[c]; i++) {
            char v[64];
            snprintf(v, sizeof v, "value %zu of %zu", i, counts[c]);
            br_record_add_md(r, "dc", i % 3 ? "subject" : "title", NULL, i % 2 ? "en" : NULL, v);
        }
        assert_int_equal(br_repo_begin(f->repo, &err), 0);
        assert_br_ok(br_item_insert(f->repo, r, NULL, &err), &err);
        assert_br_ok(br_repo_commit(f->repo, &err), &err);
        br_record *back = br_record_new();
        assert_br_ok(br_item_load(f->repo, r->id, back, &err), &err);
        assert_int_equal(back->n_md, counts[c]);
        for (size_t i = 0; i < back->n_md; i++) {
            char v[64];
            snprintf(v, sizeof v, "value %zu of %zu", i, counts[c]);
            assert_string_equal(back->md[i].value, v);
            assert_string_equal(back->md[i].element, i % 3 ? "subject" : "title");
            if (i % 2)
                assert_string_equal(back->md[i].language, "en");
            else
                assert_null(back->md[i].language);
            assert_int_equal(back->md[i].place, r->md[i].place);
        }
        br_record_free(back);
        br_record_free(r);
    }
    br_record *bad = br_record_new();
    br_record_add_collection(bad, f->coll);
    for (int i = 0; i < 40; i++)
        br_record_add_md(bad, "dc", "title", NULL, NULL, "x");
    br_record_add_md(bad, "dc", "nosuchfield", NULL, NULL, "y");
    assert_int_equal(br_repo_begin(f->repo, &err), 0);
    assert_int_equal(br_item_insert(f->repo, bad, NULL, &err), BR_EINVAL);
    br_repo_rollback(f->repo);
    assert_int_equal(br_item_count(f->repo), 3);
    br_record_free(bad);
}

static void test_handle_kept_and_in_use(void **state)
{
    fixture *f = *state;
    br_error err;
    br_record *r = sample(f, "Kept");
    r->handle = br_record_str(r, "4321/50");
    assert_int_equal(br_repo_begin(f->repo, &err), 0);
    assert_int_equal(br_item_insert(f->repo, r, NULL, &err), 0);
    assert_string_equal(r->handle, "4321/50");
    /* Allocation continues after the highest handle in use. */
    br_record *n = sample(f, "Next");
    assert_int_equal(br_item_insert(f->repo, n, NULL, &err), 0);
    assert_string_equal(n->handle, "4321/51");
    br_record *clash = sample(f, "Clash");
    clash->handle = br_record_str(clash, f->coll);
    assert_int_equal(br_item_insert(f->repo, clash, NULL, &err), BR_EEXISTS);
    assert_contains(err.message, "already in use");
    assert_int_equal(br_repo_commit(f->repo, &err), 0);
    br_record_free(r);
    br_record_free(n);
    br_record_free(clash);
}

static void test_dedup_delete_gc(void **state)
{
    fixture *f = *state;
    br_error err;
    br_record *a = sample(f, "A"), *b = sample(f, "B");
    put_file(f, a, "same1.txt", "identical bytes\n");
    put_file(f, b, "same2.txt", "identical bytes\n");
    assert_string_equal(a->bs[0].sha256, b->bs[0].sha256);
    assert_int_equal(br_repo_begin(f->repo, &err), 0);
    assert_int_equal(br_item_insert(f->repo, a, NULL, &err), 0);
    assert_int_equal(br_item_insert(f->repo, b, NULL, &err), 0);
    assert_int_equal(br_relation_insert(f->repo, "isPartOf", a->id, b->id, &err), 0);
    assert_int_equal(br_relation_insert(f->repo, "isPartOf", a->id, b->id, &err), 0); /* ignored */
    assert_int_equal(br_repo_commit(f->repo, &err), 0);
    br_fsck_report rep;
    br_diag_sink sink = {0};
    assert_int_equal(br_repo_fsck(f->repo, &sink, &rep, &err), 0);
    assert_int_equal(rep.files, 1); /* stored once */
    assert_int_equal(rep.bitstreams, 2);
    br_record *l = br_record_new();
    assert_int_equal(br_item_load(f->repo, a->id, l, &err), 0);
    assert_int_equal(l->n_rels, 1);
    assert_true(l->rels[0].is_left);
    assert_string_equal(l->rels[0].target, b->handle);
    /* Deleting one item keeps the shared file; deleting both lets gc remove it. */
    size_t removed = 9;
    assert_int_equal(br_repo_begin(f->repo, &err), 0);
    assert_int_equal(br_item_delete(f->repo, a->id, &err), 0);
    assert_int_equal(br_repo_commit(f->repo, &err), 0);
    assert_int_equal(br_asset_gc(f->repo, &removed, &err), 0);
    assert_int_equal(removed, 0);
    assert_int_equal(br_repo_begin(f->repo, &err), 0);
    assert_int_equal(br_item_delete(f->repo, b->id, &err), 0);
    assert_int_equal(br_item_delete(f->repo, b->id, &err), BR_ENOTFOUND);
    assert_int_equal(br_repo_commit(f->repo, &err), 0);
    assert_int_equal(br_asset_gc(f->repo, &removed, &err), 0);
    assert_int_equal(removed, 1);
    assert_int_equal(br_repo_fsck(f->repo, &sink, &rep, &err), 0);
    assert_int_equal(rep.files + rep.orphan_rows + rep.orphan_files, 0);
    br_record_free(l);
    br_record_free(a);
    br_record_free(b);
}

static void test_fsck_finds_damage(void **state)
{
    fixture *f = *state;
    br_error err;
    br_record *a = sample(f, "Damaged");
    put_file(f, a, "x.txt", "original content\n");
    assert_int_equal(br_repo_begin(f->repo, &err), 0);
    assert_int_equal(br_item_insert(f->repo, a, NULL, &err), 0);
    assert_int_equal(br_repo_commit(f->repo, &err), 0);
    br_fsck_report rep;
    br_diag_sink sink = {0};
    assert_int_equal(br_repo_fsck(f->repo, &sink, &rep, &err), 0);
    assert_int_equal(sink.errors, 0);
    /* Flip the stored bytes: the checksum check must notice. */
    char path[4200];
    br_asset_path(f->repo, a->bs[0].sha256, path, sizeof path);
    FILE *fp = fopen(path, "w");
    fputs("tampered content\n", fp);
    fclose(fp);
    assert_int_equal(br_repo_fsck(f->repo, &sink, &rep, &err), 0);
    assert_int_equal(rep.bad_checksums, 1);
    /* A file nobody names is an orphan; a missing one is missing. */
    char orphan[4300];
    snprintf(orphan, sizeof orphan, "%s/assetstore/ab", f->repo_dir);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && echo x > %s/abcd0000", orphan, orphan);
    assert_int_equal(system(cmd), 0);
    unlink(path);
    assert_int_equal(br_repo_fsck(f->repo, &sink, &rep, &err), 0);
    assert_int_equal(rep.orphan_files, 1);
    assert_int_equal(rep.missing_files, 1);
    br_record_free(a);
}

static void keep_message(void *ctx, const br_diag *d)
{
    if (strstr(d->message, "integrity check stopped")) *(int *)ctx = 1;
}

/* A page the integrity check cannot read stops it: fsck says so and reports
 * the database as damaged (the rows it gave before stopping aside). */
static void test_fsck_reports_a_stopped_integrity_check(void **state)
{
    TU_SQLITE_ONLY("PostgreSQL checks its own pages; fsck has no integrity query to run there");
    fixture *f = *state;
    br_repo_free(f->repo);
    f->repo = NULL;
    char db[4200];
    snprintf(db, sizeof db, "%s/bulkrepo.db", f->repo_dir);
    sqlite3 *c;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(db, &c), SQLITE_OK);
    assert_int_equal(sqlite3_exec(c, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), 0);
    assert_int_equal(sqlite3_prepare_v2(c,
                                        "SELECT rootpage, (SELECT page_size FROM pragma_page_size) "
                                        "FROM sqlite_master WHERE name = 'link'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long root = sqlite3_column_int(st, 0), size = sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(c);
    FILE *fp = fopen(db, "r+b");
    assert_non_null(fp);
    unsigned char junk[64];
    memset(junk, 0xff, sizeof junk);
    assert_int_equal(fseek(fp, (root - 1) * size, SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, sizeof junk, fp), sizeof junk);
    fclose(fp);
    br_error err;
    assert_int_equal(br_repo_open(f->repo_dir, &f->repo, &err), 0);
    int stopped = 0;
    br_diag_sink sink = {keep_message, &stopped, 0, 0, 0};
    br_fsck_report rep;
    br_repo_fsck(f->repo, &sink, &rep, &err);
    assert_false(rep.db_ok);
    assert_true(stopped);
}

static void test_asset_cap(void **state)
{
    fixture *f = *state;
    br_error err;
    tu_write(f->dir, "big.bin", "0123456789");
    char path[4200];
    snprintf(path, sizeof path, "%s/big.bin", f->dir);
    br_record *r = br_record_new();
    br_bitstream *b = br_record_add_bitstream(r, "big.bin");
    assert_int_equal(br_asset_put_file(f->repo, path, 5, r, b, &err), BR_ELIMIT);
    assert_contains(err.message, "more than the 5");
    br_record_free(r);
}

static int collect_record(void *ctx, const br_job_record *r)
{
    int *n = ctx;
    (*n)++;
    assert_non_null(r->key);
    return 0;
}

static void test_job_counters_from_journal(void **state)
{
    fixture *f = *state;
    br_error err;
    br_job j = {0};
    snprintf(j.type, sizeof j.type, "import-saf");
    snprintf(j.params, sizeof j.params, "{\"mapfile\":\"/x/map\"}");
    assert_int_equal(br_job_create(f->repo, &j, &err), 0);
    br_job_record recs[] = {{0, "a", BR_OUTCOME_IMPORTED, 0, "4321/9", NULL, 2, 100, NULL, 0},
                            {1, "b", BR_OUTCOME_INVALID, 0, NULL, "bad", 0, 0, NULL, 0},
                            {2, "c", BR_OUTCOME_IMPORTED, 0, "4321/10", NULL, 1, 10, NULL, 0}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(br_job_journal(f->repo, j.id, &recs[i], &err), 0);
    /* A later line for the same key replaces the earlier (a retried record). */
    br_job_record again = {1, "b", BR_OUTCOME_IMPORTED, 0, "4321/11", NULL, 1, 5, NULL, 0};
    assert_int_equal(br_job_journal(f->repo, j.id, &again, &err), 0);
    assert_int_equal(br_job_set_status(f->repo, j.id, BR_JOB_COMPLETED_SUCCESS, NULL, &err), 0);
    br_job got;
    assert_int_equal(br_job_get(f->repo, j.id, &got, &err), 0);
    assert_int_equal(got.counters.processed, 3);
    assert_int_equal(got.counters.imported, 3);
    assert_int_equal(got.counters.invalid, 0);
    assert_int_equal(got.counters.bitstreams, 4);
    assert_int_equal(got.counters.bytes, 115);
    assert_int_equal(got.status, BR_JOB_COMPLETED_SUCCESS);
    assert_true(got.ended[0] != 0);
    int n = 0;
    assert_int_equal(br_job_records(f->repo, j.id, NULL, collect_record, &n, &err), 0);
    assert_int_equal(n, 3);
    int64_t found = 0;
    assert_int_equal(br_job_find_by_mapfile(f->repo, "import-saf", "/x/map", &found, &err), 0);
    assert_int_equal(found, j.id);
    assert_int_equal(br_job_find_by_mapfile(f->repo, "import-saf", "/y/map", &found, &err),
                     BR_ENOTFOUND);
    char *json = NULL;
    assert_int_equal(br_job_to_json(f->repo, j.id, 1, &json, &err), 0);
    assert_contains(json, "\"label\": \"Completed Successfully\"");
    assert_contains(json, "\"imported\": 3");
    free(json);
    assert_string_equal(br_job_status_label(BR_JOB_COMPLETED_NO_BULKS), "Completed with No Bulks");
    br_job_status s;
    assert_int_equal(br_job_status_parse("MANUAL_HANDLING_REQUIRED", &s), 0);
    assert_int_equal(s, BR_JOB_MANUAL_HANDLING_REQUIRED);
    /* Ended: the three completions, failed, aborted; an operator's wait is not. */
    static const br_job_status ended[] = {BR_JOB_COMPLETED_SUCCESS, BR_JOB_COMPLETED_WITH_ERRORS,
                                          BR_JOB_COMPLETED_NO_BULKS, BR_JOB_FAILED,
                                          BR_JOB_USER_ABORTED};
    for (int i = 0; i < BR_JOB_STATUS_COUNT; i++) {
        int want = 0;
        for (size_t k = 0; k < sizeof ended / sizeof ended[0]; k++)
            want |= ended[k] == (br_job_status)i;
        assert_int_equal(br_job_status_ended((br_job_status)i), want);
    }
}

static void test_template(void **state)
{
    fixture *f = *state;
    br_error err;
    br_record *t = br_record_new();
    br_record_add_md(t, "dc", "publisher", NULL, NULL, "Example University");
    assert_int_equal(br_collection_set_template(f->repo, f->coll, t, &err), 0);
    br_record *r = br_record_new();
    assert_int_equal(br_collection_apply_template(f->repo, f->coll, r, &err), 0);
    assert_string_equal(br_record_first(r, "dc.publisher"), "Example University");
    /* The template is no item of the collection. */
    assert_int_equal(br_item_count(f->repo), 0);
    br_record_free(t);
    br_record_free(r);
}

static long long file_size(const char *dir, const char *name)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) ? -1 : (long long)st.st_size;
}

/* Batches of items keep SQLite's WAL checkpointed as they go: the database file
 * grows and the WAL stays small while the connection is open (every insert
 * leaves a collection lookup on its row, which used to block each automatic
 * checkpoint until the connection closed: the WAL grew with the batch). */
static void test_batches_checkpoint_the_wal(void **state)
{
    TU_SQLITE_ONLY("the write-ahead log is SQLite's");
    fixture *f = *state;
    br_error err;
    long long db0 = file_size(f->repo_dir, "bulkrepo.db");
    char text[2048];
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = 0;
    br_record *r = br_record_new();
    for (int batch = 0; batch < 20; batch++) {
        assert_int_equal(br_repo_begin(f->repo, &err), 0);
        for (int i = 0; i < 200; i++) {
            br_record_reset(r);
            br_record_add_md(r, "dc", "title", NULL, NULL, "A title");
            br_record_add_md(r, "dc", "description", "abstract", NULL, text);
            br_record_add_collection(r, f->coll);
            if (br_item_insert(f->repo, r, NULL, &err)) fail_msg("insert: %s", err.message);
        }
        assert_int_equal(br_repo_commit(f->repo, &err), 0);
    }
    br_record_free(r);
    /* ~8 MB of values written: past the 1000-page automatic checkpoint.  The search index
     * writes as much again (its copy of the text and its terms), so a batch adds ~1 MB to
     * the WAL after the 4 MB a checkpoint waits for; unchecked it would pass 16 MB. */
    long long db = file_size(f->repo_dir, "bulkrepo.db"),
              wal = file_size(f->repo_dir, "bulkrepo.db-wal");
    if (db < db0 + 4000000)
        fail_msg("database file %lld bytes (was %lld): nothing checkpointed", db, db0);
    if (wal > 8000000) fail_msg("the WAL grew to %lld bytes", wal);
}

/* A bulk writer on one connection holds SQLite's write lock almost all the time
 * (a transaction, a commit, the next transaction at once).  With a shared write
 * gate, short writes on another connection still get their turn after at most
 * one batch: each must succeed well inside SQLite's 10 s busy timeout. */
typedef struct bulk_ctx {
    const char *dir;
    br_write_gate *gate;
    volatile int stop;
    int batches;
} bulk_ctx;

static void *bulk_writer(void *arg)
{
    bulk_ctx *b = arg;
    br_repo *r;
    br_error err;
    if (br_repo_open(b->dir, &r, &err)) return NULL;
    br_repo_set_write_gate(r, b->gate);
    while (!b->stop) {
        char name[64];
        if (br_repo_begin(r, &err)) break;
        snprintf(name, sizeof name, "bulk-%d", b->batches);
        br_group_add(r, name, &err);
        usleep(50 * 1000); /* a batch's work, holding the write lock */
        if (br_repo_commit(r, &err)) break;
        b->batches++;
    }
    br_repo_free(r);
    return NULL;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_write_gate_lets_short_writes_through(void **state)
{
    fixture *f = *state;
    br_write_gate *gate = br_write_gate_new();
    assert_non_null(gate);
    br_write_gate_free(NULL);
    br_repo_set_write_gate(f->repo, gate);
    bulk_ctx b = {f->repo_dir, gate, 0, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, bulk_writer, &b), 0);
    while (b.batches < 2)
        usleep(1000);
    double worst = 0;
    for (int i = 0; i < 10; i++) {
        char name[64];
        snprintf(name, sizeof name, "short-%d", i);
        br_error err;
        double t0 = now_s();
        int rc = br_group_add(f->repo, name, &err);
        double dt = now_s() - t0;
        if (rc) fail_msg("short write %d failed after %.2f s: %s", i, dt, err.message);
        if (dt > worst) worst = dt;
    }
    int before = b.batches;
    usleep(200 * 1000);
    b.stop = 1;
    pthread_join(t, NULL);
    /* The bulk writer kept going meanwhile, and no short write waited for long
     * (a whole busy timeout is 10 s; one batch here is 50 ms). */
    assert_true(b.batches > before);
    if (worst > 5.0) fail_msg("a short write waited %.2f s", worst);
    assert_true(br_group_exists(f->repo, "short-9"));
    br_repo_set_write_gate(f->repo, NULL);
    br_write_gate_free(gate);
}

/* ---- the error contract (error.h): a failure is never "absent" --------------------------- */

/* Runs sql on the repository's database from a second connection (as another
 * process damaging it would), with foreign keys off so tables can go. */
static void exec_raw(fixture *f, const char *sql)
{
    char db[4200];
    snprintf(db, sizeof db, "%s/bulkrepo.db", f->repo_dir);
    sqlite3 *c;
    assert_int_equal(sqlite3_open(db, &c), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(c, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
    sqlite3_close(c);
}

typedef struct stored {
    int64_t id;
    char handle[64], uuid[40];
} stored;

static void store_one(fixture *f, stored *out)
{
    br_error err;
    br_record *r = sample(f, "Lookups");
    assert_br_ok(br_repo_begin(f->repo, &err), &err);
    assert_br_ok(br_item_insert(f->repo, r, NULL, &err), &err);
    assert_br_ok(br_repo_commit(f->repo, &err), &err);
    out->id = r->id;
    snprintf(out->handle, sizeof out->handle, "%s", r->handle);
    snprintf(out->uuid, sizeof out->uuid, "%s", r->uuid);
    br_record_free(r);
    assert_br_ok(br_user_add(f->repo, "ann", "a-long-password", BR_ROLE_GSA, &err), &err);
}

/* Every lookup, with err == NULL, answers BR_ESTORE on a failing database:
 * neither "not found" nor "no" (the callers that take anything but success
 * as absent would import a record twice, or report a group missing). */
static void expect_lookups_fail(br_repo *repo, const stored *s, const char *coll)
{
    int64_t id = 0;
    br_container c;
    br_user u;
    br_identity who;
    size_t n = 0;
    br_record *rec = br_record_new();
    assert_non_null(rec);
    assert_int_equal(br_item_find(repo, s->handle, &id, NULL), BR_ESTORE);
    assert_int_equal(br_item_find(repo, s->uuid, &id, NULL), BR_ESTORE);
    assert_int_equal(br_item_find_by_identifier(repo, "doi", "10.1/x", &id, NULL), BR_ESTORE);
    assert_int_equal(br_item_find_by_value(repo, "dc", "title", NULL, "Lookups", &id, 1, &n, NULL),
                     BR_ESTORE);
    assert_int_equal(br_item_load(repo, s->id, rec, NULL), BR_ESTORE);
    assert_int_equal(br_item_count(repo), BR_ESTORE);
    assert_int_equal(br_container_get(repo, coll, &c, NULL), BR_ESTORE);
    assert_int_equal(br_collection_resolve(repo, coll, &id, NULL), BR_ESTORE);
    assert_int_equal(br_handle_exists(repo, s->handle), BR_ESTORE);
    assert_int_equal(br_handle_exists(repo, "4321/999"), BR_ESTORE);
    assert_int_equal(br_group_exists(repo, "Anonymous"), BR_ESTORE);
    assert_int_equal(br_group_exists(repo, "nobody"), BR_ESTORE);
    assert_int_equal(br_user_get(repo, "ann", &u, NULL), BR_ESTORE);
    assert_int_equal(br_auth_check(repo, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &who, NULL),
                     BR_ESTORE);
    /* With an err, the same code, and err says so. */
    br_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(br_item_find(repo, s->handle, &id, &err), BR_ESTORE);
    assert_int_equal(err.code, BR_ESTORE);
    assert_contains(err.message, "database");
    /* A handle is not allocated from a database that cannot say which are taken. */
    char h[64];
    assert_br_ok(br_repo_begin(repo, &err), &err);
    assert_int_equal(br_handle_next(repo, h, sizeof h, NULL), BR_ESTORE);
    br_repo_rollback(repo);
    br_record_free(rec);
}

static const char BREAK_TABLES[] =
    "PRAGMA foreign_keys=OFF; DROP TABLE identifier; DROP TABLE metadata_value; DROP TABLE item; "
    "DROP TABLE container; DROP TABLE epersongroup; DROP TABLE session; DROP TABLE api_token; "
    "DROP TABLE account;";

static void test_lookups_tell_failure_from_absent(void **state)
{
    TU_SQLITE_ONLY("the test breaks the database file with sqlite3");
    fixture *f = *state;
    stored s;
    store_one(f, &s);
    /* First the three answers on a sound database, each lookup's statement
     * prepared on the way. */
    int64_t id = 0;
    br_container c;
    br_user u;
    size_t n = 0;
    br_record *rec = br_record_new();
    assert_int_equal(br_item_find(f->repo, s.handle, &id, NULL), 0);
    assert_int_equal(id, s.id);
    assert_int_equal(br_item_find(f->repo, "4321/999", &id, NULL), BR_ENOTFOUND);
    assert_int_equal(br_item_find(f->repo, s.uuid, &id, NULL), 0);
    assert_int_equal(br_item_find_by_identifier(f->repo, "doi", "10.1/none", &id, NULL),
                     BR_ENOTFOUND);
    assert_int_equal(
        br_item_find_by_value(f->repo, "dc", "title", NULL, "Lookups", &id, 1, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(br_item_load(f->repo, s.id, rec, NULL), 0);
    assert_int_equal(br_item_load(f->repo, s.id + 100, rec, NULL), BR_ENOTFOUND);
    assert_int_equal(br_item_count(f->repo), 1);
    assert_int_equal(br_container_get(f->repo, f->coll, &c, NULL), 0);
    assert_int_equal(br_container_get(f->repo, "4321/999", &c, NULL), BR_ENOTFOUND);
    assert_int_equal(br_collection_resolve(f->repo, "4321/999", &id, NULL), BR_ENOTFOUND);
    assert_int_equal(br_handle_exists(f->repo, s.handle), 1);
    assert_int_equal(br_handle_exists(f->repo, "4321/999"), 0);
    assert_int_equal(br_group_exists(f->repo, "Anonymous"), 1);
    assert_int_equal(br_group_exists(f->repo, "nobody"), 0);
    assert_int_equal(br_user_get(f->repo, "ann", &u, NULL), 0);
    assert_int_equal(br_user_get(f->repo, "bob", &u, NULL), BR_ENOTFOUND);
    br_record_free(rec);

    exec_raw(f, BREAK_TABLES);
    /* The open connection: its prepared statements fail when they run. */
    expect_lookups_fail(f->repo, &s, f->coll);
    /* A new connection: the statements fail to prepare. */
    br_repo *fresh = NULL;
    br_error err;
    assert_br_ok(br_repo_open(f->repo_dir, &fresh, &err), &err);
    expect_lookups_fail(fresh, &s, f->coll);
    br_repo_free(fresh);
}

/* Bad arguments with err == NULL: the usage code, no crash (run under ASan). */
static void test_null_err_and_bad_arguments(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    br_container c;
    br_user u;
    size_t n = 0;
    char out[64];
    assert_int_equal(br_item_find(f->repo, NULL, &id, NULL), BR_EUSAGE);
    assert_int_equal(br_item_find(f->repo, "4321/1", NULL, NULL), BR_EUSAGE);
    assert_int_equal(br_item_find_by_identifier(f->repo, NULL, "x", &id, NULL), BR_EUSAGE);
    assert_int_equal(br_item_find_by_value(f->repo, "dc", "title", NULL, NULL, &id, 1, &n, NULL),
                     BR_EUSAGE);
    assert_int_equal(br_item_load(f->repo, 1, NULL, NULL), BR_EUSAGE);
    assert_int_equal(br_container_get(f->repo, NULL, &c, NULL), BR_EUSAGE);
    assert_int_equal(br_collection_resolve(f->repo, NULL, &id, NULL), BR_EUSAGE);
    assert_int_equal(br_handle_exists(f->repo, NULL), BR_EUSAGE);
    assert_int_equal(br_group_exists(f->repo, NULL), BR_EUSAGE);
    assert_int_equal(br_user_get(f->repo, NULL, &u, NULL), BR_EUSAGE);
    assert_int_equal(br_registry_has(f->repo, NULL, "title", NULL), 0);
    assert_int_equal(br_registry_has_schema(f->repo, NULL), 0);
    assert_int_equal(br_registry_suggest(f->repo, NULL, "x", NULL, out, sizeof out), BR_EUSAGE);
    assert_int_equal(br_collection_set_template(f->repo, f->coll, NULL, NULL), BR_EUSAGE);
    assert_int_equal(br_item_update(f->repo, NULL, NULL, NULL), BR_EUSAGE);
    assert_int_equal(br_repo_fsck(f->repo, NULL, NULL, NULL), BR_EUSAGE);
    /* A community is not a collection, and err may be NULL for that too. */
    br_error err;
    br_container com;
    assert_br_ok(br_container_create(f->repo, 1, "Faculty", NULL, &com, &err), &err);
    assert_int_equal(br_collection_resolve(f->repo, com.handle, &id, NULL), BR_EINVAL);
    /* The code returned is the code err gets. */
    assert_int_equal(br_item_find(f->repo, "4321/999", &id, &err), BR_ENOTFOUND);
    assert_int_equal(err.code, BR_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_twice_and_open_missing, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_containers_and_handles, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_registry, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_item_round_trip, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_many_values_round_trip, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_handle_kept_and_in_use, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_dedup_delete_gc, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_fsck_finds_damage, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_asset_cap, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_write_gate_lets_short_writes_through, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_batches_checkpoint_the_wal, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_fsck_reports_a_stopped_integrity_check, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_job_counters_from_journal, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_template, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_lookups_tell_failure_from_absent, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_null_err_and_bad_arguments, tu_repo_setup,
                                        tu_repo_teardown),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
