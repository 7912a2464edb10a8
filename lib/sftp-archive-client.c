/*
 * The client side of tree-archive@ferry: one archive transfer pumped
 * over the client engine (see ferry/sftp-archive.h).
 *
 * Downloads keep a window of sequential READs in flight and write each
 * DATA at its offset into a spool (an unnamed file in the destination
 * directory, or the destination archive file itself), then extract the
 * spool with the same code the server uses.  Uploads fill sequential
 * WRITEs from the sender as the window opens.  A transfer that stops
 * early sends a WRITE at offset 2^64-1 first, so the server discards
 * what it received instead of extracting a truncated stream.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp-archive.h"
#include "ferry/sftp-client.h"

#define AX_WINDOW	64U
#define AX_ABORT_OFF	UINT64_MAX

enum ax_state {
	AX_IDLE, AX_MKDIR, AX_OPEN, AX_STREAM, AX_ABORT, AX_CLOSE,
	AX_FINISH, AX_DONE
};

enum ax_kind { AX_GET, AX_PUT, AX_GET_FILE, AX_PUT_FILE };

struct sftp_archive_xfer {
	struct sftp_client *c;
	struct sftp_archive_xfer_opts o;
	enum ax_kind kind;
	enum ax_state state;
	enum sftp_archive_format fmt;
	char *rpath;
	char *name;		/* for progress */
	int ldirfd;		/* get: destination directory */
	int spool;		/* get: received stream */
	int outfd;		/* get_file (zip): the output file */
	struct sftp_archive_src *src;
	uint8_t handle[256];
	size_t hlen;
	int have_handle;
	unsigned int inflight;
	unsigned int window;
	size_t rw;
	uint64_t next_off;
	uint64_t end;		/* get: where the stream ends, once known */
	int src_done;
	int cancelled;
	int moved;		/* a stream byte moved (no fallback then) */
	int open_sent;
	int aborted;		/* the server was told to discard */
	int err;
	struct sftp_archive_stats st;
	uint8_t *chunk;
	char msg[640];
};

struct ax_req {
	struct sftp_archive_xfer *x;
	uint64_t off;
	uint32_t len;
};

/* The first failure: "a: b", or "a" when b is NULL. */
static void
ax_fail(struct sftp_archive_xfer *x, int r, const char *a, const char *b)
{
	char *v;

	if (x->err != 0)
		return;
	x->err = r;
	if (b != NULL)
		snprintf(x->msg, sizeof(x->msg), "%s: %s", a, b);
	else
		snprintf(x->msg, sizeof(x->msg), "%s", a);
	if ((v = sftp_client_vis(x->msg)) != NULL) {
		snprintf(x->msg, sizeof(x->msg), "%s", v);
		free(v);
	}
}

/* A failure status from the server: the code it maps to. */
static int
ax_status_err(uint32_t status)
{
	switch (status) {
	case SSH_FX_PERMISSION_DENIED:
		return FERR_PERMISSION;
	case SSH_FX_OP_UNSUPPORTED:
		return FERR_NOT_SUPPORTED;
	case SSH_FX_NO_SUCH_FILE:
		return FERR_SYSTEM;
	case SSH_FX_BAD_MESSAGE:
		return FERR_FORMAT;
	default:
		return FERR_SYSTEM;
	}
}

static void
ax_progress(struct sftp_archive_xfer *x, int finished)
{
	if (x->o.progress != NULL)
		x->o.progress(x->o.arg, x->name, x->st.stream,
		    0, &x->st, finished);
}

int
sftp_archive_supported(const struct sftp_client *c)
{
	return sftp_client_has_ext(c, SFTP_ARCHIVE_EXT, SFTP_ARCHIVE_EXT_VER,
	    NULL);
}

int
sftp_archive_scan_begin(struct sftp_client *c, const char *path)
{
	struct buf *b;
	int r;

	if ((r = sftp_client_begin(c, SSH_FXP_EXTENDED, SFTP_ARCHIVE_EXT,
	    &b)) != 0)
		return r;
	if ((r = buf_put_u32(b, SFTP_ARCHIVE_OP_SCAN)) != 0 ||
	    (r = buf_put_cstring(b, path)) != 0 ||
	    (r = buf_put_u32(b, 0)) != 0 ||
	    (r = buf_put_u64(b, 0)) != 0)
		sftp_client_abort(c);
	return r;
}

