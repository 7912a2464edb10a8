/*
 * bcrypt_pbkdf (OpenBSD): for each 32-byte output block, a chain of
 * "rounds" bcrypt hashes is XORed together, much as PBKDF2 does with
 * HMAC; the output bytes of the blocks are then interleaved, so that
 * every byte of a key depends on the whole computation.
 *
 * The bcrypt hash here takes SHA-512 digests of the passphrase and the
 * salt, runs Eksblowfish's expensive setup (64 rounds) keyed by both,
 * and encrypts the 32-byte text "OxychromaticBlowfishSwatDynamite" 64
 * times; the eight words come out little-endian.
 */
#include "config.h"

#include <string.h>

#include <openssl/evp.h>

#include "ferry/err.h"
#include "bcrypt-pbkdf.h"
#include "blowfish.h"

#define BCRYPT_HASH_LEN		32
#define BCRYPT_WORDS		(BCRYPT_HASH_LEN / 4)
#define BCRYPT_SHA512_LEN	64
#define BCRYPT_SETUP_ROUNDS	64
#define BCRYPT_ENCRYPT_ROUNDS	64

static const char bcrypt_magic[BCRYPT_HASH_LEN + 1] =
    "OxychromaticBlowfishSwatDynamite";

static void
bcrypt_hash(const uint8_t sha2pass[BCRYPT_SHA512_LEN],
    const uint8_t sha2salt[BCRYPT_SHA512_LEN], uint8_t out[BCRYPT_HASH_LEN])
{
	struct blowfish bf;
	uint32_t cdata[BCRYPT_WORDS];
	int i, k;

	blowfish_init(&bf);
	blowfish_expand(&bf, sha2salt, BCRYPT_SHA512_LEN, sha2pass,
	    BCRYPT_SHA512_LEN);
	for (i = 0; i < BCRYPT_SETUP_ROUNDS; i++) {
		blowfish_expand0(&bf, sha2salt, BCRYPT_SHA512_LEN);
		blowfish_expand0(&bf, sha2pass, BCRYPT_SHA512_LEN);
	}
	for (i = 0; i < BCRYPT_WORDS; i++)
		cdata[i] = (uint32_t)(uint8_t)bcrypt_magic[4 * i] << 24 |
		    (uint32_t)(uint8_t)bcrypt_magic[4 * i + 1] << 16 |
		    (uint32_t)(uint8_t)bcrypt_magic[4 * i + 2] << 8 |
		    (uint8_t)bcrypt_magic[4 * i + 3];
	for (i = 0; i < BCRYPT_ENCRYPT_ROUNDS; i++)
		for (k = 0; k < BCRYPT_WORDS; k += 2)
			blowfish_encrypt(&bf, &cdata[k], &cdata[k + 1]);
	for (i = 0; i < BCRYPT_WORDS; i++) {
		out[4 * i] = (uint8_t)cdata[i];
		out[4 * i + 1] = (uint8_t)(cdata[i] >> 8);
		out[4 * i + 2] = (uint8_t)(cdata[i] >> 16);
		out[4 * i + 3] = (uint8_t)(cdata[i] >> 24);
	}
	explicit_bzero(cdata, sizeof(cdata));
	explicit_bzero(&bf, sizeof(bf));
}

static int
bcrypt_sha512(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
    uint8_t out[BCRYPT_SHA512_LEN])
{
	EVP_MD_CTX *ctx;
	unsigned int len = 0;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return FERR_ALLOC;
	ok = EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    (blen == 0 || EVP_DigestUpdate(ctx, b, blen) == 1) &&
	    EVP_DigestFinal_ex(ctx, out, &len) == 1 &&
	    len == BCRYPT_SHA512_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : FERR_LIBCRYPTO;
}

int
bcrypt_pbkdf(const uint8_t *pass, size_t passlen, const uint8_t *salt,
    size_t saltlen, uint8_t *key, size_t keylen, unsigned int rounds)
{
	uint8_t sha2pass[BCRYPT_SHA512_LEN], sha2salt[BCRYPT_SHA512_LEN];
	uint8_t tmp[BCRYPT_HASH_LEN], acc[BCRYPT_HASH_LEN], cnt[4];
	size_t stride, amt, i, dest, left = keylen;
	uint32_t count;
	unsigned int round;
	int r;

	if (pass == NULL || salt == NULL || key == NULL || rounds < 1 ||
	    passlen == 0 || saltlen == 0 || saltlen > BCRYPT_PBKDF_MAX_SALT ||
	    keylen == 0 || keylen > BCRYPT_PBKDF_MAX_KEY)
		return FERR_ARGUMENT;
	/* Output bytes are spread over the blocks with this stride. */
	stride = (keylen + BCRYPT_HASH_LEN - 1) / BCRYPT_HASH_LEN;
	amt = (keylen + stride - 1) / stride;

	if ((r = bcrypt_sha512(pass, passlen, NULL, 0, sha2pass)) != 0)
		goto out;
	for (count = 1; left > 0; count++) {
		cnt[0] = (uint8_t)(count >> 24);
		cnt[1] = (uint8_t)(count >> 16);
		cnt[2] = (uint8_t)(count >> 8);
		cnt[3] = (uint8_t)count;
		if ((r = bcrypt_sha512(salt, saltlen, cnt, sizeof(cnt),
		    sha2salt)) != 0)
			goto out;
		bcrypt_hash(sha2pass, sha2salt, tmp);
		memcpy(acc, tmp, sizeof(acc));
		for (round = 1; round < rounds; round++) {
			if ((r = bcrypt_sha512(tmp, sizeof(tmp), NULL, 0,
			    sha2salt)) != 0)
				goto out;
			bcrypt_hash(sha2pass, sha2salt, tmp);
			for (i = 0; i < sizeof(acc); i++)
				acc[i] ^= tmp[i];
		}
		if (amt > left)
			amt = left;
		for (i = 0; i < amt; i++) {
			dest = i * stride + (count - 1);
			if (dest >= keylen)
				break;
			key[dest] = acc[i];
		}
		/* Cannot happen with the stride above; never spin. */
		if (i == 0) {
			r = FERR_INTERNAL;
			goto out;
		}
		left -= i;
	}
	r = 0;
 out:
	explicit_bzero(sha2pass, sizeof(sha2pass));
	explicit_bzero(sha2salt, sizeof(sha2salt));
	explicit_bzero(tmp, sizeof(tmp));
	explicit_bzero(acc, sizeof(acc));
	return r;
}
