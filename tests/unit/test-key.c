/*
 * Unit tests for keys: the type table, public key blobs and lines,
 * strict blob validation, signatures, fingerprints and randomart.
 *
 * Fixtures in tests/unit/keys were made once with OpenSSH 9.2's
 * ssh-keygen: NAME.pub, and the output of "ssh-keygen -l [-v] [-E md5]"
 * on it in NAME.fp-sha256, NAME.fp-md5, NAME.lv-sha256, NAME.lv-md5.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "tap.h"

static const char *const fixtures[] = {
	"ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa",
};
#define NFIXTURES	(sizeof(fixtures) / sizeof(fixtures[0]))

/* The contents of tests/unit/keys/NAME as a C string; aborts if absent. */
static char *
fixture(const char *name)
{
	char path[4096];
	const char *top = getenv("top_srcdir");
	struct buf *b;
	char *s;
	int r;

	snprintf(path, sizeof(path), "%s/tests/unit/keys/%s",
	    top != NULL ? top : ".", name);
	if ((r = key_read_file(path, 0, &b)) != 0) {
		printf("Bail out! cannot read %s: %s\n", path, err_str(r));
		exit(1);
	}
	s = buf_dup_string(b);
	buf_free(b);
	if (s == NULL)
		abort();
	return s;
}

static char *
fixturef(const char *name, const char *suffix)
{
	char n[256];

	snprintf(n, sizeof(n), "%s%s", name, suffix);
	return fixture(n);
}

static struct key *
pubkey(const char *name)
{
	struct key *k = NULL;
	char *line = fixturef(name, ".pub");

	if (key_parse_public_line(line, &k) != 0)
		abort();
	free(line);
	return k;
}

/* Strip one trailing newline in place. */
static char *
chomp(char *s)
{
	size_t len = strlen(s);

	if (len > 0 && s[len - 1] == '\n')
		s[len - 1] = '\0';
	return s;
}

static void
test_types(void)
{
	is_int(key_type_from_name("ssh-ed25519"), KEY_ED25519, "ed25519 name");
	is_int(key_type_from_name("ecdsa-sha2-nistp384"), KEY_ECDSA_P384,
	    "nistp384 name");
	is_int(key_type_from_name("ssh-rsa"), KEY_RSA, "rsa name");
	is_int(key_type_from_name("ssh-dss"), KEY_UNSPEC, "dsa is unknown");
	is_int(key_type_from_name("ssh-rsa-cert-v01@openssh.com"), KEY_UNSPEC,
	    "certificates are not plain key types");
	is_int(key_type_from_name(NULL), KEY_UNSPEC, "NULL name");
	ok(strcmp(key_type_name(KEY_ECDSA_P521), "ecdsa-sha2-nistp521") == 0,
	    "type name");
	ok(strcmp(key_type_short(KEY_ECDSA_P256), "ECDSA") == 0,
	    "short name");
	ok(strcmp(key_type_short(KEY_UNSPEC), "unknown") == 0,
	    "short name of nothing");
}

