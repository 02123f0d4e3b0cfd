/* bulkrepo import: DSpace's `import` options, long and short. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <limits.h>
#include "cli.h"

static void help(void)
{
    printf(
        "usage: bulkrepo [--repo DIR] import -a|-r|-d -s SOURCE [-z ZIPNAME] [-c COLLECTION]...\n"
        "                -m MAPFILE [-e EPERSON] [-v] [-R] [-w] [-p] [--skip-invalid]\n"
        "                [--metadata-only] [--name NAME] [--json]\n\n"
        "Imports a DSpace Simple Archive Format package: one folder per item with\n"
        "dublin_core.xml, metadata_<schema>.xml, contents and the files, optionally\n"
        "collections, handle and relationships.  The whole batch is validated first and\n"
        "every problem is reported with its place; if any item is invalid nothing is\n"
        "imported (exit 3) unless --skip-invalid is given.  Items are written in batches,\n"
        "crash-safe: after an interruption, -R completes exactly the missing items.\n\n"
        "  -a, --add             add the items of SOURCE\n"
        "  -r, --replace         replace the items listed in MAPFILE (they keep their handles)\n"
        "  -d, --delete          delete the items listed in MAPFILE\n"
        "  -s, --source DIR      the package folder (with -z: the folder holding the zip)\n"
        "  -z, --zip NAME        read the package from SOURCE/NAME (one wrapping folder allowed)\n"
        "  -c, --collection H    destination collection handle; repeat to map into more\n"
        "                        (the first owns the item); overrides 'collections' files\n"
        "  -m, --mapfile FILE    where '<folder> <handle>' lines are written (add) or read\n"
        "  -e, --eperson WHO     who runs the import (recorded in the job)\n"
        "  -v, --validate        validate only; write nothing\n"
        "  -R, --resume          finish an interrupted --add with the same MAPFILE\n"
        "  -w, --workflow        items go to workflow status instead of archived\n"
        "  -p, --template        apply the owning collection's template item\n"
        "      --skip-invalid    import the valid items, list the invalid ones (exit 1)\n"
        "      --metadata-only   files listed in contents may be absent (export -x packages)\n"
        "      --name NAME       a descriptive job name\n"
        "      --batch-size N    items per transaction (default 500)\n"
        "      --json            print the job report as JSON\n"
        "      --max-file-size N     cap on one file, bytes (K, M, G suffixes; default 150M)\n"
        "      --max-archive-size N  cap on a zip's uncompressed total (default 500M)\n"
        "      --format F        saf (default) or esploro-csv\n"
        "      --submit          queue the import as a job instead of running it here; prints\n"
        "                        the job id (a running `bulkrepo serve` or `job work` runs it)\n\n"
        "usage: bulkrepo [--repo DIR] import --format esploro-csv -s FILE.csv -m MAPFILE\n"
        "                [-c COLLECTION] [--status draft|archived] [-v] [-R] [--skip-invalid]\n"
        "                [--json]\n\n"
        "Imports an Ex Libris Esploro research-asset CSV (the bulk-import template or a\n"
        "'Research assets CSV export').  Validated first with every problem's cell\n"
        "(see `bulkrepo lint`), org units and RESEARCH_ASSET_IDs checked against the\n"
        "repository; then written in journaled batches like the SAF import, resumable\n"
        "with -R.  Groups keyed by GROUP_ID become new items in COLLECTION (optional when\n"
        "the repository has one collection) with status draft (approve them with\n"
        "`bulkrepo item approve`) or, with --status archived, archived.  A group keyed by\n"
        "RESEARCH_ASSET_ID (a handle or UUID), or whose ASSET_ORIGASSET_ID matches a\n"
        "stored item, updates it: every column the file has replaces the item's values\n"
        "(an empty cell deletes), the others stay.  FILE_FILEURL: paths relative to the\n"
        "CSV and file:// URLs are read from disk, http(s) URLs are downloaded (capped by\n"
        "--max-file-size, --fetch-timeout SECONDS, retried); a group whose file fails is\n"
        "reported as failed and the others go on (exit 1).  The mapfile holds\n"
        "'<group key> <handle>' lines.\n\n"
        "Exit codes: 0 ok, 1 completed with errors, 2 usage, 3 invalid input (nothing\n"
        "written), 4 internal or I/O error.\n");
}

/* --submit: the options as a queued job's parameters (engine.h); paths made
 * absolute, as the job runs in another process and folder. */
