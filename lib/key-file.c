/*
 * Key files: OpenSSH's private key format "openssh-key-v1" (PROTOCOL.key)
 * read and written, PEM and PKCS#8 private keys read through libcrypto's
 * decoders, RFC 4716 public key files, and whole-file I/O.
 *
 * openssh-key-v1, after base64 armor:
 *
 *	"openssh-key-v1\0"
 *	string	cipher name ("none", "aes256-ctr", ...)
 *	string	KDF name ("none" or "bcrypt")
 *	string	KDF options (bcrypt: string salt, uint32 rounds)
 *	uint32	number of keys (always 1)
 *	string	public key blob
 *	string	encrypted section, then the AEAD tag when the cipher has one
 *
 * and the decrypted section holds two equal random check words (a wrong
 * passphrase makes them differ), the private key, its comment, and
 * padding bytes 1, 2, 3, ... up to a multiple of the cipher block size.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "bcrypt-pbkdf.h"
#include "key-internal.h"
#include "misc.h"

#define KEY_V1_MAGIC		"openssh-key-v1"	/* and its NUL */
#define KEY_V1_BEGIN		"-----BEGIN OPENSSH PRIVATE KEY-----"
#define KEY_V1_END		"-----END OPENSSH PRIVATE KEY-----"
#define KEY_V1_SALT_LEN		16
#define KEY_V1_SALT_MAX		1024
#define KEY_ARMOR_COLS		70
#define KEY_FILE_MAX_DEFAULT	(1024 * 1024)
#define KEY_4716_BEGIN		"---- BEGIN SSH2 PUBLIC KEY ----"
#define KEY_4716_END		"---- END SSH2 PUBLIC KEY ----"

/* Ciphers of encrypted openssh-key-v1 files. */
static const struct key_v1_cipher {
	const char *name;
	const char *evp;	/* libcrypto name; NULL for "none" */
	size_t keylen;
	size_t ivlen;
	size_t blocksize;
	size_t authlen;		/* AEAD tag after the encrypted section */
} key_v1_ciphers[] = {
	{ "none", NULL, 0, 0, 8, 0 },
	{ "aes256-ctr", "AES-256-CTR", 32, 16, 16, 0 },
	{ "aes192-ctr", "AES-192-CTR", 24, 16, 16, 0 },
	{ "aes128-ctr", "AES-128-CTR", 16, 16, 16, 0 },
	{ "aes256-cbc", "AES-256-CBC", 32, 16, 16, 0 },
	{ "aes192-cbc", "AES-192-CBC", 24, 16, 16, 0 },
	{ "aes128-cbc", "AES-128-CBC", 16, 16, 16, 0 },
	{ "aes256-gcm@openssh.com", "AES-256-GCM", 32, 12, 16, 16 },
	{ "aes128-gcm@openssh.com", "AES-128-GCM", 16, 12, 16, 16 },
};

static const struct key_v1_cipher *
key_v1_cipher_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(key_v1_ciphers) / sizeof(key_v1_ciphers[0]); i++)
		if (strcmp(key_v1_ciphers[i].name, name) == 0)
			return &key_v1_ciphers[i];
	return NULL;
}

int
key_private_cipher_supported(const char *name)
{
	const struct key_v1_cipher *c;

	return name != NULL && (c = key_v1_cipher_by_name(name)) != NULL &&
	    c->evp != NULL;
}

/*
 * Encrypt or decrypt len bytes from in to out (which may be the same)
 * with key and IV kiv (keylen + ivlen bytes).  For an AEAD the tag is
 * written to (enc) or checked against (!enc) tag; a mismatch is
 * FERR_KEY_WRONG_PASSPHRASE, as any other sign of a wrong key is.
 */
