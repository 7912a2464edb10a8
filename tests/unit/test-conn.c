/*
 * The connection protocol in memory: a client engine against a server
 * engine after password authentication.  Several sessions at once, exec
 * with output, stderr and exit-status, EOF/CLOSE ordering, 32 MiB
 * byte-exact each way through small windows (copying writes one way,
 * zero-copy writes and manual window consumption the other), global
 * requests; then hostile clients built by hand.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/auth.h"
#include "ferry/conn.h"
#include "ferry/err.h"
#include "ferry/transport.h"
#include "tap.h"
#include "test-conn-pair.h"

#define NCH	16

/* What each side's test program saw and does, per channel. */
struct chan_log {
	int used;
	char order[64];			/* event letters in order */
	char out[256], err[256];
	uint32_t exit_status;
	int have_exit;
	char sig[32], sigmsg[32];	/* exit-signal */
	int core;
	uint64_t rx;			/* bytes received */
	int rx_bad;			/* pattern mismatches */
	uint64_t tx_total, tx;		/* bytes to send, sent */
	int sink, source;
	int replies_ok, replies_fail;
};

struct prog {
	struct chan_log ch[NCH];
	unsigned int execs, opens, closes;
	int global_replies;
	int refuse_opens;
	unsigned int idles, rekey_every;	/* server: rekey now and then */
};

static struct prog cprog, sprog;

static uint8_t
pat(uint64_t i)
{
	return (uint8_t)((i * 131) ^ (i >> 9));
}

static void
logc(struct chan_log *l, char e)
{
	size_t n = strlen(l->order);

	/* Runs of one event are logged once. */
	if (n > 0 && l->order[n - 1] == e)
		return;
	if (n + 1 < sizeof(l->order)) {
		l->order[n] = e;
		l->order[n + 1] = '\0';
	}
}

static void
append(char *dst, size_t size, const uint8_t *d, size_t len)
{
	size_t n = strlen(dst);

	if (len > size - 1 - n)
		len = size - 1 - n;
	memcpy(dst + n, d, len);
	dst[n + len] = '\0';
}

static int
pw_ok(const char *user, const char *pw, void *ctx)
{
	(void)user;
	(void)ctx;
	return strcmp(pw, "pw") == 0;
}

static int
pw_give(const char *user, unsigned int attempt, char **pwp, void *ctx)
{
	(void)user;
	(void)attempt;
	(void)ctx;
	return (*pwp = strdup("pw")) == NULL ? -1 : 0;
}

/* Check the pattern of received data at offset l->rx. */
static void
check_rx(struct chan_log *l, const uint8_t *d, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (d[i] != pat(l->rx + i))
			l->rx_bad++;
	l->rx += len;
}

/* ---- the server program ---- */

static void
srv_finish(struct peer *p, uint32_t chan, uint32_t status)
{
	if (conn_send_exit_status(p->conn, chan, status) != 0 ||
	    conn_eof(p->conn, chan) != 0 || conn_close(p->conn, chan) != 0)
		abort();
}

static void
srv_event(struct peer *p, struct conn_event *ev)
{
	struct chan_log *l = ev->chan < NCH ? &sprog.ch[ev->chan] : NULL;
	char buf[300];
	size_t sent;

	switch (ev->type) {
	case CONN_EV_OPEN_REQUEST:
		sprog.opens++;
		if (sprog.refuse_opens)
			return;		/* left unanswered: refused */
		if (l != NULL) {
			memset(l, 0, sizeof(*l));
			l->used = 1;
		}
		if (conn_open_accept(p->conn, ev->chan) != 0)
			abort();
		break;
	case CONN_EV_REQUEST:
		logc(l, 'R');
		if (ev->req == CONN_REQ_EXEC) {
			sprog.execs++;
			if (ev->want_reply && conn_reply(p->conn, ev->chan, 1) != 0)
				abort();
			snprintf(buf, sizeof(buf), "out:%s", ev->text);
			if (conn_write(p->conn, ev->chan, buf, strlen(buf),
			    &sent) != 0 || sent != strlen(buf))
				abort();
			snprintf(buf, sizeof(buf), "err:%s", ev->text);
			if (conn_write_ext(p->conn, ev->chan,
			    CONN_EXTENDED_DATA_STDERR, buf, strlen(buf),
			    &sent) != 0 || sent != strlen(buf))
				abort();
			if (strcmp(ev->text, "crash") == 0) {
				if (conn_send_exit_signal(p->conn, ev->chan,
				    "SEGV", 1, "boom") != 0 ||
				    conn_close(p->conn, ev->chan) != 0)
					abort();
			} else
				srv_finish(p, ev->chan, (uint32_t)ev->text_len);
		} else if (ev->req == CONN_REQ_SUBSYSTEM) {
			l->sink = strcmp(ev->text, "sink") == 0;
			l->source = strcmp(ev->text, "source") == 0;
			l->tx_total = 32u << 20;
			if (ev->want_reply && conn_reply(p->conn, ev->chan,
			    l->sink || l->source) != 0)
				abort();
		} else if (ev->req == CONN_REQ_ENV) {
			if (ev->want_reply && conn_reply(p->conn, ev->chan,
			    strcmp(ev->arg, "LANG") == 0 &&
			    strcmp(ev->text, "C.UTF-8") == 0) != 0)
				abort();
		} else if (ev->want_reply && conn_reply(p->conn, ev->chan, 0) != 0)
			abort();
		break;
	case CONN_EV_DATA:
		logc(l, 'D');
		check_rx(l, ev->data, ev->len);
		break;
	case CONN_EV_EOF:
		logc(l, 'F');
		if (l->sink)
			srv_finish(p, ev->chan, l->rx_bad == 0 ? 0 : 1);
		break;
	case CONN_EV_CLOSE:
		logc(l, 'C');
		sprog.closes++;
		break;
	default:
		break;
	}
}

