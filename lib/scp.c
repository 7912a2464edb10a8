/*
 * The legacy scp protocol engine (see ferry/scp.h for the contract).
 *
 * One state machine serves both roles.  Input from the peer is queued in
 * e->in (bounded) and parsed by scp_process(); output goes to e->out,
 * which the source stops filling with file data above SCP_OUT_HIGH so
 * memory stays bounded whatever the file sizes.  File system calls go
 * through the operations table and return errno values, which become
 * "scp: path: reason" messages for the peer, as rcp's run_err did.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/scp.h"

#define SCP_IN_MAX	(256U * 1024)
#define SCP_OUT_HIGH	(128U * 1024)
#define SCP_CHUNK	(64U * 1024)
#define SCP_MODE_MASK	07777U
#define SCP_MODE_IWUSR	0200U
#define SCP_MODE_IRWXU	0700U
#define SCP_SIZE_MAX	((uint64_t)INT64_MAX)

enum scp_state {
	SCP_ST_RESPONSE,	/* source: waiting for the sink's answer */
	SCP_ST_NEXT,		/* source: pick what to send next */
	SCP_ST_DATA,		/* source: sending a file's bytes */
	SCP_ST_LINE,		/* sink: waiting for a record */
	SCP_ST_SINK_DATA,	/* sink: receiving a file's bytes */
	SCP_ST_SINK_STATUS,	/* sink: the source's byte after the data */
	SCP_ST_DONE,
	SCP_ST_FAILED,
};

/* What the source does once the sink answered. */
enum scp_after {
	SCP_AFTER_START,	/* the sink's first NUL */
	SCP_AFTER_TIMES,	/* T sent: send C or D */
	SCP_AFTER_FILE,		/* C sent: send the data */
	SCP_AFTER_DIR,		/* D sent: walk the directory */
	SCP_AFTER_END,		/* E or a file's status sent: next */
};

/* One directory level: the sink's targets, the source's walks. */
struct scp_level {
	char *path;
	void *dh;		/* source: the open directory */
	int targisdir;		/* sink: names go below path */
	int set_times;		/* sink: T record for this directory */
	int64_t atime, mtime;
	uint32_t mode;
	int mod_flag;		/* sink: set mode at E */
};

struct scp {
	const struct scp_config *cfg;
	const struct scp_fs_ops *fs;
	enum scp_state state;
	enum scp_after after;
	struct buf *in, *out;
	int in_eof;
	int failure;		/* the code scp_process returns once failed */
	unsigned int errors;
	size_t nextpath;	/* source: next top-level path */
	struct scp_level levels[SCP_DEPTH_MAX + 1];
	size_t depth;		/* levels in use (the sink's level 0 is the
				 * target) */
	/* The file being transferred. */
	char *path;
	const char *name;	/* its last component, inside path */
	void *fh;
	struct scp_stat st;
	uint64_t size, done;
	int haderr;		/* source: read error; sink: write error */
	int exists, was_reg;	/* sink: the file existed (a regular one) */
	uint32_t mode, omode;	/* sink: creation and wanted mode */
	/* Sink: a T record waiting for its C or D. */
	int set_times;
	int64_t atime, mtime;
};

/* ---- shared helpers ---- */

/* A copy of s with control characters shown as '?', for messages. */
static void
scp_vis(char *dst, size_t dstsize, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < dstsize && s[i] != '\0'; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (dstsize > 0)
		dst[i] = '\0';
}

static void
scp_tell(struct scp *e, int fatal, const char *text)
{
	char vis[SCP_LINE_MAX + 64];

	if (e->cfg->remote || e->cfg->message == NULL)
		return;
	scp_vis(vis, sizeof(vis), text);
	e->cfg->message(fatal, vis, e->cfg->ctx);
}

/*
 * rcp's run_err: count the error, send "\1scp: text\n" to the peer and
 * show it to the local user.  Newlines in the text would end the peer's
 * line early: they become '?'.
 */
