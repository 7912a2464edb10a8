/*
 * fsftp: the interactive and batch SFTP client, command-line compatible
 * with OpenSSH's sftp(1).  The SFTP engine (lib/sftp-client*.c) does the
 * protocol and the transfers; this file parses options and commands,
 * globs, prints listings and messages as OpenSSH's sftp does.  The
 * connection is Ferry's in-process SSH client (src/prog-client.c,
 * lib/sftp-session.c), or the -S program or -D server on pipes.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <editline/readline.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp.h"
#include "ferry/sftp-client.h"
#include "ferry/sftp-session.h"
#include "fsftp-archive.h"
#include "misc.h"
#include "prog.h"
#include "prog-client.h"
#include "prog-meter.h"

#define MAX_ARGS	128
#define DEFAULT_NREQ	0	/* adaptive */

/* Global state of the session. */
static struct sftp_session *ss;	/* the session */
static struct sftp_client *sc;	/* its engine */
static volatile sig_atomic_t interrupted;	/* ^C during a transfer */
static char *rcwd;		/* remote working directory */
static int quiet, batchmode, showprogress = 1, interactive;
static unsigned int gflags;	/* SFTP_XFER_* from -a -f -p -r -X */
static size_t req_size;		/* -B */
static unsigned int nrequests;	/* -R */

/* OpenSSH's texts for the status codes (it ignores the server's). */
static const char *const fx_texts[] = {
	"No error", "End of file", "No such file or directory",
	"Permission denied", "Failure", "Bad message", "No connection",
	"Connection lost", "Operation unsupported",
};

static const char *
fx2txt(uint32_t status)
{
	if (status < sizeof(fx_texts) / sizeof(fx_texts[0]))
		return fx_texts[status];
	return "Unknown status";
}

static const char *
rep_txt(const struct sftp_session_reply *rep)
{
	if (rep->type != SSH_FXP_STATUS)
		return "Unexpected reply";
	return fx2txt(rep->status);
}

/* Print a message to stderr with control characters made visible. */
static void
err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
err_msg(const char *fmt, ...)
{
	char raw[4096], *v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* OpenSSH's sftp ends its error lines with CR LF. */
	if ((v = sftp_client_vis(raw)) != NULL)
		fprintf(stderr, "%s\r\n", v);
	free(v);
}

/* The same on stdout (for listings and notices). */
static void
out_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
out_msg(const char *fmt, ...)
{
	char raw[4096], *v;
	va_list ap;

	size_t n;
	int nl;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* The format's own newline stays; newlines in names do not. */
	n = strlen(raw);
	if ((nl = n > 0 && raw[n - 1] == '\n'))
		raw[n - 1] = '\0';
	if ((v = sftp_client_vis(raw)) != NULL)
		printf("%s%s", v, nl ? "\n" : "");
	free(v);
}

static void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		fatal("out of memory");
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		fatal("out of memory");
	return p;
}

static char *
xjoin(const char *a, const char *b)
{
	char *p;
	size_t n = strlen(a);

	if (asprintf(&p, "%s%s%s", a, n > 0 && a[n - 1] == '/' ? "" : "/",
	    b) < 0)
		fatal("out of memory");
	return p;
}

/* An absolute remote path from path and the working directory. */
static char *
make_absolute(const char *path)
{
	if (path[0] == '/' || rcwd == NULL)
		return xstrdup(path);
	return xjoin(rcwd, path);
}

static const char *
base_name(const char *p)
{
	const char *s;
	size_t n = strlen(p);

	/* Ignore trailing slashes. */
	while (n > 1 && p[n - 1] == '/')
		n--;
	for (s = p + n; s > p && s[-1] != '/'; s--)
		;
	return s;
}

/* base_name as an allocated string without trailing slashes. */
static char *
base_dup(const char *p)
{
	const char *b = base_name(p);
	size_t n = strlen(b);

	while (n > 1 && b[n - 1] == '/')
		n--;
	return strndup(b, n);
}

/* ---- Words: quoting and glob escapes, as OpenSSH's makeargv ---- */

static int
is_glob_char(int c)
{
	return c == '*' || c == '?' || c == '[' || c == ']' || c == '\\';
}

/*
 * Split line into words.  Quotes group; a backslash escapes the next
 * character.  Glob characters that were quoted or escaped keep a
 * backslash before them, so words are glob patterns; unescape() gives
 * the literal text.  -1 on an unterminated quote.
 */
static int
make_argv(const char *line, char **argv, int *argcp)
{
	char *w = xmalloc(strlen(line) * 2 + 1);
	int argc = 0, q = 0, inword = 0;
	size_t o = 0;
	const char *p;

	for (p = line;; p++) {
		if (*p == '\0') {
			if (q != 0) {
				err_msg("Unterminated quoted argument");
				goto fail;
			}
			break;
		}
		if (q == 0 && isspace((unsigned char)*p)) {
			if (inword) {
				w[o] = '\0';
				if (argc >= MAX_ARGS - 1) {
					err_msg("Too many arguments.");
					goto fail;
				}
				argv[argc++] = xstrdup(w);
				o = 0;
				inword = 0;
			}
			continue;
		}
		inword = 1;
		if (*p == '\\' && q != '\'') {
			if (p[1] == '\0')
				continue;
			p++;
			if (is_glob_char(*p) || (q == '"' && *p != '"' &&
			    *p != '\\'))
				w[o++] = '\\';
			w[o++] = *p;
			continue;
		}
		if (q == 0 && (*p == '\'' || *p == '"')) {
			q = *p;
			continue;
		}
		if (q != 0 && *p == q) {
			q = 0;
			continue;
		}
		if (q != 0 && is_glob_char(*p))
			w[o++] = '\\';
		w[o++] = *p;
	}
	if (inword) {
		w[o] = '\0';
		argv[argc++] = xstrdup(w);
	}
	argv[argc] = NULL;
	*argcp = argc;
	free(w);
	return 0;
 fail:
	while (argc > 0)
		free(argv[--argc]);
	argv[0] = NULL;
	*argcp = 0;
	free(w);
	return -1;
}

/* The literal text of a pattern word (backslash escapes removed). */
static char *
unescape(const char *s)
{
	char *r = xmalloc(strlen(s) + 1), *o = r;

	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0')
			s++;
		*o++ = *s;
	}
	*o = '\0';
	return r;
}

static int
has_glob(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			continue;
		}
		if (*s == '*' || *s == '?' || *s == '[')
			return 1;
	}
	return 0;
}

/* ---- Remote helpers ---- */

static int
remote_stat(const char *path, int lstat_, struct sftp_attrs *a, uint32_t *st)
{
	struct sftp_session_reply rep;
	int ok;

	if (sftp_session_call_path(ss, lstat_ ? SSH_FXP_LSTAT : SSH_FXP_STAT,
	    path, &rep) != 0)
		fatal("Connection closed");
	ok = rep.type == SSH_FXP_ATTRS;
	if (ok)
		*a = rep.attrs;
	if (st != NULL)
		*st = rep.type == SSH_FXP_STATUS ? rep.status : SSH_FX_FAILURE;
	sftp_session_reply_free(&rep);
	return ok ? 0 : -1;
}

static int
remote_is_dir(const char *path)
{
	struct sftp_attrs a;

	return remote_stat(path, 0, &a, NULL) == 0 &&
	    (a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) && S_ISDIR(a.perm);
}

/* Whether a command-line word (quoted, maybe relative) is a remote directory. */
static int
remote_word_is_dir(const char *word)
{
	char *u = unescape(word), *abs = make_absolute(u);
	int d = remote_is_dir(abs);

	free(u);
	free(abs);
	return d;
}

static char *
remote_realpath(const char *path, uint32_t *st)
{
	struct sftp_session_reply rep;
	char *r = NULL;

	if (sftp_session_call_path(ss, SSH_FXP_REALPATH, path, &rep) != 0)
		fatal("Connection closed");
	if (rep.type == SSH_FXP_NAME && rep.count == 1)
		r = xstrdup(rep.names[0].filename);
	else if (st != NULL)
		*st = rep.type == SSH_FXP_STATUS ? rep.status : SSH_FX_FAILURE;
	sftp_session_reply_free(&rep);
	return r;
}

struct rent {
	char *name;		/* file name (or path for glob results) */
	char *longname;
	struct sftp_attrs a;
};

static void
rents_free(struct rent *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].longname);
	}
	free(e);
}

/* Read a whole remote directory; 0, or -1 with the status in *st. */
static int
remote_readdir(const char *path, struct rent **ep, size_t *np, uint32_t *st)
{
	struct sftp_session_reply rep, crep;
	struct rent *e = NULL;
	size_t n = 0, i;
	uint8_t h[256];
	size_t hlen;
	int ret = -1;

	*ep = NULL;
	*np = 0;
	if (sftp_session_call_path(ss, SSH_FXP_OPENDIR, path, &rep) != 0)
		fatal("Connection closed");
	if (rep.type != SSH_FXP_HANDLE) {
		*st = rep.type == SSH_FXP_STATUS ? rep.status : SSH_FX_FAILURE;
		sftp_session_reply_free(&rep);
		return -1;
	}
	hlen = rep.len;
	memcpy(h, rep.data, hlen);
	sftp_session_reply_free(&rep);
	for (;;) {
		if (sftp_session_call_handle(ss, SSH_FXP_READDIR, h, hlen,
		    &rep) != 0)
			fatal("Connection closed");
		if (rep.type != SSH_FXP_NAME) {
			if (rep.type == SSH_FXP_STATUS &&
			    rep.status == SSH_FX_EOF)
				ret = 0;
			else
				*st = rep.type == SSH_FXP_STATUS ?
				    rep.status : SSH_FX_FAILURE;
			sftp_session_reply_free(&rep);
			break;
		}
		if ((e = reallocarray(e, n + rep.count + 1,
		    sizeof(*e))) == NULL)
			fatal("out of memory");
		for (i = 0; i < rep.count; i++) {
			e[n].name = rep.names[i].filename;
			e[n].longname = rep.names[i].longname;
			e[n].a = rep.names[i].attrs;
			rep.names[i].filename = rep.names[i].longname = NULL;
			n++;
		}
		sftp_session_reply_free(&rep);
	}
	if (sftp_session_call_handle(ss, SSH_FXP_CLOSE, h, hlen, &crep) != 0)
		fatal("Connection closed");
	sftp_session_reply_free(&crep);
	*ep = e;
	*np = n;
	return ret;
}

/* ---- Globbing ---- */

struct glist {
	char **v;
	size_t n;
};

static void
glist_add(struct glist *g, char *s)
{
	if ((g->v = reallocarray(g->v, g->n + 2, sizeof(*g->v))) == NULL)
		fatal("out of memory");
	g->v[g->n++] = s;
	g->v[g->n] = NULL;
}

static void
glist_free(struct glist *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->v[i]);
	free(g->v);
	g->v = NULL;
	g->n = 0;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Expand pattern components from index k under the directory dir. */
static void
rglob_walk(const char *dir, char **comp, size_t k, size_t ncomp,
    struct glist *out)
{
	struct rent *e;
	size_t n, i;
	uint32_t st;
	char *lit, *p;

