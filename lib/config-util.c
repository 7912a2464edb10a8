/*
 * Tokenising and value helpers for the OpenSSH-format configuration
 * parsers (ssh_config and sshd_config).  The rules follow OpenSSH's
 * documented behaviour: see config-util.h for each contract.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/transport.h"
#include "config-util.h"
#include "misc.h"

#define CONFIG_WS	" \t"

int
config_read_file(const char *path, int check_perm, unsigned int uid,
    struct buf **bp)
{
	struct buf *b = NULL;
	struct stat st;
	uint8_t *p;
	ssize_t n;
	int fd, r, saved;

	*bp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return FERR_SYSTEM;
	if (fstat(fd, &st) == -1) {
		r = FERR_SYSTEM;
		goto out;
	}
	if (check_perm && ((st.st_uid != 0 && st.st_uid != uid) ||
	    (st.st_mode & 022) != 0)) {
		r = FERR_PERMISSION;
		goto out;
	}
	if ((b = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = buf_set_max_size(b, CONFIG_MAX_FILE)) != 0)
		goto out;
	for (;;) {
		if ((r = buf_reserve(b, 4096, &p)) != 0)
			goto out;
		while ((n = read(fd, p, 4096)) == -1 && errno == EINTR)
			;
		if (n == -1) {
			r = FERR_SYSTEM;
			goto out;
		}
		if ((r = buf_consume_end(b, 4096 - (size_t)n)) != 0)
			goto out;
		if (n == 0)
			break;
	}
	*bp = b;
	b = NULL;
	r = 0;
 out:
	saved = errno;
	buf_free(b);
	close(fd);
	errno = saved;
	return r;
}

int
config_next_line(struct buf *b, char **linep)
{
	const uint8_t *p, *nl;
	size_t len, take;
	char *line;
	int r;

	*linep = NULL;
	if ((len = buf_len(b)) == 0)
		return FERR_EOF;
	p = buf_ptr(b);
	nl = memchr(p, '\n', len);
	take = nl == NULL ? len : (size_t)(nl - p) + 1;
	len = nl == NULL ? len : (size_t)(nl - p);
	if (memchr(p, '\0', len) != NULL) {
		if ((r = buf_consume(b, take)) != 0)
			return r;
		return FERR_FORMAT;
	}
	if ((line = malloc(len + 1)) == NULL)
		return FERR_ALLOC;
	if ((r = buf_get(b, line, len)) != 0 ||
	    (r = buf_consume(b, take - len)) != 0) {
		free(line);
		return r;
	}
	line[len] = '\0';
	*linep = line;
	return 0;
}

int
config_split_line(char *line, char **kwp, char **restp)
{
	size_t len;
	char *s;

	*kwp = *restp = NULL;
	len = strlen(line);
	while (len > 0 && strchr(" \t\r\n\f", line[len - 1]) != NULL)
		line[--len] = '\0';
	s = line + strspn(line, CONFIG_WS);
	if (*s == '\0' || *s == '#')
		return 1;
	*kwp = s;
	s += strcspn(s, CONFIG_WS "=");
	if (s == *kwp)
		return FERR_CONFIG;	/* the line starts with '=' */
	if (*s != '\0') {
		int eq = *s == '=';

		*s++ = '\0';
		s += strspn(s, CONFIG_WS);
		if (!eq && *s == '=') {
			s++;
			s += strspn(s, CONFIG_WS);
		}
	}
	*restp = s;
	return 0;
}

