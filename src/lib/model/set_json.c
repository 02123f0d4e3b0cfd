/* A set as JSON (set.h): the one shape of GET /api/sets and `bulkrepo set ... --json`. */
#include <stdlib.h>
#include <jansson.h>
#include "bulkrepo/set.h"

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

int br_set_to_json(const br_set *s, int64_t members, char **out, br_error *err)
{
    json_t *o = json_pack("{s:o,s:s,s:s,s:o,s:o,s:o,s:o,s:I}", "name", json_string(s->name),
                          "content", br_set_content_name(s->content), "kind",
                          s->query[0] ? "logical" : "itemized", "query", str_or_null(s->query),
                          "note", str_or_null(s->note), "created", json_string(s->created),
                          "creator", str_or_null(s->creator), "members", (json_int_t)members);
    *out = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return *out ? 0 : br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory (or text not UTF-8)");
}
