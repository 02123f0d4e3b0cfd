/* bulkrepo export: DSpace's `export` options (SAF), and the Esploro research-asset CSV. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>
#include <limits.h>
#include "bulkrepo/esploro.h"
#include "cli.h"

static void help(void)
{
    printf("usage: bulkrepo [--repo DIR] export -t COLLECTION|ITEM -i HANDLE -d DEST [-n SEQ] [-m] "
           "[-x]\n"
           "                [-z ZIPNAME] [--json]\n"
           "       bulkrepo [--repo DIR] export --format esploro-csv -t COLLECTION|ITEM|ALL [-i "
           "HANDLE]\n"
           "                -d OUT.csv [--fields LIST | --categories LIST] [-x] [--json]\n\n"
           "--format saf (the default) writes a DSpace Simple Archive Format package: one\n"
           "folder per item (DEST/SEQ, SEQ+1, ...) in handle order, with dublin_core.xml,\n"
           "metadata_<schema>.xml, contents, collections, handle, relationships and the files.\n\n"
           "--format esploro-csv writes one Esploro research-asset CSV: per item an ASSET row,\n"
           "PRTOF, CREATOR/OCREATOR, CONT/OCONT, LINK and FILE rows; column B is\n"
           "RESEARCH_ASSET_ID = the handle, so an edited file re-imports as an update.  Files\n"
           "are copied to OUT.csv.files/ and referenced relative to the CSV.  Values without\n"
           "an Esploro column are reported (notes), values that had to change are warnings.\n\n"
           "  -t, --type TYPE      COLLECTION or ITEM (esploro-csv also ALL: every item)\n"
           "  -i, --id HANDLE      the collection's or item's handle\n"
           "  -d, --dest DIR|FILE  saf: destination folder (must exist); esploro-csv: the CSV\n"
           "                       (must not exist)\n"
           "  -n, --number SEQ     saf: number of the first item folder (default 1)\n"
           "  -m, --migrate        saf: for another repository: no handle files, no accession\n"
           "                       dates, provenance or handle URIs (it regenerates them)\n"
           "  -x, --exclude-bitstreams  saf: list files in contents but do not write them;\n"
           "                       esploro-csv: no FILE columns (a re-import keeps the files)\n"
           "  -z, --zip NAME       saf: write DEST/NAME as a zip instead of folders\n"
           "      --format FORMAT  saf (default) or esploro-csv\n"
           "      --submit         queue the export as a job and print its id; without -d the\n"
           "                       result goes to the repository's exports/<id>/\n"
           "      --fields LIST    esploro-csv: only these columns (comma-separated, e.g.\n"
           "                       ASSET_TITLE,ASSET_DOI,CREATOR_ORCID)\n"
           "      --categories LIST  esploro-csv: only the columns of these categories:\n"
           "                       ");
    br_ecsv_xwalk *x;
    if (!br_ecsv_xwalk_new(&x, NULL)) {
        size_t col = 23;
        for (size_t i = 0, n = br_ecsv_xwalk_count(x); i < n; i++) {
            const char *c = br_ecsv_xwalk_at(x, i)->category;
            int seen = 0;
            for (size_t k = 0; k < i && !seen; k++)
                seen = !strcmp(br_ecsv_xwalk_at(x, k)->category, c);
            if (seen) continue;
            if (col + strlen(c) + 2 > 79) {
                printf("\n                       ");
                col = 23;
            }
            printf("%s%s", i ? ", " : "", c);
            col += strlen(c) + 2;
        }
        br_ecsv_xwalk_free(x);
    }
    printf("\n      --json           print the job report as JSON\n");
}

/* Splits a comma-separated list in place (empty items are dropped). */
static size_t split_list(char *s, const char **out, size_t max)
{
    size_t n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ",")) {
        while (*tok == ' ')
            tok++;
        size_t l = strlen(tok);
        while (l && tok[l - 1] == ' ')
            tok[--l] = 0;
        if (*tok) out[n++] = tok;
    }
    return n;
}

