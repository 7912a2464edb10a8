/*
 * Unit tests for the programs' helper layer (src/prog.c): log destinations
 * and fatal errors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ferry/err.h"
#include "ferry/log.h"
#include "prog.h"
#include "tap.h"

static int
file_contains(const char *path, const char *needle)
{
	char line[4096];
	FILE *f;
	int found = 0;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			found = 1;
	fclose(f);
	return found;
}

int
main(int argc, char **argv)
{
	char path[] = "/tmp/ferry-test-prog.XXXXXX";
	int fd, status;
	pid_t pid;

	(void)argc;
	prog_init(argv[0]);
	ok(strcmp(prog_name(), "test-prog") == 0, "program name without directories");
	if ((fd = mkstemp(path)) == -1)
		abort();
	close(fd);
	ok(prog_log_to_file(path) == 0, "log to a file");
	log_info("hello %s", "file");
	log_debug("not at INFO");
	ok(file_contains(path, "hello file"), "INFO message written to the file");
	ok(!file_contains(path, "not at INFO"), "DEBUG message filtered");
	log_set_level(LOGL_DEBUG1);
	log_debug("now visible");
	ok(file_contains(path, "debug: now visible"), "debug messages are prefixed");
	ok(prog_log_to_syslog("NOSUCH") == -1, "unknown syslog facility refused");
	ok(prog_log_to_file("/nonexistent/dir/log") == -1, "unwritable log file refused");

	/* A fatal error exits 255 with its message, even at QUIET. */
	fflush(stdout);
	if ((pid = fork()) == 0) {
		log_set_level(LOGL_QUIET);
		fatal_r(FERR_INCOMPLETE, "reading %s", "packet");
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 255, "fatal exits with status 255");
	ok(file_contains(path, "reading packet: the message is truncated"),
	    "fatal_r message names the error");
	if ((pid = fork()) == 0)
		fatal("plain %d", 7);
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 255 && file_contains(path, "plain 7"),
	    "fatal without an error code");
	prog_log_to_stderr();
	unlink(path);
	return tap_done();
}
