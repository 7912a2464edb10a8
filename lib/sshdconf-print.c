/*
 * sshd_config(5): construction, defaults, copies for Match, token
 * expansion and the `sshd -T` printer (OpenSSH's order and formats for
 * the keywords Ferry supports).
 */
#include "config.h"

#include <sys/types.h>

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "ferry/transport.h"
#include "config-util.h"
#include "confprint.h"
#include "sshdconf-int.h"

_Static_assert(SSHDCONF_UNSET == CONFPRINT_UNSET, "one unset number");

#define SSHDCONF_PIDFILE	"/run/fsshd.pid"

enum sshdconf_ftype { SF_INT, SF_STR, SF_LIST };

#define F(t, f)	{ t, offsetof(struct sshdconf, f) }
/* Every field but ports and penalties, for copies and Match merges. */
static const struct {
	enum sshdconf_ftype	type;
	size_t			off;
} sshdconf_fields[] = {
	F(SF_INT, address_family), F(SF_INT, pubkey_authentication),
	F(SF_INT, password_authentication),
	F(SF_INT, kbd_interactive_authentication),
	F(SF_INT, permit_root_login), F(SF_INT, permit_empty_passwords),
	F(SF_INT, disable_forwarding), F(SF_INT, max_startups_begin),
	F(SF_INT, max_startups_rate), F(SF_INT, max_startups),
	F(SF_INT, max_sessions), F(SF_INT, max_auth_tries),
	F(SF_INT, login_grace_time), F(SF_INT, client_alive_interval),
	F(SF_INT, client_alive_count_max), F(SF_INT, log_level),
	F(SF_INT, syslog_facility), F(SF_INT, compression),
	F(SF_INT, rekey_interval), F(SF_INT, strict_modes),
	F(SF_INT, use_pam), F(SF_INT, penalty_netblock4),
	F(SF_INT, penalty_netblock6),
	F(SF_STR, authorized_principals_file), F(SF_STR, trusted_user_ca_keys),
	F(SF_STR, chroot_directory), F(SF_STR, force_command),
	F(SF_STR, permit_user_environment), F(SF_STR, moduli_file),
	F(SF_STR, banner), F(SF_STR, kex_algorithms), F(SF_STR, ciphers),
	F(SF_STR, macs), F(SF_STR, hostkey_algorithms),
	F(SF_STR, pubkey_accepted_algorithms), F(SF_STR, pid_file),
	F(SF_STR, penalty_exempt_list),
	F(SF_LIST, listen_addresses), F(SF_LIST, host_keys),
	F(SF_LIST, host_certificates), F(SF_LIST, authorized_keys_files),
	F(SF_LIST, authentication_methods), F(SF_LIST, allow_users),
	F(SF_LIST, deny_users), F(SF_LIST, allow_groups),
	F(SF_LIST, deny_groups), F(SF_LIST, subsystem_names),
	F(SF_LIST, subsystem_commands), F(SF_LIST, accept_env),
	F(SF_LIST, set_env),
};
#undef F
#define SSHDCONF_NFIELDS (sizeof(sshdconf_fields) / sizeof(sshdconf_fields[0]))

#define FIELD(c, i)	((void *)((char *)(c) + sshdconf_fields[i].off))

struct sshdconf *
sshdconf_new_unset(void)
{
	struct sshdconf *c;
	size_t i;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	for (i = 0; i < SSHDCONF_NFIELDS; i++)
		if (sshdconf_fields[i].type == SF_INT)
			*(int *)FIELD(c, i) = SSHDCONF_UNSET;
	c->rekey_limit = -1;
	c->penalties.enabled = SSHDCONF_UNSET;
	return c;
}

void
sshdconf_free(struct sshdconf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < SSHDCONF_NFIELDS; i++) {
		if (sshdconf_fields[i].type == SF_STR)
			free(*(char **)FIELD(c, i));
		else if (sshdconf_fields[i].type == SF_LIST)
			config_strv_free((struct config_strv *)FIELD(c, i));
	}
	sshdconf_block_free(c->blocks_);
	free(c);
}

