/*
 * fscp: copies between hosts, command-line compatible with scp(1).
 *
 * By default the SFTP protocol (the client engine's pipelined transfer
 * sets, ferry/sftp-session.h), with remote globs expanded over SFTP, so
 * no remote shell ever sees a name.  With -O the legacy scp protocol
 * (ferry/scp.h): "scp -t" or "scp -f" is run remotely with every path
 * quoted for the remote shell (only * and ? are left to it, as globs),
 * and the sink checks every name the server sends as OpenSSH's scp does.
 * The transport is Ferry's in-process SSH client, or with -S an external
 * ssh-compatible program given the same arguments scp gives ssh.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ferry/buf.h"
#include "ferry/client.h"
#include "ferry/conn.h"
#include "ferry/err.h"
#include "ferry/evloop.h"
#include "ferry/log.h"
#include "ferry/scp.h"
#include "ferry/sftp.h"
#include "ferry/sftp-client.h"
#include "ferry/sftp-session.h"
#include "fsftp-archive.h"
#include "misc.h"
#include "prog.h"
#include "prog-client.h"
#include "prog-meter.h"

#define FSCP_MAX_ARGS	64
#define FSCP_GLOB_MAX	100000
#define FSCP_INTR_POLL	100	/* ms between looks at the signal flag */

/* One operand: a local path, or [user@]host:path / scp:// URI. */
struct fscp_arg {
	char *user, *host, *path;	/* host NULL: local */
	int port;			/* -1: none */
};

/* Settings from the command line. */
static struct {
	int legacy;			/* -O */
	int recursive, preserve, relaxed, quiet, verbose, batch, resume;
	int remote_to_remote_direct;	/* -R */
	int through_local;		/* -3 */
	uint64_t limit_bps;		/* -l, in bytes per second */
	long long limit_kbps;		/* -l as given */
	const char *program;		/* -S */
	const char *config_file;	/* -F */
	const char *sftp_server;	/* -D */
	struct prog_client_opts opts;	/* option lines for the core */
	char *ssh_args[FSCP_MAX_ARGS * 2];	/* for -S and -R */
	size_t nssh_args;
	char *owned[FSCP_MAX_ARGS * 2];
	size_t nowned;
	size_t req_size;		/* -X buffer= (0: the server's) */
	unsigned int nrequests;		/* -X nrequests= (0: adaptive) */
	int errors;
} g;

static void
usage(void)
{
	fprintf(stderr,
"usage: fscp [-346ABCOpqRrTv] [-c cipher] [-D sftp_server_path] [-F ssh_config]\n"
"            [-i identity_file] [-J destination] [-l limit] [-o ssh_option]\n"
"            [-P port] [-S program] [-X sftp_option] source ... target\n");
	prog_exit(1);
}

static char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		fatal("out of memory");
	return p;
}

/* An argument for the external ssh program (-S) and for -R. */
static void
ssh_arg(const char *a)
{
	if (g.nssh_args >= sizeof(g.ssh_args) / sizeof(g.ssh_args[0]) - 8)
		fatal("too many options");
	g.ssh_args[g.nssh_args] = xstrdup(a);
	g.owned[g.nowned++] = g.ssh_args[g.nssh_args++];
}

/* ---- operands ---- */

/* "scp://[user@]host[:port][/path]" */
static int
fscp_parse_uri(const char *s, struct fscp_arg *a)
{
	const char *rest = s + 6, *slash;
	char *dest;
	int r;

	slash = strchr(rest, '/');
	dest = slash != NULL ? strndup(rest, (size_t)(slash - rest)) :
	    xstrdup(rest);
	if (dest == NULL)
		fatal("out of memory");
	r = client_parse_destination(dest, 1, &a->user, &a->host, &a->port);
	free(dest);
	if (r != 0)
		return -1;
	a->path = xstrdup(slash != NULL && slash[1] != '\0' ? slash + 1 : ".");
	return 0;
}

/*
 * scp's rule: a colon before any slash (outside [brackets]) makes a
 * remote operand; a leading colon does not.
 */
static int
fscp_parse_arg(const char *s, struct fscp_arg *a)
{
	const char *p, *colon = NULL, *at;
	int bracket = 0;

	memset(a, 0, sizeof(*a));
	a->port = -1;
	if (strncmp(s, "scp://", 6) == 0)
		return fscp_parse_uri(s, a);
	for (p = s; *p != '\0'; p++) {
		if (*p == '@' && p[1] == '[')
			bracket = 1;
		else if (*p == '[' && p == s)
			bracket = 1;
		else if (*p == ']' && bracket)
			bracket = 0;
		else if (*p == '/' && !bracket)
			break;
		else if (*p == ':' && !bracket) {
			colon = p;
			break;
		}
	}
	if (colon == NULL || colon == s) {
		a->path = xstrdup(s);
		return 0;
	}
	a->host = strndup(s, (size_t)(colon - s));
	if (a->host == NULL)
		fatal("out of memory");
	if ((at = strrchr(a->host, '@')) != NULL) {
		a->user = strndup(a->host, (size_t)(at - a->host));
		memmove(a->host, at + 1, strlen(at + 1) + 1);
	}
	/* [v6addr] */
	if (a->host[0] == '[' && a->host[strlen(a->host) - 1] == ']') {
		memmove(a->host, a->host + 1, strlen(a->host));
		a->host[strlen(a->host) - 1] = '\0';
	}
	if (a->host[0] == '\0' || (a->user != NULL && a->user[0] == '\0'))
		return -1;
	a->path = xstrdup(colon[1] != '\0' ? colon + 1 : ".");
	return 0;
}

static void
fscp_arg_clear(struct fscp_arg *a)
{
	free(a->user);
	free(a->host);
	free(a->path);
	memset(a, 0, sizeof(*a));
}

static const char *
fscp_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL && s[1] != '\0' ? s + 1 : path;
}

/* dir + "/" + name, allocated. */
static char *
fscp_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p == NULL)
		fatal("out of memory");
	snprintf(p, n, "%s%s%s", dir,
	    dir[0] != '\0' && dir[strlen(dir) - 1] != '/' ? "/" : "", name);
	return p;
}

static int
fscp_local_isdir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* ---- progress meter (scp's, on a terminal only) ---- */

static struct prog_meter meter;
static int meter_on;

static void
fscp_meter(const char *name, uint64_t size, uint64_t done, int finished)
{
	if (meter_on)
		prog_meter_draw(&meter, name, size, done, finished);
}

/*
 * SIGINT, SIGTERM and SIGHUP end a copy as they end OpenSSH's scp: one
 * line "fscp: interrupted" and exit status 1 (scp's killchild() exits 1
 * too).  While a transfer that can stop in order runs (fscp_cancellable
 * set), the handler only records the signal: the transfer is cancelled,
 * partial files stay as they are (for -a), the sessions are closed
 * (channel close, disconnect) and the transport processes reaped.
 * Anywhere else (connecting, a prompt, listing a directory, closing)
 * nothing is half written: the handler ends the program at once, after
 * stopping and reaping the transport processes.  A prompt restores the
 * terminal before the signal reaches this handler (prog-tty.h).  While
 * an archive stream of -r runs, its own handler takes all three signals
 * (fsftp_archive_scp_signals()) and stops the stream in order.
 */
#define FSCP_EXIT_INTERRUPTED	1
#define FSCP_MAX_KIDS		4

static volatile sig_atomic_t fscp_sig;		/* the signal that came */
static volatile sig_atomic_t fscp_intr;		/* the sessions' flag */
static volatile sig_atomic_t fscp_cancellable;
static volatile sig_atomic_t fscp_kids[FSCP_MAX_KIDS];
static char fscp_intr_msg[64];
static size_t fscp_intr_len;

/* A transport process to stop and reap when the program is interrupted. */
static void
fscp_kid_add(pid_t pid)
{
	size_t i;

	for (i = 0; i < FSCP_MAX_KIDS; i++) {
		if (fscp_kids[i] == 0) {
			fscp_kids[i] = (sig_atomic_t)pid;
			return;
		}
	}
}

static void
fscp_kid_del(pid_t pid)
{
	size_t i;

	for (i = 0; i < FSCP_MAX_KIDS; i++)
		if (fscp_kids[i] == (sig_atomic_t)pid)
			fscp_kids[i] = 0;
}

/* SIGTERM to the registered processes (async-signal-safe). */
static void
fscp_kids_kill(void)
{
	size_t i;

	for (i = 0; i < FSCP_MAX_KIDS; i++)
		if (fscp_kids[i] > 0)
			(void)kill((pid_t)fscp_kids[i], SIGTERM);
}

static void
fscp_on_signal(int sig)
{
	size_t i;
	ssize_t n;

	fscp_sig = sig;
	fscp_intr = 1;
	if (fscp_cancellable)
		return;
	fscp_kids_kill();
	for (i = 0; i < FSCP_MAX_KIDS; i++)
		while (fscp_kids[i] > 0 && waitpid((pid_t)fscp_kids[i], NULL,
		    0) == -1 && errno == EINTR)
			;
	n = write(STDERR_FILENO, fscp_intr_msg, fscp_intr_len);
	(void)n;
	_exit(FSCP_EXIT_INTERRUPTED);
}

static void
fscp_signals_init(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	snprintf(fscp_intr_msg, sizeof(fscp_intr_msg), "%s: interrupted\n",
	    prog_name());
	fscp_intr_len = strlen(fscp_intr_msg);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fscp_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	/* No SA_RESTART: a wait for a process must see EINTR. */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			fatal("sigaction: %s", strerror(errno));
}

/*
 * Hold the signals back (block != 0) or let them in: around a fork and
 * the registration of the child, so that none is left unreaped.
 */
static void
fscp_sigs_block(int block)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	(void)sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/*
 * Reap a registered transport.  Its exit is awaited without reaping it
 * (WNOWAIT), so that a signal meanwhile still finds a pid that is ours
 * (fscp_on_signal kills and reaps it); then, with signals held back, it
 * leaves the list and is reaped.  Reaping first would leave a freed pid
 * on the list, which the handler would kill: by then maybe another
 * process's.
 */
static int
fscp_kid_reap(pid_t pid)
{
	siginfo_t si;
	int st;

	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == -1 &&
	    errno == EINTR)
		;
	fscp_sigs_block(1);
	fscp_kid_del(pid);
	st = prog_client_reap(pid);
	fscp_sigs_block(0);
	return st;
}

