/*
 * Unit tests for the event loop: readiness, removal from callbacks,
 * timer order and repetition, signals as events.  No assertion depends on
 * how long anything takes, only on order and counts.
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "ferry/err.h"
#include "ferry/evloop.h"
#include "tap.h"

static char order[32];
static size_t norder;
static int reads, fired, sigs;

static void
on_read(struct evloop *loop, int fd, unsigned int events, void *ctx)
{
	char c;

	(void)ctx;
	if ((events & EVLOOP_READ) && read(fd, &c, 1) == 1)
		reads++;
	/* Remove ourselves from inside the callback. */
	if (reads == 2 && evloop_del_fd(loop, fd) != 0)
		reads = -100;
}

static void
on_timer(struct evloop *loop, void *ctx)
{
	(void)loop;
	if (norder < sizeof(order) - 1)
		order[norder++] = *(const char *)ctx;
}

static void
on_repeat(struct evloop *loop, void *ctx)
{
	if (++fired == 3)
		evloop_stop(loop);
	(void)ctx;
}

static void
on_signal(struct evloop *loop, int signo, void *ctx)
{
	(void)ctx;
	if (signo == SIGUSR1)
		sigs++;
	evloop_stop(loop);
}

int
main(void)
{
	struct evloop *loop;
	uint64_t id, cancelled;
	int p[2], i;

	ok(evloop_new(&loop) == 0, "new loop");
	if (pipe(p) != 0)
		return 1;
	ok(evloop_add_fd(loop, p[0], EVLOOP_READ, on_read, NULL) == 0, "watch a pipe");
	is_int(evloop_add_fd(loop, p[0], EVLOOP_READ, on_read, NULL), FERR_ARGUMENT,
	    "a descriptor is watched once");
	ok(write(p[1], "abc", 3) == 3, "data written");
	for (i = 0; i < 5; i++)
		if (evloop_run_once(loop, 0) != 0)
			break;
	is_int(reads, 2, "two reads, then the callback removed its descriptor");
	is_int(evloop_del_fd(loop, p[0]), FERR_ARGUMENT, "it is gone");
	ok(evloop_add_fd(loop, p[0], 0, on_read, NULL) == 0 &&
	    evloop_run_once(loop, 0) == 0 && reads == 2,
	    "a paused descriptor is not dispatched");
	ok(evloop_set_events(loop, p[0], EVLOOP_READ) == 0 &&
	    evloop_run_once(loop, 0) == 0 && reads == 3, "resumed, it is");
	ok(evloop_del_fd(loop, p[0]) == 0, "unwatch");

	ok(evloop_add_timer(loop, 30, 0, on_timer, "c", NULL) == 0 &&
	    evloop_add_timer(loop, 1, 0, on_timer, "a", NULL) == 0 &&
	    evloop_add_timer(loop, 10, 0, on_timer, "b", NULL) == 0 &&
	    evloop_add_timer(loop, 20, 0, on_timer, "x", &cancelled) == 0,
	    "four timers");
	ok(evloop_cancel_timer(loop, cancelled) == 0, "cancel one");
	is_int(evloop_cancel_timer(loop, cancelled), FERR_ARGUMENT,
	    "cancelling twice fails");
	ok(evloop_run(loop) == 0, "run until no work is left");
	ok(strcmp(order, "abc") == 0, "timers fire in order of expiry (%s)", order);
	ok(evloop_add_timer(loop, 2, 1, on_repeat, NULL, &id) == 0 &&
	    evloop_run(loop) == 0 && fired == 3, "a repeating timer fires until stopped");
	ok(evloop_cancel_timer(loop, id) == 0, "and can then be cancelled");
	is_int(evloop_add_timer(loop, 0, 1, on_repeat, NULL, NULL), FERR_ARGUMENT,
	    "a repeating timer needs a period");

	ok(evloop_add_signal(loop, SIGUSR1, on_signal, NULL) == 0, "watch SIGUSR1");
	ok(evloop_add_timer(loop, 100000, 0, on_timer, "z", NULL) == 0, "a far timer");
	raise(SIGUSR1);
	ok(evloop_run(loop) == 0 && sigs == 1, "the signal arrives as an event");
	is_int(evloop_add_signal(loop, SIGUSR1, on_signal, NULL), FERR_ARGUMENT,
	    "a signal is owned once");
	evloop_free(loop);
	close(p[0]);
	close(p[1]);
	return tap_done();
}
