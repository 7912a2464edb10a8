/*
 * The SSH connection protocol (RFC 4254) for both roles: channels with
 * flow-control windows, session requests and global requests.  See
 * ferry/conn.h for the contract.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferry/conn.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/transport.h"

/* Window is granted again once 1/CONN_ADJUST_DIV of it was consumed. */
/* A gap in the data that ends a busy spell before a round trip is known. */
#define CONN_PAUSE_NS	(20ULL * 1000 * 1000)
#define CONN_ADJUST_DIV	8

enum conn_chan_state {
	CONN_CHAN_FREE = 0,
	CONN_CHAN_OPENING,		/* we sent CHANNEL_OPEN */
	CONN_CHAN_PEER_OPENING,		/* the program has to answer */
	CONN_CHAN_OPEN,
};

struct conn_chan {
	enum conn_chan_state state;
	uint32_t remote_id;
	uint32_t remote_window;		/* what we may still send */
	uint32_t remote_maxpkt;
	uint32_t local_window;		/* what the peer may still send */
	uint32_t unacked;		/* consumed, not yet granted again */
	uint32_t delivered;		/* manual: delivered, not consumed */
	/*
	 * Window sizing: local_window + delivered + unacked + extra is
	 * always target, which only grows (see conn_window_sample).
	 */
	uint32_t target;		/* the window we keep granted */
	uint32_t extra;			/* growth not yet granted */
	uint64_t granted;		/* all window granted so far */
	uint64_t received;		/* all data received */
	uint64_t probe_limit;		/* granted before the probed adjust */
	uint64_t probe_ns;		/* when it went out; 0: no probe */
	uint64_t rtt_ns;		/* shortest adjust turnaround seen */
	uint64_t rate_ns;		/* start of the rate sample */
	uint64_t rate_bytes;		/* received at that start */
	uint64_t last_ns;		/* the last data's arrival */
	uint64_t busy_ns;		/* data since then without a pause */
	uint64_t busy_bytes;		/* received before that */
	int sent_eof, got_eof, sent_close, close_pending;
	unsigned int want_replies;	/* our requests awaiting replies */
	void *ctx;
};

struct conn {
	struct transport *t;
	int server;
	uint32_t window, window_max, maxpkt;
	uint64_t (*clock)(void *);
	void *clock_ctx;
	unsigned int max_channels;
	int manual;
	struct conn_chan *chans;
	size_t nalloc;
	unsigned int nused;
	int pending_open, pending_reply;
	uint32_t pending_open_chan, pending_reply_chan;
	unsigned int global_want;
	int no_more_sessions;
	/* A zero-copy data packet being filled. */
	int building;
	uint32_t build_chan;
	struct buf *build_p;
	size_t build_off, build_len;
	char *text;			/* NUL-terminated copy for events */
	char error[160];
};

/* Requests the library parses, and which role may receive each. */
#define CONN_TO_SERVER	1
#define CONN_TO_CLIENT	2
static const struct {
	const char *name;
	enum conn_req_type type;
	int to;
} conn_requests[] = {
	{ "exec", CONN_REQ_EXEC, CONN_TO_SERVER },
	{ "subsystem", CONN_REQ_SUBSYSTEM, CONN_TO_SERVER },
	{ "shell", CONN_REQ_SHELL, CONN_TO_SERVER },
	{ "env", CONN_REQ_ENV, CONN_TO_SERVER },
	{ "pty-req", CONN_REQ_PTY, CONN_TO_SERVER },
	{ "window-change", CONN_REQ_WINDOW_CHANGE, CONN_TO_SERVER },
	{ "signal", CONN_REQ_SIGNAL, CONN_TO_SERVER },
	{ "exit-status", CONN_REQ_EXIT_STATUS, CONN_TO_CLIENT },
	{ "exit-signal", CONN_REQ_EXIT_SIGNAL, CONN_TO_CLIENT },
	{ "eow@openssh.com", CONN_REQ_EOW, CONN_TO_CLIENT },
};
#define CONN_NREQUESTS	(sizeof(conn_requests) / sizeof(conn_requests[0]))

int
conn_new(struct transport *t, const struct conn_config *cfg, struct conn **cp)
{
	struct conn *c;

	*cp = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return FERR_ALLOC;
	c->t = t;
	c->server = cfg->server;
	c->window = cfg->window != 0 ? cfg->window : CONN_WINDOW_DEFAULT;
	c->window_max = cfg->window_max != 0 ? cfg->window_max :
	    CONN_WINDOW_MAX_DEFAULT;
	if (c->window_max < c->window)
		c->window_max = c->window;
	c->clock = cfg->clock;
	c->clock_ctx = cfg->clock_ctx;
	c->maxpkt = cfg->max_packet != 0 ? cfg->max_packet :
	    CONN_MAX_PACKET_DEFAULT;
	if (c->maxpkt > CONN_MAX_PACKET_LIMIT)
		c->maxpkt = CONN_MAX_PACKET_LIMIT;
	c->max_channels = cfg->max_channels != 0 ? cfg->max_channels :
	    CONN_CHANNELS_DEFAULT;
	c->manual = cfg->manual_window;
	*cp = c;
	return 0;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	free(c->chans);
	free(c->text);
	free(c);
}

const char *
conn_error(const struct conn *c)
{
	return c->error[0] != '\0' ? c->error : "no error";
}

