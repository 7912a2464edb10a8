/*
 * Overlapped SFTP start-up (lib/sftp-session.c): against a scripted
 * server in a child process on a socketpair, which answers nothing until
 * it has the requests the client should send without waiting (INIT,
 * limits@openssh.com and the prefetched REALPATH and STAT), or until a
 * few seconds passed (what a client that waits for VERSION gets).  It
 * then counts what it was sent before its first reply and how many
 * REALPATH/STAT/LSTAT requests came in all, and tells the test through
 * an extension request.  Cases: limits advertised and sent, advertised
 * but refused (SSH_FX_OP_UNSUPPORTED), not advertised but answered
 * anyway (ignored), not advertised and refused; a prefetched reply
 * taken by the matching call and dropped by another call; a download
 * whose first request after VERSION is OPEN; a server that answers
 * INIT with version 2; a prefetch list naming a request with effects.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/sftp.h"
#include "ferry/sftp-client.h"
#include "ferry/sftp-session.h"
#include "tap.h"

/* The server waits this long for the early requests, in ms. */
#define HOLD_MS		3000
#define FILE_SIZE	100000U

/* How the scripted server behaves. */
struct script {
	uint32_t version;	/* in VERSION */
	int advertise;		/* limits@openssh.com in VERSION */
	int answer_limits;	/* EXTENDED_REPLY, else OP_UNSUPPORTED */
	unsigned int hold;	/* messages to wait for before replying */
};

/* What the server saw. */
struct seen {
	uint32_t before_reply;	/* messages before its first reply */
	uint32_t realpaths, stats, lstats;
	uint32_t first_after;	/* type of the first message after those */
};

static void bail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static int
srv_write(int fd, struct buf *out)
{
	ssize_t n;

	while (buf_len(out) > 0) {
		if ((n = write(fd, buf_ptr(out), buf_len(out))) <= 0)
			return -1;
		if (buf_consume(out, (size_t)n) != 0)
			return -1;
	}
	return 0;
}

/* Read one framed message into m (reset first); -1 at EOF. */
static int
srv_read_msg(int fd, struct buf *in, struct buf *m, int timeout_ms)
{
	uint8_t rb[4096];
	uint32_t len;
	struct pollfd p;
	ssize_t n;

	for (;;) {
		if (buf_len(in) >= 4 && buf_peek_u32(in, 0, &len) == 0 &&
		    buf_len(in) - 4 >= len) {
			buf_reset(m);
			if (buf_consume(in, 4) != 0 ||
			    buf_put(m, buf_ptr(in), len) != 0 ||
			    buf_consume(in, len) != 0)
				return -1;
			return 0;
		}
		p.fd = fd;
		p.events = POLLIN;
		if (poll(&p, 1, timeout_ms) == 0)
			return 1;
		if ((n = read(fd, rb, sizeof(rb))) <= 0)
			return -1;
		if (buf_put(in, rb, (size_t)n) != 0)
			return -1;
	}
}

/* Start a reply of type for id in out; srv_end() sets its length. */
static size_t
srv_begin(struct buf *out, uint8_t type, uint32_t id)
{
	size_t off = buf_len(out);

	if (buf_put_u32(out, 0) != 0 || buf_put_u8(out, type) != 0 ||
	    (type != SSH_FXP_VERSION && buf_put_u32(out, id) != 0))
		_exit(10);
	return off;
}

static void
srv_end(struct buf *out, size_t off)
{
	if (buf_poke_u32(out, off, (uint32_t)(buf_len(out) - off - 4)) != 0)
		_exit(11);
}

static void
srv_status(struct buf *out, uint32_t id, uint32_t code)
{
	size_t off = srv_begin(out, SSH_FXP_STATUS, id);

	if (buf_put_u32(out, code) != 0 || buf_put_cstring(out, "") != 0 ||
	    buf_put_cstring(out, "") != 0)
		_exit(12);
	srv_end(out, off);
}

