/*
 * In-memory client and server for the authentication and connection
 * tests: two transport engines joined back to back, each with an
 * optional auth state machine and connection layer, or a raw packet
 * hook for hand-made hostile peers.
 */
#ifndef FERRY_TEST_CONN_PAIR_H
#define FERRY_TEST_CONN_PAIR_H

#include <stdint.h>

#include "ferry/auth.h"
#include "ferry/buf.h"
#include "ferry/conn.h"
#include "ferry/key.h"
#include "ferry/transport.h"

struct peer;

typedef void peer_packet_fn(struct peer *p, uint8_t msg, struct buf *payload);
typedef void peer_event_fn(struct peer *p, struct conn_event *ev);
typedef void peer_idle_fn(struct peer *p);

struct peer {
	int server;
	struct transport *t;
	int err;			/* first error from transport_poll */
	int disconnected;		/* got DISCONNECT */
	uint32_t reason;
	char description[256];

	struct auth_client *ac;
	struct auth_server *as;
	int authed;
	int auth_err;			/* negative code from auth input */
	unsigned int failed_attempts;	/* AUTH_FAILED_ATTEMPT seen */

	struct conn_config conn_cfg;
	struct conn *conn;
	int conn_err;

	peer_packet_fn *raw;		/* when set, gets every packet */
	peer_event_fn *on_event;
	peer_idle_fn *on_idle;
	void *ctx;
	uint8_t last_msg;		/* raw: last message number */
	unsigned int packets;
};

extern struct key *pair_hostkey;

/* Create both transports (server_sig_algs may be NULL). */
void pair_init(struct peer *c, struct peer *s, const char *server_sig_algs);
void pair_free(struct peer *c, struct peer *s);
/* Run both sides until nothing moves. */
void pair_pump(struct peer *c, struct peer *s);
/* Send a raw upper-layer message built by the caller in b. */
int peer_send_raw(struct peer *p, uint8_t msg, const struct buf *b);

#endif /* FERRY_TEST_CONN_PAIR_H */
