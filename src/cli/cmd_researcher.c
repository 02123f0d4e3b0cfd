/* bulkrepo researcher add | import | list | show, and bulkrepo orcid config | works | record:
 * the researchers that sets of researchers and the set jobs on them name (researcher.h), and
 * the ORCID works and API the Delete records from ORCID job uses. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli.h"

static const char RESEARCHER_USAGE[] =
    "usage: bulkrepo researcher add ID --family NAME [--given NAME] [--middle NAME]\n"
    "                  [--suffix TEXT] [--orcid ORCID] [--status STATUS] [--flag FLAG]...\n"
    "                  [--affiliation UNIT|START|END]... [--topic TEXT]... [--keyword TEXT]...\n"
    "                  [--last-harvest YYYY-MM-DD]\n"
    "       bulkrepo researcher import FILE.csv [--dry-run] [--json]\n"
    "       bulkrepo researcher list [--json]\n"
    "       bulkrepo researcher show ID|ORCID [--json]\n\n"
    "Researchers: a researcher id (the primary identifier; sets of researchers list these ids,\n"
    "and an asset's creator names it as its researcher id), name parts, an ORCID iD (its check\n"
    "digit is verified), affiliations to organisational units (bulkrepo orgunit) with start and\n"
    "end dates (no end date: current), research topics, keywords, flags, the last Smart\n"
    "Harvesting date and the affiliated status.  Creators of assets link to a researcher by\n"
    "researcher id or ORCID iD.\n\n"
    "  add      adds one researcher; nothing is written when a value is wrong (exit 3)\n"
    "  import   adds or updates the researchers of a CSV file whose header names the columns\n"
    "           id, family (required), given, middle, suffix, orcid, status, flags,\n"
    "           last_harvest, affiliations (UNIT|START|END;...), topics and keywords (;\n"
    "           between values); a row whose id exists replaces that researcher.  Every\n"
    "           problem is listed by cell as FILE:ROW:COLUMN: CELL error RULE: message and\n"
    "           nothing is written when there is one (exit 3); --dry-run only checks\n"
    "  list     every researcher: id, name, ORCID iD, status, current units (tab-separated),\n"
    "           or a JSON array with --json\n"
    "  show     one researcher by id or ORCID iD, with the assets whose creators name them\n"
    "           and the ORCID works recorded for them\n\n"
    "STATUS is affiliated (the default), non-affiliated or previously-affiliated.  FLAG is\n"
    "profile-access, active-profile, auto-match-approval, smart-harvesting,\n"
    "skip-auto-approvals, update-orcid, manage-externally or notifications.  Dates are\n"
    "YYYY-MM-DD.  docs/researchers.md describes it all.\n\n"
    "Exit codes: 0 ok, 2 usage, 3 invalid input or unknown researcher (nothing written),\n"
    "4 I/O or database error.\n";

static const char ORCID_USAGE[] =
    "usage: bulkrepo orcid config --api URL --token-file FILE\n"
    "       bulkrepo orcid config [--show] [--json] | --clear\n"
    "       bulkrepo orcid works [RESEARCHER] [--json]\n"
    "       bulkrepo orcid record RESEARCHER PUT-CODE [--asset HANDLE] [--pushed DATE]\n\n"
    "The ORCID member API the Delete records from ORCID job (delete-orcid) removes works\n"
    "through, and the works bulkrepo pushed to researchers' ORCID records.\n\n"
    "  config   sets the API's base URL (https://api.orcid.org, or the sandbox's\n"
    "           https://api.sandbox.orcid.org; the job calls DELETE URL/v3.0/ORCID/work/PUT-CODE)\n"
    "           and the access token read from FILE (- reads standard input; an ORCID token\n"
    "           with the /activities/update scope).  The token is stored sealed with the\n"
    "           repository's key (secret.key), never in clear and never on the command line.\n"
    "           Without options (or --show) prints what is configured; --clear removes it.\n"
    "           With no API configured the job sends nothing: it records each request in\n"
    "           orcid/requests.log under the repository and leaves the works recorded.\n"
    "           A loopback or private API address must be listed in fetch-allow.txt.\n"
    "  works    the works recorded: researcher, ORCID iD, put-code, asset, when pushed\n"
    "  record   records a work pushed to a researcher's ORCID record: its put-code (ORCID's\n"
    "           answer to the work's POST), the asset it came from, when (default: now)\n\n"
    "Exit codes: 0 ok, 2 usage, 3 invalid input or unknown researcher, 4 I/O or database "
    "error.\n";

/* ---- researcher add ---------------------------------------------------------------------------
 */