/* Lines, blobs, fingerprints and pictures of the ssh-keygen keys. */
static void
test_fixture(const char *name)
{
	struct key *k = NULL, *k2 = NULL;
	struct buf *blob, *line;
	char *want, *fp, *art, *s, *p, wantfp[256];
	unsigned int bits;
	size_t i, len;
	int r;

	want = chomp(fixturef(name, ".pub"));
	is_int(key_parse_public_line(want, &k), 0, "%s: parse .pub", name);
	if (k == NULL)
		return;
	ok(!key_is_private(k), "%s: public only", name);
	blob = buf_new();
	line = buf_new();
	is_int(key_to_blob(k, blob), 0, "%s: to blob", name);
	is_int(key_format_public_line(k, line), 0, "%s: format line", name);
	s = buf_dup_string(line);
	ok(s != NULL && strcmp(s, want) == 0, "%s: line round trip", name);
	free(s);
	is_int(key_from_blob_mem(buf_ptr(blob), buf_len(blob), &k2), 0,
	    "%s: blob parses", name);
	ok(key_equal_public(k, k2), "%s: blob round trip is equal", name);
	key_free(k2);
	k2 = NULL;

	/* Every truncation fails cleanly; a trailing byte is refused. */
	len = buf_len(blob);
	for (i = 0, r = 0; i < len; i++)
		if (key_from_blob_mem(buf_ptr(blob), i, &k2) == 0 ||
		    k2 != NULL)
			r++;
	is_int(r, 0, "%s: all %zu truncations refused", name, len);
	if (buf_put_u8(blob, 0) != 0)
		abort();
	is_int(key_from_blob_mem(buf_ptr(blob), buf_len(blob), &k2),
	    FERR_TRAILING_DATA, "%s: trailing byte refused", name);
	ok(k2 == NULL, "%s: no key on failure", name);

	/* ssh-keygen -l and -lv output. */
	s = chomp(fixturef(name, ".fp-sha256"));
	is_int(key_fingerprint(k, KEY_FP_SHA256, &fp), 0, "%s: sha256 fp",
	    name);
	bits = key_bits(k);
	snprintf(wantfp, sizeof(wantfp), "%u %s %s (%s)", bits, fp,
	    key_comment(k), key_type_short(key_get_type(k)));
	ok(strcmp(s, wantfp) == 0, "%s: -l line matches ssh-keygen: %s", name,
	    wantfp);
	free(s);
	free(fp);
	s = chomp(fixturef(name, ".fp-md5"));
	is_int(key_fingerprint(k, KEY_FP_MD5, &fp), 0, "%s: md5 fp", name);
	snprintf(wantfp, sizeof(wantfp), "%u %s %s (%s)", bits, fp,
	    key_comment(k), key_type_short(key_get_type(k)));
	ok(strcmp(s, wantfp) == 0, "%s: -l -E md5 matches ssh-keygen: %s",
	    name, wantfp);
	free(s);
	free(fp);
	s = chomp(fixturef(name, ".lv-sha256"));
	p = strchr(s, '\n');
	is_int(key_randomart(k, KEY_FP_SHA256, &art), 0, "%s: randomart",
	    name);
	ok(p != NULL && strcmp(p + 1, art) == 0,
	    "%s: sha256 randomart identical to ssh-keygen -lv", name);
	free(s);
	free(art);
	s = chomp(fixturef(name, ".lv-md5"));
	p = strchr(s, '\n');
	is_int(key_randomart(k, KEY_FP_MD5, &art), 0, "%s: md5 randomart",
	    name);
	ok(p != NULL && strcmp(p + 1, art) == 0,
	    "%s: md5 randomart identical to ssh-keygen -lv -E md5", name);
	free(s);
	free(art);

	free(want);
	buf_free(blob);
	buf_free(line);
	key_free(k);
}

/* Build a blob from parts: string type, then raw pre-encoded bytes. */
static int
parse_built(const char *type, const void *rest, size_t restlen)
{
	struct buf *b = buf_new();
	struct key *k = NULL;
	int r;

	if (buf_put_cstring(b, type) != 0 || buf_put(b, rest, restlen) != 0)
		abort();
	r = key_from_blob(b, &k);
	key_free(k);
	buf_free(b);
	return r;
}

