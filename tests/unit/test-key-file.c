/*
 * Unit tests for key files: openssh-key-v1 read and write (plain and
 * encrypted with each supported cipher), PEM and PKCS#8 through
 * libcrypto, RFC 4716 import and export, whole-file I/O.
 *
 * Fixtures in tests/unit/keys come from OpenSSH 9.2's ssh-keygen; the
 * encrypted ones use the passphrase "ferry pass": ed25519-enc
 * (aes256-ctr, 16 rounds), rsa-enc (aes128-ctr), ecdsa256-gcm
 * (aes256-gcm@openssh.com), ecdsa384-cbc (aes256-cbc), rsa-enc.pem
 * (legacy PEM encryption) and ecdsa384-enc.p8 (PKCS#8 PBES2).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "tap.h"

#define PASS	"ferry pass"

static struct buf *
fixture(const char *name)
{
	char path[4096];
	const char *top = getenv("top_srcdir");
	struct buf *b;
	int r;

	snprintf(path, sizeof(path), "%s/tests/unit/keys/%s",
	    top != NULL ? top : ".", name);
	if ((r = key_read_file(path, 0, &b)) != 0) {
		printf("Bail out! cannot read %s: %s\n", path, err_str(r));
		exit(1);
	}
	return b;
}

static struct key *
pubkey(const char *name)
{
	char n[256], *s;
	struct buf *b;
	struct key *k = NULL;

	snprintf(n, sizeof(n), "%s.pub", name);
	b = fixture(n);
	s = buf_dup_string(b);
	if (s == NULL || key_parse_public_line(s, &k) != 0)
		abort();
	free(s);
	buf_free(b);
	return k;
}

/* Plain openssh-key-v1 files written by ssh-keygen. */
static void
test_read_plain(const char *name)
{
	struct buf *f = fixture(name);
	struct key *pub = pubkey(name), *k = NULL, *p2 = NULL;
	size_t i, bad;

	is_int(key_parse_private(f, NULL, &k), 0, "%s: read", name);
	ok(k != NULL && key_is_private(k) && key_equal_public(k, pub),
	    "%s: matches the .pub", name);
	ok(k != NULL && strcmp(key_comment(k), key_comment(pub)) == 0,
	    "%s: comment read", name);
	ok(key_private_is_encrypted(f) == 0, "%s: not encrypted", name);
	is_int(key_parse_private_public(f, &p2), 0, "%s: public part", name);
	ok(key_equal_public(p2, pub) && !key_is_private(p2),
	    "%s: public part matches", name);
	key_free(k);
	key_free(p2);
	k = NULL;
	/*
	 * Truncations end in an error, never a key or a crash (dropping
	 * only the final newline leaves a valid file).
	 */
	for (i = 0, bad = 0; i + 1 < buf_len(f); i += 3) {
		struct buf *t = buf_from(buf_ptr(f), i);

		if (key_parse_private(t, NULL, &k) == 0 || k != NULL)
			bad++;
		key_free(k);
		k = NULL;
		buf_free(t);
	}
	is_int(bad, 0, "%s: truncated files refused", name);
	buf_free(f);
	key_free(pub);
}

static void
test_read_encrypted(const char *file, const char *pubname)
{
	struct buf *f = fixture(file);
	struct key *pub = pubkey(pubname), *k = NULL;

	ok(key_private_is_encrypted(f), "%s: encrypted", file);
	is_int(key_parse_private(f, NULL, &k), FERR_KEY_WRONG_PASSPHRASE,
	    "%s: no passphrase", file);
	is_int(key_parse_private(f, "", &k), FERR_KEY_WRONG_PASSPHRASE,
	    "%s: empty passphrase", file);
	is_int(key_parse_private(f, "ferry pasS", &k),
	    FERR_KEY_WRONG_PASSPHRASE, "%s: wrong passphrase", file);
	ok(k == NULL, "%s: no key after failures", file);
	is_int(key_parse_private(f, PASS, &k), 0, "%s: right passphrase",
	    file);
	ok(key_equal_public(k, pub), "%s: matches its .pub", file);
	key_free(k);
	k = NULL;
	if (strstr(file, ".pem") == NULL && strstr(file, ".p8") == NULL) {
		is_int(key_parse_private_public(f, &k), 0,
		    "%s: public part without passphrase", file);
		ok(key_equal_public(k, pub), "%s: public part matches", file);
		key_free(k);
	} else {
		is_int(key_parse_private_public(f, &k),
		    FERR_KEY_WRONG_PASSPHRASE,
		    "%s: encrypted PEM hides its public key", file);
	}
	buf_free(f);
	key_free(pub);
}

