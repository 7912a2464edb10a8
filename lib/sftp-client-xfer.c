/*
 * Transfers over the SFTP client engine: files and trees, both ways, with
 * many READ/WRITE requests and many files in flight at once.
 *
 * Each file or directory is a job: a small state machine advanced by the
 * replies to its requests.  A job has at most one control request (STAT,
 * OPEN, CLOSE, check-file, ...) outstanding, and any number of data
 * requests as the shared window allows.  Up to max_files jobs run at once,
 * so a tree of small files costs about one round trip per batch of files
 * instead of several per file.
 *
 * The window (data requests in flight, shared by all jobs) starts at 16
 * and grows by one request per reply that found it full, so it doubles
 * every round trip while the pipe is the limit (as TCP's slow start).  It
 * stays within twice the bandwidth-delay product: the best rate replies
 * came at over a round trip times the shortest turnaround of a request.
 * It never shrinks, and is capped by SFTP_XFER_FLIGHT_MAX and the memory
 * budget divided by the request size.  -R fixes it.
 *
 * Resume (SFTP_XFER_RESUME) never appends to a destination whose prefix
 * differs from the source: the prefix is compared first, by sha256 over
 * the range with check-file-handle when the server offers it, else by
 * reading up to four 32 KiB samples of it back.  On a mismatch the job
 * starts over when SFTP_XFER_RESTART is set and fails otherwise.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp.h"
#include "ferry/sftp-client.h"

#define XFER_START_WINDOW	16U
#define XFER_DEFAULT_BUDGET	(64U * 1024U * 1024U)
#define XFER_DEFAULT_FILES	64U
#define XFER_SAMPLE		(32U * 1024U)
#define XFER_SAMPLES		4U
#define XFER_SHA256_LEN		32U

enum xjob_state {
	XS_STAT,	/* source attributes */
	XS_RSTAT,	/* put resume: size of the remote destination */
	XS_OPEN,	/* remote OPEN */
	XS_CHECK,	/* resume: prefix comparison */
	XS_DATA,	/* READ/WRITE */
	XS_FSYNC,	/* put: fsync@openssh.com */
	XS_SETSTAT,	/* put -p: FSETSTAT */
	XS_CLOSE,	/* remote CLOSE */
	XS_VERIFY,	/* after: whole-file hash comparison */
	XS_REMOVE,	/* put atomic without posix-rename: REMOVE target */
	XS_RENAME,	/* put atomic: rename into place */
	XS_MKDIR,	/* put -r: MKDIR */
	XS_OPENDIR,	/* get -r: OPENDIR */
	XS_READDIR,	/* get -r: READDIR */
	XS_DONE,
};

struct xgap {
	uint64_t off;
	uint32_t len;
};

struct xjob {
	struct xjob *next;
	struct sftp_xfer *x;
	int upload;
	int is_dir;
	enum xjob_state state;
	int waiting;		/* a control request is outstanding */
	int failed;
	char *rpath;		/* remote name */
	char *lpath;		/* local name */
	char *wpath;		/* the name written (temporary when atomic) */
	struct sftp_attrs sa;	/* source attributes */
	int have_sa;
	int fd;
	uint8_t handle[256];
	size_t hlen;
	uint64_t size;		/* source size */
	uint64_t start;		/* resume offset */
	uint64_t issue;		/* next offset to request */
	uint64_t done;		/* bytes transferred (progress) */
	uint64_t eof;		/* where READ met EOF (UINT64_MAX: not yet) */
	unsigned int inflight;	/* data requests outstanding */
	struct xgap *gaps;	/* short reads still to fetch */
	size_t ngaps;
	unsigned int samples;	/* sample reads outstanding */
	int mismatch;
	uint8_t hash[XFER_SHA256_LEN];
	DIR *dir;
};

struct xreq {
	struct xjob *j;
	uint64_t off;
	uint32_t len;
	int sample;
	uint64_t sent_ns;	/* when it was queued */
};

struct sftp_xfer {
	struct sftp_client *c;
	struct sftp_xfer_opts o;
	size_t rw;
	unsigned int window, cap;
	unsigned int data_inflight;
	unsigned int active;
	unsigned int failures;
	int fatal;
	struct xjob *jobs;	/* running, in start order */
	struct xjob *queue, **queue_tail;	/* waiting to start */
	/* Window sizing (see the top of the file). */
	uint64_t rtt_ns;		/* shortest request turnaround */
	uint64_t epoch_ns, epoch_bytes;	/* the current rate sample */
	double best_rate;		/* bytes per ns */
	unsigned int logged;		/* window last logged */
};

static int xfer_advance(struct xjob *j);

