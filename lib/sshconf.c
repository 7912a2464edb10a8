/*
 * ssh_config(5) reader: Host and Match blocks, Include, first value
 * wins, OpenSSH's tokeniser and keyword table.  Defaults, token
 * expansion and the `ssh -G` printer live in sshconf-print.c.
 *
 * Each keyword is a row of sshconf_keywords[]: its type says how the
 * arguments are checked and stored, its offset where.  Values are
 * checked on every line, also in blocks that do not apply, so that a
 * mistake is reported whatever host is asked for; they are stored only
 * in applying blocks and only when the field is still unset.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshconf.h"
#include "ferry/transport.h"
#include "config-util.h"
#include "misc.h"
#include "sshconf-int.h"

enum sshconf_type {
	SC_FLAG,	/* yes/no/true/false */
	SC_ENUM,	/* one of tab */
	SC_INT,		/* decimal in [min, max] */
	SC_TIME,	/* OpenSSH time format, "none" with SC_NONE */
	SC_STR,		/* one word */
	SC_ALGS,	/* algorithm list spec of transport kind algkind */
	SC_REST,	/* the raw rest of the line (ProxyCommand) */
	SC_FILES_ACC,	/* one path per line, accumulating (IdentityFile) */
	SC_FILES_ONCE,	/* several paths, first line wins (known hosts) */
	SC_SPECIAL,	/* a handler */
	SC_IGNORED,	/* accepted, not used; warn unless neutral */
	SC_DEPRECATED,	/* removed from OpenSSH; logged, not used */
};

#define SC_NONE		0x01	/* SC_TIME/SC_STR: "none" is a value */

struct sshconf_reader;

struct sshconf_kw {
	const char		*name;
	enum sshconf_type	 type;
	size_t			 off;
	const struct config_enum *tab;	/* SC_ENUM */
	long long		 min, max;	/* SC_INT; max entries for lists */
	const char		*algkind;	/* SC_ALGS; SC_IGNORED: neutral */
	int			 flags;
	int			(*handler)(struct sshconf_reader *,
				    const struct sshconf_kw *,
				    struct config_strv *, const char *);
};

struct sshconf_reader {
	struct sshconf			*c;
	const struct sshconf_env	*env;
	const char			*file;
	int				 line;
	int				 flags;
	int				 depth;
	int				 active;
	int				 cmdline;
	int				 errors;
	int				*want_final;
	const char			*host;		/* for Host */
	const char			*original_host;
	char				*dir;		/* relative Include */
};

static int sshconf_read_buf(struct sshconf_reader *, struct buf *);
static int sshconf_h_host(struct sshconf_reader *, const struct sshconf_kw *,
    struct config_strv *, const char *);
static int sshconf_h_match(struct sshconf_reader *,
    const struct sshconf_kw *, struct config_strv *, const char *);
static int sshconf_h_include(struct sshconf_reader *,
    const struct sshconf_kw *, struct config_strv *, const char *);
static int sshconf_h_rekey(struct sshconf_reader *,
    const struct sshconf_kw *, struct config_strv *, const char *);
static int sshconf_h_sendenv(struct sshconf_reader *,
    const struct sshconf_kw *, struct config_strv *, const char *);
static int sshconf_h_setenv(struct sshconf_reader *,
    const struct sshconf_kw *, struct config_strv *, const char *);
static int sshconf_h_proxyjump(struct sshconf_reader *,
    const struct sshconf_kw *, struct config_strv *, const char *);
static int sshconf_h_addkeys(struct sshconf_reader *,
    const struct sshconf_kw *, struct config_strv *, const char *);
static int sshconf_h_loglevel(struct sshconf_reader *,
    const struct sshconf_kw *, struct config_strv *, const char *);

const struct config_enum sshconf_flag_tab[] = {
	{ "true", 1 }, { "false", 0 }, { "yes", 1 }, { "no", 0 },
	{ NULL, 0 }
};
const struct config_enum sshconf_strict_tab[] = {
	{ "true", SSHCONF_STRICT_YES }, { "false", SSHCONF_STRICT_NO },
	{ "ask", SSHCONF_STRICT_ASK }, { "off", SSHCONF_STRICT_NO },
	{ "no", SSHCONF_STRICT_NO }, { "yes", SSHCONF_STRICT_YES },
	{ "accept-new", SSHCONF_STRICT_NEW }, { NULL, 0 }
};
const struct config_enum sshconf_pubkey_tab[] = {
	{ "true", SSHCONF_PUBKEY_ALL }, { "false", SSHCONF_PUBKEY_NO },
	{ "yes", SSHCONF_PUBKEY_ALL }, { "no", SSHCONF_PUBKEY_NO },
	{ "unbound", SSHCONF_PUBKEY_UNBOUND },
	{ "host-bound", SSHCONF_PUBKEY_HBOUND }, { NULL, 0 }
};
const struct config_enum sshconf_af_tab[] = {
	{ "inet", AF_INET }, { "inet6", AF_INET6 }, { "any", AF_UNSPEC },
	{ NULL, 0 }
};
const struct config_enum sshconf_loglevel_tab[] = {
	{ "QUIET", LOGL_QUIET }, { "FATAL", LOGL_FATAL },
	{ "ERROR", LOGL_ERROR }, { "INFO", LOGL_INFO },
	{ "VERBOSE", LOGL_VERBOSE }, { "DEBUG", LOGL_DEBUG1 },
	{ "DEBUG1", LOGL_DEBUG1 }, { "DEBUG2", LOGL_DEBUG2 },
	{ "DEBUG3", LOGL_DEBUG3 }, { NULL, 0 }
};

