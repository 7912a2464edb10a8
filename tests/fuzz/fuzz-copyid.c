/*
 * Fuzz target for fssh-copy-id's merge: the input is a remote
 * authorized_keys file (hostile server) merged with two fixed keys, and
 * also read as a public key file.  The new text must start with the
 * input unchanged and grow only by whole lines of added keys.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "copyid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_K1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2hbEMmTRm7ygx" \
	"kcvIBhFdpGkw4CDRvRMdwhcW c"
#define FUZZ_K2 "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAI" \
	"bmlzdHAyNTYAAABBBEJLs7Kuk6czbDdGMjwAZQOoN2aIkN1WcdYtUKvEAErFCz2N/Ww" \
	"junxNqNlWQmpF2ItNaDAW7uUKUIcqTI+c4nI="

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct copyid_key keys[2], file[8];
	struct copyid_plan plan;
	size_t n = 0, i;

	memset(keys, 0, sizeof(keys));
	memset(file, 0, sizeof(file));
	/* Only an allocation failure (the replay's -a mode) fails here. */
	if (copyid_key_parse(FUZZ_K1, &keys[0]) != 0 ||
	    copyid_key_parse(FUZZ_K2, &keys[1]) != 0) {
		copyid_key_clear(&keys[0]);
		copyid_key_clear(&keys[1]);
		return 0;
	}
	if (copyid_merge(data, size, keys, 2, 0, &plan) == 0) {
		if (plan.keep != size || buf_len(plan.text) < size ||
		    (size > 0 && memcmp(buf_ptr(plan.text), data, size) != 0))
			abort();
		if (plan.nadd == 0 && buf_len(plan.text) != size)
			abort();
		if (plan.nadd > 0 && buf_ptr(plan.text)[buf_len(plan.text) -
		    1] != '\n')
			abort();
		copyid_plan_clear(&plan);
	}
	if (copyid_keys_from_text(data, size, file, 8, &n, NULL) != 0 &&
	    n > 8)
		abort();
	for (i = 0; i < n; i++)
		copyid_key_clear(&file[i]);
	copyid_key_clear(&keys[0]);
	copyid_key_clear(&keys[1]);
	return 0;
}
