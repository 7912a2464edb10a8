/*
 * The wire buffer.  See lib/include/ferry/buf.h for the contract.
 *
 * Layout: storage [0, alloc) holds consumed bytes [0, off), live bytes
 * [off, size) and free space [size, alloc).  A read-only buffer has no
 * writable storage (d == NULL) and views cd.  refcount counts the owner
 * plus every child; the storage outlives all of them.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ferry/buf.h"
#include "ferry/err.h"

/* Storage grows in steps of this many bytes (a power of two). */
#define BUF_ALLOC_STEP	256U

struct buf {
	uint8_t *d;		/* writable storage, NULL when read-only */
	const uint8_t *cd;	/* storage as seen by readers */
	size_t off;		/* first unconsumed byte */
	size_t size;		/* end of the live bytes */
	size_t alloc;		/* bytes allocated at d */
	size_t max_size;	/* cap on live bytes */
	int readonly;
	int secret;
	unsigned int refcount;	/* owner + children */
	struct buf *parent;	/* set for children */
};

static struct buf *
buf_alloc_struct(void)
{
	struct buf *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->max_size = BUF_SIZE_MAX;
	b->refcount = 1;
	return b;
}

struct buf *
buf_new(void)
{
	return buf_alloc_struct();
}

struct buf *
buf_from(const void *p, size_t len)
{
	struct buf *b;

	if ((p == NULL && len != 0) || len > BUF_SIZE_MAX)
		return NULL;
	if ((b = buf_alloc_struct()) == NULL)
		return NULL;
	b->cd = p;
	b->size = b->alloc = b->max_size = len;
	b->readonly = 1;
	return b;
}

int
buf_set_view(struct buf *b, const void *p, size_t len)
{
	if (!b->readonly || b->parent != NULL || b->refcount > 1)
		return FERR_READ_ONLY;
	if ((p == NULL && len != 0) || len > BUF_SIZE_MAX)
		return FERR_ARGUMENT;
	b->cd = p;
	b->off = 0;
	b->size = b->alloc = b->max_size = len;
	return 0;
}

struct buf *
buf_fromb(struct buf *parent)
{
	struct buf *b;

	if (parent == NULL || parent->refcount == UINT32_MAX)
		return NULL;
	if ((b = buf_from(buf_ptr(parent), buf_len(parent))) == NULL)
		return NULL;
	b->parent = parent;
	parent->refcount++;
	return b;
}

int
buf_froms(struct buf *b, struct buf **childp)
{
	const uint8_t *p;
	size_t len;
	struct buf *child;
	int r;

	if (childp == NULL)
		return FERR_ARGUMENT;
	*childp = NULL;
	if ((r = buf_peek_string_direct(b, &p, &len)) != 0)
		return r;
	if ((child = buf_from(p, len)) == NULL)
		return FERR_ALLOC;
	if (b->refcount == UINT32_MAX) {
		buf_free(child);
		return FERR_INTERNAL;
	}
	child->parent = b;
	b->refcount++;
	/* Cannot fail: the string was just peeked. */
	b->off += 4 + len;
	*childp = child;
	return 0;
}

static void
buf_release_storage(struct buf *b)
{
	if (b->d != NULL) {
		if (b->secret)
			explicit_bzero(b->d, b->alloc);
		free(b->d);
	}
	b->d = NULL;
	b->cd = NULL;
	b->alloc = b->off = b->size = 0;
}

void
buf_free(struct buf *b)
{
	struct buf *parent;

	if (b == NULL)
		return;
	if (b->refcount > 1) {
		/* Children still view the storage: the last one frees it. */
		b->refcount--;
		return;
	}
	parent = b->parent;
	buf_release_storage(b);
	explicit_bzero(b, sizeof(*b));
	free(b);
	buf_free(parent);
}

