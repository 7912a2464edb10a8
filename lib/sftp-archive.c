/*
 * The tree-archive codec: a directory walk as a pax stream (the sender),
 * and extraction of a stream below a directory (the receiver).  See
 * ferry/sftp-archive.h for the contracts and man/ferry-sftp-archive.7
 * for the rules.
 *
 * Why not archive_write_disk: it resolves names from the process's
 * working directory and follows what the file system holds at each
 * moment.  Here every name is resolved below one directory descriptor,
 * one component at a time with O_NOFOLLOW | O_DIRECTORY, so a symbolic
 * link (planted by the archive itself or by anyone else, even while we
 * run) can never redirect a write, and the caller's confinement (the
 * SFTP server's root) is whatever produced that descriptor.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp-archive.h"
#include "misc.h"

/* Longest entry name accepted or produced. */
#define AR_PATH_MAX	(64U * 1024U)
/* Read size for file data and archive input. */
#define AR_CHUNK	(64U * 1024U)
/* Data is written in aligned pieces of this size; zero pieces are holes. */
#define AR_HOLE		4096U
/* Longest escaped name in a message. */
#define AR_VIS_MAX	200U

/* ---- Small helpers ---- */

/* name escaped for a message: controls, quotes, non-ASCII as \ooo. */
static void
ar_vis(const char *name, char *out, size_t outlen)
{
	size_t len = 0;
	unsigned char c;

	if (outlen == 0)
		return;
	for (; *name != '\0' && len + 5 < outlen && len < AR_VIS_MAX;
	    name++) {
		c = (unsigned char)*name;
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
			snprintf(out + len, 5, "\\%03o", c);
			len += 4;
		} else
			out[len++] = (char)c;
	}
	out[len] = '\0';
}

/* errbuf = "what \"name\": why" with name escaped. */
static void
ar_msg(char *errbuf, size_t errlen, const char *what, const char *name,
    const char *why)
{
	char vis[AR_VIS_MAX + 8];

	if (errbuf == NULL || errlen == 0)
		return;
	if (name == NULL) {
		snprintf(errbuf, errlen, "%s: %s", what, why);
		return;
	}
	ar_vis(name, vis, sizeof(vis));
	snprintf(errbuf, errlen, "%s \"%s\": %s", what, vis, why);
}

int
sftp_archive_spool(int dirfd, int *in_memory)
{
	int fd = -1;

	if (in_memory != NULL)
		*in_memory = 0;
#ifdef O_TMPFILE
	if (dirfd >= 0)
		fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
	if (fd < 0) {
		if ((fd = memfd_create("ferry-archive", MFD_CLOEXEC)) >= 0 &&
		    in_memory != NULL)
			*in_memory = 1;
	}
	return fd;
}

enum sftp_archive_format
sftp_archive_format_of(const char *name)
{
	static const struct {
		const char *suffix;
		enum sftp_archive_format fmt;
	} fmts[] = {
		{ ".tar.gz", SFTP_ARCHIVE_FMT_TARGZ },
		{ ".tgz", SFTP_ARCHIVE_FMT_TARGZ },
		{ ".tar", SFTP_ARCHIVE_FMT_TAR },
		{ ".zip", SFTP_ARCHIVE_FMT_ZIP },
	};
	size_t i, len = strlen(name), slen;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		slen = strlen(fmts[i].suffix);
		if (len > slen && strcasecmp(name + len - slen,
		    fmts[i].suffix) == 0)
			return fmts[i].fmt;
	}
	return SFTP_ARCHIVE_FMT_UNKNOWN;
}

int
sftp_archive_mode_parse(const char *s, enum sftp_archive_mode *modep)
{
	static const struct {
		const char *name;
		enum sftp_archive_mode mode;
	} modes[] = {
		{ "auto", SFTP_ARCHIVE_AUTO }, { "yes", SFTP_ARCHIVE_YES },
		{ "no", SFTP_ARCHIVE_NO },
	};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(s, modes[i].name) == 0) {
			*modep = modes[i].mode;
			return 0;
		}
	}
	return FERR_ARGUMENT;
}

int
sftp_archive_wanted(enum sftp_archive_mode mode,
    const struct sftp_archive_stats *st)
{
	switch (mode) {
	case SFTP_ARCHIVE_YES:
		return 1;
	case SFTP_ARCHIVE_NO:
		return 0;
	case SFTP_ARCHIVE_AUTO:
		if (st->files + st->links + st->dirs < SFTP_ARCHIVE_MIN_FILES)
			return 0;
		return st->files == 0 ||
		    st->bytes / st->files <= SFTP_ARCHIVE_MAX_AVG;
	default:
		return 0;
	}
}

/* ---- The walk (sender and scan) ---- */

struct ar_frame {
	int fd;
	char **names;
	size_t n, i;
	size_t prefixlen;	/* path length before this directory's names */
};

struct ar_walk {
	struct ar_frame *stack;
	size_t depth;
	char *path;		/* current entry name, relative */
	size_t pathlen;
};

