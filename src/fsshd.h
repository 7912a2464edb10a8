/*
 * fsshd internals shared by the program (fsshd.c: options, host keys,
 * listeners), one connection's session (fsshd-session.c) and the account
 * policy of configuration mode (fsshd-policy.c).
 */
#ifndef FERRY_FSSHD_H
#define FERRY_FSSHD_H

#include <sys/types.h>

struct authkeys_decision;
struct key;
struct sftp_server_opts;
struct sshdconf;
struct sshdconf_conn;

#define FSSHD_MAX_HOSTKEYS	16

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
	unsigned int grace;		/* seconds to authenticate; 0: none */
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
 * Serve one connection arriving on in_fd and leaving on out_fd (the same
 * socket, or stdin/stdout with -i) until it ends.  peer names the client
 * in log lines ("127.0.0.1 port 40000"), addr is its numeric address,
 * laddr and lport the local end (for Match and from=).  Returns 0 when
 * the connection ended normally.
 */
int fsshd_session_run(const struct fsshd_opts *o, int in_fd, int out_fd,
    const char *peer, const char *addr, const char *laddr, int lport);

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
/* Options of an "internal-sftp [flags]" command line (sftp-server's). */
int fsshd_internal_sftp_opts(const char *cmdline, struct sftp_server_opts *so,
    mode_t *umaskp);

#endif /* FERRY_FSSHD_H */