/* Answer one request (type and id read) into out. */
static void
srv_answer(const struct script *sc, struct seen *sn, struct buf *m,
    uint8_t type, uint32_t id, struct buf *out)
{
	struct sftp_attrs a;
	char *s = NULL;
	size_t off;

	memset(&a, 0, sizeof(a));
	if (type != SSH_FXP_READ && type != SSH_FXP_CLOSE &&
	    buf_get_cstring(m, &s, NULL) != 0)
		_exit(13);
	switch (type) {
	case SSH_FXP_EXTENDED:
		if (strcmp(s, "limits@openssh.com") == 0) {
			if (!sc->answer_limits) {
				srv_status(out, id, SSH_FX_OP_UNSUPPORTED);
				break;
			}
			off = srv_begin(out, SSH_FXP_EXTENDED_REPLY, id);
			/* message, read, write, handles */
			if (buf_put_u64(out, 262144) != 0 ||
			    buf_put_u64(out, 4096) != 0 ||
			    buf_put_u64(out, 8192) != 0 ||
			    buf_put_u64(out, 0) != 0)
				_exit(14);
			srv_end(out, off);
		} else if (strcmp(s, "seen@test") == 0) {
			off = srv_begin(out, SSH_FXP_EXTENDED_REPLY, id);
			if (buf_put(out, sn, sizeof(*sn)) != 0)
				_exit(15);
			srv_end(out, off);
		} else
			srv_status(out, id, SSH_FX_OP_UNSUPPORTED);
		break;
	case SSH_FXP_REALPATH:
		sn->realpaths++;
		off = srv_begin(out, SSH_FXP_NAME, id);
		if (buf_put_u32(out, 1) != 0 ||
		    buf_put_cstring(out, "/home/overlap") != 0 ||
		    buf_put_cstring(out, "") != 0 || sftp_attrs_put(out, &a))
			_exit(16);
		srv_end(out, off);
		break;
	case SSH_FXP_STAT:
	case SSH_FXP_LSTAT:
		if (type == SSH_FXP_STAT)
			sn->stats++;
		else
			sn->lstats++;
		off = srv_begin(out, SSH_FXP_ATTRS, id);
		a.flags = SSH_FILEXFER_ATTR_SIZE |
		    SSH_FILEXFER_ATTR_PERMISSIONS;
		a.size = FILE_SIZE;
		a.perm = S_IFREG | 0644;
		if (sftp_attrs_put(out, &a) != 0)
			_exit(17);
		srv_end(out, off);
		break;
	case SSH_FXP_OPEN:
		off = srv_begin(out, SSH_FXP_HANDLE, id);
		if (buf_put_cstring(out, "h") != 0)
			_exit(18);
		srv_end(out, off);
		break;
	case SSH_FXP_READ:
		/* The test checks the order, not the data: end of file. */
		srv_status(out, id, SSH_FX_EOF);
		break;
	default:
		srv_status(out, id, SSH_FX_OK);
		break;
	}
	free(s);
}

/* A copy of m (the held messages outlive the reused m). */
static struct buf *
srv_keep(const struct buf *m)
{
	struct buf *b;

	if ((b = buf_new()) == NULL || buf_put(b, buf_ptr(m), buf_len(m)))
		_exit(3);
	return b;
}

static void
serve(int fd, const struct script *sc)
{
	struct buf *in = buf_new(), *m = buf_new(), *out = buf_new();
	struct buf *held[16];
	struct seen sn;
	unsigned int n = 0, i;
	uint8_t type;
	uint32_t id, v;
	size_t off;
	int r;

	if (in == NULL || m == NULL || out == NULL)
		_exit(2);
	memset(&sn, 0, sizeof(sn));
	/* Hold replies until the early requests came (or time ran out). */
	while (n < sc->hold && n < 16) {
		if ((r = srv_read_msg(fd, in, m, HOLD_MS)) < 0)
			_exit(0);
		if (r > 0)
			break;
		held[n++] = srv_keep(m);
	}
	sn.before_reply = n;
	if (n == 0) {
		if (srv_read_msg(fd, in, m, -1) != 0)
			_exit(0);
		held[n++] = srv_keep(m);
	}
	if (buf_get_u8(held[0], &type) != 0 || type != SSH_FXP_INIT ||
	    buf_get_u32(held[0], &v) != 0)
		_exit(4);
	off = srv_begin(out, SSH_FXP_VERSION, 0);
	if (buf_put_u32(out, sc->version) != 0 ||
	    (sc->advertise && (buf_put_cstring(out, "limits@openssh.com")
	    != 0 || buf_put_cstring(out, "1") != 0)))
		_exit(5);
	srv_end(out, off);
	for (i = 1; i < n; i++) {
		if (buf_get_u8(held[i], &type) != 0 ||
		    buf_get_u32(held[i], &id) != 0)
			_exit(6);
		srv_answer(sc, &sn, held[i], type, id, out);
	}
	for (i = 0; i < n; i++)
		buf_free(held[i]);
	if (srv_write(fd, out) != 0)
		_exit(0);
	while (srv_read_msg(fd, in, m, -1) == 0) {
		if (buf_get_u8(m, &type) != 0 || buf_get_u32(m, &id) != 0)
			_exit(7);
		if (sn.first_after == 0)
			sn.first_after = type;
		srv_answer(sc, &sn, m, type, id, out);
		if (srv_write(fd, out) != 0)
			break;
	}
	_exit(0);
}

