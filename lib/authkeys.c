/*
 * authorized_keys: key options, from="" patterns with CIDR blocks, and
 * the server's decision for an offered key.  See ferry/authkeys.h for
 * the format.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ferry/authkeys.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/knownhosts.h"
#include "ferry/log.h"
#include "misc.h"

#define AK_NAME_CHARS	"abcdefghijklmnopqrstuvwxyz" \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
#define AK_TUNNEL_MAX	0x7ffffffd
#define AK_NO_FLAG	((size_t)-1)

struct authkeys_opts *
authkeys_opts_new(void)
{
	struct authkeys_opts *o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->permit_pty = 1;
	o->permit_port_forwarding = 1;
	o->permit_agent_forwarding = 1;
	o->permit_x11_forwarding = 1;
	o->permit_user_rc = 1;
	o->tunnel = -1;
	return o;
}

static void
ak_free_list(char **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void
authkeys_opts_free(struct authkeys_opts *o)
{
	if (o == NULL)
		return;
	free(o->force_command);
	free(o->from);
	free(o->principals);
	ak_free_list(o->env, o->nenv);
	ak_free_list(o->permitopen, o->npermitopen);
	ak_free_list(o->permitlisten, o->npermitlisten);
	free(o);
}

/* Append val (taken over) to a list; FERR_NUMBER_RANGE when full. */
static int
ak_list_add(char ***lp, size_t *np, char *val)
{
	char **l;

	if (*np >= AUTHKEYS_LIST_MAX)
		return FERR_NUMBER_RANGE;
	if ((l = reallocarray(*lp, *np + 1, sizeof(*l))) == NULL)
		return FERR_ALLOC;
	l[(*np)++] = val;
	*lp = l;
	return 0;
}

/* A string option that may appear once. */
static int
ak_once(char **slot, char **val, const char *what, const char **errstr)
{
	if (*slot != NULL) {
		*errstr = what;
		return FERR_FORMAT;
	}
	*slot = *val;
	*val = NULL;
	return 0;
}

static int
ak_opt_restrict(struct authkeys_opts *o, char **val, const char **errstr)
{
	(void)val;
	(void)errstr;
	o->restricted = 1;
	o->permit_pty = 0;
	o->permit_port_forwarding = 0;
	o->permit_agent_forwarding = 0;
	o->permit_x11_forwarding = 0;
	o->permit_user_rc = 0;
	return 0;
}

static int
ak_opt_command(struct authkeys_opts *o, char **val, const char **errstr)
{
	return ak_once(&o->force_command, val, "multiple command clauses",
	    errstr);
}

static int
ak_opt_from(struct authkeys_opts *o, char **val, const char **errstr)
{
	if (**val == '\0') {
		*errstr = "empty from pattern";
		return FERR_FORMAT;
	}
	return ak_once(&o->from, val, "multiple from clauses", errstr);
}

static int
ak_opt_principals(struct authkeys_opts *o, char **val, const char **errstr)
{
	return ak_once(&o->principals, val, "multiple principals clauses",
	    errstr);
}

static int
ak_opt_environment(struct authkeys_opts *o, char **val, const char **errstr)
{
	const char *s = *val;
	size_t i, n;

	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_");
	if (n == 0 || s[n] != '=') {
		*errstr = "invalid environment string";
		return FERR_FORMAT;
	}
	/* The first value of a name wins, as in sshd. */
	for (i = 0; i < o->nenv; i++)
		if (strncmp(o->env[i], s, n + 1) == 0)
			return 0;
	if (ak_list_add(&o->env, &o->nenv, *val) != 0) {
		*errstr = "too many environment strings";
		return FERR_FORMAT;
	}
	*val = NULL;
	return 0;
}

/* A port: 1..65535, or "*" when any is allowed. */
static int
ak_valid_port(const char *s)
{
	const char *errstr;

	if (strcmp(s, "*") == 0)
		return 1;
	(void)misc_strtonum(s, 1, 65535, &errstr);
	return errstr == NULL;
}

/*
 * "host:port", "[v6host]:port", or with may_omit_host "port" alone.
 * The host may not be empty.
 */
