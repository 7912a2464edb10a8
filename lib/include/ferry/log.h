/*
 * Logging.  The library never prints: it hands each message to a callback
 * that the program installs (programs use src/prog.c for stderr, files and
 * syslog).  Without a callback, messages are dropped.  Levels follow
 * OpenSSH's LogLevel keyword, so configuration values map one to one.
 */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include <stdarg.h>

enum log_level {
	LOGL_QUIET = 0,
	LOGL_FATAL,
	LOGL_ERROR,
	LOGL_INFO,
	LOGL_VERBOSE,
	LOGL_DEBUG1,
	LOGL_DEBUG2,
	LOGL_DEBUG3,
};

/* Receives one formatted message, without a trailing newline. */
typedef void log_fn(enum log_level level, const char *msg, void *ctx);

/* Install the callback (NULL drops everything) and its context. */
void log_set_handler(log_fn *fn, void *ctx);

/* Messages above this level are not formatted at all.  Default LOGL_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Whether a message at this level would be delivered. */
int log_enabled(enum log_level level);

/*
 * Map a LogLevel name ("INFO", "DEBUG", "debug3", case-insensitive) to a
 * level; returns -1 for an unknown name.  log_level_name() is the reverse
 * and never returns NULL.
 */
int log_level_from_name(const char *name);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Like log_msg() with ": <err_str(r)>" appended, for errors carried as
 * return codes.
 */
void log_msg_r(enum log_level level, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(...)		log_msg(LOGL_ERROR, __VA_ARGS__)
#define log_info(...)		log_msg(LOGL_INFO, __VA_ARGS__)
#define log_verbose(...)	log_msg(LOGL_VERBOSE, __VA_ARGS__)
#define log_debug(...)		log_msg(LOGL_DEBUG1, __VA_ARGS__)
#define log_debug2(...)		log_msg(LOGL_DEBUG2, __VA_ARGS__)
#define log_debug3(...)		log_msg(LOGL_DEBUG3, __VA_ARGS__)

#endif /* FERRY_LOG_H */
