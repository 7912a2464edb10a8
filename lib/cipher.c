/*
 * Symmetric ciphers of the SSH transport over libcrypto EVP: the table of
 * algorithms and one init/crypt pair per construction.
 *
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305) is
 * built here from EVP_chacha20 and the "POLY1305" EVP_MAC.  The 64-byte key
 * is K_2 (first 32 bytes: payload and Poly1305 key) then K_1 (last 32:
 * packet length).  The DJB ChaCha20 that OpenSSH uses has a 64-bit block
 * counter and a 64-bit nonce; libcrypto's EVP_chacha20 takes a 16-byte IV
 * that is the state words 12..15 in little-endian order, a 32-bit counter
 * then a 96-bit nonce.  The two layouts are the same 16 bytes: an 8-byte
 * little-endian block counter, then the nonce, which here is the sequence
 * number as an 8-byte big-endian uint64.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cipher.h"
#include "ferry/err.h"
#include "misc.h"

#define CIPHER_CHACHA_KEY_LEN	32
#define CIPHER_POLY_KEY_LEN	32
#define CIPHER_POLY_TAG_LEN	16
#define CIPHER_GCM_IV_LEN	12
#define CIPHER_GCM_TAG_LEN	16
#define CIPHER_LENGTH_LEN	4	/* the packet length field */

struct cipher_alg {
	const char *name;
	size_t block_size;
	size_t key_len;
	size_t iv_len;
	size_t auth_len;
	int flags;
#define CIPHER_F_AEAD	0x01
#define CIPHER_F_NONE	0x02	/* "none": left out of ordinary lists */
	const EVP_CIPHER *(*evp)(void);
	int (*init)(struct cipher_ctx *, const uint8_t *, const uint8_t *);
	int (*crypt)(struct cipher_ctx *, uint32_t, uint8_t *,
	    const uint8_t *, size_t, size_t);
	int (*get_length)(struct cipher_ctx *, uint32_t *, uint32_t,
	    const uint8_t *);
};

struct cipher_ctx {
	const struct cipher_alg *alg;
	int encrypt;
	EVP_CIPHER_CTX *evp;	/* AES; chacha20-poly1305: K_2 */
	EVP_CIPHER_CTX *evp_len; /* chacha20-poly1305: K_1 */
	EVP_MAC_CTX *poly;	/* chacha20-poly1305: Poly1305 */
	uint8_t iv[CIPHER_GCM_IV_LEN];	/* GCM: the next packet's IV */
	uint8_t *scratch;	/* GCM: out-of-place decryption */
	size_t scratch_len;
};

static int cipher_chachapoly_init(struct cipher_ctx *, const uint8_t *,
    const uint8_t *);
static int cipher_chachapoly_crypt(struct cipher_ctx *, uint32_t, uint8_t *,
    const uint8_t *, size_t, size_t);
static int cipher_chachapoly_get_length(struct cipher_ctx *, uint32_t *,
    uint32_t, const uint8_t *);
static int cipher_gcm_init(struct cipher_ctx *, const uint8_t *,
    const uint8_t *);
static int cipher_gcm_crypt(struct cipher_ctx *, uint32_t, uint8_t *,
    const uint8_t *, size_t, size_t);
static int cipher_ctr_init(struct cipher_ctx *, const uint8_t *,
    const uint8_t *);
static int cipher_ctr_crypt(struct cipher_ctx *, uint32_t, uint8_t *,
    const uint8_t *, size_t, size_t);
static int cipher_plain_get_length(struct cipher_ctx *, uint32_t *,
    uint32_t, const uint8_t *);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
static int cipher_none_init(struct cipher_ctx *, const uint8_t *,
    const uint8_t *);
static int cipher_none_crypt(struct cipher_ctx *, uint32_t, uint8_t *,
    const uint8_t *, size_t, size_t);
#endif