static int
ak_valid_hostport(const char *s, int may_omit_host)
{
	const char *colon;

	if (*s == '[') {
		if ((colon = strchr(s, ']')) == NULL || colon == s + 1 ||
		    colon[1] != ':')
			return 0;
		return ak_valid_port(colon + 2);
	}
	if ((colon = strrchr(s, ':')) == NULL)
		return may_omit_host && ak_valid_port(s);
	if (colon == s || memchr(s, ':', (size_t)(colon - s)) != NULL)
		return 0;
	return ak_valid_port(colon + 1);
}

static int
ak_opt_permitopen(struct authkeys_opts *o, char **val, const char **errstr)
{
	if (!ak_valid_hostport(*val, 0)) {
		*errstr = "invalid permitopen host:port";
		return FERR_FORMAT;
	}
	if (ak_list_add(&o->permitopen, &o->npermitopen, *val) != 0) {
		*errstr = "too many permitopen clauses";
		return FERR_FORMAT;
	}
	*val = NULL;
	return 0;
}

static int
ak_opt_permitlisten(struct authkeys_opts *o, char **val, const char **errstr)
{
	if (!ak_valid_hostport(*val, 1)) {
		*errstr = "invalid permitlisten [host:]port";
		return FERR_FORMAT;
	}
	if (ak_list_add(&o->permitlisten, &o->npermitlisten, *val) != 0) {
		*errstr = "too many permitlisten clauses";
		return FERR_FORMAT;
	}
	*val = NULL;
	return 0;
}

static int
ak_opt_tunnel(struct authkeys_opts *o, char **val, const char **errstr)
{
	const char *e;
	long long n;

	n = misc_strtonum(*val, 0, AK_TUNNEL_MAX, &e);
	if (e != NULL || o->tunnel != -1) {
		*errstr = e != NULL ? "invalid tunnel number" :
		    "multiple tunnel clauses";
		return FERR_FORMAT;
	}
	o->tunnel = (int)n;
	return 0;
}

/*
 * expiry-time: YYYYMMDD or YYYYMMDDHHMM[SS], local time unless followed
 * by "Z" (UTC).  Several clauses: the earliest wins.
 */
static int
ak_opt_expiry(struct authkeys_opts *o, char **val, const char **errstr)
{
	const char *s = *val;
	struct tm tm;
	size_t n = strspn(s, "0123456789");
	int utc = 0, i, f[6] = { 0, 0, 0, 0, 0, 0 };
	time_t t;

	*errstr = "invalid expiry-time";
	if ((s[n] == 'Z' || s[n] == 'z') && s[n + 1] == '\0')
		utc = 1;
	else if (s[n] != '\0')
		return FERR_FORMAT;
	if (n != 8 && n != 12 && n != 14)
		return FERR_FORMAT;
	f[0] = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	for (i = 1; (size_t)(4 + 2 * i) <= n; i++)
		f[i] = (s[2 + 2 * i] - '0') * 10 + (s[3 + 2 * i] - '0');
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 ||
	    f[3] > 23 || f[4] > 59 || f[5] > 60)
		return FERR_FORMAT;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	tm.tm_isdst = -1;
	if ((t = utc ? timegm(&tm) : mktime(&tm)) == (time_t)-1 || t <= 0)
		return FERR_FORMAT;
	if (o->valid_before == 0 || (uint64_t)t < o->valid_before)
		o->valid_before = (uint64_t)t;
	*errstr = NULL;
	return 0;
}

