/* Sets (set.h): named lists of records a set job runs on (seed 001), itemized or a saved
 * search query.  Members are streamed in and out: adding a million members from a file or
 * a job's journal, or listing them, takes constant memory; each add is one transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/job.h"
#include "bulkrepo/search.h"
#include "bulkrepo/set.h"
#include "store_internal.h"

static const char *const CONTENT[] = {"assets", "researchers", "users"};

const char *br_set_content_name(br_set_content c)
{
    return (unsigned)c < BR_ARRAY_LEN(CONTENT) ? CONTENT[c] : "?";
}

int br_set_content_parse(const char *name, br_set_content *out)
{
    for (size_t i = 0; name && i < BR_ARRAY_LEN(CONTENT); i++)
        if (!strcmp(name, CONTENT[i])) {
            if (out) *out = (br_set_content)i;
            return 0;
        }
    return BR_EUSAGE;
}

/* ---- checks ------------------------------------------------------------------------------ */

/* 1 when s holds a C0 or C1 control character or DEL (s is valid UTF-8). */
static int has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)) return 1;
    return 0;
}

static int check_name(const char *name, br_error *err)
{
    size_t n = name ? strlen(name) : 0, bad;
    if (!n) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "a set needs a name");
    if (n > BR_SET_NAME_MAX)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "the set name has %zu bytes; at most %d are allowed", n,
                            BR_SET_NAME_MAX);
    if (br_utf8_check(name, n, &bad))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "the set name is not valid UTF-8 (byte %zu)", bad + 1);
    if (has_control(name))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the set name holds a control character");
    if (name[0] == ' ' || name[n - 1] == ' ')
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "the set name '%s' starts or ends with a space", name);
    return 0;
}

/* A text field of br_set: NUL-terminated inside its array and valid UTF-8. */
static int check_text(const char *s, size_t size, const char *what, br_error *err)
{
    size_t n = strnlen(s, size), bad;
    if (n == size)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "the set's %s is not terminated", what);
    if (br_utf8_check(s, n, &bad))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "the set's %s is not valid UTF-8 (byte %zu)", what, bad + 1);
    return 0;
}

/* The member as stored: an asset's UUID (key, 37 bytes), else member itself (key "").
 * 0; BR_ENOTFOUND / BR_EINVAL with err saying why; BR_ESTORE. */
static int member_resolve(br_repo *repo, br_set_content content, const char *member, char *key,
                          size_t size, br_error *err)
{
    key[0] = 0;
    size_t n = member ? strlen(member) : 0, bad;
    if (!n) return br_error_set(err, BR_EINVAL, NULL, 0, 0, "an empty member");
    if (n > BR_SET_LINE_MAX)
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "a member of %zu bytes (at most %d)", n,
                            BR_SET_LINE_MAX);
    if (br_utf8_check(member, n, &bad))
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "not valid UTF-8 (byte %zu)", bad + 1);
    br_dbst *st;
    int rc;
    switch (content) {
    case BR_SET_ASSETS: {
        int64_t id;
        if ((rc = br_item_find(repo, member, &id, err)))
            return rc == BR_ENOTFOUND ? br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                                                     "no item has this handle or UUID")
                                      : rc;
        if (!(st = br_stmt(repo, S_SET_ITEM_UUID, err))) return BR_ESTORE;
        br_db_bind_int64(st, 1, id);
        rc = br_step(repo, st);
        if (rc == BR_DB_ROW) {
            br_strlcpy(key, br_col_text(st, 0), size);
            br_db_reset(st);
            return 0;
        }
        if (rc == BR_DB_DONE) /* a collection's template item */
            return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no item has this handle or UUID");
        return br_store_fail(repo, err, "item lookup");
    }
    case BR_SET_USERS:
        if (!(st = br_stmt(repo, S_SET_USER_EXISTS, err))) return BR_ESTORE;
        br_bind_text(st, 1, member);
        rc = br_step(repo, st);
        br_db_reset(st);
        if (rc == BR_DB_ROW) return 0;
        if (rc == BR_DB_DONE)
            return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no user has this name");
        return br_store_fail(repo, err, "user lookup");
    case BR_SET_RESEARCHERS:
        for (const unsigned char *p = (const unsigned char *)member; *p; p++)
            if (*p == ' ' || *p == '\t')
                return br_error_set(err, BR_EINVAL, NULL, 0, 0, "a researcher id has no spaces");
        if (has_control(member))
            return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                                "a researcher id has no control characters");
        /* A researcher of the researcher table (researcher.h), by researcher id. */
        if (!(st = br_stmt(repo, S_RES_BY_RID, err))) return BR_ESTORE;
        br_bind_text(st, 1, member);
        rc = br_step(repo, st);
        br_db_reset(st);
        if (rc == BR_DB_ROW) return 0;
        if (rc == BR_DB_DONE)
            return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0,
                                "no researcher has this id (bulkrepo researcher list)");
        return br_store_fail(repo, err, "researcher lookup");
    }
    return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "unknown set content %d", (int)content);
}