static const struct cipher_alg cipher_algs[] = {
	{ "chacha20-poly1305@openssh.com", 8, 64, 0, 16, CIPHER_F_AEAD, NULL,
	    cipher_chachapoly_init, cipher_chachapoly_crypt,
	    cipher_chachapoly_get_length },
	{ "aes128-ctr", 16, 16, 16, 0, 0, EVP_aes_128_ctr,
	    cipher_ctr_init, cipher_ctr_crypt, cipher_plain_get_length },
	{ "aes192-ctr", 16, 24, 16, 0, 0, EVP_aes_192_ctr,
	    cipher_ctr_init, cipher_ctr_crypt, cipher_plain_get_length },
	{ "aes256-ctr", 16, 32, 16, 0, 0, EVP_aes_256_ctr,
	    cipher_ctr_init, cipher_ctr_crypt, cipher_plain_get_length },
	{ "aes128-gcm@openssh.com", 16, 16, 12, 16, CIPHER_F_AEAD,
	    EVP_aes_128_gcm, cipher_gcm_init, cipher_gcm_crypt,
	    cipher_plain_get_length },
	{ "aes256-gcm@openssh.com", 16, 32, 12, 16, CIPHER_F_AEAD,
	    EVP_aes_256_gcm, cipher_gcm_init, cipher_gcm_crypt,
	    cipher_plain_get_length },
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	{ "none", 8, 0, 0, 0, CIPHER_F_NONE, NULL,
	    cipher_none_init, cipher_none_crypt, cipher_plain_get_length },
#endif
};

#define CIPHER_NALGS	(sizeof(cipher_algs) / sizeof(cipher_algs[0]))

static const uint8_t cipher_zero[64];

static uint32_t
cipher_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* XOR len bytes with the key stream (or run the cipher) from in to out. */
static int
cipher_update(EVP_CIPHER_CTX *evp, uint8_t *out, const uint8_t *in,
    size_t len)
{
	int outl;

	if (len == 0)
		return 0;
	if (EVP_CipherUpdate(evp, out, &outl, in, (int)len) != 1 ||
	    (size_t)outl != len)
		return FERR_LIBCRYPTO;
	return 0;
}

/* chacha20-poly1305@openssh.com */

/* Position a ChaCha20 instance at block 0 of the stream for seqnr. */
static int
cipher_chacha_seek(EVP_CIPHER_CTX *evp, uint32_t seqnr)
{
	uint8_t iv[16];

	/* Block counter 0 (8 bytes LE), then seqnr as a big-endian uint64. */
	memset(iv, 0, sizeof(iv));
	iv[12] = (uint8_t)(seqnr >> 24);
	iv[13] = (uint8_t)(seqnr >> 16);
	iv[14] = (uint8_t)(seqnr >> 8);
	iv[15] = (uint8_t)seqnr;
	if (EVP_CipherInit_ex(evp, NULL, NULL, NULL, iv, 1) != 1)
		return FERR_LIBCRYPTO;
	return 0;
}

