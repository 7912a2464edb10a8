/*
 * Unit tests for the ssh_config(5) reader: a table of configuration
 * texts and the values they resolve to, the tokeniser, Host and Match,
 * Include, errors with file and line, defaults, %-tokens and the
 * `ssh -G` printer.
 */
#include "config.h"

#include <sys/stat.h>

#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshconf.h"
#include "config-util.h"
#include "tap.h"

static char logbuf[8192];

static void
capture(enum log_level level, const char *msg, void *ctx)
{
	size_t len = strlen(logbuf);

	(void)level;
	(void)ctx;
	snprintf(logbuf + len, sizeof(logbuf) - len, "%s\n", msg);
}

static struct sshconf_env env;
static char tmpdir[] = "/tmp/ferry-sshconf-XXXXXX";

/* Parse text for host; the dump (after defaults) goes to out. */
static int parse_flags;		/* sshconf_read_string's flags */

static int
parse(const char *text, const char *host, struct sshconf **cp, char *out,
    size_t outlen)
{
	struct sshconf *c;
	struct buf *b;
	int r, wf = 0;

	logbuf[0] = '\0';
	env.host = host;
	if ((c = sshconf_new()) == NULL || (b = buf_new()) == NULL)
		return FERR_ALLOC;
	r = sshconf_read_string(c, &env, text, strlen(text), "T", parse_flags,
	    &wf);
	if (r == 0)
		r = sshconf_fill_defaults(c, &env);
	if (r == 0 && out != NULL) {
		r = sshconf_dump(c, &env, b);
		if (r == 0 && buf_len(b) < outlen) {
			memcpy(out, buf_ptr(b), buf_len(b));
			out[buf_len(b)] = '\0';
		}
	}
	buf_free(b);
	if (cp != NULL)
		*cp = c;
	else
		sshconf_free(c);
	return r;
}

