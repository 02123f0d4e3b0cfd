/* bulkrepo job list | show | events | cancel | resume | rerun | resolve | unimported | work |
 * types | run | revert. */
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bulkrepo/user.h"
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
    "       bulkrepo job work [--workers N] [--once] [--webhook URL] [--inbox-poll MS]\n"
    "                         [--name NAME] [--lease SECONDS] [--chunk N|off]\n"
    "       bulkrepo job types [--json]\n"
    "       bulkrepo job run TYPE --set NAME [--param NAME=VALUE ...] [--name TEXT]\n"
    "                        [--dry-run [--limit N]] [--json] [--wait]\n"
    "       bulkrepo job revert ID [--dry-run] [--force] [--json] [--name TEXT] [--wait]\n\n"
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
    "              profiles are scanned every --inbox-poll ms (default 5000). Any number\n"
    "              of workers, here or on other machines that share the repository's\n"
    "              folder and database, share the queue: each keeps its jobs' heartbeat;\n"
    "              a job whose worker stopped beating for --lease seconds (default 60) is\n"
    "              taken over by another (an import resumes from its journal). --name\n"
    "              names this worker on its jobs (default HOST:PID). A large import is\n"
    "              written by every free worker: after validation its records are cut into\n"
    "              chunks of --chunk N records (default 10000 on PostgreSQL; off on the\n"
    "              embedded store, whose writers take turns) that any worker claims, with\n"
    "              the same lease; a dead worker's chunk is taken over from the journal\n"
    "  types       every job type: what it does, the type of set it runs on, the roles\n"
    "              that may run it and its parameters (name, kind, default, values)\n"
    "  run         run a job on a set (Update Set, Delete Set, Index, the exports): the\n"
    "              parameters are checked first (exit 2 naming a wrong one; exit 3 for\n"
    "              an unknown set), then the job is queued and its id printed.\n"
    "              --dry-run writes nothing and prints what would change, per record:\n"
    "              'HANDLE  field: old → new' or 'HANDLE  skipped: reason' (--limit N:\n"
    "              the first N members only; --json: {members, changes, truncated}).\n"
    "              --wait runs the job here (or waits for the server running it) and\n"
    "              exits 0 when it completed, 1 when it completed with errors\n"
    "  revert      put back every record a job changed (updated records get their old\n"
    "              values, created ones go to the trash, deleted ones come back); a\n"
    "              record changed since the job is reported and left unless --force.\n"
    "              --dry-run lists each record (handle, uuid, what the job did,\n"
    "              conflict) and the totals, writing nothing\n\n"
    "Parameters of `job run` are text on the command line: --param operation=field-add\n"
    "--param field=dc.subject --param value=Fish.  docs/sets.md lists them per job.\n";

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
        } else if (!strcmp(argv[i], "--name") && i + 1 < argc) {
            o.worker_name = argv[++i];
        } else if (!strcmp(argv[i], "--lease") && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 2 || n > 86400)
                return cli_usage("job work", "--lease takes 2 to 86400 seconds");
            o.lease_seconds = (unsigned)n;
        } else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) {
            char *end;
            const char *v = argv[++i];
            long n = strtol(v, &end, 10);
            if (!strcmp(v, "off"))
                o.chunk_records = UINT_MAX;
            else if (*end || n < 1 || n > 100000000)
                return cli_usage("job work", "--chunk takes 1 to 100000000 records, or off");
            else
                o.chunk_records = (unsigned)n;
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
    cli_catch_signals();
    br_job_filter waiting = {"running", NULL, NULL, NULL, NULL, 0, 0};
    while (!cli_interrupted()) {
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

/* ---- set jobs: types, run, revert ------------------------------------------------------- */

/* A parameter as JSON: the library's shape (br_job_param_json), shared with the API. */
static json_t *param_json(const br_job_param *p)
{
    char *text = NULL;
    json_t *o = br_job_param_json(p, &text, NULL) ? NULL : json_loads(text, 0, NULL);
    free(text);
    return o ? o : json_null();
}

static int add_param_json(void *ctx, const br_job_param *p)
{
    json_array_append_new(ctx, param_json(p));
    return 0;
}

static int print_param(void *ctx, const br_job_param *p)
{
    (void)ctx;
    printf("    %-20s %s%s", p->name, br_param_kind_name(p->kind), p->required ? ", required" : "");
    if (p->def[0]) printf(", default %s", p->def);
    if (p->values[0]) printf(", %s %s", p->kind == BR_PARAM_ENUM ? "one of" : "range", p->values);
    if (p->when[0]) printf(", only when %s", p->when);
    printf("\n      %s: %s\n", p->label, p->help);
    return 0;
}

static int add_type_json(void *ctx, const br_job_type *t)
{
    json_t *roles = json_array(), *params = json_array();
    for (unsigned i = 0; i < 32; i++) {
        br_role role;
        if ((t->roles & (UINT32_C(1) << i)) && !br_role_at(i, &role))
            json_array_append_new(roles, json_string(role.code));
    }
    br_job_param_list(t->type, add_param_json, params);
    json_array_append_new(
        ctx, json_pack("{s:s,s:s,s:s,s:s,s:o,s:b,s:o,s:o}", "type", t->type, "category",
                       t->category, "label", t->label, "description", t->description, "content",
                       t->content[0] ? json_string(t->content) : json_null(), "implemented",
                       t->implemented, "roles", roles, "params", params));
    return 0;
}

static int print_type(void *ctx, const br_job_type *t)
{
    (void)ctx;
    printf("%s%s\n  %s (%s%s%s)\n  %s\n", t->type, t->implemented ? "" : "  (not runnable yet)",
           t->label, t->category, t->content[0] ? ", runs on a set of " : "", t->content,
           t->description);
    printf("  roles:");
    for (unsigned i = 0; i < 32; i++) {
        br_role role;
        if ((t->roles & (UINT32_C(1) << i)) && !br_role_at(i, &role)) printf(" %s", role.code);
    }
    printf("\n");
    br_job_param_list(t->type, print_param, NULL);
    printf("\n");
    return 0;
}

static int do_types(int argc, char **argv)
{
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            return cli_usage("job types", "unexpected argument '%s'", argv[i]);
    }
    if (json) {
        json_t *a = json_array();
        br_job_type_list(add_type_json, a);
        int rc = cli_print_json(json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(a);
        return rc;
    }
    br_job_type_list(print_type, NULL);
    return EXIT_OK;
}

/* --wait: runs job id to its end here, or waits for the process that runs it
 * (cli_runner).  Prints the outcome on stderr and returns cli_job_exit's code. */
static int wait_job(cli *c, br_repo *repo, int64_t id)
{
    cli_runner run;
    int rc = cli_runner_start(c, id, &run);
    if (rc) return rc;
    br_error err;
    br_job j;
    for (;;) {
        if (br_job_get(repo, id, &j, &err)) {
            rc = cli_fail(&err);
            break;
        }
        if (br_job_status_ended(j.status)) break;
        if (cli_interrupted()) {
            fprintf(stderr, "job %lld: stopped waiting (`bulkrepo job show %lld`)\n", (long long)id,
                    (long long)id);
            rc = EXIT_PARTIAL;
            break;
        }
        cli_runner_wait(&run);
    }
    cli_runner_stop(&run);
    if (rc) return rc;
    fprintf(stderr, "job %lld: %s%s%s\n", (long long)id, br_job_status_label(j.status),
            j.message[0] ? ": " : "", j.message);
    return cli_job_exit(&j);
}

/* Queues a job and prints its id (json: the job's JSON, as `job show --json` without its
 * records, once it is queued or, with wait, once it ended); with wait, runs it to its end
 * (wait_job). */
static int queue_job(cli *c, br_repo *repo, const char *type, const char *name, const char *params,
                     int wait, int json)
{
    br_job_spec spec = {type, name, cli_whoami(), params, NULL, 0, 0, NULL};
    br_error err;
    int64_t id;
    if (br_job_submit(repo, &spec, &id, &err)) return cli_fail(&err);
    if (!json) {
        printf("%lld\n", (long long)id);
        fflush(stdout);
    }
    int rc = EXIT_OK;
    if (!wait)
        fprintf(stderr, "job %lld queued (%s); `bulkrepo job show %lld` follows it\n",
                (long long)id, type, (long long)id);
    else
        rc = wait_job(c, repo, id);
    if (json) {
        char *text = NULL;
        if (br_job_to_json(repo, id, 0, &text, &err)) return cli_fail(&err);
        int prc = cli_print_json(text);
        if (prc) rc = prc;
    }
    return rc;
}

typedef struct preview_out {
    json_t *arr;
    int64_t shown, changed, skipped;
} preview_out;

static const char *or_none(const char *s)
{
    return s ? s : "(none)";
}

static int print_preview(void *ctx, const br_preview *p)
{
    preview_out *o = ctx;
    o->shown++;
    if (p->skip)
        o->skipped++;
    else
        o->changed++;
    const char *h = p->handle ? p->handle : "-";
    if (o->arr) {
        json_t *ch = json_array();
        for (size_t i = 0; i < p->n_changes; i++)
            json_array_append_new(
                ch,
                json_pack(
                    "{s:s,s:o,s:o}", "field", p->changes[i].field, "old",
                    p->changes[i].old_value ? json_string(p->changes[i].old_value) : json_null(),
                    "new",
                    p->changes[i].new_value ? json_string(p->changes[i].new_value) : json_null()));
        json_array_append_new(o->arr,
                              json_pack("{s:o,s:o,s:o,s:o}", "handle",
                                        p->handle ? json_string(p->handle) : json_null(), "title",
                                        p->title ? json_string(p->title) : json_null(), "changes",
                                        ch, "skip", p->skip ? json_string(p->skip) : json_null()));
        return 0;
    }
    if (p->skip) printf("%s  skipped: %s\n", h, p->skip);
    for (size_t i = 0; !p->skip && i < p->n_changes; i++) {
        const br_change *ch = &p->changes[i];
        if (!strcmp(ch->field, "record")) /* the whole record: what would happen to it */
            printf("%s  record: %s\n", h, or_none(ch->old_value));
        else
            printf("%s  %s: %s → %s\n", h, ch->field, or_none(ch->old_value),
                   or_none(ch->new_value));
    }
    return 0;
}

static int dry_run(br_repo *repo, const char *type, const char *params, int64_t limit, int json)
{
    preview_out o = {json ? json_array() : NULL, 0, 0, 0};
    br_error err;
    int64_t members = 0;
    if (br_set_job_preview(repo, type, params, limit, print_preview, &o, &members, &err)) {
        json_decref(o.arr);
        return cli_fail(&err);
    }
    if (json) {
        json_t *r = json_pack("{s:I,s:o,s:b}", "members", (json_int_t)members, "changes", o.arr,
                              "truncated", o.shown < members);
        int rc = cli_print_json(json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
        json_decref(r);
        return rc;
    }
    fprintf(stderr,
            "dry run of %s: %lld members; of the %lld looked at, %lld would change and %lld would "
            "be left as they are; nothing was written\n",
            type, (long long)members, (long long)o.shown, (long long)o.changed,
            (long long)o.skipped);
    return EXIT_OK;
}

/* job run TYPE --set NAME [--param K=V ...] [--name TEXT] [--dry-run [--limit N]] [--json]
 * [--wait] */
static int do_run(cli *c, int argc, char **argv)
{
    if (argc < 3 || argv[2][0] == '-') return cli_usage("job run", "give the job type");
    const char *type = argv[2], *set = NULL, *name = NULL;
    int dry = 0, json = 0, wait = 0;
    long long limit = 0;
    json_t *params = json_object();
    int rc = EXIT_OK;
    for (int i = 3; i < argc && !rc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--set") && has_value) {
            set = argv[++i];
        } else if (!strcmp(a, "--name") && has_value) {
            name = argv[++i];
        } else if (!strcmp(a, "--param") && has_value) {
            const char *kv = argv[++i], *eq = strchr(kv, '=');
            if (!eq || eq == kv) {
                rc = cli_usage("job run", "--param takes NAME=VALUE, not '%s'", kv);
                break;
            }
            char key[64];
            size_t n = (size_t)(eq - kv);
            if (n >= sizeof key) {
                rc = cli_usage("job run", "no parameter has a name that long ('%.*s')", (int)n, kv);
                break;
            }
            memcpy(key, kv, n);
            key[n] = 0;
            if (!strcmp(key, "set")) {
                rc = cli_usage("job run", "the set is given with --set NAME");
            } else if (json_object_get(params, key)) {
                rc = cli_usage("job run", "the parameter '%s' is given twice", key);
            } else {
                json_object_set_new(params, key, json_string(eq + 1));
            }
        } else if (!strcmp(a, "--dry-run")) {
            dry = 1;
        } else if (!strcmp(a, "--limit") && has_value) {
            char *end;
            limit = strtoll(argv[++i], &end, 10);
            if (*end || end == argv[i] || limit <= 0)
                rc = cli_usage("job run", "--limit takes a positive number");
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--wait")) {
            wait = 1;
        } else {
            rc = cli_usage("job run", "unexpected argument '%s'", a);
        }
    }
    if (!rc && !set) rc = cli_usage("job run", "give the set the job runs on (--set NAME)");
    if (!rc && limit && !dry) rc = cli_usage("job run", "--limit goes with --dry-run");
    if (!rc && dry && wait) rc = cli_usage("job run", "a dry run is not queued: no --wait");
    if (rc) {
        json_decref(params);
        return rc;
    }
    json_object_set_new(params, "set", json_string(set));
    char *text = json_dumps(params, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(params);
    if (!text) {
        fprintf(stderr, "bulkrepo: out of memory\n");
        return EXIT_IOERR;
    }
    br_repo *repo;
    if ((rc = cli_open(c, &repo))) {
        free(text);
        return rc;
    }
    br_error err;
    if (!br_job_type_on_set(type)) {
        br_job_type t;
        rc = br_job_type_get(type, &t)
                 ? cli_usage("job run", "'%s' is not a job type (bulkrepo job types)", type)
                 : cli_usage("job run", "%s does not run on a set (bulkrepo job types)", type);
    } else if (br_set_job_check(repo, type, text, &err)) {
        rc = cli_fail(&err);
    } else if (dry) {
        rc = dry_run(repo, type, text, limit, json);
    } else {
        rc = queue_job(c, repo, type, name, text, wait, json);
    }
    free(text);
    br_repo_free(repo);
    return rc;
}

typedef struct revert_out {
    json_t *arr;
    int64_t shown;
} revert_out;

static int print_revert(void *ctx, const br_revert_line *l)
{
    revert_out *o = ctx;
    if (o->arr) {
        if (o->shown++ < 1000)
            json_array_append_new(
                o->arr, json_pack("{s:o,s:s,s:s,s:b}", "handle",
                                  l->handle ? json_string(l->handle) : json_null(), "uuid", l->uuid,
                                  "action", l->action, "conflict", l->conflict));
        return 0;
    }
    printf("%-20s %-36s %-8s %s\n", l->handle ? l->handle : "-", l->uuid, l->action,
           l->conflict ? "conflict: changed since the job (left unless --force)" : "");
    return 0;
}

/* job revert ID [--dry-run] [--force] [--json] [--name TEXT] [--wait] */
static int do_revert(cli *c, int argc, char **argv, int64_t id)
{
    int dry = 0, force = 0, json = 0, wait = 0;
    const char *name = NULL;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--dry-run"))
            dry = 1;
        else if (!strcmp(argv[i], "--force"))
            force = 1;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--wait"))
            wait = 1;
        else if (!strcmp(argv[i], "--name") && i + 1 < argc)
            name = argv[++i];
        else
            return cli_usage("job revert", "unexpected argument '%s'", argv[i]);
    }
    if (dry && wait) return cli_usage("job revert", "a dry run is not queued: no --wait");
    br_repo *repo;
    int rc = cli_open(c, &repo);
    if (rc) return rc;
    br_error err;
    if (dry) {
        revert_out o = {json ? json_array() : NULL, 0};
        int64_t total = 0, conflicts = 0;
        if (br_revert_preview(repo, id, print_revert, &o, &total, &conflicts, &err)) {
            json_decref(o.arr);
            rc = cli_fail(&err);
        } else if (json) {
            json_t *r = json_pack("{s:o,s:I,s:I}", "records", o.arr, "total", (json_int_t)total,
                                  "conflicts", (json_int_t)conflicts);
            rc = cli_print_json(json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER));
            json_decref(r);
        } else {
            fprintf(stderr,
                    "dry run of reverting job %lld: %lld records, %lld changed since the job "
                    "(left as they are unless --force); nothing was written\n",
                    (long long)id, (long long)total, (long long)conflicts);
        }
    } else {
        char params[96];
        snprintf(params, sizeof params, "{\"job\":%lld,\"force\":%s}", (long long)id,
                 force ? "true" : "false");
        rc = queue_job(c, repo, "revert", name, params, wait, json);
    }
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
    if (!strcmp(sub, "types")) return do_types(argc, argv);
    if (!strcmp(sub, "run")) return do_run(c, argc, argv);
    int is_show = !strcmp(sub, "show"), is_events = !strcmp(sub, "events");
    int is_action = !strcmp(sub, "cancel") || !strcmp(sub, "resume") || !strcmp(sub, "rerun");
    if (!is_show && !is_events && !is_action && strcmp(sub, "unimported") &&
        strcmp(sub, "resolve") && strcmp(sub, "revert"))
        return cli_usage("job", "unknown subcommand '%s'", sub);
    int64_t id;
    if (argc < 3 || parse_id(argv[2], &id)) return cli_usage("job", "%s needs a job ID", sub);
    if (!strcmp(sub, "unimported")) return do_unimported(c, argc, argv, id);
    if (!strcmp(sub, "resolve")) return do_resolve(c, argc, argv, id);
    if (!strcmp(sub, "revert")) return do_revert(c, argc, argv, id);
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
