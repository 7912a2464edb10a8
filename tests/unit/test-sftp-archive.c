/*
 * tree-archive: the codec (a tree through the sender and the extractor,
 * with and without gzip, modes, times, symbolic links, sparse files),
 * hostile archives built here with libarchive's write API (".." and
 * absolute names, a symbolic link then a file through it, hard links,
 * device nodes, FIFOs, size bombs, links planted in the target, garbage),
 * transcoding to zip and back, the server's stream object, and whole
 * transfers between the client and server engines in memory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/sftp.h"
#include "ferry/sftp-archive.h"
#include "ferry/sftp-client.h"
#include "ferry/sftp-server.h"
#include "sftp-archive-server.h"
#include "tap.h"

#define H(x) do { \
	if ((x) != 0) { \
		printf("Bail out! %s\n", #x); \
		exit(1); \
	} \
} while (0)

static char base[256];
static char ebuf[600];

static void
path(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", base, rel);
}

static void
mkfile(const char *rel, const void *data, size_t len, mode_t mode)
{
	char p[512];
	int fd;

	path(p, sizeof(p), rel);
	H((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode)) < 0);
	H(len > 0 && write(fd, data, len) != (ssize_t)len);
	H(fchmod(fd, mode));
	close(fd);
}

static void
mkd(const char *rel)
{
	char p[512];

	path(p, sizeof(p), rel);
	H(mkdir(p, 0755));
}

static int
opendirat(const char *rel)
{
	char p[512];
	int fd;

	path(p, sizeof(p), rel);
	H((fd = open(p, O_RDONLY | O_DIRECTORY)) < 0);
	return fd;
}

static int
exists(const char *rel)
{
	char p[512];
	struct stat st;

	path(p, sizeof(p), rel);
	return lstat(p, &st) == 0;
}

static void
rmtree(const char *rel)
{
	char cmd[600];
	pid_t pid;
	int status;

	path(cmd, sizeof(cmd), rel);
	if ((pid = fork()) == 0) {
		execl("/bin/rm", "rm", "-rf", cmd, (char *)NULL);
		_exit(127);
	}
	H(pid < 0);
	H(waitpid(pid, &status, 0) != pid);
}

/* The whole stream of a sender into a memfd. */
static int
stream_of(struct sftp_archive_src *s)
{
	uint8_t buf[7000];
	size_t n;
	int fd;

	H((fd = memfd_create("t", 0)) < 0);
	do {
		H(sftp_archive_src_read(s, buf, sizeof(buf), &n));
		H(n > 0 && write(fd, buf, n) != (ssize_t)n);
	} while (n == sizeof(buf));
	return fd;
}

static void
build_tree(void)
{
	char big[3000], longname[300];
	struct timespec ts[2] = { { 1000000000, 0 }, { 1200000000, 0 } };
	char p[512];
	int fd;

	memset(big, 'z', sizeof(big));
	mkd("src");
	mkfile("src/hello", "hello\n", 6, 0640);
	mkfile("src/empty", "", 0, 0600);
	mkfile("src/exec", "#!/bin/sh\n", 10, 0755);
	mkfile("src/a b\nc", big, sizeof(big), 0644);
	memset(longname, 'L', 200);
	memcpy(longname, "src/", 4);
	longname[200] = '\0';
	mkfile(longname, "long", 4, 0644);
	mkd("src/d");
	mkd("src/d/e");
	mkd("src/d/e/f");
	mkfile("src/d/e/f/deep", "deep", 4, 0444);
	path(p, sizeof(p), "src/ln");
	H(symlink("hello", p));
	path(p, sizeof(p), "src/sparse");
	H((fd = open(p, O_WRONLY | O_CREAT, 0644)) < 0);
	H(pwrite(fd, "x", 1, 1 << 20) != 1);
	close(fd);
	path(p, sizeof(p), "src/hello");
	H(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW));
	path(p, sizeof(p), "src/d/e");
	H(chmod(p, 0750));
	H(utimensat(AT_FDCWD, p, ts, 0));
}

static int
same_file(const char *a, const char *b, int modes)
{
	char pa[512], pb[512], ba[4096], bb[4096];
	struct stat sa, sb;
	ssize_t na, nb;
	int fa, fb, r = 1;

	path(pa, sizeof(pa), a);
	path(pb, sizeof(pb), b);
	if (lstat(pa, &sa) != 0 || lstat(pb, &sb) != 0)
		return 0;
	if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT) ||
	    sa.st_size != sb.st_size)
		return 0;
	if (modes && ((sa.st_mode & 07777) != (sb.st_mode & 07777) ||
	    (!S_ISLNK(sa.st_mode) && sa.st_mtime != sb.st_mtime)))
		return 0;
	if (S_ISLNK(sa.st_mode)) {
		na = readlink(pa, ba, sizeof(ba));
		nb = readlink(pb, bb, sizeof(bb));
		return na == nb && na > 0 && memcmp(ba, bb, (size_t)na) == 0;
	}
	if (!S_ISREG(sa.st_mode))
		return 1;
	H((fa = open(pa, O_RDONLY)) < 0);
	H((fb = open(pb, O_RDONLY)) < 0);
	for (;;) {
		na = read(fa, ba, sizeof(ba));
		nb = read(fb, bb, sizeof(bb));
		if (na != nb || (na > 0 && memcmp(ba, bb, (size_t)na) != 0)) {
			r = 0;
			break;
		}
		if (na <= 0)
			break;
	}
	close(fa);
	close(fb);
	return r;
}

