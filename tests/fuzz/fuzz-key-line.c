/*
 * Fuzz target for public key lines ("type base64 comment"), RFC 4716
 * public key files and PEM public keys.  A line that parses must format
 * back to a line that parses to the same key and comment.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_line(const char *s)
{
	struct key *k = NULL, *k2 = NULL;
	struct buf *out;
	char *again;

	if (key_parse_public_line(s, &k) != 0) {
		if (k != NULL)
			fuzz_abort();
		return;
	}
	if ((out = buf_new()) == NULL)
		fuzz_abort();
	if (key_format_public_line(k, out) != 0 ||
	    (again = buf_dup_string(out)) == NULL ||
	    key_parse_public_line(again, &k2) != 0 ||
	    !key_equal_public(k, k2) ||
	    strcmp(key_comment(k), key_comment(k2)) != 0)
		fuzz_abort();
	free(again);
	buf_free(out);
	key_free(k);
	key_free(k2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf *in;
	struct key *k = NULL;
	char *s;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_line(s);
	free(s);
	if ((in = buf_from(data, size)) == NULL)
		return 0;
	if (key_import_rfc4716(in, &k) == 0 && k == NULL)
		fuzz_abort();
	key_free(k);
	k = NULL;
	if (key_import_pem_public(in, &k) == 0 && k == NULL)
		fuzz_abort();
	key_free(k);
	buf_free(in);
	return 0;
}
