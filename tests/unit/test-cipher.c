/*
 * Unit tests for the SSH ciphers (lib/cipher.c).
 *
 * Known answers:
 *   chacha20-poly1305@openssh.com: the OpenSSH-construction vector that
 *     aws-lc-rs (and ring before it) publish in their test_openssh test
 *     (64-byte key, sequence number 94, a 20-byte packet); and, for many
 *     keys, sequence numbers and lengths, a computation written here from
 *     PROTOCOL.chacha20poly1305 with raw EVP_chacha20 and EVP_MAC
 *     "POLY1305" calls (explicit block counters, not the streaming the
 *     library uses).
 *   AES-GCM: McGrew-Viega GCM specification test cases 1, 2, 3, 14, 15.
 *   AES-CTR: NIST SP 800-38A F.5.1, F.5.3, F.5.5.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cipher.h"
#include "ferry/err.h"
#include "tap.h"

#define MAXPKT	(40 * 1024)

static const char *const all_names[] = {
	"chacha20-poly1305@openssh.com",
	"aes128-ctr", "aes192-ctr", "aes256-ctr",
	"aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
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

/* A deterministic byte stream for keys and data (xorshift64). */
static uint64_t prng_state = 0x9e3779b97f4a7c15ULL;

static void
prng_fill(uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		prng_state ^= prng_state << 13;
		prng_state ^= prng_state >> 7;
		prng_state ^= prng_state << 17;
		p[i] = (uint8_t)(prng_state >> 32);
	}
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static struct cipher_ctx *
make(const char *name, const uint8_t *key, const uint8_t *iv, int enc)
{
	const struct cipher_alg *alg = cipher_by_name(name);
	struct cipher_ctx *ctx = NULL;

	if (alg == NULL ||
	    cipher_init(&ctx, alg, key, cipher_keylen(alg), iv,
	    cipher_ivlen(alg), enc) != 0)
		return NULL;
	return ctx;
}

static void
test_table(void)
{
	static const struct {
		const char *name;
		size_t block, key, iv, auth;
		int aead;
	} want[] = {
		{ "chacha20-poly1305@openssh.com", 8, 64, 0, 16, 1 },
		{ "aes128-ctr", 16, 16, 16, 0, 0 },
		{ "aes192-ctr", 16, 24, 16, 0, 0 },
		{ "aes256-ctr", 16, 32, 16, 0, 0 },
		{ "aes128-gcm@openssh.com", 16, 16, 12, 16, 1 },
		{ "aes256-gcm@openssh.com", 16, 32, 12, 16, 1 },
	};
	static const char *const unknown[] = {
		"none", "aes128-cbc", "3des-cbc", "AES128-CTR", "aes128-ctr ",
		"chacha20-poly1305", "aes128-gcm",
		"rijndael-cbc@lysator.liu.se",
		"",
	};
	const struct cipher_alg *alg;
	size_t i;
	char *s;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		alg = cipher_by_name(want[i].name);
		if (!ok(alg != NULL, "cipher_by_name(\"%s\")", want[i].name))
			continue;
		ok(strcmp(cipher_name(alg), want[i].name) == 0, "name");
		is_int(cipher_blocksize(alg), want[i].block, "%s block size",
		    want[i].name);
		is_int(cipher_keylen(alg), want[i].key, "%s key length",
		    want[i].name);
		is_int(cipher_ivlen(alg), want[i].iv, "%s IV length",
		    want[i].name);
		is_int(cipher_authlen(alg), want[i].auth, "%s tag length",
		    want[i].name);
		is_int(cipher_is_aead(alg), want[i].aead, "%s is_aead",
		    want[i].name);
	}
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		ok(cipher_by_name(unknown[i]) == NULL,
		    "\"%s\" is rejected", unknown[i]);
	ok(cipher_by_name(NULL) == NULL, "NULL name is rejected");

	ok(strcmp(cipher_default_list(), "chacha20-poly1305@openssh.com,"
	    "aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
	    "aes256-gcm@openssh.com") == 0, "default list");
	s = cipher_alg_list(',', 0);
	ok(s != NULL && strcmp(s, "chacha20-poly1305@openssh.com,aes128-ctr,"
	    "aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
	    "aes256-gcm@openssh.com") == 0, "cipher_alg_list(',', 0)");
	free(s);
	s = cipher_alg_list('\n', 1);
	ok(s != NULL && strcmp(s, "chacha20-poly1305@openssh.com\naes128-ctr\n"
	    "aes192-ctr\naes256-ctr\naes128-gcm@openssh.com\n"
	    "aes256-gcm@openssh.com") == 0,
	    "cipher_alg_list('\\n', 1) has no \"none\" outside fuzzing builds");
	free(s);
}

