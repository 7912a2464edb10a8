/*
 * SFTP client sessions (ferry/sftp-session.h): the client engine driven
 * over a session channel of the in-process SSH client or over the pipes
 * of an external transport, with -l rate limiting, blocking calls and
 * transfer sets run to completion.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/client.h"
#include "ferry/conn.h"
#include "ferry/err.h"
#include "ferry/evloop.h"
#include "ferry/log.h"
#include "ferry/sftp-client.h"
#include "ferry/sftp-session.h"
#include "misc.h"

/* What one read(2) of a transport pipe takes. */
#define SESSION_READ_SIZE	(256U * 1024)
/* What moves at a time while -l limits the rate. */
#define SESSION_LIMIT_CHUNK	(16U * 1024)
/* How long sftp_session_close() waits for the peer's CLOSE, in ms. */
#define SESSION_CLOSE_WAIT	5000
/* How often a waiting transfer looks at the interrupt flag, in ms. */
#define SESSION_INTR_POLL	100

/* A blocking call waiting for its reply. */
struct session_wait {
	int done;
	int err;
	struct sftp_session_reply *rep;
};

/* A request sent with INIT (sftp_session_opts.prefetch). */
struct session_pre {
	uint8_t type;
	char *path;
	int dropped;		/* no call will ask for it: reply ignored */
	struct session_wait w;	/* w.rep points to rep */
	struct sftp_session_reply rep;
};

struct sftp_session {
	struct sftp_client *c;
	struct sftp_session_opts o;
	char err[512];
	int failed;		/* the session ended with this code */

	/* Over a channel of the in-process client. */
	struct client *cl;
	struct conn *conn;
	struct evloop *loop;
	uint32_t chan;
	int opened;		/* CONN_EV_OPENED */
	int chan_gone;		/* open failed or CLOSE received */
	int peer_eof;		/* EOF received */
	int replied;		/* CONN_EV_REPLY to our request */
	int reply_ok;
	int writing;		/* the subsystem runs: send engine output */
	int eof_sent;
	struct buf *inq;	/* -l: received, not yet fed to the engine */
	uint64_t timer;		/* armed wake-up timer, 0: none */
	int fd_ready;		/* sftp_session_wait_readable's fd is */

	/* Over an external transport. */
	int in_fd, out_fd;
	uint8_t *rb;

	/* -l accounting. */
	uint64_t moved;		/* bytes sent and received */
	uint64_t start_ms;

	/* Overlapped start-up. */
	int lim_done;		/* the limits@openssh.com reply came */
	struct session_pre pre[SFTP_SESSION_MAX_PREFETCH];
	size_t npre;		/* prefetched requests */
	size_t pre_next;	/* the next one a call may take */
};

