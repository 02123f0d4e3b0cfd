/* Error records and diagnostic sinks. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "core.h"

void br_error_clear(br_error *err)
{
    if (err) memset(err, 0, sizeof *err);
}

int br_error_set(br_error *err, int code, const char *source, unsigned line, unsigned column,
                 const char *fmt, ...)
{
    if (!err) return code;
    /* The message and the source may come from err itself (a caller adding
     * context: "cannot import: %s", err->message): format into a copy first. */
    char msg[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char src[sizeof err->place.source] = "";
    if (source) br_strlcpy(src, source, sizeof src);
    memset(err, 0, sizeof *err);
    err->code = code;
    memcpy(err->place.source, src, sizeof src);
    err->place.line = line;
    err->place.column = column;
    memcpy(err->message, msg, sizeof msg);
    return code;
}

void br_error_locate(br_error *err, const char *source, unsigned line, unsigned column)
{
    if (!err || err->place.source[0] || !source) return;
    br_strlcpy(err->place.source, source, sizeof err->place.source);
    err->place.line = line;
    err->place.column = column;
}

static size_t place_prefix(char *buf, size_t size, const char *source, unsigned line,
                           unsigned column, const char *cell)
{
    int n = 0;
    if (cell && *cell) {
        n = snprintf(buf, size, "%s%s%s: ", source && *source ? source : "",
                     source && *source ? ":" : "", cell);
    } else if (source && *source) {
        if (line && column)
            n = snprintf(buf, size, "%s:%u:%u: ", source, line, column);
        else if (line)
            n = snprintf(buf, size, "%s:%u: ", source, line);
        else
            n = snprintf(buf, size, "%s: ", source);
    }
    if (n < 0) return 0;
    return (size_t)n < size ? (size_t)n : (size ? size - 1 : 0);
}

size_t br_error_format(const br_error *err, char *buf, size_t size)
{
    if (!buf || !size) return 0;
    if (!err) {
        buf[0] = 0;
        return 0;
    }
    size_t n = place_prefix(buf, size, err->place.source, err->place.line, err->place.column,
                            err->place.cell);
    int m =
        snprintf(buf + n, size - n, "%s", err->message[0] ? err->message : br_code_name(err->code));
    n += m > 0 ? (size_t)m : 0;
    return n < size ? n : size - 1;
}

const char *br_code_name(int code)
{
    switch (code) {
    case BR_OK:
        return "ok";
    case BR_EINVAL:
        return "invalid input";
    case BR_EUSAGE:
        return "usage error";
    case BR_ENOTFOUND:
        return "not found";
    case BR_EEXISTS:
        return "already exists";
    case BR_EIO:
        return "I/O error";
    case BR_ENOMEM:
        return "out of memory";
    case BR_ESTORE:
        return "database error";
    case BR_ELIMIT:
        return "size limit exceeded";
    case BR_EINTERNAL:
        return "internal error";
    case BR_ECANCELLED:
        return "cancelled";
    case BR_EAUTH:
        return "authentication failed";
    case BR_EDENIED:
        return "not allowed";
    case BR_EBUSY:
        return "busy";
    case BR_ELOST:
        return "database connection lost";
    default:
        return "unknown error";
    }
}

const char *br_severity_name(br_severity sev)
{
    switch (sev) {
    case BR_SEV_ERROR:
        return "error";
    case BR_SEV_WARNING:
        return "warning";
    default:
        return "note";
    }
}

void br_diag_emit(br_diag_sink *sink, const br_diag *diag)
{
    if (!sink) return;
    if (diag->severity == BR_SEV_ERROR)
        sink->errors++;
    else if (diag->severity == BR_SEV_WARNING)
        sink->warnings++;
    else
        sink->notes++;
    if (sink->fn) sink->fn(sink->ctx, diag);
}

void br_diag_emitf(br_diag_sink *sink, br_severity sev, const char *item, const char *source,
                   unsigned line, unsigned column, const char *rule, const char *hint,
                   const char *fmt, ...)
{
    if (!sink) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    br_diag d = {sev, item, source, line, column, NULL, rule, msg, hint};
    br_diag_emit(sink, &d);
}

size_t br_diag_format(const br_diag *diag, char *buf, size_t size)
{
    if (!size) return 0;
    size_t n = place_prefix(buf, size, diag->source ? diag->source : diag->item, diag->line,
                            diag->column, diag->cell);
    const char *msg = diag->message ? diag->message : "";
    /* A message that names its own cell ("D17: ...") after a place that
     * already does ("a.csv:D17: ") says it once. */
    size_t cl = diag->cell ? strlen(diag->cell) : 0;
    if (cl && !strncmp(msg, diag->cell, cl) && msg[cl] == ':' && msg[cl + 1] == ' ') msg += cl + 2;
    int m = snprintf(buf + n, size - n, "%s: %s%s%s%s", br_severity_name(diag->severity), msg,
                     diag->hint ? " (" : "", diag->hint ? diag->hint : "", diag->hint ? ")" : "");
    n += m > 0 ? (size_t)m : 0;
    return n < size ? n : size - 1;
}
