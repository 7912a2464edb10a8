/*
 * What the authentication client and server share: the method table,
 * AuthenticationMethods chains, the data a publickey signature covers
 * and the sanitising of peer text.  See ferry/auth.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth-int.h"
#include "ferry/err.h"
#include "misc.h"

static const char *const auth_method_names[AUTH_METHOD_COUNT] = {
	"none", "publickey", "password", "keyboard-interactive",
};

const char *
auth_method_name(int m)
{
	if (m < 0 || m >= AUTH_METHOD_COUNT)
		return NULL;
	return auth_method_names[m];
}

int
auth_method_lookup(const uint8_t *name, size_t len)
{
	int m;

	for (m = 0; m < AUTH_METHOD_COUNT; m++)
		if (strlen(auth_method_names[m]) == len &&
		    memcmp(auth_method_names[m], name, len) == 0)
			return m;
	return -1;
}

int
auth_list_has(const char *list, const uint8_t *name, size_t len)
{
	const char *p = list, *e;
	size_t n;

	if (len == 0)
		return 0;
	while (*p != '\0') {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == len && memcmp(p, name, len) == 0)
			return 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Parse one comma-separated chain of n bytes at s. */
static int
auth_chain_parse(const char *s, size_t n, struct auth_chain *c)
{
	size_t i = 0, k = 0, len;
	const char *e;
	int m;

	while (i < n) {
		e = memchr(s + i, ',', n - i);
		len = e != NULL ? (size_t)(e - (s + i)) : n - i;
		m = auth_method_lookup((const uint8_t *)s + i, len);
		/* "none" cannot complete anything: refuse it in a chain. */
		if (m <= AUTH_METHOD_NONE || k >= AUTH_CHAIN_MAX)
			return FERR_CONFIG;
		c->m[k++] = (int8_t)m;
		i += len;
		if (i < n) {
			i++;
			if (i == n)
				return FERR_CONFIG;	/* trailing comma */
		}
	}
	if (k == 0)
		return FERR_CONFIG;
	c->m[k] = -1;
	c->pos = 0;
	return 0;
}

int
auth_chains_parse(const char *spec, struct auth_chain *chains,
    size_t *nchainsp)
{
	const char *p, *e;
	size_t n, nchains = 0;
	int r;

	*nchainsp = 0;
	if (spec == NULL || strcmp(spec, "any") == 0)
		return 0;
	for (p = spec; *p != '\0';) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (e = p; *e != '\0' && *e != ' ' && *e != '\t'; e++)
			;
		n = (size_t)(e - p);
		if (nchains >= AUTH_CHAINS_MAX)
			return FERR_CONFIG;
		if ((r = auth_chain_parse(p, n, &chains[nchains])) != 0)
			return r;
		nchains++;
		p = e;
	}
	if (nchains == 0)
		return FERR_CONFIG;
	*nchainsp = nchains;
	return 0;
}

int
auth_methods_valid(const char *methods)
{
	struct auth_chain chains[AUTH_CHAINS_MAX];
	size_t n;

	return auth_chains_parse(methods, chains, &n);
}

int
auth_sign_data(struct buf *b, const uint8_t *sid, size_t sidlen,
    const char *user, const char *service, const char *alg,
    const uint8_t *blob, size_t bloblen)
{
	int r;

	if ((r = buf_put_string(b, sid, sidlen)) != 0 ||
	    (r = buf_put_u8(b, AUTH_MSG_REQUEST)) != 0 ||
	    (r = buf_put_cstring(b, user)) != 0 ||
	    (r = buf_put_cstring(b, service)) != 0 ||
	    (r = buf_put_cstring(b, "publickey")) != 0 ||
	    (r = buf_put_bool(b, 1)) != 0 ||
	    (r = buf_put_cstring(b, alg)) != 0 ||
	    (r = buf_put_string(b, blob, bloblen)) != 0)
		return r;
	return 0;
}

void
auth_free_secret(char *s)
{
	if (s != NULL)
		misc_freezero(s, strlen(s));
}

/*
 * Length of the valid UTF-8 sequence at s (at most len bytes) that is
 * not a C1 control character, or 0 when it is invalid.
 */
static size_t
auth_utf8_len(const uint8_t *s, size_t len)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n > len)
		return 0;
	cp = s[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF, C1 controls. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

char *
auth_sanitise(const uint8_t *s, size_t len)
{
	char *out;
	size_t i, j = 0, n;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len;) {
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') {
			i++;
			continue;
		}
		if (s[i] == '\n' || s[i] == '\t' ||
		    (s[i] >= 0x20 && s[i] < 0x7f)) {
			out[j++] = (char)s[i++];
			continue;
		}
		if (s[i] >= 0x80 && (n = auth_utf8_len(s + i, len - i)) != 0) {
			memcpy(out + j, s + i, n);
			i += n;
			j += n;
			continue;
		}
		out[j++] = '?';
		i++;
	}
	out[j] = '\0';
	return out;
}
