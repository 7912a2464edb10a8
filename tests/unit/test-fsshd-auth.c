/*
 * Unit tests for fsshd's decisions outside the protocol engines: the
 * shadow password and account rules and the keyboard-interactive
 * conversation without PAM (src/fsshd-auth.c), the session environment
 * (src/fsshd-env.c), ClientAliveCountMax (src/fsshd-alive.c),
 * ListenAddress values (src/fsshd-listen.c) and StrictModes
 * (src/fsshd-policy.c).  Runs as any user.
 */
#include "config.h"

#include <crypt.h>
#include <netdb.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ferry/authkeys.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/key-cert.h"
#include "ferry/sshdconf.h"
#include "fsshd.h"
#include "fsshd-auth.h"
#include "tap.h"

static struct sshdconf *
conf(const char *text)
{
	struct sshdconf *c = NULL;

	if (sshdconf_load_string(text, strlen(text), "test", NULL, 0, &c) != 0)
		return NULL;
	return c;
}

/* Whether the NULL-terminated v holds exactly s. */
static int
has(char **v, const char *s)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static int
has_name(char **v, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (strncmp(v[i], name, n) == 0 && v[i][n] == '=')
			return 1;
	return 0;
}

static void
test_listen_parse(void)
{
	static const struct {
		const char *spec, *host;
		int port, ok;
	} t[] = {
		{ "127.0.0.1", "127.0.0.1", -1, 1 },
		{ "127.0.0.1:2222", "127.0.0.1", 2222, 1 },
		{ "::1", "::1", -1, 1 },
		{ "[::1]", "::1", -1, 1 },
		{ "[::1]:22", "::1", 22, 1 },
		{ "fe80::1:2", "fe80::1:2", -1, 1 },
		{ "[::1", NULL, 0, 0 },
		{ "[::1]x", NULL, 0, 0 },
		{ "[::1]:", NULL, 0, 0 },
		{ "1.2.3.4:0", NULL, 0, 0 },
		{ "1.2.3.4:65536", NULL, 0, 0 },
		{ ":22", NULL, 0, 0 },
		{ "", NULL, 0, 0 },
	};
	char host[64];
	size_t i;
	int port, r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = fsshd_listen_parse(t[i].spec, host, sizeof(host), &port);
		if (t[i].ok)
			ok(r == 0 && strcmp(host, t[i].host) == 0 &&
			    port == t[i].port, "ListenAddress %s", t[i].spec);
		else
			ok(r == FERR_FORMAT, "ListenAddress \"%s\" refused",
			    t[i].spec);
	}
	ok(fsshd_listen_parse("1234567890123456", host, 8, &port) ==
	    FERR_FORMAT, "a host longer than the buffer is refused");
}

/* ListenAddress host names: resolved, and checked for fsshd -t. */
static void
test_listen_names(void)
{
	struct addrinfo *ai0 = NULL, *ai;
	struct sshdconf *c;
	char why[256], num[64];
	int has4 = 0, r;

	r = fsshd_listen_resolve("localhost", 2222, AF_INET, &ai0, why,
	    sizeof(why));
	for (ai = r == 0 ? ai0 : NULL; ai != NULL; ai = ai->ai_next)
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num),
		    NULL, 0, NI_NUMERICHOST) == 0 && strcmp(num, "127.0.0.1") == 0)
			has4 = 1;
	ok(r == 0 && has4, "localhost resolves to 127.0.0.1 for listening");
	if (ai0 != NULL)
		freeaddrinfo(ai0);
	ai0 = NULL;
	r = fsshd_listen_resolve("no-such-host.invalid", 22, AF_UNSPEC, &ai0,
	    why, sizeof(why));
	ok(r == FERR_ARGUMENT && ai0 == NULL && why[0] != '\0',
	    "a name that does not resolve is refused (%s)", why);
	c = conf("ListenAddress 127.0.0.1\nListenAddress localhost:2222\n"
	    "ListenAddress [localhost]:2223\nListenAddress [::1]\n");
	ok(c != NULL && fsshd_listen_check(c, why, sizeof(why)) == 0,
	    "-t: numeric addresses and localhost pass");
	sshdconf_free(c);
	c = conf("ListenAddress 127.0.0.1\n"
	    "ListenAddress no-such-host.invalid:2222\n");
	why[0] = '\0';
	ok(c != NULL && fsshd_listen_check(c, why, sizeof(why)) ==
	    FERR_CONFIG && strstr(why, "no-such-host.invalid") != NULL,
	    "-t: a name that does not resolve is an error: %s", why);
	sshdconf_free(c);
}

