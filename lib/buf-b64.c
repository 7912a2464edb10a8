/*
 * Base64 (RFC 4648 section 4, padded) into and out of wire buffers.
 * Decoding is strict: only the alphabet, '=' padding at the very end and
 * whitespace (skipped) are accepted, and a final group must be complete.
 */
#include "config.h"

#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"

static const char buf_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
buf_put_b64(struct buf *b, const void *v, size_t len)
{
	const uint8_t *p = v;
	uint8_t *d;
	size_t i, olen;
	uint32_t w;
	int r;

	if (p == NULL && len != 0)
		return FERR_ARGUMENT;
	if (len > (BUF_SIZE_MAX / 4) * 3)
		return FERR_NO_SPACE;
	olen = ((len + 2) / 3) * 4;
	if ((r = buf_reserve(b, olen, &d)) != 0)
		return r;
	for (i = 0; i + 2 < len; i += 3, d += 4) {
		w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		d[0] = buf_b64_alphabet[(w >> 18) & 63];
		d[1] = buf_b64_alphabet[(w >> 12) & 63];
		d[2] = buf_b64_alphabet[(w >> 6) & 63];
		d[3] = buf_b64_alphabet[w & 63];
	}
	if (i < len) {
		w = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			w |= (uint32_t)p[i + 1] << 8;
		d[0] = buf_b64_alphabet[(w >> 18) & 63];
		d[1] = buf_b64_alphabet[(w >> 12) & 63];
		d[2] = i + 1 < len ? buf_b64_alphabet[(w >> 6) & 63] : '=';
		d[3] = '=';
	}
	return 0;
}

static int
buf_b64_value(char c)
{
	const char *q;

	if (c == '\0' || (q = strchr(buf_b64_alphabet, c)) == NULL)
		return -1;
	return (int)(q - buf_b64_alphabet);
}

int
buf_put_b64_decoded(struct buf *b, const char *s)
{
	size_t start = buf_len(b), ngroup = 0, npad = 0;
	uint8_t out[3];
	uint32_t w = 0;
	int r, v;

	if (s == NULL)
		return FERR_ARGUMENT;
	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			continue;
		if (*s == '=') {
			/* Padding only completes the third or fourth symbol. */
			if (ngroup < 2) {
				r = FERR_FORMAT;
				goto fail;
			}
			npad++;
			w <<= 6;
			ngroup++;
		} else {
			if (npad != 0 || (v = buf_b64_value(*s)) < 0) {
				r = FERR_FORMAT;
				goto fail;
			}
			w = (w << 6) | (uint32_t)v;
			ngroup++;
		}
		if (ngroup < 4)
			continue;
		out[0] = (uint8_t)(w >> 16);
		out[1] = (uint8_t)(w >> 8);
		out[2] = (uint8_t)w;
		if ((r = buf_put(b, out, 3 - npad)) != 0)
			goto fail;
		if (npad != 0) {
			/* Nothing but whitespace may follow padding. */
			for (s++; *s == ' ' || *s == '\t' || *s == '\r' ||
			    *s == '\n'; s++)
				;
			if (*s != '\0') {
				r = FERR_FORMAT;
				goto fail;
			}
			return 0;
		}
		ngroup = 0;
		w = 0;
	}
	if (ngroup != 0) {
		r = FERR_FORMAT;
		goto fail;
	}
	return 0;
 fail:
	/* Leave b as it was: drop whatever this call appended. */
	if (buf_consume_end(b, buf_len(b) - start) != 0)
		return FERR_INTERNAL;
	return r;
}