int
sftp_archive_scan_parse(const uint8_t *data, size_t len,
    struct sftp_archive_stats *st)
{
	struct buf *b;
	int r;

	memset(st, 0, sizeof(*st));
	if ((b = buf_from(data, len)) == NULL)
		return FERR_ALLOC;
	if ((r = buf_get_u64(b, &st->files)) != 0 ||
	    (r = buf_get_u64(b, &st->dirs)) != 0 ||
	    (r = buf_get_u64(b, &st->links)) != 0 ||
	    (r = buf_get_u64(b, &st->other)) != 0 ||
	    (r = buf_get_u64(b, &st->bytes)) != 0 ||
	    (r = buf_expect_end(b)) != 0)
		memset(st, 0, sizeof(*st));
	buf_free(b);
	return r != 0 ? FERR_FORMAT : 0;
}

struct sftp_archive_xfer *
sftp_archive_xfer_new(struct sftp_client *c,
    const struct sftp_archive_xfer_opts *o)
{
	struct sftp_archive_xfer *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->c = c;
	x->o = *o;
	x->ldirfd = x->spool = x->outfd = -1;
	x->end = UINT64_MAX;
	x->rw = o->req_size != 0 ? o->req_size : sftp_client_rw_size(c);
	if (x->rw > sftp_client_rw_size(c))
		x->rw = sftp_client_rw_size(c);
	x->window = o->max_requests != 0 ? o->max_requests : AX_WINDOW;
	if ((x->chunk = malloc(x->rw)) == NULL) {
		free(x);
		return NULL;
	}
	return x;
}

void
sftp_archive_xfer_free(struct sftp_archive_xfer *x)
{
	if (x == NULL)
		return;
	sftp_archive_src_free(x->src);
	if (x->ldirfd >= 0)
		close(x->ldirfd);
	if (x->spool >= 0)
		close(x->spool);
	if (x->outfd >= 0)
		close(x->outfd);
	free(x->rpath);
	free(x->name);
	free(x->chunk);
	free(x);
}

static int
ax_start(struct sftp_archive_xfer *x, enum ax_kind kind, const char *rpath,
    const char *name)
{
	if (x->state != AX_IDLE)
		return FERR_ARGUMENT;
	x->kind = kind;
	if ((x->rpath = strdup(rpath)) == NULL ||
	    (x->name = strdup(name)) == NULL)
		return FERR_ALLOC;
	x->state = kind == AX_PUT || kind == AX_PUT_FILE ? AX_MKDIR :
	    AX_OPEN;
	return 0;
}

