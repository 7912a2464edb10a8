/*
 * SFTP protocol version 3 (draft-ietf-secsh-filexfer-02) as OpenSSH
 * speaks it: message types, status codes, flags, limits, and the ATTRS
 * codec shared by the server and client engines.
 */
#ifndef FERRY_SFTP_H
#define FERRY_SFTP_H

#include <stdint.h>
#include <sys/stat.h>

#include "ferry/buf.h"

#define SFTP_VERSION		3

/*
 * Largest message (the value of the uint32 length field) either side
 * accepts: 256 KiB, as OpenSSH.  READ and WRITE carry at most
 * SFTP_MAX_RW bytes of data (255 KiB), leaving room for the header.
 */
#define SFTP_MAX_MSG		(256U * 1024U)
#define SFTP_MAX_RW		(SFTP_MAX_MSG - 1024U)

enum sftp_msg {
	SSH_FXP_INIT = 1,
	SSH_FXP_VERSION = 2,
	SSH_FXP_OPEN = 3,
	SSH_FXP_CLOSE = 4,
	SSH_FXP_READ = 5,
	SSH_FXP_WRITE = 6,
	SSH_FXP_LSTAT = 7,
	SSH_FXP_FSTAT = 8,
	SSH_FXP_SETSTAT = 9,
	SSH_FXP_FSETSTAT = 10,
	SSH_FXP_OPENDIR = 11,
	SSH_FXP_READDIR = 12,
	SSH_FXP_REMOVE = 13,
	SSH_FXP_MKDIR = 14,
	SSH_FXP_RMDIR = 15,
	SSH_FXP_REALPATH = 16,
	SSH_FXP_STAT = 17,
	SSH_FXP_RENAME = 18,
	SSH_FXP_READLINK = 19,
	SSH_FXP_SYMLINK = 20,
	SSH_FXP_STATUS = 101,
	SSH_FXP_HANDLE = 102,
	SSH_FXP_DATA = 103,
	SSH_FXP_NAME = 104,
	SSH_FXP_ATTRS = 105,
	SSH_FXP_EXTENDED = 200,
	SSH_FXP_EXTENDED_REPLY = 201,
};

enum sftp_status {
	SSH_FX_OK = 0,
	SSH_FX_EOF = 1,
	SSH_FX_NO_SUCH_FILE = 2,
	SSH_FX_PERMISSION_DENIED = 3,
	SSH_FX_FAILURE = 4,
	SSH_FX_BAD_MESSAGE = 5,
	SSH_FX_NO_CONNECTION = 6,
	SSH_FX_CONNECTION_LOST = 7,
	SSH_FX_OP_UNSUPPORTED = 8,
};

/* ATTRS flags. */
#define SSH_FILEXFER_ATTR_SIZE		0x00000001U
#define SSH_FILEXFER_ATTR_UIDGID	0x00000002U
#define SSH_FILEXFER_ATTR_PERMISSIONS	0x00000004U
#define SSH_FILEXFER_ATTR_ACMODTIME	0x00000008U
#define SSH_FILEXFER_ATTR_EXTENDED	0x80000000U

/* OPEN pflags. */
#define SSH_FXF_READ		0x00000001U
#define SSH_FXF_WRITE		0x00000002U
#define SSH_FXF_APPEND		0x00000004U
#define SSH_FXF_CREAT		0x00000008U
#define SSH_FXF_TRUNC		0x00000010U
#define SSH_FXF_EXCL		0x00000020U

/* statvfs@openssh.com f_flag bits. */
#define SSH_FXE_STATVFS_ST_RDONLY	0x1U
#define SSH_FXE_STATVFS_ST_NOSUID	0x2U

/* Most extended attribute pairs accepted in one ATTRS (they are skipped). */
#define SFTP_ATTRS_MAX_EXTENDED	64U

struct sftp_attrs {
	uint32_t flags;		/* SSH_FILEXFER_ATTR_*: which fields are set */
	uint64_t size;
	uint32_t uid;
	uint32_t gid;
	uint32_t perm;
	uint32_t atime;
	uint32_t mtime;
};

/*
 * Parse an ATTRS structure from b.  Extended pairs are checked and
 * skipped (at most SFTP_ATTRS_MAX_EXTENDED); the flag is cleared.
 * Unknown flag bits are rejected with FERR_FORMAT.
 */
int sftp_attrs_get(struct buf *b, struct sftp_attrs *a) FERRY_WUR;

/* Append an ATTRS structure (without extended pairs) to b. */
int sftp_attrs_put(struct buf *b, const struct sftp_attrs *a) FERRY_WUR;

/* Fill a from a stat result: size, uid/gid, permissions and times. */
void sftp_attrs_from_stat(struct sftp_attrs *a, const struct stat *st);

/* The standard text of a status code ("No such file"); never NULL. */
const char *sftp_status_str(uint32_t code);

#endif /* FERRY_SFTP_H */
