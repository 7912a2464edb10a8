/*
 * SSH keys: the key types Ferry supports, an opaque key object over a
 * libcrypto EVP_PKEY, public key blobs and lines, signatures,
 * fingerprints and key files in OpenSSH's formats.
 *
 * Supported types (by their SSH names): ssh-ed25519 (RFC 8709),
 * ecdsa-sha2-nistp256/384/521 (RFC 5656) and ssh-rsa (RFC 4253) with the
 * signature algorithms rsa-sha2-512 and rsa-sha2-256 (RFC 8332); the
 * SHA-1 "ssh-rsa" signature only with KEY_SIG_ALLOW_SHA1.
 *
 * Ownership: functions that return a key in *keyp hand the caller a new
 * key to release with key_free(); they set *keyp to NULL on failure.
 * Secret material is wiped when a key is freed.  All functions returning
 * int return 0 or a negative FERR_* code unless stated otherwise.
 */
#ifndef FERRY_KEY_H
#define FERRY_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

struct key;

enum key_type {
	KEY_UNSPEC = 0,
	KEY_ED25519,
	KEY_ECDSA_P256,
	KEY_ECDSA_P384,
	KEY_ECDSA_P521,
	KEY_RSA,
};

/* RSA sizes, in bits: generation floor, default, and the largest key. */
#define KEY_RSA_MIN_GEN_BITS	2048
#define KEY_RSA_DEFAULT_BITS	3072
#define KEY_RSA_MAX_BITS	16384
/* Smallest RSA modulus accepted when reading a key (OpenSSH's floor). */
#define KEY_RSA_MIN_BITS	1024

/* Longest comment kept with a key (longer ones are refused). */
#define KEY_COMMENT_MAX		4096

/* Flags for key_sign() and key_verify(). */
#define KEY_SIG_ALLOW_SHA1	0x01	/* permit ssh-rsa (SHA-1) signatures */

/* Fingerprint digests. */
enum key_fp_hash {
	KEY_FP_SHA256 = 0,
	KEY_FP_MD5,
};

/*
 * Type table lookups.  key_type_from_name maps an SSH key type name
 * ("ssh-ed25519") to its type, or KEY_UNSPEC.  key_type_name is the SSH
 * name, key_type_short the display name ssh-keygen prints ("ED25519",
 * "ECDSA", "RSA"); both return "unknown" for KEY_UNSPEC.
 */
enum key_type key_type_from_name(const char *name);

/*
 * Whether name is a key type OpenSSH knows (1) or not (0): the supported
 * types and those Ferry reads past without using (ssh-dss, security key
 * types, certificate types).  Lines of files shared with OpenSSH that
 * carry such keys are valid, not malformed.
 */
int key_type_name_known(const char *name);
const char *key_type_name(enum key_type type);
const char *key_type_short(enum key_type type);

/*
 * Generate a new private key.  bits: 0 for the type's default; for RSA
 * KEY_RSA_MIN_GEN_BITS..KEY_RSA_MAX_BITS (smaller or larger is
 * FERR_KEY_LENGTH); for the fixed-size types 0 or their size.
 */
int key_generate(enum key_type type, unsigned int bits, struct key **keyp)
    FERRY_WUR;

/* Release a key and wipe its secrets (NULL is allowed). */
void key_free(struct key *key);

/* The key's type, size in bits and whether it holds the private part. */
enum key_type key_get_type(const struct key *key);
unsigned int key_bits(const struct key *key);
int key_is_private(const struct key *key);

/* A new key holding only the public part (and the comment) of key. */
int key_demote(const struct key *key, struct key **pubp) FERRY_WUR;

/*
 * Whether a and b have the same type and public key: 1 if so, else 0
 * (also when either is NULL).  Comments and private parts are ignored.
 */
int key_equal_public(const struct key *a, const struct key *b);

/*
 * The comment: key_comment returns it (never NULL, "" when unset);
 * key_set_comment copies c (NULL clears it).
 */
const char *key_comment(const struct key *key);
int key_set_comment(struct key *key, const char *c) FERRY_WUR;