/* Copies a value into a field of the researcher, refusing one too long (usage error). */
static int set_text(char *dst, size_t size, const char *v, const char *opt)
{
    if (strlen(v) >= size)
        return cli_usage("researcher add", "%s takes at most %zu bytes", opt, size - 1);
    snprintf(dst, size, "%s", v);
    return 0;
}

/* An ORCID iD given as a URL (https://orcid.org/ID) as the bare iD. */
static const char *bare_orcid(const char *v)
{
    static const char *const pre[] = {"https://orcid.org/", "http://orcid.org/", "orcid.org/"};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
        if (!strncasecmp(v, pre[i], strlen(pre[i]))) return v + strlen(pre[i]);
    return v;
}

/* "UNIT|START|END" (START and END may be empty or left out). */
static int add_affiliation(br_researcher *r, const char *v)
{
    char buf[512], *parts[3] = {NULL, NULL, NULL};
    if (strlen(v) >= sizeof buf) return cli_usage("researcher add", "--affiliation is too long");
    snprintf(buf, sizeof buf, "%s", v);
    char *s = buf;
    for (int i = 0; i < 3 && s; i++) {
        parts[i] = s;
        s = strchr(s, '|');
        if (s) *s++ = 0;
    }
    if (s || !*parts[0])
        return cli_usage("researcher add", "--affiliation takes UNIT|START|END, not '%s'", v);
    int rc = br_researcher_add_affiliation(r, parts[0], parts[1], parts[2]);
    if (rc == BR_ENOMEM) return cli_usage("researcher add", "out of memory");
    if (rc)
        return cli_usage("researcher add",
                         "--affiliation '%s': a unit code of at most 127 bytes "
                         "and dates YYYY-MM-DD",
                         v);
    return 0;
}

static int res_add(cli *c, int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') return cli_usage("researcher add", "give the researcher id");
    br_researcher *r = br_researcher_new();
    if (!r) return EXIT_IOERR;
    int rc = set_text(r->id, sizeof r->id, argv[1], "the researcher id");
    for (int i = 2; i < argc && !rc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            rc = cli_usage("researcher add", "unexpected argument '%s'", a);
            break;
        }
        i++;
        if (!strcmp(a, "--family"))
            rc = set_text(r->family, sizeof r->family, v, a);
        else if (!strcmp(a, "--given"))
            rc = set_text(r->given, sizeof r->given, v, a);
        else if (!strcmp(a, "--middle"))
            rc = set_text(r->middle, sizeof r->middle, v, a);
        else if (!strcmp(a, "--suffix"))
            rc = set_text(r->suffix, sizeof r->suffix, v, a);
        else if (!strcmp(a, "--orcid"))
            rc = set_text(r->orcid, sizeof r->orcid, bare_orcid(v), a);
        else if (!strcmp(a, "--last-harvest"))
            rc = set_text(r->last_harvest, sizeof r->last_harvest, v, a);
        else if (!strcmp(a, "--status")) {
            if (br_researcher_status_parse(v, &r->status))
                rc = cli_usage("researcher add",
                               "--status is affiliated, non-affiliated or "
                               "previously-affiliated, not '%s'",
                               v);
        } else if (!strcmp(a, "--flag")) {
            unsigned f;
            if (br_researcher_flag_parse(v, &f))
                rc = cli_usage("researcher add", "unknown flag '%s' (researcher --help lists them)",
                               v);
            else
                r->flags |= f;
        } else if (!strcmp(a, "--affiliation")) {
            rc = add_affiliation(r, v);
        } else if (!strcmp(a, "--topic") || !strcmp(a, "--keyword")) {
            int k = a[2] == 't' ? br_researcher_add_topic(r, v) : br_researcher_add_keyword(r, v);
            if (k < 0) rc = cli_usage("researcher add", "too many %ss", a + 2);
        } else {
            rc = cli_usage("researcher add", "unexpected argument '%s'", a);
        }
    }
    if (!rc && !r->family[0]) rc = cli_usage("researcher add", "give the family name (--family)");
    br_repo *repo = NULL;
    if (!rc) rc = cli_open(c, &repo);
    br_error err;
    if (!rc && br_researcher_add(repo, r, &err)) rc = cli_fail(&err);
    if (!rc) {
        printf("%s\n", r->id);
        fprintf(stderr, "researcher %s added\n", r->id);
    }
    br_repo_free(repo);
    br_researcher_free(r);
    return rc;
}

