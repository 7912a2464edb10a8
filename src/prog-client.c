/*
 * The client programs' shared command-line-to-connection code (see
 * prog-client.h): option lines, prompts, resolving and connecting with
 * OpenSSH's messages, and external transport programs on pipes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ferry/client.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshconf.h"
#include "misc.h"
#include "prog.h"
#include "prog-client.h"
#include "prog-tty.h"

#define PROG_CLIENT_ANSWER_MAX	1024

/* ---- option lines ---- */

void
prog_client_opt(struct prog_client_opts *o, const char *keyword,
    const char *value)
{
	char *line;

	if (o->n >= PROG_CLIENT_MAX_OPTIONS)
		fatal("too many options");
	if (keyword == NULL) {
		o->owned[o->n] = NULL;
		o->lines[o->n++] = value;
		o->lines[o->n] = NULL;
		return;
	}
	if (asprintf(&line, "%s %s", keyword, value) == -1)
		fatal("out of memory");
	o->owned[o->n] = line;
	o->lines[o->n++] = line;
	o->lines[o->n] = NULL;
}

void
prog_client_opts_free(struct prog_client_opts *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		free(o->owned[i]);
	memset(o, 0, sizeof(*o));
}

/* ---- prompts ---- */

/* Run SSH_ASKPASS with the prompt; its first output line is the answer. */
static int
prog_client_askpass(const char *askpass, const char *prompt, char **answerp)
{
	char buf[PROG_CLIENT_ANSWER_MAX];
	size_t len = 0;
	ssize_t n;
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return FERR_SYSTEM;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return FERR_SYSTEM;
	}
	if (pid == 0) {
		if (dup2(p[1], 1) == -1)
			_exit(1);
		execlp(askpass, askpass, prompt, (char *)NULL);
		_exit(1);
	}
	close(p[1]);
	while (len < sizeof(buf) - 1 &&
	    (n = read(p[0], buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		explicit_bzero(buf, sizeof(buf));
		return FERR_AUTH_FAILED;
	}
	*answerp = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *answerp != NULL ? 0 : FERR_ALLOC;
}

/*
 * Write prompt to the terminal with its control characters (but for
 * newlines) as \ooo: a keyboard-interactive prompt is the server's
 * text and must not drive the terminal.
 */
static int
prog_client_tty_write_prompt(int fd, const char *prompt)
{
	char out[256];
	size_t len = 0;
	unsigned char c;

	for (;; prompt++) {
		c = (unsigned char)*prompt;
		if (c == '\0' || len > sizeof(out) - 5) {
			if (len > 0 && write(fd, out, len) < 0)
				return FERR_SYSTEM;
			len = 0;
			if (c == '\0')
				return 0;
		}
		if ((c < 0x20 && c != '\n') || c == 0x7f) {
			snprintf(out + len, 5, "\\%03o", c);
			len += 4;
		} else
			out[len++] = (char)c;
	}
}

/*
 * Ask on /dev/tty, without echo unless echo is set; a signal meanwhile
 * finds the terminal's settings restored (prog-tty.h).
 */
static int
prog_client_tty_prompt(int fd, const char *prompt, int echo, char **answerp)
{
	struct prog_tty tty;
	char buf[PROG_CLIENT_ANSWER_MAX];
	size_t len = 0;
	ssize_t n;
	char ch;
	int r = 0, c;

	memset(&tty, 0, sizeof(tty));
	if (!echo)
		(void)prog_tty_noecho(&tty, fd);
 again:
	len = 0;
	if (prog_client_tty_write_prompt(fd, prompt) != 0) {
		r = FERR_SYSTEM;
		goto out;
	}
	for (;;) {
		if ((c = prog_tty_check(&tty)) == 1)
			goto again;
		if (c == -1) {
			r = FERR_EOF;
			break;
		}
		n = read(fd, &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (len == 0)
				r = FERR_EOF;
			break;
		}
		if (ch == '\n' || ch == '\r')
			break;
		if (len < sizeof(buf) - 1)
			buf[len++] = ch;
	}
	buf[len] = '\0';
	if (tty.echo_off && write(fd, "\n", 1) < 0)
		log_debug("cannot write to the terminal");
	if (r == 0 && (*answerp = strdup(buf)) == NULL)
		r = FERR_ALLOC;
 out:
	prog_tty_restore(&tty);
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(&ch, sizeof(ch));
	return r;
}

int
prog_client_prompt(const char *prompt, int echo, char **answerp, void *ctx)
{
	const char *askpass = getenv("SSH_ASKPASS");
	const char *req = getenv("SSH_ASKPASS_REQUIRE");
	int fd, r;

	(void)ctx;
	*answerp = NULL;
	if (askpass != NULL && *askpass != '\0' && req != NULL &&
	    strcmp(req, "force") == 0)
		return prog_client_askpass(askpass, prompt, answerp);
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) != -1) {
		r = prog_client_tty_prompt(fd, prompt, echo, answerp);
		close(fd);
		return r;
	}
	if (askpass != NULL && *askpass != '\0' &&
	    (req == NULL || strcmp(req, "never") != 0) &&
	    (getenv("DISPLAY") != NULL || getenv("WAYLAND_DISPLAY") != NULL ||
	    (req != NULL && strcmp(req, "prefer") == 0)))
		return prog_client_askpass(askpass, prompt, answerp);
	log_debug("no terminal and no askpass for \"%s\"", prompt);
	return FERR_NOT_SUPPORTED;
}

/* ---- resolving and connecting ---- */

/*
 * The ProxyJump program: this binary itself, or name next to it (as
 * installed together), else name for a PATH search.
 */
