/* Job records and their journal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "bulkrepo/job.h"
#include "store_internal.h"

static const struct {
    const char *code, *label;
} STATUS[BR_JOB_STATUS_COUNT] = {
    /* Seed 004: the statuses staff see in Monitor and View Imports. */
    [BR_JOB_PENDING] = {"PENDING", "Pending"},
    [BR_JOB_INITIALIZING] = {"INITIALIZING", "Initializing"},
    [BR_JOB_RUNNING] = {"RUNNING", "Running"},
    [BR_JOB_FINALIZING] = {"FINALIZING", "Finalizing"},
    [BR_JOB_COMPLETED_SUCCESS] = {"COMPLETED_SUCCESS", "Completed Successfully"},
    [BR_JOB_COMPLETED_WITH_ERRORS] = {"COMPLETED_WITH_ERRORS", "Completed with Errors"},
    [BR_JOB_COMPLETED_NO_BULKS] = {"COMPLETED_NO_BULKS", "Completed with No Bulks"},
    [BR_JOB_MANUAL_HANDLING_REQUIRED] = {"MANUAL_HANDLING_REQUIRED", "Manual Handling Required"},
    [BR_JOB_FAILED] = {"FAILED", "Failed"},
    [BR_JOB_USER_ABORTED] = {"USER_ABORTED", "Aborted by User"},
};

const char *br_job_status_code(br_job_status s)
{
    return (unsigned)s < BR_JOB_STATUS_COUNT ? STATUS[s].code : "UNKNOWN";
}

const char *br_job_status_label(br_job_status s)
{
    return (unsigned)s < BR_JOB_STATUS_COUNT ? STATUS[s].label : "Unknown";
}

int br_job_status_parse(const char *code, br_job_status *out)
{
    for (int i = 0; i < BR_JOB_STATUS_COUNT; i++)
        if (code && !strcmp(code, STATUS[i].code)) {
            *out = (br_job_status)i;
            return 0;
        }
    return BR_EINVAL;
}

int br_job_status_ended(br_job_status s)
{
    return s >= BR_JOB_COMPLETED_SUCCESS && s != BR_JOB_MANUAL_HANDLING_REQUIRED;
}

int br_job_create(br_repo *repo, br_job *spec, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_INSERT, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    /* The mapfile is kept in its own column so a resume can find its job. */
    const char *mapfile = NULL;
    json_error_t jerr;
    json_t *params = json_loads(spec->params[0] ? spec->params : "{}", 0, &jerr);
    if (params && json_is_string(json_object_get(params, "mapfile")))
        mapfile = json_string_value(json_object_get(params, "mapfile"));
    br_bind_text(st, 1, spec->type);
    br_bind_text(st, 2, spec->category[0] ? spec->category : "import");
    br_bind_text(st, 3, spec->name[0] ? spec->name : spec->type);
    br_bind_text(st, 4, spec->eperson[0] ? spec->eperson : NULL);
    br_bind_text(st, 5, br_job_status_code(BR_JOB_RUNNING));
    br_bind_text(st, 6, now);
    br_bind_text(st, 7, spec->input);
    br_bind_text(st, 8, spec->params[0] ? spec->params : "{}");
    br_db_bind_int64(st, 9, spec->total);
    br_bind_text(st, 10, mapfile);
    int rc = br_step(repo, st);
    json_decref(params);
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "insert job");
    spec->id = br_db_last_id(repo->db);
    spec->status = BR_JOB_RUNNING;
    br_strlcpy(spec->submitted, now, sizeof spec->submitted);
    br_strlcpy(spec->started, now, sizeof spec->started);
    return 0;
}

int br_job_set_status(br_repo *repo, int64_t id, br_job_status status, const char *message,
                      br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_STATUS, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, br_job_status_code(status));
    br_bind_text(st, 3, message);
    br_db_bind_int64(st, 4, br_job_status_ended(status));
    br_bind_text(st, 5, now);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job status");
}

int br_job_set_total(br_repo *repo, int64_t id, int64_t total, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_TOTAL, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_db_bind_int64(st, 2, total);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job total");
}

/* An export's delivery step (job.delivery, issue 17): JSON text written whole. */
int br_job_set_delivery(br_repo *repo, int64_t id, const char *json, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_DELIVERY_SET, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, json);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job delivery");
}

int br_job_delivery(br_repo *repo, int64_t id, char **out, br_error *err)
{
    *out = NULL;
    br_dbst *st = br_stmt(repo, S_JOB_DELIVERY_GET, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE) {
        br_db_reset(st);
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no job %lld", (long long)id);
    }
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "job delivery");
    const char *v = br_col_text(st, 0);
    if (v && !(*out = strdup(v))) rc = BR_ENOMEM;
    br_db_reset(st);
    return rc == BR_ENOMEM ? br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory") : 0;
}

static int journal_write(br_repo *repo, int64_t job_id, const br_job_record *r, const char *message,
                         br_error *err);