static const char *const tree_names[] = {
	"hello", "empty", "exec", "a b\nc", "d", "d/e", "d/e/f",
	"d/e/f/deep", "ln", "sparse",
};

static int
same_tree(const char *a, const char *b, int modes)
{
	char pa[512], pb[512], ln[300];
	size_t i;

	for (i = 0; i < sizeof(tree_names) / sizeof(tree_names[0]); i++) {
		snprintf(pa, sizeof(pa), "%s/%s", a, tree_names[i]);
		snprintf(pb, sizeof(pb), "%s/%s", b, tree_names[i]);
		if (!same_file(pa, pb, modes)) {
			tap_diag("differs: %s", tree_names[i]);
			return 0;
		}
	}
	memset(ln, 'L', 196);
	ln[196] = '\0';
	snprintf(pa, sizeof(pa), "%s/%s", a, ln);
	snprintf(pb, sizeof(pb), "%s/%s", b, ln);
	return same_file(pa, pb, modes);
}

static void
test_roundtrip(unsigned int flags, const char *dst)
{
	struct sftp_archive_extract_opts o;
	struct sftp_archive_stats st;
	struct sftp_archive_src *s;
	struct stat sb;
	char p[512];
	int fd, dfd;

	H((s = sftp_archive_src_new(opendirat("src"), flags)) == NULL);
	fd = stream_of(s);
	is_int(sftp_archive_src_stats(s)->files, 7, "sender counted files");
	is_int(sftp_archive_src_stats(s)->dirs, 3, "sender counted dirs");
	sftp_archive_src_free(s);
	mkd(dst);
	dfd = opendirat(dst);
	memset(&o, 0, sizeof(o));
	o.flags = flags | SFTP_ARCHIVE_PRESERVE | SFTP_ARCHIVE_SYMLINKS;
	is_int(sftp_archive_extract(fd, dfd, &o, &st, ebuf, sizeof(ebuf)), 0,
	    "extract (flags 0x%x): %s", flags, ebuf);
	is_int(st.files, 7, "files extracted");
	is_int(st.links, 1, "link extracted");
	snprintf(p, sizeof(p), "%s", dst);
	ok(same_tree("src", p, 1), "tree identical with modes and times");
	snprintf(p, sizeof(p), "%s/%s/sparse", base, dst);
	H(stat(p, &sb));
	ok(sb.st_blocks * 512 < 64 * 1024, "sparse file stays sparse (%lld "
	    "blocks)", (long long)sb.st_blocks);
	close(dfd);
	close(fd);
}

/* ---- Hostile archives ---- */

struct hent {
	const char *name;
	mode_t type;
	const char *link;	/* symlink target */
	const char *hardlink;
	int64_t size;		/* declared size (data written: min 16) */
};

static int
hostile(const struct hent *e, size_t n, int gzip)
{
	struct archive *a;
	struct archive_entry *ae;
	size_t i;
	int fd;

	H((fd = memfd_create("h", 0)) < 0);
	H((a = archive_write_new()) == NULL);
	H(archive_write_set_format_pax_restricted(a));
	if (gzip)
		H(archive_write_add_filter_gzip(a));
	H(archive_write_open_fd(a, fd));
	for (i = 0; i < n; i++) {
		ae = archive_entry_new();
		archive_entry_copy_pathname(ae, e[i].name);
		archive_entry_set_filetype(ae, e[i].type);
		archive_entry_set_perm(ae, 0644);
		if (e[i].link != NULL)
			archive_entry_copy_symlink(ae, e[i].link);
		if (e[i].hardlink != NULL)
			archive_entry_copy_hardlink(ae, e[i].hardlink);
		if (e[i].type == AE_IFCHR)
			archive_entry_set_rdev(ae, makedev(1, 3));
		archive_entry_set_size(ae, e[i].type == AE_IFREG &&
		    e[i].hardlink == NULL ? e[i].size : 0);
		(void)archive_write_header(a, ae);
		if (e[i].type == AE_IFREG && e[i].size > 0 &&
		    e[i].hardlink == NULL)
			(void)archive_write_data(a, "0123456789abcdef",
			    e[i].size < 16 ? (size_t)e[i].size : 16);
		archive_entry_free(ae);
	}
	(void)archive_write_close(a);
	archive_write_free(a);
	return fd;
}

/*
 * A ustar stream of one file "bomb" declaring size bytes (GNU base-256
 * size field) with only one block of data: libarchive's writer would pad
 * the entry to its full size.
 */
