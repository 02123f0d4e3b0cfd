/* The ONIX reader (2.1, 3.0, short tags, entities, encodings): see fuzz_reader.h. */
#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_reader(&br_format_onix, "in.xml", data, size);
}
