/*
 * Unit tests for lib/kexalg.c: the algorithm table, the default list and
 * name-list validation.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/obj_mac.h>

#include "ferry/err.h"
#include "digest.h"
#include "kexalg.h"
#include "tap.h"

struct expect {
	const char *name;
	enum kexalg_kind kind;
	int hash;
	int param;
	int legacy;
};

static const struct expect expects[] = {
	{ "curve25519-sha256", KEXALG_CURVE25519, DIGEST_SHA256, 0, 0 },
	{ "curve25519-sha256@libssh.org", KEXALG_CURVE25519, DIGEST_SHA256,
	    0, 0 },
	{ "ecdh-sha2-nistp256", KEXALG_ECDH, DIGEST_SHA256,
	    NID_X9_62_prime256v1, 0 },
	{ "ecdh-sha2-nistp384", KEXALG_ECDH, DIGEST_SHA384, NID_secp384r1, 0 },
	{ "ecdh-sha2-nistp521", KEXALG_ECDH, DIGEST_SHA512, NID_secp521r1, 0 },
	{ "diffie-hellman-group-exchange-sha256", KEXALG_GEX, DIGEST_SHA256,
	    0, 0 },
	{ "diffie-hellman-group16-sha512", KEXALG_DH, DIGEST_SHA512,
	    KEX_DH_GROUP16, 0 },
	{ "diffie-hellman-group18-sha512", KEXALG_DH, DIGEST_SHA512,
	    KEX_DH_GROUP18, 0 },
	{ "diffie-hellman-group14-sha256", KEXALG_DH, DIGEST_SHA256,
	    KEX_DH_GROUP14, 0 },
	{ "diffie-hellman-group14-sha1", KEXALG_DH, DIGEST_SHA1,
	    KEX_DH_GROUP14, 1 },
	{ "diffie-hellman-group1-sha1", KEXALG_DH, DIGEST_SHA1,
	    KEX_DH_GROUP1, 1 },
};

static void
test_table(void)
{
	const struct kexalg *k;
	size_t i;

	for (i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
		const struct expect *e = &expects[i];

		k = kexalg_by_name(e->name);
		ok(k != NULL && strcmp(k->name, e->name) == 0, "%s known",
		    e->name);
		if (k == NULL)
			continue;
		ok(k->kind == e->kind && k->hash_alg == e->hash &&
		    k->param == e->param && k->legacy == e->legacy,
		    "%s: kind, hash, parameter, legacy flag", e->name);
	}
	ok(kexalg_by_name("diffie-hellman-group-exchange-sha1") == NULL,
	    "gex-sha1 not offered");
	ok(kexalg_by_name("sntrup761x25519-sha512@openssh.com") == NULL,
	    "sntrup not offered");
	ok(kexalg_by_name("Curve25519-sha256") == NULL, "names are exact");
	ok(kexalg_by_name(NULL) == NULL, "NULL name");
}

static void
test_lists(void)
{
	char *all, *modern;

	is_int(kexalg_names_valid(KEXALG_DEFAULT), 0, "default list valid");
	is_int(kexalg_names_valid("curve25519-sha256"), 0, "one name");
	is_int(kexalg_names_valid("curve25519-sha256,bogus"),
	    FERR_NOT_SUPPORTED, "unknown name refused");
	is_int(kexalg_names_valid("curve25519-sha256,"), FERR_FORMAT,
	    "trailing comma refused");
	is_int(kexalg_names_valid(",curve25519-sha256"), FERR_FORMAT,
	    "leading comma refused");
	is_int(kexalg_names_valid(""), FERR_FORMAT, "empty list refused");
	is_int(kexalg_names_valid(NULL), FERR_FORMAT, "NULL list refused");

	all = kexalg_names(1);
	modern = kexalg_names(0);
	ok(all != NULL && modern != NULL, "name lists");
	if (all != NULL && modern != NULL) {
		is_int(kexalg_names_valid(all), 0, "full list valid");
		ok(strstr(all, "diffie-hellman-group1-sha1") != NULL,
		    "full list has group1");
		ok(strstr(modern, "-sha1") == NULL, "modern list has no SHA-1");
		ok(strcmp(modern, KEXALG_DEFAULT) == 0,
		    "modern list is the default list");
	}
	free(all);
	free(modern);
}

int
main(void)
{
	test_table();
	test_lists();
	return tap_done();
}
