/*
 * The confined file system behind the SFTP server.  See sftp-fs.h for the
 * design; the rule here is that no system call ever sees a host path:
 * only the root descriptor, descriptors obtained inside it, and single
 * path components.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#endif

#include "ferry/err.h"
#include "sftp-fs.h"

/* openat2 may fail with EAGAIN while a rename races: retry this often. */
#define FS_OPENAT2_TRIES	32
/* An operation that finds a symbolic link swapped in retries this often. */
#define FS_RACE_TRIES		8

struct sftp_fs {
	int rootfd;		/* O_PATH descriptor of the served directory */
	dev_t root_dev;
	ino_t root_ino;
	int no_openat2;		/* use the user-space walk */
};

#ifdef HAVE_LINUX_OPENAT2_H
static int fs_dir_kernel(struct sftp_fs *, const char *);
#endif

/*
 * Use openat2 only if it works here: old kernels lack it (ENOSYS) or its
 * resolve flags (EINVAL, E2BIG), and some container sandboxes refuse
 * unknown system calls with EPERM.
 */
static void
fs_probe_openat2(struct sftp_fs *fs)
{
#ifdef HAVE_LINUX_OPENAT2_H
	int fd;

	if (fs->no_openat2)
		return;
	if ((fd = fs_dir_kernel(fs, "/")) >= 0) {
		close(fd);
		return;
	}
#endif
	fs->no_openat2 = 1;
}