static int
ar_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
ar_frame_free(struct ar_frame *f)
{
	size_t i;

	if (f->fd >= 0)
		close(f->fd);
	for (i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	memset(f, 0, sizeof(*f));
	f->fd = -1;
}

/* Push the directory fd (taken): read and sort its names. */
static int
ar_walk_push(struct ar_walk *w, int fd, size_t prefixlen)
{
	struct ar_frame *f;
	struct dirent *de;
	char **nn;
	DIR *d;
	size_t cap = 0;
	int dfd, err;

	if (w->depth >= SFTP_ARCHIVE_MAX_DEPTH) {
		close(fd);
		errno = ELOOP;
		return FERR_SYSTEM;
	}
	f = &w->stack[w->depth];
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->prefixlen = prefixlen;
	if ((dfd = dup(fd)) < 0 || (d = fdopendir(dfd)) == NULL) {
		err = errno;
		if (dfd >= 0)
			close(dfd);
		ar_frame_free(f);
		errno = err;
		return FERR_SYSTEM;
	}
	w->depth++;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (f->n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nn = reallocarray(f->names, cap,
			    sizeof(*nn))) == NULL)
				goto fail;
			f->names = nn;
		}
		if ((f->names[f->n] = strdup(de->d_name)) == NULL)
			goto fail;
		f->n++;
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	if (f->n > 1)
		qsort(f->names, f->n, sizeof(*f->names), ar_cmp);
	return 0;
 fail:
	err = errno != 0 ? errno : ENOMEM;
	closedir(d);
	errno = err;
	return FERR_SYSTEM;
}

static int
ar_walk_init(struct ar_walk *w, int dirfd)
{
	memset(w, 0, sizeof(*w));
	if ((w->stack = calloc(SFTP_ARCHIVE_MAX_DEPTH,
	    sizeof(*w->stack))) == NULL ||
	    (w->path = malloc(AR_PATH_MAX + 1)) == NULL) {
		free(w->stack);
		w->stack = NULL;
		close(dirfd);
		return FERR_ALLOC;
	}
	w->path[0] = '\0';
	return ar_walk_push(w, dirfd, 0);
}

static void
ar_walk_free(struct ar_walk *w)
{
	while (w->depth > 0)
		ar_frame_free(&w->stack[--w->depth]);
	free(w->stack);
	free(w->path);
	memset(w, 0, sizeof(*w));
}

/*
 * The next entry: its lstat in *st, its name in w->path, and the
 * descriptor of its parent in *pfdp with the final name in *namep.
 * Directories are entered right after they are returned.  1 for an
 * entry, 0 at the end, FERR_SYSTEM on failure (w->path names the entry).
 */
