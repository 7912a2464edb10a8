/*
 * What the client programs (fssh, fsftp, fscp, fssh-copy-id) share to get
 * a connected in-process SSH client (ferry/client.h) from their command
 * line: ssh_config option lines built from option letters, the prompt
 * on the terminal or through SSH_ASKPASS, BatchMode, the ProxyJump
 * program, the connection with OpenSSH's error texts; and the spawning
 * of an external transport program on pipes (fsftp -S and -D).
 *
 * Like prog.h this is for programs only: failures are printed here.
 */
#ifndef FERRY_PROG_CLIENT_H
#define FERRY_PROG_CLIENT_H

#include <stdint.h>
#include <sys/types.h>

#include "ferry/client.h"
#include "ferry/sshconf.h"

#define PROG_CLIENT_MAX_OPTIONS	256

/* "Keyword value" lines, in command-line order, for client_resolve. */
struct prog_client_opts {
	const char *lines[PROG_CLIENT_MAX_OPTIONS + 1];	/* NULL-terminated */
	char *owned[PROG_CLIENT_MAX_OPTIONS];
	size_t n;
};

/*
 * Append "keyword value" to o, or value as a whole line (-o's argument)
 * when keyword is NULL (borrowed: it must outlive o).  Calls fatal() when
 * there are too many options or memory runs out.
 */
void prog_client_opt(struct prog_client_opts *o, const char *keyword,
    const char *value);

/* Free the lines prog_client_opt() made (o may be reused afterwards). */
void prog_client_opts_free(struct prog_client_opts *o);

/*
 * The client_prompt_fn of every program: SSH_ASKPASS when
 * SSH_ASKPASS_REQUIRE=force; else /dev/tty (without echo unless echo is
 * set); else SSH_ASKPASS when set and a display is known or
 * SSH_ASKPASS_REQUIRE=prefer (never with "never").  ctx is unused.
 * FERR_NOT_SUPPORTED when no way to ask exists, FERR_EOF at end of
 * input, FERR_AUTH_FAILED when askpass fails.
 */
int prog_client_prompt(const char *prompt, int echo, char **answerp,
    void *ctx);

/* What a program's command line says about the connection. */
struct prog_client_params {
	const char *destination;	/* [user@]host, ssh://... */
	int allow_port;			/* accept host:port */
	const char *config_file;	/* -F, or NULL */
	const char *const *options;	/* option lines (prog_client_opts) */
	int verbose;			/* -v count (also for the jump) */
	int quiet;			/* -q */
	/*
	 * The ProxyJump program: NULL for this very program (fssh), else a
	 * name ("fssh") looked for next to this program's binary first and
	 * then in PATH.
	 */
	const char *jump_program;
	const char *argv0;
	uint32_t window;		/* client_config.window (0: default) */
};

/* A resolved, then connected client and what it borrows. */
struct prog_client {
	struct client *cl;		/* NULL until prog_client_connect */
	struct sshconf *conf;
	struct sshconf_env env;
	char *host;			/* the host argument */
	char *self;			/* the ProxyJump program */
	const char *jump_args[8];
	struct client_config cc;
};

/*
 * Resolve the configuration (client_resolve_config) and set the log
 * level as ssh does (-q, -v, else the configuration's LogLevel).  On
 * failure the reason is printed and a negative code returned
 * (FERR_FORMAT: "invalid destination"); *pcp is NULL then.  p's strings
 * must outlive the result.
 */
int prog_client_resolve(const struct prog_client_params *p,
    struct prog_client **pcp);

/*
 * Create the client (prompting unless BatchMode is set) and connect,
 * verify the host key and authenticate.  0, or a negative code after
 * printing OpenSSH's text ("name: connect to host h port p: Connection
 * refused", "Host key verification failed.", "user@host: Permission
 * denied (...)."); the caller exits with 255 as ssh does.
 */
int prog_client_connect(struct prog_client *pc);

/* Disconnect and free the client (pc->cl becomes NULL); NULL pc is ok. */
void prog_client_disconnect(struct prog_client *pc);

/* Disconnect if needed and free everything; NULL is allowed. */
void prog_client_free(struct prog_client *pc);

/*
 * Run argv[0] (looked up in PATH) with argv, its stdin and stdout on
 * pipes: *to_fdp is written to its stdin, *from_fdp reads its stdout
 * (both close-on-exec).  The child ignores SIGINT (^C belongs to the
 * client).  0, or -1 with a message printed.
 */
int prog_client_spawn(char *const argv[], int *to_fdp, int *from_fdp,
    pid_t *pidp);

/* Wait for pid: its exit status, 255 when killed by a signal, -1. */
int prog_client_reap(pid_t pid);

#endif /* FERRY_PROG_CLIENT_H */