static void
session_seterr(struct sftp_session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
session_seterr(struct sftp_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
}

/* The session ended: the engine fails what is outstanding. */
static void
session_end(struct sftp_session *s, int r, const char *why)
{
	if (s->failed == 0) {
		s->failed = r;
		if (s->err[0] == '\0')
			session_seterr(s, "%s", why);
	}
	if (sftp_client_error(s->c) == 0)
		sftp_client_eof(s->c);
}

static struct sftp_session *
session_new(const struct sftp_session_opts *o)
{
	struct sftp_session *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->in_fd = s->out_fd = -1;
	if (o != NULL)
		s->o = *o;
	/* The program's list is copied by session_pre_queue(). */
	s->o.prefetch = NULL;
	s->o.nprefetch = 0;
	s->start_ms = evloop_now_ms();
	if ((s->c = sftp_client_new()) == NULL ||
	    (s->inq = buf_new()) == NULL) {
		sftp_client_free(s->c);
		free(s);
		return NULL;
	}
	/* Both pumps take the output with output_copy or output_fill. */
	sftp_client_allow_deferred(s->c, 1);
	return s;
}

/* -l: milliseconds to wait before moving more bytes (0: go on). */
static int
session_throttle_ms(const struct sftp_session *s)
{
	uint64_t elapsed, due;

	if (s->o.limit_bps == 0)
		return 0;
	elapsed = evloop_now_ms() - s->start_ms;
	due = s->moved * 1000U / s->o.limit_bps;
	if (due <= elapsed)
		return 0;
	return due - elapsed > 60000 ? 60000 : (int)(due - elapsed) + 1;
}

/* Feed received bytes to the engine; a protocol error ends the session. */
static int
session_feed(struct sftp_session *s, const uint8_t *data, size_t len)
{
	int r;

	s->moved += len;
	if ((r = sftp_client_input(s->c, data, len)) == 0)
		return 0;
	if (sftp_client_error(s->c) != 0) {
		session_seterr(s, "Connection closed: %s",
		    sftp_client_error_msg(s->c));
		s->failed = sftp_client_error(s->c);
	} else
		session_seterr(s, "%s", err_str(r));
	return r;
}

/* ---- over a channel ---- */

/* Write engine output to the channel as far as the window allows. */
static int
session_chan_write(struct sftp_session *s)
{
	struct buf *out = sftp_client_output(s->c);
	size_t len, sent;
	uint8_t *dp;
	int r;

	while (s->writing && !s->chan_gone && buf_len(out) > 0) {
		len = buf_len(out);
		if (s->o.limit_bps != 0) {
			if (session_throttle_ms(s) != 0)
				break;
			if (len > SESSION_LIMIT_CHUNK)
				len = SESSION_LIMIT_CHUNK;
		}
		/*
		 * One CHANNEL_DATA packet: the engine copies its message
		 * bytes and reads WRITE file data straight into it.
		 */
		if ((r = conn_data_start(s->conn, s->chan, len, &dp,
		    &sent)) != 0)
			return r;
		if (sent == 0)
			break;
		if ((r = sftp_client_output_copy(s->c, dp, sent)) != 0) {
			/* The begun packet goes, empty. */
			if (conn_data_commit(s->conn, 0) != 0)
				log_debug("cannot end the empty packet");
			return r;
		}
		if ((r = conn_data_commit(s->conn, sent)) != 0)
			return r;
		if ((r = buf_consume(out, sent)) != 0)
			return r;
		s->moved += sent;
	}
	return 0;
}

/* -l: feed what waits in inq, a chunk at a time while the rate allows. */
static int
session_chan_feed_queued(struct sftp_session *s, int *fedp)
{
	size_t len;
	int r;

	*fedp = 0;
	if (buf_len(s->inq) == 0 || session_throttle_ms(s) != 0)
		return 0;
	len = buf_len(s->inq);
	if (len > SESSION_LIMIT_CHUNK)
		len = SESSION_LIMIT_CHUNK;
	*fedp = 1;
	if ((r = session_feed(s, buf_ptr(s->inq), len)) != 0)
		return r;
	if ((r = buf_consume(s->inq, len)) != 0 ||
	    (!s->chan_gone && (r = conn_consumed(s->conn, s->chan,
	    len)) != 0))
		return r;
	return 0;
}

static void
session_chan_data(struct sftp_session *s, const struct conn_event *ev)
{
	int r;

	if (s->o.limit_bps != 0) {
		if ((r = buf_put(s->inq, ev->data, ev->len)) != 0)
			session_end(s, r, err_str(r));
	} else if ((r = session_feed(s, ev->data, ev->len)) != 0 ||
	    (r = conn_consumed(s->conn, s->chan, ev->len)) != 0 ||
	    (r = session_chan_write(s)) != 0)
		session_end(s, r, err_str(r));
	client_stop(s->cl);
}

/* Text the server wrote to stderr: shown as OpenSSH's ssh would. */
static void
session_chan_stderr(struct sftp_session *s, const struct conn_event *ev)
{
	char *t, *v;

	if ((t = malloc(ev->len + 1)) != NULL) {
		memcpy(t, ev->data, ev->len);
		t[ev->len] = '\0';
		while (*t != '\0' && t[strlen(t) - 1] == '\n')
			t[strlen(t) - 1] = '\0';
		if ((v = sftp_client_vis(t)) != NULL && *v != '\0')
			log_error("%s", v);
		free(v);
		free(t);
	}
	if (conn_consumed(s->conn, s->chan, ev->len) != 0)
		session_end(s, FERR_INTERNAL, "Connection closed");
}

static const char *
session_open_reason(uint32_t code)
{
	static const char *const names[] = {
		"open failed", "administratively prohibited", "connect failed",
		"unknown channel type", "resource shortage",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] :
	    "unknown reason";
}

static int
session_chan_event(struct client *cl, const struct conn_event *ev, void *ctx)
{
	struct sftp_session *s = ctx;
	int r;

	(void)cl;
	if (ev == NULL || (ev->type == CONN_EV_WINDOW && ev->chan == s->chan)) {
		if (s->o.limit_bps == 0 &&
		    (r = session_chan_write(s)) != 0)
			session_end(s, r, err_str(r));
		return 0;
	}
	if (ev->chan != s->chan || s->chan_gone)
		return 0;
	switch (ev->type) {
	case CONN_EV_OPENED:
		s->opened = 1;
		client_stop(s->cl);
		break;
	case CONN_EV_OPEN_FAILED:
		s->chan_gone = 1;
		session_seterr(s, "channel %u: open failed: %s: %s", ev->chan,
		    session_open_reason(ev->code),
		    ev->text != NULL ? ev->text : "");
		session_end(s, FERR_CONN_CLOSED, "");
		client_stop(s->cl);
		break;
	case CONN_EV_REPLY:
		s->replied = 1;
		s->reply_ok = ev->ok;
		client_stop(s->cl);
		break;
	case CONN_EV_DATA:
		session_chan_data(s, ev);
		break;
	case CONN_EV_EXTENDED_DATA:
		if (ev->code == CONN_EXTENDED_DATA_STDERR)
			session_chan_stderr(s, ev);
		else if (conn_consumed(s->conn, s->chan, ev->len) != 0)
			session_end(s, FERR_INTERNAL, "Connection closed");
		break;
	case CONN_EV_EOF:
		/* Replies queued under -l are still fed first. */
		s->peer_eof = 1;
		if (buf_len(s->inq) == 0)
			session_end(s, FERR_CONN_CLOSED, "Connection closed");
		client_stop(s->cl);
		break;
	case CONN_EV_CLOSE:
		s->chan_gone = 1;
		if (buf_len(s->inq) == 0)
			session_end(s, FERR_CONN_CLOSED, "Connection closed");
		client_stop(s->cl);
		break;
	case CONN_EV_REQUEST:
		if (ev->req == CONN_REQ_EXIT_STATUS)
			log_debug("sftp server exited with status %u",
			    ev->status);
		break;
	default:
		break;
	}
	return 0;
}

static void
session_wake(struct evloop *loop, void *ctx)
{
	struct sftp_session *s = ctx;

	(void)loop;
	s->timer = 0;
	client_stop(s->cl);
}

/* The descriptor sftp_session_wait_readable() waits for is ready. */
static void
session_fd_ready(struct evloop *loop, int fd, unsigned int events,
    void *ctx)
{
	struct sftp_session *s = ctx;

	(void)loop;
	(void)fd;
	(void)events;
	s->fd_ready = 1;
	client_stop(s->cl);
}

static int
session_fd_ready_done(void *arg)
{
	struct sftp_session *s = arg;

	return s->fd_ready;
}

/* A repeating check of the interrupt flag while a transfer waits. */
static void
session_intr_tick(struct evloop *loop, void *ctx)
{
	struct sftp_session *s = ctx;

	(void)loop;
	if (s->o.interrupted != NULL && *s->o.interrupted)
		client_stop(s->cl);
}

static int
session_chan_pump(struct sftp_session *s, int (*done)(void *), void *arg)
{
	uint64_t intr = 0;
	int r, fed, wait;

	if (s->o.interrupted != NULL && (r = evloop_add_timer(s->loop,
	    SESSION_INTR_POLL, 1, session_intr_tick, s, &intr)) != 0)
		return r;
	for (;;) {
		if ((r = session_chan_feed_queued(s, &fed)) != 0)
			break;
		if (s->failed != 0 || sftp_client_error(s->c) != 0) {
			if (s->failed == 0)
				session_end(s, sftp_client_error(s->c),
				    "Connection closed");
			r = s->failed;
			break;
		}
		if (done(arg)) {
			r = 0;
			break;
		}
		if (fed)
			continue;
		if ((s->chan_gone || s->peer_eof) && buf_len(s->inq) == 0) {
			session_end(s, FERR_CONN_CLOSED, "Connection closed");
			continue;
		}
		if ((r = session_chan_write(s)) != 0)
			break;
		/* -l: come back when the rate allows more. */
		wait = session_throttle_ms(s);
		if (s->o.limit_bps != 0 && s->timer == 0 &&
		    (buf_len(s->inq) > 0 ||
		    buf_len(sftp_client_output(s->c)) > 0) &&
		    (r = evloop_add_timer(s->loop, wait > 0 ? (uint64_t)wait :
		    1, 0, session_wake, s, &s->timer)) != 0)
			break;
		if ((r = client_run(s->cl)) != 0) {
			session_seterr(s, "%s", *client_error(s->cl) != '\0' ?
			    client_error(s->cl) : "Connection closed");
			session_end(s, r, "");
			break;
		}
	}
	if (s->timer != 0 && evloop_cancel_timer(s->loop, s->timer) != 0)
		log_debug("wake-up timer already gone");
	s->timer = 0;
	if (intr != 0 && evloop_cancel_timer(s->loop, intr) != 0)
		log_debug("interrupt timer already gone");
	client_flush(s->cl);
	return r;
}

/* ---- over an external transport ---- */

static int
session_fds_pump(struct sftp_session *s, int (*done)(void *), void *arg)
{
	struct buf *out = sftp_client_output(s->c);
	struct pollfd pfd[2];
	size_t want;
	ssize_t n;
	int r, wait;

	while (!done(arg)) {
		if (s->failed != 0)
			return s->failed;
		if (sftp_client_error(s->c) != 0) {
			session_end(s, sftp_client_error(s->c),
			    "Connection closed");
			return s->failed;
		}
		wait = session_throttle_ms(s);
		pfd[0].fd = s->in_fd;
		pfd[0].events = wait == 0 ? POLLIN : 0;
		pfd[1].fd = s->out_fd;
		pfd[1].events = buf_len(out) > 0 && wait == 0 ? POLLOUT : 0;
		/* One socket: both directions in the first entry. */
		if (s->in_fd == s->out_fd)
			pfd[0].events |= pfd[1].events;
		if (poll(pfd, s->in_fd == s->out_fd ? 1 : 2,
		    wait > 0 ? wait : s->o.interrupted != NULL ?
		    SESSION_INTR_POLL : -1) < 0) {
			if (errno == EINTR)
				continue;
			session_seterr(s, "poll: %s", strerror(errno));
			return FERR_SYSTEM;
		}
		if (s->in_fd == s->out_fd)
			pfd[1].revents = pfd[0].revents;
		if (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP) &&
		    buf_len(out) > 0) {
			want = buf_len(out);
			if (s->o.limit_bps != 0 && want > SESSION_LIMIT_CHUNK)
				want = SESSION_LIMIT_CHUNK;
			/* WRITE file data is read into the buffer now. */
			if ((r = sftp_client_output_fill(s->c, want)) != 0)
				return r;
			n = write(s->out_fd, buf_ptr(out), want);
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				session_end(s, FERR_CONN_CLOSED,
				    "Connection closed");
				return s->failed;
			}
			if (n > 0) {
				if ((r = buf_consume(out, (size_t)n)) != 0)
					return r;
				s->moved += (uint64_t)n;
			}
		}
		if (pfd[0].revents & (POLLIN | POLLERR | POLLHUP)) {
			n = read(s->in_fd, s->rb, s->o.limit_bps != 0 ?
			    SESSION_LIMIT_CHUNK : SESSION_READ_SIZE);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				session_end(s, FERR_CONN_CLOSED,
				    "Connection closed");
				return s->failed;
			}
			if ((r = session_feed(s, s->rb, (size_t)n)) != 0)
				return r;
		}
	}
	return 0;
}

