/*
 * One fsshd connection, in two processes (see fsshd-monitor.c): the
 * pre-auth process runs the transport and user authentication inside
 * the sandbox, asking the monitor for every decision (the
 * fsshd_session_*_ok functions below run there); the post-auth process
 * continues the transport as the user and serves session channels that
 * run the SFTP engine in this process or a command through the user's
 * shell.
 *
 * Everything is driven by one event loop: the socket, the pipes of
 * children, and SIGCHLD.  After each event, pump() moves what it can:
 * transport events to auth or conn, channel data to the SFTP engine or a
 * child, their output back to the channel within the peer's window, and
 * the transport's output to the socket.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ferry/auth.h"
#include "ferry/authkeys.h"
#include "ferry/buf.h"
#include "ferry/conn.h"
#include "ferry/err.h"
#include "ferry/evloop.h"
#include "ferry/key.h"
#include "ferry/key-cert.h"
#include "ferry/log.h"
#include "ferry/sftp-server.h"
#include "ferry/sshdconf.h"
#include "ferry/transport.h"
#include "fsshd.h"
#include "fsshd-auth.h"
#include "fsshd-hostcert.h"	/* HostCertificate */
#include "fsshd-scp.h"
#include "misc.h"

#define FSSHD_MAX_CHANS		16
#define FSSHD_READ_CHUNK	65536
/* What one read(2) of the connection takes: a whole packet at most. */
#define FSSHD_NET_READ		(256U * 1024)
/* authorized_keys files larger than this are refused. */
#define FSSHD_AUTHKEYS_MAX	(4U * 1024 * 1024)

enum fsshd_kind { FSSHD_NONE = 0, FSSHD_SFTP, FSSHD_EXEC };

struct fsshd_session;

struct fsshd_chan {
	struct fsshd_session *s;
	uint32_t id;
	enum fsshd_kind kind;
	struct buf *in;			/* channel data not yet taken */
	int peer_eof;
	int closing;			/* our EOF and CLOSE are sent */
	struct sftp_server *sftp;
	struct fsshd_env *env;		/* variables the client sent */
	pid_t pid;
	int fd_in, fd_out, fd_err;	/* child's stdin, stdout, stderr */
	int exited, status;
};

struct fsshd_session {
	const struct fsshd_opts *o;
	struct evloop *loop;
	int in_fd, out_fd;
	const char *peer;
	/*
	 * What authentication decided: in a pre-auth process it stays
	 * empty (the monitor decides); a post-auth process gets the
	 * monitor's.  For the key of each signed request auth asks again
	 * just before the signature is checked, so after success keyopts
	 * is the signer's.
	 */
	struct fsshd_authstate as;
	int mon_fd;			/* the monitor, or -1 */
	struct key *pubkeys[FSSHD_MAX_HOSTKEYS];	/* pre-auth */
	size_t npubkeys;
	struct transport *t;
	struct auth_server *auth;
	struct conn *conn;
	struct fsshd_chan *chans[FSSHD_MAX_CHANS];
	struct fsshd_alive alive;	/* post-auth: ClientAliveInterval */
	int authed;			/* pre-auth: success, hand over */
	int done;
	int failed;
};

static void fsshd_pump(struct fsshd_session *s);
static void fsshd_alive(struct evloop *loop, void *ctx);

/* ---- authentication ---- */

static void
fsshd_account_clear(struct fsshd_account *a)
{
	free(a->name);
	free(a->home);
	free(a->shell);
	if (a->passwd != NULL)
		explicit_bzero(a->passwd, strlen(a->passwd));
	free(a->passwd);
	memset(a, 0, sizeof(*a));
}

/* Copy the password database entry of user into a; 0 or -1. */
static int
fsshd_account_load(struct fsshd_account *a, const char *user)
{
	struct passwd *pw;

	fsshd_account_clear(a);
	if ((pw = getpwnam(user)) == NULL)
		return -1;
	a->uid = pw->pw_uid;
	a->gid = pw->pw_gid;
	if ((a->name = strdup(pw->pw_name)) == NULL ||
	    (a->home = strdup(pw->pw_dir)) == NULL ||
	    (a->shell = strdup(pw->pw_shell != NULL && pw->pw_shell[0] == '/' ?
	    pw->pw_shell : "/bin/sh")) == NULL ||
	    (a->passwd = strdup(pw->pw_passwd != NULL ? pw->pw_passwd : "*")) == NULL) {
		fsshd_account_clear(a);
		return -1;
	}
	return 0;
}

/*
 * What the connection offers to Match for user (its groups from the
 * group database: none for a name the system does not know); 0 or a
 * code (a name too long for the specification is refused, never cut).
 */
static int
fsshd_session_conn(const struct fsshd_authstate *as, const char *user,
    struct sshdconf_conn *conn)
{
	char spec[2048];
	int n;

	memset(conn, 0, sizeof(*conn));
	n = snprintf(spec, sizeof(spec),
	    "user=%s,addr=%s,host=%s,laddr=%s,lport=%d", user, as->addr,
	    as->addr, as->laddr, as->lport);
	if (n < 0 || (size_t)n >= sizeof(spec))
		return FERR_STRING_TOO_LARGE;
	return sshdconf_conn_parse(spec, conn);
}

/*
 * Configuration mode: the account and effective settings for user, and
 * whether the account may log in at all.  Names that could confuse the
 * Match specification are refused outright.  The embedded default
 * knows its one account.
 */
int
fsshd_session_user_ok(struct fsshd_authstate *as, const char *user)
{
	struct sshdconf_conn conn;
	char why[256];
	int ok = 0;

	if (as->o->conf == NULL) {
		if (strcmp(user, as->o->user) == 0)
			return 1;
		log_info("Invalid user %.100s from %s", user, as->peer);
		return 0;
	}
	/* Clients ask again and again for one user: decide once. */
	if (as->acct.name != NULL && strcmp(as->acct.name, user) == 0 &&
	    as->eff != NULL)
		return as->acct_ok;
	as->acct_ok = 0;
	sshdconf_free(as->eff);
	as->eff = NULL;
	memset(&conn, 0, sizeof(conn));
	if (strpbrk(user, ",= \t") != NULL ||
	    fsshd_account_load(&as->acct, user) != 0) {
		log_info("Invalid user %.100s from %s", user, as->peer);
		return 0;
	}
	if (fsshd_session_conn(as, user, &conn) != 0 ||
	    sshdconf_match(as->o->conf, &conn, &as->eff) != 0) {
		log_error("cannot apply the configuration for %s", user);
		goto out;
	}
	if (!(ok = fsshd_policy_account(as->eff, &conn, as->acct.uid, why,
	    sizeof(why))))
		log_info("User %s from %s not allowed: %s", user, as->addr, why);
	else if (!(ok = fsshd_auth_account(as->eff, &as->acct, as->addr, why,
	    sizeof(why))))
		log_info("User %s from %s not allowed: %s", user, as->addr, why);
	as->acct_ok = ok;
 out:
	sshdconf_conn_clear(&conn);
	return ok;
}

