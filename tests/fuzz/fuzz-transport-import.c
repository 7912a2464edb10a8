/*
 * Fuzz target for transport_import: the input is a state blob, as the
 * less trusted pre-authentication process would hand it over.  It is
 * imported as a server and as a client; an import that succeeds is
 * polled (the blob's buffered input goes through the packet layer) and,
 * for the server, exported again, which must give back the very same
 * bytes: the format is canonical, so anything import accepts is exactly
 * what export would have written.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_import_one(const uint8_t *data, size_t size, int server)
{
	struct transport_config cfg;
	struct transport_event ev;
	struct transport *t = NULL;
	struct buf *out;
	int i, r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.server = server;
	if (transport_import(&cfg, data, size, &t) != 0) {
		if (t != NULL)
			abort();	/* failure leaves nothing behind */
		return;
	}
	for (i = 0; i < 16 && transport_poll(t, &ev) == 0 &&
	    ev.type != TRANSPORT_EV_NONE; i++)
		;
	transport_free(t);
	if (!server)
		return;
	/*
	 * Import again, untouched, and export: byte for byte the input.
	 * It imported once, so only an allocation (failed on purpose by
	 * the replay's -a mode) can make either step fail.
	 */
	if ((r = transport_import(&cfg, data, size, &t)) != 0) {
		if (r != FERR_ALLOC && r != FERR_LIBCRYPTO)
			abort();
		return;
	}
	if ((out = buf_new()) == NULL) {
		transport_free(t);
		return;
	}
	r = transport_export(t, out);
	if ((r != 0 && r != FERR_ALLOC && r != FERR_LIBCRYPTO) ||
	    (r == 0 && (buf_len(out) != size ||
	    memcmp(buf_ptr(out), data, size) != 0)))
		abort();
	buf_free(out);
	transport_free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import_one(data, size, 1);
	fuzz_import_one(data, size, 0);
	return 0;
}
