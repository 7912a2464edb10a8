/*
 * fsshd's authentication decisions that go beyond public keys: account
 * checks (locked, expired; PAM account management), passwords (PAM or
 * crypt(3) against the shadow file), keyboard-interactive conversations
 * (RFC 4256: one "Password: " prompt, or the PAM conversation), PAM
 * sessions, and the session environment (fsshd-env.c).
 *
 * Every decision is a function of the effective configuration, the
 * account and the method's data, with no session state besides the
 * conversation object: a privileged monitor can run them on behalf of
 * an unprivileged pre-authentication process and pass the results back.
 */
#ifndef FERRY_FSSHD_AUTH_H
#define FERRY_FSSHD_AUTH_H

#include <stddef.h>

struct auth_kbdint;
struct authkeys_decision;
struct fsshd_account;
struct sshdconf;

/* Caps on one keyboard-interactive conversation. */
#define FSSHD_KBD_ROUNDS_MAX	8	/* INFO_REQUESTs per attempt */
#define FSSHD_KBD_PROMPTS_MAX	32	/* prompts per INFO_REQUEST */
#define FSSHD_KBD_TEXT_MAX	1024	/* bytes of one prompt or text */
/* Seconds a PAM module may take before the attempt fails. */
#define FSSHD_PAM_TIMEOUT	60

/*
 * Whether the account may log in at all, whatever the method: with
 * UsePAM yes pam_acct_mgmt() of the "ferry" service; otherwise the
 * shadow entry must not be locked ("!" prefix, "*LK*") nor expired
 * (sp_expire).  Returns 1, or 0 with the reason in why (for the log).
 * rhost is the client's address (PAM_RHOST).
 */
int fsshd_auth_account(const struct sshdconf *eff,
    const struct fsshd_account *a, const char *rhost, char *why,
    size_t whylen);

/*
 * Check password for the account: with UsePAM yes through
 * pam_authenticate() and pam_acct_mgmt() (a conversation that answers
 * each hidden prompt with the password), otherwise crypt(3) against the
 * shadow file, refusing expired passwords (sp_lstchg, sp_max).  Does not
 * look at PasswordAuthentication: the caller decides which method asks.
 * Returns 1 when accepted, else 0 with the reason in why.
 */
int fsshd_auth_password(const struct sshdconf *eff,
    const struct fsshd_account *a, const char *rhost, const char *password,
    char *why, size_t whylen);

/* One INFO_REQUEST of a keyboard-interactive conversation. */
struct fsshd_kbd_round {
	char	*name;
	char	*instruction;
	char	*prompts[FSSHD_KBD_PROMPTS_MAX];
	int	 echo[FSSHD_KBD_PROMPTS_MAX];
	size_t	 nprompts;
};

/* What fsshd_kbd_step() returns (or a negative FERR_* code). */
enum fsshd_kbd_status {
	FSSHD_KBD_FAIL = 0,
	FSSHD_KBD_OK = 1,
	FSSHD_KBD_PROMPT = 2,		/* send *out, then step again */
};

struct fsshd_kbd;

/*
 * Begin a keyboard-interactive attempt for the account under eff: with
 * UsePAM yes a PAM conversation in a child process (pam_authenticate,
 * then pam_acct_mgmt), otherwise a single "Password: " prompt checked
 * as fsshd_auth_password() does.  *kp is freed with fsshd_kbd_free().
 */
int fsshd_kbd_start(const struct sshdconf *eff, const struct fsshd_account *a,
    const char *rhost, struct fsshd_kbd **kp);

/*
 * Advance the conversation: resp[0..nresp-1] answer the prompts of the
 * previous round (none on the first call).  Returns FSSHD_KBD_PROMPT
 * with the next request in *out (cleared and filled; free it with
 * fsshd_kbd_round_clear), FSSHD_KBD_OK or FSSHD_KBD_FAIL (why says why),
 * or a negative code.  After OK or FAIL the conversation is over.
 */
