/*
 * Keys: the type table, the key object over EVP_PKEY, generation, public
 * key blobs and lines, and OpenSSH's private key serialization.
 *
 * Every key is built through one of three constructors (key_ed25519_build,
 * key_ec_build, key_rsa_build) which validate the components; blobs,
 * files, generation and imports from libcrypto all end there, so a key
 * object always satisfies the same invariants.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "key-internal.h"
#include "misc.h"

/* Longest public key line accepted (a 16384-bit RSA key needs ~2.8 KiB). */
#define KEY_LINE_MAX		(64 * 1024)

static const struct key_impl key_impls[] = {
	{ KEY_ED25519, "ssh-ed25519", "ED25519", NULL, NULL, NULL, 0, 256,
	    NULL, EVP_PKEY_ED25519 },
	{ KEY_ECDSA_P256, "ecdsa-sha2-nistp256", "ECDSA", "nistp256",
	    "P-256", "prime256v1", 32, 256, "SHA256", EVP_PKEY_EC },
	{ KEY_ECDSA_P384, "ecdsa-sha2-nistp384", "ECDSA", "nistp384",
	    "P-384", "secp384r1", 48, 384, "SHA384", EVP_PKEY_EC },
	{ KEY_ECDSA_P521, "ecdsa-sha2-nistp521", "ECDSA", "nistp521",
	    "P-521", "secp521r1", 66, 521, "SHA512", EVP_PKEY_EC },
	{ KEY_RSA, "ssh-rsa", "RSA", NULL, NULL, NULL, 0, 0, NULL,
	    EVP_PKEY_RSA },
};
#define KEY_NIMPLS	(sizeof(key_impls) / sizeof(key_impls[0]))

const struct key_impl *
key_impl_by_type(enum key_type type)
{
	size_t i;

	for (i = 0; i < KEY_NIMPLS; i++)
		if (key_impls[i].type == type)
			return &key_impls[i];
	return NULL;
}

static const struct key_impl *
key_impl_by_name_len(const uint8_t *name, size_t len)
{
	size_t i;

	for (i = 0; i < KEY_NIMPLS; i++)
		if (strlen(key_impls[i].name) == len &&
		    memcmp(key_impls[i].name, name, len) == 0)
			return &key_impls[i];
	return NULL;
}

enum key_type
key_type_from_name(const char *name)
{
	const struct key_impl *impl;

	if (name == NULL ||
	    (impl = key_impl_by_name_len((const uint8_t *)name,
	    strlen(name))) == NULL)
		return KEY_UNSPEC;
	return impl->type;
}

/* Key types OpenSSH knows that Ferry does not support. */
static const char *const key_foreign_types[] = {
	"ssh-dss",
	"sk-ecdsa-sha2-nistp256@openssh.com",
	"sk-ssh-ed25519@openssh.com",
	"ssh-rsa-cert-v01@openssh.com",
	"ssh-dss-cert-v01@openssh.com",
	"ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"ecdsa-sha2-nistp384-cert-v01@openssh.com",
	"ecdsa-sha2-nistp521-cert-v01@openssh.com",
	"ssh-ed25519-cert-v01@openssh.com",
	"sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"sk-ssh-ed25519-cert-v01@openssh.com",
};

int
key_type_name_known(const char *name)
{
	size_t i;

	if (name == NULL)
		return 0;
	if (key_type_from_name(name) != KEY_UNSPEC)
		return 1;
	for (i = 0; i < sizeof(key_foreign_types) /
	    sizeof(key_foreign_types[0]); i++)
		if (strcmp(name, key_foreign_types[i]) == 0)
			return 1;
	return 0;
}

const char *
key_type_name(enum key_type type)
{
	const struct key_impl *impl = key_impl_by_type(type);

	return impl != NULL ? impl->name : "unknown";
}

const char *
key_type_short(enum key_type type)
{
	const struct key_impl *impl = key_impl_by_type(type);

	return impl != NULL ? impl->shortname : "unknown";
}

/* Wrap pkey (ownership passes to the key) in a new key object. */
static int
key_wrap(const struct key_impl *impl, EVP_PKEY *pkey, int priv,
    struct key **keyp)
{
	struct key *k;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		return FERR_ALLOC;
	}
	k->impl = impl;
	k->pkey = pkey;
	k->priv = priv;
	*keyp = k;
	return 0;
}

