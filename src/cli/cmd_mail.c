/* bulkrepo mail config | outbox | send | requeue | address | letters (mail.h). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bulkrepo/mail.h"
#include "bulkrepo/user.h"
#include "cli.h"

static const char USAGE[] =
    "usage: bulkrepo mail config --smtp URL --from ADDRESS [--user USER --password-stdin]\n"
    "                            [--starttls] [--repository-name NAME]\n"
    "       bulkrepo mail config [--json] | --off\n"
    "       bulkrepo mail config --base-url URL   (\"\" forgets it)\n"
    "       bulkrepo mail outbox [--state queued|sending|sent|failed] [--json]\n"
    "       bulkrepo mail send [--all] [--json]\n"
    "       bulkrepo mail requeue ID\n"
    "       bulkrepo mail address USER [ADDRESS | --clear]\n"
    "       bulkrepo mail letters [--json]\n\n"
    "Letters to users (the Update/Notify Users job's notifications) wait in the mail outbox\n"
    "until they are sent through the mail server configured here; with no server they stay\n"
    "in the outbox.  `bulkrepo serve` (and any running engine) sends due messages every few\n"
    "seconds; `mail send` sends them now.  docs/mail.md has the details.\n\n"
    "  config --smtp URL       the server: smtp://HOST[:PORT] (25 by default; --starttls to\n"
    "                          require TLS) or smtps://HOST[:PORT] (TLS from the start, 465)\n"
    "         --from ADDRESS   the sender's address (MAIL FROM and the From header)\n"
    "         --user USER      SMTP AUTH, over TLS only; the password from --password-stdin\n"
    "                          (never on the command line), stored encrypted, never shown\n"
    "         --repository-name NAME  the {{repository_name}} of letters (default bulkrepo)\n"
    "         --off            forget the server: messages stay queued\n"
    "         --base-url URL   the web interface's address (http[s]://HOST[:PORT][/PATH]):\n"
    "                          the job-end mail links URL/#/jobs/ID; without it, it says\n"
    "                          `bulkrepo job show ID`.  Alone or with the other options\n"
    "  outbox                  every message: id, state, attempts, date, recipient, subject,\n"
    "                          and the last error of one that failed; --json adds the body\n"
    "                          (a new password in it shown as [redacted])\n"
    "  send                    sends the messages that are due (a message the server could\n"
    "                          not take waits 1 minute, then twice as long each time, at most\n"
    "                          an hour); --all sends those waiting too.  Exit 1 when a message\n"
    "                          was left queued or failed\n"
    "  requeue ID              a failed message (refused by the server) queued again\n"
    "  address USER [ADDRESS]  the address letters to USER go to (shown without ADDRESS;\n"
    "                          --clear removes it).  Without one, a user name that is an\n"
    "                          address is used\n"
    "  letters                 the letter types (data/letters, or the repository's letters/\n"
    "                          folder, which replaces a shipped one) and whether each loads\n";

static int read_password(char *out, size_t size)
{
    if (!fgets(out, (int)size, stdin)) return -1;
    out[strcspn(out, "\r\n")] = 0;
    return out[0] ? 0 : -1;
}

static int copy(char *dst, size_t size, const char *v, const char *opt)
{
    if (strlen(v) >= size) return cli_usage("mail config", "%s is too long", opt);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int show_config(br_repo *repo, int json)
{
    br_mail_config cfg;
    br_error err;
    if (br_mail_config_get(repo, &cfg, &err)) return cli_fail(&err);
    int64_t queued = 0, sent = 0, failed = 0;
    if (br_mail_outbox_count(repo, &queued, &sent, &failed, &err)) return cli_fail(&err);
    char base[512];
    if (br_mail_base_url_get(repo, base, sizeof base, &err)) return cli_fail(&err);
    if (json) {
        json_t *o =
            json_pack("{s:o,s:o,s:o,s:b,s:b,s:s,s:o,s:{s:I,s:I,s:I}}", "smtp",
                      cfg.smtp[0] ? json_string(cfg.smtp) : json_null(), "from",
                      cfg.from[0] ? json_string(cfg.from) : json_null(), "user",
                      cfg.user[0] ? json_string(cfg.user) : json_null(), "passwordSet",
                      cfg.has_password, "starttls", cfg.starttls, "repositoryName",
                      cfg.repository_name[0] ? cfg.repository_name : "bulkrepo", "updated",
                      cfg.updated[0] ? json_string(cfg.updated) : json_null(), "outbox", "queued",
                      (json_int_t)queued, "sent", (json_int_t)sent, "failed", (json_int_t)failed);
        json_object_set_new(o, "baseUrl", base[0] ? json_string(base) : json_null());
        int rc = cli_print_json(json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(o);
        return rc;
    }
    if (!cfg.smtp[0])
        printf("no mail server: messages stay in the outbox (bulkrepo mail config --smtp URL "
               "--from ADDRESS)\n");
    else
        printf("server %s%s\nfrom %s\nuser %s%s\n", cfg.smtp, cfg.starttls ? " (STARTTLS)" : "",
               cfg.from, cfg.user[0] ? cfg.user : "(none)",
               cfg.has_password ? " (password set)" : "");
    printf("base URL %s\n", base[0] ? base : "(none: mail says `bulkrepo job show ID`)");
    printf("repository name %s\noutbox: %lld queued, %lld sent, %lld failed\n",
           cfg.repository_name[0] ? cfg.repository_name : "bulkrepo", (long long)queued,
           (long long)sent, (long long)failed);
    return EXIT_OK;
}

static int config(cli *c, int argc, char **argv)
{
    br_mail_config cfg;
    memset(&cfg, 0, sizeof cfg);
    int pwstdin = 0, off = 0, json = 0, set = 0, rc;
    const char *base_url = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int takes = !strcmp(a, "--smtp") || !strcmp(a, "--from") || !strcmp(a, "--user") ||
                    !strcmp(a, "--repository-name");
        if (takes && i + 1 == argc) return cli_usage("mail config", "%s needs a value", a);
        const char *v = takes ? argv[++i] : NULL;
        set |= takes || !strcmp(a, "--starttls") || !strcmp(a, "--password-stdin");
        if (!strcmp(a, "--smtp")) {
            if ((rc = copy(cfg.smtp, sizeof cfg.smtp, v, a))) return rc;
        } else if (!strcmp(a, "--from")) {
            if ((rc = copy(cfg.from, sizeof cfg.from, v, a))) return rc;
        } else if (!strcmp(a, "--user")) {
            if ((rc = copy(cfg.user, sizeof cfg.user, v, a))) return rc;
        } else if (!strcmp(a, "--repository-name")) {
            if ((rc = copy(cfg.repository_name, sizeof cfg.repository_name, v, a))) return rc;
        } else if (!strcmp(a, "--starttls")) {
            cfg.starttls = 1;
        } else if (!strcmp(a, "--password-stdin")) {
            pwstdin = 1;
        } else if (!strcmp(a, "--password")) {
            return cli_usage("mail config", "the password is never given on the command line "
                                            "(other users see it): use --password-stdin");
        } else if (!strcmp(a, "--base-url")) {
            if (i + 1 == argc) return cli_usage("mail config", "--base-url needs a value");
            base_url = argv[++i];
        } else if (!strcmp(a, "--off")) {
            off = 1;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else {
            return cli_usage("mail config", "unexpected argument '%s'", a);
        }
    }
    if (off && (set || json || base_url))
        return cli_usage("mail config", "--off takes no other option");
    if (base_url && json)
        return cli_usage("mail config", "--json shows the settings: give no other");
    if (set && json) return cli_usage("mail config", "--json shows the settings: give no other");
    if (set && (!cfg.smtp[0] || !cfg.from[0]))
        return cli_usage("mail config", "give --smtp URL and --from ADDRESS");
    if (pwstdin && !cfg.user[0])
        return cli_usage("mail config", "--password-stdin goes with --user");
    char password[1024] = "";
    if (pwstdin && read_password(password, sizeof password))
        return cli_usage("mail config", "no password could be read from standard input");
    br_repo *repo;
    br_error err;
    if ((rc = cli_open(c, &repo))) return rc;
    if (base_url) {
        if (br_mail_base_url_set(repo, base_url, &err)) {
            br_repo_free(repo);
            return cli_fail(&err);
        }
        if (!set) {
            fprintf(stderr, "base URL %s\n", base_url[0] ? base_url : "forgotten");
            br_repo_free(repo);
            return EXIT_OK;
        }
    }
    if (off) {
        if (br_mail_config_clear(repo, &err))
            rc = cli_fail(&err);
        else
            fprintf(stderr, "mail server forgotten: messages stay in the outbox\n");
    } else if (!set) {
        rc = show_config(repo, json);
    } else if (br_mail_config_set(repo, &cfg, pwstdin ? password : NULL, &err)) {
        rc = cli_fail(&err);
    } else {
        fprintf(stderr, "mail server %s, from %s%s\n", cfg.smtp, cfg.from,
                cfg.starttls ? ", STARTTLS required" : "");
    }
    memset(password, 0, sizeof password);
    br_repo_free(repo);
    return rc;
}

static void iso_of(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm g;
    if (t <= 0 || !gmtime_r(&tt, &g))
        out[0] = 0;
    else
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &g);
}

static int print_entry(void *ctx, const br_mail_entry *e)
{
    json_t *arr = ctx;
    char next[32];
    iso_of(e->next_attempt, next);
    int queued = !strcmp(e->state, "queued");
    if (arr) {
        json_array_append_new(
            arr, json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:b,s:s}", "id",
                           (json_int_t)e->id, "created", e->created, "kind", e->kind, "to", e->to,
                           "subject", e->subject, "messageId", e->message_id, "state", e->state,
                           "attempts", (json_int_t)e->attempts, "lastError",
                           e->last_error ? json_string(e->last_error) : json_null(), "nextAttempt",
                           queued && next[0] ? json_string(next) : json_null(), "sent",
                           e->sent ? json_string(e->sent) : json_null(), "jobId",
                           e->job_id ? json_integer(e->job_id) : json_null(), "carriedSecret",
                           e->has_secret, "body", e->body));
        return 0;
    }
    printf("%-5lld %-7s %2lld  %-20s %-30s %s\n", (long long)e->id, e->state,
           (long long)e->attempts, e->created, e->to, e->subject);
    if (e->last_error) printf("      last error: %s\n", e->last_error);
    if (queued && e->attempts && next[0]) printf("      next try: %s\n", next);
    return 0;
}

static int outbox(cli *c, int argc, char **argv)
{
    int json = 0;
    const char *state = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--state") && i + 1 < argc)
            state = argv[++i];
        else
            return cli_usage("mail outbox", "unexpected argument '%s'", argv[i]);
    }
    br_repo *repo;
    br_error err;
    int rc;
    if ((rc = cli_open(c, &repo))) return rc;
    json_t *arr = json ? json_array() : NULL;
    if (br_mail_outbox_list(repo, state, print_entry, arr, &err))
        rc = cli_fail(&err);
    else if (arr)
        rc = cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
    json_decref(arr);
    br_repo_free(repo);
    return rc;
}

static int send_cmd(cli *c, int argc, char **argv)
{
    int all = 0, json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--all"))
            all = 1;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            return cli_usage("mail send", "unexpected argument '%s'", argv[i]);
    }
    br_repo *repo;
    br_error err;
    int rc;
    if ((rc = cli_open(c, &repo))) return rc;
    br_mail_send_report r;
    if (br_mail_send(repo, all ? BR_MAIL_SEND_ALL : 0, 0, &r, &err)) {
        rc = cli_fail(&err);
    } else if (json) {
        json_t *o = json_pack("{s:b,s:I,s:I,s:I,s:I}", "configured", r.configured, "sent",
                              (json_int_t)r.sent, "retryLater", (json_int_t)r.retry_later, "failed",
                              (json_int_t)r.failed, "waiting", (json_int_t)r.waiting);
        rc = cli_print_json(json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(o);
    } else if (!r.configured) {
        fprintf(stderr,
                "no mail server configured: %lld messages kept in the outbox (bulkrepo mail "
                "config --smtp URL --from ADDRESS)\n",
                (long long)r.waiting);
    } else {
        fprintf(stderr,
                "%lld sent, %lld left queued (the server could not take them now), "
                "%lld failed (refused), %lld waiting for their next try\n",
                (long long)r.sent, (long long)r.retry_later, (long long)r.failed,
                (long long)r.waiting);
    }
    if (!rc && (r.retry_later || r.failed)) rc = EXIT_PARTIAL;
    br_repo_free(repo);
    return rc;
}

static int requeue(cli *c, int argc, char **argv)
{
    char *end = NULL;
    long long id = argc == 3 ? strtoll(argv[2], &end, 10) : 0;
    if (argc != 3 || !end || *end || id <= 0)
        return cli_usage("mail requeue", "give the message's ID (bulkrepo mail outbox)");
    br_repo *repo;
    br_error err;
    int rc;
    if ((rc = cli_open(c, &repo))) return rc;
    if (br_mail_requeue(repo, id, &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "message %lld queued again\n", id);
    br_repo_free(repo);
    return rc;
}

static int address(cli *c, int argc, char **argv)
{
    if (argc < 3 || argc > 4 || argv[2][0] == '-')
        return cli_usage("mail address", "give USER, and ADDRESS or --clear to change it");
    const char *user = argv[2], *addr = argc == 4 ? argv[3] : NULL;
    int clear = addr && !strcmp(addr, "--clear");
    if (addr && !clear && addr[0] == '-')
        return cli_usage("mail address", "unexpected argument '%s'", addr);
    br_repo *repo;
    br_error err;
    int rc;
    if ((rc = cli_open(c, &repo))) return rc;
    char now[BR_MAIL_ADDRESS_MAX + 1];
    if (addr && br_user_set_mail(repo, user, clear ? NULL : addr, &err))
        rc = cli_fail(&err);
    else if (br_user_mail(repo, user, now, sizeof now, &err))
        rc = cli_fail(&err);
    else if (now[0])
        printf("%s\n", now);
    else
        fprintf(stderr, "%s has no mail address: letters to them are not queued\n", user);
    br_repo_free(repo);
    return rc;
}

static int print_letter(void *ctx, const char *type, const char *source, const br_error *problem)
{
    json_t *arr = ctx;
    char msg[1200] = "";
    if (problem) br_error_format(problem, msg, sizeof msg);
    if (arr)
        json_array_append_new(arr, json_pack("{s:s,s:s,s:o}", "type", type, "source", source,
                                             "problem", problem ? json_string(msg) : json_null()));
    else
        printf("%-20s %s%s%s\n", type, source, problem ? "  INVALID: " : "", msg);
    return 0;
}

static int letters(cli *c, int argc, char **argv)
{
    int json = argc == 3 && !strcmp(argv[2], "--json");
    if (argc > 3 || (argc == 3 && !json))
        return cli_usage("mail letters", "unexpected argument '%s'", argv[argc - 1]);
    br_repo *repo;
    br_error err;
    int rc;
    if ((rc = cli_open(c, &repo))) return rc;
    json_t *arr = json ? json_array() : NULL;
    if (br_letter_list(repo, print_letter, arr, &err))
        rc = cli_fail(&err);
    else if (arr)
        rc = cli_print_json(json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
    json_decref(arr);
    br_repo_free(repo);
    return rc;
}

int cmd_mail(cli *c, int argc, char **argv)
{
    int help = cli_subcommand_help(argc, argv, USAGE);
    if (help >= 0) return help;
    const char *sub = argv[1];
    if (!strcmp(sub, "config")) return config(c, argc, argv);
    if (!strcmp(sub, "outbox")) return outbox(c, argc, argv);
    if (!strcmp(sub, "send")) return send_cmd(c, argc, argv);
    if (!strcmp(sub, "requeue")) return requeue(c, argc, argv);
    if (!strcmp(sub, "address")) return address(c, argc, argv);
    if (!strcmp(sub, "letters")) return letters(c, argc, argv);
    return cli_usage("mail", "unknown subcommand '%s'", sub);
}
