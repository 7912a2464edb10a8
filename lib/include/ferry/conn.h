/*
 * The SSH connection protocol (RFC 4254): channels with flow-control
 * windows, session requests and global requests, sans I/O, for both
 * roles, layered on the transport engine.
 *
 * After authentication the program hands every upper-layer packet to
 * conn_input(), which returns at most one event per packet (data is
 * handed out zero-copy: it points into the transport's packet and is
 * valid until the next transport_poll).  Everything the library can
 * answer by itself it answers: window adjustments, CLOSE in return,
 * keepalive@openssh.com and unknown global requests (REQUEST_FAILURE),
 * unknown channel requests (CHANNEL_FAILURE).  Incoming channel opens
 * and session requests are events the program answers with
 * conn_open_accept/conn_open_reject and conn_reply before it feeds the
 * next packet; whatever it leaves unanswered is refused then.
 *
 * Sending respects the peer's window and maximum packet size: the write
 * functions accept what fits now and report how much (0 when the window
 * is closed or the transport output, with what it holds during a key
 * exchange, is above CONN_OUT_HIGH); the program
 * keeps the rest and tries again after CONN_EV_WINDOW or after sending
 * output.  Nothing is buffered inside, so memory stays bounded.
 *
 * Protocol violations (data beyond the window granted, unknown channel
 * ids, replies nobody asked for, malformed messages) queue a DISCONNECT
 * and return a negative FERR_* code: the program sends the output and
 * closes.  Channel ids in this API are our local ids.
 */
#ifndef FERRY_CONN_H
#define FERRY_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

struct conn;
struct transport;

/* Message numbers (RFC 4254 9). */
enum conn_msg {
	CONN_MSG_GLOBAL_REQUEST = 80,
	CONN_MSG_REQUEST_SUCCESS = 81,
	CONN_MSG_REQUEST_FAILURE = 82,
	CONN_MSG_CHANNEL_OPEN = 90,
	CONN_MSG_CHANNEL_OPEN_CONFIRMATION = 91,
	CONN_MSG_CHANNEL_OPEN_FAILURE = 92,
	CONN_MSG_CHANNEL_WINDOW_ADJUST = 93,
	CONN_MSG_CHANNEL_DATA = 94,
	CONN_MSG_CHANNEL_EXTENDED_DATA = 95,
	CONN_MSG_CHANNEL_EOF = 96,
	CONN_MSG_CHANNEL_CLOSE = 97,
	CONN_MSG_CHANNEL_REQUEST = 98,
	CONN_MSG_CHANNEL_SUCCESS = 99,
	CONN_MSG_CHANNEL_FAILURE = 100,
};

/* CHANNEL_OPEN_FAILURE reason codes (RFC 4254 5.1). */
enum conn_open_failure {
	CONN_OPEN_ADMINISTRATIVELY_PROHIBITED = 1,
	CONN_OPEN_CONNECT_FAILED = 2,
	CONN_OPEN_UNKNOWN_CHANNEL_TYPE = 3,
	CONN_OPEN_RESOURCE_SHORTAGE = 4,
};

#define CONN_EXTENDED_DATA_STDERR	1

/* Defaults and limits. */
#define CONN_WINDOW_DEFAULT	(2U * 1024 * 1024)
#define CONN_WINDOW_MAX_DEFAULT	(16U * 1024 * 1024)	/* growth cap */
#define CONN_MAX_PACKET_DEFAULT	(256U * 1024 - 2048)
#define CONN_MAX_PACKET_LIMIT	(256U * 1024 - 2048)	/* ours and theirs */
#define CONN_CHANNELS_DEFAULT	64
#define CONN_OUT_HIGH		(4U * 1024 * 1024)	/* write stops above */
#define CONN_NAME_MAX		256	/* request and channel type names */
#define CONN_COMMAND_MAX	(256U * 1024)	/* exec command, env value */

enum conn_event_type {
	CONN_EV_NONE = 0,
	CONN_EV_OPEN_REQUEST,	/* peer opens: name, data (type-specific);
				 * answer with conn_open_accept/_reject */
	CONN_EV_OPENED,		/* our open was confirmed */
	CONN_EV_OPEN_FAILED,	/* our open was refused: reason, text;
				 * the channel is gone */
	CONN_EV_DATA,		/* data, len */
	CONN_EV_EXTENDED_DATA,	/* code (1: stderr), data, len */
	CONN_EV_WINDOW,		/* the peer's window grew: write more */
	CONN_EV_EOF,		/* the peer will send no more data */
	CONN_EV_CLOSE,		/* the peer closed; our CLOSE is sent too
				 * and the channel is gone after this */
	CONN_EV_REQUEST,	/* a channel request: req, want_reply */
	CONN_EV_REPLY,		/* answer to our channel request: ok */
	CONN_EV_GLOBAL_REPLY,	/* answer to our global request: ok */
};

