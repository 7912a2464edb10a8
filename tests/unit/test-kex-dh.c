/*
 * Unit tests for lib/kex-dh.c and lib/kex-dh-groups.c: the prime tables
 * against libcrypto's own RFC 2409/3526 copies, primality of group 14,
 * exchanges in every group, peer value validation, exponent sizes and
 * the group exchange size rules.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "kexalg.h"
#include "tap.h"

struct group_case {
	int id;
	unsigned int bits;
	BIGNUM *(*ref)(BIGNUM *);	/* libcrypto's copy of the prime */
};

static const struct group_case groups[] = {
	{ KEX_DH_GROUP1, 1024, BN_get_rfc2409_prime_1024 },
	{ KEX_DH_GROUP14, 2048, BN_get_rfc3526_prime_2048 },
	{ KEX_DH_GROUP16, 4096, BN_get_rfc3526_prime_4096 },
	{ KEX_DH_GROUP18, 8192, BN_get_rfc3526_prime_8192 },
};

static void
test_tables(const struct group_case *c)
{
	struct kex_dh_group *grp = NULL;
	BIGNUM *ref;

	is_int(kex_dh_group_builtin(c->id, &grp), 0, "group %d", c->id);
	is_int(kex_dh_group_bits(grp), c->bits, "group %d: %u bits", c->id,
	    c->bits);
	ref = c->ref(NULL);
	ok(ref != NULL && BN_cmp(kex_dh_group_p(grp), ref) == 0,
	    "group %d: prime matches libcrypto's", c->id);
	ok(BN_is_word(kex_dh_group_g(grp), 2), "group %d: generator 2",
	    c->id);
	BN_free(ref);
	kex_dh_group_free(grp);
}

static void
test_prime14(void)
{
	struct kex_dh_group *grp = NULL;
	BIGNUM *q = NULL;
	BN_CTX *ctx = BN_CTX_new();

	ok(kex_dh_group_builtin(KEX_DH_GROUP14, &grp) == 0, "group 14");
	is_int(BN_check_prime(kex_dh_group_p(grp), ctx, NULL), 1,
	    "group 14: p is prime");
	/* A safe prime: (p-1)/2 is prime too. */
	ok((q = BN_dup(kex_dh_group_p(grp))) != NULL &&
	    BN_rshift1(q, q) == 1, "group 14: q = (p-1)/2");
	is_int(BN_check_prime(q, ctx, NULL), 1, "group 14: q is prime");
	BN_free(q);
	BN_CTX_free(ctx);
	kex_dh_group_free(grp);
}

static void
test_exchange(const struct group_case *c)
{
	struct kex_dh_group *grp = NULL;
	struct kex_dh *a = NULL, *b = NULL;
	struct buf *ka = buf_new(), *kb = buf_new();

	ok(kex_dh_group_builtin(c->id, &grp) == 0, "group %d", c->id);
	ok(kex_dh_keygen(grp, 128, &a) == 0 && kex_dh_keygen(grp, 128, &b) == 0,
	    "group %d: two keys", c->id);
	ok(BN_cmp(kex_dh_public(a), kex_dh_public(b)) != 0,
	    "group %d: public values differ", c->id);
	ok(kex_dh_shared(a, kex_dh_public(b), ka) == 0 &&
	    kex_dh_shared(b, kex_dh_public(a), kb) == 0,
	    "group %d: both derive K", c->id);
	ok(buf_len(ka) > 4, "group %d: K not empty", c->id);
	is_mem(buf_ptr(ka), buf_len(ka), buf_ptr(kb), buf_len(kb),
	    "group %d: both sides agree", c->id);
	is_int(kex_dh_private_bits(a), 512,
	    "group %d: 512-bit exponent for a 128-bit need", c->id);
	kex_dh_free(a);
	kex_dh_free(b);
	kex_dh_group_free(grp);
	buf_free(ka);
	buf_free(kb);
}

