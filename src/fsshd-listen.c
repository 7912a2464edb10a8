/*
 * fsshd's listening sockets, IPv4 and IPv6: ListenAddress values
 * ("addr", "addr:port", "[addr]:port", "[addr]"), AddressFamily, and the
 * numeric names of both ends of a connection for logs, Match and
 * from=.  A ListenAddress may be a host name: as sshd, fsshd resolves
 * it (getaddrinfo, AddressFamily applied) when it starts and listens on
 * every address it has; a name that does not resolve is an error at
 * -t and at start.  Connections are only ever named by number.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "fsshd-auth.h"
#include "misc.h"
#include "prog.h"

int
fsshd_listen_parse(const char *spec, char *host, size_t hostlen, int *portp)
{
	const char *end, *portstr = NULL, *errstr;
	size_t len;

	*portp = -1;
	if (spec[0] == '[') {
		if ((end = strchr(spec, ']')) == NULL)
			return FERR_FORMAT;
		len = (size_t)(end - spec - 1);
		if (end[1] == ':')
			portstr = end + 2;
		else if (end[1] != '\0')
			return FERR_FORMAT;
		spec++;
	} else if ((end = strchr(spec, ':')) != NULL &&
	    strchr(end + 1, ':') == NULL) {
		/* One colon: IPv4 (or a name) and a port. */
		len = (size_t)(end - spec);
		portstr = end + 1;
	} else
		len = strlen(spec);		/* bare IPv4 or IPv6 */
	if (len == 0 || len >= hostlen)
		return FERR_FORMAT;
	memcpy(host, spec, len);
	host[len] = '\0';
	if (portstr != NULL) {
		*portp = (int)misc_strtonum(portstr, 1, 65535, &errstr);
		if (errstr != NULL)
			return FERR_FORMAT;
	}
	return 0;
}

int
fsshd_listen_resolve(const char *host, int port, int family,
    struct addrinfo **aip, char *why, size_t whylen)
{
	struct addrinfo hints;
	char portstr[16];
	int e;

	*aip = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%d", port > 0 ? port : 22);
	if ((e = getaddrinfo(host, portstr, &hints, aip)) != 0 ||
	    *aip == NULL) {
		snprintf(why, whylen, "%s", e != 0 ? gai_strerror(e) :
		    "no address");
		if (*aip != NULL)
			freeaddrinfo(*aip);
		*aip = NULL;
		return FERR_ARGUMENT;
	}
	return 0;
}