static void
test_init_errors(void)
{
	const struct cipher_alg *gcm = cipher_by_name("aes128-gcm@openssh.com");
	const struct cipher_alg *cp =
	    cipher_by_name("chacha20-poly1305@openssh.com");
	struct cipher_ctx *ctx = (struct cipher_ctx *)&ctx;
	uint8_t key[64] = { 0 }, iv[16] = { 0 };

	is_int(cipher_init(&ctx, NULL, key, 16, iv, 12, 1), FERR_ARGUMENT,
	    "NULL alg");
	ok(ctx == NULL, "failed init leaves *ctxp NULL");
	is_int(cipher_init(&ctx, gcm, key, 15, iv, 12, 1), FERR_KEY_LENGTH,
	    "short key");
	is_int(cipher_init(&ctx, gcm, key, 32, iv, 12, 1), FERR_KEY_LENGTH,
	    "long key");
	is_int(cipher_init(&ctx, gcm, key, 16, iv, 16, 1), FERR_ARGUMENT,
	    "GCM with a 16-byte IV");
	is_int(cipher_init(&ctx, gcm, key, 16, NULL, 12, 1), FERR_ARGUMENT,
	    "GCM with a NULL IV");
	is_int(cipher_init(&ctx, cp, key, 32, NULL, 0, 1), FERR_KEY_LENGTH,
	    "chacha20-poly1305 with a 32-byte key");
	ok(cipher_init(&ctx, cp, key, 64, NULL, 0, 1) == 0,
	    "chacha20-poly1305 with a 64-byte key and no IV");
	ok(cipher_ctx_alg(ctx) == cp, "cipher_ctx_alg");
	cipher_free(ctx);
	cipher_free(NULL);
}

static void
test_chachapoly_kat(void)
{
	uint8_t key[64], pkt[20 + 16], want[20], tag[16], plain[20];
	struct cipher_ctx *enc, *dec;
	uint32_t plen = 0;

	(void)unhex("247a041f6780baf0de3741aa4436024b6a5169b0eab8a090a291f590"
	    "0bf566a54ac2c64c0f38cab14a143111bc39d1873013f52f2e92062e375c1a53"
	    "78ad9b32", key, sizeof(key));
	(void)unhex("000000100f000000000000000000000000000000", plain,
	    sizeof(plain));
	(void)unhex("c87186a24d89e672f37df98a95d0a0653e9f0fe4", want,
	    sizeof(want));
	(void)unhex("075bc727e855c8d487bb3060c42267cd", tag, sizeof(tag));
	enc = make("chacha20-poly1305@openssh.com", key, NULL, 1);
	dec = make("chacha20-poly1305@openssh.com", key, NULL, 0);
	if (!ok(enc != NULL && dec != NULL, "chacha20-poly1305 contexts"))
		return;
	memcpy(pkt, plain, sizeof(plain));
	ok(cipher_crypt(enc, 94, pkt, pkt, 16, 4, 16) == 0,
	    "chacha20-poly1305 KAT encrypt");
	is_mem(pkt, 20, want, 20, "chacha20-poly1305 KAT ciphertext");
	is_mem(pkt + 20, 16, tag, 16, "chacha20-poly1305 KAT tag");
	ok(cipher_get_length(dec, &plen, 94, pkt, 4) == 0 && plen == 16,
	    "chacha20-poly1305 KAT length decrypts to 16");
	ok(cipher_crypt(dec, 94, pkt, pkt, 16, 4, 16) == 0,
	    "chacha20-poly1305 KAT decrypt");
	is_mem(pkt, 20, plain, 20, "chacha20-poly1305 KAT plaintext");
	cipher_free(enc);
	cipher_free(dec);
}

