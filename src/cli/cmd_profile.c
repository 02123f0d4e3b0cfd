/* bulkrepo profile add | list | show | run | history | remove: import profiles with a drop
 * folder, and profiles that pull from an S/FTP server (profile.h, docs/profiles.md). */
#define _GNU_SOURCE
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bulkrepo/engine.h"
#include "cli.h"

static const char USAGE[] =
    "usage: bulkrepo profile add NAME --format F --collection HANDLE [--inbox DIR]\n"
    "                            [--eperson WHO] [--ftp CONF [--remote-dir DIR]\n"
    "                            [--pattern GLOB] [--after leave|delete|move:DIR]\n"
    "                            [--schedule \"MIN HOUR DAY MONTH WEEKDAY\"]]\n"
    "       bulkrepo profile list [--json]\n"
    "       bulkrepo profile show NAME [--json]\n"
    "       bulkrepo profile run NAME [--wait] [--json] [--max-size BYTES]\n"
    "       bulkrepo profile history NAME [--json] [--limit N]\n"
    "       bulkrepo profile remove NAME\n\n"
    "An import profile names an inbox (drop) folder, e.g. an FTP upload folder.  While `bulkrepo "
    "serve`\n"
    "or `bulkrepo job work` runs, each file dropped there (SAF: a .zip; Esploro: a .csv) is\n"
    "taken once it stopped growing, moved to DIR/processing/, imported into the collection\n"
    "as a job, and moved to DIR/done/ or DIR/failed/.  Point any FTP or SFTP server at DIR.\n\n"
    "A profile with --ftp CONF (an S/FTP configuration: `bulkrepo ftp add`) pulls instead:\n"
    "a \"Metadata Import w/FTP\" job lists --remote-dir on that server, downloads the files\n"
    "matching --pattern (default: *.zip or *.csv by the format) that it has not loaded\n"
    "before, queues one \"Metadata Import: NAME (FTP)\" job per file, and then leaves,\n"
    "deletes or moves each file on the server (--after, default leave).  Without --inbox\n"
    "the files go through REPO/profiles/NAME/.  It runs on --schedule (cron-like, UTC:\n"
    "minute hour day-of-month month day-of-week, with *, lists 1,2, ranges 1-5 and steps\n"
    "*/15) while the engine runs, or now with `profile run`.  A file with the same name,\n"
    "size and checksum as one taken before is never loaded twice.\n\n"
    "  run       queue the profile's fetch job now; --wait runs it here (and its load jobs)\n"
    "            and exits 0 when all succeeded, 1 when one ended with errors or failed;\n"
    "            --max-size caps each file below the format's cap\n"
    "  history   the profile's jobs, newest first: fetch jobs and the load jobs they queued\n";

static void fmt_time(int64_t t, char *out, size_t size)
{
    out[0] = 0;
    if (!t) return;
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm)) strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

typedef struct listing {
    json_t *arr; /* --json: the profiles; NULL: lines of text */
    int oom;
} listing;

static int print_one(void *ctx, const br_profile *p)
{
    listing *l = ctx;
    if (l->arr) {
        char *text = NULL;
        json_t *o = NULL;
        if (br_profile_to_json(p, &text, NULL) || !(o = json_loads(text, 0, NULL)) ||
            json_array_append_new(l->arr, o))
            l->oom = 1; /* refused, not listed short */
        free(text);
        return l->oom;
    } else if (p->ftp[0])
        printf("%-16s %-12s %-16s %s:/%s%s%s\n", p->name, p->format, p->collection, p->ftp,
               p->remote_dir, p->schedule[0] ? "  schedule " : "", p->schedule);
    else
        printf("%-16s %-12s %-16s %s\n", p->name, p->format, p->collection, p->inbox);
    return 0;
}

static void show_text(const br_profile *p)
{
    char next[32], pattern[256] = "";
    fmt_time(p->next_run, next, sizeof next);
    if (p->ftp[0]) br_profile_pattern(p, pattern, sizeof pattern);
    printf("name:        %s\nformat:      %s\ncollection:  %s\ninbox:       %s\n", p->name,
           p->format, p->collection, p->inbox);
    if (p->eperson[0]) printf("eperson:     %s\n", p->eperson);
    if (p->ftp[0]) {
        printf("ftp:         %s\nremote dir:  /%s\npattern:     %s\nafter fetch: %s\n", p->ftp,
               p->remote_dir, pattern, p->after_fetch[0] ? p->after_fetch : "leave");
        printf("schedule:    %s\n", p->schedule[0] ? p->schedule : "(on demand)");
        if (next[0]) printf("next run:    %s\n", next);
    }
    printf("created:     %s\n", p->created);
}