void
key_free(struct key *key)
{
	if (key == NULL)
		return;
	/* EVP_PKEY_free clears private key material. */
	EVP_PKEY_free(key->pkey);
	if (key->comment != NULL)
		misc_freezero(key->comment, strlen(key->comment));
	explicit_bzero(key, sizeof(*key));
	free(key);
}

enum key_type
key_get_type(const struct key *key)
{
	return key != NULL ? key->impl->type : KEY_UNSPEC;
}

unsigned int
key_bits(const struct key *key)
{
	if (key == NULL)
		return 0;
	if (key->impl->bits != 0)
		return key->impl->bits;
	return (unsigned int)EVP_PKEY_get_bits(key->pkey);
}

int
key_is_private(const struct key *key)
{
	return key != NULL && key->priv;
}

const char *
key_comment(const struct key *key)
{
	return key != NULL && key->comment != NULL ? key->comment : "";
}

int
key_set_comment(struct key *key, const char *c)
{
	char *n = NULL;

	if (key == NULL)
		return FERR_ARGUMENT;
	if (c != NULL) {
		if (strlen(c) > KEY_COMMENT_MAX)
			return FERR_STRING_TOO_LARGE;
		if ((n = strdup(c)) == NULL)
			return FERR_ALLOC;
	}
	free(key->comment);
	key->comment = n;
	return 0;
}

/* Builders.  Each validates its inputs and returns a new EVP_PKEY. */

static int
key_fromdata(const char *alg, OSSL_PARAM_BLD *bld, int selection,
    EVP_PKEY **pkeyp)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int r = FERR_LIBCRYPTO;

	*pkeyp = NULL;
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_fromdata(ctx, pkeyp, selection, params) != 1) {
		r = FERR_KEY_INVALID;
		goto out;
	}
	r = 0;
 out:
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

static int
key_ed25519_build(const uint8_t *pk, size_t pklen, const uint8_t *sk,
    size_t sklen, struct key **keyp)
{
	const struct key_impl *impl = key_impl_by_type(KEY_ED25519);
	uint8_t derived[KEY_ED25519_PK_LEN];
	size_t dlen = sizeof(derived);
	EVP_PKEY *pkey = NULL;
	int r;

	*keyp = NULL;
	if (pklen != KEY_ED25519_PK_LEN)
		return FERR_KEY_INVALID;
	if (sk == NULL) {
		if ((pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
		    NULL, pk, pklen)) == NULL) {
			ERR_clear_error();
			return FERR_KEY_INVALID;
		}
		return key_wrap(impl, pkey, 0, keyp);
	}
	/* OpenSSH keeps seed || public key; the halves must agree. */
	if (sklen != KEY_ED25519_SK_LEN ||
	    CRYPTO_memcmp(sk + 32, pk, KEY_ED25519_PK_LEN) != 0)
		return FERR_KEY_INVALID;
	if ((pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    sk, 32)) == NULL) {
		ERR_clear_error();
		return FERR_KEY_INVALID;
	}
	if (EVP_PKEY_get_raw_public_key(pkey, derived, &dlen) != 1 ||
	    dlen != sizeof(derived) ||
	    CRYPTO_memcmp(derived, pk, sizeof(derived)) != 0) {
		r = FERR_KEY_INVALID;
		EVP_PKEY_free(pkey);
		ERR_clear_error();
		return r;
	}
	return key_wrap(impl, pkey, 1, keyp);
}

/*
 * An ECDSA key from an uncompressed point and, for a private key, the
 * scalar d.  The point must be on the curve and d must match it.
 */
