/*
 * fsshd: Ferry's SSH server.
 *
 * This version runs the embedded default: started by a user with no
 * configuration file, it serves that user alone on 127.0.0.1 (port 2222
 * unless -p), with an ed25519 host key it creates on first start under
 * $XDG_STATE_HOME/ferry (default ~/.local/state/ferry) and reuses after,
 * accepting the keys of the user's ~/.ssh/authorized_keys, and running
 * SFTP in-process and commands through the user's shell.  Each connection
 * is served by a process of its own; the listener never parses protocol
 * data.  Configuration files, privilege separation and other accounts
 * are not served yet.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
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

static volatile sig_atomic_t fsshd_stop;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: fsshd [-deDitT] [-C connection_spec] "
	    "[-f config_file] [-g login_grace_time]\n"
	    "             [-h host_key_file] [-o option] [-p port]\n");
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

/* Serve one accepted connection: in a child, or in-process with -d. */
static void
fsshd_accepted(const struct fsshd_opts *o, const int *lfds, size_t nl,
    int fd, int debug)
{
	char peer[INET6_ADDRSTRLEN + 16], addr[INET6_ADDRSTRLEN];
	char laddr[INET6_ADDRSTRLEN];
	size_t i;
	pid_t pid;
	int port, lport;

	fsshd_sock_names(fd, addr, sizeof(addr), &port, laddr, sizeof(laddr),
	    &lport);
	snprintf(peer, sizeof(peer), "%s port %d", addr, port);
	log_verbose("Connection from %s", peer);
	if (!debug && (pid = fork()) != 0) {
		if (pid == -1)
			log_error("fork: %s", strerror(errno));
		close(fd);
		return;
	}
	for (i = 0; i < nl; i++)
		close(lfds[i]);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	prog_exit(fsshd_session_run(o, fd, fd, peer, addr, laddr, lport) == 0 ?
	    0 : 1);
}

/* Accept connections until told to stop; each is served by a child. */
static void
fsshd_serve(const struct fsshd_opts *o, const int *lfds, size_t nl, int debug)
{
	struct pollfd pfd[FSSHD_MAX_LISTEN];
	size_t i;
	int fd;

	for (i = 0; i < nl; i++) {
		pfd[i].fd = lfds[i];
		pfd[i].events = POLLIN;
	}
	while (!fsshd_stop) {
		if (fsshd_reexec_pending())
			fsshd_reexec();
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (poll(pfd, nl, 1000) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		for (i = 0; i < nl && !fsshd_stop; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if ((fd = accept4(lfds[i], NULL, NULL, SOCK_CLOEXEC)) == -1) {
				if (errno == EINTR || errno == ECONNABORTED ||
				    errno == EAGAIN)
					continue;
				fatal("accept: %s", strerror(errno));
			}
			fsshd_accepted(o, lfds, nl, fd, debug);
		}
	}
}

/* -i: the peer is whoever is on stdin (a socket, or a ProxyCommand pipe). */
static int
fsshd_inetd(const struct fsshd_opts *o)
{
	char addr[INET6_ADDRSTRLEN], laddr[INET6_ADDRSTRLEN];
	char peer[INET6_ADDRSTRLEN + 16];
	int port, lport;

	fsshd_sock_names(0, addr, sizeof(addr), &port, laddr, sizeof(laddr),
	    &lport);
	snprintf(peer, sizeof(peer), "%s port %d", addr,
	    port != -1 ? port : 65535);
	return fsshd_session_run(o, 0, 1, peer, addr, laddr, lport) == 0 ?
	    0 : 1;
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
	const char *hostkeys[FSSHD_MAX_HOSTKEYS];
	size_t nhostkeys;
	const char *opts[FSSHD_MAX_OPTS];
	size_t nopts;
	char portopt[32];
	int port, inetd, debug, test, dump, to_stderr;
	unsigned int grace;
	int grace_set;
};

/* Configuration mode: sshd_config, any account, Match, chroot. */
static void __attribute__((noreturn))
fsshd_config_main(struct fsshd_args *a)
{
	struct sshdconf *conf = NULL, *eff = NULL;
	struct sshdconf_conn conn;
	struct fsshd_opts o;
	struct buf *out;
	int lfds[FSSHD_MAX_LISTEN], r;
	size_t i, nl;

	if ((r = sshdconf_load(a->config, a->opts, a->nopts, &conf)) != 0) {
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
	for (i = 0; i < (a->nhostkeys > 0 ? a->nhostkeys : conf->host_keys.n) &&
	    o.nhostkeys < FSSHD_MAX_HOSTKEYS; i++)
		o.hostkeys[o.nhostkeys++] = fsshd_hostkey(a->nhostkeys > 0 ?
		    a->hostkeys[i] : conf->host_keys.v[i], 0);
	if (o.nhostkeys == 0)
		fatal("fsshd: no hostkeys available -- exiting.");
	/* HostCertificate: pair certificates with keys (fsshd-hostcert.c). */
	if (fsshd_hostcert_load(conf, o.hostkeys, o.nhostkeys) != 0)
		prog_exit(1);
	if (a->test)
		prog_exit(0);
	if (getuid() != 0)
		fatal("configuration mode serves other accounts and needs root; "
		    "run fsshd without -f to serve yourself");
	if (!a->debug)
		log_set_level((enum log_level)conf->log_level);
	if (!a->to_stderr && !a->inetd && !a->debug &&
	    prog_log_to_syslog_code(conf->syslog_facility) != 0)
		log_error("cannot log to syslog");
	if (a->inetd)
		prog_exit(fsshd_inetd(&o));
	fsshd_signals();
	nl = fsshd_listen_config(conf, lfds, FSSHD_MAX_LISTEN);
	fsshd_pidfile(conf->pid_file);
	fsshd_serve(&o, lfds, nl, a->debug);
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
	struct passwd *pw;
	const char *keyfile;
	char statedir[4096], keypath[4096], authkeys[4096], *fp = NULL;
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
	o.hostkeys[0] = fsshd_hostkey(keyfile, keyfile == keypath);
	o.nhostkeys = 1;
	o.grace = a->grace_set ? a->grace : FSSHD_GRACE;
	if (a->inetd)
		prog_exit(fsshd_inetd(&o));
	fsshd_signals();
	lfd = fsshd_listen("127.0.0.1", a->port);
	if (key_fingerprint(o.hostkeys[0], KEY_FP_SHA256, &fp) != 0)
		fatal("fingerprint of the host key");
	log_info("Serving %s only, as the embedded default.", o.user);
	log_info("Host key %s %s (%s)",
	    key_type_short(key_get_type(o.hostkeys[0])), fp, keyfile);
	log_info("Connect with:  sftp -P %d %s@127.0.0.1   or   ssh -p %d %s@127.0.0.1",
	    a->port, o.user, a->port, o.user);
	free(fp);
	fsshd_serve(&o, &lfd, 1, a->debug);
	close(lfd);
	key_free(o.hostkeys[0]);
	log_info("Received signal; terminating.");
	prog_exit(0);
}

int
main(int argc, char **argv)
{
	struct fsshd_args a;
	const char *errstr;
	int ch;

	prog_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	memset(&a, 0, sizeof(a));
	a.port = FSSHD_DEFAULT_PORT;
	while ((ch = getopt(argc, argv, "C:deDf:g:h:io:p:tT")) != -1) {
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
