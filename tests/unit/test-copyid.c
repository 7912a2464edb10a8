/*
 * fssh-copy-id's pure parts: public key lines and files to install, the
 * check of authorized_keys lines for a key, and the merge that decides
 * which keys to add and builds the new file text (line endings, missing
 * final newline, options, comments, cert-authority, malformed lines,
 * force, repeated keys).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "copyid.h"
#include "tap.h"

#define K1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2hbEMmTRm7ygxkcvIB" \
	"hFdpGkw4CDRvRMdwhcW"
#define K2 "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzd" \
	"HAyNTYAAABBBEJLs7Kuk6czbDdGMjwAZQOoN2aIkN1WcdYtUKvEAErFCz2N/Wwjunx" \
	"NqNlWQmpF2ItNaDAW7uUKUIcqTI+c4nI="
/* Another ed25519 key (the base64 differs in the key bytes). */
#define K3 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBiTejFZsD4Cg3wlCk6IBxAY0" \
	"Ha2Hs3XS6BKjBHya8m9"
/* A security key type Ferry does not use but OpenSSH knows. */
#define KSK "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc" \
	"2guY29tAAAAIEmqSKi2hbEMmTRm7ygxkcvIBhFdpGkw4CDRvRMdwhcWAAAABHNzaDo="

static struct copyid_key keys[4];

static void
parse_keys(void)
{
	int r;

	r = copyid_key_parse(K1 " me@here", &keys[0]);
	is_int(r, 0, "parse ed25519 line with comment");
	r = copyid_key_parse("  " K2 "\r\n", &keys[1]);
	is_int(r, 0, "parse ecdsa line with blanks and CR LF, no comment");
	r = copyid_key_parse(K3 "  two  words \n", &keys[2]);
	is_int(r, 0, "parse a second ed25519 key");
	r = copyid_key_parse(KSK " fido", &keys[3]);
	is_int(r, 0, "a security key type OpenSSH knows is accepted");
	ok(keys[0].line != NULL && strcmp(keys[0].line, K1 " me@here") == 0,
	    "line kept with its comment");
	ok(keys[1].line != NULL && strcmp(keys[1].line, K2) == 0,
	    "line without comment and line ending");
	ok(keys[2].line != NULL && strcmp(keys[2].line, K3 " two  words") == 0,
	    "comment trimmed, inner blanks kept");
	ok(keys[0].type != NULL && strcmp(keys[0].type, "ssh-ed25519") == 0,
	    "type name");
	is_int(keys[0].bloblen, 51, "ed25519 blob length");
}

static void
test_parse_errors(void)
{
	static const struct {
		const char *line;
		const char *what;
	} bad[] = {
		{ "", "empty line" },
		{ "ssh-ed25519", "type without key" },
		{ "ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2", "unknown type" },
		{ "ssh-ed25519 !!!!", "bad base64" },
		{ "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2hbEMmTRm7ygxkcvIB"
		    "hFdpGkw4CDRvRMdwhcW", "type word is not the blob's" },
		{ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAHkmqSKi2hbEMmTRm7ygx"
		    "kcvIBhFdpGkw4CDRvRMdwg==", "ed25519 key of 30 bytes" },
		{ "restrict " K1, "options are not a key" },
	};
	struct copyid_key k;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(copyid_key_parse(bad[i].line, &k) != 0, "refused: %s",
		    bad[i].what);
		ok(k.line == NULL && k.blob == NULL, "nothing left: %s",
		    bad[i].what);
	}
	ok(copyid_key_parse(NULL, &k) == FERR_ARGUMENT, "NULL line");
}

static void
test_from_blob(void)
{
	struct copyid_key k;
	int r;

	r = copyid_key_from_blob(keys[0].blob, keys[0].bloblen,
	    "evil\ncomment\r", &k);
	is_int(r, 0, "key from an agent blob");
	ok(r == 0 && strcmp(k.line, K1 " evil?comment?") == 0,
	    "control characters in the comment cannot start a line");
	copyid_key_clear(&k);
	r = copyid_key_from_blob(keys[1].blob, keys[1].bloblen, NULL, &k);
	ok(r == 0 && strcmp(k.line, K2) == 0, "agent key without comment");
	copyid_key_clear(&k);
	ok(copyid_key_from_blob(keys[0].blob, keys[0].bloblen - 1, "", &k) != 0,
	    "truncated blob refused");
	ok(copyid_key_from_blob(keys[0].blob, 0, "", &k) != 0,
	    "empty blob refused");
}