/* One line of `profile history` (the --json shape is br_profile_history_json's). */
static int print_job(void *ctx, const br_job *j)
{
    (void)ctx;
    const br_job_counters *k = &j->counters;
    char parent[32] = "-";
    if (j->parent_job) snprintf(parent, sizeof parent, "%lld", (long long)j->parent_job);
    printf("%-6lld %-6s %-24s %-20s %5lld processed %5lld imported %5lld not imported  %s\n",
           (long long)j->id, parent, br_job_status_label(j->status), j->submitted,
           (long long)k->processed, (long long)k->imported, (long long)k->not_imported, j->name);
    return 0;
}

typedef struct kids {
    int64_t fetch;
    int running, bad;
} kids;

static int count_kid(void *ctx, const br_job *j)
{
    kids *k = ctx;
    if (j->parent_job != k->fetch && j->id != k->fetch) return 0;
    if (!br_job_status_ended(j->status))
        k->running++;
    else if (j->status == BR_JOB_FAILED || j->status == BR_JOB_COMPLETED_WITH_ERRORS ||
             j->status == BR_JOB_USER_ABORTED)
        k->bad++;
    return 0;
}

/* --wait: runs the queue here until the fetch job and every load job it queued have ended, or
 * waits for the process that runs it (cli_runner). */
static int wait_run(cli *c, br_repo *repo, const char *name, int64_t id)
{
    cli_runner run;
    int rc = cli_runner_start(c, id, &run);
    if (rc) return rc;
    br_error err;
    kids k;
    for (;;) {
        memset(&k, 0, sizeof k);
        k.fetch = id;
        if (br_profile_history(repo, name, 0, 0, count_kid, &k, NULL, &err)) {
            rc = cli_fail(&err);
            break;
        }
        if (!k.running) break;
        if (cli_interrupted()) {
            fprintf(stderr, "job %lld: stopped waiting (`bulkrepo profile history %s`)\n",
                    (long long)id, name);
            rc = EXIT_PARTIAL;
            break;
        }
        cli_runner_wait(&run);
    }
    cli_runner_stop(&run);
    if (rc) return rc;
    br_job j;
    if (br_job_get(repo, id, &j, &err)) return cli_fail(&err);
    fprintf(stderr, "job %lld: %s%s%s\n", (long long)id, br_job_status_label(j.status),
            j.message[0] ? ": " : "", j.message);
    return k.bad ? EXIT_PARTIAL : EXIT_OK;
}

