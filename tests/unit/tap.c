/*
 * A minimal TAP producer for unit tests.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "tap.h"

static int tap_count;
static int tap_failed;

static void
tap_report(int cond, const char *file, int line, const char *fmt, va_list ap)
{
	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	printf("\n");
	if (!cond)
		printf("#   failed at %s:%d\n", file, line);
	fflush(stdout);
}

int
tap_check(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_report(cond, file, line, fmt, ap);
	va_end(ap);
	return cond;
}

int
tap_check_int(long long got, long long want, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	int cond = got == want;

	va_start(ap, fmt);
	tap_report(cond, file, line, fmt, ap);
	va_end(ap);
	if (!cond)
		printf("#   got %lld, want %lld\n", got, want);
	return cond;
}

static void
tap_hex(const char *label, const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t i;

	printf("#   %s (%zu):", label, len);
	for (i = 0; i < len && i < 64; i++)
		printf(" %02x", c[i]);
	printf("%s\n", len > 64 ? " ..." : "");
}

int
tap_check_mem(const void *got, size_t gotlen, const void *want,
    size_t wantlen, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int cond;

	cond = gotlen == wantlen && (gotlen == 0 || memcmp(got, want, gotlen) == 0);
	va_start(ap, fmt);
	tap_report(cond, file, line, fmt, ap);
	va_end(ap);
	if (!cond) {
		tap_hex("got", got, gotlen);
		tap_hex("want", want, wantlen);
	}
	return cond;
}

void
tap_skip(const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("ok %d # SKIP ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

int
tap_failures(void)
{
	return tap_failed;
}

int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	fflush(stdout);
	return tap_failed == 0 ? 0 : 1;
}

int
tap_wait_exit(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}
