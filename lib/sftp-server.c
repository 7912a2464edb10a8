/*
 * The SFTP server engine.  See ferry/sftp-server.h for the contract and
 * sftp-fs.h for how paths stay inside the root.
 *
 * Every request handler parses its whole message (ending with
 * buf_expect_end) before it acts or replies, so a malformed request gets
 * SSH_FX_BAD_MESSAGE and changes nothing.  Replies are built in place in
 * the output buffer: a length is reserved, the body appended, the length
 * back-filled.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp.h"
#include "ferry/sftp-server.h"
#include "ferry/sftp-archive.h"
#include "sftp-archive-server.h"
#include "sftp-fs.h"

/* READDIR: at most this many entries, and stop adding past this size. */
#define SERVER_READDIR_MAX	256
#define SERVER_READDIR_BYTES	(64U * 1024U)
/* Input queue: two whole messages. */
#define SERVER_IN_MAX		(2U * (SFTP_MAX_MSG + 4U))
/* Chunk used by copy-data and check-file. */
#define SERVER_CHUNK		(64U * 1024U)
/* copy-data asks copy_file_range(2) for at most this much at a time. */
#define SERVER_COPY_STEP	(64U * 1024U * 1024U)
/* check-file blocks must be at least this large (the draft's floor). */
#define SERVER_CHECK_MIN_BLOCK	256U
/* Longest escaped name put in a log message. */
#define SERVER_LOGNAME_MAX	1024
/* Handles on the wire: uint32 slot, uint32 generation. */
#define SERVER_HANDLE_LEN	8U

struct server_handle {
	int used;
	int is_dir;
	int fd;			/* file descriptor (also dirfd of dir) */
	DIR *dir;
	int accmode;		/* O_RDONLY, O_WRONLY or O_RDWR */
	int is_root;		/* directory handle on the root */
	uint32_t gen;
	char *vpath;
	uint64_t nread;
	uint64_t nwritten;
	struct sftp_archive_stream *ar;	/* tree-archive@ferry handle */
};

struct sftp_server {
	struct sftp_fs *fs;
	struct buf *in;
	struct buf *out;
	char *cwd;		/* start directory, virtual */
	char *home;		/* home directory, virtual */
	int root_is_slash;
	int read_only;
	uint64_t denied;
	unsigned int max_handles;
	struct server_handle *handles;
	uint32_t gen;
	size_t out_cap;
	int initialized;
	int done;
	uint64_t discard;	/* bytes left of an oversized message */
	/* One-entry caches for READDIR's owner and group names. */
	uid_t cache_uid;
	gid_t cache_gid;
	char cache_user[64];
	char cache_group[64];
	int cache_uid_ok;
	int cache_gid_ok;
	/* Escaped copies of client-supplied names for log messages. */
	char logname[2][SERVER_LOGNAME_MAX];
};

typedef int server_fn(struct sftp_server *, uint32_t, struct buf *);

struct server_req {
	uint8_t type;		/* SSH_FXP_*, or SSH_FXP_EXTENDED */
	const char *ext;	/* extension name for SSH_FXP_EXTENDED */
	int req;		/* enum sftp_req */
	int writes;		/* refused in read-only mode */
	server_fn *fn;
};

/* Request names for -p, -P and -Q, indexed by enum sftp_req. */
static const char *const server_req_names[SFTP_REQ_COUNT] = {
	"open", "close", "read", "write", "lstat", "fstat", "setstat",
	"fsetstat", "opendir", "readdir", "remove", "mkdir", "rmdir",
	"realpath", "stat", "rename", "readlink", "symlink", "posix-rename",
	"statvfs", "fstatvfs", "hardlink", "fsync", "lsetstat", "limits",
	"expand-path", "copy-data", "home-directory", "users-groups-by-id",
	"check-file-handle", "check-file-name", "tree-archive",
};

const char *
sftp_server_request_name(unsigned int r)
{
	if (r >= SFTP_REQ_COUNT)
		return NULL;
	return server_req_names[r];
}

int
sftp_server_parse_requests(const char *list, uint64_t *maskp)
{
	const char *p = list, *e;
	size_t len;
	unsigned int i;

	*maskp = 0;
	while (*p != '\0') {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < SFTP_REQ_COUNT; i++) {
			if (strlen(server_req_names[i]) == len &&
			    strncmp(server_req_names[i], p, len) == 0)
				break;
		}
		if (i == SFTP_REQ_COUNT)
			return FERR_ARGUMENT;
		*maskp |= SFTP_REQ_BIT(i);
		if (e == NULL)
			break;
		p = e + 1;
		if (*p == '\0')
			return FERR_ARGUMENT;	/* a trailing comma */
	}
	return 0;
}

/*
 * A copy of a client-supplied name safe to log: control characters,
 * quotes, backslashes and bytes above 0x7e become \ooo, so a name cannot
 * forge log lines.  Valid until the next call with the same slot (0, 1).
 */
static const char *
server_ln(struct sftp_server *s, int slot, const char *name)
{
	char *out = s->logname[slot];
	size_t len = 0;
	unsigned char c;

	for (; *name != '\0' && len + 5 < SERVER_LOGNAME_MAX; name++) {
		c = (unsigned char)*name;
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
			snprintf(out + len, 5, "\\%03o", c);
			len += 4;
		} else
			out[len++] = (char)c;
	}
	if (*name != '\0' && len + 4 <= SERVER_LOGNAME_MAX) {
		memcpy(out + len, "...", 3);
		len += 3;
	}
	out[len] = '\0';
	return out;
}

/* ---- Replies ---- */

static int
server_reply_begin(struct sftp_server *s, uint8_t type, uint32_t id,
    size_t *offp)
{
	int r;

	*offp = buf_len(s->out);
	if ((r = buf_put_u32(s->out, 0)) != 0 ||
	    (r = buf_put_u8(s->out, type)) != 0 ||
	    (r = buf_put_u32(s->out, id)) != 0)
		return r;
	return 0;
}

static int
server_reply_end(struct sftp_server *s, size_t off)
{
	return buf_poke_u32(s->out, off,
	    (uint32_t)(buf_len(s->out) - off - 4));
}

/* Drop everything appended since off (a reply that will not be sent). */
static void
server_reply_drop(struct sftp_server *s, size_t off)
{
	/* Cannot fail: off is within the buffer. */
	if (buf_len(s->out) > off &&
	    buf_consume_end(s->out, buf_len(s->out) - off) != 0)
		buf_reset(s->out);
}

static int
server_status(struct sftp_server *s, uint32_t id, uint32_t code,
    const char *msg)
{
	size_t off;
	int r;

	if (msg == NULL)
		msg = sftp_status_str(code);
	log_debug("request %u: status %u (%s)", id, code, msg);
	if ((r = server_reply_begin(s, SSH_FXP_STATUS, id, &off)) != 0 ||
	    (r = buf_put_u32(s->out, code)) != 0 ||
	    (r = buf_put_cstring(s->out, msg)) != 0 ||
	    (r = buf_put_cstring(s->out, "")) != 0)
		return r;
	return server_reply_end(s, off);
}

/* errno values and the status they become; others are FAILURE. */
static const struct {
	int err;
	uint32_t code;
} server_errno_map[] = {
	{ ENOENT, SSH_FX_NO_SUCH_FILE },
	{ ENOTDIR, SSH_FX_NO_SUCH_FILE },
	{ ELOOP, SSH_FX_NO_SUCH_FILE },
	{ EPERM, SSH_FX_PERMISSION_DENIED },
	{ EACCES, SSH_FX_PERMISSION_DENIED },
	{ EROFS, SSH_FX_PERMISSION_DENIED },
	{ EFAULT, SSH_FX_PERMISSION_DENIED },
	{ ENAMETOOLONG, SSH_FX_BAD_MESSAGE },
	{ EINVAL, SSH_FX_BAD_MESSAGE },
	{ ENOSYS, SSH_FX_OP_UNSUPPORTED },
	{ EOPNOTSUPP, SSH_FX_OP_UNSUPPORTED },
};

static int
server_errno(struct sftp_server *s, uint32_t id, int err)
{
	uint32_t code = SSH_FX_FAILURE;
	size_t i;

	for (i = 0; i < sizeof(server_errno_map) / sizeof(server_errno_map[0]);
	    i++) {
		if (server_errno_map[i].err == err) {
			code = server_errno_map[i].code;
			break;
		}
	}
	return server_status(s, id, code, strerror(err));
}

static int
server_ok(struct sftp_server *s, uint32_t id)
{
	return server_status(s, id, SSH_FX_OK, NULL);
}

/* A NAME reply with one entry and empty attributes (REALPATH and kin). */
static int
server_name1(struct sftp_server *s, uint32_t id, const char *name)
{
	struct sftp_attrs a;
	size_t off;
	int r;

	memset(&a, 0, sizeof(a));
	if ((r = server_reply_begin(s, SSH_FXP_NAME, id, &off)) != 0 ||
	    (r = buf_put_u32(s->out, 1)) != 0 ||
	    (r = buf_put_cstring(s->out, name)) != 0 ||
	    (r = buf_put_cstring(s->out, name)) != 0 ||
	    (r = sftp_attrs_put(s->out, &a)) != 0)
		return r;
	return server_reply_end(s, off);
}

static int
server_attrs(struct sftp_server *s, uint32_t id, const struct stat *st)
{
	struct sftp_attrs a;
	size_t off;
	int r;

	sftp_attrs_from_stat(&a, st);
	if ((r = server_reply_begin(s, SSH_FXP_ATTRS, id, &off)) != 0 ||
	    (r = sftp_attrs_put(s->out, &a)) != 0)
		return r;
	return server_reply_end(s, off);
}

/* ---- Paths and handles ---- */

