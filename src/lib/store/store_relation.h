/* The store's side of relations between assets (store_relation.c; the public side is
 * bulkrepo/relation.h): rows looked up and deleted exactly as stored, an item's relations
 * alone, and an item's version moved by a change of its relations. */
#ifndef BR_STORE_RELATION_H
#define BR_STORE_RELATION_H

#include <stdint.h>
#include "bulkrepo/error.h"
#include "bulkrepo/repo.h"

/* 1 when the row (type, left, right) is stored, 0 when not, BR_ESTORE. */
int br_relation_row_exists(br_repo *repo, const char *type, int64_t left, int64_t right,
                           br_error *err);
/* Loads item id's UUID, handle and relations only (rec reset first; targets are the other
 * items' handles, as br_item_load gives them): 0; BR_ENOTFOUND; BR_ESTORE; BR_ENOMEM. */
int br_item_relations(br_repo *repo, int64_t id, br_record *rec, br_error *err);
/* Moves the item's version (and modification time): its relations changed.  0; BR_ENOTFOUND;
 * BR_ESTORE. */
int br_item_touch(br_repo *repo, int64_t id, br_error *err);

#endif
