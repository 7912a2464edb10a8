/*
 * The SSH client core: reach the server, run the transport, check the
 * host key, authenticate, and drive the connection layer for the
 * program over one event loop.  See ferry/client.h.
 *
 * The mirror of fsshd-session.c: after each event, client_pump() moves
 * transport events to auth or conn (and conn events to the program's
 * handler), then the transport's output to the socket or proxy pipe.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "ferry/agent.h"
#include "ferry/auth.h"
#include "ferry/buf.h"
#include "ferry/client.h"
#include "ferry/conn.h"
#include "ferry/err.h"
#include "ferry/evloop.h"
#include "ferry/key-cert.h"
#include "ferry/key.h"
#include "ferry/knownhosts.h"
#include "ferry/log.h"
#include "ferry/sshconf.h"
#include "ferry/transport.h"
#include "misc.h"

/* What one read(2) of the connection takes: a whole packet at most. */
#define CLIENT_READ_CHUNK	(256U * 1024)
#define CLIENT_DEFAULT_METHODS	"publickey,keyboard-interactive,password"
#define CLIENT_COMPRESSION	"zlib@openssh.com,zlib,none"
/* Asked for first when a @cert-authority entry names the host. */
#define CLIENT_CERT_HOSTKEY_ALGS \
	"ssh-ed25519-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp256-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp384-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp521-cert-v01@openssh.com," \
	"rsa-sha2-512-cert-v01@openssh.com," \
	"rsa-sha2-256-cert-v01@openssh.com"
#define CLIENT_NO_HOSTIP	"<no hostip for proxy command>"

enum client_state {
	CLIENT_IDLE = 0,
	CLIENT_AUTH,		/* transport and authentication running */
	CLIENT_OPEN,		/* authenticated: conn events to the program */
};

/* One identity offered for publickey authentication. */
struct client_id {
	struct key *pub;
	int owned;		/* pub is ours (else the agent list's) */
	char *path;		/* private key file, or NULL */
	int in_agent;		/* the agent signs */
	int encrypted;		/* the file needs a passphrase */
	struct key *priv;	/* the file's key, decrypted when needed */
};

struct client {
	const struct client_config *cfg;
	const struct sshconf *conf;
	struct evloop *loop;
	int in_fd, out_fd;
	pid_t proxy_pid;
	char hostip[INET6_ADDRSTRLEN + 2];
	struct transport *t;
	struct auth_client *auth;
	struct conn *conn;
	struct agent *agent;
	struct agent_identities *agent_ids;
	struct client_id *ids;
	size_t nids;
	struct key **keys;
	char *methods;
	char *server_methods;
	client_event_fn *handler;
	void *hctx;
	enum client_state state;
	int done;		/* the connection ended */
	int result;		/* why (a FERR_* code) */
	int hostkey_result;	/* refusal of the host key callback */
	int stopped;
	int flushing, flush_again;
	unsigned int alive_missed;
	char err[1024];
};

static void client_pump(struct client *cl);

static void
client_seterr(struct client *cl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
client_seterr(struct client *cl, const char *fmt, ...)
{
	va_list ap;

	if (cl->err[0] != '\0')
		return;		/* the first reason is the one to tell */
	va_start(ap, fmt);
	vsnprintf(cl->err, sizeof(cl->err), fmt, ap);
	va_end(ap);
}

static void
client_fail(struct client *cl, int r)
{
	if (cl->result == 0)
		cl->result = r != 0 ? r : FERR_CONN_CLOSED;
	cl->done = 1;
}

/* ---- reaching the server ---- */

static int
client_bind(struct client *cl, int fd, int family)
{
	struct addrinfo hints, *ai = NULL;
	int r;

	if (cl->conf->bind_address == NULL)
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((r = getaddrinfo(cl->conf->bind_address, NULL, &hints,
	    &ai)) != 0) {
		client_seterr(cl, "getaddrinfo: %s: %s",
		    cl->conf->bind_address, gai_strerror(r));
		return FERR_CONFIG;
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		client_seterr(cl, "bind %s: %s", cl->conf->bind_address,
		    strerror(errno));
		freeaddrinfo(ai);
		return FERR_SYSTEM;
	}
	freeaddrinfo(ai);
	return 0;
}

/* Connect one address with the ConnectTimeout: fd or -1 (errno set). */
static int
client_connect_addr(struct client *cl, const struct addrinfo *ai)
{
	struct pollfd pfd;
	socklen_t sl = sizeof(int);
	int fd, soerr = 0, n, one = 1, timeout;

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol)) == -1)
		return -1;
	if (client_bind(cl, fd, ai->ai_family) != 0) {
		close(fd);
		errno = EADDRNOTAVAIL;
		return -1;
	}
	if (misc_set_nonblock(fd, 1) != 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto done;
	if (errno != EINPROGRESS)
		goto fail;
	timeout = cl->conf->connect_timeout > 0 ?
	    cl->conf->connect_timeout * 1000 : -1;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do {
		n = poll(&pfd, 1, timeout);
	} while (n == -1 && errno == EINTR);
	if (n == 0) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (n == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
	    &sl) == -1)
		goto fail;
	if (soerr != 0) {
		errno = soerr;
		goto fail;
	}
 done:
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == -1)
		log_debug("TCP_NODELAY: %s", strerror(errno));
	return fd;
 fail:
	n = errno;
	close(fd);
	errno = n;
	return -1;
}

static int
client_connect_tcp(struct client *cl)
{
	const struct sshconf *conf = cl->conf;
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	int attempt, fd = -1, r, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = conf->address_family;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", conf->port);
	if ((r = getaddrinfo(conf->hostname, portstr, &hints, &res)) != 0) {
		client_seterr(cl, "Could not resolve hostname %s: %s",
		    conf->hostname, gai_strerror(r));
		return FERR_SYSTEM;
	}
	for (attempt = 0; fd == -1 && attempt < conf->connection_attempts;
	    attempt++) {
		if (attempt > 0)
			sleep(1);
		for (ai = res; ai != NULL; ai = ai->ai_next) {
			if (getnameinfo(ai->ai_addr, ai->ai_addrlen, cl->hostip,
			    sizeof(cl->hostip), NULL, 0, NI_NUMERICHOST) != 0)
				misc_strlcpy(cl->hostip, "UNKNOWN",
				    sizeof(cl->hostip));
			log_debug("Connecting to %s [%s] port %d.",
			    conf->hostname, cl->hostip, conf->port);
			if ((fd = client_connect_addr(cl, ai)) != -1)
				break;
			saved = errno;
			log_debug("connect to address %s port %d: %s",
			    cl->hostip, conf->port, strerror(saved));
		}
	}
	freeaddrinfo(res);
	if (fd == -1) {
		if (cl->err[0] == '\0')
			client_seterr(cl, "connect to host %s port %d: %s",
			    conf->hostname, conf->port, strerror(saved));
		errno = saved;
		return saved == ETIMEDOUT ? FERR_TIMEOUT : FERR_SYSTEM;
	}
	log_debug("Connection established.");
	cl->in_fd = cl->out_fd = fd;
	return 0;
}

