/* Shared command-line plumbing: repository location, errors, exit codes, progress. */
#define _GNU_SOURCE
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

int cli_exit_code(int code)
{
    switch (code) {
    case BR_OK:
        return EXIT_OK;
    case BR_EUSAGE:
        return EXIT_USAGE;
    case BR_EINVAL:
    case BR_ENOTFOUND:
    case BR_EEXISTS:
    case BR_ELIMIT:
        return EXIT_INVALID;
    case BR_ECANCELLED:
        return EXIT_PARTIAL;
    default:
        return EXIT_IOERR;
    }
}

int cli_fail(const br_error *err)
{
    char buf[2048];
    br_error_format(err, buf, sizeof buf);
    int code = err ? err->code : BR_EINTERNAL;
    fprintf(stderr, "bulkrepo: %s\n", buf[0] ? buf : br_code_name(code));
    /* A failure always exits nonzero, even if a caller's err was not filled. */
    return code ? cli_exit_code(code) : EXIT_IOERR;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bulkrepo %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'bulkrepo %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int cli_open(cli *c, br_repo **repo)
{
    br_error err;
    if (br_repo_open(c->repo_dir, repo, &err)) return cli_fail(&err);
    return 0;
}

void cli_print_diag(void *ctx, const br_diag *d)
{
    (void)ctx;
    char buf[4096];
    br_diag_format(d, buf, sizeof buf);
    fprintf(stderr, "%s\n", buf);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void cli_progress_init(cli_progress *p, const char *unit)
{
    p->enabled = isatty(2);
    p->start = now();
    p->last = 0;
    p->unit = unit;
}

int cli_progress_cb(void *ctx, const char *phase, size_t done, size_t total)
{
    cli_progress *p = ctx;
    if (!p->enabled) return 0;
    double t = now();
    if (done != total && t - p->last < 0.1) return 0;
    p->last = t;
    double rate = done / (t - p->start > 1e-6 ? t - p->start : 1e-6);
    int width = 30, fill = total ? (int)((double)done / total * width) : 0;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = 0;
    fprintf(stderr, "\r%-9s [%s] %zu/%zu %s  %.0f %s/s ", phase, bar, done, total, p->unit, rate,
            p->unit);
    if (done == total) {
        fputc('\n', stderr);
        p->start = now();
    }
    return 0;
}

void cli_progress_end(cli_progress *p)
{
    (void)p;
}

int cli_print_json(char *text)
{
    int rc = EXIT_OK;
    if (!text) {
        fprintf(stderr, "bulkrepo: out of memory\n");
        rc = EXIT_IOERR;
    } else if (fputs(text, stdout) < 0 || fputc('\n', stdout) == EOF) {
        rc = EXIT_IOERR; /* reported by main's final check of stdout */
    }
    free(text);
    return rc;
}

int cli_is_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

int cli_subcommand_help(int argc, char **argv, const char *usage)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return EXIT_OK;
        }
    return -1;
}

int cli_parse_size(const char *s, uint64_t max, uint64_t *out)
{
    if (*s < '0' || *s > '9') return -1; /* strtoull would take "-1" and " 1" */
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    uint64_t mult = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mult = UINT64_C(1000);
        break;
    case 'm':
    case 'M':
        mult = UINT64_C(1000000);
        break;
    case 'g':
    case 'G':
        mult = UINT64_C(1000000000);
        break;
    default:
        break;
    }
    if (mult > 1) end++;
    if (*end || errno || v == 0 || v > max / mult) return -1;
    *out = (uint64_t)v * mult;
    return 0;
}

const char *cli_whoami(void)
{
    const char *u = getenv("USER");
    if (u && *u) return u;
    struct passwd *pw = getpwuid(geteuid());
    return pw && pw->pw_name && *pw->pw_name ? pw->pw_name : NULL;
}
