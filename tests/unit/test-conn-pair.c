/*
 * The in-memory pair used by test-auth and test-conn; see
 * test-conn-pair.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ferry/err.h"
#include "test-conn-pair.h"

struct key *pair_hostkey;

void
pair_init(struct peer *c, struct peer *s, const char *server_sig_algs)
{
	struct transport_config cc, sc;

	memset(c, 0, sizeof(*c));
	memset(s, 0, sizeof(*s));
	s->server = 1;
	s->conn_cfg.server = 1;
	if (pair_hostkey == NULL &&
	    key_generate(KEY_ED25519, 0, &pair_hostkey) != 0)
		abort();
	memset(&cc, 0, sizeof(cc));
	sc = cc;
	sc.server = 1;
	sc.hostkeys = &pair_hostkey;
	sc.nhostkeys = 1;
	sc.server_sig_algs = server_sig_algs;
	if (transport_new(&cc, &c->t) != 0 || transport_new(&sc, &s->t) != 0)
		abort();
}

void
pair_free(struct peer *c, struct peer *s)
{
	struct peer *p[2] = { c, s };
	int i;

	for (i = 0; i < 2; i++) {
		auth_client_free(p[i]->ac);
		auth_server_free(p[i]->as);
		conn_free(p[i]->conn);
		transport_free(p[i]->t);
	}
}

int
peer_send_raw(struct peer *p, uint8_t msg, const struct buf *b)
{
	struct buf *out;
	int r;

	if ((r = transport_packet_start(p->t, msg, &out)) != 0 ||
	    (b != NULL && (r = buf_putb(out, b)) != 0))
		return r;
	return transport_send(p->t);
}

static void
peer_authed(struct peer *p)
{
	p->authed = 1;
	if (conn_new(p->t, &p->conn_cfg, &p->conn) != 0)
		abort();
}

static void
peer_packet(struct peer *p, uint8_t msg, struct buf *m)
{
	struct conn_event ev;
	int r;

	p->packets++;
	p->last_msg = msg;
	if (p->raw != NULL) {
		p->raw(p, msg, m);
		return;
	}
	if (!p->authed && (p->ac != NULL || p->as != NULL)) {
		r = p->ac != NULL ? auth_client_input(p->ac, msg, m) :
		    auth_server_input(p->as, msg, m);
		if (r < 0)
			p->auth_err = r;
		else if (r == AUTH_SUCCESS)
			peer_authed(p);
		else if (r == AUTH_FAILED_ATTEMPT)
			p->failed_attempts++;
		return;
	}
	if (p->conn == NULL)
		return;
	if ((r = conn_input(p->conn, msg, m, &ev)) != 0) {
		p->conn_err = r;
		return;
	}
	if (ev.type != CONN_EV_NONE && p->on_event != NULL)
		p->on_event(p, &ev);
}

static void
peer_poll(struct peer *p)
{
	struct transport_event ev;
	int r;

	while (p->err == 0 && !p->disconnected && p->auth_err == 0 &&
	    p->conn_err == 0) {
		if ((r = transport_poll(p->t, &ev)) != 0) {
			p->err = r;
			return;
		}
		switch (ev.type) {
		case TRANSPORT_EV_NONE:
			return;
		case TRANSPORT_EV_DISCONNECT:
			p->disconnected = 1;
			p->reason = ev.reason;
			memcpy(p->description, ev.description,
			    sizeof(p->description));
			return;
		case TRANSPORT_EV_PACKET:
			peer_packet(p, ev.msg, ev.payload);
			break;
		default:
			break;
		}
	}
}

static size_t
peer_move(struct peer *a, struct peer *b)
{
	struct buf *out = transport_output(a->t);
	size_t n = buf_len(out);

	if (n > (1 << 20))
		n = 1 << 20;
	if (n == 0 || b->err != 0 || b->disconnected)
		return 0;
	if (transport_input(b->t, buf_ptr(out), n) != 0 ||
	    buf_consume(out, n) != 0)
		return 0;
	return n;
}

void
pair_pump(struct peer *c, struct peer *s)
{
	size_t moved;
	int idle = 0, rounds = 0;

	do {
		peer_poll(c);
		peer_poll(s);
		if (c->on_idle != NULL && c->conn_err == 0)
			c->on_idle(c);
		if (s->on_idle != NULL && s->conn_err == 0)
			s->on_idle(s);
		moved = peer_move(c, s) + peer_move(s, c);
		idle = moved == 0 ? idle + 1 : 0;
	} while (idle < 3 && ++rounds < 2000000);
}
