/*
 * ssh_config(5): construction, defaults, %-token expansion and the
 * `ssh -G` printer.  The printed order and value formats are those of
 * OpenSSH's ssh -G for the keywords Ferry supports.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshconf.h"
#include "ferry/transport.h"
#include "config-util.h"
#include "confprint.h"
#include "digest.h"
#include "sshconf-int.h"

_Static_assert(SSHCONF_UNSET == CONFPRINT_UNSET, "one unset number");

struct sshconf *
sshconf_new(void)
{
	struct sshconf *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->port = SSHCONF_UNSET;
	c->identities_only = SSHCONF_UNSET;
	c->strict_host_key_checking = SSHCONF_UNSET;
	c->hash_known_hosts = SSHCONF_UNSET;
	c->compression = SSHCONF_UNSET;
	c->connect_timeout = SSHCONF_UNSET;
	c->connection_attempts = SSHCONF_UNSET;
	c->server_alive_interval = SSHCONF_UNSET;
	c->server_alive_count_max = SSHCONF_UNSET;
	c->batch_mode = SSHCONF_UNSET;
	c->password_authentication = SSHCONF_UNSET;
	c->kbd_interactive_authentication = SSHCONF_UNSET;
	c->pubkey_authentication = SSHCONF_UNSET;
	c->log_level = SSHCONF_UNSET;
	c->rekey_limit = -1;
	c->rekey_interval = SSHCONF_UNSET;
	c->add_keys_to_agent = SSHCONF_UNSET;
	c->address_family = SSHCONF_UNSET;
	c->number_of_password_prompts = SSHCONF_UNSET;
	return c;
}

void
sshconf_free(struct sshconf *c)
{
	if (c == NULL)
		return;
	free(c->hostname);
	free(c->host_key_alias);
	free(c->user);
	config_strv_free(sshconf_strv(&c->identity_files));
	free(c->identity_agent);
	config_strv_free(sshconf_strv(&c->certificate_files));
	config_strv_free(sshconf_strv(&c->user_known_hosts_files));
	config_strv_free(sshconf_strv(&c->global_known_hosts_files));
	free(c->kex_algorithms);
	free(c->ciphers);
	free(c->macs);
	free(c->hostkey_algorithms);
	free(c->pubkey_accepted_algorithms);
	free(c->preferred_authentications);
	free(c->proxy_jump);
	free(c->proxy_command);
	config_strv_free(sshconf_strv(&c->send_env));
	config_strv_free(sshconf_strv(&c->set_env));
	free(c->bind_address);
	free(c->ignore_unknown);
	free(c->hostname_expanded);
	free(c);
}

int
sshconf_env_init(struct sshconf_env *env, const char *host)
{
	struct passwd *pw;

	memset(env, 0, sizeof(*env));
	if ((pw = getpwuid(getuid())) == NULL)
		return FERR_CONFIG;
	env->host = host;
	env->local_user = pw->pw_name;
	env->home = pw->pw_dir;
	env->uid = pw->pw_uid;
	return 0;
}

/* The local host name, full (%l) or up to the first dot (%L). */
static void
sshconf_local_host(const struct sshconf_env *env, char *full, size_t len,
    char *shrt)
{
	char *dot;

	if (env->local_host != NULL)
		snprintf(full, len, "%s", env->local_host);
	else if (gethostname(full, len) != 0)
		snprintf(full, len, "localhost");
	full[len - 1] = '\0';
	snprintf(shrt, len, "%s", full);
	if ((dot = strchr(shrt, '.')) != NULL)
		*dot = '\0';
}