void
config_strv_free(struct config_strv *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

int
config_strv_add(struct config_strv *v, const char *s, size_t max)
{
	char **nv, *cp;

	if (v->n >= max)
		return FERR_NUMBER_RANGE;
	if ((cp = strdup(s)) == NULL)
		return FERR_ALLOC;
	if ((nv = reallocarray(v->v, v->n + 2, sizeof(*nv))) == NULL) {
		free(cp);
		return FERR_ALLOC;
	}
	v->v = nv;
	v->v[v->n++] = cp;
	v->v[v->n] = NULL;
	return 0;
}

int
config_strv_copy(struct config_strv *dst, const struct config_strv *src)
{
	struct config_strv n = { NULL, 0 };
	size_t i;
	int r;

	for (i = 0; i < src->n; i++) {
		if ((r = config_strv_add(&n, src->v[i], SIZE_MAX)) != 0) {
			config_strv_free(&n);
			return r;
		}
	}
	config_strv_free(dst);
	*dst = n;
	return 0;
}

int
config_argv_split(const char *s, struct config_strv *out)
{
	char *word = NULL;
	size_t i, j;
	int quote, r = 0;

	out->v = NULL;
	out->n = 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == ' ' || s[i] == '\t')
			continue;
		if (s[i] == '#')
			break;
		if ((word = malloc(strlen(s + i) + 1)) == NULL) {
			r = FERR_ALLOC;
			goto out;
		}
		quote = 0;
		for (j = 0; s[i] != '\0'; i++) {
			if (s[i] == '\\' && (s[i + 1] == '\'' ||
			    s[i + 1] == '"' || s[i + 1] == '\\' ||
			    (quote == 0 && s[i + 1] == ' ')))
				word[j++] = s[++i];
			else if (quote == 0 && (s[i] == ' ' || s[i] == '\t'))
				break;
			else if (quote == 0 && (s[i] == '"' || s[i] == '\''))
				quote = s[i];
			else if (quote != 0 && s[i] == quote)
				quote = 0;
			else
				word[j++] = s[i];
		}
		word[j] = '\0';
		if (quote != 0) {
			r = FERR_CONFIG;
			goto out;
		}
		if ((r = config_strv_add(out, word, SIZE_MAX)) != 0)
			goto out;
		free(word);
		word = NULL;
		if (s[i] == '\0')
			break;
	}
 out:
	free(word);
	if (r != 0)
		config_strv_free(out);
	return r;
}

int
config_match_pattern(const char *s, const char *pattern)
{
	const char *sp = NULL, *pp = NULL;

	/* Iterative glob match with one backtracking point per '*'. */
	for (;;) {
		if (*pattern == '*') {
			while (*pattern == '*')
				pattern++;
			if (*pattern == '\0')
				return 1;
			pp = pattern;
			sp = s;
			continue;
		}
		if (*s == '\0' && *pattern == '\0')
			return 1;
		if (*s != '\0' && (*pattern == '?' || *pattern == *s)) {
			s++;
			pattern++;
			continue;
		}
		if (pp == NULL || *sp == '\0')
			return 0;
		s = ++sp;
		pattern = pp;
	}
}

int
config_match_list(const char *s, const char *list, int dolower)
{
	char *copy, *p, *sub;
	int neg, got = 0;

	if ((copy = strdup(list)) == NULL)
		return 0;
	for (p = copy; (sub = strsep(&p, ",")) != NULL;) {
		neg = *sub == '!';
		if (neg)
			sub++;
		if (dolower)
			config_lower(sub);
		if (config_match_pattern(s, sub)) {
			if (neg) {
				got = -1;
				break;
			}
			got = 1;
		}
	}
	free(copy);
	return got;
}

/* Parse "addr[/bits]"; 0 with the family, address bytes and prefix. */
static int
config_parse_cidr(const char *s, int *afp, uint8_t *a, int *bitsp)
{
	char tmp[INET6_ADDRSTRLEN + 8], *slash;
	const char *errstr;
	int max;

	if (misc_strlcpy(tmp, s, sizeof(tmp)) >= sizeof(tmp))
		return FERR_CONFIG;
	if ((slash = strchr(tmp, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, tmp, a) == 1) {
		*afp = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, tmp, a) == 1) {
		*afp = AF_INET6;
		max = 128;
	} else
		return FERR_CONFIG;
	*bitsp = max;
	if (slash != NULL) {
		*bitsp = (int)misc_strtonum(slash, 0, max, &errstr);
		if (errstr != NULL)
			return FERR_CONFIG;
	}
	return 0;
}

static int
config_cidr_contains(int af, const uint8_t *net, int bits, int aaf,
    const uint8_t *a)
{
	int i;
	uint8_t m;

	if (af != aaf)
		return 0;
	for (i = 0; bits > 0; i++, bits -= 8) {
		m = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
		if ((net[i] & m) != (a[i] & m))
			return 0;
	}
	return 1;
}