static int submit_import(cli *c, const br_import_options *o, int esploro)
{
    if (o->resume) return cli_usage("import", "--resume is not queued: use `bulkrepo job resume ID`");
    char src[PATH_MAX] = "", map[2 * PATH_MAX], dir[PATH_MAX], file[2 * PATH_MAX] = "";
    if (o->source && !realpath(o->source, src))
        return cli_usage("import", "cannot find the source '%s'", o->source);
    /* The mapfile may not exist yet: resolve its folder. */
    snprintf(dir, sizeof dir, "%s", o->mapfile);
    char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : o->mapfile;
    if (slash) *slash = 0;
    char real[PATH_MAX];
    if (!realpath(slash ? (*dir ? dir : "/") : ".", real))
        return cli_usage("import", "the mapfile's folder does not exist");
    snprintf(map, sizeof map, "%s/%s", strcmp(real, "/") ? real : "", base);
    json_t *p = json_object(), *cols = json_array();
    static const char *modes[] = {"add", "replace", "delete"};
    json_object_set_new(p, "mode", json_string(modes[o->mode]));
    for (size_t i = 0; i < o->n_collections; i++) json_array_append_new(cols, json_string(o->collections[i]));
    json_object_set_new(p, "collections", cols);
    json_object_set_new(p, "mapfile", json_string(map));
    if (o->mode != BR_IMPORT_DELETE) {
        if (o->zip) /* the zip travels with the job (copied to its uploads) */
            snprintf(file, sizeof file, "%s/%s", src, o->zip);
        else
            json_object_set_new(p, "source", json_string(src));
    }
    if (o->skip_invalid) json_object_set_new(p, "skip_invalid", json_true());
    if (o->workflow) json_object_set_new(p, "workflow", json_true());
    if (o->apply_template) json_object_set_new(p, "template", json_true());
    if (o->metadata_only) json_object_set_new(p, "metadata_only", json_true());
    if (o->batch_size) json_object_set_new(p, "batch_size", json_integer((json_int_t)o->batch_size));
    if (o->status) json_object_set_new(p, "status", json_string(o->status));
    if (o->fetch_timeout_ms) json_object_set_new(p, "fetch_timeout_ms", json_integer(o->fetch_timeout_ms));
    char *params = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    const char *type = esploro ? "import-esploro" : o->validate_only ? "validate-saf"
                       : o->mode == BR_IMPORT_DELETE ? "delete-saf" : "import-saf";
    int rc = cli_submit_job(c, type, o->name, o->eperson, params, file[0] ? file : NULL);
    free(params);
    return rc;
}

