/*
 * UMAC message authentication (RFC 4418) on libcrypto's AES-128.
 *
 * UMAC is a Wegman-Carter MAC: a keyed universal hash (UHASH: NH, then a
 * polynomial hash, then an inner-product hash) of the message, XORed with
 * a pad that AES derives from a nonce.  Tags of 4, 8, 12 and 16 bytes
 * (UMAC-32, -64, -96, -128) are supported; SSH uses UMAC-64 and UMAC-128
 * ("umac-64@openssh.com", "umac-128@openssh.com") with the packet
 * sequence number as an 8-byte big-endian nonce.  A nonce must never be
 * used twice with one key.
 *
 * A context hashes one message at a time: umac_update() any number of
 * times, then umac_final(), which produces the tag and leaves the context
 * ready for the next message under the same key.  Nothing is allocated
 * after umac_init().
 */
#ifndef FERRY_UMAC_H
#define FERRY_UMAC_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"	/* FERRY_WUR */

#define UMAC_KEY_LEN		16	/* the user key: an AES-128 key */
#define UMAC_NONCE_MAX		16	/* nonces are 1 to 16 bytes */
#define UMAC_TAG_MAX		16

struct umac_ctx;

/*
 * Derive the UMAC keys from the 16-byte key and allocate a context that
 * produces taglen-byte tags (4, 8, 12 or 16).  On success store it in
 * *ctxp and return 0; otherwise return FERR_KEY_LENGTH (keylen is not
 * 16), FERR_ARGUMENT (taglen), FERR_ALLOC or FERR_LIBCRYPTO and leave
 * *ctxp NULL.  The caller frees the context with umac_free().
 */
int umac_init(struct umac_ctx **ctxp, const uint8_t *key, size_t keylen,
    size_t taglen) FERRY_WUR;

/* Hash len more bytes of the current message (len may be 0). */
void umac_update(struct umac_ctx *ctx, const uint8_t *data, size_t len);

/*
 * Finish the current message: write the tag (umac_taglen() bytes) for it
 * and the nonce (noncelen from 1 to 16 bytes) to tag, and reset the
 * context for the next message.  Returns 0, FERR_ARGUMENT (noncelen) or
 * FERR_LIBCRYPTO; the context is reset in every case.
 */
int umac_final(struct umac_ctx *ctx, const uint8_t *nonce, size_t noncelen,
    uint8_t *tag) FERRY_WUR;

/* The tag length this context produces. */
size_t umac_taglen(const struct umac_ctx *ctx);

/* Wipe all key material and free the context (NULL is allowed). */
void umac_free(struct umac_ctx *ctx);

#endif /* FERRY_UMAC_H */
