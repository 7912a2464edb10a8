/*
 * Unit tests of fsshd's monitor as a compromised pre-auth process sees
 * it (src/fsshd-monitor.c through fsshd_monitor_fuzz): the monitor
 * enforces AuthenticationMethods itself.  A publickey signature it
 * verified does not let the pre-auth process claim the login when the
 * lists ask for a password too, a method out of order is refused, and
 * the claim must name the approved methods in their order.  Runs as any
 * user whose account may log in with a key (else the checks are skipped).
 * MON_USER answers with the user's settings (Match applied; a name
 * without an account the same as an account no Match block names), is
 * strictly parsed, allowed once and only for the user earlier requests
 * named (if any), and fixes the user name for the requests after it.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/auth.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "fsshd.h"
#include "tap.h"

static struct key *hostkey, *userkey;
static const char *user;
static int nsigned = 1;		/* signed publickey requests per run */
static char akpath[256];

/* Append one request frame (byte type, string payload) to in. */
static void
frame(struct buf *in, uint8_t type, const struct buf *payload)
{
	if (buf_put_u8(in, type) != 0 || buf_put_stringb(in, payload) != 0)
		abort();
}

/* MON_SIGN of a fixed exchange hash: it becomes the session id. */
static void
frame_sign(struct buf *in, const uint8_t *h, size_t hlen)
{
	struct buf *p = buf_new(), *blob = buf_new();

	if (p == NULL || blob == NULL || key_to_blob(hostkey, blob) != 0 ||
	    buf_put_stringb(p, blob) != 0 ||
	    buf_put_cstring(p, "ssh-ed25519") != 0 ||
	    buf_put_string(p, h, hlen) != 0)
		abort();
	frame(in, MON_SIGN, p);
	buf_free(blob);
	buf_free(p);
}

/* MON_SIGNED: a publickey request for user signed by userkey over sid. */
static void
frame_signed(struct buf *in, const uint8_t *sid, size_t sidlen)
{
	struct buf *p = buf_new(), *msg = buf_new(), *blob = buf_new();
	struct buf *data = buf_new(), *sig = buf_new();

	if (p == NULL || msg == NULL || blob == NULL || data == NULL ||
	    sig == NULL || key_to_blob(userkey, blob) != 0 ||
	    buf_put_string(data, sid, sidlen) != 0 ||
	    buf_put_u8(data, 50) != 0 || buf_put_cstring(data, user) != 0 ||
	    buf_put_cstring(data, "ssh-connection") != 0 ||
	    buf_put_cstring(data, "publickey") != 0 ||
	    buf_put_bool(data, 1) != 0 ||
	    buf_put_cstring(data, "ssh-ed25519") != 0 ||
	    buf_put_stringb(data, blob) != 0 ||
	    key_sign(userkey, "ssh-ed25519", buf_ptr(data), buf_len(data), 0,
	    sig) != 0 ||
	    buf_put_cstring(msg, user) != 0 ||
	    buf_put_cstring(msg, "ssh-connection") != 0 ||
	    buf_put_cstring(msg, "publickey") != 0 ||
	    buf_put_bool(msg, 1) != 0 ||
	    buf_put_cstring(msg, "ssh-ed25519") != 0 ||
	    buf_put_stringb(msg, blob) != 0 ||
	    buf_put_stringb(msg, sig) != 0 ||
	    buf_put_stringb(p, msg) != 0)
		abort();
	frame(in, MON_SIGNED, p);
	buf_free(sig);
	buf_free(data);
	buf_free(blob);
	buf_free(msg);
	buf_free(p);
}

static void
frame_password(struct buf *in, const char *password)
{
	struct buf *p = buf_new();

	if (p == NULL || buf_put_cstring(p, user) != 0 ||
	    buf_put_cstring(p, password) != 0)
		abort();
	frame(in, MON_PASSWORD, p);
	buf_free(p);
}

static void
frame_authdone(struct buf *in, const char *methods)
{
	struct buf *p = buf_new();

	if (p == NULL || buf_put_cstring(p, user) != 0 ||
	    buf_put_cstring(p, methods) != 0 ||
	    buf_put_cstring(p, "transport state") != 0)
		abort();
	frame(in, MON_AUTHDONE, p);
	buf_free(p);
}

/*
 * Run the monitor over: a host key signature, the signed publickey
 * request, a wrong password when password is set, and the claim
 * methods (unless NULL).  Returns what the monitor returned; *signedp
 * is its answer to the signed request, *pwp to the password.
 */
