/*
 * SSH user authentication (RFC 4252, RFC 4256): sans-I/O client and
 * server state machines layered on the transport engine.
 *
 * Both sides take the upper-layer packets the transport hands out
 * (TRANSPORT_EV_PACKET: message number and payload) and answer through
 * transport_packet_start/transport_send on the same engine.  The program
 * routes every upper-layer packet to auth_client_input() or
 * auth_server_input() until it returns AUTH_SUCCESS, and to the
 * connection layer (ferry/conn.h) afterwards.  Both call
 * transport_auth_done() themselves on success (the server after sending
 * USERAUTH_SUCCESS, the client after receiving it).
 *
 * On a fatal error (a protocol violation, too many failures, no method
 * left on the server) the state machine has queued a DISCONNECT in the
 * transport's output and returns a negative FERR_* code: the program
 * sends the output and closes.  Peer text (banners, prompts) reaches the
 * program sanitised for display: valid UTF-8 without control characters
 * other than newline and tab.
 *
 * Methods: "none", "publickey", "password", "keyboard-interactive".
 * Callbacks run synchronously inside the input call.
 */
#ifndef FERRY_AUTH_H
#define FERRY_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

struct key;
struct transport;
struct auth_client;
struct auth_server;
struct auth_kbdint;

/* Message numbers (RFC 4252 6, RFC 4256 3.2). */
enum auth_msg {
	AUTH_MSG_REQUEST = 50,
	AUTH_MSG_FAILURE = 51,
	AUTH_MSG_SUCCESS = 52,
	AUTH_MSG_BANNER = 53,
	/* 60 is also PASSWD_CHANGEREQ and INFO_REQUEST, by method. */
	AUTH_MSG_PK_OK = 60,
	AUTH_MSG_INFO_RESPONSE = 61,
};

/* What auth_client_input() and auth_server_input() return besides errors. */
enum auth_status {
	AUTH_CONTINUE = 0,		/* go on: more packets needed */
	AUTH_SUCCESS = 1,		/* authenticated: hand over to conn */
	AUTH_FAILED_ATTEMPT = 2,	/* server: a counted failure was just
					 * answered; the program may delay
					 * sending the output (failure delay) */
};

/* Default MaxAuthTries and the caps applied to peer-controlled sizes. */
#define AUTH_MAX_TRIES_DEFAULT	6
#define AUTH_USER_MAX		1024	/* bytes of a user name */
#define AUTH_PASSWORD_MAX	1024	/* bytes of a password */
#define AUTH_KBDINT_PROMPTS_MAX	64	/* prompts in one INFO_REQUEST */
#define AUTH_TEXT_MAX		4096	/* banner, prompt, name, instruction */

/* ---- client ---- */

/*
 * Password callback: set *pwp to an allocated NUL-terminated password
 * (the library wipes and frees it) and return 0, or return a negative
 * code to stop trying passwords.  attempt counts from 0.
 */
typedef int auth_password_fn(const char *user, unsigned int attempt,
    char **pwp, void *ctx);

/*
 * Keyboard-interactive callback (RFC 4256 3.3): name and instruction may
 * be empty; nprompts may be 0 (answer with no responses).  Fill
 * responses[0..nprompts-1] with allocated strings (wiped and freed by the
 * library) and return 0, or a negative code to abandon the method.
 */
typedef int auth_kbdint_client_fn(const char *name, const char *instruction,
    size_t nprompts, const char *const *prompts, const int *echo,
    char **responses, void *ctx);

/* Banner callback: text sanitised for display. */
typedef void auth_banner_fn(const char *text, void *ctx);

/*
 * Signature callback for keys whose private part lives elsewhere (an
 * agent): append the SSH signature blob of alg over data to sig.  When
 * NULL, key_sign() is used and the keys must be private.
 */
typedef int auth_sign_fn(const struct key *key, const char *alg,
    const uint8_t *data, size_t len, struct buf *sig, void *ctx);

/*
 * Whether signing with key needs nothing from the user (an agent key, a
 * key file without a passphrase): nonzero when ready.
 */
typedef int auth_key_ready_fn(const struct key *key, void *ctx);

struct auth_client_config {
	const char *user;		/* required */
	const char *service;		/* NULL: "ssh-connection" */
	/*
	 * Preference order, comma-separated; NULL:
	 * "publickey,keyboard-interactive,password".  A method is tried
	 * only when the server lists it and the means for it are present.
	 */
	const char *methods;
	struct key *const *keys;	/* tried in order; not copied */
	size_t nkeys;
	auth_sign_fn *sign;
	/*
	 * NULL: private keys without a sign callback are ready, keys a
	 * callback signs are not.  A ready first key is offered with its
	 * signature at once; others are queried first (no needless prompt).
	 */
	auth_key_ready_fn *key_ready;
	int allow_ssh_rsa;		/* permit SHA-1 "ssh-rsa" signatures */
	auth_password_fn *password;
	unsigned int password_tries;	/* 0: 3 (NumberOfPasswordPrompts) */
	auth_kbdint_client_fn *kbdint;
	auth_banner_fn *banner;
	void *ctx;			/* passed to every callback */
};

