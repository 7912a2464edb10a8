/*
 * Unit tests for the wire buffer.
 */
#include "config.h"

#include "ferry/buf.h"
#include "ferry/err.h"
#include "tap.h"

int
main(void)
{
	struct buf *b = buf_new();
	uint32_t v;

	ok(buf_put_u32(b, 0x01020304) == 0, "put u32");
	ok(buf_get_u32(b, &v) == 0 && v == 0x01020304, "get u32");
	buf_free(b);
	return tap_done();
}