static int
ar_walk_next(struct ar_walk *w, struct stat *st, int *pfdp,
    const char **namep)
{
	struct ar_frame *f;
	const char *name;
	size_t nlen, plen;
	int fd, r;

 again:
	for (;;) {
		if (w->depth == 0)
			return 0;
		f = &w->stack[w->depth - 1];
		if (f->i < f->n)
			break;
		ar_frame_free(f);
		w->depth--;
	}
	name = f->names[f->i++];
	nlen = strlen(name);
	plen = f->prefixlen;
	/* plen reaches AR_PATH_MAX below a directory of the longest name. */
	if (plen > AR_PATH_MAX - 1 || nlen > AR_PATH_MAX - 1 - plen) {
		errno = ENAMETOOLONG;
		return FERR_SYSTEM;
	}
	if (plen > 0)
		w->path[plen - 1] = '/';
	memcpy(w->path + plen, name, nlen + 1);
	w->pathlen = plen + nlen;
	if (fstatat(f->fd, name, st, AT_SYMLINK_NOFOLLOW) != 0) {
		/* Removed since it was listed: as if it never was. */
		if (errno == ENOENT)
			goto again;
		return FERR_SYSTEM;
	}
	*pfdp = f->fd;
	*namep = name;
	if (S_ISDIR(st->st_mode)) {
		if ((fd = openat(f->fd, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0)
			return FERR_SYSTEM;
		if ((r = ar_walk_push(w, fd, w->pathlen + 1)) != 0)
			return r;
		/* The push may have moved nothing, but f is still valid. */
		w->path[w->pathlen] = '\0';
	}
	return 1;
}

int
sftp_archive_scan(int dirfd, struct sftp_archive_stats *st)
{
	struct ar_walk w;
	struct stat sb;
	const char *name;
	int fd, r, pfd, err;

	memset(st, 0, sizeof(*st));
	if ((fd = dup(dirfd)) < 0)
		return FERR_SYSTEM;
	if ((r = ar_walk_init(&w, fd)) != 0) {
		err = errno;
		ar_walk_free(&w);
		errno = err;
		return r;
	}
	while ((r = ar_walk_next(&w, &sb, &pfd, &name)) == 1) {
		if (S_ISREG(sb.st_mode)) {
			st->files++;
			st->bytes += (uint64_t)sb.st_size;
		} else if (S_ISDIR(sb.st_mode))
			st->dirs++;
		else if (S_ISLNK(sb.st_mode))
			st->links++;
		else
			st->other++;
	}
	/* The caller reports errno: the closes of the walk keep it. */
	err = errno;
	ar_walk_free(&w);
	if (r != 0)
		errno = err;
	return r;
}

/* ---- Sender ---- */

struct sftp_archive_src {
	struct archive *a;
	struct ar_walk w;
	int rawfd;		/* sftp_archive_src_from_fd: copied as is */
	int filefd;		/* the regular file being sent */
	uint64_t remain;	/* its bytes still to send */
	uint8_t *pend;		/* stream bytes produced, not yet taken */
	size_t pendlen, pendoff, pendcap;
	uint8_t *chunk;
	int done;
	int failed;
	struct sftp_archive_stats st;
	char err[512];
};

static la_ssize_t
ar_src_write_cb(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct sftp_archive_src *s = arg;
	size_t need, cap;
	uint8_t *p;

	(void)a;
	if (s->pendoff > 0) {
		memmove(s->pend, s->pend + s->pendoff,
		    s->pendlen - s->pendoff);
		s->pendlen -= s->pendoff;
		s->pendoff = 0;
	}
	if (len > SIZE_MAX / 2 - s->pendlen)
		return -1;
	need = s->pendlen + len;
	if (need > s->pendcap) {
		cap = s->pendcap == 0 ? AR_CHUNK * 2 : s->pendcap;
		while (cap < need)
			cap *= 2;
		if ((p = realloc(s->pend, cap)) == NULL)
			return -1;
		s->pend = p;
		s->pendcap = cap;
	}
	memcpy(s->pend + s->pendlen, buf, len);
	s->pendlen += len;
	return (la_ssize_t)len;
}

static int
ar_src_init(struct sftp_archive_src *s)
{
	s->rawfd = -1;
	s->filefd = -1;
	if ((s->chunk = malloc(AR_CHUNK)) == NULL)
		return FERR_ALLOC;
	return 0;
}

struct sftp_archive_src *
sftp_archive_src_new(int dirfd, unsigned int flags)
{
	struct sftp_archive_src *s;
	int err;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		close(dirfd);
		return NULL;
	}
	if (ar_src_init(s) != 0 || (s->a = archive_write_new()) == NULL) {
		close(dirfd);
		goto fail;
	}
	if (ar_walk_init(&s->w, dirfd) != 0)
		goto fail;
	if (archive_write_set_format_pax_restricted(s->a) != ARCHIVE_OK ||
	    ((flags & SFTP_ARCHIVE_GZIP) &&
	    archive_write_add_filter_gzip(s->a) != ARCHIVE_OK) ||
	    archive_write_set_bytes_in_last_block(s->a, 1) != ARCHIVE_OK ||
	    archive_write_open(s->a, s, NULL, ar_src_write_cb,
	    NULL) != ARCHIVE_OK) {
		errno = EINVAL;
		goto fail;
	}
	return s;
 fail:
	err = errno != 0 ? errno : ENOMEM;
	sftp_archive_src_free(s);
	errno = err;
	return NULL;
}

struct sftp_archive_src *
sftp_archive_src_from_fd(int fd)
{
	struct sftp_archive_src *s;

	if ((s = calloc(1, sizeof(*s))) == NULL || ar_src_init(s) != 0) {
		if (s != NULL)
			free(s);
		close(fd);
		return NULL;
	}
	s->rawfd = fd;
	return s;
}

static int
ar_src_fail(struct sftp_archive_src *s, int r, const char *what,
    const char *why)
{
	ar_msg(s->err, sizeof(s->err), what,
	    s->w.path != NULL && s->w.path[0] != '\0' ? s->w.path : NULL,
	    why);
	s->failed = r;
	return r;
}

static int
ar_src_archive_err(struct sftp_archive_src *s)
{
	const char *e = archive_error_string(s->a);

	return ar_src_fail(s, FERR_FORMAT, "archiving",
	    e != NULL ? e : "archive writer failed");
}

/* Send the next piece of the open file. */
static int
ar_src_file_step(struct sftp_archive_src *s)
{
	size_t want = s->remain < AR_CHUNK ? (size_t)s->remain : AR_CHUNK;
	ssize_t n;

	do {
		n = read(s->filefd, s->chunk, want);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return ar_src_fail(s, FERR_SYSTEM, "reading",
		    strerror(errno));
	if (n == 0) {
		/* The file shrank since its header: pad with zeros. */
		memset(s->chunk, 0, want);
		n = (ssize_t)want;
	}
	if (archive_write_data(s->a, s->chunk, (size_t)n) != n)
		return ar_src_archive_err(s);
	s->remain -= (uint64_t)n;
	s->st.bytes += (uint64_t)n;
	if (s->remain == 0) {
		close(s->filefd);
		s->filefd = -1;
		if (archive_write_finish_entry(s->a) != ARCHIVE_OK)
			return ar_src_archive_err(s);
	}
	return 0;
}

/* Send the header of the next entry (or end the archive). */
static int
ar_src_entry_step(struct sftp_archive_src *s)
{
	struct archive_entry *e = NULL;
	struct stat st, fst;
	const char *name;
	char *target = NULL;
	ssize_t tlen;
	int r, pfd, fd = -1;

	if ((r = ar_walk_next(&s->w, &st, &pfd, &name)) == 0) {
		if (archive_write_close(s->a) != ARCHIVE_OK)
			return ar_src_archive_err(s);
		s->done = 1;
		return 0;
	}
	if (r < 0)
		return ar_src_fail(s, r, "walking", strerror(errno));
	if (S_ISREG(st.st_mode)) {
		fd = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
		if (fd < 0 || fstat(fd, &fst) != 0)
			goto syserr;
		if (!S_ISREG(fst.st_mode) || fst.st_ino != st.st_ino ||
		    fst.st_dev != st.st_dev) {
			errno = EAGAIN;
			goto syserr;
		}
		st = fst;
	} else if (S_ISLNK(st.st_mode)) {
		if ((target = malloc(PATH_MAX + 1)) == NULL) {
			r = FERR_ALLOC;
			goto out;
		}
		if ((tlen = readlinkat(pfd, name, target, PATH_MAX)) < 0)
			goto syserr;
		target[tlen] = '\0';
	} else if (!S_ISDIR(st.st_mode)) {
		/* Sockets, FIFOs, devices: not sent. */
		log_verbose("tree-archive: skipping special file");
		s->st.other++;
		r = 0;
		goto out;
	}
	if ((e = archive_entry_new2(s->a)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	archive_entry_copy_pathname(e, s->w.path);
	archive_entry_copy_stat(e, &st);
	if (S_ISLNK(st.st_mode)) {
		archive_entry_copy_symlink(e, target);
		archive_entry_set_size(e, 0);
		s->st.links++;
	} else if (S_ISDIR(st.st_mode)) {
		archive_entry_set_size(e, 0);
		s->st.dirs++;
	} else
		s->st.files++;
	r = archive_write_header(s->a, e);
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
		r = ar_src_archive_err(s);
		goto out;
	}
	r = 0;
	if (S_ISREG(st.st_mode) && st.st_size > 0) {
		s->filefd = fd;
		s->remain = (uint64_t)st.st_size;
		fd = -1;
	} else if (archive_write_finish_entry(s->a) != ARCHIVE_OK)
		r = ar_src_archive_err(s);
	goto out;
 syserr:
	r = ar_src_fail(s, FERR_SYSTEM, "reading", strerror(errno));
 out:
	if (fd >= 0)
		close(fd);
	free(target);
	archive_entry_free(e);
	return r;
}

int
sftp_archive_src_read(struct sftp_archive_src *s, uint8_t *buf, size_t len,
    size_t *nout)
{
	size_t n, got = 0;
	ssize_t rn;
	int r;

	*nout = 0;
	if (s->failed)
		return s->failed;
	while (got < len) {
		if (s->rawfd >= 0) {
			do {
				rn = read(s->rawfd, buf + got, len - got);
			} while (rn < 0 && errno == EINTR);
			if (rn < 0)
				return ar_src_fail(s, FERR_SYSTEM, "reading",
				    strerror(errno));
			if (rn == 0)
				break;
			got += (size_t)rn;
			continue;
		}
		if (s->pendoff < s->pendlen) {
			n = s->pendlen - s->pendoff;
			if (n > len - got)
				n = len - got;
			memcpy(buf + got, s->pend + s->pendoff, n);
			s->pendoff += n;
			got += n;
			continue;
		}
		s->pendoff = s->pendlen = 0;
		if (s->done)
			break;
		r = s->filefd >= 0 ? ar_src_file_step(s) :
		    ar_src_entry_step(s);
		if (r != 0)
			return r;
	}
	s->st.stream += got;
	*nout = got;
	return 0;
}

const char *
sftp_archive_src_error(const struct sftp_archive_src *s)
{
	return s->err[0] != '\0' ? s->err : "no error";
}

const struct sftp_archive_stats *
sftp_archive_src_stats(const struct sftp_archive_src *s)
{
	return &s->st;
}

void
sftp_archive_src_free(struct sftp_archive_src *s)
{
	if (s == NULL)
		return;
	if (s->a != NULL)
		archive_write_free(s->a);
	if (s->w.stack != NULL || s->w.path != NULL)
		ar_walk_free(&s->w);
	if (s->filefd >= 0)
		close(s->filefd);
	if (s->rawfd >= 0)
		close(s->rawfd);
	free(s->pend);
	free(s->chunk);
	free(s);
}

/* ---- Receiver ---- */

struct ar_fixup {
	char *path;
	mode_t mode;
	struct timespec times[2];
};

struct ar_ex {
	const struct sftp_archive_extract_opts *o;
	int root;
	char *cpath;		/* cached parent (normalised), or NULL */
	int cfd;
	struct ar_fixup *fix;
	size_t nfix, capfix;
	uint64_t declared;	/* sum of file sizes so far */
	uint64_t avail;		/* free bytes at the start */
	int is_root;
	struct sftp_archive_stats st;
	char *errbuf;
	size_t errlen;
};

static int
ar_ex_refuse(struct ar_ex *x, int r, const char *name, const char *why)
{
	ar_msg(x->errbuf, x->errlen, "refusing archive entry", name, why);
	return r;
}

static int
ar_ex_sys(struct ar_ex *x, const char *name, int err)
{
	ar_msg(x->errbuf, x->errlen, "extracting", name, strerror(err));
	if (err == ENOSPC || err == EDQUOT)
		return FERR_NO_SPACE;
	return FERR_SYSTEM;
}

/*
 * Normalise an entry name into out: "." and empty components dropped;
 * absolute names and ".." refused.  Returns 0 (out may be "" for the top
 * directory itself) or FERR_PERMISSION with the reason in *whyp.
 */
static int
ar_normalise(const char *in, char *out, size_t outlen, const char **whyp)
{
	const char *p = in, *e;
	size_t len = 0, clen;

	*whyp = NULL;
	if (in == NULL || *in == '\0') {
		*whyp = "empty name";
		return FERR_PERMISSION;
	}
	if (*in == '/') {
		*whyp = "absolute path";
		return FERR_PERMISSION;
	}
	while (*p != '\0') {
		for (e = p; *e != '\0' && *e != '/'; e++)
			;
		clen = (size_t)(e - p);
		if (clen == 2 && p[0] == '.' && p[1] == '.') {
			*whyp = "\"..\" in path";
			return FERR_PERMISSION;
		}
		if (clen > NAME_MAX) {
			*whyp = "name component too long";
			return FERR_PERMISSION;
		}
		if (clen > 0 && !(clen == 1 && p[0] == '.')) {
			if (clen + 2 > outlen - len) {
				*whyp = "path too long";
				return FERR_PERMISSION;
			}
			if (len > 0)
				out[len++] = '/';
			memcpy(out + len, p, clen);
			len += clen;
		}
		p = *e == '/' ? e + 1 : e;
	}
	out[len] = '\0';
	return 0;
}

/*
 * Open the directory rel (normalised, "" = the root) below x->root, one
 * component at a time without following links; missing components are
 * created when create is set.  A descriptor or a negative code.
 */
static int
ar_ex_opendir(struct ar_ex *x, const char *rel, int create,
    const char *entry)
{
	char comp[NAME_MAX + 1];
	const char *p = rel, *e;
	size_t clen;
	int fd, nfd;

	if ((fd = dup(x->root)) < 0)
		return ar_ex_sys(x, entry, errno);
	while (*p != '\0') {
		for (e = p; *e != '\0' && *e != '/'; e++)
			;
		clen = (size_t)(e - p);
		memcpy(comp, p, clen);
		comp[clen] = '\0';
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0777) != 0 && errno != EEXIST) {
				close(fd);
				return ar_ex_sys(x, entry, errno);
			}
			x->st.dirs++;
			nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		}
		if (nfd < 0) {
			int err = errno;

			close(fd);
			if (err == ELOOP || err == ENOTDIR)
				return ar_ex_refuse(x, FERR_PERMISSION, entry,
				    "path goes through a symbolic link or a "
				    "non-directory");
			return ar_ex_sys(x, entry, err);
		}
		close(fd);
		fd = nfd;
		p = *e == '/' ? e + 1 : e;
	}
	return fd;
}