const struct sshdconf *
fsshd_session_auth_conf(struct fsshd_authstate *as, const char *user,
    struct sshdconf **tmpp)
{
	struct sshdconf_conn conn;

	*tmpp = NULL;
	if (as->o->conf == NULL)
		return NULL;
	(void)fsshd_session_user_ok(as, user);
	if (as->eff != NULL && as->acct.name != NULL &&
	    strcmp(as->acct.name, user) == 0)
		return as->eff;
	/*
	 * No such account: Match for the name alone, as for an account
	 * without groups, so that what is offered does not tell whether
	 * the account exists.  Names Match cannot be asked about get the
	 * global settings.
	 */
	if (strpbrk(user, ",= \t") == NULL &&
	    fsshd_session_conn(as, user, &conn) == 0) {
		if (sshdconf_match(as->o->conf, &conn, tmpp) != 0)
			*tmpp = NULL;
		sshdconf_conn_clear(&conn);
	}
	return *tmpp != NULL ? *tmpp : as->o->conf;
}

int
fsshd_session_pubkey_ok(struct fsshd_authstate *as, const char *user,
    const struct key *key)
{
	const char *files[1] = { as->o->authorized_keys };
	struct authkeys_client client;
	char *fp = NULL;
	int r;

	authkeys_decision_clear(&as->keyopts);
	as->keyfp[0] = '\0';
	if (!fsshd_session_user_ok(as, user))
		return 0;
	if (as->o->conf != NULL) {
		if (!as->eff->pubkey_authentication)
			return 0;
		r = fsshd_policy_authkeys(as->eff, &as->acct, key, as->addr,
		    &as->keyopts);
	} else {
		memset(&client, 0, sizeof(client));
		client.addr = as->addr;
		client.now = time(NULL);
		r = authkeys_check(files, 1, key, &client, &as->keyopts);
	}
	if (r != 0)
		log_info("authorized keys for %s: %s", user, err_str(r));
	if (key_fingerprint(key, KEY_FP_SHA256, &fp) == 0) {
		if (as->keyopts.allowed)
			snprintf(as->keyfp, sizeof(as->keyfp), "%s %s",
			    key_type_short(key_get_type(key)), fp);
		if (as->keyopts.allowed)
			log_verbose("%s:%lu: key %s %s for %s from %s",
			    as->keyopts.file, as->keyopts.line,
			    key_type_short(key_get_type(key)), fp, user,
			    as->peer);
		else
			log_verbose("key %s %s refused for %s from %s: %s",
			    key_type_short(key_get_type(key)), fp, user,
			    as->peer, as->keyopts.reason[0] != '\0' ?
			    as->keyopts.reason : "not listed");
	}
	free(fp);
	return r == 0 && as->keyopts.allowed;
}

/*
 * Configuration mode: a user certificate (fsshd_policy_cert decides),
 * logged as sshd logs it: key, ID, serial and CA.
 */
int
fsshd_session_cert_ok(struct fsshd_authstate *as, const char *user,
    const struct key_cert *cert)
{
	char *fp = NULL, *cafp = NULL;
	int r;

	authkeys_decision_clear(&as->keyopts);
	as->keyfp[0] = '\0';
	if (as->o->conf == NULL || !fsshd_session_user_ok(as, user) ||
	    !as->eff->pubkey_authentication)
		return 0;
	r = fsshd_policy_cert(as->eff, &as->acct, cert, as->addr,
	    &as->keyopts);
	if (key_fingerprint(cert->key, KEY_FP_SHA256, &fp) == 0 &&
	    key_fingerprint(cert->ca, KEY_FP_SHA256, &cafp) == 0) {
		snprintf(as->keyfp, sizeof(as->keyfp), "%s-CERT %s ID %.64s "
		    "(serial %llu) CA %s %s",
		    key_type_short(key_get_type(cert->key)), fp, cert->key_id,
		    (unsigned long long)cert->serial,
		    key_type_short(key_get_type(cert->ca)), cafp);
		if (r != 0 || !as->keyopts.allowed)
			log_info("certificate %s refused for %s from %s: %s",
			    as->keyfp, user, as->peer, r != 0 ? err_str(r) :
			    as->keyopts.reason[0] != '\0' ? as->keyopts.reason :
			    "not trusted");
	}
	free(fp);
	free(cafp);
	if (r != 0 || !as->keyopts.allowed)
		as->keyfp[0] = '\0';
	return r == 0 && as->keyopts.allowed;
}

/* Configuration mode: a password against the shadow file. */
int
fsshd_session_password_ok(struct fsshd_authstate *as, const char *user,
    const char *password)
{
	char why[256];
	int ok;

	authkeys_decision_clear(&as->keyopts);
	if (as->o->conf == NULL || !fsshd_session_user_ok(as, user))
		return 0;
	if (!as->eff->password_authentication)
		return 0;
	ok = fsshd_auth_password(as->eff, &as->acct, as->addr, password, why,
	    sizeof(why));
	if (!ok)
		log_info("Failed password for %s from %s: %s", user, as->peer,
		    why);
	return ok;
}

void
fsshd_session_authstate_clear(struct fsshd_authstate *as)
{
	authkeys_decision_clear(&as->keyopts);
	sshdconf_free(as->eff);
	as->eff = NULL;
	fsshd_account_clear(&as->acct);
	as->acct_ok = 0;
}

/*
 * The auth callbacks of the pre-auth process: the monitor decides (with
 * fsshd_session_*_ok above), the sandboxed process only asks.  A new
 * method is a new callback here and a new row in the monitor's request
 * table.
 */
static int
fsshd_pubkey_allowed(const char *user, const struct key *key, void *ctx)
{
	struct fsshd_session *s = ctx;

	return fsshd_monitor_ask_pubkey(s->mon_fd, user, key);
}

static int
fsshd_password_check(const char *user, const char *password, void *ctx)
{
	struct fsshd_session *s = ctx;

	return fsshd_monitor_ask_password(s->mon_fd, user, password);
}

static int
fsshd_cert_allowed(const char *user, const struct key_cert *cert, void *ctx)
{
	struct fsshd_session *s = ctx;

	return fsshd_monitor_ask_cert(s->mon_fd, user, cert);
}

/*
 * The first USERAUTH_REQUEST names the user: what is offered from now on
 * is what the monitor says the user's settings are (Match applied).
 */
