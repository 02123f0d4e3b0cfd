/* Several workers share the queue (issue 16): two `bulkrepo job work` processes on one
 * repository (on the embedded database, and on PostgreSQL in make unit-pg).
 *   - killed_worker_is_taken_over: the one running a large import is killed with SIGKILL in
 *     the middle of it; the other takes the job over when its lease runs out and finishes it
 *     from the journal.
 *   - killed_chunk_writer: one large import cut into chunks; both workers write them; the one
 *     that does not run the job is killed in the middle of a chunk; the other takes the chunk
 *     over when its lease runs out and writes what the journal lacks.
 * Both: every record exactly once, fsck clean.  The kill must land mid-write: the test fails
 * when the journal (of the chunk) was empty or complete at the moment of the kill (a kill that
 * lands outside the write proves nothing). */
#define _GNU_SOURCE
#include "cli_fixture.h"
#include "pg.h"
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

/* A worker process: `job work --workers 1 --name NAME --lease LEASE_S`, chunks of chunk
 * records (NULL: the store's default). */
static pid_t start_worker(fx *f, const char *name, const char *chunk)
{
    char lease[16], log[4200];
    snprintf(lease, sizeof lease, "%d", LEASE_S);
    snprintf(log, sizeof log, "%s/worker-%s.log", f->dir, name);
    char *argv[] = {
        (char *)tu_bin(), "--repo",     f->repo,   "job", "work",    "--workers",   "1",
        "--name",         (char *)name, "--lease", lease, "--chunk", (char *)chunk, NULL};
    if (!chunk) argv[11] = NULL;
    pid_t pid = tsrv_spawn(log, argv);
    assert_true(pid > 0);
    return pid;
}

/* Waits (up to 3 minutes) until job id has ended; its status code into status. */
static void wait_ended(fx *f, long long id, char *status, size_t size)
{
    for (long t0 = tsrv_ms(); tsrv_ms() - t0 < 180000; tsrv_sleep_ms(100)) {
        job_state(f, id, status, size);
        if (strcmp(status, "RUNNING") && strcmp(status, "PENDING") &&
            strcmp(status, "INITIALIZING") && strcmp(status, "FINALIZING"))
            return;
    }
}

/* Every record exactly once: job id imported n, n items with n distinct handles, n lines in
 * the mapfile, fsck clean. */
static void assert_exactly_once(fx *f, long long id, int n)
{
    json_t *j = fx_job(f, id);
    assert_int_equal(fx_counter(j, "imported"), n);
    json_decref(j);
    assert_int_equal(fx_item_count(f), n);
    SH(f, 0,
       "\"$BR\" --repo '%s' item list --json | grep -o '\"handle\": *\"[^\"]*\"' | sort -u "
       "| wc -l",
       f->repo);
    assert_int_equal(atoi(f->out), n);
    assert_int_equal(fx_count_lines(f, "map"), n);
    ASSERT_FSCK_CLEAN(f);
}

static void test_killed_worker_is_taken_over(void **state)
{
    fx *f = *state;
    SH(f, 0, "\"$GEN_SAF\" saf %d --file-size 64 >/dev/null", N_ITEMS);
    RUN(f, 0, "import -a -s saf -c %s -m map --submit", f->coll);
    long long id = atoll(f->out);
    assert_true(id > 0);

    pid_t a = start_worker(f, "A", NULL);
    /* A runs the import: wait until its journal has some records, but not all. */
    char status[64] = "";
    long long before = 0;
    for (long t0 = tsrv_ms(); tsrv_ms() - t0 < 60000;) {
        before = job_state(f, id, status, sizeof status);
        if (before >= 50) break;
        tsrv_sleep_ms(20);
    }
    pid_t b = start_worker(f, "B", NULL);
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
    wait_ended(f, id, status, sizeof status);
    tsrv_stop(&b);
    assert_string_equal(status, "COMPLETED_SUCCESS");
    assert_exactly_once(f, id, N_ITEMS);
    RUN(f, 0, "job events %lld", id);
    assert_contains(f->out, "Taken over by B: its worker A stopped");
    print_message("killed A at %lld of %d records; B finished the job\n", at_kill, N_ITEMS);
}

