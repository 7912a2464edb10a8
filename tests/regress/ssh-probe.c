/*
 * ssh-probe: runs Ferry's transport engine over a real socket, for the
 * interop tests against OpenSSH.
 *
 *   ssh-probe server PORTFILE [options] HOSTKEY...
 *	listen on 127.0.0.1 (port 0; the port is written to PORTFILE), serve
 *	connections one after another: key exchange, then SERVICE_ACCEPT
 *	for ssh-userauth and USERAUTH_FAILURE for every request.
 *   ssh-probe client PORT HOSTKEY.pub [options]
 *	connect to 127.0.0.1:PORT, exchange keys (checking the host key),
 *	ask for ssh-userauth, try "none" and print the methods offered.
 *
 * Options: -k kex -h hostkeyalgs -c ciphers -m macs -z compression
 * -n connections (server) -R (client: rekey once before the service
 * request) -H (hand the connection over: whenever the engine is idle,
 * export it and go on with a fresh engine imported from the blob) -S
 * (server: configure public host keys only and sign through the
 * hostkey_sign callback).  Each completed key exchange prints one line:
 * "kex KEX HOSTKEY CIPHER MAC COMP strict=N"; with -H each connection
 * ends with "handovers N".
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/log.h"
#include "ferry/transport.h"
#include "misc.h"

#define MSG_USERAUTH_REQUEST	50
#define MSG_USERAUTH_FAILURE	51

struct probe {
	struct transport *t;
	int fd;
	int server;
	int rekey;		/* client: rekey once first */
	int rekeyed;
	int done;		/* client: finished successfully */
	struct key *known;	/* client: expected host key */
	int handover;		/* -H */
	unsigned int handovers;
	const struct transport_config *cfg;
	struct key **privs;	/* -S: the private keys to sign with */
	size_t nprivs;
};

static void
probe_log(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	fprintf(stderr, "ssh-probe: %s\n", msg);
}

static void __attribute__((noreturn))
die(const char *what, int r)
{
	fprintf(stderr, "ssh-probe: %s: %s\n", what,
	    r == FERR_SYSTEM ? strerror(errno) : err_str(r));
	exit(1);
}

static int
probe_check_hostkey(const struct key *k, void *ctx)
{
	struct probe *p = ctx;

	return key_equal_public(k, p->known) ? 0 : FERR_HOSTKEY_MISMATCH;
}

/* -S: the monitor's part, signing with the private key of pub. */
static int
probe_sign(const struct key *pub, const char *sigalg, const uint8_t *data,
    size_t len, struct buf *sig, void *ctx)
{
	struct probe *p = ctx;
	size_t i;

	for (i = 0; i < p->nprivs; i++)
		if (key_equal_public(p->privs[i], pub))
			return key_sign(p->privs[i], sigalg, data, len,
			    strcmp(sigalg, "ssh-rsa") == 0 ?
			    KEY_SIG_ALLOW_SHA1 : 0, sig);
	return FERR_KEY_NOT_FOUND;
}

/* -H: move the connection to a fresh engine through a state blob. */
static int
probe_handover(struct probe *p)
{
	struct transport *nt;
	struct buf *blob;
	int r;

	if ((blob = buf_new()) == NULL)
		return FERR_ALLOC;
	r = transport_export(p->t, blob);
	if (r == FERR_WOULD_BLOCK || r == FERR_NOT_SUPPORTED) {
		r = 0;		/* not idle now, or compression runs */
		goto out;
	}
	if (r != 0 || (r = transport_import(p->cfg, buf_ptr(blob),
	    buf_len(blob), &nt)) != 0)
		goto out;
	transport_free(p->t);
	p->t = nt;
	p->handovers++;
 out:
	buf_free(blob);
	return r;
}

static void
probe_print_kex(struct probe *p)
{
	const char *mac = transport_algorithm(p->t, TRANSPORT_ALG_MAC_CTOS);

	printf("kex %s %s %s %s %s strict=%d\n",
	    transport_algorithm(p->t, TRANSPORT_ALG_KEX),
	    transport_algorithm(p->t, TRANSPORT_ALG_HOSTKEY),
	    transport_algorithm(p->t, TRANSPORT_ALG_CIPHER_CTOS),
	    mac != NULL ? mac : "implicit",
	    transport_algorithm(p->t, TRANSPORT_ALG_COMP_CTOS),
	    transport_strict_kex(p->t));
	fflush(stdout);
}