int br_set_member_check(br_repo *repo, br_set_content content, const char *member, br_error *err)
{
    char key[64];
    return member_resolve(repo, content, member, key, sizeof key, err);
}

/* ---- sets ------------------------------------------------------------------------------------ */

static void fill(br_dbst *st, br_set *s)
{
    memset(s, 0, sizeof *s);
    s->id = br_db_col_int64(st, 0);
    br_strlcpy(s->name, br_col_text(st, 1), sizeof s->name);
    br_set_content c = BR_SET_ASSETS;
    br_set_content_parse(br_col_text(st, 2), &c); /* the table's CHECK allows only these */
    s->content = c;
    br_strlcpy(s->query, br_col_text(st, 3), sizeof s->query);
    br_strlcpy(s->note, br_col_text(st, 4), sizeof s->note);
    br_strlcpy(s->created, br_col_text(st, 5), sizeof s->created);
    br_strlcpy(s->creator, br_col_text(st, 6), sizeof s->creator);
    s->members = br_db_col_int64(st, 7);
}

int br_set_create(br_repo *repo, br_set *spec, br_error *err)
{
    if (!repo || !spec)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_set_create: missing argument");
    int rc;
    if ((rc = check_text(spec->name, sizeof spec->name, "name", err)) ||
        (rc = check_name(spec->name, err)) ||
        (rc = check_text(spec->query, sizeof spec->query, "query", err)) ||
        (rc = check_text(spec->note, sizeof spec->note, "note", err)) ||
        (rc = check_text(spec->creator, sizeof spec->creator, "creator", err)))
        return rc;
    if ((unsigned)spec->content >= BR_ARRAY_LEN(CONTENT))
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "unknown set content %d (assets, researchers or users)",
                            (int)spec->content);
    int logical = spec->query[0] != 0;
    if (logical && spec->content != BR_SET_ASSETS)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                            "a query finds research assets: a set of %s is itemized",
                            CONTENT[spec->content]);
    if (logical && (rc = br_search_check(spec->query, err))) return rc;
    br_dbst *st = br_stmt(repo, S_SET_INSERT, err);
    if (!st) return BR_ESTORE;
    char now[32];
    br_now_iso(now);
    br_bind_text(st, 1, spec->name);
    br_bind_text(st, 2, CONTENT[spec->content]);
    br_bind_text(st, 3, logical ? spec->query : NULL);
    br_bind_text(st, 4, spec->note[0] ? spec->note : NULL);
    br_bind_text(st, 5, now);
    br_bind_text(st, 6, spec->creator[0] ? spec->creator : NULL);
    rc = br_step_guarded(repo, st);
    if (br_db_is_constraint(rc))
        return br_error_set(err, BR_EEXISTS, NULL, 0, 0, "a set named '%s' exists already",
                            spec->name);
    if (rc != BR_DB_DONE) return br_store_fail(repo, err, "set create");
    spec->id = br_db_last_id(repo->db);
    br_strlcpy(spec->created, now, sizeof spec->created);
    spec->members = logical ? -1 : 0;
    return 0;
}

