/* CLI tests for queued jobs (issue 4): import/export --submit, job work,
 * cancel, resume, rerun, events, unimported, list filters, item list --job,
 * and a worker killed mid-import whose job is resumed by the next one. */
#include <pwd.h>
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
    /* The submitter: $USER, else the account the command ran as (cron and CI have no $USER). */
    const struct passwd *pw = getpwuid(geteuid());
    const char *user = getenv("USER") && *getenv("USER") ? getenv("USER")
                       : pw                              ? pw->pw_name
                                                         : "system";
    assert_string_equal(fx_str(json_array_get(a, 0), "creator"), user);
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

/* A job run with a raised cap is extracted under it: its rejected record downloads even
 * though its file inflates past the default --max-ratio (200). */
static void test_unimported_under_the_jobs_caps(void **state)
{
    fx *f = *state;
    fx_dc(f, "p/a", "A");
    fx_write(f, "p/a/contents", "");
    fx_write(
        f, "p/b/dublin_core.xml",
        "<dublin_core><dcvalue element=\"titel\" qualifier=\"none\">B</dcvalue></dublin_core>\n");
    fx_write(f, "p/b/contents", "zeros.bin\n");
    SH(f, 0, "head -c 2000000 /dev/zero > p/b/zeros.bin && cd p && zip -q -r ../p.zip a b");
    RUN(f, 3, "import -a -s p.zip -c %s -m map0", f->coll); /* the default cap refuses it */
    RUN(f, 0, "import -a -s p.zip -c %s -m map --max-ratio 5000 --submit", f->coll);
    long long id = out_id(f);
    RUN(f, 0, "job work --once");
    RUN(f, 0, "job unimported %lld -o rej.zip", id);
    assert_contains(f->err, "1 unimported records");
    SH(f, 0, "unzip -q rej.zip -d rej && test $(stat -c %%s rej/b/zeros.bin) = 2000000");
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

/* Issue 8: an inline import started from one folder with a relative -s is
 * rerun and downloaded from another (its parameters hold absolute paths), and
 * every error of a record reaches job show, --json and the download. */
static void test_relative_source_every_error(void **state)
{
    fx *f = *state;
    SH(f, 0, "mkdir in");
    fx_gen(f, "in/pkg", 3);
    fx_write(f, "in/pkg/item_000001/dublin_core.xml",
             "<dublin_core>\n"
             "<dcvalue element=\"titel\">A</dcvalue>\n"
             "<dcvalue element=\"creatr\">B</dcvalue>\n"
             "<dcvalue element=\"dat\" qualifier=\"issued\">C</dcvalue>\n"
             "</dublin_core>\n");
    SH(f, 1,
       "mkdir elsewhere && cd in && \"$BR\" --repo ../r import -a -s ./pkg --skip-invalid -c %s "
       "-m ../map",
       f->coll);
    json_t *j = fx_last_job(f);
    long long id = (long long)json_integer_value(json_object_get(j, "id"));
    const char *src = fx_str(json_object_get(j, "parameters"), "source");
    assert_true(src[0] == '/');
    assert_non_null(strstr(src, "/in/pkg"));
    json_t *rec = fx_job_record(j, "item_000001");
    json_t *fi = json_object_get(rec, "findings");
    assert_int_equal(json_array_size(fi), 3);
    assert_contains(fx_str(json_array_get(fi, 0), "text"), "dc.titel");
    assert_contains(fx_str(json_array_get(fi, 1), "text"), "dc.creatr");
    assert_contains(fx_str(json_array_get(fi, 2), "text"), "dc.dat.issued");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(fi, 1), "line")), 3);
    json_decref(j);
    RUN(f, 0, "job show %lld", id);
    assert_contains(f->out, "dc.titel");
    assert_contains(f->out, "dc.creatr");
    assert_contains(f->out, "dc.dat.issued");

    /* The download, from another folder: the item and all three errors. */
    SH(f, 0, "cd elsewhere && \"$BR\" --repo ../r job unimported %lld -o rej.zip", id);
    SH(f, 0, "cd elsewhere && unzip -q rej.zip -d rej && test -f rej/item_000001/dublin_core.xml");
    char *e = fx_read(f, "elsewhere/rej/errors.txt");
    assert_contains(e, "item_000001: item_000001/dublin_core.xml:2");
    assert_contains(e, "dc.creatr");
    assert_contains(e, "item_000001: item_000001/dublin_core.xml:4");
    free(e);

    /* A rerun (as after an I/O failure) from yet another folder reads the same package. */
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE job SET status='FAILED', failure='io' WHERE id=%lld", id);
    tu_db_exec(f->repo, sql);
    SH(f, 0, "cd elsewhere && \"$BR\" --repo ../r job rerun %lld", id);
    long long again = out_id(f);
    SH(f, 0, "cd elsewhere && \"$BR\" --repo ../r job work --once");
    j = job_of(f, again);
    /* It read the package (the stored items carried over, the invalid one
     * found again), where a path kept as typed named elsewhere/pkg. */
    assert_null(strstr(fx_str(j, "message"), "cannot open"));
    assert_int_equal(fx_counter(j, "invalid"), 1);
    assert_int_equal(fx_counter(j, "skipped"), 2);
    json_decref(j);
    assert_int_equal(fx_item_count(f), 2);
}