static int
probe_send(struct probe *p, uint8_t msg, const char *s1, const char *s2,
    int withbool)
{
	struct buf *b;
	int r;

	if ((r = transport_packet_start(p->t, msg, &b)) != 0)
		return r;
	if (s1 != NULL && (r = buf_put_cstring(b, s1)) != 0)
		return r;
	if (s2 != NULL && (r = buf_put_cstring(b, s2)) != 0)
		return r;
	if (withbool && (r = buf_put_bool(b, 0)) != 0)
		return r;
	return transport_send(p->t);
}

/* The client's steps after each key exchange. */
static int
probe_client_kex_done(struct probe *p)
{
	if (p->rekey && !p->rekeyed) {
		p->rekeyed = 1;
		return transport_rekey(p->t);
	}
	return probe_send(p, TRANSPORT_MSG_SERVICE_REQUEST, "ssh-userauth",
	    NULL, 0);
}

static int
probe_packet(struct probe *p, struct transport_event *ev)
{
	char *s = NULL;
	int r = 0;

	switch (ev->msg) {
	case TRANSPORT_MSG_SERVICE_REQUEST:
		if (!p->server || buf_get_cstring(ev->payload, &s, NULL) != 0)
			return FERR_PROTOCOL;
		r = probe_send(p, TRANSPORT_MSG_SERVICE_ACCEPT, s, NULL, 0);
		break;
	case TRANSPORT_MSG_SERVICE_ACCEPT:
		if (p->server)
			return FERR_PROTOCOL;
		printf("service accepted\n");
		/* user, service, method "none" */
		if ((r = transport_packet_start(p->t, MSG_USERAUTH_REQUEST,
		    &ev->payload)) != 0 ||
		    (r = buf_put_cstring(ev->payload, "probe")) != 0 ||
		    (r = buf_put_cstring(ev->payload, "ssh-connection")) != 0 ||
		    (r = buf_put_cstring(ev->payload, "none")) != 0 ||
		    (r = transport_send(p->t)) != 0)
			return r;
		break;
	case MSG_USERAUTH_REQUEST:
		if (!p->server)
			return FERR_PROTOCOL;
		r = probe_send(p, MSG_USERAUTH_FAILURE, "publickey,password",
		    NULL, 1);
		break;
	case MSG_USERAUTH_FAILURE:
		if (p->server || buf_get_cstring(ev->payload, &s, NULL) != 0)
			return FERR_PROTOCOL;
		printf("auth methods %s\n", s);
		p->done = 1;
		r = transport_disconnect(p->t, TRANSPORT_DISC_BY_APPLICATION,
		    "probe done");
		break;
	default:
		break;
	}
	free(s);
	fflush(stdout);
	return r;
}

/* Write all pending output. */
static int
probe_flush(struct probe *p)
{
	struct buf *out = transport_output(p->t);
	ssize_t n;

	while (buf_len(out) > 0) {
		n = write(p->fd, buf_ptr(out), buf_len(out));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return FERR_SYSTEM;
		}
		if (buf_consume(out, (size_t)n) != 0)
			return FERR_INTERNAL;
	}
	return 0;
}

