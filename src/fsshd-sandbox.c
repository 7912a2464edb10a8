/*
 * The pre-authentication sandbox of fsshd.
 *
 * The process that parses network data before anyone has authenticated
 * gives up everything it does not need, in this order: its root (chroot
 * to an empty root-owned directory) and identity (the unprivileged
 * account, normally "fsshd"), the right to create descriptors, files
 * and processes (rlimits), the right to gain privileges again
 * (PR_SET_NO_NEW_PRIVS), and finally every system call the protocol
 * does not use (a seccomp filter that kills the process on anything
 * else).  The first two need root; the embedded default, run by an
 * ordinary user, keeps only the last three.
 *
 * The list of system calls was measured with strace(1) on a pre-auth
 * process running a key exchange and password and public key
 * authentication; sanitizer builds (FERRY_SANITIZERS) need a few more
 * for their runtime, allowed there only.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_SECCOMP
#include <seccomp.h>
#endif

#include "ferry/log.h"
#include "fsshd.h"
#include "misc.h"

/* The user the pre-auth process runs as, and the fallback. */
#define FSSHD_SANDBOX_USER	"fsshd"
#define FSSHD_SANDBOX_NOBODY	"nobody"
#define FSSHD_SANDBOX_NOBODY_ID	65534

/*
 * System calls the pre-auth process makes: the event loop (poll), the
 * socket and the monitor's socket (read, write), time and randomness
 * (getpid is OpenSSL's fork check), memory (malloc: brk, and mmap for
 * large blocks, never with PROT_EXEC; futex for libcrypto's locks), and
 * leaving.
 */
static const char *const fsshd_sandbox_allowed[] = {
	"read", "write", "poll", "ppoll", "getpid", "getrandom",
	"clock_gettime", "clock_gettime64", "gettimeofday",
	"brk", "munmap", "mremap", "madvise", "futex",
	"rt_sigreturn", "restart_syscall", "exit", "exit_group",
#ifdef FERRY_SANITIZERS
	/*
	 * AddressSanitizer's runtime: sigaltstack (measured on every run),
	 * and what lets a report reach stderr with symbols (its handlers,
	 * /proc/self/maps and the executable, abort).
	 */
	"sigaltstack", "rt_sigaction", "rt_sigprocmask", "gettid", "tgkill",
	"sched_yield", "prctl", "open", "openat", "readlink", "readlinkat",
	"fstat", "newfstatat", "lseek", "pread64", "close", "dup", "dup2",
	"dup3", "mprotect",
#endif
};

int
fsshd_mkdirs_root(const char *path)
{
	char tmp[4096], *p;

	if (misc_strlcpy(tmp, path, sizeof(tmp)) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * Resolve the unprivileged account (fsshd, else nobody, else 65534, with
 * a log line at INFO when verbose) and make the empty directory when
 * drop is set.  Fills sb; 0, or -1 (logged).
 */
int
fsshd_sandbox_prepare(struct fsshd_sandbox *sb, int drop, int verbose)
{
	struct passwd *pw;
	struct stat st;

	memset(sb, 0, sizeof(*sb));
	sb->drop = drop;
	sb->empty_dir = FSSHD_EMPTY_DIR;
	if (!drop)
		return 0;
	if ((pw = getpwnam(FSSHD_SANDBOX_USER)) == NULL) {
		log_msg(verbose ? LOGL_INFO : LOGL_DEBUG1, "no account %s "
		    "(create it with: useradd --system --no-create-home "
		    "--shell /usr/sbin/nologin %s); the pre-auth process "
		    "runs as %s", FSSHD_SANDBOX_USER, FSSHD_SANDBOX_USER,
		    FSSHD_SANDBOX_NOBODY);
		pw = getpwnam(FSSHD_SANDBOX_NOBODY);
	}
	if (pw != NULL) {
		sb->uid = pw->pw_uid;
		sb->gid = pw->pw_gid;
	} else {
		sb->uid = FSSHD_SANDBOX_NOBODY_ID;
		sb->gid = FSSHD_SANDBOX_NOBODY_ID;
	}
	if (sb->uid == 0 || sb->gid == 0) {
		log_error("the pre-auth account must not be root");
		return -1;
	}
	/* An empty directory owned by root that nobody else may change. */
	if (fsshd_mkdirs_root(sb->empty_dir) != 0) {
		log_error("%s: %s", sb->empty_dir, strerror(errno));
		return -1;
	}
	if (stat(sb->empty_dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & 022) != 0) {
		log_error("%s must be a directory owned by root and writable "
		    "by root alone", sb->empty_dir);
		return -1;
	}
	return 0;
}

/*
 * Close every descriptor but those in keep, put /dev/null on 0, 1 and
 * 2 unless kept (sanitizer builds keep stderr for their reports), and
 * report the lowest free number: the descriptor limit set below is that
 * number, so every descriptor kept stays usable and none can be added.
 */
static int
fsshd_sandbox_fds(const int *keep, size_t nkeep, int *lowestp)
{
	struct dirent *de;
	DIR *d;
	const char *errstr;
	size_t i;
	int fd, nullfd, dfd, kept;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		fd = (int)misc_strtonum(de->d_name, 0, INT_MAX, &errstr);
		if (errstr != NULL || fd == dfd || fd <= 2)
			continue;
		for (kept = 0, i = 0; i < nkeep; i++)
			kept |= keep[i] == fd;
		if (!kept)
			close(fd);
	}
	closedir(d);
	if ((nullfd = open("/dev/null", O_RDWR)) == -1)
		return -1;
	for (fd = 0; fd <= 2; fd++) {
		for (kept = 0, i = 0; i < nkeep; i++)
			kept |= keep[i] == fd;
#ifdef FERRY_SANITIZERS
		kept |= fd == 2;
#endif
		if (!kept && fd != nullfd && dup2(nullfd, fd) == -1)
			return -1;
	}
	if (nullfd > 2)
		close(nullfd);
	for (fd = 0; fcntl(fd, F_GETFD) != -1; fd++)
		;
	*lowestp = fd;
	return 0;
}

static int
fsshd_sandbox_rlimits(int nofile)
{
	struct rlimit rl;

	rl.rlim_cur = rl.rlim_max = (rlim_t)nofile;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_FSIZE, &rl) == -1 ||
	    setrlimit(RLIMIT_NPROC, &rl) == -1)
		return -1;
	return 0;
}

