/*
 * ecdh-sha2-nistp256/384/521 (RFC 5656) over libcrypto EVP_PKEY "EC".
 *
 * Public points travel as uncompressed SEC1 octets.  A peer point must
 * have exactly the uncompressed length and form, decode to a point on
 * the curve (libcrypto checks this while importing) and pass the full
 * public key check (not the point at infinity, correct order) before it
 * is used.  K is the x coordinate of the shared point, as an mpint.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "kexalg.h"

/* Largest uncompressed point: 1 + 2 * 66 bytes for P-521. */
#define KEX_ECDH_POINT_MAX	133

struct kex_ecdh_curve {
	int nid;
	const char *group;	/* OSSL_PKEY_PARAM_GROUP_NAME */
	size_t field_bytes;
};

static const struct kex_ecdh_curve kex_ecdh_curves[] = {
	{ NID_X9_62_prime256v1, "P-256", 32 },
	{ NID_secp384r1, "P-384", 48 },
	{ NID_secp521r1, "P-521", 66 },
};

struct kex_ecdh {
	const struct kex_ecdh_curve *curve;
	EVP_PKEY *pkey;
	uint8_t pub[KEX_ECDH_POINT_MAX];
	size_t publen;
};

static const struct kex_ecdh_curve *
kex_ecdh_curve(int nid)
{
	size_t i;

	for (i = 0; i < sizeof(kex_ecdh_curves) / sizeof(kex_ecdh_curves[0]);
	    i++) {
		if (kex_ecdh_curves[i].nid == nid)
			return &kex_ecdh_curves[i];
	}
	return NULL;
}

size_t
kex_ecdh_field_bytes(int nid)
{
	const struct kex_ecdh_curve *c = kex_ecdh_curve(nid);

	return c == NULL ? 0 : c->field_bytes;
}

static size_t
kex_ecdh_point_len(const struct kex_ecdh_curve *c)
{
	return 1 + 2 * c->field_bytes;
}

/* Take ownership of pkey and record its uncompressed public point. */
static int
kex_ecdh_wrap(const struct kex_ecdh_curve *c, EVP_PKEY *pkey,
    struct kex_ecdh **kp)
{
	struct kex_ecdh *k;
	int r = FERR_LIBCRYPTO;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		return FERR_ALLOC;
	}
	k->curve = c;
	k->pkey = pkey;
	if (EVP_PKEY_set_utf8_string_param(pkey,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed") != 1 ||
	    EVP_PKEY_get_octet_string_param(pkey,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, k->pub, sizeof(k->pub),
	    &k->publen) != 1)
		goto fail;
	if (k->publen != kex_ecdh_point_len(c) || k->pub[0] != 0x04) {
		r = FERR_INTERNAL;
		goto fail;
	}
	*kp = k;
	return 0;
 fail:
	kex_ecdh_free(k);
	return r;
}

int
kex_ecdh_keygen(int nid, struct kex_ecdh **kp)
{
	const struct kex_ecdh_curve *c;
	EVP_PKEY *pkey;

	if (kp == NULL)
		return FERR_ARGUMENT;
	*kp = NULL;
	if ((c = kex_ecdh_curve(nid)) == NULL)
		return FERR_NOT_SUPPORTED;
	if ((pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", c->group)) == NULL)
		return FERR_LIBCRYPTO;
	return kex_ecdh_wrap(c, pkey, kp);
}

/* Import key material described by params (selection as for fromdata). */
static int
kex_ecdh_fromdata(OSSL_PARAM *params, int selection, EVP_PKEY **pkeyp)
{
	EVP_PKEY_CTX *ctx;
	int r = FERR_LIBCRYPTO;

	*pkeyp = NULL;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL)
		return FERR_LIBCRYPTO;
	if (EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, pkeyp, selection, params) == 1)
		r = 0;
	EVP_PKEY_CTX_free(ctx);
	return r;
}

int
kex_ecdh_from_private(int nid, const uint8_t *priv, size_t len,
    struct kex_ecdh **kp)
{
	const struct kex_ecdh_curve *c;
	EC_GROUP *group = NULL;
	EC_POINT *point = NULL;
	BIGNUM *bn = NULL;
	BN_CTX *bnctx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;
	uint8_t pub[KEX_ECDH_POINT_MAX];
	size_t publen;
	int r = FERR_LIBCRYPTO;

