/*
 * The SSH-2 transport layer (RFC 4253), one sans-I/O engine for both
 * client and server.
 *
 * The caller owns the socket.  It appends received bytes with
 * transport_input(), sends whatever transport_output() holds (consuming
 * what was written), and calls transport_poll() until it returns
 * TRANSPORT_EV_NONE, handling each event: a packet for the upper layers,
 * the end of a key exchange, or the peer's disconnect.  Version exchange,
 * key exchange (with strict kex), rekeying, ext-info, IGNORE, DEBUG,
 * UNIMPLEMENTED and ping@openssh.com are handled inside.
 *
 * On a fatal error transport_poll() returns the (negative) code after
 * queueing a DISCONNECT message with a readable reason in the output:
 * the caller sends the output and closes.  transport_error() gives the
 * reason text.
 */
#ifndef FERRY_TRANSPORT_H
#define FERRY_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "ferry/buf.h"

struct key;
struct key_cert;
struct transport;

/* RFC 4253 section 11.1 reason codes. */
enum transport_disconnect_reason {
	TRANSPORT_DISC_HOST_NOT_ALLOWED = 1,
	TRANSPORT_DISC_PROTOCOL_ERROR = 2,
	TRANSPORT_DISC_KEX_FAILED = 3,
	TRANSPORT_DISC_MAC_ERROR = 5,
	TRANSPORT_DISC_COMPRESSION_ERROR = 6,
	TRANSPORT_DISC_SERVICE_NOT_AVAILABLE = 7,
	TRANSPORT_DISC_VERSION_NOT_SUPPORTED = 8,
	TRANSPORT_DISC_HOST_KEY_NOT_VERIFIABLE = 9,
	TRANSPORT_DISC_CONNECTION_LOST = 10,
	TRANSPORT_DISC_BY_APPLICATION = 11,
	TRANSPORT_DISC_TOO_MANY_CONNECTIONS = 12,
	TRANSPORT_DISC_AUTH_CANCELLED = 13,
	TRANSPORT_DISC_NO_MORE_AUTH_METHODS = 14,
	TRANSPORT_DISC_ILLEGAL_USER_NAME = 15,
};

/* Message numbers the transport owns (RFC 4253, RFC 8308, OpenSSH). */
enum transport_msg {
	TRANSPORT_MSG_DISCONNECT = 1,
	TRANSPORT_MSG_IGNORE = 2,
	TRANSPORT_MSG_UNIMPLEMENTED = 3,
	TRANSPORT_MSG_DEBUG = 4,
	TRANSPORT_MSG_SERVICE_REQUEST = 5,
	TRANSPORT_MSG_SERVICE_ACCEPT = 6,
	TRANSPORT_MSG_EXT_INFO = 7,
	TRANSPORT_MSG_KEXINIT = 20,
	TRANSPORT_MSG_NEWKEYS = 21,
	TRANSPORT_MSG_PING = 192,
	TRANSPORT_MSG_PONG = 193,
};

enum transport_event_type {
	TRANSPORT_EV_NONE = 0,		/* nothing more until more input */
	TRANSPORT_EV_PACKET,		/* a message for the upper layers */
	TRANSPORT_EV_KEX_DONE,		/* a key exchange completed */
	TRANSPORT_EV_DISCONNECT,	/* the peer sent DISCONNECT */
};

struct transport_event {
	enum transport_event_type type;
	uint8_t msg;			/* PACKET: message number */
	struct buf *payload;		/* PACKET: the rest; valid until the
					 * next transport_poll or input */
	uint32_t reason;		/* DISCONNECT: reason code */
	char description[256];		/* DISCONNECT: sanitised text */
};

/*
 * Called by a client with the server's host key during each key
 * exchange: return 0 to accept it, or a negative code (e.g.
 * FERR_HOSTKEY_MISMATCH) to refuse; refusal ends the connection.
 */
typedef int transport_hostkey_fn(const struct key *hostkey, void *ctx);

/*
 * Called by a client instead of the transport_hostkey_fn when the
 * negotiated host key algorithm is a certificate one
 * ("ssh-ed25519-cert-v01@openssh.com", ...): cert is the server's
 * certificate (K_S), already parsed and its CA signature verified; the
 * callback decides whether its CA, principals and validity make it
 * acceptable (as the @cert-authority entries of known_hosts do).  Return
 * 0 to accept, a negative code to refuse.  The exchange hash is then
 * verified with cert->key.
 */
