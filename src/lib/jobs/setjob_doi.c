/* Register DOI for Research Assets (seed 001): "This job can be run on assets with or without
 * reserved DOIs.  If there is a reserved DOI, it is registered; if not, the job provides a DOI
 * and registers it.  At least one DOI profile must be active for this job to work."
 *
 * Parameters (data/job_params.tsv): profile (which active profile; default: the first active
 * one by name for new DOIs, the one whose prefix a reserved DOI has otherwise) and publish
 * (findable rather than registered; default: the profile's setting).
 *
 * Per member: a findable DOI, or a registered one when not publishing, is skipped (nothing to
 * do); an asset carrying a DOI from elsewhere (its publisher's "doi") and none of ours is
 * skipped; otherwise the DataCite XML is made (an asset lacking a mandatory property fails with
 * the properties named, before any DOI is taken), validated against the kernel-4 XSD when it is
 * installed, and sent to the profile's registrar.  On success the identifier moves
 * doi-reserved -> doi-registered (or doi-findable), a new DOI is added so, dc.identifier.doi
 * gets it, and the journal line says what the agency answered.  On failure the line says why.
 *
 * The agency is asked in the framework's fetch step, outside any transaction (no write lock
 * held while it answers); a new DOI is first written to the asset as doi-reserved in its own
 * short transaction, so a request that timed out (and may have reached the agency), a failure
 * or a crash leaves it there and the next run registers that one: never two DOIs for one
 * asset.  apply writes the outcome in the batch's transaction.
 *
 * Undo: registration cannot be taken back at DataCite (a registered DOI is never deleted or
 * changed), so this job writes no undo rows: a revert of it is refused ("nothing to revert"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "doi/doi_internal.h"
#include "jobs/setjob.h"

#define TYPE "register-doi"

typedef struct reg {
    const br_doi_registrar *r;
    void *state;
    int opened;
} reg;

/* What fetch did for one member, for apply to write (or to report). */
typedef struct slot {
    char uuid[40];
    int rc; /* 0 registered, else the failure's code */
    char doi[256];
    const char *type; /* the identifier type it now has: doi-registered or doi-findable */
    char msg[1300];   /* the journal message */
} slot;

typedef struct doi_job {
    br_repo *repo;
    br_doi_profile *prof; /* the active profiles, name order */
    reg *regs;            /* one per profile, opened on first use */
    size_t n;
    int named;            /* index of the profile parameter's profile, -1 none */
    int publish;          /* -1: each profile's own setting */
    br_dc_schema *schema; /* NULL: the XSD is not installed */
    br_doi_http_opts http;
    char note[1400];
    char unit[256];
    struct slot *slots; /* fetch's outcome per member of the batch */
    size_t n_slots, cap_slots;
    int planned; /* plan ran since the last fetch */
} doi_job;

static int collect(void *ctx, const br_doi_profile *p)
{
    doi_job *j = ctx;
    br_doi_profile *v = realloc(j->prof, (j->n + 1) * sizeof *v);
    if (!v) return 1;
    j->prof = v;
    j->prof[j->n++] = *p;
    return 0;
}

static void release(void *state)
{
    doi_job *j = state;
    if (!j) return;
    for (size_t i = 0; j->regs && i < j->n; i++)
        if (j->regs[i].opened) j->regs[i].r->close(j->regs[i].state);
    free(j->regs);
    free(j->prof);
    free(j->slots);
    br_dc_schema_free(j->schema);
    free(j);
}

static long env_ms(const char *name)
{
    const char *s = getenv(name);
    return s && *s ? atol(s) : 0;
}

