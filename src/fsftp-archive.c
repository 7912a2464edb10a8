/*
 * fsftp and tree-archive@ferry: whether a recursive transfer goes as one
 * archive stream (-X archive=auto|yes|no; auto when the tree has at
 * least SFTP_ARCHIVE_MIN_FILES entries averaging at most
 * SFTP_ARCHIVE_MAX_AVG bytes), running such a transfer with a progress
 * line of files and bytes, and the getarchive/putarchive commands.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp.h"
#include "ferry/sftp-archive.h"
#include "ferry/sftp-client.h"
#include "ferry/sftp-session.h"
#include "fsftp-archive.h"
#include "prog.h"

static enum sftp_archive_mode archive_mode = SFTP_ARCHIVE_AUTO;
static int archive_gzip;
static volatile sig_atomic_t archive_intr;
static int archive_scp_signals;		/* fsftp_archive_scp_signals() */

int
fsftp_archive_xopt(const char *v)
{
	if (strcmp(v, "archive-compress") == 0) {
		archive_gzip = 1;
		return 1;
	}
	if (strncmp(v, "archive=", 8) != 0)
		return 0;
	if (sftp_archive_mode_parse(v + 8, &archive_mode) != 0)
		fatal("Invalid archive mode \"%s\" (yes, no or auto)", v + 8);
	return 1;
}

/* "verb src to dst" on stdout; names (the server's too) made visible. */
static void
archive_announce(const char *verb, const char *src, const char *dst)
{
	char *vs = sftp_client_vis(src), *vd = sftp_client_vis(dst);

	if (vs != NULL && vd != NULL)
		printf("%s %s to %s\n", verb, vs, vd);
	free(vs);
	free(vd);
}

/* "a: b" (or "a") on stderr, control characters made visible. */
static void
archive_err(const char *a, const char *b)
{
	char raw[2048], *v;

	if (b != NULL)
		snprintf(raw, sizeof(raw), "%s: %s", a, b);
	else
		snprintf(raw, sizeof(raw), "%s", a);
	if ((v = sftp_client_vis(raw)) != NULL)
		fprintf(stderr, "%s\r\n", v);
	free(v);
}

struct archive_meter {
	int show;
	time_t last;
	time_t start;
};

static void
archive_progress(void *arg, const char *name, uint64_t done, uint64_t total,
    const struct sftp_archive_stats *st, int finished)
{
	struct archive_meter *m = arg;
	time_t now = time(NULL);
	char *v;

	(void)total;
	if (!m->show || (!finished && now == m->last))
		return;
	m->last = now;
	if ((v = sftp_client_vis(name)) == NULL)
		return;
	printf("\r%.40s: %llu files, %llu bytes, stream %llu bytes%s", v,
	    (unsigned long long)st->files, (unsigned long long)st->bytes,
	    (unsigned long long)done, finished ? "\n" : "");
	fflush(stdout);
	free(v);
}

static void
archive_sigint(int sig)
{
	(void)sig;
	archive_intr = 1;
}

int
fsftp_archive_interrupted(void)
{
	return archive_intr != 0;
}

void
fsftp_archive_scp_signals(void)
{
	archive_scp_signals = 1;
}

struct archive_run {
	struct sftp_archive_xfer *x;
	int err;
	int cancelled;
};

static int
archive_run_done(void *arg)
{
	struct archive_run *w = arg;

	if (archive_intr && !w->cancelled) {
		w->cancelled = 1;
		sftp_archive_xfer_cancel(w->x);
	}
	if ((w->err = sftp_archive_xfer_step(w->x)) != 0)
		return 1;
	return sftp_archive_xfer_done(w->x);
}

/*
 * Run x (started); 0 on success, FERR_NOT_SUPPORTED when the server
 * refused the extension before anything moved, -1 otherwise (printed).
 */
static int
archive_run(struct sftp_session *ss, struct sftp_archive_xfer *x,
    const char *what)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct archive_run w = { x, 0, 0 };
	struct sigaction sa, old[sizeof(sigs) / sizeof(sigs[0])];
	const struct sftp_archive_stats *st;
	const char *msg;
	time_t start = time(NULL);
	size_t i, nsigs = archive_scp_signals ? sizeof(sigs) /
	    sizeof(sigs[0]) : 1;
	int r;

	archive_intr = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = archive_sigint;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < nsigs; i++)
		sigaction(sigs[i], &sa, &old[i]);
	r = sftp_session_pump(ss, archive_run_done, &w);
	for (i = 0; i < nsigs; i++)
		sigaction(sigs[i], &old[i], NULL);
	if (r != 0)
		fatal("%s", sftp_session_error(ss));
	if (w.err != 0)
		fatal_r(w.err, "archive transfer");
	if ((r = sftp_archive_xfer_result(x, &msg)) != 0) {
		if (r == FERR_NOT_SUPPORTED)
			return r;
		/* scp's way: the program says "interrupted" once. */
		if (!(archive_scp_signals && archive_intr))
			archive_err(what, msg);
		return -1;
	}
	st = sftp_archive_xfer_stats(x);
	if (st->files + st->dirs + st->links == 0) {
		log_verbose("tree-archive: %llu stream bytes in %lds",
		    (unsigned long long)st->stream,
		    (long)(time(NULL) - start));
		return 0;
	}
	log_verbose("tree-archive: %llu files, %llu directories, %llu links, "
	    "%llu bytes as %llu stream bytes in %lds",
	    (unsigned long long)st->files, (unsigned long long)st->dirs,
	    (unsigned long long)st->links, (unsigned long long)st->bytes,
	    (unsigned long long)st->stream, (long)(time(NULL) - start));
	return 0;
}

