/* init, community, collection, registry, group, fsck. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

int cmd_init(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"handle-prefix", required_argument, 0, 'p'},
                                         {"store", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    br_init_options io = {.handle_prefix = BR_DEFAULT_HANDLE_PREFIX};
    int o;
    while ((o = getopt_long(argc, argv, "p:h", opts, NULL)) != -1) {
        if (o == 'p')
            io.handle_prefix = optarg;
        else if (o == 's')
            io.store = optarg;
        else if (o == 'h') {
            printf(
                "usage: bulkrepo [--repo DIR] init [--handle-prefix PREFIX] [--store ADDRESS]\n\n"
                "Creates a repository in DIR: its database and a content-addressed\n"
                "assetstore. Handles are PREFIX/N (default %s).\n\n"
                "The database is embedded (DIR/bulkrepo.db, SQLite) unless --store names a\n"
                "PostgreSQL database (postgresql://USER@HOST:PORT/DATABASE, an empty database\n"
                "USER may create tables in); DIR/bulkrepo.conf then remembers it. Several\n"
                "machines share one repository by mounting DIR and reaching the database:\n"
                "see docs/scale.md.\n",
                BR_DEFAULT_HANDLE_PREFIX);
            return EXIT_OK;
        } else
            return cli_usage("init", "unknown option");
    }
    if (optind < argc) return cli_usage("init", "unexpected argument '%s'", argv[optind]);
    br_error err;
    if (br_repo_init_ext(c->repo_dir, &io, &err)) return cli_fail(&err);
    fprintf(stderr, "created repository %s (handle prefix %s%s%s)\n", c->repo_dir, io.handle_prefix,
            io.store ? ", database " : "", io.store ? "PostgreSQL" : "");
    return EXIT_OK;
}

static int print_container(void *ctx, const br_container *k)
{
    json_t *arr = ctx;
    if (arr) {
        json_t *o = json_object();
        json_object_set_new(o, "handle", json_string(k->handle));
        json_object_set_new(o, "name", json_string(k->name));
        json_object_set_new(o, "type", json_string(k->is_community ? "community" : "collection"));
        json_object_set_new(o, "parent", k->parent[0] ? json_string(k->parent) : json_null());
        if (!k->is_community) json_object_set_new(o, "items", json_integer(k->n_items));
        json_array_append_new(arr, o);
    } else {
        printf("%-16s %-10s %6lld  %s\n", k->handle, k->is_community ? "community" : "collection",
               (long long)k->n_items, k->name);
    }
    return 0;
}

static int container_create(cli *c, int community, int argc, char **argv)
{
    const char *cmd = community ? "community create" : "collection create";
    static const struct option opts[] = {
        {"parent", required_argument, 0, 'P'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *parent = NULL;
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'P')
            parent = optarg;
        else if (o == 'h') {
            printf("usage: bulkrepo %s NAME [--parent COMMUNITY-HANDLE]\n\n"
                   "Creates a %s and prints its handle alone on stdout.\n",
                   cmd, community ? "community" : "collection");
            return EXIT_OK;
        } else
            return cli_usage(cmd, "unknown option");
    }
    if (optind + 1 != argc) return cli_usage(cmd, "give exactly one NAME");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    br_container k;
    if (br_container_create(repo, community, argv[optind], parent, &k, &err))
        rc = cli_fail(&err);
    else
        printf("%s\n", k.handle);
    br_repo_free(repo);
    return rc;
}

int cmd_community(cli *c, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: bulkrepo community create NAME [--parent HANDLE]\n"
               "       (list them with 'bulkrepo collection list')\n");
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "create"))
        return cli_usage("community", "unknown subcommand '%s'", argv[1]);
    return container_create(c, 1, argc - 1, argv + 1);
}

static int collection_template(cli *c, int argc, char **argv)
{
    if (cli_is_help(argc, argv) || argc < 3) {
        printf(
            "usage: bulkrepo collection template HANDLE schema.element[.qualifier]=VALUE...\n\n"
            "Sets the collection's template item: values added to new items imported with -p.\n");
        return argc < 3 && !cli_is_help(argc, argv) ? EXIT_USAGE : EXIT_OK;
    }
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_record *t = br_record_new();
    br_error err;
    if (!t) {
        fprintf(stderr, "bulkrepo: out of memory\n");
        rc = EXIT_IOERR;
    }
    for (int i = 2; i < argc && !rc; i++) {
        char field[256], s[64], e[64], q[64];
        const char *eq = strchr(argv[i], '=');
        if (!eq || (size_t)(eq - argv[i]) >= sizeof field) {
            rc = cli_usage("collection template", "'%s' is not FIELD=VALUE", argv[i]);
            break;
        }
        snprintf(field, sizeof field, "%.*s", (int)(eq - argv[i]), argv[i]);
        if (br_field_parse(field, s, e, q) || !br_registry_has(repo, s, e, *q ? q : NULL)) {
            fprintf(stderr, "bulkrepo: %s is not in the metadata registry\n", field);
            rc = EXIT_INVALID;
            break;
        }
        if (!br_record_add_md(t, s, e, *q ? q : NULL, NULL, eq + 1)) {
            fprintf(stderr, "bulkrepo: out of memory\n");
            rc = EXIT_IOERR;
        }
    }
    if (!rc && br_collection_set_template(repo, argv[1], t, &err)) rc = cli_fail(&err);
    br_record_free(t);
    br_repo_free(repo);
    return rc;
}

int cmd_collection(cli *c, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: bulkrepo collection create NAME [--parent COMMUNITY-HANDLE]\n"
               "       bulkrepo collection list [--json]\n"
               "       bulkrepo collection template HANDLE FIELD=VALUE...\n");
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "create")) return container_create(c, 0, argc - 1, argv + 1);
    if (!strcmp(argv[1], "template")) return collection_template(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "list")) return cli_usage("collection", "unknown subcommand '%s'", argv[1]);
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: bulkrepo collection list [--json]\n\nCommunities and collections with "
                   "handles and item counts.\n");
            return EXIT_OK;
        } else
            return cli_usage("collection list", "unexpected argument '%s'", argv[i]);
    }
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    json_t *arr = json ? json_array() : NULL;
    br_error err;
    if (br_container_list(repo, print_container, arr, &err)) rc = cli_fail(&err);
    if (arr) {
        if (!rc) rc = cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(arr);
    }
    br_repo_free(repo);
    return rc;
}

static int print_field(void *ctx, const br_field *f)
{
    json_t *arr = ctx;
    char name[256];
    snprintf(name, sizeof name, "%s.%s%s%s", f->schema, f->element, f->qualifier ? "." : "",
             f->qualifier ? f->qualifier : "");
    if (arr) {
        json_t *o = json_object();
        json_object_set_new(o, "field", json_string(name));
        json_object_set_new(o, "scope_note",
                            f->scope_note ? json_string(f->scope_note) : json_null());
        json_array_append_new(arr, o);
    } else {
        printf("%s\n", name);
    }
    return 0;
}

int cmd_registry(cli *c, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: bulkrepo registry list [--json]\n"
               "       bulkrepo registry add schema.element[.qualifier] [--note TEXT]\n"
               "       bulkrepo registry add-schema PREFIX [NAMESPACE]\n");
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    br_repo *repo;
    br_error err;
    int rc;
    if (!strcmp(argv[1], "list")) {
        int json = argc > 2 && !strcmp(argv[2], "--json");
        if (argc > 2 + json)
            return cli_usage("registry list", "unexpected argument '%s'", argv[2 + json]);
        if ((rc = cli_open(c, &repo))) return rc;
        json_t *arr = json ? json_array() : NULL;
        if (br_registry_list(repo, print_field, arr, &err)) rc = cli_fail(&err);
        if (arr) {
            if (!rc) rc = cli_print_json(json_dumps(arr, JSON_INDENT(2)));
            json_decref(arr);
        }
    } else if (!strcmp(argv[1], "add") || !strcmp(argv[1], "add-schema")) {
        if (argc < 3) return cli_usage("registry", "%s needs a name", argv[1]);
        const char *note = argc > 4 && !strcmp(argv[3], "--note") ? argv[4] : NULL;
        if ((rc = cli_open(c, &repo))) return rc;
        int r = !strcmp(argv[1], "add")
                    ? br_registry_add(repo, argv[2], note, &err)
                    : br_registry_add_schema(repo, argv[2], argc > 3 ? argv[3] : NULL, &err);
        if (r) rc = cli_fail(&err);
    } else {
        return cli_usage("registry", "unknown subcommand '%s'", argv[1]);
    }
    br_repo_free(repo);
    return rc;
}

int cmd_group(cli *c, int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "add")) {
        int help = cli_is_help(argc, argv);
        printf("usage: bulkrepo group add NAME\n\nAdds a group that bitstream permissions "
               "(contents 'permissions:-r GROUP') may name.\n");
        return help ? EXIT_OK : EXIT_USAGE;
    }
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    if (br_group_add(repo, argv[2], &err)) rc = cli_fail(&err);
    br_repo_free(repo);
    return rc;
}

static void fsck_diag(void *ctx, const br_diag *d)
{
    json_t *arr = ctx;
    if (!arr) {
        cli_print_diag(NULL, d);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "severity", json_string(br_severity_name(d->severity)));
    json_object_set_new(o, "rule", json_string(d->rule ? d->rule : ""));
    json_object_set_new(o, "place", json_string(d->source ? d->source : ""));
    json_object_set_new(o, "message", json_string(d->message));
    json_array_append_new(arr, o);
}

int cmd_fsck(cli *c, int argc, char **argv)
{
    int json = 0, repair = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--repair"))
            repair = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: bulkrepo fsck [--json] [--repair]\n\n"
                   "Checks SQLite integrity, re-verifies every stored file's SHA-256 and MD5, and\n"
                   "reports orphan files and rows. Exit 0 only when clean. --repair first removes\n"
                   "files no bitstream names and temp files of interrupted runs.\n");
            return EXIT_OK;
        } else
            return cli_usage("fsck", "unexpected argument '%s'", argv[i]);
    }
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    json_t *problems = json ? json_array() : NULL;
    br_diag_sink sink = {fsck_diag, problems, 0, 0, 0};
    br_fsck_report r;
    if (repair) {
        size_t removed = 0;
        br_repo_clean_stale(repo);
        if (br_asset_gc(repo, &removed, &err)) rc = cli_fail(&err);
        if (!json) fprintf(stderr, "removed %zu orphan files\n", removed);
    }
    if (!rc && br_repo_fsck(repo, &sink, &r, &err)) rc = cli_fail(&err);
    if (!rc) {
        int clean =
            r.db_ok && !r.bad_checksums && !r.missing_files && !r.orphan_files && !r.orphan_rows;
        if (json) {
            json_t *o = json_pack(
                "{s:b,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:O}", "clean", clean, "database_ok",
                r.db_ok, "items", (json_int_t)r.items, "bitstreams", (json_int_t)r.bitstreams,
                "files", (json_int_t)r.files, "bad_checksums", (json_int_t)r.bad_checksums,
                "missing_files", (json_int_t)r.missing_files, "orphan_files",
                (json_int_t)r.orphan_files, "orphan_rows", (json_int_t)r.orphan_rows, "temp_files",
                (json_int_t)r.temp_files, "problems", problems);
            int wrc = cli_print_json(json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
            json_decref(o);
            if (wrc) {
                rc = wrc;
                goto out;
            }
        } else {
            printf(
                "%s: %zu items, %zu bitstreams, %zu files; %zu bad checksums, %zu missing files, "
                "%zu orphan files, %zu orphan rows\n",
                clean ? "clean" : "NOT CLEAN", r.items, r.bitstreams, r.files, r.bad_checksums,
                r.missing_files, r.orphan_files, r.orphan_rows);
        }
        rc = clean ? EXIT_OK : EXIT_PARTIAL;
    }
out:
    json_decref(problems);
    br_repo_free(repo);
    return rc;
}

/* ---- upgrade ------------------------------------------------------------------------------- */