static void
test_alive(void)
{
	struct fsshd_alive a;

	memset(&a, 0, sizeof(a));
	a.count_max = 2;
	fsshd_alive_heard(&a, 0);
	is_int(fsshd_alive_tick(&a), FSSHD_ALIVE_QUIET,
	    "traffic in the interval: nothing to ask");
	is_int(fsshd_alive_tick(&a), FSSHD_ALIVE_SEND, "quiet: ask");
	fsshd_alive_heard(&a, 1);
	is_int(a.missed, 0, "a reply resets the count");
	is_int(fsshd_alive_tick(&a), FSSHD_ALIVE_QUIET, "the reply was traffic");
	ok(fsshd_alive_tick(&a) == FSSHD_ALIVE_SEND &&
	    fsshd_alive_tick(&a) == FSSHD_ALIVE_SEND,
	    "two requests unanswered with ClientAliveCountMax 2");
	is_int(fsshd_alive_tick(&a), FSSHD_ALIVE_DEAD, "the third: disconnect");
	fsshd_alive_heard(&a, 0);
	fsshd_alive_tick(&a);
	is_int(fsshd_alive_tick(&a), FSSHD_ALIVE_DEAD,
	    "other traffic does not answer the requests");
	memset(&a, 0, sizeof(a));
	a.count_max = 0;
	a.missed = 1000;
	is_int(fsshd_alive_tick(&a), FSSHD_ALIVE_SEND,
	    "ClientAliveCountMax 0 never disconnects");
}