/*
 * A client on transport t (not owned; it must outlive the client).  The
 * configuration's strings are copied; keys are referenced.
 */
int auth_client_new(struct transport *t, const struct auth_client_config *cfg,
    struct auth_client **ap) FERRY_WUR;
void auth_client_free(struct auth_client *a);

/*
 * Send SERVICE_REQUEST "ssh-userauth".  May be called as soon as the
 * transport exists (the transport holds it until the first key
 * exchange ends).
 */
int auth_client_start(struct auth_client *a) FERRY_WUR;

/*
 * Feed one upper-layer packet.  Returns AUTH_CONTINUE, AUTH_SUCCESS, or
 * a negative code: FERR_AUTH_FAILED when every method the server allows
 * has been tried (the client sends DISCONNECT "no more authentication
 * methods"), FERR_PROTOCOL and others for a broken peer.
 */
int auth_client_input(struct auth_client *a, uint8_t msg, struct buf *payload)
    FERRY_WUR;

/*
 * Send the first USERAUTH_REQUEST without waiting for SERVICE_ACCEPT
 * (the server takes both in order), and without the "none" probe when
 * publickey comes first and there is a key: signed when the key is
 * ready, else a query.  Call it whenever the client has read what it
 * could: it acts once, after the first key exchange.  An RSA key waits
 * for SERVICE_ACCEPT while a server that offered ext-info has not sent
 * server-sig-algs yet.  Returns 1 when a request went out, 0 when it
 * waits or has nothing to do, or a negative code.
 */
int auth_client_pipeline(struct auth_client *a) FERRY_WUR;

/* The method that succeeded last ("publickey", ...) or NULL. */
const char *auth_client_method(const struct auth_client *a);

/* ---- server ---- */

/* Policy callbacks return 1 to allow, 0 to refuse (or a negative error). */
typedef int auth_pubkey_allowed_fn(const char *user, const struct key *key,
    void *ctx);
typedef int auth_password_check_fn(const char *user, const char *password,
    void *ctx);
/*
 * User certificates (PROTOCOL.certkeys): the certificate as offered, its
 * structure and CA signature already verified; the policy decides about
 * the CA, principals, validity and critical options.
 */
struct key_cert;
typedef int auth_cert_allowed_fn(const char *user,
    const struct key_cert *cert, void *ctx);

/* What a keyboard-interactive policy returns (or a negative error). */
enum auth_kbdint_status {
	AUTH_KBDINT_FAILURE = 0,
	AUTH_KBDINT_SUCCESS = 1,
	AUTH_KBDINT_PROMPT = 2,		/* send the prompts added this round */
};

/*
 * Keyboard-interactive policy: called once when the method starts
 * (round 0, no responses) and again after each INFO_RESPONSE with the
 * responses to the prompts of the previous round.  To ask, set the text
 * and add prompts through the conversation, then return
 * AUTH_KBDINT_PROMPT.
 */
typedef int auth_kbdint_server_fn(struct auth_kbdint *conv, const char *user,
    void *ctx);

/* Conversation interface for auth_kbdint_server_fn. */
unsigned int auth_kbdint_round(const struct auth_kbdint *conv);
size_t auth_kbdint_nresponses(const struct auth_kbdint *conv);
/* Response i of the last round (NUL-terminated, valid during the call). */
const char *auth_kbdint_response(const struct auth_kbdint *conv, size_t i);
/* Name and instruction of the next INFO_REQUEST (copied; NULL is ""). */
int auth_kbdint_set_text(struct auth_kbdint *conv, const char *name,
    const char *instruction) FERRY_WUR;
/* Add a prompt (copied) to the next INFO_REQUEST. */
int auth_kbdint_add_prompt(struct auth_kbdint *conv, const char *prompt,
    int echo) FERRY_WUR;

/*
 * Settings for one user (sshd applies Match for the user named in the
 * first request), given to auth_server_set_user().
 */
