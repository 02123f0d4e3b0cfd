/* Sets (issue 10, seed 001 "Running Manual Jobs on Defined Sets"): the library API
 * (set.h), `bulkrepo set` and the REST API's /api/sets, each as its users call it. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "cli_fixture.h"
#include "repo_fixture.h"
#include "serve_fixture.h"
#include "bulkrepo/user.h"

/* ---- the library ------------------------------------------------------------------------- */

typedef struct item_ref {
    char handle[64];
    char uuid[40];
} item_ref;

/* Stores an item with this title in the fixture's collection. */
static item_ref add_item(tu_repo *f, const char *title)
{
    br_error err;
    br_record *r = br_record_new();
    assert_non_null(r);
    br_record_add_collection(r, f->coll);
    br_record_add_md(r, "dc", "title", NULL, NULL, title);
    assert_br_ok(br_repo_begin(f->repo, &err), &err);
    assert_br_ok(br_item_insert(f->repo, r, NULL, &err), &err);
    assert_br_ok(br_repo_commit(f->repo, &err), &err);
    item_ref ref;
    snprintf(ref.handle, sizeof ref.handle, "%s", r->handle);
    snprintf(ref.uuid, sizeof ref.uuid, "%s", r->uuid);
    br_record_free(r);
    return ref;
}

static br_set spec(const char *name, br_set_content content, const char *query)
{
    br_set s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name);
    s.content = content;
    snprintf(s.query, sizeof s.query, "%s", query ? query : "");
    return s;
}

static void create(tu_repo *f, const char *name, br_set_content content)
{
    br_error err;
    br_set s = spec(name, content, NULL);
    assert_br_ok(br_set_create(f->repo, &s, &err), &err);
}

/* The members in order as "member|item_id|handle" lines. */
static int collect(void *ctx, const br_set_member *m)
{
    tu_log *log = ctx;
    tu_log_printf(log, "%lld:%s|%lld|%s\n", (long long)m->seq, m->member, (long long)m->item_id,
                  m->handle ? m->handle : "(null)");
    return 0;
}

static char *members_text(tu_repo *f, const char *name)
{
    tu_log log;
    tu_log_init(&log);
    br_error err;
    assert_br_ok(br_set_members(f->repo, name, collect, &log, &err), &err);
    return log.text; /* owned by the caller */
}

static int64_t count(tu_repo *f, const char *name)
{
    int64_t n = -2;
    br_error err;
    assert_br_ok(br_set_count(f->repo, name, &n, &err), &err);
    return n;
}

static int list_names(void *ctx, const br_set *s)
{
    tu_log_printf(ctx, "%s(%s,%lld) ", s->name, br_set_content_name(s->content),
                  (long long)s->members);
    return 0;
}

static void test_lib_create_get_list_delete(void **state)
{
    tu_repo *f = *state;
    br_error err;
    br_set s = spec("Theses 2024", BR_SET_ASSETS, NULL);
    snprintf(s.note, sizeof s.note, "for the DOI run");
    snprintf(s.creator, sizeof s.creator, "alice");
    assert_br_ok(br_set_create(f->repo, &s, &err), &err);
    assert_true(s.id > 0);
    assert_int_equal(s.members, 0);
    assert_int_equal(strlen(s.created), 20); /* 2026-11-21T12:00:00Z */
    create(f, "Alumni", BR_SET_USERS);
    create(f, "Chemists", BR_SET_RESEARCHERS);

    br_set g;
    assert_br_ok(br_set_get(f->repo, "Theses 2024", &g, &err), &err);
    assert_int_equal(g.id, s.id);
    assert_int_equal(g.content, BR_SET_ASSETS);
    assert_string_equal(g.query, "");
    assert_string_equal(g.note, "for the DOI run");
    assert_string_equal(g.creator, "alice");
    assert_string_equal(g.created, s.created);
    assert_int_equal(g.members, 0);

    tu_log log;
    tu_log_init(&log);
    assert_br_ok(br_set_list(f->repo, list_names, &log, &err), &err);
    assert_string_equal(log.text, "Alumni(users,0) Chemists(researchers,0) Theses 2024(assets,0) ");

    /* Names are unique; the first stays as it was. */
    br_set dup = spec("Theses 2024", BR_SET_USERS, NULL);
    assert_int_equal(br_set_create(f->repo, &dup, &err), BR_EEXISTS);
    assert_contains(err.message, "Theses 2024");
    assert_br_ok(br_set_get(f->repo, "Theses 2024", &g, &err), &err);
    assert_int_equal(g.content, BR_SET_ASSETS);

    /* Unknown content; a query for a set that is not of assets. */
    br_set bad = spec("x", (br_set_content)7, NULL);
    assert_int_equal(br_set_create(f->repo, &bad, &err), BR_EUSAGE);
    bad = spec("x", BR_SET_USERS, "title:x");
    assert_int_equal(br_set_create(f->repo, &bad, &err), BR_EUSAGE);
    assert_contains(err.message, "itemized");
    assert_int_equal(br_set_get(f->repo, "x", &g, &err), BR_ENOTFOUND);
    assert_int_equal(br_set_content_parse("people", NULL), BR_EUSAGE);

    assert_br_ok(br_set_delete(f->repo, "Alumni", &err), &err);
    assert_int_equal(br_set_get(f->repo, "Alumni", &g, &err), BR_ENOTFOUND);
    assert_contains(err.message, "no set named 'Alumni'");
    assert_int_equal(br_set_delete(f->repo, "Alumni", &err), BR_ENOTFOUND);
    tu_log_clear(&log);
    assert_br_ok(br_set_list(f->repo, list_names, &log, &err), &err);
    assert_string_equal(log.text, "Chemists(researchers,0) Theses 2024(assets,0) ");
    tu_log_dispose(&log);
}

/* Name rules: 1-127 bytes of UTF-8, no control characters, no leading/trailing space. */
static void test_lib_names(void **state)
{
    tu_repo *f = *state;
    br_error err;
    char longest[128];
    memset(longest, 'n', 127);
    longest[127] = 0;
    create(f, longest, BR_SET_ASSETS);
    create(f, "Théses / 2024 (draft)", BR_SET_ASSETS); /* UTF-8, '/' and brackets */
    static const char *const bad[] = {"",      " lead",   "trail ",      "tab\there",
                                      "nl\nx", "del\x7f", "c1\xc2\x85x", "bad\xff utf8",
                                      "\xc3("};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        br_set s = spec(bad[i], BR_SET_ASSETS, NULL);
        if (br_set_create(f->repo, &s, &err) != BR_EUSAGE) {
            print_error("name #%zu was accepted\n", i);
            fail();
        }
    }
    br_set s;
    memset(&s, 0, sizeof s);
    memset(s.name, 'n', sizeof s.name); /* 128 bytes, no terminator */
    assert_int_equal(br_set_create(f->repo, &s, &err), BR_EUSAGE);
    s.name[127] = 0; /* 127 'n': exists */
    assert_int_equal(br_set_create(f->repo, &s, &err), BR_EEXISTS);
    s = spec("note", BR_SET_ASSETS, NULL);
    snprintf(s.note, sizeof s.note, "bad \xff");
    assert_int_equal(br_set_create(f->repo, &s, &err), BR_EUSAGE);
    assert_contains(err.message, "note");
}

