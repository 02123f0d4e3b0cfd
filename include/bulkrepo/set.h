/* bulkrepo — sets: the records a set job runs on (seed 001, "Running Manual Jobs on Defined
 * Sets"; seed 000: "the assets you want to export must be in a set").
 *
 * A set has a unique name and a content type (research assets, researchers, users).  It is
 * itemized (its members are listed: for assets each member is an item, kept by UUID so that
 * it survives a handle change, a delete and a restore) or logical (a saved search query,
 * search.h, evaluated each time a job runs or the set is counted).
 *
 * Members by content type:
 *   assets       an item, given by handle or UUID and kept as its UUID.  A member whose
 *                item is gone (deleted, in the trash) stays listed: br_set_members yields
 *                it with item_id 0 and handle NULL (not corruption: fsck leaves it).
 *   users        a user name of the account table (`bulkrepo user add`).
 *   researchers  a researcher id of a stored researcher (researcher.h, `bulkrepo researcher
 *                add`).
 * Only asset sets can be logical (the query searches items).
 *
 * Caps: a set name has 1 to BR_SET_NAME_MAX bytes of UTF-8, no control characters and no
 * leading or trailing space; a member (a line of a member file) at most BR_SET_LINE_MAX
 * bytes; one call adds at most BR_SET_MEMBERS_MAX members (BR_ELIMIT past it). */
#ifndef BULKREPO_SET_H
#define BULKREPO_SET_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BR_SET_NAME_MAX    127      /* bytes of a set name */
#define BR_SET_LINE_MAX    1024     /* bytes of a member, or of a line of a member file */
#define BR_SET_MEMBERS_MAX 10000000 /* members one add call reads */

typedef enum br_set_content {
    BR_SET_ASSETS = 0,
    BR_SET_RESEARCHERS = 1,
    BR_SET_USERS = 2
} br_set_content;

/* "assets", "researchers", "users"; parse: 0 or BR_EUSAGE. */
const char *br_set_content_name(br_set_content c);
int br_set_content_parse(const char *name, br_set_content *out);

typedef struct br_set {
    int64_t id;
    char name[128];
    br_set_content content;
    char query[2048]; /* logical: the saved query; "" = itemized */
    char note[512];
    char created[32]; /* ISO 8601 UTC */
    char creator[256];
    int64_t members; /* itemized: members listed; logical: -1 (br_set_count evaluates) */
} br_set;

typedef int (*br_set_fn)(void *ctx, const br_set *s);

/* Creates a set from spec (name, content, query or "" for itemized, note, creator);
 * sets spec->id, spec->created and spec->members (0, or -1 when logical).  A logical set's
 * query is checked (BR_EUSAGE with err->place.column its position, br_search_check).
 * 0; BR_EEXISTS; BR_EUSAGE (a name breaking the rules above, an unknown content, a query
 * for a set that is not of assets, a bad query, text that is not UTF-8); BR_ESTORE. */
int br_set_create(br_repo *repo, br_set *spec, br_error *err);
/* 0 and out filled; BR_ENOTFOUND; BR_ESTORE. */
int br_set_get(br_repo *repo, const char *name, br_set *out, br_error *err);
/* Every set by name (a logical set's members -1); a nonzero return of fn stops.  fn may
 * use the connection (br_set_count, for one). */
int br_set_list(br_repo *repo, br_set_fn fn, void *ctx, br_error *err);
/* Deletes a set and its member list (the items, users or researchers themselves are not
 * touched).  0; BR_ENOTFOUND; BR_ESTORE. */
int br_set_delete(br_repo *repo, const char *name, br_error *err);

/* Adds members to an itemized set, in one transaction, after those it has: for an asset
 * set each is a handle or a UUID of an item.  All or nothing: every unknown member is
 * counted and none is added (BR_EINVAL naming the first, with its 1-based position as the
 * place's line and "N more unknown" in the message).  A member already in the set (or
 * given twice) is kept once, where it was first.  *added (may be NULL) gets how many were
 * new.  BR_ENOTFOUND (no such set); BR_EUSAGE for a logical set; BR_ELIMIT past
 * BR_SET_MEMBERS_MAX; BR_ESTORE.  Memory does not grow with n. */
