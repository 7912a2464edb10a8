/*
 * fsftp-server: the SFTP subsystem for any sshd ("Subsystem sftp
 * /path/fsftp-server"), speaking on stdin/stdout like OpenSSH's
 * sftp-server.  A thin loop around the engine in lib/sftp-server.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp-server.h"
#include "misc.h"
#include "prog.h"

/* Read at most this much from stdin at a time. */
#define FSS_READ_CHUNK	(64U * 1024U)
/* Descriptors kept back from the handle limit (stdio, logs, dirs). */
#define FSS_FD_RESERVE	16

static void
fss_usage(void)
{
	fprintf(stderr,
	    "usage: %s [-ehR] [-d start_directory] [-f log_facility] "
	    "[-l log_level]\n"
	    "\t[-P denied_requests] [-p allowed_requests] "
	    "[-r root_directory] [-u umask]\n"
	    "       %s -Q protocol_feature\n", prog_name(), prog_name());
	prog_exit(1);
}

/* Expand %d (home), %u (user) and %% in a -d argument. */
static char *
fss_expand(const char *fmt, const struct passwd *pw)
{
	char out[PATH_MAX];
	const char *add;
	size_t len = 0, alen;
	char one[2];

	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '%') {
			one[0] = *fmt;
			one[1] = '\0';
			add = one;
		} else {
			switch (*++fmt) {
			case 'd':
				add = pw->pw_dir;
				break;
			case 'u':
				add = pw->pw_name;
				break;
			case '%':
				add = "%";
				break;
			default:
				fatal("unknown escape \"%%%c\" in -d argument",
				    *fmt != '\0' ? *fmt : '?');
			}
		}
		alen = strlen(add);
		if (alen >= sizeof(out) - len)
			fatal("-d argument too long");
		memcpy(out + len, add, alen);
		len += alen;
	}
	out[len] = '\0';
	return strdup(out);
}

static void
fss_query(const char *what)
{
	unsigned int i;

	if (strcmp(what, "requests") != 0)
		fatal("unsupported query \"%s\"", what);
	for (i = 0; i < SFTP_REQ_COUNT; i++)
		printf("%s\n", sftp_server_request_name(i));
	prog_exit(0);
}

/* Feed stdin to the engine and its output to stdout until either ends. */
static int
fss_loop(struct sftp_server *s)
{
	static uint8_t chunk[FSS_READ_CHUNK];
	struct pollfd pfd[2];
	struct buf *out = sftp_server_output(s);
	size_t space, want;
	ssize_t n;
	int eof = 0, r;

	for (;;) {
		space = sftp_server_input_space(s);
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = !eof && space > 0 ? POLLIN : 0;
		pfd[1].fd = STDOUT_FILENO;
		pfd[1].events = buf_len(out) > 0 ? POLLOUT : 0;
		if (pfd[1].events == 0 && (eof || sftp_server_done(s)))
			return sftp_server_done(s) ? 1 : 0;
		if (pfd[0].events == 0 && pfd[1].events == 0)
			return 1;	/* cannot happen: engine stalled */
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			want = space < sizeof(chunk) ? space : sizeof(chunk);
			n = read(STDIN_FILENO, chunk, want);
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				log_error("read: %s", strerror(errno));
				eof = 1;
			} else if (n == 0)
				eof = 1;
			else if (n > 0 &&
			    (r = sftp_server_input(s, chunk, (size_t)n)) != 0)
				log_debug("engine: %s", err_str(r));
		}
		/* A hang-up is reported even unasked: only act with output. */
		if (pfd[1].events != 0 &&
		    (pfd[1].revents & (POLLOUT | POLLHUP | POLLERR))) {
			n = write(STDOUT_FILENO, buf_ptr(out), buf_len(out));
			if (n < 0 && errno != EINTR && errno != EAGAIN) {
				log_error("write: %s", strerror(errno));
				return 1;
			}
			if (n > 0) {
				if (buf_consume(out, (size_t)n) != 0)
					fatal("output accounting");
				if (!sftp_server_done(s))
					(void)sftp_server_process(s);
			}
		}
	}
}