#define O(f)	offsetof(struct sshconf, f)
#define FLAG(n, f)	{ n, SC_FLAG, O(f), sshconf_flag_tab, 0, 0, NULL, 0, NULL }
#define ENUM(n, f, t)	{ n, SC_ENUM, O(f), t, 0, 0, NULL, 0, NULL }
#define INT(n, f, lo, hi) { n, SC_INT, O(f), NULL, lo, hi, NULL, 0, NULL }
#define TIME(n, f, fl)	{ n, SC_TIME, O(f), NULL, 0, 0, NULL, fl, NULL }
#define STR(n, f)	{ n, SC_STR, O(f), NULL, 0, 0, NULL, 0, NULL }
#define ALGS(n, f, k)	{ n, SC_ALGS, O(f), NULL, 0, 0, k, 0, NULL }
#define REST(n, f)	{ n, SC_REST, O(f), NULL, 0, 0, NULL, 0, NULL }
#define FACC(n, f, m)	{ n, SC_FILES_ACC, O(f), NULL, 0, m, NULL, 0, NULL }
#define FONCE(n, f, m)	{ n, SC_FILES_ONCE, O(f), NULL, 0, m, NULL, 0, NULL }
#define SPEC(n, h)	{ n, SC_SPECIAL, 0, NULL, 0, 0, NULL, 0, h }
#define SPECF(n, f, h)	{ n, SC_SPECIAL, O(f), NULL, 0, 0, NULL, 0, h }
#define IGN(n, neutral)	{ n, SC_IGNORED, 0, NULL, 0, 0, neutral, 0, NULL }
#define DEPR(n)		{ n, SC_DEPRECATED, 0, NULL, 0, 0, NULL, 0, NULL }

/* Keywords in lowercase, as they are looked up. */
static const struct sshconf_kw sshconf_keywords[] = {
	SPEC("host", sshconf_h_host),
	SPEC("match", sshconf_h_match),
	SPEC("include", sshconf_h_include),
	STR("hostname", hostname),
	STR("hostkeyalias", host_key_alias),
	INT("port", port, 1, 65535),
	STR("user", user),
	FACC("identityfile", identity_files, SSHCONF_MAX_IDENTITY_FILES),
	FLAG("identitiesonly", identities_only),
	STR("identityagent", identity_agent),
	FACC("certificatefile", certificate_files, SSHCONF_MAX_CERT_FILES),
	ENUM("stricthostkeychecking", strict_host_key_checking,
	    sshconf_strict_tab),
	FONCE("userknownhostsfile", user_known_hosts_files,
	    SSHCONF_MAX_HOSTS_FILES),
	FONCE("globalknownhostsfile", global_known_hosts_files,
	    SSHCONF_MAX_HOSTS_FILES),
	FLAG("hashknownhosts", hash_known_hosts),
	ALGS("kexalgorithms", kex_algorithms, "kex"),
	ALGS("ciphers", ciphers, "cipher"),
	ALGS("macs", macs, "mac"),
	ALGS("hostkeyalgorithms", hostkey_algorithms, "key"),
	ALGS("pubkeyacceptedalgorithms", pubkey_accepted_algorithms, "key"),
	ALGS("pubkeyacceptedkeytypes", pubkey_accepted_algorithms, "key"),
	FLAG("compression", compression),
	TIME("connecttimeout", connect_timeout, SC_NONE),
	INT("connectionattempts", connection_attempts, 0, INT_MAX),
	TIME("serveraliveinterval", server_alive_interval, 0),
	INT("serveralivecountmax", server_alive_count_max, 0, INT_MAX),
	FLAG("batchmode", batch_mode),
	FLAG("passwordauthentication", password_authentication),
	FLAG("kbdinteractiveauthentication", kbd_interactive_authentication),
	FLAG("challengeresponseauthentication",
	    kbd_interactive_authentication),
	ENUM("pubkeyauthentication", pubkey_authentication,
	    sshconf_pubkey_tab),
	STR("preferredauthentications", preferred_authentications),
	SPECF("proxyjump", proxy_jump, sshconf_h_proxyjump),
	REST("proxycommand", proxy_command),
	SPECF("loglevel", log_level, sshconf_h_loglevel),
	SPEC("sendenv", sshconf_h_sendenv),
	SPEC("setenv", sshconf_h_setenv),
	SPEC("rekeylimit", sshconf_h_rekey),
	SPECF("addkeystoagent", add_keys_to_agent, sshconf_h_addkeys),
	ENUM("addressfamily", address_family, sshconf_af_tab),
	STR("bindaddress", bind_address),
	INT("numberofpasswordprompts", number_of_password_prompts, 0,
	    INT_MAX),
	STR("ignoreunknown", ignore_unknown),

	/* OpenSSH keywords Ferry accepts and ignores. */
	IGN("forwardagent", "no"),
	IGN("forwardx11", "no"),
	IGN("forwardx11trusted", NULL),
	IGN("forwardx11timeout", NULL),
	IGN("controlmaster", "no"),
	IGN("controlpath", "none"),
	IGN("controlpersist", "no"),
	IGN("localforward", NULL),
	IGN("remoteforward", NULL),
	IGN("dynamicforward", NULL),
	IGN("clearallforwardings", "no"),
	IGN("exitonforwardfailure", "no"),
	IGN("gatewayports", "no"),
	IGN("permitremoteopen", "any"),
	IGN("tunnel", "no"),
	IGN("tunneldevice", NULL),
	IGN("localcommand", NULL),
	IGN("permitlocalcommand", "no"),
	IGN("remotecommand", "none"),
	IGN("requesttty", "auto"),
	IGN("sessiontype", "default"),
	IGN("stdinnull", "no"),
	IGN("forkafterauthentication", "no"),
	IGN("escapechar", NULL),
	IGN("enableescapecommandline", "no"),
	IGN("checkhostip", "no"),
	IGN("visualhostkey", "no"),
	IGN("updatehostkeys", "no"),
	IGN("verifyhostkeydns", "no"),
	IGN("hostbasedauthentication", "no"),
	IGN("hostbasedacceptedalgorithms", NULL),
	IGN("hostbasedkeytypes", NULL),
	IGN("enablesshkeysign", "no"),
	IGN("gssapiauthentication", "no"),
	IGN("gssapidelegatecredentials", "no"),
	IGN("gssapikeyexchange", "no"),
	IGN("gssapiclientidentity", NULL),
	IGN("gssapiserveridentity", NULL),
	IGN("gssapirenewalforcesrekey", "no"),
	IGN("gssapitrustdns", "no"),
	IGN("gssapikexalgorithms", NULL),
	IGN("kbdinteractivedevices", NULL),
	IGN("canonicalizehostname", "no"),
	IGN("canonicaldomains", NULL),
	IGN("canonicalizemaxdots", NULL),
	IGN("canonicalizefallbacklocal", NULL),
	IGN("canonicalizepermittedcnames", NULL),
	IGN("casignaturealgorithms", NULL),
	IGN("fingerprinthash", "sha256"),
	IGN("ipqos", NULL),
	IGN("tcpkeepalive", "yes"),
	IGN("logverbose", NULL),
	IGN("syslogfacility", NULL),
	IGN("xauthlocation", NULL),
	IGN("streamlocalbindmask", NULL),
	IGN("streamlocalbindunlink", "no"),
	IGN("nohostauthenticationforlocalhost", "no"),
	IGN("proxyusefdpass", "no"),
	IGN("securitykeyprovider", NULL),
	IGN("pkcs11provider", "none"),
	IGN("smartcarddevice", NULL),
	IGN("knownhostscommand", "none"),
	IGN("revokedhostkeys", NULL),
	IGN("requiredrsasize", NULL),
	IGN("bindinterface", NULL),
	IGN("hashknownhosts2", NULL),
	IGN("obscurekeystroketiming", NULL),
	IGN("tag", NULL),
	IGN("channeltimeout", NULL),
	IGN("versionaddendum", NULL),
	IGN("usekeychain", NULL),
	DEPR("protocol"),
	DEPR("cipher"),
	DEPR("fallbacktorsh"),
	DEPR("globalknownhostsfile2"),
	DEPR("rhostsauthentication"),
	DEPR("userknownhostsfile2"),
	DEPR("useroaming"),
	DEPR("usersh"),
	DEPR("useprivilegedport"),
	DEPR("rsaauthentication"),
	DEPR("rhostsrsaauthentication"),
	DEPR("compressionlevel"),
	DEPR("afstokenpassing"),
	DEPR("kerberosauthentication"),
	DEPR("kerberostgtpassing"),
	DEPR("dsaauthentication"),
	DEPR("idletimeout"),
};

