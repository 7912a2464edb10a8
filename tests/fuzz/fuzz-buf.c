/*
 * Fuzz target for the wire buffer's parsers: the input is read as a
 * sequence of typed fields, the type of each chosen by a leading byte, as
 * every SSH and SFTP message parser would read it.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/bn.h>

#include "ferry/buf.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_buf_field(struct buf *b, uint8_t op)
{
	const uint8_t *p;
	uint8_t *s = NULL;
	char *c = NULL;
	BIGNUM *bn = NULL;
	struct buf *child = NULL, *out = NULL;
	uint64_t u64;
	size_t len;
	int r, v;

	switch (op % 12) {
	case 0: r = buf_get_u32(b, NULL); break;
	case 1: r = buf_get_u64(b, &u64); break;
	case 2: r = buf_get_bool(b, &v); break;
	case 3: r = buf_get_string(b, &s, &len); break;
	case 4: r = buf_get_cstring(b, &c, &len); break;
	case 5: r = buf_get_namelist(b, &c); break;
	case 6: r = buf_get_mpint_bytes_direct(b, &p, &len); break;
	case 7:
		if ((r = buf_get_mpint(b, &bn)) == 0) {
			/* A value read must encode back to the same bytes. */
			if ((out = buf_new()) == NULL || buf_put_mpint(out, bn) != 0)
				fuzz_abort();
		}
		break;
	case 8:
		if ((r = buf_froms(b, &child)) == 0)
			r = buf_get_u8(child, NULL);
		break;
	case 9: r = buf_peek_string_direct(b, &p, &len); break;
	case 10: r = buf_get_direct(b, op / 12, &p); break;
	default:
		if ((out = buf_new()) == NULL)
			fuzz_abort();
		r = buf_get_stringb(b, out);
		break;
	}
	free(s);
	free(c);
	BN_free(bn);
	buf_free(child);
	buf_free(out);
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf *b;
	uint8_t op;

	if (size < 1 || (b = buf_from(data + 1, size - 1)) == NULL)
		return 0;
	op = data[0];
	/* Fields until the first error, each choosing the next type. */
	while (fuzz_buf_field(b, op) == 0 && buf_len(b) > 0)
		op = (uint8_t)(op * 31 + 7);
	buf_free(b);
	return 0;
}
