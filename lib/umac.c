/*
 * UMAC (RFC 4418) on libcrypto's AES-128, written from the RFC.
 *
 * Layout of the computation for a message M and a tag of 4 * iters bytes:
 *
 *   for each of the iters independent hash instances (each with its own
 *   slice of key material):
 *     L1: split M into 1024-byte blocks; each block (the last one
 *         zero-padded to a multiple of 32 bytes, at least 32) goes
 *         through NH, plus its length in bits, giving a 64-bit value;
 *     L2: a single L1 value is used as is; otherwise the L1 values are
 *         hashed by POLY64 (the first 2^14) then POLY128 (the rest,
 *         after a 0x80 marker and zero padding to 16 bytes);
 *     L3: the 128-bit L2 result is hashed into 32 bits by an inner
 *         product mod 2^36 - 5 and XORed with a 32-bit key;
 *   the concatenation is XORed with a pad: AES of the nonce.
 *
 * Message words are little-endian, keys and results big-endian (the RFC's
 * ENDIAN-SWAP and str2uint).  The polynomial arithmetic is portable C on
 * 64-bit integers: the L2 work is one step per 1024 bytes, so it does not
 * need to be fast; NH is where the time goes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ferry/err.h"
#include "umac.h"

#define UMAC_BLOCK		1024	/* bytes per L1 (NH) block */
#define UMAC_ITERS_MAX		4	/* a 16-byte tag: four 4-byte hashes */
#define UMAC_L1_KEY_LEN		(UMAC_BLOCK + 16 * (UMAC_ITERS_MAX - 1))
#define UMAC_POLY64_MAX		16384	/* L1 values POLY64 takes (2^14) */

#define UMAC_P36	0x0000000FFFFFFFFBULL	/* 2^36 - 5 */
#define UMAC_P64	0xFFFFFFFFFFFFFFC5ULL	/* 2^64 - 59 */
#define UMAC_P64_OFF	59ULL			/* 2^64 - p64 */
#define UMAC_P128_OFF	159ULL			/* 2^128 - p128 */
#define UMAC_KEY_MASK	0x01FFFFFF01FFFFFFULL	/* POLY key restriction */
#define UMAC_MARKER	0x8000000000000000ULL	/* end of POLY128 input */

/* An unsigned 128-bit integer. */
struct umac_u128 {
	uint64_t hi;
	uint64_t lo;
};

struct umac_ctx {
	size_t taglen;
	size_t iters;
	EVP_CIPHER_CTX *pdf;		/* AES-128 keyed with KDF(K, 0, 16) */

	uint32_t l1key[UMAC_L1_KEY_LEN / 4];
	uint64_t l2key64[UMAC_ITERS_MAX];
	struct umac_u128 l2key128[UMAC_ITERS_MAX];
	uint64_t l3key1[UMAC_ITERS_MAX][8];
	uint32_t l3key2[UMAC_ITERS_MAX];

	/* The message being hashed. */
	uint8_t buf[UMAC_BLOCK];	/* a block not yet known to be last */
	size_t buflen;
	uint64_t nblocks;		/* L1 values produced so far */
	uint64_t l1first[UMAC_ITERS_MAX];
	uint64_t y64[UMAC_ITERS_MAX];
	struct umac_u128 y128[UMAC_ITERS_MAX];
	uint64_t half[UMAC_ITERS_MAX];	/* POLY128: high half of a word */
	int have_half;

	/* The last pad: SSH nonces differ only in the low bit in turn. */
	uint8_t pdf_in[16];
	uint8_t pdf_out[16];
	int pdf_valid;
};

static uint32_t
umac_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint32_t
umac_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
umac_get_be64(const uint8_t *p)
{
	return (uint64_t)umac_get_be32(p) << 32 | umac_get_be32(p + 4);
}

static void
umac_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The full 128-bit product of two 64-bit numbers. */
static void
umac_mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
	uint64_t a0 = a & 0xffffffffU, a1 = a >> 32;
	uint64_t b0 = b & 0xffffffffU, b1 = b >> 32;
	uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
	uint64_t mid;

	mid = (p00 >> 32) + (p01 & 0xffffffffU) + (p10 & 0xffffffffU);
	*lo = mid << 32 | (p00 & 0xffffffffU);
	*hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

