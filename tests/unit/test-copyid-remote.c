/*
 * fssh-copy-id's installation over a real SFTP session: Ferry's SFTP
 * server engine in a child process on a socket pair, serving a
 * temporary home, and copyid_install in this process through
 * sftp_session_open_fds.  Covers: a new ~/.ssh (0700) and file (0600);
 * replacing an existing file by posix-rename (new inode, mode kept);
 * appending when posix-rename is not offered, to a symbolic link's
 * target, and when the server refuses the rename; another writer
 * between reading and renaming; dry run and force;
 * .ssh that is not a directory, a file that is not regular, a file too
 * large; the session ending.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ferry/authkeys.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/sftp-server.h"
#include "ferry/sftp-session.h"
#include "copyid.h"
#include "tap.h"

#define K1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2hbEMmTRm7ygxkcvIB" \
	"hFdpGkw4CDRvRMdwhcW k1"
#define K2 "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzd" \
	"HAyNTYAAABBBEJLs7Kuk6czbDdGMjwAZQOoN2aIkN1WcdYtUKvEAErFCz2N/Wwjunx" \
	"NqNlWQmpF2ItNaDAW7uUKUIcqTI+c4nI= k2"

static char home[256];
static struct copyid_key keys[2];
/*
 * Another writer: when set, the server appends a line to (or creates)
 * authorized_keys as the client asks for fsync@openssh.com on its
 * temporary file, that is after it read the file and before it renames.
 */
static int meddle;

static void
meddle_now(void)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", home, COPYID_FILE);
	if ((fd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0600)) == -1 ||
	    write(fd, "# meddled\n", 10) != 10 || close(fd) != 0)
		_exit(3);
	meddle = 0;
}

/* The server engine on fd until the client goes away. */
static void __attribute__((noreturn))
serve(int fd, uint64_t denied)
{
	struct sftp_server_opts o;
	struct sftp_server *s;
	struct buf *out;
	uint8_t chunk[65536];
	size_t space;
	ssize_t n;

	memset(&o, 0, sizeof(o));
	o.start_dir = home;
	o.denied = denied;
	if ((s = sftp_server_new(&o)) == NULL)
		_exit(2);
	for (;;) {
		out = sftp_server_output(s);
		while (buf_len(out) > 0) {
			if ((n = write(fd, buf_ptr(out), buf_len(out))) <= 0)
				_exit(0);
			if (buf_consume(out, (size_t)n) != 0)
				_exit(2);
			(void)sftp_server_process(s);
		}
		if (sftp_server_done(s))
			_exit(0);
		space = sftp_server_input_space(s);
		if (space > sizeof(chunk))
			space = sizeof(chunk);
		if (space == 0 || (n = read(fd, chunk, space)) <= 0)
			_exit(0);
		if (meddle && memmem(chunk, (size_t)n, "fsync@openssh.com",
		    17) != NULL)
			meddle_now();
		if (sftp_server_input(s, chunk, (size_t)n) != 0)
			_exit(0);
	}
}

struct peer {
	pid_t pid;
	struct sftp_session *ss;
};

static int
peer_start(struct peer *p, uint64_t denied)
{
	int sv[2], r;

	memset(p, 0, sizeof(*p));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if ((p->pid = fork()) == -1)
		return -1;
	if (p->pid == 0) {
		close(sv[0]);
		umask(022);
		serve(sv[1], denied);
	}
	close(sv[1]);
	/*
	 * Two descriptors for the one socket: the session polls each for
	 * its own direction.
	 */
	if ((r = sftp_session_open_fds(sv[0], fcntl(sv[0], F_DUPFD_CLOEXEC,
	    0), NULL, &p->ss)) != 0) {
		sftp_session_close(p->ss);
		p->ss = NULL;
		return -1;
	}
	return 0;
}

static void
peer_stop(struct peer *p)
{
	int st;

	sftp_session_close(p->ss);
	p->ss = NULL;
	if (p->pid > 0)
		(void)waitpid(p->pid, &st, 0);
	p->pid = 0;
}

/* Install keys[0..n-1] with flags on a fresh server; the result code. */
static int
install(uint64_t denied, size_t n, unsigned int flags,
    struct copyid_plan *plan, struct copyid_result *res)
{
	struct peer p;
	int r;

	if (peer_start(&p, denied) != 0) {
		ok(0, "server started");
		return FERR_INTERNAL;
	}
	r = copyid_install(p.ss, keys, n, flags, plan, res);
	peer_stop(&p);
	return r;
}

static char *
path_of(const char *rel)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", home, rel);
	return p;
}

static void
put_file(const char *rel, const char *text, mode_t mode)
{
	FILE *f = fopen(path_of(rel), "w");

	if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
		abort();
	if (chmod(path_of(rel), mode) != 0)
		abort();
}

/* The file's text (static), or "" */
static const char *
get_file(const char *rel)
{
	static char text[8192];
	FILE *f = fopen(path_of(rel), "r");
	size_t n = 0;

	text[0] = '\0';
	if (f != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		fclose(f);
	}
	return text;
}