static uint64_t
xfer_now(const struct sftp_xfer *x)
{
	struct timespec ts;

	if (x->o.clock != NULL)
		return x->o.clock(x->o.clock_ctx);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
xfer_msg(struct sftp_xfer *x, int is_error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
xfer_msg(struct sftp_xfer *x, int is_error, const char *fmt, ...)
{
	char raw[1024], *v;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if ((v = sftp_client_vis(raw)) == NULL)
		return;
	if (x->o.msg != NULL)
		x->o.msg(x->o.arg, is_error, v);
	else
		log_msg(is_error ? LOGL_ERROR : LOGL_INFO, "%s", v);
	free(v);
}

static void
xfer_progress(struct xjob *j, int finished)
{
	struct sftp_xfer *x = j->x;

	if (x->o.progress != NULL && !j->is_dir)
		x->o.progress(x->o.arg, j->upload ? j->lpath : j->rpath,
		    j->done, j->size, finished);
}

/* A job fails: the message says why; the set goes on with other jobs. */
static int
xfer_job_fail(struct xjob *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
xfer_job_fail(struct xjob *j, const char *fmt, ...)
{
	char raw[1024];
	va_list ap;

	if (!j->failed) {
		va_start(ap, fmt);
		vsnprintf(raw, sizeof(raw), fmt, ap);
		va_end(ap);
		xfer_msg(j->x, 1, "%s", raw);
		j->failed = 1;
		j->x->failures++;
	}
	return 0;
}

struct sftp_xfer *
sftp_xfer_new(struct sftp_client *c, const struct sftp_xfer_opts *o)
{
	struct sftp_xfer *x;
	size_t budget;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->c = c;
	x->o = *o;
	x->rw = sftp_client_rw_size(c);
	if (o->req_size != 0 && o->req_size < x->rw)
		x->rw = o->req_size;
	if (x->o.max_files == 0)
		x->o.max_files = XFER_DEFAULT_FILES;
	if (sftp_client_max_handles(c) != 0 &&
	    x->o.max_files > sftp_client_max_handles(c) / 2 + 1)
		x->o.max_files = (unsigned int)
		    (sftp_client_max_handles(c) / 2 + 1);
	budget = o->mem_budget != 0 ? o->mem_budget : XFER_DEFAULT_BUDGET;
	if (budget > SFTP_XFER_FLIGHT_MAX)
		budget = SFTP_XFER_FLIGHT_MAX;
	x->cap = (unsigned int)(budget / x->rw);
	if (x->cap > SFTP_CLIENT_MAX_INFLIGHT / 2)
		x->cap = SFTP_CLIENT_MAX_INFLIGHT / 2;
	if (x->cap < XFER_START_WINDOW)
		x->cap = XFER_START_WINDOW;
	x->window = XFER_START_WINDOW;
	if (o->max_requests != 0) {
		x->window = x->cap = o->max_requests;
		if (x->cap > SFTP_CLIENT_MAX_INFLIGHT / 2)
			x->window = x->cap = SFTP_CLIENT_MAX_INFLIGHT / 2;
	}
	x->queue_tail = &x->queue;
	return x;
}

static void
xfer_job_free(struct xjob *j)
{
	if (j->fd >= 0)
		close(j->fd);
	if (j->dir != NULL)
		closedir(j->dir);
	free(j->rpath);
	free(j->lpath);
	free(j->wpath);
	free(j->gaps);
	free(j);
}

void
sftp_xfer_free(struct sftp_xfer *x)
{
	struct xjob *j, *n;

	if (x == NULL)
		return;
	/*
	 * Jobs with requests outstanding are referenced by the engine's
	 * callbacks: the caller frees the engine first or lets them finish.
	 */
	for (j = x->jobs; j != NULL; j = n) {
		n = j->next;
		xfer_job_free(j);
	}
	for (j = x->queue; j != NULL; j = n) {
		n = j->next;
		xfer_job_free(j);
	}
	free(x);
}

int
sftp_xfer_done(const struct sftp_xfer *x)
{
	return x->fatal != 0 || (x->jobs == NULL && x->queue == NULL);
}

unsigned int
sftp_xfer_failures(const struct sftp_xfer *x)
{
	return x->failures;
}

void
sftp_xfer_cancel(struct sftp_xfer *x)
{
	struct xjob *j, *n;

	for (j = x->queue; j != NULL; j = n) {
		n = j->next;
		xfer_job_free(j);
		x->failures++;
	}
	x->queue = NULL;
	x->queue_tail = &x->queue;
	for (j = x->jobs; j != NULL; j = j->next)
		if (!j->failed)
			xfer_job_fail(j, "Transfer of \"%s\" interrupted",
			    j->upload ? j->lpath : j->rpath);
}

unsigned int
sftp_xfer_window(const struct sftp_xfer *x)
{
	return x->window;
}

static char *
xfer_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	char *p;

	if (asprintf(&p, "%s%s%s", dir, n > 0 && dir[n - 1] == '/' ? "" : "/",
	    name) < 0)
		return NULL;
	return p;
}

static int
xfer_enqueue(struct sftp_xfer *x, int upload, const char *rpath,
    const char *lpath, const struct sftp_attrs *sa)
{
	struct xjob *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return FERR_ALLOC;
	j->x = x;
	j->fd = -1;
	j->upload = upload;
	j->eof = UINT64_MAX;
	if ((j->rpath = strdup(rpath)) == NULL ||
	    (j->lpath = strdup(lpath)) == NULL) {
		xfer_job_free(j);
		return FERR_ALLOC;
	}
	if (sa != NULL) {
		j->sa = *sa;
		j->have_sa = 1;
	}
	*x->queue_tail = j;
	x->queue_tail = &j->next;
	return 0;
}

int
sftp_xfer_get(struct sftp_xfer *x, const char *rpath, const char *lpath)
{
	return xfer_enqueue(x, 0, rpath, lpath, NULL);
}

int
sftp_xfer_get_known(struct sftp_xfer *x, const char *rpath,
    const char *lpath, const struct sftp_attrs *sa)
{
	return xfer_enqueue(x, 0, rpath, lpath, sa);
}

int
sftp_xfer_put(struct sftp_xfer *x, const char *lpath, const char *rpath)
{
	return xfer_enqueue(x, 1, rpath, lpath, NULL);
}

/* ---- Local hashing ---- */

/* sha256 of [0, len) of fd (len UINT64_MAX: to the end). */
static int
xfer_hash_local(int fd, uint64_t len, uint8_t out[XFER_SHA256_LEN])
{
	EVP_MD_CTX *ctx;
	uint8_t *chunk;
	uint64_t pos = 0;
	unsigned int dlen;
	size_t want;
	ssize_t n;
	int r = FERR_LIBCRYPTO;

	if ((chunk = malloc(256 * 1024)) == NULL)
		return FERR_ALLOC;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while (pos < len) {
		want = len - pos < 256 * 1024 ? (size_t)(len - pos) :
		    256 * 1024;
		n = pread(fd, chunk, want, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = FERR_SYSTEM;
			goto out;
		}
		if (n == 0) {
			if (len == UINT64_MAX)
				break;
			r = FERR_EOF;
			goto out;
		}
		if (EVP_DigestUpdate(ctx, chunk, (size_t)n) != 1)
			goto out;
		pos += (uint64_t)n;
	}
	if (EVP_DigestFinal_ex(ctx, out, &dlen) != 1 ||
	    dlen != XFER_SHA256_LEN)
		goto out;
	r = 0;
 out:
	EVP_MD_CTX_free(ctx);
	free(chunk);
	return r;
}

/* ---- Control requests ---- */

static int
xfer_status_fail(struct xjob *j, const struct sftp_client_reply *rep,
    const char *what, const char *name)
{
	return xfer_job_fail(j, "%s \"%s\": %s", what, name,
	    rep->type == SSH_FXP_STATUS ? rep->errmsg : "unexpected reply");
}

/* The reply to a job's control request: advance the state machine. */
static int xfer_ctl_cb(void *arg, const struct sftp_client_reply *rep);

static int
xfer_ctl_path(struct xjob *j, uint8_t type, const char *path)
{
	j->waiting = 1;
	return sftp_client_path(j->x->c, type, path, xfer_ctl_cb, j);
}

static int
xfer_ctl_handle(struct xjob *j, uint8_t type)
{
	j->waiting = 1;
	return sftp_client_handle(j->x->c, type, j->handle, j->hlen,
	    xfer_ctl_cb, j);
}

/* A request with two paths (RENAME, posix-rename). */
static int
xfer_ctl_two_paths(struct xjob *j, uint8_t type, const char *ext,
    const char *a, const char *b2)
{
	struct sftp_client *c = j->x->c;
	struct buf *b;
	int r;

	if ((r = sftp_client_begin(c, type, ext, &b)) != 0)
		return r;
	if ((r = buf_put_cstring(b, a)) != 0 ||
	    (r = buf_put_cstring(b, b2)) != 0) {
		sftp_client_abort(c);
		return r;
	}
	j->waiting = 1;
	return sftp_client_end(c, 0, xfer_ctl_cb, j, NULL);
}

/* MKDIR path with attrs. */
static int
xfer_ctl_mkdir(struct xjob *j, const struct sftp_attrs *a)
{
	struct sftp_client *c = j->x->c;
	struct buf *b;
	int r;

	if ((r = sftp_client_begin(c, SSH_FXP_MKDIR, NULL, &b)) != 0)
		return r;
	if ((r = buf_put_cstring(b, j->rpath)) != 0 ||
	    (r = sftp_attrs_put(b, a)) != 0) {
		sftp_client_abort(c);
		return r;
	}
	j->waiting = 1;
	return sftp_client_end(c, 0, xfer_ctl_cb, j, NULL);
}

/* check-file-name/handle over [start, start+len) with sha256. */
static int
xfer_ctl_checkfile(struct xjob *j, int by_handle, const char *path,
    uint64_t start, uint64_t len)
{
	int r;

	if ((r = sftp_client_begin_checkfile(j->x->c, by_handle ? j->handle :
	    NULL, j->hlen, path, start, len)) != 0)
		return r;
	j->waiting = 1;
	return sftp_client_end(j->x->c, 0, xfer_ctl_cb, j, NULL);
}

/* The digest in a check-file reply, or NULL when it is not sha256. */
static const uint8_t *
xfer_checkfile_digest(const struct sftp_client_reply *rep)
{
	uint8_t d[SFTP_CHECKFILE_SHA256_LEN];

	if (rep->type != SSH_FXP_EXTENDED_REPLY ||
	    sftp_client_checkfile_digest(rep->data, rep->len, d) != 0)
		return NULL;
	return rep->data + (rep->len - SFTP_CHECKFILE_SHA256_LEN);
}

/* ---- Data requests ---- */

static int xfer_data_cb(void *arg, const struct sftp_client_reply *rep);

static int
xfer_issue_read(struct xjob *j, uint64_t off, uint32_t len, int sample)
{
	struct xreq *q;
	int r;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return FERR_ALLOC;
	q->j = j;
	q->off = off;
	q->len = len;
	q->sample = sample;
	q->sent_ns = xfer_now(j->x);
	if ((r = sftp_client_read(j->x->c, j->handle, j->hlen, off, len,
	    xfer_data_cb, q)) != 0) {
		free(q);
		return r;
	}
	j->inflight++;
	if (sample)
		j->samples++;
	else
		j->x->data_inflight++;
	return 0;
}

static int
xfer_issue_write(struct xjob *j)
{
	struct sftp_xfer *x = j->x;
	struct xreq *q;
	uint8_t *p;
	uint32_t len;
	ssize_t n;
	int r;

	len = j->size - j->issue < x->rw ? (uint32_t)(j->size - j->issue) :
	    (uint32_t)x->rw;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return FERR_ALLOC;
	q->j = j;
	q->off = j->issue;
	q->len = len;
	q->sent_ns = xfer_now(x);
	if (sftp_client_deferred(x->c)) {
		/* Read when sent, straight into the channel packet. */
		if ((r = sftp_client_write_fd(x->c, j->handle, j->hlen,
		    j->issue, len, j->fd, j->issue, xfer_data_cb, q)) != 0) {
			free(q);
			return r;
		}
		goto issued;
	}
	/* Read the file straight into the outgoing message. */
	if ((r = sftp_client_write(x->c, j->handle, j->hlen, j->issue, len,
	    &p, xfer_data_cb, q)) != 0) {
		free(q);
		return r;
	}
	do {
		n = pread(j->fd, p, len, (off_t)j->issue);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)len) {
		/* The file shrank or failed: send what we have, then stop. */
		if (n < 0) {
			xfer_job_fail(j, "read \"%s\": %s", j->lpath,
			    strerror(errno));
			n = 0;
		}
		sftp_client_abort(x->c);
		free(q);
		if (n == 0) {
			j->size = j->issue;
			return 0;
		}
		j->size = j->issue + (uint64_t)n;
		return xfer_issue_write(j);
	}
 issued:
	j->issue += len;
	j->inflight++;
	x->data_inflight++;
	return 0;
}

static int
xfer_gap_add(struct xjob *j, uint64_t off, uint32_t len)
{
	struct xgap *g;

	if ((g = reallocarray(j->gaps, j->ngaps + 1, sizeof(*g))) == NULL)
		return FERR_ALLOC;
	j->gaps = g;
	g[j->ngaps].off = off;
	g[j->ngaps].len = len;
	j->ngaps++;
	return 0;
}

/* Compare a sample read back with the local prefix. */
static void
xfer_sample_check(struct xjob *j, const struct xreq *q,
    const struct sftp_client_reply *rep)
{
	uint8_t *local;
	ssize_t n;

	if (rep->type != SSH_FXP_DATA || rep->len != q->len) {
		j->mismatch = 1;
		return;
	}
	if ((local = malloc(q->len)) == NULL) {
		j->mismatch = 1;
		return;
	}
	n = pread(j->fd, local, q->len, (off_t)q->off);
	if (n != (ssize_t)q->len ||
	    CRYPTO_memcmp(local, rep->data, q->len) != 0)
		j->mismatch = 1;
	free(local);
}

/*
 * A data request was answered (before it leaves the count): measure its
 * turnaround, and grow the window by one if the reply found it full,
 * within twice the bandwidth-delay product once that is known.
 */
static void
xfer_reply_window(struct sftp_xfer *x, const struct xreq *q)
{
	uint64_t now = xfer_now(x);
	double bdp;

	if (now > q->sent_ns && (x->rtt_ns == 0 || now - q->sent_ns <
	    x->rtt_ns))
		x->rtt_ns = now - q->sent_ns;
	if (x->o.max_requests != 0 || x->data_inflight < x->window ||
	    x->window >= x->cap)
		return;
	if (x->best_rate > 0) {
		bdp = x->best_rate * (double)x->rtt_ns;
		if ((double)(x->window + 1) * (double)x->rw > 2 * bdp)
			return;
	}
	x->window++;
}

static int
xfer_data_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct xreq *q = arg;
	struct xjob *j = q->j;
	struct sftp_xfer *x = j->x;
	ssize_t n;
	size_t done;
	int r = 0;

	j->inflight--;
	if (rep->type == SSH_FXP_STATUS &&
	    rep->status == SSH_FX_CONNECTION_LOST &&
	    sftp_client_error(x->c) != 0) {
		/* The session is over: the caller reports it once. */
		if (q->sample)
			j->samples--;
		else
			x->data_inflight--;
		if (!j->failed) {
			j->failed = 1;
			x->failures++;
		}
		free(q);
		return 0;
	}
	if (q->sample) {
		j->samples--;
		xfer_sample_check(j, q, rep);
		goto advance;
	}
	xfer_reply_window(x, q);
	x->data_inflight--;
	if (j->failed)
		goto advance;
	if (j->upload) {
		if (rep->type != SSH_FXP_STATUS || rep->status != SSH_FX_OK) {
			xfer_status_fail(j, rep, "write", j->rpath);
			goto advance;
		}
		j->done += q->len;
		x->epoch_bytes += q->len;
		xfer_progress(j, 0);
		goto advance;
	}
	if (rep->type == SSH_FXP_STATUS) {
		if (rep->status == SSH_FX_EOF) {
			if (q->off < j->eof)
				j->eof = q->off;
		} else
			xfer_status_fail(j, rep, "read", j->rpath);
		goto advance;
	}
	/* DATA: at most q->len bytes (the engine checked). */
	for (done = 0; done < rep->len; done += (size_t)n) {
		n = pwrite(j->fd, rep->data + done, rep->len - done,
		    (off_t)(q->off + done));
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			xfer_job_fail(j, "write \"%s\": %s", j->wpath,
			    strerror(n < 0 ? errno : EIO));
			goto advance;
		}
	}
	j->done += rep->len;
	x->epoch_bytes += rep->len;
	if (rep->len < q->len && q->off + rep->len == j->size)
		j->eof = j->size;	/* a short read ending at the size */
	else if (rep->len < q->len && q->off + rep->len < j->eof &&
	    rep->len > 0)
		r = xfer_gap_add(j, q->off + rep->len,
		    q->len - (uint32_t)rep->len);
	else if (rep->len == 0 && q->off < j->eof)
		j->eof = q->off;
	xfer_progress(j, 0);
 advance:
	free(q);
	if (r != 0)
		return r;
	return xfer_advance(j);
}

