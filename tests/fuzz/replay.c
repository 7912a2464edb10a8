/*
 * Corpus replay for libFuzzer targets in ordinary builds: runs the target
 * on every seed in tests/fuzz/corpus/NAME, on every truncation of each
 * seed, and on deterministic bit-flip and byte mutations, so `make check`
 * exercises every parser's error paths (under ASan/UBSan in the sanitizer
 * build) without libFuzzer.  Prints TAP: one line per seed.
 *
 *   replay-NAME [-a] [CORPUS-DIR]	(default $top_srcdir/tests/fuzz/corpus/NAME)
 *
 * With -a (or FERRY_ALLOC_FAIL=1 in the environment) it runs the
 * allocation-failure mode instead: for each seed it counts the allocations
 * one run performs, then reruns the seed with allocation N failing, for
 * N = 1..count (at most FERRY_ALLOC_FAIL_MAX points per seed, default 250,
 * spread evenly over the count when there are more).  A failed allocation
 * must end in an error return: a crash kills the program (the signal
 * handler names the seed and N first), and a run that leaves more heap in
 * use than the clean run did is reported as a leak (in ASan builds too,
 * from the sanitizer's own count; LeakSanitizer's check at exit is off in
 * this mode, as runs ended by the target's own checks leave its objects).  FERRY_ALLOC_FAIL_AT=N runs failure point
 * N alone, to study one report under valgrind
 * (--soname-synonyms=somalloc=nouserintercepts keeps this file's malloc).
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc-fail.c"

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

/* What the allocation-failure mode is doing, for the crash handler. */
static const char *af_seed_name = "";
static unsigned long af_total;

static void
replay_crash(int sig)
{
	char msg[512];
	ssize_t w = 0;
	int n;

	n = snprintf(msg, sizeof(msg), "not ok - %s: seed %s crashed (signal %d) "
	    "with allocation %lu of %lu failing\n", FUZZ_NAME, af_seed_name, sig,
	    af_fail_at, af_total);
	if (n > 0)
		w = write(STDOUT_FILENO, msg, (size_t)n < sizeof(msg) ?
		    (size_t)n : sizeof(msg) - 1);
	(void)w;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Runs the target gave up (fuzz_alloc_bail) for the current seed. */
static unsigned long af_bailed;

/*
 * One armed run failing allocation fail_at (0: none): returns the heap
 * growth, or REPLAY_BAILED when the target gave up (its own objects then
 * stay allocated, so there is nothing to compare).
 */
#define REPLAY_BAILED	LLONG_MIN
static long long
replay_af_run(const uint8_t *seed, size_t len, unsigned long fail_at)
{
	jmp_buf jb;
	size_t before, after;

	before = af_heap_in_use();
	af_count = 0;
	af_failed = 0;
	af_fail_at = fail_at;
	if (setjmp(jb) != 0) {
		af_armed = 0;
		af_jmp = NULL;
		af_bailed++;
		return REPLAY_BAILED;
	}
	af_jmp = &jb;
	af_armed = 1;
	LLVMFuzzerTestOneInput(seed, len);
	af_armed = 0;
	af_jmp = NULL;
	after = af_heap_in_use();
	return (long long)after - (long long)before;
}

/*
 * Allocation-failure mode for one seed: returns 0, or -1 when a run
 * leaked (the failure points are listed as TAP comments).
 */
static int
replay_alloc_fail(const char *name, const uint8_t *seed, size_t len,
    unsigned long cap, unsigned long *countp, unsigned long *pointsp)
{
	unsigned long i, n, points, leaks = 0, only = 0;
	long long clean, d;
	const char *env;

	af_seed_name = name;
	af_bailed = 0;
	/* A first run does the target's one-time set-up (host keys, ...). */
	LLVMFuzzerTestOneInput(seed, len);
	if ((clean = replay_af_run(seed, len, 0)) == REPLAY_BAILED)
		return -1;
	af_total = af_count;
	points = af_total < cap ? af_total : cap;
	if ((env = getenv("FERRY_ALLOC_FAIL_AT")) != NULL)
		only = strtoul(env, NULL, 10);
	for (i = 0; i < points; i++) {
		n = points == af_total ? i + 1 : 1 + i * af_total / points;
		if (only != 0 && n != only)
			continue;
		d = replay_af_run(seed, len, n);
		/* Caches filled once do not recur: look twice. */
		if (d != REPLAY_BAILED && d > clean)
			d = replay_af_run(seed, len, n);
		if (d != REPLAY_BAILED && d > clean) {
			printf("# %s: seed %s, allocation %lu failing: "
			    "%lld bytes more in use than a clean run\n",
			    FUZZ_NAME, name, n, d - clean);
			leaks++;
		}
	}
	af_fail_at = 0;
	*countp = af_total;
	*pointsp = points;
	return leaks != 0 ? -1 : 0;
}

#define REPLAY_TUNABLE	"glibc.malloc.tcache_count=0"

static int replay_afmode;

#ifdef __SANITIZE_ADDRESS__
int __lsan_is_turned_off(void);

/* LeakSanitizer asks at exit; see the top comment. */
int
__lsan_is_turned_off(void)
{
	return replay_afmode;
}
#endif

int
main(int argc, char **argv)
{
	char dir[4096], path[8192];
	const char *top = getenv("top_srcdir");
	struct dirent **names;
	const char *env;
	uint8_t *seed;
	size_t len;
	unsigned long cap = 250, allocs, points;
	int i, n, count = 0, bad = 0, afmode = 0;

	if ((env = getenv("FERRY_ALLOC_FAIL")) != NULL && strcmp(env, "1") == 0)
		afmode = 1;
	if (argc > 1 && strcmp(argv[1], "-a") == 0)
		afmode = 1;
	/*
	 * glibc counts blocks parked in its per-thread cache as in use, which
	 * would blur the leak check: run again without that cache.
	 */
	if (afmode && ((env = getenv("GLIBC_TUNABLES")) == NULL ||
	    strstr(env, REPLAY_TUNABLE) == NULL)) {
		if (setenv("GLIBC_TUNABLES", REPLAY_TUNABLE, 1) == 0)
			execv("/proc/self/exe", argv);
		printf("# cannot run without glibc's thread cache: "
		    "leak reports may be wrong\n");
	}
	if (argc > 1 && strcmp(argv[1], "-a") == 0) {
		argc--;
		argv++;
	}
	if ((env = getenv("FERRY_ALLOC_FAIL_MAX")) != NULL &&
	    (cap = strtoul(env, NULL, 10)) == 0)
		cap = 250;
	replay_afmode = afmode;
	if (afmode) {
		signal(SIGSEGV, replay_crash);
		signal(SIGBUS, replay_crash);
		signal(SIGABRT, replay_crash);
		signal(SIGFPE, replay_crash);
	}
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
		} else if (afmode) {
			if (replay_alloc_fail(names[i]->d_name, seed, len, cap,
			    &allocs, &points) != 0) {
				printf("not ok %d - %s: seed %s leaks when an "
				    "allocation fails\n", count, FUZZ_NAME,
				    names[i]->d_name);
				bad++;
			} else
				printf("ok %d - %s: seed %s, %lu allocations, "
				    "%lu failure points (%lu ended in the target's "
				    "own checks), no crash or leak\n", count,
				    FUZZ_NAME, names[i]->d_name, allocs, points,
				    af_bailed);
			free(seed);
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