static int
conn_fail(struct conn *c, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A protocol violation: disconnect with the reason. */
static int
conn_fail(struct conn *c, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
	log_verbose("conn: %s", c->error);
	if (transport_disconnect(c->t, TRANSPORT_DISC_PROTOCOL_ERROR,
	    c->error) != 0)
		log_debug("conn: transport already closed");
	return r < 0 ? r : FERR_PROTOCOL;
}

/* ---- channel table ---- */

static struct conn_chan *
conn_chan(const struct conn *c, uint32_t id)
{
	if (id >= c->nalloc || c->chans[id].state == CONN_CHAN_FREE)
		return NULL;
	return &c->chans[id];
}

static int
conn_chan_alloc(struct conn *c, uint32_t *idp)
{
	struct conn_chan *n;
	size_t i, want;

	if (c->nused >= c->max_channels)
		return FERR_NO_SPACE;
	for (i = 0; i < c->nalloc; i++)
		if (c->chans[i].state == CONN_CHAN_FREE)
			break;
	if (i == c->nalloc) {
		want = c->nalloc == 0 ? 8 : c->nalloc * 2;
		if (want > c->max_channels)
			want = c->max_channels;
		if ((n = reallocarray(c->chans, want, sizeof(*n))) == NULL)
			return FERR_ALLOC;
		memset(n + c->nalloc, 0, (want - c->nalloc) * sizeof(*n));
		c->chans = n;
		c->nalloc = want;
	}
	memset(&c->chans[i], 0, sizeof(c->chans[i]));
	c->chans[i].local_window = c->window;
	c->chans[i].target = c->window;
	c->chans[i].granted = c->window;
	c->nused++;
	*idp = (uint32_t)i;
	return 0;
}

static void
conn_chan_release(struct conn *c, uint32_t id)
{
	memset(&c->chans[id], 0, sizeof(c->chans[id]));
	c->nused--;
	if (c->pending_reply && c->pending_reply_chan == id)
		c->pending_reply = 0;
}

unsigned int
conn_nchannels(const struct conn *c)
{
	return c->nused;
}

int
conn_set_ctx(struct conn *c, uint32_t chan, void *ctx)
{
	struct conn_chan *ch = conn_chan(c, chan);

	if (ch == NULL)
		return FERR_ARGUMENT;
	ch->ctx = ctx;
	return 0;
}

void *
conn_get_ctx(const struct conn *c, uint32_t chan)
{
	struct conn_chan *ch = conn_chan(c, chan);

	return ch != NULL ? ch->ctx : NULL;
}

int
conn_peer_eof(const struct conn *c, uint32_t chan)
{
	struct conn_chan *ch = conn_chan(c, chan);

	return ch != NULL && ch->got_eof;
}

/* Copy a peer's name for an event, replacing anything not printable. */
static void
conn_copy_name(char *dst, const uint8_t *s, size_t len)
{
	size_t i;

	if (len > CONN_NAME_MAX)
		len = CONN_NAME_MAX;
	for (i = 0; i < len; i++)
		dst[i] = (s[i] > 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	dst[i] = '\0';
}

/*
 * Copy a peer's message for display: printable ASCII and spaces kept,
 * anything else (controls, escape sequences) made a '?'.
 */
static void
conn_copy_display(char *dst, const uint8_t *s, size_t len)
{
	size_t i;

	if (len > CONN_NAME_MAX)
		len = CONN_NAME_MAX;
	for (i = 0; i < len; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	dst[i] = '\0';
}

/* Keep a NUL-terminated copy of len bytes for the event's text. */
static int
conn_set_text(struct conn *c, struct conn_event *ev, const uint8_t *s,
    size_t len)
{
	free(c->text);
	if ((c->text = malloc(len + 1)) == NULL)
		return FERR_ALLOC;
	memcpy(c->text, s, len);
	c->text[len] = '\0';
	ev->text = c->text;
	ev->text_len = len;
	return 0;
}

/* ---- sending helpers ---- */

/* Start a message to channel ch: message number and recipient id. */
static int
conn_chan_start(struct conn *c, const struct conn_chan *ch, uint8_t msg,
    struct buf **pp)
{
	int r;

	if (c->building)
		return FERR_ARGUMENT;
	if ((r = transport_packet_start(c->t, msg, pp)) != 0 ||
	    (r = buf_put_u32(*pp, ch->remote_id)) != 0)
		return r;
	return 0;
}

static int
conn_send_simple(struct conn *c, struct conn_chan *ch, uint8_t msg)
{
	struct buf *p;
	int r;

	if ((r = conn_chan_start(c, ch, msg, &p)) != 0)
		return r;
	return transport_send(c->t);
}

static int
conn_send_close(struct conn *c, struct conn_chan *ch)
{
	int r;

	if (ch->sent_close)
		return 0;
	if ((r = conn_send_simple(c, ch, CONN_MSG_CHANNEL_CLOSE)) != 0)
		return r;
	ch->sent_close = 1;
	return 0;
}

static uint64_t
conn_now(const struct conn *c)
{
	struct timespec ts;

	if (c->clock != NULL)
		return c->clock(c->clock_ctx);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Data arrived on ch: measure and grow the window.  Data beyond what was
 * granted before an adjust can only have been sent after the peer got
 * it, so the time from sending the adjust to that data is at least one
 * round trip, and exactly one when the peer was waiting for window: the
 * shortest such turnaround is the round-trip time.  Each round trip, the
 * target becomes twice the bytes that arrived per round trip (at most
 * doubling, at most window_max): a peer held back by the window doubles
 * it every round trip until the link or the consumer is the limit.  A
 * slow consumer (manual windows) slows the arrivals and so the growth.
 */
static void
conn_window_sample(struct conn *c, struct conn_chan *ch, size_t len)
{
	uint64_t now = conn_now(c), elapsed, bytes, want;
	double bdp;
	int first;

	if (ch->probe_ns != 0 && ch->received > ch->probe_limit) {
		first = ch->rtt_ns == 0;
		if (now > ch->probe_ns && (ch->rtt_ns == 0 ||
		    now - ch->probe_ns < ch->rtt_ns))
			ch->rtt_ns = now - ch->probe_ns;
		ch->probe_ns = 0;
		/*
		 * The first round trip known: a rate sample begun more than
		 * two before spans idle time; it starts with the data that
		 * came after the last pause instead.
		 */
		if (first && ch->rtt_ns != 0 && ch->rate_ns != 0 &&
		    now - ch->rate_ns > 2 * ch->rtt_ns) {
			ch->rate_ns = ch->busy_ns;
			ch->rate_bytes = ch->busy_bytes;
		}
	}
	/* A pause: longer than a round trip, or CONN_PAUSE_NS before one. */
	if (ch->last_ns == 0 || (now > ch->last_ns && now - ch->last_ns >
	    (ch->rtt_ns != 0 ? ch->rtt_ns : CONN_PAUSE_NS))) {
		ch->busy_ns = now;
		ch->busy_bytes = ch->received - len;
	}
	if (ch->rate_ns == 0 || now < ch->rate_ns) {
		ch->rate_ns = ch->last_ns = now;
		ch->rate_bytes = ch->received - len;
		return;
	}
	/*
	 * Nothing came for over a round trip (the channel was idle): that
	 * time says nothing about the path; start the sample afresh.
	 */
	ch->last_ns = now;
	if (ch->rtt_ns != 0 && ch->busy_ns == now) {
		ch->rate_ns = now;
		ch->rate_bytes = ch->busy_bytes;
		return;
	}
	elapsed = now - ch->rate_ns;
	if (ch->rtt_ns == 0 || elapsed < ch->rtt_ns)
		return;
	bytes = ch->received - ch->rate_bytes;
	ch->rate_ns = now;
	ch->rate_bytes = ch->received;
	bdp = (double)bytes * (double)ch->rtt_ns / (double)elapsed;
	want = bdp * 2 > (double)c->window_max ? c->window_max :
	    (uint64_t)(bdp * 2);
	if (want > (uint64_t)ch->target * 2)
		want = (uint64_t)ch->target * 2;
	if (want > c->window_max)
		want = c->window_max;
	if (want <= ch->target)
		return;
	ch->extra += (uint32_t)(want - ch->target);
	ch->target = (uint32_t)want;
}

/*
 * Grant the peer more window once an eighth of it has been consumed, or
 * at once when the target grew.  Granting only at half kept up to half
 * the window unannounced: a sender spread over the round trip then saw
 * about half the target per round trip, and the target, twice that,
 * hardly grew.
 */
static int
conn_maybe_adjust(struct conn *c, struct conn_chan *ch)
{
	struct buf *p;
	uint32_t add;
	int r;

	if ((ch->unacked < ch->target / CONN_ADJUST_DIV && ch->extra == 0) ||
	    ch->sent_close || ch->got_eof)
		return 0;
	add = ch->unacked + ch->extra;
	if ((r = conn_chan_start(c, ch, CONN_MSG_CHANNEL_WINDOW_ADJUST,
	    &p)) != 0 ||
	    (r = buf_put_u32(p, add)) != 0 ||
	    (r = transport_send(c->t)) != 0)
		return r;
	if (ch->probe_ns == 0) {
		ch->probe_limit = ch->granted;
		ch->probe_ns = conn_now(c);
	}
	ch->granted += add;
	ch->local_window += add;
	ch->unacked = 0;
	ch->extra = 0;
	return 0;
}

int
conn_consumed(struct conn *c, uint32_t chan, size_t n)
{
	struct conn_chan *ch = conn_chan(c, chan);

	if (ch == NULL || !c->manual || n > ch->delivered)
		return FERR_ARGUMENT;
	ch->delivered -= (uint32_t)n;
	ch->unacked += (uint32_t)n;
	return conn_maybe_adjust(c, ch);
}

/* ---- answers the program gives ---- */

int
conn_open_accept(struct conn *c, uint32_t chan)
{
	struct conn_chan *ch = conn_chan(c, chan);
	struct buf *p;
	int r;

	if (ch == NULL || ch->state != CONN_CHAN_PEER_OPENING)
		return FERR_ARGUMENT;
	if ((r = conn_chan_start(c, ch, CONN_MSG_CHANNEL_OPEN_CONFIRMATION,
	    &p)) != 0 ||
	    (r = buf_put_u32(p, chan)) != 0 ||
	    (r = buf_put_u32(p, ch->local_window)) != 0 ||
	    (r = buf_put_u32(p, c->maxpkt)) != 0 ||
	    (r = transport_send(c->t)) != 0)
		return r;
	ch->state = CONN_CHAN_OPEN;
	c->pending_open = 0;
	return 0;
}

int
conn_open_reject(struct conn *c, uint32_t chan, uint32_t reason,
    const char *description)
{
	struct conn_chan *ch = conn_chan(c, chan);
	struct buf *p;
	int r;

	if (ch == NULL || ch->state != CONN_CHAN_PEER_OPENING)
		return FERR_ARGUMENT;
	c->pending_open = 0;
	if ((r = conn_chan_start(c, ch, CONN_MSG_CHANNEL_OPEN_FAILURE,
	    &p)) == 0 &&
	    (r = buf_put_u32(p, reason)) == 0 &&
	    (r = buf_put_cstring(p, description != NULL ? description :
	    "")) == 0 &&
	    (r = buf_put_cstring(p, "")) == 0)
		r = transport_send(c->t);
	conn_chan_release(c, chan);
	return r;
}

int
conn_reply(struct conn *c, uint32_t chan, int ok)
{
	struct conn_chan *ch = conn_chan(c, chan);

	if (ch == NULL || !c->pending_reply || c->pending_reply_chan != chan)
		return FERR_ARGUMENT;
	c->pending_reply = 0;
	if (ch->sent_close)
		return 0;
	return conn_send_simple(c, ch, ok ? CONN_MSG_CHANNEL_SUCCESS :
	    CONN_MSG_CHANNEL_FAILURE);
}

/* Refuse what the program left unanswered. */
static int
conn_settle(struct conn *c)
{
	int r;

	if (c->pending_open &&
	    (r = conn_open_reject(c, c->pending_open_chan,
	    CONN_OPEN_ADMINISTRATIVELY_PROHIBITED, "open not answered")) != 0)
		return r;
	if (c->pending_reply &&
	    (r = conn_reply(c, c->pending_reply_chan, 0)) != 0)
		return r;
	return 0;
}

/* ---- what the program sends ---- */

int
conn_open(struct conn *c, const char *type, const void *extra,
    size_t extralen, uint32_t *chanp)
{
	struct conn_chan *ch;
	struct buf *p;
	uint32_t id;
	int r;

	if (c->building)
		return FERR_ARGUMENT;
	/* We promised the server not to open more sessions. */
	if (c->no_more_sessions && strcmp(type, "session") == 0)
		return FERR_PERMISSION;
	if ((r = conn_chan_alloc(c, &id)) != 0)
		return r;
	ch = &c->chans[id];
	ch->state = CONN_CHAN_OPENING;
	if ((r = transport_packet_start(c->t, CONN_MSG_CHANNEL_OPEN,
	    &p)) != 0 ||
	    (r = buf_put_cstring(p, type)) != 0 ||
	    (r = buf_put_u32(p, id)) != 0 ||
	    (r = buf_put_u32(p, ch->local_window)) != 0 ||
	    (r = buf_put_u32(p, c->maxpkt)) != 0 ||
	    (extralen != 0 && (r = buf_put(p, extra, extralen)) != 0) ||
	    (r = transport_send(c->t)) != 0) {
		conn_chan_release(c, id);
		return r;
	}
	*chanp = id;
	return 0;
}

/* An open channel we may still send requests and data on. */
static struct conn_chan *
conn_chan_usable(const struct conn *c, uint32_t chan)
{
	struct conn_chan *ch = conn_chan(c, chan);

	if (ch == NULL || ch->state != CONN_CHAN_OPEN || ch->sent_close)
		return NULL;
	return ch;
}

int
conn_request(struct conn *c, uint32_t chan, const char *name, int want_reply,
    const void *extra, size_t extralen)
{
	struct conn_chan *ch = conn_chan_usable(c, chan);
	struct buf *p;
	int r;

	if (ch == NULL)
		return FERR_ARGUMENT;
	if ((r = conn_chan_start(c, ch, CONN_MSG_CHANNEL_REQUEST, &p)) != 0 ||
	    (r = buf_put_cstring(p, name)) != 0 ||
	    (r = buf_put_bool(p, want_reply)) != 0 ||
	    (extralen != 0 && (r = buf_put(p, extra, extralen)) != 0) ||
	    (r = transport_send(c->t)) != 0)
		return r;
	if (want_reply)
		ch->want_replies++;
	return 0;
}

/* A request whose extra data is one string. */
static int
conn_request_str(struct conn *c, uint32_t chan, const char *name,
    int want_reply, const char *s1, const char *s2)
{
	struct buf *b;
	int r;

	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = buf_put_cstring(b, s1)) == 0 &&
	    (s2 == NULL || (r = buf_put_cstring(b, s2)) == 0))
		r = conn_request(c, chan, name, want_reply, buf_ptr(b),
		    buf_len(b));
	buf_free(b);
	return r;
}

int
conn_request_exec(struct conn *c, uint32_t chan, const char *command,
    int want_reply)
{
	return conn_request_str(c, chan, "exec", want_reply, command, NULL);
}

int
conn_request_subsystem(struct conn *c, uint32_t chan, const char *name,
    int want_reply)
{
	return conn_request_str(c, chan, "subsystem", want_reply, name, NULL);
}

int
conn_request_shell(struct conn *c, uint32_t chan, int want_reply)
{
	return conn_request(c, chan, "shell", want_reply, NULL, 0);
}

int
conn_request_env(struct conn *c, uint32_t chan, const char *name,
    const char *value, int want_reply)
{
	return conn_request_str(c, chan, "env", want_reply, name, value);
}

int
conn_send_exit_status(struct conn *c, uint32_t chan, uint32_t status)
{
	uint8_t b[4];

	b[0] = (uint8_t)(status >> 24);
	b[1] = (uint8_t)(status >> 16);
	b[2] = (uint8_t)(status >> 8);
	b[3] = (uint8_t)status;
	return conn_request(c, chan, "exit-status", 0, b, sizeof(b));
}

int
conn_send_exit_signal(struct conn *c, uint32_t chan, const char *signame,
    int core_dumped, const char *message)
{
	struct buf *b;
	int r;

	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = buf_put_cstring(b, signame)) == 0 &&
	    (r = buf_put_bool(b, core_dumped)) == 0 &&
	    (r = buf_put_cstring(b, message != NULL ? message : "")) == 0 &&
	    (r = buf_put_cstring(b, "")) == 0)
		r = conn_request(c, chan, "exit-signal", 0, buf_ptr(b),
		    buf_len(b));
	buf_free(b);
	return r;
}

