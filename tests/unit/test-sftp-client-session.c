/*
 * SFTP sessions over descriptors (lib/sftp-session.c): against the
 * server engine run in a child process on a socketpair (one descriptor
 * both ways) and on two pipes: the opening exchange with limits, blocking
 * calls of each kind, transfers both ways with equal contents, a
 * transfer cancelled through the interrupt flag, -l pacing, and the
 * session's end when the server goes away or never answers.  The
 * channel mode is exercised against real servers by
 * tests/regress/fsftp-inproc.sh.
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
#include <time.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/sftp.h"
#include "ferry/sftp-client.h"
#include "ferry/sftp-server.h"
#include "ferry/sftp-session.h"
#include "tap.h"

#define is_str(got, want, ...) \
	ok(strcmp((got), (want)) == 0, __VA_ARGS__)

static char root[256];
static volatile sig_atomic_t intr;

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

/* The server engine on in_fd/out_fd until EOF. */
static void
serve(int in_fd, int out_fd)
{
	struct sftp_server_opts o;
	struct sftp_server *s;
	struct buf *out;
	uint8_t rb[65536];
	ssize_t n;
	size_t want;

	memset(&o, 0, sizeof(o));
	o.root = root;
	o.start_dir = "/";
	if ((s = sftp_server_new(&o)) == NULL)
		_exit(2);
	out = sftp_server_output(s);
	for (;;) {
		while (buf_len(out) > 0) {
			n = write(out_fd, buf_ptr(out), buf_len(out));
			if (n <= 0 || buf_consume(out, (size_t)n) != 0)
				_exit(3);
			if (sftp_server_process(s) != 0)
				_exit(4);
		}
		want = sftp_server_input_space(s);
		if (want > sizeof(rb))
			want = sizeof(rb);
		if (want == 0)
			_exit(5);
		if ((n = read(in_fd, rb, want)) <= 0)
			break;
		if (sftp_server_input(s, rb, (size_t)n) != 0)
			_exit(6);
	}
	sftp_server_free(s);
	_exit(0);
}

/* A server child: on one socket (pipes == 0) or on two pipes. */
static pid_t
start_server(int pipes, int *in_fdp, int *out_fdp)
{
	int a[2], b[2];
	pid_t pid;

	if (!pipes) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) != 0)
			return -1;
		if ((pid = fork()) == 0) {
			close(a[0]);
			serve(a[1], a[1]);
		}
		close(a[1]);
		*in_fdp = *out_fdp = a[0];
		return pid;
	}
	if (pipe(a) != 0 || pipe(b) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		close(a[1]);
		close(b[0]);
		serve(a[0], b[1]);
	}
	close(a[0]);
	close(b[1]);
	*out_fdp = a[1];
	*in_fdp = b[0];
	return pid;
}

static int
write_file(const char *path, size_t len)
{
	uint8_t *p;
	size_t i;
	int fd, r = -1;

	if ((p = malloc(len + 1)) == NULL)
		return -1;
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + i / 251);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0) {
		if (write(fd, p, len) == (ssize_t)len)
			r = 0;
		close(fd);
	}
	free(p);
	return r;
}