/* Configuration text, host, and a line the dump must contain. */
static const struct {
	const char *text, *host, *want;
} table[] = {
	{ "Port 1\nPort 2\n", "h", "port 1\n" },
	{ "Port=2200\n", "h", "port 2200\n" },
	{ "Port = 2201 # comment\n", "h", "port 2201\n" },
	{ "  port\t2202\n", "h", "port 2202\n" },
	{ "PORT 2203\n", "h", "port 2203\n" },
	{ "Host a\nPort 1\nHost *\nPort 2\n", "a", "port 1\n" },
	{ "Host a\nPort 1\nHost *\nPort 2\n", "b", "port 2\n" },
	{ "Host * !b\nPort 1\nHost *\nPort 2\n", "b", "port 2\n" },
	{ "Host x? y\nPort 7\n", "x1", "port 7\n" },
	{ "Host x? y\nPort 7\n", "x12", "port 22\n" },
	{ "Host A\nPort 9\n", "a", "port 22\n" },
	{ "Host A\nPort 9\n", "A", "port 9\n" },
	{ "Host a\nPort 9\n", "A", "port 22\n" },
	{ "User \"a b\"\n", "h", "user a b\n" },
	{ "User 'q\"x'\n", "h", "user q\"x\n" },
	{ "User a\\ b\n", "h", "user a b\n" },
	{ "HostName %h.example.org\n", "web", "hostname web.example.org\n" },
	{ "HostName 100%%\n", "h", "hostname 100%\n" },
	{ "HostName Mixed.Case\n", "h", "hostname mixed.case\n" },
	{ "IdentityFile /a\nIdentityFile /b\nIdentityFile /a\n", "h",
	    "identityfile /a\nidentityfile /b\nglobalknownhostsfile" },
	{ "IdentityFile /a\nHost other\nIdentityFile /b\n", "h",
	    "identityfile /a\nglobalknownhostsfile" },
	{ "", "h", "identityfile ~/.ssh/id_rsa\nidentityfile ~/.ssh/id_ecdsa\n"
	    "identityfile ~/.ssh/id_ed25519\n" },
	{ "CertificateFile /c1\nCertificateFile /c2\n", "h",
	    "certificatefile /c1\ncertificatefile /c2\n" },
	{ "UserKnownHostsFile /k1 /k2\nUserKnownHostsFile /k3\n", "h",
	    "userknownhostsfile /k1 /k2\n" },
	{ "UserKnownHostsFile /k/%h-%p\nPort 3\n", "h",
	    "userknownhostsfile /k/h-3\n" },
	{ "GlobalKnownHostsFile /g\n", "h", "globalknownhostsfile /g\n" },
	{ "StrictHostKeyChecking accept-new\n", "h",
	    "stricthostkeychecking accept-new\n" },
	{ "StrictHostKeyChecking off\n", "h", "stricthostkeychecking false\n" },
	{ "StrictHostKeyChecking yes\n", "h", "stricthostkeychecking true\n" },
	{ "", "h", "stricthostkeychecking ask\n" },
	{ "PubkeyAuthentication no\n", "h", "pubkeyauthentication false\n" },
	{ "PubkeyAuthentication host-bound\n", "h",
	    "pubkeyauthentication host-bound\n" },
	{ "ChallengeResponseAuthentication no\n", "h",
	    "kbdinteractiveauthentication no\n" },
	{ "KbdInteractiveAuthentication no\n"
	    "ChallengeResponseAuthentication yes\n", "h",
	    "kbdinteractiveauthentication no\n" },
	{ "Compression yes\n", "h", "compression yes\n" },
	{ "BatchMode true\n", "h", "batchmode yes\n" },
	{ "ConnectTimeout 1m30s\n", "h", "connecttimeout 90\n" },
	{ "ConnectTimeout none\nConnectTimeout 5\n", "h",
	    "connecttimeout none\n" },
	{ "ServerAliveInterval 1h\n", "h", "serveraliveinterval 3600\n" },
	{ "ServerAliveCountMax 0\n", "h", "serveralivecountmax 0\n" },
	{ "ConnectionAttempts 4\n", "h", "connectionattempts 4\n" },
	{ "NumberOfPasswordPrompts 1\n", "h", "numberofpasswordprompts 1\n" },
	{ "LogLevel debug\n", "h", "loglevel DEBUG\n" },
	{ "LogLevel DEBUG3\n", "h", "loglevel DEBUG3\n" },
	{ "RekeyLimit 1K\n", "h", "rekeylimit 1024 0\n" },
	{ "RekeyLimit 1.5M 1h\n", "h", "rekeylimit 1572864 3600\n" },
	{ "RekeyLimit default none\n", "h", "rekeylimit 0 0\n" },
	{ "SendEnv LANG LC_*\nSendEnv -LC_* X\n", "h",
	    "sendenv LANG\nsendenv X\n" },
	{ "SetEnv A=1 B=2 A=3\nSetEnv C=4\n", "h",
	    "setenv A=1\nsetenv B=2\naddkeys" },
	{ "ProxyJump u@j:2,k\nProxyCommand nc %h %p\n", "h",
	    "proxyjump u@j:2,k\n" },
	{ "ProxyCommand nc  %h %p\nProxyJump j\n", "h",
	    "proxycommand nc  %h %p\n" },
	{ "ProxyJump ssh://u@j:23\n", "h", "proxyjump u@j:23\n" },
	{ "ProxyJump none\nProxyJump j\n", "h", "rekeylimit 0 0\n" },
	{ "AddKeysToAgent yes\n", "h", "addkeystoagent false\n" },
	{ "AddressFamily inet6\n", "h", "addressfamily inet6\n" },
	{ "BindAddress 127.0.0.1\n", "h", "bindaddress 127.0.0.1\n" },
	{ "HostKeyAlias other\n", "h", "hostkeyalias other\n" },
	{ "PreferredAuthentications publickey\n", "h",
	    "preferredauthentications publickey\n" },
	{ "IdentityAgent none\n", "h", "identityagent none\n" },
	{ "IgnoreUnknown Foo*\nFooBar 1\n", "h", "ignoreunknown Foo*\n" },
	{ "Ciphers aes128-ctr\n", "h", "ciphers aes128-ctr\n" },
	{ "MACs hmac-sha2-256\n", "h", "macs hmac-sha2-256\n" },
	{ "KexAlgorithms curve25519-sha256\n", "h",
	    "kexalgorithms curve25519-sha256\n" },
	{ "HostKeyAlgorithms ssh-ed25519\n", "h",
	    "hostkeyalgorithms ssh-ed25519\n" },
	{ "PubkeyAcceptedKeyTypes ssh-ed25519\n", "h",
	    "pubkeyacceptedalgorithms ssh-ed25519\n" },
	{ "Ciphers ^aes256-ctr\n", "h", "ciphers aes256-ctr," },
	{ "ForwardAgent no\nControlMaster no\nPort 5\n", "h", "port 5\n" },
	{ "Match all\nPort 3\n", "h", "port 3\n" },
	{ "Match !all\nPort 3\n", "h", "port 22\n" },
	{ "Match host h*\nPort 3\n", "hq", "port 3\n" },
	{ "HostName real\nMatch host real\nPort 3\n", "alias", "port 3\n" },
	{ "HostName real\nMatch originalhost alias\nPort 3\n", "alias",
	    "port 3\n" },
	{ "User bob\nMatch user bob\nPort 3\n", "h", "port 3\n" },
	{ "Match user bob\nPort 3\n", "h", "port 22\n" },
	{ "Match !user bob\nPort 3\n", "h", "port 3\n" },
	{ "Match host a,!b*,c* user *\nPort 3\n", "cc", "port 3\n" },
	{ "Match host a,!b*,c*\nPort 3\n", "bc", "port 22\n" },
	{ "Match canonical\nPort 3\n", "h", "port 22\n" },
	{ "Match final all\nPort 3\n", "h", "port 22\n" },
};