/* The source subsystem writes zero-copy into the packet buffer. */
static void
srv_idle(struct peer *p)
{
	struct chan_log *l;
	uint8_t *d;
	size_t n, i, want;
	uint32_t chan;

	if (sprog.rekey_every != 0 && ++sprog.idles % sprog.rekey_every == 0 &&
	    transport_rekey(p->t) != 0)
		abort();
	for (chan = 0; chan < NCH; chan++) {
		l = &sprog.ch[chan];
		if (!l->used || !l->source || l->tx >= l->tx_total)
			continue;
		for (;;) {
			want = l->tx_total - l->tx;
			if (conn_data_start(p->conn, chan, want, &d, &n) != 0)
				abort();
			if (n == 0)
				break;
			/* Fill all but a few bytes to exercise the trim. */
			if (n > 7)
				n -= (l->tx / 7) % 5;
			for (i = 0; i < n; i++)
				d[i] = pat(l->tx + i);
			if (conn_data_commit(p->conn, n) != 0)
				abort();
			l->tx += n;
			if (l->tx == l->tx_total) {
				srv_finish(p, chan, 0);
				break;
			}
		}
	}
}

/* ---- the client program ---- */

static void
cli_event(struct peer *p, struct conn_event *ev)
{
	struct chan_log *l = ev->chan < NCH ? &cprog.ch[ev->chan] : NULL;

	switch (ev->type) {
	case CONN_EV_OPENED:
		logc(l, 'O');
		break;
	case CONN_EV_OPEN_FAILED:
		logc(l, 'X');
		break;
	case CONN_EV_DATA:
		logc(l, 'D');
		if (l->source) {
			check_rx(l, ev->data, ev->len);
			if (conn_consumed(p->conn, ev->chan, ev->len) != 0)
				abort();
		} else
			append(l->out, sizeof(l->out), ev->data, ev->len);
		break;
	case CONN_EV_EXTENDED_DATA:
		logc(l, 'E');
		if (ev->code == CONN_EXTENDED_DATA_STDERR)
			append(l->err, sizeof(l->err), ev->data, ev->len);
		break;
	case CONN_EV_REQUEST:
		logc(l, 'S');
		if (ev->req == CONN_REQ_EXIT_STATUS) {
			l->have_exit = 1;
			l->exit_status = ev->status;
		} else if (ev->req == CONN_REQ_EXIT_SIGNAL) {
			snprintf(l->sig, sizeof(l->sig), "%.31s", ev->arg);
			snprintf(l->sigmsg, sizeof(l->sigmsg), "%s", ev->text);
			l->core = ev->core_dumped;
		}
		break;
	case CONN_EV_REPLY:
		if (ev->ok)
			l->replies_ok++;
		else
			l->replies_fail++;
		break;
	case CONN_EV_EOF:
		logc(l, 'F');
		break;
	case CONN_EV_CLOSE:
		logc(l, 'C');
		break;
	case CONN_EV_GLOBAL_REPLY:
		cprog.global_replies += ev->ok ? 100 : 1;
		break;
	default:
		break;
	}
}

/* The client's sink writer: copying writes as the window allows. */
static void
cli_idle(struct peer *p)
{
	static uint8_t chunk[100000];
	struct chan_log *l;
	uint32_t chan;
	size_t n, i, sent;

	for (chan = 0; chan < NCH; chan++) {
		l = &cprog.ch[chan];
		if (!l->used || !l->sink || l->tx >= l->tx_total ||
		    strchr(l->order, 'O') == NULL)
			continue;
		while (l->tx < l->tx_total) {
			n = sizeof(chunk) - (size_t)(l->tx % 3000);
			if (n > l->tx_total - l->tx)
				n = (size_t)(l->tx_total - l->tx);
			for (i = 0; i < n; i++)
				chunk[i] = pat(l->tx + i);
			if (conn_write(p->conn, chan, chunk, n, &sent) != 0)
				abort();
			l->tx += sent;
			if (sent < n)
				break;		/* back-pressure: wait */
		}
		if (l->tx == l->tx_total && conn_eof(p->conn, chan) != 0)
			abort();
	}
}

/* Authenticate a pair and give both a connection layer. */
static void
setup(struct peer *c, struct peer *s, const struct conn_config *ccfg,
    const struct conn_config *scfg)
{
	struct auth_client_config cc;
	struct auth_server_config sc;

	pair_init(c, s, NULL);
	if (ccfg != NULL)
		c->conn_cfg = *ccfg;
	if (scfg != NULL)
		s->conn_cfg = *scfg;
	s->conn_cfg.server = 1;
	memset(&sc, 0, sizeof(sc));
	sc.password = pw_ok;
	memset(&cc, 0, sizeof(cc));
	cc.user = "bob";
	cc.password = pw_give;
	if (auth_server_new(s->t, &sc, &s->as) != 0 ||
	    auth_client_new(c->t, &cc, &c->ac) != 0 ||
	    auth_client_start(c->ac) != 0)
		abort();
	pair_pump(c, s);
	if (!c->authed || !s->authed)
		abort();
	memset(&cprog, 0, sizeof(cprog));
	memset(&sprog, 0, sizeof(sprog));
	c->on_event = cli_event;
	s->on_event = srv_event;
	c->on_idle = cli_idle;
	s->on_idle = srv_idle;
}