static void test_lib_add_remove_order(void **state)
{
    tu_repo *f = *state;
    br_error err;
    item_ref a = add_item(f, "Alpha"), b = add_item(f, "Beta"), c = add_item(f, "Gamma");
    create(f, "s", BR_SET_ASSETS);
    /* Handles and UUIDs; a member given twice, and one already in the set, are kept once
     * where they were first. */
    const char *first[] = {c.handle, a.uuid, c.uuid};
    size_t added = 99;
    assert_br_ok(br_set_add(f->repo, "s", first, 3, &added, &err), &err);
    assert_int_equal(added, 2);
    const char *second[] = {b.uuid, a.handle};
    assert_br_ok(br_set_add(f->repo, "s", second, 2, &added, &err), &err);
    assert_int_equal(added, 1);
    assert_int_equal(count(f, "s"), 3);
    char want[1024];
    int64_t ia, ib, ic;
    assert_br_ok(br_item_find(f->repo, a.handle, &ia, &err), &err);
    assert_br_ok(br_item_find(f->repo, b.handle, &ib, &err), &err);
    assert_br_ok(br_item_find(f->repo, c.handle, &ic, &err), &err);
    snprintf(want, sizeof want, "0:%s|%lld|%s\n1:%s|%lld|%s\n2:%s|%lld|%s\n", c.uuid, (long long)ic,
             c.handle, a.uuid, (long long)ia, a.handle, b.uuid, (long long)ib, b.handle);
    char *got = members_text(f, "s");
    assert_string_equal(got, want);
    free(got);

    /* Removed by handle or UUID; a member not in the set is ignored. */
    const char *out[] = {c.handle, b.uuid, "4321/999"};
    size_t removed = 99;
    assert_br_ok(br_set_remove(f->repo, "s", out, 3, &removed, &err), &err);
    assert_int_equal(removed, 2);
    got = members_text(f, "s");
    snprintf(want, sizeof want, "0:%s|%lld|%s\n", a.uuid, (long long)ia, a.handle);
    assert_string_equal(got, want);
    free(got);
    /* Added again, it goes to the end. */
    assert_br_ok(br_set_add(f->repo, "s", (const char *[]){c.uuid}, 1, &added, &err), &err);
    got = members_text(f, "s");
    assert_contains(got, "1:");
    assert_contains(strstr(got, "1:"), c.uuid);
    free(got);

    /* An unknown set. */
    assert_int_equal(br_set_add(f->repo, "nope", first, 1, NULL, &err), BR_ENOTFOUND);
    assert_int_equal(br_set_remove(f->repo, "nope", first, 1, NULL, &err), BR_ENOTFOUND);
    assert_int_equal(br_set_count(f->repo, "nope", &ia, &err), BR_ENOTFOUND);
    assert_int_equal(br_set_members(f->repo, "nope", collect, NULL, &err), BR_ENOTFOUND);
}

/* One call adds all its members or none; every unknown member is counted. */
static void test_lib_add_unknown_all_or_nothing(void **state)
{
    tu_repo *f = *state;
    br_error err;
    item_ref a = add_item(f, "Alpha"), b = add_item(f, "Beta");
    create(f, "s", BR_SET_ASSETS);
    const char *m[] = {a.handle, "4321/404", b.uuid, "no-such-uuid", "", "4321/1"};
    size_t added = 99;
    assert_int_equal(br_set_add(f->repo, "s", m, 6, &added, &err), BR_EINVAL);
    assert_int_equal(added, 0);
    assert_int_equal(err.place.line, 2); /* the first unknown's position */
    assert_contains(err.message, "'4321/404'");
    assert_contains(err.message, "and 3 more unknown"); /* "", a UUID and a collection */
    assert_contains(err.message, "nothing was added");
    assert_int_equal(count(f, "s"), 0);
    /* The repository's connection is usable after the rollback. */
    assert_br_ok(br_set_add(f->repo, "s", m, 1, &added, &err), &err);
    assert_int_equal(added, 1);
    /* One unknown: no "more". */
    assert_int_equal(br_set_add(f->repo, "s", (const char *[]){b.handle, "4321/77"}, 2, NULL, &err),
                     BR_EINVAL);
    assert_not_contains(err.message, "more unknown");
    assert_int_equal(count(f, "s"), 1);
    /* The check callers use to list them. */
    assert_int_equal(br_set_member_check(f->repo, BR_SET_ASSETS, "4321/77", &err), BR_ENOTFOUND);
    assert_br_ok(br_set_member_check(f->repo, BR_SET_ASSETS, a.uuid, &err), &err);
    assert_int_equal(br_set_member_check(f->repo, BR_SET_ASSETS, "", &err), BR_EINVAL);
}

static void test_lib_add_file(void **state)
{
    tu_repo *f = *state;
    br_error err;
    item_ref a = add_item(f, "Alpha"), b = add_item(f, "Beta"), c = add_item(f, "Gamma");
    create(f, "s", BR_SET_ASSETS);
    char text[1024];
    snprintf(text, sizeof text,
             "# assets for the DOI run\n\n  %s  \r\n%s\n   # indented comment\n%s\n%s\n\t\n%s",
             a.handle, b.uuid, a.uuid, c.handle, b.handle); /* no final newline */
    tu_write(f->dir, "ids.txt", text);
    size_t added = 0;
    assert_br_ok(br_set_add_file(f->repo, "s", tu_path(f->dir, "ids.txt"), &added, &err), &err);
    assert_int_equal(added, 3);
    char *got = members_text(f, "s");
    assert_true(strstr(got, a.uuid) < strstr(got, b.uuid));
    assert_true(strstr(got, b.uuid) < strstr(got, c.uuid));
    free(got);

    /* A bad line is named with its file and line; nothing is added. */
    create(f, "t", BR_SET_ASSETS);
    snprintf(text, sizeof text, "%s\n# c\n\n4321/404\n%s\n4321/405\n", a.handle, b.handle);
    tu_write(f->dir, "bad.txt", text);
    const char *bad = tu_path(f->dir, "bad.txt");
    char badpath[4200];
    snprintf(badpath, sizeof badpath, "%s", bad);
    assert_int_equal(br_set_add_file(f->repo, "t", badpath, &added, &err), BR_EINVAL);
    assert_string_equal(err.place.source, badpath);
    assert_int_equal(err.place.line, 4);
    assert_contains(err.message, "'4321/404'");
    assert_contains(err.message, "and 1 more unknown");
    char line[2400];
    br_error_format(&err, line, sizeof line);
    char where[4300];
    snprintf(where, sizeof where, "%s:4: ", badpath);
    assert_contains(line, where);
    assert_int_equal(count(f, "t"), 0);

    /* A line over 1024 bytes, a NUL byte; a missing file. */
    char longline[1100];
    memset(longline, 'x', 1025);
    snprintf(longline + 1025, sizeof longline - 1025, "\n");
    snprintf(text, sizeof text, "%s\n", a.handle);
    tu_write(f->dir, "long.txt", text);
    FILE *fp = fopen(tu_path(f->dir, "long.txt"), "a");
    fputs(longline, fp);
    fclose(fp);
    assert_int_equal(br_set_add_file(f->repo, "t", tu_path(f->dir, "long.txt"), NULL, &err),
                     BR_ELIMIT);
    assert_int_equal(err.place.line, 2);
    assert_contains(err.message, "1024");
    memset(longline, 'x', 1024); /* exactly 1024: read, and unknown */
    longline[1024] = 0;
    tu_write(f->dir, "edge.txt", longline);
    assert_int_equal(br_set_add_file(f->repo, "t", tu_path(f->dir, "edge.txt"), NULL, &err),
                     BR_EINVAL);
    tu_write_bytes(f->dir, "nul.txt",
                   "4321/2\n43\0"
                   "21\n",
                   13);
    assert_int_equal(br_set_add_file(f->repo, "t", tu_path(f->dir, "nul.txt"), NULL, &err),
                     BR_EINVAL);
    assert_int_equal(err.place.line, 2);
    assert_int_equal(br_set_add_file(f->repo, "t", tu_path(f->dir, "none.txt"), NULL, &err),
                     BR_ENOTFOUND);
    assert_contains(err.place.source, "none.txt");
    assert_int_equal(count(f, "t"), 0);
}

