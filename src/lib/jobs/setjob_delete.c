/* Delete Set of Research Assets (seed 001) with its three guards.  Deleted assets go to the
 * trash (restorable for keep_days).  DOI states are identifier types: "doi-reserved" (a
 * draft DOI the repository reserved: deletable unless guarded), "doi-registered" and
 * "doi-findable" (registered with the agency: never deleted); a "doi" identifier is a DOI
 * the record carries from elsewhere (its publisher's) and guards nothing. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/core.h"
#include "jobs/setjob.h"

typedef struct guards {
    int related, with_file, reserved_doi, keep_days;
} guards;

static int prepare(br_repo *repo, json_t *p, void **state, br_error *err)
{
    guards *g = calloc(1, sizeof *g);
    if (!g) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    g->related = br_sj_param_bool(p, "delete-set", "skip_related");
    g->with_file = br_sj_param_bool(p, "delete-set", "skip_with_file");
    g->reserved_doi = br_sj_param_bool(p, "delete-set", "skip_reserved_doi");
    char buf[32];
    const char *days = br_sj_param(p, "delete-set", "keep_days", buf, sizeof buf);
    g->keep_days = days ? atoi(days) : 30;
    *state = g;
    /* The trash's expired assets go first (their files then to br_asset_gc). */
    return br_trash_purge(repo, (int64_t)time(NULL), NULL, err);
}

static int has_id(const br_record *r, const char *type)
{
    for (size_t i = 0; i < r->n_ids; i++)
        if (!strcmp(r->ids[i].type, type)) return 1;
    return 0;
}

static int plan(sj_item *it, br_error *err)
{
    const guards *g = it->state;
    const br_record *r = it->before;
    if (has_id(r, "doi-registered") || has_id(r, "doi-findable"))
        it->skip = "it has a registered DOI (an asset with a registered DOI is never deleted)";
    else if (g->reserved_doi && has_id(r, "doi-reserved"))
        it->skip = "it includes a reserved DOI";
    else if (g->with_file && r->n_bs)
        it->skip = "it includes a file";
    else if (g->related && r->n_rels)
        it->skip = "it is related to other assets";
    return 0;
}

static int apply(sj_item *it, br_error *err)
{
    const guards *g = it->state;
    return br_sj_trash_item(it->repo, it->before, it->job_id, g->keep_days, err);
}

const sj_driver br_sj_delete = {"delete-set", BR_OUTCOME_DELETED, prepare, free, plan, apply};
