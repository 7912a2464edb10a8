/*
 * Unit tests for UMAC (lib/umac.c).
 *
 * Known answers: RFC 4418 appendix (key "abcdefghijklmnop", nonce
 * "bcdefghi"), with the RFC errata value for 'a' * 2^25.  The RFC lists
 * 32-, 64- and 96-bit tags; the full 128-bit tags, and the further vectors
 * with other nonce lengths and the message lengths around the 1024-byte
 * block and the 2^14-block POLY64/POLY128 boundaries, are the ones GNU
 * Nettle's testsuite/umac-test.c publishes (whose 96-bit prefixes agree
 * with the RFC).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/err.h"
#include "tap.h"
#include "umac.h"

static const uint8_t key[16] = "abcdefghijklmnop";

struct umac_vec {
	const char *nonce;
	const char *pattern;	/* the message repeats this */
	size_t len;		/* message length in bytes */
	const char *tag32;
	const char *tag64;
	const char *tag128;	/* tag96 is its first 12 bytes */
};

static const struct umac_vec rfc_vecs[] = {
	{ "bcdefghi", "a", 0, "113145FB", "6E155FAD26900BE1",
	    "32FEDB100C79AD58F07FF7643CC60465" },
	{ "bcdefghi", "a", 3, "3B91D102", "44B5CB542F220104",
	    "185E4FE905CBA7BD85E4C2DC3D117D8D" },
	{ "bcdefghi", "a", 1 << 10, "599B350B", "26BF2F5D60118BD9",
	    "7A54ABE04AF82D60FB298C3CBD195BCB" },
	{ "bcdefghi", "a", 1 << 15, "58DCF532", "27F8EF643B0D118D",
	    "7B136BD911E4B734286EF2BE501F2C3C" },
	{ "bcdefghi", "a", 1 << 20, "DB6364D1", "A4477E87E9F55853",
	    "F8ACFA3AC31CFEEA047F7B115B03BEF5" },
	{ "bcdefghi", "a", 1 << 25, "85EE5CAE", "FACA46F856E9B45F",
	    "A621C2457C0012E64F3FDAE9E7E1870C" },
	{ "bcdefghi", "abc", 3, "ABF3A3A0", "D4D7B9F6BD4FBFCF",
	    "883C3D4B97A61976FFCF232308CBA5A5" },
	{ "bcdefghi", "abc", 1500, "ABEB3C8B", "D4CF26DDEFD5C01A",
	    "8824A260C53C66A36C9260A62CB83AA1" },
};

