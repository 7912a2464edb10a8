/*
 * The "none" cipher of fuzzing builds (lib/cipher.c compiled with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, as crypto.am arranges for this
 * program only; the library itself is built without it, which
 * test-cipher checks).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cipher.h"
#include "ferry/err.h"
#include "tap.h"

int
main(void)
{
	const struct cipher_alg *alg = cipher_by_name("none");
	struct cipher_ctx *ctx = NULL;
	uint8_t in[4 + 64], out[4 + 64], buf[4 + 64];
	uint32_t plen = 0;
	size_t i;
	char *s;

	if (!ok(alg != NULL, "\"none\" exists in a fuzzing build"))
		return tap_done();
	is_int(cipher_keylen(alg), 0, "no key");
	is_int(cipher_ivlen(alg), 0, "no IV");
	is_int(cipher_authlen(alg), 0, "no tag");
	is_int(cipher_blocksize(alg), 8, "block size 8");
	is_int(cipher_is_aead(alg), 0, "not an AEAD");
	ok(cipher_init(&ctx, alg, NULL, 0, NULL, 0, 1) == 0, "init");
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	memset(out, 0, sizeof(out));
	ok(cipher_crypt(ctx, 3, out, in, 64, 4, 0) == 0 &&
	    memcmp(out, in, sizeof(in)) == 0, "out of place copies");
	memcpy(buf, in, sizeof(in));
	ok(cipher_crypt(ctx, 3, buf, buf, 64, 4, 0) == 0 &&
	    memcmp(buf, in, sizeof(in)) == 0, "in place leaves the data");
	ok(cipher_get_length(ctx, &plen, 3, in, 4) == 0 && plen == 0x00010203,
	    "the length is read as it stands");
	cipher_free(ctx);

	s = cipher_alg_list(',', 1);
	ok(s != NULL && strstr(s, ",none") != NULL, "the full list has none");
	free(s);
	s = cipher_alg_list(',', 0);
	ok(s != NULL && strstr(s, "none") == NULL,
	    "the ordinary list does not");
	free(s);
	ok(strstr(cipher_default_list(), "none") == NULL,
	    "nor the default list");
	return tap_done();
}
