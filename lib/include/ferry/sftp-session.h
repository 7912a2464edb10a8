/*
 * An SFTP client session: the client engine (ferry/sftp-client.h) bound
 * to a byte channel and driven to completion, for fsftp, fscp and
 * fssh-copy-id.
 *
 * The channel is either a session channel of Ferry's in-process SSH
 * client (an authenticated struct client, ferry/client.h): the session
 * opens a "session" channel and requests the subsystem (default "sftp"),
 * or, when the name contains '/', executes it as a command, as
 * OpenSSH's sftp -s does; or two file descriptors of an external
 * transport (the pipes of "ssh ... -s sftp" or of an sftp-server run
 * directly).  Either way sftp_session_open_*() performs the INIT/VERSION
 * exchange and, when the server offers it, limits@openssh.com.
 *
 * Start-up is overlapped: limits@openssh.com and the requests the
 * program names in sftp_session_opts.prefetch (its first REALPATH and
 * STATs) are sent right behind INIT, without waiting for VERSION, so
 * that the first data request follows VERSION with no round trip in
 * between.  A version 3 server answers requests in order, VERSION first.
 * The limits reply is used only when VERSION advertised
 * limits@openssh.com (a STATUS, e.g. SSH_FX_OP_UNSUPPORTED from a server
 * that does not know it, or any reply when VERSION did not advertise
 * it, means the defaults).  A prefetched reply is handed to the first
 * blocking call that asks the same question, provided no other call
 * came first (otherwise it is dropped): the answer is then exactly the
 * one that call would have got.
 *
 * Over a channel, engine output is written up to the peer's window and
 * maximum packet size, received data is fed to the engine at once and
 * acknowledged with conn_consumed() (the client runs with manual
 * windows), so the server is held back only by the engine's own pace.
 * The program should create its client with client_config.window set to
 * SFTP_SESSION_WINDOW for full speed on long paths.
 *
 * The session runs only inside sftp_session_pump() (and the calls built
 * on it): between calls nothing is read or written.  The library never
 * prints: sftp_session_error() says why a call failed.
 */
#ifndef FERRY_SFTP_SESSION_H
#define FERRY_SFTP_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>

#include "ferry/buf.h"
#include "ferry/sftp.h"
#include "ferry/sftp-client.h"

struct client;
struct sftp_session;

/*
 * The receive window a program should grant per channel
 * (client_config.window) for SFTP: 16 MiB, what OpenSSH's sftp channel
 * buffers too.
 */
#define SFTP_SESSION_WINDOW	(16U * 1024 * 1024)

/* Most requests sftp_session_opts.prefetch may name. */
#define SFTP_SESSION_MAX_PREFETCH	8

/*
 * A request sent with INIT: SSH_FXP_REALPATH, SSH_FXP_STAT or
 * SSH_FXP_LSTAT (requests without side effects) of path.
 */
struct sftp_session_prefetch {
	uint8_t type;
	const char *path;
};

struct sftp_session_opts {
	/*
	 * -l: bytes per second, counting both directions; 0: no limit.
	 * The session then moves at most 16 KiB at a time and sleeps
	 * while ahead of the rate.
	 */
	uint64_t limit_bps;
	/*
	 * Set (to non-zero, e.g. by a SIGINT handler) to cancel the
	 * transfer sftp_session_run_xfer() runs; may be NULL.  The
	 * session clears it when a transfer starts.
	 */
	volatile sig_atomic_t *interrupted;
	/*
	 * Requests to send right behind INIT (at most
	 * SFTP_SESSION_MAX_PREFETCH; the session copies them), in the
	 * order the program will make them with sftp_session_call_path().
	 * Any other call or transfer drops those not yet asked for.
	 */
	const struct sftp_session_prefetch *prefetch;
	size_t nprefetch;
};

/*
 * Open an SFTP session over the authenticated client cl (not owned; it
 * must outlive the session): a session channel, then the subsystem
 * request for subsystem (NULL: "sftp"), or an exec request of it when
 * it contains '/', then INIT/VERSION and limits@openssh.com.  o may be
 * NULL (FERR_ARGUMENT when its prefetch list is too long or names
 * another request type).  The session installs its own connection handler on cl
 * (client_set_handler; events of other channels are ignored while it is
 * open) and removes it in sftp_session_close(), after which the client
 * may serve other channels or another session.  Returns 0 with *sp
 * set, or a negative code with *sp set anyway when it is not NULL (so
 * that sftp_session_error() can say what happened; free it with
 * sftp_session_close()): FERR_CONN_CLOSED
 * (channel refused, request refused, session ended), FERR_PROTOCOL
 * (bad VERSION), or the client's code when the connection ended.
 */