/* A one-line form of s for test names. */
static const char *
oneline(const char *s)
{
	static char buf[2][256];
	static int k;
	size_t i;

	k = !k;
	for (i = 0; *s != '\0' && i < sizeof(buf[k]) - 2; s++) {
		if (*s == '\n') {
			buf[k][i++] = '\\';
			buf[k][i++] = 'n';
		} else
			buf[k][i++] = *s;
	}
	buf[k][i] = '\0';
	return buf[k];
}

static void
test_table(void)
{
	char out[16384];
	size_t i;
	int r;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		out[0] = '\0';
		r = parse(table[i].text, table[i].host, NULL, out, sizeof(out));
		ok(r == 0 && strstr(out, table[i].want) != NULL,
		    "table %zu: %s -> %s", i, oneline(table[i].text),
		    oneline(table[i].want));
	}
}

/* Texts that must be refused, and the message they must log. */
static const struct {
	const char *text, *msg;
} errors[] = {
	{ "NoSuchKeyword 1\n", "T line 1: Bad configuration option: "
	    "nosuchkeyword" },
	{ "Port 1\n\nFooBar 1\nIgnoreUnknown Foo*\n", "T line 3: Bad "
	    "configuration option: foobar" },
	{ "Port\n", "T line 1: no argument after keyword \"port\"" },
	{ "Port 22 23\n", "T line 1: keyword port extra arguments" },
	{ "Port 0\n", "T line 1: port value 0 is too small" },
	{ "Port 65536\n", "too large" },
	{ "Port x\n", "invalid" },
	{ "User \"open\n", "T line 1: invalid quotes" },
	{ "Compression maybe\n", "unsupported option \"maybe\"" },
	{ "StrictHostKeyChecking sometimes\n", "unsupported option" },
	{ "ConnectTimeout 5x\n", "invalid time value \"5x\"" },
	{ "RekeyLimit 10\n", "RekeyLimit too small" },
	{ "RekeyLimit 1Q\n", "Bad RekeyLimit" },
	{ "RekeyLimit 1G 1y\n", "invalid time value" },
	{ "Ciphers aes128-ctr,nope\n", "Bad SSH2 algorithm list" },
	{ "KexAlgorithms +nope\n", "Bad SSH2 algorithm list" },
	{ "LogLevel LOUD\n", "unsupported log level" },
	{ "SetEnv NOEQUALS\n", "Invalid SetEnv" },
	{ "SendEnv A=B\n", "Invalid environment name" },
	{ "ProxyJump u@\n", "Invalid ProxyJump" },
	{ "ProxyJump h:99999\n", "Invalid ProxyJump" },
	{ "Match\n", "no argument after keyword" },
	{ "Match exec \"true\"\n", "Match exec is not supported by Ferry" },
	{ "Match localnetwork 10.0.0.0/8\n", "Unsupported Match attribute "
	    "localnetwork" },
	{ "Match host\n", "Missing Match criteria for host" },
	{ "Match all host x\n", "'all' cannot be combined" },
	{ "Match host x all\n", "'all' cannot be combined" },
	{ "Host a\nPort 1 2\n", "T line 2:" },
	{ "AddKeysToAgent sometimes\n", "unsupported option" },
	{ "Include ~/x\n", "bad include path" },
};

