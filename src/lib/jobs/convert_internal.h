/* The convert loop with its formats given as drivers (internal, not public
 * API): for tests that bring a format of their own (test_format_toy.c) and
 * for callers that already hold the drivers.  br_convert looks the formats up
 * by name and calls this. */
#ifndef BR_JOBS_CONVERT_INTERNAL_H
#define BR_JOBS_CONVERT_INTERNAL_H

#include "bulkrepo/convert.h"
#include "formats/format.h"

/* Converts opt->in (read by `from`) to opt->out (written by `to`); opt's
 * from/to names are not looked at.  Returns as br_convert. */
int br_convert_with(const br_format *from, const br_format *to, const br_convert_options *opt,
                    br_convert_result *res, br_error *err);

#endif