static int
bomb(uint64_t size)
{
	uint8_t h[512], zero[1024];
	unsigned int sum = 0;
	size_t i;
	int fd;

	memset(h, 0, sizeof(h));
	memset(zero, 0, sizeof(zero));
	memcpy(h, "bomb", 4);
	memcpy(h + 100, "0000644", 7);
	memcpy(h + 108, "0000000", 7);
	memcpy(h + 116, "0000000", 7);
	h[124] = 0x80;
	for (i = 0; i < 8; i++)
		h[135 - i] = (uint8_t)(size >> (8 * i));
	memcpy(h + 136, "00000000000", 11);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (i = 0; i < sizeof(h); i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	H((fd = memfd_create("b", 0)) < 0);
	H(write(fd, h, sizeof(h)) != (ssize_t)sizeof(h));
	memset(h, 'B', sizeof(h));
	H(write(fd, h, sizeof(h)) != (ssize_t)sizeof(h));
	H(write(fd, zero, sizeof(zero)) != (ssize_t)sizeof(zero));
	return fd;
}

static int
extract_into(int fd, const char *dst, unsigned int flags, uint64_t max)
{
	struct sftp_archive_extract_opts o;
	int dfd, r;

	rmtree(dst);
	mkd(dst);
	dfd = opendirat(dst);
	memset(&o, 0, sizeof(o));
	o.flags = flags;
	o.max_bytes = max;
	r = sftp_archive_extract(fd, dfd, &o, NULL, ebuf, sizeof(ebuf));
	close(dfd);
	close(fd);
	return r;
}

static void
test_hostile(void)
{
	char abs[600], out[512], p[512];
	struct stat a, b;
	int r, fd;

	mkd("outside");
	mkd("t");
	path(out, sizeof(out), "outside");
	snprintf(abs, sizeof(abs), "%s/evil", out);
	{
		struct hent e[] = { { "../outside/evil", AE_IFREG, NULL,
		    NULL, 4 } };
		r = extract_into(hostile(e, 1, 0), "t/x", 0, 0);
		is_int(r, FERR_PERMISSION, "../ refused: %s", ebuf);
		ok(strstr(ebuf, "..") != NULL, "message names the reason");
	}
	{
		struct hent e[] = { { abs, AE_IFREG, NULL, NULL, 4 } };
		is_int(extract_into(hostile(e, 1, 0), "t/x", 0, 0),
		    FERR_PERMISSION, "absolute path refused: %s", ebuf);
	}
	{
		struct hent e[] = { { "a/../../outside/evil", AE_IFREG, NULL,
		    NULL, 4 } };
		is_int(extract_into(hostile(e, 1, 0), "t/x", 0, 0),
		    FERR_PERMISSION, "inner .. refused");
	}
	{
		struct hent e[] = {
			{ "l", AE_IFLNK, out, NULL, 0 },
			{ "l/evil", AE_IFREG, NULL, NULL, 4 },
		};
		is_int(extract_into(hostile(e, 2, 0), "t/x",
		    SFTP_ARCHIVE_SYMLINKS, 0), FERR_PERMISSION,
		    "file through a symlink refused: %s", ebuf);
		ok(exists("t/x/l"), "the link itself was made");
	}
	{
		struct hent e[] = {
			{ "l2", AE_IFLNK, "..", NULL, 0 },
			{ "l2/evil", AE_IFREG, NULL, NULL, 4 },
			{ "l2/evd", AE_IFDIR, NULL, NULL, 0 },
		};
		is_int(extract_into(hostile(e, 3, 0), "t/x",
		    SFTP_ARCHIVE_SYMLINKS, 0), FERR_PERMISSION,
		    "file through a relative symlink refused");
		ok(!exists("t/evil"), "nothing beside the target");
	}
	{
		struct hent e[] = { { "l", AE_IFLNK, "/etc", NULL, 0 } };
		is_int(extract_into(hostile(e, 1, 0), "t/x", 0, 0),
		    FERR_PERMISSION, "symlinks refused unless allowed");
	}
	{
		struct hent e[] = { { "shadow", AE_IFREG, NULL,
		    "/etc/shadow", 0 } };
		is_int(extract_into(hostile(e, 1, 0), "t/x", 0, 0),
		    FERR_PERMISSION, "hard link refused: %s", ebuf);
		is_int(extract_into(hostile(e, 1, 0), "t/x",
		    SFTP_ARCHIVE_HARDLINKS, 0), FERR_PERMISSION,
		    "absolute hard link refused even when allowed");
	}
	{
		struct hent e[] = {
			{ "f", AE_IFREG, NULL, NULL, 8 },
			{ "g", AE_IFREG, NULL, "f", 0 },
		};
		is_int(extract_into(hostile(e, 2, 0), "t/x",
		    SFTP_ARCHIVE_HARDLINKS, 0), 0,
		    "hard link inside allowed when asked: %s", ebuf);
		path(p, sizeof(p), "t/x/f");
		H(stat(p, &a));
		path(p, sizeof(p), "t/x/g");
		H(stat(p, &b));
		ok(a.st_ino == b.st_ino, "same inode");
	}
	{
		struct hent e[] = { { "null", AE_IFCHR, NULL, NULL, 0 } };
		is_int(extract_into(hostile(e, 1, 0), "t/x", 0, 0),
		    FERR_PERMISSION, "device node refused: %s", ebuf);
		ok(!exists("t/x/null"), "no node made");
	}
	{
		struct hent e[] = { { "fifo", AE_IFIFO, NULL, NULL, 0 } };
		is_int(extract_into(hostile(e, 1, 0), "t/x", 0, 0),
		    FERR_PERMISSION, "FIFO refused");
		is_int(extract_into(hostile(e, 1, 0), "t/x",
		    SFTP_ARCHIVE_SPECIAL, 0), 0, "FIFO made when asked");
	}
	is_int(extract_into(bomb(UINT64_C(10) << 30), "t/x", 0, 1 << 20),
	    FERR_NO_SPACE, "10 GiB entry over the size cap: %s", ebuf);
	ok(!exists("t/x/bomb"), "bomb not created");
	is_int(extract_into(bomb(UINT64_C(1) << 55), "t/x", 0, 0),
	    FERR_NO_SPACE, "entry larger than free space: %s", ebuf);
	ok(!exists("t/x/bomb"), "bomb not created");
	{
		struct hent e[] = {
			{ "pl/evil", AE_IFREG, NULL, NULL, 4 },
		};
		rmtree("t/x");
		mkd("t/x");
		path(p, sizeof(p), "t/x/pl");
		H(symlink(out, p));
		fd = hostile(e, 1, 0);
		{
			struct sftp_archive_extract_opts o;
			int dfd = opendirat("t/x");

			memset(&o, 0, sizeof(o));
			is_int(sftp_archive_extract(fd, dfd, &o, NULL, ebuf,
			    sizeof(ebuf)), FERR_PERMISSION,
			    "planted symlink in the target not followed");
			close(dfd);
		}
		close(fd);
	}
	{
		struct hent e[] = { { "x", AE_IFREG, NULL, NULL, 4 } };

		is_int(extract_into(hostile(e, 1, 1), "t/x", 0, 0),
		    FERR_FORMAT, "gzip stream without the gzip flag refused");
		is_int(extract_into(hostile(e, 1, 1), "t/x",
		    SFTP_ARCHIVE_GZIP, 0), 0, "gzip stream with the flag");
	}
	H((fd = memfd_create("g", 0)) < 0);
	H(write(fd, "this is not an archive at all, no no no", 39) != 39);
	is_int(extract_into(fd, "t/x", 0, 0), FERR_FORMAT, "garbage refused");
	path(p, sizeof(p), "outside");
	ok(rmdir(p) == 0, "nothing was written outside the target");
}

/* A pax stream of one 4-byte file "f" whose mtime is t. */
static int
tar_with_mtime(time_t t)
{
	struct archive *a;
	struct archive_entry *ae;
	int fd;

	H((fd = memfd_create("m", 0)) < 0);
	H((a = archive_write_new()) == NULL);
	H(archive_write_set_format_pax_restricted(a));
	H(archive_write_open_fd(a, fd));
	ae = archive_entry_new();
	archive_entry_copy_pathname(ae, "f");
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_mtime(ae, t, 0);
	archive_entry_set_size(ae, 4);
	H(archive_write_header(a, ae));
	H(archive_write_data(a, "abcd", 4) != 4);
	archive_entry_free(ae);
	H(archive_write_close(a));
	archive_write_free(a);
	return fd;
}

/*
 * A peer's stream is read as pax only, and a time the zip writer cannot
 * convert (libarchive's writer crashed on it) is dropped, not fatal.
 */
static void
test_transcode_hostile(void)
{
	char p[512], buf[8];
	int fd, zfd, tfd, ffd;

	fd = tar_with_mtime((time_t)1 << 60);
	H((zfd = memfd_create("z", 0)) < 0);
	is_int(sftp_archive_transcode(fd, 0, zfd, SFTP_ARCHIVE_FMT_ZIP, ebuf,
	    sizeof(ebuf)), 0, "year 10^10 mtime to zip: %s", ebuf);
	close(fd);
	H((tfd = memfd_create("t", 0)) < 0);
	is_int(sftp_archive_transcode(zfd, 0, tfd, SFTP_ARCHIVE_FMT_TAR, ebuf,
	    sizeof(ebuf)), FERR_FORMAT, "a zip is not read as a peer's stream");
	ok(ebuf[0] != '\0', "and the refusal says why: %s", ebuf);
	H(ftruncate(tfd, 0) != 0);
	is_int(sftp_archive_transcode(zfd, SFTP_ARCHIVE_ANYFORMAT, tfd,
	    SFTP_ARCHIVE_FMT_TAR, ebuf, sizeof(ebuf)), 0,
	    "but is as a local file: %s", ebuf);
	close(tfd);
	is_int(extract_into(zfd, "farfuture", SFTP_ARCHIVE_ANYFORMAT, 0), 0,
	    "that zip extracts: %s", ebuf);
	path(p, sizeof(p), "farfuture/f");
	H((ffd = open(p, O_RDONLY)) < 0);
	ok(read(ffd, buf, sizeof(buf)) == 4 && memcmp(buf, "abcd", 4) == 0,
	    "its file came through whole");
	close(ffd);
}

static void
test_transcode(void)
{
	struct sftp_archive_src *s;
	int fd, zfd;

	H((s = sftp_archive_src_new(opendirat("src"), 0)) == NULL);
	fd = stream_of(s);
	sftp_archive_src_free(s);
	H((zfd = memfd_create("z", 0)) < 0);
	is_int(sftp_archive_transcode(fd, 0, zfd, SFTP_ARCHIVE_FMT_ZIP, ebuf,
	    sizeof(ebuf)), 0, "tar to zip: %s", ebuf);
	close(fd);
	is_int(extract_into(zfd, "fromzip", SFTP_ARCHIVE_ANYFORMAT |
	    SFTP_ARCHIVE_SYMLINKS, 0), 0, "zip extracted: %s", ebuf);
	ok(same_tree("src", "fromzip", 0), "zip round trip identical");
	is_int(sftp_archive_format_of("x.TAR.GZ"), SFTP_ARCHIVE_FMT_TARGZ,
	    "format by name");
	is_int(sftp_archive_format_of("x.rar"), SFTP_ARCHIVE_FMT_UNKNOWN,
	    "unknown format");
	{
		struct hent e[] = { { "../x", AE_IFREG, NULL, NULL, 4 } };

		H((zfd = memfd_create("z", 0)) < 0);
		fd = hostile(e, 1, 0);
		is_int(sftp_archive_transcode(fd, 0, zfd, SFTP_ARCHIVE_FMT_TAR,
		    ebuf, sizeof(ebuf)), FERR_PERMISSION,
		    "transcode refuses ..");
		close(fd);
		close(zfd);
	}
}

static void
test_mode(void)
{
	struct sftp_archive_stats st;
	enum sftp_archive_mode m;

	memset(&st, 0, sizeof(st));
	is_int(sftp_archive_mode_parse("auto", &m), 0, "auto parses");
	is_int(sftp_archive_mode_parse("maybe", &m), FERR_ARGUMENT,
	    "bad mode refused");
	st.files = 1000;
	st.bytes = 4096 * 1000;
	ok(sftp_archive_wanted(SFTP_ARCHIVE_AUTO, &st), "many small: yes");
	st.files = 3;
	ok(!sftp_archive_wanted(SFTP_ARCHIVE_AUTO, &st), "few files: no");
	ok(sftp_archive_wanted(SFTP_ARCHIVE_YES, &st), "forced yes");
	st.files = 100;
	st.bytes = UINT64_C(100) << 30;
	ok(!sftp_archive_wanted(SFTP_ARCHIVE_AUTO, &st), "big files: no");
	ok(!sftp_archive_wanted(SFTP_ARCHIVE_NO, &st), "forced no");
}

static void
test_stream(void)
{
	struct sftp_archive_stream *s;
	const char *msg;
	uint8_t buf[512];
	size_t n;
	char m[600];

	H((s = sftp_archive_stream_create(opendirat("src"), 0)) == NULL);
	is_int(sftp_archive_stream_read(s, 0, buf, sizeof(buf), &n, &msg), 0,
	    "first read");
	is_int(n, sizeof(buf), "full read");
	is_int(sftp_archive_stream_read(s, 0, buf, sizeof(buf), &n, &msg),
	    FERR_ARGUMENT, "read out of sequence refused");
	is_int(sftp_archive_stream_write(s, 0, buf, 1, &msg), FERR_ARGUMENT,
	    "write to a sending stream refused");
	sftp_archive_stream_free(s);
	{
		int mem = -1, sfd, dfd = opendirat("src");

		H((sfd = sftp_archive_spool(dfd, &mem)) < 0);
		is_int(mem, 0, "spool in the target's file system");
		close(sfd);
		close(dfd);
		H((sfd = sftp_archive_spool(-1, &mem)) < 0);
		is_int(mem, 1, "spool in memory without a directory");
		close(sfd);
	}
	mkd("st");
	H((s = sftp_archive_stream_extract(opendirat("st"), 0, 0)) == NULL);
	is_int(sftp_archive_stream_write(s, 5, buf, 1, &msg), FERR_ARGUMENT,
	    "write out of sequence refused");
	ok(sftp_archive_stream_close(s, m, sizeof(m)) != 0,
	    "close reports the failure: %s", m);
}

/* ---- Client and server engines in memory ---- */

static struct sftp_server *S;
static struct sftp_client *C;

static size_t
pump_once(void)
{
	struct buf *co = sftp_client_output(C), *so = sftp_server_output(S);
	size_t n, moved = 0;

	n = buf_len(co);
	if (n > sftp_server_input_space(S))
		n = sftp_server_input_space(S);
	if (n > 0) {
		H(sftp_server_input(S, buf_ptr(co), n));
		H(buf_consume(co, n));
		moved += n;
	}
	H(sftp_server_process(S));
	if ((n = buf_len(so)) > 0) {
		H(sftp_client_input(C, buf_ptr(so), n));
		H(buf_consume(so, n));
		moved += n;
	}
	return moved;
}

static void
session(const char *rootrel, int read_only, uint64_t denied)
{
	struct sftp_server_opts o;
	char root[512];

	path(root, sizeof(root), rootrel);
	memset(&o, 0, sizeof(o));
	o.root = root;
	o.start_dir = "/";
	o.read_only = read_only;
	o.denied = denied;
	H((S = sftp_server_new(&o)) == NULL);
	H((C = sftp_client_new()) == NULL);
	while (!sftp_client_ready(C))
		H(pump_once() == 0);
}

static void
session_end(void)
{
	sftp_client_free(C);
	sftp_server_free(S);
}

static int
run(struct sftp_archive_xfer *x, const char **msgp)
{
	int guard = 0;

	while (!sftp_archive_xfer_done(x)) {
		H(sftp_archive_xfer_step(x));
		if (pump_once() == 0 && ++guard > 1000)
			return -999;
	}
	return sftp_archive_xfer_result(x, msgp);
}

static char msgcopy[700];

static int
xfer(int kind, const char *a, const char *b, unsigned int flags,
    const char **msgp)
{
	struct sftp_archive_xfer_opts o;
	struct sftp_archive_xfer *x;
	char lp[512];
	int r;

	memset(&o, 0, sizeof(o));
	o.flags = flags;
	o.max_requests = 8;
	H((x = sftp_archive_xfer_new(C, &o)) == NULL);
	switch (kind) {
	case 0:
		path(lp, sizeof(lp), b);
		r = sftp_archive_xfer_get(x, a, lp);
		break;
	case 1:
		path(lp, sizeof(lp), a);
		r = sftp_archive_xfer_put(x, lp, b);
		break;
	case 2:
		path(lp, sizeof(lp), b);
		r = sftp_archive_xfer_get_file(x, a, lp);
		break;
	default:
		path(lp, sizeof(lp), a);
		r = sftp_archive_xfer_put_file(x, lp, b);
		break;
	}
	if (r == 0)
		r = run(x, msgp);
	else
		*msgp = "start failed";
	/* The message lives in x: keep a copy past its free. */
	snprintf(msgcopy, sizeof(msgcopy), "%s", *msgp);
	*msgp = msgcopy;
	sftp_archive_xfer_free(x);
	return r;
}

struct scan_wait {
	int done;
	int r;
	struct sftp_archive_stats *st;
};

static int
scan_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct scan_wait *w = arg;

	w->done = 1;
	w->r = rep->type == SSH_FXP_EXTENDED_REPLY ?
	    sftp_archive_scan_parse(rep->data, rep->len, w->st) : -1;
	return 0;
}

