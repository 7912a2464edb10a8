/*
 * Helpers shared by the key exchange unit tests.
 */
#ifndef FERRY_TEST_KEX_UTIL_H
#define FERRY_TEST_KEX_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Decode the hex string s (spaces ignored) into a new allocation; the
 * length goes to *lenp.  Aborts on bad input: test vectors are constants.
 */
static inline uint8_t *
test_unhex(const char *s, size_t *lenp)
{
	uint8_t *out;
	size_t n = 0, i;
	int hi = -1, v;
	char c;

	if ((out = malloc(strlen(s) / 2 + 1)) == NULL)
		abort();
	for (i = 0; s[i] != '\0'; i++) {
		c = s[i];
		if (c == ' ')
			continue;
		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			abort();
		if (hi < 0)
			hi = v;
		else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0)
		abort();
	*lenp = n;
	return out;
}

#endif /* FERRY_TEST_KEX_UTIL_H */
