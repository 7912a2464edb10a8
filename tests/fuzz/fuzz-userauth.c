/*
 * Fuzz target for the server side of user authentication: the input is
 * a sequence of messages (byte msg, uint16 length, payload) fed to a
 * fresh auth_server on a fresh transport, with policies that accept a
 * key, a password and a two-round keyboard-interactive conversation, so
 * every parser and state is reachable.  Nothing may crash or leak, and
 * after an error nothing more is accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/auth.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/transport.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fz_pubkey(const char *user, const struct key *key, void *ctx)
{
	(void)ctx;
	return user[0] == 'a' && key_get_type(key) == KEY_ED25519;
}

static int
fz_password(const char *user, const char *pw, void *ctx)
{
	(void)user;
	(void)ctx;
	return strcmp(pw, "pw") == 0;
}

static int
fz_kbdint(struct auth_kbdint *conv, const char *user, void *ctx)
{
	unsigned int round = auth_kbdint_round(conv);

	(void)user;
	(void)ctx;
	if (round > 0 && (auth_kbdint_nresponses(conv) != 1 ||
	    strcmp(auth_kbdint_response(conv, 0), "answer") != 0))
		return AUTH_KBDINT_FAILURE;
	if (round >= 2)
		return AUTH_KBDINT_SUCCESS;
	if (auth_kbdint_set_text(conv, "name", "instruction") != 0 ||
	    auth_kbdint_add_prompt(conv, "Code: ", 0) != 0)
		return -1;
	return AUTH_KBDINT_PROMPT;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transport_config tc;
	struct auth_server_config sc;
	struct transport *t = NULL;
	struct auth_server *a = NULL;
	struct buf *m;
	size_t off = 0, len;
	uint8_t msg;
	int r = 0;

	memset(&tc, 0, sizeof(tc));
	tc.server = 1;
	memset(&sc, 0, sizeof(sc));
	sc.pubkey_allowed = fz_pubkey;
	sc.password = fz_password;
	sc.kbdint = fz_kbdint;
	sc.banner = "banner";
	/* The first byte picks a chain configuration. */
	if (size > 0 && (data[0] & 1))
		sc.methods = "publickey,password password,keyboard-interactive";
	if (transport_new(&tc, &t) != 0 || auth_server_new(t, &sc, &a) != 0) {
		if (!fuzz_nomem())
			fuzz_abort();
		goto out;
	}
	if (size > 0)
		off = 1;
	while (size - off >= 3 && r >= 0) {
		msg = data[off];
		len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		if ((m = buf_from(data + off, len)) == NULL) {
			if (!fuzz_nomem())
				fuzz_abort();
			break;
		}
		r = auth_server_input(a, msg, m);
		buf_free(m);
		off += len;
		if (r == AUTH_SUCCESS && auth_server_user(a) == NULL)
			fuzz_abort();
	}
out:
	auth_server_free(a);
	transport_free(t);
	return 0;
}