/* ---- researcher import ------------------------------------------------------------------------
 */

typedef struct import_out {
    json_t *arr; /* --json: the problems */
} import_out;

static void print_problem(void *ctx, const br_diag *d)
{
    import_out *o = ctx;
    if (o->arr) {
        json_array_append_new(o->arr,
                              json_pack("{s:s,s:I,s:I,s:s,s:s,s:s}", "file", d->source, "row",
                                        (json_int_t)d->line, "column", (json_int_t)d->column,
                                        "cell", d->cell ? d->cell : "", "rule",
                                        d->rule ? d->rule : "", "message", d->message));
        return;
    }
    fprintf(stderr, "%s:%u:%u: %s %s %s: %s\n", d->source, d->line, d->column,
            d->cell ? d->cell : "", br_severity_name(d->severity), d->rule ? d->rule : "",
            d->message);
}

static int res_import(cli *c, int argc, char **argv)
{
    const char *path = NULL;
    int dry = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dry-run"))
            dry = 1;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else
            return cli_usage("researcher import", "unexpected argument '%s'", argv[i]);
    }
    if (!path) return cli_usage("researcher import", "give the CSV file");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    import_out o = {json ? json_array() : NULL};
    br_diag_sink sink = {print_problem, &o, 0, 0, 0};
    br_researcher_import_result res;
    br_error err;
    int brc = br_researcher_import(repo, path, dry, &sink, &res, &err);
    if (brc && !sink.errors)
        rc = cli_fail(&err); /* the file itself, not a cell */
    else if (brc)
        rc = cli_exit_code(brc);
    if (json) {
        json_t *r = json_pack("{s:s,s:b,s:I,s:I,s:I,s:o}", "file", path, "dry_run", dry, "rows",
                              (json_int_t)res.rows, "added", (json_int_t)res.added, "updated",
                              (json_int_t)res.updated, "problems", o.arr);
        int prc = cli_print_json(json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(r);
        if (!rc) rc = prc;
    } else if (sink.errors) {
        fprintf(stderr, "%s: %zu problem%s in %zu rows; nothing was written\n", path, sink.errors,
                sink.errors == 1 ? "" : "s", res.rows);
    } else if (!rc) {
        fprintf(stderr, "%s: %zu rows%s: %zu researchers added, %zu updated\n", path, res.rows,
                dry ? " checked (dry run, nothing written)" : "", res.added, res.updated);
    }
    br_repo_free(repo);
    return rc;
}

/* ---- researcher list / show -------------------------------------------------------------------
 */

/* The researcher's JSON object (researcher show --json), NULL when out of memory. */
static json_t *obj_of(const br_researcher *r)
{
    char *text = NULL;
    if (br_researcher_json(r, &text, NULL)) return NULL;
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    return j;
}

