/*
 * fsftp internals shared by its files: the connection (a transport
 * program on pipes, driven with the client engine) and blocking request
 * helpers for the command interpreter.
 */
#ifndef FERRY_FSFTP_H
#define FERRY_FSFTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ferry/sftp.h"
#include "ferry/sftp-client.h"

/* A reply copied out of its callback. */
struct conn_reply {
	uint8_t type;
	uint32_t status;
	char *errmsg;
	uint8_t *data;
	size_t len;
	struct sftp_attrs attrs;
	struct sftp_client_name *names;
	uint32_t count;
};

struct conn {
	struct sftp_client *c;
	int in_fd;		/* replies from the server */
	int out_fd;		/* requests to the server */
	pid_t pid;		/* the transport program */
	uint64_t limit_bps;	/* -l, bytes per second; 0: none */
	uint64_t sent;		/* bytes sent and received (for -l) */
	uint64_t start_ns;
};

/*
 * Start argv[0] with argv, its stdin/stdout on pipes; 0 or -1 (message
 * printed).
 */
int conn_spawn(struct conn *cn, char *const argv[]);

/* Exchange INIT/VERSION and ask limits@openssh.com; 0 or -1. */
int conn_init(struct conn *cn);

/*
 * Send output and process input until done(arg) is true or the session
 * ends; 0, or -1 when the connection is lost (message printed).
 */
int conn_pump(struct conn *cn, int (*done)(void *), void *arg);

/*
 * Set by fsftp's SIGINT handler in interactive sessions: the running
 * transfer set is cancelled and the prompt comes back.
 */
#include <signal.h>
extern volatile sig_atomic_t conn_interrupted;

/* Run a transfer set to completion; 0 when every file succeeded. */
int conn_run_xfer(struct conn *cn, struct sftp_xfer *x);

/* Blocking requests: fill rep (free it with conn_reply_free). */
int conn_call_path(struct conn *cn, uint8_t type, const char *path,
    struct conn_reply *rep);
int conn_call_handle(struct conn *cn, uint8_t type, const uint8_t *h,
    size_t hlen, struct conn_reply *rep);
/* Generic: the caller built the request with sftp_client_begin(). */
int conn_call_end(struct conn *cn, struct conn_reply *rep);
void conn_reply_free(struct conn_reply *rep);

/* Close the pipes and reap the transport. */
void conn_close(struct conn *cn);

#endif /* FERRY_FSFTP_H */