/* ---- common ---- */

static void session_pre_drop(struct sftp_session *s);

static int
session_pump(struct sftp_session *s, int (*done)(void *), void *arg)
{
	/*
	 * -l: the rate is kept over each call; time spent idle between
	 * calls (at the prompt) is no credit for a burst.
	 */
	s->moved = 0;
	s->start_ms = evloop_now_ms();
	if (s->cl != NULL)
		return session_chan_pump(s, done, arg);
	return session_fds_pump(s, done, arg);
}

int
sftp_session_pump(struct sftp_session *s, int (*done)(void *), void *arg)
{
	/* The caller may have sent requests of its own meanwhile. */
	session_pre_drop(s);
	return session_pump(s, done, arg);
}

int
sftp_session_wait_readable(struct sftp_session *s, int fd)
{
	int r, r2;

	/* An external transport answers the server by itself. */
	if (s->cl == NULL)
		return s->failed;
	s->fd_ready = 0;
	if ((r = evloop_add_fd(s->loop, fd, EVLOOP_READ, session_fd_ready,
	    s)) != 0)
		return r;
	r = session_pump(s, session_fd_ready_done, s);
	if ((r2 = evloop_del_fd(s->loop, fd)) != 0 && r == 0)
		r = r2;
	return r;
}

static int
session_ready(void *arg)
{
	struct sftp_session *s = arg;

	return sftp_client_ready(s->c);
}

