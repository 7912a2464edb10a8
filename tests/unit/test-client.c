/*
 * The client helpers: destinations ("user@host", "[v6]:port",
 * ssh:// URIs) with their negative cases, shell quoting, and the
 * ProxyJump command built from one or several hops.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/client.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshconf.h"
#include "tap.h"

struct dest_case {
	const char *in;
	int allow_port;
	int ret;
	const char *user, *host;
	int port;
};

static const struct dest_case dest_cases[] = {
	{ "host", 0, 0, NULL, "host", -1 },
	{ "alice@host", 0, 0, "alice", "host", -1 },
	{ "a@b@host", 0, 0, "a@b", "host", -1 },
	{ "host:22", 0, 0, NULL, "host:22", -1 },
	{ "host:2222", 1, 0, NULL, "host", 2222 },
	{ "u@host:2222", 1, 0, "u", "host", 2222 },
	{ "::1", 1, 0, NULL, "::1", -1 },
	{ "[::1]:23", 1, 0, NULL, "::1", 23 },
	{ "[::1]", 0, 0, NULL, "::1", -1 },
	{ "ssh://bob@example.org:2022", 0, 0, "bob", "example.org", 2022 },
	{ "ssh://example.org", 0, 0, NULL, "example.org", -1 },
	{ "ssh://[fe80::1]:7", 0, 0, NULL, "fe80::1", 7 },
	/* negative cases */
	{ "", 0, FERR_FORMAT, NULL, NULL, -1 },
	{ "@host", 0, FERR_FORMAT, NULL, NULL, -1 },
	{ "user@", 0, FERR_FORMAT, NULL, NULL, -1 },
	{ "-oProxyCommand=x", 0, FERR_FORMAT, NULL, NULL, -1 },
	{ "host:0", 1, FERR_FORMAT, NULL, NULL, -1 },
	{ "host:65536", 1, FERR_FORMAT, NULL, NULL, -1 },
	{ "host:x", 1, FERR_FORMAT, NULL, NULL, -1 },
	{ "[::1]:23", 0, FERR_FORMAT, NULL, NULL, -1 },
	{ "[::1", 0, FERR_FORMAT, NULL, NULL, -1 },
	{ "[]", 0, FERR_FORMAT, NULL, NULL, -1 },
	{ "[::1]x", 0, FERR_FORMAT, NULL, NULL, -1 },
	{ "ssh://host/path", 0, FERR_FORMAT, NULL, NULL, -1 },
	{ "ssh://", 0, FERR_FORMAT, NULL, NULL, -1 },
};

static int
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
test_destinations(void)
{
	const struct dest_case *c;
	char *user, *host;
	size_t i;
	int port, r;

	for (i = 0; i < sizeof(dest_cases) / sizeof(dest_cases[0]); i++) {
		c = &dest_cases[i];
		r = client_parse_destination(c->in, c->allow_port, &user,
		    &host, &port);
		is_int(r, c->ret, "parse \"%s\" (port %d): return", c->in,
		    c->allow_port);
		if (r == 0)
			ok(streq(user, c->user) && streq(host, c->host) &&
			    port == c->port, "parse \"%s\": %s@%s:%d", c->in,
			    user != NULL ? user : "-", host, port);
		else
			ok(user == NULL && host == NULL && port == -1,
			    "parse \"%s\": nothing returned", c->in);
		free(user);
		free(host);
	}
}

static void
test_quote(void)
{
	struct buf *b = buf_new();
	char *s;

	ok(client_shell_quote(b, "a b'c") == 0, "quote");
	s = buf_dup_string(b);
	ok(s != NULL && strcmp(s, "'a b'\\''c'") == 0, "quote: %s", s);
	free(s);
	buf_reset(b);
	ok(client_shell_quote(b, "") == 0, "quote empty");
	s = buf_dup_string(b);
	ok(s != NULL && strcmp(s, "''") == 0, "quote empty: %s", s);
	free(s);
	buf_free(b);
}

