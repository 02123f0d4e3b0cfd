/* bulkrepo import: DSpace's `import` options, long and short. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <limits.h>
#include "bulkrepo/delivery.h"
#include "cli.h"

static void help(void)
{
    char names[256];
    br_format_names(BR_FORMAT_READ, names, sizeof names);
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
        "  -n, --notify          mail WHO when the job ends: its status, counters and a link\n"
        "                        to its report (the user's address, else WHO when it is one;\n"
        "                        bulkrepo mail config; docs/delivery.md)\n"
        "  -v, --validate        validate only; write nothing\n"
        "  -R, --resume          finish an interrupted --add with the same MAPFILE\n"
        "  -w, --workflow        items go to workflow status instead of archived\n"
        "  -p, --template        apply the owning collection's template item\n"
        "      --skip-invalid    import the valid items, list the invalid ones (exit 1)\n"
        "      --metadata-only   files listed in contents may be absent (export -x packages)\n"
        "      --name NAME       a descriptive job name\n"
        "      --allow-older     apply records older than the stored version (formats that\n"
        "                        carry one, e.g. ONIX's SentDateTime); else they are counted\n"
        "                        as 'newer version in repository' and left out\n"
        "      --no-fetch        do not download remote files (http/https); a record that\n"
        "                        names one fails\n"
        "      --match PROFILE   how records are matched against the repository (-a):\n"
        "                        RULE[=ACTION],... with RULE key, handle, uuid, origid,\n"
        "                        doi, isbn, uri, id:TYPE (an identifier type) or\n"
        "                        field:schema.element[.qualifier] (scans the field) and\n"
        "                        ACTION update (default), replace, skip or add; the first\n"
        "                        rule that finds stored records decides; several found:\n"
        "                        the record waits (`job resolve`); 'none': all new.\n"
        "                        Default for SAF handle=update,doi=skip (a handle file\n"
        "                        names the item to update), for the Esploro CSV\n"
        "                        key=update,origid=update,doi=skip\n"
        "      --batch-size N    items per transaction (default 500)\n"
        "      --json            print the job report as JSON\n"
        "      --max-file-size N     cap on one file, bytes (K, M, G suffixes; default 150M)\n"
        "      --max-archive-size N  cap on a zip's uncompressed total (default 500M)\n"
        "      --max-entries N   cap on a zip's entries and an item folder's files\n"
        "                        (default 100000; docs/limits.md lists every cap)\n"
        "      --max-ratio N     cap on a zip's expansion, per entry and for the whole\n"
        "                        archive: inflated bytes per byte of zip (default 200)\n"
        "      --format F        the input's format: %s (default saf)\n"
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
        "written), 4 internal or I/O error.\n",
        names);
}

/* --submit: the options as a queued job's parameters (engine.h), through the
 * library's one codec (paths made absolute: the job runs in another process
 * and folder).  A zip travels with the job (copied to its uploads). */
