/*
 * Internals shared by the key modules (key.c, key-sign.c, key-fp.c,
 * key-file.c).  Not installed.
 */
#ifndef FERRY_KEY_INTERNAL_H
#define FERRY_KEY_INTERNAL_H

#include <openssl/evp.h>

#include "ferry/key.h"

/* Ed25519 sizes (RFC 8032). */
#define KEY_ED25519_PK_LEN	32
#define KEY_ED25519_SK_LEN	64	/* seed || public key (OpenSSH's form) */
#define KEY_ED25519_SIG_LEN	64
/* Largest uncompressed EC point: P-521, 1 + 2 * 66 bytes. */
#define KEY_EC_POINT_MAX	133
/* Largest public exponent accepted, in bits. */
#define KEY_RSA_E_MAX_BITS	64

/* One row of the key type table. */
struct key_impl {
	enum key_type type;
	const char *name;	/* SSH key type name */
	const char *shortname;	/* as ssh-keygen displays it */
	const char *curve;	/* SSH curve identifier, ECDSA only */
	const char *group;	/* libcrypto group name, ECDSA only */
	const char *group_alt;	/* libcrypto's other name for the group */
	size_t field_len;	/* bytes per coordinate, ECDSA only */
	unsigned int bits;	/* fixed key size, 0 for RSA */
	const char *digest;	/* ECDSA hash (RFC 5656 6.2.1) */
	int pkey_id;		/* EVP_PKEY_ED25519, _EC or _RSA */
};

struct key {
	const struct key_impl *impl;
	EVP_PKEY *pkey;
	int priv;		/* pkey holds the private key */
	char *comment;		/* NULL when unset */
};

/* The table row of a type, or NULL. */
const struct key_impl *key_impl_by_type(enum key_type type);

/*
 * Take the components of src (a key of any supported libcrypto type),
 * validate them as a blob or file parser would and build a new key from
 * them.  priv: take the private part too.  src is not consumed.
 */
int key_from_evp(const EVP_PKEY *src, int priv, struct key **keyp)
    FERRY_WUR;

/*
 * The private part in OpenSSH's private key serialization (PROTOCOL.key:
 * the key type, then its public and private components), without the
 * comment.  key_private_from_buf consumes one such key from b.
 */
int key_private_to_buf(const struct key *key, struct buf *b) FERRY_WUR;
int key_private_from_buf(struct buf *b, struct key **keyp) FERRY_WUR;

#endif /* FERRY_KEY_INTERNAL_H */