/* A record's findings are kept in its journal line's message column, one per
 * line as "<line>\t<text>" (a text has no tab or line break: they become
 * spaces), so the journal stays one row per record.  A message written
 * without findings is kept as is; read back it is one finding of line 0. */
static int encode_findings(const br_job_record *r, br_buf *b)
{
    for (size_t i = 0; i < r->n_findings; i++) {
        const br_job_finding *f = &r->findings[i];
        if (br_buf_printf(b, "%s%u\t", i ? "\n" : "", f->line)) return BR_ENOMEM;
        size_t start = b->len;
        if (br_buf_puts(b, f->text ? f->text : "")) return BR_ENOMEM;
        for (size_t k = start; k < b->len; k++)
            if (b->p[k] == '\n' || b->p[k] == '\r' || b->p[k] == '\t') b->p[k] = ' ';
    }
    return 0;
}

/* The findings of a stored message, as views into buf (a copy of text). */
typedef struct findings_view {
    br_buf buf;
    br_job_finding *v;
    size_t n, cap;
} findings_view;

static int decode_findings(const char *text, findings_view *fv)
{
    fv->n = 0;
    br_buf_clear(&fv->buf);
    if (!text || !*text) return 0;
    if (br_buf_puts(&fv->buf, text)) return BR_ENOMEM;
    for (char *line = fv->buf.p; line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char *tab = strchr(line, '\t');
        unsigned n = 0;
        char *p = line;
        while (tab && p < tab && *p >= '0' && *p <= '9' && n < 100000000u)
            n = n * 10 + (unsigned)(*p++ - '0');
        int coded = tab && p == tab && tab > line;
        if (br_grow((void **)&fv->v, &fv->cap, fv->n + 1, sizeof *fv->v)) return BR_ENOMEM;
        fv->v[fv->n].line = coded ? n : 0;
        fv->v[fv->n].text = coded ? tab + 1 : line;
        fv->n++;
        if (!coded) break; /* a plain message (line breaks and all) is one finding */
        line = nl ? nl + 1 : NULL;
    }
    if (fv->n == 1 && !strchr(text, '\t')) fv->v[0].text = text; /* the whole plain message */
    return 0;
}

static void findings_view_dispose(findings_view *fv)
{
    br_buf_dispose(&fv->buf);
    free(fv->v);
}

/* A journal line a shared transaction keeps for its commit: its strings are offsets into
 * repo->deferred_text (NO_TEXT: NULL). */
#define NO_TEXT SIZE_MAX
struct br_deferred_line {
    int64_t job_id, seq, item_id, bitstreams, bytes;
    size_t key, outcome, handle, message;
};

static size_t keep_text(br_buf *b, const char *s, int *oom)
{
    if (!s) return NO_TEXT;
    size_t at = b->len;
    if (br_buf_append(b, s, strlen(s) + 1)) *oom = 1;
    return at;
}

static int journal_defer(br_repo *repo, int64_t job_id, const br_job_record *r, const char *message,
                         br_error *err)
{
    int oom = 0;
    if (br_grow((void **)&repo->deferred, &repo->cap_deferred, repo->n_deferred + 1,
                sizeof *repo->deferred))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    struct br_deferred_line *d = &repo->deferred[repo->n_deferred];
    br_buf *b = &repo->deferred_text;
    *d = (struct br_deferred_line){job_id,
                                   r->seq,
                                   r->item_id,
                                   r->bitstreams,
                                   r->bytes,
                                   keep_text(b, r->key, &oom),
                                   keep_text(b, r->outcome, &oom),
                                   keep_text(b, r->handle, &oom),
                                   keep_text(b, message, &oom)};
    if (oom) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    repo->n_deferred++;
    return 0;
}

static const char *text_at(const br_repo *repo, size_t at)
{
    return at == NO_TEXT ? NULL : repo->deferred_text.p + at;
}

int br_journal_flush(br_repo *repo, br_error *err)
{
    int rc = 0;
    for (size_t i = 0; i < repo->n_deferred && !rc; i++) {
        const struct br_deferred_line *d = &repo->deferred[i];
        br_job_record r = {0};
        r.seq = d->seq;
        r.key = text_at(repo, d->key);
        r.outcome = text_at(repo, d->outcome);
        r.item_id = d->item_id;
        r.handle = text_at(repo, d->handle);
        r.bitstreams = d->bitstreams;
        r.bytes = d->bytes;
        rc = journal_write(repo, d->job_id, &r, text_at(repo, d->message), err);
    }
    br_journal_forget(repo, 0);
    return rc;
}

void br_journal_forget(br_repo *repo, int dispose)
{
    repo->n_deferred = 0;
    br_buf_clear(&repo->deferred_text);
    if (!dispose) return;
    free(repo->deferred);
    repo->deferred = NULL;
    repo->cap_deferred = 0;
    br_buf_dispose(&repo->deferred_text);
}

