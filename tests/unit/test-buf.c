/*
 * Unit tests for the wire buffer: every function, with the negative cases
 * (truncation at every byte, over-long and 0xFFFFFFFF lengths, embedded
 * NUL, the maximum size, non-minimal mpints) and a mutation loop.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "tap.h"

/* A buffer holding exactly the given bytes. */
static struct buf *
mk(const void *p, size_t len)
{
	struct buf *b = buf_new();

	if (b == NULL || buf_put(b, p, len) != 0)
		abort();
	return b;
}

static void
test_basics(void)
{
	struct buf *b = buf_new();
	uint8_t *p;
	uint8_t out[4];

	ok(b != NULL && buf_len(b) == 0, "new buffer is empty");
	is_int(buf_max_size(b), BUF_SIZE_MAX, "default max size");
	is_int(buf_avail(b), BUF_SIZE_MAX, "everything available");
	ok(buf_put(b, "abcd", 4) == 0 && buf_len(b) == 4, "put 4 bytes");
	is_mem(buf_ptr(b), buf_len(b), "abcd", 4, "ptr shows them");
	ok(buf_get(b, out, 2) == 0 && memcmp(out, "ab", 2) == 0, "get 2");
	is_int(buf_len(b), 2, "2 left");
	is_int(buf_get(b, out, 3), FERR_INCOMPLETE, "get past end fails");
	is_int(buf_len(b), 2, "failed get consumed nothing");
	ok(buf_consume(b, 2) == 0 && buf_len(b) == 0, "consume rest");
	is_int(buf_consume(b, 1), FERR_INCOMPLETE, "consume of empty fails");
	ok(buf_put(b, "xyz", 3) == 0 && buf_consume_end(b, 1) == 0, "consume_end");
	is_mem(buf_ptr(b), buf_len(b), "xy", 2, "consume_end drops the tail");
	is_int(buf_consume_end(b, 3), FERR_INCOMPLETE, "consume_end past start fails");
	ok(buf_reserve(b, 3, &p) == 0 && p != NULL, "reserve returns a pointer");
	memcpy(p, "123", 3);
	is_mem(buf_ptr(b), buf_len(b), "xy123", 5, "reserved bytes filled in place");
	ok(buf_mutable_ptr(b) != NULL && buf_mutable_ptr(b)[0] == 'x', "mutable_ptr");
	buf_reset(b);
	is_int(buf_len(b), 0, "reset empties");
	is_int(buf_put(b, NULL, 1), FERR_ARGUMENT, "put NULL with length rejected");
	ok(buf_put(b, NULL, 0) == 0, "put nothing is fine");
	is_int(buf_putb(b, b), FERR_ARGUMENT, "putb into itself rejected");
	ok(buf_allocate(b, 1000) == 0 && buf_len(b) == 0, "allocate does not append");
	buf_free(b);
	buf_free(NULL);
	ok(1, "free(NULL) is a no-op");
}

static void
test_max_size(void)
{
	struct buf *b = buf_new();
	uint8_t *p;

	ok(buf_set_max_size(b, 10) == 0, "set max 10");
	ok(buf_put(b, "0123456789", 10) == 0, "put up to max");
	is_int(buf_put_u8(b, 1), FERR_NO_SPACE, "one byte past max");
	is_int(buf_len(b), 10, "nothing appended on failure");
	is_int(buf_avail(b), 0, "none available");
	is_int(buf_set_max_size(b, 5), FERR_NO_SPACE, "max below data rejected");
	is_int(buf_set_max_size(b, (size_t)BUF_SIZE_MAX + 1), FERR_NO_SPACE,
	    "max above the ceiling rejected");
	ok(buf_consume(b, 4) == 0 && buf_put(b, "abcd", 4) == 0,
	    "consumed space is reusable");
	is_int(buf_check_reserve(b, 1), FERR_NO_SPACE, "check_reserve at max");
	is_int(buf_check_reserve(b, SIZE_MAX), FERR_NO_SPACE,
	    "check_reserve of SIZE_MAX does not overflow");
	is_int(buf_reserve(b, SIZE_MAX, &p), FERR_NO_SPACE, "reserve SIZE_MAX");
	ok(p == NULL, "failed reserve gives no pointer");
	is_int(buf_allocate(b, SIZE_MAX - 3), FERR_NO_SPACE, "allocate near SIZE_MAX");
	is_mem(buf_ptr(b), buf_len(b), "456789abcd", 10, "data intact");
	buf_free(b);

	b = buf_new();
	ok(buf_set_max_size(b, 1 << 20) == 0, "max 1 MiB");
	ok(buf_reserve(b, 1 << 20, &p) == 0, "reserve exactly the max");
	is_int(buf_put_u8(b, 0), FERR_NO_SPACE, "full");
	buf_free(b);
}