static unsigned int
mode_of(const char *rel)
{
	struct stat st;

	return lstat(path_of(rel), &st) == 0 ? st.st_mode & 07777 : 0;
}

static ino_t
ino_of(const char *rel)
{
	struct stat st;

	return lstat(path_of(rel), &st) == 0 ? st.st_ino : 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove path and everything under it (nothing there is fine). */
static void
rm_tree(const char *path)
{
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return;
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		abort();
}

/* Temporary files left in .ssh. */
static int
temps_left(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(path_of(".ssh"))) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".ferry-") != NULL)
			n++;
	closedir(d);
	return n;
}

static void
clean_ssh(void)
{
	/* A file or a tree. */
	if (unlink(path_of(".ssh")) != 0)
		rm_tree(path_of(".ssh"));
}

static void
test_create(void)
{
	struct copyid_plan plan;
	struct copyid_result res;
	int r;

	clean_ssh();
	r = install(0, 2, COPYID_DRY_RUN, &plan, &res);
	ok(r == 0 && plan.nadd == 2 && res.how == COPYID_NOTHING,
	    "dry run: two keys would be added");
	ok(mode_of(".ssh") == 0, "dry run: .ssh not created");
	copyid_plan_clear(&plan);

	r = install(0, 2, 0, &plan, &res);
	is_int(r, 0, "install into a home without .ssh");
	ok(res.made_dir && !res.existed && res.how == COPYID_CREATED,
	    "reported: directory made, file created");
	is_int(mode_of(".ssh"), 0700, ".ssh mode 0700");
	is_int(mode_of(COPYID_FILE), 0600, "authorized_keys mode 0600");
	ok(strcmp(get_file(COPYID_FILE), K1 "\n" K2 "\n") == 0,
	    "both keys written, one line each");
	copyid_plan_clear(&plan);

	r = install(0, 2, 0, &plan, &res);
	ok(r == 0 && plan.nadd == 0 && res.how == COPYID_NOTHING,
	    "second run adds nothing");
	ok(strcmp(get_file(COPYID_FILE), K1 "\n" K2 "\n") == 0,
	    "second run: file unchanged");
	copyid_plan_clear(&plan);

	r = install(0, 1, COPYID_FORCE, &plan, &res);
	ok(r == 0 && plan.nadd == 1, "force adds a present key");
	ok(strcmp(get_file(COPYID_FILE), K1 "\n" K2 "\n" K1 "\n") == 0,
	    "force: the key twice");
	copyid_plan_clear(&plan);
}

static void
test_replace_append(void)
{
	struct copyid_plan plan;
	struct copyid_result res;
	ino_t ino;
	int r;

	clean_ssh();
	if (mkdir(path_of(".ssh"), 0755) != 0)
		abort();
	put_file(COPYID_FILE, "# mine\r\n" K2, 0640);
	ino = ino_of(COPYID_FILE);
	r = install(0, 1, 0, &plan, &res);
	ok(r == 0 && res.how == COPYID_REPLACED && res.existed,
	    "posix-rename offered: replaced");
	ok(ino_of(COPYID_FILE) != ino, "replaced: a new file");
	is_int(mode_of(COPYID_FILE), 0640, "replaced: mode kept");
	is_int(mode_of(".ssh"), 0755, "an existing .ssh keeps its mode");
	ok(strcmp(get_file(COPYID_FILE), "# mine\r\n" K2 "\r\n" K1 "\r\n") ==
	    0, "replaced: CR LF kept, missing line end added");
	copyid_plan_clear(&plan);

	put_file(COPYID_FILE, K2, 0644);
	ino = ino_of(COPYID_FILE);
	r = install(SFTP_REQ_BIT(SFTP_REQ_POSIX_RENAME), 1, 0, &plan, &res);
	ok(r == 0 && res.how == COPYID_APPENDED,
	    "no posix-rename: appended");
	ok(ino_of(COPYID_FILE) == ino, "appended: same file");
	is_int(mode_of(COPYID_FILE), 0644, "appended: mode kept");
	ok(strcmp(get_file(COPYID_FILE), K2 "\n" K1 "\n") == 0,
	    "appended: newline then the key");
	copyid_plan_clear(&plan);

	/* Refused temporary file (OPEN denied would stop reading too:
	 * refuse SETSTAT, which only the temporary file needs). */
	put_file(COPYID_FILE, K2 "\n", 0600);
	ino = ino_of(COPYID_FILE);
	r = install(SFTP_REQ_BIT(SFTP_REQ_SETSTAT), 1, 0, &plan, &res);
	ok(r == 0 && res.how == COPYID_APPENDED,
	    "temporary file refused: falls back to appending");
	ok(ino_of(COPYID_FILE) == ino && strcmp(get_file(COPYID_FILE),
	    K2 "\n" K1 "\n") == 0, "fallback: appended in place");
	is_int(temps_left(), 0, "fallback: temporary file removed");
	copyid_plan_clear(&plan);

	/* A symbolic link is kept; its target gets the key. */
	clean_ssh();
	if (mkdir(path_of(".ssh"), 0700) != 0)
		abort();
	put_file(".ssh/real", K2 "\n", 0600);
	if (symlink("real", path_of(COPYID_FILE)) != 0)
		abort();
	r = install(0, 1, 0, &plan, &res);
	ok(r == 0 && res.how == COPYID_APPENDED, "symbolic link: appended");
	ok(strcmp(get_file(".ssh/real"), K2 "\n" K1 "\n") == 0,
	    "symbolic link: target has the key");
	{
		struct stat st;

		ok(lstat(path_of(COPYID_FILE), &st) == 0 &&
		    S_ISLNK(st.st_mode), "symbolic link: still a link");
	}
	copyid_plan_clear(&plan);
}

