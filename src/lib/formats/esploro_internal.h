/* Esploro CSV module internals shared by the crosswalk, reader and writer (not public API). */
#ifndef BR_ESPLORO_INTERNAL_H
#define BR_ESPLORO_INTERNAL_H

#include <stddef.h>
#include "bulkrepo/esploro.h"

/* The kind's name in data/esploro_fields.tsv ("date", "restype", ...). */
const char *br_ecsv_kind_name(br_ecsv_kind kind);

/* By column header of length n, case-insensitive (the header need not be NUL-terminated). */
const br_ecsv_field *br_ecsv_xwalk_column_n(const br_ecsv_xwalk *x, const char *column, size_t n);

/* The canonical ISO 639-2/B code (data/iso639_2b.tsv) for s[0..n), any case; NULL when unknown. */
const char *br_ecsv_lang_canon(const br_ecsv_xwalk *x, const char *s, size_t n);
/* A compact date YYYY, YYYYMM or YYYYMMDD that exists in the calendar: 1 and its
 * ISO 8601 form in iso, else 0.  The reader's check, shared with the writer so
 * that what it writes lints clean. */
int br_ecsv_compact_date(const char *s, size_t n, char iso[11]);
/* The ISO 639-2/B code for another spelling of a language (data/language_aliases.tsv):
 * an ISO 639-1 code (en), a locale (en_US) or an ISO 639-2/T code (deu); NULL when none. */
const char *br_ecsv_lang_from_alias(const br_ecsv_xwalk *x, const char *s, size_t n);
/* The asset-type code for a DSpace dc.type label ("Article", "doctoral thesis";
 * data/restype_aliases.tsv), any case; NULL when the table has no such label. */
const char *br_ecsv_restype_from_label(const br_ecsv_xwalk *x, const char *s, size_t n);
/* The canonical asset-type code (data/esploro_asset_types.tsv) for s[0..n), any case; NULL when
 * unknown. */
const char *br_ecsv_restype_canon(const br_ecsv_xwalk *x, const char *s, size_t n);
/* The known asset-type code closest to s (for hints), never NULL. */
const char *br_ecsv_restype_suggest(const br_ecsv_xwalk *x, const char *s);

/* The row types of column A, in the order a writer emits them. */
enum {
    BR_ECSV_ROW_ASSET = 0,
    BR_ECSV_ROW_PRTOF,
    BR_ECSV_ROW_CREATOR,
    BR_ECSV_ROW_OCREATOR,
    BR_ECSV_ROW_CONT,
    BR_ECSV_ROW_OCONT,
    BR_ECSV_ROW_LINK,
    BR_ECSV_ROW_FILE,
    BR_ECSV_ROW_COUNT
};
extern const char *const br_ecsv_row_names[BR_ECSV_ROW_COUNT];
/* The row type of s[0..n) (case-insensitive), or -1. */
int br_ecsv_row_type(const char *s, size_t n);

#endif
