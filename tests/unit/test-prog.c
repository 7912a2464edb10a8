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
#include "prog-meter.h"
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

/* Draw meter lines in a child whose stdout is path; the text read back. */
static void
meter_lines(const char *path, char *out, size_t len)
{
	struct prog_meter m;
	FILE *f;
	size_t n;
	pid_t pid;
	int status;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		if (freopen(path, "w", stdout) == NULL)
			_exit(1);
		memset(&m, 0, sizeof(m));
		prog_meter_draw(&m, "a\033[2Jb", 2048, 0, 0);
		prog_meter_draw(&m, "a\033[2Jb", 2048, 2048, 1);
		prog_meter_draw(&m, "empty", 0, 0, 1);
		fflush(stdout);
		_exit(0);
	}
	out[0] = '\0';
	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    (f = fopen(path, "r")) == NULL)
		return;
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	fclose(f);
}

static void
test_meter(const char *path)
{
	char b[16], text[4096];

	prog_meter_size(b, sizeof(b), 999);
	ok(strcmp(b, "999B") == 0, "meter size: bytes");
	prog_meter_size(b, sizeof(b), 10035);
	ok(strcmp(b, "9.8K") == 0, "meter size: one decimal below 10");
	prog_meter_size(b, sizeof(b), 1023 * 1024);
	ok(strcmp(b, "1.0M") == 0, "meter size: 1023K shown as 1.0M");
	meter_lines(path, text, sizeof(text));
	ok(strstr(text, "\033") == NULL && strstr(text, "a\\033[2Jb") != NULL,
	    "meter: control characters in names are made visible");
	ok(strstr(text, "  0%       0B       0B/s --:-- ETA") != NULL,
	    "meter: a starting file shows 0%% and no ETA yet");
	ok(strstr(text, "100%     2.0K     2.0K/s     00:00\n") != NULL,
	    "meter: a finished file shows 100%%, its size, rate and time");
	ok(strstr(text, "empty") != NULL &&
	    strstr(strstr(text, "empty"), "100%") != NULL,
	    "meter: an empty file is 100%%");
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
	test_meter(path);
	unlink(path);
	return tap_done();
}
