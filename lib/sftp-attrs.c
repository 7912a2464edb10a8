/*
 * SFTP ATTRS codec and status texts, shared by both engines.
 */
#include "config.h"

#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/sftp.h"

#define SFTP_ATTRS_KNOWN (SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID | \
	SSH_FILEXFER_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_ACMODTIME | \
	SSH_FILEXFER_ATTR_EXTENDED)

int
sftp_attrs_get(struct buf *b, struct sftp_attrs *a)
{
	uint32_t i, count;
	int r;

	memset(a, 0, sizeof(*a));
	if ((r = buf_get_u32(b, &a->flags)) != 0)
		return r;
	if ((a->flags & ~SFTP_ATTRS_KNOWN) != 0)
		return FERR_FORMAT;
	if ((a->flags & SSH_FILEXFER_ATTR_SIZE) &&
	    (r = buf_get_u64(b, &a->size)) != 0)
		return r;
	if ((a->flags & SSH_FILEXFER_ATTR_UIDGID) &&
	    ((r = buf_get_u32(b, &a->uid)) != 0 ||
	    (r = buf_get_u32(b, &a->gid)) != 0))
		return r;
	if ((a->flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
	    (r = buf_get_u32(b, &a->perm)) != 0)
		return r;
	if ((a->flags & SSH_FILEXFER_ATTR_ACMODTIME) &&
	    ((r = buf_get_u32(b, &a->atime)) != 0 ||
	    (r = buf_get_u32(b, &a->mtime)) != 0))
		return r;
	if (a->flags & SSH_FILEXFER_ATTR_EXTENDED) {
		if ((r = buf_get_u32(b, &count)) != 0)
			return r;
		if (count > SFTP_ATTRS_MAX_EXTENDED)
			return FERR_NUMBER_RANGE;
		for (i = 0; i < count; i++) {
			if ((r = buf_get_string_direct(b, NULL, NULL)) != 0 ||
			    (r = buf_get_string_direct(b, NULL, NULL)) != 0)
				return r;
		}
		a->flags &= ~SSH_FILEXFER_ATTR_EXTENDED;
	}
	return 0;
}

int
sftp_attrs_put(struct buf *b, const struct sftp_attrs *a)
{
	uint32_t flags = a->flags & ~SSH_FILEXFER_ATTR_EXTENDED;
	int r;

	if ((r = buf_put_u32(b, flags)) != 0)
		return r;
	if ((flags & SSH_FILEXFER_ATTR_SIZE) &&
	    (r = buf_put_u64(b, a->size)) != 0)
		return r;
	if ((flags & SSH_FILEXFER_ATTR_UIDGID) &&
	    ((r = buf_put_u32(b, a->uid)) != 0 ||
	    (r = buf_put_u32(b, a->gid)) != 0))
		return r;
	if ((flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
	    (r = buf_put_u32(b, a->perm)) != 0)
		return r;
	if ((flags & SSH_FILEXFER_ATTR_ACMODTIME) &&
	    ((r = buf_put_u32(b, a->atime)) != 0 ||
	    (r = buf_put_u32(b, a->mtime)) != 0))
		return r;
	return 0;
}

void
sftp_attrs_from_stat(struct sftp_attrs *a, const struct stat *st)
{
	memset(a, 0, sizeof(*a));
	a->flags = SSH_FILEXFER_ATTR_SIZE | SSH_FILEXFER_ATTR_UIDGID |
	    SSH_FILEXFER_ATTR_PERMISSIONS | SSH_FILEXFER_ATTR_ACMODTIME;
	a->size = (uint64_t)st->st_size;
	a->uid = (uint32_t)st->st_uid;
	a->gid = (uint32_t)st->st_gid;
	a->perm = (uint32_t)st->st_mode;
	a->atime = (uint32_t)st->st_atime;
	a->mtime = (uint32_t)st->st_mtime;
}

static const char *const sftp_status_texts[] = {
	[SSH_FX_OK] = "Success",
	[SSH_FX_EOF] = "End of file",
	[SSH_FX_NO_SUCH_FILE] = "No such file",
	[SSH_FX_PERMISSION_DENIED] = "Permission denied",
	[SSH_FX_FAILURE] = "Failure",
	[SSH_FX_BAD_MESSAGE] = "Bad message",
	[SSH_FX_NO_CONNECTION] = "No connection",
	[SSH_FX_CONNECTION_LOST] = "Connection lost",
	[SSH_FX_OP_UNSUPPORTED] = "Operation unsupported",
};

const char *
sftp_status_str(uint32_t code)
{
	if (code >= sizeof(sftp_status_texts) / sizeof(sftp_status_texts[0]))
		return "Unknown error";
	return sftp_status_texts[code];
}
