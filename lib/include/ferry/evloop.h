/*
 * A small event loop for the programs: descriptors watched with poll(2),
 * one-shot and repeating timers on the monotonic clock, and signals turned
 * into ordinary events through a self-pipe (the handler only writes a
 * byte, which is async-signal-safe).  The sans-I/O engines never see it:
 * programs use it to move bytes between sockets and engines.
 *
 * Callbacks may add or remove descriptors and timers, including their
 * own, and may call evloop_stop().  Not thread-safe; one loop per process
 * may own signals.
 */
#ifndef FERRY_EVLOOP_H
#define FERRY_EVLOOP_H

#include <stdint.h>

#include "ferry/buf.h"

struct evloop;

#define EVLOOP_READ	0x01
#define EVLOOP_WRITE	0x02
#define EVLOOP_ERROR	0x04	/* reported only: hang-up or error */

typedef void evloop_fd_fn(struct evloop *loop, int fd, unsigned int events,
    void *ctx);
typedef void evloop_timer_fn(struct evloop *loop, void *ctx);
typedef void evloop_signal_fn(struct evloop *loop, int signo, void *ctx);

/* A new loop; FERR_ALLOC or FERR_SYSTEM on failure. */
int evloop_new(struct evloop **loopp) FERRY_WUR;

/* Release the loop; restores default handling of its signals. */
void evloop_free(struct evloop *loop);

/*
 * Watch fd for events (EVLOOP_READ and/or EVLOOP_WRITE); fn is called
 * with what is ready.  An fd already watched is FERR_ARGUMENT.
 */
int evloop_add_fd(struct evloop *loop, int fd, unsigned int events,
    evloop_fd_fn *fn, void *ctx) FERRY_WUR;
/* Change the events of a watched fd (0 pauses it). */
int evloop_set_events(struct evloop *loop, int fd, unsigned int events)
    FERRY_WUR;
/* Stop watching fd (it is not closed); FERR_ARGUMENT if not watched. */
int evloop_del_fd(struct evloop *loop, int fd) FERRY_WUR;

/*
 * Call fn after ms milliseconds, and then every ms milliseconds when
 * repeat is set.  *idp (may be NULL) gets an id for evloop_cancel_timer.
 */
int evloop_add_timer(struct evloop *loop, uint64_t ms, int repeat,
    evloop_timer_fn *fn, void *ctx, uint64_t *idp) FERRY_WUR;
/* Cancel a timer; FERR_ARGUMENT for an unknown or finished one. */
int evloop_cancel_timer(struct evloop *loop, uint64_t id) FERRY_WUR;

/*
 * Deliver signo as an event: fn runs from the loop, not from the signal
 * handler.  SA_RESTART is not used, so blocking calls see EINTR.
 */
int evloop_add_signal(struct evloop *loop, int signo, evloop_signal_fn *fn,
    void *ctx) FERRY_WUR;

/*
 * Wait at most timeout_ms (-1: until something happens) and dispatch what
 * is ready: expired timers, signals, then descriptors.  0 or FERR_SYSTEM.
 */
int evloop_run_once(struct evloop *loop, int timeout_ms) FERRY_WUR;

/* Dispatch until evloop_stop() is called or nothing is watched. */
int evloop_run(struct evloop *loop) FERRY_WUR;
void evloop_stop(struct evloop *loop);

/* Milliseconds on the monotonic clock. */
uint64_t evloop_now_ms(void);

#endif /* FERRY_EVLOOP_H */
