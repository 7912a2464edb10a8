/*
 * The SFTP client engine (protocol version 3 with OpenSSH's extensions),
 * sans-I/O like the server engine: requests are encoded into an output
 * buffer the caller sends over whatever byte channel it owns (pipes to an
 * ssh program, a channel of Ferry's own SSH client, a unit test pumping
 * bytes to the server engine), and the bytes the caller receives go in
 * through sftp_client_input(), which parses every complete reply and
 * hands it to the callback registered with its request.
 *
 * Replies may arrive in any order.  The engine keeps the table of
 * outstanding request ids and ends the session (FERR_PROTOCOL, after
 * which every call fails) on anything a correct server never sends: a
 * reply to an unknown or already answered id, a reply type the request
 * cannot have, DATA longer than the READ asked for, a malformed message
 * or one above SFTP_MAX_MSG.  READDIR replies are checked too: a name
 * that is empty or contains '/' is a hostile server's attempt to escape
 * the destination directory and also ends the session.
 *
 * On top of the request layer, sftp-client-xfer.c provides transfers
 * (files and trees, both directions) scheduled many requests and many
 * files at a time; see struct sftp_xfer below.
 */
#ifndef FERRY_SFTP_CLIENT_H
#define FERRY_SFTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"
#include "ferry/sftp.h"

/* READ/WRITE size when the server does not send limits@openssh.com. */
#define SFTP_CLIENT_DEFAULT_RW	(32U * 1024U)
/* Most requests the engine tracks at once. */
#define SFTP_CLIENT_MAX_INFLIGHT	4096U

/* One entry of a NAME reply. */
struct sftp_client_name {
	char *filename;
	char *longname;
	struct sftp_attrs attrs;
};

/* A parsed reply, valid only during the callback it is passed to. */
struct sftp_client_reply {
	uint8_t type;		/* SSH_FXP_STATUS, _HANDLE, _DATA, ... */
	uint32_t id;
	/* SSH_FXP_STATUS: code and message (NUL-terminated, not sanitised) */
	uint32_t status;
	const char *errmsg;
	/* SSH_FXP_HANDLE, SSH_FXP_DATA, SSH_FXP_EXTENDED_REPLY: the bytes */
	const uint8_t *data;
	size_t len;
	/* SSH_FXP_ATTRS */
	struct sftp_attrs attrs;
	/* SSH_FXP_NAME */
	struct sftp_client_name *names;
	uint32_t count;
};

/*
 * Called once for the reply to a request.  Returning a negative code ends
 * sftp_client_input() with that code (the session stays usable unless the
 * code is FERR_PROTOCOL); return 0 otherwise.
 */
typedef int sftp_client_cb(void *arg, const struct sftp_client_reply *rep);

struct sftp_client;

/*
 * A new engine with SSH_FXP_INIT already queued in its output.  NULL when
 * out of memory.
 */
struct sftp_client *sftp_client_new(void);

/* Free the engine; callbacks of outstanding requests are not called. */
void sftp_client_free(struct sftp_client *c);

/* The output buffer: send its bytes and buf_consume() what was sent. */
struct buf *sftp_client_output(struct sftp_client *c);

/*
 * Feed len received bytes and dispatch every complete reply.  Returns 0,
 * the first negative code a callback returned, or FERR_PROTOCOL when the
 * server broke the protocol (the session is then over: see
 * sftp_client_error()).
 */
int sftp_client_input(struct sftp_client *c, const uint8_t *data,
    size_t len) FERRY_WUR;

/*
 * The server closed its side: outstanding requests fail with
 * FERR_CONN_CLOSED (the session ends).  Partial message bytes are
 * discarded.
 */
void sftp_client_eof(struct sftp_client *c);

/* Whether SSH_FXP_VERSION was received. */
int sftp_client_ready(const struct sftp_client *c);

/*
 * Why the session ended (FERR_PROTOCOL, FERR_CONN_CLOSED) or 0 while it
 * runs; sftp_client_error_msg() is a sanitised sentence for the user.
 */
int sftp_client_error(const struct sftp_client *c);
const char *sftp_client_error_msg(const struct sftp_client *c);

/* Outstanding requests. */
unsigned int sftp_client_inflight(const struct sftp_client *c);

/* The server's protocol version (0 before VERSION). */
uint32_t sftp_client_version(const struct sftp_client *c);

/*
 * Whether the server advertised extension name (with data starting with
 * "ver" unless ver is NULL, as "2" for statvfs@openssh.com); the data
 * string goes to *datap when not NULL.
 */
int sftp_client_has_ext(const struct sftp_client *c, const char *name,
    const char *ver, const char **datap);

/*
 * Largest READ/WRITE payload to ask for: limits@openssh.com's values once
 * sftp_client_set_limits() stored them (at most SFTP_MAX_RW), else
 * SFTP_CLIENT_DEFAULT_RW.  Requests are clamped to this.
 */
size_t sftp_client_rw_size(const struct sftp_client *c);
uint64_t sftp_client_max_handles(const struct sftp_client *c);

