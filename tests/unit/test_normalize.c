/* Research assets normalization (issue 11 section 4): the rule-file parser (every rule, every
 * parse error with its file:line:column, the caps), applying rule sets to records through
 * the public API (bulkrepo/normalize.h), the shipped and the repository's rule sets, and the
 * normalize-assets set job through the CLI as staff run it: dry run, before/after records,
 * the journal, revert; `bulkrepo normalize check | list`. */
#define _GNU_SOURCE
#include "cli_fixture.h"
#include "bulkrepo/bulkrepo.h"
#include "bulkrepo/normalize.h"

/* ---- helpers -------------------------------------------------------------------------------- */

static br_ruleset *parse_ok(const char *text, const char *dir)
{
    br_ruleset *rs = NULL;
    br_error err;
    memset(&err, 0, sizeof err);
    int rc = br_ruleset_parse(text, strlen(text), "t.rules", dir, &rs, &err);
    if (rc) {
        char buf[1200];
        br_error_format(&err, buf, sizeof buf);
        fail_msg("rules did not parse (%d): %s\n---\n%s", rc, buf, text);
    }
    assert_non_null(rs);
    return rs;
}

/* The error of text that must not parse: its code, line, column and a part of its message. */
static void parse_bad_n(const char *text, size_t len, const char *dir, int code, unsigned line,
                        unsigned col, const char *needle, const char *file, int at)
{
    br_ruleset *rs = (br_ruleset *)1;
    br_error err;
    memset(&err, 0, sizeof err);
    int rc = br_ruleset_parse(text, len, "t.rules", dir, &rs, &err);
    char buf[1200];
    br_error_format(&err, buf, sizeof buf);
    if (rc != code || err.place.line != line || err.place.column != col ||
        !strstr(err.message, needle)) {
        print_error("%s:%d: rules\n---\n%.300s\n---\ngave %d '%s' (line %u, column %u); expected "
                    "%d at %u:%u with '%s'\n",
                    file, at, text, rc, buf, err.place.line, err.place.column, code, line, col,
                    needle);
        _fail(file, at);
    }
    assert_null(rs);
}
#define PARSE_BAD(text, code, line, col, needle)                                                   \
    parse_bad_n((text), strlen(text), NULL, (code), (line), (col), (needle), __FILE__, __LINE__)
#define PARSE_BAD_DIR(text, dir, code, line, col, needle)                                          \
    parse_bad_n((text), strlen(text), (dir), (code), (line), (col), (needle), __FILE__, __LINE__)

/* A record from "field=value" strings (a value "lang:xx|text" gets a language). */
static br_record *rec_of(const char *const *kv)
{
    br_record *r = br_record_new();
    assert_non_null(r);
    for (size_t i = 0; kv[i]; i++) {
        const char *eq = strchr(kv[i], '=');
        assert_non_null(eq);
        char field[128], sc[64], el[64], q[64], lang[16] = "";
        snprintf(field, sizeof field, "%.*s", (int)(eq - kv[i]), kv[i]);
        assert_int_equal(br_field_parse(field, sc, el, q), 0);
        const char *v = eq + 1;
        if (!strncmp(v, "lang:", 5)) {
            const char *bar = strchr(v, '|');
            snprintf(lang, sizeof lang, "%.*s", (int)(bar - v - 5), v + 5);
            v = bar + 1;
        }
        assert_non_null(br_record_add_md(r, sc, el, q[0] ? q : NULL, lang[0] ? lang : NULL, v));
    }
    return r;
}

/* The record's metadata in order, "field=value" (with "@lang" and "#place") joined by "\n". */
static char *dump(const br_record *r)
{
    tu_log l;
    tu_log_init(&l);
    for (size_t i = 0; i < r->n_md; i++) {
        const br_mdv *v = &r->md[i];
        tu_log_printf(&l, "%s.%s%s%s=%s", v->schema, v->element, v->qualifier ? "." : "",
                      v->qualifier ? v->qualifier : "", v->value);
        if (v->language) tu_log_printf(&l, "@%s", v->language);
        tu_log_printf(&l, "#%d\n", v->place);
    }
    return l.text;
}

/* Applies rules to a record made of kv; asserts the metadata after and what changed. */
static void apply_n(const char *rules, const char *dir, const char *const *kv, const char *want,
                    unsigned want_changed, const char *file, int at)
{
    br_ruleset *rs = parse_ok(rules, dir);
    br_record *r = rec_of(kv);
    unsigned changed = 99;
    br_error err;
    int rc = br_ruleset_apply(rs, r, &changed, &err);
    if (rc) fail_msg("%s:%d: apply failed: %s", file, at, err.message);
    char *got = dump(r);
    if (strcmp(got, want) || changed != want_changed) {
        print_error("%s:%d: rules\n%s\ngave (changed %u)\n%s\nexpected (changed %u)\n%s\n", file,
                    at, rules, changed, got, want_changed, want);
        _fail(file, at);
    }
    free(got);
    br_record_free(r);
    br_ruleset_free(rs);
}
#define APPLY(rules, kv, want, changed)                                                            \
    apply_n((rules), NULL, (kv), (want), (changed), __FILE__, __LINE__)

/* ---- every rule ----------------------------------------------------------------------------- */

static void test_rule_trim_collapse_nfc(void **state)
{
    (void)state;
    /* White space is Unicode's: no-break space, ideographic space, tabs. */
    const char *kv[] = {"dc.title=\xC2\xA0 The  \t Title\xE3\x80\x80",
                        "dc.subject=caf"
                        "e\xCC\x81", /* e + combining acute */
                        "dc.description=  left alone  ", NULL};
    APPLY("[fields dc.title]\ntrim\n", kv,
          "dc.title=The  \t Title#0\ndc.subject=cafe\xCC\x81#0\ndc.description=  left alone  #0\n",
          BR_RULESET_METADATA);
    APPLY("[fields dc.title]\ncollapse-spaces\n", kv,
          "dc.title= The Title #0\ndc.subject=cafe\xCC\x81#0\ndc.description=  left alone  #0\n",
          BR_RULESET_METADATA);
    APPLY("[fields dc.subject]\nnfc\n", kv,
          "dc.title=\xC2\xA0 The  \t Title\xE3\x80\x80#0\ndc.subject=caf\xC3\xA9#0\n"
          "dc.description=  left alone  #0\n",
          BR_RULESET_METADATA);
    /* Nothing to change: nothing changed. */
    const char *clean[] = {"dc.title=Clean", NULL};
    APPLY("[fields *]\ntrim\ncollapse-spaces\nnfc\n", clean, "dc.title=Clean#0\n", 0);
}