typedef int transport_hostcert_fn(const struct key_cert *cert, void *ctx);

/*
 * Called by a server to sign the exchange hash H of each key exchange
 * with the private half of hostkey (one of transport_config.hostkeys,
 * which may then be public keys only): for a process that holds no
 * private host key, such as fsshd's sandboxed pre-authentication child
 * asking its monitor.  sigalg is the negotiated host key algorithm
 * ("rsa-sha2-256", "ssh-ed25519", ...; "ssh-rsa", SHA-1, only when the
 * configuration enables it: sign it as key_sign() with KEY_SIG_ALLOW_SHA1
 * would); data and len are exactly H.
 * Append the SSH signature blob (string algorithm name, string
 * signature), as key_sign() makes it, to sig and return 0, or return a
 * negative code: the key exchange then fails and the connection ends
 * with a DISCONNECT.  The transport checks the signature with hostkey
 * before it sends it.
 */
typedef int transport_sign_fn(const struct key *hostkey, const char *sigalg,
    const uint8_t *data, size_t len, struct buf *sig, void *ctx);

struct transport_config {
	int server;			/* 1 for the server role */
	/*
	 * Algorithm lists as OpenSSH's configuration takes them: NULL for
	 * the default, or a list, or one starting with '+' (append), '-'
	 * (remove) or '^' (put first) applied to the default.
	 */
	const char *kex_algorithms;
	const char *hostkey_algorithms;
	const char *ciphers;
	const char *macs;
	const char *compression;	/* NULL: "none" only */
	uint64_t rekey_bytes;		/* 0: 1 GiB or the cipher's limit */
	uint32_t rekey_seconds;		/* 0: never on time */
	/*
	 * Server: host keys, not copied: they must outlive the engine.
	 * Private keys sign with key_sign() unless hostkey_sign is set;
	 * with hostkey_sign, public keys are enough.
	 */
	struct key *const *hostkeys;
	size_t nhostkeys;
	/*
	 * Server: host certificates (not copied either), each certifying
	 * the public half of one of hostkeys (FERR_CONFIG from
	 * transport_new otherwise).  The server offers the certificate
	 * algorithms of their key types before the plain ones (unless
	 * hostkey_algorithms leaves them out); when one is negotiated, K_S is
	 * the certificate and the exchange hash is signed by its host key
	 * (by hostkey_sign when set) with the base signature algorithm
	 * ("rsa-sha2-256" for "rsa-sha2-256-cert-v01@openssh.com").
	 */
	const struct key_cert *const *hostcerts;
	size_t nhostcerts;
	transport_sign_fn *hostkey_sign;	/* NULL: sign with hostkeys */
	void *hostkey_sign_ctx;
	const char *moduli_file;	/* NULL: /etc/ssh/moduli */
	/*
	 * Server: the moduli file's text, read with transport_moduli_read
	 * by a process that could still open it (fsshd reads it before
	 * its pre-auth process is chrooted); used instead of reading
	 * moduli_file, which then only names it in log lines.  Not copied:
	 * it must outlive the transport.  NULL: read moduli_file.
	 */
	const struct buf *moduli_text;
	/* Server: what EXT_INFO's server-sig-algs says; NULL: default. */
	const char *server_sig_algs;
	/* Client: host key check; NULL accepts any (tests only). */
	transport_hostkey_fn *hostkey_check;
	/*
	 * Client: certificate check (ctx hostkey_ctx) for a certificate
	 * algorithm; NULL: hostkey_check judges the certified key as a
	 * plain host key.  The default hostkey_algorithms names the
	 * certificate algorithms first, as OpenSSH's does.
	 */
	transport_hostcert_fn *hostcert_check;
	void *hostkey_ctx;
	/* Text after "SSH-2.0-"; NULL: "Ferry_" and the version. */
	const char *version;
};

/* Which negotiated algorithm transport_algorithm() reports. */
enum transport_alg {
	TRANSPORT_ALG_KEX = 0,
	TRANSPORT_ALG_HOSTKEY,
	TRANSPORT_ALG_CIPHER_CTOS,
	TRANSPORT_ALG_CIPHER_STOC,
	TRANSPORT_ALG_MAC_CTOS,
	TRANSPORT_ALG_MAC_STOC,
	TRANSPORT_ALG_COMP_CTOS,
	TRANSPORT_ALG_COMP_STOC,
};

