/* Import profiles (profile.h): drop folders and profiles that pull from an S/FTP server. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bulkrepo/format.h"
#include "bulkrepo/profile.h"
#include "jobs/cron.h"
#include "net/remote.h"
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

void br_profile_pattern(const br_profile *p, char *out, size_t size)
{
    if (p->pattern[0]) {
        br_strlcpy(out, p->pattern, size);
        return;
    }
    /* "*.zip" from the format's first extension (".zip, .ZIP" -> ".zip"). */
    const br_format_info *f = br_format_info_find(p->format);
    const char *ext = f && f->extensions ? f->extensions : "";
    size_t n = strcspn(ext, ", ");
    snprintf(out, size, "*%.*s", (int)n, ext);
}

/* The pulling fields of p: BR_EUSAGE / BR_ENOTFOUND naming what is wrong. */
static int check_pull(br_repo *repo, const br_profile *p, br_error *err)
{
    if (!p->ftp[0]) {
        const char *set = p->remote_dir[0]    ? "a remote folder"
                          : p->pattern[0]     ? "a file pattern"
                          : p->after_fetch[0] ? "what to do after fetching"
                          : p->schedule[0]    ? "a schedule"
                                              : NULL;
        if (set)
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "profile '%s' has %s but no S/FTP configuration (--ftp)", p->name,
                                set);
        return 0;
    }
    br_dbst *st = br_stmt(repo, S_PROFILE_FTP_EXISTS, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, p->ftp);
    int rc = br_step(repo, st);
    br_db_reset(st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                            "no S/FTP configuration '%s' (bulkrepo ftp list)", p->ftp);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "S/FTP configuration read");
    if ((rc = br_remote_path_check(p->remote_dir, err))) {
        char m[sizeof err->message];
        br_strlcpy(m, err ? err->message : "", sizeof m);
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "remote folder '%s': %s", p->remote_dir, m);
    }
    for (const unsigned char *c = (const unsigned char *)p->pattern; *c; c++)
        if (*c < 0x20 || *c == 0x7f || *c == '/')
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "file pattern '%s': a pattern matches one file name: no '/' or "
                                "control characters",
                                p->pattern);
    const char *a = p->after_fetch;
    if (*a && strcmp(a, "leave") && strcmp(a, "delete")) {
        if (strncmp(a, "move:", 5) || !a[5])
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "after fetching: '%s' is not leave, delete or move:DIR", a);
        if ((rc = br_remote_path_check(a + 5, err))) {
            char m[sizeof err->message];
            br_strlcpy(m, err ? err->message : "", sizeof m);
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "after fetching, move to '%s': %s",
                                a + 5, m);
        }
    }
    if (p->schedule[0]) {
        br_cron c;
        if ((rc = br_cron_parse(p->schedule, &c, err))) return rc;
        int64_t next;
        if (br_cron_next(&c, (int64_t)time(NULL), &next))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "schedule '%s' never comes due (no such day)", p->schedule);
    }
    return 0;
}

int br_profile_add(br_repo *repo, const br_profile *given, br_error *err)
{
    br_profile prof = *given, *p = &prof;
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
    if ((rc = check_pull(repo, p, err))) return rc;
    char path[PATH_MAX];
    if (!p->inbox[0] && p->ftp[0]) {
        /* A pulling profile's own folder for what it fetches. */
        int n = snprintf(p->inbox, sizeof p->inbox, "%s/profiles/%s", br_repo_dir(repo), p->name);
        if (n < 0 || (size_t)n >= sizeof p->inbox)
            return br_error_set(err, BR_ELIMIT, NULL, 0, 0, "path too long");
        if ((rc = br_mkdir_p(p->inbox, err))) return rc;
    }
    if (p->inbox[0] != '/')
        return br_error_set(err, BR_EUSAGE, p->inbox, 0, 0, "the inbox must be an absolute path");
    if (!br_is_dir(p->inbox))
        return br_error_set(err, BR_EUSAGE, p->inbox, 0, 0, "the inbox folder does not exist");
    static const char *const sub[] = {"processing", "done", "failed"};
    for (size_t i = 0; i < BR_ARRAY_LEN(sub); i++) {
        if (br_path_join(path, sizeof path, p->inbox, sub[i]))
            return br_error_set(err, BR_ELIMIT, p->inbox, 0, 0, "path too long");
        if ((rc = br_mkdir_p(path, err))) return rc;
    }
    p->next_run = 0;
    if (p->schedule[0]) {
        br_cron c;
        if (!br_cron_parse(p->schedule, &c, NULL))
            br_cron_next(&c, (int64_t)time(NULL), &p->next_run);
    }
    br_dbst *st = br_stmt(repo, S_PROFILE_ADD, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    br_bind_text(st, 1, p->name);
    br_bind_text(st, 2, p->format);
    br_bind_text(st, 3, p->collection);
    br_bind_text(st, 4, p->inbox);
    br_bind_text(st, 5, p->eperson[0] ? p->eperson : NULL);
    br_bind_text(st, 6, now);
    br_bind_text(st, 7, p->ftp[0] ? p->ftp : NULL);
    br_bind_text(st, 8, p->ftp[0] ? p->remote_dir : NULL);
    br_bind_text(st, 9, p->pattern[0] ? p->pattern : NULL);
    br_bind_text(st, 10, p->after_fetch[0] ? p->after_fetch : NULL);
    br_bind_text(st, 11, p->schedule[0] ? p->schedule : NULL);
    if (p->next_run)
        br_db_bind_int64(st, 12, p->next_run);
    else
        br_db_bind_null(st, 12);
    rc = br_step_guarded(repo, st);
    if (br_db_is_constraint(rc))
        return br_error_set(err, BR_EEXISTS, NULL, 0, 0,
                            "a profile named '%s' or with the inbox %s exists already", p->name,
                            p->inbox);
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "profile add");
}

