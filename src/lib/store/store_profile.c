/* Import profiles (profile.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/format.h"
#include "bulkrepo/profile.h"
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

int br_profile_add(br_repo *repo, const br_profile *p, br_error *err)
{
    if (!name_ok(p->name))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "profile name '%s': use 1 to 63 letters, digits, '-', '_' or '.'",
                            p->name);
    const br_format_info *f = br_format_info_find(p->format);
    if (!f || !(f->caps & BR_FORMAT_READ) || !f->import_job) {
        char names[256];
        br_format_names(BR_FORMAT_READ, names, sizeof names);
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "unknown format '%s' (%s)", p->format,
                            names);
    }
    int64_t cid;
    int rc = br_collection_resolve(repo, p->collection, &cid, err);
    if (rc) return rc;
    if (p->inbox[0] != '/')
        return br_error_set(err, BR_EUSAGE, p->inbox, 0, 0, "the inbox must be an absolute path");
    if (!br_is_dir(p->inbox))
        return br_error_set(err, BR_EUSAGE, p->inbox, 0, 0, "the inbox folder does not exist");
    static const char *const sub[] = {"processing", "done", "failed"};
    char path[PATH_MAX];
    for (size_t i = 0; i < BR_ARRAY_LEN(sub); i++) {
        if (br_path_join(path, sizeof path, p->inbox, sub[i]))
            return br_error_set(err, BR_ELIMIT, p->inbox, 0, 0, "path too long");
        if ((rc = br_mkdir_p(path, err))) return rc;
    }
    sqlite3_stmt *st = br_stmt(repo, S_PROFILE_ADD, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    br_bind_text(st, 1, p->name);
    br_bind_text(st, 2, p->format);
    br_bind_text(st, 3, p->collection);
    br_bind_text(st, 4, p->inbox);
    br_bind_text(st, 5, p->eperson[0] ? p->eperson : NULL);
    br_bind_text(st, 6, now);
    rc = br_step(repo, st);
    if (rc == SQLITE_CONSTRAINT || (rc & 0xff) == SQLITE_CONSTRAINT)
        return br_error_set(err, BR_EEXISTS, NULL, 0, 0,
                            "a profile named '%s' or with the inbox %s exists already", p->name,
                            p->inbox);
    return rc == SQLITE_DONE ? 0 : br_store_fail(repo, err, "profile add");
}

static void fill(sqlite3_stmt *st, br_profile *p)
{
    memset(p, 0, sizeof *p);
    const char *c[6];
    for (int i = 0; i < 6; i++)
        c[i] = br_col_text(st, i);
    br_strlcpy(p->name, c[0] ? c[0] : "", sizeof p->name);
    br_strlcpy(p->format, c[1] ? c[1] : "", sizeof p->format);
    br_strlcpy(p->collection, c[2] ? c[2] : "", sizeof p->collection);
    br_strlcpy(p->inbox, c[3] ? c[3] : "", sizeof p->inbox);
    br_strlcpy(p->eperson, c[4] ? c[4] : "", sizeof p->eperson);
    br_strlcpy(p->created, c[5] ? c[5] : "", sizeof p->created);
}

int br_profile_get(br_repo *repo, const char *name, br_profile *out, br_error *err)
{
    sqlite3_stmt *st = br_stmt(repo, S_PROFILE_GET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    int rc = br_step(repo, st);
    if (rc == SQLITE_ROW) {
        fill(st, out);
        sqlite3_reset(st);
        return 0;
    }
    if (rc == SQLITE_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no profile '%s'", name);
    return br_store_fail(repo, err, "profile read");
}

int br_profile_list(br_repo *repo, br_profile_fn fn, void *ctx, br_error *err)
{
    sqlite3_stmt *st = br_stmt(repo, S_PROFILE_LIST, err);
    if (!st) return BR_ESTORE;
    /* Profiles are few: read them all first, so fn may use the connection. */
    br_profile *all = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = br_step(repo, st)) == SQLITE_ROW) {
        if (br_grow((void **)&all, &cap, n + 1, sizeof *all)) {
            sqlite3_reset(st);
            free(all);
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
        fill(st, &all[n++]);
    }
    if (rc != SQLITE_DONE) {
        free(all);
        return br_store_fail(repo, err, "profile list");
    }
    for (size_t i = 0; i < n; i++)
        if (fn(ctx, &all[i])) break;
    free(all);
    return 0;
}

int br_profile_remove(br_repo *repo, const char *name, br_error *err)
{
    sqlite3_stmt *st = br_stmt(repo, S_PROFILE_DEL, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    if (br_step(repo, st) != SQLITE_DONE) return br_store_fail(repo, err, "profile remove");
    return sqlite3_changes(repo->db)
               ? 0
               : br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no profile '%s'", name);
}