static void
test_bad_blobs(void)
{
	struct key *k = pubkey("ecdsa256"), *rk = pubkey("rsa");
	struct buf *blob = buf_new(), *b = buf_new(), *mod;
	const uint8_t *q;
	size_t qlen;
	uint8_t pt[65], zero32[32], e3[] = { 3 };
	uint8_t n1000[126];
	int r;

	/* Take the nistp256 blob apart. */
	if (key_to_blob(k, blob) != 0 || buf_get_string_direct(blob, NULL,
	    NULL) != 0 || buf_get_string_direct(blob, NULL, NULL) != 0 ||
	    buf_get_string_direct(blob, &q, &qlen) != 0 || qlen != 65)
		abort();
	memcpy(pt, q, sizeof(pt));

	/* Curve name must match the type. */
	if (buf_put_cstring(b, "nistp384") != 0 ||
	    buf_put_string(b, pt, sizeof(pt)) != 0)
		abort();
	is_int(parse_built("ecdsa-sha2-nistp256", buf_ptr(b), buf_len(b)),
	    FERR_KEY_TYPE_MISMATCH, "ecdsa: wrong curve name refused");
	is_int(parse_built("ecdsa-sha2-nistp384", buf_ptr(b), buf_len(b)),
	    FERR_KEY_INVALID, "ecdsa: nistp256 point as nistp384 refused");
	buf_reset(b);
	pt[64] ^= 1;
	if (buf_put_cstring(b, "nistp256") != 0 ||
	    buf_put_string(b, pt, sizeof(pt)) != 0)
		abort();
	is_int(parse_built("ecdsa-sha2-nistp256", buf_ptr(b), buf_len(b)),
	    FERR_KEY_INVALID, "ecdsa: point off the curve refused");
	pt[64] ^= 1;
	buf_reset(b);
	pt[0] = 0x02 | (pt[64] & 1);
	if (buf_put_cstring(b, "nistp256") != 0 ||
	    buf_put_string(b, pt, 33) != 0)
		abort();
	is_int(parse_built("ecdsa-sha2-nistp256", buf_ptr(b), buf_len(b)),
	    FERR_KEY_INVALID, "ecdsa: compressed point refused");
	buf_reset(b);
	if (buf_put_cstring(b, "nistp256") != 0 || buf_put_string(b,
	    (const uint8_t[]){ 0 }, 1) != 0)
		abort();
	is_int(parse_built("ecdsa-sha2-nistp256", buf_ptr(b), buf_len(b)),
	    FERR_KEY_INVALID, "ecdsa: point at infinity refused");

	/* Ed25519 keys are exactly 32 bytes. */
	memset(zero32, 0x11, sizeof(zero32));
	buf_reset(b);
	if (buf_put_string(b, zero32, 31) != 0)
		abort();
	is_int(parse_built("ssh-ed25519", buf_ptr(b), buf_len(b)),
	    FERR_KEY_INVALID, "ed25519: 31-byte key refused");
	buf_reset(b);
	if (buf_put_string(b, zero32, 32) != 0 || buf_put_u8(b, 0) != 0 ||
	    buf_put_u8(b, 0) != 0 || buf_put_u8(b, 0) != 0)
		abort();
	is_int(parse_built("ssh-ed25519", buf_ptr(b), buf_len(b)),
	    FERR_TRAILING_DATA, "ed25519: trailing bytes refused");

	/* RSA: e odd and >= 3, modulus >= 1024 bits. */
	buf_reset(blob);
	if (key_to_blob(rk, blob) != 0 ||
	    buf_get_string_direct(blob, NULL, NULL) != 0 ||
	    buf_get_string_direct(blob, NULL, NULL) != 0)
		abort();
	mod = buf_fromb(blob);	/* the modulus mpint */
	buf_reset(b);
	if (buf_put_string(b, (const uint8_t[]){ 4 }, 1) != 0 ||
	    buf_putb(b, mod) != 0)
		abort();
	is_int(parse_built("ssh-rsa", buf_ptr(b), buf_len(b)),
	    FERR_KEY_INVALID, "rsa: even exponent refused");
	buf_reset(b);
	if (buf_put_string(b, (const uint8_t[]){ 1 }, 1) != 0 ||
	    buf_putb(b, mod) != 0)
		abort();
	is_int(parse_built("ssh-rsa", buf_ptr(b), buf_len(b)),
	    FERR_KEY_INVALID, "rsa: exponent 1 refused");
	buf_reset(b);
	if (buf_put_string(b, (const uint8_t[]){ 0xff }, 1) != 0 ||
	    buf_putb(b, mod) != 0)
		abort();
	r = parse_built("ssh-rsa", buf_ptr(b), buf_len(b));
	ok(r == FERR_MPINT_NEGATIVE || r == FERR_KEY_INVALID,
	    "rsa: negative exponent refused (%d)", r);
	memset(n1000, 0x5b, sizeof(n1000));
	n1000[sizeof(n1000) - 1] |= 1;
	buf_reset(b);
	if (buf_put_string(b, e3, 1) != 0 ||
	    buf_put_mpint_bytes(b, n1000, sizeof(n1000)) != 0)
		abort();
	is_int(parse_built("ssh-rsa", buf_ptr(b), buf_len(b)),
	    FERR_KEY_LENGTH, "rsa: 1007-bit modulus refused");
	buf_reset(b);
	if (buf_put_string(b, e3, 1) != 0)
		abort();
	is_int(parse_built("ssh-rsa", buf_ptr(b), buf_len(b)),
	    FERR_INCOMPLETE, "rsa: missing modulus");

	is_int(parse_built("ssh-dss", "", 0), FERR_KEY_TYPE_UNKNOWN,
	    "unknown type refused");
	buf_free(mod);
	buf_free(b);
	buf_free(blob);
	key_free(k);
	key_free(rk);
}