/*
 * Store the limits@openssh.com reply body (four uint64: message, read,
 * write, open handles; 0 = no limit).  FERR_FORMAT on a malformed body.
 */
int sftp_client_set_limits(struct sftp_client *c, const uint8_t *data,
    size_t len) FERRY_WUR;

/*
 * Build a request: sftp_client_begin() opens a message of type (for
 * SSH_FXP_EXTENDED it also appends the extension name ext) and gives the
 * output buffer in *bp for the caller to append the fields;
 * sftp_client_end() closes it and registers cb(arg) for the reply.  For
 * SSH_FXP_READ pass the requested length as maxdata (longer DATA ends the
 * session).  FERR_NO_SPACE when SFTP_CLIENT_MAX_INFLIGHT requests are
 * outstanding, FERR_CONN_CLOSED after the session ended.  *idp (may be
 * NULL) receives the id.  sftp_client_abort() drops an open request.
 */
int sftp_client_begin(struct sftp_client *c, uint8_t type, const char *ext,
    struct buf **bp) FERRY_WUR;
int sftp_client_end(struct sftp_client *c, uint32_t maxdata,
    sftp_client_cb *cb, void *arg, uint32_t *idp) FERRY_WUR;
void sftp_client_abort(struct sftp_client *c);

/*
 * check-file (draft-ietf-secsh-filexfer-09 9.1.2) with sha256 alone:
 * whether the server offers which ("check-file-handle" or
 * "check-file-name") with sha256; begin a request over [start,
 * start+len) (len 0: to the end) of the open file h (hlen bytes) or,
 * when h is NULL, of path, then send it with sftp_client_end() (nothing
 * is left open on an error); the one digest of a reply's data
 * (EXTENDED_REPLY): 0, or FERR_FORMAT when it is anything else.
 */
#define SFTP_CHECKFILE_SHA256_LEN	32U
int sftp_client_has_checkfile(const struct sftp_client *c,
    const char *which);
int sftp_client_begin_checkfile(struct sftp_client *c, const uint8_t *h,
    size_t hlen, const char *path, uint64_t start, uint64_t len) FERRY_WUR;
int sftp_client_checkfile_digest(const uint8_t *data, size_t len,
    uint8_t out[SFTP_CHECKFILE_SHA256_LEN]);

/* Convenience builders: one path argument (STAT, LSTAT, REALPATH, ...). */
int sftp_client_path(struct sftp_client *c, uint8_t type, const char *path,
    sftp_client_cb *cb, void *arg) FERRY_WUR;
/* One handle argument (CLOSE, FSTAT, READDIR). */
int sftp_client_handle(struct sftp_client *c, uint8_t type,
    const uint8_t *h, size_t hlen, sftp_client_cb *cb, void *arg) FERRY_WUR;
/* OPEN path with pflags and attrs (NULL: none). */
int sftp_client_open(struct sftp_client *c, const char *path,
    uint32_t pflags, const struct sftp_attrs *a, sftp_client_cb *cb,
    void *arg) FERRY_WUR;
/* READ len bytes at off. */
int sftp_client_read(struct sftp_client *c, const uint8_t *h, size_t hlen,
    uint64_t off, uint32_t len, sftp_client_cb *cb, void *arg) FERRY_WUR;
/* WRITE len bytes at off; *datap gets where to put them (caller fills). */
int sftp_client_write(struct sftp_client *c, const uint8_t *h, size_t hlen,
    uint64_t off, uint32_t len, uint8_t **datap, sftp_client_cb *cb,
    void *arg) FERRY_WUR;

/*
 * Uploads without a copy: sftp_client_write_fd() queues a WRITE whose
 * len data bytes are read from fd at foff only when the output is copied
 * out (the engine keeps a duplicate of fd until then), so a sender can
 * read file data straight into its packet.  Allowed only once the sender
 * said, with sftp_client_allow_deferred(c, 1), that it takes the output
 * with sftp_client_output_copy() (len bytes from the front into dst, file
 * data read in place; then buf_consume() them) or makes the front len
 * bytes real in the buffer with sftp_client_output_fill() before sending
 * from it (both: FERR_ARGUMENT while a request is being built).  When
 * the file yields fewer bytes than promised (it shrank, or read failed)
 * zeros are sent in their place and the WRITE's reply becomes an
 * SSH_FX_FAILURE STATUS whatever the server said.
 * sftp_client_deferred() says whether the sender allowed it.
 */
void sftp_client_allow_deferred(struct sftp_client *c, int on);
int sftp_client_deferred(const struct sftp_client *c);
int sftp_client_write_fd(struct sftp_client *c, const uint8_t *h,
    size_t hlen, uint64_t off, uint32_t len, int fd, uint64_t foff,
    sftp_client_cb *cb, void *arg) FERRY_WUR;
int sftp_client_output_copy(struct sftp_client *c, uint8_t *dst,
    size_t len) FERRY_WUR;
int sftp_client_output_fill(struct sftp_client *c, size_t len) FERRY_WUR;