#define SSHCONF_NKW (sizeof(sshconf_keywords) / sizeof(sshconf_keywords[0]))

static void
sshconf_err(struct sshconf_reader *rd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Log an error with the file and line, and count it. */
static void
sshconf_err(struct sshconf_reader *rd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s line %d: %s", rd->file, rd->line, msg);
	rd->errors++;
}

static const struct sshconf_kw *
sshconf_lookup(const char *kw)
{
	size_t i;

	for (i = 0; i < SSHCONF_NKW; i++)
		if (strcmp(sshconf_keywords[i].name, kw) == 0)
			return &sshconf_keywords[i];
	return NULL;
}

int
sshconf_keyword_known(const char *kw)
{
	char lower[64];

	if (misc_strlcpy(lower, kw, sizeof(lower)) >= sizeof(lower))
		return 0;
	return sshconf_lookup(config_lower(lower)) != NULL;
}

static int *
sshconf_intp(struct sshconf_reader *rd, const struct sshconf_kw *kw)
{
	return (int *)(void *)((char *)rd->c + kw->off);
}

static char **
sshconf_strp(struct sshconf_reader *rd, const struct sshconf_kw *kw)
{
	return (char **)(void *)((char *)rd->c + kw->off);
}

static struct config_strv *
sshconf_listp(struct sshconf_reader *rd, const struct sshconf_kw *kw)
{
	/* struct sshconf_list and struct config_strv share one layout. */
	return (struct config_strv *)(void *)((char *)rd->c + kw->off);
}

/* Store an int if this block applies and nothing was stored before. */
static void
sshconf_set_int(struct sshconf_reader *rd, int *p, int v)
{
	if (rd->active && *p == SSHCONF_UNSET)
		*p = v;
}

static int
sshconf_set_str(struct sshconf_reader *rd, char **p, const char *v)
{
	if (!rd->active || *p != NULL)
		return 0;
	if ((*p = strdup(v)) == NULL)
		return FERR_ALLOC;
	return 0;
}

/* Parse and store one keyword line whose arguments are av. */
static int
sshconf_apply(struct sshconf_reader *rd, const struct sshconf_kw *kw,
    struct config_strv *av, const char *rest)
{
	const char *errstr, *a = av->v[0];
	long long t;
	size_t i;
	int v, r = 0, nargs = 1;

	switch (kw->type) {
	case SC_FLAG:
	case SC_ENUM:
		if (config_enum_value(kw->tab, a, &v) != 0) {
			sshconf_err(rd, "unsupported option \"%s\".", a);
			return 0;
		}
		sshconf_set_int(rd, sshconf_intp(rd, kw), v);
		break;
	case SC_INT:
		v = (int)misc_strtonum(a, kw->min, kw->max, &errstr);
		if (errstr != NULL) {
			sshconf_err(rd, "%s value %s is %s.", kw->name, a,
			    errstr);
			return 0;
		}
		sshconf_set_int(rd, sshconf_intp(rd, kw), v);
		break;
	case SC_TIME:
		if ((kw->flags & SC_NONE) && strcasecmp(a, "none") == 0)
			t = -1;
		else if ((t = config_convtime(a)) == -1) {
			sshconf_err(rd, "invalid time value \"%s\".", a);
			return 0;
		}
		sshconf_set_int(rd, sshconf_intp(rd, kw), (int)t);
		break;
	case SC_STR:
		r = sshconf_set_str(rd, sshconf_strp(rd, kw), a);
		break;
	case SC_ALGS:
		if (config_check_algs(kw->algkind, a) != 0) {
			sshconf_err(rd, "Bad SSH2 algorithm list '%s' for %s.",
			    a, kw->name);
			return 0;
		}
		r = sshconf_set_str(rd, sshconf_strp(rd, kw), a);
		break;
	case SC_REST:
		nargs = (int)av->n;
		r = sshconf_set_str(rd, sshconf_strp(rd, kw), rest);
		break;
	case SC_FILES_ACC:
		if (!rd->active)
			break;
		for (i = 0; i < sshconf_listp(rd, kw)->n; i++)
			if (strcmp(sshconf_listp(rd, kw)->v[i], a) == 0)
				break;
		if (i < sshconf_listp(rd, kw)->n)
			break;	/* already listed */
		r = config_strv_add(sshconf_listp(rd, kw), a,
		    (size_t)kw->max);
		if (r == FERR_NUMBER_RANGE) {
			sshconf_err(rd, "too many %s entries (max %lld).",
			    kw->name, kw->max);
			r = 0;
		}
		break;
	case SC_FILES_ONCE:
		nargs = (int)av->n;
		if (av->n > (size_t)kw->max) {
			sshconf_err(rd, "too many %s entries (max %lld).",
			    kw->name, kw->max);
			break;
		}
		if (!rd->active || sshconf_listp(rd, kw)->n > 0)
			break;
		for (i = 0; i < av->n && r == 0; i++)
			r = config_strv_add(sshconf_listp(rd, kw), av->v[i],
			    (size_t)kw->max);
		break;
	case SC_SPECIAL:
		return kw->handler(rd, kw, av, rest);
	case SC_IGNORED:
		nargs = (int)av->n;
		if (kw->algkind != NULL && av->n == 1 &&
		    strcasecmp(a, kw->algkind) == 0)
			break;
		/*
		 * An OpenSSH keyword Ferry does not implement: said for the
		 * user's files, with -v only for the system file (Debian's
		 * sets GSSAPIAuthentication for every host).
		 */
		if (rd->active)
			log_msg(rd->flags & SSHCONF_USER ? LOGL_INFO :
			    LOGL_VERBOSE, "%s line %d: %s is not supported "
			    "by Ferry and is ignored", rd->file, rd->line,
			    kw->name);
		break;
	case SC_DEPRECATED:
		nargs = (int)av->n;
		log_msg(LOGL_INFO, "%s line %d: Deprecated option \"%s\"",
		    rd->file, rd->line, kw->name);
		break;
	default:
		return FERR_INTERNAL;
	}
	if (r == 0 && av->n > (size_t)nargs)
		sshconf_err(rd, "keyword %s extra arguments at end of line",
		    kw->name);
	return r;
}

static int
sshconf_h_loglevel(struct sshconf_reader *rd, const struct sshconf_kw *kw,
    struct config_strv *av, const char *rest)
{
	int v;

	(void)rest;
	if (config_enum_value(sshconf_loglevel_tab, av->v[0], &v) != 0) {
		sshconf_err(rd, "unsupported log level '%s'", av->v[0]);
		return 0;
	}
	sshconf_set_int(rd, sshconf_intp(rd, kw), v);
	if (av->n > 1)
		sshconf_err(rd, "keyword %s extra arguments at end of line",
		    kw->name);
	return 0;
}

static int
sshconf_h_addkeys(struct sshconf_reader *rd, const struct sshconf_kw *kw,
    struct config_strv *av, const char *rest)
{
	static const struct config_enum tab[] = {
		{ "no", 0 }, { "false", 0 }, { "yes", 1 }, { "true", 1 },
		{ "ask", 1 }, { "confirm", 1 }, { NULL, 0 }
	};
	int v = 1;

	(void)rest;
	/* A bare time ("AddKeysToAgent 1h") is a lifetime: also "yes". */
	if (config_enum_value(tab, av->v[0], &v) != 0 &&
	    config_convtime(av->v[0]) == -1) {
		sshconf_err(rd, "unsupported option \"%s\".", av->v[0]);
		return 0;
	}
	/* "confirm 5m": a time may follow confirm. */
	if (av->n > 2 || (av->n == 2 && (strcasecmp(av->v[0], "confirm") != 0 ||
	    config_convtime(av->v[1]) == -1))) {
		sshconf_err(rd, "keyword %s extra arguments at end of line",
		    kw->name);
		return 0;
	}
	if (v != 0 && rd->active)
		log_msg(LOGL_INFO, "%s line %d: Ferry does not add keys to "
		    "an agent: AddKeysToAgent %s is ignored", rd->file,
		    rd->line, av->v[0]);
	sshconf_set_int(rd, sshconf_intp(rd, kw), 0);
	return 0;
}

/* RekeyLimit BYTES|default [TIME|default|none] */
static int
sshconf_h_rekey(struct sshconf_reader *rd, const struct sshconf_kw *kw,
    struct config_strv *av, const char *rest)
{
	unsigned long long bytes = 0;
	long long t = 0;

	(void)rest;
	if (strcmp(av->v[0], "default") != 0) {
		if (config_scan_scaled(av->v[0], &bytes) != 0 ||
		    bytes > (unsigned long long)LLONG_MAX) {
			sshconf_err(rd, "Bad RekeyLimit: %s", av->v[0]);
			return 0;
		}
		if (bytes != 0 && bytes < 16) {
			sshconf_err(rd, "RekeyLimit too small");
			return 0;
		}
	}
	if (av->n >= 2 && strcmp(av->v[1], "default") != 0 &&
	    strcmp(av->v[1], "none") != 0 &&
	    (t = config_convtime(av->v[1])) == -1) {
		sshconf_err(rd, "invalid time value \"%s\".", av->v[1]);
		return 0;
	}
	if (av->n > 2) {
		sshconf_err(rd, "keyword %s extra arguments at end of line",
		    kw->name);
		return 0;
	}
	if (rd->active && rd->c->rekey_limit == -1)
		rd->c->rekey_limit = (long long)bytes;
	if (av->n >= 2)
		sshconf_set_int(rd, &rd->c->rekey_interval, (int)t);
	return 0;
}

/* An environment variable name pattern: no '='. */
static int
sshconf_h_sendenv(struct sshconf_reader *rd, const struct sshconf_kw *kw,
    struct config_strv *av, const char *rest)
{
	struct config_strv *l = sshconf_strv(&rd->c->send_env);
	size_t i, j, k;
	int r;

	(void)kw;
	(void)rest;
	for (i = 0; i < av->n; i++) {
		if (strchr(av->v[i], '=') != NULL || av->v[i][0] == '\0') {
			sshconf_err(rd, "Invalid environment name.");
			return 0;
		}
	}
	if (!rd->active)
		return 0;
	for (i = 0; i < av->n; i++) {
		if (av->v[i][0] != '-') {
			if ((r = config_strv_add(l, av->v[i], 256)) != 0) {
				sshconf_err(rd, "too many SendEnv entries.");
				return 0;
			}
			continue;
		}
		/* "-PATTERN" removes what PATTERN matches. */
		for (j = k = 0; j < l->n; j++) {
			if (config_match_pattern(l->v[j], av->v[i] + 1))
				free(l->v[j]);
			else
				l->v[k++] = l->v[j];
		}
		l->n = k;
		if (l->v != NULL)
			l->v[k] = NULL;
	}
	return 0;
}

/* SetEnv NAME=VALUE ...: the first line that applies wins. */
static int
sshconf_h_setenv(struct sshconf_reader *rd, const struct sshconf_kw *kw,
    struct config_strv *av, const char *rest)
{
	struct config_strv *l = sshconf_strv(&rd->c->set_env);
	size_t i, j, nlen;
	int first = l->n == 0, dup;

	(void)kw;
	(void)rest;
	for (i = 0; i < av->n; i++) {
		if (strchr(av->v[i], '=') == NULL || av->v[i][0] == '=') {
			sshconf_err(rd, "Invalid SetEnv.");
			return 0;
		}
	}
	if (!rd->active || !first)
		return 0;
	for (i = 0; i < av->n; i++) {
		nlen = (size_t)(strchr(av->v[i], '=') - av->v[i]);
		for (dup = 0, j = 0; j < l->n && !dup; j++)
			dup = strncmp(l->v[j], av->v[i], nlen + 1) == 0;
		if (!dup && config_strv_add(l, av->v[i], 256) != 0) {
			sshconf_err(rd, "too many SetEnv entries.");
			return 0;
		}
	}
	return 0;
}

/* Check one [user@]host[:port] hop; ssh:// URIs are reduced to that. */
static int
sshconf_check_hop(const char *hop)
{
	const char *at, *host, *colon, *errstr, *close;

	if ((at = strrchr(hop, '@')) != NULL && at == hop)
		return FERR_CONFIG;
	host = at == NULL ? hop : at + 1;
	if (*host == '[') {
		if ((close = strchr(host, ']')) == NULL || close == host + 1)
			return FERR_CONFIG;
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] != '\0' && colon == NULL)
			return FERR_CONFIG;
	} else {
		colon = strchr(host, ':');
		if (colon == host || *host == '\0')
			return FERR_CONFIG;
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return FERR_CONFIG;
	}
	if (colon != NULL) {
		(void)misc_strtonum(colon + 1, 1, 65535, &errstr);
		if (errstr != NULL)
			return FERR_CONFIG;
	}
	return 0;
}

