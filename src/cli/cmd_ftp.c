/* bulkrepo ftp add | list | show | test | remove (ftp.h): the S/FTP configurations import
 * profiles pull from and exports are delivered to. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/ftp.h"
#include "cli.h"

static const char USAGE[] =
    "usage: bulkrepo ftp add NAME --url URL --user USER (--password-stdin | --key FILE)\n"
    "                        [--passive | --active] [--ca-file FILE]\n"
    "       bulkrepo ftp list [--json]\n"
    "       bulkrepo ftp show NAME [--json]\n"
    "       bulkrepo ftp test NAME [--accept-host-key] [--json]\n"
    "       bulkrepo ftp remove NAME\n\n"
    "S/FTP configurations: the servers import profiles fetch files from (bulkrepo profile add\n"
    "--ftp NAME) and exports deliver to.  Passwords and keys are stored encrypted with the\n"
    "repository's key and never shown.  `bulkrepo ftp COMMAND --help` describes a command;\n"
    "docs/ftp.md has the details.\n";

static const char ADD_HELP[] =
    "usage: bulkrepo ftp add NAME --url URL --user USER (--password-stdin | --key FILE)\n"
    "                        [--passive | --active] [--ca-file FILE]\n\n"
    "Adds the S/FTP configuration NAME, or replaces it (a secret not given again is kept).\n\n"
    "  NAME              1 to 63 letters, digits, '-', '_' or '.'\n"
    "  --url URL         ftp://HOST[:PORT]/FOLDER/   plain FTP (port 21)\n"
    "                    ftps://HOST[:PORT]/FOLDER/  FTP with explicit TLS (AUTH TLS on port 21;\n"
    "                                                nothing is sent unencrypted)\n"
    "                    sftp://HOST[:PORT]/FOLDER/  SFTP over SSH (port 22); the folder is an\n"
    "                                                absolute path, /~/ is the login's home\n"
    "                    FOLDER is the root every remote folder of a profile or an export is\n"
    "                    relative to.  No user or password in the URL\n"
    "  --user USER       the login\n"
    "  --password-stdin  the password, read from the first line of standard input (never on\n"
    "                    the command line, where other users could see it)\n"
    "  --key FILE        SFTP: a private key without passphrase (PEM or OpenSSH form); its\n"
    "                    content is stored, the file is not needed afterwards\n"
    "  --passive         FTP: the server opens the data port (the default)\n"
    "  --active          FTP: bulkrepo opens the data port (PORT/EPRT)\n"
    "  --ca-file FILE    FTPS: trust the certificates in FILE instead of the system's\n\n"
    "SFTP servers are known by their host key: run `bulkrepo ftp test NAME --accept-host-key`\n"
    "once to record it.  Exit 2 for a bad name, URL or option.\n";

static const char LIST_HELP[] =
    "usage: bulkrepo ftp list [--json]\n\n"
    "Lists the S/FTP configurations: name, URL, user, whether a password or key is stored.\n"
    "--json prints {\"configs\": [...]} with the fields of `ftp show --json`.\n";

static const char SHOW_HELP[] =
    "usage: bulkrepo ftp show NAME [--json]\n\n"
    "Shows one S/FTP configuration: name, url, user, has_password, has_key, passive, ca_file,\n"
    "created, updated.  A password or key is never shown, only whether one is stored.\n"
    "Exit 3 when there is no such configuration.\n";

static const char TEST_HELP[] =
    "usage: bulkrepo ftp test NAME [--accept-host-key] [--json]\n\n"
    "Connects, logs in and lists the configuration's folder; prints how many files are there.\n"
    "  --accept-host-key  SFTP: record the server's host key in the repository's known_hosts\n"
    "                     when none is recorded yet (a key that CHANGED is never accepted:\n"
    "                     remove its line from known_hosts first if the change is expected)\n"
    "Exit 4 when the server cannot be reached, refuses the login or its host key.\n";

static const char REMOVE_HELP[] =
    "usage: bulkrepo ftp remove NAME\n\n"
    "Removes an S/FTP configuration and its stored secrets.  Exit 3 when an import profile\n"
    "uses it (change or remove the profile first) or when there is none.\n";

static int copy(char *dst, size_t size, const char *v, const char *cmd, const char *opt)
{
    if (strlen(v) >= size) return cli_usage(cmd, "%s is too long", opt);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int has_flag(int argc, char **argv, const char *flag)
{
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], flag)) return 1;
    return 0;
}

static int add(cli *c, int argc, char **argv)
{
    br_ftp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.passive = 1;
    const char *keyfile = NULL;
    int pwstdin = 0, rc, mode = 0;
    if (argc < 3 || argv[2][0] == '-') return cli_usage("ftp add", "give the configuration's NAME");
    if ((rc = copy(cfg.name, sizeof cfg.name, argv[2], "ftp add", "NAME"))) return rc;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i];
        int takes = !strcmp(a, "--url") || !strcmp(a, "--user") || !strcmp(a, "--key") ||
                    !strcmp(a, "--ca-file");
        if (takes && i + 1 == argc) return cli_usage("ftp add", "%s needs a value", a);
        const char *v = takes ? argv[++i] : NULL;
        if (!strcmp(a, "--url")) {
            if ((rc = copy(cfg.url, sizeof cfg.url, v, "ftp add", a))) return rc;
        } else if (!strcmp(a, "--user")) {
            if ((rc = copy(cfg.user, sizeof cfg.user, v, "ftp add", a))) return rc;
        } else if (!strcmp(a, "--key")) {
            keyfile = v;
        } else if (!strcmp(a, "--ca-file")) {
            if ((rc = copy(cfg.ca_file, sizeof cfg.ca_file, v, "ftp add", a))) return rc;
        } else if (!strcmp(a, "--password-stdin")) {
            pwstdin = 1;
        } else if (!strcmp(a, "--password")) {
            return cli_usage("ftp add", "the password is never given on the command line (other "
                                        "users see it): use --password-stdin");
        } else if (!strcmp(a, "--passive") || !strcmp(a, "--active")) {
            if (mode && mode != a[2])
                return cli_usage("ftp add", "--passive or --active, not both");
            mode = a[2];
            cfg.passive = a[2] == 'p';
        } else {
            return cli_usage("ftp add", "unexpected argument '%s'", a);
        }
    }
    if (!cfg.url[0] || !cfg.user[0]) return cli_usage("ftp add", "give --url URL and --user USER");
    if (pwstdin && keyfile) return cli_usage("ftp add", "give --password-stdin or --key, not both");
    char password[BR_FTP_SECRET_MAX + 2] = "";
    char *key = NULL;
    if (pwstdin) {
        if (!fgets(password, (int)sizeof password, stdin))
            return cli_usage("ftp add", "no password could be read from standard input");
        password[strcspn(password, "\r\n")] = 0;
        if (!password[0])
            return cli_usage("ftp add", "the password read from standard input is empty");
    }
    if (keyfile) {
        FILE *f = fopen(keyfile, "rb");
        if (!f) return cli_usage("ftp add", "cannot read the key file '%s'", keyfile);
        key = calloc(1, BR_FTP_KEY_MAX + 2);
        size_t n = key ? fread(key, 1, BR_FTP_KEY_MAX + 1, f) : 0;
        fclose(f);
        if (!key) return EXIT_IOERR;
        if (n > BR_FTP_KEY_MAX) {
            free(key);
            return cli_usage("ftp add", "the key file '%s' is larger than %d bytes", keyfile,
                             BR_FTP_KEY_MAX);
        }
    }
    /* A configuration added again without a secret keeps its own (ftp.h's NULL); a new
     * password replaces a stored key and the other way round. */
    const char *pw_arg = pwstdin ? password : keyfile ? "" : NULL;
    const char *key_arg = keyfile ? key : pwstdin ? "" : NULL;
    br_repo *repo;
    br_error err;
    if ((rc = cli_open(c, &repo))) goto done;
    if (br_ftp_set(repo, &cfg, pw_arg, key_arg, &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "S/FTP configuration %s: %s as %s\n", cfg.name, cfg.url, cfg.user);
    br_repo_free(repo);
done:
    memset(password, 0, sizeof password);
    if (key) {
        memset(key, 0, BR_FTP_KEY_MAX + 2);
        free(key);
    }
    return rc;
}