static int
run(const char *lists, const char *password, const char *methods,
    int *signedp, int *pwp)
{
	static const uint8_t h[32] = { 0x5e, 0x55, 0x10, 0x4e };
	struct fsshd_opts o;
	struct sshdconf *c = NULL;
	struct buf *in, *out;
	const uint8_t *p;
	size_t len;
	uint8_t type, ok;
	char text[1024];
	int i, r;

	*signedp = *pwp = -1;
	snprintf(text, sizeof(text), "AuthenticationMethods %s\n"
	    "AuthorizedKeysFile %s\nStrictModes no\nPermitRootLogin yes\n"
	    "UsePAM no\nPasswordAuthentication yes\n", lists, akpath);
	if (sshdconf_load_string(text, strlen(text), "test", NULL, 0,
	    &c) != 0 || (in = buf_new()) == NULL || (out = buf_new()) == NULL)
		abort();
	memset(&o, 0, sizeof(o));
	o.conf = c;
	frame_sign(in, h, sizeof(h));
	for (i = 0; i < nsigned; i++)
		frame_signed(in, h, sizeof(h));
	if (password != NULL)
		frame_password(in, password);
	if (methods != NULL)
		frame_authdone(in, methods);
	r = fsshd_monitor_fuzz(&o, hostkey, buf_ptr(in), buf_len(in), out);
	while (buf_len(out) > 0) {
		if (buf_get_u8(out, &type) != 0 ||
		    buf_get_string_direct(out, &p, &len) != 0)
			abort();
		ok = len == 1 ? p[0] : 0xff;
		if (type == MON_SIGNED)
			*signedp = ok;
		else if (type == MON_PASSWORD)
			*pwp = ok;
	}
	buf_free(out);
	buf_free(in);
	sshdconf_free(c);
	return r;
}

/* MON_USER for name (len bytes, may hold NULs) appended to in. */
static void
frame_user(struct buf *in, const char *name, size_t len, int trailing)
{
	struct buf *p = buf_new();

	if (p == NULL || buf_put_string(p, name, len) != 0 ||
	    (trailing && buf_put_u8(p, 0) != 0))
		abort();
	frame(in, MON_USER, p);
	buf_free(p);
}

/*
 * Run the monitor over in under the configuration text; the replies
 * into out (reset first).  Returns the monitor's code.
 */
static int
run_conf(const char *text, struct buf *in, struct buf *out)
{
	struct fsshd_opts o;
	struct sshdconf *c = NULL;
	int r;

	if (sshdconf_load_string(text, strlen(text), "test", NULL, 0,
	    &c) != 0)
		abort();
	memset(&o, 0, sizeof(o));
	o.conf = c;
	buf_reset(out);
	r = fsshd_monitor_fuzz(&o, hostkey, buf_ptr(in), buf_len(in), out);
	buf_reset(in);
	sshdconf_free(c);
	return r;
}

/*
 * The settings of one MON_USER reply in out: "enabled max methods" in
 * text, PubkeyAcceptedAlgorithms in algstext (unless NULL).
 */
static void
user_reply(struct buf *out, char *text, size_t len, char *algstext,
    size_t algslen)
{
	struct buf *reply = buf_new();
	char *methods = NULL, *algs = NULL;
	uint32_t max;
	uint8_t type, enabled;

	text[0] = '\0';
	if (reply == NULL)
		abort();
	if (buf_get_u8(out, &type) == 0 && type == MON_USER &&
	    buf_get_stringb(out, reply) == 0 &&
	    buf_get_u8(reply, &enabled) == 0 &&
	    buf_get_u32(reply, &max) == 0 &&
	    buf_get_cstring(reply, &methods, NULL) == 0 &&
	    buf_get_cstring(reply, &algs, NULL) == 0 &&
	    buf_expect_end(reply) == 0)
		snprintf(text, len, "%u %u %s", enabled, max, methods);
	if (algstext != NULL)
		snprintf(algstext, algslen, "%s", algs != NULL ? algs : "");
	free(methods);
	free(algs);
	buf_free(reply);
}

