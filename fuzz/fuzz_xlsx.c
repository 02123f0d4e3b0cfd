/* The XLSX reader (a zip of XML parts: shared strings, styles, the sheet): see
 * fuzz_reader.h. */
#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_reader(&br_format_xlsx, "in.xlsx", data, size);
}
