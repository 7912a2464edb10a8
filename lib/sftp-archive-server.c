/*
 * The server side of tree-archive@ferry (see sftp-archive-server.h and
 * man/ferry-sftp-archive.7).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp-archive.h"
#include "sftp-archive-server.h"

struct sftp_archive_stream {
	int extract;
	int dirfd;		/* extraction target */
	int spool;		/* extraction: the received bytes */
	int spool_mem;		/* ... held in memory: capped */
	unsigned int flags;
	uint64_t max_bytes;
	uint64_t pos;		/* bytes sent or received */
	int ended;		/* sender: the stream is complete */
	int failed;		/* first failure, reported again at close */
	struct sftp_archive_src *src;
	char err[512];
};

struct sftp_archive_stream *
sftp_archive_stream_create(int dirfd, unsigned int flags)
{
	struct sftp_archive_stream *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		close(dirfd);
		return NULL;
	}
	s->dirfd = s->spool = -1;
	s->flags = flags & SFTP_ARCHIVE_WIRE_MASK;
	if ((s->src = sftp_archive_src_new(dirfd, s->flags)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

struct sftp_archive_stream *
sftp_archive_stream_extract(int dirfd, unsigned int flags,
    uint64_t max_bytes)
{
	struct sftp_archive_stream *s;
	int err;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		close(dirfd);
		return NULL;
	}
	s->extract = 1;
	s->dirfd = dirfd;
	s->flags = flags;
	s->max_bytes = max_bytes;
	if ((s->spool = sftp_archive_spool(dirfd, &s->spool_mem)) < 0) {
		err = errno;
		close(dirfd);
		free(s);
		errno = err;
		return NULL;
	}
	return s;
}

int
sftp_archive_stream_is_extract(const struct sftp_archive_stream *s)
{
	return s->extract;
}

static int
stream_fail(struct sftp_archive_stream *s, int r, const char *msg,
    const char **msgp)
{
	if (!s->failed) {
		s->failed = r;
		snprintf(s->err, sizeof(s->err), "%s", msg);
	}
	*msgp = s->err;
	return s->failed;
}

int
sftp_archive_stream_read(struct sftp_archive_stream *s, uint64_t off,
    uint8_t *p, size_t len, size_t *nout, const char **msgp)
{
	int r;

	*nout = 0;
	*msgp = NULL;
	if (s->extract)
		return stream_fail(s, FERR_ARGUMENT,
		    "Archive handle is for writing", msgp);
	if (s->failed) {
		*msgp = s->err;
		return s->failed;
	}
	if (s->ended && off >= s->pos) {
		*msgp = "End of archive";
		return FERR_EOF;
	}
	if (off != s->pos) {
		*msgp = "Archive reads must be sequential";
		return FERR_ARGUMENT;
	}
	if ((r = sftp_archive_src_read(s->src, p, len, nout)) != 0)
		return stream_fail(s, r, sftp_archive_src_error(s->src),
		    msgp);
	s->pos += *nout;
	if (*nout < len)
		s->ended = 1;
	if (*nout == 0) {
		*msgp = "End of archive";
		return FERR_EOF;
	}
	return 0;
}

int
sftp_archive_stream_write(struct sftp_archive_stream *s, uint64_t off,
    const uint8_t *p, size_t len, const char **msgp)
{
	size_t done = 0;
	ssize_t n;
	char msg[128];

	*msgp = NULL;
	if (!s->extract)
		return stream_fail(s, FERR_ARGUMENT,
		    "Archive handle is for reading", msgp);
	if (s->failed) {
		*msgp = s->err;
		return s->failed;
	}
	if (off != s->pos)
		return stream_fail(s, FERR_ARGUMENT,
		    "Archive writes must be sequential", msgp);
	if (s->spool_mem && len > SFTP_ARCHIVE_MEM_SPOOL_MAX - s->pos)
		return stream_fail(s, FERR_NO_SPACE,
		    "Archive too large to hold in memory", msgp);
	while (done < len) {
		n = write(s->spool, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;

			snprintf(msg, sizeof(msg), "Spooling archive: %s",
			    strerror(err));
			return stream_fail(s, err == ENOSPC ||
			    err == EDQUOT ? FERR_NO_SPACE : FERR_SYSTEM,
			    msg, msgp);
		}
		done += (size_t)n;
	}
	s->pos += len;
	return 0;
}

int
sftp_archive_stream_close(struct sftp_archive_stream *s, char *msg,
    size_t msglen)
{
	struct sftp_archive_extract_opts o;
	struct sftp_archive_stats st;
	int r;

	if (s->failed) {
		snprintf(msg, msglen, "%s", s->err);
		r = s->failed;
		goto out;
	}
	if (!s->extract) {
		st = *sftp_archive_src_stats(s->src);
		snprintf(msg, msglen, "Sent %llu files, %llu bytes",
		    (unsigned long long)st.files,
		    (unsigned long long)st.bytes);
		log_info("tree-archive: sent %llu files, %llu directories, "
		    "%llu links, %llu bytes in %llu stream bytes%s",
		    (unsigned long long)st.files,
		    (unsigned long long)st.dirs,
		    (unsigned long long)st.links,
		    (unsigned long long)st.bytes,
		    (unsigned long long)s->pos, s->ended ? "" :
		    " (stopped early)");
		r = 0;
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.flags = s->flags;
	o.max_bytes = s->max_bytes;
	r = sftp_archive_extract(s->spool, s->dirfd, &o, &st, msg, msglen);
	log_info("tree-archive: extracted %llu files, %llu directories, "
	    "%llu links, %llu bytes from %llu stream bytes%s%s",
	    (unsigned long long)st.files, (unsigned long long)st.dirs,
	    (unsigned long long)st.links, (unsigned long long)st.bytes,
	    (unsigned long long)s->pos, r != 0 ? ": " : "",
	    r != 0 ? msg : "");
	if (r == 0)
		snprintf(msg, msglen, "Extracted %llu files, %llu bytes",
		    (unsigned long long)st.files,
		    (unsigned long long)st.bytes);
 out:
	sftp_archive_stream_free(s);
	return r;
}

void
sftp_archive_stream_free(struct sftp_archive_stream *s)
{
	if (s == NULL)
		return;
	sftp_archive_src_free(s->src);
	if (s->dirfd >= 0)
		close(s->dirfd);
	if (s->spool >= 0)
		close(s->spool);
	free(s);
}
