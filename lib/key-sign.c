/*
 * SSH signatures: the blob "string algorithm, string signature" of
 * RFC 4253 section 6.6 for ssh-ed25519 (RFC 8709 section 6), ECDSA
 * (RFC 5656 section 3.1.2: the signature is a string holding mpint r and
 * mpint s) and RSA PKCS#1 v1.5 with SHA-2 (RFC 8332) or SHA-1 (legacy).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "key-internal.h"

/* Largest raw signature: RSA at KEY_RSA_MAX_BITS. */
#define KEY_SIG_MAX		(KEY_RSA_MAX_BITS / 8)

/* Signature algorithms, each bound to one key type. */
static const struct key_sigalg {
	const char *name;
	enum key_type type;	/* the only key type it belongs to */
	const char *digest;	/* NULL for Ed25519 */
	int legacy;		/* needs KEY_SIG_ALLOW_SHA1 */
} key_sigalgs[] = {
	{ "ssh-ed25519", KEY_ED25519, NULL, 0 },
	{ "ecdsa-sha2-nistp256", KEY_ECDSA_P256, "SHA256", 0 },
	{ "ecdsa-sha2-nistp384", KEY_ECDSA_P384, "SHA384", 0 },
	{ "ecdsa-sha2-nistp521", KEY_ECDSA_P521, "SHA512", 0 },
	{ "rsa-sha2-512", KEY_RSA, "SHA512", 0 },
	{ "rsa-sha2-256", KEY_RSA, "SHA256", 0 },
	{ "ssh-rsa", KEY_RSA, "SHA1", 1 },
};

static const struct key_sigalg *
key_sigalg_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(key_sigalgs) / sizeof(key_sigalgs[0]); i++)
		if (strcmp(key_sigalgs[i].name, name) == 0)
			return &key_sigalgs[i];
	return NULL;
}

const char *
key_sig_alg_default(const struct key *key)
{
	if (key == NULL)
		return NULL;
	return key->impl->type == KEY_RSA ? "rsa-sha2-512" : key->impl->name;
}

/* The algorithm row for a key, or the error that forbids it. */
static int
key_sigalg_check(const struct key *key, const char *alg, unsigned int flags,
    const struct key_sigalg **sap)
{
	const struct key_sigalg *sa;

	*sap = NULL;
	if ((sa = key_sigalg_by_name(alg)) == NULL)
		return FERR_KEY_TYPE_UNKNOWN;
	if (sa->type != key->impl->type)
		return FERR_KEY_TYPE_MISMATCH;
	if (sa->legacy && (flags & KEY_SIG_ALLOW_SHA1) == 0)
		return FERR_NOT_SUPPORTED;
	*sap = sa;
	return 0;
}

int
key_sig_alg_allowed(const struct key *key, const char *alg,
    unsigned int flags)
{
	const struct key_sigalg *sa;

	if (key == NULL)
		return 0;
	return key_sigalg_check(key, alg, flags, &sa) == 0;
}

static int
key_md_init(EVP_MD_CTX **ctxp, EVP_MD **mdp, const struct key_sigalg *sa)
{
	*mdp = NULL;
	if ((*ctxp = EVP_MD_CTX_new()) == NULL)
		return FERR_ALLOC;
	if (sa->digest != NULL &&
	    (*mdp = EVP_MD_fetch(NULL, sa->digest, NULL)) == NULL)
		return FERR_LIBCRYPTO;
	return 0;
}