/* Expand s with the tokens of ssh_config(5), all or the proxy subset. */
static int
sshconf_expand_tokens(const struct sshconf *c,
    const struct sshconf_env *env, const char *s, int proxy, char **outp)
{
	char lfull[256], lshort[256], port[16], uid[32];
	char hash[2 * 20 + 1], *hin = NULL;
	uint8_t d[DIGEST_MAX_BYTES];
	struct config_token t[13];
	size_t n = 0, i;
	int r;

	*outp = NULL;
	sshconf_local_host(env, lfull, sizeof(lfull), lshort);
	snprintf(port, sizeof(port), "%d", c->port);
	snprintf(uid, sizeof(uid), "%lu", (unsigned long)env->uid);
	if (asprintf(&hin, "%s%s%s%s", lfull, c->hostname, port,
	    c->user) < 0)
		return FERR_ALLOC;
	r = digest_memory(DIGEST_SHA1, hin, strlen(hin), d, sizeof(d));
	free(hin);
	if (r != 0)
		return r;
	for (i = 0; i < 20; i++)
		snprintf(hash + 2 * i, 3, "%02x", d[i]);
	t[n++] = (struct config_token){ 'h', c->hostname };
	t[n++] = (struct config_token){ 'n', env->host };
	t[n++] = (struct config_token){ 'p', port };
	t[n++] = (struct config_token){ 'r', c->user };
	if (!proxy) {
		t[n++] = (struct config_token){ 'C', hash };
		t[n++] = (struct config_token){ 'd', env->home };
		t[n++] = (struct config_token){ 'i', uid };
		t[n++] = (struct config_token){ 'k', c->host_key_alias !=
		    NULL ? c->host_key_alias : env->host };
		t[n++] = (struct config_token){ 'L', lshort };
		t[n++] = (struct config_token){ 'l', lfull };
		t[n++] = (struct config_token){ 'u', env->local_user };
	}
	return config_expand(s, t, n, outp);
}

int
sshconf_expand_path(const struct sshconf *c, const struct sshconf_env *env,
    const char *s, char **outp)
{
	char *t = NULL;
	int r;

	*outp = NULL;
	if ((r = config_tilde(s, env->home, &t)) != 0)
		return r;
	r = sshconf_expand_tokens(c, env, t, 0, outp);
	free(t);
	return r;
}

int
sshconf_expand_proxy(const struct sshconf *c, const struct sshconf_env *env,
    const char *s, char **outp)
{
	return sshconf_expand_tokens(c, env, s, 1, outp);
}