static void
test_keys_from_text(void)
{
	static const char text[] = "# my keys\n\n" K1 " a\r\n   " K2 "\n" K3;
	static const char bad[] = K1 "\n\n" "ssh-ed25519 garbage!\n" K2 "\n";
	struct copyid_key k[4];
	unsigned long badline;
	size_t n = 0, i;
	int r;

	memset(k, 0, sizeof(k));
	r = copyid_keys_from_text((const uint8_t *)text, strlen(text), k, 4,
	    &n, &badline);
	is_int(r, 0, "a key file with comments, blank lines, CR LF");
	is_int(n, 3, "three keys");
	ok(n == 3 && strcmp(k[0].line, K1 " a") == 0 &&
	    strcmp(k[2].line, K3) == 0, "lines in order");
	for (i = 0; i < n; i++)
		copyid_key_clear(&k[i]);
	n = 0;
	r = copyid_keys_from_text((const uint8_t *)bad, strlen(bad), k, 4, &n,
	    &badline);
	ok(r != 0, "a bad line fails the file");
	is_int(badline, 3, "and names its number");
	for (i = 0; i < n; i++)
		copyid_key_clear(&k[i]);
	n = 0;
	r = copyid_keys_from_text((const uint8_t *)text, strlen(text), k, 2,
	    &n, NULL);
	is_int(r, FERR_NO_SPACE, "more keys than room");
	for (i = 0; i < n; i++)
		copyid_key_clear(&k[i]);
	n = 0;
	r = copyid_keys_from_text((const uint8_t *)"", 0, k, 2, &n, NULL);
	ok(r == 0 && n == 0, "an empty file has no keys");
}

