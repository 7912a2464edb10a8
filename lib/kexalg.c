/*
 * The key exchange algorithm table: each SSH name with its hash, kind,
 * parameter (curve or group) and whether it is a legacy algorithm that
 * is only used when configured explicitly.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/obj_mac.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "digest.h"
#include "kexalg.h"

static const struct kexalg kexalg_table[] = {
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

#define KEXALG_COUNT	(sizeof(kexalg_table) / sizeof(kexalg_table[0]))

const struct kexalg *
kexalg_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < KEXALG_COUNT; i++) {
		if (strcmp(kexalg_table[i].name, name) == 0)
			return &kexalg_table[i];
	}
	return NULL;
}

int
kexalg_names_valid(const char *list)
{
	const char *p, *comma;
	char name[64];
	size_t len;

	if (list == NULL || *list == '\0')
		return FERR_FORMAT;
	for (p = list;; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma == NULL ? strlen(p) : (size_t)(comma - p);
		if (len == 0)
			return FERR_FORMAT;
		if (len >= sizeof(name))
			return FERR_NOT_SUPPORTED;
		memcpy(name, p, len);
		name[len] = '\0';
		if (kexalg_by_name(name) == NULL)
			return FERR_NOT_SUPPORTED;
		if (comma == NULL)
			return 0;
	}
}

char *
kexalg_names(int include_legacy)
{
	struct buf *b;
	char *s = NULL;
	size_t i;
	int first = 1;

	if ((b = buf_new()) == NULL)
		return NULL;
	for (i = 0; i < KEXALG_COUNT; i++) {
		if (kexalg_table[i].legacy && !include_legacy)
			continue;
		if (buf_putf(b, "%s%s", first ? "" : ",",
		    kexalg_table[i].name) != 0)
			goto out;
		first = 0;
	}
	s = buf_dup_string(b);
 out:
	buf_free(b);
	return s;
}