static uint32_t
open_session(struct peer *c)
{
	uint32_t chan;

	if (conn_open(c->conn, "session", NULL, 0, &chan) != 0 || chan >= NCH)
		abort();
	memset(&cprog.ch[chan], 0, sizeof(cprog.ch[chan]));
	cprog.ch[chan].used = 1;
	return chan;
}

static void
test_sessions(void)
{
	struct peer c, s;
	uint32_t ch[5];
	char cmd[64], want[80];
	int i, bad = 0;

	setup(&c, &s, NULL, NULL);
	for (i = 0; i < 5; i++)
		ch[i] = open_session(&c);
	pair_pump(&c, &s);
	for (i = 0; i < 5; i++) {
		snprintf(cmd, sizeof(cmd), "command number %d%s", i,
		    i == 2 ? " with more words" : "");
		if (conn_request_env(c.conn, ch[i], "LANG", "C.UTF-8", 1) != 0 ||
		    conn_request_env(c.conn, ch[i], "LD_PRELOAD", "x", 1) != 0 ||
		    conn_request_exec(c.conn, ch[i], cmd, 1) != 0)
			abort();
	}
	pair_pump(&c, &s);
	for (i = 0; i < 5; i++) {
		struct chan_log *l = &cprog.ch[ch[i]];

		snprintf(cmd, sizeof(cmd), "command number %d%s", i,
		    i == 2 ? " with more words" : "");
		snprintf(want, sizeof(want), "out:%s", cmd);
		if (strcmp(l->out, want) != 0 || strncmp(l->err, "err:", 4) != 0 ||
		    !l->have_exit || l->exit_status != strlen(cmd) ||
		    l->replies_ok != 2 || l->replies_fail != 1 ||
		    strcmp(l->order, "ODESFC") != 0) {
			tap_diag("session %d: out '%s' order '%s' exit %u", i,
			    l->out, l->order, l->exit_status);
			bad++;
		}
	}
	is_int(bad, 0, "five sessions at once: exec output, stderr, exit-status");
	ok(sprog.execs == 5 && sprog.closes == 5, "server ran 5 execs, 5 closes");
	ok(conn_nchannels(c.conn) == 0 && conn_nchannels(s.conn) == 0,
	    "all channels gone on both sides after EOF/CLOSE");
	ok(c.err == 0 && s.err == 0 && c.conn_err == 0 && s.conn_err == 0,
	    "no errors");
	/* exit-signal, then CLOSE without EOF. */
	ch[0] = open_session(&c);
	pair_pump(&c, &s);
	if (conn_request_exec(c.conn, ch[0], "crash", 0) != 0)
		abort();
	pair_pump(&c, &s);
	ok(strcmp(cprog.ch[ch[0]].sig, "SEGV") == 0 && cprog.ch[ch[0]].core &&
	    strcmp(cprog.ch[ch[0]].sigmsg, "boom") == 0 &&
	    strcmp(cprog.ch[ch[0]].order, "ODESC") == 0,
	    "exit-signal SEGV with core and message, then CLOSE");
	/* A shell is refused (no pty support), keepalives fail like OpenSSH. */
	ch[0] = open_session(&c);
	pair_pump(&c, &s);
	if (conn_request_shell(c.conn, ch[0], 1) != 0 ||
	    conn_request(c.conn, ch[0], "pty-req", 1, NULL, 0) != 0 ||
	    conn_global_request(c.conn, "keepalive@openssh.com", 1) != 0 ||
	    conn_global_request(c.conn, "made-up@example.com", 1) != 0)
		abort();
	pair_pump(&c, &s);
	ok(cprog.ch[ch[0]].replies_fail == 2, "shell and pty refused by the program");
	is_int(cprog.global_replies, 2, "global requests answered with failure");
	/* Closing from the client side: the server answers CLOSE. */
	if (conn_close(c.conn, ch[0]) != 0)
		abort();
	pair_pump(&c, &s);
	ok(strcmp(cprog.ch[ch[0]].order, "OC") == 0 && conn_nchannels(c.conn) == 0 &&
	    conn_nchannels(s.conn) == 0, "client-initiated close completes");
	is_int(conn_write(c.conn, ch[0], "x", 1, &(size_t){ 0 }), FERR_ARGUMENT,
	    "writing to a closed channel is refused");
	pair_free(&c, &s);
}

