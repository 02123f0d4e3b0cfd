/* Internal to the jobs module: an import job's parameters read back from its
 * JSON (the engine runs queued, resumed and rerun imports from them). */
#ifndef BR_JOBS_PIPELINE_H
#define BR_JOBS_PIPELINE_H

#include <limits.h>
#include <jansson.h>
#include "bulkrepo/import.h"

#define BR_PARAMS_MAX_COLLECTIONS 64

typedef struct br_import_params {
    br_import_options opt; /* strings point into the JSON and into this struct */
    const char *collections[BR_PARAMS_MAX_COLLECTIONS];
    char source[PATH_MAX]; /* an older job's "source" + "zip", joined */
} br_import_params;

/* Fills out from the parameters of a job of type job_type (whose format
 * driver decides delete and validate), as br_import_params_to_json wrote them
 * or as an older release did ("zip" beside "source", "collection").  params
 * must outlive out.  BR_EUSAGE when a value has the wrong type. */
int br_import_params_from_json(const char *job_type, json_t *params, br_import_params *out,
                               br_error *err);

#endif