static int
fsshd_user_first(struct auth_server *a, const char *user, void *ctx)
{
	struct fsshd_session *s = ctx;
	struct auth_server_user u;
	char *methods = NULL, *algs = NULL;
	int r;

	if ((r = fsshd_monitor_ask_user(s->mon_fd, user, &u, &methods,
	    &algs)) != 0)
		log_error("settings for %.100s from the monitor: %s", user,
		    err_str(r));
	else if ((r = auth_server_set_user(a, &u)) == FERR_CONFIG)
		log_info("no AuthenticationMethods list for %.100s has only "
		    "enabled methods", user);
	else if (r != 0)
		log_error("settings for %.100s: %s", user, err_str(r));
	free(methods);
	free(algs);
	return r;
}

/* keyboard-interactive: the conversation itself lives in the monitor. */
static int
fsshd_kbdint_policy(struct auth_kbdint *conv, const char *user, void *ctx)
{
	struct fsshd_session *s = ctx;

	return fsshd_monitor_kbdint(s->mon_fd, conv, user);
}

/*
 * The command forced for this login, or NULL: sshd_config's ForceCommand
 * wins over authorized_keys' command= (as in OpenSSH).
 */
static const char *
fsshd_forced_command(const struct fsshd_session *s)
{
	if (s->as.eff != NULL && s->as.eff->force_command != NULL &&
	    strcmp(s->as.eff->force_command, "none") != 0)
		return s->as.eff->force_command;
	if (s->as.keyopts.opts == NULL)
		return NULL;
	return s->as.keyopts.opts->force_command;
}

/* The command line configured for subsystem name, or NULL. */
static const char *
fsshd_subsystem(const struct fsshd_session *s, const char *name)
{
	size_t i;

	if (s->as.eff == NULL)
		return strcmp(name, "sftp") == 0 ? "internal-sftp" : NULL;
	for (i = 0; i < s->as.eff->subsystem_names.n &&
	    i < s->as.eff->subsystem_commands.n; i++)
		if (strcmp(s->as.eff->subsystem_names.v[i], name) == 0)
			return s->as.eff->subsystem_commands.v[i];
	return NULL;
}

static int
fsshd_is_internal_sftp(const char *cmd)
{
	return strncmp(cmd, "internal-sftp", 13) == 0 &&
	    (cmd[13] == '\0' || cmd[13] == ' ' || cmd[13] == '\t');
}

/* ---- channels ---- */

static struct fsshd_chan *
fsshd_chan_new(struct fsshd_session *s, uint32_t id)
{
	struct fsshd_chan *c;
	size_t i;

	for (i = 0; i < FSSHD_MAX_CHANS && s->chans[i] != NULL; i++)
		;
	if (i == FSSHD_MAX_CHANS || (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->in = buf_new()) == NULL) {
		free(c);
		return NULL;
	}
	c->s = s;
	c->id = id;
	c->fd_in = c->fd_out = c->fd_err = -1;
	s->chans[i] = c;
	return c;
}

static void
fsshd_close_fd(struct fsshd_session *s, int *fdp)
{
	if (*fdp < 0)
		return;
	if (evloop_del_fd(s->loop, *fdp) != 0)
		log_debug3("fd %d was not watched", *fdp);
	close(*fdp);
	*fdp = -1;
}

static void
fsshd_chan_free(struct fsshd_chan *c)
{
	struct fsshd_session *s = c->s;
	size_t i;

	fsshd_close_fd(s, &c->fd_in);
	fsshd_close_fd(s, &c->fd_out);
	fsshd_close_fd(s, &c->fd_err);
	if (c->pid > 0 && !c->exited)
		kill(c->pid, SIGHUP);
	sftp_server_free(c->sftp);
	fsshd_env_free(c->env);
	buf_free(c->in);
	for (i = 0; i < FSSHD_MAX_CHANS; i++)
		if (s->chans[i] == c)
			s->chans[i] = NULL;
	free(c);
}

static struct fsshd_chan *
fsshd_chan_by_pid(struct fsshd_session *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < FSSHD_MAX_CHANS; i++)
		if (s->chans[i] != NULL && s->chans[i]->pid == pid)
			return s->chans[i];
	return NULL;
}

/* RFC 4254 6.10 signal names (without "SIG"). */
static const char *
fsshd_signame(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {
		{ SIGABRT, "ABRT" }, { SIGALRM, "ALRM" }, { SIGFPE, "FPE" },
		{ SIGHUP, "HUP" }, { SIGILL, "ILL" }, { SIGINT, "INT" },
		{ SIGKILL, "KILL" }, { SIGPIPE, "PIPE" }, { SIGQUIT, "QUIT" },
		{ SIGSEGV, "SEGV" }, { SIGTERM, "TERM" }, { SIGUSR1, "USR1" },
		{ SIGUSR2, "USR2" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	return "HUP";
}

/* End a channel from our side: exit status (for commands), EOF, CLOSE. */
static void
fsshd_chan_finish(struct fsshd_chan *c)
{
	struct conn *conn = c->s->conn;
	int r = 0;

	if (c->closing)
		return;
	c->closing = 1;
	if (c->kind == FSSHD_EXEC) {
		if (WIFSIGNALED(c->status))
			r = conn_send_exit_signal(conn, c->id,
			    fsshd_signame(WTERMSIG(c->status)),
			    WCOREDUMP(c->status), "");
		else
			r = conn_send_exit_status(conn, c->id,
			    (uint32_t)WEXITSTATUS(c->status));
	}
	if (r != 0 || conn_eof(conn, c->id) != 0 || conn_close(conn, c->id) != 0)
		log_debug("channel %u: could not close cleanly", c->id);
}

/* The SFTP engine: feed it channel data, send its output within window. */
static int
fsshd_sftp_service(struct fsshd_chan *c)
{
	struct conn *conn = c->s->conn;
	struct buf *out = sftp_server_output(c->sftp);
	size_t n, sent;
	int r, progress = 1;

	while (progress) {
		progress = 0;
		n = buf_len(c->in);
		if (n > sftp_server_input_space(c->sftp))
			n = sftp_server_input_space(c->sftp);
		if (n > 0) {
			if ((r = sftp_server_input(c->sftp, buf_ptr(c->in), n)) != 0)
				return r;
			if ((r = buf_consume(c->in, n)) != 0 ||
			    (r = conn_consumed(conn, c->id, n)) != 0)
				return r;
			progress = 1;
		}
		while (buf_len(out) > 0 && (n = conn_writable(conn, c->id)) > 0) {
			if (n > buf_len(out))
				n = buf_len(out);
			if ((r = conn_write(conn, c->id, buf_ptr(out), n,
			    &sent)) != 0)
				return r;
			if ((r = buf_consume(out, sent)) != 0)
				return r;
			if (sent == 0)
				break;
			progress = 1;
		}
		if (buf_len(out) == 0 && (r = sftp_server_process(c->sftp)) != 0)
			return r;
	}
	if (buf_len(out) == 0 && (sftp_server_done(c->sftp) ||
	    (c->peer_eof && buf_len(c->in) == 0)))
		fsshd_chan_finish(c);
	return 0;
}

/* A child's stdout or stderr is readable: forward within the window. */
static void
fsshd_child_output(struct evloop *loop, int fd, unsigned int events,
    void *ctx)
{
	struct fsshd_chan *c = ctx;
	struct conn *conn = c->s->conn;
	uint8_t tmp[FSSHD_READ_CHUNK];
	size_t room = conn_writable(conn, c->id), sent;
	ssize_t n;
	int is_err = fd == c->fd_err, r;

	(void)loop;
	(void)events;
	if (room == 0) {
		/* Wait for the peer's window: CONN_EV_WINDOW resumes us. */
		if (evloop_set_events(c->s->loop, fd, 0) != 0)
			c->s->failed = 1;
		return;
	}
	n = read(fd, tmp, room < sizeof(tmp) ? room : sizeof(tmp));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		fsshd_close_fd(c->s, is_err ? &c->fd_err : &c->fd_out);
	} else {
		r = is_err ? conn_write_ext(conn, c->id, 1, tmp, (size_t)n, &sent) :
		    conn_write(conn, c->id, tmp, (size_t)n, &sent);
		if (r != 0 || sent != (size_t)n)
			c->s->failed = 1;
	}
	fsshd_pump(c->s);
}

/* Write pending channel data to the child's stdin. */
static void
fsshd_exec_service(struct fsshd_chan *c)
{
	ssize_t n;

	while (c->fd_in >= 0 && buf_len(c->in) > 0) {
		n = write(c->fd_in, buf_ptr(c->in), buf_len(c->in));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* The command stopped reading: drop what is left. */
			if (conn_consumed(c->s->conn, c->id, buf_len(c->in)) != 0)
				c->s->failed = 1;
			buf_reset(c->in);
			fsshd_close_fd(c->s, &c->fd_in);
			break;
		}
		if (buf_consume(c->in, (size_t)n) != 0 ||
		    conn_consumed(c->s->conn, c->id, (size_t)n) != 0)
			c->s->failed = 1;
	}
	if (c->fd_in >= 0 && c->peer_eof && buf_len(c->in) == 0)
		fsshd_close_fd(c->s, &c->fd_in);
	if (c->exited && c->fd_out < 0 && c->fd_err < 0)
		fsshd_chan_finish(c);
}

