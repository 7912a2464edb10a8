/*
 * Unit tests for lib/kexalg.c: the algorithm table, the default list,
 * name-list validation, and whole exchanges through the kind-independent
 * key interface (wire forms, K, H and derived keys on both sides).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/obj_mac.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "digest.h"
#include "kexalg.h"
#include "tap.h"

struct expect {
	const char *name;
	enum kexalg_kind kind;
	int hash;
	int param;
	int legacy;
};

static const struct expect expects[] = {
	{ "curve25519-sha256", KEXALG_CURVE25519, DIGEST_SHA256, 0, 0 },
	{ "curve25519-sha256@libssh.org", KEXALG_CURVE25519, DIGEST_SHA256,
	    0, 0 },
	{ "ecdh-sha2-nistp256", KEXALG_ECDH, DIGEST_SHA256,
	    NID_X9_62_prime256v1, 0 },
	{ "ecdh-sha2-nistp384", KEXALG_ECDH, DIGEST_SHA384, NID_secp384r1, 0 },
	{ "ecdh-sha2-nistp521", KEXALG_ECDH, DIGEST_SHA512, NID_secp521r1, 0 },
	{ "diffie-hellman-group-exchange-sha256", KEXALG_GEX, DIGEST_SHA256,
	    0, 0 },
	{ "diffie-hellman-group16-sha512", KEXALG_DH, DIGEST_SHA512,
	    KEX_DH_GROUP16, 0 },
	{ "diffie-hellman-group18-sha512", KEXALG_DH, DIGEST_SHA512,
	    KEX_DH_GROUP18, 0 },
	{ "diffie-hellman-group14-sha256", KEXALG_DH, DIGEST_SHA256,
	    KEX_DH_GROUP14, 0 },
	{ "diffie-hellman-group14-sha1", KEXALG_DH, DIGEST_SHA1,
	    KEX_DH_GROUP14, 1 },
	{ "diffie-hellman-group1-sha1", KEXALG_DH, DIGEST_SHA1,
	    KEX_DH_GROUP1, 1 },
};

static void
test_table(void)
{
	const struct kexalg *k;
	size_t i;

	for (i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
		const struct expect *e = &expects[i];

		k = kexalg_by_name(e->name);
		ok(k != NULL && strcmp(k->name, e->name) == 0, "%s known",
		    e->name);
		if (k == NULL)
			continue;
		ok(k->kind == e->kind && k->hash_alg == e->hash &&
		    k->param == e->param && k->legacy == e->legacy,
		    "%s: kind, hash, parameter, legacy flag", e->name);
	}
	ok(kexalg_by_name("diffie-hellman-group-exchange-sha1") == NULL,
	    "gex-sha1 not offered");
	ok(kexalg_by_name("sntrup761x25519-sha512@openssh.com") == NULL,
	    "sntrup not offered");
	ok(kexalg_by_name("Curve25519-sha256") == NULL, "names are exact");
	ok(kexalg_by_name(NULL) == NULL, "NULL name");
}

static void
test_lists(void)
{
	char *all, *modern;

	is_int(kexalg_names_valid(KEXALG_DEFAULT), 0, "default list valid");
	is_int(kexalg_names_valid("curve25519-sha256"), 0, "one name");
	is_int(kexalg_names_valid("curve25519-sha256,bogus"),
	    FERR_NOT_SUPPORTED, "unknown name refused");
	is_int(kexalg_names_valid("curve25519-sha256,"), FERR_FORMAT,
	    "trailing comma refused");
	is_int(kexalg_names_valid(",curve25519-sha256"), FERR_FORMAT,
	    "leading comma refused");
	is_int(kexalg_names_valid(""), FERR_FORMAT, "empty list refused");
	is_int(kexalg_names_valid(NULL), FERR_FORMAT, "NULL list refused");

	all = kexalg_names(1);
	modern = kexalg_names(0);
	ok(all != NULL && modern != NULL, "name lists");
	if (all != NULL && modern != NULL) {
		is_int(kexalg_names_valid(all), 0, "full list valid");
		ok(strstr(all, "diffie-hellman-group1-sha1") != NULL,
		    "full list has group1");
		ok(strstr(modern, "-sha1") == NULL, "modern list has no SHA-1");
		ok(strcmp(modern, KEXALG_DEFAULT) == 0,
		    "modern list is the default list");
	}
	free(all);
	free(modern);
}

/* A client and a server run alg through kexalg_key_*. */
static void
test_exchange(const struct expect *e)
{
	const struct kexalg *alg = kexalg_by_name(e->name);
	struct kex_dh_group *grp = NULL;
	struct kexalg_key *c = NULL, *s = NULL;
	struct kex_gex_request req = { 2048, 3072, 8192 };
	struct kex_hash_input in;
	struct buf *msg = buf_new(), *qc = buf_new(), *qs = buf_new(),
	    *peer_c = buf_new(), *peer_s = buf_new(), *kc = buf_new(),
	    *ks = buf_new(), *v = buf_from("v", 1), *key_c = NULL,
	    *key_s = NULL, *trunc = NULL;
	uint8_t hc[DIGEST_MAX_BYTES], hs[DIGEST_MAX_BYTES], ref[DIGEST_MAX_BYTES];
	BIGNUM *e_bn = NULL, *f_bn = NULL;
	struct buf *body_c = NULL, *body_s = NULL;
	size_t mdlen;

	if (alg == NULL || msg == NULL || v == NULL)
		abort();
	mdlen = digest_bytes(alg->hash_alg);
	in.client_version = in.server_version = in.client_kexinit =
	    in.server_kexinit = in.server_hostkey = v;
	if (alg->kind == KEXALG_GEX &&
	    kex_dh_group_builtin(KEX_DH_GROUP14, &grp) != 0)
		abort();
	is_int(kexalg_key_new(alg, grp, 128, &c), 0, "%s: client key", e->name);
	is_int(kexalg_key_new(alg, grp, 128, &s), 0, "%s: server key", e->name);
	/* Client's init message carries Q_C / e, followed by other data. */
	ok(kexalg_key_public(c, qc) == 0 && kexalg_key_public(s, qs) == 0,
	    "%s: public values", e->name);
	ok(buf_putb(msg, qc) == 0 && buf_put_u32(msg, 0x5a5a5a5a) == 0,
	    "%s: init message", e->name);
	is_int(kexalg_key_shared(s, msg, peer_c, ks), 0, "%s: server's K",
	    e->name);
	is_int(buf_len(msg), 4, "%s: only the value consumed", e->name);
	is_mem(buf_ptr(peer_c), buf_len(peer_c), buf_ptr(qc), buf_len(qc),
	    "%s: peer value captured in wire form", e->name);
	buf_reset(msg);
	ok(buf_putb(msg, qs) == 0, "%s: reply message", e->name);
	is_int(kexalg_key_shared(c, msg, peer_s, kc), 0, "%s: client's K",
	    e->name);
	is_int(buf_len(msg), 0, "%s: reply consumed", e->name);
	is_mem(buf_ptr(kc), buf_len(kc), buf_ptr(ks), buf_len(ks),
	    "%s: K agrees", e->name);

	is_int(kexalg_exchange_hash(alg, &in, &req, grp, qc, peer_s, kc, hc,
	    sizeof(hc)), 0, "%s: client's H", e->name);
	is_int(kexalg_exchange_hash(alg, &in, &req, grp, peer_c, qs, ks, hs,
	    sizeof(hs)), 0, "%s: server's H", e->name);
	is_mem(hc, mdlen, hs, mdlen, "%s: H agrees", e->name);
	/* The same H from the kind's own helper. */
	switch (alg->kind) {
	case KEXALG_CURVE25519:
	case KEXALG_ECDH:
		ok(buf_get_stringb(qc, body_c = buf_new()) == 0 &&
		    buf_get_stringb(qs, body_s = buf_new()) == 0 &&
		    kex_kdf_hash_ecdh(alg->hash_alg, &in, body_c, body_s, kc,
		    ref, sizeof(ref)) == 0, "%s: helper H", e->name);
		break;
	case KEXALG_DH:
		ok(buf_get_mpint(qc, &e_bn) == 0 && buf_get_mpint(qs, &f_bn) == 0 &&
		    kex_kdf_hash_dh(alg->hash_alg, &in, e_bn, f_bn, kc, ref,
		    sizeof(ref)) == 0, "%s: helper H", e->name);
		break;
	default:
		ok(buf_get_mpint(qc, &e_bn) == 0 && buf_get_mpint(qs, &f_bn) == 0 &&
		    kex_kdf_hash_gex(alg->hash_alg, &in, &req, grp, e_bn, f_bn,
		    kc, ref, sizeof(ref)) == 0, "%s: helper H", e->name);
		break;
	}
	is_mem(hc, mdlen, ref, mdlen, "%s: H equals the helper's", e->name);
	ok(kex_kdf_derive(alg->hash_alg, kc, hc, mdlen, hc, mdlen, 'C', 64,
	    &key_c) == 0 && kex_kdf_derive(alg->hash_alg, ks, hs, mdlen, hs,
	    mdlen, 'C', 64, &key_s) == 0 && buf_len(key_c) == 64 &&
	    memcmp(buf_ptr(key_c), buf_ptr(key_s), 64) == 0,
	    "%s: derived keys agree", e->name);

	/* A truncated peer value is refused and nothing is kept. */
	buf_reset(msg);
	buf_reset(peer_c);
	buf_reset(ks);
	trunc = buf_new();
	ok(trunc != NULL && kexalg_key_public(c, trunc) == 0 &&
	    buf_put_u32(msg, (uint32_t)buf_len(trunc)) == 0 &&
	    buf_put(msg, buf_ptr(trunc), buf_len(trunc) - 1) == 0,
	    "%s: truncated message", e->name);
	ok(kexalg_key_shared(s, msg, peer_c, ks) != 0, "%s: truncated refused",
	    e->name);
	ok(buf_len(peer_c) == 0 && buf_len(ks) == 0,
	    "%s: nothing kept on failure", e->name);

	BN_free(e_bn);
	BN_free(f_bn);
	buf_free(body_c);
	buf_free(body_s);
	buf_free(trunc);
	buf_free(key_c);
	buf_free(key_s);
	buf_free(msg);
	buf_free(qc);
	buf_free(qs);
	buf_free(peer_c);
	buf_free(peer_s);
	buf_free(kc);
	buf_free(ks);
	buf_free(v);
	kexalg_key_free(c);
	kexalg_key_free(s);
	kex_dh_group_free(grp);
}

