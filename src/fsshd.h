/*
 * fsshd internals shared by the program (fsshd.c: options, host keys,
 * the listener), the connection's monitor and its privilege separation
 * (fsshd-monitor.c), the pre-auth sandbox (fsshd-sandbox.c), the
 * listener's limits (fsshd-limits.c), the protocol of a connection
 * before and after authentication (fsshd-session.c) and the account
 * policy of configuration mode (fsshd-policy.c).
 */
#ifndef FERRY_FSSHD_H
#define FERRY_FSSHD_H

#include <sys/types.h>

#include "ferry/authkeys.h"

struct auth_kbdint;
struct auth_server_user;
struct buf;
struct key;
struct key_cert;
struct sockaddr_storage;
struct transport;
struct sftp_server_opts;
struct sshdconf;
struct sshdconf_conn;

#define FSSHD_MAX_HOSTKEYS	16
/* The empty root-owned directory the pre-auth process is chrooted to. */
#define FSSHD_EMPTY_DIR		"/run/fsshd/empty"

/*
 * Exit statuses of a per-connection process that the listener turns
 * into PerSourcePenalties (0 and 1 are a normal end and an error).
 */
#define FSSHD_EXIT_AUTHFAIL	3	/* tried to authenticate, failed */
#define FSSHD_EXIT_NOAUTH	4	/* left without trying */
#define FSSHD_EXIT_GRACE	5	/* LoginGraceTime ran out */
#define FSSHD_EXIT_CRASH	6	/* the pre-auth process crashed */

/* How the pre-auth process is confined (fsshd-sandbox.c). */
struct fsshd_sandbox {
	int drop;			/* chroot and change uid (root only) */
	uid_t uid;
	gid_t gid;
	const char *empty_dir;
};

/* What a session needs to know; built once by main, read-only after. */
struct fsshd_opts {
	/*
	 * Configuration mode (-f): the loaded sshd_config, applied with
	 * Match for each connection.  NULL: the embedded default, which
	 * serves the account below alone.
	 */
	const struct sshdconf *conf;
	const char *user;		/* embedded default: the one account */
	uid_t uid;
	gid_t gid;
	const char *home;
	const char *shell;
	const char *authorized_keys;	/* embedded default's file */
	struct key *hostkeys[FSSHD_MAX_HOSTKEYS];
	size_t nhostkeys;
	/*
	 * The host key files: the per-connection monitor loads the keys
	 * only after it has started the pre-auth process, so that no
	 * private key was ever in that process's memory.
	 */
	const char *hostkey_paths[FSSHD_MAX_HOSTKEYS];
	size_t nhostkey_paths;
	unsigned int grace;		/* seconds to authenticate; 0: none */
	struct fsshd_sandbox sandbox;
	int startup_fd;			/* closed once authenticated; or -1 */
	/*
	 * The moduli file (ModuliFile), read at start: the pre-auth
	 * process is chrooted, and so may a session be, yet both choose
	 * groups for diffie-hellman-group-exchange.  NULL: unreadable.
	 */
	struct buf *moduli;
};

/* The account a session serves (copied from the password database). */
struct fsshd_account {
	char *name;
	uid_t uid;
	gid_t gid;
	char *home;
	char *shell;
	char *passwd;			/* pw_passwd, for accounts not in shadow */
	int chrooted;
};

/*
 * What authentication decides about one connection: the account asked
 * about last, and in configuration mode the settings in effect for it
 * (Match applied); after success the account served and the
 * authorized_keys options of the key that signed.  It lives in the
 * monitor, which decides; the pre-auth process only asks.
 */
struct fsshd_authstate {
	const struct fsshd_opts *o;
	const char *peer;		/* "addr port N", for log lines */
	const char *addr;		/* numeric client address */
	const char *laddr;		/* local address and port */
	int lport;
	struct fsshd_account acct;
	int acct_ok;			/* acct may log in (cached) */
	struct sshdconf *eff;
	struct authkeys_decision keyopts;
	char keyfp[160];		/* the key last allowed, for the log */
};