static void
test_engines(void)
{
	const char *msg = "";

	mkd("srv");
	session("srv", 0, 0);
	ok(sftp_archive_supported(C), "server advertises %s",
	    SFTP_ARCHIVE_EXT);
	is_int(xfer(1, "src", "/up", SFTP_ARCHIVE_PRESERVE, &msg), 0,
	    "put tree: %s", msg);
	ok(same_tree("src", "srv/up", 1), "uploaded tree identical");
	is_int(xfer(0, "/up", "down", SFTP_ARCHIVE_PRESERVE |
	    SFTP_ARCHIVE_GZIP, &msg), 0, "get tree gzip: %s", msg);
	ok(same_tree("src", "down", 1), "downloaded tree identical");
	is_int(xfer(2, "/up", "a.tar.gz", 0, &msg), 0, "get as .tar.gz: %s",
	    msg);
	is_int(xfer(2, "/up", "a.zip", 0, &msg), 0, "get as .zip: %s", msg);
	is_int(xfer(3, "a.zip", "/fromzip", 0, &msg), 0, "put .zip: %s",
	    msg);
	ok(same_tree("src", "srv/fromzip", 0), "zip unpacked remotely");
	{
		struct sftp_archive_stats st;
		struct scan_wait w = { 0, -1, &st };

		H(sftp_archive_scan_begin(C, "/up"));
		H(sftp_client_end(C, 0, scan_cb, &w, NULL));
		while (!w.done)
			H(pump_once() == 0);
		is_int(w.r, 0, "SCAN reply parses");
		is_int(st.files, 7, "SCAN counts files");
		is_int(st.dirs, 3, "SCAN counts directories");
		is_int(st.links, 1, "SCAN counts links");
		w.done = 0;
		H(sftp_archive_scan_begin(C, "/up/hello"));
		H(sftp_client_end(C, 0, scan_cb, &w, NULL));
		while (!w.done)
			H(pump_once() == 0);
		ok(w.r != 0, "SCAN of a file fails");
		is_int(sftp_archive_scan_parse((const uint8_t *)"abc", 3, &st),
		    FERR_FORMAT, "short SCAN reply refused");
	}
	is_int(xfer(0, "/nonexistent", "down2", 0, &msg), FERR_SYSTEM,
	    "missing remote directory: %s", msg);
	session_end();

	session("srv", 1, 0);
	ok(xfer(1, "src", "/ro", 0, &msg) == FERR_PERMISSION,
	    "read-only server refuses extraction: %s", msg);
	ok(!exists("srv/ro"), "nothing written in read-only mode");
	is_int(xfer(0, "/up", "down3", 0, &msg), 0,
	    "read-only server still sends");
	session_end();

	session("srv", 0, SFTP_REQ_BIT(SFTP_REQ_TREE_ARCHIVE));
	ok(!sftp_archive_supported(C), "denied extension not advertised");
	is_int(xfer(0, "/up", "down4", 0, &msg), FERR_PERMISSION,
	    "denied extension refused: %s", msg);
	session_end();

	session("srv", 0, SFTP_REQ_BIT(SFTP_REQ_WRITE));
	is_int(xfer(1, "src", "/w", 0, &msg), FERR_PERMISSION,
	    "extraction refused when write is denied: %s", msg);
	session_end();

	session("srv", 0, SFTP_REQ_BIT(SFTP_REQ_SYMLINK));
	is_int(xfer(1, "src", "/nosym", 0, &msg), FERR_PERMISSION,
	    "symlink entry refused when symlink is denied: %s", msg);
	ok(strstr(msg, "ln") != NULL, "the message names the entry");
	session_end();
}