static const struct umac_vec more_vecs[] = {
	{ "b", "defdefdefdefdef", 0, "3a58486b", "9e38f67da91a08d9",
	    "9e38f67da91a08d9c980f4db4089c877" },
	{ "bc", "defdefdefdefdef", 1, "d86b1512", "fb0e207971b8e66a",
	    "ef406c2ec70d0222f59e860eabb79ed0" },
	{ "bcd", "defdefdefdefdef", 2, "1ae6e02d", "1ae6e02d73aa9ab2",
	    "1ae6e02d73aa9ab2a27fb89e014dc07b" },
	{ "bcde", "defdefdefdefdef", 3, "e8c1eb59", "c81cf22342e84302",
	    "82626d0d575e01038e5e2cc6408216f5" },
	{ "bcdef", "defdefdefdefdef", 4, "8950f0d3", "aba003e7bd673cc3",
	    "aba003e7bd673cc368ba8513cecf2e7c" },
	{ "bcdefg", "defdefdefdefdef", 1020, "7412167c", "f98828a161bb4ae3",
	    "d8b4811f747d588d7a913360960de7cf" },
	{ "bcdefgh", "defdefdefdefdef", 1021, "2d54936b", "2d54936be5bff72d",
	    "2d54936be5bff72d2e1052361163b474" },
	{ "bcdefghi", "defdefdefdefdef", 1022, "53ca8dd2", "2cee9784556387b3",
	    "700513397f8a210a98938d3e7ac3bd88" },
	{ "bcdefghij", "defdefdefdefdef", 1023, "26cc58df", "24ac4284ca371f42",
	    "24ac4284ca371f4280f60bd274633d67" },
	{ "bcdefghijk", "defdefdefdefdef", 1024, "3cada45a", "64c6a0fd14615a76",
	    "abc223116cedd2db5af365e641a97539" },
	{ "bcdefghijkl", "defdefdefdefdef", 1025, "93251e18",
	    "93251e18e56bbdc4", "93251e18e56bbdc457de556f95c59931" },
	{ "bcdefghijklm", "defdefdefdefdef", 1026, "24a4c3ab",
	    "5d98bd8dfaf16352", "c1298672e52386753383a15ed58c0e42" },
	{ "bcdefghijklmn", "defdefdefdefdef", 1027, "e7e98945",
	    "5b0557c9fdcf661b", "5b0557c9fdcf661b1758efc603516ebe" },
	{ "bcdefghijklmno", "defdefdefdefdef", 2046, "e12ddc9f",
	    "65e85d47447c2277", "16bb5183017826ed47c9995c1e5834f3" },
	{ "bcdefghijklmnop", "defdefdefdefdef", 2047, "34d723a6",
	    "34d723a6cb1676d3", "34d723a6cb1676d3547a5064dc5b0a37" },
	{ "bcdefghijklmnopq", "defdefdefdefdef", 2048, "21fd8802",
	    "3968d5d0af147884", "84565620def1e3a614d274e87626f215" },
	{ "b", "defdefdefdefdef", 2049, "097e5abd", "ad1ee4ab606061c5",
	    "ad1ee4ab606061c55e0d2ecfee59940a" },
	{ "bc", "defdefdefdefdef", 2050, "a03a7fe9", "835f4a8242100055",
	    "971106d5f4a5e41dce40a91704cfe1f3" },
	{ "bcdefg", "defdefdefdefdef", 16777215, "e67ad507",
	    "6be0ebda623d76df", "4adc426477fb64b1ce5afd76d505f048" },
	{ "bcdefgh", "defdefdefdefdef", 16777216, "42d8562a",
	    "42d8562a224a9e9a", "42d8562a224a9e9a75c2f85d39462d07" },
	{ "bcdefghi", "defdefdefdefdef", 16777217, "486b138d",
	    "374f09dbb0b84b88", "6ba48d669a51ed3195ebc2aa562ee71b" },
	{ "bcdefghijk", "defdefdefdefdef", 16778240, "b9fc4f81",
	    "e1974b26fb35f2c6", "2e93c8ca83b97a6b1a21082e2a4c540d" },
	{ "bcdefghijkl", "defdefdefdefdef", 16778241, "ffced8f2",
	    "ffced8f2494d85bf", "ffced8f2494d85bf0cb39408ddfe0295" },
};

static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int v;

	for (; s[0] != '\0' && s[1] != '\0' && n < max; s += 2) {
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* Feed len bytes of the repeated pattern in chunks of about chunk bytes. */
static void
feed(struct umac_ctx *ctx, const char *pattern, size_t len, size_t chunk)
{
	static uint8_t big[15 * 4096 + 3];
	size_t plen = strlen(pattern), fill, i, n;

	/* A whole number of patterns, so that chunks continue the pattern. */
	fill = (sizeof(big) / plen) * plen;
	for (i = 0; i < fill; i++)
		big[i] = (uint8_t)pattern[i % plen];
	if (chunk > fill)
		chunk = fill;
	chunk = (chunk / plen) * plen;
	if (chunk == 0)
		chunk = plen;
	while (len > 0) {
		n = len < chunk ? len : chunk;
		umac_update(ctx, big, n);
		len -= n;
	}
}

static void
check_vec(const struct umac_vec *v, size_t taglen, size_t chunk)
{
	struct umac_ctx *ctx = NULL;
	uint8_t want[16], tag[16];
	const char *hex;
	int r;

	hex = taglen == 4 ? v->tag32 : taglen == 8 ? v->tag64 : v->tag128;
	(void)unhex(hex, want, sizeof(want));
	r = umac_init(&ctx, key, sizeof(key), taglen);
	if (!ok(r == 0, "umac_init taglen %zu", taglen))
		return;
	feed(ctx, v->pattern, v->len, chunk);
	memset(tag, 0, sizeof(tag));
	is_int(umac_final(ctx, (const uint8_t *)v->nonce, strlen(v->nonce),
	    tag), 0, "umac_final");
	is_mem(tag, taglen, want, taglen, "UMAC-%zu nonce \"%s\" '%s' x %zu "
	    "bytes (chunks of %zu)", taglen * 8, v->nonce, v->pattern, v->len,
	    chunk);
	umac_free(ctx);
}

static void
test_known_answers(void)
{
	static const size_t taglens[] = { 4, 8, 12, 16 };
	size_t i, t;

	for (i = 0; i < sizeof(rfc_vecs) / sizeof(rfc_vecs[0]); i++)
		for (t = 0; t < 4; t++)
			check_vec(&rfc_vecs[i], taglens[t], 60000);
	/* SSH's sizes (64 and 128) on the boundary vectors. */
	for (i = 0; i < sizeof(more_vecs) / sizeof(more_vecs[0]); i++) {
		check_vec(&more_vecs[i], 8, 60000);
		check_vec(&more_vecs[i], 16, 60000);
	}
}

/* The split of the input into update calls must not matter. */
static void
test_chunking(void)
{
	static const size_t chunks[] = { 1, 3, 15, 1023, 1024, 1025, 2048 };
	size_t i, c;

	for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		for (i = 0; i < sizeof(more_vecs) / sizeof(more_vecs[0]); i++) {
			if (more_vecs[i].len > 4096)
				continue;
			check_vec(&more_vecs[i], 8, chunks[c]);
		}
		check_vec(&rfc_vecs[3], 16, chunks[c]);	/* 'a' * 2^15 */
	}
}