int
sshconf_fill_defaults(struct sshconf *c, const struct sshconf_env *env)
{
	static const char *const ids[] = {
		"~/.ssh/id_rsa", "~/.ssh/id_ecdsa", "~/.ssh/id_ed25519", NULL
	};
	static const char *const uknown[] = {
		"~/.ssh/known_hosts", "~/.ssh/known_hosts2", NULL
	};
	static const char *const gknown[] = {
		"/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2", NULL
	};
	struct config_token t[] = { { 'h', env->host } };
	char *s;
	size_t i;
	int r;

	if (c->hostname != NULL) {
		if ((r = config_expand(c->hostname, t, 1, &s)) != 0) {
			log_error("HostName %s: invalid %%-token",
			    c->hostname);
			return FERR_CONFIG;
		}
		free(c->hostname);
		c->hostname = config_lower(s);
	} else if ((c->hostname = strdup(env->host)) == NULL)
		return FERR_ALLOC;
	else
		config_lower(c->hostname);
	if (c->user == NULL && (c->user = strdup(env->local_user)) == NULL)
		return FERR_ALLOC;
	confprint_default_int(&c->port, 22);
	confprint_default_int(&c->identities_only, 0);
	confprint_default_int(&c->strict_host_key_checking, SSHCONF_STRICT_ASK);
	confprint_default_int(&c->hash_known_hosts, 0);
	confprint_default_int(&c->compression, 0);
	confprint_default_int(&c->connect_timeout, -1);
	confprint_default_int(&c->connection_attempts, 1);
	confprint_default_int(&c->server_alive_interval, 0);
	confprint_default_int(&c->server_alive_count_max, 3);
	confprint_default_int(&c->batch_mode, 0);
	confprint_default_int(&c->password_authentication, 1);
	confprint_default_int(&c->kbd_interactive_authentication, 1);
	confprint_default_int(&c->pubkey_authentication, SSHCONF_PUBKEY_ALL);
	confprint_default_int(&c->log_level, LOGL_INFO);
	if (c->rekey_limit == -1)
		c->rekey_limit = 0;
	confprint_default_int(&c->rekey_interval, 0);
	confprint_default_int(&c->add_keys_to_agent, 0);
	confprint_default_int(&c->address_family, AF_UNSPEC);
	confprint_default_int(&c->number_of_password_prompts, 3);
	if ((r = confprint_default_list(sshconf_strv(&c->identity_files),
	    ids)) != 0 ||
	    (r = confprint_default_list(
	    sshconf_strv(&c->user_known_hosts_files), uknown)) != 0 ||
	    (r = confprint_default_list(
	    sshconf_strv(&c->global_known_hosts_files), gknown)) != 0)
		return r;
	if ((r = confprint_default_algs(&c->kex_algorithms, "kex", 0,
	    "KexAlgorithms")) != 0 ||
	    (r = confprint_default_algs(&c->ciphers, "cipher", 0,
	    "Ciphers")) != 0 ||
	    (r = confprint_default_algs(&c->macs, "mac", 0, "MACs")) != 0 ||
	    (r = confprint_default_algs(&c->hostkey_algorithms, "key", 0,
	    "HostKeyAlgorithms")) != 0 ||
	    (r = confprint_default_algs(&c->pubkey_accepted_algorithms, "key",
	    0, "PubkeyAcceptedAlgorithms")) != 0)
		return r;
	/* As ssh does before it prints or connects. */
	for (i = 0; i < c->user_known_hosts_files.n; i++) {
		if ((r = sshconf_expand_path(c, env,
		    c->user_known_hosts_files.v[i], &s)) != 0) {
			log_error("UserKnownHostsFile %s: invalid %%-token",
			    c->user_known_hosts_files.v[i]);
			return r == FERR_ALLOC ? r : FERR_CONFIG;
		}
		free(c->user_known_hosts_files.v[i]);
		c->user_known_hosts_files.v[i] = s;
	}
	if (c->identity_agent != NULL &&
	    strcmp(c->identity_agent, "none") != 0 &&
	    strcmp(c->identity_agent, "SSH_AUTH_SOCK") != 0) {
		if ((r = sshconf_expand_path(c, env, c->identity_agent,
		    &s)) != 0) {
			log_error("IdentityAgent %s: invalid %%-token",
			    c->identity_agent);
			return r == FERR_ALLOC ? r : FERR_CONFIG;
		}
		free(c->identity_agent);
		c->identity_agent = s;
	}
	return 0;
}

static int
sshconf_put_str(struct buf *b, const char *kw, const char *v)
{
	if (v == NULL)
		return 0;
	return buf_putf(b, "%s %s\n", kw, v);
}

int
sshconf_dump(const struct sshconf *c, const struct sshconf_env *env,
    struct buf *b)
{
	int r;

