/* bulkrepo export: DSpace's `export` options, for every format of the registry
 * that writes (--format; saf by default).  Options only some formats have are
 * checked against the format's caps (-z, -n, -m: BR_FORMAT_ZIP; -t ALL:
 * BR_FORMAT_ALL_SCOPE); --fields and --categories against the columns its
 * writer lists (br_export_columns). */
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "bulkrepo/export.h"
#include "bulkrepo/delivery.h"
#include "bulkrepo/engine.h"
#include "bulkrepo/format.h"
#include "cli.h"

#define MAX_LIST    512
#define MAX_COLUMNS 1024

/* The columns a format's writer can select, as br_export_columns lists them
 * (copied: its strings live only during the call). */
typedef struct columns {
    char *column[MAX_COLUMNS];
    char *category[MAX_COLUMNS];
    size_t n;
} columns;

static void add_column(void *ctx, const char *column, const char *category)
{
    columns *c = ctx;
    if (c->n >= MAX_COLUMNS) return;
    char *a = strdup(column), *b = strdup(category ? category : "");
    if (!a || !b) {
        free(a);
        free(b);
        return; /* a shorter list in a message */
    }
    c->column[c->n] = a;
    c->category[c->n++] = b;
}

static void columns_free(columns *c)
{
    for (size_t i = 0; c && i < c->n; i++) {
        free(c->column[i]);
        free(c->category[i]);
    }
    free(c);
}

/* Whether names[i] (categories: category names) was listed before index i. */
static int seen_before(const columns *c, size_t i, int categories)
{
    for (size_t k = 0; categories && k < i; k++)
        if (!strcmp(c->category[k], c->category[i])) return 1;
    return 0;
}

/* The column (or distinct category) names, wrapped at 79 columns after indent. */
static void print_names(FILE *out, const columns *c, int categories, size_t indent)
{
    size_t col = indent;
    int first = 1;
    for (size_t i = 0; i < c->n; i++) {
        if (seen_before(c, i, categories)) continue;
        const char *name = categories ? c->category[i] : c->column[i];
        if (col + strlen(name) + 2 > 79) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
            first = 1;
        }
        fprintf(out, "%s%s", first ? "" : ", ", name);
        col += strlen(name) + 2;
        first = 0;
    }
}

static void help(void)
{
    char names[256], zip[256];
    br_format_names(BR_FORMAT_WRITE, names, sizeof names);
    br_format_names(BR_FORMAT_WRITE | BR_FORMAT_ZIP, zip, sizeof zip);
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
           "A failed or stopped export leaves nothing at the destination.\n\n"
           "  -t, --type TYPE      COLLECTION or ITEM (formats with -t ALL also ALL: every item)\n"
           "  -i, --id HANDLE      the collection's or item's handle\n"
           "  -d, --dest DIR|FILE  saf: destination folder (must exist); esploro-csv: the CSV\n"
           "                       (must not exist)\n"
           "  -n, --number SEQ     %s: number of the first item folder (default 1)\n"
           "  -m, --migrate        %s: for another repository: no handle files, no accession\n"
           "                       dates, provenance or handle URIs (it regenerates them)\n"
           "  -x, --exclude-bitstreams  saf: list files in contents but do not write them;\n"
           "                       esploro-csv: no FILE columns (a re-import keeps the files)\n"
           "  -z, --zip NAME       %s: write DEST/NAME as a zip instead of folders\n"
           "      --format FORMAT  %s (default saf)\n"
           "      --submit         queue the export as a job and print its id; without -d the\n"
           "                       result goes to the repository's exports/<id>/\n"
           "      --deliver WHERE  deliver the output once exported (runs the export as a job\n"
           "                       here, or queues it with --submit; no -d): private (your\n"
           "                       folder), institution (the institution folder) or ftp:NAME\n"
           "                       (an S/FTP configuration, bulkrepo ftp list); docs/delivery.md\n"
           "      --subdir DIR     with ftp:NAME: a folder relative to the configuration's\n"
           "                       folder (created when missing; it cannot leave it)\n"
           "\n"
           "       bulkrepo [--repo DIR] export files [--institution | --user USER] [--json]\n"
           "                       the files delivered into your private folder ($USER), the\n"
           "                       institution folder, or USER's private folder\n",
           zip, zip, zip, names);
    for (size_t i = 0; i < br_format_count(); i++) {
        const br_format_info *f = br_format_at(i);
        columns *c = calloc(1, sizeof *c);
        if (c && (f->caps & BR_FORMAT_WRITE) &&
            !br_export_columns(f->name, NULL, add_column, c, NULL) && c->n) {
            printf("      --fields LIST    %s: only these columns (comma-separated, e.g.\n"
                   "                       %s,%s)\n"
                   "      --categories LIST  %s: only the columns of these categories:\n"
                   "                       ",
                   f->name, c->column[0], c->column[c->n > 1 ? 1 : 0], f->name);
            print_names(stdout, c, 1, 23);
            printf("\n");
        }
        columns_free(c);
    }
    printf("      --json           print the job report as JSON\n");
}