int br_set_add(br_repo *repo, const char *name, const char *const *members, size_t n, size_t *added,
               br_error *err);
/* As br_set_add with one member per line of a file: spaces around a member are dropped,
 * blank lines and lines whose first non-blank character is '#' skipped.  An unknown member
 * is named with the file and line; a line over BR_SET_LINE_MAX bytes is BR_ELIMIT at its
 * line (nothing added).  BR_ENOTFOUND or BR_EIO when the file cannot be read.  The file is
 * streamed: a million lines take no more memory than ten. */
int br_set_add_file(br_repo *repo, const char *name, const char *path, size_t *added,
                    br_error *err);
/* Adds to an asset set the items a job's journal names with this outcome ("imported",
 * "updated", "deleted", "invalid", "failed", "skipped", "match-skipped", "exported", or
 * "rejected" = invalid and failed, the job report's records not imported; NULL = every
 * line), in journal order.  A line's item is the one it names, else the stored item with
 * its handle, else the trash's copy (a deleted item the trash keeps: its UUID).  Lines
 * with no item left (a rejected new record, an item deleted outright) are counted in
 * *without_item (may be NULL).  BR_ENOTFOUND (set or job); BR_EUSAGE (an unknown outcome,
 * a logical set or one not of assets). */
int br_set_add_from_job(br_repo *repo, const char *name, int64_t job_id, const char *outcome,
                        size_t *added, size_t *without_item, br_error *err);
/* Removes members (asset sets: handles or UUIDs; a member whose item is gone is removed by
 * its UUID), in one transaction; members not in the set are ignored.  *removed (may be
 * NULL) gets how many were there.  BR_ENOTFOUND; BR_EUSAGE for a logical set. */
int br_set_remove(br_repo *repo, const char *name, const char *const *members, size_t n,
                  size_t *removed, br_error *err);

/* A member as a job sees it: for an asset set, item_id is the item (0 when a listed
 * member's item no longer exists) and member its UUID; for the other content types
 * item_id is 0 and member the researcher id or user name. */
typedef struct br_set_member {
    int64_t seq; /* 0-based position */
    int64_t item_id;
    const char *member;
    const char *handle; /* assets: the item's handle, NULL when missing */
} br_set_member;

typedef int (*br_set_member_fn)(void *ctx, const br_set_member *m);

/* The members in a stable order (itemized: as added; logical: the query's hits by handle,
 * evaluated now), streamed; fn returns non-zero to stop (not an error).  The strings are
 * valid during the call.  fn may use the connection, except to list members again.
 * BR_ENOTFOUND; BR_EUSAGE (a logical set's query no longer parses); BR_ESTORE. */
int br_set_members(br_repo *repo, const char *name, br_set_member_fn fn, void *ctx, br_error *err);
/* The set as JSON text (malloc'd): {"name","content","kind" ("itemized"|"logical"),"query",
 * "note","created","creator","members"} with members as given.  0 or BR_ENOMEM. */
int br_set_to_json(const br_set *s, int64_t members, char **out, br_error *err);

/* The number of members (a logical set is evaluated now).  0; BR_ENOTFOUND; BR_ESTORE. */
int br_set_count(br_repo *repo, const char *name, int64_t *n, br_error *err);

/* Whether member may be added to a set of this content (as br_set_add checks each): 0;
 * BR_ENOTFOUND (no item, user or researcher by that name), BR_EINVAL (not a valid member: empty,
 * too long, not UTF-8, a researcher id with spaces), err saying why; BR_ESTORE.  For callers that
 * list every unknown member after br_set_add refused them (the HTTP API). */
int br_set_member_check(br_repo *repo, br_set_content content, const char *member, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