/* In a child before exec: the default actions, nothing held back. */
static void
fscp_child_signals(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	fscp_sigs_block(0);
}

/*
 * Enter (on != 0) or leave a stretch that stops in order on a signal;
 * leaving it, whether a signal came.
 */
static int
fscp_cancel_point(int on)
{
	fscp_cancellable = on;
	return fscp_sig != 0;
}

/*
 * -l in the legacy protocol: the file data this host reads or writes is
 * counted, and the engine's callback sleeps while the count is ahead of
 * the rate (the peer is then held back by the channel's window or the
 * pipe).
 */
static struct {
	uint64_t moved, last_done;
	struct timespec start;
	int started;
} lim;

static void
fscp_limit(uint64_t done)
{
	struct timespec now, ts;
	uint64_t due_ms, el_ms;

	if (g.limit_bps == 0 || fscp_sig)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!lim.started) {
		lim.start = now;
		lim.started = 1;
	}
	/* done restarts at 0 for every file. */
	if (done >= lim.last_done)
		lim.moved += done - lim.last_done;
	else
		lim.moved += done;
	lim.last_done = done;
	due_ms = lim.moved * 1000 / g.limit_bps;
	el_ms = (uint64_t)(now.tv_sec - lim.start.tv_sec) * 1000 +
	    (uint64_t)((now.tv_nsec - lim.start.tv_nsec) / 1000000);
	if (due_ms <= el_ms)
		return;
	ts.tv_sec = (time_t)((due_ms - el_ms) / 1000);
	ts.tv_nsec = (long)((due_ms - el_ms) % 1000) * 1000000;
	while (!fscp_sig && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
fscp_scp_progress(const char *name, uint64_t size, uint64_t done,
    void *ctx)
{
	(void)ctx;
	fscp_limit(done);
	fscp_meter(name, size, done, done == size);
}

static void
fscp_scp_message(int fatal_, const char *text, void *ctx)
{
	(void)ctx;
	(void)fatal_;
	/* Interrupted: the engine's complaints about the cut are noise. */
	if (fscp_sig)
		return;
	fprintf(stderr, "%s\n", text);
}

/* ---- transports ---- */

/* Connect the in-process client to a.  Exits on failure as scp does. */
static struct prog_client *
fscp_connect(const struct fscp_arg *a, uint32_t window)
{
	struct prog_client_params pp;
	struct prog_client *pc = NULL;
	struct prog_client_opts o;
	char port[16];
	size_t i;

	/* The operand's user and port come first: they win. */
	memset(&o, 0, sizeof(o));
	if (a->user != NULL)
		prog_client_opt(&o, "User", a->user);
	if (a->port != -1) {
		snprintf(port, sizeof(port), "%d", a->port);
		prog_client_opt(&o, "Port", port);
	}
	for (i = 0; i < g.opts.n; i++)
		prog_client_opt(&o, NULL, g.opts.lines[i]);
	memset(&pp, 0, sizeof(pp));
	pp.destination = a->host;
	pp.config_file = g.config_file;
	pp.options = o.lines;
	pp.verbose = g.verbose;
	pp.quiet = g.quiet;
	pp.jump_program = "fssh";
	pp.argv0 = prog_name();
	pp.window = window;
	if (prog_client_resolve(&pp, &pc) != 0)
		prog_exit(1);
	if (prog_client_connect(pc) != 0)
		prog_exit(1);
	/* The lines are only read while resolving. */
	prog_client_opts_free(&o);
	return pc;
}

/* The fixed ssh arguments above; fssh does without the first five. */
#define FSCP_FIXED_ARGS	5

/*
 * The argv of an external transport toward a: program, the ssh options,
 * -l user, -p port, "--", the host and command (NULL: "-s" and the sftp
 * subsystem).  port is scratch space; argv has room for the lot.
 */
static void
fscp_transport_argv(const char *program, int is_fssh,
    const struct fscp_arg *a, const char *command, char *port, size_t portsz,
    char **argv)
{
	size_t n = 0, i;

	argv[n++] = (char *)program;
	if (is_fssh)
		argv[n++] = (char *)"-x";
	for (i = is_fssh ? FSCP_FIXED_ARGS : 0; i < g.nssh_args; i++)
		argv[n++] = g.ssh_args[i];
	if (a->user != NULL) {
		argv[n++] = (char *)"-l";
		argv[n++] = a->user;
	}
	if (a->port != -1) {
		snprintf(port, portsz, "%d", a->port);
		argv[n++] = (char *)"-p";
		argv[n++] = port;
	}
	if (command == NULL)
		argv[n++] = (char *)"-s";
	argv[n++] = (char *)"--";
	argv[n++] = a->host;
	argv[n++] = (char *)(command != NULL ? command : "sftp");
	argv[n] = NULL;
}

/* fssh next to this program, else the one in PATH. */
static const char *
fscp_fssh(void)
{
	static char path[4096 + 8];
	char self[4096], *slash;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/fssh", self);
			if (access(path, X_OK) == 0)
				return path;
		}
	}
	return "fssh";
}

/*
 * Run the -S program for a with command (NULL: the sftp subsystem);
 * its stdin and stdout on pipes.
 */
static pid_t
fscp_spawn(const struct fscp_arg *a, const char *command, int *to_fd,
    int *from_fd)
{
	char *argv[FSCP_MAX_ARGS * 2 + 16], port[16];
	pid_t pid;

	fscp_transport_argv(g.program, 0, a, command, port, sizeof(port), argv);
	fscp_sigs_block(1);
	if (prog_client_spawn(argv, to_fd, from_fd, &pid) != 0)
		prog_exit(1);
	fscp_kid_add(pid);
	fscp_sigs_block(0);
	return pid;
}

/* ---- the legacy protocol over an in-process exec channel ---- */

struct fscp_chan {
	struct prog_client *pc;
	struct conn *conn;
	struct scp *e;
	const char *command;
	uint32_t chan;
	struct buf *pending;		/* received, not yet taken */
	int eof_sent, closed, exit_status, failed, interrupted;
};

/* A signal came: close the channel and stop the loop. */
static void
fscp_chan_intr_tick(struct evloop *loop, void *ctx)
{
	struct fscp_chan *c = ctx;

	(void)loop;
	if (!fscp_sig || c->interrupted)
		return;
	c->interrupted = 1;
	if (!c->closed && conn_close(c->conn, c->chan) != 0)
		log_debug("cannot close the channel");
	client_flush(c->pc->cl);
	client_stop(c->pc->cl);
}

static int
fscp_chan_service(struct fscp_chan *c)
{
	struct buf *out = scp_output(c->e);
	size_t n, sent;
	int r, progress = 1;

	while (progress && !c->closed) {
		progress = 0;
		n = buf_len(c->pending);
		if (n > scp_input_space(c->e))
			n = scp_input_space(c->e);
		if (n > 0) {
			if ((r = scp_input(c->e, buf_ptr(c->pending), n)) != 0 ||
			    (r = buf_consume(c->pending, n)) != 0 ||
			    (r = conn_consumed(c->conn, c->chan, n)) != 0)
				return r;
			progress = 1;
		}
		if (scp_process(c->e) != 0)
			log_debug("scp: transfer failed");
		while (buf_len(out) > 0 &&
		    (n = conn_writable(c->conn, c->chan)) > 0) {
			if (n > buf_len(out))
				n = buf_len(out);
			if ((r = conn_write(c->conn, c->chan, buf_ptr(out), n,
			    &sent)) != 0 || (r = buf_consume(out, sent)) != 0)
				return r;
			if (sent == 0)
				break;
			progress = 1;
		}
	}
	if (scp_done(c->e) && buf_len(out) == 0 && !c->eof_sent && !c->closed) {
		c->eof_sent = 1;
		if ((r = conn_eof(c->conn, c->chan)) != 0)
			return r;
		if (scp_failed(c->e) && (r = conn_close(c->conn, c->chan)) != 0)
			return r;
	}
	return 0;
}

static int
fscp_chan_event(struct client *cl, const struct conn_event *ev, void *ctx)
{
	struct fscp_chan *c = ctx;
	int r;

	(void)cl;
	if (ev != NULL && ev->chan != c->chan)
		return 0;
	if (ev != NULL) {
		switch (ev->type) {
		case CONN_EV_OPENED:
			if ((r = conn_request_exec(c->conn, c->chan, c->command,
			    1)) != 0)
				return r;
			break;
		case CONN_EV_OPEN_FAILED:
			log_error("channel open failed");
			c->closed = c->failed = 1;
			client_stop(c->pc->cl);
			return 0;
		case CONN_EV_REPLY:
			if (!ev->ok) {
				log_error("exec request failed on channel %u",
				    c->chan);
				c->failed = 1;
				return conn_close(c->conn, c->chan);
			}
			break;
		case CONN_EV_DATA:
			if ((r = buf_put(c->pending, ev->data, ev->len)) != 0)
				return r;
			break;
		case CONN_EV_EXTENDED_DATA:
			if (write(STDERR_FILENO, ev->data, ev->len) < 0)
				log_debug("stderr: %s", strerror(errno));
			return conn_consumed(c->conn, c->chan, ev->len);
		case CONN_EV_EOF:
			scp_input_eof(c->e);
			break;
		case CONN_EV_REQUEST:
			if (ev->req == CONN_REQ_EXIT_STATUS)
				c->exit_status = (int)(ev->status & 0xff);
			return 0;
		case CONN_EV_CLOSE:
			c->closed = 1;
			scp_input_eof(c->e);
			if (scp_process(c->e) != 0)
				log_debug("scp: transfer failed");
			client_stop(c->pc->cl);
			return 0;
		default:
			break;
		}
	}
	return fscp_chan_service(c);
}