int br_job_journal(br_repo *repo, int64_t job_id, const br_job_record *r, br_error *err)
{
    br_buf msg = {0};
    if (r->n_findings && encode_findings(r, &msg)) {
        br_buf_dispose(&msg);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    const char *text = msg.len ? msg.p : r->message;
    int rc = repo->shared_tx ? journal_defer(repo, job_id, r, text, err)
                             : journal_write(repo, job_id, r, text, err);
    br_buf_dispose(&msg);
    return rc;
}

static int journal_write(br_repo *repo, int64_t job_id, const br_job_record *r, const char *message,
                         br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_REC_UPSERT, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    br_bind_text(st, 2, r->key);
    br_db_bind_int64(st, 3, r->seq);
    br_bind_text(st, 4, r->outcome);
    if (r->item_id)
        br_db_bind_int64(st, 5, r->item_id);
    else
        br_db_bind_null(st, 5);
    br_bind_text(st, 6, r->handle);
    br_bind_text(st, 7, message);
    br_db_bind_int64(st, 8, r->bitstreams);
    br_db_bind_int64(st, 9, r->bytes);
    return br_step_ahead(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "journal write");
}

static void copy_col(char *dst, size_t size, br_dbst *st, int i)
{
    const char *s = br_col_text(st, i);
    br_strlcpy(dst, s ? s : "", size);
}

int br_job_get(br_repo *repo, int64_t id, br_job *out, br_error *err)
{
    memset(out, 0, sizeof *out);
    br_dbst *st = br_stmt(repo, S_JOB_GET, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no job %lld", (long long)id);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "job read");
    out->id = br_db_col_int64(st, 0);
    copy_col(out->type, sizeof out->type, st, 1);
    copy_col(out->category, sizeof out->category, st, 2);
    copy_col(out->name, sizeof out->name, st, 3);
    copy_col(out->eperson, sizeof out->eperson, st, 4);
    if (br_job_status_parse(br_col_text(st, 5), &out->status)) out->status = BR_JOB_FAILED;
    copy_col(out->submitted, sizeof out->submitted, st, 6);
    copy_col(out->started, sizeof out->started, st, 7);
    copy_col(out->ended, sizeof out->ended, st, 8);
    copy_col(out->input, sizeof out->input, st, 9);
    copy_col(out->params, sizeof out->params, st, 10);
    copy_col(out->message, sizeof out->message, st, 11);
    out->total = br_db_col_int64(st, 12);
    br_job_progress *p = &out->progress;
    p->percent = br_db_col_int(st, 13);
    p->done = br_db_col_int64(st, 14);
    p->total = br_db_col_int64(st, 15);
    p->rate = br_db_col_double(st, 16);
    p->eta_seconds = br_db_col_int64(st, 17);
    copy_col(p->phase, sizeof p->phase, st, 18);
    out->cancel_requested = br_db_col_int(st, 19);
    copy_col(out->failure, sizeof out->failure, st, 20);
    out->rerun_of = br_db_col_int64(st, 21);
    out->resume = br_db_col_int(st, 22);
    copy_col(out->profile, sizeof out->profile, st, 23);
    out->attempt = br_db_col_int64(st, 24);
    out->parent_job = br_db_col_int64(st, 25);
    br_db_reset(st); /* called from a list callback, br_stmt would leave it on its row */

    if (!(st = br_stmt(repo, S_JOB_COUNTERS, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_job_counters *c = &out->counters;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        const char *o = br_col_text(st, 0);
        int64_t n = br_db_col_int64(st, 1);
        c->processed += n;
        c->bitstreams += br_db_col_int64(st, 2);
        c->bytes += br_db_col_int64(st, 3);
        if (!strcmp(o, BR_OUTCOME_IMPORTED))
            c->imported += n;
        else if (!strcmp(o, BR_OUTCOME_UPDATED))
            c->updated += n;
        else if (!strcmp(o, BR_OUTCOME_DELETED))
            c->deleted += n;
        else if (!strcmp(o, BR_OUTCOME_INVALID))
            c->invalid += n;
        else if (!strcmp(o, BR_OUTCOME_FAILED))
            c->failed += n;
        else if (!strcmp(o, BR_OUTCOME_SKIPPED))
            c->skipped += n;
        else if (!strcmp(o, BR_OUTCOME_VALID))
            c->valid += n;
        else if (!strcmp(o, BR_OUTCOME_MULTI_MATCH) || !strcmp(o, BR_OUTCOME_RESOLVED))
            c->multi_matches += n;
        else if (!strcmp(o, BR_OUTCOME_MATCH_SKIPPED))
            c->skipped += n, c->matched += n;
        else if (!strcmp(o, BR_OUTCOME_NEWER))
            c->newer += n, c->matched += n;
        else if (!strcmp(o, BR_OUTCOME_EXPORTED))
            c->exported += n;
        if (!strcmp(o, BR_OUTCOME_IMPORTED) || !strcmp(o, BR_OUTCOME_UPDATED))
            c->bitstreams_imported += br_db_col_int64(st, 2);
    }
    c->matched += c->updated + c->multi_matches;
    c->newly_added = c->imported;
    c->not_imported = c->invalid + c->failed + c->multi_matches;
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job counters");
}

/* Steps st (bound) collecting ids, then calls fn for each job: ids first, so
 * that the callback may use the connection. */
static int each_job(br_repo *repo, br_dbst *st, br_job_fn fn, void *ctx, br_error *err)
{
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        if (br_grow((void **)&ids, &cap, n + 1, sizeof *ids)) {
            free(ids);
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
        ids[n++] = br_db_col_int64(st, 0);
    }
    if (rc != BR_DB_DONE) {
        free(ids);
        return br_store_fail(repo, err, "job list");
    }
    rc = 0;
    br_job job;
    for (size_t i = 0; i < n && !rc; i++) {
        if ((rc = br_job_get(repo, ids[i], &job, err))) break;
        if (BR_YIELD(repo, fn(ctx, &job))) break;
    }
    free(ids);
    return rc;
}

int br_job_list(br_repo *repo, br_job_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_LIST, err);
    return st ? each_job(repo, st, fn, ctx, err) : BR_ESTORE;
}

/* "2024-05-01", or with a time "2024-05-01T10:00", "...T10:00:00", "...Z": the
 * forms that compare correctly with the job's ISO 8601 UTC times as text. */
static int iso_since(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t n = strlen(s);
    if (n && s[n - 1] == 'Z') n--;
    if (n != 10 && n != 16 && n != 19) return 0;
    for (size_t i = 0; i < n; i++)
        if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i]) return 0;
    int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

int br_job_query(br_repo *repo, const br_job_filter *f, br_job_fn fn, void *ctx, br_error *err)
{
    br_job_filter none = {0};
    if (!f) f = &none;
    if (f->status && strcmp(f->status, "running") && strcmp(f->status, "ended")) {
        br_job_status s;
        if (br_job_status_parse(f->status, &s))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "unknown job status '%s' (a status code such as COMPLETED_SUCCESS, "
                                "or running, ended)",
                                f->status);
    }
    if (f->since && *f->since && !iso_since(f->since))
        return br_error_set(
            err, BR_EUSAGE, NULL, 0, 0,
            "since '%s' is not an ISO 8601 date (2024-05-01 or 2024-05-01T10:00:00Z)", f->since);
    br_dbst *st = br_stmt(repo, S_JOB_QUERY, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, f->status && *f->status ? f->status : NULL);
    br_bind_text(st, 2, f->category && *f->category ? f->category : NULL);
    br_bind_text(st, 3, f->user && *f->user ? f->user : NULL);
    br_bind_text(st, 4, f->since && *f->since ? f->since : NULL);
    br_bind_text(st, 5, f->type && *f->type ? f->type : NULL);
    br_db_bind_int64(st, 6, f->limit ? (int64_t)f->limit : -1);
    br_db_bind_int64(st, 7, (int64_t)f->offset);
    return each_job(repo, st, fn, ctx, err);
}

/* Journal lines are read in pages by seq: PostgreSQL's backend holds a statement's whole result
 * in memory (db.h), and a job of a million records made the end of an import (its mapfile)
 * hold a million lines, 200 MB. */
#define JOB_RECS_PAGE 2048

int br_job_records(br_repo *repo, int64_t id, const char *outcome, br_job_record_fn fn, void *ctx,
                   br_error *err)
{
    int rc = 0;
    int64_t after = INT64_MIN;
    findings_view fv = {0};
    for (int64_t n = JOB_RECS_PAGE; n == JOB_RECS_PAGE && !rc;) {
        br_dbst *st = br_stmt(repo, outcome ? S_JOB_RECS_OUTCOME : S_JOB_RECS, err);
        if (!st) {
            rc = BR_ESTORE;
            break;
        }
        br_db_bind_int64(st, 1, id);
        if (outcome) br_bind_text(st, 2, outcome);
        br_db_bind_int64(st, 3, after);
        br_db_bind_int64(st, 4, JOB_RECS_PAGE);
        n = 0;
        int step;
        while ((step = br_step(repo, st)) == BR_DB_ROW) {
            br_job_record r = {0};
            r.seq = br_db_col_int64(st, 0);
            r.key = br_col_text(st, 1);
            r.outcome = br_col_text(st, 2);
            r.item_id = br_db_col_int64(st, 3);
            r.handle = br_col_text(st, 4);
            r.bitstreams = br_db_col_int64(st, 6);
            r.bytes = br_db_col_int64(st, 7);
            after = r.seq;
            n++;
            if (decode_findings(br_col_text(st, 5), &fv)) {
                br_db_reset(st);
                rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
                break;
            }
            r.findings = fv.v;
            r.n_findings = fv.n;
            r.message = fv.n ? fv.v[0].text : NULL;
            if (BR_YIELD(repo, fn(ctx, &r))) {
                br_db_reset(st);
                findings_view_dispose(&fv);
                return 0;
            }
        }
        if (!rc && step != BR_DB_DONE) rc = br_store_fail(repo, err, "journal read");
    }
    findings_view_dispose(&fv);
    return rc;
}

int br_job_find_by_mapfile(br_repo *repo, const char *type, const char *mapfile, int64_t *id,
                           br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_BY_MAPFILE, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, type);
    br_bind_text(st, 2, mapfile);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        *id = br_db_col_int64(st, 0);
        return 0;
    }
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no job wrote %s", mapfile);
    return br_store_fail(repo, err, "job lookup");
}

