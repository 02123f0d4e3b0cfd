/* Several workers share the queue (issue 16): two `bulkrepo job work` processes on one
 * repository (on the embedded database, and on PostgreSQL in make unit-pg); the one running a
 * large import is killed with SIGKILL in the middle of it; the other takes the job over when its
 * lease runs out and finishes it from the journal: every record exactly once, fsck clean.
 *
 * The kill must land mid-import: the test fails when the journal was empty or complete at the
 * moment of the kill (a kill that lands outside the write proves nothing). */
#define _GNU_SOURCE
#include "cli_fixture.h"
#include "servers.h"

#define N_ITEMS 4000
#define LEASE_S 3

/* The job's journal count (processed) and status code, through the CLI. */
static long long job_state(fx *f, long long id, char *status, size_t size)
{
    json_t *j = fx_job(f, id);
    long long n = fx_counter(j, "processed");
    snprintf(status, size, "%s", fx_status_code(j));
    json_decref(j);
    return n;
}

static pid_t start_worker(fx *f, const char *name)
{
    char lease[16], log[4200];
    snprintf(lease, sizeof lease, "%d", LEASE_S);
    snprintf(log, sizeof log, "%s/worker-%s.log", f->dir, name);
    char *const argv[] = {(char *)tu_bin(), "--repo",    f->repo, "job",
                          "work",           "--workers", "1",     "--name",
                          (char *)name,     "--lease",   lease,   NULL};
    pid_t pid = tsrv_spawn(log, argv);
    assert_true(pid > 0);
    return pid;
}

static void test_killed_worker_is_taken_over(void **state)
{
    fx *f = *state;
    SH(f, 0, "\"$GEN_SAF\" saf %d --file-size 64 >/dev/null", N_ITEMS);
    RUN(f, 0, "import -a -s saf -c %s -m map --submit", f->coll);
    long long id = atoll(f->out);
    assert_true(id > 0);

    pid_t a = start_worker(f, "A");
    /* A runs the import: wait until its journal has some records, but not all. */
    char status[64] = "";
    long long before = 0;
    for (long t0 = tsrv_ms(); tsrv_ms() - t0 < 60000;) {
        before = job_state(f, id, status, sizeof status);
        if (before >= 50) break;
        tsrv_sleep_ms(20);
    }
    pid_t b = start_worker(f, "B");
    kill(a, SIGKILL);
    int ws;
    assert_int_equal(waitpid(a, &ws, 0), a);
    assert_true(WIFSIGNALED(ws));
    long long at_kill = job_state(f, id, status, sizeof status);
    if (at_kill <= 0 || at_kill >= N_ITEMS)
        fail_msg("the kill did not land mid-import: %lld of %d records journaled", at_kill,
                 N_ITEMS);
    assert_string_equal(status, "RUNNING");

    /* B takes the job over once A's lease has run out, and finishes it. */
    for (long t0 = tsrv_ms(); tsrv_ms() - t0 < 180000;) {
        job_state(f, id, status, sizeof status);
        if (strcmp(status, "RUNNING") && strcmp(status, "PENDING") &&
            strcmp(status, "INITIALIZING") && strcmp(status, "FINALIZING"))
            break;
        tsrv_sleep_ms(100);
    }
    tsrv_stop(&b);
    assert_string_equal(status, "COMPLETED_SUCCESS");
    json_t *j = fx_job(f, id);
    assert_int_equal(fx_counter(j, "imported"), N_ITEMS);
    json_decref(j);

    /* Every record exactly once: N items, N distinct handles, N lines in the mapfile. */
    assert_int_equal(fx_item_count(f), N_ITEMS);
    SH(f, 0,
       "\"$BR\" --repo '%s' item list --json | grep -o '\"handle\": *\"[^\"]*\"' | sort -u "
       "| wc -l",
       f->repo);
    assert_int_equal(atoi(f->out), N_ITEMS);
    assert_int_equal(fx_count_lines(f, "map"), N_ITEMS);
    ASSERT_FSCK_CLEAN(f);
    RUN(f, 0, "job events %lld", id);
    assert_contains(f->out, "Taken over by B: its worker A stopped");
    print_message("killed A at %lld of %d records; B finished the job\n", at_kill, N_ITEMS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_killed_worker_is_taken_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