/* Whether every bit after the prefix is zero. */
static int
config_cidr_clean(int af, const uint8_t *net, int bits)
{
	int i, len = af == AF_INET ? 4 : 16;

	for (i = bits / 8; i < len; i++) {
		if (i == bits / 8 && bits % 8 != 0) {
			if ((net[i] & (0xff >> (bits % 8))) != 0)
				return 0;
		} else if (net[i] != 0)
			return 0;
	}
	return 1;
}

int
config_match_addr_list(const char *addr, const char *list)
{
	uint8_t a[16], net[16];
	char *copy, *p, *sub;
	int aaf = 0, af, bits, neg, got = 0, have, match;

	have = config_parse_cidr(addr, &aaf, a, &bits) == 0 && strchr(addr,
	    '/') == NULL;
	if ((copy = strdup(list)) == NULL)
		return FERR_ALLOC;
	for (p = copy; (sub = strsep(&p, ",")) != NULL;) {
		neg = *sub == '!';
		if (neg)
			sub++;
		if (strchr(sub, '/') != NULL) {
			if (config_parse_cidr(sub, &af, net, &bits) != 0) {
				got = FERR_CONFIG;
				break;
			}
			/* Host bits must be clear, as OpenSSH insists. */
			if (!config_cidr_clean(af, net, bits)) {
				got = FERR_CONFIG;
				break;
			}
			match = have && config_cidr_contains(af, net, bits,
			    aaf, a);
		} else
			match = config_match_pattern(addr, sub);
		if (match) {
			if (neg) {
				got = -1;
				break;
			}
			got = 1;
		}
	}
	free(copy);
	return got;
}

long long
config_convtime(const char *s)
{
	long long total = 0, n, mult;
	const char *p = s;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			return -1;
		for (n = 0; isdigit((unsigned char)*p); p++) {
			if (n > (INT_MAX - (*p - '0')) / 10)
				return -1;
			n = n * 10 + (*p - '0');
		}
		switch (*p) {
		case '\0':
			mult = 1;
			break;
		case 's': case 'S':
			mult = 1;
			p++;
			break;
		case 'm': case 'M':
			mult = 60;
			p++;
			break;
		case 'h': case 'H':
			mult = 60 * 60;
			p++;
			break;
		case 'd': case 'D':
			mult = 24 * 60 * 60;
			p++;
			break;
		case 'w': case 'W':
			mult = 7 * 24 * 60 * 60;
			p++;
			break;
		default:
			return -1;
		}
		if (n > (INT_MAX - total) / mult)
			return -1;
		total += n * mult;
	}
	return total;
}

int
config_scan_scaled(const char *s, unsigned long long *vp)
{
	static const char units[] = "BKMGT";
	unsigned long long whole = 0, frac = 0, fdiv = 1, mult = 1;
	const char *p = s, *u;
	int ndigits = 0;

	for (; isdigit((unsigned char)*p); p++, ndigits++) {
		if (whole > (ULLONG_MAX - 9) / 10)
			return FERR_CONFIG;
		whole = whole * 10 + (unsigned long long)(*p - '0');
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, ndigits++) {
			if (fdiv >= 1000000000ULL)
				continue;	/* ignore excess precision */
			frac = frac * 10 + (unsigned long long)(*p - '0');
			fdiv *= 10;
		}
	}
	if (ndigits == 0)
		return FERR_CONFIG;
	if (*p != '\0') {
		if ((u = strchr(units, toupper((unsigned char)*p))) == NULL ||
		    p[1] != '\0')
			return FERR_CONFIG;
		for (; u > units; u--)
			mult *= 1024;
	}
	if (whole > ULLONG_MAX / mult)
		return FERR_CONFIG;
	*vp = whole * mult + frac * mult / fdiv;
	return 0;
}

int
config_enum_value(const struct config_enum *tab, const char *name, int *vp)
{
	for (; tab->name != NULL; tab++) {
		if (strcasecmp(tab->name, name) == 0) {
			*vp = tab->value;
			return 0;
		}
	}
	return FERR_CONFIG;
}

