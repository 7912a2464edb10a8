/*
 * Unit tests for lib/kex-moduli.c: moduli(5) lines good and bad, group
 * selection as OpenSSH's choose_dh, the built-in fallback, and reading a
 * file.  Test lines are built from the RFC 3526 safe primes (and one
 * line of Debian's moduli file from the fuzz corpus).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/transport.h"
#include "kexalg.h"
#include "tap.h"

/* A moduli line for built-in group id with the given fields. */
static char *
line_for(int id, const char *type, const char *tests, const char *tries,
    int size_delta, const char *gen, const char *tail)
{
	struct kex_dh_group *grp = NULL;
	char *hex, *line;
	size_t len;

	if (kex_dh_group_builtin(id, &grp) != 0 ||
	    (hex = BN_bn2hex(kex_dh_group_p(grp))) == NULL)
		abort();
	len = strlen(hex) + 128;
	if ((line = malloc(len)) == NULL)
		abort();
	snprintf(line, len, "20260101000000 %s %s %s %d %s %s%s", type, tests,
	    tries, (int)kex_dh_group_bits(grp) - 1 + size_delta, gen, hex,
	    tail);
	OPENSSL_free(hex);
	kex_dh_group_free(grp);
	return line;
}

static int
parse(const char *line, struct kex_dh_group **gp)
{
	return kex_moduli_parse_line(line, strlen(line), gp);
}

static void
test_good_lines(void)
{
	struct kex_dh_group *grp = NULL, *ref = NULL;
	char *l;

	l = line_for(KEX_DH_GROUP14, "2", "6", "100", 0, "2", "\n");
	is_int(parse(l, &grp), 0, "group 14 line");
	ok(grp != NULL && kex_dh_group_bits(grp) == 2048, "2048-bit group");
	ok(kex_dh_group_builtin(KEX_DH_GROUP14, &ref) == 0 && grp != NULL &&
	    BN_cmp(kex_dh_group_p(grp), kex_dh_group_p(ref)) == 0 &&
	    BN_is_word(kex_dh_group_g(grp), 2), "modulus and generator");
	kex_dh_group_free(grp);
	kex_dh_group_free(ref);
	free(l);

	l = line_for(KEX_DH_GROUP16, "2", "6", "100", 0, "5", "\r\n");
	is_int(parse(l, &grp), 0, "CRLF line, generator 5");
	ok(grp != NULL && BN_is_word(kex_dh_group_g(grp), 5), "generator 5");
	kex_dh_group_free(grp);
	free(l);

	/* Miller-Rabin alone, lower-case hex, no newline, spaces around. */
	l = line_for(KEX_DH_GROUP14, "2", "4", "1", 0, "2", "  ");
	is_int(parse(l, &grp), 0, "tests 4, trailing spaces, no newline");
	kex_dh_group_free(grp);
	free(l);
	l = line_for(KEX_DH_GROUP14, "2", "30", "1", 0, "2", "");
	is_int(parse(l, &grp), 0, "every test flag but composite");
	kex_dh_group_free(grp);
	free(l);

	grp = (struct kex_dh_group *)1;
	is_int(parse("# Time Type Tests Tries Size Generator Modulus\n", &grp),
	    0, "comment");
	ok(grp == NULL, "comment gives no group");
	is_int(parse("  # indented comment", &grp), 0, "indented comment");
	is_int(parse("", &grp), 0, "empty line");
	is_int(parse("\n", &grp), 0, "newline only");
	is_int(parse(" \t \r\n", &grp), 0, "blank line");
	ok(grp == NULL, "blank gives no group");
}

static void
test_debian_line(void)
{
	struct kex_dh_group *grp = NULL;
	const char *top = getenv("top_srcdir");
	char path[4096], line[8192];
	FILE *f;
	int n = 0, groups = 0, r;

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/moduli/debian",
	    top != NULL ? top : ".");
	if ((f = fopen(path, "r")) == NULL) {
		tap_skip("no %s", path);
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		n++;
		r = parse(line, &grp);
		is_int(r, 0, "Debian moduli line %d", n);
		if (grp != NULL)
			groups++;
		kex_dh_group_free(grp);
		grp = NULL;
	}
	fclose(f);
	ok(groups >= 3, "Debian lines give groups (%d)", groups);
}

