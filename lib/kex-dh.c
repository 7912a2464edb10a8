/*
 * Diffie-Hellman key exchange over a prime group (RFC 4253 section 8,
 * RFC 8268) and the size negotiation of group exchange (RFC 4419).
 *
 * This is modular arithmetic on libcrypto BIGNUMs rather than EVP_PKEY
 * "DH": SSH fixes its own exponent size, its own public value checks and
 * an mpint shared secret, none of which the EVP interface expresses more
 * simply.  The private exponent lives in secure BIGNUM memory, is used
 * only through constant-time exponentiation and is wiped on free.
 */
#include "config.h"

#include <stdlib.h>

#include <openssl/bn.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "kexalg.h"

/* Fresh exponents tried before giving up on a weak public value. */
#define KEX_DH_KEYGEN_TRIES	10
/* OpenSSH's floor on the requested strength, in bits. */
#define KEX_DH_NEED_MIN		256
/* Public values with fewer bits set are refused as trivially weak. */
#define KEX_DH_MIN_BITS_SET	4

struct kex_dh {
	struct kex_dh_group *grp;
	BIGNUM *priv;
	BIGNUM *pub;
};

/* Copy a group (via the validating constructor). */
static int
kex_dh_group_copy(const struct kex_dh_group *grp, struct kex_dh_group **gp)
{
	return kex_dh_group_new(kex_dh_group_p(grp), kex_dh_group_g(grp), gp);
}

int
kex_dh_check_public(const struct kex_dh_group *grp, const BIGNUM *pub)
{
	const BIGNUM *p;
	BIGNUM *pm1 = NULL;
	int i, n, bits_set = 0, r = FERR_LIBCRYPTO;

	if (grp == NULL || pub == NULL || (p = kex_dh_group_p(grp)) == NULL)
		return FERR_ARGUMENT;
	if (BN_is_negative(pub) || BN_cmp(pub, BN_value_one()) <= 0) {
		log_debug("dh: peer public value <= 1");
		return FERR_KEY_INVALID;
	}
	if ((pm1 = BN_dup(p)) == NULL || BN_sub_word(pm1, 1) != 1)
		goto out;
	if (BN_cmp(pub, pm1) >= 0) {
		log_debug("dh: peer public value >= p-1");
		r = FERR_KEY_INVALID;
		goto out;
	}
	/* With g = 2, a value with one bit set has a trivial logarithm. */
	n = BN_num_bits(pub);
	for (i = 0; i < n && bits_set < KEX_DH_MIN_BITS_SET; i++) {
		if (BN_is_bit_set(pub, i))
			bits_set++;
	}
	if (bits_set < KEX_DH_MIN_BITS_SET) {
		log_debug("dh: peer public value has only %d bits set",
		    bits_set);
		r = FERR_KEY_INVALID;
		goto out;
	}
	r = 0;
 out:
	BN_free(pm1);
	return r;
}

/* out = base^exp mod p, constant time in exp. */
static int
kex_dh_modexp(BIGNUM *out, const BIGNUM *base, BIGNUM *exp,
    const BIGNUM *p)
{
	BN_CTX *bnctx;
	int r = FERR_LIBCRYPTO;

	if ((bnctx = BN_CTX_secure_new()) == NULL)
		return FERR_ALLOC;
	BN_set_flags(exp, BN_FLG_CONSTTIME);
	if (BN_mod_exp_mont_consttime(out, base, exp, p, bnctx, NULL) == 1)
		r = 0;
	BN_CTX_free(bnctx);
	return r;
}

int
kex_dh_keygen(const struct kex_dh_group *grp, unsigned int need_bits,
    struct kex_dh **kp)
{
	struct kex_dh *k = NULL;
	unsigned int pbits, xbits, need = need_bits;
	int tries, r;

	if (kp == NULL || grp == NULL)
		return FERR_ARGUMENT;
	*kp = NULL;
	pbits = kex_dh_group_bits(grp);
	if (pbits == 0)
		return FERR_ARGUMENT;
	if (need > pbits / 2)
		return FERR_KEY_LENGTH;
	if (need < KEX_DH_NEED_MIN)
		need = KEX_DH_NEED_MIN;
	/* Square-root attacks on the exponent: twice the bits needed. */
	xbits = 2 * need < pbits - 1 ? 2 * need : pbits - 1;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return FERR_ALLOC;
	if ((r = kex_dh_group_copy(grp, &k->grp)) != 0)
		goto out;
	r = FERR_LIBCRYPTO;
	if ((k->priv = BN_secure_new()) == NULL || (k->pub = BN_new()) == NULL)
		goto out;
	for (tries = 0; tries < KEX_DH_KEYGEN_TRIES; tries++) {
		if (BN_priv_rand(k->priv, (int)xbits, BN_RAND_TOP_ONE,
		    BN_RAND_BOTTOM_ANY) != 1) {
			r = FERR_LIBCRYPTO;
			goto out;
		}
		if ((r = kex_dh_modexp(k->pub, kex_dh_group_g(k->grp),
		    k->priv, kex_dh_group_p(k->grp))) != 0)
			goto out;
		if ((r = kex_dh_check_public(k->grp, k->pub)) == 0)
			break;
	}
	if (r != 0)
		goto out;
	*kp = k;
	k = NULL;
 out:
	kex_dh_free(k);
	return r;
}