static const struct ak_option {
	const char *name;
	int has_value;		/* takes ="value" */
	size_t flag;		/* offset of an int to set, or AK_NO_FLAG */
	int set;		/* the value it gets */
	int (*fn)(struct authkeys_opts *, char **, const char **);
} ak_options[] = {
	{ "restrict", 0, AK_NO_FLAG, 0, ak_opt_restrict },
	{ "cert-authority", 0,
	    offsetof(struct authkeys_opts, cert_authority), 1, NULL },
	{ "no-pty", 0, offsetof(struct authkeys_opts, permit_pty), 0, NULL },
	{ "pty", 0, offsetof(struct authkeys_opts, permit_pty), 1, NULL },
	{ "no-port-forwarding", 0,
	    offsetof(struct authkeys_opts, permit_port_forwarding), 0, NULL },
	{ "port-forwarding", 0,
	    offsetof(struct authkeys_opts, permit_port_forwarding), 1, NULL },
	{ "no-agent-forwarding", 0,
	    offsetof(struct authkeys_opts, permit_agent_forwarding), 0, NULL },
	{ "agent-forwarding", 0,
	    offsetof(struct authkeys_opts, permit_agent_forwarding), 1, NULL },
	{ "no-X11-forwarding", 0,
	    offsetof(struct authkeys_opts, permit_x11_forwarding), 0, NULL },
	{ "X11-forwarding", 0,
	    offsetof(struct authkeys_opts, permit_x11_forwarding), 1, NULL },
	{ "no-user-rc", 0, offsetof(struct authkeys_opts, permit_user_rc), 0,
	    NULL },
	{ "user-rc", 0, offsetof(struct authkeys_opts, permit_user_rc), 1,
	    NULL },
	{ "no-touch-required", 0,
	    offsetof(struct authkeys_opts, no_require_user_presence), 1,
	    NULL },
	{ "verify-required", 0,
	    offsetof(struct authkeys_opts, require_verify), 1, NULL },
	{ "command", 1, AK_NO_FLAG, 0, ak_opt_command },
	{ "from", 1, AK_NO_FLAG, 0, ak_opt_from },
	{ "environment", 1, AK_NO_FLAG, 0, ak_opt_environment },
	{ "expiry-time", 1, AK_NO_FLAG, 0, ak_opt_expiry },
	{ "principals", 1, AK_NO_FLAG, 0, ak_opt_principals },
	{ "permitopen", 1, AK_NO_FLAG, 0, ak_opt_permitopen },
	{ "permitlisten", 1, AK_NO_FLAG, 0, ak_opt_permitlisten },
	{ "tunnel", 1, AK_NO_FLAG, 0, ak_opt_tunnel },
};

static const struct ak_option *
ak_option_lookup(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(ak_options) / sizeof(ak_options[0]); i++)
		if (strlen(ak_options[i].name) == len &&
		    strncasecmp(ak_options[i].name, name, len) == 0)
			return &ak_options[i];
	return NULL;
}

/*
 * Read a double-quoted value at *sp (which points at the quote) into a
 * new string; \" stands for a quote, other backslashes are kept.
 */
static int
ak_quoted(const char **sp, char **valp, const char **errstr)
{
	const char *s = *sp + 1;
	char *v;
	size_t n = 0;

	if ((v = malloc(strlen(s) + 1)) == NULL)
		return FERR_ALLOC;
	for (; *s != '"'; s++) {
		if (*s == '\0' || *s == '\n' || *s == '\r') {
			free(v);
			*errstr = "unterminated quote";
			return FERR_FORMAT;
		}
		if (s[0] == '\\' && s[1] == '"')
			s++;
		v[n++] = *s;
	}
	v[n] = '\0';
	*sp = s + 1;
	*valp = v;
	return 0;
}

int
authkeys_parse_options(const char *s, struct authkeys_opts **optsp,
    const char **restp, const char **errstrp)
{
	const struct ak_option *opt;
	struct authkeys_opts *o;
	const char *errstr = NULL;
	char *val = NULL;
	size_t n;
	int r;

	*optsp = NULL;
	if (errstrp != NULL)
		*errstrp = NULL;
	if (s == NULL)
		return FERR_ARGUMENT;
	if ((o = authkeys_opts_new()) == NULL)
		return FERR_ALLOC;
	for (;;) {
		n = strspn(s, AK_NAME_CHARS);
		if ((opt = ak_option_lookup(s, n)) == NULL) {
			errstr = n == 0 ? "bad option syntax" :
			    "unknown option";
			r = FERR_FORMAT;
			goto out;
		}
		s += n;
		if (opt->has_value) {
			if (s[0] != '=' || s[1] != '"') {
				errstr = "option needs a quoted value";
				r = FERR_FORMAT;
				goto out;
			}
			s++;
			if ((r = ak_quoted(&s, &val, &errstr)) != 0)
				goto out;
		} else if (*s == '=') {
			errstr = "option takes no value";
			r = FERR_FORMAT;
			goto out;
		}
		if (opt->flag != AK_NO_FLAG)
			*(int *)(void *)((char *)o + opt->flag) = opt->set;
		if (opt->fn != NULL && (r = opt->fn(o, &val, &errstr)) != 0)
			goto out;
		free(val);
		val = NULL;
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == ' ' || *s == '\t')
			break;
		errstr = *s == '\0' ? "no key after the options" :
		    "bad option syntax";
		r = FERR_FORMAT;
		goto out;
	}
	s += strspn(s, " \t");
	r = 0;
 out:
	free(val);
	if (r != 0) {
		authkeys_opts_free(o);
		if (errstrp != NULL)
			*errstrp = errstr;
		return r;
	}
	if (restp != NULL)
		*restp = s;
	*optsp = o;
	return 0;
}