static int prepare(br_repo *repo, json_t *params, void **state, br_error *err)
{
    doi_job *j = calloc(1, sizeof *j);
    if (!j) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    j->repo = repo;
    j->named = -1;
    int rc = br_doi_profile_list(repo, 1, collect, j, err);
    char buf[128];
    const char *name = br_sj_param(params, TYPE, "profile", buf, sizeof buf);
    if (!rc && !j->n)
        rc = br_error_set(err, BR_EUSAGE, "profile", 0, 0,
                          "register-doi needs at least one active DOI profile: add one with "
                          "`bulkrepo doi profile add` or turn one on with `bulkrepo doi profile "
                          "enable NAME`");
    if (!rc && name && *name) {
        for (size_t i = 0; i < j->n; i++)
            if (!strcmp(j->prof[i].name, name)) j->named = (int)i;
        br_doi_profile p;
        br_error e;
        if (j->named < 0) {
            int g = br_doi_profile_get(repo, name, &p, &e);
            rc = g == BR_ENOTFOUND
                     ? br_error_set(err, BR_EUSAGE, "profile", 0, 0, "no DOI profile '%s'", name)
                 : g ? (err ? (*err = e, g) : g)
                     : br_error_set(err, BR_EUSAGE, "profile", 0, 0,
                                    "DOI profile '%s' is not active (bulkrepo doi "
                                    "profile enable %s)",
                                    name, name);
        }
    }
    j->publish =
        json_object_get(params, "publish") ? br_sj_param_bool(params, TYPE, "publish") : -1;
    if (!rc && !(j->regs = calloc(j->n, sizeof *j->regs)))
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    for (size_t i = 0; !rc && i < j->n; i++)
        if (!(j->regs[i].r = br_doi_registrar_for(j->prof[i].agency)))
            rc = br_error_set(err, BR_EUSAGE, "profile", 0, 0, "DOI profile '%s': agency '%s'",
                              j->prof[i].name, j->prof[i].agency);
    if (!rc) {
        br_error e;
        int s = br_dc_schema_load(NULL, &j->schema, &e);
        if (s && s != BR_ENOTFOUND) rc = err ? (*err = e, s) : s;
    }
    j->http.timeout_ms = env_ms("BULKREPO_DATACITE_TIMEOUT_MS");
    j->http.backoff_ms = env_ms("BULKREPO_DATACITE_BACKOFF_MS");
    if (rc) {
        release(j);
        return rc;
    }
    *state = j;
    return 0;
}

/* The first identifier of a type, NULL none. */
static const br_identifier *id_of(const br_record *r, const char *type)
{
    for (size_t i = 0; i < r->n_ids; i++)
        if (!strcmp(r->ids[i].type, type)) return &r->ids[i];
    return NULL;
}

static int publishing(const doi_job *j, const br_doi_profile *p)
{
    return j->publish >= 0 ? j->publish : p->publish;
}

/* The DOI of ours the asset has (any state), NULL none. */
static const br_identifier *ours(const br_record *r)
{
    const br_identifier *x = id_of(r, BR_DOI_FINDABLE);
    if (!x) x = id_of(r, BR_DOI_REGISTERED);
    if (!x) x = id_of(r, BR_DOI_RESERVED);
    return x;
}

/* The profile for this asset: its DOI's prefix must be the profile's. */
static int pick(doi_job *j, const char *doi, br_error *err)
{
    if (!doi) return j->named >= 0 ? j->named : 0;
    size_t n = strcspn(doi, "/");
    if (j->named >= 0) {
        const char *pre = j->prof[j->named].prefix;
        if (strlen(pre) == n && !strncmp(pre, doi, n)) return j->named;
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "DOI %s does not have the prefix of profile '%s' (%s)", doi,
                            j->prof[j->named].name, pre);
    }
    for (size_t i = 0; i < j->n; i++)
        if (strlen(j->prof[i].prefix) == n && !strncmp(j->prof[i].prefix, doi, n)) return (int)i;
    return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                        "DOI %s has the prefix of no active DOI profile", doi);
}

/* Why the member is left as it is (into buf), NULL when it is to be registered. */
static const char *skip_reason(doi_job *j, const br_record *r, char *buf, size_t size)
{
    const br_identifier *x = ours(r);
    int pub = j->publish > 0, k = pick(j, x ? x->value : NULL, NULL);
    if (j->publish < 0 && k >= 0) pub = j->prof[k].publish;
    if (x && !strcmp(x->type, BR_DOI_FINDABLE)) {
        snprintf(buf, size, "DOI %s is findable already", x->value);
        return buf;
    }
    if (x && !strcmp(x->type, BR_DOI_REGISTERED) && !pub) {
        snprintf(buf, size, "DOI %s is registered already (publish=true makes it findable)",
                 x->value);
        return buf;
    }
    for (size_t i = 0; !x && i < r->n_ids; i++)
        if (!strcmp(r->ids[i].type, "doi")) {
            snprintf(buf, size, "it has a DOI from elsewhere (%s): it gets no second one",
                     r->ids[i].value);
            return buf;
        }
    return NULL;
}

static int plan(sj_item *it, br_error *err)
{
    doi_job *j = it->state;
    j->planned = 1; /* the batch's fetches are done: the next fetch starts a new batch */
    it->skip = skip_reason(j, it->before, it->skip_buf, sizeof it->skip_buf);
    return 0;
}