static char *
prog_client_self(const char *argv0, const char *name)
{
	char path[PATH_MAX], *slash, *s;
	ssize_t n;

	if ((n = readlink("/proc/self/exe", path, sizeof(path) - 1)) <= 0) {
		if (name != NULL)
			return strdup(name);
		return strdup(argv0 != NULL && strchr(argv0, '/') != NULL ?
		    argv0 : "fssh");
	}
	path[n] = '\0';
	if (name == NULL)
		return strdup(path);
	if ((slash = strrchr(path, '/')) == NULL)
		return strdup(name);
	slash[1] = '\0';
	if (asprintf(&s, "%s%s", path, name) == -1)
		return NULL;
	if (access(s, X_OK) == 0)
		return s;
	free(s);
	return strdup(name);
}

int
prog_client_resolve(const struct prog_client_params *p,
    struct prog_client **pcp)
{
	struct prog_client *pc;
	struct client_resolve rq;
	size_t nj = 0;
	int r, i;

	*pcp = NULL;
	if ((pc = calloc(1, sizeof(*pc))) == NULL) {
		log_error("out of memory");
		return FERR_ALLOC;
	}
	memset(&rq, 0, sizeof(rq));
	rq.destination = p->destination;
	rq.allow_port = p->allow_port;
	rq.config_file = p->config_file;
	rq.options = p->options;
	if ((r = client_resolve_config(&rq, &pc->conf, &pc->env,
	    &pc->host)) != 0) {
		if (r == FERR_FORMAT)
			log_error("invalid destination \"%s\"",
			    p->destination);
		prog_client_free(pc);
		return r;
	}
	if (p->quiet)
		log_set_level(LOGL_QUIET);
	else if (p->verbose > 0)
		log_set_level(p->verbose >= 3 ? LOGL_DEBUG3 :
		    p->verbose == 2 ? LOGL_DEBUG2 : LOGL_DEBUG1);
	else
		log_set_level((enum log_level)pc->conf->log_level);

	/* What the jump command inherits (as ssh passes -F and -v). */
	if (p->config_file != NULL) {
		pc->jump_args[nj++] = "-F";
		pc->jump_args[nj++] = p->config_file;
	}
	if (p->quiet)
		pc->jump_args[nj++] = "-q";
	for (i = 0; !p->quiet && i < p->verbose && i < 3; i++)
		pc->jump_args[nj++] = "-v";
	pc->jump_args[nj] = NULL;
	if ((pc->self = prog_client_self(p->argv0, p->jump_program)) == NULL) {
		log_error("out of memory");
		prog_client_free(pc);
		return FERR_ALLOC;
	}
	pc->cc.conf = pc->conf;
	pc->cc.env = &pc->env;
	pc->cc.self_path = pc->self;
	pc->cc.jump_args = pc->jump_args;
	pc->cc.prompt = pc->conf->batch_mode ? NULL : prog_client_prompt;
	pc->cc.window = p->window;
	*pcp = pc;
	return 0;
}

int
prog_client_connect(struct prog_client *pc)
{
	int r;

	if ((r = client_new(&pc->cc, &pc->cl)) != 0) {
		log_error("client: %s", err_str(r));
		return r;
	}
	if ((r = client_connect(pc->cl)) != 0) {
		if (r == FERR_SYSTEM || r == FERR_TIMEOUT)
			log_error("%s: %s", prog_name(), client_error(pc->cl));
		else if (*client_error(pc->cl) != '\0')
			log_error("%s", client_error(pc->cl));
		else
			log_error("%s: %s", prog_name(), err_str(r));
		prog_client_disconnect(pc);
		return r;
	}
	return 0;
}

void
prog_client_disconnect(struct prog_client *pc)
{
	if (pc == NULL)
		return;
	client_free(pc->cl);
	pc->cl = NULL;
}

void
prog_client_free(struct prog_client *pc)
{
	if (pc == NULL)
		return;
	prog_client_disconnect(pc);
	sshconf_free(pc->conf);
	free(pc->host);
	free(pc->self);
	free(pc);
}

/*
 * In a spawned child before exec: the caller's handlers for SIGTERM and
 * SIGHUP back to the default (an ignored signal stays ignored, as for
 * nohup) and nothing held back, so that a caller may block signals
 * around the spawn and the registration of the child.
 */
static void
prog_client_child_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGHUP };
	struct sigaction old;
	sigset_t none;
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ---- external transports ---- */

int
prog_client_spawn(char *const argv[], int *to_fdp, int *from_fdp,
    pid_t *pidp)
{
	int to[2], from[2];
	pid_t pid;

	if (pipe2(to, O_CLOEXEC) != 0) {
		log_error("pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(from, O_CLOEXEC) != 0) {
		log_error("pipe: %s", strerror(errno));
		close(to[0]);
		close(to[1]);
		return -1;
	}
	if ((pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		close(to[0]);
		close(to[1]);
		close(from[0]);
		close(from[1]);
		return -1;
	}
	if (pid == 0) {
		/* dup2 clears close-on-exec on the copies. */
		if (dup2(to[0], STDIN_FILENO) < 0 ||
		    dup2(from[1], STDOUT_FILENO) < 0)
			_exit(255);
		/* Keep ^C for the client: the transport ignores it. */
		signal(SIGINT, SIG_IGN);
		prog_client_child_signals();
		execvp(argv[0], argv);
		fprintf(stderr, "exec: %s: %s\n", argv[0], strerror(errno));
		_exit(1);
	}
	close(to[0]);
	close(from[1]);
	*to_fdp = to[1];
	*from_fdp = from[0];
	*pidp = pid;
	return 0;
}

int
prog_client_reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 255;
}