void
authkeys_entry_free(struct authkeys_entry *ent)
{
	if (ent == NULL)
		return;
	authkeys_opts_free(ent->opts);
	key_free(ent->key);
	free(ent);
}

/* The key type word at s, if OpenSSH knows it: 1, else 0. */
static int
ak_starts_with_type(const char *s, int *supportedp)
{
	char word[64];
	size_t n = strcspn(s, " \t\r\n");

	*supportedp = 0;
	if (n == 0 || n >= sizeof(word))
		return 0;
	memcpy(word, s, n);
	word[n] = '\0';
	*supportedp = key_type_from_name(word) != KEY_UNSPEC;
	return key_type_name_known(word);
}

int
authkeys_parse_line(const char *line, struct authkeys_entry **entp,
    const char **errstrp)
{
	struct authkeys_entry *ent;
	const char *s = line, *errstr = NULL;
	int r, supported;

	*entp = NULL;
	if (errstrp != NULL)
		*errstrp = NULL;
	if (line == NULL)
		return FERR_ARGUMENT;
	s += strspn(s, " \t");
	if (*s == '\0' || *s == '#' || *s == '\n' || *s == '\r')
		return 0;
	if ((ent = calloc(1, sizeof(*ent))) == NULL)
		return FERR_ALLOC;
	if (ak_starts_with_type(s, &supported)) {
		if ((ent->opts = authkeys_opts_new()) == NULL) {
			r = FERR_ALLOC;
			goto out;
		}
	} else if ((r = authkeys_parse_options(s, &ent->opts, &s,
	    &errstr)) != 0)
		goto out;
	else if (!ak_starts_with_type(s, &supported)) {
		errstr = "unknown key type";
		r = FERR_FORMAT;
		goto out;
	}
	if (!supported) {
		errstr = "key type not supported";
		r = FERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((r = key_parse_public_line(s, &ent->key)) != 0) {
		errstr = "invalid key";
		goto out;
	}
	if (ent->opts->principals != NULL && !ent->opts->cert_authority) {
		errstr = "principals without cert-authority";
		r = FERR_FORMAT;
		goto out;
	}
 out:
	if (r != 0) {
		authkeys_entry_free(ent);
		if (errstrp != NULL)
			*errstrp = errstr != NULL ? errstr : err_str(r);
		return r;
	}
	*entp = ent;
	return 0;
}

/* A network address with its family, for CIDR comparisons. */
struct ak_addr {
	int family;
	uint8_t a[16];
	unsigned int bits;	/* 32 or 128 */
};

static int
ak_addr_parse(const char *s, struct ak_addr *addr, int map)
{
	static const uint8_t mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
	};

	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, s, addr->a) == 1) {
		addr->family = AF_INET;
		addr->bits = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr->a) == 1) {
		addr->family = AF_INET6;
		addr->bits = 128;
		/* An IPv4-mapped address is the IPv4 address. */
		if (map && memcmp(addr->a, mapped, sizeof(mapped)) == 0) {
			memmove(addr->a, addr->a + 12, 4);
			memset(addr->a + 4, 0, 12);
			addr->family = AF_INET;
			addr->bits = 32;
		}
		return 0;
	}
	return -1;
}

/*
 * Parse "addr[/len]" of n bytes: 0 and the network, -1 when it is not
 * an address (a wildcard pattern then), -2 when the length is bad or
 * host bits are set.
 */