/* (a + b) mod p64 for a < p64 and any 64-bit b. */
static uint64_t
umac_add64(uint64_t a, uint64_t b)
{
	uint64_t r = a + b;

	if (r < b)		/* wrapped: 2^64 is 59 mod p64 */
		r += UMAC_P64_OFF;
	if (r >= UMAC_P64)
		r -= UMAC_P64;
	return r;
}

/* (k * y) mod p64 for a masked key k (< 2^57) and y < p64. */
static uint64_t
umac_mul64mod(uint64_t k, uint64_t y)
{
	uint64_t hi, lo, t, r;

	umac_mul64(k, y, &hi, &lo);
	t = hi * UMAC_P64_OFF;	/* hi < 2^57, so no overflow */
	r = lo + t;
	if (r < t)
		r += UMAC_P64_OFF;
	if (r >= UMAC_P64)
		r -= UMAC_P64;
	return r;
}

/* One step of POLY(64, 2^64 - 2^32, k, .): absorb the word m into y. */
static uint64_t
umac_poly64(uint64_t k, uint64_t y, uint64_t m)
{
	if ((m >> 32) == 0xffffffffU) {
		y = umac_add64(umac_mul64mod(k, y), UMAC_P64 - 1);
		m -= UMAC_P64_OFF;
	}
	return umac_add64(umac_mul64mod(k, y), m);
}

/* a + b mod 2^128; returns the carry out. */
static int
umac_add128(struct umac_u128 *a, struct umac_u128 b)
{
	uint64_t lo = a->lo + b.lo;
	uint64_t c = lo < b.lo;
	uint64_t hi = a->hi + b.hi;
	int carry = hi < b.hi;

	hi += c;
	if (hi < c)
		carry = 1;
	a->hi = hi;
	a->lo = lo;
	return carry;
}

/* Reduce a value below 2^128 to below p128 = 2^128 - 159. */
static void
umac_reduce128(struct umac_u128 *a)
{
	static const struct umac_u128 off = { 0, UMAC_P128_OFF };
	struct umac_u128 t = *a;

	/* a >= p128 exactly when a + 159 carries; a + 159 is then a - p128. */

	if (umac_add128(&t, off))
		*a = t;
}

/* (a + b) mod p128 for a < p128 and any 128-bit b. */
static struct umac_u128
umac_add128mod(struct umac_u128 a, struct umac_u128 b)
{
	static const struct umac_u128 off = { 0, UMAC_P128_OFF };

	if (umac_add128(&a, b))
		(void)umac_add128(&a, off);	/* 2^128 is 159 mod p128 */
	umac_reduce128(&a);
	return a;
}

/* (k * y) mod p128 for a masked key k and y < p128. */
static struct umac_u128
umac_mul128mod(struct umac_u128 k, struct umac_u128 y)
{
	uint32_t a[4], b[4], t[8];
	uint64_t cur, carry;
	struct umac_u128 r, add;
	size_t i, j;

	a[0] = (uint32_t)k.lo;
	a[1] = (uint32_t)(k.lo >> 32);
	a[2] = (uint32_t)k.hi;
	a[3] = (uint32_t)(k.hi >> 32);
	b[0] = (uint32_t)y.lo;
	b[1] = (uint32_t)(y.lo >> 32);
	b[2] = (uint32_t)y.hi;
	b[3] = (uint32_t)(y.hi >> 32);
	memset(t, 0, sizeof(t));
	for (i = 0; i < 4; i++) {
		carry = 0;
		for (j = 0; j < 4; j++) {
			cur = (uint64_t)a[i] * b[j] + t[i + j] + carry;
			t[i + j] = (uint32_t)cur;
			carry = cur >> 32;
		}
		t[i + 4] = (uint32_t)carry;
	}
	/* t = L + H * 2^128, and 2^128 is 159 mod p128: fold H in. */
	carry = 0;
	for (i = 0; i < 4; i++) {
		cur = (uint64_t)t[i] + (uint64_t)t[i + 4] * UMAC_P128_OFF +
		    carry;
		t[i] = (uint32_t)cur;
		carry = cur >> 32;
	}
	r.lo = (uint64_t)t[1] << 32 | t[0];
	r.hi = (uint64_t)t[3] << 32 | t[2];
	/* What is left is carry * 2^128, that is carry * 159. */
	add.hi = 0;
	add.lo = carry * UMAC_P128_OFF;
	if (umac_add128(&r, add)) {
		add.lo = UMAC_P128_OFF;
		(void)umac_add128(&r, add);
	}
	umac_reduce128(&r);
	return r;
}

