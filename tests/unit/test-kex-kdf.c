/*
 * Unit tests for lib/kex-kdf.c: the RFC 4253 7.2 key derivation against
 * NIST CAVS 14.1 SSH KDF vectors (as published in OpenSSL's
 * evpkdf_ssh.txt) and against OpenSSL 3's independent EVP_KDF "SSHKDF"
 * for every hash and many lengths; the exchange hashes against an
 * EVP_Digest over the same bytes assembled by hand.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "digest.h"
#include "kexalg.h"
#include "tap.h"
#include "test-kex-util.h"

struct cavs {
	const char *name;
	int alg;
	const char *k;		/* K, mpint-encoded */
	const char *h;
	const char *sid;
	const char *out[6];	/* A..F */
};

static const struct cavs cavs[] = {
	{ "SHA-1 #1", DIGEST_SHA1,
	  "0000008055bae931c07fd824bf10add1902b6fbc7c665347383498a686929ff5"
	  "a25f8e40cb6645ea814fb1a5e0a11f852f86255641e5ed986e83a78bc8269480"
	  "eac0b0dfd770cab92e7a28dd87ff452466d6ae867cead63b366b1c286e6c4811"
	  "a9f14c27aea14c5171d49b78c06e3735d36e6a3be321dd5fc82308f34ee1cb17"
	  "fba94a59",
	  "a4ebd45934f56792b5112dcd75a1075fdc889245",
	  "a4ebd45934f56792b5112dcd75a1075fdc889245",
	  { "e2f627c0b43f1ac1", "58471445f342b181",
	    "1ca9d310f86d51f6cb8e7007cb2b220d55c5281ce680b533",
	    "2c60df8603d34cc1dbb03c11f725a44b44008851c73d6844",
	    "472eb8a26166ae6aa8e06868e45c3b26e6eeed06",
	    "e3e2fdb9d7bc21165a3dbe47e1eceb7764390bab" } },
	{ "SHA-1 #2", DIGEST_SHA1,
	  "0000008100ec6f2c5f0517fd92f730567bd783138302917c277552b1b3fdf2b6"
	  "7d6edb6fa81bd17f7ebbe339b54b171341e6522b91611f8274cc88652a458f80"
	  "41261040818a268497e949e12f57271318b2b3194c29760cbb767c0fc8833b27"
	  "2994e18682da807e6c9f235d88ef89c203c6f756d25cc2bea199b02c955b8b40"
	  "cbc04f9208",
	  "ee40eef61bea3da8c2b1cec40fc4cdac892a2626",
	  "ca9aad244e24797fd348d1250387c8aa45a0110a",
	  { "55a1015757de84cb", "7e57f61d5735f4fb",
	    "dd1c24bde1af845e82207541e3e173aec822fb904a94ae3c",
	    "cbbfdc9442af6db7f8c4dcaa4b0b5d0163e0e204476aa2a0",
	    "e153e04886c0dc446dde9a9b3b13efb77151764d",
	    "c8e4f61bd6b5abb2c6e06eca7b302349435e4842" } },
	{ "SHA-256 #1", DIGEST_SHA256,
	  "0000008100875c551cef526a4a8be1a7df27e9ed354bac9afb71f53dbae90567"
	  "9d14f9faf2469c53457cf80a366be278965ba6255276ca2d9f4a97d271f71e50"
	  "d8a9ec46253a6a906ac2c5e4f48b27a63ce08d80390a492aa43bad9d882ccac2"
	  "3dac88bcada4b4d426a362083dab6569c54c224dd2d87643aa227693e141ad16"
	  "30ce13144e",
	  "0e683fc8a9ed7c2ff02def23b2745ebc99b267daa86a4aa7697239088253f642",
	  "0e683fc8a9ed7c2ff02def23b2745ebc99b267daa86a4aa7697239088253f642",
	  { "41ff2ead1683f1e6", "e619ecfd9edb50cd",
	    "4a6314d2f7511bf88fad39fb6892f3f218cafd530e72fe43",
	    "084c15fb7f99c65ff134eeb407cee5d540c341dea45a42a5",
	    "41ec5a94fecce7707ea156a6ad29239a891621adacbedb8be70675008d6f9274",
	    "47d3c20aba60981e47b30533623613ff1cacbcf1642fb4ad86ee712f2aed9af8" } },
	{ "SHA-256 #2", DIGEST_SHA256,
	  "000000800faa172b8c287e372bb236ad34c733695c13d77f882adc0f47e5a7f6"
	  "a3de07efb101207aa5d665b619826f756591f65310bbd2c92c9384e6c6a67b42"
	  "dec382fdb24c591d79ff5e47737b0f5b8479694c3adc19401704912bbfec2704"
	  "d4d5bebbfc1a7fc796e277634e40851851a187ec2d37ed3f351c4596a5a08929"
	  "16b4c55f",
	  "a347f5f1e191c35f212c9324d5867efdf83026be62c2b16ae006edb3378d4006",
	  "90befcef3ff8f920674a9fab94198cf3fd9dca24a21d3c9dba394daafbc621ed",
	  { "99bae6531508705f", "f25786f02f199737",
	    "97621bf882266f905da78cf193fc31f642acbb60957c41b7",
	    "ad98a86a2386280912efea50f790e800a7758f7dade5d77e",
	    "f92d052d3cdf34dfc69bc60a489c3a3553f4356596c191931d08fa20551273b3",
	    "147a771445123f846d8ae514d7ff9b3c93b2bceb7c7c9500942161b8e2d0110f" } },
};