static void
test_line_has_key(void)
{
	static const struct {
		const char *line;
		int want;
	} cases[] = {
		{ K1, 1 },
		{ K1 " other comment", 1 },
		{ "\t  " K1 "\r", 1 },
		{ "restrict " K1 " c", 1 },
		{ "command=\"echo a b\",no-pty,from=\"10.0.0.0/8\" " K1, 1 },
		{ "cert-authority " K1, 0 },
		{ "cert-authority,principals=\"a\" " K1, 0 },
		{ "# " K1, 0 },
		{ "#" K1, 0 },
		{ "bogus-option " K1, 0 },
		{ K3, 0 },
		{ K2, 0 },
		{ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2hbEMm", 0 },
		{ "ssh-ed25519", 0 },
		{ "", 0 },
		{ "ecdsa-sha2-nistp256 AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2hbEMm"
		    "TRm7ygxkcvIBhFdpGkw4CDRvRMdwhcW", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(copyid_line_has_key(cases[i].line, &keys[0]),
		    cases[i].want, "line has key: \"%.50s\"", cases[i].line);
	is_int(copyid_line_has_key(KSK " x", &keys[3]), 1,
	    "security key found");
}

/* Merge old with keys[idx...] and compare the new text and count. */
static void
merge_case(const char *what, const char *old, size_t oldlen,
    const size_t *idx, size_t nidx, int force, const char *want,
    size_t wantadd)
{
	struct copyid_key set[8];
	struct copyid_plan plan;
	size_t i;
	int r;

	for (i = 0; i < nidx; i++)
		set[i] = keys[idx[i]];
	r = copyid_merge((const uint8_t *)old, oldlen, set, nidx, force,
	    &plan);
	is_int(r, 0, "%s: merge", what);
	if (r != 0)
		return;
	is_int(plan.nadd, wantadd, "%s: keys added", what);
	is_mem(buf_ptr(plan.text), buf_len(plan.text), want, strlen(want),
	    "%s: text", what);
	is_int(plan.keep, oldlen, "%s: old text kept as the prefix", what);
	ok(buf_len(plan.text) >= oldlen &&
	    memcmp(buf_ptr(plan.text), old, oldlen) == 0,
	    "%s: old bytes unchanged", what);
	copyid_plan_clear(&plan);
}

static void
test_merge(void)
{
	static const size_t k0[] = { 0 }, k01[] = { 0, 1 }, k00[] = { 0, 0 },
	    k02[] = { 0, 2 }, k3[] = { 3 };
	static const char nul[] = "junk\0" K3 "\n" K1 "\n";
	struct copyid_plan plan;
	struct copyid_key dup[2];

	merge_case("new file", "", 0, k0, 1, 0, K1 " me@here\n", 1);
	merge_case("already there with options and another comment",
	    "restrict " K1 " old\n", strlen("restrict " K1 " old\n"), k0, 1,
	    0, "restrict " K1 " old\n", 0);
	merge_case("no final newline", K2, strlen(K2), k0, 1, 0,
	    K2 "\n" K1 " me@here\n", 1);
	merge_case("CR LF file without final line ending",
	    "# c\r\n" K2, strlen("# c\r\n" K2), k0, 1, 0,
	    "# c\r\n" K2 "\r\n" K1 " me@here\r\n", 1);
	merge_case("CR LF file, key present", K1 "\r\n", strlen(K1 "\r\n"),
	    k0, 1, 0, K1 "\r\n", 0);
	merge_case("comments and malformed lines kept",
	    "# " K1 "\n garbage line \n\nbogus-opt " K1 "\n",
	    strlen("# " K1 "\n garbage line \n\nbogus-opt " K1 "\n"), k0, 1,
	    0, "# " K1 "\n garbage line \n\nbogus-opt " K1 "\n"
	    K1 " me@here\n", 1);
	merge_case("a cert-authority line does not count",
	    "cert-authority " K1 "\n", strlen("cert-authority " K1 "\n"), k0,
	    1, 0, "cert-authority " K1 "\n" K1 " me@here\n", 1);
	merge_case("one of two present", K1 "\n", strlen(K1 "\n"), k01, 2, 0,
	    K1 "\n" K2 "\n", 1);
	merge_case("force adds a present key", K1 "\n", strlen(K1 "\n"), k0,
	    1, 1, K1 "\n" K1 " me@here\n", 1);
	merge_case("a key listed twice is added once", "", 0, k00, 2, 0,
	    K1 " me@here\n", 1);
	merge_case("another key of the same type is added", K3 "\n",
	    strlen(K3 "\n"), k02, 2, 0, K3 "\n" K1 " me@here\n", 1);
	merge_case("security key added", "", 0, k3, 1, 0, KSK " fido\n", 1);
	merge_case("no keys", "x", 1, NULL, 0, 0, "x", 0);

	/* The NUL case again, compared by hand (strlen stops at the NUL). */
	dup[0] = keys[0];
	dup[1] = keys[2];
	if (copyid_merge((const uint8_t *)nul, sizeof(nul) - 1, dup, 2, 0,
	    &plan) == 0) {
		is_int(plan.nadd, 1, "NUL line: the key behind the NUL added");
		ok(plan.add[0] == 0 && plan.add[1] == 1,
		    "NUL line: K1 present, K3 added");
		is_int(buf_len(plan.text), sizeof(nul) - 1 + strlen(K3 " two  "
		    "words\n"), "NUL line: length");
		copyid_plan_clear(&plan);
	} else
		ok(0, "NUL line merge");
	is_int(copyid_merge(NULL, 1, keys, 1, 0, &plan), FERR_ARGUMENT,
	    "NULL text with a length");
	is_int(copyid_merge(NULL, 0, keys, COPYID_KEYS_MAX + 1, 0, &plan),
	    FERR_ARGUMENT, "too many keys");
}

int
main(void)
{
	size_t i;

	parse_keys();
	test_parse_errors();
	test_from_blob();
	test_keys_from_text();
	test_line_has_key();
	test_merge();
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		copyid_key_clear(&keys[i]);
	return tap_done();
}