static int
key_ec_build(const struct key_impl *impl, const uint8_t *q, size_t qlen,
    const BIGNUM *d, struct key **keyp)
{
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_PKEY_CTX *cctx = NULL;
	int r, ok;

	*keyp = NULL;
	/* Uncompressed form only, as RFC 5656 section 3.1 requires. */
	if (qlen != 1 + 2 * impl->field_len || q[0] != 0x04)
		return FERR_KEY_INVALID;
	if (d != NULL && (BN_is_negative(d) || BN_is_zero(d)))
		return FERR_KEY_INVALID;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return FERR_ALLOC;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    impl->group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    q, qlen) != 1 ||
	    (d != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY,
	    d) != 1)) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	if ((r = key_fromdata("EC", bld, d != NULL ? EVP_PKEY_KEYPAIR :
	    EVP_PKEY_PUBLIC_KEY, &pkey)) != 0)
		goto out;
	/* Point on the curve, not at infinity; d in range and d*G == Q. */
	if ((cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	ok = d != NULL ? EVP_PKEY_check(cctx) : EVP_PKEY_public_check(cctx);
	if (ok != 1) {
		r = FERR_KEY_INVALID;
		goto out;
	}
	r = key_wrap(impl, pkey, d != NULL, keyp);
	pkey = NULL;
 out:
	EVP_PKEY_CTX_free(cctx);
	EVP_PKEY_free(pkey);
	OSSL_PARAM_BLD_free(bld);
	ERR_clear_error();
	return r;
}

static int
key_rsa_check_public(const BIGNUM *n, const BIGNUM *e)
{
	int nbits = BN_num_bits(n);

	if (BN_is_negative(n) || BN_is_negative(e))
		return FERR_KEY_INVALID;
	if (nbits < KEY_RSA_MIN_BITS || nbits > KEY_RSA_MAX_BITS)
		return FERR_KEY_LENGTH;
	if (!BN_is_odd(n) || !BN_is_odd(e) || BN_num_bits(e) < 2 ||
	    BN_num_bits(e) > KEY_RSA_E_MAX_BITS)
		return FERR_KEY_INVALID;
	return 0;
}

/*
 * The private checks: n == p * q and iqmp == q^-1 mod p.  They keep a
 * corrupt file from producing a key libcrypto would misuse.
 */
static int
key_rsa_check_private(const BIGNUM *n, const BIGNUM *d, const BIGNUM *p,
    const BIGNUM *q, const BIGNUM *iqmp, BN_CTX *bctx)
{
	BIGNUM *t;
	int r = FERR_KEY_INVALID;

	if (BN_is_negative(d) || BN_is_negative(p) || BN_is_negative(q) ||
	    BN_is_negative(iqmp) || BN_is_zero(d) || BN_cmp(d, n) >= 0 ||
	    BN_num_bits(p) < 2 || BN_num_bits(q) < 2 || BN_cmp(iqmp, p) >= 0)
		return FERR_KEY_INVALID;
	BN_CTX_start(bctx);
	if ((t = BN_CTX_get(bctx)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if (BN_mul(t, p, q, bctx) != 1) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	if (BN_cmp(t, n) != 0)
		goto out;
	if (BN_mod_mul(t, iqmp, q, p, bctx) != 1) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	if (!BN_is_one(t))
		goto out;
	r = 0;
 out:
	BN_CTX_end(bctx);
	return r;
}

/* An RSA key from n and e, plus d, iqmp, p and q for a private key. */
static int
key_rsa_build(const BIGNUM *n, const BIGNUM *e, const BIGNUM *d,
    const BIGNUM *iqmp, const BIGNUM *p, const BIGNUM *q, struct key **keyp)
{
	OSSL_PARAM_BLD *bld = NULL;
	BN_CTX *bctx = NULL;
	BIGNUM *dmp1 = NULL, *dmq1 = NULL, *t = NULL;
	EVP_PKEY *pkey = NULL;
	int r, priv = d != NULL;

	*keyp = NULL;
	if ((r = key_rsa_check_public(n, e)) != 0)
		return r;
	if (priv && (iqmp == NULL || p == NULL || q == NULL))
		return FERR_ARGUMENT;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    (bctx = BN_CTX_secure_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	if (priv) {
		if ((r = key_rsa_check_private(n, d, p, q, iqmp, bctx)) != 0)
			goto out;
		/* OpenSSH files omit the CRT exponents: derive them. */
		if ((dmp1 = BN_secure_new()) == NULL ||
		    (dmq1 = BN_secure_new()) == NULL ||
		    (t = BN_secure_new()) == NULL) {
			r = FERR_ALLOC;
			goto out;
		}
		if (BN_sub(t, p, BN_value_one()) != 1 ||
		    BN_mod(dmp1, d, t, bctx) != 1 ||
		    BN_sub(t, q, BN_value_one()) != 1 ||
		    BN_mod(dmq1, d, t, bctx) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D,
		    d) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1,
		    p) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2,
		    q) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1,
		    dmp1) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		    dmq1) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld,
		    OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp) != 1) {
			r = FERR_LIBCRYPTO;
			goto out;
		}
	}
	if ((r = key_fromdata("RSA", bld, priv ? EVP_PKEY_KEYPAIR :
	    EVP_PKEY_PUBLIC_KEY, &pkey)) != 0)
		goto out;
	r = key_wrap(key_impl_by_type(KEY_RSA), pkey, priv, keyp);
	pkey = NULL;
 out:
	EVP_PKEY_free(pkey);
	BN_clear_free(dmp1);
	BN_clear_free(dmq1);
	BN_clear_free(t);
	BN_CTX_free(bctx);
	OSSL_PARAM_BLD_free(bld);
	ERR_clear_error();
	return r;
}