int
sftp_archive_xfer_get(struct sftp_archive_xfer *x, const char *rdir,
    const char *ldir)
{
	if (mkdir(ldir, 0777) != 0 && errno != EEXIST)
		return FERR_SYSTEM;
	if ((x->ldirfd = open(ldir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0 ||
	    (x->spool = sftp_archive_spool(x->ldirfd, NULL)) < 0)
		return FERR_SYSTEM;
	return ax_start(x, AX_GET, rdir, rdir);
}

int
sftp_archive_xfer_get_file(struct sftp_archive_xfer *x, const char *rdir,
    const char *lfile)
{
	char *copy;
	int dfd;

	x->fmt = sftp_archive_format_of(lfile);
	switch (x->fmt) {
	case SFTP_ARCHIVE_FMT_TAR:
		x->o.flags &= ~SFTP_ARCHIVE_GZIP;
		break;
	case SFTP_ARCHIVE_FMT_TARGZ:
		x->o.flags |= SFTP_ARCHIVE_GZIP;
		break;
	case SFTP_ARCHIVE_FMT_ZIP:
		break;
	default:
		errno = EINVAL;
		return FERR_ARGUMENT;
	}
	if (x->fmt != SFTP_ARCHIVE_FMT_ZIP) {
		/* The stream is the file. */
		if ((x->spool = open(lfile, O_RDWR | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0666)) < 0)
			return FERR_SYSTEM;
	} else {
		if ((copy = strdup(lfile)) == NULL)
			return FERR_ALLOC;
		dfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		free(copy);
		if (dfd < 0)
			return FERR_SYSTEM;
		x->spool = sftp_archive_spool(dfd, NULL);
		close(dfd);
		if (x->spool < 0 || (x->outfd = open(lfile, O_WRONLY |
		    O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0)
			return FERR_SYSTEM;
	}
	return ax_start(x, AX_GET_FILE, rdir, rdir);
}

int
sftp_archive_xfer_put(struct sftp_archive_xfer *x, const char *ldir,
    const char *rdir)
{
	int fd;

	if ((fd = open(ldir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return FERR_SYSTEM;
	if ((x->src = sftp_archive_src_new(fd,
	    x->o.flags & SFTP_ARCHIVE_GZIP)) == NULL)
		return FERR_SYSTEM;
	return ax_start(x, AX_PUT, rdir, ldir);
}

int
sftp_archive_xfer_put_file(struct sftp_archive_xfer *x, const char *lfile,
    const char *rdir)
{
	char ebuf[512];
	int fd, tmpdir, spool, r;

	if ((fd = open(lfile, O_RDONLY | O_CLOEXEC)) < 0)
		return FERR_SYSTEM;
	/*
	 * A tar file (compressed or not) goes as it is: the server checks
	 * every entry, and a sparse entry is not inflated here.
	 */
	switch (sftp_archive_format_of(lfile)) {
	case SFTP_ARCHIVE_FMT_TAR:
		x->o.flags &= ~SFTP_ARCHIVE_GZIP;
		goto raw;
	case SFTP_ARCHIVE_FMT_TARGZ:
		x->o.flags |= SFTP_ARCHIVE_GZIP;
		goto raw;
	default:
		break;
	}
	/*
	 * Other formats are rewritten as the wire's pax stream (any format
	 * libarchive reads, compressed by one of its libraries), names
	 * checked here before the server checks them.
	 */
	tmpdir = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	spool = sftp_archive_spool(tmpdir, NULL);
	if (tmpdir >= 0)
		close(tmpdir);
	if (spool < 0) {
		close(fd);
		return FERR_SYSTEM;
	}
	r = sftp_archive_transcode(fd, SFTP_ARCHIVE_ANYFORMAT, spool,
	    SFTP_ARCHIVE_FMT_TAR, ebuf, sizeof(ebuf));
	close(fd);
	if (r != 0) {
		close(spool);
		ax_fail(x, r, ebuf, NULL);
		return r;
	}
	if (lseek(spool, 0, SEEK_SET) != 0) {
		close(spool);
		return FERR_SYSTEM;
	}
	x->o.flags &= ~SFTP_ARCHIVE_GZIP;
	fd = spool;
 raw:
	if ((x->src = sftp_archive_src_from_fd(fd)) == NULL)
		return FERR_ALLOC;
	return ax_start(x, AX_PUT_FILE, rdir, lfile);
}

/* ---- Replies ---- */

static int
ax_mkdir_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct sftp_archive_xfer *x = arg;

	(void)rep;	/* an existing directory is fine; OPEN reports */
	x->inflight--;
	return 0;
}

/* The open reply: string handle, nothing after it. */
static int
ax_parse_handle(struct sftp_archive_xfer *x, const uint8_t *p, size_t len)
{
	struct buf *b;
	const uint8_t *h;
	size_t hlen;
	int r;

	if ((b = buf_from(p, len)) == NULL)
		return FERR_ALLOC;
	if ((r = buf_get_string_direct(b, &h, &hlen)) == 0 &&
	    (r = buf_expect_end(b)) == 0) {
		if (hlen == 0 || hlen > sizeof(x->handle))
			r = FERR_FORMAT;
		else {
			memcpy(x->handle, h, hlen);
			x->hlen = hlen;
		}
	}
	buf_free(b);
	return r;
}

static int
ax_open_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct sftp_archive_xfer *x = arg;

	x->inflight--;
	if (rep->type == SSH_FXP_EXTENDED_REPLY &&
	    ax_parse_handle(x, rep->data, rep->len) == 0) {
		x->have_handle = 1;
		x->state = AX_STREAM;
		return 0;
	}
	if (rep->type == SSH_FXP_STATUS)
		ax_fail(x, ax_status_err(rep->status), x->rpath,
		    rep->errmsg != NULL && rep->errmsg[0] != '\0' ?
		    rep->errmsg : sftp_status_str(rep->status));
	else
		ax_fail(x, FERR_PROTOCOL, x->rpath,
		    "unexpected reply to tree-archive");
	x->state = AX_DONE;
	return 0;
}

static int
ax_read_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct ax_req *q = arg;
	struct sftp_archive_xfer *x = q->x;
	ssize_t n;
	size_t done = 0;

	x->inflight--;
	if (rep->type == SSH_FXP_DATA) {
		if (q->off >= x->end || rep->len > x->end - q->off) {
			ax_fail(x, FERR_PROTOCOL,
			    "server sent archive data past its end", NULL);
			goto out;
		}
		while (done < rep->len) {
			n = pwrite(x->spool, rep->data + done,
			    rep->len - done, (off_t)(q->off + done));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				ax_fail(x, FERR_SYSTEM, "writing spool",
				    strerror(n < 0 ? errno : EIO));
				goto out;
			}
			done += (size_t)n;
		}
		x->moved = 1;
		x->st.stream += rep->len;
		if (rep->len < q->len)
			x->end = q->off + rep->len;
		ax_progress(x, 0);
	} else if (rep->type == SSH_FXP_STATUS &&
	    rep->status == SSH_FX_EOF) {
		if (q->off < x->end)
			x->end = q->off;
	} else if (rep->type == SSH_FXP_STATUS)
		ax_fail(x, ax_status_err(rep->status), x->rpath,
		    rep->errmsg != NULL ? rep->errmsg : "read failed");
	else
		ax_fail(x, FERR_PROTOCOL, "unexpected reply", NULL);
 out:
	free(q);
	return 0;
}

static int
ax_write_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct sftp_archive_xfer *x = arg;

	x->inflight--;
	if (x->state == AX_ABORT)
		return 0;
	if (rep->type != SSH_FXP_STATUS || rep->status != SSH_FX_OK)
		ax_fail(x, rep->type == SSH_FXP_STATUS ?
		    ax_status_err(rep->status) : FERR_PROTOCOL, x->rpath,
		    rep->errmsg != NULL ? rep->errmsg : "write failed");
	return 0;
}

static int
ax_close_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct sftp_archive_xfer *x = arg;

	x->inflight--;
	x->have_handle = 0;
	if (rep->type != SSH_FXP_STATUS)
		ax_fail(x, FERR_PROTOCOL, "unexpected reply", NULL);
	else if (x->aborted)
		;	/* the server discarded the stream, as asked */
	else if (rep->status != SSH_FX_OK)
		ax_fail(x, ax_status_err(rep->status), x->rpath,
		    rep->errmsg != NULL ? rep->errmsg : "failed");
	else if (rep->errmsg != NULL)
		log_verbose("tree-archive %s: %s", x->rpath, rep->errmsg);
	x->state = x->err == 0 && !x->cancelled ? AX_FINISH : AX_DONE;
	return 0;
}

/* ---- Requests ---- */

static int
ax_send_mkdir(struct sftp_archive_xfer *x)
{
	struct buf *b;
	int r;

	if ((r = sftp_client_begin(x->c, SSH_FXP_MKDIR, NULL, &b)) != 0)
		return r;
	if ((r = buf_put_cstring(b, x->rpath)) != 0 ||
	    (r = buf_put_u32(b, 0)) != 0) {
		sftp_client_abort(x->c);
		return r;
	}
	if ((r = sftp_client_end(x->c, 0, ax_mkdir_cb, x, NULL)) != 0)
		return r;
	x->inflight++;
	return 0;
}

static int
ax_send_open(struct sftp_archive_xfer *x)
{
	struct buf *b;
	uint32_t op = x->kind == AX_PUT || x->kind == AX_PUT_FILE ?
	    SFTP_ARCHIVE_OP_EXTRACT : SFTP_ARCHIVE_OP_CREATE;
	int r;

	if ((r = sftp_client_begin(x->c, SSH_FXP_EXTENDED, SFTP_ARCHIVE_EXT,
	    &b)) != 0)
		return r;
	if ((r = buf_put_u32(b, op)) != 0 ||
	    (r = buf_put_cstring(b, x->rpath)) != 0 ||
	    (r = buf_put_u32(b, x->o.flags & SFTP_ARCHIVE_WIRE_MASK)) != 0 ||
	    (r = buf_put_u64(b, x->o.max_bytes)) != 0) {
		sftp_client_abort(x->c);
		return r;
	}
	if ((r = sftp_client_end(x->c, 0, ax_open_cb, x, NULL)) != 0)
		return r;
	x->inflight++;
	return 0;
}

static int
ax_send_reads(struct sftp_archive_xfer *x)
{
	struct ax_req *q;
	int r;

	while (x->inflight < x->window && x->next_off < x->end &&
	    x->err == 0 && !x->cancelled) {
		if ((q = malloc(sizeof(*q))) == NULL)
			return FERR_ALLOC;
		q->x = x;
		q->off = x->next_off;
		q->len = (uint32_t)x->rw;
		if ((r = sftp_client_read(x->c, x->handle, x->hlen, q->off,
		    q->len, ax_read_cb, q)) != 0) {
			free(q);
			return r == FERR_NO_SPACE ? 0 : r;
		}
		x->inflight++;
		x->next_off += q->len;
	}
	return 0;
}

static int
ax_send_writes(struct sftp_archive_xfer *x)
{
	uint8_t *p;
	size_t n;
	int r;

	while (x->inflight < x->window && !x->src_done && x->err == 0 &&
	    !x->cancelled) {
		if ((r = sftp_archive_src_read(x->src, x->chunk, x->rw,
		    &n)) != 0) {
			ax_fail(x, r, sftp_archive_src_error(x->src),
			    NULL);
			return 0;
		}
		if (n < x->rw)
			x->src_done = 1;
		if (n == 0)
			break;
		if ((r = sftp_client_write(x->c, x->handle, x->hlen,
		    x->next_off, (uint32_t)n, &p, ax_write_cb, x)) != 0)
			return r;
		memcpy(p, x->chunk, n);
		x->inflight++;
		x->moved = 1;
		x->next_off += n;
		x->st.stream += n;
		x->st.files = sftp_archive_src_stats(x->src)->files;
		x->st.dirs = sftp_archive_src_stats(x->src)->dirs;
		x->st.links = sftp_archive_src_stats(x->src)->links;
		x->st.bytes = sftp_archive_src_stats(x->src)->bytes;
		ax_progress(x, 0);
	}
	return 0;
}

static int
ax_send_close(struct sftp_archive_xfer *x)
{
	int r;

	if ((r = sftp_client_handle(x->c, SSH_FXP_CLOSE, x->handle, x->hlen,
	    ax_close_cb, x)) != 0)
		return r;
	x->inflight++;
	x->state = AX_CLOSE;
	return 0;
}

/* Tell the server to drop a partial upload (see the file comment). */
static int
ax_send_abort(struct sftp_archive_xfer *x)
{
	uint8_t *p;
	int r;

	if ((r = sftp_client_write(x->c, x->handle, x->hlen, AX_ABORT_OFF,
	    0, &p, ax_write_cb, x)) != 0)
		return r;
	x->inflight++;
	x->aborted = 1;
	x->state = AX_ABORT;
	return 0;
}

static void
ax_extract_progress(void *arg, const struct sftp_archive_stats *st)
{
	struct sftp_archive_xfer *x = arg;
	uint64_t stream = x->st.stream;

	x->st = *st;
	x->st.stream = stream;
	ax_progress(x, 0);
}

/* After the stream: extract or convert locally. */
static void
ax_finish(struct sftp_archive_xfer *x)
{
	struct sftp_archive_extract_opts eo;
	struct sftp_archive_stats st;
	uint64_t stream = x->st.stream;
	char ebuf[512];
	int r = 0;

	switch (x->kind) {
	case AX_GET:
		memset(&eo, 0, sizeof(eo));
		eo.flags = (x->o.flags & SFTP_ARCHIVE_WIRE_MASK) |
		    SFTP_ARCHIVE_SYMLINKS;
		eo.max_bytes = x->o.max_bytes;
		eo.progress = ax_extract_progress;
		eo.arg = x;
		r = sftp_archive_extract(x->spool, x->ldirfd, &eo, &st, ebuf,
		    sizeof(ebuf));
		x->st = st;
		x->st.stream = stream;
		break;
	case AX_GET_FILE:
		if (x->fmt == SFTP_ARCHIVE_FMT_ZIP)
			r = sftp_archive_transcode(x->spool,
			    x->o.flags & SFTP_ARCHIVE_GZIP, x->outfd,
			    SFTP_ARCHIVE_FMT_ZIP, ebuf, sizeof(ebuf));
		else if (ftruncate(x->spool, (off_t)x->end) != 0) {
			snprintf(ebuf, sizeof(ebuf), "%s", strerror(errno));
			r = FERR_SYSTEM;
		}
		break;
	case AX_PUT:
	case AX_PUT_FILE:
	default:
		break;
	}
	if (r != 0)
		ax_fail(x, r, ebuf, NULL);
	x->state = AX_DONE;
	ax_progress(x, 1);
}

int
sftp_archive_xfer_step(struct sftp_archive_xfer *x)
{
	int r, put = x->kind == AX_PUT || x->kind == AX_PUT_FILE;

	switch (x->state) {
	case AX_MKDIR:
		/* The OPEN follows right behind: requests run in order. */
		if ((r = ax_send_mkdir(x)) != 0)
			return r;
		x->state = AX_OPEN;
		/* FALLTHROUGH */
	case AX_OPEN:
		if (x->open_sent || x->err != 0)
			return 0;
		x->open_sent = 1;
		return ax_send_open(x);
	case AX_STREAM:
		if (x->err == 0 && !x->cancelled) {
			r = put ? ax_send_writes(x) : ax_send_reads(x);
			if (r != 0)
				return r;
		}
		if (x->inflight > 0)
			return 0;
		if (put && (x->err != 0 || x->cancelled))
			return ax_send_abort(x);
		if (put ? x->src_done || x->err != 0 :
		    x->end != UINT64_MAX || x->err != 0 || x->cancelled)
			return ax_send_close(x);
		return 0;
	case AX_ABORT:
		if (x->inflight == 0)
			return ax_send_close(x);
		return 0;
	case AX_FINISH:
		ax_finish(x);
		return 0;
	case AX_IDLE:
	case AX_CLOSE:
	case AX_DONE:
	default:
		return 0;
	}
}

int
sftp_archive_xfer_done(const struct sftp_archive_xfer *x)
{
	return x->state == AX_DONE && x->inflight == 0;
}

int
sftp_archive_xfer_result(const struct sftp_archive_xfer *x,
    const char **msgp)
{
	int r = x->err;

	if (r == 0 && x->cancelled)
		r = FERR_TIMEOUT;
	if (msgp != NULL)
		*msgp = x->err != 0 ? x->msg : x->cancelled ?
		    "interrupted" : "";
	/* A refusal after bytes moved is no reason to fall back. */
	if (r == FERR_NOT_SUPPORTED && x->moved)
		r = FERR_SYSTEM;
	return r;
}

const struct sftp_archive_stats *
sftp_archive_xfer_stats(const struct sftp_archive_xfer *x)
{
	return &x->st;
}

void
sftp_archive_xfer_cancel(struct sftp_archive_xfer *x)
{
	x->cancelled = 1;
	if (!x->have_handle && x->inflight == 0 && x->state != AX_FINISH)
		x->state = AX_DONE;
}