static void
test_user(void)
{
	struct buf *in = buf_new(), *out = buf_new();
	char text[2048], got[512], root[512], ghost[512], longname[1100];
	char ralgs[1024], galgs[1024];
	/* An account other than the test's (which may be root). */
	const char *other = strcmp(user, "root") != 0 ? "root" : "daemon";
	int r;

	if (in == NULL || out == NULL)
		abort();
	if (getpwnam(other) == NULL) {
		tap_skip("no account %s here", other);
		return;
	}
	snprintf(text, sizeof(text), "UsePAM no\nPasswordAuthentication yes\n"
	    "KbdInteractiveAuthentication no\nMaxAuthTries 5\n"
	    "Match User %s,ghost-fsshd-test\n"
	    "\tAuthenticationMethods publickey,password "
	    "publickey,keyboard-interactive:pam\n"
	    "\tMaxAuthTries 3\n\tKbdInteractiveAuthentication yes\n"
	    "Match User %s\n\tPubkeyAcceptedAlgorithms ssh-ed25519\n",
	    user, other);

	/* The user's settings, Match applied. */
	frame_user(in, user, strlen(user), 0);
	r = run_conf(text, in, out);
	user_reply(out, got, sizeof(got), NULL, 0);
	ok(r == 0 && strcmp(got, "7 3 publickey,password "
	    "publickey,keyboard-interactive") == 0,
	    "MON_USER: the user's Match-applied settings (%s)", got);

	/* A name without an account: what Match gives the name. */
	frame_user(in, "ghost-fsshd-test", 16, 0);
	r = run_conf(text, in, out);
	user_reply(out, ghost, sizeof(ghost), NULL, 0);
	is_int(strcmp(ghost, got), 0,
	    "a name without an account named by Match: that block's settings");
	frame_user(in, other, strlen(other), 0);
	r = run_conf(text, in, out);
	user_reply(out, got, sizeof(got), ralgs, sizeof(ralgs));
	ok(r == 0 && strcmp(ralgs, "ssh-ed25519") == 0,
	    "the user's PubkeyAcceptedAlgorithms (%s)", ralgs);
	frame_user(in, "nosuch-fsshd-test", 17, 0);
	r = run_conf(text, in, out);
	user_reply(out, ghost, sizeof(ghost), NULL, 0);
	ok(r == 0 && strcmp(ghost, "3 5 any") == 0,
	    "a name without an account: the global settings (%s)", ghost);
	snprintf(text, sizeof(text), "UsePAM no\nPasswordAuthentication yes\n"
	    "KbdInteractiveAuthentication no\nMaxAuthTries 5\n"
	    "Match User %s\n\tPasswordAuthentication no\n", user);
	frame_user(in, other, strlen(other), 0);
	r = run_conf(text, in, out);
	user_reply(out, root, sizeof(root), ralgs, sizeof(ralgs));
	frame_user(in, "nosuch-fsshd-test", 17, 0);
	r = run_conf(text, in, out);
	user_reply(out, ghost, sizeof(ghost), galgs, sizeof(galgs));
	ok(root[0] != '\0' && strcmp(ralgs, galgs) == 0 && root[0] != '\0' && strcmp(root, ghost) == 0,
	    "an account and a name without one get the same answer");
	frame_user(in, user, strlen(user), 0);
	r = run_conf(text, in, out);
	user_reply(out, got, sizeof(got), NULL, 0);
	ok(r == 0 && strcmp(got, "1 5 any") == 0,
	    "Match PasswordAuthentication no: password not enabled (%s)", got);

	/* Strict parsing. */
	frame_user(in, user, strlen(user), 1);
	r = run_conf(text, in, out);
	ok(r != 0 && buf_len(out) == 0, "trailing data is refused");
	frame_user(in, "", 0, 0);
	r = run_conf(text, in, out);
	ok(r != 0 && buf_len(out) == 0, "an empty name is refused");
	frame_user(in, "ro\0ot", 5, 0);
	r = run_conf(text, in, out);
	ok(r != 0 && buf_len(out) == 0, "a name with a NUL is refused");
	memset(longname, 'a', sizeof(longname));
	frame_user(in, longname, AUTH_USER_MAX + 1, 0);
	r = run_conf(text, in, out);
	ok(r != 0 && buf_len(out) == 0, "an over-long name is refused");
	frame_user(in, longname, AUTH_USER_MAX, 0);
	r = run_conf(text, in, out);
	ok(r == 0 && buf_len(out) > 0, "a name of the longest length is "
	    "answered");
	if (buf_put_u8(in, MON_USER) != 0 || buf_put_u32(in, 2) != 0 ||
	    buf_put_u8(in, 0) != 0 || buf_put_u8(in, 0) != 0)
		abort();
	r = run_conf(text, in, out);
	ok(r != 0 && buf_len(out) == 0, "a truncated string is refused");

	/* Once, and first. */
	frame_user(in, user, strlen(user), 0);
	frame_user(in, user, strlen(user), 0);
	r = run_conf(text, in, out);
	is_int(r, FERR_PERMISSION, "a second MON_USER is refused");
	frame_password(in, "not the password");
	frame_user(in, other, strlen(other), 0);
	r = run_conf(text, in, out);
	is_int(r, FERR_PERMISSION,
	    "MON_USER after a request named another user is refused");
	frame_password(in, "not the password");
	frame_user(in, user, strlen(user), 0);
	frame_password(in, "not the password");
	r = run_conf(text, in, out);
	is_int(r, 0, "MON_USER after a request for the same user is answered");
	frame_password(in, "not the password");
	frame_user(in, user, strlen(user), 0);
	frame_user(in, user, strlen(user), 0);
	r = run_conf(text, in, out);
	is_int(r, FERR_PERMISSION, "and only once");
	frame_user(in, other, strlen(other), 0);
	frame_password(in, "not the password");
	r = run_conf(text, in, out);
	is_int(r, FERR_PERMISSION,
	    "a request for another user after MON_USER is refused");
	frame_user(in, user, strlen(user), 0);
	frame_password(in, "not the password");
	r = run_conf(text, in, out);
	is_int(r, 0, "a request for the same user goes on");
	buf_free(in);
	buf_free(out);
}