/* The parent descriptor of rel (cached; do not close) and its name. */
static int
ar_ex_parent(struct ar_ex *x, char *rel, int *pfdp, const char **namep)
{
	char *slash = strrchr(rel, '/');
	const char *dir = "";
	int fd;

	if (slash != NULL) {
		*slash = '\0';
		dir = rel;
		*namep = slash + 1;
	} else
		*namep = rel;
	if (x->cpath != NULL && strcmp(x->cpath, dir) == 0) {
		*pfdp = x->cfd;
		fd = 0;
		goto out;
	}
	if (x->cpath != NULL) {
		close(x->cfd);
		free(x->cpath);
		x->cpath = NULL;
	}
	if ((fd = ar_ex_opendir(x, dir, 1, rel)) < 0)
		goto out;
	if ((x->cpath = strdup(dir)) == NULL) {
		close(fd);
		fd = FERR_ALLOC;
		goto out;
	}
	x->cfd = fd;
	*pfdp = fd;
	fd = 0;
 out:
	if (slash != NULL)
		*slash = '/';
	return fd;
}

static void
ar_entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	} else
		ts[0] = ts[1];
}

/* Permission bits to apply: set-id bits only when owners are restored. */
static mode_t
ar_ex_mode(const struct ar_ex *x, struct archive_entry *e)
{
	mode_t m = archive_entry_perm(e) & 07777;

	if (!((x->o->flags & SFTP_ARCHIVE_OWNER) && x->is_root))
		m &= ~(mode_t)(S_ISUID | S_ISGID);
	return m;
}