static void full_name(const br_researcher *r, char *out, size_t size)
{
    snprintf(out, size, "%s%s%s%s%s%s%s", r->family, r->given[0] ? ", " : "", r->given,
             r->middle[0] ? " " : "", r->middle, r->suffix[0] ? ", " : "", r->suffix);
}

static int list_one(void *ctx, const br_researcher *r)
{
    json_t *arr = ctx;
    if (arr) return json_array_append_new(arr, obj_of(r)) ? 1 : 0;
    char name[1200], units[1024] = "";
    full_name(r, name, sizeof name);
    for (size_t i = 0, k = 0; i < r->n_affiliations && k < sizeof units; i++, k = strlen(units))
        if (!r->affiliations[i].end[0])
            snprintf(units + k, sizeof units - k, "%s%s", k ? "," : "", r->affiliations[i].unit);
    printf("%s\t%s\t%s\t%s\t%s\n", r->id, name, r->orcid, br_researcher_status_name(r->status),
           units);
    return 0;
}

static int res_list(cli *c, int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            return cli_usage("researcher list", "unexpected argument '%s'", argv[i]);
    }
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    json_t *arr = json ? json_array() : NULL;
    br_error err;
    if (br_researcher_list(repo, list_one, arr, &err)) rc = cli_fail(&err);
    if (arr) {
        if (!rc) rc = cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(arr);
    }
    br_repo_free(repo);
    return rc;
}

typedef struct show_out {
    json_t *arr;
    size_t n;
} show_out;

static int asset_one(void *ctx, const br_researcher_asset *a)
{
    show_out *o = ctx;
    o->n++;
    if (o->arr)
        json_array_append_new(o->arr,
                              json_pack("{s:s?,s:s,s:s?,s:s,s:s}", "handle", a->handle, "uuid",
                                        a->uuid, "title", a->title, "role", a->role, "by", a->by));
    else
        printf("  %-20s %s  (%s, by %s)\n", a->handle ? a->handle : a->uuid,
               a->title ? a->title : "(no title)", a->role, a->by);
    return 0;
}

static int work_one(void *ctx, const br_orcid_work *w)
{
    show_out *o = ctx;
    o->n++;
    if (o->arr)
        json_array_append_new(o->arr,
                              json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:s}", "researcher", w->researcher,
                                        "orcid", w->orcid, "put_code", w->put_code, "asset",
                                        w->asset_uuid, "handle", w->handle, "pushed", w->pushed));
    else
        printf("  %-12s %s\t%s\t%s\t%s\n", w->put_code, w->researcher, w->orcid,
               w->handle       ? w->handle
               : w->asset_uuid ? w->asset_uuid
                               : "-",
               w->pushed);
    return 0;
}

static void print_researcher(const br_researcher *r)
{
    char name[1200];
    full_name(r, name, sizeof name);
    printf("id:            %s\nname:          %s\n", r->id, name);
    printf("ORCID iD:      %s\n", r->orcid[0] ? r->orcid : "(none)");
    printf("status:        %s\n", br_researcher_status_name(r->status));
    printf("flags:        ");
    int any = 0;
    for (unsigned bit = 1; bit & BR_RF_ALL; bit <<= 1)
        if (r->flags & bit) printf("%s %s", any++ ? "," : "", br_researcher_flag_name(bit));
    printf("%s\n", any ? "" : " (none)");
    printf("last harvest:  %s\n", r->last_harvest[0] ? r->last_harvest : "never");
    printf("affiliations:  %s\n", r->n_affiliations ? "" : "(none)");
    for (size_t i = 0; i < r->n_affiliations; i++) {
        const br_researcher_affiliation *a = &r->affiliations[i];
        printf("  %-30s %s..%s%s\n", a->unit, a->start, a->end, a->end[0] ? "" : "  (current)");
    }
    printf("topics:        ");
    for (size_t i = 0; i < r->n_topics; i++)
        printf("%s%s", i ? "; " : "", r->topics[i]);
    printf("%s\nkeywords:      ", r->n_topics ? "" : "(none)");
    for (size_t i = 0; i < r->n_keywords; i++)
        printf("%s%s", i ? "; " : "", r->keywords[i]);
    printf("%s\n", r->n_keywords ? "" : "(none)");
    printf("created:       %s\nmodified:      %s (version %lld)\n", r->created, r->modified,
           (long long)r->version);
}