/* Run e against "command" on a's host; 0 or 1 as scp's exit status. */
static int
fscp_legacy_run(const struct fscp_arg *a, const char *command,
    struct scp *e)
{
	struct fscp_chan c;
	uint64_t tick;
	int to_fd, from_fd, r, st;
	pid_t pid;

	log_debug("Executing: %s", command);
	if (g.program != NULL) {
		/* A signal here ends the program (fscp_on_signal). */
		pid = fscp_spawn(a, command, &to_fd, &from_fd);
		r = scp_run_fds(e, from_fd, to_fd);
		close(to_fd);
		close(from_fd);
		st = fscp_kid_reap(pid);
		if (r < 0 && !scp_failed(e))
			fprintf(stderr, "lost connection\n");
		return r != 0 || st != 0 || scp_errors(e) > 0 ? 1 : 0;
	}
	memset(&c, 0, sizeof(c));
	c.pc = fscp_connect(a, 0);
	c.conn = client_conn(c.pc->cl);
	c.e = e;
	c.command = command;
	c.exit_status = -1;
	if ((c.pending = buf_new()) == NULL)
		fatal("out of memory");
	client_set_handler(c.pc->cl, fscp_chan_event, &c);
	if ((r = conn_open(c.conn, "session", NULL, 0, &c.chan)) != 0)
		fatal_r(r, "opening a channel");
	if ((r = evloop_add_timer(client_evloop(c.pc->cl), FSCP_INTR_POLL, 1,
	    fscp_chan_intr_tick, &c, &tick)) != 0)
		fatal_r(r, "adding a timer");
	client_flush(c.pc->cl);
	fscp_cancel_point(1);
	r = client_run(c.pc->cl);
	fscp_cancel_point(0);
	if (evloop_cancel_timer(client_evloop(c.pc->cl), tick) != 0)
		log_debug("interrupt timer already gone");
	if (r != 0 && !c.closed && !c.interrupted)
		fprintf(stderr, "lost connection\n");
	buf_free(c.pending);
	prog_client_free(c.pc);
	return r != 0 || c.failed || !scp_done(e) || scp_failed(e) ||
	    scp_errors(e) > 0 || (c.exit_status != 0 && c.exit_status != -1) ?
	    1 : 0;
}

/*
 * Quote path for the remote shell: everything literal but '*' and '?',
 * which stay globs as users of scp expect, and for a source (braces
 * set) '{', ',' and '}', so that the shell expands {a,b} as OpenSSH's
 * scp lets it (the sink checks the names against the expansion).
 */
static int
fscp_quote_remote(struct buf *b, const char *path, int braces)
{
	const char *keep = braces ? "*?{,}" : "*?";
	char *seg;
	size_t n;
	int r;

	while (*path != '\0') {
		if (strchr(keep, *path) != NULL) {
			if ((r = buf_put_u8(b, (uint8_t)*path++)) != 0)
				return r;
			continue;
		}
		n = strcspn(path, keep);
		if ((seg = strndup(path, n)) == NULL)
			return FERR_ALLOC;
		r = client_shell_quote(b, seg);
		free(seg);
		if (r != 0)
			return r;
		path += n;
	}
	return 0;
}

#define FSCP_BRACE_MAX	1024

/* "scp [-r] [-p] [-d] -t|-f -- 'path'" */
static char *
fscp_legacy_command(int to, int dir, const char *path)
{
	struct buf *b;
	char *s;

	if ((b = buf_new()) == NULL ||
	    buf_putf(b, "scp%s%s%s%s -%c -- ", g.verbose ? " -v" : "",
	    g.recursive ? " -r" : "", g.preserve ? " -p" : "",
	    dir ? " -d" : "", to ? 't' : 'f') != 0 ||
	    fscp_quote_remote(b, path, !to) != 0 ||
	    (s = buf_dup_string(b)) == NULL)
		fatal("out of memory");
	buf_free(b);
	return s;
}

static void
fscp_legacy_config(struct scp_config *cfg, enum scp_role role)
{
	mode_t um = umask(0);

	umask(um);
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = role;
	cfg->recursive = g.recursive;
	cfg->preserve = g.preserve;
	cfg->relaxed = g.relaxed;
	cfg->umask = (uint32_t)um;
	cfg->fs = scp_fs_local();
	cfg->message = fscp_scp_message;
	cfg->progress = fscp_scp_progress;
}

static int
fscp_legacy_upload(struct fscp_arg *srcs, int nsrc, struct fscp_arg *dst)
{
	const char *paths[FSCP_MAX_ARGS + 1];
	struct scp_config cfg;
	struct scp *e;
	char *cmd;
	int i, r;

	for (i = 0; i < nsrc; i++)
		paths[i] = srcs[i].path;
	paths[nsrc] = NULL;
	fscp_legacy_config(&cfg, SCP_SOURCE);
	cfg.paths = paths;
	cmd = fscp_legacy_command(1, nsrc > 1, dst->path);
	if (scp_new(&cfg, &e) != 0)
		fatal("out of memory");
	r = fscp_legacy_run(dst, cmd, e);
	scp_free(e);
	free(cmd);
	return r;
}

static int
fscp_legacy_download(struct fscp_arg *src, const char *target, int dir)
{
	const char **pats;
	struct scp_config cfg;
	struct scp *e;
	char *cmd, **words = NULL;
	size_t nwords = 0, i;
	int r;

	fscp_legacy_config(&cfg, SCP_SINK);
	cfg.target = target;
	cfg.target_dir = dir;
	/*
	 * Only the requested names may arrive at the top: the brace
	 * expansion of the request, each word's last component a glob.
	 */
	if (scp_brace_expand(src->path, FSCP_BRACE_MAX, &words,
	    &nwords) != 0) {
		fprintf(stderr, "%s: too many brace alternatives\n",
		    src->path);
		r = 1;
		goto out;
	}
	if ((pats = calloc(nwords + 1, sizeof(*pats))) == NULL)
		fatal("out of memory");
	for (i = 0; i < nwords; i++)
		pats[i] = fscp_basename(words[i]);
	cfg.patterns = pats;
	cmd = fscp_legacy_command(0, 0, src->path);
	if (scp_new(&cfg, &e) != 0)
		fatal("out of memory");
	r = fscp_legacy_run(src, cmd, e);
	scp_free(e);
	free(cmd);
	free(pats);
 out:
	for (i = 0; i < nwords; i++)
		free(words[i]);
	free(words);
	return r;
}

/* ---- the SFTP protocol ---- */

/* One SFTP connection: the client (or -S program) and the session. */
struct fscp_sftp {
	struct prog_client *pc;
	pid_t pid;
	struct sftp_session *ss;
};

/*
 * Open the SFTP session to a's host.  The first request fscp makes there,
 * the STAT of stat_path (NULL: none known), goes right behind INIT
 * (sftp_session_opts.prefetch): one round trip less before the copy.
 */
static struct sftp_session *
fscp_sftp_open(const struct fscp_arg *a, struct fscp_sftp *fs,
    const char *stat_path)
{
	struct sftp_session_opts so;
	struct sftp_session_prefetch pf;
	struct sftp_session *ss = NULL;
	int to_fd, from_fd, r;

	memset(fs, 0, sizeof(*fs));
	fs->pid = -1;
	memset(&so, 0, sizeof(so));
	so.limit_bps = g.limit_bps;
	so.interrupted = &fscp_intr;
	if (stat_path != NULL && *stat_path != '\0') {
		pf.type = SSH_FXP_STAT;
		pf.path = stat_path;
		so.prefetch = &pf;
		so.nprefetch = 1;
	}
	if (g.program != NULL) {
		fs->pid = fscp_spawn(a, NULL, &to_fd, &from_fd);
		r = sftp_session_open_fds(from_fd, to_fd, &so, &ss);
	} else {
		fs->pc = fscp_connect(a, SFTP_SESSION_WINDOW);
		r = sftp_session_open_client(fs->pc->cl, g.sftp_server, &so,
		    &ss);
	}
	if (r != 0) {
		if (ss != NULL && *sftp_session_error(ss) != '\0')
			fprintf(stderr, "%s\n", sftp_session_error(ss));
		fprintf(stderr, "Connection closed\n");
		prog_exit(1);
	}
	fs->ss = ss;
	return ss;
}

static void
fscp_sftp_close(struct fscp_sftp *fs)
{
	sftp_session_close(fs->ss);
	fs->ss = NULL;
	prog_client_free(fs->pc);
	fs->pc = NULL;
	if (fs->pid != -1)
		(void)fscp_kid_reap(fs->pid);
	fs->pid = -1;
}

/*
 * The path fscp stats first for a source: the path itself unless its
 * last component is a pattern (then a listing comes first).
 */
static const char *
fscp_src_stat_path(const char *path)
{
	return strpbrk(fscp_basename(path), "*?[") == NULL ? path : NULL;
}

/*
 * 1 directory, 0 something else, -1 nothing there; sa (unless NULL)
 * gets the attributes when there is something.
 */
static int
fscp_sftp_stat(struct sftp_session *ss, const char *path,
    struct sftp_attrs *sa)
{
	struct sftp_session_reply rep;
	int r;

