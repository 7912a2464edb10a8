/*
 * Fuzz target for fsshd's text parsers outside lib/: the lines of
 * ~/.ssh/environment (fsshd_env_parse_text, under PermitUserEnvironment
 * yes and under a pattern list) and ListenAddress values
 * (fsshd_listen_parse, on the input's first line).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "fsshd-auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sshdconf *fuzz_yes, *fuzz_pat;

static struct sshdconf *
fuzz_conf(const char *text)
{
	struct sshdconf *c = NULL;

	if (sshdconf_load_string(text, strlen(text), "fuzz", NULL, 0, &c) != 0)
		abort();
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **v = NULL, spec[512], host[64];
	size_t i, n;
	int port;

	if (fuzz_yes == NULL) {
		log_set_level(LOGL_QUIET);
		fuzz_yes = fuzz_conf("PermitUserEnvironment yes\n");
		fuzz_pat = fuzz_conf("PermitUserEnvironment LC_*,FOO?,BAR\n");
	}
	if (fsshd_env_parse_text(fuzz_yes, "fuzz", (const char *)data, size,
	    &v) == 0) {
		/* Every result is NAME=value with a non-empty name. */
		for (i = 0; v[i] != NULL; i++)
			if (v[i][0] == '=' || strchr(v[i], '=') == NULL)
				abort();
		fsshd_env_strv_free(v);
	}
	if (fsshd_env_parse_text(fuzz_pat, "fuzz", (const char *)data, size,
	    &v) == 0)
		fsshd_env_strv_free(v);
	for (n = 0; n < size && n < sizeof(spec) - 1 && data[n] != '\n' &&
	    data[n] != '\0'; n++)
		spec[n] = (char)data[n];
	spec[n] = '\0';
	if (fsshd_listen_parse(spec, host, sizeof(host), &port) == 0 &&
	    (host[0] == '\0' || port == 0 || port > 65535))
		abort();
	return 0;
}
