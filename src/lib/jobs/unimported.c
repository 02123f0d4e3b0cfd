/* Download unimported records (seed 004): a job's rejected records in the
 * input's own format, ready to fix and import again, at most 5,000 a page.
 * The format's driver writes them (br_format.extract); this file finds the
 * job's input and the rejected records with every finding. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "bulkrepo/format.h"
#include "core/core.h"
#include "engine_internal.h"
#include "formats/format.h"
#include "jobs/pipeline.h"

/* The rejected records of a job, copied out of the journal (one page's worth
 * is handed to the driver; the keys of all are counted). */
typedef struct rejected {
    br_rejected *recs;
    size_t n, cap;
    size_t from, to; /* the page kept with its findings */
    size_t seen;
    int oom;
} rejected;

static int is_rejected(const char *outcome)
{
    return !strcmp(outcome, BR_OUTCOME_INVALID) || !strcmp(outcome, BR_OUTCOME_FAILED) ||
           !strcmp(outcome, BR_OUTCOME_MULTI_MATCH);
}

static int keep(rejected *l, const br_job_record *r)
{
    if (br_grow((void **)&l->recs, &l->cap, l->n + 1, sizeof *l->recs)) return BR_ENOMEM;
    br_rejected *d = &l->recs[l->n];
    memset(d, 0, sizeof *d);
    l->n++;
    d->key = strdup(r->key);
    d->message = strdup(r->message ? r->message : r->outcome);
    if (!d->key || !d->message) return BR_ENOMEM;
    if (!r->n_findings) return 0;
    br_finding *f = calloc(r->n_findings, sizeof *f);
    if (!f) return BR_ENOMEM;
    d->findings = f;
    for (size_t i = 0; i < r->n_findings; i++) {
        f[i].line = r->findings[i].line;
        if (!(f[i].text = strdup(r->findings[i].text))) return BR_ENOMEM;
        d->n_findings = i + 1;
    }
    return 0;
}

static int collect(void *ctx, const br_job_record *r)
{
    rejected *l = ctx;
    if (!is_rejected(r->outcome)) return 0;
    size_t i = l->seen++;
    if (i < l->from || i >= l->to) return 0; /* another page: counted only */
    if (keep(l, r)) {
        l->oom = 1;
        return 1;
    }
    return 0;
}

static void rejected_dispose(rejected *l)
{
    for (size_t i = 0; i < l->n; i++) {
        br_rejected *r = &l->recs[i];
        free((char *)r->key);
        free((char *)r->message);
        for (size_t k = 0; k < r->n_findings; k++)
            free((char *)r->findings[k].text);
        free((br_finding *)r->findings);
    }
    free(l->recs);
}

static int first_path(void *ctx, const br_job_file *f)
{
    br_strlcpy(ctx, f->path, PATH_MAX);
    return 1;
}

/* The archive caps a job's input is extracted under: the defaults, or the job's own
 * where the operator raised them (a record rejected for its metadata must download
 * even when its file is larger than a default cap; one rejected for a lowered cap too). */
static void job_caps(br_limits *lim, const br_limits *job)
{
    br_limits_default(lim);
    if (job->max_file_size > lim->max_file_size) lim->max_file_size = job->max_file_size;
    if (job->max_archive_size > lim->max_archive_size)
        lim->max_archive_size = job->max_archive_size;
    if (job->max_entries > lim->max_entries) lim->max_entries = job->max_entries;
    if (job->max_ratio > lim->max_ratio) lim->max_ratio = job->max_ratio;
}

/* The job's input as its reader took it (the uploaded file, or the source in its
 * parameters) and the caps to read it under (job_caps). */
static int job_source(br_repo *repo, const br_job *job, char *out, size_t size, br_limits *lim,
                      br_error *err)
{
    int rc = br_job_files(repo, job->id, first_path, out, err);
    if (rc) return rc;
    json_error_t jerr;
    json_t *p = json_loads(job->params[0] ? job->params : "{}", 0, &jerr);
    if (!p)
        return br_error_set(err, BR_EINVAL, "params", 0, 0, "the job's parameters are not JSON");
    br_import_params ip;
    rc = br_import_params_from_json(job->type, p, &ip, err);
    if (!rc) job_caps(lim, &ip.opt.limits);
    if (!rc && !out[0] && !ip.opt.source)
        rc = br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "job %lld names no input",
                          (long long)job->id);
    if (!rc && !out[0]) br_strlcpy(out, ip.opt.source, size);
    json_decref(p);
    return rc;
}

int br_job_unimported(br_repo *repo, int64_t id, const br_unimported_options *opt,
                      const char *out_path, br_unimported_result *res, br_error *err)
{
    br_unimported_result local;
    if (!res) res = &local;
    memset(res, 0, sizeof *res);
    size_t page = opt && opt->page ? opt->page : 1;
    size_t size = opt && opt->page_size && opt->page_size < BR_UNIMPORTED_PAGE_MAX
                      ? opt->page_size
                      : BR_UNIMPORTED_PAGE_MAX;
    br_job job;
    int rc = br_job_get(repo, id, &job, err);
    if (rc) return rc;
    const br_format *fmt = br_format_of_job(job.type);
    if (!br_engine_type_has_records(job.type) || !fmt || !fmt->extract)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "job %lld (%s) has no input records to download", (long long)id,
                            job.type);
    br_strlcpy(res->format, fmt->info.extract_ext, sizeof res->format);
    rejected l = {0};
    l.from = (page - 1) * size;
    l.to = l.from + size;
    char source[PATH_MAX] = "", scratch[PATH_MAX] = "";
    if ((rc = br_job_records(repo, id, NULL, collect, &l, err))) goto done;
    if (l.oom) {
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    res->total = l.seen;
    res->pages = (l.seen + size - 1) / size;
    if (!l.seen) {
        rc = br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "job %lld has no unimported records",
                          (long long)id);
        goto done;
    }
    if (page > res->pages) {
        rc = br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                          "job %lld has %zu page%s of unimported records", (long long)id,
                          res->pages, res->pages == 1 ? "" : "s");
        goto done;
    }
    br_limits lim;
    if ((rc = job_source(repo, &job, source, sizeof source, &lim, err))) goto done;
    if ((rc = br_repo_mktemp(repo, "unimported", scratch, sizeof scratch, err))) goto done;
    br_extract_options xo = {source, scratch, &lim, l.recs, l.n, out_path};
    if (!(rc = fmt->extract(&xo, err))) res->records = l.n;
done:
    if (scratch[0]) br_rmtree(scratch);
    rejected_dispose(&l);
    return rc;
}