static void
test_read_pem(const char *file, const char *pubname)
{
	struct buf *f = fixture(file);
	struct key *pub = pubname != NULL ? pubkey(pubname) : NULL;
	struct key *k = NULL, *p2 = NULL;
	struct buf *sig = buf_new();

	is_int(key_parse_private(f, NULL, &k), 0, "%s: read", file);
	if (pub != NULL)
		ok(key_equal_public(k, pub), "%s: matches the .pub", file);
	ok(key_is_private(k), "%s: private", file);
	is_int(key_sign(k, NULL, (const uint8_t *)"abc", 3, 0, sig), 0,
	    "%s: signs", file);
	is_int(key_verify(k, buf_ptr(sig), buf_len(sig),
	    (const uint8_t *)"abc", 3, NULL, 0), 0, "%s: verifies", file);
	is_int(key_parse_private_public(f, &p2), 0, "%s: public part", file);
	ok(key_equal_public(k, p2), "%s: public part matches", file);
	buf_free(sig);
	buf_free(f);
	key_free(k);
	key_free(p2);
	key_free(pub);
}

/* Write, read back; for each type and plain or encrypted. */
static void
test_write(enum key_type type, unsigned int bits, const char *cipher)
{
	struct buf *out = buf_new(), *dec = buf_new();
	struct key *k = NULL, *back = NULL;
	const char *name = key_type_name(type);
	const char *pass = cipher != NULL ? "write pass" : NULL;
	const char *p, *line, *end;
	char *s;
	size_t maxline = 0;
	int r;

	if (key_generate(type, bits, &k) != 0 ||
	    key_set_comment(k, "writer@test") != 0)
		abort();
	is_int(key_write_private(k, pass, cipher, 2, out), 0,
	    "%s %s: write", name, cipher ? cipher : "plain");
	s = buf_dup_string(out);
	ok(s != NULL && strncmp(s, "-----BEGIN OPENSSH PRIVATE KEY-----\n",
	    36) == 0 && strstr(s, "\n-----END OPENSSH PRIVATE KEY-----\n") !=
	    NULL, "%s: armor", name);
	for (p = s; p != NULL && *p != '\0'; p = end + 1) {
		line = p;
		if ((end = strchr(line, '\n')) == NULL)
			break;
		if ((size_t)(end - line) > maxline && *line != '-')
			maxline = (size_t)(end - line);
	}
	is_int(maxline, 70, "%s: base64 lines of 70 columns", name);
	free(s);
	r = key_parse_private(out, pass, &back);
	is_int(r, 0, "%s %s: read back", name, cipher ? cipher : "plain");
	ok(back != NULL && key_is_private(back) && key_equal_public(k, back),
	    "%s: same key", name);
	ok(back != NULL && strcmp(key_comment(back), "writer@test") == 0,
	    "%s: same comment", name);
	ok(key_private_is_encrypted(out) == (cipher != NULL),
	    "%s: encryption flag", name);
	key_free(back);
	back = NULL;
	if (cipher != NULL)
		is_int(key_parse_private(out, "other pass", &back),
		    FERR_KEY_WRONG_PASSPHRASE, "%s %s: wrong passphrase", name,
		    cipher);
	key_free(back);
	buf_free(out);
	buf_free(dec);
	key_free(k);
}

/* Hand-made damage inside a valid plain file. */
static void
test_tamper(void)
{
	struct buf *f = fixture("ed25519"), *dec = buf_new(), *out = buf_new();
	struct key *k = NULL;
	char *text, *b64;
	uint8_t *m;
	size_t len, off, publen;

	/* Decode the armor ourselves to reach the inner bytes. */
	text = buf_dup_string(f);
	b64 = strchr(text, '\n') + 1;
	*strstr(b64, "-----END") = '\0';
	if (buf_put_b64_decoded(dec, b64) != 0)
		abort();
	len = buf_len(dec);
	m = buf_mutable_ptr(dec);

	/* The last byte is padding (its value is its position). */
	m[len - 1] ^= 0x40;
	if (buf_putf(out, "-----BEGIN OPENSSH PRIVATE KEY-----\n") != 0 ||
	    buf_put_b64(out, m, len) != 0 ||
	    buf_putf(out, "\n-----END OPENSSH PRIVATE KEY-----\n") != 0)
		abort();
	is_int(key_parse_private(out, NULL, &k), FERR_FORMAT,
	    "bad padding refused");
	m[len - 1] ^= 0x40;

	/*
	 * The first check word: after the magic (15), "none" twice (8 + 8),
	 * empty KDF options (4), the key count (4), the public key blob
	 * (4 + its length) and the private section's length (4).
	 */
	buf_reset(out);
	off = 15 + 8 + 8 + 4 + 4;
	publen = (size_t)m[off] << 24 | (size_t)m[off + 1] << 16 |
	    (size_t)m[off + 2] << 8 | m[off + 3];
	off += 4 + publen + 4;
	m[off] ^= 1;
	if (buf_putf(out, "-----BEGIN OPENSSH PRIVATE KEY-----\n") != 0 ||
	    buf_put_b64(out, m, len) != 0 ||
	    buf_putf(out, "\n-----END OPENSSH PRIVATE KEY-----\n") != 0)
		abort();
	is_int(key_parse_private(out, NULL, &k), FERR_FORMAT,
	    "check words that differ refused");
	m[off] ^= 1;
	buf_reset(out);
	if (buf_putb(out, f) != 0 || buf_putf(out, "junk\n") != 0)
		abort();
	is_int(key_parse_private(out, NULL, &k), FERR_FORMAT,
	    "text after the END line refused");
	ok(k == NULL, "no key after tampering");
	free(text);
	buf_free(f);
	buf_free(dec);
	buf_free(out);
}

