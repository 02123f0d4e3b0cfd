/* Record snapshots: a record, or some of its parts, as JSON that reads back into the same
 * record (values in their stored order, files by checksum).  The undo journal keeps the parts
 * a job changed (job_undo.before) and the trash keeps whole records in this form.
 *
 * Unlike br_record_to_json (the API's view, fields grouped by name), a snapshot keeps the
 * order of every list, so a record restored from one exports exactly as before. */
#ifndef BR_MODEL_SNAPSHOT_H
#define BR_MODEL_SNAPSHOT_H

#include "bulkrepo/error.h"
#include "bulkrepo/record.h"

/* The parts of a record a snapshot may hold. */
enum {
    BR_PART_METADATA = 1u << 0,
    BR_PART_CREATORS = 1u << 1,
    BR_PART_LINKS = 1u << 2,
    BR_PART_IDENTIFIERS = 1u << 3,
    BR_PART_FILES = 1u << 4,
    BR_PART_STATUS = 1u << 5,
    BR_PART_COLLECTIONS = 1u << 6,
    BR_PART_RELATIONS = 1u << 7,
    BR_PART_IDENTITY = 1u << 8, /* uuid, handle, created, modified */
    BR_PART_ALL = (1u << 9) - 1
};

/* Writes the parts of rec named by parts as a JSON object (compact, UTF-8); *out is
 * malloc'd.  0, BR_ENOMEM, BR_EINVAL (text that is not UTF-8). */
int br_snapshot_write(const br_record *rec, unsigned parts, char **out, br_error *err);
/* Reads a snapshot into rec (reset first); *parts (may be NULL) gets the parts it held.
 * 0; BR_EINVAL (not a snapshot, named in err); BR_ENOMEM. */
int br_snapshot_read(const char *text, br_record *rec, unsigned *parts, br_error *err);
#endif