/* Issue 8: the CSV download puts each row's own errors in its ERROR cell,
 * finds a group whose key has a leading no-break space, and a blank line
 * before a bad row does not shift the row named. */
static void test_csv_every_error_per_row(void **state)
{
    fx *f = *state;
    RUN(f, 0, "orgunit add 01ALLIANCE_UID___n6370 Library");
    fx_write(f, "in/a.csv",
             ",GROUP_ID,ASSET_TITLE,ASSET_RESTYPE,ASSET_AFFILIATION,ASSET_PUBLISHDATE,"
             "CREATOR_FAMNAME,CREATOR_ORCID\n"
             "ASSET,g1,One,dataset.dataset,01ALLIANCE_UID___n6370,2020,,\n"
             "\n"
             "ASSET,\xc2\xa0g2,Two,dataset.bogus,01ALLIANCE_UID___n6370,20211399,,\n"
             "CREATOR,\xc2\xa0g2,,,,,Smith,0000-0000-0000-0000\n");
    SH(f, 1,
       "mkdir elsewhere && cd in && \"$BR\" --repo ../r import --format esploro-csv -s ./a.csv "
       "--skip-invalid -m ../a.map");
    json_t *j = fx_last_job(f);
    long long id = (long long)json_integer_value(json_object_get(j, "id"));
    json_t *fi = json_object_get(fx_job_record(j, "g2"), "findings");
    assert_true(json_array_size(fi) >= 3);
    json_decref(j);
    SH(f, 0, "cd elsewhere && \"$BR\" --repo ../r job unimported %lld -o rej.csv", id);
    char *csv = fx_read(f, "elsewhere/rej.csv");
    char *asset = strstr(csv, "ASSET,\xc2\xa0g2,Two");
    char *creator = strstr(csv, "CREATOR,\xc2\xa0g2,");
    assert_non_null(asset);
    assert_non_null(creator);
    assert_null(strstr(csv, "ASSET,g1"));
    /* The ASSET row: its two errors (row 4: the blank line counts), not the ORCID. */
    char *asset_end = strstr(asset, "\r\n");
    assert_non_null(asset_end);
    *asset_end = 0;
    assert_contains(asset, "a.csv:D4: error: ASSET_RESTYPE"); /* the cell said once */
    assert_contains(asset, "a.csv:F4");
    assert_null(strstr(asset, "ORCID"));
    assert_null(strstr(asset, "/in/a.csv")); /* places name the file, not the server's path */
    assert_contains(creator, "a.csv:H5");
    assert_contains(creator, "ORCID");
    assert_null(strstr(creator, "D4"));
    free(csv);
}

/* The caps given to a queued import go with the job (its worker applies them). */
static void test_submit_keeps_caps(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 2); /* 4 KB files */
    RUN(f, 0, "import -a -s p -c %s -m map --submit --max-file-size 1K", f->coll);
    long long id = out_id(f);
    json_t *j = job_of(f, id);
    json_t *lim = json_object_get(json_object_get(j, "parameters"), "limits");
    assert_int_equal(json_integer_value(json_object_get(lim, "max_file_size")), 1000);
    json_decref(j);
    RUN(f, 0, "job work --once");
    j = job_of(f, id);
    assert_string_equal(fx_status_code(j), "FAILED");
    assert_int_equal(fx_counter(j, "invalid"), 2);
    json_decref(j);
}