static void
test_write_args(void)
{
	struct key *k = NULL, *pub = NULL;
	struct buf *out = buf_new();

	if (key_generate(KEY_ED25519, 0, &k) != 0 || key_demote(k, &pub) != 0)
		abort();
	is_int(key_write_private(pub, NULL, NULL, 0, out),
	    FERR_KEY_TYPE_MISMATCH, "a public key cannot be written");
	is_int(key_write_private(k, "p", "des-cbc", 0, out),
	    FERR_KEY_UNKNOWN_CIPHER, "unknown cipher refused");
	is_int(key_write_private(k, "p", "none", 0, out),
	    FERR_KEY_UNKNOWN_CIPHER, "encryption with none refused");
	is_int(buf_len(out), 0, "nothing written on failure");
	ok(key_private_cipher_supported("aes256-ctr") &&
	    key_private_cipher_supported("aes256-gcm@openssh.com") &&
	    !key_private_cipher_supported("none") &&
	    !key_private_cipher_supported("3des-cbc"),
	    "cipher table");
	buf_free(out);
	key_free(k);
	key_free(pub);
}

static void
test_rfc4716(const char *name)
{
	char n[256], *text, *hdr, *end;
	struct buf *f, *out = buf_new();
	struct key *pub = pubkey(name), *k = NULL;

	snprintf(n, sizeof(n), "%s.rfc4716", name);
	f = fixture(n);
	is_int(key_import_rfc4716(f, &k), 0, "%s: import RFC 4716", name);
	ok(key_equal_public(k, pub), "%s: imported key matches", name);
	/* Export with ssh-keygen's header gives ssh-keygen's bytes. */
	text = buf_dup_string(f);
	hdr = strstr(text, "Comment: \"") + 10;
	end = strchr(hdr, '"');
	*end = '\0';
	is_int(key_export_rfc4716(pub, hdr, out), 0, "%s: export", name);
	ok(buf_len(out) == buf_len(f) &&
	    memcmp(buf_ptr(out), buf_ptr(f), buf_len(f)) == 0,
	    "%s: export identical to ssh-keygen -e", name);
	free(text);
	key_free(k);
	k = NULL;
	buf_reset(out);
	is_int(key_export_rfc4716(pub, NULL, out), 0, "%s: bare export", name);
	is_int(key_import_rfc4716(out, &k), 0, "%s: bare round trip", name);
	ok(key_equal_public(k, pub), "%s: round trip matches", name);
	key_free(k);
	buf_free(f);
	buf_free(out);
	key_free(pub);
}

static void
test_rfc4716_bad(void)
{
	static const char *const bad[] = {
		"",
		"---- BEGIN SSH2 PUBLIC KEY ----\n",
		"---- BEGIN SSH2 PUBLIC KEY ----\n---- END SSH2 PUBLIC KEY ----\n",
		"junk\n---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n"
		"---- END SSH2 PUBLIC KEY ----\n",
		"---- BEGIN SSH2 PUBLIC KEY ----\nAAAAC3NzaC1lZDI1NTE5\n"
		"---- END SSH2 PUBLIC KEY ----\n",
		"---- BEGIN SSH2 PUBLIC KEY ----\n!!!!\n"
		"---- END SSH2 PUBLIC KEY ----\n",
	};
	struct buf *in;
	struct key *k = NULL;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		in = buf_from(bad[i], strlen(bad[i]));
		ok(key_import_rfc4716(in, &k) != 0 && k == NULL,
		    "malformed RFC 4716 input %zu refused", i);
		buf_free(in);
	}
}