static int json_add(void *ctx, const br_ftp_config *cfg)
{
    char *text = NULL;
    if (br_ftp_to_json(cfg, &text, NULL)) return BR_ENOMEM;
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    if (!o) return BR_ENOMEM;
    json_array_append_new(ctx, o);
    return 0;
}

static int print_line(void *ctx, const br_ftp_config *cfg)
{
    (void)ctx;
    printf("%-20s %s  user %s%s%s\n", cfg->name, cfg->url, cfg->user,
           cfg->has_password ? ", password set" : "", cfg->has_key ? ", key set" : "");
    return 0;
}

static int list(cli *c, int argc, char **argv)
{
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            return cli_usage("ftp list", "unexpected argument '%s'", argv[i]);
    }
    br_repo *repo;
    br_error err;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    json_t *arr = json ? json_array() : NULL;
    if (br_ftp_list(repo, json ? json_add : print_line, arr, &err))
        rc = cli_fail(&err);
    else if (json) {
        json_t *o = json_pack("{s:O}", "configs", arr);
        rc = cli_print_json(json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(o);
    }
    json_decref(arr);
    br_repo_free(repo);
    return rc;
}

static int show(cli *c, int argc, char **argv)
{
    int json = 0;
    const char *name = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (argv[i][0] != '-' && !name)
            name = argv[i];
        else
            return cli_usage("ftp show", "unexpected argument '%s'", argv[i]);
    }
    if (!name) return cli_usage("ftp show", "give the configuration's NAME");
    br_repo *repo;
    br_error err;
    br_ftp_config cfg;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    if (br_ftp_get(repo, name, &cfg, &err))
        rc = cli_fail(&err);
    else if (json) {
        char *text = NULL;
        if (br_ftp_to_json(&cfg, &text, &err)) {
            rc = cli_fail(&err);
        } else {
            json_t *o = json_loads(text, 0, NULL);
            free(text);
            rc = cli_print_json(o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL);
            json_decref(o);
        }
    } else {
        printf("name      %s\nurl       %s\nuser      %s\npassword  %s\nkey       %s\n"
               "mode      %s\nca file   %s\ncreated   %s\nupdated   %s\n",
               cfg.name, cfg.url, cfg.user, cfg.has_password ? "set (never shown)" : "none",
               cfg.has_key ? "set (never shown)" : "none",
               !strncmp(cfg.url, "sftp", 4) ? "SFTP"
               : cfg.passive                ? "passive"
                                            : "active",
               cfg.ca_file[0] ? cfg.ca_file : "(the system's certificates)", cfg.created,
               cfg.updated);
    }
    br_repo_free(repo);
    return rc;
}