#ifdef HAVE_SECCOMP
static int
fsshd_sandbox_seccomp(void)
{
	scmp_filter_ctx ctx;
	size_t i;
	int nr, rc = -1;

	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return -1;
	for (i = 0; i < sizeof(fsshd_sandbox_allowed) /
	    sizeof(fsshd_sandbox_allowed[0]); i++) {
		/* Names this architecture lacks (mmap2, poll) are skipped. */
		nr = seccomp_syscall_resolve_name(fsshd_sandbox_allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
			goto out;
	}
#ifndef FERRY_SANITIZERS
	/*
	 * Opening a file fails instead of killing: the one file the
	 * protocol may want before authentication is ModuliFile (for
	 * diffie-hellman-group-exchange), and without it the transport
	 * takes a built-in RFC 3526 group.
	 */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open),
	    0) != 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat),
	    0) != 0)
		goto out;
#endif
	/* Memory, but never executable memory. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0)
		goto out;
#ifdef __NR_mmap2
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap2), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) != 0)
		goto out;
#endif
	if (seccomp_load(ctx) != 0)
		goto out;
	rc = 0;
 out:
	seccomp_release(ctx);
	return rc;
}
#endif

/*
 * Enter the sandbox: see the comment at the top.  keep lists the
 * descriptors the process goes on using (the socket, the monitor's);
 * poll(2) may watch at most as many as the resulting descriptor limit.
 * Returns 0, or -1 with why.
 */
int
fsshd_sandbox_enter(const struct fsshd_sandbox *sb, const int *keep,
    size_t nkeep, char *why, size_t whylen)
{
	gid_t gid;
	int lowest;

	if (fsshd_sandbox_fds(keep, nkeep, &lowest) != 0) {
		snprintf(why, whylen, "descriptors: %s", strerror(errno));
		return -1;
	}
	if (sb->drop) {
		gid = sb->gid;
		if (chroot(sb->empty_dir) == -1 || chdir("/") == -1) {
			snprintf(why, whylen, "chroot %s: %s", sb->empty_dir,
			    strerror(errno));
			return -1;
		}
		if (setgroups(1, &gid) == -1 ||
		    setresgid(sb->gid, sb->gid, sb->gid) == -1 ||
		    setresuid(sb->uid, sb->uid, sb->uid) == -1) {
			snprintf(why, whylen, "dropping privileges: %s",
			    strerror(errno));
			return -1;
		}
		/* Root must be gone for good. */
		if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1) {
			snprintf(why, whylen, "root could be regained");
			return -1;
		}
	}
	if (fsshd_sandbox_rlimits(lowest) != 0) {
		snprintf(why, whylen, "rlimits: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(why, whylen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
#ifdef HAVE_SECCOMP
	if (fsshd_sandbox_seccomp() != 0) {
		snprintf(why, whylen, "cannot load the seccomp filter");
		return -1;
	}
#endif
	return 0;
}
