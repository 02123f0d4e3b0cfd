/* bulkrepo set create | list | show | add | remove | delete | members: the sets a set job
 * runs on (seed 001, "Running Manual Jobs on Defined Sets"). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char USAGE[] =
    "usage: bulkrepo set create NAME [--type assets|researchers|users] [--note TEXT]\n"
    "                   [--query Q | --from-file FILE | --from-job ID [--outcome O] | --member "
    "ID...]\n"
    "       bulkrepo set list [--json]\n"
    "       bulkrepo set show NAME [--sample N] [--json]\n"
    "       bulkrepo set add NAME (ID... | --from-file FILE | --from-job ID [--outcome O])\n"
    "       bulkrepo set remove NAME ID...\n"
    "       bulkrepo set delete NAME\n"
    "       bulkrepo set members NAME [--json]\n\n"
    "A set is the records a set job runs on: research assets (the default), researchers or\n"
    "users.  An itemized set lists its members; a logical set is a saved search query\n"
    "(--query, research assets only: docs/search.md), evaluated each time it is counted or a\n"
    "job runs, so it grows with the repository.\n\n"
    "  create   a new set (1 to 127 bytes, no control characters, no leading or trailing\n"
    "           space), empty or filled from one source\n"
    "  add      members of an itemized set, all or nothing: an asset is given by handle or\n"
    "           UUID (kept by UUID: it stays a member through a handle change, a delete and\n"
    "           a restore), a user by user name, a researcher by id (no spaces).  One unknown\n"
    "           member and nothing is added (exit 3, the first named with how many more).\n"
    "           Members already in the set keep their place.\n"
    "           --from-file: one member per line, '#' comments and blank lines skipped,\n"
    "           lines of at most 1024 bytes, at most 10,000,000 members\n"
    "           --from-job: the assets an import or export job's journal names, only those\n"
    "           of --outcome imported, updated, deleted (found in the trash) or rejected\n"
    "           (invalid or failed) when given; lines with no item left are counted\n"
    "  remove   members (handles or UUIDs; a deleted item's member by its UUID)\n"
    "  delete   the set (its members themselves are not touched)\n"
    "  list     every set with its member count (a logical set is evaluated)\n"
    "  show     a set, its member count and its first N members (default 10) with handle,\n"
    "           status and title\n"
    "  members  every member in order (assets: handle and UUID; '-' for an item that no\n"
    "           longer exists), streamed\n";

typedef struct set_opts {
    const char *name;
    const char *type;
    const char *note;
    const char *query;
    const char *file;
    const char *outcome;
    int64_t job;
    long sample; /* -1: not given */
    int json;
    const char **ids; /* positional IDs and --member values */
    size_t n_ids;
} set_opts;

static int parse_id(const char *s, int64_t *id)
{
    char *end = NULL;
    long long n = s ? strtoll(s, &end, 10) : 0;
    if (!s || end == s || *end || n <= 0) return -1;
    *id = n;
    return 0;
}

/* Options of `set SUB`; the options a subcommand does not take are usage errors. */
static int parse(const char *sub, int argc, char **argv, set_opts *o, const char *allowed)
{
    char cmd[32];
    snprintf(cmd, sizeof cmd, "set %s", sub);
    memset(o, 0, sizeof *o);
    o->sample = -1;
    if (!(o->ids = calloc((size_t)argc, sizeof *o->ids))) return cli_usage(cmd, "out of memory");
    int dashdash = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash || a[0] != '-' || !a[1]) {
            if (!o->name)
                o->name = a;
            else if (strstr(allowed, " ID "))
                o->ids[o->n_ids++] = a;
            else
                return cli_usage(cmd, "unexpected argument '%s'", a);
            continue;
        }
        if (!strcmp(a, "--")) {
            dashdash = 1;
            continue;
        }
        char flag[40];
        snprintf(flag, sizeof flag, " %s ", a);
        if (!strstr(allowed, flag)) return cli_usage(cmd, "unknown option '%s'", a);
        if (!strcmp(a, "--json")) {
            o->json = 1;
            continue;
        }
        if (i + 1 == argc) return cli_usage(cmd, "%s needs a value", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--type"))
            o->type = v;
        else if (!strcmp(a, "--note"))
            o->note = v;
        else if (!strcmp(a, "--query"))
            o->query = v;
        else if (!strcmp(a, "--from-file"))
            o->file = v;
        else if (!strcmp(a, "--outcome"))
            o->outcome = v;
        else if (!strcmp(a, "--member"))
            o->ids[o->n_ids++] = v;
        else if (!strcmp(a, "--from-job")) {
            if (parse_id(v, &o->job)) return cli_usage(cmd, "'%s' is not a job id", v);
        } else if (!strcmp(a, "--sample")) {
            char *end;
            o->sample = strtol(v, &end, 10);
            if (end == v || *end || o->sample < 0 || o->sample > 10000)
                return cli_usage(cmd, "--sample takes a number from 0 to 10000");
        }
    }
    if (!o->name) return cli_usage(cmd, "give the set's NAME");
    int sources = !!o->query + !!o->file + !!o->job + (o->n_ids > 0);
    if (sources > 1)
        return cli_usage(cmd, "give one source of members: %s--from-file, --from-job or IDs",
                         strstr(allowed, "--query") ? "--query, " : "");
    if (o->outcome && !o->job) return cli_usage(cmd, "--outcome goes with --from-job");
    return 0;
}