/* Splits a comma-separated list in place (items trimmed; empty items dropped). */
static size_t split_list(char *s, const char **out, size_t max)
{
    size_t n = 0;
    for (char *p = s; p && n < max;) {
        char *end = strchr(p, ',');
        if (end) *end = 0;
        while (*p == ' ')
            p++;
        size_t l = strlen(p);
        while (l && p[l - 1] == ' ')
            p[--l] = 0;
        if (*p) out[n++] = p;
        p = end ? end + 1 : NULL;
    }
    return n;
}

/* --fields / --categories against the format's writer: a usage error names
 * the unknown name and lists the valid ones. */
static int check_selection(const char *format, const br_export_options *o, int categories)
{
    columns *c = calloc(1, sizeof *c);
    if (!c) return EXIT_IOERR;
    br_error err;
    br_error_clear(&err);
    int rc = EXIT_OK;
    if (br_export_columns(format, o, add_column, c, &err)) {
        fprintf(stderr, "bulkrepo export: %s", err.message);
        if (c->n) {
            fprintf(stderr, "; valid %s:\n  ", categories ? "categories" : "columns");
            print_names(stderr, c, categories, 2);
        }
        fprintf(stderr, "\nTry 'bulkrepo export --help'.\n");
        rc = err.code == BR_EUSAGE ? EXIT_USAGE : cli_exit_code(err.code);
    }
    columns_free(c);
    return rc;
}

/* Findings of the export: each warning, the first notes, then counts. */
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

/* --deliver WHERE [--subdir DIR] (delivery.h): the job's parameters deliver, ftp, subdir.  The
 * library checks them once more when the job is submitted (a sub-directory that leaves the
 * configuration's root, an unknown configuration: exit 2, no job). */
typedef struct delivery_opt {
    const char *where, *subdir;
} delivery_opt;

static int add_delivery(json_t *p, const delivery_opt *d)
{
    if (!d->where)
        return d->subdir ? cli_usage("export", "--subdir goes with --deliver ftp:NAME") : 0;
    if (!strncmp(d->where, "ftp:", 4)) {
        if (!d->where[4])
            return cli_usage("export", "--deliver ftp:NAME names the S/FTP configuration");
        json_object_set_new(p, "deliver", json_string("ftp"));
        json_object_set_new(p, "ftp", json_string(d->where + 4));
    } else if (!strcmp(d->where, "private") || !strcmp(d->where, "institution")) {
        json_object_set_new(p, "deliver", json_string(d->where));
    } else {
        return cli_usage("export", "--deliver is private, institution or ftp:NAME, not '%s'",
                         d->where);
    }
    if (d->subdir) json_object_set_new(p, "subdir", json_string(d->subdir));
    return 0;
}