/*
 * chacha20-poly1305@openssh.com written straight from the spec: K_2 is the
 * first half of the key, K_1 the second; IV = 64-bit LE block counter ||
 * 64-bit BE sequence number.
 */
static int
spec_chacha(const uint8_t *key32, uint64_t counter, uint32_t seqnr,
    const uint8_t *in, uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t iv[16];
	int outl = 0, ok1;
	size_t i;

	for (i = 0; i < 8; i++)
		iv[i] = (uint8_t)(counter >> (8 * i));
	memset(iv + 8, 0, 4);
	put_be32(iv + 12, seqnr);
	ok1 = c != NULL &&
	    EVP_EncryptInit_ex(c, EVP_chacha20(), NULL, key32, iv) == 1 &&
	    (len == 0 || EVP_EncryptUpdate(c, out, &outl, in, (int)len) == 1);
	EVP_CIPHER_CTX_free(c);
	return ok1 ? 0 : -1;
}

static int
spec_chachapoly_seal(const uint8_t key[64], uint32_t seqnr,
    const uint8_t *in, size_t len, uint8_t *out)
{
	static const uint8_t zero[32];
	uint8_t polykey[32];
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
	EVP_MAC_CTX *m = mac == NULL ? NULL : EVP_MAC_CTX_new(mac);
	size_t outl = 0;
	int r = -1;

	if (m == NULL ||
	    spec_chacha(key + 32, 0, seqnr, in, out, 4) != 0 ||
	    spec_chacha(key, 0, seqnr, zero, polykey, 32) != 0 ||
	    spec_chacha(key, 1, seqnr, in + 4, out + 4, len) != 0 ||
	    EVP_MAC_init(m, polykey, 32, NULL) != 1 ||
	    EVP_MAC_update(m, out, 4 + len) != 1 ||
	    EVP_MAC_final(m, out + 4 + len, &outl, 16) != 1 || outl != 16)
		goto out;
	r = 0;
 out:
	EVP_MAC_CTX_free(m);
	EVP_MAC_free(mac);
	return r;
}

static void
test_chachapoly_spec(void)
{
	static const size_t lens[] = { 0, 1, 7, 8, 60, 64, 65, 1000, 4096 };
	static const uint32_t seqs[] = { 0, 1, 3, 0x7fffffffU, 0xffffffffU };
	static uint8_t in[4 + 4096], ours[4 + 4096 + 16], spec[4 + 4096 + 16];
	uint8_t key[64];
	struct cipher_ctx *enc;
	size_t i, j, bad = 0, n = 0;

	prng_fill(key, sizeof(key));
	enc = make("chacha20-poly1305@openssh.com", key, NULL, 1);
	if (!ok(enc != NULL, "context for the spec cross-check"))
		return;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (j = 0; j < sizeof(seqs) / sizeof(seqs[0]); j++) {
			prng_fill(in, 4 + lens[i]);
			n++;
			if (cipher_crypt(enc, seqs[j], ours, in, lens[i], 4,
			    16) != 0 ||
			    spec_chachapoly_seal(key, seqs[j], in, lens[i],
			    spec) != 0 ||
			    memcmp(ours, spec, 4 + lens[i] + 16) != 0) {
				bad++;
				tap_diag("mismatch: len %zu seqnr %u",
				    lens[i], seqs[j]);
			}
		}
	}
	is_int(bad, 0, "chacha20-poly1305 matches the spec computation in "
	    "%zu packets", n);
	cipher_free(enc);
}

