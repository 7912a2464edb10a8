/*
 * Unit tests of fsshd's monitor as a compromised pre-auth process sees
 * it (src/fsshd-monitor.c through fsshd_monitor_fuzz): the monitor
 * enforces AuthenticationMethods itself.  A publickey signature it
 * verified does not let the pre-auth process claim the login when the
 * lists ask for a password too, a method out of order is refused, and
 * the claim must name the approved methods in their order.  Runs as any
 * user whose account may log in with a key (else the checks are skipped).
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