int br_set_get(br_repo *repo, const char *name, br_set *out, br_error *err)
{
    if (!repo || !name || !out)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_set_get: missing argument");
    br_dbst *st = br_stmt(repo, S_SET_GET, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    int rc = br_step(repo, st);
    if (rc == BR_DB_ROW) {
        fill(st, out);
        br_db_reset(st);
        return 0;
    }
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no set named '%s'", name);
    return br_store_fail(repo, err, "set read");
}

int br_set_list(br_repo *repo, br_set_fn fn, void *ctx, br_error *err)
{
    if (!repo || !fn)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_set_list: missing argument");
    br_dbst *st = br_stmt(repo, S_SET_LIST, err);
    if (!st) return BR_ESTORE;
    int rc;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        br_set s;
        fill(st, &s);
        if (BR_YIELD(repo, fn(ctx, &s))) {
            br_db_reset(st);
            return 0;
        }
    }
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "set list");
}

int br_set_delete(br_repo *repo, const char *name, br_error *err)
{
    if (!repo || !name)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_set_delete: missing argument");
    br_dbst *st = br_stmt(repo, S_SET_DELETE, err);
    if (!st) return BR_ESTORE;
    br_bind_text(st, 1, name);
    /* One statement: the members go with it (ON DELETE CASCADE), atomically. */
    if (br_step(repo, st) != BR_DB_DONE) return br_store_fail(repo, err, "set delete");
    return br_db_changes(repo->db)
               ? 0
               : br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no set named '%s'", name);
}

/* ---- adding members -------------------------------------------------------------------------- */

/* One add call: a transaction on an itemized set, members appended after its last. */
typedef struct adder {
    br_repo *repo;
    br_set set;
    const char *source; /* the member file, NULL for a list */
    int64_t next_seq;
    size_t n;       /* members read */
    size_t added;   /* new in the set */
    size_t unknown; /* refused: once one is, nothing more is inserted */
    unsigned first_line;
    char first[160];     /* the first refused member (cut: the message stays whole) */
    char first_why[300]; /* why */
} adder;

/* Begins the transaction and loads an itemized set (need_assets: of assets) in it, so
 * that the set cannot go away under the call. */
static int adder_begin(adder *a, br_repo *repo, const char *name, int need_assets, br_error *err)
{
    memset(a, 0, sizeof *a);
    a->repo = repo;
    if (!repo || !name)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "set members: missing argument");
    int rc = br_repo_begin(repo, err);
    if (rc) return rc;
    if ((rc = br_set_get(repo, name, &a->set, err))) goto done;
    if (a->set.query[0]) {
        rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                          "set '%s' is logical: its members are its query's hits (%s)", name,
                          a->set.query);
        goto done;
    }
    if (need_assets && a->set.content != BR_SET_ASSETS) {
        rc = br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                          "set '%s' holds %s; a job's records are research assets", name,
                          CONTENT[a->set.content]);
        goto done;
    }
    br_dbst *st = br_stmt(repo, S_SET_NEXT_SEQ, err);
    if (!st) {
        rc = BR_ESTORE;
        goto done;
    }
    br_db_bind_int64(st, 1, a->set.id);
    if (br_step(repo, st) == BR_DB_ROW)
        a->next_seq = br_db_col_int64(st, 0);
    else
        rc = br_store_fail(repo, err, "set members");
done:
    if (rc) br_repo_rollback(repo);
    return rc;
}

/* Counts one member read; BR_ELIMIT past the cap. */
static int adder_count(adder *a, unsigned line, br_error *err)
{
    if (++a->n <= BR_SET_MEMBERS_MAX) return 0;
    return br_error_set(err, BR_ELIMIT, a->source, line, 0,
                        "more than %d members in one call; nothing was added (split the list)",
                        BR_SET_MEMBERS_MAX);
}

/* Appends key unless the set has it. */
static int adder_insert(adder *a, const char *key, br_error *err)
{
    br_dbst *st = br_stmt(a->repo, S_SET_MEMBER_ADD, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, a->set.id);
    br_bind_text(st, 2, key);
    br_db_bind_int64(st, 3, a->next_seq);
    if (br_step(a->repo, st) != BR_DB_DONE) return br_store_fail(a->repo, err, "set member add");
    if (br_db_changes(a->repo->db)) {
        a->added++;
        a->next_seq++;
    }
    return 0;
}

