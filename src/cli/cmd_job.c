/* bulkrepo job list | show | events | cancel | resume | rerun | resolve | unimported | work. */
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char USAGE[] =
    "usage: bulkrepo job list [--status S] [--category C] [--user U] [--since DATE] [--json]\n"
    "       bulkrepo job show ID [--records N|all] [--bytes] [--json]\n"
    "       bulkrepo job events ID [--json]\n"
    "       bulkrepo job cancel ID\n"
    "       bulkrepo job resume ID\n"
    "       bulkrepo job rerun ID\n"
    "       bulkrepo job resolve ID KEY HANDLE|new|skip\n"
    "       bulkrepo job unimported ID -o FILE [--page N] [--page-size N]\n"
    "       bulkrepo job work [--workers N] [--once] [--webhook URL] [--inbox-poll MS]\n\n"
    "Every import and export is a job with a status (Pending, Running, Completed\n"
    "Successfully, Completed with Errors, Failed, ...), progress, counters derived\n"
    "from its per-record journal, file details and events.\n\n"
    "  list        newest first; --status takes a code (COMPLETED_SUCCESS, FAILED, ...) or\n"
    "              running / ended; --since an ISO date (2024-05-01)\n"
    "  show        the report: progress, counters, files, events, where an export's\n"
    "              output is, and the first 20 records (--records N, or all); sizes\n"
    "              as 1.2 MB (--bytes: in bytes)\n"
    "  events      the job's events (date, severity, status, module, creator)\n"
    "  cancel      a queued job ends at once; a running one stops at the next record\n"
    "              (Aborted by User; `job resume` finishes it)\n"
    "  resume      queue an aborted or interrupted import again: it completes exactly\n"
    "              the records its journal lacks\n"
    "  resolve     choose for a record that matched several stored records (Manual\n"
    "              Handling Required): update HANDLE, add it as new, or skip it; then\n"
    "              `job resume` applies the choices\n"
    "  rerun       run a job that failed for a non-data reason (I/O, interrupted) again\n"
    "              as a new job with the same input; a data error is fixed and imported\n"
    "              anew instead (exit 3)\n"
    "  unimported  write the rejected records in the input's format (SAF: a zip of the\n"
    "              item folders plus errors.txt; CSV: the rows plus an ERROR column),\n"
    "              5,000 per page at most\n"
    "  work        run queued jobs here (N worker threads, default 2) until interrupted,\n"
    "              or with --once until the queue is empty; drop folders of import\n"
    "              profiles are scanned every --inbox-poll ms (default 5000)\n";

static int parse_id(const char *s, int64_t *id)
{
    char *end = NULL;
    long long n = s ? strtoll(s, &end, 10) : 0;
    if (!s || *end || n <= 0) return -1;
    *id = n;
    return 0;
}

/* ---- list ----------------------------------------------------------------------- */

static json_t *job_json(br_repo *repo, int64_t id)
{
    char *text = NULL;
    if (br_job_to_json(repo, id, 0, &text, NULL)) return NULL;
    json_error_t e;
    json_t *o = json_loads(text, 0, &e);
    free(text);
    return o;
}

typedef struct list_ctx {
    br_repo *repo;
    json_t *arr;
    size_t rows;
} list_ctx;

/* One line of `job list`, under its header. */
#define LIST_ROW "%-6s %-26s %-16s %-10s %-5s %-20s %-20s %9s %12s\n"