/* ---- the queue ------------------------------------------------------------------------- */

static const char *param_mapfile(json_t *params)
{
    json_t *m = params ? json_object_get(params, "mapfile") : NULL;
    return json_is_string(m) ? json_string_value(m) : NULL;
}

int br_job_enqueue(br_repo *repo, br_job *spec, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_ENQUEUE, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    json_error_t jerr;
    json_t *params = json_loads(spec->params[0] ? spec->params : "{}", 0, &jerr);
    br_bind_text(st, 1, spec->type);
    br_bind_text(st, 2, spec->category[0] ? spec->category : "import");
    br_bind_text(st, 3, spec->name[0] ? spec->name : spec->type);
    br_bind_text(st, 4, spec->eperson[0] ? spec->eperson : NULL);
    br_bind_text(st, 5, now);
    br_bind_text(st, 6, spec->input[0] ? spec->input : NULL);
    br_bind_text(st, 7, spec->params[0] ? spec->params : "{}");
    br_db_bind_int64(st, 8, spec->total);
    br_bind_text(st, 9, param_mapfile(params));
    if (spec->rerun_of)
        br_db_bind_int64(st, 10, spec->rerun_of);
    else
        br_db_bind_null(st, 10);
    br_db_bind_int64(st, 11, spec->resume);
    br_bind_text(st, 12, spec->profile[0] ? spec->profile : NULL);
    if (spec->parent_job)
        br_db_bind_int64(st, 13, spec->parent_job);
    else
        br_db_bind_null(st, 13);
    int rc = br_step(repo, st);
    json_decref(params);
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "queue job");
    spec->id = br_db_last_id(repo->db);
    spec->status = BR_JOB_PENDING;
    br_strlcpy(spec->submitted, now, sizeof spec->submitted);
    spec->started[0] = spec->ended[0] = 0;
    return 0;
}