static void
test_gcm_kat(void)
{
	static const struct {
		const char *name, *key, *iv, *plain, *ct, *tag;
	} v[] = {
		/* GCM spec test case 1 */
		{ "aes128-gcm@openssh.com", "00000000000000000000000000000000",
		    "000000000000000000000000", "", "",
		    "58e2fccefa7e3061367f1d57a4e7455a" },
		/* test case 2 */
		{ "aes128-gcm@openssh.com", "00000000000000000000000000000000",
		    "000000000000000000000000",
		    "00000000000000000000000000000000",
		    "0388dace60b6a392f328c2b971b2fe78",
		    "ab6e47d42cec13bdf53a67b21257bddf" },
		/* test case 3 */
		{ "aes128-gcm@openssh.com", "feffe9928665731c6d6a8f9467308308",
		    "cafebabefacedbaddecaf888",
		    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d"
		    "8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657"
		    "ba637b391aafd255",
		    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e23"
		    "29aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac97"
		    "3d58e091473f5985",
		    "4d5c2af327cd64a62cf35abd2ba6fab4" },
		/* test case 14 */
		{ "aes256-gcm@openssh.com",
		    "0000000000000000000000000000000000000000000000000000000000"
		    "000000", "000000000000000000000000",
		    "00000000000000000000000000000000",
		    "cea7403d4d606b6e074ec5d3baf39d18",
		    "d0d1c8a799996bf0265b98b5d48ab919" },
		/* test case 15 */
		{ "aes256-gcm@openssh.com",
		    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f94"
		    "67308308", "cafebabefacedbaddecaf888",
		    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d"
		    "8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657"
		    "ba637b391aafd255",
		    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd"
		    "2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0a"
		    "bcc9f662898015ad",
		    "b094dac5d93471bdec1a502270e3cc6c" },
	};
	uint8_t key[32], iv[12], plain[64], ct[64], tag[16], buf[64 + 16];
	struct cipher_ctx *enc, *dec;
	size_t i, plen;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		(void)unhex(v[i].key, key, sizeof(key));
		(void)unhex(v[i].iv, iv, sizeof(iv));
		plen = unhex(v[i].plain, plain, sizeof(plain));
		(void)unhex(v[i].ct, ct, sizeof(ct));
		(void)unhex(v[i].tag, tag, sizeof(tag));
		enc = make(v[i].name, key, iv, 1);
		dec = make(v[i].name, key, iv, 0);
		if (!ok(enc != NULL && dec != NULL, "GCM vector %zu contexts",
		    i))
			continue;
		memcpy(buf, plain, plen);
		ok(cipher_crypt(enc, 0, buf, buf, plen, 0, 16) == 0,
		    "GCM vector %zu encrypt", i);
		is_mem(buf, plen, ct, plen, "GCM vector %zu ciphertext", i);
		is_mem(buf + plen, 16, tag, 16, "GCM vector %zu tag", i);
		ok(cipher_crypt(dec, 12345, buf, buf, plen, 0, 16) == 0,
		    "GCM vector %zu decrypt (the sequence number is unused)",
		    i);
		is_mem(buf, plen, plain, plen, "GCM vector %zu plaintext", i);
		cipher_free(enc);
		cipher_free(dec);
	}
}

/* The 4-byte length is GCM's AAD: check against a plain EVP decryption. */
static void
test_gcm_aad(void)
{
	uint8_t key[16], iv[12], pkt[4 + 64 + 16], out[64];
	struct cipher_ctx *enc;
	EVP_CIPHER_CTX *c;
	int outl, ok1;

	prng_fill(key, sizeof(key));
	prng_fill(iv, sizeof(iv));
	prng_fill(pkt, 4 + 64);
	put_be32(pkt, 64);
	enc = make("aes128-gcm@openssh.com", key, iv, 1);
	ok(enc != NULL && cipher_crypt(enc, 0, pkt, pkt, 64, 4, 16) == 0,
	    "GCM encrypt with the length as AAD");
	ok(pkt[0] == 0 && pkt[1] == 0 && pkt[2] == 0 && pkt[3] == 64,
	    "GCM leaves the length in the clear");
	c = EVP_CIPHER_CTX_new();
	ok1 = c != NULL &&
	    EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, iv) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, pkt + 68) == 1 &&
	    EVP_DecryptUpdate(c, NULL, &outl, pkt, 4) == 1 &&
	    EVP_DecryptUpdate(c, out, &outl, pkt + 4, 64) == 1 &&
	    EVP_DecryptFinal_ex(c, out + outl, &outl) == 1;
	ok(ok1, "plain EVP AES-GCM with the length as AAD verifies the tag");
	EVP_CIPHER_CTX_free(c);
	cipher_free(enc);
}

