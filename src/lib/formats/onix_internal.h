/* The ONIX for Books driver's shared parts: its tables (data/onix_*.tsv,
 * data/html_entities.tsv), the streaming product reader (onix_read.c), the
 * writer (onix_write.c) and the driver table with the extract (onix_format.c).
 *
 * Where ONIX goes in the record model (docs/formats.md, "ONIX"):
 *   RecordReference                 -> the record's key, onix.record.reference, identifier onixref
 *   ProductIdentifier 02/03/15      -> dc.identifier.isbn (ISBN-13) + identifier isbn;
 *                                      03 not 978/979 -> onix.identifier.gtin; 06 ->
 * dc.identifier.doi TitleDetail / Title             -> dc.title (type 01), dc.title.alternative,
 * onix.title.subtitle Collection / Series             -> dc.relation.ispartofseries ("Title;
 * PartNumber") Contributor                     -> creators (A01 author) and contributors
 * (contrib_type) Language (role 01)              -> dc.language.iso Subject -> dc.subject[.scheme]
 * ("[CODE] Heading") TextContent / OtherText         -> dc.description[.abstract|.tableofcontents]
 *   Publisher (role 01), Imprint    -> dc.publisher, onix.imprint.name
 *   PublishingDate 01 / PublicationDate -> dc.date.issued (ISO 8601)
 *   Edition*, Extent, ProductForm, ProductComposition, PublishingStatus -> onix.*
 *   RelatedProduct                  -> dc.relation[.qualifier] ("isbn:..." / "doi:...")
 *   everything else                 -> onix.unmapped.<block>: the element as XML, reference names
 *   Header SentDateTime / SentDate  -> onix.message.sentdate (the version) */
#ifndef BR_FORMATS_ONIX_INTERNAL_H
#define BR_FORMATS_ONIX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "core/core.h"
#include "formats/format.h"

/* ---- tables (onix_tables.c) --------------------------------------------------------------- */

/* The tables, parsed once; BR_ENOMEM when they cannot be. */
int br_onix_tables(void);
/* The reference name of an element's local name (a short tag of the release, or a
 * reference name given as is). */
const char *br_onix_refname(int release21, const char *local);
/* The code point of an HTML 4 named entity, or -1. */
long br_onix_entity(const char *name);
/* data/onix_codes.tsv: the value of code in list, or NULL; and the first code whose
 * value is value, or NULL. */
const char *br_onix_code(const char *list, const char *code);
const char *br_onix_code_of(const char *list, const char *value);
/* data/onix_targets.tsv: the 3.0 block of a composite (NULL: not in the table) and its
 * update targets ("dc.title,dc.title.alternative"). */
const char *br_onix_composite(const char *name, const char **targets);
/* The i-th row of the targets table (NULL past the end). */
const char *br_onix_composite_at(size_t i, const char **block, const char **targets);

/* ---- identifiers (onix_read.c) ------------------------------------------------------------ */

/* Checks an ISBN-10 (X allowed last), ISBN-13 or GTIN-13 written with digits only
 * (hyphens and spaces are removed first); writes the ISBN-13 (or GTIN-13) to out[14].
 * Returns 0, or -1 for a wrong length or character, -2 for a wrong check digit. */
int br_onix_isbn13(const char *in, int isbn10, char out[14]);

/* ---- the product reader (onix_read.c) ------------------------------------------------------ */

typedef struct br_onix_rd br_onix_rd;

typedef struct br_onix_rd_options {
    const char *path;      /* the ONIX file */
    const char *name;      /* its name in places ("feed.xml", "pkg.zip/feed.xml") */
    const char *files_dir; /* where named files are looked for (the XML's folder), or NULL */
    const br_limits *limits;
    br_diag_sink *diags;
} br_onix_rd_options;

int br_onix_rd_open(const br_onix_rd_options *opt, br_onix_rd **out, br_error *err);
/* 1: a product in rec and info; 0: the end; negative: the file cannot be read on
 * (malformed XML, an entity declaration, a wrong encoding: err has line:column). */
int br_onix_rd_next(br_onix_rd *r, br_record *rec, br_read_info *info, br_error *err);
int br_onix_rd_rewind(br_onix_rd *r, br_error *err);
void br_onix_rd_close(br_onix_rd *r);

/* ---- the driver's operations ---------------------------------------------------------------- */

int br_onix_drv_writer_open(const br_write_options *opt, br_writer **out, br_error *err);
int br_onix_drv_write(br_writer *w, const char *key, br_record *rec, br_error *err);
int br_onix_drv_writer_close(br_writer *w, br_error *err);
void br_onix_drv_writer_abort(br_writer *w);

/* Appends s XML-escaped (&, <, >; and " when attr) to b; 0 or BR_ENOMEM. */
int br_onix_escape(br_buf *b, const char *s, int attr);

#endif