/* ---- output ---------------------------------------------------------------------------------- */

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

/* The set's JSON (the library's one shape, br_set_to_json); members: its count. */
static json_t *set_json(const br_set *s, int64_t members)
{
    char *text = NULL;
    json_t *o = br_set_to_json(s, members, &text, NULL) ? NULL : json_loads(text, 0, NULL);
    free(text);
    return o ? o : json_null();
}

typedef struct list_ctx {
    br_repo *repo;
    json_t *arr;
    size_t rows;
    br_error err;
    int rc;
} list_ctx;

#define LIST_ROW "%-24s %-11s %-8s %9s  %-20s %s\n"

static int list_one(void *ctx, const br_set *s)
{
    list_ctx *l = ctx;
    int64_t n = s->members;
    if (n < 0 && (l->rc = br_set_count(l->repo, s->name, &n, &l->err))) return 1;
    if (l->arr) {
        json_array_append_new(l->arr, set_json(s, n));
        return 0;
    }
    if (!l->rows++) printf(LIST_ROW, "NAME", "TYPE", "KIND", "MEMBERS", "CREATED", "CREATOR");
    char count[24];
    snprintf(count, sizeof count, "%lld", (long long)n);
    printf(LIST_ROW, s->name, br_set_content_name(s->content), s->query[0] ? "logical" : "itemized",
           count, s->created, s->creator[0] ? s->creator : "-");
    return 0;
}