/* Accessors for the components of a key, used by serialization. */

static int
key_ec_point(const struct key *key, uint8_t *q, size_t *qlen)
{
	size_t len = 0;

	if (EVP_PKEY_get_octet_string_param(key->pkey,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, q, KEY_EC_POINT_MAX,
	    &len) != 1) {
		ERR_clear_error();
		return FERR_LIBCRYPTO;
	}
	if (len != 1 + 2 * key->impl->field_len || q[0] != 0x04)
		return FERR_INTERNAL;
	*qlen = len;
	return 0;
}

static int
key_get_bn(const struct key *key, const char *name, BIGNUM **bnp)
{
	*bnp = NULL;
	if (EVP_PKEY_get_bn_param(key->pkey, name, bnp) != 1) {
		ERR_clear_error();
		return FERR_LIBCRYPTO;
	}
	return 0;
}

/* Append the public components (the blob without its type name). */
static int
key_put_public_parts(const struct key *key, struct buf *b)
{
	uint8_t q[KEY_EC_POINT_MAX];
	size_t len = sizeof(q);
	BIGNUM *n = NULL, *e = NULL;
	int r;

	switch (key->impl->pkey_id) {
	case EVP_PKEY_ED25519:
		if (EVP_PKEY_get_raw_public_key(key->pkey, q, &len) != 1 ||
		    len != KEY_ED25519_PK_LEN) {
			ERR_clear_error();
			return FERR_LIBCRYPTO;
		}
		return buf_put_string(b, q, len);
	case EVP_PKEY_EC:
		if ((r = key_ec_point(key, q, &len)) != 0)
			return r;
		if ((r = buf_put_cstring(b, key->impl->curve)) != 0)
			return r;
		return buf_put_string(b, q, len);
	case EVP_PKEY_RSA:
		if ((r = key_get_bn(key, OSSL_PKEY_PARAM_RSA_E, &e)) == 0 &&
		    (r = key_get_bn(key, OSSL_PKEY_PARAM_RSA_N, &n)) == 0 &&
		    (r = buf_put_mpint(b, e)) == 0)
			r = buf_put_mpint(b, n);
		BN_free(n);
		BN_free(e);
		return r;
	default:
		return FERR_INTERNAL;
	}
}

int
key_to_blob(const struct key *key, struct buf *b)
{
	size_t start;
	int r;

	if (key == NULL || b == NULL)
		return FERR_ARGUMENT;
	start = buf_len(b);
	if ((r = buf_put_cstring(b, key->impl->name)) != 0 ||
	    (r = key_put_public_parts(key, b)) != 0) {
		/* Leave b as it was. */
		if (buf_len(b) > start &&
		    buf_consume_end(b, buf_len(b) - start) != 0)
			return FERR_INTERNAL;
		return r;
	}
	return 0;
}

/* Read a non-negative mpint; negative values are FERR_KEY_INVALID. */
static int
key_get_posint(struct buf *b, BIGNUM **bnp)
{
	int r;

	if ((r = buf_get_mpint(b, bnp)) != 0)
		return r;
	if (BN_is_negative(*bnp)) {
		BN_clear_free(*bnp);
		*bnp = NULL;
		return FERR_KEY_INVALID;
	}
	return 0;
}

/* The ECDSA curve name that follows the type name must match it. */
static int
key_get_curve(struct buf *b, const struct key_impl *impl)
{
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = buf_get_string_direct(b, &p, &len)) != 0)
		return r;
	if (len != strlen(impl->curve) || memcmp(p, impl->curve, len) != 0)
		return FERR_KEY_TYPE_MISMATCH;
	return 0;
}

static int
key_get_impl(struct buf *b, const struct key_impl **implp)
{
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = buf_get_string_direct(b, &p, &len)) != 0)
		return r;
	if ((*implp = key_impl_by_name_len(p, len)) == NULL)
		return FERR_KEY_TYPE_UNKNOWN;
	return 0;
}

/*
 * Parse the components after the type name.  With priv, the private
 * serialization of PROTOCOL.key; without, the public blob.
 */
