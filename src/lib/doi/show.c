/* br_doi_show (doi.h): the DataCite XML an asset would be registered with, nothing written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "doi/doi_internal.h"

typedef struct unit_ctx {
    br_repo *repo;
    char name[256];
} unit_ctx;

static const char *unit_name(void *ctx, const char *code)
{
    unit_ctx *u = ctx;
    br_doi_unit_name(u->repo, code, u->name, sizeof u->name);
    return u->name[0] ? u->name : NULL;
}

static int first_active(void *ctx, const br_doi_profile *p)
{
    br_doi_profile *out = ctx;
    if (out->name[0]) return 1;
    *out = *p;
    return 1;
}

int br_doi_show(br_repo *repo, const char *handle, const char *profile, char **xml, char *doi,
                br_error *err)
{
    *xml = NULL;
    if (doi) doi[0] = 0;
    br_record *rec = br_record_new();
    if (!rec) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int64_t id;
    char d[256] = "";
    int rc = br_item_find(repo, handle, &id, err);
    if (!rc) rc = br_item_load(repo, id, rec, err);
    static const char *const mine[] = {"doi-findable", "doi-registered", "doi-reserved"};
    for (size_t k = 0; !rc && !d[0] && k < BR_ARRAY_LEN(mine); k++)
        for (size_t i = 0; i < rec->n_ids; i++)
            if (!strcmp(rec->ids[i].type, mine[k])) {
                br_strlcpy(d, rec->ids[i].value, sizeof d);
                break;
            }
    if (!rc && !d[0]) {
        br_doi_profile p;
        memset(&p, 0, sizeof p);
        if (profile && *profile)
            rc = br_doi_profile_get(repo, profile, &p, err);
        else if (!(rc = br_doi_profile_list(repo, 1, first_active, &p, err)) && !p.name[0])
            rc = br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                              "%s has no DOI and no DOI profile is active to give it one", handle);
        char label[64];
        if (!rc) br_doi_label_for(&p, br_record_first(rec, "dc.type"), label, sizeof label);
        if (!rc) rc = br_doi_next(repo, &p, label, 0, d, sizeof d, err);
    }
    unit_ctx u = {repo, ""};
    br_dc_input in = {rec, d, unit_name, &u};
    size_t len = 0;
    if (!rc) rc = br_dc_xml(&in, xml, &len, err);
    if (!rc) {
        br_error e;
        int v = br_doi_validate(*xml, len, NULL, &e);
        if (v && v != BR_ENOTFOUND) {
            if (err) *err = e;
            rc = v;
        }
    }
    if (rc) {
        free(*xml);
        *xml = NULL;
    }
    if (doi) br_strlcpy(doi, d, 256);
    br_record_free(rec);
    return rc;
}