/* PEM public keys (ssh-keygen -e/-i -m PKCS8 and -m PEM). */
static void
test_pem_public(const char *name)
{
	struct key *pub = pubkey(name), *k = NULL;
	struct buf *out = buf_new();
	char *s;
	int rsa = key_get_type(pub) == KEY_RSA;

	is_int(key_export_pem_public(pub, 0, out), 0, "%s: SPKI export", name);
	s = buf_dup_string(out);
	ok(s != NULL && strncmp(s, "-----BEGIN PUBLIC KEY-----\n", 27) == 0,
	    "%s: PUBLIC KEY block", name);
	free(s);
	is_int(key_import_pem_public(out, &k), 0, "%s: SPKI import", name);
	ok(key_equal_public(k, pub), "%s: SPKI round trip", name);
	key_free(k);
	k = NULL;
	buf_reset(out);
	is_int(key_export_pem_public(pub, 1, out), rsa ? 0 :
	    FERR_KEY_TYPE_MISMATCH, "%s: PKCS#1 export only for RSA", name);
	if (rsa) {
		s = buf_dup_string(out);
		ok(s != NULL && strncmp(s, "-----BEGIN RSA PUBLIC KEY-----\n",
		    31) == 0, "%s: RSA PUBLIC KEY block", name);
		free(s);
		is_int(key_import_pem_public(out, &k), 0, "%s: PKCS#1 import",
		    name);
		ok(key_equal_public(k, pub), "%s: PKCS#1 round trip", name);
		key_free(k);
		k = NULL;
	}
	buf_free(out);
	out = buf_from("-----BEGIN PUBLIC KEY-----\nAAAA\n"
	    "-----END PUBLIC KEY-----\n", 54);
	is_int(key_import_pem_public(out, &k), FERR_FORMAT,
	    "%s: garbage PEM refused", name);
	ok(k == NULL, "%s: no key", name);
	buf_free(out);
	key_free(pub);
}

static void
test_file_io(void)
{
	char path[] = "/tmp/ferry-test-key-XXXXXX";
	struct buf *b = buf_new(), *back = NULL;
	struct stat st;
	int fd;

	if ((fd = mkstemp(path)) == -1)
		abort();
	close(fd);
	if (buf_putf(b, "secret contents\n") != 0)
		abort();
	is_int(key_write_file(path, b, 0600), 0, "write file");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "written with mode 0600");
	is_int(key_read_file(path, 0, &back), 0, "read file");
	ok(back != NULL && buf_len(back) == buf_len(b) &&
	    memcmp(buf_ptr(back), buf_ptr(b), buf_len(b)) == 0,
	    "same contents");
	buf_free(back);
	back = NULL;
	is_int(key_read_file(path, 4, &back), FERR_NO_SPACE,
	    "a file over the cap is refused");
	unlink(path);
	is_int(key_read_file(path, 0, &back), FERR_SYSTEM, "missing file");
	is_int(errno, ENOENT, "errno says why");
	is_int(key_write_file("/nonexistent-dir/x", b, 0600), FERR_SYSTEM,
	    "unwritable directory");
	buf_free(b);
}

int
main(void)
{
	static const char *const plain[] = {
		"ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa",
	};
	size_t i;

	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		test_read_plain(plain[i]);
	test_read_encrypted("ed25519-enc", "ed25519");
	test_read_encrypted("rsa-enc", "rsa");
	test_read_encrypted("ecdsa256-gcm", "ecdsa256");
	test_read_encrypted("ecdsa384-cbc", "ecdsa384");
	test_read_encrypted("rsa-enc.pem", "rsa");
	test_read_encrypted("ecdsa384-enc.p8", "ecdsa384");
	test_read_pem("rsa.pem", "rsa");
	test_read_pem("ecdsa256.pem", "ecdsa256");
	test_read_pem("ecdsa521.p8", "ecdsa521");
	test_read_pem("ed25519.p8", NULL);
	test_write(KEY_ED25519, 0, NULL);
	test_write(KEY_ED25519, 0, "aes256-ctr");
	test_write(KEY_ECDSA_P256, 0, "aes128-ctr");
	test_write(KEY_ECDSA_P384, 0, "aes256-gcm@openssh.com");
	test_write(KEY_ECDSA_P521, 0, "aes256-cbc");
	test_write(KEY_RSA, 2048, NULL);
	test_write(KEY_RSA, 2048, "aes256-ctr");
	test_tamper();
	test_write_args();
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		test_rfc4716(plain[i]);
	test_rfc4716_bad();
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		test_pem_public(plain[i]);
	test_file_io();
	return tap_done();
}
