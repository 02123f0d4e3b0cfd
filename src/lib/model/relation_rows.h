/* Internal: the rows a relation between two items may be stored as (model/relation.c), for the
 * set jobs that write relations with their undo rows (jobs/setjob_relations.c). */
#ifndef BR_MODEL_RELATION_ROWS_H
#define BR_MODEL_RELATION_ROWS_H

#include <stddef.h>
#include <stdint.h>

typedef struct br_rel_row {
    char type[32];
    int64_t left, right;
} br_rel_row;

/* "a code b" as the two rows it may be stored as: rows[0] its stored form (the type's code from
 * left to right; a symmetric type with the lower id on the left), rows[1] the other form a row
 * written by other means may have (the inverse code the other way round; a symmetric type the
 * other way round).  0; BR_EUSAGE for a code not in the table or a == b (a relation of an item
 * to itself). */
int br_relation_rows(const char *code, int64_t a, int64_t b, br_rel_row rows[2]);

#endif