static int
key_v1_crypt(const struct key_v1_cipher *c, const uint8_t *kiv,
    const uint8_t *in, uint8_t *out, size_t len, uint8_t *tag, int enc)
{
	EVP_CIPHER *cipher = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	int outl = 0, finl = 0, r = FERR_LIBCRYPTO;

	if (len > INT32_MAX)
		return FERR_NO_SPACE;
	if ((cipher = EVP_CIPHER_fetch(NULL, c->evp, NULL)) == NULL ||
	    (ctx = EVP_CIPHER_CTX_new()) == NULL)
		goto out;
	if (EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, enc) != 1 ||
	    (c->authlen != 0 && EVP_CIPHER_CTX_ctrl(ctx,
	    EVP_CTRL_AEAD_SET_IVLEN, (int)c->ivlen, NULL) != 1) ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, kiv, kiv + c->keylen,
	    enc) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
		goto out;
	if (c->authlen != 0 && !enc && EVP_CIPHER_CTX_ctrl(ctx,
	    EVP_CTRL_AEAD_SET_TAG, (int)c->authlen, tag) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + outl, &finl) != 1) {
		r = c->authlen != 0 && !enc ? FERR_KEY_WRONG_PASSPHRASE :
		    FERR_LIBCRYPTO;
		goto out;
	}
	if ((size_t)outl + (size_t)finl != len)
		goto out;
	if (c->authlen != 0 && enc && EVP_CIPHER_CTX_ctrl(ctx,
	    EVP_CTRL_AEAD_GET_TAG, (int)c->authlen, tag) != 1)
		goto out;
	r = 0;
 out:
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(cipher);
	ERR_clear_error();
	return r;
}

/* Derive key || IV for c from the passphrase with bcrypt_pbkdf. */
static int
key_v1_kdf(const struct key_v1_cipher *c, const char *passphrase,
    const uint8_t *salt, size_t saltlen, uint32_t rounds, uint8_t *kiv)
{
	return bcrypt_pbkdf((const uint8_t *)passphrase, strlen(passphrase),
	    salt, saltlen, kiv, c->keylen + c->ivlen, rounds);
}

static int
key_has_prefix(const struct buf *b, const char *s)
{
	size_t len = strlen(s);

	return buf_len(b) >= len && memcmp(buf_ptr(b), s, len) == 0;
}

/* Whether the region [p, p + len) contains the string s. */
static int
key_mem_contains(const uint8_t *p, size_t len, const char *s)
{
	return memmem(p, len, s, strlen(s)) != NULL;
}

static int
key_only_space(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return 0;
	return 1;
}

/*
 * Remove the armor of an openssh-key-v1 file: the file starts with the
 * BEGIN line, the base64 body ends at the END line, and only whitespace
 * may follow.  The decoded bytes are appended to out.
 */
static int
key_v1_unarmor(const struct buf *file, struct buf *out)
{
	const uint8_t *p = buf_ptr(file), *body, *end;
	size_t len = buf_len(file), blen;
	char *text = NULL;
	int r;

	if (!key_has_prefix(file, KEY_V1_BEGIN))
		return FERR_FORMAT;
	body = p + strlen(KEY_V1_BEGIN);
	if ((end = memmem(body, len - (size_t)(body - p), KEY_V1_END,
	    strlen(KEY_V1_END))) == NULL)
		return FERR_FORMAT;
	blen = (size_t)(end - body);
	end += strlen(KEY_V1_END);
	if (!key_only_space(end, len - (size_t)(end - p)))
		return FERR_FORMAT;
	if (memchr(body, '\0', blen) != NULL)
		return FERR_FORMAT;
	if ((text = malloc(blen + 1)) == NULL)
		return FERR_ALLOC;
	memcpy(text, body, blen);
	text[blen] = '\0';
	r = buf_put_b64_decoded(out, text);
	misc_freezero(text, blen + 1);
	return r;
}