	if (sftp_session_call_path(ss, SSH_FXP_STAT, path, &rep) != 0) {
		sftp_session_reply_free(&rep);
		fprintf(stderr, "%s\n", sftp_session_error(ss));
		prog_exit(1);
	}
	if (rep.type != SSH_FXP_ATTRS)
		r = -1;
	else
		r = (rep.attrs.flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
		    (rep.attrs.perm & 0170000) == 0040000;
	if (r != -1 && sa != NULL)
		*sa = rep.attrs;
	sftp_session_reply_free(&rep);
	return r;
}

/* 1 directory, 0 something else, -1 nothing there. */
static int
fscp_sftp_isdir(struct sftp_session *ss, const char *path)
{
	return fscp_sftp_stat(ss, path, NULL);
}

/*
 * Remote glob over SFTP: the last component may hold * ? [..]; the
 * directory part is taken literally.  Names starting with '.' match
 * only a pattern that does too (FNM_PERIOD), as in sh.
 */
static int
fscp_sftp_glob(struct sftp_session *ss, const char *path, char ***outp,
    size_t *noutp)
{
	struct sftp_session_reply rep, rd;
	const char *base = fscp_basename(path);
	char *dir, **v = *outp;
	size_t n = *noutp, i;
	uint8_t *h = NULL;
	size_t hlen = 0;
	int found = 0;

	if (strpbrk(base, "*?[") == NULL) {
		if ((v = reallocarray(v, n + 1, sizeof(*v))) == NULL)
			fatal("out of memory");
		v[n++] = xstrdup(path);
		*outp = v;
		*noutp = n;
		return 1;
	}
	dir = base == path ? xstrdup(".") :
	    strndup(path, (size_t)(base - path));
	if (dir == NULL)
		fatal("out of memory");
	if (sftp_session_call_path(ss, SSH_FXP_OPENDIR, dir, &rep) != 0)
		fatal("%s", sftp_session_error(ss));
	if (rep.type == SSH_FXP_HANDLE) {
		h = rep.data;
		hlen = rep.len;
		rep.data = NULL;
	}
	sftp_session_reply_free(&rep);
	while (h != NULL) {
		if (sftp_session_call_handle(ss, SSH_FXP_READDIR, h, hlen,
		    &rd) != 0)
			fatal("%s", sftp_session_error(ss));
		if (rd.type != SSH_FXP_NAME) {
			sftp_session_reply_free(&rd);
			break;
		}
		for (i = 0; i < rd.count; i++) {
			const char *nm = rd.names[i].filename;

			if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0 ||
			    fnmatch(base, nm, FNM_PERIOD) != 0)
				continue;
			if (n >= FSCP_GLOB_MAX)
				break;
			if ((v = reallocarray(v, n + 1, sizeof(*v))) == NULL)
				fatal("out of memory");
			v[n++] = base == path ? xstrdup(nm) :
			    fscp_join(dir, nm);
			found++;
		}
		sftp_session_reply_free(&rd);
	}
	if (h != NULL) {
		if (sftp_session_call_handle(ss, SSH_FXP_CLOSE, h, hlen,
		    &rd) != 0)
			fatal("%s", sftp_session_error(ss));
		sftp_session_reply_free(&rd);
	}
	free(h);
	free(dir);
	*outp = v;
	*noutp = n;
	if (!found)
		fprintf(stderr, "%s: No such file or directory\n", path);
	return found;
}

static void
fscp_xfer_progress(void *arg, const char *name, uint64_t done,
    uint64_t total, int finished)
{
	(void)arg;
	fscp_meter(fscp_basename(name), total, done, finished);
}

static void
fscp_xfer_msg(void *arg, int is_error, const char *msg)
{
	(void)arg;
	/* Interrupted: one line at the end says it for every file. */
	if (fscp_sig)
		return;
	if (is_error || !g.quiet)
		fprintf(stderr, "%s\n", msg);
}

static unsigned int
fscp_xfer_flags(void)
{
	return (g.recursive ? SFTP_XFER_RECURSE : 0) |
	    (g.preserve ? SFTP_XFER_PRESERVE : 0) |
	    (g.resume ? SFTP_XFER_RESUME : 0);
}

static struct sftp_xfer *
fscp_xfer_new(struct sftp_session *ss)
{
	struct sftp_xfer_opts o;
	struct sftp_xfer *x;

	memset(&o, 0, sizeof(o));
	o.flags = fscp_xfer_flags();
	o.req_size = g.req_size;
	o.max_requests = g.nrequests;
	o.progress = fscp_xfer_progress;
	o.msg = fscp_xfer_msg;
	if ((x = sftp_xfer_new(sftp_session_engine(ss), &o)) == NULL)
		fatal("out of memory");
	return x;
}

static int
fscp_xfer_run(struct sftp_session *ss, struct sftp_xfer *x)
{
	int r, intr;

	fscp_cancel_point(1);
	r = sftp_session_run_xfer(ss, x);
	intr = fscp_cancel_point(0);
	if (r != 0) {
		if (!intr)
			fprintf(stderr, "%s\n", sftp_session_error(ss));
		return 1;
	}
	return sftp_xfer_failures(x) != 0;
}

static int
fscp_sftp_upload(struct fscp_arg *srcs, int nsrc, struct fscp_arg *dst)
{
	struct fscp_sftp fs;
	struct sftp_session *ss = fscp_sftp_open(dst, &fs, dst->path);
	struct sftp_xfer *x = fscp_xfer_new(ss);
	struct stat sb;
	char *rpath;
	int i, isdir, rc = 0, ar;

	isdir = fscp_sftp_isdir(ss, dst->path) == 1;
	if (nsrc > 1 && !isdir) {
		fprintf(stderr, "%s: Not a directory\n", dst->path);
		rc = 1;
		goto out;
	}
	for (i = 0; i < nsrc && !fscp_sig; i++) {
		if (stat(srcs[i].path, &sb) != 0) {
			fprintf(stderr, "%s: %s\n", srcs[i].path,
			    strerror(errno));
			rc = 1;
			continue;
		}
		if (S_ISDIR(sb.st_mode) && !g.recursive) {
			fprintf(stderr, "%s: not a regular file\n",
			    srcs[i].path);
			rc = 1;
			continue;
		}
		rpath = isdir ? fscp_join(dst->path,
		    fscp_basename(srcs[i].path)) : xstrdup(dst->path);
		/* A tree goes as one archive stream when that pays. */
		ar = S_ISDIR(sb.st_mode) ? fsftp_archive_tree(ss, 1,
		    srcs[i].path, rpath, fscp_xfer_flags(), g.quiet, 1) : 1;
		if (ar == -1 && fsftp_archive_interrupted())
			fscp_sig = SIGINT;
		if (ar == -1)
			rc = 1;
		else if (ar == 1 && sftp_xfer_put(x, srcs[i].path, rpath) != 0)
			fatal("out of memory");
		free(rpath);
	}
	if (!fscp_sig && fscp_xfer_run(ss, x) != 0)
		rc = 1;
 out:
	sftp_xfer_free(x);
	fscp_sftp_close(&fs);
	return rc;
}

static int
fscp_sftp_download(struct fscp_arg *src, const char *target, int dir)
{
	struct fscp_sftp fs;
	struct sftp_session *ss = fscp_sftp_open(src, &fs,
	    fscp_src_stat_path(src->path));
	struct sftp_xfer *x = fscp_xfer_new(ss);
	struct sftp_attrs sa;
	char **names = NULL, *lpath;
	size_t n = 0, i;
	int rc = 0, isdir, ar;

	if (!fscp_sftp_glob(ss, src->path, &names, &n))
		rc = 1;
	for (i = 0; i < n && !fscp_sig; i++) {
		isdir = fscp_sftp_stat(ss, names[i], &sa);
		if (isdir == 1 && !g.recursive) {
			fprintf(stderr, "%s: not a regular file\n", names[i]);
			rc = 1;
			continue;
		}
		if (isdir == -1) {
			fprintf(stderr, "%s: No such file or directory\n",
			    names[i]);
			rc = 1;
			continue;
		}
		lpath = dir ? fscp_join(target, fscp_basename(names[i])) :
		    xstrdup(target);
		ar = isdir == 1 ? fsftp_archive_tree(ss, 0, names[i], lpath,
		    fscp_xfer_flags(), g.quiet, 1) : 1;
		if (ar == -1 && fsftp_archive_interrupted())
			fscp_sig = SIGINT;
		if (ar == -1)
			rc = 1;
		else if (ar == 1 && sftp_xfer_get_known(x, names[i], lpath,
		    &sa) != 0)
			fatal("out of memory");
		free(lpath);
	}
	if (n > 0 && !fscp_sig && fscp_xfer_run(ss, x) != 0)
		rc = 1;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	sftp_xfer_free(x);
	fscp_sftp_close(&fs);
	return rc;
}

/* ---- remote to remote through this host over SFTP (-3) ---- */

/*
 * A file is streamed in batches: the reads of one batch go out on the
 * source session while the writes of the previous one are answered on
 * the target session, so both servers are kept busy and at most two
 * batches (FSCP_R2R_BATCH_BYTES each) are held here at a time.
 */
#define FSCP_R2R_BATCH_BYTES	(4U * 1024 * 1024)
#define FSCP_R2R_REQUESTS	64U

struct fscp_r2r;

struct fscp_r2r_slot {
	struct fscp_r2r *t;
	uint64_t off;
	uint32_t want, got;
	int state;			/* FSCP_SLOT_* */
	uint8_t *data;
};

enum { FSCP_SLOT_WAIT, FSCP_SLOT_DATA, FSCP_SLOT_EOF, FSCP_SLOT_ERR };

struct fscp_r2r {
	struct sftp_session *s1, *s2;	/* source, target */
	struct fscp_r2r_slot *slots;
	unsigned int nslots, reads_left, writes_left;
	uint32_t req;
	uint32_t read_status, write_status;	/* first failure */
	int read_failed, write_failed;
	int same_host;			/* both operands name one account */
};

static int
fscp_r2r_read_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct fscp_r2r_slot *sl = arg;

	sl->t->reads_left--;
	if (rep->type == SSH_FXP_DATA && rep->len > 0 &&
	    rep->len <= sl->want) {
		memcpy(sl->data, rep->data, rep->len);
		sl->got = (uint32_t)rep->len;
		sl->state = FSCP_SLOT_DATA;
	} else if (rep->type == SSH_FXP_STATUS && rep->status == SSH_FX_EOF)
		sl->state = FSCP_SLOT_EOF;
	else {
		sl->state = FSCP_SLOT_ERR;
		sl->t->read_status = rep->type == SSH_FXP_STATUS ?
		    rep->status : SSH_FX_FAILURE;
	}
	return 0;
}