void
buf_reset(struct buf *b)
{
	if (b->readonly || b->refcount > 1) {
		/* Storage is shared or not ours: just look empty. */
		b->off = b->size;
		return;
	}
	if (b->d != NULL && b->secret)
		explicit_bzero(b->d, b->alloc);
	b->off = b->size = 0;
}

void
buf_set_secret(struct buf *b)
{
	b->secret = 1;
}

size_t
buf_len(const struct buf *b)
{
	return b->size - b->off;
}

size_t
buf_max_size(const struct buf *b)
{
	return b->max_size;
}

size_t
buf_avail(const struct buf *b)
{
	if (b->readonly || b->refcount > 1)
		return 0;
	return b->max_size - buf_len(b);
}

int
buf_set_max_size(struct buf *b, size_t max_size)
{
	if (b->readonly || b->refcount > 1)
		return FERR_READ_ONLY;
	if (max_size > BUF_SIZE_MAX)
		return FERR_NO_SPACE;
	if (max_size < buf_len(b))
		return FERR_NO_SPACE;
	b->max_size = max_size;
	return 0;
}

const uint8_t *
buf_ptr(const struct buf *b)
{
	if (b->cd == NULL)
		return (const uint8_t *)"";
	return b->cd + b->off;
}

uint8_t *
buf_mutable_ptr(struct buf *b)
{
	if (b->readonly || b->refcount > 1 || b->d == NULL)
		return NULL;
	return b->d + b->off;
}

int
buf_check_reserve(const struct buf *b, size_t len)
{
	if (b->readonly || b->refcount > 1)
		return FERR_READ_ONLY;
	if (len > b->max_size || b->max_size - len < buf_len(b))
		return FERR_NO_SPACE;
	return 0;
}

/* Move live bytes to the front of the storage. */
static void
buf_compact(struct buf *b)
{
	size_t live = buf_len(b);

	if (b->off == 0)
		return;
	memmove(b->d, b->d + b->off, live);
	if (b->secret)
		explicit_bzero(b->d + live, b->size - live);
	b->off = 0;
	b->size = live;
}

/* Replace the storage with one of newalloc bytes, wiping the old. */
static int
buf_resize_storage(struct buf *b, size_t newalloc)
{
	uint8_t *nd;

	if (!b->secret) {
		if ((nd = realloc(b->d, newalloc)) == NULL)
			return FERR_ALLOC;
	} else {
		if ((nd = malloc(newalloc)) == NULL)
			return FERR_ALLOC;
		if (b->d != NULL) {
			memcpy(nd, b->d, b->size);
			explicit_bzero(b->d, b->alloc);
			free(b->d);
		}
	}
	b->d = nd;
	b->cd = nd;
	b->alloc = newalloc;
	return 0;
}

int
buf_allocate(struct buf *b, size_t len)
{
	size_t need, newalloc;
	int r;

	if ((r = buf_check_reserve(b, len)) != 0)
		return r;
	/* Fits after the live bytes already. */
	if (len <= b->alloc - b->size)
		return 0;
	/* Fits once consumed bytes are dropped. */
	if (len <= b->alloc - buf_len(b)) {
		buf_compact(b);
		return 0;
	}
	buf_compact(b);
	need = b->size + len;	/* <= max_size <= BUF_SIZE_MAX: no overflow */
	/* Double for amortised growth, in whole steps, capped at max_size. */
	newalloc = b->alloc < need / 2 ? need : b->alloc * 2;
	if (newalloc < need)
		newalloc = need;
	newalloc = (newalloc + BUF_ALLOC_STEP - 1) & ~(size_t)(BUF_ALLOC_STEP - 1);
	if (newalloc > b->max_size)
		newalloc = b->max_size > need ? b->max_size : need;
	return buf_resize_storage(b, newalloc);
}

int
buf_reserve(struct buf *b, size_t len, uint8_t **dpp)
{
	int r;

	if (dpp != NULL)
		*dpp = NULL;
	if ((r = buf_allocate(b, len)) != 0)
		return r;
	if (dpp != NULL)
		*dpp = b->d + b->size;
	b->size += len;
	return 0;
}

