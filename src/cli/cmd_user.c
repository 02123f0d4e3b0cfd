/* bulkrepo user add | list | passwd | token | roles: staff users and their roles. */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/user.h"
#include "cli.h"

static const char USAGE[] =
    "usage: bulkrepo user add NAME --role ROLE [--role ROLE...] --password-stdin\n"
    "       bulkrepo user list [--json]\n"
    "       bulkrepo user passwd NAME --password-stdin\n"
    "       bulkrepo user token NAME\n"
    "       bulkrepo user roles [--json]\n\n"
    "Staff users of the web interface and the REST API. A role is given by its code or\n"
    "its label, in any case ('REPOSITORY_MANAGER', 'Repository Manager', repository-manager);\n"
    "`user roles` lists them. Passwords (8 bytes or more) are read from the first line of\n"
    "standard input and stored as argon2id hashes. `user token` prints a new API token\n"
    "for scripts (Authorization: Bearer TOKEN); it is stored hashed and shown only once.\n";

static int print_role_line(void *ctx, const br_role *r)
{
    FILE *f = ctx;
    fprintf(f, "  %-30s %s\n", r->code, r->label);
    return 0;
}

static int role_usage(const char *cmd, const char *name)
{
    fprintf(stderr, "bulkrepo %s: unknown role '%s'; the roles are (code, label):\n", cmd, name);
    br_role_list(print_role_line, stderr);
    fprintf(stderr, "Try 'bulkrepo %s --help'.\n", cmd);
    return EXIT_USAGE;
}

/* The first line of standard input, without its line ending. */
static int read_password(const char *cmd, char *pw, size_t size)
{
    if (!fgets(pw, (int)size, stdin)) return cli_usage(cmd, "no password on standard input");
    size_t n = strlen(pw);
    if (n == size - 1 && pw[n - 1] != '\n')
        return cli_usage(cmd, "the password is longer than %zu bytes", size - 2);
    while (n && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
        pw[--n] = 0;
    return 0;
}

typedef struct user_opts {
    const char *name;
    uint32_t roles;
    int password_stdin;
    int json;
} user_opts;

/* Parses NAME and the options the subcommand `sub` accepts ("r": --role, "p":
 * --password-stdin, "j": --json). */
static int parse(int argc, char **argv, const char *sub, const char *accept, int want_name,
                 user_opts *o)
{
    static const struct option opts[] = {{"role", required_argument, 0, 'r'},
                                         {"password-stdin", no_argument, 0, 'p'},
                                         {"json", no_argument, 0, 'j'},
                                         {0, 0, 0, 0}};
    char cmd[32];
    snprintf(cmd, sizeof cmd, "user %s", sub);
    memset(o, 0, sizeof *o);
    int c;
    /* --help and -h were answered by cli_subcommand_help. */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == '?' || !strchr(accept, c)) return cli_usage(cmd, "unknown option");
        if (c == 'r') {
            br_role r;
            if (br_role_find(optarg, &r)) return role_usage(cmd, optarg);
            o->roles |= UINT32_C(1) << r.index;
        } else if (c == 'p') {
            o->password_stdin = 1;
        } else if (c == 'j') {
            o->json = 1;
        }
    }
    if (want_name) {
        if (optind >= argc) return cli_usage(cmd, "give a user NAME");
        o->name = argv[optind++];
    }
    if (optind < argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    if (strchr(accept, 'p') && !o->password_stdin)
        return cli_usage(cmd, "give --password-stdin (passwords are never read from the "
                              "command line)");
    if (strchr(accept, 'r') && !o->roles) return role_usage(cmd, "(none given)");
    return 0;
}

static json_t *roles_json(uint32_t roles, int labels)
{
    json_t *a = json_array();
    for (unsigned i = 0; i < 32; i++) {
        br_role r;
        if ((roles & (UINT32_C(1) << i)) && !br_role_at(i, &r))
            json_array_append_new(a, json_string(labels ? r.label : r.code));
    }
    return a;
}

static int list_one(void *ctx, const br_user *u)
{
    json_t *arr = ctx;
    if (arr) {
        json_t *o = json_object();
        json_object_set_new(o, "username", json_string(u->username));
        json_object_set_new(o, "roles", roles_json(u->roles, 0));
        json_object_set_new(o, "created", json_string(u->created));
        json_object_set_new(o, "tokens", json_integer(u->n_tokens));
        json_array_append_new(arr, o);
        return 0;
    }
    printf("%s\t", u->username);
    const char *sep = "";
    for (unsigned i = 0; i < 32; i++) {
        br_role r;
        if ((u->roles & (UINT32_C(1) << i)) && !br_role_at(i, &r)) {
            printf("%s%s", sep, r.label);
            sep = ", ";
        }
    }
    printf("\n");
    return 0;
}

static int add_role_json(void *ctx, const br_role *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(r->code));
    json_object_set_new(o, "label", json_string(r->label));
    json_array_append_new(ctx, o);
    return 0;
}

int cmd_user(cli *c, int argc, char **argv)
{
    int rc = cli_subcommand_help(argc, argv, USAGE);
    if (rc >= 0) return rc;
    const char *sub = argv[1];
    argc--;
    argv++;
    user_opts o;
    if (!strcmp(sub, "add"))
        rc = parse(argc, argv, sub, "rp", 1, &o);
    else if (!strcmp(sub, "passwd"))
        rc = parse(argc, argv, sub, "p", 1, &o);
    else if (!strcmp(sub, "token"))
        rc = parse(argc, argv, sub, "", 1, &o);
    else if (!strcmp(sub, "list") || !strcmp(sub, "roles"))
        rc = parse(argc, argv, sub, "j", 0, &o);
    else
        return cli_usage("user", "unknown subcommand '%s'", sub);
    if (rc) return rc;

    if (!strcmp(sub, "roles")) {
        if (!o.json) {
            br_role_list(print_role_line, stdout);
            return EXIT_OK;
        }
        json_t *a = json_array();
        br_role_list(add_role_json, a);
        rc = cli_print_json(json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(a);
        return rc;
    }

    char pw[BR_PASSWORD_MAX + 1];
    char cmd[32];
    snprintf(cmd, sizeof cmd, "user %s", sub);
    if (o.password_stdin && (rc = read_password(cmd, pw, sizeof pw))) return rc;
    br_repo *repo;
    if ((rc = cli_open(c, &repo))) return rc;
    br_error err;
    if (!strcmp(sub, "add")) {
        if (br_user_add(repo, o.name, pw, o.roles, &err)) rc = cli_fail(&err);
    } else if (!strcmp(sub, "passwd")) {
        if (br_user_passwd(repo, o.name, pw, &err)) rc = cli_fail(&err);
    } else if (!strcmp(sub, "token")) {
        char token[BR_SECRET_SIZE];
        if (br_user_token_new(repo, o.name, token, &err))
            rc = cli_fail(&err);
        else
            printf("%s\n", token);
    } else {
        json_t *arr = o.json ? json_array() : NULL;
        if (br_user_list(repo, list_one, arr, &err)) rc = cli_fail(&err);
        if (arr) {
            if (!rc) rc = cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
            json_decref(arr);
        }
    }
    memset(pw, 0, sizeof pw);
    br_repo_free(repo);
    return rc;
}