static void fill(br_dbst *st, br_profile *p)
{
    memset(p, 0, sizeof *p);
    const char *c[11];
    for (int i = 0; i < 11; i++)
        c[i] = br_col_text(st, i);
    br_strlcpy(p->name, c[0] ? c[0] : "", sizeof p->name);
    br_strlcpy(p->format, c[1] ? c[1] : "", sizeof p->format);
    br_strlcpy(p->collection, c[2] ? c[2] : "", sizeof p->collection);
    br_strlcpy(p->inbox, c[3] ? c[3] : "", sizeof p->inbox);
    br_strlcpy(p->eperson, c[4] ? c[4] : "", sizeof p->eperson);
    br_strlcpy(p->created, c[5] ? c[5] : "", sizeof p->created);
    br_strlcpy(p->ftp, c[6] ? c[6] : "", sizeof p->ftp);
    br_strlcpy(p->remote_dir, c[7] ? c[7] : "", sizeof p->remote_dir);
    br_strlcpy(p->pattern, c[8] ? c[8] : "", sizeof p->pattern);
    br_strlcpy(p->after_fetch, c[9] ? c[9] : "", sizeof p->after_fetch);
    br_strlcpy(p->schedule, c[10] ? c[10] : "", sizeof p->schedule);
    p->next_run = br_db_col_int64(st, 11);
}

int br_profile_get(br_repo *repo, const char *name, br_profile *out, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_PROFILE_GET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        fill(st, out);
        br_db_reset(st);
        return 0;
    }
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no profile '%s'", name);
    return br_store_fail(repo, err, "profile read");
}

int br_profile_list(br_repo *repo, br_profile_fn fn, void *ctx, br_error *err)
{
    br_dbst *st = br_stmt(repo, S_PROFILE_LIST, err);
    if (!st) return BR_ESTORE;
    /* Profiles are few: read them all first, so fn may use the connection. */
    br_profile *all = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        if (br_grow((void **)&all, &cap, n + 1, sizeof *all)) {
            br_db_reset(st);
            free(all);
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
        fill(st, &all[n++]);
    }
    if (rc != BR_DB_DONE) {
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
    br_dbst *st = br_stmt(repo, S_PROFILE_DEL, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    if (br_step(repo, st) != BR_DB_DONE) return br_store_fail(repo, err, "profile remove");
    return br_db_changes(repo->db)
               ? 0
               : br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no profile '%s'", name);
}

int br_profile_history(br_repo *repo, const char *name, size_t limit, size_t offset, br_job_fn fn,
                       void *ctx, int64_t *total, br_error *err)
{
    br_profile p;
    int rc = br_profile_get(repo, name, &p, err);
    if (rc) return rc;
    br_dbst *st = br_stmt(repo, S_PROFILE_HISTORY_COUNT, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    if (br_step(repo, st) != BR_DB_ROW) return br_store_fail(repo, err, "profile history");
    if (total) *total = br_db_col_int64(st, 0);
    br_db_reset(st);
    if (!(st = br_stmt(repo, S_PROFILE_HISTORY, err))) return BR_ESTORE;
    br_bind_text(st, 1, name);
    br_db_bind_int64(st, 2, limit ? (int64_t)limit : -1);
    br_db_bind_int64(st, 3, (int64_t)offset);
    /* Ids first, so that fn may use the connection. */
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        if (br_grow((void **)&ids, &cap, n + 1, sizeof *ids)) {
            br_db_reset(st);
            free(ids);
            return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
        }
        ids[n++] = br_db_col_int64(st, 0);
    }
    br_db_reset(st);
    if (rc != BR_DB_DONE) {
        free(ids);
        return br_store_fail(repo, err, "profile history");
    }
    rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        br_job j;
        if ((rc = br_job_get(repo, ids[i], &j, err))) break;
        if (fn(ctx, &j)) break;
    }
    free(ids);
    return rc;
}
