/*
 * The server side of tree-archive@ferry: one stream per handle.  Used by
 * lib/sftp-server.c, which parses the requests, applies its read-only
 * mode and permission lists, and resolves the directory inside its root
 * before it hands the descriptor here.
 */
#ifndef FERRY_SFTP_ARCHIVE_SERVER_H
#define FERRY_SFTP_ARCHIVE_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct sftp_archive_stream;

/*
 * A stream sending the tree below dirfd (taken) with the wire flags.
 * NULL with errno set.
 */
struct sftp_archive_stream *sftp_archive_stream_create(int dirfd,
    unsigned int flags);

/*
 * A stream receiving an archive to extract below dirfd (taken) with
 * flags (wire flags plus local policy: SFTP_ARCHIVE_SYMLINKS, ...) and
 * a size cap (0: none).  The bytes are spooled in an unnamed file in
 * dirfd's file system.  NULL with errno set.
 */
struct sftp_archive_stream *sftp_archive_stream_extract(int dirfd,
    unsigned int flags, uint64_t max_bytes);

/* Whether the stream receives (WRITE) rather than sends (READ). */
int sftp_archive_stream_is_extract(const struct sftp_archive_stream *s);

/*
 * READ: up to len bytes at off into p; *nout < len only at the end.
 * off must be where the previous read ended.  Returns 0, FERR_EOF (off
 * at or past the end), FERR_ARGUMENT (out of sequence) or another code,
 * with a sentence in *msgp.
 */
int sftp_archive_stream_read(struct sftp_archive_stream *s, uint64_t off,
    uint8_t *p, size_t len, size_t *nout, const char **msgp);

/* WRITE: len bytes at off (the end of what was written).  As read. */
int sftp_archive_stream_write(struct sftp_archive_stream *s, uint64_t off,
    const uint8_t *p, size_t len, const char **msgp);

/*
 * CLOSE: for a receiving stream, extract what was received (the whole
 * work happens here).  Returns 0 or a code; msg gets a sentence either
 * way (a summary on success).  The stream is freed.
 */
int sftp_archive_stream_close(struct sftp_archive_stream *s, char *msg,
    size_t msglen);

/* Free without extracting (NULL allowed). */
void sftp_archive_stream_free(struct sftp_archive_stream *s);

#endif /* FERRY_SFTP_ARCHIVE_SERVER_H */