int sftp_session_open_client(struct client *cl, const char *subsystem,
    const struct sftp_session_opts *o, struct sftp_session **sp) FERRY_WUR;

/*
 * Open an SFTP session on an external transport: replies are read from
 * in_fd, requests written to out_fd (the session owns both and closes
 * them; the same descriptor twice is allowed, e.g. a socket).  Then as
 * sftp_session_open_client().  The caller reaps any process it ran.
 */
int sftp_session_open_fds(int in_fd, int out_fd,
    const struct sftp_session_opts *o, struct sftp_session **sp) FERRY_WUR;

/*
 * Whether the next sftp_session_call_path(s, type, path, ...) would be
 * answered by a prefetched reply (no round trip of its own).
 */
int sftp_session_prefetched(const struct sftp_session *s, uint8_t type,
    const char *path);

/* The engine, for building requests and transfers. */
struct sftp_client *sftp_session_engine(struct sftp_session *s);

/*
 * Send the engine's output and feed what arrives to it until done(arg)
 * is true (checked before each wait; it may queue more requests).
 * Prefetched replies not yet asked for are dropped first (the caller
 * may have sent requests of its own on the engine).
 * Returns 0, or a negative code when the session ended (the engine then
 * failed its outstanding requests): see sftp_session_error().
 */
int sftp_session_pump(struct sftp_session *s, int (*done)(void *),
    void *arg) FERRY_WUR;

/*
 * Run a transfer set to its end, cancelling it (sftp_xfer_cancel) when
 * opts.interrupted becomes set.  0 when the set ran to its end (files
 * may still have failed or been cancelled: see sftp_xfer_failures()), or
 * a negative code when the session ended or the scheduler failed (then
 * the session cannot go on: close it).
 */
int sftp_session_run_xfer(struct sftp_session *s, struct sftp_xfer *x)
    FERRY_WUR;

/*
 * Keep serving the connection (keepalives, rekeys, window updates)
 * until fd is readable, e.g. the terminal while the user types the next
 * command, so that a server's ClientAlive checks are answered.  Over an
 * external transport the program there does that: it returns at once.
 * 0, or a negative code when the session ended meanwhile.
 */
int sftp_session_wait_readable(struct sftp_session *s, int fd) FERRY_WUR;

/* A reply copied out of its callback (free with sftp_session_reply_free). */
struct sftp_session_reply {
	uint8_t type;			/* SSH_FXP_STATUS, _HANDLE, ... */
	uint32_t status;		/* SSH_FXP_STATUS */
	char *errmsg;			/* STATUS message, or NULL */
	uint8_t *data;			/* HANDLE, DATA, EXTENDED_REPLY */
	size_t len;
	struct sftp_attrs attrs;	/* SSH_FXP_ATTRS */
	struct sftp_client_name *names;	/* SSH_FXP_NAME */
	uint32_t count;
};

/*
 * Blocking requests: send, pump until the reply and copy it to *rep
 * (zeroed first; free it with sftp_session_reply_free even on error).
 * sftp_session_call_path: one path argument (STAT, LSTAT, REALPATH,
 * OPENDIR, REMOVE, RMDIR, ...); sftp_session_call_handle: one handle
 * (CLOSE, FSTAT, READDIR); sftp_session_call_end: the caller began the
 * request with sftp_client_begin() on sftp_session_engine() and added
 * the fields.  0 once a reply arrived (whatever its type), else a
 * negative code (session ended, out of memory).  A call_path that
 * matches the next prefetched request takes its reply instead of
 * sending one; any other call drops the prefetched replies left.
 */
int sftp_session_call_path(struct sftp_session *s, uint8_t type,
    const char *path, struct sftp_session_reply *rep) FERRY_WUR;
int sftp_session_call_handle(struct sftp_session *s, uint8_t type,
    const uint8_t *h, size_t hlen, struct sftp_session_reply *rep) FERRY_WUR;
int sftp_session_call_end(struct sftp_session *s,
    struct sftp_session_reply *rep) FERRY_WUR;
void sftp_session_reply_free(struct sftp_session_reply *rep);

/*
 * Why the last call failed, a sentence without a program name
 * ("Connection closed", "subsystem request failed on channel 0", ...);
 * "" when nothing failed.
 */
const char *sftp_session_error(const struct sftp_session *s);

/*
 * End the session: over a channel send EOF and CLOSE and wait briefly
 * for the peer's CLOSE (the client stays connected and is the caller's
 * to free); over descriptors close them.  Frees the engine and s (NULL
 * is allowed).
 */
void sftp_session_close(struct sftp_session *s);

#endif /* FERRY_SFTP_SESSION_H */
