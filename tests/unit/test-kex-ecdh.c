/*
 * Unit tests for lib/kex-ecdh.c: RFC 5903 section 8.1 (P-256) and 8.2
 * (P-384) known answers, agreement on all three curves, and rejection of
 * invalid peer points.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/obj_mac.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "kexalg.h"
#include "tap.h"
#include "test-kex-util.h"

struct ecdh_kat {
	const char *name;
	int nid;
	const char *i;		/* initiator's private scalar */
	const char *gi;		/* its public point, uncompressed */
	const char *gr;		/* responder's public point */
	const char *girx;	/* x of the shared point */
};

static const struct ecdh_kat kats[] = {
	{ "P-256 (RFC 5903 8.1)", NID_X9_62_prime256v1,
	  "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
	  "04"
	  "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
	  "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
	  "04"
	  "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
	  "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
	  "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE" },
	{ "P-384 (RFC 5903 8.2)", NID_secp384r1,
	  "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F16"
	  "0647B67414DCE655E35B538041E649EE3FAEF896783AB194",
	  "04"
	  "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E3"
	  "1634FE72B4C55EE6DE3AC808ACB4BDB4C88732AEE95F41AA"
	  "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144AD"
	  "A024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81C",
	  "04"
	  "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D"
	  "83CFA41732BC509D0D1AC43A0336DEF96FDA41D0774A3571"
	  "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416"
	  "DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C",
	  "11187331C279962D93D604243FD592CB9D0A926F422E4718"
	  "7521287E7156C5C4D603135569B9E9D09CF5D4A270F59746" },
};

static void
test_kat(const struct ecdh_kat *v)
{
	struct kex_ecdh *k = NULL;
	struct buf *pub = buf_new(), *K = buf_new(), *want = buf_new();
	uint8_t *i, *gi, *gr, *girx;
	size_t ilen, gilen, grlen, girxlen;

	i = test_unhex(v->i, &ilen);
	gi = test_unhex(v->gi, &gilen);
	gr = test_unhex(v->gr, &grlen);
	girx = test_unhex(v->girx, &girxlen);
	is_int(kex_ecdh_from_private(v->nid, i, ilen, &k), 0, "%s: key",
	    v->name);
	is_int(kex_ecdh_public(k, pub), 0, "%s: public point", v->name);
	is_mem(buf_ptr(pub), buf_len(pub), gi, gilen, "%s: public is g^i",
	    v->name);
	is_int(kex_ecdh_shared(k, gr, grlen, K), 0, "%s: shared", v->name);
	ok(buf_put_mpint_bytes(want, girx, girxlen) == 0, "%s: expected K",
	    v->name);
	is_mem(buf_ptr(K), buf_len(K), buf_ptr(want), buf_len(want),
	    "%s: K is girx as an mpint", v->name);
	is_int(girxlen, kex_ecdh_field_bytes(v->nid), "%s: field size",
	    v->name);

	/* The responder's point with one bit of y flipped is off the curve. */
	gr[grlen - 1] ^= 1;
	buf_reset(K);
	is_int(kex_ecdh_shared(k, gr, grlen, K), FERR_KEY_INVALID,
	    "%s: point off the curve refused", v->name);
	is_int(buf_len(K), 0, "%s: nothing appended", v->name);
	gr[grlen - 1] ^= 1;
	/* Compressed-form prefix with the uncompressed length. */
	gr[0] = 0x02;
	is_int(kex_ecdh_shared(k, gr, grlen, K), FERR_KEY_INVALID,
	    "%s: non-uncompressed prefix refused", v->name);
	gr[0] = 0x04;
	is_int(kex_ecdh_shared(k, gr, grlen - 1, K), FERR_KEY_LENGTH,
	    "%s: short point refused", v->name);
	is_int(kex_ecdh_shared(k, gr, 1 + kex_ecdh_field_bytes(v->nid), K),
	    FERR_KEY_LENGTH, "%s: compressed length refused", v->name);
	kex_ecdh_free(k);
	buf_free(pub);
	buf_free(K);
	buf_free(want);
	free(i);
	free(gi);
	free(gr);
	free(girx);
}

