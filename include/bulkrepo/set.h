/* bulkrepo — sets: the records a set job runs on (seed 001, "Running Manual Jobs on Defined
 * Sets"; seed 000: "the assets you want to export must be in a set").
 *
 * A set has a unique name and a content type (research assets, researchers, users).  It is
 * itemized (its members are listed: for assets each member is an item, kept by UUID so that
 * it survives a handle change, a delete and a restore) or logical (a saved search query,
 * search.h, evaluated each time a job runs or the set is counted). */
#ifndef BULKREPO_SET_H
#define BULKREPO_SET_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

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
 * sets spec->id.  A logical set's query is checked (BR_EUSAGE with its position).
 * 0; BR_EEXISTS; BR_EUSAGE (empty or too long name, bad query); BR_ESTORE. */
int br_set_create(br_repo *repo, br_set *spec, br_error *err);
/* 0; BR_ENOTFOUND; BR_ESTORE. */
int br_set_get(br_repo *repo, const char *name, br_set *out, br_error *err);
int br_set_list(br_repo *repo, br_set_fn fn, void *ctx, br_error *err);
/* Deletes a set (its members are not touched).  0; BR_ENOTFOUND; BR_ESTORE. */
int br_set_delete(br_repo *repo, const char *name, br_error *err);

/* Adds members to an itemized set, in one transaction: for an asset set each is a handle
 * or a UUID of an item.  Every unknown member is reported (BR_EINVAL, the first named,
 * with its 1-based position as the place's line) and nothing is added.  Members already
 * in the set are left where they are.  *added (may be NULL) gets how many were new.
 * BR_EUSAGE for a logical set. */
int br_set_add(br_repo *repo, const char *name, const char *const *members, size_t n,
               size_t *added, br_error *err);
/* As br_set_add with one member per line of a file ('#' comments and blank lines skipped);
 * an unknown member is named with the file and line. */
int br_set_add_file(br_repo *repo, const char *name, const char *path, size_t *added,
                    br_error *err);
/* Adds the items a job's journal names with this outcome ("imported", "updated", "deleted",
 * "invalid" for rejected records; NULL = every outcome with an item).  Lines without an
 * item (a rejected new record) are counted in *without_item (may be NULL). */
int br_set_add_from_job(br_repo *repo, const char *name, int64_t job_id, const char *outcome,
                        size_t *added, size_t *without_item, br_error *err);
/* Removes members (handles or UUIDs); *removed (may be NULL) gets how many were there. */
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

/* The members in a stable order (itemized: as added; logical: the query's hits by handle);
 * fn returns non-zero to stop. */
int br_set_members(br_repo *repo, const char *name, br_set_member_fn fn, void *ctx,
                   br_error *err);
/* The number of members (a logical set is evaluated now). */
int br_set_count(br_repo *repo, const char *name, int64_t *n, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