struct sftp_fs *
sftp_fs_new(const char *root, int no_openat2)
{
	struct sftp_fs *fs;
	struct stat st;
	int fd;

	if ((fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || (fs = calloc(1, sizeof(*fs))) == NULL) {
		close(fd);
		return NULL;
	}
	fs->rootfd = fd;
	fs->root_dev = st.st_dev;
	fs->root_ino = st.st_ino;
	fs->no_openat2 = no_openat2;
	fs_probe_openat2(fs);
	return fs;
}

void
sftp_fs_free(struct sftp_fs *fs)
{
	if (fs == NULL)
		return;
	close(fs->rootfd);
	free(fs);
}

int
sftp_fs_is_root(const struct sftp_fs *fs, const struct stat *st)
{
	return st->st_dev == fs->root_dev && st->st_ino == fs->root_ino;
}

char *
sftp_fs_join(const char *cwd, const char *path)
{
	size_t clen, plen;
	char *out;

	if (path[0] == '/' || path[0] == '\0')
		path = path[0] == '/' ? path : cwd;
	if (path[0] == '/') {
		if (strlen(path) > SFTP_FS_PATH_MAX) {
			errno = ENAMETOOLONG;
			return NULL;
		}
		return strdup(path);
	}
	clen = strlen(cwd);
	plen = strlen(path);
	if (clen > SFTP_FS_PATH_MAX || plen > SFTP_FS_PATH_MAX - clen) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((out = malloc(clen + plen + 2)) == NULL)
		return NULL;
	snprintf(out, clen + plen + 2, "%s%s%s", cwd,
	    clen > 0 && cwd[clen - 1] == '/' ? "" : "/", path);
	return out;
}

#ifdef HAVE_LINUX_OPENAT2_H
/* Let the kernel resolve path as a directory inside the root. */
static int
fs_dir_kernel(struct sftp_fs *fs, const char *path)
{
	struct open_how how;
	int fd = -1, i;

	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	for (i = 0; i < FS_OPENAT2_TRIES; i++) {
		fd = (int)syscall(SYS_openat2, fs->rootfd, path, &how,
		    sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd >= 0 ? fd : FERR_SYSTEM;
}
#endif

/*
 * The user-space walk: one component at a time, never following a
 * symbolic link in the kernel.  The stack holds a descriptor for every
 * directory above the current one, so ".." pops instead of asking the
 * kernel, and stops at the root.
 */
static int
fs_dir_walk(struct sftp_fs *fs, const char *path)
{
	int *stack = NULL, *nstack, depth = 0, cap = 0, fd, ret = -1, err;
	int links = 0;
	char *work = NULL, *nwork, *p, *comp, target[PATH_MAX + 1];
	struct stat st;
	ssize_t tlen;
	size_t rlen;

	if ((work = strdup(path)) == NULL)
		return FERR_SYSTEM;
	cap = 16;
	if ((stack = calloc((size_t)cap, sizeof(*stack))) == NULL)
		goto out;
	if ((stack[0] = dup(fs->rootfd)) < 0)
		goto out;
	depth = 1;
	p = work;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		comp = p;
		while (*p != '\0' && *p != '/')
			p++;
		if (*p == '/')
			*p++ = '\0';
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (depth > 1)
				close(stack[--depth]);
			continue;
		}
		fd = openat(stack[depth - 1], comp,
		    O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			goto out;
		if (fstat(fd, &st) != 0) {
			err = errno;
			close(fd);
			errno = err;
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			tlen = readlinkat(fd, "", target, sizeof(target) - 1);
			close(fd);
			if (tlen < 0)
				goto out;
			if (++links > SFTP_FS_MAXLINKS) {
				errno = ELOOP;
				goto out;
			}
			target[tlen] = '\0';
			rlen = strlen(p);
			if ((nwork = malloc((size_t)tlen + rlen + 2)) == NULL)
				goto out;
			snprintf(nwork, (size_t)tlen + rlen + 2, "%s/%s",
			    target, p);
			free(work);
			work = p = nwork;
			if (target[0] == '/') {
				while (depth > 1)
					close(stack[--depth]);
			}
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			errno = ENOTDIR;
			goto out;
		}
		if (depth == cap) {
			if (cap > 8192 || (nstack = reallocarray(stack,
			    (size_t)cap * 2, sizeof(*stack))) == NULL) {
				close(fd);
				errno = ENAMETOOLONG;
				goto out;
			}
			stack = nstack;
			cap *= 2;
		}
		stack[depth++] = fd;
	}
	ret = dup(stack[depth - 1]);
 out:
	err = errno;
	while (depth > 0)
		close(stack[--depth]);
	free(stack);
	free(work);
	errno = err;
	return ret >= 0 ? ret : FERR_SYSTEM;
}

/* An O_PATH descriptor of the directory path, resolved inside the root. */
static int
fs_dir(struct sftp_fs *fs, const char *path)
{
#ifdef HAVE_LINUX_OPENAT2_H
	int fd;

	if (!fs->no_openat2) {
		fd = fs_dir_kernel(fs, path);
		if (fd >= 0 || errno != ENOSYS)
			return fd >= 0 ? fd : FERR_SYSTEM;
		fs->no_openat2 = 1;
	}
#endif
	return fs_dir_walk(fs, path);
}

/*
 * Split vpath into its directory (allocated) and final name.  The name
 * is "" when the path names a directory by ".", ".." or "/": then the
 * directory part is the whole path and names the object itself.
 */
static int
fs_split(const char *vpath, char **dirp, char name[NAME_MAX + 1])
{
	size_t len = strlen(vpath), slash, nlen;
	char *dir;

	*dirp = NULL;
	name[0] = '\0';
	if (len > SFTP_FS_PATH_MAX) {
		errno = ENAMETOOLONG;
		return FERR_SYSTEM;
	}
	while (len > 0 && vpath[len - 1] == '/')
		len--;
	for (slash = len; slash > 0 && vpath[slash - 1] != '/'; slash--)
		;
	nlen = len - slash;
	if (nlen == 0 || (nlen == 1 && vpath[slash] == '.') ||
	    (nlen == 2 && vpath[slash] == '.' && vpath[slash + 1] == '.')) {
		/* The object itself: resolve the whole path as a directory. */
		if ((*dirp = strdup(len == 0 ? "/" : vpath)) == NULL)
			return FERR_SYSTEM;
		return 0;
	}
	if (nlen > NAME_MAX) {
		errno = ENAMETOOLONG;
		return FERR_SYSTEM;
	}
	memcpy(name, vpath + slash, nlen);
	name[nlen] = '\0';
	if ((dir = malloc(slash + 2)) == NULL)
		return FERR_SYSTEM;
	if (slash == 0)
		snprintf(dir, 2, "/");
	else {
		memcpy(dir, vpath, slash);
		dir[slash] = '\0';
	}
	*dirp = dir;
	return 0;
}

/*
 * Find the parent directory descriptor and final name for vpath.  With
 * follow, a final symbolic link is expanded (inside the root) until the
 * name is not a link or does not exist.  name is "" when *dirfdp is the
 * object itself.  The caller closes *dirfdp.
 */
static int
fs_locate(struct sftp_fs *fs, const char *vpath, int follow, int *dirfdp,
    char name[NAME_MAX + 1])
{
	char *cur, *dir = NULL, *next, target[PATH_MAX + 1];
	struct stat st;
	ssize_t tlen;
	size_t len;
	int dirfd = -1, links = 0, err;

	*dirfdp = -1;
	if ((cur = strdup(vpath)) == NULL)
		return FERR_SYSTEM;
	for (;;) {
		if (fs_split(cur, &dir, name) != 0)
			goto fail;
		if ((dirfd = fs_dir(fs, dir)) < 0)
			goto fail;
		if (!follow || name[0] == '\0')
			break;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				break;
			goto fail;
		}
		if (!S_ISLNK(st.st_mode))
			break;
		if (++links > SFTP_FS_MAXLINKS) {
			errno = ELOOP;
			goto fail;
		}
		if ((tlen = readlinkat(dirfd, name, target,
		    sizeof(target) - 1)) < 0)
			goto fail;
		target[tlen] = '\0';
		close(dirfd);
		dirfd = -1;
		if (target[0] == '/')
			next = strdup(target);
		else {
			len = strlen(dir) + (size_t)tlen + 2;
			if ((next = malloc(len)) != NULL)
				snprintf(next, len, "%s/%s", dir, target);
		}
		if (next == NULL)
			goto fail;
		free(cur);
		free(dir);
		dir = NULL;
		cur = next;
	}
	free(cur);
	free(dir);
	*dirfdp = dirfd;
	return 0;
 fail:
	err = errno;
	if (dirfd >= 0)
		close(dirfd);
	free(cur);
	free(dir);
	errno = err;
	return FERR_SYSTEM;
}

static void
fs_close_keep_errno(int fd)
{
	int err = errno;

	if (fd >= 0)
		close(fd);
	errno = err;
}

int
sftp_fs_open(struct sftp_fs *fs, const char *vpath, int flags, mode_t mode)
{
	char name[NAME_MAX + 1];
	int dirfd, fd = -1, follow, tries;

	follow = (flags & O_NOFOLLOW) == 0 &&
	    !((flags & O_CREAT) && (flags & O_EXCL));
	flags |= O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	for (tries = 0; tries < FS_RACE_TRIES; tries++) {
		if (fs_locate(fs, vpath, follow, &dirfd, name) != 0)
			return FERR_SYSTEM;
		if (name[0] == '\0') {
			if ((flags & O_ACCMODE) != O_RDONLY ||
			    (flags & O_CREAT)) {
				close(dirfd);
				errno = EISDIR;
				return FERR_SYSTEM;
			}
			fd = openat(dirfd, ".", flags & ~O_NOFOLLOW);
		} else
			fd = openat(dirfd, name, flags, mode);
		fs_close_keep_errno(dirfd);
		/* A symbolic link appeared after the lookup: look again. */
		if (fd >= 0 || errno != ELOOP || !follow)
			break;
	}
	return fd >= 0 ? fd : FERR_SYSTEM;
}

int
sftp_fs_stat(struct sftp_fs *fs, const char *vpath, int follow,
    struct stat *st)
{
	char name[NAME_MAX + 1];
	int dirfd, r = -1, tries;

	for (tries = 0; tries < FS_RACE_TRIES; tries++) {
		if (fs_locate(fs, vpath, follow, &dirfd, name) != 0)
			return FERR_SYSTEM;
		if (name[0] == '\0')
			r = fstatat(dirfd, "", st, AT_EMPTY_PATH);
		else
			r = fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW);
		fs_close_keep_errno(dirfd);
		if (r != 0 || !follow || !S_ISLNK(st->st_mode))
			break;
		errno = ELOOP;
		r = -1;
	}
	return r == 0 ? 0 : FERR_SYSTEM;
}