static int
key_get_parts(struct buf *b, const struct key_impl *impl, int priv,
    struct key **keyp)
{
	const uint8_t *pk, *sk, *q;
	size_t pklen, sklen, qlen;
	BIGNUM *n = NULL, *e = NULL, *d = NULL, *iqmp = NULL, *p = NULL;
	BIGNUM *bq = NULL;
	int r;

	switch (impl->pkey_id) {
	case EVP_PKEY_ED25519:
		if ((r = buf_get_string_direct(b, &pk, &pklen)) != 0)
			return r;
		if (!priv)
			return key_ed25519_build(pk, pklen, NULL, 0, keyp);
		if ((r = buf_get_string_direct(b, &sk, &sklen)) != 0)
			return r;
		return key_ed25519_build(pk, pklen, sk, sklen, keyp);
	case EVP_PKEY_EC:
		if ((r = key_get_curve(b, impl)) != 0 ||
		    (r = buf_get_string_direct(b, &q, &qlen)) != 0)
			return r;
		if (priv && (r = key_get_posint(b, &d)) != 0)
			return r;
		r = key_ec_build(impl, q, qlen, d, keyp);
		BN_clear_free(d);
		return r;
	case EVP_PKEY_RSA:
		if (priv) {
			if ((r = key_get_posint(b, &n)) != 0 ||
			    (r = key_get_posint(b, &e)) != 0 ||
			    (r = key_get_posint(b, &d)) != 0 ||
			    (r = key_get_posint(b, &iqmp)) != 0 ||
			    (r = key_get_posint(b, &p)) != 0 ||
			    (r = key_get_posint(b, &bq)) != 0)
				goto out;
		} else if ((r = key_get_posint(b, &e)) != 0 ||
		    (r = key_get_posint(b, &n)) != 0)
			goto out;
		r = key_rsa_build(n, e, d, iqmp, p, bq, keyp);
 out:
		BN_free(n);
		BN_free(e);
		BN_clear_free(d);
		BN_clear_free(iqmp);
		BN_clear_free(p);
		BN_clear_free(bq);
		return r;
	default:
		return FERR_INTERNAL;
	}
}

int
key_from_blob(struct buf *b, struct key **keyp)
{
	const struct key_impl *impl;
	struct key *k = NULL;
	int r;

	if (keyp == NULL)
		return FERR_ARGUMENT;
	*keyp = NULL;
	if (b == NULL)
		return FERR_ARGUMENT;
	if ((r = key_get_impl(b, &impl)) != 0 ||
	    (r = key_get_parts(b, impl, 0, &k)) != 0)
		return r;
	if ((r = buf_expect_end(b)) != 0) {
		key_free(k);
		return r;
	}
	*keyp = k;
	return 0;
}

int
key_from_blob_mem(const uint8_t *p, size_t len, struct key **keyp)
{
	struct buf *b;
	int r;

	if (keyp == NULL)
		return FERR_ARGUMENT;
	*keyp = NULL;
	if (p == NULL && len != 0)
		return FERR_ARGUMENT;
	if ((b = buf_from(p, len)) == NULL)
		return FERR_ALLOC;
	r = key_from_blob(b, keyp);
	buf_free(b);
	return r;
}

int
key_private_from_buf(struct buf *b, struct key **keyp)
{
	const struct key_impl *impl;
	int r;

	*keyp = NULL;
	if ((r = key_get_impl(b, &impl)) != 0)
		return r;
	return key_get_parts(b, impl, 1, keyp);
}