int br_job_claim(br_repo *repo, const char *const *types, size_t n_types, br_job *out,
                 br_error *err)
{
    return br_job_claim_as(repo, types, n_types, NULL, (int64_t)time(NULL), out, err);
}

int br_job_claim_as(br_repo *repo, const char *const *types, size_t n_types, const char *worker,
                    int64_t now_s, br_job *out, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_CLAIM, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    char *list = NULL;
    if (types) {
        json_t *a = json_array();
        for (size_t i = 0; i < n_types; i++)
            json_array_append_new(a, json_string(types[i]));
        list = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        if (!list) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    br_bind_text(st, 1, now);
    br_bind_text(st, 2, list);
    br_bind_text(st, 3, worker);
    br_db_bind_int64(st, 4, now_s);
    /* Autocommit: the UPDATE is its own write transaction, so the row moves out
     * of PENDING exactly once whatever the number of workers. */
    int64_t id = 0;
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW)
        id = br_db_col_int64(st, 0);
    free(list);
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "claim job");
    if (!id) return 0;
    return (rc = br_job_get(repo, id, out, err)) ? rc : 1;
}

int br_job_heartbeat(br_repo *repo, const char *worker, int64_t now, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_HEARTBEAT, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, worker);
    br_db_bind_int64(st, 2, now);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job heartbeat");
}

int br_job_list_stale(br_repo *repo, int64_t cutoff, br_job_stale_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_STALE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, cutoff);
    /* Collected first: fn writes (takes the job over), which must not run under the list. */
    int64_t ids[256];
    char workers[256][128];
    size_t n = 0;
    int rc;
    while (n < 256 && (rc = br_step(repo, st)) == BR_DB_ROW) {
        ids[n] = br_db_col_int64(st, 0);
        const char *w = br_col_text(st, 1);
        br_strlcpy(workers[n++], w ? w : "", sizeof workers[0]);
    }
    if (n == 256) rc = BR_DB_DONE; /* the rest on the next round */
    br_db_reset(st);
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "stale jobs");
    for (size_t i = 0; i < n; i++)
        if ((rc = fn(ctx, ids[i], workers[i][0] ? workers[i] : NULL))) return rc;
    return 0;
}

