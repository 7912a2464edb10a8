/*
 * Message digests over libcrypto EVP.  One table maps our ids to names
 * and EVP_MD getters; the rest is plumbing with checked lengths.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "digest.h"

struct digest_ctx {
	int alg;
	EVP_MD_CTX *mdctx;
};

struct digest_info {
	int alg;
	const char *name;
	const char *alias1;	/* other spellings accepted by name */
	const char *alias2;
	size_t bytes;
	const EVP_MD *(*md)(void);
};

/* Indexed by enum digest_alg. */
static const struct digest_info digest_table[DIGEST_COUNT] = {
	{ DIGEST_MD5, "MD5", "MD-5", NULL, 16, EVP_md5 },
	{ DIGEST_SHA1, "SHA1", "SHA-1", NULL, 20, EVP_sha1 },
	{ DIGEST_SHA256, "SHA256", "SHA-256", "SHA2-256", 32, EVP_sha256 },
	{ DIGEST_SHA384, "SHA384", "SHA-384", "SHA2-384", 48, EVP_sha384 },
	{ DIGEST_SHA512, "SHA512", "SHA-512", "SHA2-512", 64, EVP_sha512 },
};

static const struct digest_info *
digest_lookup(int alg)
{
	if (alg < 0 || alg >= DIGEST_COUNT)
		return NULL;
	return &digest_table[alg];
}

int
digest_by_name(const char *name)
{
	const struct digest_info *di;
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < DIGEST_COUNT; i++) {
		di = &digest_table[i];
		if (strcasecmp(name, di->name) == 0 ||
		    (di->alias1 != NULL && strcasecmp(name, di->alias1) == 0) ||
		    (di->alias2 != NULL && strcasecmp(name, di->alias2) == 0))
			return di->alg;
	}
	return -1;
}

const char *
digest_name(int alg)
{
	const struct digest_info *di = digest_lookup(alg);

	return di == NULL ? NULL : di->name;
}

size_t
digest_bytes(int alg)
{
	const struct digest_info *di = digest_lookup(alg);

	return di == NULL ? 0 : di->bytes;
}

int
digest_memory(int alg, const void *m, size_t len, uint8_t *d, size_t dlen)
{
	const struct digest_info *di = digest_lookup(alg);
	unsigned int outlen = 0;

	if (di == NULL || d == NULL || (m == NULL && len != 0))
		return FERR_ARGUMENT;
	if (dlen < di->bytes)
		return FERR_NO_SPACE;
	if (EVP_Digest(m == NULL ? "" : m, len, d, &outlen, di->md(),
	    NULL) != 1)
		return FERR_LIBCRYPTO;
	if (outlen != di->bytes)
		return FERR_INTERNAL;
	return 0;
}

int
digest_buffer(int alg, const struct buf *b, uint8_t *d, size_t dlen)
{
	if (b == NULL)
		return FERR_ARGUMENT;
	return digest_memory(alg, buf_ptr(b), buf_len(b), d, dlen);
}

int
digest_init(int alg, struct digest_ctx **ctxp)
{
	const struct digest_info *di = digest_lookup(alg);
	struct digest_ctx *ctx;

	if (ctxp == NULL)
		return FERR_ARGUMENT;
	*ctxp = NULL;
	if (di == NULL)
		return FERR_ARGUMENT;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return FERR_ALLOC;
	ctx->alg = alg;
	if ((ctx->mdctx = EVP_MD_CTX_new()) == NULL) {
		free(ctx);
		return FERR_ALLOC;
	}
	if (EVP_DigestInit_ex(ctx->mdctx, di->md(), NULL) != 1) {
		digest_free(ctx);
		return FERR_LIBCRYPTO;
	}
	*ctxp = ctx;
	return 0;
}

int
digest_update(struct digest_ctx *ctx, const void *m, size_t len)
{
	if (ctx == NULL || (m == NULL && len != 0))
		return FERR_ARGUMENT;
	if (len == 0)
		return 0;
	if (EVP_DigestUpdate(ctx->mdctx, m, len) != 1)
		return FERR_LIBCRYPTO;
	return 0;
}

int
digest_update_buffer(struct digest_ctx *ctx, const struct buf *b)
{
	if (b == NULL)
		return FERR_ARGUMENT;
	return digest_update(ctx, buf_ptr(b), buf_len(b));
}

int
digest_final(struct digest_ctx *ctx, uint8_t *d, size_t dlen)
{
	const struct digest_info *di;
	unsigned int outlen = 0;

	if (ctx == NULL || d == NULL ||
	    (di = digest_lookup(ctx->alg)) == NULL)
		return FERR_ARGUMENT;
	if (dlen < di->bytes)
		return FERR_NO_SPACE;
	if (EVP_DigestFinal_ex(ctx->mdctx, d, &outlen) != 1)
		return FERR_LIBCRYPTO;
	if (outlen != di->bytes)
		return FERR_INTERNAL;
	return 0;
}

void
digest_free(struct digest_ctx *ctx)
{
	if (ctx == NULL)
		return;
	/* EVP_MD_CTX_free cleanses the digest state before freeing it. */
	EVP_MD_CTX_free(ctx->mdctx);
	explicit_bzero(ctx, sizeof(*ctx));
	free(ctx);
}

int
digest_ctx_alg(const struct digest_ctx *ctx)
{
	return ctx == NULL ? -1 : ctx->alg;
}