/* Append the base64 of data in lines of KEY_ARMOR_COLS, each ended. */
static int
key_put_b64_lines(struct buf *out, const uint8_t *data, size_t len)
{
	struct buf *tmp;
	size_t i, n;
	int r;

	if ((tmp = buf_new()) == NULL)
		return FERR_ALLOC;
	buf_set_secret(tmp);
	if ((r = buf_put_b64(tmp, data, len)) != 0)
		goto out;
	for (i = 0; i < buf_len(tmp); i += n) {
		n = buf_len(tmp) - i;
		if (n > KEY_ARMOR_COLS)
			n = KEY_ARMOR_COLS;
		if ((r = buf_put(out, buf_ptr(tmp) + i, n)) != 0 ||
		    (r = buf_put_u8(out, '\n')) != 0)
			goto out;
	}
 out:
	buf_free(tmp);
	return r;
}

/* The parsed outer layer of an openssh-key-v1 file. */
struct key_v1 {
	struct buf *decoded;
	char *ciphername;
	char *kdfname;
	const struct key_v1_cipher *cipher;
	const uint8_t *salt;
	size_t saltlen;
	uint32_t rounds;
	const uint8_t *pub;
	size_t publen;
	const uint8_t *enc;
	size_t enclen;
	const uint8_t *tag;
};

static void
key_v1_clear(struct key_v1 *v)
{
	buf_free(v->decoded);
	free(v->ciphername);
	free(v->kdfname);
	memset(v, 0, sizeof(*v));
}

static int
key_v1_parse_kdf(struct key_v1 *v, struct buf *kdfopts)
{
	int r;

	if (strcmp(v->kdfname, "none") == 0) {
		if (v->cipher->evp != NULL)
			return FERR_KEY_UNKNOWN_CIPHER;
		return buf_expect_end(kdfopts);
	}
	if (strcmp(v->kdfname, "bcrypt") != 0 || v->cipher->evp == NULL)
		return FERR_KEY_UNKNOWN_CIPHER;
	if ((r = buf_get_string_direct(kdfopts, &v->salt, &v->saltlen)) != 0 ||
	    (r = buf_get_u32(kdfopts, &v->rounds)) != 0 ||
	    (r = buf_expect_end(kdfopts)) != 0)
		return r;
	if (v->saltlen == 0 || v->saltlen > KEY_V1_SALT_MAX || v->rounds == 0)
		return FERR_FORMAT;
	return 0;
}

/* Parse everything outside the encrypted section. */
static int
key_v1_parse_outer(const struct buf *file, struct key_v1 *v)
{
	uint8_t magic[sizeof(KEY_V1_MAGIC)];
	struct buf *kdfopts = NULL;
	uint32_t nkeys;
	int r;

	memset(v, 0, sizeof(*v));
	if ((v->decoded = buf_new()) == NULL)
		return FERR_ALLOC;
	buf_set_secret(v->decoded);
	if ((r = key_v1_unarmor(file, v->decoded)) != 0 ||
	    (r = buf_get(v->decoded, magic, sizeof(magic))) != 0)
		goto out;
	if (memcmp(magic, KEY_V1_MAGIC, sizeof(magic)) != 0) {
		r = FERR_FORMAT;
		goto out;
	}
	if ((r = buf_get_cstring(v->decoded, &v->ciphername, NULL)) != 0 ||
	    (r = buf_get_cstring(v->decoded, &v->kdfname, NULL)) != 0 ||
	    (r = buf_froms(v->decoded, &kdfopts)) != 0 ||
	    (r = buf_get_u32(v->decoded, &nkeys)) != 0)
		goto out;
	/* OpenSSH writes and reads exactly one key per file. */
	if (nkeys != 1) {
		r = FERR_FORMAT;
		goto out;
	}
	if ((v->cipher = key_v1_cipher_by_name(v->ciphername)) == NULL) {
		r = FERR_KEY_UNKNOWN_CIPHER;
		goto out;
	}
	if ((r = key_v1_parse_kdf(v, kdfopts)) != 0 ||
	    (r = buf_get_string_direct(v->decoded, &v->pub, &v->publen)) != 0 ||
	    (r = buf_get_string_direct(v->decoded, &v->enc, &v->enclen)) != 0 ||
	    (r = buf_get_direct(v->decoded, v->cipher->authlen,
	    &v->tag)) != 0 ||
	    (r = buf_expect_end(v->decoded)) != 0)
		goto out;
	if (v->enclen == 0 || v->enclen % v->cipher->blocksize != 0) {
		r = FERR_FORMAT;
		goto out;
	}
 out:
	buf_free(kdfopts);
	return r;
}

