/* bulkrepo — error records and diagnostics.
 *
 * Contract: every fallible library function returns int, 0 on success or a
 * negative br_code, and fills the br_error it was given (which may be NULL) with
 * the code, a message and the place the problem was found.  Lower errors are
 * passed up unchanged.  The library never prints: problems that do not stop an
 * operation (validation findings, warnings) go to a br_diag_sink callback.
 *
 * In detail:
 *   - The return value alone is the answer: a function behaves the same with
 *     err == NULL, and when it fails the code it returns is err->code.  A
 *     caller that needs the code, the message or the place later passes a
 *     local br_error (never reads err->... when err may be NULL).
 *   - After a success err's content is unspecified (it may hold a lower
 *     error that was handled): read it only after a failure.
 *   - Lookups tell their three outcomes apart by the return value, documented
 *     with each: either 0 found / BR_ENOTFOUND / another negative code, or
 *     1 found / 0 not found / a negative code.  A database failure is never
 *     reported as "not found" (BR_ESTORE, whatever err is), so "absent" is
 *     exactly BR_ENOTFOUND (or 0): treat any other nonzero return as a
 *     failure, never as absent.
 *   - BR_EINVAL means the input was rejected; it never means "partly done".
 */
#ifndef BULKREPO_ERROR_H
#define BULKREPO_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum br_code {
    BR_OK = 0,
    BR_EINVAL = -1,      /* the input data is invalid (nothing was written) */
    BR_EUSAGE = -2,      /* the call's arguments are wrong */
    BR_ENOTFOUND = -3,   /* a named object does not exist */
    BR_EEXISTS = -4,     /* an object that must be new already exists */
    BR_EIO = -5,         /* a file or system call failed */
    BR_ENOMEM = -6,      /* out of memory */
    BR_ESTORE = -7,      /* the database failed */
    BR_ELIMIT = -8,      /* a size cap was exceeded */
    BR_EINTERNAL = -9,   /* a bug */
    BR_ECANCELLED = -10, /* stopped on request */
    BR_EAUTH = -11,      /* unknown user, wrong password, unknown or expired token */
    BR_EDENIED = -12,    /* the user's roles do not allow it */
    BR_EBUSY = -13,      /* another writer holds what this one needs: try again later */
    BR_ELOST = -14       /* the connection to the database was lost (a server restart): what
                          * was not committed is gone; the next call connects again */
} br_code;

/* Where a problem is: a file (relative to the batch when there is one),
 * a 1-based line and column (0 = unknown) and, for spreadsheets, a cell. */
typedef struct br_place {
    char source[512];
    unsigned line;
    unsigned column;
    char cell[16];
} br_place;

typedef struct br_error {
    int code;
    br_place place;
    char message[1024];
} br_error;

void br_error_clear(br_error *err);
/* Fills err (if not NULL) and returns code, so callers can `return br_error_set(...)`. */
int br_error_set(br_error *err, int code, const char *source, unsigned line, unsigned column,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Gives an error already filled a place when it names none (a lower layer
 * that did not know the file); does nothing when err is NULL. */
void br_error_locate(br_error *err, const char *source, unsigned line, unsigned column);
/* "source:line:column: message" (parts that are unknown are left out), cut to
 * fit size; "" for a NULL err.  Returns the length written. */
size_t br_error_format(const br_error *err, char *buf, size_t size);
const char *br_code_name(int code);

typedef enum br_severity { BR_SEV_ERROR = 0, BR_SEV_WARNING = 1, BR_SEV_NOTE = 2 } br_severity;

/* One finding of a validation.  All strings are views valid only during the
 * callback; copy what you keep. */
typedef struct br_diag {
    br_severity severity;
    const char *item;    /* the record's key: SAF folder, CSV group id; may be NULL */
    const char *source;  /* file relative to the batch root, e.g. "item_012/dublin_core.xml" */
    unsigned line;       /* 1-based, 0 = none */
    unsigned column;     /* 1-based, 0 = none */
    const char *cell;    /* "D17" for spreadsheets, else NULL */
    const char *rule;    /* a short stable rule id, e.g. "saf.contents.missing-file" */
    const char *message; /* one sentence, names the offending value */
    const char *hint;    /* how to fix it, or NULL */
} br_diag;

typedef void (*br_diag_fn)(void *ctx, const br_diag *diag);

/* A sink counts what passes through it and forwards each finding to fn. */
typedef struct br_diag_sink {
    br_diag_fn fn; /* may be NULL: only count */
    void *ctx;
    size_t errors;
    size_t warnings;
    size_t notes;
} br_diag_sink;

void br_diag_emit(br_diag_sink *sink, const br_diag *diag);
void br_diag_emitf(br_diag_sink *sink, br_severity sev, const char *item, const char *source,
                   unsigned line, unsigned column, const char *rule, const char *hint,
                   const char *fmt, ...) __attribute__((format(printf, 9, 10)));
/* "source:line:column: error: message (hint)" into buf. */
size_t br_diag_format(const br_diag *diag, char *buf, size_t size);
const char *br_severity_name(br_severity sev);

#ifdef __cplusplus
}
#endif
#endif
