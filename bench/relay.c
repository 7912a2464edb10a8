/*
 * relay: a TCP relay on loopback that emulates a long, thin link, because
 * the kernel's netem is not available everywhere.
 *
 *   relay -l LISTEN_PORT -t TARGET_PORT [-d ONE_WAY_MS] [-r KBIT_PER_S]
 *	[-p PORTFILE] [-s STATSFILE]
 *
 * Every accepted connection is joined to 127.0.0.1:TARGET_PORT.  Data in
 * each direction is held for ONE_WAY_MS after it arrives (so the round
 * trip gains twice that) and, with -r, released no faster than the rate.
 * Data in flight is not serialised: a chunk's delay runs from its own
 * arrival, as on a real path, so a full window costs one round trip, not
 * one per chunk.  With -l 0 the port chosen is written to PORTFILE.
 * With -s, a line per 100 ms goes to STATSFILE: milliseconds since the
 * start, then for each direction (client to target, back) the bytes
 * released in that interval and the bytes held.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RELAY_MAX_CONNS	64
#define RELAY_CHUNK	65536
/* Longest burst the rate cap allows after an idle spell. */
#define RELAY_BURST_US	10000
/* Bytes held per direction before reading pauses (back-pressure). */
#define RELAY_HOLD_MAX	(64u * 1024 * 1024)

struct relay_chunk {
	struct relay_chunk *next;
	uint64_t due_us;	/* when it may leave */
	size_t len, off;
	unsigned char data[];
};

struct relay_dir {
	int from, to;
	struct relay_chunk *head, *tail;
	size_t held;
	int eof;		/* reader saw EOF; shut the writer when drained */
	int blocked;		/* the last write would have blocked */
	double tokens;		/* rate cap: bytes that may leave now */
	uint64_t last_us;
	uint64_t sent;		/* released since the last stats line */
};

struct relay_conn {
	int used;
	struct relay_dir dir[2];	/* 0: client->target, 1: back */
};