static void test_rule_case(void **state)
{
    (void)state;
    const char *kv[] = {"dc.title=\xC3\x89"
                        "COLE normale jean-paul o'neil don't 3rd",
                        NULL};
    APPLY("[fields dc.title]\ncase lower\n", kv,
          "dc.title=\xC3\xA9"
          "cole normale jean-paul o'neil don't 3rd#0\n",
          BR_RULESET_METADATA);
    APPLY("[fields dc.title]\ncase upper\n", kv,
          "dc.title=\xC3\x89"
          "COLE NORMALE JEAN-PAUL O'NEIL DON'T 3RD#0\n",
          BR_RULESET_METADATA);
    APPLY("[fields dc.title]\ncase title\n", kv,
          "dc.title=\xC3\x89"
          "cole Normale Jean-Paul O'neil Don't 3rd#0\n",
          BR_RULESET_METADATA);
}

static void test_rule_replace(void **state)
{
    (void)state;
    const char *kv[] = {"dc.title=Colour and color, COLOR", "dc.relation=a/b/c", NULL};
    APPLY("[fields dc.title]\nreplace /colou?r/i \"hue\"\n", kv,
          "dc.title=hue and hue, hue#0\ndc.relation=a/b/c#0\n", BR_RULESET_METADATA);
    /* Case matters without i; \/ is a slash; the replacement is literal (quotes, escapes). */
    APPLY("[fields dc.title dc.relation]\nreplace /colou?r/ \"\\\"&\\\\1\\\"\"\nreplace /\\/b\\// "
          "\"-\"\n",
          kv, "dc.title=Colour and \"&\\1\", COLOR#0\ndc.relation=a-c#0\n", BR_RULESET_METADATA);
    /* An expression that matches the empty string ends, and keeps characters whole. */
    const char *utf[] = {"dc.title=\xC3\xA9t\xC3\xA9", NULL};
    APPLY("[fields dc.title]\nreplace /x*/ \"-\"\n", utf, "dc.title=-\xC3\xA9-t-\xC3\xA9#0\n",
          BR_RULESET_METADATA);
    /* Expressions match characters, not bytes: '.' and bracket expressions take a whole
     * é, and the i flag folds it. */
    APPLY("[fields dc.title]\nreplace /^./ \"\"\nreplace /[\xC3\xA9]$/ \"E\"\n", utf,
          "dc.title=tE#0\n", BR_RULESET_METADATA);
    APPLY("[fields dc.title]\nreplace /\xC3\x89T/i \"x\"\n", utf, "dc.title=x\xC3\xA9#0\n",
          BR_RULESET_METADATA);
    /* Anchors see the whole value once. */
    const char *anch[] = {"dc.title=aaa", NULL};
    APPLY("[fields dc.title]\nreplace /^a/ \"b\"\n", anch, "dc.title=baa#0\n", BR_RULESET_METADATA);
}

static void test_rule_date(void **state)
{
    (void)state;
    const char *kv[] = {"dc.date.issued=2021-10-18",      "dc.date.issued=2021/10/18",
                        "dc.date.issued=2021.10.18",      "dc.date.issued=10/18/2021",
                        "dc.date.issued=2021-10",         "dc.date.issued=2021",
                        "dc.date.issued=20211018",        "dc.date.issued=2021-02-30",
                        "dc.date.issued=18 October 2021", NULL};
    APPLY("[fields dc.date.*]\ndate YYYYMMDD\n", kv,
          "dc.date.issued=20211018#0\ndc.date.issued=20211018#1\ndc.date.issued=20211018#2\n"
          "dc.date.issued=20211018#3\ndc.date.issued=202110#4\ndc.date.issued=2021#5\n"
          "dc.date.issued=20211018#6\ndc.date.issued=2021-02-30#7\n"
          "dc.date.issued=18 October 2021#8\n",
          BR_RULESET_METADATA);
    const char *iso[] = {"dc.date.issued=20211018", "dc.date.issued=10/18/2021", NULL};
    APPLY("[fields dc.date.issued]\ndate YYYY-MM-DD\n", iso,
          "dc.date.issued=2021-10-18#0\ndc.date.issued=2021-10-18#1\n", BR_RULESET_METADATA);
}

static void test_rule_map(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    tu_write(dir, "lang.tsv",
             "# language names\nEnglish\teng\r\nDeutsch\tger\n\nfran\xC3\xA7"
             "ais\tfre\n");
    const char *kv[] = {"dc.language.iso=English",
                        "dc.language.iso=fran\xC3\xA7"
                        "ais",
                        "dc.language.iso=Klingon", "dc.language.iso=english", NULL};
    apply_n("[fields dc.language.iso]\nmap lang.tsv\n", dir, kv,
            "dc.language.iso=eng#0\ndc.language.iso=fre#1\ndc.language.iso=Klingon#2\n"
            "dc.language.iso=english#3\n",
            BR_RULESET_METADATA, __FILE__, __LINE__);
    /* The shipped maps (no folder): languages.tsv after lower case. */
    APPLY("[fields dc.language.iso]\ncase lower\nmap languages.tsv\n", kv,
          "dc.language.iso=eng#0\ndc.language.iso=fre#1\ndc.language.iso=klingon#2\n"
          "dc.language.iso=eng#3\n",
          BR_RULESET_METADATA);
    tu_rmtree(dir);
    free(dir);
}

static void test_rule_split_join(void **state)
{
    (void)state;
    /* split: in place of the value, with its language; empty pieces go. */
    const char *kv[] = {"dc.subject=lang:en|fish@@birds@@@@trees", "dc.title=T", "dc.subject=rocks",
                        NULL};
    APPLY("[fields dc.subject]\nsplit \"@@\"\n", kv,
          "dc.subject=fish@en#0\ndc.subject=birds@en#1\ndc.subject=trees@en#2\ndc.title=T#0\n"
          "dc.subject=rocks#3\n",
          BR_RULESET_METADATA);
    /* join: one value where the first was, with its language. */
    APPLY("[fields dc.subject]\njoin \"; \"\n", kv,
          "dc.subject=fish@@birds@@@@trees; rocks@en#0\ndc.title=T#0\n", BR_RULESET_METADATA);
    /* Rules run in order: split, trim, then join again; a value made empty is dropped. */
    const char *messy[] = {"dc.subject= a ;b;  ; c ", "dc.subject=   ", NULL};
    APPLY("[fields dc.subject]\nsplit \";\"\ntrim\njoin \", \"\n", messy, "dc.subject=a, b, c#0\n",
          BR_RULESET_METADATA);
    APPLY("[fields dc.subject]\ntrim\n", messy, "dc.subject=a ;b;  ; c#0\n", BR_RULESET_METADATA);
}