#define CHUNK_ITEMS 6000
#define CHUNK_SIZE  "300"

/* A number the repository's database answers (fmt takes the job id up to three times). */
static long long db_number(fx *f, const char *fmt, long long id)
{
    char sql[1024], out[64];
    snprintf(sql, sizeof sql, fmt, id, id, id);
    tu_db_text(f->repo, sql, out, sizeof out);
    return atoll(out);
}

/* The chunks in hand of the worker that does not run the job (the helper) whose journal is
 * neither empty nor complete. */
#define HELPER_MID_CHUNK                                                                           \
    "SELECT count(*) FROM job_chunk c WHERE c.job_id = %lld AND c.done = 0 AND c.worker <> "       \
    "(SELECT worker FROM job WHERE id = %lld) AND (SELECT count(*) FROM job_record r WHERE "       \
    "r.job_id = %lld AND r.seq >= c.first_seq AND r.seq < c.end_seq) BETWEEN 1 AND "               \
    "c.end_seq - c.first_seq - 1"

/* Waits (up to 2 minutes, polling every 2 ms) until the helper has a chunk partly written:
 * HELPER_MID_CHUNK's count, 0 when that never happened. */
static long long helper_mid_chunk(fx *f, long long id)
{
    long long mid = 0;
    for (long t0 = tsrv_ms(); tsrv_ms() - t0 < 120000 && !mid; tsrv_sleep_ms(2))
        mid = db_number(f, HELPER_MID_CHUNK, id);
    return mid;
}

static void test_killed_chunk_writer(void **state)
{
    fx *f = *state;
    SH(f, 0, "\"$GEN_SAF\" saf %d --file-size 64 >/dev/null", CHUNK_ITEMS);
    /* Both workers wait for the job: one claims it and cuts the writing into chunks of 300
     * records, the other (the helper) writes chunks of it. */
    pid_t a = start_worker(f, "A", CHUNK_SIZE), b = start_worker(f, "B", CHUNK_SIZE);
    RUN(f, 0, "import -a -s saf -c %s -m map --batch-size 10 --submit", f->coll);
    long long id = atoll(f->out);
    assert_true(id > 0);
    long long mid = helper_mid_chunk(f, id);
    char owner[64];
    tu_db_text(f->repo, "SELECT COALESCE(worker, '') FROM job ORDER BY id DESC LIMIT 1", owner,
               sizeof owner);
    int a_runs = !strcmp(owner, "A");
    pid_t *helper = a_runs ? &b : &a, *runner = a_runs ? &a : &b;
    kill(*helper, SIGKILL);
    int ws;
    assert_int_equal(waitpid(*helper, &ws, 0), *helper);
    assert_true(WIFSIGNALED(ws));
    *helper = 0;
    /* What the helper left: a chunk still not done, partly journaled (it writes no more). */
    long long at_kill = db_number(f, HELPER_MID_CHUNK, id);
    long long journaled = db_number(f, "SELECT count(*) FROM job_record WHERE job_id = %lld", id);
    if (!mid || at_kill != 1)
        fail_msg("the kill did not land mid-chunk: %lld chunk(s) of the helper partly written",
                 at_kill);

    /* The job's worker takes the chunk over once the helper's lease has run out, and finishes. */
    char status[64] = "";
    wait_ended(f, id, status, sizeof status);
    tsrv_stop(runner);
    assert_string_equal(status, "COMPLETED_SUCCESS");
    assert_exactly_once(f, id, CHUNK_ITEMS);
    assert_int_equal(db_number(f, "SELECT count(*) FROM job_chunk WHERE job_id = %lld", id), 0);
    RUN(f, 0, "job events %lld", id);
    assert_contains(f->out, "Writing in 20 chunks of up to 300 records");
    assert_contains(f->out, a_runs ? "B writes chunks of it" : "A writes chunks of it");
    print_message("killed the helper mid-chunk with %lld of %d records journaled; the job's "
                  "worker %s finished the job\n",
                  journaled, CHUNK_ITEMS, owner);
}