static void __attribute__((format(printf, 2, 3)))
scp_run_err(struct scp *e, const char *fmt, ...)
{
	char text[SCP_LINE_MAX], *p;
	va_list ap;

	e->errors++;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (p = text; *p != '\0'; p++)
		if (*p == '\n')
			*p = '?';
	if (buf_putf(e->out, "\001scp: %s\n", text) != 0)
		e->failure = FERR_ALLOC;
	scp_tell(e, 0, text);
}

/* End the transfer for good: the message goes to the peer too. */
static int __attribute__((format(printf, 3, 4)))
scp_fail(struct scp *e, int code, const char *fmt, ...)
{
	char text[SCP_LINE_MAX], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (p = text; *p != '\0'; p++)
		if (*p == '\n')
			*p = '?';
	if (code != FERR_PERMISSION && code != FERR_EOF &&
	    buf_putf(e->out, "\001scp: %s\n", text) != 0)
		code = FERR_ALLOC;
	scp_tell(e, 1, text);
	e->state = SCP_ST_FAILED;
	e->failure = code;
	return code;
}

static int
scp_ack(struct scp *e)
{
	return buf_put_u8(e->out, 0);
}

static void
scp_progress(struct scp *e)
{
	if (e->cfg->progress != NULL)
		e->cfg->progress(e->name, e->size, e->done, e->cfg->ctx);
}

/* dir + "/" + name (no doubled slash after "/"); NULL when too long. */
static char *
scp_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name), need;
	const char *sep = dl > 0 && dir[dl - 1] == '/' ? "" : "/";
	char *p;

	if (dl > SCP_PATH_MAX || nl > SCP_PATH_MAX - dl - 1)
		return NULL;
	need = dl + 1 + nl + 1;
	if ((p = malloc(need)) == NULL)
		return NULL;
	snprintf(p, need, "%s%s%s", dir, sep, name);
	return p;
}

static void
scp_close_file(struct scp *e)
{
	if (e->fh != NULL)
		(void)e->fs->close(e->cfg->fs_ctx, e->fh);
	e->fh = NULL;
	free(e->path);
	e->path = NULL;
	e->name = NULL;
}

/*
 * A line from the peer ending in '\n': *linep points to a NUL-terminated
 * copy in lbuf (the newline removed).  FERR_WOULD_BLOCK until a whole
 * line is queued; FERR_FORMAT for an over-long line or one holding a
 * NUL; FERR_EOF when the peer ended in the middle.
 */
static int
scp_get_line(struct scp *e, char *lbuf, size_t lsize)
{
	const uint8_t *p = buf_ptr(e->in), *nl;
	size_t n = buf_len(e->in), len;

	if (n > lsize)
		n = lsize;
	if ((nl = memchr(p, '\n', n)) == NULL) {
		if (n >= lsize)
			return FERR_FORMAT;
		return e->in_eof ? FERR_EOF : FERR_WOULD_BLOCK;
	}
	len = (size_t)(nl - p);
	if (memchr(p, '\0', len) != NULL)
		return FERR_FORMAT;
	memcpy(lbuf, p, len);
	lbuf[len] = '\0';
	return buf_consume(e->in, len + 1);
}

/* ---- the source ---- */

/* Wait for the sink's answer, then continue with after. */
static void
scp_src_expect(struct scp *e, enum scp_after after)
{
	e->after = after;
	e->state = SCP_ST_RESPONSE;
}

static int
scp_src_times(struct scp *e)
{
	return buf_putf(e->out, "T%lld 0 %lld 0\n", (long long)e->st.mtime,
	    (long long)e->st.atime);
}

/* Send the C or D record of the current item. */
static int
scp_src_record(struct scp *e)
{
	int r;

	if (e->st.is_dir) {
		r = buf_putf(e->out, "D%04o 0 %s\n",
		    (unsigned int)(e->st.mode & SCP_MODE_MASK), e->name);
		scp_src_expect(e, SCP_AFTER_DIR);
	} else {
		r = buf_putf(e->out, "C%04o %llu %s\n",
		    (unsigned int)(e->st.mode & SCP_MODE_MASK),
		    (unsigned long long)e->st.size, e->name);
		scp_src_expect(e, SCP_AFTER_FILE);
	}
	return r;
}

