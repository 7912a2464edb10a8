/*
 * The environment of an fsshd session's command, built as sshd builds
 * it: the account's variables, the connection's (SSH_CLIENT,
 * SSH_CONNECTION, SSH_ORIGINAL_COMMAND), the PAM session's, what the
 * client sent and AcceptEnv lets in, with PermitUserEnvironment the
 * user's ~/.ssh/environment and the key's environment= options, and
 * SetEnv last.  A later value of a name replaces an earlier one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/authkeys.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "fsshd-auth.h"
#include "fsshd.h"

/* Caps: variables a client may send, lines of ~/.ssh/environment. */
#define FSSHD_ENV_CLIENT_MAX	256
#define FSSHD_ENV_MAX		1024
#define FSSHD_ENV_LINE_MAX	4096
#define FSSHD_ENV_NAME_MAX	256
#define FSSHD_ENV_FILE_MAX	(64U * 1024)

/* A NULL-terminated array of "NAME=value" strings, names unique. */
struct fsshd_envv {
	char	**v;
	size_t	  n;
};

struct fsshd_env {
	struct fsshd_envv client;
};

void
fsshd_env_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Length of the name of "NAME=value" (the whole string when no '='). */
static size_t
fsshd_env_namelen(const char *s)
{
	const char *eq = strchr(s, '=');

	return eq != NULL ? (size_t)(eq - s) : strlen(s);
}

/* Set name to value, replacing an earlier value of the name. */
static int
fsshd_envv_set(struct fsshd_envv *e, const char *name, size_t nlen,
    const char *value)
{
	size_t i, len = strlen(value);
	char *s, **nv;

	if (nlen == 0 || nlen > FSSHD_ENV_NAME_MAX || memchr(name, '=', nlen))
		return FERR_ARGUMENT;
	if (len > SIZE_MAX - nlen - 2 || (s = malloc(nlen + len + 2)) == NULL)
		return FERR_ALLOC;
	memcpy(s, name, nlen);
	s[nlen] = '=';
	memcpy(s + nlen + 1, value, len + 1);
	for (i = 0; i < e->n; i++)
		if (fsshd_env_namelen(e->v[i]) == nlen &&
		    memcmp(e->v[i], name, nlen) == 0) {
			free(e->v[i]);
			e->v[i] = s;
			return 0;
		}
	if (e->n >= FSSHD_ENV_MAX ||
	    (nv = reallocarray(e->v, e->n + 2, sizeof(*nv))) == NULL) {
		free(s);
		return e->n >= FSSHD_ENV_MAX ? FERR_NO_SPACE : FERR_ALLOC;
	}
	e->v = nv;
	e->v[e->n++] = s;
	e->v[e->n] = NULL;
	return 0;
}

/* Set from a "NAME=value" string. */
static int
fsshd_envv_put(struct fsshd_envv *e, const char *nv)
{
	const char *eq = strchr(nv, '=');

	if (eq == NULL)
		return FERR_ARGUMENT;
	return fsshd_envv_set(e, nv, (size_t)(eq - nv), eq + 1);
}

