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
#include "fsshd.h"
#include "misc.h"
#include "prog.h"

#define FSSHD_DEFAULT_PORT	2222
#define FSSHD_KEY_NAME		"ssh_host_ed25519_key"
/* Seconds a client has to authenticate (sshd's LoginGraceTime). */
#define FSSHD_GRACE		120

static volatile sig_atomic_t fsshd_stop;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: fsshd [-deDi] [-g login_grace_time] "
	    "[-h host_key_file] [-p port]\n");
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
fsshd_listen(int port)
{
	struct sockaddr_in sin;
	int fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 64) == -1)
		fatal("Bind to port %d on 127.0.0.1 failed: %s.", port,
		    strerror(errno));
	return fd;
}

/* Accept connections until told to stop; each is served by a child. */
static void
fsshd_serve(const struct fsshd_opts *o, int lfd, int debug)
{
	struct sockaddr_in sin;
	socklen_t slen;
	char peer[64], addr[INET_ADDRSTRLEN];
	pid_t pid;
	int fd;

	while (!fsshd_stop) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		slen = sizeof(sin);
		if ((fd = accept(lfd, (struct sockaddr *)&sin, &slen)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			fatal("accept: %s", strerror(errno));
		}
		if (inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof(addr)) == NULL)
			misc_strlcpy(addr, "UNKNOWN", sizeof(addr));
		snprintf(peer, sizeof(peer), "%s port %u", addr,
		    ntohs(sin.sin_port));
		log_verbose("Connection from %s", peer);
		if (debug) {
			close(lfd);
			prog_exit(fsshd_session_run(o, fd, fd, peer, addr) == 0 ?
			    0 : 1);
		}
		if ((pid = fork()) == -1) {
			log_error("fork: %s", strerror(errno));
			close(fd);
			continue;
		}
		if (pid == 0) {
			close(lfd);
			signal(SIGTERM, SIG_DFL);
			signal(SIGCHLD, SIG_DFL);
			prog_exit(fsshd_session_run(o, fd, fd, peer, addr) == 0 ?
			    0 : 1);
		}
		close(fd);
	}
}

/* -i: the peer is whoever is on stdin (a socket, or a ProxyCommand pipe). */
static int
fsshd_inetd(const struct fsshd_opts *o)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	char addr[INET_ADDRSTRLEN] = "UNKNOWN", peer[64];

	if (getpeername(0, (struct sockaddr *)&sin, &slen) == 0 &&
	    sin.sin_family == AF_INET &&
	    inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof(addr)) != NULL)
		snprintf(peer, sizeof(peer), "%s port %u", addr,
		    ntohs(sin.sin_port));
	else
		snprintf(peer, sizeof(peer), "UNKNOWN port 65535");
	return fsshd_session_run(o, 0, 1, peer, addr) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	struct fsshd_opts o;
	struct passwd *pw;
	struct sigaction sa;
	const char *keyfile = NULL, *errstr;
	char statedir[4096], keypath[4096], authkeys[4096], *fp = NULL;
	int ch, port = FSSHD_DEFAULT_PORT, inetd = 0, debug = 0, lfd;
	unsigned int grace = FSSHD_GRACE;

	prog_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "deDg:h:ip:f:o:tT")) != -1) {
		switch (ch) {
		case 'd':
			debug = 1;
			log_set_level(LOGL_DEBUG1);
			break;
		case 'e':
		case 'D':
			break;		/* foreground and stderr: always so */
		case 'g':
			grace = (unsigned int)misc_strtonum(optarg, 0, 86400,
			    &errstr);
			if (errstr != NULL)
				fatal("Invalid login grace time %s: %s", optarg,
				    errstr);
			break;
		case 'h':
			keyfile = optarg;
			break;
		case 'i':
			inetd = 1;
			break;
		case 'p':
			port = (int)misc_strtonum(optarg, 1, 65535, &errstr);
			if (errstr != NULL)
				fatal("Bad port number %s: %s", optarg, errstr);
			break;
		case 'f':
		case 'o':
		case 't':
		case 'T':
			fatal("-%c: configuration files are not supported yet; "
			    "fsshd runs its embedded default only", ch);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((pw = getpwuid(getuid())) == NULL)
		fatal("no account for uid %u", (unsigned int)getuid());
	memset(&o, 0, sizeof(o));
	o.user = pw->pw_name;
	o.uid = pw->pw_uid;
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
	if (keyfile == NULL) {
		fsshd_state_dir(o.home, statedir, sizeof(statedir));
		if (fsshd_mkdirs(statedir) == -1)
			fatal("%s: %s", statedir, strerror(errno));
		if (snprintf(keypath, sizeof(keypath), "%s/%s", statedir,
		    FSSHD_KEY_NAME) >= (int)sizeof(keypath))
			fatal("state directory path too long: %s", statedir);
		keyfile = keypath;
	}
	o.hostkey = fsshd_hostkey(keyfile, keyfile == keypath);
	o.grace = grace;
	if (inetd)
		prog_exit(fsshd_inetd(&o));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fsshd_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	lfd = fsshd_listen(port);
	if (key_fingerprint(o.hostkey, KEY_FP_SHA256, &fp) != 0)
		fatal("fingerprint of the host key");
	log_info("Server listening on 127.0.0.1 port %d, serving %s only.",
	    port, o.user);
	log_info("Host key %s %s (%s)", key_type_short(key_get_type(o.hostkey)),
	    fp, keyfile);
	log_info("Connect with:  sftp -P %d %s@127.0.0.1   or   ssh -p %d %s@127.0.0.1",
	    port, o.user, port, o.user);
	free(fp);
	fsshd_serve(&o, lfd, debug);
	close(lfd);
	key_free(o.hostkey);
	log_info("Received signal; terminating.");
	prog_exit(0);
}
