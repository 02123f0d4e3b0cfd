/* bulkrepo profile add | list | remove: import profiles with a drop folder. */
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char USAGE[] =
    "usage: bulkrepo profile add NAME --format saf|esploro-csv --collection HANDLE --inbox DIR\n"
    "                            [--eperson WHO]\n"
    "       bulkrepo profile list [--json]\n"
    "       bulkrepo profile remove NAME\n\n"
    "An import profile names an inbox (drop) folder, e.g. an FTP upload folder.  While `bulkrepo serve`\n"
    "or `bulkrepo job work` runs, each file dropped there (SAF: a .zip; Esploro: a .csv) is\n"
    "taken once it stopped growing, moved to DIR/processing/, imported into the collection\n"
    "as a job, and moved to DIR/done/ or DIR/failed/.  Point any FTP or SFTP server at DIR.\n";

static int print_one(void *ctx, const br_profile *p)
{
    json_t *arr = ctx;
    if (arr)
        json_array_append_new(
            arr, json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s}", "name", p->name, "format", p->format,
                           "collection", p->collection, "inbox", p->inbox, "eperson",
                           p->eperson[0] ? p->eperson : NULL, "created", p->created));
    else
        printf("%-16s %-12s %-16s %s\n", p->name, p->format, p->collection, p->inbox);
    return 0;
}

int cmd_profile(cli *c, int argc, char **argv)
{
    int help = cli_subcommand_help(argc, argv, USAGE);
    if (help >= 0) return help;
    const char *sub = argv[1];
    br_profile p;
    memset(&p, 0, sizeof p);
    int json = 0;
    const char *name = NULL, *inbox = NULL;
    for (int i = 2; i < argc; i++) {
        char *dst = NULL;
        size_t size = 0;
        if (!strcmp(argv[i], "--format"))
            dst = p.format, size = sizeof p.format;
        else if (!strcmp(argv[i], "--collection"))
            dst = p.collection, size = sizeof p.collection;
        else if (!strcmp(argv[i], "--eperson"))
            dst = p.eperson, size = sizeof p.eperson;
        if (dst || !strcmp(argv[i], "--inbox")) {
            if (i + 1 == argc) return cli_usage("profile", "%s needs a value", argv[i]);
            if (dst) {
                if (strlen(argv[i + 1]) >= size)
                    return cli_usage("profile", "%s is too long", argv[i]);
                memcpy(dst, argv[i + 1], strlen(argv[i + 1]) + 1);
            } else {
                inbox = argv[i + 1];
            }
            i++;
        } else if (!strcmp(argv[i], "--json") && !strcmp(sub, "list")) {
            json = 1;
        } else if (!name && argv[i][0] != '-' && strcmp(sub, "list")) {
            name = argv[i];
        } else {
            return cli_usage("profile", "unexpected argument '%s'", argv[i]);
        }
    }
    br_repo *repo;
    br_error err;
    int rc;
    if (!strcmp(sub, "add")) {
        if (!name || !p.format[0] || !p.collection[0] || !inbox)
            return cli_usage("profile add", "give NAME, --format, --collection and --inbox");
        if (strlen(name) >= sizeof p.name) return cli_usage("profile add", "the name is too long");
        memcpy(p.name, name, strlen(name) + 1);
        char real[PATH_MAX];
        if (!realpath(inbox, real))
            return cli_usage("profile add", "the inbox folder '%s' does not exist", inbox);
        if (strlen(real) >= sizeof p.inbox)
            return cli_usage("profile add", "the inbox path is too long");
        memcpy(p.inbox, real, strlen(real) + 1);
        if ((rc = cli_open(c, &repo))) return rc;
        if (br_profile_add(repo, &p, &err))
            rc = cli_fail(&err);
        else
            fprintf(stderr, "profile %s: %s files dropped in %s go to %s\n", p.name, p.format,
                    p.inbox, p.collection);
    } else if (!strcmp(sub, "list")) {
        if ((rc = cli_open(c, &repo))) return rc;
        json_t *arr = json ? json_array() : NULL;
        if (br_profile_list(repo, print_one, arr, &err)) rc = cli_fail(&err);
        if (arr && !rc) rc = cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(arr);
    } else if (!strcmp(sub, "remove")) {
        if (!name) return cli_usage("profile remove", "give the profile's NAME");
        if ((rc = cli_open(c, &repo))) return rc;
        if (br_profile_remove(repo, name, &err)) rc = cli_fail(&err);
    } else {
        return cli_usage("profile", "unknown subcommand '%s'", sub);
    }
    br_repo_free(repo);
    return rc;
}