static void
fsshd_child_writable(struct evloop *loop, int fd, unsigned int events,
    void *ctx)
{
	struct fsshd_chan *c = ctx;

	(void)loop;
	(void)fd;
	(void)events;
	fsshd_pump(c->s);
}

/* The command's environment (fsshd-env.c builds it as sshd does). */
static int
fsshd_session_env(struct fsshd_chan *c, const char *original, char ***envpp)
{
	struct fsshd_session *s = c->s;
	struct fsshd_env_ctx ctx;
	const char *p = strrchr(s->peer, ' ');
	char **pam_env = fsshd_pam_session_env();
	int r;

	memset(&ctx, 0, sizeof(ctx));
	ctx.eff = s->as.eff;
	ctx.acct = &s->as.acct;
	ctx.client_addr = s->as.addr;
	ctx.client_port = p != NULL ? (int)strtol(p + 1, NULL, 10) : 0;
	ctx.local_addr = s->as.laddr;
	ctx.local_port = s->as.lport;
	ctx.original_command = original != NULL && original[0] != '\0' ?
	    original : NULL;
	ctx.key = &s->as.keyopts;
	ctx.pam_env = pam_env;
	r = fsshd_env_build(c->env, &ctx, envpp);
	fsshd_env_strv_free(pam_env);
	if (r != 0)
		log_error("session environment for %s: %s", s->as.acct.name,
		    err_str(r));
	return r;
}

/*
 * Start the user's shell with -c command (or as a shell without a
 * terminal).  original is what the client asked for when command was
 * forced by authorized_keys (SSH_ORIGINAL_COMMAND), else NULL.
 */
static int
fsshd_exec_start(struct fsshd_chan *c, const char *command,
    const char *original)
{
	const struct fsshd_account *o = &c->s->as.acct;
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	const char *base = strrchr(o->shell, '/');
	char **envp = NULL;
	pid_t pid;

	if (fsshd_session_env(c, original, &envp) != 0 ||
	    pipe2(pin, O_CLOEXEC) == -1 || pipe2(pout, O_CLOEXEC) == -1 ||
	    pipe2(perr, O_CLOEXEC) == -1)
		goto fail;
	pid = fork();
	if (pid == -1)
		goto fail;
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (dup2(pin[0], 0) == -1 || dup2(pout[1], 1) == -1 ||
		    dup2(perr[1], 2) == -1 ||
		    (chdir(o->home) == -1 && chdir("/") == -1))
			_exit(254);
		/* scp -t/-f: served by fsshd itself (fsshd-scp.c). */
		if (command != NULL && fsshd_scp_command(command) &&
		    (fsshd_scp_shell_ok(o->shell) || (fsshd_forced_command(c->s)
		    != NULL && fsshd_is_internal_sftp(fsshd_forced_command(c->s)))))
			_exit(fsshd_scp_serve(command));
		base = base != NULL ? base + 1 : o->shell;
		if (command != NULL)
			execle(o->shell, base, "-c", command, (char *)NULL, envp);
		else
			execle(o->shell, base, (char *)NULL, envp);
		_exit(127);
	}
	fsshd_env_strv_free(envp);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	c->pid = pid;
	c->fd_in = pin[1];
	c->fd_out = pout[0];
	c->fd_err = perr[0];
	if (misc_set_nonblock(c->fd_in, 1) != 0 ||
	    misc_set_nonblock(c->fd_out, 1) != 0 ||
	    misc_set_nonblock(c->fd_err, 1) != 0 ||
	    evloop_add_fd(c->s->loop, c->fd_out, EVLOOP_READ, fsshd_child_output,
	    c) != 0 ||
	    evloop_add_fd(c->s->loop, c->fd_err, EVLOOP_READ, fsshd_child_output,
	    c) != 0 ||
	    evloop_add_fd(c->s->loop, c->fd_in, 0, fsshd_child_writable, c) != 0)
		return FERR_SYSTEM;
	c->kind = FSSHD_EXEC;
	return 0;
 fail:
	fsshd_env_strv_free(envp);
	if (pin[0] >= 0) {
		close(pin[0]);
		close(pin[1]);
	}
	if (pout[0] >= 0) {
		close(pout[0]);
		close(pout[1]);
	}
	if (perr[0] >= 0) {
		close(perr[0]);
		close(perr[1]);
	}
	return FERR_SYSTEM;
}

/*
 * Run the SFTP engine in-process, with internal-sftp's flags.  With -r
 * root (%h %u %% expanded) every path is confined to that directory by
 * the engine's openat2(RESOLVE_IN_ROOT) walk, which needs no root-owned
 * tree: "/" is the root, and the home and start directory are "/"
 * unless -d names another inside it.
 */
