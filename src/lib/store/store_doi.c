/* DOI profiles and their counters (doi.h, doi/doi_internal.h).
 *
 * Profiles are few (read whole); the password is sealed (doi/seal.c) before it reaches the
 * database and only br_doi_profile_secret reads it back, sealed.  A new DOI is the profile's
 * counter formatted by its pattern, checked against the DOIs of every state (identifier_by_doi)
 * and moved past any that is taken (a DOI imported from elsewhere, say). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "doi/doi_internal.h"
#include "store_internal.h"

static int name_ok(const char *s)
{
    if (!*s || strlen(s) >= 64 || *s == '.') return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    return 1;
}

static void fill(br_dbst *st, br_doi_profile *p)
{
    memset(p, 0, sizeof *p);
    const char *c;
#define TEXT(i, dst)                                                                               \
    c = br_col_text(st, i);                                                                        \
    br_strlcpy(dst, c ? c : "", sizeof dst)
    TEXT(0, p->name);
    TEXT(1, p->prefix);
    TEXT(2, p->pattern);
    TEXT(3, p->labels);
    TEXT(4, p->default_label);
    p->start = br_db_col_int64(st, 5);
    TEXT(6, p->agency);
    p->active = br_db_col_int(st, 7);
    p->publish = br_db_col_int(st, 8);
    TEXT(9, p->api_url);
    TEXT(10, p->repository_id);
    p->has_password = br_db_col_int(st, 11);
    TEXT(12, p->landing);
    TEXT(13, p->created);
#undef TEXT
}

typedef struct all_ctx {
    br_doi_profile *v;
    size_t n, cap;
} all_ctx;

/* Every profile (active_only: the active ones) into a malloc'd array. */
static int read_all(br_repo *repo, int active_only, all_ctx *a, br_error *err)
{
    memset(a, 0, sizeof *a);
    br_dbst *st = br_stmt(repo, S_DOI_PROFILE_LIST, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, active_only);
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        if (br_grow((void **)&a->v, &a->cap, a->n + 1, sizeof *a->v)) {
            br_db_reset(st);
            free(a->v);
            a->v = NULL;
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
        fill(st, &a->v[a->n++]);
    }
    if (rc != BR_DB_DONE) {
        free(a->v);
        a->v = NULL;
        return br_store_fail(repo, err, "DOI profile list");
    }
    return 0;
}

/* Two profiles of one prefix must start their suffixes with literal texts neither of which
 * begins the other: then no suffix of one can be a suffix of the other. */
static int collides(const br_doi_profile *a, const br_doi_profile *b, br_error *err)
{
    if (strcmp(a->prefix, b->prefix)) return 0;
    char la[128], lb[128];
    if (br_doi_pattern_literal_start(a->pattern, la, sizeof la) ||
        br_doi_pattern_literal_start(b->pattern, lb, sizeof lb))
        return 0;
    size_t n = strlen(la) < strlen(lb) ? strlen(la) : strlen(lb);
    if (n && strncmp(la, lb, n)) return 0;
    return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                        "profile '%s' (%s/%s) can give the same DOI as profile '%s' (%s/%s): "
                        "profiles of one prefix need patterns that start with different literal "
                        "text, neither the start of the other (e.g. \"data-{n:06}\" and "
                        "\"art-{n:06}\")",
                        a->name, a->prefix, a->pattern, b->name, b->prefix, b->pattern);
}

static int url_ok(const char *u)
{
    return !strncmp(u, "https://", 8) || !strncmp(u, "http://", 7);
}

int br_doi_profile_add(br_repo *repo, const br_doi_profile *p, const char *password, br_error *err)
{
    if (!name_ok(p->name))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "DOI profile name '%s': use 1 to 63 letters, digits, '-', '_' or '.'",
                            p->name);
    int rc;
    if ((rc = br_doi_prefix_check(p->prefix, err)) ||
        (rc = br_doi_pattern_check(p->pattern, p->labels, p->default_label, err)))
        return rc;
    if (p->start < 0)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the start number must be 0 or more");
    int datacite = !strcmp(p->agency, "datacite");
    if (!datacite && strcmp(p->agency, "local"))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "agency '%s': use datacite (DataCite's REST API) or local (the "
                            "embedded registrar: XML and a log under the repository)",
                            p->agency);
    if (p->api_url[0] && !url_ok(p->api_url))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "the DataCite API URL must be http:// or https:// (default %s)",
                            BR_DOI_DATACITE_API);
    if (p->landing[0] && !url_ok(p->landing))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "the landing page pattern must be an http:// or https:// URL with "
                            "{handle} or {uuid} (default %s)",
                            BR_DOI_LANDING_DEFAULT);
    if (datacite && (!p->repository_id[0] || !password || !*password))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "a datacite profile needs the DataCite repository id and its "
                            "password (basic auth of the REST API)");
    all_ctx a;
    if ((rc = read_all(repo, 0, &a, err))) return rc;
    for (size_t i = 0; i < a.n && !rc; i++)
        if (!strcmp(a.v[i].name, p->name))
            rc = br_error_set(err, BR_EEXISTS, NULL, 0, 0, "a DOI profile named '%s' exists",
                              p->name);
        else
            rc = collides(p, &a.v[i], err);
    free(a.v);
    if (rc) return rc;
    char sealed[4400] = "";
    if (password && *password &&
        (rc = br_doi_seal(br_repo_dir(repo), password, sealed, sizeof sealed, err)))
        return rc;
    br_dbst *st = br_stmt(repo, S_DOI_PROFILE_ADD, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    br_bind_text(st, 1, p->name);
    br_bind_text(st, 2, p->prefix);
    br_bind_text(st, 3, p->pattern);
    br_bind_text(st, 4, p->labels);
    br_bind_text(st, 5, p->default_label[0] ? p->default_label : "asset");
    br_db_bind_int64(st, 6, p->start);
    br_bind_text(st, 7, p->agency);
    br_db_bind_int64(st, 8, p->active ? 1 : 0);
    br_db_bind_int64(st, 9, p->publish ? 1 : 0);
    br_bind_text(st, 10, p->api_url[0] ? p->api_url : NULL);
    br_bind_text(st, 11, p->repository_id[0] ? p->repository_id : NULL);
    br_bind_text(st, 12, sealed[0] ? sealed : NULL);
    br_bind_text(st, 13, p->landing[0] ? p->landing : NULL);
    br_bind_text(st, 14, now);
    rc = br_step_guarded(repo, st);
    if (br_db_is_constraint(rc))
        return br_error_set(err, BR_EEXISTS, NULL, 0, 0, "a DOI profile named '%s' exists",
                            p->name);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "DOI profile add");
}

