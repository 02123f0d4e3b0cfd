/* Normalization inside the library (bulkrepo/normalize.h is the public side): the text
 * folding the Fix author internal affiliation job matches organisational-unit names with. */
#ifndef BR_JOBS_NORMALIZE_H
#define BR_JOBS_NORMALIZE_H

/* s folded for a loose comparison: Unicode case folding, marks (diacritics) removed,
 * look-alike spaces, dashes and quotes lumped to ASCII (utf8proc's LUMP), runs of white
 * space made one space and trimmed: "  Département  de  Physique " and "departement de
 * physique" fold alike.  malloc'd; NULL when s is not UTF-8 or memory ran out. */
char *br_norm_fold(const char *s);

/* 1 when the code point is white space for trim and collapse-spaces: ASCII \t \n \v \f \r,
 * U+0085 and the Unicode separators (Zs, Zl, Zp: the space, no-break spaces, the em space,
 * the ideographic space, the line and paragraph separators). */
int br_norm_is_space(int cp);

#endif
