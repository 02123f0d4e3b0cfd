/* Choosing the store's database backend (db.h) by the repository's address. */
#include <string.h>
#include "db.h"

/* The prefixes libpq takes as a connection URI (it compares them case-sensitively too). */
const br_db_backend *br_db_backend_for(const char *where)
{
    if (where && (!strncmp(where, "postgresql://", 13) || !strncmp(where, "postgres://", 11)))
        return &br_db_postgresql;
    return &br_db_sqlite;
}
