/* bulkrepo: batch import and export for research repositories. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* cmd_repo.c (its declaration belongs in cli.h). */
int cmd_ftp(cli *c, int argc, char **argv);     /* cmd_ftp.c */
int cmd_migrate(cli *c, int argc, char **argv); /* cmd_migrate.c */

static const struct {
    const char *name;
    cmd_fn fn;
    const char *summary;
} COMMANDS[] = {
    {"init", cmd_init, "create a repository (embedded, or on PostgreSQL)"},
    {"community", cmd_community, "create communities"},
    {"collection", cmd_collection, "create and list collections, set a template item"},
    {"registry", cmd_registry, "list and extend the metadata field registry"},
    {"group", cmd_group, "add and list the groups bitstream permissions name"},
    {"orgunit", cmd_orgunit, "add, import and list organisational units (affiliation codes)"},
    {"import", cmd_import,
     "import a batch: SAF (add, replace, delete) or Esploro CSV (new assets, updates)"},
    {"export", cmd_export, "export a collection or item as a SAF package or an Esploro CSV"},
    {"lint", cmd_lint, "check an Esploro research-asset CSV, list every problem by cell, fix"},
    {"convert", cmd_convert,
     "convert SAF <-> Esploro CSV (no repository), report what has no target"},
    {"item", cmd_item, "list items, show one, approve drafts, restore one from the trash"},
    {"search", cmd_search, "find items: words, \"phrases\", fields, dates, AND/OR/NOT"},
    {"trash", cmd_trash, "list the deleted assets that can be restored, purge expired ones"},
    {"job", cmd_job,
     "list, follow, cancel, resume, rerun, revert jobs; their reports; run jobs on sets; run "
     "the queue"},
    {"set", cmd_set, "define sets of research assets, researchers or users for set jobs"},
    {"doi", cmd_doi,
     "DOI profiles (prefix, suffix pattern, DataCite); the DataCite XML of an asset"},
    {"normalize", cmd_normalize, "check and list the rule sets of the normalization job"},
    {"mail", cmd_mail, "the mail server, the outbox of letters to users, sending them"},
    {"ftp", cmd_ftp, "S/FTP configurations: the servers profiles fetch from and exports go to"},
    {"researcher", cmd_researcher,
     "add, import, list and show researchers (name, ORCID iD, affiliations, flags, assets)"},
    {"orcid", cmd_orcid, "the ORCID API and the works pushed to ORCID (Delete records from ORCID)"},
    {"profile", cmd_profile,
     "import profiles with a drop folder (files dropped there, by FTP or otherwise, are imported)"},
    {"fsck", cmd_fsck, "check the database and every stored file"},
    {"upgrade", cmd_upgrade, "upgrade a repository made by an earlier bulkrepo (backup first)"},
    {"migrate", cmd_migrate, "move the repository's database: embedded <-> PostgreSQL"},
    {"user", cmd_user, "add and list staff users, their roles and API tokens"},
    {"serve", cmd_serve, "run the REST API, the web interface and the job workers"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: bulkrepo [--repo DIR] COMMAND [OPTIONS]\n\n"
               "Batch import and export for research repositories.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        fprintf(f, "  %-11s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(
        f,
        "\nThe repository is --repo DIR, else $BULKREPO_REPO, else ./bulkrepo-data.\n"
        "'bulkrepo COMMAND --help' describes a command.\n"
        "Exit codes: 0 ok, 1 completed with errors, 2 usage, 3 invalid input (nothing written),\n"
        "4 internal or I/O error.\n");
}

/* Everything a command printed on stdout must have reached it: a full disk
 * or a closed pipe turns a success into exit 4 (a listing cut short is not
 * "done"). */
static int finish(int rc)
{
    if (fflush(stdout) == 0 && !ferror(stdout)) return rc;
    int e = errno;
    fprintf(stderr, "bulkrepo: cannot write the output: %s\n", strerror(e ? e : EIO));
    return rc == EXIT_OK || rc == EXIT_PARTIAL ? EXIT_IOERR : rc;
}

/* Whether a command upgrades an older repository before it runs.  Not init,
 * convert and lint without --repo (no repository), upgrade itself, and serve:
 * a server is upgraded explicitly (`bulkrepo upgrade`), never behind the back
 * of the other processes that may use the repository; it refuses an old one
 * (br_repo_open).  Nor when the command is only asked for its usage. */
static int upgrades_first(const cli *c, const char *cmd, int argc, char **argv)
{
    static const char *const NONE[] = {"init", "convert", "upgrade", "serve", "migrate"};
    for (size_t k = 0; k < sizeof NONE / sizeof NONE[0]; k++)
        if (!strcmp(cmd, NONE[k])) return 0;
    if (!strcmp(cmd, "lint") && !c->repo_given) return 0;
    if (argc < 2 && strcmp(cmd, "fsck")) return 0; /* a bare NOUN prints its usage */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 0;
    return 1;
}

/* Upgrades an older repository with a notice on stderr (the library never
 * prints).  Anything else the status read finds (no repository, a newer
 * one, a database that cannot be read) is left to the command, which opens
 * the repository and says why it cannot.  Returns 0 or an exit code. */
static int auto_upgrade(const cli *c)
{
    br_schema_status st;
    if (br_repo_schema_status(c->repo_dir, &st, NULL) || st.version >= st.latest) return 0;
    br_upgrade_report rep;
    br_error err;
    if (br_repo_upgrade(c->repo_dir, 0, &rep, &err)) {
        fprintf(stderr,
                "bulkrepo: the repository %s has schema version %d and needs an upgrade to %d, "
                "which failed (nothing was changed):\n",
                c->repo_dir, st.version, st.latest);
        return cli_fail(&err);
    }
    if (rep.to != rep.from)
        fprintf(stderr,
                "bulkrepo: upgraded the repository %s from schema version %d to %d; the "
                "database as it was is in %s\n",
                c->repo_dir, rep.from, rep.to, rep.backup);
    return 0;
}

int main(int argc, char **argv)
{
    cli c = {NULL, argv[0], 0};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--repo") && i + 1 < argc) {
            c.repo_dir = argv[++i];
            c.repo_given = 1;
        } else if (!strncmp(argv[i], "--repo=", 7)) {
            c.repo_dir = argv[i] + 7;
            c.repo_given = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return finish(EXIT_OK);
        } else if (!strcmp(argv[i], "--version")) {
            printf("bulkrepo %s\n", BULKREPO_VERSION);
            return finish(EXIT_OK);
        } else {
            fprintf(stderr, "bulkrepo: unknown option %s\n", argv[i]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!c.repo_dir) c.repo_dir = getenv("BULKREPO_REPO");
    if (!c.repo_dir || !*c.repo_dir) c.repo_dir = "bulkrepo-data";
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    for (size_t k = 0; k < sizeof COMMANDS / sizeof COMMANDS[0]; k++)
        if (!strcmp(argv[i], COMMANDS[k].name)) {
            optind = 1;
            errno = 0;
            if (upgrades_first(&c, argv[i], argc - i, argv + i)) {
                int rc = auto_upgrade(&c);
                if (rc) return finish(rc);
            }
            return finish(COMMANDS[k].fn(&c, argc - i, argv + i));
        }
    fprintf(stderr, "bulkrepo: unknown command '%s'\n", argv[i]);
    usage(stderr);
    return EXIT_USAGE;
}