static json_t *plan_json(int from, int to)
{
    json_t *steps = json_array();
    for (int v = from + 1; v <= to; v++) {
        char what[512];
        br_schema_migration_describe(v, what, sizeof what);
        json_array_append_new(steps,
                              json_pack("{s:i,s:i,s:s}", "from", v - 1, "to", v, "summary", what));
    }
    return steps;
}

static void print_plan(int from, int to)
{
    for (int v = from + 1; v <= to; v++) {
        char what[512];
        br_schema_migration_describe(v, what, sizeof what);
        printf("  %d -> %d  %s\n", v - 1, v, what);
    }
}

int cmd_upgrade(cli *c, int argc, char **argv)
{
    int dry = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-n"))
            dry = 1;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: bulkrepo [--repo DIR] upgrade [--dry-run] [--json]\n\n"
                   "Brings a repository made by an earlier bulkrepo to this version's schema\n"
                   "(%d): copies the database to DIR/backups/bulkrepo-v<OLD>-<TIME>.db, then\n"
                   "runs every migration in one transaction (a failure changes nothing).\n"
                   "--dry-run shows the plan and changes nothing. Other commands upgrade on\n"
                   "their own with a notice on stderr; `serve` does not (it refuses an old\n"
                   "repository: run this first). A repository made by a newer bulkrepo is\n"
                   "refused and left alone. docs/upgrades.md has the details.\n",
                   br_schema_latest());
            return EXIT_OK;
        } else
            return cli_usage("upgrade", "unexpected argument '%s'", argv[i]);
    }
    br_error err;
    br_upgrade_report rep;
    if (br_repo_upgrade(c->repo_dir, dry, &rep, &err)) return cli_fail(&err);
    int planned_to = rep.from < rep.latest ? rep.latest : rep.from;
    if (json) {
        json_t *o =
            json_pack("{s:s,s:i,s:i,s:i,s:b,s:o,s:s?}", "repository", c->repo_dir, "from", rep.from,
                      "to", rep.to, "latest", rep.latest, "dry_run", dry, "plan",
                      plan_json(rep.from, planned_to), "backup", rep.backup[0] ? rep.backup : NULL);
        int wrc = cli_print_json(json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(o);
        return wrc;
    }
    if (rep.from == rep.latest) {
        printf("%s: schema version %d, the latest: nothing to do\n", c->repo_dir, rep.from);
        return EXIT_OK;
    }
    if (dry) {
        printf("%s: schema version %d; this bulkrepo upgrades it to %d:\n", c->repo_dir, rep.from,
               rep.latest);
        print_plan(rep.from, rep.latest);
        printf("A copy of the database would be written to %s/backups first.\n"
               "Nothing was changed (dry run).\n",
               c->repo_dir);
        return EXIT_OK;
    }
    printf("%s: upgraded from schema version %d to %d:\n", c->repo_dir, rep.from, rep.to);
    print_plan(rep.from, rep.to);
    printf("backup of version %d: %s\n", rep.from, rep.backup);
    return EXIT_OK;
}
