/* Secrets kept encrypted at rest (doi_internal.h): the DataCite repository password.
 *
 * libsodium's secretbox (XSalsa20-Poly1305) with a 32-byte key in <repo>/secret.key, made on
 * first use with mode 0600.  The database holds "sb1:" + base64(nonce | box) only, so a copy
 * of bulkrepo.db (a backup, a support dump) does not give the password away; whoever can read
 * the repository folder's key can, which is the same trust as the database's own files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "core/core.h"
#include "doi/doi_internal.h"

#define KEY_FILE "secret.key"
#define TAG      "sb1:"

static int load_key(const char *dir, unsigned char key[crypto_secretbox_KEYBYTES], int create,
                    br_error *err)
{
    char path[4200];
    if (br_path_join(path, sizeof path, dir, KEY_FILE))
        return br_error_set(err, BR_ELIMIT, dir, 0, 0, "path too long");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        randombytes_buf(key, crypto_secretbox_KEYBYTES);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            int bad = br_write_all(fd, key, crypto_secretbox_KEYBYTES) || fsync(fd);
            close(fd);
            if (bad) {
                unlink(path);
                return br_error_set(err, BR_EIO, path, 0, 0, "cannot write the key: %s",
                                    strerror(errno));
            }
            return 0;
        }
        if (errno != EEXIST)
            return br_error_set(err, BR_EIO, path, 0, 0, "cannot create the key: %s",
                                strerror(errno));
        fd = open(path, O_RDONLY | O_CLOEXEC); /* made by another process meanwhile */
    }
    if (fd < 0)
        return br_error_set(err, BR_EIO, path, 0, 0, "cannot read the repository's key: %s",
                            strerror(errno));
    ssize_t n = read(fd, key, crypto_secretbox_KEYBYTES);
    close(fd);
    if (n != crypto_secretbox_KEYBYTES)
        return br_error_set(err, BR_EIO, path, 0, 0, "the repository's key is damaged");
    return 0;
}

int br_doi_seal(const char *repo_dir, const char *plain, char *out, size_t size, br_error *err)
{
    if (sodium_init() < 0) return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "libsodium");
    size_t n = strlen(plain);
    if (n > 1024) return br_error_set(err, BR_ELIMIT, NULL, 0, 0, "the secret is too long");
    unsigned char key[crypto_secretbox_KEYBYTES],
        buf[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 1024];
    int rc = load_key(repo_dir, key, 1, err);
    if (rc) return rc;
    randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n, buf,
                          key);
    sodium_memzero(key, sizeof key);
    size_t total = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + n;
    size_t need = strlen(TAG) + sodium_base64_ENCODED_LEN(total, sodium_base64_VARIANT_ORIGINAL);
    if (size < need) return br_error_set(err, BR_ELIMIT, NULL, 0, 0, "the secret is too long");
    memcpy(out, TAG, strlen(TAG));
    sodium_bin2base64(out + strlen(TAG), size - strlen(TAG), buf, total,
                      sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

int br_doi_unseal(const char *repo_dir, const char *sealed, char *out, size_t size, br_error *err)
{
    if (sodium_init() < 0) return br_error_set(err, BR_EINTERNAL, NULL, 0, 0, "libsodium");
    out[0] = 0;
    if (!sealed || !*sealed) return 0;
    unsigned char key[crypto_secretbox_KEYBYTES],
        buf[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 1024];
    size_t n = 0;
    if (strncmp(sealed, TAG, strlen(TAG)) ||
        sodium_base642bin(buf, sizeof buf, sealed + strlen(TAG), strlen(sealed + strlen(TAG)), NULL,
                          &n, NULL, sodium_base64_VARIANT_ORIGINAL) ||
        n < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        return br_error_set(err, BR_EINVAL, NULL, 0, 0, "the stored password is damaged");
    size_t plain = n - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    if (plain + 1 > size) return br_error_set(err, BR_ELIMIT, NULL, 0, 0, "secret too long");
    int rc = load_key(repo_dir, key, 0, err);
    if (rc) return rc;
    int bad = crypto_secretbox_open_easy((unsigned char *)out, buf + crypto_secretbox_NONCEBYTES,
                                         n - crypto_secretbox_NONCEBYTES, buf, key);
    sodium_memzero(key, sizeof key);
    if (bad) {
        out[0] = 0;
        return br_error_set(err, BR_EINVAL, NULL, 0, 0,
                            "the stored password does not open with this repository's key "
                            "(secret.key was replaced?): add the profile's password again");
    }
    out[plain] = 0;
    return 0;
}