/* Remove a non-directory where an entry goes; ENOENT is fine. */
static int
ar_ex_clear(struct ar_ex *x, int pfd, const char *name, const char *rel)
{
	struct stat st;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0;
		return ar_ex_sys(x, rel, errno);
	}
	if (S_ISDIR(st.st_mode))
		return ar_ex_refuse(x, FERR_PERMISSION, rel,
		    "a directory is in the way");
	if (unlinkat(pfd, name, 0) != 0)
		return ar_ex_sys(x, rel, errno);
	return 0;
}

static int
ar_ex_dir(struct ar_ex *x, struct archive_entry *e, const char *rel,
    int pfd, const char *name)
{
	struct ar_fixup *nf;
	struct stat st;

	if (mkdirat(pfd, name, 0777) == 0)
		x->st.dirs++;
	else if (errno != EEXIST)
		return ar_ex_sys(x, rel, errno);
	else if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return ar_ex_sys(x, rel, errno);
	else if (!S_ISDIR(st.st_mode))
		return ar_ex_refuse(x, FERR_PERMISSION, rel,
		    "exists and is not a directory");
	if (!(x->o->flags & SFTP_ARCHIVE_PRESERVE))
		return 0;
	/* Modes and times of directories are set once they are filled. */
	if (x->nfix == x->capfix) {
		x->capfix = x->capfix == 0 ? 64 : x->capfix * 2;
		if ((nf = reallocarray(x->fix, x->capfix,
		    sizeof(*nf))) == NULL)
			return FERR_ALLOC;
		x->fix = nf;
	}
	if ((x->fix[x->nfix].path = strdup(rel)) == NULL)
		return FERR_ALLOC;
	x->fix[x->nfix].mode = ar_ex_mode(x, e);
	ar_entry_times(e, x->fix[x->nfix].times);
	x->nfix++;
	return 0;
}

static int
ar_is_zero(const uint8_t *p, size_t len)
{
	return len > 0 && p[0] == 0 && memcmp(p, p + 1, len - 1) == 0;
}

