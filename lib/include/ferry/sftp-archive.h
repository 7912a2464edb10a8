/*
 * Directory trees as one archive stream: the tree-archive@ferry SFTP
 * extension (man/ferry-sftp-archive.7 is its specification), the codec
 * both sides use, and the client transfer that drives it.
 *
 * The stream is a pax archive (libarchive), optionally gzip-compressed.
 * The sender walks a directory descriptor without ever following a
 * symbolic link; the receiver spools the stream in an unnamed file and
 * then extracts it entry by entry below a directory descriptor, opening
 * every parent component with O_NOFOLLOW | O_DIRECTORY, so no entry can
 * name, or write through, anything outside that directory.  Absolute
 * names, ".." components, hard links, device nodes, FIFOs and sockets
 * are refused (the last three kinds unless the caller allows them).
 */
#ifndef FERRY_SFTP_ARCHIVE_H
#define FERRY_SFTP_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/sftp-client.h"

/* The extension: request name, and the version the server advertises. */
#define SFTP_ARCHIVE_EXT	"tree-archive@ferry"
#define SFTP_ARCHIVE_EXT_VER	"1"

/* Operations of the open request. */
#define SFTP_ARCHIVE_OP_CREATE	1U	/* server sends a tree: READ it */
#define SFTP_ARCHIVE_OP_EXTRACT	2U	/* server receives: WRITE to it */
#define SFTP_ARCHIVE_OP_SCAN	3U	/* count files and bytes of a tree */

/* Flags (wire flags are the low byte; the rest are local policy). */
#define SFTP_ARCHIVE_PRESERVE	0x01U	/* modes and times (-p) */
#define SFTP_ARCHIVE_GZIP	0x02U	/* the stream is gzip-compressed */
#define SFTP_ARCHIVE_WIRE_MASK	0x03U
#define SFTP_ARCHIVE_SYMLINKS	0x0100U	/* create symbolic links */
#define SFTP_ARCHIVE_HARDLINKS	0x0200U	/* create hard links (inside) */
#define SFTP_ARCHIVE_SPECIAL	0x0400U	/* FIFOs and device nodes */
#define SFTP_ARCHIVE_OWNER	0x0800U	/* owners (only when root) */
#define SFTP_ARCHIVE_ANYFORMAT	0x1000U	/* a local file: any format */
#define SFTP_ARCHIVE_NOSPACE	0x2000U	/* skip the free-space check */

/* Deepest directory nesting the sender walks. */
#define SFTP_ARCHIVE_MAX_DEPTH	512

/* Counters of a stream. */
struct sftp_archive_stats {
	uint64_t files;		/* regular files */
	uint64_t dirs;
	uint64_t links;		/* symbolic and hard links */
	uint64_t other;		/* special files (created or skipped) */
	uint64_t bytes;		/* file data bytes */
	uint64_t stream;	/* archive stream bytes */
};

/* ---- Sender: a directory tree as pax bytes ---- */

struct sftp_archive_src;

/*
 * A sender of the tree below the directory descriptor dirfd (taken: it
 * is closed by sftp_archive_src_free) with flags (SFTP_ARCHIVE_GZIP).
 * Entries are named relative to dirfd, children after their directory,
 * sorted by name.  NULL with errno set on failure.
 */
struct sftp_archive_src *sftp_archive_src_new(int dirfd, unsigned int flags);

/*
 * A sender that copies the bytes of fd (taken) as they are: for an
 * archive prepared beforehand.
 */
struct sftp_archive_src *sftp_archive_src_from_fd(int fd);

/*
 * Fill buf with up to len stream bytes; *nout is less than len only at
 * the end of the stream (0 once it has ended).  Returns 0, or
 * FERR_SYSTEM/FERR_ALLOC/FERR_FORMAT with a sentence in
 * sftp_archive_src_error().
 */
int sftp_archive_src_read(struct sftp_archive_src *s, uint8_t *buf,
    size_t len, size_t *nout) FERRY_WUR;
