/* bulkrepo user add | list | passwd | token | disable | enable | roles: staff users,
 * their roles and API tokens. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bulkrepo/user.h"
#include "cli.h"

static const char USAGE[] =
    "usage: bulkrepo user add NAME --role ROLE [--role ROLE...] --password-stdin\n"
    "       bulkrepo user list [--json]\n"
    "       bulkrepo user passwd NAME --password-stdin\n"
    "       bulkrepo user token NAME [--name LABEL] [--expires DAYS]\n"
    "       bulkrepo user token list [NAME] [--json]\n"
    "       bulkrepo user token revoke ID\n"
    "       bulkrepo user disable NAME\n"
    "       bulkrepo user enable NAME\n"
    "       bulkrepo user roles [--json]\n"
    "       bulkrepo user set NAME --notify-jobs on|off\n\n"
    "Staff users of the web interface and the REST API. A role is given by its code or\n"
    "its label, in any case ('REPOSITORY_MANAGER', 'Repository Manager', repository-manager);\n"
    "`user roles` lists them. Passwords (8 bytes or more) are read from the first line of\n"
    "standard input and stored as argon2id hashes. `user token` prints a new API token\n"
    "for scripts (Authorization: Bearer TOKEN); it is stored hashed and shown only once.\n"
    "A token expires after DAYS days (default 90, at most 3650; --expires 0: never) and\n"
    "can be revoked at once by its ID (`user token list` shows them with their state and\n"
    "last use). A new password revokes the user's tokens and ends their sessions. A\n"
    "disabled user cannot log in and their tokens are refused until `user enable`.\n"
    "`user set NAME --notify-jobs on` mails NAME when a job they submitted ends (its\n"
    "status, counters and a link to its report; bulkrepo mail address, docs/delivery.md).\n";

/* user set NAME --notify-jobs on|off: a user's settings. */
static int user_set(cli *c, int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return cli_usage("user set", "give the user's NAME and --notify-jobs on|off");
    const char *name = argv[1];
    int notify = -1;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--notify-jobs") && i + 1 < argc) {
            const char *v = argv[++i];
            notify = !strcmp(v, "on") ? 1 : !strcmp(v, "off") ? 0 : -2;
            if (notify == -2)
                return cli_usage("user set", "--notify-jobs is on or off, not '%s'", v);
        } else {
            return cli_usage("user set", "unexpected argument '%s'", argv[i]);
        }
    }
    if (notify < 0) return cli_usage("user set", "nothing to set: give --notify-jobs on|off");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    if (br_user_set_notify_jobs(repo, name, notify, &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "user %s: %s when a job of theirs ends\n", name,
                notify ? "a mail" : "no mail");
    br_repo_free(repo);
    return rc;
}

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
    br_token_spec token;
} user_opts;

/* --expires DAYS: 0 (never, asked for) to BR_TOKEN_DAYS_MAX. */
static int parse_days(const char *cmd, const char *s, br_token_spec *t)
{
    char *end = NULL;
    errno = 0;
    long v = s[0] >= '0' && s[0] <= '9' ? strtol(s, &end, 10) : -1;
    if (v < 0 || errno || !end || *end || v > BR_TOKEN_DAYS_MAX)
        return cli_usage(cmd, "--expires takes a number of days, 0 (never) to %d",
                         BR_TOKEN_DAYS_MAX);
    t->days = (int)v;
    t->never = v == 0;
    return 0;
}

/* Parses NAME and the options the subcommand `sub` accepts ("r": --role, "p":
 * --password-stdin, "j": --json, "n": --name, "e": --expires). */
static int parse(int argc, char **argv, const char *sub, const char *accept, int want_name,
                 user_opts *o)
{
    static const struct option opts[] = {
        {"role", required_argument, 0, 'r'},    {"password-stdin", no_argument, 0, 'p'},
        {"json", no_argument, 0, 'j'},          {"name", required_argument, 0, 'n'},
        {"expires", required_argument, 0, 'e'}, {0, 0, 0, 0}};
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
        } else if (c == 'n') {
            o->token.name = optarg;
        } else if (c == 'e') {
            int rc = parse_days(cmd, optarg, &o->token);
            if (rc) return rc;
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
        json_object_set_new(o, "disabled", json_boolean(u->disabled != 0));
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
    printf("%s\n", u->disabled ? "\t(disabled)" : "");
    return 0;
}