static int
session_lim_done(void *arg)
{
	struct sftp_session *s = arg;

	return s->lim_done;
}

/*
 * The limits@openssh.com reply, asked for before VERSION came: used only
 * when VERSION advertised the extension.  A STATUS (a server that does
 * not know it says SSH_FX_OP_UNSUPPORTED) means no limits, as does a
 * reply from a server that did not advertise it.
 */
static int
session_limits_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct sftp_session *s = arg;

	s->lim_done = 1;
	if (rep->type != SSH_FXP_EXTENDED_REPLY) {
		log_debug("limits@openssh.com: %s: default sizes",
		    rep->type == SSH_FXP_STATUS ? rep->errmsg : "no reply");
		return 0;
	}
	if (!sftp_client_has_ext(s->c, "limits@openssh.com", "1", NULL)) {
		log_debug("limits@openssh.com not advertised: reply ignored");
		return 0;
	}
	if (sftp_client_set_limits(s->c, rep->data, rep->len) != 0)
		log_error("malformed limits@openssh.com reply: ignored");
	return 0;
}

/* A prefetched request's reply: kept for the call that asks for it. */
static int session_copy_cb(void *arg, const struct sftp_client_reply *rep);

static int
session_pre_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct session_pre *p = arg;

	if (p->dropped) {
		p->w.done = 1;
		return 0;
	}
	return session_copy_cb(&p->w, rep);
}

