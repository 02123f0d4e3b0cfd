/* An import job's parameters: one codec for the CLI (inline and --submit), the
 * upload route, the drop folder and the engine.  Paths are stored absolute, so
 * a rerun, a resume or the unimported download reads the same input from any
 * working directory (a server started elsewhere included). */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "bulkrepo/format.h"
#include "bulkrepo/import.h"
#include "core/core.h"
#include "jobs/pipeline.h"

static const char *const MODES[] = {"add", "replace", "delete"};

int br_import_source_path(const br_import_options *o, char *out, size_t size, br_error *err)
{
    char joined[PATH_MAX];
    const char *src = o->source;
    if (!src || !*src) return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no input given (-s)");
    if (o->zip && *o->zip) {
        if (br_path_unsafe(o->zip) && o->zip[0] != '/')
            return br_error_set(err, BR_EUSAGE, o->zip, 0, 0, "the zip is a file name in -s");
        if (br_path_join(joined, sizeof joined, src, o->zip))
            return br_error_set(err, BR_ELIMIT, o->zip, 0, 0, "path too long");
        src = joined;
    }
    int rc = br_path_absolute(src, out, size, err);
    if (rc == BR_ENOTFOUND || rc == BR_EIO)
        return br_error_set(err, BR_ENOTFOUND, src, 0, 0, "no such file or folder");
    if (rc) return rc;
    if (!br_is_dir(out) && !br_is_file(out))
        return br_error_set(err, BR_ENOTFOUND, src, 0, 0,
                            o->zip ? "the zip file does not exist" : "cannot open the input");
    return 0;
}

static int set_path(json_t *p, const char *key, const char *path, br_error *err)
{
    char abs[PATH_MAX];
    int rc = br_path_absolute(path, abs, sizeof abs, err);
    if (rc) return rc;
    return json_object_set_new(p, key, json_string(abs))
               ? br_error_set(err, BR_EINVAL, path, 0, 0, "the path is not UTF-8")
               : 0;
}

int br_import_params_to_json(const char *format, const br_import_options *o, char **out,
                             br_error *err)
{
    *out = NULL;
    json_t *p = json_object(), *cols = json_array();
    int rc = 0;
    if (!p || !cols) {
        json_decref(p);
        json_decref(cols);
        return br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
    }
    json_object_set_new(p, "format", json_string(format));
    json_object_set_new(p, "mode", json_string(MODES[o->mode]));
    if (o->source && *o->source) {
        char src[PATH_MAX];
        if ((rc = br_import_source_path(o, src, sizeof src, err))) goto done;
        if ((rc = set_path(p, "source", src, err))) goto done;
    }
    if (o->mapfile && *o->mapfile && (rc = set_path(p, "mapfile", o->mapfile, err))) goto done;
    for (size_t i = 0; i < o->n_collections; i++)
        json_array_append_new(cols, json_string(o->collections[i]));
    json_object_set(p, "collections", cols);
    json_object_set_new(p, "validate_only", json_boolean(o->validate_only));
    json_object_set_new(p, "resume", json_boolean(o->resume));
    json_object_set_new(p, "workflow", json_boolean(o->workflow));
    json_object_set_new(p, "template", json_boolean(o->apply_template));
    json_object_set_new(p, "skip_invalid", json_boolean(o->skip_invalid));
    json_object_set_new(p, "metadata_only", json_boolean(o->metadata_only));
    if (o->allow_older) json_object_set_new(p, "allow_older", json_true());
    if (o->no_fetch) json_object_set_new(p, "no_fetch", json_true());
    if (o->status && *o->status) json_object_set_new(p, "status", json_string(o->status));
    if (o->match && *o->match) json_object_set_new(p, "match", json_string(o->match));
    if (o->batch_size)
        json_object_set_new(p, "batch_size", json_integer((json_int_t)o->batch_size));
    if (o->fetch_timeout_ms)
        json_object_set_new(p, "fetch_timeout_ms", json_integer(o->fetch_timeout_ms));
    /* The caps the user raised or lowered go with the job (a rerun, a resume
     * and a queued run keep them); defaults are not written. */
    br_limits d;
    br_limits_default(&d);
    json_t *lim = json_object();
    if (o->limits.max_file_size && o->limits.max_file_size != d.max_file_size)
        json_object_set_new(lim, "max_file_size",
                            json_integer((json_int_t)o->limits.max_file_size));
    if (o->limits.max_archive_size && o->limits.max_archive_size != d.max_archive_size)
        json_object_set_new(lim, "max_archive_size",
                            json_integer((json_int_t)o->limits.max_archive_size));
    if (o->limits.max_entries && o->limits.max_entries != d.max_entries)
        json_object_set_new(lim, "max_entries", json_integer((json_int_t)o->limits.max_entries));
    if (o->limits.max_ratio && o->limits.max_ratio != d.max_ratio)
        json_object_set_new(lim, "max_ratio", json_integer((json_int_t)o->limits.max_ratio));
    if (json_object_size(lim))
        json_object_set_new(p, "limits", lim);
    else
        json_decref(lim);
    *out = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!*out) rc = br_error_set(err, BR_ENOMEM, NULL, 0, 0, "out of memory");
