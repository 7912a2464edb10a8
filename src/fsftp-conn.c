/*
 * fsftp's connection: the transport program (ssh, -S program or -D
 * server) on two pipes, and the loop moving bytes between the pipes and
 * the client engine.  Ferry's in-process SSH client replaces the ssh
 * program in a later release; the engine does not change.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "fsftp.h"
#include "prog.h"

#define CONN_READ_SIZE	(256 * 1024)

static uint64_t
conn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int
conn_spawn(struct conn *cn, char *const argv[])
{
	int to[2], from[2];

	if (pipe(to) != 0 || pipe(from) != 0) {
		log_error("pipe: %s", strerror(errno));
		return -1;
	}
	switch ((cn->pid = fork())) {
	case -1:
		log_error("fork: %s", strerror(errno));
		return -1;
	case 0:
		if (dup2(to[0], STDIN_FILENO) < 0 ||
		    dup2(from[1], STDOUT_FILENO) < 0)
			_exit(255);
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		/* Keep ^C for the client: the transport ignores it. */
		signal(SIGINT, SIG_IGN);
		execvp(argv[0], argv);
		fprintf(stderr, "exec: %s: %s\n", argv[0], strerror(errno));
		_exit(1);
	default:
		break;
	}
	close(to[0]);
	close(from[1]);
	cn->out_fd = to[1];
	cn->in_fd = from[0];
	fcntl(cn->in_fd, F_SETFD, FD_CLOEXEC);
	fcntl(cn->out_fd, F_SETFD, FD_CLOEXEC);
	cn->start_ns = conn_now();
	return 0;
}

static int
conn_ready_cb(void *arg)
{
	struct conn *cn = arg;

	return sftp_client_ready(cn->c);
}

static int
conn_limits_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct conn *cn = arg;

	if (rep->type == SSH_FXP_EXTENDED_REPLY &&
	    sftp_client_set_limits(cn->c, rep->data, rep->len) != 0)
		log_error("malformed limits@openssh.com reply: ignored");
	return 0;
}

static int
conn_idle_cb(void *arg)
{
	struct conn *cn = arg;

	return sftp_client_inflight(cn->c) == 0;
}

int
conn_init(struct conn *cn)
{
	struct buf *b;

	if (conn_pump(cn, conn_ready_cb, cn) != 0)
		return -1;
	if (!sftp_client_has_ext(cn->c, "limits@openssh.com", "1", NULL))
		return 0;
	if (sftp_client_begin(cn->c, SSH_FXP_EXTENDED, "limits@openssh.com",
	    &b) != 0 || sftp_client_end(cn->c, 0, conn_limits_cb, cn,
	    NULL) != 0)
		return -1;
	return conn_pump(cn, conn_idle_cb, cn);
}

/* How long -l wants us to wait before sending more, in ms. */
static int
conn_throttle_ms(struct conn *cn)
{
	uint64_t elapsed, due;

	if (cn->limit_bps == 0)
		return 0;
	elapsed = conn_now() - cn->start_ns;
	due = cn->sent * 1000000000ULL / cn->limit_bps;
	if (due <= elapsed)
		return 0;
	return (int)((due - elapsed) / 1000000ULL) + 1;
}

int
conn_pump(struct conn *cn, int (*done)(void *), void *arg)
{
	struct buf *out = sftp_client_output(cn->c);
	struct pollfd pfd[2];
	uint8_t *rb;
	ssize_t n;
	size_t want;
	int r, wait_ms, rc = -1;

	if ((rb = malloc(CONN_READ_SIZE)) == NULL)
		return -1;
	while (!done(arg)) {
		if (sftp_client_error(cn->c) != 0)
			goto out;
		/* -l: neither send nor receive while ahead of the rate. */
		wait_ms = conn_throttle_ms(cn);
		pfd[0].fd = cn->in_fd;
		pfd[0].events = wait_ms == 0 ? POLLIN : 0;
		pfd[1].fd = cn->out_fd;
		pfd[1].events = buf_len(out) > 0 && wait_ms == 0 ? POLLOUT : 0;
		if (poll(pfd, 2, wait_ms > 0 ? wait_ms : -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			goto out;
		}
		if (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP)) {
			want = buf_len(out);
			if (cn->limit_bps != 0 && want > 16384)
				want = 16384;
			n = write(cn->out_fd, buf_ptr(out), want);
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				/* The caller says "Connection closed". */
				sftp_client_eof(cn->c);
				goto out;
			}
			if (n > 0) {
				if (buf_consume(out, (size_t)n) != 0)
					goto out;
				cn->sent += (uint64_t)n;
			}
		}
		if (pfd[0].revents & (POLLIN | POLLERR | POLLHUP)) {
			n = read(cn->in_fd, rb, cn->limit_bps != 0 ? 16384 :
			    CONN_READ_SIZE);
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				sftp_client_eof(cn->c);
				goto out;
			}
			cn->sent += (uint64_t)n;
			r = sftp_client_input(cn->c, rb, (size_t)n);
			if (r != 0 && sftp_client_error(cn->c) != 0) {
				log_error("Connection closed: %s",
				    sftp_client_error_msg(cn->c));
				goto out;
			}
			if (r != 0) {
				log_error("%s", err_str(r));
				goto out;
			}
		}
	}
	rc = 0;
 out:
	free(rb);
	return rc;
}