static void
test_errors(void)
{
	struct copyid_plan plan;
	struct copyid_result res;
	char *big;
	FILE *f;
	int r;

	clean_ssh();
	put_file(".ssh", "not a dir", 0600);
	r = install(0, 1, 0, &plan, &res);
	ok(r == FERR_FORMAT && strstr(res.msg, "not a directory") != NULL,
	    ".ssh that is a file: %s", res.msg);
	copyid_plan_clear(&plan);
	if (unlink(path_of(".ssh")) != 0 ||
	    mkdir(path_of(".ssh"), 0700) != 0 ||
	    mkdir(path_of(COPYID_FILE), 0700) != 0)
		abort();
	r = install(0, 1, 0, &plan, &res);
	ok(r != 0 && strstr(res.msg, "authorized_keys") != NULL,
	    "authorized_keys that is a directory: %s", res.msg);
	copyid_plan_clear(&plan);
	if (rmdir(path_of(COPYID_FILE)) != 0)
		abort();

	if ((big = malloc(AUTHKEYS_FILE_MAX + 2)) == NULL)
		abort();
	memset(big, '#', AUTHKEYS_FILE_MAX + 1);
	big[AUTHKEYS_FILE_MAX + 1] = '\0';
	if ((f = fopen(path_of(COPYID_FILE), "w")) == NULL ||
	    fputs(big, f) == EOF || fclose(f) != 0)
		abort();
	free(big);
	r = install(0, 1, 0, &plan, &res);
	ok(r == FERR_NO_SPACE && strstr(res.msg, "larger") != NULL,
	    "a file above the limit is refused: %s", res.msg);
	copyid_plan_clear(&plan);
	if (unlink(path_of(COPYID_FILE)) != 0)
		abort();

	/* Another writer between reading and renaming: nothing lost. */
	put_file(COPYID_FILE, K2 "\n", 0600);
	meddle = 1;
	r = install(0, 1, 0, &plan, &res);
	meddle = 0;
	ok(r == FERR_FORMAT && strstr(res.msg, "changed while") != NULL,
	    "file changed before the rename: refused: %s", res.msg);
	ok(strcmp(get_file(COPYID_FILE), K2 "\n# meddled\n") == 0,
	    "changed file: the other writer's line kept");
	is_int(temps_left(), 0, "changed file: temporary file removed");
	copyid_plan_clear(&plan);
	if (unlink(path_of(COPYID_FILE)) != 0)
		abort();
	meddle = 1;
	r = install(0, 1, 0, &plan, &res);
	meddle = 0;
	ok(r == FERR_FORMAT && strstr(res.msg, "appeared while") != NULL,
	    "file created before the rename: refused: %s", res.msg);
	ok(strcmp(get_file(COPYID_FILE), "# meddled\n") == 0,
	    "created file: kept as the other writer made it");
	copyid_plan_clear(&plan);

	/* Writes refused: nothing added, the reason given. */
	put_file(COPYID_FILE, K2 "\n", 0600);
	r = install(SFTP_REQ_BIT(SFTP_REQ_WRITE), 1, 0, &plan, &res);
	ok(r == FERR_PERMISSION && strstr(res.msg, "write") != NULL,
	    "writes refused: %s", res.msg);
	ok(strcmp(get_file(COPYID_FILE), K2 "\n") == 0,
	    "writes refused: file unchanged");
	is_int(temps_left(), 0, "writes refused: temporary file removed");
	copyid_plan_clear(&plan);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	signal(SIGPIPE, SIG_IGN);
	snprintf(home, sizeof(home), "%s/test-copyid-remote.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(home) == NULL)
		abort();
	if (copyid_key_parse(K1, &keys[0]) != 0 ||
	    copyid_key_parse(K2, &keys[1]) != 0)
		abort();
	test_create();
	test_replace_append();
	test_errors();
	copyid_key_clear(&keys[0]);
	copyid_key_clear(&keys[1]);
	rm_tree(home);
	return tap_done();
}
