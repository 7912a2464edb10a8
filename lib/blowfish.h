/*
 * Blowfish (Schneier, 1993) with the expensive key schedule of
 * Eksblowfish (Provos and Mazieres, 1999), only as far as bcrypt_pbkdf
 * needs it.  Internal to libferry: nothing else should use Blowfish.
 */
#ifndef FERRY_BLOWFISH_H
#define FERRY_BLOWFISH_H

#include <stddef.h>
#include <stdint.h>

#define BLOWFISH_ROUNDS		16

struct blowfish {
	uint32_t p[BLOWFISH_ROUNDS + 2];
	uint32_t s[4][256];
};

/* Load the initial state (the digits of pi). */
void blowfish_init(struct blowfish *bf);

/*
 * The ordinary Blowfish key schedule: init plus one expansion with the
 * key (1 to 72 bytes) and an all-zero salt.
 */
void blowfish_setkey(struct blowfish *bf, const uint8_t *key, size_t keylen);

/*
 * Eksblowfish ExpandKey(state, salt, key): XOR the key, cycled, into the
 * P-array, then re-encrypt P and the S-boxes in place, each block XORed
 * with the next 64 bits of the salt, cycled.  Both lengths must be > 0.
 */
void blowfish_expand(struct blowfish *bf, const uint8_t *salt,
    size_t saltlen, const uint8_t *key, size_t keylen);

/* ExpandKey(state, 0, key): the same with an all-zero salt. */
void blowfish_expand0(struct blowfish *bf, const uint8_t *key, size_t keylen);

/* Encrypt or decrypt one block held as two big-endian halves. */
void blowfish_encrypt(const struct blowfish *bf, uint32_t *l, uint32_t *r);
void blowfish_decrypt(const struct blowfish *bf, uint32_t *l, uint32_t *r);

#endif /* FERRY_BLOWFISH_H */