static int
fsshd_envv_setf(struct fsshd_envv *e, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fsshd_envv_setf(struct fsshd_envv *e, const char *name, const char *fmt, ...)
{
	char *v;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (r < 0)
		return FERR_ALLOC;
	r = fsshd_envv_set(e, name, strlen(name), v);
	free(v);
	return r;
}

struct fsshd_env *
fsshd_env_new(void)
{
	return calloc(1, sizeof(struct fsshd_env));
}

void
fsshd_env_free(struct fsshd_env *e)
{
	if (e == NULL)
		return;
	fsshd_env_strv_free(e->client.v);
	free(e);
}

/* Whether name matches one of the patterns of list (fnmatch). */
static int
fsshd_env_listed(const struct sshdconf_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (fnmatch(l->v[i], name, 0) == 0)
			return 1;
	return 0;
}

int
fsshd_env_accept(struct fsshd_env *e, const struct sshdconf *eff,
    const char *name, const char *value)
{
	int r;

	if (eff == NULL || name[0] == '\0' || strchr(name, '=') != NULL ||
	    !fsshd_env_listed(&eff->accept_env, name)) {
		log_debug("environment %.100s from the client refused", name);
		return 0;
	}
	if (e->client.n >= FSSHD_ENV_CLIENT_MAX) {
		log_info("too many environment variables from the client");
		return 0;
	}
	if ((r = fsshd_envv_set(&e->client, name, strlen(name), value)) != 0)
		return r == FERR_ARGUMENT ? 0 : r;
	log_debug("environment %.100s from the client accepted", name);
	return 1;
}

/*
 * Whether PermitUserEnvironment lets the user set name: "yes" any,
 * "no" none, else a comma-separated pattern list.
 */
static int
fsshd_env_user_ok(const struct sshdconf *eff, const char *name, size_t nlen)
{
	const char *p = eff != NULL ? eff->permit_user_environment : NULL;
	char pat[FSSHD_ENV_NAME_MAX + 1], nm[FSSHD_ENV_NAME_MAX + 1];
	size_t len;

	if (p == NULL || strcmp(p, "no") == 0 || nlen > FSSHD_ENV_NAME_MAX)
		return 0;
	if (strcmp(p, "yes") == 0)
		return 1;
	memcpy(nm, name, nlen);
	nm[nlen] = '\0';
	while (*p != '\0') {
		len = strcspn(p, ",");
		if (len > 0 && len <= FSSHD_ENV_NAME_MAX) {
			memcpy(pat, p, len);
			pat[len] = '\0';
			if (fnmatch(pat, nm, 0) == 0)
				return 1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/*
 * ~/.ssh/environment text: NAME=value lines, '#' comments, blank lines;
 * names PermitUserEnvironment does not permit are logged and skipped.
 */
static int
fsshd_env_parse(struct fsshd_envv *e, const struct sshdconf *eff,
    const char *name, const char *text, size_t len)
{
	char line[FSSHD_ENV_LINE_MAX + 1], *s;
	unsigned long lineno = 0;
	size_t n, nlen;
	int r = 0;

	while (r == 0 && len > 0) {
		lineno++;
		for (n = 0; n < len && text[n] != '\n'; n++)
			;
		if (n > FSSHD_ENV_LINE_MAX || memchr(text, '\0', n) != NULL) {
			log_info("%s:%lu: line too long or not text, the rest "
			    "is ignored", name, lineno);
			break;
		}
		memcpy(line, text, n);
		line[n] = '\0';
		text += n < len ? n + 1 : n;
		len -= n < len ? n + 1 : n;
		line[strcspn(line, "\r")] = '\0';
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		if (*s == '\0' || *s == '#')
			continue;
		if (strchr(s, '=') == NULL || *s == '=') {
			log_info("%s:%lu: not NAME=value", name, lineno);
			continue;
		}
		nlen = fsshd_env_namelen(s);
		if (!fsshd_env_user_ok(eff, s, nlen)) {
			log_verbose("%s:%lu: %.*s not permitted by "
			    "PermitUserEnvironment", name, lineno, (int)nlen, s);
			continue;
		}
		r = fsshd_envv_put(e, s);
	}
	/* Past the cap on variables the rest is dropped, not an error. */
	return r == FERR_NO_SPACE || r == FERR_ARGUMENT ? 0 : r;
}

int
fsshd_env_parse_text(const struct sshdconf *eff, const char *name,
    const char *text, size_t len, char ***envpp)
{
	struct fsshd_envv e = { NULL, 0 };
	int r;

	*envpp = NULL;
	if ((r = fsshd_env_parse(&e, eff, name, text, len)) != 0) {
		fsshd_env_strv_free(e.v);
		return r;
	}
	if (e.v == NULL && (e.v = calloc(1, sizeof(*e.v))) == NULL)
		return FERR_ALLOC;
	*envpp = e.v;
	return 0;
}

/* Read path (at most FSSHD_ENV_FILE_MAX bytes) and parse it into e. */
static int
fsshd_env_read_file(struct fsshd_envv *e, const struct sshdconf *eff,
    const char *path)
{
	char *text;
	size_t len = 0;
	ssize_t n;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno != ENOENT)
			log_info("%s: %s", path, strerror(errno));
		return 0;
	}
	if ((text = malloc(FSSHD_ENV_FILE_MAX)) == NULL) {
		close(fd);
		return FERR_ALLOC;
	}
	while (len < FSSHD_ENV_FILE_MAX &&
	    (n = read(fd, text + len, FSSHD_ENV_FILE_MAX - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_info("%s: %s", path, strerror(errno));
			len = 0;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (len == FSSHD_ENV_FILE_MAX)
		log_info("%s: larger than %u bytes; the rest is ignored", path,
		    FSSHD_ENV_FILE_MAX);
	r = fsshd_env_parse(e, eff, path, text, len);
	free(text);
	return r;
}

int
fsshd_env_build(struct fsshd_env *e, const struct fsshd_env_ctx *ctx,
    char ***envpp)
{
	const struct fsshd_account *a = ctx->acct;
	const struct sshdconf *eff = ctx->eff;
	const struct authkeys_opts *ko;
	struct fsshd_envv out = { NULL, 0 };
	const char *path, *caddr, *laddr;
	char file[4096];
	size_t i;
	int r;

	*envpp = NULL;
	caddr = ctx->client_addr != NULL ? ctx->client_addr : "UNKNOWN";
	laddr = ctx->local_addr != NULL ? ctx->local_addr : "UNKNOWN";
	path = a->uid == 0 ?
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" :
	    "/usr/local/bin:/usr/bin:/bin:/usr/games";
	if ((r = fsshd_envv_setf(&out, "USER", "%s", a->name)) != 0 ||
	    (r = fsshd_envv_setf(&out, "LOGNAME", "%s", a->name)) != 0 ||
	    (r = fsshd_envv_setf(&out, "HOME", "%s", a->home)) != 0 ||
	    (r = fsshd_envv_setf(&out, "PATH", "%s", path)) != 0 ||
	    (r = fsshd_envv_setf(&out, "MAIL", "/var/mail/%s", a->name)) != 0 ||
	    (r = fsshd_envv_setf(&out, "SHELL", "%s", a->shell)) != 0)
		goto out;
	/* The client's accepted variables; the connection's win over them. */
	for (i = 0; e != NULL && i < e->client.n; i++)
		if ((r = fsshd_envv_put(&out, e->client.v[i])) != 0)
			goto out;
	if ((r = fsshd_envv_setf(&out, "SSH_CLIENT", "%s %d %d", caddr,
	    ctx->client_port, ctx->local_port)) != 0 ||
	    (r = fsshd_envv_setf(&out, "SSH_CONNECTION", "%s %d %s %d", caddr,
	    ctx->client_port, laddr, ctx->local_port)) != 0)
		goto out;
	if (ctx->original_command != NULL &&
	    (r = fsshd_envv_setf(&out, "SSH_ORIGINAL_COMMAND", "%s",
	    ctx->original_command)) != 0)
		goto out;
	for (i = 0; ctx->pam_env != NULL && ctx->pam_env[i] != NULL; i++)
		if (strchr(ctx->pam_env[i], '=') != NULL &&
		    (r = fsshd_envv_put(&out, ctx->pam_env[i])) != 0)
			goto out;
	if (eff != NULL && strcmp(eff->permit_user_environment, "no") != 0) {
		/* Read as the user (the caller is), inside any chroot. */
		if (snprintf(file, sizeof(file), "%s/.ssh/environment",
		    a->home) < (int)sizeof(file) &&
		    (r = fsshd_env_read_file(&out, eff, file)) != 0)
			goto out;
		ko = ctx->key != NULL ? ctx->key->opts : NULL;
		for (i = 0; ko != NULL && i < ko->nenv; i++) {
			if (!fsshd_env_user_ok(eff, ko->env[i],
			    fsshd_env_namelen(ko->env[i]))) {
				log_verbose("environment=\"%.*s...\" not permitted "
				    "by PermitUserEnvironment",
				    (int)fsshd_env_namelen(ko->env[i]), ko->env[i]);
				continue;
			}
			if ((r = fsshd_envv_put(&out, ko->env[i])) != 0)
				goto out;
		}
	}
	for (i = 0; eff != NULL && i < eff->set_env.n; i++)
		if ((r = fsshd_envv_put(&out, eff->set_env.v[i])) != 0)
			goto out;
	if (out.v == NULL) {
		r = FERR_INTERNAL;
		goto out;
	}
	*envpp = out.v;
	out.v = NULL;
 out:
	fsshd_env_strv_free(out.v);
	return r;
}