/* Runs a queued export here (one worker) until it ended and its delivery step is done;
 * when another process's engine holds the repository, waits for that one to run it. */
static int run_here(cli *c, const char *type, const char *params, int json)
{
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_job_spec spec = {type, NULL, cli_whoami(), params, NULL, 0, 0, NULL};
    br_error err;
    int64_t id;
    cli_runner run = {0};
    if (br_job_submit(repo, &spec, &id, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    if ((rc = cli_runner_start(c, id, &run))) goto done;
    br_job j;
    for (;;) {
        if (br_job_get(repo, id, &j, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        /* The job has ended and its delivery step is done (a failed export has none). */
        char *dl = NULL;
        br_job_delivery(repo, id, &dl, NULL);
        int settled = dl != NULL || (j.status != BR_JOB_COMPLETED_SUCCESS &&
                                     j.status != BR_JOB_COMPLETED_WITH_ERRORS);
        free(dl);
        if (br_job_status_ended(j.status) && settled) break;
        if (cli_interrupted()) {
            fprintf(stderr, "job %lld: stopped waiting (`bulkrepo job show %lld`)\n", (long long)id,
                    (long long)id);
            rc = EXIT_PARTIAL;
            goto done;
        }
        cli_runner_wait(&run);
    }
    cli_runner_stop(&run);
    br_job_get(repo, id, &j, NULL);
    if (json) {
        char *text = NULL;
        if (br_job_to_json(repo, id, 0, &text, &err)) {
            rc = cli_fail(&err);
            goto done;
        }
        if ((rc = cli_print_json(text))) goto done;
    }
    fprintf(stderr, "job %lld: %s%s%s\n", (long long)id, br_job_status_label(j.status),
            j.message[0] ? ": " : "", j.message);
    rc = cli_job_exit(&j);
done:
    cli_runner_stop(&run);
    br_repo_free(repo);
    return rc;
}

/* export files [--institution | --user USER] [--json]: a folder's delivered files. */
static int print_file(void *ctx, const br_export_file *f)
{
    json_t *arr = ctx;
    if (arr) {
        json_array_append_new(arr, json_pack("{s:s,s:I,s:s,s:o}", "name", f->name, "size",
                                             (json_int_t)f->size, "modified", f->modified, "job_id",
                                             f->job_id ? json_integer(f->job_id) : json_null()));
        return 0;
    }
    printf("%-40s %12lld  %s\n", f->name, (long long)f->size, f->modified);
    return 0;
}

static int export_files(cli *c, int argc, char **argv)
{
    int json = 0, institution = 0;
    const char *user = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--institution"))
            institution = 1;
        else if (!strcmp(argv[i], "--user") && i + 1 < argc)
            user = argv[++i];
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: bulkrepo [--repo DIR] export files [--institution | --user USER] "
                   "[--json]\n\n"
                   "The files export jobs delivered (--deliver): your private folder (the user\n"
                   "$USER), the institution folder, or USER's private folder; name, size in\n"
                   "bytes and when it was delivered (UTC).  They are in the repository's\n"
                   "exports/users/USER/ and exports/institution/.\n");
            return EXIT_OK;
        } else
            return cli_usage("export files", "unexpected argument '%s'", argv[i]);
    }
    if (institution && user) return cli_usage("export files", "give --institution or --user");
    if (!institution && !user && !(user = cli_whoami()))
        return cli_usage("export files", "whose private folder? give --user USER");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    json_t *arr = json ? json_array() : NULL;
    if (br_export_folder_list(repo,
                              institution ? BR_EXPORT_FOLDER_INSTITUTION : BR_EXPORT_FOLDER_PRIVATE,
                              user, print_file, arr, &err))
        rc = cli_fail(&err);
    else if (arr)
        rc = cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
    json_decref(arr);
    br_repo_free(repo);
    return rc;
}

/* --submit: the options as a queued job's parameters (engine.h), paths absolute; with a
 * delivery and without --submit, run here (run_here). */
static int submit_export(cli *c, const br_format_info *f, const br_export_options *o,
                         const delivery_opt *d, int queue, int json)
{
    static const char *scopes[] = {"collection", "item", "all"};
    /* A format written as one file takes a new file whose folder exists; the
     * others an existing folder. */
    int one_file = f->export_file != NULL;
    json_t *p = json_object();
    json_object_set_new(p, "scope", json_string(scopes[o->scope]));
    if (o->id) json_object_set_new(p, "id", json_string(o->id));
    if (o->dest) {
        char dir[PATH_MAX], real[PATH_MAX], dest[2 * PATH_MAX];
        snprintf(dir, sizeof dir, "%s", o->dest);
        char *slash = one_file ? strrchr(dir, '/') : NULL;
        if (slash) *slash = 0;
        if (!realpath(one_file ? (slash ? (*dir ? dir : "/") : ".") : dir, real)) {
            json_decref(p);
            return cli_usage("export", "the destination's folder does not exist");
        }
        if (one_file)
            snprintf(dest, sizeof dest, "%s/%s", strcmp(real, "/") ? real : "",
                     slash ? slash + 1 : o->dest);
        else
            snprintf(dest, sizeof dest, "%s", real);
        json_object_set_new(p, "dest", json_string(dest));
    }
    if (o->seq != 1) json_object_set_new(p, "seq", json_integer(o->seq));
    if (o->migrate) json_object_set_new(p, "migrate", json_true());
    if (o->exclude_bitstreams) json_object_set_new(p, "exclude_bitstreams", json_true());
    if (o->zip) json_object_set_new(p, "zip", json_string(o->zip));
    int drc = add_delivery(p, d);
    if (drc) {
        json_decref(p);
        return drc;
    }
    char *params = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    if (!params) {
        fprintf(stderr, "bulkrepo: out of memory\n");
        return EXIT_IOERR;
    }
    int rc = queue ? cli_submit_job(c, f->export_job, NULL, cli_whoami(), params, NULL)
                   : run_here(c, f->export_job, params, json);
    free(params);
    return rc;
}

int cmd_export(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"type", required_argument, 0, 't'},     {"id", required_argument, 0, 'i'},
        {"dest", required_argument, 0, 'd'},     {"number", required_argument, 0, 'n'},
        {"migrate", no_argument, 0, 'm'},        {"exclude-bitstreams", no_argument, 0, 'x'},
        {"zip", required_argument, 0, 'z'},      {"json", no_argument, 0, 1},
        {"format", required_argument, 0, 2},     {"fields", required_argument, 0, 3},
        {"categories", required_argument, 0, 4}, {"submit", no_argument, 0, 5},
        {"deliver", required_argument, 0, 6},    {"subdir", required_argument, 0, 7},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    if (argc > 1 && !strcmp(argv[1], "files")) return export_files(c, argc - 1, argv + 1);
    delivery_opt dlv = {NULL, NULL};
    br_export_options o = {0};
    o.seq = 1;
    const char *type = NULL, *fields = NULL, *categories = NULL, *format = "saf";
    int json = 0, opt, package_only = 0, submit = 0;
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
            package_only = 1;
            break;
        }
        case 'm':
            o.migrate = 1, package_only = 1;
            break;
        case 'x':
            o.exclude_bitstreams = 1;
            break;
        case 'z':
            o.zip = optarg, package_only = 1;
            break;
        case 1:
            json = 1;
            break;
        case 2:
            format = optarg;
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
        case 6:
            dlv.where = optarg;
            break;
        case 7:
            dlv.subdir = optarg;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage("export", "unknown option");
        }
    }
    if (optind < argc) return cli_usage("export", "unexpected argument '%s'", argv[optind]);
    char names[256];
    const br_format_info *f = br_format_info_find(format);
    if (!f || !(f->caps & BR_FORMAT_WRITE)) {
        br_format_names(BR_FORMAT_WRITE, names, sizeof names);
        return cli_usage("export", "unsupported --format '%s' (supported: %s)", format, names);
    }
    if (package_only && !(f->caps & BR_FORMAT_ZIP)) {
        br_format_names(BR_FORMAT_WRITE | BR_FORMAT_ZIP, names, sizeof names);
        return cli_usage("export", "-n, -m and -z are for --format %s", names);
    }
    if (fields && categories) return cli_usage("export", "give either --fields or --categories");
    int all_scope = (f->caps & BR_FORMAT_ALL_SCOPE) != 0;
    if (!type ||
        (strcmp(type, "COLLECTION") && strcmp(type, "ITEM") && (!all_scope || strcmp(type, "ALL"))))
        return cli_usage("export", all_scope ? "the type (-t) must be COLLECTION, ITEM or ALL"
                                             : "the type (-t) must be either COLLECTION or ITEM");
    int all = !strcmp(type, "ALL");
    if (!o.id && !all) return cli_usage("export", "the handle (-i) is required");
    if (o.id && all) return cli_usage("export", "-t ALL takes no handle (-i)");
    if (dlv.where && o.dest)
        return cli_usage("export", "a delivered export is written into the repository first: "
                                   "give no -d with --deliver");
    if (!o.dest && !submit && !dlv.where)
        return cli_usage("export", "the destination (-d) is required");
    o.scope = all ? BR_EXPORT_ALL : !strcmp(type, "ITEM") ? BR_EXPORT_ITEM : BR_EXPORT_COLLECTION;

    /* --fields / --categories: checked before the repository is opened. */
    char *list_copy = NULL;
    const char *list[MAX_LIST];
    if (fields || categories) {
        if (submit || dlv.where)
            return cli_usage("export", "--fields and --categories are not queued (nor delivered)");
        list_copy = strdup(fields ? fields : categories);
        if (!list_copy) return EXIT_IOERR;
        size_t n = split_list(list_copy, list, MAX_LIST);
        if (fields)
            o.fields = list, o.n_fields = n;
        else
            o.categories = list, o.n_categories = n;
        int rc =
            n ? check_selection(f->name, &o, categories != NULL)
              : cli_usage("export", "the list of %s is empty", fields ? "fields" : "categories");
        if (rc) {
            free(list_copy);
            return rc;
        }
    }
    if (submit || dlv.where) return submit_export(c, f, &o, &dlv, submit, json);
    if (dlv.subdir) return cli_usage("export", "--subdir goes with --deliver ftp:NAME");

    o.eperson = cli_whoami();
    cli_progress prog;
    cli_progress_init(&prog, f->unit);
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
    br_error_clear(&err);
    br_export_result res = {0};
    if (br_export(repo, f->name, &o, &res, &err)) rc = cli_fail(&err);
    cli_progress_end(&prog);
    if (sink.notes || sink.warnings) {
        if (sink.notes > NOTES_SHOWN)
            fprintf(stderr, "... and %zu more notes\n", sink.notes - NOTES_SHOWN);
        fprintf(stderr, "%zu note%s (values the %s cannot hold), %zu warning%s\n", sink.notes,
                sink.notes == 1 ? "" : "s", f->short_label, sink.warnings,
                sink.warnings == 1 ? "" : "s");
    }
    if (json && res.job_id) {
        char *text = NULL;
        if (!br_job_to_json(repo, res.job_id, 0, &text, NULL)) {
            int prc = cli_print_json(text);
            if (!rc) rc = prc;
        }
    } else if (!rc) {
        fprintf(stderr, "job %lld: exported %zu %s, %zu files, %llu bytes to %s%s%s\n",
                (long long)res.job_id, res.items, f->unit, res.bitstreams,
                (unsigned long long)res.bytes, o.dest, o.zip ? "/" : "", o.zip ? o.zip : "");
    }
    br_repo_free(repo);
    free(list_copy);
    return rc;
}