static void
test_integers(void)
{
	struct buf *b = buf_new();
	static const uint8_t want[] = {
		0x12, 0x34, 0x56, 0x12, 0x34, 0x56, 0x78,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x01, 0x00, 0xff,
	};
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int bv;

	ok(buf_put_u8(b, 0x12) == 0 && buf_put_u16(b, 0x3456) == 0 &&
	    buf_put_u32(b, 0x12345678) == 0 &&
	    buf_put_u64(b, 0x0102030405060708ULL) == 0 &&
	    buf_put_bool(b, 7) == 0 && buf_put_bool(b, 0) == 0 &&
	    buf_put_u8(b, 0xff) == 0, "put integers");
	is_mem(buf_ptr(b), buf_len(b), want, sizeof(want), "big-endian encoding");
	ok(buf_peek_u8(b, 0, &u8) == 0 && u8 == 0x12, "peek u8");
	ok(buf_peek_u32(b, 3, &u32) == 0 && u32 == 0x12345678, "peek u32 at offset");
	ok(buf_peek_u64(b, 7, &u64) == 0 && u64 == 0x0102030405060708ULL, "peek u64");
	is_int(buf_peek_u32(b, 15, &u32), FERR_INCOMPLETE, "peek u32 over the end");
	is_int(buf_peek_u8(b, SIZE_MAX, &u8), FERR_INCOMPLETE, "peek at SIZE_MAX offset");
	is_int(buf_peek_u64(b, SIZE_MAX - 4, &u64), FERR_INCOMPLETE,
	    "peek offset+len overflow caught");
	ok(buf_get_u8(b, &u8) == 0 && u8 == 0x12, "get u8");
	ok(buf_get_u16(b, &u16) == 0 && u16 == 0x3456, "get u16");
	ok(buf_get_u32(b, &u32) == 0 && u32 == 0x12345678, "get u32");
	ok(buf_get_u64(b, &u64) == 0 && u64 == 0x0102030405060708ULL, "get u64");
	ok(buf_get_bool(b, &bv) == 0 && bv == 1, "get bool true");
	ok(buf_get_bool(b, &bv) == 0 && bv == 0, "get bool false");
	ok(buf_get_bool(b, &bv) == 0 && bv == 1, "any non-zero byte is true");
	is_int(buf_get_u8(b, &u8), FERR_INCOMPLETE, "get u8 from empty");
	ok(buf_put_u32(b, 0xdeadbeef) == 0 && buf_get_u32(b, NULL) == 0,
	    "NULL output skips a value");
	buf_free(b);

	/* Truncation at every length for each width. */
	{
		static const uint8_t eight[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
		int fails = 0;
		size_t n;

		for (n = 0; n < 8; n++) {
			b = mk(eight, n);
			if (n < 2 && buf_get_u16(b, &u16) != FERR_INCOMPLETE)
				fails++;
			if (n < 4 && buf_get_u32(b, &u32) != FERR_INCOMPLETE)
				fails++;
			if (buf_get_u64(b, &u64) != FERR_INCOMPLETE)
				fails++;
			if (buf_len(b) != n)
				fails++;
			buf_free(b);
		}
		is_int(fails, 0, "truncated integers fail at every length, consume nothing");
	}

	b = mk("\0\0\0\0\0\0\0\0", 8);
	ok(buf_poke_u32(b, 2, 0xa1b2c3d4) == 0, "poke u32");
	ok(buf_poke_u8(b, 0, 0x99) == 0, "poke u8");
	is_mem(buf_ptr(b), 8, "\x99\0\xa1\xb2\xc3\xd4\0\0", 8, "poked bytes");
	is_int(buf_poke_u32(b, 5, 1), FERR_INCOMPLETE, "poke past end");
	is_int(buf_poke_u64(b, SIZE_MAX, 1), FERR_INCOMPLETE, "poke at SIZE_MAX");
	ok(buf_poke_u64(b, 0, 0x1122334455667788ULL) == 0, "poke u64");
	ok(buf_poke(b, 6, "zz", 2) == 0 && buf_ptr(b)[7] == 'z', "poke bytes");
	is_int(buf_poke(b, 7, "zz", 2), FERR_INCOMPLETE, "poke bytes past end");
	is_int(buf_poke(b, 0, NULL, 1), FERR_ARGUMENT, "poke NULL rejected");
	ok(buf_peek(b, 6, NULL, 2) == 0, "peek with NULL output checks bounds only");
	{
		uint8_t two[2] = { 0xaa, 0xaa };

		is_int(buf_peek(b, 7, two, 2), FERR_INCOMPLETE, "peek bytes past end");
		is_int(buf_peek(b, 9, two, 0), FERR_INCOMPLETE, "peek offset past end");
		is_int(buf_peek(b, SIZE_MAX, two, 2), FERR_INCOMPLETE,
		    "peek offset+len overflow caught");
		ok(two[0] == 0xaa && two[1] == 0xaa, "failed peek writes nothing");
	}
	buf_free(b);
}

static void
test_strings(void)
{
	struct buf *b = buf_new(), *v = buf_new();
	const uint8_t *p;
	uint8_t *s;
	char *c;
	size_t len, off;
	int fails;

	ok(buf_put_string(b, "hello", 5) == 0 && buf_put_cstring(b, "") == 0,
	    "put strings");
	is_mem(buf_ptr(b), buf_len(b), "\0\0\0\5hello\0\0\0\0", 13, "string encoding");
	ok(buf_peek_string_direct(b, &p, &len) == 0 && len == 5 &&
	    memcmp(p, "hello", 5) == 0 && buf_len(b) == 13, "peek string");
	ok(buf_get_string(b, &s, &len) == 0 && len == 5 && strcmp((char *)s,
	    "hello") == 0, "get string, NUL-terminated copy");
	free(s);
	ok(buf_get_string(b, &s, &len) == 0 && len == 0 && s[0] == '\0',
	    "empty string");
	free(s);
	is_int(buf_get_string(b, &s, &len), FERR_INCOMPLETE, "no more strings");
	ok(s == NULL && len == 0, "outputs cleared on failure");

	/* Every truncation of an encoded string fails and consumes nothing. */
	{
		static const uint8_t enc[] = { 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o' };
		size_t n;

		fails = 0;
		for (n = 0; n < sizeof(enc); n++) {
			struct buf *t = mk(enc, n);

			if (buf_get_string(t, &s, &len) != FERR_INCOMPLETE ||
			    buf_get_string_direct(t, &p, &len) != FERR_INCOMPLETE ||
			    buf_get_cstring(t, &c, &len) != FERR_INCOMPLETE ||
			    buf_get_stringb(t, v) != FERR_INCOMPLETE ||
			    buf_len(t) != n || buf_len(v) != 0)
				fails++;
			buf_free(t);
		}
		is_int(fails, 0, "string truncated at every byte fails cleanly");
	}

	/* Lengths beyond what is there, beyond the cap, and 0xFFFFFFFF. */
	buf_reset(b);
	ok(buf_put_u32(b, 100) == 0 && buf_put(b, "abc", 3) == 0, "length 100, 3 bytes");
	is_int(buf_get_string(b, &s, &len), FERR_INCOMPLETE, "over-long length");
	buf_reset(b);
	ok(buf_put_u32(b, 0xffffffffU) == 0 && buf_put(b, "abc", 3) == 0, "length 0xFFFFFFFF");
	is_int(buf_get_string_direct(b, &p, &len), FERR_STRING_TOO_LARGE,
	    "0xFFFFFFFF length rejected");
	is_int(buf_len(b), 7, "nothing consumed");
	buf_reset(b);
	ok(buf_put_u32(b, BUF_STRING_MAX + 1) == 0, "length cap + 1");
	is_int(buf_peek_string_direct(b, &p, &len), FERR_STRING_TOO_LARGE,
	    "length over BUF_STRING_MAX rejected");
	is_int(buf_put_string(b, "x", (size_t)BUF_STRING_MAX + 1),
	    FERR_STRING_TOO_LARGE, "putting an over-cap string rejected");
	is_int(buf_put_string(b, NULL, 1), FERR_ARGUMENT, "put NULL string");
	is_int(buf_put_cstring(b, NULL), FERR_ARGUMENT, "put NULL cstring");

	/* cstring rejects embedded NUL; string accepts it. */
	buf_reset(b);
	ok(buf_put_string(b, "a\0b", 3) == 0, "string with NUL");
	is_int(buf_get_cstring(b, &c, &len), FERR_FORMAT, "cstring rejects embedded NUL");
	is_int(buf_len(b), 7, "rejected cstring not consumed");
	ok(buf_get_string(b, &s, &len) == 0 && len == 3 && s[1] == '\0',
	    "string keeps embedded NUL");
	free(s);
	ok(buf_put_cstring(b, "text") == 0 && buf_get_cstring(b, &c, &len) == 0 &&
	    strcmp(c, "text") == 0 && len == 4, "cstring round trip");
	free(c);

	/* Direct access and stringb. */
	ok(buf_put_string(b, "direct", 6) == 0 &&
	    buf_get_string_direct(b, &p, &len) == 0 && len == 6 &&
	    memcmp(p, "direct", 6) == 0 && buf_len(b) == 0, "get string direct");
	ok(buf_put_string(b, "nested", 6) == 0 && buf_get_stringb(b, v) == 0,
	    "get stringb");
	is_mem(buf_ptr(v), buf_len(v), "nested", 6, "stringb appended contents");
	ok(buf_put_stringb(b, v) == 0, "put stringb");
	is_mem(buf_ptr(b), buf_len(b), "\0\0\0\6nested", 10, "stringb encoding");
	is_int(buf_get_stringb(b, b), FERR_ARGUMENT, "stringb into itself rejected");
	is_int(buf_put_stringb(b, b), FERR_ARGUMENT, "put stringb of itself rejected");
	ok(buf_get_direct(b, 4, &p) == 0 && memcmp(p, "\0\0\0\6", 4) == 0,
	    "get direct region");
	is_int(buf_get_direct(b, 7, &p), FERR_INCOMPLETE, "get direct past end");
	ok(p == NULL && buf_len(b) == 6, "failed direct get: no pointer, no consume");

	/* Back-filled length. */
	buf_reset(b);
	ok(buf_begin_string(b, &off) == 0 && buf_put(b, "abc", 3) == 0 &&
	    buf_end_string(b, off) == 0, "begin/end string");
	is_mem(buf_ptr(b), buf_len(b), "\0\0\0\3abc", 7, "length back-filled");
	is_int(buf_end_string(b, 5), FERR_ARGUMENT, "end_string at a bad offset");
	is_int(buf_begin_string(b, NULL), FERR_ARGUMENT, "begin_string needs an offset");
	buf_reset(b);
	ok(buf_begin_string(b, &off) == 0 &&
	    buf_reserve(b, (size_t)BUF_STRING_MAX + 1, NULL) == 0,
	    "a string body longer than the cap");
	is_int(buf_end_string(b, off), FERR_STRING_TOO_LARGE,
	    "end_string refuses a length over BUF_STRING_MAX");
	buf_free(b);
	buf_free(v);
}

static void
test_namelist(void)
{
	static const struct {
		const char *s;
		int good;
	} cases[] = {
		{ "", 1 },
		{ "a", 1 },
		{ "curve25519-sha256,ext-info-c", 1 },
		{ "a,b,c", 1 },
		{ ",a", 0 },
		{ "a,", 0 },
		{ "a,,b", 0 },
		{ "a b", 0 },
		{ "a\tb", 0 },
		{ "caf\xc3\xa9", 0 },
		{ "a\x7f", 0 },
		{ ",", 0 },
	};
	struct buf *b = buf_new();
	char *c;
	size_t i;
	int fails = 0, r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(b);
		r = buf_put_namelist(b, cases[i].s);
		if ((r == 0) != cases[i].good)
			fails++;
		buf_reset(b);
		if (buf_put_cstring(b, cases[i].s) != 0)
			fails++;
		r = buf_get_namelist(b, &c);
		if ((r == 0) != cases[i].good)
			fails++;
		if (r == 0 && strcmp(c, cases[i].s) != 0)
			fails++;
		if (r != 0 && (r != FERR_FORMAT || c != NULL || buf_len(b) == 0))
			fails++;
		free(c);
	}
	is_int(fails, 0, "name-list validation table (put and get)");
	buf_reset(b);
	ok(buf_put_string(b, "a\0b", 3) == 0 && buf_get_namelist(b, &c) == FERR_FORMAT,
	    "name-list with NUL rejected");
	is_int(buf_put_namelist(b, NULL), FERR_ARGUMENT, "NULL name-list rejected");
	buf_free(b);
}

/* RFC 4251 section 5 examples. */
static const struct {
	const char *hex;	/* value, as BN_hex2bn takes it */
	const uint8_t *enc;
	size_t enclen;
} mpint_vectors[] = {
	{ "0", (const uint8_t *)"\0\0\0\0", 4 },
	{ "9a378f9b2e332a7", (const uint8_t *)"\0\0\0\x08\x09\xa3\x78\xf9\xb2\xe3\x32\xa7", 12 },
	{ "80", (const uint8_t *)"\0\0\0\x02\x00\x80", 6 },
	{ "-1234", (const uint8_t *)"\0\0\0\x02\xed\xcc", 6 },
	{ "-deadbeef", (const uint8_t *)"\0\0\0\x05\xff\x21\x52\x41\x11", 9 },
	{ "-80", (const uint8_t *)"\0\0\0\x01\x80", 5 },
	{ "-8000", (const uint8_t *)"\0\0\0\x02\x80\x00", 6 },
	{ "-81", (const uint8_t *)"\0\0\0\x02\xff\x7f", 6 },
	{ "7f", (const uint8_t *)"\0\0\0\x01\x7f", 5 },
};

static void
test_mpint_bn(void)
{
	struct buf *b = buf_new();
	BIGNUM *bn = NULL, *got = NULL;
	size_t i;
	int fails = 0, rtfails = 0;

	for (i = 0; i < sizeof(mpint_vectors) / sizeof(mpint_vectors[0]); i++) {
		buf_reset(b);
		if (BN_hex2bn(&bn, mpint_vectors[i].hex) == 0)
			abort();
		if (buf_put_mpint(b, bn) != 0 || buf_len(b) != mpint_vectors[i].enclen ||
		    memcmp(buf_ptr(b), mpint_vectors[i].enc, buf_len(b)) != 0) {
			tap_diag("encode %s failed", mpint_vectors[i].hex);
			fails++;
		}
		if (buf_get_mpint(b, &got) != 0 || BN_cmp(got, bn) != 0 ||
		    buf_len(b) != 0) {
			tap_diag("decode %s failed", mpint_vectors[i].hex);
			rtfails++;
		}
		BN_free(got);
		got = NULL;
	}
	is_int(fails, 0, "RFC 4251 mpint encodings, both signs");
	is_int(rtfails, 0, "mpint decodes back to the same value");

	/* Non-minimal encodings are rejected. */
	{
		static const struct {
			const uint8_t *enc;
			size_t len;
		} bad[] = {
			{ (const uint8_t *)"\0\0\0\x01\x00", 5 },	/* zero as 00 */
			{ (const uint8_t *)"\0\0\0\x02\x00\x7f", 6 },	/* 00 7f */
			{ (const uint8_t *)"\0\0\0\x02\xff\x80", 6 },	/* ff 80 */
			{ (const uint8_t *)"\0\0\0\x03\x00\x00\x80", 7 },
		};
		int bfails = 0;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct buf *t = mk(bad[i].enc, bad[i].len);

			if (buf_get_mpint(t, &got) != FERR_FORMAT || got != NULL ||
			    buf_len(t) != bad[i].len)
				bfails++;
			buf_free(t);
		}
		is_int(bfails, 0, "non-minimal mpints rejected, nothing consumed");
	}

	/* Too large. */
	{
		uint8_t big[BUF_MPINT_MAX_BYTES + 1];

		memset(big, 0x11, sizeof(big));
		buf_reset(b);
		ok(buf_put_string(b, big, sizeof(big)) == 0, "oversized mpint encoded");
		is_int(buf_get_mpint(b, &got), FERR_MPINT_TOO_LARGE, "oversized mpint rejected");
		if (BN_bin2bn(big, sizeof(big), bn) == NULL)
			abort();
		buf_reset(b);
		is_int(buf_put_mpint(b, bn), FERR_MPINT_TOO_LARGE, "oversized BIGNUM not put");
	}
	/*
	 * The largest negative value the reader accepts, -2^(8*2049-1) (0x80
	 * then 2048 zero bytes), must encode back: the cap is on the wire.
	 */
	{
		uint8_t enc[BUF_MPINT_MAX_BYTES];

		memset(enc, 0, sizeof(enc));
		enc[0] = 0x80;
		buf_reset(b);
		ok(buf_put_string(b, enc, sizeof(enc)) == 0 &&
		    buf_get_mpint(b, &got) == 0 && BN_is_negative(got),
		    "largest negative mpint read");
		buf_reset(b);
		ok(got != NULL && buf_put_mpint(b, got) == 0 &&
		    buf_len(b) == 4 + sizeof(enc) &&
		    memcmp(buf_ptr(b) + 4, enc, sizeof(enc)) == 0,
		    "and encoded back to the same bytes");
		BN_free(got);
		got = NULL;
		/* Its positive counterpart needs a sign byte: too large. */
		if (BN_bin2bn(enc, sizeof(enc), bn) == NULL)
			abort();
		buf_reset(b);
		is_int(buf_put_mpint(b, bn), FERR_MPINT_TOO_LARGE,
		    "+2^16391 would need 2050 bytes: refused");
	}
	is_int(buf_put_mpint(b, NULL), FERR_ARGUMENT, "put NULL BIGNUM");
	is_int(buf_get_mpint(b, NULL), FERR_ARGUMENT, "get into NULL");
	BN_free(bn);
	buf_free(b);
}