/* Start sending path (allocated, owned by the engine from now on). */
static int
scp_src_item(struct scp *e, char *path)
{
	const char *slash;
	size_t len = strlen(path);
	int err;

	memset(&e->st, 0, sizeof(e->st));
	/* "dir/" names dir, as in rcp. */
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	e->path = path;
	slash = strrchr(path, '/');
	e->name = slash != NULL && slash[1] != '\0' ? slash + 1 : path;
	if (strchr(e->name, '\n') != NULL) {
		scp_run_err(e, "%s: skipping, filename contains a newline",
		    path);
		goto next;
	}
	memset(&e->st, 0, sizeof(e->st));
	if ((err = e->fs->open(e->cfg->fs_ctx, path, 0, 0, &e->fh,
	    &e->st)) != 0) {
		e->fh = NULL;
		scp_run_err(e, "%s: %s", path, strerror(err));
		goto next;
	}
	if (e->st.is_dir) {
		(void)e->fs->close(e->cfg->fs_ctx, e->fh);
		e->fh = NULL;
		if (!e->cfg->recursive) {
			scp_run_err(e, "%s: not a regular file", path);
			goto next;
		}
		if (e->depth >= SCP_DEPTH_MAX) {
			scp_run_err(e, "%s: directories nest too deep", path);
			goto next;
		}
		if ((err = e->fs->opendir(e->cfg->fs_ctx, path,
		    &e->levels[e->depth].dh)) != 0) {
			scp_run_err(e, "%s: %s", path, strerror(err));
			goto next;
		}
	} else if (!e->st.is_reg) {
		scp_run_err(e, "%s: not a regular file", path);
		goto next;
	}
	if (e->st.size > SCP_SIZE_MAX) {
		scp_run_err(e, "%s: file too large", path);
		goto next;
	}
	if (e->cfg->preserve) {
		scp_src_expect(e, SCP_AFTER_TIMES);
		return scp_src_times(e);
	}
	return scp_src_record(e);
 next:
	if (e->st.is_dir && e->levels[e->depth].dh != NULL) {
		e->fs->closedir(e->cfg->fs_ctx, e->levels[e->depth].dh);
		e->levels[e->depth].dh = NULL;
	}
	scp_close_file(e);
	e->state = SCP_ST_NEXT;
	return 0;
}

/* The answer was an error: drop what it was about. */
static void
scp_src_skip(struct scp *e)
{
	if (e->st.is_dir && e->levels[e->depth].dh != NULL) {
		e->fs->closedir(e->cfg->fs_ctx, e->levels[e->depth].dh);
		e->levels[e->depth].dh = NULL;
	}
	scp_close_file(e);
	e->state = SCP_ST_NEXT;
}

static int
scp_src_next(struct scp *e)
{
	struct scp_level *l;
	const char *name;
	char *path;
	int err;

	while (e->depth > 0) {
		l = &e->levels[e->depth - 1];
		if ((err = e->fs->readdir(e->cfg->fs_ctx, l->dh, &name)) != 0) {
			scp_run_err(e, "%s: %s", l->path, strerror(err));
			name = NULL;
		}
		if (name == NULL) {
			e->fs->closedir(e->cfg->fs_ctx, l->dh);
			l->dh = NULL;
			free(l->path);
			l->path = NULL;
			e->depth--;
			scp_src_expect(e, SCP_AFTER_END);
			return buf_put(e->out, "E\n", 2);
		}
		if ((path = scp_join(l->path, name)) == NULL) {
			scp_run_err(e, "%s/%s: name too long", l->path, name);
			continue;
		}
		return scp_src_item(e, path);
	}
	if (e->cfg->paths[e->nextpath] == NULL) {
		e->state = SCP_ST_DONE;
		return 0;
	}
	if ((path = strdup(e->cfg->paths[e->nextpath++])) == NULL)
		return FERR_ALLOC;
	return scp_src_item(e, path);
}

