/*
 * sshd_config(5) reader.  The file (with its Includes) is first turned
 * into a list of entries, each remembering its file, line and the Match
 * block it belongs to.  Every entry is then checked and the global ones
 * stored, first value wins; sshdconf_match() later replays the entries
 * of the Match blocks that apply to a connection.  Defaults, copying and
 * the `sshd -T` printer are in sshdconf-print.c.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
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
#include "config-util.h"
#include "misc.h"
#include "sshdconf-int.h"

#define M	SD_MATCH

#define O(f)	offsetof(struct sshdconf, f)
#define FLAG(n, f, fl)	{ n, SD_FLAG, O(f), sshdconf_flag_tab, 0, 0, NULL, fl, NULL }
#define ENUM(n, f, t, fl) { n, SD_ENUM, O(f), t, 0, 0, NULL, fl, NULL }
#define INT(n, f, lo, hi, fl) { n, SD_INT, O(f), NULL, lo, hi, NULL, fl, NULL }
#define TIME(n, f, fl)	{ n, SD_TIME, O(f), NULL, 0, 0, NULL, fl, NULL }
#define STR(n, f, fl)	{ n, SD_STR, O(f), NULL, 0, 0, NULL, fl, NULL }
#define ALGS(n, f, k, fl) { n, SD_ALGS, O(f), NULL, 0, 0, k, fl, NULL }
#define REST(n, f, fl)	{ n, SD_REST, O(f), NULL, 0, 0, NULL, fl, NULL }
#define LACC(n, f, fl)	{ n, SD_LIST_ACC, O(f), NULL, 0, SSHDCONF_MAX_LIST, NULL, fl, NULL }
#define LONCE(n, f, fl)	{ n, SD_LIST_ONCE, O(f), NULL, 0, SSHDCONF_MAX_LIST, NULL, fl, NULL }
#define SPEC(n, h, fl)	{ n, SD_SPECIAL, 0, NULL, 0, 0, NULL, fl, h }
#define SPECF(n, f, h, fl) { n, SD_SPECIAL, O(f), NULL, 0, 0, NULL, fl, h }
#define IGN(n, neutral, fl) { n, SD_IGNORED, 0, NULL, 0, 0, neutral, fl, NULL }
#define DEPR(n)		{ n, SD_DEPRECATED, 0, NULL, 0, 0, NULL, M, NULL }

static int sshdconf_h_port(struct sshdconf_apply *, const struct sshdconf_kw *,
    const struct config_strv *, const char *);
static int sshdconf_h_listen(struct sshdconf_apply *,
    const struct sshdconf_kw *, const struct config_strv *, const char *);
static int sshdconf_h_subsystem(struct sshdconf_apply *,
    const struct sshdconf_kw *, const struct config_strv *, const char *);
static int sshdconf_h_maxstartups(struct sshdconf_apply *,
    const struct sshdconf_kw *, const struct config_strv *, const char *);
static int sshdconf_h_rekey(struct sshdconf_apply *,
    const struct sshdconf_kw *, const struct config_strv *, const char *);
static int sshdconf_h_setenv(struct sshdconf_apply *,
    const struct sshdconf_kw *, const struct config_strv *, const char *);
static int sshdconf_h_acceptenv(struct sshdconf_apply *,
    const struct sshdconf_kw *, const struct config_strv *, const char *);
static int sshdconf_h_userenv(struct sshdconf_apply *,
    const struct sshdconf_kw *, const struct config_strv *, const char *);
static int sshdconf_h_authmethods(struct sshdconf_apply *,
    const struct sshdconf_kw *, const struct config_strv *, const char *);
static int sshdconf_h_penalties(struct sshdconf_apply *,
    const struct sshdconf_kw *, const struct config_strv *, const char *);
static int sshdconf_h_exempt(struct sshdconf_apply *,
    const struct sshdconf_kw *, const struct config_strv *, const char *);
static int sshdconf_h_usepam(struct sshdconf_apply *,
    const struct sshdconf_kw *, const struct config_strv *, const char *);
static int sshdconf_h_netblock(struct sshdconf_apply *,
    const struct sshdconf_kw *, const struct config_strv *, const char *);

const struct config_enum sshdconf_flag_tab[] = {
	{ "yes", 1 }, { "no", 0 }, { NULL, 0 }
};
const struct config_enum sshdconf_af_tab[] = {
	{ "any", AF_UNSPEC }, { "inet", AF_INET }, { "inet6", AF_INET6 },
	{ NULL, 0 }
};
const struct config_enum sshdconf_root_tab[] = {
	{ "without-password", SSHDCONF_ROOT_NO_PASSWORD },
	{ "prohibit-password", SSHDCONF_ROOT_NO_PASSWORD },
	{ "forced-commands-only", SSHDCONF_ROOT_FORCED_ONLY },
	{ "yes", SSHDCONF_ROOT_YES }, { "no", SSHDCONF_ROOT_NO },
	{ NULL, 0 }
};
const struct config_enum sshdconf_compression_tab[] = {
	{ "yes", 2 }, { "delayed", 2 }, { "no", 0 }, { NULL, 0 }
};
const struct config_enum sshdconf_loglevel_tab[] = {
	{ "QUIET", LOGL_QUIET }, { "FATAL", LOGL_FATAL },
	{ "ERROR", LOGL_ERROR }, { "INFO", LOGL_INFO },
	{ "VERBOSE", LOGL_VERBOSE }, { "DEBUG", LOGL_DEBUG1 },
	{ "DEBUG1", LOGL_DEBUG1 }, { "DEBUG2", LOGL_DEBUG2 },
	{ "DEBUG3", LOGL_DEBUG3 }, { NULL, 0 }
};
const struct config_enum sshdconf_facility_tab[] = {
	{ "DAEMON", LOG_DAEMON }, { "USER", LOG_USER }, { "AUTH", LOG_AUTH },
#ifdef LOG_AUTHPRIV
	{ "AUTHPRIV", LOG_AUTHPRIV },
#endif
	{ "LOCAL0", LOG_LOCAL0 }, { "LOCAL1", LOG_LOCAL1 },
	{ "LOCAL2", LOG_LOCAL2 }, { "LOCAL3", LOG_LOCAL3 },
	{ "LOCAL4", LOG_LOCAL4 }, { "LOCAL5", LOG_LOCAL5 },
	{ "LOCAL6", LOG_LOCAL6 }, { "LOCAL7", LOG_LOCAL7 }, { NULL, 0 }
};

/*
 * Keywords in lowercase.  M marks those sshd_config(5) allows inside a
 * Match block (Subsystem as of OpenSSH 9.5).
 */