int
buf_consume(struct buf *b, size_t len)
{
	if (len > buf_len(b))
		return FERR_INCOMPLETE;
	b->off += len;
	/* An emptied buffer starts again at the front of its storage. */
	if (b->off == b->size && !b->readonly && b->refcount == 1)
		b->off = b->size = 0;
	return 0;
}

int
buf_consume_end(struct buf *b, size_t len)
{
	if (len > buf_len(b))
		return FERR_INCOMPLETE;
	if (b->secret && b->d != NULL && !b->readonly && b->refcount == 1)
		explicit_bzero(b->d + b->size - len, len);
	b->size -= len;
	return 0;
}

int
buf_get_direct(struct buf *b, size_t len, const uint8_t **vp)
{
	const uint8_t *p = buf_ptr(b);
	int r;

	if (vp != NULL)
		*vp = NULL;
	if ((r = buf_consume(b, len)) != 0)
		return r;
	/*
	 * buf_consume may rewind an emptied buffer, but the bytes stay in
	 * place until the next change, so p is still valid.
	 */
	if (vp != NULL)
		*vp = p;
	return 0;
}

int
buf_peek(const struct buf *b, size_t offset, void *v, size_t len)
{
	if (offset > buf_len(b) || len > buf_len(b) - offset)
		return FERR_INCOMPLETE;
	if (len != 0 && v != NULL)
		memcpy(v, buf_ptr(b) + offset, len);
	return 0;
}

int
buf_get(struct buf *b, void *v, size_t len)
{
	int r;

	if ((r = buf_peek(b, 0, v, len)) != 0)
		return r;
	return buf_consume(b, len);
}

int
buf_put(struct buf *b, const void *v, size_t len)
{
	uint8_t *p;
	int r;

	if (v == NULL && len != 0)
		return FERR_ARGUMENT;
	if ((r = buf_reserve(b, len, &p)) != 0)
		return r;
	if (len != 0)
		memcpy(p, v, len);
	return 0;
}

int
buf_putb(struct buf *b, const struct buf *v)
{
	if (b == v)
		return FERR_ARGUMENT;
	return buf_put(b, buf_ptr(v), buf_len(v));
}

int
buf_putfv(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	uint8_t *p;
	int len, r;

	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0)
		return FERR_FORMAT;
	/* Room for the NUL vsnprintf writes; it is dropped afterwards. */
	if ((r = buf_reserve(b, (size_t)len + 1, &p)) != 0)
		return r;
	if (vsnprintf((char *)p, (size_t)len + 1, fmt, ap) != len) {
		b->size -= (size_t)len + 1;
		return FERR_INTERNAL;
	}
	b->size--;
	return 0;
}

int
buf_putf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_putfv(b, fmt, ap);
	va_end(ap);
	return r;
}

/* Big-endian integer coding on raw bytes. */
static uint64_t
buf_load_be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static void
buf_store_be(uint8_t *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = n; i > 0; i--) {
		p[i - 1] = (uint8_t)v;
		v >>= 8;
	}
}

static int
buf_peek_uint(const struct buf *b, size_t offset, size_t n, uint64_t *v)
{
	if (offset > buf_len(b) || n > buf_len(b) - offset)
		return FERR_INCOMPLETE;
	*v = buf_load_be(buf_ptr(b) + offset, n);
	return 0;
}

static int
buf_get_uint(struct buf *b, size_t n, uint64_t *v)
{
	int r;

	if ((r = buf_peek_uint(b, 0, n, v)) != 0)
		return r;
	return buf_consume(b, n);
}

static int
buf_put_uint(struct buf *b, uint64_t v, size_t n)
{
	uint8_t *p;
	int r;

	if ((r = buf_reserve(b, n, &p)) != 0)
		return r;
	buf_store_be(p, v, n);
	return 0;
}

