/* bulkrepo item list | show. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static int list_one(void *ctx, const br_item_summary *s)
{
    json_t *arr = ctx;
    if (arr) {
        json_t *o = json_object();
        json_object_set_new(o, "handle", json_string(s->handle ? s->handle : ""));
        json_object_set_new(o, "uuid", json_string(s->uuid));
        json_object_set_new(o, "status", json_string(s->status));
        json_object_set_new(o, "title", s->title ? json_string(s->title) : json_null());
        json_object_set_new(o, "collection",
                            s->owning_collection ? json_string(s->owning_collection) : json_null());
        json_object_set_new(o, "modified", json_string(s->modified));
        json_array_append_new(arr, o);
    } else {
        printf("%s\t%s\t%s\n", s->handle ? s->handle : "", s->status, s->title ? s->title : "");
    }
    return 0;
}

static int item_list(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"collection", required_argument, 0, 'c'},
                                         {"job", required_argument, 0, 'j'},
                                         {"json", no_argument, 0, 1},
                                         {"withdrawn", no_argument, 0, 2},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    br_item_query q = {0};
    int json = 0, o;
    while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (o == 'c')
            q.collection = optarg;
        else if (o == 'j') {
            char *end;
            q.job_id = strtoll(optarg, &end, 10);
            if (end == optarg || *end || q.job_id <= 0)
                return cli_usage("item list", "'%s' is not a job id", optarg);
        } else if (o == 1)
            json = 1;
        else if (o == 2)
            q.include_withdrawn = 1;
        else if (o == 'h') {
            printf(
                "usage: bulkrepo item list [--collection HANDLE] [--job ID] [--withdrawn] "
                "[--json]\n\n"
                "Items in handle order: handle, status, title (tab-separated), or a JSON array of\n"
                "objects with handle, uuid, status, title, collection, modified.\n");
            return EXIT_OK;
        } else
            return cli_usage("item list", "unknown option");
    }
    if (optind < argc) return cli_usage("item list", "unexpected argument '%s'", argv[optind]);
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    if (q.collection) {
        br_container k;
        br_error e;
        if (br_container_get(repo, q.collection, &k, &e)) {
            br_repo_free(repo);
            return cli_fail(&e);
        }
    }
    json_t *arr = json ? json_array() : NULL;
    br_error err;
    if (br_item_list(repo, &q, list_one, arr, &err)) rc = cli_fail(&err);
    if (arr) {
        if (!rc) rc = cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(arr);
    }
    br_repo_free(repo);
    return rc;
}

static void print_item_text(const br_record *r)
{
    printf("handle:      %s\nuuid:        %s\nstatus:      %s\ncollection:  %s\nmodified:    %s\n",
           r->handle ? r->handle : "", r->uuid, r->status,
           r->owning_collection ? r->owning_collection : "", r->modified);
    printf("metadata:\n");
    for (size_t i = 0; i < r->n_md; i++) {
        const br_mdv *v = &r->md[i];
        printf("  %s.%s%s%s%s%s%s = %s\n", v->schema, v->element, v->qualifier ? "." : "",
               v->qualifier ? v->qualifier : "", v->language ? "[" : "",
               v->language ? v->language : "", v->language ? "]" : "", v->value);
    }
    if (r->n_bs) printf("bitstreams:\n");
    for (size_t i = 0; i < r->n_bs; i++) {
        const br_bitstream *b = &r->bs[i];
        printf("  %s/%s  %lld bytes  %s  md5:%s%s\n", b->bundle, b->name, (long long)b->size,
               b->mime ? b->mime : "", b->md5, b->primary ? "  (primary)" : "");
    }
    if (r->n_rels) printf("relationships:\n");
    for (size_t i = 0; i < r->n_rels; i++) {
        char buf[32]; /* as this record reads it: the inverse from the right (relation.h) */
        const char *view = br_relation_view(&r->rels[i], buf);
        int other = strcmp(view, r->rels[i].type) != 0;
        printf("  %s %s %s%s%s%s\n", r->rels[i].type, r->rels[i].is_left ? "->" : "<-",
               r->rels[i].target, other ? "  (" : "", other ? view : "", other ? ")" : "");
    }
}