struct bad_line {
	const char *what;
	int want;
	const char *type, *tests, *tries;
	int size_delta;
	const char *gen, *tail;
};

static const struct bad_line bad_lines[] = {
	{ "type out of range", FERR_FORMAT, "9", "6", "100", 0, "2", "" },
	{ "type not a number", FERR_FORMAT, "x", "6", "100", 0, "2", "" },
	{ "tests out of range", FERR_FORMAT, "2", "32", "100", 0, "2", "" },
	{ "tests negative", FERR_FORMAT, "2", "-1", "100", 0, "2", "" },
	{ "zero tries", FERR_FORMAT, "2", "6", "0", 0, "2", "" },
	{ "size one less", FERR_FORMAT, "2", "6", "100", -1, "2", "" },
	{ "size one more", FERR_FORMAT, "2", "6", "100", 1, "2", "" },
	{ "generator not hex", FERR_FORMAT, "2", "6", "100", 0, "2g", "" },
	{ "generator signed", FERR_FORMAT, "2", "6", "100", 0, "-2", "" },
	{ "an extra field", FERR_FORMAT, "2", "6", "100", 0, "2", " 00" },
	{ "text after the newline", FERR_FORMAT, "2", "6", "100", 0, "2",
	    "\nx" },
	{ "modulus not hex", FERR_FORMAT, "2", "6", "100", 0, "2", "Z" },
	{ "unstructured prime (type 1)", FERR_NOT_SUPPORTED, "1", "6", "100",
	    0, "2", "" },
	{ "Sophie Germain (type 4)", FERR_NOT_SUPPORTED, "4", "6", "100", 0,
	    "2", "" },
	{ "untested", FERR_NOT_SUPPORTED, "2", "0", "100", 0, "2", "" },
	{ "sieve only, no Miller-Rabin", FERR_NOT_SUPPORTED, "2", "2", "100",
	    0, "2", "" },
	{ "marked composite", FERR_NOT_SUPPORTED, "2", "7", "100", 0, "2", "" },
	{ "generator 1", FERR_NOT_SUPPORTED, "2", "6", "100", 0, "1", "" },
	{ "generator 0", FERR_NOT_SUPPORTED, "2", "6", "100", 0, "0", "" },
};

static void
test_bad_lines(void)
{
	struct kex_dh_group *grp = NULL;
	char *l, buf[64];
	size_t i;

	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		const struct bad_line *b = &bad_lines[i];

		l = line_for(KEX_DH_GROUP14, b->type, b->tests, b->tries,
		    b->size_delta, b->gen, b->tail);
		is_int(parse(l, &grp), b->want, "%s refused", b->what);
		ok(grp == NULL, "%s: no group", b->what);
		free(l);
	}
	/* Truncated lines: every field count short of seven. */
	is_int(parse("20260101000000 2 6 100 2047 2\n", &grp), FERR_FORMAT,
	    "no modulus");
	is_int(parse("20260101000000 2 6 100 2047\n", &grp), FERR_FORMAT,
	    "no generator");
	is_int(parse("20260101000000\n", &grp), FERR_FORMAT, "timestamp only");
	is_int(parse("2026x101000000 2 6 100 1023 2 FF\n", &grp), FERR_FORMAT,
	    "bad timestamp");
	/* A small modulus with a matching size: too small for SSH. */
	is_int(parse("20260101000000 2 6 100 7 2 FB\n", &grp),
	    FERR_NOT_SUPPORTED, "8-bit modulus refused");
	/* An even modulus of the right size. */
	l = line_for(KEX_DH_GROUP14, "2", "6", "100", 0, "2", "");
	l[strlen(l) - 1] = 'E';
	is_int(parse(l, &grp), FERR_NOT_SUPPORTED, "even modulus refused");
	/* An embedded NUL. */
	l[20] = '\0';
	is_int(kex_moduli_parse_line(l, strlen(l + 21) + 21, &grp),
	    FERR_FORMAT, "embedded NUL refused");
	free(l);
	/* An overlong field. */
	memset(buf, '1', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	is_int(parse(buf, &grp), FERR_FORMAT, "overlong number refused");
	is_int(kex_moduli_parse_line(NULL, 0, &grp), 0, "NULL empty line");
	is_int(kex_moduli_parse_line("x", 1, NULL), FERR_ARGUMENT,
	    "NULL result pointer");
}

