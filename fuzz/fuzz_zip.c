/* The zip extractor: the input is the archive, extracted under small caps into
 * a fresh folder.  Whatever happens, nothing may appear outside it, and a
 * refused archive leaves the folder as it found it (absent). */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *zip = fz_path("in.zip");
    fz_write(zip, data, size);
    const char *top = fz_path("top");
    fz_rmtree(top);
    mkdir(top, 0755);
    const char *dest = fz_path("top/x");
    br_limits lim;
    br_limits_default(&lim);
    lim.max_file_size = 1 << 20;
    lim.max_archive_size = 4 << 20;
    lim.max_entries = 1000;
    char root[4096];
    br_error err;
    int rc = br_zip_extract(zip, dest, &lim, root, sizeof root, &err);
    /* top holds x at most */
    DIR *d = opendir(top);
    if (!d) abort();
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "x")) abort();
    closedir(d);
    struct stat st;
    if (rc && !lstat(dest, &st)) abort(); /* a refused archive leaves nothing */
    if (!rc && strncmp(root, dest, strlen(dest))) abort();
    fz_rmtree(top);
    return 0;
}
