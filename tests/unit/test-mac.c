/*
 * Unit tests for the SSH MACs (lib/mac.c).
 *
 * Known answers: HMAC-SHA-256 and HMAC-SHA-512 with keys of the digest
 * length, as SSH keys them, are RFC 4868's AUTH256-1..4 and AUTH512-1..2
 * vectors (RFC 4231's vectors use keys of 4, 20, 25 and 131 bytes, which an
 * SSH MAC cannot take); HMAC-SHA-1 is RFC 2202 test case 1.  SSH's HMAC
 * input is uint32 seqnr || data, so the first four message bytes of each
 * vector become the sequence number.  UMAC's own known answers are in
 * test-umac; here UMAC is checked to take the sequence number as an 8-byte
 * big-endian nonce.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/err.h"
#include "mac.h"
#include "tap.h"
#include "umac.h"

static const char *const all_names[] = {
	"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
	"hmac-sha2-256", "hmac-sha2-512",
	"umac-64-etm@openssh.com", "umac-128-etm@openssh.com",
	"umac-64@openssh.com", "umac-128@openssh.com",
	"hmac-sha1-etm@openssh.com", "hmac-sha1",
};
#define NNAMES	(sizeof(all_names) / sizeof(all_names[0]))

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

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static struct mac_ctx *
make(const char *name, const uint8_t *key)
{
	const struct mac_alg *alg = mac_by_name(name, 1);
	struct mac_ctx *ctx = NULL;

	if (alg == NULL || mac_init(&ctx, alg, key, mac_keylen(alg)) != 0)
		return NULL;
	return ctx;
}

static void
test_table(void)
{
	static const struct {
		const char *name;
		size_t key, tag;
		int etm, legacy;
	} want[] = {
		{ "hmac-sha2-256-etm@openssh.com", 32, 32, 1, 0 },
		{ "hmac-sha2-512-etm@openssh.com", 64, 64, 1, 0 },
		{ "hmac-sha2-256", 32, 32, 0, 0 },
		{ "hmac-sha2-512", 64, 64, 0, 0 },
		{ "umac-64-etm@openssh.com", 16, 8, 1, 0 },
		{ "umac-128-etm@openssh.com", 16, 16, 1, 0 },
		{ "umac-64@openssh.com", 16, 8, 0, 0 },
		{ "umac-128@openssh.com", 16, 16, 0, 0 },
		{ "hmac-sha1-etm@openssh.com", 20, 20, 1, 1 },
		{ "hmac-sha1", 20, 20, 0, 1 },
	};
	static const char *const unknown[] = {
		"none", "hmac-md5", "hmac-sha1-96", "hmac-sha2-256-96",
		"umac-32@openssh.com", "HMAC-SHA2-256", "hmac-sha2-256 ", "",
	};
	const struct mac_alg *alg;
	size_t i;
	char *s;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		alg = mac_by_name(want[i].name, 1);
		if (!ok(alg != NULL, "mac_by_name(\"%s\", 1)", want[i].name))
			continue;
		ok(strcmp(mac_name(alg), want[i].name) == 0, "name");
		is_int(mac_keylen(alg), want[i].key, "%s key length",
		    want[i].name);
		is_int(mac_taglen(alg), want[i].tag, "%s tag length",
		    want[i].name);
		is_int(mac_is_etm(alg), want[i].etm, "%s etm", want[i].name);
		is_int(mac_is_legacy(alg), want[i].legacy, "%s legacy",
		    want[i].name);
		if (want[i].legacy)
			ok(mac_by_name(want[i].name, 0) == NULL,
			    "%s is refused while legacy is off", want[i].name);
		else
			ok(mac_by_name(want[i].name, 0) == alg,
			    "%s is allowed with legacy off", want[i].name);
	}
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		ok(mac_by_name(unknown[i], 1) == NULL, "\"%s\" is rejected",
		    unknown[i]);
	ok(mac_by_name(NULL, 1) == NULL, "NULL name is rejected");

	ok(strcmp(mac_default_list(), "umac-64-etm@openssh.com,"
	    "umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
	    "hmac-sha2-512-etm@openssh.com,umac-64@openssh.com,"
	    "umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512") == 0,
	    "default list: OpenSSH 9.2's without SHA-1");
	s = mac_alg_list(',', 0);
	ok(s != NULL && strstr(s, "sha1") == NULL &&
	    strstr(s, "hmac-sha2-256,") != NULL &&
	    strstr(s, "umac-128@openssh.com") != NULL,
	    "mac_alg_list(',', 0) leaves out the legacy MACs");
	free(s);
	s = mac_alg_list(',', 1);
	ok(s != NULL && strstr(s, "hmac-sha1-etm@openssh.com") != NULL &&
	    strstr(s, ",hmac-sha1") != NULL, "mac_alg_list(',', 1) has them");
	free(s);
}

static void
test_default_list_resolves(void)
{
	char *list = strdup(mac_default_list()), *p, *comma;
	int all = 1, n = 0;

	for (p = list; p != NULL; p = comma) {
		if ((comma = strchr(p, ',')) != NULL)
			*comma++ = '\0';
		n++;
		if (mac_by_name(p, 0) == NULL)
			all = 0;
	}
	ok(all && n == 8, "all %d default MACs resolve with legacy off", n);
	free(list);
}

static void
test_init_errors(void)
{
	const struct mac_alg *alg = mac_by_name("hmac-sha2-256", 0);
	struct mac_ctx *ctx = (struct mac_ctx *)&ctx;
	uint8_t key[64] = { 0 }, tag[64];

	is_int(mac_init(&ctx, NULL, key, 32), FERR_ARGUMENT, "NULL alg");
	ok(ctx == NULL, "failed init leaves *ctxp NULL");
	is_int(mac_init(&ctx, alg, key, 31), FERR_KEY_LENGTH, "31-byte key");
	is_int(mac_init(&ctx, alg, key, 64), FERR_KEY_LENGTH, "64-byte key");
	is_int(mac_init(&ctx, mac_by_name("umac-64@openssh.com", 0), key, 32),
	    FERR_KEY_LENGTH, "UMAC with a 32-byte key");
	ok(mac_init(&ctx, alg, key, 32) == 0, "32-byte key");
	ok(mac_ctx_alg(ctx) == alg, "mac_ctx_alg");
	is_int(mac_compute(ctx, 0, key, 10, tag, 31), FERR_ARGUMENT,
	    "mac_compute into 31 bytes");
	is_int(mac_check(ctx, 0, key, 10, tag, 16), FERR_ARGUMENT,
	    "mac_check with a 16-byte tag");
	mac_free(ctx);
	mac_free(NULL);
}

static void
test_hmac_kat(void)
{
	static const struct {
		const char *name, *key, *data, *tag;
	} v[] = {
		/* RFC 4868 AUTH256-1 .. 4 */
		{ "hmac-sha2-256", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
		    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		    "4869205468657265",
		    "198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696"
		    "a0b68cf7" },
		{ "hmac-sha2-256", "4a6566654a6566654a6566654a6566654a656665"
		    "4a6566654a6566654a656665",
		    "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		    "167f928588c5cc2eef8e3093caa0e87c9ff566a14794aa61648d8162"
		    "1a2a40c6" },
		{ "hmac-sha2-256", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaaaaaaaaaaaaaaaaaaaaaaa",
		    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
		    "dddddddddddddddddddddddddddddddddddddddddddd",
		    "cdcb1220d1ecccea91e53aba3092f962e549fe6ce9ed7fdc43191fbd"
		    "e45c30b0" },
		{ "hmac-sha2-256", "0102030405060708090a0b0c0d0e0f1011121314"
		    "15161718191a1b1c1d1e1f20",
		    "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
		    "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
		    "372efcf9b40b35c2115b1346903d2ef42fced46f0846e7257bb156d3"
		    "d7b30d3f" },
		/* RFC 4868 AUTH512-1, 2 */
		{ "hmac-sha2-512", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
		    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"
		    "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		    "4869205468657265",
		    "637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b3"
		    "3e910fb8ac2878ebd5803f6f0b61dbce5e251ff8789a4722c1be65ae"
		    "a45fd464e89f8f5b" },
		{ "hmac-sha2-512", "4a6566654a6566654a6566654a6566654a656665"
		    "4a6566654a6566654a6566654a6566654a6566654a6566654a656665"
		    "4a6566654a6566654a6566654a656665",
		    "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		    "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb2"
		    "51b154546aa334ae9fb9afc2184932d8695e397bfa0ffb93466cfcce"
		    "aae38c833b7dba38" },
		/* RFC 2202 test case 1 */
		{ "hmac-sha1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		    "4869205468657265",
		    "b617318655057264e28bc0b6fb378c8ef146be00" },
	};
	uint8_t key[64], data[64], want[64], tag[64];
	char etm[64];
	const char *names[2];
	struct mac_ctx *ctx;
	size_t i, j, dlen, tlen;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		(void)unhex(v[i].key, key, sizeof(key));
		dlen = unhex(v[i].data, data, sizeof(data));
		tlen = unhex(v[i].tag, want, sizeof(want));
		snprintf(etm, sizeof(etm), "%s-etm@openssh.com", v[i].name);
		names[0] = v[i].name;
		names[1] = etm;
		for (j = 0; j < 2; j++) {
			if (!ok((ctx = make(names[j], key)) != NULL,
			    "%s context", names[j]))
				continue;
			memset(tag, 0, sizeof(tag));
			ok(mac_compute(ctx, get_be32(data), data + 4, dlen - 4,
			    tag, sizeof(tag)) == 0, "%s compute", names[j]);
			is_mem(tag, tlen, want, tlen, "%s vector %zu",
			    names[j], i);
			is_int(mac_check(ctx, get_be32(data), data + 4,
			    dlen - 4, want, tlen), 0, "%s check vector %zu",
			    names[j], i);
			/* The context restarts cleanly for the next packet. */
			memset(tag, 0, sizeof(tag));
			ok(mac_compute(ctx, get_be32(data), data + 4, dlen - 4,
			    tag, sizeof(tag)) == 0 &&
			    memcmp(tag, want, tlen) == 0,
			    "%s again, same tag", names[j]);
			mac_free(ctx);
		}
	}
}