static void
test_mpint_bytes(void)
{
	struct buf *b = buf_new();
	const uint8_t *p;
	size_t len;

	ok(buf_put_mpint_bytes(b, "\0\0\x80\x01", 4) == 0, "put mpint bytes");
	is_mem(buf_ptr(b), buf_len(b), "\0\0\0\3\0\x80\x01", 7,
	    "leading zeros stripped, sign byte added");
	ok(buf_get_mpint_bytes_direct(b, &p, &len) == 0 && len == 2 &&
	    memcmp(p, "\x80\x01", 2) == 0, "get mpint bytes strips the sign byte");
	ok(buf_put_mpint_bytes(b, "\0\0", 2) == 0, "zero");
	is_mem(buf_ptr(b), buf_len(b), "\0\0\0\0", 4, "zero is empty");
	ok(buf_get_mpint_bytes_direct(b, &p, &len) == 0 && len == 0, "get zero");
	ok(buf_put_mpint_bytes(b, "\x7f", 1) == 0 &&
	    buf_get_mpint_bytes_direct(b, &p, &len) == 0 && len == 1 && p[0] == 0x7f,
	    "no sign byte needed");
	buf_reset(b);
	ok(buf_put_string(b, "\x80", 1) == 0, "negative mpint");
	is_int(buf_get_mpint_bytes_direct(b, &p, &len), FERR_MPINT_NEGATIVE,
	    "negative rejected by the unsigned reader");
	buf_reset(b);
	ok(buf_put_string(b, "\0\x7f", 2) == 0, "non-minimal positive");
	is_int(buf_get_mpint_bytes_direct(b, &p, &len), FERR_FORMAT,
	    "non-minimal rejected by the unsigned reader");
	buf_reset(b);
	ok(buf_put_string(b, "\0", 1) == 0, "zero as one byte");
	is_int(buf_get_mpint_bytes_direct(b, &p, &len), FERR_FORMAT,
	    "zero must be empty");
	buf_reset(b);
	{
		uint8_t big[BUF_MPINT_MAX_BYTES];

		memset(big, 0xee, sizeof(big));
		is_int(buf_put_mpint_bytes(b, big, sizeof(big)), FERR_MPINT_TOO_LARGE,
		    "mpint bytes over the cap not put");
		ok(buf_put_string(b, big, sizeof(big)) == 0 &&
		    buf_poke_u8(b, 4, 0) == 0, "cap-sized wire mpint");
		ok(buf_get_mpint_bytes_direct(b, &p, &len) == 0 &&
		    len == BUF_MPINT_MAX_BYTES - 1, "cap-sized mpint accepted");
	}
	buf_reset(b);
	{
		uint8_t big[BUF_MPINT_MAX_BYTES + 1];

		memset(big, 0x11, sizeof(big));
		ok(buf_put_string(b, big, sizeof(big)) == 0, "wire mpint over the cap");
		is_int(buf_get_mpint_bytes_direct(b, &p, &len), FERR_MPINT_TOO_LARGE,
		    "unsigned reader refuses mpints over the cap");
	}
	is_int(buf_put_mpint_bytes(b, NULL, 1), FERR_ARGUMENT, "NULL mpint bytes");
	buf_free(b);
}