static void
test_cavs(const struct cavs *v)
{
	struct buf *K, *key = NULL;
	uint8_t *k, *h, *sid, *want;
	size_t klen, hlen, sidlen, wlen;
	int i;

	k = test_unhex(v->k, &klen);
	h = test_unhex(v->h, &hlen);
	sid = test_unhex(v->sid, &sidlen);
	if ((K = buf_from(k, klen)) == NULL)
		abort();
	for (i = 0; i < 6; i++) {
		want = test_unhex(v->out[i], &wlen);
		is_int(kex_kdf_derive(v->alg, K, h, hlen, sid, sidlen,
		    (char)('A' + i), wlen, &key), 0, "CAVS %s %c", v->name,
		    'A' + i);
		ok(key != NULL, "CAVS %s %c: key", v->name, 'A' + i);
		if (key != NULL)
			is_mem(buf_ptr(key), buf_len(key), want, wlen,
			    "CAVS %s %c: %zu bytes", v->name, 'A' + i, wlen);
		buf_free(key);
		key = NULL;
		free(want);
	}
	buf_free(K);
	free(k);
	free(h);
	free(sid);
}

/* OpenSSL's own SSHKDF, an independent implementation. */
static int
ossl_sshkdf(int alg, const struct buf *K, const uint8_t *h, size_t hlen,
    const uint8_t *sid, size_t sidlen, char which, uint8_t *out,
    size_t need)
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx;
	OSSL_PARAM params[6];
	char type[2] = { which, '\0' };
	int ok;

	if ((kdf = EVP_KDF_fetch(NULL, "SSHKDF", NULL)) == NULL)
		return -1;
	ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (ctx == NULL)
		return -1;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)digest_name(alg), 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)buf_ptr(K), buf_len(K));
	params[2] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_SSHKDF_XCGHASH, (void *)h, hlen);
	params[3] = OSSL_PARAM_construct_octet_string(
	    OSSL_KDF_PARAM_SSHKDF_SESSION_ID, (void *)sid, sidlen);
	params[4] = OSSL_PARAM_construct_utf8_string(
	    OSSL_KDF_PARAM_SSHKDF_TYPE, type, 0);
	params[5] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(ctx, out, need, params);
	EVP_KDF_CTX_free(ctx);
	return ok == 1 ? 0 : -1;
}