/* Copies s into out, cut at a UTF-8 character boundary with "..." when it does not fit. */
static void cut_copy(char *out, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n < size) {
        memcpy(out, s, n + 1);
        return;
    }
    n = size - 4;
    while (n && ((unsigned char)s[n] & 0xc0) == 0x80) /* s[n] continues a character */
        n--;
    memcpy(out, s, n);
    memcpy(out + n, "...", 4);
}

/* Checks and adds one member given by the caller (line: its position or file line). */
static int adder_put(adder *a, const char *member, unsigned line, br_error *err)
{
    int rc = adder_count(a, line, err);
    if (rc) return rc;
    char key[64];
    br_error why;
    rc = member_resolve(a->repo, a->set.content, member, key, sizeof key, &why);
    if (rc == BR_ENOTFOUND || rc == BR_EINVAL) {
        if (!a->unknown++) {
            a->first_line = line;
            cut_copy(a->first, sizeof a->first, member ? member : "");
            br_strlcpy(a->first_why, why.message, sizeof a->first_why);
        }
        return 0;
    }
    if (rc) {
        if (err) *err = why;
        return rc;
    }
    if (a->unknown) return 0; /* rolled back anyway: validate the rest only */
    return adder_insert(a, key[0] ? key : member, err);
}

/* Commits, or rolls back after a failure (rc) or a refused member (BR_EINVAL). */
static int adder_end(adder *a, int rc, size_t *added, br_error *err)
{
    if (!rc && a->unknown) {
        char more[64] = "";
        if (a->unknown > 1) snprintf(more, sizeof more, " (and %zu more unknown)", a->unknown - 1);
        rc = br_error_set(err, BR_EINVAL, a->source, a->first_line, 0,
                          "unknown member '%s': %s%s; nothing was added to set '%s'", a->first,
                          a->first_why, more, a->set.name);
    }
    if (!rc) rc = br_repo_commit(a->repo, err);
    if (rc) {
        br_repo_rollback(a->repo);
        a->added = 0;
    }
    if (added) *added = a->added;
    return rc;
}

int br_set_add(br_repo *repo, const char *name, const char *const *members, size_t n, size_t *added,
               br_error *err)
{
    if (added) *added = 0;
    if (n && !members)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_set_add: no members given");
    if (n > BR_SET_MEMBERS_MAX)
        return br_error_set(err, BR_ELIMIT, NULL, 0, 0,
                            "%zu members in one call; at most %d (nothing was added)", n,
                            BR_SET_MEMBERS_MAX);
    adder a;
    int rc = adder_begin(&a, repo, name, 0, err);
    if (rc) return rc;
    for (size_t i = 0; i < n && !rc; i++)
        rc = adder_put(&a, members[i], (unsigned)(i + 1), err);
    return adder_end(&a, rc, added, err);
}

/* Reads one line into buf (at most BR_SET_LINE_MAX bytes, no newline): 1 read, 0 at the
 * end, BR_ELIMIT (too long) or BR_EINVAL (a NUL byte) with err at path:line, BR_EIO. */
static int read_line(FILE *f, char *buf, const char *path, unsigned line, br_error *err)
{
    size_t n = 0;
    int c;
    while ((c = getc(f)) != EOF && c != '\n') {
        if (!c)
            return br_error_set(err, BR_EINVAL, path, line, (unsigned)n + 1,
                                "a NUL byte; nothing was added (a member file is text)");
        if (n == BR_SET_LINE_MAX)
            return br_error_set(err, BR_ELIMIT, path, line, 0,
                                "the line is longer than %d bytes; nothing was added",
                                BR_SET_LINE_MAX);
        buf[n++] = (char)c;
    }
    if (ferror(f))
        return br_error_set(err, BR_EIO, path, line, 0, "cannot read: %s", strerror(errno));
    buf[n] = 0;
    return c == EOF && !n ? 0 : 1;
}