static void
test_agree(int nid, const char *name)
{
	struct kex_ecdh *a = NULL, *b = NULL;
	struct buf *pa = buf_new(), *pb = buf_new(), *ka = buf_new(),
	    *kb = buf_new();
	uint8_t *bad;
	size_t plen = 1 + 2 * kex_ecdh_field_bytes(nid);

	ok(kex_ecdh_keygen(nid, &a) == 0 && kex_ecdh_keygen(nid, &b) == 0,
	    "%s: two keys", name);
	ok(kex_ecdh_public(a, pa) == 0 && kex_ecdh_public(b, pb) == 0,
	    "%s: public points", name);
	is_int(buf_len(pa), plen, "%s: uncompressed length", name);
	ok(buf_ptr(pa)[0] == 0x04, "%s: uncompressed form", name);
	ok(kex_ecdh_shared(a, buf_ptr(pb), buf_len(pb), ka) == 0 &&
	    kex_ecdh_shared(b, buf_ptr(pa), buf_len(pa), kb) == 0,
	    "%s: both derive K", name);
	ok(buf_len(ka) > 4, "%s: K not empty", name);
	is_mem(buf_ptr(ka), buf_len(ka), buf_ptr(kb), buf_len(kb),
	    "%s: both sides agree", name);

	/* All-zero coordinates are not a point on the curve. */
	if ((bad = calloc(1, plen)) == NULL)
		abort();
	bad[0] = 0x04;
	buf_reset(ka);
	is_int(kex_ecdh_shared(a, bad, plen, ka), FERR_KEY_INVALID,
	    "%s: (0, 0) refused", name);
	/* The encoding of the point at infinity: a single zero byte. */
	is_int(kex_ecdh_shared(a, bad + 1, 1, ka), FERR_KEY_LENGTH,
	    "%s: point at infinity refused", name);
	/* Coordinates of all ones are beyond the field prime. */
	memset(bad + 1, 0xff, plen - 1);
	is_int(kex_ecdh_shared(a, bad, plen, ka), FERR_KEY_INVALID,
	    "%s: coordinates >= p refused", name);
	is_int(buf_len(ka), 0, "%s: nothing appended", name);
	free(bad);
	kex_ecdh_free(a);
	kex_ecdh_free(b);
	buf_free(pa);
	buf_free(pb);
	buf_free(ka);
	buf_free(kb);
}

static void
test_cross_curve(void)
{
	struct kex_ecdh *a = NULL, *b = NULL;
	struct buf *pb = buf_new(), *K = buf_new();

	ok(kex_ecdh_keygen(NID_X9_62_prime256v1, &a) == 0 &&
	    kex_ecdh_keygen(NID_secp384r1, &b) == 0, "keys on two curves");
	ok(kex_ecdh_public(b, pb) == 0, "P-384 point");
	is_int(kex_ecdh_shared(a, buf_ptr(pb), buf_len(pb), K),
	    FERR_KEY_LENGTH, "P-384 point refused by a P-256 key");
	kex_ecdh_free(a);
	kex_ecdh_free(b);
	buf_free(pb);
	buf_free(K);
}

static void
test_errors(void)
{
	struct kex_ecdh *k = NULL;
	uint8_t one = 1, order[32];

	is_int(kex_ecdh_keygen(NID_secp224r1, &k), FERR_NOT_SUPPORTED,
	    "P-224 is not an SSH curve");
	ok(k == NULL, "no key");
	is_int(kex_ecdh_field_bytes(NID_secp224r1), 0, "no field size");
	is_int(kex_ecdh_from_private(NID_X9_62_prime256v1, &one, 0, &k),
	    FERR_KEY_LENGTH, "empty scalar refused");
	/* The scalar 0 and the group order are not private keys. */
	memset(order, 0, sizeof(order));
	is_int(kex_ecdh_from_private(NID_X9_62_prime256v1, order, 32, &k),
	    FERR_KEY_INVALID, "zero scalar refused");
	memset(order, 0xff, sizeof(order));
	is_int(kex_ecdh_from_private(NID_X9_62_prime256v1, order, 32, &k),
	    FERR_KEY_INVALID, "scalar above the order refused");
	is_int(kex_ecdh_from_private(NID_X9_62_prime256v1, &one, 1, &k), 0,
	    "scalar 1 accepted");
	kex_ecdh_free(k);
	kex_ecdh_free(NULL);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(kats) / sizeof(kats[0]); i++)
		test_kat(&kats[i]);
	test_agree(NID_X9_62_prime256v1, "P-256");
	test_agree(NID_secp384r1, "P-384");
	test_agree(NID_secp521r1, "P-521");
	test_cross_curve();
	test_errors();
	return tap_done();
}
