/*
 * The pre-auth sandbox of fsshd (src/fsshd-sandbox.c), without root:
 * a process in it goes on reading and writing the descriptors it kept
 * and allocating memory, cannot open files (the call fails), and is
 * killed by SIGSYS for a system call the protocol does not need (socket,
 * fork, execve, executable memory).  fsshd's regress tests
 * check the rest (chroot, uid, a live connection) as root.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsshd.h"
#include "tap.h"

enum action {
	ACT_ECHO, ACT_OPEN, ACT_SOCKET, ACT_FORK, ACT_EXEC, ACT_MMAP_EXEC
};

/* Run act inside the sandbox in a child; its wait status. */
static int
sandboxed(enum action act, char *out, size_t outlen)
{
	struct fsshd_sandbox sb;
	char why[256], *p;
	int pfd[2], status, keep[1];
	ssize_t n;
	pid_t pid;

	if (pipe(pfd) == -1)
		abort();
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		close(pfd[0]);
		keep[0] = pfd[1];
		memset(&sb, 0, sizeof(sb));
		if (fsshd_sandbox_enter(&sb, keep, 1, why, sizeof(why)) != 0)
			_exit(100);
		switch (act) {
		case ACT_ECHO:
			/* malloc and write still work. */
			if ((p = malloc(1 << 20)) == NULL)
				_exit(101);
			memset(p, 'x', 1 << 20);
			if (write(pfd[1], "alive", 5) != 5)
				_exit(102);
			free(p);
			_exit(0);
		case ACT_OPEN:
			/* Fails (EACCES; EMFILE at the descriptor limit). */
			if (open("/dev/null", O_RDONLY) == -1 &&
			    write(pfd[1], "failed", 6) != 6)
				_exit(102);
			_exit(0);
		case ACT_SOCKET:
			(void)socket(AF_INET, SOCK_STREAM, 0);
			break;
		case ACT_FORK:
			(void)fork();
			break;
		case ACT_EXEC:
			execl("/bin/true", "true", (char *)NULL);
			break;
		case ACT_MMAP_EXEC:
			(void)mmap(NULL, 4096, PROT_READ | PROT_EXEC,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			break;
		default:
			break;
		}
		_exit(0);
	}
	close(pfd[1]);
	memset(out, 0, outlen);
	n = read(pfd[0], out, outlen - 1);
	(void)n;
	close(pfd[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			abort();
	return status;
}

static int
killed_by_sigsys(int status)
{
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

int
main(void)
{
	char out[64];
	int st;

	st = sandboxed(ACT_ECHO, out, sizeof(out));
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strcmp(out, "alive") == 0,
	    "inside the sandbox: memory and the kept descriptor work "
	    "(status %d)", st);
	st = sandboxed(ACT_OPEN, out, sizeof(out));
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strcmp(out, "failed") == 0,
	    "opening a file fails without killing the process");
#ifdef HAVE_SECCOMP
	ok(killed_by_sigsys(sandboxed(ACT_SOCKET, out, sizeof(out))),
	    "socket() kills the process");
	ok(killed_by_sigsys(sandboxed(ACT_FORK, out, sizeof(out))),
	    "fork() kills the process");
	ok(killed_by_sigsys(sandboxed(ACT_EXEC, out, sizeof(out))),
	    "execve() kills the process");
	ok(killed_by_sigsys(sandboxed(ACT_MMAP_EXEC, out, sizeof(out))),
	    "executable memory kills the process");
#else
	tap_skip("built without libseccomp: no system call filter");
#endif
	return tap_done();
}
