/* Leases: several workers share the queue, in one process or on many machines (issue 16).
 *
 * Each engine claims jobs in its worker's name (br_engine_options.worker_name, default
 * "HOST:PID") and a lease thread keeps the heartbeat of its jobs fresh, every quarter of the
 * lease.  The same thread looks for jobs whose worker died and recovers them as start-up used
 * to (an import resumes from its journal, others run again or fail "interrupted"):
 *   - a job whose heartbeat is older than the lease: its worker stopped beating, wherever it
 *     ran (a killed process, a machine that went away);
 *   - at once, a job whose worker is a process of this host that no longer exists (the
 *     default name says which), so that a restart after a crash does not wait out the lease,
 *     and a job in this engine's own name that none of its workers runs.
 * Taking a job over is one conditional UPDATE (br_job_take_over): of two workers that both
 * see a stale job, one wins. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bulkrepo/engine.h"
#include "core/core.h"
#include "engine_internal.h"

#define LEASE_DEFAULT_S 60

unsigned br_engine_lease_seconds(const br_engine *eng)
{
    unsigned s = br_engine_opts(eng)->lease_seconds;
    return s ? s : LEASE_DEFAULT_S;
}

int br_worker_default_name(char *out, size_t size)
{
    char host[256];
    if (gethostname(host, sizeof host)) br_strlcpy(host, "localhost", sizeof host);
    host[sizeof host - 1] = 0;
    int n = snprintf(out, size, "%s:%ld", host, (long)getpid());
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* 1 when worker is a default name ("HOST:PID") of this host whose process is gone. */
static int local_and_dead(const char *worker)
{
    if (!worker) return 0;
    char host[256];
    if (gethostname(host, sizeof host)) return 0;
    host[sizeof host - 1] = 0;
    size_t n = strlen(host);
    if (strncmp(worker, host, n) || worker[n] != ':') return 0;
    char *end;
    long pid = strtol(worker + n + 1, &end, 10);
    if (*end || pid <= 0) return 0;
    return kill((pid_t)pid, 0) && errno == ESRCH;
}

typedef struct round {
    br_engine *eng;
    br_repo *repo;
    int64_t now, cutoff;
    size_t taken;
} round;

static int consider(void *ctx, int64_t id, const char *worker)
{
    round *r = ctx;
    const char *me = br_engine_worker(r->eng);
    const char *dead = NULL;
    if (worker && !strcmp(worker, me)) {
        /* In our name but run by none of our workers: left by an engine of ours that
         * stopped without ending it (one that crashed in this process, or a process whose
         * pid we now have). */
        if (br_engine_runs(r->eng, id)) return 0;
        dead = worker;
    } else if (local_and_dead(worker)) {
        dead = worker;
    }
    int got = br_job_take_over(r->repo, id, me, r->now, r->cutoff, dead, NULL);
    if (got == 1) {
        br_engine_recover_job(r->eng, r->repo, id, worker);
        r->taken++;
    }
    return 0;
}

int br_lease_round(br_engine *eng, br_repo *repo, size_t *taken, br_error *err)
{
    int64_t now = (int64_t)time(NULL);
    round r = {eng, repo, now, now - (int64_t)br_engine_lease_seconds(eng), 0};
    /* Every unfinished job is considered (the list's cutoff is "any"): the conditional
     * UPDATE decides, by heartbeat or by a dead local process. */
    int rc = br_job_list_stale(repo, INT64_MAX, consider, &r, err);
    if (taken) *taken = r.taken;
    return rc;
}

void *br_lease_main(void *arg)
{
    br_engine *eng = arg;
    br_repo *repo = NULL;
    if (br_repo_open(br_engine_dir(eng), &repo, NULL)) return NULL;
    br_repo_set_write_gate(repo, br_engine_opts(eng)->write_gate);
    unsigned beat_ms = br_engine_lease_seconds(eng) * 1000 / 4;
    while (!br_engine_sleep_stop_only(eng, beat_ms)) {
        /* A failed beat or round is tried again at the next tick: the lease allows three. */
        br_job_heartbeat(repo, br_engine_worker(eng), (int64_t)time(NULL), NULL);
        br_job_chunk_heartbeat(repo, br_engine_worker(eng), (int64_t)time(NULL), NULL);
        br_lease_round(eng, repo, NULL, NULL);
    }
    br_repo_free(repo);
    return NULL;
}