/* Check and copy the program's prefetch list; FERR_ARGUMENT if bad. */
static int
session_pre_set(struct sftp_session *s, const struct sftp_session_opts *o)
{
	const struct sftp_session_prefetch *q;
	size_t i;

	if (o == NULL || o->nprefetch == 0)
		return 0;
	if (o->nprefetch > SFTP_SESSION_MAX_PREFETCH || o->prefetch == NULL) {
		session_seterr(s, "too many requests to prefetch");
		return FERR_ARGUMENT;
	}
	for (i = 0; i < o->nprefetch; i++) {
		q = &o->prefetch[i];
		if ((q->type != SSH_FXP_REALPATH && q->type != SSH_FXP_STAT &&
		    q->type != SSH_FXP_LSTAT) || q->path == NULL) {
			session_seterr(s, "request type %u cannot be "
			    "prefetched", q->type);
			return FERR_ARGUMENT;
		}
		if ((s->pre[i].path = strdup(q->path)) == NULL)
			return FERR_ALLOC;
		s->pre[i].type = q->type;
		s->pre[i].w.rep = &s->pre[i].rep;
		s->npre = i + 1;
	}
	return 0;
}

/*
 * Queue limits@openssh.com and the prefetched requests behind INIT
 * (queued by sftp_client_new): all go before VERSION is seen.
 */
static int
session_queue_early(struct sftp_session *s)
{
	struct buf *b;
	size_t i;
	int r;

	if ((r = sftp_client_begin(s->c, SSH_FXP_EXTENDED,
	    "limits@openssh.com", &b)) != 0 ||
	    (r = sftp_client_end(s->c, 0, session_limits_cb, s, NULL)) != 0)
		return r;
	for (i = 0; i < s->npre; i++)
		if ((r = sftp_client_path(s->c, s->pre[i].type,
		    s->pre[i].path, session_pre_cb, &s->pre[i])) != 0)
			return r;
	return 0;
}