/* Channel requests the library parses (RFC 4254 6). */
enum conn_req_type {
	CONN_REQ_OTHER = 0,	/* never delivered: refused inside */
	CONN_REQ_EXEC,		/* text: the command (len bytes, may hold
				 * anything but NUL) */
	CONN_REQ_SUBSYSTEM,	/* text: the subsystem name */
	CONN_REQ_SHELL,
	CONN_REQ_ENV,		/* arg: the variable, text: the value */
	CONN_REQ_PTY,		/* pty-req (no details parsed) */
	CONN_REQ_WINDOW_CHANGE,
	CONN_REQ_SIGNAL,	/* arg: signal name without "SIG" */
	CONN_REQ_EXIT_STATUS,	/* status */
	CONN_REQ_EXIT_SIGNAL,	/* arg: signal, core_dumped, text: message */
	CONN_REQ_EOW,		/* eow@openssh.com */
};

struct conn_event {
	enum conn_event_type type;
	uint32_t chan;			/* local channel id */
	void *chan_ctx;			/* what conn_set_ctx stored */
	const uint8_t *data;		/* DATA, EXTENDED_DATA, OPEN_REQUEST */
	size_t len;
	uint32_t code;			/* EXTENDED_DATA type, OPEN_FAILED
					 * reason */
	/* OPEN_REQUEST: channel type; REQUEST: request name; sanitised. */
	char name[CONN_NAME_MAX + 1];
	enum conn_req_type req;
	int want_reply;
	int ok;				/* REPLY, GLOBAL_REPLY */
	const char *text;		/* REQUEST exec/subsystem/env value,
					 * exit-signal message (NUL-
					 * terminated, valid like data);
					 * OPEN_FAILED description */
	size_t text_len;
	uint32_t status;		/* exit-status */
	int core_dumped;		/* exit-signal */
	char arg[CONN_NAME_MAX + 1];	/* REQUEST: see enum conn_req_type */
};

struct conn_config {
	int server;			/* 1: the server role */
	uint32_t window;		/* we grant; 0: CONN_WINDOW_DEFAULT */
	/*
	 * The window of a busy channel grows toward twice the measured
	 * bandwidth-delay product (the rate data arrives at times the
	 * shortest turnaround of a window adjustment), up to window_max
	 * (0: CONN_WINDOW_MAX_DEFAULT; at or below window: no growth).
	 */
	uint32_t window_max;
	/* Monotonic clock in ns for that measurement; NULL: the system's. */
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
	uint32_t max_packet;		/* we accept; 0: default; capped to
					 * CONN_MAX_PACKET_LIMIT */
	unsigned int max_channels;	/* 0: CONN_CHANNELS_DEFAULT */
	/*
	 * 0: data counts as consumed once its event is delivered.  1: the
	 * program calls conn_consumed() as it disposes of the data, and
	 * the window grows only then (back-pressure toward the peer).
	 */
	int manual_window;
};

/* A connection layer on transport t (not owned; it must outlive it). */
int conn_new(struct transport *t, const struct conn_config *cfg,
    struct conn **cp) FERRY_WUR;
void conn_free(struct conn *c);

/*
 * Feed one upper-layer packet (after authentication).  Returns 0 with an
 * event in ev (CONN_EV_NONE when the packet needed nothing from the
 * program), or a negative code after queueing a DISCONNECT.  Pointers in
 * ev stay valid until the next transport_poll.
 */
int conn_input(struct conn *c, uint8_t msg, struct buf *payload,
    struct conn_event *ev) FERRY_WUR;

/*
 * Open a channel of type ("session", ...) with extra type-specific bytes
 * (may be NULL/0).  *chanp gets the local id at once; CONN_EV_OPENED or
 * CONN_EV_OPEN_FAILED follows (requests and data wait for OPENED).
 * FERR_NO_SPACE when max_channels are open; FERR_PERMISSION for a
 * session after conn_no_more_sessions().
 */
int conn_open(struct conn *c, const char *type, const void *extra,
    size_t extralen, uint32_t *chanp) FERRY_WUR;