static int
fscp_r2r_write_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct fscp_r2r *t = arg;

	t->writes_left--;
	if (rep->type != SSH_FXP_STATUS || rep->status != SSH_FX_OK) {
		if (!t->write_failed)
			t->write_status = rep->type == SSH_FXP_STATUS ?
			    rep->status : SSH_FX_FAILURE;
		t->write_failed = 1;
	}
	return 0;
}

static int
fscp_r2r_reads_done(void *arg)
{
	struct fscp_r2r *t = arg;

	return t->reads_left == 0 || fscp_sig;
}

static int
fscp_r2r_writes_done(void *arg)
{
	struct fscp_r2r *t = arg;

	return t->writes_left == 0 || fscp_sig;
}

/* The source's requests have left this host. */
static int
fscp_r2r_sent(void *arg)
{
	struct fscp_r2r *t = arg;

	return buf_len(sftp_client_output(sftp_session_engine(t->s1))) == 0 ||
	    t->reads_left == 0 || fscp_sig;
}

static void
fscp_r2r_errstatus(const char *path, uint32_t status)
{
	fprintf(stderr, "%s: %s\n", path,
	    strerror(sftp_client_status_errno(status)));
}

/* OPEN on s: the handle in *hp (allocated), or -1 after a message. */
static int
fscp_r2r_open(struct sftp_session *s, const char *path, uint32_t pflags,
    const struct sftp_attrs *a, uint8_t **hp, size_t *hlenp)
{
	struct sftp_session_reply rep;
	struct sftp_attrs none;
	struct buf *b;
	int r;

	memset(&none, 0, sizeof(none));
	if ((r = sftp_client_begin(sftp_session_engine(s), SSH_FXP_OPEN, NULL,
	    &b)) != 0 || (r = buf_put_cstring(b, path)) != 0 ||
	    (r = buf_put_u32(b, pflags)) != 0 ||
	    (r = sftp_attrs_put(b, a != NULL ? a : &none)) != 0) {
		sftp_client_abort(sftp_session_engine(s));
		fatal_r(r, "building a request");
	}
	if (sftp_session_call_end(s, &rep) != 0)
		fatal("%s", sftp_session_error(s));
	r = -1;
	if (rep.type == SSH_FXP_HANDLE) {
		*hp = rep.data;
		*hlenp = rep.len;
		rep.data = NULL;
		r = 0;
	} else
		fscp_r2r_errstatus(path, rep.type == SSH_FXP_STATUS ?
		    rep.status : SSH_FX_FAILURE);
	sftp_session_reply_free(&rep);
	return r;
}

/* A request of type with path and attrs (MKDIR, SETSTAT): its status. */
static uint32_t
fscp_r2r_path_attrs(struct sftp_session *s, uint8_t type, const char *path,
    const struct sftp_attrs *a)
{
	struct sftp_session_reply rep;
	struct buf *b;
	uint32_t st;
	int r;

	if ((r = sftp_client_begin(sftp_session_engine(s), type, NULL,
	    &b)) != 0 || (r = buf_put_cstring(b, path)) != 0 ||
	    (r = sftp_attrs_put(b, a)) != 0) {
		sftp_client_abort(sftp_session_engine(s));
		fatal_r(r, "building a request");
	}
	if (sftp_session_call_end(s, &rep) != 0)
		fatal("%s", sftp_session_error(s));
	st = rep.type == SSH_FXP_STATUS ? rep.status : SSH_FX_FAILURE;
	sftp_session_reply_free(&rep);
	return st;
}

static void
fscp_r2r_close_handle(struct sftp_session *s, uint8_t *h, size_t hlen,
    uint32_t *stp)
{
	struct sftp_session_reply rep;

	if (sftp_session_call_handle(s, SSH_FXP_CLOSE, h, hlen, &rep) != 0)
		fatal("%s", sftp_session_error(s));
	*stp = rep.type == SSH_FXP_STATUS ? rep.status : SSH_FX_FAILURE;
	sftp_session_reply_free(&rep);
	free(h);
}

/* Queue the reads of one batch from off on the source. */
static void
fscp_r2r_issue_reads(struct fscp_r2r *t, const uint8_t *h, size_t hlen,
    uint64_t off)
{
	unsigned int i;
	int r;

	for (i = 0; i < t->nslots; i++) {
		t->slots[i].off = off + (uint64_t)i * t->req;
		t->slots[i].want = t->req;
		t->slots[i].got = 0;
		t->slots[i].state = FSCP_SLOT_WAIT;
		if ((r = sftp_client_read(sftp_session_engine(t->s1), h, hlen,
		    t->slots[i].off, t->req, fscp_r2r_read_cb,
		    &t->slots[i])) != 0)
			fatal_r(r, "queueing a read");
		t->reads_left++;
	}
}

/*
 * -3 -a: the verified resume of uploads and downloads
 * (lib/sftp-client-xfer.c), between two servers.  The target's length
 * comes from its handle.  Its prefix is compared with the same range of
 * the source by sha256 when both servers offer check-file-handle, else
 * by reading up to four 32 KiB samples (the start, the end, two between)
 * from both and comparing them byte by byte.  A target larger than the
 * source or with a prefix that differs is refused, with the messages of
 * the other directions, and left as it is: nothing is ever appended to
 * a prefix that is not the source's.
 */
#define FSCP_R2R_SAMPLE		(32U * 1024)
#define FSCP_R2R_SAMPLES	4U

/* A message about one file, made visible; after a signal, nothing. */
static void
fscp_r2r_msg(int is_error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fscp_r2r_msg(int is_error, const char *fmt, ...)
{
	char raw[2048], *v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if ((v = sftp_client_vis(raw)) == NULL)
		fatal("out of memory");
	fscp_xfer_msg(NULL, is_error, v);
	free(v);
}

/* The size of the open file h on s; -1 when the server gives none. */
static int
fscp_r2r_fsize(struct sftp_session *s, const uint8_t *h, size_t hlen,
    uint64_t *sizep)
{
	struct sftp_session_reply rep;
	int r = -1;

	if (sftp_session_call_handle(s, SSH_FXP_FSTAT, h, hlen, &rep) != 0)
		fatal("%s", sftp_session_error(s));
	if (rep.type == SSH_FXP_ATTRS &&
	    (rep.attrs.flags & SSH_FILEXFER_ATTR_SIZE)) {
		*sizep = rep.attrs.size;
		r = 0;
	}
	sftp_session_reply_free(&rep);
	return r;
}

/*
 * sha256 of the first len bytes of the open file h on s, by
 * check-file-handle.  0, or -1 when the server did not give one.
 */
static int
fscp_r2r_checkfile(struct sftp_session *s, const uint8_t *h, size_t hlen,
    uint64_t len, uint8_t digest[SFTP_CHECKFILE_SHA256_LEN])
{
	struct sftp_session_reply rep;
	int r;

	if ((r = sftp_client_begin_checkfile(sftp_session_engine(s), h, hlen,
	    NULL, 0, len)) != 0)
		fatal_r(r, "building a request");
	if (sftp_session_call_end(s, &rep) != 0)
		fatal("%s", sftp_session_error(s));
	r = rep.type == SSH_FXP_EXTENDED_REPLY &&
	    sftp_client_checkfile_digest(rep.data, rep.len, digest) == 0 ?
	    0 : -1;
	sftp_session_reply_free(&rep);
	return r;
}

/* One READ of the resume check: its reply, copied. */
struct fscp_r2r_read {
	uint8_t *p;
	uint32_t want, got;
	int done, eof, failed;
};

static int
fscp_r2r_pread_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct fscp_r2r_read *rd = arg;

	rd->done = 1;
	if (rep->type == SSH_FXP_DATA && rep->len <= rd->want) {
		memcpy(rd->p, rep->data, rep->len);
		rd->got = (uint32_t)rep->len;
	} else if (rep->type == SSH_FXP_STATUS && rep->status == SSH_FX_EOF)
		rd->eof = 1;
	else
		rd->failed = 1;
	return 0;
}

static int
fscp_r2r_pread_done(void *arg)
{
	const struct fscp_r2r_read *rd = arg;

	return rd->done || fscp_sig;
}

/*
 * Read len bytes at off from the open file h on s into p, in requests of
 * at most req bytes.  The count read (less at the end of the file), or
 * -1 when a read failed or a signal came.
 */
static int64_t
fscp_r2r_pread(struct sftp_session *s, const uint8_t *h, size_t hlen,
    uint32_t req, uint64_t off, uint32_t len, uint8_t *p)
{
	struct fscp_r2r_read rd;
	uint32_t got = 0;
	int r;

	while (got < len) {
		memset(&rd, 0, sizeof(rd));
		rd.p = p + got;
		rd.want = len - got < req ? len - got : req;
		if ((r = sftp_client_read(sftp_session_engine(s), h, hlen,
		    off + got, rd.want, fscp_r2r_pread_cb, &rd)) != 0)
			fatal_r(r, "queueing a read");
		if (sftp_session_pump(s, fscp_r2r_pread_done, &rd) != 0)
			fatal("%s", sftp_session_error(s));
		if (fscp_sig || rd.failed)
			return -1;
		if (rd.eof || rd.got == 0)
			break;
		got += rd.got;
	}
	return got;
}

/*
 * Whether the first len bytes of the target (h2 on t->s2) are those of
 * the source (h1 on t->s1) by samples: 0 the same, 1 they differ, -1 a
 * read failed or a signal came.
 */