/* No call will take the prefetched replies left. */
static void
session_pre_drop(struct sftp_session *s)
{
	for (; s->pre_next < s->npre; s->pre_next++)
		s->pre[s->pre_next].dropped = 1;
}

static int
session_pre_match(const struct sftp_session *s, uint8_t type,
    const char *path)
{
	const struct session_pre *p = &s->pre[s->pre_next];

	return s->pre_next < s->npre && p->type == type &&
	    strcmp(p->path, path) == 0;
}

int
sftp_session_prefetched(const struct sftp_session *s, uint8_t type,
    const char *path)
{
	return session_pre_match(s, type, path);
}

/* INIT was sent with the early requests: VERSION, then the limits. */
static int
session_init(struct sftp_session *s)
{
	int r;

	if ((r = session_pump(s, session_ready, s)) != 0)
		return r;
	log_debug("sftp protocol version %u", sftp_client_version(s->c));
	/* In order behind VERSION: no round trip of its own. */
	return session_pump(s, session_lim_done, s);
}

static int
session_opened(void *arg)
{
	struct sftp_session *s = arg;

	return s->opened || s->chan_gone;
}

static int
session_replied(void *arg)
{
	struct sftp_session *s = arg;

	return s->replied || s->chan_gone;
}

int
sftp_session_open_client(struct client *cl, const char *subsystem,
    const struct sftp_session_opts *o, struct sftp_session **sp)
{
	struct sftp_session *s;
	int r, exec;

	*sp = NULL;
	if (subsystem == NULL)
		subsystem = "sftp";
	if ((s = session_new(o)) == NULL)
		return FERR_ALLOC;
	*sp = s;
	if ((r = session_pre_set(s, o)) != 0)
		return r;
	s->cl = cl;
	s->conn = client_conn(cl);
	s->loop = client_evloop(cl);
	if (s->conn == NULL) {
		session_seterr(s, "not connected");
		return FERR_ARGUMENT;
	}
	client_set_handler(cl, session_chan_event, s);
	if ((r = conn_open(s->conn, "session", NULL, 0, &s->chan)) != 0) {
		session_seterr(s, "cannot open a session channel: %s",
		    err_str(r));
		return r;
	}
	client_flush(cl);
	if ((r = session_pump(s, session_opened, s)) != 0)
		return r;
	if (s->chan_gone)
		return FERR_CONN_CLOSED;
	/* A path is a program to run, as OpenSSH's sftp -s does. */
	exec = strchr(subsystem, '/') != NULL;
	log_debug("Sending %s: %s", exec ? "command" : "subsystem", subsystem);
	if (exec)
		r = conn_request_exec(s->conn, s->chan, subsystem, 1);
	else
		r = conn_request_subsystem(s->conn, s->chan, subsystem, 1);
	if (r != 0) {
		session_seterr(s, "channel request: %s", err_str(r));
		return r;
	}
	/*
	 * INIT follows the request without waiting for its reply (the
	 * server takes channel data once the subsystem runs, and a server
	 * that opens the window only then, as sshd does, gets it then),
	 * and the early requests follow INIT.
	 */
	if ((r = session_queue_early(s)) != 0) {
		session_seterr(s, "%s", err_str(r));
		return r;
	}
	s->writing = 1;
	if ((r = session_chan_write(s)) != 0) {
		session_seterr(s, "%s", err_str(r));
		return r;
	}
	client_flush(cl);
	if ((r = session_pump(s, session_replied, s)) != 0)
		return r;
	if (!s->reply_ok || s->chan_gone) {
		session_seterr(s, "%s request failed on channel %u",
		    exec ? "exec" : "subsystem", s->chan);
		s->failed = FERR_CONN_CLOSED;
		return FERR_CONN_CLOSED;
	}
	return session_init(s);
}