static void test_rule_fields_and_sections(void **state)
{
    (void)state;
    const char *kv[] = {
        "dc.title= a ",     "dc.title.alternative= b ", "dc.date.issued= c ", "dc.date= d ",
        "dcterms.date= e ", "esploro.asset.x= f ",      "dc.subject= g ",     NULL};
    /* schema.element.*: the element with any qualifier or none; schema.*: the whole schema. */
    APPLY("[fields dc.date.* esploro.*]\ntrim\n", kv,
          "dc.title= a #0\ndc.title.alternative= b #0\ndc.date.issued=c#0\ndc.date=d#0\n"
          "dcterms.date= e #0\nesploro.asset.x=f#0\ndc.subject= g #0\n",
          BR_RULESET_METADATA);
    /* An exact field is only itself; sections run in order, each on what the last left. */
    APPLY("# two sections\n[fields dc.title]\ntrim\n\n[fields dc.title dc.subject]\ncase upper\n",
          kv,
          "dc.title=A#0\ndc.title.alternative= b #0\ndc.date.issued= c #0\ndc.date= d #0\n"
          "dcterms.date= e #0\nesploro.asset.x= f #0\ndc.subject= G #0\n",
          BR_RULESET_METADATA);
    /* CRLF line ends, a byte-order mark, blank lines and comments are fine. */
    APPLY("\xEF\xBB\xBF# c\r\n\r\n  [fields *]  \r\n  # indented comment\r\n\ttrim\r\n", kv,
          "dc.title=a#0\ndc.title.alternative=b#0\ndc.date.issued=c#0\ndc.date=d#0\n"
          "dcterms.date=e#0\nesploro.asset.x=f#0\ndc.subject=g#0\n",
          BR_RULESET_METADATA);
}

static void test_rule_creators(void **state)
{
    (void)state;
    br_ruleset *rs = parse_ok("[fields creator.family creator.given]\ntrim\ncase title\n"
                              "[fields creator.display]\ncollapse-spaces\n",
                              NULL);
    br_record *r = br_record_new();
    br_creator *k = br_record_add_creator(r, BR_CREATOR);
    k->family = br_record_str(r, "  SMITH ");
    k->given = br_record_str(r, "jane");
    k->middle = br_record_str(r, " q ");
    k = br_record_add_creator(r, BR_CONTRIBUTOR);
    k->is_organization = 1;
    k->display = br_record_str(r, "Big   Lab");
    k->given = br_record_str(r, "   ");
    assert_non_null(br_record_add_md(r, "dc", "title", NULL, NULL, "  untouched "));
    unsigned changed = 0;
    assert_int_equal(br_ruleset_apply(rs, r, &changed, NULL), 0);
    assert_int_equal(changed, BR_RULESET_CREATORS);
    assert_string_equal(r->creators[0].family, "Smith");
    assert_string_equal(r->creators[0].given, "Jane");
    assert_string_equal(r->creators[0].middle, " q "); /* not named */
    assert_string_equal(r->creators[1].display, "Big Lab");
    assert_null(r->creators[1].given); /* made empty: gone */
    assert_string_equal(r->md[0].value, "  untouched ");
    br_record_free(r);
    br_ruleset_free(rs);
}