int cmd_import(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"add", no_argument, 0, 'a'},          {"replace", no_argument, 0, 'r'},
        {"delete", no_argument, 0, 'd'},       {"source", required_argument, 0, 's'},
        {"zip", required_argument, 0, 'z'},    {"collection", required_argument, 0, 'c'},
        {"mapfile", required_argument, 0, 'm'}, {"eperson", required_argument, 0, 'e'},
        {"validate", no_argument, 0, 'v'},     {"resume", no_argument, 0, 'R'},
        {"workflow", no_argument, 0, 'w'},     {"template", no_argument, 0, 'p'},
        {"quiet", no_argument, 0, 'q'},        {"skip-invalid", no_argument, 0, 1},
        {"metadata-only", no_argument, 0, 2},  {"name", required_argument, 0, 3},
        {"json", no_argument, 0, 4},           {"batch-size", required_argument, 0, 5},
        {"format", required_argument, 0, 6},   {"max-file-size", required_argument, 0, 7},
        {"max-archive-size", required_argument, 0, 8}, {"help", no_argument, 0, 'h'},
        {"status", required_argument, 0, 9},   {"fetch-timeout", required_argument, 0, 10},
        {"submit", no_argument, 0, 11},
        {0, 0, 0, 0}};
    br_import_options o = {0};
    br_limits_default(&o.limits);
    const char *cols[64];
    int mode = -1, json = 0, quiet = 0, esploro = 0, submit = 0, opt;
    while ((opt = getopt_long(argc, argv, "ards:z:c:m:e:vRwpqh", opts, NULL)) != -1) {
        switch (opt) {
        case 'a': mode = BR_IMPORT_ADD; break;
        case 'r': mode = BR_IMPORT_REPLACE; break;
        case 'd': mode = BR_IMPORT_DELETE; break;
        case 's': o.source = optarg; break;
        case 'z': o.zip = optarg; break;
        case 'c':
            if (o.n_collections == 64) return cli_usage("import", "too many -c options");
            cols[o.n_collections++] = optarg;
            break;
        case 'm': o.mapfile = optarg; break;
        case 'e': o.eperson = optarg; break;
        case 'v': o.validate_only = 1; break;
        case 'R': o.resume = 1; break;
        case 'w': o.workflow = 1; break;
        case 'p': o.apply_template = 1; break;
        case 'q': quiet = 1; break;
        case 1: o.skip_invalid = 1; break;
        case 2: o.metadata_only = 1; break;
        case 3: o.name = optarg; break;
        case 4: json = 1; break;
        case 5: o.batch_size = (size_t)strtoul(optarg, NULL, 10); break;
        case 6:
            if (!strcmp(optarg, "esploro-csv"))
                esploro = 1;
            else if (strcmp(optarg, "saf"))
                return cli_usage("import", "unsupported --format '%s' (supported: saf, esploro-csv)", optarg);
            break;
        case 9:
            if (strcmp(optarg, "draft") && strcmp(optarg, "archived"))
                return cli_usage("import", "--status is draft or archived, not '%s'", optarg);
            o.status = optarg;
            break;
        case 10: {
            char *end;
            long sec = strtol(optarg, &end, 10);
            if (*end || sec <= 0 || sec > 86400) return cli_usage("import", "'%s' is not a number of seconds", optarg);
            o.fetch_timeout_ms = sec * 1000;
            break;
        }
        case 7:
        case 8: {
            uint64_t v;
            if (cli_parse_size(optarg, UINT64_MAX, &v))
                return cli_usage("import", "'%s' is not a size (bytes, or K, M, G)", optarg);
            if (opt == 7)
                o.limits.max_file_size = v;
            else
                o.limits.max_archive_size = v;
            break;
        }
        case 11: submit = 1; break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage("import", "unknown option");
        }
    }
    if (optind < argc) return cli_usage("import", "unexpected argument '%s'", argv[optind]);
    if (esploro && mode < 0) mode = BR_IMPORT_ADD;
    if (esploro && mode != BR_IMPORT_ADD)
        return cli_usage("import", "-r and -d are SAF options; an Esploro CSV updates by RESEARCH_ASSET_ID");
    if (!esploro && o.status) return cli_usage("import", "--status is an esploro-csv option (SAF: -w)");
    if (esploro && (o.zip || o.workflow || o.apply_template || o.metadata_only))
        return cli_usage("import", "-z, -w, -p and --metadata-only are SAF options");
    if (mode < 0) return cli_usage("import", "must run with either add (-a), replace (-r), or delete (-d)");
    if (!o.mapfile) return cli_usage("import", "a map file to hold importing results must be specified (-m)");
    if (mode != BR_IMPORT_DELETE && !o.source)
        return cli_usage("import", "a source directory containing items must be set (-s)");
    if (o.resume && mode != BR_IMPORT_ADD) return cli_usage("import", "resume option only works with --add");
    o.mode = (br_import_mode)mode;
    o.collections = cols;
    if (!o.eperson) o.eperson = getenv("USER");
    if (submit) return submit_import(c, &o, esploro);
    br_diag_sink sink = {cli_print_diag, NULL, 0, 0, 0};
    (void)quiet;
    o.diags = &sink;
    cli_progress prog;
    cli_progress_init(&prog, esploro ? "assets" : "items");
    o.progress = cli_progress_cb;
    o.progress_ctx = &prog;

    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    br_error_clear(&err);
    br_import_result res;
    int r = esploro ? br_import_esploro(repo, &o, &res, &err) : br_import_saf(repo, &o, &res, &err);
    if (r && !(r == BR_EINVAL && res.job_id)) cli_fail(&err);
    if (res.job_id) {
        if (json) {
            char *text = NULL;
            if (!br_job_to_json(repo, res.job_id, 0, &text, NULL)) cli_print_json(text);
        } else if (esploro) {
            fprintf(stderr,
                    "job %lld: %zu assets: %zu valid, %zu invalid; %zu imported (%zu updated), %zu failed, "
                    "%zu already present; %zu bitstreams, %llu bytes%s\n",
                    (long long)res.job_id, res.total, res.valid, res.invalid, res.imported, res.updated, res.failed,
                    res.skipped, res.bitstreams, (unsigned long long)res.bytes,
                    o.validate_only ? " (validation only: nothing written)"
                    : r == BR_EINVAL && !res.imported ? " (nothing written)" : "");
        } else if (o.mode == BR_IMPORT_DELETE) {
            fprintf(stderr, "job %lld: %zu deleted\n", (long long)res.job_id, res.deleted);
        } else {
            fprintf(stderr, "job %lld: %zu items: %zu valid, %zu invalid; %zu imported, %zu already present; "
                            "%zu bitstreams, %llu bytes%s\n",
                    (long long)res.job_id, res.total, res.valid, res.invalid, res.imported, res.skipped,
                    res.bitstreams, (unsigned long long)res.bytes,
                    o.validate_only ? " (validation only: nothing written)"
                    : r == BR_EINVAL && !res.imported ? " (nothing written)" : "");
        }
        if (!json && r == BR_EINVAL) {
            char buf[2048];
            br_error_format(&err, buf, sizeof buf);
            fprintf(stderr, "bulkrepo: %s\n", buf);
        }
    }
    if (!r)
        rc = EXIT_OK;
    else if (r == BR_EINVAL && (res.imported || res.deleted))
        rc = EXIT_PARTIAL;
    else
        rc = cli_exit_code(r);
    br_repo_free(repo);
    return rc;
}
