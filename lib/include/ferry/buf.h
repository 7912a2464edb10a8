/*
 * The wire buffer: the one type through which every SSH and SFTP encoding
 * is built and parsed.
 *
 * A buffer is a byte queue: data is appended at the end ("put") and
 * consumed from the front ("get").  "peek" reads at an offset from the
 * front without consuming, "poke" overwrites bytes already in the buffer,
 * and "_direct" variants hand out a pointer into the buffer that stays
 * valid only until the buffer is next changed.
 *
 * Every buffer has a maximum size (BUF_SIZE_MAX unless lowered); growing
 * past it fails with FERR_NO_SPACE.  All length arithmetic is checked
 * against overflow.  A buffer marked secret is wiped whenever its storage
 * is released, moved or reset.
 *
 * Read-only buffers wrap external memory (buf_from) or a region of another
 * buffer (buf_fromb, buf_froms); such a child keeps its parent alive, and
 * a parent with live children may not be changed (FERR_READ_ONLY) but may
 * still be consumed.
 *
 * All functions that can fail return 0 or a negative FERR_* code and leave
 * the buffer unchanged on failure.  Multi-byte integers are big-endian.
 */
#ifndef FERRY_BUF_H
#define FERRY_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#define FERRY_WUR __attribute__((warn_unused_result))

/* Hard ceiling for any buffer: 128 MiB. */
#define BUF_SIZE_MAX		0x8000000U
/* Strings (SSH "string") longer than this are rejected on read: 16 MiB. */
#define BUF_STRING_MAX		0x1000000U
/* mpints longer than this many bytes (16384 bits + sign byte) are rejected. */
#define BUF_MPINT_MAX_BYTES	2049U

struct buf;

/* Allocate an empty, growable buffer; NULL when out of memory. */
struct buf *buf_new(void);

/*
 * A read-only buffer over len bytes at p, which the caller keeps alive and
 * unchanged for the buffer's lifetime.  NULL on allocation failure.
 */
struct buf *buf_from(const void *p, size_t len);

/*
 * Re-point a read-only buffer made by buf_from (not a child) at len bytes
 * at p, without allocating: the hot path hands each received packet's
 * payload out through one such view.  FERR_READ_ONLY for other buffers.
 */
int buf_set_view(struct buf *b, const void *p, size_t len) FERRY_WUR;

/*
 * A read-only child over the unconsumed bytes of parent.  The child holds
 * a reference: the parent's storage stays alive until both are freed.
 */
struct buf *buf_fromb(struct buf *parent);

/*
 * Consume an SSH string from b and return, in *childp, a read-only child
 * buffer over its contents (no copy).  The child references b.
 */
int buf_froms(struct buf *b, struct buf **childp) FERRY_WUR;

/* Release a buffer (NULL is allowed); secret buffers are wiped first. */
void buf_free(struct buf *b);

/* Empty the buffer, keeping its maximum size; wipes if secret. */
void buf_reset(struct buf *b);

/* Mark the buffer as holding secrets: every release of storage wipes it. */
void buf_set_secret(struct buf *b);

/* Number of unconsumed bytes. */
size_t buf_len(const struct buf *b);

/* How many more bytes may be appended before the maximum size is hit. */
size_t buf_avail(const struct buf *b);

/* The maximum size, and a way to change it (not below the current data). */
size_t buf_max_size(const struct buf *b);
int buf_set_max_size(struct buf *b, size_t max_size) FERRY_WUR;

/* Pointer to the first unconsumed byte; valid until the next change. */
const uint8_t *buf_ptr(const struct buf *b);

/*
 * Writable pointer to the first unconsumed byte, or NULL for a read-only
 * buffer or one with children.  Valid until the next change.
 */
uint8_t *buf_mutable_ptr(struct buf *b);

/* Whether len more bytes could be appended (0) or not (negative code). */
int buf_check_reserve(const struct buf *b, size_t len) FERRY_WUR;

/* Make room for len more bytes without appending them. */
int buf_allocate(struct buf *b, size_t len) FERRY_WUR;

/*
 * Append len uninitialised bytes and return a pointer to them in *dpp (may
 * be NULL) for the caller to fill in place: the zero-copy path for data
 * read from files or sockets.  Valid until the next change.
 */
int buf_reserve(struct buf *b, size_t len, uint8_t **dpp) FERRY_WUR;

/* Drop len bytes from the front, or from the end (_end). */
int buf_consume(struct buf *b, size_t len) FERRY_WUR;
int buf_consume_end(struct buf *b, size_t len) FERRY_WUR;

/* Copy len bytes out of the front (get) or append len bytes (put). */
int buf_get(struct buf *b, void *v, size_t len) FERRY_WUR;
int buf_put(struct buf *b, const void *v, size_t len) FERRY_WUR;

/* Append all unconsumed bytes of v (v is not consumed). */
int buf_putb(struct buf *b, const struct buf *v) FERRY_WUR;

/* Append printf-formatted text (no terminating NUL is stored). */
int buf_putf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))) FERRY_WUR;
int buf_putfv(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0))) FERRY_WUR;

/*
 * Consume len bytes and return a pointer to them in *vp (valid until the
 * next change): zero-copy access to a region.
 */
int buf_get_direct(struct buf *b, size_t len, const uint8_t **vp) FERRY_WUR;