int
key_private_to_buf(const struct key *key, struct buf *b)
{
	uint8_t q[KEY_EC_POINT_MAX], sk[KEY_ED25519_SK_LEN];
	size_t len;
	BIGNUM *n = NULL, *e = NULL, *d = NULL, *iqmp = NULL, *p = NULL;
	BIGNUM *bq = NULL;
	int r;

	if (key == NULL || b == NULL)
		return FERR_ARGUMENT;
	if (!key->priv)
		return FERR_KEY_TYPE_MISMATCH;
	if ((r = buf_put_cstring(b, key->impl->name)) != 0)
		return r;
	switch (key->impl->pkey_id) {
	case EVP_PKEY_ED25519:
		len = KEY_ED25519_PK_LEN;
		if (EVP_PKEY_get_raw_public_key(key->pkey, q, &len) != 1 ||
		    len != KEY_ED25519_PK_LEN ||
		    (len = 32, EVP_PKEY_get_raw_private_key(key->pkey, sk,
		    &len)) != 1 || len != 32) {
			r = FERR_LIBCRYPTO;
			break;
		}
		memcpy(sk + 32, q, KEY_ED25519_PK_LEN);
		if ((r = buf_put_string(b, q, KEY_ED25519_PK_LEN)) == 0)
			r = buf_put_string(b, sk, sizeof(sk));
		break;
	case EVP_PKEY_EC:
		if ((r = key_ec_point(key, q, &len)) != 0 ||
		    (r = key_get_bn(key, OSSL_PKEY_PARAM_PRIV_KEY, &d)) != 0 ||
		    (r = buf_put_cstring(b, key->impl->curve)) != 0 ||
		    (r = buf_put_string(b, q, len)) != 0 ||
		    (r = buf_put_mpint(b, d)) != 0)
			break;
		break;
	case EVP_PKEY_RSA:
		if ((r = key_get_bn(key, OSSL_PKEY_PARAM_RSA_N, &n)) != 0 ||
		    (r = key_get_bn(key, OSSL_PKEY_PARAM_RSA_E, &e)) != 0 ||
		    (r = key_get_bn(key, OSSL_PKEY_PARAM_RSA_D, &d)) != 0 ||
		    (r = key_get_bn(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
		    &iqmp)) != 0 ||
		    (r = key_get_bn(key, OSSL_PKEY_PARAM_RSA_FACTOR1,
		    &p)) != 0 ||
		    (r = key_get_bn(key, OSSL_PKEY_PARAM_RSA_FACTOR2,
		    &bq)) != 0 ||
		    (r = buf_put_mpint(b, n)) != 0 ||
		    (r = buf_put_mpint(b, e)) != 0 ||
		    (r = buf_put_mpint(b, d)) != 0 ||
		    (r = buf_put_mpint(b, iqmp)) != 0 ||
		    (r = buf_put_mpint(b, p)) != 0 ||
		    (r = buf_put_mpint(b, bq)) != 0)
			break;
		break;
	default:
		r = FERR_INTERNAL;
		break;
	}
	ERR_clear_error();
	explicit_bzero(sk, sizeof(sk));
	BN_free(n);
	BN_free(e);
	BN_clear_free(d);
	BN_clear_free(iqmp);
	BN_clear_free(p);
	BN_clear_free(bq);
	return r;
}

/*
 * The public point of a libcrypto EC key in uncompressed form, whatever
 * form its source (a SEC1 file, say) used.
 */
static int
key_ec_uncompressed(const EVP_PKEY *src, uint8_t *q, size_t *qlen)
{
	EVP_PKEY *dup;
	int ok;

	if ((dup = EVP_PKEY_dup((EVP_PKEY *)src)) == NULL) {
		ERR_clear_error();
		return FERR_LIBCRYPTO;
	}
	ok = EVP_PKEY_set_utf8_string_param(dup,
	    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
	    OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) == 1 &&
	    EVP_PKEY_get_octet_string_param(dup,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, q, KEY_EC_POINT_MAX,
	    qlen) == 1;
	EVP_PKEY_free(dup);
	ERR_clear_error();
	return ok ? 0 : FERR_KEY_INVALID;
}

/* Map a libcrypto key to its table row (EC by its group name). */
static const struct key_impl *
key_impl_for_evp(const EVP_PKEY *pkey)
{
	char group[64];
	size_t i, len = 0;
	int id = EVP_PKEY_get_base_id(pkey);

	if (id != EVP_PKEY_EC) {
		for (i = 0; i < KEY_NIMPLS; i++)
			if (key_impls[i].pkey_id == id)
				return &key_impls[i];
		return NULL;
	}
	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &len) != 1) {
		ERR_clear_error();
		return NULL;
	}
	for (i = 0; i < KEY_NIMPLS; i++) {
		if (key_impls[i].pkey_id != EVP_PKEY_EC)
			continue;
		if (strcmp(group, key_impls[i].group) == 0 ||
		    strcmp(group, key_impls[i].group_alt) == 0)
			return &key_impls[i];
	}
	return NULL;
}