/* ---- The job state machine ---- */

/* Local destination of a download: open it (resume: keep the prefix). */
static int
xfer_get_open_local(struct xjob *j)
{
	struct sftp_xfer *x = j->x;
	struct stat st;
	mode_t mode = 0666;
	int flags = O_RDWR | O_CREAT | O_CLOEXEC;

	if (j->sa.flags & SSH_FILEXFER_ATTR_PERMISSIONS)
		mode = (mode_t)(j->sa.perm & 0777) | S_IWUSR;
	if (!(x->o.flags & SFTP_XFER_RESUME))
		flags |= O_TRUNC;
	if ((j->fd = open(j->wpath, flags, mode)) < 0)
		return xfer_job_fail(j, "open local \"%s\": %s", j->wpath,
		    strerror(errno));
	if (fstat(j->fd, &st) != 0 || !S_ISREG(st.st_mode))
		return xfer_job_fail(j, "local \"%s\" is not a regular file",
		    j->wpath);
	j->start = (x->o.flags & SFTP_XFER_RESUME) ? (uint64_t)st.st_size : 0;
	if (j->start > j->size)
		return xfer_job_fail(j, "Unable to resume download of \"%s\": "
		    "local file is larger than remote", j->rpath);
	return 0;
}

static void
xfer_set_wpath(struct xjob *j, const char *target)
{
	if (j->x->o.flags & SFTP_XFER_ATOMIC) {
		if (asprintf(&j->wpath, "%s%s", target,
		    SFTP_XFER_PART_SUFFIX) < 0)
			j->wpath = NULL;
	} else
		j->wpath = strdup(target);
}