static void
test_children(void)
{
	struct buf *b = buf_new(), *c = NULL, *c2, *ro;
	uint32_t v;
	uint8_t u;

	ok(buf_put_string(b, "\0\0\0\x2a\x07", 5) == 0 && buf_put_u8(b, 9) == 0,
	    "outer message with nested string");
	ok(buf_froms(b, &c) == 0 && c != NULL, "froms gives a child");
	is_int(buf_len(b), 1, "parent consumed the string");
	ok(buf_get_u32(c, &v) == 0 && v == 42 && buf_get_u8(c, &u) == 0 && u == 7,
	    "child reads nested fields");
	is_int(buf_expect_end(c), 0, "child fully consumed");
	is_int(buf_put_u8(c, 1), FERR_READ_ONLY, "child is read-only");
	ok(buf_mutable_ptr(c) == NULL, "child has no mutable pointer");
	is_int(buf_put_u8(b, 1), FERR_READ_ONLY, "parent with child is read-only");
	is_int(buf_poke_u8(b, 0, 1), FERR_READ_ONLY, "parent with child cannot be poked");
	ok(buf_get_u8(b, &u) == 0 && u == 9, "parent can still be consumed");
	buf_free(b);	/* the child keeps the storage alive */
	is_int(buf_len(c), 0, "child valid after parent freed");
	buf_free(c);

	b = mk("abcdef", 6);
	c = buf_fromb(b);
	c2 = buf_fromb(c);
	ok(c != NULL && c2 != NULL && buf_len(c2) == 6, "nested fromb");
	ok(buf_consume(c2, 2) == 0 && buf_len(c) == 6, "children consume independently");
	buf_reset(c);
	is_int(buf_len(c), 0, "reset of a child empties its view");
	is_int(buf_len(c2), 4, "sibling unaffected");
	buf_free(c);
	buf_free(c2);
	ok(buf_put_u8(b, 1) == 0, "parent writable once children are gone");
	buf_free(b);

	b = buf_new();
	ok(buf_put_u32(b, 5) == 0 && buf_put(b, "ab", 2) == 0, "short nested string");
	is_int(buf_froms(b, &c), FERR_INCOMPLETE, "froms of a truncated string");
	ok(c == NULL && buf_len(b) == 6, "nothing consumed");
	is_int(buf_froms(b, NULL), FERR_ARGUMENT, "froms needs an output");
	buf_free(b);

	ro = buf_from("\0\0\0\1x", 5);
	ok(ro != NULL && buf_len(ro) == 5, "buf_from wraps memory");
	is_int(buf_put_u8(ro, 1), FERR_READ_ONLY, "buf_from is read-only");
	is_int(buf_set_max_size(ro, 100), FERR_READ_ONLY, "read-only max size fixed");
	is_int(buf_avail(ro), 0, "read-only has no space");
	ok(buf_froms(ro, &c) == 0 && buf_len(c) == 1, "froms on read-only");
	buf_free(c);
	buf_free(ro);
	ok(buf_from(NULL, 1) == NULL, "buf_from(NULL, 1) refused");
	ro = buf_from("abc", 3);
	ok(buf_consume(ro, 1) == 0 && buf_set_view(ro, "wxyz", 4) == 0 &&
	    buf_len(ro) == 4 && buf_ptr(ro)[0] == 'w', "set_view re-points a view");
	is_int(buf_set_view(ro, NULL, 1), FERR_ARGUMENT, "set_view(NULL, 1) refused");
	c = buf_fromb(ro);
	is_int(buf_set_view(c, "a", 1), FERR_READ_ONLY, "a child cannot be re-pointed");
	is_int(buf_set_view(ro, "a", 1), FERR_READ_ONLY, "a view with children is fixed");
	buf_free(c);
	buf_free(ro);
	b = buf_new();
	is_int(buf_set_view(b, "a", 1), FERR_READ_ONLY, "a growable buffer is no view");
	buf_free(b);
	ro = buf_from(NULL, 0);
	ok(ro != NULL && buf_len(ro) == 0 && buf_ptr(ro) != NULL, "empty buf_from");
	buf_free(ro);
}