static EVP_CIPHER_CTX *
cipher_chacha_new(const uint8_t *key)
{
	EVP_CIPHER_CTX *evp;

	if ((evp = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_CipherInit_ex(evp, EVP_chacha20(), NULL, key, NULL, 1) != 1) {
		EVP_CIPHER_CTX_free(evp);
		return NULL;
	}
	return evp;
}

static int
cipher_chachapoly_init(struct cipher_ctx *ctx, const uint8_t *key,
    const uint8_t *iv)
{
	EVP_MAC *mac;

	(void)iv;
	if ((ctx->evp = cipher_chacha_new(key)) == NULL ||
	    (ctx->evp_len = cipher_chacha_new(key + CIPHER_CHACHA_KEY_LEN)) ==
	    NULL)
		return FERR_LIBCRYPTO;
	if ((mac = EVP_MAC_fetch(NULL, "POLY1305", NULL)) == NULL)
		return FERR_LIBCRYPTO;
	ctx->poly = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (ctx->poly == NULL)
		return FERR_LIBCRYPTO;
	return 0;
}

/* The Poly1305 tag of len bytes at p under the one-time key polykey. */
static int
cipher_poly1305(struct cipher_ctx *ctx, const uint8_t *polykey,
    const uint8_t *p, size_t len, uint8_t tag[CIPHER_POLY_TAG_LEN])
{
	size_t outl;

	if (EVP_MAC_init(ctx->poly, polykey, CIPHER_POLY_KEY_LEN, NULL) != 1 ||
	    EVP_MAC_update(ctx->poly, p, len) != 1 ||
	    EVP_MAC_final(ctx->poly, tag, &outl, CIPHER_POLY_TAG_LEN) != 1 ||
	    outl != CIPHER_POLY_TAG_LEN)
		return FERR_LIBCRYPTO;
	return 0;
}

static int
cipher_chachapoly_crypt(struct cipher_ctx *ctx, uint32_t seqnr,
    uint8_t *dest, const uint8_t *src, size_t len, size_t aadlen)
{
	uint8_t block0[64], tag[CIPHER_POLY_TAG_LEN];
	int r;

	if (aadlen != CIPHER_LENGTH_LEN)
		return FERR_ARGUMENT;
	/* Block 0 of the K_2 stream: its first 32 bytes key Poly1305. */
	if ((r = cipher_chacha_seek(ctx->evp, seqnr)) != 0 ||
	    (r = cipher_update(ctx->evp, block0, cipher_zero,
	    sizeof(block0))) != 0)
		goto out;
	/* The tag covers the encrypted length and payload. */
	if (!ctx->encrypt) {
		if ((r = cipher_poly1305(ctx, block0, src, aadlen + len,
		    tag)) != 0)
			goto out;
		if (CRYPTO_memcmp(tag, src + aadlen + len, sizeof(tag)) != 0) {
			r = FERR_MAC_INVALID;
			goto out;
		}
	}
	/* The length with K_1 from block 0; the payload with K_2 from 1. */
	if ((r = cipher_chacha_seek(ctx->evp_len, seqnr)) != 0 ||
	    (r = cipher_update(ctx->evp_len, dest, src, aadlen)) != 0 ||
	    (r = cipher_update(ctx->evp, dest + aadlen, src + aadlen,
	    len)) != 0)
		goto out;
	if (ctx->encrypt &&
	    (r = cipher_poly1305(ctx, block0, dest, aadlen + len,
	    dest + aadlen + len)) != 0)
		goto out;
	r = 0;
 out:
	explicit_bzero(block0, sizeof(block0));
	explicit_bzero(tag, sizeof(tag));
	return r;
}

static int
cipher_chachapoly_get_length(struct cipher_ctx *ctx, uint32_t *plenp,
    uint32_t seqnr, const uint8_t *cp)
{
	uint8_t buf[CIPHER_LENGTH_LEN];
	int r;

	if ((r = cipher_chacha_seek(ctx->evp_len, seqnr)) != 0 ||
	    (r = cipher_update(ctx->evp_len, buf, cp, sizeof(buf))) != 0)
		return r;
	*plenp = cipher_get_be32(buf);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* AES-GCM (RFC 5647) */

static int
cipher_gcm_init(struct cipher_ctx *ctx, const uint8_t *key,
    const uint8_t *iv)
{
	if ((ctx->evp = EVP_CIPHER_CTX_new()) == NULL)
		return FERR_ALLOC;
	if (EVP_CipherInit_ex(ctx->evp, ctx->alg->evp(), NULL, key, NULL,
	    ctx->encrypt) != 1 ||
	    EVP_CIPHER_CTX_get_iv_length(ctx->evp) != CIPHER_GCM_IV_LEN)
		return FERR_LIBCRYPTO;
	memcpy(ctx->iv, iv, CIPHER_GCM_IV_LEN);
	return 0;
}

/* Add one to the invocation counter, the IV's last 8 bytes, mod 2^64. */
static void
cipher_gcm_next_iv(struct cipher_ctx *ctx)
{
	size_t i;

	for (i = CIPHER_GCM_IV_LEN; i > CIPHER_GCM_IV_LEN - 8; i--)
		if (++ctx->iv[i - 1] != 0)
			break;
}

/* Make sure the scratch buffer holds len bytes. */
static int
cipher_gcm_scratch(struct cipher_ctx *ctx, size_t len)
{
	uint8_t *p;

	if (len <= ctx->scratch_len)
		return 0;
	if ((p = malloc(len)) == NULL)
		return FERR_ALLOC;
	misc_freezero(ctx->scratch, ctx->scratch_len);
	ctx->scratch = p;
	ctx->scratch_len = len;
	return 0;
}

static int
cipher_gcm_crypt(struct cipher_ctx *ctx, uint32_t seqnr, uint8_t *dest,
    const uint8_t *src, size_t len, size_t aadlen)
{
	uint8_t tag[CIPHER_GCM_TAG_LEN], *out;
	int outl, in_place = dest == src, r;

	(void)seqnr;
	if (len % CIPHER_GCM_TAG_LEN != 0)	/* the AES block size */
		return FERR_ARGUMENT;
	if (!ctx->encrypt && !in_place &&
	    (r = cipher_gcm_scratch(ctx, len)) != 0)
		return r;
	if (EVP_CipherInit_ex(ctx->evp, NULL, NULL, NULL, ctx->iv, -1) != 1)
		return FERR_LIBCRYPTO;
	if (!ctx->encrypt) {
		memcpy(tag, src + aadlen + len, sizeof(tag));
		if (EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_GCM_SET_TAG,
		    (int)sizeof(tag), tag) != 1) {
			r = FERR_LIBCRYPTO;
			goto out;
		}
	}
	/* A NULL output makes the update process AAD. */
	if (aadlen > 0 &&
	    (EVP_CipherUpdate(ctx->evp, NULL, &outl, src, (int)aadlen) != 1 ||
	    (size_t)outl != aadlen)) {
		r = FERR_LIBCRYPTO;
		goto out;
	}

	if (ctx->encrypt) {
		if (!in_place)
			memmove(dest, src, aadlen);
		if ((r = cipher_update(ctx->evp, dest + aadlen, src + aadlen,
		    len)) != 0)
			goto out;
		if (EVP_CipherFinal_ex(ctx->evp, tag, &outl) != 1 ||
		    EVP_CIPHER_CTX_ctrl(ctx->evp, EVP_CTRL_GCM_GET_TAG,
		    (int)sizeof(tag), dest + aadlen + len) != 1) {
			r = FERR_LIBCRYPTO;
			goto out;
		}
		cipher_gcm_next_iv(ctx);
		r = 0;
		goto out;
	}

	/* Decryption: the plaintext is released only once the tag matches. */
	out = in_place ? dest + aadlen : ctx->scratch;
	if ((r = cipher_update(ctx->evp, out, src + aadlen, len)) != 0) {
		explicit_bzero(out, len);
		goto out;
	}
	if (EVP_CipherFinal_ex(ctx->evp, tag, &outl) != 1) {
		r = FERR_MAC_INVALID;
		if (!in_place)
			goto out;
		/* CTR is an XOR: the same key stream restores the input. */
		if (EVP_CipherInit_ex(ctx->evp, NULL, NULL, NULL, ctx->iv,
		    -1) != 1 || cipher_update(ctx->evp, out, out, len) != 0) {
			explicit_bzero(out, len);
			r = FERR_LIBCRYPTO;
		}
		goto out;
	}
	if (!in_place) {
		memmove(dest, src, aadlen);
		if (len > 0)
			memcpy(dest + aadlen, out, len);
	}
	cipher_gcm_next_iv(ctx);
	r = 0;
 out:
	if (!in_place && ctx->scratch != NULL && !ctx->encrypt)
		explicit_bzero(ctx->scratch, len);
	explicit_bzero(tag, sizeof(tag));
	return r;
}

/* AES-CTR (RFC 4344) */

static int
cipher_ctr_init(struct cipher_ctx *ctx, const uint8_t *key,
    const uint8_t *iv)
{
	if ((ctx->evp = EVP_CIPHER_CTX_new()) == NULL)
		return FERR_ALLOC;
	if (EVP_CipherInit_ex(ctx->evp, ctx->alg->evp(), NULL, key, iv,
	    ctx->encrypt) != 1)
		return FERR_LIBCRYPTO;
	return 0;
}

static int
cipher_ctr_crypt(struct cipher_ctx *ctx, uint32_t seqnr, uint8_t *dest,
    const uint8_t *src, size_t len, size_t aadlen)
{
	(void)seqnr;
	if (len % ctx->alg->block_size != 0)
		return FERR_ARGUMENT;
	if (dest != src)
		memmove(dest, src, aadlen);
	return cipher_update(ctx->evp, dest + aadlen, src + aadlen, len);
}

static int
cipher_plain_get_length(struct cipher_ctx *ctx, uint32_t *plenp,
    uint32_t seqnr, const uint8_t *cp)
{
	(void)ctx;
	(void)seqnr;
	*plenp = cipher_get_be32(cp);
	return 0;
}

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* "none": lets fuzzers reach the code behind the transport's ciphers. */

static int
cipher_none_init(struct cipher_ctx *ctx, const uint8_t *key,
    const uint8_t *iv)
{
	(void)ctx;
	(void)key;
	(void)iv;
	return 0;
}

static int
cipher_none_crypt(struct cipher_ctx *ctx, uint32_t seqnr, uint8_t *dest,
    const uint8_t *src, size_t len, size_t aadlen)
{
	(void)ctx;
	(void)seqnr;
	if (dest != src)
		memmove(dest, src, aadlen + len);
	return 0;
}
#endif

/* The public interface */

const struct cipher_alg *
cipher_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < CIPHER_NALGS; i++)
		if (strcmp(cipher_algs[i].name, name) == 0)
			return &cipher_algs[i];
	return NULL;
}

