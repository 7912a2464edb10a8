/*
 * Internals shared by auth.c, auth-client.c and auth-server.c.
 */
#ifndef FERRY_AUTH_INT_H
#define FERRY_AUTH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/auth.h"
#include "ferry/buf.h"

/* Method identifiers: indexes into the name table of auth.c. */
enum auth_method {
	AUTH_METHOD_NONE = 0,
	AUTH_METHOD_PUBLICKEY,
	AUTH_METHOD_PASSWORD,
	AUTH_METHOD_KBDINT,
	AUTH_METHOD_COUNT,
};

#define AUTH_SERVICE_USERAUTH	"ssh-userauth"
#define AUTH_SERVICE_DEFAULT	"ssh-connection"
/* Signature algorithms accepted by default: no SHA-1. */
#define AUTH_PUBKEY_ALGS_DEFAULT \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
	"ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"
/* Longest method list in one AuthenticationMethods chain, and chains. */
#define AUTH_CHAIN_MAX		8
#define AUTH_CHAINS_MAX		16

/* The method's wire name, or NULL. */
const char *auth_method_name(int m);
/* The method of a wire name (len bytes), or -1. */
int auth_method_lookup(const uint8_t *name, size_t len);

/* Whether name (len bytes) is in the comma-separated list. */
int auth_list_has(const char *list, const uint8_t *name, size_t len);

/*
 * AuthenticationMethods chains: each chain is a sequence of methods,
 * ended by -1.  Parsing "any" or NULL yields no chains (*nchainsp 0).
 */
struct auth_chain {
	int8_t m[AUTH_CHAIN_MAX + 1];
	size_t pos;			/* first method not yet done */
};
int auth_chains_parse(const char *spec, struct auth_chain *chains,
    size_t *nchainsp) FERRY_WUR;

/*
 * Append the data a publickey signature covers (RFC 4252 7) to b:
 * string session_id, byte 50, string user, string service,
 * string "publickey", bool TRUE, string alg, string blob.
 */
int auth_sign_data(struct buf *b, const uint8_t *sid, size_t sidlen,
    const char *user, const char *service, const char *alg,
    const uint8_t *blob, size_t bloblen) FERRY_WUR;

/* Wipe and free a NUL-terminated string (NULL allowed). */
void auth_free_secret(char *s);

#endif /* FERRY_AUTH_INT_H */
