/*
 * Ferry error codes.
 *
 * Every fallible library function returns 0 on success or one of these
 * negative codes.  FERR_SYSTEM means "look at errno", which the failing
 * function leaves set.  err_str() names every code; the table in err.c is
 * the single place a code and its message live.
 */
#ifndef FERRY_ERR_H
#define FERRY_ERR_H

enum ferr {
	FERR_OK = 0,
	FERR_INTERNAL = -1,		/* a bug: an invariant did not hold */
	FERR_ALLOC = -2,		/* memory allocation failed */
	FERR_INCOMPLETE = -3,		/* the message is truncated */
	FERR_FORMAT = -4,		/* the encoding is invalid */
	FERR_MPINT_NEGATIVE = -5,	/* an mpint is negative where it may not be */
	FERR_STRING_TOO_LARGE = -6,	/* a string is longer than its cap */
	FERR_MPINT_TOO_LARGE = -7,	/* an mpint exceeds its cap */
	FERR_NO_SPACE = -8,		/* the buffer's maximum size is reached */
	FERR_ARGUMENT = -9,		/* an argument is invalid */
	FERR_READ_ONLY = -10,		/* the buffer may not be changed */
	FERR_TRAILING_DATA = -11,	/* bytes follow the end of a message */
	FERR_SYSTEM = -12,		/* a system call failed: see errno */
	FERR_LIBCRYPTO = -13,		/* libcrypto reported an error */
	FERR_MAC_INVALID = -14,		/* message authentication failed */
	FERR_SIGNATURE_INVALID = -15,	/* a signature does not verify */
	FERR_KEY_TYPE_UNKNOWN = -16,	/* the key type is not supported */
	FERR_KEY_TYPE_MISMATCH = -17,	/* the key is of another type */
	FERR_KEY_INVALID = -18,		/* the key material is invalid */
	FERR_KEY_LENGTH = -19,		/* the key size is not allowed */
	FERR_KEY_WRONG_PASSPHRASE = -20, /* the passphrase is wrong */
	FERR_KEY_UNKNOWN_CIPHER = -21,	/* the key file's cipher is unknown */
	FERR_KEY_NOT_FOUND = -22,	/* no such key */
	FERR_KEY_REVOKED = -23,		/* the key is revoked */
	FERR_CERT_INVALID = -24,	/* the certificate is invalid */
	FERR_AGENT = -25,		/* the agent failed or is unreachable */
	FERR_NO_KEX_MATCH = -26,	/* no common key exchange algorithm */
	FERR_NO_HOSTKEY_MATCH = -27,	/* no common host key algorithm */
	FERR_NO_CIPHER_MATCH = -28,	/* no common cipher */
	FERR_NO_MAC_MATCH = -29,	/* no common MAC */
	FERR_NO_COMPRESS_MATCH = -30,	/* no common compression method */
	FERR_PROTOCOL_VERSION = -31,	/* the peer's protocol version is not SSH-2 */
	FERR_PROTOCOL = -32,		/* the peer broke the protocol */
	FERR_DISCONNECTED = -33,	/* the peer disconnected */
	FERR_CONN_CLOSED = -34,		/* the connection closed */
	FERR_TIMEOUT = -35,		/* an operation timed out */
	FERR_HOSTKEY_MISMATCH = -36,	/* the host key differs from the known one */
	FERR_HOSTKEY_UNKNOWN = -37,	/* the host key is not known */
	FERR_AUTH_FAILED = -38,		/* authentication failed */
	FERR_PERMISSION = -39,		/* the operation is not permitted */
	FERR_NOT_SUPPORTED = -40,	/* the feature is not supported */
	FERR_NUMBER_RANGE = -41,	/* a number is out of range */
	FERR_CONFIG = -42,		/* the configuration is invalid */
	FERR_EOF = -43,			/* end of file or stream */
	FERR_DH_GEX_RANGE = -44,	/* the DH group is out of range */
	FERR_WOULD_BLOCK = -45,		/* try again when more data arrives */
};

/*
 * Return a static, human-readable description of an error code.  Unknown
 * codes get a generic text; the result is never NULL.
 */
const char *err_str(int r);

/*
 * Return the symbolic name of an error code ("FERR_FORMAT"), or NULL for
 * a code that is not in the table.
 */
const char *err_name(int r);

#endif /* FERRY_ERR_H */