static void
test_cross_openssl(void)
{
	static const size_t lengths[] = { 1, 8, 12, 16, 20, 24, 32, 33, 48,
	    63, 64, 65, 96, 100, 128, 129, 200, 512, KEX_KDF_MAX_NEED };
	uint8_t kbytes[257], h[DIGEST_MAX_BYTES], sid[DIGEST_MAX_BYTES];
	uint8_t ref[KEX_KDF_MAX_NEED];
	struct buf *K, *key = NULL;
	size_t li, mdlen;
	int alg, w, bad, ran;

	for (alg = 0; alg < DIGEST_COUNT; alg++) {
		mdlen = digest_bytes(alg);
		if ((K = buf_new()) == NULL ||
		    RAND_bytes(kbytes, sizeof(kbytes)) != 1 ||
		    RAND_bytes(h, sizeof(h)) != 1 ||
		    RAND_bytes(sid, sizeof(sid)) != 1)
			abort();
		kbytes[0] |= 0x80;	/* exercise the mpint sign byte */
		if (buf_put_mpint_bytes(K, kbytes, sizeof(kbytes)) != 0)
			abort();
		bad = ran = 0;
		for (w = 'A'; w <= 'F'; w++) {
			for (li = 0; li < sizeof(lengths) / sizeof(lengths[0]);
			    li++) {
				if (ossl_sshkdf(alg, K, h, mdlen, sid, mdlen,
				    (char)w, ref, lengths[li]) != 0 ||
				    kex_kdf_derive(alg, K, h, mdlen, sid, mdlen,
				    (char)w, lengths[li], &key) != 0 ||
				    buf_len(key) != lengths[li] ||
				    memcmp(buf_ptr(key), ref, lengths[li]) != 0)
					bad++;
				ran++;
				buf_free(key);
				key = NULL;
			}
		}
		is_int(bad, 0, "%s: %d derivations agree with EVP_KDF SSHKDF",
		    digest_name(alg), ran);
		buf_free(K);
	}
}

static void
test_kdf_errors(void)
{
	struct buf *K = buf_new(), *key = (struct buf *)1;
	uint8_t h[32] = { 1 }, sid[32] = { 2 };

	if (K == NULL || buf_put_mpint_bytes(K, h, sizeof(h)) != 0)
		abort();
	is_int(kex_kdf_derive(DIGEST_SHA256, K, h, 32, sid, 32, 'G', 16,
	    &key), FERR_ARGUMENT, "letter G refused");
	ok(key == NULL, "no key on failure");
	is_int(kex_kdf_derive(DIGEST_SHA256, K, h, 32, sid, 32, '@', 16,
	    &key), FERR_ARGUMENT, "letter @ refused");
	is_int(kex_kdf_derive(DIGEST_SHA256, K, h, 32, sid, 32, 'A', 0,
	    &key), FERR_ARGUMENT, "zero length refused");
	is_int(kex_kdf_derive(DIGEST_SHA256, K, h, 32, sid, 32, 'A',
	    KEX_KDF_MAX_NEED + 1, &key), FERR_ARGUMENT, "huge length refused");
	is_int(kex_kdf_derive(DIGEST_COUNT, K, h, 32, sid, 32, 'A', 16, &key),
	    FERR_ARGUMENT, "unknown hash refused");
	is_int(kex_kdf_derive(DIGEST_SHA256, K, h, 32, sid, 0, 'A', 16, &key),
	    FERR_ARGUMENT, "empty session id refused");
	is_int(kex_kdf_derive(DIGEST_SHA256, NULL, h, 32, sid, 32, 'A', 16,
	    &key), FERR_ARGUMENT, "no K refused");
	buf_free(K);
}

/* ---- exchange hash ---- */

/* Append uint32 length + bytes to a plain byte array (by hand). */
static void
raw_string(uint8_t *out, size_t *off, const void *v, size_t len)
{
	out[(*off)++] = (uint8_t)(len >> 24);
	out[(*off)++] = (uint8_t)(len >> 16);
	out[(*off)++] = (uint8_t)(len >> 8);
	out[(*off)++] = (uint8_t)len;
	memcpy(out + *off, v, len);
	*off += len;
}

static void
raw_u32(uint8_t *out, size_t *off, uint32_t v)
{
	out[(*off)++] = (uint8_t)(v >> 24);
	out[(*off)++] = (uint8_t)(v >> 16);
	out[(*off)++] = (uint8_t)(v >> 8);
	out[(*off)++] = (uint8_t)v;
}

/* OpenSSL's MPI format equals SSH's mpint for non-negative numbers. */
static void
raw_mpint(uint8_t *out, size_t *off, const BIGNUM *bn)
{
	*off += (size_t)BN_bn2mpi(bn, out + *off);
}

