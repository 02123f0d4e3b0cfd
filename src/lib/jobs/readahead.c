/* A format reader on its own thread (readahead.h).
 *
 * A ring of slots between two threads: the reader thread fills the slot at
 * `tail` (a record, its read info, its findings, or the reader's failure), the
 * caller takes the slot at `head`.  One mutex, two condition variables; a slot
 * is the caller's from the moment it is handed out until the next call. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "jobs/readahead.h"

#define DEFAULT_SLOTS 32
/* A sleeping side is woken only when this many slots are ready for it (or
 * the input ended): one wake-up per record made the two threads spend more in
 * the scheduler than they gained. */
#define WAKE_AFTER 8

typedef struct slot {
    br_record *rec;
    br_read_info info;
    int rc;       /* of next: 1 a record, 0 the end, < 0 failure */
    br_error err; /* when rc < 0 */
    br_buf diags; /* findings, packed (pack_diag) */
} slot;

struct br_readahead {
    slot *slots;
    size_t n;
    size_t head, count; /* the caller's next slot; slots filled and not yet taken */
    int handed;         /* the caller holds slot head - 1 */
    int stop, running, ended;
    int reader_waits, caller_waits; /* under mu: who sleeps on a condition (signal only then) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t filled, freed;
    const br_format *fmt;
    br_reader *rd;
    slot *current;        /* the slot being filled (reader thread only); NULL outside */
    br_diag_sink *direct; /* findings outside any record (open, rewind): the caller's thread */
    br_diag_sink capture; /* the reader's sink: files findings with `current` */
};

/* ---- findings across threads: packed as the reader reports them, replayed by the caller */

typedef struct packed {
    int severity;
    unsigned line, column;
    unsigned char has; /* which of the strings are present */
} packed;

static const char *const *strings_of(const br_diag *d, const char *s[6])
{
    s[0] = d->item, s[1] = d->source, s[2] = d->cell, s[3] = d->rule, s[4] = d->message,
    s[5] = d->hint;
    return s;
}

static void capture_diag(void *ctx, const br_diag *d)
{
    br_readahead *ra = ctx;
    if (!ra->current) { /* opening or rewinding, in the caller's thread */
        br_diag_emit(ra->direct, d);
        return;
    }
    br_buf *b = &ra->current->diags;
    const char *s[6];
    strings_of(d, s);
    packed p = {(int)d->severity, d->line, d->column, 0};
    for (int i = 0; i < 6; i++)
        if (s[i]) p.has |= (unsigned char)(1u << i);
    /* Out of memory drops the finding's text, never the count: the record
     * still reads as invalid through info.errors. */
    if (br_buf_append(b, (const char *)&p, sizeof p)) return;
    for (int i = 0; i < 6; i++)
        if (s[i] && br_buf_append(b, s[i], strlen(s[i]) + 1)) return;
}

static void replay(const br_buf *b, br_diag_sink *sink)
{
    size_t off = 0;
    while (off + sizeof(packed) <= b->len) {
        packed p;
        memcpy(&p, b->p + off, sizeof p);
        off += sizeof p;
        const char *s[6] = {0};
        for (int i = 0; i < 6 && off < b->len; i++)
            if (p.has & (1u << i)) {
                s[i] = b->p + off;
                off += strlen(s[i]) + 1;
            }
        br_diag d = {(br_severity)p.severity, s[0], s[1], p.line, p.column, s[2], s[3], s[4], s[5]};
        br_diag_emit(sink, &d);
    }
}

/* ---- the reader thread -------------------------------------------------------------------- */

static void *reader_main(void *arg)
{
    br_readahead *ra = arg;
    for (;;) {
        pthread_mutex_lock(&ra->mu);
        /* One slot stays free: the caller may still hold the one it was handed. */
        while (!ra->stop && ra->count + (size_t)ra->handed >= ra->n) {
            ra->reader_waits = 1;
            pthread_cond_wait(&ra->freed, &ra->mu);
            ra->reader_waits = 0;
        }
        if (ra->stop) {
            pthread_mutex_unlock(&ra->mu);
            return NULL;
        }
        slot *s = &ra->slots[(ra->head + ra->count) % ra->n];
        pthread_mutex_unlock(&ra->mu);

        br_buf_clear(&s->diags);
        br_error_clear(&s->err);
        ra->current = s;
        s->rc = ra->fmt->next(ra->rd, s->rec, &s->info, &s->err);
        /* The key lives in the reader until its next call: the record keeps a copy. */
        if (s->rc == 1 && s->info.key && !(s->info.key = br_record_str(s->rec, s->info.key)))
            s->rc = br_error_set(&s->err, BR_ENOMEM, NULL, 0, 0, "out of memory");

        pthread_mutex_lock(&ra->mu);
        ra->count++;
        int last = s->rc != 1;
        if (last) ra->ended = 1;
        if (ra->caller_waits && (last || ra->count >= WAKE_AFTER || ra->count >= ra->n - 1))
            pthread_cond_signal(&ra->filled);
        pthread_mutex_unlock(&ra->mu);
        if (last) return NULL;
    }
}