	if (kp == NULL || priv == NULL)
		return FERR_ARGUMENT;
	*kp = NULL;
	if ((c = kex_ecdh_curve(nid)) == NULL)
		return FERR_NOT_SUPPORTED;
	if (len == 0 || len > c->field_bytes)
		return FERR_KEY_LENGTH;
	if ((bn = BN_secure_new()) == NULL ||
	    BN_bin2bn(priv, (int)len, bn) == NULL ||
	    (bnctx = BN_CTX_new()) == NULL ||
	    (group = EC_GROUP_new_by_curve_name(nid)) == NULL ||
	    (point = EC_POINT_new(group)) == NULL)
		goto out;
	if (BN_is_zero(bn) || BN_cmp(bn, EC_GROUP_get0_order(group)) >= 0) {
		r = FERR_KEY_INVALID;
		goto out;
	}
	if (EC_POINT_mul(group, point, bn, NULL, NULL, bnctx) != 1 ||
	    (publen = EC_POINT_point2oct(group, point,
	    POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), bnctx)) == 0)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    c->group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pub, publen) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((r = kex_ecdh_fromdata(params, EVP_PKEY_KEYPAIR, &pkey)) != 0)
		goto out;
	r = kex_ecdh_wrap(c, pkey, kp);
	pkey = NULL;
 out:
	OSSL_PARAM_free(params);	/* holds a copy of the scalar */
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_free(pkey);
	EC_POINT_free(point);
	EC_GROUP_free(group);
	BN_CTX_free(bnctx);
	BN_clear_free(bn);
	return r;
}

int
kex_ecdh_public(const struct kex_ecdh *k, struct buf *out)
{
	if (k == NULL || out == NULL)
		return FERR_ARGUMENT;
	return buf_put(out, k->pub, k->publen);
}

/* Import and fully validate the peer's point on the key's curve. */
static int
kex_ecdh_peer(const struct kex_ecdh *k, const uint8_t *peer, size_t len,
    EVP_PKEY **peerp)
{
	OSSL_PARAM params[3];
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int r;

	*peerp = NULL;
	if (len != kex_ecdh_point_len(k->curve)) {
		log_debug("ecdh: peer point is %zu bytes, not %zu", len,
		    kex_ecdh_point_len(k->curve));
		return FERR_KEY_LENGTH;
	}
	/* Only the uncompressed form (RFC 5656 section 4 via SEC1 2.3.3). */
	if (peer[0] != 0x04) {
		log_debug("ecdh: peer point is not uncompressed");
		return FERR_KEY_INVALID;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)k->curve->group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, (void *)peer, len);
	params[2] = OSSL_PARAM_construct_end();
	/* Import fails for a point that is not on the curve. */
	if (kex_ecdh_fromdata(params, EVP_PKEY_PUBLIC_KEY, &pkey) != 0) {
		log_debug("ecdh: peer point is not on the curve");
		r = FERR_KEY_INVALID;
		goto out;
	}
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	if (EVP_PKEY_public_check(ctx) != 1) {
		log_debug("ecdh: peer point fails the public key check");
		r = FERR_KEY_INVALID;
		goto out;
	}
	*peerp = pkey;
	pkey = NULL;
	r = 0;
 out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return r;
}

int
kex_ecdh_shared(const struct kex_ecdh *k, const uint8_t *peer, size_t len,
    struct buf *K)
{
	EVP_PKEY *peerkey = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t shared[KEX_ECDH_POINT_MAX];
	size_t slen = sizeof(shared);
	int r;

	if (k == NULL || peer == NULL || K == NULL)
		return FERR_ARGUMENT;
	buf_set_secret(K);
	if ((r = kex_ecdh_peer(k, peer, len, &peerkey)) != 0)
		goto out;
	r = FERR_LIBCRYPTO;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, peerkey) != 1 ||
	    EVP_PKEY_derive(ctx, shared, &slen) != 1)
		goto out;
	if (slen != k->curve->field_bytes) {
		r = FERR_INTERNAL;
		goto out;
	}
	r = buf_put_mpint_bytes(K, shared, slen);
 out:
	explicit_bzero(shared, sizeof(shared));
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peerkey);
	return r;
}

void
kex_ecdh_free(struct kex_ecdh *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	explicit_bzero(k, sizeof(*k));
	free(k);
}
