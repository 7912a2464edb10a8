/*
 * The scp engine's surroundings: the operations on the real file system,
 * a blocking driver over two descriptors, and the parser of the server's
 * "scp -t/-f" command line.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/scp.h"

#define SCP_LOCAL_CHUNK		(64U * 1024)
/* Command lines and their words are capped. */
#define SCP_CMD_MAX		(64U * 1024)
#define SCP_CMD_WORDS		4096

/* ---- the real file system ---- */

struct scp_local_fh {
	int fd;
};

static void
scp_local_fill(const struct stat *sb, struct scp_stat *st)
{
	st->is_dir = S_ISDIR(sb->st_mode);
	st->is_reg = S_ISREG(sb->st_mode);
	st->mode = (uint32_t)(sb->st_mode & 07777);
	st->size = sb->st_size > 0 ? (uint64_t)sb->st_size : 0;
	st->atime = (int64_t)sb->st_atime;
	st->mtime = (int64_t)sb->st_mtime;
}

static int
scp_local_stat(void *ctx, const char *path, struct scp_stat *st)
{
	struct stat sb;

	(void)ctx;
	if (stat(path, &sb) == -1)
		return errno;
	scp_local_fill(&sb, st);
	return 0;
}

static int
scp_local_open(void *ctx, const char *path, int wr, uint32_t mode,
    void **fhp, struct scp_stat *st)
{
	struct scp_local_fh *fh;
	struct stat sb;
	int fd, err, fl;

	(void)ctx;
	*fhp = NULL;
	if (wr)
		fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, (mode_t)mode);
	else
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return errno;
	if (fstat(fd, &sb) == -1)
		goto fail;
	scp_local_fill(&sb, st);
	/* A FIFO opened without blocking reads normally from here on. */
	if (!wr && ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1))
		goto fail;
	if ((fh = malloc(sizeof(*fh))) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	fh->fd = fd;
	*fhp = fh;
	return 0;
 fail:
	err = errno;
	close(fd);
	return err;
}