/* The sink accepted our record: act on it. */
static int
scp_src_accepted(struct scp *e)
{
	switch (e->after) {
	case SCP_AFTER_START:
	case SCP_AFTER_END:
		e->state = SCP_ST_NEXT;
		return 0;
	case SCP_AFTER_TIMES:
		return scp_src_record(e);
	case SCP_AFTER_FILE:
		e->size = e->st.size;
		e->done = 0;
		e->haderr = 0;
		e->state = SCP_ST_DATA;
		scp_progress(e);
		return 0;
	case SCP_AFTER_DIR:
		/* The directory is walked as the next level. */
		e->levels[e->depth].path = e->path;
		e->path = NULL;
		e->name = NULL;
		e->depth++;
		e->state = SCP_ST_NEXT;
		return 0;
	default:
		return FERR_INTERNAL;
	}
}

/*
 * An answer from the sink: NUL, or a line after \1 (error, the item is
 * skipped) or \2 or anything else (fatal).
 */
static int
scp_src_response(struct scp *e)
{
	char line[SCP_LINE_MAX + 1];
	uint8_t c;
	int r;

	if (buf_len(e->in) == 0) {
		if (e->in_eof)
			return scp_fail(e, FERR_EOF, "lost connection");
		return 0;
	}
	if ((r = buf_peek_u8(e->in, 0, &c)) != 0)
		return r;
	if (c == 0) {
		if ((r = buf_consume(e->in, 1)) != 0)
			return r;
		return scp_src_accepted(e);
	}
	if ((r = scp_get_line(e, line, sizeof(line))) == FERR_WOULD_BLOCK)
		return 0;
	if (r == FERR_EOF)
		return scp_fail(e, FERR_EOF, "lost connection");
	if (r != 0)
		return scp_fail(e, FERR_PROTOCOL, "protocol error: bad response");
	if (c != 1 || e->after == SCP_AFTER_START) {
		scp_tell(e, 1, c <= 2 ? line + 1 : line);
		e->errors++;
		e->state = SCP_ST_FAILED;
		e->failure = FERR_PERMISSION;
		return e->failure;
	}
	scp_tell(e, 0, line + 1);
	e->errors++;
	if (e->after == SCP_AFTER_FILE || e->after == SCP_AFTER_DIR ||
	    e->after == SCP_AFTER_TIMES)
		scp_src_skip(e);
	else
		e->state = SCP_ST_NEXT;
	return 0;
}

/* Send file data while the output has room. */
static int
scp_src_data(struct scp *e)
{
	uint8_t *p;
	size_t want, got;
	int r, err;

	while (e->done < e->size && buf_len(e->out) < SCP_OUT_HIGH) {
		want = SCP_CHUNK;
		if ((uint64_t)want > e->size - e->done)
			want = (size_t)(e->size - e->done);
		if ((r = buf_reserve(e->out, want, &p)) != 0)
			return r;
		got = 0;
		while (!e->haderr && got < want) {
			size_t n = 0;

			err = e->fs->read(e->cfg->fs_ctx, e->fh, p + got,
			    want - got, &n);
			if (err != 0)
				e->haderr = err;
			else if (n == 0)
				e->haderr = EIO;	/* the file shrank */
			got += n;
		}
		/* After an error, zeros keep the stream in step. */
		if (got < want)
			memset(p + got, 0, want - got);
		e->done += want;
		scp_progress(e);
	}
	if (e->done < e->size)
		return 0;
	if (e->haderr)
		scp_run_err(e, "%s: %s", e->path, strerror(e->haderr));
	else if ((r = scp_ack(e)) != 0)
		return r;
	scp_close_file(e);
	scp_src_expect(e, SCP_AFTER_END);
	return 0;
}

/* ---- the sink ---- */

/* Digits only, no sign; FERR_NUMBER_RANGE above max. */
static int
scp_parse_u64(const char **sp, uint64_t max, uint64_t *vp)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return FERR_FORMAT;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return FERR_NUMBER_RANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*sp = s;
	*vp = v;
	return 0;
}

