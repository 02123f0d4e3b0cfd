/* bulkrepo doi profile add | list | enable | disable, bulkrepo doi show HANDLE. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bulkrepo/doi.h"
#include "cli.h"

static const char USAGE[] =
    "usage: bulkrepo doi profile add NAME --prefix 10.NNNN --pattern PATTERN [--label "
    "CODE=LABEL]...\n"
    "                            [--default-label LABEL] [--start N] [--agency datacite|local]\n"
    "                            [--publish] [--inactive] [--landing URL]\n"
    "                            [--api-url URL] [--repository-id ID]\n"
    "                            [--password-file FILE | --password-stdin]\n"
    "       bulkrepo doi profile list [--json]\n"
    "       bulkrepo doi profile enable NAME | disable NAME\n"
    "       bulkrepo doi show HANDLE [--profile NAME]\n\n"
    "A DOI profile says how the Register DOI job (job run register-doi --set NAME) makes and\n"
    "registers DOIs.  The job needs at least one active profile.\n\n"
    "  --prefix 10.NNNN     the DOI prefix: \"10.\" then 4 to 9 digits, optional .digits groups\n"
    "  --pattern PATTERN    the suffix: a-z, 0-9, '.', '_', '-' with {n} (the number, once) or\n"
    "                       {n:0W} (zero-padded to W digits) and {type} (the asset type's label),\n"
    "                       e.g. \"{type}.{n:06}\" gives article.000042.  Refused when DOIs could\n"
    "                       collide: no {n}; {type} and {n} without a '.' or '_' between them;\n"
    "                       another profile of the same prefix whose pattern starts alike\n"
    "  --label CODE=LABEL   the label of an Esploro asset type (a category code such as\n"
    "                       dataset covers its types), e.g. publication.journalArticle=article\n"
    "  --default-label L    the label of every other type (default: asset)\n"
    "  --start N            the first number (default 1); each label counts on its own\n"
    "  --agency A           datacite (DataCite's REST API, the default) or local (writes the XML\n"
    "                       and a registration log under the repository's doi/ folder)\n"
    "  --publish            DOIs become findable (DataCite \"publish\"), else registered\n"
    "  --inactive           add the profile turned off\n"
    "  --landing URL        the landing page, with {handle} or {uuid}\n"
    "                       (default https://hdl.handle.net/{handle})\n"
    "  --api-url URL        DataCite's REST API (default https://api.datacite.org; the test\n"
    "                       system is https://api.test.datacite.org)\n"
    "  --repository-id ID   the DataCite repository id (basic auth user)\n"
    "  --password-file F    the repository's password from a file (first line), or\n"
    "  --password-stdin     from standard input: never on the command line.  It is stored\n"
    "                       encrypted and never shown\n\n"
    "doi show prints the DataCite XML (Metadata Schema 4) the asset would be registered with:\n"
    "its DOI, or the next one of the profile (not taken).  An asset missing a mandatory\n"
    "property (creator, title, publisher, publicationYear, resourceTypeGeneral) exits 3 with\n"
    "the properties named.\n";

static int print_profile(void *ctx, const br_doi_profile *p)
{
    json_t *arr = ctx;
    if (arr) {
        json_array_append_new(
            arr,
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:b,s:b,s:s,s:s?,s:b,s:s,s:s}", "name", p->name,
                      "prefix", p->prefix, "pattern", p->pattern, "labels", p->labels,
                      "defaultLabel", p->default_label, "start", (json_int_t)p->start, "agency",
                      p->agency, "active", p->active, "publish", p->publish, "apiUrl",
                      p->api_url[0] ? p->api_url : BR_DOI_DATACITE_API, "repositoryId",
                      p->repository_id[0] ? p->repository_id : NULL, "passwordSet", p->has_password,
                      "landing", p->landing[0] ? p->landing : BR_DOI_LANDING_DEFAULT, "created",
                      p->created));
    } else {
        printf("%-16s %-8s %-12s %-24s %-9s %s\n", p->name, p->active ? "active" : "inactive",
               p->prefix, p->pattern, p->agency, p->publish ? "findable" : "registered");
        if (p->labels[0])
            printf("%-16s labels: %s (other types: %s)\n", "", p->labels, p->default_label);
    }
    return 0;
}

/* The first line of a file or of standard input, without its line end. */
static int read_secret(const char *file, char *out, size_t size)
{
    FILE *f = file ? fopen(file, "r") : stdin;
    if (!f) return -1;
    int ok = fgets(out, (int)size, f) != NULL;
    if (file) fclose(f);
    if (!ok) return -1;
    out[strcspn(out, "\r\n")] = 0;
    return out[0] ? 0 : -1;
}