/* A member whose item was deleted stays listed, with item_id 0 and no handle. */
static void test_lib_member_deleted(void **state)
{
    tu_repo *f = *state;
    br_error err;
    item_ref a = add_item(f, "Alpha"), b = add_item(f, "Beta");
    create(f, "s", BR_SET_ASSETS);
    assert_br_ok(br_set_add(f->repo, "s", (const char *[]){a.handle, b.handle}, 2, NULL, &err),
                 &err);
    int64_t id;
    assert_br_ok(br_item_find(f->repo, a.handle, &id, &err), &err);
    assert_br_ok(br_item_delete(f->repo, id, &err), &err);
    char *got = members_text(f, "s");
    char want[256];
    snprintf(want, sizeof want, "0:%s|0|(null)\n", a.uuid);
    assert_true(!strncmp(got, want, strlen(want)));
    assert_contains(got, b.handle);
    free(got);
    assert_int_equal(count(f, "s"), 2);
    /* Its handle no longer names it; its UUID removes it. */
    size_t removed = 9;
    assert_br_ok(br_set_remove(f->repo, "s", (const char *[]){a.handle}, 1, &removed, &err), &err);
    assert_int_equal(removed, 0);
    assert_br_ok(br_set_remove(f->repo, "s", (const char *[]){a.uuid}, 1, &removed, &err), &err);
    assert_int_equal(removed, 1);
    /* A deleted item cannot be added by hand. */
    assert_int_equal(br_set_add(f->repo, "s", (const char *[]){a.uuid}, 1, NULL, &err), BR_EINVAL);
    /* Deleting the set leaves the items. */
    assert_br_ok(br_set_delete(f->repo, "s", &err), &err);
    assert_br_ok(br_item_find(f->repo, b.handle, &id, &err), &err);
}

