/* bulkrepo — normalization rule sets (the "Research assets normalization" job, issue 11
 * section 4; the format is docs/normalization.md).
 *
 * A rule set is a small text file: [fields ...] lines name the fields the rules below them
 * apply to, and each rule line is one step (trim, collapse-spaces, nfc, case, replace, date,
 * map, split, join).  Rule sets are shipped with bulkrepo (data/normalization/NAME.rules,
 * compiled in) and kept by a repository (DIR/normalization/NAME.rules); a repository's set
 * replaces a shipped set of the same name.  A parsed set is immutable and may be applied to
 * any number of records. */
#ifndef BULKREPO_NORMALIZE_H
#define BULKREPO_NORMALIZE_H

#include <stddef.h>
#include "error.h"
#include "record.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caps (docs/normalization.md).  Past one, parsing fails with BR_ELIMIT and the place. */
#define BR_RULES_FILE_MAX     (256 * 1024)      /* bytes of a rule file */
#define BR_RULES_LINE_MAX     4096              /* bytes of one line of a rule file */
#define BR_RULES_MAX          1000              /* rules of a set ([fields] lines not counted) */
#define BR_RULES_SECTIONS_MAX 200               /* [fields] lines of a set */
#define BR_RULES_FIELDS_MAX   64                /* fields of one [fields] line */
#define BR_RULES_MAPS_MAX     16                /* distinct map files of a set */
#define BR_RULES_MAP_MAX      (8 * 1024 * 1024) /* bytes of a map file */
#define BR_RULES_MAP_ENTRIES  200000            /* lines of a map file */
#define BR_RULES_NAME_MAX     64                /* bytes of a rule set's name */
#define BR_RULES_VALUE_MAX    (1024 * 1024)     /* bytes of a value a rule makes */

typedef struct br_ruleset br_ruleset;

/* Parses a rule set from text[0..len) (need not be NUL-terminated).  source names the text
 * in errors ("dates.rules"); dir is the folder a `map FILE` rule reads FILE from, NULL for
 * the shipped maps (data/normalization/, compiled in).  0 and *out (free with
 * br_ruleset_free); BR_EINVAL for a line that does not parse (err's place: source, line,
 * column; a map file's own bad line: that file, line, column); BR_ELIMIT for a cap, with its
 * place; BR_ENOMEM. */
int br_ruleset_parse(const char *text, size_t len, const char *source, const char *dir,
                     br_ruleset **out, br_error *err);
/* Parses the rule file at path; its map files are read from the file's folder.  As
 * br_ruleset_parse, and BR_ENOTFOUND / BR_EIO when the file cannot be read. */
int br_ruleset_parse_file(const char *path, br_ruleset **out, br_error *err);
/* The rule set NAME (letters, digits, '-' and '_', at most BR_RULES_NAME_MAX bytes): the
 * repository's DIR/normalization/NAME.rules when there is one (repo may be NULL), else the
 * shipped one.  As br_ruleset_parse; BR_EUSAGE for a name that breaks the rule or that no
 * rule set has (the message lists the available ones). */
int br_ruleset_load(br_repo *repo, const char *name, br_ruleset **out, br_error *err);
void br_ruleset_free(br_ruleset *rs);
/* The number of rules and of [fields] sections. */
size_t br_ruleset_rules(const br_ruleset *rs);
size_t br_ruleset_sections(const br_ruleset *rs);

/* What br_ruleset_apply changed (the same bits as the undo journal's parts). */
enum { BR_RULESET_METADATA = 1u << 0, BR_RULESET_CREATORS = 1u << 1 };

/* Applies the rule set to rec in place: every section's rules, in file order, to the values
 * of the fields it names (metadata; creators' and contributors' name parts for
 * creator.* fields).  *changed gets the parts whose values changed (0 when none).  0;
 * BR_EINVAL (a value that is not UTF-8, named in err); BR_ELIMIT (a value past
 * BR_RULES_VALUE_MAX); BR_ENOMEM.  On failure rec may be partly changed. */
int br_ruleset_apply(const br_ruleset *rs, br_record *rec, unsigned *changed, br_error *err);

/* One available rule set. */
typedef struct br_ruleset_info {
    const char *name;
    const char *origin;  /* "repository" or "shipped" */
    const char *path;    /* the repository's file, or data/normalization/NAME.rules */
    const char *summary; /* the text of the file's first comment line, "" when none */
    int shadowed;        /* a shipped set that a repository set of the same name replaces */
    int valid;           /* it parses */
    const char *problem; /* when not: "source:line:column: message" */
    size_t rules, sections;
} br_ruleset_info;

typedef int (*br_ruleset_fn)(void *ctx, const br_ruleset_info *i);
/* Every rule set by name, a repository's before a shipped one of the same name (repo may be
 * NULL: the shipped ones).  A nonzero return of fn stops.  0; BR_EIO when the repository's
 * normalization folder cannot be read; BR_ENOMEM. */
int br_ruleset_list(br_repo *repo, br_ruleset_fn fn, void *ctx, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