/* Peer values that must be refused, built from p. */
static void
test_peer_values(void)
{
	struct kex_dh_group *grp = NULL;
	struct kex_dh *k = NULL;
	struct buf *K = buf_new();
	BIGNUM *v = BN_new();
	const BIGNUM *p;

	ok(kex_dh_group_builtin(KEX_DH_GROUP14, &grp) == 0 &&
	    kex_dh_keygen(grp, 128, &k) == 0, "key in group 14");
	p = kex_dh_group_p(grp);

	BN_zero(v);
	is_int(kex_dh_shared(k, v, K), FERR_KEY_INVALID, "peer 0 refused");
	BN_one(v);
	is_int(kex_dh_shared(k, v, K), FERR_KEY_INVALID, "peer 1 refused");
	BN_set_word(v, 1);
	BN_set_negative(v, 1);
	is_int(kex_dh_shared(k, v, K), FERR_KEY_INVALID, "peer -1 refused");
	BN_copy(v, p);
	BN_sub_word(v, 1);
	is_int(kex_dh_shared(k, v, K), FERR_KEY_INVALID, "peer p-1 refused");
	BN_copy(v, p);
	is_int(kex_dh_shared(k, v, K), FERR_KEY_INVALID, "peer p refused");
	BN_add_word(v, 5);
	is_int(kex_dh_shared(k, v, K), FERR_KEY_INVALID, "peer p+5 refused");
	/* g^n with one bit set has a trivial logarithm. */
	BN_set_word(v, 2);
	is_int(kex_dh_shared(k, v, K), FERR_KEY_INVALID, "peer 2 refused");
	BN_lshift(v, BN_value_one(), 1000);
	is_int(kex_dh_check_public(grp, v), FERR_KEY_INVALID,
	    "peer 2^1000 refused");
	BN_set_word(v, 7);	/* three bits set */
	is_int(kex_dh_check_public(grp, v), FERR_KEY_INVALID,
	    "peer with 3 bits set refused");
	BN_set_word(v, 15);
	is_int(kex_dh_check_public(grp, v), 0, "peer 15 is acceptable");
	BN_copy(v, p);
	BN_sub_word(v, 2);
	is_int(kex_dh_check_public(grp, v), 0, "peer p-2 is acceptable");
	is_int(buf_len(K), 0, "nothing appended for refused values");
	is_int(kex_dh_check_public(grp, kex_dh_public(k)), 0,
	    "own public value passes the check");
	BN_free(v);
	kex_dh_free(k);
	kex_dh_group_free(grp);
	buf_free(K);
}

static void
test_exponent_sizes(void)
{
	struct kex_dh_group *g1 = NULL, *g14 = NULL;
	struct kex_dh *k = NULL;

	ok(kex_dh_group_builtin(KEX_DH_GROUP1, &g1) == 0 &&
	    kex_dh_group_builtin(KEX_DH_GROUP14, &g14) == 0, "groups 1, 14");
	is_int(kex_dh_keygen(g14, 0, &k), 0, "need 0");
	is_int(kex_dh_private_bits(k), 512, "need 0: floor of 256 bits -> 512");
	kex_dh_free(k);
	is_int(kex_dh_keygen(g14, 300, &k), 0, "need 300");
	is_int(kex_dh_private_bits(k), 600, "need 300: 600-bit exponent");
	kex_dh_free(k);
	is_int(kex_dh_keygen(g1, 512, &k), 0, "group 1, need 512");
	is_int(kex_dh_private_bits(k), 1023,
	    "exponent capped at group size - 1");
	kex_dh_free(k);
	k = NULL;
	is_int(kex_dh_keygen(g1, 513, &k), FERR_KEY_LENGTH,
	    "need above half the group refused");
	ok(k == NULL, "no key");
	is_int(kex_dh_keygen(NULL, 128, &k), FERR_ARGUMENT, "NULL group");
	kex_dh_group_free(g1);
	kex_dh_group_free(g14);
}

