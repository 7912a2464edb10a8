/*
 * cutrelay: a TCP relay that cuts connections, for fault tests.
 *
 *   cutrelay PORTFILE TARGET-PORT DIRECTION LIMIT [SEED]
 *
 * Listens on an ephemeral port of 127.0.0.1 (written, in decimal, to
 * PORTFILE once listening) and relays each accepted connection to
 * 127.0.0.1:TARGET-PORT.  After LIMIT bytes have passed in DIRECTION
 * ("up": client to server, "down": server to client) it closes both sides
 * at once, in the middle of whatever was in flight.  LIMIT 0 never cuts;
 * "random" picks a limit per connection in [1, SEED's range] from SEED
 * (RANGE:SEED, e.g. random 4000000:17), so a failure reproduces.  Each
 * connection is served by a child process; the relay runs until killed.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void __attribute__((noreturn))
cutrelay_die(const char *what)
{
	fprintf(stderr, "cutrelay: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned long long
cutrelay_number(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0') {
		fprintf(stderr, "cutrelay: bad number %s\n", s);
		exit(2);
	}
	return v;
}

/* xorshift64*: a limit per connection that a seed reproduces. */
static uint64_t
cutrelay_next(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

/* Relay between a (client) and b (server) until EOF or the cut. */
static void
cutrelay_serve(int a, int b, int cut_up, unsigned long long limit)
{
	struct pollfd p[2];
	unsigned long long passed = 0;
	char buf[16384];
	int open_ab = 1, open_ba = 1;
	ssize_t n, w, off;
	size_t want;

	while (open_ab || open_ba) {
		p[0].fd = open_ab ? a : -1;
		p[0].events = POLLIN;
		p[1].fd = open_ba ? b : -1;
		p[1].events = POLLIN;
		if (poll(p, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < 2; i++) {
			int from = i == 0 ? a : b, to = i == 0 ? b : a;
			int counted = (i == 0) == (cut_up != 0);

			if (p[i].revents == 0)
				continue;
			want = sizeof(buf);
			if (counted && limit != 0 && limit - passed < want)
				want = (size_t)(limit - passed);
			if ((n = read(from, buf, want)) <= 0) {
				shutdown(to, SHUT_WR);
				if (i == 0)
					open_ab = 0;
				else
					open_ba = 0;
				continue;
			}
			for (off = 0; off < n; off += w)
				if ((w = write(to, buf + off, n - off)) <= 0)
					return;
			if (counted && limit != 0 && (passed += n) >= limit)
				return;	/* the cut: both sides close on exit */
		}
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	unsigned long long limit = 0, range = 0;
	uint64_t state = 0;
	int l, c, s, cut_up, one = 1;
	char *colon;
	FILE *f;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: cutrelay PORTFILE TARGET-PORT up|down "
		    "LIMIT|random RANGE:SEED\n");
		return 2;
	}
	cut_up = strcmp(argv[3], "up") == 0;
	if (!cut_up && strcmp(argv[3], "down") != 0) {
		fprintf(stderr, "cutrelay: direction is up or down\n");
		return 2;
	}
	if (strcmp(argv[4], "random") == 0) {
		if (argc != 6 || (colon = strchr(argv[5], ':')) == NULL) {
			fprintf(stderr, "cutrelay: random needs RANGE:SEED\n");
			return 2;
		}
		*colon = '\0';
		range = cutrelay_number(argv[5]);
		state = cutrelay_number(colon + 1) * 2 + 1;
		if (range == 0)
			range = 1;
	} else
		limit = cutrelay_number(argv[4]);
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if ((l = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		cutrelay_die("socket");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(l, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(l, 64) == -1 ||
	    getsockname(l, (struct sockaddr *)&sin, &slen) == -1)
		cutrelay_die("listen");
	if ((f = fopen(argv[1], "w")) == NULL)
		cutrelay_die(argv[1]);
	fprintf(f, "%u\n", ntohs(sin.sin_port));
	if (fclose(f) != 0)
		cutrelay_die(argv[1]);
	sin.sin_port = htons((uint16_t)cutrelay_number(argv[2]));
	for (;;) {
		if ((c = accept(l, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			cutrelay_die("accept");
		}
		if (range != 0)
			limit = 1 + cutrelay_next(&state) % range;
		switch (fork()) {
		case -1:
			cutrelay_die("fork");
		case 0:
			close(l);
			if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
			    connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1)
				_exit(1);
			fprintf(stderr, "cutrelay: connection cut after %llu "
			    "bytes %s\n", limit, argv[3]);
			cutrelay_serve(c, s, cut_up, limit);
			_exit(0);
		default:
			close(c);
			break;
		}
	}
}