/*
 * Output waiting to be written, including messages the transport holds
 * while a key exchange runs, is above the high-water mark: data waits.
 */
static int
conn_out_full(const struct conn *c)
{
	return buf_len(transport_output(c->t)) +
	    transport_held_bytes(c->t) > CONN_OUT_HIGH;
}

/* How much one packet may carry to ch now (0: wait). */
static size_t
conn_room(const struct conn *c, const struct conn_chan *ch, size_t want)
{
	size_t n = want;

	if (conn_out_full(c))
		return 0;
	if (n > ch->remote_window)
		n = ch->remote_window;
	if (n > ch->remote_maxpkt)
		n = ch->remote_maxpkt;
	return n;
}

size_t
conn_writable(const struct conn *c, uint32_t chan)
{
	struct conn_chan *ch = conn_chan_usable(c, chan);

	if (ch == NULL || ch->sent_eof || conn_out_full(c))
		return 0;
	return ch->remote_window;
}

/* Check chan can take data; sets *chp. */
static int
conn_write_check(struct conn *c, uint32_t chan, struct conn_chan **chp)
{
	struct conn_chan *ch = conn_chan(c, chan);

	*chp = NULL;
	if (c->building || ch == NULL || ch->state != CONN_CHAN_OPEN)
		return FERR_ARGUMENT;
	if (ch->sent_eof || ch->sent_close)
		return FERR_EOF;
	*chp = ch;
	return 0;
}