static void
test_key_errors(void)
{
	struct kexalg_key *k = NULL;
	struct kex_dh_group *grp = NULL;
	struct buf *msg = buf_new(), *K = buf_new();

	ok(kex_dh_group_builtin(KEX_DH_GROUP14, &grp) == 0, "group 14");
	is_int(kexalg_key_new(kexalg_by_name("diffie-hellman-group-exchange-"
	    "sha256"), NULL, 128, &k), FERR_ARGUMENT, "GEX without a group");
	is_int(kexalg_key_new(kexalg_by_name("curve25519-sha256"), grp, 128,
	    &k), FERR_ARGUMENT, "group given to curve25519");
	ok(k == NULL, "no key");
	ok(kexalg_key_new(kexalg_by_name("curve25519-sha256"), NULL, 128,
	    &k) == 0, "curve25519 key");
	/* A public value of the wrong length. */
	ok(buf_put_string(msg, "short", 5) == 0, "short value");
	is_int(kexalg_key_shared(k, msg, NULL, K), FERR_KEY_LENGTH,
	    "5-byte curve25519 value refused");
	buf_reset(msg);
	is_int(kexalg_key_shared(k, msg, NULL, K), FERR_INCOMPLETE,
	    "empty message refused");
	kexalg_key_free(k);
	k = NULL;
	ok(kexalg_key_new(kexalg_by_name("diffie-hellman-group14-sha256"),
	    NULL, 128, &k) == 0, "group14 key");
	ok(buf_put_u32(msg, 1) == 0 && buf_put_u8(msg, 1) == 0,
	    "mpint 1");
	is_int(kexalg_key_shared(k, msg, NULL, K), FERR_KEY_INVALID,
	    "DH value 1 refused");
	is_int(buf_len(K), 0, "nothing appended");
	kexalg_key_free(k);
	kexalg_key_free(NULL);
	kex_dh_group_free(grp);
	buf_free(msg);
	buf_free(K);
}

int
main(void)
{
	size_t i;

	test_table();
	test_lists();
	for (i = 0; i < sizeof(expects) / sizeof(expects[0]); i++)
		test_exchange(&expects[i]);
	test_key_errors();
	return tap_done();
}