static int res_show(cli *c, int argc, char **argv)
{
    const char *key = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] != '-' && !key)
            key = argv[i];
        else
            return cli_usage("researcher show", "unexpected argument '%s'", argv[i]);
    }
    if (!key) return cli_usage("researcher show", "give the researcher's id or ORCID iD");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_researcher *r = br_researcher_new();
    br_error err;
    json_t *j = NULL;
    show_out assets = {NULL, 0}, works = {NULL, 0};
    if (!r || br_researcher_get(repo, key, r, &err)) {
        rc = r ? cli_fail(&err) : EXIT_IOERR;
        goto done;
    }
    if (json) {
        j = obj_of(r);
        assets.arr = json_array();
        works.arr = json_array();
        json_object_set_new(j, "assets", assets.arr);
        json_object_set_new(j, "orcid_works", works.arr);
    } else {
        print_researcher(r);
        printf("assets:\n");
    }
    if (br_researcher_assets(repo, r, asset_one, &assets, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    if (!json) printf("%s(%zu)\nORCID works:\n", assets.n ? "" : "  ", assets.n);
    if (br_orcid_work_list(repo, r->id, work_one, &works, &err)) {
        rc = cli_fail(&err);
        goto done;
    }
    if (json)
        rc = cli_print_json(json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
    else
        printf("%s(%zu)\n", works.n ? "" : "  ", works.n);
done:
    json_decref(j);
    br_researcher_free(r);
    br_repo_free(repo);
    return rc;
}

int cmd_researcher(cli *c, int argc, char **argv)
{
    int h = cli_subcommand_help(argc, argv, RESEARCHER_USAGE);
    if (h >= 0) return h;
    if (!strcmp(argv[1], "add")) return res_add(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "import")) return res_import(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "list")) return res_list(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "show")) return res_show(c, argc - 1, argv + 1);
    return cli_usage("researcher", "unknown subcommand '%s' (add, import, list, show)", argv[1]);
}

/* ---- orcid ------------------------------------------------------------------------------------
 */

/* The token from a file or standard input ("-"): one line, surrounding spaces dropped. */
static int read_token(const char *path, char *out, size_t size)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "bulkrepo: %s: %s\n", path, strerror(errno));
        return EXIT_INVALID;
    }
    size_t n = fread(out, 1, size - 1, f);
    int too_long = n == size - 1 && fgetc(f) != EOF;
    if (f != stdin) fclose(f);
    out[n] = 0;
    out[strcspn(out, "\r\n")] = 0;
    char *s = out;
    while (*s == ' ' || *s == '\t')
        s++;
    memmove(out, s, strlen(s) + 1);
    for (n = strlen(out); n && (out[n - 1] == ' ' || out[n - 1] == '\t');)
        out[--n] = 0;
    if (too_long || !*out) {
        fprintf(stderr, "bulkrepo: %s: %s\n", path,
                too_long ? "the token file is too long" : "the token file is empty");
        return EXIT_INVALID;
    }
    return 0;
}

