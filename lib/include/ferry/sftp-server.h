/*
 * The SFTP server engine (protocol version 3 with OpenSSH's extensions),
 * sans-I/O: the caller feeds the bytes it receives from the client in and
 * sends what the engine leaves in its output buffer.  It never touches a
 * socket or pipe, so it runs inside fsshd's session process, behind
 * fsftp-server's stdin/stdout, or in a unit test.
 *
 * Requests are answered in order, one at a time, synchronously on the
 * file system.  A READ reply is built by reading the file straight into
 * the output buffer; WRITE data goes from the input buffer to the file;
 * READDIR returns many entries per reply.  Memory is bounded: the engine
 * takes input only while sftp_server_input_space() is non-zero, and stops
 * processing requests while more than the output cap waits to be sent,
 * so a client that never reads its replies stalls itself (the driver
 * stops reading) instead of growing the server.
 *
 * Every path is confined to opts->root (see lib/sftp-fs.h).
 *
 * Extensions (advertised in SSH_FXP_VERSION unless denied):
 * posix-rename@openssh.com, statvfs@openssh.com, fstatvfs@openssh.com,
 * hardlink@openssh.com, fsync@openssh.com, lsetstat@openssh.com,
 * limits@openssh.com, expand-path@openssh.com, copy-data, home-directory,
 * users-groups-by-id@openssh.com (as OpenSSH's PROTOCOL describes), and
 * check-file-handle / check-file-name (draft-ietf-secsh-filexfer-
 * extensions-00 section 3; advertised with the data "md5,sha1,sha256,
 * sha512"; the reply is SSH_FXP_EXTENDED_REPLY, uint32 id, string
 * algorithm, then the digests concatenated to the end of the message),
 * and tree-archive@ferry (directory trees as one archive stream:
 * man/ferry-sftp-archive.7, ferry/sftp-archive.h).
 */
#ifndef FERRY_SFTP_SERVER_H
#define FERRY_SFTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ferry/buf.h"

/* Requests that -p/-P name, in OpenSSH's order and spelling. */
enum sftp_req {
	SFTP_REQ_OPEN, SFTP_REQ_CLOSE, SFTP_REQ_READ, SFTP_REQ_WRITE,
	SFTP_REQ_LSTAT, SFTP_REQ_FSTAT, SFTP_REQ_SETSTAT, SFTP_REQ_FSETSTAT,
	SFTP_REQ_OPENDIR, SFTP_REQ_READDIR, SFTP_REQ_REMOVE, SFTP_REQ_MKDIR,
	SFTP_REQ_RMDIR, SFTP_REQ_REALPATH, SFTP_REQ_STAT, SFTP_REQ_RENAME,
	SFTP_REQ_READLINK, SFTP_REQ_SYMLINK, SFTP_REQ_POSIX_RENAME,
	SFTP_REQ_STATVFS, SFTP_REQ_FSTATVFS, SFTP_REQ_HARDLINK,
	SFTP_REQ_FSYNC, SFTP_REQ_LSETSTAT, SFTP_REQ_LIMITS,
	SFTP_REQ_EXPAND_PATH, SFTP_REQ_COPY_DATA, SFTP_REQ_HOME_DIRECTORY,
	SFTP_REQ_USERS_GROUPS_BY_ID, SFTP_REQ_CHECK_FILE_HANDLE,
	SFTP_REQ_CHECK_FILE_NAME, SFTP_REQ_TREE_ARCHIVE,
	SFTP_REQ_COUNT
};

#define SFTP_REQ_BIT(r)		(UINT64_C(1) << (r))
#define SFTP_REQ_ALL		(SFTP_REQ_BIT(SFTP_REQ_COUNT) - 1)

/* Defaults. */
#define SFTP_SERVER_MAX_HANDLES	512
#define SFTP_SERVER_OUT_CAP	(1024U * 1024U)

struct sftp_server_opts {
	/* Host directory served as "/"; NULL means "/". */
	const char *root;
	/*
	 * Directory relative client paths start from, as a path inside the
	 * root.  NULL: the process's working directory when root is "/",
	 * otherwise "/".
	 */
	const char *start_dir;
	/* The user's home inside the root ("~"); NULL: the start directory. */
	const char *home_dir;
	/* Refuse everything that would change the file system. */
	int read_only;
	/* Requests refused with SSH_FX_PERMISSION_DENIED (SFTP_REQ_BIT). */
	uint64_t denied;
	/* Open handle limit; 0 means SFTP_SERVER_MAX_HANDLES. */
	unsigned int max_handles;
	/* Stop processing while this many output bytes wait; 0: default. */
	size_t out_cap;
	/* Testing: resolve paths with the user-space walk, not openat2. */
	int no_openat2;
};

struct sftp_server;

/*
 * Create an engine serving opts (copied).  NULL on failure with errno set
 * (the root cannot be opened: ENOENT, EACCES, ...; ENOMEM).
 */
struct sftp_server *sftp_server_new(const struct sftp_server_opts *opts);

/*
 * Bytes the engine accepts now through sftp_server_input(); 0 while the
 * output is above its cap and the input queue is full, or once done.
 */
size_t sftp_server_input_space(const struct sftp_server *s);

/*
 * Queue len received bytes (at most sftp_server_input_space(), else
 * FERR_NO_SPACE and nothing is taken) and process every complete request
 * the output cap allows.  Returns 0, or FERR_PROTOCOL when the session
 * must end (framing lost, no INIT first): flush the output, then stop.
 */
int sftp_server_input(struct sftp_server *s, const uint8_t *data,
    size_t len);

/*
 * Process queued requests again; call after sending output.  0 or
 * FERR_PROTOCOL as sftp_server_input().
 */
int sftp_server_process(struct sftp_server *s);

/*
 * The output buffer: send its bytes and buf_consume() what was sent.
 * Owned by the engine; valid until sftp_server_free().
 */
struct buf *sftp_server_output(struct sftp_server *s);

/* Whether the session has ended (after a fatal protocol error). */
int sftp_server_done(const struct sftp_server *s);

/*
 * Free the engine: open handles are closed (and logged as closes).
 * NULL is allowed.
 */
void sftp_server_free(struct sftp_server *s);

/* The request name (as -p/-P/-Q spell it) of r, or NULL out of range. */
const char *sftp_server_request_name(unsigned int r);

/*
 * Parse a comma-separated list of request names into a mask of
 * SFTP_REQ_BIT()s.  FERR_ARGUMENT for an unknown name.
 */
int sftp_server_parse_requests(const char *list, uint64_t *maskp)
    FERRY_WUR;

#endif /* FERRY_SFTP_SERVER_H */
