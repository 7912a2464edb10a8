/*
 * Fuzz target for authorized_keys files: every line is parsed and the
 * whole text is checked for a fixed key from a few clients.  A parsed
 * line must hold a key and options; a decision that allows must carry
 * options, one that refuses must not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/authkeys.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2hbEMmTRm7yg" \
	"xkcvIBhFdpGkw4CDRvRMdwhcW"

static const struct authkeys_client fuzz_clients[] = {
	{ "192.0.2.1", NULL, 1700000000 },
	{ "2001:db8::1", "host.example.com", 1900000000 },
};

static void
fuzz_lines(const uint8_t *data, size_t size)
{
	struct authkeys_entry *e;
	const char *errstr;
	char *s, *line, *next;

	if ((s = malloc(size + 1)) == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	for (line = s; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (authkeys_parse_line(line, &e, &errstr) != 0) {
			if (e != NULL || errstr == NULL)
				fuzz_abort();
			continue;
		}
		if (e != NULL && (e->key == NULL || e->opts == NULL))
			fuzz_abort();
		if (e != NULL && e->opts->from != NULL)
			(void)authkeys_match_from(e->opts->from, "10.1.2.3",
			    "h.example");
		authkeys_entry_free(e);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct key *k;
	struct authkeys_decision d;
	struct buf *in;
	size_t i;

	if (k == NULL && key_parse_public_line(FUZZ_KEY, &k) != 0)
		fuzz_abort();
	fuzz_lines(data, size);
	if ((in = buf_from(data, size)) == NULL)
		return 0;
	for (i = 0; i < sizeof(fuzz_clients) / sizeof(fuzz_clients[0]); i++) {
		if (authkeys_check_buf(in, "fuzz", k, &fuzz_clients[i],
		    &d) != 0 && d.allowed)
			fuzz_abort();
		if (d.allowed != (d.opts != NULL))
			fuzz_abort();
		authkeys_decision_clear(&d);
	}
	buf_free(in);
	return 0;
}