/* "T<mtime> <usec> <atime> <usec>" after the T. */
static int
scp_sink_times(struct scp *e, const char *s)
{
	uint64_t mt, mu, at, au;

	if (scp_parse_u64(&s, SCP_SIZE_MAX, &mt) != 0 || *s++ != ' ' ||
	    scp_parse_u64(&s, 999999, &mu) != 0 || *s++ != ' ' ||
	    scp_parse_u64(&s, SCP_SIZE_MAX, &at) != 0 || *s++ != ' ' ||
	    scp_parse_u64(&s, 999999, &au) != 0 || *s != '\0')
		return scp_fail(e, FERR_PROTOCOL,
		    "protocol error: bad time record");
	e->set_times = 1;
	e->mtime = (int64_t)mt;
	e->atime = (int64_t)at;
	return scp_ack(e);
}

/* Whether a top-level name is one that was asked for. */
static int
scp_sink_requested(const struct scp *e, const char *name)
{
	const char *const *p;

	if (e->depth > 1 || e->cfg->patterns == NULL || e->cfg->relaxed ||
	    e->cfg->recursive)
		return 1;
	for (p = e->cfg->patterns; *p != NULL; p++)
		if (fnmatch(*p, name, 0) == 0)
			return 1;
	return 0;
}

/* A D record: make or reuse the directory and enter it. */
static int
scp_sink_dir(struct scp *e, const char *np, uint32_t mode)
{
	struct scp_level *l;
	struct scp_stat st;
	int err, exists, mod_flag = e->cfg->preserve;

	if (!e->cfg->recursive)
		return scp_fail(e, FERR_PROTOCOL,
		    "protocol error: received directory without -r");
	if (e->depth > SCP_DEPTH_MAX)
		return scp_fail(e, FERR_PROTOCOL,
		    "protocol error: directories nest too deep");
	memset(&st, 0, sizeof(st));
	exists = e->fs->stat(e->cfg->fs_ctx, np, &st) == 0;
	if (exists) {
		if (!st.is_dir) {
			err = ENOTDIR;
			goto bad;
		}
		if (e->cfg->preserve)
			(void)e->fs->chmod(e->cfg->fs_ctx, np, mode);
	} else {
		mod_flag = 1;
		if ((err = e->fs->mkdir(e->cfg->fs_ctx, np,
		    mode | SCP_MODE_IRWXU)) != 0)
			goto bad;
	}
	l = &e->levels[e->depth];
	memset(l, 0, sizeof(*l));
	if ((l->path = strdup(np)) == NULL)
		return FERR_ALLOC;
	l->targisdir = 1;
	l->set_times = e->set_times;
	l->atime = e->atime;
	l->mtime = e->mtime;
	l->mode = mode;
	l->mod_flag = mod_flag;
	e->depth++;
	e->set_times = 0;
	return scp_ack(e);
 bad:
	e->set_times = 0;
	scp_run_err(e, "%s: %s", np, strerror(err));
	return 0;
}

/* An E record: leave the directory, with its times and mode. */
static int
scp_sink_end(struct scp *e)
{
	struct scp_level *l;
	char msg[SCP_PATH_MAX + 64];
	int err, r;

	if (e->depth <= 1)
		return scp_fail(e, FERR_PROTOCOL,
		    "protocol error: unexpected end of directory");
	if ((r = scp_ack(e)) != 0)
		return r;
	l = &e->levels[--e->depth];
	if (l->set_times && (err = e->fs->utimes(e->cfg->fs_ctx, l->path,
	    l->atime, l->mtime)) != 0) {
		snprintf(msg, sizeof(msg), "%s: set times: %s", l->path,
		    strerror(err));
		scp_tell(e, 0, msg);
		e->errors++;
	}
	if (l->mod_flag)
		(void)e->fs->chmod(e->cfg->fs_ctx, l->path, l->mode);
	free(l->path);
	memset(l, 0, sizeof(*l));
	return 0;
}

