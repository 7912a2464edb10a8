/*
 * Message authentication codes of the SSH binary packet protocol
 * (RFC 4253 section 6.4, RFC 6668, OpenSSH's -etm and UMAC variants).
 *
 * Algorithms, named as OpenSSH names them:
 *   hmac-sha2-256-etm@openssh.com, hmac-sha2-512-etm@openssh.com
 *   hmac-sha2-256, hmac-sha2-512
 *   umac-64-etm@openssh.com, umac-128-etm@openssh.com
 *   umac-64@openssh.com, umac-128@openssh.com
 *   hmac-sha1, hmac-sha1-etm@openssh.com	legacy: only when enabled
 *
 * What is authenticated: for HMAC, uint32 seqnr || data, where data is
 * the whole unencrypted packet (length field included) or, for -etm
 * ("encrypt-then-MAC"), the clear length and the encrypted packet.  UMAC
 * authenticates the same data with the sequence number, as an 8-byte
 * big-endian number, as its nonce instead of as a prefix (OpenSSH's
 * construction).  Tags are never truncated here: HMAC tags are the full
 * digest, UMAC tags 8 or 16 bytes.  Keys are the digest length (HMAC) or
 * 16 bytes (UMAC).
 */
#ifndef FERRY_MAC_H
#define FERRY_MAC_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"	/* FERRY_WUR */

#define MAC_KEY_MAX		64
#define MAC_TAG_MAX		64

/* Ferry's default MAC preference: OpenSSH 9.2's without the SHA-1 ones. */
#define MAC_DEFAULT_LIST \
	"umac-64-etm@openssh.com,umac-128-etm@openssh.com," \
	"hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com," \
	"umac-64@openssh.com,umac-128@openssh.com," \
	"hmac-sha2-256,hmac-sha2-512"

struct mac_alg;
struct mac_ctx;

/*
 * The MAC of that exact name, or NULL when it is unknown (or NULL), or
 * legacy (hmac-sha1, hmac-sha1-etm@openssh.com) and allow_legacy is 0.
 * The result is static.
 */
const struct mac_alg *mac_by_name(const char *name, int allow_legacy);

/* Properties of an algorithm. */
const char *mac_name(const struct mac_alg *alg);
size_t mac_keylen(const struct mac_alg *alg);	/* bytes of key to derive */
size_t mac_taglen(const struct mac_alg *alg);	/* bytes on the wire */
int mac_is_etm(const struct mac_alg *alg);	/* 1: encrypt-then-MAC */
int mac_is_legacy(const struct mac_alg *alg);	/* 1: only when enabled */

/*
 * Make a context for alg keyed with exactly mac_keylen(alg) bytes.  On
 * success store it in *ctxp and return 0; otherwise leave *ctxp NULL and
 * return FERR_ARGUMENT (alg NULL), FERR_KEY_LENGTH, FERR_ALLOC or
 * FERR_LIBCRYPTO.  The context keeps its own copy of the key material;
 * free it with mac_free().
 */
int mac_init(struct mac_ctx **ctxp, const struct mac_alg *alg,
    const uint8_t *key, size_t keylen) FERRY_WUR;

/* The algorithm a context was made for. */
const struct mac_alg *mac_ctx_alg(const struct mac_ctx *ctx);

/*
 * Compute the tag of len bytes at data for sequence number seqnr into out,
 * which has room for outlen >= mac_taglen() bytes; exactly mac_taglen()
 * bytes are written.  Returns 0, FERR_ARGUMENT (outlen too small) or
 * FERR_LIBCRYPTO.
 */
int mac_compute(struct mac_ctx *ctx, uint32_t seqnr, const uint8_t *data,
    size_t len, uint8_t *out, size_t outlen) FERRY_WUR;

/*
 * Check the taglen-byte tag of len bytes at data for seqnr, comparing in
 * constant time.  Returns 0 when it matches, FERR_MAC_INVALID when it does
 * not, FERR_ARGUMENT when taglen is not mac_taglen(), or FERR_LIBCRYPTO.
 */
int mac_check(struct mac_ctx *ctx, uint32_t seqnr, const uint8_t *data,
    size_t len, const uint8_t *tag, size_t taglen) FERRY_WUR;

/* Wipe all key material and free the context (NULL is allowed). */
void mac_free(struct mac_ctx *ctx);

/* The default MAC list, MAC_DEFAULT_LIST; static. */
const char *mac_default_list(void);

/*
 * Every MAC this build supports, in table order, separated by sep; the
 * legacy ones only when all != 0.  The caller frees the string; NULL when
 * out of memory.
 */
char *mac_alg_list(char sep, int all);

#endif /* FERRY_MAC_H */