static int set_field(char *dst, size_t size, const char *opt, const char *v)
{
    if (strlen(v) >= size) return cli_usage("profile", "%s is too long", opt);
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

int cmd_profile(cli *c, int argc, char **argv)
{
    int help = cli_subcommand_help(argc, argv, USAGE);
    if (help >= 0) return help;
    const char *sub = argv[1];
    br_profile p;
    memset(&p, 0, sizeof p);
    int json = 0, wait = 0, rc;
    long long limit = 0, max_size = 0;
    const char *name = NULL, *inbox = NULL;
    int is_add = !strcmp(sub, "add"), is_list = !strcmp(sub, "list");
    static const struct {
        const char *opt;
        size_t off, size;
    } FIELDS[] = {
        {"--format", offsetof(br_profile, format), sizeof p.format},
        {"--collection", offsetof(br_profile, collection), sizeof p.collection},
        {"--eperson", offsetof(br_profile, eperson), sizeof p.eperson},
        {"--ftp", offsetof(br_profile, ftp), sizeof p.ftp},
        {"--remote-dir", offsetof(br_profile, remote_dir), sizeof p.remote_dir},
        {"--pattern", offsetof(br_profile, pattern), sizeof p.pattern},
        {"--after", offsetof(br_profile, after_fetch), sizeof p.after_fetch},
        {"--schedule", offsetof(br_profile, schedule), sizeof p.schedule},
    };
    const size_t N_FIELDS = sizeof FIELDS / sizeof FIELDS[0];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        size_t f = 0;
        while (f < N_FIELDS && strcmp(a, FIELDS[f].opt))
            f++;
        int takes = (is_add && (f < N_FIELDS || !strcmp(a, "--inbox"))) ||
                    (!strcmp(sub, "history") && !strcmp(a, "--limit")) ||
                    (!strcmp(sub, "run") && !strcmp(a, "--max-size"));
        if (takes) {
            if (i + 1 == argc) return cli_usage("profile", "%s needs a value", a);
            const char *v = argv[++i];
            if (f < N_FIELDS) {
                if ((rc = set_field((char *)&p + FIELDS[f].off, FIELDS[f].size, a, v))) return rc;
            } else if (!strcmp(a, "--inbox")) {
                inbox = v;
            } else {
                char *end;
                long long n = strtoll(v, &end, 10);
                if (*end || n < 1 || v[0] < '0' || v[0] > '9')
                    return cli_usage("profile", "%s takes a whole number above 0", a);
                if (!strcmp(a, "--limit"))
                    limit = n;
                else
                    max_size = n;
            }
        } else if (!strcmp(a, "--json") && strcmp(sub, "add") && strcmp(sub, "remove")) {
            json = 1;
        } else if (!strcmp(a, "--wait") && !strcmp(sub, "run")) {
            wait = 1;
        } else if (!name && a[0] != '-' && !is_list) {
            name = a;
        } else {
            return cli_usage("profile", "unexpected argument '%s'", a);
        }
    }
    br_repo *repo;
    br_error err;
    if (is_add) {
        if (!name || !p.format[0] || !p.collection[0] || (!inbox && !p.ftp[0]))
            return cli_usage("profile add",
                             "give NAME, --format, --collection and --inbox or --ftp");
        if (strlen(name) >= sizeof p.name) return cli_usage("profile add", "the name is too long");
        memcpy(p.name, name, strlen(name) + 1);
        if (inbox) {
            char real[PATH_MAX];
            if (!realpath(inbox, real))
                return cli_usage("profile add", "the inbox folder '%s' does not exist", inbox);
            if (strlen(real) >= sizeof p.inbox)
                return cli_usage("profile add", "the inbox path is too long");
            memcpy(p.inbox, real, strlen(real) + 1);
        }
        if ((rc = cli_open(c, &repo))) return rc;
        if (br_profile_add(repo, &p, &err)) {
            rc = cli_fail(&err);
        } else if (br_profile_get(repo, p.name, &p, &err)) {
            rc = cli_fail(&err);
        } else if (p.ftp[0]) {
            char pattern[256];
            br_profile_pattern(&p, pattern, sizeof pattern);
            fprintf(stderr, "profile %s: %s files %s on %s:/%s go to %s via %s (%s)\n", p.name,
                    p.format, pattern, p.ftp, p.remote_dir, p.collection, p.inbox,
                    p.schedule[0] ? p.schedule : "on demand");
        } else {
            fprintf(stderr, "profile %s: %s files dropped in %s go to %s\n", p.name, p.format,
                    p.inbox, p.collection);
        }
    } else if (is_list) {
        if ((rc = cli_open(c, &repo))) return rc;
        listing l = {json ? json_array() : NULL, 0};
        if (br_profile_list(repo, print_one, &l, &err))
            rc = cli_fail(&err);
        else if (l.oom)
            rc = cli_fail((br_error_set(&err, BR_ENOMEM, NULL, 0, 0, "out of memory"), &err));
        if (l.arr && !rc)
            rc = cli_print_json(json_dumps(l.arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(l.arr);
    } else if (!strcmp(sub, "show")) {
        if (!name) return cli_usage("profile show", "give the profile's NAME");
        if ((rc = cli_open(c, &repo))) return rc;
        if (br_profile_get(repo, name, &p, &err))
            rc = cli_fail(&err);
        else if (json) {
            char *text = NULL;
            rc = br_profile_to_json(&p, &text, &err) ? cli_fail(&err) : cli_print_json(text);
        } else
            show_text(&p);
    } else if (!strcmp(sub, "run")) {
        if (!name) return cli_usage("profile run", "give the profile's NAME");
        if ((rc = cli_open(c, &repo))) return rc;
        int64_t id;
        if (br_profile_run(repo, name, cli_whoami(), max_size, &id, &err)) {
            rc = cli_fail(&err);
        } else {
            if (!json) {
                printf("%lld\n", (long long)id);
                fflush(stdout);
            }
            if (wait)
                rc = wait_run(c, repo, name, id);
            else
                fprintf(stderr,
                        "job %lld queued (Metadata Import w/FTP: %s); `bulkrepo job show "
                        "%lld` follows it\n",
                        (long long)id, name, (long long)id);
            char *text = NULL;
            if (json) {
                int jrc = br_job_to_json(repo, id, 0, &text, &err) ? cli_fail(&err)
                                                                   : cli_print_json(text);
                if (jrc) rc = jrc;
            }
        }
    } else if (!strcmp(sub, "history")) {
        if (!name) return cli_usage("profile history", "give the profile's NAME");
        if ((rc = cli_open(c, &repo))) return rc;
        char *text = NULL;
        if (json) {
            rc = br_profile_history_json(repo, name, (size_t)limit, 0, &text, &err)
                     ? cli_fail(&err)
                     : cli_print_json(text);
        } else {
            printf("%-6s %-6s %-24s %-20s\n", "JOB", "PARENT", "STATUS", "SUBMITTED");
            if (br_profile_history(repo, name, (size_t)limit, 0, print_job, NULL, NULL, &err))
                rc = cli_fail(&err);
        }
    } else if (!strcmp(sub, "remove")) {
        if (!name) return cli_usage("profile remove", "give the profile's NAME");
        if ((rc = cli_open(c, &repo))) return rc;
        if (br_profile_remove(repo, name, &err)) rc = cli_fail(&err);
    } else {
        return cli_usage("profile", "unknown subcommand '%s'", sub);
    }
    br_repo_free(repo);
    return rc;
}