static void
test_errors(void)
{
	size_t i;
	int r;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		r = parse(errors[i].text, "h", NULL, NULL, 0);
		ok(r == FERR_CONFIG && strstr(logbuf, errors[i].msg) != NULL,
		    "error %zu: %s -> %s", i, oneline(errors[i].text),
		    errors[i].msg);
		if (strstr(logbuf, errors[i].msg) == NULL)
			tap_diag("logged: %s", logbuf);
	}
	/* Every bad line is reported, not only the first. */
	r = parse("Port x\nFoo 1\nCompression 2\n", "h", NULL, NULL, 0);
	ok(r == FERR_CONFIG && strstr(logbuf, "line 1") != NULL &&
	    strstr(logbuf, "line 2") != NULL &&
	    strstr(logbuf, "line 3") != NULL, "every error is logged");
	/* Lines of blocks that do not apply are still checked. */
	r = parse("Host other\nPort x\n", "h", NULL, NULL, 0);
	is_int(r, FERR_CONFIG, "errors in inactive blocks are reported");
	r = parse("Port 1\0Port 2\n", "h", NULL, NULL, 0);
	is_int(r, 0, "text ends at a NUL given by strlen");
}

static void
test_values(void)
{
	struct sshconf *c;
	int r;

	r = parse("Host x\n  StrictHostKeyChecking accept-new\n"
	    "Host *\n  StrictHostKeyChecking no\n  AddressFamily inet\n"
	    "  IdentitiesOnly yes\n  ProxyCommand ssh -W %h:%p gw\n",
	    "x", &c, NULL, 0);
	ok(r == 0 && c->strict_host_key_checking == SSHCONF_STRICT_NEW &&
	    c->address_family == AF_INET && c->identities_only == 1 &&
	    strcmp(c->proxy_command, "ssh -W %h:%p gw") == 0,
	    "fields hold resolved values");
	sshconf_free(c);

	r = parse("", "Host.Example", &c, NULL, 0);
	ok(r == 0 && c->port == 22 && strcmp(c->user, env.local_user) == 0 &&
	    strcmp(c->hostname, "host.example") == 0 &&
	    c->identity_files.n == 3 && c->user_known_hosts_files.n == 2 &&
	    c->global_known_hosts_files.n == 2 && c->connect_timeout == -1 &&
	    c->server_alive_count_max == 3 &&
	    c->number_of_password_prompts == 3 &&
	    c->log_level == LOGL_INFO && c->ciphers != NULL &&
	    c->ciphers[0] != '+', "defaults");
	sshconf_free(c);

	logbuf[0] = '\0';
	r = parse("ForwardAgent no\nControlMaster no\n", "h", NULL, NULL, 0);
	ok(r == 0 && logbuf[0] == '\0', "ignored keywords with neutral values "
	    "are silent");
	log_set_level(LOGL_INFO);
	parse_flags = SSHCONF_USER;
	r = parse("ForwardAgent yes\nLocalForward 1 h:2\n", "h", NULL, NULL,
	    0);
	parse_flags = 0;
	ok(r == 0 && strstr(logbuf, "T line 1: forwardagent is not supported")
	    != NULL && strstr(logbuf, "T line 2: localforward") != NULL,
	    "ignored keywords with other values are reported (user file)");
	r = parse("GSSAPIAuthentication yes\n", "h", NULL, NULL, 0);
	ok(r == 0 && logbuf[0] == '\0', "in the system file only with -v");
	log_set_level(LOGL_VERBOSE);
	r = parse("GSSAPIAuthentication yes\n", "h", NULL, NULL, 0);
	log_set_level(LOGL_INFO);
	ok(r == 0 && strstr(logbuf, "gssapiauthentication is not supported")
	    != NULL, "and said at VERBOSE");
	r = parse("UseRoaming no\n", "h", NULL, NULL, 0);
	ok(r == 0 && strstr(logbuf, "Deprecated option") != NULL,
	    "deprecated keywords are logged, not fatal");
}