static void
test_secret_and_misc(void)
{
	struct buf *b = buf_new();
	char *s;
	int i;

	buf_set_secret(b);
	for (i = 0; i < 1000; i++)
		if (buf_put_u32(b, (uint32_t)i) != 0)
			break;
	is_int(i, 1000, "secret buffer grows through reallocation");
	ok(buf_peek_u32(b, 4 * 999, (uint32_t *)&i) == 0, "data kept across growth");
	buf_free(b);

	b = buf_new();
	ok(buf_putf(b, "%s-%d", "abc", 42) == 0, "putf");
	is_mem(buf_ptr(b), buf_len(b), "abc-42", 6, "putf appends without NUL");
	s = buf_dup_string(b);
	ok(s != NULL && strcmp(s, "abc-42") == 0, "dup_string");
	free(s);
	is_int(buf_cmp_ct(b, "abc-42", 6), 0, "cmp_ct equal");
	ok(buf_cmp_ct(b, "abc-43", 6) != 0, "cmp_ct differs");
	ok(buf_cmp_ct(b, "abc-4", 5) != 0, "cmp_ct length differs");
	s = buf_hex(b);
	ok(s != NULL && strcmp(s, "6162632d3432") == 0, "hex dump");
	free(s);
	ok(buf_put_u8(b, 0) == 0 && buf_dup_string(b) == NULL, "dup_string rejects NUL");
	is_int(buf_expect_end(b), FERR_TRAILING_DATA, "trailing data detected");
	ok(buf_set_max_size(b, 8) == 0, "max 8");
	is_int(buf_putf(b, "%s", "toolong"), FERR_NO_SPACE, "putf respects max");
	is_int(buf_len(b), 7, "failed putf appends nothing");
	buf_free(b);
}