static void test_apply_bad_value(void **state)
{
    (void)state;
    br_ruleset *rs = parse_ok("[fields dc.title]\ntrim\n", NULL);
    br_record *r = br_record_new();
    assert_non_null(br_record_add_md(r, "dc", "title", NULL, NULL, "bad \xC3 utf-8"));
    unsigned changed = 0;
    br_error err;
    assert_int_equal(br_ruleset_apply(rs, r, &changed, &err), BR_EINVAL);
    assert_contains(err.message, "dc.title is not valid UTF-8");
    br_record_free(r);
    br_ruleset_free(rs);
    /* A value the rules grow past the cap. */
    rs = parse_ok("[fields dc.title]\nreplace /a/ \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n"
                  "replace /a/ \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n",
                  NULL);
    r = br_record_new();
    char big[2000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_non_null(br_record_add_md(r, "dc", "title", NULL, NULL, big));
    assert_int_equal(br_ruleset_apply(rs, r, &changed, &err), BR_ELIMIT);
    assert_contains(err.message, "longer than 1048576 bytes");
    br_record_free(r);
    br_ruleset_free(rs);
}

/* ---- parse errors, each with its place --------------------------------------------------------
 */

static void test_parse_errors(void **state)
{
    (void)state;
    PARSE_BAD("trim\n", BR_EINVAL, 1, 1, "a rule must follow a [fields");
    PARSE_BAD("[fields dc.title]\nfrobnicate now\n", BR_EINVAL, 2, 1, "unknown rule 'frobnicate'");
    PARSE_BAD("[fields dc.title\ntrim\n", BR_EINVAL, 1, 1, "not closed with ']'");
    PARSE_BAD("[fieldz dc.title]\ntrim\n", BR_EINVAL, 1, 1, "a section starts with [fields");
    PARSE_BAD("[fields]\ntrim\n", BR_EINVAL, 1, 8, "names no field");
    PARSE_BAD("[fields dc.title dc]\ntrim\n", BR_EINVAL, 1, 18, "'dc' is not a field");
    PARSE_BAD("[fields *.title]\ntrim\n", BR_EINVAL, 1, 9, "is not a field");
    PARSE_BAD("[fields dc.ti@le]\ntrim\n", BR_EINVAL, 1, 9, "is not a field");
    PARSE_BAD("[fields dc.title.a.b]\ntrim\n", BR_EINVAL, 1, 9, "is not a field");
    PARSE_BAD("[fields creator.nick]\ntrim\n", BR_EINVAL, 1, 9, "not a creator name part");
    PARSE_BAD("[fields dc.title] x\ntrim\n", BR_EINVAL, 1, 19, "unexpected 'x'");
    PARSE_BAD("[fields dc.title]\n[fields dc.subject]\ntrim\n", BR_EINVAL, 1, 1, "has no rules");
    PARSE_BAD("[fields dc.title]\ntrim\n[fields dc.subject]\n# none\n", BR_EINVAL, 3, 1,
              "has no rules");
    PARSE_BAD("# nothing but a comment\n", BR_EINVAL, 0, 0, "has no rules");
    PARSE_BAD("", BR_EINVAL, 0, 0, "has no rules");
    PARSE_BAD("[fields dc.title]\ntrim extra\n", BR_EINVAL, 2, 6,
              "unexpected 'extra' after the trim");
    PARSE_BAD("[fields dc.title]\nnfc x\n", BR_EINVAL, 2, 5, "unexpected 'x' after the nfc");
    PARSE_BAD("[fields dc.title]\ncollapse-spaces  y\n", BR_EINVAL, 2, 18, "unexpected 'y'");
    PARSE_BAD("[fields dc.title]\ncase\n", BR_EINVAL, 2, 5, "case takes lower, upper or title");
    PARSE_BAD("[fields dc.title]\ncase snake\n", BR_EINVAL, 2, 6, "not 'snake'");
    PARSE_BAD("[fields dc.title]\ncase lower upper\n", BR_EINVAL, 2, 12, "unexpected 'upper'");
    PARSE_BAD("[fields dc.title]\ndate DD.MM.YYYY\n", BR_EINVAL, 2, 6, "date takes YYYYMMDD");
    PARSE_BAD("[fields dc.title]\ndate\n", BR_EINVAL, 2, 5, "date takes YYYYMMDD");
    PARSE_BAD("[fields dc.title]\nreplace colour \"c\"\n", BR_EINVAL, 2, 9, "expected /REGEX/");
    PARSE_BAD("[fields dc.title]\nreplace\n", BR_EINVAL, 2, 8, "expected /REGEX/");
    PARSE_BAD("[fields dc.title]\nreplace /colour \"c\"\n", BR_EINVAL, 2, 9, "not closed with '/'");
    PARSE_BAD("[fields dc.title]\nreplace // \"c\"\n", BR_EINVAL, 2, 9, "is empty");
    PARSE_BAD("[fields dc.title]\nreplace /(a)\\1/ \"c\"\n", BR_EINVAL, 2, 13, "back-references");
    PARSE_BAD("[fields dc.title]\nreplace /a(/ \"c\"\n", BR_EINVAL, 2, 10, "does not compile");
    PARSE_BAD("[fields dc.title]\nreplace /a/x \"c\"\n", BR_EINVAL, 2, 12, "unknown flag 'x'");
    /* Repetitions that multiply what regcomp builds (it would take gigabytes): refused by
     * br_sj_regex_check, the bound update-set's regex shares, at the expression. */
    PARSE_BAD("[fields dc.title]\nreplace /co+++++++++++++++++++++++++lour/ \"c\"\n", BR_EINVAL, 2,
              10, "repeats too much");
    PARSE_BAD("[fields dc.title]\nreplace /((a{99}){99}){99}/ \"c\"\n", BR_EINVAL, 2, 10,
              "repeats too much");
    PARSE_BAD("[fields dc.title]\nreplace /(((((((((((((((a*)*)*)*)*)*)*)*)*)*)*)*)*)*)*)/ \"c\"\n",
              BR_EINVAL, 2, 10, "repeats too much");
    br_ruleset_free(parse_ok("[fields dc.title]\nreplace /[+*{]+(ab|c{2,9})?x{0,99}|[[:alpha:]]]*/ "
                             "\"c\"\n",
                             NULL));
    PARSE_BAD("[fields dc.title]\nreplace /a/ c\n", BR_EINVAL, 2, 13, "expected a quoted string");
    PARSE_BAD("[fields dc.title]\nreplace /a/\n", BR_EINVAL, 2, 12, "at the end of the line");
    PARSE_BAD("[fields dc.title]\nreplace /a/ \"c\n", BR_EINVAL, 2, 13, "not closed with '\"'");
    PARSE_BAD("[fields dc.title]\nreplace /a/ \"c\\q\"\n", BR_EINVAL, 2, 15,
              "unknown escape '\\q'");
    PARSE_BAD("[fields dc.title]\nreplace /a/ \"c\" more\n", BR_EINVAL, 2, 17, "unexpected 'more'");
    PARSE_BAD("[fields dc.title]\nsplit\n", BR_EINVAL, 2, 6, "split: expected a quoted string");
    PARSE_BAD("[fields dc.title]\nsplit \"\"\n", BR_EINVAL, 2, 8, "the separator is empty");
    PARSE_BAD("[fields dc.title]\njoin ;\n", BR_EINVAL, 2, 6, "join: expected a quoted string");
    PARSE_BAD("[fields dc.title creator.family]\njoin \";\"\n", BR_EINVAL, 2, 1,
              "names creator name parts");
    PARSE_BAD("[fields creator.*]\nsplit \";\"\n", BR_EINVAL, 2, 1, "names creator name parts");
    PARSE_BAD("[fields dc.title]\nmap\n", BR_EINVAL, 2, 4, "map takes a file name");
    PARSE_BAD("[fields dc.title]\nmap ../etc/passwd\n", BR_EINVAL, 2, 5, "is not a map file name");
    PARSE_BAD("[fields dc.title]\nmap .hidden\n", BR_EINVAL, 2, 5, "is not a map file name");
    PARSE_BAD("[fields dc.title]\nmap nosuch.tsv\n", BR_EINVAL, 2, 5, "ships no map file");
    /* A quoted character is quoted whole, and so is a word cut for a message. */
    PARSE_BAD("[fields dc.title]\nreplace /a/\xC3\xA9 \"c\"\n", BR_EINVAL, 2, 12,
              "unknown flag '\xC3\xA9'");
    PARSE_BAD("[fields dc.title]\nreplace /a/ \"c\\\xC3\xA9\"\n", BR_EINVAL, 2, 15,
              "unknown escape '\\\xC3\xA9'");
    PARSE_BAD(
        "[fields dc.title]\n\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
        "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
        "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
        "\xC3\xA9\xC3\xA9\xC3\xA9x\n",
        BR_EINVAL, 2, 1,
        "unknown rule '\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
        "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
        "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
        "\xC3\xA9' (trim");
    /* Columns count characters, not bytes. */
    PARSE_BAD("[fields dc.title]\n# \xC3\xA9t\xC3\xA9\nreplace /\xC3\xA9/ \"\xC3\xA9\" x\n",
              BR_EINVAL, 3, 17, "unexpected 'x'");
    /* The text itself: not UTF-8, a NUL byte. */
    PARSE_BAD("[fields dc.title]\ntrim\n# caf\xC3\n", BR_EINVAL, 3, 6, "not valid UTF-8");
    parse_bad_n("[fields dc.title]\ntr\0im\n", 23, NULL, BR_EINVAL, 2, 3, "NUL byte", __FILE__,
                __LINE__);
    /* The error names its source. */
    br_ruleset *rs;
    br_error err;
    assert_int_equal(br_ruleset_parse("x", 1, "mine.rules", NULL, &rs, &err), BR_EINVAL);
    assert_string_equal(err.place.source, "mine.rules");
}

static void test_parse_map_errors(void **state)
{
    (void)state;
    char *dir = tu_tmpdir();
    char src[4300];
    snprintf(src, sizeof src, "%s/m.tsv", dir);
    const char *rules = "[fields dc.language]\nmap m.tsv\n";
    PARSE_BAD_DIR("[fields dc.language]\nmap missing.tsv\n", dir, BR_EINVAL, 2, 5,
                  "there is no map file 'missing.tsv'");
    static const struct {
        const char *text;
        unsigned line, col;
        const char *needle;
    } cases[] = {
        {"a\tb\nno tab here\n", 2, 0, "no tab on this line"},
        {"a\tb\n# c\nb\tc\na\td\n", 4, 1, "'a' is mapped already on line 1"},
        {"a\tb\tc\n", 1, 4, "more than two columns"},
        {"\tb\n", 1, 1, "the value to map is empty"},
        {"a\tb\n\xFF\tc\n", 2, 1, "not valid UTF-8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_write(dir, "m.tsv", cases[i].text);
        br_ruleset *rs = NULL;
        br_error err;
        assert_int_equal(br_ruleset_parse(rules, strlen(rules), "t.rules", dir, &rs, &err),
                         BR_EINVAL);
        if (strcmp(err.place.source, src) || err.place.line != cases[i].line ||
            err.place.column != cases[i].col || !strstr(err.message, cases[i].needle))
            fail_msg("map case %zu: %s:%u:%u: %s", i, err.place.source, err.place.line,
                     err.place.column, err.message);
    }
    /* The same map twice is read once; a map of the cap's size is fine, one more line is not. */
    tu_log l;
    tu_log_init(&l);
    for (int i = 0; i < BR_RULES_MAP_ENTRIES; i++)
        tu_log_printf(&l, "k%d\tv\n", i);
    tu_write(dir, "m.tsv", l.text);
    br_ruleset *rs = parse_ok("[fields dc.language]\nmap m.tsv\nmap m.tsv\n", dir);
    br_ruleset_free(rs);
    tu_log_printf(&l, "one\tmore\n");
    tu_write(dir, "m.tsv", l.text);
    tu_log_dispose(&l);
    br_error err;
    assert_int_equal(br_ruleset_parse(rules, strlen(rules), "t.rules", dir, &rs, &err), BR_ELIMIT);
    assert_int_equal(err.place.line, BR_RULES_MAP_ENTRIES + 1);
    assert_contains(err.message, "more than 200000 values");
    tu_rmtree(dir);
    free(dir);
}

static void test_parse_caps(void **state)
{
    (void)state;
    tu_log l;
    tu_log_init(&l);
    /* A line over BR_RULES_LINE_MAX bytes. */
    tu_log_printf(&l, "[fields dc.title]\ntrim\n# ");
    for (int i = 0; i < BR_RULES_LINE_MAX; i++)
        tu_log_printf(&l, "x");
    tu_log_printf(&l, "\n");
    PARSE_BAD(l.text, BR_ELIMIT, 3, BR_RULES_LINE_MAX + 1, "longer than 4096 bytes");
    /* BR_RULES_MAX rules parse; one more is refused at its line. */
    tu_log_clear(&l);
    tu_log_printf(&l, "[fields dc.title]\n");
    for (int i = 0; i < BR_RULES_MAX; i++)
        tu_log_printf(&l, "trim\n");
    br_ruleset *rs = parse_ok(l.text, NULL);
    assert_int_equal(br_ruleset_rules(rs), BR_RULES_MAX);
    assert_int_equal(br_ruleset_sections(rs), 1);
    br_ruleset_free(rs);
    tu_log_printf(&l, "nfc\n");
    PARSE_BAD(l.text, BR_ELIMIT, BR_RULES_MAX + 2, 1, "at most 1000 rules");
    /* Fields on one line. */
    tu_log_clear(&l);
    tu_log_printf(&l, "[fields");
    for (int i = 0; i <= BR_RULES_FIELDS_MAX; i++)
        tu_log_printf(&l, " dc.f%d", i);
    tu_log_printf(&l, "]\ntrim\n");
    PARSE_BAD(l.text, BR_ELIMIT, 1, 7 + 10 * 6 + 54 * 7 + 2, "at most 64 fields");
    /* Sections. */
    tu_log_clear(&l);
    for (int i = 0; i <= BR_RULES_SECTIONS_MAX; i++)
        tu_log_printf(&l, "[fields dc.title]\ntrim\n");
    PARSE_BAD(l.text, BR_ELIMIT, 2 * BR_RULES_SECTIONS_MAX + 1, 1, "at most 200 [fields] lines");
    /* Map files. */
    char *dir = tu_tmpdir();
    tu_log_clear(&l);
    tu_log_printf(&l, "[fields dc.title]\n");
    for (int i = 0; i <= BR_RULES_MAPS_MAX; i++) {
        char name[32];
        snprintf(name, sizeof name, "m%d.tsv", i);
        tu_write(dir, name, "a\tb\n");
        tu_log_printf(&l, "map %s\n", name);
    }
    PARSE_BAD_DIR(l.text, dir, BR_ELIMIT, BR_RULES_MAPS_MAX + 2, 5, "at most 16 map files");
    /* A map file over its byte cap. */
    char *big = malloc(BR_RULES_MAP_MAX + 2);
    memset(big, 'a', BR_RULES_MAP_MAX + 1);
    big[BR_RULES_MAP_MAX + 1] = 0;
    tu_write(dir, "big.tsv", big);
    free(big);
    br_error err;
    const char *r = "[fields dc.title]\nmap big.tsv\n";
    assert_int_equal(br_ruleset_parse(r, strlen(r), "t.rules", dir, &rs, &err), BR_ELIMIT);
    assert_contains(err.message, "more than the 8388608 allowed");
    tu_rmtree(dir);
    free(dir);
    /* The file's own size. */
    char *text = malloc(BR_RULES_FILE_MAX + 2);
    memset(text, '#', BR_RULES_FILE_MAX + 1);
    text[BR_RULES_FILE_MAX + 1] = 0;
    parse_bad_n(text, BR_RULES_FILE_MAX + 1, NULL, BR_ELIMIT, 0, 0, "more than the 262144 allowed",
                __FILE__, __LINE__);
    free(text);
    tu_log_dispose(&l);
}

/* ---- rule sets by name ---------------------------------------------------------------------- */

typedef struct listed {
    char text[4096];
} listed;

static int list_one(void *ctx, const br_ruleset_info *i)
{
    listed *l = ctx;
    size_t n = strlen(l->text);
    snprintf(l->text + n, sizeof l->text - n, "%s %s %s %zu %s|", i->name, i->origin,
             !i->valid     ? "invalid"
             : i->shadowed ? "replaced"
                           : "ok",
             i->rules, i->summary);
    if (i->problem) {
        n = strlen(l->text);
        snprintf(l->text + n, sizeof l->text - n, "(%s)|", i->problem);
    }
    return 0;
}

static void test_shipped_rule_sets(void **state)
{
    (void)state;
    listed l = {""};
    assert_int_equal(br_ruleset_list(NULL, list_one, &l, NULL), 0);
    assert_string_equal(
        l.text, "dates shipped ok 4 Dates as Esploro writes them, YYYYMMDD: 2021-10-18, "
                "2021/10/18, 2021.10.18, 10/18/2021 -> 20211018.|default shipped ok 3 Tidy every "
                "value: trim, one space between words, Unicode NFC (metadata and creator names).|"
                "languages shipped ok 4 Languages as ISO 639-2/B codes: \"English\", \"EN\" -> "
                "eng; several in one value split at \";\".|");
    /* default: every metadata field and the creators' names. */
    br_ruleset *rs = NULL;
    assert_int_equal(br_ruleset_load(NULL, "default", &rs, NULL), 0);
    br_record *r = br_record_new();
    assert_non_null(br_record_add_md(r, "dc", "title", NULL, NULL, "  A   t\xC3\xADtle "));
    assert_non_null(br_record_add_md(r, "local", "note", "x", NULL, "e\xCC\x81  "));
    br_creator *k = br_record_add_creator(r, BR_CREATOR);
    k->family = br_record_str(r, " Smith ");
    unsigned changed;
    assert_int_equal(br_ruleset_apply(rs, r, &changed, NULL), 0);
    assert_int_equal(changed, BR_RULESET_METADATA | BR_RULESET_CREATORS);
    assert_string_equal(r->md[0].value, "A t\xC3\xADtle");
    assert_string_equal(r->md[1].value, "\xC3\xA9");
    assert_string_equal(r->creators[0].family, "Smith");
    br_record_free(r);
    br_ruleset_free(rs);
    /* languages: split, lower case, the shipped map. */
    assert_int_equal(br_ruleset_load(NULL, "languages", &rs, NULL), 0);
    const char *kv[] = {"dc.language.iso=English; DE;fra", NULL};
    r = rec_of(kv);
    assert_int_equal(br_ruleset_apply(rs, r, &changed, NULL), 0);
    char *d = dump(r);
    assert_string_equal(d, "dc.language.iso=eng#0\ndc.language.iso=ger#1\ndc.language.iso=fre#2\n");
    free(d);
    br_record_free(r);
    br_ruleset_free(rs);
    /* Names that break the rule, and names no set has. */
    br_error err;
    assert_int_equal(br_ruleset_load(NULL, "../default", &rs, &err), BR_EUSAGE);
    assert_contains(err.message, "is not a rule set name");
    assert_int_equal(br_ruleset_load(NULL, "", &rs, &err), BR_EUSAGE);
    assert_int_equal(br_ruleset_load(NULL, "nosuch", &rs, &err), BR_EUSAGE);
    assert_contains(err.message, "there is no rule set 'nosuch' (available: dates, default, "
                                 "languages; bulkrepo normalize list)");
}

static void test_repository_rule_sets(void **state)
{
    fx *f = *state;
    fx_write(f, "r/normalization/default.rules",
             "# Ours: upper case titles\n[fields dc.title]\n"
             "case upper\n");
    fx_write(f, "r/normalization/names.rules", "[fields dc.publisher]\nmap publishers.tsv\n");
    fx_write(f, "r/normalization/publishers.tsv", "OUP\tOxford University Press\n");
    fx_write(f, "r/normalization/broken.rules", "[fields dc.title]\ncase sideways\n");
    fx_write(f, "r/normalization/bad name.rules", "[fields dc.title]\ntrim\n"); /* not listed */
    fx_write(f, "r/normalization/notes.txt", "not a rule set\n");
    fx_write(f, "elsewhere.rules", "[fields dc.title]\ntrim\n");
    SH(f, 0, "ln -s ../../elsewhere.rules r/normalization/linked.rules");
    br_repo *repo;
    assert_int_equal(br_repo_open(f->repo, &repo, NULL), 0);
    listed l = {""};
    assert_int_equal(br_ruleset_list(repo, list_one, &l, NULL), 0);
    char want[6000];
    snprintf(want, sizeof want,
             "broken repository invalid 0 |(%s/normalization/broken.rules:2:6: case takes lower, "
             "upper or title, not 'sideways')|dates shipped ok 4 ",
             f->repo);
    if (strncmp(l.text, want, strlen(want)))
        fail_msg("listed:\n%s\nwanted first:\n%s", l.text, want);
    assert_contains(l.text, "|default repository ok 1 Ours: upper case titles|default shipped "
                            "replaced 3 Tidy every value");
    assert_contains(l.text, "|names repository ok 1 |");
    assert_not_contains(l.text, "linked");
    assert_not_contains(l.text, "bad name");
    /* The repository's default replaces the shipped one. */
    br_ruleset *rs = NULL;
    br_error err;
    assert_int_equal(br_ruleset_load(repo, "default", &rs, &err), 0);
    const char *kv[] = {"dc.title= x ", "dc.publisher=OUP", NULL};
    br_record *r = rec_of(kv);
    unsigned changed;
    assert_int_equal(br_ruleset_apply(rs, r, &changed, NULL), 0);
    assert_string_equal(r->md[0].value, " X ");
    br_ruleset_free(rs);
    /* Its maps are read from its folder. */
    assert_int_equal(br_ruleset_load(repo, "names", &rs, &err), 0);
    assert_int_equal(br_ruleset_apply(rs, r, &changed, NULL), 0);
    assert_string_equal(r->md[1].value, "Oxford University Press");
    br_ruleset_free(rs);
    br_record_free(r);
    /* A broken set names its file, line and column; a link is refused. */
    assert_int_equal(br_ruleset_load(repo, "broken", &rs, &err), BR_EINVAL);
    assert_int_equal(err.place.line, 2);
    assert_int_equal(err.place.column, 6);
    assert_contains(err.place.source, "/normalization/broken.rules");
    assert_int_equal(br_ruleset_load(repo, "linked", &rs, &err), BR_EINVAL);
    assert_contains(err.message, "not a regular file");
    br_repo_free(repo);
}

/* ---- the job ---------------------------------------------------------------------------------
 */

/* Inserts a record into the fixture's collection; its handle (static buffer). */
static const char *insert(fx *f, br_record *r)
{
    static char h[4][64];
    static int k;
    br_repo *repo;
    br_error err;
    assert_int_equal(br_repo_open(f->repo, &repo, &err), 0);
    assert_int_equal(br_record_add_collection(r, f->coll), 0);
    if (br_item_insert(repo, r, NULL, &err)) fail_msg("insert: %s", err.message);
    br_repo_free(repo);
    k = (k + 1) % 4;
    snprintf(h[k], sizeof h[k], "%s", r->handle);
    br_record_free(r);
    return h[k];
}

static const char *messy_item(fx *f)
{
    const char *kv[] = {"dc.title=\xC2\xA0The   Title ",
                        "dc.subject=caf"
                        "e\xCC\x81",
                        "dc.subject=fish", "dc.date.issued=2021-10-18", NULL};
    br_record *r = rec_of(kv);
    br_creator *k = br_record_add_creator(r, BR_CREATOR);
    k->family = br_record_str(r, " Smith ");
    k->given = br_record_str(r, "Jane");
    return insert(f, r);
}

static const char *clean_item(fx *f)
{
    const char *kv[] = {"dc.title=Clean", "dc.date.issued=20200101", NULL};
    return insert(f, rec_of(kv));
}

static json_t *content(fx *f, const char *h)
{
    json_t *it = fx_show(f, h);
    json_object_del(it, "lastModified");
    return it;
}

static json_t *change_of(json_t *preview, size_t member, const char *field)
{
    json_t *ch = json_object_get(json_array_get(json_object_get(preview, "changes"), member),
                                 "changes"),
           *c;
    size_t i;
    json_array_foreach(ch, i, c)
    {
        if (!strcmp(fx_str(c, "field"), field)) return c;
    }
    return NULL;
}

static void test_job_default_dry_run_run_revert(void **state)
{
    fx *f = *state;
    const char *a = messy_item(f);
    char ha[64];
    snprintf(ha, sizeof ha, "%s", a);
    const char *b = clean_item(f);
    RUN(f, 0, "set create tidy --member %s --member %s", ha, b);
    json_t *before = content(f, ha), *before_b = content(f, b);

    /* Dry run: field: old -> new per member, nothing written. */
    json_t *pv = fx_json(f, "job run normalize-assets --set tidy --dry-run --json");
    assert_int_equal(json_integer_value(json_object_get(pv, "members")), 2);
    json_t *c = change_of(pv, 0, "dc.title");
    assert_non_null(c);
    assert_string_equal(fx_str(c, "old"), "\xC2\xA0The   Title ");
    assert_string_equal(fx_str(c, "new"), "The Title");
    c = change_of(pv, 0, "dc.subject");
    assert_string_equal(fx_str(c, "old"), "cafe\xCC\x81 | fish");
    assert_string_equal(fx_str(c, "new"), "caf\xC3\xA9 | fish");
    c = change_of(pv, 0, "creators");
    assert_string_equal(fx_str(c, "old"), " Smith , Jane");
    assert_string_equal(fx_str(c, "new"), "Smith, Jane");
    assert_null(change_of(pv, 0, "dc.date.issued"));
    assert_string_equal(fx_str(json_array_get(json_object_get(pv, "changes"), 1), "skip"),
                        "nothing to change");
    json_decref(pv);
    RUN(f, 0, "job run normalize-assets --set tidy --dry-run");
    assert_contains(f->out, "dc.title: \xC2\xA0The   Title  \xE2\x86\x92 The Title");
    assert_contains(f->err, "2 members; of the 2 looked at, 1 would change and 1 would be left");
    json_t *now = content(f, ha);
    assert_true(json_equal(before, now));
    json_decref(now);

    /* The run: one updated, one skipped, journaled. */
    json_t *job = fx_json(f, "job run normalize-assets --set tidy --wait --json");
    long long id = (long long)json_integer_value(json_object_get(job, "id"));
    json_decref(job);
    job = fx_job(f, id);
    assert_string_equal(fx_status_code(job), "COMPLETED_SUCCESS");
    assert_int_equal(fx_counter(job, "updated"), 1);
    assert_int_equal(fx_counter(job, "skipped"), 1);
    json_t *recs = json_object_get(job, "records");
    assert_int_equal(json_array_size(recs), 2);
    assert_string_equal(fx_str(json_array_get(recs, 0), "outcome"), "updated");
    assert_string_equal(fx_str(json_array_get(recs, 1), "outcome"), "skipped");
    assert_string_equal(fx_str(json_array_get(recs, 1), "message"), "nothing to change");
    json_decref(job);
    json_t *after = content(f, ha);
    assert_string_equal(md(after, "dc.title", 0), "The Title");
    assert_string_equal(md(after, "dc.subject", 0), "caf\xC3\xA9");
    assert_string_equal(md(after, "dc.subject", 1), "fish");
    assert_string_equal(md(after, "dc.date.issued", 0), "2021-10-18");
    json_t *k0 = json_array_get(json_object_get(after, "creators"), 0);
    assert_string_equal(fx_str(k0, "family"), "Smith");
    assert_string_equal(fx_str(k0, "given"), "Jane");
    json_decref(after);
    now = content(f, b);
    assert_true(json_equal(before_b, now));
    json_decref(now);

    /* Revert: the record is back exactly. */
    RUN(f, 0, "job revert %lld --wait", id);
    now = content(f, ha);
    if (!json_equal(before, now)) {
        char *x = json_dumps(before, JSON_INDENT(1)), *y = json_dumps(now, JSON_INDENT(1));
        fail_msg("not reverted:\n%s\n---\n%s", x, y);
    }
    json_decref(now);
    json_decref(before);
    json_decref(before_b);
    ASSERT_FSCK_CLEAN(f);
}

static void test_job_chosen_rules(void **state)
{
    fx *f = *state;
    const char *a = messy_item(f);
    char ha[64];
    snprintf(ha, sizeof ha, "%s", a);
    RUN(f, 0, "set create s --member %s", ha);
    /* The shipped dates set, chosen instead of the default. */
    RUN(f, 0, "job run normalize-assets --set s --param rules=dates --wait");
    json_t *it = content(f, ha);
    assert_string_equal(md(it, "dc.date.issued", 0), "20211018");
    assert_string_equal(md(it, "dc.title", 0), "\xC2\xA0The   Title "); /* not named */
    json_decref(it);
    /* A repository's own set with its map; split and join. */
    fx_write(f, "r/normalization/subjects.rules",
             "# Subjects from the old system\n[fields dc.subject]\nnfc\nmap subjects.tsv\n"
             "split \"/\"\njoin \" -- \"\n[fields dc.title]\ntrim\ncase upper\n");
    fx_write(f, "r/normalization/subjects.tsv", "fish\tBiology/Fish\n");
    RUN(f, 0, "job run normalize-assets --set s --param rules=subjects --wait");
    it = content(f, ha);
    assert_int_equal(md_n(it, "dc.subject"), 1);
    assert_string_equal(md(it, "dc.subject", 0), "caf\xC3\xA9 -- Biology -- Fish");
    assert_string_equal(md(it, "dc.title", 0), "THE   TITLE");
    json_decref(it);
    json_t *l = fx_json(f, "normalize list --json");
    assert_string_equal(fx_str(json_array_get(l, 2), "name"), "languages");
    assert_string_equal(fx_str(json_array_get(l, 3), "name"), "subjects");
    assert_string_equal(fx_str(json_array_get(l, 3), "origin"), "repository");
    assert_string_equal(fx_str(json_array_get(l, 3), "summary"), "Subjects from the old system");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(l, 3), "rules")), 6);
    json_decref(l);
}