	if ((r = buf_putf(b, "host %s\nuser %s\nhostname %s\nport %d\n",
	    env->host, c->user, c->hostname, c->port)) != 0 ||
	    (r = buf_putf(b, "addressfamily %s\n",
	    config_enum_name(sshconf_af_tab, c->address_family))) != 0 ||
	    (r = buf_putf(b, "batchmode %s\n",
	    confprint_yn(c->batch_mode))) != 0 ||
	    (r = buf_putf(b, "compression %s\n",
	    confprint_yn(c->compression))) != 0 ||
	    (r = buf_putf(b, "hashknownhosts %s\n",
	    confprint_yn(c->hash_known_hosts))) != 0 ||
	    (r = buf_putf(b, "identitiesonly %s\n",
	    confprint_yn(c->identities_only))) != 0 ||
	    (r = buf_putf(b, "kbdinteractiveauthentication %s\n",
	    confprint_yn(c->kbd_interactive_authentication))) != 0 ||
	    (r = buf_putf(b, "passwordauthentication %s\n",
	    confprint_yn(c->password_authentication))) != 0 ||
	    (r = buf_putf(b, "pubkeyauthentication %s\n",
	    config_enum_name(sshconf_pubkey_tab,
	    c->pubkey_authentication))) != 0 ||
	    (r = buf_putf(b, "stricthostkeychecking %s\n",
	    config_enum_name(sshconf_strict_tab,
	    c->strict_host_key_checking))) != 0 ||
	    (r = buf_putf(b, "connectionattempts %d\n",
	    c->connection_attempts)) != 0 ||
	    (r = buf_putf(b, "numberofpasswordprompts %d\n",
	    c->number_of_password_prompts)) != 0 ||
	    (r = buf_putf(b, "serveralivecountmax %d\n",
	    c->server_alive_count_max)) != 0 ||
	    (r = buf_putf(b, "serveraliveinterval %d\n",
	    c->server_alive_interval)) != 0)
		return r;
	/* String options, in OpenSSH's order. */
	if ((r = sshconf_put_str(b, "bindaddress", c->bind_address)) != 0 ||
	    (r = sshconf_put_str(b, "ciphers", c->ciphers)) != 0 ||
	    (r = sshconf_put_str(b, "hostkeyalgorithms",
	    c->hostkey_algorithms)) != 0 ||
	    (r = sshconf_put_str(b, "hostkeyalias", c->host_key_alias)) != 0 ||
	    (r = sshconf_put_str(b, "identityagent", c->identity_agent)) != 0 ||
	    (r = sshconf_put_str(b, "ignoreunknown", c->ignore_unknown)) != 0 ||
	    (r = sshconf_put_str(b, "kexalgorithms", c->kex_algorithms)) != 0 ||
	    (r = sshconf_put_str(b, "loglevel", config_enum_name(
	    sshconf_loglevel_tab, c->log_level))) != 0 ||
	    (r = sshconf_put_str(b, "macs", c->macs)) != 0 ||
	    (r = sshconf_put_str(b, "preferredauthentications",
	    c->preferred_authentications)) != 0 ||
	    (r = sshconf_put_str(b, "pubkeyacceptedalgorithms",
	    c->pubkey_accepted_algorithms)) != 0)
		return r;
	/* String arrays. */
	if ((r = confprint_lines(b, "identityfile",
	    sshconf_cstrv(&c->identity_files))) != 0 ||
	    (r = confprint_lines(b, "certificatefile",
	    sshconf_cstrv(&c->certificate_files))) != 0 ||
	    (c->global_known_hosts_files.n > 0 &&
	    (r = confprint_oneline(b, "globalknownhostsfile",
	    sshconf_cstrv(&c->global_known_hosts_files))) != 0) ||
	    (c->user_known_hosts_files.n > 0 &&
	    (r = confprint_oneline(b, "userknownhostsfile",
	    sshconf_cstrv(&c->user_known_hosts_files))) != 0) ||
	    (r = confprint_lines(b, "sendenv",
	    sshconf_cstrv(&c->send_env))) != 0 ||
	    (r = confprint_lines(b, "setenv",
	    sshconf_cstrv(&c->set_env))) != 0)
		return r;
	/* Special cases. */
	if ((r = buf_putf(b, "addkeystoagent %s\n",
	    c->add_keys_to_agent ? "true" : "false")) != 0)
		return r;
	if (c->connect_timeout < 0)
		r = buf_putf(b, "connecttimeout none\n");
	else
		r = buf_putf(b, "connecttimeout %d\n", c->connect_timeout);
	if (r != 0 || (r = buf_putf(b, "rekeylimit %lld %d\n",
	    c->rekey_limit, c->rekey_interval)) != 0)
		return r;
	if (c->proxy_jump != NULL && strcmp(c->proxy_jump, "none") != 0)
		r = sshconf_put_str(b, "proxyjump", c->proxy_jump);
	else if (c->proxy_command != NULL &&
	    strcmp(c->proxy_command, "none") != 0)
		r = sshconf_put_str(b, "proxycommand", c->proxy_command);
	return r;
}
