/* bulkrepo — relations between research assets (issue 11): Esploro's relation types with their
 * inverses (data/relation_types.tsv), and relations added and removed so that the inverse is
 * kept in step.
 *
 * A relation is one row of the store's relationship table: LEFT type RIGHT.  The table gives
 * every type a stored code (its row's first) and the other side's code: "A haspart B" is
 * stored as "B ispartof A".  br_item_load gives each record its relations with is_left;
 * br_relation_view names a loaded relation as its own record reads it (ispartof from the left,
 * haspart from the right), so a relation added from either side reads correctly from both, and
 * removing it removes both views.  A symmetric type (isidenticalto, isrelatedto, issameas) is
 * its own inverse.  Rows written by other means (an SAF import's relationships file, or
 * br_relation_insert) keep their type as written; br_relation_exists and br_relation_remove
 * find a relation in any of its forms. */
#ifndef BULKREPO_RELATION_H
#define BULKREPO_RELATION_H

#include <stdint.h>
#include "error.h"
#include "record.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct br_relation_type {
    char code[32];    /* the code a relation of this type is stored with */
    char inverse[32]; /* the other side's code; == code for a symmetric type */
    char label[64];   /* "Is part of" */
    char inverse_label[64];
} br_relation_type;

typedef int (*br_relation_type_fn)(void *ctx, const br_relation_type *t);
/* Every type in table order; a nonzero return of fn stops. */
void br_relation_type_list(br_relation_type_fn fn, void *ctx);
/* The type a code names, from either side ("haspart" finds ispartof's row): 0 and *out filled,
 * *inverse (may be NULL) 1 when the code is the row's other side (never for a symmetric type);
 * BR_ENOTFOUND for a code that is not in the table (the match is exact: codes are lowercase). */
int br_relation_type_find(const char *code, br_relation_type *out, int *inverse);
/* The code of a relation loaded with its record (br_item_load), as that record reads it: the
 * stored type from the left, its inverse from the right, written to buf and returned; a type
 * the table does not know is returned as stored (r->type itself, whatever its length). */
const char *br_relation_view(const br_relation *r, char buf[32]);

/* Relates item a to item b ("a code b", code from either side of the table), stored once in its
 * stored form; both items' versions move.  0 and *added (may be NULL) 1, or 0 when the relation
 * exists already in any form; BR_EUSAGE for a code not in the table or a relation of an item to
 * itself; BR_ENOTFOUND for a missing item; BR_ESTORE.  Call inside a transaction. */
int br_relation_add(br_repo *repo, const char *code, int64_t a, int64_t b, int *added,
                    br_error *err);
/* Removes "a code b" in every form it is stored in (stored form, or the code written from a to b,
 * or its inverse from b to a); both items' versions move when a row went.  0 and *removed (may
 * be NULL) the rows removed (0: they were not related); BR_EUSAGE; BR_ESTORE. */
int br_relation_remove(br_repo *repo, const char *code, int64_t a, int64_t b, int *removed,
                       br_error *err);
/* 1 when "a code b" is stored in any form, 0 when not, a negative code on failure (BR_EUSAGE for
 * a code not in the table, BR_ESTORE). */
int br_relation_exists(br_repo *repo, const char *code, int64_t a, int64_t b, br_error *err);
/* Deletes one row exactly as stored (type, left, right): 0 and *removed (may be NULL) 1 or 0;
 * BR_ESTORE.  Versions are not moved (the caller's write does that). */
int br_relation_delete(br_repo *repo, const char *type, int64_t left, int64_t right, int *removed,
                       br_error *err);

#ifdef __cplusplus
}
#endif
#endif