/*
 * Public key blobs (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4).
 * key_to_blob appends the blob of key's public part to b.
 * key_from_blob parses the whole of the unconsumed bytes of b (which it
 * consumes) strictly: known type name, RSA e odd and in [3, 2^64),
 * modulus KEY_RSA_MIN_BITS..KEY_RSA_MAX_BITS, EC curve name matching the
 * type and point uncompressed and on the curve, ed25519 key 32 bytes,
 * and no trailing data.  key_from_blob_mem is the same over memory.
 */
int key_to_blob(const struct key *key, struct buf *b) FERRY_WUR;
int key_from_blob(struct buf *b, struct key **keyp) FERRY_WUR;
int key_from_blob_mem(const uint8_t *p, size_t len, struct key **keyp)
    FERRY_WUR;

/*
 * Public key lines as in .pub files and authorized_keys without options:
 * "type base64-blob [comment]".  key_parse_public_line accepts leading
 * and trailing whitespace and a trailing newline; the type word must
 * name the blob's type; the comment (the rest of the line, trimmed) is
 * kept with the key.  key_format_public_line appends "type base64" and,
 * when the key has a non-empty comment, " comment" (no newline).
 */
int key_parse_public_line(const char *line, struct key **keyp) FERRY_WUR;
int key_format_public_line(const struct key *key, struct buf *out) FERRY_WUR;

/*
 * Signature algorithms.  key_sig_alg_default names the algorithm
 * key_sign uses when alg is NULL (rsa-sha2-512 for RSA, the key type
 * name otherwise).  key_sig_alg_allowed returns 1 when signatures named
 * alg may be made or checked with key (taking KEY_SIG_ALLOW_SHA1 in
 * flags into account), else 0.
 */
const char *key_sig_alg_default(const struct key *key);
int key_sig_alg_allowed(const struct key *key, const char *alg,
    unsigned int flags);

/*
 * Sign len bytes at data with a private key and append the SSH signature
 * blob (string algorithm name, string signature) to sig.  alg NULL
 * selects key_sig_alg_default(); an algorithm the key may not use is
 * FERR_KEY_TYPE_MISMATCH (ssh-rsa without KEY_SIG_ALLOW_SHA1 is
 * FERR_NOT_SUPPORTED).
 */
int key_sign(const struct key *key, const char *alg, const uint8_t *data,
    size_t len, unsigned int flags, struct buf *sig) FERRY_WUR;

/*
 * Verify the SSH signature blob sig (siglen bytes) over data.  The blob's
 * algorithm must be one the key may use (see key_sig_alg_allowed) and,
 * when want_alg is not NULL, equal to it; the blob may not carry
 * trailing data.  Returns 0 only for a valid signature;
 * FERR_SIGNATURE_INVALID when it does not verify, FERR_KEY_TYPE_MISMATCH
 * for an algorithm that does not belong to the key, FERR_NOT_SUPPORTED
 * for ssh-rsa without KEY_SIG_ALLOW_SHA1, FERR_FORMAT and others for a
 * malformed blob.
 */
int key_verify(const struct key *key, const uint8_t *sig, size_t siglen,
    const uint8_t *data, size_t len, const char *want_alg,
    unsigned int flags) FERRY_WUR;

/*
 * Fingerprints as ssh-keygen prints them: "SHA256:" and the unpadded
 * base64 of the SHA-256 of the blob, or "MD5:" and the colon-separated
 * lowercase hex of its MD5.  *fpp gets an allocated string.
 */
int key_fingerprint(const struct key *key, enum key_fp_hash hash,
    char **fpp) FERRY_WUR;

/*
 * The "randomart" picture of the fingerprint (OpenSSH's drunken bishop),
 * byte for byte as ssh-keygen -lv prints it: 11 lines separated by
 * newlines, without a final newline.  *artp gets an allocated string.
 */
int key_randomart(const struct key *key, enum key_fp_hash hash,
    char **artp) FERRY_WUR;