/* One step of POLY(128, 2^128 - 2^96, k, .): absorb the word m into y. */
static struct umac_u128
umac_poly128(struct umac_u128 k, struct umac_u128 y, struct umac_u128 m)
{
	static const struct umac_u128 pm1 = {
		0xffffffffffffffffULL, 0xffffffffffffffffULL - UMAC_P128_OFF
	};

	if ((m.hi >> 32) == 0xffffffffU) {
		y = umac_add128mod(umac_mul128mod(k, y), pm1);
		if (m.lo < UMAC_P128_OFF)
			m.hi--;
		m.lo -= UMAC_P128_OFF;
	}
	return umac_add128mod(umac_mul128mod(k, y), m);
}

/* L3-HASH: the inner product of the 16-bit words of m with key1, mod p36. */
static uint32_t
umac_l3(const uint64_t key1[8], uint32_t key2, struct umac_u128 m)
{
	uint64_t y = 0;
	size_t j;

	for (j = 0; j < 4; j++) {
		y += ((m.hi >> (48 - 16 * j)) & 0xffffU) * key1[j];
		y += ((m.lo >> (48 - 16 * j)) & 0xffffU) * key1[j + 4];
	}
	return (uint32_t)(y % UMAC_P36) ^ key2;
}

/*
 * NH over len bytes (a multiple of 32) of one block, for every hash
 * instance at once: instance i uses the L1 key from word 4 * i on.
 */
static void
umac_nh(const struct umac_ctx *ctx, const uint8_t *m, size_t len,
    uint64_t y[UMAC_ITERS_MAX])
{
	const uint32_t *k = ctx->l1key;
	uint32_t w[8];
	size_t i, j;

	for (i = 0; i < ctx->iters; i++)
		y[i] = 0;
	for (; len >= 32; len -= 32, m += 32, k += 8) {
		for (j = 0; j < 8; j++)
			w[j] = umac_get_le32(m + 4 * j);
		for (i = 0; i < ctx->iters; i++) {
			const uint32_t *ki = k + 4 * i;

			y[i] += (uint64_t)(uint32_t)(w[0] + ki[0]) *
			    (uint32_t)(w[4] + ki[4]);
			y[i] += (uint64_t)(uint32_t)(w[1] + ki[1]) *
			    (uint32_t)(w[5] + ki[5]);
			y[i] += (uint64_t)(uint32_t)(w[2] + ki[2]) *
			    (uint32_t)(w[6] + ki[6]);
			y[i] += (uint64_t)(uint32_t)(w[3] + ki[3]) *
			    (uint32_t)(w[7] + ki[7]);
		}
	}
}

/* Hash one L1 block (padded length padlen, true length bitlen bits). */
static void
umac_block(struct umac_ctx *ctx, const uint8_t *m, size_t padlen,
    uint64_t bitlen)
{
	static const struct umac_u128 one = { 0, 1 };
	uint64_t l1[UMAC_ITERS_MAX];
	struct umac_u128 w;
	uint64_t n = ctx->nblocks;
	size_t i;

	umac_nh(ctx, m, padlen, l1);
	for (i = 0; i < ctx->iters; i++) {
		l1[i] += bitlen;
		if (n == 0)
			ctx->l1first[i] = l1[i];
		if (n < UMAC_POLY64_MAX) {
			ctx->y64[i] = umac_poly64(ctx->l2key64[i], ctx->y64[i],
			    l1[i]);
			continue;
		}
		if (n == UMAC_POLY64_MAX) {
			/* POLY128 starts at 1 and absorbs the POLY64 result. */
			w.hi = 0;
			w.lo = ctx->y64[i];
			ctx->y128[i] = umac_poly128(ctx->l2key128[i], one, w);
		}
		if (!ctx->have_half) {
			ctx->half[i] = l1[i];
			continue;
		}
		w.hi = ctx->half[i];
		w.lo = l1[i];
		ctx->y128[i] = umac_poly128(ctx->l2key128[i], ctx->y128[i], w);
	}
	if (n >= UMAC_POLY64_MAX)
		ctx->have_half = !ctx->have_half;
	ctx->nblocks++;
}