int
conn_write_ext(struct conn *c, uint32_t chan, uint32_t code,
    const void *data, size_t len, size_t *sentp)
{
	const uint8_t *d = data;
	struct conn_chan *ch;
	struct buf *p;
	size_t n, done = 0;
	int r;

	*sentp = 0;
	if ((r = conn_write_check(c, chan, &ch)) != 0)
		return r;
	while (done < len && (n = conn_room(c, ch, len - done)) != 0) {
		if ((r = conn_chan_start(c, ch, code == 0 ?
		    CONN_MSG_CHANNEL_DATA : CONN_MSG_CHANNEL_EXTENDED_DATA,
		    &p)) != 0 ||
		    (code != 0 && (r = buf_put_u32(p, code)) != 0) ||
		    (r = buf_put_string(p, d + done, n)) != 0 ||
		    (r = transport_send(c->t)) != 0)
			return r;
		ch->remote_window -= (uint32_t)n;
		done += n;
		*sentp = done;
	}
	return 0;
}

int
conn_write(struct conn *c, uint32_t chan, const void *data, size_t len,
    size_t *sentp)
{
	return conn_write_ext(c, chan, 0, data, len, sentp);
}

int
conn_data_start(struct conn *c, uint32_t chan, size_t max, uint8_t **dp,
    size_t *lenp)
{
	struct conn_chan *ch;
	struct buf *p;
	size_t n;
	int r;

	*dp = NULL;
	*lenp = 0;
	if ((r = conn_write_check(c, chan, &ch)) != 0)
		return r;
	if ((n = conn_room(c, ch, max)) == 0)
		return 0;
	if ((r = conn_chan_start(c, ch, CONN_MSG_CHANNEL_DATA, &p)) != 0)
		return r;
	c->build_off = buf_len(p);
	if ((r = buf_put_u32(p, (uint32_t)n)) != 0 ||
	    (r = buf_reserve(p, n, dp)) != 0)
		return r;
	c->building = 1;
	c->build_chan = chan;
	c->build_p = p;
	c->build_len = n;
	*lenp = n;
	return 0;
}

