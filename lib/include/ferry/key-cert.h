/*
 * OpenSSH certificates (PROTOCOL.certkeys): the *-cert-v01@openssh.com
 * forms of every supported key type.  A certificate blob is
 *
 *	string	cert type name	("ssh-ed25519-cert-v01@openssh.com")
 *	string	nonce
 *	...	the key's public fields (as in its plain blob, after the name)
 *	uint64	serial
 *	uint32	type		(1 user, 2 host)
 *	string	key id
 *	string	valid principals	(packed strings)
 *	uint64	valid after
 *	uint64	valid before
 *	string	critical options	(packed name, data pairs)
 *	string	extensions		(the same)
 *	string	reserved
 *	string	signature key	(the CA's public key blob)
 *	string	signature	(by the CA over everything before it)
 *
 * Parsing checks the structure and the CA's signature (SHA-1 RSA
 * signatures are refused, as OpenSSH does by default); whether a
 * certificate is acceptable for a use is key_cert_check's business.
 * All functions returning int return 0 or a negative FERR_* code.
 */
#ifndef FERRY_KEY_CERT_H
#define FERRY_KEY_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

struct key;

enum key_cert_type {
	KEY_CERT_USER = 1,
	KEY_CERT_HOST = 2,
};

/* Caps on what a certificate may hold (OpenSSH's principal cap). */
#define KEY_CERT_MAX_PRINCIPALS	256
#define KEY_CERT_MAX_OPTIONS	64
/* valid before of a certificate that never expires */
#define KEY_CERT_FOREVER	UINT64_MAX

/* A critical option or extension: its name and raw data string. */
struct key_cert_option {
	char *name;
	uint8_t *data;		/* contents of the data string */
	size_t datalen;
};

struct key_cert {
	char *type_name;	/* the cert key type name */
	struct key *key;	/* the certified public key */
	uint8_t *nonce;
	size_t noncelen;
	uint64_t serial;
	uint32_t type;		/* enum key_cert_type */
	char *key_id;
	char **principals;
	size_t nprincipals;
	uint64_t valid_after;
	uint64_t valid_before;
	struct key_cert_option *critical;
	size_t ncritical;
	struct key_cert_option *extensions;
	size_t nextensions;
	struct key *ca;		/* the signature key */
	char *sig_alg;		/* the algorithm of the CA's signature */
	uint8_t *blob;		/* the whole certificate blob */
	size_t bloblen;
	char *comment;		/* from a public key line, "" otherwise */
};

void key_cert_free(struct key_cert *cert);

/*
 * The certificate key type name of a key type
 * ("ssh-ed25519-cert-v01@openssh.com"), or NULL for KEY_UNSPEC.
 * key_cert_is_type_name says whether name is one of them (1 or 0).
 */
const char *key_cert_type_name(int type);
int key_cert_is_type_name(const char *name);

/*
 * Parse a certificate blob (len bytes at p) and verify the CA's
 * signature over it: FERR_CERT_INVALID for a structural problem (unknown
 * type, duplicate options, too many principals), FERR_SIGNATURE_INVALID
 * when the signature does not verify, FERR_FORMAT and others for a
 * malformed encoding.  *certp gets the certificate.
 */
int key_cert_from_blob(const uint8_t *p, size_t len, struct key_cert **certp)
    FERRY_WUR;

/*
 * The same for a public key line "certtype base64 [comment]" (as in
 * id_ed25519-cert.pub); the type word must name the blob's type.
 */
int key_cert_parse_line(const char *line, struct key_cert **certp)
    FERRY_WUR;

/* Append "certtype base64[ comment]" for cert (no newline). */
int key_cert_format_line(const struct key_cert *cert, struct buf *out)
    FERRY_WUR;

/*
 * The string value of a critical option with a string (force-command,
 * source-address): 0 with *valp an allocated copy, or NULL when absent;
 * FERR_FORMAT when its data is not exactly one string.
 */
int key_cert_option_string(const struct key_cert *cert, const char *name,
    char **valp) FERRY_WUR;

/* Whether the certificate carries extension name: 1 or 0. */
int key_cert_has_extension(const struct key_cert *cert, const char *name);

/*
 * Decide whether cert is acceptable: of type want, signed by one of the
 * ncas keys in cas (ncas 0 skips this check: the caller matched the CA
 * already), valid at now (valid after <= now < valid before), listing
 * principal name among its principals (NULL skips this; a certificate
 * without principals is refused when a name is given; host principals
 * may be wildcard patterns), without critical options Ferry does not
 * understand (user certificates: force-command, source-address,
 * verify-required; host certificates: none), and, with source-address,
 * from client_addr (refused when client_addr is NULL).  Returns 0, or
 * FERR_CERT_INVALID with *reasonp (may be NULL) set to a static
 * explanation.
 */
int key_cert_check(const struct key_cert *cert, enum key_cert_type want,
    const char *name, uint64_t now, const struct key *const *cas,
    size_t ncas, const char *client_addr, const char **reasonp) FERRY_WUR;

/* What key_cert_sign puts in a new certificate. */
struct key_cert_params {
	enum key_cert_type type;
	const char *key_id;
	const char *const *principals;	/* nprincipals names */
	size_t nprincipals;
	uint64_t serial;
	uint64_t valid_after;		/* 0: always */
	uint64_t valid_before;		/* KEY_CERT_FOREVER: forever */
	const char *force_command;	/* NULL for none */
	const char *source_address;	/* NULL for none */
	/*
	 * Extensions (empty data each), any order; NULL with
	 * KEY_CERT_USER for OpenSSH's default set (permit-X11-forwarding,
	 * permit-agent-forwarding, permit-port-forwarding, permit-pty,
	 * permit-user-rc), none for host certificates.  Set
	 * no_extensions to give none at all.
	 */
	const char *const *extensions;
	size_t nextensions;
	int no_extensions;
	const char *sig_alg;		/* NULL: the CA key's default */
};

/*
 * Certify the public part of key with the private key ca: a fresh
 * random nonce, options and extensions sorted by name as PROTOCOL.certkeys
 * requires.  *certp gets the parsed, verified certificate (its comment
 * taken from key).
 */
int key_cert_sign(const struct key *key, const struct key *ca,
    const struct key_cert_params *params, struct key_cert **certp)
    FERRY_WUR;

#endif /* FERRY_KEY_CERT_H */