/* Start comparing the resumed prefix; or go straight to the data. */
static int xfer_issue_samples(struct xjob *j);

static int
xfer_start_check(struct xjob *j)
{
	struct sftp_xfer *x = j->x;

	j->issue = j->done = j->start;
	if (j->start == 0) {
		j->state = XS_DATA;
		return 0;
	}
	j->state = XS_CHECK;
	j->mismatch = 0;
	if (sftp_client_has_checkfile(x->c, "check-file-handle"))
		return xfer_ctl_checkfile(j, 1, NULL, 0, j->start);
	return xfer_issue_samples(j);
}

/* Read back samples of the prefix: the start, the end, two between. */
static int
xfer_issue_samples(struct xjob *j)
{
	uint64_t pos[XFER_SAMPLES], len;
	unsigned int i;
	int r;

	len = j->start < XFER_SAMPLE ? j->start : XFER_SAMPLE;
	pos[0] = 0;
	pos[1] = j->start - len;
	pos[2] = (j->start - len) / 3;
	pos[3] = (j->start - len) / 3 * 2;
	for (i = 0; i < XFER_SAMPLES; i++) {
		if (i > 0 && pos[i] == pos[i - 1])
			continue;
		if ((r = xfer_issue_read(j, pos[i], (uint32_t)len, 1)) != 0)
			return r;
	}
	return 0;
}