static int orcid_config(cli *c, int argc, char **argv)
{
    const char *api = NULL, *token_file = NULL;
    int clear = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--api") && i + 1 < argc)
            api = argv[++i];
        else if (!strcmp(a, "--token-file") && i + 1 < argc)
            token_file = argv[++i];
        else if (!strcmp(a, "--clear"))
            clear = 1;
        else if (!strcmp(a, "--show"))
            ;
        else if (!strcmp(a, "--json"))
            json = 1;
        else
            return cli_usage("orcid config", "unexpected argument '%s'", a);
    }
    if (clear && (api || token_file)) return cli_usage("orcid config", "--clear goes alone");
    if (token_file && !api) return cli_usage("orcid config", "--token-file goes with --api URL");
    if (api && !*api) return cli_usage("orcid config", "--api takes a URL (--clear removes it)");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    char *token = NULL;
    if (token_file && !(token = calloc(1, 2048))) rc = EXIT_IOERR;
    if (!rc && token_file) rc = read_token(token_file, token, 2048);
    if (!rc && (api || clear)) {
        br_orcid_config cur;
        if (api && !token_file && (br_orcid_config_get(repo, &cur, &err) || !cur.has_token)) {
            rc = cli_usage("orcid config", "give the access token with --token-file FILE");
        } else if (br_orcid_config_set(repo, clear ? "" : api, token, &err)) {
            rc = cli_fail(&err);
        } else {
            fprintf(stderr,
                    clear ? "the ORCID API configuration is removed\n" : "the ORCID API is %s%s\n",
                    api, token ? " (token stored sealed)" : "");
        }
    }
    if (token) {
        memset(token, 0, 2048);
        free(token);
    }
    br_orcid_config cfg;
    if (!rc && br_orcid_config_get(repo, &cfg, &err)) rc = cli_fail(&err);
    if (!rc && json) {
        json_t *o =
            json_pack("{s:o,s:b}", "api", cfg.api_url[0] ? json_string(cfg.api_url) : json_null(),
                      "token", cfg.has_token);
        rc = cli_print_json(json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(o);
    } else if (!rc && !api && !clear) {
        if (cfg.api_url[0])
            printf("api: %s\ntoken: %s\n", cfg.api_url, cfg.has_token ? "stored (sealed)" : "none");
        else
            printf("no ORCID API configured: delete-orcid records its requests in "
                   "orcid/requests.log and sends nothing\n");
    }
    br_repo_free(repo);
    return rc;
}

static int orcid_works(cli *c, int argc, char **argv)
{
    const char *who = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] != '-' && !who)
            who = argv[i];
        else
            return cli_usage("orcid works", "unexpected argument '%s'", argv[i]);
    }
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    show_out o = {json ? json_array() : NULL, 0};
    br_error err;
    if (br_orcid_work_list(repo, who, work_one, &o, &err)) rc = cli_fail(&err);
    if (o.arr) {
        if (!rc) rc = cli_print_json(json_dumps(o.arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(o.arr);
    }
    br_repo_free(repo);
    return rc;
}

static int orcid_record(cli *c, int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL}, *asset = NULL, *pushed = NULL;
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--asset") && i + 1 < argc)
            asset = argv[++i];
        else if (!strcmp(argv[i], "--pushed") && i + 1 < argc)
            pushed = argv[++i];
        else if (argv[i][0] != '-' && n < 2)
            pos[n++] = argv[i];
        else
            return cli_usage("orcid record", "unexpected argument '%s'", argv[i]);
    }
    if (n != 2) return cli_usage("orcid record", "give RESEARCHER and PUT-CODE");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    if (br_orcid_work_add(repo, pos[0], pos[1], asset, pushed, &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "work %s recorded for %s\n", pos[1], pos[0]);
    br_repo_free(repo);
    return rc;
}

int cmd_orcid(cli *c, int argc, char **argv)
{
    int h = cli_subcommand_help(argc, argv, ORCID_USAGE);
    if (h >= 0) return h;
    if (!strcmp(argv[1], "config")) return orcid_config(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "works")) return orcid_works(c, argc - 1, argv + 1);
    if (!strcmp(argv[1], "record")) return orcid_record(c, argc - 1, argv + 1);
    return cli_usage("orcid", "unknown subcommand '%s' (config, works, record)", argv[1]);
}
