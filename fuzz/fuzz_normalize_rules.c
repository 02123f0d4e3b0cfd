/* The normalization rule-file parser (bulkrepo/normalize.h): any bytes as a rule file, its map
 * files read from the scratch folder (m.tsv is there) on one pass and from the shipped ones on
 * the other.  A failure is one of the parser's codes with a UTF-8 message and no rule set; a
 * rule set that parses is applied to a sample record, and every value it leaves is UTF-8. */
#include "fuzz_util.h"
#include "bulkrepo/normalize.h"
#include "core/core.h"

static int utf8(const char *s)
{
    return !s || !br_utf8_check(s, strlen(s), NULL);
}

static br_record *sample(void)
{
    static const char *const md[][4] = {
        {"dc", "title", NULL, "  The  Title\xC2\xA0"},
        {"dc", "title", "alternative",
         "caf"
         "e\xCC\x81 colour"},
        {"dc", "date", "issued", "2021-10-18"},
        {"dc", "date", "issued", "10/18/2021"},
        {"dc", "language", NULL, "English; de"},
        {"dc", "subject", NULL, "a@@b@@@@\xC3\xA9t\xC3\xA9"},
        {"dc", "subject", NULL, ""},
    };
    br_record *r = br_record_new();
    if (!r) abort();
    for (size_t i = 0; i < sizeof md / sizeof md[0]; i++)
        if (!br_record_add_md(r, md[i][0], md[i][1], md[i][2], i == 1 ? "en" : NULL, md[i][3]))
            abort();
    br_creator *k = br_record_add_creator(r, BR_CREATOR);
    if (!k) abort();
    k->family = br_record_str(r, " O'NEIL ");
    k->given = br_record_str(r, "j\xC3\xA9r\xC3\xB4me");
    k = br_record_add_creator(r, BR_CONTRIBUTOR);
    if (!k) abort();
    k->display = br_record_str(r, "Big   Lab");
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        static const char map[] = "English\teng\nde\tger\n# comment\n\xC3\xA9t\xC3\xA9\tsummer\n";
        fz_write(fz_path("m.tsv"), map, sizeof map - 1);
        ready = 1;
    }
    for (int pass = 0; pass < 2; pass++) {
        br_ruleset *rs = NULL;
        br_error err;
        memset(&err, 0, sizeof err);
        int rc = br_ruleset_parse((const char *)data, size, "fuzz.rules", pass ? fz_dir() : NULL,
                                  &rs, &err);
        if (rc) {
            if (rs || (rc != BR_EINVAL && rc != BR_ELIMIT && rc != BR_ENOMEM)) abort();
            if (!err.message[0] || !utf8(err.message) || err.code != rc) abort();
            continue;
        }
        if (!rs || !br_ruleset_rules(rs) || !br_ruleset_sections(rs)) abort();
        br_record *r = sample();
        unsigned changed = 0;
        rc = br_ruleset_apply(rs, r, &changed, &err);
        if (rc && rc != BR_ELIMIT && rc != BR_ENOMEM) abort();
        if (!rc) {
            if (changed & ~(unsigned)(BR_RULESET_METADATA | BR_RULESET_CREATORS)) abort();
            for (size_t i = 0; i < r->n_md; i++)
                if (!utf8(r->md[i].value)) abort();
            for (size_t i = 0; i < r->n_creators; i++) {
                const br_creator *k = &r->creators[i];
                if (!utf8(k->family) || !utf8(k->given) || !utf8(k->display)) abort();
            }
        }
        br_record_free(r);
        br_ruleset_free(rs);
    }
    return 0;
}