static int
buf_poke_uint(struct buf *b, size_t offset, uint64_t v, size_t n)
{
	uint8_t *p;

	if ((p = buf_mutable_ptr(b)) == NULL)
		return FERR_READ_ONLY;
	if (offset > buf_len(b) || n > buf_len(b) - offset)
		return FERR_INCOMPLETE;
	buf_store_be(p + offset, v, n);
	return 0;
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	uint64_t x;
	int r;

	if ((r = buf_get_uint(b, 1, &x)) == 0 && v != NULL)
		*v = (uint8_t)x;
	return r;
}

int
buf_get_u16(struct buf *b, uint16_t *v)
{
	uint64_t x;
	int r;

	if ((r = buf_get_uint(b, 2, &x)) == 0 && v != NULL)
		*v = (uint16_t)x;
	return r;
}

int
buf_get_u32(struct buf *b, uint32_t *v)
{
	uint64_t x;
	int r;

	if ((r = buf_get_uint(b, 4, &x)) == 0 && v != NULL)
		*v = (uint32_t)x;
	return r;
}

int
buf_get_u64(struct buf *b, uint64_t *v)
{
	uint64_t x;
	int r;

	if ((r = buf_get_uint(b, 8, &x)) == 0 && v != NULL)
		*v = x;
	return r;
}

int
buf_get_bool(struct buf *b, int *v)
{
	uint8_t x;
	int r;

	if ((r = buf_get_u8(b, &x)) == 0 && v != NULL)
		*v = x != 0;
	return r;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put_uint(b, v, 1);
}

int
buf_put_u16(struct buf *b, uint16_t v)
{
	return buf_put_uint(b, v, 2);
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	return buf_put_uint(b, v, 4);
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	return buf_put_uint(b, v, 8);
}

int
buf_put_bool(struct buf *b, int v)
{
	return buf_put_uint(b, v != 0, 1);
}

int
buf_peek_u8(const struct buf *b, size_t offset, uint8_t *v)
{
	uint64_t x;
	int r;

	if ((r = buf_peek_uint(b, offset, 1, &x)) == 0 && v != NULL)
		*v = (uint8_t)x;
	return r;
}

int
buf_peek_u32(const struct buf *b, size_t offset, uint32_t *v)
{
	uint64_t x;
	int r;

	if ((r = buf_peek_uint(b, offset, 4, &x)) == 0 && v != NULL)
		*v = (uint32_t)x;
	return r;
}

int
buf_peek_u64(const struct buf *b, size_t offset, uint64_t *v)
{
	uint64_t x;
	int r;

	if ((r = buf_peek_uint(b, offset, 8, &x)) == 0 && v != NULL)
		*v = x;
	return r;
}

int
buf_poke_u8(struct buf *b, size_t offset, uint8_t v)
{
	return buf_poke_uint(b, offset, v, 1);
}

int
buf_poke_u32(struct buf *b, size_t offset, uint32_t v)
{
	return buf_poke_uint(b, offset, v, 4);
}

int
buf_poke_u64(struct buf *b, size_t offset, uint64_t v)
{
	return buf_poke_uint(b, offset, v, 8);
}

int
buf_poke(struct buf *b, size_t offset, const void *v, size_t len)
{
	uint8_t *p;

	if (v == NULL && len != 0)
		return FERR_ARGUMENT;
	if ((p = buf_mutable_ptr(b)) == NULL)
		return FERR_READ_ONLY;
	if (offset > buf_len(b) || len > buf_len(b) - offset)
		return FERR_INCOMPLETE;
	if (len != 0)
		memcpy(p + offset, v, len);
	return 0;
}

