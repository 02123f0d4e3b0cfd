/* Internal to the jobs module: a format reader on a thread of its own, so that
 * reading and parsing the next records (files, XML, CSV) overlaps the checks
 * and the writes of the current one (issue 13: the pipeline used one core).
 *
 * Records come back in input order, each with the findings its reading
 * produced, captured in the reader's thread and replayed by the caller into
 * its own sink, so findings keep their order and the caller's state is only
 * ever touched by the caller's thread.  Memory: `slots` records at most. */
#ifndef BR_JOBS_READAHEAD_H
#define BR_JOBS_READAHEAD_H

#include "formats/format.h"

typedef struct br_readahead br_readahead;

/* A read-ahead of `slots` records (0 = a default).  *capture gets the sink to
 * open the reader with: it files findings with the record being read, and
 * passes those made outside any record (while opening or rewinding, in the
 * caller's thread) straight to direct. */
int br_readahead_new(size_t slots, br_diag_sink *direct, br_diag_sink **capture, br_readahead **out,
                     br_error *err);
/* Starts reading rd (opened with the capture sink) from where it stands. */
int br_readahead_start(br_readahead *ra, const br_format *fmt, br_reader *rd, br_error *err);
/* The next record, in input order: 1 with *rec and *info (info->key copied into
 * the record), its findings replayed into sink first; 0 at the end; negative
 * when the reader failed (err says why).  The record stays valid until the next
 * call. */
int br_readahead_next(br_readahead *ra, br_diag_sink *sink, br_record **rec, br_read_info *info,
                      br_error *err);
/* Stops the thread (after the record in hand); the reader may then be
 * rewound and started again. */
void br_readahead_stop(br_readahead *ra);
void br_readahead_free(br_readahead *ra);

#endif
