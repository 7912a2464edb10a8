/*
 * Small portable helpers shared inside the library and by the programs.
 */
#ifndef FERRY_MISC_H
#define FERRY_MISC_H

#include <stddef.h>

/*
 * Copy or append a C string into dst of size dstsize, always
 * NUL-terminating (when dstsize > 0).  Return the length of the string
 * they tried to create: truncation happened when it is >= dstsize.
 */
size_t misc_strlcpy(char *dst, const char *src, size_t dstsize);
size_t misc_strlcat(char *dst, const char *src, size_t dstsize);

/*
 * Parse a decimal integer in [minval, maxval].  On success return it and
 * set *errstr to NULL; on failure return 0 and set *errstr to "invalid",
 * "too small" or "too large" (the OpenBSD strtonum contract).
 */
long long misc_strtonum(const char *s, long long minval, long long maxval,
    const char **errstr);

/* Wipe then free len bytes at p (NULL is allowed). */
void misc_freezero(void *p, size_t len);

/* Write all len bytes of p to fd (a blocking fd; EINTR retried); 0 or
 * FERR_SYSTEM with errno. */
int misc_write_all(int fd, const void *p, size_t len);

/* Set or clear O_NONBLOCK on fd; 0 or FERR_SYSTEM. */
int misc_set_nonblock(int fd, int on);

#endif /* FERRY_MISC_H */
