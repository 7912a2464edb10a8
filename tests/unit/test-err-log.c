/*
 * Unit tests for error codes and logging.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ferry/err.h"
#include "ferry/log.h"
#include "tap.h"

static char last_msg[2048];
static int last_level = -1;
static int calls;

static void
capture(enum log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	calls++;
	last_level = (int)level;
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

static void
test_err(void)
{
	int r, named = 0;

	for (r = 0; r >= FERR_WOULD_BLOCK; r--)
		if (err_name(r) != NULL && strcmp(err_str(r), "unknown error") != 0)
			named++;
	is_int(named, 1 - FERR_WOULD_BLOCK, "every code from 0 to the last has a name and message");
	ok(strcmp(err_name(FERR_FORMAT), "FERR_FORMAT") == 0, "err_name gives the symbol");
	ok(strcmp(err_str(FERR_NO_SPACE), "the buffer's maximum size is reached") == 0,
	    "err_str gives the message");
	ok(strcmp(err_str(-9999), "unknown error") == 0, "unknown code has a generic text");
	ok(err_name(-9999) == NULL, "unknown code has no name");
	ok(strcmp(err_str(1), "unknown error") == 0, "positive codes are unknown");
}

static void
test_log(void)
{
	char big[3000];

	calls = 0;
	log_set_handler(NULL, NULL);
	log_error("dropped");
	is_int(calls, 0, "no handler: message dropped");

	log_set_handler(capture, NULL);
	log_set_level(LOGL_INFO);
	log_info("hello %d", 42);
	ok(calls == 1 && strcmp(last_msg, "hello 42") == 0 && last_level == LOGL_INFO,
	    "INFO delivered, formatted");
	log_debug("hidden");
	is_int(calls, 1, "DEBUG1 filtered at INFO");
	ok(!log_enabled(LOGL_VERBOSE) && log_enabled(LOGL_ERROR), "log_enabled follows level");
	log_set_level(LOGL_DEBUG3);
	log_debug3("deep");
	ok(calls == 2 && last_level == LOGL_DEBUG3, "DEBUG3 delivered at DEBUG3");
	log_msg(LOGL_QUIET, "never");
	is_int(calls, 2, "QUIET messages are never delivered");
	log_msg_r(LOGL_ERROR, FERR_INCOMPLETE, "parse %s", "kexinit");
	ok(strcmp(last_msg, "parse kexinit: the message is truncated") == 0,
	    "log_msg_r appends err_str");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_error("%s", big);
	ok(strlen(last_msg) < sizeof(big) - 1 && strlen(last_msg) > 500,
	    "long messages are truncated, not overflowed");

	is_int(log_level_from_name("debug"), LOGL_DEBUG1, "DEBUG is DEBUG1");
	is_int(log_level_from_name("VERBOSE"), LOGL_VERBOSE, "VERBOSE parses");
	is_int(log_level_from_name("Debug3"), LOGL_DEBUG3, "names are case-insensitive");
	is_int(log_level_from_name("LOUD"), -1, "unknown level name rejected");
	ok(strcmp(log_level_name(LOGL_DEBUG1), "DEBUG1") == 0, "level name of DEBUG1");
	ok(strcmp(log_level_name(LOGL_ERROR), "ERROR") == 0, "level name of ERROR");
	log_set_handler(NULL, NULL);
}

int
main(void)
{
	test_err();
	test_log();
	return tap_done();
}