/* One context, many messages: each final resets for the next. */
static void
test_reuse(void)
{
	struct umac_ctx *ctx = NULL;
	uint8_t tag1[8], tag2[8], tag3[8], want[8];

	ok(umac_init(&ctx, key, sizeof(key), 8) == 0, "init for reuse");
	umac_update(ctx, (const uint8_t *)"abc", 3);
	ok(umac_final(ctx, (const uint8_t *)"bcdefghi", 8, tag1) == 0,
	    "first message");
	feed(ctx, "a", 1 << 15, 5000);
	ok(umac_final(ctx, (const uint8_t *)"bcdefghi", 8, tag2) == 0,
	    "second message");
	umac_update(ctx, (const uint8_t *)"abc", 3);
	ok(umac_final(ctx, (const uint8_t *)"bcdefghi", 8, tag3) == 0,
	    "third message");
	(void)unhex(rfc_vecs[6].tag64, want, sizeof(want));
	is_mem(tag1, 8, want, 8, "first tag right");
	(void)unhex(rfc_vecs[3].tag64, want, sizeof(want));
	is_mem(tag2, 8, want, 8, "second tag right after reuse");
	is_mem(tag3, 8, tag1, 8, "third tag equals first (pad cache)");
	/* Nonces differing in the last bit pick the other half of the pad. */
	umac_update(ctx, (const uint8_t *)"abc", 3);
	ok(umac_final(ctx, (const uint8_t *)"bcdefghh", 8, tag3) == 0,
	    "neighbouring nonce");
	ok(memcmp(tag3, tag1, 8) != 0, "neighbouring nonce changes the tag");
	umac_free(ctx);
}

static void
test_arguments(void)
{
	struct umac_ctx *ctx = (struct umac_ctx *)&ctx;
	uint8_t tag[16], nonce[17];

	memset(nonce, 0, sizeof(nonce));
	is_int(umac_init(&ctx, key, 15, 8), FERR_KEY_LENGTH, "15-byte key");
	ok(ctx == NULL, "failed init leaves NULL");
	is_int(umac_init(&ctx, key, 16, 0), FERR_ARGUMENT, "taglen 0");
	is_int(umac_init(&ctx, key, 16, 6), FERR_ARGUMENT, "taglen 6");
	is_int(umac_init(&ctx, key, 16, 20), FERR_ARGUMENT, "taglen 20");
	ok(umac_init(&ctx, key, 16, 16) == 0, "taglen 16");
	is_int(umac_taglen(ctx), 16, "umac_taglen");
	is_int(umac_final(ctx, nonce, 0, tag), FERR_ARGUMENT, "empty nonce");
	is_int(umac_final(ctx, nonce, 17, tag), FERR_ARGUMENT,
	    "17-byte nonce");
	ok(umac_final(ctx, nonce, 16, tag) == 0, "16-byte nonce");
	umac_free(ctx);
	umac_free(NULL);
}

int
main(void)
{
	test_known_answers();
	test_chunking();
	test_reuse();
	test_arguments();
	return tap_done();
}
