/*
 * Server configuration in OpenSSH's sshd_config(5) format.
 *
 * sshdconf_load() reads a file (with Include and -o style overrides),
 * checks every line, logs each problem with its file and line as sshd
 * does ("Bad configuration option", "Directive ... is not allowed within
 * a Match block") and returns FERR_CONFIG when there was any: the `-t`
 * check.  The result holds the global settings, first value wins, with
 * defaults filled in.  sshdconf_match() applies the Match blocks for
 * one connection and gives the effective settings; sshdconf_dump()
 * prints them as `sshd -T` does.
 *
 * The structure is public so that the server reads settings directly.
 * Unset numbers are SSHDCONF_UNSET and unset strings NULL only inside
 * the parser; every value returned by this API has defaults applied.
 */
#ifndef FERRY_SSHDCONF_H
#define FERRY_SSHDCONF_H

#include <stddef.h>

struct buf;

#define SSHDCONF_UNSET		(-2147483647 - 1)
#define SSHDCONF_MAX_PORTS	256
#define SSHDCONF_MAX_LIST	256	/* AllowUsers, HostKey ... entries */

/* PermitRootLogin */
#define SSHDCONF_ROOT_NO		0
#define SSHDCONF_ROOT_FORCED_ONLY	1
#define SSHDCONF_ROOT_NO_PASSWORD	2	/* prohibit-password */
#define SSHDCONF_ROOT_YES		3

/* A list of strings: v[0..n-1], v[n] == NULL when n > 0. */
struct sshdconf_list {
	char	**v;
	size_t	  n;
};

/* PerSourcePenalties (OpenSSH 9.8); times in seconds. */
struct sshdconf_penalties {
	int	enabled;
	int	crash, authfail, noauth, grace_exceeded, max, min;
	int	max_sources4, max_sources6;
	int	overflow_deny_all, overflow6_deny_all;
};

struct sshdconf {
	int	 ports[SSHDCONF_MAX_PORTS];
	size_t	 nports;
	struct sshdconf_list listen_addresses;	/* as written */
	int	 address_family;		/* AF_UNSPEC/AF_INET/AF_INET6 */
	struct sshdconf_list host_keys;
	struct sshdconf_list host_certificates;
	struct sshdconf_list authorized_keys_files;	/* %h %u %% raw */
	char	*authorized_principals_file;	/* "none" when unset */
	char	*trusted_user_ca_keys;		/* "none" when unset */
	int	 pubkey_authentication;
	int	 password_authentication;
	int	 kbd_interactive_authentication;
	int	 permit_root_login;		/* SSHDCONF_ROOT_* */
	int	 permit_empty_passwords;
	struct sshdconf_list authentication_methods;	/* "any" default */
	struct sshdconf_list allow_users, deny_users;
	struct sshdconf_list allow_groups, deny_groups;
	char	*chroot_directory;		/* "none" when unset */
	char	*force_command;			/* "none" when unset */
	/* Subsystem i: name subsystem_names.v[i], command line .v[i]. */
	struct sshdconf_list subsystem_names;
	struct sshdconf_list subsystem_commands;
	struct sshdconf_list accept_env;
	char	*permit_user_environment;	/* "no", "yes" or patterns */
	struct sshdconf_list set_env;
	int	 disable_forwarding;
	char	*moduli_file;
	int	 max_startups_begin, max_startups_rate, max_startups;
	int	 max_sessions;
	int	 max_auth_tries;
	int	 login_grace_time;
	int	 client_alive_interval;
	int	 client_alive_count_max;
	char	*banner;			/* "none" when unset */
	int	 log_level;			/* enum log_level */
	int	 syslog_facility;		/* LOG_AUTH ... (syslog.h) */
	char	*kex_algorithms;
	char	*ciphers;
	char	*macs;
	char	*hostkey_algorithms;
	char	*pubkey_accepted_algorithms;
	int	 compression;
	long long rekey_limit;
	int	 rekey_interval;
	char	*pid_file;
	int	 strict_modes;
	int	 use_pam;
	struct sshdconf_penalties penalties;
	char	*penalty_exempt_list;		/* "none" when unset */
	int	 penalty_netblock4;		/* PerSourceNetBlockSize */
	int	 penalty_netblock6;
	/* Internal: the lines of Match blocks, for sshdconf_match(). */
	struct sshdconf_block *blocks_;
};

/* What a connection offers to Match (sshd -C). */
struct sshdconf_conn {
	char			*user;
	struct sshdconf_list	 groups;	/* the user's groups */
	char			*host;
	char			*address;
	char			*laddress;
	int			 lport;		/* -1: unknown */
};

/*
 * Read path (and the Includes it names; relative ones from the file's
 * system directory /etc/ssh), after the overrides opts[0..nopts-1]
 * ("Keyword value", applied first so that they win).  Every error is
 * logged with its file and line; *cp is set only on success.
 * Returns 0, FERR_CONFIG, or FERR_SYSTEM when path cannot be read.
 */
int sshdconf_load(const char *path, const char *const *opts, size_t nopts,
    struct sshdconf **cp);

/* The same from text in memory named name (no relative Include). */
int sshdconf_load_string(const char *text, size_t len, const char *name,
    const char *const *opts, size_t nopts, struct sshdconf **cp);

/*
 * The effective settings for a connection: the global ones with the
 * applying Match blocks' values on top (first value wins among them).
 * *effp is a new configuration for the caller to free.
 */
int sshdconf_match(const struct sshdconf *c, const struct sshdconf_conn *conn,
    struct sshdconf **effp);

/*
 * Parse an `sshd -C` spec "user=U,host=H,addr=A,laddr=L,lport=P";
 * groups are those of U in the group database (none for an unknown
 * user).  FERR_CONFIG for an unknown or malformed field.
 */
int sshdconf_conn_parse(const char *spec, struct sshdconf_conn *conn);
/* Free the strings of conn and reset it (lport -1). */
void sshdconf_conn_clear(struct sshdconf_conn *conn);

/*
 * Expand the tokens of AuthorizedKeysFile, AuthorizedPrincipalsFile and
 * ChrootDirectory: %h home, %u user, %% a percent sign.  *outp is
 * allocated; FERR_CONFIG for any other token.
 */
int sshdconf_expand(const char *s, const char *home, const char *user,
    char **outp);

/* Append the settings to out as `sshd -T` prints them. */
int sshdconf_dump(const struct sshdconf *c, struct buf *out);

/* Free a configuration from sshdconf_load() or sshdconf_match(). */
void sshdconf_free(struct sshdconf *c);

#endif /* FERRY_SSHDCONF_H */
