/* bulkrepo convert: from one registry format to another (SAF <-> Esploro research-asset
 * CSV), no repository needed. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/convert.h"
#include "bulkrepo/format.h"
#include "cli.h"

static void help(void)
{
    char from[256], to[256];
    br_format_names(BR_FORMAT_READ, from, sizeof from);
    br_format_names(BR_FORMAT_WRITE, to, sizeof to);
    printf("usage: bulkrepo convert --from FORMAT --to FORMAT IN OUT [--default COLUMN=VALUE]... "
           "[--json]\n"
           "  e.g. bulkrepo convert --from saf --to esploro-csv IN OUT.csv\n"
           "       bulkrepo convert --from esploro-csv --to saf IN.csv OUT\n\n"
           "Converts a batch from one format to another through the record model: a DSpace\n"
           "Simple Archive Format package (a folder or a zip) to an Esploro research-asset\n"
           "CSV (crosswalk data/esploro_fields.tsv), or back.  No repository is needed.\n\n"
           "saf -> esploro-csv: one group per item folder (GROUP_ID = the folder), files\n"
           "copied to OUT.csv.files/ and referenced relative to the CSV.\n"
           "esploro-csv -> saf: one item folder per group; structured creators become\n"
           "dc.contributor.*; FILE rows with local files become bitstreams (http(s) files\n"
           "are not fetched: reported).\n\n"
           "The report lists every value that has no field in the target format, with its\n"
           "item or group and field, and every value that had to change.  The input is\n"
           "checked whole first: with errors nothing is written.  OUT must not exist.\n\n"
           "  --from FORMAT   %s\n"
           "  --to FORMAT     %s\n"
           "  --default COLUMN=VALUE\n"
           "                  a value for every record that has none in COLUMN (repeatable),\n"
           "                  e.g. --default ASSET_AFFILIATION=01EXAMPLE___UNIT: Esploro requires\n"
           "                  an affiliation, a type, a title and a date of every new asset, and\n"
           "                  a SAF package has no affiliation; the report names each record\n"
           "                  that lacks one of them and the --default that gives it\n"
           "  --json          print the report as JSON on stdout\n\n"
           "Exit: 0 nothing lost or changed, 1 converted but some values had no target or\n"
           "changed (each listed), 2 usage, 3 invalid input (nothing written), 4 I/O.\n",
           from, to);
}

#define MAX_MISSING 8

typedef struct report {
    int json;
    json_t *findings;
    /* ecsv.write.mandatory warnings by the --default that answers them */
    struct {
        char fix[160];
        size_t records;
    } missing[MAX_MISSING];
    size_t n_missing;
} report;

/* A writer's finding that a record lacks a value the target requires names the --default
 * that gives it in its hint: counted by that option for the closing summary. */
static void count_missing(report *r, const br_diag *d)
{
    const char *o = d->hint ? strstr(d->hint, "--default ") : NULL;
    if (!d->rule || strcmp(d->rule, "ecsv.write.mandatory") || !o) return;
    char fix[160];
    snprintf(fix, sizeof fix, "%s", o);
    for (size_t i = 0; i < r->n_missing; i++)
        if (!strcmp(r->missing[i].fix, fix)) {
            r->missing[i].records++;
            return;
        }
    if (r->n_missing == MAX_MISSING) return;
    snprintf(r->missing[r->n_missing].fix, sizeof r->missing[0].fix, "%s", fix);
    r->missing[r->n_missing++].records = 1;
}

static void on_finding(void *ctx, const br_diag *d)
{
    report *r = ctx;
    count_missing(r, d);
    if (!r->json) {
        cli_print_diag(NULL, d);
        return;
    }
    json_t *o = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?}", "severity",
                          br_severity_name(d->severity), "rule", d->rule, "item", d->item, "source",
                          d->source, "cell", d->cell, "message", d->message);
    if (o && d->line) json_object_set_new(o, "line", json_integer(d->line));
    if (o && d->hint) json_object_set_new(o, "hint", json_string(d->hint));
    if (o) json_array_append_new(r->findings, o);
}