static int
fscp_r2r_samples(struct fscp_r2r *t, const uint8_t *h1, size_t h1len,
    const uint8_t *h2, size_t h2len, uint64_t len)
{
	uint64_t pos[FSCP_R2R_SAMPLES];
	uint32_t n = len < FSCP_R2R_SAMPLE ? (uint32_t)len : FSCP_R2R_SAMPLE;
	uint8_t *a, *b;
	int64_t ga, gb;
	unsigned int i;
	int r = 0;

	pos[0] = 0;
	pos[1] = len - n;
	pos[2] = (len - n) / 3;
	pos[3] = (len - n) / 3 * 2;
	if ((a = malloc(n)) == NULL || (b = malloc(n)) == NULL)
		fatal("out of memory");
	for (i = 0; i < FSCP_R2R_SAMPLES && r == 0; i++) {
		if (i > 0 && pos[i] == pos[i - 1])
			continue;
		ga = fscp_r2r_pread(t->s1, h1, h1len, t->req, pos[i], n, a);
		gb = ga < 0 ? -1 :
		    fscp_r2r_pread(t->s2, h2, h2len, t->req, pos[i], n, b);
		if (ga < 0 || gb < 0)
			r = -1;
		else if (ga != n || gb != n || memcmp(a, b, n) != 0)
			r = 1;
	}
	free(a);
	free(b);
	return r;
}

/*
 * -a: where to go on with the target dst (open as h2, READ and WRITE),
 * in *startp: its length once its prefix is verified, 0 when it is
 * empty.  0, or 1 after a message (or a signal): the target is then
 * left as it is.
 */
static int
fscp_r2r_resume(struct fscp_r2r *t, const char *src, const char *dst,
    uint64_t size, const uint8_t *h1, size_t h1len, const uint8_t *h2,
    size_t h2len, uint64_t *startp)
{
	uint8_t d1[SFTP_CHECKFILE_SHA256_LEN], d2[SFTP_CHECKFILE_SHA256_LEN];
	uint64_t start;
	int r = -2;

	*startp = 0;
	if (fscp_r2r_fsize(t->s2, h2, h2len, &start) != 0) {
		fscp_r2r_msg(1, "Unable to resume copy to \"%s\": its size "
		    "is unknown", dst);
		return 1;
	}
	if (start == 0)
		return 0;
	if (start > size) {
		fscp_r2r_msg(1, "Unable to resume copy of \"%s\": "
		    "destination is larger than source", src);
		return 1;
	}
	if (sftp_client_has_checkfile(sftp_session_engine(t->s1),
	    "check-file-handle") &&
	    sftp_client_has_checkfile(sftp_session_engine(t->s2),
	    "check-file-handle")) {
		if (fscp_r2r_checkfile(t->s1, h1, h1len, start, d1) == 0 &&
		    fscp_r2r_checkfile(t->s2, h2, h2len, start, d2) == 0)
			r = CRYPTO_memcmp(d1, d2, sizeof(d1)) != 0;
		else
			fscp_r2r_msg(0, "check-file failed: comparing "
			    "samples");
	}
	if (r == -2)
		r = fscp_r2r_samples(t, h1, h1len, h2, h2len, start);
	if (r < 0) {
		if (!fscp_sig)
			fscp_r2r_msg(1, "Cannot resume \"%s\": reading the "
			    "part already transferred failed", dst);
		return 1;
	}
	if (r == 1) {
		fscp_r2r_msg(1, "Cannot resume \"%s\": the part already "
		    "transferred differs from the source", dst);
		return 1;
	}
	fscp_r2r_msg(0, "Resuming copy to \"%s\" at %llu bytes", dst,
	    (unsigned long long)start);
	*startp = start;
	return 0;
}

/*
 * Stream the regular file src (attributes sa) to dst.  0, or 1 after a
 * message.
 */
static int
fscp_r2r_file(struct fscp_r2r *t, const char *src, const char *dst,
    const struct sftp_attrs *sa)
{
	struct sftp_attrs oa;
	uint8_t *h1 = NULL, *h2 = NULL, *p;
	size_t h1len = 0, h2len = 0;
	uint64_t next, start = 0, done, total;
	uint32_t st1, st2, pflags;
	unsigned int i;
	int r, eof = 0, rc = 0;

	if (fscp_r2r_open(t->s1, src, SSH_FXF_READ, NULL, &h1, &h1len) != 0)
		return 1;
	memset(&oa, 0, sizeof(oa));
	if (sa->flags & SSH_FILEXFER_ATTR_PERMISSIONS) {
		oa.flags = SSH_FILEXFER_ATTR_PERMISSIONS;
		oa.perm = sa->perm & 07777;
	}
	/* -a keeps what is there (and reads it back to compare). */
	pflags = SSH_FXF_WRITE | SSH_FXF_CREAT |
	    (g.resume ? SSH_FXF_READ : SSH_FXF_TRUNC);
	if (fscp_r2r_open(t->s2, dst, pflags, &oa, &h2, &h2len) != 0) {
		fscp_r2r_close_handle(t->s1, h1, h1len, &st1);
		return 1;
	}
	total = (sa->flags & SSH_FILEXFER_ATTR_SIZE) ? sa->size : 0;
	if (g.resume && fscp_r2r_resume(t, src, dst, total, h1, h1len, h2,
	    h2len, &start) != 0) {
		if (fscp_sig)
			goto interrupted;
		fscp_r2r_close_handle(t->s1, h1, h1len, &st1);
		fscp_r2r_close_handle(t->s2, h2, h2len, &st2);
		return 1;
	}
	done = start;
	t->read_status = t->write_status = SSH_FX_OK;
	t->write_failed = 0;
	fscp_meter(fscp_basename(src), total, done, 0);
	fscp_r2r_issue_reads(t, h1, h1len, start);
	while (!eof && rc == 0) {
		if (sftp_session_pump(t->s1, fscp_r2r_reads_done, t) != 0)
			fatal("%s", sftp_session_error(t->s1));
		/* A signal ends the pumps early: the slots are not done. */
		if (fscp_sig)
			goto interrupted;
		next = t->slots[t->nslots - 1].off + t->req;
		for (i = 0; i < t->nslots; i++) {
			struct fscp_r2r_slot *sl = &t->slots[i];

			if (sl->state == FSCP_SLOT_EOF) {
				eof = 1;
				break;
			}
			if (sl->state != FSCP_SLOT_DATA) {
				fscp_r2r_errstatus(src, t->read_status);
				rc = 1;
				break;
			}
			if ((r = sftp_client_write(sftp_session_engine(t->s2),
			    h2, h2len, sl->off, sl->got, &p,
			    fscp_r2r_write_cb, t)) != 0)
				fatal_r(r, "queueing a write");
			memcpy(p, sl->data, sl->got);
			t->writes_left++;
			done += sl->got;
			/* Short read: go on from where it stopped. */
			if (sl->got < sl->want) {
				next = sl->off + sl->got;
				break;
			}
		}
		if (!eof && rc == 0) {
			fscp_r2r_issue_reads(t, h1, h1len, next);
			if (sftp_session_pump(t->s1, fscp_r2r_sent, t) != 0)
				fatal("%s", sftp_session_error(t->s1));
		}
		if (sftp_session_pump(t->s2, fscp_r2r_writes_done, t) != 0)
			fatal("%s", sftp_session_error(t->s2));
		if (fscp_sig)
			goto interrupted;
		if (t->write_failed) {
			fscp_r2r_errstatus(dst, t->write_status);
			rc = 1;
		}
		if (rc == 0)
			fscp_meter(fscp_basename(src), total, done, 0);
	}
	/* Reads still out (an error stopped the batch) are drained. */
	if (sftp_session_pump(t->s1, fscp_r2r_reads_done, t) != 0)
		fatal("%s", sftp_session_error(t->s1));
	fscp_r2r_close_handle(t->s1, h1, h1len, &st1);
	fscp_r2r_close_handle(t->s2, h2, h2len, &st2);
	if (rc == 0 && st2 != SSH_FX_OK) {
		fscp_r2r_errstatus(dst, st2);
		rc = 1;
	}
	if (rc == 0)
		fscp_meter(fscp_basename(src), done, done, 1);
	return rc;
 interrupted:
	/*
	 * Requests are still out: the sessions are closed next, and the
	 * servers close the handles with them.
	 */
	free(h1);
	free(h2);
	return 1;
}

/* REALPATH of path on s, allocated; NULL when there is none. */
static char *
fscp_r2r_realpath(struct sftp_session *s, const char *path)
{
	struct sftp_session_reply rep;
	char *p = NULL;

	if (sftp_session_call_path(s, SSH_FXP_REALPATH, path, &rep) != 0)
		fatal("%s", sftp_session_error(s));
	if (rep.type == SSH_FXP_NAME && rep.count == 1)
		p = xstrdup(rep.names[0].filename);
	sftp_session_reply_free(&rep);
	return p;
}

/*
 * Whether src and dst are one file (both operands on one account):
 * opening the target would truncate the source.
 */
static int
fscp_r2r_same(struct fscp_r2r *t, const char *src, const char *dst)
{
	char *a, *b;
	int same;

	if (!t->same_host)
		return 0;
	a = fscp_r2r_realpath(t->s1, src);
	b = fscp_r2r_realpath(t->s2, dst);
	same = a != NULL && b != NULL && strcmp(a, b) == 0;
	free(a);
	free(b);
	return same;
}

/* -p: times and mode of sa onto dst. */
static int
fscp_r2r_preserve(struct fscp_r2r *t, const char *dst,
    const struct sftp_attrs *sa)
{
	struct sftp_attrs a;
	uint32_t st;

	memset(&a, 0, sizeof(a));
	a.flags = sa->flags & (SSH_FILEXFER_ATTR_ACMODTIME |
	    SSH_FILEXFER_ATTR_PERMISSIONS);
	a.atime = sa->atime;
	a.mtime = sa->mtime;
	a.perm = sa->perm & 07777;
	if ((st = fscp_r2r_path_attrs(t->s2, SSH_FXP_SETSTAT, dst, &a)) !=
	    SSH_FX_OK) {
		fscp_r2r_errstatus(dst, st);
		return 1;
	}
	return 0;
}

