/*
 * fsshd: Ferry's SSH server.
 *
 * Started by a user with no configuration file it runs the embedded
 * default: it serves that user alone on 127.0.0.1 (port 2222 unless -p),
 * with an ed25519 host key it creates on first start under
 * $XDG_STATE_HOME/ferry (default ~/.local/state/ferry).  With -f it
 * reads an sshd_config and, as root, serves every account it allows.
 *
 * The listener accepts and never parses protocol data: for each
 * connection it forks and re-executes itself (-i -R), so that the new
 * process starts with no host key in memory; there the monitor
 * (fsshd-monitor.c) starts the sandboxed pre-auth process and only then
 * loads the keys.  The listener counts unauthenticated connections
 * through a pipe each one closes when authenticated (MaxStartups) and
 * turns their exit statuses into per-source penalties (fsshd-limits.c).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "ferry/transport.h"
#include "fsshd.h"
#include "fsshd-auth.h"
#include "fsshd-hostcert.h"	/* HostCertificate */
#include "misc.h"
#include "prog.h"

#define FSSHD_DEFAULT_PORT	2222
#define FSSHD_KEY_NAME		"ssh_host_ed25519_key"
/* Seconds a client has to authenticate (sshd's LoginGraceTime). */
#define FSSHD_GRACE		120
/* Listening sockets at most, and -o options at most. */
#define FSSHD_MAX_LISTEN	16
#define FSSHD_MAX_OPTS		64
/* The descriptor a re-executed connection process finds its startup
 * pipe on (-R). */
#define FSSHD_STARTUP_FD	3
/*
 * Configuration mode: the text of the configuration the listener loaded,
 * for the re-executed per-connection process (as sshd passes it), so
 * that an edit of the file affects no connection before SIGHUP.
 */
#define FSSHD_CONFIG_FD		4
/* A configuration file is at most this long. */
#define FSSHD_CONFIG_MAX	(4 * 1024 * 1024)

static volatile sig_atomic_t fsshd_stop;
/* The command line, for re-executing per connection. */
static int fsshd_argc;
static char **fsshd_argv;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: fsshd [-deDitT] [-C connection_spec] "
	    "[-E log_file] [-f config_file]\n"
	    "             [-g login_grace_time] [-h host_key_file] "
	    "[-o option] [-p port]\n");
	exit(1);
}