static int submit_import(cli *c, const br_format_info *f, br_import_options *o, int notify)
{
    if (o->resume)
        return cli_usage("import", "--resume is not queued: use `bulkrepo job resume ID`");
    char file[PATH_MAX] = "";
    br_error err;
    if (o->mode != BR_IMPORT_DELETE && o->zip) {
        if (br_import_source_path(o, file, sizeof file, &err)) return cli_fail(&err);
        o->source = NULL;
        o->zip = NULL;
    }
    char *params = NULL;
    if (br_import_params_to_json(f->name, o, &params, &err)) return cli_fail(&err);
    if (notify) {
        /* "notify": true, the job-end mail (delivery.h). */
        json_t *pj = json_loads(params, 0, NULL);
        free(params);
        params = NULL;
        if (pj) json_object_set_new(pj, "notify", json_true());
        if (pj) params = json_dumps(pj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(pj);
        if (!params) {
            fprintf(stderr, "bulkrepo: out of memory\n");
            return EXIT_IOERR;
        }
    }
    const char *type = o->mode == BR_IMPORT_DELETE           ? f->delete_job
                       : o->validate_only && f->validate_job ? f->validate_job
                                                             : f->import_job;
    int rc = cli_submit_job(c, type, o->name, o->eperson, params, file[0] ? file : NULL);
    free(params);
    return rc;
}

int cmd_import(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"add", no_argument, 0, 'a'},
                                         {"replace", no_argument, 0, 'r'},
                                         {"delete", no_argument, 0, 'd'},
                                         {"source", required_argument, 0, 's'},
                                         {"zip", required_argument, 0, 'z'},
                                         {"collection", required_argument, 0, 'c'},
                                         {"mapfile", required_argument, 0, 'm'},
                                         {"eperson", required_argument, 0, 'e'},
                                         {"validate", no_argument, 0, 'v'},
                                         {"resume", no_argument, 0, 'R'},
                                         {"workflow", no_argument, 0, 'w'},
                                         {"template", no_argument, 0, 'p'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"skip-invalid", no_argument, 0, 1},
                                         {"metadata-only", no_argument, 0, 2},
                                         {"name", required_argument, 0, 3},
                                         {"json", no_argument, 0, 4},
                                         {"batch-size", required_argument, 0, 5},
                                         {"format", required_argument, 0, 6},
                                         {"max-file-size", required_argument, 0, 7},
                                         {"max-archive-size", required_argument, 0, 8},
                                         {"help", no_argument, 0, 'h'},
                                         {"status", required_argument, 0, 9},
                                         {"fetch-timeout", required_argument, 0, 10},
                                         {"submit", no_argument, 0, 11},
                                         {"max-entries", required_argument, 0, 13},
                                         {"max-ratio", required_argument, 0, 14},
                                         {"match", required_argument, 0, 12},
                                         {"allow-older", no_argument, 0, 15},
                                         {"no-fetch", no_argument, 0, 16},
                                         {"notify", no_argument, 0, 'n'},
                                         {0, 0, 0, 0}};
    br_import_options o = {0};
    br_limits_default(&o.limits);
    const char *cols[64];
    int mode = -1, json = 0, quiet = 0, submit = 0, notify = 0, opt;
    const br_format_info *f = br_format_info_find("saf");
    char names[256];
    while ((opt = getopt_long(argc, argv, "ards:z:c:m:e:vRwpqnh", opts, NULL)) != -1) {
        switch (opt) {
        case 'a':
            mode = BR_IMPORT_ADD;
            break;
        case 'r':
            mode = BR_IMPORT_REPLACE;
            break;
        case 'd':
            mode = BR_IMPORT_DELETE;
            break;
        case 's':
            o.source = optarg;
            break;
        case 'z':
            o.zip = optarg;
            break;
        case 'c':
            if (o.n_collections == 64) return cli_usage("import", "too many -c options");
            cols[o.n_collections++] = optarg;
            break;
        case 'm':
            o.mapfile = optarg;
            break;
        case 'e':
            o.eperson = optarg;
            break;
        case 'v':
            o.validate_only = 1;
            break;
        case 'R':
            o.resume = 1;
            break;
        case 'w':
            o.workflow = 1;
            break;
        case 'p':
            o.apply_template = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'n':
            notify = 1;
            break;
        case 1:
            o.skip_invalid = 1;
            break;
        case 2:
            o.metadata_only = 1;
            break;
        case 3:
            o.name = optarg;
            break;
        case 4:
            json = 1;
            break;
        case 5:
            o.batch_size = (size_t)strtoul(optarg, NULL, 10);
            break;
        case 6:
            f = br_format_info_find(optarg);
            if (!f || !(f->caps & BR_FORMAT_READ)) {
                br_format_names(BR_FORMAT_READ, names, sizeof names);
                return cli_usage("import", "unsupported --format '%s' (supported: %s)", optarg,
                                 names);
            }
            break;
        case 9:
            if (strcmp(optarg, "draft") && strcmp(optarg, "archived"))
                return cli_usage("import", "--status is draft or archived, not '%s'", optarg);
            o.status = optarg;
            break;
        case 10: {
            char *end;
            long sec = strtol(optarg, &end, 10);
            if (*end || sec <= 0 || sec > 86400)
                return cli_usage("import", "'%s' is not a number of seconds", optarg);
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
        case 11:
            submit = 1;
            break;
        case 13:
        case 14: {
            uint64_t v;
            if (cli_parse_size(optarg, opt == 13 ? UINT64_MAX : UINT_MAX, &v) || !v)
                return cli_usage("import", "'%s' is not a positive number", optarg);
            if (opt == 13)
                o.limits.max_entries = v;
            else
                o.limits.max_ratio = (unsigned)v;
            break;
        }
        case 12:
            o.match = optarg;
            break;
        case 15:
            o.allow_older = 1;
            break;
        case 16:
            o.no_fetch = 1;
            break;
        case 'h':
            help();
            return EXIT_OK;
        default:
            return cli_usage("import", "unknown option");
        }
    }
    if (optind < argc) return cli_usage("import", "unexpected argument '%s'", argv[optind]);
    /* What the format can do decides which options it takes. */
    int mapfile_modes = f->caps & (BR_FORMAT_REPLACE | BR_FORMAT_DELETE);
    if (!mapfile_modes && mode < 0) mode = BR_IMPORT_ADD;
    if ((mode == BR_IMPORT_REPLACE && !(f->caps & BR_FORMAT_REPLACE)) ||
        (mode == BR_IMPORT_DELETE && !(f->caps & BR_FORMAT_DELETE)))
        return cli_usage("import",
                         "%s is not for --format %s: it adds, and updates the records "
                         "it names",
                         mode == BR_IMPORT_REPLACE ? "-r" : "-d", f->name);
    if (o.zip && !(f->caps & BR_FORMAT_ZIP))
        return cli_usage("import", "-z is not for --format %s (its input is one file)", f->name);
    if (o.apply_template && !(f->caps & BR_FORMAT_TEMPLATE))
        return cli_usage("import", "-p is not for --format %s", f->name);
    if (o.status && o.workflow) return cli_usage("import", "give --status or -w, not both");
    if (mode < 0)
        return cli_usage("import", "must run with either add (-a), replace (-r), or delete (-d)");
    if (!o.mapfile)
        return cli_usage("import", "a map file to hold importing results must be specified (-m)");
    if (mode != BR_IMPORT_DELETE && !o.source)
        return cli_usage("import", "a source directory containing items must be set (-s)");
    if (o.resume && mode != BR_IMPORT_ADD)
        return cli_usage("import", "resume option only works with --add");
    o.mode = (br_import_mode)mode;
    o.collections = cols;
    if (!o.eperson) o.eperson = cli_whoami();
    if (submit) return submit_import(c, f, &o, notify);
    br_diag_sink sink = {cli_print_diag, NULL, 0, 0, 0};
    (void)quiet;
    o.diags = &sink;
    cli_progress prog;
    cli_progress_init(&prog, f->unit);
    o.progress = cli_progress_cb;
    o.progress_ctx = &prog;

    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    br_error_clear(&err);
    br_import_result res;
    int r = br_import(repo, f->name, &o, &res, &err);
    if (r && !(r == BR_EINVAL && res.job_id)) cli_fail(&err);
    if (res.job_id) {
        if (json) {
            char *text = NULL;
            if (!br_job_to_json(repo, res.job_id, 0, &text, NULL)) cli_print_json(text);
        } else if (o.mode == BR_IMPORT_DELETE) {
            fprintf(stderr, "job %lld: %zu deleted\n", (long long)res.job_id, res.deleted);
        } else {
            char upd[48] = "", failed[96] = "";
            if (res.updated) snprintf(upd, sizeof upd, " (%zu updated)", res.updated);
            if (res.failed) snprintf(failed, sizeof failed, ", %zu failed", res.failed);
            if (res.deleted)
                snprintf(failed + strlen(failed), sizeof failed - strlen(failed), ", %zu deleted",
                         res.deleted);
            fprintf(stderr,
                    "job %lld: %zu %s: %zu valid, %zu invalid; %zu imported%s%s, "
                    "%zu already present; %zu bitstreams, %llu bytes%s\n",
                    (long long)res.job_id, res.total, f->unit, res.valid, res.invalid, res.imported,
                    upd, failed, res.skipped, res.bitstreams, (unsigned long long)res.bytes,
                    o.validate_only ? " (validation only: nothing written)"
                    : r == BR_EINVAL && !res.imported && !res.deleted ? " (nothing written)"
                                                                      : "");
        }
        if (!json && r == BR_EINVAL) {
            char buf[2048];
            br_error_format(&err, buf, sizeof buf);
            fprintf(stderr, "bulkrepo: %s\n", buf);
        }
    }
    /* The job-end mail (-n, or the submitter's setting): queued here, sent by the outbox. */
    if (res.job_id && br_job_notify_end(repo, res.job_id, notify, &err))
        fprintf(stderr, "bulkrepo: the job-end mail was not queued: %s\n", err.message);
    if (!r)
        rc = EXIT_OK;
    else if (r == BR_EINVAL && (res.imported || res.deleted || res.multi || res.failed ||
                                (res.valid && !o.validate_only && o.skip_invalid)))
        rc = EXIT_PARTIAL;
    else
        rc = cli_exit_code(r);
    br_repo_free(repo);
    return rc;
}