static void
test_env(void)
{
	struct sshdconf *c = conf("AcceptEnv LC_* FERRY_A\n"
	    "SetEnv FERRY_A=from-config X=1\n"
	    "PermitUserEnvironment FOO*,BAR\n");
	struct sshdconf *none = conf("AcceptEnv *\n");
	struct fsshd_account a = { (char *)"u", 1000, 1000, (char *)"/nonexistent",
	    (char *)"/bin/sh", NULL, 0 };
	struct authkeys_decision d;
	struct fsshd_env_ctx ctx;
	struct fsshd_env *e = fsshd_env_new();
	const char *rest;
	char **v = NULL, name[32];
	int i, r, n;

	ok(c != NULL && none != NULL && e != NULL, "configurations load");
	if (c == NULL || none == NULL || e == NULL)
		return;
	is_int(fsshd_env_accept(e, c, "LC_ALL", "C"), 1, "AcceptEnv LC_*: LC_ALL");
	is_int(fsshd_env_accept(e, c, "FERRY_A", "client"), 1, "FERRY_A");
	is_int(fsshd_env_accept(e, c, "PATH", "/evil"), 0, "PATH refused");
	is_int(fsshd_env_accept(e, c, "LC_X=Y", "z"), 0, "a name with = refused");
	is_int(fsshd_env_accept(e, NULL, "LC_ALL", "C"), 0,
	    "the embedded default accepts nothing");
	is_int(fsshd_env_accept(e, c, "LC_ALL", "POSIX"), 1, "a name again");
	memset(&d, 0, sizeof(d));
	r = authkeys_parse_options("environment=\"FOO1=key\","
	    "environment=\"NOPE=key\",environment=\"USER=root\" ", &d.opts,
	    &rest, NULL);
	ok(r == 0, "environment= options parse");
	memset(&ctx, 0, sizeof(ctx));
	ctx.eff = c;
	ctx.acct = &a;
	ctx.client_addr = "192.0.2.1";
	ctx.client_port = 5000;
	ctx.local_addr = "192.0.2.2";
	ctx.local_port = 22;
	ctx.original_command = "ls -l";
	ctx.key = &d;
	r = fsshd_env_build(e, &ctx, &v);
	ok(r == 0 && has(v, "USER=u") && has(v, "LOGNAME=u") &&
	    has(v, "HOME=/nonexistent") && has(v, "SHELL=/bin/sh") &&
	    has(v, "MAIL=/var/mail/u") &&
	    has(v, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/games"),
	    "the account's variables");
	ok(has(v, "SSH_CLIENT=192.0.2.1 5000 22") &&
	    has(v, "SSH_CONNECTION=192.0.2.1 5000 192.0.2.2 22") &&
	    has(v, "SSH_ORIGINAL_COMMAND=ls -l"), "the connection's variables");
	ok(has(v, "LC_ALL=POSIX") && !has(v, "LC_ALL=C"),
	    "a later value of a client variable replaces the earlier");
	ok(has(v, "FERRY_A=from-config") && has(v, "X=1"),
	    "SetEnv wins over the client");
	ok(has(v, "FOO1=key") && !has_name(v, "NOPE") && !has(v, "USER=root"),
	    "environment= only for names PermitUserEnvironment permits");
	fsshd_env_strv_free(v);
	v = NULL;
	ctx.eff = none;
	ctx.original_command = NULL;
	r = fsshd_env_build(NULL, &ctx, &v);
	ok(r == 0 && !has_name(v, "FOO1") && !has_name(v, "SSH_ORIGINAL_COMMAND"),
	    "PermitUserEnvironment no: no environment=; no original command");
	fsshd_env_strv_free(v);
	v = NULL;
	a.uid = 0;
	r = fsshd_env_build(NULL, &ctx, &v);
	ok(r == 0 && has(v, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
	    "/usr/bin:/sbin:/bin"), "root's PATH has the sbin directories");
	fsshd_env_strv_free(v);
	fsshd_env_free(e);
	/* The cap on what a client may send. */
	e = fsshd_env_new();
	for (i = 0, n = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "LC_%d", i);
		n += fsshd_env_accept(e, c, name, "v") == 1;
	}
	is_int(n, 256, "at most 256 variables from a client");
	fsshd_env_free(e);
	authkeys_decision_clear(&d);
	sshdconf_free(c);
	sshdconf_free(none);
}

static void
test_env_text(void)
{
	static const char text[] = "# comment\r\n"
	    "FOO=1\r\n"
	    "  BAR=two words\n"
	    "\n"
	    "nonsense\n"
	    "=x\n"
	    "OTHER=no\n"
	    "FOO=again";
	struct sshdconf *c = conf("PermitUserEnvironment FOO,BAR\n");
	struct sshdconf *yes = conf("PermitUserEnvironment yes\n");
	char **v = NULL, big[5000];
	int r;

	if (c == NULL || yes == NULL) {
		ok(0, "configurations load");
		return;
	}
	r = fsshd_env_parse_text(c, "env", text, sizeof(text) - 1, &v);
	ok(r == 0 && has(v, "FOO=again") && has(v, "BAR=two words") &&
	    !has_name(v, "OTHER") && !has(v, "FOO=1"),
	    "~/.ssh/environment: comments, CRLF, permitted names, last wins");
	fsshd_env_strv_free(v);
	r = fsshd_env_parse_text(yes, "env", "A=1\0B=2\n", 8, &v);
	ok(r == 0 && v != NULL && v[0] == NULL, "a NUL stops the file");
	fsshd_env_strv_free(v);
	memset(big, 'a', sizeof(big));
	memcpy(big, "A=1\nB=", 6);
	r = fsshd_env_parse_text(yes, "env", big, sizeof(big), &v);
	ok(r == 0 && has(v, "A=1") && !has_name(v, "B"),
	    "a line over the cap ends the file");
	fsshd_env_strv_free(v);
	r = fsshd_env_parse_text(c, "env", "", 0, &v);
	ok(r == 0 && v != NULL && v[0] == NULL, "an empty file");
	fsshd_env_strv_free(v);
	sshdconf_free(c);
	sshdconf_free(yes);
}

