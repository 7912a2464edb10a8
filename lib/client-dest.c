/*
 * Destinations and ProxyJump for the client programs: parsing
 * "[user@]host[:port]" and "ssh://" URIs, and building the jump command
 * with every word quoted for /bin/sh.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/client.h"
#include "ferry/err.h"
#include "misc.h"

#define CLIENT_URI_PREFIX	"ssh://"

static int
client_dest_port(const char *s, int *portp)
{
	const char *errstr;
	long long v;

	v = misc_strtonum(s, 1, 65535, &errstr);
	if (errstr != NULL)
		return FERR_FORMAT;
	*portp = (int)v;
	return 0;
}

/* host part: "[addr]" or "[addr]:port" or "name" or "name:port". */
static int
client_dest_hostport(char *s, int allow_port, char **hostp, int *portp)
{
	char *end, *colon;
	int r;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL || end == s + 1)
			return FERR_FORMAT;
		*end++ = '\0';
		if (*end == ':') {
			if (!allow_port)
				return FERR_FORMAT;
			if ((r = client_dest_port(end + 1, portp)) != 0)
				return r;
		} else if (*end != '\0')
			return FERR_FORMAT;
		s++;
	} else if (allow_port && (colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		*colon = '\0';
		if ((r = client_dest_port(colon + 1, portp)) != 0)
			return r;
	}
	/* A host may not pass for an option of a command run later. */
	if (*s == '\0' || *s == '-')
		return FERR_FORMAT;
	if ((*hostp = strdup(s)) == NULL)
		return FERR_ALLOC;
	return 0;
}

int
client_parse_destination(const char *dest, int allow_port, char **userp,
    char **hostp, int *portp)
{
	char *copy = NULL, *hp, *at;
	int r;

	*userp = *hostp = NULL;
	*portp = -1;
	if (strncmp(dest, CLIENT_URI_PREFIX, strlen(CLIENT_URI_PREFIX)) == 0) {
		dest += strlen(CLIENT_URI_PREFIX);
		allow_port = 1;
		/* A path, even "/", is not part of an ssh URI here. */
		if (strchr(dest, '/') != NULL)
			return FERR_FORMAT;
	}
	if ((copy = strdup(dest)) == NULL)
		return FERR_ALLOC;
	hp = copy;
	if ((at = strrchr(copy, '@')) != NULL) {
		*at = '\0';
		hp = at + 1;
		if (*copy == '\0') {
			r = FERR_FORMAT;
			goto out;
		}
		if ((*userp = strdup(copy)) == NULL) {
			r = FERR_ALLOC;
			goto out;
		}
	}
	r = client_dest_hostport(hp, allow_port, hostp, portp);
 out:
	if (r != 0) {
		free(*userp);
		*userp = NULL;
		*portp = -1;
	}
	free(copy);
	return r;
}

int
client_shell_quote(struct buf *b, const char *s)
{
	int r;

	if ((r = buf_put_u8(b, '\'')) != 0)
		return r;
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			r = buf_put(b, "'\\''", 4);
		else
			r = buf_put_u8(b, (uint8_t)*s);
		if (r != 0)
			return r;
	}
	return buf_put_u8(b, '\'');
}

static int
client_put_word(struct buf *b, const char *s)
{
	int r;

	if (buf_len(b) > 0 && (r = buf_put_u8(b, ' ')) != 0)
		return r;
	return client_shell_quote(b, s);
}

int
client_jump_command(const char *self, const char *const *args,
    const char *spec, const char *host, int port, char **cmdp)
{
	struct buf *b = NULL;
	char *hops = NULL, *last, *user = NULL, *jhost = NULL, *target = NULL;
	char portstr[16];
	int jport, r;
	size_t i;

	*cmdp = NULL;
	if ((hops = strdup(spec)) == NULL || (b = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((last = strrchr(hops, ',')) != NULL)
		*last++ = '\0';
	else
		last = hops;
	if ((r = client_parse_destination(last, 1, &user, &jhost,
	    &jport)) != 0)
		goto out;
	if ((r = client_put_word(b, self != NULL ? self : "fssh")) != 0)
		goto out;
	for (i = 0; args != NULL && args[i] != NULL; i++)
		if ((r = client_put_word(b, args[i])) != 0)
			goto out;
	if (last != hops && ((r = client_put_word(b, "-J")) != 0 ||
	    (r = client_put_word(b, hops)) != 0))
		goto out;
	if (user != NULL && ((r = client_put_word(b, "-l")) != 0 ||
	    (r = client_put_word(b, user)) != 0))
		goto out;
	if (jport != -1) {
		snprintf(portstr, sizeof(portstr), "%d", jport);
		if ((r = client_put_word(b, "-p")) != 0 ||
		    (r = client_put_word(b, portstr)) != 0)
			goto out;
	}
	if (asprintf(&target, "[%s]:%d", host, port) == -1) {
		target = NULL;
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = client_put_word(b, "-W")) != 0 ||
	    (r = client_put_word(b, target)) != 0 ||
	    (r = client_put_word(b, jhost)) != 0)
		goto out;
	if ((*cmdp = buf_dup_string(b)) == NULL)
		r = FERR_ALLOC;
 out:
	free(hops);
	free(user);
	free(jhost);
	free(target);
	buf_free(b);
	return r;
}