	if (k == ncomp) {
		glist_add(out, xstrdup(dir));
		return;
	}
	if (!has_glob(comp[k])) {
		lit = unescape(comp[k]);
		p = xjoin(dir, lit);
		free(lit);
		if (k + 1 == ncomp) {
			struct sftp_attrs a;

			if (remote_stat(p, 1, &a, NULL) == 0)
				glist_add(out, p);
			else
				free(p);
			return;
		}
		rglob_walk(p, comp, k + 1, ncomp, out);
		free(p);
		return;
	}
	if (remote_readdir(dir, &e, &n, &st) != 0) {
		rents_free(e, n);
		return;
	}
	qsort(e, n, sizeof(*e), str_cmp);
	for (i = 0; i < n; i++) {
		if (strcmp(e[i].name, ".") == 0 ||
		    strcmp(e[i].name, "..") == 0)
			continue;
		if (fnmatch(comp[k], e[i].name, FNM_PERIOD) != 0)
			continue;
		p = xjoin(dir, e[i].name);
		if (k + 1 == ncomp)
			glist_add(out, p);
		else {
			rglob_walk(p, comp, k + 1, ncomp, out);
			free(p);
		}
	}
	rents_free(e, n);
}

/*
 * Expand a remote pattern (made absolute) into out.  A word without glob
 * characters yields itself, existing or not; *globbed says which.
 */
static void
remote_glob(const char *word, struct glist *out, int *globbed)
{
	char *abs, *s, *tok, *comp[256];
	size_t ncomp = 0;

	*globbed = has_glob(word);
	abs = make_absolute(word);
	if (!*globbed) {
		glist_add(out, unescape(abs));
		free(abs);
		return;
	}
	for (s = abs; (tok = strsep(&s, "/")) != NULL;) {
		if (*tok == '\0' || ncomp >= 256)
			continue;
		comp[ncomp++] = tok;
	}
	rglob_walk("/", comp, 0, ncomp, out);
	free(abs);
}

/* Expand a local pattern; a word without glob characters is itself. */
static int
local_glob(const char *word, struct glist *out)
{
	glob_t g;
	size_t i;

	if (!has_glob(word)) {
		glist_add(out, unescape(word));
		return 0;
	}
	memset(&g, 0, sizeof(g));
	if (glob(word, GLOB_NOCHECK | GLOB_MARK * 0, NULL, &g) != 0) {
		globfree(&g);
		return -1;
	}
	for (i = 0; i < g.gl_pathc; i++)
		glist_add(out, xstrdup(g.gl_pathv[i]));
	globfree(&g);
	return 0;
}

/* ---- Progress meter ---- */

/* The file meter and the whole transfer set, for the overall line of -r. */
static struct prog_meter meter;
static time_t set_start;
static uint64_t set_bytes;
static unsigned int set_files;

static void
progress_cb(void *arg, const char *name, uint64_t done, uint64_t total,
    int finished)
{
	(void)arg;
	if (finished) {
		set_files++;
		set_bytes += done;
	}
	if (!showprogress || quiet || !isatty(STDOUT_FILENO))
		return;
	prog_meter_draw(&meter, base_name(name), total, done, finished);
}

static void
xfer_msg_cb(void *arg, int is_error, const char *msg)
{
	(void)arg;
	if (is_error)
		fprintf(stderr, "%s\r\n", msg);
	else if (!quiet)
		printf("%s\n", msg);
}

/* ^C during a transfer stops it, as OpenSSH's sftp does. */
static void
sig_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Run a transfer set; recursive ones end with an overall line. */
static int
xfer_run(struct sftp_xfer *xf, unsigned int flags)
{
	char sz[16], rate[16];
	struct sigaction sa;
	double el;
	int r;

	set_start = time(NULL);
	set_bytes = 0;
	set_files = 0;
	if (interactive) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = sig_interrupt;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
	}
	r = sftp_session_run_xfer(ss, xf);
	if (interactive)
		signal(SIGINT, SIG_IGN);
	if (sftp_client_error(sc) != 0)
		fatal("Connection closed");
	/*
	 * A scheduler failure leaves requests whose callbacks point into
	 * the set: the session cannot go on safely.
	 */
	if (r != 0)
		fatal("%s", sftp_session_error(ss));
	r = sftp_xfer_failures(xf) == 0 ? 0 : -1;
	if ((flags & SFTP_XFER_RECURSE) && showprogress && !quiet &&
	    isatty(STDOUT_FILENO)) {
		el = difftime(time(NULL), set_start);
		prog_meter_size(sz, sizeof(sz), (double)set_bytes);
		prog_meter_size(rate, sizeof(rate), el > 0 ?
		    (double)set_bytes / el : (double)set_bytes);
		printf("%u files, %s in %02d:%02d (%s/s)%s\n",
		    set_files, sz, (int)el / 60, (int)el % 60, rate,
		    sftp_xfer_failures(xf) != 0 ? ", some failed" : "");
	}
	return r;
}

static struct sftp_xfer *
xfer_new(unsigned int flags)
{
	struct sftp_xfer_opts o;
	struct sftp_xfer *x;

	memset(&o, 0, sizeof(o));
	o.flags = flags;
	/* Interactively a changed prefix starts over; batches fail. */
	if (!batchmode)
		o.flags |= SFTP_XFER_RESTART;
	o.req_size = req_size;
	o.max_requests = nrequests;
	o.progress = progress_cb;
	o.msg = xfer_msg_cb;
	if ((x = sftp_xfer_new(sc, &o)) == NULL)
		fatal("out of memory");
	return x;
}

/* ---- Commands ---- */

struct cmd_ctx {
	int argc;
	char **argv;		/* argv[0] is the command */
	int optind;
	unsigned int flags;	/* transfer flags from -a -f -p -P -r */
	int lflags;		/* ls flags */
};

#define LS_ONE		0x001
#define LS_ALL		0x002
#define LS_UNSORTED	0x004
#define LS_SI		0x008
#define LS_LONG		0x010
#define LS_NUMERIC	0x020
#define LS_REVERSE	0x040
#define LS_SIZE		0x080
#define LS_TIME		0x100

/* Parse single-letter flags allowed by allowed; -1 on an unknown one. */
static int
parse_flags(struct cmd_ctx *x, const char *allowed)
{
	const char *p;

	for (x->optind = 1; x->optind < x->argc; x->optind++) {
		p = x->argv[x->optind];
		if (p[0] != '-' || p[1] == '\0')
			break;
		if (strcmp(p, "--") == 0) {
			x->optind++;
			break;
		}
		for (p++; *p != '\0'; p++) {
			if (strchr(allowed, *p) == NULL) {
				err_msg("%s: Invalid flag -%c", x->argv[0],
				    *p);
				return -1;
			}
			switch (*p) {
			case 'a': x->flags |= SFTP_XFER_RESUME;
				x->lflags |= LS_ALL; break;
			case 'f': x->flags |= SFTP_XFER_FSYNC;
				x->lflags |= LS_UNSORTED; break;
			case 'p': case 'P': x->flags |= SFTP_XFER_PRESERVE;
				break;
			case 'r': x->flags |= SFTP_XFER_RECURSE;
				x->lflags |= LS_REVERSE; break;
			case '1': x->lflags |= LS_ONE; break;
			case 'h': x->lflags |= LS_SI; break;
			case 'l': x->lflags |= LS_LONG; break;
			case 'n': x->lflags |= LS_NUMERIC | LS_LONG; break;
			case 'S': x->lflags |= LS_SIZE; break;
			case 't': x->lflags |= LS_TIME; break;
			case 'i': x->lflags |= LS_NUMERIC; break;
			case 's': x->lflags |= LS_SIZE; break;
			default: break;
			}
		}
	}
	return 0;
}

static int
nargs(struct cmd_ctx *x, int min, int max)
{
	int n = x->argc - x->optind;

	if (n < min) {
		if (max == 2 && min == 1)
			err_msg("You must specify at least one path after a "
			    "%s command.", x->argv[0]);
		else
			err_msg("You must specify %s after a %s command.",
			    min == 1 ? "a path" : "two paths", x->argv[0]);
		return -1;
	}
	if (n > max) {
		err_msg("%s: Too many arguments.", x->argv[0]);
		return -1;
	}
	return 0;
}

/* Whether a local path names a directory. */
static int
local_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The remote sources of a get (one at least, else an error). */
static int
xfer_src_remote(const char *word, struct glist *g)
{
	char *abs, *u;
	int globbed;

	remote_glob(word, g, &globbed);
	if (g->n > 0)
		return 0;
	abs = make_absolute(word);
	u = unescape(abs);
	err_msg("File \"%s\" not found.", u);
	free(u);
	free(abs);
	return -1;
}