/* Read a path string and join it to the start directory. */
static int
server_get_path(struct sftp_server *s, struct buf *m, char **vpathp)
{
	char *p;
	int r;

	*vpathp = NULL;
	if ((r = buf_get_cstring(m, &p, NULL)) != 0)
		return r;
	*vpathp = sftp_fs_join(s->cwd, p);
	free(p);
	if (*vpathp == NULL)
		return errno == ENAMETOOLONG ? FERR_STRING_TOO_LARGE :
		    FERR_ALLOC;
	return 0;
}

static int
server_handle_alloc(struct sftp_server *s, struct server_handle **hp)
{
	unsigned int i;

	for (i = 0; i < s->max_handles; i++) {
		if (!s->handles[i].used) {
			memset(&s->handles[i], 0, sizeof(s->handles[i]));
			s->handles[i].fd = -1;
			s->handles[i].gen = ++s->gen;
			*hp = &s->handles[i];
			return 0;
		}
	}
	return -1;
}

/* The reply when every handle slot is in use. */
static int
server_too_many(struct sftp_server *s, uint32_t id)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "Too many open handles (limit %u)",
	    s->max_handles);
	log_verbose("%s", msg);
	return server_status(s, id, SSH_FX_FAILURE, msg);
}

/*
 * Reply with the handle of h, whose fd (or dir) and vpath are set.  The
 * slot is in use only once the reply is built; on failure it is released
 * and its descriptor closed.
 */
static int
server_send_handle(struct sftp_server *s, uint32_t id,
    struct server_handle *h)
{
	size_t off;
	int r;

	if ((r = server_reply_begin(s, SSH_FXP_HANDLE, id, &off)) != 0 ||
	    (r = buf_put_u32(s->out, SERVER_HANDLE_LEN)) != 0 ||
	    (r = buf_put_u32(s->out, (uint32_t)(h - s->handles))) != 0 ||
	    (r = buf_put_u32(s->out, h->gen)) != 0 ||
	    (r = server_reply_end(s, off)) != 0) {
		if (h->dir != NULL)
			closedir(h->dir);
		else if (h->fd >= 0)
			close(h->fd);
		free(h->vpath);
		memset(h, 0, sizeof(*h));
		h->fd = -1;
		return r;
	}
	h->used = 1;
	return 0;
}

/* A handle string as read from a message, resolved after parsing. */
struct server_hstr {
	const uint8_t *p;
	size_t len;
};

static int
server_get_hstr(struct buf *m, struct server_hstr *hs)
{
	return buf_get_string_direct(m, &hs->p, &hs->len);
}

/*
 * The open handle named by hs, of kind want (0 file, 1 directory,
 * -1 either), or NULL.
 */
static struct server_handle *
server_handle_find(struct sftp_server *s, const struct server_hstr *hs,
    int want)
{
	struct server_handle *h;
	uint32_t idx, gen;

	if (hs->len != SERVER_HANDLE_LEN)
		return NULL;
	idx = (uint32_t)hs->p[0] << 24 | (uint32_t)hs->p[1] << 16 |
	    (uint32_t)hs->p[2] << 8 | hs->p[3];
	gen = (uint32_t)hs->p[4] << 24 | (uint32_t)hs->p[5] << 16 |
	    (uint32_t)hs->p[6] << 8 | hs->p[7];
	if (idx >= s->max_handles)
		return NULL;
	h = &s->handles[idx];
	if (!h->used || h->gen != gen)
		return NULL;
	if (want >= 0 && h->is_dir != want)
		return NULL;
	return h;
}

static int
server_bad_handle(struct sftp_server *s, uint32_t id)
{
	return server_status(s, id, SSH_FX_FAILURE, "Invalid handle");
}

static void
server_handle_close(struct sftp_server *s, struct server_handle *h)
{
	if (h->ar != NULL) {
		log_info("tree-archive \"%s\" abandoned",
		    server_ln(s, 0, h->vpath));
		sftp_archive_stream_free(h->ar);
		h->ar = NULL;
	} else if (h->is_dir) {
		log_info("closedir \"%s\"", server_ln(s, 0, h->vpath));
		if (h->dir != NULL)
			closedir(h->dir);
	} else {
		log_info("close \"%s\" bytes read %llu written %llu",
		    server_ln(s, 0, h->vpath),
		    (unsigned long long)h->nread,
		    (unsigned long long)h->nwritten);
		if (h->fd >= 0)
			close(h->fd);
	}
	free(h->vpath);
	memset(h, 0, sizeof(*h));
	h->fd = -1;
}

/* ---- INIT ---- */

/* Extensions in VERSION, each with the request that gates it. */
static const struct {
	const char *name;
	const char *version;
	int req;
} server_exts[] = {
	{ "posix-rename@openssh.com", "1", SFTP_REQ_POSIX_RENAME },
	{ "statvfs@openssh.com", "2", SFTP_REQ_STATVFS },
	{ "fstatvfs@openssh.com", "2", SFTP_REQ_FSTATVFS },
	{ "hardlink@openssh.com", "1", SFTP_REQ_HARDLINK },
	{ "fsync@openssh.com", "1", SFTP_REQ_FSYNC },
	{ "lsetstat@openssh.com", "1", SFTP_REQ_LSETSTAT },
	{ "limits@openssh.com", "1", SFTP_REQ_LIMITS },
	{ "expand-path@openssh.com", "1", SFTP_REQ_EXPAND_PATH },
	{ "copy-data", "1", SFTP_REQ_COPY_DATA },
	{ "home-directory", "1", SFTP_REQ_HOME_DIRECTORY },
	{ "users-groups-by-id@openssh.com", "1",
	    SFTP_REQ_USERS_GROUPS_BY_ID },
	{ "check-file-handle", "md5,sha1,sha256,sha512",
	    SFTP_REQ_CHECK_FILE_HANDLE },
	{ "check-file-name", "md5,sha1,sha256,sha512",
	    SFTP_REQ_CHECK_FILE_NAME },
	{ SFTP_ARCHIVE_EXT, SFTP_ARCHIVE_EXT_VER, SFTP_REQ_TREE_ARCHIVE },
};

static int
server_init(struct sftp_server *s, struct buf *m)
{
	uint32_t version;
	size_t off, i;
	int r;

	if ((r = buf_get_u32(m, &version)) != 0)
		return r;
	/* Client extension pairs: checked, none used. */
	while (buf_len(m) > 0) {
		if ((r = buf_get_string_direct(m, NULL, NULL)) != 0 ||
		    (r = buf_get_string_direct(m, NULL, NULL)) != 0)
			return r;
	}
	log_verbose("received client version %u", version);
	off = buf_len(s->out);
	if ((r = buf_put_u32(s->out, 0)) != 0 ||
	    (r = buf_put_u8(s->out, SSH_FXP_VERSION)) != 0 ||
	    (r = buf_put_u32(s->out, SFTP_VERSION)) != 0)
		return r;
	for (i = 0; i < sizeof(server_exts) / sizeof(server_exts[0]); i++) {
		if (s->denied & SFTP_REQ_BIT(server_exts[i].req))
			continue;
		if ((r = buf_put_cstring(s->out, server_exts[i].name)) != 0 ||
		    (r = buf_put_cstring(s->out, server_exts[i].version)) != 0)
			return r;
	}
	s->initialized = 1;
	return server_reply_end(s, off);
}

/* ---- tree-archive@ferry (lib/sftp-archive-server.c does the work) ---- */

/* Requests an archive operation stands for: any denied, it is denied. */
#define SERVER_AR_READ_REQS (SFTP_REQ_BIT(SFTP_REQ_OPENDIR) | \
	SFTP_REQ_BIT(SFTP_REQ_READDIR) | SFTP_REQ_BIT(SFTP_REQ_OPEN) | \
	SFTP_REQ_BIT(SFTP_REQ_READ) | SFTP_REQ_BIT(SFTP_REQ_LSTAT) | \
	SFTP_REQ_BIT(SFTP_REQ_READLINK))
#define SERVER_AR_WRITE_REQS (SFTP_REQ_BIT(SFTP_REQ_OPEN) | \
	SFTP_REQ_BIT(SFTP_REQ_WRITE) | SFTP_REQ_BIT(SFTP_REQ_MKDIR))

static int server_reply_begin(struct sftp_server *, uint8_t, uint32_t,
    size_t *);
static int server_reply_end(struct sftp_server *, size_t);
static void server_reply_drop(struct sftp_server *, size_t);

/*
 * string "tree-archive@ferry", uint32 op, string path, uint32 flags,
 * uint64 max-bytes.  CREATE and EXTRACT answer with an EXTENDED_REPLY
 * holding string handle, SCAN with one of five uint64 (files, dirs,
 * links, other, bytes).
 */