static void
test_password(void)
{
	struct sshdconf *c = conf("UsePAM no\nPasswordAuthentication yes\n");
	struct sshdconf *root = conf("UsePAM no\nPermitRootLogin yes\n");
	struct crypt_data cd;
	struct fsshd_account a;
	struct fsshd_kbd *k = NULL;
	struct fsshd_kbd_round out;
	const char *resp[2];
	char why[256], hash[256], locked[260];
	int r, i;

	if (c == NULL || root == NULL) {
		ok(0, "configurations load");
		return;
	}
	memset(&cd, 0, sizeof(cd));
	snprintf(hash, sizeof(hash), "%s", crypt_r("s3cret", "$6$ferrytest$",
	    &cd));
	snprintf(locked, sizeof(locked), "!%s", hash);
	memset(&a, 0, sizeof(a));
	/* No shadow entry for this name: the password file's field is used. */
	a.name = (char *)"ferry-no-such-user-for-unit-tests";
	a.uid = 4242;
	a.home = (char *)"/";
	a.shell = (char *)"/bin/sh";
	a.passwd = hash;
	memset(&out, 0, sizeof(out));
	is_int(fsshd_auth_password(c, &a, "192.0.2.1", "s3cret", why,
	    sizeof(why)), 1, "the right password");
	ok(fsshd_auth_password(c, &a, NULL, "wrong", why, sizeof(why)) == 0 &&
	    strcmp(why, "wrong password") == 0, "a wrong password: %s", why);
	ok(fsshd_auth_account(c, &a, NULL, why, sizeof(why)) == 1,
	    "the account may log in");
	a.passwd = locked;
	ok(fsshd_auth_account(c, &a, NULL, why, sizeof(why)) == 0 &&
	    strcmp(why, "account is locked") == 0, "a locked account: %s", why);
	ok(fsshd_auth_password(c, &a, NULL, "s3cret", why, sizeof(why)) == 0,
	    "a locked account's password is refused");
	a.passwd = (char *)"*";
	ok(fsshd_auth_password(c, &a, NULL, "*", why, sizeof(why)) == 0,
	    "\"*\": no password at all");
	a.passwd = (char *)"";
	ok(fsshd_auth_password(c, &a, NULL, "", why, sizeof(why)) == 0,
	    "an empty password without PermitEmptyPasswords");
	a.passwd = hash;
	a.uid = 0;
	ok(fsshd_auth_password(c, &a, NULL, "s3cret", why, sizeof(why)) == 0,
	    "root by password under PermitRootLogin prohibit-password: %s", why);
	ok(fsshd_auth_password(root, &a, NULL, "s3cret", why, sizeof(why)) == 1,
	    "root by password under PermitRootLogin yes");
	a.uid = 4242;

	/* Keyboard-interactive without PAM: one hidden prompt. */
	r = fsshd_kbd_start(c, &a, "192.0.2.1", &k);
	ok(r == 0 && k != NULL, "a conversation starts");
	r = fsshd_kbd_step(k, NULL, 0, &out, why, sizeof(why));
	ok(r == FSSHD_KBD_PROMPT && out.nprompts == 1 &&
	    strcmp(out.prompts[0], "Password: ") == 0 && out.echo[0] == 0,
	    "round 0: one hidden \"Password: \" prompt");
	resp[0] = "s3cret";
	is_int(fsshd_kbd_step(k, resp, 1, &out, why, sizeof(why)),
	    FSSHD_KBD_OK, "the right answer");
	fsshd_kbd_free(k);
	k = NULL;
	if (fsshd_kbd_start(c, &a, NULL, &k) == 0 &&
	    fsshd_kbd_step(k, NULL, 0, &out, why, sizeof(why)) ==
	    FSSHD_KBD_PROMPT) {
		resp[0] = "nope";
		ok(fsshd_kbd_step(k, resp, 1, &out, why, sizeof(why)) ==
		    FSSHD_KBD_FAIL && strcmp(why, "wrong password") == 0,
		    "a wrong answer fails: %s", why);
	} else
		ok(0, "second conversation");
	fsshd_kbd_free(k);
	k = NULL;
	if (fsshd_kbd_start(c, &a, NULL, &k) == 0 &&
	    fsshd_kbd_step(k, NULL, 0, &out, why, sizeof(why)) ==
	    FSSHD_KBD_PROMPT) {
		resp[0] = resp[1] = "s3cret";
		is_int(fsshd_kbd_step(k, resp, 2, &out, why, sizeof(why)),
		    FSSHD_KBD_FAIL, "two answers to one prompt fail");
	} else
		ok(0, "third conversation");
	for (i = 0, r = 0; i < FSSHD_KBD_ROUNDS_MAX + 2; i++)
		r = fsshd_kbd_step(k, NULL, 0, &out, why, sizeof(why));
	ok(r == FSSHD_KBD_FAIL && strstr(why, "too many") != NULL,
	    "rounds are bounded: %s", why);
	fsshd_kbd_round_clear(&out);
	fsshd_kbd_free(k);
	fsshd_kbd_free(NULL);
	explicit_bzero(hash, sizeof(hash));
	sshdconf_free(c);
	sshdconf_free(root);
}