void
sshdconf_penalties_default(struct sshdconf_penalties *p)
{
	/* The defaults sshd_config(5) of OpenSSH 9.8 documents. */
	p->enabled = 1;
	p->crash = 90;
	p->authfail = 5;
	p->noauth = 1;
	p->grace_exceeded = 20;
	p->max = 600;
	p->min = 15;
	p->max_sources4 = 65536;
	p->max_sources6 = 65536;
	p->overflow_deny_all = 0;
	p->overflow6_deny_all = 0;
}

int
sshdconf_copy(const struct sshdconf *src, struct sshdconf **dstp)
{
	struct sshdconf *d;
	char **s;
	size_t i;
	int r = 0;

	*dstp = NULL;
	if ((d = malloc(sizeof(*d))) == NULL)
		return FERR_ALLOC;
	memcpy(d, src, sizeof(*d));
	d->blocks_ = NULL;
	/* First make every pointer field empty, so a failure frees only ours. */
	for (i = 0; i < SSHDCONF_NFIELDS; i++) {
		if (sshdconf_fields[i].type == SF_STR)
			*(char **)FIELD(d, i) = NULL;
		else if (sshdconf_fields[i].type == SF_LIST) {
			((struct config_strv *)FIELD(d, i))->v = NULL;
			((struct config_strv *)FIELD(d, i))->n = 0;
		}
	}
	for (i = 0; i < SSHDCONF_NFIELDS && r == 0; i++) {
		if (sshdconf_fields[i].type == SF_STR) {
			s = (char **)FIELD(src, i);
			if (*s != NULL &&
			    (*(char **)FIELD(d, i) = strdup(*s)) == NULL)
				r = FERR_ALLOC;
		} else if (sshdconf_fields[i].type == SF_LIST)
			r = config_strv_copy(FIELD(d, i), FIELD(src, i));
	}
	if (r != 0) {
		sshdconf_free(d);
		return r;
	}
	*dstp = d;
	return 0;
}

/*
 * A Subsystem of a Match block replaces the global one of that name and
 * adds the others, as OpenSSH (9.5 and later) merges them.
 */
static int
sshdconf_merge_subsystems(struct sshdconf *dst, const struct sshdconf *o)
{
	size_t i, j;
	char *cmd;
	int r;

	for (i = 0; i < o->subsystem_names.n; i++) {
		for (j = 0; j < dst->subsystem_names.n; j++)
			if (strcmp(dst->subsystem_names.v[j],
			    o->subsystem_names.v[i]) == 0)
				break;
		if (j < dst->subsystem_names.n) {
			if ((cmd = strdup(o->subsystem_commands.v[i])) == NULL)
				return FERR_ALLOC;
			free(dst->subsystem_commands.v[j]);
			dst->subsystem_commands.v[j] = cmd;
			continue;
		}
		if ((r = config_strv_add(sshdconf_strv(&dst->subsystem_names),
		    o->subsystem_names.v[i], SIZE_MAX)) != 0)
			return r;
		if ((r = config_strv_add(sshdconf_strv(
		    &dst->subsystem_commands), o->subsystem_commands.v[i],
		    SIZE_MAX)) != 0) {
			/* Keep both lists the same length. */
			free(dst->subsystem_names.v[--dst->subsystem_names.n]);
			dst->subsystem_names.v[dst->subsystem_names.n] = NULL;
			return r;
		}
	}
	return 0;
}

int
sshdconf_merge(struct sshdconf *dst, struct sshdconf *o)
{
	char **ds, **os;
	size_t i;
	int r;

	for (i = 0; i < SSHDCONF_NFIELDS; i++) {
		switch (sshdconf_fields[i].type) {
		case SF_INT:
			if (*(int *)FIELD(o, i) != SSHDCONF_UNSET)
				*(int *)FIELD(dst, i) = *(int *)FIELD(o, i);
			break;
		case SF_STR:
			ds = FIELD(dst, i);
			os = FIELD(o, i);
			if (*os != NULL) {
				free(*ds);
				*ds = *os;
				*os = NULL;
			}
			break;
		case SF_LIST:
			if (sshdconf_fields[i].off ==
			    offsetof(struct sshdconf, subsystem_names) ||
			    sshdconf_fields[i].off ==
			    offsetof(struct sshdconf, subsystem_commands))
				break;	/* merged by name below */
			if (((struct config_strv *)FIELD(o, i))->n > 0 &&
			    (r = config_strv_copy(FIELD(dst, i),
			    FIELD(o, i))) != 0)
				return r;
			break;
		default:
			return FERR_INTERNAL;
		}
	}
	if (o->rekey_limit != -1)
		dst->rekey_limit = o->rekey_limit;
	return sshdconf_merge_subsystems(dst, o);
}

