/* Research assets normalization (seed 001: "each task has a normalization rule predefined; you
 * can select a different one"; issue 11 section 4).  The job's "rules" parameter names a rule
 * set (bulkrepo/normalize.h), "default" unless given; it is read when the job starts (and
 * again when it resumes), so a rule file that does not parse stops the job before any
 * member, with the file's line and column.  Each asset's metadata and creators' name parts
 * go through the rules on the working copy; the framework writes the changed parts with their
 * undo rows, and the dry run lists them as field: old -> new. */
#include <stdlib.h>
#include <string.h>
#include "bulkrepo/normalize.h"
#include "core/core.h"
#include "jobs/setjob.h"
#include "model/snapshot.h"

static int prepare(br_repo *repo, json_t *p, void **state, br_error *err)
{
    char buf[128];
    const char *name = br_sj_param(p, "normalize-assets", "rules", buf, sizeof buf);
    br_ruleset *rs = NULL;
    int rc = br_ruleset_load(repo, name && *name ? name : "default", &rs, err);
    if (rc) return rc;
    *state = rs;
    return 0;
}

static void release(void *state)
{
    br_ruleset_free(state);
}

static int plan(sj_item *it, br_error *err)
{
    unsigned changed = 0;
    br_error e;
    int rc = br_ruleset_apply(it->state, it->after, &changed, &e);
    if (rc == BR_EINVAL || rc == BR_ELIMIT) {
        /* A value the rules cannot take (not UTF-8, grown past the cap) leaves the asset as
         * it is, with the reason: the dry run goes on to the next member. */
        br_error_format(&e, it->skip_buf, sizeof it->skip_buf);
        size_t n = strlen(it->skip_buf); /* a cut message must not end inside a character */
        while (n && br_utf8_check(it->skip_buf, n, NULL))
            it->skip_buf[--n] = 0;
        it->skip = it->skip_buf;
        it->parts = 0;
        return 0;
    }
    if (rc) {
        if (err) *err = e;
        return rc;
    }
    if (changed & BR_RULESET_METADATA) it->parts |= BR_PART_METADATA;
    if (changed & BR_RULESET_CREATORS) it->parts |= BR_PART_CREATORS;
    return 0;
}

const sj_driver br_sj_normalize = {.type = "normalize-assets",
                                   .outcome = BR_OUTCOME_UPDATED,
                                   .prepare = prepare,
                                   .release = release,
                                   .plan = plan};