static void
test_lines(void)
{
	struct key *k = NULL;
	char *line = chomp(fixture("ed25519.pub")), *p, buf2[1024];
	const char *b64;

	b64 = strchr(line, ' ') + 1;
	p = strchr(b64, ' ');
	*p = '\0';
	snprintf(buf2, sizeof(buf2), "ssh-ed25519 %s", b64);
	is_int(key_parse_public_line(buf2, &k), 0, "line without comment");
	ok(k != NULL && strcmp(key_comment(k), "") == 0, "no comment kept");
	key_free(k);
	snprintf(buf2, sizeof(buf2), " \tssh-ed25519 %s  two words \r\n", b64);
	is_int(key_parse_public_line(buf2, &k), 0, "spaces and CRLF");
	ok(k != NULL && strcmp(key_comment(k), "two words") == 0,
	    "comment trimmed, inner space kept");
	key_free(k);
	snprintf(buf2, sizeof(buf2), "ssh-rsa %s", b64);
	is_int(key_parse_public_line(buf2, &k), FERR_KEY_TYPE_MISMATCH,
	    "type word must match the blob");
	snprintf(buf2, sizeof(buf2), "ssh-ed25519 %s!", b64);
	is_int(key_parse_public_line(buf2, &k), FERR_FORMAT, "bad base64");
	is_int(key_parse_public_line("ssh-ed25519", &k), FERR_FORMAT,
	    "no blob");
	is_int(key_parse_public_line("", &k), FERR_FORMAT, "empty line");
	snprintf(buf2, sizeof(buf2), "ssh-ed25519 %s a\nssh-ed25519 %s b",
	    b64, b64);
	is_int(key_parse_public_line(buf2, &k), FERR_FORMAT,
	    "two lines refused");
	ok(k == NULL, "no key after failures");
	free(line);
}