/* An SSH_FX_* code as the errno the local side reports it with. */
int sftp_client_status_errno(uint32_t status);

/*
 * Make s safe to print: control characters (below 0x20) and DEL become
 * \ooo octal escapes, as vis(3) would.  Returns an allocated
 * string (NULL when out of memory).
 */
char *sftp_client_vis(const char *s);

/* ---- Transfers (lib/sftp-client-xfer.c) ---- */

/* Transfer flags. */
#define SFTP_XFER_RESUME	0x01	/* append to a verified prefix */
#define SFTP_XFER_PRESERVE	0x02	/* copy modes and times (-p) */
#define SFTP_XFER_ATOMIC	0x04	/* write "target.ferry-part", rename */
#define SFTP_XFER_VERIFY	0x08	/* compare sha256 of both ends after */
#define SFTP_XFER_FSYNC		0x10	/* fsync the destination (-f) */
#define SFTP_XFER_RECURSE	0x20	/* directories too (-r) */
#define SFTP_XFER_RESTART	0x40	/* on prefix mismatch start over */

/* Suffix of the temporary file atomic transfers write. */
#define SFTP_XFER_PART_SUFFIX	".ferry-part"

struct sftp_xfer;

/*
 * Most data an adaptive window keeps in flight: what OpenSSH's and our
 * channel windows grow to at most, so requests never outrun the window
 * a peer announces.
 */
#define SFTP_XFER_FLIGHT_MAX	(16U * 1024U * 1024U)

/* Progress of one file: name (as the user gave it), bytes done and total. */
typedef void sftp_xfer_progress_fn(void *arg, const char *name,
    uint64_t done, uint64_t total, int finished);

/*
 * Messages for the user (errors of single files in a tree, resume notes):
 * the text is sanitised.
 */
typedef void sftp_xfer_msg_fn(void *arg, int is_error, const char *msg);

struct sftp_xfer_opts {
	unsigned int flags;		/* SFTP_XFER_* */
	size_t req_size;		/* 0: server limit (or 32 KiB) */
	unsigned int max_requests;	/* 0: adaptive */
	size_t mem_budget;		/* bytes in flight cap; 0: 64 MiB */
	unsigned int max_files;		/* files in flight; 0: 64 */
	sftp_xfer_progress_fn *progress;
	sftp_xfer_msg_fn *msg;
	void *arg;
	/* Monotonic clock in ns for the window; NULL: the system's. */
	uint64_t (*clock)(void *ctx);
	void *clock_ctx;
};

/*
 * A transfer set: files (or trees, with SFTP_XFER_RECURSE) queued with
 * sftp_xfer_get()/sftp_xfer_put(), run concurrently while the caller
 * pumps the engine (sends the output, feeds input, calls
 * sftp_xfer_step()).  Local files are read and written by the set with
 * pread/pwrite; remote names from READDIR are checked (no "/", never "."
 * or "..") before a local path is made from them.
 */
struct sftp_xfer *sftp_xfer_new(struct sftp_client *c,
    const struct sftp_xfer_opts *o);
void sftp_xfer_free(struct sftp_xfer *x);

/* Queue a download of remote path rpath to local path lpath. */
int sftp_xfer_get(struct sftp_xfer *x, const char *rpath,
    const char *lpath) FERRY_WUR;
/*
 * As sftp_xfer_get() when the caller has the attributes a STAT of rpath
 * returned (sa): the transfer starts with OPEN, not with its own STAT.
 */
int sftp_xfer_get_known(struct sftp_xfer *x, const char *rpath,
    const char *lpath, const struct sftp_attrs *sa) FERRY_WUR;
/* Queue an upload of local path lpath to remote path rpath. */
int sftp_xfer_put(struct sftp_xfer *x, const char *lpath,
    const char *rpath) FERRY_WUR;

/*
 * Issue every request the scheduler allows now.  Returns 0 or a fatal
 * code (session over, out of memory).
 */
int sftp_xfer_step(struct sftp_xfer *x) FERRY_WUR;

/*
 * Stop: queued files are dropped, running ones fail (their outstanding
 * requests are still answered and their handles closed: keep pumping
 * until sftp_xfer_done()).  Partial files stay for a later resume.
 */
void sftp_xfer_cancel(struct sftp_xfer *x);

/* Whether every queued transfer has finished (successfully or not). */
int sftp_xfer_done(const struct sftp_xfer *x);

/* Files that failed; 0 when everything was transferred. */
unsigned int sftp_xfer_failures(const struct sftp_xfer *x);

/*
 * Requests currently allowed in flight (for tests and -v).  Adaptive
 * windows start at 16 requests, grow by one per reply that finds the
 * window full (doubling per round trip) while staying within twice the
 * measured bandwidth-delay product (the best delivery rate over a round
 * trip times the shortest request turnaround), and never pass
 * SFTP_XFER_FLIGHT_MAX bytes or the memory budget.
 */
unsigned int sftp_xfer_window(const struct sftp_xfer *x);

#endif /* FERRY_SFTP_CLIENT_H */
