/*
 * Unit tests for lib/digest.c: known answers (FIPS 180-4 "abc" examples,
 * RFC 1321 for MD5), lookup by name, one-shot and incremental hashing,
 * buffers, and argument errors.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "digest.h"
#include "tap.h"
#include "test-kex-util.h"

struct digest_kat {
	int alg;
	const char *name;
	size_t bytes;
	const char *abc;	/* digest of "abc" */
};

static const struct digest_kat kats[] = {
	{ DIGEST_MD5, "MD5", 16, "900150983cd24fb0d6963f7d28e17f72" },
	{ DIGEST_SHA1, "SHA1", 20, "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ DIGEST_SHA256, "SHA256", 32,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ DIGEST_SHA384, "SHA384", 48,
	    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
	    "8086072ba1e7cc2358baeca134c825a7" },
	{ DIGEST_SHA512, "SHA512", 64,
	    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
};

static void
test_kat(const struct digest_kat *k)
{
	struct digest_ctx *ctx = NULL;
	struct buf *b;
	uint8_t d[DIGEST_MAX_BYTES], d2[DIGEST_MAX_BYTES];
	uint8_t *want;
	size_t wantlen;

	want = test_unhex(k->abc, &wantlen);
	is_int(digest_bytes(k->alg), k->bytes, "%s: length", k->name);
	is_int(wantlen, k->bytes, "%s: vector length", k->name);
	ok(strcmp(digest_name(k->alg), k->name) == 0, "%s: name", k->name);
	is_int(digest_by_name(k->name), k->alg, "%s: by name", k->name);

	is_int(digest_memory(k->alg, "abc", 3, d, sizeof(d)), 0,
	    "%s: one-shot", k->name);
	is_mem(d, k->bytes, want, wantlen, "%s: one-shot \"abc\"", k->name);

	/* Over a buffer: only the unconsumed bytes count. */
	b = buf_new();
	ok(b != NULL && buf_put(b, "xxabc", 5) == 0 &&
	    buf_consume(b, 2) == 0, "%s: buffer", k->name);
	memset(d, 0, sizeof(d));
	is_int(digest_buffer(k->alg, b, d, sizeof(d)), 0, "%s: buffer hash",
	    k->name);
	is_mem(d, k->bytes, want, wantlen, "%s: buffer \"abc\"", k->name);
	is_int(buf_len(b), 3, "%s: buffer not consumed", k->name);

	/* Incremental, split in pieces, including an empty update. */
	is_int(digest_init(k->alg, &ctx), 0, "%s: init", k->name);
	is_int(digest_ctx_alg(ctx), k->alg, "%s: ctx alg", k->name);
	ok(digest_update(ctx, "a", 1) == 0 && digest_update(ctx, NULL, 0) == 0 &&
	    digest_update(ctx, "b", 1) == 0, "%s: updates", k->name);
	buf_reset(b);
	ok(buf_put(b, "c", 1) == 0 && digest_update_buffer(ctx, b) == 0,
	    "%s: update from buffer", k->name);
	is_int(digest_final(ctx, d2, k->bytes), 0, "%s: final", k->name);
	is_mem(d2, k->bytes, want, wantlen, "%s: incremental \"abc\"",
	    k->name);
	digest_free(ctx);

	/* Output too small. */
	is_int(digest_memory(k->alg, "abc", 3, d, k->bytes - 1), FERR_NO_SPACE,
	    "%s: short output refused", k->name);
	is_int(digest_init(k->alg, &ctx), 0, "%s: init again", k->name);
	is_int(digest_final(ctx, d, k->bytes - 1), FERR_NO_SPACE,
	    "%s: short final refused", k->name);
	digest_free(ctx);
	buf_free(b);
	free(want);
}

static void
test_names(void)
{
	is_int(digest_by_name("sha-256"), DIGEST_SHA256, "alias sha-256");
	is_int(digest_by_name("SHA2-512"), DIGEST_SHA512, "alias SHA2-512");
	is_int(digest_by_name("sha1"), DIGEST_SHA1, "lower case sha1");
	is_int(digest_by_name("md5"), DIGEST_MD5, "lower case md5");
	is_int(digest_by_name("sha3-256"), -1, "unknown name");
	is_int(digest_by_name(""), -1, "empty name");
	is_int(digest_by_name(NULL), -1, "NULL name");
	ok(digest_name(-1) == NULL && digest_name(DIGEST_COUNT) == NULL,
	    "unknown id has no name");
	is_int(digest_bytes(DIGEST_COUNT), 0, "unknown id has no length");
}

static void
test_errors(void)
{
	struct digest_ctx *ctx = (struct digest_ctx *)1;
	uint8_t d[DIGEST_MAX_BYTES], *want;
	size_t wantlen;

	is_int(digest_memory(DIGEST_COUNT, "a", 1, d, sizeof(d)),
	    FERR_ARGUMENT, "one-shot with unknown id");
	is_int(digest_memory(DIGEST_SHA1, NULL, 1, d, sizeof(d)),
	    FERR_ARGUMENT, "NULL data with a length");
	is_int(digest_init(-1, &ctx), FERR_ARGUMENT, "init with unknown id");
	ok(ctx == NULL, "failed init clears the context");
	is_int(digest_update(NULL, "a", 1), FERR_ARGUMENT, "update NULL ctx");
	is_int(digest_buffer(DIGEST_SHA1, NULL, d, sizeof(d)), FERR_ARGUMENT,
	    "NULL buffer");
	digest_free(NULL);
	/* The empty message (FIPS 180 SHA-1 of ""). */
	want = test_unhex("da39a3ee5e6b4b0d3255bfef95601890afd80709",
	    &wantlen);
	is_int(digest_memory(DIGEST_SHA1, NULL, 0, d, sizeof(d)), 0,
	    "empty message");
	is_mem(d, 20, want, wantlen, "SHA-1 of the empty message");
	free(want);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < sizeof(kats) / sizeof(kats[0]); i++)
		test_kat(&kats[i]);
	test_names();
	test_errors();
	return tap_done();
}
