/*
 * Fuzz target for the transport engine: the input is the byte stream a
 * peer sends, fed in pieces to a fresh engine that is polled after each
 * piece.  Built twice: as the server facing a client before
 * authentication (FUZZ_TRANSPORT_SERVER) and as the client facing a
 * server.  The first input byte chooses the piece size, so both whole and
 * fragmented deliveries are explored.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/key.h"
#include "ferry/transport.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct key *fuzz_hostkeys[2];

static void
fuzz_transport_init(void)
{
	if (fuzz_hostkeys[0] != NULL)
		return;
	/* ed25519 and a small RSA key keep each run fast. */
	if (key_generate(KEY_ED25519, 0, &fuzz_hostkeys[0]) != 0 ||
	    key_generate(KEY_ECDSA_P256, 0, &fuzz_hostkeys[1]) != 0)
		fuzz_abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transport_config cfg;
	struct transport_event ev;
	struct transport *t;
	size_t piece, off;
	int r = 0;

	if (size < 1)
		return 0;
	fuzz_transport_init();
	memset(&cfg, 0, sizeof(cfg));
#ifdef FUZZ_TRANSPORT_SERVER
	cfg.server = 1;
	cfg.hostkeys = fuzz_hostkeys;
	cfg.nhostkeys = 2;
#endif
	/* Every algorithm, legacy ones too, to reach all code. */
	cfg.kex_algorithms = "+diffie-hellman-group14-sha1,diffie-hellman-group1-sha1";
	cfg.hostkey_algorithms = "+ssh-rsa";
	cfg.macs = "+hmac-sha1,hmac-sha1-etm@openssh.com";
	cfg.compression = "none,zlib,zlib@openssh.com";
	/* The built-in groups: the same on every machine. */
	cfg.moduli_file = "/nonexistent/moduli";
	if (transport_new(&cfg, &t) != 0)
		return 0;
	piece = data[0] == 0 ? size : data[0];
	data++;
	size--;
	for (off = 0; off < size && r == 0; off += piece) {
		size_t n = size - off < piece ? size - off : piece;

		if (transport_input(t, data + off, n) != 0)
			break;
		while ((r = transport_poll(t, &ev)) == 0 &&
		    ev.type != TRANSPORT_EV_NONE)
			;
		/* Pretend the output was sent. */
		if (buf_consume(transport_output(t),
		    buf_len(transport_output(t))) != 0)
			break;
	}
	transport_free(t);
	return 0;
}