static void test_lib_users_researchers(void **state)
{
    tu_repo *f = *state;
    br_error err;
    assert_br_ok(br_user_add(f->repo, "alice", "a-long-password", BR_ROLE_GSA, &err), &err);
    assert_br_ok(br_user_add(f->repo, "bob", "a-long-password", BR_ROLE_GSA, &err), &err);
    create(f, "u", BR_SET_USERS);
    size_t added = 0;
    assert_br_ok(br_set_add(f->repo, "u", (const char *[]){"bob", "alice", "bob"}, 3, &added, &err),
                 &err);
    assert_int_equal(added, 2);
    char *got = members_text(f, "u");
    assert_string_equal(got, "0:bob|0|(null)\n1:alice|0|(null)\n");
    free(got);
    assert_int_equal(br_set_add(f->repo, "u", (const char *[]){"carol"}, 1, NULL, &err), BR_EINVAL);
    assert_contains(err.message, "no user");
    /* A user name is not an item: the asset rules do not apply. */
    item_ref a = add_item(f, "Alpha");
    assert_int_equal(br_set_add(f->repo, "u", (const char *[]){a.handle}, 1, NULL, &err),
                     BR_EINVAL);

    create(f, "r", BR_SET_RESEARCHERS);
    /* Researchers of the researcher table, by researcher id (researcher.h). */
    static const char *const ids[] = {"R-16", "R-17"};
    for (size_t i = 0; i < 2; i++) {
        br_researcher *res = br_researcher_new();
        assert_non_null(res);
        snprintf(res->id, sizeof res->id, "%s", ids[i]);
        snprintf(res->family, sizeof res->family, "Family");
        assert_br_ok(br_researcher_add(f->repo, res, &err), &err);
        br_researcher_free(res);
    }
    assert_br_ok(br_set_add(f->repo, "r", (const char *[]){"R-16", "R-17"}, 2, &added, &err), &err);
    assert_int_equal(added, 2);
    assert_int_equal(br_set_add(f->repo, "r", (const char *[]){"R-99"}, 1, NULL, &err), BR_EINVAL);
    assert_contains(err.message, "no researcher");
    static const char *const bad[] = {"has space", "tab\tx", "ctl\x01", "", "bad\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(br_set_add(f->repo, "r", &bad[i], 1, NULL, &err), BR_EINVAL);
    assert_int_equal(count(f, "r"), 2);
}

/* Caps: 1024 bytes a member, 10,000,000 members a call (a file is streamed). */
static void test_lib_caps(void **state)
{
    tu_repo *f = *state;
    br_error err;
    create(f, "r", BR_SET_RESEARCHERS);
    const char *one[] = {"R1"};
    assert_int_equal(br_set_add(f->repo, "r", one, (size_t)BR_SET_MEMBERS_MAX + 1, NULL, &err),
                     BR_ELIMIT);
    char big[1100];
    memset(big, 'r', 1025);
    big[1025] = 0;
    const char *m[] = {big};
    assert_int_equal(br_set_add(f->repo, "r", m, 1, NULL, &err), BR_EINVAL);
    assert_contains(err.message, "1025 bytes");
    /* At the cap the member is looked up (no researcher has such an id). */
    big[1024] = 0;
    assert_int_equal(br_set_add(f->repo, "r", m, 1, NULL, &err), BR_EINVAL);
    assert_contains(err.message, "no researcher");
    /* 10,000,001 members in a file (the first refused, so nothing is written): the cap
     * stops the call at its line. */
    const char *path = tu_path(f->dir, "many.txt");
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("bad id\n", fp);
    for (long i = 0; i < BR_SET_MEMBERS_MAX; i++) /* refused by their form: no lookups */
        fputs("x x\n", fp);
    fclose(fp);
    char p[4200];
    snprintf(p, sizeof p, "%s", path);
    assert_int_equal(br_set_add_file(f->repo, "r", p, NULL, &err), BR_ELIMIT);
    assert_int_equal(err.place.line, BR_SET_MEMBERS_MAX + 1);
    assert_contains(err.message, "10000000");
    assert_int_equal(count(f, "r"), 0);
    unlink(p);
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int count_cb(void *ctx, const br_set_member *m)
{
    int64_t *n = ctx;
    if (m->seq != *n) return 1; /* out of order: the count comes out short */
    (*n)++;
    return 0;
}

/* A million members go in from a file and out again in flat memory. */
static void test_lib_million_flat(void **state)
{
    tu_repo *f = *state;
    br_error err;
    create(f, "big", BR_SET_RESEARCHERS);
    const char *path = tu_path(f->dir, "million.txt");
    char p[4200];
    snprintf(p, sizeof p, "%s", path);
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    for (long i = 0; i < 1000000; i++)
        fprintf(fp, "researcher-%07ld\n", i);
    fclose(fp);
    /* The researchers they name, written straight into the table (a million adds through
     * the library would take the test's time). */
    tu_db_exec(f->repo_dir,
               "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < 999999) "
               "INSERT INTO researcher(rid, family, created, modified) "
               "SELECT 'researcher-' || substr('000000' || i, length('000000' || i) - 6), 'R', "
               "'', '' FROM c");
    long before = max_rss_kb();
    size_t added = 0;
    assert_br_ok(br_set_add_file(f->repo, "big", p, &added, &err), &err);
    assert_int_equal(added, 1000000);
    int64_t n = 0;
    assert_br_ok(br_set_members(f->repo, "big", count_cb, &n, &err), &err);
    assert_int_equal(n, 1000000);
    long grown = max_rss_kb() - before;
    /* SQLite's page cache is 16 MB; the members themselves (40 MB as text) are never held.
     * AddressSanitizer keeps freed memory in quarantine (256 MB): measured without it. */
#ifdef __SANITIZE_ADDRESS__
    grown = 0;
#endif
    if (grown > 32 * 1024) {
        print_error("peak memory grew by %ld KB\n", grown);
        fail();
    }
    assert_int_equal(count(f, "big"), 1000000);
    assert_br_ok(br_set_delete(f->repo, "big", &err), &err);
    unlink(p);
}

/* A logical set: a saved query, checked when it is made and evaluated when it is read. */
static void test_lib_logical(void **state)
{
    tu_repo *f = *state;
    br_error err;
    item_ref a = add_item(f, "Glacier melt"), b = add_item(f, "Desert winds");
    br_set s = spec("ice", BR_SET_ASSETS, "title:\"glacier");
    assert_int_equal(br_set_create(f->repo, &s, &err), BR_EUSAGE);
    assert_true(err.place.column > 0);
    s = spec("ice", BR_SET_ASSETS, "title:glacier");
    assert_br_ok(br_set_create(f->repo, &s, &err), &err);
    assert_int_equal(s.members, -1);
    br_set g;
    assert_br_ok(br_set_get(f->repo, "ice", &g, &err), &err);
    assert_string_equal(g.query, "title:glacier");
    assert_int_equal(g.members, -1);
    assert_int_equal(count(f, "ice"), 1);
    char *got = members_text(f, "ice");
    assert_contains(got, a.uuid);
    assert_contains(got, a.handle);
    free(got);
    item_ref c = add_item(f, "Glacier retreat");
    assert_int_equal(count(f, "ice"), 2);
    got = members_text(f, "ice");
    assert_true(strstr(got, a.handle) < strstr(got, c.handle)); /* by handle */
    free(got);
    /* Its members are the query's: none are added or removed by hand. */
    assert_int_equal(br_set_add(f->repo, "ice", (const char *[]){b.handle}, 1, NULL, &err),
                     BR_EUSAGE);
    assert_contains(err.message, "logical");
    assert_int_equal(br_set_remove(f->repo, "ice", (const char *[]){a.handle}, 1, NULL, &err),
                     BR_EUSAGE);
    assert_int_equal(count(f, "ice"), 2);
}

/* ---- the command line ------------------------------------------------------------------ */

/* A SAF package p/NAME... with one item per title. */
static void saf(fx *f, const char *dir, const char *const *names, const char *const *titles,
                size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char folder[256];
        snprintf(folder, sizeof folder, "%s/%s", dir, names[i]);
        fx_dc(f, folder, titles[i]);
    }
}

static long long last_job_id(fx *f)
{
    json_t *a = fx_json(f, "job list --json");
    long long id = (long long)json_integer_value(json_object_get(json_array_get(a, 0), "id"));
    json_decref(a);
    return id;
}

/* `set members NAME` as text. */
static char *members_cli(fx *f, const char *name)
{
    RUN(f, 0, "set members '%s'", name);
    return strdup(f->out);
}

/* A set made from each outcome of real jobs (imports, a skip-invalid import with a rejected
 * record, a replace, a delete), through the library and `set create --from-job`. */
static void test_cli_from_job_outcomes(void **state)
{
    fx *f = *state;
    const char *names[] = {"a", "b", "c"}, *titles[] = {"Alpha", "Beta", "Gamma"};
    saf(f, "p", names, titles, 3);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    long long imp = last_job_id(f);
    char ha[64], hb[64], hc[64];
    snprintf(ha, sizeof ha, "%s", fx_map_handle(f, "map", "a"));
    snprintf(hb, sizeof hb, "%s", fx_map_handle(f, "map", "b"));
    snprintf(hc, sizeof hc, "%s", fx_map_handle(f, "map", "c"));
    /* One valid record and one rejected (an unknown field). */
    fx_dc(f, "q/d", "Delta");
    fx_write(f, "q/e/dublin_core.xml",
             "<dublin_core><dcvalue element=\"titel\">Epsilon</dcvalue></dublin_core>\n");
    RUN(f, 1, "import -a -s q -c %s -m map2 --skip-invalid", f->coll);
    long long mixed = last_job_id(f);
    const char *hd = fx_map_handle(f, "map2", "d");
    assert_non_null(hd);
    char hdd[64];
    snprintf(hdd, sizeof hdd, "%s", hd);
    fx_dc(f, "p/a", "Alpha 2");
    RUN(f, 0, "import --replace -s p -c %s -m map", f->coll);
    long long upd = last_job_id(f);

    br_repo *repo;
    br_error err;
    assert_br_ok(br_repo_open(f->repo, &repo, &err), &err);
    br_set s = spec("imp", BR_SET_ASSETS, NULL);
    assert_br_ok(br_set_create(repo, &s, &err), &err);
    size_t added = 0, none = 9;
    assert_br_ok(br_set_add_from_job(repo, "imp", imp, "imported", &added, &none, &err), &err);
    assert_int_equal(added, 3);
    assert_int_equal(none, 0);
    /* Every line (NULL): the valid record's item; the rejected one has none. */
    s = spec("mixed", BR_SET_ASSETS, NULL);
    assert_br_ok(br_set_create(repo, &s, &err), &err);
    assert_br_ok(br_set_add_from_job(repo, "mixed", mixed, NULL, &added, &none, &err), &err);
    assert_int_equal(added, 1);
    assert_int_equal(none, 1);
    s = spec("rej", BR_SET_ASSETS, NULL);
    assert_br_ok(br_set_create(repo, &s, &err), &err);
    assert_br_ok(br_set_add_from_job(repo, "rej", mixed, "rejected", &added, &none, &err), &err);
    assert_int_equal(added, 0);
    assert_int_equal(none, 1);
    assert_br_ok(br_set_add_from_job(repo, "rej", mixed, "imported", &added, &none, &err), &err);
    assert_int_equal(added, 1);
    assert_br_ok(br_set_add_from_job(repo, "rej", upd, "updated", &added, &none, &err), &err);
    assert_int_equal(added, 3);
    /* Again: nothing new. */
    assert_br_ok(br_set_add_from_job(repo, "rej", upd, "updated", &added, &none, &err), &err);
    assert_int_equal(added, 0);
    assert_int_equal(br_set_add_from_job(repo, "rej", upd, "frobbed", &added, &none, &err),
                     BR_EUSAGE);
    assert_int_equal(br_set_add_from_job(repo, "rej", 999, NULL, &added, &none, &err),
                     BR_ENOTFOUND);
    assert_int_equal(br_set_add_from_job(repo, "nope", upd, NULL, &added, &none, &err),
                     BR_ENOTFOUND);
    /* A job's records are assets: not for a set of researchers. */
    s = spec("labs", BR_SET_RESEARCHERS, NULL);
    assert_br_ok(br_set_create(repo, &s, &err), &err);
    assert_int_equal(br_set_add_from_job(repo, "labs", upd, NULL, &added, &none, &err), BR_EUSAGE);
    br_repo_free(repo);

    RUN(f, 0, "set create upd --from-job %lld --outcome updated", upd);
    assert_contains(f->err, "3 members added");
    char *m = members_cli(f, "upd");
    assert_true(strstr(m, ha) && strstr(m, hb) && strstr(m, hc));
    assert_true(strstr(m, ha) < strstr(m, hb));
    free(m);
    RUN(f, 0, "set create rej2 --from-job %lld --outcome rejected", mixed);
    assert_contains(f->err, "0 members added");
    assert_contains(f->err, "1 journal lines named no item");
    RUN(f, 0, "set add rej2 --from-job %lld --outcome imported", mixed);
    m = members_cli(f, "rej2");
    assert_contains(m, hdd);
    free(m);

    RUN(f, 3, "set create x --from-job 999");
    RUN(f, 3, "set show x"); /* not left behind */
    RUN(f, 2, "set create x --from-job %lld --outcome frobbed", upd);
    RUN(f, 3, "set show x");

    /* A delete job: its items are gone (no UUID left) until the trash keeps one. */
    RUN(f, 0, "import -d -m map");
    long long del = last_job_id(f);
    RUN(f, 0, "set create del --from-job %lld --outcome deleted", del);
    assert_contains(f->err, "0 members added");
    assert_contains(f->err, "3 journal lines");
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO trash(uuid, handle, item_id, job_id, deleted, purge_after, record) "
             "VALUES ('0c7b7d1e-0000-4000-8000-000000000001', '%s', 0, %lld, "
             "'2026-01-01T00:00:00Z', 4102444800, '{}')",
             hb, del);
    tu_db_exec(f->repo, sql);
    RUN(f, 0, "set add del --from-job %lld --outcome deleted", del);
    assert_contains(f->err, "1 members added");
    RUN(f, 0, "set members del");
    assert_string_equal(f->out, "-\t0c7b7d1e-0000-4000-8000-000000000001\n");
    /* The job's sets survive the items: members are kept, shown as missing. */
    RUN(f, 0, "set show upd");
    assert_contains(f->out, "members:  3");
    assert_contains(f->out, "missing");
}