static int list_one(void *ctx, const br_job *j)
{
    list_ctx *l = ctx;
    if (l->arr) {
        json_t *o = job_json(l->repo, j->id);
        if (o) json_array_append_new(l->arr, o);
        return 0;
    }
    if (!l->rows++)
        printf(LIST_ROW, "ID", "STATUS", "TYPE", "BY", "DONE", "STARTED", "ENDED", "IMPORTED",
               "NOT IMPORTED");
    char id[24], done[16], in[24], out[24];
    snprintf(id, sizeof id, "%lld", (long long)j->id);
    /* 100 % only for a job that completed; a failed or aborted one shows no percentage. */
    int completed = j->status == BR_JOB_COMPLETED_SUCCESS ||
                    j->status == BR_JOB_COMPLETED_WITH_ERRORS ||
                    j->status == BR_JOB_COMPLETED_NO_BULKS;
    int pct = completed ? 100 : j->progress.percent > 99 ? 99 : j->progress.percent;
    if (j->status == BR_JOB_FAILED || j->status == BR_JOB_USER_ABORTED)
        snprintf(done, sizeof done, "-");
    else
        snprintf(done, sizeof done, "%d%%", pct);
    int exp = !strcmp(j->category, "export");
    snprintf(in, sizeof in, "%lld",
             (long long)(exp ? j->counters.exported : j->counters.imported + j->counters.updated));
    snprintf(out, sizeof out, "%lld", (long long)j->counters.not_imported);
    printf(LIST_ROW, id, br_job_status_label(j->status), j->type, j->eperson[0] ? j->eperson : "-",
           done, j->started[0] ? j->started : "-", j->ended[0] ? j->ended : "-", in,
           exp ? "-" : out);
    return 0;
}