static void
test_secure_path(void)
{
	char dir[] = "/tmp/ferry-test-strict.XXXXXX", sub[64], file[96];
	char why[512];
	uid_t uid = getuid();
	int fd;

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(sub, sizeof(sub), "%s/.ssh", dir);
	snprintf(file, sizeof(file), "%s/authorized_keys", sub);
	if (mkdir(sub, 0700) == -1 ||
	    (fd = open(file, O_CREAT | O_WRONLY, 0600)) == -1) {
		ok(0, "test files");
		return;
	}
	close(fd);
	chmod(dir, 0755);
	is_int(fsshd_policy_secure_path(file, uid, dir, why, sizeof(why)), 1,
	    "a safe file under home");
	chmod(file, 0620);
	ok(fsshd_policy_secure_path(file, uid, dir, why, sizeof(why)) == 0 &&
	    strstr(why, "bad ownership or modes for file") != NULL,
	    "group-writable file: %s", why);
	chmod(file, 0600);
	chmod(sub, 0777);
	ok(fsshd_policy_secure_path(file, uid, dir, why, sizeof(why)) == 0 &&
	    strstr(why, "directory") != NULL, "world-writable ~/.ssh: %s", why);
	chmod(sub, 0700);
	ok(fsshd_policy_secure_path(file, uid, NULL, why, sizeof(why)) == 0 &&
	    strstr(why, "directory /tmp") != NULL,
	    "outside home the walk goes up to /, past the sticky /tmp: %s", why);
	ok(fsshd_policy_secure_path(file, uid + 1, dir, why, sizeof(why)) ==
	    (uid == 0), "a file of another user is refused (unless root's)");
	snprintf(sub, sizeof(sub), "%s/missing", dir);
	is_int(fsshd_policy_secure_path(sub, uid, dir, why, sizeof(why)), 1,
	    "a missing file is no risk");
	ok(fsshd_policy_secure_path(dir, uid, dir, why, sizeof(why)) == 0 &&
	    strstr(why, "not a regular file") != NULL, "a directory: %s", why);
	unlink(file);
	snprintf(sub, sizeof(sub), "%s/.ssh", dir);
	rmdir(sub);
	rmdir(dir);
}

