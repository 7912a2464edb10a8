/*
 * The legacy scp (rcp) protocol, both roles, as a sans-I/O engine.
 *
 * The SOURCE sends records ("T<mtime> 0 <atime> 0", "C<mode> <size>
 * <name>", "D<mode> 0 <name>", "E") followed, for files, by the data and
 * a status byte, and waits for the peer's answer to each: a NUL byte for
 * success, \1 and a line for an error (that file is skipped), \2 and a
 * line for a fatal error.  The SINK parses the records strictly, as
 * OpenSSH's scp client does: a name that is empty, ".", ".." or holds a
 * '/', and at the top level a name that matches none of the requested
 * patterns (unless relaxed, -T), end the transfer; modes are exactly four
 * octal digits, sizes and times are range checked, every line has a cap.
 *
 * The engine owns no descriptor: the driver feeds the peer's bytes with
 * scp_input() (at most scp_input_space()), calls scp_process(), and sends
 * what scp_output() holds.  File system work goes through an operations
 * table (scp_fs_local() for the real one) and happens inside
 * scp_process(), a bounded amount per call.  scp_run_fds() is a blocking
 * driver over two descriptors (a pipe pair or a socket).
 */
#ifndef FERRY_SCP_H
#define FERRY_SCP_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

/* A record line (without its newline) may not be longer than this. */
#define SCP_LINE_MAX		2048
/* Directory records may not nest deeper than this. */
#define SCP_DEPTH_MAX		64
/* Paths the sink builds may not be longer than this. */
#define SCP_PATH_MAX		4096

enum scp_role {
	SCP_SOURCE,		/* scp -f: we send files */
	SCP_SINK,		/* scp -t: we receive files */
};

struct scp_stat {
	int is_dir;
	int is_reg;
	uint32_t mode;		/* permission bits (07777) */
	uint64_t size;
	int64_t atime, mtime;
};

/*
 * File system operations.  Each returns 0 or a positive errno value.
 * Handles are the table's own; the engine closes every one it opened.
 */
struct scp_fs_ops {
	int (*stat)(void *ctx, const char *path, struct scp_stat *st);
	/*
	 * Open for reading (wr == 0; non-blocking open, then fstat into
	 * *st, which for a directory succeeds too) or for writing (wr ==
	 * 1: O_WRONLY|O_CREAT without truncation, created with mode).
	 */
	int (*open)(void *ctx, const char *path, int wr, uint32_t mode,
	    void **fhp, struct scp_stat *st);
	/* Read up to len bytes: *nreadp is 0 only at end of file. */
	int (*read)(void *ctx, void *fh, void *p, size_t len, size_t *nreadp);
	int (*write)(void *ctx, void *fh, const void *p, size_t len);
	int (*truncate)(void *ctx, void *fh, uint64_t size);
	int (*fchmod)(void *ctx, void *fh, uint32_t mode);
	int (*close)(void *ctx, void *fh);
	int (*mkdir)(void *ctx, const char *path, uint32_t mode);
	int (*chmod)(void *ctx, const char *path, uint32_t mode);
	int (*utimes)(void *ctx, const char *path, int64_t atime,
	    int64_t mtime);
	int (*opendir)(void *ctx, const char *path, void **dhp);
	/* The next entry other than "." and "..", or *namep NULL at the end. */
	int (*readdir)(void *ctx, void *dh, const char **namep);
	void (*closedir)(void *ctx, void *dh);
};

/*
 * A message for the user: errors the peer reported (\1, \2 lines) and our
 * own; fatal says the transfer ends.  text has no newline.
 */
typedef void scp_message_fn(int fatal, const char *text, void *ctx);

/*
 * Progress of a file's data (source and sink): name, its size and the
 * bytes done so far; called with done == 0 when a file starts and with
 * done == size when it ends.
 */
typedef void scp_progress_fn(const char *name, uint64_t size, uint64_t done,
    void *ctx);