/* Whether two files have equal contents. */
static int
same_file(const char *a, const char *b)
{
	FILE *fa, *fb;
	int ca, cb;

	if ((fa = fopen(a, "r")) == NULL)
		return 0;
	if ((fb = fopen(b, "r")) == NULL) {
		fclose(fa);
		return 0;
	}
	do {
		ca = getc(fa);
		cb = getc(fb);
	} while (ca == cb && ca != EOF);
	fclose(fa);
	fclose(fb);
	return ca == cb;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
progress_intr(void *arg, const char *name, uint64_t done, uint64_t total,
    int finished)
{
	(void)arg;
	(void)name;
	(void)total;
	(void)finished;
	if (done > 0)
		intr = 1;
}

static struct sftp_xfer *
new_xfer(struct sftp_session *s, sftp_xfer_progress_fn *progress)
{
	struct sftp_xfer_opts xo;

	memset(&xo, 0, sizeof(xo));
	xo.req_size = 4096;
	xo.max_requests = 2;
	xo.progress = progress;
	return sftp_xfer_new(sftp_session_engine(s), &xo);
}

static void
test_calls(int pipes)
{
	struct sftp_session_opts o;
	struct sftp_session_reply rep, crep;
	struct sftp_session *s;
	struct sftp_client *c;
	struct sftp_xfer *x;
	struct buf *b;
	char lpath[512], lback[512], rpath[512];
	uint8_t h[256];
	size_t hlen = 0;
	int in_fd, out_fd, r;
	const char *what = pipes ? "pipes" : "socket";
	pid_t pid;

	memset(&o, 0, sizeof(o));
	o.interrupted = &intr;
	if ((pid = start_server(pipes, &in_fd, &out_fd)) < 0)
		bail("cannot start the server");
	r = sftp_session_open_fds(in_fd, out_fd, &o, &s);
	is_int(r, 0, "%s: open exchanges INIT/VERSION", what);
	c = sftp_session_engine(s);
	is_int((int)sftp_client_version(c), 3, "%s: version 3", what);
	is_int(sftp_client_inflight(c), 0,
	    "%s: the limits request was answered", what);
	ok(sftp_client_rw_size(c) >= SFTP_CLIENT_DEFAULT_RW,
	    "%s: read/write size from limits@openssh.com: %zu", what,
	    sftp_client_rw_size(c));

	r = sftp_session_call_path(s, SSH_FXP_REALPATH, ".", &rep);
	ok(r == 0 && rep.type == SSH_FXP_NAME && rep.count == 1 &&
	    strcmp(rep.names[0].filename, "/") == 0,
	    "%s: call_path REALPATH . is /", what);
	sftp_session_reply_free(&rep);
	ok(rep.names == NULL && rep.count == 0, "%s: reply_free clears", what);
	r = sftp_session_call_path(s, SSH_FXP_STAT, "/nothere", &rep);
	ok(r == 0 && rep.type == SSH_FXP_STATUS &&
	    rep.status == SSH_FX_NO_SUCH_FILE,
	    "%s: STAT of a missing file is NO_SUCH_FILE", what);
	sftp_session_reply_free(&rep);

	/* call_end: a request built by the caller (MKDIR with attrs). */
	if (sftp_client_begin(c, SSH_FXP_MKDIR, NULL, &b) != 0 ||
	    buf_put_cstring(b, "/dir") != 0 || buf_put_u32(b, 0) != 0)
		bail("cannot build MKDIR");
	r = sftp_session_call_end(s, &rep);
	ok(r == 0 && rep.type == SSH_FXP_STATUS && rep.status == SSH_FX_OK,
	    "%s: call_end MKDIR", what);
	sftp_session_reply_free(&rep);

	/* call_handle: OPENDIR, READDIR, CLOSE. */
	r = sftp_session_call_path(s, SSH_FXP_OPENDIR, "/", &rep);
	ok(r == 0 && rep.type == SSH_FXP_HANDLE && rep.len <= sizeof(h),
	    "%s: OPENDIR gives a handle", what);
	if (rep.type == SSH_FXP_HANDLE && rep.len <= sizeof(h)) {
		memcpy(h, rep.data, rep.len);
		hlen = rep.len;
	}
	sftp_session_reply_free(&rep);
	r = sftp_session_call_handle(s, SSH_FXP_READDIR, h, hlen, &rep);
	ok(r == 0 && rep.type == SSH_FXP_NAME && rep.count >= 1,
	    "%s: call_handle READDIR lists %u names", what, rep.count);
	sftp_session_reply_free(&rep);
	r = sftp_session_call_handle(s, SSH_FXP_CLOSE, h, hlen, &crep);
	ok(r == 0 && crep.type == SSH_FXP_STATUS && crep.status == SSH_FX_OK,
	    "%s: CLOSE", what);
	sftp_session_reply_free(&crep);

	/* Transfers both ways. */
	snprintf(lpath, sizeof(lpath), "%s.local", root);
	snprintf(lback, sizeof(lback), "%s.back", root);
	snprintf(rpath, sizeof(rpath), "%s/up", root);
	if (write_file(lpath, 261121) != 0)
		bail("cannot write %s", lpath);
	if ((x = new_xfer(s, NULL)) == NULL || sftp_xfer_put(x, lpath,
	    "/up") != 0)
		bail("cannot queue a put");
	r = sftp_session_run_xfer(s, x);
	ok(r == 0 && sftp_xfer_failures(x) == 0 && same_file(lpath, rpath),
	    "%s: run_xfer put of 261121 bytes", what);
	sftp_xfer_free(x);
	if ((x = new_xfer(s, NULL)) == NULL || sftp_xfer_get(x, "/up",
	    lback) != 0)
		bail("cannot queue a get");
	r = sftp_session_run_xfer(s, x);
	ok(r == 0 && sftp_xfer_failures(x) == 0 && same_file(lpath, lback),
	    "%s: run_xfer get back", what);
	sftp_xfer_free(x);

	/* The interrupt flag cancels a running transfer (set by progress). */
	unlink(lback);
	intr = 1;
	if ((x = new_xfer(s, progress_intr)) == NULL ||
	    sftp_xfer_get(x, "/up", lback) != 0)
		bail("cannot queue a get");
	intr = 1;
	r = sftp_session_run_xfer(s, x);
	ok(r == 0 && sftp_xfer_failures(x) == 1 && sftp_xfer_done(x),
	    "%s: the interrupt flag cancels the transfer (the flag is "
	    "cleared at the start, set again by progress)", what);
	sftp_xfer_free(x);
	is_int(sftp_client_inflight(c), 0, "%s: nothing left in flight",
	    what);
	r = sftp_session_call_path(s, SSH_FXP_STAT, "/up", &rep);
	ok(r == 0 && rep.type == SSH_FXP_ATTRS && rep.attrs.size == 261121,
	    "%s: the session goes on after a cancel", what);
	sftp_session_reply_free(&rep);
	is_str(sftp_session_error(s), "", "%s: no error so far", what);

	/* The server goes away: calls fail, the error says so. */
	if (pipes)
		kill(pid, SIGKILL);
	else
		shutdown(in_fd, SHUT_WR);
	r = sftp_session_call_path(s, SSH_FXP_STAT, "/up", &rep);
	ok(r < 0, "%s: a call after the server left fails (%s)", what,
	    err_name(r) != NULL ? err_name(r) : "?");
	sftp_session_reply_free(&rep);
	is_str(sftp_session_error(s), "Connection closed",
	    "%s: sftp_session_error says Connection closed", what);
	ok(sftp_client_error(c) != 0, "%s: the engine's session is over",
	    what);
	r = sftp_session_call_path(s, SSH_FXP_STAT, "/up", &rep);
	ok(r < 0, "%s: later calls fail at once", what);
	sftp_session_reply_free(&rep);
	sftp_session_close(s);
	tap_wait_exit(pid);
	unlink(lpath);
	unlink(lback);
	unlink(rpath);
	snprintf(rpath, sizeof(rpath), "%s/dir", root);
	rmdir(rpath);
}

static void
test_limit(void)
{
	struct sftp_session_opts o;
	struct sftp_session *s;
	struct sftp_xfer *x;
	char lpath[512];
	uint64_t t0, ms;
	int in_fd, out_fd, r;
	pid_t pid;

	memset(&o, 0, sizeof(o));
	o.limit_bps = 200000;
	if ((pid = start_server(1, &in_fd, &out_fd)) < 0)
		bail("cannot start the server");
	t0 = now_ms();
	if (sftp_session_open_fds(in_fd, out_fd, &o, &s) != 0)
		bail("open");
	snprintf(lpath, sizeof(lpath), "%s.lim", root);
	if (write_file(lpath, 100000) != 0)
		bail("cannot write %s", lpath);
	if ((x = new_xfer(s, NULL)) == NULL ||
	    sftp_xfer_put(x, lpath, "/lim") != 0)
		bail("cannot queue");
	r = sftp_session_run_xfer(s, x);
	sftp_xfer_free(x);
	ms = now_ms() - t0;
	/*
	 * Only a lower bound: unlimited, 100 kB take milliseconds, while a
	 * loaded machine (CI, ASan) may take any time longer.
	 */
	ok(r == 0 && ms >= 400,
	    "-l 200000 B/s: 100 kB up take at least 0.4 s (%llu ms)",
	    (unsigned long long)ms);
	sftp_session_close(s);
	is_int(tap_wait_exit(pid), 0, "the server saw an orderly end");
	unlink(lpath);
	snprintf(lpath, sizeof(lpath), "%s/lim", root);
	unlink(lpath);
}

static void
test_no_server(void)
{
	struct sftp_session *s;
	int p[2], q[2], r;

	/* A transport that exits at once (its pipe ends closed). */
	if (pipe(p) != 0 || pipe(q) != 0)
		bail("pipe");
	close(p[1]);
	close(q[0]);
	r = sftp_session_open_fds(p[0], q[1], NULL, &s);
	is_int(r, FERR_CONN_CLOSED,
	    "a transport that is gone: FERR_CONN_CLOSED");
	ok(s != NULL && strcmp(sftp_session_error(s), "Connection closed") == 0,
	    "... with \"Connection closed\"");
	sftp_session_close(s);
	sftp_session_close(NULL);
	ok(1, "sftp_session_close(NULL) is harmless");
}

int
main(void)
{
	snprintf(root, sizeof(root), "/tmp/ferry-sess-%ld", (long)getpid());
	if (mkdir(root, 0700) != 0)
		bail("mkdir %s: %s", root, strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	test_calls(0);
	test_calls(1);
	test_limit();
	test_no_server();
	rmdir(root);
	return tap_done();
}