int fsshd_kbd_step(struct fsshd_kbd *k, const char *const *resp, size_t nresp,
    struct fsshd_kbd_round *out, char *why, size_t whylen);
void fsshd_kbd_round_clear(struct fsshd_kbd_round *r);
/* End the conversation (stopping a PAM child) and free k; NULL is fine. */
void fsshd_kbd_free(struct fsshd_kbd *k);

/*
 * The library's keyboard-interactive policy (auth_kbdint_server_fn) for
 * the account under eff: starts a conversation in *kp at round 0 (ending
 * one left over), steps it with the client's responses, and ends it on
 * success or failure (logged with the reason).  Returns AUTH_KBDINT_*.
 */
int fsshd_auth_kbdint(struct auth_kbdint *conv, const struct sshdconf *eff,
    const struct fsshd_account *a, const char *rhost, struct fsshd_kbd **kp);

/*
 * UsePAM yes: pam_setcred(PAM_ESTABLISH_CRED) and pam_open_session() for
 * the account, while still root; the handle is kept for
 * fsshd_pam_session_close().  0, or -1 with why.  Without PAM (or
 * UsePAM no) it does nothing and returns 0.
 */
int fsshd_pam_session_open(const struct sshdconf *eff,
    const struct fsshd_account *a, const char *rhost, char *why,
    size_t whylen);
/*
 * The environment the PAM session set ("NAME=value" strings, NULL
 * terminated; the caller frees each and the array), or NULL.
 */
char **fsshd_pam_session_env(void);
/* pam_close_session() and pam_end() for the open session, if any. */
void fsshd_pam_session_close(void);

/* ---- the session environment (fsshd-env.c) ---- */

struct fsshd_env;

/*
 * A session's environment under construction: the variables the client
 * sent (AcceptEnv) collected as requests arrive, then the rest added by
 * fsshd_env_build().
 */
struct fsshd_env *fsshd_env_new(void);
void fsshd_env_free(struct fsshd_env *e);

/*
 * An "env" channel request: keep name=value when one of AcceptEnv's
 * wildcard patterns matches the name (at most 256 variables; a later
 * value replaces an earlier one).  Returns 1 kept, 0 refused, or a
 * negative code.
 */
int fsshd_env_accept(struct fsshd_env *e, const struct sshdconf *eff,
    const char *name, const char *value);

/* What fsshd_env_build() combines besides the client's variables. */
struct fsshd_env_ctx {
	const struct sshdconf *eff;	/* NULL: embedded default */
	const struct fsshd_account *acct;
	const char *client_addr;	/* SSH_CLIENT, SSH_CONNECTION */
	int client_port;
	const char *local_addr;
	int local_port;
	const char *original_command;	/* SSH_ORIGINAL_COMMAND, or NULL */
	const struct authkeys_decision *key;	/* environment=, or NULL */
	char *const *pam_env;		/* from the PAM session, or NULL */
};

/*
 * The environment of a session's command, as sshd builds it: USER,
 * LOGNAME, HOME, SHELL, PATH, MAIL, SSH_CLIENT, SSH_CONNECTION,
 * SSH_ORIGINAL_COMMAND; the PAM session's variables; the client's
 * accepted variables; with PermitUserEnvironment the user's
 * ~/.ssh/environment and environment= options of the key (read as the
 * user; names matched against PermitUserEnvironment's patterns);
 * SetEnv last, which wins.  *envpp is a NULL-terminated array: free
 * it with fsshd_env_strv_free().  Call it as the user, after
 * fsshd_become_user (so ~/.ssh/environment is read with the user's
 * rights and from inside any chroot).
 */
int fsshd_env_build(struct fsshd_env *e, const struct fsshd_env_ctx *ctx,
    char ***envpp);
void fsshd_env_strv_free(char **v);

/*
 * Parse len bytes of ~/.ssh/environment text (name names it in log
 * lines) as fsshd_env_build reads the file under eff's
 * PermitUserEnvironment: *envpp gets the permitted NAME=value strings
 * (NULL-terminated, possibly empty; free with fsshd_env_strv_free).
 */