/* The local sources of a put, each of which must exist. */
static int
xfer_src_local(const char *word, struct glist *g)
{
	struct stat st;
	size_t i;

	(void)local_glob(word, g);
	for (i = 0; i < g->n; i++) {
		if (stat(g->v[i], &st) != 0) {
			err_msg("stat %s: %s", g->v[i], strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* A destination argument as a local path. */
static char *
xfer_arg_local(const char *arg)
{
	return unescape(arg);
}

/* A destination argument as an absolute remote path. */
static char *
xfer_arg_remote(const char *arg)
{
	char *u = unescape(arg), *p;

	p = make_absolute(u);
	free(u);
	return p;
}

static char *
xfer_dst_local(const char *base)
{
	return xstrdup(base);
}

/* How a transfer direction finds, names and queues its files. */
struct xfer_dir {
	const char *verb;		/* "Fetching", "Uploading" */
	/* Expand the source word into g; -1 (said) when unusable. */
	int (*sources)(const char *word, struct glist *g);
	/* The destination argument as a path, and whether it is a dir. */
	char *(*dst_arg)(const char *arg);
	int (*dst_is_dir)(const char *path);
	/* The start of the error for many sources and a non-directory. */
	const char *multi;
	/* The destination of a source when the command names none. */
	char *(*default_dst)(const char *base);
	int (*queue)(struct sftp_xfer *, const char *src, const char *dst);
};

static const struct xfer_dir xfer_dir_get = {
	"Fetching", xfer_src_remote, xfer_arg_local, local_is_dir,
	"Multiple source paths", xfer_dst_local, sftp_xfer_get,
};
static const struct xfer_dir xfer_dir_put = {
	"Uploading", xfer_src_local, xfer_arg_remote, remote_is_dir,
	"Multiple paths match", make_absolute, sftp_xfer_put,
};

/*
 * Queue one file.  A download whose STAT went with INIT (prefetch_first)
 * takes that reply, and the transfer starts with OPEN.
 */
static int
xfer_queue(struct sftp_xfer *xf, const struct xfer_dir *d, const char *src,
    const char *to)
{
	struct sftp_attrs a;

	if (d == &xfer_dir_get &&
	    sftp_session_prefetched(ss, SSH_FXP_STAT, src) &&
	    remote_stat(src, 0, &a, NULL) == 0)
		return sftp_xfer_get_known(xf, src, to, &a);
	return d->queue(xf, src, to);
}

/*
 * Queue every source of g toward dst (into it when dst_is_dir, under each
 * source's own name when dst is NULL) and run the transfer.
 */
static int
xfer_all(struct cmd_ctx *x, const struct glist *g, const char *dst,
    int dst_is_dir, unsigned int extra, const struct xfer_dir *d)
{
	struct sftp_xfer *xf;
	char *b, *to;
	size_t i;
	int r, ar, afail = 0;

	xf = xfer_new(gflags | x->flags | extra);
	for (i = 0; i < g->n; i++) {
		if ((b = base_dup(g->v[i])) == NULL)
			fatal("out of memory");
		if (dst == NULL)
			to = d->default_dst(b);
		else if (dst_is_dir)
			to = xjoin(dst, b);
		else
			to = xstrdup(dst);
		if (!quiet)
			out_msg("%s %s to %s\n", d->verb, g->v[i], to);
		/* A tree of many small files may go as one archive. */
		ar = fsftp_archive_tree(ss, d == &xfer_dir_put, g->v[i], to,
		    gflags | x->flags | extra, quiet, showprogress);
		if (ar <= 0)
			afail |= ar;
		else if (xfer_queue(xf, d, g->v[i], to) != 0)
			fatal("out of memory");
		free(b);
		free(to);
	}
	fflush(stdout);
	r = xfer_run(xf, gflags | x->flags | extra);
	sftp_xfer_free(xf);
	return r != 0 || afail != 0 ? -1 : 0;
}

/*
 * get, reget, put, reput: SOURCE [DEST] with the flags allowed; extra is
 * added to the transfer flags.
 */
static int
cmd_xfer(struct cmd_ctx *x, const char *allowed, const struct xfer_dir *d,
    unsigned int extra)
{
	struct glist g = { NULL, 0 };
	char *dst = NULL;
	int dir, r = -1;

	if (parse_flags(x, allowed) != 0 || nargs(x, 1, 2) != 0)
		return -1;
	if (d->sources(x->argv[x->optind], &g) != 0)
		goto out;
	if (x->argc - x->optind == 2)
		dst = d->dst_arg(x->argv[x->optind + 1]);
	dir = dst == NULL || d->dst_is_dir(dst);
	if (g.n > 1 && !dir) {
		err_msg("%s, but destination \"%s\" is not a directory",
		    d->multi, dst);
		goto out;
	}
	r = xfer_all(x, &g, dst, dir, extra, d);
out:
	free(dst);
	glist_free(&g);
	return r;
}

static int
cmd_get(struct cmd_ctx *x)
{
	return cmd_xfer(x, "afpPr", &xfer_dir_get, 0);
}

static int
cmd_reget(struct cmd_ctx *x)
{
	return cmd_xfer(x, "fpPr", &xfer_dir_get, SFTP_XFER_RESUME);
}

static int
cmd_put(struct cmd_ctx *x)
{
	return cmd_xfer(x, "afpPr", &xfer_dir_put, 0);
}

static int
cmd_reput(struct cmd_ctx *x)
{
	return cmd_xfer(x, "fpPr", &xfer_dir_put, SFTP_XFER_RESUME);
}

/* getarchive [-p] remote-dir local-archive; putarchive [-p] local remote */
static int
cmd_archive(struct cmd_ctx *x, int put)
{
	char *src, *dst, *u;
	int r;

	if (parse_flags(x, "pP") != 0 || nargs(x, 2, 2) != 0)
		return -1;
	u = unescape(x->argv[x->optind + put]);
	src = put ? unescape(x->argv[x->optind]) : make_absolute(u);
	dst = put ? make_absolute(u) : unescape(x->argv[x->optind + 1]);
	r = fsftp_archive_file(ss, put, src, dst, gflags | x->flags, quiet,
	    showprogress);
	free(u);
	free(src);
	free(dst);
	return r;
}

static int
cmd_getarchive(struct cmd_ctx *x)
{
	return cmd_archive(x, 0);
}

static int
cmd_putarchive(struct cmd_ctx *x)
{
	return cmd_archive(x, 1);
}

static int
cmd_cd(struct cmd_ctx *x)
{
	char *u, *abs, *real;
	struct sftp_attrs a;
	uint32_t st = SSH_FX_FAILURE;

	if (parse_flags(x, "") != 0 || nargs(x, 0, 1) != 0)
		return -1;
	u = unescape(x->optind < x->argc ? x->argv[x->optind] : "~");
	if (strcmp(u, "~") == 0 || strncmp(u, "~/", 2) == 0) {
		/* The home directory: where the session started. */
		free(u);
		u = xstrdup(".");
		abs = remote_realpath(".", &st);
		if (abs == NULL)
			abs = xstrdup("/");
	} else
		abs = make_absolute(u);
	free(u);
	if ((real = remote_realpath(abs, &st)) == NULL) {
		err_msg("realpath %s: %s", abs, fx2txt(st));
		free(abs);
		return -1;
	}
	free(abs);
	if (remote_stat(real, 0, &a, &st) != 0) {
		err_msg("stat remote: %s", fx2txt(st));
		free(real);
		return -1;
	}
	if (!(a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) || !S_ISDIR(a.perm)) {
		err_msg("Can't change directory: \"%s\" is not a directory",
		    real);
		free(real);
		return -1;
	}
	free(rcwd);
	rcwd = real;
	return 0;
}

static int
cmd_pwd(struct cmd_ctx *x)
{
	(void)x;
	out_msg("Remote working directory: %s\n", rcwd);
	return 0;
}

static int
cmd_lpwd(struct cmd_ctx *x)
{
	char buf[PATH_MAX];

	(void)x;
	if (getcwd(buf, sizeof(buf)) == NULL) {
		err_msg("getcwd: %s", strerror(errno));
		return -1;
	}
	out_msg("Local working directory: %s\n", buf);
	return 0;
}

static int
cmd_lcd(struct cmd_ctx *x)
{
	char *u;
	const char *home = getenv("HOME");

	if (parse_flags(x, "") != 0 || nargs(x, 0, 1) != 0)
		return -1;
	u = x->optind < x->argc ? unescape(x->argv[x->optind]) :
	    xstrdup(home != NULL ? home : "/");
	if (chdir(u) != 0) {
		err_msg("Couldn't change local directory to \"%s\": %s", u,
		    strerror(errno));
		free(u);
		return -1;
	}
	free(u);
	return 0;
}

static int
cmd_lmkdir(struct cmd_ctx *x)
{
	char *u;

	if (parse_flags(x, "") != 0 || nargs(x, 1, 1) != 0)
		return -1;
	u = unescape(x->argv[x->optind]);
	if (mkdir(u, 0777) != 0) {
		err_msg("Couldn't create local directory \"%s\": %s", u,
		    strerror(errno));
		free(u);
		return -1;
	}
	free(u);
	return 0;
}

static int
cmd_lumask(struct cmd_ctx *x)
{
	const char *es;
	long long m;
	char *u;

	if (parse_flags(x, "") != 0 || nargs(x, 1, 1) != 0)
		return -1;
	u = unescape(x->argv[x->optind]);
	errno = 0;
	m = strtoll(u, NULL, 8);
	es = (errno != 0 || m < 0 || m > 0777 || u[0] == '\0' ||
	    u[strspn(u, "01234567")] != '\0') ? "invalid" : NULL;
	if (es != NULL) {
		err_msg("You must supply a numeric argument to the lumask "
		    "command.");
		free(u);
		return -1;
	}
	free(u);
	umask((mode_t)m);
	out_msg("Local umask: %03llo\n", m);
	return 0;
}

/* Run a command through the user's shell (lls, !). */
static int
local_shell(const char *args)
{
	const char *shell = getenv("SHELL");
	pid_t pid;
	int status;

	if (shell == NULL || *shell == '\0')
		shell = "/bin/sh";
	fflush(stdout);
	if ((pid = fork()) < 0) {
		err_msg("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		if (args == NULL)
			execl(shell, shell, (char *)NULL);
		else
			execl(shell, shell, "-c", args, (char *)NULL);
		fprintf(stderr, "Couldn't execute \"%s\": %s\n", shell,
		    strerror(errno));
		_exit(1);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status))
		err_msg("Shell exited abnormally");
	else if (WEXITSTATUS(status) != 0)
		err_msg("Shell exited with status %d", WEXITSTATUS(status));
	return 0;
}

static char *cur_line;	/* the command line as typed, for lls and ! */

static int
cmd_lls(struct cmd_ctx *x)
{
	const char *p = cur_line;
	char *cmd;
	int r;

	(void)x;
	while (isspace((unsigned char)*p))
		p++;
	p += 3;		/* "lls" */
	if (asprintf(&cmd, "ls%s", p) < 0)
		fatal("out of memory");
	r = local_shell(cmd);
	free(cmd);
	return r;
}

static int
cmd_bang(struct cmd_ctx *x)
{
	const char *p = cur_line;

	(void)x;
	while (isspace((unsigned char)*p))
		p++;
	p++;
	while (isspace((unsigned char)*p))
		p++;
	return local_shell(*p == '\0' ? NULL : p);
}

static int
cmd_mkdir(struct cmd_ctx *x)
{
	struct sftp_attrs a;
	struct sftp_session_reply rep;
	struct buf *b;
	char *u, *abs;
	int r = 0;

	if (parse_flags(x, "") != 0 || nargs(x, 1, 1) != 0)
		return -1;
	u = unescape(x->argv[x->optind]);
	abs = make_absolute(u);
	free(u);
	memset(&a, 0, sizeof(a));
	a.flags = SSH_FILEXFER_ATTR_PERMISSIONS;
	a.perm = 0777;
	if (sftp_client_begin(sc, SSH_FXP_MKDIR, NULL, &b) != 0 ||
	    buf_put_cstring(b, abs) != 0 || sftp_attrs_put(b, &a) != 0 ||
	    sftp_session_call_end(ss, &rep) != 0)
		fatal("Connection closed");
	if (rep.type != SSH_FXP_STATUS || rep.status != SSH_FX_OK) {
		err_msg("remote mkdir \"%s\": %s", abs, rep_txt(&rep));
		r = -1;
	}
	sftp_session_reply_free(&rep);
	free(abs);
	return r;
}

/* A request on one literal path with a status reply. */
static int
simple_path(struct cmd_ctx *x, uint8_t type, const char *what)
{
	struct sftp_session_reply rep;
	char *u, *abs;
	int r = 0;

	if (parse_flags(x, "") != 0 || nargs(x, 1, 1) != 0)
		return -1;
	u = unescape(x->argv[x->optind]);
	abs = make_absolute(u);
	free(u);
	if (sftp_session_call_path(ss, type, abs, &rep) != 0)
		fatal("Connection closed");
	if (rep.type != SSH_FXP_STATUS || rep.status != SSH_FX_OK) {
		err_msg("remote %s \"%s\": %s", what, abs, rep_txt(&rep));
		r = -1;
	}
	sftp_session_reply_free(&rep);
	free(abs);
	return r;
}

static int
cmd_rmdir(struct cmd_ctx *x)
{
	return simple_path(x, SSH_FXP_RMDIR, "rmdir");
}

static int
cmd_rm(struct cmd_ctx *x)
{
	struct glist g = { NULL, 0 };
	struct sftp_session_reply rep;
	int globbed, r = 0;
	size_t i;

	if (parse_flags(x, "") != 0 || nargs(x, 1, 1) != 0)
		return -1;
	remote_glob(x->argv[x->optind], &g, &globbed);
	for (i = 0; i < g.n; i++) {
		if (!quiet && globbed)
			out_msg("Removing %s\n", g.v[i]);
		if (sftp_session_call_path(ss, SSH_FXP_REMOVE, g.v[i],
		    &rep) != 0)
			fatal("Connection closed");
		if (rep.type != SSH_FXP_STATUS || rep.status != SSH_FX_OK) {
			err_msg("remote delete %s: %s", g.v[i],
			    rep_txt(&rep));
			r = -1;
		}
		sftp_session_reply_free(&rep);
	}
	glist_free(&g);
	return r;
}

/* Two-path requests: rename, ln, symlink, cp. */
static int
two_paths(struct cmd_ctx *x, const char *allowed, char **ap, char **bp)
{
	char *u;

	if (parse_flags(x, allowed) != 0 || nargs(x, 2, 2) != 0)
		return -1;
	u = unescape(x->argv[x->optind]);
	*ap = make_absolute(u);
	free(u);
	u = unescape(x->argv[x->optind + 1]);
	*bp = make_absolute(u);
	free(u);
	return 0;
}

static int
call_two(uint8_t type, const char *ext, const char *a, const char *b2,
    const char *what)
{
	struct sftp_session_reply rep;
	struct buf *b;
	int r = 0;

	if (sftp_client_begin(sc, type, ext, &b) != 0 ||
	    buf_put_cstring(b, a) != 0 || buf_put_cstring(b, b2) != 0 ||
	    sftp_session_call_end(ss, &rep) != 0)
		fatal("Connection closed");
	if (rep.type != SSH_FXP_STATUS || rep.status != SSH_FX_OK) {
		err_msg("%s \"%s\" to \"%s\": %s", what, a, b2,
		    rep_txt(&rep));
		r = -1;
	}
	sftp_session_reply_free(&rep);
	return r;
}

static int
cmd_rename(struct cmd_ctx *x)
{
	char *a, *b;
	int r, legacy;

	x->lflags = 0;
	if (two_paths(x, "l", &a, &b) != 0)
		return -1;
	legacy = (x->lflags & LS_LONG) ||
	    !sftp_client_has_ext(sc, "posix-rename@openssh.com", "1", NULL);
	r = call_two(legacy ? SSH_FXP_RENAME : SSH_FXP_EXTENDED,
	    legacy ? NULL : "posix-rename@openssh.com", a, b,
	    "remote rename");
	free(a);
	free(b);
	return r;
}

static int
do_symlink(struct cmd_ctx *x, int first)
{
	char *u, *b;
	int r;

	if (nargs(x, 2, 2) != 0)
		return -1;
	(void)first;
	/* The target is kept as typed; the link's name is made absolute. */
	u = unescape(x->argv[x->optind]);
	b = unescape(x->argv[x->optind + 1]);
	{
		char *abs = make_absolute(b);

		free(b);
		b = abs;
	}
	r = call_two(SSH_FXP_SYMLINK, NULL, u, b, "remote symlink file");
	free(u);
	free(b);
	return r;
}

static int
cmd_symlink(struct cmd_ctx *x)
{
	if (parse_flags(x, "") != 0)
		return -1;
	return do_symlink(x, 1);
}

static int
cmd_ln(struct cmd_ctx *x)
{
	char *a, *b;
	int r, i, sflag = 0;

	for (i = 1; i < x->argc && x->argv[i][0] == '-'; i++)
		if (strcmp(x->argv[i], "-s") == 0)
			sflag = 1;
	if (parse_flags(x, "s") != 0)
		return -1;
	if (sflag)
		return do_symlink(x, 0);
	if (two_paths(x, "s", &a, &b) != 0)
		return -1;
	if (!sftp_client_has_ext(sc, "hardlink@openssh.com", "1", NULL)) {
		err_msg("Server does not support hardlink@openssh.com "
		    "extension");
		r = -1;
	} else
		r = call_two(SSH_FXP_EXTENDED, "hardlink@openssh.com", a, b,
		    "remote link");
	free(a);
	free(b);
	return r;
}

static int
cmd_copy(struct cmd_ctx *x)
{
	struct sftp_session_reply rep, r2;
	struct sftp_attrs a, wa;
	struct buf *b;
	uint8_t rh[256], wh[256];
	size_t rhl, whl;
	uint32_t st = SSH_FX_FAILURE;
	char *src, *dst;
	int r = -1;

	if (two_paths(x, "", &src, &dst) != 0)
		return -1;
	if (!sftp_client_has_ext(sc, "copy-data", "1", NULL)) {
		err_msg("Server does not support copy-data extension");
		goto out2;
	}
	if (remote_stat(src, 0, &a, &st) != 0) {
		err_msg("stat remote: %s", fx2txt(st));
		goto out2;
	}
	if (!(a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) || !S_ISREG(a.perm)) {
		err_msg("Cannot copy non-regular file: %s", src);
		goto out2;
	}
	if (sftp_client_begin(sc, SSH_FXP_OPEN, NULL, &b) != 0 ||
	    buf_put_cstring(b, src) != 0 || buf_put_u32(b, SSH_FXF_READ) != 0 ||
	    buf_put_u32(b, 0) != 0 || sftp_session_call_end(ss, &rep) != 0)
		fatal("Connection closed");
	if (rep.type != SSH_FXP_HANDLE) {
		err_msg("open remote \"%s\": %s", src, rep_txt(&rep));
		sftp_session_reply_free(&rep);
		goto out2;
	}
	rhl = rep.len;
	memcpy(rh, rep.data, rhl);
	sftp_session_reply_free(&rep);
	memset(&wa, 0, sizeof(wa));
	wa.flags = SSH_FILEXFER_ATTR_PERMISSIONS;
	wa.perm = a.perm & 0777;
	if (sftp_client_begin(sc, SSH_FXP_OPEN, NULL, &b) != 0 ||
	    buf_put_cstring(b, dst) != 0 ||
	    buf_put_u32(b, SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC) !=
	    0 || sftp_attrs_put(b, &wa) != 0 ||
	    sftp_session_call_end(ss, &rep) != 0)
		fatal("Connection closed");
	if (rep.type != SSH_FXP_HANDLE) {
		err_msg("open remote \"%s\": %s", dst, rep_txt(&rep));
		sftp_session_reply_free(&rep);
		goto out;
	}
	whl = rep.len;
	memcpy(wh, rep.data, whl);
	sftp_session_reply_free(&rep);
	if (sftp_client_begin(sc, SSH_FXP_EXTENDED, "copy-data", &b) != 0 ||
	    buf_put_string(b, rh, rhl) != 0 || buf_put_u64(b, 0) != 0 ||
	    buf_put_u64(b, 0) != 0 || buf_put_string(b, wh, whl) != 0 ||
	    buf_put_u64(b, 0) != 0 || sftp_session_call_end(ss, &rep) != 0)
		fatal("Connection closed");
	if (rep.type == SSH_FXP_STATUS && rep.status == SSH_FX_OK)
		r = 0;
	else
		err_msg("Couldn't copy file \"%s\" to \"%s\": %s", src, dst,
		    rep_txt(&rep));
	sftp_session_reply_free(&rep);
	if (sftp_session_call_handle(ss, SSH_FXP_CLOSE, wh, whl, &r2) != 0)
		fatal("Connection closed");
	sftp_session_reply_free(&r2);
 out:
	if (sftp_session_call_handle(ss, SSH_FXP_CLOSE, rh, rhl, &r2) != 0)
		fatal("Connection closed");
	sftp_session_reply_free(&r2);
 out2:
	free(src);
	free(dst);
	return r;
}

/* chmod/chown/chgrp: STAT, change one field, SETSTAT (or lsetstat). */
static int
change_attr(struct cmd_ctx *x, int which)
{
	struct glist g = { NULL, 0 };
	struct sftp_session_reply rep;
	struct sftp_attrs a;
	struct buf *b;
	const char *es = NULL;
	char *u, *end;
	long long v;
	int globbed, r = 0, hflag = 0;
	uint32_t st = SSH_FX_FAILURE;
	size_t i;

	if (parse_flags(x, "h") != 0 || nargs(x, 2, 2) != 0)
		return -1;
	for (i = 1; i < (size_t)x->optind; i++)
		if (strchr(x->argv[i], 'h') != NULL)
			hflag = 1;
	u = unescape(x->argv[x->optind]);
	errno = 0;
	if (which == 0) {
		v = strtoll(u, &end, 8);
		if (*u == '\0' || *end != '\0' || v < 0 || v > 07777)
			es = "";
	} else {
		v = misc_strtonum(u, 0, UINT32_MAX, &es);
		if (es != NULL) {
			struct passwd *pw = which == 1 ? getpwnam(u) : NULL;
			struct group *gr = which == 2 ? getgrnam(u) : NULL;

			if (pw != NULL) {
				v = pw->pw_uid;
				es = NULL;
			} else if (gr != NULL) {
				v = gr->gr_gid;
				es = NULL;
			} else
				es = "";
		}
	}
	free(u);
	if (es != NULL) {
		err_msg("You must supply a numeric argument to the %s "
		    "command.", x->argv[0]);
		return -1;
	}
	remote_glob(x->argv[x->optind + 1], &g, &globbed);
	for (i = 0; i < g.n; i++) {
		if (which != 0 && remote_stat(g.v[i], hflag, &a, &st) != 0) {
			err_msg("stat remote: %s", fx2txt(st));
			r = -1;
			continue;
		}
		if (which == 0) {
			memset(&a, 0, sizeof(a));
			a.flags = SSH_FILEXFER_ATTR_PERMISSIONS;
			a.perm = (uint32_t)v;
			if (!quiet)
				out_msg("Changing mode on %s\n", g.v[i]);
		} else {
			if (!(a.flags & SSH_FILEXFER_ATTR_UIDGID)) {
				err_msg("Can't get current ownership of "
				    "remote file \"%s\"", g.v[i]);
				r = -1;
				continue;
			}
			a.flags = SSH_FILEXFER_ATTR_UIDGID;
			if (which == 1)
				a.uid = (uint32_t)v;
			else
				a.gid = (uint32_t)v;
			if (!quiet)
				out_msg("Changing %s on %s\n", which == 1 ?
				    "owner" : "group", g.v[i]);
		}
		if (hflag && !sftp_client_has_ext(sc, "lsetstat@openssh.com",
		    "1", NULL)) {
			err_msg("Server does not support lsetstat@openssh.com "
			    "extension");
			r = -1;
			break;
		}
		if (sftp_client_begin(sc, hflag ? SSH_FXP_EXTENDED :
		    SSH_FXP_SETSTAT, hflag ? "lsetstat@openssh.com" : NULL,
		    &b) != 0 || buf_put_cstring(b, g.v[i]) != 0 ||
		    sftp_attrs_put(b, &a) != 0 ||
		    sftp_session_call_end(ss, &rep) != 0)
			fatal("Connection closed");
		if (rep.type != SSH_FXP_STATUS || rep.status != SSH_FX_OK) {
			err_msg("remote setstat \"%s\": %s", g.v[i],
			    rep_txt(&rep));
			r = -1;
		}
		sftp_session_reply_free(&rep);
	}
	glist_free(&g);
	return r;
}

static int
cmd_chmod(struct cmd_ctx *x)
{
	return change_attr(x, 0);
}

static int
cmd_chown(struct cmd_ctx *x)
{
	return change_attr(x, 1);
}

static int
cmd_chgrp(struct cmd_ctx *x)
{
	return change_attr(x, 2);
}

static int
cmd_df(struct cmd_ctx *x)
{
	struct sftp_session_reply rep;
	struct buf *b, *m = NULL;
	uint64_t bsize, frsize, blocks, bfree, bavail, files, ffree, favail;
	uint64_t fsid, flag, namemax;
	char *path;
	int r = -1;

	if (parse_flags(x, "hi") != 0 || nargs(x, 0, 1) != 0)
		return -1;
	if (x->optind < x->argc) {
		char *u = unescape(x->argv[x->optind]);

		path = make_absolute(u);
		free(u);
	} else
		path = xstrdup(rcwd);
	if (!sftp_client_has_ext(sc, "statvfs@openssh.com", "2", NULL)) {
		err_msg("Server does not support statvfs@openssh.com "
		    "extension");
		free(path);
		return -1;
	}
	if (sftp_client_begin(sc, SSH_FXP_EXTENDED, "statvfs@openssh.com",
	    &b) != 0 || buf_put_cstring(b, path) != 0 ||
	    sftp_session_call_end(ss, &rep) != 0)
		fatal("Connection closed");
	if (rep.type != SSH_FXP_EXTENDED_REPLY) {
		err_msg("remote statvfs \"%s\": %s", path, rep_txt(&rep));
		goto out;
	}
	if ((m = buf_from(rep.data, rep.len)) == NULL)
		fatal("out of memory");
	if (buf_get_u64(m, &bsize) != 0 || buf_get_u64(m, &frsize) != 0 ||
	    buf_get_u64(m, &blocks) != 0 || buf_get_u64(m, &bfree) != 0 ||
	    buf_get_u64(m, &bavail) != 0 || buf_get_u64(m, &files) != 0 ||
	    buf_get_u64(m, &ffree) != 0 || buf_get_u64(m, &favail) != 0 ||
	    buf_get_u64(m, &fsid) != 0 || buf_get_u64(m, &flag) != 0 ||
	    buf_get_u64(m, &namemax) != 0 || buf_expect_end(m) != 0) {
		err_msg("Malformed statvfs reply");
		goto out;
	}
	if (x->lflags & LS_NUMERIC) {
		printf("%12s %12s %12s %12s %s\n", "Inodes", "Used", "Avail",
		    "(root)", "%Capacity");
		printf("%12llu %12llu %12llu %12llu %3llu%%\n",
		    (unsigned long long)files,
		    (unsigned long long)(files - ffree),
		    (unsigned long long)favail, (unsigned long long)ffree,
		    (unsigned long long)(files == 0 ? 0 :
		    100 * (files - ffree) / files));
	} else if (x->lflags & LS_SI) {
		char s1[16], s2[16], s3[16], s4[16];

		prog_meter_size(s1, sizeof(s1), (double)(frsize * blocks));
		prog_meter_size(s2, sizeof(s2), (double)(frsize * (blocks - bfree)));
		prog_meter_size(s3, sizeof(s3), (double)(frsize * bavail));
		prog_meter_size(s4, sizeof(s4), (double)(frsize * bfree));
		printf("%9s %9s %9s %9s %s\n", "Size", "Used", "Avail",
		    "(root)", "%Capacity");
		printf("%9s %9s %9s %9s %3llu%%\n", s1, s2, s3, s4,
		    (unsigned long long)(blocks == 0 ? 0 :
		    100 * (blocks - bfree) / blocks));
	} else {
		printf("%12s %12s %12s %12s %s\n", "Size", "Used", "Avail",
		    "(root)", "%Capacity");
		printf("%12llu %12llu %12llu %12llu %3llu%%\n",
		    (unsigned long long)(frsize * blocks / 1024),
		    (unsigned long long)(frsize * (blocks - bfree) / 1024),
		    (unsigned long long)(frsize * bavail / 1024),
		    (unsigned long long)(frsize * bfree / 1024),
		    (unsigned long long)(blocks == 0 ? 0 :
		    100 * (blocks - bfree) / blocks));
	}
	r = 0;
 out:
	buf_free(m);
	sftp_session_reply_free(&rep);
	free(path);
	return r;
}

/* ---- ls ---- */

static int ls_sort_flags;

static int
ls_cmp(const void *va, const void *vb)
{
	const struct rent *a = va, *b = vb;
	int r;

	if (ls_sort_flags & LS_SIZE)
		r = a->a.size < b->a.size ? 1 : a->a.size > b->a.size ? -1 : 0;
	else if (ls_sort_flags & LS_TIME)
		r = a->a.mtime < b->a.mtime ? 1 :
		    a->a.mtime > b->a.mtime ? -1 : 0;
	else
		r = strcmp(a->name, b->name);
	if (r == 0)
		r = strcmp(a->name, b->name);
	return (ls_sort_flags & LS_REVERSE) ? -r : r;
}

static void
ls_mode_string(uint32_t m, char *s)
{
	static const char types[] = "?pc?d?b?-?l?s???";

	s[0] = types[(m >> 12) & 0xf];
	s[1] = (m & S_IRUSR) ? 'r' : '-';
	s[2] = (m & S_IWUSR) ? 'w' : '-';
	s[3] = (m & S_ISUID) ? ((m & S_IXUSR) ? 's' : 'S') :
	    ((m & S_IXUSR) ? 'x' : '-');
	s[4] = (m & S_IRGRP) ? 'r' : '-';
	s[5] = (m & S_IWGRP) ? 'w' : '-';
	s[6] = (m & S_ISGID) ? ((m & S_IXGRP) ? 's' : 'S') :
	    ((m & S_IXGRP) ? 'x' : '-');
	s[7] = (m & S_IROTH) ? 'r' : '-';
	s[8] = (m & S_IWOTH) ? 'w' : '-';
	s[9] = (m & S_ISVTX) ? ((m & S_IXOTH) ? 't' : 'T') :
	    ((m & S_IXOTH) ? 'x' : '-');
	s[10] = '\0';
}

/* Names of the owners and groups of a listing, from the server. */
struct idnames {
	uint32_t *uids, *gids;
	char **unames, **gnames;
	size_t nu, ng;
};

static void
idnames_free(struct idnames *m)
{
	size_t i;

	for (i = 0; i < m->nu; i++)
		free(m->unames != NULL ? m->unames[i] : NULL);
	for (i = 0; i < m->ng; i++)
		free(m->gnames != NULL ? m->gnames[i] : NULL);
	free(m->uids);
	free(m->gids);
	free(m->unames);
	free(m->gnames);
	memset(m, 0, sizeof(*m));
}

static void
idnames_add(uint32_t **v, size_t *n, uint32_t id)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*v)[i] == id)
			return;
	if ((*v = reallocarray(*v, *n + 1, sizeof(**v))) == NULL)
		fatal("out of memory");
	(*v)[(*n)++] = id;
}

/* Parse count names from the string in m into *out. */
static int
idnames_parse(struct buf *m, size_t count, char ***out)
{
	struct buf *sub = NULL;
	size_t i;
	int r;

	if ((*out = calloc(count + 1, sizeof(**out))) == NULL)
		fatal("out of memory");
	if ((r = buf_froms(m, &sub)) != 0)
		return r;
	for (i = 0; i < count && r == 0; i++)
		r = buf_get_cstring(sub, &(*out)[i], NULL);
	if (r == 0)
		r = buf_expect_end(sub);
	buf_free(sub);
	return r;
}

/* One users-groups-by-id@openssh.com request for a whole listing. */
static void
idnames_lookup(struct idnames *m, const struct rent *e, size_t n)
{
	struct sftp_session_reply rep;
	struct buf *b, *rb = NULL;
	size_t i, off;

	memset(m, 0, sizeof(*m));
	if (!sftp_client_has_ext(sc, "users-groups-by-id@openssh.com",
	    "1", NULL))
		return;
	for (i = 0; i < n; i++) {
		if (!(e[i].a.flags & SSH_FILEXFER_ATTR_UIDGID))
			continue;
		idnames_add(&m->uids, &m->nu, e[i].a.uid);
		idnames_add(&m->gids, &m->ng, e[i].a.gid);
	}
	if (m->nu == 0)
		return;
	if (sftp_client_begin(sc, SSH_FXP_EXTENDED,
	    "users-groups-by-id@openssh.com", &b) != 0 ||
	    buf_begin_string(b, &off) != 0)
		fatal("out of memory");
	for (i = 0; i < m->nu; i++)
		if (buf_put_u32(b, m->uids[i]) != 0)
			fatal("out of memory");
	if (buf_end_string(b, off) != 0 || buf_begin_string(b, &off) != 0)
		fatal("out of memory");
	for (i = 0; i < m->ng; i++)
		if (buf_put_u32(b, m->gids[i]) != 0)
			fatal("out of memory");
	if (buf_end_string(b, off) != 0 || sftp_session_call_end(ss, &rep) != 0)
		fatal("Connection closed");
	if (rep.type == SSH_FXP_EXTENDED_REPLY &&
	    (rb = buf_from(rep.data, rep.len)) != NULL &&
	    (idnames_parse(rb, m->nu, &m->unames) != 0 ||
	    idnames_parse(rb, m->ng, &m->gnames) != 0 ||
	    buf_expect_end(rb) != 0))
		idnames_free(m);
	buf_free(rb);
	sftp_session_reply_free(&rep);
}

static const char *
idnames_get(uint32_t *ids, char **names, size_t n, uint32_t id)
{
	size_t i;

	for (i = 0; names != NULL && i < n; i++)
		if (ids[i] == id && names[i] != NULL && names[i][0] != '\0')
			return names[i];
	return NULL;
}

/* A long line as OpenSSH's sftp formats it. */
static void
ls_long_local(const char *name, const struct sftp_attrs *a, int lflags,
    const struct idnames *m)
{
	char mode[11], when[32], size[16], ub[16], gb[16];
	const char *user = NULL, *group = NULL;
	time_t t = (time_t)a->mtime;
	struct tm *tm = localtime(&t);

	ls_mode_string(a->perm, mode);
	if (tm == NULL || strftime(when, sizeof(when),
	    (time(NULL) - t < 365 * 86400 / 2) ? "%b %e %H:%M" :
	    "%b %e  %Y", tm) == 0)
		snprintf(when, sizeof(when), "?");
	if (lflags & LS_SI)
		prog_meter_size(size, sizeof(size), (double)a->size);
	else
		snprintf(size, sizeof(size), "%llu",
		    (unsigned long long)a->size);
	if (m != NULL && !(lflags & LS_NUMERIC)) {
		user = idnames_get(m->uids, m->unames, m->nu, a->uid);
		group = idnames_get(m->gids, m->gnames, m->ng, a->gid);
	}
	snprintf(ub, sizeof(ub), "%u", a->uid);
	snprintf(gb, sizeof(gb), "%u", a->gid);
	out_msg("%s    ? %-8s %-8s %8s %s %s\n", mode, user ? user : ub,
	    group ? group : gb, size, when, name);
}

static void
ls_print(struct rent *e, size_t n, int lflags, const char *prefix,
    size_t minlen)
{
	size_t i, maxlen = 0, len;
	int width = prog_meter_width(), columns, colspace, c = 1;
	struct idnames m;
	char *name;

	if (!(lflags & LS_UNSORTED)) {
		ls_sort_flags = lflags;
		qsort(e, n, sizeof(*e), ls_cmp);
	}
	maxlen = minlen;
	for (i = 0; i < n; i++) {
		len = strlen(e[i].name) + (prefix ? strlen(prefix) + 1 : 0);
		if (len > maxlen)
			maxlen = len;
	}
	if (!isatty(STDOUT_FILENO))
		width = 80;
	memset(&m, 0, sizeof(m));
	if ((lflags & LS_LONG) && !(lflags & LS_NUMERIC))
		idnames_lookup(&m, e, n);
	columns = width / (int)(maxlen + 2);
	if (columns < 1)
		columns = 1;
	colspace = width / columns;
	for (i = 0; i < n; i++) {
		if (prefix != NULL)
			name = xjoin(prefix, e[i].name);
		else
			name = xstrdup(e[i].name);
		if (lflags & LS_LONG) {
			/* As OpenSSH: the server's long name only when it
			 * cannot name owners and nothing asks otherwise. */
			if ((lflags & (LS_NUMERIC | LS_SI)) || m.nu > 0 ||
			    e[i].longname == NULL)
				ls_long_local(name, &e[i].a, lflags, &m);
			else
				out_msg("%s\n", e[i].longname);
		} else if (lflags & LS_ONE)
			out_msg("%s\n", name);
		else {
			out_msg("%-*s", colspace, name);
			if (c >= columns) {
				printf("\n");
				c = 1;
			} else
				c++;
		}
		free(name);
	}
	if (!(lflags & (LS_LONG | LS_ONE)) && c != 1)
		printf("\n");
	idnames_free(&m);
}

static int
cmd_ls(struct cmd_ctx *x)
{
	struct glist g = { NULL, 0 };
	struct rent *e;
	size_t n, i, k;
	uint32_t st = SSH_FX_FAILURE;
	char *word, *shown;
	int globbed, r = 0;

	if (parse_flags(x, "1afhlnrSt") != 0 || nargs(x, 0, 1) != 0)
		return -1;
	/* ls's -f, -r are "unsorted" and "reverse": flags were shared. */
	word = x->optind < x->argc ? x->argv[x->optind] : NULL;
	if (word == NULL || (!has_glob(word) && remote_word_is_dir(word))) {
		char *u = word != NULL ? unescape(word) : NULL;
		char *abs = make_absolute(u != NULL ? u : ".");

		if (word == NULL) {
			free(abs);
			abs = xstrdup(rcwd);
		}
		if (remote_readdir(abs, &e, &n, &st) != 0) {
			err_msg("Couldn't read directory: %s", fx2txt(st));
			rents_free(e, n);
			free(abs);
			free(u);
			return -1;
		}
		for (i = k = 0; i < n; i++) {
			if (!(x->lflags & LS_ALL) && e[i].name[0] == '.') {
				free(e[i].name);
				free(e[i].longname);
				continue;
			}
			e[k++] = e[i];
		}
		shown = u != NULL && strcmp(u, ".") != 0 ? u : NULL;
		ls_print(e, k, x->lflags, shown, 0);
		rents_free(e, k);
		free(abs);
		free(u);
		return 0;
	}
	remote_glob(word, &g, &globbed);
	if (g.n == 0) {
		char *u = unescape(word), *abs = make_absolute(u);

		err_msg("Can't ls: \"%s\" not found", abs);
		free(abs);
		free(u);
		return -1;
	}
	if ((e = calloc(g.n, sizeof(*e))) == NULL)
		fatal("out of memory");
	for (i = k = n = 0; i < g.n; i++) {
		if (remote_stat(g.v[i], 1, &e[k].a, &st) != 0) {
			if (!globbed) {
				char *u = unescape(word);
				char *abs = make_absolute(u);

				err_msg("Can't ls: \"%s\" not found", abs);
				free(abs);
				free(u);
				r = -1;
			}
			continue;
		}
		/* Show paths as the user wrote them: relative stays so. */
		if (word[0] != '/' && strncmp(g.v[i], rcwd, strlen(rcwd)) == 0)
			shown = g.v[i] + strlen(rcwd) +
			    (strcmp(rcwd, "/") == 0 ? 0 : 1);
		else
			shown = g.v[i];
		/* Columns as wide as the absolute paths, as OpenSSH's. */
		if (strlen(g.v[i]) + (S_ISDIR(e[k].a.perm) ? 1 : 0) > n)
			n = strlen(g.v[i]) + (S_ISDIR(e[k].a.perm) ? 1 : 0);
		/* Directories are marked as glob(3)'s GLOB_MARK does. */
		if (asprintf(&e[k].name, "%s%s", shown, S_ISDIR(e[k].a.perm) ?
		    "/" : "") < 0)
			fatal("out of memory");
		k++;
	}
	ls_print(e, k, x->lflags, NULL, n);
	rents_free(e, k);
	glist_free(&g);
	return r;
}

static int
cmd_version(struct cmd_ctx *x)
{
	(void)x;
	out_msg("SFTP protocol version %u\n", sftp_client_version(sc));
	return 0;
}

static int
cmd_progress(struct cmd_ctx *x)
{
	(void)x;
	showprogress = !showprogress;
	out_msg("Progress meter %s\n", showprogress ? "enabled" :
	    "disabled");
	return 0;
}

static int
cmd_help(struct cmd_ctx *x)
{
	(void)x;
	printf("%s",
	    "Available commands:\n"
	    "bye                                Quit sftp\n"
	    "cd path                            Change remote directory to "
	    "'path'\n"
	    "chgrp [-h] grp path                Change group of file 'path' "
	    "to 'grp'\n"
	    "chmod [-h] mode path               Change permissions of file "
	    "'path' to 'mode'\n"
	    "chown [-h] own path                Change owner of file 'path' "
	    "to 'own'\n"
	    "copy oldpath newpath               Copy remote file\n"
	    "cp oldpath newpath                 Copy remote file\n"
	    "df [-hi] [path]                    Display statistics for "
	    "current directory or\n"
	    "                                   filesystem containing "
	    "'path'\n"
	    "exit                               Quit sftp\n"
	    "get [-afpPr] remote [local]        Download file\n"
	    "getarchive [-p] remote-dir file    Download directory as "
	    "archive\n"
	    "help                               Display this help text\n"
	    "lcd path                           Change local directory to "
	    "'path'\n"
	    "lls [ls-options [path]]            Display local directory "
	    "listing\n"
	    "lmkdir path                        Create local directory\n"
	    "ln [-s] oldpath newpath            Link remote file (-s for "
	    "symlink)\n"
	    "lpwd                               Print local working "
	    "directory\n"
	    "ls [-1afhlnrSt] [path]             Display remote directory "
	    "listing\n"
	    "lumask umask                       Set local umask to 'umask'\n"
	    "mkdir path                         Create remote directory\n"
	    "progress                           Toggle display of progress "
	    "meter\n"
	    "put [-afpPr] local [remote]        Upload file\n"
	    "putarchive [-p] file remote-dir    Upload archive and unpack "
	    "it\n"
	    "pwd                                Display remote working "
	    "directory\n"
	    "quit                               Quit sftp\n"
	    "reget [-fpPr] remote [local]       Resume download file\n"
	    "rename oldpath newpath             Rename remote file\n"
	    "reput [-fpPr] local [remote]       Resume upload file\n"
	    "rm path                            Delete remote file\n"
	    "rmdir path                         Remove remote directory\n"
	    "symlink oldpath newpath            Symlink remote file\n"
	    "version                            Show SFTP version\n"
	    "!command                           Execute 'command' in local "
	    "shell\n"
	    "!                                  Escape to local shell\n"
	    "?                                  Synonym for help\n");
	return 0;
}

static int quit_requested;

static int
cmd_quit(struct cmd_ctx *x)
{
	(void)x;
	quit_requested = 1;
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct cmd_ctx *);
} cmds[] = {
	{ "bye", cmd_quit }, { "cd", cmd_cd }, { "chdir", cmd_cd },
	{ "chgrp", cmd_chgrp }, { "chmod", cmd_chmod },
	{ "chown", cmd_chown }, { "copy", cmd_copy }, { "cp", cmd_copy },
	{ "df", cmd_df }, { "dir", cmd_ls }, { "exit", cmd_quit },
	{ "get", cmd_get }, { "getarchive", cmd_getarchive },
	{ "help", cmd_help }, { "lcd", cmd_lcd },
	{ "lchdir", cmd_lcd }, { "lls", cmd_lls }, { "lmkdir", cmd_lmkdir },
	{ "ln", cmd_ln }, { "lpwd", cmd_lpwd }, { "ls", cmd_ls },
	{ "lumask", cmd_lumask }, { "mget", cmd_get }, { "mkdir", cmd_mkdir },
	{ "mput", cmd_put }, { "progress", cmd_progress }, { "put", cmd_put },
	{ "putarchive", cmd_putarchive },
	{ "pwd", cmd_pwd }, { "quit", cmd_quit }, { "reget", cmd_reget },
	{ "rename", cmd_rename }, { "reput", cmd_reput }, { "rm", cmd_rm },
	{ "rmdir", cmd_rmdir }, { "symlink", cmd_symlink },
	{ "version", cmd_version }, { "?", cmd_help }, { "!", cmd_bang },
	{ "lsymlink", NULL },
};