/*
 * Authentication decisions (fsshd-session.c), each a call into the
 * policy (fsshd-policy.c) for configuration mode: 1 allow, 0 refuse.
 * fsshd_session_user_ok: the account exists and may log in;
 * fsshd_session_pubkey_ok: key is authorized for user (its options kept
 * in as->keyopts); fsshd_session_password_ok: password is user's.  The
 * monitor calls them; the pre-auth process asks the monitor.
 */
int fsshd_session_user_ok(struct fsshd_authstate *as, const char *user);
int fsshd_session_pubkey_ok(struct fsshd_authstate *as, const char *user,
    const struct key *key);
int fsshd_session_password_ok(struct fsshd_authstate *as, const char *user,
    const char *password);
/*
 * A user certificate (its structure and CA signature verified) for
 * user: fsshd_policy_cert decides; options kept in as->keyopts.
 */
int fsshd_session_cert_ok(struct fsshd_authstate *as, const char *user,
    const struct key_cert *cert);
/*
 * The settings that decide how user authenticates (configuration mode):
 * the account's effective ones (Match applied, in as->eff) when it
 * exists, else those Match gives the name alone (in a new *tmpp, for
 * the caller to free), else the global ones; NULL in the embedded
 * default.  Whether the account exists does not change the answer for
 * a name that no Match block names.
 */
const struct sshdconf *fsshd_session_auth_conf(struct fsshd_authstate *as,
    const char *user, struct sshdconf **tmpp);
/*
 * c's AuthenticationMethods as one allocated string of space-separated
 * lists without submethods, or NULL for "any" (and on allocation
 * failure, which the monitor's own checks turn into no login).
 */
char *fsshd_session_auth_methods(const struct sshdconf *c);
/* Release what as holds (not as itself). */
void fsshd_session_authstate_clear(struct fsshd_authstate *as);

/*
 * The pre-auth process (fsshd-session.c): speak the protocol on fd until
 * authentication succeeds, asking the monitor on mon_fd for every
 * decision and host key signature (fsshd-monitor.c).  Never returns: it
 * exits 0 after handing the transport to the monitor, else non-zero.
 */
void fsshd_session_preauth(const struct fsshd_opts *o, int in_fd,
    int out_fd, int mon_fd, const char *peer) __attribute__((noreturn));
/*
 * The post-auth process: with the identity of as->acct already taken,
 * continue the transport state (from the pre-auth process) on fd and
 * serve the session; host key signatures at rekeys from the monitor on
 * mon_fd.  Returns 0 when the connection ended normally.
 */
int fsshd_session_postauth(const struct fsshd_opts *o,
    struct fsshd_authstate *as, struct buf *state, int in_fd, int out_fd,
    int mon_fd);

/*
 * The monitor (fsshd-monitor.c): serve one connection arriving on in_fd
 * and leaving on out_fd (the same socket, or stdin and stdout with -i)
 * as the privileged half: start the sandboxed pre-auth process, answer
 * its requests, then run the post-auth process as the user.  peer names
 * the client in log lines ("127.0.0.1 port 40000"), addr is its numeric
 * address, laddr and lport the local end (for Match and from=).
 * Returns the exit status for the process (0, 1 or FSSHD_EXIT_*).
 */
int fsshd_monitor_run(struct fsshd_opts *o, int in_fd, int out_fd,
    const char *peer, const char *addr, const char *laddr, int lport);
/*
 * Requests of the pre-auth and post-auth processes to the monitor on
 * mon_fd: 1 allow / 0 refuse (or a negative code when the monitor is
 * gone).
 */
int fsshd_monitor_ask_pubkey(int mon_fd, const char *user,
    const struct key *key);
int fsshd_monitor_ask_signed(int mon_fd, const struct buf *request);
int fsshd_monitor_ask_password(int mon_fd, const char *user,
    const char *password);
