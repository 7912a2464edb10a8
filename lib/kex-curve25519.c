/*
 * curve25519-sha256 (RFC 8731) over libcrypto's X25519 EVP_PKEY.
 *
 * The private scalar stays inside the EVP_PKEY (libcrypto wipes it when
 * the key is freed); the shared value is checked for the all-zero result
 * that low-order peer points produce (RFC 7748 section 6.1, RFC 8731
 * section 3) and is encoded as an mpint for the exchange hash and KDF.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "kexalg.h"

struct kex_curve25519 {
	EVP_PKEY *pkey;
	uint8_t pub[KEX_CURVE25519_SIZE];
};

static int
kex_curve25519_wrap(EVP_PKEY *pkey, struct kex_curve25519 **kp)
{
	struct kex_curve25519 *k;
	size_t len = KEX_CURVE25519_SIZE;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		return FERR_ALLOC;
	}
	k->pkey = pkey;
	if (EVP_PKEY_get_raw_public_key(pkey, k->pub, &len) != 1 ||
	    len != KEX_CURVE25519_SIZE) {
		kex_curve25519_free(k);
		return FERR_LIBCRYPTO;
	}
	*kp = k;
	return 0;
}

int
kex_curve25519_keygen(struct kex_curve25519 **kp)
{
	EVP_PKEY *pkey;

	if (kp == NULL)
		return FERR_ARGUMENT;
	*kp = NULL;
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519")) == NULL)
		return FERR_LIBCRYPTO;
	return kex_curve25519_wrap(pkey, kp);
}

int
kex_curve25519_from_private(const uint8_t *priv, size_t len,
    struct kex_curve25519 **kp)
{
	EVP_PKEY *pkey;

	if (kp == NULL || priv == NULL)
		return FERR_ARGUMENT;
	*kp = NULL;
	if (len != KEX_CURVE25519_SIZE)
		return FERR_KEY_LENGTH;
	if ((pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL,
	    priv, len)) == NULL)
		return FERR_LIBCRYPTO;
	return kex_curve25519_wrap(pkey, kp);
}

int
kex_curve25519_public(const struct kex_curve25519 *k, struct buf *out)
{
	if (k == NULL || out == NULL)
		return FERR_ARGUMENT;
	return buf_put(out, k->pub, sizeof(k->pub));
}

/* Constant-time test for an all-zero value. */
static int
kex_curve25519_is_zero(const uint8_t *v, size_t len)
{
	static const uint8_t zero[KEX_CURVE25519_SIZE];

	return CRYPTO_memcmp(v, zero, len) == 0;
}

int
kex_curve25519_raw(const struct kex_curve25519 *k, const uint8_t *peer,
    size_t len, uint8_t out[KEX_CURVE25519_SIZE])
{
	EVP_PKEY *peerkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t outlen = KEX_CURVE25519_SIZE;
	int r = FERR_LIBCRYPTO;

	if (k == NULL || peer == NULL || out == NULL)
		return FERR_ARGUMENT;
	explicit_bzero(out, KEX_CURVE25519_SIZE);
	if (len != KEX_CURVE25519_SIZE) {
		log_debug("curve25519: peer public value is %zu bytes, not %d",
		    len, KEX_CURVE25519_SIZE);
		return FERR_KEY_LENGTH;
	}
	if ((peerkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL,
	    peer, len)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new(k->pkey, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, peerkey) != 1)
		goto out;
	/*
	 * libcrypto itself refuses an all-zero result; a derive failure on
	 * a well-formed key pair therefore means a low-order peer point.
	 */
	if (EVP_PKEY_derive(ctx, out, &outlen) != 1) {
		r = FERR_KEY_INVALID;
		goto zero;
	}
	if (outlen != KEX_CURVE25519_SIZE) {
		r = FERR_INTERNAL;
		goto out;
	}
	if (kex_curve25519_is_zero(out, outlen)) {
		r = FERR_KEY_INVALID;
		goto zero;
	}
	r = 0;
	goto out;
 zero:
	log_debug("curve25519: peer public value is a low-order point "
	    "(all-zero shared secret)");
 out:
	if (r != 0)
		explicit_bzero(out, KEX_CURVE25519_SIZE);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peerkey);
	return r;
}

int
kex_curve25519_shared(const struct kex_curve25519 *k, const uint8_t *peer,
    size_t len, struct buf *K)
{
	uint8_t shared[KEX_CURVE25519_SIZE];
	int r;

	if (K == NULL)
		return FERR_ARGUMENT;
	buf_set_secret(K);
	if ((r = kex_curve25519_raw(k, peer, len, shared)) != 0)
		goto out;
	/* RFC 8731 3.1: the 32 bytes are read as a network-order number. */
	r = buf_put_mpint_bytes(K, shared, sizeof(shared));
 out:
	explicit_bzero(shared, sizeof(shared));
	return r;
}

void
kex_curve25519_free(struct kex_curve25519 *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	explicit_bzero(k, sizeof(*k));
	free(k);
}