static void test_cli_subcommands(void **state)
{
    fx *f = *state;
    const char *names[] = {"a", "b", "c"}, *titles[] = {"Alpha", "Beta", "Gamma"};
    saf(f, "p", names, titles, 3);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    char ha[64], hb[64], hc[64];
    snprintf(ha, sizeof ha, "%s", fx_map_handle(f, "map", "a"));
    snprintf(hb, sizeof hb, "%s", fx_map_handle(f, "map", "b"));
    snprintf(hc, sizeof hc, "%s", fx_map_handle(f, "map", "c"));

    RUN(f, 0, "set list");
    assert_string_equal(f->out, "");
    assert_contains(f->err, "no sets");
    RUN(f, 0, "set list --json");
    assert_string_equal(f->out, "[]\n");

    RUN(f, 0, "set create 'DOI run' --member %s --member %s --note 'first batch'", hb, ha);
    assert_contains(f->err, "set 'DOI run' created");
    RUN(f, 0, "set add 'DOI run' %s %s", hc, hb);
    assert_contains(f->err, "1 members added");
    char want[512];
    json_t *item = fx_show(f, hb);
    char ub[64];
    snprintf(ub, sizeof ub, "%s", fx_str(item, "uuid"));
    json_decref(item);
    RUN(f, 0, "set members 'DOI run'");
    assert_true(!strncmp(f->out, hb, strlen(hb)));
    assert_contains(f->out, ub);
    assert_true(strstr(f->out, hb) < strstr(f->out, ha) && strstr(f->out, ha) < strstr(f->out, hc));

    json_t *j = fx_json(f, "set members 'DOI run' --json");
    assert_int_equal(json_array_size(j), 3);
    assert_string_equal(fx_str(json_array_get(j, 0), "handle"), hb);
    assert_string_equal(fx_str(json_array_get(j, 0), "uuid"), ub);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 2), "seq")), 2);
    json_decref(j);

    RUN(f, 0, "set show 'DOI run'");
    assert_contains(f->out, "name:     DOI run");
    assert_contains(f->out, "type:     assets");
    assert_contains(f->out, "kind:     itemized");
    assert_contains(f->out, "note:     first batch");
    assert_contains(f->out, "members:  3");
    snprintf(want, sizeof want, "  %s\tarchived\tBeta\n", hb);
    assert_contains(f->out, want);
    RUN(f, 0, "set show 'DOI run' --sample 1");
    assert_contains(f->out, "Beta");
    assert_not_contains(f->out, "Alpha");
    j = fx_json(f, "set show 'DOI run' --json --sample 2");
    json_t *set = json_object_get(j, "set");
    assert_string_equal(fx_str(set, "name"), "DOI run");
    assert_string_equal(fx_str(set, "content"), "assets");
    assert_string_equal(fx_str(set, "kind"), "itemized");
    assert_true(json_is_null(json_object_get(set, "query")));
    assert_string_equal(fx_str(set, "note"), "first batch");
    assert_int_equal(json_integer_value(json_object_get(set, "members")), 3);
    json_t *sample = json_object_get(j, "sample");
    assert_int_equal(json_array_size(sample), 2);
    assert_string_equal(fx_str(json_array_get(sample, 0), "title"), "Beta");
    assert_string_equal(fx_str(json_array_get(sample, 0), "status"), "archived");
    assert_string_equal(fx_str(json_array_get(sample, 1), "handle"), ha);
    json_decref(j);

    /* From a file; users and researchers. */
    snprintf(want, sizeof want, "# two\n%s\n\n%s\n", hc, ha);
    fx_write(f, "ids.txt", want);
    RUN(f, 0, "set create filed --from-file ids.txt");
    assert_contains(f->err, "2 members added");
    SH(f, 0,
       "printf '%%s\\n' 'secret-password' | \"$BR\" --repo r user add alice --role "
       "'User Manager' --password-stdin");
    RUN(f, 0, "set create people --type users --member alice");
    RUN(f, 0, "set members people");
    assert_string_equal(f->out, "alice\n");
    RUN(f, 0, "set create labs --type researchers");
    RUN(f, 3, "set add labs R-1");
    assert_contains(f->err, "no researcher");
    RUN(f, 0, "researcher add R-1 --family One");
    RUN(f, 0, "researcher add R-2 --family Two --orcid 0000-0002-1825-0097");
    RUN(f, 0, "set add labs R-1 R-2");
    j = fx_json(f, "set members labs --json");
    assert_string_equal(fx_str(json_array_get(j, 1), "member"), "R-2");
    json_decref(j);
    j = fx_json(f, "set show people --json");
    assert_string_equal(fx_str(json_array_get(json_object_get(j, "sample"), 0), "member"), "alice");
    json_decref(j);

    /* list: text under a header, JSON with counts. */
    RUN(f, 0, "set list");
    assert_contains(f->out, "NAME");
    assert_contains(f->out, "MEMBERS");
    assert_contains(f->out, "DOI run");
    assert_contains(f->out, "researchers");
    j = fx_json(f, "set list --json");
    assert_int_equal(json_array_size(j), 4);
    assert_string_equal(fx_str(json_array_get(j, 0), "name"), "DOI run"); /* by name */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "members")), 3);
    json_decref(j);

    RUN(f, 0, "set remove 'DOI run' %s %s", ha, hc);
    assert_contains(f->err, "2 members removed");
    RUN(f, 0, "set members 'DOI run'");
    assert_true(!strncmp(f->out, hb, strlen(hb)) && !strchr(strchr(f->out, '\n') + 1, '\n'));
    RUN(f, 0, "set delete 'DOI run'");
    assert_contains(f->err, "deleted");
    RUN(f, 3, "set show 'DOI run'");
    /* The items are still there. */
    assert_int_equal(fx_item_count(f), 3);
    ASSERT_FSCK_CLEAN(f);

    /* --help everywhere, in the product's words. */
    RUN(f, 0, "set --help");
    assert_contains(f->out, "usage: bulkrepo set create");
    assert_contains(f->out, "research assets");
    RUN(f, 0, "set create --help");
    assert_contains(f->out, "--from-job");
    RUN(f, 0, "set members x --help");
    RUN(f, 0, "--help");
    assert_contains(f->out, "set ");
    RUN(f, 2, "set");
}