static int copy_opt(char *dst, size_t size, const char *v, const char *opt)
{
    if (strlen(v) >= size) return cli_usage("doi profile add", "%s is too long", opt);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int profile_add(cli *c, int argc, char **argv)
{
    br_doi_profile p;
    memset(&p, 0, sizeof p);
    p.start = 1;
    p.active = 1;
    memcpy(p.agency, "datacite", 9);
    const char *name = NULL, *pwfile = NULL;
    int pwstdin = 0, rc;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        int takes = !strcmp(a, "--prefix") || !strcmp(a, "--pattern") || !strcmp(a, "--label") ||
                    !strcmp(a, "--default-label") || !strcmp(a, "--start") ||
                    !strcmp(a, "--agency") || !strcmp(a, "--landing") || !strcmp(a, "--api-url") ||
                    !strcmp(a, "--repository-id") || !strcmp(a, "--password-file");
        if (takes && i + 1 == argc) return cli_usage("doi profile add", "%s needs a value", a);
        const char *v = takes ? argv[++i] : NULL;
        if (!strcmp(a, "--prefix")) {
            if ((rc = copy_opt(p.prefix, sizeof p.prefix, v, a))) return rc;
        } else if (!strcmp(a, "--pattern")) {
            if ((rc = copy_opt(p.pattern, sizeof p.pattern, v, a))) return rc;
        } else if (!strcmp(a, "--label")) {
            size_t n = strlen(p.labels);
            if (n + strlen(v) + 2 > sizeof p.labels)
                return cli_usage("doi profile add", "too many labels");
            snprintf(p.labels + n, sizeof p.labels - n, "%s%s", n ? "," : "", v);
        } else if (!strcmp(a, "--default-label")) {
            if ((rc = copy_opt(p.default_label, sizeof p.default_label, v, a))) return rc;
        } else if (!strcmp(a, "--start")) {
            char *end;
            long long s = strtoll(v, &end, 10);
            if (*end || !*v || s < 0)
                return cli_usage("doi profile add", "--start takes a number (0 or more)");
            p.start = s;
        } else if (!strcmp(a, "--agency")) {
            if ((rc = copy_opt(p.agency, sizeof p.agency, v, a))) return rc;
        } else if (!strcmp(a, "--landing")) {
            if ((rc = copy_opt(p.landing, sizeof p.landing, v, a))) return rc;
        } else if (!strcmp(a, "--api-url")) {
            if ((rc = copy_opt(p.api_url, sizeof p.api_url, v, a))) return rc;
        } else if (!strcmp(a, "--repository-id")) {
            if ((rc = copy_opt(p.repository_id, sizeof p.repository_id, v, a))) return rc;
        } else if (!strcmp(a, "--password-file")) {
            pwfile = v;
        } else if (!strcmp(a, "--password-stdin")) {
            pwstdin = 1;
        } else if (!strcmp(a, "--publish")) {
            p.publish = 1;
        } else if (!strcmp(a, "--inactive")) {
            p.active = 0;
        } else if (!strcmp(a, "--password")) {
            return cli_usage("doi profile add",
                             "the password is never given on the command line (other users "
                             "see it): use --password-file FILE or --password-stdin");
        } else if (!name && a[0] != '-') {
            name = a;
        } else {
            return cli_usage("doi profile add", "unexpected argument '%s'", a);
        }
    }
    if (!name || !p.prefix[0] || !p.pattern[0])
        return cli_usage("doi profile add", "give NAME, --prefix and --pattern");
    if ((rc = copy_opt(p.name, sizeof p.name, name, "the name"))) return rc;
    if (pwfile && pwstdin)
        return cli_usage("doi profile add", "give --password-file or --password-stdin, not both");
    char password[1024] = "";
    if ((pwfile || pwstdin) && read_secret(pwfile, password, sizeof password))
        return cli_usage("doi profile add", "no password could be read from %s",
                         pwfile ? pwfile : "standard input");
    br_repo *repo;
    br_error err;
    if ((rc = cli_open(c, &repo))) return rc;
    if (br_doi_profile_add(repo, &p, password, &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "DOI profile %s: %s/%s, %s%s\n", p.name, p.prefix, p.pattern, p.agency,
                p.active ? "" : " (inactive)");
    memset(password, 0, sizeof password);
    br_repo_free(repo);
    return rc;
}

static int cmd_profile_sub(cli *c, int argc, char **argv)
{
    if (argc < 3) return cli_usage("doi profile", "give add, list, enable or disable");
    const char *act = argv[2];
    if (!strcmp(act, "add")) return profile_add(c, argc, argv);
    br_repo *repo;
    br_error err;
    int rc;
    if (!strcmp(act, "list")) {
        int json = 0;
        for (int i = 3; i < argc; i++)
            if (!strcmp(argv[i], "--json"))
                json = 1;
            else
                return cli_usage("doi profile list", "unexpected argument '%s'", argv[i]);
        if ((rc = cli_open(c, &repo))) return rc;
        json_t *arr = json ? json_array() : NULL;
        if (br_doi_profile_list(repo, 0, print_profile, arr, &err)) rc = cli_fail(&err);
        if (arr && !rc) rc = cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(arr);
        br_repo_free(repo);
        return rc;
    }
    if (!strcmp(act, "enable") || !strcmp(act, "disable")) {
        if (argc != 4 || argv[3][0] == '-')
            return cli_usage("doi profile", "give the profile's NAME: doi profile %s NAME", act);
        if ((rc = cli_open(c, &repo))) return rc;
        if (br_doi_profile_set_active(repo, argv[3], !strcmp(act, "enable"), &err))
            rc = cli_fail(&err);
        else
            fprintf(stderr, "DOI profile %s %s\n", argv[3],
                    !strcmp(act, "enable") ? "enabled" : "disabled");
        br_repo_free(repo);
        return rc;
    }
    return cli_usage("doi profile", "unknown subcommand '%s'", act);
}

static int show(cli *c, int argc, char **argv)
{
    const char *handle = NULL, *profile = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--profile")) {
            if (i + 1 == argc) return cli_usage("doi show", "--profile needs a value");
            profile = argv[++i];
        } else if (!handle && argv[i][0] != '-') {
            handle = argv[i];
        } else {
            return cli_usage("doi show", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!handle) return cli_usage("doi show", "give the asset's HANDLE");
    br_repo *repo;
    br_error err;
    int rc;
    if ((rc = cli_open(c, &repo))) return rc;
    char *xml = NULL;
    if (br_doi_show(repo, handle, profile, &xml, NULL, &err))
        rc = cli_fail(&err);
    else
        fputs(xml, stdout);
    free(xml);
    br_repo_free(repo);
    return rc;
}

int cmd_doi(cli *c, int argc, char **argv)
{
    int help = cli_subcommand_help(argc, argv, USAGE);
    if (help >= 0) return help;
    if (!strcmp(argv[1], "profile")) return cmd_profile_sub(c, argc, argv);
    if (!strcmp(argv[1], "show")) return show(c, argc, argv);
    return cli_usage("doi", "unknown subcommand '%s'", argv[1]);
}