const char *
cipher_name(const struct cipher_alg *alg)
{
	return alg->name;
}

size_t
cipher_blocksize(const struct cipher_alg *alg)
{
	return alg->block_size;
}

size_t
cipher_keylen(const struct cipher_alg *alg)
{
	return alg->key_len;
}

size_t
cipher_ivlen(const struct cipher_alg *alg)
{
	return alg->iv_len;
}

size_t
cipher_authlen(const struct cipher_alg *alg)
{
	return alg->auth_len;
}

int
cipher_is_aead(const struct cipher_alg *alg)
{
	return (alg->flags & CIPHER_F_AEAD) != 0;
}

int
cipher_init(struct cipher_ctx **ctxp, const struct cipher_alg *alg,
    const uint8_t *key, size_t keylen, const uint8_t *iv, size_t ivlen,
    int do_encrypt)
{
	struct cipher_ctx *ctx;
	int r;

	*ctxp = NULL;
	if (alg == NULL || ivlen != alg->iv_len || (iv == NULL && ivlen > 0))
		return FERR_ARGUMENT;
	if (keylen != alg->key_len || (key == NULL && keylen > 0))
		return FERR_KEY_LENGTH;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return FERR_ALLOC;
	ctx->alg = alg;
	ctx->encrypt = do_encrypt != 0;
	if ((r = alg->init(ctx, key, iv)) != 0) {
		cipher_free(ctx);
		return r;
	}
	*ctxp = ctx;
	return 0;
}