static void
test_ctr_kat(void)
{
	static const struct {
		const char *name, *key, *ct;
	} v[] = {
		{ "aes128-ctr", "2b7e151628aed2a6abf7158809cf4f3c",
		    "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187b"
		    "b9fffdff5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1"
		    "792170a0f3009cee" },
		{ "aes192-ctr",
		    "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
		    "1abc932417521ca24f2b0459fe7e6e0b090339ec0aa6faefd5ccc2c6"
		    "f4ce8e941e36b26bd1ebc670d1bd1d665620abf74f78a7f6d2980958"
		    "5a97daec58c6b050" },
		{ "aes256-ctr",
		    "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a3"
		    "0914dff4",
		    "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990"
		    "cacaf5c52b0930daa23de94ce87017ba2d84988ddfc9c58db67aada6"
		    "13c2dd08457941a6" },
	};
	static const char *plain_hex =
	    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
	    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
	uint8_t key[32], iv[16], plain[64], ct[64], buf[4 + 64];
	struct cipher_ctx *enc, *dec;
	size_t i;

	(void)unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", iv, sizeof(iv));
	(void)unhex(plain_hex, plain, sizeof(plain));
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		(void)unhex(v[i].key, key, sizeof(key));
		(void)unhex(v[i].ct, ct, sizeof(ct));
		enc = make(v[i].name, key, iv, 1);
		dec = make(v[i].name, key, iv, 0);
		if (!ok(enc != NULL && dec != NULL, "%s contexts", v[i].name))
			continue;
		/* Two packets of 32 bytes: the key stream continues. */
		memcpy(buf, "LLLL", 4);
		memcpy(buf + 4, plain, 32);
		ok(cipher_crypt(enc, 0, buf, buf, 32, 4, 0) == 0 &&
		    memcmp(buf, "LLLL", 4) == 0, "%s keeps the AAD", v[i].name);
		is_mem(buf + 4, 32, ct, 32, "%s first packet", v[i].name);
		ok(cipher_crypt(dec, 0, buf, buf, 32, 4, 0) == 0,
		    "%s decrypt first", v[i].name);
		is_mem(buf + 4, 32, plain, 32, "%s first plaintext",
		    v[i].name);
		ok(cipher_crypt(enc, 1, buf, plain + 32, 32, 0, 0) == 0,
		    "%s second packet out of place", v[i].name);
		is_mem(buf, 32, ct + 32, 32, "%s second packet", v[i].name);
		ok(cipher_crypt(dec, 1, buf, buf, 32, 0, 0) == 0,
		    "%s decrypt second", v[i].name);
		is_mem(buf, 32, plain + 32, 32, "%s second plaintext",
		    v[i].name);
		cipher_free(enc);
		cipher_free(dec);
	}
}

/*
 * Every cipher, in place and out of place, over many lengths and packets
 * in a row: what is decrypted is what was encrypted.
 */
static void
test_round_trips(void)
{
	static const size_t lens[] = { 16, 32, 48, 256, 1024, 4096, 32768 };
	static uint8_t plain[4 + MAXPKT], pkt[4 + MAXPKT + 16],
	    out[4 + MAXPKT + 16];
	uint8_t key[64], iv[16];
	struct cipher_ctx *enc, *dec;
	size_t n, i, authlen;
	uint32_t seq;
	int inplace, good, differs;

	for (n = 0; n < NNAMES; n++) {
		for (inplace = 0; inplace <= 1; inplace++) {
			prng_fill(key, sizeof(key));
			prng_fill(iv, sizeof(iv));
			enc = make(all_names[n], key, iv, 1);
			dec = make(all_names[n], key, iv, 0);
			if (!ok(enc != NULL && dec != NULL, "%s contexts",
			    all_names[n]))
				continue;
			authlen = cipher_authlen(cipher_ctx_alg(enc));
			good = differs = 1;
			seq = 7;
			for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
				prng_fill(plain, 4 + lens[i]);
				memcpy(pkt, plain, 4 + lens[i]);
				if (cipher_crypt(enc, seq, inplace ? pkt : out,
				    pkt, lens[i], 4, authlen) != 0) {
					good = 0;
					break;
				}
				if (!inplace)
					memcpy(pkt, out, 4 + lens[i] + authlen);
				if (memcmp(pkt + 4, plain + 4, lens[i]) == 0)
					differs = 0;
				memset(out, 0xa5, sizeof(out));
				if (cipher_crypt(dec, seq, inplace ? pkt : out,
				    pkt, lens[i], 4, authlen) != 0 ||
				    memcmp(inplace ? pkt : out, plain,
				    4 + lens[i]) != 0) {
					good = 0;
					break;
				}
				seq++;
			}
			ok(good, "%s %s: %zu packets round-trip", all_names[n],
			    inplace ? "in place" : "out of place",
			    sizeof(lens) / sizeof(lens[0]));
			ok(differs, "%s %s: ciphertext differs from plaintext",
			    all_names[n],
			    inplace ? "in place" : "out of place");
			cipher_free(enc);
			cipher_free(dec);
		}
	}
}

