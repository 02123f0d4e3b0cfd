/* CLI tests for queued jobs (issue 4): import/export --submit, job work,
 * cancel, resume, rerun, events, unimported, list filters, item list --job,
 * and a worker killed mid-import whose job is resumed by the next one. */
#include <signal.h>
#include "cli_fixture.h"

static long long out_id(fx *f)
{
    char *end;
    long long id = strtoll(f->out ? f->out : "", &end, 10);
    if (id <= 0 || *end != '\n')
        fail_msg("expected a job id on stdout, got '%s'", f->out ? f->out : "");
    return id;
}

static json_t *job_of(fx *f, long long id)
{
    return fx_json(f, "job show %lld --json", id);
}

static void test_submit_then_work(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 5);
    RUN(f, 0, "import -a -s p -c %s -m map --submit --name 'Spring theses'", f->coll);
    long long id = out_id(f);
    assert_contains(f->err, "queued");
    json_t *j = job_of(f, id);
    assert_string_equal(fx_status_code(j), "PENDING");
    assert_string_equal(fx_str(j, "name"), "Spring theses");
    json_decref(j);
    assert_int_equal(fx_item_count(f), 0); /* queued, not run */
    RUN(f, 0, "job work --once");
    j = job_of(f, id);
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(j, "imported"), 5);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "progress"), "percent")),
                     100);
    json_decref(j);
    assert_int_equal(fx_count_lines(f, "map"), 5);
    /* The records the job imported. */
    json_t *items = fx_json(f, "item list --job %lld --json", id);
    assert_int_equal(json_array_size(items), 5);
    json_decref(items);
    /* Events: submitted, started, ended. */
    RUN(f, 0, "job events %lld", id);
    assert_contains(f->out, "Job submitted");
    assert_contains(f->out, "Job ended: Completed Successfully");
    json_t *ev = fx_json(f, "job events %lld --json", id);
    json_t *a = json_object_get(ev, "events");
    assert_true(json_array_size(a) >= 3);
    assert_string_equal(fx_str(json_array_get(a, 0), "creator"),
                        getenv("USER") ? getenv("USER") : "system");
    json_decref(ev);
    RUN(f, 0, "job show %lld", id);
    assert_contains(f->out, "progress:   100%");
    assert_contains(f->out, "files:");
}

static void test_submit_zip_carries_the_file(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 3);
    SH(f, 0, "cd p && zip -qr ../in.zip . ");
    RUN(f, 0, "import -a -s . -z in.zip -c %s -m map --submit", f->coll);
    long long id = out_id(f);
    SH(f, 0, "rm in.zip"); /* the job has its own copy */
    RUN(f, 0, "job work --once");
    json_t *j = job_of(f, id);
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    json_t *files = json_object_get(j, "files");
    assert_int_equal(json_array_size(files), 1);
    assert_string_equal(fx_str(json_array_get(files, 0), "name"), "in.zip");
    assert_string_equal(fx_str(json_array_get(files, 0), "status"), "processed");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(files, 0), "records")), 3);
    json_decref(j);
}

static void test_submit_export(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 2);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    SH(f, 0, "mkdir out");
    RUN(f, 0, "export -t COLLECTION -i %s -d out -z e.zip --submit", f->coll);
    long long id = out_id(f);
    RUN(f, 0, "job work --once");
    json_t *j = job_of(f, id);
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    assert_string_equal(fx_str(j, "category"), "export");
    json_decref(j);
    assert_true(fx_exists(f, "out/e.zip"));
    /* Usage errors are caught before anything is queued. */
    RUN(f, 2, "export -t COLLECTION -i %s -d nowhere/x --submit", f->coll);
    RUN(f, 2, "import -a -R -s p -c %s -m map --submit", f->coll);
}

static void test_cancel_and_rerun_rules(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 2);
    RUN(f, 0, "import -a -s p -c %s -m map --submit", f->coll);
    long long id = out_id(f);
    RUN(f, 0, "job cancel %lld", id);
    assert_contains(f->err, "Aborted by User");
    RUN(f, 2, "job cancel %lld", id); /* already ended */
    assert_contains(f->err, "already ended");
    RUN(f, 0, "job work --once");
    assert_int_equal(fx_item_count(f), 0);
    /* Resume finishes it exactly. */
    RUN(f, 0, "job resume %lld", id);
    RUN(f, 0, "job work --once");
    json_t *j = job_of(f, id);
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(j, "imported"), 2);
    json_decref(j);
    /* A completed job is neither rerun nor resumed. */
    RUN(f, 2, "job rerun %lld", id);
    RUN(f, 2, "job resume %lld", id);
    RUN(f, 3, "job cancel 999");
    RUN(f, 2, "job cancel abc");
}