int
key_from_evp(const EVP_PKEY *src, int priv, struct key **keyp)
{
	const struct key_impl *impl;
	uint8_t pk[KEY_EC_POINT_MAX], sk[KEY_ED25519_SK_LEN];
	size_t len;
	BIGNUM *n = NULL, *e = NULL, *d = NULL, *iqmp = NULL, *p = NULL;
	BIGNUM *q = NULL;
	struct key tmp;
	int r;

	*keyp = NULL;
	if (src == NULL)
		return FERR_ARGUMENT;
	if ((impl = key_impl_for_evp(src)) == NULL)
		return FERR_KEY_TYPE_UNKNOWN;
	/* A temporary view for the accessors above. */
	memset(&tmp, 0, sizeof(tmp));
	tmp.impl = impl;
	tmp.pkey = (EVP_PKEY *)src;
	switch (impl->pkey_id) {
	case EVP_PKEY_ED25519:
		len = KEY_ED25519_PK_LEN;
		if (EVP_PKEY_get_raw_public_key(src, pk, &len) != 1 ||
		    len != KEY_ED25519_PK_LEN) {
			r = FERR_KEY_INVALID;
			break;
		}
		if (!priv) {
			r = key_ed25519_build(pk, len, NULL, 0, keyp);
			break;
		}
		len = 32;
		if (EVP_PKEY_get_raw_private_key(src, sk, &len) != 1 ||
		    len != 32) {
			r = FERR_KEY_INVALID;
			break;
		}
		memcpy(sk + 32, pk, KEY_ED25519_PK_LEN);
		r = key_ed25519_build(pk, KEY_ED25519_PK_LEN, sk, sizeof(sk),
		    keyp);
		break;
	case EVP_PKEY_EC:
		if ((r = key_ec_uncompressed(src, pk, &len)) != 0)
			break;
		/* A missing private part is a bad key, not a libcrypto bug. */
		if (priv && key_get_bn(&tmp, OSSL_PKEY_PARAM_PRIV_KEY,
		    &d) != 0) {
			r = FERR_KEY_INVALID;
			break;
		}
		r = key_ec_build(impl, pk, len, d, keyp);
		break;
	case EVP_PKEY_RSA:
		if ((r = key_get_bn(&tmp, OSSL_PKEY_PARAM_RSA_N, &n)) != 0 ||
		    (r = key_get_bn(&tmp, OSSL_PKEY_PARAM_RSA_E, &e)) != 0)
			break;
		if (priv &&
		    (key_get_bn(&tmp, OSSL_PKEY_PARAM_RSA_D, &d) != 0 ||
		    key_get_bn(&tmp, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
		    &iqmp) != 0 ||
		    key_get_bn(&tmp, OSSL_PKEY_PARAM_RSA_FACTOR1, &p) != 0 ||
		    key_get_bn(&tmp, OSSL_PKEY_PARAM_RSA_FACTOR2, &q) != 0)) {
			r = FERR_KEY_INVALID;
			break;
		}
		r = key_rsa_build(n, e, d, iqmp, p, q, keyp);
		break;
	default:
		r = FERR_KEY_TYPE_UNKNOWN;
		break;
	}
	ERR_clear_error();
	explicit_bzero(sk, sizeof(sk));
	BN_free(n);
	BN_free(e);
	BN_clear_free(d);
	BN_clear_free(iqmp);
	BN_clear_free(p);
	BN_clear_free(q);
	return r;
}

int
key_generate(enum key_type type, unsigned int bits, struct key **keyp)
{
	const struct key_impl *impl = key_impl_by_type(type);
	EVP_PKEY *pkey = NULL;
	int r;

	if (keyp == NULL)
		return FERR_ARGUMENT;
	*keyp = NULL;
	if (impl == NULL)
		return FERR_KEY_TYPE_UNKNOWN;
	if (impl->bits != 0 && bits != 0 && bits != impl->bits)
		return FERR_KEY_LENGTH;
	switch (impl->pkey_id) {
	case EVP_PKEY_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case EVP_PKEY_EC:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", impl->group);
		break;
	case EVP_PKEY_RSA:
		if (bits == 0)
			bits = KEY_RSA_DEFAULT_BITS;
		if (bits < KEY_RSA_MIN_GEN_BITS || bits > KEY_RSA_MAX_BITS)
			return FERR_KEY_LENGTH;
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
		break;
	default:
		return FERR_INTERNAL;
	}
	if (pkey == NULL) {
		ERR_clear_error();
		return FERR_LIBCRYPTO;
	}
	/* Rebuild through the validating constructors like any other key. */
	r = key_from_evp(pkey, 1, keyp);
	EVP_PKEY_free(pkey);
	return r;
}

