/* Secrets (tokens, session ids, CSRF tokens) and password hashes.  libsodium
 * supplies the randomness (getrandom), argon2id and constant-time compares. */
#include <string.h>
#include "auth_internal.h"

/* sodium_init is idempotent and thread-safe; it returns 1 when already done. */
static int ready(void)
{
    return sodium_init() >= 0;
}

int br_secret_new(char out[BR_SECRET_SIZE])
{
    unsigned char raw[32];
    out[0] = 0;
    if (!ready()) return BR_EINTERNAL;
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, BR_SECRET_SIZE, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

void br_secret_digest(const char *secret, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)secret, strlen(secret));
    sodium_bin2hex(out, 65, h, sizeof h);
}

int br_password_hash(const char *password, char out[BR_PWHASH_SIZE])
{
    if (!ready()) return BR_EINTERNAL;
    if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE))
        return BR_ENOMEM; /* the only documented failure: the memory limit */
    return 0;
}

int br_password_verify(const char *hash, const char *password)
{
    if (!ready()) return 0;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int br_secret_equal(const char *a, const char *b)
{
    if (!a || !b) return 0;
    size_t n = strlen(a);
    /* Lengths are not secret (every token has the same length). */
    if (n != strlen(b) || n == 0) return 0;
    return sodium_memcmp(a, b, n) == 0;
}