/* Run command through /bin/sh with its stdin and stdout as our pipes. */
static int
client_connect_proxy(struct client *cl, const char *command)
{
	int to[2] = { -1, -1 }, from[2] = { -1, -1 };
	char *line = NULL;
	pid_t pid;

	log_debug("Executing proxy command: exec %s", command);
	if (asprintf(&line, "exec %s", command) == -1)
		return FERR_ALLOC;
	if (pipe2(to, O_CLOEXEC) == -1 || pipe2(from, O_CLOEXEC) == -1)
		goto fail;
	if ((pid = fork()) == -1)
		goto fail;
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (dup2(to[0], 0) == -1 || dup2(from[1], 1) == -1)
			_exit(255);
		execl("/bin/sh", "sh", "-c", line, (char *)NULL);
		_exit(127);
	}
	free(line);
	close(to[0]);
	close(from[1]);
	cl->proxy_pid = pid;
	cl->out_fd = to[1];
	cl->in_fd = from[0];
	misc_strlcpy(cl->hostip, CLIENT_NO_HOSTIP, sizeof(cl->hostip));
	return 0;
 fail:
	client_seterr(cl, "proxy command: %s", strerror(errno));
	free(line);
	if (to[0] != -1) {
		close(to[0]);
		close(to[1]);
	}
	if (from[0] != -1) {
		close(from[0]);
		close(from[1]);
	}
	return FERR_SYSTEM;
}

static int
client_open_transport(struct client *cl)
{
	const struct sshconf *conf = cl->conf;
	char *cmd = NULL;
	int r;

	if (conf->proxy_jump != NULL && strcmp(conf->proxy_jump, "none") != 0) {
		if ((r = client_jump_command(cl->cfg->self_path,
		    cl->cfg->jump_args, conf->proxy_jump, conf->hostname,
		    conf->port, &cmd)) != 0) {
			client_seterr(cl, "Invalid ProxyJump \"%s\"",
			    conf->proxy_jump);
			return r;
		}
	} else if (conf->proxy_command != NULL &&
	    strcmp(conf->proxy_command, "none") != 0) {
		if ((r = sshconf_expand_proxy(conf, cl->cfg->env,
		    conf->proxy_command, &cmd)) != 0) {
			client_seterr(cl, "Invalid ProxyCommand \"%s\"",
			    conf->proxy_command);
			return r;
		}
	} else
		return client_connect_tcp(cl);
	r = client_connect_proxy(cl, cmd);
	free(cmd);
	return r;
}

/* ---- host key ---- */