const struct sshdconf_kw sshdconf_keywords[] = {
	SPEC("port", sshdconf_h_port, 0),
	SPEC("listenaddress", sshdconf_h_listen, 0),
	ENUM("addressfamily", address_family, sshdconf_af_tab, 0),
	LACC("hostkey", host_keys, SD_ONEARG),
	LACC("hostcertificate", host_certificates, SD_ONEARG),
	LONCE("authorizedkeysfile", authorized_keys_files, M),
	STR("authorizedprincipalsfile", authorized_principals_file, M),
	STR("trustedusercakeys", trusted_user_ca_keys, M),
	FLAG("pubkeyauthentication", pubkey_authentication, M),
	FLAG("passwordauthentication", password_authentication, M),
	FLAG("kbdinteractiveauthentication", kbd_interactive_authentication,
	    M),
	FLAG("challengeresponseauthentication",
	    kbd_interactive_authentication, M),
	ENUM("permitrootlogin", permit_root_login, sshdconf_root_tab, M),
	FLAG("permitemptypasswords", permit_empty_passwords, M),
	SPECF("authenticationmethods", authentication_methods,
	    sshdconf_h_authmethods, M),
	LACC("allowusers", allow_users, M),
	LACC("denyusers", deny_users, M),
	LACC("allowgroups", allow_groups, M),
	LACC("denygroups", deny_groups, M),
	STR("chrootdirectory", chroot_directory, M),
	REST("forcecommand", force_command, M),
	SPEC("subsystem", sshdconf_h_subsystem, M),
	SPEC("acceptenv", sshdconf_h_acceptenv, M),
	SPECF("permituserenvironment", permit_user_environment,
	    sshdconf_h_userenv, 0),
	SPEC("setenv", sshdconf_h_setenv, M),
	FLAG("disableforwarding", disable_forwarding, M),
	STR("modulifile", moduli_file, 0),
	SPEC("maxstartups", sshdconf_h_maxstartups, 0),
	INT("maxsessions", max_sessions, 0, INT_MAX, M),
	INT("maxauthtries", max_auth_tries, 0, INT_MAX, M),
	TIME("logingracetime", login_grace_time, 0),
	TIME("clientaliveinterval", client_alive_interval, M),
	INT("clientalivecountmax", client_alive_count_max, 0, INT_MAX, M),
	STR("banner", banner, M),
	ENUM("loglevel", log_level, sshdconf_loglevel_tab, M),
	ENUM("syslogfacility", syslog_facility, sshdconf_facility_tab, 0),
	ALGS("kexalgorithms", kex_algorithms, "kex", 0),
	ALGS("ciphers", ciphers, "cipher", 0),
	ALGS("macs", macs, "mac", 0),
	ALGS("hostkeyalgorithms", hostkey_algorithms, "key", 0),
	ALGS("pubkeyacceptedalgorithms", pubkey_accepted_algorithms, "key",
	    M),
	ALGS("pubkeyacceptedkeytypes", pubkey_accepted_algorithms, "key", M),
	ENUM("compression", compression, sshdconf_compression_tab, 0),
	SPEC("rekeylimit", sshdconf_h_rekey, M),
	STR("pidfile", pid_file, 0),
	FLAG("strictmodes", strict_modes, 0),
	SPECF("usepam", use_pam, sshdconf_h_usepam, 0),
	SPEC("persourcepenalties", sshdconf_h_penalties, 0),
	SPEC("persourcepenaltyexemptlist", sshdconf_h_exempt, 0),
	SPEC("persourcenetblocksize", sshdconf_h_netblock, 0),

	/* OpenSSH keywords Ferry accepts and ignores. */
	IGN("allowagentforwarding", NULL, M),
	IGN("allowstreamlocalforwarding", NULL, M),
	IGN("allowtcpforwarding", NULL, M),
	IGN("authorizedkeyscommand", "none", M),
	IGN("authorizedkeyscommanduser", NULL, M),
	IGN("authorizedprincipalscommand", "none", M),
	IGN("authorizedprincipalscommanduser", NULL, M),
	IGN("casignaturealgorithms", NULL, M),
	IGN("channeltimeout", NULL, M),
	IGN("debianbanner", NULL, 0),
	IGN("exposeauthinfo", "no", M),
	IGN("fingerprinthash", NULL, 0),
	IGN("gatewayports", "no", M),
	IGN("gssapiauthentication", "no", M),
	IGN("gssapicleanupcredentials", NULL, 0),
	IGN("gssapikeyexchange", "no", 0),
	IGN("gssapikexalgorithms", NULL, 0),
	IGN("gssapistorecredentialsonrekey", NULL, 0),
	IGN("gssapistrictacceptorcheck", NULL, 0),
	IGN("hostbasedacceptedalgorithms", NULL, M),
	IGN("hostbasedacceptedkeytypes", NULL, M),
	IGN("hostbasedauthentication", "no", M),
	IGN("hostbasedusesnamefrompacketonly", NULL, M),
	IGN("hostkeyagent", "none", 0),
	IGN("ignorerhosts", NULL, M),
	IGN("ignoreuserknownhosts", NULL, 0),
	IGN("ipqos", NULL, M),
	IGN("kerberosauthentication", "no", M),
	IGN("kerberosgetafstoken", NULL, 0),
	IGN("kerberosorlocalpasswd", NULL, 0),
	IGN("kerberosticketcleanup", NULL, 0),
	IGN("logverbose", NULL, M),
	IGN("permitlisten", NULL, M),
	IGN("permitopen", NULL, M),
	IGN("permittty", NULL, M),
	IGN("permittunnel", "no", M),
	IGN("permituserrc", NULL, M),
	IGN("persourcemaxstartups", NULL, 0),
	IGN("printlastlog", NULL, 0),
	IGN("printmotd", NULL, 0),
	IGN("pubkeyauthoptions", "none", M),
	IGN("rdomain", NULL, M),
	IGN("refuseconnection", "no", M),
	IGN("requiredrsasize", NULL, M),
	IGN("revokedkeys", "none", M),
	IGN("securitykeyprovider", NULL, 0),
	IGN("sshdsessionpath", NULL, 0),
	IGN("sshdauthpath", NULL, 0),
	IGN("streamlocalbindmask", NULL, M),
	IGN("streamlocalbindunlink", NULL, M),
	IGN("tcpkeepalive", NULL, 0),
	IGN("unusedconnectiontimeout", NULL, M),
	IGN("usedns", "no", 0),
	IGN("versionaddendum", "none", 0),
	IGN("x11displayoffset", NULL, M),
	IGN("x11forwarding", "no", M),
	IGN("x11uselocalhost", NULL, M),
	IGN("xauthlocation", NULL, 0),
	DEPR("protocol"),
	DEPR("useprivilegeseparation"),
	DEPR("rsaauthentication"),
	DEPR("rhostsrsaauthentication"),
	DEPR("serverkeybits"),
	DEPR("keyregenerationinterval"),
	DEPR("uselogin"),
	DEPR("rhostsauthentication"),
	DEPR("pamauthenticationviakbdint"),
	DEPR("skeyauthentication"),
	DEPR("verifyreversemapping"),
	DEPR("reversemappingcheck"),
	DEPR("dsaauthentication"),
	DEPR("showpatchlevel"),
	{ NULL, SD_DEPRECATED, 0, NULL, 0, 0, NULL, 0, NULL }
};