const char *sftp_archive_src_error(const struct sftp_archive_src *s);
const struct sftp_archive_stats *sftp_archive_src_stats(
    const struct sftp_archive_src *s);
void sftp_archive_src_free(struct sftp_archive_src *s);

/* ---- Receiver: extraction below a directory ---- */

struct sftp_archive_extract_opts {
	unsigned int flags;	/* SFTP_ARCHIVE_* */
	uint64_t max_bytes;	/* cap on the sum of file sizes; 0: none */
	/* Called after each entry (may be NULL). */
	void (*progress)(void *arg, const struct sftp_archive_stats *st);
	void *arg;
};

/*
 * Extract the archive held in fd (read from offset 0) below the
 * directory descriptor dirfd (neither is closed).  Stops at the first
 * refused or failing entry: returns FERR_PERMISSION (a hostile or
 * forbidden entry), FERR_NO_SPACE (size limit or free space), FERR_FORMAT
 * (not a valid archive) or FERR_SYSTEM, with a sentence naming the entry
 * in errbuf.  st (may be NULL) receives the counters.
 */
int sftp_archive_extract(int fd, int dirfd,
    const struct sftp_archive_extract_opts *o, struct sftp_archive_stats *st,
    char *errbuf, size_t errlen) FERRY_WUR;

/*
 * Count the tree below dirfd (not closed) as the sender would send it.
 * 0, or FERR_SYSTEM (FERR_ALLOC) with errno saying why.
 */
int sftp_archive_scan(int dirfd, struct sftp_archive_stats *st) FERRY_WUR;

/* Local archive file formats (by file name: .tar, .tar.gz/.tgz, .zip). */
enum sftp_archive_format {
	SFTP_ARCHIVE_FMT_TAR, SFTP_ARCHIVE_FMT_TARGZ, SFTP_ARCHIVE_FMT_ZIP,
	SFTP_ARCHIVE_FMT_UNKNOWN
};

/* The format a file name asks for. */
enum sftp_archive_format sftp_archive_format_of(const char *name);

/*
 * Rewrite the archive in infd (from offset 0) into outfd in format fmt,
 * entry by entry.  inflags says what infd may hold: a pax stream, gzipped
 * with SFTP_ARCHIVE_GZIP (a peer's stream), or with
 * SFTP_ARCHIVE_ANYFORMAT any format libarchive reads (a local file the
 * user named).  Entry names are checked as extraction checks them; times
 * the output cannot hold are dropped.  0 or a code as
 * sftp_archive_extract().
 */
int sftp_archive_transcode(int infd, unsigned int inflags, int outfd,
    enum sftp_archive_format fmt, char *errbuf, size_t errlen) FERRY_WUR;

/*
 * An unnamed read-write temporary file in the directory dirfd (O_TMPFILE),
 * or in memory (memfd) when the file system cannot make one or dirfd is
 * -1; *in_memory (may be NULL) says which.  -1 with errno.
 */
int sftp_archive_spool(int dirfd, int *in_memory);

/* Most bytes a receiver spools in memory (the memfd fallback). */
#define SFTP_ARCHIVE_MEM_SPOOL_MAX	(256U * 1024U * 1024U)

/* ---- Choosing archive mode ---- */

enum sftp_archive_mode {
	SFTP_ARCHIVE_AUTO, SFTP_ARCHIVE_YES, SFTP_ARCHIVE_NO
};

/* Auto mode: at least this many files, averaging at most this size. */
#define SFTP_ARCHIVE_MIN_FILES	32U
#define SFTP_ARCHIVE_MAX_AVG	(256U * 1024U)

/* Parse "yes", "no" or "auto" into *modep; FERR_ARGUMENT otherwise. */
int sftp_archive_mode_parse(const char *s, enum sftp_archive_mode *modep)
    FERRY_WUR;