/*
 * Create an engine; the version line is queued in the output at once.
 * Unknown algorithm names in the configuration are FERR_CONFIG.
 */
int transport_new(const struct transport_config *cfg, struct transport **tp)
    FERRY_WUR;
void transport_free(struct transport *t);

/*
 * Append len received bytes.  FERR_NO_SPACE when the engine already holds
 * too much unprocessed input: poll (and send output) first.
 */
int transport_input(struct transport *t, const uint8_t *data, size_t len)
    FERRY_WUR;

/*
 * Zero-copy input: fill(arg, p, room) stores up to room received bytes
 * at p (a read(2) from the socket) and returns how many it stored; they
 * become input as if given to transport_input.  room is max, or less when
 * the engine is near its input cap.  p is valid only during the call.
 * FERR_NO_SPACE (fill not called) as for transport_input; FERR_ARGUMENT
 * when max is 0 or fill claims more than room (nothing is appended).
 */
typedef size_t transport_fill_fn(void *arg, uint8_t *p, size_t room);
int transport_input_fill(struct transport *t, size_t max,
    transport_fill_fn *fill, void *arg) FERRY_WUR;

/*
 * A fill function doing one read(2) of fd: arg is a struct
 * transport_fd_read, whose n is read(2)'s result and err its errno.
 */
struct transport_fd_read {
	int fd;
	ssize_t n;
	int err;
};
transport_fill_fn transport_fill_fd;

/* Bytes to send; the caller consumes (buf_consume) what it wrote. */
struct buf *transport_output(struct transport *t);

/*
 * Run the engine until it has an event for the caller.  Returns 0 and an
 * event (TRANSPORT_EV_NONE when it needs more input), or a negative code
 * on a fatal error (a DISCONNECT is queued in the output).
 */
int transport_poll(struct transport *t, struct transport_event *ev)
    FERRY_WUR;

/*
 * Time passes: starts a rekey when rekey_seconds have gone by.  Call it
 * from the event loop's timer.
 */
int transport_tick(struct transport *t, time_t now) FERRY_WUR;

/*
 * Send an upper-layer message: transport_packet_start gives the buffer
 * to append the payload after the message number to; transport_send
 * encrypts it into the output (or holds it until a key exchange in
 * progress ends).
 */
int transport_packet_start(struct transport *t, uint8_t msg,
    struct buf **payloadp) FERRY_WUR;
int transport_send(struct transport *t) FERRY_WUR;

/*
 * Bytes of upper-layer messages held while a key exchange runs (they are
 * sent when it ends).  Programs count them with the output for
 * back-pressure.
 */
size_t transport_held_bytes(const struct transport *t);

/*
 * Answer the message last returned by transport_poll with UNIMPLEMENTED
 * (RFC 4253 11.4): for upper layers that do not know a message number.
 */
int transport_unimplemented(struct transport *t) FERRY_WUR;

/* Start a key exchange now (no effect if one is running). */
int transport_rekey(struct transport *t) FERRY_WUR;

/*
 * Read the moduli file at path (NULL: /etc/ssh/moduli) for
 * transport_config's moduli_text: 0 with a new buffer in *textp (the
 * caller frees it), or a negative code (FERR_SYSTEM with errno set when
 * it cannot be opened).  The groups are parsed at each exchange.
 */
int transport_moduli_read(const char *path, struct buf **textp) FERRY_WUR;

/* Queue a DISCONNECT and stop; later calls fail with FERR_CONN_CLOSED. */
int transport_disconnect(struct transport *t, uint32_t reason,
    const char *description) FERRY_WUR;

/*
 * Authentication succeeded: start zlib@openssh.com compression if it was
 * negotiated.  The server calls it after sending USERAUTH_SUCCESS, the
 * client after receiving it.
 */
void transport_auth_done(struct transport *t);