void
sshdconf_err(struct sshdconf_apply *ap, const char *fmt, ...)
{
	char msg[512];
	va_list va;

	va_start(va, fmt);
	vsnprintf(msg, sizeof(msg), fmt, va);
	va_end(va);
	if (ap->quiet)
		return;
	log_error("%s line %d: %s", ap->file, ap->line, msg);
	ap->errors++;
}

const struct sshdconf_kw *
sshdconf_lookup(const char *kw)
{
	const struct sshdconf_kw *k;

	for (k = sshdconf_keywords; k->name != NULL; k++)
		if (strcmp(k->name, kw) == 0)
			return k;
	return NULL;
}

static int *
sshdconf_intp(struct sshdconf_apply *ap, const struct sshdconf_kw *kw)
{
	return (int *)(void *)((char *)ap->c + kw->off);
}

static char **
sshdconf_strp(struct sshdconf_apply *ap, const struct sshdconf_kw *kw)
{
	return (char **)(void *)((char *)ap->c + kw->off);
}

static struct config_strv *
sshdconf_listp(struct sshdconf_apply *ap, const struct sshdconf_kw *kw)
{
	return (struct config_strv *)(void *)((char *)ap->c + kw->off);
}

static void
sshdconf_set_int(int *p, int v)
{
	if (*p == SSHDCONF_UNSET)
		*p = v;
}