static pid_t
start(const struct script *sc, int *fdp)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		bail("socketpair: %s", strerror(errno));
	if ((pid = fork()) == 0) {
		close(sv[0]);
		serve(sv[1], sc);
	}
	if (pid < 0)
		bail("fork: %s", strerror(errno));
	close(sv[1]);
	*fdp = sv[0];
	return pid;
}

/* Ask the server what it saw. */
static int
get_seen(struct sftp_session *s, struct seen *sn)
{
	struct sftp_session_reply rep;
	struct buf *b;
	int r;

	memset(sn, 0, sizeof(*sn));
	if (sftp_client_begin(sftp_session_engine(s), SSH_FXP_EXTENDED,
	    "seen@test", &b) != 0)
		return -1;
	r = sftp_session_call_end(s, &rep);
	if (r == 0 && rep.type == SSH_FXP_EXTENDED_REPLY &&
	    rep.len == sizeof(*sn))
		memcpy(sn, rep.data, sizeof(*sn));
	else
		r = -1;
	sftp_session_reply_free(&rep);
	return r;
}

static const struct sftp_session_prefetch early[] = {
	{ SSH_FXP_REALPATH, "." },
	{ SSH_FXP_STAT, "/home/overlap/file" },
};

static struct sftp_session *
open_session(const struct script *sc, pid_t *pidp, int *rp)
{
	struct sftp_session_opts o;
	struct sftp_session *s;
	int fd;

	memset(&o, 0, sizeof(o));
	o.prefetch = early;
	o.nprefetch = 2;
	*pidp = start(sc, &fd);
	*rp = sftp_session_open_fds(fd, fd, &o, &s);
	return s;
}

/* The limits cases: what was sent early and which sizes are used. */
static void
test_limits(int advertise, int answer, size_t want_rw, const char *what)
{
	struct script sc = { 3, advertise, answer, 4 };
	struct sftp_session_reply rep;
	struct sftp_session *s;
	struct seen sn;
	pid_t pid;
	int r;

	s = open_session(&sc, &pid, &r);
	is_int(r, 0, "%s: the session opens", what);
	is_int((int)sftp_client_rw_size(sftp_session_engine(s)),
	    (int)want_rw, "%s: read/write size %zu", what, want_rw);
	ok(sftp_session_prefetched(s, SSH_FXP_REALPATH, "."),
	    "%s: REALPATH . is prefetched", what);
	ok(!sftp_session_prefetched(s, SSH_FXP_STAT, "/home/overlap/file"),
	    "%s: ... and the STAT is not the next call", what);
	r = sftp_session_call_path(s, SSH_FXP_REALPATH, ".", &rep);
	ok(r == 0 && rep.type == SSH_FXP_NAME && rep.count == 1 &&
	    strcmp(rep.names[0].filename, "/home/overlap") == 0,
	    "%s: REALPATH . answered", what);
	sftp_session_reply_free(&rep);
	ok(get_seen(s, &sn) == 0, "%s: the server reports", what);
	is_int((int)sn.before_reply, 4, "%s: INIT, limits, REALPATH and STAT "
	    "came before VERSION was sent", what);
	is_int((int)sn.realpaths, 1, "%s: one REALPATH in all (the call "
	    "took the prefetched reply)", what);
	sftp_session_close(s);
	is_int(tap_wait_exit(pid), 0, "%s: the server saw an orderly end", what);
}

/* Prefetched replies: taken in order, dropped by any other call. */
static void
test_take_and_drop(void)
{
	struct script sc = { 3, 1, 1, 4 };
	struct sftp_session_reply rep;
	struct sftp_session *s;
	struct seen sn;
	pid_t pid;
	int r;

	s = open_session(&sc, &pid, &r);
	is_int(r, 0, "drop: the session opens");
	/* Another question first: both prefetched replies are dropped. */
	r = sftp_session_call_path(s, SSH_FXP_LSTAT, "/elsewhere", &rep);
	ok(r == 0 && rep.type == SSH_FXP_ATTRS, "drop: LSTAT answered");
	sftp_session_reply_free(&rep);
	ok(!sftp_session_prefetched(s, SSH_FXP_REALPATH, ".") &&
	    !sftp_session_prefetched(s, SSH_FXP_STAT, "/home/overlap/file"),
	    "drop: nothing prefetched is left");
	r = sftp_session_call_path(s, SSH_FXP_REALPATH, ".", &rep);
	ok(r == 0 && rep.type == SSH_FXP_NAME, "drop: REALPATH . answered");
	sftp_session_reply_free(&rep);
	r = sftp_session_call_path(s, SSH_FXP_STAT, "/home/overlap/file",
	    &rep);
	ok(r == 0 && rep.type == SSH_FXP_ATTRS && rep.attrs.size ==
	    FILE_SIZE, "drop: STAT answered");
	sftp_session_reply_free(&rep);
	ok(get_seen(s, &sn) == 0, "drop: the server reports");
	is_int((int)sn.realpaths, 2, "drop: REALPATH was sent again");
	is_int((int)sn.stats, 2, "drop: STAT was sent again");
	is_int((int)sn.first_after, SSH_FXP_LSTAT,
	    "drop: LSTAT was the first request after VERSION");
	sftp_session_close(s);
	is_int(tap_wait_exit(pid), 0, "drop: the server saw an orderly end");
}

