/* bulkrepo orgunit add | import | list: the organisational units that Esploro
 * affiliation codes name. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static void help(FILE *f)
{
    fprintf(f, "usage: bulkrepo orgunit add CODE NAME [--parent CODE]\n"
               "       bulkrepo orgunit import FILE.csv\n"
               "       bulkrepo orgunit list [--json]\n\n"
               "Organisational units, named by code with the institution prefix as Esploro writes\n"
               "them: PREFIX___UNIT (01ALLIANCE_UID___n6370), checked by the rule lint applies to\n"
               "affiliation cells, so a code that is refused here is refused there.  The Esploro\n"
               "CSV import and lint check every affiliation code against the units and suggest\n"
               "the closest known code.\n\n"
               "  add      adds one unit; the parent must exist\n"
               "  import   loads a CSV file whose header names the columns code, name and\n"
               "           optionally parent; existing units are updated; all or nothing\n"
               "  list     code, name, parent (tab-separated), or a JSON array with --json\n\n"
               "Exit codes: 0 ok, 2 usage, 3 invalid input (nothing written), 4 I/O error.\n");
}

static int ou_add(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"parent", required_argument, 0, 'p'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *parent = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
        if (o == 'p')
            parent = optarg;
        else if (o == 'h') {
            help(stdout);
            return EXIT_OK;
        } else
            return cli_usage("orgunit add", "unknown option");
    }
    if (argc - optind != 2) return cli_usage("orgunit add", "give CODE and NAME");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    if (br_orgunit_add(repo, argv[optind], argv[optind + 1], parent, &err)) rc = cli_fail(&err);
    br_repo_free(repo);
    return rc;
}

static int ou_import(cli *c, int argc, char **argv)
{
    if (cli_is_help(argc, argv)) {
        help(stdout);
        return EXIT_OK;
    }
    if (argc != 2) return cli_usage("orgunit import", "give one FILE.csv");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    size_t n = 0;
    if (br_orgunit_import(repo, argv[1], &n, &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "%zu org units loaded\n", n);
    br_repo_free(repo);
    return rc;
}

static int list_one(void *ctx, const br_orgunit *u)
{
    json_t *arr = ctx;
    if (arr) {
        json_t *o = json_object();
        json_object_set_new(o, "code", json_string(u->code));
        json_object_set_new(o, "name", json_string(u->name));
        json_object_set_new(o, "parent", u->parent ? json_string(u->parent) : json_null());
        json_array_append_new(arr, o);
    } else {
        printf("%s\t%s\t%s\n", u->code, u->name, u->parent ? u->parent : "");
    }
    return 0;
}

static int ou_list(cli *c, int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            help(stdout);
            return EXIT_OK;
        } else
            return cli_usage("orgunit list", "unexpected argument '%s'", argv[i]);
    }
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    json_t *arr = json ? json_array() : NULL;
    br_error err;
    if (br_orgunit_list(repo, list_one, arr, &err)) rc = cli_fail(&err);
    if (arr) {
        if (!rc) rc = cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(arr);
    }
    br_repo_free(repo);
    return rc;
}

int cmd_orgunit(cli *c, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        help(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "add")) return ou_add(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "import")) return ou_import(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "list")) return ou_list(c, argc - 1, argv + 1);
    return cli_usage("orgunit", "unknown subcommand '%s'", argv[1]);
}