const char *
config_enum_name(const struct config_enum *tab, int value)
{
	for (; tab->name != NULL; tab++)
		if (tab->value == value)
			return tab->name;
	return "UNKNOWN";
}

int
config_expand(const char *s, const struct config_token *tokens, size_t n,
    char **outp)
{
	struct buf *b;
	const char *v;
	size_t i;
	int r = 0;

	*outp = NULL;
	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	for (; *s != '\0' && r == 0; s++) {
		if (*s != '%') {
			r = buf_put(b, s, 1);
			continue;
		}
		s++;
		if (*s == '%') {
			r = buf_put(b, "%", 1);
			continue;
		}
		for (v = NULL, i = 0; i < n && *s != '\0'; i++)
			if (tokens[i].key == *s)
				v = tokens[i].value;
		if (v == NULL) {
			r = FERR_CONFIG;
			break;
		}
		r = buf_put(b, v, strlen(v));
	}
	if (r == 0)
		r = buf_put(b, "", 1);
	if (r == 0 && (*outp = strdup((const char *)buf_ptr(b))) == NULL)
		r = FERR_ALLOC;
	buf_free(b);
	return r;
}

int
config_tilde(const char *s, const char *home, char **outp)
{
	struct passwd *pw;
	const char *rest;
	char name[256];
	size_t len;
	int n;

	*outp = NULL;
	if (*s != '~') {
		*outp = strdup(s);
		return *outp == NULL ? FERR_ALLOC : 0;
	}
	rest = strchr(s, '/');
	len = rest == NULL ? strlen(s + 1) : (size_t)(rest - s - 1);
	if (rest == NULL)
		rest = "";
	if (len > 0) {
		if (len >= sizeof(name))
			return FERR_CONFIG;
		memcpy(name, s + 1, len);
		name[len] = '\0';
		if ((pw = getpwnam(name)) == NULL)
			return FERR_CONFIG;
		home = pw->pw_dir;
	}
	if (home == NULL)
		return FERR_CONFIG;
	/* "~/x" below "/" must not become "//x". */
	if (strcmp(home, "/") == 0 && *rest == '/')
		home = "";
	n = asprintf(outp, "%s%s", home, rest);
	if (n < 0) {
		*outp = NULL;
		return FERR_ALLOC;
	}
	return 0;
}

int
config_include_glob(const char *arg, const char *dir, const char *home,
    struct config_strv *out)
{
	char *path = NULL, *full = NULL;
	glob_t gl;
	size_t i;
	int r, g;

	if (*arg != '/' && *arg != '~') {
		if (asprintf(&full, "%s/%s", dir, arg) < 0)
			return FERR_ALLOC;
		arg = full;
	}
	if ((r = config_tilde(arg, home, &path)) != 0)
		goto out;
	memset(&gl, 0, sizeof(gl));
	g = glob(path, 0, NULL, &gl);
	if (g == GLOB_NOMATCH) {
		r = 0;
		goto out;
	}
	if (g != 0) {
		r = g == GLOB_NOSPACE ? FERR_ALLOC : FERR_CONFIG;
		goto out;
	}
	for (i = 0; i < gl.gl_pathc; i++)
		if ((r = config_strv_add(out, gl.gl_pathv[i], SIZE_MAX)) != 0)
			break;
	globfree(&gl);
 out:
	free(full);
	free(path);
	return r;
}

char *
config_lower(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

int
config_assemble_algs(const char *kind, int server, const char *spec,
    char **outp)
{
	char *def, *all;
	int r;

	*outp = NULL;
	def = transport_query(kind, server ? TRANSPORT_QUERY_SERVER :
	    TRANSPORT_QUERY_CLIENT);
	all = transport_query(kind, TRANSPORT_QUERY_ALL);
	if (def == NULL || all == NULL)
		r = FERR_ALLOC;
	else
		r = transport_assemble_list(def, all, spec, outp);
	free(def);
	free(all);
	return r;
}

int
config_check_algs(const char *kind, const char *spec)
{
	char *out;
	int r;

	r = config_assemble_algs(kind, 0, spec, &out);
	free(out);
	return r;
}