/* Write one data block at off, leaving aligned zero pages as holes. */
static int
ar_ex_write(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	size_t n, done = 0;
	ssize_t w;

	while (done < len) {
		n = len - done;
		if (n > AR_HOLE - (size_t)((off + done) % AR_HOLE))
			n = AR_HOLE - (size_t)((off + done) % AR_HOLE);
		/* The file is new: what is not written reads as zeros. */
		if (ar_is_zero(p + done, n)) {
			done += n;
			continue;
		}
		w = pwrite(fd, p + done, n, (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return FERR_SYSTEM;
		}
		done += (size_t)w;
	}
	return 0;
}

static int
ar_ex_file(struct ar_ex *x, struct archive *a, struct archive_entry *e,
    const char *rel, int pfd, const char *name)
{
	const void *blk;
	size_t blen;
	la_int64_t boff;
	uint64_t size;
	struct timespec ts[2];
	int fd = -1, r;

	size = archive_entry_size(e) > 0 ? (uint64_t)archive_entry_size(e) :
	    0;
	if (size > UINT64_MAX - x->declared ||
	    (x->o->max_bytes != 0 && x->declared + size > x->o->max_bytes))
		return ar_ex_refuse(x, FERR_NO_SPACE, rel,
		    "the archive exceeds the size limit");
	x->declared += size;
	if (!(x->o->flags & SFTP_ARCHIVE_NOSPACE) && x->declared > x->avail)
		return ar_ex_refuse(x, FERR_NO_SPACE, rel,
		    "larger than the free space of the target");
	if ((r = ar_ex_clear(x, pfd, name, rel)) != 0)
		return r;
	if ((fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, archive_entry_perm(e) & 0777)) < 0)
		return ar_ex_sys(x, rel, errno);
	for (;;) {
		r = archive_read_data_block(a, &blk, &blen, &boff);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			ar_msg(x->errbuf, x->errlen, "reading archive entry",
			    rel, archive_error_string(a) != NULL ?
			    archive_error_string(a) : "bad data");
			r = FERR_FORMAT;
			goto out;
		}
		if (boff < 0 || (uint64_t)boff > size ||
		    blen > size - (uint64_t)boff) {
			r = ar_ex_refuse(x, FERR_PERMISSION, rel,
			    "data beyond the declared size");
			goto out;
		}
		if (ar_ex_write(fd, blk, blen, (uint64_t)boff) != 0) {
			r = ar_ex_sys(x, rel, errno);
			goto out;
		}
		x->st.bytes += blen;
	}
	if (ftruncate(fd, (off_t)size) != 0) {
		r = ar_ex_sys(x, rel, errno);
		goto out;
	}
	if ((x->o->flags & SFTP_ARCHIVE_OWNER) && x->is_root &&
	    fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) != 0) {
		r = ar_ex_sys(x, rel, errno);
		goto out;
	}
	if (x->o->flags & SFTP_ARCHIVE_PRESERVE) {
		ar_entry_times(e, ts);
		if (fchmod(fd, ar_ex_mode(x, e)) != 0 ||
		    futimens(fd, ts) != 0) {
			r = ar_ex_sys(x, rel, errno);
			goto out;
		}
	}
	x->st.files++;
	r = 0;
 out:
	if (fd >= 0 && close(fd) != 0 && r == 0)
		r = ar_ex_sys(x, rel, errno);
	return r;
}

static int
ar_ex_symlink(struct ar_ex *x, struct archive_entry *e, const char *rel,
    int pfd, const char *name)
{
	const char *target = archive_entry_symlink(e);
	struct timespec ts[2];
	int r;

	if (!(x->o->flags & SFTP_ARCHIVE_SYMLINKS))
		return ar_ex_refuse(x, FERR_PERMISSION, rel,
		    "symbolic links are not allowed here");
	if (target == NULL || *target == '\0')
		return ar_ex_refuse(x, FERR_PERMISSION, rel,
		    "symbolic link without a target");
	if ((r = ar_ex_clear(x, pfd, name, rel)) != 0)
		return r;
	if (symlinkat(target, pfd, name) != 0)
		return ar_ex_sys(x, rel, errno);
	if ((x->o->flags & SFTP_ARCHIVE_OWNER) && x->is_root &&
	    fchownat(pfd, name, archive_entry_uid(e), archive_entry_gid(e),
	    AT_SYMLINK_NOFOLLOW) != 0)
		return ar_ex_sys(x, rel, errno);
	if (x->o->flags & SFTP_ARCHIVE_PRESERVE) {
		ar_entry_times(e, ts);
		if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) != 0 &&
		    errno != EOPNOTSUPP)
			return ar_ex_sys(x, rel, errno);
	}
	x->st.links++;
	return 0;
}

