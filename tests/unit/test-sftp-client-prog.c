/*
 * The client programs' shared connection helpers (src/prog-client.c):
 * option lines in order and NULL-terminated, resolving a destination
 * with option lines (first value wins, the destination's user and a
 * -F file), invalid destinations, the ProxyJump program's lookup,
 * the SSH_ASKPASS prompt (answer, failure), and transport programs on
 * pipes with their exit status.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshconf.h"
#include "prog.h"
#include "prog-client.h"
#include "tap.h"

static char dir[256];

static void
write_text(const char *path, const char *text, int mode)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) < 0 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	close(fd);
}

static void
test_opts(void)
{
	struct prog_client_opts o;
	const char *raw = "Port=2200";

	memset(&o, 0, sizeof(o));
	prog_client_opt(&o, "User", "alice");
	prog_client_opt(&o, NULL, raw);
	prog_client_opt(&o, "AddressFamily", "inet6");
	is_int(o.n, 3, "three option lines");
	ok(strcmp(o.lines[0], "User alice") == 0 && o.lines[1] == raw &&
	    strcmp(o.lines[2], "AddressFamily inet6") == 0 &&
	    o.lines[3] == NULL, "in order, -o lines borrowed, NULL-terminated");
	prog_client_opts_free(&o);
	is_int(o.n, 0, "freed and reset");
}

static void
test_resolve(void)
{
	struct prog_client_opts o;
	struct prog_client_params p;
	struct prog_client *pc;
	char cfg[512], exe[512];
	ssize_t n;
	int r;

	snprintf(cfg, sizeof(cfg), "%s/config", dir);
	write_text(cfg, "Host thealias\n    HostName 192.0.2.7\n"
	    "    Port 2022\n    User bob\n    BatchMode yes\n", 0644);
	memset(&o, 0, sizeof(o));
	prog_client_opt(&o, "Port", "2200");
	prog_client_opt(&o, "Port", "2300");
	memset(&p, 0, sizeof(p));
	p.destination = "carol@thealias";
	p.config_file = cfg;
	p.options = o.lines;
	p.jump_program = "no-such-jump-program";
	r = prog_client_resolve(&p, &pc);
	ok(r == 0 && pc != NULL, "resolve a Host alias from -F");
	if (r == 0) {
		is_int(pc->conf->port, 2200, "the first Port line wins over "
		    "the later one and the file");
		ok(pc->conf->user != NULL &&
		    strcmp(pc->conf->user, "carol") == 0,
		    "the destination's user wins over the file");
		ok(pc->conf->hostname != NULL &&
		    strcmp(pc->conf->hostname, "192.0.2.7") == 0,
		    "HostName from the file");
		ok(pc->cc.prompt == NULL, "BatchMode: no prompt callback");
		ok(strcmp(pc->self, "no-such-jump-program") == 0,
		    "a jump program not next to this one is left to PATH");
		ok(pc->jump_args[0] != NULL &&
		    strcmp(pc->jump_args[0], "-F") == 0 &&
		    strcmp(pc->jump_args[1], cfg) == 0 &&
		    pc->jump_args[2] == NULL, "the jump gets -F file");
		prog_client_free(pc);
	}
	prog_client_opts_free(&o);

	memset(&p, 0, sizeof(p));
	p.destination = "plainhost";
	p.config_file = "none";
	p.verbose = 2;
	r = prog_client_resolve(&p, &pc);
	log_set_level(LOGL_INFO);
	ok(r == 0 && pc->cc.prompt == prog_client_prompt,
	    "without BatchMode the prompt callback is set");
	if (r == 0) {
		ok(strcmp(pc->jump_args[0], "-F") == 0 &&
		    strcmp(pc->jump_args[1], "none") == 0 &&
		    strcmp(pc->jump_args[2], "-v") == 0 &&
		    strcmp(pc->jump_args[3], "-v") == 0 &&
		    pc->jump_args[4] == NULL, "-F none -v -v reach the jump");
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0)
			exe[n] = '\0';
		ok(n > 0 && strcmp(pc->self, exe) == 0,
		    "no jump program named: this very program");
		prog_client_free(pc);
	}
	log_set_level(LOGL_QUIET);
	p.destination = "user@";
	r = prog_client_resolve(&p, &pc);
	ok(r == FERR_FORMAT && pc == NULL, "an empty host: FERR_FORMAT");
	log_set_level(LOGL_INFO);
	prog_client_free(NULL);
	prog_client_disconnect(NULL);
	ok(1, "NULL is allowed for free and disconnect");
}

static void
test_prompt(void)
{
	char ask[512], asknot[512], *answer = NULL;
	int r;

	snprintf(ask, sizeof(ask), "%s/askpass", dir);
	snprintf(asknot, sizeof(asknot), "%s/askfail", dir);
	write_text(ask, "#!/bin/sh\necho \"answer to $1\"\n", 0755);
	write_text(asknot, "#!/bin/sh\nexit 1\n", 0755);
	setenv("SSH_ASKPASS", ask, 1);
	setenv("SSH_ASKPASS_REQUIRE", "force", 1);
	r = prog_client_prompt("Password:", 0, &answer, NULL);
	ok(r == 0 && answer != NULL &&
	    strcmp(answer, "answer to Password:") == 0,
	    "SSH_ASKPASS_REQUIRE=force: askpass's first line is the answer");
	free(answer);
	answer = NULL;
	setenv("SSH_ASKPASS", asknot, 1);
	r = prog_client_prompt("Password:", 0, &answer, NULL);
	ok(r == FERR_AUTH_FAILED && answer == NULL,
	    "a failing askpass: FERR_AUTH_FAILED");
	unsetenv("SSH_ASKPASS");
	unsetenv("SSH_ASKPASS_REQUIRE");
}

/*
 * A keyboard-interactive prompt is the server's text: on the terminal
 * its control characters (an escape sequence here) must come out made
 * visible, while the newlines of the host-key question stay.  The
 * prompt runs in a child whose controlling terminal is a pty.
 */