/* Moduli text: groups 1 (1024), 14 (2048, twice), 16, 18, plus junk. */
static struct buf *
sample_text(void)
{
	static const struct {
		int id;
		const char *gen;
	} lines[] = {
		{ KEX_DH_GROUP1, "2" }, { KEX_DH_GROUP14, "2" },
		{ KEX_DH_GROUP14, "5" }, { KEX_DH_GROUP16, "2" },
		{ KEX_DH_GROUP18, "2" },
	};
	struct buf *b = buf_new();
	char *l;
	size_t i;

	if (b == NULL ||
	    buf_putf(b, "# Time Type Tests Tries Size Generator Modulus\n") ||
	    buf_putf(b, "this line is broken\n\n"))
		abort();
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		l = line_for(lines[i].id, "2", "6", "100", 0, lines[i].gen,
		    "\n");
		if (buf_putf(b, "%s", l) != 0)
			abort();
		free(l);
	}
	/* A non-safe 3072-bit-looking line that must never be chosen. */
	l = line_for(KEX_DH_GROUP16, "1", "6", "100", 0, "2", "");
	if (buf_putf(b, "%s", l) != 0)	/* last line, no newline */
		abort();
	free(l);
	return b;
}

static unsigned int
choose_bits(const struct buf *text, uint32_t min, uint32_t want,
    uint32_t max, int *rp)
{
	struct kex_dh_group *grp = NULL;
	unsigned int bits;

	*rp = kex_moduli_choose_text(text, min, want, max, &grp);
	bits = kex_dh_group_bits(grp);
	kex_dh_group_free(grp);
	return bits;
}

static void
test_choose(void)
{
	struct buf *text = sample_text();
	struct kex_dh_group *grp = NULL;
	int r, i, gen2 = 0, gen5 = 0, other = 0;

	is_int(choose_bits(text, 2048, 3072, 8192, &r), 4096,
	    "2048/3072/8192: smallest above the wish");
	is_int(r, 0, "chosen");
	is_int(choose_bits(text, 2048, 2048, 8192, &r), 2048,
	    "2048/2048/8192: the exact size");
	is_int(choose_bits(text, 2048, 8192, 8192, &r), 8192,
	    "2048/8192/8192: 8192");
	is_int(choose_bits(text, 2048, 8192, 6000, &r), 4096,
	    "2048/8192/6000: the largest in range");
	is_int(choose_bits(text, 1024, 1024, 1024, &r), 1024,
	    "1024/1024/1024: the 1024-bit line");
	is_int(choose_bits(text, 5000, 5500, 6000, &r), 0,
	    "5000..6000: nothing");
	is_int(r, FERR_DH_GEX_RANGE, "nothing in range is FERR_DH_GEX_RANGE");
	is_int(buf_len(text) > 0, 1, "text not consumed");

	/* Two groups of 2048 bits: the choice among them is random. */
	for (i = 0; i < 40; i++) {
		if (kex_moduli_choose_text(text, 2048, 2048, 2048, &grp) != 0)
			other++;
		else if (BN_is_word(kex_dh_group_g(grp), 2))
			gen2++;
		else if (BN_is_word(kex_dh_group_g(grp), 5))
			gen5++;
		else
			other++;
		kex_dh_group_free(grp);
		grp = NULL;
	}
	ok(gen2 > 0 && gen5 > 0 && other == 0,
	    "both 2048-bit groups get chosen (%d, %d)", gen2, gen5);
	buf_free(text);
}