static void
test_group_new(void)
{
	struct kex_dh_group *grp = NULL, *ref = NULL;
	BIGNUM *p, *g = BN_new();

	ok(kex_dh_group_builtin(KEX_DH_GROUP14, &ref) == 0, "group 14");
	p = BN_dup(kex_dh_group_p(ref));
	BN_set_word(g, 5);
	is_int(kex_dh_group_new(p, g, &grp), 0, "group from p, g = 5");
	is_int(kex_dh_group_bits(grp), 2048, "its size");
	ok(BN_is_word(kex_dh_group_g(grp), 5), "its generator");
	kex_dh_group_free(grp);
	grp = NULL;
	BN_one(g);
	is_int(kex_dh_group_new(p, g, &grp), FERR_KEY_INVALID, "g = 1 refused");
	BN_copy(g, p);
	BN_sub_word(g, 1);
	is_int(kex_dh_group_new(p, g, &grp), FERR_KEY_INVALID,
	    "g = p-1 refused");
	BN_set_word(g, 2);
	BN_sub_word(p, 1);
	is_int(kex_dh_group_new(p, g, &grp), FERR_KEY_INVALID,
	    "even modulus refused");
	BN_set_word(p, 23);
	is_int(kex_dh_group_new(p, g, &grp), FERR_KEY_LENGTH,
	    "tiny modulus refused");
	ok(grp == NULL, "no group on failure");
	is_int(kex_dh_group_builtin(15, &grp), FERR_ARGUMENT,
	    "unknown built-in group");
	BN_free(p);
	BN_free(g);
	kex_dh_group_free(ref);
}

static void
test_gex_sizes(void)
{
	struct kex_gex_request req, bounds;
	struct kex_dh_group *g14 = NULL, *g16 = NULL;

	/* OpenSSH dh_estimate: NIST SP 800-57 steps. */
	is_int(kex_dh_gex_estimate(80), 2048, "estimate 80 -> 2048");
	is_int(kex_dh_gex_estimate(112), 2048, "estimate 112 -> 2048");
	is_int(kex_dh_gex_estimate(113), 3072, "estimate 113 -> 3072");
	is_int(kex_dh_gex_estimate(128), 3072, "estimate 128 -> 3072");
	is_int(kex_dh_gex_estimate(192), 7680, "estimate 192 -> 7680");
	is_int(kex_dh_gex_estimate(256), 8192, "estimate 256 -> 8192");
	is_int(kex_dh_gex_estimate(512), 8192, "estimate 512 -> 8192");

	kex_dh_gex_client_request(128, &req);
	ok(req.min == 2048 && req.nbits == 3072 && req.max == 8192,
	    "client request for 128 bits: 2048/3072/8192");
	kex_dh_gex_client_request(512, &req);
	ok(req.nbits == 8192, "client request for 512 bits: 8192");

	req.min = 1024;
	req.nbits = 1536;
	req.max = 16384;
	is_int(kex_dh_gex_server_clamp(&req, &bounds), 0, "clamp 1024/1536/16384");
	ok(bounds.min == 2048 && bounds.nbits == 2048 && bounds.max == 8192,
	    "clamped to 2048/2048/8192");
	ok(req.min == 1024 && req.nbits == 1536 && req.max == 16384,
	    "request left as received");
	req.min = 4096;
	req.nbits = 3072;
	req.max = 8192;
	is_int(kex_dh_gex_server_clamp(&req, &bounds), FERR_DH_GEX_RANGE,
	    "nbits < min refused");
	req.nbits = 8192;
	req.max = 6144;
	is_int(kex_dh_gex_server_clamp(&req, &bounds), FERR_DH_GEX_RANGE,
	    "max < nbits refused");
	req.min = 512;
	req.nbits = 1024;
	req.max = 1024;
	is_int(kex_dh_gex_server_clamp(&req, &bounds), FERR_DH_GEX_RANGE,
	    "request entirely below 2048 refused");

	ok(kex_dh_group_builtin(KEX_DH_GROUP14, &g14) == 0 &&
	    kex_dh_group_builtin(KEX_DH_GROUP16, &g16) == 0, "groups 14, 16");
	req.min = 2048;
	req.nbits = 3072;
	req.max = 4096;
	is_int(kex_dh_gex_check_group(&req, g14), 0, "2048 in 2048..4096");
	is_int(kex_dh_gex_check_group(&req, g16), 0, "4096 in 2048..4096");
	req.max = 3072;
	is_int(kex_dh_gex_check_group(&req, g16), FERR_DH_GEX_RANGE,
	    "4096 above 3072 refused");
	req.min = 3072;
	req.max = 8192;
	is_int(kex_dh_gex_check_group(&req, g14), FERR_DH_GEX_RANGE,
	    "2048 below 3072 refused");
	kex_dh_group_free(g14);
	kex_dh_group_free(g16);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		test_tables(&groups[i]);
	test_prime14();
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		test_exchange(&groups[i]);
	test_peer_values();
	test_exponent_sizes();
	test_group_new();
	test_gex_sizes();
	return tap_done();
}
