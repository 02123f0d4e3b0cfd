/* The ONIX driver through its API (formats/onix_internal.h, the registry row):
 * check digits, the streaming reader's mapping, actions, versions and update
 * targets, and the refusals that stop a file. */
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "bulkrepo/bulkrepo.h"
#include "formats/format.h"
#include "formats/onix_internal.h"

static void on_diag(void *ctx, const br_diag *d)
{
    tu_log_printf(ctx, "%s:%u: %s %s\n", d->source ? d->source : "", d->line,
                  d->rule ? d->rule : "", d->message);
}

static void test_isbn(void **state)
{
    char out[14];
    assert_int_equal(br_onix_isbn13("0306406152", 1, out), 0);
    assert_string_equal(out, "9780306406157");
    assert_int_equal(br_onix_isbn13("160258186X", 1, out), 0);
    assert_int_equal(br_onix_isbn13("0306406153", 1, out), -2);
    assert_int_equal(br_onix_isbn13("978-0-306-40615-7", 0, out), 0);
    assert_string_equal(out, "9780306406157");
    assert_int_equal(br_onix_isbn13("9780000000000", 0, out), -2);
    assert_int_equal(br_onix_isbn13("978000000001", 0, out), -1);
    assert_int_equal(br_onix_isbn13("97800000000X9", 0, out), -1);
}

typedef struct reading {
    br_reader *r;
    br_record *rec;
    br_read_info info;
    tu_log log;
    br_diag_sink sink;
    br_read_options o;
} reading;

static int open_input(reading *g, const char *rel)
{
    memset(g, 0, sizeof *g);
    tu_log_init(&g->log);
    g->sink = (br_diag_sink){on_diag, &g->log, 0, 0, 0};
    static br_limits lim;
    br_limits_default(&lim);
    g->o.source = tu_data(rel);
    g->o.limits = &lim;
    g->o.diags = &g->sink;
    g->rec = br_record_new();
    br_error err;
    return br_format_onix.open(&g->o, &g->r, &err);
}

static void close_input(reading *g)
{
    br_format_onix.close(g->r);
    br_record_free(g->rec);
    tu_log_dispose(&g->log);
}

static int covered(const br_read_info *info, const char *t)
{
    for (size_t i = 0; i < info->n_covered; i++)
        if (!strcmp(info->covered[i], t)) return 1;
    return 0;
}

static void test_read_full(void **state)
{
    reading g;
    br_error err;
    assert_int_equal(open_input(&g, "onix/full.xml"), 0);
    assert_int_equal(br_format_onix.next(g.r, g.rec, &g.info, &err), 1);
    assert_string_equal(g.info.key, "com.example.a");
    assert_int_equal(g.info.action, BR_READ_UPSERT);
    assert_string_equal(g.info.version, "2024-01-01T12:00:00");
    assert_int_equal(g.info.errors, 0);
    assert_string_equal(br_record_first(g.rec, "dc.identifier.isbn"), "9780306406157");
    assert_string_equal(br_record_first(g.rec, "dc.title"), "The Book of Examples");
    assert_true(covered(&g.info, "@creator"));
    assert_true(covered(&g.info, "dc.title.alternative")); /* TitleDetail present */
    assert_false(covered(&g.info, "@file"));
    assert_int_equal(g.rec->n_creators, 2);
    assert_string_equal(g.rec->creators[0].orcid, "0000-0002-1825-0097");
    assert_int_equal(br_format_onix.next(g.r, g.rec, &g.info, &err), 1);
    assert_string_equal(g.info.key, "com.example.b");
    assert_true(g.rec->creators[0].is_organization);
    assert_int_equal(br_format_onix.next(g.r, g.rec, &g.info, &err), 0);
    /* rewind: the same products again, no duplicate-ISBN finding */
    assert_int_equal(br_format_onix.rewind(g.r, &err), 0);
    assert_int_equal(br_format_onix.next(g.r, g.rec, &g.info, &err), 1);
    assert_int_equal(g.info.errors, 0);
    close_input(&g);
}

static void test_actions(void **state)
{
    reading g;
    br_error err;
    assert_int_equal(open_input(&g, "onix/update04.xml"), 0);
    assert_int_equal(br_format_onix.next(g.r, g.rec, &g.info, &err), 1);
    assert_int_equal(g.info.action, BR_READ_UPDATE);
    assert_true(covered(&g.info, "dc.description")); /* the whole block */
    assert_false(covered(&g.info, "dc.title"));
    close_input(&g);
    assert_int_equal(open_input(&g, "onix/delete05.xml"), 0);
    assert_int_equal(br_format_onix.next(g.r, g.rec, &g.info, &err), 1);
    assert_int_equal(g.info.action, BR_READ_DELETE);
    close_input(&g);
}

static void test_refusals(void **state)
{
    static const struct {
        const char *file, *text;
    } cases[] = {
        {"onix/malformed.xml", "mismatch"},
        {"onix/wrong_encoding.xml", "UTF-8"},
        {"onix/xxe.xml", "declares entities"},
        {"onix/bomb.xml", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reading g;
        br_error err;
        br_error_clear(&err);
        assert_int_equal(open_input(&g, cases[i].file), 0);
        int rc;
        while ((rc = br_format_onix.next(g.r, g.rec, &g.info, &err)) == 1)
            ;
        assert_int_equal(rc, BR_EINVAL);
        assert_contains(err.message, cases[i].text);
        assert_true(err.place.line > 0);
        close_input(&g);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isbn),
        cmocka_unit_test(test_read_full),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
