/*
 * Fuzz target for scp_brace_expand(): the input (up to 4 KiB, cut at
 * the first NUL) is a pattern as a user or a remote command line gives
 * it.  Properties checked: the call returns 0, FERR_NO_SPACE or
 * FERR_ALLOC; never more words than allowed; every word is a string no
 * longer than the pattern (an expansion only drops the braces and the
 * other alternatives of a group); a pattern without '{' is its own only
 * word.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/err.h"
#include "ferry/scp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BRACE_MAX	256

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *pat, **w = NULL;
	size_t n = 0, i;
	int r;

	if (size > 4096)
		size = 4096;
	if ((pat = malloc(size + 1)) == NULL)
		return 0;
	memcpy(pat, data, size);
	pat[size] = '\0';
	r = scp_brace_expand(pat, FUZZ_BRACE_MAX, &w, &n);
	if (r != 0 && r != FERR_NO_SPACE && r != FERR_ALLOC)
		abort();
	if (n > FUZZ_BRACE_MAX)
		abort();
	for (i = 0; i < n; i++)
		if (w[i] == NULL || strlen(w[i]) > strlen(pat))
			abort();
	if (r == 0 && strchr(pat, '{') == NULL &&
	    (n != 1 || strcmp(w[0], pat) != 0))
		abort();
	for (i = 0; i < n; i++)
		free(w[i]);
	free(w);
	free(pat);
	return 0;
}