/* The prefix comparison finished: go on, start over, or fail. */
static int
xfer_check_result(struct xjob *j)
{
	struct sftp_xfer *x = j->x;
	const char *name = j->upload ? j->rpath : j->lpath;

	if (!j->mismatch) {
		xfer_msg(x, 0, "Resuming %s \"%s\" at %llu bytes",
		    j->upload ? "upload to" : "download to", name,
		    (unsigned long long)j->start);
		j->state = XS_DATA;
		return 0;
	}
	if (!(x->o.flags & SFTP_XFER_RESTART))
		return xfer_job_fail(j, "Cannot resume \"%s\": the part "
		    "already transferred differs from the source", name);
	xfer_msg(x, 0, "\"%s\" differs from the source: starting over",
	    name);
	if (!j->upload && ftruncate(j->fd, 0) != 0)
		return xfer_job_fail(j, "truncate \"%s\": %s", j->wpath,
		    strerror(errno));
	j->start = 0;
	j->issue = j->done = 0;
	j->state = XS_DATA;
	return 0;
}

/* Issue data requests while the window has room. */
static int
xfer_fill(struct xjob *j)
{
	struct sftp_xfer *x = j->x;
	struct xgap g;
	uint32_t len;
	int r;

	while (!j->failed && x->data_inflight < x->window) {
		if (j->upload) {
			if (j->issue >= j->size)
				break;
			if ((r = xfer_issue_write(j)) != 0)
				return r;
			continue;
		}
		if (j->ngaps > 0) {
			g = j->gaps[--j->ngaps];
			if (g.off >= j->eof)
				continue;
			if ((r = xfer_issue_read(j, g.off, g.len, 0)) != 0)
				return r;
			continue;
		}
		if (j->eof != UINT64_MAX)
			break;
		/*
		 * Up to the size; past it one request at a time, to find the
		 * end of a file that grew.
		 */
		if (j->issue > j->size && j->inflight > 0)
			break;
		len = (uint32_t)x->rw;
		if ((r = xfer_issue_read(j, j->issue, len, 0)) != 0)
			return r;
		j->issue += len;
	}
	return 0;
}

static int
xfer_data_finished(struct xjob *j)
{
	if (j->inflight > 0)
		return 0;
	if (j->failed)
		return 1;
	if (j->upload)
		return j->issue >= j->size;
	return j->eof != UINT64_MAX && j->ngaps == 0;
}