/* Run one command line; 0 or -1 (failure). */
static int
run_command(char *line)
{
	struct cmd_ctx x;
	char *argv[MAX_ARGS];
	size_t i;
	int r = -1;
	const char *p = line;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	cur_line = line;
	memset(&x, 0, sizeof(x));
	if (*p == '!') {
		x.argc = 0;
		return cmd_bang(&x);
	}
	if (make_argv(p, argv, &x.argc) != 0)
		return -1;
	if (x.argc == 0)
		return 0;
	x.argv = argv;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].fn != NULL && strcmp(argv[0], cmds[i].name) == 0)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		err_msg("Invalid command.");
	else
		r = cmds[i].fn(&x);
	for (i = 0; i < (size_t)x.argc; i++)
		free(argv[i]);
	fflush(stdout);
	return r;
}

/* ---- Completion (libedit's readline interface) ---- */

/* Commands whose path arguments are remote. */
static const char *const remote_cmds[] = {
	"cd", "chdir", "chgrp", "chmod", "chown", "copy", "cp", "df", "dir",
	"get", "getarchive", "ln", "ls", "mget", "mkdir", "reget", "rename", "rm", "rmdir",
	"symlink", NULL,
};

static char **compl_list;
static size_t compl_n, compl_i;

static void
compl_reset(void)
{
	size_t i;

	for (i = 0; i < compl_n; i++)
		free(compl_list[i]);
	free(compl_list);
	compl_list = NULL;
	compl_n = compl_i = 0;
}

