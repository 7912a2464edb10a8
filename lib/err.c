/*
 * Error codes: the one table of names and messages.
 */
#include "config.h"

#include <stddef.h>

#include "ferry/err.h"

struct err_entry {
	int code;
	const char *name;
	const char *msg;
};

static const struct err_entry err_table[] = {
	{ FERR_OK, "FERR_OK", "success" },
	{ FERR_INTERNAL, "FERR_INTERNAL", "a bug: an invariant did not hold" },
	{ FERR_ALLOC, "FERR_ALLOC", "memory allocation failed" },
	{ FERR_INCOMPLETE, "FERR_INCOMPLETE", "the message is truncated" },
	{ FERR_FORMAT, "FERR_FORMAT", "the encoding is invalid" },
	{ FERR_MPINT_NEGATIVE, "FERR_MPINT_NEGATIVE",
	    "an mpint is negative where it may not be" },
	{ FERR_STRING_TOO_LARGE, "FERR_STRING_TOO_LARGE",
	    "a string is longer than its cap" },
	{ FERR_MPINT_TOO_LARGE, "FERR_MPINT_TOO_LARGE",
	    "an mpint exceeds its cap" },
	{ FERR_NO_SPACE, "FERR_NO_SPACE",
	    "the buffer's maximum size is reached" },
	{ FERR_ARGUMENT, "FERR_ARGUMENT", "an argument is invalid" },
	{ FERR_READ_ONLY, "FERR_READ_ONLY", "the buffer may not be changed" },
	{ FERR_TRAILING_DATA, "FERR_TRAILING_DATA",
	    "bytes follow the end of a message" },
	{ FERR_SYSTEM, "FERR_SYSTEM", "a system call failed: see errno" },
	{ FERR_LIBCRYPTO, "FERR_LIBCRYPTO", "libcrypto reported an error" },
	{ FERR_MAC_INVALID, "FERR_MAC_INVALID",
	    "message authentication failed" },
	{ FERR_SIGNATURE_INVALID, "FERR_SIGNATURE_INVALID",
	    "a signature does not verify" },
	{ FERR_KEY_TYPE_UNKNOWN, "FERR_KEY_TYPE_UNKNOWN",
	    "the key type is not supported" },
	{ FERR_KEY_TYPE_MISMATCH, "FERR_KEY_TYPE_MISMATCH",
	    "the key is of another type" },
	{ FERR_KEY_INVALID, "FERR_KEY_INVALID", "the key material is invalid" },
	{ FERR_KEY_LENGTH, "FERR_KEY_LENGTH", "the key size is not allowed" },
	{ FERR_KEY_WRONG_PASSPHRASE, "FERR_KEY_WRONG_PASSPHRASE",
	    "the passphrase is wrong" },
	{ FERR_KEY_UNKNOWN_CIPHER, "FERR_KEY_UNKNOWN_CIPHER",
	    "the key file's cipher is unknown" },
	{ FERR_KEY_NOT_FOUND, "FERR_KEY_NOT_FOUND", "no such key" },
	{ FERR_KEY_REVOKED, "FERR_KEY_REVOKED", "the key is revoked" },
	{ FERR_CERT_INVALID, "FERR_CERT_INVALID",
	    "the certificate is invalid" },
	{ FERR_AGENT, "FERR_AGENT", "the agent failed or is unreachable" },
	{ FERR_NO_KEX_MATCH, "FERR_NO_KEX_MATCH",
	    "no common key exchange algorithm" },
	{ FERR_NO_HOSTKEY_MATCH, "FERR_NO_HOSTKEY_MATCH",
	    "no common host key algorithm" },
	{ FERR_NO_CIPHER_MATCH, "FERR_NO_CIPHER_MATCH", "no common cipher" },
	{ FERR_NO_MAC_MATCH, "FERR_NO_MAC_MATCH", "no common MAC" },
	{ FERR_NO_COMPRESS_MATCH, "FERR_NO_COMPRESS_MATCH",
	    "no common compression method" },
	{ FERR_PROTOCOL_VERSION, "FERR_PROTOCOL_VERSION",
	    "the peer's protocol version is not SSH-2" },
	{ FERR_PROTOCOL, "FERR_PROTOCOL", "the peer broke the protocol" },
	{ FERR_DISCONNECTED, "FERR_DISCONNECTED", "the peer disconnected" },
	{ FERR_CONN_CLOSED, "FERR_CONN_CLOSED", "the connection closed" },
	{ FERR_TIMEOUT, "FERR_TIMEOUT", "an operation timed out" },
	{ FERR_HOSTKEY_MISMATCH, "FERR_HOSTKEY_MISMATCH",
	    "the host key differs from the known one" },
	{ FERR_HOSTKEY_UNKNOWN, "FERR_HOSTKEY_UNKNOWN",
	    "the host key is not known" },
	{ FERR_AUTH_FAILED, "FERR_AUTH_FAILED", "authentication failed" },
	{ FERR_PERMISSION, "FERR_PERMISSION",
	    "the operation is not permitted" },
	{ FERR_NOT_SUPPORTED, "FERR_NOT_SUPPORTED",
	    "the feature is not supported" },
	{ FERR_NUMBER_RANGE, "FERR_NUMBER_RANGE", "a number is out of range" },
	{ FERR_CONFIG, "FERR_CONFIG", "the configuration is invalid" },
	{ FERR_EOF, "FERR_EOF", "end of file or stream" },
	{ FERR_DH_GEX_RANGE, "FERR_DH_GEX_RANGE",
	    "the DH group is out of range" },
	{ FERR_WOULD_BLOCK, "FERR_WOULD_BLOCK",
	    "try again when more data arrives" },
};

static const struct err_entry *
err_lookup(int r)
{
	size_t i;

	for (i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++)
		if (err_table[i].code == r)
			return &err_table[i];
	return NULL;
}

const char *
err_str(int r)
{
	const struct err_entry *e = err_lookup(r);

	return e != NULL ? e->msg : "unknown error";
}

const char *
err_name(int r)
{
	const struct err_entry *e = err_lookup(r);

	return e != NULL ? e->name : NULL;
}
