/* bulkrepo export: DSpace's `export` options. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static void help(void)
{
    printf("usage: bulkrepo [--repo DIR] export -t COLLECTION|ITEM -i HANDLE -d DEST [-n SEQ] [-m] [-x]\n"
           "                [-z ZIPNAME] [--json]\n\n"
           "Writes a DSpace Simple Archive Format package: one folder per item (DEST/SEQ,\n"
           "SEQ+1, ...) in handle order, with dublin_core.xml, metadata_<schema>.xml,\n"
           "contents, collections, handle, relationships and the bitstream files.\n\n"
           "  -t, --type TYPE      COLLECTION or ITEM\n"
           "  -i, --id HANDLE      the collection's or item's handle\n"
           "  -d, --dest DIR       destination folder (must exist)\n"
           "  -n, --number SEQ     number of the first item folder (default 1)\n"
           "  -m, --migrate        for another repository: no handle files, no accession dates,\n"
           "                       provenance or handle URIs (it regenerates them)\n"
           "  -x, --exclude-bitstreams  list files in contents but do not write them\n"
           "  -z, --zip NAME       write DEST/NAME as a zip instead of folders\n"
           "      --json           print the job report as JSON\n");
}

int cmd_export(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"type", required_argument, 0, 't'}, {"id", required_argument, 0, 'i'},
        {"dest", required_argument, 0, 'd'}, {"number", required_argument, 0, 'n'},
        {"migrate", no_argument, 0, 'm'},    {"exclude-bitstreams", no_argument, 0, 'x'},
        {"zip", required_argument, 0, 'z'},  {"json", no_argument, 0, 1},
        {"format", required_argument, 0, 2}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    br_export_options o = {0};
    o.seq = 1;
    const char *type = NULL;
    int json = 0, opt;
    while ((opt = getopt_long(argc, argv, "t:i:d:n:mxz:h", opts, NULL)) != -1) {
        switch (opt) {
        case 't': type = optarg; break;
        case 'i': o.id = optarg; break;
        case 'd': o.dest = optarg; break;
        case 'n': {
            char *end;
            o.seq = strtol(optarg, &end, 10);
            if (*end || o.seq < 0) return cli_usage("export", "-n takes a number");
            break;
        }
        case 'm': o.migrate = 1; break;
        case 'x': o.exclude_bitstreams = 1; break;
        case 'z': o.zip = optarg; break;
        case 1: json = 1; break;
        case 2:
            if (strcmp(optarg, "saf")) return cli_usage("export", "unsupported --format '%s' (supported: saf)", optarg);
            break;
        case 'h': help(); return EXIT_OK;
        default: return cli_usage("export", "unknown option");
        }
    }
    if (optind < argc) return cli_usage("export", "unexpected argument '%s'", argv[optind]);
    if (!type || (strcmp(type, "COLLECTION") && strcmp(type, "ITEM")))
        return cli_usage("export", "the type (-t) must be either COLLECTION or ITEM");
    if (!o.id) return cli_usage("export", "the handle (-i) is required");
    if (!o.dest) return cli_usage("export", "the destination (-d) is required");
    o.scope = !strcmp(type, "ITEM") ? BR_EXPORT_ITEM : BR_EXPORT_COLLECTION;
    o.eperson = getenv("USER");
    cli_progress prog;
    cli_progress_init(&prog, "items");
    o.progress = cli_progress_cb;
    o.progress_ctx = &prog;
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    br_export_result res = {0};
    if (br_export_saf(repo, &o, &res, &err)) rc = cli_fail(&err);
    if (json && res.job_id) {
        char *text = NULL;
        if (!br_job_to_json(repo, res.job_id, 0, &text, NULL)) cli_print_json(text);
    } else if (!rc) {
        fprintf(stderr, "job %lld: exported %zu items, %zu bitstreams, %llu bytes to %s%s%s\n",
                (long long)res.job_id, res.items, res.bitstreams, (unsigned long long)res.bytes, o.dest,
                o.zip ? "/" : "", o.zip ? o.zip : "");
    }
    br_repo_free(repo);
    return rc;
}