static void
compl_add(const char *s)
{
	if ((compl_list = reallocarray(compl_list, compl_n + 1,
	    sizeof(*compl_list))) == NULL)
		fatal("out of memory");
	compl_list[compl_n++] = xstrdup(s);
}

/* Hand out the prepared candidates one by one. */
static char *
compl_next(const char *text, int state)
{
	(void)text;
	if (state == 0)
		compl_i = 0;
	if (compl_i < compl_n)
		return xstrdup(compl_list[compl_i++]);
	return NULL;
}

/* Candidates for a remote path: entries of its directory. */
static void
compl_remote(const char *text)
{
	const char *slash = strrchr(text, '/');
	char *dir, *abs;
	struct rent *e;
	size_t n, i, plen;
	uint32_t st;
	char *cand;

	if (slash != NULL)
		dir = strndup(text, (size_t)(slash - text + 1));
	else
		dir = xstrdup(".");
	if (dir == NULL)
		fatal("out of memory");
	abs = make_absolute(dir);
	plen = slash != NULL ? (size_t)(slash - text + 1) : 0;
	if (remote_readdir(abs, &e, &n, &st) == 0) {
		for (i = 0; i < n; i++) {
			if (strcmp(e[i].name, ".") == 0 ||
			    strcmp(e[i].name, "..") == 0 ||
			    strncmp(e[i].name, text + plen,
			    strlen(text + plen)) != 0)
				continue;
			if (asprintf(&cand, "%.*s%s%s", (int)plen, text,
			    e[i].name, S_ISDIR(e[i].a.perm) ? "/" : "") < 0)
				fatal("out of memory");
			compl_add(cand);
			free(cand);
		}
	}
	rents_free(e, n);
	free(abs);
	free(dir);
}

