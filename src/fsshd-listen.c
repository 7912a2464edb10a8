/*
 * fsshd's listening sockets, IPv4 and IPv6: ListenAddress values
 * ("addr", "addr:port", "[addr]:port", "[addr]"), AddressFamily, and the
 * numeric names of both ends of a connection for logs, Match and
 * from=.  Addresses are numeric: fsshd resolves no names.
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
fsshd_listen_open(const char *host, int port, int *fdp)
{
	struct addrinfo hints, *ai = NULL;
	char portstr[16];
	int fd = -1, one = 1, r = FERR_SYSTEM;

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
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1)
		goto out;
	/* An IPv6 socket serves IPv6 only: "::" and "0.0.0.0" coexist. */
	if (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &one, sizeof(one)) == -1)
		goto out;
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
	    listen(fd, 64) == -1)
		goto out;
	*fdp = fd;
	fd = -1;
	r = 0;
 out:
	if (fd != -1) {
		int save = errno;

		close(fd);
		errno = save;
	}
	if (ai != NULL)
		freeaddrinfo(ai);
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

size_t
fsshd_listen_config(const struct sshdconf *c, int *fds, size_t max)
{
	static const char *const any[] = { "0.0.0.0", "::" };
	const char *spec;
	char host[INET6_ADDRSTRLEN + 1];
	size_t i, j, n = 0, naddr = c->listen_addresses.n;
	int family, port;

	if (naddr == 0)
		naddr = c->address_family == AF_UNSPEC ? 2 : 1;
	for (i = 0; i < naddr; i++) {
		if (c->listen_addresses.n > 0)
			spec = c->listen_addresses.v[i];
		else
			spec = c->address_family == AF_INET6 ? any[1] : any[i];
		if (fsshd_listen_parse(spec, host, sizeof(host), &port) != 0 ||
		    (family = fsshd_listen_family(host)) == AF_UNSPEC)
			fatal("ListenAddress %s: not a numeric address "
			    "(with an optional port)", spec);
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
