/*
 * The confined file system behind the SFTP server engine.
 *
 * A struct sftp_fs serves one host directory (the root) as "/".  Every
 * path given to these functions is a virtual path: absolute, relative to
 * the root.  No operation can name, open, list, link, rename into or out
 * of, or learn the existence of anything outside the root, whatever "..",
 * symbolic links or concurrent renames the path involves.
 *
 * How: every operation first obtains a file descriptor for the parent
 * directory of the final name, resolved inside the root, then acts on
 * (parent fd, final name) with a *at() call that does not follow a final
 * symbolic link.  On Linux the parent is resolved by the kernel with
 * openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) on a descriptor of the
 * root; when the kernel lacks openat2 (ENOSYS) a user-space walk opens one
 * component at a time with O_NOFOLLOW, expanding symbolic links itself
 * and clamping ".." at the root.  A final symbolic link, where the
 * operation follows it, is expanded the same way (at most SFTP_FS_MAXLINKS
 * times), so its target is looked up inside the root too.
 *
 * Functions return 0 (or a descriptor) on success and FERR_SYSTEM with
 * errno set on failure; sftp_fs_new returns NULL with errno set.
 */
#ifndef FERRY_SFTP_FS_H
#define FERRY_SFTP_FS_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#define SFTP_FS_MAXLINKS	40
/* Longest virtual path accepted. */
#define SFTP_FS_PATH_MAX	4096

struct sftp_fs;

/*
 * Open root (a host directory) for serving.  no_openat2 forces the
 * user-space walk (for tests).  NULL with errno set on failure.
 */
struct sftp_fs *sftp_fs_new(const char *root, int no_openat2);
void sftp_fs_free(struct sftp_fs *fs);

/* Whether st describes the root directory itself. */
int sftp_fs_is_root(const struct sftp_fs *fs, const struct stat *st);

/*
 * Open vpath with open(2) flags (O_NOFOLLOW means: do not follow a final
 * symbolic link).  O_CREAT uses mode.  Returns a descriptor or
 * FERR_SYSTEM.
 */
int sftp_fs_open(struct sftp_fs *fs, const char *vpath, int flags,
    mode_t mode);

/* stat (follow != 0) or lstat of vpath. */
int sftp_fs_stat(struct sftp_fs *fs, const char *vpath, int follow,
    struct stat *st);

int sftp_fs_mkdir(struct sftp_fs *fs, const char *vpath, mode_t mode);
int sftp_fs_unlink(struct sftp_fs *fs, const char *vpath);
int sftp_fs_rmdir(struct sftp_fs *fs, const char *vpath);

/*
 * Rename.  noreplace != 0 fails with EEXIST when newpath exists (the
 * SSH_FXP_RENAME semantics); otherwise POSIX rename(2).
 */
int sftp_fs_rename(struct sftp_fs *fs, const char *oldpath,
    const char *newpath, int noreplace);

/* Hard link newpath to oldpath (a final symbolic link is not followed). */
int sftp_fs_link(struct sftp_fs *fs, const char *oldpath, const char *newpath);

/* Create the symbolic link linkpath holding target (stored verbatim). */
int sftp_fs_symlink(struct sftp_fs *fs, const char *target,
    const char *linkpath);

/* Read the symbolic link vpath into an allocated string *targetp. */
int sftp_fs_readlink(struct sftp_fs *fs, const char *vpath, char **targetp);

/*
 * Change the permissions, owner or times of vpath, following a final
 * symbolic link or not.  (Truncation opens the file: sftp_fs_open.)
 */
int sftp_fs_chmod(struct sftp_fs *fs, const char *vpath, int follow,
    mode_t mode);
int sftp_fs_chown(struct sftp_fs *fs, const char *vpath, int follow,
    uid_t uid, gid_t gid);
int sftp_fs_utimes(struct sftp_fs *fs, const char *vpath, int follow,
    const struct timespec times[2]);

int sftp_fs_statvfs(struct sftp_fs *fs, const char *vpath,
    struct statvfs *st);

/*
 * Canonicalise vpath: "." and ".." removed, symbolic links expanded
 * inside the root.  The final component may be missing.  The result is
 * an allocated virtual path ("/" for the root).
 */
int sftp_fs_realpath(struct sftp_fs *fs, const char *vpath, char **outp);

/*
 * Join a client path to the current directory cwd (a virtual path):
 * absolute paths are kept, relative ones appended, "" means cwd.
 * Allocated result, NULL with errno set (ENAMETOOLONG, ENOMEM).
 */
char *sftp_fs_join(const char *cwd, const char *path);

#endif /* FERRY_SFTP_FS_H */
