/*
 * Symmetric ciphers of the SSH binary packet protocol (RFC 4253 section 6),
 * thin wrappers over libcrypto EVP.
 *
 * Algorithms, named as OpenSSH names them:
 *   chacha20-poly1305@openssh.com	AEAD; OpenSSH PROTOCOL.chacha20poly1305
 *   aes128-gcm@openssh.com		AEAD; RFC 5647 as OpenSSH uses it
 *   aes256-gcm@openssh.com
 *   aes128-ctr, aes192-ctr, aes256-ctr	RFC 4344; needs a MAC (mac.h)
 *   none				only in fuzzing builds (defined
 *				FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
 *
 * A packet as cipher_crypt() sees it is aadlen bytes of "associated data"
 * (the 4-byte packet length when it is not encrypted with the payload),
 * then len bytes to encrypt or decrypt, then for an AEAD cipher a tag of
 * cipher_authlen() bytes.  How each cipher treats the length field:
 *   - chacha20-poly1305: the 4-byte length (aadlen must be 4) is
 *     encrypted with its own key, K_1; the tag covers the encrypted
 *     length and payload.  The sequence number is the nonce.
 *   - AES-GCM: the length is AAD, sent in the clear and authenticated.
 *     The sequence number is not used: the nonce is the 12-byte IV from
 *     key exchange whose last 8 bytes (the invocation counter) go up by
 *     one, mod 2^64, after each packet.
 *   - AES-CTR and none: the aadlen bytes (the clear length of an
 *     encrypt-then-MAC packet, else 0) are copied unchanged; the len bytes
 *     are one continuous CTR key stream across packets.  There is no tag:
 *     the MAC is separate.
 *
 * A context is made for one direction and one key; it allocates nothing
 * per packet.  It is not thread-safe; use one per direction.
 */
#ifndef FERRY_CIPHER_H
#define FERRY_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"	/* FERRY_WUR */

/* Largest key, IV and tag of any cipher here. */
#define CIPHER_KEY_MAX		64
#define CIPHER_IV_MAX		16
#define CIPHER_AUTH_MAX		16

/* Ferry's default cipher preference, as for the Ciphers option. */
#define CIPHER_DEFAULT_LIST \
	"chacha20-poly1305@openssh.com," \
	"aes128-ctr,aes192-ctr,aes256-ctr," \
	"aes128-gcm@openssh.com,aes256-gcm@openssh.com"

struct cipher_alg;
struct cipher_ctx;

/*
 * The algorithm of that exact name, or NULL when it is unknown (or NULL).
 * "none" is known only in fuzzing builds.  The result is static.
 */
const struct cipher_alg *cipher_by_name(const char *name);

/* Properties of an algorithm, in bytes. */
const char *cipher_name(const struct cipher_alg *alg);
size_t cipher_blocksize(const struct cipher_alg *alg);	/* packet padding */
size_t cipher_keylen(const struct cipher_alg *alg);
size_t cipher_ivlen(const struct cipher_alg *alg);	/* 0: none needed */
size_t cipher_authlen(const struct cipher_alg *alg);	/* tag; 0 if none */
/* 1 if the cipher authenticates (no separate MAC is negotiated), else 0. */
int cipher_is_aead(const struct cipher_alg *alg);

/*
 * Make a context for alg with exactly cipher_keylen(alg) bytes of key and
 * cipher_ivlen(alg) bytes of IV (iv may be NULL when that is 0), to
 * encrypt (do_encrypt != 0) or decrypt.  On success store it in *ctxp and
 * return 0; otherwise leave *ctxp NULL and return FERR_ARGUMENT (alg NULL,
 * wrong IV length), FERR_KEY_LENGTH, FERR_ALLOC or FERR_LIBCRYPTO.  The
 * context keeps its own copy of the key material; free it with
 * cipher_free().
 */
int cipher_init(struct cipher_ctx **ctxp, const struct cipher_alg *alg,
    const uint8_t *key, size_t keylen, const uint8_t *iv, size_t ivlen,
    int do_encrypt) FERRY_WUR;

/* The algorithm a context was made for. */
const struct cipher_alg *cipher_ctx_alg(const struct cipher_ctx *ctx);

/*
 * Encrypt or decrypt one packet for sequence number seqnr.  src holds
 * aadlen bytes of associated data, len bytes of data and, when decrypting
 * with an AEAD cipher, the authlen-byte tag.  The result goes to dest
 * (aadlen + len bytes, plus the tag when encrypting with an AEAD cipher);
 * dest may equal src (in place) but must not otherwise overlap it.
 * authlen must be cipher_authlen(); len must be a multiple of the block
 * size for AES; aadlen must be 4 for chacha20-poly1305.
 *
 * An AEAD decryption checks the tag, in constant time, before it releases
 * any plaintext: on a mismatch it returns FERR_MAC_INVALID with dest
 * holding exactly what it held before the call, and the context unchanged
 * (a retry with the right packet still works).  libcrypto's GCM verifies
 * while it decrypts, so AES-GCM decrypts in place into dest and, if the
 * tag does not verify, applies the key stream again to put the ciphertext
 * back; out of place it decrypts into a buffer the context keeps (grown
 * when needed, wiped after each use) and copies only verified plaintext
 * to dest.
 *
 * Returns 0, FERR_MAC_INVALID, FERR_ARGUMENT or FERR_LIBCRYPTO.
 */
int cipher_crypt(struct cipher_ctx *ctx, uint32_t seqnr, uint8_t *dest,
    const uint8_t *src, size_t len, size_t aadlen, size_t authlen) FERRY_WUR;

/*
 * Read the packet length from the first len bytes of a packet, cp, into
 * *plenp: chacha20-poly1305 decrypts it (with K_1 and seqnr), every other
 * cipher reads it as it stands (for non-AEAD ciphers without
 * encrypt-then-MAC the caller decrypts the first block first).  cp is not
 * changed.  Returns 0, or FERR_INCOMPLETE when len < 4, or FERR_LIBCRYPTO.
 * The length is not authenticated yet: check it against the packet limit
 * before waiting for that many bytes.
 */
int cipher_get_length(struct cipher_ctx *ctx, uint32_t *plenp,
    uint32_t seqnr, const uint8_t *cp, size_t len) FERRY_WUR;

/*
 * The IV that continues ctx's stream where it stands, for handing a live
 * connection to another process: cipher_init() with the same key and this
 * IV makes a context that treats the next packet exactly as ctx would.
 * AES-CTR: the current counter block; AES-GCM: the next packet's nonce
 * (the invocation counter included); chacha20-poly1305, keyed per
 * sequence number, and none: no IV.  Writes cipher_ivlen() bytes to iv,
 * which has room for ivsize.  Returns 0, FERR_ARGUMENT (ivsize too
 * small), FERR_NOT_SUPPORTED (a CTR stream stopped inside a block, which
 * the packet layer never does) or FERR_LIBCRYPTO.
 */
int cipher_get_iv(struct cipher_ctx *ctx, uint8_t *iv, size_t ivsize)
    FERRY_WUR;

/* Wipe all key material and free the context (NULL is allowed). */
void cipher_free(struct cipher_ctx *ctx);

/* The default cipher list, CIPHER_DEFAULT_LIST; static. */
const char *cipher_default_list(void);

/*
 * Every cipher this build supports, in table order, separated by sep
 * (e.g. ',' or '\n'); "none" only with all != 0 in fuzzing builds.  The
 * caller frees the string; NULL when out of memory.
 */
char *cipher_alg_list(char sep, int all);

#endif /* FERRY_CIPHER_H */
