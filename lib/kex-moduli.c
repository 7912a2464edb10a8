/*
 * OpenSSH's moduli file (moduli(5)) and the choice of a group for
 * diffie-hellman-group-exchange (RFC 4419), following OpenSSH's
 * choose_dh: among the usable groups inside the client's [min, max],
 * the smallest larger than the preferred size, else the largest, and a
 * random one among those of that size.  Without a usable file, the
 * built-in RFC 3526 groups 14, 16 and 18 take its place.
 *
 * A line is "timestamp type tests tries size generator modulus", the
 * numbers decimal except the last two (hex), size being bits - 1.  Only
 * safe primes (type 2) that passed Miller-Rabin and are not marked
 * composite are used.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/rand.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "kexalg.h"
#include "misc.h"

/* moduli(5) type and test flags. */
#define KEX_MODULI_TYPE_SAFE		2
#define KEX_MODULI_TESTS_COMPOSITE	0x01
#define KEX_MODULI_TESTS_MILLER_RABIN	0x04
#define KEX_MODULI_TESTS_ALL		0x1f
#define KEX_MODULI_TRIES_MAX		(1LL << 30)
/* Timestamps are YYYYMMDDHHMMSS. */
#define KEX_MODULI_STAMP_MAX		99999999999999LL

/* The longest field: the modulus of the largest group, in hex. */
#define KEX_MODULI_FIELD_MAX	(KEX_DH_GROUP_MAX_BITS / 4 + 1)

