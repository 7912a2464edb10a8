/*
 * Logging through a callback installed by the program.  The library never
 * writes to a descriptor itself.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "ferry/err.h"
#include "ferry/log.h"

/* Longest message delivered; longer ones are truncated. */
#define LOG_MSG_MAX	1024

static log_fn *log_handler;
static void *log_handler_ctx;
static enum log_level log_level = LOGL_INFO;

static const struct {
	const char *name;
	enum log_level level;
} log_names[] = {
	{ "QUIET", LOGL_QUIET },
	{ "FATAL", LOGL_FATAL },
	{ "ERROR", LOGL_ERROR },
	{ "INFO", LOGL_INFO },
	{ "VERBOSE", LOGL_VERBOSE },
	{ "DEBUG1", LOGL_DEBUG1 },	/* first: the name printed */
	{ "DEBUG", LOGL_DEBUG1 },	/* OpenSSH's alias for DEBUG1 */
	{ "DEBUG2", LOGL_DEBUG2 },
	{ "DEBUG3", LOGL_DEBUG3 },
};

void
log_set_handler(log_fn *fn, void *ctx)
{
	log_handler = fn;
	log_handler_ctx = ctx;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_enabled(enum log_level level)
{
	return log_handler != NULL && level != LOGL_QUIET && level <= log_level;
}

int
log_level_from_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (strcasecmp(log_names[i].name, name) == 0)
			return (int)log_names[i].level;
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	size_t i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (log_names[i].level == level)
			return log_names[i].name;
	return "UNKNOWN";
}

void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX];

	if (!log_enabled(level))
		return;
	/* Truncation is acceptable for log lines. */
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	log_handler(level, msg, log_handler_ctx);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
log_msg_r(enum log_level level, int r, const char *fmt, ...)
{
	char msg[LOG_MSG_MAX];
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_msg(level, "%s: %s", msg, err_str(r));
}