static const char vc[] = "SSH-2.0-FerryTest_1.0";
static const char vs[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3";
static const uint8_t ic[] = { 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    13, 14, 15, 16, 0, 0, 0, 4, 'a', 'b', 'c', 'd', 0 };
static const uint8_t is[] = { 20, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6,
    5, 4, 3, 2, 1, 0, 0, 0, 1, 'x', 1 };
static const uint8_t ks[] = { 0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd',
    '2', '5', '5', '1', '9', 0, 0, 0, 4, 0xde, 0xad, 0xbe, 0xef };

struct hash_parts {
	struct buf *vc, *vs, *ic, *is, *ks;
	struct kex_hash_input in;
};

static void
parts_init(struct hash_parts *p)
{
	p->vc = buf_from(vc, strlen(vc));
	p->vs = buf_from(vs, strlen(vs));
	p->ic = buf_from(ic, sizeof(ic));
	p->is = buf_from(is, sizeof(is));
	p->ks = buf_from(ks, sizeof(ks));
	if (!p->vc || !p->vs || !p->ic || !p->is || !p->ks)
		abort();
	p->in.client_version = p->vc;
	p->in.server_version = p->vs;
	p->in.client_kexinit = p->ic;
	p->in.server_kexinit = p->is;
	p->in.server_hostkey = p->ks;
}

static void
parts_free(struct hash_parts *p)
{
	buf_free(p->vc);
	buf_free(p->vs);
	buf_free(p->ic);
	buf_free(p->is);
	buf_free(p->ks);
}

static size_t
raw_common(uint8_t *out)
{
	size_t off = 0;

	raw_string(out, &off, vc, strlen(vc));
	raw_string(out, &off, vs, strlen(vs));
	raw_string(out, &off, ic, sizeof(ic));
	raw_string(out, &off, is, sizeof(is));
	raw_string(out, &off, ks, sizeof(ks));
	return off;
}

static int
evp_hash(int alg, const uint8_t *m, size_t len, uint8_t *out)
{
	static const char *const names[DIGEST_COUNT] = {
		"MD5", "SHA1", "SHA256", "SHA384", "SHA512" };
	unsigned int outlen;

	return EVP_Digest(m, len, out, &outlen, EVP_get_digestbyname(
	    names[alg]), NULL) == 1 ? 0 : -1;
}

static void
test_hash_ecdh(void)
{
	struct hash_parts p;
	struct kex_curve25519 *a = NULL, *b = NULL;
	struct buf *qc = buf_new(), *qs = buf_new(), *K = buf_new();
	uint8_t raw[4096], got[DIGEST_MAX_BYTES], want[DIGEST_MAX_BYTES];
	size_t off;
	int alg;

	parts_init(&p);
	ok(kex_curve25519_keygen(&a) == 0 && kex_curve25519_keygen(&b) == 0 &&
	    kex_curve25519_public(a, qc) == 0 &&
	    kex_curve25519_public(b, qs) == 0 &&
	    kex_curve25519_shared(a, buf_ptr(qs), 32, K) == 0,
	    "a curve25519 exchange");
	for (alg = DIGEST_SHA256; alg < DIGEST_COUNT; alg++) {
		off = raw_common(raw);
		raw_string(raw, &off, buf_ptr(qc), buf_len(qc));
		raw_string(raw, &off, buf_ptr(qs), buf_len(qs));
		memcpy(raw + off, buf_ptr(K), buf_len(K));
		off += buf_len(K);
		ok(evp_hash(alg, raw, off, want) == 0, "reference digest");
		is_int(kex_kdf_hash_ecdh(alg, &p.in, qc, qs, K, got,
		    sizeof(got)), 0, "ECDH H with %s", digest_name(alg));
		is_mem(got, digest_bytes(alg), want, digest_bytes(alg),
		    "ECDH H with %s matches EVP_Digest", digest_name(alg));
	}
	/* Swapping Q_C and Q_S changes H. */
	ok(kex_kdf_hash_ecdh(DIGEST_SHA256, &p.in, qs, qc, K, want,
	    sizeof(want)) == 0 && kex_kdf_hash_ecdh(DIGEST_SHA256, &p.in, qc,
	    qs, K, got, sizeof(got)) == 0 && memcmp(got, want, 32) != 0,
	    "Q_C and Q_S are not interchangeable");
	is_int(kex_kdf_hash_ecdh(DIGEST_SHA256, &p.in, qc, qs, K, got, 31),
	    FERR_NO_SPACE, "short output refused");
	p.in.server_hostkey = NULL;
	is_int(kex_kdf_hash_ecdh(DIGEST_SHA256, &p.in, qc, qs, K, got,
	    sizeof(got)), FERR_ARGUMENT, "missing K_S refused");
	kex_curve25519_free(a);
	kex_curve25519_free(b);
	buf_free(qc);
	buf_free(qs);
	buf_free(K);
	parts_free(&p);
}

static void
test_hash_dh(void)
{
	struct hash_parts p;
	struct kex_dh_group *grp = NULL;
	struct kex_dh *a = NULL, *b = NULL;
	struct kex_gex_request req = { 2048, 3072, 8192 };
	struct buf *K = buf_new();
	uint8_t raw[8192], got[DIGEST_MAX_BYTES], want[DIGEST_MAX_BYTES];
	size_t off;
	const BIGNUM *e, *f;

	parts_init(&p);
	ok(kex_dh_group_builtin(KEX_DH_GROUP14, &grp) == 0 &&
	    kex_dh_keygen(grp, 128, &a) == 0 && kex_dh_keygen(grp, 128, &b) == 0 &&
	    kex_dh_shared(a, kex_dh_public(b), K) == 0, "a DH exchange");
	e = kex_dh_public(a);
	f = kex_dh_public(b);

	off = raw_common(raw);
	raw_mpint(raw, &off, e);
	raw_mpint(raw, &off, f);
	memcpy(raw + off, buf_ptr(K), buf_len(K));
	off += buf_len(K);
	ok(evp_hash(DIGEST_SHA256, raw, off, want) == 0, "reference digest");
	is_int(kex_kdf_hash_dh(DIGEST_SHA256, &p.in, e, f, K, got,
	    sizeof(got)), 0, "DH H");
	is_mem(got, 32, want, 32, "DH H matches EVP_Digest");
	ok(evp_hash(DIGEST_SHA1, raw, off, want) == 0, "reference SHA-1");
	is_int(kex_kdf_hash_dh(DIGEST_SHA1, &p.in, e, f, K, got,
	    sizeof(got)), 0, "DH H with SHA-1");
	is_mem(got, 20, want, 20, "DH SHA-1 H matches EVP_Digest");

	off = raw_common(raw);
	raw_u32(raw, &off, req.min);
	raw_u32(raw, &off, req.nbits);
	raw_u32(raw, &off, req.max);
	raw_mpint(raw, &off, kex_dh_group_p(grp));
	raw_mpint(raw, &off, kex_dh_group_g(grp));
	raw_mpint(raw, &off, e);
	raw_mpint(raw, &off, f);
	memcpy(raw + off, buf_ptr(K), buf_len(K));
	off += buf_len(K);
	ok(evp_hash(DIGEST_SHA256, raw, off, want) == 0, "reference digest");
	is_int(kex_kdf_hash_gex(DIGEST_SHA256, &p.in, &req, grp, e, f, K, got,
	    sizeof(got)), 0, "GEX H");
	is_mem(got, 32, want, 32, "GEX H matches EVP_Digest");
	req.nbits = 4096;
	ok(kex_kdf_hash_gex(DIGEST_SHA256, &p.in, &req, grp, e, f, K, got,
	    sizeof(got)) == 0 && memcmp(got, want, 32) != 0,
	    "GEX H covers n");
	is_int(kex_kdf_hash_gex(DIGEST_SHA256, &p.in, NULL, grp, e, f, K, got,
	    sizeof(got)), FERR_ARGUMENT, "GEX H without a request refused");
	kex_dh_free(a);
	kex_dh_free(b);
	kex_dh_group_free(grp);
	buf_free(K);
	parts_free(&p);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(cavs) / sizeof(cavs[0]); i++)
		test_cavs(&cavs[i]);
	test_cross_openssl();
	test_kdf_errors();
	test_hash_ecdh();
	test_hash_dh();
	return tap_done();
}