int br_job_take_over(br_repo *repo, int64_t id, const char *worker, int64_t now, int64_t cutoff,
                     const char *dead_worker, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_TAKE_OVER, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, worker);
    br_db_bind_int64(st, 3, now);
    br_db_bind_int64(st, 4, cutoff);
    br_bind_text(st, 5, dead_worker);
    if (br_step(repo, st) != BR_DB_DONE) return br_store_fail(repo, err, "take over job");
    return br_db_changes(repo->db) == 1;
}

int br_job_set_progress(br_repo *repo, int64_t id, const br_job_progress *p, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_PROGRESS, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_db_bind_int64(st, 2, p->percent < 0 ? 0 : p->percent > 100 ? 100 : p->percent);
    br_db_bind_int64(st, 3, p->done);
    br_db_bind_int64(st, 4, p->total);
    br_db_bind_double(st, 5, p->rate);
    br_db_bind_int64(st, 6, p->eta_seconds);
    br_bind_text(st, 7, p->phase[0] ? p->phase : NULL);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job progress");
}

static int exec_id_text(br_repo *repo, stmt_id sid, int64_t id, const char *text, br_error *err,
                        const char *what)
{
    br_dbst *st = br_stmt(repo, sid, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, text);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, what);
}

const char *br_job_failure_of(int rc)
{
    switch (rc) {
    case BR_EINVAL:
    case BR_EUSAGE:
    case BR_ENOTFOUND:
    case BR_EEXISTS:
    case BR_ELIMIT:
        return BR_FAILURE_DATA;
    case BR_EIO:
    case BR_ESTORE:
    case BR_ENOMEM:
        return BR_FAILURE_IO;
    default:
        return BR_FAILURE_INTERNAL;
    }
}

int br_job_fail(br_repo *repo, int64_t id, const char *message, const char *failure_class,
                br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_FAILURE, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, failure_class);
    br_bind_text(st, 3, message);
    br_bind_text(st, 4, now);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job failure");
}

int br_job_set_input(br_repo *repo, int64_t id, const char *input, br_error *err)
{
    return exec_id_text(repo, S_JOB_INPUT, id, input, err, "job input");
}

int br_job_requeue(br_repo *repo, int64_t id, int resume, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_REQUEUE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_db_bind_int64(st, 2, resume);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "requeue job");
}

static int request_cancel(br_repo *repo, int64_t id, br_job_status *status, br_error *err);

int br_job_request_cancel(br_repo *repo, int64_t id, br_job_status *status, br_error *err)
{
    /* Wait for the write lock only briefly: a running import holds it nearly
     * all the time, and the engine's flag file carries the request anyway. */
    br_db_set_wait(repo->db, 250);
    int rc = request_cancel(repo, id, status, err);
    br_db_set_wait(repo->db, BR_DB_WAIT_MS);
    return rc;
}

static int request_cancel(br_repo *repo, int64_t id, br_job_status *status, br_error *err)
{
    char now[32];
    br_now_iso(now);
    br_dbst *st = br_stmt(repo, S_JOB_CANCEL_PENDING, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    br_bind_text(st, 2, now);
    if (br_step(repo, st) != BR_DB_DONE) return br_store_fail(repo, err, "cancel job");
    if (!(st = br_stmt(repo, S_JOB_CANCEL_RUNNING, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    if (br_step(repo, st) != BR_DB_DONE) return br_store_fail(repo, err, "cancel job");
    if (!(st = br_stmt(repo, S_JOB_CANCEL_GET, err))) return BR_ESTORE;
    br_db_bind_int64(st, 1, id);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no job %lld", (long long)id);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "cancel job");
    if (status && br_job_status_parse(br_col_text(st, 1), status)) *status = BR_JOB_FAILED;
    br_db_reset(st);
    return 0;
}

int br_job_find_by_input(br_repo *repo, const char *input, int64_t *id, br_job_status *status,
                         br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_BY_INPUT, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, input);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE) return 0;
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "job by input");
    *id = br_db_col_int64(st, 0);
    if (br_job_status_parse(br_col_text(st, 1), status)) *status = BR_JOB_FAILED;
    br_db_reset(st);
    return 1;
}

int br_job_list_unfinished(br_repo *repo, br_job_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_UNFINISHED, err);
    return st ? each_job(repo, st, fn, ctx, err) : BR_ESTORE;
}

int br_job_journal_carry(br_repo *repo, int64_t from, int64_t to, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_CARRY, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, from);
    br_db_bind_int64(st, 2, to);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "journal carry");
}

int br_job_file_add(br_repo *repo, int64_t job_id, const br_job_file *f, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_FILE_ADD, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    br_bind_text(st, 2, f->name);
    br_bind_text(st, 3, f->path);
    br_db_bind_int64(st, 4, f->size);
    br_bind_text(st, 5, f->created);
    br_db_bind_int64(st, 6, f->records);
    br_bind_text(st, 7, f->status);
    br_bind_text(st, 8, f->problems);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job file");
}