static const char *unit_name(void *ctx, const char *code)
{
    doi_job *j = ctx;
    br_doi_unit_name(j->repo, code, j->unit, sizeof j->unit);
    return j->unit[0] ? j->unit : NULL;
}

static int open_reg(doi_job *j, int k, br_error *err)
{
    reg *g = &j->regs[k];
    if (g->opened) return 0;
    char sealed[4400], password[1100];
    int rc = br_doi_profile_secret(j->repo, j->prof[k].name, sealed, sizeof sealed, err);
    if (!rc) rc = br_doi_unseal(br_repo_dir(j->repo), sealed, password, sizeof password, err);
    if (!rc) rc = g->r->open(j->repo, &j->prof[k], password, &j->http, &g->state, err);
    memset(password, 0, sizeof password);
    if (!rc) g->opened = 1;
    return rc;
}

/* The landing page: the profile's pattern with {handle} / {uuid}. */
static void landing(const br_doi_profile *p, const br_record *r, char *out, size_t size)
{
    const char *pat = p->landing[0] ? p->landing : BR_DOI_LANDING_DEFAULT;
    size_t k = 0;
    out[0] = 0;
    for (const char *s = pat; *s && k + 1 < size;) {
        const char *v = NULL;
        if (!strncmp(s, "{handle}", 8))
            v = r->handle, s += 8;
        else if (!strncmp(s, "{uuid}", 6))
            v = r->uuid, s += 6;
        if (v) {
            k += br_strlcpy(out + k, v, size - k);
            if (k >= size) k = size - 1;
        } else {
            out[k++] = *s++;
            out[k] = 0;
        }
    }
}

/* Keeps a DOI taken for the asset as reserved, so that the next run registers that one. */
static slot *slot_for(doi_job *j, const char *uuid, int create)
{
    for (size_t i = 0; i < j->n_slots; i++)
        if (!strcmp(j->slots[i].uuid, uuid)) {
            if (create) memset(&j->slots[i], 0, sizeof j->slots[i]);
            if (create) br_strlcpy(j->slots[i].uuid, uuid, sizeof j->slots[i].uuid);
            return &j->slots[i];
        }
    if (!create) return NULL;
    if (br_grow((void **)&j->slots, &j->cap_slots, j->n_slots + 1, sizeof *j->slots)) return NULL;
    slot *s = &j->slots[j->n_slots++];
    memset(s, 0, sizeof *s);
    br_strlcpy(s->uuid, uuid, sizeof s->uuid);
    return s;
}

/* A new DOI goes on the asset as doi-reserved in its own short transaction before anything is
 * sent: a request that times out may have reached the agency, and a resumed or later run then
 * registers this DOI (PUT) instead of taking another. */
static int reserve(sj_item *it, const br_doi_profile *p, char *doi, size_t size, br_error *err)
{
    char label[64];
    br_doi_label_for(p, br_record_first(it->before, "dc.type"), label, sizeof label);
    int rc = br_repo_begin(it->repo, err);
    if (rc) return rc;
    rc = br_doi_next(it->repo, p, label, 1, doi, size, err);
    if (!rc && !br_record_add_identifier(it->before, BR_DOI_RESERVED, doi))
        rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_item_write w = {0};
    if (!rc) rc = br_item_update(it->repo, it->before, &w, err);
    if (!rc) rc = br_repo_commit(it->repo, err);
    if (rc) br_repo_rollback(it->repo);
    return rc;
}

/* Outside the batch's transaction (no write lock held while the agency answers): the XML, its
 * validation and the registration, into the member's slot.  Only a store failure stops the
 * job; anything about the asset or the agency is the member's journal line. */