/* UMAC: the nonce is the sequence number as a big-endian uint64. */
static void
test_umac_nonce(void)
{
	static const char *const names[] = {
		"umac-64@openssh.com", "umac-128-etm@openssh.com",
	};
	static const uint32_t seqs[] = { 0, 1, 2, 0x01020304U, 0xffffffffU };
	uint8_t key[16], data[300], nonce[8], tag[16], want[16];
	struct umac_ctx *u;
	struct mac_ctx *ctx;
	size_t i, j, n, bad;

	memcpy(key, "0123456789abcdef", 16);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	for (i = 0; i < 2; i++) {
		ctx = make(names[i], key);
		n = mac_taglen(mac_by_name(names[i], 0));
		if (!ok(ctx != NULL && umac_init(&u, key, 16, n) == 0,
		    "%s contexts", names[i]))
			continue;
		bad = 0;
		for (j = 0; j < sizeof(seqs) / sizeof(seqs[0]); j++) {
			memset(nonce, 0, 4);
			nonce[4] = (uint8_t)(seqs[j] >> 24);
			nonce[5] = (uint8_t)(seqs[j] >> 16);
			nonce[6] = (uint8_t)(seqs[j] >> 8);
			nonce[7] = (uint8_t)seqs[j];
			umac_update(u, data, sizeof(data));
			if (umac_final(u, nonce, 8, want) != 0 ||
			    mac_compute(ctx, seqs[j], data, sizeof(data), tag,
			    sizeof(tag)) != 0 || memcmp(tag, want, n) != 0)
				bad++;
		}
		is_int(bad, 0, "%s = UMAC over the data with nonce BE64(seqnr)",
		    names[i]);
		umac_free(u);
		mac_free(ctx);
	}
}