static void
test_sign_type(enum key_type type, unsigned int bits)
{
	static const uint8_t data[] = "session identifier and request";
	struct key *k = NULL, *other = NULL, *pub = NULL;
	struct buf *sig = buf_new(), *view;
	const char *name = key_type_name(type);
	const char *alg = type == KEY_RSA ? "rsa-sha2-512" : name;
	uint8_t *copy;
	size_t i, len, fails;
	char *salg = NULL;

	is_int(key_generate(type, bits, &k), 0, "%s: generate", name);
	is_int(key_generate(type, bits, &other), 0, "%s: generate another",
	    name);
	if (k == NULL || other == NULL)
		goto out;
	ok(key_is_private(k) && !key_equal_public(k, other),
	    "%s: distinct private keys", name);
	if (type != KEY_RSA)
		is_int(key_bits(k), type == KEY_ECDSA_P521 ? 521 :
		    type == KEY_ECDSA_P384 ? 384 : 256, "%s: bits", name);
	else
		is_int(key_bits(k), bits, "%s: bits", name);
	is_int(key_demote(k, &pub), 0, "%s: demote", name);
	ok(pub != NULL && !key_is_private(pub) && key_equal_public(k, pub),
	    "%s: demoted key is the public half", name);
	is_int(key_sign(pub, NULL, data, sizeof(data), 0, sig),
	    FERR_KEY_TYPE_MISMATCH, "%s: a public key cannot sign", name);
	is_int(key_sign(k, NULL, data, sizeof(data), 0, sig), 0, "%s: sign",
	    name);
	view = buf_fromb(sig);
	if (buf_get_cstring(view, &salg, NULL) == 0)
		ok(strcmp(salg, alg) == 0, "%s: default algorithm %s", name,
		    salg);
	free(salg);
	buf_free(view);
	is_int(key_verify(pub, buf_ptr(sig), buf_len(sig), data, sizeof(data),
	    NULL, 0), 0, "%s: verifies", name);
	is_int(key_verify(pub, buf_ptr(sig), buf_len(sig), data, sizeof(data),
	    alg, 0), 0, "%s: verifies with the expected algorithm", name);
	is_int(key_verify(pub, buf_ptr(sig), buf_len(sig), data,
	    sizeof(data) - 1, NULL, 0), FERR_SIGNATURE_INVALID,
	    "%s: other data refused", name);
	is_int(key_verify(other, buf_ptr(sig), buf_len(sig), data,
	    sizeof(data), NULL, 0), FERR_SIGNATURE_INVALID,
	    "%s: other key refused", name);
	is_int(key_verify(pub, buf_ptr(sig), buf_len(sig), data, sizeof(data),
	    type == KEY_RSA ? "rsa-sha2-256" : "ssh-rsa", 0),
	    FERR_KEY_TYPE_MISMATCH, "%s: other expected algorithm refused",
	    name);

	/* Flip a bit in each byte of the signature body. */
	len = buf_len(sig);
	copy = malloc(len + 1);
	for (i = 0, fails = 0; i < len; i++) {
		memcpy(copy, buf_ptr(sig), len);
		copy[i] ^= 0x10;
		if (key_verify(pub, copy, len, data, sizeof(data), NULL,
		    0) == 0)
			fails++;
	}
	is_int(fails, 0, "%s: every corrupted byte refused", name);
	for (i = 0, fails = 0; i < len; i++)
		if (key_verify(pub, buf_ptr(sig), i, data, sizeof(data),
		    NULL, 0) == 0)
			fails++;
	is_int(fails, 0, "%s: every truncation refused", name);
	memcpy(copy, buf_ptr(sig), len);
	copy[len] = 0;
	is_int(key_verify(pub, copy, len + 1, data, sizeof(data), NULL, 0),
	    FERR_TRAILING_DATA, "%s: trailing data refused", name);
	free(copy);
 out:
	buf_free(sig);
	key_free(k);
	key_free(other);
	key_free(pub);
}