static struct sftp_archive_xfer *
archive_new(struct sftp_session *ss, unsigned int xflags,
    struct archive_meter *m)
{
	struct sftp_archive_xfer_opts o;
	struct sftp_archive_xfer *x;

	memset(&o, 0, sizeof(o));
	if (xflags & SFTP_XFER_PRESERVE)
		o.flags |= SFTP_ARCHIVE_PRESERVE;
	if (archive_gzip)
		o.flags |= SFTP_ARCHIVE_GZIP;
	o.progress = archive_progress;
	o.arg = m;
	if ((x = sftp_archive_xfer_new(sftp_session_engine(ss), &o)) == NULL)
		fatal("out of memory");
	return x;
}

/* The server's count of the tree at path; 0 or -1 (not a directory...). */
static int
archive_remote_scan(struct sftp_session *ss, const char *path,
    struct sftp_archive_stats *st)
{
	struct sftp_session_reply rep;
	int r = -1;

	memset(st, 0, sizeof(*st));
	if (sftp_archive_scan_begin(sftp_session_engine(ss), path) != 0)
		return -1;
	if (sftp_session_call_end(ss, &rep) != 0)
		fatal("%s", sftp_session_error(ss));
	if (rep.type == SSH_FXP_EXTENDED_REPLY &&
	    sftp_archive_scan_parse(rep.data, rep.len, st) == 0)
		r = 0;
	sftp_session_reply_free(&rep);
	return r;
}

static int
archive_local_scan(const char *path, struct sftp_archive_stats *st)
{
	int fd, r;

	memset(st, 0, sizeof(*st));
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	r = sftp_archive_scan(fd, st);
	close(fd);
	return r == 0 ? 0 : -1;
}

int
fsftp_archive_tree(struct sftp_session *ss, int put, const char *src,
    const char *dst, unsigned int xflags, int quiet, int progress)
{
	struct sftp_archive_stats st;
	struct sftp_archive_xfer *x;
	struct archive_meter m = { 0, 0, 0 };
	int r;

	if (!(xflags & SFTP_XFER_RECURSE) || archive_mode == SFTP_ARCHIVE_NO)
		return 1;
	if (!sftp_archive_supported(sftp_session_engine(ss))) {
		log_verbose("server lacks %s: transferring %s file by file",
		    SFTP_ARCHIVE_EXT, src);
		return 1;
	}
	if (xflags & (SFTP_XFER_RESUME | SFTP_XFER_ATOMIC |
	    SFTP_XFER_VERIFY | SFTP_XFER_FSYNC)) {
		log_verbose("resume, atomic, verify and fsync transfers go "
		    "file by file");
		return 1;
	}
	r = put ? archive_local_scan(src, &st) :
	    archive_remote_scan(ss, src, &st);
	if (r != 0)
		return 1;	/* not a directory: the per-file path says so */
	if (!sftp_archive_wanted(archive_mode, &st)) {
		log_verbose("%s: %llu files averaging %llu bytes: file by "
		    "file", src, (unsigned long long)st.files,
		    (unsigned long long)(st.files > 0 ? st.bytes / st.files :
		    0));
		return 1;
	}
	log_verbose("%s: %llu files, %llu bytes: one archive stream", src,
	    (unsigned long long)st.files, (unsigned long long)st.bytes);
	m.show = progress && !quiet && isatty(STDOUT_FILENO);
	x = archive_new(ss, xflags, &m);
	r = put ? sftp_archive_xfer_put(x, src, dst) :
	    sftp_archive_xfer_get(x, src, dst);
	if (r != 0) {
		archive_err(put ? src : dst, strerror(errno));
		sftp_archive_xfer_free(x);
		return -1;
	}
	r = archive_run(ss, x, src);
	sftp_archive_xfer_free(x);
	if (r == FERR_NOT_SUPPORTED) {
		log_verbose("server refused %s: transferring %s file by file",
		    SFTP_ARCHIVE_EXT, src);
		return 1;
	}
	return r == 0 ? 0 : -1;
}

int
fsftp_archive_file(struct sftp_session *ss, int put, const char *src,
    const char *dst, unsigned int xflags, int quiet, int progress)
{
	struct sftp_archive_xfer *x;
	struct archive_meter m = { 0, 0, 0 };
	const char *msg;
	int r;

	if (!sftp_archive_supported(sftp_session_engine(ss))) {
		archive_err("Server does not support " SFTP_ARCHIVE_EXT, NULL);
		return -1;
	}
	if (!put && sftp_archive_format_of(dst) == SFTP_ARCHIVE_FMT_UNKNOWN) {
		archive_err(dst, "unknown archive format (use .tar, "
		    ".tar.gz, .tgz or .zip)");
		return -1;
	}
	if (!quiet)
		archive_announce(put ? "Unpacking" : "Archiving", src, dst);
	m.show = progress && !quiet && isatty(STDOUT_FILENO);
	x = archive_new(ss, xflags, &m);
	r = put ? sftp_archive_xfer_put_file(x, src, dst) :
	    sftp_archive_xfer_get_file(x, src, dst);
	if (r != 0) {
		(void)sftp_archive_xfer_result(x, &msg);
		archive_err(put ? src : dst, msg[0] != '\0' ? msg :
		    strerror(errno));
		sftp_archive_xfer_free(x);
		return -1;
	}
	r = archive_run(ss, x, src);
	sftp_archive_xfer_free(x);
	if (r == FERR_NOT_SUPPORTED) {
		archive_err(src, "server refused " SFTP_ARCHIVE_EXT);
		return -1;
	}
	return r == 0 ? 0 : -1;
}