/* Whether mode and the tree's counters call for the archive stream. */
int sftp_archive_wanted(enum sftp_archive_mode mode,
    const struct sftp_archive_stats *st);

/* ---- Client transfer over an SFTP session ---- */

/* Whether the server advertised tree-archive@ferry version 1. */
int sftp_archive_supported(const struct sftp_client *c);

/*
 * Begin a SCAN request of the remote directory path (the fields are
 * added; finish it with sftp_client_end() or sftp_session_call_end(): the
 * reply is EXTENDED_REPLY, or STATUS when path is not a readable
 * directory), and parse such a reply's bytes into *st (FERR_FORMAT when
 * malformed).  With both, a caller decides with sftp_archive_wanted()
 * in one round trip.
 */
int sftp_archive_scan_begin(struct sftp_client *c, const char *path)
    FERRY_WUR;
int sftp_archive_scan_parse(const uint8_t *data, size_t len,
    struct sftp_archive_stats *st) FERRY_WUR;

/*
 * Progress: stream bytes moved and the expected total (0: unknown), the
 * counters so far (files while the tree is walked or extracted).
 */
typedef void sftp_archive_progress_fn(void *arg, const char *name,
    uint64_t stream_done, uint64_t stream_total,
    const struct sftp_archive_stats *st, int finished);

struct sftp_archive_xfer_opts {
	unsigned int flags;		/* SFTP_ARCHIVE_PRESERVE, _GZIP */
	size_t req_size;		/* 0: the session's READ/WRITE size */
	unsigned int max_requests;	/* in flight; 0: 64 */
	uint64_t max_bytes;		/* extraction size cap; 0: none */
	sftp_archive_progress_fn *progress;
	void *arg;
};

struct sftp_archive_xfer;

/*
 * One archive transfer on the session c, pumped like struct sftp_xfer:
 * send the client output, feed input, call sftp_archive_xfer_step()
 * until sftp_archive_xfer_done().  Start it with exactly one of the
 * four calls below.  NULL when out of memory.
 */
struct sftp_archive_xfer *sftp_archive_xfer_new(struct sftp_client *c,
    const struct sftp_archive_xfer_opts *o);

/* Remote directory rdir into local directory ldir (created if missing). */
int sftp_archive_xfer_get(struct sftp_archive_xfer *x, const char *rdir,
    const char *ldir) FERRY_WUR;
/* Local directory ldir into remote directory rdir (created if missing). */
int sftp_archive_xfer_put(struct sftp_archive_xfer *x, const char *ldir,
    const char *rdir) FERRY_WUR;
/* Remote directory rdir as the local archive file lfile (format by name). */
int sftp_archive_xfer_get_file(struct sftp_archive_xfer *x,
    const char *rdir, const char *lfile) FERRY_WUR;
/* The local archive file lfile (any format) unpacked into rdir. */
int sftp_archive_xfer_put_file(struct sftp_archive_xfer *x,
    const char *lfile, const char *rdir) FERRY_WUR;

/* Issue what the window allows; 0 or a fatal code (session over). */
int sftp_archive_xfer_step(struct sftp_archive_xfer *x) FERRY_WUR;
int sftp_archive_xfer_done(const struct sftp_archive_xfer *x);

/*
 * The outcome once done: 0, or a negative code with a sanitised sentence
 * in *msgp (may be NULL).  FERR_NOT_SUPPORTED means the server refused
 * the extension before any byte moved: the caller may fall back.
 */
int sftp_archive_xfer_result(const struct sftp_archive_xfer *x,
    const char **msgp);
const struct sftp_archive_stats *sftp_archive_xfer_stats(
    const struct sftp_archive_xfer *x);

/* Stop: outstanding requests are still answered; keep pumping. */
void sftp_archive_xfer_cancel(struct sftp_archive_xfer *x);
void sftp_archive_xfer_free(struct sftp_archive_xfer *x);

#endif /* FERRY_SFTP_ARCHIVE_H */
