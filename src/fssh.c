/*
 * fssh: the SSH client, command-line compatible with ssh(1) for running
 * a remote command or subsystem with stdin, stdout and stderr streamed,
 * and for stdio forwarding (-W, which ProxyJump uses).  A thin main
 * around the client core (ferry/client.h): options to ssh_config lines,
 * the prompts, and the channel pump between our descriptors and the
 * session channel.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/client.h"
#include "ferry/conn.h"
#include "ferry/err.h"
#include "ferry/evloop.h"
#include "ferry/log.h"
#include "ferry/sshconf.h"
#include "ferry/transport.h"
#include "misc.h"
#include "prog.h"
#include "prog-client.h"

extern char **environ;

#define FSSH_EXIT_FAILURE	255
#define FSSH_READ_CHUNK		(64U * 1024)

/* One output stream of the channel: stdout or stderr. */
struct fssh_out {
	int fd;
	struct buf *buf;	/* received, not yet written */
	int watched;
	int saved_flags;
};

struct fssh {
	struct client *cl;
	struct conn *conn;
	struct evloop *loop;
	const struct sshconf *conf;
	const char *command;	/* exec command or subsystem name */
	int subsystem;
	char *fwd_host;		/* -W host */
	int fwd_port;
	uint32_t chan;
	int opened;
	int closed;
	int in_open;		/* stdin watched (until EOF) */
	int in_paused;		/* waiting for window */
	int in_saved_flags;
	struct fssh_out out, err;
	int exit_status;	/* -1: none received */
	char exit_signal[CONN_NAME_MAX + 1];
	int failed;
};

static void
usage(void)
{
	fprintf(stderr,
"usage: fssh [-46CGqsTtvx] [-c cipher_spec] [-E log_file] [-F configfile]\n"
"            [-i identity_file] [-J destination] [-l login_name]\n"
"            [-m mac_spec] [-o option] [-p port] [-Q query_option]\n"
"            [-W host:port] destination [command [argument ...]]\n"
"       fssh [-Q query_option]\n");
	prog_exit(FSSH_EXIT_FAILURE);
}

/* ---- the channel pump ---- */

static void
fssh_out_write(struct fssh *s, struct fssh_out *o)
{
	ssize_t n;
	int want;

	while (buf_len(o->buf) > 0) {
		n = write(o->fd, buf_ptr(o->buf), buf_len(o->buf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* Nobody reads: drop what comes, as ssh does. */
			log_debug("write to fd %d: %s", o->fd, strerror(errno));
			n = (ssize_t)buf_len(o->buf);
		}
		if (buf_consume(o->buf, (size_t)n) != 0 ||
		    (s->opened && !s->closed &&
		    conn_consumed(s->conn, s->chan, (size_t)n) != 0))
			s->failed = 1;
	}
	want = buf_len(o->buf) > 0;
	if (want != o->watched && evloop_set_events(s->loop, o->fd,
	    want ? EVLOOP_WRITE : 0) != 0)
		s->failed = 1;
	o->watched = want;
}

static void
fssh_out_ready(struct evloop *loop, int fd, unsigned int events, void *ctx)
{
	struct fssh *s = ctx;

	(void)loop;
	(void)events;
	fssh_out_write(s, fd == s->out.fd ? &s->out : &s->err);
	client_flush(s->cl);
	if (s->failed)
		client_stop(s->cl);
}

/* stdin is readable: read straight into a CHANNEL_DATA packet. */
static void
fssh_stdin_ready(struct evloop *loop, int fd, unsigned int events, void *ctx)
{
	struct fssh *s = ctx;
	uint8_t *dp;
	size_t room;
	ssize_t n;

	(void)loop;
	(void)events;
	if (!s->in_open || s->closed)
		return;
	if (conn_data_start(s->conn, s->chan, FSSH_READ_CHUNK, &dp,
	    &room) != 0) {
		s->failed = 1;
		goto out;
	}
	if (room == 0) {
		if (evloop_set_events(s->loop, fd, 0) != 0)
			s->failed = 1;
		s->in_paused = 1;
		return;
	}
	n = read(fd, dp, room);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		if (conn_data_commit(s->conn, 0) != 0)
			s->failed = 1;
		return;
	}
	if (conn_data_commit(s->conn, n > 0 ? (size_t)n : 0) != 0) {
		s->failed = 1;
		goto out;
	}
	if (n <= 0) {
		if (n < 0)
			log_debug("read from stdin: %s", strerror(errno));
		if (evloop_del_fd(s->loop, fd) != 0 ||
		    conn_eof(s->conn, s->chan) != 0)
			s->failed = 1;
		s->in_open = 0;
	}
 out:
	client_flush(s->cl);
	if (s->failed)
		client_stop(s->cl);
}