/* Append the ECDSA signature body: string(mpint r, mpint s). */
static int
key_ecdsa_put(struct buf *sig, const uint8_t *der, size_t derlen)
{
	const unsigned char *p = der;
	const BIGNUM *br, *bs;
	ECDSA_SIG *esig;
	size_t off;
	int r;

	if ((esig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
		return FERR_LIBCRYPTO;
	ECDSA_SIG_get0(esig, &br, &bs);
	if ((r = buf_begin_string(sig, &off)) == 0 &&
	    (r = buf_put_mpint(sig, br)) == 0 &&
	    (r = buf_put_mpint(sig, bs)) == 0)
		r = buf_end_string(sig, off);
	ECDSA_SIG_free(esig);
	return r;
}

int
key_sign(const struct key *key, const char *alg, const uint8_t *data,
    size_t len, unsigned int flags, struct buf *sig)
{
	const struct key_sigalg *sa;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD *md = NULL;
	uint8_t *raw = NULL;
	size_t rawlen = 0, start;
	int r;

	if (key == NULL || sig == NULL || (data == NULL && len != 0))
		return FERR_ARGUMENT;
	if (!key->priv)
		return FERR_KEY_TYPE_MISMATCH;
	if (alg == NULL)
		alg = key_sig_alg_default(key);
	if ((r = key_sigalg_check(key, alg, flags, &sa)) != 0)
		return r;
	start = buf_len(sig);
	if ((r = key_md_init(&ctx, &md, sa)) != 0)
		goto out;
	if (EVP_DigestSignInit_ex(ctx, &pctx, md != NULL ?
	    EVP_MD_get0_name(md) : NULL, NULL, NULL, key->pkey, NULL) != 1 ||
	    (key->impl->type == KEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) ||
	    EVP_DigestSign(ctx, NULL, &rawlen, data, len) != 1) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	if ((raw = malloc(rawlen)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if (EVP_DigestSign(ctx, raw, &rawlen, data, len) != 1) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	if ((r = buf_put_cstring(sig, sa->name)) != 0)
		goto out;
	if (key->impl->pkey_id == EVP_PKEY_EC)
		r = key_ecdsa_put(sig, raw, rawlen);
	else
		r = buf_put_string(sig, raw, rawlen);
 out:
	if (r != 0 && buf_len(sig) > start &&
	    buf_consume_end(sig, buf_len(sig) - start) != 0)
		r = FERR_INTERNAL;
	free(raw);
	EVP_MD_free(md);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

/*
 * The DER ECDSA-Sig-Value libcrypto verifies, from the SSH body
 * (mpint r, mpint s, nothing after).  r and s must be positive.
 */
static int
key_ecdsa_der(const uint8_t *body, size_t bodylen, uint8_t **derp,
    size_t *derlenp)
{
	struct buf *b = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	ECDSA_SIG *esig = NULL;
	unsigned char *der = NULL;
	int r, n;

	*derp = NULL;
	if ((b = buf_from(body, bodylen)) == NULL)
		return FERR_ALLOC;
	if ((r = buf_get_mpint(b, &br)) != 0 ||
	    (r = buf_get_mpint(b, &bs)) != 0 ||
	    (r = buf_expect_end(b)) != 0)
		goto out;
	if (BN_is_negative(br) || BN_is_zero(br) || BN_is_negative(bs) ||
	    BN_is_zero(bs)) {
		r = FERR_SIGNATURE_INVALID;
		goto out;
	}
	if ((esig = ECDSA_SIG_new()) == NULL ||
	    ECDSA_SIG_set0(esig, br, bs) != 1) {
		r = FERR_ALLOC;
		goto out;
	}
	br = bs = NULL;		/* owned by esig */
	if ((n = i2d_ECDSA_SIG(esig, &der)) <= 0) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	*derp = der;
	*derlenp = (size_t)n;
	r = 0;
 out:
	ECDSA_SIG_free(esig);
	BN_free(br);
	BN_free(bs);
	buf_free(b);
	return r;
}

int
key_verify(const struct key *key, const uint8_t *sigblob, size_t siglen,
    const uint8_t *data, size_t len, const char *want_alg,
    unsigned int flags)
{
	const struct key_sigalg *sa;
	struct buf *b = NULL;
	char *alg = NULL;
	const uint8_t *body;
	uint8_t *der = NULL, *padded = NULL;
	const uint8_t *vsig;
	size_t bodylen, vlen, modlen;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD *md = NULL;
	int r;

	if (key == NULL || sigblob == NULL || (data == NULL && len != 0))
		return FERR_ARGUMENT;
	if ((b = buf_from(sigblob, siglen)) == NULL)
		return FERR_ALLOC;
	if ((r = buf_get_cstring(b, &alg, NULL)) != 0 ||
	    (r = buf_get_string_direct(b, &body, &bodylen)) != 0 ||
	    (r = buf_expect_end(b)) != 0)
		goto out;
	if ((r = key_sigalg_check(key, alg, flags, &sa)) != 0)
		goto out;
	if (want_alg != NULL && strcmp(want_alg, alg) != 0) {
		r = FERR_KEY_TYPE_MISMATCH;
		goto out;
	}
	vsig = body;
	vlen = bodylen;
	switch (key->impl->pkey_id) {
	case EVP_PKEY_ED25519:
		if (bodylen != KEY_ED25519_SIG_LEN) {
			r = FERR_SIGNATURE_INVALID;
			goto out;
		}
		break;
	case EVP_PKEY_EC:
		if ((r = key_ecdsa_der(body, bodylen, &der, &vlen)) != 0)
			goto out;
		vsig = der;
		break;
	case EVP_PKEY_RSA:
		/*
		 * RFC 8332 wants exactly the modulus length; like OpenSSH,
		 * accept a shorter value (leading zeros dropped by some
		 * signers) by restoring the zeros.
		 */
		modlen = (size_t)EVP_PKEY_get_size(key->pkey);
		if (bodylen == 0 || bodylen > modlen || modlen > KEY_SIG_MAX) {
			r = FERR_SIGNATURE_INVALID;
			goto out;
		}
		if (bodylen < modlen) {
			if ((padded = calloc(1, modlen)) == NULL) {
				r = FERR_ALLOC;
				goto out;
			}
			memcpy(padded + modlen - bodylen, body, bodylen);
			vsig = padded;
			vlen = modlen;
		}
		break;
	default:
		r = FERR_INTERNAL;
		goto out;
	}
	if ((r = key_md_init(&ctx, &md, sa)) != 0)
		goto out;
	if (EVP_DigestVerifyInit_ex(ctx, &pctx, md != NULL ?
	    EVP_MD_get0_name(md) : NULL, NULL, NULL, key->pkey, NULL) != 1 ||
	    (key->impl->type == KEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	r = EVP_DigestVerify(ctx, vsig, vlen, data, len) == 1 ? 0 :
	    FERR_SIGNATURE_INVALID;
 out:
	OPENSSL_free(der);
	free(padded);
	free(alg);
	buf_free(b);
	EVP_MD_free(md);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return r;
}
