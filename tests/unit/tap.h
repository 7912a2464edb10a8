/*
 * A minimal TAP producer for unit tests.  Each check prints "ok N - what"
 * or "not ok N - what" (with the file and line of a failure); tap_done()
 * prints the plan and returns the exit status for main().
 */
#ifndef FERRY_TAP_H
#define FERRY_TAP_H

#include <stddef.h>
#include <sys/types.h>

int tap_check(int cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int tap_check_int(long long got, long long want, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int tap_check_mem(const void *got, size_t gotlen, const void *want,
    size_t wantlen, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
void tap_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int tap_done(void);
/* Number of failed checks so far. */
int tap_failures(void);
/*
 * Wait for the child pid (through EINTR): its exit status, 128 when a
 * signal ended it, -1 when it cannot be waited for.
 */
int tap_wait_exit(pid_t pid);

#define ok(cond, ...)	tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_check_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
	    __VA_ARGS__)
#define is_mem(got, gotlen, want, wantlen, ...) \
	tap_check_mem((got), (gotlen), (want), (wantlen), __FILE__, __LINE__, \
	    __VA_ARGS__)

#endif /* FERRY_TAP_H */
