/*
 * Client configuration in OpenSSH's ssh_config(5) format.
 *
 * Reading: sshconf_load() reads -F FILE, or ~/.ssh/config then
 * /etc/ssh/ssh_config, with Host and Match blocks, Include and the
 * second "final" pass that OpenSSH makes when a Match canonical/final
 * block is present.  The first value read for a keyword wins, except for
 * the accumulating ones (IdentityFile, CertificateFile, SendEnv ...).
 * Every problem is logged through log.h with the file and line; a
 * configuration with errors makes the reading function return
 * FERR_CONFIG after the whole file has been checked.
 *
 * The structure is public so that programs read the settings directly;
 * before sshconf_fill_defaults() unset numbers are SSHCONF_UNSET and
 * unset strings NULL, afterwards every field has its value.
 */
#ifndef FERRY_SSHCONF_H
#define FERRY_SSHCONF_H

#include <stddef.h>
#include <sys/types.h>

struct buf;

#define SSHCONF_UNSET		(-2147483647 - 1)

/* Limits as OpenSSH's. */
#define SSHCONF_MAX_IDENTITY_FILES	100
#define SSHCONF_MAX_CERT_FILES		100
#define SSHCONF_MAX_HOSTS_FILES		16

/* StrictHostKeyChecking */
#define SSHCONF_STRICT_NO	0
#define SSHCONF_STRICT_YES	1
#define SSHCONF_STRICT_NEW	2	/* accept-new */
#define SSHCONF_STRICT_ASK	3

/* PubkeyAuthentication */
#define SSHCONF_PUBKEY_NO	0
#define SSHCONF_PUBKEY_ALL	1
#define SSHCONF_PUBKEY_UNBOUND	2
#define SSHCONF_PUBKEY_HBOUND	3

/* A list of strings: v[0..n-1], v[n] == NULL when n > 0. */
struct sshconf_list {
	char	**v;
	size_t	  n;
};

struct sshconf {
	/* HostName (after sshconf_fill_defaults: %h expanded, or the host). */
	char	*hostname;
	char	*host_key_alias;
	int	 port;
	char	*user;
	struct sshconf_list identity_files;
	int	 identities_only;
	char	*identity_agent;
	struct sshconf_list certificate_files;
	int	 strict_host_key_checking;	/* SSHCONF_STRICT_* */
	struct sshconf_list user_known_hosts_files;
	struct sshconf_list global_known_hosts_files;
	int	 hash_known_hosts;
	/* Algorithm lists: the spec as written; after fill_defaults the list. */
	char	*kex_algorithms;
	char	*ciphers;
	char	*macs;
	char	*hostkey_algorithms;
	char	*pubkey_accepted_algorithms;
	int	 compression;
	int	 connect_timeout;		/* seconds; -1: none */
	int	 connection_attempts;
	int	 server_alive_interval;		/* seconds; 0: off */
	int	 server_alive_count_max;
	int	 batch_mode;
	int	 password_authentication;
	int	 kbd_interactive_authentication;
	int	 pubkey_authentication;		/* SSHCONF_PUBKEY_* */
	char	*preferred_authentications;
	char	*proxy_jump;			/* as written; "none" disables */
	char	*proxy_command;			/* raw; "none" disables */
	int	 log_level;			/* enum log_level */
	struct sshconf_list send_env;		/* patterns */
	struct sshconf_list set_env;		/* NAME=VALUE */
	long long rekey_limit;			/* bytes; 0: default */
	int	 rekey_interval;		/* seconds; 0: none */
	int	 add_keys_to_agent;		/* always 0 in Ferry */
	int	 address_family;		/* AF_UNSPEC, AF_INET, AF_INET6 */
	char	*bind_address;
	int	 number_of_password_prompts;
	char	*ignore_unknown;		/* IgnoreUnknown pattern list */
	/* Internal: HostName resolved for the final pass. */
	char	*hostname_expanded;
};

