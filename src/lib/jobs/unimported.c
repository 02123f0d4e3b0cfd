#include "engine_internal.h"
int br_job_unimported(br_repo *repo, int64_t id, const br_unimported_options *opt,
                      const char *out_path, br_unimported_result *res, br_error *err)
{
    return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "not yet");
}