static void
fssh_stdin_resume(struct fssh *s)
{
	if (!s->in_open || !s->in_paused || s->closed ||
	    conn_writable(s->conn, s->chan) == 0)
		return;
	s->in_paused = 0;
	if (evloop_set_events(s->loop, 0, EVLOOP_READ) != 0)
		s->failed = 1;
}

static const char *
fssh_open_reason(uint32_t code)
{
	static const char *const names[] = {
		"open failed", "administratively prohibited", "connect failed",
		"unknown channel type", "resource shortage",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] :
	    "unknown reason";
}

/* SendEnv: variables of our environment whose name matches a pattern. */
static int
fssh_send_env(struct fssh *s)
{
	const struct sshconf_list *pats = &s->conf->send_env;
	char *name, *eq;
	size_t i, j;
	int r = 0;

	for (i = 0; pats->n > 0 && environ[i] != NULL && r == 0; i++) {
		if ((name = strdup(environ[i])) == NULL)
			return FERR_ALLOC;
		if ((eq = strchr(name, '=')) != NULL) {
			*eq++ = '\0';
			for (j = 0; j < pats->n; j++)
				if (fnmatch(pats->v[j], name, 0) == 0)
					break;
			if (j < pats->n) {
				log_debug("Sending env %s = %s", name, eq);
				r = conn_request_env(s->conn, s->chan, name,
				    eq, 0);
			}
		}
		free(name);
	}
	return r;
}

static int
fssh_opened(struct fssh *s)
{
	const struct sshconf_list *env = &s->conf->set_env;
	char *name, *eq;
	size_t i;
	int r;

	s->opened = 1;
	if (s->fwd_host == NULL) {
		for (i = 0; i < env->n; i++) {
			if ((name = strdup(env->v[i])) == NULL)
				return FERR_ALLOC;
			if ((eq = strchr(name, '=')) != NULL) {
				*eq++ = '\0';
				log_debug("Sending env %s = %s", name, eq);
				r = conn_request_env(s->conn, s->chan, name,
				    eq, 0);
			} else
				r = 0;
			free(name);
			if (r != 0)
				return r;
		}
		if ((r = fssh_send_env(s)) != 0)
			return r;
		if (s->subsystem)
			r = conn_request_subsystem(s->conn, s->chan,
			    s->command, 1);
		else
			r = conn_request_exec(s->conn, s->chan, s->command, 1);
		if (r != 0)
			return r;
	}
	if (isatty(0) && s->fwd_host == NULL)
		log_debug("stdin is a terminal: no pseudo-terminal requested");
	if ((r = evloop_add_fd(s->loop, 0, EVLOOP_READ, fssh_stdin_ready,
	    s)) != 0) {
		/* stdin closed: nothing to send. */
		log_debug("stdin cannot be watched: sending EOF");
		return conn_eof(s->conn, s->chan);
	}
	s->in_open = 1;
	return 0;
}