/* Algorithm names are bound to key types. */
static void
test_sig_binding(void)
{
	static const uint8_t data[] = "x";
	struct key *ed = NULL, *ec = NULL, *rsa = NULL;
	struct buf *sig = buf_new(), *forged = buf_new(), *body;
	const uint8_t *p;
	size_t len;

	if (key_generate(KEY_ED25519, 0, &ed) != 0 ||
	    key_generate(KEY_ECDSA_P256, 0, &ec) != 0 ||
	    key_generate(KEY_RSA, 2048, &rsa) != 0)
		abort();
	/* An ed25519 signature offered for an ECDSA key. */
	if (key_sign(ed, NULL, data, 1, 0, sig) != 0)
		abort();
	is_int(key_verify(ec, buf_ptr(sig), buf_len(sig), data, 1, NULL, 0),
	    FERR_KEY_TYPE_MISMATCH, "ed25519 signature for an ECDSA key");
	is_int(key_verify(rsa, buf_ptr(sig), buf_len(sig), data, 1, NULL, 0),
	    FERR_KEY_TYPE_MISMATCH, "ed25519 signature for an RSA key");
	/* Relabel the ed25519 signature as ECDSA. */
	body = buf_fromb(sig);
	if (buf_get_string_direct(body, NULL, NULL) != 0 ||
	    buf_get_string_direct(body, &p, &len) != 0)
		abort();
	if (buf_put_cstring(forged, "ecdsa-sha2-nistp256") != 0 ||
	    buf_put_string(forged, p, len) != 0)
		abort();
	ok(key_verify(ec, buf_ptr(forged), buf_len(forged), data, 1, NULL,
	    0) != 0, "relabelled signature refused");
	buf_free(body);
	buf_reset(sig);

	/* RSA: both SHA-2 algorithms; SHA-1 only when enabled. */
	is_int(key_sign(rsa, "rsa-sha2-256", data, 1, 0, sig), 0,
	    "rsa-sha2-256 signs");
	is_int(key_verify(rsa, buf_ptr(sig), buf_len(sig), data, 1,
	    "rsa-sha2-256", 0), 0, "rsa-sha2-256 verifies");
	/* The same bytes relabelled rsa-sha2-512 must not verify. */
	body = buf_fromb(sig);
	buf_reset(forged);
	if (buf_get_string_direct(body, NULL, NULL) != 0 ||
	    buf_get_string_direct(body, &p, &len) != 0 ||
	    buf_put_cstring(forged, "rsa-sha2-512") != 0 ||
	    buf_put_string(forged, p, len) != 0)
		abort();
	is_int(key_verify(rsa, buf_ptr(forged), buf_len(forged), data, 1,
	    NULL, 0), FERR_SIGNATURE_INVALID,
	    "rsa-sha2-256 signature labelled rsa-sha2-512 refused");
	buf_free(body);
	buf_reset(sig);
	is_int(key_sign(rsa, "ssh-rsa", data, 1, 0, sig), FERR_NOT_SUPPORTED,
	    "ssh-rsa (SHA-1) refused by default");
	is_int(key_sign(rsa, "ssh-rsa", data, 1, KEY_SIG_ALLOW_SHA1, sig), 0,
	    "ssh-rsa signs when legacy is enabled");
	is_int(key_verify(rsa, buf_ptr(sig), buf_len(sig), data, 1, NULL, 0),
	    FERR_NOT_SUPPORTED, "ssh-rsa verify refused by default");
	is_int(key_verify(rsa, buf_ptr(sig), buf_len(sig), data, 1, NULL,
	    KEY_SIG_ALLOW_SHA1), 0, "ssh-rsa verifies when enabled");
	ok(!key_sig_alg_allowed(rsa, "ssh-rsa", 0) &&
	    key_sig_alg_allowed(rsa, "ssh-rsa", KEY_SIG_ALLOW_SHA1) &&
	    key_sig_alg_allowed(rsa, "rsa-sha2-256", 0) &&
	    !key_sig_alg_allowed(ec, "rsa-sha2-256", 0) &&
	    key_sig_alg_allowed(ec, "ecdsa-sha2-nistp256", 0) &&
	    !key_sig_alg_allowed(ec, "ecdsa-sha2-nistp384", 0),
	    "key_sig_alg_allowed table");
	is_int(key_sign(ec, "ecdsa-sha2-nistp384", data, 1, 0, sig),
	    FERR_KEY_TYPE_MISMATCH, "nistp384 algorithm with a nistp256 key");
	is_int(key_sign(ed, "no-such-alg", data, 1, 0, sig),
	    FERR_KEY_TYPE_UNKNOWN, "unknown algorithm");
	buf_free(sig);
	buf_free(forged);
	key_free(ed);
	key_free(ec);
	key_free(rsa);
}

static void
test_generate_limits(void)
{
	struct key *k = NULL;

	is_int(key_generate(KEY_RSA, 1024, &k), FERR_KEY_LENGTH,
	    "rsa 1024 refused");
	is_int(key_generate(KEY_RSA, 2047, &k), FERR_KEY_LENGTH,
	    "rsa 2047 refused");
	is_int(key_generate(KEY_RSA, 16385, &k), FERR_KEY_LENGTH,
	    "rsa 16385 refused");
	is_int(key_generate(KEY_ED25519, 255, &k), FERR_KEY_LENGTH,
	    "ed25519 size is fixed");
	is_int(key_generate(KEY_ECDSA_P384, 256, &k), FERR_KEY_LENGTH,
	    "nistp384 size is fixed");
	is_int(key_generate(KEY_UNSPEC, 0, &k), FERR_KEY_TYPE_UNKNOWN,
	    "unspecified type");
	ok(k == NULL, "no key after failures");
	is_int(key_generate(KEY_ECDSA_P384, 384, &k), 0, "nistp384 384 bits");
	is_int(key_set_comment(k, "a comment"), 0, "set comment");
	ok(strcmp(key_comment(k), "a comment") == 0, "comment kept");
	is_int(key_set_comment(k, NULL), 0, "clear comment");
	ok(strcmp(key_comment(k), "") == 0, "comment cleared");
	key_free(k);
	key_free(NULL);
}

/*
 * Signatures made by OpenSSH: NAME.sshsig is "ssh-keygen -Y sign -n
 * ferry-test" of the file "message" (PROTOCOL.sshsig).  The signature
 * inside is an ordinary SSH signature blob over "SSHSIG", the namespace,
 * an empty reserved string, the hash name and the SHA-512 of the file;
 * key_verify must accept it, and reject it for other data.
 */