volatile sig_atomic_t conn_interrupted;

struct conn_xfer_wait {
	struct conn *cn;
	struct sftp_xfer *x;
	int err;
	int cancelled;
};

static int
conn_xfer_done(void *arg)
{
	struct conn_xfer_wait *w = arg;

	if (conn_interrupted && !w->cancelled) {
		w->cancelled = 1;
		sftp_xfer_cancel(w->x);
	}
	if ((w->err = sftp_xfer_step(w->x)) != 0)
		return 1;
	return sftp_xfer_done(w->x);
}

int
conn_run_xfer(struct conn *cn, struct sftp_xfer *x)
{
	struct conn_xfer_wait w = { cn, x, 0, 0 };

	conn_interrupted = 0;

	if (conn_pump(cn, conn_xfer_done, &w) != 0)
		return -1;
	/*
	 * A scheduler failure leaves requests whose callbacks point into
	 * the set: the session cannot go on safely.
	 */
	if (w.err != 0 && sftp_client_error(cn->c) == 0)
		fatal_r(w.err, "transfer");
	if (w.err != 0)
		return -1;
	return sftp_xfer_failures(x) == 0 ? 0 : -1;
}

/* ---- Blocking calls ---- */

struct conn_wait {
	int done;
	struct conn_reply *rep;
};

static int
conn_copy_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct conn_wait *w = arg;
	struct conn_reply *o = w->rep;
	uint32_t i;

	w->done = 1;
	o->type = rep->type;
	o->status = rep->status;
	o->attrs = rep->attrs;
	if (rep->errmsg != NULL && (o->errmsg = strdup(rep->errmsg)) == NULL)
		return FERR_ALLOC;
	if (rep->len > 0) {
		if ((o->data = malloc(rep->len)) == NULL)
			return FERR_ALLOC;
		memcpy(o->data, rep->data, rep->len);
		o->len = rep->len;
	}
	if (rep->type == SSH_FXP_NAME) {
		if ((o->names = calloc(rep->count + 1,
		    sizeof(*o->names))) == NULL)
			return FERR_ALLOC;
		for (i = 0; i < rep->count; i++) {
			o->names[i].attrs = rep->names[i].attrs;
			if ((o->names[i].filename =
			    strdup(rep->names[i].filename)) == NULL ||
			    (o->names[i].longname =
			    strdup(rep->names[i].longname)) == NULL)
				return FERR_ALLOC;
			o->count = i + 1;
		}
	}
	return 0;
}

static int
conn_wait_done(void *arg)
{
	struct conn_wait *w = arg;

	return w->done;
}

static struct conn_wait conn_pending;

int
conn_call_end(struct conn *cn, struct conn_reply *rep)
{
	memset(rep, 0, sizeof(*rep));
	conn_pending.done = 0;
	conn_pending.rep = rep;
	if (sftp_client_end(cn->c, 0, conn_copy_cb, &conn_pending,
	    NULL) != 0)
		return -1;
	if (conn_pump(cn, conn_wait_done, &conn_pending) != 0)
		return -1;
	return 0;
}

int
conn_call_path(struct conn *cn, uint8_t type, const char *path,
    struct conn_reply *rep)
{
	struct buf *b;

	if (sftp_client_begin(cn->c, type, NULL, &b) != 0)
		return -1;
	if (buf_put_cstring(b, path) != 0) {
		sftp_client_abort(cn->c);
		return -1;
	}
	return conn_call_end(cn, rep);
}

int
conn_call_handle(struct conn *cn, uint8_t type, const uint8_t *h,
    size_t hlen, struct conn_reply *rep)
{
	struct buf *b;

	if (sftp_client_begin(cn->c, type, NULL, &b) != 0)
		return -1;
	if (buf_put_string(b, h, hlen) != 0) {
		sftp_client_abort(cn->c);
		return -1;
	}
	return conn_call_end(cn, rep);
}

void
conn_reply_free(struct conn_reply *rep)
{
	uint32_t i;

	free(rep->errmsg);
	free(rep->data);
	for (i = 0; i < rep->count; i++) {
		free(rep->names[i].filename);
		free(rep->names[i].longname);
	}
	free(rep->names);
	memset(rep, 0, sizeof(*rep));
}

void
conn_close(struct conn *cn)
{
	int status;

	if (cn->out_fd >= 0)
		close(cn->out_fd);
	if (cn->in_fd >= 0)
		close(cn->in_fd);
	cn->in_fd = cn->out_fd = -1;
	if (cn->pid > 0) {
		while (waitpid(cn->pid, &status, 0) < 0 && errno == EINTR)
			;
		cn->pid = -1;
	}
}
