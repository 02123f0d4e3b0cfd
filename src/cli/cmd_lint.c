/* bulkrepo lint: check an Esploro research-asset CSV, optionally write a fixed copy. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bulkrepo/esploro.h"
#include "cli.h"

static void help(void)
{
    printf("usage: bulkrepo [--repo DIR] lint [--repo DIR] FILE.csv [--json] [--fix OUT.csv] "
           "[--quiet]\n\n"
           "Checks an Esploro research-asset CSV (Ex Libris import template or \"Research\n"
           "assets CSV export\") in one streaming pass and lists every problem with its\n"
           "cell, row type, group key, rule and a hint, then a summary.  Without a\n"
           "repository only the format rules are checked; with --repo DIR (given\n"
           "explicitly) affiliation codes must be known org units and RESEARCH_ASSET_IDs\n"
           "existing items.\n\n"
           "ASSET_TITLE, ASSET_RESTYPE, ASSET_AFFILIATION and one ASSET date are mandatory for\n"
           "new assets (GROUP_ID).  RESEARCH_ASSET_ID rows update existing assets: there an\n"
           "empty cell is an error only where it would delete a mandatory value the asset has\n"
           "(with --repo the asset is looked at; without it a title and a type count as held).\n\n"
           "  --fix OUT.csv  write a corrected copy: whitespace trimmed, line breaks as <p>\n"
           "                 paragraphs (long text) or spaces, dates such as 2021-10-18 as\n"
           "                 20211018, codes in their canonical case, LINK values of real\n"
           "                 exports moved under their headers, LF line ends, no BOM; each\n"
           "                 change is listed as a note\n"
           "  --json         print the findings and the summary as JSON\n"
           "  --quiet        print only the summary\n\n"
           "Exit codes: 0 clean (or warnings only), 3 errors in FILE.csv, 2 usage,\n"
           "4 I/O error.\n");
}

typedef struct lint_ctx {
    const char *file;
    int quiet;
    json_t *findings; /* --json */
} lint_ctx;

/* The message without the cell prefix and the "(TYPE row, group K)" suffix the library adds
 * for plain printers; *rowtype gets TYPE ("" when none). */
static void split_message(const br_diag *d, char *msg, size_t size, char *rowtype, size_t rsize)
{
    const char *m = d->message ? d->message : "";
    size_t cl = d->cell ? strlen(d->cell) : 0;
    if (cl && !strncmp(m, d->cell, cl) && m[cl] == ':' && m[cl + 1] == ' ') m += cl + 2;
    snprintf(msg, size, "%s", m);
    rowtype[0] = 0;
    char *open = strrchr(msg, '(');
    size_t n = strlen(msg);
    if (!open || n < 2 || msg[n - 1] != ')' || open == msg || open[-1] != ' ') return;
    const char *key = d->item ? d->item : "";
    char *g = strstr(open, "group ");
    if (!g || strncmp(g + 6, key, strlen(key)) || g + 6 + strlen(key) != msg + n - 1) return;
    char *row = strstr(open, " row, group ");
    if (row && row < g) snprintf(rowtype, rsize, "%.*s", (int)(row - open - 1), open + 1);
    open[-1] = 0;
}