static void
test_openssh_signature(const char *name)
{
	struct key *pub = pubkey(name), *sigkey = NULL;
	char *armored = fixturef(name, ".sshsig"), *msg = fixture("message");
	char *b64, *end, *hashalg = NULL, *ns = NULL;
	struct buf *sig = buf_new(), *signed_data = buf_new();
	uint8_t magic[6], digest[64];
	const uint8_t *blob, *sigblob;
	size_t bloblen, siglen;
	unsigned int dlen = 0;
	uint32_t version;

	b64 = strchr(armored, '\n') + 1;
	end = strstr(b64, "-----END SSH SIGNATURE-----");
	*end = '\0';
	if (buf_put_b64_decoded(sig, b64) != 0 ||
	    buf_get(sig, magic, sizeof(magic)) != 0 ||
	    memcmp(magic, "SSHSIG", 6) != 0 ||
	    buf_get_u32(sig, &version) != 0 ||
	    buf_get_string_direct(sig, &blob, &bloblen) != 0 ||
	    buf_get_cstring(sig, &ns, NULL) != 0 ||
	    buf_get_string_direct(sig, NULL, NULL) != 0 ||
	    buf_get_cstring(sig, &hashalg, NULL) != 0 ||
	    buf_get_string_direct(sig, &sigblob, &siglen) != 0 ||
	    buf_expect_end(sig) != 0 || strcmp(hashalg, "sha512") != 0) {
		ok(0, "%s: parse the SSHSIG fixture", name);
		goto out;
	}
	is_int(key_from_blob_mem(blob, bloblen, &sigkey), 0,
	    "%s: signer's key parses", name);
	ok(key_equal_public(sigkey, pub), "%s: signer is the fixture key",
	    name);
	if (EVP_Digest(msg, strlen(msg), digest, &dlen, EVP_sha512(),
	    NULL) != 1)
		abort();
	if (buf_put(signed_data, "SSHSIG", 6) != 0 ||
	    buf_put_cstring(signed_data, ns) != 0 ||
	    buf_put_string(signed_data, NULL, 0) != 0 ||
	    buf_put_cstring(signed_data, hashalg) != 0 ||
	    buf_put_string(signed_data, digest, dlen) != 0)
		abort();
	is_int(key_verify(pub, sigblob, siglen, buf_ptr(signed_data),
	    buf_len(signed_data), NULL, 0), 0,
	    "%s: OpenSSH's signature verifies", name);
	digest[0] ^= 1;
	buf_reset(signed_data);
	if (buf_put(signed_data, "SSHSIG", 6) != 0 ||
	    buf_put_cstring(signed_data, ns) != 0 ||
	    buf_put_string(signed_data, NULL, 0) != 0 ||
	    buf_put_cstring(signed_data, hashalg) != 0 ||
	    buf_put_string(signed_data, digest, dlen) != 0)
		abort();
	is_int(key_verify(pub, sigblob, siglen, buf_ptr(signed_data),
	    buf_len(signed_data), NULL, 0), FERR_SIGNATURE_INVALID,
	    "%s: and not for other data", name);
 out:
	free(ns);
	free(hashalg);
	free(armored);
	free(msg);
	buf_free(sig);
	buf_free(signed_data);
	key_free(sigkey);
	key_free(pub);
}

/*
 * With FERRY_SSHSIG_DIR set, write signatures made by Ferry as SSHSIG
 * files for tests/regress/keygen-signatures.sh to check with OpenSSH's
 * "ssh-keygen -Y check-novalidate": for each key type a new key
 * (TYPE.pub) and several signatures of "ferry signed message\n" in the
 * namespace ferry-test (TYPE-N.sig), ECDSA ones differing in r and s.
 */
#define SSHSIG_COUNT	6