int
main(void)
{
	struct passwd *pw;
	struct buf *line;
	FILE *f;
	char dir[] = "/tmp/test-fsshd-monitor.XXXXXX";
	int r, sgn, pwok;

	log_set_level(LOGL_QUIET);
	if ((pw = getpwuid(getuid())) == NULL || mkdtemp(dir) == NULL ||
	    key_generate(KEY_ED25519, 0, &hostkey) != 0 ||
	    key_generate(KEY_ED25519, 0, &userkey) != 0 ||
	    (line = buf_new()) == NULL ||
	    key_format_public_line(userkey, line) != 0)
		abort();
	user = pw->pw_name;
	snprintf(akpath, sizeof(akpath), "%s/authorized_keys", dir);
	if ((f = fopen(akpath, "w")) == NULL ||
	    fwrite(buf_ptr(line), 1, buf_len(line), f) != buf_len(line) ||
	    fputc('\n', f) == EOF || fclose(f) != 0)
		abort();

	test_user();

	/* The control: a key alone where a key alone is enough. */
	r = run("publickey", NULL, "publickey", &sgn, &pwok);
	if (sgn != 1) {
		tap_skip("account %s cannot log in with a key here", user);
		goto out;
	}
	is_int(r, 0, "publickey alone completes \"publickey\"");
	r = run("any", NULL, "publickey", &sgn, &pwok);
	is_int(r, 0, "publickey alone completes \"any\"");
	r = run("password,publickey publickey", NULL, "publickey", &sgn,
	    &pwok);
	is_int(r, 0, "publickey completes the second of two lists");

	/* The key verified, the password missing: no login. */
	r = run("publickey,password", NULL, "publickey", &sgn, &pwok);
	is_int(sgn, 1, "publickey,password: the key is approved (partial)");
	is_int(r, FERR_PERMISSION,
	    "publickey,password: a claim of publickey alone is refused");
	r = run("publickey,password", "not the password",
	    "publickey,password", &sgn, &pwok);
	is_int(pwok, 0, "a wrong password is refused");
	is_int(r, FERR_PERMISSION,
	    "publickey,password: a claimed password never checked is refused");
	r = run("publickey,keyboard-interactive:pam", NULL, "publickey",
	    &sgn, &pwok);
	is_int(r, FERR_PERMISSION,
	    "a kbd-int submethod list is not complete without it");

	/* Out of order: the key cannot be the first method. */
	r = run("password,publickey", NULL, NULL, &sgn, &pwok);
	is_int(sgn, 0, "password,publickey: a key first is refused");
	r = run("password,publickey", NULL, "publickey", &sgn, &pwok);
	is_int(r, FERR_PERMISSION,
	    "password,publickey: a claim of publickey is refused");
	r = run("password", NULL, "publickey", &sgn, &pwok);
	is_int(sgn, 0, "password: a key is refused");
	is_int(r, FERR_PERMISSION, "password: a claim of publickey is refused");

	/*
	 * Each list progresses in its own order, as sshd counts it: a
	 * second key completes "publickey,publickey", one does not.
	 */
	r = run("publickey,publickey", NULL, "publickey", &sgn, &pwok);
	is_int(r, FERR_PERMISSION, "publickey,publickey: one key is partial");
	nsigned = 2;
	r = run("publickey,publickey", NULL, "publickey,publickey", &sgn,
	    &pwok);
	is_int(r, 0, "publickey,publickey: two signed requests complete it");
	r = run("publickey", NULL, "publickey,publickey", &sgn, &pwok);
	is_int(sgn, 0, "publickey: a second key is not next in any list");
	is_int(r, FERR_PERMISSION, "publickey: a claim of two keys is refused");
	nsigned = 1;

	/* The claim must be exactly what was approved. */
	r = run("publickey", NULL, "password", &sgn, &pwok);
	is_int(r, FERR_PERMISSION, "a claim of another method is refused");
	r = run("publickey", NULL, "publickey,password", &sgn, &pwok);
	is_int(r, FERR_PERMISSION, "a claim of an extra method is refused");
	r = run("publickey", NULL, "publickey,", &sgn, &pwok);
	is_int(r, FERR_PERMISSION, "a claim with a trailing comma is refused");
	r = run("publickey", NULL, "publickey:x", &sgn, &pwok);
	is_int(r, FERR_PERMISSION, "a claim with a submethod is refused");
 out:
	unlink(akpath);
	rmdir(dir);
	buf_free(line);
	key_free(hostkey);
	key_free(userkey);
	return tap_done();
}