static int do_list(cli *c, int argc, char **argv)
{
    br_job_filter f = {0};
    int json = 0;
    for (int i = 2; i < argc; i++) {
        const char **dst = !strcmp(argv[i], "--status")     ? &f.status
                           : !strcmp(argv[i], "--category") ? &f.category
                           : !strcmp(argv[i], "--user")     ? &f.user
                           : !strcmp(argv[i], "--since")    ? &f.since
                           : !strcmp(argv[i], "--type")     ? &f.type
                                                            : NULL;
        if (dst) {
            if (++i == argc) return cli_usage("job list", "%s needs a value", argv[i - 1]);
            *dst = argv[i];
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else {
            return cli_usage("job list", "unexpected argument '%s'", argv[i]);
        }
    }
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    list_ctx l = {repo, json ? json_array() : NULL, 0};
    br_error err;
    if (br_job_query(repo, &f, list_one, &l, &err)) rc = cli_fail(&err);
    if (!rc && !l.arr && !l.rows) fprintf(stderr, "no jobs\n");
    if (l.arr) {
        if (!rc) cli_print_json(json_dumps(l.arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(l.arr);
    }
    br_repo_free(repo);
    return rc;
}

/* ---- show, events ------------------------------------------------------------------ */

/* How `job show` prints: the first max_records records (-1 all), sizes in bytes or not. */
typedef struct show_opts {
    long long max_records;
    int bytes;
    long long shown;
} show_opts;

/* "1.2 MB" (powers of 1000, as --max-upload takes them), or the bytes with --bytes. */
static const char *size_text(long long n, int bytes, char *buf, size_t size)
{
    static const char *const UNIT[] = {"bytes", "kB", "MB", "GB", "TB"};
    if (bytes || n < 1000) {
        snprintf(buf, size, "%lld %s", n, n == 1 ? "byte" : "bytes");
        return buf;
    }
    double v = (double)n;
    int u = 0;
    while (v >= 1000 && u < 4) {
        v /= 1000;
        u++;
    }
    snprintf(buf, size, "%.1f %s", v, UNIT[u]);
    return buf;
}

static int print_rec(void *ctx, const br_job_record *r)
{
    show_opts *so = ctx;
    if (so->max_records >= 0 && so->shown >= so->max_records) return 0;
    so->shown++;
    printf("  %-24s %-11s %-16s %s\n", r->key, r->outcome, r->handle ? r->handle : "-",
           r->message ? r->message : "");
    /* Every further finding of the record, one a line under it. */
    for (size_t i = 1; i < r->n_findings; i++)
        printf("  %-24s %-11s %-16s %s\n", "", "", "", r->findings[i].text);
    return 0;
}

static int print_file(void *ctx, const br_job_file *f)
{
    show_opts *so = ctx;
    char records[32] = "?", sz[48];
    if (f->records >= 0) snprintf(records, sizeof records, "%lld", (long long)f->records);
    printf("  %-30s %14s  created %-20s %6s record%s  %-9s %s\n", f->name,
           size_text((long long)f->size, so->bytes, sz, sizeof sz), f->created ? f->created : "-",
           records, f->records == 1 ? " " : "s", f->status, f->problems ? f->problems : "");
    return 0;
}

static int print_event(void *ctx, const br_job_event *e)
{
    (void)ctx;
    printf("  %-20s %-7s %-24s %-8s %-10s %s\n", e->at, e->severity, e->status ? e->status : "-",
           e->module ? e->module : "-", e->creator ? e->creator : "-", e->description);
    return 0;
}

static void show_text(br_repo *repo, const br_job *j, show_opts *so)
{
    const br_job_counters *k = &j->counters;
    const br_job_progress *p = &j->progress;
    char bytes_text[48];
    size_text((long long)k->bytes, so->bytes, bytes_text, sizeof bytes_text);
    printf("job %lld: %s\n  type:       %s (%s)\n  status:     %s%s\n  by:         %s\n"
           "  submitted:  %s\n  started:    %s\n  ended:      %s\n  input:      %s\n  parameters: "
           "%s\n",
           (long long)j->id, j->name, j->type, j->category, br_job_status_label(j->status),
           j->cancel_requested && j->status < BR_JOB_COMPLETED_SUCCESS ? " (cancel requested)" : "",
           j->eperson[0] ? j->eperson : "-", j->submitted, j->started[0] ? j->started : "-",
           j->ended[0] ? j->ended : "-", j->input[0] ? j->input : "-", j->params);
    if (j->message[0]) printf("  message:    %s\n", j->message);
    if (j->failure[0]) printf("  failure:    %s\n", j->failure);
    if (j->rerun_of) printf("  rerun of:   job %lld\n", (long long)j->rerun_of);
    if (j->profile[0]) printf("  profile:    %s\n", j->profile);
    printf("  progress:   %d%% (%lld of %lld%s%s)", p->percent, (long long)p->done,
           (long long)p->total, p->phase[0] ? ", " : "", p->phase);
    if (p->rate > 0) printf(", %.0f records/s", p->rate);
    if (p->eta_seconds > 0 && j->status < BR_JOB_COMPLETED_SUCCESS)
        printf(", %lld s left", (long long)p->eta_seconds);
    printf("\n  records:    %lld in input, %lld processed, %lld imported, %lld updated (overlaid), "
           "%lld deleted,\n"
           "              %lld not imported (%lld invalid, %lld failed, %lld multi-matches), "
           "%lld already present\n"
           "  matching:   %lld matched, %lld multi-matches, %lld newly added\n"
           "  bitstreams: %lld processed, %lld imported, %s\n",
           (long long)j->total, (long long)k->processed, (long long)k->imported,
           (long long)k->updated, (long long)k->deleted, (long long)k->not_imported,
           (long long)k->invalid, (long long)k->failed, (long long)k->multi_matches,
           (long long)k->skipped, (long long)k->matched, (long long)k->multi_matches,
           (long long)k->newly_added, (long long)k->bitstreams, (long long)k->bitstreams_imported,
           bytes_text);
    /* Where an export's output is (the server serves it as GET /api/jobs/ID/output). */
    if (!strcmp(j->category, "export") && j->status >= BR_JOB_COMPLETED_SUCCESS &&
        j->status <= BR_JOB_COMPLETED_NO_BULKS) {
        json_t *pj = json_loads(j->params, 0, NULL);
        const char *dest = json_string_value(json_object_get(pj, "dest"));
        const char *zip = json_string_value(json_object_get(pj, "zip"));
        if (dest)
            printf("  output:     %s%s%s\n", dest, zip ? "/" : "", zip ? zip : "");
        else
            printf("  output:     %s/exports/%lld/\n", br_repo_dir(repo), (long long)j->id);
        json_decref(pj);
    }
    printf("files:\n");
    br_job_files(repo, j->id, print_file, so, NULL);
    printf("events:\n");
    br_job_events(repo, j->id, print_event, NULL, NULL);
    printf("records:\n");
    br_job_records(repo, j->id, NULL, print_rec, so, NULL);
    if (so->max_records >= 0 && k->processed > so->shown)
        printf("  ... %lld more (`bulkrepo job show %lld --records all`)\n",
               (long long)(k->processed - so->shown), (long long)j->id);
}

static int add_event_json(void *ctx, const br_job_event *e)
{
    json_t *o = json_pack("{s:I,s:s,s:s,s:s?,s:s?,s:s?,s:s}", "id", (json_int_t)e->id, "date",
                          e->at, "severity", e->severity, "status", e->status, "module", e->module,
                          "creator", e->creator, "description", e->description);
    if (o) json_array_append_new(ctx, o);
    return 0;
}

static int do_show(cli *c, int64_t id, int json, int events_only, show_opts *so)
{
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    br_job j;
    if (br_job_get(repo, id, &j, &err)) {
        rc = cli_fail(&err);
    } else if (events_only && json) {
        json_t *a = json_array();
        if (br_job_events(repo, id, add_event_json, a, &err)) {
            rc = cli_fail(&err);
            json_decref(a);
        } else {
            json_t *o = json_pack("{s:I,s:o}", "job", (json_int_t)id, "events", a);
            cli_print_json(json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
            json_decref(o);
        }
    } else if (events_only) {
        if (br_job_events(repo, id, print_event, NULL, &err)) rc = cli_fail(&err);
    } else if (json) {
        char *text = NULL;
        if (br_job_to_json(repo, id, 1, &text, &err)) {
            rc = cli_fail(&err);
        } else {
            /* The report with its events, as GET /api/jobs/ID/events adds them. */
            json_error_t e;
            json_t *o = json_loads(text, 0, &e), *a = json_array();
            free(text);
            br_job_events(repo, id, add_event_json, a, NULL);
            json_object_set_new(o, "events", a);
            cli_print_json(json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
            json_decref(o);
        }
    } else {
        show_text(repo, &j, so);
    }
    br_repo_free(repo);
    return rc;
}

/* ---- actions ----------------------------------------------------------------------- */

static int do_action(cli *c, const char *what, int64_t id)
{
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    br_error_clear(&err);
    int64_t nid = 0;
    int r = !strcmp(what, "cancel")   ? br_job_cancel(repo, id, &err)
            : !strcmp(what, "resume") ? br_job_resume(repo, id, &err)
                                      : br_job_rerun(repo, id, &nid, &err);
    if (r) {
        rc = cli_fail(&err);
    } else if (nid) {
        printf("%lld\n", (long long)nid);
        fprintf(stderr, "job %lld reruns job %lld (queued)\n", (long long)nid, (long long)id);
    } else {
        br_job j;
        if (!br_job_get(repo, id, &j, NULL))
            fprintf(stderr, "job %lld: %s%s\n", (long long)id, br_job_status_label(j.status),
                    !strcmp(what, "cancel") && j.status < BR_JOB_COMPLETED_SUCCESS
                        ? " (stops at the next record)"
                        : "");
    }
    br_repo_free(repo);
    return rc;
}

static int do_unimported(cli *c, int argc, char **argv, int64_t id)
{
    const char *out = NULL;
    br_unimported_options o = {1, 0};
    for (int i = 3; i < argc; i++) {
        if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc) {
            out = argv[++i];
        } else if ((!strcmp(argv[i], "--page") || !strcmp(argv[i], "--page-size")) &&
                   i + 1 < argc) {
            char *end;
            long long n = strtoll(argv[i + 1], &end, 10);
            if (*end || n <= 0)
                return cli_usage("job unimported", "%s takes a positive number", argv[i]);
            if (!strcmp(argv[i], "--page"))
                o.page = (size_t)n;
            else
                o.page_size = (size_t)n;
            i++;
        } else {
            return cli_usage("job unimported", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!out) return cli_usage("job unimported", "give the output file (-o FILE)");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    br_unimported_result res;
    if (br_job_unimported(repo, id, &o, out, &res, &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "%s: %zu unimported records (page %zu of %zu, %zu in all)\n", out,
                res.records, o.page, res.pages, res.total);
    br_repo_free(repo);
    return rc;
}

/* ---- work: run the queue here -------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static int count_job(void *ctx, const br_job *j)
{
    (void)j;
    ++*(size_t *)ctx;
    return 0;
}

static int do_work(cli *c, int argc, char **argv)
{
    br_engine_options o = {0};
    int once = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--workers") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > 64) return cli_usage("job work", "--workers takes 1 to 64");
            o.workers = (unsigned)n;
        } else if (!strcmp(argv[i], "--webhook") && i + 1 < argc) {
            o.webhook_url = argv[++i];
        } else if (!strcmp(argv[i], "--inbox-poll") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 10 || n > 3600000)
                return cli_usage("job work", "--inbox-poll takes 10 to 3600000 ms");
            o.inbox_poll_ms = (unsigned)n;
        } else if (!strcmp(argv[i], "--once")) {
            once = 1;
        } else {
            return cli_usage("job work", "unexpected argument '%s'", argv[i]);
        }
    }
    o.queue_poll_ms = 100;
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    br_engine *eng = NULL;
    if (br_engine_new(c->repo_dir, &o, &eng, &err) || br_engine_start(eng, &err)) {
        rc = cli_fail(&err);
        br_engine_free(eng);
        br_repo_free(repo);
        return rc;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    br_job_filter waiting = {"running", NULL, NULL, NULL, NULL, 0, 0};
    while (!interrupted) {
        usleep(100000);
        if (!once) continue;
        size_t n = 0;
        if (br_job_query(repo, &waiting, count_job, &n, &err)) {
            rc = cli_fail(&err);
            break;
        }
        if (!n) break;
    }
    br_engine_free(eng); /* running imports stop at a record and go back to the queue */
    br_repo_free(repo);
    return rc;
}

/* ---- entry ---------------------------------------------------------------------------- */

int cli_submit_job(cli *c, const char *type, const char *name, const char *eperson,
                   const char *params_json, const char *file)
{
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    const char *files[1] = {file};
    br_job_spec spec = {type,         name, eperson, params_json, file ? files : NULL,
                        file ? 1 : 0, 0,    NULL};
    br_error err;
    int64_t id;
    if (br_job_submit(repo, &spec, &id, &err)) {
        rc = cli_fail(&err);
    } else {
        printf("%lld\n", (long long)id);
        fprintf(stderr, "job %lld queued (%s); `bulkrepo job show %lld` follows it\n",
                (long long)id, type, (long long)id);
    }
    br_repo_free(repo);
    return rc;
}

/* job resolve ID KEY CHOICE */
static int do_resolve(cli *c, int argc, char **argv, int64_t id)
{
    if (argc != 5)
        return cli_usage("job", "resolve needs a job ID, a record's key and HANDLE|new|skip");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    if (br_job_resolve(repo, id, argv[3], argv[4], &err))
        rc = cli_fail(&err);
    else
        fprintf(stderr, "job %lld: %s resolved: %s (run `bulkrepo job resume %lld` to apply)\n",
                (long long)id, argv[3], argv[4], (long long)id);
    br_repo_free(repo);
    return rc;
}

int cmd_job(cli *c, int argc, char **argv)
{
    int help = cli_subcommand_help(argc, argv, USAGE);
    if (help >= 0) return help;
    const char *sub = argv[1];
    if (!strcmp(sub, "list")) return do_list(c, argc, argv);
    if (!strcmp(sub, "work")) return do_work(c, argc, argv);
    int is_show = !strcmp(sub, "show"), is_events = !strcmp(sub, "events");
    int is_action = !strcmp(sub, "cancel") || !strcmp(sub, "resume") || !strcmp(sub, "rerun");
    if (!is_show && !is_events && !is_action && strcmp(sub, "unimported") && strcmp(sub, "resolve"))
        return cli_usage("job", "unknown subcommand '%s'", sub);
    int64_t id;
    if (argc < 3 || parse_id(argv[2], &id)) return cli_usage("job", "%s needs a job ID", sub);
    if (!strcmp(sub, "unimported")) return do_unimported(c, argc, argv, id);
    if (!strcmp(sub, "resolve")) return do_resolve(c, argc, argv, id);
    int json = 0;
    show_opts so = {20, 0, 0};
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && !is_action) {
            json = 1;
        } else if (!strcmp(argv[i], "--bytes") && is_show) {
            so.bytes = 1;
        } else if (!strcmp(argv[i], "--records") && is_show && i + 1 < argc) {
            char *end;
            long long n = strtoll(argv[++i], &end, 10);
            if (!strcmp(argv[i], "all"))
                so.max_records = -1;
            else if (*end || end == argv[i] || n < 0)
                return cli_usage("job", "--records takes a number or 'all'");
            else
                so.max_records = n;
        } else {
            return cli_usage("job", "unexpected argument '%s'", argv[i]);
        }
    }
    if (is_action) return do_action(c, sub, id);
    return do_show(c, id, json, is_events, &so);
}