static void
test_b64(void)
{
	static const struct {
		const char *plain, *enc;
	} v[] = {	/* RFC 4648 section 10 */
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	static const char *bad[] = {
		"Zg=", "Z===", "Zm9v!", "Zg==Zg==", "Zm9", "=Zg=", "Zg==x",
	};
	struct buf *b = buf_new();
	size_t i;
	int fails = 0;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_reset(b);
		if (buf_put_b64(b, v[i].plain, strlen(v[i].plain)) != 0 ||
		    buf_len(b) != strlen(v[i].enc) ||
		    memcmp(buf_ptr(b), v[i].enc, buf_len(b)) != 0)
			fails++;
		buf_reset(b);
		if (buf_put_b64_decoded(b, v[i].enc) != 0 ||
		    buf_len(b) != strlen(v[i].plain) ||
		    memcmp(buf_ptr(b), v[i].plain, buf_len(b)) != 0)
			fails++;
	}
	is_int(fails, 0, "RFC 4648 vectors both ways");
	buf_reset(b);
	ok(buf_put_b64_decoded(b, " Zm9v\nYmFy \r\n") == 0 && buf_len(b) == 6,
	    "whitespace ignored");
	fails = 0;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(b);
		if (buf_put_u8(b, 'k') != 0 ||
		    buf_put_b64_decoded(b, bad[i]) != FERR_FORMAT || buf_len(b) != 1)
			fails++;
	}
	is_int(fails, 0, "malformed base64 rejected, buffer unchanged");
	is_int(buf_put_b64(b, NULL, 1), FERR_ARGUMENT, "b64 of NULL rejected");
	is_int(buf_put_b64_decoded(b, NULL), FERR_ARGUMENT, "decode of NULL rejected");
	is_int(buf_put_b64(b, "x", SIZE_MAX), FERR_NO_SPACE,
	    "b64 output length overflow caught before reading");
	buf_free(b);
}