/* A listening socket on one resolved address; 0, or -1 with errno. */
static int
fsshd_listen_open_ai(const struct addrinfo *ai, int *fdp)
{
	int fd, one = 1, save;

	*fdp = -1;
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	/* An IPv6 socket serves IPv6 only: "::" and "0.0.0.0" coexist. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, 64) == -1) {
		save = errno;
		close(fd);
		errno = save;
		return -1;
	}
	*fdp = fd;
	return 0;
}

int
fsshd_listen_open(const char *host, int port, int *fdp)
{
	struct addrinfo hints, *ai = NULL;
	char portstr[16];
	int r = FERR_SYSTEM;

	*fdp = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(host, portstr, &hints, &ai) != 0 || ai == NULL) {
		errno = EINVAL;
		r = FERR_ARGUMENT;
		goto out;
	}
	if (fsshd_listen_open_ai(ai, fdp) == 0)
		r = 0;
 out:
	if (ai != NULL) {
		int save = errno;

		freeaddrinfo(ai);
		errno = save;
	}
	return r;
}

/* The address family of a numeric address, or AF_UNSPEC. */
static int
fsshd_listen_family(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return AF_INET6;
	return AF_UNSPEC;
}

/* Open host:port or die as sshd does; log the listener. */
static int
fsshd_listen_one(const char *host, int port)
{
	int fd;

	if (fsshd_listen_open(host, port, &fd) != 0)
		fatal("Bind to port %d on %s failed: %s.", port, host,
		    strerror(errno));
	log_info("Server listening on %s port %d.", host, port);
	return fd;
}

/*
 * A host name's addresses (AddressFamily applied) on port: each one
 * that binds is stored in fds (at most max - *np more); an address the
 * machine lacks (::1 without IPv6) is skipped, but the name must give
 * one listener.  Dies as sshd does otherwise.
 */
static void
fsshd_listen_name(const struct sshdconf *c, const char *spec,
    const char *host, int port, int *fds, size_t max, size_t *np)
{
	struct addrinfo *ai0, *ai, *prev;
	char why[256], num[NI_MAXHOST], serv[16];
	size_t got = 0;
	int fd, dup;

	if (fsshd_listen_resolve(host, port, c->address_family, &ai0, why,
	    sizeof(why)) != 0)
		fatal("ListenAddress %s: cannot resolve %s: %s", spec, host,
		    why);
	for (ai = ai0; ai != NULL && *np < max; ai = ai->ai_next) {
		/* getaddrinfo may name one address twice (/etc/hosts). */
		for (dup = 0, prev = ai0; prev != ai && !dup;
		    prev = prev->ai_next)
			dup = prev->ai_addrlen == ai->ai_addrlen &&
			    memcmp(prev->ai_addr, ai->ai_addr,
			    ai->ai_addrlen) == 0;
		if (dup || getnameinfo(ai->ai_addr, ai->ai_addrlen, num,
		    sizeof(num), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
			continue;
		if (fsshd_listen_open_ai(ai, &fd) != 0) {
			if (errno != EADDRNOTAVAIL && errno != EAFNOSUPPORT)
				fatal("Bind to port %d on %s (%s) failed: %s.",
				    port, num, host, strerror(errno));
			log_verbose("ListenAddress %s: %s skipped: %s", spec,
			    num, strerror(errno));
			continue;
		}
		log_info("Server listening on %s port %d.", num, port);
		fds[(*np)++] = fd;
		got++;
	}
	freeaddrinfo(ai0);
	if (got == 0)
		fatal("ListenAddress %s: no address of %s to listen on", spec,
		    host);
}

int
fsshd_listen_check(const struct sshdconf *c, char *why, size_t whylen)
{
	struct addrinfo *ai;
	char host[NI_MAXHOST], e[256];
	size_t i;
	int port;

	for (i = 0; i < c->listen_addresses.n; i++) {
		if (fsshd_listen_parse(c->listen_addresses.v[i], host,
		    sizeof(host), &port) != 0) {
			snprintf(why, whylen, "ListenAddress %s: not an "
			    "address or host name (with an optional port)",
			    c->listen_addresses.v[i]);
			return FERR_CONFIG;
		}
		if (fsshd_listen_family(host) != AF_UNSPEC)
			continue;
		if (fsshd_listen_resolve(host, port, c->address_family, &ai,
		    e, sizeof(e)) != 0) {
			snprintf(why, whylen, "ListenAddress %s: cannot "
			    "resolve %s: %s", c->listen_addresses.v[i], host, e);
			return FERR_CONFIG;
		}
		freeaddrinfo(ai);
	}
	return 0;
}

size_t
fsshd_listen_config(const struct sshdconf *c, int *fds, size_t max)
{
	static const char *const any[] = { "0.0.0.0", "::" };
	const char *spec;
	char host[NI_MAXHOST];
	size_t i, j, n = 0, naddr = c->listen_addresses.n;
	int family, port;

	if (naddr == 0)
		naddr = c->address_family == AF_UNSPEC ? 2 : 1;
	for (i = 0; i < naddr; i++) {
		if (c->listen_addresses.n > 0)
			spec = c->listen_addresses.v[i];
		else
			spec = c->address_family == AF_INET6 ? any[1] : any[i];
		if (fsshd_listen_parse(spec, host, sizeof(host), &port) != 0)
			fatal("ListenAddress %s: not an address or host name "
			    "(with an optional port)", spec);
		if ((family = fsshd_listen_family(host)) == AF_UNSPEC) {
			if (port != -1) {
				fsshd_listen_name(c, spec, host, port, fds, max,
				    &n);
				continue;
			}
			for (j = 0; j < c->nports && n < max; j++)
				fsshd_listen_name(c, spec, host, c->ports[j],
				    fds, max, &n);
			continue;
		}
		if (c->address_family != AF_UNSPEC &&
		    family != c->address_family) {
			log_verbose("ListenAddress %s skipped: AddressFamily",
			    spec);
			continue;
		}
		/* No IPv6 on this machine: the IPv6 wildcard is optional. */
		if (c->listen_addresses.n == 0 && family == AF_INET6 &&
		    c->address_family == AF_UNSPEC) {
			int fd;

			for (j = 0; j < c->nports && n < max; j++) {
				if (fsshd_listen_open(host, c->ports[j], &fd) != 0) {
					log_verbose("no IPv6 listener on port %d: "
					    "%s", c->ports[j], strerror(errno));
					continue;
				}
				log_info("Server listening on %s port %d.", host,
				    c->ports[j]);
				fds[n++] = fd;
			}
			continue;
		}
		if (port != -1) {
			if (n < max)
				fds[n++] = fsshd_listen_one(host, port);
			continue;
		}
		for (j = 0; j < c->nports && n < max; j++)
			fds[n++] = fsshd_listen_one(host, c->ports[j]);
	}
	if (n == 0)
		fatal("Cannot bind any address.");
	return n;
}

/* Numeric address and port of a socket address. */
static void
fsshd_sock_name(const struct sockaddr_storage *ss, socklen_t len, char *addr,
    size_t alen, int *port)
{
	const char *errstr;
	char serv[16];

	*port = -1;
	if (getnameinfo((const struct sockaddr *)ss, len, addr, (socklen_t)alen,
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		misc_strlcpy(addr, "UNKNOWN", alen);
		return;
	}
	*port = (int)misc_strtonum(serv, 0, 65535, &errstr);
	/* An IPv4 client on an IPv6 socket: show it as IPv4, as sshd. */
	if (strncmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, ':') == NULL)
		memmove(addr, addr + 7, strlen(addr + 7) + 1);
}

void
fsshd_sock_names(int fd, char *addr, size_t alen, int *port, char *laddr,
    size_t llen, int *lport)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	misc_strlcpy(addr, "UNKNOWN", alen);
	misc_strlcpy(laddr, "UNKNOWN", llen);
	*port = *lport = -1;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		fsshd_sock_name(&ss, len, addr, alen, port);
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
		fsshd_sock_name(&ss, len, laddr, llen, lport);
}