static void test_job_bad_rules(void **state)
{
    fx *f = *state;
    const char *a = clean_item(f);
    RUN(f, 0, "set create s --member %s", a);
    RUN(f, 2, "job run normalize-assets --set s --param rules=nosuch");
    assert_contains(f->err, "there is no rule set 'nosuch' (available: dates, default, languages");
    RUN(f, 2, "job run normalize-assets --set s --param rules=../etc --dry-run");
    assert_contains(f->err, "is not a rule set name");
    RUN(f, 2, "job run normalize-assets --set s --param rule=default");
    assert_contains(f->err, "takes no parameter 'rule' (it takes: rules)");
    fx_write(f, "r/normalization/broken.rules", "[fields dc.title]\ntrim\nreplace /a(/ \"b\"\n");
    RUN(f, 3, "job run normalize-assets --set s --param rules=broken");
    assert_contains(f->err, "/normalization/broken.rules:3:10: replace: the regular expression");
    RUN(f, 3, "job run normalize-assets --set s --param rules=broken --dry-run");
    RUN(f, 0, "job list --json");
    assert_string_equal(f->out, "[]\n"); /* nothing was queued */
}

static void test_cli_check_list(void **state)
{
    fx *f = *state;
    fx_write(f, "good.rules", "[fields dc.title]\ntrim\nnfc\n[fields creator.*]\ntrim\n");
    fx_write(f, "bad.rules", "[fields dc.title]\ntrim\nfrobnicate\n");
    fx_write(f, "maps/m.rules", "[fields dc.language]\nmap m.tsv\n");
    fx_write(f, "maps/m.tsv", "x\ty\nx\tz\n");
    RUN(f, 0, "normalize check good.rules");
    assert_string_equal(f->out, "good.rules: ok (3 rules under 2 [fields] lines)\n");
    RUN(f, 3, "normalize check good.rules bad.rules");
    assert_contains(f->out, "good.rules: ok");
    assert_contains(f->err, "bad.rules:3:1: unknown rule 'frobnicate'");
    RUN(f, 3, "normalize check maps/m.rules");
    assert_contains(f->err, "maps/m.tsv:2:1: 'x' is mapped already on line 1");
    RUN(f, 3, "normalize check nosuch.rules");
    assert_contains(f->err, "nosuch.rules");
    json_t *j = fx_json(f, "normalize check good.rules --json");
    assert_true(json_is_true(json_object_get(json_array_get(j, 0), "valid")));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(j, 0), "rules")), 3);
    json_decref(j);
    RUN(f, 3, "normalize check bad.rules --json");
    j = fx_parse(f, "check --json");
    json_t *e = json_object_get(json_array_get(j, 0), "error");
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 3);
    assert_int_equal(json_integer_value(json_object_get(e, "column")), 1);
    assert_string_equal(fx_str(e, "source"), "bad.rules");
    json_decref(j);
    RUN(f, 2, "normalize check");
    RUN(f, 2, "normalize check --bogus x.rules");
    RUN(f, 2, "normalize");
    RUN(f, 2, "normalize frob");
    RUN(f, 0, "normalize --help");
    assert_contains(f->out, "usage: bulkrepo normalize check FILE... [--json]");
    RUN(f, 0, "normalize check --help");
    assert_contains(f->out, "Exit codes");
    RUN(f, 0, "--help");
    assert_contains(f->out, "normalize");
    /* list: a table; without a repository, the shipped sets. */
    RUN(f, 0, "normalize list");
    assert_contains(f->out, "NAME                 ORIGIN      RULES  STATUS    SUMMARY\n");
    assert_contains(f->out, "default              shipped         3  ok        Tidy every value");
    SH(f, 0, "cd /tmp && BULKREPO_REPO=%s/none \"$BR\" normalize list --json", f->dir);
    assert_contains(f->err, "no repository at");
    j = fx_parse(f, "list --json");
    assert_int_equal(json_array_size(j), 3);
    json_decref(j);
    RUN(f, 2, "normalize list extra");
    json_t *types = fx_json(f, "job types --json");
    assert_contains(f->out, "\"normalize-assets\"");
    json_decref(types);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_trim_collapse_nfc),
        cmocka_unit_test(test_rule_case),
        cmocka_unit_test(test_rule_replace),
        cmocka_unit_test(test_rule_date),
        cmocka_unit_test(test_rule_map),
        cmocka_unit_test(test_rule_split_join),
        cmocka_unit_test(test_rule_fields_and_sections),
        cmocka_unit_test(test_rule_creators),
        cmocka_unit_test(test_apply_bad_value),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_map_errors),
        cmocka_unit_test(test_parse_caps),
        cmocka_unit_test(test_shipped_rule_sets),
        FX_TEST(test_repository_rule_sets),
        FX_TEST(test_job_default_dry_run_run_revert),
        FX_TEST(test_job_chosen_rules),
        FX_TEST(test_job_bad_rules),
        FX_TEST(test_cli_check_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
