/*
 * The SSH client core shared by fssh, fsftp and fscp: from a resolved
 * ssh_config (ferry/sshconf.h) to an authenticated connection whose
 * channels the program drives in the same process.
 *
 * client_resolve_config() turns a program's command line (destination,
 * -F, option lines) into the resolved configuration; client_connect()
 * then reaches the server (TCP to HostName:Port with
 * ConnectTimeout, ConnectionAttempts and AddressFamily; or ProxyCommand
 * through /bin/sh -c; or ProxyJump, run as the ProxyCommand
 * "fssh -W '[host]:port' jump" as OpenSSH does), runs the transport with
 * the configured algorithm lists, checks the host key against the
 * known_hosts files (StrictHostKeyChecking, HostKeyAlias, HashKnownHosts)
 * and authenticates (PreferredAuthentications; publickey from the agent
 * and IdentityFile files, password, keyboard-interactive).  It blocks,
 * driving the core's own event loop, until the user is authenticated or
 * the attempt failed.
 *
 * Afterwards the program adds its own descriptors to client_evloop(),
 * opens channels with the conn.h functions on client_conn(), and runs
 * client_run(): every connection-layer event is handed to the handler,
 * which moves data between channels and its engines (pipes, files, an
 * SFTP client engine) and calls client_flush() after writing to the
 * connection.  Windows are manual (conn_config.manual_window): the
 * handler calls conn_consumed() as it disposes of received data, which
 * is the back-pressure toward the server.  ServerAliveInterval
 * keepalives are sent and checked inside.
 *
 * The library never prints: the program supplies a prompt callback
 * (passphrases, passwords, keyboard-interactive, the host key question)
 * and shows client_error() when a call fails.  Warnings the user must
 * see (a changed host key, a key added to known_hosts, banners) are
 * logged at LOGL_ERROR or LOGL_INFO.
 */
#ifndef FERRY_CLIENT_H
#define FERRY_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

struct client;
struct conn;
struct conn_event;
struct evloop;
struct sshconf;
struct sshconf_env;

/*
 * Ask the user: show prompt and set *answerp to an allocated answer
 * without its newline (the caller wipes and frees it); echo says whether
 * the answer may be shown.  Return 0, or a negative code when no answer
 * can be had (no terminal, the user gave up).
 */
typedef int client_prompt_fn(const char *prompt, int echo, char **answerp,
    void *ctx);

/*
 * Connection-layer events after authentication (see ferry/conn.h; the
 * pointers in ev are valid during the call).  ev is NULL when the
 * transport's output was written out: the program may write to the
 * connection again if it stopped because conn_writable() was 0.  A
 * negative return ends the connection with that code.
 */
typedef int client_event_fn(struct client *cl, const struct conn_event *ev,
    void *ctx);

struct client_config {
	/* The resolved configuration (sshconf_fill_defaults done). */
	const struct sshconf *conf;
	const struct sshconf_env *env;
	/*
	 * ProxyJump: the program run as the jump command (NULL: "fssh")
	 * and arguments put before its -W (e.g. "-F", file; "-v"), NULL
	 * terminated; may be NULL.
	 */
	const char *self_path;
	const char *const *jump_args;
	/* NULL, or BatchMode: no questions are asked. */
	client_prompt_fn *prompt;
	void *prompt_ctx;
	/* The local window granted per channel (0: the conn.h default). */
	uint32_t window;
};

/* A new, unconnected client; the configuration must outlive it. */
int client_new(const struct client_config *cfg, struct client **clp)
    FERRY_WUR;

/*
 * Close everything (sending DISCONNECT when connected, ending a proxy
 * command) and free the client.  NULL is allowed.
 */
void client_free(struct client *cl);

/*
 * Connect, verify the host key and authenticate; 0 once authenticated.
 * On failure a negative code: FERR_SYSTEM or FERR_TIMEOUT (cannot
 * connect), FERR_HOSTKEY_MISMATCH / FERR_HOSTKEY_UNKNOWN / FERR_KEY_REVOKED
 * (host key verification failed), FERR_AUTH_FAILED (permission denied),
 * FERR_DISCONNECTED, FERR_CONN_CLOSED, or a transport error; the text
 * of client_error() says what happened in OpenSSH's words.
 */
int client_connect(struct client *cl) FERRY_WUR;

/* The loop the client runs on, for the program's descriptors. */
struct evloop *client_evloop(struct client *cl);

/* The connection layer (after client_connect; manual_window is set). */
struct conn *client_conn(struct client *cl);

/* Install the handler of connection events (client_event_fn). */
void client_set_handler(struct client *cl, client_event_fn *fn, void *ctx);

/*
 * Send what the program queued on the connection (call it after conn_*
 * writes made outside a handler call; inside one it is implied).
 */
void client_flush(struct client *cl);

/*
 * Run the loop until client_stop() or the end of the connection: 0 after
 * client_stop(), else the negative code of the end (FERR_CONN_CLOSED,
 * FERR_DISCONNECTED, FERR_TIMEOUT for unanswered keepalives ...), with
 * client_error() set.
 */
int client_run(struct client *cl) FERRY_WUR;
void client_stop(struct client *cl);

/* Text of the last failure ("" when none), without a program name. */
const char *client_error(const struct client *cl);

/* The authentication method that succeeded, or NULL. */
const char *client_auth_method(const struct client *cl);

/* ---- helpers shared by the programs (lib/client-dest.c, -conf.c) ---- */

/* What a program's command line says about the configuration. */
struct client_resolve {
	const char *destination;	/* see client_parse_destination */
	int allow_port;			/* accept "host:port" */
	const char *config_file;	/* -F; NULL: the usual files,
					 * "none": no file */
	const char *const *options;	/* "Keyword value" lines (-o and
					 * the option letters), in command
					 * line order, NULL-terminated */
};

/*
 * Resolve the configuration as ssh does: the options first (the first
 * value of a keyword wins), then the destination's user and port, then
 * the files, then the defaults (sshconf_fill_defaults).  *confp gets the
 * configuration, *hostp the host argument (allocated; env->host borrows
 * it, so it must outlive env).  FERR_FORMAT for a malformed
 * destination; FERR_CONFIG (logged with file and line), FERR_SYSTEM or
 * FERR_PERMISSION for the configuration.
 */
int client_resolve_config(const struct client_resolve *rq,
    struct sshconf **confp, struct sshconf_env *env, char **hostp)
    FERRY_WUR;

/*
 * Split a destination "[user@]host[:port]" (with port only when
 * allow_port is set, "[v6addr]:port" for addresses) or
 * "ssh://[user@]host[:port]" (always).  *userp (NULL when absent),
 * *hostp (brackets removed) are allocated; *portp is -1 when absent.
 * FERR_FORMAT for an empty host, a bad port or a malformed URI.
 */
int client_parse_destination(const char *dest, int allow_port, char **userp,
    char **hostp, int *portp) FERRY_WUR;

/*
 * The ProxyCommand implementing ProxyJump spec (one or more
 * comma-separated hops; the last one is contacted directly, earlier ones
 * are handed on with -J) toward host:port: "'self' args... -J hops -l
 * user -p port -W '[host]:port' jumphost", every word quoted for
 * /bin/sh.  *cmdp is allocated.  FERR_FORMAT for a malformed hop.
 */
int client_jump_command(const char *self, const char *const *args,
    const char *spec, const char *host, int port, char **cmdp) FERRY_WUR;

/* Append s quoted for /bin/sh (single quotes) to b. */
int client_shell_quote(struct buf *b, const char *s) FERRY_WUR;

#endif /* FERRY_CLIENT_H */