static int
sshdconf_set_str(char **p, const char *v)
{
	if (*p != NULL)
		return 0;
	return (*p = strdup(v)) == NULL ? FERR_ALLOC : 0;
}

static int
sshdconf_extra(struct sshdconf_apply *ap, const struct sshdconf_kw *kw,
    const struct config_strv *av, size_t nargs)
{
	if (av->n > nargs) {
		sshdconf_err(ap, "%s: garbage at end of line", kw->name);
		return 1;
	}
	return 0;
}

int
sshdconf_apply_entry(struct sshdconf_apply *ap, const struct sshdconf_kw *kw,
    const struct config_strv *av, const char *rest)
{
	const char *errstr, *a = av->v[0];
	long long t;
	size_t i;
	int v, r = 0;

	switch (kw->type) {
	case SD_FLAG:
	case SD_ENUM:
		if (sshdconf_extra(ap, kw, av, 1))
			return 0;
		if (config_enum_value(kw->tab, a, &v) != 0) {
			sshdconf_err(ap, "unsupported option \"%s\".", a);
			return 0;
		}
		sshdconf_set_int(sshdconf_intp(ap, kw), v);
		return 0;
	case SD_INT:
		if (sshdconf_extra(ap, kw, av, 1))
			return 0;
		v = (int)misc_strtonum(a, kw->min, kw->max, &errstr);
		if (errstr != NULL) {
			sshdconf_err(ap, "%s integer value %s.", kw->name,
			    errstr);
			return 0;
		}
		sshdconf_set_int(sshdconf_intp(ap, kw), v);
		return 0;
	case SD_TIME:
		if (sshdconf_extra(ap, kw, av, 1))
			return 0;
		if ((t = config_convtime(a)) == -1) {
			sshdconf_err(ap, "invalid time value.");
			return 0;
		}
		sshdconf_set_int(sshdconf_intp(ap, kw), (int)t);
		return 0;
	case SD_STR:
		if (sshdconf_extra(ap, kw, av, 1))
			return 0;
		return sshdconf_set_str(sshdconf_strp(ap, kw), a);
	case SD_ALGS:
		if (sshdconf_extra(ap, kw, av, 1))
			return 0;
		if (config_check_algs(kw->algkind, a) != 0) {
			sshdconf_err(ap, "Bad SSH2 algorithm list '%s' for %s.",
			    a, kw->name);
			return 0;
		}
		return sshdconf_set_str(sshdconf_strp(ap, kw), a);
	case SD_REST:
		return sshdconf_set_str(sshdconf_strp(ap, kw), rest);
	case SD_LIST_ACC:
		if ((kw->flags & SD_ONEARG) && sshdconf_extra(ap, kw, av, 1))
			return 0;
		for (i = 0; i < av->n; i++) {
			r = config_strv_add(sshdconf_listp(ap, kw), av->v[i],
			    (size_t)kw->max);
			if (r == FERR_NUMBER_RANGE) {
				sshdconf_err(ap, "too many %s entries.",
				    kw->name);
				return 0;
			}
			if (r != 0)
				return r;
		}
		return 0;
	case SD_LIST_ONCE:
		if (av->n > (size_t)kw->max) {
			sshdconf_err(ap, "too many %s entries.", kw->name);
			return 0;
		}
		if (sshdconf_listp(ap, kw)->n > 0)
			return 0;
		for (i = 0; i < av->n && r == 0; i++)
			r = config_strv_add(sshdconf_listp(ap, kw), av->v[i],
			    SIZE_MAX);
		return r;
	case SD_SPECIAL:
		return kw->handler(ap, kw, av, rest);
	case SD_IGNORED:
		if (kw->algkind != NULL && av->n == 1 &&
		    strcasecmp(a, kw->algkind) == 0)
			return 0;
		if (!ap->quiet)
			log_msg(LOGL_VERBOSE, "%s line %d: %s is not "
			    "supported by Ferry and is ignored", ap->file,
			    ap->line, kw->name);
		return 0;
	case SD_DEPRECATED:
		if (!ap->quiet)
			log_msg(LOGL_INFO, "%s line %d: Deprecated option %s",
			    ap->file, ap->line, kw->name);
		return 0;
	default:
		return FERR_INTERNAL;
	}
}