/*
 * Mutation loop: random bit flips and truncations of a valid message read
 * by a typical parser must never crash and never read out of bounds (ASan
 * checks that in the sanitizer build).
 */
static uint64_t mut_state = 88172645463325252ULL;

static uint64_t
mut_next(void)
{
	mut_state ^= mut_state << 13;
	mut_state ^= mut_state >> 7;
	mut_state ^= mut_state << 17;
	return mut_state;
}

static int
parse_message(struct buf *m)
{
	struct buf *child = NULL;
	BIGNUM *bn = NULL;
	char *names = NULL, *cs = NULL;
	const uint8_t *p;
	size_t len;
	uint32_t u;
	int r;

	if ((r = buf_get_u8(m, NULL)) != 0 ||
	    (r = buf_get_u32(m, &u)) != 0 ||
	    (r = buf_get_namelist(m, &names)) != 0 ||
	    (r = buf_get_cstring(m, &cs, &len)) != 0 ||
	    (r = buf_froms(m, &child)) != 0 ||
	    (r = buf_get_string_direct(child, &p, &len)) != 0 ||
	    (r = buf_get_mpint(child, &bn)) != 0 ||
	    (r = buf_expect_end(child)) != 0 ||
	    (r = buf_get_mpint_bytes_direct(m, &p, &len)) != 0 ||
	    (r = buf_get_u64(m, NULL)) != 0)
		goto out;
	r = buf_expect_end(m);
 out:
	BN_free(bn);
	free(names);
	free(cs);
	buf_free(child);
	return r;
}

