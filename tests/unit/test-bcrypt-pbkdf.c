/*
 * Unit tests for the Blowfish core and bcrypt_pbkdf.
 *
 * Blowfish: Eric Young's published ECB test vectors.  bcrypt_pbkdf: the
 * vectors of OpenBSD's regress suite for bcrypt_pbkdf(3), as republished
 * with RustCrypto's bcrypt-pbkdf crate (tests/test_vectors.rs).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ferry/err.h"
#include "bcrypt-pbkdf.h"
#include "blowfish.h"
#include "tap.h"

static size_t
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int v;

	while (s[0] != '\0' && s[1] != '\0' && n < max) {
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void
test_blowfish(void)
{
	static const struct {
		const char *key, *pt, *ct;
	} v[] = {
		{ "0000000000000000", "0000000000000000", "4ef997456198dd78" },
		{ "ffffffffffffffff", "ffffffffffffffff", "51866fd5b85ecb8a" },
		{ "3000000000000000", "1000000000000001", "7d856f9a613063f2" },
		{ "0123456789abcdef", "1111111111111111", "61f9c3802281b096" },
		{ "fedcba9876543210", "0123456789abcdef", "0aceab0fc6a0a28d" },
	};
	struct blowfish bf;
	uint8_t key[8], pt[8], ct[8];
	uint32_t l, r;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unhex(v[i].key, key, 8);
		unhex(v[i].pt, pt, 8);
		unhex(v[i].ct, ct, 8);
		blowfish_setkey(&bf, key, 8);
		l = (uint32_t)pt[0] << 24 | pt[1] << 16 | pt[2] << 8 | pt[3];
		r = (uint32_t)pt[4] << 24 | pt[5] << 16 | pt[6] << 8 | pt[7];
		blowfish_encrypt(&bf, &l, &r);
		is_int(l, (uint32_t)ct[0] << 24 | ct[1] << 16 | ct[2] << 8 |
		    ct[3], "blowfish vector %zu left half", i);
		is_int(r, (uint32_t)ct[4] << 24 | ct[5] << 16 | ct[6] << 8 |
		    ct[7], "blowfish vector %zu right half", i);
		blowfish_decrypt(&bf, &l, &r);
		ok(l == ((uint32_t)pt[0] << 24 | pt[1] << 16 | pt[2] << 8 |
		    pt[3]) && r == ((uint32_t)pt[4] << 24 | pt[5] << 16 |
		    pt[6] << 8 | pt[7]), "blowfish vector %zu decrypts", i);
	}
}

static void
test_vectors(void)
{
	static const char lorem[] =
	    "Lorem ipsum dolor sit amet, consectetur adipisicing elit, "
	    "sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. "
	    "Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris "
	    "nisi ut aliquip ex ea commodo consequat. "
	    "Duis aute irure dolor in reprehenderit in voluptate velit esse "
	    "cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat "
	    "cupidatat non proident, sunt in culpa qui officia deserunt mollit "
	    "anim id est laborum.";
	static const struct {
		const char *pass;
		size_t passlen;
		const char *salt;
		size_t saltlen;
		unsigned int rounds;
		const char *out;
	} v[] = {
		{ "password", 8, "salt", 4, 4,
		    "5bbf0cc293587f1c3635555c27796598"
		    "d47e579071bf427e9d8fbe842aba34d9" },
		{ "password", 8, "\0", 1, 4,
		    "c12b566235eee04c212598970a579a67" },
		{ "\0", 1, "salt", 4, 4, "6051be18c2f4f82cbf0efee5471b4bb9" },
		{ "password\0", 9, "salt\0", 5, 4,
		    "7410e44cf4fa07bfaac8a928b1727fac"
		    "001375e7bf7384370f48efd121743050" },
		{ "pass\0wor", 8, "sa\0l", 4, 4,
		    "c2bffd9db38f6569efef4372f4de83c0" },
		{ "pass\0word", 9, "sa\0lt", 5, 4,
		    "4ba4ac3925c0e8d7f0cdb6bb1684a56f" },
		{ "password", 8, "salt", 4, 8,
		    "e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d"
		    "3b27bec76227ea66088b849b20ab7aa478010246e74bba51723fefa9"
		    "f9474d6508845e8d" },
		{ "password", 8, "salt", 4, 42,
		    "833cf0dcf56db65608e8f0dc0ce882bd" },
		{ lorem, sizeof(lorem) - 1, "salis\0", 6, 8,
		    "10978b07253df57f71a162eb0e8ad30a" },
	};
	uint8_t want[128], got[128];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = unhex(v[i].out, want, sizeof(want));
		memset(got, 0xaa, sizeof(got));
		is_int(bcrypt_pbkdf((const uint8_t *)v[i].pass, v[i].passlen,
		    (const uint8_t *)v[i].salt, v[i].saltlen, got, n,
		    v[i].rounds), 0, "vector %zu derives", i);
		is_mem(got, n, want, n, "vector %zu (%zu bytes, %u rounds)",
		    i, n, v[i].rounds);
		ok(got[n] == 0xaa, "vector %zu writes no more than asked", i);
	}
}

static void
test_arguments(void)
{
	uint8_t out[1025];

	is_int(bcrypt_pbkdf((const uint8_t *)"p", 1, (const uint8_t *)"s", 1,
	    out, 16, 0), FERR_ARGUMENT, "zero rounds refused");
	is_int(bcrypt_pbkdf((const uint8_t *)"p", 0, (const uint8_t *)"s", 1,
	    out, 16, 1), FERR_ARGUMENT, "empty passphrase refused");
	is_int(bcrypt_pbkdf((const uint8_t *)"p", 1, (const uint8_t *)"s", 0,
	    out, 16, 1), FERR_ARGUMENT, "empty salt refused");
	is_int(bcrypt_pbkdf((const uint8_t *)"p", 1, (const uint8_t *)"s", 1,
	    out, 0, 1), FERR_ARGUMENT, "empty output refused");
	is_int(bcrypt_pbkdf((const uint8_t *)"p", 1, (const uint8_t *)"s", 1,
	    out, 1025, 1), FERR_ARGUMENT, "output over 1024 bytes refused");
	is_int(bcrypt_pbkdf((const uint8_t *)"p", 1, (const uint8_t *)"s", 1,
	    out, 1024, 1), 0, "1024 bytes of output are allowed");
}

int
main(void)
{
	test_blowfish();
	test_vectors();
	test_arguments();
	return tap_done();
}