/* Usage error for an unknown column or category, listing the valid names. */
static int check_names(const char *const *names, size_t n, int categories)
{
    br_ecsv_xwalk *x;
    br_error err;
    if (br_ecsv_xwalk_new(&x, &err)) return cli_fail(&err);
    int rc = 0;
    size_t count = br_ecsv_xwalk_count(x);
    for (size_t i = 0; i < n && !rc; i++) {
        int found = 0;
        for (size_t k = 0; k < count && !found; k++) {
            const br_ecsv_field *f = br_ecsv_xwalk_at(x, k);
            found = !strcasecmp(categories ? f->category : f->column, names[i]);
        }
        if (found) continue;
        fprintf(stderr, "bulkrepo export: unknown Esploro %s '%s'; valid %s:\n ",
                categories ? "category" : "column", names[i],
                categories ? "categories" : "columns");
        size_t col = 1;
        for (size_t k = 0; k < count; k++) {
            const char *name =
                categories ? br_ecsv_xwalk_at(x, k)->category : br_ecsv_xwalk_at(x, k)->column;
            int seen = 0;
            for (size_t j = 0; categories && j < k && !seen; j++)
                seen = !strcmp(br_ecsv_xwalk_at(x, j)->category, name);
            if (seen) continue;
            if (col + strlen(name) + 2 > 79) {
                fprintf(stderr, "\n ");
                col = 1;
            }
            fprintf(stderr, " %s", name);
            col += strlen(name) + 1;
        }
        fprintf(stderr, "\nTry 'bulkrepo export --help'.\n");
        rc = EXIT_USAGE;
    }
    br_ecsv_xwalk_free(x);
    return rc;
}

/* Findings of the Esploro export: each warning, the first notes, then counts. */
#define NOTES_SHOWN 20
typedef struct findings {
    size_t notes_shown;
} findings;

static void print_finding(void *ctx, const br_diag *d)
{
    findings *f = ctx;
    if (d->severity == BR_SEV_NOTE && f->notes_shown++ >= NOTES_SHOWN) return;
    cli_print_diag(NULL, d);
}

#define MAX_LIST 512

/* --submit: the options as a queued job's parameters (engine.h), paths absolute. */
static int submit_export(cli *c, const br_export_options *o, int esploro)
{
    static const char *scopes[] = {"collection", "item", "all"};
    json_t *p = json_object();
    json_object_set_new(p, "scope", json_string(scopes[o->scope]));
    if (o->id) json_object_set_new(p, "id", json_string(o->id));
    if (o->dest) {
        /* A SAF destination folder must exist; an Esploro CSV must not. */
        char dir[PATH_MAX], real[PATH_MAX], dest[2 * PATH_MAX];
        snprintf(dir, sizeof dir, "%s", o->dest);
        char *slash = esploro ? strrchr(dir, '/') : NULL;
        if (slash) *slash = 0;
        if (!realpath(esploro ? (slash ? (*dir ? dir : "/") : ".") : dir, real)) {
            json_decref(p);
            return cli_usage("export", "the destination's folder does not exist");
        }
        if (esploro)
            snprintf(dest, sizeof dest, "%s/%s", strcmp(real, "/") ? real : "", slash ? slash + 1 : o->dest);
        else
            snprintf(dest, sizeof dest, "%s", real);
        json_object_set_new(p, "dest", json_string(dest));
    }
    if (o->seq != 1) json_object_set_new(p, "seq", json_integer(o->seq));
    if (o->migrate) json_object_set_new(p, "migrate", json_true());
    if (o->exclude_bitstreams) json_object_set_new(p, "exclude_bitstreams", json_true());
    if (o->zip) json_object_set_new(p, "zip", json_string(o->zip));
    char *params = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    int rc = cli_submit_job(c, esploro ? "export-esploro" : "export-saf", NULL, getenv("USER"), params, NULL);
    free(params);
    return rc;
}