int br_job_file_update(br_repo *repo, int64_t job_id, const char *name, int64_t records,
                       const char *status, const char *problems, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_FILE_UPDATE, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    br_bind_text(st, 2, name);
    br_db_bind_int64(st, 3, records);
    br_bind_text(st, 4, status);
    br_bind_text(st, 5, problems);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job file");
}

int br_job_files(br_repo *repo, int64_t job_id, br_job_file_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_FILES, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_job_file f = {br_col_text(st, 0), br_col_text(st, 1),     br_db_col_int64(st, 2),
                         br_col_text(st, 3), br_db_col_int64(st, 4), br_col_text(st, 5),
                         br_col_text(st, 6)};
        if (BR_YIELD(repo, fn(ctx, &f))) {
            br_db_reset(st);
            return 0;
        }
    }
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job files");
}

int br_job_event_add(br_repo *repo, br_job_event *ev, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_EVENT, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    br_db_bind_int64(st, 1, ev->job_id);
    br_bind_text(st, 2, now);
    br_bind_text(st, 3, ev->severity ? ev->severity : "info");
    br_bind_text(st, 4, ev->module ? ev->module : "engine");
    br_bind_text(st, 5, ev->description ? ev->description : "");
    br_bind_text(st, 6, ev->creator && *ev->creator ? ev->creator : "system");
    if (br_step(repo, st) != BR_DB_DONE) return br_store_fail(repo, err, "job event");
    ev->id = br_db_last_id(repo->db);
    return 0;
}

int br_job_events(br_repo *repo, int64_t job_id, br_job_event_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_EVENTS, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_job_event e = {br_db_col_int64(st, 0), br_db_col_int64(st, 1), br_col_text(st, 2),
                          br_col_text(st, 3),     br_col_text(st, 4),     br_col_text(st, 5),
                          br_col_text(st, 6),     br_col_text(st, 7)};
        if (BR_YIELD(repo, fn(ctx, &e))) {
            br_db_reset(st);
            return 0;
        }
    }
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job events");
}

/* ---- JSON --------------------------------------------------------------------------------- */

int br_job_record_find(br_repo *repo, int64_t job_id, const char *key, char *outcome,
                       size_t outcome_size, char *handle, size_t handle_size, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_JOB_REC_GET, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    br_bind_text(st, 2, key);
    int rc = br_step(repo, st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no journal line for %s", key);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "journal lookup");
    const char *h = br_col_text(st, 1);
    br_strlcpy(outcome, br_col_text(st, 0), outcome_size);
    br_strlcpy(handle, h ? h : "", handle_size);
    br_db_reset(st);
    return 0;
}

int br_job_item_ids(br_repo *repo, int64_t job_id, const char *status, int64_t *ids, size_t max,
                    size_t *n, br_error *err)
{
    *n = 0;
    br_dbst *st = br_stmt(repo, S_JOB_ITEMS_STATUS, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    br_bind_text(st, 2, status);
    br_db_bind_int64(st, 3, (int64_t)max);
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW)
        ids[(*n)++] = br_db_col_int64(st, 0);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "job items");
}

static int add_record_json(void *ctx, const br_job_record *r)
{
    json_t *a = ctx, *o = json_object();
    json_object_set_new(o, "seq", json_integer(r->seq));
    json_object_set_new(o, "key", json_string(r->key));
    json_object_set_new(o, "outcome", json_string(r->outcome));
    json_object_set_new(o, "handle", r->handle ? json_string(r->handle) : json_null());
    json_object_set_new(o, "message", r->message ? json_string(r->message) : json_null());
    json_t *errors = json_array();
    for (size_t i = 0; i < r->n_findings; i++) {
        json_t *f = json_object();
        json_object_set_new(f, "line",
                            r->findings[i].line ? json_integer(r->findings[i].line) : json_null());
        json_object_set_new(f, "text", json_string(r->findings[i].text));
        json_array_append_new(errors, f);
    }
    json_object_set_new(o, "findings", errors);
    json_object_set_new(o, "bitstreams", json_integer(r->bitstreams));
    json_object_set_new(o, "bytes", json_integer(r->bytes));
    json_array_append_new(a, o);
    return 0;
}

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static int add_file_json(void *ctx, const br_job_file *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "size", json_integer(f->size));
    json_object_set_new(o, "created", str_or_null(f->created));
    json_object_set_new(o, "records", f->records >= 0 ? json_integer(f->records) : json_null());
    json_object_set_new(o, "status", str_or_null(f->status));
    json_object_set_new(o, "problems", str_or_null(f->problems));
    json_array_append_new(ctx, o);
    return 0;
}