static char **
compl_attempt(const char *text, int start, int end)
{
	char first[32];
	size_t i, wl;
	const char *p = rl_line_buffer;

	(void)end;
	compl_reset();
	while (isspace((unsigned char)*p))
		p++;
	wl = strcspn(p, " \t");
	if (start <= (int)(p - rl_line_buffer)) {
		/* The command name. */
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (cmds[i].fn != NULL && strncmp(cmds[i].name, text,
			    strlen(text)) == 0)
				compl_add(cmds[i].name);
		return rl_completion_matches(text, compl_next);
	}
	snprintf(first, sizeof(first), "%.*s", (int)wl, p);
	for (i = 0; remote_cmds[i] != NULL; i++)
		if (strcmp(first, remote_cmds[i]) == 0)
			break;
	if (remote_cmds[i] == NULL)
		return NULL;	/* local names: libedit's own completion */
	rl_completion_append_character = '\0';
	compl_remote(text);
	return rl_completion_matches(text, compl_next);
}

/* ---- Main loop ---- */

static char *edit_line;
static int edit_done;

static void
edit_got_line(char *line)
{
	edit_line = line;
	edit_done = 1;
}

/*
 * One line from the terminal through libedit, serving the connection
 * while the user thinks (a server's ClientAlive checks get answers).
 * NULL at end of input.
 */