/* Copy src (a file, or with -r a tree) on the source to dst. */
static int
fscp_r2r_copy(struct fscp_r2r *t, const char *src, const char *dst)
{
	struct sftp_session_reply rep, rd;
	struct sftp_attrs sa, da;
	char **names = NULL, *s2, *d2;
	size_t n = 0, i;
	uint8_t *h = NULL;
	size_t hlen = 0;
	uint32_t st;
	int rc = 0;

	if (sftp_session_call_path(t->s1, SSH_FXP_STAT, src, &rep) != 0)
		fatal("%s", sftp_session_error(t->s1));
	if (rep.type != SSH_FXP_ATTRS) {
		fscp_r2r_errstatus(src, rep.type == SSH_FXP_STATUS ?
		    rep.status : SSH_FX_FAILURE);
		sftp_session_reply_free(&rep);
		return 1;
	}
	sa = rep.attrs;
	sftp_session_reply_free(&rep);
	if (!(sa.flags & SSH_FILEXFER_ATTR_PERMISSIONS) ||
	    (sa.perm & 0170000) == 0100000) {
		if (fscp_r2r_same(t, src, dst)) {
			fprintf(stderr, "%s and %s are the same file\n", src,
			    dst);
			return 1;
		}
		rc = fscp_r2r_file(t, src, dst, &sa);
		if (rc == 0 && g.preserve && !fscp_sig)
			rc = fscp_r2r_preserve(t, dst, &sa);
		return rc;
	}
	if ((sa.perm & 0170000) != 0040000 || !g.recursive) {
		fprintf(stderr, "%s: not a regular file\n", src);
		return 1;
	}
	/* A directory: make it (or use the one there), then its entries. */
	memset(&da, 0, sizeof(da));
	da.flags = SSH_FILEXFER_ATTR_PERMISSIONS;
	da.perm = (sa.perm & 07777) | 0700;
	st = fscp_r2r_path_attrs(t->s2, SSH_FXP_MKDIR, dst, &da);
	if (st != SSH_FX_OK && fscp_sftp_isdir(t->s2, dst) != 1) {
		fscp_r2r_errstatus(dst, st);
		return 1;
	}
	if (sftp_session_call_path(t->s1, SSH_FXP_OPENDIR, src, &rep) != 0)
		fatal("%s", sftp_session_error(t->s1));
	if (rep.type == SSH_FXP_HANDLE) {
		h = rep.data;
		hlen = rep.len;
		rep.data = NULL;
	} else {
		fscp_r2r_errstatus(src, rep.type == SSH_FXP_STATUS ?
		    rep.status : SSH_FX_FAILURE);
		rc = 1;
	}
	sftp_session_reply_free(&rep);
	while (h != NULL) {
		if (sftp_session_call_handle(t->s1, SSH_FXP_READDIR, h, hlen,
		    &rd) != 0)
			fatal("%s", sftp_session_error(t->s1));
		if (rd.type != SSH_FXP_NAME) {
			sftp_session_reply_free(&rd);
			break;
		}
		/* The engine has checked the names: no '/', not empty. */
		for (i = 0; i < rd.count; i++) {
			const char *nm = rd.names[i].filename;

			if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0)
				continue;
			if ((names = reallocarray(names, n + 1,
			    sizeof(*names))) == NULL)
				fatal("out of memory");
			names[n++] = xstrdup(nm);
		}
		sftp_session_reply_free(&rd);
	}
	if (h != NULL)
		fscp_r2r_close_handle(t->s1, h, hlen, &st);
	for (i = 0; i < n; i++) {
		s2 = fscp_join(src, names[i]);
		d2 = fscp_join(dst, names[i]);
		if (!fscp_sig)
			rc |= fscp_r2r_copy(t, s2, d2);
		free(s2);
		free(d2);
		free(names[i]);
	}
	free(names);
	if (fscp_sig)
		return 1;
	if (g.preserve)
		rc |= fscp_r2r_preserve(t, dst, &sa);
	else if ((sa.perm & 0700) != 0700) {
		/* The mode the tree was made with, now that it is full. */
		da.perm = sa.perm & 07777;
		(void)fscp_r2r_path_attrs(t->s2, SSH_FXP_SETSTAT, dst, &da);
	}
	return rc;
}

/*
 * -3 over SFTP: src's host and dst's host each get a session; every
 * file is streamed from one to the other through this process.
 */
static int
fscp_sftp_through_local(struct fscp_arg *src, struct fscp_arg *dst,
    int dir)
{
	struct fscp_sftp f1, f2;
	struct fscp_r2r t;
	char **names = NULL, *target;
	size_t n = 0, i, rw1, rw2, bytes;
	unsigned int nreq;
	int rc = 0, isdir;

	memset(&t, 0, sizeof(t));
	t.same_host = strcmp(src->host, dst->host) == 0 &&
	    src->port == dst->port && (src->user == NULL ?
	    dst->user == NULL : dst->user != NULL &&
	    strcmp(src->user, dst->user) == 0);
	t.s1 = fscp_sftp_open(src, &f1, fscp_src_stat_path(src->path));
	t.s2 = fscp_sftp_open(dst, &f2, dst->path);
	rw1 = sftp_client_rw_size(sftp_session_engine(t.s1));
	rw2 = sftp_client_rw_size(sftp_session_engine(t.s2));
	t.req = (uint32_t)(rw1 < rw2 ? rw1 : rw2);
	if (g.req_size != 0 && g.req_size < t.req)
		t.req = (uint32_t)g.req_size;
	nreq = g.nrequests != 0 ? g.nrequests : FSCP_R2R_REQUESTS;
	bytes = (size_t)nreq * t.req;
	if (bytes > FSCP_R2R_BATCH_BYTES)
		nreq = FSCP_R2R_BATCH_BYTES / t.req;
	if (nreq == 0)
		nreq = 1;
	t.nslots = nreq;
	if ((t.slots = calloc(nreq, sizeof(*t.slots))) == NULL)
		fatal("out of memory");
	for (i = 0; i < nreq; i++) {
		t.slots[i].t = &t;
		if ((t.slots[i].data = malloc(t.req)) == NULL)
			fatal("out of memory");
	}
	log_debug("-3: %u requests of %u bytes", nreq, t.req);
	fscp_cancel_point(1);
	if (!fscp_sftp_glob(t.s1, src->path, &names, &n))
		rc = 1;
	isdir = fscp_sftp_isdir(t.s2, dst->path) == 1;
	if ((dir || n > 1) && !isdir) {
		fprintf(stderr, "%s: Not a directory\n", dst->path);
		rc = 1;
		n = 0;
	}
	for (i = 0; i < n && !fscp_sig; i++) {
		target = isdir ? fscp_join(dst->path,
		    fscp_basename(names[i])) : xstrdup(dst->path);
		rc |= fscp_r2r_copy(&t, names[i], target);
		free(target);
	}
	if (fscp_cancel_point(0))
		rc = 1;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	/* Replies may still come for the slots while the sessions close. */
	fscp_sftp_close(&f2);
	fscp_sftp_close(&f1);
	for (i = 0; i < nreq; i++)
		free(t.slots[i].data);
	free(t.slots);
	return rc;
}

/* ---- remote to remote, and local copies ---- */

/*
 * Wait for the n processes in pids; a signal meanwhile stops them
 * (SIGTERM) and the wait goes on.  0 when each exited 0, else the exit
 * status of the last that did not (1 when killed).
 */
