/* bulkrepo — S/FTP configurations (issue 17): the servers import profiles pull from and export
 * jobs deliver to.  A configuration is a name, a URL (ftp://, ftps:// = FTP with explicit TLS,
 * or sftp://, a host, an optional port and the root folder every remote path is relative to),
 * a user, and a password or (SFTP) a private key.  Secrets are sealed with the repository's
 * key (<repo>/secret.key, mode 0600, as DOI and SMTP passwords) before they reach the
 * database, and are never returned by these functions: a caller only learns whether one is
 * stored (has_password, has_key).  Transfers go through net/remote.h.  docs/ftp.md. */
#ifndef BULKREPO_FTP_H
#define BULKREPO_FTP_H

#include <stdint.h>
#include "error.h"
#include "repo.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BR_FTP_SECRET_MAX 1024  /* bytes of a password */
#define BR_FTP_KEY_MAX    16384 /* bytes of a private key (PEM or OpenSSH form) */

typedef struct br_ftp_config {
    char name[64];      /* 1 to 63 letters, digits, '-', '_' or '.' (as profile names) */
    char url[512];      /* ftp|ftps|sftp://host[:port]/root/ without user or password */
    char user[256];     /* login */
    int has_password;   /* a password is stored (sealed) */
    int has_key;        /* a private key is stored (sealed; SFTP only) */
    int passive;        /* FTP: passive data connections (1, the default) or active (0) */
    char ca_file[1024]; /* FTPS: the certificates to trust instead of the system's; "" system */
    char created[32];   /* ISO 8601 UTC */
    char updated[32];
} br_ftp_config;

typedef int (*br_ftp_fn)(void *ctx, const br_ftp_config *c);

/* Adds the configuration cfg->name or replaces it (created is kept, has_* and the dates of cfg
 * are ignored).  password and private_key_pem: NULL keeps the stored one, "" removes it, else
 * the new secret (sealed before it is stored).  Checks: the name as above; the URL's scheme is
 * ftp, ftps or sftp (any other is BR_EUSAGE naming it), a host is present, no user or password
 * in the URL, an optional port 1-65535, no query, fragment, '%', spaces or control characters,
 * and the path (the root folder) has no "." or ".." segment; the user is 1-255 bytes without
 * control characters; sftp needs a password or a key, a key is for sftp only and must be an
 * unencrypted PEM or OpenSSH private key; ca_file (ftps only) is an absolute path to a
 * readable file.  0; BR_EUSAGE naming what is wrong; BR_ELIMIT (a secret too long); BR_EIO
 * (the repository's key); BR_ESTORE. */
int br_ftp_set(br_repo *repo, const br_ftp_config *cfg, const char *password,
               const char *private_key_pem, br_error *err);
/* 0 and out filled; BR_ENOTFOUND; BR_ESTORE. */
int br_ftp_get(br_repo *repo, const char *name, br_ftp_config *out, br_error *err);
/* Every configuration by name; a nonzero return of fn stops (and is returned). */
int br_ftp_list(br_repo *repo, br_ftp_fn fn, void *ctx, br_error *err);
/* Removes a configuration and its sealed secrets.  BR_ENOTFOUND; BR_EEXISTS naming the
 * import profile that uses it (remove or change the profile first); BR_ESTORE. */
int br_ftp_remove(br_repo *repo, const char *name, br_error *err);
/* Tests a configuration: connects, logs in and lists the root folder; *files (may be NULL)
 * gets the number of regular files there.  accept_new_host_key: an SFTP server whose host key
 * is not yet in <repo>/known_hosts is accepted and its key recorded (never a key that
 * changed).  0; BR_ENOTFOUND; BR_EIO (cannot connect, timeout, TLS); BR_EAUTH (login
 * refused); BR_EDENIED (host key unknown or changed: the message says what to do). */
int br_ftp_test(br_repo *repo, const char *name, int accept_new_host_key, int64_t *files,
                br_error *err);
/* The configuration as one JSON object (malloc'd text into *out): name, url, user,
 * has_password, has_key, passive, ca_file, created, updated — never a secret.  The CLI's
 * --json and the HTTP API share it.  0 or BR_ENOMEM. */
int br_ftp_to_json(const br_ftp_config *c, char **out, br_error *err);

#ifdef __cplusplus
}
#endif
#endif