done:
    json_decref(cols);
    json_decref(p);
    return rc;
}

static int flag(json_t *p, const char *key)
{
    json_t *v = json_object_get(p, key);
    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v)) ||
           (json_is_string(v) &&
            (!strcmp(json_string_value(v), "true") || !strcmp(json_string_value(v), "1") ||
             !strcmp(json_string_value(v), "on")));
}

static const char *text(json_t *p, const char *key)
{
    const char *s = json_string_value(json_object_get(p, key));
    return s && *s ? s : NULL;
}

/* *out = obj[key], or 0 when it is absent.  A value that is there must be a whole number
 * from 1 to max: a typo such as "batch_size":"1000" fails the job rather than running it
 * with the default the operator did not ask for. */
static int whole(json_t *obj, const char *key, uintmax_t max, json_int_t *out, br_error *err)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || (uintmax_t)json_integer_value(v) > max)
        return br_error_set(err, BR_EUSAGE, "params", 0, 0,
                            "\"%s\" must be a whole number from 1 to %ju", key, max);
    *out = json_integer_value(v);
    return 0;
}

int br_import_params_from_json(const char *job_type, json_t *p, br_import_params *out,
                               br_error *err)
{
    memset(out, 0, sizeof *out);
    br_import_options *o = &out->opt;
    br_limits_default(&o->limits);
    const br_format_info *fi = br_format_by_job(job_type);
    if (!fi)
        return br_error_set(err, BR_EUSAGE, NULL, 0, 0, "no format runs jobs of type %s", job_type);
    const char *mode = text(p, "mode");
    o->mode = fi->delete_job && !strcmp(fi->delete_job, job_type) ? BR_IMPORT_DELETE
              : mode && !strcmp(mode, "replace")                  ? BR_IMPORT_REPLACE
                                                                  : BR_IMPORT_ADD;
    o->validate_only =
        (fi->validate_job && !strcmp(fi->validate_job, job_type)) || flag(p, "validate_only");
    json_t *ca = json_object_get(p, "collections");
    if (json_is_array(ca)) {
        size_t i;
        json_t *v;
        json_array_foreach(ca, i, v)
        {
            if (!json_is_string(v))
                return br_error_set(err, BR_EUSAGE, "params", 0, 0,
                                    "\"collections\" holds handles (strings)");
            if (o->n_collections == BR_PARAMS_MAX_COLLECTIONS)
                return br_error_set(err, BR_ELIMIT, "params", 0, 0, "at most %d collections",
                                    BR_PARAMS_MAX_COLLECTIONS);
            out->collections[o->n_collections++] = json_string_value(v);
        }
    } else if (text(p, "collection")) {
        out->collections[o->n_collections++] = text(p, "collection");
    }
    o->collections = out->collections;
    o->skip_invalid = flag(p, "skip_invalid");
    o->workflow = flag(p, "workflow");
    o->apply_template = flag(p, "template");
    o->metadata_only = flag(p, "metadata_only");
    o->allow_older = flag(p, "allow_older");
    o->no_fetch = flag(p, "no_fetch");
    o->status = text(p, "status");
    o->match = text(p, "match");
    json_int_t n;
    int rc;
    if ((rc = whole(p, "batch_size", SIZE_MAX, &n, err))) return rc;
    if (n) o->batch_size = (size_t)n;
    if ((rc = whole(p, "fetch_timeout_ms", LONG_MAX, &n, err))) return rc;
    if (n) o->fetch_timeout_ms = (long)n;
    json_t *lim = json_object_get(p, "limits");
    if (lim && !json_is_object(lim))
        return br_error_set(err, BR_EUSAGE, "params", 0, 0,
                            "\"limits\" must be an object of whole numbers");
    if ((rc = whole(lim, "max_file_size", INT64_MAX, &n, err))) return rc;
    if (n) o->limits.max_file_size = (uint64_t)n;
    if ((rc = whole(lim, "max_archive_size", INT64_MAX, &n, err))) return rc;
    if (n) o->limits.max_archive_size = (uint64_t)n;
    if ((rc = whole(lim, "max_entries", INT64_MAX, &n, err))) return rc;
    if (n) o->limits.max_entries = (uint64_t)n;
    if ((rc = whole(lim, "max_ratio", UINT_MAX, &n, err))) return rc;
    if (n) o->limits.max_ratio = (unsigned)n;
    o->mapfile = text(p, "mapfile");
    o->source = text(p, "source");
    const char *zip = text(p, "zip"); /* an older release kept the zip's name apart */
    if (o->source && zip) {
        if (br_path_join(out->source, sizeof out->source, o->source, zip))
            return br_error_set(err, BR_ELIMIT, "params", 0, 0, "path too long");
        o->source = out->source;
    }
    return 0;
}
