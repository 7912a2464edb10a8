/*
 * Fuzz target for the moduli file parser: the input is a whole moduli
 * file, parsed line by line and then searched for a group as the server
 * does for diffie-hellman-group-exchange.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "kexalg.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kex_dh_group *grp = NULL;
	struct buf *b;
	const uint8_t *nl;
	size_t off = 0, len;
	int r;

	/* Every line on its own. */
	while (off < size) {
		nl = memchr(data + off, '\n', size - off);
		len = nl == NULL ? size - off : (size_t)(nl - (data + off)) + 1;
		r = kex_moduli_parse_line((const char *)data + off, len, &grp);
		/* A group comes back only when parsing succeeded. */
		if (r != 0 && grp != NULL)
			fuzz_abort();
		if (grp != NULL && (kex_dh_group_bits(grp) <
		    KEX_DH_GROUP_MIN_BITS || kex_dh_group_bits(grp) >
		    KEX_DH_GROUP_MAX_BITS))
			fuzz_abort();
		kex_dh_group_free(grp);
		grp = NULL;
		off += len;
	}
	/* The whole file, as the server chooses a group. */
	if ((b = buf_from(data, size)) == NULL)
		return 0;
	r = kex_moduli_choose_text(b, 1024, 2048, 8192, &grp);
	if (r == 0 && (grp == NULL || kex_dh_group_bits(grp) < 1024 ||
	    kex_dh_group_bits(grp) > 8192))
		fuzz_abort();
	if (r != 0 && grp != NULL)
		fuzz_abort();
	kex_dh_group_free(grp);
	buf_free(b);
	return 0;
}
