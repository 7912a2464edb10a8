/*
 * Message digests by id and by name: thin wrappers over libcrypto's EVP
 * digests for the hashes SSH uses (key exchange, fingerprints, KDF).
 *
 * Algorithm ids index one table in digest.c; every function that takes
 * an id rejects an unknown one with FERR_ARGUMENT.
 */
#ifndef FERRY_DIGEST_H
#define FERRY_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

enum digest_alg {
	DIGEST_MD5 = 0,
	DIGEST_SHA1,
	DIGEST_SHA256,
	DIGEST_SHA384,
	DIGEST_SHA512,
	DIGEST_COUNT		/* number of algorithms, not an algorithm */
};

/* The largest digest any algorithm produces (SHA-512). */
#define DIGEST_MAX_BYTES	64

struct digest_ctx;

/*
 * The id of the digest called name ("SHA256", "sha-256", "sha256" and
 * OpenSSL-style spellings are accepted, case-insensitive), or -1.
 */
int digest_by_name(const char *name);

/* The canonical name ("SHA256") of alg, or NULL for an unknown id. */
const char *digest_name(int alg);

/* Output length in bytes of alg, or 0 for an unknown id. */
size_t digest_bytes(int alg);

/*
 * Hash len bytes at m with alg into d, which has room for dlen bytes;
 * dlen must be at least digest_bytes(alg) (FERR_NO_SPACE otherwise).
 * Returns 0 or a negative FERR_* code.
 */
int digest_memory(int alg, const void *m, size_t len, uint8_t *d,
    size_t dlen) FERRY_WUR;

/* As digest_memory, over the unconsumed bytes of b (b is not consumed). */
int digest_buffer(int alg, const struct buf *b, uint8_t *d,
    size_t dlen) FERRY_WUR;

/*
 * Incremental hashing: digest_init allocates a context for alg into
 * *ctxp; digest_update and digest_update_buffer feed data; digest_final
 * writes the digest (dlen >= digest_bytes) and leaves the context
 * unusable until digest_init is called again; digest_free releases a
 * context (NULL is allowed), wiping its state.
 */
int digest_init(int alg, struct digest_ctx **ctxp) FERRY_WUR;
int digest_update(struct digest_ctx *ctx, const void *m,
    size_t len) FERRY_WUR;
int digest_update_buffer(struct digest_ctx *ctx,
    const struct buf *b) FERRY_WUR;
int digest_final(struct digest_ctx *ctx, uint8_t *d, size_t dlen) FERRY_WUR;
void digest_free(struct digest_ctx *ctx);

/* The algorithm of a context. */
int digest_ctx_alg(const struct digest_ctx *ctx);

#endif /* FERRY_DIGEST_H */