/*
 * Hand a live connection to another process (fsshd: from the sandboxed
 * pre-authentication child to the process serving the user).
 *
 * transport_export appends to out a blob with everything needed to go
 * on with the connection: the identification lines, negotiated
 * algorithms, session id, strict-kex and ext-info state, both
 * directions' keys with each cipher's current position (CTR counter,
 * GCM invocation counter; chacha20-poly1305 is keyed by the sequence
 * number), sequence numbers, rekey byte counters and time, and the
 * received bytes not yet processed.  It holds keys: out is marked
 * secret (buf_set_secret, so buf_reset and buf_free wipe it); wipe any
 * other copy (a pipe's receive buffer) once it is imported.  The format
 * is private to one version of Ferry (both ends run the same build):
 * a blob of another format version is refused.
 *
 * Only an idle transport can be exported.  FERR_WOULD_BLOCK (poll, send
 * the output, let the key exchange finish, then try again) unless: the
 * first key exchange completed and none runs, transport_output() is
 * empty, no message is held (transport_held_bytes() is 0) and none is
 * being built (transport_packet_start without transport_send).
 * FERR_NOT_SUPPORTED while compression runs: "zlib", or
 * zlib@openssh.com once a stream has started (after
 * transport_auth_done(), with the first packet compressed or
 * decompressed); right after transport_auth_done() it may still be
 * exported, and the importer starts both streams.
 * FERR_CONN_CLOSED after a fatal error.  On success t is finished: it
 * must not encrypt again, so every later call but transport_free fails
 * with FERR_CONN_CLOSED.  On failure out is as it was and t unchanged.
 *
 * transport_import makes a transport from such a blob (len bytes at
 * blob, which it does not keep and does not copy secrets out of except
 * into the new engine).  cfg supplies the configuration for what comes
 * next, as for transport_new: algorithm lists for later rekeys, host
 * keys and hostkey_sign, rekey limits, callbacks; cfg->server must match
 * the exported role; cfg->version is ignored (the blob's line is the one
 * every exchange hash covers).  The blob comes from a less trusted
 * process: anything malformed or inconsistent is FERR_FORMAT (never
 * undefined behaviour); FERR_CONFIG as for transport_new.  The new
 * transport continues exactly where the exported one stopped: poll it,
 * as the input it was given may already hold whole packets.
 */
int transport_export(struct transport *t, struct buf *out) FERRY_WUR;
int transport_import(const struct transport_config *cfg, const uint8_t *blob,
    size_t len, struct transport **tp) FERRY_WUR;

/* Whether the first key exchange completed. */
int transport_is_open(const struct transport *t);

/* The negotiated algorithm names of the last key exchange (or NULL). */
const char *transport_algorithm(const struct transport *t,
    enum transport_alg which);

/* The session identifier (H of the first key exchange). */
const uint8_t *transport_session_id(const struct transport *t, size_t *lenp);

/* The peer's version line without CR LF, or NULL before it arrived. */
const char *transport_peer_version(const struct transport *t);

/*
 * Client: the server's host key of the last key exchange (or NULL); for
 * a certificate algorithm, the certified key.
 */
const struct key *transport_server_hostkey(const struct transport *t);

/* Client: the server-sig-algs list of EXT_INFO, or NULL. */
const char *transport_server_sig_algs(const struct transport *t);

/*
 * Whether the peer's first KEXINIT offered ext-info (RFC 8308): a server
 * that did sends EXT_INFO after its NEWKEYS or before USERAUTH_SUCCESS.
 */
int transport_peer_ext_info(const struct transport *t);

/* Whether strict kex is in effect. */
int transport_strict_kex(const struct transport *t);

/* Number of key exchanges completed. */
unsigned int transport_kex_count(const struct transport *t);

/* The reason of the last fatal error, for messages. */
const char *transport_error(const struct transport *t);

/*
 * The algorithm lists of a kind: with what TRANSPORT_QUERY_CLIENT a
 * client's default, TRANSPORT_QUERY_ALL every supported name (legacy ones
 * too), for `-Q`-style queries, TRANSPORT_QUERY_SERVER a server's default
 * (its kex and MAC lists are stricter, see ferry-algorithms(7)).  kind is
 * "kex", "cipher", "mac", "key" (host key algorithms) or "compression".
 * The result is an allocated, comma-separated list; NULL for an unknown
 * kind.
 */
#define TRANSPORT_QUERY_CLIENT	0
#define TRANSPORT_QUERY_ALL	1
#define TRANSPORT_QUERY_SERVER	2
char *transport_query(const char *kind, int what);

/*
 * Apply an OpenSSH-style list spec (see struct transport_config) to a
 * default list, checking names against supported: *outp gets the
 * allocated result.  FERR_CONFIG for unknown names or an empty result.
 */
int transport_assemble_list(const char *defaults, const char *supported,
    const char *spec, char **outp) FERRY_WUR;

#endif /* FERRY_TRANSPORT_H */