/* ---- A hostile server: the client extracts with the same rules ---- */

static int fake_fd = -1;

/* Answer every complete request in the client's output. */
static void
fake_serve(void)
{
	struct buf *co = sftp_client_output(C), *m, *out;
	const uint8_t *h;
	uint8_t type, data[65536];
	uint32_t len, id, rlen, ver;
	uint64_t off;
	size_t hlen;
	ssize_t n;

	H((out = buf_new()) == NULL);
	while (buf_peek_u32(co, 0, &len) == 0 && buf_len(co) - 4 >= len) {
		H((m = buf_from(buf_ptr(co) + 4, len)) == NULL);
		H(buf_get_u8(m, &type));
		buf_reset(out);
		H(buf_put_u32(out, 0));
		if (type == SSH_FXP_INIT) {
			H(buf_get_u32(m, &ver));
			H(buf_put_u8(out, SSH_FXP_VERSION));
			H(buf_put_u32(out, 3));
			H(buf_put_cstring(out, SFTP_ARCHIVE_EXT));
			H(buf_put_cstring(out, SFTP_ARCHIVE_EXT_VER));
		} else {
			H(buf_get_u32(m, &id));
			switch (type) {
			case SSH_FXP_EXTENDED:
				H(buf_put_u8(out, SSH_FXP_EXTENDED_REPLY));
				H(buf_put_u32(out, id));
				H(buf_put_string(out, "h1", 2));
				break;
			case SSH_FXP_READ:
				H(buf_get_string_direct(m, &h, &hlen));
				H(buf_get_u64(m, &off));
				H(buf_get_u32(m, &rlen));
				if (rlen > sizeof(data))
					rlen = sizeof(data);
				n = pread(fake_fd, data, rlen, (off_t)off);
				if (n > 0) {
					H(buf_put_u8(out, SSH_FXP_DATA));
					H(buf_put_u32(out, id));
					H(buf_put_string(out, data, (size_t)n));
					break;
				}
				/* FALLTHROUGH */
			default:
				H(buf_put_u8(out, SSH_FXP_STATUS));
				H(buf_put_u32(out, id));
				H(buf_put_u32(out, type == SSH_FXP_READ ?
				    SSH_FX_EOF : SSH_FX_OK));
				H(buf_put_cstring(out, ""));
				H(buf_put_cstring(out, ""));
				break;
			}
		}
		H(buf_poke_u32(out, 0, (uint32_t)(buf_len(out) - 4)));
		buf_free(m);
		H(buf_consume(co, 4 + (size_t)len));
		H(sftp_client_input(C, buf_ptr(out), buf_len(out)));
	}
	buf_free(out);
}