static void test_data_error_rerun_refused_and_unimported(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "A");
    fx_write(f, "p/a/contents", "");
    fx_write(
        f, "p/b/dublin_core.xml",
        "<dublin_core><dcvalue element=\"titel\" qualifier=\"none\">B</dcvalue></dublin_core>\n");
    fx_write(f, "p/b/contents", "");
    RUN(f, 0, "import -a -s p -c %s -m map --submit", f->coll);
    long long id = out_id(f);
    RUN(f, 0, "job work --once");
    json_t *j = job_of(f, id);
    assert_string_equal(fx_status_code(j), "FAILED");
    assert_string_equal(fx_str(j, "failure"), "data");
    json_decref(j);
    RUN(f, 3, "job rerun %lld", id);
    assert_contains(f->err, "fix the file and import it again");
    RUN(f, 0, "job unimported %lld -o rej.zip", id);
    assert_contains(f->err, "1 unimported records");
    SH(f, 0, "unzip -q rej.zip -d rej && test -f rej/b/dublin_core.xml && test ! -e rej/a");
    char *e = fx_read(f, "rej/errors.txt");
    assert_contains(e, "b: ");
    assert_contains(e, "dc.titel");
    free(e);
    RUN(f, 3, "job unimported %lld -o rej2.zip --page 2", id);
    RUN(f, 2, "job unimported %lld", id);
    /* Fixed, it imports. */
    fx_dc(f, "rej/b", "B");
    SH(f, 0, "rm rej/errors.txt");
    RUN(f, 0, "import -a -s rej -c %s -m map2", f->coll);
    assert_int_equal(fx_item_count(f), 1);
}

static void test_list_filters(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 1);
    RUN(f, 0, "import -a -s p -c %s -m map -e alice", f->coll);
    RUN(f, 0, "import -a -s p -c %s -m map2 -e bob --submit", f->coll);
    json_t *l = fx_json(f, "job list --user alice --json");
    assert_int_equal(json_array_size(l), 1);
    json_decref(l);
    l = fx_json(f, "job list --status PENDING --json");
    assert_int_equal(json_array_size(l), 1);
    assert_string_equal(fx_str(json_array_get(l, 0), "submitted_by"), "bob");
    json_decref(l);
    l = fx_json(f, "job list --status running --category import --json");
    assert_int_equal(json_array_size(l), 1);
    json_decref(l);
    l = fx_json(f, "job list --category export --json");
    assert_int_equal(json_array_size(l), 0);
    json_decref(l);
    l = fx_json(f, "job list --since 2999-01-01 --json");
    assert_int_equal(json_array_size(l), 0);
    json_decref(l);
    RUN(f, 2, "job list --status NOPE");
    /* A since that is no date used to list nothing, silently. */
    RUN(f, 2, "job list --since yesterday");
    assert_contains(f->err, "not an ISO 8601 date");
    RUN(f, 2, "job list --since 2024-13-01");
    l = fx_json(f, "job list --since 2000-01-01T00:00:00Z --json");
    assert_int_equal(json_array_size(l), 2);
    json_decref(l);
    RUN(f, 2, "job list --user");
    RUN(f, 0, "job list");
    assert_contains(f->out, "Pending");
}

/* A worker process killed mid-import: the next one resumes the job from its
 * journal and the repository ends with exactly the package's items. */
static void test_killed_worker_is_resumed(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 3000);
    RUN(f, 0, "import -a -s p -c %s -m map --batch-size 1 --submit", f->coll);
    long long id = out_id(f);
    /* The mapfile grows after each committed batch: kill once some are in. */
    SH(f, 0,
       "{ \"$BR\" --repo r job work --workers 1 & pid=$!; "
       "for i in $(seq 1 3000); do "
       "  n=$(cat map 2>/dev/null | wc -l); [ \"$n\" -gt 5 ] && break; sleep 0.005; done; "
       "kill -9 $pid; wait $pid 2>/dev/null; true; }");
    json_t *j = job_of(f, id);
    assert_string_equal(fx_status_code(j), "RUNNING");
    long long part = fx_counter(j, "imported");
    json_decref(j);
    assert_true(part > 0 && part < 3000);
    RUN(f, 0, "job work --once");
    j = job_of(f, id);
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(j, "imported"), 3000);
    json_decref(j);
    assert_int_equal(fx_item_count(f), 3000);
    RUN(f, 0, "job events %lld", id);
    assert_contains(f->out, "queued to resume from its journal");
    ASSERT_FSCK_CLEAN(f);
}

