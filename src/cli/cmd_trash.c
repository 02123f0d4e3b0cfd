/* bulkrepo trash list | purge: the assets a Delete Set job (or a revert of an import) deleted,
 * restorable with `bulkrepo item restore` until their time in the trash is over. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"

static const char USAGE[] =
    "usage: bulkrepo trash list [--json]\n"
    "       bulkrepo trash purge [--now UNIXTIME]\n\n"
    "A Delete Set job moves the assets it deletes into the trash, where they stay\n"
    "restorable (`bulkrepo item restore UUID|HANDLE`: the same UUID, handle, metadata,\n"
    "files and collections) for the job's keep_days (30 by default).\n\n"
    "  list   every asset in the trash: handle, UUID, when it was deleted, the job that\n"
    "         deleted it, when it may be purged, title (--json: an array of objects\n"
    "         with uuid, handle, title, deleted, job_id, purge_after)\n"
    "  purge  remove from the trash every asset whose time is over, and the stored files\n"
    "         nothing else names any more; they can no longer be restored (a Delete Set\n"
    "         job and the engine purge too).  --now takes the time as Unix seconds\n"
    "         instead of the clock's (for scripts and tests)\n";

/* Unix time as ISO 8601 UTC. */
static void iso(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "%lld", (long long)t);
}

typedef struct list_ctx {
    json_t *arr;
    size_t n;
} list_ctx;

static int list_one(void *ctx, const br_trash_entry *e)
{
    list_ctx *l = ctx;
    char purge[32];
    iso(e->purge_after, purge);
    if (l->arr) {
        json_array_append_new(
            l->arr, json_pack("{s:s,s:o,s:o,s:s,s:o,s:s}", "uuid", e->uuid, "handle",
                              e->handle ? json_string(e->handle) : json_null(), "title",
                              e->title ? json_string(e->title) : json_null(), "deleted", e->deleted,
                              "job_id", e->job_id ? json_integer(e->job_id) : json_null(),
                              "purge_after", purge));
        return 0;
    }
    if (!l->n++)
        printf("%-20s %-36s %-20s %-6s %-20s %s\n", "HANDLE", "UUID", "DELETED", "JOB",
               "PURGE AFTER", "TITLE");
    char job[24] = "-";
    if (e->job_id) snprintf(job, sizeof job, "%lld", (long long)e->job_id);
    printf("%-20s %-36s %-20s %-6s %-20s %s\n", e->handle ? e->handle : "-", e->uuid, e->deleted,
           job, purge, e->title ? e->title : "");
    return 0;
}

static int trash_list(cli *c, int argc, char **argv)
{
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            return cli_usage("trash list", "unexpected argument '%s'", argv[i]);
    }
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    list_ctx l = {json ? json_array() : NULL, 0};
    br_error err;
    if (br_trash_list(repo, list_one, &l, &err))
        rc = cli_fail(&err);
    else if (l.arr)
        rc = cli_print_json(json_dumps(l.arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
    else if (!l.n)
        fprintf(stderr, "the trash is empty\n");
    json_decref(l.arr);
    br_repo_free(repo);
    return rc;
}

static int trash_purge(cli *c, int argc, char **argv)
{
    int64_t now = (int64_t)time(NULL);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--now") && i + 1 < argc) {
            char *end;
            long long t = strtoll(argv[++i], &end, 10);
            if (*end || end == argv[i] || t < 0)
                return cli_usage("trash purge", "--now takes a time in Unix seconds");
            now = t;
        } else {
            return cli_usage("trash purge", "unexpected argument '%s'", argv[i]);
        }
    }
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    size_t purged = 0, removed = 0;
    if (br_trash_purge(repo, now, &purged, &err) || br_asset_gc(repo, &removed, &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "%zu asset%s purged from the trash, %zu stored file%s removed\n", purged,
                purged == 1 ? "" : "s", removed, removed == 1 ? "" : "s");
    br_repo_free(repo);
    return rc;
}

int cmd_trash(cli *c, int argc, char **argv)
{
    int help = cli_subcommand_help(argc, argv, USAGE);
    if (help >= 0) return help;
    if (!strcmp(argv[1], "list")) return trash_list(c, argc, argv);
    if (!strcmp(argv[1], "purge")) return trash_purge(c, argc, argv);
    return cli_usage("trash", "unknown subcommand '%s'", argv[1]);
}
