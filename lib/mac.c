/*
 * SSH MACs: HMAC through libcrypto's EVP_MAC, UMAC through umac.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "ferry/err.h"
#include "mac.h"
#include "umac.h"

enum mac_type {
	MAC_HMAC,
	MAC_UMAC,
};

struct mac_alg {
	const char *name;
	enum mac_type type;
	const char *digest;	/* HMAC: libcrypto's digest name */
	size_t key_len;
	size_t tag_len;
	int flags;
#define MAC_F_ETM	0x01
#define MAC_F_LEGACY	0x02
};

struct mac_ctx {
	const struct mac_alg *alg;
	EVP_MAC_CTX *hmac;
	struct umac_ctx *umac;
};

static const struct mac_alg mac_algs[] = {
	{ "hmac-sha2-256-etm@openssh.com", MAC_HMAC, "SHA256", 32, 32,
	    MAC_F_ETM },
	{ "hmac-sha2-512-etm@openssh.com", MAC_HMAC, "SHA512", 64, 64,
	    MAC_F_ETM },
	{ "hmac-sha2-256", MAC_HMAC, "SHA256", 32, 32, 0 },
	{ "hmac-sha2-512", MAC_HMAC, "SHA512", 64, 64, 0 },
	{ "umac-64-etm@openssh.com", MAC_UMAC, NULL, 16, 8, MAC_F_ETM },
	{ "umac-128-etm@openssh.com", MAC_UMAC, NULL, 16, 16, MAC_F_ETM },
	{ "umac-64@openssh.com", MAC_UMAC, NULL, 16, 8, 0 },
	{ "umac-128@openssh.com", MAC_UMAC, NULL, 16, 16, 0 },
	{ "hmac-sha1-etm@openssh.com", MAC_HMAC, "SHA1", 20, 20,
	    MAC_F_ETM | MAC_F_LEGACY },
	{ "hmac-sha1", MAC_HMAC, "SHA1", 20, 20, MAC_F_LEGACY },
};

#define MAC_NALGS	(sizeof(mac_algs) / sizeof(mac_algs[0]))

const struct mac_alg *
mac_by_name(const char *name, int allow_legacy)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < MAC_NALGS; i++) {
		if (strcmp(mac_algs[i].name, name) != 0)
			continue;
		if ((mac_algs[i].flags & MAC_F_LEGACY) != 0 && !allow_legacy)
			return NULL;
		return &mac_algs[i];
	}
	return NULL;
}

const char *
mac_name(const struct mac_alg *alg)
{
	return alg->name;
}

size_t
mac_keylen(const struct mac_alg *alg)
{
	return alg->key_len;
}

size_t
mac_taglen(const struct mac_alg *alg)
{
	return alg->tag_len;
}

int
mac_is_etm(const struct mac_alg *alg)
{
	return (alg->flags & MAC_F_ETM) != 0;
}

int
mac_is_legacy(const struct mac_alg *alg)
{
	return (alg->flags & MAC_F_LEGACY) != 0;
}

static int
mac_hmac_init(struct mac_ctx *ctx, const uint8_t *key, size_t keylen)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac;

	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		return FERR_LIBCRYPTO;
	ctx->hmac = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (ctx->hmac == NULL)
		return FERR_LIBCRYPTO;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)ctx->alg->digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(ctx->hmac, key, keylen, params) != 1 ||
	    EVP_MAC_CTX_get_mac_size(ctx->hmac) != ctx->alg->tag_len)
		return FERR_LIBCRYPTO;
	return 0;
}

int
mac_init(struct mac_ctx **ctxp, const struct mac_alg *alg,
    const uint8_t *key, size_t keylen)
{
	struct mac_ctx *ctx;
	int r;

	*ctxp = NULL;
	if (alg == NULL)
		return FERR_ARGUMENT;
	if (keylen != alg->key_len || key == NULL)
		return FERR_KEY_LENGTH;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return FERR_ALLOC;
	ctx->alg = alg;
	switch (alg->type) {
	case MAC_HMAC:
		r = mac_hmac_init(ctx, key, keylen);
		break;
	case MAC_UMAC:
		r = umac_init(&ctx->umac, key, keylen, alg->tag_len);
		break;
	default:
		r = FERR_INTERNAL;
		break;
	}
	if (r != 0) {
		mac_free(ctx);
		return r;
	}
	*ctxp = ctx;
	return 0;
}

