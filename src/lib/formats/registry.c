/* The format registry: the only list of the formats bulkrepo reads and writes.
 * A new format is one driver file and one row here (docs/formats.md). */
#include <string.h>
#include <strings.h>
#include "core/core.h"
#include "formats/format.h"

static const br_format *const FORMATS[] = {
    &br_format_saf,
    &br_format_esploro_csv,
    &br_format_xlsx,
    &br_format_onix,
};

size_t br_format_count(void)
{
    return BR_ARRAY_LEN(FORMATS);
}

const br_format_info *br_format_at(size_t i)
{
    return i < BR_ARRAY_LEN(FORMATS) ? &FORMATS[i]->info : NULL;
}

const br_format *br_format_find(const char *name)
{
    for (size_t i = 0; name && i < BR_ARRAY_LEN(FORMATS); i++)
        if (!strcmp(FORMATS[i]->info.name, name)) return FORMATS[i];
    return NULL;
}

const br_format_info *br_format_info_find(const char *name)
{
    const br_format *f = br_format_find(name);
    return f ? &f->info : NULL;
}

const br_format *br_format_of_job(const char *type)
{
    for (size_t i = 0; type && i < BR_ARRAY_LEN(FORMATS); i++) {
        const br_format_info *f = &FORMATS[i]->info;
        const char *jobs[] = {f->import_job, f->validate_job, f->delete_job, f->export_job};
        for (size_t k = 0; k < BR_ARRAY_LEN(jobs); k++)
            if (jobs[k] && !strcmp(jobs[k], type)) return FORMATS[i];
    }
    return NULL;
}

const br_format_info *br_format_by_job(const char *type)
{
    const br_format *f = br_format_of_job(type);
    return f ? &f->info : NULL;
}

const br_format *br_format_driver(const br_format_info *info)
{
    for (size_t i = 0; info && i < BR_ARRAY_LEN(FORMATS); i++)
        if (&FORMATS[i]->info == info) return FORMATS[i];
    return NULL;
}

/* Whether name ends in one of the ", "-separated extensions of exts. */
static int has_extension(const char *name, const char *exts)
{
    size_t n = strlen(name);
    for (const char *p = exts; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len && len <= n && !strncasecmp(name + n - len, p, len)) return 1;
        if (!end) break;
        p = end + 1;
        while (*p == ' ')
            p++;
    }
    return 0;
}

const br_format_info *br_format_by_file(const char *name)
{
    for (size_t i = 0; name && i < BR_ARRAY_LEN(FORMATS); i++)
        if ((FORMATS[i]->info.caps & BR_FORMAT_READ) &&
            has_extension(name, FORMATS[i]->info.extensions))
            return &FORMATS[i]->info;
    return NULL;
}

size_t br_format_names(unsigned caps, char *buf, size_t size)
{
    br_buf b = {0};
    for (size_t i = 0; i < BR_ARRAY_LEN(FORMATS); i++)
        if ((FORMATS[i]->info.caps & caps) == caps)
            br_buf_printf(&b, "%s%s", b.len ? ", " : "", FORMATS[i]->info.name);
    size_t n = br_strlcpy(buf, b.p ? b.p : "", size);
    br_buf_dispose(&b);
    return n;
}