/* A C record: open the file and wait for its bytes. */
static int
scp_sink_file(struct scp *e, char *np, uint32_t mode, uint64_t size)
{
	struct scp_stat st;
	int err;

	memset(&st, 0, sizeof(st));
	e->exists = e->fs->stat(e->cfg->fs_ctx, np, &st) == 0;
	e->was_reg = e->exists && st.is_reg;
	e->omode = mode;
	e->mode = mode | SCP_MODE_IWUSR;
	if ((err = e->fs->open(e->cfg->fs_ctx, np, 1, e->mode, &e->fh,
	    &st)) != 0) {
		e->fh = NULL;
		e->set_times = 0;
		scp_run_err(e, "%s: %s", np, strerror(err));
		free(np);
		return 0;
	}
	e->path = np;
	e->name = strrchr(np, '/') != NULL ? strrchr(np, '/') + 1 : np;
	e->size = size;
	e->done = 0;
	e->haderr = 0;
	e->state = SCP_ST_SINK_DATA;
	scp_progress(e);
	return scp_ack(e);
}

/* C or D: "<mode> <size> <name>" after the letter. */
static int
scp_sink_entry(struct scp *e, int type, const char *s)
{
	struct scp_level *l = &e->levels[e->depth - 1];
	uint32_t mode = 0;
	uint64_t size;
	char *np;
	int i;

	for (i = 0; i < 4; i++, s++) {
		if (*s < '0' || *s > '7')
			return scp_fail(e, FERR_PROTOCOL,
			    "protocol error: bad mode");
		mode = (mode << 3) | (uint32_t)(*s - '0');
	}
	if (*s++ != ' ')
		return scp_fail(e, FERR_PROTOCOL,
		    "protocol error: mode not delimited");
	if (scp_parse_u64(&s, SCP_SIZE_MAX, &size) != 0 || *s++ != ' ')
		return scp_fail(e, FERR_PROTOCOL,
		    "protocol error: bad size");
	if (*s == '\0' || strchr(s, '/') != NULL || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return scp_fail(e, FERR_PROTOCOL,
		    "error: unexpected filename: %s", s);
	if (!scp_sink_requested(e, s))
		return scp_fail(e, FERR_PROTOCOL,
		    "protocol error: filename does not match request");
	if (!e->cfg->preserve)
		mode &= ~e->cfg->umask;
	if (l->targisdir)
		np = scp_join(l->path, s);
	else
		np = strdup(l->path);
	if (np == NULL)
		return scp_fail(e, FERR_PROTOCOL,
		    "protocol error: name too long");
	if (type == 'D') {
		int r = scp_sink_dir(e, np, mode);

		free(np);
		return r;
	}
	return scp_sink_file(e, np, mode, size);
}

static int
scp_sink_line(struct scp *e)
{
	char line[SCP_LINE_MAX + 1];
	int r;

	if (buf_len(e->in) == 0) {
		if (!e->in_eof)
			return 0;
		if (e->depth > 1)
			return scp_fail(e, FERR_EOF, "lost connection");
		e->state = SCP_ST_DONE;
		return 0;
	}
	if (buf_ptr(e->in)[0] == '\n')
		return scp_fail(e, FERR_PROTOCOL,
		    "protocol error: unexpected <newline>");
	if ((r = scp_get_line(e, line, sizeof(line))) == FERR_WOULD_BLOCK)
		return 0;
	if (r == FERR_EOF)
		return scp_fail(e, FERR_EOF, "lost connection");
	if (r != 0)
		return scp_fail(e, FERR_PROTOCOL,
		    "protocol error: bad record");
	switch (line[0]) {
	case '\001':
		scp_tell(e, 0, line + 1);
		e->errors++;
		return 0;
	case '\002':
		scp_tell(e, 1, line + 1);
		e->errors++;
		e->state = SCP_ST_FAILED;
		e->failure = FERR_PERMISSION;
		return e->failure;
	case 'E':
		if (line[1] != '\0')
			return scp_fail(e, FERR_PROTOCOL,
			    "protocol error: bad end record");
		return scp_sink_end(e);
	case 'T':
		return scp_sink_times(e, line + 1);
	case 'C':
	case 'D':
		return scp_sink_entry(e, line[0], line + 1);
	default:
		return scp_fail(e, FERR_PROTOCOL,
		    "protocol error: expected control record");
	}
}

/* File bytes: written until the first error, then only consumed. */
static int
scp_sink_data(struct scp *e)
{
	size_t n = buf_len(e->in);
	int r, err;

	if ((uint64_t)n > e->size - e->done)
		n = (size_t)(e->size - e->done);
	if (n > 0) {
		if (!e->haderr && (err = e->fs->write(e->cfg->fs_ctx, e->fh,
		    buf_ptr(e->in), n)) != 0)
			e->haderr = err;
		if ((r = buf_consume(e->in, n)) != 0)
			return r;
		e->done += n;
		scp_progress(e);
	}
	if (e->done == e->size)
		e->state = SCP_ST_SINK_STATUS;
	else if (e->in_eof)
		return scp_fail(e, FERR_EOF, "lost connection");
	return 0;
}

/* The source's status byte after the data, then finish the file. */
static int
scp_sink_status(struct scp *e)
{
	char line[SCP_LINE_MAX + 1];
	uint8_t c;
	int r, err, shown = 0;

	if (buf_len(e->in) == 0)
		return e->in_eof ? scp_fail(e, FERR_EOF, "lost connection") : 0;
	if ((r = buf_peek_u8(e->in, 0, &c)) != 0)
		return r;
	if (c == 0) {
		if ((r = buf_consume(e->in, 1)) != 0)
			return r;
	} else {
		if ((r = scp_get_line(e, line, sizeof(line))) ==
		    FERR_WOULD_BLOCK)
			return 0;
		if (r != 0)
			return scp_fail(e, r == FERR_EOF ? FERR_EOF :
			    FERR_PROTOCOL, "protocol error: bad status");
		scp_tell(e, c != 1, c <= 2 ? line + 1 : line);
		e->errors++;
		if (c != 1) {
			e->state = SCP_ST_FAILED;
			e->failure = FERR_PERMISSION;
			return e->failure;
		}
	}
	if (!e->haderr && (!e->exists || e->was_reg) &&
	    (err = e->fs->truncate(e->cfg->fs_ctx, e->fh, e->size)) != 0) {
		scp_run_err(e, "%s: truncate: %s", e->path, strerror(err));
		shown = 1;
	}
	err = 0;
	if (e->cfg->preserve)
		err = e->fs->fchmod(e->cfg->fs_ctx, e->fh, e->omode);
	else if (!e->exists && e->omode != e->mode)
		err = e->fs->fchmod(e->cfg->fs_ctx, e->fh, e->omode);
	if (err != 0 && !shown) {
		scp_run_err(e, "%s: set mode: %s", e->path, strerror(err));
		shown = 1;
	}
	err = e->fs->close(e->cfg->fs_ctx, e->fh);
	e->fh = NULL;
	if (err != 0 && !e->haderr)
		e->haderr = err;
	if (e->set_times && !e->haderr && !shown) {
		e->set_times = 0;
		if ((err = e->fs->utimes(e->cfg->fs_ctx, e->path, e->atime,
		    e->mtime)) != 0) {
			scp_run_err(e, "%s: set times: %s", e->path,
			    strerror(err));
			shown = 1;
		}
	}
	e->set_times = 0;
	if (e->haderr && !shown)
		scp_run_err(e, "%s: %s", e->path, strerror(e->haderr));
	else if (!shown && (r = scp_ack(e)) != 0)
		return r;
	scp_close_file(e);
	e->state = SCP_ST_LINE;
	return 0;
}

/* ---- the engine ---- */

int
scp_new(const struct scp_config *cfg, struct scp **ep)
{
	struct scp *e;
	struct scp_stat st;
	int err;

	*ep = NULL;
	if (cfg == NULL || cfg->fs == NULL ||
	    (cfg->role == SCP_SINK && cfg->target == NULL) ||
	    (cfg->role == SCP_SOURCE && cfg->paths == NULL))
		return FERR_ARGUMENT;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return FERR_ALLOC;
	e->cfg = cfg;
	e->fs = cfg->fs;
	if ((e->in = buf_new()) == NULL || (e->out = buf_new()) == NULL ||
	    buf_set_max_size(e->in, SCP_IN_MAX) != 0) {
		scp_free(e);
		return FERR_ALLOC;
	}
	if (cfg->role == SCP_SOURCE) {
		scp_src_expect(e, SCP_AFTER_START);
		*ep = e;
		return 0;
	}
	e->state = SCP_ST_LINE;
	if ((e->levels[0].path = strdup(cfg->target)) == NULL) {
		scp_free(e);
		return FERR_ALLOC;
	}
	e->depth = 1;
	memset(&st, 0, sizeof(st));
	err = cfg->fs->stat(cfg->fs_ctx, cfg->target, &st);
	e->levels[0].targisdir = err == 0 && st.is_dir;
	/* rcp checks -d before its first NUL, so the source sees the error. */
	if (cfg->target_dir && !e->levels[0].targisdir)
		(void)scp_fail(e, FERR_ARGUMENT, "%s: %s", cfg->target,
		    strerror(err != 0 ? err : ENOTDIR));
	else if (scp_ack(e) != 0) {
		scp_free(e);
		return FERR_ALLOC;
	}
	*ep = e;
	return 0;
}

void
scp_free(struct scp *e)
{
	size_t i;

	if (e == NULL)
		return;
	scp_close_file(e);
	for (i = 0; i <= SCP_DEPTH_MAX; i++) {
		if (e->levels[i].dh != NULL)
			e->fs->closedir(e->cfg->fs_ctx, e->levels[i].dh);
		free(e->levels[i].path);
	}
	buf_free(e->in);
	buf_free(e->out);
	free(e);
}

size_t
scp_input_space(const struct scp *e)
{
	return buf_avail(e->in);
}

int
scp_input(struct scp *e, const void *p, size_t len)
{
	return buf_put(e->in, p, len);
}

void
scp_input_eof(struct scp *e)
{
	e->in_eof = 1;
}

int
scp_process(struct scp *e)
{
	enum scp_state before;
	size_t inlen, outlen;
	int r = 0;

	for (;;) {
		if (e->failure != 0 && e->state != SCP_ST_FAILED)
			e->state = SCP_ST_FAILED;
		before = e->state;
		inlen = buf_len(e->in);
		outlen = buf_len(e->out);
		switch (e->state) {
		case SCP_ST_RESPONSE:
			r = scp_src_response(e);
			break;
		case SCP_ST_NEXT:
			r = scp_src_next(e);
			break;
		case SCP_ST_DATA:
			r = scp_src_data(e);
			break;
		case SCP_ST_LINE:
			r = scp_sink_line(e);
			break;
		case SCP_ST_SINK_DATA:
			r = scp_sink_data(e);
			break;
		case SCP_ST_SINK_STATUS:
			r = scp_sink_status(e);
			break;
		case SCP_ST_DONE:
			return 0;
		case SCP_ST_FAILED:
			return e->failure != 0 ? e->failure : FERR_INTERNAL;
		default:
			return FERR_INTERNAL;
		}
		if (r != 0) {
			if (e->state != SCP_ST_FAILED) {
				e->state = SCP_ST_FAILED;
				e->failure = r;
			}
			return e->failure;
		}
		/* Stop when nothing moved: more input or output room needed. */
		if (e->state == before && buf_len(e->in) == inlen &&
		    buf_len(e->out) == outlen)
			return 0;
		if (e->state == SCP_ST_DATA && buf_len(e->out) >= SCP_OUT_HIGH)
			return 0;
	}
}

struct buf *
scp_output(struct scp *e)
{
	return e->out;
}

int
scp_done(const struct scp *e)
{
	return e->state == SCP_ST_DONE || e->state == SCP_ST_FAILED;
}

unsigned int
scp_errors(const struct scp *e)
{
	return e->errors;
}

int
scp_failed(const struct scp *e)
{
	return e->state == SCP_ST_FAILED;
}
