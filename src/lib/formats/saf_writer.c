/* Placeholder: the writer side of the driver (issue 8), being written. */
#include "formats/drivers.h"

int br_saf_drv_writer_open(const br_write_options *opt, br_writer **out, br_error *err)
{
    return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "not yet implemented");
}
int br_saf_drv_write(br_writer *w, const char *key, const br_record *rec, br_error *err)
{
    return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "not yet implemented");
}
int br_saf_drv_writer_close(br_writer *w, br_error *err)
{
    return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "not yet implemented");
}
void br_saf_drv_writer_abort(br_writer *w)
{
}
