/*
 * Fuzz target for the client's destination parser and the ProxyJump
 * command built from a hop list: the input is split at its first NUL
 * into a destination (parsed with and without ports) and a jump spec.
 * Nothing may crash or leak; a successful parse has a non-empty host
 * that does not start with '-', and a port in 1..65535 or -1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/client.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fz_parse(const char *s, int allow_port)
{
	char *user, *host;
	int port;

	if (client_parse_destination(s, allow_port, &user, &host,
	    &port) == 0) {
		if (host == NULL || *host == '\0' || *host == '-' ||
		    port == 0 || port > 65535 || port < -1)
			fuzz_abort();
		free(user);
		free(host);
	} else if (user != NULL || host != NULL || port != -1)
		fuzz_abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *cmd;
	size_t len;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fz_parse(s, 0);
	fz_parse(s, 1);
	len = strlen(s);
	if (client_jump_command("fssh", NULL, len < size ? s + len + 1 : s,
	    "target", 22, &cmd) == 0) {
		if (cmd == NULL)
			fuzz_abort();
		free(cmd);
	} else if (cmd != NULL)
		fuzz_abort();
	free(s);
	return 0;
}
