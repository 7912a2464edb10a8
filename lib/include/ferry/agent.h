/*
 * ssh-agent client (draft-miller-ssh-agent, OpenSSH's PROTOCOL.agent):
 * list the agent's identities and have it sign.  Blocking I/O over a
 * unix socket with a per-request deadline; replies are capped at
 * AGENT_REPLY_MAX bytes.  Every message is "uint32 length, byte type,
 * contents".
 *
 * All functions returning int return 0 or a negative FERR_* code:
 * FERR_AGENT when the agent refuses (SSH_AGENT_FAILURE) or answers with
 * an unexpected message, FERR_TIMEOUT when it does not answer in time,
 * FERR_CONN_CLOSED when it closes the connection, FERR_SYSTEM (errno
 * set) for socket errors, FERR_STRING_TOO_LARGE for an oversized reply,
 * FERR_FORMAT and others for a malformed one.  After an I/O or framing
 * error the connection is closed and later requests fail with
 * FERR_CONN_CLOSED; a well-framed refusal leaves it usable.  Requests
 * are capped at AGENT_REPLY_MAX bytes too.
 */
#ifndef FERRY_AGENT_H
#define FERRY_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

struct key;
struct agent;

/* Largest reply accepted from an agent: 256 KiB. */
#define AGENT_REPLY_MAX		(256U * 1024)
/* Default deadline of one request, in milliseconds. */
#define AGENT_TIMEOUT_DEFAULT	10000

/* Message numbers and sign flags (draft-miller-ssh-agent 5.1, 5.3). */
#define AGENT_FAILURE			5
#define AGENT_SUCCESS			6
#define AGENTC_REQUEST_IDENTITIES	11
#define AGENT_IDENTITIES_ANSWER		12
#define AGENTC_SIGN_REQUEST		13
#define AGENT_SIGN_RESPONSE		14
#define AGENT_EXTENSION_FAILURE		28
#define AGENT_RSA_SHA2_256		0x02
#define AGENT_RSA_SHA2_512		0x04

/*
 * Connect to the agent at path, or at $SSH_AUTH_SOCK when path is NULL
 * (FERR_AGENT when it is unset or empty).  timeout_ms bounds each
 * request (0 for AGENT_TIMEOUT_DEFAULT).  *agentp gets the connection.
 */
int agent_connect(const char *path, int timeout_ms, struct agent **agentp)
    FERRY_WUR;

/*
 * Wrap a connected stream socket fd (taken over: agent_close closes it),
 * for agents reached otherwise and for tests.
 */
int agent_from_fd(int fd, int timeout_ms, struct agent **agentp) FERRY_WUR;

/* Close the connection and free it (NULL is allowed). */
void agent_close(struct agent *agent);

/*
 * One identity: the public key blob as the agent sent it, the key
 * parsed from it (NULL for key types Ferry does not support, such as
 * DSA, security keys or certificates) and the comment.
 */
struct agent_identity {
	uint8_t *blob;
	size_t bloblen;
	struct key *key;
	char *comment;
};

struct agent_identities {
	struct agent_identity *ids;
	size_t n;
};

/* Most identities accepted in one answer. */
#define AGENT_IDENTITIES_MAX	2048

/*
 * SSH2_AGENTC_REQUEST_IDENTITIES: *idsp gets the agent's identities in
 * its order; free with agent_identities_free.
 */
int agent_list(struct agent *agent, struct agent_identities **idsp)
    FERRY_WUR;
void agent_identities_free(struct agent_identities *ids);

/*
 * SSH2_AGENTC_SIGN_REQUEST: have the agent sign len bytes at data with
 * the private half of key, with signature algorithm alg (NULL for
 * key_sig_alg_default(key); for RSA "rsa-sha2-256" and "rsa-sha2-512"
 * set AGENT_RSA_SHA2_256/512, "ssh-rsa" needs KEY_SIG_ALLOW_SHA1 in
 * flags).  The reply must be a signature of exactly that algorithm
 * that verifies with key (key_verify); it is appended to sig as the
 * SSH signature blob.
 */
int agent_sign(struct agent *agent, const struct key *key, const char *alg,
    const uint8_t *data, size_t len, unsigned int flags, struct buf *sig)
    FERRY_WUR;

#endif /* FERRY_AGENT_H */