static void
test_tokens(void)
{
	struct sshconf *c;
	char *s = NULL, want[512], home[256];
	int r;

	env.local_host = "box.example.net";
	r = parse("HostName real.example\nPort 2022\nUser rem\n", "alias", &c,
	    NULL, 0);
	ok(r == 0, "parse for tokens");
	snprintf(home, sizeof(home), "%s", env.home);
	r = sshconf_expand_path(c, &env, "~/%h/%p/%r/%u/%n/%l/%L/%i/%%/%k",
	    &s);
	snprintf(want, sizeof(want), "%s/real.example/2022/rem/%s/alias/"
	    "box.example.net/box/%u/%%/alias", strcmp(home, "/") == 0 ? "" :
	    home, env.local_user, (unsigned int)env.uid);
	ok(r == 0 && strcmp(s, want) == 0, "path tokens: %s", s);
	free(s);
	r = sshconf_expand_path(c, &env, "%d", &s);
	ok(r == 0 && strcmp(s, env.home) == 0, "%%d is the home directory");
	free(s);
	/* %C: SHA-1 of %l%h%p%r, as OpenSSH computes it. */
	r = sshconf_expand_path(c, &env, "%C", &s);
	ok(r == 0 && s != NULL && strlen(s) == 40, "%%C is a 40-digit hash");
	free(s);
	r = sshconf_expand_path(c, &env, "%z", &s);
	is_int(r, FERR_CONFIG, "unknown token is refused");
	r = sshconf_expand_path(c, &env, "trailing%", &s);
	is_int(r, FERR_CONFIG, "truncated token is refused");
	r = sshconf_expand_proxy(c, &env, "nc %h %p %r %n %%", &s);
	ok(r == 0 && strcmp(s, "nc real.example 2022 rem alias %") == 0,
	    "proxy tokens");
	free(s);
	r = sshconf_expand_proxy(c, &env, "%d", &s);
	is_int(r, FERR_CONFIG, "%%d is not a ProxyCommand token");
	sshconf_free(c);
	env.local_host = NULL;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void
test_files(void)
{
	struct sshconf *c;
	struct sshconf_env e = env;
	char p[512], p2[512], text[1024];
	int r, wf = 0;

	snprintf(p, sizeof(p), "%s/ssh", tmpdir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/ssh/conf.d", tmpdir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/ssh/conf.d/1.conf", tmpdir);
	write_file(p, "Host inc\n  Port 1001\nUser incuser\n", 0600);
	snprintf(p, sizeof(p), "%s/ssh/conf.d/2.conf", tmpdir);
	write_file(p, "Port 1002\nHostKeyAlias two\n", 0600);
	snprintf(p, sizeof(p), "%s/ssh/config", tmpdir);
	write_file(p, "Include conf.d/*.conf\nHost *\n  User after\n"
	    "  Compression yes\n", 0600);
	snprintf(p2, sizeof(p2), "%s/ssh", tmpdir);
	e.user_dir = p2;
	e.host = "inc";

	/* Relative Include from the user directory, blocks end per file. */
	c = sshconf_new();
	r = sshconf_read_file(c, &e, p, SSHCONF_USER, &wf);
	ok(r == 0 && c->port == 1001 && strcmp(c->user, "incuser") == 0 &&
	    strcmp(c->host_key_alias, "two") == 0 && c->compression == 1,
	    "Include with a glob relative to the user directory");
	sshconf_free(c);

	/* A block of an included file ends with that file. */
	snprintf(text, sizeof(text), "Host nomatch\nInclude %s/ssh/conf.d/"
	    "2.conf\nHost *\nPort 7\n", tmpdir);
	c = sshconf_new();
	r = sshconf_read_string(c, &e, text, strlen(text), "T", 0, NULL);
	ok(r == 0 && c->port == 7 && c->host_key_alias == NULL,
	    "Include in an inactive block applies nothing");
	sshconf_free(c);

	/* Includes without a match are fine; self-inclusion is bounded. */
	snprintf(p, sizeof(p), "%s/loop", tmpdir);
	snprintf(text, sizeof(text), "Include %s\nInclude %s/none-*\n", p,
	    tmpdir);
	write_file(p, text, 0600);
	c = sshconf_new();
	logbuf[0] = '\0';
	r = sshconf_read_file(c, &e, p, 0, NULL);
	ok(r == FERR_CONFIG && strstr(logbuf, "Too many recursive") != NULL,
	    "Include recursion is limited");
	sshconf_free(c);

	/* A user file others may write is refused. */
	snprintf(p, sizeof(p), "%s/loose", tmpdir);
	write_file(p, "Port 1\n", 0666);
	c = sshconf_new();
	r = sshconf_read_file(c, &e, p, SSHCONF_CHECKPERM, NULL);
	is_int(r, FERR_PERMISSION, "group/world-writable user file refused");
	r = sshconf_read_file(c, &e, p, 0, NULL);
	is_int(r, 0, "the same file without the check (-F) is read");
	sshconf_free(c);

	/* sshconf_load: -F only; the user's then the system file. */
	snprintf(p, sizeof(p), "%s/system", tmpdir);
	write_file(p, "Port 3003\nUser sys\n", 0644);
	snprintf(p2, sizeof(p2), "%s/userconf", tmpdir);
	write_file(p2, "User usr\n", 0600);
	e.user_config = p2;
	e.system_config = p;
	c = sshconf_new();
	r = sshconf_load(c, &e, NULL);
	ok(r == 0 && c->port == 3003 && strcmp(c->user, "usr") == 0,
	    "user file first, then the system file");
	sshconf_free(c);
	c = sshconf_new();
	r = sshconf_load(c, &e, p2);
	ok(r == 0 && c->port == SSHCONF_UNSET, "-F reads only that file");
	sshconf_free(c);
	snprintf(p2, sizeof(p2), "%s/missing", tmpdir);
	c = sshconf_new();
	r = sshconf_load(c, &e, p2);
	is_int(r, FERR_SYSTEM, "a missing -F file is an error");
	e.user_config = p2;
	r = sshconf_load(c, &e, NULL);
	is_int(r, 0, "a missing ~/.ssh/config is skipped");
	sshconf_free(c);

	/* Match final: a second pass with the resolved host name. */
	snprintf(p, sizeof(p), "%s/final", tmpdir);
	write_file(p, "Host short\n  HostName long.example\n"
	    "Match final host long.example\n  Port 4004\n"
	    "Host long.example\n  User longuser\n", 0600);
	e.host = "short";
	c = sshconf_new();
	r = sshconf_load(c, &e, p);
	ok(r == 0 && c->port == 4004 && strcmp(c->user, "longuser") == 0,
	    "Match final re-reads with the HostName");
	sshconf_free(c);
}

static void
test_option(void)
{
	struct sshconf *c = sshconf_new();
	int r;

	env.host = "h";
	r = sshconf_option(c, &env, "Port=99");
	ok(r == 0 && c->port == 99, "-o Port=99");
	r = sshconf_option(c, &env, "Port 100");
	ok(r == 0 && c->port == 99, "-o first value wins");
	r = sshconf_option(c, &env, "Host x");
	is_int(r, FERR_CONFIG, "-o Host refused");
	r = sshconf_option(c, &env, "Match all");
	is_int(r, FERR_CONFIG, "-o Match refused");
	r = sshconf_option(c, &env, "Include /x");
	is_int(r, FERR_CONFIG, "-o Include refused");
	sshconf_free(c);
}

static void
test_util(void)
{
	struct config_strv v;
	unsigned long long n;

	ok(config_argv_split("a 'b c' \"d\\\"e\" f\\ g #h", &v) == 0 &&
	    v.n == 4 && strcmp(v.v[1], "b c") == 0 &&
	    strcmp(v.v[2], "d\"e") == 0 && strcmp(v.v[3], "f g") == 0,
	    "argv split with quotes, escapes and comment");
	config_strv_free(&v);
	ok(config_argv_split("a#b", &v) == 0 && v.n == 1 &&
	    strcmp(v.v[0], "a#b") == 0, "'#' inside a word is kept");
	config_strv_free(&v);
	is_int(config_argv_split("'open", &v), FERR_CONFIG, "open quote");
	is_int(config_convtime("1h30m"), 5400, "convtime 1h30m");
	is_int(config_convtime("2W"), 1209600, "convtime 2W");
	is_int(config_convtime("10"), 10, "convtime plain");
	is_int(config_convtime("1x"), -1, "convtime bad unit");
	is_int(config_convtime(""), -1, "convtime empty");
	is_int(config_convtime("99999999999"), -1, "convtime overflow");
	ok(config_scan_scaled("2G", &n) == 0 && n == 2147483648ULL,
	    "scaled 2G");
	ok(config_scan_scaled("0.5k", &n) == 0 && n == 512, "scaled 0.5k");
	is_int(config_scan_scaled("k", &n), FERR_CONFIG, "scaled no digits");
	is_int(config_scan_scaled("1KB", &n), FERR_CONFIG, "scaled junk");
	is_int(config_match_pattern("abc", "a*c"), 1, "pattern a*c");
	is_int(config_match_pattern("abc", "a?"), 0, "pattern a?");
	is_int(config_match_pattern("", "*"), 1, "pattern * on empty");
	is_int(config_match_list("web1", "db*,!web1,web*", 0), -1,
	    "negated list match");
	is_int(config_match_list("web2", "db*,!web1,web*", 0), 1, "list match");
	is_int(config_match_addr_list("10.1.2.3", "10.0.0.0/8"), 1, "cidr");
	is_int(config_match_addr_list("11.1.2.3", "10.0.0.0/8"), 0,
	    "cidr miss");
	is_int(config_match_addr_list("10.1.2.3", "!10.1.0.0/16,10.0.0.0/8"),
	    -1, "cidr negated");
	is_int(config_match_addr_list("::1", "::1/128"), 1, "cidr v6");
	is_int(config_match_addr_list("::1", "10.0.0.0/8"), 0, "family");
	is_int(config_match_addr_list("10.1.2.3", "10.0.0.1/8"), FERR_CONFIG,
	    "host bits set");
	is_int(config_match_addr_list("10.1.2.3", "10.0.0.0/33"), FERR_CONFIG,
	    "prefix too long");
	is_int(config_match_addr_list("10.1.2.3", "10.1.*"), 1, "wildcard");
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

int
main(void)
{
	log_set_handler(capture, NULL);
	log_set_level(LOGL_DEBUG3);
	if (sshconf_env_init(&env, "h") != 0 || mkdtemp(tmpdir) == NULL) {
		tap_diag("setup failed");
		return 1;
	}
	test_table();
	test_errors();
	test_values();
	test_tokens();
	test_files();
	test_option();
	test_util();
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
