/* migrate: move the repository's database to another store (bulkrepo/migrate.h). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "cli.h"
#include "bulkrepo/migrate.h"

int cmd_migrate(cli *c, int argc, char **argv);

static const char USAGE[] =
    "usage: bulkrepo [--repo DIR] migrate --to ADDRESS|embedded [--force] [--replace] [--json]\n"
    "\n"
    "Moves the repository's records to another database: from the embedded database\n"
    "(DIR/bulkrepo.db) to PostgreSQL (--to postgresql://USER@HOST:PORT/DATABASE, an empty\n"
    "database USER may create tables in), back (--to embedded), or to another PostgreSQL\n"
    "database. Everything the database holds moves with its ids: assets, collections, jobs\n"
    "with their journals and reports, users and their tokens, sets, the trash, profiles.\n"
    "The files stay where they are: DIR/assetstore serves both stores. The search index is\n"
    "rebuilt on the new database.\n"
    "\n"
    "The copy is one transaction, checked table by table before the repository is switched\n"
    "to it (DIR/bulkrepo.conf names a PostgreSQL database; without it DIR/bulkrepo.db is\n"
    "the database). The old database is never changed: the embedded file is moved to\n"
    "DIR/backups/, a PostgreSQL database is left as it is (drop it when you no longer need\n"
    "it). A failure changes nothing. Stop `bulkrepo serve` and `job work` first: writers\n"
    "wait for the copy, and a process still running afterwards would use the old database.\n"
    "\n"
    "  --to       the new store: a postgresql:// address, or embedded\n"
    "  --force    copy although a job is marked as being run: one left so by a process\n"
    "             that died (it is copied as it is; recovered as any job a dead worker\n"
    "             left). A job really being run would go on writing to the old database.\n"
    "  --replace  going back to embedded: move a DIR/bulkrepo.db that is in the way (left\n"
    "             by an earlier move to PostgreSQL) to DIR/backups/ instead of refusing\n"
    "  --json     print the report as JSON\n"
    "\n"
    "Prints each table's rows on stderr as it is copied. Exit 0 moved, 2 usage, 3 refused\n"
    "(the target holds a repository, a job is being run), 4 database or I/O error.\n"
    "docs/stores.md has the details.\n";

static void on_progress(void *ctx, const char *table, int64_t done, int64_t total)
{
    (void)ctx;
    if (done != total) return;
    if (!strcmp(table, "triggers"))
        fputs("migrate: triggers made\n", stderr);
    else if (!strcmp(table, "item_fts"))
        fprintf(stderr, "migrate: search index: %lld items\n", (long long)total);
    else if (total)
        fprintf(stderr, "migrate: %s: %lld row%s\n", table, (long long)total,
                total == 1 ? "" : "s");
}

static json_t *report_json(const cli *c, const br_migrate_report *rep)
{
    json_t *tables = json_array();
    for (size_t i = 0; i < rep->n_tables; i++)
        json_array_append_new(tables, json_pack("{s:s,s:I,s:b}", "name", rep->tables[i].name,
                                                "rows", (json_int_t)rep->tables[i].rows, "rebuilt",
                                                rep->tables[i].rebuilt));
    return json_pack("{s:s,s:s,s:s,s:I,s:f,s:o,s:s?,s:s?,s:s?}", "repository", c->repo_dir, "from",
                     rep->from, "to", rep->to, "rows", (json_int_t)rep->rows, "seconds",
                     rep->seconds, "tables", tables, "backup", rep->backup[0] ? rep->backup : NULL,
                     "replaced", rep->replaced[0] ? rep->replaced : NULL, "note",
                     rep->note[0] ? rep->note : NULL);
}

int cmd_migrate(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"to", required_argument, 0, 't'}, {"force", no_argument, 0, 'f'},
        {"replace", no_argument, 0, 'r'},  {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},     {0, 0, 0, 0}};
    br_migrate_options mo = {.progress = on_progress};
    const char *to = NULL;
    int json = 0, o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 't')
            to = optarg;
        else if (o == 'f')
            mo.force = 1;
        else if (o == 'r')
            mo.replace = 1;
        else if (o == 'j')
            json = 1;
        else if (o == 'h') {
            fputs(USAGE, stdout);
            return EXIT_OK;
        } else
            return cli_usage("migrate", "unknown option");
    }
    if (optind < argc) return cli_usage("migrate", "unexpected argument '%s'", argv[optind]);
    if (!to || !*to)
        return cli_usage("migrate", "give the new store: --to postgresql://... or --to embedded");
    br_error err;
    br_migrate_report rep;
    if (br_repo_migrate(c->repo_dir, to, &mo, &rep, &err)) {
        fprintf(stderr, "bulkrepo: the repository stays where it was (%s); nothing was changed\n",
                rep.from[0] ? rep.from : "its database");
        return cli_fail(&err);
    }
    if (rep.note[0]) fprintf(stderr, "bulkrepo: warning: %s\n", rep.note);
    if (json) {
        json_t *j = report_json(c, &rep);
        int wrc = cli_print_json(json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(j);
        return wrc;
    }
    size_t copied = 0;
    int64_t indexed = -1;
    for (size_t i = 0; i < rep.n_tables; i++) {
        if (rep.tables[i].rebuilt)
            indexed = rep.tables[i].rows;
        else
            copied++;
    }
    printf("%s: moved from %s to %s: %lld rows in %zu tables", c->repo_dir, rep.from, rep.to,
           (long long)rep.rows, copied);
    if (indexed >= 0) printf(", search index of %lld items rebuilt", (long long)indexed);
    printf(" (%.1f s)\n", rep.seconds);
    if (rep.backup[0])
        printf("%s as it was: %s\n",
               strcmp(rep.from, "embedded") ? "bulkrepo.conf" : "the embedded database",
               rep.backup);
    if (strcmp(rep.from, "embedded"))
        printf("the database %s is left as it was: drop it when you no longer need it\n", rep.from);
    if (rep.replaced[0]) printf("the embedded database that was in the way: %s\n", rep.replaced);
    return EXIT_OK;
}