/* A hard link to an earlier regular file of the same tree. */
static int
ar_ex_hardlink(struct ar_ex *x, const char *target, const char *rel,
    int pfd, const char *name)
{
	char *tnorm = NULL, *tname;
	const char *why;
	struct stat st;
	int tfd = -1, r;

	if (!(x->o->flags & SFTP_ARCHIVE_HARDLINKS))
		return ar_ex_refuse(x, FERR_PERMISSION, rel,
		    "hard links are not allowed");
	if ((tnorm = malloc(AR_PATH_MAX + 1)) == NULL)
		return FERR_ALLOC;
	if (ar_normalise(target, tnorm, AR_PATH_MAX + 1, &why) != 0 ||
	    tnorm[0] == '\0') {
		r = ar_ex_refuse(x, FERR_PERMISSION, rel, why != NULL ? why :
		    "hard link to the top directory");
		goto out;
	}
	if ((tname = strrchr(tnorm, '/')) != NULL) {
		*tname++ = '\0';
		tfd = ar_ex_opendir(x, tnorm, 0, rel);
	} else {
		tname = tnorm;
		tfd = ar_ex_opendir(x, "", 0, rel);
	}
	if (tfd < 0) {
		r = tfd;
		goto out;
	}
	if (fstatat(tfd, tname, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		r = ar_ex_sys(x, rel, errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = ar_ex_refuse(x, FERR_PERMISSION, rel,
		    "hard link to something not a regular file");
		goto out;
	}
	if ((r = ar_ex_clear(x, pfd, name, rel)) != 0)
		goto out;
	if (linkat(tfd, tname, pfd, name, 0) != 0) {
		r = ar_ex_sys(x, rel, errno);
		goto out;
	}
	x->st.links++;
	r = 0;
 out:
	if (tfd >= 0)
		close(tfd);
	free(tnorm);
	return r;
}

static int
ar_ex_special(struct ar_ex *x, struct archive_entry *e, const char *rel,
    int pfd, const char *name)
{
	mode_t type = archive_entry_filetype(e);
	int r;

	if (!(x->o->flags & SFTP_ARCHIVE_SPECIAL) || type == AE_IFSOCK)
		return ar_ex_refuse(x, FERR_PERMISSION, rel,
		    "device nodes, FIFOs and sockets are not allowed");
	if ((r = ar_ex_clear(x, pfd, name, rel)) != 0)
		return r;
	if (mknodat(pfd, name, type | (archive_entry_perm(e) & 0777),
	    archive_entry_rdev(e)) != 0)
		return ar_ex_sys(x, rel, errno);
	x->st.other++;
	return 0;
}

/* Apply the saved modes and times of directories, deepest first. */
static int
ar_ex_fixups(struct ar_ex *x)
{
	struct ar_fixup *f;
	size_t i;
	int fd, r = 0;

	for (i = x->nfix; i > 0 && r == 0; i--) {
		f = &x->fix[i - 1];
		if ((fd = ar_ex_opendir(x, f->path, 0, f->path)) < 0)
			return fd;
		if (fchmod(fd, f->mode) != 0 || futimens(fd, f->times) != 0)
			r = ar_ex_sys(x, f->path, errno);
		close(fd);
	}
	return r;
}

static int
ar_ex_entry(struct ar_ex *x, struct archive *a, struct archive_entry *e,
    char *rel)
{
	const char *why, *name, *hl;
	int r, pfd;

	if ((r = ar_normalise(archive_entry_pathname(e), rel,
	    AR_PATH_MAX + 1, &why)) != 0)
		return ar_ex_refuse(x, r, archive_entry_pathname(e) != NULL ?
		    archive_entry_pathname(e) : "", why);
	if (rel[0] == '\0')
		return 0;	/* the top directory itself */
	if ((r = ar_ex_parent(x, rel, &pfd, &name)) != 0)
		return r;
	if ((hl = archive_entry_hardlink(e)) != NULL)
		return ar_ex_hardlink(x, hl, rel, pfd, name);
	switch (archive_entry_filetype(e)) {
	case AE_IFDIR:
		return ar_ex_dir(x, e, rel, pfd, name);
	case AE_IFREG:
		return ar_ex_file(x, a, e, rel, pfd, name);
	case AE_IFLNK:
		return ar_ex_symlink(x, e, rel, pfd, name);
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
	case AE_IFSOCK:
		return ar_ex_special(x, e, rel, pfd, name);
	default:
		return ar_ex_refuse(x, FERR_PERMISSION, rel,
		    "unknown entry type");
	}
}

/* A reader over fd for the formats flags allow. */
static struct archive *
ar_reader(int fd, unsigned int flags)
{
	struct archive *a;

	if (lseek(fd, 0, SEEK_SET) != 0 || (a = archive_read_new()) == NULL)
		return NULL;
	if (flags & SFTP_ARCHIVE_ANYFORMAT) {
		/* A local file: every format, compressed by a library. */
		archive_read_support_format_all(a);
		archive_read_support_filter_gzip(a);
		archive_read_support_filter_bzip2(a);
		archive_read_support_filter_xz(a);
		archive_read_support_filter_lzma(a);
		archive_read_support_filter_lzip(a);
		archive_read_support_filter_zstd(a);
		archive_read_support_filter_compress(a);
	} else {
		/* A peer's stream: pax (ustar) only. */
		archive_read_support_format_tar(a);
		if (flags & SFTP_ARCHIVE_GZIP)
			archive_read_support_filter_gzip(a);
	}
	if (archive_read_open_fd(a, fd, AR_CHUNK) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

int
sftp_archive_extract(int fd, int dirfd,
    const struct sftp_archive_extract_opts *o, struct sftp_archive_stats *st,
    char *errbuf, size_t errlen)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	struct statvfs vfs;
	struct ar_ex x;
	char *rel = NULL;
	size_t i;
	int r;

	memset(&x, 0, sizeof(x));
	x.o = o;
	x.root = dirfd;
	x.cfd = -1;
	x.errbuf = errbuf;
	x.errlen = errlen;
	x.is_root = geteuid() == 0;
	x.avail = UINT64_MAX;
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (!(o->flags & SFTP_ARCHIVE_NOSPACE) && fstatvfs(dirfd, &vfs) == 0 &&
	    vfs.f_frsize > 0 && vfs.f_bavail < UINT64_MAX / vfs.f_frsize)
		x.avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if ((rel = malloc(AR_PATH_MAX + 1)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((a = ar_reader(fd, o->flags)) == NULL) {
		ar_msg(errbuf, errlen, "reading archive", NULL,
		    "cannot open the stream");
		r = FERR_FORMAT;
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			ar_msg(errbuf, errlen, "reading archive", NULL,
			    archive_error_string(a) != NULL ?
			    archive_error_string(a) : "malformed");
			r = FERR_FORMAT;
			goto out;
		}
		if ((r = ar_ex_entry(&x, a, e, rel)) != 0)
			goto out;
		if (o->progress != NULL)
			o->progress(o->arg, &x.st);
	}
	r = ar_ex_fixups(&x);
 out:
	if (a != NULL) {
		x.st.stream = (uint64_t)archive_filter_bytes(a, -1);
		archive_read_free(a);
	}
	if (x.cpath != NULL) {
		close(x.cfd);
		free(x.cpath);
	}
	for (i = 0; i < x.nfix; i++)
		free(x.fix[i].path);
	free(x.fix);
	free(rel);
	if (st != NULL)
		*st = x.st;
	return r;
}

/* ---- Transcoding ---- */

static int
ar_tc_data(struct archive *in, struct archive *out, struct archive_entry *e,
    char *errbuf, size_t errlen)
{
	static const uint8_t zeros[AR_HOLE];
	const void *blk;
	size_t blen, n;
	la_int64_t boff;
	uint64_t pos = 0, size;
	int r;

	size = archive_entry_size(e) > 0 ? (uint64_t)archive_entry_size(e) :
	    0;
	for (;;) {
		r = archive_read_data_block(in, &blk, &blen, &boff);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			goto bad;
		if (boff < 0 || (uint64_t)boff < pos ||
		    (uint64_t)boff > size || blen > size - (uint64_t)boff)
			goto bad;
		while (pos < (uint64_t)boff) {
			n = (uint64_t)boff - pos < AR_HOLE ?
			    (size_t)((uint64_t)boff - pos) : AR_HOLE;
			if (archive_write_data(out, zeros, n) != (la_ssize_t)n)
				goto wbad;
			pos += n;
		}
		if (blen > 0 && archive_write_data(out, blk, blen) !=
		    (la_ssize_t)blen)
			goto wbad;
		pos += blen;
	}
	while (pos < size) {
		n = size - pos < AR_HOLE ? (size_t)(size - pos) : AR_HOLE;
		if (archive_write_data(out, zeros, n) != (la_ssize_t)n)
			goto wbad;
		pos += n;
	}
	return 0;
 bad:
	ar_msg(errbuf, errlen, "reading archive entry",
	    archive_entry_pathname(e), archive_error_string(in) != NULL ?
	    archive_error_string(in) : "bad data");
	return FERR_FORMAT;
 wbad:
	ar_msg(errbuf, errlen, "writing archive entry",
	    archive_entry_pathname(e), archive_error_string(out) != NULL ?
	    archive_error_string(out) : "write failed");
	return FERR_SYSTEM;
}

/*
 * Drop the times the writers cannot represent: the zip writer converts
 * the modification time to local calendar time and does not survive a
 * year beyond what localtime_r() takes (a hostile pax mtime=1e19).
 */
static void
ar_tc_times(struct archive_entry *e)
{
	struct tm tm;
	time_t t;

	t = archive_entry_mtime(e);
	if (archive_entry_mtime_is_set(e) && localtime_r(&t, &tm) == NULL)
		archive_entry_unset_mtime(e);
	t = archive_entry_atime(e);
	if (archive_entry_atime_is_set(e) && localtime_r(&t, &tm) == NULL)
		archive_entry_unset_atime(e);
	t = archive_entry_ctime(e);
	if (archive_entry_ctime_is_set(e) && localtime_r(&t, &tm) == NULL)
		archive_entry_unset_ctime(e);
	t = archive_entry_birthtime(e);
	if (archive_entry_birthtime_is_set(e) &&
	    localtime_r(&t, &tm) == NULL)
		archive_entry_unset_birthtime(e);
}

int
sftp_archive_transcode(int infd, unsigned int inflags, int outfd,
    enum sftp_archive_format fmt, char *errbuf, size_t errlen)
{
	struct archive *in = NULL, *out = NULL;
	struct archive_entry *e;
	const char *why;
	char *rel = NULL;
	int r;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if ((rel = malloc(AR_PATH_MAX + 1)) == NULL)
		return FERR_ALLOC;
	if ((in = ar_reader(infd, inflags)) == NULL) {
		ar_msg(errbuf, errlen, "reading archive", NULL,
		    "cannot open it");
		r = FERR_FORMAT;
		goto out;
	}
	if ((out = archive_write_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	switch (fmt) {
	case SFTP_ARCHIVE_FMT_TAR:
		r = archive_write_set_format_pax_restricted(out);
		break;
	case SFTP_ARCHIVE_FMT_TARGZ:
		if ((r = archive_write_set_format_pax_restricted(out)) ==
		    ARCHIVE_OK)
			r = archive_write_add_filter_gzip(out);
		break;
	case SFTP_ARCHIVE_FMT_ZIP:
		r = archive_write_set_format_zip(out);
		break;
	default:
		r = ARCHIVE_FATAL;
		break;
	}
	if (r != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(out, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(out, outfd) != ARCHIVE_OK) {
		ar_msg(errbuf, errlen, "writing archive", NULL,
		    "unsupported output format");
		r = FERR_NOT_SUPPORTED;
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			ar_msg(errbuf, errlen, "reading archive", NULL,
			    archive_error_string(in) != NULL ?
			    archive_error_string(in) : "malformed");
			r = FERR_FORMAT;
			goto out;
		}
		if ((r = ar_normalise(archive_entry_pathname(e), rel,
		    AR_PATH_MAX + 1, &why)) != 0) {
			ar_msg(errbuf, errlen, "refusing archive entry",
			    archive_entry_pathname(e) != NULL ?
			    archive_entry_pathname(e) : "", why);
			goto out;
		}
		if (rel[0] == '\0')
			continue;
		archive_entry_copy_pathname(e, rel);
		ar_tc_times(e);
		r = archive_write_header(out, e);
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			ar_msg(errbuf, errlen, "writing archive entry", rel,
			    archive_error_string(out) != NULL ?
			    archive_error_string(out) : "failed");
			r = FERR_FORMAT;
			goto out;
		}
		if (archive_entry_filetype(e) == AE_IFREG &&
		    archive_entry_hardlink(e) == NULL &&
		    (r = ar_tc_data(in, out, e, errbuf, errlen)) != 0)
			goto out;
		if (archive_write_finish_entry(out) != ARCHIVE_OK) {
			r = FERR_FORMAT;
			goto out;
		}
	}
	if (archive_write_close(out) != ARCHIVE_OK) {
		ar_msg(errbuf, errlen, "writing archive", NULL,
		    archive_error_string(out) != NULL ?
		    archive_error_string(out) : "failed");
		r = FERR_SYSTEM;
		goto out;
	}
	r = 0;
 out:
	if (in != NULL)
		archive_read_free(in);
	if (out != NULL)
		archive_write_free(out);
	free(rel);
	return r;
}