static int item_show(cli *c, int argc, char **argv)
{
    int json = 0;
    const char *handle = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: bulkrepo item show HANDLE|UUID [--json]\n\n"
                   "One item: its metadata, bitstreams and relationships. --json prints DSpace\n"
                   "REST's shape: {\"metadata\": {\"dc.title\": [{\"value\", \"language\", "
                   "\"place\"}]}, ...}.\n");
            return EXIT_OK;
        } else if (!handle)
            handle = argv[i];
        else
            return cli_usage("item show", "unexpected argument '%s'", argv[i]);
    }
    if (!handle) return cli_usage("item show", "give a HANDLE");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    int64_t id;
    br_record *r = br_record_new();
    if (!r) {
        fprintf(stderr, "bulkrepo: out of memory\n");
        rc = EXIT_IOERR;
    } else if (br_item_find(repo, handle, &id, &err) || br_item_load(repo, id, r, &err)) {
        rc = cli_fail(&err);
    } else if (json) {
        char *text = NULL;
        if (br_record_to_json(r, &text, &err))
            rc = cli_fail(&err);
        else
            rc = cli_print_json(text);
    } else {
        print_item_text(r);
    }
    br_record_free(r);
    br_repo_free(repo);
    return rc;
}

static int item_approve(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {{"job", required_argument, 0, 'j'},
                                         {"eperson", required_argument, 0, 'e'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    long long job = 0;
    const char *eperson = cli_whoami();
    int o;
    while ((o = getopt_long(argc, argv, "j:e:h", opts, NULL)) != -1) {
        if (o == 'j') {
            char *end;
            job = strtoll(optarg, &end, 10);
            if (*end || job <= 0) return cli_usage("item approve", "'%s' is not a job id", optarg);
        } else if (o == 'e')
            eperson = optarg;
        else if (o == 'h') {
            printf(
                "usage: bulkrepo item approve HANDLE... [-e EPERSON]\n"
                "       bulkrepo item approve --job ID [-e EPERSON]\n\n"
                "Moves draft items (an Esploro CSV import's default status) to archived and adds\n"
                "dc.date.accessioned, dc.date.available and dc.description.provenance as DSpace's\n"
                "installItem does.  With HANDLEs (or UUIDs) all or nothing: if one is unknown or\n"
                "not a draft nothing changes (exit 3).  With --job, every item of that import job\n"
                "that is still a draft.\n");
            return EXIT_OK;
        } else
            return cli_usage("item approve", "unknown option");
    }
    int n = argc - optind;
    if (!job == !n) return cli_usage("item approve", "give HANDLEs or --job ID (not both)");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    int64_t *ids = NULL;
    if (job) {
        size_t done = 0;
        if (br_job_approve(repo, job, eperson, &done, &err))
            rc = cli_fail(&err);
        else
            fprintf(stderr, "%zu items approved\n", done);
        goto done;
    }
    if (!(ids = calloc((size_t)n, sizeof *ids))) {
        fprintf(stderr, "bulkrepo: out of memory\n");
        rc = EXIT_IOERR;
        goto done;
    }
    for (int i = 0; i < n; i++)
        if (br_item_find(repo, argv[optind + i], &ids[i], &err)) {
            rc = cli_fail(&err);
            goto done;
        }
    if (br_items_approve(repo, ids, (size_t)n, eperson, &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "%d items approved\n", n);
done:
    free(ids);
    br_repo_free(repo);
    return rc;
}

static int item_restore(cli *c, int argc, char **argv)
{
    const char *key = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: bulkrepo item restore UUID|HANDLE\n\n"
                   "Brings an asset back from the trash (`bulkrepo trash list`) as it was when it\n"
                   "was deleted: the same UUID and handle, metadata, files, collections, and its\n"
                   "relations with items that still exist.  Prints its handle.  Exit 3 when it is\n"
                   "not in the trash (never deleted, purged, restored already) or when its handle\n"
                   "or UUID is in use again.\n");
            return EXIT_OK;
        } else if (!key)
            key = argv[i];
        else
            return cli_usage("item restore", "unexpected argument '%s'", argv[i]);
    }
    if (!key) return cli_usage("item restore", "give the UUID or handle of an asset in the trash");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    char handle[64] = "";
    if (br_item_restore(repo, key, handle, &err)) {
        rc = cli_fail(&err);
    } else {
        printf("%s\n", handle);
        fprintf(stderr, "%s restored from the trash\n", handle[0] ? handle : key);
    }
    br_repo_free(repo);
    return rc;
}

int cmd_item(cli *c, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: bulkrepo item list [--collection HANDLE] [--job ID] [--json]\n"
               "       bulkrepo item show HANDLE [--json]\n"
               "       bulkrepo item approve HANDLE... | --job ID\n"
               "       bulkrepo item restore UUID|HANDLE\n");
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (!strcmp(argv[1], "list")) return item_list(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "show")) return item_show(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "approve")) return item_approve(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "restore")) return item_restore(c, argc - 1, argv + 1);
    return cli_usage("item", "unknown subcommand '%s'", argv[1]);
}