static char *
edit_read_line(void)
{
	edit_line = NULL;
	edit_done = 0;
	rl_callback_handler_install("sftp> ", edit_got_line);
	while (!edit_done) {
		if (sftp_session_wait_readable(ss, STDIN_FILENO) != 0) {
			rl_callback_handler_remove();
			fatal("Connection closed");
		}
		rl_callback_read_char();
	}
	rl_callback_handler_remove();
	return edit_line;
}

static int
interactive_loop(FILE *in)
{
	char *line = NULL, *cmd;
	size_t cap = 0;
	ssize_t n;
	int err = 0, ignore, noecho, r, use_edit;

	use_edit = in == stdin && interactive && isatty(STDIN_FILENO);
	/*
	 * Lines from stdin are read only once it is readable (the
	 * connection is served meanwhile): no read-ahead may hide a line
	 * in stdio's buffer.
	 */
	if (in == stdin && !use_edit)
		setvbuf(in, NULL, _IONBF, 0);
	if (use_edit) {
		using_history();
		rl_attempted_completion_function = compl_attempt;
	}
	while (!quit_requested) {
		if (use_edit) {
			free(line);
			if ((line = edit_read_line()) == NULL) {
				printf("\n");
				break;
			}
			if (*line != '\0')
				add_history(line);
		} else {
			if (interactive && in == stdin) {
				printf("sftp> ");
				fflush(stdout);
			}
			if (in == stdin &&
			    sftp_session_wait_readable(ss, STDIN_FILENO) != 0)
				fatal("Connection closed");
			if ((n = getline(&line, &cap, in)) < 0) {
				if (interactive)
					printf("\n");
				break;
			}
			if (n > 0 && line[n - 1] == '\n')
				line[n - 1] = '\0';
		}
		cmd = line;
		while (isspace((unsigned char)*cmd))
			cmd++;
		ignore = noecho = 0;
		for (;; cmd++) {
			if (*cmd == '-')
				ignore = 1;
			else if (*cmd == '@')
				noecho = 1;
			else
				break;
		}
		if (!interactive && !noecho && *line != '\0' &&
		    line[strspn(line, " \t")] != '#')
			printf("sftp> %s\n", line);
		fflush(stdout);
		r = run_command(cmd);
		if (sftp_client_error(sc) != 0)
			fatal("Connection closed");
		if (r != 0 && !ignore && batchmode) {
			err = 1;
			break;
		}
	}
	free(line);
	return err;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: fsftp [-46AaCfNpqrv] [-B buffer_size] [-b batchfile] "
	    "[-c cipher]\n"
	    "          [-D sftp_server_command] [-F ssh_config] "
	    "[-i identity_file]\n"
	    "          [-J destination] [-l limit] [-o ssh_option] "
	    "[-P port]\n"
	    "          [-R num_requests] [-S program] [-s subsystem | "
	    "sftp_server]\n"
	    "          [-X sftp_option] destination\n");
	exit(1);
}

struct argl {
	char **v;
	size_t n;
};

static void
argl_add(struct argl *a, const char *s)
{
	if ((a->v = reallocarray(a->v, a->n + 2, sizeof(*a->v))) == NULL)
		fatal("out of memory");
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

static void
argl_addf(struct argl *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
argl_addf(struct argl *a, const char *fmt, ...)
{
	char *s;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatal("out of memory");
	va_end(ap);
	argl_add(a, s);
	free(s);
}

/* Percent-decode a URI component in place; -1 on a bad escape. */
static int
uri_decode(char *s)
{
	char *o = s;
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			*o++ = *s;
			continue;
		}
		if (!isxdigit((unsigned char)s[1]) ||
		    !isxdigit((unsigned char)s[2]))
			return -1;
		hi = isdigit((unsigned char)s[1]) ? s[1] - '0' :
		    (tolower((unsigned char)s[1]) - 'a' + 10);
		lo = isdigit((unsigned char)s[2]) ? s[2] - '0' :
		    (tolower((unsigned char)s[2]) - 'a' + 10);
		if (hi * 16 + lo == 0)
			return -1;
		*o++ = (char)(hi * 16 + lo);
		s += 2;
	}
	*o = '\0';
	return 0;
}

/*
 * Split a destination: sftp://[user@]host[:port][/path] or
 * [user@]host[:path] (host may be [bracketed]).
 */
static int
parse_destination(char *d, char **userp, char **hostp, char **portp,
    char **pathp)
{
	char *p, *at;

	*userp = *portp = *pathp = NULL;
	if (strncmp(d, "sftp://", 7) == 0) {
		d += 7;
		if ((p = strchr(d, '/')) != NULL) {
			*p++ = '\0';
			if (*p != '\0') {
				*pathp = p;
				if (uri_decode(p) != 0)
					return -1;
			}
		}
		if ((at = strrchr(d, '@')) != NULL) {
			*at = '\0';
			/* user;fingerprint=... is allowed: drop the params. */
			if ((p = strchr(d, ';')) != NULL)
				*p = '\0';
			*userp = d;
			if (uri_decode(d) != 0)
				return -1;
			d = at + 1;
		}
		if (*d == '[') {
			if ((p = strchr(d, ']')) == NULL)
				return -1;
			*p++ = '\0';
			d++;
		} else
			p = strchr(d, ':');
		if (p != NULL && *p == ':') {
			*p++ = '\0';
			*portp = p;
		}
		*hostp = d;
		return *d == '\0' ? -1 : 0;
	}
	if ((at = strrchr(d, '@')) != NULL) {
		*at = '\0';
		*userp = d;
		d = at + 1;
	}
	if (*d == '[') {
		if ((p = strchr(d, ']')) == NULL)
			return -1;
		*p++ = '\0';
		d++;
		if (*p == ':')
			*pathp = p + 1;
		else if (*p != '\0')
			return -1;
	} else if ((p = strchr(d, ':')) != NULL) {
		*p = '\0';
		*pathp = p + 1;
	}
	*hostp = d;
	return *d == '\0' ? -1 : 0;
}

static void
parse_xopt(const char *v)
{
	const char *es = NULL;

	if (strcmp(v, "atomic") == 0)
		gflags |= SFTP_XFER_ATOMIC;
	else if (strcmp(v, "verify") == 0)
		gflags |= SFTP_XFER_VERIFY;
	else if (strncmp(v, "buffer=", 7) == 0) {
		req_size = (size_t)misc_strtonum(v + 7, 1, SFTP_MAX_RW, &es);
		if (es != NULL)
			fatal("Invalid buffer size \"%s\": %s", v + 7, es);
	} else if (strncmp(v, "nrequests=", 10) == 0) {
		nrequests = (unsigned int)misc_strtonum(v + 10, 1, 2048, &es);
		if (es != NULL)
			fatal("Invalid number of requests \"%s\": %s",
			    v + 10, es);
	} else if (!fsftp_archive_xopt(v))
		fatal("Invalid -X option");
}

static void
sig_ignore_pipe(void)
{
	signal(SIGPIPE, SIG_IGN);
}


/*
 * Connect with the in-process client: the same options OpenSSH's sftp
 * hands to ssh, as configuration lines; then the subsystem.
 */
static void
connect_inproc(struct prog_client_opts *opts, const char *host,
    const char *config_file, int verbose, int qflag,
    const char *subsystem, const struct sftp_session_opts *so,
    struct prog_client **pcp)
{
	struct prog_client_params pp;
	int r;

	memset(&pp, 0, sizeof(pp));
	pp.destination = host;
	pp.config_file = config_file;
	pp.options = opts->lines;
	pp.verbose = verbose;
	pp.quiet = qflag;
	pp.jump_program = "fssh";
	pp.argv0 = prog_name();
	pp.window = SFTP_SESSION_WINDOW;
	if (prog_client_resolve(&pp, pcp) != 0)
		prog_exit(255);
	if (prog_client_connect(*pcp) != 0)
		fatal("Connection closed");
	if ((r = sftp_session_open_client((*pcp)->cl, subsystem, so,
	    &ss)) != 0) {
		if (ss != NULL && *sftp_session_error(ss) != '\0' &&
		    strcmp(sftp_session_error(ss), "Connection closed") != 0)
			log_error("%s", sftp_session_error(ss));
		fatal("Connection closed");
	}
}

/*
 * Requests to send with INIT (sftp_session_opts.prefetch): the first
 * REALPATH, and the STATs the first command will make when the command
 * line or the first line of a batch file already names an absolute
 * remote path: host:/path (is it a directory, then the get's own STAT),
 * "get /src [dst]" (the transfer's STAT) or "put src /dst" (is the
 * destination a directory).  A batch line counts only when it is plain:
 * no flags, quotes, escapes or glob characters.
 */
struct prefetch {
	struct sftp_session_prefetch v[4];
	size_t n;
	char *line;
};