int br_readahead_new(size_t n, br_diag_sink *direct, br_diag_sink **capture, br_readahead **out,
                     br_error *err)
{
    *out = NULL;
    br_readahead *ra = calloc(1, sizeof *ra);
    if (!ra) return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    pthread_mutex_init(&ra->mu, NULL);
    pthread_cond_init(&ra->filled, NULL);
    pthread_cond_init(&ra->freed, NULL);
    ra->n = n ? n : DEFAULT_SLOTS;
    if (ra->n < 2) ra->n = 2;
    ra->slots = calloc(ra->n, sizeof *ra->slots);
    int rc = 0;
    if (!ra->slots) rc = BR_ENOMEM;
    for (size_t i = 0; !rc && i < ra->n; i++)
        if (!(ra->slots[i].rec = br_record_new())) rc = BR_ENOMEM;
    if (rc) {
        br_readahead_free(ra);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    ra->direct = direct;
    ra->capture.fn = capture_diag;
    ra->capture.ctx = ra;
    *capture = &ra->capture;
    *out = ra;
    return 0;
}

int br_readahead_start(br_readahead *ra, const br_format *fmt, br_reader *rd, br_error *err)
{
    br_readahead_stop(ra);
    ra->fmt = fmt;
    ra->rd = rd;
    ra->head = ra->count = 0;
    ra->handed = ra->stop = ra->ended = 0;
    if (pthread_create(&ra->thread, NULL, reader_main, ra))
        return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "cannot start the reader thread");
    ra->running = 1;
    return 0;
}

int br_readahead_next(br_readahead *ra, br_diag_sink *sink, br_record **rec, br_read_info *info,
                      br_error *err)
{
    pthread_mutex_lock(&ra->mu);
    if (ra->handed) { /* the slot handed out last time is free again */
        ra->handed = 0;
        if (ra->reader_waits && ra->n - ra->count >= WAKE_AFTER) pthread_cond_signal(&ra->freed);
    }
    while (!ra->count) {
        if (ra->reader_waits) pthread_cond_signal(&ra->freed); /* about to drain: read on */
        ra->caller_waits = 1;
        pthread_cond_wait(&ra->filled, &ra->mu);
        ra->caller_waits = 0;
    }
    slot *s = &ra->slots[ra->head];
    int rc = s->rc;
    if (rc == 1) {
        ra->head = (ra->head + 1) % ra->n;
        ra->count--;
        ra->handed = 1;
    }
    pthread_mutex_unlock(&ra->mu);
    replay(&s->diags, sink); /* the end and a failure keep their slot: asked again, same answer */
    br_buf_clear(&s->diags);
    if (rc < 0) {
        if (err) *err = s->err;
        return rc;
    }
    if (rc == 0) return 0;
    *rec = s->rec;
    *info = s->info;
    return 1;
}

void br_readahead_stop(br_readahead *ra)
{
    if (!ra || !ra->running) return;
    pthread_mutex_lock(&ra->mu);
    ra->stop = 1;
    pthread_cond_signal(&ra->freed);
    pthread_mutex_unlock(&ra->mu);
    pthread_join(ra->thread, NULL);
    ra->running = 0;
    ra->current = NULL;
}

void br_readahead_free(br_readahead *ra)
{
    if (!ra) return;
    br_readahead_stop(ra);
    pthread_mutex_destroy(&ra->mu);
    pthread_cond_destroy(&ra->filled);
    pthread_cond_destroy(&ra->freed);
    for (size_t i = 0; ra->slots && i < ra->n; i++) {
        br_record_free(ra->slots[i].rec);
        br_buf_dispose(&ra->slots[i].diags);
    }
    free(ra->slots);
    free(ra);
}