int br_doi_profile_get(br_repo *repo, const char *name, br_doi_profile *out, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_DOI_PROFILE_GET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        fill(st, out);
        br_db_reset(st);
        return 0;
    }
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no DOI profile '%s'", name ? name : "");
    return br_store_fail(repo, err, "DOI profile read");
}

int br_doi_profile_list(br_repo *repo, int active_only, br_doi_profile_fn fn, void *ctx,
                        br_error *err)
{
    all_ctx a;
    int rc = read_all(repo, active_only, &a, err);
    for (size_t i = 0; !rc && i < a.n; i++)
        if (fn && fn(ctx, &a.v[i])) break;
    free(a.v);
    return rc;
}

int br_doi_profile_set_active(br_repo *repo, const char *name, int active, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_DOI_PROFILE_ACTIVE, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    br_db_bind_int64(st, 2, active ? 1 : 0);
    if (br_step(repo, st) != BR_DB_DONE) return br_store_fail(repo, err, "DOI profile update");
    if (br_db_changes(repo->db) == 0)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no DOI profile '%s'", name ? name : "");
    return 0;
}

int br_doi_profile_secret(br_repo *repo, const char *name, char *out, size_t size, br_error *err)
{
    out[0] = 0;
    br_dbst *st = br_stmt(repo, S_DOI_PROFILE_SECRET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        const char *s = br_col_text(st, 0);
        size_t n = br_strlcpy(out, s ? s : "", size);
        br_db_reset(st);
        return n < size ? 0 : br_error_set(err, BR_ELIMIT, NULL, 0, 0, "sealed secret too long");
    }
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no DOI profile '%s'", name);
    return br_store_fail(repo, err, "DOI profile read");
}

int br_doi_taken(br_repo *repo, const char *doi, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_DOI_TAKEN, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, doi);
    int rc = br_step(repo, st);
    br_db_reset(st);
    if (rc == BR_DB_ROW) return 1;
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "DOI lookup");
}

enum { MAX_SKIP = 10000 };

int br_doi_next(br_repo *repo, const br_doi_profile *p, const char *label, int take, char *doi,
                size_t size, br_error *err)
{
    const char *key = br_doi_pattern_has_type(p->pattern) ? label : "";
    br_dbst *st = br_stmt(repo, S_DOI_COUNTER_GET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, p->name);
    br_bind_text(st, 2, key);
    int64_t n = p->start;
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) n = br_db_col_int64(st, 0);
    br_db_reset(st);
    if (rc != BR_DB_ROW && rc != BR_DB_DONE) return br_store_fail(repo, err, "DOI counter");
    char suffix[128];
    for (int i = 0;; i++, n++) {
        if (i == MAX_SKIP)
            return br_error_set(err, BR_ELIMIT, NULL, 0, 0,
                                "profile '%s': %d DOIs in a row after its counter are taken "
                                "already",
                                p->name, MAX_SKIP);
        if (br_doi_suffix_format(p->pattern, label, n, suffix, sizeof suffix) ||
            (size_t)snprintf(doi, size, "%s/%s", p->prefix, suffix) >= size)
            return br_error_set(err, BR_ELIMIT, NULL, 0, 0, "profile '%s': the DOI is too long",
                                p->name);
        if ((rc = br_doi_taken(repo, doi, err)) < 0) return rc;
        if (!rc) break;
    }
    if (!take) return 0;
    if (!(st = br_stmt(repo, S_DOI_COUNTER_PUT, err))) return BR_ESTORE;
    br_bind_text(st, 1, p->name);
    br_bind_text(st, 2, key);
    br_db_bind_int64(st, 3, n + 1);
    return br_step(repo, st) == BR_DB_DONE ? 0 : br_store_fail(repo, err, "DOI counter");
}

int br_doi_unit_name(br_repo *repo, const char *code, char *out, size_t size)
{
    out[0] = 0;
    br_dbst *st = br_stmt(repo, S_DOI_UNIT_NAME, NULL);
    if (!st || !code) return 0;
    br_bind_text(st, 1, code);
    if (br_step(repo, st) == BR_DB_ROW) {
        const char *s = br_col_text(st, 0);
        br_strlcpy(out, s ? s : "", size);
    }
    br_db_reset(st);
    return 0;
}