/* chacha20-poly1305 is a stream cipher: any payload length works. */
static void
test_chachapoly_odd_lengths(void)
{
	static const size_t lens[] = { 0, 1, 5, 63, 64, 65, 127, 129 };
	uint8_t key[64], plain[4 + 129], pkt[4 + 129 + 16];
	struct cipher_ctx *enc, *dec;
	size_t i, good = 0;

	prng_fill(key, sizeof(key));
	enc = make("chacha20-poly1305@openssh.com", key, NULL, 1);
	dec = make("chacha20-poly1305@openssh.com", key, NULL, 0);
	for (i = 0; enc != NULL && dec != NULL &&
	    i < sizeof(lens) / sizeof(lens[0]); i++) {
		prng_fill(plain, 4 + lens[i]);
		memcpy(pkt, plain, 4 + lens[i]);
		if (cipher_crypt(enc, (uint32_t)i, pkt, pkt, lens[i], 4,
		    16) == 0 &&
		    cipher_crypt(dec, (uint32_t)i, pkt, pkt, lens[i], 4,
		    16) == 0 &&
		    memcmp(pkt, plain, 4 + lens[i]) == 0)
			good++;
	}
	is_int(good, sizeof(lens) / sizeof(lens[0]),
	    "chacha20-poly1305 round-trips odd payload lengths");
	cipher_free(enc);
	cipher_free(dec);
}

/*
 * Tampering with the length, the payload or the tag of an AEAD packet
 * gives FERR_MAC_INVALID and leaves the output exactly as it was; the
 * untouched packet still decrypts afterwards.
 */
static void
test_tamper(void)
{
	static const char *const aeads[] = {
		"chacha20-poly1305@openssh.com",
		"aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
	};
	static const char *const where[] = { "length", "payload", "tag" };
	enum { LEN = 256 };
	uint8_t key[64], iv[16], plain[4 + LEN], sealed[4 + LEN + 16],
	    pkt[4 + LEN + 16], out[4 + LEN + 16], before[4 + LEN + 16];
	const size_t off[3] = { 2, 4 + 100, 4 + LEN + 5 };
	struct cipher_ctx *enc, *dec;
	size_t a, w;
	int inplace, r;

	for (a = 0; a < 3; a++) {
		prng_fill(key, sizeof(key));
		prng_fill(iv, sizeof(iv));
		prng_fill(plain, sizeof(plain));
		enc = make(aeads[a], key, iv, 1);
		dec = make(aeads[a], key, iv, 0);
		if (!ok(enc != NULL && dec != NULL &&
		    cipher_crypt(enc, 42, sealed, plain, LEN, 4, 16) == 0,
		    "%s sealed a packet", aeads[a]))
			continue;
		for (w = 0; w < 3; w++) {
			for (inplace = 0; inplace <= 1; inplace++) {
				memcpy(pkt, sealed, sizeof(pkt));
				pkt[off[w]] ^= 0x10;
				if (inplace) {
					memcpy(before, pkt, sizeof(pkt));
					r = cipher_crypt(dec, 42, pkt, pkt,
					    LEN, 4, 16);
					is_int(r, FERR_MAC_INVALID,
					    "%s flipped %s bit, in place",
					    aeads[a], where[w]);
					is_mem(pkt, sizeof(pkt), before,
					    sizeof(before), "%s in place: "
					    "buffer untouched", aeads[a]);
				} else {
					memset(out, 0xa5, sizeof(out));
					memcpy(before, out, sizeof(out));
					r = cipher_crypt(dec, 42, out, pkt,
					    LEN, 4, 16);
					is_int(r, FERR_MAC_INVALID,
					    "%s flipped %s bit, out of place",
					    aeads[a], where[w]);
					is_mem(out, sizeof(out), before,
					    sizeof(before), "%s out of place: "
					    "output untouched", aeads[a]);
				}
			}
		}
		/* The failures changed nothing: the real packet decrypts. */
		memcpy(pkt, sealed, sizeof(pkt));
		ok(cipher_crypt(dec, 42, pkt, pkt, LEN, 4, 16) == 0 &&
		    memcmp(pkt, plain, 4 + LEN) == 0,
		    "%s: the genuine packet decrypts after the failures",
		    aeads[a]);
		cipher_free(enc);
		cipher_free(dec);
	}
}