static int
server_tree_archive(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct sftp_archive_stats st;
	struct server_handle *h;
	char *vpath = NULL;
	uint32_t op, flags;
	uint64_t max_bytes, need;
	unsigned int lflags;
	size_t off;
	int r, fd, err;

	if ((r = buf_get_u32(m, &op)) != 0 ||
	    (r = server_get_path(s, m, &vpath)) != 0 ||
	    (r = buf_get_u32(m, &flags)) != 0 ||
	    (r = buf_get_u64(m, &max_bytes)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	log_info("tree-archive op %u \"%s\" flags 0x%x", op,
	    server_ln(s, 0, vpath), flags);
	if (op < SFTP_ARCHIVE_OP_CREATE || op > SFTP_ARCHIVE_OP_SCAN ||
	    (flags & ~SFTP_ARCHIVE_WIRE_MASK) != 0) {
		r = server_status(s, id, SSH_FX_OP_UNSUPPORTED,
		    "Unknown tree-archive operation or flag");
		goto out;
	}
	need = op == SFTP_ARCHIVE_OP_EXTRACT ? SERVER_AR_WRITE_REQS :
	    SERVER_AR_READ_REQS;
	if (op == SFTP_ARCHIVE_OP_EXTRACT && (flags & SFTP_ARCHIVE_PRESERVE))
		need |= SFTP_REQ_BIT(SFTP_REQ_SETSTAT);
	if ((s->denied & need) != 0 ||
	    (op == SFTP_ARCHIVE_OP_EXTRACT && s->read_only)) {
		log_verbose("refusing tree-archive: %s",
		    s->read_only ? "read-only" : "a request it needs is "
		    "denied");
		r = server_status(s, id, SSH_FX_PERMISSION_DENIED,
		    s->read_only && op == SFTP_ARCHIVE_OP_EXTRACT ?
		    "Read-only server" : "Request denied by server policy");
		goto out;
	}
	if ((fd = sftp_fs_open(s->fs, vpath, O_RDONLY | O_DIRECTORY,
	    0)) < 0) {
		r = server_errno(s, id, errno);
		goto out;
	}
	if (op == SFTP_ARCHIVE_OP_SCAN) {
		/* The walk's errno, before close() may change it. */
		r = sftp_archive_scan(fd, &st);
		err = r != 0 ? errno : 0;
		close(fd);
		if (r != 0) {
			r = server_errno(s, id, err);
			goto out;
		}
		if ((r = server_reply_begin(s, SSH_FXP_EXTENDED_REPLY, id,
		    &off)) != 0 ||
		    (r = buf_put_u64(s->out, st.files)) != 0 ||
		    (r = buf_put_u64(s->out, st.dirs)) != 0 ||
		    (r = buf_put_u64(s->out, st.links)) != 0 ||
		    (r = buf_put_u64(s->out, st.other)) != 0 ||
		    (r = buf_put_u64(s->out, st.bytes)) != 0)
			goto out;
		r = server_reply_end(s, off);
		goto out;
	}
	if (server_handle_alloc(s, &h) != 0) {
		close(fd);
		r = server_too_many(s, id);
		goto out;
	}
	/* Server policy: symbolic links unless denied; never owners,
	 * hard links or special files. */
	lflags = flags;
	if (!(s->denied & SFTP_REQ_BIT(SFTP_REQ_SYMLINK)))
		lflags |= SFTP_ARCHIVE_SYMLINKS;
	h->ar = op == SFTP_ARCHIVE_OP_CREATE ?
	    sftp_archive_stream_create(fd, flags) :
	    sftp_archive_stream_extract(fd, lflags, max_bytes);
	if (h->ar == NULL) {
		r = server_errno(s, id, errno);
		goto out;
	}
	h->vpath = vpath;
	vpath = NULL;
	/* Extended requests are answered by EXTENDED_REPLY: string handle. */
	if ((r = server_reply_begin(s, SSH_FXP_EXTENDED_REPLY, id,
	    &off)) != 0 ||
	    (r = buf_put_u32(s->out, SERVER_HANDLE_LEN)) != 0 ||
	    (r = buf_put_u32(s->out, (uint32_t)(h - s->handles))) != 0 ||
	    (r = buf_put_u32(s->out, h->gen)) != 0 ||
	    (r = server_reply_end(s, off)) != 0) {
		sftp_archive_stream_free(h->ar);
		free(h->vpath);
		memset(h, 0, sizeof(*h));
		h->fd = -1;
		goto out;
	}
	h->used = 1;
 out:
	free(vpath);
	return r;
}

/* An archive error code as a status. */
static uint32_t
server_archive_code(int r)
{
	switch (r) {
	case FERR_EOF:
		return SSH_FX_EOF;
	case FERR_PERMISSION:
		return SSH_FX_PERMISSION_DENIED;
	case FERR_ARGUMENT:
	case FERR_FORMAT:
		return SSH_FX_BAD_MESSAGE;
	default:
		return SSH_FX_FAILURE;
	}
}

static int
server_archive_read(struct sftp_server *s, uint32_t id,
    struct server_handle *h, uint64_t offset, uint32_t len)
{
	const char *msg;
	uint8_t *p;
	size_t off, n;
	int r;

	if ((r = server_reply_begin(s, SSH_FXP_DATA, id, &off)) != 0 ||
	    (r = buf_put_u32(s->out, 0)) != 0 ||
	    (r = buf_reserve(s->out, len, &p)) != 0)
		return r;
	if ((r = sftp_archive_stream_read(h->ar, offset, p, len, &n,
	    &msg)) != 0) {
		server_reply_drop(s, off);
		if (r != FERR_EOF)
			log_error("tree-archive \"%s\": %s",
			    server_ln(s, 0, h->vpath), msg);
		return server_status(s, id, server_archive_code(r), msg);
	}
	if ((r = buf_consume_end(s->out, len - n)) != 0 ||
	    (r = buf_poke_u32(s->out, off + 9, (uint32_t)n)) != 0)
		return r;
	h->nread += n;
	return server_reply_end(s, off);
}

static int
server_archive_write(struct sftp_server *s, uint32_t id,
    struct server_handle *h, uint64_t offset, const uint8_t *data,
    size_t len)
{
	const char *msg;
	int r;

	if (s->read_only)
		return server_status(s, id, SSH_FX_PERMISSION_DENIED,
		    "Read-only server");
	if ((r = sftp_archive_stream_write(h->ar, offset, data, len,
	    &msg)) != 0)
		return server_status(s, id, server_archive_code(r), msg);
	h->nwritten += len;
	return server_ok(s, id);
}

static int
server_archive_close(struct sftp_server *s, uint32_t id,
    struct server_handle *h)
{
	char msg[600];
	int r;

	r = sftp_archive_stream_close(h->ar, msg, sizeof(msg));
	h->ar = NULL;
	log_info("tree-archive close \"%s\": %s", server_ln(s, 0, h->vpath),
	    msg);
	free(h->vpath);
	memset(h, 0, sizeof(*h));
	h->fd = -1;
	return server_status(s, id, r == 0 ? SSH_FX_OK :
	    server_archive_code(r), msg);
}

/* ---- File requests ---- */

static const struct {
	uint32_t pflag;
	const char *name;
} server_pflag_names[] = {
	{ SSH_FXF_READ, "READ" }, { SSH_FXF_WRITE, "WRITE" },
	{ SSH_FXF_APPEND, "APPEND" }, { SSH_FXF_CREAT, "CREATE" },
	{ SSH_FXF_TRUNC, "TRUNCATE" }, { SSH_FXF_EXCL, "EXCL" },
};

static void
server_pflags_str(uint32_t pflags, char *out, size_t outlen)
{
	size_t i, len = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < sizeof(server_pflag_names) /
	    sizeof(server_pflag_names[0]); i++) {
		if (!(pflags & server_pflag_names[i].pflag))
			continue;
		n = snprintf(out + len, outlen - len, "%s%s",
		    len > 0 ? "," : "", server_pflag_names[i].name);
		if (n < 0 || (size_t)n >= outlen - len)
			break;
		len += (size_t)n;
	}
}

static int
server_open(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct server_handle *h;
	struct sftp_attrs a;
	struct stat st;
	char *vpath = NULL, fl[64];
	uint32_t pflags;
	mode_t mode;
	int r, flags, fd;

	if ((r = server_get_path(s, m, &vpath)) != 0 ||
	    (r = buf_get_u32(m, &pflags)) != 0 ||
	    (r = sftp_attrs_get(m, &a)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	mode = (a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) ?
	    (mode_t)(a.perm & 07777) : 0666;
	if ((pflags & SSH_FXF_READ) && (pflags & SSH_FXF_WRITE))
		flags = O_RDWR;
	else if (pflags & SSH_FXF_WRITE)
		flags = O_WRONLY;
	else
		flags = O_RDONLY;
	if (pflags & SSH_FXF_APPEND)
		flags |= O_APPEND;
	if (pflags & SSH_FXF_CREAT)
		flags |= O_CREAT;
	if (pflags & SSH_FXF_TRUNC)
		flags |= O_TRUNC;
	if (pflags & SSH_FXF_EXCL)
		flags |= O_EXCL;
	server_pflags_str(pflags, fl, sizeof(fl));
	log_info("open \"%s\" flags %s mode 0%o", server_ln(s, 0, vpath), fl,
	    (unsigned)mode);
	if (s->read_only && ((flags & O_ACCMODE) != O_RDONLY ||
	    (flags & (O_CREAT | O_TRUNC | O_APPEND)) != 0)) {
		log_verbose("refusing open for writing in read-only mode");
		r = server_status(s, id, SSH_FX_PERMISSION_DENIED,
		    "Read-only server");
		goto out;
	}
	if (server_handle_alloc(s, &h) != 0) {
		r = server_too_many(s, id);
		goto out;
	}
	/* Non-blocking open: a FIFO must not stall the whole session. */
	if ((fd = sftp_fs_open(s->fs, vpath, flags | O_NONBLOCK, mode)) < 0) {
		r = server_errno(s, id, errno);
		goto out;
	}
	if (fstat(fd, &st) != 0 || S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode) ||
	    fcntl(fd, F_SETFL, flags & O_APPEND) != 0) {
		close(fd);
		r = server_status(s, id, SSH_FX_FAILURE,
		    "Not a regular file");
		goto out;
	}
	h->fd = fd;
	h->accmode = flags & O_ACCMODE;
	h->vpath = vpath;
	vpath = NULL;
	r = server_send_handle(s, id, h);
 out:
	free(vpath);
	return r;
}

static int
server_close(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct server_handle *h;
	struct server_hstr hs;
	int r;

	if ((r = server_get_hstr(m, &hs)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return r;
	if ((h = server_handle_find(s, &hs, -1)) == NULL)
		return server_bad_handle(s, id);
	if (h->ar != NULL)
		return server_archive_close(s, id, h);
	server_handle_close(s, h);
	return server_ok(s, id);
}

static int
server_read(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct server_handle *h;
	struct server_hstr hs;
	uint64_t offset;
	uint32_t len;
	uint8_t *p;
	size_t off;
	ssize_t n;
	int r, err;

	if ((r = server_get_hstr(m, &hs)) != 0 ||
	    (r = buf_get_u64(m, &offset)) != 0 ||
	    (r = buf_get_u32(m, &len)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return r;
	if ((h = server_handle_find(s, &hs, 0)) == NULL)
		return server_bad_handle(s, id);
	if (len > SFTP_MAX_RW)
		len = SFTP_MAX_RW;
	if (h->ar != NULL)
		return server_archive_read(s, id, h, offset, len);
	if (offset > INT64_MAX)
		return server_errno(s, id, EINVAL);
	/* DATA header, then the file read straight into the reply. */
	if ((r = server_reply_begin(s, SSH_FXP_DATA, id, &off)) != 0 ||
	    (r = buf_put_u32(s->out, 0)) != 0 ||
	    (r = buf_reserve(s->out, len, &p)) != 0)
		return r;
	do {
		n = pread(h->fd, p, len, (off_t)offset);
	} while (n < 0 && errno == EINTR);
	err = errno;
	if (n <= 0) {
		server_reply_drop(s, off);
		if (n == 0)
			return server_status(s, id, SSH_FX_EOF, NULL);
		return server_errno(s, id, err);
	}
	if ((r = buf_consume_end(s->out, len - (size_t)n)) != 0 ||
	    (r = buf_poke_u32(s->out, off + 9, (uint32_t)n)) != 0)
		return r;
	h->nread += (uint64_t)n;
	return server_reply_end(s, off);
}

static int
server_write(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct server_handle *h;
	struct server_hstr hs;
	const uint8_t *data;
	uint64_t offset;
	size_t len, done = 0;
	ssize_t n;
	int r;

	if ((r = server_get_hstr(m, &hs)) != 0 ||
	    (r = buf_get_u64(m, &offset)) != 0 ||
	    (r = buf_get_string_direct(m, &data, &len)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return r;
	if ((h = server_handle_find(s, &hs, 0)) == NULL)
		return server_bad_handle(s, id);
	if (h->ar != NULL)
		return server_archive_write(s, id, h, offset, data, len);
	if (offset > INT64_MAX || len > INT64_MAX - offset)
		return server_errno(s, id, EINVAL);
	/* The data goes from the input buffer to the file, no copy. */
	while (done < len) {
		n = pwrite(h->fd, data + done, len - done,
		    (off_t)(offset + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return server_errno(s, id, n < 0 ? errno : EIO);
		done += (size_t)n;
		h->nwritten += (uint64_t)n;
	}
	return server_ok(s, id);
}

static int
server_stat_common(struct sftp_server *s, uint32_t id, struct buf *m,
    int follow)
{
	struct stat st;
	char *vpath = NULL;
	int r;

	if ((r = server_get_path(s, m, &vpath)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	log_debug("%sstat \"%s\"", follow ? "" : "l", server_ln(s, 0, vpath));
	if (sftp_fs_stat(s->fs, vpath, follow, &st) != 0)
		r = server_errno(s, id, errno);
	else
		r = server_attrs(s, id, &st);
 out:
	free(vpath);
	return r;
}

static int
server_stat(struct sftp_server *s, uint32_t id, struct buf *m)
{
	return server_stat_common(s, id, m, 1);
}

static int
server_lstat(struct sftp_server *s, uint32_t id, struct buf *m)
{
	return server_stat_common(s, id, m, 0);
}

static int
server_fstat(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct server_handle *h;
	struct server_hstr hs;
	struct stat st;
	int r;

	if ((r = server_get_hstr(m, &hs)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return r;
	if ((h = server_handle_find(s, &hs, -1)) == NULL)
		return server_bad_handle(s, id);
	if (fstat(h->fd, &st) != 0)
		return server_errno(s, id, errno);
	return server_attrs(s, id, &st);
}

static void
server_times(const struct sftp_attrs *a, struct timespec ts[2])
{
	ts[0].tv_sec = (time_t)a->atime;
	ts[0].tv_nsec = 0;
	ts[1].tv_sec = (time_t)a->mtime;
	ts[1].tv_nsec = 0;
}

static void
server_log_setstat(struct sftp_server *s, const char *name,
    const struct sftp_attrs *a)
{
	const char *what = server_ln(s, 0, name);
	char tbuf[64];
	struct tm tm;
	time_t t;

	if (a->flags & SSH_FILEXFER_ATTR_SIZE)
		log_info("set \"%s\" size %llu", what,
		    (unsigned long long)a->size);
	if (a->flags & SSH_FILEXFER_ATTR_PERMISSIONS)
		log_info("set \"%s\" mode %04o", what, a->perm & 07777);
	if (a->flags & SSH_FILEXFER_ATTR_ACMODTIME) {
		t = (time_t)a->mtime;
		if (localtime_r(&t, &tm) == NULL ||
		    strftime(tbuf, sizeof(tbuf), "%Y%m%d-%H:%M:%S", &tm) == 0)
			tbuf[0] = '\0';
		log_info("set \"%s\" modtime %s", what, tbuf);
	}
	if (a->flags & SSH_FILEXFER_ATTR_UIDGID)
		log_info("set \"%s\" owner %lu group %lu", what,
		    (unsigned long)a->uid, (unsigned long)a->gid);
}

/*
 * Apply the attributes of a setstat, in the order size, mode, times,
 * owner, to the open file fd or, when fd is -1, to vpath (following a
 * last symlink when follow is set).  0, or -1 with errno set.
 */
static int
server_set_attrs(struct sftp_server *s, int fd, const char *vpath,
    int follow, const struct sftp_attrs *a)
{
	struct timespec ts[2];
	int tfd, r, e;

	if (a->flags & SSH_FILEXFER_ATTR_SIZE) {
		if (a->size > INT64_MAX) {
			errno = EINVAL;
			return -1;
		}
		tfd = fd >= 0 ? fd : sftp_fs_open(s->fs, vpath, O_WRONLY |
		    O_NONBLOCK | (follow ? 0 : O_NOFOLLOW), 0);
		if (tfd < 0)
			return -1;
		r = ftruncate(tfd, (off_t)a->size);
		if (tfd != fd) {
			e = errno;
			close(tfd);
			errno = e;
		}
		if (r != 0)
			return -1;
	}
	if ((a->flags & SSH_FILEXFER_ATTR_PERMISSIONS) && (fd >= 0 ?
	    fchmod(fd, a->perm & 07777) : sftp_fs_chmod(s->fs, vpath, follow,
	    a->perm & 07777)) != 0)
		return -1;
	if (a->flags & SSH_FILEXFER_ATTR_ACMODTIME) {
		server_times(a, ts);
		if ((fd >= 0 ? futimens(fd, ts) :
		    sftp_fs_utimes(s->fs, vpath, follow, ts)) != 0)
			return -1;
	}
	if ((a->flags & SSH_FILEXFER_ATTR_UIDGID) && (fd >= 0 ?
	    fchown(fd, a->uid, a->gid) : sftp_fs_chown(s->fs, vpath, follow,
	    a->uid, a->gid)) != 0)
		return -1;
	return 0;
}

static int
server_setstat_common(struct sftp_server *s, uint32_t id, struct buf *m,
    int follow)
{
	struct sftp_attrs a;
	char *vpath = NULL;
	int r;

	if ((r = server_get_path(s, m, &vpath)) != 0 ||
	    (r = sftp_attrs_get(m, &a)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	server_log_setstat(s, vpath, &a);
	if (server_set_attrs(s, -1, vpath, follow, &a) != 0)
		r = server_errno(s, id, errno);
	else
		r = server_ok(s, id);
 out:
	free(vpath);
	return r;
}

static int
server_setstat(struct sftp_server *s, uint32_t id, struct buf *m)
{
	return server_setstat_common(s, id, m, 1);
}

static int
server_lsetstat(struct sftp_server *s, uint32_t id, struct buf *m)
{
	return server_setstat_common(s, id, m, 0);
}

static int
server_fsetstat(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct server_handle *h;
	struct server_hstr hs;
	struct sftp_attrs a;
	int r;

	if ((r = server_get_hstr(m, &hs)) != 0 ||
	    (r = sftp_attrs_get(m, &a)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return r;
	if ((h = server_handle_find(s, &hs, -1)) == NULL)
		return server_bad_handle(s, id);
	server_log_setstat(s, h->vpath, &a);
	if (server_set_attrs(s, h->fd, NULL, 0, &a) != 0)
		return server_errno(s, id, errno);
	return server_ok(s, id);
}

/* ---- Directories ---- */

static int
server_opendir(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct server_handle *h;
	struct stat st;
	char *vpath = NULL;
	DIR *d;
	int r, fd;

	if ((r = server_get_path(s, m, &vpath)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	log_info("opendir \"%s\"", server_ln(s, 0, vpath));
	if (server_handle_alloc(s, &h) != 0) {
		r = server_too_many(s, id);
		goto out;
	}
	if ((fd = sftp_fs_open(s->fs, vpath, O_RDONLY | O_DIRECTORY, 0)) < 0) {
		r = server_errno(s, id, errno);
		goto out;
	}
	if (fstat(fd, &st) != 0 || (d = fdopendir(fd)) == NULL) {
		r = server_errno(s, id, errno);
		close(fd);
		goto out;
	}
	h->is_dir = 1;
	h->dir = d;
	h->fd = fd;
	h->is_root = sftp_fs_is_root(s->fs, &st);
	h->vpath = vpath;
	vpath = NULL;
	r = server_send_handle(s, id, h);
 out:
	free(vpath);
	return r;
}

/* The ls -l style mode string: type, nine permission bits, a space. */
static void
server_strmode(mode_t mode, char out[12])
{
	static const struct {
		mode_t type;
		char c;
	} types[] = {
		{ S_IFDIR, 'd' }, { S_IFCHR, 'c' }, { S_IFBLK, 'b' },
		{ S_IFREG, '-' }, { S_IFLNK, 'l' }, { S_IFSOCK, 's' },
		{ S_IFIFO, 'p' },
	};
	size_t i;

	out[0] = '?';
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if ((mode & S_IFMT) == types[i].type)
			out[0] = types[i].c;
	}
	out[1] = (mode & S_IRUSR) ? 'r' : '-';
	out[2] = (mode & S_IWUSR) ? 'w' : '-';
	out[3] = (mode & S_ISUID) ? ((mode & S_IXUSR) ? 's' : 'S') :
	    ((mode & S_IXUSR) ? 'x' : '-');
	out[4] = (mode & S_IRGRP) ? 'r' : '-';
	out[5] = (mode & S_IWGRP) ? 'w' : '-';
	out[6] = (mode & S_ISGID) ? ((mode & S_IXGRP) ? 's' : 'S') :
	    ((mode & S_IXGRP) ? 'x' : '-');
	out[7] = (mode & S_IROTH) ? 'r' : '-';
	out[8] = (mode & S_IWOTH) ? 'w' : '-';
	out[9] = (mode & S_ISVTX) ? ((mode & S_IXOTH) ? 't' : 'T') :
	    ((mode & S_IXOTH) ? 'x' : '-');
	out[10] = ' ';
	out[11] = '\0';
}

static const char *
server_user_name(struct sftp_server *s, uid_t uid)
{
	struct passwd *pw;

	if (!s->cache_uid_ok || s->cache_uid != uid) {
		if ((pw = getpwuid(uid)) != NULL)
			snprintf(s->cache_user, sizeof(s->cache_user), "%s",
			    pw->pw_name);
		else
			snprintf(s->cache_user, sizeof(s->cache_user), "%lu",
			    (unsigned long)uid);
		s->cache_uid = uid;
		s->cache_uid_ok = 1;
	}
	return s->cache_user;
}

static const char *
server_group_name(struct sftp_server *s, gid_t gid)
{
	struct group *gr;

	if (!s->cache_gid_ok || s->cache_gid != gid) {
		if ((gr = getgrgid(gid)) != NULL)
			snprintf(s->cache_group, sizeof(s->cache_group), "%s",
			    gr->gr_name);
		else
			snprintf(s->cache_group, sizeof(s->cache_group), "%lu",
			    (unsigned long)gid);
		s->cache_gid = gid;
		s->cache_gid_ok = 1;
	}
	return s->cache_group;
}

/*
 * The long name of a directory entry, formatted as OpenSSH's sftp-server
 * does (ls -l): mode, links, owner, group, size, date, name.  Dates in
 * the last six months show the time, older or future ones the year.
 */
static int
server_longname(struct sftp_server *s, const char *name,
    const struct stat *st, struct buf *out)
{
	char mode[12], tbuf[32];
	const char *user, *group;
	struct tm tm;
	time_t now, mt = st->st_mtime;
	size_t sz = 0;
	int ulen, glen;

	server_strmode(st->st_mode, mode);
	user = server_user_name(s, st->st_uid);
	ulen = strlen(user) > 8 ? (int)strlen(user) : 8;
	group = server_group_name(s, st->st_gid);
	glen = strlen(group) > 8 ? (int)strlen(group) : 8;
	if (localtime_r(&mt, &tm) != NULL) {
		now = time(NULL);
		if (now - (365 * 24 * 60 * 60) / 2 < mt && now >= mt)
			sz = strftime(tbuf, sizeof(tbuf), "%b %e %H:%M", &tm);
		else
			sz = strftime(tbuf, sizeof(tbuf), "%b %e  %Y", &tm);
	}
	if (sz == 0)
		tbuf[0] = '\0';
	return buf_putf(out, "%s %3u %-*s %-*s %8llu %s %s", mode,
	    (unsigned)st->st_nlink, ulen, user, glen, group,
	    (unsigned long long)st->st_size, tbuf, name);
}

static int
server_readdir(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct server_handle *h;
	struct server_hstr hs;
	struct sftp_attrs a;
	struct dirent *de;
	struct stat st;
	size_t off, start, lnoff;
	uint32_t count = 0;
	int r, err;

	if ((r = server_get_hstr(m, &hs)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return r;
	if ((h = server_handle_find(s, &hs, 1)) == NULL)
		return server_bad_handle(s, id);
	if ((r = server_reply_begin(s, SSH_FXP_NAME, id, &off)) != 0 ||
	    (r = buf_put_u32(s->out, 0)) != 0)
		return r;
	start = buf_len(s->out);
	err = 0;
	while (count < SERVER_READDIR_MAX &&
	    buf_len(s->out) - start < SERVER_READDIR_BYTES) {
		errno = 0;
		if ((de = readdir(h->dir)) == NULL) {
			err = errno;
			break;
		}
		/* The root's ".." is the root itself, as in a chroot. */
		if (h->is_root && strcmp(de->d_name, "..") == 0)
			r = fstatat(h->fd, ".", &st, AT_SYMLINK_NOFOLLOW);
		else
			r = fstatat(h->fd, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW);
		if (r != 0)
			continue;	/* gone since readdir */
		sftp_attrs_from_stat(&a, &st);
		if ((r = buf_put_cstring(s->out, de->d_name)) != 0 ||
		    (r = buf_begin_string(s->out, &lnoff)) != 0 ||
		    (r = server_longname(s, de->d_name, &st, s->out)) != 0 ||
		    (r = buf_end_string(s->out, lnoff)) != 0 ||
		    (r = sftp_attrs_put(s->out, &a)) != 0)
			return r;
		count++;
	}
	if (count == 0) {
		server_reply_drop(s, off);
		if (err != 0)
			return server_errno(s, id, err);
		return server_status(s, id, SSH_FX_EOF, NULL);
	}
	if ((r = buf_poke_u32(s->out, off + 9, count)) != 0)
		return r;
	return server_reply_end(s, off);
}

/* ---- Names ---- */

/* Parse one path, log, run op on it, reply with its status. */
static int
server_path_op(struct sftp_server *s, uint32_t id, struct buf *m,
    const char *what, int (*op)(struct sftp_fs *, const char *))
{
	char *vpath = NULL;
	int r;

	if ((r = server_get_path(s, m, &vpath)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	log_info("%s name \"%s\"", what, server_ln(s, 0, vpath));
	if (op(s->fs, vpath) != 0)
		r = server_errno(s, id, errno);
	else
		r = server_ok(s, id);
 out:
	free(vpath);
	return r;
}

static int
server_remove(struct sftp_server *s, uint32_t id, struct buf *m)
{
	return server_path_op(s, id, m, "remove", sftp_fs_unlink);
}

static int
server_rmdir(struct sftp_server *s, uint32_t id, struct buf *m)
{
	return server_path_op(s, id, m, "rmdir", sftp_fs_rmdir);
}

static int
server_mkdir(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct sftp_attrs a;
	char *vpath = NULL;
	mode_t mode;
	int r;

	if ((r = server_get_path(s, m, &vpath)) != 0 ||
	    (r = sftp_attrs_get(m, &a)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	mode = (a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) ?
	    (mode_t)(a.perm & 07777) : 0777;
	log_info("mkdir name \"%s\" mode 0%o", server_ln(s, 0, vpath),
	    (unsigned)mode);
	if (sftp_fs_mkdir(s->fs, vpath, mode) != 0)
		r = server_errno(s, id, errno);
	else
		r = server_ok(s, id);
 out:
	free(vpath);
	return r;
}

static int
server_realpath(struct sftp_server *s, uint32_t id, struct buf *m)
{
	char *vpath = NULL, *res = NULL;
	int r;

	if ((r = server_get_path(s, m, &vpath)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	log_debug("realpath \"%s\"", server_ln(s, 0, vpath));
	if (sftp_fs_realpath(s->fs, vpath, &res) != 0)
		r = server_errno(s, id, errno);
	else
		r = server_name1(s, id, res);
 out:
	free(vpath);
	free(res);
	return r;
}

/* Two paths, as RENAME, SYMLINK, posix-rename and hardlink carry. */
static int
server_get_2paths(struct sftp_server *s, struct buf *m, char **ap,
    char **bp)
{
	int r;

	if ((r = server_get_path(s, m, ap)) != 0 ||
	    (r = server_get_path(s, m, bp)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return r;
	return 0;
}

static int
server_rename_common(struct sftp_server *s, uint32_t id, struct buf *m,
    int posix)
{
	char *op = NULL, *np = NULL;
	int r;

	if ((r = server_get_2paths(s, m, &op, &np)) != 0)
		goto out;
	log_info("%srename old \"%s\" new \"%s\"", posix ? "posix-" : "",
	    server_ln(s, 0, op), server_ln(s, 1, np));
	if (sftp_fs_rename(s->fs, op, np, !posix) != 0)
		r = server_errno(s, id, errno);
	else
		r = server_ok(s, id);
 out:
	free(op);
	free(np);
	return r;
}

static int
server_rename(struct sftp_server *s, uint32_t id, struct buf *m)
{
	return server_rename_common(s, id, m, 0);
}

static int
server_posix_rename(struct sftp_server *s, uint32_t id, struct buf *m)
{
	return server_rename_common(s, id, m, 1);
}

static int
server_hardlink(struct sftp_server *s, uint32_t id, struct buf *m)
{
	char *op = NULL, *np = NULL;
	int r;

	if ((r = server_get_2paths(s, m, &op, &np)) != 0)
		goto out;
	log_info("hardlink old \"%s\" new \"%s\"", server_ln(s, 0, op),
	    server_ln(s, 1, np));
	if (sftp_fs_link(s->fs, op, np) != 0)
		r = server_errno(s, id, errno);
	else
		r = server_ok(s, id);
 out:
	free(op);
	free(np);
	return r;
}

static int
server_readlink(struct sftp_server *s, uint32_t id, struct buf *m)
{
	char *vpath = NULL, *target = NULL;
	int r;

	if ((r = server_get_path(s, m, &vpath)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	log_debug("readlink \"%s\"", server_ln(s, 0, vpath));
	if (sftp_fs_readlink(s->fs, vpath, &target) != 0)
		r = server_errno(s, id, errno);
	else
		r = server_name1(s, id, target);
 out:
	free(vpath);
	free(target);
	return r;
}

static int
server_symlink(struct sftp_server *s, uint32_t id, struct buf *m)
{
	char *target = NULL, *lpath = NULL;
	int r;

	/* OpenSSH's order: target first, then the link (PROTOCOL 4.1). */
	if ((r = buf_get_cstring(m, &target, NULL)) != 0 ||
	    (r = server_get_path(s, m, &lpath)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	log_info("symlink old \"%s\" new \"%s\"", server_ln(s, 0, target),
	    server_ln(s, 1, lpath));
	if (sftp_fs_symlink(s->fs, target, lpath) != 0)
		r = server_errno(s, id, errno);
	else
		r = server_ok(s, id);
 out:
	free(target);
	free(lpath);
	return r;
}

/* ---- Extensions ---- */

static int
server_statvfs_reply(struct sftp_server *s, uint32_t id,
    const struct statvfs *st)
{
	uint64_t flag = 0;
	size_t off;
	int r;

	if (st->f_flag & ST_RDONLY)
		flag |= SSH_FXE_STATVFS_ST_RDONLY;
	if (st->f_flag & ST_NOSUID)
		flag |= SSH_FXE_STATVFS_ST_NOSUID;
	if ((r = server_reply_begin(s, SSH_FXP_EXTENDED_REPLY, id,
	    &off)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_bsize)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_frsize)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_blocks)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_bfree)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_bavail)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_files)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_ffree)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_favail)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_fsid)) != 0 ||
	    (r = buf_put_u64(s->out, flag)) != 0 ||
	    (r = buf_put_u64(s->out, st->f_namemax)) != 0)
		return r;
	return server_reply_end(s, off);
}

static int
server_statvfs(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct statvfs st;
	char *vpath = NULL;
	int r;

	if ((r = server_get_path(s, m, &vpath)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	log_debug("statvfs \"%s\"", server_ln(s, 0, vpath));
	if (sftp_fs_statvfs(s->fs, vpath, &st) != 0)
		r = server_errno(s, id, errno);
	else
		r = server_statvfs_reply(s, id, &st);
 out:
	free(vpath);
	return r;
}

static int
server_fstatvfs(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct server_handle *h;
	struct server_hstr hs;
	struct statvfs st;
	int r;

	if ((r = server_get_hstr(m, &hs)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return r;
	if ((h = server_handle_find(s, &hs, -1)) == NULL)
		return server_bad_handle(s, id);
	if (fstatvfs(h->fd, &st) != 0)
		return server_errno(s, id, errno);
	return server_statvfs_reply(s, id, &st);
}

static int
server_fsync(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct server_handle *h;
	struct server_hstr hs;
	int r;

	if ((r = server_get_hstr(m, &hs)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return r;
	if ((h = server_handle_find(s, &hs, 0)) == NULL)
		return server_bad_handle(s, id);
	if (fsync(h->fd) != 0)
		return server_errno(s, id, errno);
	return server_ok(s, id);
}

static int
server_limits(struct sftp_server *s, uint32_t id, struct buf *m)
{
	size_t off;
	int r;

	if ((r = buf_expect_end(m)) != 0)
		return r;
	if ((r = server_reply_begin(s, SSH_FXP_EXTENDED_REPLY, id,
	    &off)) != 0 ||
	    (r = buf_put_u64(s->out, SFTP_MAX_MSG)) != 0 ||
	    (r = buf_put_u64(s->out, SFTP_MAX_RW)) != 0 ||
	    (r = buf_put_u64(s->out, SFTP_MAX_RW)) != 0 ||
	    (r = buf_put_u64(s->out, s->max_handles)) != 0)
		return r;
	return server_reply_end(s, off);
}

/*
 * The home directory of user ("" = ours), as a virtual path.  Other
 * users' homes exist only when the root is the host's "/".
 */
static char *
server_home_of(struct sftp_server *s, const char *user)
{
	struct passwd *pw;

	if (user[0] == '\0')
		return strdup(s->home);
	if (!s->root_is_slash || (pw = getpwnam(user)) == NULL) {
		errno = ENOENT;
		return NULL;
	}
	return strdup(pw->pw_dir);
}

static int
server_expand_path(struct sftp_server *s, uint32_t id, struct buf *m)
{
	char *path = NULL, *vpath = NULL, *home = NULL, *res = NULL;
	char *user = NULL, *rest;
	size_t ulen;
	int r;

	if ((r = buf_get_cstring(m, &path, NULL)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	rest = path;
	if (path[0] == '~') {
		ulen = strcspn(path + 1, "/");
		if ((user = strndup(path + 1, ulen)) == NULL) {
			r = FERR_ALLOC;
			goto out;
		}
		rest = path + 1 + ulen;
		while (*rest == '/')
			rest++;
		if ((home = server_home_of(s, user)) == NULL) {
			r = server_status(s, id, SSH_FX_NO_SUCH_FILE,
			    "No such user");
			goto out;
		}
		vpath = sftp_fs_join(home, rest);
	} else
		vpath = sftp_fs_join(s->cwd, path);
	if (vpath == NULL) {
		r = server_errno(s, id, errno);
		goto out;
	}
	log_debug("expand-path \"%s\" -> \"%s\"", server_ln(s, 0, path),
	    server_ln(s, 1, vpath));
	if (sftp_fs_realpath(s->fs, vpath, &res) != 0)
		r = server_errno(s, id, errno);
	else
		r = server_name1(s, id, res);
 out:
	free(path);
	free(vpath);
	free(home);
	free(user);
	free(res);
	return r;
}

static int
server_home_directory(struct sftp_server *s, uint32_t id, struct buf *m)
{
	char *user = NULL, *home = NULL;
	int r;

	if ((r = buf_get_cstring(m, &user, NULL)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	if ((home = server_home_of(s, user)) == NULL)
		r = server_status(s, id, SSH_FX_NO_SUCH_FILE, "No such user");
	else
		r = server_name1(s, id, home);
 out:
	free(user);
	free(home);
	return r;
}

/* Append the names of a packed list of uint32 ids as strings. */
static int
server_put_id_names(struct sftp_server *s, struct buf *ids, int groups)
{
	struct passwd *pw;
	struct group *gr;
	const char *name;
	size_t off;
	uint32_t v;
	int r;

	if ((r = buf_begin_string(s->out, &off)) != 0)
		return r;
	while (buf_len(ids) > 0) {
		if ((r = buf_get_u32(ids, &v)) != 0)
			return r;
		name = "";
		if (groups) {
			if ((gr = getgrgid((gid_t)v)) != NULL)
				name = gr->gr_name;
		} else if ((pw = getpwuid((uid_t)v)) != NULL)
			name = pw->pw_name;
		if ((r = buf_put_cstring(s->out, name)) != 0)
			return r;
	}
	return buf_end_string(s->out, off);
}

static int
server_users_groups(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct buf *uids = NULL, *gids = NULL;
	size_t off;
	int r;

	if ((r = buf_froms(m, &uids)) != 0 ||
	    (r = buf_froms(m, &gids)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	if (buf_len(uids) % 4 != 0 || buf_len(gids) % 4 != 0) {
		r = FERR_FORMAT;
		goto out;
	}
	if ((r = server_reply_begin(s, SSH_FXP_EXTENDED_REPLY, id,
	    &off)) != 0 ||
	    (r = server_put_id_names(s, uids, 0)) != 0 ||
	    (r = server_put_id_names(s, gids, 1)) != 0)
		goto out;
	if (buf_len(s->out) - off > SFTP_MAX_MSG) {
		server_reply_drop(s, off);
		r = server_status(s, id, SSH_FX_FAILURE, "Too many ids");
		goto out;
	}
	r = server_reply_end(s, off);
 out:
	buf_free(uids);
	buf_free(gids);
	return r;
}

static int
server_copy_data(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct server_handle *rh, *wh;
	struct server_hstr rhs, whs;
	uint64_t roff, rlen, woff, left;
	uint8_t *chunk = NULL;
	size_t want, done;
	ssize_t n, w;
	int r;

	if ((r = server_get_hstr(m, &rhs)) != 0 ||
	    (r = buf_get_u64(m, &roff)) != 0 ||
	    (r = buf_get_u64(m, &rlen)) != 0 ||
	    (r = server_get_hstr(m, &whs)) != 0 ||
	    (r = buf_get_u64(m, &woff)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return r;
	if ((rh = server_handle_find(s, &rhs, 0)) == NULL ||
	    (wh = server_handle_find(s, &whs, 0)) == NULL)
		return server_bad_handle(s, id);
	if (rh == wh)
		return server_status(s, id, SSH_FX_FAILURE,
		    "Read and write handles are the same");
	if (rh->accmode == O_WRONLY || wh->accmode == O_RDONLY)
		return server_status(s, id, SSH_FX_PERMISSION_DENIED,
		    "Handle not open for reading or writing");
	if (roff > INT64_MAX || woff > INT64_MAX ||
	    (rlen != 0 && (rlen > INT64_MAX - roff ||
	    rlen > INT64_MAX - woff)))
		return server_errno(s, id, EINVAL);
	log_info("copy-data from \"%s\" offset %llu length %llu to \"%s\" "
	    "offset %llu", server_ln(s, 0, rh->vpath), (unsigned long long)roff,
	    (unsigned long long)rlen, server_ln(s, 1, wh->vpath),
	    (unsigned long long)woff);
	left = rlen;
#ifdef HAVE_COPY_FILE_RANGE
	/* Let the kernel copy, or share extents, where it can. */
	for (;;) {
		off_t ro = (off_t)roff, wo = (off_t)woff;

		want = SERVER_COPY_STEP;
		if (rlen != 0 && left < want)
			want = (size_t)left;
		if (want == 0)
			return server_ok(s, id);
		n = copy_file_range(rh->fd, &ro, wh->fd, &wo, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == EINVAL ||
		    errno == ENOSYS || errno == EOPNOTSUPP || errno == EBADF))
			break;	/* not here: read and write below */
		if (n < 0)
			return server_errno(s, id, errno);
		if (n == 0)
			return server_ok(s, id);
		rh->nread += (uint64_t)n;
		wh->nwritten += (uint64_t)n;
		roff += (uint64_t)n;
		woff += (uint64_t)n;
		left -= rlen != 0 ? (uint64_t)n : 0;
	}
#endif
	if ((chunk = malloc(SERVER_CHUNK)) == NULL)
		return FERR_ALLOC;
	for (;;) {
		want = SERVER_CHUNK;
		if (rlen != 0 && left < want)
			want = (size_t)left;
		if (want == 0)
			break;
		n = pread(rh->fd, chunk, want, (off_t)roff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = server_errno(s, id, errno);
			goto out;
		}
		if (n == 0)
			break;
		for (done = 0; done < (size_t)n; done += (size_t)w) {
			w = pwrite(wh->fd, chunk + done, (size_t)n - done,
			    (off_t)woff + (off_t)done);
			if (w < 0 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w <= 0) {
				r = server_errno(s, id, w < 0 ? errno : EIO);
				goto out;
			}
		}
		rh->nread += (uint64_t)n;
		wh->nwritten += (uint64_t)n;
		roff += (uint64_t)n;
		woff += (uint64_t)n;
		left -= rlen != 0 ? (uint64_t)n : 0;
	}
	r = server_ok(s, id);
 out:
	free(chunk);
	return r;
}

static const struct {
	const char *name;
	const EVP_MD *(*md)(void);
} server_hashes[] = {
	{ "md5", EVP_md5 }, { "sha1", EVP_sha1 }, { "sha224", EVP_sha224 },
	{ "sha256", EVP_sha256 }, { "sha384", EVP_sha384 },
	{ "sha512", EVP_sha512 },
};

/* The first algorithm of the client's comma-separated list we have. */
static int
server_pick_hash(const char *list)
{
	const char *p = list, *e;
	size_t len, i;

	while (*p != '\0') {
		e = strchr(p, ',');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < sizeof(server_hashes) /
		    sizeof(server_hashes[0]); i++) {
			if (strlen(server_hashes[i].name) == len &&
			    strncmp(server_hashes[i].name, p, len) == 0)
				return (int)i;
		}
		if (e == NULL)
			break;
		p = e + 1;
	}
	return -1;
}

/*
 * check-file: hash [start, start + length) of fd (length 0: to the end of
 * the file), one digest for the whole range (block 0) or one per block.
 */
static int
server_check_file(struct sftp_server *s, uint32_t id, int fd,
    const char *algs, uint64_t start, uint64_t length, uint32_t block)
{
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md;
	struct stat st;
	uint64_t end, pos, blockend, nblocks;
	uint8_t *chunk = NULL, dig[EVP_MAX_MD_SIZE];
	unsigned int dlen;
	size_t off, want;
	ssize_t n;
	int r, alg;

	if ((alg = server_pick_hash(algs)) < 0)
		return server_status(s, id, SSH_FX_FAILURE,
		    "No supported hash algorithm");
	if (block != 0 && block < SERVER_CHECK_MIN_BLOCK)
		return server_status(s, id, SSH_FX_FAILURE,
		    "Block size below 256");
	if (fstat(fd, &st) != 0)
		return server_errno(s, id, errno);
	if (!S_ISREG(st.st_mode))
		return server_status(s, id, SSH_FX_FAILURE,
		    "Not a regular file");
	if (start > INT64_MAX)
		return server_errno(s, id, EINVAL);
	end = (uint64_t)st.st_size;
	if (length != 0 && length < end - start && start <= end)
		end = start + length;
	if (start > end)
		end = start;
	md = server_hashes[alg].md();
	nblocks = block == 0 ? 1 : (end - start + block - 1) / block;
	if (nblocks > (SFTP_MAX_MSG - 1024) / (uint64_t)EVP_MD_get_size(md))
		return server_status(s, id, SSH_FX_FAILURE,
		    "Too many blocks for one reply");
	if ((chunk = malloc(SERVER_CHUNK)) == NULL ||
	    (ctx = EVP_MD_CTX_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = server_reply_begin(s, SSH_FXP_EXTENDED_REPLY, id,
	    &off)) != 0 ||
	    (r = buf_put_cstring(s->out, server_hashes[alg].name)) != 0)
		goto out;
	pos = start;
	do {
		blockend = block == 0 || end - pos <= block ? end : pos + block;
		if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
			r = FERR_LIBCRYPTO;
			goto out;
		}
		while (pos < blockend) {
			want = blockend - pos < SERVER_CHUNK ?
			    (size_t)(blockend - pos) : SERVER_CHUNK;
			n = pread(fd, chunk, want, (off_t)pos);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				server_reply_drop(s, off);
				r = server_errno(s, id, n < 0 ? errno : EIO);
				goto out;
			}
			if (EVP_DigestUpdate(ctx, chunk, (size_t)n) != 1) {
				r = FERR_LIBCRYPTO;
				goto out;
			}
			pos += (uint64_t)n;
		}
		if (EVP_DigestFinal_ex(ctx, dig, &dlen) != 1) {
			r = FERR_LIBCRYPTO;
			goto out;
		}
		if ((r = buf_put(s->out, dig, dlen)) != 0)
			goto out;
	} while (pos < end);
	r = server_reply_end(s, off);
 out:
	EVP_MD_CTX_free(ctx);
	free(chunk);
	return r;
}

static int
server_check_file_handle(struct sftp_server *s, uint32_t id, struct buf *m)
{
	struct server_handle *h;
	struct server_hstr hs;
	uint64_t start, length;
	uint32_t block;
	char *algs = NULL;
	int r;

	if ((r = server_get_hstr(m, &hs)) != 0 ||
	    (r = buf_get_cstring(m, &algs, NULL)) != 0 ||
	    (r = buf_get_u64(m, &start)) != 0 ||
	    (r = buf_get_u64(m, &length)) != 0 ||
	    (r = buf_get_u32(m, &block)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	if ((h = server_handle_find(s, &hs, 0)) == NULL)
		r = server_bad_handle(s, id);
	else if (h->accmode == O_WRONLY)
		r = server_status(s, id, SSH_FX_PERMISSION_DENIED,
		    "Handle not open for reading");
	else
		r = server_check_file(s, id, h->fd, algs, start, length,
		    block);
 out:
	free(algs);
	return r;
}

static int
server_check_file_name(struct sftp_server *s, uint32_t id, struct buf *m)
{
	uint64_t start, length;
	uint32_t block;
	char *vpath = NULL, *algs = NULL;
	int r, fd;

	if ((r = server_get_path(s, m, &vpath)) != 0 ||
	    (r = buf_get_cstring(m, &algs, NULL)) != 0 ||
	    (r = buf_get_u64(m, &start)) != 0 ||
	    (r = buf_get_u64(m, &length)) != 0 ||
	    (r = buf_get_u32(m, &block)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	log_debug("check-file \"%s\"", server_ln(s, 0, vpath));
	if ((fd = sftp_fs_open(s->fs, vpath, O_RDONLY | O_NONBLOCK, 0)) < 0) {
		r = server_errno(s, id, errno);
		goto out;
	}
	r = server_check_file(s, id, fd, algs, start, length, block);
	close(fd);
 out:
	free(vpath);
	free(algs);
	return r;
}

/* ---- Dispatch ---- */

static const struct server_req server_reqs[] = {
	{ SSH_FXP_OPEN, NULL, SFTP_REQ_OPEN, 0, server_open },
	{ SSH_FXP_CLOSE, NULL, SFTP_REQ_CLOSE, 0, server_close },
	{ SSH_FXP_READ, NULL, SFTP_REQ_READ, 0, server_read },
	{ SSH_FXP_WRITE, NULL, SFTP_REQ_WRITE, 1, server_write },
	{ SSH_FXP_LSTAT, NULL, SFTP_REQ_LSTAT, 0, server_lstat },
	{ SSH_FXP_FSTAT, NULL, SFTP_REQ_FSTAT, 0, server_fstat },
	{ SSH_FXP_SETSTAT, NULL, SFTP_REQ_SETSTAT, 1, server_setstat },
	{ SSH_FXP_FSETSTAT, NULL, SFTP_REQ_FSETSTAT, 1,
	    server_fsetstat },
	{ SSH_FXP_OPENDIR, NULL, SFTP_REQ_OPENDIR, 0, server_opendir },
	{ SSH_FXP_READDIR, NULL, SFTP_REQ_READDIR, 0, server_readdir },
	{ SSH_FXP_REMOVE, NULL, SFTP_REQ_REMOVE, 1, server_remove },
	{ SSH_FXP_MKDIR, NULL, SFTP_REQ_MKDIR, 1, server_mkdir },
	{ SSH_FXP_RMDIR, NULL, SFTP_REQ_RMDIR, 1, server_rmdir },
	{ SSH_FXP_REALPATH, NULL, SFTP_REQ_REALPATH, 0,
	    server_realpath },
	{ SSH_FXP_STAT, NULL, SFTP_REQ_STAT, 0, server_stat },
	{ SSH_FXP_RENAME, NULL, SFTP_REQ_RENAME, 1, server_rename },
	{ SSH_FXP_READLINK, NULL, SFTP_REQ_READLINK, 0,
	    server_readlink },
	{ SSH_FXP_SYMLINK, NULL, SFTP_REQ_SYMLINK, 1, server_symlink },
	{ SSH_FXP_EXTENDED, "posix-rename@openssh.com",
	    SFTP_REQ_POSIX_RENAME, 1, server_posix_rename },
	{ SSH_FXP_EXTENDED, "statvfs@openssh.com", SFTP_REQ_STATVFS, 0,
	    server_statvfs },
	{ SSH_FXP_EXTENDED, "fstatvfs@openssh.com", SFTP_REQ_FSTATVFS,
	    0, server_fstatvfs },
	{ SSH_FXP_EXTENDED, "hardlink@openssh.com", SFTP_REQ_HARDLINK,
	    1, server_hardlink },
	{ SSH_FXP_EXTENDED, "fsync@openssh.com", SFTP_REQ_FSYNC, 1,
	    server_fsync },
	{ SSH_FXP_EXTENDED, "lsetstat@openssh.com", SFTP_REQ_LSETSTAT,
	    1, server_lsetstat },
	{ SSH_FXP_EXTENDED, "limits@openssh.com", SFTP_REQ_LIMITS, 0,
	    server_limits },
	{ SSH_FXP_EXTENDED, "expand-path@openssh.com",
	    SFTP_REQ_EXPAND_PATH, 0, server_expand_path },
	{ SSH_FXP_EXTENDED, "copy-data", SFTP_REQ_COPY_DATA, 1,
	    server_copy_data },
	{ SSH_FXP_EXTENDED, "home-directory", SFTP_REQ_HOME_DIRECTORY,
	    0, server_home_directory },
	{ SSH_FXP_EXTENDED, "users-groups-by-id@openssh.com",
	    SFTP_REQ_USERS_GROUPS_BY_ID, 0, server_users_groups },
	{ SSH_FXP_EXTENDED, "check-file-handle",
	    SFTP_REQ_CHECK_FILE_HANDLE, 0, server_check_file_handle },
	{ SSH_FXP_EXTENDED, "check-file-name",
	    SFTP_REQ_CHECK_FILE_NAME, 0, server_check_file_name },
	{ SSH_FXP_EXTENDED, SFTP_ARCHIVE_EXT, SFTP_REQ_TREE_ARCHIVE, 0,
	    server_tree_archive },
};

/* Errors that mean "the request was malformed", not "we failed". */
static int
server_is_parse_error(int r)
{
	switch (r) {
	case FERR_INCOMPLETE:
	case FERR_FORMAT:
	case FERR_TRAILING_DATA:
	case FERR_STRING_TOO_LARGE:
	case FERR_NUMBER_RANGE:
		return 1;
	default:
		return 0;
	}
}

/* Handle one framed message (type onward).  <0 only for fatal errors. */
static int
server_message(struct sftp_server *s, struct buf *m)
{
	const struct server_req *rq = NULL;
	const uint8_t *name = NULL;
	size_t i, namelen = 0, mark;
	uint32_t id = 0;
	uint8_t type;
	int r;

	if ((r = buf_get_u8(m, &type)) != 0) {
		if (!s->initialized) {
			log_error("protocol error: empty first message");
			return FERR_PROTOCOL;
		}
		return server_status(s, 0, SSH_FX_BAD_MESSAGE,
		    "Empty message");
	}
	if (!s->initialized || type == SSH_FXP_INIT) {
		if (s->initialized || type != SSH_FXP_INIT) {
			log_error("protocol error: message %u %s", type,
			    s->initialized ? "after INIT" : "before INIT");
			return FERR_PROTOCOL;
		}
		mark = buf_len(s->out);
		if ((r = server_init(s, m)) != 0) {
			server_reply_drop(s, mark);
			log_error("malformed INIT");
			return FERR_PROTOCOL;
		}
		return 0;
	}
	if ((r = buf_get_u32(m, &id)) != 0)
		return server_status(s, 0, SSH_FX_BAD_MESSAGE,
		    "Message too short");
	if (type == SSH_FXP_EXTENDED &&
	    (r = buf_get_string_direct(m, &name, &namelen)) != 0)
		return server_status(s, id, SSH_FX_BAD_MESSAGE,
		    "Malformed extended request");
	for (i = 0; i < sizeof(server_reqs) / sizeof(server_reqs[0]); i++) {
		if (server_reqs[i].type != type)
			continue;
		if (type == SSH_FXP_EXTENDED &&
		    (strlen(server_reqs[i].ext) != namelen ||
		    memcmp(server_reqs[i].ext, name, namelen) != 0))
			continue;
		rq = &server_reqs[i];
		break;
	}
	if (rq == NULL) {
		log_verbose("unsupported request type %u", type);
		return server_status(s, id, SSH_FX_OP_UNSUPPORTED, NULL);
	}
	if (s->denied & SFTP_REQ_BIT(rq->req)) {
		log_verbose("refusing denied request %s",
		    server_req_names[rq->req]);
		return server_status(s, id, SSH_FX_PERMISSION_DENIED,
		    "Request denied by server policy");
	}
	if (s->read_only && rq->writes) {
		log_verbose("refusing %s in read-only mode",
		    server_req_names[rq->req]);
		return server_status(s, id, SSH_FX_PERMISSION_DENIED,
		    "Read-only server");
	}
	mark = buf_len(s->out);
	if ((r = rq->fn(s, id, m)) != 0) {
		server_reply_drop(s, mark);
		if (server_is_parse_error(r)) {
			log_verbose("malformed %s request: %s",
			    server_req_names[rq->req], err_str(r));
			return server_status(s, id, SSH_FX_BAD_MESSAGE,
			    err_str(r));
		}
		log_error("%s: %s", server_req_names[rq->req], err_str(r));
		return server_status(s, id, SSH_FX_FAILURE, err_str(r));
	}
	return 0;
}

/* Process queued input while the output is under its cap. */
static int
server_run(struct sftp_server *s)
{
	struct buf *m;
	uint32_t len, id;
	size_t n;
	int r;

	while (!s->done && buf_len(s->out) < s->out_cap) {
		if (s->discard > 0) {
			n = buf_len(s->in) < s->discard ? buf_len(s->in) :
			    (size_t)s->discard;
			if (n == 0 || buf_consume(s->in, n) != 0)
				break;
			s->discard -= n;
			continue;
		}
		if (buf_peek_u32(s->in, 0, &len) != 0)
			break;
		if (len > SFTP_MAX_MSG) {
			/* Skip it whole; the id, when present, gets a reply. */
			if (!s->initialized) {
				log_error("oversized first message");
				s->done = 1;
				return FERR_PROTOCOL;
			}
			if (buf_peek_u32(s->in, 5, &id) != 0)
				break;
			log_error("message of %u bytes exceeds %u", len,
			    SFTP_MAX_MSG);
			if ((r = server_status(s, id, SSH_FX_BAD_MESSAGE,
			    "Message too long")) != 0 ||
			    (r = buf_consume(s->in, 4)) != 0) {
				s->done = 1;
				return FERR_PROTOCOL;
			}
			s->discard = len;
			continue;
		}
		if (buf_len(s->in) - 4 < len)
			break;
		if ((m = buf_from(buf_ptr(s->in) + 4, len)) == NULL) {
			s->done = 1;
			return FERR_ALLOC;
		}
		r = server_message(s, m);
		buf_free(m);
		if (r != 0 || buf_consume(s->in, 4 + (size_t)len) != 0) {
			s->done = 1;
			return FERR_PROTOCOL;
		}
	}
	return 0;
}

struct sftp_server *
sftp_server_new(const struct sftp_server_opts *opts)
{
	struct sftp_server *s;
	char cwd[PATH_MAX];
	const char *root = opts->root != NULL ? opts->root : "/";
	const char *start = opts->start_dir;
	int err;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->root_is_slash = strcmp(root, "/") == 0;
	if (start == NULL) {
		if (s->root_is_slash && getcwd(cwd, sizeof(cwd)) != NULL)
			start = cwd;
		else
			start = "/";
	}
	s->max_handles = opts->max_handles != 0 ? opts->max_handles :
	    SFTP_SERVER_MAX_HANDLES;
	s->out_cap = opts->out_cap != 0 ? opts->out_cap : SFTP_SERVER_OUT_CAP;
	s->read_only = opts->read_only;
	s->denied = opts->denied;
	if ((s->fs = sftp_fs_new(root, opts->no_openat2)) == NULL ||
	    (s->cwd = sftp_fs_join("/", start)) == NULL ||
	    (s->home = sftp_fs_join("/", opts->home_dir != NULL ?
	    opts->home_dir : s->cwd)) == NULL ||
	    (s->handles = calloc(s->max_handles,
	    sizeof(*s->handles))) == NULL ||
	    (s->in = buf_new()) == NULL || (s->out = buf_new()) == NULL ||
	    buf_set_max_size(s->in, SERVER_IN_MAX) != 0 ||
	    buf_set_max_size(s->out, s->out_cap + SFTP_MAX_MSG + 1024) != 0) {
		err = errno != 0 ? errno : ENOMEM;
		sftp_server_free(s);
		errno = err;
		return NULL;
	}
	return s;
}

size_t
sftp_server_input_space(const struct sftp_server *s)
{
	if (s->done)
		return 0;
	return buf_avail(s->in);
}

int
sftp_server_input(struct sftp_server *s, const uint8_t *data, size_t len)
{
	int r;

	if (s->done)
		return FERR_PROTOCOL;
	if (len > buf_avail(s->in))
		return FERR_NO_SPACE;
	if ((r = buf_put(s->in, data, len)) != 0)
		return r;
	return server_run(s);
}

int
sftp_server_process(struct sftp_server *s)
{
	if (s->done)
		return FERR_PROTOCOL;
	return server_run(s);
}

struct buf *
sftp_server_output(struct sftp_server *s)
{
	return s->out;
}

int
sftp_server_done(const struct sftp_server *s)
{
	return s->done;
}

void
sftp_server_free(struct sftp_server *s)
{
	unsigned int i;

	if (s == NULL)
		return;
	if (s->handles != NULL) {
		for (i = 0; i < s->max_handles; i++) {
			if (s->handles[i].used)
				server_handle_close(s, &s->handles[i]);
		}
	}
	free(s->handles);
	sftp_fs_free(s->fs);
	buf_free(s->in);
	buf_free(s->out);
	free(s->cwd);
	free(s->home);
	free(s);
}
