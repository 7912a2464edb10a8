/*
 * The helper layer every Ferry program uses: fatal errors and where log
 * messages go (stderr, a file, or syslog).  Only programs include this;
 * the library never exits and never prints.
 */
#ifndef FERRY_PROG_H
#define FERRY_PROG_H

#include "ferry/log.h"

/*
 * Set the program name used in messages and install the log handler,
 * writing to stderr at LOGL_INFO.
 */
void prog_init(const char *argv0);

/* The name given to prog_init (without directories). */
const char *prog_name(void);

/* Send log messages to stderr (the default). */
void prog_log_to_stderr(void);

/* Append log messages to a file; 0, or -1 with errno set. */
int prog_log_to_file(const char *path);

/*
 * Send log messages to syslog with a facility named as in sshd_config
 * ("AUTH", "DAEMON", "LOCAL0".."LOCAL7", "USER"); -1 for an unknown name.
 */
int prog_log_to_syslog(const char *facility);

/* The same with a facility code from <syslog.h> (LOG_AUTH, ...). */
int prog_log_to_syslog_code(int facility);

/* Log at FATAL ("name: message") and exit(255), as OpenSSH's tools do. */
void prog_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/* Like prog_fatal() with ": <err_str(r)>" appended. */
void prog_fatal_r(int r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Exit with a status, after closing log destinations. */
void prog_exit(int status) __attribute__((noreturn));

#define fatal(...)	prog_fatal(__VA_ARGS__)
#define fatal_r(...)	prog_fatal_r(__VA_ARGS__)

#endif /* FERRY_PROG_H */
