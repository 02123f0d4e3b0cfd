/* bulkrepo normalize check | list: the rule sets of the Research assets normalization job
 * (bulkrepo/normalize.h; docs/normalization.md). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/normalize.h"
#include "cli.h"

static const char USAGE[] =
    "usage: bulkrepo normalize check FILE... [--json]\n"
    "       bulkrepo normalize list [--json]\n\n"
    "The rule sets of the Research assets normalization job (bulkrepo job run normalize-assets\n"
    "--set NAME --param rules=RULESET).  A rule set is a text file: [fields ...] lines name\n"
    "the fields the rules under them change; the rules are trim, collapse-spaces, nfc,\n"
    "case lower|upper|title, replace /REGEX/ \"TEXT\", date YYYYMMDD|YYYY-MM-DD, map FILE.tsv,\n"
    "split \"SEP\" and join \"SEP\" (docs/normalization.md).  bulkrepo ships some\n"
    "(default, dates, languages); a repository keeps its own in DIR/normalization/NAME.rules,\n"
    "which replace shipped ones of the same name.\n\n"
    "  check   parses each rule file (its map files are read from its folder) and says\n"
    "          whether it is valid, or where it is not: FILE:LINE:COLUMN: message\n"
    "  list    the rule sets the job can use: name, origin (repository or shipped), number\n"
    "          of rules, status (ok, invalid, or replaced by the repository's set) and the\n"
    "          file's first comment line; without a repository the shipped ones\n\n"
    "  --json  check: [{\"file\", \"valid\", \"rules\", \"sections\", \"error\"}], error null or\n"
    "          {\"message\", \"source\", \"line\", \"column\"}; list: [{\"name\", \"origin\",\n"
    "          \"path\", \"summary\", \"status\", \"rules\", \"sections\", \"problem\"}]\n\n"
    "Exit codes: 0 ok (check: every file is valid), 2 usage, 3 a rule file that does not parse\n"
    "or cannot be found, 4 I/O error.\n";

static json_t *error_json(const br_error *e)
{
    return json_pack("{s:s,s:s,s:i,s:i}", "message", e->message, "source", e->place.source, "line",
                     (int)e->place.line, "column", (int)e->place.column);
}

static int do_check(int argc, char **argv)
{
    int json = 0, files = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_usage("normalize check", "unknown option '%s'", argv[i]);
        else
            files++;
    }
    if (!files) return cli_usage("normalize check", "give the rule file(s) to check");
    json_t *arr = json ? json_array() : NULL;
    int rc = EXIT_OK;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) continue;
        br_ruleset *rs = NULL;
        br_error err;
        int k = br_ruleset_parse_file(argv[i], &rs, &err);
        if (k) {
            int code = cli_exit_code(k);
            if (code > rc) rc = code;
        }
        if (arr) {
            json_array_append_new(arr, json_pack("{s:s,s:b,s:I,s:I,s:o}", "file", argv[i], "valid",
                                                 !k, "rules", (json_int_t)br_ruleset_rules(rs),
                                                 "sections", (json_int_t)br_ruleset_sections(rs),
                                                 "error", k ? error_json(&err) : json_null()));
        } else if (k) {
            cli_fail(&err);
        } else {
            printf("%s: ok (%zu rules under %zu [fields] lines)\n", argv[i], br_ruleset_rules(rs),
                   br_ruleset_sections(rs));
        }
        br_ruleset_free(rs);
    }
    if (arr) {
        int prc = cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(arr);
        if (prc) rc = prc;
    }
    return rc;
}

#define LIST_ROW "%-20s %-11s %5s  %-9s %s\n"

typedef struct list_ctx {
    json_t *arr;
    int rows;
} list_ctx;

static const char *status_of(const br_ruleset_info *i)
{
    return !i->valid ? "invalid" : i->shadowed ? "replaced" : "ok";
}

static int list_one(void *ctx, const br_ruleset_info *i)
{
    list_ctx *l = ctx;
    if (l->arr) {
        json_array_append_new(l->arr,
                              json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:o}", "name", i->name,
                                        "origin", i->origin, "path", i->path, "summary", i->summary,
                                        "status", status_of(i), "rules", (json_int_t)i->rules,
                                        "sections", (json_int_t)i->sections, "problem",
                                        i->problem ? json_string(i->problem) : json_null()));
        return 0;
    }
    if (!l->rows++) printf(LIST_ROW, "NAME", "ORIGIN", "RULES", "STATUS", "SUMMARY");
    char n[24];
    snprintf(n, sizeof n, "%zu", i->rules);
    printf(LIST_ROW, i->name, i->origin, i->valid ? n : "-", status_of(i), i->summary);
    if (i->problem) printf("  %s\n", i->problem);
    return 0;
}

static int do_list(cli *c, int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            return cli_usage("normalize list", "unexpected argument '%s'", argv[i]);
    }
    br_repo *repo = NULL;
    br_error err;
    int k = br_repo_open(c->repo_dir, &repo, &err);
    if (k && (k != BR_ENOTFOUND || c->repo_given)) return cli_fail(&err);
    if (k) fprintf(stderr, "no repository at %s: the shipped rule sets\n", c->repo_dir);
    list_ctx l = {json ? json_array() : NULL, 0};
    int rc = EXIT_OK;
    if (br_ruleset_list(repo, list_one, &l, &err)) rc = cli_fail(&err);
    if (l.arr) {
        if (!rc) rc = cli_print_json(json_dumps(l.arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(l.arr);
    }
    br_repo_free(repo);
    return rc;
}

int cmd_normalize(cli *c, int argc, char **argv)
{
    int h = cli_subcommand_help(argc, argv, USAGE);
    if (h >= 0) return h;
    if (!strcmp(argv[1], "check")) return do_check(argc - 1, argv + 1);
    if (!strcmp(argv[1], "list")) return do_list(c, argc - 1, argv + 1);
    return cli_usage("normalize", "unknown subcommand '%s'", argv[1]);
}