int br_set_add_file(br_repo *repo, const char *name, const char *path, size_t *added, br_error *err)
{
    if (added) *added = 0;
    if (!path) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_set_add_file: no file given");
    FILE *f = fopen(path, "r");
    if (!f)
        return br_error_set(err, errno == ENOENT ? BR_ENOTFOUND : BR_EIO, path, 0, 0,
                            "cannot open the member file: %s", strerror(errno));
    adder a;
    int rc = adder_begin(&a, repo, name, 0, err);
    if (rc) goto done;
    a.source = path;
    char buf[BR_SET_LINE_MAX + 1];
    unsigned line = 0;
    int got;
    while (!rc && (got = read_line(f, buf, path, ++line, err)) == 1) {
        char *m = br_trim(buf);
        if (!*m || *m == '#') continue;
        rc = adder_put(&a, m, line, err);
    }
    if (!rc && got < 0) rc = got;
    rc = adder_end(&a, rc, added, err);
done:
    fclose(f);
    return rc;
}

int br_set_add_from_job(br_repo *repo, const char *name, int64_t job_id, const char *outcome,
                        size_t *added, size_t *without_item, br_error *err)
{
    if (added) *added = 0;
    if (without_item) *without_item = 0;
    /* "rejected": the records a job did not import (the report's not imported, less the
     * multi-matches that wait for an operator). */
    static const char *const OUTCOMES[] = {
        BR_OUTCOME_IMPORTED, BR_OUTCOME_UPDATED, BR_OUTCOME_DELETED,
        BR_OUTCOME_INVALID,  BR_OUTCOME_FAILED,  BR_OUTCOME_SKIPPED,
        BR_OUTCOME_EXPORTED, "rejected",         BR_OUTCOME_MATCH_SKIPPED};
    const char *o1 = outcome, *o2 = outcome;
    if (outcome) {
        size_t i = 0;
        while (i < BR_ARRAY_LEN(OUTCOMES) && strcmp(outcome, OUTCOMES[i]))
            i++;
        if (i == BR_ARRAY_LEN(OUTCOMES))
            return br_error_set(err, BR_EUSAGE, NULL, 0, 0,
                                "unknown outcome '%s' (imported, updated, deleted, rejected, "
                                "invalid, failed, skipped, match-skipped or exported)",
                                outcome);
        if (!strcmp(outcome, "rejected")) o1 = BR_OUTCOME_INVALID, o2 = BR_OUTCOME_FAILED;
    }
    br_dbst *st = repo ? br_stmt(repo, S_SET_JOB_EXISTS, err) : NULL;
    if (!repo)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_set_add_from_job: no repository");
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, job_id);
    int rc = br_step(repo, st);
    br_db_reset(st);
    if (rc == BR_DB_DONE)
        return br_error_set(err, BR_ENOTFOUND, NULL, 0, 0, "no job %lld", (long long)job_id);
    if (rc != BR_DB_ROW) return br_store_fail(repo, err, "job lookup");
    adder a;
    if ((rc = adder_begin(&a, repo, name, 1, err))) return rc;
    size_t none = 0;
    /* The journal is read while members are written: other statements, one transaction. */
    if (!(st = br_stmt(repo, S_SET_JOB_MEMBERS, err))) rc = BR_ESTORE;
    if (!rc) {
        br_db_bind_int64(st, 1, job_id);
        br_bind_text(st, 2, o1);
        br_bind_text(st, 3, o2);
    }
    int s = BR_DB_DONE;
    while (!rc && (s = br_step(repo, st)) == BR_DB_ROW) {
        unsigned seq = (unsigned)br_db_col_int64(st, 0) + 1;
        if ((rc = adder_count(&a, seq, err))) break;
        const char *uuid = br_col_text(st, 1);
        if (!uuid)
            none++;
        else
            rc = adder_insert(&a, uuid, err);
    }
    if (!rc && s != BR_DB_DONE) rc = br_store_fail(repo, err, "job journal");
    if (st) br_db_reset(st);
    rc = adder_end(&a, rc, added, err);
    if (!rc && without_item) *without_item = none;
    return rc;
}