static int
fsshd_sftp_start(struct fsshd_chan *c, const char *cmdline)
{
	const struct fsshd_account *a = &c->s->as.acct;
	struct sftp_server_opts so;
	char *root = NULL;
	mode_t um;
	int r;

	memset(&so, 0, sizeof(so));
	if ((r = fsshd_internal_sftp_opts(cmdline, &so, &um)) != 0) {
		log_error("bad internal-sftp options: %s", cmdline);
		goto out;
	}
	if (so.root != NULL) {
		if ((r = sshdconf_expand(so.root, a->home, a->name,
		    &root)) != 0 || root[0] != '/') {
			log_error("internal-sftp -r %s: not an absolute path",
			    so.root);
			r = r != 0 ? r : FERR_CONFIG;
			goto out;
		}
		free((char *)so.root);
		so.root = root;
		root = NULL;
		so.home_dir = "/";
	} else if ((so.root = strdup("/")) == NULL) {
		r = FERR_ALLOC;
		goto out;
	} else
		so.home_dir = a->chrooted ? "/" : a->home;
	if (so.start_dir == NULL &&
	    (so.start_dir = strdup(so.home_dir)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if (um != (mode_t)-1)
		umask(um);
	if ((c->sftp = sftp_server_new(&so)) == NULL) {
		log_error("sftp for %s: cannot serve %s: %s", a->name, so.root,
		    strerror(errno));
		r = FERR_SYSTEM;
		goto out;
	}
	c->kind = FSSHD_SFTP;
	if (strcmp(so.root, "/") != 0)
		log_info("sftp for %s confined to %s", a->name, so.root);
 out:
	free(root);
	free((char *)so.root);
	free((char *)so.start_dir);
	return r;
}

/* Start what a command line names: the SFTP engine or a shell command. */
static int
fsshd_start_command(struct fsshd_chan *c, const char *cmd, const char *orig)
{
	if (fsshd_is_internal_sftp(cmd) && orig != NULL && fsshd_scp_command(orig))
		return fsshd_scp_sftp_ok(cmd) ?	/* in-process scp, or refused */
		    fsshd_exec_start(c, orig, NULL) : FERR_PERMISSION;
	if (fsshd_is_internal_sftp(cmd))
		return fsshd_sftp_start(c, cmd);
	return fsshd_exec_start(c, cmd, orig);
}

/*
 * A channel request: exec, shell, a configured subsystem; others refused.
 * A forced command (ForceCommand, or command= in authorized_keys)
 * replaces all three, as in OpenSSH.
 */
static int
fsshd_chan_request(struct fsshd_session *s, struct conn_event *ev)
{
	struct fsshd_chan *c = ev->chan_ctx;
	const char *forced = fsshd_forced_command(s), *sub;
	const char *asked = ev->req == CONN_REQ_EXEC ||
	    ev->req == CONN_REQ_SUBSYSTEM ? ev->text : "";
	int ok = 0, r, starts;

	starts = ev->req == CONN_REQ_EXEC || ev->req == CONN_REQ_SHELL ||
	    ev->req == CONN_REQ_SUBSYSTEM;
	if (c != NULL && c->kind == FSSHD_NONE && starts && forced != NULL) {
		log_info("forced command for %s from %s: %.200s",
		    s->as.acct.name, s->peer, forced);
		ok = fsshd_start_command(c, forced, asked) == 0;
	} else if (c != NULL && c->kind == FSSHD_NONE) {
		switch (ev->req) {
		case CONN_REQ_EXEC:
			log_info("exec for %s from %s: %.200s", s->as.acct.name,
			    s->peer, ev->text);
			ok = fsshd_exec_start(c, ev->text, NULL) == 0;
			break;
		case CONN_REQ_SHELL:
			ok = fsshd_exec_start(c, NULL, NULL) == 0;
			break;
		case CONN_REQ_SUBSYSTEM:
			if ((sub = fsshd_subsystem(s, ev->text)) == NULL) {
				log_info("subsystem request for %.100s by %s "
				    "failed: not configured", ev->text,
				    s->as.acct.name);
				break;
			}
			log_info("subsystem %.100s for %s from %s", ev->text,
			    s->as.acct.name, s->peer);
			ok = fsshd_start_command(c, sub, NULL) == 0;
			break;
		case CONN_REQ_ENV:
			if (c->env == NULL && (c->env = fsshd_env_new()) == NULL)
				return FERR_ALLOC;
			if ((r = fsshd_env_accept(c->env, s->as.eff, ev->arg,
			    ev->text)) < 0)
				return r;
			ok = r;
			break;
		default:
			break;	/* pty-req, ...: refused */
		}
	}
	if (ev->want_reply && (r = conn_reply(s->conn, ev->chan, ok)) != 0)
		return r;
	return 0;
}

/*
 * Resume reading children that stopped because the connection could take
 * no more (the peer's window, or output above the high-water mark).
 */
static int
fsshd_resume_children(struct fsshd_session *s)
{
	struct fsshd_chan *c;
	size_t i;

	for (i = 0; i < FSSHD_MAX_CHANS; i++) {
		c = s->chans[i];
		if (c == NULL || c->kind != FSSHD_EXEC)
			continue;
		if ((c->fd_out >= 0 &&
		    evloop_set_events(s->loop, c->fd_out, EVLOOP_READ) != 0) ||
		    (c->fd_err >= 0 &&
		    evloop_set_events(s->loop, c->fd_err, EVLOOP_READ) != 0))
			return FERR_INTERNAL;
	}
	return 0;
}

/* An SFTP channel has replies that the connection can take now. */
static int
fsshd_sftp_blocked(struct fsshd_session *s)
{
	struct fsshd_chan *c;
	size_t i;

	for (i = 0; i < FSSHD_MAX_CHANS; i++) {
		c = s->chans[i];
		if (c != NULL && !c->closing && c->kind == FSSHD_SFTP &&
		    buf_len(sftp_server_output(c->sftp)) > 0 &&
		    conn_writable(s->conn, c->id) > 0)
			return 1;
	}
	return 0;
}

static int
fsshd_conn_event(struct fsshd_session *s, struct conn_event *ev)
{
	struct fsshd_chan *c = ev->chan_ctx;
	int r;

	switch (ev->type) {
	case CONN_EV_OPEN_REQUEST:
		if (strcmp(ev->name, "session") != 0 ||
		    (c = fsshd_chan_new(s, ev->chan)) == NULL)
			return conn_open_reject(s->conn, ev->chan, 1,
			    "only session channels are served");
		if ((r = conn_set_ctx(s->conn, ev->chan, c)) != 0)
			return r;
		return conn_open_accept(s->conn, ev->chan);
	case CONN_EV_REQUEST:
		return fsshd_chan_request(s, ev);
	case CONN_EV_DATA:
		if (c == NULL || c->kind == FSSHD_NONE)
			return conn_consumed(s->conn, ev->chan, ev->len);
		/* Nothing queued: the SFTP engine takes it without a copy. */
		if (c->kind == FSSHD_SFTP && !c->closing &&
		    buf_len(c->in) == 0 &&
		    ev->len <= sftp_server_input_space(c->sftp)) {
			if (sftp_server_input(c->sftp, ev->data,
			    ev->len) != 0) {
				fsshd_chan_finish(c);
				return 0;
			}
			return conn_consumed(s->conn, ev->chan, ev->len);
		}
		return buf_put(c->in, ev->data, ev->len);
	case CONN_EV_EXTENDED_DATA:
		return conn_consumed(s->conn, ev->chan, ev->len);
	case CONN_EV_EOF:
		if (c != NULL)
			c->peer_eof = 1;
		return 0;
	case CONN_EV_CLOSE:
		if (c != NULL)
			fsshd_chan_free(c);
		return 0;
	case CONN_EV_WINDOW:
		return fsshd_resume_children(s);
	default:
		return 0;
	}
}

/* ---- the connection ---- */

/*
 * A signed publickey request goes to the monitor as well, which checks
 * the signature itself: success needs its approval, not only ours.
 * Other requests, and malformed ones, are left to auth alone.
 */
static int
fsshd_signed_to_monitor(struct fsshd_session *s, const struct buf *payload)
{
	struct buf *c;
	char *method = NULL;
	int hassig = 0, r = 0;

	if ((c = buf_from(buf_ptr(payload), buf_len(payload))) == NULL)
		return FERR_ALLOC;
	if (buf_get_string_direct(c, NULL, NULL) == 0 &&
	    buf_get_string_direct(c, NULL, NULL) == 0 &&
	    buf_get_cstring(c, &method, NULL) == 0 &&
	    strcmp(method, "publickey") == 0 &&
	    buf_get_bool(c, &hassig) == 0 && hassig)
		r = fsshd_monitor_ask_signed(s->mon_fd, payload);
	free(method);
	buf_free(c);
	return r;
}

static int
fsshd_transport_event(struct fsshd_session *s, struct transport_event *ev)
{
	struct conn_event cev;
	int r;

	if (ev->type == TRANSPORT_EV_DISCONNECT) {
		log_info("Received disconnect from %s: %u: %s", s->peer,
		    ev->reason, ev->description);
		s->done = 1;
		return 0;
	}
	if (ev->type != TRANSPORT_EV_PACKET)
		return 0;
	if (s->conn == NULL) {
		if (ev->msg == AUTH_MSG_REQUEST &&
		    (r = fsshd_signed_to_monitor(s, ev->payload)) < 0)
			return r;
		r = auth_server_input(s->auth, ev->msg, ev->payload);
		if (r < 0)
			return r;
		if (r != AUTH_SUCCESS)
			return 0;
		/* The monitor logs the "Accepted" line, with the key. */
		/* Hand over: nothing more is read here. */
		s->authed = 1;
		return 0;
	}
	if ((r = conn_input(s->conn, ev->msg, ev->payload, &cev)) != 0)
		return r;
	fsshd_alive_heard(&s->alive, cev.type == CONN_EV_GLOBAL_REPLY);
	return fsshd_conn_event(s, &cev);
}

static void
fsshd_flush(struct fsshd_session *s)
{
	struct buf *out = transport_output(s->t);
	unsigned int ev;
	ssize_t n;

	while (buf_len(out) > 0) {
		n = write(s->out_fd, buf_ptr(out), buf_len(out));
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				s->done = s->failed = 1;
			break;
		}
		if (buf_consume(out, (size_t)n) != 0)
			s->failed = 1;
	}
	ev = buf_len(out) > 0 ? EVLOOP_WRITE : 0;
	if (s->in_fd == s->out_fd)
		ev |= EVLOOP_READ;
	if (evloop_set_events(s->loop, s->out_fd, ev) != 0)
		s->failed = 1;
}

/* Move data between the channels and their services. */
static void
fsshd_service(struct fsshd_session *s)
{
	size_t i;

	for (i = 0; s->conn != NULL && i < FSSHD_MAX_CHANS; i++) {
		struct fsshd_chan *c = s->chans[i];

		if (c == NULL || c->closing)
			continue;
		if (c->kind == FSSHD_SFTP && fsshd_sftp_service(c) != 0)
			fsshd_chan_finish(c);
		else if (c->kind == FSSHD_EXEC) {
			fsshd_exec_service(c);
			if (c->fd_in >= 0 && evloop_set_events(s->loop, c->fd_in,
			    buf_len(c->in) > 0 ? EVLOOP_WRITE : 0) != 0)
				s->failed = 1;
		}
	}
}

static void
fsshd_pump(struct fsshd_session *s)
{
	struct transport_event ev;
	int r = 0;

	while (!s->done && !s->authed && (r = transport_poll(s->t, &ev)) == 0 &&
	    ev.type != TRANSPORT_EV_NONE) {
		if ((r = fsshd_transport_event(s, &ev)) != 0) {
			log_info("Disconnecting %s: %s", s->peer, err_str(r));
			if (transport_disconnect(s->t,
			    TRANSPORT_DISC_PROTOCOL_ERROR, err_str(r)) != 0)
				log_debug("already disconnected");
			s->done = 1;
		}
	}
	if (!s->done && r != 0) {
		log_info("Connection from %s: %s", s->peer, transport_error(s->t));
		s->done = s->failed = 1;
	}
	/*
	 * Serve the channels and write out; when everything was written,
	 * writers that stopped at the output's high-water mark (not at the
	 * peer's window, which CONN_EV_WINDOW reopens) go on.
	 */
	do {
		fsshd_service(s);
		fsshd_flush(s);
	} while (!s->done && !s->failed && s->conn != NULL &&
	    buf_len(transport_output(s->t)) == 0 &&
	    fsshd_resume_children(s) == 0 && fsshd_sftp_blocked(s));
	if (s->done || s->failed || s->authed)
		evloop_stop(s->loop);
}

static void
fsshd_readable(struct evloop *loop, int fd, unsigned int events, void *ctx)
{
	struct fsshd_session *s = ctx;
	struct transport_fd_read rd = { s->in_fd, 0, 0 };

	(void)loop;
	if (events & EVLOOP_READ) {
		if (transport_input_fill(s->t, FSSHD_NET_READ,
		    transport_fill_fd, &rd) != 0)
			s->done = s->failed = 1;
		else if (rd.n == 0 || (rd.n < 0 && rd.err != EAGAIN &&
		    rd.err != EINTR)) {
			log_info("Connection closed by %s", s->peer);
			s->done = 1;
		}
	}
	(void)fd;
	fsshd_pump(s);
}

/* ClientAliveInterval: ask a quiet client whether it is still there. */
static void
fsshd_alive(struct evloop *loop, void *ctx)
{
	struct fsshd_session *s = ctx;

	(void)loop;
	switch (s->conn != NULL ? fsshd_alive_tick(&s->alive) :
	    FSSHD_ALIVE_QUIET) {
	case FSSHD_ALIVE_SEND:
		if (conn_global_request(s->conn, "keepalive@openssh.com", 1) != 0)
			s->failed = 1;
		break;
	case FSSHD_ALIVE_DEAD:
		log_info("Timeout, client not responding from %s", s->peer);
		if (transport_disconnect(s->t, TRANSPORT_DISC_BY_APPLICATION,
		    "Timeout, client not responding") != 0)
			log_debug("already disconnected");
		s->done = 1;
		break;
	default:
		break;
	}
	fsshd_pump(s);
}

/* Once a second: time-based rekeying (RekeyLimit's interval). */
static void
fsshd_tick(struct evloop *loop, void *ctx)
{
	struct fsshd_session *s = ctx;

	(void)loop;
	if (transport_tick(s->t, time(NULL)) != 0)
		s->failed = 1;
	fsshd_pump(s);
}

static void
fsshd_sigchld(struct evloop *loop, int signo, void *ctx)
{
	struct fsshd_session *s = ctx;
	struct fsshd_chan *c;
	pid_t pid;
	int status;

	(void)loop;
	(void)signo;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if ((c = fsshd_chan_by_pid(s, pid)) != NULL) {
			c->exited = 1;
			c->status = status;
		}
	fsshd_pump(s);
}

/* A Banner file's text, or NULL. */
static char *
fsshd_banner(const struct sshdconf *c)
{
	struct buf *b = NULL;
	char *text = NULL;

	if (c == NULL || c->banner == NULL || strcmp(c->banner, "none") == 0)
		return NULL;
	if (key_read_file(c->banner, 64 * 1024, &b) == 0)
		text = buf_dup_string(b);
	else
		log_error("Banner %s: %s", c->banner, strerror(errno));
	buf_free(b);
	return text;
}

/*
 * AuthenticationMethods as one string ("any" is the default: NULL),
 * allocated, without submethods ("keyboard-interactive:pam" is keyboard-
 * interactive: each method has one device here, and the monitor
 * matches them the same way).
 */
char *
fsshd_session_auth_methods(const struct sshdconf *c)
{
	struct buf *b;
	const char *p;
	char *s = NULL;
	size_t i, n;

	if (c == NULL || c->authentication_methods.n == 0 ||
	    (c->authentication_methods.n == 1 &&
	    strcmp(c->authentication_methods.v[0], "any") == 0) ||
	    (b = buf_new()) == NULL)
		return NULL;
	for (i = 0; i < c->authentication_methods.n; i++) {
		if (i > 0 && buf_put_u8(b, ' ') != 0)
			goto out;
		for (p = c->authentication_methods.v[i]; *p != '\0'; p += n) {
			if (*p == ':')
				n = strcspn(p, ",");
			else if ((n = strcspn(p, ":")) > 0 &&
			    buf_put(b, p, n) != 0)
				goto out;
		}
	}
	s = buf_dup_string(b);
 out:
	buf_free(b);
	return s;
}

/*
 * The transport settings of a connection: the host keys are public
 * halves, every signature comes from the monitor.
 */
static void
fsshd_session_tconfig(struct fsshd_session *s, struct transport_config *tc)
{
	const struct sshdconf *conf = s->o->conf;

	memset(tc, 0, sizeof(*tc));
	tc->server = 1;
	tc->hostkeys = s->pubkeys;
	tc->nhostkeys = s->npubkeys;
	tc->hostkey_sign = fsshd_monitor_sign;
	tc->hostkey_sign_ctx = &s->mon_fd;
	fsshd_hostcert_config(tc);	/* HostCertificate (fsshd-hostcert.c) */
	/* Delayed compression, as sshd's default (Compression yes). */
	tc->compression = "none,zlib@openssh.com";
	tc->moduli_text = s->o->moduli;	/* read at start (fsshd.c) */
	if (conf == NULL)
		return;
	tc->kex_algorithms = conf->kex_algorithms;
	tc->ciphers = conf->ciphers;
	tc->macs = conf->macs;
	tc->hostkey_algorithms = conf->hostkey_algorithms;
	tc->compression = conf->compression ? "none,zlib@openssh.com" : "none";
	tc->rekey_bytes = conf->rekey_limit > 0 ?
	    (uint64_t)conf->rekey_limit : 0;
	tc->rekey_seconds = conf->rekey_interval > 0 ?
	    (uint32_t)conf->rekey_interval : 0;
	tc->moduli_file = conf->moduli_file;
}

/* The event loop around s->t on fd: readable socket, SIGCHLD, ticks. */
static int
fsshd_session_loop(struct fsshd_session *s, const struct transport_config *tc,
    int in_fd, int out_fd, int children)
{
	int r;

	s->in_fd = in_fd;
	s->out_fd = out_fd;
	if ((r = evloop_new(&s->loop)) != 0 ||
	    (r = misc_set_nonblock(in_fd, 1)) != 0 ||
	    (r = misc_set_nonblock(out_fd, 1)) != 0 ||
	    (r = evloop_add_fd(s->loop, in_fd, EVLOOP_READ, fsshd_readable,
	    s)) != 0 ||
	    (out_fd != in_fd && (r = evloop_add_fd(s->loop, out_fd, 0,
	    fsshd_readable, s)) != 0) ||
	    (children && (r = evloop_add_signal(s->loop, SIGCHLD,
	    fsshd_sigchld, s)) != 0) ||
	    (tc->rekey_seconds != 0 && (r = evloop_add_timer(s->loop, 1000, 1,
	    fsshd_tick, s, NULL)) != 0))
		return r;
	return 0;
}

static int
fsshd_session_drive(struct fsshd_session *s)
{
	int r = 0;

	fsshd_pump(s);
	while (!s->done && !s->failed && !s->authed)
		if ((r = evloop_run(s->loop)) != 0)
			break;
	return r;
}

static void
fsshd_session_free(struct fsshd_session *s)
{
	size_t i;

	for (i = 0; i < FSSHD_MAX_CHANS; i++)
		if (s->chans[i] != NULL)
			fsshd_chan_free(s->chans[i]);
	conn_free(s->conn);
	auth_server_free(s->auth);
	transport_free(s->t);
	evloop_free(s->loop);
	for (i = 0; i < s->npubkeys; i++)
		key_free(s->pubkeys[i]);
	fsshd_session_authstate_clear(&s->as);
}

/* Write what the transport has queued, waiting for the socket. */
static int
fsshd_session_flush_all(struct fsshd_session *s)
{
	struct buf *out = transport_output(s->t);
	struct pollfd pfd;
	ssize_t n;

	while (buf_len(out) > 0) {
		n = write(s->out_fd, buf_ptr(out), buf_len(out));
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				return FERR_SYSTEM;
			pfd.fd = s->out_fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, -1) == -1 && errno != EINTR)
				return FERR_SYSTEM;
			continue;
		}
		if (buf_consume(out, (size_t)n) != 0)
			return FERR_INTERNAL;
	}
	return 0;
}