static int
sshconf_h_proxyjump(struct sshconf_reader *rd, const struct sshconf_kw *kw,
    struct config_strv *av, const char *rest)
{
	struct buf *b = NULL;
	char *copy = NULL, *p, *hop;
	int r = 0, bad = 0;

	(void)kw;
	(void)rest;
	if (av->n > 1) {
		sshconf_err(rd, "keyword proxyjump extra arguments at end "
		    "of line");
		return 0;
	}
	if (strcasecmp(av->v[0], "none") == 0) {
		if (rd->c->proxy_command == NULL)
			r = sshconf_set_str(rd, &rd->c->proxy_jump, "none");
		return r;
	}
	if ((b = buf_new()) == NULL || (copy = strdup(av->v[0])) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	for (p = copy; (hop = strsep(&p, ",")) != NULL && r == 0;) {
		if (strncmp(hop, "ssh://", 6) == 0)
			hop += 6;
		if (sshconf_check_hop(hop) != 0)
			bad = 1;
		if (buf_len(b) > 0)
			r = buf_put(b, ",", 1);
		if (r == 0)
			r = buf_put(b, hop, strlen(hop));
	}
	if (r == 0)
		r = buf_put(b, "", 1);
	if (r != 0)
		goto out;
	if (bad) {
		sshconf_err(rd, "Invalid ProxyJump \"%s\"", av->v[0]);
		goto out;
	}
	/* ProxyCommand and ProxyJump exclude each other: the first wins. */
	if (rd->c->proxy_command == NULL)
		r = sshconf_set_str(rd, &rd->c->proxy_jump,
		    (const char *)buf_ptr(b));
 out:
	free(copy);
	buf_free(b);
	return r;
}

/* Host PATTERN...: applies when a pattern matches and none negated. */
static int
sshconf_h_host(struct sshconf_reader *rd, const struct sshconf_kw *kw,
    struct config_strv *av, const char *rest)
{
	char *host = NULL, *pat;
	size_t i;
	int match = 0, neg;