int cmd_export(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"type", required_argument, 0, 't'},
                                         {"id", required_argument, 0, 'i'},
                                         {"dest", required_argument, 0, 'd'},
                                         {"number", required_argument, 0, 'n'},
                                         {"migrate", no_argument, 0, 'm'},
                                         {"exclude-bitstreams", no_argument, 0, 'x'},
                                         {"zip", required_argument, 0, 'z'},
                                         {"json", no_argument, 0, 1},
                                         {"format", required_argument, 0, 2},
                                         {"fields", required_argument, 0, 3},
                                         {"categories", required_argument, 0, 4},
                                         {"submit", no_argument, 0, 5},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    br_export_options o = {0};
    o.seq = 1;
    const char *type = NULL, *fields = NULL, *categories = NULL;
    int json = 0, opt, esploro = 0, saf_only = 0, submit = 0;
    while ((opt = getopt_long(argc, argv, "t:i:d:n:mxz:h", opts, NULL)) != -1) {
        switch (opt) {
        case 't':
            type = optarg;
            break;
        case 'i':
            o.id = optarg;
            break;
        case 'd':
            o.dest = optarg;
            break;
        case 'n': {
            char *end;
            o.seq = strtol(optarg, &end, 10);
            if (*end || o.seq < 0) return cli_usage("export", "-n takes a number");
            saf_only = 1;
            break;
        }
        case 'm':
            o.migrate = 1, saf_only = 1;
            break;
        case 'x':
            o.exclude_bitstreams = 1;
            break;
        case 'z':
            o.zip = optarg, saf_only = 1;
            break;
        case 1:
            json = 1;
            break;
        case 2:
            if (!strcmp(optarg, "esploro-csv"))
                esploro = 1;
            else if (strcmp(optarg, "saf"))
                return cli_usage("export",
                                 "unsupported --format '%s' (supported: saf, esploro-csv)", optarg);
            break;
        case 3:
            fields = optarg;
            break;
        case 4:
            categories = optarg;
            break;
        case 5:
            submit = 1;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage("export", "unknown option");
        }
    }
    if (optind < argc) return cli_usage("export", "unexpected argument '%s'", argv[optind]);
    if (!esploro && (fields || categories))
        return cli_usage("export", "--fields and --categories need --format esploro-csv");
    if (esploro && saf_only) return cli_usage("export", "-n, -m and -z are for --format saf");
    if (fields && categories) return cli_usage("export", "give either --fields or --categories");
    if (!type ||
        (strcmp(type, "COLLECTION") && strcmp(type, "ITEM") && (!esploro || strcmp(type, "ALL"))))
        return cli_usage("export", esploro ? "the type (-t) must be COLLECTION, ITEM or ALL"
                                           : "the type (-t) must be either COLLECTION or ITEM");
    int all = !strcmp(type, "ALL");
    if (!o.id && !all) return cli_usage("export", "the handle (-i) is required");
    if (o.id && all) return cli_usage("export", "-t ALL takes no handle (-i)");
    if (!o.dest && !submit) return cli_usage("export", "the destination (-d) is required");
    o.scope = all ? BR_EXPORT_ALL : !strcmp(type, "ITEM") ? BR_EXPORT_ITEM : BR_EXPORT_COLLECTION;
    if (submit) {
        if (fields || categories) return cli_usage("export", "--fields and --categories are not queued");
        return submit_export(c, &o, esploro);
    }

    /* --fields / --categories: checked before the repository is opened. */
    char *list_copy = NULL;
    const char *names[MAX_LIST];
    size_t n_names = 0;
    if (fields || categories) {
        list_copy = strdup(fields ? fields : categories);
        if (!list_copy) return EXIT_IOERR;
        n_names = split_list(list_copy, names, MAX_LIST);
        int rc = n_names ? check_names(names, n_names, categories != NULL)
                         : cli_usage("export", "the list of %s is empty",
                                     fields ? "fields" : "categories");
        if (rc) {
            free(list_copy);
            return rc;
        }
        if (fields)
            o.fields = names, o.n_fields = n_names;
        else
            o.categories = names, o.n_categories = n_names;
    }

    o.eperson = getenv("USER");
    cli_progress prog;
    cli_progress_init(&prog, "items");
    o.progress = cli_progress_cb;
    o.progress_ctx = &prog;
    findings fnd = {0};
    br_diag_sink sink = {print_finding, &fnd, 0, 0, 0};
    o.diags = &sink;
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) {
        free(list_copy);
        return rc;
    }
    br_error err;
    br_export_result res = {0};
    if ((esploro ? br_export_esploro : br_export_saf)(repo, &o, &res, &err)) rc = cli_fail(&err);
    cli_progress_end(&prog);
    if (esploro && (sink.notes || sink.warnings)) {
        if (sink.notes > NOTES_SHOWN)
            fprintf(stderr, "... and %zu more notes\n", sink.notes - NOTES_SHOWN);
        fprintf(stderr, "%zu note%s (values without an Esploro column), %zu warning%s\n",
                sink.notes, sink.notes == 1 ? "" : "s", sink.warnings,
                sink.warnings == 1 ? "" : "s");
    }
    if (json && res.job_id) {
        char *text = NULL;
        if (!br_job_to_json(repo, res.job_id, 0, &text, NULL)) cli_print_json(text);
    } else if (!rc && esploro) {
        fprintf(stderr, "job %lld: exported %zu assets, %zu files, %llu bytes to %s\n",
                (long long)res.job_id, res.items, res.bitstreams, (unsigned long long)res.bytes,
                o.dest);
    } else if (!rc) {
        fprintf(stderr, "job %lld: exported %zu items, %zu bitstreams, %llu bytes to %s%s%s\n",
                (long long)res.job_id, res.items, res.bitstreams, (unsigned long long)res.bytes,
                o.dest, o.zip ? "/" : "", o.zip ? o.zip : "");
    }
    br_repo_free(repo);
    free(list_copy);
    return rc;
}