static int
kex_moduli_is_space(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static int
kex_moduli_is_eol(uint8_t c)
{
	return c == '\n' || c == '\r';
}

static void
kex_moduli_skip_space(struct buf *b)
{
	uint8_t c;

	while (buf_peek_u8(b, 0, &c) == 0 && kex_moduli_is_space(c)) {
		if (buf_consume(b, 1) != 0)
			break;
	}
}

/*
 * Read one field into tok (NUL-terminated) and the separators after it.
 * Empty, overlong or NUL-containing fields are FERR_FORMAT.
 */
static int
kex_moduli_field(struct buf *b, char *tok, size_t toksz)
{
	size_t n = 0;
	uint8_t c;

	while (buf_peek_u8(b, 0, &c) == 0 && !kex_moduli_is_space(c) &&
	    !kex_moduli_is_eol(c)) {
		if (c == '\0' || n + 1 >= toksz)
			return FERR_FORMAT;
		tok[n++] = (char)c;
		if (buf_consume(b, 1) != 0)
			return FERR_INTERNAL;
	}
	if (n == 0)
		return FERR_FORMAT;
	tok[n] = '\0';
	kex_moduli_skip_space(b);
	return 0;
}

/* A decimal field in [lo, hi]. */
static int
kex_moduli_number(struct buf *b, long long lo, long long hi,
    long long *vp)
{
	char tok[32];
	const char *errstr;
	int r;

	if ((r = kex_moduli_field(b, tok, sizeof(tok))) != 0)
		return r;
	*vp = misc_strtonum(tok, lo, hi, &errstr);
	return errstr == NULL ? 0 : FERR_FORMAT;
}

/* A hex field as a BIGNUM; only hex digits are allowed (no sign). */
static int
kex_moduli_hex(struct buf *b, char *tok, size_t toksz, BIGNUM **bnp)
{
	size_t i, n;
	int r;

	*bnp = NULL;
	if ((r = kex_moduli_field(b, tok, toksz)) != 0)
		return r;
	n = strlen(tok);
	for (i = 0; i < n; i++) {
		if (strchr("0123456789abcdefABCDEF", tok[i]) == NULL)
			return FERR_FORMAT;
	}
	if (n > (size_t)INT32_MAX || BN_hex2bn(bnp, tok) != (int)n) {
		BN_free(*bnp);
		*bnp = NULL;
		return FERR_FORMAT;
	}
	return 0;
}

/* The end of a line: an optional CR LF or LF, then nothing. */
static int
kex_moduli_eol(struct buf *b)
{
	uint8_t c;

	if (buf_peek_u8(b, 0, &c) == 0 && c == '\r' &&
	    buf_consume(b, 1) != 0)
		return FERR_INTERNAL;
	if (buf_peek_u8(b, 0, &c) == 0 && c == '\n' &&
	    buf_consume(b, 1) != 0)
		return FERR_INTERNAL;
	return buf_expect_end(b) == 0 ? 0 : FERR_FORMAT;
}

static int
kex_moduli_parse(struct buf *b, struct kex_dh_group **gp)
{
	char *tok = NULL;
	BIGNUM *g = NULL, *p = NULL;
	long long stamp, type, tests, tries, size;
	uint8_t c;
	int r;

	kex_moduli_skip_space(b);
	/* Blank lines and comments. */
	if (buf_peek_u8(b, 0, &c) != 0 || kex_moduli_is_eol(c))
		return kex_moduli_eol(b);
	if (c == '#')
		return 0;
	if ((tok = malloc(KEX_MODULI_FIELD_MAX + 1)) == NULL)
		return FERR_ALLOC;
	if ((r = kex_moduli_number(b, 0, KEX_MODULI_STAMP_MAX,
	    &stamp)) != 0 ||
	    (r = kex_moduli_number(b, 0, 5, &type)) != 0 ||
	    (r = kex_moduli_number(b, 0, KEX_MODULI_TESTS_ALL, &tests)) != 0 ||
	    (r = kex_moduli_number(b, 1, KEX_MODULI_TRIES_MAX, &tries)) != 0 ||
	    (r = kex_moduli_number(b, 1, KEX_DH_GROUP_MAX_BITS - 1,
	    &size)) != 0 ||
	    (r = kex_moduli_hex(b, tok, KEX_MODULI_FIELD_MAX + 1, &g)) != 0 ||
	    (r = kex_moduli_hex(b, tok, KEX_MODULI_FIELD_MAX + 1, &p)) != 0 ||
	    (r = kex_moduli_eol(b)) != 0)
		goto out;
	(void)stamp;	/* checked for form only */
	(void)tries;
	if (type != KEX_MODULI_TYPE_SAFE ||
	    (tests & KEX_MODULI_TESTS_COMPOSITE) != 0 ||
	    (tests & KEX_MODULI_TESTS_MILLER_RABIN) == 0) {
		r = FERR_NOT_SUPPORTED;
		goto out;
	}
	/* The listed size is one bit less than the modulus. */
	if (BN_num_bits(p) != size + 1) {
		r = FERR_FORMAT;
		goto out;
	}
	switch ((r = kex_dh_group_new(p, g, gp))) {
	case 0:
	case FERR_ALLOC:
	case FERR_LIBCRYPTO:
		break;
	default:
		r = FERR_NOT_SUPPORTED;
		break;
	}
 out:
	BN_free(g);
	BN_free(p);
	free(tok);
	return r;
}

int
kex_moduli_parse_line(const char *line, size_t len, struct kex_dh_group **gp)
{
	struct buf *b;
	int r;

	if (gp == NULL || (line == NULL && len != 0))
		return FERR_ARGUMENT;
	*gp = NULL;
	if ((b = buf_from(line == NULL ? "" : line, len)) == NULL)
		return FERR_ALLOC;
	r = kex_moduli_parse(b, gp);
	buf_free(b);
	return r;
}

/* A uniform random number in [0, n), n > 0. */
static int
kex_moduli_uniform(uint32_t n, uint32_t *vp)
{
	uint32_t v, floor = (uint32_t)(-n) % n;

	do {
		if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
			return FERR_LIBCRYPTO;
	} while (v < floor);
	*vp = v % n;
	return 0;
}

/* OpenSSH's preference: closest above want, else the largest below. */
static int
kex_moduli_better(uint32_t size, uint32_t best, uint32_t want)
{
	return (size > want && size < best) || (size > best && best < want);
}

/*
 * Walk the lines of text.  With pick == NULL, find the best size and
 * how many groups have it; otherwise return the which-th of those.
 */
static int
kex_moduli_scan(const struct buf *text, uint32_t min, uint32_t want,
    uint32_t max, uint32_t *bestp, uint32_t *countp, uint32_t which,
    struct kex_dh_group **pick)
{
	struct buf *b, *line = NULL;
	struct kex_dh_group *grp = NULL;
	const uint8_t *p, *nl;
	size_t len, linenum = 0;
	uint32_t size;
	int r;

	if ((b = buf_from(buf_ptr(text), buf_len(text))) == NULL)
		return FERR_ALLOC;
	while (buf_len(b) > 0) {
		linenum++;
		nl = memchr(buf_ptr(b), '\n', buf_len(b));
		len = nl == NULL ? buf_len(b) : (size_t)(nl - buf_ptr(b)) + 1;
		if ((r = buf_get_direct(b, len, &p)) != 0 ||
		    (line = buf_from(p, len)) == NULL) {
			r = r != 0 ? r : FERR_ALLOC;
			goto out;
		}
		r = kex_moduli_parse(line, &grp);
		buf_free(line);
		line = NULL;
		if (r == FERR_ALLOC || r == FERR_LIBCRYPTO)
			goto out;
		if (r != 0) {
			log_debug2("moduli: line %zu skipped: %s", linenum,
			    err_str(r));
			continue;
		}
		if (grp == NULL)
			continue;
		size = kex_dh_group_bits(grp);
		if (size < min || size > max) {
			kex_dh_group_free(grp);
			grp = NULL;
			continue;
		}
		if (pick == NULL) {
			if (kex_moduli_better(size, *bestp, want)) {
				*bestp = size;
				*countp = 0;
			}
			if (size == *bestp)
				(*countp)++;
		} else if (size == *bestp && which-- == 0) {
			*pick = grp;
			grp = NULL;
			break;
		}
		kex_dh_group_free(grp);
		grp = NULL;
	}
	r = 0;
 out:
	kex_dh_group_free(grp);
	buf_free(b);
	return r;
}

int
kex_moduli_choose_text(const struct buf *text, uint32_t min, uint32_t want,
    uint32_t max, struct kex_dh_group **gp)
{
	uint32_t best = 0, count = 0, which;
	int r;

	if (gp == NULL || text == NULL)
		return FERR_ARGUMENT;
	*gp = NULL;
	if ((r = kex_moduli_scan(text, min, want, max, &best, &count, 0,
	    NULL)) != 0)
		return r;
	if (count == 0)
		return FERR_DH_GEX_RANGE;
	if ((r = kex_moduli_uniform(count, &which)) != 0 ||
	    (r = kex_moduli_scan(text, min, want, max, &best, &count, which,
	    gp)) != 0)
		return r;
	return *gp == NULL ? FERR_INTERNAL : 0;
}

/* Built-in groups the fallback may choose, smallest first. */
static const struct {
	int id;
	uint32_t bits;
} kex_moduli_builtin[] = {
	{ KEX_DH_GROUP14, 2048 },
	{ KEX_DH_GROUP16, 4096 },
	{ KEX_DH_GROUP18, 8192 },
};

int
kex_moduli_fallback(uint32_t min, uint32_t want, uint32_t max,
    struct kex_dh_group **gp)
{
	uint32_t best = 0, size;
	int id = 0;
	size_t i;

	if (gp == NULL)
		return FERR_ARGUMENT;
	*gp = NULL;
	for (i = 0; i < sizeof(kex_moduli_builtin) /
	    sizeof(kex_moduli_builtin[0]); i++) {
		size = kex_moduli_builtin[i].bits;
		if (size < min || size > max)
			continue;
		if (kex_moduli_better(size, best, want)) {
			best = size;
			id = kex_moduli_builtin[i].id;
		}
	}
	if (id == 0)
		return FERR_DH_GEX_RANGE;
	return kex_dh_group_builtin(id, gp);
}

int
kex_moduli_read(const char *path, struct buf **bp)
{
	struct buf *b;
	FILE *f;
	uint8_t *d;
	size_t n;
	int r = 0;

	*bp = NULL;
	if ((f = fopen(path, "r")) == NULL)
		return FERR_SYSTEM;
	if ((b = buf_new()) == NULL ||
	    buf_set_max_size(b, KEX_MODULI_MAX_FILE) != 0) {
		r = FERR_ALLOC;
		goto out;
	}
	for (;;) {
		if ((r = buf_reserve(b, 4096, &d)) != 0)
			goto out;
		n = fread(d, 1, 4096, f);
		if ((r = buf_consume_end(b, 4096 - n)) != 0)
			goto out;
		if (n < 4096)
			break;
	}
	if (ferror(f)) {
		r = FERR_SYSTEM;
		goto out;
	}
	*bp = b;
	b = NULL;
 out:
	fclose(f);
	buf_free(b);
	return r;
}

int
kex_moduli_choose(const char *path, uint32_t min, uint32_t want,
    uint32_t max, struct kex_dh_group **gp)
{
	return kex_moduli_choose_from(NULL, path, min, want, max, gp);
}

int
kex_moduli_choose_from(const struct buf *loaded, const char *path,
    uint32_t min, uint32_t want, uint32_t max, struct kex_dh_group **gp)
{
	struct buf *text = NULL;
	int r;

	if (gp == NULL)
		return FERR_ARGUMENT;
	*gp = NULL;
	if (path == NULL)
		path = KEX_MODULI_PATH;
	if (loaded == NULL && (r = kex_moduli_read(path, &text)) != 0) {
		log_verbose("moduli: cannot read %s (%s): using a built-in "
		    "group", path, r == FERR_SYSTEM ? strerror(errno) :
		    err_str(r));
		return kex_moduli_fallback(min, want, max, gp);
	}
	r = kex_moduli_choose_text(loaded != NULL ? loaded : text, min, want,
	    max, gp);
	buf_free(text);
	if (r == FERR_DH_GEX_RANGE) {
		log_verbose("moduli: no group of %u..%u bits in %s: using a "
		    "built-in group", min, max, path);
		return kex_moduli_fallback(min, want, max, gp);
	}
	if (r == 0)
		log_debug("moduli: a %d-bit group from %s%s",
		    BN_num_bits(kex_dh_group_p(*gp)), path,
		    loaded != NULL ? " (read at start)" : "");
	return r;
}
