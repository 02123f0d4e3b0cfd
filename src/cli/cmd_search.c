/* bulkrepo search: the items a query finds (search.h, docs/search.md). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char USAGE[] =
    "usage: bulkrepo search QUERY [--json] [--limit N] [--offset N] [--rank]\n"
    "\n"
    "Finds items.  Words match any text of an item (all of them must match), \"a phrase\"\n"
    "the words in that order; a field narrows a term to one part of the record:\n"
    "  title: creator: orcid: affiliation: type: collection: status: identifier: doi: isbn:\n"
    "  date:2019  date:2019..2021  has:file  has:doi  has:link  job:ID\n"
    "Terms are combined with AND (also when only a space separates them), OR and NOT\n"
    "(upper case) and grouped with ( ).  A word ending in * is a prefix: climat*.\n"
    "Letters match without case and accents (Muller finds Müller).  Templates are never\n"
    "found; withdrawn items are, unless status: says otherwise.\n"
    "\n"
    "  --limit N    print at most N items (default: all)\n"
    "  --offset N   skip the first N items\n"
    "  --rank       best matches first (else in handle order, as item list)\n"
    "  --json       {\"total\": N, \"items\": [{handle, uuid, status, title, collection,\n"
    "               modified}]}\n"
    "\n"
    "Prints one line per item (handle, status, title; tab-separated) and then how many\n"
    "items the query finds.  Several QUERY arguments are one query, joined by spaces.\n"
    "A malformed query exits 2 and shows where.  Examples:\n"
    "  bulkrepo search 'title:\"climate change\" date:2015..2020'\n"
    "  bulkrepo search 'creator:muller AND (has:doi OR has:file) NOT status:withdrawn'\n"
    "  bulkrepo search job:12 --json\n"
    "The language is described in docs/search.md.\n";

typedef struct hits {
    json_t *arr; /* --json */
    int64_t n;
} hits;

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int print_hit(void *ctx, const br_item_summary *s)
{
    hits *h = ctx;
    h->n++;
    if (h->arr) {
        json_t *o = json_object();
        json_object_set_new(o, "handle", json_string(s->handle ? s->handle : ""));
        json_object_set_new(o, "uuid", json_string(s->uuid));
        json_object_set_new(o, "status", json_string(s->status));
        json_object_set_new(o, "title", str_or_null(s->title));
        json_object_set_new(o, "collection", str_or_null(s->owning_collection));
        json_object_set_new(o, "modified", json_string(s->modified));
        json_array_append_new(h->arr, o);
    } else {
        printf("%s\t%s\t%s\n", s->handle ? s->handle : "", s->status, s->title ? s->title : "");
    }
    return 0;
}

/* A count given on the command line: 0 and *out, or -1. */
static int parse_count(const char *s, int64_t *out)
{
    if (!s || *s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0) return -1;
    *out = v;
    return 0;
}

/* The query on stderr with a caret under the column (1-based, in characters) the error
 * names; control characters are shown as spaces so that the caret stays under its place. */
static void show_place(const char *q, unsigned column)
{
    fputs("  ", stderr);
    for (const char *p = q; *p; p++)
        fputc((unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p, stderr);
    fputs("\n  ", stderr);
    for (unsigned i = 1; i < column; i++)
        fputc(' ', stderr);
    fputs("^\n", stderr);
}

int cmd_search(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'},         {"limit", required_argument, 0, 'l'},
        {"offset", required_argument, 0, 'o'}, {"rank", no_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    br_search_query q = {NULL, 0, 0, BR_SEARCH_BY_HANDLE};
    int json = 0, o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == 'j') {
            json = 1;
        } else if (o == 'l') {
            if (parse_count(optarg, &q.limit))
                return cli_usage("search", "--limit takes a number, not '%s'", optarg);
        } else if (o == 'o') {
            if (parse_count(optarg, &q.offset))
                return cli_usage("search", "--offset takes a number, not '%s'", optarg);
        } else if (o == 'r') {
            q.order = BR_SEARCH_BY_RANK;
        } else if (o == 'h') {
            fputs(USAGE, stdout);
            return EXIT_OK;
        } else {
            return cli_usage("search", "unknown option");
        }
    }
    if (optind >= argc) return cli_usage("search", "give a QUERY");
    /* The arguments joined by spaces: `bulkrepo search climate change` is one query. */
    size_t len = 0;
    for (int i = optind; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *text = malloc(len + 1);
    if (!text) {
        fprintf(stderr, "bulkrepo: out of memory\n");
        return EXIT_IOERR;
    }
    size_t at = 0;
    for (int i = optind; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (i > optind) text[at++] = ' ';
        memcpy(text + at, argv[i], n);
        at += n;
    }
    text[at] = 0;
    q.q = text;
    br_error err;
    int rc;
    /* A malformed query is told before the repository is opened. */
    if (br_search_check(text, &err)) {
        rc = cli_fail(&err);
        if (err.code == BR_EUSAGE && err.place.column) show_place(text, err.place.column);
        free(text);
        return rc;
    }
    br_repo *repo;
    if ((rc = cli_open(c, &repo))) {
        free(text);
        return rc;
    }
    hits h = {json ? json_array() : NULL, 0};
    int64_t total = 0;
    if (br_search(repo, &q, print_hit, &h, &total, &err)) {
        rc = cli_fail(&err);
    } else if (json) {
        json_t *doc = json_object();
        json_object_set_new(doc, "total", json_integer(total));
        json_object_set_new(doc, "items", h.arr);
        h.arr = NULL;
        rc = cli_print_json(json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(doc);
    } else if (h.n == total) {
        printf("%lld item%s\n", (long long)total, total == 1 ? "" : "s");
    } else if (!h.n) {
        printf("none of %lld items after the first %lld\n", (long long)total, (long long)q.offset);
    } else {
        printf("%lld-%lld of %lld items\n", (long long)(q.offset + 1), (long long)(q.offset + h.n),
               (long long)total);
    }
    json_decref(h.arr);
    br_repo_free(repo);
    free(text);
    return rc;
}