/*
 * Private key files.
 *
 * key_parse_private reads the unconsumed bytes of file (not consumed):
 * an OpenSSH "openssh-key-v1" file, or a PEM file (PKCS#1 "RSA PRIVATE
 * KEY", SEC1 "EC PRIVATE KEY", PKCS#8 "PRIVATE KEY" or "ENCRYPTED
 * PRIVATE KEY", and legacy encrypted PEM) decoded by libcrypto.
 * passphrase may be NULL or "" for an unencrypted file.  An encrypted
 * file and a missing or wrong passphrase is FERR_KEY_WRONG_PASSPHRASE;
 * an unsupported cipher or KDF is FERR_KEY_UNKNOWN_CIPHER; anything else
 * malformed is FERR_FORMAT or FERR_KEY_INVALID.  The comment stored in
 * an openssh-key-v1 file is set on the key.
 */
int key_parse_private(const struct buf *file, const char *passphrase,
    struct key **keyp) FERRY_WUR;

/*
 * The public key of a private key file without decrypting it: works for
 * openssh-key-v1 files (encrypted or not; no comment is available then)
 * and for unencrypted PEM files.  FERR_KEY_WRONG_PASSPHRASE for an
 * encrypted PEM file, whose public part cannot be read without it.
 */
int key_parse_private_public(const struct buf *file, struct key **keyp)
    FERRY_WUR;

/* Whether file is a private key file that needs a passphrase: 1 or 0. */
int key_private_is_encrypted(const struct buf *file);

/* Default bcrypt_pbkdf rounds and cipher of encrypted private key files. */
#define KEY_KDF_ROUNDS_DEFAULT	16
#define KEY_CIPHER_DEFAULT	"aes256-ctr"

/* Whether name is a cipher key_write_private can encrypt with: 1 or 0. */
int key_private_cipher_supported(const char *name);

/*
 * Append the openssh-key-v1 file (PEM-armored text) of a private key
 * with its comment.  passphrase NULL or "" writes it unencrypted; else
 * it is encrypted with cipher (NULL for KEY_CIPHER_DEFAULT) and a key
 * derived by bcrypt_pbkdf with a random 16-byte salt and rounds rounds
 * (0 for KEY_KDF_ROUNDS_DEFAULT).
 */
int key_write_private(const struct key *key, const char *passphrase,
    const char *cipher, unsigned int rounds, struct buf *out) FERRY_WUR;

/*
 * RFC 4716 public key files.  key_export_rfc4716 appends the
 * "---- BEGIN SSH2 PUBLIC KEY ----" block with a Comment header when
 * header_comment is not NULL (quoted), base64 lines of 70 characters.
 * key_import_rfc4716 parses one such block from the unconsumed bytes of
 * in (headers, with continuation lines, are skipped).
 */
int key_export_rfc4716(const struct key *key, const char *header_comment,
    struct buf *out) FERRY_WUR;
int key_import_rfc4716(const struct buf *in, struct key **keyp) FERRY_WUR;

/*
 * Public keys in PEM, as ssh-keygen -e/-i -m PKCS8|PEM use them.
 * key_export_pem_public appends a "PUBLIC KEY" block (X.509
 * SubjectPublicKeyInfo) or, with pkcs1 set and an RSA key, an "RSA
 * PUBLIC KEY" block (PKCS#1; other types are FERR_KEY_TYPE_MISMATCH).
 * key_import_pem_public reads either from the unconsumed bytes of in,
 * through libcrypto's decoders; the key is validated as a blob would be.
 */
int key_export_pem_public(const struct key *key, int pkcs1, struct buf *out)
    FERRY_WUR;
int key_import_pem_public(const struct buf *in, struct key **keyp) FERRY_WUR;

/*
 * Read a whole (key) file into a new secret buffer, at most maxlen bytes
 * (0 for 1 MiB); FERR_SYSTEM with errno set when it cannot be read,
 * FERR_NO_SPACE when it is larger.
 */
int key_read_file(const char *path, size_t maxlen, struct buf **bp)
    FERRY_WUR;

/*
 * Write b's unconsumed bytes to path with permission mode, replacing the
 * file atomically (a temporary file in the same directory is renamed
 * over it).  FERR_SYSTEM with errno set on failure.
 */
int key_write_file(const char *path, const struct buf *b, unsigned int mode)
    FERRY_WUR;

#endif /* FERRY_KEY_H */