/* Every MAC: tampering with data, tag or sequence number is caught. */
static void
test_check(void)
{
	uint8_t key[64], data[100], tag[64], bad[64];
	struct mac_ctx *ctx;
	size_t i, n;
	uint32_t seq;

	for (i = 0; i < 64; i++)
		key[i] = (uint8_t)(0x40 + i);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	for (i = 0; i < NNAMES; i++) {
		if (!ok((ctx = make(all_names[i], key)) != NULL, "%s context",
		    all_names[i]))
			continue;
		n = mac_taglen(mac_ctx_alg(ctx));
		ok(mac_compute(ctx, 10, data, sizeof(data), tag,
		    sizeof(tag)) == 0, "%s compute", all_names[i]);
		is_int(mac_check(ctx, 10, data, sizeof(data), tag, n), 0,
		    "%s check passes", all_names[i]);
		memcpy(bad, tag, n);
		bad[n - 1] ^= 0x01;
		is_int(mac_check(ctx, 10, data, sizeof(data), bad, n),
		    FERR_MAC_INVALID, "%s: flipped tag bit", all_names[i]);
		data[50] ^= 0x80;
		is_int(mac_check(ctx, 10, data, sizeof(data), tag, n),
		    FERR_MAC_INVALID, "%s: flipped data bit", all_names[i]);
		data[50] ^= 0x80;
		/* 10 and 11 share UMAC-64's pad block: the index bit counts. */
		for (seq = 9; seq <= 11; seq += 2)
			is_int(mac_check(ctx, seq, data, sizeof(data), tag, n),
			    FERR_MAC_INVALID, "%s: sequence number %u",
			    all_names[i], seq);
		is_int(mac_check(ctx, 10, data, sizeof(data) - 1, tag, n),
		    FERR_MAC_INVALID, "%s: one byte shorter", all_names[i]);
		is_int(mac_check(ctx, 10, data, sizeof(data), tag, n), 0,
		    "%s: the genuine packet still checks", all_names[i]);
		mac_free(ctx);
	}
}

int
main(void)
{
	test_table();
	test_default_list_resolves();
	test_init_errors();
	test_hmac_kat();
	test_umac_nonce();
	test_check();
	return tap_done();
}