int
buf_peek_string_direct(const struct buf *b, const uint8_t **vp, size_t *lenp)
{
	uint32_t len;
	int r;

	if (vp != NULL)
		*vp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_peek_u32(b, 0, &len)) != 0)
		return r;
	if (len > BUF_STRING_MAX)
		return FERR_STRING_TOO_LARGE;
	if (len > buf_len(b) - 4)
		return FERR_INCOMPLETE;
	if (vp != NULL)
		*vp = buf_ptr(b) + 4;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
buf_get_string_direct(struct buf *b, const uint8_t **vp, size_t *lenp)
{
	const uint8_t *p;
	size_t len;
	int r;

	if (vp != NULL)
		*vp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_peek_string_direct(b, &p, &len)) != 0)
		return r;
	if ((r = buf_consume(b, 4 + len)) != 0)
		return r;
	if (vp != NULL)
		*vp = p;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
buf_get_string(struct buf *b, uint8_t **vp, size_t *lenp)
{
	const uint8_t *p;
	uint8_t *copy = NULL;
	size_t len;
	int r;

	if (vp != NULL)
		*vp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_peek_string_direct(b, &p, &len)) != 0)
		return r;
	if (vp != NULL) {
		/* len <= BUF_STRING_MAX: len + 1 cannot overflow. */
		if ((copy = malloc(len + 1)) == NULL)
			return FERR_ALLOC;
		if (len != 0)
			memcpy(copy, p, len);
		copy[len] = '\0';
	}
	if ((r = buf_consume(b, 4 + len)) != 0) {
		free(copy);
		return r;
	}
	if (vp != NULL)
		*vp = copy;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
buf_get_cstring(struct buf *b, char **vp, size_t *lenp)
{
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = buf_peek_string_direct(b, &p, &len)) != 0)
		return r;
	if (len != 0 && memchr(p, '\0', len) != NULL)
		return FERR_FORMAT;
	return buf_get_string(b, (uint8_t **)vp, lenp);
}

int
buf_get_stringb(struct buf *b, struct buf *v)
{
	const uint8_t *p;
	size_t len;
	int r;

	if (b == v)
		return FERR_ARGUMENT;
	if ((r = buf_peek_string_direct(b, &p, &len)) != 0)
		return r;
	if ((r = buf_put(v, p, len)) != 0)
		return r;
	return buf_consume(b, 4 + len);
}

int
buf_put_string(struct buf *b, const void *v, size_t len)
{
	uint8_t *p;
	int r;

	if (len > BUF_STRING_MAX)
		return FERR_STRING_TOO_LARGE;
	if (v == NULL && len != 0)
		return FERR_ARGUMENT;
	if ((r = buf_reserve(b, 4 + len, &p)) != 0)
		return r;
	buf_store_be(p, len, 4);
	if (len != 0)
		memcpy(p + 4, v, len);
	return 0;
}

int
buf_put_cstring(struct buf *b, const char *v)
{
	if (v == NULL)
		return FERR_ARGUMENT;
	return buf_put_string(b, v, strlen(v));
}

int
buf_put_stringb(struct buf *b, const struct buf *v)
{
	if (b == v)
		return FERR_ARGUMENT;
	return buf_put_string(b, buf_ptr(v), buf_len(v));
}

int
buf_begin_string(struct buf *b, size_t *offp)
{
	int r;

	if (offp == NULL)
		return FERR_ARGUMENT;
	if ((r = buf_put_u32(b, 0)) != 0)
		return r;
	*offp = buf_len(b) - 4;
	return 0;
}

int
buf_end_string(struct buf *b, size_t off)
{
	size_t len;

	if (off > buf_len(b) || buf_len(b) - off < 4)
		return FERR_ARGUMENT;
	len = buf_len(b) - off - 4;
	if (len > BUF_STRING_MAX)
		return FERR_STRING_TOO_LARGE;
	return buf_poke_u32(b, off, (uint32_t)len);
}