struct scp_config {
	enum scp_role role;
	int recursive;		/* -r: directories are sent / accepted */
	int preserve;		/* -p: times and modes */
	int target_dir;		/* -d (sink): the target must be a directory */
	/*
	 * Sink: the file names a top-level record may carry (fnmatch(3)
	 * patterns, NULL-terminated); NULL or relaxed: any.  Only used
	 * without -r, as OpenSSH does.
	 */
	const char *const *patterns;
	int relaxed;		/* -T */
	/*
	 * Server side (scp -t/-f run by the peer): messages are only sent
	 * to the peer, never to message_fn.
	 */
	int remote;
	uint32_t umask;		/* applied to modes without -p */
	const char *target;	/* sink: where files go */
	const char *const *paths; /* source: what to send (NULL-terminated) */
	const struct scp_fs_ops *fs;
	void *fs_ctx;
	scp_message_fn *message;
	scp_progress_fn *progress;
	void *ctx;		/* of message and progress */
};

struct scp;

/*
 * A new engine; the configuration (and what it points to) must outlive
 * it.  A sink queues its first NUL byte at once.  FERR_ARGUMENT for a
 * configuration without fs ops, target (sink) or paths (source).
 */
int scp_new(const struct scp_config *cfg, struct scp **ep) FERRY_WUR;
/* Close every open file and free the engine; NULL is allowed. */
void scp_free(struct scp *e);

/* How many bytes scp_input() accepts now. */
size_t scp_input_space(const struct scp *e);
/* Queue len bytes from the peer (FERR_NO_SPACE above the space). */
int scp_input(struct scp *e, const void *p, size_t len) FERRY_WUR;
/* The peer sends no more. */
void scp_input_eof(struct scp *e);
/*
 * Do the work the queued input and the output space allow.  0, or a
 * negative code once the transfer failed for good (FERR_PROTOCOL: the
 * peer broke the protocol or sent a name that is refused; FERR_EOF: the
 * peer left in the middle; FERR_PERMISSION: a fatal error was reported);
 * the failure's message is already in the output for the peer.
 */
int scp_process(struct scp *e) FERRY_WUR;
/* Bytes for the peer; the driver consumes what it sent. */
struct buf *scp_output(struct scp *e);
/* 1 once nothing more will happen (success or failure). */
int scp_done(const struct scp *e);
/* Non-fatal errors seen so far (the exit status is 1 when any). */
unsigned int scp_errors(const struct scp *e);
/* 1 when the transfer failed fatally. */
int scp_failed(const struct scp *e);

/* The operations on the real file system (ctx unused). */
const struct scp_fs_ops *scp_fs_local(void);

/*
 * Drive e over in_fd (from the peer) and out_fd (to it), blocking, until
 * it is done: 0 when the transfer ended without any error, 1 when
 * errors were reported, a negative code when it failed (the engine's
 * code from scp_process(), FERR_PROTOCOL, or FERR_SYSTEM when a
 * descriptor failed).  Closes nothing.
 */
int scp_run_fds(struct scp *e, int in_fd, int out_fd) FERRY_WUR;

/*
 * The server's command line: split an "scp" command (as a remote shell
 * would split it, with quotes and backslashes, but without any expansion
 * other than a leading unquoted ~ to home) into options and paths.
 * Accepted: scp [-v] [-r] [-p] [-d] -t|-f [--] path...; -t takes exactly
 * one path.  Unquoted shell metacharacters or unknown flags: FERR_FORMAT
 * (the line is not served as scp).  The paths of -f whose words held
 * unquoted glob characters or braces are brace-expanded
 * (scp_brace_expand) and globbed with glob(3) (a pattern matching
 * nothing stays as it is, as in sh); an unquoted brace in -t's path is
 * FERR_FORMAT.  *cmdp is freed with
 * scp_command_free().
 */
struct scp_command {
	enum scp_role role;
	int recursive, preserve, target_dir, verbose;
	char **paths;		/* NULL-terminated */
	size_t npaths;
};
int scp_command_parse(const char *line, const char *home,
    struct scp_command **cmdp) FERRY_WUR;
void scp_command_free(struct scp_command *cmd);

/*
 * sh's brace expansion: the first group "{...}" of pat holding a comma
 * outside inner groups is replaced by each of its alternatives in turn
 * (in order), and each result expanded again; a backslash escapes the
 * next character (kept in the words).  The words are appended to
 * (*wordsp, *np) (free each and the array).  FERR_NO_SPACE when more
 * than max words would result, FERR_ALLOC.
 */
int scp_brace_expand(const char *pat, size_t max, char ***wordsp,
    size_t *np) FERRY_WUR;

#endif /* FERRY_SCP_H */