static void
export_sshsig(const char *dir, enum key_type type, const char *alg,
    const char *label)
{
	static const char msg[] = "ferry signed message\n";
	uint8_t digest[64];
	unsigned int dlen = 0;
	struct key *k = NULL;
	struct buf *data = buf_new(), *sig = buf_new(), *file = buf_new();
	struct buf *blob = buf_new(), *line = buf_new(), *b64 = buf_new();
	char path[4096];
	size_t i, n;
	int j, r = 0;

	if (key_generate(type, type == KEY_RSA ? 2048 : 0, &k) != 0 ||
	    key_set_comment(k, label) != 0 ||
	    EVP_Digest(msg, sizeof(msg) - 1, digest, &dlen, EVP_sha512(),
	    NULL) != 1)
		abort();
	snprintf(path, sizeof(path), "%s/%s.pub", dir, label);
	if (key_format_public_line(k, line) != 0 ||
	    buf_put_u8(line, '\n') != 0 ||
	    key_write_file(path, line, 0644) != 0 ||
	    key_to_blob(k, blob) != 0)
		abort();
	if (buf_put(data, "SSHSIG", 6) != 0 ||
	    buf_put_cstring(data, "ferry-test") != 0 ||
	    buf_put_string(data, NULL, 0) != 0 ||
	    buf_put_cstring(data, "sha512") != 0 ||
	    buf_put_string(data, digest, dlen) != 0)
		abort();
	for (j = 0; j < SSHSIG_COUNT; j++) {
		buf_reset(sig);
		buf_reset(file);
		buf_reset(b64);
		r |= key_sign(k, alg, buf_ptr(data), buf_len(data), 0, sig);
		if (buf_put(file, "SSHSIG", 6) != 0 ||
		    buf_put_u32(file, 1) != 0 ||
		    buf_put_stringb(file, blob) != 0 ||
		    buf_put_cstring(file, "ferry-test") != 0 ||
		    buf_put_string(file, NULL, 0) != 0 ||
		    buf_put_cstring(file, "sha512") != 0 ||
		    buf_put_stringb(file, sig) != 0 ||
		    buf_put_b64(b64, buf_ptr(file), buf_len(file)) != 0)
			abort();
		buf_reset(line);
		if (buf_putf(line, "-----BEGIN SSH SIGNATURE-----\n") != 0)
			abort();
		for (i = 0; i < buf_len(b64); i += n) {
			n = buf_len(b64) - i < 70 ? buf_len(b64) - i : 70;
			if (buf_put(line, buf_ptr(b64) + i, n) != 0 ||
			    buf_put_u8(line, '\n') != 0)
				abort();
		}
		if (buf_putf(line, "-----END SSH SIGNATURE-----\n") != 0)
			abort();
		snprintf(path, sizeof(path), "%s/%s-%d.sig", dir, label, j);
		if (key_write_file(path, line, 0644) != 0)
			abort();
	}
	is_int(r, 0, "exported %d SSHSIG signatures by %s", SSHSIG_COUNT,
	    label);
	buf_free(data);
	buf_free(sig);
	buf_free(file);
	buf_free(blob);
	buf_free(line);
	buf_free(b64);
	key_free(k);
}

static void
export_signatures(void)
{
	const char *dir = getenv("FERRY_SSHSIG_DIR");

	if (dir == NULL)
		return;
	export_sshsig(dir, KEY_ED25519, NULL, "ed25519");
	export_sshsig(dir, KEY_ECDSA_P256, NULL, "ecdsa256");
	export_sshsig(dir, KEY_ECDSA_P384, NULL, "ecdsa384");
	export_sshsig(dir, KEY_ECDSA_P521, NULL, "ecdsa521");
	export_sshsig(dir, KEY_RSA, "rsa-sha2-512", "rsa512");
	export_sshsig(dir, KEY_RSA, "rsa-sha2-256", "rsa256");
}

int
main(void)
{
	size_t i;

	test_types();
	for (i = 0; i < NFIXTURES; i++)
		test_fixture(fixtures[i]);
	for (i = 0; i < NFIXTURES; i++)
		test_openssh_signature(fixtures[i]);
	test_bad_blobs();
	test_lines();
	test_sign_type(KEY_ED25519, 0);
	test_sign_type(KEY_ECDSA_P256, 0);
	test_sign_type(KEY_ECDSA_P384, 0);
	test_sign_type(KEY_ECDSA_P521, 0);
	test_sign_type(KEY_RSA, 2048);
	test_sig_binding();
	test_generate_limits();
	export_signatures();
	return tap_done();
}
