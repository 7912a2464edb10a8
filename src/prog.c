/*
 * Program helpers: fatal errors and log destinations.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "ferry/err.h"
#include "ferry/log.h"
#include "prog.h"

/* Status OpenSSH's programs use for fatal errors. */
#define PROG_FATAL_STATUS	255

enum prog_dest { PROG_STDERR, PROG_FILE, PROG_SYSLOG };

static char prog_namebuf[64] = "ferry";
static enum prog_dest prog_dest = PROG_STDERR;
static FILE *prog_logfile;

static const struct {
	const char *name;
	int facility;
} prog_facilities[] = {
	{ "DAEMON", LOG_DAEMON }, { "USER", LOG_USER }, { "AUTH", LOG_AUTH },
	{ "AUTHPRIV", LOG_AUTHPRIV },
	{ "LOCAL0", LOG_LOCAL0 }, { "LOCAL1", LOG_LOCAL1 },
	{ "LOCAL2", LOG_LOCAL2 }, { "LOCAL3", LOG_LOCAL3 },
	{ "LOCAL4", LOG_LOCAL4 }, { "LOCAL5", LOG_LOCAL5 },
	{ "LOCAL6", LOG_LOCAL6 }, { "LOCAL7", LOG_LOCAL7 },
};

/* Log levels to syslog priorities, indexed by enum log_level. */
static const int prog_priorities[] = {
	[LOGL_QUIET] = LOG_INFO, [LOGL_FATAL] = LOG_CRIT,
	[LOGL_ERROR] = LOG_ERR, [LOGL_INFO] = LOG_INFO,
	[LOGL_VERBOSE] = LOG_INFO, [LOGL_DEBUG1] = LOG_DEBUG,
	[LOGL_DEBUG2] = LOG_DEBUG, [LOGL_DEBUG3] = LOG_DEBUG,
};

static void
prog_log_handler(enum log_level level, const char *msg, void *ctx)
{
	const char *prefix = "";

	(void)ctx;
	if (level >= LOGL_DEBUG1)
		prefix = "debug: ";
	switch (prog_dest) {
	case PROG_SYSLOG:
		syslog(prog_priorities[level], "%s%s", prefix, msg);
		break;
	case PROG_FILE:
		fprintf(prog_logfile, "%s%s\n", prefix, msg);
		fflush(prog_logfile);
		break;
	case PROG_STDERR:
	default:
		fprintf(stderr, "%s%s\n", prefix, msg);
		break;
	}
}

void
prog_init(const char *argv0)
{
	const char *slash;

	if (argv0 != NULL) {
		slash = strrchr(argv0, '/');
		snprintf(prog_namebuf, sizeof(prog_namebuf), "%s",
		    slash != NULL ? slash + 1 : argv0);
	}
	log_set_handler(prog_log_handler, NULL);
}

const char *
prog_name(void)
{
	return prog_namebuf;
}

static void
prog_close_dest(void)
{
	if (prog_dest == PROG_FILE && prog_logfile != NULL)
		fclose(prog_logfile);
	if (prog_dest == PROG_SYSLOG)
		closelog();
	prog_logfile = NULL;
	prog_dest = PROG_STDERR;
}

void
prog_log_to_stderr(void)
{
	prog_close_dest();
}

int
prog_log_to_file(const char *path)
{
	FILE *f;

	if ((f = fopen(path, "a")) == NULL)
		return -1;
	prog_close_dest();
	prog_logfile = f;
	prog_dest = PROG_FILE;
	return 0;
}

int
prog_log_to_syslog(const char *facility)
{
	size_t i;

	for (i = 0; i < sizeof(prog_facilities) / sizeof(prog_facilities[0]); i++) {
		if (strcasecmp(prog_facilities[i].name, facility) != 0)
			continue;
		prog_close_dest();
		openlog(prog_namebuf, LOG_PID, prog_facilities[i].facility);
		prog_dest = PROG_SYSLOG;
		return 0;
	}
	return -1;
}

int
prog_log_to_syslog_code(int facility)
{
	size_t i;

	for (i = 0; i < sizeof(prog_facilities) / sizeof(prog_facilities[0]); i++)
		if (prog_facilities[i].facility == facility)
			return prog_log_to_syslog(prog_facilities[i].name);
	return -1;
}

void
prog_exit(int status)
{
	prog_close_dest();
	exit(status);
}

static void __attribute__((format(printf, 2, 0)))
prog_vfatal(const char *suffix, const char *fmt, va_list ap)
{
	char msg[1024];

	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Fatal messages are shown even when the level is QUIET. */
	if (log_get_level() < LOGL_FATAL)
		log_set_level(LOGL_FATAL);
	log_msg(LOGL_FATAL, "%s%s%s", msg, suffix != NULL ? ": " : "",
	    suffix != NULL ? suffix : "");
}

void
prog_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	prog_vfatal(NULL, fmt, ap);
	va_end(ap);
	prog_exit(PROG_FATAL_STATUS);
}

void
prog_fatal_r(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	prog_vfatal(r == FERR_SYSTEM ? strerror(errno) : err_str(r), fmt, ap);
	va_end(ap);
	prog_exit(PROG_FATAL_STATUS);
}