int br_job_to_json(br_repo *repo, int64_t id, int with_records, char **out, br_error *err)
{
    *out = NULL;
    br_job j;
    int rc = br_job_get(repo, id, &j, err);
    if (rc) return rc;
    json_t *o = json_object(), *status = json_object(), *c = json_object();
    json_object_set_new(o, "id", json_integer(j.id));
    json_object_set_new(o, "name", json_string(j.name));
    json_object_set_new(o, "type", json_string(j.type));
    json_object_set_new(o, "category", json_string(j.category));
    json_object_set_new(status, "code", json_string(br_job_status_code(j.status)));
    json_object_set_new(status, "label", json_string(br_job_status_label(j.status)));
    json_object_set_new(o, "status", status);
    json_object_set_new(o, "submitted_by", str_or_null(j.eperson));
    json_object_set_new(o, "submitted", str_or_null(j.submitted));
    json_object_set_new(o, "started", str_or_null(j.started));
    json_object_set_new(o, "ended", str_or_null(j.ended));
    json_object_set_new(o, "input", str_or_null(j.input));
    json_error_t jerr;
    json_t *params = json_loads(j.params[0] ? j.params : "{}", 0, &jerr);
    json_object_set_new(o, "parameters", params ? params : json_object());
    json_object_set_new(o, "message", str_or_null(j.message));
    json_object_set_new(o, "total", json_integer(j.total));
    const br_job_counters *k = &j.counters;
    json_object_set_new(c, "processed", json_integer(k->processed));
    json_object_set_new(c, "imported", json_integer(k->imported));
    json_object_set_new(c, "updated", json_integer(k->updated));
    json_object_set_new(c, "deleted", json_integer(k->deleted));
    json_object_set_new(c, "not_imported", json_integer(k->not_imported));
    json_object_set_new(c, "invalid", json_integer(k->invalid));
    json_object_set_new(c, "failed", json_integer(k->failed));
    json_object_set_new(c, "skipped", json_integer(k->skipped));
    json_object_set_new(c, "valid", json_integer(k->valid));
    json_object_set_new(c, "bitstreams", json_integer(k->bitstreams));
    json_object_set_new(c, "bytes", json_integer(k->bytes));
    json_object_set_new(c, "matched", json_integer(k->matched));
    json_object_set_new(c, "multi_matches", json_integer(k->multi_matches));
    json_object_set_new(c, "newer_in_repository", json_integer(k->newer));
    json_object_set_new(c, "newly_added", json_integer(k->newly_added));
    json_object_set_new(c, "bitstreams_imported", json_integer(k->bitstreams_imported));
    json_object_set_new(c, "exported", json_integer(k->exported));
    json_object_set_new(o, "counters", c);
    const br_job_progress *pg = &j.progress;
    json_t *p = json_object();
    json_object_set_new(p, "percent", json_integer(pg->percent));
    json_object_set_new(p, "done", json_integer(pg->done));
    json_object_set_new(p, "total", json_integer(pg->total));
    json_object_set_new(p, "rate", json_real(pg->rate));
    json_object_set_new(p, "eta_seconds",
                        pg->eta_seconds >= 0 ? json_integer(pg->eta_seconds) : json_null());
    json_object_set_new(p, "phase", str_or_null(pg->phase));
    json_object_set_new(o, "progress", p);
    json_object_set_new(o, "cancel_requested", json_boolean(j.cancel_requested));
    json_object_set_new(o, "failure", str_or_null(j.failure));
    json_object_set_new(o, "rerun_of", j.rerun_of ? json_integer(j.rerun_of) : json_null());
    json_object_set_new(o, "profile", str_or_null(j.profile));
    /* A pulling profile's fetch job and the load jobs it queued (profile.h). */
    json_object_set_new(o, "parent_job", j.parent_job ? json_integer(j.parent_job) : json_null());
    json_t *kids = json_array();
    br_dbst *ks = br_stmt(repo, S_JOB_CHILDREN, NULL);
    if (ks) {
        br_db_bind_int64(ks, 1, id);
        while (br_step(repo, ks) == BR_DB_ROW)
            json_array_append_new(kids, json_integer(br_db_col_int64(ks, 0)));
        br_db_reset(ks);
    }
    json_object_set_new(o, "children", kids);
    /* The delivery step of an export (jobs/deliver.c), null when none was asked for. */
    char *dl = NULL;
    json_t *dj = br_job_delivery(repo, id, &dl, NULL) || !dl ? NULL : json_loads(dl, 0, NULL);
    free(dl);
    json_object_set_new(o, "delivery", dj ? dj : json_null());
    json_t *files = json_array();
    json_object_set_new(o, "files", files);
    rc = br_job_files(repo, id, add_file_json, files, err);
    if (!rc && with_records) {
        json_t *a = json_array();
        rc = br_job_records(repo, id, NULL, add_record_json, a, err);
        json_object_set_new(o, "records", a);
    }
    if (!rc) {
        *out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!*out) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    json_decref(o);
    return rc;
}