int
sftp_session_open_fds(int in_fd, int out_fd,
    const struct sftp_session_opts *o, struct sftp_session **sp)
{
	struct sftp_session *s;
	int r;

	*sp = NULL;
	if ((s = session_new(o)) == NULL) {
		close(in_fd);
		if (out_fd != in_fd)
			close(out_fd);
		return FERR_ALLOC;
	}
	*sp = s;
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	if ((r = session_pre_set(s, o)) != 0)
		return r;
	if ((s->rb = malloc(SESSION_READ_SIZE)) == NULL)
		return FERR_ALLOC;
	if ((r = misc_set_nonblock(in_fd, 1)) != 0 ||
	    (r = misc_set_nonblock(out_fd, 1)) != 0) {
		session_seterr(s, "fcntl: %s", strerror(errno));
		return r;
	}
	if ((r = session_queue_early(s)) != 0) {
		session_seterr(s, "%s", err_str(r));
		return r;
	}
	return session_init(s);
}

struct sftp_client *
sftp_session_engine(struct sftp_session *s)
{
	return s->c;
}

/* ---- transfers ---- */

struct session_xfer_wait {
	struct sftp_session *s;
	struct sftp_xfer *x;
	int err;
	int cancelled;
};

static int
session_xfer_done(void *arg)
{
	struct session_xfer_wait *w = arg;
	volatile sig_atomic_t *intr = w->s->o.interrupted;

	if (intr != NULL && *intr && !w->cancelled) {
		w->cancelled = 1;
		sftp_xfer_cancel(w->x);
	}
	if ((w->err = sftp_xfer_step(w->x)) != 0)
		return 1;
	return sftp_xfer_done(w->x);
}

int
sftp_session_run_xfer(struct sftp_session *s, struct sftp_xfer *x)
{
	struct session_xfer_wait w;
	int r;

	memset(&w, 0, sizeof(w));
	w.s = s;
	w.x = x;
	if (s->o.interrupted != NULL)
		*s->o.interrupted = 0;
	session_pre_drop(s);
	if ((r = session_pump(s, session_xfer_done, &w)) != 0)
		return r;
	if (w.err != 0) {
		/*
		 * Requests whose callbacks point into the set may still be
		 * outstanding: the session cannot go on safely.
		 */
		session_seterr(s, "transfer: %s", err_str(w.err));
		if (s->failed == 0)
			s->failed = w.err;
		return w.err;
	}
	return 0;
}

/* ---- blocking calls ---- */

static int
session_copy_names(struct sftp_session_reply *o,
    const struct sftp_client_reply *rep)
{
	uint32_t i;

	if ((o->names = calloc((size_t)rep->count + 1,
	    sizeof(*o->names))) == NULL)
		return FERR_ALLOC;
	for (i = 0; i < rep->count; i++) {
		o->names[i].attrs = rep->names[i].attrs;
		if ((o->names[i].filename =
		    strdup(rep->names[i].filename)) == NULL ||
		    (o->names[i].longname =
		    strdup(rep->names[i].longname)) == NULL) {
			free(o->names[i].filename);
			o->names[i].filename = NULL;
			return FERR_ALLOC;
		}
		o->count = i + 1;
	}
	return 0;
}

static int
session_copy_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct session_wait *w = arg;
	struct sftp_session_reply *o = w->rep;

	w->done = 1;
	o->type = rep->type;
	o->status = rep->status;
	o->attrs = rep->attrs;
	if (rep->errmsg != NULL && (o->errmsg = strdup(rep->errmsg)) == NULL)
		goto fail;
	if (rep->len > 0) {
		if ((o->data = malloc(rep->len)) == NULL)
			goto fail;
		memcpy(o->data, rep->data, rep->len);
		o->len = rep->len;
	}
	if (rep->type == SSH_FXP_NAME && session_copy_names(o, rep) != 0)
		goto fail;
	return 0;
 fail:
	/* Not a session error: only this call fails. */
	w->err = FERR_ALLOC;
	return 0;
}

static int
session_wait_done(void *arg)
{
	struct session_wait *w = arg;

	return w->done;
}

int
sftp_session_call_end(struct sftp_session *s, struct sftp_session_reply *rep)
{
	struct session_wait w;
	int r;

	memset(rep, 0, sizeof(*rep));
	memset(&w, 0, sizeof(w));
	w.rep = rep;
	session_pre_drop(s);
	if ((r = sftp_client_end(s->c, 0, session_copy_cb, &w, NULL)) != 0) {
		session_seterr(s, "%s", err_str(r));
		return r;
	}
	if ((r = session_pump(s, session_wait_done, &w)) != 0) {
		/* The engine answered the request already (CONN_LOST). */
		return r;
	}
	if (w.err != 0)
		session_seterr(s, "%s", err_str(w.err));
	return w.err;
}