static void
test_bulk(void)
{
	struct peer c, s;
	struct conn_config ccfg, scfg;
	uint32_t ch;
	struct chan_log *l;

	/* Client to server: copying writes into a 64 KiB window. */
	memset(&scfg, 0, sizeof(scfg));
	scfg.window = 64 * 1024;
	scfg.window_max = scfg.window;	/* no growth: rekeys every so often */
	scfg.max_packet = 16 * 1024;
	setup(&c, &s, NULL, &scfg);
	sprog.rekey_every = 100;
	ch = open_session(&c);
	pair_pump(&c, &s);
	cprog.ch[ch].sink = 1;
	cprog.ch[ch].tx_total = 32u << 20;
	if (conn_request_subsystem(c.conn, ch, "sink", 1) != 0)
		abort();
	pair_pump(&c, &s);
	l = &sprog.ch[0];
	ok(l->rx == (32u << 20) && l->rx_bad == 0,
	    "32 MiB client to server byte-exact through a 64 KiB window");
	ok(cprog.ch[ch].have_exit && cprog.ch[ch].exit_status == 0 &&
	    conn_nchannels(c.conn) == 0, "sink confirmed with exit-status 0");
	ok(c.conn_err == 0 && s.conn_err == 0 && c.err == 0 && s.err == 0,
	    "no protocol errors");
	ok(transport_kex_count(c.t) > 5,
	    "the transfer crossed %u key exchanges", transport_kex_count(c.t));
	pair_free(&c, &s);

	/* Server to client: zero-copy writes, manual window on the client. */
	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.window = 48 * 1024;
	ccfg.window_max = ccfg.window;
	ccfg.max_packet = 40 * 1024;
	ccfg.manual_window = 1;
	setup(&c, &s, &ccfg, NULL);
	sprog.rekey_every = 150;
	ch = open_session(&c);
	pair_pump(&c, &s);
	cprog.ch[ch].source = 1;
	if (conn_request_subsystem(c.conn, ch, "source", 1) != 0)
		abort();
	pair_pump(&c, &s);
	l = &cprog.ch[ch];
	ok(l->rx == (32u << 20) && l->rx_bad == 0,
	    "32 MiB server to client byte-exact, zero-copy, 48 KiB window");
	ok(l->have_exit && strcmp(l->order, "ODSFC") == 0,
	    "source: data, exit-status, EOF, CLOSE in that order (%s)", l->order);
	ok(c.conn_err == 0 && s.conn_err == 0 && transport_kex_count(c.t) > 5,
	    "no protocol errors across %u key exchanges",
	    transport_kex_count(c.t));
	pair_free(&c, &s);
}

/* Window and packet limits the sender must respect. */
static void
test_limits(void)
{
	struct peer c, s;
	struct conn_config scfg;
	uint32_t ch;
	size_t sent;
	uint8_t big[70000];

	memset(&scfg, 0, sizeof(scfg));
	scfg.window = 50000;
	scfg.max_packet = 1 << 30;	/* capped */
	scfg.max_channels = 2;
	setup(&c, &s, NULL, &scfg);
	c.on_idle = NULL;
	ch = open_session(&c);
	pair_pump(&c, &s);
	memset(big, 'a', sizeof(big));
	is_int(conn_writable(c.conn, ch), 50000, "writable is the peer's window");
	if (conn_write(c.conn, ch, big, sizeof(big), &sent) != 0)
		abort();
	is_int(sent, 50000, "write stops at the peer's window");
	if (conn_write(c.conn, ch, big, sizeof(big), &sent) != 0)
		abort();
	is_int(sent, 0, "a closed window accepts nothing");
	pair_pump(&c, &s);
	ok(conn_writable(c.conn, ch) == 50000, "the window reopened after consumption");
	/* A third channel beyond max_channels 2 is refused. */
	open_session(&c);
	ch = open_session(&c);
	pair_pump(&c, &s);
	ok(strcmp(cprog.ch[ch].order, "X") == 0 && sprog.opens == 2,
	    "open beyond max_channels refused with OPEN_FAILURE");
	is_int(conn_eof(c.conn, 0), 0, "EOF sent");
	is_int(conn_write(c.conn, 0, big, 1, &sent), FERR_EOF,
	    "no data after our EOF");
	pair_free(&c, &s);

	/* An open the program leaves unanswered is refused. */
	setup(&c, &s, NULL, NULL);
	sprog.refuse_opens = 1;
	ch = open_session(&c);
	pair_pump(&c, &s);
	if (conn_global_request(c.conn, "nudge@example.com", 0) != 0)
		abort();
	pair_pump(&c, &s);
	ok(strcmp(cprog.ch[ch].order, "X") == 0, "unanswered open refused");
	/* no-more-sessions: the client itself opens no more sessions. */
	if (conn_no_more_sessions(c.conn) != 0)
		abort();
	is_int(conn_open(c.conn, "session", NULL, 0, &ch), FERR_PERMISSION,
	    "client opens no session after no-more-sessions");
	pair_free(&c, &s);
}

/* ---- hostile clients after authentication ---- */

static void
raw_record(struct peer *p, uint8_t msg, struct buf *m)
{
	(void)p;
	(void)msg;
	(void)m;
}

/* Send msg with u32 chan then the rest built from fmt-like args. */
static void
raw_chan(struct peer *c, uint8_t msg, uint32_t chan, const void *extra,
    size_t len)
{
	struct buf *b = buf_new();

	if (b == NULL || buf_put_u32(b, chan) != 0 ||
	    (len != 0 && buf_put(b, extra, len) != 0) ||
	    peer_send_raw(c, msg, b) != 0)
		abort();
	buf_free(b);
}