int fsshd_monitor_ask_cert(int mon_fd, const char *user,
    const struct key_cert *cert);
/*
 * keyboard-interactive as an auth_kbdint_server_fn over the monitor: at
 * round 0 the monitor starts a conversation (fsshd_kbd_start), after
 * each INFO_RESPONSE it steps it; the prompts come back to conv.
 * Returns AUTH_KBDINT_* (FAILURE when the monitor is gone).
 */
int fsshd_monitor_kbdint(int mon_fd, struct auth_kbdint *conv,
    const char *user);
/*
 * MON_USER, on the first USERAUTH_REQUEST: the user's settings (Match
 * applied; see fsshd_session_auth_conf) into u, whose strings point to
 * *methodsp and *algsp (allocated, for the caller to free; u->methods
 * NULL for "any", u->pubkey_algs NULL for the default).  0 or a code.
 */
int fsshd_monitor_ask_user(int mon_fd, const char *user,
    struct auth_server_user *u, char **methodsp, char **algsp);
/* transport_sign_fn over the monitor; ctx is a pointer to the fd. */
int fsshd_monitor_sign(const struct key *hostkey, const char *sigalg,
    const uint8_t *data, size_t len, struct buf *sig, void *ctx);
/* Public host keys from the monitor (first message); 0 or a code. */
int fsshd_monitor_get_hostkeys(int mon_fd, struct key **keys, size_t *np);
/* Authentication done: hand the user, methods and transport state over. */
int fsshd_monitor_auth_done(int mon_fd, const char *user,
    const char *methods, const struct buf *state);
/*
 * The requests on the monitor's socketpair (fsshd-monitor.c): uint32
 * length, byte type, payload; replies carry the request's type.
 */
enum fsshd_mon_type {
	MON_HOSTKEYS = 1,	/* to the child: count, then key blobs */
	MON_LOG,		/* one way: uint32 level, string text */
	MON_PUBKEY,		/* string user, string key -> byte ok */
	MON_SIGNED,		/* string USERAUTH_REQUEST payload -> ok */
	MON_PASSWORD,		/* string user, string password -> ok */
	MON_SIGN,		/* string key, string alg, string data ->
				 * string signature (empty: refused) */
	MON_AUTHDONE,		/* string user, methods, state; no reply */
	MON_CERT,		/* string user, string cert blob -> ok */
	MON_KBD_START,		/* string user -> kbd answer (below) */
	MON_KBD_STEP,		/* uint32 n, n strings -> kbd answer:
				 * byte status (AUTH_KBDINT_*); PROMPT:
				 * string name, instruction, uint32 n,
				 * n x (string prompt, bool echo) */
	MON_USER,		/* string user, once (the user of the
				 * requests before, if any) -> byte enabled
				 * (AUTH_SERVER_*), uint32 MaxAuthTries (0:
				 * default), string AuthenticationMethods
				 * ("any"), string PubkeyAcceptedAlgorithms
				 * (empty: the default) */
};
/*
 * Fuzzing and unit tests (tests/fuzz/fuzz-fsshd-monitor.c,
 * tests/unit/test-fsshd-monitor.c): run the monitor's request handling
 * over data as a compromised pre-auth process might send it (frames of
 * byte type, string payload), with hostkey (not freed) as the host key.
 * Each answer is appended to replies (unless NULL) as byte type, string
 * reply.  Returns 0, or the code that would end the connection.
 */
int fsshd_monitor_fuzz(struct fsshd_opts *o, struct key *hostkey,
    const uint8_t *data, size_t len, struct buf *replies);
/* Send log lines to the monitor (the pre-auth process cannot log). */
void fsshd_monitor_log_to(int mon_fd);

/*
 * fsshd_sandbox_prepare: resolve the account (fsshd, else nobody, else
 * 65534, logged at INFO when verbose) and, with drop, make the empty
 * directory; 0 or -1 (logged).  fsshd_sandbox_enter: confine the calling
 * process (see fsshd-sandbox.c), closing every descriptor but the nkeep
 * in keep; 0, or -1 with why.
 */