int
conn_data_commit(struct conn *c, size_t used)
{
	struct conn_chan *ch;
	int r;

	if (!c->building || used > c->build_len ||
	    (ch = conn_chan(c, c->build_chan)) == NULL)
		return FERR_ARGUMENT;
	c->building = 0;
	if ((r = buf_consume_end(c->build_p, c->build_len - used)) != 0 ||
	    (r = buf_poke_u32(c->build_p, c->build_off, (uint32_t)used)) != 0)
		return r;
	/* An empty CHANNEL_DATA is harmless; a begun packet must go. */
	ch->remote_window -= (uint32_t)used;
	return transport_send(c->t);
}

int
conn_eof(struct conn *c, uint32_t chan)
{
	struct conn_chan *ch = conn_chan_usable(c, chan);
	int r;

	if (ch == NULL || c->building)
		return FERR_ARGUMENT;
	if (ch->sent_eof)
		return 0;
	if ((r = conn_send_simple(c, ch, CONN_MSG_CHANNEL_EOF)) != 0)
		return r;
	ch->sent_eof = 1;
	return 0;
}

int
conn_close(struct conn *c, uint32_t chan)
{
	struct conn_chan *ch = conn_chan(c, chan);

	if (ch == NULL || c->building || ch->state == CONN_CHAN_PEER_OPENING)
		return FERR_ARGUMENT;
	if (ch->state == CONN_CHAN_OPENING) {
		/* The peer's id is not known yet: close on confirmation. */
		ch->close_pending = 1;
		return 0;
	}
	return conn_send_close(c, ch);
}

int
conn_global_request(struct conn *c, const char *name, int want_reply)
{
	struct buf *p;
	int r;

	if (c->building)
		return FERR_ARGUMENT;
	if ((r = transport_packet_start(c->t, CONN_MSG_GLOBAL_REQUEST,
	    &p)) != 0 ||
	    (r = buf_put_cstring(p, name)) != 0 ||
	    (r = buf_put_bool(p, want_reply)) != 0 ||
	    (r = transport_send(c->t)) != 0)
		return r;
	if (want_reply)
		c->global_want++;
	return 0;
}

