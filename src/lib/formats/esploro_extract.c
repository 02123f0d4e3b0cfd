/* Placeholder: the driver's unimported download (issue 8), being written. */
#include "formats/drivers.h"

int br_ecsv_drv_extract(const br_extract_options *opt, br_error *err)
{
    return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "not yet implemented");
}