/*
 * A download of a file whose STAT went with INIT: after VERSION the
 * first request is OPEN (one round trip less than REALPATH, STAT, OPEN).
 */
static void
test_first_open(void)
{
	struct script sc = { 3, 1, 1, 4 };
	struct sftp_session_reply rep;
	struct sftp_xfer_opts xo;
	struct sftp_session *s;
	struct sftp_xfer *x;
	struct seen sn;
	char lpath[64];
	pid_t pid;
	int r;

	snprintf(lpath, sizeof(lpath), "/tmp/ferry-overlap-%ld",
	    (long)getpid());
	s = open_session(&sc, &pid, &r);
	is_int(r, 0, "get: the session opens");
	r = sftp_session_call_path(s, SSH_FXP_REALPATH, ".", &rep);
	sftp_session_reply_free(&rep);
	ok(r == 0 && sftp_session_prefetched(s, SSH_FXP_STAT,
	    "/home/overlap/file"), "get: the STAT is next");
	r = sftp_session_call_path(s, SSH_FXP_STAT, "/home/overlap/file",
	    &rep);
	ok(r == 0 && rep.type == SSH_FXP_ATTRS, "get: STAT answered");
	memset(&xo, 0, sizeof(xo));
	if ((x = sftp_xfer_new(sftp_session_engine(s), &xo)) == NULL)
		bail("sftp_xfer_new");
	ok(sftp_xfer_get_known(x, "/home/overlap/file", lpath,
	    &rep.attrs) == 0, "get: queued with the known attributes");
	sftp_session_reply_free(&rep);
	is_int(sftp_session_run_xfer(s, x), 0, "get: the transfer ran");
	sftp_xfer_free(x);
	ok(get_seen(s, &sn) == 0, "get: the server reports");
	is_int((int)sn.first_after, SSH_FXP_OPEN,
	    "get: OPEN was the first request after VERSION");
	is_int((int)sn.stats, 1, "get: one STAT in all");
	sftp_session_close(s);
	is_int(tap_wait_exit(pid), 0, "get: the server saw an orderly end");
	unlink(lpath);
}

/* A version we do not speak: the session fails as before. */
static void
test_bad_version(void)
{
	struct script sc = { 2, 1, 1, 4 };
	struct sftp_session *s;
	pid_t pid;
	int r;

	s = open_session(&sc, &pid, &r);
	is_int(r, FERR_PROTOCOL, "version 2: FERR_PROTOCOL");
	ok(s != NULL && strstr(sftp_session_error(s), "version 2") != NULL,
	    "version 2: the error names it (%s)",
	    s != NULL ? sftp_session_error(s) : "");
	sftp_session_close(s);
	is_int(tap_wait_exit(pid), 0, "version 2: the server saw the end");
}

/* Only requests without effects may be prefetched. */
static void
test_bad_prefetch(void)
{
	static const struct sftp_session_prefetch bad[] = {
		{ SSH_FXP_REMOVE, "/x" },
	};
	struct sftp_session_opts o;
	struct sftp_session *s;
	int sv[2], r;

	memset(&o, 0, sizeof(o));
	o.prefetch = bad;
	o.nprefetch = 1;
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		bail("socketpair");
	r = sftp_session_open_fds(sv[0], sv[0], &o, &s);
	is_int(r, FERR_ARGUMENT, "REMOVE cannot be prefetched");
	sftp_session_close(s);
	o.prefetch = early;
	o.nprefetch = SFTP_SESSION_MAX_PREFETCH + 1;
	r = sftp_session_open_fds(sv[1], sv[1], &o, &s);
	is_int(r, FERR_ARGUMENT, "too many prefetched requests");
	sftp_session_close(s);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_limits(1, 1, 4096, "limits advertised");
	test_limits(1, 0, SFTP_CLIENT_DEFAULT_RW, "limits refused");
	test_limits(0, 1, SFTP_CLIENT_DEFAULT_RW, "limits not advertised");
	test_limits(0, 0, SFTP_CLIENT_DEFAULT_RW, "limits unknown");
	test_take_and_drop();
	test_first_open();
	test_bad_version();
	test_bad_prefetch();
	return tap_done();
}