static int test(cli *c, int argc, char **argv)
{
    int json = 0, accept = 0;
    const char *name = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--accept-host-key"))
            accept = 1;
        else if (argv[i][0] != '-' && !name)
            name = argv[i];
        else
            return cli_usage("ftp test", "unexpected argument '%s'", argv[i]);
    }
    if (!name) return cli_usage("ftp test", "give the configuration's NAME");
    br_repo *repo;
    br_error err;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    int64_t files = 0;
    int brc = br_ftp_test(repo, name, accept, &files, &err);
    if (brc) {
        rc = cli_fail(&err);
        /* the server's answer (unreachable, login or host key refused) is an I/O failure */
        if (brc == BR_EIO || brc == BR_EAUTH || brc == BR_EDENIED || brc == BR_ELIMIT)
            rc = EXIT_IOERR;
        if (json) {
            json_t *o = json_pack("{s:b,s:s}", "ok", 0, "error", err.message);
            cli_print_json(json_dumps(o, JSON_INDENT(2)));
            json_decref(o);
        }
    } else if (json) {
        json_t *o = json_pack("{s:b,s:I}", "ok", 1, "files", (json_int_t)files);
        rc = cli_print_json(json_dumps(o, JSON_INDENT(2)));
        json_decref(o);
    } else {
        printf("%s: connected, logged in, %lld file%s in the folder\n", name, (long long)files,
               files == 1 ? "" : "s");
    }
    br_repo_free(repo);
    return rc;
}

static int remove_cmd(cli *c, int argc, char **argv)
{
    if (argc != 3 || argv[2][0] == '-')
        return cli_usage("ftp remove", "give the configuration's NAME (only)");
    br_repo *repo;
    br_error err;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    if (br_ftp_remove(repo, argv[2], &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "S/FTP configuration %s removed\n", argv[2]);
    br_repo_free(repo);
    return rc;
}

int cmd_ftp(cli *c, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(cli *, int, char **);
        const char *help;
    } subs[] = {{"add", add, ADD_HELP},
                {"list", list, LIST_HELP},
                {"show", show, SHOW_HELP},
                {"test", test, TEST_HELP},
                {"remove", remove_cmd, REMOVE_HELP}};
    if (argc < 2) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(argv[1], subs[i].name)) {
            if (has_flag(argc, argv, "--help") || has_flag(argc, argv, "-h")) {
                fputs(subs[i].help, stdout);
                return EXIT_OK;
            }
            return subs[i].fn(c, argc, argv);
        }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(USAGE, stdout);
        return EXIT_OK;
    }
    return cli_usage("ftp", "unknown command '%s'", argv[1]);
}