static void
raw_open(struct peer *c, uint32_t sender)
{
	struct buf *b = buf_new();

	if (b == NULL || buf_put_cstring(b, "session") != 0 ||
	    buf_put_u32(b, sender) != 0 || buf_put_u32(b, 1 << 20) != 0 ||
	    buf_put_u32(b, 32768) != 0 ||
	    peer_send_raw(c, CONN_MSG_CHANNEL_OPEN, b) != 0)
		abort();
	buf_free(b);
}

static void
raw_data(struct peer *c, uint32_t chan, size_t len)
{
	struct buf *b = buf_new();
	uint8_t *d;

	if (b == NULL || buf_put_u32(b, chan) != 0 || buf_put_u32(b,
	    (uint32_t)len) != 0 || buf_reserve(b, len, &d) != 0)
		abort();
	memset(d, 'z', len);
	if (peer_send_raw(c, CONN_MSG_CHANNEL_DATA, b) != 0)
		abort();
	buf_free(b);
}

static void
raw_request(struct peer *c, uint32_t chan, const char *name, int want,
    const char *arg)
{
	struct buf *b = buf_new();

	if (b == NULL || buf_put_u32(b, chan) != 0 ||
	    buf_put_cstring(b, name) != 0 || buf_put_bool(b, want) != 0 ||
	    (arg != NULL && buf_put_cstring(b, arg) != 0) ||
	    peer_send_raw(c, CONN_MSG_CHANNEL_REQUEST, b) != 0)
		abort();
	buf_free(b);
}

/* A hostile session: authenticated, then raw; the server has window w. */
static void
hostile(struct peer *c, struct peer *s, uint32_t w)
{
	struct conn_config scfg;

	memset(&scfg, 0, sizeof(scfg));
	scfg.window = w;
	setup(c, s, NULL, &scfg);
	c->raw = raw_record;
	c->on_idle = NULL;
}

static void
test_hostile(void)
{
	struct peer c, s;
	struct buf *b;

	/* Data on a channel id that was never opened. */
	hostile(&c, &s, 0);
	raw_data(&c, 7, 10);
	pair_pump(&c, &s);
	ok(s.conn_err == FERR_PROTOCOL && c.disconnected &&
	    c.reason == TRANSPORT_DISC_PROTOCOL_ERROR,
	    "data on an unknown channel disconnects");
	pair_free(&c, &s);

	/* exec on a channel never opened: nothing runs. */
	hostile(&c, &s, 0);
	raw_request(&c, 0, "exec", 1, "rm -rf /");
	pair_pump(&c, &s);
	ok(s.conn_err == FERR_PROTOCOL && sprog.execs == 0 && c.disconnected,
	    "exec on an unopened channel disconnects, nothing run");
	pair_free(&c, &s);

	/* Data beyond the window. */
	hostile(&c, &s, 4096);
	raw_open(&c, 5);
	pair_pump(&c, &s);
	ok(c.last_msg == CONN_MSG_CHANNEL_OPEN_CONFIRMATION, "raw session opened");
	raw_data(&c, 0, 4096);
	pair_pump(&c, &s);
	ok(s.conn_err == 0 && sprog.ch[0].rx == 4096 &&
	    c.last_msg == CONN_MSG_CHANNEL_WINDOW_ADJUST,
	    "data filling the window accepted, window adjusted");
	raw_data(&c, 0, 4097);
	pair_pump(&c, &s);
	ok(s.conn_err == FERR_PROTOCOL && c.disconnected &&
	    sprog.ch[0].rx == 4096, "data beyond the window disconnects");
	pair_free(&c, &s);

	/* Unknown channel requests and keepalives get CHANNEL_FAILURE. */
	hostile(&c, &s, 0);
	raw_open(&c, 0);
	raw_request(&c, 0, "keepalive@openssh.com", 1, NULL);
	pair_pump(&c, &s);
	ok(c.last_msg == CONN_MSG_CHANNEL_FAILURE && s.conn_err == 0,
	    "keepalive@openssh.com channel request answered with failure");
	raw_request(&c, 0, "exit-status", 1, NULL);
	pair_pump(&c, &s);
	ok(c.last_msg == CONN_MSG_CHANNEL_FAILURE && s.conn_err == 0,
	    "a request meant for clients is refused by the server");
	b = buf_new();
	if (b == NULL || buf_put_cstring(b, "tcpip-forward") != 0 ||
	    buf_put_bool(b, 1) != 0 || buf_put_cstring(b, "0.0.0.0") != 0 ||
	    buf_put_u32(b, 80) != 0 ||
	    peer_send_raw(&c, CONN_MSG_GLOBAL_REQUEST, b) != 0)
		abort();
	buf_free(b);
	pair_pump(&c, &s);
	ok(c.last_msg == CONN_MSG_REQUEST_FAILURE && s.conn_err == 0,
	    "unknown global request answered with REQUEST_FAILURE");
	/* A reply to a request never made. */
	raw_chan(&c, CONN_MSG_CHANNEL_SUCCESS, 0, NULL, 0);
	pair_pump(&c, &s);
	ok(s.conn_err == FERR_PROTOCOL && c.disconnected,
	    "CHANNEL_SUCCESS without a request disconnects");
	pair_free(&c, &s);

	/* A session opened after no-more-sessions@openssh.com. */
	hostile(&c, &s, 0);
	raw_open(&c, 0);
	b = buf_new();
	if (b == NULL || buf_put_cstring(b, "no-more-sessions@openssh.com") != 0 ||
	    buf_put_bool(b, 0) != 0 ||
	    peer_send_raw(&c, CONN_MSG_GLOBAL_REQUEST, b) != 0)
		abort();
	buf_free(b);
	pair_pump(&c, &s);
	ok(s.conn_err == 0 && conn_nchannels(s.conn) == 1,
	    "no-more-sessions accepted after a session");
	raw_open(&c, 1);
	pair_pump(&c, &s);
	ok(s.conn_err == FERR_PROTOCOL && c.disconnected,
	    "session after no-more-sessions@openssh.com disconnects");
	pair_free(&c, &s);

	/* Window adjust overflowing 2^32 - 1. */
	hostile(&c, &s, 0);
	raw_open(&c, 0);
	pair_pump(&c, &s);
	raw_chan(&c, CONN_MSG_CHANNEL_WINDOW_ADJUST, 0,
	    "\xff\xff\xff\xff", 4);
	pair_pump(&c, &s);
	ok(s.conn_err == FERR_PROTOCOL && c.disconnected,
	    "window adjust overflow disconnects");
	pair_free(&c, &s);

	/* Data after EOF. */
	hostile(&c, &s, 0);
	raw_open(&c, 0);
	raw_chan(&c, CONN_MSG_CHANNEL_EOF, 0, NULL, 0);
	raw_data(&c, 0, 1);
	pair_pump(&c, &s);
	ok(s.conn_err == FERR_PROTOCOL && c.disconnected,
	    "data after EOF disconnects");
	pair_free(&c, &s);

	/* A malformed exec (trailing byte) and a NUL in a command. */
	hostile(&c, &s, 0);
	raw_open(&c, 0);
	b = buf_new();
	if (b == NULL || buf_put_u32(b, 0) != 0 ||
	    buf_put_cstring(b, "exec") != 0 || buf_put_bool(b, 1) != 0 ||
	    buf_put_string(b, "ls\0rm", 5) != 0 ||
	    peer_send_raw(&c, CONN_MSG_CHANNEL_REQUEST, b) != 0)
		abort();
	buf_free(b);
	pair_pump(&c, &s);
	ok(s.conn_err < 0 && sprog.execs == 0 && c.disconnected,
	    "exec with a NUL in the command disconnects, nothing run");
	pair_free(&c, &s);

	/* Flood of opens: bounded by max_channels. */
	hostile(&c, &s, 0);
	{
		uint32_t i;

		for (i = 0; i < 1000; i++)
			raw_open(&c, i);
	}
	pair_pump(&c, &s);
	ok(s.conn_err == 0 && conn_nchannels(s.conn) == CONN_CHANNELS_DEFAULT &&
	    c.last_msg == CONN_MSG_CHANNEL_OPEN_FAILURE,
	    "1000 opens: %u channels kept, the rest refused",
	    conn_nchannels(s.conn));
	pair_free(&c, &s);
}