static void test_cli_errors(void **state)
{
    fx *f = *state;
    const char *names[] = {"a"}, *titles[] = {"Alpha"};
    saf(f, "p", names, titles, 1);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    char ha[64];
    snprintf(ha, sizeof ha, "%s", fx_map_handle(f, "map", "a"));
    RUN(f, 0, "set create s");

    /* Unknown members: exit 3, nothing written, the first named. */
    RUN(f, 3, "set add s %s 123456789/404 123456789/405", ha);
    assert_contains(f->err, "123456789/404");
    assert_contains(f->err, "and 1 more unknown");
    RUN(f, 0, "set members s");
    assert_string_equal(f->out, "");
    RUN(f, 3, "set create t --member %s --member 123456789/404", ha);
    RUN(f, 3, "set show t"); /* not made */
    fx_write(f, "bad.txt", "# x\n123456789/2\n\nnot-an-item\n");
    RUN(f, 3, "set add s --from-file bad.txt");
    assert_contains(f->err, "bad.txt:4: ");
    assert_contains(f->err, "not-an-item");
    RUN(f, 0, "set members s");
    assert_string_equal(f->out, "");
    RUN(f, 3, "set add s --from-file missing.txt");
    assert_contains(f->err, "missing.txt");
    RUN(f, 3, "set create u --type users --member nobody");
    assert_contains(f->err, "no user");

    /* Not found (as `item show`, `job show`): exit 3 naming it. */
    RUN(f, 3, "set show nope");
    assert_contains(f->err, "no set named 'nope'");
    RUN(f, 3, "set members nope");
    RUN(f, 3, "set add nope %s", ha);
    RUN(f, 3, "set remove nope %s", ha);
    RUN(f, 3, "set delete nope");
    RUN(f, 3, "set create s");
    assert_contains(f->err, "exists already");

    /* Usage: exit 2. */
    RUN(f, 2, "set create ' lead'");
    RUN(f, 2, "set create bad --type people");
    RUN(f, 2, "set create x --query 'title:a' --member %s", ha);
    RUN(f, 2, "set create x --from-job 0");
    RUN(f, 2, "set create x --outcome imported");
    RUN(f, 2, "set create");
    RUN(f, 2, "set add s");
    RUN(f, 2, "set remove s");
    RUN(f, 2, "set show s --sample -1");
    RUN(f, 2, "set show s --frob");
    RUN(f, 2, "set list extra");
    RUN(f, 2, "set frob");
    RUN(f, 2, "set create x --type");
    RUN(f, 0, "set list --json");
    json_t *j = fx_parse(f, "set list");
    assert_int_equal(json_array_size(j), 1); /* only s */
    json_decref(j);
}

/* A logical set is evaluated each time: it grows with the imports. */
static void test_cli_logical_grows(void **state)
{
    fx *f = *state;
    const char *names[] = {"a", "b"}, *titles[] = {"Glacier one", "Desert"};
    saf(f, "p", names, titles, 2);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    RUN(f, 2, "set create ice --query 'title:\"glacier'");
    assert_contains(f->err, "7"); /* the position of the unclosed quote */
    RUN(f, 3, "set show ice");
    RUN(f, 0, "set create ice --query 'title:glacier' --note 'all glaciers'");
    RUN(f, 0, "set show ice");
    assert_contains(f->out, "kind:     logical");
    assert_contains(f->out, "query:    title:glacier");
    assert_contains(f->out, "members:  1");
    const char *n2[] = {"c", "d"}, *t2[] = {"Glacier two", "Glacier three"};
    saf(f, "q", n2, t2, 2);
    RUN(f, 0, "import -a -s q -c %s -m map2", f->coll);
    json_t *j = fx_json(f, "set show ice --json");
    json_t *set = json_object_get(j, "set");
    assert_string_equal(fx_str(set, "kind"), "logical");
    assert_string_equal(fx_str(set, "query"), "title:glacier");
    assert_int_equal(json_integer_value(json_object_get(set, "members")), 3);
    assert_int_equal(json_array_size(json_object_get(j, "sample")), 3);
    json_decref(j);
    RUN(f, 0, "set members ice");
    assert_int_equal((int)(strchr(f->out, '\n') != NULL), 1);
    j = fx_json(f, "set list --json");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "members")), 3);
    json_decref(j);
    RUN(f, 2, "set add ice %s", fx_map_handle(f, "map", "b"));
    assert_contains(f->err, "logical");
}

/* ---- the REST API ---------------------------------------------------------------------- */

typedef struct api {
    fx f;
    sf_server serve; /* bulkrepo serve */
    char admin[64], manager[64], usermgr[64], reader[64], buyer[64];
    char ha[64], hb[64], hc[64];
} api;

static api *A;

/* The shared client (serve_fixture.h) against this file's server. */
static void http(const char *method, const char *path, const sf_rq *o, sf_resp *out)
{
    sf_http(&A->serve, method, path, o, out);
}

/* method path as `bearer` (with body json), expecting status; returns the JSON (owned). */
static json_t *call(const char *method, const char *path, const char *bearer, const char *json,
                    long want)
{
    sf_rq o = {.bearer = bearer, .json = json};
    sf_resp r;
    http(method, path, &o, &r);
    SF_EXPECT(&r, want);
    json_t *j = json_incref(r.json);
    sf_resp_free(&r);
    assert_non_null(j);
    return j;
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
    const char *names[] = {"a", "b", "c"}, *titles[] = {"Glacier Alpha", "Beta", "Gamma"};
    saf(f, "p", names, titles, 3);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    snprintf(A->ha, sizeof A->ha, "%s", fx_map_handle(f, "map", "a"));
    snprintf(A->hb, sizeof A->hb, "%s", fx_map_handle(f, "map", "b"));
    snprintf(A->hc, sizeof A->hc, "%s", fx_map_handle(f, "map", "c"));
    sf_add_user(&A->f, "admin", "General System Administrator", "a-password-1");
    sf_add_user(&A->f, "manager", "Repository Manager", "a-password-1");
    sf_add_user(&A->f, "usermgr", "User Manager", "a-password-1");
    sf_add_user(&A->f, "reader", "Researcher Manager",
                "a-password-1"); /* reads items; may not change sets */
    sf_add_user(&A->f, "buyer", "Purchasing Operator", "a-password-1");
    sf_token(&A->f, "admin", A->admin);
    sf_token(&A->f, "manager", A->manager);
    sf_token(&A->f, "usermgr", A->usermgr);
    sf_token(&A->f, "reader", A->reader);
    sf_token(&A->f, "buyer", A->buyer);
    static const char *const args[] = {"--workers", "1", NULL};
    sf_start(f, &A->serve, args);
    return 0;
}

static int api_teardown(void **state)
{
    (void)state;
    int bad = sf_stop(&A->serve);
    tu_rmtree(A->f.dir);
    free(A->f.dir);
    fx_reset_output(&A->f);
    free(A);
    curl_global_cleanup();
    return bad;
}