/* Parse the decrypted section: check words, key, comment, padding. */
static int
key_v1_parse_inner(struct buf *plain, const struct key_v1 *v, int encrypted,
    struct key **keyp)
{
	struct key *k = NULL, *pub = NULL;
	uint32_t c1, c2;
	uint8_t pad;
	char *comment = NULL;
	size_t i, npad;
	int r;

	*keyp = NULL;
	if ((r = buf_get_u32(plain, &c1)) != 0 ||
	    (r = buf_get_u32(plain, &c2)) != 0)
		return r;
	if (c1 != c2)
		return encrypted ? FERR_KEY_WRONG_PASSPHRASE : FERR_FORMAT;
	if ((r = key_private_from_buf(plain, &k)) != 0 ||
	    (r = buf_get_cstring(plain, &comment, NULL)) != 0)
		goto out;
	/* Padding: 1, 2, 3, ... never a whole block. */
	npad = buf_len(plain);
	if (npad >= v->cipher->blocksize) {
		r = FERR_FORMAT;
		goto out;
	}
	for (i = 0; i < npad; i++) {
		if ((r = buf_get_u8(plain, &pad)) != 0)
			goto out;
		if (pad != (uint8_t)(i + 1)) {
			r = FERR_FORMAT;
			goto out;
		}
	}
	if ((r = buf_expect_end(plain)) != 0)
		goto out;
	/* The clear public key must be the one inside. */
	if ((r = key_from_blob_mem(v->pub, v->publen, &pub)) != 0)
		goto out;
	if (!key_equal_public(k, pub)) {
		r = FERR_KEY_INVALID;
		goto out;
	}
	if ((r = key_set_comment(k, comment)) != 0)
		goto out;
	*keyp = k;
	k = NULL;
 out:
	key_free(k);
	key_free(pub);
	if (comment != NULL)
		misc_freezero(comment, strlen(comment));
	return r;
}