/* Locate the final name of a path that an operation creates or removes. */
static int
fs_locate_name(struct sftp_fs *fs, const char *vpath, int *dirfdp,
    char name[NAME_MAX + 1], int selferr)
{
	if (fs_locate(fs, vpath, 0, dirfdp, name) != 0)
		return FERR_SYSTEM;
	if (name[0] == '\0') {
		close(*dirfdp);
		*dirfdp = -1;
		errno = selferr;
		return FERR_SYSTEM;
	}
	return 0;
}

int
sftp_fs_mkdir(struct sftp_fs *fs, const char *vpath, mode_t mode)
{
	char name[NAME_MAX + 1];
	int dirfd, r;

	if (fs_locate_name(fs, vpath, &dirfd, name, EEXIST) != 0)
		return FERR_SYSTEM;
	r = mkdirat(dirfd, name, mode);
	fs_close_keep_errno(dirfd);
	return r == 0 ? 0 : FERR_SYSTEM;
}

int
sftp_fs_unlink(struct sftp_fs *fs, const char *vpath)
{
	char name[NAME_MAX + 1];
	int dirfd, r;

	if (fs_locate_name(fs, vpath, &dirfd, name, EISDIR) != 0)
		return FERR_SYSTEM;
	r = unlinkat(dirfd, name, 0);
	fs_close_keep_errno(dirfd);
	return r == 0 ? 0 : FERR_SYSTEM;
}

