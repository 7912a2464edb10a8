/*
 * Fuzz target for tree-archive extraction: the first byte chooses the
 * policy flags (gzip, symbolic links, hard links, modes and times, any
 * format) and whether the archive is also transcoded to zip; the rest is
 * the archive, extracted below a scratch directory that is emptied after
 * every run.  Whatever the bytes, nothing may be created outside the
 * scratch directory (checked: its parent gains no entry).
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/err.h"
#include "ferry/sftp-archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_top[64];	/* holds only "x" */
static char fuzz_dir[80];	/* the extraction target */

static int
fuzz_unlock(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)f;
	if (type == FTW_D && (st->st_mode & 0700) != 0700)
		(void)chmod(p, 0700);
	return 0;
}

static int
fuzz_rm(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)type;
	if (f->level > 0)
		(void)remove(p);
	return 0;
}

static void
fuzz_clean(void)
{
	(void)nftw(fuzz_dir, fuzz_unlock, 16, FTW_PHYS);
	(void)nftw(fuzz_dir, fuzz_rm, 16, FTW_PHYS | FTW_DEPTH);
}

static void
fuzz_cleanup(void)
{
	fuzz_clean();
	(void)rmdir(fuzz_dir);
	(void)rmdir(fuzz_top);
}

/* Only "x" may exist in the top directory. */
static void
fuzz_check_outside(void)
{
	struct dirent *de;
	DIR *d;

	if ((d = opendir(fuzz_top)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, "x") != 0)
			abort();
	}
	closedir(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int bits[] = {
		SFTP_ARCHIVE_GZIP, SFTP_ARCHIVE_SYMLINKS,
		SFTP_ARCHIVE_HARDLINKS, SFTP_ARCHIVE_PRESERVE,
		SFTP_ARCHIVE_ANYFORMAT,
	};
	struct sftp_archive_extract_opts o;
	char err[512];
	size_t i;
	int fd, zfd, dfd, r;

	if (size < 1)
		return 0;
	if (fuzz_top[0] == '\0') {
		snprintf(fuzz_top, sizeof(fuzz_top),
		    "/tmp/fuzz-archive.XXXXXX");
		if (mkdtemp(fuzz_top) == NULL)
			abort();
		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/x", fuzz_top);
		if (mkdir(fuzz_dir, 0700) != 0)
			abort();
		atexit(fuzz_cleanup);
	}
	memset(&o, 0, sizeof(o));
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (data[0] & (1U << i))
			o.flags |= bits[i];
	o.max_bytes = 1U << 20;
	if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) < 0)
		abort();
	if (size > 1 && write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	if ((dfd = open(fuzz_dir, O_RDONLY | O_DIRECTORY)) < 0)
		abort();
	r = sftp_archive_extract(fd, dfd, &o, NULL, err, sizeof(err));
	/* A refusal must say why. */
	if (r != 0 && err[0] == '\0' && r != FERR_ALLOC)
		abort();
	close(dfd);
	if (data[0] & 0x80) {
		if ((zfd = memfd_create("fuzz-zip", MFD_CLOEXEC)) < 0)
			abort();
		r = sftp_archive_transcode(fd, o.flags & (SFTP_ARCHIVE_GZIP |
		    SFTP_ARCHIVE_ANYFORMAT), zfd, SFTP_ARCHIVE_FMT_ZIP,
		    err, sizeof(err));
		(void)r;
		close(zfd);
	}
	close(fd);
	fuzz_check_outside();
	fuzz_clean();
	return 0;
}