int
main(int argc, char **argv)
{
	struct sftp_server_opts opts;
	struct sftp_server *s;
	struct passwd *pw;
	struct rlimit rl;
	const char *facility = "AUTH", *conn;
	char *start = NULL, *startarg = NULL, *ep;
	uint64_t allowed = SFTP_REQ_ALL, denied = 0, mask;
	long long v;
	int ch, to_stderr = 0, level = LOGL_ERROR, status;

	prog_init(argv[0]);
	memset(&opts, 0, sizeof(opts));
	while ((ch = getopt(argc, argv, "d:ef:hl:P:p:Q:Rr:u:")) != -1) {
		switch (ch) {
		case 'd':
			startarg = optarg;
			break;
		case 'e':
			to_stderr = 1;
			break;
		case 'f':
			facility = optarg;
			break;
		case 'l':
			if ((level = log_level_from_name(optarg)) < 0)
				fatal("invalid log level \"%s\"", optarg);
			break;
		case 'P':
			if (sftp_server_parse_requests(optarg, &mask) != 0)
				fatal("invalid denied request list \"%s\"",
				    optarg);
			denied |= mask;
			break;
		case 'p':
			if (sftp_server_parse_requests(optarg, &mask) != 0)
				fatal("invalid allowed request list \"%s\"",
				    optarg);
			allowed = mask;
			break;
		case 'Q':
			fss_query(optarg);
			break;
		case 'R':
			opts.read_only = 1;
			break;
		case 'r':
			opts.root = optarg;
			break;
		case 'u':
			errno = 0;
			v = strtoll(optarg, &ep, 8);
			if (optarg[0] == '\0' || *ep != '\0' || v < 0 ||
			    v > 0777 || errno != 0)
				fatal("invalid umask \"%s\"", optarg);
			umask((mode_t)v);
			break;
		case 'h':
		default:
			fss_usage();
		}
	}
	if (optind != argc)
		fss_usage();
	log_set_level((enum log_level)level);
	if (!to_stderr && prog_log_to_syslog(facility) != 0)
		fatal("invalid log facility \"%s\"", facility);
	opts.denied = denied | (SFTP_REQ_ALL & ~allowed);
	if ((pw = getpwuid(getuid())) == NULL)
		fatal("no user for uid %lu", (unsigned long)getuid());
	conn = getenv("SSH_CONNECTION");
	log_info("session opened for local user %s from [%s]", pw->pw_name,
	    conn != NULL ? conn : "UNKNOWN");
	if (startarg != NULL && (start = fss_expand(startarg, pw)) == NULL)
		fatal("out of memory");
	if (opts.root == NULL || strcmp(opts.root, "/") == 0) {
		/* Unconfined: like sftp-server, start where -d says. */
		if (start != NULL && chdir(start) != 0)
			log_error("chdir to \"%s\" failed: %s", start,
			    strerror(errno));
		opts.home_dir = pw->pw_dir;
	} else
		opts.start_dir = start;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < SFTP_SERVER_MAX_HANDLES + FSS_FD_RESERVE)
		opts.max_handles = rl.rlim_cur > 2 * FSS_FD_RESERVE ?
		    (unsigned int)(rl.rlim_cur - FSS_FD_RESERVE) : 8;
	if ((s = sftp_server_new(&opts)) == NULL)
		fatal("cannot serve \"%s\": %s", opts.root != NULL ?
		    opts.root : "/", strerror(errno));
	/* A client gone away is a write error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (misc_set_nonblock(STDIN_FILENO, 1) != 0 ||
	    misc_set_nonblock(STDOUT_FILENO, 1) != 0)
		fatal("cannot make stdin/stdout non-blocking");
	status = fss_loop(s);
	sftp_server_free(s);
	free(start);
	log_info("session closed for local user %s", pw->pw_name);
	prog_exit(status);
}