const struct cipher_alg *
cipher_ctx_alg(const struct cipher_ctx *ctx)
{
	return ctx->alg;
}

int
cipher_crypt(struct cipher_ctx *ctx, uint32_t seqnr, uint8_t *dest,
    const uint8_t *src, size_t len, size_t aadlen, size_t authlen)
{
	/* EVP counts in int; the tag must follow within that range too. */
	if (authlen != ctx->alg->auth_len || len > INT_MAX / 2 ||
	    aadlen > INT_MAX / 2)
		return FERR_ARGUMENT;
	return ctx->alg->crypt(ctx, seqnr, dest, src, len, aadlen);
}

int
cipher_get_length(struct cipher_ctx *ctx, uint32_t *plenp, uint32_t seqnr,
    const uint8_t *cp, size_t len)
{
	if (len < CIPHER_LENGTH_LEN)
		return FERR_INCOMPLETE;
	return ctx->alg->get_length(ctx, plenp, seqnr, cp);
}

int
cipher_get_iv(struct cipher_ctx *ctx, uint8_t *iv, size_t ivsize)
{
	size_t ivlen = ctx->alg->iv_len;

	if (ivsize < ivlen)
		return FERR_ARGUMENT;
	if (ivlen == 0)
		return 0;
	/* GCM keeps the next nonce itself; CTR's counter lives in EVP. */
	if (ctx->alg->crypt == cipher_gcm_crypt) {
		memcpy(iv, ctx->iv, ivlen);
		return 0;
	}
	if (EVP_CIPHER_CTX_get_num(ctx->evp) != 0)
		return FERR_NOT_SUPPORTED;
	if (EVP_CIPHER_CTX_get_updated_iv(ctx->evp, iv, ivlen) != 1)
		return FERR_LIBCRYPTO;
	return 0;
}

void
cipher_free(struct cipher_ctx *ctx)
{
	if (ctx == NULL)
		return;
	/* libcrypto wipes its cipher and MAC states when it frees them. */
	EVP_CIPHER_CTX_free(ctx->evp);
	EVP_CIPHER_CTX_free(ctx->evp_len);
	EVP_MAC_CTX_free(ctx->poly);
	misc_freezero(ctx->scratch, ctx->scratch_len);
	explicit_bzero(ctx, sizeof(*ctx));
	free(ctx);
}

const char *
cipher_default_list(void)
{
	return CIPHER_DEFAULT_LIST;
}

char *
cipher_alg_list(char sep, int all)
{
	char *ret, *p;
	size_t i, n = 0;

	for (i = 0; i < CIPHER_NALGS; i++)
		if (all || (cipher_algs[i].flags & CIPHER_F_NONE) == 0)
			n += strlen(cipher_algs[i].name) + 1;
	if ((ret = p = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < CIPHER_NALGS; i++) {
		if (!all && (cipher_algs[i].flags & CIPHER_F_NONE) != 0)
			continue;
		if (p != ret)
			*p++ = sep;
		n = strlen(cipher_algs[i].name);
		memcpy(p, cipher_algs[i].name, n);
		p += n;
	}
	*p = '\0';
	return ret;
}