static void
client_hostkey_changed(const char *typ, const struct knownhosts_result *res,
    const char *name, const char *file)
{
	log_error("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
	log_error("@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @");
	log_error("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
	log_error("IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!");
	log_error("Someone could be eavesdropping on you right now "
	    "(man-in-the-middle attack)!");
	log_error("It is also possible that a host key has just been changed.");
	log_error("The fingerprint for the %s key sent by the remote host is",
	    typ);
	log_error("%s.", res->offered_fp);
	log_error("The fingerprint of the %s key known for this host is",
	    typ);
	log_error("%s.", res->known_fp);
	log_error("Please contact your system administrator.");
	log_error("Add correct host key in %s to get rid of this message.",
	    file);
	log_error("Offending %s key in %s:%lu", typ, res->file, res->line);
	log_error("Host key for %s has changed and you have requested "
	    "strict checking.", name);
}

static void
client_hostkey_revoked(const char *typ, const struct knownhosts_result *res,
    const char *name)
{
	log_error("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
	log_error("@       WARNING: REVOKED HOST KEY DETECTED!               @");
	log_error("@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@");
	log_error("The %s host key for %s is marked as revoked.", typ, name);
	log_error("This could mean that a stolen key is being used to");
	log_error("impersonate this host.");
	log_error("Revoked by %s:%lu", res->file, res->line);
}

/* StrictHostKeyChecking ask: 1 to accept, 0 to refuse. */
static int
client_hostkey_ask(struct client *cl, const char *name, const char *typ,
    const char *fp, unsigned int other)
{
	char *q = NULL, *ans = NULL, *ip = NULL;
	int accept = 0, i;

	if (cl->cfg->prompt == NULL)
		return 0;
	/* The address as OpenSSH shows it: "[addr]:port" off port 22. */
	if (cl->proxy_pid > 0 || cl->conf->port == 22)
		ip = strdup(cl->hostip);
	else if (asprintf(&ip, "[%s]:%d", cl->hostip, cl->conf->port) == -1)
		ip = NULL;
	if (ip == NULL)
		return 0;
	if (asprintf(&q, "The authenticity of host '%s (%s)' can't be "
	    "established.\n%s key fingerprint is %s.\n%s"
	    "Are you sure you want to continue connecting "
	    "(yes/no/[fingerprint])? ", name, ip, typ, fp,
	    other > 0 ? "The host is known with keys of other types.\n" :
	    "This key is not known by any other names.\n") == -1) {
		free(ip);
		return 0;
	}
	free(ip);
	for (i = 0; i < 10; i++) {
		if (cl->cfg->prompt(i == 0 ? q : "Please type 'yes', 'no' or "
		    "the fingerprint: ", 1, &ans, cl->cfg->prompt_ctx) != 0)
			break;
		if (strcasecmp(ans, "yes") == 0 || strcmp(ans, fp) == 0)
			accept = 1;
		else if (strcasecmp(ans, "no") == 0)
			i = 10;
		free(ans);
		ans = NULL;
		if (accept)
			break;
	}
	free(q);
	return accept;
}

/* Add key under name to the first user known_hosts file. */
static void
client_hostkey_add(struct client *cl, const char *name, const char *typ,
    const struct key *key)
{
	const char *file = cl->conf->user_known_hosts_files.v[0];
	char *dir, *slash;

	if ((dir = strdup(file)) != NULL &&
	    (slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) == 0)
			log_info("Created directory '%s'.", dir);
	}
	free(dir);
	if (knownhosts_add(file, name, key, cl->conf->hash_known_hosts) != 0) {
		log_error("Failed to add the host to the list of known hosts "
		    "(%s).", file);
		return;
	}
	log_info("Warning: Permanently added '%s' (%s) to the list of known "
	    "hosts.", name, typ);
}

/* The known hosts files: user files first, then global ones. */
static size_t
client_known_hosts_files(const struct sshconf *conf, const char **files)
{
	size_t i, n = 0;

	for (i = 0; i < conf->user_known_hosts_files.n &&
	    n < SSHCONF_MAX_HOSTS_FILES; i++)
		files[n++] = conf->user_known_hosts_files.v[i];
	for (i = 0; i < conf->global_known_hosts_files.n &&
	    n < 2 * SSHCONF_MAX_HOSTS_FILES; i++)
		files[n++] = conf->global_known_hosts_files.v[i];
	return n;
}

static int
client_hostkey_check(const struct key *key, void *ctx)
{
	struct client *cl = ctx;
	const struct sshconf *conf = cl->conf;
	const char *files[2 * SSHCONF_MAX_HOSTS_FILES];
	const char *typ = key_type_short(key_get_type(key));
	struct knownhosts_result res;
	char *name = NULL;
	size_t n;
	int r, accept = 0;

	memset(&res, 0, sizeof(res));
	n = client_known_hosts_files(conf, files);
	if ((r = knownhosts_lookup_name(conf->hostname,
	    (unsigned int)conf->port, conf->host_key_alias, &name)) != 0 ||
	    (r = knownhosts_check(files, n, conf->hostname,
	    (unsigned int)conf->port, conf->host_key_alias, key, &res)) != 0) {
		log_error("Cannot check the host key: %s", err_str(r));
		goto out;
	}
	switch (res.status) {
	case KNOWNHOSTS_MATCH:
		log_debug("Host '%s' is known and matches the %s host key.",
		    name, typ);
		log_debug("Found key in %s:%lu", res.file, res.line);
		accept = 1;
		break;
	case KNOWNHOSTS_REVOKED:
		client_hostkey_revoked(typ, &res, name);
		r = FERR_KEY_REVOKED;
		break;
	case KNOWNHOSTS_MISMATCH:
		client_hostkey_changed(typ, &res, name, files[0]);
		r = FERR_HOSTKEY_MISMATCH;
		break;
	case KNOWNHOSTS_UNKNOWN:
		r = FERR_HOSTKEY_UNKNOWN;
		switch (conf->strict_host_key_checking) {
		case SSHCONF_STRICT_NO:
		case SSHCONF_STRICT_NEW:
			accept = 1;
			break;
		case SSHCONF_STRICT_ASK:
			if (!conf->batch_mode)
				accept = client_hostkey_ask(cl, name, typ,
				    res.offered_fp, res.other_types);
			break;
		default:
			log_error("No %s host key is known for %s and you have "
			    "requested strict checking.", typ, name);
			break;
		}
		if (accept)
			client_hostkey_add(cl, name, typ, key);
		break;
	default:
		r = FERR_INTERNAL;
		break;
	}
 out:
	knownhosts_result_clear(&res);
	free(name);
	if (accept)
		return 0;
	client_seterr(cl, "Host key verification failed.");
	cl->hostkey_result = r != 0 ? r : FERR_HOSTKEY_UNKNOWN;
	return cl->hostkey_result;
}

/*
 * A host certificate: accepted when a @cert-authority entry for the host
 * trusts its CA and it is valid for the host now.  Otherwise, unless it
 * or its CA is revoked, its key is checked as a plain host key, as
 * OpenSSH does ("No matching CA found. Retry with plain key").
 */
static int
client_hostcert_check(const struct key_cert *cert, void *ctx)
{
	struct client *cl = ctx;
	const struct sshconf *conf = cl->conf;
	const char *files[2 * SSHCONF_MAX_HOSTS_FILES];
	const char *typ = key_type_short(key_get_type(cert->key));
	struct knownhosts_result res;
	size_t n;
	int r;

	memset(&res, 0, sizeof(res));
	n = client_known_hosts_files(conf, files);
	if ((r = knownhosts_check_cert(files, n, conf->hostname,
	    (unsigned int)conf->port, conf->host_key_alias, cert,
	    (uint64_t)time(NULL), &res)) != 0) {
		log_error("Cannot check the host certificate: %s", err_str(r));
		goto out;
	}
	switch (res.status) {
	case KNOWNHOSTS_MATCH:
		log_debug("Host certificate %s ID \"%s\" serial %llu signed "
		    "by CA %s is trusted.", typ, cert->key_id,
		    (unsigned long long)cert->serial,
		    res.known_fp != NULL ? res.known_fp : "");
		log_debug("Found CA key in %s:%lu", res.file, res.line);
		knownhosts_result_clear(&res);
		return 0;
	case KNOWNHOSTS_REVOKED:
		client_hostkey_revoked(typ, &res, conf->hostname);
		r = FERR_KEY_REVOKED;
		goto out;
	case KNOWNHOSTS_CERT_INVALID:
		log_error("Certificate invalid: %s", res.reason != NULL ?
		    res.reason : "refused");
		break;
	default:
		break;
	}
	knownhosts_result_clear(&res);
	log_debug("No matching CA found. Retry with plain key");
	return client_hostkey_check(cert->key, cl);
 out:
	knownhosts_result_clear(&res);
	client_seterr(cl, "Host key verification failed.");
	cl->hostkey_result = r != 0 ? r : FERR_CERT_INVALID;
	return cl->hostkey_result;
}

/* Whether an entry is a @cert-authority line for the name in ctx. */
static int
client_ca_entry(const char *raw, unsigned long lineno,
    enum knownhosts_line_kind kind, const struct knownhosts_entry *ent,
    void *ctx)
{
	(void)raw;
	(void)lineno;
	if (kind != KNOWNHOSTS_LINE_ENTRY || ent == NULL || ent->key == NULL ||
	    ent->marker != KNOWNHOSTS_MARKER_CA)
		return 0;
	return knownhosts_entry_matches(ent, ctx) ? 1 : 0;
}

/* What client_known_type_entry collects: the host's plain key types. */
struct client_known_types {
	const char *name;	/* the host's known_hosts name */
	unsigned int types;	/* bit (1 << enum key_type) per known type */
};

/* Note the key type of a plain (unmarked) entry for the host. */
static int
client_known_type_entry(const char *raw, unsigned long lineno,
    enum knownhosts_line_kind kind, const struct knownhosts_entry *ent,
    void *ctx)
{
	struct client_known_types *kt = ctx;

	(void)raw;
	(void)lineno;
	if (kind == KNOWNHOSTS_LINE_ENTRY && ent != NULL && ent->key != NULL &&
	    ent->marker == KNOWNHOSTS_MARKER_NONE &&
	    knownhosts_entry_matches(ent, kt->name))
		kt->types |= 1U << key_get_type(ent->key);
	return 0;
}

/*
 * The key type of the host key algorithm of n bytes at alg (a
 * certificate algorithm: the type of the key it certifies).
 */
static enum key_type
client_alg_key_type(const char *alg, size_t n)
{
	static const char sfx[] = "-cert-v01@openssh.com";
	static const char rsa_sha2[] = "rsa-sha2-";
	char name[64];

	if (n > sizeof(sfx) - 1 &&
	    strncmp(alg + n - (sizeof(sfx) - 1), sfx, sizeof(sfx) - 1) == 0)
		n -= sizeof(sfx) - 1;
	if (n >= sizeof(name))
		return KEY_UNSPEC;
	memcpy(name, alg, n);
	name[n] = '\0';
	/* RSA signature algorithms name no key type of their own. */
	if (strncmp(name, rsa_sha2, sizeof(rsa_sha2) - 1) == 0)
		return KEY_RSA;
	return key_type_from_name(name);
}

/*
 * Append to b the names of list whose key type is (known 1) or is not
 * (known 0) among the bits of types; a certificate algorithm counts as
 * known when certs is set.
 */
static int
client_algs_known(const char *list, unsigned int types, int certs,
    int known, struct buf *b)
{
	static const char sfx[] = "-cert-v01@openssh.com";
	const char *p, *e;
	size_t n;
	int r, is_known;

	for (p = list; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		if ((n = (size_t)(e - p)) == 0)
			continue;
		if (n > sizeof(sfx) - 1 && strncmp(e - (sizeof(sfx) - 1), sfx,
		    sizeof(sfx) - 1) == 0)
			is_known = certs;
		else
			is_known = (types & (1U << client_alg_key_type(p, n))) !=
			    0;
		if (is_known != known)
			continue;
		if ((r = buf_putf(b, "%s%.*s", buf_len(b) > 0 ? "," : "",
		    (int)n, p)) != 0)
			return r;
	}
	return 0;
}

/*
 * Append the names of list that are (cert 1) or are not (cert 0)
 * certificate algorithms to b, comma-separated.
 */
static int
client_algs_filter(const char *list, int cert, struct buf *b)
{
	static const char sfx[] = "-cert-v01@openssh.com";
	const char *p, *e;
	size_t n;
	int r;

	for (p = list; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if ((n > sizeof(sfx) - 1 && strncmp(e - (sizeof(sfx) - 1), sfx,
		    sizeof(sfx) - 1) == 0) != cert || n == 0)
			continue;
		if ((r = buf_putf(b, "%s%.*s", buf_len(b) > 0 ? "," : "",
		    (int)n, p)) != 0)
			return r;
	}
	return 0;
}

/*
 * The host key algorithms to offer.  Left at the default, they are
 * ordered as OpenSSH orders them: the certificate algorithms first when
 * a @cert-authority entry names the host, else after the plain ones
 * (so a known plain key is what the server shows).  Then, unless the
 * first one's key type is known for the host, the algorithms of the key
 * types known_hosts holds for it (and the certificate ones, with a CA)
 * go before the others, keeping their order: a server with several host
 * keys shows the one the user knows (OpenSSH's order_hostkeyalgs).
 * *specp gets the configured list or *allocp, an allocated one.
 */
static int
client_hostkey_algs(struct client *cl, const char **specp, char **allocp)
{
	const struct sshconf *conf = cl->conf;
	const char *files[2 * SSHCONF_MAX_HOSTS_FILES];
	struct client_known_types kt = { NULL, 0 };
	char *name = NULL, *def = NULL, *ordered;
	struct buf *b = NULL;
	size_t i, n;
	int r, found = 0;

	*allocp = NULL;
	*specp = conf->hostkey_algorithms;
	if ((def = transport_query("key", TRANSPORT_QUERY_CLIENT)) == NULL)
		return FERR_ALLOC;
	if (conf->hostkey_algorithms != NULL &&
	    strcmp(conf->hostkey_algorithms, def) != 0) {
		r = 0;
		goto out;
	}
	if ((r = knownhosts_lookup_name(conf->hostname,
	    (unsigned int)conf->port, conf->host_key_alias, &name)) != 0)
		goto out;
	n = client_known_hosts_files(conf, files);
	for (i = 0; i < n && !found; i++)
		found = knownhosts_foreach(files[i], client_ca_entry, name) == 1;
	if ((b = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if (found) {
		log_debug("A @cert-authority entry names %s: asking for host "
		    "certificates first", name);
		r = buf_putf(b, "%s", def);
	} else if ((r = client_algs_filter(def, 0, b)) == 0)
		r = client_algs_filter(def, 1, b);
	if (r != 0 || (*allocp = buf_dup_string(b)) == NULL) {
		r = r != 0 ? r : FERR_ALLOC;
		goto out;
	}
	*specp = *allocp;
	kt.name = name;
	for (i = 0; i < n; i++)
		if (knownhosts_foreach(files[i], client_known_type_entry,
		    &kt) != 0)
			continue;	/* unreadable: it knows no key */
	if (kt.types == 0 || (kt.types & (1U << client_alg_key_type(*allocp,
	    strcspn(*allocp, ",")))) != 0)
		goto out;
	buf_reset(b);
	if ((r = client_algs_known(*allocp, kt.types, found, 1, b)) != 0 ||
	    (r = client_algs_known(*allocp, kt.types, found, 0, b)) != 0 ||
	    (ordered = buf_dup_string(b)) == NULL) {
		r = r != 0 ? r : FERR_ALLOC;
		goto out;
	}
	log_debug("Known host key types for %s: preferring %s", name, ordered);
	free(*allocp);
	*specp = *allocp = ordered;
 out:
	if (r != 0) {
		free(*allocp);
		*allocp = NULL;
	}
	buf_free(b);
	free(def);
	free(name);
	return r;
}

/* ---- authentication ---- */

static struct client_id *
client_id_find(struct client *cl, const struct key *key)
{
	size_t i;

	for (i = 0; i < cl->nids; i++)
		if (cl->ids[i].pub == key)
			return &cl->ids[i];
	return NULL;
}

/* Whether the agent holds key: its identity index, or -1. */
static long
client_agent_has(const struct client *cl, const struct key *key)
{
	size_t i;

	for (i = 0; cl->agent_ids != NULL && i < cl->agent_ids->n; i++)
		if (cl->agent_ids->ids[i].key != NULL &&
		    key_equal_public(cl->agent_ids->ids[i].key, key))
			return (long)i;
	return -1;
}

static int
client_id_add(struct client *cl, struct key *pub, int owned, char *path,
    int in_agent)
{
	struct client_id *n;

	if ((n = reallocarray(cl->ids, cl->nids + 1, sizeof(*n))) == NULL)
		return FERR_ALLOC;
	cl->ids = n;
	memset(&n[cl->nids], 0, sizeof(*n));
	n[cl->nids].pub = pub;
	n[cl->nids].owned = owned;
	n[cl->nids].path = path;
	n[cl->nids].in_agent = in_agent;
	cl->nids++;
	return 0;
}

static void
client_agent_open(struct client *cl)
{
	const char *path = cl->conf->identity_agent;
	int r;

	if (path != NULL && strcmp(path, "none") == 0)
		return;
	if (path != NULL && strcmp(path, "SSH_AUTH_SOCK") == 0)
		path = NULL;
	if (path == NULL && (getenv("SSH_AUTH_SOCK") == NULL ||
	    *getenv("SSH_AUTH_SOCK") == '\0'))
		return;
	if ((r = agent_connect(path, 0, &cl->agent)) != 0 ||
	    (r = agent_list(cl->agent, &cl->agent_ids)) != 0) {
		log_debug("agent %s: %s", path != NULL ? path : "SSH_AUTH_SOCK",
		    err_str(r));
		agent_close(cl->agent);
		cl->agent = NULL;
		return;
	}
	log_debug("agent: %zu identities", cl->agent_ids->n);
}

/* The public key of an identity file (or of its .pub file). */
static int
client_id_public(const char *path, struct key **pubp, int *encryptedp)
{
	struct buf *b = NULL;
	char *pubpath = NULL, *text = NULL;
	int r;

	*pubp = NULL;
	*encryptedp = 0;
	if ((r = key_read_file(path, 0, &b)) == 0) {
		*encryptedp = key_private_is_encrypted(b);
		r = key_parse_private_public(b, pubp);
		buf_free(b);
		b = NULL;
		if (r == 0)
			return 0;
	}
	if (asprintf(&pubpath, "%s.pub", path) == -1)
		return FERR_ALLOC;
	if ((r = key_read_file(pubpath, 0, &b)) == 0) {
		if ((text = buf_dup_string(b)) == NULL)
			r = FERR_ALLOC;
		else
			r = key_parse_public_line(text, pubp);
	}
	free(text);
	free(pubpath);
	buf_free(b);
	return r;
}

static int
client_load_identities(struct client *cl)
{
	const struct sshconf *conf = cl->conf;
	struct key *pub;
	char *path;
	size_t i;
	long ai;
	int r, encrypted, can_ask;

	if (conf->pubkey_authentication == SSHCONF_PUBKEY_NO)
		return 0;
	can_ask = cl->cfg->prompt != NULL && !conf->batch_mode;
	client_agent_open(cl);
	for (i = 0; i < conf->identity_files.n; i++) {
		if ((r = sshconf_expand_path(conf, cl->cfg->env,
		    conf->identity_files.v[i], &path)) != 0)
			return r;
		if ((r = client_id_public(path, &pub, &encrypted)) != 0) {
			log_debug("identity file %s: %s", path, err_str(r));
			free(path);
			continue;
		}
		ai = client_agent_has(cl, pub);
		if (ai < 0 && encrypted && !can_ask) {
			/* Signing would need a passphrase nobody can give. */
			log_debug("identity file %s is encrypted: skipped",
			    path);
			key_free(pub);
			free(path);
			continue;
		}
		log_debug("identity file %s type %s%s", path,
		    key_type_short(key_get_type(pub)),
		    ai >= 0 ? " (in agent)" : "");
		if ((r = client_id_add(cl, pub, 1, path, ai >= 0)) != 0) {
			key_free(pub);
			free(path);
			return r;
		}
		cl->ids[cl->nids - 1].encrypted = encrypted;
	}
	for (i = 0; !conf->identities_only && cl->agent_ids != NULL &&
	    i < cl->agent_ids->n; i++) {
		struct key *k = cl->agent_ids->ids[i].key;
		size_t j;
		int dup = 0;

		if (k == NULL)
			continue;
		for (j = 0; j < cl->nids; j++)
			dup |= key_equal_public(cl->ids[j].pub, k);
		if (!dup && (r = client_id_add(cl, k, 0, NULL, 1)) != 0)
			return r;
	}
	if (cl->nids == 0)
		return 0;
	if ((cl->keys = calloc(cl->nids, sizeof(*cl->keys))) == NULL)
		return FERR_ALLOC;
	for (i = 0; i < cl->nids; i++)
		cl->keys[i] = cl->ids[i].pub;
	return 0;
}

/* Decrypt the private key of an identity file, asking for a passphrase. */
static int
client_id_private(struct client *cl, struct client_id *id)
{
	struct buf *b = NULL;
	char *prompt = NULL, *pass = NULL;
	int r, i;

	if ((r = key_read_file(id->path, 0, &b)) != 0)
		return r;
	r = key_parse_private(b, NULL, &id->priv);
	if (r == FERR_KEY_WRONG_PASSPHRASE && cl->cfg->prompt != NULL &&
	    !cl->conf->batch_mode) {
		if (asprintf(&prompt, "Enter passphrase for key '%s': ",
		    id->path) == -1) {
			r = FERR_ALLOC;
			goto out;
		}
		for (i = 0; i < cl->conf->number_of_password_prompts &&
		    r == FERR_KEY_WRONG_PASSPHRASE; i++) {
			if (cl->cfg->prompt(prompt, 0, &pass,
			    cl->cfg->prompt_ctx) != 0)
				break;
			r = key_parse_private(b, pass, &id->priv);
			misc_freezero(pass, strlen(pass));
			pass = NULL;
			if (r == FERR_KEY_WRONG_PASSPHRASE)
				log_debug("bad passphrase given for %s",
				    id->path);
		}
	}
 out:
	free(prompt);
	buf_free(b);
	return r;
}

static int
client_sign(const struct key *key, const char *alg, const uint8_t *data,
    size_t len, struct buf *sig, void *ctx)
{
	struct client *cl = ctx;
	struct client_id *id = client_id_find(cl, key);
	unsigned int flags = 0;
	int r;

	if (id == NULL)
		return FERR_INTERNAL;
	if (id->in_agent && cl->agent != NULL) {
		if (strcmp(alg, "rsa-sha2-256") == 0)
			flags = AGENT_RSA_SHA2_256;
		else if (strcmp(alg, "rsa-sha2-512") == 0)
			flags = AGENT_RSA_SHA2_512;
		return agent_sign(cl->agent, key, alg, data, len, flags, sig);
	}
	if (id->priv == NULL && (r = client_id_private(cl, id)) != 0) {
		log_error("Load key \"%s\": %s", id->path, err_str(r));
		return r;
	}
	return key_sign(id->priv, alg, data, len, 0, sig);
}

/* Whether key signs without a prompt: an agent's, or a plain file's. */
static int
client_key_ready(const struct key *key, void *ctx)
{
	struct client *cl = ctx;
	struct client_id *id = client_id_find(cl, key);

	if (id == NULL)
		return 0;
	if (id->in_agent)
		return cl->agent != NULL;
	return id->priv != NULL || !id->encrypted;
}

static int
client_password(const char *user, unsigned int attempt, char **pwp,
    void *ctx)
{
	struct client *cl = ctx;
	char *prompt = NULL;
	int r;

	if (attempt > 0)
		log_error("Permission denied, please try again.");
	if (asprintf(&prompt, "%s@%s's password: ", user,
	    cl->conf->hostname) == -1)
		return FERR_ALLOC;
	r = cl->cfg->prompt(prompt, 0, pwp, cl->cfg->prompt_ctx);
	free(prompt);
	return r;
}

static int
client_kbdint(const char *name, const char *instruction, size_t nprompts,
    const char *const *prompts, const int *echo, char **responses,
    void *ctx)
{
	struct client *cl = ctx;
	char *prompt;
	size_t i;
	int r;

	if (*name != '\0')
		log_info("%s", name);
	if (*instruction != '\0')
		log_info("%s", instruction);
	for (i = 0; i < nprompts; i++) {
		if (asprintf(&prompt, "(%s@%s) %s", cl->conf->user,
		    cl->conf->hostname, prompts[i]) == -1)
			return FERR_ALLOC;
		r = cl->cfg->prompt(prompt, echo[i], &responses[i],
		    cl->cfg->prompt_ctx);
		free(prompt);
		if (r != 0)
			return r;
	}
	return 0;
}

static void
client_banner(const char *text, void *ctx)
{
	size_t len = strlen(text);

	(void)ctx;
	if (len > 0 && text[len - 1] == '\n')
		len--;
	log_info("%.*s", (int)len, text);
}

/* PreferredAuthentications less what is disabled or cannot be asked. */
static int
client_methods(struct client *cl)
{
	const struct sshconf *conf = cl->conf;
	int can_ask = cl->cfg->prompt != NULL && !conf->batch_mode;
	struct buf *b;
	char *list, *cp, *m;
	int ok, r = 0;

	if ((list = strdup(conf->preferred_authentications != NULL ?
	    conf->preferred_authentications : CLIENT_DEFAULT_METHODS)) == NULL)
		return FERR_ALLOC;
	if ((b = buf_new()) == NULL) {
		free(list);
		return FERR_ALLOC;
	}
	for (cp = list; r == 0 && (m = strsep(&cp, ",")) != NULL;) {
		if (strcmp(m, "publickey") == 0)
			ok = conf->pubkey_authentication != SSHCONF_PUBKEY_NO;
		else if (strcmp(m, "password") == 0)
			ok = conf->password_authentication && can_ask;
		else if (strcmp(m, "keyboard-interactive") == 0)
			ok = conf->kbd_interactive_authentication && can_ask;
		else
			ok = 0;
		if (ok)
			r = buf_putf(b, "%s%s", buf_len(b) > 0 ? "," : "", m);
	}
	/* Nothing usable: publickey without keys fails as it should. */
	if (r == 0 && buf_len(b) == 0)
		r = buf_putf(b, "publickey");
	if (r == 0 && (cl->methods = buf_dup_string(b)) == NULL)
		r = FERR_ALLOC;
	free(list);
	buf_free(b);
	return r;
}

/* Keep the method list of a USERAUTH_FAILURE for "Permission denied". */
static void
client_note_failure(struct client *cl, const struct buf *payload)
{
	struct buf *copy;
	char *list = NULL;

	if ((copy = buf_from(buf_ptr(payload), buf_len(payload))) == NULL)
		return;
	if (buf_get_namelist(copy, &list) == 0) {
		free(cl->server_methods);
		cl->server_methods = list;
	}
	buf_free(copy);
}

/* ---- the connection ---- */

static void
client_alive(struct evloop *loop, void *ctx)
{
	struct client *cl = ctx;

	(void)loop;
	if (cl->state != CLIENT_OPEN || cl->done)
		return;
	if (cl->alive_missed >=
	    (unsigned int)cl->conf->server_alive_count_max) {
		client_seterr(cl, "Timeout, server %s not responding.",
		    cl->conf->hostname);
		client_fail(cl, FERR_TIMEOUT);
		return;
	}
	if (conn_global_request(cl->conn, "keepalive@openssh.com", 1) != 0) {
		client_fail(cl, FERR_CONN_CLOSED);
		return;
	}
	cl->alive_missed++;
	client_flush(cl);
}

static void
client_tick(struct evloop *loop, void *ctx)
{
	struct client *cl = ctx;

	(void)loop;
	if (cl->done)
		return;
	if (transport_tick(cl->t, time(NULL)) != 0)
		client_fail(cl, FERR_CONN_CLOSED);
	client_pump(cl);
}

static int
client_authenticated(struct client *cl)
{
	struct conn_config cc;
	int r;

	log_verbose("Authenticated to %s ([%s]:%d) using \"%s\".",
	    cl->conf->hostname, cl->hostip, cl->conf->port,
	    auth_client_method(cl->auth));
	memset(&cc, 0, sizeof(cc));
	cc.manual_window = 1;
	cc.window = cl->cfg->window;
	if ((r = conn_new(cl->t, &cc, &cl->conn)) != 0)
		return r;
	cl->state = CLIENT_OPEN;
	if (cl->conf->server_alive_interval > 0 &&
	    (r = evloop_add_timer(cl->loop,
	    (uint64_t)cl->conf->server_alive_interval * 1000, 1, client_alive,
	    cl, NULL)) != 0)
		return r;
	return 0;
}

static int
client_transport_event(struct client *cl, struct transport_event *ev)
{
	struct conn_event cev;
	int r;

	switch (ev->type) {
	case TRANSPORT_EV_DISCONNECT:
		client_seterr(cl, "Received disconnect from %s port %d:%u: %s",
		    cl->conf->hostname, cl->conf->port, ev->reason,
		    ev->description);
		client_fail(cl, FERR_DISCONNECTED);
		return 0;
	case TRANSPORT_EV_KEX_DONE:
		if (transport_kex_count(cl->t) == 1)
			log_debug("kex: %s host key %s cipher %s mac %s",
			    transport_algorithm(cl->t, TRANSPORT_ALG_KEX),
			    transport_algorithm(cl->t, TRANSPORT_ALG_HOSTKEY),
			    transport_algorithm(cl->t,
			    TRANSPORT_ALG_CIPHER_CTOS),
			    transport_algorithm(cl->t, TRANSPORT_ALG_MAC_CTOS));
		else
			log_debug("key exchange %u done (rekeyed)",
			    transport_kex_count(cl->t));
		return 0;
	case TRANSPORT_EV_PACKET:
		break;
	default:
		return 0;
	}
	if (cl->state == CLIENT_AUTH) {
		if (ev->msg == AUTH_MSG_FAILURE)
			client_note_failure(cl, ev->payload);
		r = auth_client_input(cl->auth, ev->msg, ev->payload);
		if (r == FERR_AUTH_FAILED) {
			client_seterr(cl, "Permission denied (%s).",
			    cl->server_methods != NULL ? cl->server_methods :
			    "none");
			client_fail(cl, r);
			return 0;
		}
		if (r < 0)
			return r;
		if (r == AUTH_SUCCESS)
			return client_authenticated(cl);
		return 0;
	}
	if ((r = conn_input(cl->conn, ev->msg, ev->payload, &cev)) != 0)
		return r;
	if (cev.type == CONN_EV_NONE)
		return 0;
	if (cev.type == CONN_EV_GLOBAL_REPLY)
		cl->alive_missed = 0;
	if (cl->handler != NULL)
		return cl->handler(cl, &cev, cl->hctx);
	return 0;
}

/* Write the transport's output; tell the program when it drained. */
static void
client_write_out(struct client *cl)
{
	struct buf *out = transport_output(cl->t);
	unsigned int ev;
	size_t before = buf_len(out);
	ssize_t n;

	while (buf_len(out) > 0) {
		n = write(cl->out_fd, buf_ptr(out), buf_len(out));
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				client_seterr(cl, "write failed: %s",
				    strerror(errno));
				client_fail(cl, FERR_CONN_CLOSED);
				buf_reset(out);
			}
			break;
		}
		if (buf_consume(out, (size_t)n) != 0)
			client_fail(cl, FERR_INTERNAL);
	}
	ev = buf_len(out) > 0 ? EVLOOP_WRITE : 0;
	if (cl->in_fd == cl->out_fd)
		ev |= EVLOOP_READ;
	if (evloop_set_events(cl->loop, cl->out_fd, ev) != 0)
		client_fail(cl, FERR_INTERNAL);
	if (buf_len(out) < before && cl->state == CLIENT_OPEN &&
	    cl->handler != NULL && !cl->done &&
	    cl->handler(cl, NULL, cl->hctx) < 0)
		client_fail(cl, FERR_CONN_CLOSED);
}

void
client_flush(struct client *cl)
{
	if (cl->flushing) {
		cl->flush_again = 1;
		return;
	}
	cl->flushing = 1;
	do {
		cl->flush_again = 0;
		client_write_out(cl);
	} while (cl->flush_again && !cl->done);
	cl->flushing = 0;
}

static void
client_pump(struct client *cl)
{
	struct transport_event ev;
	int r = 0;

	while (!cl->done && (r = transport_poll(cl->t, &ev)) == 0 &&
	    ev.type != TRANSPORT_EV_NONE) {
		if ((r = client_transport_event(cl, &ev)) != 0) {
			client_seterr(cl, "Connection to %s port %d: %s",
			    cl->conf->hostname, cl->conf->port,
			    cl->conn != NULL && conn_error(cl->conn) != NULL ?
			    conn_error(cl->conn) : err_str(r));
			if (transport_disconnect(cl->t,
			    TRANSPORT_DISC_PROTOCOL_ERROR, err_str(r)) != 0)
				log_debug("already disconnected");
			client_fail(cl, r);
			r = 0;
		}
	}
	/* Everything read is taken in: EXT_INFO too, if it came. */
	if (!cl->done && r == 0 && cl->state == CLIENT_AUTH &&
	    (r = auth_client_pipeline(cl->auth)) > 0)
		r = 0;
	if (!cl->done && r != 0) {
		if (cl->hostkey_result != 0)
			r = cl->hostkey_result;
		else if (r <= FERR_NO_KEX_MATCH && r >= FERR_NO_COMPRESS_MATCH)
			client_seterr(cl, "Unable to negotiate with %s port "
			    "%d: %s", cl->conf->hostname, cl->conf->port,
			    transport_error(cl->t));
		else
			client_seterr(cl, "Connection to %s port %d: %s",
			    cl->conf->hostname, cl->conf->port,
			    transport_error(cl->t));
		client_fail(cl, r);
	}
	client_flush(cl);
}

static void
client_readable(struct evloop *loop, int fd, unsigned int events, void *ctx)
{
	struct client *cl = ctx;
	struct transport_fd_read rd = { cl->in_fd, 0, 0 };

	(void)loop;
	if (fd == cl->in_fd && (events & (EVLOOP_READ | EVLOOP_ERROR))) {
		if (transport_input_fill(cl->t, CLIENT_READ_CHUNK,
		    transport_fill_fd, &rd) != 0) {
			client_seterr(cl, "Connection to %s: input overflow",
			    cl->conf->hostname);
			client_fail(cl, FERR_PROTOCOL);
		} else if (rd.n == 0 || (rd.n < 0 && rd.err != EAGAIN &&
		    rd.err != EINTR)) {
			if (rd.n == 0)
				client_seterr(cl, "Connection closed by %s "
				    "port %d", cl->hostip, cl->conf->port);
			else
				client_seterr(cl, "Read from remote host %s: "
				    "%s", cl->conf->hostname,
				    strerror(rd.err));
			client_fail(cl, FERR_CONN_CLOSED);
		}
	}
	client_pump(cl);
}

/* ---- the public interface ---- */

int
client_new(const struct client_config *cfg, struct client **clp)
{
	struct client *cl;
	int r;

	*clp = NULL;
	if ((cl = calloc(1, sizeof(*cl))) == NULL)
		return FERR_ALLOC;
	cl->cfg = cfg;
	cl->conf = cfg->conf;
	cl->in_fd = cl->out_fd = -1;
	cl->proxy_pid = -1;
	if ((r = evloop_new(&cl->loop)) != 0) {
		free(cl);
		return r;
	}
	*clp = cl;
	return 0;
}

int
client_connect(struct client *cl)
{
	const struct sshconf *conf = cl->conf;
	struct transport_config tc;
	struct auth_client_config ac;
	char *hkalgs = NULL;
	int r;

	if (cl->state != CLIENT_IDLE)
		return FERR_ARGUMENT;
	if ((r = client_load_identities(cl)) != 0 ||
	    (r = client_methods(cl)) != 0)
		return r;
	memset(&tc, 0, sizeof(tc));
	tc.kex_algorithms = conf->kex_algorithms;
	if ((r = client_hostkey_algs(cl, &tc.hostkey_algorithms,
	    &hkalgs)) != 0)
		return r;
	tc.ciphers = conf->ciphers;
	tc.macs = conf->macs;
	tc.compression = conf->compression ? CLIENT_COMPRESSION : NULL;
	tc.rekey_bytes = conf->rekey_limit > 0 ?
	    (uint64_t)conf->rekey_limit : 0;
	tc.rekey_seconds = conf->rekey_interval > 0 ?
	    (uint32_t)conf->rekey_interval : 0;
	tc.hostkey_check = client_hostkey_check;
	tc.hostcert_check = client_hostcert_check;
	tc.hostkey_ctx = cl;
	memset(&ac, 0, sizeof(ac));
	ac.user = conf->user;
	ac.methods = cl->methods;
	ac.keys = cl->keys;
	ac.nkeys = cl->nids;
	ac.sign = client_sign;
	ac.key_ready = client_key_ready;
	ac.password_tries = (unsigned int)conf->number_of_password_prompts;
	if (cl->cfg->prompt != NULL && !conf->batch_mode) {
		ac.password = client_password;
		ac.kbdint = client_kbdint;
	}
	if (conf->log_level > 0)
		ac.banner = client_banner;
	ac.ctx = cl;
	r = transport_new(&tc, &cl->t);
	free(hkalgs);
	if (r != 0) {
		client_seterr(cl, "Bad algorithm list in the configuration");
		return r;
	}
	if ((r = auth_client_new(cl->t, &ac, &cl->auth)) != 0 ||
	    (r = auth_client_start(cl->auth)) != 0)
		return r;
	if ((r = client_open_transport(cl)) != 0)
		return r;
	if ((r = misc_set_nonblock(cl->in_fd, 1)) != 0 ||
	    (r = misc_set_nonblock(cl->out_fd, 1)) != 0 ||
	    (r = evloop_add_fd(cl->loop, cl->in_fd, EVLOOP_READ,
	    client_readable, cl)) != 0 ||
	    (cl->out_fd != cl->in_fd && (r = evloop_add_fd(cl->loop,
	    cl->out_fd, 0, client_readable, cl)) != 0) ||
	    (conf->rekey_interval > 0 && (r = evloop_add_timer(cl->loop,
	    1000, 1, client_tick, cl, NULL)) != 0))
		return r;
	cl->state = CLIENT_AUTH;
	client_pump(cl);
	while (!cl->done && cl->state == CLIENT_AUTH)
		if ((r = evloop_run_once(cl->loop, -1)) != 0)
			return r;
	if (cl->state == CLIENT_OPEN && !cl->done)
		return 0;
	return cl->result != 0 ? cl->result : FERR_CONN_CLOSED;
}

struct evloop *
client_evloop(struct client *cl)
{
	return cl->loop;
}

struct conn *
client_conn(struct client *cl)
{
	return cl->conn;
}

void
client_set_handler(struct client *cl, client_event_fn *fn, void *ctx)
{
	cl->handler = fn;
	cl->hctx = ctx;
}

int
client_run(struct client *cl)
{
	int r;

	if (cl->state != CLIENT_OPEN)
		return FERR_ARGUMENT;
	cl->stopped = 0;
	client_pump(cl);
	while (!cl->done && !cl->stopped)
		if ((r = evloop_run_once(cl->loop, -1)) != 0)
			return r;
	if (cl->stopped && !cl->done)
		return 0;
	return cl->result != 0 ? cl->result : FERR_CONN_CLOSED;
}

void
client_stop(struct client *cl)
{
	cl->stopped = 1;
}

const char *
client_error(const struct client *cl)
{
	return cl->err;
}

const char *
client_auth_method(const struct client *cl)
{
	return cl->auth != NULL ? auth_client_method(cl->auth) : NULL;
}

void
client_free(struct client *cl)
{
	size_t i;
	int status;

	if (cl == NULL)
		return;
	if (cl->t != NULL && cl->out_fd != -1 && !cl->done &&
	    transport_is_open(cl->t) &&
	    transport_disconnect(cl->t, TRANSPORT_DISC_BY_APPLICATION,
	    "disconnected by user") == 0) {
		cl->state = CLIENT_IDLE;	/* no handler calls now */
		client_flush(cl);
	}
	if (cl->in_fd != -1)
		close(cl->in_fd);
	if (cl->out_fd != -1 && cl->out_fd != cl->in_fd)
		close(cl->out_fd);
	if (cl->proxy_pid > 0) {
		kill(cl->proxy_pid, SIGHUP);
		while (waitpid(cl->proxy_pid, &status, 0) == -1 &&
		    errno == EINTR)
			;
	}
	conn_free(cl->conn);
	auth_client_free(cl->auth);
	transport_free(cl->t);
	for (i = 0; i < cl->nids; i++) {
		if (cl->ids[i].owned)
			key_free(cl->ids[i].pub);
		key_free(cl->ids[i].priv);
		free(cl->ids[i].path);
	}
	free(cl->ids);
	free(cl->keys);
	agent_identities_free(cl->agent_ids);
	agent_close(cl->agent);
	free(cl->methods);
	free(cl->server_methods);
	evloop_free(cl->loop);
	free(cl);
}