/* Two records of one input that share a match key, in chunks that two workers write at the
 * same time: the second written sees the first (as one worker would have written them), never
 * two items.  Record i's DOI is shared with record i + 100, the next chunk's: 2,000 records,
 * 1,000 DOIs; the default SAF profile skips a record whose DOI is stored (doi=skip). */
#define SHARED_ITEMS 2000

static void test_shared_keys_in_chunks(void **state)
{
    fx *f = *state;
    SH(f, 0,
       "\"$GEN_SAF\" saf %d --file-size 64 >/dev/null && for d in saf/item_*; do "
       "i=$(expr ${d##*_} + 0); k=$(( i / 200 * 100 + i %% 100 )); "
       "sed -i \"s|</dublin_core>|<dcvalue element=\\\"identifier\\\" qualifier=\\\"doi\\\">"
       "10.5555/k$k</dcvalue></dublin_core>|\" $d/dublin_core.xml; done",
       SHARED_ITEMS);
    SH(f, 0, "grep -h 'qualifier=\"doi\"' saf/item_*/dublin_core.xml | sort -u | wc -l");
    assert_int_equal(atoi(f->out), SHARED_ITEMS / 2);
    pid_t a = start_worker(f, "A", "100"), b = start_worker(f, "B", "100");
    RUN(f, 0, "import -a -s saf -c %s -m map --batch-size 10 --submit", f->coll);
    long long id = atoll(f->out);
    char status[64] = "";
    wait_ended(f, id, status, sizeof status);
    tsrv_stop(&a);
    tsrv_stop(&b);
    assert_string_equal(status, "COMPLETED_SUCCESS");
    json_t *j = fx_job(f, id);
    assert_int_equal(fx_counter(j, "imported"), SHARED_ITEMS / 2);
    assert_int_equal(fx_counter(j, "skipped"), SHARED_ITEMS / 2);
    json_decref(j);
    assert_int_equal(fx_item_count(f), SHARED_ITEMS / 2);
    ASSERT_FSCK_CLEAN(f);
    RUN(f, 0, "job events %lld", id);
    assert_contains(f->out, "Writing in 20 chunks of up to 100 records");
    /* On PostgreSQL both wrote at once (on SQLite the writers take turns: the result is the
     * point there, whoever wrote it). */
    char url[1024];
    if (tu_db_address(f->repo, url, sizeof url))
        assert_true(strstr(f->out, "A writes chunks of it") ||
                    strstr(f->out, "B writes chunks of it"));
    const char *again = strstr(f->out, "again: another worker");
    print_message("%s\n", again ? "a batch was written again (a shared key was busy)"
                                : "no batch met a busy key this time");
}

/* The job's own worker is killed while both write chunks: the other takes the job over when
 * the lease runs out, resumes it (the chunks the dead one held are claimed again) and finishes:
 * every record exactly once. */
