/*
 * bcrypt_pbkdf: the key derivation function of OpenSSH's encrypted
 * private key files (OpenBSD's bcrypt_pbkdf(3)), a PBKDF2-like
 * construction whose pseudo-random function is a bcrypt hash of SHA-512
 * digests.  Internal to libferry.
 */
#ifndef FERRY_BCRYPT_PBKDF_H
#define FERRY_BCRYPT_PBKDF_H

#include <stddef.h>
#include <stdint.h>

/* Largest output: 32 blocks of 32 bytes. */
#define BCRYPT_PBKDF_MAX_KEY	1024U
/* Longest salt accepted. */
#define BCRYPT_PBKDF_MAX_SALT	(1U << 20)

/*
 * Derive keylen bytes into key from the passphrase pass (passlen bytes,
 * at least 1) and salt (1 to BCRYPT_PBKDF_MAX_SALT bytes) with rounds
 * >= 1 iterations.  Returns 0, FERR_ARGUMENT for an out-of-range
 * parameter, or FERR_LIBCRYPTO when SHA-512 fails.  Intermediate state is
 * wiped.
 */
int bcrypt_pbkdf(const uint8_t *pass, size_t passlen, const uint8_t *salt,
    size_t saltlen, uint8_t *key, size_t keylen, unsigned int rounds)
    __attribute__((warn_unused_result));

#endif /* FERRY_BCRYPT_PBKDF_H */