static void
test_fallback(void)
{
	struct kex_dh_group *grp = NULL, *ref = NULL;

	is_int(kex_moduli_fallback(2048, 3072, 8192, &grp), 0, "fallback");
	is_int(kex_dh_group_bits(grp), 4096, "2048/3072/8192: group 16");
	ok(kex_dh_group_builtin(KEX_DH_GROUP16, &ref) == 0 &&
	    BN_cmp(kex_dh_group_p(grp), kex_dh_group_p(ref)) == 0,
	    "it is the RFC 3526 prime");
	kex_dh_group_free(grp);
	kex_dh_group_free(ref);
	is_int(kex_moduli_fallback(2048, 8192, 8192, &grp), 0, "fallback 8192");
	is_int(kex_dh_group_bits(grp), 8192, "2048/8192/8192: group 18");
	kex_dh_group_free(grp);
	is_int(kex_moduli_fallback(2048, 2048, 3000, &grp), 0, "fallback 2048");
	is_int(kex_dh_group_bits(grp), 2048, "2048/2048/3000: group 14");
	kex_dh_group_free(grp);
	grp = NULL;
	is_int(kex_moduli_fallback(5000, 5500, 6000, &grp), FERR_DH_GEX_RANGE,
	    "no built-in group in 5000..6000");
	ok(grp == NULL, "no group");
}

static void
test_file(void)
{
	struct kex_dh_group *grp = NULL;
	struct buf *text = sample_text(), *loaded;
	char path[] = "/tmp/ferry-moduli-XXXXXX";
	FILE *f;
	int fd;

	/* A missing file falls back to the built-in groups. */
	is_int(kex_moduli_choose("/nonexistent/ferry/moduli", 2048, 3072,
	    8192, &grp), 0, "missing file: fallback");
	is_int(kex_dh_group_bits(grp), 4096, "missing file: group 16");
	kex_dh_group_free(grp);

	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		tap_skip("cannot create %s", path);
		buf_free(text);
		return;
	}
	ok(fwrite(buf_ptr(text), 1, buf_len(text), f) == buf_len(text) &&
	    fclose(f) == 0, "wrote a moduli file");
	is_int(kex_moduli_choose(path, 1024, 1024, 1024, &grp), 0,
	    "file: 1024-bit group");
	/* Only the file has a 1024-bit group: the fallback never does. */
	is_int(kex_dh_group_bits(grp), 1024, "file: chosen from the file");
	kex_dh_group_free(grp);
	is_int(kex_moduli_choose(path, 3000, 3072, 3500, &grp),
	    FERR_DH_GEX_RANGE, "file and fallback both without 3000..3500");
	is_int(kex_moduli_choose(path, 5000, 6000, 8192, &grp), 0,
	    "file without 5000..8192 but for 8192");
	is_int(kex_dh_group_bits(grp), 8192, "file: 8192");
	kex_dh_group_free(grp);
	/*
	 * Read once, chosen later without the file (fsshd's chrooted
	 * pre-auth process): the text serves, the path only names it.
	 */
	loaded = NULL;
	is_int(transport_moduli_read(path, &loaded), 0, "file read early");
	unlink(path);
	is_int(kex_moduli_choose_from(loaded, path, 1024, 1024, 1024, &grp),
	    0, "read early: chosen after the file is gone");
	is_int(kex_dh_group_bits(grp), 1024, "read early: from the text");
	kex_dh_group_free(grp);
	buf_free(loaded);
	loaded = NULL;
	is_int(transport_moduli_read("/nonexistent/ferry/moduli", &loaded),
	    FERR_SYSTEM, "an unreadable file is FERR_SYSTEM");
	ok(loaded == NULL, "and gives no text");
	/* An empty file has nothing in range: fallback. */
	if ((fd = mkstemp(path)) != -1) {
		close(fd);
		is_int(kex_moduli_choose(path, 2048, 2048, 8192, &grp), 0,
		    "empty file: fallback");
		is_int(kex_dh_group_bits(grp), 2048, "empty file: group 14");
		kex_dh_group_free(grp);
		unlink(path);
	}
	buf_free(text);
}

int
main(void)
{
	test_good_lines();
	test_debian_line();
	test_bad_lines();
	test_choose();
	test_fallback();
	test_file();
	return tap_done();
}