static void
test_hostile_server(void)
{
	struct sftp_archive_xfer_opts o;
	struct sftp_archive_xfer *x;
	const char *msg = "";
	char out[512], lp[512];
	int guard = 0, r;

	path(out, sizeof(out), "hs-outside");
	mkd("hs-outside");
	{
		struct hent e[] = {
			{ "l", AE_IFLNK, out, NULL, 0 },
			{ "l/evil", AE_IFREG, NULL, NULL, 4 },
		};
		fake_fd = hostile(e, 2, 0);
	}
	H((C = sftp_client_new()) == NULL);
	while (!sftp_client_ready(C))
		fake_serve();
	ok(sftp_archive_supported(C), "fake server advertises the extension");
	memset(&o, 0, sizeof(o));
	H((x = sftp_archive_xfer_new(C, &o)) == NULL);
	path(lp, sizeof(lp), "hs-dst");
	H(sftp_archive_xfer_get(x, "/x", lp));
	while (!sftp_archive_xfer_done(x) && ++guard < 10000) {
		H(sftp_archive_xfer_step(x));
		fake_serve();
	}
	r = sftp_archive_xfer_result(x, &msg);
	is_int(r, FERR_PERMISSION, "client refuses a hostile server's "
	    "archive: %s", msg);
	path(lp, sizeof(lp), "hs-outside");
	ok(rmdir(lp) == 0, "nothing written outside the client's target");
	sftp_archive_xfer_free(x);
	sftp_client_free(C);
	C = NULL;
	close(fake_fd);
}