/* Write text to dir/name; the path in path. */
static int
put_file(const char *dir, const char *name, const char *text, char *path,
    size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* A user certificate of user by ca with principals and options. */
static struct key_cert *
mkcert(const struct key *user, const struct key *ca, const char *const *pr,
    size_t npr, uint64_t after, uint64_t before, const char *force,
    const char *source)
{
	struct key_cert_params p;
	struct key_cert *c = NULL;

	memset(&p, 0, sizeof(p));
	p.type = KEY_CERT_USER;
	p.key_id = "unit";
	p.principals = pr;
	p.nprincipals = npr;
	p.valid_after = after;
	p.valid_before = before;
	p.force_command = force;
	p.source_address = source;
	if (key_cert_sign(user, ca, &p, &c) != 0)
		return NULL;
	return c;
}

static void
test_cert(void)
{
	static const char *const alice[] = { "alice" }, *const ops[] = { "ops" };
	char dir[] = "/tmp/ferry-test-cert.XXXXXX", path[256], cfg[1024];
	char line[8192], *t;
	struct key *ca = NULL, *other = NULL, *user = NULL;
	struct key_cert *c_alice = NULL, *c_ops = NULL, *c_old = NULL;
	struct key_cert *c_src = NULL, *c_fc = NULL, *c_other = NULL;
	struct sshdconf *conf1 = NULL, *conf2 = NULL, *conf3 = NULL;
	struct authkeys_decision d;
	struct fsshd_account a;
	struct buf *b = NULL;
	uint64_t now = (uint64_t)time(NULL);

	memset(&d, 0, sizeof(d));
	if (mkdtemp(dir) == NULL || key_generate(KEY_ED25519, 0, &ca) != 0 ||
	    key_generate(KEY_ED25519, 0, &other) != 0 ||
	    key_generate(KEY_ED25519, 0, &user) != 0 || (b = buf_new()) == NULL ||
	    key_format_public_line(ca, b) != 0 || buf_put_u8(b, '\n') != 0 ||
	    (t = buf_dup_string(b)) == NULL) {
		ok(0, "certificate test setup");
		return;
	}
	put_file(dir, "ca.pub", t, path, sizeof(path));
	snprintf(line, sizeof(line), "cert-authority,principals=\"ops\" %s", t);
	free(t);
	c_alice = mkcert(user, ca, alice, 1, 0, KEY_CERT_FOREVER, NULL, NULL);
	c_ops = mkcert(user, ca, ops, 1, 0, KEY_CERT_FOREVER, NULL, NULL);
	c_old = mkcert(user, ca, alice, 1, 0, now - 60, NULL, NULL);
	c_src = mkcert(user, ca, alice, 1, 0, KEY_CERT_FOREVER, NULL,
	    "10.0.0.0/8");
	c_fc = mkcert(user, ca, alice, 1, 0, KEY_CERT_FOREVER, "echo forced",
	    NULL);
	c_other = mkcert(user, other, alice, 1, 0, KEY_CERT_FOREVER, NULL, NULL);
	ok(c_alice && c_ops && c_old && c_src && c_fc && c_other,
	    "certificates signed");
	snprintf(cfg, sizeof(cfg), "TrustedUserCAKeys %s\n"
	    "AuthorizedKeysFile none\nStrictModes no\n", path);
	conf1 = conf(cfg);
	snprintf(cfg, sizeof(cfg), "TrustedUserCAKeys %s\n"
	    "AuthorizedPrincipalsFile %%h/principals\n"
	    "AuthorizedKeysFile none\nStrictModes no\n", path);
	conf2 = conf(cfg);
	conf3 = conf("AuthorizedKeysFile %h/keys\nStrictModes no\n");
	ok(conf1 && conf2 && conf3, "configurations load");
	if (!(c_alice && c_ops && c_old && c_src && c_fc && c_other && conf1 &&
	    conf2 && conf3))
		goto out;
	put_file(dir, "principals", "# who\nnobody\ncommand=\"echo ops\" ops\n",
	    path, sizeof(path));
	put_file(dir, "keys", line, path, sizeof(path));
	memset(&a, 0, sizeof(a));
	a.name = (char *)"alice";
	a.uid = getuid();
	a.gid = getgid();
	a.home = dir;
	a.shell = (char *)"/bin/sh";

	ok(fsshd_policy_cert(conf1, &a, c_alice, "192.0.2.1", &d) == 0 &&
	    d.allowed, "TrustedUserCAKeys: a certificate for the user's name");
	authkeys_decision_clear(&d);
	ok(fsshd_policy_cert(conf1, &a, c_ops, "192.0.2.1", &d) == 0 &&
	    !d.allowed && strstr(d.reason, "principal") != NULL,
	    "another principal is refused: %s", d.reason);
	authkeys_decision_clear(&d);
	ok(fsshd_policy_cert(conf1, &a, c_old, "192.0.2.1", &d) == 0 &&
	    !d.allowed, "an expired certificate is refused: %s", d.reason);
	authkeys_decision_clear(&d);
	ok(fsshd_policy_cert(conf1, &a, c_src, "192.0.2.1", &d) == 0 &&
	    !d.allowed, "source-address elsewhere is refused: %s", d.reason);
	authkeys_decision_clear(&d);
	ok(fsshd_policy_cert(conf1, &a, c_src, "10.1.2.3", &d) == 0 &&
	    d.allowed, "source-address that matches");
	authkeys_decision_clear(&d);
	ok(fsshd_policy_cert(conf1, &a, c_fc, "192.0.2.1", &d) == 0 &&
	    d.allowed && d.opts != NULL && d.opts->force_command != NULL &&
	    strcmp(d.opts->force_command, "echo forced") == 0,
	    "the certificate's force-command is enforced");
	authkeys_decision_clear(&d);
	ok(fsshd_policy_cert(conf1, &a, c_other, "192.0.2.1", &d) == 0 &&
	    !d.allowed, "a certificate of an untrusted CA is refused");
	authkeys_decision_clear(&d);
	ok(fsshd_policy_cert(conf2, &a, c_ops, "192.0.2.1", &d) == 0 &&
	    d.allowed && d.line == 3 && d.opts != NULL &&
	    d.opts->force_command != NULL &&
	    strcmp(d.opts->force_command, "echo ops") == 0,
	    "AuthorizedPrincipalsFile: a listed principal, with its options");
	authkeys_decision_clear(&d);
	ok(fsshd_policy_cert(conf2, &a, c_alice, "192.0.2.1", &d) == 0 &&
	    !d.allowed, "AuthorizedPrincipalsFile: the user's own name is not "
	    "enough: %s", d.reason);
	authkeys_decision_clear(&d);
	ok(fsshd_policy_cert(conf3, &a, c_ops, "192.0.2.1", &d) == 0 &&
	    d.allowed, "cert-authority,principals= in AuthorizedKeysFile");
	authkeys_decision_clear(&d);
	ok(fsshd_policy_cert(conf3, &a, c_alice, "192.0.2.1", &d) == 0 &&
	    !d.allowed, "cert-authority with other principals refuses");
	authkeys_decision_clear(&d);
 out:
	snprintf(path, sizeof(path), "%s/ca.pub", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/principals", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/keys", dir);
	unlink(path);
	rmdir(dir);
	key_cert_free(c_alice);
	key_cert_free(c_ops);
	key_cert_free(c_old);
	key_cert_free(c_src);
	key_cert_free(c_fc);
	key_cert_free(c_other);
	key_free(ca);
	key_free(other);
	key_free(user);
	buf_free(b);
	sshdconf_free(conf1);
	sshdconf_free(conf2);
	sshdconf_free(conf3);
}

int
main(void)
{
	test_listen_parse();
	test_listen_names();
	test_alive();
	test_env();
	test_env_text();
	test_password();
	test_secure_path();
	test_cert();
	return tap_done();
}