static int
sshdconf_h_usepam(struct sshdconf_apply *ap, const struct sshdconf_kw *kw,
    const struct config_strv *av, const char *rest)
{
	int v;

	(void)rest;
	if (sshdconf_extra(ap, kw, av, 1))
		return 0;
	if (config_enum_value(sshdconf_flag_tab, av->v[0], &v) != 0) {
		sshdconf_err(ap, "unsupported option \"%s\".", av->v[0]);
		return 0;
	}
#ifndef HAVE_PAM
	/* fsshd refuses password logins it cannot check: say why early. */
	if (v && !ap->quiet && ap->c->use_pam == SSHDCONF_UNSET)
		log_msg(LOGL_INFO, "%s line %d: built without PAM: UsePAM yes "
		    "refuses passwords", ap->file, ap->line);
#endif
	sshdconf_set_int(&ap->c->use_pam, v);
	return 0;
}

/* Port N: accumulates; ListenAddress without a port uses them all. */
static int
sshdconf_h_port(struct sshdconf_apply *ap, const struct sshdconf_kw *kw,
    const struct config_strv *av, const char *rest)
{
	const char *errstr;
	int port;

	(void)rest;
	if (sshdconf_extra(ap, kw, av, 1))
		return 0;
	port = (int)misc_strtonum(av->v[0], 1, 65535, &errstr);
	if (errstr != NULL) {
		sshdconf_err(ap, "Badly formatted port number.");
		return 0;
	}
	if (ap->c->nports >= SSHDCONF_MAX_PORTS) {
		sshdconf_err(ap, "too many ports.");
		return 0;
	}
	ap->c->ports[ap->c->nports++] = port;
	return 0;
}

/*
 * Split "addr", "addr:port", "[addr]" or "[addr]:port".  *portp is -1
 * without a port.  0 or FERR_CONFIG.
 */
int
sshdconf_split_listen(const char *s, char *host, size_t hostlen, int *portp)
{
	const char *close, *colon, *errstr, *port = NULL;
	size_t len;

	*portp = -1;
	if (*s == '[') {
		if ((close = strchr(s, ']')) == NULL || close == s + 1)
			return FERR_CONFIG;
		len = (size_t)(close - s - 1);
		s++;
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return FERR_CONFIG;
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			len = (size_t)(colon - s);
			port = colon + 1;
		} else
			len = strlen(s);	/* a bare IPv6 address */
	}
	if (len == 0 || len >= hostlen)
		return FERR_CONFIG;
	memcpy(host, s, len);
	host[len] = '\0';
	if (port != NULL) {
		*portp = (int)misc_strtonum(port, 1, 65535, &errstr);
		if (errstr != NULL)
			return FERR_CONFIG;
	}
	return 0;
}

static int
sshdconf_h_listen(struct sshdconf_apply *ap, const struct sshdconf_kw *kw,
    const struct config_strv *av, const char *rest)
{
	char host[256];
	int port, r;

	(void)rest;
	if (sshdconf_extra(ap, kw, av, 1))
		return 0;
	if (sshdconf_split_listen(av->v[0], host, sizeof(host), &port) != 0) {
		sshdconf_err(ap, "bad address:port usage");
		return 0;
	}
	r = config_strv_add(sshdconf_strv(&ap->c->listen_addresses),
	    av->v[0], SSHDCONF_MAX_LIST);
	if (r == FERR_NUMBER_RANGE) {
		sshdconf_err(ap, "too many ListenAddress entries.");
		r = 0;
	}
	return r;
}