static int do_list(cli *c, const set_opts *o)
{
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    list_ctx l = {repo, o->json ? json_array() : NULL, 0, {0}, 0};
    br_error err;
    if (br_set_list(repo, list_one, &l, &err))
        rc = cli_fail(&err);
    else if (l.rc)
        rc = cli_fail(&l.err);
    if (!rc && !l.arr && !l.rows) fprintf(stderr, "no sets\n");
    if (l.arr) {
        if (!rc) rc = cli_print_json(json_dumps(l.arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(l.arr);
    }
    br_repo_free(repo);
    return rc;
}

/* One sampled member: for assets its item's status and title. */
typedef struct sample_ctx {
    br_repo *repo;
    br_set_content content;
    long max, n;
    json_t *arr;
    br_record *rec;
    br_error err;
    int rc;
} sample_ctx;

static int sample_one(void *ctx, const br_set_member *m)
{
    sample_ctx *s = ctx;
    if (s->n++ >= s->max) return 1;
    const char *status = NULL, *title = NULL;
    if (s->content == BR_SET_ASSETS && m->item_id) {
        if ((s->rc = br_item_load(s->repo, m->item_id, s->rec, &s->err))) return 1;
        status = s->rec->status;
        title = br_record_first(s->rec, "dc.title");
    }
    if (s->arr) {
        json_t *o = json_object();
        if (s->content == BR_SET_ASSETS) {
            json_object_set_new(o, "handle", str_or_null(m->handle));
            json_object_set_new(o, "uuid", json_string(m->member));
            json_object_set_new(o, "status",
                                m->item_id ? str_or_null(status) : json_string("missing"));
            json_object_set_new(o, "title", str_or_null(title));
        } else {
            json_object_set_new(o, "member", json_string(m->member));
        }
        json_array_append_new(s->arr, o);
    } else if (s->content == BR_SET_ASSETS) {
        printf("  %s\t%s\t%s\n", m->handle ? m->handle : m->member,
               m->item_id ? (status ? status : "") : "missing (no such item now)",
               title ? title : "");
    } else {
        printf("  %s\n", m->member);
    }
    return 0;
}

static int do_show(cli *c, const set_opts *o)
{
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    br_set s;
    int64_t n = 0;
    sample_ctx sc = {repo, BR_SET_ASSETS, o->sample < 0 ? 10 : o->sample, 0, NULL, NULL, {0}, 0};
    json_t *out = NULL;
    if (br_set_get(repo, o->name, &s, &err) || br_set_count(repo, o->name, &n, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    sc.content = s.content;
    if (!(sc.rec = br_record_new())) {
        fprintf(stderr, "bulkrepo: out of memory\n");
        rc = EXIT_IOERR;
        goto done;
    }
    if (o->json) {
        out = json_pack("{s:o,s:o}", "set", set_json(&s, n), "sample", json_array());
        sc.arr = json_object_get(out, "sample");
    } else {
        printf("name:     %s\ntype:     %s\nkind:     %s\n", s.name, br_set_content_name(s.content),
               s.query[0] ? "logical (a saved query, evaluated now)" : "itemized");
        if (s.query[0]) printf("query:    %s\n", s.query);
        if (s.note[0]) printf("note:     %s\n", s.note);
        printf("created:  %s%s%s\nmembers:  %lld\n", s.created, s.creator[0] ? " by " : "",
               s.creator, (long long)n);
        if (n && sc.max) printf("first %lld:\n", (long long)(n < sc.max ? n : sc.max));
    }
    if (sc.max && br_set_members(repo, o->name, sample_one, &sc, &err))
        rc = cli_fail(&err);
    else if (sc.rc)
        rc = cli_fail(&sc.err);
    if (!rc && out) {
        rc = cli_print_json(json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
    }
done:
    json_decref(out);
    br_record_free(sc.rec);
    br_repo_free(repo);
    return rc;
}

/* `set members`: streamed, one line or one JSON object at a time (a million members
 * take no more memory than ten). */
typedef struct members_ctx {
    br_set_content content;
    int json;
    int64_t n;
    int failed;
} members_ctx;

static int member_one(void *ctx, const br_set_member *m)
{
    members_ctx *mc = ctx;
    if (!mc->json) {
        if (mc->content == BR_SET_ASSETS)
            printf("%s\t%s\n", m->handle ? m->handle : "-", m->member);
        else
            printf("%s\n", m->member);
    } else {
        json_t *o = mc->content == BR_SET_ASSETS
                        ? json_pack("{s:I,s:s,s:o,s:o}", "seq", (json_int_t)m->seq, "uuid",
                                    m->member, "handle", str_or_null(m->handle), "item_id",
                                    m->item_id ? json_integer(m->item_id) : json_null())
                        : json_pack("{s:I,s:s}", "seq", (json_int_t)m->seq, "member", m->member);
        char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (!text) return mc->failed = 1;
        printf("%s\n  %s", mc->n ? "," : "", text);
        free(text);
    }
    mc->n++;
    /* A closed pipe or a full disk: stop reading the set (main reports it). */
    return ferror(stdout) ? 1 : 0;
}

static int do_members(cli *c, const set_opts *o)
{
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    br_set s;
    if (br_set_get(repo, o->name, &s, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    members_ctx mc = {s.content, o->json, 0, 0};
    if (o->json) fputs("[", stdout);
    if (br_set_members(repo, o->name, member_one, &mc, &err))
        rc = cli_fail(&err);
    else if (mc.failed) {
        fprintf(stderr, "bulkrepo: out of memory\n");
        rc = EXIT_IOERR;
    }
    if (o->json) fputs(mc.n ? "\n]\n" : "]\n", stdout);
done:
    br_repo_free(repo);
    return rc;
}

/* ---- changes --------------------------------------------------------------------------------- */

/* Adds the members o names (IDs, a file or a job); prints what was done. */
static int add_members(br_repo *repo, const set_opts *o, br_error *err)
{
    size_t added = 0, none = 0;
    int rc;
    if (o->file)
        rc = br_set_add_file(repo, o->name, o->file, &added, err);
    else if (o->job)
        rc = br_set_add_from_job(repo, o->name, o->job, o->outcome, &added, &none, err);
    else
        rc = br_set_add(repo, o->name, o->ids, o->n_ids, &added, err);
    if (rc) return rc;
    fprintf(stderr, "set '%s': %zu members added", o->name, added);
    if (o->job)
        fprintf(stderr, " from job %lld (%zu journal lines named no item that still exists)",
                (long long)o->job, none);
    fputc('\n', stderr);
    return 0;
}

/* Copies v into dst[size]: 0, or -1 (dst untouched) when it does not fit. */
static int copy(char *dst, size_t size, const char *v)
{
    size_t n = strlen(v);
    if (n >= size) return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

static int do_create(cli *c, const set_opts *o)
{
    br_set s;
    memset(&s, 0, sizeof s);
    br_set_content content = BR_SET_ASSETS;
    if (o->type && br_set_content_parse(o->type, &content))
        return cli_usage("set create", "--type is assets, researchers or users, not '%s'", o->type);
    s.content = content;
    struct {
        char *dst;
        size_t size;
        const char *v, *what;
    } f[] = {{s.name, sizeof s.name, o->name, "the name"},
             {s.query, sizeof s.query, o->query, "--query"},
             {s.note, sizeof s.note, o->note, "--note"}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (!f[i].v) continue;
        if (copy(f[i].dst, f[i].size, f[i].v)) {
            if (i == 0)
                return cli_usage("set create", "the name has more than %d bytes", BR_SET_NAME_MAX);
            return cli_usage("set create", "%s has more than %zu bytes", f[i].what, f[i].size - 1);
        }
    }
    /* The creator is the account running the command, as `item approve` records it. */
    const char *creator = cli_whoami();
    if (creator) copy(s.creator, sizeof s.creator, creator); /* an endless one is left out */
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    if (br_set_create(repo, &s, &err)) {
        rc = cli_fail(&err);
    } else if ((o->file || o->job || o->n_ids) && add_members(repo, o, &err)) {
        /* The set and its members appear together or not at all. */
        br_set_delete(repo, s.name, NULL);
        rc = cli_fail(&err);
    } else {
        fprintf(stderr, "set '%s' created (%s, %s)\n", s.name, br_set_content_name(s.content),
                s.query[0] ? "logical" : "itemized");
    }
    br_repo_free(repo);
    return rc;
}

static int do_change(cli *c, const char *sub, const set_opts *o)
{
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    size_t removed = 0;
    if (!strcmp(sub, "add")) {
        if (add_members(repo, o, &err)) rc = cli_fail(&err);
    } else if (!strcmp(sub, "remove")) {
        if (br_set_remove(repo, o->name, o->ids, o->n_ids, &removed, &err))
            rc = cli_fail(&err);
        else
            fprintf(stderr, "set '%s': %zu members removed\n", o->name, removed);
    } else if (br_set_delete(repo, o->name, &err)) {
        rc = cli_fail(&err);
    } else {
        fprintf(stderr, "set '%s' deleted\n", o->name);
    }
    br_repo_free(repo);
    return rc;
}

int cmd_set(cli *c, int argc, char **argv)
{
    int help = cli_subcommand_help(argc, argv, USAGE);
    if (help >= 0) return help;
    static const struct {
        const char *sub, *allowed;
    } SUBS[] = {
        {"create", " --type --note --query --from-file --from-job --outcome --member "},
        {"list", " --json "},
        {"show", " --json --sample "},
        {"add", " ID --from-file --from-job --outcome "},
        {"remove", " ID "},
        {"delete", " "},
        {"members", " --json "},
    };
    const char *sub = argv[1];
    size_t k = 0;
    while (k < sizeof SUBS / sizeof SUBS[0] && strcmp(sub, SUBS[k].sub))
        k++;
    if (k == sizeof SUBS / sizeof SUBS[0]) return cli_usage("set", "unknown subcommand '%s'", sub);
    set_opts o;
    int rc;
    if (!strcmp(sub, "list")) { /* no NAME */
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "--json"))
                return cli_usage("set list", "unexpected argument '%s'", argv[i]);
        memset(&o, 0, sizeof o);
        o.json = argc > 2;
        return do_list(c, &o);
    }
    if ((rc = parse(sub, argc, argv, &o, SUBS[k].allowed))) goto done;
    if (!strcmp(sub, "create")) {
        rc = do_create(c, &o);
    } else if (!strcmp(sub, "show")) {
        rc = do_show(c, &o);
    } else if (!strcmp(sub, "members")) {
        rc = do_members(c, &o);
    } else {
        if (!strcmp(sub, "add") && !o.file && !o.job && !o.n_ids)
            rc = cli_usage("set add", "give IDs, --from-file FILE or --from-job ID");
        else if (!strcmp(sub, "remove") && !o.n_ids)
            rc = cli_usage("set remove", "give the IDs to remove");
        else
            rc = do_change(c, sub, &o);
    }
done:
    free(o.ids);
    return rc;
}