int
conn_no_more_sessions(struct conn *c)
{
	if (c->server)
		return FERR_ARGUMENT;
	c->no_more_sessions = 1;
	return conn_global_request(c, "no-more-sessions@openssh.com", 0);
}

/* ---- receiving ---- */

static int
conn_recv_global(struct conn *c, struct buf *m)
{
	struct buf *p;
	const uint8_t *name;
	size_t len;
	int r, want;

	if ((r = buf_get_string_direct(m, &name, &len)) != 0 ||
	    (r = buf_get_bool(m, &want)) != 0)
		return conn_fail(c, r, "malformed GLOBAL_REQUEST");
	if (c->server && len == 28 &&
	    memcmp(name, "no-more-sessions@openssh.com", 28) == 0) {
		c->no_more_sessions = 1;
		log_debug("conn: no more sessions");
	}
	/* keepalive@openssh.com and anything unknown: failure, as OpenSSH. */
	if (!want)
		return 0;
	if ((r = transport_packet_start(c->t, CONN_MSG_REQUEST_FAILURE,
	    &p)) != 0)
		return r;
	return transport_send(c->t);
}

static int
conn_recv_global_reply(struct conn *c, uint8_t msg, struct conn_event *ev)
{
	if (c->global_want == 0)
		return conn_fail(c, FERR_PROTOCOL,
		    "global request reply without a request");
	c->global_want--;
	ev->type = CONN_EV_GLOBAL_REPLY;
	ev->ok = msg == CONN_MSG_REQUEST_SUCCESS;
	return 0;
}

static int
conn_recv_open(struct conn *c, struct buf *m, struct conn_event *ev)
{
	struct conn_chan *ch;
	struct buf *p;
	const uint8_t *type;
	size_t tlen;
	uint32_t sender, window, maxpkt, id;
	int r, session;

	if ((r = buf_get_string_direct(m, &type, &tlen)) != 0 ||
	    (r = buf_get_u32(m, &sender)) != 0 ||
	    (r = buf_get_u32(m, &window)) != 0 ||
	    (r = buf_get_u32(m, &maxpkt)) != 0)
		return conn_fail(c, r, "malformed CHANNEL_OPEN");
	session = tlen == 7 && memcmp(type, "session", 7) == 0;
	if (session && c->server && c->no_more_sessions)
		return conn_fail(c, FERR_PROTOCOL,
		    "session opened after no-more-sessions");
	if (tlen > CONN_NAME_MAX || (session && !c->server) ||
	    (r = conn_chan_alloc(c, &id)) != 0) {
		/* Refuse without a channel: answer to the sender's id. */
		if ((r = transport_packet_start(c->t,
		    CONN_MSG_CHANNEL_OPEN_FAILURE, &p)) != 0 ||
		    (r = buf_put_u32(p, sender)) != 0 ||
		    (r = buf_put_u32(p, tlen > CONN_NAME_MAX || session ?
		    CONN_OPEN_ADMINISTRATIVELY_PROHIBITED :
		    CONN_OPEN_RESOURCE_SHORTAGE)) != 0 ||
		    (r = buf_put_cstring(p, "open refused")) != 0 ||
		    (r = buf_put_cstring(p, "")) != 0)
			return r;
		return transport_send(c->t);
	}
	ch = &c->chans[id];
	ch->state = CONN_CHAN_PEER_OPENING;
	ch->remote_id = sender;
	ch->remote_window = window;
	ch->remote_maxpkt = maxpkt > CONN_MAX_PACKET_LIMIT ?
	    CONN_MAX_PACKET_LIMIT : maxpkt;
	c->pending_open = 1;
	c->pending_open_chan = id;
	ev->type = CONN_EV_OPEN_REQUEST;
	ev->chan = id;
	conn_copy_name(ev->name, type, tlen);
	ev->data = buf_ptr(m);
	ev->len = buf_len(m);
	return 0;
}

/* Read the recipient channel; it must be ours and in use. */
static int
conn_recv_chan(struct conn *c, struct buf *m, uint8_t msg, uint32_t *idp,
    struct conn_chan **chp)
{
	int r;

	if ((r = buf_get_u32(m, idp)) != 0)
		return conn_fail(c, r, "malformed message %u", msg);
	if ((*chp = conn_chan(c, *idp)) == NULL ||
	    (*chp)->state == CONN_CHAN_PEER_OPENING)
		return conn_fail(c, FERR_PROTOCOL,
		    "message %u for unknown channel %u", msg, *idp);
	if ((*chp)->state == CONN_CHAN_OPENING &&
	    msg != CONN_MSG_CHANNEL_OPEN_CONFIRMATION &&
	    msg != CONN_MSG_CHANNEL_OPEN_FAILURE)
		return conn_fail(c, FERR_PROTOCOL,
		    "message %u for channel %u before it opened", msg, *idp);
	if ((*chp)->state == CONN_CHAN_OPEN &&
	    (msg == CONN_MSG_CHANNEL_OPEN_CONFIRMATION ||
	    msg == CONN_MSG_CHANNEL_OPEN_FAILURE))
		return conn_fail(c, FERR_PROTOCOL,
		    "channel %u confirmed twice", *idp);
	return 0;
}

static int
conn_recv_confirm(struct conn *c, struct conn_chan *ch, struct buf *m,
    struct conn_event *ev)
{
	uint32_t sender, window, maxpkt;
	int r;

