/* bulkrepo job list | show. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static int list_one(void *ctx, const br_job *j)
{
    json_t *arr = ctx;
    if (arr) {
        json_error_t e;
        json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:{s:s,s:s},s:s,s:s,s:s,s:{s:I,s:I,s:I,s:I,s:I}}", "id",
                              (json_int_t)j->id, "name", j->name, "type", j->type, "category", j->category,
                              "status", "code", br_job_status_code(j->status), "label",
                              br_job_status_label(j->status), "submitted_by", j->eperson, "started", j->started,
                              "ended", j->ended, "counters", "processed", (json_int_t)j->counters.processed,
                              "imported", (json_int_t)j->counters.imported, "updated",
                              (json_int_t)j->counters.updated, "deleted", (json_int_t)j->counters.deleted,
                              "not_imported", (json_int_t)(j->counters.invalid + j->counters.failed));
        (void)e;
        if (o) json_array_append_new(arr, o);
    } else {
        printf("%-5lld %-24s %-12s %-20s %-19s imported %lld, invalid %lld\n", (long long)j->id,
               br_job_status_label(j->status), j->type, j->started, j->ended[0] ? j->ended : "-",
               (long long)(j->counters.imported + j->counters.updated), (long long)j->counters.invalid);
    }
    return 0;
}

static void show_text(br_repo *repo, const br_job *j);

static int print_rec(void *ctx, const br_job_record *r)
{
    (void)ctx;
    printf("  %-24s %-9s %-16s %s\n", r->key, r->outcome, r->handle ? r->handle : "-",
           r->message ? r->message : "");
    return 0;
}

static void show_text(br_repo *repo, const br_job *j)
{
    const br_job_counters *k = &j->counters;
    printf("job %lld: %s\n  type:       %s (%s)\n  status:     %s\n  by:         %s\n"
           "  started:    %s\n  ended:      %s\n  input:      %s\n  parameters: %s\n",
           (long long)j->id, j->name, j->type, j->category, br_job_status_label(j->status),
           j->eperson[0] ? j->eperson : "-", j->started, j->ended[0] ? j->ended : "-", j->input, j->params);
    if (j->message[0]) printf("  message:    %s\n", j->message);
    printf("  records:    %lld in input, %lld processed, %lld imported, %lld updated, %lld deleted,\n"
           "              %lld not imported (%lld invalid, %lld failed), %lld already present\n"
           "  files:      %lld bitstreams, %lld bytes\n",
           (long long)j->total, (long long)k->processed, (long long)k->imported, (long long)k->updated,
           (long long)k->deleted, (long long)(k->invalid + k->failed), (long long)k->invalid,
           (long long)k->failed, (long long)k->skipped, (long long)k->bitstreams, (long long)k->bytes);
    printf("records:\n");
    br_job_records(repo, j->id, NULL, print_rec, NULL, NULL);
}

int cmd_job(cli *c, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: bulkrepo job list [--json]\n"
               "       bulkrepo job show ID [--json]\n\n"
               "Every import and export run is a job with a status, counters and a per-record\n"
               "outcome (the journal the counters are derived from).\n");
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    int json = 0;
    const char *id = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: bulkrepo job %s [--json]\n", strcmp(argv[1], "show") ? "list" : "show ID");
            return EXIT_OK;
        } else if (!id)
            id = argv[i];
        else
            return cli_usage("job", "unexpected argument '%s'", argv[i]);
    }
    br_repo *repo;
    br_error err;
    int rc;
    if (!strcmp(argv[1], "list")) {
        if (id) return cli_usage("job list", "unexpected argument '%s'", id);
        if ((rc = cli_open(c, &repo))) return rc;
        json_t *arr = json ? json_array() : NULL;
        if (br_job_list(repo, list_one, arr, &err)) rc = cli_fail(&err);
        if (arr) {
            if (!rc) cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
            json_decref(arr);
        }
    } else if (!strcmp(argv[1], "show")) {
        char *end = NULL;
        long long n = id ? strtoll(id, &end, 10) : 0;
        if (!id || *end || n <= 0) return cli_usage("job show", "give a job ID");
        if ((rc = cli_open(c, &repo))) return rc;
        br_job j;
        char *text = NULL;
        if (json) {
            if (br_job_to_json(repo, n, 1, &text, &err))
                rc = cli_fail(&err);
            else
                cli_print_json(text);
        } else if (br_job_get(repo, n, &j, &err)) {
            rc = cli_fail(&err);
        } else {
            show_text(repo, &j);
        }
    } else {
        return cli_usage("job", "unknown subcommand '%s'", argv[1]);
    }
    br_repo_free(repo);
    return rc;
}