/* A hostile server after authentication: the client must refuse. */
static void
test_hostile_server(void)
{
	struct peer c, s;
	struct conn_config ccfg;
	uint8_t conf[12] = {
		0, 0, 0, 9,		/* sender */
		0, 0, 0x10, 0,		/* window 4096 */
		0, 0, 0x80, 0,		/* max packet 32768 */
	};
	uint32_t ch;

	memset(&ccfg, 0, sizeof(ccfg));
	ccfg.window = 1000;
	setup(&c, &s, &ccfg, NULL);
	s.raw = raw_record;
	s.on_idle = NULL;
	c.on_idle = NULL;
	raw_chan(&s, CONN_MSG_CHANNEL_OPEN_CONFIRMATION, 3, conf, sizeof(conf));
	pair_pump(&c, &s);
	ok(c.conn_err == FERR_PROTOCOL && s.disconnected,
	    "client: confirmation of a channel never opened disconnects");
	pair_free(&c, &s);

	setup(&c, &s, &ccfg, NULL);
	s.raw = raw_record;
	s.on_idle = NULL;
	c.on_idle = NULL;
	ch = open_session(&c);
	pair_pump(&c, &s);
	raw_chan(&s, CONN_MSG_CHANNEL_OPEN_CONFIRMATION, ch, conf, sizeof(conf));
	pair_pump(&c, &s);
	ok(strcmp(cprog.ch[ch].order, "O") == 0 &&
	    conn_writable(c.conn, ch) == 4096, "client: raw confirmation accepted");
	raw_chan(&s, CONN_MSG_CHANNEL_OPEN_CONFIRMATION, ch, conf, sizeof(conf));
	pair_pump(&c, &s);
	ok(c.conn_err == FERR_PROTOCOL && s.disconnected,
	    "client: a second confirmation disconnects");
	pair_free(&c, &s);

	setup(&c, &s, &ccfg, NULL);
	s.raw = raw_record;
	s.on_idle = NULL;
	c.on_idle = NULL;
	ch = open_session(&c);
	pair_pump(&c, &s);
	raw_chan(&s, CONN_MSG_CHANNEL_OPEN_CONFIRMATION, ch, conf, sizeof(conf));
	raw_data(&s, ch, 1000);
	pair_pump(&c, &s);
	ok(c.conn_err == 0 && strcmp(cprog.ch[ch].order, "OD") == 0,
	    "client: data within its window delivered");
	raw_data(&s, ch, 1001);
	pair_pump(&c, &s);
	ok(c.conn_err == FERR_PROTOCOL && s.disconnected,
	    "client: data beyond its window disconnects");
	pair_free(&c, &s);

	/* A server opening a session on the client is refused. */
	setup(&c, &s, NULL, NULL);
	s.raw = raw_record;
	s.on_idle = NULL;
	c.on_idle = NULL;
	raw_open(&s, 4);
	pair_pump(&c, &s);
	ok(c.conn_err == 0 && s.last_msg == CONN_MSG_CHANNEL_OPEN_FAILURE &&
	    conn_nchannels(c.conn) == 0, "client: session open from server refused");
	pair_free(&c, &s);
}