	(void)kw;
	(void)rest;
	if (rd->cmdline) {
		sshconf_err(rd, "Host directive not supported as a "
		    "command-line option");
		return 0;
	}
	/* As OpenSSH, Host compares case-sensitively (Match does not). */
	if ((host = strdup(rd->host)) == NULL)
		return FERR_ALLOC;
	for (i = 0; i < av->n; i++) {
		pat = av->v[i];
		neg = *pat == '!';
		if (neg)
			pat++;
		if (config_match_pattern(host, pat)) {
			if (neg) {
				log_debug("%s line %d: Skipping Host block "
				    "because of negated match for %s",
				    rd->file, rd->line, pat);
				match = 0;
				break;
			}
			match = 1;
		}
	}
	free(host);
	rd->active = match && !(rd->flags & SSHCONF_NEVERMATCH);
	return 0;
}

/* The host Match host compares: HostName with %h expanded, or the host. */
static int
sshconf_match_hostname(struct sshconf_reader *rd, char **outp)
{
	struct config_token t[] = { { 'h', rd->host } };

	if (rd->c->hostname == NULL) {
		*outp = strdup(rd->host);
		return *outp == NULL ? FERR_ALLOC : 0;
	}
	if (config_expand(rd->c->hostname, t, 1, outp) != 0)
		*outp = strdup(rd->c->hostname);
	return *outp == NULL ? FERR_ALLOC : 0;
}

/*
 * Match [!]CRITERION [ARG] ...: all criteria must hold.  exec and the
 * criteria of newer OpenSSH releases are refused with a message.
 */
static int
sshconf_h_match(struct sshconf_reader *rd, const struct sshconf_kw *kw,
    struct config_strv *av, const char *rest)
{
	const char *ruser;
	char *attr, *host = NULL, *lhost = NULL;
	size_t i = 0;
	int result = 1, neg, r = 0, nattr = 0, m, prefix = 1;