int
sftp_fs_rmdir(struct sftp_fs *fs, const char *vpath)
{
	char name[NAME_MAX + 1];
	int dirfd, r;

	if (fs_locate_name(fs, vpath, &dirfd, name, EBUSY) != 0)
		return FERR_SYSTEM;
	r = unlinkat(dirfd, name, AT_REMOVEDIR);
	fs_close_keep_errno(dirfd);
	return r == 0 ? 0 : FERR_SYSTEM;
}

int
sftp_fs_rename(struct sftp_fs *fs, const char *oldpath, const char *newpath,
    int noreplace)
{
	char oname[NAME_MAX + 1], nname[NAME_MAX + 1];
	struct stat st;
	int odir = -1, ndir = -1, r = -1;

	if (fs_locate_name(fs, oldpath, &odir, oname, EBUSY) != 0 ||
	    fs_locate_name(fs, newpath, &ndir, nname, EBUSY) != 0)
		goto out;
	if (!noreplace) {
		r = renameat(odir, oname, ndir, nname);
		goto out;
	}
	r = renameat2(odir, oname, ndir, nname, RENAME_NOREPLACE);
	if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
		/* The file system cannot refuse atomically: check first. */
		if (fstatat(ndir, nname, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			errno = EEXIST;
			r = -1;
		} else if (errno == ENOENT)
			r = renameat(odir, oname, ndir, nname);
	}
 out:
	fs_close_keep_errno(odir);
	fs_close_keep_errno(ndir);
	return r == 0 ? 0 : FERR_SYSTEM;
}

int
sftp_fs_link(struct sftp_fs *fs, const char *oldpath, const char *newpath)
{
	char oname[NAME_MAX + 1], nname[NAME_MAX + 1];
	int odir = -1, ndir = -1, r = -1;

	if (fs_locate_name(fs, oldpath, &odir, oname, EPERM) != 0 ||
	    fs_locate_name(fs, newpath, &ndir, nname, EEXIST) != 0)
		goto out;
	/* Flags 0: a symbolic link is linked itself, never followed. */
	r = linkat(odir, oname, ndir, nname, 0);
 out:
	fs_close_keep_errno(odir);
	fs_close_keep_errno(ndir);
	return r == 0 ? 0 : FERR_SYSTEM;
}

int
sftp_fs_symlink(struct sftp_fs *fs, const char *target, const char *linkpath)
{
	char name[NAME_MAX + 1];
	int dirfd, r;

	if (strlen(target) > PATH_MAX) {
		errno = ENAMETOOLONG;
		return FERR_SYSTEM;
	}
	if (fs_locate_name(fs, linkpath, &dirfd, name, EEXIST) != 0)
		return FERR_SYSTEM;
	r = symlinkat(target, dirfd, name);
	fs_close_keep_errno(dirfd);
	return r == 0 ? 0 : FERR_SYSTEM;
}

int
sftp_fs_readlink(struct sftp_fs *fs, const char *vpath, char **targetp)
{
	char name[NAME_MAX + 1], target[PATH_MAX + 1];
	ssize_t len;
	int dirfd;

	*targetp = NULL;
	if (fs_locate_name(fs, vpath, &dirfd, name, EINVAL) != 0)
		return FERR_SYSTEM;
	len = readlinkat(dirfd, name, target, sizeof(target) - 1);
	fs_close_keep_errno(dirfd);
	if (len < 0)
		return FERR_SYSTEM;
	target[len] = '\0';
	if ((*targetp = strdup(target)) == NULL)
		return FERR_SYSTEM;
	return 0;
}

int
sftp_fs_chmod(struct sftp_fs *fs, const char *vpath, int follow, mode_t mode)
{
	char name[NAME_MAX + 1];
	struct stat st;
	int dirfd, fd = -1, r = -1, oflags;

	if (fs_locate(fs, vpath, follow, &dirfd, name) != 0)
		return FERR_SYSTEM;
	if (name[0] == '\0') {
		fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			r = fchmod(fd, mode);
		goto out;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		goto out;
	if (S_ISLNK(st.st_mode)) {
		/* Linux keeps no mode on symbolic links. */
		errno = EOPNOTSUPP;
		goto out;
	}
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		oflags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
		    O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
		if ((fd = openat(dirfd, name, oflags)) >= 0) {
			r = fchmod(fd, mode);
			goto out;
		}
	}
	/* No readable descriptor: the C library's race-free variant. */
	r = fchmodat(dirfd, name, mode, AT_SYMLINK_NOFOLLOW);
 out:
	fs_close_keep_errno(fd);
	fs_close_keep_errno(dirfd);
	return r == 0 ? 0 : FERR_SYSTEM;
}

