/* Commands that wait for the jobs they queued (`job run --wait`, `export --deliver`,
 * `profile run --wait`): the queue is run here, or by the process that holds it. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

#define POLL_MS        100u
#define TAKEOVER_POLLS 20u /* every 2 s without an engine of its own, try to take the queue */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

void cli_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_interrupted(void)
{
    return interrupted != 0;
}

/* A one-worker engine on c's repository: 0 and *out; BR_EEXISTS when another process holds
 * the queue (*out NULL); another code with err filled. */
static int own_engine(cli *c, br_engine **out, br_error *err)
{
    br_engine_options o;
    memset(&o, 0, sizeof o);
    o.workers = 1;
    o.queue_poll_ms = POLL_MS;
    br_engine *eng = NULL;
    int rc = br_engine_new(c->repo_dir, &o, &eng, err);
    if (!rc) rc = br_engine_start(eng, err);
    if (rc) {
        br_engine_free(eng);
        eng = NULL;
    }
    *out = eng;
    return rc;
}

int cli_runner_start(cli *c, int64_t id, cli_runner *r)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    br_error err;
    int rc = own_engine(c, &r->eng, &err);
    if (rc == BR_EEXISTS) {
        fprintf(stderr, "job %lld: another process runs this repository's jobs; waiting for it\n",
                (long long)id);
        rc = 0;
    }
    if (rc) return cli_fail(&err);
    cli_catch_signals();
    return EXIT_OK;
}

void cli_runner_wait(cli_runner *r)
{
    usleep(POLL_MS * 1000u);
    /* Waiting for another process's engine: should it stop (killed, crashed), this one takes
     * over, and its start-up recovery ends a job the other left half done. */
    if (!r->eng && ++r->ticks % TAKEOVER_POLLS == 0) {
        br_error err;
        own_engine(r->c, &r->eng, &err);
    }
}

void cli_runner_stop(cli_runner *r)
{
    br_engine_free(r->eng); /* its worker finishes the job's end (events, mail) first */
    r->eng = NULL;
}

int cli_job_exit(const br_job *j)
{
    switch (j->status) {
    case BR_JOB_COMPLETED_SUCCESS:
    case BR_JOB_COMPLETED_NO_BULKS:
        return EXIT_OK;
    case BR_JOB_FAILED:
        /* Refused for its data (nothing written) or for another reason (I/O, interrupted). */
        return !strcmp(j->failure, BR_FAILURE_DATA) ? EXIT_INVALID : EXIT_IOERR;
    default: /* completed with errors, aborted, manual handling required */
        return EXIT_PARTIAL;
    }
}