/* Subsystem NAME COMMAND [ARGS]: names are unique. */
static int
sshdconf_h_subsystem(struct sshdconf_apply *ap, const struct sshdconf_kw *kw,
    const struct config_strv *av, const char *rest)
{
	struct sshdconf *c = ap->c;
	struct buf *b = NULL;
	size_t i;
	int r;

	(void)kw;
	(void)rest;
	if (av->n < 2) {
		sshdconf_err(ap, "Missing subsystem command.");
		return 0;
	}
	for (i = 0; i < c->subsystem_names.n; i++) {
		if (strcmp(c->subsystem_names.v[i], av->v[0]) == 0) {
			/* In a Match pass the first definition wins. */
			if (!ap->in_match)
				sshdconf_err(ap, "Subsystem '%s' already "
				    "defined.", av->v[0]);
			return 0;
		}
	}
	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	for (i = 1, r = 0; i < av->n && r == 0; i++)
		r = buf_putf(b, "%s%s", i > 1 ? " " : "", av->v[i]);
	if (r == 0)
		r = buf_put(b, "", 1);
	if (r == 0) {
		r = config_strv_add(sshdconf_strv(&c->subsystem_names),
		    av->v[0], SSHDCONF_MAX_LIST);
		if (r == 0 && (r = config_strv_add(sshdconf_strv(
		    &c->subsystem_commands), (const char *)buf_ptr(b),
		    SSHDCONF_MAX_LIST)) != 0) {
			/* Keep both lists the same length. */
			free(c->subsystem_names.v[--c->subsystem_names.n]);
			c->subsystem_names.v[c->subsystem_names.n] = NULL;
		}
		if (r == FERR_NUMBER_RANGE) {
			sshdconf_err(ap, "too many subsystems defined.");
			r = 0;
		}
	}
	buf_free(b);
	return r;
}

/* MaxStartups START:RATE:FULL or N. */
static int
sshdconf_h_maxstartups(struct sshdconf_apply *ap,
    const struct sshdconf_kw *kw, const struct config_strv *av,
    const char *rest)
{
	char *copy, *p, *f[3];
	const char *errstr;
	long long v[3];
	int n = 0, i;

	(void)rest;
	if (sshdconf_extra(ap, kw, av, 1))
		return 0;
	if ((copy = strdup(av->v[0])) == NULL)
		return FERR_ALLOC;
	for (p = copy; n < 3 && (f[n] = strsep(&p, ":")) != NULL; n++)
		;
	for (i = 0; i < n; i++) {
		v[i] = misc_strtonum(f[i], 0, INT_MAX, &errstr);
		if (errstr != NULL)
			break;
	}
	free(copy);
	if (i < n || p != NULL || (n != 1 && n != 3) || (n == 3 &&
	    (v[0] > v[2] || v[2] < 1 || v[1] > 100 || v[1] < 1))) {
		sshdconf_err(ap, "Illegal MaxStartups spec.");
		return 0;
	}
	if (ap->c->max_startups != SSHDCONF_UNSET)
		return 0;
	if (n == 1) {
		ap->c->max_startups = (int)v[0];
		ap->c->max_startups_begin = (int)v[0];
	} else {
		ap->c->max_startups_begin = (int)v[0];
		ap->c->max_startups_rate = (int)v[1];
		ap->c->max_startups = (int)v[2];
	}
	return 0;
}

/* PerSourceNetBlockSize V4[:V6]: prefix lengths counting one source. */
static int
sshdconf_h_netblock(struct sshdconf_apply *ap, const struct sshdconf_kw *kw,
    const struct config_strv *av, const char *rest)
{
	const char *errstr = NULL, *colon;
	char v4[8];
	long long b4, b6 = 128;
	size_t n;

	(void)rest;
	if (sshdconf_extra(ap, kw, av, 1))
		return 0;
	colon = strchr(av->v[0], ':');
	n = colon != NULL ? (size_t)(colon - av->v[0]) : strlen(av->v[0]);
	if (n >= sizeof(v4)) {
		sshdconf_err(ap, "invalid PerSourceNetBlockSize");
		return 0;
	}
	memcpy(v4, av->v[0], n);
	v4[n] = '\0';
	b4 = misc_strtonum(v4, 0, 32, &errstr);
	if (errstr == NULL && colon != NULL)
		b6 = misc_strtonum(colon + 1, 0, 128, &errstr);
	if (errstr != NULL) {
		sshdconf_err(ap, "invalid PerSourceNetBlockSize");
		return 0;
	}
	if (ap->c->penalty_netblock4 == SSHDCONF_UNSET) {
		ap->c->penalty_netblock4 = (int)b4;
		ap->c->penalty_netblock6 = (int)b6;
	}
	return 0;
}