/* The call asks what the next prefetched request asked: its reply. */
static int
session_pre_take(struct sftp_session *s, struct sftp_session_reply *rep)
{
	struct session_pre *p = &s->pre[s->pre_next++];
	int r;

	log_debug2("sftp: request %u %s was sent with INIT", p->type,
	    p->path);
	if ((r = session_pump(s, session_wait_done, &p->w)) != 0)
		return r;
	*rep = p->rep;
	memset(&p->rep, 0, sizeof(p->rep));
	if (p->w.err != 0)
		session_seterr(s, "%s", err_str(p->w.err));
	return p->w.err;
}

int
sftp_session_call_path(struct sftp_session *s, uint8_t type,
    const char *path, struct sftp_session_reply *rep)
{
	struct buf *b;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (session_pre_match(s, type, path))
		return session_pre_take(s, rep);
	session_pre_drop(s);
	if ((r = sftp_client_begin(s->c, type, NULL, &b)) != 0)
		return r;
	if ((r = buf_put_cstring(b, path)) != 0) {
		sftp_client_abort(s->c);
		return r;
	}
	return sftp_session_call_end(s, rep);
}

int
sftp_session_call_handle(struct sftp_session *s, uint8_t type,
    const uint8_t *h, size_t hlen, struct sftp_session_reply *rep)
{
	struct buf *b;
	int r;

	memset(rep, 0, sizeof(*rep));
	session_pre_drop(s);
	if ((r = sftp_client_begin(s->c, type, NULL, &b)) != 0)
		return r;
	if ((r = buf_put_string(b, h, hlen)) != 0) {
		sftp_client_abort(s->c);
		return r;
	}
	return sftp_session_call_end(s, rep);
}

void
sftp_session_reply_free(struct sftp_session_reply *rep)
{
	uint32_t i;

	free(rep->errmsg);
	free(rep->data);
	for (i = 0; rep->names != NULL && i < rep->count; i++) {
		free(rep->names[i].filename);
		free(rep->names[i].longname);
	}
	free(rep->names);
	memset(rep, 0, sizeof(*rep));
}

const char *
sftp_session_error(const struct sftp_session *s)
{
	return s->err;
}

/* ---- the end ---- */

static void
session_close_timeout(struct evloop *loop, void *ctx)
{
	struct sftp_session *s = ctx;

	(void)loop;
	s->timer = 0;
	s->chan_gone = 1;
	client_stop(s->cl);
}

void
sftp_session_close(struct sftp_session *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->cl != NULL && s->opened && !s->chan_gone) {
		/*
		 * EOF and CLOSE, then wait a little for the peer's CLOSE
		 * so that the server sees an orderly end.
		 */
		s->writing = 0;
		s->o.interrupted = NULL;
		s->o.limit_bps = 0;
		buf_reset(s->inq);
		if (s->timer != 0 &&
		    evloop_cancel_timer(s->loop, s->timer) != 0)
			log_debug("wake-up timer already gone");
		s->timer = 0;
		if (conn_eof(s->conn, s->chan) != 0 ||
		    conn_close(s->conn, s->chan) != 0 ||
		    evloop_add_timer(s->loop, SESSION_CLOSE_WAIT, 0,
		    session_close_timeout, s, &s->timer) != 0)
			log_debug("cannot close the sftp channel cleanly");
		else {
			client_flush(s->cl);
			while (!s->chan_gone && client_run(s->cl) == 0)
				;
			if (s->timer != 0 &&
			    evloop_cancel_timer(s->loop, s->timer) != 0)
				log_debug("close timer already gone");
		}
	}
	if (s->cl != NULL)
		client_set_handler(s->cl, NULL, NULL);
	if (s->in_fd != -1)
		close(s->in_fd);
	if (s->out_fd != -1 && s->out_fd != s->in_fd)
		close(s->out_fd);
	sftp_client_free(s->c);
	for (i = 0; i < s->npre; i++) {
		free(s->pre[i].path);
		sftp_session_reply_free(&s->pre[i].rep);
	}
	buf_free(s->inq);
	free(s->rb);
	free(s);
}
