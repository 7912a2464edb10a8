/*
 * Fuzz target for private key files: openssh-key-v1 (armor, outer
 * layer, check words, private key serialization, padding) and PEM or
 * PKCS#8 through libcrypto.  No passphrase is given, so a fuzzed KDF
 * round count cannot stall the run; the decrypted section's parser is
 * reached through unencrypted files.  A key that parses must survive
 * being written and read again unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf *in, *out;
	struct key *k = NULL, *back = NULL, *pub = NULL;

	if ((in = buf_from(data, size)) == NULL)
		return 0;
	(void)key_private_is_encrypted(in);
	if (key_parse_private_public(in, &pub) == 0 && pub == NULL)
		fuzz_abort();
	if (key_parse_private(in, NULL, &k) == 0) {
		if ((out = buf_new()) == NULL)
			fuzz_abort();
		if (key_write_private(k, NULL, NULL, 0, out) != 0 ||
		    key_parse_private(out, NULL, &back) != 0 ||
		    !key_equal_public(k, back) ||
		    strcmp(key_comment(k), key_comment(back)) != 0)
			fuzz_abort();
		if (pub != NULL && !key_equal_public(k, pub))
			fuzz_abort();
		buf_free(out);
	}
	key_free(k);
	key_free(back);
	key_free(pub);
	buf_free(in);
	return 0;
}