static int
sshdconf_def_str(char **p, const char *v)
{
	if (*p != NULL)
		return 0;
	return (*p = strdup(v)) == NULL ? FERR_ALLOC : 0;
}

int
sshdconf_fill_defaults(struct sshdconf *c)
{
	static const char *const hostkeys[] = {
		"/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_ecdsa_key",
		"/etc/ssh/ssh_host_ed25519_key", NULL
	};
	static const char *const akf[] = {
		".ssh/authorized_keys", ".ssh/authorized_keys2", NULL
	};
	static const char *const any[] = { "any", NULL };
	int r;

	if (c->nports == 0)
		c->ports[c->nports++] = 22;
	confprint_default_int(&c->address_family, AF_UNSPEC);
	confprint_default_int(&c->pubkey_authentication, 1);
	confprint_default_int(&c->password_authentication, 1);
	confprint_default_int(&c->kbd_interactive_authentication, 1);
	confprint_default_int(&c->permit_root_login, SSHDCONF_ROOT_NO_PASSWORD);
	confprint_default_int(&c->permit_empty_passwords, 0);
	confprint_default_int(&c->disable_forwarding, 0);
	confprint_default_int(&c->max_startups, 100);
	confprint_default_int(&c->max_startups_rate, 30);
	confprint_default_int(&c->max_startups_begin, 10);
	confprint_default_int(&c->max_sessions, 10);
	confprint_default_int(&c->max_auth_tries, 6);
	confprint_default_int(&c->login_grace_time, 120);
	confprint_default_int(&c->client_alive_interval, 0);
	confprint_default_int(&c->client_alive_count_max, 3);
	confprint_default_int(&c->log_level, LOGL_INFO);
	confprint_default_int(&c->syslog_facility, LOG_AUTH);
	confprint_default_int(&c->compression, 2);
	if (c->rekey_limit == -1)
		c->rekey_limit = 0;
	confprint_default_int(&c->rekey_interval, 0);
	confprint_default_int(&c->strict_modes, 1);
	confprint_default_int(&c->use_pam, 0);
	confprint_default_int(&c->penalty_netblock4, 32);
	confprint_default_int(&c->penalty_netblock6, 128);
	if (c->penalties.enabled == SSHDCONF_UNSET)
		sshdconf_penalties_default(&c->penalties);
	if ((r = sshdconf_def_str(&c->authorized_principals_file,
	    "none")) != 0 ||
	    (r = sshdconf_def_str(&c->trusted_user_ca_keys, "none")) != 0 ||
	    (r = sshdconf_def_str(&c->chroot_directory, "none")) != 0 ||
	    (r = sshdconf_def_str(&c->force_command, "none")) != 0 ||
	    (r = sshdconf_def_str(&c->permit_user_environment, "no")) != 0 ||
	    (r = sshdconf_def_str(&c->moduli_file, "/etc/ssh/moduli")) != 0 ||
	    (r = sshdconf_def_str(&c->banner, "none")) != 0 ||
	    (r = sshdconf_def_str(&c->pid_file, SSHDCONF_PIDFILE)) != 0 ||
	    (r = sshdconf_def_str(&c->penalty_exempt_list, "none")) != 0 ||
	    (r = confprint_default_list(sshdconf_strv(&c->host_keys),
	    hostkeys)) != 0 ||
	    (r = confprint_default_list(
	    sshdconf_strv(&c->authorized_keys_files), akf)) != 0 ||
	    (r = confprint_default_list(
	    sshdconf_strv(&c->authentication_methods), any)) != 0)
		return r;
	/* A server's defaults (stricter than a client's). */
	if ((r = confprint_default_algs(&c->kex_algorithms, "kex", 1,
	    NULL)) != 0 ||
	    (r = confprint_default_algs(&c->ciphers, "cipher", 1, NULL)) != 0 ||
	    (r = confprint_default_algs(&c->macs, "mac", 1, NULL)) != 0 ||
	    (r = confprint_default_algs(&c->hostkey_algorithms, "key", 1,
	    NULL)) != 0 ||
	    (r = confprint_default_algs(&c->pubkey_accepted_algorithms, "key",
	    1, NULL)) != 0)
		return r;
	return 0;
}