	(void)kw;
	(void)rest;
	if (rd->cmdline) {
		sshconf_err(rd, "Match directive not supported as a "
		    "command-line option");
		return 0;
	}
	while (i < av->n) {
		attr = av->v[i++];
		nattr++;
		neg = *attr == '!';
		if (neg)
			attr++;
		config_lower(attr);
		if (strcmp(attr, "all") == 0) {
			if (!prefix || i < av->n) {
				sshconf_err(rd, "'all' cannot be combined with "
				    "other Match attributes");
				result = 0;
				goto out;
			}
			if (neg)
				result = 0;
			continue;
		}
		if (strcmp(attr, "canonical") == 0 ||
		    strcmp(attr, "final") == 0) {
			/*
			 * Ferry does not canonicalise names: both hold in
			 * the final pass only, which Match final requests.
			 */
			if (strcmp(attr, "final") == 0 && rd->want_final)
				*rd->want_final = 1;
			m = (rd->flags & SSHCONF_FINAL) != 0;
			if (m == neg)
				result = 0;
			continue;
		}
		prefix = 0;
		if (strcmp(attr, "exec") == 0) {
			sshconf_err(rd, "Match exec is not supported by Ferry");
			result = 0;
			goto out;
		}
		if (strcmp(attr, "host") != 0 &&
		    strcmp(attr, "originalhost") != 0 &&
		    strcmp(attr, "user") != 0 &&
		    strcmp(attr, "localuser") != 0) {
			sshconf_err(rd, "Unsupported Match attribute %s", attr);
			result = 0;
			goto out;
		}
		if (i >= av->n || av->v[i][0] == '\0') {
			sshconf_err(rd, "Missing Match criteria for %s", attr);
			result = 0;
			goto out;
		}
		if (strcmp(attr, "host") == 0) {
			free(host);
			if ((r = sshconf_match_hostname(rd, &host)) != 0)
				goto out;
			config_lower(host);
			m = config_match_list(host, av->v[i], 1) == 1;
		} else if (strcmp(attr, "originalhost") == 0) {
			free(lhost);
			if ((lhost = strdup(rd->original_host)) == NULL) {
				r = FERR_ALLOC;
				goto out;
			}
			config_lower(lhost);
			m = config_match_list(lhost, av->v[i], 1) == 1;
		} else if (strcmp(attr, "user") == 0) {
			ruser = rd->c->user != NULL ? rd->c->user :
			    rd->env->local_user;
			m = config_match_list(ruser, av->v[i], 0) == 1;
		} else
			m = config_match_list(rd->env->local_user, av->v[i],
			    0) == 1;
		if (m == neg)
			result = 0;
		i++;
	}
	if (nattr == 0) {
		sshconf_err(rd, "One or more attributes required for Match");
		result = 0;
	}
 out:
	free(host);
	free(lhost);
	rd->active = result && !(rd->flags & SSHCONF_NEVERMATCH);
	return r;
}

/* Include PATH...: globs, relative to ~/.ssh or /etc/ssh. */
static int
sshconf_h_include(struct sshconf_reader *rd, const struct sshconf_kw *kw,
    struct config_strv *av, const char *rest)
{
	struct config_strv files = { NULL, 0 };
	struct sshconf_reader sub;
	struct buf *b = NULL;
	size_t i, j;
	int r = 0, oactive = rd->active;