/* Answer CONN_EV_OPEN_REQUEST. */
int conn_open_accept(struct conn *c, uint32_t chan) FERRY_WUR;
int conn_open_reject(struct conn *c, uint32_t chan, uint32_t reason,
    const char *description) FERRY_WUR;

/* Answer the CONN_EV_REQUEST just delivered if it wanted a reply. */
int conn_reply(struct conn *c, uint32_t chan, int ok) FERRY_WUR;

/*
 * Send a channel request with extra bytes after want_reply (already
 * encoded by the caller), and the usual requests.  With want_reply, a
 * CONN_EV_REPLY answers each request in order.
 */
int conn_request(struct conn *c, uint32_t chan, const char *name,
    int want_reply, const void *extra, size_t extralen) FERRY_WUR;
int conn_request_exec(struct conn *c, uint32_t chan, const char *command,
    int want_reply) FERRY_WUR;
int conn_request_subsystem(struct conn *c, uint32_t chan, const char *name,
    int want_reply) FERRY_WUR;
int conn_request_shell(struct conn *c, uint32_t chan, int want_reply)
    FERRY_WUR;
int conn_request_env(struct conn *c, uint32_t chan, const char *name,
    const char *value, int want_reply) FERRY_WUR;
int conn_send_exit_status(struct conn *c, uint32_t chan, uint32_t status)
    FERRY_WUR;
int conn_send_exit_signal(struct conn *c, uint32_t chan, const char *signame,
    int core_dumped, const char *message) FERRY_WUR;

/*
 * Write up to len bytes of data (or extended data of type code, which
 * is not 0; CONN_EXTENDED_DATA_STDERR for stderr) to
 * chan: *sentp gets what was accepted (split in packets of the peer's
 * maximum size), 0 when the peer's window is closed or the transport
 * output holds more than CONN_OUT_HIGH.  FERR_EOF after conn_eof or
 * conn_close; FERR_ARGUMENT for a channel that is not open.
 */
int conn_write(struct conn *c, uint32_t chan, const void *data, size_t len,
    size_t *sentp) FERRY_WUR;
int conn_write_ext(struct conn *c, uint32_t chan, uint32_t code,
    const void *data, size_t len, size_t *sentp) FERRY_WUR;

/* Bytes one conn_write could accept now (window, output level). */
size_t conn_writable(const struct conn *c, uint32_t chan);

/*
 * Zero-copy write: conn_data_start begins one CHANNEL_DATA packet and
 * returns in *dp room for *lenp bytes (at most max, the peer's window
 * and maximum packet) inside the transport's packet buffer, for the
 * caller to fill (e.g. read(2) from a file straight into it); 0 bytes
 * (no packet begun) when nothing can be sent now.  conn_data_commit
 * sends the first used (<= *lenp) bytes; used 0 sends nothing.  Nothing
 * else may be sent in between.
 */
int conn_data_start(struct conn *c, uint32_t chan, size_t max, uint8_t **dp,
    size_t *lenp) FERRY_WUR;
int conn_data_commit(struct conn *c, size_t used) FERRY_WUR;

/* We will send no more data (EOF), and we close the channel (CLOSE). */
int conn_eof(struct conn *c, uint32_t chan) FERRY_WUR;
int conn_close(struct conn *c, uint32_t chan) FERRY_WUR;

/* manual_window: n bytes of received data were disposed of. */
int conn_consumed(struct conn *c, uint32_t chan, size_t n) FERRY_WUR;

/* A pointer the program keeps with a channel (handed out in events). */
int conn_set_ctx(struct conn *c, uint32_t chan, void *ctx) FERRY_WUR;
void *conn_get_ctx(const struct conn *c, uint32_t chan);

/*
 * Global requests: keepalive-style requests (answered by
 * CONN_EV_GLOBAL_REPLY when want_reply), and no-more-sessions@openssh.com
 * (client: the server must refuse further sessions).
 */
int conn_global_request(struct conn *c, const char *name, int want_reply)
    FERRY_WUR;
int conn_no_more_sessions(struct conn *c) FERRY_WUR;

/* Channels in use (open or closing); 0 when the connection may end. */
unsigned int conn_nchannels(const struct conn *c);

/* 1 when the peer sent EOF on chan, else 0. */
int conn_peer_eof(const struct conn *c, uint32_t chan);

/* The reason of the last protocol error, for messages. */
const char *conn_error(const struct conn *c);

#endif /* FERRY_CONN_H */