const BIGNUM *
kex_dh_public(const struct kex_dh *k)
{
	return k == NULL ? NULL : k->pub;
}

unsigned int
kex_dh_private_bits(const struct kex_dh *k)
{
	return k == NULL || k->priv == NULL ? 0 :
	    (unsigned int)BN_num_bits(k->priv);
}

int
kex_dh_shared(const struct kex_dh *k, const BIGNUM *peer, struct buf *K)
{
	BIGNUM *shared = NULL;
	int r;

	if (k == NULL || peer == NULL || K == NULL)
		return FERR_ARGUMENT;
	buf_set_secret(K);
	if ((r = kex_dh_check_public(k->grp, peer)) != 0)
		return r;
	if ((shared = BN_secure_new()) == NULL)
		return FERR_ALLOC;
	if ((r = kex_dh_modexp(shared, peer, k->priv,
	    kex_dh_group_p(k->grp))) != 0)
		goto out;
	/* A peer value in a tiny subgroup could force K = 1. */
	if (BN_is_zero(shared) || BN_is_one(shared)) {
		log_debug("dh: degenerate shared secret");
		r = FERR_KEY_INVALID;
		goto out;
	}
	r = buf_put_mpint(K, shared);
 out:
	BN_clear_free(shared);
	return r;
}

void
kex_dh_free(struct kex_dh *k)
{
	if (k == NULL)
		return;
	kex_dh_group_free(k->grp);
	BN_clear_free(k->priv);
	BN_free(k->pub);
	free(k);
}

/* ---- group exchange sizes ---- */

struct kex_dh_estimate {
	unsigned int strength;	/* symmetric bits, at most */
	uint32_t modulus;	/* modulus bits */
};

/* NIST SP 800-57 part 1 as OpenSSH applies it, capped by RFC 4419. */
static const struct kex_dh_estimate kex_dh_estimates[] = {
	{ 112, 2048 },
	{ 128, 3072 },
	{ 192, 7680 },
};

uint32_t
kex_dh_gex_estimate(unsigned int bits)
{
	size_t i;

	for (i = 0; i < sizeof(kex_dh_estimates) /
	    sizeof(kex_dh_estimates[0]); i++) {
		if (bits <= kex_dh_estimates[i].strength)
			return kex_dh_estimates[i].modulus;
	}
	return KEX_GEX_MAX_BITS;
}

void
kex_dh_gex_client_request(unsigned int need_bits,
    struct kex_gex_request *req)
{
	uint32_t nbits = kex_dh_gex_estimate(need_bits);

	req->min = KEX_GEX_MIN_BITS;
	req->nbits = nbits < KEX_GEX_MAX_BITS ? nbits : KEX_GEX_MAX_BITS;
	req->max = KEX_GEX_MAX_BITS;
}

int
kex_dh_gex_server_clamp(const struct kex_gex_request *req,
    struct kex_gex_request *bounds)
{
	if (req == NULL || bounds == NULL)
		return FERR_ARGUMENT;
	if (req->max < req->min || req->nbits < req->min ||
	    req->max < req->nbits) {
		log_debug("dh-gex: request out of order: %u/%u/%u",
		    req->min, req->nbits, req->max);
		return FERR_DH_GEX_RANGE;
	}
	bounds->min = req->min > KEX_GEX_MIN_BITS ? req->min : KEX_GEX_MIN_BITS;
	bounds->max = req->max < KEX_GEX_MAX_BITS ? req->max : KEX_GEX_MAX_BITS;
	bounds->nbits = req->nbits;
	if (bounds->nbits < KEX_GEX_MIN_BITS)
		bounds->nbits = KEX_GEX_MIN_BITS;
	if (bounds->nbits > KEX_GEX_MAX_BITS)
		bounds->nbits = KEX_GEX_MAX_BITS;
	if (bounds->min > bounds->max) {
		log_debug("dh-gex: request %u/%u/%u outside %u..%u",
		    req->min, req->nbits, req->max, KEX_GEX_MIN_BITS,
		    KEX_GEX_MAX_BITS);
		return FERR_DH_GEX_RANGE;
	}
	return 0;
}

int
kex_dh_gex_check_group(const struct kex_gex_request *req,
    const struct kex_dh_group *grp)
{
	unsigned int bits;

	if (req == NULL || grp == NULL)
		return FERR_ARGUMENT;
	bits = kex_dh_group_bits(grp);
	if (bits < req->min || bits > req->max) {
		log_debug("dh-gex: server group of %u bits outside %u..%u",
		    bits, req->min, req->max);
		return FERR_DH_GEX_RANGE;
	}
	return 0;
}