static void test_killed_chunk_owner(void **state)
{
    fx *f = *state;
    SH(f, 0, "\"$GEN_SAF\" saf %d --file-size 64 >/dev/null", CHUNK_ITEMS);
    pid_t a = start_worker(f, "A", CHUNK_SIZE), b = start_worker(f, "B", CHUNK_SIZE);
    RUN(f, 0, "import -a -s saf -c %s -m map --batch-size 10 --submit", f->coll);
    long long id = atoll(f->out);
    long long mid = helper_mid_chunk(f, id);
    assert_true(mid > 0); /* both are writing */
    char owner[64];
    tu_db_text(f->repo, "SELECT COALESCE(worker, '') FROM job ORDER BY id DESC LIMIT 1", owner,
               sizeof owner);
    int a_runs = !strcmp(owner, "A");
    pid_t *runner = a_runs ? &a : &b, *helper = a_runs ? &b : &a;
    kill(*runner, SIGKILL);
    int ws;
    assert_int_equal(waitpid(*runner, &ws, 0), *runner);
    *runner = 0;
    long long at_kill = db_number(f, "SELECT count(*) FROM job_record WHERE job_id = %lld", id);
    if (at_kill <= 0 || at_kill >= CHUNK_ITEMS)
        fail_msg("the kill did not land mid-import: %lld of %d records journaled", at_kill,
                 CHUNK_ITEMS);
    char status[64] = "";
    wait_ended(f, id, status, sizeof status);
    tsrv_stop(helper);
    assert_string_equal(status, "COMPLETED_SUCCESS");
    assert_exactly_once(f, id, CHUNK_ITEMS);
    assert_int_equal(db_number(f, "SELECT count(*) FROM job_chunk WHERE job_id = %lld", id), 0);
    RUN(f, 0, "job events %lld", id);
    assert_contains(f->out, a_runs ? "Taken over by B: its worker A stopped"
                                   : "Taken over by A: its worker B stopped");
    print_message("killed the job's worker %s with %lld of %d records journaled; the other "
                  "resumed and finished the job\n",
                  owner, at_kill, CHUNK_ITEMS);
}

/* Cancel reaches every worker of a chunked import: the job ends Aborted by User with what both
 * committed journaled (every journaled item stored, no other), and a resume finishes it with
 * both workers: every record exactly once. */
static void test_cancel_and_resume_chunked(void **state)
{
    fx *f = *state;
    SH(f, 0, "\"$GEN_SAF\" saf %d --file-size 64 >/dev/null", CHUNK_ITEMS);
    pid_t a = start_worker(f, "A", CHUNK_SIZE), b = start_worker(f, "B", CHUNK_SIZE);
    RUN(f, 0, "import -a -s saf -c %s -m map --batch-size 10 --submit", f->coll);
    long long id = atoll(f->out);
    long long mid = helper_mid_chunk(f, id);
    assert_true(mid > 0); /* both workers are writing */
    RUN(f, 0, "job cancel %lld", id);
    char status[64] = "";
    wait_ended(f, id, status, sizeof status);
    assert_string_equal(status, "USER_ABORTED");
    /* The job's worker removed the chunks before it ended the job, and a helper's batch holds
     * its chunk first: no batch can commit now, so the journal and the items are final. */
    assert_int_equal(db_number(f, "SELECT count(*) FROM job_chunk WHERE job_id = %lld", id), 0);
    long long journaled = db_number(
        f, "SELECT count(*) FROM job_record WHERE job_id = %lld AND outcome = 'imported'", id);
    assert_true(journaled > 0 && journaled < CHUNK_ITEMS);
    assert_int_equal((long long)fx_item_count(f), journaled);

    RUN(f, 0, "job resume %lld", id);
    wait_ended(f, id, status, sizeof status);
    tsrv_stop(&a);
    tsrv_stop(&b);
    assert_string_equal(status, "COMPLETED_SUCCESS");
    assert_exactly_once(f, id, CHUNK_ITEMS);
    print_message("cancelled with %lld of %d records stored; the resume stored the rest\n",
                  journaled, CHUNK_ITEMS);
}

/* PostgreSQL restarts under a running worker (every session ended, as a restart or failover
 * does): the worker makes its connections again and goes on.  The import it was writing is
 * queued to resume from its journal and finishes exactly once, by the same worker; a restart
 * while it idles costs the next job nothing.  (The embedded database has no server to lose:
 * skipped there.) */