static void
fsshd_on_term(int signo)
{
	(void)signo;
	fsshd_stop = 1;
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int
fsshd_mkdirs(const char *path)
{
	char tmp[4096], *p;

	if (misc_strlcpy(tmp, path, sizeof(tmp)) >= sizeof(tmp))
		return -1;
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* The state directory of the embedded default. */
static void
fsshd_state_dir(const char *home, char *out, size_t len)
{
	const char *xdg = getenv("XDG_STATE_HOME");

	if (xdg != NULL && xdg[0] == '/')
		snprintf(out, len, "%s/ferry", xdg);
	else
		snprintf(out, len, "%s/.local/state/ferry", home);
}

/* Load the host key at path, or create it (and its .pub) when absent. */
static struct key *
fsshd_hostkey(const char *path, int create)
{
	struct buf *b = NULL;
	struct key *k = NULL;
	char pubpath[4096];
	int r;

	if ((r = key_read_file(path, 0, &b)) == 0) {
		if ((r = key_parse_private(b, NULL, &k)) != 0)
			fatal_r(r, "host key %s", path);
		buf_free(b);
		return k;
	}
	if (!create || r != FERR_SYSTEM || errno != ENOENT)
		fatal("host key %s: %s", path, r == FERR_SYSTEM ?
		    strerror(errno) : err_str(r));
	if ((r = key_generate(KEY_ED25519, 0, &k)) != 0 ||
	    (r = key_set_comment(k, "fsshd host key")) != 0 ||
	    (b = buf_new()) == NULL ||
	    (r = key_write_private(k, NULL, NULL, 0, b)) != 0 ||
	    (r = key_write_file(path, b, 0600)) != 0)
		fatal_r(r, "creating host key %s", path);
	buf_reset(b);
	if (snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >=
	    (int)sizeof(pubpath))
		fatal("host key path too long: %s", path);
	if ((r = key_format_public_line(k, b)) != 0 || (r = buf_put_u8(b, '\n')) != 0 ||
	    (r = key_write_file(pubpath, b, 0644)) != 0)
		fatal_r(r, "writing %s", pubpath);
	buf_free(b);
	log_info("created host key %s", path);
	return k;
}

static int
fsshd_listen(const char *addr, int port)
{
	int fd;

	if (fsshd_listen_open(addr, port, &fd) != 0)
		fatal("Bind to port %d on %s failed: %s.", port, addr,
		    strerror(errno));
	log_info("Server listening on %s port %d.", addr, port);
	return fd;
}

/* A per-connection process the listener watches. */
struct fsshd_child {
	pid_t pid;
	int startup_fd;			/* open while unauthenticated */
	struct sockaddr_storage ss;
	char addr[64];
};

struct fsshd_listener {
	struct fsshd_opts *o;
	const int *lfds;
	size_t nl;
	int debug;
	struct fsshd_limits *limits;	/* configuration mode */
	struct fsshd_child *kids;
	size_t nkids, cap;
	unsigned int startups;
	char exe[PATH_MAX];
	char **rexec_argv;
	int config_fd;			/* memfd with the text, or -1 */
};

/* Serve a connection on in_fd/out_fd in this process, as its monitor. */
static int
fsshd_serve_conn(struct fsshd_opts *o, int in_fd, int out_fd)
{
	char addr[INET6_ADDRSTRLEN], laddr[INET6_ADDRSTRLEN];
	char peer[INET6_ADDRSTRLEN + 16];
	int port, lport, one = 1;

	fsshd_sock_names(in_fd, addr, sizeof(addr), &port, laddr,
	    sizeof(laddr), &lport);
	/*
	 * No Nagle on a TCP peer (as sshd): a small packet written while an
	 * earlier one is unacknowledged would otherwise wait for the peer's
	 * delayed ACK, up to 40 ms per SFTP reply or window adjust while an
	 * upload streams in.
	 */
	if (port >= 0 && setsockopt(in_fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one)) == -1)
		log_debug("TCP_NODELAY: %s", strerror(errno));
	snprintf(peer, sizeof(peer), "%s port %d", addr,
	    port >= 0 ? port : 65535);
	return fsshd_monitor_run(o, in_fd, out_fd, peer, addr, laddr, lport);
}

/* dup2 that leaves newfd open across exec, also when it is oldfd. */
static int
fsshd_dup_to(int oldfd, int newfd)
{
	int fl;

	if (oldfd != newfd)
		return dup2(oldfd, newfd) == -1 ? -1 : 0;
	if ((fl = fcntl(newfd, F_GETFD)) == -1)
		return -1;
	return fcntl(newfd, F_SETFD, fl & ~FD_CLOEXEC) == -1 ? -1 : 0;
}

/*
 * Accept one connection: check the limits, then fork and re-execute
 * (-i -R) with the socket on stdin and stdout and the startup pipe on
 * descriptor 3; with -d serve it in this process.
 */
static void
fsshd_accepted(struct fsshd_listener *L, int fd)
{
	struct fsshd_child *k;
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	char addr[INET6_ADDRSTRLEN], laddr[INET6_ADDRSTRLEN];
	int p[2], port, lport;
	pid_t pid;

	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &slen) != 0)
		ss.ss_family = AF_UNSPEC;
	fsshd_sock_names(fd, addr, sizeof(addr), &port, laddr, sizeof(laddr),
	    &lport);
	log_verbose("Connection from %s port %d", addr, port);
	if (L->limits != NULL && !fsshd_limits_admit(L->limits, &ss, addr,
	    L->startups, time(NULL))) {
		close(fd);
		return;
	}
	if (L->debug) {
		(void)fsshd_serve_conn(L->o, fd, fd);
		return;
	}
	if (L->nkids == L->cap) {
		size_t ncap = L->cap == 0 ? 16 : L->cap * 2;

		if ((k = reallocarray(L->kids, ncap, sizeof(*k))) == NULL) {
			log_error("out of memory for connection %s", addr);
			close(fd);
			return;
		}
		L->kids = k;
		L->cap = ncap;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_error("pipe: %s", strerror(errno));
		close(fd);
		return;
	}
	if ((pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		close(fd);
		return;
	}
	if (pid == 0) {
		if (dup2(fd, 0) == -1 || dup2(fd, 1) == -1 ||
		    fsshd_dup_to(p[1], FSSHD_STARTUP_FD) == -1 ||
		    (L->config_fd >= 0 &&
		    fsshd_dup_to(L->config_fd, FSSHD_CONFIG_FD) == -1))
			_exit(1);
		execv(L->exe, L->rexec_argv);
		log_error("re-executing %s: %s", L->exe, strerror(errno));
		_exit(1);
	}
	close(p[1]);
	close(fd);
	k = &L->kids[L->nkids++];
	memset(k, 0, sizeof(*k));
	k->pid = pid;
	k->startup_fd = p[0];
	k->ss = ss;
	misc_strlcpy(k->addr, addr, sizeof(k->addr));
	L->startups++;
}

