/*
 * Allocation-failure injection for the fuzz replay programs.  replay.c
 * includes this file, so it is linked into the replay-NAME programs only
 * (never into the library, the programs or the libFuzzer binaries).
 *
 * It interposes malloc, calloc, realloc, reallocarray, strdup and strndup
 * in the executable: the library, libcrypto and libc's own internal
 * allocations (asprintf, ...) all come here first.  The real allocator is
 * the next definition in the lookup order, found with dlsym(RTLD_NEXT):
 * glibc's in ordinary builds, the sanitizer runtime's in ASan builds (so
 * LeakSanitizer still sees every block).  While armed, every allocation is
 * counted, and the one whose number equals af_fail_at returns NULL with
 * errno ENOMEM.
 */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#ifdef __SANITIZE_ADDRESS__
/* The sanitizer runtime's (GCC installs no header for it). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "fuzz.h"

static void *(*af_real_malloc)(size_t);
static void *(*af_real_calloc)(size_t, size_t);
static void *(*af_real_realloc)(void *, size_t);

static int af_armed;			/* counting (and failing) */
static unsigned long af_count;		/* allocations seen while armed */
static unsigned long af_fail_at;	/* the one that fails; 0: none */
static unsigned long af_failed;		/* allocations failed this run */

/* Where fuzz_alloc_bail() returns to during an armed run; NULL outside. */
static jmp_buf *af_jmp;

/*
 * Called by fuzz_abort(): when an allocation failed in this run, the
 * target's own checks no longer hold, so end the run here.
 */
void
fuzz_alloc_bail(void)
{
	if (af_jmp != NULL && af_failed != 0)
		longjmp(*af_jmp, 1);
}

/* See fuzz.h: did an allocation fail during this run? */
int
fuzz_alloc_failed(void)
{
	return af_armed && af_failed != 0;
}

/*
 * dlsym may allocate (calloc) before the real functions are known: those
 * few early requests come from a small static arena and are never freed.
 */
static int af_resolving;
static unsigned char af_boot[8192] __attribute__((aligned(16)));
static size_t af_boot_used;

static void *
af_boot_alloc(size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n > sizeof(af_boot) - af_boot_used)
		return NULL;
	p = af_boot + af_boot_used;
	af_boot_used += n;
	memset(p, 0, n);
	return p;
}

static int
af_resolve(void)
{
	void *m, *c, *r;

	if (af_real_malloc != NULL)
		return 0;
	if (af_resolving)
		return -1;
	af_resolving = 1;
	m = dlsym(RTLD_NEXT, "malloc");
	c = dlsym(RTLD_NEXT, "calloc");
	r = dlsym(RTLD_NEXT, "realloc");
	af_resolving = 0;
	if (m == NULL || c == NULL || r == NULL)
		abort();
	memcpy(&af_real_calloc, &c, sizeof(c));
	memcpy(&af_real_realloc, &r, sizeof(r));
	memcpy(&af_real_malloc, &m, sizeof(m));
	return 0;
}

/* Count one allocation; nonzero when it is the one to fail. */
static int
af_fail_now(void)
{
	if (!af_armed)
		return 0;
	af_count++;
	if (af_fail_at == 0 || af_count != af_fail_at)
		return 0;
	af_failed++;
	errno = ENOMEM;
	return 1;
}

void *
malloc(size_t n)
{
	if (af_resolve() != 0)
		return af_boot_alloc(n);
	if (af_fail_now())
		return NULL;
	return af_real_malloc(n);
}

void *
calloc(size_t nmemb, size_t size)
{
	if (af_resolve() != 0) {
		if (size != 0 && nmemb > SIZE_MAX / size)
			return NULL;
		return af_boot_alloc(nmemb * size);
	}
	if (af_fail_now())
		return NULL;
	return af_real_calloc(nmemb, size);
}

void *
realloc(void *p, size_t n)
{
	if (af_resolve() != 0)
		return NULL;
	/* realloc(p, 0) frees: not an allocation that can fail. */
	if ((p == NULL || n != 0) && af_fail_now())
		return NULL;
	return af_real_realloc(p, n);
}

void *
reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, nmemb * size);
}

char *
strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d;

	if ((d = malloc(n)) != NULL)
		memcpy(d, s, n);
	return d;
}

char *
strndup(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *d;

	if ((d = malloc(n + 1)) != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/*
 * Bytes held by the allocator, for the leak check: glibc's count in
 * ordinary builds, the sanitizer allocator's in ASan builds.  libcrypto's
 * per-thread state (the error queue and the data strings it keeps, the
 * thread's random generators) is released first: it grows as errors are
 * queued, which a failed allocation does, without leaking.
 */
static size_t
af_heap_in_use(void)
{
#ifdef __SANITIZE_ADDRESS__
	OPENSSL_thread_stop();
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi;

	OPENSSL_thread_stop();
	mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
#endif
}