static void test_http_routes(void **state)
{
    (void)state;
    char body[1024];
    /* Create from members (a handle and a UUID), then read it back. */
    json_t *item = fx_show(&A->f, A->hc);
    char uc[64];
    snprintf(uc, sizeof uc, "%s", fx_str(item, "uuid"));
    json_decref(item);
    snprintf(body, sizeof body,
             "{\"name\":\"Run 1/A b\",\"content\":\"assets\",\"note\":\"n\",\"members\":[\"%s\","
             "\"%s\",\"%s\"]}",
             A->hb, uc, A->hb);
    json_t *j = call("POST", "/api/sets", A->manager, body, 201);
    json_t *set = json_object_get(j, "set");
    assert_string_equal(fx_str(set, "name"), "Run 1/A b");
    assert_string_equal(fx_str(set, "content"), "assets");
    assert_string_equal(fx_str(set, "kind"), "itemized");
    assert_true(json_is_null(json_object_get(set, "query")));
    assert_string_equal(fx_str(set, "note"), "n");
    assert_string_equal(fx_str(set, "creator"), "manager");
    assert_non_null(fx_str(set, "created"));
    assert_int_equal(json_integer_value(json_object_get(set, "members")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "added")), 2);
    json_decref(j);

    /* The name in the URL is percent-encoded ('/' too). */
    j = call("GET", "/api/sets/Run%201%2FA%20b", A->reader, NULL, 200);
    assert_string_equal(fx_str(json_object_get(j, "set"), "name"), "Run 1/A b");
    json_t *sample = json_object_get(j, "sample");
    assert_int_equal(json_array_size(sample), 2);
    json_t *s0 = json_array_get(sample, 0);
    assert_string_equal(fx_str(s0, "handle"), A->hb);
    assert_string_equal(fx_str(s0, "status"), "archived");
    assert_string_equal(fx_str(s0, "title"), "Beta");
    assert_non_null(fx_str(s0, "uuid"));
    assert_string_equal(fx_str(json_array_get(sample, 1), "uuid"), uc);
    json_decref(j);

    /* Members: add and remove in one request (added first, all or nothing). */
    snprintf(body, sizeof body, "{\"add\":[\"%s\",\"%s\"],\"remove\":[\"%s\"]}", A->ha, A->hb, uc);
    j = call("POST", "/api/sets/Run%201%2FA%20b/members", A->usermgr, body, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "added")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "removed")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "set"), "members")), 2);
    json_decref(j);
    RUN(&A->f, 0, "set members 'Run 1/A b'");
    assert_true(strstr(A->f.out, A->hb) < strstr(A->f.out, A->ha));
    assert_not_contains(A->f.out, uc);

    /* From a job; users; the list. */
    json_t *jobs = call("GET", "/api/jobs", A->admin, NULL, 200);
    long long job = (long long)json_integer_value(
        json_object_get(json_array_get(json_object_get(jobs, "jobs"), 0), "id"));
    json_decref(jobs);
    snprintf(body, sizeof body,
             "{\"name\":\"imported\",\"from_job\":%lld,\"outcome\":\"imported\"}", job);
    j = call("POST", "/api/sets", A->admin, body, 201);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "set"), "members")), 3);
    assert_int_equal(json_integer_value(json_object_get(j, "without_item")), 0);
    json_decref(j);
    j = call("POST", "/api/sets", A->usermgr,
             "{\"name\":\"staff\",\"content\":\"users\",\"members\":[\"admin\",\"buyer\"]}", 201);
    json_decref(j);
    j = call("GET", "/api/sets/staff", A->usermgr, NULL, 200);
    assert_string_equal(fx_str(json_array_get(json_object_get(j, "sample"), 1), "member"), "buyer");
    json_decref(j);
    j = call("GET", "/api/sets", A->reader, NULL, 200);
    json_t *sets = json_object_get(j, "sets");
    assert_int_equal(json_array_size(sets), 3);
    assert_string_equal(fx_str(json_array_get(sets, 0), "name"), "Run 1/A b");
    assert_string_equal(fx_str(json_array_get(sets, 2), "content"), "users");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(sets, 1), "members")), 3);
    json_decref(j);

    /* Delete. */
    j = call("POST", "/api/sets/imported/delete", A->manager, NULL, 200);
    assert_string_equal(fx_str(j, "deleted"), "imported");
    json_decref(j);
    json_decref(call("GET", "/api/sets/imported", A->admin, NULL, 404));
    json_decref(call("POST", "/api/sets/imported/delete", A->admin, NULL, 404));
    json_decref(call("POST", "/api/sets/Run%201%2FA%20b/delete", A->admin, NULL, 200));
    json_decref(call("POST", "/api/sets/staff/delete", A->admin, NULL, 200));
}

static void test_http_errors(void **state)
{
    (void)state;
    char body[1024];
    json_decref(call("POST", "/api/sets", A->admin, "{\"name\":\"e\"}", 201));
    /* 400 naming the bad field. */
    static const struct {
        const char *json, *names;
    } bad[] = {
        {"{\"content\":\"assets\"}", "name"},
        {"{\"name\":5}", "name"},
        {"{\"name\":\"x\",\"content\":\"people\"}", "content"},
        {"{\"name\":\"x\",\"members\":\"a\"}", "members"},
        {"{\"name\":\"x\",\"members\":[1]}", "members[0]"},
        {"{\"name\":\"x\",\"from_job\":\"1\"}", "from_job"},
        {"{\"name\":\"x\",\"from_job\":0}", "from_job"},
        {"{\"name\":\"x\",\"outcome\":\"imported\"}", "outcome"},
        {"{\"name\":\"x\",\"query\":5}", "query"},
        {"{\"name\":\"x\",\"note\":[]}", "note"},
        {"{\"name\":\"x\",\"frob\":1}", "frob"},
        {"{\"name\":\"x\",\"members\":[],\"query\":\"title:a\"}", "one of"},
        {"{\"name\":\" lead\"}", "space"},
        {"{\"name\":\"\"}", "name"},
        {"[1]", "object"},
        {"{\"name\":", "malformed"},
        {"{\"name\":\"x\",\"from_job\":999}", "no job 999"},
        {"{\"name\":\"x\",\"from_job\":1,\"outcome\":\"frob\"}", "frob"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *j = call("POST", "/api/sets", A->admin, bad[i].json, 400);
        assert_contains(fx_str(j, "error"), bad[i].names);
        json_decref(j);
    }
    json_decref(call("GET", "/api/sets/x", A->admin, NULL, 404)); /* none was left behind */
    /* 409: the name is taken. */
    json_t *j = call("POST", "/api/sets", A->admin, "{\"name\":\"e\",\"content\":\"users\"}", 409);
    assert_contains(fx_str(j, "error"), "exists");
    json_decref(j);
    /* Unknown members: 400 listing each, nothing written (not even the set). */
    snprintf(body, sizeof body,
             "{\"name\":\"u\",\"members\":[\"%s\",\"123456789/404\",\"nope\",\"%s\"]}", A->ha,
             A->hb);
    j = call("POST", "/api/sets", A->admin, body, 400);
    assert_contains(fx_str(j, "error"), "123456789/404");
    assert_contains(fx_str(j, "error"), "1 more unknown");
    json_t *unknown = json_object_get(j, "unknown");
    assert_int_equal(json_array_size(unknown), 2);
    assert_string_equal(fx_str(json_array_get(unknown, 0), "member"), "123456789/404");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(unknown, 1), "position")),
                     3);
    json_decref(j);
    json_decref(call("GET", "/api/sets/u", A->admin, NULL, 404));
    snprintf(body, sizeof body, "{\"add\":[\"%s\",\"nope\"]}", A->ha);
    j = call("POST", "/api/sets/e/members", A->admin, body, 400);
    assert_string_equal(fx_str(json_array_get(json_object_get(j, "unknown"), 0), "member"), "nope");
    json_decref(j);
    j = call("GET", "/api/sets/e", A->admin, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "set"), "members")), 0);
    json_decref(j);
    /* Members: bad bodies, unknown set. */
    json_decref(call("POST", "/api/sets/e/members", A->admin, "{}", 400));
    json_decref(call("POST", "/api/sets/e/members", A->admin, "{\"add\":\"x\"}", 400));
    json_decref(call("POST", "/api/sets/e/members", A->admin, "{\"drop\":[]}", 400));
    json_decref(call("POST", "/api/sets/nope/members", A->admin, "{\"add\":[]}", 404));
    /* Methods and the JSON content type. */
    json_decref(call("POST", "/api/sets/e", A->admin, NULL, 405));
    json_decref(call("GET", "/api/sets/e/delete", A->admin, NULL, 404));
    sf_rq o = {.bearer = A->admin};
    sf_resp r;
    http("POST", "/api/sets", &o, &r);
    SF_EXPECT(&r, 400);
    sf_resp_free(&r);
    json_decref(call("POST", "/api/sets/e/delete", A->admin, NULL, 200));
}