static int
ak_cidr_parse(const char *s, size_t n, struct ak_addr *net,
    unsigned int *lenp)
{
	char tmp[INET6_ADDRSTRLEN + 8], *slash;
	const char *errstr;
	unsigned int len, i;

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if ((slash = strchr(tmp, '/')) != NULL)
		*slash = '\0';
	if (ak_addr_parse(tmp, net, 0) != 0)
		return -1;
	len = net->bits;
	if (slash != NULL) {
		len = (unsigned int)misc_strtonum(slash + 1, 0, net->bits,
		    &errstr);
		if (errstr != NULL)
			return -2;
	}
	for (i = len; i < net->bits; i++)
		if (net->a[i / 8] & (0x80 >> (i % 8)))
			return -2;
	*lenp = len;
	return 0;
}

static int
ak_netmatch(const struct ak_addr *a, const struct ak_addr *net,
    unsigned int len)
{
	unsigned int i;

	if (a->family != net->family)
		return 0;
	for (i = 0; i < len; i++)
		if ((a->a[i / 8] ^ net->a[i / 8]) & (0x80 >> (i % 8)))
			return 0;
	return 1;
}

/* The address part of from="": 1, 0, -1 (negated), -2 (malformed). */
static int
ak_match_addr_list(const char *addrs, const char *list)
{
	struct ak_addr a, net;
	const char *p, *e;
	char *pat;
	unsigned int len;
	int neg, r, got = 0, have_addr;

	have_addr = ak_addr_parse(addrs, &a, 1) == 0;
	for (p = list; ; p = e + 1) {
		e = p + strcspn(p, ",");
		if ((neg = *p == '!'))
			p++;
		if (p == e)
			return -2;
		if ((r = ak_cidr_parse(p, (size_t)(e - p), &net, &len)) == -2)
			return -2;
		if (r == 0)
			r = have_addr && ak_netmatch(&a, &net, len);
		else {
			if ((pat = strndup(p, (size_t)(e - p))) == NULL)
				return -2;
			r = knownhosts_match_pattern(addrs, pat);
			free(pat);
		}
		if (r) {
			if (neg)
				return -1;
			got = 1;
		}
		if (*e == '\0')
			break;
	}
	return got;
}

int
authkeys_match_from(const char *patterns, const char *addr,
    const char *host)
{
	int mip, mhost;

	if (patterns == NULL || addr == NULL)
		return -1;
	if ((mip = ak_match_addr_list(addr, patterns)) < 0)
		return -1;
	if (host == NULL)
		return mip;
	if ((mhost = knownhosts_match_list(host, patterns)) == -1)
		return -1;
	return mhost == 1 || mip == 1;
}

void
authkeys_decision_clear(struct authkeys_decision *d)
{
	if (d == NULL)
		return;
	authkeys_opts_free(d->opts);
	free(d->file);
	memset(d, 0, sizeof(*d));
}

/* Whether the line's options let the client in now; else why not. */
static const char *
ak_authorise(const struct authkeys_opts *o,
    const struct authkeys_client *client)
{
	if (o->valid_before != 0 && client->now >= 0 &&
	    (uint64_t)client->now > o->valid_before)
		return "key expired (expiry-time)";
	if (o->from != NULL &&
	    authkeys_match_from(o->from, client->addr, client->host) != 1)
		return "source address not allowed (from)";
	return NULL;
}

static int
ak_note(struct authkeys_decision *d, const char *name, unsigned long lineno)
{
	free(d->file);
	d->line = lineno;
	if ((d->file = strdup(name)) == NULL)
		return FERR_ALLOC;
	return 0;
}

/* One line: 1 when it allows the key (d filled in), 0 to go on. */
static int
ak_check_line(const char *line, const char *name, unsigned long lineno,
    const struct key *key, const struct authkeys_client *client,
    struct authkeys_decision *d)
{
	struct authkeys_entry *ent = NULL;
	const char *errstr, *why;
	int r;