static int
fscp_wait_kids(pid_t *pids, int n)
{
	int k, st, rc = 0, killed = 0;

	fscp_cancel_point(1);
	for (k = 0; k < n; k++) {
		while (waitpid(pids[k], &st, 0) == -1) {
			if (errno != EINTR) {
				st = 1 << 8;
				break;
			}
			if (fscp_sig && !killed) {
				fscp_kids_kill();
				killed = 1;
			}
		}
		/*
		 * Off the list once reaped (here the handler kills nothing):
		 * fscp_kids_kill for a later one must not hit its freed pid.
		 */
		fscp_kid_del(pids[k]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	fscp_cancel_point(0);
	return rc;
}

/* Run argv and wait: its exit status (1 when it could not run). */
static int
fscp_run_local(char *const argv[])
{
	pid_t pid;
	int st;

	fscp_sigs_block(1);
	if ((pid = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		fscp_child_signals();
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(1);
	}
	fscp_kid_add(pid);
	fscp_sigs_block(0);
	st = fscp_wait_kids(&pid, 1);
	fscp_kid_del(pid);
	return st;
}

/* -R: the first host runs scp to the second (in the protocol chosen). */
static int
fscp_remote_direct(struct fscp_arg *src, const char *target_arg)
{
	struct buf *b;
	char *cmd, port[16];
	int r;

	if ((b = buf_new()) == NULL ||
	    buf_putf(b, "scp%s%s%s%s", g.legacy ? " -O" : "",
	    g.recursive ? " -r" : "", g.preserve ? " -p" : "",
	    g.verbose ? " -v" : "") != 0 ||
	    (g.limit_kbps != 0 && buf_putf(b, " -l %lld", g.limit_kbps) != 0) ||
	    buf_put(b, " -- ", 4) != 0 ||
	    fscp_quote_remote(b, src->path, 1) != 0 ||
	    buf_put(b, " ", 1) != 0 ||
	    client_shell_quote(b, target_arg) != 0 ||
	    (cmd = buf_dup_string(b)) == NULL)
		fatal("out of memory");
	buf_free(b);
	{
		char *argv[FSCP_MAX_ARGS * 2 + 16];

		fscp_transport_argv(g.program != NULL ? g.program :
		    fscp_fssh(), g.program == NULL, src, cmd, port,
		    sizeof(port), argv);
		r = fscp_run_local(argv);
	}
	free(cmd);
	return r != 0;
}

/*
 * -3 with the legacy protocol: "scp -f" on the first host feeds
 * "scp -t" on the second through two pipes here; the second host's sink
 * checks what the first one sends.
 */
static int
fscp_through_local(struct fscp_arg *src, struct fscp_arg *dst, int dir)
{
	char *argv1[FSCP_MAX_ARGS * 2 + 16], *argv2[FSCP_MAX_ARGS * 2 + 16];
	char port1[16], port2[16], *cmd1, *cmd2;
	const char *prog = g.program != NULL ? g.program : fscp_fssh();
	int a[2], b[2], rc = 0, k;
	pid_t pid[2];

	cmd1 = fscp_legacy_command(0, 0, src->path);
	cmd2 = fscp_legacy_command(1, dir, dst->path);
	fscp_transport_argv(prog, g.program == NULL, src, cmd1, port1,
	    sizeof(port1), argv1);
	fscp_transport_argv(prog, g.program == NULL, dst, cmd2, port2,
	    sizeof(port2), argv2);
	if (pipe(a) == -1 || pipe(b) == -1)
		fatal("pipe: %s", strerror(errno));
	fscp_sigs_block(1);
	for (k = 0; k < 2; k++) {
		if ((pid[k] = fork()) == -1)
			fatal("fork: %s", strerror(errno));
		if (pid[k] == 0) {
			fscp_child_signals();
			/* The first reads b and writes a, the second the
			 * other way round. */
			if (dup2(k == 0 ? b[0] : a[0], STDIN_FILENO) == -1 ||
			    dup2(k == 0 ? a[1] : b[1], STDOUT_FILENO) == -1)
				_exit(1);
			close(a[0]);
			close(a[1]);
			close(b[0]);
			close(b[1]);
			signal(SIGPIPE, SIG_DFL);
			execvp(k == 0 ? argv1[0] : argv2[0],
			    k == 0 ? argv1 : argv2);
			fprintf(stderr, "%s: %s\n", argv1[0], strerror(errno));
			_exit(1);
		}
		fscp_kid_add(pid[k]);
	}
	fscp_sigs_block(0);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	if (fscp_wait_kids(pid, 2) != 0)
		rc = 1;
	fscp_kid_del(pid[0]);
	fscp_kid_del(pid[1]);
	free(cmd1);
	free(cmd2);
	return rc;
}

static int
fscp_local_copy(const char *src, const char *dst)
{
	char *argv[8];
	size_t n = 0;

	argv[n++] = (char *)"cp";
	if (g.recursive)
		argv[n++] = (char *)"-r";
	if (g.preserve)
		argv[n++] = (char *)"-p";
	argv[n++] = (char *)"--";
	argv[n++] = (char *)src;
	argv[n++] = (char *)dst;
	argv[n] = NULL;
	return fscp_run_local(argv) != 0;
}

/* ---- main ---- */

int
main(int argc, char **argv)
{
	struct fscp_arg args[FSCP_MAX_ARGS + 1], *dst;
	const char *es;
	char optbuf[64];
	long long limit;
	int ch, i, n, any_remote_src = 0, all_remote_src = 1, rc = 0, dir;

	prog_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	fscp_signals_init();
	/* SIGTERM and SIGHUP stop an archive stream as SIGINT does. */
	fsftp_archive_scp_signals();
	memset(&g, 0, sizeof(g));
	/* What scp hands its ssh first: nothing may override these. */
	ssh_arg("-x");
	ssh_arg("-oPermitLocalCommand=no");
	ssh_arg("-oClearAllForwardings=yes");
	ssh_arg("-oRemoteCommand=none");
	ssh_arg("-oRequestTTY=no");
	prog_client_opt(&g.opts, "ForwardX11", "no");
	prog_client_opt(&g.opts, "PermitLocalCommand", "no");
	prog_client_opt(&g.opts, "ForwardAgent", "no");
	while ((ch = getopt(argc, argv,
	    "346aABCc:D:F:i:J:l:Oo:P:pqRrS:TvX:")) != -1) {
		switch (ch) {
		case '3':
			g.through_local = 1;
			break;
		case '4':
		case '6':
		case 'C':
			snprintf(optbuf, sizeof(optbuf), "-%c", ch);
			ssh_arg(optbuf);
			if (ch == 'C')
				prog_client_opt(&g.opts, "Compression", "yes");
			else
				prog_client_opt(&g.opts, "AddressFamily",
				    ch == '4' ? "inet" : "inet6");
			break;
		case 'A':
			ssh_arg("-oForwardAgent=yes");
			break;
		case 'a':
			g.resume = 1;
			break;
		case 'B':
			g.batch = 1;
			ssh_arg("-oBatchMode=yes");
			prog_client_opt(&g.opts, "BatchMode", "yes");
			break;
		case 'c':
		case 'i':
		case 'J':
		case 'o':
		case 'F':
			snprintf(optbuf, sizeof(optbuf), "-%c", ch);
			ssh_arg(optbuf);
			ssh_arg(optarg);
			if (ch == 'F')
				g.config_file = optarg;
			else
				prog_client_opt(&g.opts, ch == 'c' ? "Ciphers" :
				    ch == 'i' ? "IdentityFile" :
				    ch == 'J' ? "ProxyJump" : NULL, optarg);
			break;
		case 'D':
			g.sftp_server = optarg;
			break;
		case 'l':
			limit = misc_strtonum(optarg, 1, 100 * 1024 * 1024, &es);
			if (es != NULL)
				usage();
			g.limit_bps = (uint64_t)limit * 1024 / 8;
			g.limit_kbps = limit;
			break;
		case 'O':
			g.legacy = 1;
			break;
		case 'P':
			ssh_arg("-p");
			ssh_arg(optarg);
			prog_client_opt(&g.opts, "Port", optarg);
			break;
		case 'p':
			g.preserve = 1;
			break;
		case 'q':
			g.quiet = 1;
			ssh_arg("-q");
			break;
		case 'R':
			g.remote_to_remote_direct = 1;
			break;
		case 'r':
			g.recursive = 1;
			break;
		case 'S':
			g.program = optarg;
			break;
		case 'T':
			g.relaxed = 1;
			break;
		case 'v':
			g.verbose++;
			ssh_arg("-v");
			break;
		case 'X':
			if (fsftp_archive_xopt(optarg))
				break;
			if (strncmp(optarg, "buffer=", 7) == 0) {
				limit = misc_strtonum(optarg + 7, 1,
				    SFTP_MAX_RW, &es);
				if (es != NULL)
					fatal("Invalid buffer size \"%s\": %s",
					    optarg + 7, es);
				g.req_size = (size_t)limit;
			} else if (strncmp(optarg, "nrequests=", 10) == 0) {
				limit = misc_strtonum(optarg + 10, 1,
				    SFTP_CLIENT_MAX_INFLIGHT / 2, &es);
				if (es != NULL)
					fatal("Invalid number of requests "
					    "\"%s\": %s", optarg + 10, es);
				g.nrequests = (unsigned int)limit;
			} else
				fatal("Invalid -X option");
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc > FSCP_MAX_ARGS)
		usage();
	meter_on = !g.quiet && isatty(STDOUT_FILENO);
	if (g.batch)
		prog_client_opt(&g.opts, "BatchMode", "yes");
	for (i = 0; i < argc; i++)
		if (fscp_parse_arg(argv[i], &args[i]) != 0)
			fatal("invalid destination: %s", argv[i]);
	n = argc - 1;
	dst = &args[n];
	for (i = 0; i < n; i++) {
		if (args[i].host != NULL)
			any_remote_src = 1;
		else
			all_remote_src = 0;
	}
	if (dst->host != NULL && !any_remote_src) {
		rc = g.legacy ? fscp_legacy_upload(args, n, dst) :
		    fscp_sftp_upload(args, n, dst);
	} else if (dst->host == NULL && all_remote_src) {
		dir = fscp_local_isdir(dst->path);
		if (n > 1 && !dir) {
			fprintf(stderr, "%s: Not a directory\n", dst->path);
			prog_exit(1);
		}
		for (i = 0; i < n && !fscp_sig; i++)
			if ((g.legacy ? fscp_legacy_download(&args[i],
			    dst->path, dir) : fscp_sftp_download(&args[i],
			    dst->path, dir)) != 0)
				rc = 1;
	} else if (dst->host != NULL) {
		for (i = 0; i < n && !fscp_sig; i++) {
			if (args[i].host == NULL) {
				if ((g.legacy ? fscp_legacy_upload(&args[i], 1,
				    dst) : fscp_sftp_upload(&args[i], 1,
				    dst)) != 0)
					rc = 1;
			} else if (g.remote_to_remote_direct) {
				if (fscp_remote_direct(&args[i],
				    argv[n]) != 0)
					rc = 1;
			} else if (g.legacy) {
				if (fscp_through_local(&args[i], dst,
				    n > 1) != 0)
					rc = 1;
			} else if (fscp_sftp_through_local(&args[i], dst,
			    n > 1) != 0)
				rc = 1;
		}
	} else {
		/* Mixed sources onto a local target. */
		dir = fscp_local_isdir(dst->path);
		for (i = 0; i < n && !fscp_sig; i++) {
			if (args[i].host == NULL)
				rc |= fscp_local_copy(args[i].path, dst->path);
			else if ((g.legacy ? fscp_legacy_download(&args[i],
			    dst->path, dir) : fscp_sftp_download(&args[i],
			    dst->path, dir)) != 0)
				rc = 1;
		}
	}
	for (i = 0; i < argc; i++)
		fscp_arg_clear(&args[i]);
	for (i = 0; i < (int)g.nowned; i++)
		free(g.owned[i]);
	prog_client_opts_free(&g.opts);
	if (fscp_sig) {
		if (meter_on)
			fputc('\n', stdout);
		fflush(stdout);
		fputs(fscp_intr_msg, stderr);
		rc = FSCP_EXIT_INTERRUPTED;
	}
	return rc;
}