static void test_worker_outlives_restart(void **state)
{
    fx *f = *state;
    char url[1024];
    if (!tu_db_address(f->repo, url, sizeof url)) {
        print_message("[  SKIPPED ] the embedded database has no connection to lose\n");
        skip();
    }
    SH(f, 0, "\"$GEN_SAF\" saf %d --file-size 64 >/dev/null", N_ITEMS);
    /* Batches of 400: the writer is inside a transaction but for moments between them, so the
     * sessions end mid-transaction (a transaction lost with its connection is what is tested;
     * one ended between transactions is made again unseen). */
    RUN(f, 0, "import -a -s saf -c %s -m map --batch-size 400 --submit", f->coll);
    long long id = atoll(f->out);
    pid_t a = start_worker(f, "A", NULL);
    char status[64] = "";
    long long at = 0;
    for (long t0 = tsrv_ms(); tsrv_ms() - t0 < 60000; tsrv_sleep_ms(20))
        if ((at = job_state(f, id, status, sizeof status)) >= 400) break;
    assert_true(tpg_end_sessions(url) >= 1);
    long long after = job_state(f, id, status, sizeof status);
    if (after >= N_ITEMS) fail_msg("the restart did not land mid-import: the job had finished");
    for (long t0 = tsrv_ms(); tsrv_ms() - t0 < 120000; tsrv_sleep_ms(100)) {
        job_state(f, id, status, sizeof status);
        if (!strcmp(status, "COMPLETED_SUCCESS") || !strncmp(status, "FAILED", 6)) break;
    }
    assert_string_equal(status, "COMPLETED_SUCCESS");
    assert_exactly_once(f, id, N_ITEMS);
    RUN(f, 0, "job events %lld", id);
    assert_contains(f->out, "The connection to the database was lost");
    assert_contains(f->out, "queued to resume");
    assert_contains(f->out, "Resumed by a worker from its journal");
    assert_not_contains(f->out, "Taken over");
    assert_int_equal(waitpid(a, NULL, WNOHANG), 0); /* the same worker, never restarted */

    assert_true(tpg_end_sessions(url) >= 1); /* idle this time */
    SH(f, 0, "\"$GEN_SAF\" saf2 10 --file-size 64 >/dev/null");
    RUN(f, 0, "import -a -s saf2 -c %s -m map2 --submit", f->coll);
    long long next = atoll(f->out);
    wait_ended(f, next, status, sizeof status);
    assert_string_equal(status, "COMPLETED_SUCCESS");
    RUN(f, 0, "job events %lld", next);
    assert_not_contains(f->out, "lost");
    assert_int_equal(waitpid(a, NULL, WNOHANG), 0);
    tsrv_stop(&a);
    print_message("PostgreSQL's sessions ended at %lld of %d records; the worker resumed the "
                  "job and finished it\n",
                  after, N_ITEMS);
}

/* A repository of the previous release (schema version 10: no job_chunk; simulated from a
 * fresh one, on either store) is upgraded to 11 and runs a chunked import. */
static void test_upgrade_from_v10(void **state)
{
    fx *f = *state;
    tu_db_exec(f->repo, "DROP TABLE job_chunk");
    tu_db_exec(f->repo, "UPDATE meta SET value = '10' WHERE key = 'schema_version'");
    RUN(f, 0, "upgrade");
    char v[16];
    tu_db_text(f->repo, "SELECT value FROM meta WHERE key = 'schema_version'", v, sizeof v);
    assert_string_equal(v, "11");
    SH(f, 0, "\"$GEN_SAF\" saf 500 --file-size 64 >/dev/null");
    RUN(f, 0, "import -a -s saf -c %s -m map --batch-size 10 --submit", f->coll);
    long long id = atoll(f->out);
    RUN(f, 0, "job work --once --chunk 100");
    json_t *j = fx_job(f, id);
    assert_string_equal(fx_status_code(j), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(j, "imported"), 500);
    json_decref(j);
    RUN(f, 0, "job events %lld", id);
    assert_contains(f->out, "Writing in 5 chunks of up to 100 records");
    ASSERT_FSCK_CLEAN(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_killed_worker_is_taken_over), FX_TEST(test_killed_chunk_writer),
        FX_TEST(test_shared_keys_in_chunks),       FX_TEST(test_killed_chunk_owner),
        FX_TEST(test_cancel_and_resume_chunked),   FX_TEST(test_upgrade_from_v10),
        FX_TEST(test_worker_outlives_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
