/*
 * The event loop: poll(2), monotonic timers and a self-pipe for signals.
 * See ferry/evloop.h.
 *
 * Entries removed from inside a callback are only marked and swept after
 * dispatch, so the arrays never shift under a running iteration.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ferry/err.h"
#include "ferry/evloop.h"

/* Signals a loop may own (numbers below this). */
#define EVLOOP_NSIG	65

struct evloop_fd {
	int fd;
	unsigned int events;
	evloop_fd_fn *fn;
	void *ctx;
	int removed;
};

struct evloop_timer {
	uint64_t id;
	uint64_t due;
	uint64_t period;	/* 0: one-shot */
	evloop_timer_fn *fn;
	void *ctx;
	int removed;
};

struct evloop_sig {
	evloop_signal_fn *fn;
	void *ctx;
	struct sigaction old;
};

struct evloop {
	struct evloop_fd *fds;
	size_t nfds, capfds;
	struct evloop_timer *timers;
	size_t ntimers, captimers;
	uint64_t next_timer_id;
	struct pollfd *pfds;
	size_t cappfds;
	struct evloop_sig sigs[EVLOOP_NSIG];
	int stop;
};

/* The self-pipe is process-wide: a signal handler has no context. */
static int evloop_sigpipe[2] = { -1, -1 };

static void
evloop_sighandler(int signo)
{
	int saved = errno;
	unsigned char c = (unsigned char)signo;

	/* A full pipe loses a repeat of a signal already pending: fine. */
	if (write(evloop_sigpipe[1], &c, 1) == -1) {
		/* nothing to do in a handler */
	}
	errno = saved;
}

uint64_t
evloop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
evloop_new(struct evloop **loopp)
{
	struct evloop *loop;

	*loopp = NULL;
	if ((loop = calloc(1, sizeof(*loop))) == NULL)
		return FERR_ALLOC;
	loop->next_timer_id = 1;
	*loopp = loop;
	return 0;
}

void
evloop_free(struct evloop *loop)
{
	int s;

	if (loop == NULL)
		return;
	for (s = 1; s < EVLOOP_NSIG; s++)
		if (loop->sigs[s].fn != NULL)
			sigaction(s, &loop->sigs[s].old, NULL);
	free(loop->fds);
	free(loop->timers);
	free(loop->pfds);
	free(loop);
}

/* Grow an array of n elements of size sz to hold one more. */
static int
evloop_grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 8 : *cap * 2;
	if (ncap > SIZE_MAX / sz || (p = realloc(*arr, ncap * sz)) == NULL)
		return FERR_ALLOC;
	*arr = p;
	*cap = ncap;
	return 0;
}

static struct evloop_fd *
evloop_find_fd(struct evloop *loop, int fd)
{
	size_t i;

	for (i = 0; i < loop->nfds; i++)
		if (loop->fds[i].fd == fd && !loop->fds[i].removed)
			return &loop->fds[i];
	return NULL;
}

int
evloop_add_fd(struct evloop *loop, int fd, unsigned int events,
    evloop_fd_fn *fn, void *ctx)
{
	struct evloop_fd *e;
	int r;

	if (fd < 0 || fn == NULL || evloop_find_fd(loop, fd) != NULL)
		return FERR_ARGUMENT;
	if ((r = evloop_grow((void **)&loop->fds, &loop->capfds, loop->nfds,
	    sizeof(*loop->fds))) != 0)
		return r;
	e = &loop->fds[loop->nfds++];
	e->fd = fd;
	e->events = events;
	e->fn = fn;
	e->ctx = ctx;
	e->removed = 0;
	return 0;
}

int
evloop_set_events(struct evloop *loop, int fd, unsigned int events)
{
	struct evloop_fd *e = evloop_find_fd(loop, fd);

	if (e == NULL)
		return FERR_ARGUMENT;
	e->events = events;
	return 0;
}

int
evloop_del_fd(struct evloop *loop, int fd)
{
	struct evloop_fd *e = evloop_find_fd(loop, fd);

	if (e == NULL)
		return FERR_ARGUMENT;
	e->removed = 1;
	return 0;
}

int
evloop_add_timer(struct evloop *loop, uint64_t ms, int repeat,
    evloop_timer_fn *fn, void *ctx, uint64_t *idp)
{
	struct evloop_timer *t;
	int r;

	if (fn == NULL || (repeat && ms == 0))
		return FERR_ARGUMENT;
	if ((r = evloop_grow((void **)&loop->timers, &loop->captimers,
	    loop->ntimers, sizeof(*loop->timers))) != 0)
		return r;
	t = &loop->timers[loop->ntimers++];
	t->id = loop->next_timer_id++;
	t->due = evloop_now_ms() + ms;
	t->period = repeat ? ms : 0;
	t->fn = fn;
	t->ctx = ctx;
	t->removed = 0;
	if (idp != NULL)
		*idp = t->id;
	return 0;
}

int
evloop_cancel_timer(struct evloop *loop, uint64_t id)
{
	size_t i;

	for (i = 0; i < loop->ntimers; i++)
		if (loop->timers[i].id == id && !loop->timers[i].removed) {
			loop->timers[i].removed = 1;
			return 0;
		}
	return FERR_ARGUMENT;
}