static void
test_mutations(void)
{
	struct buf *msg = buf_new(), *inner = buf_new(), *m;
	BIGNUM *bn = BN_new();
	uint8_t *copy;
	size_t len, i, n;
	int k, parsed_ok = 0, failed_ok = 0, other = 0;

	if (bn == NULL || BN_set_word(bn, 0x1234567) == 0)
		abort();
	if (buf_put_string(inner, "payload", 7) != 0 ||
	    buf_put_mpint(inner, bn) != 0 ||
	    buf_put_u8(msg, 20) != 0 || buf_put_u32(msg, 7) != 0 ||
	    buf_put_namelist(msg, "aes128-ctr,aes256-ctr") != 0 ||
	    buf_put_cstring(msg, "user") != 0 ||
	    buf_put_stringb(msg, inner) != 0 ||
	    buf_put_mpint_bytes(msg, "\x81\x02", 2) != 0 ||
	    buf_put_u64(msg, 99) != 0)
		abort();
	len = buf_len(msg);
	m = buf_from(buf_ptr(msg), len);
	is_int(parse_message(m), 0, "the valid message parses");
	buf_free(m);

	/* Every truncation fails with FERR_INCOMPLETE or a format error. */
	for (n = 0; n < len; n++) {
		m = buf_from(buf_ptr(msg), n);
		if (parse_message(m) == 0)
			other++;
		buf_free(m);
	}
	is_int(other, 0, "every truncation of the message is rejected");
	m = buf_new();
	if (buf_putb(m, msg) != 0 || buf_put_u8(m, 0) != 0)
		abort();
	is_int(parse_message(m), FERR_TRAILING_DATA, "a trailing byte is rejected");
	buf_free(m);

	if ((copy = malloc(len)) == NULL)
		abort();
	for (k = 0; k < 20000; k++) {
		memcpy(copy, buf_ptr(msg), len);
		for (i = 0; i < 1 + mut_next() % 3; i++)
			copy[mut_next() % len] ^= (uint8_t)(1U << (mut_next() % 8));
		n = (mut_next() % 4 == 0) ? mut_next() % (len + 1) : len;
		m = buf_from(copy, n);
		if (parse_message(m) == 0)
			parsed_ok++;
		else
			failed_ok++;
		buf_free(m);
	}
	is_int(parsed_ok + failed_ok, 20000, "20000 mutated messages parsed without a crash");
	ok(failed_ok > 0, "mutations are detected (%d rejected)", failed_ok);
	free(copy);
	BN_free(bn);
	buf_free(inner);
	buf_free(msg);
}

int
main(void)
{
	test_basics();
	test_max_size();
	test_integers();
	test_strings();
	test_namelist();
	test_mpint_bn();
	test_mpint_bytes();
	test_children();
	test_secret_and_misc();
	test_b64();
	test_mutations();
	return tap_done();
}