static struct relay_conn conns[RELAY_MAX_CONNS];
static uint64_t delay_us;
static double rate_bps;		/* bytes per second; 0: unlimited */
static FILE *stats;		/* -s: the timeline */
static uint64_t stats_start, stats_next;
#ifndef RELAY_STATS_US
#define RELAY_STATS_US	100000
#endif

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void
die(const char *what)
{
	fprintf(stderr, "relay: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int
connect_target(int port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void
conn_close(struct relay_conn *c)
{
	struct relay_chunk *ch, *next;
	int i;

	for (i = 0; i < 2; i++)
		for (ch = c->dir[i].head; ch != NULL; ch = next) {
			next = ch->next;
			free(ch);
		}
	close(c->dir[0].from);
	close(c->dir[0].to);
	memset(c, 0, sizeof(*c));
}

/* Read what is there into a new chunk stamped with its due time. */
static int
dir_read(struct relay_dir *d)
{
	struct relay_chunk *ch;
	ssize_t n;

	if ((ch = malloc(sizeof(*ch) + RELAY_CHUNK)) == NULL)
		return -1;
	n = read(d->from, ch->data, RELAY_CHUNK);
	if (n <= 0) {
		free(ch);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 0;
		d->eof = 1;
		return 0;
	}
	ch->next = NULL;
	ch->len = (size_t)n;
	ch->off = 0;
	ch->due_us = now_us() + delay_us;
	if (d->tail != NULL)
		d->tail->next = ch;
	else
		d->head = ch;
	d->tail = ch;
	d->held += (size_t)n;
	return 0;
}

/* Send what is due and allowed by the rate; -1 on a dead peer. */
static int
dir_write(struct relay_dir *d)
{
	struct relay_chunk *ch;
	uint64_t now = now_us();
	size_t want;
	ssize_t n;

	/*
	 * The bucket holds at most RELAY_BURST_US of the rate (plus a
	 * chunk): enough to ride out the relay's own scheduling delays, too
	 * little for an idle spell to buy a burst above the link rate.
	 */
	if (rate_bps > 0) {
		d->tokens += (double)(now - d->last_us) * rate_bps / 1e6;
		if (d->tokens > rate_bps * RELAY_BURST_US / 1e6 + RELAY_CHUNK)
			d->tokens = rate_bps * RELAY_BURST_US / 1e6 +
			    RELAY_CHUNK;
		d->last_us = now;
	}
	while ((ch = d->head) != NULL && ch->due_us <= now) {
		want = ch->len - ch->off;
		if (rate_bps > 0) {
			if (d->tokens < 1)
				break;
			if ((double)want > d->tokens)
				want = (size_t)d->tokens;
		}
		n = write(d->to, ch->data + ch->off, want);
		if (n < 0) {
			d->blocked = errno == EAGAIN;
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		}
		d->blocked = 0;
		d->sent += (uint64_t)n;
		ch->off += (size_t)n;
		d->held -= (size_t)n;
		if (rate_bps > 0)
			d->tokens -= (double)n;
		if (ch->off < ch->len)
			break;
		d->head = ch->next;
		if (d->head == NULL)
			d->tail = NULL;
		free(ch);
	}
	if (d->head == NULL && d->eof)
		shutdown(d->to, SHUT_WR);
	return 0;
}

/* -s: one timeline line per interval while a connection is up. */
static void
stats_tick(void)
{
	uint64_t now = now_us();
	int i, j;

	if (stats == NULL || now < stats_next)
		return;
	for (i = 0; i < RELAY_MAX_CONNS; i++) {
		if (!conns[i].used)
			continue;
		fprintf(stats, "%llu", (unsigned long long)
		    ((now - stats_start) / 1000));
		for (j = 0; j < 2; j++) {
			fprintf(stats, " %llu %zu",
			    (unsigned long long)conns[i].dir[j].sent,
			    conns[i].dir[j].held);
			conns[i].dir[j].sent = 0;
		}
		fputc('\n', stats);
	}
	fflush(stats);
	stats_next = now + RELAY_STATS_US;
}

/* Milliseconds until the earliest chunk is due, or -1. */
static int
next_due_ms(void)
{
	uint64_t now = now_us(), best = UINT64_MAX;
	int i, j;

	for (i = 0; i < RELAY_MAX_CONNS; i++)
		for (j = 0; conns[i].used && j < 2; j++)
			if (conns[i].dir[j].head != NULL &&
			    conns[i].dir[j].head->due_us < best)
				best = conns[i].dir[j].head->due_us;
	if (best == UINT64_MAX)
		return stats != NULL ? RELAY_STATS_US / 1000 : -1;
	if (best <= now)
		return rate_bps > 0 ? 1 : 0;
	return (int)((best - now + 999) / 1000);
}

int
main(int argc, char **argv)
{
	struct pollfd pfd[1 + RELAY_MAX_CONNS * 2];
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	const char *portfile = NULL;
	int ch, lfd, fd, tfd, lport = 0, tport = 0, i, j, n, one = 1;
	FILE *f;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "l:t:d:r:p:s:")) != -1) {
		switch (ch) {
		case 'l': lport = (int)strtol(optarg, NULL, 10); break;
		case 't': tport = (int)strtol(optarg, NULL, 10); break;
		case 'd': delay_us = (uint64_t)strtoull(optarg, NULL, 10) * 1000; break;
		case 'r': rate_bps = strtod(optarg, NULL) * 1000 / 8; break;
		case 'p': portfile = optarg; break;
		case 's':
			if ((stats = fopen(optarg, "w")) == NULL)
				die(optarg);
			break;
		default:
			fprintf(stderr, "usage: relay -l port -t port [-d ms] "
			    "[-r kbit/s] [-p portfile] [-s statsfile]\n");
			return 2;
		}
	}
	if (tport <= 0)
		return 2;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)lport);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(lfd, 16) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) == -1)
		die("listen");
	if (portfile != NULL) {
		if ((f = fopen(portfile, "w")) == NULL)
			die(portfile);
		fprintf(f, "%u\n", ntohs(sin.sin_port));
		fclose(f);
	}
	for (;;) {
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		/* Slot 2i is the client side (dir 0 reads, dir 1 writes). */
		for (i = 0; i < RELAY_MAX_CONNS; i++)
			for (j = 0; j < 2; j++) {
				struct relay_dir *rd = &conns[i].dir[j];
				struct relay_dir *wd = &conns[i].dir[1 - j];
				struct pollfd *p = &pfd[1 + i * 2 + j];

				p->fd = conns[i].used ? rd->from : -1;
				p->events = (short)((conns[i].used && !rd->eof &&
				    rd->held < RELAY_HOLD_MAX ? POLLIN : 0) |
				    (conns[i].used && wd->blocked ? POLLOUT : 0));
				p->revents = 0;
			}
		if (poll(pfd, 1 + RELAY_MAX_CONNS * 2, next_due_ms()) == -1 &&
		    errno != EINTR)
			die("poll");
		if (pfd[0].revents & POLLIN) {
			if ((fd = accept(lfd, NULL, NULL)) == -1)
				continue;
			for (i = 0; i < RELAY_MAX_CONNS && conns[i].used; i++)
				;
			if (i == RELAY_MAX_CONNS || (tfd = connect_target(tport)) == -1) {
				close(fd);
				continue;
			}
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			fcntl(tfd, F_SETFL, fcntl(tfd, F_GETFL) | O_NONBLOCK);
			conns[i].used = 1;
			conns[i].dir[0].from = conns[i].dir[1].to = fd;
			conns[i].dir[0].to = conns[i].dir[1].from = tfd;
			conns[i].dir[0].last_us = conns[i].dir[1].last_us = now_us();
			if (stats_start == 0)
				stats_start = now_us();
		}
		for (i = 0; i < RELAY_MAX_CONNS; i++) {
			if (!conns[i].used)
				continue;
			for (j = 0; j < 2; j++)
				if ((pfd[1 + i * 2 + j].revents & (POLLIN | POLLHUP | POLLERR)) &&
				    dir_read(&conns[i].dir[j]) == -1)
					die("memory");
			n = 0;
			for (j = 0; j < 2; j++)
				if (dir_write(&conns[i].dir[j]) == -1)
					n = 1;
			if (n || (conns[i].dir[0].eof && conns[i].dir[1].eof &&
			    conns[i].dir[0].head == NULL && conns[i].dir[1].head == NULL))
				conn_close(&conns[i]);
		}
		stats_tick();
	}
}