/* Issue 15: a job run inline from the CLI records its progress as a worker's
 * does: 100 % with done = total when it completed; a failed validation stays
 * in its phase, short of 100 %. */
static void test_inline_job_progress(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 3);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    json_t *j = fx_last_job(f);
    json_t *p = json_object_get(j, "progress");
    assert_int_equal(json_integer_value(json_object_get(p, "percent")), 100);
    assert_int_equal(json_integer_value(json_object_get(p, "done")), 3);
    assert_int_equal(json_integer_value(json_object_get(p, "total")), 3);
    assert_string_equal(fx_str(p, "phase"), "writing");
    json_decref(j);

    fx_write(f, "q/a/dublin_core.xml",
             "<dublin_core><dcvalue element=\"titel\">x</dcvalue></dublin_core>");
    RUN(f, 3, "import -a -s q -c %s -m map2", f->coll);
    j = fx_last_job(f);
    p = json_object_get(j, "progress");
    assert_string_equal(fx_status_code(j), "FAILED");
    assert_true(json_integer_value(json_object_get(p, "percent")) < 100);
    assert_string_equal(fx_str(p, "phase"), "validating");
    json_decref(j);
    /* ... and its events tell the same story as a worker's. */
    RUN(f, 0, "job events 2");
    assert_contains(f->out, "Run from the command line");
    assert_contains(f->out, "Validation: 1 error, 0 warnings");
    assert_contains(f->out, "Job ended: Failed");
}

/* Issue 15, the CLI: job list has a header and aligned columns; job show
 * shows the first records (--records N|all) and sizes for people (--bytes:
 * raw); an import into an unknown collection is refused before any job. */
static void test_cli_report_shape(void **state)
{
    fx *f = *state;
    fx_gen(f, "p", 25);
    RUN(f, 0, "import -a -s p -c %s -m map", f->coll);
    RUN(f, 0, "job list");
    assert_true(!strncmp(f->out, "ID ", 3));
    assert_contains(f->out, "STATUS");
    char *second = strchr(f->out, '\n');
    assert_non_null(second);
    /* the status column starts where its header does */
    size_t col = (size_t)(strstr(f->out, "STATUS") - f->out);
    assert_int_equal(strncmp(second + 1 + col, "Completed", 9), 0);
    RUN(f, 0, "job show 1");
    assert_contains(f->out, "102.4 kB");
    assert_contains(f->out, "5 more");
    RUN(f, 0, "job show 1 --records all");
    assert_null(strstr(f->out, "more ("));
    assert_contains(f->out, "item_000024");
    RUN(f, 0, "job show 1 --records 3 --bytes");
    assert_contains(f->out, "102400 bytes");
    assert_contains(f->out, "22 more");
    RUN(f, 2, "job show 1 --records lots");
    RUN(f, 3, "import -a -s p -c 123456789/999 -m map2");
    RUN(f, 0, "job list --json");
    json_t *l = fx_parse(f, "job list");
    assert_int_equal(json_array_size(l), 1); /* no job for the refused import */
    json_decref(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_submit_then_work),
        FX_TEST(test_submit_zip_carries_the_file),
        FX_TEST(test_submit_export),
        FX_TEST(test_cancel_and_rerun_rules),
        FX_TEST(test_data_error_rerun_refused_and_unimported),
        FX_TEST(test_unimported_under_the_jobs_caps),
        FX_TEST(test_list_filters),
        FX_TEST(test_killed_worker_is_resumed),
        FX_TEST(test_cancel_from_another_process),
        FX_TEST(test_profile_and_inbox),
        FX_TEST(test_help),
        FX_TEST(test_relative_source_every_error),
        FX_TEST(test_csv_every_error_per_row),
        FX_TEST(test_submit_keeps_caps),
        FX_TEST(test_inline_job_progress),
        FX_TEST(test_cli_report_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
