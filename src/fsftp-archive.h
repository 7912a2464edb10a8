/*
 * fsftp's use of tree-archive@ferry (src/fsftp-archive.c): get -r and
 * put -r through one archive stream when it pays, and the getarchive and
 * putarchive commands.
 */
#ifndef FERRY_FSFTP_ARCHIVE_H
#define FERRY_FSFTP_ARCHIVE_H

#include "ferry/sftp-session.h"

/*
 * -X archive=yes|no|auto and -X archive-compress: 1 when v was one of
 * them, 0 when it is not ours (an invalid mode is fatal).
 */
int fsftp_archive_xopt(const char *v);

/*
 * One source of get -r (put == 0) or put -r: src to dst (absolute remote
 * paths) with the SFTP_XFER_* flags.  0 when the archive stream moved it,
 * -1 when it failed (message printed), 1 when it is not used (the caller
 * transfers file by file; -v says why).
 */
int fsftp_archive_tree(struct sftp_session *ss, int put, const char *src,
    const char *dst, unsigned int xflags, int quiet, int progress);

/*
 * Whether the last archive transfer was stopped by SIGINT (or, after
 * fsftp_archive_scp_signals(), by SIGTERM or SIGHUP).
 */
int fsftp_archive_interrupted(void);

/*
 * fscp's signal rules for every later stream (fsftp keeps the default,
 * SIGINT alone): SIGTERM and SIGHUP stop a stream in order exactly as
 * SIGINT does (the transfer is cancelled, the session stays usable to be
 * closed, fsftp_archive_interrupted() is true), and a stream stopped so
 * is not reported here: the program says "interrupted" once for all.
 */
void fsftp_archive_scp_signals(void);

/*
 * getarchive (put == 0: remote directory src into the local archive file
 * dst, format by its name) and putarchive (local archive src unpacked
 * into the remote directory dst).  0 or -1 (message printed).
 */
int fsftp_archive_file(struct sftp_session *ss, int put, const char *src,
    const char *dst, unsigned int xflags, int quiet, int progress);

#endif /* FERRY_FSFTP_ARCHIVE_H */