static int
evloop_sigpipe_open(void)
{
	if (evloop_sigpipe[0] != -1)
		return 0;
	if (pipe2(evloop_sigpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		return FERR_SYSTEM;
	return 0;
}

int
evloop_add_signal(struct evloop *loop, int signo, evloop_signal_fn *fn,
    void *ctx)
{
	struct sigaction sa;
	int r;

	if (signo <= 0 || signo >= EVLOOP_NSIG || fn == NULL ||
	    loop->sigs[signo].fn != NULL)
		return FERR_ARGUMENT;
	if ((r = evloop_sigpipe_open()) != 0)
		return r;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = evloop_sighandler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, &loop->sigs[signo].old) == -1)
		return FERR_SYSTEM;
	loop->sigs[signo].fn = fn;
	loop->sigs[signo].ctx = ctx;
	return 0;
}

/* Drop entries marked removed. */
static void
evloop_sweep(struct evloop *loop)
{
	size_t i, j;

	for (i = j = 0; i < loop->nfds; i++)
		if (!loop->fds[i].removed)
			loop->fds[j++] = loop->fds[i];
	loop->nfds = j;
	for (i = j = 0; i < loop->ntimers; i++)
		if (!loop->timers[i].removed)
			loop->timers[j++] = loop->timers[i];
	loop->ntimers = j;
}

/* Milliseconds until the next timer, capped by timeout_ms (-1: none). */
static int
evloop_timeout(struct evloop *loop, int timeout_ms)
{
	uint64_t now = evloop_now_ms(), wait;
	size_t i;

	for (i = 0; i < loop->ntimers; i++) {
		if (loop->timers[i].removed)
			continue;
		wait = loop->timers[i].due > now ? loop->timers[i].due - now : 0;
		if (wait > INT32_MAX)
			wait = INT32_MAX;
		if (timeout_ms < 0 || (int)wait < timeout_ms)
			timeout_ms = (int)wait;
	}
	return timeout_ms;
}

/* The expired timer due first, or NULL. */
static struct evloop_timer *
evloop_next_expired(struct evloop *loop, uint64_t now)
{
	struct evloop_timer *best = NULL;
	size_t i;

	for (i = 0; i < loop->ntimers; i++) {
		struct evloop_timer *t = &loop->timers[i];

		if (t->removed || t->due > now)
			continue;
		if (best == NULL || t->due < best->due ||
		    (t->due == best->due && t->id < best->id))
			best = t;
	}
	return best;
}

/*
 * Run expired timers earliest first, even when a stall let several
 * expire at once.  A repeating timer is rescheduled past now before its
 * callback runs, so each runs at most once per round.
 */
static void
evloop_run_timers(struct evloop *loop)
{
	uint64_t now = evloop_now_ms();
	struct evloop_timer *t;
	evloop_timer_fn *fn;
	void *ctx;

	while ((t = evloop_next_expired(loop, now)) != NULL) {
		if (t->period != 0)
			t->due = now + t->period;
		else
			t->removed = 1;
		fn = t->fn;
		ctx = t->ctx;
		/* The callback may grow the array: t is not used after. */
		fn(loop, ctx);
	}
}

static void
evloop_run_signals(struct evloop *loop)
{
	unsigned char c[64];
	ssize_t n, i;

	while ((n = read(evloop_sigpipe[0], c, sizeof(c))) > 0)
		for (i = 0; i < n; i++)
			if (c[i] < EVLOOP_NSIG && loop->sigs[c[i]].fn != NULL)
				loop->sigs[c[i]].fn(loop, c[i],
				    loop->sigs[c[i]].ctx);
}

int
evloop_run_once(struct evloop *loop, int timeout_ms)
{
	size_t i, n = 0, base;
	unsigned int ev;
	struct evloop_fd *e;

	/* One slot more than the descriptors, for the signal pipe. */
	if (loop->cappfds < loop->nfds + 1) {
		struct pollfd *p = realloc(loop->pfds,
		    (loop->nfds + 1) * sizeof(*p));

		if (p == NULL)
			return FERR_ALLOC;
		loop->pfds = p;
		loop->cappfds = loop->nfds + 1;
	}
	base = evloop_sigpipe[0] != -1 ? 1 : 0;
	if (base) {
		loop->pfds[0].fd = evloop_sigpipe[0];
		loop->pfds[0].events = POLLIN;
		loop->pfds[0].revents = 0;
	}
	for (i = 0; i < loop->nfds; i++, n++) {
		e = &loop->fds[i];
		loop->pfds[base + i].fd = e->removed ? -1 : e->fd;
		loop->pfds[base + i].events =
		    (short)(((e->events & EVLOOP_READ) ? POLLIN : 0) |
		    ((e->events & EVLOOP_WRITE) ? POLLOUT : 0));
		loop->pfds[base + i].revents = 0;
	}
	if (poll(loop->pfds, base + n, evloop_timeout(loop, timeout_ms)) == -1 &&
	    errno != EINTR)
		return FERR_SYSTEM;
	evloop_run_timers(loop);
	if (base)
		evloop_run_signals(loop);
	for (i = 0; i < n; i++) {
		short re = loop->pfds[base + i].revents;

		e = &loop->fds[i];
		if (re == 0 || e->removed || e->fd != loop->pfds[base + i].fd)
			continue;
		ev = ((re & POLLIN) ? EVLOOP_READ : 0) |
		    ((re & POLLOUT) ? EVLOOP_WRITE : 0) |
		    ((re & (POLLERR | POLLHUP | POLLNVAL)) ? EVLOOP_ERROR : 0);
		e->fn(loop, e->fd, ev, e->ctx);
	}
	evloop_sweep(loop);
	return 0;
}

int
evloop_run(struct evloop *loop)
{
	int r;

	loop->stop = 0;
	while (!loop->stop && (loop->nfds > 0 || loop->ntimers > 0)) {
		if ((r = evloop_run_once(loop, -1)) != 0)
			return r;
	}
	return 0;
}

void
evloop_stop(struct evloop *loop)
{
	loop->stop = 1;
}
