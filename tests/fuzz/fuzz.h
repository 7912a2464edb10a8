/*
 * Shared by the fuzz targets: fuzz_abort() stops on a broken invariant.
 *
 * In the replay programs' allocation-failure mode (alloc-fail.c) an
 * allocation made to fail may break what a target checks about a
 * successful parse, or leave the target itself without memory; then
 * fuzz_alloc_bail() (defined there) ends the run by returning to the
 * replay loop, which counts it and skips its leak check.  libFuzzer builds
 * do not define fuzz_alloc_bail: the weak reference reads as NULL and
 * fuzz_abort() aborts.
 */
#ifndef FERRY_FUZZ_H
#define FERRY_FUZZ_H

#include <stdlib.h>

void fuzz_alloc_bail(void) __attribute__((weak));
int fuzz_alloc_failed(void) __attribute__((weak));

/*
 * Nonzero when the allocation-failure mode made an allocation fail during
 * this run: an error return (FERR_ALLOC, or whatever the failure became)
 * is then what the target must accept.
 */
static inline int
fuzz_nomem(void)
{
	return fuzz_alloc_failed != NULL && fuzz_alloc_failed();
}

static inline void __attribute__((noreturn))
fuzz_abort(void)
{
	if (fuzz_alloc_bail != NULL)
		fuzz_alloc_bail();
	abort();
}

#endif /* FERRY_FUZZ_H */
