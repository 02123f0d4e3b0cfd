/* bulkrepo — search: full-text and fielded queries over the repository's items.
 *
 * The query language (docs/search.md):
 *   free text                 words match any indexed text (all must match)
 *   "a phrase"                the words in this order
 *   title:, creator:, orcid:, type:, collection:, status:, affiliation:,
 *   identifier:, doi:, isbn:  the term (or a "phrase") in that field only
 *   date:2019 date:2019..2021 the item's issue year, or a range of years
 *   has:file has:doi has:link items with at least one file, DOI, link
 *   job:ID                    items the job imported, updated or deleted
 *   AND OR NOT ( )            booleans (AND binds tighter than OR; juxtaposition is AND);
 *                             upper case only: "and", "or", "not" are words
 *   word*                     a prefix
 * Case and accents do not matter (Muller finds Müller).  Templates are never found;
 * withdrawn items are (status: or NOT status:withdrawn leaves them out).  Caps (each a
 * usage error): 4096 bytes, 64 terms, parentheses and NOT 32 deep, date ranges of 500 years.
 * The index is kept current by every write of the store (in the same transaction). */
#ifndef BULKREPO_SEARCH_H
#define BULKREPO_SEARCH_H

#include <stdint.h>
#include "error.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum br_search_order {
    BR_SEARCH_BY_HANDLE = 0, /* the order of br_item_list: stable, for sets and jobs */
    BR_SEARCH_BY_RANK = 1    /* best match first (bm25), then by handle */
} br_search_order;

typedef struct br_search_query {
    const char *q;  /* the query text (required; "" or only spaces is a usage error) */
    int64_t limit;  /* at most this many hits; 0 = all */
    int64_t offset; /* hits skipped first */
    br_search_order order;
} br_search_query;

/* Checks a query's syntax only: 0, or BR_EUSAGE with err->place.line 1, err->place.column
 * the 1-based position of the problem (counted in characters) and a message naming it
 * ("unclosed quote at 7"); err->place.source is empty. */
int br_search_check(const char *q, br_error *err);

/* Calls fn for each hit of q (fn returns non-zero to stop: not an error); *total (may be
 * NULL) gets the number of hits over all pages (counted by a statement of its own: a write
 * committed in between may make it differ by what it wrote).  Inside a transaction its own
 * writes are found.  0; BR_EUSAGE for a malformed query (as br_search_check) or a negative
 * limit or offset; BR_ESTORE. */
int br_search(br_repo *repo, const br_search_query *q, br_item_fn fn, void *ctx, int64_t *total,
              br_error *err);

/* Rebuilds the index of one item (id > 0) or of every item (id == 0), in the caller's
 * transaction when there is one.  0; BR_ENOTFOUND for an id that is not an item; BR_ESTORE. */
int br_search_reindex(br_repo *repo, int64_t id, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