const struct mac_alg *
mac_ctx_alg(const struct mac_ctx *ctx)
{
	return ctx->alg;
}

int
mac_compute(struct mac_ctx *ctx, uint32_t seqnr, const uint8_t *data,
    size_t len, uint8_t *out, size_t outlen)
{
	uint8_t nonce[8];
	size_t n;

	if (outlen < ctx->alg->tag_len)
		return FERR_ARGUMENT;
	switch (ctx->alg->type) {
	case MAC_HMAC:
		nonce[0] = (uint8_t)(seqnr >> 24);
		nonce[1] = (uint8_t)(seqnr >> 16);
		nonce[2] = (uint8_t)(seqnr >> 8);
		nonce[3] = (uint8_t)seqnr;
		/* A NULL key restarts the MAC with the key it has. */
		if (EVP_MAC_init(ctx->hmac, NULL, 0, NULL) != 1 ||
		    EVP_MAC_update(ctx->hmac, nonce, 4) != 1 ||
		    EVP_MAC_update(ctx->hmac, data, len) != 1 ||
		    EVP_MAC_final(ctx->hmac, out, &n, outlen) != 1 ||
		    n != ctx->alg->tag_len)
			return FERR_LIBCRYPTO;
		return 0;
	case MAC_UMAC:
		/* The sequence number as a big-endian uint64 is the nonce. */
		memset(nonce, 0, 4);
		nonce[4] = (uint8_t)(seqnr >> 24);
		nonce[5] = (uint8_t)(seqnr >> 16);
		nonce[6] = (uint8_t)(seqnr >> 8);
		nonce[7] = (uint8_t)seqnr;
		umac_update(ctx->umac, data, len);
		return umac_final(ctx->umac, nonce, sizeof(nonce), out);
	default:
		return FERR_INTERNAL;
	}
}

int
mac_check(struct mac_ctx *ctx, uint32_t seqnr, const uint8_t *data,
    size_t len, const uint8_t *tag, size_t taglen)
{
	uint8_t ours[MAC_TAG_MAX];
	int r;

	if (taglen != ctx->alg->tag_len)
		return FERR_ARGUMENT;
	if ((r = mac_compute(ctx, seqnr, data, len, ours, sizeof(ours))) != 0)
		goto out;
	if (CRYPTO_memcmp(ours, tag, taglen) != 0)
		r = FERR_MAC_INVALID;
 out:
	explicit_bzero(ours, sizeof(ours));
	return r;
}

void
mac_free(struct mac_ctx *ctx)
{
	if (ctx == NULL)
		return;
	/* libcrypto wipes the HMAC state when it frees it. */
	EVP_MAC_CTX_free(ctx->hmac);
	umac_free(ctx->umac);
	explicit_bzero(ctx, sizeof(*ctx));
	free(ctx);
}

const char *
mac_default_list(void)
{
	return MAC_DEFAULT_LIST;
}

char *
mac_alg_list(char sep, int all)
{
	char *ret, *p;
	size_t i, n = 0;

	for (i = 0; i < MAC_NALGS; i++)
		if (all || (mac_algs[i].flags & MAC_F_LEGACY) == 0)
			n += strlen(mac_algs[i].name) + 1;
	if ((ret = p = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < MAC_NALGS; i++) {
		if (!all && (mac_algs[i].flags & MAC_F_LEGACY) != 0)
			continue;
		if (p != ret)
			*p++ = sep;
		n = strlen(mac_algs[i].name);
		memcpy(p, mac_algs[i].name, n);
		p += n;
	}
	*p = '\0';
	return ret;
}