static void
test_chachapoly_seqnr(void)
{
	uint8_t key[64], plain[4 + 64], a[4 + 64 + 16], b[4 + 64 + 16],
	    out[4 + 64 + 16];
	struct cipher_ctx *enc, *dec;
	uint32_t plen = 0;

	prng_fill(key, sizeof(key));
	prng_fill(plain, sizeof(plain));
	put_be32(plain, 64);
	enc = make("chacha20-poly1305@openssh.com", key, NULL, 1);
	dec = make("chacha20-poly1305@openssh.com", key, NULL, 0);
	if (!ok(enc != NULL && dec != NULL, "contexts for seqnr tests"))
		return;
	ok(cipher_crypt(enc, 5, a, plain, 64, 4, 16) == 0 &&
	    cipher_crypt(enc, 6, b, plain, 64, 4, 16) == 0,
	    "same packet sealed with sequence numbers 5 and 6");
	ok(memcmp(a, b, 4) != 0 && memcmp(a + 4, b + 4, 64) != 0 &&
	    memcmp(a + 68, b + 68, 16) != 0,
	    "length, payload and tag all depend on the sequence number");
	ok(memcmp(a, plain, 4) != 0, "the length is encrypted");
	is_int(cipher_crypt(dec, 6, out, a, 64, 4, 16), FERR_MAC_INVALID,
	    "decrypting with the wrong sequence number fails");
	ok(cipher_get_length(dec, &plen, 5, a, 4) == 0 && plen == 64,
	    "the length decrypts with the right sequence number");
	ok(cipher_get_length(dec, &plen, 6, a, 4) == 0 && plen != 64,
	    "and not with the wrong one");
	ok(cipher_crypt(dec, 5, out, a, 64, 4, 16) == 0 &&
	    memcmp(out, plain, sizeof(plain)) == 0,
	    "the right sequence number decrypts");
	cipher_free(enc);
	cipher_free(dec);
}