static int
fssh_event(struct client *cl, const struct conn_event *ev, void *ctx)
{
	struct fssh *s = ctx;
	struct fssh_out *o;
	int r;

	(void)cl;
	if (ev == NULL) {
		fssh_stdin_resume(s);
		return s->failed ? FERR_INTERNAL : 0;
	}
	if (ev->chan != s->chan)
		return 0;
	switch (ev->type) {
	case CONN_EV_OPENED:
		return fssh_opened(s);
	case CONN_EV_OPEN_FAILED:
		log_error("channel %u: open failed: %s: %s", ev->chan,
		    fssh_open_reason(ev->code), ev->text != NULL ?
		    ev->text : "");
		if (s->fwd_host != NULL)
			log_error("stdio forwarding failed");
		s->closed = 1;
		client_stop(s->cl);
		return 0;
	case CONN_EV_DATA:
	case CONN_EV_EXTENDED_DATA:
		if (ev->type == CONN_EV_EXTENDED_DATA &&
		    ev->code != CONN_EXTENDED_DATA_STDERR)
			return conn_consumed(s->conn, s->chan, ev->len);
		o = ev->type == CONN_EV_DATA ? &s->out : &s->err;
		if ((r = buf_put(o->buf, ev->data, ev->len)) != 0)
			return r;
		fssh_out_write(s, o);
		return s->failed ? FERR_INTERNAL : 0;
	case CONN_EV_WINDOW:
		fssh_stdin_resume(s);
		return 0;
	case CONN_EV_REPLY:
		if (!ev->ok) {
			log_error("%s request failed on channel %u",
			    s->subsystem ? "subsystem" : "exec", ev->chan);
			return conn_close(s->conn, s->chan);
		}
		return 0;
	case CONN_EV_REQUEST:
		if (ev->req == CONN_REQ_EXIT_STATUS)
			s->exit_status = (int)(ev->status & 0xff);
		else if (ev->req == CONN_REQ_EXIT_SIGNAL)
			misc_strlcpy(s->exit_signal, ev->arg,
			    sizeof(s->exit_signal));
		return 0;
	case CONN_EV_CLOSE:
		s->closed = 1;
		client_stop(s->cl);
		return 0;
	default:
		return 0;
	}
}