/*
 * POSIX leaves errno unspecified after a call that succeeds: while
 * close_clobbers is set, this close() (which the library links to
 * instead of libc's) sets it to EACCES on success, so that a reader of
 * errno after a close() gets a wrong answer, as some libc could give.
 */
static int close_clobbers;

int close(int fd);

int
close(int fd)
{
	long r = syscall(SYS_close, fd);

	if (r != 0)
		return -1;
	if (close_clobbers)
		errno = EACCES;
	return 0;
}

struct status_wait {
	int done;
	uint8_t type;
	uint32_t status;
	char msg[128];
};

static int
status_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct status_wait *w = arg;

	w->done = 1;
	w->type = rep->type;
	w->status = rep->status;
	snprintf(w->msg, sizeof(w->msg), "%s",
	    rep->errmsg != NULL ? rep->errmsg : "");
	return 0;
}

/*
 * The server's SCAN of a tree the walk refuses (a name past 65535
 * bytes): the status is the walk's failure, ENAMETOOLONG as
 * SSH_FX_BAD_MESSAGE "File name too long", although every close() on
 * the way out changes errno.
 */
static void
test_scan_status(void)
{
	struct status_wait w;

	memset(&w, 0, sizeof(w));
	session("", 0, 0);
	H(sftp_archive_scan_begin(C, "/deep"));
	H(sftp_client_end(C, 0, status_cb, &w, NULL));
	close_clobbers = 1;
	while (!w.done)
		H(pump_once() == 0);
	close_clobbers = 0;
	is_int(w.type, SSH_FXP_STATUS, "failed SCAN: a STATUS reply");
	is_int((int)w.status, SSH_FX_BAD_MESSAGE,
	    "failed SCAN: the walk's error as its status code");
	ok(strcmp(w.msg, strerror(ENAMETOOLONG)) == 0,
	    "failed SCAN: the walk's error as its message (\"%s\")", w.msg);
	session_end();
}