static int
sshdconf_h_rekey(struct sshdconf_apply *ap, const struct sshdconf_kw *kw,
    const struct config_strv *av, const char *rest)
{
	unsigned long long bytes = 0;
	long long t = 0;

	(void)rest;
	if (sshdconf_extra(ap, kw, av, 2))
		return 0;
	if (strcmp(av->v[0], "default") != 0) {
		if (config_scan_scaled(av->v[0], &bytes) != 0 ||
		    bytes > (unsigned long long)LLONG_MAX) {
			sshdconf_err(ap, "RekeyLimit bad value");
			return 0;
		}
		if (bytes != 0 && bytes < 16) {
			sshdconf_err(ap, "RekeyLimit too small");
			return 0;
		}
	}
	if (av->n == 2 && strcmp(av->v[1], "default") != 0 &&
	    strcmp(av->v[1], "none") != 0 &&
	    (t = config_convtime(av->v[1])) == -1) {
		sshdconf_err(ap, "invalid rekey interval");
		return 0;
	}
	if (ap->c->rekey_limit == -1)
		ap->c->rekey_limit = (long long)bytes;
	if (av->n == 2)
		sshdconf_set_int(&ap->c->rekey_interval, (int)t);
	return 0;
}

/* SetEnv NAME=VALUE...: the first line wins, and the first of a name. */
static int
sshdconf_h_setenv(struct sshdconf_apply *ap, const struct sshdconf_kw *kw,
    const struct config_strv *av, const char *rest)
{
	struct config_strv *l = sshdconf_strv(&ap->c->set_env);
	size_t i, j, nlen;
	int first = l->n == 0, dup, r;

	(void)kw;
	(void)rest;
	for (i = 0; i < av->n; i++) {
		if (strchr(av->v[i], '=') == NULL || av->v[i][0] == '=') {
			sshdconf_err(ap, "Invalid environment.");
			return 0;
		}
	}
	if (!first)
		return 0;
	for (i = 0; i < av->n; i++) {
		nlen = (size_t)(strchr(av->v[i], '=') - av->v[i]);
		for (dup = 0, j = 0; j < l->n && !dup; j++)
			dup = strncmp(l->v[j], av->v[i], nlen + 1) == 0;
		if (dup)
			continue;
		if ((r = config_strv_add(l, av->v[i],
		    SSHDCONF_MAX_LIST)) != 0) {
			if (r != FERR_NUMBER_RANGE)
				return r;
			sshdconf_err(ap, "too many SetEnv entries.");
			return 0;
		}
	}
	return 0;
}

static int
sshdconf_h_acceptenv(struct sshdconf_apply *ap, const struct sshdconf_kw *kw,
    const struct config_strv *av, const char *rest)
{
	size_t i;
	int r;

	(void)kw;
	(void)rest;
	for (i = 0; i < av->n; i++) {
		if (strchr(av->v[i], '=') != NULL) {
			sshdconf_err(ap, "Invalid environment name.");
			return 0;
		}
	}
	for (i = 0; i < av->n; i++) {
		if ((r = config_strv_add(sshdconf_strv(&ap->c->accept_env),
		    av->v[i], SSHDCONF_MAX_LIST)) != 0) {
			if (r != FERR_NUMBER_RANGE)
				return r;
			sshdconf_err(ap, "too many AcceptEnv entries.");
			return 0;
		}
	}
	return 0;
}

/* PermitUserEnvironment yes|no|PATTERN-LIST */
static int
sshdconf_h_userenv(struct sshdconf_apply *ap, const struct sshdconf_kw *kw,
    const struct config_strv *av, const char *rest)
{
	const char *v = av->v[0];

	(void)rest;
	if (sshdconf_extra(ap, kw, av, 1))
		return 0;
	if (strcasecmp(v, "yes") == 0)
		v = "yes";
	else if (strcasecmp(v, "no") == 0)
		v = "no";
	return sshdconf_set_str(&ap->c->permit_user_environment, v);
}

/* Each list is "any" alone, or comma lists of known methods. */
static int
sshdconf_h_authmethods(struct sshdconf_apply *ap,
    const struct sshdconf_kw *kw, const struct config_strv *av,
    const char *rest)
{
	static const char *const methods[] = {
		"publickey", "password", "keyboard-interactive", "hostbased",
		"gssapi-with-mic", NULL
	};
	struct config_strv *l = sshdconf_strv(&ap->c->authentication_methods);
	char *copy, *p, *m, *colon;
	size_t i, j;
	int bad = 0, r = 0;

	(void)kw;
	(void)rest;
	for (i = 0; i < av->n && !bad; i++) {
		if (strcmp(av->v[i], "any") == 0) {
			if (av->n > 1) {
				sshdconf_err(ap, "\"any\" must appear alone "
				    "in AuthenticationMethods");
				return 0;
			}
			continue;
		}
		if ((copy = strdup(av->v[i])) == NULL)
			return FERR_ALLOC;
		for (p = copy; (m = strsep(&p, ",")) != NULL && !bad;) {
			if ((colon = strchr(m, ':')) != NULL) {
				*colon = '\0';
				if (strcmp(m, "keyboard-interactive") != 0 &&
				    strcmp(m, "password") != 0)
					bad = 1;
			}
			for (j = 0; methods[j] != NULL; j++)
				if (strcmp(methods[j], m) == 0)
					break;
			if (methods[j] == NULL)
				bad = 1;
		}
		free(copy);
	}
	if (bad) {
		sshdconf_err(ap, "invalid authentication method list.");
		return 0;
	}
	if (l->n > 0)
		return 0;
	for (i = 0; i < av->n && r == 0; i++)
		r = config_strv_add(l, av->v[i], SIZE_MAX);
	return r;
}