/* ---- window sizing ---- */

static uint64_t fake_ns;

static uint64_t
fake_clock(void *ctx)
{
	(void)ctx;
	return fake_ns;
}

/* The raw client's view: window granted to it on channel 0. */
static uint64_t win_granted;
static int win_bad;

static void
raw_window(struct peer *p, uint8_t msg, struct buf *m)
{
	uint32_t chan, add, sender, w, maxpkt;

	(void)p;
	if (msg == CONN_MSG_CHANNEL_OPEN_CONFIRMATION) {
		if (buf_get_u32(m, &chan) != 0 || buf_get_u32(m, &sender) != 0 ||
		    buf_get_u32(m, &w) != 0 || buf_get_u32(m, &maxpkt) != 0)
			win_bad = 1;
		win_granted = w;
	} else if (msg == CONN_MSG_CHANNEL_WINDOW_ADJUST) {
		if (buf_get_u32(m, &chan) != 0 || buf_get_u32(m, &add) != 0)
			win_bad = 1;
		win_granted += add;
	}
}

/*
 * A raw client sends per round trip min(what its window allows, cap)
 * bytes; the fake clock advances one round trip per round.  Returns the
 * largest window the server ever had outstanding (granted - sent).
 */
static uint64_t
window_rounds(uint32_t per_rtt, int rounds, uint64_t *sentp)
{
	struct peer c, s;
	struct conn_config scfg;
	uint64_t sent = 0, most = 0, room, n;
	int i;

	memset(&scfg, 0, sizeof(scfg));
	scfg.window = 64 * 1024;
	scfg.window_max = 1024 * 1024;
	scfg.clock = fake_clock;
	fake_ns = 1000000000ULL;
	win_granted = 0;
	win_bad = 0;
	setup(&c, &s, NULL, &scfg);
	c.raw = raw_window;
	c.on_idle = NULL;
	raw_open(&c, 0);
	pair_pump(&c, &s);
	for (i = 0; i < rounds; i++) {
		room = win_granted - sent;
		if (room > most)
			most = room;
		if (room > per_rtt)
			room = per_rtt;
		while (room > 0) {
			n = room > 16384 ? 16384 : room;
			raw_data(&c, 0, (size_t)n);
			sent += n;
			room -= n;
		}
		fake_ns += 40 * 1000000ULL;	/* 40 ms round trip */
		pair_pump(&c, &s);
	}
	ok(s.conn_err == 0 && !win_bad, "window rounds without errors");
	*sentp = sent;
	pair_free(&c, &s);
	return most;
}

/*
 * A sender paced by a link: each round trip is PACE_SLOTS slots of the
 * fake clock; per slot it sends at most per_slot bytes (the link rate)
 * of the window it knows about, and a window adjustment reaches it one
 * round trip after the server sent it.  Data thus arrives spread over
 * the round trip, as on a real path.  Returns the bytes sent in the
 * last `tail` of `rounds` round trips; *mostp: the largest window the
 * server had granted beyond the data it had received.
 */
#define PACE_SLOTS	16
#define PACE_RTT_NS	(40 * 1000000ULL)
#define PACE_GRANTS	4096
static struct {
	uint64_t due_ns, add;
} pace_grant[PACE_GRANTS];
static unsigned int pace_ngrants;
static uint64_t pace_known;	/* window the sender has heard of */

static void
raw_window_paced(struct peer *p, uint8_t msg, struct buf *m)
{
	uint64_t before = win_granted;

	raw_window(p, msg, m);
	if (msg == CONN_MSG_CHANNEL_OPEN_CONFIRMATION)
		pace_known = win_granted;
	else if (win_granted > before && pace_ngrants < PACE_GRANTS) {
		pace_grant[pace_ngrants].due_ns = fake_ns + PACE_RTT_NS;
		pace_grant[pace_ngrants].add = win_granted - before;
		pace_ngrants++;
	}
}