	/* Type-specific data may follow: it is not used. */
	if ((r = buf_get_u32(m, &sender)) != 0 ||
	    (r = buf_get_u32(m, &window)) != 0 ||
	    (r = buf_get_u32(m, &maxpkt)) != 0)
		return conn_fail(c, r, "malformed CHANNEL_OPEN_CONFIRMATION");
	ch->state = CONN_CHAN_OPEN;
	ch->remote_id = sender;
	ch->remote_window = window;
	ch->remote_maxpkt = maxpkt > CONN_MAX_PACKET_LIMIT ?
	    CONN_MAX_PACKET_LIMIT : maxpkt;
	if (ch->close_pending)
		return conn_send_close(c, ch);
	ev->type = CONN_EV_OPENED;
	return 0;
}

static int
conn_recv_open_failure(struct conn *c, uint32_t id, struct buf *m,
    struct conn_event *ev)
{
	const uint8_t *desc;
	size_t len;
	int r;

	if ((r = buf_get_u32(m, &ev->code)) != 0 ||
	    (r = buf_get_string_direct(m, &desc, &len)) != 0 ||
	    (r = buf_get_string_direct(m, NULL, NULL)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return conn_fail(c, r, "malformed CHANNEL_OPEN_FAILURE");
	conn_copy_display(ev->name, desc, len);
	ev->text = ev->name;
	ev->text_len = strlen(ev->name);
	ev->type = CONN_EV_OPEN_FAILED;
	conn_chan_release(c, id);
	return 0;
}

static int
conn_recv_window(struct conn *c, struct conn_chan *ch, struct buf *m,
    struct conn_event *ev)
{
	uint32_t add;
	int r;

	if ((r = buf_get_u32(m, &add)) != 0 || (r = buf_expect_end(m)) != 0)
		return conn_fail(c, r, "malformed CHANNEL_WINDOW_ADJUST");
	if (add > UINT32_MAX - ch->remote_window)
		return conn_fail(c, FERR_PROTOCOL, "window adjust overflows");
	ch->remote_window += add;
	if (!ch->sent_close && !ch->sent_eof && add != 0)
		ev->type = CONN_EV_WINDOW;
	return 0;
}

static int
conn_recv_data(struct conn *c, uint8_t msg, struct conn_chan *ch,
    struct buf *m, struct conn_event *ev)
{
	const uint8_t *d;
	size_t len;
	uint32_t code = 0;
	int r;

	if ((msg == CONN_MSG_CHANNEL_EXTENDED_DATA &&
	    (r = buf_get_u32(m, &code)) != 0) ||
	    (r = buf_get_string_direct(m, &d, &len)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return conn_fail(c, r, "malformed channel data");
	if (ch->got_eof)
		return conn_fail(c, FERR_PROTOCOL, "data after EOF");
	if (len > ch->local_window)
		return conn_fail(c, FERR_PROTOCOL,
		    "data beyond the window (%zu > %u)", len, ch->local_window);
	ch->local_window -= (uint32_t)len;
	ch->received += len;
	if (len > 0)
		conn_window_sample(c, ch, len);
	/* After our CLOSE data is discarded (RFC 4254 5.3). */
	if (ch->sent_close || len == 0)
		return 0;
	ev->type = msg == CONN_MSG_CHANNEL_DATA ? CONN_EV_DATA :
	    CONN_EV_EXTENDED_DATA;
	ev->code = code;
	ev->data = d;
	ev->len = len;
	if (c->manual) {
		ch->delivered += (uint32_t)len;
		return 0;
	}
	ch->unacked += (uint32_t)len;
	return conn_maybe_adjust(c, ch);
}

/* Parse the type-specific part of a known request into ev. */
static int
conn_parse_request(struct conn *c, enum conn_req_type type, struct buf *m,
    struct conn_event *ev)
{
	const uint8_t *s = NULL, *n;
	size_t len = 0, nlen;
	int r;

	switch (type) {
	case CONN_REQ_EXEC:
	case CONN_REQ_SUBSYSTEM:
		if ((r = buf_get_string_direct(m, &s, &len)) != 0)
			return r;
		break;
	case CONN_REQ_ENV:
		if ((r = buf_get_string_direct(m, &n, &nlen)) != 0 ||
		    (r = buf_get_string_direct(m, &s, &len)) != 0)
			return r;
		if (nlen > CONN_NAME_MAX || memchr(n, '\0', nlen) != NULL)
			return FERR_FORMAT;
		memcpy(ev->arg, n, nlen);
		ev->arg[nlen] = '\0';
		break;
	case CONN_REQ_SIGNAL:
		if ((r = buf_get_string_direct(m, &n, &nlen)) != 0)
			return r;
		conn_copy_name(ev->arg, n, nlen);
		break;
	case CONN_REQ_EXIT_STATUS:
		if ((r = buf_get_u32(m, &ev->status)) != 0)
			return r;
		break;
	case CONN_REQ_EXIT_SIGNAL:
		if ((r = buf_get_string_direct(m, &n, &nlen)) != 0 ||
		    (r = buf_get_bool(m, &ev->core_dumped)) != 0 ||
		    (r = buf_get_string_direct(m, &s, &len)) != 0 ||
		    (r = buf_get_string_direct(m, NULL, NULL)) != 0)
			return r;
		conn_copy_name(ev->arg, n, nlen);
		break;
	case CONN_REQ_PTY:
	case CONN_REQ_WINDOW_CHANGE:
		/* Details are not used: consume them unchecked. */
		return buf_consume(m, buf_len(m));
	default:
		break;
	}
	if ((r = buf_expect_end(m)) != 0)
		return r;
	if (len > CONN_COMMAND_MAX || (s != NULL && memchr(s, '\0', len)))
		return FERR_FORMAT;
	if (s != NULL)
		return conn_set_text(c, ev, s, len);
	return 0;
}

static int
conn_recv_request(struct conn *c, uint32_t id, struct conn_chan *ch,
    struct buf *m, struct conn_event *ev)
{
	const uint8_t *name;
	size_t len, i;
	int r, want, to = c->server ? CONN_TO_SERVER : CONN_TO_CLIENT;
	enum conn_req_type type = CONN_REQ_OTHER;

	if ((r = buf_get_string_direct(m, &name, &len)) != 0 ||
	    (r = buf_get_bool(m, &want)) != 0)
		return conn_fail(c, r, "malformed CHANNEL_REQUEST");
	for (i = 0; i < CONN_NREQUESTS; i++)
		if (strlen(conn_requests[i].name) == len &&
		    memcmp(conn_requests[i].name, name, len) == 0 &&
		    (conn_requests[i].to & to) != 0)
			type = conn_requests[i].type;
	if (ch->sent_close)
		return 0;
	if (type == CONN_REQ_OTHER) {
		/* keepalive@openssh.com and the unknown: refused. */
		log_debug("conn: channel %u: request %.*s refused", id,
		    (int)(len > 64 ? 64 : len), name);
		if (!want)
			return 0;
		return conn_send_simple(c, ch, CONN_MSG_CHANNEL_FAILURE);
	}
	if ((r = conn_parse_request(c, type, m, ev)) != 0)
		return conn_fail(c, r, "malformed %.*s request",
		    (int)(len > 64 ? 64 : len), name);
	ev->type = CONN_EV_REQUEST;
	ev->req = type;
	ev->want_reply = want;
	conn_copy_name(ev->name, name, len);
	if (want) {
		c->pending_reply = 1;
		c->pending_reply_chan = id;
	}
	return 0;
}

static int
conn_recv_reply(struct conn *c, uint8_t msg, struct conn_chan *ch,
    struct buf *m, struct conn_event *ev)
{
	int r;

	if ((r = buf_expect_end(m)) != 0)
		return conn_fail(c, r, "malformed channel request reply");
	if (ch->want_replies == 0)
		return conn_fail(c, FERR_PROTOCOL,
		    "channel request reply without a request");
	ch->want_replies--;
	if (ch->sent_close)
		return 0;
	ev->type = CONN_EV_REPLY;
	ev->ok = msg == CONN_MSG_CHANNEL_SUCCESS;
	return 0;
}

static int
conn_recv_close(struct conn *c, uint32_t id, struct conn_chan *ch,
    struct buf *m, struct conn_event *ev)
{
	int r;

	if ((r = buf_expect_end(m)) != 0)
		return conn_fail(c, r, "malformed CHANNEL_CLOSE");
	if ((r = conn_send_close(c, ch)) != 0)
		return r;
	ev->type = CONN_EV_CLOSE;
	ev->chan_ctx = ch->ctx;
	conn_chan_release(c, id);
	return 0;
}

static int
conn_recv_channel(struct conn *c, uint8_t msg, struct buf *m,
    struct conn_event *ev)
{
	struct conn_chan *ch = NULL;
	uint32_t id = 0;
	int r;

	if ((r = conn_recv_chan(c, m, msg, &id, &ch)) != 0)
		return r;
	ev->chan = id;
	ev->chan_ctx = ch->ctx;
	switch (msg) {
	case CONN_MSG_CHANNEL_OPEN_CONFIRMATION:
		return conn_recv_confirm(c, ch, m, ev);
	case CONN_MSG_CHANNEL_OPEN_FAILURE:
		return conn_recv_open_failure(c, id, m, ev);
	case CONN_MSG_CHANNEL_WINDOW_ADJUST:
		return conn_recv_window(c, ch, m, ev);
	case CONN_MSG_CHANNEL_DATA:
	case CONN_MSG_CHANNEL_EXTENDED_DATA:
		return conn_recv_data(c, msg, ch, m, ev);
	case CONN_MSG_CHANNEL_EOF:
		if ((r = buf_expect_end(m)) != 0)
			return conn_fail(c, r, "malformed CHANNEL_EOF");
		ch->got_eof = 1;
		if (!ch->sent_close)
			ev->type = CONN_EV_EOF;
		return 0;
	case CONN_MSG_CHANNEL_CLOSE:
		return conn_recv_close(c, id, ch, m, ev);
	case CONN_MSG_CHANNEL_REQUEST:
		return conn_recv_request(c, id, ch, m, ev);
	case CONN_MSG_CHANNEL_SUCCESS:
	case CONN_MSG_CHANNEL_FAILURE:
		return conn_recv_reply(c, msg, ch, m, ev);
	default:
		return FERR_INTERNAL;
	}
}

int
conn_input(struct conn *c, uint8_t msg, struct buf *payload,
    struct conn_event *ev)
{
	int r;

	memset(ev, 0, sizeof(*ev));
	if (c->building)
		return FERR_ARGUMENT;
	if ((r = conn_settle(c)) != 0)
		return r;
	switch (msg) {
	case CONN_MSG_GLOBAL_REQUEST:
		return conn_recv_global(c, payload);
	case CONN_MSG_REQUEST_SUCCESS:
	case CONN_MSG_REQUEST_FAILURE:
		return conn_recv_global_reply(c, msg, ev);
	case CONN_MSG_CHANNEL_OPEN:
		return conn_recv_open(c, payload, ev);
	default:
		break;
	}
	if (msg >= CONN_MSG_CHANNEL_OPEN_CONFIRMATION &&
	    msg <= CONN_MSG_CHANNEL_FAILURE)
		return conn_recv_channel(c, msg, payload, ev);
	/* RFC 4252 5.1: authentication requests after success are ignored. */
	if (msg >= 50 && msg <= 79)
		return 0;
	return conn_fail(c, FERR_PROTOCOL, "unexpected message %u", msg);
}