int fsshd_sandbox_prepare(struct fsshd_sandbox *sb, int drop, int verbose);
int fsshd_sandbox_enter(const struct fsshd_sandbox *sb, const int *keep,
    size_t nkeep, char *why, size_t whylen);

/* The listener's limits (fsshd-limits.c). */
struct fsshd_limits;
int fsshd_limits_new(const struct sshdconf *conf, struct fsshd_limits **lp);
void fsshd_limits_free(struct fsshd_limits *l);
/*
 * 1 to serve a new connection from ss (addr in text) while startups
 * connections are unauthenticated, 0 to drop it (logged): MaxStartups,
 * an active penalty, or a full penalty table with overflow deny-all.
 */
int fsshd_limits_admit(struct fsshd_limits *l,
    const struct sockaddr_storage *ss, const char *addr,
    unsigned int startups, time_t now);
/* A per-connection process for ss ended with wstatus: penalise. */
void fsshd_limits_ended(struct fsshd_limits *l,
    const struct sockaddr_storage *ss, const char *addr, int wstatus,
    time_t now);

/* mkdir -p with mode 0755 (root-owned when run as root); 0 or -1. */
int fsshd_mkdirs_root(const char *path);

/*
 * Configuration mode policy (fsshd-policy.c).  fsshd_policy_account: 1 if
 * the account may log in under the effective settings eff (AllowUsers,
 * DenyUsers, AllowGroups, DenyGroups, PermitRootLogin), else 0 with why.
 */
int fsshd_policy_account(const struct sshdconf *eff,
    const struct sshdconf_conn *conn, uid_t uid, char *why, size_t whylen);
/* Search the account's AuthorizedKeysFile list for key (authkeys_check). */
int fsshd_policy_authkeys(const struct sshdconf *eff,
    const struct fsshd_account *a, const struct key *key, const char *addr,
    struct authkeys_decision *d);
/*
 * Whether the user certificate cert may log in to the account: signed
 * by a key of TrustedUserCAKeys with, under AuthorizedPrincipalsFile
 * (%h %u %%; "[options] principal" lines read as the user), one of its
 * principals listed there, else the user name among its principals;
 * valid now, from addr (source-address), no unknown critical option.
 * Otherwise the cert-authority lines of AuthorizedKeysFile decide
 * (authkeys_check_cert).  d->opts carries the certificate's
 * force-command.  0 with d->allowed (and d->reason when refused), or a
 * negative code.
 */
struct key_cert;
int fsshd_policy_cert(const struct sshdconf *eff,
    const struct fsshd_account *a, const struct key_cert *cert,
    const char *addr, struct authkeys_decision *d);
/*
 * StrictModes: 1 when path (if it exists) is a regular file owned by
 * root or uid and not writable by group or others, and so is each
 * directory above it up to home (or up to / outside home); else 0 with
 * why naming the culprit.
 */
int fsshd_policy_secure_path(const char *path, uid_t uid, const char *home,
    char *why, size_t whylen);
/* 1 when password is the account's (shadow, crypt(3)), else 0. */
int fsshd_policy_password(const struct sshdconf *eff,
    const struct fsshd_account *a, const char *password);
/*
 * Enter ChrootDirectory (checked as OpenSSH checks it) and take the
 * account's identity for good; 0, or -1 with why.
 */
int fsshd_become_user(const struct sshdconf *eff, struct fsshd_account *a,
    char *why, size_t whylen);
/*
 * Options of an "internal-sftp [flags]" command line (sftp-server's,
 * and -r root: a confinement root, unexpanded).  so->start_dir and
 * so->root are allocated: the caller frees them.
 */
int fsshd_internal_sftp_opts(const char *cmdline, struct sftp_server_opts *so,
    mode_t *umaskp);

#endif /* FERRY_FSSHD_H */
