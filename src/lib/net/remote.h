/* File transfer with the S/FTP servers of ftp.h's configurations (issue 17): FTP, FTP with
 * explicit TLS (ftps://, AUTH TLS on the control and data connections) and SFTP, through
 * libcurl.  The transport the pulling import profiles (jobs/pull.c) and export delivery
 * (jobs/deliver.c) share; a test of a configuration (`bulkrepo ftp test`) is one listing.
 *
 * Paths given here are relative to the configuration's root folder (the URL's path) and are
 * checked by br_remote_path_check: a path that would leave the root is refused before any
 * connection.  The server is the administrator's choice, so the download address policy
 * (fetch.h: no loopback or private addresses) does not apply, as for the mail server.
 *
 * SFTP host keys are pinned: <repo>/known_hosts (OpenSSH format).  A server whose key is not
 * there is refused ("unknown host key ...; `bulkrepo ftp test NAME --accept-host-key`"), one
 * whose key changed is refused naming the line to remove; nothing is sent before the key
 * matched.  Secrets (password, private key) are unsealed only inside br_remote_open and never
 * appear in a message: errors name the configuration, the host and the path, never the URL
 * with credentials. */
#ifndef BR_NET_REMOTE_H
#define BR_NET_REMOTE_H

#include <stdint.h>
#include "bulkrepo/error.h"
#include "bulkrepo/repo.h"

#define BR_REMOTE_NAME_MAX   255    /* bytes of a remote file name */
#define BR_REMOTE_PATH_MAX   1024   /* bytes of a relative remote path */
#define BR_REMOTE_LIST_MAX   100000 /* entries of one listing read; more is BR_ELIMIT */
#define BR_REMOTE_CONNECT_MS 15000  /* to connect and log in */
#define BR_REMOTE_STALL_S    60     /* a transfer slower than 1 byte/s for this long fails */

typedef struct br_remote br_remote;

/* Opens the configuration `name` of ftp.h (its secrets unsealed into memory that
 * br_remote_free wipes).  Nothing is sent yet.  BR_ENOTFOUND (no such configuration),
 * BR_EIO (the key file), BR_ESTORE. */
int br_remote_open(br_repo *repo, const char *name, br_remote **out, br_error *err);
/* Wipes the secrets and frees; NULL is a no-op. */
void br_remote_free(br_remote *r);
/* Accept and record an SFTP host key that is not yet in <repo>/known_hosts (never one that
 * changed): `ftp test --accept-host-key`. */
void br_remote_accept_new_host_key(br_remote *r, int yes);

/* 0 when rel is a relative remote path bulkrepo may use: "" (the root) or segments of 1 to
 * BR_REMOTE_NAME_MAX bytes of UTF-8 without control characters or '\\', separated by single
 * '/', none "." or "..", no leading '/', at most BR_REMOTE_PATH_MAX bytes.  BR_EUSAGE naming
 * the offending segment. */
int br_remote_path_check(const char *rel, br_error *err);
/* 0 when name is one remote file name (a listing's entry): as a segment above, without '/'. */
int br_remote_name_check(const char *name, br_error *err);

typedef struct br_remote_entry {
    const char *name; /* as the server listed it (already br_remote_name_check-ed) */
    int64_t size;     /* bytes; -1 unknown */
    int64_t mtime;    /* Unix time of the last change; -1 unknown */
} br_remote_entry;
typedef int (*br_remote_entry_fn)(void *ctx, const br_remote_entry *e);

/* Lists the regular files of the folder dir (relative; "" the root), streaming: fn is called
 * once per file as the listing is read (FTP: MLSD, or LIST's Unix lines from a server without
 * MLSD; SFTP: the long names).  Folders and links are passed over; names refused by
 * br_remote_name_check are skipped and counted in *skipped (may be NULL).  A nonzero return of
 * fn stops (and 0 is returned).  More than BR_REMOTE_LIST_MAX entries is BR_ELIMIT after the first
 * ones were given.  BR_EIO (cannot connect, timeout, the folder does not exist), BR_EAUTH (the
 * login was refused), BR_EDENIED (a host key unknown or changed), BR_EUSAGE (a bad dir). */
int br_remote_list(br_remote *r, const char *dir, br_remote_entry_fn fn, void *ctx,
                   int64_t *skipped, br_error *err);

/* Downloads rel into the local file `local`.  When local exists with fewer bytes, the
 * download resumes after them (a broken earlier attempt).  cap: a file the server says is
 * larger is refused before the transfer; one that grows past cap while downloading is cut
 * off (BR_ELIMIT; local is removed).  On success *bytes and sha256_hex (64 hex digits and a
 * NUL, over the whole local file) are filled.  A failure mid-transfer (BR_EIO) leaves the
 * bytes already received in local, for a resume; a local file longer than the remote one is
 * downloaded again from the start.  BR_ENOTFOUND (no such remote file), and the codes of
 * br_remote_list. */
int br_remote_get(br_remote *r, const char *rel, const char *local, int64_t cap, int64_t *bytes,
                  char sha256_hex[65], br_error *err);
/* Uploads the local file to rel, creating missing folders: written as rel's folder/.NAME.part
 * then renamed, so a reader never sees half a file.  BR_EEXISTS when rel exists. */
int br_remote_put(br_remote *r, const char *local, const char *rel, br_error *err);
/* Renames (moves) a remote file within the root; the target folder is created when missing.
 * A failure of the server's rename (the file missing, the target existing on SFTP) is BR_EIO. */
int br_remote_rename(br_remote *r, const char *from, const char *to, br_error *err);
/* Removes a remote file. */
int br_remote_delete(br_remote *r, const char *rel, br_error *err);

#endif