static void
umac_reset(struct umac_ctx *ctx)
{
	size_t i;

	ctx->buflen = 0;
	ctx->nblocks = 0;
	ctx->have_half = 0;
	for (i = 0; i < UMAC_ITERS_MAX; i++)
		ctx->y64[i] = 1;
}

/* KDF(K, index, len): AES of (index, counter) blocks, counter from 1. */
static int
umac_kdf(EVP_CIPHER_CTX *aes, uint8_t index, uint8_t *out, size_t len)
{
	uint8_t in[16], blk[16];
	uint32_t ctr;
	size_t n;
	int outl, r = 0;

	memset(in, 0, sizeof(in));
	in[7] = index;
	for (ctr = 1; len > 0; ctr++) {
		umac_put_be32(in + 12, ctr);
		if (EVP_EncryptUpdate(aes, blk, &outl, in, sizeof(in)) != 1 ||
		    outl != (int)sizeof(blk)) {
			r = FERR_LIBCRYPTO;
			goto out;
		}
		n = len < sizeof(blk) ? len : sizeof(blk);
		memcpy(out, blk, n);
		out += n;
		len -= n;
	}
 out:
	explicit_bzero(blk, sizeof(blk));
	return r;
}

static EVP_CIPHER_CTX *
umac_aes_new(const uint8_t key[16])
{
	EVP_CIPHER_CTX *aes;

	if ((aes = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_EncryptInit_ex(aes, EVP_aes_128_ecb(), NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(aes, 0) != 1) {
		EVP_CIPHER_CTX_free(aes);
		return NULL;
	}
	return aes;
}

int
umac_init(struct umac_ctx **ctxp, const uint8_t *key, size_t keylen,
    size_t taglen)
{
	struct umac_ctx *ctx = NULL;
	EVP_CIPHER_CTX *kdf = NULL;
	uint8_t tmp[UMAC_L1_KEY_LEN];
	size_t i, j, n;
	int r;

	*ctxp = NULL;
	if (keylen != UMAC_KEY_LEN)
		return FERR_KEY_LENGTH;
	if (taglen == 0 || taglen > UMAC_TAG_MAX || taglen % 4 != 0)
		return FERR_ARGUMENT;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return FERR_ALLOC;
	ctx->taglen = taglen;
	ctx->iters = taglen / 4;
	if ((kdf = umac_aes_new(key)) == NULL) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	/* The pad key. */
	if ((r = umac_kdf(kdf, 0, tmp, 16)) != 0)
		goto out;
	if ((ctx->pdf = umac_aes_new(tmp)) == NULL) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	/* L1: 1024 bytes, plus 16 for each further instance. */
	n = UMAC_BLOCK + 16 * (ctx->iters - 1);
	if ((r = umac_kdf(kdf, 1, tmp, n)) != 0)
		goto out;
	for (i = 0; i < n / 4; i++)
		ctx->l1key[i] = umac_get_be32(tmp + 4 * i);
	/* L2: 24 bytes per instance, a 64-bit then a 128-bit POLY key. */
	if ((r = umac_kdf(kdf, 2, tmp, 24 * ctx->iters)) != 0)
		goto out;
	for (i = 0; i < ctx->iters; i++) {
		ctx->l2key64[i] = umac_get_be64(tmp + 24 * i) & UMAC_KEY_MASK;
		ctx->l2key128[i].hi =
		    umac_get_be64(tmp + 24 * i + 8) & UMAC_KEY_MASK;
		ctx->l2key128[i].lo =
		    umac_get_be64(tmp + 24 * i + 16) & UMAC_KEY_MASK;
	}
	/* L3: eight 64-bit numbers mod p36, then one 32-bit key each. */
	if ((r = umac_kdf(kdf, 3, tmp, 64 * ctx->iters)) != 0)
		goto out;
	for (i = 0; i < ctx->iters; i++)
		for (j = 0; j < 8; j++)
			ctx->l3key1[i][j] =
			    umac_get_be64(tmp + 64 * i + 8 * j) % UMAC_P36;
	if ((r = umac_kdf(kdf, 4, tmp, 4 * ctx->iters)) != 0)
		goto out;
	for (i = 0; i < ctx->iters; i++)
		ctx->l3key2[i] = umac_get_be32(tmp + 4 * i);
	umac_reset(ctx);
	*ctxp = ctx;
	ctx = NULL;
	r = 0;
 out:
	explicit_bzero(tmp, sizeof(tmp));
	EVP_CIPHER_CTX_free(kdf);
	umac_free(ctx);
	return r;
}

void
umac_update(struct umac_ctx *ctx, const uint8_t *data, size_t len)
{
	size_t n;

	/*
	 * A full block is hashed only once more data follows: the last
	 * block of a message, even a full one, is hashed by umac_final().
	 */
	while (len > 0) {
		if (ctx->buflen == UMAC_BLOCK) {
			umac_block(ctx, ctx->buf, UMAC_BLOCK, UMAC_BLOCK * 8);
			ctx->buflen = 0;
		}
		if (ctx->buflen == 0 && len > UMAC_BLOCK) {
			umac_block(ctx, data, UMAC_BLOCK, UMAC_BLOCK * 8);
			data += UMAC_BLOCK;
			len -= UMAC_BLOCK;
			continue;
		}
		n = UMAC_BLOCK - ctx->buflen;
		if (n > len)
			n = len;
		memcpy(ctx->buf + ctx->buflen, data, n);
		ctx->buflen += n;
		data += n;
		len -= n;
	}
}

int
umac_final(struct umac_ctx *ctx, const uint8_t *nonce, size_t noncelen,
    uint8_t *tag)
{
	struct umac_u128 b;
	const uint8_t *pad;
	uint8_t in[16];
	size_t i, padlen, idx = 0;
	int outl, r = 0;

	if (noncelen == 0 || noncelen > UMAC_NONCE_MAX) {
		r = FERR_ARGUMENT;
		goto out;
	}
	/* The last block: zero-padded to a multiple of 32, at least 32. */
	padlen = ctx->buflen == 0 ? 32 : (ctx->buflen + 31) & ~(size_t)31;
	memset(ctx->buf + ctx->buflen, 0, padlen - ctx->buflen);
	umac_block(ctx, ctx->buf, padlen, (uint64_t)ctx->buflen * 8);

	for (i = 0; i < ctx->iters; i++) {
		b.hi = 0;
		if (ctx->nblocks == 1)
			b.lo = ctx->l1first[i];
		else if (ctx->nblocks <= UMAC_POLY64_MAX)
			b.lo = ctx->y64[i];
		else {
			/* Append the 0x80 marker and pad to 16 bytes. */
			if (ctx->have_half) {
				b.hi = ctx->half[i];
				b.lo = UMAC_MARKER;
			} else {
				b.hi = UMAC_MARKER;
				b.lo = 0;
			}
			b = umac_poly128(ctx->l2key128[i], ctx->y128[i], b);
		}
		umac_put_be32(tag + 4 * i,
		    umac_l3(ctx->l3key1[i], ctx->l3key2[i], b));
	}

	/*
	 * PDF: for 4- and 8-byte tags the low bits of the nonce pick which
	 * part of the AES output is the pad, and are cleared before AES.
	 */
	memset(in, 0, sizeof(in));
	memcpy(in, nonce, noncelen);
	if (ctx->taglen <= 8) {
		idx = in[noncelen - 1] & (16 / ctx->taglen - 1);
		in[noncelen - 1] &= (uint8_t)~(16 / ctx->taglen - 1);
	}
	if (!ctx->pdf_valid || memcmp(in, ctx->pdf_in, sizeof(in)) != 0) {
		ctx->pdf_valid = 0;
		if (EVP_EncryptUpdate(ctx->pdf, ctx->pdf_out, &outl, in,
		    sizeof(in)) != 1 || outl != (int)sizeof(ctx->pdf_out)) {
			r = FERR_LIBCRYPTO;
			goto out;
		}
		memcpy(ctx->pdf_in, in, sizeof(in));
		ctx->pdf_valid = 1;
	}
	pad = ctx->pdf_out + (ctx->taglen <= 8 ? idx * ctx->taglen : 0);
	for (i = 0; i < ctx->taglen; i++)
		tag[i] ^= pad[i];
 out:
	umac_reset(ctx);
	return r;
}

size_t
umac_taglen(const struct umac_ctx *ctx)
{
	return ctx->taglen;
}

void
umac_free(struct umac_ctx *ctx)
{
	if (ctx == NULL)
		return;
	EVP_CIPHER_CTX_free(ctx->pdf);
	explicit_bzero(ctx, sizeof(*ctx));
	free(ctx);
}