/* `job cancel` from another process while a worker imports (the import holds
 * the write lock nearly all the time): the worker stops at a record boundary,
 * the journal names exactly the stored items, and resume finishes the job. */
static void test_cancel_from_another_process(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 3000);
    RUN(f, 0, "import -a -s p -c %s -m map --batch-size 1 --submit", f->coll);
    long long id = out_id(f);
    SH(f, 0,
       "{ \"$BR\" --repo r job work --workers 1 & pid=$!; "
       "for i in $(seq 1 3000); do "
       "  n=$(cat map 2>/dev/null | wc -l); [ \"$n\" -gt 5 ] && break; sleep 0.005; done; "
       "\"$BR\" --repo r job cancel %lld; c=$?; "
       "for i in $(seq 1 600); do "
       "  \"$BR\" --repo r job show %lld --json | grep -q USER_ABORTED && break; sleep 0.05; done; "
       "kill -TERM $pid; wait $pid; exit $c; }",
       id, id);
    json_t *j = job_of(f, id);
    assert_string_equal(fx_status_code(j), "USER_ABORTED");
    long long part = fx_counter(j, "imported");
    json_decref(j);
    assert_true(part > 0 && part < 3000);
    assert_int_equal(fx_item_count(f), part);
    RUN(f, 0, "job resume %lld", id);
    RUN(f, 0, "job work --once");
    j = job_of(f, id);
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(j, "imported"), 3000);
    json_decref(j);
    assert_int_equal(fx_item_count(f), 3000);
}

static void test_profile_and_inbox(void **state)
{
    fx *f = *state;
    SH(f, 0, "mkdir in");
    RUN(f, 0, "profile add ftp --format saf --collection %s --inbox in", f->coll);
    RUN(f, 3, "profile add ftp --format saf --collection %s --inbox in", f->coll); /* exists */
    RUN(f, 2, "profile add x --format marc --collection %s --inbox in", f->coll);
    RUN(f, 2, "profile add y --format saf --collection %s --inbox nowhere", f->coll);
    RUN(f, 2, "profile add z --format saf --inbox in");
    json_t *l = fx_json(f, "profile list --json");
    assert_int_equal(json_array_size(l), 1);
    assert_string_equal(fx_str(json_array_get(l, 0), "format"), "saf");
    json_decref(l);
    fx_gen(f, "p", 2);
    SH(f, 0, "cd p && zip -qr ../in/batch.zip .");
    /* Two scans 100 ms apart see the file unchanged: taken, imported, moved. */
    SH(f, 0,
       "{ \"$BR\" --repo r job work --inbox-poll 100 & pid=$!; "
       "for i in $(seq 1 600); do [ -e in/done/batch.zip ] && break; sleep 0.05; done; "
       "kill -TERM $pid; wait $pid; }");
    assert_true(fx_exists(f, "in/done/batch.zip"));
    assert_int_equal(fx_item_count(f), 2);
    RUN(f, 0, "job list --json");
    RUN(f, 0, "profile remove ftp");
    RUN(f, 3, "profile remove ftp");
    RUN(f, 0, "profile --help");
    assert_contains(f->out, "--inbox DIR");
}

static void test_help(void **state)
{
    fx *f = *state;
    RUN(f, 0, "job --help");
    assert_contains(f->out, "job unimported ID -o FILE");
    RUN(f, 0, "job work --help");
    RUN(f, 2, "job");
    RUN(f, 2, "job frobnicate 1");
    RUN(f, 0, "import --help");
    assert_contains(f->out, "--submit");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_submit_then_work),
        FX_TEST(test_submit_zip_carries_the_file),
        FX_TEST(test_submit_export),
        FX_TEST(test_cancel_and_rerun_rules),
        FX_TEST(test_data_error_rerun_refused_and_unimported),
        FX_TEST(test_list_filters),
        FX_TEST(test_killed_worker_is_resumed),
        FX_TEST(test_cancel_from_another_process),
        FX_TEST(test_profile_and_inbox),
        FX_TEST(test_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
