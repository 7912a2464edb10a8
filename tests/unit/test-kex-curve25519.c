/*
 * Unit tests for lib/kex-curve25519.c: the RFC 7748 section 5.2 function
 * vectors and iterations, the section 6.1 Alice/Bob exchange, low-order
 * points (all-zero results) and wrong lengths, and the RFC 8731 mpint
 * encoding of K.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "kexalg.h"
#include "tap.h"
#include "test-kex-util.h"

/* RFC 7748 section 5.2: scalar, u-coordinate, X25519 output. */
static const char *const vectors[][3] = {
	{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
	{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
};

/* RFC 7748 section 5.2 iterations from k = u = 9. */
#define ITER_1 \
	"422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"
#define ITER_1000 \
	"684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"

/* RFC 7748 section 6.1. */
#define ALICE_PRIV \
	"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PUB \
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define BOB_PRIV \
	"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define BOB_PUB \
	"de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define SHARED \
	"4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

/*
 * Points of small order (and their non-canonical encodings) for which
 * X25519 gives zero for every scalar (the libgcrypt t-cv25519 list).
 */
static const char *const low_order[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

/* X25519(k, u) through the API. */
static int
x25519(const uint8_t *k, const uint8_t *u, uint8_t *out)
{
	struct kex_curve25519 *key = NULL;
	int r;

	if ((r = kex_curve25519_from_private(k, 32, &key)) != 0)
		return r;
	r = kex_curve25519_raw(key, u, 32, out);
	kex_curve25519_free(key);
	return r;
}

static void
test_vectors(void)
{
	uint8_t *k, *u, *want, out[32];
	size_t klen, ulen, wlen, i;

	for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		k = test_unhex(vectors[i][0], &klen);
		u = test_unhex(vectors[i][1], &ulen);
		want = test_unhex(vectors[i][2], &wlen);
		is_int(x25519(k, u, out), 0, "RFC 7748 vector %zu", i + 1);
		is_mem(out, 32, want, wlen, "RFC 7748 vector %zu output", i + 1);
		free(k);
		free(u);
		free(want);
	}
}

static void
test_iterations(void)
{
	uint8_t k[32], u[32], next[32], *want;
	size_t wlen;
	int i, bad = 0;

	memset(k, 0, sizeof(k));
	k[0] = 9;
	memcpy(u, k, sizeof(u));
	for (i = 1; i <= 1000; i++) {
		if (x25519(k, u, next) != 0)
			bad++;
		memcpy(u, k, sizeof(u));
		memcpy(k, next, sizeof(k));
		if (i == 1) {
			want = test_unhex(ITER_1, &wlen);
			is_mem(k, 32, want, wlen, "RFC 7748 after 1 iteration");
			free(want);
		}
	}
	is_int(bad, 0, "1,000 iterations ran");
	want = test_unhex(ITER_1000, &wlen);
	is_mem(k, 32, want, wlen, "RFC 7748 after 1,000 iterations");
	free(want);
}

static void
test_alice_bob(void)
{
	struct kex_curve25519 *alice = NULL, *bob = NULL;
	struct buf *pa, *pb, *ka, *kb, *want_k;
	uint8_t *apriv, *bpriv, *apub, *bpub, *shared;
	size_t len;

	apriv = test_unhex(ALICE_PRIV, &len);
	bpriv = test_unhex(BOB_PRIV, &len);
	apub = test_unhex(ALICE_PUB, &len);
	bpub = test_unhex(BOB_PUB, &len);
	shared = test_unhex(SHARED, &len);
	pa = buf_new();
	pb = buf_new();
	ka = buf_new();
	kb = buf_new();
	want_k = buf_new();

	is_int(kex_curve25519_from_private(apriv, 32, &alice), 0, "alice");
	is_int(kex_curve25519_from_private(bpriv, 32, &bob), 0, "bob");
	ok(kex_curve25519_public(alice, pa) == 0 &&
	    kex_curve25519_public(bob, pb) == 0, "public values");
	is_mem(buf_ptr(pa), buf_len(pa), apub, 32, "alice's public value");
	is_mem(buf_ptr(pb), buf_len(pb), bpub, 32, "bob's public value");

	is_int(kex_curve25519_shared(alice, bpub, 32, ka), 0, "alice's K");
	is_int(kex_curve25519_shared(bob, apub, 32, kb), 0, "bob's K");
	/* RFC 8731 3.1: K is the 32 bytes as a big-endian mpint. */
	ok(buf_put_mpint_bytes(want_k, shared, 32) == 0, "expected mpint");
	is_mem(buf_ptr(ka), buf_len(ka), buf_ptr(want_k), buf_len(want_k),
	    "alice's K is the RFC 7748 secret as an mpint");
	is_mem(buf_ptr(kb), buf_len(kb), buf_ptr(want_k), buf_len(want_k),
	    "bob's K agrees");
	/* 0x4a has the top bit clear: no sign byte, length 32. */
	is_int(buf_len(ka), 4 + 32, "K is a 32-byte mpint");

	kex_curve25519_free(alice);
	kex_curve25519_free(bob);
	buf_free(pa);
	buf_free(pb);
	buf_free(ka);
	buf_free(kb);
	buf_free(want_k);
	free(apriv);
	free(bpriv);
	free(apub);
	free(bpub);
	free(shared);
}

static void
test_low_order(void)
{
	struct kex_curve25519 *k = NULL;
	struct buf *K = buf_new();
	uint8_t *u, out[32];
	size_t len, i;

	is_int(kex_curve25519_keygen(&k), 0, "keygen");
	for (i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		u = test_unhex(low_order[i], &len);
		memset(out, 0xa5, sizeof(out));
		is_int(kex_curve25519_raw(k, u, len, out), FERR_KEY_INVALID,
		    "low-order point %zu refused", i);
		ok(out[0] == 0 && memcmp(out, out + 1, 31) == 0,
		    "low-order point %zu: output wiped", i);
		is_int(kex_curve25519_shared(k, u, len, K), FERR_KEY_INVALID,
		    "low-order point %zu: no K", i);
		is_int(buf_len(K), 0, "low-order point %zu: nothing appended",
		    i);
		free(u);
	}
	kex_curve25519_free(k);
	buf_free(K);
}

static void
test_lengths(void)
{
	struct kex_curve25519 *a = NULL, *b = NULL;
	struct buf *pa = buf_new(), *pb = buf_new(), *ka = buf_new(),
	    *kb = buf_new();
	uint8_t peer[33], out[32];

	ok(kex_curve25519_keygen(&a) == 0 && kex_curve25519_keygen(&b) == 0,
	    "two fresh keys");
	ok(kex_curve25519_public(a, pa) == 0 &&
	    kex_curve25519_public(b, pb) == 0, "their public values");
	is_int(buf_len(pa), 32, "public value is 32 bytes");
	ok(buf_cmp_ct(pa, buf_ptr(pb), 32) != 0, "fresh keys differ");
	ok(kex_curve25519_shared(a, buf_ptr(pb), 32, ka) == 0 &&
	    kex_curve25519_shared(b, buf_ptr(pa), 32, kb) == 0,
	    "both sides derive K");
	is_mem(buf_ptr(ka), buf_len(ka), buf_ptr(kb), buf_len(kb),
	    "both sides agree");

	memcpy(peer, buf_ptr(pb), 32);
	peer[32] = 0;
	is_int(kex_curve25519_raw(a, peer, 31, out), FERR_KEY_LENGTH,
	    "31-byte peer value refused");
	is_int(kex_curve25519_raw(a, peer, 33, out), FERR_KEY_LENGTH,
	    "33-byte peer value refused");
	is_int(kex_curve25519_raw(a, peer, 0, out), FERR_KEY_LENGTH,
	    "empty peer value refused");
	buf_reset(ka);
	is_int(kex_curve25519_shared(a, peer, 33, ka), FERR_KEY_LENGTH,
	    "33-byte peer value: no K");
	is_int(buf_len(ka), 0, "nothing appended");
	kex_curve25519_free(b);
	is_int(kex_curve25519_from_private(peer, 31, &b), FERR_KEY_LENGTH,
	    "31-byte private scalar refused");
	ok(b == NULL, "no key on failure");
	is_int(kex_curve25519_keygen(NULL), FERR_ARGUMENT, "NULL result");
	kex_curve25519_free(a);
	kex_curve25519_free(NULL);
	buf_free(pa);
	buf_free(pb);
	buf_free(ka);
	buf_free(kb);
}

int
main(void)
{
	test_vectors();
	test_iterations();
	test_alice_bob();
	test_low_order();
	test_lengths();
	return tap_done();
}