	if ((r = authkeys_parse_line(line, &ent, &errstr)) == FERR_ALLOC)
		return r;
	if (r == FERR_KEY_TYPE_UNKNOWN) {
		log_debug("%s:%lu: %s", name, lineno, errstr);
		return 0;
	}
	if (r != 0) {
		log_info("%s:%lu: malformed authorized_keys line skipped: %s",
		    name, lineno, errstr);
		return 0;
	}
	if (ent == NULL || ent->opts->cert_authority ||
	    !key_equal_public(ent->key, key)) {
		authkeys_entry_free(ent);
		return 0;
	}
	if ((why = ak_authorise(ent->opts, client)) != NULL) {
		log_verbose("%s:%lu: key refused: %s", name, lineno, why);
		(void)snprintf(d->reason, sizeof(d->reason), "%s", why);
		r = ak_note(d, name, lineno);
		authkeys_entry_free(ent);
		return r;
	}
	if ((r = ak_note(d, name, lineno)) != 0) {
		authkeys_entry_free(ent);
		return r;
	}
	d->allowed = 1;
	d->opts = ent->opts;
	ent->opts = NULL;
	d->reason[0] = '\0';
	authkeys_entry_free(ent);
	return 1;
}

/* Walk the lines of b until one allows the key. */
static int
ak_check_text(const struct buf *b, const char *name, const struct key *key,
    const struct authkeys_client *client, struct authkeys_decision *d)
{
	const uint8_t *p, *end, *nl;
	unsigned long lineno = 0;
	char *line;
	size_t n;
	int r = 0;

	p = buf_ptr(b);
	end = p + buf_len(b);
	for (; p < end && !d->allowed; p = nl < end ? nl + 1 : end) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (memchr(p, '\0', n) != NULL) {
			log_info("%s:%lu: malformed authorized_keys line "
			    "skipped: NUL byte", name, lineno);
			continue;
		}
		if ((line = strndup((const char *)p, n)) == NULL)
			return FERR_ALLOC;
		r = ak_check_line(line, name, lineno, key, client, d);
		free(line);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Both entry points: files, or (when files is NULL) one buffer. */
static int
ak_check(const char *const *files, size_t nfiles, const struct buf *text,
    const char *textname, const struct key *key,
    const struct authkeys_client *client, struct authkeys_decision *d)
{
	struct buf *b = NULL;
	size_t i;
	int r = 0;

	if (d == NULL)
		return FERR_ARGUMENT;
	memset(d, 0, sizeof(*d));
	(void)snprintf(d->reason, sizeof(d->reason), "%s",
	    err_str(FERR_ARGUMENT));
	if ((files == NULL && nfiles > 0) || key == NULL || client == NULL ||
	    client->addr == NULL || (text != NULL && textname == NULL))
		return FERR_ARGUMENT;
	d->reason[0] = '\0';
	if (text != NULL && (r = ak_check_text(text, textname, key, client,
	    d)) != 0)
		goto out;
	for (i = 0; i < nfiles && !d->allowed; i++) {
		r = key_read_file(files[i], AUTHKEYS_FILE_MAX, &b);
		if (r == FERR_SYSTEM && errno == ENOENT) {
			r = 0;
			continue;
		}
		if (r != 0) {
			log_msg_r(LOGL_ERROR, r, "authorized_keys file %s",
			    files[i]);
			goto out;
		}
		r = ak_check_text(b, files[i], key, client, d);
		buf_free(b);
		b = NULL;
		if (r != 0)
			goto out;
	}
	if (!d->allowed && d->reason[0] == '\0')
		(void)snprintf(d->reason, sizeof(d->reason),
		    "no matching key");
 out:
	buf_free(b);
	if (r != 0) {
		authkeys_decision_clear(d);
		(void)snprintf(d->reason, sizeof(d->reason), "%s", err_str(r));
	}
	return r;
}

int
authkeys_check(const char *const *files, size_t nfiles,
    const struct key *key, const struct authkeys_client *client,
    struct authkeys_decision *d)
{
	return ak_check(files, nfiles, NULL, NULL, key, client, d);
}

int
authkeys_check_buf(const struct buf *b, const char *name,
    const struct key *key, const struct authkeys_client *client,
    struct authkeys_decision *d)
{
	if (b == NULL) {
		if (d != NULL)
			memset(d, 0, sizeof(*d));
		return FERR_ARGUMENT;
	}
	return ak_check(NULL, 0, b, name, key, client, d);
}