int
sftp_fs_chown(struct sftp_fs *fs, const char *vpath, int follow, uid_t uid,
    gid_t gid)
{
	char name[NAME_MAX + 1];
	int dirfd, r;

	if (fs_locate(fs, vpath, follow, &dirfd, name) != 0)
		return FERR_SYSTEM;
	if (name[0] == '\0')
		r = fchownat(dirfd, "", uid, gid, AT_EMPTY_PATH);
	else
		r = fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
	fs_close_keep_errno(dirfd);
	return r == 0 ? 0 : FERR_SYSTEM;
}

int
sftp_fs_utimes(struct sftp_fs *fs, const char *vpath, int follow,
    const struct timespec times[2])
{
	char name[NAME_MAX + 1];
	int dirfd, fd, r = -1;

	if (fs_locate(fs, vpath, follow, &dirfd, name) != 0)
		return FERR_SYSTEM;
	if (name[0] == '\0') {
		fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			r = futimens(fd, times);
			fs_close_keep_errno(fd);
		}
	} else
		r = utimensat(dirfd, name, times, AT_SYMLINK_NOFOLLOW);
	fs_close_keep_errno(dirfd);
	return r == 0 ? 0 : FERR_SYSTEM;
}

int
sftp_fs_statvfs(struct sftp_fs *fs, const char *vpath, struct statvfs *st)
{
	int fd, r;

	if ((fd = sftp_fs_open(fs, vpath, O_PATH, 0)) < 0)
		return FERR_SYSTEM;
	r = fstatvfs(fd, st);
	fs_close_keep_errno(fd);
	return r == 0 ? 0 : FERR_SYSTEM;
}

int
sftp_fs_realpath(struct sftp_fs *fs, const char *vpath, char **outp)
{
	char res[SFTP_FS_PATH_MAX + 2], *work, *p, *comp, *target = NULL;
	char *nwork;
	size_t rlen = 0, clen, tlen;
	struct stat st;
	int links = 0, last, err;

	*outp = NULL;
	if ((work = strdup(vpath)) == NULL)
		return FERR_SYSTEM;
	res[0] = '\0';
	p = work;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		comp = p;
		while (*p != '\0' && *p != '/')
			p++;
		if (*p == '/')
			*p++ = '\0';
		while (*p == '/')
			p++;
		last = *p == '\0';
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			while (rlen > 0 && res[rlen - 1] != '/')
				rlen--;
			if (rlen > 0)
				rlen--;
			res[rlen] = '\0';
			continue;
		}
		clen = strlen(comp);
		if (clen > SFTP_FS_PATH_MAX - rlen) {
			errno = ENAMETOOLONG;
			goto fail;
		}
		res[rlen] = '/';
		memcpy(res + rlen + 1, comp, clen + 1);
		if (sftp_fs_stat(fs, res, 0, &st) != 0) {
			if (errno == ENOENT && last) {
				rlen += clen + 1;
				break;
			}
			goto fail;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++links > SFTP_FS_MAXLINKS) {
				errno = ELOOP;
				goto fail;
			}
			if (sftp_fs_readlink(fs, res, &target) != 0)
				goto fail;
			res[rlen] = '\0';
			tlen = strlen(target);
			if ((nwork = malloc(tlen + strlen(p) + 2)) == NULL)
				goto fail;
			snprintf(nwork, tlen + strlen(p) + 2, "%s/%s", target,
			    p);
			if (target[0] == '/')
				res[rlen = 0] = '\0';
			free(target);
			target = NULL;
			free(work);
			work = p = nwork;
			continue;
		}
		if (!S_ISDIR(st.st_mode) && !last) {
			errno = ENOTDIR;
			goto fail;
		}
		rlen += clen + 1;
	}
	free(work);
	if ((*outp = strdup(rlen == 0 ? "/" : res)) == NULL)
		return FERR_SYSTEM;
	return 0;
 fail:
	err = errno;
	free(work);
	free(target);
	errno = err;
	return FERR_SYSTEM;
}