int
sshdconf_expand(const char *s, const char *home, const char *user,
    char **outp)
{
	struct config_token t[] = { { 'h', home }, { 'u', user } };

	return config_expand(s, t, 2, outp);
}

static int
sshdconf_put_listen(struct buf *b, const char *host, int port)
{
	if (strchr(host, ':') != NULL)
		return buf_putf(b, "listenaddress [%s]:%d\n", host, port);
	return buf_putf(b, "listenaddress %s:%d\n", host, port);
}

static int
sshdconf_dump_listen(const struct sshdconf *c, struct buf *b)
{
	char host[256];
	size_t i, j;
	int port, r = 0;

	if (c->listen_addresses.n == 0) {
		for (j = 0; j < c->nports && r == 0; j++) {
			if (c->address_family != AF_INET)
				r = sshdconf_put_listen(b, "::", c->ports[j]);
			if (r == 0 && c->address_family != AF_INET6)
				r = sshdconf_put_listen(b, "0.0.0.0",
				    c->ports[j]);
		}
		return r;
	}
	for (i = 0; i < c->listen_addresses.n && r == 0; i++) {
		if (sshdconf_split_listen(c->listen_addresses.v[i], host,
		    sizeof(host), &port) != 0)
			return FERR_INTERNAL;
		if (port != -1) {
			r = sshdconf_put_listen(b, host, port);
			continue;
		}
		for (j = 0; j < c->nports && r == 0; j++)
			r = sshdconf_put_listen(b, host, c->ports[j]);
	}
	return r;
}

static int
sshdconf_dump_penalties(const struct sshdconf *c, struct buf *b)
{
	const struct sshdconf_penalties *p = &c->penalties;

	if (!p->enabled)
		return buf_putf(b, "persourcepenalties no\n");
	return buf_putf(b, "persourcepenalties crash:%d authfail:%d "
	    "noauth:%d grace-exceeded:%d max:%d min:%d max-sources4:%d "
	    "max-sources6:%d overflow:%s overflow6:%s\n", p->crash,
	    p->authfail, p->noauth, p->grace_exceeded, p->max, p->min,
	    p->max_sources4, p->max_sources6,
	    p->overflow_deny_all ? "deny-all" : "permissive",
	    p->overflow6_deny_all ? "deny-all" : "permissive");
}