static void test_http_roles_and_csrf(void **state)
{
    (void)state;
    /* 401 without credentials. */
    sf_resp r;
    http("GET", "/api/sets", NULL, &r);
    SF_EXPECT(&r, 401);
    sf_resp_free(&r);
    sf_rq o = {.json = "{\"name\":\"x\"}"};
    http("POST", "/api/sets", &o, &r);
    SF_EXPECT(&r, 401);
    sf_resp_free(&r);
    /* 403: a role that reads nothing; a reader that may not change sets. */
    json_decref(call("GET", "/api/sets", A->buyer, NULL, 403));
    json_decref(call("GET", "/api/sets/x", A->buyer, NULL, 403));
    json_decref(call("POST", "/api/sets", A->buyer, "{\"name\":\"x\"}", 403));
    json_decref(call("POST", "/api/sets", A->reader, "{\"name\":\"x\"}", 403));
    json_decref(call("POST", "/api/sets", A->admin, "{\"name\":\"r\"}", 201));
    json_decref(call("POST", "/api/sets/r/members", A->reader, "{\"add\":[]}", 403));
    json_decref(call("POST", "/api/sets/r/delete", A->reader, NULL, 403));
    json_decref(call("POST", "/api/sets/r/delete", A->buyer, NULL, 403));
    json_decref(call("GET", "/api/sets/r", A->reader, NULL, 200));
    json_decref(call("GET", "/api/sets/r", A->usermgr, NULL, 200));
    RUN(&A->f, 0, "set show r"); /* nothing changed */

    /* CSRF: a cookie session's POST needs X-CSRF-Token. */
    sf_rq login = {.json = "{\"username\":\"manager\",\"password\":\"a-password-1\"}"};
    http("POST", "/api/login", &login, &r);
    SF_EXPECT(&r, 200);
    char cookie[128], csrf[64];
    snprintf(cookie, sizeof cookie, "bulkrepo_session=%s", fx_str(r.json, "token"));
    snprintf(csrf, sizeof csrf, "%s", fx_str(r.json, "csrf"));
    sf_resp_free(&r);
    sf_rq nohdr = {.cookie = cookie, .json = "{\"name\":\"c\"}"};
    http("POST", "/api/sets", &nohdr, &r);
    SF_EXPECT(&r, 403);
    assert_contains(r.body, "CSRF");
    sf_resp_free(&r);
    sf_rq wrong = {.cookie = cookie,
                   .csrf = "0123456789012345678901234567890123456789012",
                   .json = "{\"name\":\"c\"}"};
    http("POST", "/api/sets", &wrong, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    sf_rq del = {.cookie = cookie};
    http("POST", "/api/sets/r/delete", &del, &r);
    SF_EXPECT(&r, 403);
    sf_resp_free(&r);
    json_decref(call("GET", "/api/sets/c", A->admin, NULL, 404));
    sf_rq ok = {.cookie = cookie, .csrf = csrf, .json = "{\"name\":\"c\"}"};
    http("POST", "/api/sets", &ok, &r);
    SF_EXPECT(&r, 201);
    sf_resp_free(&r);
    sf_rq get = {.cookie = cookie};
    http("GET", "/api/sets/c", &get, &r); /* GET needs no token */
    SF_EXPECT(&r, 200);
    sf_resp_free(&r);
    sf_rq delok = {.cookie = cookie, .csrf = csrf};
    http("POST", "/api/sets/c/delete", &delok, &r);
    SF_EXPECT(&r, 200);
    sf_resp_free(&r);
    json_decref(call("POST", "/api/sets/r/delete", A->admin, NULL, 200));
}

static void test_http_logical(void **state)
{
    (void)state;
    json_t *j = call("POST", "/api/sets", A->admin,
                     "{\"name\":\"ice\",\"query\":\"title:\\\"glacier\"}", 400);
    assert_non_null(fx_str(j, "error"));
    json_decref(j);
    j = call("POST", "/api/sets", A->admin, "{\"name\":\"ice\",\"query\":\"title:glacier\"}", 201);
    json_t *set = json_object_get(j, "set");
    assert_string_equal(fx_str(set, "kind"), "logical");
    assert_string_equal(fx_str(set, "query"), "title:glacier");
    assert_int_equal(json_integer_value(json_object_get(set, "members")), 1);
    json_decref(j);
    j = call("GET", "/api/sets/ice", A->reader, NULL, 200);
    assert_string_equal(fx_str(json_array_get(json_object_get(j, "sample"), 0), "handle"), A->ha);
    json_decref(j);
    j = call("GET", "/api/sets", A->reader, NULL, 200);
    assert_int_equal(json_integer_value(
                         json_object_get(json_array_get(json_object_get(j, "sets"), 0), "members")),
                     1);
    json_decref(j);
    json_decref(call("POST", "/api/sets/ice/members", A->admin, "{\"add\":[]}", 400));
    json_decref(call("POST", "/api/sets/ice/delete", A->admin, NULL, 200));
}

int main(void)
{
    const struct CMUnitTest lib[] = {
        cmocka_unit_test_setup_teardown(test_lib_create_get_list_delete, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_lib_names, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_lib_add_remove_order, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_lib_add_unknown_all_or_nothing, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_lib_add_file, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_lib_member_deleted, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_lib_users_researchers, tu_repo_setup,
                                        tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_lib_caps, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_lib_million_flat, tu_repo_setup, tu_repo_teardown),
        cmocka_unit_test_setup_teardown(test_lib_logical, tu_repo_setup, tu_repo_teardown),
    };
    const struct CMUnitTest cli[] = {
        FX_TEST(test_cli_from_job_outcomes),
        FX_TEST(test_cli_subcommands),
        FX_TEST(test_cli_errors),
        FX_TEST(test_cli_logical_grows),
    };
    const struct CMUnitTest http_tests[] = {
        cmocka_unit_test(test_http_routes),
        cmocka_unit_test(test_http_errors),
        cmocka_unit_test(test_http_roles_and_csrf),
        cmocka_unit_test(test_http_logical),
    };
    int failed = cmocka_run_group_tests_name("sets: library", lib, NULL, NULL);
    failed += cmocka_run_group_tests_name("sets: command line", cli, NULL, NULL);
    failed += cmocka_run_group_tests_name("sets: REST API", http_tests, api_setup, api_teardown);
    return failed;
}
