/*
 * Fuzz target for OpenSSH certificates: the input is parsed as a
 * certificate blob and as a certificate line.  A certificate that parses
 * (which needs a valid CA signature, so mutations mostly exercise the
 * error paths) must format back to the same blob and go through the
 * acceptance check for a user and a host without harm.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key-cert.h"
#include "ferry/key.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_cert(const struct key_cert *c)
{
	struct key_cert *c2 = NULL;
	struct buf *b;
	const char *why;
	char *s, *v = NULL;

	if ((b = buf_new()) == NULL)
		fuzz_abort();
	if (key_cert_format_line(c, b) != 0 || (s = buf_dup_string(b)) == NULL ||
	    key_cert_parse_line(s, &c2) != 0 || c2->bloblen != c->bloblen ||
	    memcmp(c2->blob, c->blob, c->bloblen) != 0)
		fuzz_abort();
	free(s);
	key_cert_free(c2);
	buf_free(b);
	const struct key *cas[1] = { c->ca };

	if (key_cert_check(c, KEY_CERT_USER, "alice", 1700000000, NULL, 0,
	    "192.0.2.1", &why) != 0 && why == NULL)
		fuzz_abort();
	if (key_cert_check(c, KEY_CERT_HOST, "a.example.com", 1700000000,
	    cas, 1, NULL, &why) != 0 && why == NULL)
		fuzz_abort();
	if (key_cert_option_string(c, "force-command", &v) == 0)
		free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct key_cert *c = NULL;
	char *s;

	if (key_cert_from_blob(data, size, &c) == 0) {
		fuzz_cert(c);
		key_cert_free(c);
	} else if (c != NULL)
		fuzz_abort();
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	c = NULL;
	if (key_cert_parse_line(s, &c) == 0) {
		fuzz_cert(c);
		key_cert_free(c);
	} else if (c != NULL)
		fuzz_abort();
	free(s);
	return 0;
}