/* RFC 4251 section 5: non-empty names of printable ASCII, no comma. */
static int
buf_namelist_valid(const uint8_t *p, size_t len)
{
	size_t i, namelen = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == ',') {
			if (namelen == 0)
				return 0;
			namelen = 0;
			continue;
		}
		if (p[i] < 0x21 || p[i] > 0x7e)
			return 0;
		namelen++;
	}
	return len == 0 || namelen != 0;
}

int
buf_get_namelist(struct buf *b, char **vp)
{
	const uint8_t *p;
	size_t len;
	int r;

	if (vp != NULL)
		*vp = NULL;
	if ((r = buf_peek_string_direct(b, &p, &len)) != 0)
		return r;
	if (!buf_namelist_valid(p, len))
		return FERR_FORMAT;
	return buf_get_string(b, (uint8_t **)vp, NULL);
}

int
buf_put_namelist(struct buf *b, const char *v)
{
	size_t len;

	if (v == NULL)
		return FERR_ARGUMENT;
	len = strlen(v);
	if (!buf_namelist_valid((const uint8_t *)v, len))
		return FERR_FORMAT;
	return buf_put_string(b, v, len);
}

int
buf_put_mpint_bytes(struct buf *b, const void *v, size_t len)
{
	const uint8_t *p = v;
	uint8_t *d;
	size_t pad;
	int r;

	if (p == NULL && len != 0)
		return FERR_ARGUMENT;
	while (len > 0 && *p == 0) {
		p++;
		len--;
	}
	if (len > BUF_MPINT_MAX_BYTES - 1)
		return FERR_MPINT_TOO_LARGE;
	pad = (len > 0 && (p[0] & 0x80) != 0) ? 1 : 0;
	if ((r = buf_reserve(b, 4 + pad + len, &d)) != 0)
		return r;
	buf_store_be(d, pad + len, 4);
	if (pad)
		d[4] = 0;
	if (len != 0)
		memcpy(d + 4 + pad, p, len);
	return 0;
}

int
buf_get_mpint_bytes_direct(struct buf *b, const uint8_t **vp, size_t *lenp)
{
	const uint8_t *p;
	size_t len;
	int r;

	if (vp != NULL)
		*vp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = buf_peek_string_direct(b, &p, &len)) != 0)
		return r;
	if (len > BUF_MPINT_MAX_BYTES)
		return FERR_MPINT_TOO_LARGE;
	if (len > 0 && (p[0] & 0x80) != 0)
		return FERR_MPINT_NEGATIVE;
	/* Minimal: a leading zero only to clear the sign bit of the next. */
	if (len > 0 && p[0] == 0 && (len == 1 || (p[1] & 0x80) == 0))
		return FERR_FORMAT;
	if ((r = buf_consume(b, 4 + len)) != 0)
		return r;
	if (len > 0 && p[0] == 0) {
		p++;
		len--;
	}
	if (vp != NULL)
		*vp = p;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
buf_expect_end(const struct buf *b)
{
	return buf_len(b) == 0 ? 0 : FERR_TRAILING_DATA;
}

char *
buf_dup_string(const struct buf *b)
{
	size_t len = buf_len(b);
	char *s;

	if (len != 0 && memchr(buf_ptr(b), '\0', len) != NULL)
		return NULL;
	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	if (len != 0)
		memcpy(s, buf_ptr(b), len);
	s[len] = '\0';
	return s;
}

int
buf_cmp_ct(const struct buf *b, const void *v, size_t len)
{
	if (len != buf_len(b))
		return 1;
	if (len == 0)
		return 0;
	return CRYPTO_memcmp(buf_ptr(b), v, len) != 0;
}

char *
buf_hex(const struct buf *b)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = buf_ptr(b);
	size_t i, len = buf_len(b);
	char *s;

	/* len <= BUF_SIZE_MAX: 2 * len + 1 cannot overflow. */
	if ((s = malloc(2 * len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		s[2 * i] = hex[p[i] >> 4];
		s[2 * i + 1] = hex[p[i] & 0xf];
	}
	s[2 * len] = '\0';
	return s;
}
