/*
 * Corpus replay for libFuzzer targets in ordinary builds: runs the target
 * on every seed in tests/fuzz/corpus/NAME, on every truncation of each
 * seed, and on deterministic bit-flip and byte mutations, so `make check`
 * exercises every parser's error paths (under ASan/UBSan in the sanitizer
 * build) without libFuzzer.  Prints TAP: one line per seed.
 *
 *   replay-NAME [CORPUS-DIR]	(default $top_srcdir/tests/fuzz/corpus/NAME)
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_NAME
#error FUZZ_NAME must name the target
#endif

/*
 * Mutations tried per seed, beyond truncations, and the number of
 * truncation lengths tried (all of them for smaller seeds).  Targets whose
 * every run is costly (key exchange math) lower both at build time.
 */
#ifndef REPLAY_MUTATIONS
#define REPLAY_MUTATIONS	2000
#endif
#ifndef REPLAY_TRUNC_ALL
#define REPLAY_TRUNC_ALL	4096
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t replay_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t
replay_next(void)
{
	replay_state ^= replay_state >> 12;
	replay_state ^= replay_state << 25;
	replay_state ^= replay_state >> 27;
	return replay_state * 0x2545f4914f6cdd1dULL;
}

static int
replay_read(const char *path, uint8_t **datap, size_t *lenp)
{
	FILE *f;
	uint8_t *d = NULL, *nd;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nd = realloc(d, cap)) == NULL) {
				free(d);
				fclose(f);
				return -1;
			}
			d = nd;
		}
		if ((n = fread(d + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	fclose(f);
	*datap = d;
	*lenp = len;
	return 0;
}

static void
replay_seed(const uint8_t *seed, size_t len)
{
	uint8_t *m;
	size_t i, step;
	int k;

	LLVMFuzzerTestOneInput(seed, len);
	step = len <= REPLAY_TRUNC_ALL ? 1 : len / REPLAY_TRUNC_ALL;
	for (i = 0; i < len; i += step)
		LLVMFuzzerTestOneInput(seed, i);
	if (len == 0 || (m = malloc(len)) == NULL)
		return;
	for (k = 0; k < REPLAY_MUTATIONS; k++) {
		memcpy(m, seed, len);
		switch (replay_next() % 3) {
		case 0:	/* one bit */
			i = replay_next() % len;
			m[i] ^= (uint8_t)(1U << (replay_next() % 8));
			break;
		case 1:	/* an interesting byte value */
			i = replay_next() % len;
			m[i] = (uint8_t[]){ 0x00, 0x01, 0x7f, 0x80, 0xff }[replay_next() % 5];
			break;
		default:	/* a random byte */
			i = replay_next() % len;
			m[i] = (uint8_t)replay_next();
			break;
		}
		LLVMFuzzerTestOneInput(m, len);
	}
	free(m);
}

int
main(int argc, char **argv)
{
	char dir[4096], path[8192];
	const char *top = getenv("top_srcdir");
	struct dirent **names;
	uint8_t *seed;
	size_t len;
	int i, n, count = 0, bad = 0;

	if (argc > 1)
		snprintf(dir, sizeof(dir), "%s", argv[1]);
	else
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s",
		    top != NULL ? top : ".", FUZZ_NAME);
	if ((n = scandir(dir, &names, NULL, alphasort)) < 0) {
		printf("not ok 1 - corpus directory %s\n1..1\n", dir);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] == '.') {
			free(names[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		count++;
		if (replay_read(path, &seed, &len) != 0) {
			printf("not ok %d - read %s\n", count, names[i]->d_name);
			bad++;
		} else {
			replay_seed(seed, len);
			free(seed);
			printf("ok %d - %s: seed %s, truncations, mutations\n",
			    count, FUZZ_NAME, names[i]->d_name);
		}
		fflush(stdout);
		free(names[i]);
	}
	free(names);
	if (count == 0) {
		printf("not ok 1 - no seeds in %s\n", dir);
		count = bad = 1;
	}
	printf("1..%d\n", count);
	return bad != 0;
}