/* Unix time as ISO 8601 UTC; "never" for 0. */
static const char *iso_time(int64_t t, char out[32])
{
    if (!t) return "never";
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm)) return "?";
    return out;
}

static json_t *time_json(int64_t t)
{
    char buf[32];
    return t ? json_string(iso_time(t, buf)) : json_null();
}

static int token_one(void *ctx, const br_token *t)
{
    json_t *arr = ctx;
    if (arr) {
        json_array_append_new(
            arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:o,s:o}", "id", (json_int_t)t->id, "username",
                           t->username, "name", t->name, "state", t->state, "created", t->created,
                           "expires", time_json(t->expires), "last_used", time_json(t->last_used),
                           "revoked", time_json(t->revoked)));
        return 0;
    }
    char e[32], l[32];
    printf("%-6lld %-16s %-9s %-21s %-21s %s\n", (long long)t->id, t->username, t->state,
           iso_time(t->expires, e), iso_time(t->last_used, l), t->name);
    return 0;
}

/* user token list [NAME] [--json] | user token revoke ID */
static int token_admin(cli *c, int argc, char **argv)
{
    const char *sub = argv[0];
    int json = 0;
    const char *arg = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(sub, "list") && !strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] == '-' || arg)
            return cli_usage(!strcmp(sub, "list") ? "user token list" : "user token revoke",
                             "unexpected argument '%s'", argv[i]);
        else
            arg = argv[i];
    }
    int64_t id = 0;
    if (!strcmp(sub, "revoke")) {
        char *end = NULL;
        errno = 0;
        long long v = arg && arg[0] >= '1' && arg[0] <= '9' ? strtoll(arg, &end, 10) : 0;
        if (v <= 0 || errno || !end || *end)
            return cli_usage("user token revoke", "give the token's ID (see `user token list`)");
        id = v;
    }
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    if (id) {
        if (br_user_token_revoke(repo, id, &err))
            rc = cli_fail(&err);
        else
            fprintf(stderr, "token %lld revoked\n", (long long)id);
    } else {
        json_t *arr = json ? json_array() : NULL;
        if (!json)
            printf("%-6s %-16s %-9s %-21s %-21s %s\n", "ID", "USER", "STATE", "EXPIRES",
                   "LAST USED", "NAME");
        if (br_user_token_list(repo, arg, token_one, arr, &err)) rc = cli_fail(&err);
        if (arr) {
            if (!rc) rc = cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
            json_decref(arr);
        }
    }
    br_repo_free(repo);
    return rc;
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
    if (!strcmp(sub, "token") && argc > 1 &&
        (!strcmp(argv[1], "list") || !strcmp(argv[1], "revoke")))
        return token_admin(c, argc - 1, argv + 1);
    if (!strcmp(sub, "set")) return user_set(c, argc, argv);
    if (!strcmp(sub, "add"))
        rc = parse(argc, argv, sub, "rp", 1, &o);
    else if (!strcmp(sub, "passwd"))
        rc = parse(argc, argv, sub, "p", 1, &o);
    else if (!strcmp(sub, "token"))
        rc = parse(argc, argv, sub, "ne", 1, &o);
    else if (!strcmp(sub, "disable") || !strcmp(sub, "enable"))
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
        char token[BR_SECRET_SIZE], when[32];
        int64_t id = 0, expires = 0;
        if (br_user_token_create(repo, o.name, &o.token, token, &id, &expires, &err)) {
            rc = cli_fail(&err);
        } else {
            /* stdout: the token alone, for scripts; what it is on stderr. */
            printf("%s\n", token);
            fprintf(stderr, "token %lld for %s; expires: %s\n", (long long)id, o.name,
                    iso_time(expires, when));
            memset(token, 0, sizeof token);
        }
    } else if (!strcmp(sub, "disable") || !strcmp(sub, "enable")) {
        int r = !strcmp(sub, "disable") ? br_user_disable(repo, o.name, &err)
                                        : br_user_enable(repo, o.name, &err);
        if (r)
            rc = cli_fail(&err);
        else
            fprintf(stderr, "user %s %sd\n", o.name, sub);
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
