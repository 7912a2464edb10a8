/*
 * Blowfish block cipher and the Eksblowfish key expansion used by
 * bcrypt_pbkdf.  Written from the published description of the cipher;
 * the initial state is generated from pi (blowfish-pi.h).
 */
#include "config.h"

#include <string.h>

#include "blowfish.h"
#include "blowfish-pi.h"

static inline uint32_t
blowfish_f(const struct blowfish *bf, uint32_t x)
{
	return ((bf->s[0][x >> 24] + bf->s[1][(x >> 16) & 0xff]) ^
	    bf->s[2][(x >> 8) & 0xff]) + bf->s[3][x & 0xff];
}

void
blowfish_encrypt(const struct blowfish *bf, uint32_t *l, uint32_t *r)
{
	uint32_t xl = *l, xr = *r, t;
	int i;

	for (i = 0; i < BLOWFISH_ROUNDS; i++) {
		xl ^= bf->p[i];
		xr ^= blowfish_f(bf, xl);
		t = xl;
		xl = xr;
		xr = t;
	}
	/* Undo the last swap, then whiten with the last two P entries. */
	*l = xr ^ bf->p[BLOWFISH_ROUNDS + 1];
	*r = xl ^ bf->p[BLOWFISH_ROUNDS];
}

void
blowfish_decrypt(const struct blowfish *bf, uint32_t *l, uint32_t *r)
{
	uint32_t xl = *l, xr = *r, t;
	int i;

	for (i = BLOWFISH_ROUNDS + 1; i > 1; i--) {
		xl ^= bf->p[i];
		xr ^= blowfish_f(bf, xl);
		t = xl;
		xl = xr;
		xr = t;
	}
	*l = xr ^ bf->p[0];
	*r = xl ^ bf->p[1];
}

void
blowfish_init(struct blowfish *bf)
{
	memcpy(bf->p, blowfish_pi_p, sizeof(bf->p));
	memcpy(bf->s, blowfish_pi_s, sizeof(bf->s));
}

/* The next 32 bits of data, big-endian, wrapping around at len. */
static uint32_t
blowfish_word(const uint8_t *data, size_t len, size_t *pos)
{
	uint32_t w = 0;
	int i;

	for (i = 0; i < 4; i++) {
		if (*pos >= len)
			*pos = 0;
		w = (w << 8) | data[(*pos)++];
	}
	return w;
}

/*
 * Re-encrypt the whole state in place, chaining each block into the next
 * and XORing in salt words first when salt is not NULL.
 */
static void
blowfish_rekey(struct blowfish *bf, const uint8_t *salt, size_t saltlen)
{
	uint32_t l = 0, r = 0;
	size_t pos = 0;
	int i, k;

	for (i = 0; i < BLOWFISH_ROUNDS + 2; i += 2) {
		if (salt != NULL) {
			l ^= blowfish_word(salt, saltlen, &pos);
			r ^= blowfish_word(salt, saltlen, &pos);
		}
		blowfish_encrypt(bf, &l, &r);
		bf->p[i] = l;
		bf->p[i + 1] = r;
	}
	for (i = 0; i < 4; i++) {
		for (k = 0; k < 256; k += 2) {
			if (salt != NULL) {
				l ^= blowfish_word(salt, saltlen, &pos);
				r ^= blowfish_word(salt, saltlen, &pos);
			}
			blowfish_encrypt(bf, &l, &r);
			bf->s[i][k] = l;
			bf->s[i][k + 1] = r;
		}
	}
}

static void
blowfish_mix_key(struct blowfish *bf, const uint8_t *key, size_t keylen)
{
	size_t pos = 0;
	int i;

	for (i = 0; i < BLOWFISH_ROUNDS + 2; i++)
		bf->p[i] ^= blowfish_word(key, keylen, &pos);
}

void
blowfish_expand(struct blowfish *bf, const uint8_t *salt, size_t saltlen,
    const uint8_t *key, size_t keylen)
{
	blowfish_mix_key(bf, key, keylen);
	blowfish_rekey(bf, salt, saltlen);
}

void
blowfish_expand0(struct blowfish *bf, const uint8_t *key, size_t keylen)
{
	blowfish_mix_key(bf, key, keylen);
	blowfish_rekey(bf, NULL, 0);
}

void
blowfish_setkey(struct blowfish *bf, const uint8_t *key, size_t keylen)
{
	blowfish_init(bf);
	blowfish_expand0(bf, key, keylen);
}