/* Fixed-size integers.  Output pointers may be NULL to skip a value. */
int buf_get_u8(struct buf *b, uint8_t *v) FERRY_WUR;
int buf_get_u16(struct buf *b, uint16_t *v) FERRY_WUR;
int buf_get_u32(struct buf *b, uint32_t *v) FERRY_WUR;
int buf_get_u64(struct buf *b, uint64_t *v) FERRY_WUR;
/* An SSH boolean: any non-zero byte is true; *v is set to 0 or 1. */
int buf_get_bool(struct buf *b, int *v) FERRY_WUR;
int buf_put_u8(struct buf *b, uint8_t v) FERRY_WUR;
int buf_put_u16(struct buf *b, uint16_t v) FERRY_WUR;
int buf_put_u32(struct buf *b, uint32_t v) FERRY_WUR;
int buf_put_u64(struct buf *b, uint64_t v) FERRY_WUR;
int buf_put_bool(struct buf *b, int v) FERRY_WUR;

/* Read an integer at offset bytes from the front without consuming. */
int buf_peek_u8(const struct buf *b, size_t offset, uint8_t *v) FERRY_WUR;
int buf_peek_u32(const struct buf *b, size_t offset, uint32_t *v) FERRY_WUR;
int buf_peek_u64(const struct buf *b, size_t offset, uint64_t *v) FERRY_WUR;
int buf_peek(const struct buf *b, size_t offset, void *v, size_t len) FERRY_WUR;

/*
 * Overwrite bytes already in the buffer at offset from the front: used to
 * back-fill a length reserved earlier.
 */
int buf_poke_u8(struct buf *b, size_t offset, uint8_t v) FERRY_WUR;
int buf_poke_u32(struct buf *b, size_t offset, uint32_t v) FERRY_WUR;
int buf_poke_u64(struct buf *b, size_t offset, uint64_t v) FERRY_WUR;
int buf_poke(struct buf *b, size_t offset, const void *v, size_t len) FERRY_WUR;

/*
 * SSH strings (uint32 length + bytes).
 *
 * buf_get_string: allocate a copy (NUL-terminated for convenience, the
 * NUL not counted) into *vp and its length into *lenp; either may be NULL.
 * buf_get_string_direct / buf_peek_string_direct: pointer into the buffer,
 * valid until the next change.  buf_get_cstring: like buf_get_string but
 * rejects embedded NULs (FERR_FORMAT).  buf_get_stringb: append the
 * contents to v.  All reject lengths over BUF_STRING_MAX.
 */
int buf_get_string(struct buf *b, uint8_t **vp, size_t *lenp) FERRY_WUR;
int buf_get_string_direct(struct buf *b, const uint8_t **vp,
    size_t *lenp) FERRY_WUR;
int buf_peek_string_direct(const struct buf *b, const uint8_t **vp,
    size_t *lenp) FERRY_WUR;
int buf_get_cstring(struct buf *b, char **vp, size_t *lenp) FERRY_WUR;
int buf_get_stringb(struct buf *b, struct buf *v) FERRY_WUR;
int buf_put_string(struct buf *b, const void *v, size_t len) FERRY_WUR;
int buf_put_cstring(struct buf *b, const char *v) FERRY_WUR;
int buf_put_stringb(struct buf *b, const struct buf *v) FERRY_WUR;

/*
 * Start a string whose length is not known yet: appends a zero length and
 * returns its offset in *offp; buf_end_string(b, off) back-fills it with
 * the number of bytes appended since.
 */
int buf_begin_string(struct buf *b, size_t *offp) FERRY_WUR;
int buf_end_string(struct buf *b, size_t off) FERRY_WUR;

/*
 * name-list (RFC 4251 section 5): a string of comma-separated names, each
 * non-empty, printable US-ASCII without commas.  The getter returns an
 * allocated C string; the putter validates its input.
 */
int buf_get_namelist(struct buf *b, char **vp) FERRY_WUR;
int buf_put_namelist(struct buf *b, const char *v) FERRY_WUR;

/*
 * mpint (RFC 4251 section 5) as raw bytes.  buf_put_mpint_bytes encodes
 * the non-negative big-endian magnitude v (leading zeros are stripped, a
 * zero byte is prepended when the top bit is set).  buf_get_mpint_bytes_direct
 * accepts only non-negative, minimally encoded values and returns the
 * magnitude without its sign byte.
 */
int buf_put_mpint_bytes(struct buf *b, const void *v, size_t len) FERRY_WUR;
int buf_get_mpint_bytes_direct(struct buf *b, const uint8_t **vp,
    size_t *lenp) FERRY_WUR;

/*
 * mpint as an OpenSSL BIGNUM, both signs (two's complement on the wire).
 * Reading enforces minimal encoding and BUF_MPINT_MAX_BYTES; *bnp gets a
 * new BIGNUM the caller frees.
 */
struct bignum_st;
int buf_get_mpint(struct buf *b, struct bignum_st **bnp) FERRY_WUR;
int buf_put_mpint(struct buf *b, const struct bignum_st *bn) FERRY_WUR;

/*
 * Fail with FERR_TRAILING_DATA unless every byte was consumed: every
 * message parser ends with this.
 */
int buf_expect_end(const struct buf *b) FERRY_WUR;

/* An allocated copy of the unconsumed bytes as a C string; NULL if they
 * contain a NUL or on allocation failure. */
char *buf_dup_string(const struct buf *b);

/* Compare the unconsumed bytes with len bytes at v in constant time:
 * 0 when equal. */
int buf_cmp_ct(const struct buf *b, const void *v, size_t len);

/*
 * Base64 (RFC 4648, padded), as used in key files and known_hosts.
 * buf_put_b64 appends the encoding of v as text; buf_put_b64_decoded
 * decodes the C string s (whitespace ignored) and appends the bytes.
 */
int buf_put_b64(struct buf *b, const void *v, size_t len) FERRY_WUR;
int buf_put_b64_decoded(struct buf *b, const char *s) FERRY_WUR;

/* Hex dump of the unconsumed bytes, for debugging; allocated string. */
char *buf_hex(const struct buf *b);

#endif /* FERRY_BUF_H */