#define AUTH_SERVER_PUBLICKEY	0x01	/* bits of auth_server_user.enabled */
#define AUTH_SERVER_PASSWORD	0x02
#define AUTH_SERVER_KBDINT	0x04
struct auth_server_user {
	/*
	 * Methods the user may use (AUTH_SERVER_* bits): a method is
	 * offered when enabled here and its callback is set.
	 */
	unsigned int enabled;
	/*
	 * AuthenticationMethods as in auth_server_config.  Lists naming a
	 * method that is not offered are dropped (as sshd drops them).
	 */
	const char *methods;
	unsigned int max_tries;		/* 0: AUTH_MAX_TRIES_DEFAULT */
	const char *pubkey_algs;	/* NULL: keep the server's */
};

/*
 * Called once, on the first USERAUTH_REQUEST, with its user name before
 * anything is answered: the program may call auth_server_set_user() on
 * a.  0, or a negative code that ends the connection with a DISCONNECT
 * (FERR_CONFIG: "no authentication methods enabled").  The user name
 * cannot change later (a change disconnects), so the settings hold for
 * the whole authentication.
 */
typedef int auth_server_user_fn(struct auth_server *a, const char *user,
    void *ctx);

struct auth_server_config {
	/*
	 * AuthenticationMethods: NULL or "any" for any one method; else
	 * lists separated by spaces, each a comma-separated chain that must
	 * be completed in order ("publickey,password publickey,keyboard-
	 * interactive").  A method is offered only when its callback is set
	 * (and, after auth_server_set_user, enabled for the user).
	 */
	const char *methods;
	/*
	 * Signature algorithms accepted for publickey (PubkeyAccepted-
	 * Algorithms), comma-separated; NULL: ed25519, ecdsa and rsa-sha2
	 * (no ssh-rsa).
	 */
	const char *pubkey_algs;
	unsigned int max_tries;		/* 0: AUTH_MAX_TRIES_DEFAULT */
	const char *banner;		/* sent before the first answer */
	const char *service;		/* NULL: "ssh-connection" */
	auth_pubkey_allowed_fn *pubkey_allowed;
	/*
	 * Certificates for publickey: NULL refuses them.  A certificate
	 * algorithm ("ssh-ed25519-cert-v01@openssh.com") is accepted when
	 * its signature algorithm (the name without "-cert-v01@openssh.com")
	 * is in pubkey_algs.  Needs pubkey_allowed too.
	 */
	auth_cert_allowed_fn *cert_allowed;
	auth_password_check_fn *password;
	auth_kbdint_server_fn *kbdint;
	/* NULL, or the hook for per-user settings (see above). */
	auth_server_user_fn *user_first;
	void *ctx;
};

/* A server on transport t (not owned); strings are copied. */
int auth_server_new(struct transport *t, const struct auth_server_config *cfg,
    struct auth_server **ap) FERRY_WUR;
void auth_server_free(struct auth_server *a);

/*
 * Feed one upper-layer packet.  Returns AUTH_CONTINUE, AUTH_FAILED_ATTEMPT
 * (a failure counted toward max_tries was answered), AUTH_SUCCESS (the
 * user in auth_server_user() is authenticated), or a negative code after
 * queueing a DISCONNECT: any message other than SERVICE_REQUEST and
 * USERAUTH requests/responses (channel or global requests, a client's
 * USERAUTH_SUCCESS), a malformed message, a change of user or service,
 * or the max_tries-th failure.
 */
int auth_server_input(struct auth_server *a, uint8_t msg, struct buf *payload)
    FERRY_WUR;

/*
 * Replace the methods offered, the AuthenticationMethods lists, the
 * failure limit and (unless NULL) the accepted signature algorithms
 * with u's (strings copied), before any method has succeeded: from a
 * user_first hook.  The failures counted so far stay.  Returns 0,
 * FERR_CONFIG when u->methods is malformed or no list is left once
 * those naming a method that is not offered are dropped (nothing is
 * changed then), FERR_ARGUMENT after a method succeeded, FERR_ALLOC.
 */
int auth_server_set_user(struct auth_server *a,
    const struct auth_server_user *u) FERRY_WUR;

/* The user of the last request (the authenticated one after success). */
const char *auth_server_user(const struct auth_server *a);
/* Failures counted so far. */
unsigned int auth_server_failures(const struct auth_server *a);
/*
 * The methods completed for the successful chain, comma-separated
 * ("publickey,password"), or NULL before success.
 */
const char *auth_server_methods_done(const struct auth_server *a);

/*
 * Check an AuthenticationMethods value without building a server:
 * FERR_CONFIG for unknown names or empty lists.
 */
int auth_methods_valid(const char *methods) FERRY_WUR;

/*
 * Copy peer text for display: valid UTF-8 without control characters
 * (newline and tab kept; CR LF becomes LF); anything else becomes '?'.
 * Returns an allocated string or NULL on allocation failure.
 */
char *auth_sanitise(const uint8_t *s, size_t len);

#endif /* FERRY_AUTH_H */