int
sshdconf_dump(const struct sshdconf *c, struct buf *b)
{
	size_t i;
	int r = 0;

	for (i = 0; i < c->nports && r == 0; i++)
		r = buf_putf(b, "port %d\n", c->ports[i]);
	if (r != 0 ||
	    (r = buf_putf(b, "addressfamily %s\n", config_enum_name(
	    sshdconf_af_tab, c->address_family))) != 0 ||
	    (r = sshdconf_dump_listen(c, b)) != 0)
		return r;
	if ((r = buf_putf(b, "usepam %s\nlogingracetime %d\n"
	    "maxauthtries %d\nmaxsessions %d\nclientaliveinterval %d\n"
	    "clientalivecountmax %d\n", confprint_yn(c->use_pam),
	    c->login_grace_time, c->max_auth_tries, c->max_sessions,
	    c->client_alive_interval, c->client_alive_count_max)) != 0 ||
	    (r = buf_putf(b, "permitrootlogin %s\n", config_enum_name(
	    sshdconf_root_tab, c->permit_root_login))) != 0 ||
	    (r = buf_putf(b, "pubkeyauthentication %s\n"
	    "passwordauthentication %s\nkbdinteractiveauthentication %s\n"
	    "strictmodes %s\npermitemptypasswords %s\n",
	    confprint_yn(c->pubkey_authentication),
	    confprint_yn(c->password_authentication),
	    confprint_yn(c->kbd_interactive_authentication),
	    confprint_yn(c->strict_modes),
	    confprint_yn(c->permit_empty_passwords))) != 0 ||
	    (r = buf_putf(b, "compression %s\ndisableforwarding %s\n",
	    config_enum_name(sshdconf_compression_tab, c->compression),
	    confprint_yn(c->disable_forwarding))) != 0)
		return r;
	if ((r = buf_putf(b, "pidfile %s\nmodulifile %s\nciphers %s\n"
	    "macs %s\nbanner %s\nforcecommand %s\nchrootdirectory %s\n"
	    "trustedusercakeys %s\nauthorizedprincipalsfile %s\n",
	    c->pid_file, c->moduli_file, c->ciphers, c->macs, c->banner,
	    c->force_command, c->chroot_directory, c->trusted_user_ca_keys,
	    c->authorized_principals_file)) != 0 ||
	    (r = buf_putf(b, "kexalgorithms %s\nhostkeyalgorithms %s\n"
	    "pubkeyacceptedalgorithms %s\n", c->kex_algorithms,
	    c->hostkey_algorithms, c->pubkey_accepted_algorithms)) != 0 ||
	    (r = buf_putf(b, "loglevel %s\nsyslogfacility %s\n",
	    config_enum_name(sshdconf_loglevel_tab, c->log_level),
	    config_enum_name(sshdconf_facility_tab,
	    c->syslog_facility))) != 0)
		return r;
	if ((r = confprint_oneline(b, "authorizedkeysfile",
	    sshdconf_cstrv(&c->authorized_keys_files))) != 0 ||
	    (r = confprint_lines(b, "hostkey",
	    sshdconf_cstrv(&c->host_keys))) != 0 ||
	    (r = confprint_lines(b, "hostcertificate",
	    sshdconf_cstrv(&c->host_certificates))) != 0 ||
	    (r = confprint_lines(b, "allowusers",
	    sshdconf_cstrv(&c->allow_users))) != 0 ||
	    (r = confprint_lines(b, "denyusers",
	    sshdconf_cstrv(&c->deny_users))) != 0 ||
	    (r = confprint_lines(b, "allowgroups",
	    sshdconf_cstrv(&c->allow_groups))) != 0 ||
	    (r = confprint_lines(b, "denygroups",
	    sshdconf_cstrv(&c->deny_groups))) != 0 ||
	    (r = confprint_lines(b, "acceptenv",
	    sshdconf_cstrv(&c->accept_env))) != 0 ||
	    (r = confprint_lines(b, "setenv",
	    sshdconf_cstrv(&c->set_env))) != 0 ||
	    (r = confprint_oneline(b, "authenticationmethods",
	    sshdconf_cstrv(&c->authentication_methods))) != 0)
		return r;
	for (i = 0; i < c->subsystem_names.n && r == 0; i++)
		r = buf_putf(b, "subsystem %s %s\n", c->subsystem_names.v[i],
		    c->subsystem_commands.v[i]);
	if (r != 0 ||
	    (r = buf_putf(b, "maxstartups %d:%d:%d\n", c->max_startups_begin,
	    c->max_startups_rate, c->max_startups)) != 0 ||
	    (r = sshdconf_dump_penalties(c, b)) != 0 ||
	    (r = buf_putf(b, "persourcepenaltyexemptlist %s\n",
	    c->penalty_exempt_list)) != 0 ||
	    (r = buf_putf(b, "persourcenetblocksize %d:%d\n",
	    c->penalty_netblock4, c->penalty_netblock6)) != 0 ||
	    (r = buf_putf(b, "rekeylimit %lld %d\n", c->rekey_limit,
	    c->rekey_interval)) != 0 ||
	    (r = buf_putf(b, "permituserenvironment %s\n",
	    c->permit_user_environment)) != 0)
		return r;
	return 0;
}