static int fetch(sj_item *it, br_error *err)
{
    doi_job *j = it->state;
    br_record *r = it->before;
    char why[256];
    if (j->planned) { /* a new batch: the last one's outcomes are written */
        j->n_slots = 0;
        j->planned = 0;
    }
    if (!r->uuid || skip_reason(j, r, why, sizeof why)) return 0; /* plan says so again */
    slot *sl = slot_for(j, r->uuid, 1);
    if (!sl) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    const br_identifier *had = ours(r);
    br_error e;
    memset(&e, 0, sizeof e);
    int k = pick(j, had ? had->value : NULL, &e), rc = 0;
    if (k < 0) {
        sl->rc = k;
        br_strlcpy(sl->msg, e.message, sizeof sl->msg);
        return 0;
    }
    const br_doi_profile *p = &j->prof[k];
    int pub = publishing(j, p);
    /* Mandatory properties first: no DOI is taken for an asset that cannot be registered. */
    br_dc_input in = {r, had ? had->value : "10.0/x", unit_name, j};
    char missing[256];
    if (br_dc_missing(&in, missing, sizeof missing)) {
        sl->rc = BR_EINVAL;
        snprintf(sl->msg, sizeof sl->msg,
                 "not registered: missing mandatory DataCite properties: %s", missing);
        return 0;
    }
    int fresh = !had;
    if (had) {
        br_strlcpy(sl->doi, had->value, sizeof sl->doi);
    } else if ((rc = reserve(it, p, sl->doi, sizeof sl->doi, &e))) {
        if (rc == BR_ESTORE || rc == BR_ENOMEM) return err ? (*err = e, rc) : rc;
        sl->rc = rc;
        br_strlcpy(sl->msg, e.message, sizeof sl->msg);
        return 0;
    }
    in.doi = sl->doi;
    char *xml = NULL, url[600];
    size_t len = 0;
    br_doi_answer a;
    memset(&a, 0, sizeof a);
    rc = br_dc_xml(&in, &xml, &len, &e);
    if (!rc && j->schema) rc = br_dc_schema_validate(j->schema, xml, len, &e);
    if (!rc) rc = open_reg(j, k, &e);
    landing(p, r, url, sizeof url);
    if (!rc) {
        br_doi_request rq = {sl->doi, r->handle, url, xml, len, !fresh, pub};
        rc = j->regs[k].r->submit(j->regs[k].state, &rq, &a, &e);
    }
    free(xml);
    if (rc == BR_ENOMEM) return err ? (*err = e, rc) : rc;
    sl->rc = rc;
    if (rc)
        snprintf(sl->msg, sizeof sl->msg, "%.1000s%s%s%s", a.message[0] ? a.message : e.message,
                 fresh ? "; " : "", fresh ? sl->doi : "",
                 fresh ? " is kept reserved for the next run" : "");
    else
        snprintf(sl->msg, sizeof sl->msg, "%.1000s%s", a.message,
                 j->schema ? "" : " (not checked against the XSD: not installed)");
    sl->type = pub ? BR_DOI_FINDABLE : BR_DOI_REGISTERED;
    return 0;
}

/* Inside the batch's transaction: what fetch got, written to the asset as it is now. */
static int apply(sj_item *it, br_error *err)
{
    doi_job *j = it->state;
    br_record *r = it->before;
    slot *sl = r->uuid ? slot_for(j, r->uuid, 0) : NULL;
    if (!sl)
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "not registered: the asset changed while the job ran (run it again)");
    if (sl->rc) /* the asset's failure, not the job's: the agency's answer, a timeout too */
        return br_error_set(err, sl->rc == BR_EIO ? BR_EINVAL : sl->rc, NULL, 0, 0, "%s", sl->msg);
    int found = 0;
    for (size_t i = 0; i < r->n_ids; i++)
        if (!strcasecmp(r->ids[i].value, sl->doi) && !strncmp(r->ids[i].type, "doi-", 4)) {
            r->ids[i].type = sl->type;
            found = 1;
        }
    if (!found && !br_record_add_identifier(r, sl->type, sl->doi))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    int listed = 0;
    for (size_t i = 0; i < r->n_md; i++) {
        const br_mdv *v = &r->md[i];
        if (!strcmp(v->schema, "dc") && !strcmp(v->element, "identifier") && v->qualifier &&
            !strcmp(v->qualifier, "doi") && v->value && !strcasecmp(v->value, sl->doi))
            listed = 1;
    }
    if (!listed && !br_record_add_md(r, "dc", "identifier", "doi", NULL, sl->doi))
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    br_item_write w = {0};
    int rc = br_item_update(it->repo, r, &w, err);
    if (rc) return rc;
    br_strlcpy(j->note, sl->msg, sizeof j->note);
    it->note = j->note;
    return 0;
}

const sj_driver br_sj_doi = {
    .type = TYPE,
    .outcome = BR_OUTCOME_UPDATED,
    .prepare = prepare,
    .release = release,
    .plan = plan,
    .apply = apply,
};

/* Batches of 20: the registrations of a batch are made before its transaction, and a crash
 * repeats at most that many requests (each an update at the agency: the DOI is reserved
 * first). */
const sj_extra br_sj_doi_extra = {&br_sj_doi, fetch, 20, NULL};