/* Drive one connection to its end; 0 when it ended as expected. */
static int
probe_run(struct probe *p)
{
	struct transport_event ev;
	uint8_t rbuf[65536];
	ssize_t n;
	int r;

	for (;;) {
		while ((r = transport_poll(p->t, &ev)) == 0 &&
		    ev.type != TRANSPORT_EV_NONE) {
			if (ev.type == TRANSPORT_EV_KEX_DONE) {
				probe_print_kex(p);
				if (!p->server &&
				    (r = probe_client_kex_done(p)) != 0)
					break;
			} else if (ev.type == TRANSPORT_EV_PACKET) {
				if ((r = probe_packet(p, &ev)) != 0)
					break;
			} else if (ev.type == TRANSPORT_EV_DISCONNECT) {
				printf("peer disconnected: %u %s\n", ev.reason,
				    ev.description);
				fflush(stdout);
				(void)probe_flush(p);
				return p->server || p->done ? 0 : 1;
			}
			if (p->done)
				break;
		}
		(void)probe_flush(p);
		if (p->done)
			return 0;
		if (r != 0) {
			fprintf(stderr, "ssh-probe: %s: %s\n",
			    transport_error(p->t), err_str(r));
			return 1;
		}
		/*
		 * Idle (polled to the end, output written): hand over.  What
		 * input is left is less than a packet, so the new engine
		 * needs more bytes too.
		 */
		if (p->handover && (r = probe_handover(p)) != 0)
			die("hand-over", r);
		n = read(p->fd, rbuf, sizeof(rbuf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* The peer closed: normal for a server after a probe. */
			return p->server && transport_kex_count(p->t) > 0 ? 0 : 1;
		}
		if ((r = transport_input(p->t, rbuf, (size_t)n)) != 0)
			die("input", r);
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: ssh-probe server PORTFILE [opts] HOSTKEY...\n"
	    "       ssh-probe client PORT HOSTKEY.pub [opts]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct transport_config cfg;
	struct key *keys[8], *pubs[8];
	struct probe p;
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	struct buf *file;
	const char *errstr, *mode;
	size_t nkeys = 0;
	int ch, r, lfd, conns = 1, i, status = 0, sign_cb = 0;
	FILE *f;

	signal(SIGPIPE, SIG_IGN);
	log_set_handler(probe_log, NULL);
	log_set_level(getenv("PROBE_DEBUG") ? LOGL_DEBUG3 : LOGL_ERROR);
	if (argc < 3)
		usage();
	mode = argv[1];
	memset(&cfg, 0, sizeof(cfg));
	memset(&p, 0, sizeof(p));
	p.server = strcmp(mode, "server") == 0;
	if (!p.server && strcmp(mode, "client") != 0)
		usage();
	optind = p.server ? 3 : 4;
	if (!p.server && argc < 4)
		usage();
	while ((ch = getopt(argc, argv, "k:h:c:m:z:n:RHS")) != -1) {
		switch (ch) {
		case 'k': cfg.kex_algorithms = optarg; break;
		case 'h': cfg.hostkey_algorithms = optarg; break;
		case 'c': cfg.ciphers = optarg; break;
		case 'm': cfg.macs = optarg; break;
		case 'z': cfg.compression = optarg; break;
		case 'n':
			conns = (int)misc_strtonum(optarg, 1, 1000, &errstr);
			if (errstr != NULL)
				usage();
			break;
		case 'R': p.rekey = 1; break;
		case 'H': p.handover = 1; break;
		case 'S': sign_cb = 1; break;
		default: usage();
		}
	}
	p.cfg = &cfg;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (p.server) {
		for (; optind < argc && nkeys < 8; optind++) {
			if ((r = key_read_file(argv[optind], 0, &file)) != 0)
				die(argv[optind], r);
			if ((r = key_parse_private(file, NULL, &keys[nkeys])) != 0)
				die(argv[optind], r);
			buf_free(file);
			nkeys++;
		}
		cfg.server = 1;
		cfg.hostkeys = keys;
		cfg.nhostkeys = nkeys;
		if (sign_cb) {
			for (i = 0; i < (int)nkeys; i++)
				if ((r = key_demote(keys[i], &pubs[i])) != 0)
					die("key_demote", r);
			cfg.hostkeys = pubs;
			cfg.hostkey_sign = probe_sign;
			cfg.hostkey_sign_ctx = &p;
			p.privs = keys;
			p.nprivs = nkeys;
		}
		if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    listen(lfd, 8) == -1 ||
		    getsockname(lfd, (struct sockaddr *)&sin, &slen) == -1)
			die("listen", FERR_SYSTEM);
		if ((f = fopen(argv[2], "w")) == NULL)
			die(argv[2], FERR_SYSTEM);
		fprintf(f, "%u\n", ntohs(sin.sin_port));
		fclose(f);
		for (i = 0; i < conns; i++) {
			if ((p.fd = accept(lfd, NULL, NULL)) == -1)
				die("accept", FERR_SYSTEM);
			if ((r = transport_new(&cfg, &p.t)) != 0)
				die("transport", r);
			p.handovers = 0;
			if (probe_run(&p) != 0)
				status = 1;
			if (p.handover) {
				printf("handovers %u\n", p.handovers);
				fflush(stdout);
			}
			transport_free(p.t);
			close(p.fd);
		}
		for (i = 0; i < (int)nkeys; i++) {
			key_free(keys[i]);
			if (sign_cb)
				key_free(pubs[i]);
		}
		return status;
	}
	{
		char line[16384];

		if ((f = fopen(argv[3], "r")) == NULL ||
		    fgets(line, sizeof(line), f) == NULL)
			die(argv[3], FERR_SYSTEM);
		fclose(f);
		if ((r = key_parse_public_line(line, &p.known)) != 0)
			die(argv[3], r);
	}
	sin.sin_port = htons((uint16_t)misc_strtonum(argv[2], 1, 65535, &errstr));
	if (errstr != NULL)
		usage();
	cfg.hostkey_check = probe_check_hostkey;
	cfg.hostkey_ctx = &p;
	if ((p.fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(p.fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("connect", FERR_SYSTEM);
	if ((r = transport_new(&cfg, &p.t)) != 0)
		die("transport", r);
	status = probe_run(&p);
	if (p.handover)
		printf("handovers %u\n", p.handovers);
	transport_free(p.t);
	key_free(p.known);
	close(p.fd);
	return status;
}