static int
scp_local_read(void *ctx, void *h, void *p, size_t len, size_t *nreadp)
{
	struct scp_local_fh *fh = h;
	ssize_t n;

	(void)ctx;
	*nreadp = 0;
	do {
		n = read(fh->fd, p, len);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno;
	*nreadp = (size_t)n;
	return 0;
}

static int
scp_local_write(void *ctx, void *h, const void *p, size_t len)
{
	struct scp_local_fh *fh = h;
	const uint8_t *q = p;
	ssize_t n;

	(void)ctx;
	while (len > 0) {
		n = write(fh->fd, q, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? EIO : errno;
		q += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
scp_local_truncate(void *ctx, void *h, uint64_t size)
{
	struct scp_local_fh *fh = h;

	(void)ctx;
	if (size > (uint64_t)INT64_MAX)
		return EFBIG;
	return ftruncate(fh->fd, (off_t)size) == -1 ? errno : 0;
}

static int
scp_local_fchmod(void *ctx, void *h, uint32_t mode)
{
	struct scp_local_fh *fh = h;

	(void)ctx;
	return fchmod(fh->fd, (mode_t)mode) == -1 ? errno : 0;
}

static int
scp_local_close(void *ctx, void *h)
{
	struct scp_local_fh *fh = h;
	int err = 0;

	(void)ctx;
	if (close(fh->fd) == -1)
		err = errno;
	free(fh);
	return err;
}

static int
scp_local_mkdir(void *ctx, const char *path, uint32_t mode)
{
	(void)ctx;
	return mkdir(path, (mode_t)mode) == -1 ? errno : 0;
}

static int
scp_local_chmod(void *ctx, const char *path, uint32_t mode)
{
	(void)ctx;
	return chmod(path, (mode_t)mode) == -1 ? errno : 0;
}

static int
scp_local_utimes(void *ctx, const char *path, int64_t atime, int64_t mtime)
{
	struct timeval tv[2];

	(void)ctx;
	memset(tv, 0, sizeof(tv));
	tv[0].tv_sec = (time_t)atime;
	tv[1].tv_sec = (time_t)mtime;
	return utimes(path, tv) == -1 ? errno : 0;
}

static int
scp_local_opendir(void *ctx, const char *path, void **dhp)
{
	DIR *d;

	(void)ctx;
	if ((d = opendir(path)) == NULL)
		return errno;
	*dhp = d;
	return 0;
}

static int
scp_local_readdir(void *ctx, void *dh, const char **namep)
{
	struct dirent *de;

	(void)ctx;
	for (;;) {
		errno = 0;
		if ((de = readdir(dh)) == NULL) {
			*namep = NULL;
			return errno;
		}
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			break;
	}
	*namep = de->d_name;
	return 0;
}

static void
scp_local_closedir(void *ctx, void *dh)
{
	(void)ctx;
	closedir(dh);
}

static const struct scp_fs_ops scp_local_ops = {
	.stat = scp_local_stat,
	.open = scp_local_open,
	.read = scp_local_read,
	.write = scp_local_write,
	.truncate = scp_local_truncate,
	.fchmod = scp_local_fchmod,
	.close = scp_local_close,
	.mkdir = scp_local_mkdir,
	.chmod = scp_local_chmod,
	.utimes = scp_local_utimes,
	.opendir = scp_local_opendir,
	.readdir = scp_local_readdir,
	.closedir = scp_local_closedir,
};

const struct scp_fs_ops *
scp_fs_local(void)
{
	return &scp_local_ops;
}

/* ---- the blocking driver ---- */

int
scp_run_fds(struct scp *e, int in_fd, int out_fd)
{
	struct buf *out = scp_output(e);
	uint8_t tmp[SCP_LOCAL_CHUNK];
	struct pollfd pfd[2];
	size_t want;
	ssize_t n;
	int r, in_open = 1;

	for (;;) {
		if ((r = scp_process(e)) != 0 && buf_len(out) == 0)
			return r;
		if (scp_done(e) && buf_len(out) == 0)
			break;
		memset(pfd, 0, sizeof(pfd));
		pfd[0].fd = in_open && scp_input_space(e) > 0 && r == 0 ?
		    in_fd : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = buf_len(out) > 0 ? out_fd : -1;
		pfd[1].events = POLLOUT;
		if (pfd[0].fd == -1 && pfd[1].fd == -1)
			return FERR_INTERNAL;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return FERR_SYSTEM;
		}
		if (pfd[1].revents != 0) {
			n = write(out_fd, buf_ptr(out), buf_len(out));
			if (n == -1 && errno != EINTR && errno != EAGAIN)
				return FERR_SYSTEM;
			if (n > 0 && (r = buf_consume(out, (size_t)n)) != 0)
				return r;
		}
		if (pfd[0].revents != 0) {
			want = scp_input_space(e);
			if (want > sizeof(tmp))
				want = sizeof(tmp);
			n = read(in_fd, tmp, want);
			if (n == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				in_open = 0;
				scp_input_eof(e);
			} else if ((r = scp_input(e, tmp, (size_t)n)) != 0)
				return r;
		}
	}
	if (scp_failed(e))
		return FERR_PROTOCOL;
	return scp_errors(e) > 0 ? 1 : 0;
}

/* ---- sh's brace expansion ---- */

static int
scp_brace_add(const char *w, size_t max, char ***wordsp, size_t *np)
{
	char **v;

	if (*np >= max)
		return FERR_NO_SPACE;
	if ((v = reallocarray(*wordsp, *np + 1, sizeof(*v))) == NULL)
		return FERR_ALLOC;
	*wordsp = v;
	if ((v[*np] = strdup(w)) == NULL)
		return FERR_ALLOC;
	(*np)++;
	return 0;
}

/* The first group "{...}" with a comma at its own level, or NULL. */
static const char *
scp_brace_group(const char *pat, const char **closep)
{
	const char *p, *q;
	int level, comma;

	for (p = pat; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p != '{')
			continue;
		level = comma = 0;
		for (q = p + 1; *q != '\0'; q++) {
			if (*q == '\\' && q[1] != '\0')
				q++;
			else if (*q == '{')
				level++;
			else if (*q == '}' && level > 0)
				level--;
			else if (*q == '}')
				break;
			else if (*q == ',' && level == 0)
				comma = 1;
		}
		if (*q == '}' && comma) {
			*closep = q;
			return p;
		}
	}
	return NULL;
}

int
scp_brace_expand(const char *pat, size_t max, char ***wordsp, size_t *np)
{
	const char *open, *close = NULL, *alt, *q;
	struct buf *b = NULL;
	int r = 0, level;

	if ((open = scp_brace_group(pat, &close)) == NULL)
		return scp_brace_add(pat, max, wordsp, np);
	for (alt = open + 1; r == 0 && alt <= close; alt = q + 1) {
		/* One alternative: up to a comma at this level or the end. */
		level = 0;
		for (q = alt; q < close; q++) {
			if (*q == '\\' && q + 1 < close)
				q++;
			else if (*q == '{')
				level++;
			else if (*q == '}')
				level--;
			else if (*q == ',' && level == 0)
				break;
		}
		buf_free(b);
		if ((b = buf_new()) == NULL)
			return FERR_ALLOC;
		if ((r = buf_put(b, pat, (size_t)(open - pat))) != 0 ||
		    (r = buf_put(b, alt, (size_t)(q - alt))) != 0 ||
		    (r = buf_put(b, close + 1, strlen(close + 1))) != 0 ||
		    (r = buf_put_u8(b, 0)) != 0)
			break;
		r = scp_brace_expand((const char *)buf_ptr(b), max, wordsp, np);
	}
	buf_free(b);
	return r;
}

/* ---- the server's command line ---- */

/* One word: its literal text and, for glob(3), a pattern. */
struct scp_word {
	struct buf *lit, *pat;
	int globbing;		/* unquoted * ? [ { seen */
	int braces;		/* unquoted { or } seen */
};

static int
scp_word_putc(struct scp_word *w, char c, int quoted)
{
	int r;

	if ((r = buf_put_u8(w->lit, (uint8_t)c)) != 0)
		return r;
	if (quoted && strchr("*?[]\\{},", c) != NULL &&
	    (r = buf_put_u8(w->pat, '\\')) != 0)
		return r;
	if (!quoted && strchr("*?[{", c) != NULL)
		w->globbing = 1;
	if (!quoted && (c == '{' || c == '}'))
		w->braces = 1;
	return buf_put_u8(w->pat, (uint8_t)c);
}

/*
 * Split line into words as sh would (quotes and backslashes), refusing
 * anything that would make sh do more than run one simple command.
 */
static int
scp_split(const char *line, const char *home, struct scp_word *words,
    size_t *nwordsp)
{
	const char *p = line;
	struct scp_word *w;
	size_t n = 0;
	int r;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (n == SCP_CMD_WORDS)
			return FERR_FORMAT;
		w = &words[n++];
		if ((w->lit = buf_new()) == NULL || (w->pat = buf_new()) == NULL)
			return FERR_ALLOC;
		if (*p == '~' && (p[1] == '/' || p[1] == ' ' || p[1] == '\t' ||
		    p[1] == '\0') && home != NULL) {
			const char *h;

			for (h = home; *h != '\0'; h++)
				if ((r = scp_word_putc(w, *h, 1)) != 0)
					return r;
			p++;
		}
		while (*p != '\0' && *p != ' ' && *p != '\t') {
			if (*p == '\'') {
				for (p++; *p != '\''; p++) {
					if (*p == '\0')
						return FERR_FORMAT;
					if ((r = scp_word_putc(w, *p, 1)) != 0)
						return r;
				}
				p++;
			} else if (*p == '"') {
				for (p++; *p != '"'; p++) {
					if (*p == '\0' || *p == '$' || *p == '`')
						return FERR_FORMAT;
					if (*p == '\\' && strchr("\\\"$`\n",
					    p[1]) != NULL && p[1] != '\0') {
						p++;
						if (*p == '\n')
							continue;
					}
					if ((r = scp_word_putc(w, *p, 1)) != 0)
						return r;
				}
				p++;
			} else if (*p == '\\') {
				if (p[1] == '\0')
					return FERR_FORMAT;
				if (p[1] != '\n' &&
				    (r = scp_word_putc(w, p[1], 1)) != 0)
					return r;
				p += 2;
			} else if (strchr(";&|<>()$`\n\r", *p) != NULL ||
			    (*p == '#' && buf_len(w->lit) == 0)) {
				/* Unquoted: sh would do something else. */
				return FERR_FORMAT;
			} else if ((r = scp_word_putc(w, *p++, 0)) != 0)
				return r;
		}
		if ((r = buf_put_u8(w->lit, 0)) != 0 ||
		    (r = buf_put_u8(w->pat, 0)) != 0)
			return r;
	}
	*nwordsp = n;
	return 0;
}

static int
scp_command_add(struct scp_command *cmd, const char *path)
{
	char **v;

	if (cmd->npaths >= SCP_CMD_WORDS * 16)
		return FERR_NO_SPACE;
	if ((v = reallocarray(cmd->paths, cmd->npaths + 2,
	    sizeof(*v))) == NULL)
		return FERR_ALLOC;
	cmd->paths = v;
	if ((v[cmd->npaths] = strdup(path)) == NULL)
		return FERR_ALLOC;
	v[++cmd->npaths] = NULL;
	return 0;
}

/* pat without its backslash escapes (glob's words that match nothing). */
static int
scp_command_unescaped(struct scp_command *cmd, const char *pat)
{
	char *s, *d;
	int r;

	if ((s = strdup(pat)) == NULL)
		return FERR_ALLOC;
	for (d = s; *pat != '\0'; pat++) {
		if (*pat == '\\' && pat[1] != '\0')
			pat++;
		*d++ = *pat;
	}
	*d = '\0';
	r = scp_command_add(cmd, s);
	free(s);
	return r;
}

/*
 * A path word of -f: brace-expanded and globbed like sh (a pattern
 * matching nothing stays as it is), else literal.  -t's one path may
 * hold no unquoted brace (sh would make it several words).
 */
static int
scp_command_path(struct scp_command *cmd, const struct scp_word *w)
{
	char **pats = NULL;
	size_t npats = 0, i, j;
	glob_t g;
	int r = 0, gr;

	if (cmd->role == SCP_SINK && w->braces)
		return FERR_FORMAT;
	if (cmd->role == SCP_SINK || !w->globbing)
		return scp_command_add(cmd, (const char *)buf_ptr(w->lit));
	if (!w->braces)
		r = scp_brace_add((const char *)buf_ptr(w->pat), 1, &pats,
		    &npats);
	else
		r = scp_brace_expand((const char *)buf_ptr(w->pat),
		    SCP_CMD_WORDS * 16, &pats, &npats);
	for (i = 0; r == 0 && i < npats; i++) {
		memset(&g, 0, sizeof(g));
		gr = glob(pats[i], 0, NULL, &g);
		if (gr == GLOB_NOSPACE)
			r = FERR_ALLOC;
		else if (gr != 0)
			r = scp_command_unescaped(cmd, pats[i]);
		for (j = 0; gr == 0 && r == 0 && j < g.gl_pathc; j++)
			r = scp_command_add(cmd, g.gl_pathv[j]);
		globfree(&g);
	}
	for (i = 0; i < npats; i++)
		free(pats[i]);
	free(pats);
	return r;
}

int
scp_command_parse(const char *line, const char *home,
    struct scp_command **cmdp)
{
	struct scp_word *words = NULL;
	struct scp_command *cmd = NULL;
	const char *wd, *f;
	size_t nwords = 0, i;
	int r, role = -1, dashdash = 0;

	*cmdp = NULL;
	if (strlen(line) > SCP_CMD_MAX)
		return FERR_FORMAT;
	if ((words = calloc(SCP_CMD_WORDS, sizeof(*words))) == NULL ||
	    (cmd = calloc(1, sizeof(*cmd))) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = scp_split(line, home, words, &nwords)) != 0)
		goto out;
	r = FERR_FORMAT;
	if (nwords < 3 || strcmp((const char *)buf_ptr(words[0].lit),
	    "scp") != 0)
		goto out;
	/* Options come first, each its own word or grouped ("-rpt"). */
	for (i = 1; i < nwords; i++) {
		wd = (const char *)buf_ptr(words[i].lit);
		if (strcmp(wd, "--") == 0) {
			dashdash = 1;
			i++;
			break;
		}
		if (wd[0] != '-' || wd[1] == '\0')
			break;
		for (f = wd + 1; *f != '\0'; f++) {
			switch (*f) {
			case 'v':
				cmd->verbose = 1;
				break;
			case 'r':
				cmd->recursive = 1;
				break;
			case 'p':
				cmd->preserve = 1;
				break;
			case 'd':
				cmd->target_dir = 1;
				break;
			case 't':
			case 'f':
				if (role != -1)
					goto out;
				role = *f == 't' ? SCP_SINK : SCP_SOURCE;
				break;
			default:
				goto out;
			}
		}
	}
	(void)dashdash;
	if (role == -1 || i >= nwords)
		goto out;
	cmd->role = (enum scp_role)role;
	if (cmd->role == SCP_SINK && nwords - i != 1)
		goto out;
	for (; i < nwords; i++)
		if ((r = scp_command_path(cmd, &words[i])) != 0)
			goto out;
	*cmdp = cmd;
	cmd = NULL;
	r = 0;
 out:
	for (i = 0; words != NULL && i < SCP_CMD_WORDS; i++) {
		buf_free(words[i].lit);
		buf_free(words[i].pat);
	}
	free(words);
	scp_command_free(cmd);
	return r;
}

void
scp_command_free(struct scp_command *cmd)
{
	size_t i;

	if (cmd == NULL)
		return;
	for (i = 0; i < cmd->npaths; i++)
		free(cmd->paths[i]);
	free(cmd->paths);
	free(cmd);
}