/* After the data: local attributes of a download. */
static int
xfer_get_finish_local(struct xjob *j)
{
	struct timespec ts[2];

	if (ftruncate(j->fd, (off_t)j->eof) != 0)
		return xfer_job_fail(j, "truncate \"%s\": %s", j->wpath,
		    strerror(errno));
	if ((j->x->o.flags & SFTP_XFER_FSYNC) && fsync(j->fd) != 0)
		return xfer_job_fail(j, "fsync \"%s\": %s", j->wpath,
		    strerror(errno));
	if (j->x->o.flags & SFTP_XFER_PRESERVE) {
		if ((j->sa.flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
		    fchmod(j->fd, (mode_t)(j->sa.perm & 07777)) != 0)
			xfer_msg(j->x, 1, "chmod \"%s\": %s", j->wpath,
			    strerror(errno));
		if (j->sa.flags & SSH_FILEXFER_ATTR_ACMODTIME) {
			ts[0].tv_sec = j->sa.atime;
			ts[1].tv_sec = j->sa.mtime;
			ts[0].tv_nsec = ts[1].tv_nsec = 0;
			if (futimens(j->fd, ts) != 0)
				xfer_msg(j->x, 1, "set times \"%s\": %s",
				    j->wpath, strerror(errno));
		}
	}
	return 0;
}

/* After CLOSE (and verification): atomic rename, or done. */
static int
xfer_after_verify(struct xjob *j)
{
	struct sftp_xfer *x = j->x;

	if (!(x->o.flags & SFTP_XFER_ATOMIC)) {
		j->state = XS_DONE;
		return 0;
	}
	if (!j->upload) {
		if (rename(j->wpath, j->lpath) != 0)
			return xfer_job_fail(j, "rename \"%s\": %s", j->wpath,
			    strerror(errno));
		j->state = XS_DONE;
		return 0;
	}
	if (!sftp_client_has_ext(x->c, "posix-rename@openssh.com", "1",
	    NULL)) {
		j->state = XS_REMOVE;
		return xfer_ctl_path(j, SSH_FXP_REMOVE, j->rpath);
	}
	j->state = XS_RENAME;
	return xfer_ctl_two_paths(j, SSH_FXP_EXTENDED,
	    "posix-rename@openssh.com", j->wpath, j->rpath);
}

static int
xfer_start_verify(struct xjob *j)
{
	struct sftp_xfer *x = j->x;
	int r;

	if (!(x->o.flags & SFTP_XFER_VERIFY))
		return xfer_after_verify(j);
	if (!sftp_client_has_checkfile(x->c, "check-file-name"))
		return xfer_job_fail(j, "Cannot verify \"%s\": the server "
		    "offers no check-file-name with sha256", j->rpath);
	if ((r = xfer_hash_local(j->fd, UINT64_MAX, j->hash)) != 0)
		return xfer_job_fail(j, "hash \"%s\": %s", j->upload ?
		    j->lpath : j->wpath, err_str(r));
	j->state = XS_VERIFY;
	return xfer_ctl_checkfile(j, 0, j->upload ? j->wpath : j->rpath, 0,
	    0);
}

static int xfer_put_open(struct xjob *j);

/* Start a job: stat the source. */
static int
xfer_begin(struct xjob *j)
{
	struct sftp_xfer *x = j->x;
	struct stat st;
	struct sftp_attrs a;

	if (!j->upload) {
		if (j->have_sa)
			return xfer_advance(j);
		j->state = XS_STAT;
		return xfer_ctl_path(j, SSH_FXP_STAT, j->rpath);
	}
	if (stat(j->lpath, &st) != 0)
		return xfer_job_fail(j, "stat local \"%s\": %s", j->lpath,
		    strerror(errno));
	sftp_attrs_from_stat(&a, &st);
	j->sa = a;
	j->have_sa = 1;
	if (S_ISDIR(st.st_mode)) {
		if (!(x->o.flags & SFTP_XFER_RECURSE))
			return xfer_job_fail(j, "\"%s\" is a directory "
			    "(use -r)", j->lpath);
		j->is_dir = 1;
		j->state = XS_MKDIR;
		memset(&a, 0, sizeof(a));
		a.flags = SSH_FILEXFER_ATTR_PERMISSIONS;
		a.perm = (uint32_t)(st.st_mode & 0777) | S_IRWXU;
		return xfer_ctl_mkdir(j, &a);
	}
	if (!S_ISREG(st.st_mode))
		return xfer_job_fail(j, "\"%s\" is not a regular file",
		    j->lpath);
	if ((j->fd = open(j->lpath, O_RDONLY | O_CLOEXEC)) < 0)
		return xfer_job_fail(j, "open local \"%s\": %s", j->lpath,
		    strerror(errno));
	j->size = (uint64_t)st.st_size;
	xfer_set_wpath(j, j->rpath);
	if (j->wpath == NULL)
		return FERR_ALLOC;
	if (x->o.flags & SFTP_XFER_RESUME) {
		j->state = XS_RSTAT;
		return xfer_ctl_path(j, SSH_FXP_STAT, j->wpath);
	}
	return xfer_put_open(j);
}

/* Queue the children of a local directory for upload. */
static int
xfer_put_children(struct xjob *j)
{
	struct dirent *de;
	char *lp = NULL, *rp = NULL;
	DIR *d;
	int r = 0;

	if ((d = opendir(j->lpath)) == NULL)
		return xfer_job_fail(j, "opendir \"%s\": %s", j->lpath,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((lp = xfer_join(j->lpath, de->d_name)) == NULL ||
		    (rp = xfer_join(j->rpath, de->d_name)) == NULL) {
			r = FERR_ALLOC;
			break;
		}
		if ((r = xfer_enqueue(j->x, 1, rp, lp, NULL)) != 0)
			break;
		free(lp);
		free(rp);
		lp = rp = NULL;
	}
	free(lp);
	free(rp);
	closedir(d);
	return r;
}

/* Queue the entries of a READDIR reply for download. */
static int
xfer_get_children(struct xjob *j, const struct sftp_client_reply *rep)
{
	const struct sftp_client_name *n;
	char *lp = NULL, *rp = NULL;
	uint32_t i;
	int r = 0;

	for (i = 0; i < rep->count; i++) {
		n = &rep->names[i];
		/* The engine refused "/" and ""; "." and ".." never go. */
		if (strcmp(n->filename, ".") == 0 ||
		    strcmp(n->filename, "..") == 0)
			continue;
		if ((n->attrs.flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
		    !S_ISDIR(n->attrs.perm) && !S_ISREG(n->attrs.perm)) {
			xfer_msg(j->x, 1, "download \"%s/%s\": not a regular "
			    "file", j->rpath, n->filename);
			continue;
		}
		if ((lp = xfer_join(j->lpath, n->filename)) == NULL ||
		    (rp = xfer_join(j->rpath, n->filename)) == NULL) {
			r = FERR_ALLOC;
			break;
		}
		r = xfer_enqueue(j->x, 0, rp, lp,
		    (n->attrs.flags & SSH_FILEXFER_ATTR_PERMISSIONS) ?
		    &n->attrs : NULL);
		if (r != 0)
			break;
		free(lp);
		free(rp);
		lp = rp = NULL;
	}
	free(lp);
	free(rp);
	return r;
}

/* Source attributes known: start the download proper. */
static int
xfer_get_start(struct xjob *j)
{
	struct sftp_xfer *x = j->x;

	if ((j->sa.flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
	    S_ISDIR(j->sa.perm)) {
		if (!(x->o.flags & SFTP_XFER_RECURSE))
			return xfer_job_fail(j, "\"%s\" is a directory "
			    "(use -r)", j->rpath);
		j->is_dir = 1;
		if (mkdir(j->lpath, 0777) != 0 && errno != EEXIST)
			return xfer_job_fail(j, "mkdir \"%s\": %s", j->lpath,
			    strerror(errno));
		if ((x->o.flags & SFTP_XFER_PRESERVE) &&
		    (j->sa.flags & SSH_FILEXFER_ATTR_PERMISSIONS))
			(void)chmod(j->lpath, (mode_t)(j->sa.perm & 07777));
		j->state = XS_OPENDIR;
		return xfer_ctl_path(j, SSH_FXP_OPENDIR, j->rpath);
	}
	if ((j->sa.flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
	    !S_ISREG(j->sa.perm))
		return xfer_job_fail(j, "Cannot download non-regular file: "
		    "%s", j->rpath);
	j->size = (j->sa.flags & SSH_FILEXFER_ATTR_SIZE) ? j->sa.size : 0;
	xfer_set_wpath(j, j->lpath);
	if (j->wpath == NULL)
		return FERR_ALLOC;
	/* The local file is made only once the remote one opened. */
	j->state = XS_OPEN;
	j->waiting = 1;
	return sftp_client_open(x->c, j->rpath, SSH_FXF_READ, NULL,
	    xfer_ctl_cb, j);
}

static int
xfer_put_open(struct xjob *j)
{
	struct sftp_attrs a;
	uint32_t pflags = SSH_FXF_WRITE | SSH_FXF_CREAT;

	memset(&a, 0, sizeof(a));
	a.flags = SSH_FILEXFER_ATTR_PERMISSIONS;
	a.perm = j->sa.perm & 0777;
	if (j->start > 0)
		pflags |= SSH_FXF_READ;
	else
		pflags |= SSH_FXF_TRUNC;
	j->state = XS_OPEN;
	j->waiting = 1;
	return sftp_client_open(j->x->c, j->wpath, pflags, &a, xfer_ctl_cb,
	    j);
}

static int
xfer_put_after_data(struct xjob *j)
{
	struct sftp_xfer *x = j->x;
	struct sftp_attrs a;
	struct buf *b;
	int r;

	if (j->state == XS_DATA && (x->o.flags & SFTP_XFER_FSYNC) &&
	    sftp_client_has_ext(x->c, "fsync@openssh.com", "1", NULL)) {
		j->state = XS_FSYNC;
		if ((r = sftp_client_begin(x->c, SSH_FXP_EXTENDED,
		    "fsync@openssh.com", &b)) != 0)
			return r;
		if ((r = buf_put_string(b, j->handle, j->hlen)) != 0) {
			sftp_client_abort(x->c);
			return r;
		}
		j->waiting = 1;
		return sftp_client_end(x->c, 0, xfer_ctl_cb, j, NULL);
	}
	if ((j->state == XS_DATA || j->state == XS_FSYNC) &&
	    (x->o.flags & SFTP_XFER_PRESERVE)) {
		j->state = XS_SETSTAT;
		a = j->sa;
		a.flags = SSH_FILEXFER_ATTR_PERMISSIONS |
		    SSH_FILEXFER_ATTR_ACMODTIME;
		a.perm &= 07777;
		if ((r = sftp_client_begin(x->c, SSH_FXP_FSETSTAT, NULL,
		    &b)) != 0)
			return r;
		if ((r = buf_put_string(b, j->handle, j->hlen)) != 0 ||
		    (r = sftp_attrs_put(b, &a)) != 0) {
			sftp_client_abort(x->c);
			return r;
		}
		j->waiting = 1;
		return sftp_client_end(x->c, 0, xfer_ctl_cb, j, NULL);
	}
	j->state = XS_CLOSE;
	return xfer_ctl_handle(j, SSH_FXP_CLOSE);
}

static int
xfer_store_handle(struct xjob *j, const struct sftp_client_reply *rep)
{
	if (rep->type != SSH_FXP_HANDLE)
		return -1;
	memcpy(j->handle, rep->data, rep->len);
	j->hlen = rep->len;
	return 0;
}

static int
xfer_ctl_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct xjob *j = arg;
	struct sftp_xfer *x = j->x;
	const uint8_t *d;
	int ok = rep->type == SSH_FXP_STATUS && rep->status == SSH_FX_OK;
	int r = 0;

	j->waiting = 0;
	if (rep->type == SSH_FXP_STATUS &&
	    rep->status == SSH_FX_CONNECTION_LOST &&
	    sftp_client_error(x->c) != 0) {
		/* The session is over: the caller reports it once. */
		j->failed = 1;
		x->failures++;
		return 0;
	}
	switch (j->state) {
	case XS_STAT:
		if (rep->type != SSH_FXP_ATTRS) {
			xfer_job_fail(j, "File \"%s\" not found.", j->rpath);
			break;
		}
		j->sa = rep->attrs;
		j->have_sa = 1;
		r = xfer_get_start(j);
		break;
	case XS_RSTAT:
		j->start = 0;
		if (rep->type == SSH_FXP_ATTRS &&
		    (rep->attrs.flags & SSH_FILEXFER_ATTR_SIZE))
			j->start = rep->attrs.size;
		if (j->start > j->size) {
			xfer_job_fail(j, "Unable to resume upload of \"%s\": "
			    "destination is larger than source", j->lpath);
			break;
		}
		r = xfer_put_open(j);
		break;
	case XS_OPEN:
		if (xfer_store_handle(j, rep) != 0) {
			xfer_status_fail(j, rep, "open", j->upload ?
			    j->wpath : j->rpath);
			break;
		}
		if (!j->upload && (xfer_get_open_local(j) != 0 || j->failed))
			break;
		r = xfer_start_check(j);
		break;
	case XS_CHECK:
		if ((d = xfer_checkfile_digest(rep)) == NULL) {
			/* The hash is unavailable: compare samples. */
			xfer_msg(x, 0, "check-file failed: comparing samples");
			r = xfer_issue_samples(j);
			break;
		}
		if ((r = xfer_hash_local(j->fd, j->start, j->hash)) != 0) {
			j->mismatch = 1;
			r = 0;
		} else if (CRYPTO_memcmp(d, j->hash, XFER_SHA256_LEN) != 0)
			j->mismatch = 1;
		break;
	case XS_FSYNC:
	case XS_SETSTAT:
		if (!ok)
			xfer_msg(x, 1, "%s \"%s\": %s", j->state == XS_FSYNC ?
			    "fsync" : "setstat", j->rpath,
			    rep->type == SSH_FXP_STATUS ? rep->errmsg : "?");
		r = xfer_put_after_data(j);
		break;
	case XS_CLOSE:
		j->hlen = 0;
		if (j->is_dir) {
			j->state = XS_DONE;
			break;
		}
		if (!ok) {
			xfer_status_fail(j, rep, "close", j->rpath);
			break;
		}
		if (!j->upload && (r = xfer_get_finish_local(j)) != 0)
			break;
		if (!j->failed)
			r = xfer_start_verify(j);
		break;
	case XS_VERIFY:
		if ((d = xfer_checkfile_digest(rep)) == NULL) {
			xfer_job_fail(j, "Cannot verify \"%s\": check-file "
			    "failed", j->rpath);
			break;
		}
		if (CRYPTO_memcmp(d, j->hash, XFER_SHA256_LEN) != 0) {
			xfer_job_fail(j, "Verification of \"%s\" failed: "
			    "sha256 differs", j->rpath);
			break;
		}
		xfer_msg(x, 0, "Verified \"%s\": sha256 matches", j->rpath);
		r = xfer_after_verify(j);
		break;
	case XS_REMOVE:
		j->state = XS_RENAME;
		r = xfer_ctl_two_paths(j, SSH_FXP_RENAME, NULL, j->wpath,
		    j->rpath);
		break;
	case XS_RENAME:
		if (!ok) {
			xfer_status_fail(j, rep, "rename", j->wpath);
			break;
		}
		j->state = XS_DONE;
		break;
	case XS_MKDIR:
		/* An existing directory is fine: its children follow. */
		if ((r = xfer_put_children(j)) == 0)
			j->state = XS_DONE;
		break;
	case XS_OPENDIR:
		if (xfer_store_handle(j, rep) != 0) {
			xfer_status_fail(j, rep, "opendir", j->rpath);
			break;
		}
		j->state = XS_READDIR;
		r = xfer_ctl_handle(j, SSH_FXP_READDIR);
		break;
	case XS_READDIR:
		if (rep->type == SSH_FXP_NAME) {
			if ((r = xfer_get_children(j, rep)) == 0)
				r = xfer_ctl_handle(j, SSH_FXP_READDIR);
			break;
		}
		if (rep->status != SSH_FX_EOF)
			xfer_status_fail(j, rep, "readdir", j->rpath);
		j->state = XS_CLOSE;
		r = xfer_ctl_handle(j, SSH_FXP_CLOSE);
		break;
	default:
		r = FERR_INTERNAL;
		break;
	}
	if (r != 0)
		return r;
	return xfer_advance(j);
}

/*
 * Move a job along after a reply or when the window opened: data
 * requests, the end of the data phase, and releasing a finished job.
 */
static int
xfer_advance(struct xjob *j)
{
	int r;

	if (j->waiting)
		return 0;
	if (j->failed && j->hlen > 0 && j->inflight == 0 &&
	    j->state != XS_CLOSE) {
		/* Release the remote handle of a failed file. */
		j->state = XS_CLOSE;
		j->is_dir = 1;	/* nothing to finish after CLOSE */
		return xfer_ctl_handle(j, SSH_FXP_CLOSE);
	}
	if (j->failed) {
		if (j->inflight == 0)
			j->state = XS_DONE;
		return 0;
	}
	switch (j->state) {
	case XS_STAT:
		if (!j->upload && j->have_sa)
			return xfer_get_start(j);
		return 0;
	case XS_CHECK:
		if (j->inflight > 0)
			return 0;
		return xfer_check_result(j) != 0 ? FERR_INTERNAL :
		    xfer_advance(j);
	case XS_DATA:
		if ((r = xfer_fill(j)) != 0)
			return r;
		if (!xfer_data_finished(j))
			return 0;
		if (j->failed)
			return xfer_advance(j);
		xfer_progress(j, 1);
		if (j->upload)
			return xfer_put_after_data(j);
		j->state = XS_CLOSE;
		return xfer_ctl_handle(j, SSH_FXP_CLOSE);
	default:
		return 0;
	}
}

/*
 * The rate sample: the bytes replies brought over at least one round
 * trip; the best such rate bounds the window (xfer_reply_window).
 */
static void
xfer_adapt(struct sftp_xfer *x)
{
	uint64_t now = xfer_now(x), dt;
	double rate;

	/* Samples begin with the first reply, not with the idle start. */
	if (x->o.max_requests != 0 || x->rtt_ns == 0)
		return;
	if (x->epoch_ns == 0 || now < x->epoch_ns) {
		x->epoch_ns = now;
		x->epoch_bytes = 0;
		return;
	}
	dt = now - x->epoch_ns;
	if (dt < x->rtt_ns || dt == 0)
		return;
	rate = (double)x->epoch_bytes / (double)dt;
	if (rate > x->best_rate)
		x->best_rate = rate;
	if (x->window != x->logged) {
		log_debug2("sftp: %.0f B/s, turnaround %llu us: window %u "
		    "requests", rate * 1e9,
		    (unsigned long long)(x->rtt_ns / 1000), x->window);
		x->logged = x->window;
	}
	x->epoch_ns = now;
	x->epoch_bytes = 0;
}

int
sftp_xfer_step(struct sftp_xfer *x)
{
	struct xjob *j, **jp;
	int r;

	if (x->fatal != 0)
		return x->fatal;
	if (sftp_client_error(x->c) != 0) {
		x->fatal = sftp_client_error(x->c);
		return x->fatal;
	}
	xfer_adapt(x);
	/* Release finished jobs. */
	for (jp = &x->jobs; (j = *jp) != NULL;) {
		if (j->state == XS_DONE && !j->waiting && j->inflight == 0) {
			*jp = j->next;
			x->active--;
			xfer_job_free(j);
		} else
			jp = &j->next;
	}
	/* Start waiting jobs while there is room. */
	while (x->queue != NULL && x->active < x->o.max_files) {
		j = x->queue;
		if ((x->queue = j->next) == NULL)
			x->queue_tail = &x->queue;
		j->next = x->jobs;
		x->jobs = j;
		x->active++;
		if ((r = xfer_begin(j)) != 0) {
			x->fatal = r;
			return r;
		}
	}
	/* Give the window to running jobs, oldest first. */
	for (j = x->jobs; j != NULL; j = j->next) {
		if ((r = xfer_advance(j)) != 0) {
			x->fatal = r;
			return r;
		}
	}
	return 0;
}