/* PerSourcePenalties yes|no|KEYWORD:VALUE... (OpenSSH 9.8). */
static int
sshdconf_h_penalties(struct sshdconf_apply *ap,
    const struct sshdconf_kw *kw, const struct config_strv *av,
    const char *rest)
{
	static const struct {
		const char	*name;
		size_t		 off;
		int		 kind;	/* 0 time, 1 number, 2 overflow mode */
	} keys[] = {
#define PO(f)	offsetof(struct sshdconf_penalties, f)
		{ "crash", PO(crash), 0 },
		{ "authfail", PO(authfail), 0 },
		{ "noauth", PO(noauth), 0 },
		{ "grace-exceeded", PO(grace_exceeded), 0 },
		{ "max", PO(max), 0 },
		{ "min", PO(min), 0 },
		{ "max-sources4", PO(max_sources4), 1 },
		{ "max-sources6", PO(max_sources6), 1 },
		{ "overflow", PO(overflow_deny_all), 2 },
		{ "overflow6", PO(overflow6_deny_all), 2 },
#undef PO
	};
	struct sshdconf_penalties p;
	const char *errstr, *val;
	size_t i, k, nlen;
	long long v;

	(void)kw;
	(void)rest;
	sshdconf_penalties_default(&p);
	p.overflow6_deny_all = -1;	/* follows overflow unless given */
	for (i = 0; i < av->n; i++) {
		if (strcmp(av->v[i], "yes") == 0 && av->n == 1)
			continue;
		if ((strcmp(av->v[i], "no") == 0 ||
		    strcmp(av->v[i], "off") == 0) && av->n == 1) {
			p.enabled = 0;
			continue;
		}
		if ((val = strchr(av->v[i], ':')) == NULL) {
			sshdconf_err(ap, "invalid PerSourcePenalties "
			    "argument \"%s\"", av->v[i]);
			return 0;
		}
		nlen = (size_t)(val - av->v[i]);
		val++;
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (strlen(keys[k].name) == nlen &&
			    strncmp(keys[k].name, av->v[i], nlen) == 0)
				break;
		if (k == sizeof(keys) / sizeof(keys[0])) {
			sshdconf_err(ap, "unknown PerSourcePenalties keyword "
			    "\"%.*s\"", (int)nlen, av->v[i]);
			return 0;
		}
		if (keys[k].kind == 0)
			v = config_convtime(val);
		else if (keys[k].kind == 1) {
			v = misc_strtonum(val, 1, INT_MAX, &errstr);
			if (errstr != NULL)
				v = -1;
		} else if (strcmp(val, "deny-all") == 0)
			v = 1;
		else if (strcmp(val, "permissive") == 0)
			v = 0;
		else
			v = -1;
		if (v < 0) {
			sshdconf_err(ap, "invalid PerSourcePenalties value "
			    "\"%s\"", av->v[i]);
			return 0;
		}
		*(int *)(void *)((char *)&p + keys[k].off) = (int)v;
	}
	if (p.overflow6_deny_all == -1)
		p.overflow6_deny_all = p.overflow_deny_all;
	if (ap->c->penalties.enabled == SSHDCONF_UNSET)
		ap->c->penalties = p;
	return 0;
}

static int
sshdconf_h_exempt(struct sshdconf_apply *ap, const struct sshdconf_kw *kw,
    const struct config_strv *av, const char *rest)
{
	(void)rest;
	if (sshdconf_extra(ap, kw, av, 1))
		return 0;
	/* Address blocks only, as OpenSSH: no wildcards. */
	if (strcmp(av->v[0], "none") != 0 &&
	    (strpbrk(av->v[0], "*?") != NULL ||
	    config_match_addr_list("0.0.0.0", av->v[0]) == FERR_CONFIG)) {
		sshdconf_err(ap, "invalid PerSourcePenaltyExemptList");
		return 0;
	}
	return sshdconf_set_str(&ap->c->penalty_exempt_list, av->v[0]);
}