void
fsshd_session_preauth(const struct fsshd_opts *o, int in_fd, int out_fd,
    int mon_fd, const char *peer)
{
	const struct sshdconf *conf = o->conf;
	struct fsshd_session s;
	struct transport_config tc;
	struct auth_server_config ac;
	struct buf *state = NULL;
	char *banner = NULL, *methods = NULL, why[256];
	int keep[3] = { in_fd, out_fd, mon_fd }, r;

	fsshd_monitor_log_to(mon_fd);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	memset(&s, 0, sizeof(s));
	s.o = o;
	s.peer = peer;
	s.mon_fd = mon_fd;
	memset(&ac, 0, sizeof(ac));
	ac.pubkey_allowed = fsshd_pubkey_allowed;
	ac.ctx = &s;
	if (conf != NULL) {
		ac.pubkey_algs = conf->pubkey_accepted_algorithms;
		ac.max_tries = conf->max_auth_tries > 0 ?
		    (unsigned int)conf->max_auth_tries : 0;
		/*
		 * Every method has its callback: which are offered, in
		 * which lists, is decided per user (Match applied) on the
		 * first request (fsshd_user_first).
		 */
		ac.password = fsshd_password_check;
		ac.kbdint = fsshd_kbdint_policy;
		ac.cert_allowed = fsshd_cert_allowed;
		ac.user_first = fsshd_user_first;
		ac.banner = banner = fsshd_banner(conf);
		ac.methods = methods = fsshd_session_auth_methods(conf);
	}
	if ((r = fsshd_monitor_get_hostkeys(mon_fd, s.pubkeys,
	    &s.npubkeys)) != 0) {
		log_error("host keys from the monitor: %s", err_str(r));
		goto out;
	}
	/* Certificates are public: paired with the keys' public halves. */
	if (o->conf != NULL &&
	    fsshd_hostcert_load(o->conf, s.pubkeys, s.npubkeys) != 0) {
		r = FERR_CONFIG;
		goto out;
	}
	fsshd_session_tconfig(&s, &tc);
	/*
	 * No rekey of ours before authentication (as sshd): OpenSSH's ssh
	 * takes a KEXINIT during user authentication for an error, and a
	 * key exchange in flight cannot be handed over.  The limits apply
	 * from the post-auth process on, with the byte counts and the time
	 * of the last exchange carried over.  A peer's KEXINIT is answered
	 * as ever; it cannot be in flight at success, as the peer sends no
	 * USERAUTH_REQUEST between its KEXINIT and its NEWKEYS.
	 */
	tc.rekey_bytes = 0;
	tc.rekey_seconds = 0;
	if ((r = fsshd_session_loop(&s, &tc, in_fd, out_fd, 0)) != 0 ||
	    (r = transport_new(&tc, &s.t)) != 0 ||
	    (r = auth_server_new(s.t, &ac, &s.auth)) != 0) {
		if (r == FERR_CONFIG)
			log_error("bad algorithm list in the configuration");
		goto out;
	}
	/* From here on network data is parsed: confined. */
	if (fsshd_sandbox_enter(&o->sandbox, keep, 3, why, sizeof(why)) != 0) {
		log_error("pre-auth sandbox for %s: %s", peer, why);
		r = FERR_SYSTEM;
		goto out;
	}
	if ((r = fsshd_session_drive(&s)) != 0 || !s.authed) {
		fsshd_flush(&s);
		goto out;
	}
	if ((state = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	buf_set_secret(state);
	if ((r = fsshd_session_flush_all(&s)) != 0 ||
	    (r = transport_export(s.t, state)) != 0 ||
	    (r = fsshd_monitor_auth_done(mon_fd, auth_server_user(s.auth),
	    auth_server_methods_done(s.auth), state)) != 0)
		log_error("handing over the connection of %s: %s", peer,
		    err_str(r));
 out:
	buf_free(state);
	fsshd_session_free(&s);
	free(banner);
	free(methods);
	/* No atexit handlers here: the sandbox allows nothing more. */
	_exit(r == 0 && s.authed ? 0 : 1);
}

int
fsshd_session_postauth(const struct fsshd_opts *o, struct fsshd_authstate *as,
    struct buf *state, int in_fd, int out_fd, int mon_fd)
{
	struct fsshd_session s;
	struct transport_config tc;
	struct conn_config cc;
	int r;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.peer = as->peer;
	s.mon_fd = mon_fd;
	/* The monitor's decision is this session's: take it over. */
	s.as = *as;
	memset(as, 0, sizeof(*as));
	s.as.o = o;
	if ((r = fsshd_monitor_get_hostkeys(mon_fd, s.pubkeys,
	    &s.npubkeys)) != 0) {
		log_error("host keys from the monitor: %s", err_str(r));
		goto out;
	}
	fsshd_session_tconfig(&s, &tc);
	memset(&cc, 0, sizeof(cc));
	cc.server = 1;
	cc.manual_window = 1;
	if (s.as.eff != NULL && s.as.eff->max_sessions > 0)
		cc.max_channels = (unsigned int)s.as.eff->max_sessions;
	r = transport_import(&tc, buf_ptr(state), buf_len(state), &s.t);
	/* The blob holds the session keys: gone once imported. */
	explicit_bzero(buf_mutable_ptr(state), buf_len(state));
	buf_reset(state);
	if (r != 0 ||
	    (r = fsshd_session_loop(&s, &tc, in_fd, out_fd, 1)) != 0 ||
	    (r = conn_new(s.t, &cc, &s.conn)) != 0) {
		log_error("continuing the connection of %s: %s", s.peer,
		    err_str(r));
		goto out;
	}
	if (s.as.eff != NULL && s.as.eff->client_alive_count_max > 0)
		s.alive.count_max =
		    (unsigned int)s.as.eff->client_alive_count_max;
	if (s.as.eff != NULL && s.as.eff->client_alive_interval > 0 &&
	    (r = evloop_add_timer(s.loop,
	    (uint64_t)s.as.eff->client_alive_interval * 1000, 1,
	    fsshd_alive, &s, NULL)) != 0)
		goto out;
	r = fsshd_session_drive(&s);
	fsshd_flush(&s);
 out:
	fsshd_session_free(&s);
	return r != 0 ? r : (s.failed ? FERR_CONN_CLOSED : 0);
}