static uint64_t
window_paced(uint32_t per_slot, int idle, int rounds, int tail,
    uint64_t *mostp)
{
	struct peer c, s;
	struct conn_config scfg;
	uint64_t sent = 0, tail_sent = 0, room, n;
	unsigned int i, j;
	int rtt;

	memset(&scfg, 0, sizeof(scfg));
	scfg.window = 32 * 1024;
	scfg.window_max = 1024 * 1024;
	scfg.clock = fake_clock;
	fake_ns = 1000000000ULL;
	win_granted = 0;
	win_bad = 0;
	pace_ngrants = 0;
	*mostp = 0;
	setup(&c, &s, NULL, &scfg);
	c.raw = raw_window_paced;
	c.on_idle = NULL;
	raw_open(&c, 0);
	pair_pump(&c, &s);
	/* A little data (a login, a command), then idle round trips. */
	if (idle > 0) {
		raw_data(&c, 0, 1000);
		pair_pump(&c, &s);
		fake_ns += (uint64_t)idle * PACE_RTT_NS;
		raw_data(&c, 0, 1000);
		pair_pump(&c, &s);
		sent = 2000;
		fake_ns += (uint64_t)idle * PACE_RTT_NS;
		for (j = 0; j < pace_ngrants; j++)
			pace_known += pace_grant[j].add;
		pace_ngrants = 0;
	}
	for (rtt = 0; rtt < rounds; rtt++)
		for (i = 0; i < PACE_SLOTS; i++) {
			fake_ns += PACE_RTT_NS / PACE_SLOTS;
			for (j = 0; j < pace_ngrants; j++)
				if (pace_grant[j].due_ns != 0 &&
				    pace_grant[j].due_ns <= fake_ns) {
					pace_known += pace_grant[j].add;
					pace_grant[j].due_ns = 0;
				}
			room = pace_known - sent;
			if (room > per_slot)
				room = per_slot;
			if (rtt >= rounds - tail)
				tail_sent += room;
			sent += room;
			while (room > 0) {
				n = room > 16384 ? 16384 : room;
				raw_data(&c, 0, (size_t)n);
				room -= n;
			}
			pair_pump(&c, &s);
			if (win_granted - sent > *mostp)
				*mostp = win_granted - sent;
		}
	ok(s.conn_err == 0 && !win_bad, "paced rounds without errors");
	pair_free(&c, &s);
	return tail_sent;
}

static void
test_window_growth(void)
{
	uint64_t most, sent;

	/* Window-limited: the window doubles per round trip to the cap. */
	most = window_rounds(UINT32_MAX, 16, &sent);
	ok(most > 512 * 1024 && most <= 1024 * 1024, "a window-limited "
	    "channel grows toward the cap, never past it (largest window "
	    "%llu)", (unsigned long long)most);
	ok(sent > 6 * 1024 * 1024, "and moves more per round trip "
	    "(%llu bytes in 16 round trips, 1 MiB without growth)",
	    (unsigned long long)sent);

	/*
	 * Rate-limited far below the window: it stays near where it was
	 * (the first turnaround overstates the round trip of a peer that
	 * is not waiting, so one modest step is possible).
	 */
	most = window_rounds(16 * 1024, 16, &sent);
	ok(most <= 128 * 1024, "a slow sender does not grow the window "
	    "much (largest window %llu)", (unsigned long long)most);

	/* Rate-limited at 256 KiB per round trip: twice that, no more. */
	most = window_rounds(256 * 1024, 16, &sent);
	ok(most >= 256 * 1024 && most <= 512 * 1024 + 32768,
	    "a 256 KiB/RTT sender gets about twice its BDP (largest window "
	    "%llu)", (unsigned long long)most);

	/*
	 * A link of 256 KiB per round trip, data spread over the round
	 * trip, the window starting at 32 KiB: within 8 round trips the
	 * window has grown past the BDP, so the last 4 move at least 90% of
	 * what the link carries; it never passes twice the BDP (plus one
	 * slot) nor the cap.
	 */
	sent = window_paced(256 * 1024 / PACE_SLOTS, 0, 12, 4, &most);
	ok(sent >= 4 * 256 * 1024 * 9 / 10, "a paced sender fills the link "
	    "within 8 round trips (%llu of %u bytes in the last 4)",
	    (unsigned long long)sent, 4 * 256 * 1024);
	ok(most <= 2 * 256 * 1024 + 256 * 1024 / PACE_SLOTS,
	    "and its window stays within twice the BDP (largest %llu)",
	    (unsigned long long)most);
	/*
	 * A fast link: within 8 round trips (the window doubling about
	 * every other one) at least 896 KiB move; granting only at half
	 * the window moved 736 KiB.  Idle round trips before (a login, a
	 * command) do not slow the start.
	 */
	sent = window_paced(1024 * 1024, 0, 8, 8, &most);
	ok(sent >= 896 * 1024, "a paced window-limited sender ramps up "
	    "(%llu bytes in 8 round trips)", (unsigned long long)sent);
	sent = window_paced(1024 * 1024, 5, 8, 8, &most);
	ok(sent >= 896 * 1024, "and as fast after idle round trips "
	    "(%llu bytes in 8 round trips)", (unsigned long long)sent);
	/* A fast link: the window stops at the cap. */
	sent = window_paced(1024 * 1024, 0, 16, 4, &most);
	ok(most <= 1024 * 1024, "a paced sender on a fast link never gets "
	    "more than window_max (largest %llu)", (unsigned long long)most);
	ok(sent >= 4 * 1024 * 1024 * 3 / 4, "and is held only by the cap "
	    "(%llu bytes in the last 4 of 16 round trips)",
	    (unsigned long long)sent);
}

int
main(void)
{
	test_sessions();
	test_bulk();
	test_limits();
	test_hostile();
	test_hostile_server();
	test_window_growth();
	key_free(pair_hostkey);
	return tap_done();
}