int fsshd_env_parse_text(const struct sshdconf *eff, const char *name,
    const char *text, size_t len, char ***envpp);

/* ---- ClientAliveInterval (fsshd-alive.c) ---- */

/* One connection's keepalive state; zero it and set count_max. */
struct fsshd_alive {
	unsigned int	count_max;	/* ClientAliveCountMax */
	unsigned int	missed;		/* requests sent without a reply */
	int		heard;		/* a packet came this interval */
};

enum fsshd_alive_action {
	FSSHD_ALIVE_QUIET = 0,		/* nothing to do */
	FSSHD_ALIVE_SEND = 1,		/* send keepalive@openssh.com */
	FSSHD_ALIVE_DEAD = 2,		/* disconnect: client not responding */
};

/* Every ClientAliveInterval seconds: what to do now. */
int fsshd_alive_tick(struct fsshd_alive *a);
/* A packet came from the client; is_reply: an answer to our request. */
void fsshd_alive_heard(struct fsshd_alive *a, int is_reply);

/* ---- listeners (fsshd-listen.c) ---- */

/*
 * Split a ListenAddress value ("addr", "addr:port", "[addr]:port",
 * "[addr]") into host (hostlen bytes) and *portp (-1 when none).
 * FERR_FORMAT for anything else.
 */
int fsshd_listen_parse(const char *spec, char *host, size_t hostlen,
    int *portp);
/*
 * A listening TCP socket (close-on-exec, SO_REUSEADDR; IPv6 sockets
 * IPv6-only) on numeric address host and port.  0, or a negative code
 * with errno set.
 */
int fsshd_listen_open(const char *host, int port, int *fdp);
/*
 * The addresses to listen on for host (a name or a numeric address)
 * and port (-1: 22), of family (AF_UNSPEC, AF_INET or AF_INET6): 0
 * with *aip for freeaddrinfo(), or FERR_ARGUMENT with why (the
 * resolver's message).
 */
struct addrinfo;
int fsshd_listen_resolve(const char *host, int port, int family,
    struct addrinfo **aip, char *why, size_t whylen);
/*
 * For fsshd -t: every ListenAddress is an address or a host name that
 * resolves (AddressFamily applied); 0, or FERR_CONFIG with why.
 */
int fsshd_listen_check(const struct sshdconf *c, char *why, size_t whylen);
/*
 * Every socket of the configuration: each ListenAddress on its port or
 * on every Port, filtered by AddressFamily (a host name: each of its
 * addresses, those the machine lacks skipped); without ListenAddress
 * 0.0.0.0 and (when the machine has IPv6) "::".  Logs each listener and
 * dies as sshd does when one cannot be bound.  Returns the count (at
 * most max) of descriptors stored in fds.
 */
size_t fsshd_listen_config(const struct sshdconf *c, int *fds, size_t max);
/*
 * The numeric addresses and ports of a connected socket's peer and local
 * end ("UNKNOWN" and -1 when not an IP socket); IPv4-mapped IPv6
 * addresses are shown as IPv4.
 */
void fsshd_sock_names(int fd, char *addr, size_t alen, int *port,
    char *laddr, size_t llen, int *lport);

/* ---- SIGHUP (fsshd-reexec.c) ---- */

/*
 * Configuration mode: remember argv (argv[0] resolved to an absolute
 * path now), the configuration file and -o options, and catch SIGHUP.
 * 0 or a negative code (errno set).
 */
int fsshd_reexec_init(char **argv, const char *config,
    const char *const *opts, size_t nopts);
/* Whether SIGHUP arrived since the last fsshd_reexec(). */
int fsshd_reexec_pending(void);
/*
 * Load the configuration to check it, then execv the program with the
 * same arguments.  Returns only when the configuration does not load or
 * exec fails, after logging why: the caller keeps serving.
 */
void fsshd_reexec(void);

#endif /* FERRY_FSSHD_AUTH_H */