static void
fsshd_startup_done(struct fsshd_listener *L, struct fsshd_child *k)
{
	if (k->startup_fd < 0)
		return;
	close(k->startup_fd);
	k->startup_fd = -1;
	L->startups--;
}

/* Reap ended connection processes and penalise their sources. */
static void
fsshd_reap(struct fsshd_listener *L)
{
	size_t i;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < L->nkids && L->kids[i].pid != pid; i++)
			;
		if (i == L->nkids)
			continue;
		if (WIFEXITED(status) &&
		    WEXITSTATUS(status) == FSSHD_EXIT_GRACE)
			log_info("Timeout before authentication for %s",
			    L->kids[i].addr);
		else if (WIFSIGNALED(status))
			log_error("connection process for %s killed by "
			    "signal %d", L->kids[i].addr, WTERMSIG(status));
		if (L->limits != NULL)
			fsshd_limits_ended(L->limits, &L->kids[i].ss,
			    L->kids[i].addr, status, time(NULL));
		fsshd_startup_done(L, &L->kids[i]);
		L->kids[i] = L->kids[--L->nkids];
	}
}

static void
fsshd_on_chld(int signo)
{
	(void)signo;	/* only to interrupt poll(2) */
}

/* Accept connections until told to stop; each is served by a child. */
static void
fsshd_serve(struct fsshd_listener *L)
{
	struct pollfd *pfd = NULL, *np;
	struct sigaction sa;
	size_t i, n, cap = 0;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fsshd_on_chld;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	while (!fsshd_stop) {
		if (fsshd_reexec_pending())
			fsshd_reexec();
		fsshd_reap(L);
		n = L->nl + L->nkids;
		if (n > cap) {
			if ((np = reallocarray(pfd, n, sizeof(*pfd))) == NULL)
				fatal("out of memory");
			pfd = np;
			cap = n;
		}
		for (i = 0; i < L->nl; i++) {
			pfd[i].fd = L->lfds[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		for (i = 0; i < L->nkids; i++) {
			pfd[L->nl + i].fd = L->kids[i].startup_fd;
			pfd[L->nl + i].events = POLLIN;
			pfd[L->nl + i].revents = 0;
		}
		if (poll(pfd, n, 1000) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		/* A startup pipe that is readable was closed: authenticated. */
		for (i = 0; i < L->nkids && L->nl + i < n; i++)
			if (pfd[L->nl + i].revents != 0 &&
			    pfd[L->nl + i].fd == L->kids[i].startup_fd)
				fsshd_startup_done(L, &L->kids[i]);
		for (i = 0; i < L->nl && !fsshd_stop; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if ((fd = accept4(L->lfds[i], NULL, NULL,
			    SOCK_CLOEXEC)) == -1) {
				/*
				 * Out of descriptors or memory: not fatal;
				 * a pause instead of spinning on the socket.
				 */
				if (errno != EINTR && errno != ECONNABORTED &&
				    errno != EAGAIN) {
					struct timespec ts = { 0, 100000000 };

					log_error("accept: %s", strerror(errno));
					nanosleep(&ts, NULL);
				}
				continue;
			}
			fsshd_accepted(L, fd);
		}
	}
	free(pfd);
}

/* -i: the peer is whoever is on stdin (a socket, or a ProxyCommand pipe). */
static int
fsshd_inetd(struct fsshd_opts *o)
{
	return fsshd_serve_conn(o, 0, 1);
}

/*
 * The listener's part: the path to re-execute and its arguments (the
 * original ones with -i -R added).
 */
static void
fsshd_listener_init(struct fsshd_listener *L, struct fsshd_opts *o,
    const int *lfds, size_t nl, int debug)
{
	ssize_t n;
	int i;

	memset(L, 0, sizeof(*L));
	L->config_fd = -1;
	L->o = o;
	L->lfds = lfds;
	L->nl = nl;
	L->debug = debug;
	if ((n = readlink("/proc/self/exe", L->exe, sizeof(L->exe) - 1)) <= 0)
		fatal("cannot find my own executable: %s", strerror(errno));
	L->exe[n] = '\0';
	if ((L->rexec_argv = calloc((size_t)fsshd_argc + 3,
	    sizeof(char *))) == NULL)
		fatal("out of memory");
	for (i = 0; i < fsshd_argc; i++)
		L->rexec_argv[i] = fsshd_argv[i];
	L->rexec_argv[i++] = (char *)"-i";
	L->rexec_argv[i++] = (char *)"-R";
	L->rexec_argv[i] = NULL;
	if (o->conf != NULL && fsshd_limits_new(o->conf, &L->limits) != 0)
		fatal("out of memory");
}

static void
fsshd_listener_free(struct fsshd_listener *L)
{
	size_t i;

	for (i = 0; i < L->nkids; i++)
		if (L->kids[i].startup_fd >= 0)
			close(L->kids[i].startup_fd);
	free(L->kids);
	free(L->rexec_argv);
	if (L->config_fd >= 0)
		close(L->config_fd);
	fsshd_limits_free(L->limits);
}

/* Write PidFile (unless "none"). */
static void
fsshd_pidfile(const char *path)
{
	FILE *f;

	if (path == NULL || strcmp(path, "none") == 0)
		return;
	if ((f = fopen(path, "w")) == NULL) {
		log_error("Couldn't create pid file \"%s\": %s", path,
		    strerror(errno));
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

static void
fsshd_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fsshd_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* Command-line choices shared by both modes. */
struct fsshd_args {
	const char *config, *connspec;
	const char *log_file;		/* -E */
	const char *hostkeys[FSSHD_MAX_HOSTKEYS];
	size_t nhostkeys;
	const char *opts[FSSHD_MAX_OPTS];
	size_t nopts;
	char portopt[32];
	int port, inetd, debug, test, dump, to_stderr;
	int rexec;			/* -R: started by the listener */
	unsigned int grace;
	int grace_set;
};

/*
 * Check (and, for the embedded default, create) the host keys, keeping
 * only their paths: the per-connection monitor loads them after it has
 * started the pre-auth process.
 */
static void
fsshd_keys_check(struct fsshd_opts *o, const struct fsshd_args *a,
    const char *path, int create)
{
	struct key *k;
	char *fp = NULL;

	if (o->nhostkey_paths == FSSHD_MAX_HOSTKEYS)
		return;
	o->hostkey_paths[o->nhostkey_paths++] = path;
	/*
	 * A connection process (-R, or -i from inetd) leaves the keys to
	 * its monitor unless the embedded default's key must be created.
	 */
	if (a->rexec || (a->inetd && access(path, F_OK) == 0))
		return;
	k = fsshd_hostkey(path, create);
	if (!a->inetd && !a->test && o->conf == NULL &&
	    key_fingerprint(k, KEY_FP_SHA256, &fp) == 0)
		log_info("Host key %s %s (%s)", key_type_short(key_get_type(k)),
		    fp, path);
	free(fp);
	key_free(k);
}

/* The sandbox of pre-auth processes, and the startup pipe of -R. */
/*
 * Read the moduli file while it can be opened (every connection's
 * processes get the text); unreadable, the exchanges fall back to the
 * built-in groups, as sshd does.
 */
static void
fsshd_moduli_load(struct fsshd_opts *o)
{
	const char *path = o->conf != NULL ? o->conf->moduli_file : NULL;
	int r;

	if ((r = transport_moduli_read(path, &o->moduli)) == 0)
		return;
	o->moduli = NULL;
	if (path != NULL)
		log_error("ModuliFile %s: %s; group exchange uses the built-in "
		    "groups", path, r == FERR_SYSTEM ? strerror(errno) :
		    err_str(r));
	else
		log_verbose("moduli: %s; group exchange uses the built-in "
		    "groups", r == FERR_SYSTEM ? strerror(errno) : err_str(r));
}

static void
fsshd_conn_setup(struct fsshd_opts *o, const struct fsshd_args *a)
{
	struct stat st;

	if (fsshd_sandbox_prepare(&o->sandbox, geteuid() == 0,
	    !a->rexec) != 0)
		fatal("cannot prepare the pre-auth sandbox");
	o->startup_fd = -1;
	if (a->rexec && fstat(FSSHD_STARTUP_FD, &st) == 0 &&
	    S_ISFIFO(st.st_mode))
		o->startup_fd = FSSHD_STARTUP_FD;
	fsshd_moduli_load(o);
}

/*
 * The configuration text: read from path (the listener), or from
 * FSSHD_CONFIG_FD where the listener left it (-R).  *textp is allocated.
 */
static int
fsshd_config_text(const char *path, int rexec, char **textp, size_t *lenp)
{
	char *text = NULL, *nt;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, r = 0;

	*textp = NULL;
	*lenp = 0;
	if (rexec && lseek(FSSHD_CONFIG_FD, 0, SEEK_SET) == 0)
		fd = FSSHD_CONFIG_FD;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return FERR_SYSTEM;
	for (;;) {
		if (cap - len < 4096) {
			if (cap >= FSSHD_CONFIG_MAX) {
				r = FERR_STRING_TOO_LARGE;
				goto out;
			}
			cap = cap == 0 ? 8192 : cap * 2;
			if ((nt = realloc(text, cap + 1)) == NULL) {
				r = FERR_ALLOC;
				goto out;
			}
			text = nt;
		}
		if ((n = read(fd, text + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			r = FERR_SYSTEM;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	*textp = text;
	*lenp = len;
	text = NULL;
 out:
	if (fd != FSSHD_CONFIG_FD)
		close(fd);
	else
		close(FSSHD_CONFIG_FD);
	free(text);
	return r;
}

/* A memfd holding the configuration text for -R processes; or -1. */
static int
fsshd_config_memfd(const char *text, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = memfd_create("fsshd_config", MFD_CLOEXEC)) == -1)
		fatal("memfd_create: %s", strerror(errno));
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("writing the configuration: %s", strerror(errno));
		}
		off += (size_t)n;
	}
	return fd;
}

/* Configuration mode: sshd_config, any account, Match, chroot. */
static void __attribute__((noreturn))
fsshd_config_main(struct fsshd_args *a)
{
	struct sshdconf *conf = NULL, *eff = NULL;
	struct sshdconf_conn conn;
	struct fsshd_opts o;
	struct fsshd_listener L;
	struct buf *out;
	char *text = NULL;
	int lfds[FSSHD_MAX_LISTEN], r;
	size_t i, nl, tlen = 0;

	/*
	 * The listener reads the file; a -R process loads the text the
	 * listener loaded (Include reads files again).
	 */
	if ((r = fsshd_config_text(a->config, a->rexec, &text, &tlen)) == 0)
		r = sshdconf_load_string(text, tlen, a->config, a->opts,
		    a->nopts, &conf);
	if (r != 0) {
		if (r != FERR_CONFIG)
			log_error("%s: %s", a->config, r == FERR_SYSTEM ?
			    strerror(errno) : err_str(r));
		prog_exit(1);
	}
	if (a->dump) {
		memset(&conn, 0, sizeof(conn));
		if (a->connspec != NULL &&
		    (sshdconf_conn_parse(a->connspec, &conn) != 0 ||
		    sshdconf_match(conf, &conn, &eff) != 0))
			fatal("bad -C specification: %s", a->connspec);
		if ((out = buf_new()) == NULL ||
		    sshdconf_dump(eff != NULL ? eff : conf, out) != 0)
			fatal("printing the configuration");
		fwrite(buf_ptr(out), 1, buf_len(out), stdout);
		buf_free(out);
		sshdconf_conn_clear(&conn);
		sshdconf_free(eff);
		sshdconf_free(conf);
		prog_exit(0);
	}
	memset(&o, 0, sizeof(o));
	o.conf = conf;
	o.grace = a->grace_set ? a->grace : (unsigned int)conf->login_grace_time;
	for (i = 0; i < (a->nhostkeys > 0 ? a->nhostkeys : conf->host_keys.n);
	    i++)
		fsshd_keys_check(&o, a, a->nhostkeys > 0 ? a->hostkeys[i] :
		    conf->host_keys.v[i], 0);
	if (o.nhostkey_paths == 0)
		fatal("fsshd: no hostkeys available -- exiting.");
	/*
	 * HostCertificate: checked here against the keys' public halves;
	 * each connection's processes pair them again (fsshd-hostcert.c).
	 */
	if (!a->rexec && !a->inetd &&
	    fsshd_hostcert_check(conf, o.hostkey_paths, o.nhostkey_paths) != 0)
		prog_exit(1);
	if (a->test) {
		char why[1024];

		/* Names in ListenAddress must resolve (as sshd -t). */
		if (fsshd_listen_check(conf, why, sizeof(why)) != 0)
			fatal("%s", why);
		prog_exit(0);
	}
	if (getuid() != 0)
		fatal("configuration mode serves other accounts and needs root; "
		    "run fsshd without -f to serve yourself");
	if (!a->debug)
		log_set_level((enum log_level)conf->log_level);
	if (!a->to_stderr && a->log_file == NULL && (!a->inetd || a->rexec) &&
	    !a->debug &&
	    prog_log_to_syslog_code(conf->syslog_facility) != 0)
		log_error("cannot log to syslog");
	fsshd_conn_setup(&o, a);
	if (a->inetd)
		prog_exit(fsshd_inetd(&o));
	fsshd_signals();
	nl = fsshd_listen_config(conf, lfds, FSSHD_MAX_LISTEN);
	fsshd_pidfile(conf->pid_file);
	fsshd_listener_init(&L, &o, lfds, nl, a->debug);
	L.config_fd = fsshd_config_memfd(text, tlen);
	free(text);
	fsshd_serve(&L);
	fsshd_listener_free(&L);
	for (i = 0; i < nl; i++)
		close(lfds[i]);
	log_info("Received signal; terminating.");
	prog_exit(0);
}

/* The embedded default: the starting user, loopback, a key of its own. */
static void __attribute__((noreturn))
fsshd_embedded_main(struct fsshd_args *a)
{
	struct fsshd_opts o;
	struct fsshd_listener L;
	struct passwd *pw;
	const char *keyfile;
	char statedir[4096], keypath[4096], authkeys[4096];
	int lfd;

	if (a->nopts > 0 || a->test || a->dump)
		fatal("-o, -t and -T need a configuration file (-f)");
	if ((pw = getpwuid(getuid())) == NULL)
		fatal("no account for uid %u", (unsigned int)getuid());
	memset(&o, 0, sizeof(o));
	o.user = pw->pw_name;
	o.uid = pw->pw_uid;
	o.gid = pw->pw_gid;
	/*
	 * The embedded default is the starting user's own server: their
	 * $HOME (when absolute) is where their keys and state are.
	 */
	o.home = getenv("HOME") != NULL && getenv("HOME")[0] == '/' ?
	    getenv("HOME") : pw->pw_dir;
	o.shell = pw->pw_shell != NULL && pw->pw_shell[0] == '/' ?
	    pw->pw_shell : "/bin/sh";
	if (snprintf(authkeys, sizeof(authkeys), "%s/.ssh/authorized_keys",
	    o.home) >= (int)sizeof(authkeys))
		fatal("home directory path too long: %s", o.home);
	o.authorized_keys = authkeys;
	keyfile = a->nhostkeys > 0 ? a->hostkeys[0] : NULL;
	if (keyfile == NULL) {
		fsshd_state_dir(o.home, statedir, sizeof(statedir));
		if (fsshd_mkdirs(statedir) == -1)
			fatal("%s: %s", statedir, strerror(errno));
		if (snprintf(keypath, sizeof(keypath), "%s/%s", statedir,
		    FSSHD_KEY_NAME) >= (int)sizeof(keypath))
			fatal("state directory path too long: %s", statedir);
		keyfile = keypath;
	}
	o.grace = a->grace_set ? a->grace : FSSHD_GRACE;
	fsshd_conn_setup(&o, a);
	if (a->inetd) {
		fsshd_keys_check(&o, a, keyfile, keyfile == keypath);
		prog_exit(fsshd_inetd(&o));
	}
	fsshd_signals();
	/* The key exists (created) before anyone can connect. */
	fsshd_keys_check(&o, a, keyfile, keyfile == keypath);
	lfd = fsshd_listen("127.0.0.1", a->port);
	log_info("Serving %s only, as the embedded default.", o.user);
	log_info("Connect with:  sftp -P %d %s@127.0.0.1   or   ssh -p %d %s@127.0.0.1",
	    a->port, o.user, a->port, o.user);
	fsshd_listener_init(&L, &o, &lfd, 1, a->debug);
	fsshd_serve(&L);
	fsshd_listener_free(&L);
	close(lfd);
	log_info("Received signal; terminating.");
	prog_exit(0);
}

/*
 * -E: append log lines to path (as sshd).  Every descriptor open on the
 * file is made close-on-exec, so that neither a user's command nor the
 * re-executed per-connection process (which opens it anew) inherits it.
 */
static void
fsshd_log_file(const char *path)
{
	struct stat st, fst;
	int fd, fl;

	if (prog_log_to_file(path) != 0)
		fatal("Couldn't open logfile %s: %s", path, strerror(errno));
	if (stat(path, &st) != 0)
		fatal("logfile %s: %s", path, strerror(errno));
	for (fd = STDERR_FILENO + 1; fd < 1024; fd++)
		if (fstat(fd, &fst) == 0 && fst.st_dev == st.st_dev &&
		    fst.st_ino == st.st_ino && (fl = fcntl(fd, F_GETFD)) != -1)
			(void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

int
main(int argc, char **argv)
{
	struct fsshd_args a;
	const char *errstr;
	int ch;

	prog_init(argv[0]);
	fsshd_argc = argc;
	fsshd_argv = argv;
	signal(SIGPIPE, SIG_IGN);
	memset(&a, 0, sizeof(a));
	a.port = FSSHD_DEFAULT_PORT;
	while ((ch = getopt(argc, argv, "C:deDE:f:g:h:io:p:RtT")) != -1) {
		switch (ch) {
		case 'C':
			a.connspec = optarg;
			break;
		case 'd':
			a.debug = 1;
			log_set_level(LOGL_DEBUG1);
			break;
		case 'e':
			a.to_stderr = 1;
			break;
		case 'D':
			break;		/* never detaches */
		case 'E':
			a.log_file = optarg;
			break;
		case 'f':
			a.config = optarg;
			break;
		case 'g':
			a.grace = (unsigned int)misc_strtonum(optarg, 0, 86400,
			    &errstr);
			if (errstr != NULL)
				fatal("Invalid login grace time %s: %s", optarg,
				    errstr);
			a.grace_set = 1;
			break;
		case 'h':
			if (a.nhostkeys == FSSHD_MAX_HOSTKEYS)
				fatal("too many host keys");
			a.hostkeys[a.nhostkeys++] = optarg;
			break;
		case 'i':
			a.inetd = 1;
			break;
		case 'o':
			if (a.nopts == FSSHD_MAX_OPTS)
				fatal("too many -o options");
			a.opts[a.nopts++] = optarg;
			break;
		case 'p':
			a.port = (int)misc_strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				fatal("Bad port number %s: %s", optarg, errstr);
			/* In configuration mode -p overrides Port, as sshd. */
			snprintf(a.portopt, sizeof(a.portopt), "Port=%d", a.port);
			if (a.nopts == FSSHD_MAX_OPTS)
				fatal("too many -o options");
			a.opts[a.nopts++] = a.portopt;
			break;
		case 'R':
			a.rexec = 1;
			break;
		case 't':
			a.test = 1;
			break;
		case 'T':
			a.dump = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (a.log_file != NULL)
		fsshd_log_file(a.log_file);
	/* SIGHUP re-executes a configuration-mode listener (fsshd-reexec.c). */
	if (a.config != NULL && !a.test && !a.dump && !a.inetd &&
	    fsshd_reexec_init(argv, a.config, a.opts, a.nopts) != 0)
		log_error("SIGHUP will not reload: %s", strerror(errno));
	if (a.config != NULL)
		fsshd_config_main(&a);
	/* -p in the embedded default is the port, not an -o option. */
	if (a.nopts > 0 && a.opts[a.nopts - 1] == a.portopt)
		a.nopts--;
	fsshd_embedded_main(&a);
}
