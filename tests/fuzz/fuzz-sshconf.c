/*
 * Fuzz target for the ssh_config(5) reader: the input is a whole
 * configuration file, read for a fixed host, then completed with
 * defaults, printed as ssh -G does, and its paths expanded.  Inputs that
 * mention Include are skipped: they would read the machine's files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/sshconf.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_mentions_include(const uint8_t *data, size_t size)
{
	size_t i;

	for (i = 0; i + 7 <= size; i++)
		if (strncasecmp((const char *)data + i, "include", 7) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshconf_env env;
	struct sshconf *c;
	struct buf *b;
	char *s;
	size_t i;
	int r, wf = 0;

	if (fuzz_mentions_include(data, size))
		return 0;
	memset(&env, 0, sizeof(env));
	env.host = "Fuzz.Example";
	env.local_user = "fuzz";
	env.home = "/nonexistent";
	env.uid = 1000;
	env.local_host = "local.example";
	if ((c = sshconf_new()) == NULL || (b = buf_new()) == NULL)
		fuzz_abort();
	r = sshconf_read_string(c, &env, (const char *)data, size, "fuzz",
	    SSHCONF_USER, &wf);
	if (r == 0 && wf)
		r = sshconf_read_string(c, &env, (const char *)data, size,
		    "fuzz", SSHCONF_USER | SSHCONF_FINAL, NULL);
	if (r != 0 && r != FERR_CONFIG && !fuzz_nomem())
		fuzz_abort();
	if (r == 0 && sshconf_fill_defaults(c, &env) == 0) {
		if (c->port < 1 || c->port > 65535 || c->user == NULL ||
		    c->hostname == NULL || c->identity_files.n == 0)
			fuzz_abort();
		if (sshconf_dump(c, &env, b) != 0)
			fuzz_abort();
		for (i = 0; i < c->identity_files.n; i++) {
			if (sshconf_expand_path(c, &env,
			    c->identity_files.v[i], &s) == 0)
				free(s);
		}
		if (c->proxy_command != NULL &&
		    sshconf_expand_proxy(c, &env, c->proxy_command, &s) == 0)
			free(s);
	}
	buf_free(b);
	sshconf_free(c);
	return 0;
}
