/* Internal to the library: secrets and password hashing (libsodium). */
#ifndef BR_AUTH_INTERNAL_H
#define BR_AUTH_INTERNAL_H

#include <stddef.h>
#include <sodium.h>
#include "bulkrepo/user.h"

/* libsodium's argon2id hash string, with room for its NUL. */
#define BR_PWHASH_SIZE crypto_pwhash_STRBYTES

/* 32 random bytes in unpadded base64url (43 characters). */
int br_secret_new(char out[BR_SECRET_SIZE]);
/* Lowercase hex SHA-256 of a secret: what the store keeps. */
void br_secret_digest(const char *secret, char out[65]);
/* argon2id (OPSLIMIT/MEMLIMIT_INTERACTIVE); BR_ENOMEM when it cannot run. */
int br_password_hash(const char *password, char out[BR_PWHASH_SIZE]);
/* 1 when password matches hash, else 0 (constant-time in libsodium). */
int br_password_verify(const char *hash, const char *password);

#endif
