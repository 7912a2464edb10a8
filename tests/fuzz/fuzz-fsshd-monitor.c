/*
 * fsshd's monitor as a compromised pre-auth process sees it: sequences of
 * requests (byte type, string payload) in any order and state, with
 * malformed and hostile payloads.  The monitor serves the embedded
 * default's account with an authorized_keys file that does not exist,
 * so no request may ever lead to an accepted login.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/key.h"
#include "ferry/log.h"
#include "fsshd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fsshd_opts o;
	static struct key *hostkey;

	if (hostkey == NULL) {
		log_set_level(LOGL_QUIET);
		if (key_generate(KEY_ED25519, 0, &hostkey) != 0)
			abort();
		memset(&o, 0, sizeof(o));
		o.user = "fuzzuser";
		o.home = "/nonexistent";
		o.shell = "/bin/sh";
		o.authorized_keys = "/nonexistent/authorized_keys";
		o.uid = 65534;
		o.gid = 65534;
	}
	(void)fsshd_monitor_fuzz(&o, hostkey, data, size, NULL);
	return 0;
}
