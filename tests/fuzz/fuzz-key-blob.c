/*
 * Fuzz target for public key blobs.  A blob that parses must be in
 * canonical form (it encodes back to the same bytes), and its
 * fingerprints, picture and public key line must work and agree.
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
	struct key *k = NULL, *k2 = NULL;
	struct buf *b, *line;
	char *s, *fp, *art;

	if (key_from_blob_mem(data, size, &k) != 0) {
		if (k != NULL)
			fuzz_abort();
		return 0;
	}
	if ((b = buf_new()) == NULL || (line = buf_new()) == NULL)
		fuzz_abort();
	if (key_to_blob(k, b) != 0 || buf_len(b) != size ||
	    memcmp(buf_ptr(b), data, size) != 0)
		fuzz_abort();
	if (key_fingerprint(k, KEY_FP_SHA256, &fp) != 0)
		fuzz_abort();
	free(fp);
	if (key_fingerprint(k, KEY_FP_MD5, &fp) != 0)
		fuzz_abort();
	free(fp);
	if (key_randomart(k, KEY_FP_SHA256, &art) != 0)
		fuzz_abort();
	free(art);
	if (key_format_public_line(k, line) != 0 ||
	    (s = buf_dup_string(line)) == NULL ||
	    key_parse_public_line(s, &k2) != 0 || !key_equal_public(k, k2))
		fuzz_abort();
	free(s);
	key_free(k2);
	buf_free(line);
	buf_free(b);
	key_free(k);
	return 0;
}