static void
test_gcm_iv(void)
{
	uint8_t key[16], iv[12], plain[4 + 32], p1[4 + 32 + 16],
	    p2[4 + 32 + 16], out[4 + 32 + 16], before[sizeof(out)];
	struct cipher_ctx *enc, *dec;
	EVP_CIPHER_CTX *c;
	int outl, ok1;

	prng_fill(key, sizeof(key));
	prng_fill(iv, sizeof(iv));
	prng_fill(plain, sizeof(plain));
	enc = make("aes128-gcm@openssh.com", key, iv, 1);
	dec = make("aes128-gcm@openssh.com", key, iv, 0);
	if (!ok(enc != NULL && dec != NULL, "GCM contexts for IV tests"))
		return;
	ok(cipher_crypt(enc, 0, p1, plain, 32, 4, 16) == 0 &&
	    cipher_crypt(enc, 0, p2, plain, 32, 4, 16) == 0,
	    "two packets with the same plaintext and sequence number");
	ok(memcmp(p1 + 4, p2 + 4, 32 + 16) != 0,
	    "the IV moved on between them");
	memset(out, 0x5a, sizeof(out));
	memcpy(before, out, sizeof(out));
	is_int(cipher_crypt(dec, 1, out, p2, 32, 4, 16), FERR_MAC_INVALID,
	    "packet 2 does not decrypt with packet 1's IV");
	is_mem(out, sizeof(out), before, sizeof(before), "output untouched");
	ok(cipher_crypt(dec, 0, out, p1, 32, 4, 16) == 0 &&
	    memcmp(out, plain, sizeof(plain)) == 0, "packet 1 decrypts");
	ok(cipher_crypt(dec, 1, out, p2, 32, 4, 16) == 0 &&
	    memcmp(out, plain, sizeof(plain)) == 0, "then packet 2 decrypts");
	is_int(cipher_crypt(dec, 1, out, p2, 32, 4, 16), FERR_MAC_INVALID,
	    "a replayed packet 2 does not");
	cipher_free(enc);
	cipher_free(dec);

	/* The invocation counter wraps within its 64 bits. */
	memset(iv + 4, 0xff, 8);
	enc = make("aes128-gcm@openssh.com", key, iv, 1);
	ok(enc != NULL && cipher_crypt(enc, 0, p1, plain, 32, 4, 16) == 0 &&
	    cipher_crypt(enc, 0, p2, plain, 32, 4, 16) == 0,
	    "two packets from an invocation counter of 2^64 - 1");
	memset(iv + 4, 0, 8);	/* the fixed field stays, the counter wraps */
	c = EVP_CIPHER_CTX_new();
	ok1 = c != NULL &&
	    EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, key, iv) == 1 &&
	    EVP_EncryptUpdate(c, NULL, &outl, plain, 4) == 1 &&
	    EVP_EncryptUpdate(c, out + 4, &outl, plain + 4, 32) == 1 &&
	    EVP_EncryptFinal_ex(c, out, &outl) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + 36) == 1;
	ok(ok1 && memcmp(out + 4, p2 + 4, 32 + 16) == 0,
	    "packet 2 used the IV with the counter wrapped to 0");
	EVP_CIPHER_CTX_free(c);
	cipher_free(enc);
}

static void
test_crypt_errors(void)
{
	uint8_t key[64] = { 0 }, iv[16] = { 0 }, buf[4 + 64 + 16] = { 0 };
	struct cipher_ctx *gcm = make("aes128-gcm@openssh.com", key, iv, 1);
	struct cipher_ctx *ctr = make("aes128-ctr", key, iv, 1);
	struct cipher_ctx *cp = make("chacha20-poly1305@openssh.com", key,
	    NULL, 1);
	uint32_t plen = 1;

	if (!ok(gcm != NULL && ctr != NULL && cp != NULL, "error contexts"))
		return;
	is_int(cipher_crypt(gcm, 0, buf, buf, 64, 4, 0), FERR_ARGUMENT,
	    "GCM with authlen 0");
	is_int(cipher_crypt(gcm, 0, buf, buf, 63, 4, 16), FERR_ARGUMENT,
	    "GCM with a partial block");
	is_int(cipher_crypt(ctr, 0, buf, buf, 64, 4, 16), FERR_ARGUMENT,
	    "CTR with a tag");
	is_int(cipher_crypt(ctr, 0, buf, buf, 20, 0, 0), FERR_ARGUMENT,
	    "CTR with a partial block");
	is_int(cipher_crypt(cp, 0, buf, buf, 64, 0, 16), FERR_ARGUMENT,
	    "chacha20-poly1305 without the length");
	is_int(cipher_crypt(cp, 0, buf, buf, 64, 4, 8), FERR_ARGUMENT,
	    "chacha20-poly1305 with a short tag");
	is_int(cipher_get_length(cp, &plen, 0, buf, 3), FERR_INCOMPLETE,
	    "cipher_get_length with 3 bytes");
	put_be32(buf, 0x01020304);
	ok(cipher_get_length(ctr, &plen, 0, buf, 4) == 0 &&
	    plen == 0x01020304, "cipher_get_length reads a clear length");
	ok(cipher_get_length(gcm, &plen, 0, buf, 4) == 0 &&
	    plen == 0x01020304, "GCM's length is clear");
	cipher_free(gcm);
	cipher_free(ctr);
	cipher_free(cp);
}

int
main(void)
{
	test_table();
	test_init_errors();
	test_chachapoly_kat();
	test_chachapoly_spec();
	test_gcm_kat();
	test_gcm_aad();
	test_ctr_kat();
	test_round_trips();
	test_chachapoly_odd_lengths();
	test_tamper();
	test_chachapoly_seqnr();
	test_gcm_iv();
	test_crypt_errors();
	return tap_done();
}