static void on_diag(void *vctx, const br_diag *d)
{
    lint_ctx *x = vctx;
    char msg[1400], rowtype[32];
    split_message(d, msg, sizeof msg, rowtype, sizeof rowtype);
    if (x->findings) {
        json_t *o = json_pack("{s:s, s:s, s:s?, s:i, s:i, s:s?, s:s?, s:s, s:s?}", "severity",
                              br_severity_name(d->severity), "rule", d->rule ? d->rule : "", "cell",
                              d->cell, "row", (json_int_t)d->line, "column", (json_int_t)d->column,
                              "rowtype", *rowtype ? rowtype : NULL, "group", d->item, "message",
                              msg, "hint", d->hint);
        if (o) json_array_append_new(x->findings, o);
        return;
    }
    if (x->quiet) return;
    printf("%s", x->file);
    if (d->line) printf(":%u", d->line);
    printf(":");
    if (d->cell) printf(" %s", d->cell);
    if (*rowtype || d->item)
        printf(" [%s%s%s%s]", rowtype, *rowtype && d->item ? " " : "", d->item ? "group " : "",
               d->item ? d->item : "");
    printf(" %s %s: %s", br_severity_name(d->severity), d->rule ? d->rule : "", msg);
    if (d->hint) printf(" (hint: %s)", d->hint);
    printf("\n");
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int cmd_lint(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'},  {"fix", required_argument, 0, 'f'},
        {"quiet", no_argument, 0, 'q'}, {"repo", required_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'},  {0, 0, 0, 0}};
    lint_ctx x = {0};
    br_ecsv_options o = {0};
    int json = 0, opt;
    while ((opt = getopt_long(argc, argv, "jf:qh", opts, NULL)) != -1) {
        switch (opt) {
        case 'j':
            json = 1;
            break;
        case 'f':
            o.fix_path = optarg;
            break;
        case 'q':
            x.quiet = 1;
            break;
        case 'r':
            /* --repo after the command, as before it: check against that repository. */
            c->repo_dir = optarg;
            c->repo_given = 1;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage("lint", "unknown option");
        }
    }
    if (optind + 1 != argc) return cli_usage("lint", "give exactly one FILE.csv");
    x.file = argv[optind];
    if (o.fix_path && !strcmp(o.fix_path, x.file))
        return cli_usage("lint", "--fix writes a new file; give another name than FILE.csv");
    br_repo *repo = NULL;
    if (c->repo_given) {
        int rc = cli_open(c, &repo);
        if (rc) return rc;
    }
    br_limits_default(&o.limits);
    o.repo = repo;
    br_diag_sink sink = {on_diag, &x, 0, 0, 0};
    o.diags = &sink;
    if (json) x.findings = json_array();
    br_ecsv_summary sum;
    br_error err;
    br_error_clear(&err);
    double t0 = now();
    int rc = br_ecsv_lint(x.file, &o, &sum, &err);
    double secs = now() - t0;
    br_repo_free(repo);
    /* A cap or a malformed row stops the pass: it is reported as a finding already. */
    int input_stop = rc == BR_ELIMIT || rc == BR_EINVAL;
    if (rc && !input_stop) {
        json_decref(x.findings);
        cli_fail(&err);
        return EXIT_IOERR;
    }
    double mb = (double)sum.bytes / 1e6, rate = secs > 1e-9 ? mb / secs : 0;
    if (json) {
        json_t *root = json_pack("{s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:b}, s:o}",
                                 "file", x.file, "summary", "bytes", (json_int_t)sum.bytes, "rows",
                                 (json_int_t)sum.rows, "groups", (json_int_t)sum.groups, "errors",
                                 (json_int_t)sum.errors, "warnings", (json_int_t)sum.warnings,
                                 "fixes", (json_int_t)sum.fixes, "seconds", secs, "mb_per_s", rate,
                                 "complete", !input_stop, "findings", x.findings);
        int wrc = cli_print_json(json_dumps(root, JSON_INDENT(2)));
        json_decref(root);
        if (wrc) return wrc;
    } else {
        printf("%s: %zu rows, %zu groups: %zu error%s, %zu warning%s", x.file, sum.rows, sum.groups,
               sum.errors, sum.errors == 1 ? "" : "s", sum.warnings, sum.warnings == 1 ? "" : "s");
        if (o.fix_path)
            printf(", %zu fix%s written to %s", sum.fixes, sum.fixes == 1 ? "" : "es",
                   input_stop ? "(nothing: stopped)" : o.fix_path);
        printf(" (%.1f MB in %.2f s, %.0f MB/s)%s\n", mb, secs, rate,
               input_stop ? "; stopped early" : "");
    }
    return sum.errors || input_stop ? EXIT_INVALID : EXIT_OK;
}