/* Who connects where: the inputs of Host/Match and of %-tokens. */
struct sshconf_env {
	const char	*host;		/* the host argument (%n, Host) */
	const char	*local_user;	/* login name (%u, Match localuser) */
	const char	*home;		/* home directory (~, %d) */
	uid_t		 uid;		/* %i, ownership check of user files */
	const char	*user_dir;	/* default "~/.ssh" (relative Include) */
	const char	*system_dir;	/* default "/etc/ssh" */
	const char	*user_config;	/* default "~/.ssh/config" */
	const char	*system_config;	/* default "/etc/ssh/ssh_config" */
	const char	*local_host;	/* %l; default gethostname() */
};

/* flags of sshconf_read_file() */
#define SSHCONF_USER		0x01	/* relative Include from user_dir */
#define SSHCONF_CHECKPERM	0x02	/* refuse files others may write */
#define SSHCONF_FINAL		0x04	/* the final pass (Match final) */

/* A new configuration with everything unset; NULL if out of memory. */
struct sshconf *sshconf_new(void);
void sshconf_free(struct sshconf *c);

/*
 * Fill env from the password database entry of the current user and
 * the host argument (borrowed, not copied).  0 or FERR_CONFIG when the
 * user is unknown.
 */
int sshconf_env_init(struct sshconf_env *env, const char *host);

/*
 * Apply one "Keyword value" line given on the command line (ssh -o):
 * Host, Match and Include are refused.  0 or FERR_CONFIG (logged).
 */
int sshconf_option(struct sshconf *c, const struct sshconf_env *env,
    const char *line);

/*
 * Read one configuration file (flags SSHCONF_*).  *want_final (may be
 * NULL) is set when a Match canonical/final criterion was seen.
 * Returns 0, FERR_CONFIG when any line was bad (all were logged), or
 * FERR_SYSTEM / FERR_PERMISSION when the file cannot be used.
 */
int sshconf_read_file(struct sshconf *c, const struct sshconf_env *env,
    const char *path, int flags, int *want_final);

/* Like sshconf_read_file() on text in memory, named name in messages. */
int sshconf_read_string(struct sshconf *c, const struct sshconf_env *env,
    const char *text, size_t len, const char *name, int flags,
    int *want_final);

/*
 * Read the configuration as ssh does: file (-F) if not NULL, else the
 * user's then the system file (a missing one is skipped), and the final
 * pass when one was asked for.  0 or an error as sshconf_read_file().
 */
int sshconf_load(struct sshconf *c, const struct sshconf_env *env,
    const char *file);

/*
 * Give every unset field its default (Port 22, User = login name,
 * default identity and known hosts files ...), expand HostName's %h,
 * expand ~ and tokens in UserKnownHostsFile and IdentityAgent, and turn
 * the algorithm specs into lists.  0 or FERR_CONFIG (logged).
 */
int sshconf_fill_defaults(struct sshconf *c, const struct sshconf_env *env);

/*
 * Expand ~ and the %-tokens of ssh_config(5) TOKENS for a path keyword
 * (IdentityFile, CertificateFile ...): %% %C %d %h %i %k %L %l %n %p %r
 * %u.  Call after sshconf_fill_defaults().  *outp is allocated.
 */
int sshconf_expand_path(const struct sshconf *c,
    const struct sshconf_env *env, const char *s, char **outp);

/* The same for ProxyCommand and ProxyJump: %% %h %n %p %r only. */
int sshconf_expand_proxy(const struct sshconf *c,
    const struct sshconf_env *env, const char *s, char **outp);

/*
 * Append the resolved configuration to out as `ssh -G` prints it
 * (lowercase keywords, OpenSSH's order and formats), for the keywords
 * Ferry supports.  Call after sshconf_fill_defaults().
 */
int sshconf_dump(const struct sshconf *c, const struct sshconf_env *env,
    struct buf *out);

#endif /* FERRY_SSHCONF_H */