int
key_demote(const struct key *key, struct key **pubp)
{
	struct buf *b = NULL;
	int r;

	if (pubp == NULL)
		return FERR_ARGUMENT;
	*pubp = NULL;
	if (key == NULL)
		return FERR_ARGUMENT;
	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = key_to_blob(key, b)) != 0 ||
	    (r = key_from_blob(b, pubp)) != 0 ||
	    (r = key_set_comment(*pubp, key->comment)) != 0) {
		key_free(*pubp);
		*pubp = NULL;
	}
	buf_free(b);
	return r;
}

int
key_equal_public(const struct key *a, const struct key *b)
{
	struct buf *ba = NULL, *bb = NULL;
	int eq = 0;

	if (a == NULL || b == NULL || a->impl != b->impl)
		return 0;
	if ((ba = buf_new()) == NULL || (bb = buf_new()) == NULL)
		goto out;
	if (key_to_blob(a, ba) != 0 || key_to_blob(b, bb) != 0)
		goto out;
	eq = buf_len(ba) == buf_len(bb) &&
	    memcmp(buf_ptr(ba), buf_ptr(bb), buf_len(ba)) == 0;
 out:
	buf_free(ba);
	buf_free(bb);
	return eq;
}

static int
key_is_space(char c)
{
	return c == ' ' || c == '\t';
}

int
key_parse_public_line(const char *line, struct key **keyp)
{
	const char *type, *b64, *cmt, *end;
	size_t typelen, b64len, cmtlen;
	char *word = NULL, *comment = NULL;
	struct buf *blob = NULL;
	struct key *k = NULL;
	int r;

	if (keyp == NULL)
		return FERR_ARGUMENT;
	*keyp = NULL;
	if (line == NULL)
		return FERR_ARGUMENT;
	if (strnlen(line, KEY_LINE_MAX + 1) > KEY_LINE_MAX)
		return FERR_STRING_TOO_LARGE;
	for (type = line; key_is_space(*type); type++)
		;
	for (end = type; *end != '\0' && !key_is_space(*end); end++)
		;
	typelen = (size_t)(end - type);
	for (b64 = end; key_is_space(*b64); b64++)
		;
	for (end = b64; *end != '\0' && !key_is_space(*end) &&
	    *end != '\r' && *end != '\n'; end++)
		;
	b64len = (size_t)(end - b64);
	if (typelen == 0 || b64len == 0)
		return FERR_FORMAT;
	for (cmt = end; key_is_space(*cmt); cmt++)
		;
	/* The comment runs to the end of the line, trailing space dropped. */
	cmtlen = strcspn(cmt, "\r\n");
	if (cmt[cmtlen] != '\0' && strspn(cmt + cmtlen, "\r\n") !=
	    strlen(cmt + cmtlen))
		return FERR_FORMAT;	/* more than one line */
	while (cmtlen > 0 && key_is_space(cmt[cmtlen - 1]))
		cmtlen--;
	if (cmtlen > KEY_COMMENT_MAX)
		return FERR_STRING_TOO_LARGE;
	if ((word = strndup(b64, b64len)) == NULL ||
	    (comment = strndup(cmt, cmtlen)) == NULL ||
	    (blob = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_b64_decoded(blob, word)) != 0 ||
	    (r = key_from_blob(blob, &k)) != 0)
		goto out;
	if (strlen(k->impl->name) != typelen ||
	    memcmp(k->impl->name, type, typelen) != 0) {
		r = FERR_KEY_TYPE_MISMATCH;
		goto out;
	}
	if (cmtlen > 0) {
		k->comment = comment;
		comment = NULL;
	}
	*keyp = k;
	k = NULL;
	r = 0;
 out:
	key_free(k);
	buf_free(blob);
	free(word);
	free(comment);
	return r;
}

int
key_format_public_line(const struct key *key, struct buf *out)
{
	struct buf *blob = NULL;
	size_t start;
	int r;

	if (key == NULL || out == NULL)
		return FERR_ARGUMENT;
	start = buf_len(out);
	if ((blob = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = key_to_blob(key, blob)) != 0 ||
	    (r = buf_putf(out, "%s ", key->impl->name)) != 0 ||
	    (r = buf_put_b64(out, buf_ptr(blob), buf_len(blob))) != 0)
		goto out;
	if (key->comment != NULL && *key->comment != '\0' &&
	    (r = buf_putf(out, " %s", key->comment)) != 0)
		goto out;
 out:
	if (r != 0 && buf_len(out) > start &&
	    buf_consume_end(out, buf_len(out) - start) != 0)
		r = FERR_INTERNAL;
	buf_free(blob);
	return r;
}
