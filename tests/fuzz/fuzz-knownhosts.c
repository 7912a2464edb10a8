/*
 * Fuzz target for known_hosts files: every line is parsed, every entry
 * is matched against a few host names (plain, [host]:port, and the
 * hosts field itself), and a parsed entry must be consistent: a hashed
 * entry has a "|1|" hosts field, a supported key has a type that names
 * it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/knownhosts.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_names[] = {
	"host1", "[host2]:2222", "a.foo.org", "10.0.0.1", "",
};

static int
fuzz_cb(const char *raw, unsigned long lineno,
    enum knownhosts_line_kind kind, const struct knownhosts_entry *ent,
    void *ctx)
{
	size_t i;
	int m;

	(void)raw;
	(void)lineno;
	(void)ctx;
	if ((kind == KNOWNHOSTS_LINE_ENTRY) != (ent != NULL))
		fuzz_abort();
	if (ent == NULL)
		return 0;
	if (ent->hashed != (strncmp(ent->hosts, "|1|", 3) == 0))
		fuzz_abort();
	if (ent->key != NULL && strcmp(ent->keytype,
	    key_type_name(key_get_type(ent->key))) != 0)
		fuzz_abort();
	for (i = 0; i < sizeof(fuzz_names) / sizeof(fuzz_names[0]); i++) {
		m = knownhosts_entry_matches(ent, fuzz_names[i]);
		if (m != 0 && m != 1)
			fuzz_abort();
	}
	if (!ent->hashed && strchr(ent->hosts, '!') == NULL &&
	    strchr(ent->hosts, ',') == NULL &&
	    knownhosts_entry_matches(ent, ent->hosts) != 1)
		fuzz_abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf *in;

	if ((in = buf_from(data, size)) == NULL)
		return 0;
	if (knownhosts_foreach_buf(in, fuzz_cb, NULL) != 0)
		fuzz_abort();
	buf_free(in);
	return 0;
}
