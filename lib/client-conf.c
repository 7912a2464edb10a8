/*
 * The configuration of one connection, resolved as ssh does it: the
 * command-line options first (the first value wins), then the user and
 * port of the destination, then -F FILE or the user's and the system's
 * files, then the defaults.  Shared by fssh, fsftp and fscp.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/client.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshconf.h"

/* Apply "Keyword value" with value quoted for the config tokeniser. */
static int
client_conf_set(struct sshconf *c, const struct sshconf_env *env,
    const char *keyword, const char *value)
{
	char *line;
	int r;

	if (strchr(value, '"') != NULL)
		return FERR_FORMAT;
	if (asprintf(&line, "%s \"%s\"", keyword, value) == -1)
		return FERR_ALLOC;
	r = sshconf_option(c, env, line);
	free(line);
	return r;
}

int
client_resolve_config(const struct client_resolve *rq,
    struct sshconf **confp, struct sshconf_env *env, char **hostp)
{
	struct sshconf *c = NULL;
	char *user = NULL, *host = NULL, portstr[16];
	size_t i;
	int port, r;

	*confp = NULL;
	*hostp = NULL;
	if ((r = client_parse_destination(rq->destination, rq->allow_port,
	    &user, &host, &port)) != 0)
		goto out;
	if ((c = sshconf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = sshconf_env_init(env, host)) != 0)
		goto out;
	for (i = 0; rq->options != NULL && rq->options[i] != NULL; i++)
		if ((r = sshconf_option(c, env, rq->options[i])) != 0)
			goto out;
	if (user != NULL && (r = client_conf_set(c, env, "User", user)) != 0)
		goto out;
	if (port != -1) {
		snprintf(portstr, sizeof(portstr), "%d", port);
		if ((r = client_conf_set(c, env, "Port", portstr)) != 0)
			goto out;
	}
	if (rq->config_file == NULL || strcmp(rq->config_file, "none") != 0) {
		if ((r = sshconf_load(c, env, rq->config_file)) != 0) {
			log_error("Can't read the configuration %s: %s",
			    rq->config_file != NULL ? rq->config_file :
			    "files", err_str(r));
			goto out;
		}
	}
	if ((r = sshconf_fill_defaults(c, env)) != 0)
		goto out;
	*confp = c;
	*hostp = host;
	c = NULL;
	host = NULL;
 out:
	sshconf_free(c);
	free(user);
	free(host);
	return r;
}
