/* The operations of each format driver, each in the file that implements it;
 * the driver tables (saf_format.c, esploro_format.c) put them together. */
#ifndef BR_FORMATS_DRIVERS_H
#define BR_FORMATS_DRIVERS_H

#include "formats/format.h"

/* SAF: reader (saf_format.c), writer (saf_writer.c), extract (saf_extract.c). */
int br_saf_drv_open(const br_read_options *opt, br_reader **out, br_error *err);
int br_saf_drv_next(br_reader *r, br_record *rec, br_read_info *info, br_error *err);
int br_saf_drv_rewind(br_reader *r, br_error *err);
void br_saf_drv_close(br_reader *r);
int br_saf_drv_writer_open(const br_write_options *opt, br_writer **out, br_error *err);
int br_saf_drv_write(br_writer *w, const char *key, br_record *rec, br_error *err);
int br_saf_drv_writer_close(br_writer *w, br_error *err);
void br_saf_drv_writer_abort(br_writer *w);
/* saf_write.c: writes DIR/relationships for the left relations of rels (none:
 * no file); folder_of maps a target handle to its folder in the package
 * ("folderName:") or NULL (the handle is written).  item names the item in
 * messages. */
int br_saf_write_relationships(const char *dir, const char *item, const br_relation *rels, size_t n,
                               const char *(*folder_of)(void *, const char *), void *ctx,
                               br_error *err);
int br_saf_drv_extract(const br_extract_options *opt, br_error *err);

/* Esploro CSV: reader (esploro_format.c), writer (esploro_writer.c), extract
 * (esploro_extract.c). */
int br_ecsv_drv_open(const br_read_options *opt, br_reader **out, br_error *err);
int br_ecsv_drv_next(br_reader *r, br_record *rec, br_read_info *info, br_error *err);
int br_ecsv_drv_rewind(br_reader *r, br_error *err);
void br_ecsv_drv_close(br_reader *r);
int br_ecsv_drv_covers(const br_reader *r, const char *target);
int br_ecsv_drv_writer_open(const br_write_options *opt, br_writer **out, br_error *err);
int br_ecsv_drv_write(br_writer *w, const char *key, br_record *rec, br_error *err);
int br_ecsv_drv_writer_close(br_writer *w, br_error *err);
void br_ecsv_drv_writer_abort(br_writer *w);
int br_ecsv_drv_extract(const br_extract_options *opt, br_error *err);

/* XLSX publications: reader (xlsx_format.c), writer and extract (xlsx_write.c). */
int br_xlsx_drv_open(const br_read_options *opt, br_reader **out, br_error *err);
int br_xlsx_drv_next(br_reader *r, br_record *rec, br_read_info *info, br_error *err);
int br_xlsx_drv_rewind(br_reader *r, br_error *err);
void br_xlsx_drv_close(br_reader *r);
int br_xlsx_drv_writer_open(const br_write_options *opt, br_writer **out, br_error *err);
int br_xlsx_drv_write(br_writer *w, const char *key, br_record *rec, br_error *err);
int br_xlsx_drv_writer_close(br_writer *w, br_error *err);
void br_xlsx_drv_writer_abort(br_writer *w);
int br_xlsx_drv_extract(const br_extract_options *opt, br_error *err);

#endif