static void
test_prompt_tty(void)
{
	char out[1024], *answer, *slave;
	size_t len = 0;
	ssize_t n;
	int m, s, status;
	pid_t pid;

	if ((m = posix_openpt(O_RDWR | O_NOCTTY)) < 0 || grantpt(m) != 0 ||
	    unlockpt(m) != 0 || (slave = ptsname(m)) == NULL) {
		tap_skip("no pseudo-terminal");
		if (m >= 0)
			close(m);
		return;
	}
	if ((pid = fork()) == 0) {
		if (setsid() < 0 || (s = open(slave, O_RDWR)) < 0)
			_exit(2);
		close(m);
		answer = NULL;
		if (prog_client_prompt("one\ntwo \033]0;evil\007\033[2J: ", 1,
		    &answer, NULL) != 0 || answer == NULL ||
		    strcmp(answer, "yes") != 0)
			_exit(1);
		_exit(0);
	}
	while (len < sizeof(out) - 1 && (n = read(m, out + len,
	    sizeof(out) - 1 - len)) > 0) {
		len += (size_t)n;
		out[len] = '\0';
		if (strstr(out, ": ") != NULL)
			break;
	}
	out[len] = '\0';
	if (write(m, "yes\n", 4) != 4)
		printf("# cannot answer the prompt\n");
	waitpid(pid, &status, 0);
	close(m);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "tty prompt: the typed answer comes back");
	ok(memchr(out, '\033', len) == NULL && memchr(out, '\007', len) ==
	    NULL && strstr(out, "\\033]0;evil") != NULL,
	    "tty prompt: the server's control characters are made visible");
	ok(strstr(out, "one\r\ntwo") != NULL || strstr(out, "one\ntwo") !=
	    NULL, "tty prompt: newlines are kept");
}

static void
test_spawn(void)
{
	char *const cat[] = { "cat", NULL };
	char *const none[] = { "/no/such/transport", NULL };
	char *const code[] = { "sh", "-c", "exit 7", NULL };
	char buf[16];
	int to, from, r;
	ssize_t n;
	pid_t pid;

	r = prog_client_spawn(cat, &to, &from, &pid);
	ok(r == 0 && pid > 0, "spawn cat on pipes");
	if (r == 0) {
		n = write(to, "hello", 5);
		close(to);
		ok(n == 5 && read(from, buf, sizeof(buf)) == 5 &&
		    memcmp(buf, "hello", 5) == 0, "bytes go through it");
		ok((fcntl(from, F_GETFD) & FD_CLOEXEC) != 0,
		    "our ends are close-on-exec");
		close(from);
		is_int(prog_client_reap(pid), 0, "cat exits 0");
	}
	r = prog_client_spawn(code, &to, &from, &pid);
	if (r == 0) {
		close(to);
		close(from);
	}
	is_int(r == 0 ? prog_client_reap(pid) : -1, 7,
	    "the exit status is reaped");
	r = prog_client_spawn(none, &to, &from, &pid);
	if (r == 0) {
		close(to);
		ok(read(from, buf, sizeof(buf)) == 0, "a missing program: EOF");
		close(from);
	}
	is_int(r == 0 ? prog_client_reap(pid) : -1, 1,
	    "a missing program exits 1");
}

int
main(int argc, char **argv)
{
	char path[512];

	(void)argc;
	prog_init(argv[0]);
	snprintf(dir, sizeof(dir), "/tmp/ferry-pc-%ld", (long)getpid());
	if (mkdir(dir, 0700) != 0) {
		printf("Bail out! mkdir %s: %s\n", dir, strerror(errno));
		return 1;
	}
	test_opts();
	test_resolve();
	test_prompt();
	test_prompt_tty();
	test_spawn();
	snprintf(path, sizeof(path), "%s/config", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/askpass", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/askfail", dir);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