static void
prefetch_add(struct prefetch *pf, uint8_t type, const char *path)
{
	if (pf->n < sizeof(pf->v) / sizeof(pf->v[0])) {
		pf->v[pf->n].type = type;
		pf->v[pf->n].path = path;
		pf->n++;
	}
}

/* Whether word is an absolute path without quoting or glob characters. */
static int
prefetch_plain(const char *word)
{
	return word[0] == '/' && strpbrk(word, "\"'*?[]") == NULL;
}

/* The first command line of a batch file, rewound after reading. */
static void
prefetch_batch(struct prefetch *pf, FILE *in)
{
	struct stat st;
	char *w[4], *p, *tok, *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int nw = 0;

	if (fstat(fileno(in), &st) != 0 || !S_ISREG(st.st_mode))
		return;
	do {
		if ((n = getline(&line, &cap, in)) < 0)
			break;
		p = line + strspn(line, " \t\n");
	} while (*p == '\0' || *p == '#');
	rewind(in);
	if (n < 0) {
		free(line);
		return;
	}
	pf->line = line;
	while (nw < 4 && (tok = strsep(&p, " \t\n")) != NULL)
		if (*tok != '\0')
			w[nw++] = tok;
	if (nw >= 2 && nw <= 3 && strcmp(w[0], "get") == 0 &&
	    prefetch_plain(w[1]))
		prefetch_add(pf, SSH_FXP_STAT, w[1]);
	else if (nw == 3 && strcmp(w[0], "put") == 0 && prefetch_plain(w[2]))
		prefetch_add(pf, SSH_FXP_STAT, w[2]);
}

/* What the session sends with INIT: see struct prefetch. */
static void
prefetch_setup(struct prefetch *pf, const char *path, FILE *in,
    struct sftp_session_opts *so)
{
	prefetch_add(pf, SSH_FXP_REALPATH, ".");
	if (path != NULL && *path != '\0') {
		if (path[0] == '/') {
			prefetch_add(pf, SSH_FXP_STAT, path);
			if (prefetch_plain(path))
				prefetch_add(pf, SSH_FXP_STAT, path);
		}
	} else if (in != stdin)
		prefetch_batch(pf, in);
	so->prefetch = pf->v;
	so->nprefetch = pf->n;
}

/* Run the -S program or the -D server on pipes. */
static pid_t
connect_external(char *const argv[], const struct sftp_session_opts *so)
{
	int to_fd, from_fd;
	pid_t pid;

	if (prog_client_spawn(argv, &to_fd, &from_fd, &pid) != 0)
		exit(1);
	if (sftp_session_open_fds(from_fd, to_fd, so, &ss) != 0)
		fatal("Connection closed");
	return pid;
}

int
main(int argc, char **argv)
{
	struct argl args = { NULL, 0 };
	struct prog_client_opts opts;
	struct prog_client *pc = NULL;
	struct sftp_session_opts so;
	struct prefetch pf;
	char *direct = NULL, *ssh_program = NULL, *sftp_server = NULL;
	char *batchfile = NULL, *user, *host = NULL, *port, *path;
	char *dest = NULL, *config_file = NULL;
	char *file2;
	const char *es;
	FILE *in = stdin;
	int ch, err, i, dargc = 0, noisy = 0, verbose = 0, qflag = 0;
	pid_t pid = -1;
	char *port_opt = NULL;
	long long limit = 0;
	char *dargv[MAX_ARGS];

	prog_init(argv[0]);
	sig_ignore_pipe();
	memset(&opts, 0, sizeof(opts));
	argl_add(&args, "ssh");		/* replaced by the program later */
	/* First, so that nothing overrides them (as OpenSSH's sftp). */
	argl_add(&args, "-oForwardX11 no");
	argl_add(&args, "-oPermitLocalCommand no");
	argl_add(&args, "-oClearAllForwardings yes");
	/* The client core forwards nothing: no ClearAllForwardings. */
	prog_client_opt(&opts, "ForwardX11", "no");
	prog_client_opt(&opts, "PermitLocalCommand", "no");
	while ((ch = getopt(argc, argv,
	    "1246AaB:b:Cc:D:F:fhi:J:l:NO:o:P:pqR:rS:s:vX:")) != -1) {
		switch (ch) {
		case '4': case '6': case 'C':
			argl_addf(&args, "-%c", ch);
			if (ch == 'C')
				prog_client_opt(&opts, "Compression", "yes");
			else
				prog_client_opt(&opts, "AddressFamily",
				    ch == '4' ? "inet" : "inet6");
			break;
		case 'A':
			argl_add(&args, "-A");
			prog_client_opt(&opts, "ForwardAgent", "yes");
			break;
		case 'a':
			gflags |= SFTP_XFER_RESUME;
			break;
		case 'B':
			req_size = (size_t)misc_strtonum(optarg, 1,
			    SFTP_MAX_RW, &es);
			if (es != NULL)
				fatal("Invalid buffer size \"%s\": %s",
				    optarg, es);
			break;
		case 'b':
			if (batchmode)
				fatal("Batch file already specified.");
			batchfile = optarg;
			showprogress = 0;
			quiet = batchmode = 1;
			argl_add(&args, "-obatchmode yes");
			prog_client_opt(&opts, "BatchMode", "yes");
			break;
		case 'c': case 'F': case 'i': case 'J': case 'o':
			argl_addf(&args, "-%c", ch);
			argl_add(&args, optarg);
			if (ch == 'F')
				config_file = optarg;
			else
				prog_client_opt(&opts, ch == 'c' ? "Ciphers" :
				    ch == 'i' ? "IdentityFile" :
				    ch == 'J' ? "ProxyJump" : NULL, optarg);
			break;
		case 'D':
			direct = optarg;
			break;
		case 'f':
			gflags |= SFTP_XFER_FSYNC;
			break;
		case 'l':
			limit = misc_strtonum(optarg, 1, 100 * 1024 * 1024,
			    &es);
			if (es != NULL)
				usage();
			break;
		case 'N':
			noisy = 1;
			break;
		case 'P':
			port_opt = optarg;
			break;
		case 'p':
			gflags |= SFTP_XFER_PRESERVE;
			break;
		case 'q':
			showprogress = 0;
			quiet = qflag = 1;
			argl_add(&args, "-q");
			break;
		case 'R':
			nrequests = (unsigned int)misc_strtonum(optarg, 1,
			    2048, &es);
			if (es != NULL)
				fatal("Invalid number of requests \"%s\": %s",
				    optarg, es);
			break;
		case 'r':
			gflags |= SFTP_XFER_RECURSE;
			break;
		case 'S':
			ssh_program = optarg;
			break;
		case 's':
			sftp_server = optarg;
			break;
		case 'v':
			argl_add(&args, "-v");
			verbose++;
			log_set_level(log_get_level() < LOGL_DEBUG1 ?
			    LOGL_DEBUG1 : log_get_level() + 1);
			break;
		case 'X':
			parse_xopt(optarg);
			break;
		case '1': case '2': case 'O':
			fatal("Option -%c is not supported", ch);
		case 'h':
		default:
			usage();
		}
	}
	if (noisy)
		quiet = 0;
	if (direct == NULL && (optind == argc || argc > optind + 2))
		usage();
	if (direct != NULL && argc > optind)
		usage();
	if (batchfile != NULL && strcmp(batchfile, "-") != 0 &&
	    (in = fopen(batchfile, "re")) == NULL)
		fatal("Couldn't open \"%s\": %s", batchfile, strerror(errno));
	interactive = !batchmode && isatty(STDIN_FILENO);
	memset(&so, 0, sizeof(so));
	memset(&pf, 0, sizeof(pf));
	so.limit_bps = (uint64_t)limit * 1024 / 8;
	so.interrupted = &interrupted;
	path = NULL;
	file2 = NULL;
	if (direct == NULL) {
		if ((dest = strdup(argv[optind])) == NULL)
			fatal("out of memory");
		file2 = optind + 1 < argc ? argv[optind + 1] : NULL;
		if (parse_destination(dest, &user, &host, &port, &path) != 0)
			fatal("Invalid destination \"%s\"", argv[optind]);
		/* Where and in which order OpenSSH's sftp puts them. */
		argl_add(&args, "-oForwardAgent no");
		prog_client_opt(&opts, "ForwardAgent", "no");
		if (port != NULL)
			port_opt = port;
		if (port_opt != NULL) {
			argl_addf(&args, "-oPort %s", port_opt);
			prog_client_opt(&opts, "Port", port_opt);
		}
		if (user != NULL) {
			argl_add(&args, "-l");
			argl_add(&args, user);
			prog_client_opt(&opts, "User", user);
		}
		prefetch_setup(&pf, path, in, &so);
		if (ssh_program == NULL) {
			connect_inproc(&opts, host, config_file, verbose,
			    qflag, sftp_server, &so, &pc);
		} else {
			if (sftp_server == NULL ||
			    strchr(sftp_server, '/') == NULL)
				argl_add(&args, "-s");
			argl_add(&args, "--");
			argl_add(&args, host);
			argl_add(&args, sftp_server != NULL ? sftp_server :
			    "sftp");
			free(args.v[0]);
			args.v[0] = xstrdup(ssh_program);
			pid = connect_external(args.v, &so);
		}
	} else {
		if (make_argv(direct, dargv, &dargc) != 0 || dargc == 0)
			fatal("Invalid -D command");
		for (i = 0; i < dargc; i++) {
			char *u = unescape(dargv[i]);

			free(dargv[i]);
			dargv[i] = u;
		}
		prefetch_setup(&pf, NULL, in, &so);
		pid = connect_external(dargv, &so);
	}
	sc = sftp_session_engine(ss);
	/* At the prompt ^C does nothing; during transfers it stops them. */
	if (interactive)
		signal(SIGINT, SIG_IGN);
	if ((rcwd = remote_realpath(".", NULL)) == NULL)
		fatal("Need cwd");
	err = 0;
	if (path != NULL && *path != '\0') {
		char *abs = make_absolute(path);

		if (remote_is_dir(abs)) {
			free(rcwd);
			rcwd = remote_realpath(abs, NULL);
			if (rcwd == NULL)
				fatal("Need cwd");
			free(abs);
		} else {
			/* host:file [local]: fetch and leave. */
			char *line;

			free(abs);
			if (asprintf(&line, "get%s \"%s\" %s%s%s",
			    (gflags & SFTP_XFER_RECURSE) ? " -r" : "",
			    path, file2 != NULL ? "\"" : "",
			    file2 != NULL ? file2 : "",
			    file2 != NULL ? "\"" : "") < 0)
				fatal("out of memory");
			gflags &= ~SFTP_XFER_RECURSE;
			err = run_command(line) != 0;
			free(line);
			goto done;
		}
	}
	if (interactive && !quiet)
		printf("Connected to %s.\n", direct != NULL ? "sftp-server" :
		    host);
	err = interactive_loop(in);
 done:
	sftp_session_close(ss);
	if (pid > 0)
		(void)prog_client_reap(pid);
	prog_client_free(pc);
	prog_client_opts_free(&opts);
	if (in != stdin)
		fclose(in);
	free(rcwd);
	free(pf.line);
	for (i = 0; i < (int)args.n; i++)
		free(args.v[i]);
	free(args.v);
	for (i = 0; direct != NULL && i < dargc; i++)
		free(dargv[i]);
	free(dest);
	return err == 0 ? 0 : 1;
}
