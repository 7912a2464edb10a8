/*
 * mpint (RFC 4251 section 5) to and from OpenSSL BIGNUMs, both signs.
 * Negative values are two's complement on the wire; the encoding must be
 * minimal (no redundant 0x00 or 0xff leading byte) and zero is empty.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "ferry/buf.h"
#include "ferry/err.h"

/* Negate a big-endian two's complement number of len bytes in place. */
static void
buf_mpint_negate(uint8_t *p, size_t len)
{
	unsigned int carry = 1;
	size_t i;

	for (i = len; i > 0; i--) {
		carry += (uint8_t)~p[i - 1];
		p[i - 1] = (uint8_t)carry;
		carry >>= 8;
	}
}

int
buf_put_mpint(struct buf *b, const BIGNUM *bn)
{
	/* A sign byte, then a magnitude of up to BUF_MPINT_MAX_BYTES. */
	uint8_t tmp[BUF_MPINT_MAX_BYTES + 1];
	size_t n, len;
	int r, neg;

	if (bn == NULL)
		return FERR_ARGUMENT;
	if (BN_is_zero(bn))
		return buf_put_u32(b, 0);
	/*
	 * The limit is on the encoding, as buf_get_mpint applies it: a
	 * negative value may need as many bytes as its magnitude.
	 */
	if ((n = (size_t)BN_num_bytes(bn)) > BUF_MPINT_MAX_BYTES)
		return FERR_MPINT_TOO_LARGE;
	neg = BN_is_negative(bn);
	/* Magnitude at tmp + 1, leaving one byte for a sign byte. */
	tmp[0] = 0;
	if (BN_bn2bin(bn, tmp + 1) != (int)n) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	len = n + 1;
	if (neg)
		buf_mpint_negate(tmp, len);
	/* Drop the sign byte when the next byte already carries the sign. */
	if ((!neg && (tmp[1] & 0x80) == 0) || (neg && (tmp[1] & 0x80) != 0))
		r = buf_put_string(b, tmp + 1, len - 1);
	else if (len > BUF_MPINT_MAX_BYTES)
		r = FERR_MPINT_TOO_LARGE;
	else
		r = buf_put_string(b, tmp, len);
 out:
	explicit_bzero(tmp, sizeof(tmp));
	return r;
}

int
buf_get_mpint(struct buf *b, BIGNUM **bnp)
{
	uint8_t tmp[BUF_MPINT_MAX_BYTES];
	const uint8_t *p;
	size_t len;
	BIGNUM *bn = NULL;
	int r, neg;

	if (bnp == NULL)
		return FERR_ARGUMENT;
	*bnp = NULL;
	if ((r = buf_peek_string_direct(b, &p, &len)) != 0)
		return r;
	if (len > BUF_MPINT_MAX_BYTES)
		return FERR_MPINT_TOO_LARGE;
	neg = len > 0 && (p[0] & 0x80) != 0;
	if (len > 1 && ((p[0] == 0x00 && (p[1] & 0x80) == 0) ||
	    (p[0] == 0xff && (p[1] & 0x80) != 0)))
		return FERR_FORMAT;
	if (len == 1 && p[0] == 0)
		return FERR_FORMAT;
	if (len > 0)
		memcpy(tmp, p, len);
	if (neg)
		buf_mpint_negate(tmp, len);
	if ((bn = BN_bin2bn(tmp, (int)len, NULL)) == NULL) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	BN_set_negative(bn, neg);
	if ((r = buf_consume(b, 4 + len)) != 0)
		goto out;
	*bnp = bn;
	bn = NULL;
 out:
	explicit_bzero(tmp, sizeof(tmp));
	BN_clear_free(bn);
	return r;
}