int br_set_remove(br_repo *repo, const char *name, const char *const *members, size_t n,
                  size_t *removed, br_error *err)
{
    if (removed) *removed = 0;
    if (n && !members)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_set_remove: no members given");
    adder a; /* the same set checks and transaction; nothing is appended */
    int rc = adder_begin(&a, repo, name, 0, err);
    if (rc) return rc;
    size_t gone = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const char *key = members[i] ? members[i] : "";
        char uuid[64];
        /* A handle names the item's UUID; one whose item is gone cannot be resolved (the
         * member is removed by its UUID). */
        if (a.set.content == BR_SET_ASSETS && strchr(key, '/')) {
            int r = member_resolve(repo, BR_SET_ASSETS, key, uuid, sizeof uuid, err);
            if (!r)
                key = uuid;
            else if (r != BR_ENOTFOUND && r != BR_EINVAL)
                rc = r;
        }
        br_dbst *st = rc ? NULL : br_stmt(repo, S_SET_MEMBER_DEL, err);
        if (!rc && !st) rc = BR_ESTORE;
        if (rc) break;
        br_db_bind_int64(st, 1, a.set.id);
        br_bind_text(st, 2, key);
        if (br_step(repo, st) != BR_DB_DONE)
            rc = br_store_fail(repo, err, "set member remove");
        else
            gone += (size_t)br_db_changes(repo->db);
    }
    rc = adder_end(&a, rc, NULL, err);
    if (!rc && removed) *removed = gone;
    return rc;
}

/* ---- members --------------------------------------------------------------------------------- */

typedef struct hits_ctx {
    br_set_member_fn fn;
    void *ctx;
    int64_t seq;
} hits_ctx;

static int on_hit(void *ctx, const br_item_summary *s)
{
    hits_ctx *h = ctx;
    br_set_member m = {h->seq++, s->id, s->uuid, s->handle};
    return h->fn(h->ctx, &m);
}

static int count_only(void *ctx, const br_item_summary *s)
{
    (void)ctx, (void)s;
    return 0;
}

int br_set_members(br_repo *repo, const char *name, br_set_member_fn fn, void *ctx, br_error *err)
{
    if (!fn) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_set_members: no callback");
    br_set s;
    int rc = br_set_get(repo, name, &s, err);
    if (rc) return rc;
    if (s.query[0]) {
        hits_ctx h = {fn, ctx, 0};
        br_search_query q = {s.query, 0, 0, BR_SEARCH_BY_HANDLE};
        return br_search(repo, &q, on_hit, &h, NULL, err);
    }
    br_dbst *st = br_stmt(repo, S_SET_MEMBERS, err);
    if (!st) return BR_ESTORE;
    br_db_bind_int64(st, 1, s.id);
    br_db_bind_int64(st, 2, s.content == BR_SET_ASSETS);
    int64_t seq = 0;
    while ((rc = br_step(repo, st)) == BR_DB_ROW) {
        int found = !br_db_col_null(st, 1);
        br_set_member m = {seq++, found ? br_db_col_int64(st, 1) : 0, br_col_text(st, 0),
                           found ? br_col_text(st, 2) : NULL};
        if (BR_YIELD(repo, fn(ctx, &m))) {
            br_db_reset(st);
            return 0;
        }
    }
    return rc == BR_DB_DONE ? 0 : br_store_fail(repo, err, "set members");
}

int br_set_count(br_repo *repo, const char *name, int64_t *n, br_error *err)
{
    if (!n) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "br_set_count: no output");
    br_set s;
    int rc = br_set_get(repo, name, &s, err);
    if (rc) return rc;
    if (!s.query[0]) {
        *n = s.members;
        return 0;
    }
    br_search_query q = {s.query, 1, 0, BR_SEARCH_BY_HANDLE};
    int64_t total = 0;
    if ((rc = br_search(repo, &q, count_only, NULL, &total, err))) return rc;
    *n = total;
    return 0;
}