/* The command with the --default list made by cmd_convert (room for one per argument). */
static int convert_main(int argc, char **argv, const char **defaults)
{
    static const struct option opts[] = {
        {"from", required_argument, 0, 'f'}, {"to", required_argument, 0, 't'},
        {"json", no_argument, 0, 'j'},       {"default", required_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *from = NULL, *to = NULL;
    int json = 0, opt;
    size_t n_defaults = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'd':
            defaults[n_defaults++] = optarg;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage("convert", "unknown option");
        }
    }
    char names[256];
    const br_format_info *fi = br_format_info_find(from), *ti = br_format_info_find(to);
    if (!fi || !(fi->caps & BR_FORMAT_READ)) {
        br_format_names(BR_FORMAT_READ, names, sizeof names);
        return cli_usage("convert", "--from must be one of: %s", names);
    }
    if (!ti || !(ti->caps & BR_FORMAT_WRITE)) {
        br_format_names(BR_FORMAT_WRITE, names, sizeof names);
        return cli_usage("convert", "--to must be one of: %s", names);
    }
    if (fi == ti) return cli_usage("convert", "--from and --to are the same format");
    br_convert_options o = {0};
    o.from_name = fi->name;
    o.to_name = ti->name;
    if (argc - optind != 2) return cli_usage("convert", "give the input and the output");
    o.in = argv[optind];
    o.out = argv[optind + 1];
    o.defaults = defaults;
    report rep = {0};
    rep.json = json;
    rep.findings = json_array();
    br_diag_sink sink = {on_finding, &rep, 0, 0, 0};
    o.diags = &sink;
    cli_progress prog;
    cli_progress_init(&prog, fi->unit);
    if (!json) {
        o.progress = cli_progress_cb;
        o.progress_ctx = &prog;
    }
    br_error err;
    br_error_clear(&err);
    br_convert_result res;
    int brc = br_convert(&o, &res, &err);
    if (!json) cli_progress_end(&prog);
    int rc = brc ? cli_exit_code(err.code) : (res.lost || res.changed) ? EXIT_PARTIAL : EXIT_OK;
    if (json) {
        json_t *out = json_object();
        json_object_set_new(out, "from", json_string(from));
        json_object_set_new(out, "to", json_string(to));
        json_object_set_new(out, "input", json_string(o.in));
        json_object_set_new(out, "output", json_string(o.out));
        json_object_set_new(out, "written", json_boolean(!brc));
        if (brc) {
            char msg[2048];
            br_error_format(&err, msg, sizeof msg);
            json_object_set_new(out, "error", json_string(msg));
        }
        json_object_set_new(out, "records", json_integer((json_int_t)res.records));
        json_object_set_new(out, "files", json_integer((json_int_t)res.files));
        json_object_set_new(out, "lost", json_integer((json_int_t)res.lost));
        json_object_set_new(out, "changed", json_integer((json_int_t)res.changed));
        json_object_set_new(out, "invalid", json_integer((json_int_t)res.invalid));
        json_object_set_new(out, "nothing_lost", json_boolean(!brc && !res.lost && !res.changed));
        json_object_set(out, "findings", rep.findings);
        cli_print_json(json_dumps(out, JSON_INDENT(2)));
        json_decref(out);
    } else if (brc) {
        cli_fail(&err);
    } else {
        fprintf(stderr, "converted %zu %s, %zu file%s: ", res.records, fi->unit, res.files,
                res.files == 1 ? "" : "s");
        if (!res.lost && !res.changed)
            fprintf(stderr, "nothing lost\n");
        else
            fprintf(stderr,
                    "%zu value%s with no target field, %zu value%s changed (listed above)\n",
                    res.lost, res.lost == 1 ? "" : "s", res.changed, res.changed == 1 ? "" : "s");
        /* What the user must add before the target system takes the output. */
        for (size_t i = 0; i < rep.n_missing; i++)
            fprintf(stderr,
                    "%zu record%s lack%s a value the target requires: add it to the input, "
                    "or give it with %s\n",
                    rep.missing[i].records, rep.missing[i].records == 1 ? "" : "s",
                    rep.missing[i].records == 1 ? "s" : "", rep.missing[i].fix);
    }
    json_decref(rep.findings);
    return rc;
}

int cmd_convert(cli *c, int argc, char **argv)
{
    (void)c;
    const char **defaults = calloc((size_t)argc + 1, sizeof *defaults);
    if (!defaults) {
        fprintf(stderr, "bulkrepo: out of memory\n");
        return EXIT_IOERR;
    }
    int rc = convert_main(argc, argv, defaults);
    free(defaults);
    return rc;
}