static void
test_jump(void)
{
	const char *args[] = { "-F", "/tmp/my config", "-v", NULL };
	char *cmd;

	ok(client_jump_command("/usr/bin/fssh", NULL, "jump", "target", 22,
	    &cmd) == 0, "jump: one hop");
	ok(cmd != NULL && strcmp(cmd, "'/usr/bin/fssh' '-W' '[target]:22' "
	    "'jump'") == 0, "jump: %s", cmd);
	free(cmd);
	ok(client_jump_command(NULL, args, "u@j:2200", "::1", 2022,
	    &cmd) == 0, "jump: user, port, args");
	ok(cmd != NULL && strcmp(cmd, "'fssh' '-F' '/tmp/my config' '-v' "
	    "'-l' 'u' '-p' '2200' '-W' '[::1]:2022' 'j'") == 0, "jump: %s",
	    cmd);
	free(cmd);
	ok(client_jump_command("fssh", NULL, "a,b@c:5,d", "t", 1,
	    &cmd) == 0, "jump: three hops");
	ok(cmd != NULL && strcmp(cmd, "'fssh' '-J' 'a,b@c:5' '-W' '[t]:1' "
	    "'d'") == 0, "jump: %s", cmd);
	free(cmd);
	is_int(client_jump_command("fssh", NULL, "a,", "t", 1, &cmd),
	    FERR_FORMAT, "jump: empty last hop refused");
	ok(cmd == NULL, "jump: no command on error");
	is_int(client_jump_command("fssh", NULL, "-oProxyCommand=x", "t", 1,
	    &cmd), FERR_FORMAT, "jump: option-like host refused");
	is_int(client_jump_command("fssh", NULL, "h:99999", "t", 1, &cmd),
	    FERR_FORMAT, "jump: bad port refused");
}

/* Resolve dest with options and file; check user and port. */
static void
resolve(const char *name, const char *dest, const char *file,
    const char *const *options, int want_r, const char *want_user,
    int want_port)
{
	struct client_resolve rq;
	struct sshconf *c;
	struct sshconf_env env;
	char *host;
	int r;

	memset(&rq, 0, sizeof(rq));
	rq.destination = dest;
	rq.config_file = file;
	rq.options = options;
	r = client_resolve_config(&rq, &c, &env, &host);
	is_int(r, want_r, "%s: return", name);
	if (r != 0) {
		ok(c == NULL && host == NULL, "%s: nothing returned", name);
		return;
	}
	/* want_user NULL: the local user's name, whatever it is. */
	ok((want_user == NULL || strcmp(c->user, want_user) == 0) &&
	    c->port == want_port &&
	    strcmp(c->hostname, "h") == 0 && strcmp(env.host, "h") == 0,
	    "%s: %s port %d", name, c->user, c->port);
	sshconf_free(c);
	free(host);
}

static void
test_resolve(void)
{
	const char *port_opt[] = { "Port 2022", NULL };
	const char *user_opt[] = { "User bob", NULL };
	const char *one_opt[] = { "Port 1", NULL };
	const char *bad_opt[] = { "NoSuchKeyword x", NULL };
	const char *host_opt[] = { "Host x", NULL };
	char path[] = "/tmp/test-client-XXXXXX";
	const char *text = "Host h\n  Port 7\n  User cfg\nHost *\n  Port 8\n";
	int fd;

	resolve("user@host and -o Port", "alice@h", "none", port_opt, 0,
	    "alice", 2022);
	resolve("-o User wins over user@", "alice@h", "none", user_opt, 0,
	    "bob", 22);
	resolve("-o Port wins over the URI's", "ssh://carol@h:2200", "none",
	    one_opt, 0, "carol", 1);
	resolve("URI port", "ssh://h:2200", "none", NULL, 0, NULL, 2200);
	resolve("host:port with allow_port 0 is a host", "h", "none", NULL, 0,
	    NULL, 22);
	resolve("empty destination", "", "none", NULL, FERR_FORMAT, NULL, 0);
	resolve("quote in the user", "a\"b@h", "none", NULL, FERR_FORMAT,
	    NULL, 0);
	resolve("unknown option", "h", "none", bad_opt, FERR_CONFIG, NULL, 0);
	resolve("Host on the command line", "h", "none", host_opt,
	    FERR_CONFIG, NULL, 0);
	if ((fd = mkstemp(path)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		tap_skip("cannot write a temporary config file");
		return;
	}
	close(fd);
	resolve("config file", "h", path, NULL, 0, "cfg", 7);
	resolve("options win over the file", "h", path, port_opt, 0, "cfg",
	    2022);
	resolve("user@ wins over the file", "u@h", path, NULL, 0, "u", 7);
	unlink(path);
	resolve("missing -F file", "h", path, NULL, FERR_SYSTEM, NULL, 0);
}

int
main(void)
{
	test_destinations();
	test_quote();
	test_jump();
	log_set_level(LOGL_QUIET);
	test_resolve();
	return tap_done();
}