/* Block and write out what the channel delivered before it closed. */
static void
fssh_drain(struct fssh_out *o)
{
	ssize_t n;

	if (misc_set_nonblock(o->fd, 0) != 0)
		return;
	while (buf_len(o->buf) > 0) {
		n = write(o->fd, buf_ptr(o->buf), buf_len(o->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || buf_consume(o->buf, (size_t)n) != 0)
			break;
	}
}

static int
fssh_out_init(struct fssh *s, struct fssh_out *o, int fd)
{
	o->fd = fd;
	o->saved_flags = fcntl(fd, F_GETFL);
	if ((o->buf = buf_new()) == NULL)
		return FERR_ALLOC;
	if (o->saved_flags == -1)
		return FERR_SYSTEM;
	if (misc_set_nonblock(fd, 1) != 0)
		return FERR_SYSTEM;
	return evloop_add_fd(s->loop, fd, 0, fssh_out_ready, s);
}

static void
fssh_restore(struct fssh *s)
{
	if (s->out.saved_flags != -1)
		fcntl(s->out.fd, F_SETFL, s->out.saved_flags);
	if (s->err.saved_flags != -1)
		fcntl(s->err.fd, F_SETFL, s->err.saved_flags);
	if (s->in_saved_flags != -1)
		fcntl(0, F_SETFL, s->in_saved_flags);
}

static int
fssh_session(struct fssh *s)
{
	struct buf *extra = NULL;
	int r;

	s->conn = client_conn(s->cl);
	s->loop = client_evloop(s->cl);
	s->exit_status = -1;
	s->in_saved_flags = fcntl(0, F_GETFL);
	if ((r = fssh_out_init(s, &s->out, 1)) != 0 ||
	    (r = fssh_out_init(s, &s->err, 2)) != 0)
		return r;
	if (s->in_saved_flags != -1 && misc_set_nonblock(0, 1) != 0)
		return FERR_SYSTEM;
	client_set_handler(s->cl, fssh_event, s);
	if (s->fwd_host != NULL) {
		if ((extra = buf_new()) == NULL)
			return FERR_ALLOC;
		if ((r = buf_put_cstring(extra, s->fwd_host)) != 0 ||
		    (r = buf_put_u32(extra, (uint32_t)s->fwd_port)) != 0 ||
		    (r = buf_put_cstring(extra, "127.0.0.1")) != 0 ||
		    (r = buf_put_u32(extra, 65535)) != 0 ||
		    (r = conn_open(s->conn, "direct-tcpip", buf_ptr(extra),
		    buf_len(extra), &s->chan)) != 0) {
			buf_free(extra);
			return r;
		}
		buf_free(extra);
	} else if ((r = conn_open(s->conn, "session", NULL, 0,
	    &s->chan)) != 0)
		return r;
	client_flush(s->cl);
	r = client_run(s->cl);
	fssh_drain(&s->out);
	fssh_drain(&s->err);
	return r;
}

/* ---- the command line ---- */

/* -Q names (as ssh takes them) and the transport list each shows. */
static const struct {
	const char *name;
	const char *kind;
	int plain;		/* key types only: no rsa-sha2-* */
} fssh_queries[] = {
	{ "kex", "kex", 0 }, { "KexAlgorithms", "kex", 0 },
	{ "cipher", "cipher", 0 }, { "Ciphers", "cipher", 0 },
	{ "mac", "mac", 0 }, { "MACs", "mac", 0 },
	{ "key", "key", 1 }, { "key-plain", "key", 1 },
	{ "key-sig", "key", 0 }, { "sig", "key", 0 },
	{ "HostKeyAlgorithms", "key", 0 },
	{ "PubkeyAcceptedAlgorithms", "key", 0 },
	{ "compression", "compression", 0 },
};

static void
fssh_query(const char *what)
{
	char *list = NULL, *cp, *name;
	size_t i;

	for (i = 0; i < sizeof(fssh_queries) / sizeof(fssh_queries[0]); i++)
		if (strcasecmp(what, fssh_queries[i].name) == 0)
			break;
	if (i == sizeof(fssh_queries) / sizeof(fssh_queries[0]) ||
	    (list = transport_query(fssh_queries[i].kind,
	    TRANSPORT_QUERY_ALL)) == NULL)
		fatal("Unsupported query \"%s\"", what);
	for (cp = list; (name = strsep(&cp, ",")) != NULL;) {
		if (*name == '\0' || (fssh_queries[i].plain &&
		    strncmp(name, "rsa-sha2-", 9) == 0))
			continue;
		printf("%s\n", name);
	}
	free(list);
	prog_exit(fflush(stdout) == 0 ? 0 : FSSH_EXIT_FAILURE);
}

static char *
fssh_join(char **argv, int argc)
{
	struct buf *b;
	char *s;
	int i;

	if ((b = buf_new()) == NULL)
		return NULL;
	for (i = 0; i < argc; i++)
		if (buf_putf(b, "%s%s", i > 0 ? " " : "", argv[i]) != 0) {
			buf_free(b);
			return NULL;
		}
	s = buf_dup_string(b);
	buf_free(b);
	return s;
}

/*
 * What main() owns, released at exit (prog_exit and fatal() exit from
 * within main, whose frame is still alive then).
 */
static struct {
	struct prog_client_opts *opts;
	struct fssh *s;
	struct prog_client **pc;
} fssh_owned;

static void
fssh_cleanup(void)
{
	if (fssh_owned.s != NULL) {
		/*
		 * The client is freed by main() itself: libcrypto's own exit
		 * handler has run by now.
		 */
		fssh_restore(fssh_owned.s);
		buf_free(fssh_owned.s->out.buf);
		buf_free(fssh_owned.s->err.buf);
		free((char *)fssh_owned.s->command);
		free(fssh_owned.s->fwd_host);
	}
	if (fssh_owned.opts != NULL)
		prog_client_opts_free(fssh_owned.opts);
	if (fssh_owned.pc != NULL && *fssh_owned.pc != NULL) {
		/* As above: a client still there is left to the exit. */
		(*fssh_owned.pc)->cl = NULL;
		prog_client_free(*fssh_owned.pc);
	}
	memset(&fssh_owned, 0, sizeof(fssh_owned));
}

int
main(int argc, char **argv)
{
	struct prog_client_opts opts;
	struct fssh s;
	struct prog_client *pc = NULL;
	struct prog_client_params pp;
	struct buf *dump;
	const char *config_file = NULL, *log_file = NULL, *dest = NULL;
	const char *argv0;
	char *cp;
	int ch, verbose = 0, quiet = 0, dump_config = 0, tty_asked = 0;
	int r, status;

	argv0 = argv[0];
	prog_init(argv[0]);
	memset(&opts, 0, sizeof(opts));
	memset(&s, 0, sizeof(s));
	s.out.saved_flags = s.err.saved_flags = s.in_saved_flags = -1;
	fssh_owned.opts = &opts;
	fssh_owned.s = &s;
	fssh_owned.pc = &pc;
	if (atexit(fssh_cleanup) != 0)
		fatal("atexit failed");
	signal(SIGPIPE, SIG_IGN);
 again:
	while ((ch = getopt(argc, argv,
	    "+46CGqsTtvxc:E:F:i:J:l:m:o:p:Q:W:")) != -1) {
		switch (ch) {
		case '4':
			prog_client_opt(&opts, "AddressFamily", "inet");
			break;
		case '6':
			prog_client_opt(&opts, "AddressFamily", "inet6");
			break;
		case 'C':
			prog_client_opt(&opts, "Compression", "yes");
			break;
		case 'G':
			dump_config = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 's':
			s.subsystem = 1;
			break;
		case 'T':
		case 'x':
			break;		/* no pty and no X11 anyway */
		case 't':
			tty_asked = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'c':
			prog_client_opt(&opts, "Ciphers", optarg);
			break;
		case 'E':
			log_file = optarg;
			break;
		case 'F':
			config_file = optarg;
			break;
		case 'i':
			prog_client_opt(&opts, "IdentityFile", optarg);
			break;
		case 'J':
			prog_client_opt(&opts, "ProxyJump", optarg);
			break;
		case 'l':
			prog_client_opt(&opts, "User", optarg);
			break;
		case 'm':
			prog_client_opt(&opts, "MACs", optarg);
			break;
		case 'o':
			prog_client_opt(&opts, NULL, optarg);
			break;
		case 'p':
			prog_client_opt(&opts, "Port", optarg);
			break;
		case 'Q':
			fssh_query(optarg);
			break;
		case 'W':
			if (s.fwd_host != NULL)
				fatal("stdio forward already specified");
			if (client_parse_destination(optarg, 1, &cp,
			    &s.fwd_host, &s.fwd_port) != 0 || cp != NULL ||
			    s.fwd_port == -1)
				fatal("Bad stdio forwarding specification "
				    "'%s'", optarg);
			break;
		default:
			usage();
		}
	}
	if (dest == NULL && optind < argc) {
		/* Options may follow the destination, as with ssh. */
		dest = argv[optind++];
		goto again;
	}
	if (dest == NULL)
		usage();
	argc -= optind;
	argv += optind;

	if (log_file != NULL && prog_log_to_file(log_file) != 0)
		fatal("Couldn't open logfile %s: %s", log_file,
		    strerror(errno));
	if (quiet)
		log_set_level(LOGL_QUIET);
	else if (verbose > 0)
		log_set_level(verbose >= 3 ? LOGL_DEBUG3 :
		    verbose == 2 ? LOGL_DEBUG2 : LOGL_DEBUG1);

	memset(&pp, 0, sizeof(pp));
	pp.destination = dest;
	pp.config_file = config_file;
	pp.options = opts.lines;
	pp.verbose = verbose;
	pp.quiet = quiet;
	pp.argv0 = argv0;
	if (prog_client_resolve(&pp, &pc) != 0)
		prog_exit(FSSH_EXIT_FAILURE);

	if (dump_config) {
		if ((dump = buf_new()) == NULL ||
		    sshconf_dump(pc->conf, &pc->env, dump) != 0)
			fatal("cannot print the configuration");
		fwrite(buf_ptr(dump), 1, buf_len(dump), stdout);
		buf_free(dump);
		prog_exit(fflush(stdout) == 0 ? 0 : FSSH_EXIT_FAILURE);
	}
	if (s.fwd_host != NULL) {
		if (argc > 0 || s.subsystem)
			fatal("Cannot execute command or subsystem with -W");
	} else if (argc == 0) {
		fatal("no command given: fssh runs remote commands and "
		    "subsystems only; interactive shells (a pseudo-terminal "
		    "session) are not supported yet");
	}
	if (tty_asked)
		log_info("Pseudo-terminal will not be allocated: fssh does "
		    "not support terminals yet.");
	if (argc > 0 && (s.command = fssh_join(argv, argc)) == NULL)
		fatal("out of memory");

	s.conf = pc->conf;
	if (prog_client_connect(pc) != 0)
		prog_exit(FSSH_EXIT_FAILURE);
	s.cl = pc->cl;
	r = fssh_session(&s);
	fssh_restore(&s);
	if (r != 0 && !s.closed)
		log_error("%s", *client_error(s.cl) != '\0' ?
		    client_error(s.cl) : err_str(r));
	if (s.exit_signal[0] != '\0')
		log_info("Remote command killed by signal %s.",
		    s.exit_signal);
	status = s.exit_status >= 0 && s.exit_signal[0] == '\0' ?
	    s.exit_status : FSSH_EXIT_FAILURE;
	/* A forwarding has no exit status: it ends well once it opened. */
	if (s.fwd_host != NULL && s.opened && r == 0)
		status = 0;
	prog_client_disconnect(pc);
	s.cl = NULL;
	prog_exit(status);
}
