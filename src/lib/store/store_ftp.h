/* Internal to the library: the sealed secrets of an S/FTP configuration, for net/remote.c
 * only (ftp.h never returns them). */
#ifndef BR_STORE_FTP_H
#define BR_STORE_FTP_H

#include "bulkrepo/ftp.h"

/* The configuration and its secrets unsealed: *password and *key malloc'd ("" when none;
 * the caller wipes and frees them).  0; BR_ENOTFOUND; BR_EIO (the key file); BR_ESTORE;
 * BR_ENOMEM. */
int br_ftp_open_secrets(br_repo *repo, const char *name, br_ftp_config *cfg, char **password,
                        char **key, br_error *err);

#endif
