/* The bulkrepo command line: a thin client of the library. */
#ifndef BR_CLI_H
#define BR_CLI_H

#include <stdio.h>
#include "bulkrepo/bulkrepo.h"

/* Exit codes (README): */
enum {
    EXIT_OK = 0,      /* done */
    EXIT_PARTIAL = 1, /* completed with errors (some records left out) */
    EXIT_USAGE = 2,   /* bad command line */
    EXIT_INVALID = 3, /* invalid input; nothing was written */
    EXIT_IOERR = 4    /* internal, I/O or database error */
};

typedef struct cli {
    const char *repo_dir; /* --repo, $BULKREPO_REPO, ./bulkrepo-data */
    const char *prog;
    int repo_given; /* --repo was on the command line (lint checks against a repository only then)
                     */
} cli;

typedef int (*cmd_fn)(cli *c, int argc, char **argv);

/* Opens the repository or prints why not; returns an exit code (0 = opened). */
int cli_open(cli *c, br_repo **repo);
/* Who runs the command, recorded as the submitter of what it queues: $USER, else the
 * account name of the process's user (cron and CI run without $USER), else NULL. */
const char *cli_whoami(void);
/* Prints err on stderr and maps its code to an exit code (never EXIT_OK;
 * err may be NULL). */
int cli_fail(const br_error *err);
int cli_exit_code(int br_code);
/* Prints a usage error and the hint to run --help. */
/* For "bulkrepo NOUN SUB ...": with no subcommand prints usage to stderr and
 * returns EXIT_USAGE; with --help or -h anywhere prints it to stdout and returns
 * EXIT_OK; otherwise returns -1 (go on). */
/* A size given on the command line: digits with an optional K, M or G (powers
 * of 1000, as the seeds' MB and limits.h's defaults).  Returns 0 and sets *out,
 * or -1 when s is malformed, zero or above max (no sign, no wrap-around). */
int cli_parse_size(const char *s, uint64_t max, uint64_t *out);
int cli_subcommand_help(int argc, char **argv, const char *usage);
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Diagnostics printer for br_diag_sink (stderr). */
void cli_print_diag(void *ctx, const br_diag *d);
/* Progress bar on stderr when it is a terminal (ctx: a cli_progress). */
typedef struct cli_progress {
    int enabled;
    double start, last;
    const char *unit;
} cli_progress;
void cli_progress_init(cli_progress *p, const char *unit);
int cli_progress_cb(void *ctx, const char *phase, size_t done, size_t total);
void cli_progress_end(cli_progress *p);
/* Prints a JSON text (json_dumps' result, NULL when it ran out of memory) and
 * frees it; returns EXIT_OK or EXIT_IOERR.  main checks stdout once more when
 * the command ends, so a write error is never an exit 0. */
int cli_print_json(char *text);
int cli_is_help(int argc, char **argv);
/* Queues a job (engine.h) and prints its id on stdout; returns an exit code. */
int cli_submit_job(cli *c, const char *type, const char *name, const char *eperson,
                   const char *params_json, const char *file);

/* Waiting for jobs (cli_wait.c).  Ctrl-C or TERM sets a flag that cli_interrupted() reads:
 * the wait stops, the jobs go on. */
void cli_catch_signals(void);
int cli_interrupted(void);
/* A command that waits for the jobs it queued runs the queue here with one worker, unless
 * another process's engine (`serve`, `job work`) holds it: then it waits for that one, and
 * takes the queue over should that process stop (its start-up recovery ends what the other
 * left).  start: EXIT_OK, or the exit code of the failure (printed); it catches signals.
 * wait: one poll (100 ms).  stop: the engine's worker finishes the job's end first. */
typedef struct cli_runner {
    cli *c;
    br_engine *eng; /* NULL while another process runs the queue */
    unsigned ticks;
} cli_runner;
int cli_runner_start(cli *c, int64_t job_id, cli_runner *r);
void cli_runner_wait(cli_runner *r);
void cli_runner_stop(cli_runner *r);
/* The exit code of an ended job: 0 completed (or with no bulks), 3 failed on its data, 4
 * failed otherwise, 1 completed with errors, aborted or left for manual handling. */
int cli_job_exit(const br_job *j);

int cmd_init(cli *c, int argc, char **argv);
int cmd_collection(cli *c, int argc, char **argv);
int cmd_community(cli *c, int argc, char **argv);
int cmd_registry(cli *c, int argc, char **argv);
int cmd_group(cli *c, int argc, char **argv);
int cmd_import(cli *c, int argc, char **argv);
int cmd_export(cli *c, int argc, char **argv);
int cmd_item(cli *c, int argc, char **argv);
int cmd_search(cli *c, int argc, char **argv);
int cmd_job(cli *c, int argc, char **argv);
int cmd_profile(cli *c, int argc, char **argv);
int cmd_fsck(cli *c, int argc, char **argv);
int cmd_user(cli *c, int argc, char **argv);
int cmd_serve(cli *c, int argc, char **argv);
int cmd_orgunit(cli *c, int argc, char **argv);
int cmd_lint(cli *c, int argc, char **argv);
int cmd_convert(cli *c, int argc, char **argv);
int cmd_upgrade(cli *c, int argc, char **argv);
int cmd_trash(cli *c, int argc, char **argv);
int cmd_set(cli *c, int argc, char **argv);
int cmd_doi(cli *c, int argc, char **argv);
int cmd_normalize(cli *c, int argc, char **argv);
int cmd_mail(cli *c, int argc, char **argv);
int cmd_researcher(cli *c, int argc, char **argv);
int cmd_orcid(cli *c, int argc, char **argv);

#endif