	(void)kw;
	(void)rest;
	if (rd->cmdline) {
		sshconf_err(rd, "Include directive not supported as a "
		    "command-line option");
		return 0;
	}
	for (i = 0; i < av->n; i++) {
		if (av->v[i][0] == '~' && !(rd->flags & SSHCONF_USER)) {
			sshconf_err(rd, "bad include path %s.", av->v[i]);
			continue;
		}
		config_strv_free(&files);
		r = config_include_glob(av->v[i], rd->dir, rd->env->home,
		    &files);
		if (r == FERR_ALLOC)
			goto out;
		if (r != 0) {
			sshconf_err(rd, "include \"%s\" glob failed",
			    av->v[i]);
			r = 0;
			continue;
		}
		if (files.n == 0)
			log_debug2("%s line %d: include %s matched no files",
			    rd->file, rd->line, av->v[i]);
		for (j = 0; j < files.n; j++) {
			if (rd->depth + 1 > CONFIG_MAX_DEPTH) {
				sshconf_err(rd, "Too many recursive "
				    "configuration includes");
				goto out;
			}
			r = config_read_file(files.v[j], 1, rd->env->uid, &b);
			if (r != 0) {
				if (r == FERR_SYSTEM && errno == ENOENT) {
					r = 0;
					continue;
				}
				sshconf_err(rd, "Can't open config file %s: %s",
				    files.v[j], r == FERR_SYSTEM ?
				    strerror(errno) : "bad owner or "
				    "permissions");
				r = 0;
				continue;
			}
			sub = *rd;
			sub.file = files.v[j];
			sub.line = 0;
			sub.depth = rd->depth + 1;
			sub.errors = 0;
			sub.flags |= oactive ? 0 : SSHCONF_NEVERMATCH;
			sub.active = oactive;
			r = sshconf_read_buf(&sub, b);
			buf_free(b);
			b = NULL;
			rd->errors += sub.errors;
			/* Blocks of the included file end with it. */
			rd->active = oactive;
			if (r != 0)
				goto out;
		}
	}
 out:
	config_strv_free(&files);
	buf_free(b);
	return r;
}

/* Process one line: returns 0 (errors are counted) or a fatal code. */
static int
sshconf_line(struct sshconf_reader *rd, char *line)
{
	const struct sshconf_kw *kw;
	struct config_strv av = { NULL, 0 };
	char *key, *rest;
	int r;

	if ((r = config_split_line(line, &key, &rest)) == 1)
		return 0;
	if (r != 0) {
		sshconf_err(rd, "missing keyword");
		return 0;
	}
	config_lower(key);
	if (*rest == '\0') {
		sshconf_err(rd, "no argument after keyword \"%s\"", key);
		return 0;
	}
	if ((kw = sshconf_lookup(key)) == NULL) {
		if (rd->c->ignore_unknown != NULL &&
		    config_match_list(key, rd->c->ignore_unknown, 1) == 1) {
			log_debug("%s line %d: ignoring unknown option \"%s\"",
			    rd->file, rd->line, key);
			return 0;
		}
		sshconf_err(rd, "Bad configuration option: %s", key);
		return 0;
	}
	if ((r = config_argv_split(rest, &av)) != 0) {
		if (r == FERR_ALLOC)
			return r;
		sshconf_err(rd, "invalid quotes");
		return 0;
	}
	if (av.n == 0 && kw->type != SC_REST)
		sshconf_err(rd, "%s: missing argument.", key);
	else if (av.n == 0)
		r = sshconf_set_str(rd, sshconf_strp(rd, kw), rest);
	else
		r = sshconf_apply(rd, kw, &av, rest);
	config_strv_free(&av);
	return r;
}

static int
sshconf_read_buf(struct sshconf_reader *rd, struct buf *b)
{
	char *line;
	int r;

	rd->active = rd->active && !(rd->flags & SSHCONF_NEVERMATCH);
	for (;;) {
		r = config_next_line(b, &line);
		if (r == FERR_EOF)
			return 0;
		rd->line++;
		if (r == FERR_FORMAT) {
			sshconf_err(rd, "NUL character in line");
			continue;
		}
		if (r != 0)
			return r;
		r = sshconf_line(rd, line);
		free(line);
		if (r != 0)
			return r;
	}
}

/* A reader for env and flags; *dirp is allocated (Include's base). */
static int
sshconf_reader_init(struct sshconf_reader *rd, struct sshconf *c,
    const struct sshconf_env *env, const char *file, int flags,
    int *want_final)
{
	char *dir = NULL;
	int r;

	memset(rd, 0, sizeof(*rd));
	rd->c = c;
	rd->env = env;
	rd->file = file;
	rd->flags = flags;
	rd->active = 1;
	rd->want_final = want_final;
	rd->original_host = env->host != NULL ? env->host : "";
	rd->host = rd->original_host;
	if (flags & SSHCONF_FINAL)
		rd->host = c->hostname_expanded != NULL ?
		    c->hostname_expanded : rd->original_host;
	if (flags & SSHCONF_USER) {
		if ((r = config_tilde(env->user_dir != NULL ? env->user_dir :
		    "~/.ssh", env->home, &dir)) != 0)
			return r;
	} else if ((dir = strdup(env->system_dir != NULL ?
	    env->system_dir : "/etc/ssh")) == NULL)
		return FERR_ALLOC;
	rd->dir = dir;
	return 0;
}

/* Read b as the file name with a new reader: FERR_CONFIG for errors. */
static int
sshconf_read_named(struct sshconf *c, const struct sshconf_env *env,
    const char *name, int flags, int *want_final, struct buf *b)
{
	struct sshconf_reader rd;
	int r;

	if ((r = sshconf_reader_init(&rd, c, env, name, flags,
	    want_final)) != 0)
		return r;
	r = sshconf_read_buf(&rd, b);
	free(rd.dir);
	if (r == 0 && rd.errors > 0)
		r = FERR_CONFIG;
	return r;
}

int
sshconf_read_string(struct sshconf *c, const struct sshconf_env *env,
    const char *text, size_t len, const char *name, int flags,
    int *want_final)
{
	struct buf *b;
	int r;

	if ((b = buf_from(text, len)) == NULL)
		return FERR_ALLOC;
	r = sshconf_read_named(c, env, name, flags, want_final, b);
	buf_free(b);
	return r;
}

int
sshconf_read_file(struct sshconf *c, const struct sshconf_env *env,
    const char *path, int flags, int *want_final)
{
	struct buf *b = NULL;
	int r;

	if ((r = config_read_file(path, (flags & SSHCONF_CHECKPERM) != 0,
	    env->uid, &b)) != 0) {
		if (r == FERR_PERMISSION)
			log_error("Bad owner or permissions on %s", path);
		return r;
	}
	r = sshconf_read_named(c, env, path, flags, want_final, b);
	buf_free(b);
	return r;
}

int
sshconf_option(struct sshconf *c, const struct sshconf_env *env,
    const char *line)
{
	struct sshconf_reader rd;
	char *copy;
	int r;

	if ((r = sshconf_reader_init(&rd, c, env, "command-line", 0,
	    NULL)) != 0)
		return r;
	rd.cmdline = 1;
	if ((copy = strdup(line)) == NULL) {
		free(rd.dir);
		return FERR_ALLOC;
	}
	r = sshconf_line(&rd, copy);
	free(copy);
	free(rd.dir);
	if (r == 0 && rd.errors > 0)
		r = FERR_CONFIG;
	return r;
}

/* Read the user's and the system file, or file; flags add to each. */
static int
sshconf_pass(struct sshconf *c, const struct sshconf_env *env,
    const char *file, int flags, int *want_final)
{
	char *path = NULL;
	int r;

	if (file != NULL) {
		if ((r = sshconf_read_file(c, env, file, flags | SSHCONF_USER,
		    want_final)) != 0 && r != FERR_CONFIG)
			log_error("Can't open user config file %s: %s", file,
			    r == FERR_SYSTEM ? strerror(errno) : err_str(r));
		return r;
	}
	if ((r = config_tilde(env->user_config != NULL ? env->user_config :
	    "~/.ssh/config", env->home, &path)) != 0)
		return r;
	r = sshconf_read_file(c, env, path, flags | SSHCONF_USER |
	    SSHCONF_CHECKPERM, want_final);
	free(path);
	if (r == FERR_SYSTEM && errno == ENOENT)
		r = 0;
	if (r != 0)
		return r;
	r = sshconf_read_file(c, env, env->system_config != NULL ?
	    env->system_config : "/etc/ssh/ssh_config", flags, want_final);
	if (r == FERR_SYSTEM && errno == ENOENT)
		r = 0;
	return r;
}

int
sshconf_load(struct sshconf *c, const struct sshconf_env *env,
    const char *file)
{
	struct config_token t[] = { { 'h', env->host } };
	int r, want_final = 0;

	if ((r = sshconf_pass(c, env, file, 0, &want_final)) != 0)
		return r;
	if (!want_final)
		return 0;
	/* The final pass matches Host against the resolved HostName. */
	free(c->hostname_expanded);
	c->hostname_expanded = NULL;
	if (c->hostname != NULL)
		r = config_expand(c->hostname, t, 1, &c->hostname_expanded);
	else if ((c->hostname_expanded = strdup(env->host)) == NULL)
		r = FERR_ALLOC;
	if (r != 0)
		return r == FERR_CONFIG ? r : FERR_ALLOC;
	config_lower(c->hostname_expanded);
	/* As ssh: HostName holds the resolved name from now on. */
	free(c->hostname);
	if ((c->hostname = strdup(c->hostname_expanded)) == NULL)
		return FERR_ALLOC;
	return sshconf_pass(c, env, file, SSHCONF_FINAL, NULL);
}