static int
key_v1_parse(const struct buf *file, const char *passphrase, struct key **keyp)
{
	struct key_v1 v;
	struct buf *plain = NULL;
	uint8_t kiv[64], *dst, tag[16];
	int r, encrypted;

	if ((r = key_v1_parse_outer(file, &v)) != 0)
		goto out;
	encrypted = v.cipher->evp != NULL;
	if ((plain = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	buf_set_secret(plain);
	if (!encrypted) {
		if ((r = buf_put(plain, v.enc, v.enclen)) != 0)
			goto out;
	} else {
		if (passphrase == NULL || *passphrase == '\0') {
			r = FERR_KEY_WRONG_PASSPHRASE;
			goto out;
		}
		if ((r = key_v1_kdf(v.cipher, passphrase, v.salt, v.saltlen,
		    v.rounds, kiv)) != 0 ||
		    (r = buf_reserve(plain, v.enclen, &dst)) != 0)
			goto out;
		if (v.cipher->authlen != 0)
			memcpy(tag, v.tag, v.cipher->authlen);
		if ((r = key_v1_crypt(v.cipher, kiv, v.enc, dst, v.enclen,
		    tag, 0)) != 0)
			goto out;
	}
	r = key_v1_parse_inner(plain, &v, encrypted, keyp);
 out:
	explicit_bzero(kiv, sizeof(kiv));
	buf_free(plain);
	key_v1_clear(&v);
	return r;
}

static int
key_v1_parse_public(const struct buf *file, struct key **keyp)
{
	struct key_v1 v;
	int r;

	if ((r = key_v1_parse_outer(file, &v)) == 0)
		r = key_from_blob_mem(v.pub, v.publen, keyp);
	key_v1_clear(&v);
	return r;
}

/* PEM: whether a passphrase is needed, judged from the armor. */
static int
key_pem_is_encrypted(const struct buf *file)
{
	return key_mem_contains(buf_ptr(file), buf_len(file),
	    "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
	    key_mem_contains(buf_ptr(file), buf_len(file),
	    "Proc-Type: 4,ENCRYPTED");
}

/* Refuse to prompt: libcrypto must never read a terminal for us. */
static int
key_pem_no_prompt(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int
key_pem_parse(const struct buf *file, const char *passphrase, int priv,
    struct key **keyp)
{
	OSSL_DECODER_CTX *dctx = NULL;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p = buf_ptr(file);
	size_t len = buf_len(file);
	int r, encrypted = key_pem_is_encrypted(file);

	*keyp = NULL;
	if (!key_mem_contains(p, len, "-----BEGIN "))
		return FERR_FORMAT;
	if (encrypted && (passphrase == NULL || *passphrase == '\0'))
		return FERR_KEY_WRONG_PASSPHRASE;
	if ((dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL,
	    EVP_PKEY_KEYPAIR, NULL, NULL)) == NULL) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	if (passphrase != NULL && *passphrase != '\0') {
		if (OSSL_DECODER_CTX_set_passphrase(dctx,
		    (const unsigned char *)passphrase,
		    strlen(passphrase)) != 1) {
			r = FERR_LIBCRYPTO;
			goto out;
		}
	} else if (OSSL_DECODER_CTX_set_pem_password_cb(dctx,
	    key_pem_no_prompt, NULL) != 1) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	if (OSSL_DECODER_from_data(dctx, &p, &len) != 1 || pkey == NULL) {
		r = encrypted ? FERR_KEY_WRONG_PASSPHRASE : FERR_FORMAT;
		goto out;
	}
	r = key_from_evp(pkey, priv, keyp);
 out:
	EVP_PKEY_free(pkey);
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	return r;
}

int
key_parse_private(const struct buf *file, const char *passphrase,
    struct key **keyp)
{
	if (keyp == NULL)
		return FERR_ARGUMENT;
	*keyp = NULL;
	if (file == NULL)
		return FERR_ARGUMENT;
	if (key_has_prefix(file, KEY_V1_BEGIN))
		return key_v1_parse(file, passphrase, keyp);
	return key_pem_parse(file, passphrase, 1, keyp);
}

int
key_parse_private_public(const struct buf *file, struct key **keyp)
{
	if (keyp == NULL)
		return FERR_ARGUMENT;
	*keyp = NULL;
	if (file == NULL)
		return FERR_ARGUMENT;
	if (key_has_prefix(file, KEY_V1_BEGIN))
		return key_v1_parse_public(file, keyp);
	return key_pem_parse(file, NULL, 0, keyp);
}

int
key_private_is_encrypted(const struct buf *file)
{
	struct key_v1 v;
	int enc = 0;

	if (file == NULL)
		return 0;
	if (!key_has_prefix(file, KEY_V1_BEGIN))
		return key_pem_is_encrypted(file);
	if (key_v1_parse_outer(file, &v) == 0)
		enc = v.cipher->evp != NULL;
	key_v1_clear(&v);
	return enc;
}

/* The decrypted section of a new file, padded to the block size. */
static int
key_v1_build_inner(const struct key *key, size_t blocksize, struct buf *b)
{
	uint32_t check;
	uint8_t i;
	int r;

	if (RAND_bytes((unsigned char *)&check, sizeof(check)) != 1)
		return FERR_LIBCRYPTO;
	if ((r = buf_put_u32(b, check)) != 0 ||
	    (r = buf_put_u32(b, check)) != 0 ||
	    (r = key_private_to_buf(key, b)) != 0 ||
	    (r = buf_put_cstring(b, key_comment(key))) != 0)
		return r;
	for (i = 1; buf_len(b) % blocksize != 0; i++)
		if ((r = buf_put_u8(b, i)) != 0)
			return r;
	return 0;
}

int
key_write_private(const struct key *key, const char *passphrase,
    const char *ciphername, unsigned int rounds, struct buf *out)
{
	const struct key_v1_cipher *c;
	struct buf *outer = NULL, *inner = NULL, *kdfopts = NULL;
	uint8_t salt[KEY_V1_SALT_LEN], kiv[64], tag[16], *dst;
	size_t start, off;
	int r, encrypt = passphrase != NULL && *passphrase != '\0';

	if (key == NULL || out == NULL)
		return FERR_ARGUMENT;
	if (!key_is_private(key))
		return FERR_KEY_TYPE_MISMATCH;
	if (!encrypt)
		ciphername = "none";
	else if (ciphername == NULL)
		ciphername = KEY_CIPHER_DEFAULT;
	if ((c = key_v1_cipher_by_name(ciphername)) == NULL ||
	    (encrypt && c->evp == NULL))
		return FERR_KEY_UNKNOWN_CIPHER;
	if (rounds == 0)
		rounds = KEY_KDF_ROUNDS_DEFAULT;
	if ((outer = buf_new()) == NULL || (inner = buf_new()) == NULL ||
	    (kdfopts = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	buf_set_secret(outer);
	buf_set_secret(inner);
	if ((r = key_v1_build_inner(key, c->blocksize, inner)) != 0)
		goto out;
	if (encrypt) {
		if (RAND_bytes(salt, sizeof(salt)) != 1) {
			r = FERR_LIBCRYPTO;
			goto out;
		}
		if ((r = buf_put_string(kdfopts, salt, sizeof(salt))) != 0 ||
		    (r = buf_put_u32(kdfopts, rounds)) != 0 ||
		    (r = key_v1_kdf(c, passphrase, salt, sizeof(salt), rounds,
		    kiv)) != 0)
			goto out;
		/* Encrypt in place. */
		if ((dst = buf_mutable_ptr(inner)) == NULL) {
			r = FERR_INTERNAL;
			goto out;
		}
		if ((r = key_v1_crypt(c, kiv, dst, dst, buf_len(inner), tag,
		    1)) != 0)
			goto out;
	}
	if ((r = buf_put(outer, KEY_V1_MAGIC, sizeof(KEY_V1_MAGIC))) != 0 ||
	    (r = buf_put_cstring(outer, c->name)) != 0 ||
	    (r = buf_put_cstring(outer, encrypt ? "bcrypt" : "none")) != 0 ||
	    (r = buf_put_stringb(outer, kdfopts)) != 0 ||
	    (r = buf_put_u32(outer, 1)) != 0 ||
	    (r = buf_begin_string(outer, &off)) != 0 ||
	    (r = key_to_blob(key, outer)) != 0 ||
	    (r = buf_end_string(outer, off)) != 0 ||
	    (r = buf_put_stringb(outer, inner)) != 0 ||
	    (r = buf_put(outer, tag, c->authlen)) != 0)
		goto out;
	start = buf_len(out);
	if ((r = buf_putf(out, "%s\n", KEY_V1_BEGIN)) != 0 ||
	    (r = key_put_b64_lines(out, buf_ptr(outer), buf_len(outer))) != 0 ||
	    (r = buf_putf(out, "%s\n", KEY_V1_END)) != 0) {
		if (buf_len(out) > start &&
		    buf_consume_end(out, buf_len(out) - start) != 0)
			r = FERR_INTERNAL;
		goto out;
	}
 out:
	explicit_bzero(kiv, sizeof(kiv));
	buf_free(outer);
	buf_free(inner);
	buf_free(kdfopts);
	return r;
}

int
key_export_rfc4716(const struct key *key, const char *header_comment,
    struct buf *out)
{
	struct buf *blob = NULL;
	size_t start;
	int r;

	if (key == NULL || out == NULL)
		return FERR_ARGUMENT;
	/* RFC 4716 3.3: quotes and backslashes are not escaped; refuse. */
	if (header_comment != NULL && (strchr(header_comment, '"') != NULL ||
	    strchr(header_comment, '\n') != NULL))
		return FERR_ARGUMENT;
	if ((blob = buf_new()) == NULL)
		return FERR_ALLOC;
	start = buf_len(out);
	if ((r = key_to_blob(key, blob)) != 0 ||
	    (r = buf_putf(out, "%s\n", KEY_4716_BEGIN)) != 0 ||
	    (header_comment != NULL &&
	    (r = buf_putf(out, "Comment: \"%s\"\n", header_comment)) != 0) ||
	    (r = key_put_b64_lines(out, buf_ptr(blob), buf_len(blob))) != 0 ||
	    (r = buf_putf(out, "%s\n", KEY_4716_END)) != 0) {
		if (buf_len(out) > start &&
		    buf_consume_end(out, buf_len(out) - start) != 0)
			r = FERR_INTERNAL;
	}
	buf_free(blob);
	return r;
}

/* The next line of text (without its end) from *pp, or NULL at the end. */
static const char *
key_next_line(const char **pp, const char *end, size_t *lenp)
{
	const char *line = *pp, *nl;
	size_t len;

	if (line >= end)
		return NULL;
	nl = memchr(line, '\n', (size_t)(end - line));
	len = nl != NULL ? (size_t)(nl - line) : (size_t)(end - line);
	*pp = nl != NULL ? nl + 1 : end;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	*lenp = len;
	return line;
}

static int
key_line_is(const char *line, size_t len, const char *s)
{
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	return len == strlen(s) && memcmp(line, s, len) == 0;
}

int
key_import_rfc4716(const struct buf *in, struct key **keyp)
{
	const char *p, *end, *line;
	struct buf *text = NULL, *blob = NULL;
	char *b64 = NULL;
	size_t len;
	int r, state = 0, cont = 0;	/* 0 before BEGIN, 1 in, 2 after END */

	if (keyp == NULL)
		return FERR_ARGUMENT;
	*keyp = NULL;
	if (in == NULL)
		return FERR_ARGUMENT;
	p = (const char *)buf_ptr(in);
	end = p + buf_len(in);
	if (memchr(p, '\0', buf_len(in)) != NULL)
		return FERR_FORMAT;
	if ((text = buf_new()) == NULL || (blob = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	while ((line = key_next_line(&p, end, &len)) != NULL) {
		switch (state) {
		case 0:
			if (key_line_is(line, len, KEY_4716_BEGIN))
				state = 1;
			else if (!key_only_space((const uint8_t *)line, len)) {
				r = FERR_FORMAT;
				goto out;
			}
			break;
		case 1:
			if (key_line_is(line, len, KEY_4716_END)) {
				state = 2;
				break;
			}
			/* Headers ("Tag: value", "\" continues a line). */
			if (cont || memchr(line, ':', len) != NULL) {
				cont = len > 0 && line[len - 1] == '\\';
				if (buf_len(text) > 0) {
					r = FERR_FORMAT; /* header after body */
					goto out;
				}
				break;
			}
			if ((r = buf_put(text, line, len)) != 0)
				goto out;
			break;
		default:
			if (!key_only_space((const uint8_t *)line, len)) {
				r = FERR_FORMAT;
				goto out;
			}
			break;
		}
	}
	if (state != 2 || buf_len(text) == 0) {
		r = FERR_FORMAT;
		goto out;
	}
	if ((b64 = buf_dup_string(text)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_b64_decoded(blob, b64)) != 0)
		goto out;
	r = key_from_blob(blob, keyp);
 out:
	free(b64);
	buf_free(text);
	buf_free(blob);
	return r;
}

int
key_export_pem_public(const struct key *key, int pkcs1, struct buf *out)
{
	OSSL_ENCODER_CTX *ectx = NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	int r;

	if (key == NULL || out == NULL)
		return FERR_ARGUMENT;
	if (pkcs1 && key->impl->type != KEY_RSA)
		return FERR_KEY_TYPE_MISMATCH;
	if ((ectx = OSSL_ENCODER_CTX_new_for_pkey(key->pkey,
	    EVP_PKEY_PUBLIC_KEY, "PEM", pkcs1 ? "type-specific" :
	    "SubjectPublicKeyInfo", NULL)) == NULL ||
	    OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0 ||
	    OSSL_ENCODER_to_data(ectx, &data, &len) != 1) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	r = buf_put(out, data, len);
 out:
	OPENSSL_free(data);
	OSSL_ENCODER_CTX_free(ectx);
	ERR_clear_error();
	return r;
}

int
key_import_pem_public(const struct buf *in, struct key **keyp)
{
	OSSL_DECODER_CTX *dctx = NULL;
	EVP_PKEY *pkey = NULL;
	const unsigned char *p;
	size_t len;
	int r;

	if (keyp == NULL)
		return FERR_ARGUMENT;
	*keyp = NULL;
	if (in == NULL)
		return FERR_ARGUMENT;
	p = buf_ptr(in);
	len = buf_len(in);
	if ((dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL,
	    EVP_PKEY_PUBLIC_KEY, NULL, NULL)) == NULL) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	if (OSSL_DECODER_CTX_set_pem_password_cb(dctx, key_pem_no_prompt,
	    NULL) != 1) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	if (OSSL_DECODER_from_data(dctx, &p, &len) != 1 || pkey == NULL) {
		r = FERR_FORMAT;
		goto out;
	}
	r = key_from_evp(pkey, 0, keyp);
 out:
	EVP_PKEY_free(pkey);
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	return r;
}

int
key_read_file(const char *path, size_t maxlen, struct buf **bp)
{
	struct buf *b = NULL;
	struct stat st;
	uint8_t *dst;
	ssize_t n;
	int fd, r, saved;

	if (bp == NULL)
		return FERR_ARGUMENT;
	*bp = NULL;
	if (path == NULL)
		return FERR_ARGUMENT;
	if (maxlen == 0)
		maxlen = KEY_FILE_MAX_DEFAULT;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return FERR_SYSTEM;
	if (fstat(fd, &st) == -1) {
		r = FERR_SYSTEM;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		r = FERR_SYSTEM;
		goto out;
	}
	if ((b = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	buf_set_secret(b);
	for (;;) {
		if (buf_len(b) >= maxlen) {
			r = FERR_NO_SPACE;
			goto out;
		}
		if ((r = buf_reserve(b, 4096, &dst)) != 0)
			goto out;
		if ((n = read(fd, dst, 4096)) < 0) {
			if (errno != EINTR) {
				r = FERR_SYSTEM;
				goto out;
			}
			if ((r = buf_consume_end(b, 4096)) != 0)
				goto out;
			continue;
		}
		if ((r = buf_consume_end(b, 4096 - (size_t)n)) != 0)
			goto out;
		if (n == 0)
			break;
	}
	if (buf_len(b) > maxlen) {
		r = FERR_NO_SPACE;
		goto out;
	}
	*bp = b;
	b = NULL;
	r = 0;
 out:
	saved = errno;
	buf_free(b);
	close(fd);
	errno = saved;
	return r;
}

int
key_write_file(const char *path, const struct buf *b, unsigned int mode)
{
	char tmp[4096];
	const uint8_t *p;
	size_t left;
	ssize_t n;
	int fd, saved;

	if (path == NULL || b == NULL)
		return FERR_ARGUMENT;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return FERR_SYSTEM;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return FERR_SYSTEM;
	if (fchmod(fd, (mode_t)mode) == -1)
		goto fail;
	for (p = buf_ptr(b), left = buf_len(b); left > 0; ) {
		if ((n = write(fd, p, left)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return FERR_SYSTEM;
}