/*
 * A directory whose relative name is exactly 65535 bytes (the longest
 * entry name) holding a file: the walker must refuse the file's name
 * (ENAMETOOLONG) instead of writing it past the end of its path buffer.
 * 256 levels of 255-byte names, made and removed through descriptors.
 */
static void
test_walk_long(void)
{
	enum { LEVELS = 256 };
	char comp[256];
	struct sftp_archive_stats st;
	int fds[LEVELS + 1], i, fd, r;

	memset(comp, 'd', 255);
	comp[255] = '\0';
	H((fd = open(base, O_RDONLY | O_DIRECTORY)) < 0);
	H(mkdirat(fd, "deep", 0700));
	H((fds[0] = openat(fd, "deep", O_RDONLY | O_DIRECTORY)) < 0);
	close(fd);
	for (i = 0; i < LEVELS; i++) {
		H(mkdirat(fds[i], comp, 0700));
		H((fds[i + 1] = openat(fds[i], comp, O_RDONLY |
		    O_DIRECTORY)) < 0);
	}
	H((fd = openat(fds[LEVELS], "f", O_WRONLY | O_CREAT, 0600)) < 0);
	close(fd);
	close_clobbers = 1;
	r = sftp_archive_scan(fds[0], &st);
	close_clobbers = 0;
	ok(r == FERR_SYSTEM && errno == ENAMETOOLONG,
	    "a name past 65535 bytes is refused by the walker");
	test_scan_status();
	H(unlinkat(fds[LEVELS], "f", 0));
	for (i = LEVELS; i > 0; i--) {
		close(fds[i]);
		H(unlinkat(fds[i - 1], comp, AT_REMOVEDIR));
	}
	close(fds[0]);
}

int
main(void)
{
	snprintf(base, sizeof(base), "/tmp/test-sftp-archive.XXXXXX");
	H(mkdtemp(base) == NULL);
	umask(022);
	build_tree();
	test_roundtrip(0, "dst");
	test_roundtrip(SFTP_ARCHIVE_GZIP, "dstgz");
	test_hostile();
	test_transcode();
	test_transcode_hostile();
	test_mode();
	test_stream();
	test_engines();
	test_hostile_server();
	test_walk_long();
	rmtree("");
	return tap_done();
}
